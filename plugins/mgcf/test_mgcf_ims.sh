#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The PBX behind the IMS core: HSS, I-, S- and P-CSCF (plugins/scscf's
# test helpers) and a gateway node (sim pri sip media mgw bgcf mgcf)
# that is the S-CSCF's BGCF, with pbxsim on its E1. A registered IMS UE
# (sipp, AKA) calls a PBX extension through P-CSCF -> S-CSCF -> the
# gateway; a PBX extension calls the UE's number through the gateway ->
# I-CSCF -> S-CSCF -> P-CSCF. Signalling only: the calls' audio is
# checked by test_mgcf_calls.sh.
DIA_SRCDIR="$abs_top_srcdir/plugins/diameter"
SCSCF_SRCDIR="$abs_top_srcdir/plugins/scscf"
if [ ! -f "$SCSCF_SRCDIR/ims_lib.sh" ] || [ ! -f "$DIA_SRCDIR/dia_lib.sh" ]; then
	echo "1..0 # SKIP the IMS core's test helpers are missing"
	exit 0
fi
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SCSCF_SRCDIR/ims_lib.sh"
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"
command -v sipp > /dev/null || { echo "1..0 # SKIP sipp not installed"; exit 0; }
plan 8

# the gateway beside the core: SIP 7060 (the P-CSCF has 5060), calls
# from the circuit to the I-CSCF; it resolves the CSCFs' names (their
# Record-Route) as the lab gateway does
GW_SIP=7060
SCSCF_EXTRA="icscf = sip:icscf.ims.lab:4060
bgcf = sip:127.0.0.1:$GW_SIP
enum_prefixes = +1555"
if ims_core; then pass "HSS, I-, S- and P-CSCF start; Cx is up"; else
	fail "HSS, I-, S- and P-CSCF start; Cx is up"; ims_logs; finish; fi
gw_conf "$WORK/gw.conf"
sed -i -e "s|^sip_next_hop = .*|sip_next_hop = udp:127.0.0.1:4060|" \
	-e "s|^listen = .*|listen = udp:127.0.0.1:$GW_SIP\nhosts = $IMS_HOSTS|" \
	-e "s|^contact = .*|contact = sip:mgcf@127.0.0.1:$GW_SIP|" \
	"$WORK/gw.conf"
pbx_conf "$WORK/pbx.conf"
if start_node "$WORK/gw.conf" "$WORK/gw.log" && pbx_up "$WORK/pbx.conf"; then
	pass "the gateway and its PBX start"
else
	fail "the gateway and its PBX start"; diag "$WORK/gw.log"; finish
fi
hss hss subscriber add alice@ims.lab impu=sip:alice@ims.lab,tel:+15550001 \
	k=$K3 op=$OP3 amf=8000 > /dev/null
hss hss subscriber add bob@ims.lab impu=sip:bob@ims.lab,tel:+15550002 \
	k=$K15 op=$OP15 amf=8000 > /dev/null
s=$(ims_scenario ims-ue-register.xml alice $K3 $OP3)
ims_sipp "$s" 5099 reg-alice && a=0 || a=1
s=$(ims_scenario ims-ue-register.xml bob $K15 $OP15)
ims_sipp "$s" 5098 reg-bob && b=0 || b=1
check "alice and bob register through the P-CSCF" test "$a$b" = 00

# IMS UE -> PBX: alice dials the PBX's extension 2000 (+44 20 7946 2000)
MARK=$(wc -l < "$WORK/pbx.out")
ims_sipp "$SIPP_DIR/ims-uac-call.xml" 5099 to-pbx -key me alice \
	-key target "tel:+442079462000"
check "alice (IMS) calls +442079462000: answered by the PBX and hung up (rc=$?)" \
	test $? = 0
t() {
	tail -n +$((MARK + 1)) "$WORK/pbx.out" | grep -q '^ring 2000 ' &&
		wait_line "$WORK/pbx.out" '^released 16 ' 5
}
check "the PBX rang extension 2000 and the BYE cleared it (cause 16)" t
check "the S-CSCF sent it to the gateway, its BGCF" \
	grep -q 'from IMS: .* -> +442079462000' "$WORK/gw.log"

# PBX -> IMS UE: extension 2001 dials bob's number, 00 1 555 0002
sipp -sf "$SIPP_DIR/ims-uas-call.xml" -i 127.0.0.1 -p 5098 -m 1 -key me bob \
	-timeout 30s -timeout_error -trace_msg -message_file "$WORK/bob.msg" \
	> "$WORK/bob.out" 2>&1 < /dev/null &
BOB=$!
NODE_PIDS="$NODE_PIDS $BOB"
sleep 0.2
MARK=$(wc -l < "$WORK/pbx.out")
pbx_cmd dial 0015550002 2001
t() {
	for _ in $(seq 1 100); do
		tail -n +$((MARK + 1)) "$WORK/pbx.out" | grep -q '^answered ' &&
			return 0
		sleep 0.1
	done
	return 1
}
check "the PBX's call to +15550002 reaches bob through the I-CSCF and is answered" t
pbx_cmd hangup
wait_exit "$BOB" 15
check "the PBX hangs up: bob gets the BYE (rc=$rc)" test "$rc" = 0
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 15
[ "$tap_failed" -gt 0 ] && {
	diag "$WORK/pbx.out"; tail -n 40 "$WORK/gw.log" | diag; ims_logs; }
finish
