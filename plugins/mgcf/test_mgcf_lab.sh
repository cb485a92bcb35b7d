#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The lab's demo as a test: the lab's IMS core (conf/lab/ims-*.conf), its
# gateway node (conf/lab/gateway.conf) and PBX (conf/lab/pbx.ini), the SBC
# between them (conf/lab/sbc.conf), their
# /tmp/tandem-lab paths moved into the test's directory, provisioned by
# contrib/lab.sh's own functions; then contrib/pbxsim/pbxsim-demo.sh
# (what `contrib/lab.sh demo` runs): alice, an AKA UE, registers through
# the P-CSCF, calls a PBX extension (P-CSCF -> S-CSCF -> SBC -> gateway ->
# E1), and a PBX extension calls her (E1 -> gateway -> SBC -> I-CSCF ->
# S-CSCF -> P-CSCF), each printed as a ladder with its media quality.
# Checks what the demo prints, so the lab keeps working, and that both
# calls crossed the SBC with their RTP anchored there.
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"
gw_netns "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
DIA_SRCDIR="$abs_top_srcdir/plugins/diameter"
. "$DIA_SRCDIR/dia_lib.sh"

need_sipp
plan 23
IMS_PIDS=""

RUN="$WORK/lab"
top="$WORK/top"
LAB="$top/conf/lab"
mkdir -p "$RUN" "$LAB"
for f in "$abs_top_srcdir"/conf/lab/ims-*.conf \
	"$abs_top_srcdir"/conf/lab/gateway.conf "$abs_top_srcdir"/conf/lab/sbc.conf \
	"$abs_top_srcdir"/conf/lab/pbx.ini; do
	sed "s|/tmp/tandem-lab|$RUN|g" "$f" > "$LAB/$(basename "$f")"
done
sh "$DIA_SRCDIR/diameter-certs.sh" "$RUN/certs" hss.ims.lab icscf.ims.lab \
	scscf.ims.lab pcscf.ims.lab pcrf.ims.lab pgw.ims.lab > /dev/null

t() {
	for f in "$LAB"/ims-*.conf "$LAB/gateway.conf" "$LAB/sbc.conf"; do
		"$TANDEMD" --check -c "$f" --plugin-path "$PLUGIN_PATH" \
			> /dev/null || return 1
	done
}
check "the lab's IMS nodes', SBC's and gateway's configurations check" t
t() {
	for n in hss scscf icscf pcrf pgw pcscf; do
		start_node "$LAB/ims-$n.conf" "$RUN/ims-$n.log" || return 1
		IMS_PIDS="$IMS_PIDS $NODE_PID"
	done
}
hss_open() {
	[ "$("$TANDEMCTL" -c "$LAB/ims-hss.conf" --json diameter show peers |
		grep -o '"state":"OPEN' | wc -l)" = 2 ]
}
if t && dia_wait 20 hss_open; then
	pass "the lab's HSS, CSCFs, PCRF and packet gateway start; Cx is up"
else
	fail "the lab's HSS, CSCFs, PCRF and packet gateway start; Cx is up"
	for n in hss scscf icscf pcrf pgw pcscf; do diag "$RUN/ims-$n.log"; done
	finish
fi
if start_node "$LAB/sbc.conf" "$RUN/lab-sbc.log"; then
	pass "the lab's SBC starts"
else
	fail "the lab's SBC starts"
	diag "$RUN/lab-sbc.log"; finish
fi
SBC_PID=$NODE_PID
if start_node "$LAB/gateway.conf" "$RUN/lab-gw.log"; then
	pass "the lab gateway starts"
else
	fail "the lab gateway starts"
	diag "$RUN/lab-gw.log"; finish
fi
GW_PID=$NODE_PID
"$PBXSIM" -c "$LAB/pbx.ini" --fifo "$RUN/pbx.in" > "$RUN/pbx.log" 2>&1 &
NODE_PIDS="$NODE_PIDS $!"

# contrib/lab.sh's own provisioning, taken from it, not copied
build="$abs_top_builddir"
eval "$(sed -n '/^ims_lab_subscribers() {/,/^}/p' "$abs_top_srcdir/contrib/lab.sh")"
ims_lab_subscribers
eval "$(sed -n '/^ims_lab_bearers() {/,/^}/p' "$abs_top_srcdir/contrib/lab.sh")"
ims_lab_bearers
check "lab.sh provisioned alice and opened the UEs' IP-CAN session" sh -c \
	"'$TANDEMCTL' -c '$LAB/ims-hss.conf' hss subscriber list |
		grep -q '^alice@ims.lab ' &&
	 '$TANDEMCTL' -c '$LAB/ims-pgw.conf' pcef show rules 127.0.0.1 > /dev/null"

# the demo finds sipp on PATH, as a user of the lab does
mkdir -p "$WORK/bin"
ln -s "$SIPP" "$WORK/bin/sipp"
PATH="$WORK/bin:$PATH" timeout 120 sh "$abs_top_srcdir/contrib/pbxsim/pbxsim-demo.sh" \
	"$abs_top_srcdir" "$abs_top_builddir" "$RUN" > "$WORK/demo.out" 2>&1
check "the demo runs to its end" test $? = 0
check "alice registers through the P-CSCF and the S-CSCF" sh -c \
	"grep -q 'pcscf: sip:alice@ims.lab registered from udp:127.0.0.1:5099' '$WORK/demo.out' &&
	 grep -q 'scscf: sip:alice@ims.lab registered by alice@ims.lab' '$WORK/demo.out'"
part() { # CALL: the demo's output about one call
	case $1 in
	1) sed -n '/== call 1/,/== call 2/p' "$WORK/demo.out" ;;
	2) sed -n '/== call 2/,$p' "$WORK/demo.out" ;;
	esac
}
has() { part "$1" | grep -q "$2"; }
t() {
	has 1 '1 successful call' &&
		has 1 'scscf: sip:alice@ims.lab: +442079462001 is not ours: to the BGCF' &&
		has 1 'pcef: UE 127.0.0.1: rule .* installed: QCI 1' &&
		has 1 'INVITE +SDP' && has 1 'SETUP 2001' && has 1 'CONNECT' &&
		has 1 '200 OK +SDP' && has 1 'DISCONNECT (cause 16)'
}
check "call 1 (alice -> PBX): the S-CSCF breaks out to the gateway, a QCI 1 bearer; its ladder has INVITE, SETUP, CONNECT, 200, DISCONNECT" t
check "call 1: the PBX sees alice's number, the tel URI the P-CSCF asserted for her" \
	has 1 'the PBX saw the call as: 2001 from 15550001$'
hz() { part "$1" | sed -n "s/.*$2: \([0-9]*\) Hz.*/\1/p" | head -n 1; }
check "call 1: alice heard the PBX's 1300 Hz ($(hz 1 'heard by alice') Hz)" \
	near "$(hz 1 'heard by alice')" 1300
check "call 1: the E1 heard alice's 1000 Hz ($(hz 1 'heard on the E1') Hz)" \
	near "$(hz 1 'heard on the E1')" 1000
t() {
	has 2 "alice's sipp: rc=0" &&
		has 2 ' icscf: dialog .* ended' && has 2 ' scscf: dialog .* ended' &&
		has 2 ' pcscf: dialog .* ended' &&
		has 2 'SETUP 0015550001' && has 2 'INVITE sip:+15550001@ims' &&
		has 2 'CONNECT' && has 2 'BYE (Reason cause 16)'
}
check "call 2 (PBX -> alice): through I-CSCF, S-CSCF and P-CSCF; its ladder has SETUP, INVITE, CONNECT, BYE" t
check "call 2: alice heard the PBX's 1300 Hz over G.722 ($(hz 2 'heard by alice') Hz)" \
	near "$(hz 2 'heard by alice')" 1300
check "call 2: the E1 heard alice's 1000 Hz ($(hz 2 'heard on the E1') Hz)" \
	near "$(hz 2 'heard on the E1')" 1000
mos() { grep 'mos:' "$WORK/demo.out" | awk '{ print $2 }' | sed -n "$1p"; }
t() {
	awk -v a="$(mos 1)" -v b="$(mos 2)" 'BEGIN { exit !(a >= 2.5 && b >= 2.5) }'
}
check "both calls' records print a MOS (2.5 or more: media flowed) ($(mos 1), $(mos 2))" t
check "the packet gateway got a QCI 1 bearer for each call" \
	test "$(grep -c 'installed: QCI 1' "$RUN/ims-pgw.log")" -ge 2
check "call 1 crossed the SBC: from its core side to the peer pbx (the gateway)" \
	has 1 'sbc: call [0-9]*: from the core (127.0.0.1) to peer pbx: sip:+442079462001@127.0.0.1:7060;user=phone'
check "call 2 crossed the SBC: from the peer pbx to the I-CSCF" \
	has 2 'sbc: call [0-9]*: from 127.0.0.1 towards sip:+15550001@ims.lab;user=phone'
sbc_stat() {
	"$TANDEMCTL" -s "$RUN/lab-sbc.sock" --json show stats | tr '{' '\n' |
		sed -n "s/^\"counter\":\"sbc.$1\",\"value\":\([0-9]*\).*/\1/p"
}
check "the SBC admitted both calls, one of them towards the PBX ($(sbc_stat calls), $(sbc_stat calls_to_access))" \
	test "$(sbc_stat calls)" = 2 -a "$(sbc_stat calls_to_access)" = 1
check "the SBC relayed both calls' RTP ($(sbc_stat relayed_packets) packets)" \
	test "$(sbc_stat relayed_packets)" -gt 100
kill -TERM "$GW_PID"
wait_exit "$GW_PID" 15
check "the lab gateway stops cleanly (rc=$rc)" test "$rc" = 0
kill -TERM "$SBC_PID"
wait_exit "$SBC_PID" 15
check "the lab's SBC stops cleanly (rc=$rc)" test "$rc" = 0
t() {
	for pid in $IMS_PIDS; do kill -TERM "$pid"; done
	for pid in $IMS_PIDS; do
		wait_exit "$pid" 20
		[ "$rc" = 0 ] || return 1
	done
}
check "the six IMS nodes stop cleanly" t
[ "$tap_failed" -gt 0 ] && {
	diag "$WORK/demo.out"; tail -n 40 "$RUN/lab-gw.log" | diag
	tail -n 40 "$RUN/lab-sbc.log" | diag
	for f in "$RUN"/ims-*.log "$RUN"/demo-*.out; do diag "$f"; done; }
finish
