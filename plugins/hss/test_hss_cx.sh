#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The Cx server of the hss plugin, driven by diaclient (a separate
# freeDiameter process) over TCP on loopback: UAR, MAR (AKA vectors checked
# with tandem-aka, SQN, AUTS re-synchronisation, SIP Digest), SAR, LIR,
# every error result of TS 29.229, RTR, malformed input, restart.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$HSS_SRCDIR/hss_lib.sh"
plan 41

HSS_EXTRA="charging_ccf = aaa://ccf1.ims.lab aaa://ccf2.ims.lab
charging_ecf = aaa://ecf1.ims.lab"
if hss_start; then pass "an hss node starts"; else
	fail "an hss node starts"; diag "$WORK/hss.log"; finish; fi
ctl hss subscriber add alice@ims.lab impu=sip:alice@ims.lab,tel:+15551234 \
	k=$K opc=$OPC imsi=001010000000001 > /dev/null
ctl hss subscriber add bob@ims.lab impu=sip:bob@ims.lab k=$K opc=$OPC \
	roaming=yes > /dev/null
ctl hss subscriber add pbx@ims.lab impu=sip:pbx@ims.lab scheme=digest \
	password=trunk-secret > /dev/null
check "three subscribers provisioned" \
	sh -c "[ \$('$TANDEMCTL' -s '$HSS_SOCK' --json hss subscriber list | grep -o '\"impi\"' | wc -l) = 3 ]"

U="User-Name=alice@ims.lab Public-Identity=sip:alice@ims.lab"
AKA="SIP-Auth-Data-Item.SIP-Authentication-Scheme=Digest-AKAv1-MD5"
cx > "$WORK/a1" 2>"$WORK/a1.err" <<EOS
send UAR User-Name=nobody@ims.lab Public-Identity=sip:nobody@ims.lab Visited-Network-Identifier=ims.lab
send MAR User-Name=alice@ims.lab Public-Identity=sip:bob@ims.lab Server-Name=sip:scscf.ims.lab:6060 SIP-Number-Auth-Items=1 $AKA
send UAR $U Visited-Network-Identifier=visited.example
send MAR Public-Identity=sip:alice@ims.lab Server-Name=sip:scscf.ims.lab:6060 SIP-Number-Auth-Items=1 $AKA
send UAR $U Visited-Network-Identifier=ims.lab
send MAR $U Server-Name=sip:scscf.ims.lab:6060 SIP-Number-Auth-Items=2 $AKA
send UAR User-Name=bob@ims.lab Public-Identity=sip:bob@ims.lab Visited-Network-Identifier=visited.example
send SAR $U Server-Name=sip:scscf.ims.lab:6060 Server-Assignment-Type=1 User-Data-Already-Available=0
send LIR Public-Identity=sip:alice@ims.lab
send LIR Public-Identity=sip:nobody@ims.lab
send MAR $U Server-Name=sip:scscf.ims.lab:6060 SIP-Number-Auth-Items=1 SIP-Auth-Data-Item.SIP-Authentication-Scheme=Digest-Unknown-Scheme
send UAR User-Name=alice@ims.lab Public-Identity=hex:7369703a00 Visited-Network-Identifier=ims.lab
EOS
diag "$WORK/a1.err"
check "UAR for an unknown user: 5001" test "$(result "$WORK/a1" 1)" = 5001
check "MAR with an IMPU of another subscription: 5002" test "$(result "$WORK/a1" 2)" = 5002
check "UAR from a visited network without roaming: 5004" test "$(result "$WORK/a1" 3)" = 5004
check "MAR without User-Name: 5005" test "$(result "$WORK/a1" 4)" = 5005
nth() { awk -v n="$2" '/^(answer|request)/{i++} i==n' "$1"; }
check "and Failed-AVP names User-Name" \
	sh -c "awk '/^answer/{i++} i==4' '$WORK/a1' | grep -q '^  Failed-AVP.User-Name='"
t() { [ "$(result "$WORK/a1" 5)" = 2001 ] &&
	nth "$WORK/a1" 5 | grep -q '^  Server-Capabilities.Server-Name=sip:scscf.ims.lab:6060'; }
check "UAR, first registration: 2001 with Server-Capabilities" t
t() { [ "$(result "$WORK/a1" 6)" = 2001 ] &&
	[ "$(val "$WORK/a1" 6 SIP-Number-Auth-Items)" = 2 ]; }
check "MAR: 2001 with 2 AKA vectors" t
# Check the first vector against tandem-aka: RAND from SIP-Authenticate,
# SQN 32 (the first SEQ, TS 33.102 C.1.1).
chal=$(val "$WORK/a1" 6 SIP-Auth-Data-Item.SIP-Authenticate | sed 's/^hex://')
rand=$(echo "$chal" | cut -c1-32)
autn=$(echo "$chal" | cut -c33-64)
"$TANDEM_AKA" -k $K -c $OPC -r "$rand" -s 000000000020 -a 8000 > "$WORK/aka"
check "the vector's AUTN is Milenage's for SQN 32" grep -qx "AUTN=$autn" "$WORK/aka"
hexval() { val "$1" "$2" "$3" | sed 's/^hex://'; }
t() { grep -qx "XRES=$(hexval "$WORK/a1" 6 SIP-Auth-Data-Item.SIP-Authorization)" "$WORK/aka" &&
	grep -qx "CK=$(hexval "$WORK/a1" 6 SIP-Auth-Data-Item.Confidentiality-Key)" "$WORK/aka" &&
	grep -qx "IK=$(hexval "$WORK/a1" 6 SIP-Auth-Data-Item.Integrity-Key)" "$WORK/aka"; }
check "its XRES, CK and IK too" t
check "the store's SQN is that of the last vector (64)" \
	sh -c "ctl() { '$TANDEMCTL' -s '$HSS_SOCK' \"\$@\"; }; ctl hss subscriber show alice@ims.lab | grep -Eq '^sqn: +64$'"
check "UAR for a roaming subscriber from a visited network: 2001" \
	test "$(result "$WORK/a1" 7)" = 2001
t() { [ "$(result "$WORK/a1" 8)" = 2001 ] && val "$WORK/a1" 8 User-Data |
	grep -q '<PrivateID>alice@ims.lab</PrivateID>.*<Identity>tel:+15551234</Identity>'; }
check "SAR REGISTRATION: 2001 with the User-Data XML" t
check "LIR for a registered user: the S-CSCF" \
	test "$(val "$WORK/a1" 9 Server-Name)" = "sip:scscf.ims.lab:6060"
check "LIR for an unknown user: 5001" test "$(result "$WORK/a1" 10)" = 5001
check "MAR with an unknown scheme: 5006" test "$(result "$WORK/a1" 11)" = 5006
check "an identity with a NUL inside: 5004 DIAMETER_INVALID_AVP_VALUE" \
	test "$(result "$WORK/a1" 12)" = 5004
check "show marks the IMPUs registered" \
	sh -c "'$TANDEMCTL' -s '$HSS_SOCK' hss subscriber show alice@ims.lab | grep -Eq '^state: +registered'"

# Re-synchronisation: the USIM's SQN_MS is 0x1000; AUTS over a RAND.
R=00112233445566778899aabbccddeeff
auts=$("$MKAUTS" $K $OPC $R 000000001000)
bad=$(echo "$auts" | sed 's/.$/0/')
[ "$bad" = "$auts" ] && bad=$(echo "$auts" | sed 's/.$/1/')
cx > "$WORK/a2" 2>&1 <<EOS
send MAR $U Server-Name=sip:scscf.ims.lab:6060 SIP-Number-Auth-Items=1 $AKA SIP-Auth-Data-Item.SIP-Authorization=hex:$R$bad
send MAR $U Server-Name=sip:scscf.ims.lab:6060 SIP-Number-Auth-Items=1 $AKA SIP-Auth-Data-Item.SIP-Authorization=hex:$R$auts
send SAR $U Server-Name=sip:scscf.ims.lab:6060 User-Data-Already-Available=0
send UAR $U Visited-Network-Identifier=ims.lab
send MAR User-Name=pbx@ims.lab Public-Identity=sip:pbx@ims.lab Server-Name=sip:scscf.ims.lab:6060 SIP-Number-Auth-Items=1 SIP-Auth-Data-Item.SIP-Authentication-Scheme=SIP\ Digest
send MAR User-Name=pbx@ims.lab Public-Identity=sip:pbx@ims.lab Server-Name=sip:scscf.ims.lab:6060 SIP-Number-Auth-Items=1 SIP-Auth-Data-Item.SIP-Authentication-Scheme=Unknown
send LIR Public-Identity=sip:pbx@ims.lab
EOS
check "an AUTS whose MAC-S is wrong is refused: 4001" test "$(result "$WORK/a2" 1)" = 4001
chal=$(val "$WORK/a2" 2 SIP-Auth-Data-Item.SIP-Authenticate | sed 's/^hex://')
"$TANDEM_AKA" -k $K -c $OPC -r "$(echo "$chal" | cut -c1-32)" -s 000000001020 > "$WORK/aka2"
check "after a valid AUTS the vector counts from SQN_MS (0x1000 + 32)" \
	grep -qx "AUTN=$(echo "$chal" | cut -c33-64)" "$WORK/aka2"
t() { [ "$(result "$WORK/a2" 3)" = 5005 ] &&
	nth "$WORK/a2" 3 | grep -q '^  Failed-AVP.Server-Assignment-Type='; }
check "SAR without Server-Assignment-Type: 5005 and Failed-AVP" t
t() { [ "$(result "$WORK/a2" 4)" = 2002 ] &&
	[ "$(val "$WORK/a2" 4 Server-Name)" = sip:scscf.ims.lab:6060 ]; }
check "UAR of a registered user: 2002 with the S-CSCF" t
ha1=$(printf 'pbx@ims.lab:ims.lab:trunk-secret' | md5sum | cut -d' ' -f1)
check "SIP Digest MAR: the HA1 of the PBX trunk" \
	test "$(val "$WORK/a2" 5 SIP-Auth-Data-Item.SIP-Digest-Authenticate.Digest-HA1)" = "$ha1"
check "an Unknown scheme takes the subscriber's (digest)" \
	test "$(val "$WORK/a2" 6 SIP-Auth-Data-Item.SIP-Digest-Authenticate.Digest-HA1)" = "$ha1"
check "LIR for a user never registered: 5003" test "$(result "$WORK/a2" 7)" = 5003

# HSS-initiated de-registration: the S-CSCF (here the client, which sent
# the SAR) gets an RTR.
{ echo "send SAR $U Server-Name=sip:scscf.ims.lab:6060 Server-Assignment-Type=2 User-Data-Already-Available=1"
  answered "$WORK/a3"; ctl hss deregister alice@ims.lab > "$WORK/dereg" 2>&1
  echo "wait-requests 1"; } | cx > "$WORK/a3" 2>&1
t() { [ "$(result "$WORK/a3" 1)" = 2001 ] && [ -z "$(val "$WORK/a3" 1 User-Data)" ]; }
check "RE_REGISTRATION with data already available: 2001, no User-Data" t
check "hss deregister sends an RTR to the S-CSCF" \
	sh -c "grep -q '^request RTR' '$WORK/a3' && grep -q '^  Deregistration-Reason.Reason-Code=3' '$WORK/a3' && grep -q '^  Public-Identity=tel:+15551234' '$WORK/a3'"
check "and the user is no longer registered" \
	sh -c "'$TANDEMCTL' -s '$HSS_SOCK' hss subscriber show alice@ims.lab | grep -Eq '^state: +not-registered'"

# S-CSCF restoration (TS 29.228 6.1.2, TS 23.380): the S-CSCF gives its
# restoration information with the registration; another S-CSCF that
# restores the user gets it back, with the profile, and the assignment.
R="SCSCF-Restoration-Info"
cx > "$WORK/r1" 2>&1 <<EOS
send SAR $U Server-Name=sip:scscf.ims.lab:6060 Server-Assignment-Type=1 User-Data-Already-Available=0 $R.User-Name=alice@ims.lab $R.Restoration-Info.Path=<sip:pcscf.ims.lab;lr> $R.Restoration-Info.Contact=<sip:alice@127.0.0.1:5099> $R.Restoration-Info.Initial-CSeq-Sequence-Number=7 $R.Restoration-Info.Call-ID-SIP-Header=reg1@ue $R.Registration-Time-Out=hex:ea000000 $R.SIP-Authentication-Scheme=Digest-AKAv1-MD5
send SAR $U Server-Name=sip:scscf2.ims.lab:6060 Server-Assignment-Type=14 User-Data-Already-Available=0
send SAR User-Name=bob@ims.lab Public-Identity=sip:bob@ims.lab Server-Name=sip:scscf2.ims.lab:6060 Server-Assignment-Type=14 User-Data-Already-Available=0
send SAR $U Server-Name=sip:scscf2.ims.lab:6060 Server-Assignment-Type=5 User-Data-Already-Available=0
send SAR $U Server-Name=sip:scscf2.ims.lab:6060 Server-Assignment-Type=1 User-Data-Already-Available=0
send SAR $U Server-Name=sip:scscf2.ims.lab:6060 Server-Assignment-Type=14 User-Data-Already-Available=0
EOS
t() { [ "$(result "$WORK/r1" 1)" = 2001 ] &&
	[ "$(val "$WORK/r1" 1 Charging-Information.Primary-Charging-Collection-Function-Name)" = aaa://ccf1.ims.lab ] &&
	[ "$(val "$WORK/r1" 1 Charging-Information.Secondary-Charging-Collection-Function-Name)" = aaa://ccf2.ims.lab ] &&
	[ "$(val "$WORK/r1" 1 Charging-Information.Primary-Event-Charging-Function-Name)" = aaa://ecf1.ims.lab ]; }
check "SAA with the profile carries Charging-Information (CCF 1 and 2, ECF)" t
t() { [ "$(result "$WORK/r1" 2)" = 2001 ] &&
	[ -n "$(val "$WORK/r1" 2 User-Data)" ] &&
	[ "$(val "$WORK/r1" 2 $R.User-Name)" = alice@ims.lab ] &&
	[ "$(val "$WORK/r1" 2 $R.Restoration-Info.Contact)" = "<sip:alice@127.0.0.1:5099>" ] &&
	[ "$(val "$WORK/r1" 2 $R.Restoration-Info.Path)" = "<sip:pcscf.ims.lab;lr>" ] &&
	[ "$(val "$WORK/r1" 2 $R.Restoration-Info.Initial-CSeq-Sequence-Number)" = 7 ] &&
	[ "$(val "$WORK/r1" 2 $R.Restoration-Info.Call-ID-SIP-Header)" = reg1@ue ] &&
	[ "$(val "$WORK/r1" 2 $R.Registration-Time-Out)" = hex:ea000000 ] &&
	[ "$(val "$WORK/r1" 2 $R.SIP-Authentication-Scheme)" = Digest-AKAv1-MD5 ]; }
check "SAR RESTORATION (14): the profile and the restoration information kept" t
check "and the user is now assigned to the restoring S-CSCF" \
	sh -c "'$TANDEMCTL' -s '$HSS_SOCK' hss subscriber show alice@ims.lab | grep -Eq '^scscf: +sip:scscf2.ims.lab:6060'"
check "RESTORATION of a user not registered: 5003" \
	test "$(result "$WORK/r1" 3)" = 5003
t() { [ "$(result "$WORK/r1" 6)" = 2001 ] && [ -n "$(val "$WORK/r1" 6 User-Data)" ] &&
	[ -z "$(val "$WORK/r1" 6 $R.User-Name)" ]; }
check "a de-registration forgets the restoration information" t
cx > "$WORK/r2" 2>&1 <<EOS
send SAR $U Server-Name=sip:scscf2.ims.lab:6060 Server-Assignment-Type=5 User-Data-Already-Available=0
EOS

# Malformed input: a broken Diameter header and random bytes on a new
# connection must not hurt the node.
python3 - <<'PY' 2>/dev/null
import socket, os
for payload in (b'\x01\x00\x00\x14\x80\x00\x01\x2c' + b'\xff' * 12, os.urandom(300), b'\x01\xff\xff\xff' + b'\x00' * 60):
    try:
        s = socket.create_connection(("127.0.0.1", 3868), timeout=2)
        s.sendall(payload)
        s.settimeout(1)
        try: s.recv(100)
        except Exception: pass
        s.close()
    except Exception:
        pass
PY
cx > "$WORK/a4" 2>&1 <<EOS
send LIR Public-Identity=sip:alice@ims.lab
EOS
check "after malformed input the node still answers" test -n "$(result "$WORK/a4" 1)"

# Group commit: 200 MARs for one user, 32 in flight, many of them in one
# loop turn and so one transaction; each SQN is handed out once.
before=$(ctl hss subscriber show bob@ims.lab | sed -n 's/^sqn: *//p')
cx --bench "MAR User-Name=bob@ims.lab Public-Identity=sip:bob@ims.lab Server-Name=sip:scscf.ims.lab:6060 SIP-Number-Auth-Items=1 $AKA" \
	--count 200 --window 32 --users 1 > "$WORK/burst" 2>&1
after=$(ctl hss subscriber show bob@ims.lab | sed -n 's/^sqn: *//p')
check "200 MARs in flight: all answered, the SQN moved by 200 steps ($before -> $after)" \
	sh -c "grep -qx 'errors=0' '$WORK/burst' && [ $((after - before)) = $((200 * 32)) ]"
commits=$(ctl show stats | awk '$1 == "hss.group_commits" { print $2 }')
mars=$(ctl show stats | awk '$1 == "hss.mar" { print $2 }')
check "and their changes went in at most as many group commits ($commits for $mars MARs)" \
	sh -c "[ '$commits' -ge 1 ] && [ '$commits' -le '$mars' ]"

# Restart: the store keeps SQN and identities.
sqn=$(ctl hss subscriber show alice@ims.lab | sed -n 's/^sqn: *//p')
kill -TERM "$NODE_PID"; wait_exit "$NODE_PID" 15
check "the node stops cleanly (rc=$rc)" test "$rc" = 0
start_node "$WORK/hss.conf" "$WORK/hss2.log"
check "after a restart SQN is kept ($sqn)" \
	sh -c "'$TANDEMCTL' -s '$HSS_SOCK' hss subscriber show alice@ims.lab | grep -Eq '^sqn: +$sqn\$'"
check "and the counters show the Cx traffic of this run" \
	sh -c "'$TANDEMCTL' -s '$HSS_SOCK' show stats | grep -Eq '^hss.mar +0 '"
cx > "$WORK/a5" 2>&1 <<EOS
send MAR $U Server-Name=sip:scscf.ims.lab:6060 SIP-Number-Auth-Items=1 $AKA
EOS
chal=$(val "$WORK/a5" 1 SIP-Auth-Data-Item.SIP-Authenticate | sed 's/^hex://')
next=$(printf '%012x' $((sqn + 32)))
"$TANDEM_AKA" -k $K -c $OPC -r "$(echo "$chal" | cut -c1-32)" -s "$next" > "$WORK/aka3"
check "and the next vector continues from it" \
	grep -qx "AUTN=$(echo "$chal" | cut -c33-64)" "$WORK/aka3"
finish
