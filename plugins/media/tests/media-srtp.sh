#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# An RTP <-> SRTP channel (the SBC's anchoring) set up through the media
# service by the mediatest plugin: test_media_peer sends plain RTP into
# leg A and SRTP protected by libsrtp2 into leg B, and checks what comes
# out of the other leg, for each crypto suite, with tandem offering the
# keys and answering an offer. A replayed and a tampered packet are
# refused and counted.
. "$abs_top_srcdir/tests/integration/lib.sh"
# A network of its own: the ports below meet no other process's.
in_netns "$@"
PLUGIN_PATH="$PLUGIN_PATH:$abs_builddir/tests"
PEER="$abs_builddir/test_media_peer"
plan 15

base=$((20000 + ($$ % 1000) * 40))
SOCK="$WORK/node.sock"
cat > "$WORK/node.conf" <<CONF
[node]
name = media-srtp
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
key() { head -c "$1" /dev/urandom | base64 -w0; }

# A mistake the parameter table cannot see is refused with its place.
sed 's/^rtp_port_max = .*/rtp_port_max = 1100/; s/^rtp_port_min = .*/rtp_port_min = 2000/' \
	"$WORK/node.conf" > "$WORK/bad.conf"
"$TANDEMD" --check -c "$WORK/bad.conf" --plugin-path "$PLUGIN_PATH" \
	> "$WORK/check.out" 2>&1; rc=$?
t() { [ "$rc" != 0 ] && grep -q "bad.conf:[0-9]*: .*rtp_port_max must be above rtp_port_min" "$WORK/check.out"; }
check "tandemd --check names file and line of a bad port range (rc=$rc)" t

# Debian's libsrtp2 initialises NSS, whose global state becomes
# unreachable when the node unloads its modules at exit (lt_dlexit): a
# sanitizer build would report that as a leak at the node's stop.
# Memory errors still abort; media-dtmf.sh checks a clean stop for leaks.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
if start_node "$WORK/node.conf" "$WORK/node.log"; then
	pass "tandemd starts with media and mediatest"
else
	fail "tandemd starts with media and mediatest"; diag "$WORK/node.log"; finish
fi

# run SUITE MODE: MODE offer (tandem's a=crypto is the offer) or answer
run() {
	suite=$1; mode=$2; la=$((base + 2)); lb=$((base + 4))
	ctl mediatest open a=rtp b=srtp > "$WORK/open.out"
	id=$(field id "$WORK/open.out")
	pa=$(field a_port "$WORK/open.out"); pb=$(field b_port "$WORK/open.out")
	len=30; [ "$suite" = AEAD_AES_128_GCM ] && len=28
	peer_key="$suite:$(key $len)"
	if [ "$mode" = offer ]; then
		line=$(field b_crypto "$WORK/open.out")
	else
		line=$(ctl mediatest answer "$id" b "$peer_key" | sed -n 's/^crypto: *//p')
	fi
	our_key=$(echo "$line" | sed -n 's/^a=crypto:[0-9]* \([A-Z0-9_]*\) inline:\([^| ]*\).*/\1:\2/p')
	ctl mediatest remote "$id" a addr=127.0.0.1 port=$la codec=PCMU pt=0 >/dev/null &&
	ctl mediatest remote "$id" b addr=127.0.0.1 port=$lb codec=PCMU pt=0 \
		crypto="$peer_key" >/dev/null &&
	ctl mediatest start "$id" >/dev/null || return 1
	"$PEER" srtp $la "$pa" $lb "$pb" 100 "$peer_key" "$our_key" > "$WORK/peer.out"
}
peer_is() { grep -q "^$1=$2\$" "$WORK/peer.out"; }
both_ways() {
	peer_is a_to_b_ok 100 && peer_is a_to_b_bad 0 &&
	peer_is b_to_a_ok 100 && peer_is b_to_a_bad 0
}
# refused: wait (bounded) for the worker's counters to show them
refused() {
	for _ in $(seq 1 100); do
		leg "$id" B > "$WORK/chan.out"
		grep -q '"srtp_replay":1,' "$WORK/chan.out" &&
			grep -q '"srtp_auth_fail":1,' "$WORK/chan.out" && return 0
		sleep 0.1
	done
	return 1
}

for s in AES_CM_128_HMAC_SHA1_80:offer AES_CM_128_HMAC_SHA1_32:answer \
	 AES_CM_128_HMAC_SHA1_80:answer AEAD_AES_128_GCM:answer; do
	suite=${s%:*}; mode=${s#*:}
	run "$suite" "$mode"
	check "$suite ($mode): 100 packets each way, payloads intact" both_ways
	check "$suite: a replayed and a tampered packet are refused, counted" refused
	[ "$suite" = AEAD_AES_128_GCM ] || ctl mediatest free "$id" > /dev/null
done
t() { leg "$id" B | grep -q '"srtp":"AEAD_AES_128_GCM"'; }
check "media show channel names the suite in use" t
ctl mediatest stop "$id" > /dev/null
t() {
	for _ in $(seq 1 100); do
		ctl mediatest events "$id" > "$WORK/ev.out"
		grep -Eq '^stopped: +1$' "$WORK/ev.out" && return 0
		sleep 0.1
	done
	return 1
}
check "chan_stop brings MEDIA_EV_STOPPED" t
check "with the final statistics (packets received on A)" \
	grep -Eq '^final_packets_rx_a: +100$' "$WORK/ev.out"
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 10
check "SIGTERM stops the node, channels and workers, cleanly (rc=$rc)" \
	test "$rc" = 0
t() { ! grep -qi "error" "$WORK/node.log"; }
check "no error in the node's log (nor a sanitizer's report)" t
[ "$tap_failed" = 0 ] || diag "$WORK/peer.out" "$WORK/chan.out" "$WORK/node.log"
finish
