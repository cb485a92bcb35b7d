#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The gateway's harder cases, against sipp (IMS) and pbxsim (the PBX on
# two E1 cables): the Q.850 <-> SIP table both ways with Reason (RFC
# 3326), no answer, early media with PRACK (RFC 3262), CANCEL, overlap
# dialling (digits and the inter-digit timer), all channels busy (503,
# cause 34), a span alarm mid-call and new calls on the other span,
# RESTART from the far end, glare (Q.931 5.7), presentation restricted.
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"
gw_netns "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"

need_sipp

# Q.850 cause from the PBX -> the SIP status the caller gets (RFC 3398
# 7.2.4.1), and SIP status from IMS -> the cause the PBX gets (8.2.6.1).
TO_SIP="1:404 17:486 19:480 21:403 27:502 28:484 34:503 38:503 41:503 88:503 102:504 127:500"
TO_Q850="404:1 486:17 480:18 403:21 484:28 503:41 408:102 603:21 500:41"
plan 49

gw_conf "$WORK/gw.conf"
gw_two_spans "$WORK/gw.conf"
pbx_conf "$WORK/pbx.conf"
pbx_two_spans "$WORK/pbx.conf"
if gw_up "$WORK/gw.conf"; then
	pass "a gateway with two spans in its trunk starts"
else
	fail "a gateway with two spans in its trunk starts"
	diag "$WORK/gw.log"; finish
fi
if pbx_up "$WORK/pbx.conf"; then
	pass "the PBX brings both D-channels up"
else
	fail "the PBX brings both D-channels up"
	diag "$WORK/pbx.out" "$WORK/gw.log"; finish
fi

MARK=0
mark() { MARK=$(wc -l < "$WORK/pbx.out"); }
since() { tail -n +$((MARK + 1)) "$WORK/pbx.out"; }
# wait_since PATTERN [TENTHS]: bounded wait for a new line of the PBX.
wait_since() {
	for _ in $(seq 1 "${2:-100}"); do
		since | grep -q "$1" && return 0
		sleep 0.1
	done
	return 1
}
uac_ok_all() { test "$uac_rc" = 0 -a "${uac_ok:-0}" = "${1:-1}"; }

# ---- Q.850 -> SIP: the PBX refuses with a cause ------------------------------
for pair in $TO_SIP; do
	cause=${pair%%:*} status=${pair#*:}
	scen=$(sipp_template uac_status.xml STATUS=$status CAUSE=$cause)
	uac_run "$scen" "$WORK/cause$cause.out" \
		"+4420794679$(printf %03d "$cause")"
	check "cause $cause from the PBX -> $status with Reason cause=$cause" \
		uac_ok_all
done

# ---- SIP -> Q.850: IMS refuses the PBX's call --------------------------------
for pair in $TO_Q850 "486:19"; do
	status=${pair%%:*} cause=${pair#*:}
	reason=""
	[ "$pair" = "486:19" ] && reason='Reason: Q.850;cause=19;text="x"'
	scen=$(sipp_template uas_status.xml STATUS=$status "REASON=$reason")
	uas_start "$scen" "$WORK/uas$status.out"
	mark
	pbx_cmd dial 02079460099 2000
	got=no
	wait_since "^released " && since | grep -q "^released $cause " && got=yes
	wait_exit "$UAS_PID" 10
	if [ -n "$reason" ]; then
		check "$status with Reason cause=19 -> the PBX gets 19 (Reason wins)" \
			test $got = yes
	else
		check "$status from IMS -> the PBX gets cause $cause" test $got = yes
	fi
done

# ---- No answer --------------------------------------------------------------------
scen=$(sipp_template uac_status.xml STATUS=480 CAUSE=19)
uac_run "$scen" "$WORK/noanswer.out" +442079462003
check "no answer (pri noanswer_ms): 480 with cause 19" uac_ok_all

# ---- Early media with PRACK, then CANCEL -------------------------------------------
mark
rtp_start 40050 "$WORK/rtp-early.out" -c PCMU -m 2000
uac_run uac_prack.xml "$WORK/prack.out" +442079462007 -key rtp_port 40050 \
	-d 2500
wait "$RTP_PID"
check "a reliable 183 with SDP, PRACKed, then CANCEL: sipp is content" \
	uac_ok_all
check "the early media carries the PBX's in-band tone: 700 Hz ($(key tone_hz "$WORK/rtp-early.out") Hz)" \
	near "$(key tone_hz "$WORK/rtp-early.out")" 700
check "the CANCEL clears the PBX's call with cause 16" \
	wait_since '^released 16 '

# ---- Overlap dialling into the gateway -----------------------------------------------
scen=$(sipp_template uas_status.xml STATUS=486 REASON=)
uas_start "$scen" "$WORK/uas-ov1.out"
mark
pbx_cmd dial 020 2000 overlap
wait_since '^setup_ack ' 50
pbx_cmd info 79460099
check "overlap: the gateway asks for more digits (SETUP ACKNOWLEDGE)" \
	since | grep -q '^setup_ack '
check "the digits complete the number (11 with the trunk's rules): INVITE to +442079460099" \
	wait_line "$WORK/gw.log" 'from the circuit: +442079462000 -> sip:+442079460099@' 5
wait_since '^released 17 ' 50
wait_exit "$UAS_PID" 10
scen=$(sipp_template uas_status.xml STATUS=486 REASON=)
uas_start "$scen" "$WORK/uas-ov2.out"
mark
pbx_cmd dial 020794 2000 overlap
wait_since '^setup_ack ' 50
pbx_cmd info 6009
check "fewer digits: the inter-digit timer ends the number: INVITE to +44207946009" \
	wait_line "$WORK/gw.log" 'from the circuit: +442079462000 -> sip:+44207946009@' 5
check "and the call gets IMS's answer (busy, 17)" wait_since '^released 17 ' 50
wait_exit "$UAS_PID" 10

# ---- All channels busy: three ringing calls hold spans 1 (2) and 2 (1) ------------
# (They ring 4.5 s, under noanswer_ms: room for the fourth call on a slow build.)
mark
"$SIPP" -sf "$SCEN/uac_cancel.xml" 127.0.0.1:$GW_SIP -s +442079462003 \
	-i 127.0.0.1 -p 5063 -m 3 -l 3 -r 10 -d 4500 -nostdin -timeout 30s \
	> "$WORK/ringing.out" 2>&1 &
RINGING=$!
NODE_PIDS="$NODE_PIDS $RINGING"
t() {
	for _ in $(seq 1 50); do
		[ "$(ctl mgcf show calls | grep -c 'O_ALERTING')" = 3 ] && return 0
		sleep 0.1
	done
	return 1
}
check "three calls ring on the trunk's three B-channels" t
scen=$(sipp_template uac_status.xml STATUS=503 CAUSE=34)
uac_run "$scen" "$WORK/allbusy.out" +442079462000
check "a fourth call: 503 with Reason cause=34" uac_ok_all
wait_exit "$RINGING" 25
check "the three ringing calls are cancelled cleanly" test "$rc" = 0
t() {
	for _ in $(seq 1 50); do
		[ "$(since | grep -c '^released 31 ')" = 3 ] && return 0
		sleep 0.1
	done
	return 1
}
check "each CANCEL's Reason cause (31) reaches the PBX" t
check "the sip service told the MGCF of each CANCEL (no poll)" \
	sh -c "! grep -q 'cannot tell of CANCELs' '$WORK/gw.log' &&
		[ \$(grep -c 'cancelled by IMS, cause 31' '$WORK/gw.log') = 3 ]"

# ---- RESTART from the far end ----------------------------------------------------------
scen=$(sipp_template uac_byewait.xml CAUSE=41)
mark
"$SIPP" -sf "$scen" 127.0.0.1:$GW_SIP -s +442079462000 -i 127.0.0.1 \
	-p $SIPP_UAC -m 1 -nostdin -timeout 30s > "$WORK/restart.out" 2>&1 &
RESTART=$!
NODE_PIDS="$NODE_PIDS $RESTART"
wait_since '^answered [0-9]* answer 1' 50
chan=$(since | sed -n 's/^answered \([0-9]*\) answer 1.*/\1/p' | head -n 1)
pbx_cmd restart 1 "${chan:-1}"
wait_exit "$RESTART" 15
check "RESTART of the call's B-channel from the PBX: BYE with cause 41" \
	test "$rc" = 0
check "the gateway saw the RESTART" wait_line "$WORK/gw.log" 'RESTART of'

# ---- Glare -----------------------------------------------------------------------------
scen=$(sipp_template uas_status.xml STATUS=486 REASON=)
uas_start "$scen" "$WORK/uas-glare.out"
mark
pbx_cmd glare 02079460099 2000 chan=1
wait_since '^glare armed' 20
uac_run uac_call.xml "$WORK/glare.out" +442079462000 -key rtp_port 40060 \
	-key codec PCMA -key pt 8 -d 500
check "glare: both SETUPs crossed on chan 1" \
	sh -c "tail -n +$((MARK + 1)) '$WORK/pbx.out' | grep -q '^glare: our SETUP'"
check "the network side's call (from IMS) wins and completes" uac_ok_all
check "the PBX's own call is refused or moved, never both on chan 1" \
	sh -c "tail -n +$((MARK + 1)) '$WORK/pbx.out' | grep -q '^released 44 \|^released 17 \|^released 34 '"
kill "$UAS_PID" 2>/dev/null

# ---- Presentation restricted ---------------------------------------------------------------
uas_start uas_answer.xml "$WORK/uas-priv.out" -key rtp_port 40070 \
	-key codec PCMA -key pt 8 -trace_msg -message_file "$WORK/priv.msg"
mark
pbx_cmd dial 02079460099 2001 restricted
wait_since '^answered ' 50
pbx_cmd hangup
wait_exit "$UAS_PID" 10
t() {
	grep -q '^From: "Anonymous" <sip:anonymous@anonymous.invalid>' "$WORK/priv.msg" &&
	grep -q '^Privacy: id' "$WORK/priv.msg" &&
	grep -q '^P-Asserted-Identity: <sip:+442079462001@ims.lab;user=phone>' "$WORK/priv.msg"
}
check "a restricted number: From anonymous, Privacy: id, the number in P-Asserted-Identity" t
check "the state table refused no move" sh -c "! grep -q 'refused by the state table' '$WORK/gw.log'"

# ---- A span alarm mid-call ----------------------------------------------------------
scen=$(sipp_template uac_byewait.xml CAUSE=38)
mark
"$SIPP" -sf "$scen" 127.0.0.1:$GW_SIP -s +442079462000 -i 127.0.0.1 \
	-p $SIPP_UAC -m 1 -nostdin -timeout 30s > "$WORK/alarm.out" 2>&1 &
ALARM=$!
NODE_PIDS="$NODE_PIDS $ALARM"
wait_since '^answered [0-9]* answer 1' 50
# the PBX's CONNECT may still be on the cable: the fault waits until the
# gateway has it (else the call ends unanswered, which is not this case)
t() {
	for _ in $(seq 1 50); do
		ctl mgcf show calls | grep -q 'O_ANSWERED\|ACTIVE' && return 0
		sleep 0.1
	done
	return 1
}
t
ctl span fault 1 los > /dev/null
wait_exit "$ALARM" 15
check "LOS on span 1 mid-call: IMS gets a BYE with Reason cause=38" \
	test "$rc" = 0
mark
scen=$(sipp_template uac_status.xml STATUS=486 CAUSE=17)
uac_run "$scen" "$WORK/other-span.out" +442079462004
check "a new call while span 1 is down goes to span 2" \
	sh -c "tail -n +$((MARK + 1)) '$WORK/pbx.out' | grep -q '^ring 2004 [0-9]* 1 2 '"
ctl span fault 1 clear > /dev/null
t() {
	for _ in $(seq 1 150); do
		[ "$(ctl --json pri show spans | grep -o '"dchan":"up"' | wc -l)" = 2 ] && return 0
		sleep 0.1
	done
	return 1
}
check "span 1 comes back when the fault clears" t

# ---- BYEs that cross: IMS answers our BYE after the call is gone --------------
uas_start uas_byecross.xml "$WORK/uas-cross.out" -key rtp_port 40080 \
	-key codec PCMA -key pt 8
mark
pbx_cmd dial 02079460099 2000 span=2
wait_since '^answered ' 50
pbx_cmd hangup
wait_exit "$UAS_PID" 10
check "crossing BYEs: IMS's BYE is answered, then its late 200 to ours" \
	test "$rc" = 0
t() {
	for _ in $(seq 1 100); do
		ctl --json mgcf show calls > "$WORK/calls.json" || return 1
		grep -q '"call"' "$WORK/calls.json" || return 0
		sleep 0.1
	done
	return 1
}
check "the gateway lives on with no call left" t

gw_idle
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 15
check "the gateway stops cleanly (rc=$rc)" test "$rc" = 0
if [ "$tap_failed" -gt 0 ]; then
	diag "$WORK/pbx.out"
	for f in "$WORK"/*.out.err; do [ -s "$f" ] && tail -n 20 "$f" | diag; done
	tail -n 150 "$WORK/gw.log" | diag
fi
finish
