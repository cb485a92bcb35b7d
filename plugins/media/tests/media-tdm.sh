#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# TDM <-> RTP, as the MGW uses it: two simulated E1 spans (hw/sim) wired
# back to back in one node; channel X joins RTP (PCMU, digits in band) to
# timeslot 1 of span 1, channel Y joins timeslot 1 of span 2 to RTP (PCMU
# with telephone-event). test_media_peer plays all 16 digits in band into
# X; they cross the E1 as A-law tones, come out of Y as RFC 4733 events,
# go back into Y, cross the E1 again as tones and come out of X, where the
# peer detects them. The blocks of the bearer channels clock the channels.
. "$abs_top_srcdir/tests/integration/lib.sh"
# A network of its own: the ports below meet no other process's.
in_netns "$@"
PLUGIN_PATH="$PLUGIN_PATH:$abs_builddir/tests"
PEER="$abs_builddir/test_media_peer"
DIGITS='0123456789*#ABCD'
if ! ls "$abs_top_builddir"/hw/sim/sim.la > /dev/null 2>&1; then
	echo "1..0 # SKIP the sim span driver is not built"
	exit 0
fi
plan 9

base=$((20000 + ($$ % 1000) * 40))
SOCK="$WORK/node.sock"
cat > "$WORK/node.conf" <<CONF
[node]
name = media-tdm
control_socket = $SOCK
log_level = info
[plugins]
load = sim media mediatest
[media]
workers = 2
rtp_port_min = $((base + 20))
rtp_port_max = $((base + 39))
[span 1]
type = e1
timing = 1
peer = 2
[span 2]
type = e1
peer = 1
CONF
PLUGIN_PATH="$PLUGIN_PATH:$abs_top_builddir/hw/sim"
ctl() { "$TANDEMCTL" -s "$SOCK" "$@"; }
field() { sed -n "s/^$1: *//p" "$2"; }
leg() { ctl --json media show channel "$1" | grep -o "{\"leg\":\"$2\"[^}]*}"; }

if start_node "$WORK/node.conf" "$WORK/node.log"; then
	pass "tandemd starts with sim, media and mediatest"
else
	fail "tandemd starts with sim, media and mediatest"; diag "$WORK/node.log"; finish
fi

la=$((base + 2)); lb=$((base + 4))
ctl mediatest open a=rtp b=tdm:1/1 > "$WORK/x.out"
x=$(field id "$WORK/x.out"); px=$(field a_port "$WORK/x.out")
ctl mediatest open a=tdm:2/1 b=rtp > "$WORK/y.out"
y=$(field id "$WORK/y.out"); py=$(field b_port "$WORK/y.out")
t() {
	ctl mediatest remote "$x" a addr=127.0.0.1 port=$la codec=PCMU pt=0 &&
	ctl mediatest remote "$y" b addr=127.0.0.1 port=$lb codec=PCMU pt=0 dtmf=101 &&
	ctl mediatest start "$x" && ctl mediatest start "$y"
} > /dev/null
check "two channels RTP <-> E1 timeslot start" t

"$PEER" dtmf $la "$px" $lb "$py" "$DIGITS" 101 > "$WORK/peer.out"
got=$(sed -n 's/^inband_to_events=//p' "$WORK/peer.out")
check "tones into X cross the E1 and leave Y as RFC 4733 ($got)" \
	test "$got" = "$DIGITS"
got=$(sed -n 's/^events_to_inband=//p' "$WORK/peer.out")
check "events into Y cross the E1 and leave X as tones ($got)" \
	test "$got" = "$DIGITS"

t() { leg "$x" B | grep -q '"type":"tdm"' && leg "$x" B | grep -q '"ec":"on'; }
check "X's TDM leg shows its circuit and the echo canceller on" t
t() {
	n=$(leg "$y" A | sed -n 's/.*"blocks_rx":\([0-9]*\).*/\1/p')
	[ "${n:-0}" -ge 150 ]
}
check "Y's TDM leg counts the bearer blocks it got" t
leg "$x" A > "$WORK/xa.json"; leg "$y" B > "$WORK/yb.json"
ctl media show stats > "$WORK/stats.out"
# (how many were late depends on the machine's load: shown, not judged)
t() { grep -q '"late_frames":[0-9]*}' "$WORK/xa.json" && grep -Eq '^p999_frame_us: +[0-9]+$' "$WORK/stats.out"; }
check "late frames and frame times are reported" t
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 10
check "SIGTERM stops the node cleanly (rc=$rc)" test "$rc" = 0
t() { ! grep -qi "error" "$WORK/node.log"; }
check "no error in the node's log" t
[ "$tap_failed" = 0 ] || diag "$WORK/peer.out" "$WORK/xa.json" "$WORK/yb.json" "$WORK/stats.out" "$WORK/node.log"
finish
