#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The P-CSCF's Rx hooks through the "rx" service, with rxtest standing in
# for the PCRF client: a call asks for its resources when it is set up
# (AAR, with both SDPs) and gives them back when it ends (STR), on the
# caller's and the callee's side; a session the PCRF refuses is released
# with a BYE to both UEs. rxtest's table is of a provider built before
# signalling_start: the P-CSCF must not use what `size` leaves out.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SCSCF_SRCDIR/ims_lib.sh"
command -v sipp > /dev/null || { echo "1..0 # SKIP sipp not installed"; exit 0; }
plan 11

PCSCF_LOAD="sip pcscf rxtest"
if ims_core; then pass "the core starts, rxtest beside the P-CSCF"; else
	fail "the core starts, rxtest beside the P-CSCF"; ims_logs; finish; fi
t() { pcscf pcscf show | grep -q 'provider loaded'; }
check "the P-CSCF found the rx service" t
hss hss subscriber add alice@ims.lab impu=sip:alice@ims.lab k=$K3 op=$OP3 \
	amf=8000 > /dev/null
hss hss subscriber add bob@ims.lab impu=sip:bob@ims.lab k=$K15 op=$OP15 \
	amf=8000 > /dev/null
s=$(ims_scenario ims-ue-register.xml alice $K3 $OP3)
ims_sipp "$s" 5099 reg-alice && a=0 || a=1
s=$(ims_scenario ims-ue-register.xml bob $K15 $OP15)
ims_sipp "$s" 5098 reg-bob && b=0 || b=1
check "alice and bob register" test "$a$b" = 00

rxshow() { pcscf rxtest show | awk -v k="$1" '$1 == k":" { print $2 }'; }
t() { [ "$(rxshow beyond_size)" = 0 ] && [ "$(rxshow started)" = 0 ]; }
check "an older provider: no signalling session at registration (size checked)" t
bob() {
	sipp -sf "$SIPP_DIR/$1" -i 127.0.0.1 -p 5098 -m 1 -key me bob \
		-timeout 30s -timeout_error -trace_msg -message_file "$WORK/$2.msg" \
		-trace_err -error_file "$WORK/$2.err" > "$WORK/$2.out" 2>&1 < /dev/null &
	BOB=$!
}

bob ims-uas-call.xml call-bob
sleep 0.2
ims_sipp "$SIPP_DIR/ims-uac-call.xml" 5099 call -key me alice -key target sip:bob@ims.lab
check "alice calls bob (rc=$?)" test $? = 0
wait_exit $BOB 30
check "bob's side completes (rc=$rc)" test "$rc" = 0
t() { [ "$(rxshow started)" = 2 ] && [ "$(rxshow with_sdp)" = 2 ]; }
check "an AAR for each UE's side, with offer and answer" t
t() { [ "$(rxshow ended)" = 2 ] && [ "$(rxshow active)" = 0 ]; }
check "an STR for each when the call ended" dia_wait 5 t

pcscf rxtest refuse yes > /dev/null
bob ims-uas-call.xml refused-bob
sleep 0.2
ims_sipp "$SIPP_DIR/ims-uac-byed.xml" 5099 refused -key me alice -key target sip:bob@ims.lab
check "a refused session: alice gets a BYE after the 200 (rc=$?)" test $? = 0
wait_exit $BOB 30
check "and so does bob (rc=$rc)" test "$rc" = 0
t() { [ "$(rxshow active)" = 0 ] && [ "$(rxshow ended)" = 4 ]; }
check "both sessions ended (STR)" dia_wait 5 t

[ "$tap_failed" = 0 ] || { for f in "$WORK"/*.out "$WORK"/*.err; do diag "$f"; done; ims_logs; }
finish
