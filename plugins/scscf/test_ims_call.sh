#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# UE -> UE calls through the whole core: sipp UEs registered with AKA call
# each other through P-CSCF -> S-CSCF -> I-CSCF (LIR) -> S-CSCF ->
# P-CSCF, each its own tandemd node on loopback: a call the caller ends,
# one the callee ends, busy, an unknown and an unregistered callee, a
# number of ours (tel:), a number that is not ours (to the BGCF, a sipp
# UAS), and a UE that is not registered.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SCSCF_SRCDIR/ims_lib.sh"
command -v sipp > /dev/null || { echo "1..0 # SKIP sipp not installed"; exit 0; }
plan 35

SCSCF_EXTRA="icscf = sip:icscf.ims.lab:4060
bgcf = sip:bgcf.ims.lab:7070
enum_prefixes = +1555"
if ims_core; then pass "HSS, I-, S- and P-CSCF start; Cx is up"; else
	fail "HSS, I-, S- and P-CSCF start; Cx is up"; ims_logs; finish; fi
hss hss subscriber add alice@ims.lab impu=sip:alice@ims.lab,tel:+15550001 \
	k=$K3 op=$OP3 amf=8000 > /dev/null
hss hss subscriber add bob@ims.lab impu=sip:bob@ims.lab,tel:+15550002 \
	k=$K15 op=$OP15 amf=8000 > /dev/null
hss hss subscriber add carol@ims.lab impu=sip:carol@ims.lab k=$K3 \
	op=$OP3 amf=8000 > /dev/null
s=$(ims_scenario ims-ue-register.xml alice $K3 $OP3)
ims_sipp "$s" 5099 reg-alice && a=0 || a=1
s=$(ims_scenario ims-ue-register.xml bob $K15 $OP15)
ims_sipp "$s" 5098 reg-bob && b=0 || b=1
check "alice and bob register" test "$a$b" = 00

# uas NAME SCENARIO PORT USER: a sipp UE answering in the background
uas() {
	sipp -sf "$SIPP_DIR/$2" -i 127.0.0.1 -p "$3" -m 1 -key me "$4" \
		-timeout 30s -timeout_error -trace_msg \
		-message_file "$WORK/$1.msg" -trace_err -error_file "$WORK/$1.err" \
		> "$WORK/$1.out" 2>&1 < /dev/null &
	UAS_PID=$!
}
# uac NAME SCENARIO TARGET [ARGS]: alice calls from her registered port
uac() {
	name=$1 scen=$2 target=$3
	shift 3
	ims_sipp "$scen" 5099 "$name" -key me alice -key target "$target" "$@"
}
# uas_done: the background UAS ended well (bounded wait)
uas_done() { wait_exit "$UAS_PID" 30; [ "$rc" = 0 ]; }
fail_scenario() { # EXPECT: ims-uac-fail.xml with its status
	sed "s/@EXPECT@/$1/g" "$SIPP_DIR/ims-uac-fail.xml" > "$WORK/fail-$1.xml"
	echo "$WORK/fail-$1.xml"
}
no_dialogs() {
	for n in pcscf icscf scscf; do
		"$n" "$n" show | grep -Eq '^dialogs: +0$' || return 1
	done
}
no_relays() {
	for n in pcscf icscf scscf; do
		"$n" "$n" show | grep -Eq '^relays: +0$' || return 1
	done
}

# ---- a call the caller ends ----
uas call1-bob ims-uas-call.xml 5098 bob
sleep 0.2
uac call1 "$SIPP_DIR/ims-uac-call.xml" sip:bob@ims.lab
check "alice calls bob: INVITE, 180, 200, ACK, BYE, 200 (rc=$?)" test $? = 0
check "bob's side of the call completes" uas_done
t() { grep -q '^P-Asserted-Identity: <sip:alice@ims.lab>' "$WORK/call1-bob.msg"; }
check "bob sees the identity the network asserted for alice" t
t() { grep -q '^P-Called-Party-ID: <sip:bob@ims.lab>' "$WORK/call1-bob.msg"; }
check "and the identity that was called" t
t() { ! grep -qi '^P-Charging-Vector' "$WORK/call1-bob.msg" "$WORK/call1.msg"; }
check "no charging vector reaches a UE" t
# TS 24.229 5.2.6.3.3 / 5.2.7.2: each UE's route set names its P-CSCF,
# by an address a UE reaches without DNS (ue_contact = listener)
t() {
	awk '/^SIP\/2.0 200/ { p = 1 } p && /^CSeq: 1 INVITE/ { f = 1 }
		p && /^$/ { p = 0 } END { exit !f }' "$WORK/call1.msg" &&
	grep -q '^Record-Route: <sip:127.0.0.1:5060;lr>' "$WORK/call1.msg" &&
	grep -q '^Contact: <sip:127.0.0.1:5060>' "$WORK/call1.msg"
}
check "alice's 200 has her P-CSCF in Record-Route and Contact" t
t() { grep -q '^Record-Route: <sip:127.0.0.1:5060;lr>' "$WORK/call1-bob.msg"; }
check "and bob's INVITE his" t
t() { [ "$(ims_stat hss hss.lir)" = 1 ] && [ "$(ims_stat icscf icscf.forwarded)" -ge 3 ]; }
check "the I-CSCF found bob's S-CSCF with an LIR" t
t() { [ "$(ims_stat scscf scscf.orig)" = 1 ] && [ "$(ims_stat scscf scscf.term)" = 1 ]; }
check "the S-CSCF served the originating and the terminating side" t
check "every dialog is gone after the BYE" dia_wait 5 no_dialogs

# ---- the callee hangs up ----
uas call2-bob ims-uas-hangup.xml 5098 bob
sleep 0.2
uac call2 "$SIPP_DIR/ims-uac-byed.xml" sip:bob@ims.lab
check "bob answers and hangs up; alice gets the BYE (rc=$?)" test $? = 0
check "bob's BYE is answered 200 through the core" uas_done
# RFC 3261 12.2.1.1: the relayed BYE carries the leg's own From tag, once
t() {
	awk '/^BYE /{b=1} b && /^From:/{print; exit}' "$WORK/call2.msg" |
		grep -q '^From: [^;]*;tag=[^;]*$'
}
check "the BYE alice gets has one From tag, her dialog's" t
check "every dialog is gone" dia_wait 5 no_dialogs

# ---- the caller gives up while bob rings ----
uas cancel-bob uas_cancel.xml 5098 bob
sleep 0.2
uac cancel "$SCSCF_SRCDIR/sipp/ims-uac-cancel.xml" sip:bob@ims.lab
check "alice cancels while bob rings: 200, 487 (rc=$?)" test $? = 0
check "the CANCEL reaches bob through the core, who ends with 487" uas_done
check "no relay and no dialog is left in any CSCF" dia_wait 5 no_relays

# ---- a looping request: Max-Forwards runs out ----
sed "s/@EXPECT@/483/g; s/^\( *\)Max-Forwards: 70/\1Max-Forwards: 2/" \
	"$SIPP_DIR/ims-uac-fail.xml" > "$WORK/fail-483.xml"
uac hops "$WORK/fail-483.xml" sip:bob@ims.lab
check "an INVITE with Max-Forwards 2 ends with 483 inside the core (rc=$?)" test $? = 0
t() { ! grep -q '^INVITE' "$WORK/hops-bob.msg" 2>/dev/null; }
check "and never reaches bob" t

# ---- busy ----
uas busy-bob ims-uas-busy.xml 5098 bob
sleep 0.2
uac busy "$(fail_scenario 486)" sip:bob@ims.lab
check "bob busy: alice gets 486 (rc=$?)" test $? = 0
check "bob's 486 was ACKed" uas_done

# ---- numbers ----
uas tel-bob ims-uas-call.xml 5098 bob
sleep 0.2
uac tel "$SIPP_DIR/ims-uac-call.xml" tel:+15550002
check "alice calls tel:+15550002, bob's number (rc=$?)" test $? = 0
check "bob takes it" uas_done
t() { grep -q '^P-Called-Party-ID: <tel:+15550002>' "$WORK/tel-bob.msg"; }
check "the called identity is the tel URI" t

uas bgcf ims-uas-call.xml 7070 bgcf
sleep 0.2
uac offnet "$SIPP_DIR/ims-uac-call.xml" tel:+19995550000
check "a number that is not ours goes to the BGCF (rc=$?)" test $? = 0
check "the BGCF (a sipp UAS) takes the call" uas_done
t() { grep -q '^INVITE tel:+19995550000 SIP/2.0' "$WORK/bgcf.msg"; }
check "with the tel URI as Request-URI" t
check "every dialog is gone" dia_wait 5 no_dialogs

# ---- callees that cannot be reached ----
uac unknown "$(fail_scenario 404)" sip:nobody@ims.lab
check "an unknown callee: 404 after the LIR (rc=$?)" test $? = 0
uac unreg "$(fail_scenario 480)" sip:carol@ims.lab
check "a callee not registered: 480 (rc=$?)" test $? = 0

# ---- a UE that did not register ----
sed "s/@EXPECT@/403/g" "$SIPP_DIR/ims-uac-fail.xml" > "$WORK/fail-403.xml"
ims_sipp "$WORK/fail-403.xml" 5090 stranger -key me mallory -key target sip:bob@ims.lab
check "a UE that did not register gets 403 from the P-CSCF (rc=$?)" test $? = 0
t() { [ "$(ims_stat pcscf pcscf.refused)" = 1 ]; }
check "and the P-CSCF counted it" t

# every node stops on TERM and frees what it holds (the sanitizer build
# fails a leak here)
t() {
	for n in pcscf icscf scscf; do ims_stop_node $n || return 1; done
}
check "P-, I- and S-CSCF stop cleanly" t

[ "$tap_failed" = 0 ] || { for f in "$WORK"/*.out "$WORK"/*.err; do diag "$f"; done; ims_logs; }
finish
