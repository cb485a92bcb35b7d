#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# PRI over the tdm service: two simulated E1 spans wired back to back in
# one node (hw/sim), PRI network side on span 1 and user side on span 2,
# D-channels carried as HDLC frames by the span driver. A call from span 1
# reaches span 2 as a SETUP and, with no call control user there, is
# rejected with cause 21 and cleared on both sides.
. "$abs_top_srcdir/tests/integration/lib.sh"
plan 5

SOCK="$WORK/node.sock"
sed -e 's/^load = sim$/load = sim pri/' -e "s|^control_socket = .*|control_socket = $SOCK|" \
	-e 's/^log_level = notice/log_level = info/' \
	"$abs_top_srcdir/conf/span-lab.conf" > "$WORK/node.conf"
cat >> "$WORK/node.conf" <<CONF
[pri 1]
switchtype = euroisdn_e1
side = network
dchan = tdm
[pri 2]
switchtype = euroisdn_e1
side = user
dchan = tdm
CONF

ctl() { "$TANDEMCTL" -s "$SOCK" "$@"; }
dchans_up() { [ "$(ctl pri show spans | grep -c ' up  *tdm ')" = 2 ]; }

if start_node "$WORK/node.conf" "$WORK/node.log"; then
	pass "a node with sim spans and pri on both ends starts"
else
	fail "a node with sim spans and pri on both ends starts"
	diag "$WORK/node.log"; finish
fi
up=no
for _ in $(seq 1 100); do
	dchans_up && { up=yes; break; }
	sleep 0.1
done
check "both D-channels come up over the simulated E1" test "$up" = yes
check "a call is placed on span 1" sh -c "'$TANDEMCTL' -s '$SOCK' pri call 1 2000 5551234 | grep -q '^call:'"
check "span 2 receives the SETUP and rejects it (no call control user)" \
	wait_for "$WORK/node.log" "no call control user: rejected"
gone=no
for _ in $(seq 1 100); do
	[ -z "$(ctl --json pri show calls | grep '"call"')" ] && { gone=yes; break; }
	sleep 0.1
done
check "the call is cleared on both spans" test "$gone" = yes
kill -TERM "$NODE_PID"; wait_exit "$NODE_PID" 10
[ "$tap_failed" -gt 0 ] && diag "$WORK/node.log"
finish
