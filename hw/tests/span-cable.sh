#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Two nodes joined by a simulated E1 cable over a unix socket: bearer
# channels and D-channel frames both ways, a cut and its repair, the far
# node going away and coming back, a mismatched far end refused.
. "$abs_srcdir/tests/lib-span.sh"
plan 13

CABLE="$WORK/e1.cable"
node_conf() { # NAME SOCK LISTEN TYPE CABLE
	cat <<CONF
[node]
name = $1
control_socket = $2
log_level = info
[plugins]
load = sim tdmprobe
[span 1]
type = $4
timing = 1
cable = $5
cable_listen = $3
CONF
}
A="$WORK/a.sock"; B="$WORK/b.sock"
node_conf gw "$A" yes e1 "$CABLE" > "$WORK/a.conf"
node_conf pbx "$B" no e1 "$CABLE" > "$WORK/b.conf"

start_node "$WORK/a.conf" "$WORK/a.log"; A_PID=$NODE_PID
start_node "$WORK/b.conf" "$WORK/b.log"; B_PID=$NODE_PID
up() { sfield_is "$A" 1 alarms none && sfield_is "$B" 1 alarms none; }
check "two nodes joined by a cable: both spans come up" wait_until 10 up
[ "$tap_failed" = 0 ] || { diag "$WORK/a.log"; diag "$WORK/b.log"; }

"$TANDEMCTL" -s "$A" tdmprobe start 1 > /dev/null
"$TANDEMCTL" -s "$B" tdmprobe start 1 > /dev/null
synced() { pstat_eq "$A" 1 synced 30 && pstat_eq "$B" 1 synced 30; }
check "30 bearer channels carry the pattern each way" wait_until 10 synced
flowing() { pstat_ge "$A" 1 samples_ok 100000 && pstat_ge "$B" 1 samples_ok 100000; }
check "samples keep flowing in order" wait_until 10 flowing

"$TANDEMCTL" -s "$A" tdmprobe send 1 40 > /dev/null
"$TANDEMCTL" -s "$B" tdmprobe send 1 40 > /dev/null
frames() { pstat_eq "$A" 1 frames_ok 40 && pstat_eq "$B" 1 frames_ok 40; }
check "40 D-channel frames each way cross the cable intact" wait_until 10 frames
check "none damaged" sh -c "[ '$(pstat "$A" 1 frames_bad)' = 0 ] && [ '$(pstat "$B" 1 frames_bad)' = 0 ]"

"$TANDEMCTL" -s "$A" span fault 1 cut > /dev/null
cut() { pstat_eq "$A" 1 alarms 0x1 && pstat_eq "$B" 1 alarms 0x1; }
check "a cut at one end: LOS at both" wait_until 10 cut
check "the far node's channels are out of service" pstat_eq "$B" 1 out_of_service 31
"$TANDEMCTL" -s "$A" span fault 1 clear > /dev/null
back() { pstat_eq "$A" 1 in_service 31 && pstat_eq "$B" 1 in_service 31; }
check "mended: both back in service" wait_until 10 back

# The far node goes away: loss of signal; it comes back: reconnected.
"$TANDEMCTL" -s "$B" stop > /dev/null
wait_exit "$B_PID" 10
check "the far node gone: LOS" wait_until 10 sfield_is "$A" 1 alarms LOS
start_node "$WORK/b.conf" "$WORK/b2.log"; B_PID=$NODE_PID
check "it comes back: the cable reconnects and the span clears" \
	wait_until 10 up
ok=$(pstat "$A" 1 frames_ok)
"$TANDEMCTL" -s "$B" tdmprobe start 1 > /dev/null
"$TANDEMCTL" -s "$B" tdmprobe send 1 10 > /dev/null
check "and frames flow again" wait_until 10 pstat_eq "$A" 1 frames_ok $((ok + 10))

# A T1 plugged into an E1: refused, both sides stay in LOS.
"$TANDEMCTL" -s "$B" stop > /dev/null
wait_exit "$B_PID" 10
node_conf t1 "$WORK/c.sock" no t1 "$CABLE" > "$WORK/c.conf"
start_node "$WORK/c.conf" "$WORK/c.log"
refused() { grep -q 'the far span is T1/J1 with 24 timeslots, this one E1 with 31' "$WORK/a.log"; }
check "a T1 on an E1 cable is refused, said once" wait_until 10 refused
check "and the E1 is in LOS" wait_until 10 sfield_is "$A" 1 alarms LOS
finish
