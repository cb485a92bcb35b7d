#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A fax through the T.38 gateway. A channel starts as G.711 A-law on both
# legs. test_media_peer's SpanDSP fax terminal calls over G.711 into leg
# A; the channel reports its calling tone (CNG) to its owner, which
# re-INVITEs: rtp_set_remote with codec t38 turns leg B into T.38 over
# UDPTL with redundancy, where the peer's SpanDSP T.38 terminal answers
# (its first DIS went to the G.711 leg and was lost; T.30 repeats it). The page must arrive whole: one page, fine
# resolution, no bad row, every row as sent, both ends reporting success
# (no retrain failure: T.30 would end in an error). About 30 s: T.30
# runs in real time.
. "$abs_top_srcdir/tests/integration/lib.sh"
# A network of its own: the ports below meet no other process's.
in_netns "$@"
PLUGIN_PATH="$PLUGIN_PATH:$abs_builddir/tests"
PEER="$abs_builddir/test_media_peer"
plan 11

base=$((20000 + ($$ % 1000) * 40))
SOCK="$WORK/node.sock"
cat > "$WORK/node.conf" <<CONF
[node]
name = media-fax
control_socket = $SOCK
log_level = info
[plugins]
load = media mediatest
[media]
workers = 2
; clocked RTP <-> RTP (as an MGW's TDM <-> RTP is): tones are detected on
; decoded audio, which the relay path never makes
rtp_bridge = jitter
rtp_port_min = $((base + 20))
rtp_port_max = $((base + 39))
CONF
ctl() { "$TANDEMCTL" -s "$SOCK" "$@"; }
field() { sed -n "s/^$1: *//p" "$2"; }
leg() { ctl --json media show channel "$1" | grep -o "{\"leg\":\"$2\"[^}]*}"; }
peer() { sed -n "s/^$1=//p" "$WORK/peer.out"; }

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
	ctl mediatest remote "$id" a addr=127.0.0.1 port=$la codec=PCMA pt=8 &&
	ctl mediatest remote "$id" b addr=127.0.0.1 port=$lb codec=PCMA pt=8 &&
	ctl mediatest start "$id"
} > /dev/null
check "a G.711 channel starts" t

"$PEER" fax $la "$pa" $lb "$pb" "$WORK/in.tif" "$WORK/out.tif" > "$WORK/peer.out" &
fax=$!
t() {
	for _ in $(seq 1 100); do
		ctl mediatest events "$id" | grep -Eq '^tones_a: +cng' && return 0
		sleep 0.1
	done
	return 1
}
check "the caller's CNG on leg A reaches the channel's owner" t
t() { ctl mediatest remote "$id" b addr=127.0.0.1 port=$lb codec=t38 > /dev/null; }
check "a re-INVITE switches leg B to T.38 (UDPTL)" t
wait_exit "$fax" 100
check "the G.711 sender finishes with success ($(peer tx_result))" \
	test "$(peer tx_result)" = OK
check "the T.38 receiver finishes with success ($(peer rx_result))" \
	test "$(peer rx_result)" = OK
check "one page arrives ($(peer pages_rx))" test "$(peer pages_rx)" = 1
t() { [ "$(peer y_res)" -ge 7600 ] && [ "$(peer y_res)" -le 7800 ] && [ "$(peer width)" = 1728 ]; }
check "at fine resolution, 1728 wide (x $(peer x_res), y $(peer y_res) px/m)" t
check "with no bad row ($(peer bad_rows), $(peer bit_rate) bit/s)" \
	test "$(peer bad_rows)" = 0
t() { [ "$(peer rows)" = 400 ] && [ "$(peer rows_differ)" = 0 ]; }
check "and its 400 rows are those sent ($(peer rows) rows, $(peer rows_differ) differ)" t
t() { leg "$id" B | grep -q '"codec":"t38"' && leg "$id" B | grep -q '"ifp_recovered":'; }
check "media show channel shows leg B as T.38 with its UDPTL counts" t
[ "$tap_failed" = 0 ] || { diag "$WORK/peer.out"; leg "$id" B | diag /dev/stdin; diag "$WORK/node.log"; }
finish
