#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Calls both ways through a gateway node, with their audio:
#   sipp + test_mgw_rtp (IMS) <-> gateway (sip, mgcf, mgw, media, pri, sim
#   span 1) <-> E1 cable <-> pbxsim (the PBX, libpri user side)
# A tone sent on one side is heard on the other after transcoding: PCMU
# and G.722 on the SIP side, A-law on the E1. pbxsim's extension 2001
# plays 1300 Hz; test_mgw_rtp plays 1000 Hz.
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"
gw_netns "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"

need_sipp
plan 23

gw_conf "$WORK/gw.conf"
pbx_conf "$WORK/pbx.conf"
if gw_up "$WORK/gw.conf"; then
	pass "a gateway node starts (sim pri sip media mgw mgcf)"
else
	fail "a gateway node starts (sim pri sip media mgw mgcf)"
	diag "$WORK/gw.log"; finish
fi
if pbx_up "$WORK/pbx.conf"; then
	pass "pbxsim on the E1 cable: D-channel up both ends"
else
	fail "pbxsim on the E1 cable: D-channel up both ends"
	diag "$WORK/pbx.out" "$WORK/gw.log"; finish
fi

# ims_call N CODEC PT: IMS calls the PBX's tone extension; sets the
# variables the checks read.
ims_call() {
	n=$1
	rtp_start 40000 "$WORK/rtp$n.out" -c "$2" -t 1000 -m 3500
	uac_run uac_call.xml "$WORK/uac$n.out" +442079462001 \
		-key rtp_port 40000 -key codec "$2" -key pt "$3" -d 4500
	wait "$RTP_PID"
	heard=$(key tone_hz "$WORK/rtp$n.out")
}

lines_before=0
ims_call 1 PCMU 0
check "IMS -> PSTN (PCMU): the call is answered and cleared by BYE" \
	test "$uac_rc" = 0 -a "${uac_ok:-0}" = 1
check "the PBX rang extension 2001 from the caller's national number" \
	grep -q '^ring 2001 2071110000 ' "$WORK/pbx.out"
check "the PBX's 1300 Hz (A-law) is heard in PCMU ($heard Hz)" \
	near "$heard" 1300
check "the IMS side's 1000 Hz (PCMU) is heard on the E1" \
	wait_line "$WORK/pbx.out" '^tone ' 3
t() { near "$(grep '^tone ' "$WORK/pbx.out" | head -n 1 | cut -d' ' -f3)" 1000; }
check "at 1000 Hz" t
check "the PBX saw the call cleared with cause 16" \
	wait_line "$WORK/pbx.out" '^released 16 '

lines_before=$(wc -l < "$WORK/pbx.out")
ims_call 2 G722 9
check "IMS -> PSTN (G.722): answered and cleared" \
	test "$uac_rc" = 0 -a "${uac_ok:-0}" = 1
check "the PBX's 1300 Hz is heard in G.722 ($heard Hz)" near "$heard" 1300
t() {
	hz=$(tail -n +$((lines_before + 1)) "$WORK/pbx.out" |
		grep '^tone ' | head -n 1 | cut -d' ' -f3)
	near "$hz" 1000
}
check "the IMS side's 1000 Hz in G.722 is heard on the E1" t

# The PBX calls out: extension 2001 dials a national number; IMS answers.
lines_before=$(wc -l < "$WORK/pbx.out")
uas_start uas_answer.xml "$WORK/uas3.out" -key rtp_port 40010 \
	-key codec PCMU -key pt 0
rtp_start 40010 "$WORK/rtp3.out" -c PCMU -t 1000 -m 3000
pbx_cmd dial 02079460099 2001
wait "$RTP_PID"
heard=$(key tone_hz "$WORK/rtp3.out")
check "PSTN -> IMS: the PBX's call is answered" \
	wait_line "$WORK/pbx.out" '^answered '
check "the INVITE went to +442079460099 from +442079462001" \
	grep -q 'call [0-9]* from the circuit: +442079462001 -> sip:+442079460099@ims.lab;user=phone' "$WORK/gw.log"
check "the PBX heard ringback toward it (ALERTING with in-band info)" \
	grep -q '^alerting [0-9]* inband' "$WORK/pbx.out"
check "the PBX's 1300 Hz is heard in PCMU on the IMS side ($heard Hz)" \
	near "$heard" 1300
t() {
	hz=$(tail -n +$((lines_before + 1)) "$WORK/pbx.out" |
		grep '^tone ' | grep -v ' 42[0-9] ' | head -n 1 | cut -d' ' -f3)
	near "$hz" 1000
}
check "the IMS side's 1000 Hz is heard on the E1" t
pbx_cmd hangup
wait_exit "$UAS_PID" 10
check "the PBX hangs up: IMS gets a BYE (sipp uas ends well)" \
	test "$rc" = 0
# The PBX calls out again; IMS answers with early media first: a reliable
# 183 with SDP (G.722), PRACKed by the gateway (RFC 3262), its 700 Hz
# heard on the E1 before the answer (4 s later: room for a loaded
# machine), then 200 and the PBX's tone in G.722.
lines_before=$(wc -l < "$WORK/pbx.out")
uas_start uas_early.xml "$WORK/uas4.out" -key rtp_port 40020 \
	-key codec G722 -key pt 9 -d 4000 -trace_msg \
	-message_file "$WORK/early.msg"
pbx_cmd dial 02079460099 2001
# the gateway's RTP address, from its offer: test_mgw_rtp plays to it at
# once (before any packet comes back, as early media must)
gw_rtp=
for _ in $(seq 1 50); do
	gw_rtp=$(sed -n 's/^m=audio \([0-9]*\) .*/\1/p' "$WORK/early.msg" \
		2>/dev/null | head -n 1)
	[ -n "$gw_rtp" ] && break
	sleep 0.1
done
rtp_start 40020 "$WORK/rtp4.out" -c G722 -t 700 -m 6500 \
	-r "127.0.0.1:${gw_rtp:-1}"
wait "$RTP_PID"
pbx_cmd hangup
wait_exit "$UAS_PID" 10
check "PSTN -> IMS with early media: the reliable 183 is PRACKed, the call answered and cleared" \
	test "$rc" = 0
t() {
	tail -n +$((lines_before + 1)) "$WORK/pbx.out" | awk '
		/^answered / { exit 1 }
		/^tone / && $3 >= 685 && $3 <= 715 { found = 1; exit 0 }
		END { exit !found }'
}
check "IMS's early 700 Hz (G.722) is heard on the E1 before the answer" t
check "the PBX was told of in-band information (PROGRESS or ALERTING with PI 8)" \
	sh -c "tail -n +$((lines_before + 1)) '$WORK/pbx.out' |
		grep -q '^progress \|^alerting [0-9]* inband'"
heard=$(key tone_hz "$WORK/rtp4.out")
check "after the answer the PBX's 1300 Hz is heard in G.722 ($heard Hz)" \
	near "$heard" 1300

records() { ctl --json mgw show records | grep -o '"codec"' | wc -l; }
t() {
	for _ in $(seq 1 50); do
		[ "$(records)" = 4 ] && return 0
		sleep 0.1
	done
	return 1
}
check "the gateway keeps a call record per call ($(records))" t
gw_idle
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 10
check "the gateway stops cleanly (rc=$rc)" test "$rc" = 0
if [ "$tap_failed" -gt 0 ]; then
	diag "$WORK/pbx.out"
	for f in "$WORK"/rtp*.out; do diag "$f"; done
	tail -n 30 "$WORK/uac1.out" | diag
	diag "$WORK/gw.log"
fi
finish
