#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Two simulated E1 spans wired back to back in one node, used through the
# tdm service by the probe plugin: 30 bearer channels and the D-channel end
# to end, 20 ms blocking, alarms propagating to channel states, injected
# faults and recovery, loopback, blocking, the file descriptor form of the
# D-channel.
. "$abs_srcdir/tests/lib-span.sh"
plan 33

S="$WORK/node.sock"
cat > "$WORK/node.conf" <<CONF
[node]
name = span-sim
control_socket = $S
log_level = info
[plugins]
load = sim tdmprobe
[span 1]
type = e1
timing = 1
bchan = 1-15,17-31
dchan = 16
peer = 2
[span 2]
type = e1
peer = 1
CONF

if start_node "$WORK/node.conf" "$WORK/node.log"; then
	pass "a node with two wired spans and the probe starts"
else
	fail "a node with two wired spans and the probe starts"
	diag "$WORK/node.log"; finish
fi
fault() { "$TANDEMCTL" -s "$S" span fault "$@" > /dev/null; }
DRV=sim
. "$abs_srcdir/tests/span-pair.inc"

ctl stop
wait_exit "$NODE_PID" 10
check "the node stops cleanly (exit $rc)" test "$rc" = 0
check "no error in the node's log" sh -c "! grep ' error ' '$WORK/node.log'"
finish
