#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A lab call through the IMS core with QoS: the P-CSCF node loads
# rxclient, a PCRF node and a PCEF node (pcef plugin, an IP-CAN session
# for the UEs' address) beside the HSS and the CSCFs; sipp UEs register
# and call. Each registration opens an AF signalling session (QCI 5
# rule) bound to the IP-CAN session, ended at de-registration. The PCEF
# receives a QCI 1 rule with PCMU's bandwidth for each side of the call;
# the caller's hold (re-INVITE, a=sendonly) modifies its rule to uplink
# only; the BYE removes both; a bearer loss at the PCEF tears the next
# call down (ASR -> the P-CSCF's BYE to both UEs).
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
plan 19
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

# The UEs attach (IP-CAN session) before they register.
dia_wait 15 peer_open gw
gw pcef open 127.0.0.1 > /dev/null
opened() { [ "$(gw pcef stats | field opened)" = 1 ]; }
check "the PCEF opens the UEs' IP-CAN session" dia_wait 5 opened

hss hss subscriber add alice@ims.lab impu=sip:alice@ims.lab k=$K3 op=$OP3 \
	amf=8000 > /dev/null
hss hss subscriber add bob@ims.lab impu=sip:bob@ims.lab k=$K15 op=$OP15 \
	amf=8000 > /dev/null
s=$(ims_scenario ims-ue-register.xml alice $K3 $OP3)
ims_sipp "$s" 5099 reg-alice && a=0 || a=1
s=$(ims_scenario ims-ue-register.xml bob $K15 $OP15)
ims_sipp "$s" 5098 reg-bob && b=0 || b=1
check "alice and bob register" test "$a$b" = 00

# rx sessions of a subscriber, bound to a Gx session, in `pcrf show sessions`
rxbound() { pcrf pcrf show sessions | awk -v ue="$1" '
	$2 == "rx" && $4 == ue && $5 ~ /^gx=./ { n++ } END { print n + 0 }'; }
t() { [ "$(rxbound sip:alice@ims.lab)" = 1 ] && [ "$(rxbound sip:bob@ims.lab)" = 1 ]; }
check "each registration has its signalling session, bound to the IP-CAN session" dia_wait 10 t
qcis() { rules_of 127.0.0.1 | grep -c "\"qci\": *$1[,}]"; }
t() { [ "$(qcis 5)" = 2 ]; }
check "the PCEF holds a QCI 5 rule for each UE's signalling" dia_wait 5 t

bob() {
	sipp -sf "$1" -i 127.0.0.1 -p 5098 -m 1 -key me bob \
		-timeout 30s -timeout_error -trace_msg -message_file "$WORK/$2.msg" \
		-trace_err -error_file "$WORK/$2.err" > "$WORK/$2.out" 2>&1 < /dev/null &
	BOB=$!
}
gwstat() { gw pcef stats | field "$1"; }

bob "$PCRF_SRCDIR/sipp/ims-uas-hold.xml" call-bob
sleep 0.2
ims_sipp "$PCRF_SRCDIR/sipp/ims-uac-hold.xml" 5099 call -key me alice -key target sip:bob@ims.lab
check "alice calls bob and holds the call (rc=$?)" test $? = 0
wait_exit $BOB 30
check "bob's side completes (rc=$rc)" test "$rc" = 0
t() { [ "$(grep -c 'UE 127.0.0.1: rule r[0-9]*-1 installed: QCI 1 ARP 2 MBR 80000/80000 GBR 80000/80000 flow-status 2' "$WORK/gw.log")" -ge 2 ]; }
check "the PCEF got a QCI 1 rule at PCMU's bandwidth for each side" t
# TS 29.214 B.1: the caller sends only (a=sendonly): Flow-Status ENABLED-UPLINK (0)
t() { grep -q 'UE 127.0.0.1: rule r[0-9]*-1 installed: QCI 1 .* flow-status 0,' "$WORK/gw.log"; }
check "the hold (re-INVITE) modifies alice's rule to uplink only" t
t() { [ "$(gwstat removed)" = 2 ] && [ "$(qcis 1)" = 0 ] && [ "$(qcis 5)" = 2 ]; }
check "both call rules are removed after the BYE (STR), signalling stays" dia_wait 5 t

# De-registration ends the signalling sessions (STR): their rules go.
s=$(ims_scenario ims-ue-deregister.xml alice $K3 $OP3)
ims_sipp "$s" 5099 dereg-alice && a=0 || a=1
s=$(ims_scenario ims-ue-deregister.xml bob $K15 $OP15)
ims_sipp "$s" 5098 dereg-bob && b=0 || b=1
check "alice and bob de-register" test "$a$b" = 00
t() { [ "$(rxbound sip:alice@ims.lab)" = 0 ] && [ "$(rxbound sip:bob@ims.lab)" = 0 ]; }
check "their signalling sessions are gone from the PCRF" dia_wait 10 t
t() { norules 127.0.0.1; }
check "and the PCEF holds no rule for them" dia_wait 5 t

# Registered again (new signalling sessions) for the next call.
s=$(ims_scenario ims-ue-register.xml alice $K3 $OP3)
ims_sipp "$s" 5099 rereg-alice && a=0 || a=1
s=$(ims_scenario ims-ue-register.xml bob $K15 $OP15)
ims_sipp "$s" 5098 rereg-bob && b=0 || b=1
t() { [ "$a$b" = 00 ] && [ "$(qcis 5)" = 2 ]; }
check "alice and bob register again, with their signalling rules" dia_wait 5 t

# Bearer loss during the next call: the network hangs up.
before=$(gwstat installed)
bob "$SIPP_DIR/ims-uas-call.xml" lost-bob
sleep 0.2
ims_sipp "$SIPP_DIR/ims-uac-byed.xml" 5099 lost -key me alice -key target sip:bob@ims.lab &
ALICE=$!
t() { [ "$(gwstat installed)" = $((before + 2)) ]; }
dia_wait 10 t && gw pcef lose 127.0.0.1 > /dev/null
wait_exit $ALICE 30
check "a lost bearer: alice gets a BYE from the network (rc=$rc)" test "$rc" = 0
wait_exit $BOB 30
check "and so does bob (rc=$rc)" test "$rc" = 0
# ASRs: the call's two sides and the two signalling sessions; STRs: the
# two calls' four, two at de-registration, two after the signalling ASRs
t() { pcscf rxclient show | grep -q '^asr: *4$' && pcscf rxclient show | grep -q '^str: *8$'; }
check "through an ASR for each session, then their STRs" dia_wait 5 t

[ "$tap_failed" = 0 ] || { for f in "$WORK"/*.out "$WORK"/*.err; do diag "$f"; done; ims_logs; pcrf_logs; }
finish
