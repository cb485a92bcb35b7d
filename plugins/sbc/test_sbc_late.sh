#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Late offer (RFC 3261 13.2.1) across the SBC: a sipp caller sends an
# INVITE without SDP; the SBC offers to the core (sipp callee, PCMA only),
# sends the caller a 200 whose SDP is an offer (the core's codec first),
# takes the caller's answer from the ACK; RTP crosses both ways (the media
# channel's counters), BYE. Then an ACK without an answer: BYE both sides,
# and the node keeps serving. Runs in a network namespace of its own;
# every sipp run is bounded (-m, -timeout), every poll loop in count.
. "$abs_top_srcdir/tests/integration/lib.sh"

in_netns "$@"
need_sipp
SC="$SBC_SRCDIR/sipp"
SOCK="$WORK/sbc.sock"
plan 23

cat > "$WORK/sbc.conf" <<CONF
[node]
name = sbc-late
control_socket = $SOCK
log_level = info
[plugins]
load = sip media sbc
[sip]
listen = udp:127.0.0.1:5860
[media]
workers = 1
pin_workers = no
rtp_address = 127.0.0.1
[sbc]
core_next_hop = udp:127.0.0.1:5870
core_domain = 127.0.0.1:5870
CONF

if start_node "$WORK/sbc.conf" "$WORK/sbc.log"; then
	pass "an SBC node starts"
else
	fail "an SBC node starts"; diag "$WORK/sbc.log"; finish
fi
ctl() { "$TANDEMCTL" -s "$SOCK" "$@"; }

# uas NAME [SCENARIO]: the core's callee (PCMA only) on 127.0.0.1:5870,
# one call
uas() {
	rm -f "$WORK/$1.vars"
	"$SIPP" -sf "$SC/${2:-sbc_late_uas}.xml" -t u1 -i 127.0.0.1 -p 5870 -m 1 \
		-mp 32400 -nostdin -timeout 40s -trace_msg \
		-message_file "$WORK/$1.msg" -key out "$WORK/$1.vars" \
		> "$WORK/$1.out" 2>&1 &
	uas_pid=$!
	for _ in $(seq 1 50); do
		grep -q 'Scenario Screen\|Call-rate' "$WORK/$1.out" \
			2>/dev/null && break
		sleep 0.1
	done
}
# uac SCENARIO NAME [ARGS]: a late-offer caller from 127.0.0.1:5861
uac() {
	sf=$1; name=$2; shift 2
	rm -f "$WORK/$name.vars" "$WORK/$name.vars.1xx" "$WORK/$name.vars.re"
	"$SIPP" -sf "$SC/$sf.xml" -t u1 127.0.0.1:5860 -s callee \
		-i 127.0.0.1 -p 5861 -m 1 -mp 32500 -nostdin -timeout 40s \
		-trace_msg -message_file "$WORK/$name.msg" \
		-key out "$WORK/$name.vars" "$@" > "$WORK/$name.out" 2>&1 &
	uac_pid=$!
}
# legs: "rxA txA rxB txB" (packets) of the node's only call's media channel
legs() {
	chan=$(ctl --json sbc show calls |
		sed -n 's/.*"media_channel":\([0-9]*\).*/\1/p' | head -n 1)
	ctl --json media show channel "${chan:-0}" 2>/dev/null |
		grep -o '"leg":"[AB]"[^}]*' |
		sed -n 's/.*"packets_rx":\([0-9]*\),"packets_tx":\([0-9]*\).*/\1 \2/p' |
		tr '\n' ' '
}
# both_ways: every leg received and sent 25 packets or more (bounded)
both_ways() {
	for _ in $(seq 1 40); do
		set -- $(legs)
		[ $# = 4 ] && [ "$1" -ge 25 ] && [ "$2" -ge 25 ] &&
			[ "$3" -ge 25 ] && [ "$4" -ge 25 ] && return 0
		sleep 0.1
	done
	return 1
}
var() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$2" | head -n 1; }

# ---- a late-offer call: offer in the 200, answer in the ACK, RTP ----
uas late-uas
uac sbc_late_uac late-uac -d 5000
check "the core gets the SBC's offer in the INVITE" \
	wait_for "$WORK/late-uas.vars" port=
t() {
	f=" $(sed -n 's/.*fmts=//p' "$WORK/late-uas.vars") "
	case $f in *" 8 "*) ;; *) return 1 ;; esac
	case $f in *" 0 "*) ;; *) return 1 ;; esac
	[ "$(echo $f | wc -w)" -ge 3 ]
}
check "the SBC's offer lists the media service's codecs and telephone-event ($(sed -n 's/.*fmts=//p' "$WORK/late-uas.vars"))" t
check "the caller gets an offer in the 200" \
	wait_for "$WORK/late-uac.vars" port=
t() { grep -q 'fmts=8 ' "$WORK/late-uac.vars"; }
check "the caller's offer has the core's codec first ($(sed -n "s/.*fmts=//p" "$WORK/late-uac.vars"))" t
t() { [ "$(var port "$WORK/late-uac.vars")" != "$(var port "$WORK/late-uas.vars")" ]; }
check "each side sees its own leg's port" t
check "the 183's answer did not reach the caller as SDP" \
	grep -qx '183 type=' "$WORK/late-uac.vars.1xx"
if both_ways; then
	pass "RTP crosses both ways ($(legs))"
else
	fail "RTP crosses both ways ($(legs))"
	tail -n 20 "$WORK/sbc.log" | diag
fi
check "the SBC logged the answer in the ACK" \
	wait_for "$WORK/sbc.log" "answered in the ACK (late offer)"
wait_exit "$uac_pid" 20
check "the caller's call completes with its BYE (sipp exit $rc)" test "$rc" = 0
wait_exit "$uas_pid" 20
check "the core side sees the BYE (sipp exit $rc)" test "$rc" = 0
[ "$rc" = timeout ] && kill "$uas_pid" 2>/dev/null

# ---- an ACK without the answer: BYE both sides ----
uas noans-uas
uac sbc_late_uac_noanswer noans-uac
wait_exit "$uac_pid" 20
check "an ACK without SDP: the caller gets a BYE (sipp exit $rc)" test "$rc" = 0
[ "$rc" = timeout ] && kill "$uac_pid" 2>/dev/null
wait_exit "$uas_pid" 20
check "and the core side gets a BYE (sipp exit $rc)" test "$rc" = 0
[ "$rc" = timeout ] && kill "$uas_pid" 2>/dev/null
check "the SBC logged why" \
	wait_for "$WORK/sbc.log" "the caller's ACK carries no SDP answer"

# ---- an answer with no codec we can relay: BYE both sides ----
uas bad-uas
uac sbc_late_uac_badanswer bad-uac
wait_exit "$uac_pid" 20
check "an unusable answer in the ACK: the caller gets a BYE (sipp exit $rc)" \
	test "$rc" = 0
[ "$rc" = timeout ] && kill "$uac_pid" 2>/dev/null
wait_exit "$uas_pid" 20
check "and the core side gets a BYE (sipp exit $rc)" test "$rc" = 0
[ "$rc" = timeout ] && kill "$uas_pid" 2>/dev/null
check "the SBC logged why" \
	wait_for "$WORK/sbc.log" "the caller's answer in the ACK is unusable"

# ---- the core answers without SDP: 500 to the caller, BYE to the core ----
uas nosdp-uas sbc_late_uas_nosdp
uac sbc_late_uac_refused nosdp-uac
wait_exit "$uac_pid" 20
check "the core's 200 without an answer: the caller gets 500 (sipp exit $rc)" \
	test "$rc" = 0
[ "$rc" = timeout ] && kill "$uac_pid" 2>/dev/null
wait_exit "$uas_pid" 20
check "and the core side gets a BYE (sipp exit $rc)" test "$rc" = 0
[ "$rc" = timeout ] && kill "$uas_pid" 2>/dev/null

# ---- the node keeps serving: one more, with a re-INVITE without SDP ----
uas again-uas
uac sbc_late_uac_reinvite again-uac -d 1000
wait_exit "$uac_pid" 20
check "after it a late-offer call still completes (sipp exit $rc)" \
	test "$rc" = 0
t() {
	[ -n "$(var port "$WORK/again-uac.vars.re")" ] &&
	[ "$(var port "$WORK/again-uac.vars.re")" = "$(var port "$WORK/again-uac.vars")" ]
}
check "a re-INVITE without SDP gets our offer of the same leg ($(cat "$WORK/again-uac.vars.re" 2>/dev/null))" t
check "and is not relayed to the core" \
	sh -c "test \$(grep -c '^INVITE ' '$WORK/again-uas.msg') = 1"
wait_exit "$uas_pid" 20
[ "$rc" = timeout ] && kill "$uas_pid" 2>/dev/null

kill -TERM "$NODE_PID" 2>/dev/null
wait_exit "$NODE_PID" 20
if [ "$rc" = 0 ]; then
	pass "the SBC stops cleanly"
else
	fail "the SBC stops cleanly (exit $rc)"
	tail -n 30 "$WORK/sbc.log" | diag
fi
finish
