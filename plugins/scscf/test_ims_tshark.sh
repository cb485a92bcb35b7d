#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What the core puts on the wire decodes: a registration, a call and a
# reg event subscription are captured on loopback (dumpcap) and tshark
# dissects every SIP message and every Cx request and answer, with no
# malformed packet and no expert error. Skipped without tshark/dumpcap.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SCSCF_SRCDIR/ims_lib.sh"
for need in sipp tshark dumpcap; do
	command -v $need > /dev/null || { echo "1..0 # SKIP $need not installed"; exit 0; }
done
plan 13

SCSCF_EXTRA="icscf = sip:icscf.ims.lab:4060"
if ims_core; then pass "HSS, I-, S- and P-CSCF start; Cx is up"; else
	fail "HSS, I-, S- and P-CSCF start; Cx is up"; ims_logs; finish; fi
hss hss subscriber add alice@ims.lab impu=sip:alice@ims.lab k=$K3 op=$OP3 \
	amf=8000 > /dev/null
hss hss subscriber add bob@ims.lab impu=sip:bob@ims.lab k=$K15 op=$OP15 \
	amf=8000 > /dev/null

dumpcap -q -i lo -w "$WORK/core.pcap" > "$WORK/dumpcap.out" 2>&1 &
CAP=$!
t() { [ -s "$WORK/core.pcap" ]; }
dia_wait 10 t
sleep 0.5 # dumpcap writes its header before it captures
s=$(ims_scenario ims-ue-register.xml alice $K3 $OP3)
ims_sipp "$s" 5099 reg-alice && a=0 || a=1
s=$(ims_scenario ims-ue-register.xml bob $K15 $OP15)
ims_sipp "$s" 5098 reg-bob && b=0 || b=1
check "alice and bob register while dumpcap captures" test "$a$b" = 00
sipp -sf "$SIPP_DIR/ims-uas-call.xml" -i 127.0.0.1 -p 5098 -m 1 -key me bob \
	-timeout 30s -timeout_error > "$WORK/bob.out" 2>&1 < /dev/null &
BOB=$!
sleep 0.2
ims_sipp "$SIPP_DIR/ims-uac-call.xml" 5099 call -key me alice -key target sip:bob@ims.lab
check "alice calls bob (rc=$?)" test $? = 0
wait_exit $BOB 30
sleep 0.5
kill -INT $CAP
wait_exit $CAP 10

# SIP on every CSCF port, Diameter on every Cx peer port
DEC="-d udp.port==4060,sip -d udp.port==6060,sip -d udp.port==5099,sip
     -d udp.port==5098,sip -d tcp.port==3869,diameter -d tcp.port==3870,diameter"
# shellcheck disable=SC2086
tshark -r "$WORK/core.pcap" $DEC -T fields -e frame.number -e _ws.col.Protocol \
	-e _ws.col.Info > "$WORK/decoded.txt" 2> "$WORK/tshark.err"
# shellcheck disable=SC2086
tshark -r "$WORK/core.pcap" $DEC -Y '_ws.malformed || _ws.expert.severity >= "error"' \
	> "$WORK/bad.txt" 2>> "$WORK/tshark.err"
t() { [ ! -s "$WORK/bad.txt" ]; }
check "no malformed packet, no expert error" t
t() { [ "$(grep -c 'Request: REGISTER' "$WORK/decoded.txt")" -ge 12 ] &&
	[ "$(grep -c 'Status: 401' "$WORK/decoded.txt")" -ge 6 ]; }
check "every REGISTER and 401 hop decodes as SIP" t
t() { grep -q 'Request: INVITE' "$WORK/decoded.txt" &&
	grep -q 'Request: BYE' "$WORK/decoded.txt" &&
	grep -q 'Request: SUBSCRIBE' "$WORK/decoded.txt" &&
	grep -q 'Request: NOTIFY' "$WORK/decoded.txt"; }
check "and the call and the reg event subscriptions" t
# shellcheck disable=SC2086
tshark -r "$WORK/core.pcap" $DEC -Y diameter -T fields -e diameter.cmd.code \
	-e diameter.flags.request -e diameter.applicationId > "$WORK/cx.txt" 2>> "$WORK/tshark.err"
cx() { awk -v c="$1" -v r="$2" '$1 == c && $2 == r && $3 == 16777216' "$WORK/cx.txt" | wc -l; }
t() { [ "$(cx 300 1)" -ge 4 ] && [ "$(cx 300 0)" -ge 4 ]; }
check "UAR and UAA decode as Cx (application 16777216)" t
t() { [ "$(cx 303 1)" -ge 2 ] && [ "$(cx 303 0)" -ge 2 ] &&
	[ "$(cx 301 1)" -ge 2 ] && [ "$(cx 301 0)" -ge 2 ]; }
check "MAR/MAA and SAR/SAA too" t
t() { [ "$(cx 302 1)" -ge 1 ] && [ "$(cx 302 0)" -ge 1 ]; }
check "and the call's LIR/LIA" t

# ---- the call's INVITE, hop by hop: Service-Route, Path, Record-Route ----
# shellcheck disable=SC2086
tshark -r "$WORK/core.pcap" $DEC -Y 'sip.Method == "INVITE"' -T fields \
	-E separator='|' -e udp.dstport -e sip.r-uri -e sip.Route \
	-e sip.Record-Route > "$WORK/invites.txt" 2>> "$WORK/tshark.err"
hop() { grep -q "$1" "$WORK/invites.txt"; }
t() { hop '^6060|sip:bob@ims.lab|<sip:orig@scscf.ims.lab:6060;lr>|<sip:127.0.0.1:5060;lr>$'; }
check "alice's P-CSCF sends her INVITE along her Service-Route (orig), record-routed" t
t() { hop '^4060|sip:bob@ims.lab|<sip:icscf.ims.lab:4060;lr>|$'; }
check "her S-CSCF to the I-CSCF, which finds bob's S-CSCF" t
t() { hop '^5060|sip:bob@127.0.0.1:5098|<sip:term@pcscf.ims.lab:5060;lr>|$'; }
check "bob's S-CSCF along his Path, to his registered Contact" t
t() { hop '^5098|sip:bob@127.0.0.1:5098||<sip:127.0.0.1:5060;lr>$'; }
check "and his P-CSCF to bob, in its Record-Route by its address" t

[ "$tap_failed" = 0 ] || { diag "$WORK/tshark.err" "$WORK/bad.txt" "$WORK/dumpcap.out" "$WORK/invites.txt"; head -50 "$WORK/decoded.txt" | diag /dev/stdin; ims_logs; }
finish
