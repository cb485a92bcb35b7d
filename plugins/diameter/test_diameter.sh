#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Two tandemd nodes with the diameter plugin over TCP on loopback: the
# service's handler and request paths (diatest plugin), show peers,
# counters, peer loss and reconnection.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
PLUGIN_PATH="$abs_top_builddir/plugins/diameter:$PLUGIN_PATH"
plan 17

dia_certs hss.test.lab icscf.test.lab
PA=3868 PB=3869
node_conf() { # NAME ID PORT PEERS SERVE
	cat <<CONF
[node]
name = $1
control_socket = $WORK/$1.sock
log_level = info
[plugins]
load = diameter diatest
CONF
	dia_section "$2" "$3" "$4"
	printf '[diatest]\nserve = %s\n' "$5"
}
node_conf a hss.test.lab $PA "icscf.test.lab@127.0.0.1:$PB" yes > "$WORK/a.conf"
node_conf b icscf.test.lab $PB "hss.test.lab@127.0.0.1:$PA" no > "$WORK/b.conf"
A="$TANDEMCTL -s $WORK/a.sock"
B="$TANDEMCTL -s $WORK/b.sock"

check "tandemd --check accepts the diameter config" \
	"$TANDEMD" --check -c "$WORK/a.conf" --plugin-path "$PLUGIN_PATH"
start_node "$WORK/a.conf" "$WORK/a.log"; PID_A=$NODE_PID
start_node "$WORK/b.conf" "$WORK/b.log"; PID_B=$NODE_PID
peer_open() { $1 diameter show peers | grep -q "^state: *OPEN"; }
if dia_wait 10 peer_open "$B"; then
	pass "the two nodes connect"
else
	fail "the two nodes connect"; diag "$WORK/a.log" "$WORK/b.log"
fi
check "node a listens on loopback only" \
	sh -c "! grep -q '0.0.0.0' '$WORK/a.log'"

$B diatest lir alice@test.lab > /dev/null
lia() { $B diatest last | grep -q "$1"; }
check "an LIR is answered by the other node's handler" \
	dia_wait 5 lia "vendor=0 code=2001 server=sip:scscf.test:6060"
$B diatest lir unknown@test.lab > /dev/null
check "a handler's Experimental-Result reaches the sender" \
	dia_wait 5 lia "vendor=10415 code=5001"
check "peer events reach the plugin" \
	sh -c "$B diatest last | grep -q '^peer_ups: *1'"
$A diameter show peers > "$WORK/peers"
check "show peers counts messages" \
	sh -c "grep -Eq '^rx: *[1-9]' '$WORK/peers' && grep -Eq '^tx: *[1-9]' '$WORK/peers'"
check "show stats counts requests" \
	sh -c "$A show stats | grep -Eq 'diameter.rx_requests +2 '"
$A --json diameter show peers > "$WORK/peers.json"
check "show peers in JSON" grep -q '"peer":"icscf.test.lab"' "$WORK/peers.json"
$B diatest lir renew@test.lab > /dev/null
check "a kept answer renewed: 5012 without what the handler had added" \
	dia_wait 5 lia "vendor=0 code=5012 server=-"

# Peer loss: stop a, b notices; start a again, b reconnects.
kill -KILL "$PID_A"
wait_exit "$PID_A" 5
peer_lost() { $B diameter show peers | grep -Eq '^losses: *1'; }
check "the loss of a peer is counted" dia_wait 10 peer_lost
check "and logged" dia_wait 5 grep -q "peer hss.test.lab lost" "$WORK/b.log"
start_node "$WORK/a.conf" "$WORK/a2.log"; PID_A=$NODE_PID
reconnected() { $B diameter show peers | grep -Eq '^connects: *2'; }
check "the peer reconnects" dia_wait 15 reconnected
$B diatest lir alice@test.lab > /dev/null
check "and answers again" \
	dia_wait 5 lia "vendor=0 code=2001 server=sip:scscf.test:6060"

kill -TERM "$PID_B"
wait_exit "$PID_B" 15
rc_b=$rc

# A node that names Rx and Gx in its config announces them.
dia_certs pcrf.test.lab
{ printf '[node]\nname = c\ncontrol_socket = %s\nlog_level = info\n' "$WORK/c.sock"
  printf '[plugins]\nload = diameter\n'
  dia_section pcrf.test.lab 3870 ""
  printf 'applications = rx gx\n'; } > "$WORK/c.conf"
start_node "$WORK/c.conf" "$WORK/c.log"; PID_C=$NODE_PID
t() { grep -q "announcing application rx (16777236)" "$WORK/c.log" &&
	grep -q "announcing application gx (16777238)" "$WORK/c.log"; }
check "a node announces Rx and Gx named in its config" t
kill -TERM "$PID_C"
wait_exit "$PID_C" 15
check "and stops cleanly (rc=$rc)" test "$rc" = 0
[ "$rc" = 0 ] || diag "$WORK/c.log"
rc=$rc_b
check "a node with diameter stops cleanly on SIGTERM (rc=$rc)" test "$rc" = 0
[ "$rc" = 0 ] || diag "$WORK/b.log"
finish
