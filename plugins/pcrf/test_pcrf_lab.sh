#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A lab call through the IMS core with QoS: the P-CSCF node loads
# rxclient, a PCRF node and a PCEF node (pcef plugin, an IP-CAN session
# for the UEs' address) beside the HSS and the CSCFs; sipp UEs register
# and call. The PCEF receives a QCI 1 rule with PCMU's bandwidth for
# each side of the call and loses it at the BYE; a bearer loss at the
# PCEF tears the next call down (ASR -> the P-CSCF's BYE to both UEs).
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SCSCF_SRCDIR/ims_lib.sh"
. "$PCRF_SRCDIR/pcrf_lib.sh"
command -v sipp > /dev/null || { echo "1..0 # SKIP sipp not installed"; exit 0; }

PCRF_PORT=3880 GW_PORT=3881
dia_certs pcscf.ims.lab pcrf.ims.lab pgw.ims.lab hss.ims.lab icscf.ims.lab \
	scscf.ims.lab
# The HSS and the I-/S-CSCF are other folders' plugins: when they do not
# start (work in progress there) this test has nothing to stand on.
if ! { ims_start_node hss && ims_start_node scscf && ims_start_node icscf; }; then
	echo "1..0 # SKIP the IMS core (hss, scscf, icscf) does not start"
	ims_logs
	exit 0
fi
plan 12
pcrf_node_conf pcrf pcrf.ims.lab $PCRF_PORT "" "pcscf.ims.lab pgw.ims.lab" \
	pcrf > "$WORK/pcrf.conf" <<CONF
[pcrf]
db_path = $WORK/pcrf.db
CONF
pcrf_node_conf gw pgw.ims.lab $GW_PORT "pcrf.ims.lab@127.0.0.1:$PCRF_PORT" \
	"" pcef > "$WORK/gw.conf" <<CONF
[pcef]
pcrf_host = pcrf.ims.lab
CONF
start_node "$WORK/pcrf.conf" "$WORK/pcrf.log" && start_node "$WORK/gw.conf" "$WORK/gw.log"
check "the PCRF and PCEF nodes start" test $? = 0

PCSCF_LOAD="sip diameter pcscf rxclient"
PCSCF_EXTRA="$(dia_section pcscf.ims.lab 3871 "pcrf.ims.lab@127.0.0.1:$PCRF_PORT")
[rxclient]
pcrf_host = pcrf.ims.lab"
if ims_start_node pcscf && dia_wait 20 ims_cx_open; then
	pass "the P-CSCF starts with rxclient, the IMS core is up"
else
	fail "the P-CSCF starts with rxclient, the IMS core is up"
	ims_logs; finish
fi
pcscf_peer() { pcscf diameter show peers | grep -q "^state: *OPEN"; }
check "the P-CSCF is a Diameter peer of the PCRF" dia_wait 15 pcscf_peer

hss hss subscriber add alice@ims.lab impu=sip:alice@ims.lab k=$K3 op=$OP3 \
	amf=8000 > /dev/null
hss hss subscriber add bob@ims.lab impu=sip:bob@ims.lab k=$K15 op=$OP15 \
	amf=8000 > /dev/null
s=$(ims_scenario ims-ue-register.xml alice $K3 $OP3)
ims_sipp "$s" 5099 reg-alice && a=0 || a=1
s=$(ims_scenario ims-ue-register.xml bob $K15 $OP15)
ims_sipp "$s" 5098 reg-bob && b=0 || b=1
check "alice and bob register" test "$a$b" = 00

dia_wait 15 peer_open gw
gw pcef open 127.0.0.1 > /dev/null
opened() { [ "$(gw pcef stats | field opened)" = 1 ]; }
check "the PCEF opens the UEs' IP-CAN session" dia_wait 5 opened

bob() {
	sipp -sf "$SIPP_DIR/$1" -i 127.0.0.1 -p 5098 -m 1 -key me bob \
		-timeout 30s -timeout_error -trace_msg -message_file "$WORK/$2.msg" \
		-trace_err -error_file "$WORK/$2.err" > "$WORK/$2.out" 2>&1 < /dev/null &
	BOB=$!
}
gwstat() { gw pcef stats | field "$1"; }

bob ims-uas-call.xml call-bob
sleep 0.2
ims_sipp "$SIPP_DIR/ims-uac-call.xml" 5099 call -key me alice -key target sip:bob@ims.lab
check "alice calls bob (rc=$?)" test $? = 0
wait_exit $BOB 30
check "bob's side completes (rc=$rc)" test "$rc" = 0
t() { [ "$(grep -c 'UE 127.0.0.1: rule r[0-9]*-1 installed: QCI 1 ARP 2 MBR 80000/80000 GBR 80000/80000' "$WORK/gw.log")" = 2 ]; }
check "the PCEF got a QCI 1 rule at PCMU's bandwidth for each side" t
t() { [ "$(gwstat removed)" = 2 ] && norules 127.0.0.1; }
check "both are removed after the BYE (STR)" dia_wait 5 t

# Bearer loss during the next call: the network hangs up.
bob ims-uas-call.xml lost-bob
sleep 0.2
ims_sipp "$SIPP_DIR/ims-uac-byed.xml" 5099 lost -key me alice -key target sip:bob@ims.lab &
ALICE=$!
t() { [ "$(gwstat installed)" = 4 ]; }
dia_wait 10 t && gw pcef lose 127.0.0.1 > /dev/null
wait_exit $ALICE 30
check "a lost bearer: alice gets a BYE from the network (rc=$rc)" test "$rc" = 0
wait_exit $BOB 30
check "and so does bob (rc=$rc)" test "$rc" = 0
t() { pcscf rxclient show | grep -q '^asr: *2$' && pcscf rxclient show | grep -q '^str: *4$'; }
check "through an ASR for each side, then their STRs" dia_wait 5 t

[ "$tap_failed" = 0 ] || { for f in "$WORK"/*.out "$WORK"/*.err; do diag "$f"; done; ims_logs; pcrf_logs; }
finish
