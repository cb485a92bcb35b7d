#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The PCRF between real Diameter peers over TCP: a PCEF (pcef plugin)
# opens IP-CAN sessions, an AF (rxclient driven by rxdrive) asks for a
# call's resources with an SDP pair, the PCEF receives the rules (QCI and
# the codec's bandwidth) and loses them at the end; re-INVITE, IPv6
# binding, bearer loss (RAR, ASR), IP-CAN session end (ASR), restart of
# the PCRF (sessions kept). tshark decodes every Rx and Gx message.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$PCRF_SRCDIR/pcrf_lib.sh"
plan 39
AF_LOAD="rxclient rxdrive diaraw"
PCRF_AUDIT=1

# tshark on lo for the whole test, when it can capture here.
TSHARK_PID=
if command -v tshark > /dev/null; then
	tshark -i lo -f "tcp port $PCRF_PORT" -w "$WORK/cap.pcapng" -q \
		> "$WORK/tshark.out" 2>&1 &
	TSHARK_PID=$!
	NODE_PIDS="$NODE_PIDS $TSHARK_PID"
	wait_for "$WORK/tshark.out" "Capturing on" || TSHARK_PID=
fi

if pcrf_start_all; then pass "PCRF, AF and PCEF nodes connect over TCP"; else
	fail "PCRF, AF and PCEF nodes connect over TCP"; pcrf_logs; finish; fi

# ---- IP-CAN sessions ----
gw pcef open 10.45.0.1 2 > /dev/null
gw pcef open 2001:db8:0:1::1 > /dev/null
opened() { [ "$(gw pcef stats | field opened)" = 3 ]; }
check "the PCEF opens three IP-CAN sessions (CCR-I/CCA)" dia_wait 5 opened
t() { gw pcef show | grep '^10.45.0.1 ' | grep -q ' open  *5 '; }
check "CCA-I gives the default bearer QCI 5" t
t() { [ "$(pcrf pcrf show sessions | grep -c ' gx ')" = 3 ]; }
check "pcrf show sessions lists them" t

# ---- A voice call: QCI 1 and the codec's bandwidth ----
verdict() { [ "$(af rxdrive show | field authorised)" = "$1" ]; }
af rxdrive call c1 10.45.0.1 audio:PCMU > /dev/null
check "AAR with an SDP pair is authorised (AAA 2001 after the Gx RAA)" \
	dia_wait 5 verdict 1
gw pcef show rules 10.45.0.1 > "$WORK/rules1"
check "the PCEF received a rule with QCI 1" \
	grep -q '^qci: *1$' "$WORK/rules1"
check "with PCMU's bandwidth as GBR (80 kbit/s with overhead)" \
	sh -c "grep -q '^gbr_ul: *80000$' '$WORK/rules1' && grep -q '^gbr_dl: *80000$' '$WORK/rules1'"
check "and the RTP and RTCP flows of the SDP (Annex B)" \
	sh -c "grep -q '^flows: *4$' '$WORK/rules1' && grep -q 'permit out 17 from 10.99.0.1 to 10.45.0.1 40000' '$WORK/rules1'"
check "the PCEF logged the installation" \
	grep -q "UE 10.45.0.1: rule r[0-9]*-1 installed: QCI 1" "$WORK/gw.log"
rxsid=$(pcrf pcrf show sessions | awk '$2 == "rx" { print $1; exit }')
t() { pcrf pcrf show rules "$rxsid" | grep -q '^qci: *1$'; }
check "pcrf show rules SESSION shows it" t

# ---- Audio (b=AS) and video: two rules; re-INVITE drops the video ----
af rxdrive call c2 10.45.0.2 audio:AMR:41 video:H264:384 > /dev/null
check "an audio+video call is authorised" dia_wait 5 verdict 2
rules_of 10.45.0.2 > "$WORK/rules2"
t() { grep -q '"qci":1,.*"mbr_dl":41000,' "$WORK/rules2" &&
	grep -q '"qci":2,.*"mbr_dl":384000,' "$WORK/rules2"; }
check "voice QCI 1 at b=AS:41, video QCI 2 at b=AS:384" t
af rxdrive update c2 audio:AMR:41 > /dev/null
one_rule() { [ "$(gw pcef show rules 10.45.0.2 | grep -c '^rule:')" = 1 ]; }
check "an AAR without the video removes its rule (Charging-Rule-Remove)" \
	dia_wait 5 one_rule

# ---- STR removes the rules ----
af rxdrive end c1 > /dev/null
check "STR: the PCEF's rule is removed" dia_wait 5 norules 10.45.0.1
check "and the PCRF forgets the AF session" \
	sh -c "! $TANDEMCTL -s $WORK/pcrf.sock pcrf show sessions | grep -q '$rxsid'"

# ---- IPv6: binding by prefix ----
af rxdrive call c3 2001:db8:0:1::1 audio:PCMA > /dev/null
check "a UE on IPv6 is bound by its /64 prefix" dia_wait 5 verdict 3
t() { gw pcef show rules 2001:db8:0:1::1 | grep -q '^qci: *1$'; }
check "and its rule reaches the PCEF" t
af rxdrive end c3 > /dev/null

# ---- Loss of part of the bearers: RAR to the AF ----
aborts() { [ "$(af rxdrive show | field aborts)" = "$1" ]; }
af rxdrive call c4 10.45.0.1 audio:PCMU video:H264 > /dev/null
dia_wait 5 verdict 4
vrule=$(rules_of 10.45.0.1 | sed -n 's/.*"rule":"\(r[0-9]*-2\)".*/\1/p')
gw pcef lose 10.45.0.1 "$vrule" > /dev/null
rar() { [ "$(af rxclient show | field rar)" = 1 ]; }
check "a lost video bearer: RAR to the AF (Specific-Action 2)" dia_wait 5 rar
check "which releases the call (release_on_bearer_loss)" dia_wait 5 aborts 1
check "and its STR removes what is left at the PCEF" dia_wait 5 norules 10.45.0.1

# ---- Loss of every bearer: ASR ----
af rxdrive call c5 10.45.0.1 audio:PCMU > /dev/null
dia_wait 5 verdict 5
gw pcef lose 10.45.0.1 > /dev/null
check "every bearer of a call lost: ASR, the AF releases the call" \
	dia_wait 5 aborts 2
t() { af rxdrive show | grep -q '^last_abort: *c5$'; }
check "the right call" t
asr() { [ "$(af rxclient show | field asr)" = "$1" ]; }
check "counted as an ASR by rxclient" asr 1

# ---- A signalling session: no media, event subscriptions ----
SIG="rx AAR Auth-Request-Type#=2 Framed-IP-Address%=0a2d0002"
check "AAR without media (registration-time signalling session): 2001" \
	raw "code=2001" $SIG -sid=sig.1 Specific-Action#=6
gw pcef event 10.45.0.2 2 > /dev/null
rar() { [ "$(af rxclient show | field rar)" = 3 ]; }
check "a RAT change (CCR-U Event-Trigger): RAR to both AF sessions subscribed" \
	dia_wait 5 rar
check "an AF signalling flow: answered 2001" \
	raw "code=2001" $SIG -sid=sig.2 \
	Media-Component-Description.Media-Component-Number#=1 \
	Media-Component-Description.Media-Sub-Component.Flow-Usage#=2 \
	"Media-Component-Description.Media-Sub-Component.Flow-Description=permit out 17 from 10.99.0.5 5060 to 10.45.0.2 5060"
t() { rules_of 10.45.0.2 | grep -q '"qci":5,.*"gbr_ul":0,'; }
check "its rule is QCI 5 without a guaranteed bit rate" t

# ---- The IP-CAN session ends: ASR ----
gw pcef close 10.45.0.2 > /dev/null
check "CCR-T: the call bound to it is aborted (ASR)" dia_wait 5 aborts 3
t() { [ "$(pcrf pcrf show sessions | grep -c ' gx ')" = 2 ]; }
check "and the IP-CAN session is gone" dia_wait 5 t
t() { ! pcrf pcrf show sessions | grep -q '^sig\.'; }
check "the audit drops AF sessions that never sent their STR" dia_wait 10 t
t() { pcrf show stats | grep -Eq 'pcrf.audited +2 '; }
check "and counts them" t

# ---- Subscribed to successful resource allocation: RAR after the RAA ----
before=$(af rxclient show | field rar)
raw "code=2001" rx AAR Auth-Request-Type#=2 Framed-IP-Address%=0a2d0001 \
	-sid=sig.3 Specific-Action#=8 \
	Media-Component-Description.Media-Component-Number#=1 \
	Media-Component-Description.Media-Type#=0
t() { [ "$(af rxclient show | field rar)" = $((before + 1)) ]; }
check "an AF subscribed to resource allocation hears of it (RAR, 8)" dia_wait 5 t
raw "code=2001" rx STR -sid=sig.3 Termination-Cause#=1

# ---- Restart: the sessions survive ----
af rxdrive call c7 10.45.0.1 audio:PCMU > /dev/null
dia_wait 5 verdict 6
rxsid=$(pcrf pcrf show sessions | awk '$2 == "rx" { print $1; exit }')
kill -TERM "$PID_PCRF"
wait_exit "$PID_PCRF" 15
check "the PCRF stops cleanly (rc=$rc)" test "$rc" = 0
start_node "$WORK/pcrf.conf" "$WORK/pcrf2.log"; PID_PCRF=$NODE_PID
t() { pcrf pcrf show sessions | grep -q "$rxsid" &&
	[ "$(pcrf pcrf show sessions | grep -c ' gx ')" = 2 ]; }
check "after a restart it still knows the IP-CAN and AF sessions" t
t() { pcrf pcrf show rules "$rxsid" | grep -q '^qci: *1$'; }
check "and the rules it gave" t
dia_wait 15 peer_open af && dia_wait 15 peer_open gw
af rxdrive end c7 > /dev/null
check "an STR after the restart removes the rule at the PCEF" \
	dia_wait 10 norules 10.45.0.1

# ---- tshark ----
if [ -n "$TSHARK_PID" ]; then
	sleep 0.5
	kill -INT "$TSHARK_PID"; wait_exit "$TSHARK_PID" 10
	tshark -r "$WORK/cap.pcapng" -d tcp.port==$AF_PORT,diameter \
		-d tcp.port==$GW_PORT,diameter -Y diameter \
		> "$WORK/dec" 2> "$WORK/tshark.err"
	tshark -r "$WORK/cap.pcapng" -d tcp.port==$AF_PORT,diameter \
		-d tcp.port==$GW_PORT,diameter -Y "_ws.malformed || _ws.expert.severity == error" \
		> "$WORK/malformed" 2> "$WORK/tshark.err"
	seen() { grep -q "cmd=$1.*appl=3GPP $2(" "$WORK/dec"; }
	t() { seen "AA Request" Rx && seen "AA Answer" Rx &&
		seen "Session-Termination Request" Rx && seen "Abort-Session Request" Rx &&
		seen "Re-Auth Request" Rx; }
	check "tshark decodes Rx AAR/AAA, STR, ASR and RAR by name" t
	t() { seen "Credit-Control Request" Gx && seen "Credit-Control Answer" Gx &&
		seen "Re-Auth Request" Gx && seen "Re-Auth Answer" Gx; }
	check "tshark decodes Gx CCR/CCA and RAR/RAA by name" t
	check "no malformed Diameter packet ($(wc -l < "$WORK/malformed") flagged)" \
		test ! -s "$WORK/malformed"
	[ -s "$WORK/malformed" ] && diag "$WORK/malformed"
else
	pass "# SKIP tshark cannot capture here"
	pass "# SKIP tshark cannot capture here"
	pass "# SKIP tshark cannot capture here"
fi

[ "$tap_failed" = 0 ] || pcrf_logs
finish
