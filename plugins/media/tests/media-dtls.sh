#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# DTLS-SRTP (RFC 5764) on an RTP <-> SRTP channel: test_media_peer, an
# OpenSSL DTLS client with its own certificate, shakes hands with leg B
# (a=setup:active on its side, so tandem is the server), checks tandem's
# certificate against tandem's a=fingerprint, and both derive the SRTP
# keys; then plain RTP on A and SRTP on B both ways, a replayed and a
# tampered packet refused. A channel told the wrong fingerprint refuses
# the peer: no SRTP, nothing in clear.
. "$abs_top_srcdir/tests/integration/lib.sh"
# A network of its own: the ports below meet no other process's.
in_netns "$@"
PLUGIN_PATH="$PLUGIN_PATH:$abs_builddir/tests"
PEER="$abs_builddir/test_media_peer"
plan 9

base=$((20000 + ($$ % 1000) * 40))
SOCK="$WORK/node.sock"
cat > "$WORK/node.conf" <<CONF
[node]
name = media-dtls
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
leg() { ctl --json media show channel "$1" | grep -o "{\"leg\":\"$2\"[^}]*}"; }
peer() { sed -n "s/^$1=//p" "$WORK/peer.out"; }
# Debian's libsrtp2 and NSS: see media-srtp.sh.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS

if start_node "$WORK/node.conf" "$WORK/node.log"; then
	pass "tandemd starts with media and mediatest"
else
	fail "tandemd starts with media and mediatest"; diag "$WORK/node.log"; finish
fi
"$PEER" dtls-cert "$WORK" > "$WORK/cert.out"
peer_fp=$(sed -n 's/^fingerprint=//p' "$WORK/cert.out")

# open FINGERPRINT: a channel A plain, B DTLS-SRTP told that fingerprint
open() {
	la=$((base + $2)); lb=$((base + $2 + 2))
	ctl mediatest open a=rtp b=dtls > "$WORK/open.out"
	id=$(field id "$WORK/open.out")
	pa=$(field a_port "$WORK/open.out"); pb=$(field b_port "$WORK/open.out")
	our_fp=$(field b_fingerprint "$WORK/open.out")
	setup=$(field b_setup "$WORK/open.out")
	ctl mediatest remote "$id" a addr=127.0.0.1 port=$la codec=PCMU pt=0 &&
	ctl mediatest remote "$id" b addr=127.0.0.1 port=$lb codec=PCMU pt=0 \
		fingerprint="$1" setup=active &&
	ctl mediatest start "$id"
}
t() { open "$peer_fp" 2 > /dev/null && [ -n "$our_fp" ] && [ "$setup" = actpass ]; }
check "a DTLS leg offers a=fingerprint (sha-256) and a=setup:actpass" t

"$PEER" dtls $la "$pa" $lb "$pb" 100 "$WORK" "$our_fp" > "$WORK/peer.out" 2>&1
check "the handshake completes ($(peer dtls), $(peer suite))" test "$(peer dtls)" = ok
check "tandem's certificate is the one its SDP announced" \
	test "$(peer server_fingerprint_ok)" = yes
t() {
	[ "$(peer a_to_b_ok)" = 100 ] && [ "$(peer a_to_b_bad)" = 0 ] &&
	[ "$(peer b_to_a_ok)" = 100 ] && [ "$(peer b_to_a_bad)" = 0 ]
}
check "100 packets each way with the exported keys, payloads intact" t
t() {
	for _ in $(seq 1 100); do
		leg "$id" B > "$WORK/chan.out"
		grep -q '"srtp_replay":1,' "$WORK/chan.out" &&
			grep -q '"srtp_auth_fail":1,' "$WORK/chan.out" && return 0
		sleep 0.1
	done
	return 1
}
check "a replayed and a tampered packet are refused, counted" t
t() { grep -q '"dtls":"established"' "$WORK/chan.out" && grep -q '"srtp":"AES_CM_128_HMAC_SHA1_80"' "$WORK/chan.out"; }
check "media show channel: DTLS established, the suite in use" t

wrong=$(echo "$peer_fp" | sed 's/^../00/')
open "$wrong" 10 > /dev/null
"$PEER" dtls $la "$pa" $lb "$pb" 20 "$WORK" "$our_fp" > "$WORK/peer.out" 2>&1
t() {
	for _ in $(seq 1 100); do
		leg "$id" B | grep -q '"dtls":"failed"' && return 0
		sleep 0.1
	done
	return 1
}
check "a peer whose certificate is not the SDP's is refused" t
t() { [ "$(peer b_to_a_ok)" = 0 ] && [ "$(peer a_to_b_ok)" = 0 ]; }
check "and no media flows, either way ($(peer b_to_a_ok), $(peer a_to_b_ok))" t
[ "$tap_failed" = 0 ] || diag "$WORK/peer.out" "$WORK/chan.out" "$WORK/node.log"
finish
