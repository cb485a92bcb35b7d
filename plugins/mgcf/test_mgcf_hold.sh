#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Hold and resume from IMS: a re-INVITE with a=sendonly is answered
# a=recvonly (RFC 3264 8.4) and an UPDATE with a=sendrecv (RFC 3311)
# resumes the call; the circuit stays up throughout and the call ends
# with BYE as usual. Session timers (RFC 4028) from IMS: 422, the
# negotiation, a refresh, and the gateway ending a session not refreshed.
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"
gw_netns "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"

need_sipp
plan 15

gw_conf "$WORK/gw.conf"
sed -i 's/^cancel_poll_ms = 100$/&\nmin_se_s = 2/' "$WORK/gw.conf"
pbx_conf "$WORK/pbx.conf"
if gw_up "$WORK/gw.conf" && pbx_up "$WORK/pbx.conf"; then
	pass "gateway and PBX up"
else
	fail "gateway and PBX up"; diag "$WORK/gw.log"; finish
fi

uac_run uac_hold.xml "$WORK/uac.out" +442079462000 -key rtp_port 40040 \
	-key codec PCMA -key pt 8 -d 1000
check "hold (sendonly -> recvonly) and resume (UPDATE, sendrecv) both answered" \
	test "$uac_rc" = 0
check "the gateway answered the re-INVITE" \
	grep -q 'call [0-9]*: INVITE answered' "$WORK/gw.log"
check "and the UPDATE" grep -q 'call [0-9]*: UPDATE answered' "$WORK/gw.log"
n=$(grep -c '^answered ' "$WORK/pbx.out")
check "the PBX answered once and kept the call through hold ($n)" test "$n" = 1

# Session timers (RFC 4028), with a Min-SE of 2 s so that a test can wait
# for an expiry: 422 below it, then a 4 s session refreshed once by an
# UPDATE and left to expire: the gateway's BYE (cause 102).
mark=$(wc -l < "$WORK/pbx.out")
uac_run uac_timer.xml "$WORK/timer.out" +442079462000 -key rtp_port 40042
check "session timers: 422 with Min-SE below it, Require: timer and Session-Expires in the 200 and the UPDATE's 200, the gateway's BYE (cause 102) when no refresh comes" \
	test "$uac_rc" = 0
check "the gateway logged the session's end" \
	grep -q 'no session refresh from IMS in 4 s' "$WORK/gw.log"
check "and cleared the circuit" \
	sh -c "tail -n +$((mark + 1)) '$WORK/pbx.out' | grep -q '^released 102 '"
uac_run uac_timer_uas.xml "$WORK/timer-uas.out" +442079462000 \
	-key rtp_port 40044
check "refresher=uas: the gateway refreshes with an UPDATE at half the interval" \
	test "$uac_rc" = 0

# Calls from the circuit: IMS's 200 asks for a session timer.
scen=$(sipp_template uas_timer.xml WHO=uac UPDATE_OPTIONAL=false \
	"UPDATE_STATUS=200 OK")
uas_start "$scen" "$WORK/uas-timer1.out" -key rtp_port 40046 -trace_msg \
	-message_file "$WORK/uas-timer1.msg"
pbx_cmd dial 02079460099 2000
wait_line "$WORK/uas-timer1.msg" '^UPDATE sip:' 10
pbx_cmd hangup
wait_exit "$UAS_PID" 10
check "from the circuit: INVITE with Supported: timer; IMS's 200 names us the refresher; our UPDATE refreshes" \
	test "$rc" = 0
mark=$(wc -l < "$WORK/pbx.out")
scen=$(sipp_template uas_timer.xml WHO=uas UPDATE_OPTIONAL=true \
	"UPDATE_STATUS=200 OK")
uas_start "$scen" "$WORK/uas-timer2.out" -key rtp_port 40048
pbx_cmd dial 02079460099 2000
wait_exit "$UAS_PID" 15
check "IMS named itself the refresher and did not refresh: our BYE (cause 102)" \
	test "$rc" = 0
t() {
	for _ in $(seq 1 50); do
		tail -n +$((mark + 1)) "$WORK/pbx.out" | grep -q '^released 102 ' &&
			return 0
		sleep 0.1
	done
	return 1
}
check "and the PBX's call is cleared with cause 102" t
mark=$(wc -l < "$WORK/pbx.out")
scen=$(sipp_template uas_timer.xml WHO=uac UPDATE_OPTIONAL=false \
	"UPDATE_STATUS=481 Call Does Not Exist")
uas_start "$scen" "$WORK/uas-timer3.out" -key rtp_port 40050
pbx_cmd dial 02079460099 2000
wait_exit "$UAS_PID" 15
check "our refresh answered 481: the gateway ends the call (BYE)" \
	test "$rc" = 0
t481() { grep -q 'our session refresh got 481' "$WORK/gw.log" && t; }
check "cause 102 on the circuit, and the reason logged" t481

gw_idle
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 15
check "the gateway stops cleanly (rc=$rc)" test "$rc" = 0
[ "$tap_failed" -gt 0 ] && { diag "$WORK/uac.out" "$WORK/pbx.out"; tail -n 60 "$WORK/gw.log" | diag; }
finish
