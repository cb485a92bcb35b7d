#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# sipp uac (access realm) -> tandem SBC -> sipp uas (core realm): calls
# cross as a new dialog, and nothing of the access side (its Call-ID, tags,
# port, Contact) reaches the core side. Then a flood from a second source
# address while legitimate calls run: the flood meets 503s, every
# legitimate call completes. Runs in a network namespace of its own; every
# sipp run is bounded (-m, -timeout).
. "$abs_top_srcdir/tests/integration/lib.sh"

in_netns "$@"
need_sipp
SCEN="$abs_top_srcdir/contrib/sipp"
SOCK="$WORK/sbc.sock"
CALLS=20
plan 13

cat > "$WORK/sbc.conf" <<CONF
[node]
name = sbc-test
control_socket = $SOCK
log_level = info
[plugins]
load = sip media sbc
[sip]
listen = udp:127.0.0.1:5060
[media]
workers = 1
pin_workers = no
rtp_address = 127.0.0.1
[sbc]
core_next_hop = udp:127.0.0.1:5070
core_domain = 127.0.0.1:5070
rate_per_s = 40
burst = 40
; the flood from 127.0.0.2 is no peer: refused before any call exists
[sbc-peer local]
address = 127.0.0.1
CONF

if start_node "$WORK/sbc.conf" "$WORK/sbc.log"; then
	pass "an SBC node starts"
else
	fail "an SBC node starts"; diag "$WORK/sbc.log"; finish
fi

# start_uas FLOW [ARGS...]: a sipp uas of the core realm on 127.0.0.1:5070
start_uas() {
	f=$1
	shift
	sf="$SCEN/uas_$f.xml"
	[ "$f" = early ] && sf="$SBC_SRCDIR/sipp/sbc_uas_early.xml"
	"$SIPP" -sf "$sf" -t u1 -i 127.0.0.1 -p 5070 \
		-nostdin -timeout 60s -trace_msg \
		-message_file "$WORK/uas-$f.msg" "$@" \
		> "$WORK/uas-$f.out" 2>&1 &
	uas=$!
	for _ in $(seq 1 50); do
		grep -q 'Scenario Screen\|Call-rate' "$WORK/uas-$f.out" \
			2>/dev/null && break
		sleep 0.1
	done
}

# run_uac FLOW NAME IP COUNT RATE: a bounded sipp uac of the access realm
# towards the SBC; sets uac_rc, ok_calls, bad_calls
run_uac() {
	sf="$SCEN/uac_$1.xml"
	[ -f "$SBC_SRCDIR/sipp/sbc_uac_$1.xml" ] && sf="$SBC_SRCDIR/sipp/sbc_uac_$1.xml"
	"$SIPP" -sf "$sf" -t u1 127.0.0.1:5060 -s callee \
		-i "$3" -p 5061 -m "$4" -r "$5" -nostdin -timeout 60s \
		-trace_msg -message_file "$WORK/uac-$2.msg" \
		> "$WORK/uac-$2.out" 2>&1
	uac_rc=$?
	ok_calls=$(sed -n 's/^ *Successful call *|.*| *\([0-9]*\) *$/\1/p' \
		"$WORK/uac-$2.out" | tail -n 1)
	bad_calls=$(sed -n 's/^ *Failed call *|.*| *\([0-9]*\) *$/\1/p' \
		"$WORK/uac-$2.out" | tail -n 1)
}

# ---- INVITE/180/200/ACK/BYE across the SBC ----
start_uas call -m $CALLS
run_uac call call 127.0.0.1 $CALLS 20
if [ "$uac_rc" = 0 ] && [ "${ok_calls:-0}" = $CALLS ] &&
   [ "${bad_calls:-1}" = 0 ]; then
	pass "calls cross the SBC: $ok_calls calls, 0 failed"
else
	fail "calls cross the SBC: uac exit $uac_rc, $ok_calls ok, $bad_calls failed"
	tail -n 20 "$WORK/uac-call.out" | diag
	tail -n 20 "$WORK/sbc.log" | diag
fi
wait_exit "$uas" 20
check "the core side saw every call end" test "$rc" = 0
[ "$rc" = timeout ] && kill "$uas" 2>/dev/null

# What the uas received must carry nothing of the access side: sipp's
# uac uses port 5061 (matched as ":5061": random tokens may hold the
# digits), Call-IDs "N-PID@...", From tags "PIDTN".
uac_pid_tag=$(sed -n 's/^From: .*;tag=\([0-9]*\)T.*/\1/p' \
	"$WORK/uac-call.msg" | head -n 1)
check "the uac's messages were traced" test -n "$uac_pid_tag"
check "no access port (5061) reaches the core side" \
	sh -c "! grep -q ':5061' '$WORK/uas-call.msg'"
# (as sipp writes them: the bare PID also turns up in the trace's
# microseconds and in our random hex now and then)
check "no access Call-ID or tag reaches the core side" \
	sh -c "! grep -q -e '-${uac_pid_tag:-none}@' -e '${uac_pid_tag:-none}T[0-9]' '$WORK/uas-call.msg'"
check "the core side sees the SBC's Contact" \
	grep -q 'Contact: <sip:127.0.0.1:5060>' "$WORK/uas-call.msg"
check "no core port (5070) reaches the access side in headers" \
	sh -c "! grep -i '^\(contact\|record-route\|via\):.*:5070' '$WORK/uac-call.msg'"

# ---- 180, then 183 with SDP: both reach the caller (early media) ----
start_uas early -m 2
run_uac early early 127.0.0.1 2 10
check "a 183 with SDP after the 180 reaches the caller: ${ok_calls:-0} of 2" \
	test "${ok_calls:-0}" = 2 -a "${bad_calls:-1}" = 0
wait_exit "$uas" 20
[ "$rc" = timeout ] && kill "$uas" 2>/dev/null

# ---- 486 Busy Here goes back end to end ----
start_uas busy -m 5
run_uac busy busy 127.0.0.1 5 10
check "486 from the core reaches the caller: ${ok_calls:-0} of 5" \
	test "${ok_calls:-0}" = 5 -a "${bad_calls:-1}" = 0
wait_exit "$uas" 20
[ "$rc" = timeout ] && kill "$uas" 2>/dev/null

# ---- a flood from 127.0.0.2 while legitimate calls run from 127.0.0.1 ----
start_uas call
"$SIPP" -sf "$SCEN/uac_call.xml" -t u1 127.0.0.1:5060 -s callee \
	-i 127.0.0.2 -p 5061 -m 600 -r 400 -l 600 -nostdin -timeout 20s \
	> "$WORK/uac-flood.out" 2>&1 &
flood=$!
run_uac call legit 127.0.0.1 $CALLS 10
check "legitimate calls complete during a flood: ${ok_calls:-0} of $CALLS" \
	test "${ok_calls:-0}" = $CALLS -a "${bad_calls:-1}" = 0
wait_exit "$flood" 30
[ "$rc" = timeout ] && kill "$flood" 2>/dev/null
limited=$("$TANDEMCTL" -s "$SOCK" --json show stats | tr '{' '\n' |
	sed -n 's/^"counter":"sbc.rate_limited","value":\([0-9]*\).*/\1/p')
check "the flooding source met 503s (${limited:-0})" test "${limited:-0}" -gt 0
kill "$uas" 2>/dev/null
wait "$uas" 2>/dev/null

kill -TERM "$NODE_PID" 2>/dev/null
wait_exit "$NODE_PID" 20
if [ "$rc" = 0 ]; then
	pass "the SBC stops cleanly"
else
	fail "the SBC stops cleanly (exit $rc)"
	tail -n 30 "$WORK/sbc.log" | diag
fi
finish
