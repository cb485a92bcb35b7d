#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Forking through the proxy core (sip->proxy_fork(), RFC 3261 16.5-16.8)
# with real peers: a proxy node whose siptest handler forks INVITEs to
# sipp callees named in the Request-URI (par-/ser-/rec-PORT-PORT...).
# Parallel: the best response wins, a 2xx cancels the other branches, a
# 6xx cancels them too and is what the caller gets; serial: the next
# target only after a failure; 3xx recursion; a caller's CANCEL reaches
# every branch; Timer C cancels a branch that rings too long. Runs in a network namespace of its own.
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SIP_SRCDIR/test_sip_lib.sh"
in_netns "$@"

need_sipp
plan 24
SCEN="$abs_top_srcdir/contrib/sipp"
PP=26200 PC=26201 U1=26211 U2=26212 U3=26213 U4=26214 U5=26215

sip_conf "$WORK/p.conf" "$WORK/p.sock" $PP mode=proxy timer_c_ms=1500
sed -i 's/^load = sip$/load = sip siptest/' "$WORK/p.conf"
printf '[siptest]\nanswer = fork\n' >> "$WORK/p.conf"
if start_node "$WORK/p.conf" "$WORK/p.log"; then
	pass "a forking proxy starts"
else
	fail "a forking proxy starts"; diag "$WORK/p.log"; finish
fi
P=$NODE_PID

# callee NAME SCENARIO PORT [SIPP-ARGS...]: one bounded sipp call, waiting
callee() {
	name=$1 scen=$2 port=$3
	shift 3
	"$SIPP" -sf "$SCEN/$scen.xml" -t u1 -i 127.0.0.1 -p "$port" -m 1 \
		-nostdin -timeout 20s "$@" > "$WORK/$name.out" 2>&1 &
	eval "pid_$name=\$!"
	for _ in $(seq 1 50); do
		grep -q 'Scenario Screen\|Call-rate' "$WORK/$name.out" \
			2>/dev/null && break
		sleep 0.1
	done
}
# callee_ok NAME: that callee's call went to its end
callee_ok() {
	eval "p=\$pid_$1"
	wait_exit "$p" 20
	[ "$rc" = timeout ] && kill "$p" 2>/dev/null
	test "$rc" = 0
}
# caller SCENARIO SERVICE: one call to the proxy; sets caller_rc
caller() {
	"$SIPP" -sf "$SCEN/$1.xml" -t u1 127.0.0.1:$PP -s "$2" -i 127.0.0.1 \
		-p $PC -m 1 -nostdin -timeout 20s > "$WORK/caller-$2.out" 2>&1
	caller_rc=$?
	[ "$caller_rc" = 0 ] || tail -n 15 "$WORK/caller-$2.out" | diag
}
invites() { stat_value "$WORK/p.sock" sip.tx_invite; }

# parallel: 486 and 200, the 200 wins
callee busy1 uas_busy $U1
callee call2 uas_call $U2
caller uac_call "par-$U1-$U2"
check "parallel: a 486 and a 200, the caller gets the 200 (and ACK, BYE)" \
	test "$caller_rc" = 0
check "parallel: the busy branch was ACKed" callee_ok busy1
check "parallel: the answering branch was ACKed and hung up" callee_ok call2

# parallel: a 2xx cancels the branch still ringing (16.7 step 10)
callee call2 uas_call $U2
callee ring3 uas_cancel $U3
caller uac_call "par-$U2-$U3"
check "parallel: a 200 while another branch rings: the call completes" \
	test "$caller_rc" = 0
check "parallel: the ringing branch was CANCELled" callee_ok ring3
check "parallel: the answering branch ended normally" callee_ok call2

# serial: the second target only after the first failed
before=$(invites)
callee busy1 uas_busy $U1
callee call2 uas_call $U2
caller uac_call "ser-$U1-$U2"
check "serial: 486 from the first target, then the second answers" \
	test "$caller_rc" = 0
callee_ok busy1
callee_ok call2
check "serial: both targets were tried" test "$(invites)" = $((before + 2))
before=$(invites)
callee call2 uas_call $U2
caller uac_call "ser-$U2-$U1"
callee_ok call2
check "serial: the first target answers" test "$caller_rc" = 0
check "serial: the second target never got the INVITE" \
	test "$(invites)" = $((before + 1))

# 6xx: the others are cancelled and the caller gets the 6xx
callee decline4 uas_decline $U4
callee ring3 uas_cancel $U3
caller uac_decline "par-$U4-$U3"
check "6xx: the caller gets the 603 though another branch rang" \
	test "$caller_rc" = 0
check "6xx: the ringing branch was CANCELled" callee_ok ring3
check "6xx: the declining branch was ACKed" callee_ok decline4

# 3xx recursion: the Contact of a 302 is tried instead
callee moved5 uas_redirect $U5 -key redirect_port $U2
callee call2 uas_call $U2
caller uac_call "rec-$U5"
check "3xx: the proxy recursed to the 302's Contact, the call completes" \
	test "$caller_rc" = 0
check "3xx: the redirecting callee got its ACK" callee_ok moved5
check "3xx: the Contact answered and hung up" callee_ok call2

# the caller CANCELs: every ringing branch gets its CANCEL (16.10)
callee ring3 uas_cancel $U3
callee ring4 uas_cancel $U4
caller uac_cancel "par-$U3-$U4"
check "CANCEL of a forked INVITE: the caller gets 200 and 487" \
	test "$caller_rc" = 0
check "CANCEL of a forked INVITE: the first branch was CANCELled" \
	callee_ok ring3
check "CANCEL of a forked INVITE: the second branch was CANCELled" \
	callee_ok ring4

# Timer C (16.8): ringing past timer_c_ms gets the branch CANCELled
callee ring3 uas_cancel $U3
caller uac_487 "par-$U3"
check "Timer C: the caller gets 487 after the proxy gave up" \
	test "$caller_rc" = 0
check "Timer C: the ringing callee got the proxy's CANCEL" callee_ok ring3
check "Timer C: the proxy logged why" grep -q 'Timer C' "$WORK/p.log"

stop_node "$P" "$WORK/p.log"
check "the proxy stops cleanly" test "$rc" = 0
finish
