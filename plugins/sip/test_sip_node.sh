#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The sip plugin in a running node: listeners on IPv4 and IPv6 over UDP and
# TCP, OPTIONS answered on each, the control commands, and the limits that
# keep one peer from taking the node: oversized messages, a peer that never
# finishes its message (slow loris), connections per address. Runs in a
# network namespace of its own.
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SIP_SRCDIR/test_sip_lib.sh"
in_netns "$@"
plan 21

P=25070
SOCK="$WORK/n.sock"
sip_conf "$WORK/n.conf" "$SOCK" $P max_message_size=2048 \
	message_timeout_ms=300 max_connections_per_ip=4 t1_ms=100
sed -i "s/^listen = .*/listen = udp:127.0.0.1:$P tcp:127.0.0.1:$P udp:[::1]:$P tcp:[::1]:$P/" \
	"$WORK/n.conf"
if start_node "$WORK/n.conf" "$WORK/n.log"; then
	pass "a node with four listeners starts"
else
	fail "a node with four listeners starts"; diag "$WORK/n.log"; finish
fi

ctl "$SOCK" sip show listeners > "$WORK/out"
check "sip show listeners lists UDP and TCP on 127.0.0.1 and [::1]" sh -c "
	grep -Eq '^UDP +127.0.0.1 +$P' '$WORK/out' &&
	grep -Eq '^TCP +127.0.0.1 +$P' '$WORK/out' &&
	grep -Eq '^UDP +\[::1\] +$P' '$WORK/out' &&
	grep -Eq '^TCP +\[::1\] +$P' '$WORK/out'"

cat > "$WORK/options" <<MSG
OPTIONS sip:node@127.0.0.1:$P SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:25071;branch=z9hG4bK-node-1
Max-Forwards: 70
From: <sip:t@127.0.0.1>;tag=a1
To: <sip:node@127.0.0.1>
Call-ID: node-1@127.0.0.1
CSeq: 1 OPTIONS
Content-Length: 0

MSG
sed -i 's/$/\r/' "$WORK/options"
for t in udp tcp; do
	for six in "" -6; do
		name="$t over IPv${six:+6}${six:-4}"
		sed "s/node-1/node-$t$six/" "$WORK/options" > "$WORK/opt"
		"$SIP_SEND" -t $t $six -n -p $P "$WORK/opt" > "$WORK/out"
		check "OPTIONS $name gets 200 with Allow" grep -q '^final=200' "$WORK/out"
	done
done

ctl "$SOCK" sip show transactions > "$WORK/out"
check "sip show transactions lists the OPTIONS transactions" \
	grep -Eq 'NIST +(completed|terminated) +OPTIONS +node-udp' "$WORK/out"
check "sip show stats counts OPTIONS received" sh -c \
	"'$TANDEMCTL' -s '$SOCK' --json sip show stats | grep -q '\"method\":\"OPTIONS\",\"received\":4'"
check "show stats has the per-method counters" \
	test "$(stat_value "$SOCK" sip.rx_options)" = 4
check "and the per-class ones" test "$(stat_value "$SOCK" sip.tx_2xx)" -ge 4

# A datagram over max_message_size is dropped and logged.
{ sed '/^Content-Length/d;/^\r$/d' "$WORK/options"
  printf 'X-Padding: %03000d\r\nContent-Length: 0\r\n\r\n' 0; } > "$WORK/big"
"$SIP_SEND" -t udp -w 3000 -p $P "$WORK/big" > "$WORK/out"
check "an oversized datagram gets no answer" grep -q '^final=none' "$WORK/out"
check "and the node answers the next one" grep -q '^probe=200' "$WORK/out"
check "it is counted" test "$(stat_value "$SOCK" sip.rx_oversize)" = 1
check "and logged" grep -q 'over max_message_size' "$WORK/n.log"

# Over TCP, headers over the limit close the connection.
"$SIP_SEND" -t tcp -c -w 5000 -n -p $P "$WORK/big" > "$WORK/out"
check "oversized TCP headers close the connection" grep -q '^eof=yes' "$WORK/out"

# A slow peer: half a message, then nothing. message_timeout_ms closes it.
head -c 60 "$WORK/options" > "$WORK/half"
"$SIP_SEND" -t tcp -k -w 5000 -p $P "$WORK/half" > "$WORK/out"
check "a peer that never finishes its message is disconnected" \
	grep -q '^eof=yes' "$WORK/out"
check "and that is logged" grep -q 'message not completed in message_timeout_ms' \
	"$WORK/n.log"

# One address cannot hold more than max_connections_per_ip connections.
"$SIP_SEND" -L 6 -w 5000 -p $P > "$WORK/out"
check "connections beyond max_connections_per_ip are refused" sh -c \
	"grep -q '^answered=4' '$WORK/out' && grep -q '^closed=2' '$WORK/out'"
check "and counted" test "$(stat_value "$SOCK" sip.conn_refused)" = 2
check "sip show connections answers" sh -c \
	"'$TANDEMCTL' -s '$SOCK' sip show connections > /dev/null"

if stop_node "$NODE_PID" "$WORK/n.log"; then
	pass "the node stops cleanly"
else
	fail "the node stops cleanly"
fi
finish
