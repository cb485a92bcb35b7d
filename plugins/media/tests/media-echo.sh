#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# sipp plays /usr/share/sip-tester/g711a.pcap into a media echo line of a
# real tandemd (`media echo`); the echoed stream comes back to sipp's
# media address, where test_media_peer receives it: every packet, same
# payload, in order. sipp sends the capture from a raw socket, so this
# needs root (skipped otherwise), and sipp (sip-tester).
. "$abs_top_srcdir/tests/integration/lib.sh"

PCAP=/usr/share/sip-tester/g711a.pcap
PEER="$abs_builddir/test_media_peer"
SCEN="$abs_srcdir/tests/sipp"
if ! command -v sipp >/dev/null 2>&1 || [ ! -r "$PCAP" ]; then
	echo "1..0 # SKIP sipp or $PCAP missing (Debian package sip-tester)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP sipp plays captures through a raw socket: needs root"
	exit 0
fi
# A network of its own: the ports below meet no other process's.
in_netns "$@"
plan 7

# Ports of our own, away from other tests running at the same time.
base=$((20000 + ($$ % 1000) * 40))
SOCK="$WORK/node.sock"
cat > "$WORK/node.conf" <<CONF
[node]
name = media-echo
control_socket = $SOCK
log_level = info
[plugins]
load = media
[media]
workers = 2
rtp_port_min = $((base + 20))
rtp_port_max = $((base + 39))
CONF
ctl() { "$TANDEMCTL" -s "$SOCK" "$@"; }

if start_node "$WORK/node.conf" "$WORK/node.log"; then
	pass "tandemd starts with the media plugin"
else
	fail "tandemd starts with the media plugin"; diag "$WORK/node.log"; finish
fi

ctl media echo PCMA > "$WORK/echo.out"
port=$(sed -n 's/^port: *//p' "$WORK/echo.out")
id=$(sed -n 's/^id: *//p' "$WORK/echo.out")
check "media echo opens an echo line (channel $id, port $port)" test -n "$port"

"$PEER" pcap "$PCAP" > "$WORK/pcap.out"
want=$(sed -n 's/^packets=//p' "$WORK/pcap.out")
want_fnv=$(sed -n 's/^payload_fnv=//p' "$WORK/pcap.out")

# sipp's media port; it sends from media_port + 4, where the sink listens.
mp=$((base + 10))
sed "s/@ECHO_PORT@/$port/" "$SCEN/uas-echo.xml" > "$WORK/uas.xml"
sed "s#@PCAP@#$PCAP#" "$SCEN/uac-pcap.xml" > "$WORK/uac.xml"
"$PEER" sink $((mp + 4)) "$want" 20000 > "$WORK/sink.out" 2>&1 &
sink=$!
sipp -sf "$WORK/uas.xml" -i 127.0.0.1 -p $((base + 2)) -m 1 -timeout 30s \
	-timeout_error -nostdin > "$WORK/uas.out" 2>&1 < /dev/null &
uas=$!
wait_for "$WORK/sink.out" listening
wait_udp_port $((base + 2))
sipp -sf "$WORK/uac.xml" -i 127.0.0.1 -p $((base + 4)) -mi 127.0.0.1 \
	-mp $mp -m 1 -timeout 30s -timeout_error -nostdin \
	127.0.0.1:$((base + 2)) > "$WORK/uac.out" 2>&1 < /dev/null
rc=$?
check "the sipp call plays the capture and ends (rc=$rc)" test "$rc" = 0
wait_exit "$sink" 25
wait_exit "$uas" 5

got=$(sed -n 's/^packets=//p' "$WORK/sink.out")
fnv=$(sed -n 's/^payload_fnv=//p' "$WORK/sink.out")
gaps=$(sed -n 's/^seq_gaps=//p' "$WORK/sink.out")
check "every packet comes back ($got of $want)" test "${got:-0}" = "$want"
check "with the same payloads, in order ($fnv)" test "$fnv" = "$want_fnv"
check "and no gap in our sequence numbers ($gaps)" test "$gaps" = 0

ctl media show channel "$id" > "$WORK/chan.out"
t() {
	grep -Eq "^packets_rx: +$want$" "$WORK/chan.out" &&
	grep -Eq "^packets_tx: +$want$" "$WORK/chan.out" &&
	grep -Eq "^lost: +0$" "$WORK/chan.out" &&
	grep -Eq "^remote: .*\(latched\)" "$WORK/chan.out"
}
check "media show channel: $want in, $want out, none lost, latched" t
[ "$tap_failed" = 0 ] || diag "$WORK/chan.out" "$WORK/sink.out" "$WORK/uac.out" "$WORK/node.log"
finish
