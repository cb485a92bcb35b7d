#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Digits across the gateway: RFC 4733 events from IMS become Q.23 tones
# on the B-channel (pbxsim detects them), tones from the PBX become RFC
# 4733 events toward IMS (test_mgw_rtp decodes them), and SIP INFO
# (application/dtmf-relay) digits are played in band on the circuit.
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"
gw_netns "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"

need_sipp
plan 7

gw_conf "$WORK/gw.conf"
pbx_conf "$WORK/pbx.conf"
if gw_up "$WORK/gw.conf" && pbx_up "$WORK/pbx.conf"; then
	pass "gateway and PBX up"
else
	fail "gateway and PBX up"; diag "$WORK/gw.log"; finish
fi

# RFC 4733 from IMS -> in band on the E1, and back. The RTP side listens
# 8 s, the call lasts 9: room for the PBX's digits (2.5 s after the
# answer) to come back as events on a slow build.
rtp_start 40000 "$WORK/rtp.out" -c PCMU -d 159# -m 8000
"$SIPP" -sf "$SCEN/uac_call.xml" 127.0.0.1:$GW_SIP -s +442079462000 \
	-i 127.0.0.1 -p $SIPP_UAC -m 1 -nostdin -timeout 30s \
	-key rtp_port 40000 -key codec PCMU -key pt 0 -d 9000 \
	> "$WORK/uac.out" 2>&1 &
UAC=$!
NODE_PIDS="$NODE_PIDS $UAC"
wait_line "$WORK/pbx.out" '^answered ' 10
sleep 2.5
pbx_cmd dtmf 2468
wait "$RTP_PID"
wait_exit "$UAC" 20
check "the call with digits both ways ends well" test "$rc" = 0
got=$(sed -n 's/^dtmf [0-9]* \(.\) .*/\1/p' "$WORK/pbx.out" | tr -d '\n')
check "RFC 4733 digits from IMS are heard in band on the E1 ($got)" \
	test "$got" = "159#"
check "in-band digits from the PBX reach IMS as RFC 4733 ($(key rx_digits "$WORK/rtp.out"))" \
	test "$(key rx_digits "$WORK/rtp.out")" = 2468

# SIP INFO -> in band.
lines=$(wc -l < "$WORK/pbx.out")
uac_run uac_info.xml "$WORK/info.out" +442079462000 -key rtp_port 40010 \
	-key codec PCMA -key pt 8 -d 1500
check "a call with two SIP INFO digits ends well" test "$uac_rc" = 0
got=$(tail -n +$((lines + 1)) "$WORK/pbx.out" |
	sed -n 's/^dtmf [0-9]* \(.\) .*/\1/p' | tr -d '\n')
check "SIP INFO digits are played in band on the E1 ($got)" test "$got" = "7#"
gw_idle
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 15
check "the gateway stops cleanly (rc=$rc)" test "$rc" = 0
[ "$tap_failed" -gt 0 ] && { diag "$WORK/pbx.out" "$WORK/rtp.out"; tail -n 40 "$WORK/gw.log" | diag; }
finish
