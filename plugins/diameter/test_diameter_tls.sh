#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Two tandemd nodes with the diameter plugin over TLS on loopback
# (tls = yes: TLS from the first byte, RFC 6733 13), certificates from the
# lab CA of diameter-certs.sh: they connect, show the peer as TLS, and
# answer; a node whose certificate comes from another CA is refused.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
PLUGIN_PATH="$abs_top_builddir/plugins/diameter:$PLUGIN_PATH"
plan 9

dia_certs hss.test.lab icscf.test.lab
PA=3868 PB=3869 TA=5658 TB=5659
node_conf() { # NAME ID PORT TLS_PORT PEERS SERVE [CERT_DIR]
	cat <<CONF
[node]
name = $1
control_socket = $WORK/$1.sock
log_level = info
[plugins]
load = diameter diatest
CONF
	if [ -z "$7" ]; then
		dia_section "$2" "$3" "$5"
	else
		dia_section "$2" "$3" "$5" | grep -v '^tls_'
	fi
	printf 'tls = yes\ntls_port = %s\n' "$4"
	if [ -n "$7" ]; then
		printf 'tls_cert = %s/%s.pem\ntls_key = %s/%s.key\n' \
			"$7" "$2" "$7" "$2"
		printf 'tls_ca = %s/ca.pem\n' "$7"
	fi
	printf '[diatest]\nserve = %s\n' "$6"
}
node_conf a hss.test.lab $PA $TA "icscf.test.lab@127.0.0.1:$TB" yes \
	> "$WORK/a.conf"
node_conf b icscf.test.lab $PB $TB "hss.test.lab@127.0.0.1:$TA" no \
	> "$WORK/b.conf"
A="$TANDEMCTL -s $WORK/a.sock"
B="$TANDEMCTL -s $WORK/b.sock"

check "tandemd --check accepts tls = yes" \
	"$TANDEMD" --check -c "$WORK/a.conf" --plugin-path "$PLUGIN_PATH"
start_node "$WORK/a.conf" "$WORK/a.log"; PID_A=$NODE_PID
start_node "$WORK/b.conf" "$WORK/b.log"; PID_B=$NODE_PID
peer_open() { $1 diameter show peers | grep -q "^state: *OPEN"; }
if dia_wait 15 peer_open "$B"; then
	pass "the two nodes connect over TLS"
else
	fail "the two nodes connect over TLS"; diag "$WORK/a.log" "$WORK/b.log"
fi
check "each shows the other as a TLS peer" \
	sh -c "$A diameter show peers | grep -q '^security: *tls' &&
		$B diameter show peers | grep -q '^security: *tls'"
check "the connection is on the TLS port" \
	sh -c "ss -tn state established | grep -q ':$TA\\b'"
check "and no clear-text Diameter connection exists" \
	sh -c "! ss -tn state established | grep -Eq ':($PA|$PB)\\b'"
$B diatest lir alice@test.lab > /dev/null
lia() { $B diatest last | grep -q "$1"; }
check "an LIR over TLS is answered" \
	dia_wait 5 lia "vendor=0 code=2001 server=sip:scscf.test:6060"

# A node with a certificate of another CA: the handshake fails, the
# peer never opens, the reason is kept.
kill -TERM "$PID_B"
wait_exit "$PID_B" 15
sh "$DIA_SRCDIR/diameter-certs.sh" "$WORK/rogue" icscf.test.lab > /dev/null
node_conf b icscf.test.lab $PB $TB "hss.test.lab@127.0.0.1:$TA" no \
	"$WORK/rogue" > "$WORK/b2.conf"
start_node "$WORK/b2.conf" "$WORK/b2.log"; PID_B=$NODE_PID
tried() { grep -qi "tls\|certificate\|handshake" "$WORK/a.log" "$WORK/b2.log" &&
	$B diameter show peers | grep -Eq '^last_error: *[^ -]'; }
dia_wait 15 tried
check "a peer whose certificate is of another CA never opens" \
	sh -c "! $B diameter show peers | grep -q '^state: *OPEN'"
$B diatest lir alice@test.lab > /dev/null
check "and gets no answer from it" \
	dia_wait 10 lia "status=\\|code=3002"
kill -TERM "$PID_B" "$PID_A"
wait_exit "$PID_B" 15
rc_b=$rc
wait_exit "$PID_A" 15
check "the nodes stop cleanly (rc=$rc_b, $rc)" test "$rc_b" = 0 -a "$rc" = 0
if [ "$rc_b" != 0 ] || [ "$rc" != 0 ]; then
	for f in "$WORK/a.log" "$WORK/b2.log"; do
		# a sanitizer's report first (its head names the fault)
		grep -A 40 "ERROR: AddressSanitizer\|runtime error" "$f" |
			head -n 60 | diag
		tail -n 25 "$f" | diag
	done
fi
finish
