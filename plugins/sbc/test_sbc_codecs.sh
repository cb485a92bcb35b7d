#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A peer's codec policy ([sbc-peer] codecs): the trunk "pbx" may carry
# PCMA and G722 only. Its offer loses PCMU before the core sees it, and
# the answer it gets names an allowed codec although the core answered
# PCMU (the SBC transcodes); an offer with nothing allowed gets 488 with
# a Warning; a call from the core offering PCMU reaches the peer as PCMA
# and G722 (transcoded), the core's answer staying PCMU. A codec the
# media service does not have is a file:line error. sipp plays every
# side, in a network namespace of the test's own; every run is bounded.
. "$abs_top_srcdir/tests/integration/lib.sh"

in_netns "$@"
need_sipp
SC="$SBC_SRCDIR/sipp"
SOCK="$WORK/sbc.sock"
plan 12

# The access listener 5260 (the PBX calls from 127.0.0.1:5261 and is
# called at 5280), the core's 5275 (core_listen; the core calls from
# 5271, takes calls at 5270).
conf() {
	cat <<CONF
[node]
name = sbc-codecs
control_socket = $SOCK
log_level = info
[plugins]
load = sip media sbc
[sip]
listen = udp:127.0.0.1:5260 udp:127.0.0.1:5275
[media]
workers = 1
pin_workers = no
rtp_address = 127.0.0.1
rtp_port_min = 30000
rtp_port_max = 30099
[sbc]
core_listen = udp:127.0.0.1:5275
core_next_hop = udp:127.0.0.1:5270
core_domain = 127.0.0.1:5270
transcode = yes
[sbc-peer pbx]
address = 127.0.0.1
destination = udp:127.0.0.1:5280
prefixes = +4420
codecs = $1
CONF
}

conf "PCMA FOO" > "$WORK/bad.conf"
check "a codec the media service lacks is refused at load, with file:line" \
	conf_refused "$WORK/bad.conf" '^codecs' "'FOO' is not an audio codec"

conf "PCMA G722" > "$WORK/sbc.conf"
if start_node "$WORK/sbc.conf" "$WORK/sbc.log"; then
	pass "an SBC whose peer may carry PCMA and G722 starts"
else
	fail "an SBC whose peer may carry PCMA and G722 starts"
	diag "$WORK/sbc.log"; finish
fi
check "sbc show peers shows the policy" \
	sh -c "'$TANDEMCTL' -s '$SOCK' sbc show peers | grep -Eq '^codecs: +PCMA G722$'"

# uas NAME IP:PORT FMT RTPMAP: a callee answering RTP/AVP FMT (sipp, in
# the background); the formats it was offered go to $WORK/NAME.vars
uas() {
	"$SIPP" -sf "$SC/sbc_uas_plain.xml" -t u1 -i 127.0.0.1 -p "$2" -m 1 \
		-mp 32000 -nostdin -timeout 30s -trace_msg \
		-message_file "$WORK/$1.msg" -key out "$WORK/$1.vars" \
		-key peer_port 31002 -key fmt "$3" -key rtpmap "$4" \
		> "$WORK/$1.out" 2>&1 &
	uas_pid=$!
	wait_udp_port "$2"
}
# uac NAME SCENARIO DEST FROM_PORT NUMBER FMT RTPMAP1 RTPMAP2 RTPMAP3: a
# caller offering RTP/AVP FMT; waits (bounded) for its end, sets uac_rc
uac() {
	"$SIPP" -sf "$SC/$2.xml" -t u1 "$3" -s "$5" -i 127.0.0.1 -p "$4" \
		-m 1 -mp 32100 -d 500 -nostdin -timeout 30s -trace_msg \
		-message_file "$WORK/$1.msg" -key out "$WORK/$1.vars" \
		-key peer_port 31004 -key proto RTP/AVP -key fmt "$6" \
		-key rtpmap "$7" -key sec1 "$8" -key sec2 "$9" \
		> "$WORK/$1.out" 2>&1
	uac_rc=$?
	wait_exit "$uas_pid" 10
	[ "$rc" = timeout ] && kill "$uas_pid" 2>/dev/null
}
offered() { sed -n "s/.*fmts=//p" "$WORK/$1.vars"; }
# the m= line of the 200 OK in a sipp message trace
answer_m() {
	tr -d '\r' < "$WORK/$1.msg" |
		awk '/^SIP\/2.0 200/ { a = 1 } a && /^m=audio/ { print; exit }'
}

# ---- from the peer: PCMU, PCMA and telephone-event offered ----
uas core1 5270 0 "a=rtpmap:0 PCMU/8000"
uac pbx1 sbc_uac_srtp 127.0.0.1:5260 5261 core "0 8 101" \
	"a=rtpmap:0 PCMU/8000" "a=rtpmap:8 PCMA/8000" \
	"a=rtpmap:101 telephone-event/8000"
check "a call from the peer completes (sipp exit $uac_rc)" test "$uac_rc" = 0
t() { offered core1 | grep -Eq "^8 101( |$)"; }
check "the core is offered the peer's PCMA first, then telephone-event ($(offered core1))" t
t() { answer_m pbx1 | grep -Eq '^m=audio [0-9]+ RTP/AVP 8$'; }
check "the core answered PCMU, the peer's answer names PCMA alone ($(answer_m pbx1))" t

# ---- from the peer: PCMU only ----
"$SIPP" -sf "$SC/sbc_uac_srtp_refused.xml" -t u1 127.0.0.1:5260 -s core \
	-i 127.0.0.1 -p 5261 -m 1 -mp 32100 -nostdin -timeout 20s \
	-trace_msg -message_file "$WORK/pbx2.msg" -key peer_port 31004 \
	-key proto RTP/AVP -key fmt 0 -key rtpmap "a=rtpmap:0 PCMU/8000" \
	-key sec1 "a=ptime:20" -key sec2 "a=sendrecv" > "$WORK/pbx2.out" 2>&1
rc=$?
check "an offer with no codec the policy allows gets 488 (sipp exit $rc)" \
	test "$rc" = 0
check "with Warning 305 saying so" \
	grep -q "^Warning: 305 tandem-sbc \"no codec the peer's policy allows" \
	"$WORK/pbx2.msg"

# ---- from the core: PCMU and telephone-event, to the peer ----
uas pbx3 5280 8 "a=rtpmap:8 PCMA/8000"
uac core3 sbc_uac_srtp 127.0.0.1:5275 5271 +442079461234 "0 101" \
	"a=rtpmap:0 PCMU/8000" "a=rtpmap:101 telephone-event/8000" \
	"a=sendrecv"
check "a call from the core to the peer completes (sipp exit $uac_rc)" \
	test "$uac_rc" = 0
t() { [ "$(offered pbx3)" = "8 9 101" ]; }
check "the peer is offered PCMA and G722 (transcoded), telephone-event, no PCMU ($(offered pbx3))" t
t() { answer_m core3 | grep -Eq '^m=audio [0-9]+ RTP/AVP 0$'; }
check "the peer answered PCMA, the core's answer stays PCMU ($(answer_m core3))" t

kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 10
check "the node stops cleanly (rc=$rc)" test "$rc" = 0
[ "$tap_failed" = 0 ] ||
	diag "$WORK/sbc.log" "$WORK/core1.msg" "$WORK/pbx1.msg" "$WORK/pbx3.msg"
finish
