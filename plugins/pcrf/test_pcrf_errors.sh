#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The PCRF's error answers and its robustness: every result code of
# TS 29.214 / 29.212 it gives (5002, 5005 with Failed-AVP, 5061, 5063,
# 5065), hand-written wrong requests (diaraw) and garbage on its TCP
# port; it answers each and keeps serving.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$PCRF_SRCDIR/pcrf_lib.sh"
plan 31

for f in pcrf.conf.example pcef.conf.example; do
	check "tandemd --check accepts $f" "$TANDEMD" --check \
		-c "$PCRF_SRCDIR/$f" --plugin-path "$PLUGIN_PATH"
done
sed 's/^qci = 2$/qci = 0/' "$PCRF_SRCDIR/pcrf.conf.example" > "$WORK/bad.conf"
t() { ! "$TANDEMD" --check -c "$WORK/bad.conf" --plugin-path "$PLUGIN_PATH" \
	2> "$WORK/bad.out" && grep -q 'bad.conf:[0-9]*: \[policy video\] qci' "$WORK/bad.out"; }
check "a wrong policy is refused with its file and line" t

# Policies for audio and signalling only: video has none (5061).
PCRF_EXTRA='[policy hd-voice]
media = audio
codecs = AMR-WB EVS
qci = 1
arp = 1
[policy voice]
media = audio
qci = 1
arp = 2
[policy signalling]
media = signalling
qci = 5
gbr = no'
AF_LOAD="rxclient rxdrive diaraw"
# Timeouts long enough for a sanitizer build on a busy machine; the AF
# gives up before the PCRF does, as the slow-PCEF case below expects.
AF_EXTRA="timeout_ms = 5000"
PCRF_EXTRA="rar_timeout_ms = 8000
$PCRF_EXTRA"
if pcrf_start_all; then pass "PCRF, AF and PCEF nodes connect"; else
	fail "PCRF, AF and PCEF nodes connect"; pcrf_logs; finish; fi
gw pcef open 10.45.0.1 > /dev/null
opened() { [ "$(gw pcef stats | field opened)" = 1 ]; }
dia_wait 10 opened

RX_AAR="rx AAR Auth-Request-Type#=2"
CCR="gx CCR Service-Context-Id=gx@3gpp.org"
IP1="Framed-IP-Address%=0a2d0001"

# ---- 5065: no IP-CAN session ----
af rxdrive call e1 10.45.9.9 audio:PCMU > /dev/null
refused() { [ "$(af rxdrive show | field refused)" = "$1" ]; }
check "an AAR for a UE without IP-CAN session is refused" dia_wait 10 refused 1
check "with 5065 IP-CAN_SESSION_NOT_AVAILABLE" \
	grep -q "AAA for e1: Experimental-Result 5065" "$WORK/af.log"

# ---- 5005 with Failed-AVP ----
check "AAR without Framed-IP-Address: 5005 naming it" \
	raw "code=5005 failed=Framed-IP-Address" $RX_AAR
check "a media component without its number: 5005 naming it" \
	raw "code=5005 failed=Media-Component-Number" $RX_AAR $IP1 \
	Media-Component-Description.Media-Type#=0
check "CCR-I without UE address: 5005 naming Framed-IP-Address" \
	raw "code=5005 failed=Framed-IP-Address" $CCR CC-Request-Type#=1 \
	CC-Request-Number#=0
check "CCR without CC-Request-Type: 5005 naming it" \
	raw "code=5005 failed=CC-Request-Type" $CCR CC-Request-Number#=0 $IP1

# ---- 5061: invalid service information ----
check "a malformed Flow-Description: 5061" \
	raw "vendor=10415 code=5061 failed=Flow-Description" $RX_AAR $IP1 \
	Media-Component-Description.Media-Component-Number#=1 \
	Media-Component-Description.Media-Type#=0 \
	"Media-Component-Description.Media-Sub-Component.Flow-Description=deny all"
check "an unknown Media-Type: 5061" \
	raw "vendor=10415 code=5061 failed=Media-Type" $RX_AAR $IP1 \
	Media-Component-Description.Media-Component-Number#=1 \
	Media-Component-Description.Media-Type#=77
long=$(printf 'permit out 17 from 10.99.0.1 to 10.45.0.1 %0200d' 1)
check "a Flow-Description too long for a filter: 5061" \
	raw "vendor=10415 code=5061 failed=Flow-Description" $RX_AAR $IP1 \
	Media-Component-Description.Media-Component-Number#=1 \
	"Media-Component-Description.Media-Sub-Component.Flow-Description=$long"
many=""
for i in 1 2 3 4 5 6 7 8 9; do
	many="$many Media-Component-Description+.Media-Component-Number#=$i"
done
check "nine media components (more than a call has): 5061" \
	raw "vendor=10415 code=5061" $RX_AAR $IP1 $many
af rxdrive call e2 10.45.0.1 video:H264 > /dev/null
check "media no policy allows (video here): refused" dia_wait 10 refused 2
check "with 5061 INVALID_SERVICE_INFORMATION" \
	grep -q "AAA for e2: Experimental-Result 5061" "$WORK/af.log"

# ---- 5002: unknown session ----
check "STR for an unknown session: 5002" \
	raw "code=5002" rx STR -sid=no.such.session Termination-Cause#=1
check "CCR-U for an unknown session: 5002" \
	raw "code=5002" $CCR -sid=no.such.session CC-Request-Type#=2 \
	CC-Request-Number#=1

# ---- 5004 / wrong values ----
check "a Framed-IP-Address of 5 bytes: 5004" \
	raw "code=5004 failed=Framed-IP-Address" $CCR CC-Request-Type#=1 \
	CC-Request-Number#=0 Framed-IP-Address%=0a2d000101
check "CC-Request-Type 9: 5004" \
	raw "code=5004 failed=CC-Request-Type" $CCR -sid=x CC-Request-Type#=9 \
	CC-Request-Number#=0 $IP1

# ---- 5063: the PCEF refuses the rules ----
gw pcef refuse yes > /dev/null
af rxdrive call e3 10.45.0.1 audio:PCMU > /dev/null
check "rules the PCEF reports failed: the AAR is refused" dia_wait 10 refused 3
check "with 5063 REQUESTED_SERVICE_NOT_AUTHORIZED" \
	grep -q "AAA for e3: Experimental-Result 5063" "$WORK/af.log"
gw pcef refuse no > /dev/null

# ---- A PCEF that does not answer ----
rar0=$(gw pcef stats | field rar)
kill -STOP "$PID_GW"
af rxdrive call slow 10.45.0.1 audio:PCMU > /dev/null
check "no RAA from the PCEF: the AF's wait ends (-ETIMEDOUT)" \
	dia_wait 15 refused 4
t() { af rxclient show | grep -q '^timeouts: *1$'; }
check "counted as a timeout by rxclient" t
t() { grep -q "did not install the rules (-110)" "$WORK/pcrf.log"; }
check "the PCRF gives up on the RAA and forgets the AF session" dia_wait 15 t
kill -CONT "$PID_GW"
late() { [ "$(gw pcef stats | field rar)" = $((rar0 + 2)) ] && norules 10.45.0.1; }
check "and takes back the rule the slow PCEF installs late" dia_wait 15 late

# ---- Policies per codec ----
authorised() { [ "$(af rxdrive show | field authorised)" = "$1" ]; }
af rxdrive call hd 10.45.0.1 audio:AMR-WB > /dev/null
dia_wait 10 authorised 1
t() { rules_of 10.45.0.1 | grep -q '"qci":1,"arp":1,.*"mbr_dl":49000,'; }
check "an AMR-WB call takes the hd-voice policy (ARP 1, 49 kbit/s)" t
af rxdrive end hd > /dev/null
dia_wait 10 norules 10.45.0.1
af rxdrive call nb 10.45.0.1 audio:PCMA > /dev/null
dia_wait 10 authorised 2
t() { rules_of 10.45.0.1 | grep -q '"qci":1,"arp":2,.*"mbr_dl":80000,'; }
check "a PCMA call the voice policy (ARP 2, 80 kbit/s)" t
af rxdrive end nb > /dev/null
dia_wait 10 norules 10.45.0.1

# ---- Garbage on the TCP port, then a good call ----
python3 - "$PCRF_PORT" <<'PY'
import os, socket, sys
port = int(sys.argv[1])
blobs = [os.urandom(4096),
         bytes([1, 0xff, 0xff, 0xff]) + os.urandom(64),   # huge length
         bytes([1, 0, 0, 20, 0x80, 0, 1, 1]) + bytes(12),  # CER, no AVPs
         bytes([1, 0, 0, 0x30, 0x80, 0, 1, 9]) + bytes(12) +
         bytes([0, 0, 1, 7, 0x40, 0, 0xff, 0xff]) + bytes(8)]  # AVP too long
for b in blobs:
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    try:
        s.sendall(b)
        s.settimeout(1)
        try:
            s.recv(100)
        except OSError:
            pass
    finally:
        s.close()
PY
check "garbage on its port does not stop the PCRF" kill -0 "$PID_PCRF"
verdict() { [ "$(af rxdrive show | field authorised)" = 3 ]; }
af rxdrive call ok1 10.45.0.1 audio:PCMU > /dev/null
check "it still authorises a good call" dia_wait 10 verdict
t() { pcrf show stats | grep -Eq 'pcrf.errors +1[0-9] '; }
check "every error answer is counted" t

[ "$tap_failed" = 0 ] || pcrf_logs
finish
