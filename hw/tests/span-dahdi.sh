#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The DAHDI driver over the emulated /dev/dahdi (an LD_PRELOAD shim that
# behaves as dahdi-base does): two E1 ports of a card cabled back to back
# pass the same tests as the simulated spans (span-pair.inc), and the
# driver's own checks against what DAHDI says.
. "$abs_srcdir/tests/lib-span.sh"
plan 39

if [ ! -f "$EMU_SHIM" ]; then
	echo "1..0 # SKIP the DAHDI emulator is not built"; exit 0
fi
FIFO="$WORK/faults"
mkfifo "$FIFO"
DAHDI_EMU_SPANS=e1,e1; DAHDI_EMU_WIRING=1-2; DAHDI_EMU_FIFO=$FIFO
DAHDI_EMU_HWEC=1
export DAHDI_EMU_SPANS DAHDI_EMU_WIRING DAHDI_EMU_FIFO DAHDI_EMU_HWEC

S="$WORK/node.sock"
cat > "$WORK/node.conf" <<CONF
[node]
name = span-dahdi
control_socket = $S
log_level = info
[plugins]
load = dahdi tdmprobe
[dahdi]
configure_spans = yes
bufs = 8
[span 1]
type = e1
framing = ccs
coding = hdb3
crc4 = yes
timing = 1
bchan = 1-15,17-31
dchan = 16
echocancel = 128
[span 2]
type = e1
CONF

if start_emu_node "$WORK/node.conf" "$WORK/node.log"; then
	pass "a node with the DAHDI driver starts over the emulator"
else
	fail "a node with the DAHDI driver starts over the emulator"
	diag "$WORK/node.log"; finish
fi
"$TANDEMCTL" -s "$S" dahdi show > "$WORK/out"
shows() {
	grep -q '^version: *3.1.0 (tandem emulator)' "$WORK/out" &&
	grep -q '^echo_canceller: *EMU-HWEC' "$WORK/out" &&
	grep -Eq '^basechan: +32$' "$WORK/out"
}
check "dahdi show: DAHDI's version, the card's echo canceller, span 2 from channel 32" shows

# Faults go to the emulated card, as a broken line would.
fault() { timeout 5 sh -c "echo '$1 $2' > '$FIFO'"; }
DRV=dahdi
. "$abs_srcdir/tests/span-pair.inc"

"$TANDEMCTL" -s "$S" dahdi show > "$WORK/out"
check "the worker took DAHDI events (alarms, bad FCS)" \
	sh -c "awk '\$1 == \"events:\" && \$2 > 0 { ok = 1 } END { exit !ok }' '$WORK/out'"
ctl stop
wait_exit "$NODE_PID" 10
check "the node stops cleanly (exit $rc)" test "$rc" = 0
check "no error in the node's log" sh -c "! grep ' error ' '$WORK/node.log'"

# Mistakes the driver finds in what DAHDI says.
bad_start() { # NAME: a node that must refuse to start, and why
	start_emu_node "$WORK/$1.conf" "$WORK/$1.log"
	wait_exit "$NODE_PID" 10
	[ "$rc" = 1 ]
}
sed 's/^configure_spans = yes/configure_spans = no/' "$WORK/node.conf" > "$WORK/nocfg.conf"
bad_start nocfg
check "configure_spans = no and nothing configured: refused" test "$rc" = 1
check "it says what DAHDI has and what the config wants" \
	grep -q "span 1: DAHDI has line configuration 0x0, \[span 1\] says 0x700 (framing ccs, coding hdb3, crc4 yes)" "$WORK/nocfg.log"
sed '$ s/^type = e1/type = t1/' "$WORK/node.conf" > "$WORK/t1.conf"
bad_start t1
check "a T1 span on an E1 port: refused, named" \
	grep -q "\[span 2\] type = t1, but DAHDI span 2 (DAHDI emulator E1 port 2) is E1" "$WORK/t1.log"
printf '[span 3]\ntype = e1\n' | cat "$WORK/node.conf" - > "$WORK/three.conf"
bad_start three
check "a span the card does not have: refused, named" \
	grep -q "\[span 3\]: DAHDI has no span 3" "$WORK/three.log"
finish
