#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Hold and resume from IMS: a re-INVITE with a=sendonly is answered
# a=recvonly (RFC 3264 8.4) and an UPDATE with a=sendrecv (RFC 3311)
# resumes the call; the circuit stays up throughout and the call ends
# with BYE as usual.
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"
gw_netns "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"

if [ -z "$SIPP" ] || [ ! -x "$SIPP" ]; then
	echo "1..0 # SKIP sipp not found (Debian package sip-tester)"
	exit 0
fi
plan 6

gw_conf "$WORK/gw.conf"
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
gw_idle
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 15
check "the gateway stops cleanly (rc=$rc)" test "$rc" = 0
[ "$tap_failed" -gt 0 ] && { diag "$WORK/uac.out" "$WORK/pbx.out"; tail -n 60 "$WORK/gw.log" | diag; }
finish
