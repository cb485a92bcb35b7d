#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Real peers through a tandem stateful proxy: sipp uac -> proxy -> sipp uas
# over UDP and TCP, for the flows of contrib/sipp (INVITE/ACK/BYE, 486,
# CANCEL, PRACK with 100rel). Every run is bounded (-m, timeout) and must
# end with zero failed calls. Runs in a network namespace of its own.
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SIP_SRCDIR/test_sip_lib.sh"
in_netns "$@"

need_sipp
SCEN="$abs_top_srcdir/contrib/sipp"
CALLS=20
flows="call busy cancel prack"
plan $((2 + 2 * 4 * 2 + 2))

SOCK="$WORK/proxy.sock"
sip_conf "$WORK/proxy.conf" "$SOCK" 5060 mode=proxy
if start_node "$WORK/proxy.conf" "$WORK/proxy.log"; then
	pass "a stateful proxy node starts"
else
	fail "a stateful proxy node starts"; diag "$WORK/proxy.log"; finish
fi
check "it lists its listeners" sh -c \
	"'$TANDEMCTL' -s '$SOCK' sip show listeners | grep -q 'TCP  *127.0.0.1  *5060'"

# run_flow FLOW u1|t1: a bounded uas and uac; sets uac_rc, ok_calls, bad_calls
run_flow() {
	"$SIPP" -sf "$SCEN/uas_$1.xml" -t "$2" -i 127.0.0.1 -p 5062 -m $CALLS \
		-nostdin -timeout 30s > "$WORK/uas-$1-$2.out" 2>&1 &
	uas=$!
	for _ in $(seq 1 50); do # the uas is listening once it has a screen
		grep -q 'Scenario Screen\|Call-rate' "$WORK/uas-$1-$2.out" 2>/dev/null &&
			break
		sleep 0.1
	done
	"$SIPP" -sf "$SCEN/uac_$1.xml" -t "$2" 127.0.0.1:5062 \
		-rsa 127.0.0.1:5060 -i 127.0.0.1 -p 5061 -m $CALLS -r 50 \
		-nostdin -timeout 30s -trace_err -error_file "$WORK/uac-$1-$2.err" \
		> "$WORK/uac-$1-$2.out" 2>&1
	uac_rc=$?
	ok_calls=$(sed -n 's/^ *Successful call *|.*| *\([0-9]*\) *$/\1/p' \
		"$WORK/uac-$1-$2.out" | tail -n 1)
	bad_calls=$(sed -n 's/^ *Failed call *|.*| *\([0-9]*\) *$/\1/p' \
		"$WORK/uac-$1-$2.out" | tail -n 1)
	wait_exit "$uas" 10
	uas_rc=$rc
	[ "$uas_rc" = timeout ] && kill "$uas" 2>/dev/null
}

for t in u1 t1; do
	proto=UDP
	[ $t = t1 ] && proto=TCP
	for f in $flows; do
		run_flow $f $t
		if [ "$uac_rc" = 0 ] && [ "${ok_calls:-0}" = $CALLS ] &&
		   [ "${bad_calls:-1}" = 0 ]; then
			pass "$f over $proto: $ok_calls calls, 0 failed"
		else
			fail "$f over $proto: uac exit $uac_rc, $ok_calls ok, $bad_calls failed"
			tail -n 20 "$WORK/uac-$f-$t.out" | diag
			[ -f "$WORK/uac-$f-$t.err" ] && head -n 40 "$WORK/uac-$f-$t.err" | diag
		fi
		check "$f over $proto: the uas saw every call end" test "$uas_rc" = 0
	done
done

check "the proxy forwarded statefully" test \
	"$(stat_value "$SOCK" sip.forwarded_stateful)" -gt 0
if stop_node "$NODE_PID" "$WORK/proxy.log"; then
	pass "the proxy stops cleanly"
else
	fail "the proxy stops cleanly"
fi
finish
