#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The lab's PSTN demo as a test: the lab's own gateway node
# (conf/lab/gateway.conf) and PBX (conf/lab/pbx.ini), their paths moved
# into the test's directory, and contrib/pbxsim/pbxsim-demo.sh (what
# `contrib/lab.sh demo` runs): an IMS caller to a PBX extension and a PBX
# extension to a SIP peer, each printed as a ladder with its media
# quality. Checks what the demo prints, so the lab keeps working.
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"
gw_netns "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"

if [ -z "$SIPP" ] || [ ! -x "$SIPP" ]; then
	echo "1..0 # SKIP sipp not found (Debian package sip-tester)"
	exit 0
fi
plan 10

RUN="$WORK/lab"
mkdir -p "$RUN"
sed "s|/tmp/tandem-lab|$RUN|g" "$abs_top_srcdir/conf/lab/gateway.conf" \
	> "$RUN/gateway.conf"
sed "s|/tmp/tandem-lab|$RUN|g" "$abs_top_srcdir/conf/lab/pbx.ini" \
	> "$RUN/pbx.ini"
check "the lab gateway's configuration checks" \
	"$TANDEMD" --check -c "$RUN/gateway.conf" --plugin-path "$PLUGIN_PATH"
if start_node "$RUN/gateway.conf" "$RUN/lab-gw.log"; then
	pass "the lab gateway starts"
else
	fail "the lab gateway starts"
	diag "$RUN/lab-gw.log"; finish
fi
"$PBXSIM" -c "$RUN/pbx.ini" --fifo "$RUN/pbx.in" > "$RUN/pbx.log" 2>&1 &
NODE_PIDS="$NODE_PIDS $!"

# the demo finds sipp on PATH, as a user of the lab does
mkdir -p "$WORK/bin"
ln -s "$SIPP" "$WORK/bin/sipp"
PATH="$WORK/bin:$PATH" timeout 90 sh "$abs_top_srcdir/contrib/pbxsim/pbxsim-demo.sh" \
	"$abs_top_srcdir" "$abs_top_builddir" "$RUN" > "$WORK/demo.out" 2>&1
check "the demo runs to its end" test $? = 0
check "call 1 (IMS -> PBX): its ladder has INVITE, SETUP, CONNECT, 200, BYE, DISCONNECT" \
	sh -c "sed -n '/== call 1/,/== call 2/p' '$WORK/demo.out' |
		grep -q 'INVITE +SDP' &&
	       sed -n '/== call 1/,/== call 2/p' '$WORK/demo.out' |
		grep -q 'SETUP 2001' &&
	       sed -n '/== call 1/,/== call 2/p' '$WORK/demo.out' |
		grep -q 'CONNECT' &&
	       sed -n '/== call 1/,/== call 2/p' '$WORK/demo.out' |
		grep -q '200 OK +SDP' &&
	       sed -n '/== call 1/,/== call 2/p' '$WORK/demo.out' |
		grep -q 'DISCONNECT (cause 16)'"
hz() { sed -n "s/.*$1: \([0-9]*\) Hz.*/\1/p" "$WORK/demo.out" | head -n 1; }
check "call 1: the SIP side heard the PBX's 1300 Hz ($(hz 'heard on the SIP side') Hz)" \
	near "$(hz 'heard on the SIP side')" 1300
check "call 1: the E1 heard the SIP side's 1000 Hz ($(hz 'heard on the E1') Hz)" \
	near "$(hz 'heard on the E1')" 1000
check "call 2 (PBX -> SIP peer): its ladder has SETUP, INVITE, 200, CONNECT, BYE" \
	sh -c "sed -n '/== call 2/,\$p' '$WORK/demo.out' | grep -q 'SETUP 0015559999' &&
	       sed -n '/== call 2/,\$p' '$WORK/demo.out' | grep -q 'INVITE sip:+15559999' &&
	       sed -n '/== call 2/,\$p' '$WORK/demo.out' | grep -q 'CONNECT' &&
	       sed -n '/== call 2/,\$p' '$WORK/demo.out' | grep -q 'BYE (Reason cause 16)'"
check "call 2: the peer heard its 1000 Hz back through the PBX's echo ($(hz 'echo') Hz)" \
	near "$(hz 'echo')" 1000
mos() { grep 'mos:' "$WORK/demo.out" | awk '{ print $2 }' | sed -n "$1p"; }
t() {
	awk -v a="$(mos 1)" -v b="$(mos 2)" 'BEGIN { exit !(a >= 2.5 && b >= 2.5) }'
}
check "both calls' records print a MOS (2.5 or more: media flowed) ($(mos 1), $(mos 2))" t
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 15
check "the lab gateway stops cleanly (rc=$rc)" test "$rc" = 0
[ "$tap_failed" -gt 0 ] && { diag "$WORK/demo.out"; tail -n 40 "$RUN/lab-gw.log" | diag; }
finish
