#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# DTMF through a channel whose legs disagree: leg A carries digits as
# tones (PCMU, no telephone-event), leg B as RFC 4733 events (PT 101).
# test_media_peer plays all 16 digits in band into A; the events that
# come out of B go back into B; the tones that come out of A are detected
# by SpanDSP in the peer. In band -> RFC 4733 -> in band, with no tone
# leaking into B's audio, and the owner told of every digit.
. "$abs_top_srcdir/tests/integration/lib.sh"
# A network of its own: the ports below meet no other process's.
in_netns "$@"
PLUGIN_PATH="$PLUGIN_PATH:$abs_builddir/tests"
PEER="$abs_builddir/test_media_peer"
DIGITS='0123456789*#ABCD'
plan 10

base=$((20000 + ($$ % 1000) * 40))
SOCK="$WORK/node.sock"
cat > "$WORK/node.conf" <<CONF
[node]
name = media-dtmf
control_socket = $SOCK
log_level = info
[plugins]
load = media mediatest
[media]
workers = 2
rtp_port_min = $((base + 20))
rtp_port_max = $((base + 39))
CONF
ctl() { "$TANDEMCTL" -s "$SOCK" "$@"; }
field() { sed -n "s/^$1: *//p" "$2"; }
# leg ID A|B: that leg's record of media show channel, as JSON
leg() { ctl --json media show channel "$1" | grep -o "{\"leg\":\"$2\"[^}]*}"; }

if start_node "$WORK/node.conf" "$WORK/node.log"; then
	pass "tandemd starts with media and mediatest"
else
	fail "tandemd starts with media and mediatest"; diag "$WORK/node.log"; finish
fi

la=$((base + 2)); lb=$((base + 4))
ctl mediatest open a=rtp b=rtp > "$WORK/open.out"
id=$(field id "$WORK/open.out")
pa=$(field a_port "$WORK/open.out"); pb=$(field b_port "$WORK/open.out")
t() {
	ctl mediatest remote "$id" a addr=127.0.0.1 port=$la codec=PCMU pt=0 &&
	ctl mediatest remote "$id" b addr=127.0.0.1 port=$lb codec=PCMU pt=0 dtmf=101 &&
	ctl mediatest start "$id"
} > /dev/null
check "a channel PCMU in band <-> PCMU + telephone-event starts" t

"$PEER" dtmf $la "$pa" $lb "$pb" "$DIGITS" 101 > "$WORK/peer.out"
got=$(sed -n 's/^inband_to_events=//p' "$WORK/peer.out")
check "tones in on A come out of B as RFC 4733 events ($got)" test "$got" = "$DIGITS"
got=$(sed -n 's/^events_to_inband=//p' "$WORK/peer.out")
check "events in on B come out of A as tones ($got)" test "$got" = "$DIGITS"
got=$(sed -n 's/^leak_b=//p' "$WORK/peer.out")
check "B's audio carries no tone while the events go ($got)" test -z "$got"

ctl mediatest events "$id" > "$WORK/ev.out"
check "the owner heard every tone digit on A" \
	grep -Eq "^digits_a: +$(echo "$DIGITS" | sed 's/\*/\\*/')\$" "$WORK/ev.out"
check "and every event digit on B" \
	grep -Eq "^digits_b: +$(echo "$DIGITS" | sed 's/\*/\\*/')\$" "$WORK/ev.out"
ctl media show channel "$id" > "$WORK/chan.out"
t() { leg "$id" A | grep -q '"dtmf_tx":16,' && leg "$id" B | grep -q '"dtmf_tx":16,'; }
check "media show channel counts 16 digits sent on each leg" t
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 10
check "SIGTERM stops the node with a running channel cleanly (rc=$rc)" \
	test "$rc" = 0
t() { ! grep -qi "error" "$WORK/node.log"; }
check "no error in the node's log (nor a sanitizer's report)" t
[ "$tap_failed" = 0 ] || diag "$WORK/peer.out" "$WORK/ev.out" "$WORK/chan.out" "$WORK/node.log"
finish
