#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Media security, transcoding and IPv4 <-> IPv6 through the SBC. A sipp
# caller of the access side offers SRTP (SDES: RTP/SAVP with a=crypto,
# RFC 4568; DTLS-SRTP: UDP/TLS/RTP/SAVP with a=fingerprint, RFC 5763), a
# sipp callee of the core side answers plain RTP/AVP. The RTP itself
# comes from test_media_peer (libsrtp2 and OpenSSL, none of tandem's
# code): plain on the core side, SRTP on the access side with the key
# (or the DTLS handshake) the SDP negotiated; payloads must arrive in
# order both ways, nothing plain may reach the access side (a packet that
# does not decrypt is counted bad), a tampered and a replayed packet are
# counted by the SBC's media leg and logged. Also: re-INVITEs keep the
# key, the core re-offering (our SDES offer, the caller's SRTP answer), a
# DTLS peer whose certificate is not its fingerprint gets no media; the
# policy (access_srtp = dtls refuses plain offers, off refuses SRTP,
# unknown suites and keyless SAVP refused, each 488 with a Warning); a
# PCMU-only caller and a PCMA-only callee (the SBC transcodes, tshark
# counts the payload types on the wire); IPv6 media outside, IPv4
# inside. Three nodes in a network namespace of the test's own; every
# sipp run is bounded.
. "$abs_top_srcdir/tests/integration/lib.sh"

in_netns "$@"
if [ -z "$SIPP" ] || [ ! -x "$SIPP" ] || ! command -v tshark >/dev/null; then
	echo "1..0 # SKIP sipp (sip-tester) or tshark missing"
	exit 0
fi
PEER="$abs_top_builddir/plugins/media/test_media_peer"
SC="$SBC_SRCDIR/sipp"
plan 52
# make check builds it (Makefile.am); run by hand: make -C plugins/media test_media_peer
[ -x "$PEER" ] || { fail "plugins/media/test_media_peer is built"; finish; }

# Debian's libsrtp2 and NSS: see plugins/media/tests/media-srtp.sh.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS

# node NAME SIP_PORT RTP_BASE POLICY: an SBC node's config
node() {
	cat > "$WORK/$1.conf" <<CONF
[node]
name = $1
control_socket = $WORK/$1.sock
log_level = info
[plugins]
load = sip media sbc
[sip]
listen = udp:127.0.0.1:$2
[media]
workers = 1
pin_workers = no
rtp_address = 127.0.0.1
rtp_port_min = $3
rtp_port_max = $(($3 + 99))
[sbc]
core_next_hop = udp:127.0.0.1:5270
core_domain = 127.0.0.1:5270
access_srtp = $4
CONF
}
# dual NAME SIP_PORT RTP_BASE: a node whose media binds both families
# (::), the access side's SDP IPv6 (::1), the core side's IPv4, and
# access_srtp = off
dual() {
	node "$@" off
	sed -i 's/^rtp_address = .*/rtp_address = ::/' "$WORK/$1.conf"
	printf 'access_media_address = ::1\ncore_media_address = 127.0.0.1\n' \
		>> "$WORK/$1.conf"
}
ctl() { n=$1; shift; "$TANDEMCTL" -s "$WORK/$n.sock" "$@"; }
var() { sed -n "s/.*\\<$1=\\([^ ]*\\).*/\\1/p" "$2"; }
peer() { sed -n "s/^$1=//p" "$WORK/peer.out"; }

node sbc 5260 30000 optional
node strict 5262 30100 dtls
dual dual 5264 30200
if start_node "$WORK/sbc.conf" "$WORK/sbc.log" && sbc_pid=$NODE_PID &&
   start_node "$WORK/strict.conf" "$WORK/strict.log" && strict_pid=$NODE_PID &&
   start_node "$WORK/dual.conf" "$WORK/dual.log"; then
	dual_pid=$NODE_PID
	pass "three SBC nodes start (access_srtp optional, dtls, off with IPv6 | IPv4)"
else
	fail "three SBC nodes start"
	diag "$WORK/sbc.log" "$WORK/strict.log" "$WORK/dual.log"; finish
fi

# uas SCENARIO NAME [ARGS]: a sipp callee of the core side on 5270
uas() {
	sf=$1; name=$2; shift 2
	rm -f "$WORK/$name.vars"
	"$SIPP" -sf "$SC/$sf.xml" -t u1 -i 127.0.0.1 -p 5270 -m 1 -mp 32000 \
		-nostdin -timeout 40s -trace_msg -message_file "$WORK/$name.msg" \
		-key out "$WORK/$name.vars" "$@" > "$WORK/$name.out" 2>&1 &
	uas_pid=$!
	sleep 0.5
}
# uac SCENARIO NAME SBC_PORT PROTO SEC1 SEC2 [ARGS]: a sipp caller of
# the access side, PCMU (formats $UAC_FMT, default 0) at 127.0.0.1:31004,
# in the background
uac() {
	sf=$1; name=$2; port=$3; proto=$4; sec1=$5; sec2=$6; shift 6
	rm -f "$WORK/$name.vars"
	"$SIPP" -sf "$SC/$sf.xml" -t u1 127.0.0.1:$port -s callee -i 127.0.0.1 \
		-p 5261 -m 1 -mp 32100 -nostdin -timeout 40s -trace_msg \
		-message_file "$WORK/$name.msg" -key out "$WORK/$name.vars" \
		-key peer_port 31004 -key proto "$proto" -key fmt "${UAC_FMT:-0}" \
		-key rtpmap "a=rtpmap:0 PCMU/8000" -key sec1 "$sec1" \
		-key sec2 "$sec2" "$@" > "$WORK/$name.out" 2>&1 &
	uac_pid=$!
}
# the JSON record of leg A (access) of the node's only call's channel
leg_a() {
	chan=$(ctl sbc --json sbc show calls | sed -n 's/.*"media_channel":\([0-9]*\).*/\1/p' | head -n 1)
	ctl sbc --json media show channel "${chan:-0}" | grep -o '{"leg":"A"[^}]*}'
}
# refused: the tampered and the replayed packet show on leg A (bounded)
refused() {
	for _ in $(seq 1 100); do
		leg_a > "$WORK/leg.out"
		grep -q '"srtp_replay":1,' "$WORK/leg.out" &&
			grep -q '"srtp_auth_fail":1,' "$WORK/leg.out" && return 0
		sleep 0.1
	done
	return 1
}
both_ways() {
	[ "$(peer a_to_b_ok)" = 100 ] && [ "$(peer a_to_b_bad)" = 0 ] &&
	[ "$(peer b_to_a_ok)" = 100 ] && [ "$(peer b_to_a_bad)" = 0 ]
}
# end_call NAME: the uac ends the call by itself (-d), bounded
end_call() {
	wait_exit "$uac_pid" 30
	uac_rc=$rc
	[ "$rc" = timeout ] && kill "$uac_pid" 2>/dev/null
	wait_exit "$uas_pid" 10
	[ "$rc" = timeout ] && kill "$uas_pid" 2>/dev/null
}

# ---- SDES: RTP/SAVP with a=crypto outside, RTP/AVP inside ----
key=$(head -c 30 /dev/urandom | base64 -w0)
uas sbc_uas_plain sdes-uas -key peer_port 31002 -key fmt 0 \
	-key rtpmap "a=rtpmap:0 PCMU/8000"
uac sbc_uac_srtp sdes-uac 5260 RTP/SAVP \
	"a=crypto:1 F8_128_HMAC_SHA1_80 inline:$key" \
	"a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:$key" -d 6000
if wait_for "$WORK/sdes-uac.vars" port= && wait_for "$WORK/sdes-uas.vars" port=; then
	pass "an RTP/SAVP call crosses the SBC and is answered"
else
	fail "an RTP/SAVP call crosses the SBC and is answered"
	diag "$WORK/sdes-uac.out" "$WORK/sbc.log"
fi
va="$WORK/sdes-uac.vars"
check "the caller gets RTP/SAVP and our a=crypto with its suite" \
	test "$(var proto "$va")" = RTP/SAVP -a "$(var suite "$va")" = AES_CM_128_HMAC_SHA1_80
check "the suite we lack (F8) is passed over for the next line (tag 2)" \
	grep -q '^a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:' "$WORK/sdes-uac.msg"
t() { [ -n "$(var key "$va")" ] && [ "$(var key "$va")" != "$key" ]; }
check "the SBC's key is its own" t
check "the core side is offered plain RTP/AVP" \
	test "$(var proto "$WORK/sdes-uas.vars")" = RTP/AVP
"$PEER" srtp 31002 "$(var port "$WORK/sdes-uas.vars")" 31004 "$(var port "$va")" 100 \
	"AES_CM_128_HMAC_SHA1_80:$key" "AES_CM_128_HMAC_SHA1_80:$(var key "$va")" \
	> "$WORK/peer.out" 2>&1
check "SRTP <-> RTP: 100 packets each way decrypt, payloads in order" both_ways
check "nothing plain (nor undecryptable) reaches the access side" \
	test "$(peer a_to_b_bad)" = 0 -a "$(peer a_to_b_sent)" = 100
check "a tampered and a replayed SRTP packet are counted on leg A" refused
check "media show channel names the suite of leg A" \
	grep -q '"srtp":"AES_CM_128_HMAC_SHA1_80"' "$WORK/leg.out"
end_call
check "the re-INVITE with the same keys is answered with the same key" \
	test "$(var key "$WORK/sdes-uac.vars.reinvite")" = "$(var key "$va")"
check "the call ends cleanly (re-INVITE, BYE): sipp exit $uac_rc" test "$uac_rc" = 0
check "the SBC's log reports the refused SRTP packets of the call" \
	wait_for "$WORK/sbc.log" "access side AES_CM_128_HMAC_SHA1_80 refused 1 packets (authentication) and 1 (replay)"
t() { ! grep -qi 'crypto\|fingerprint\|SAVP' "$WORK/sdes-uas.msg"; }
check "no a=crypto, a=fingerprint or SAVP on the core side" t
t() { ! grep -q "inline:$key" "$WORK/sdes-uas.msg"; }
check "the caller's key never reaches the core side" t

# ---- the core offers again: our SDES offer, the caller's SRTP answer ----
# (on the access_srtp = dtls node: SRTP is required, an SDES caller is
# taken, leg A is remade without DTLS for it)
uas sbc_uas_reoffer re-uas -key peer_port 31002 -key fmt 0 \
	-key rtpmap "a=rtpmap:0 PCMU/8000"
uac sbc_uac_srtp_reoffer re-uac 5262 RTP/SAVP \
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:$key" "a=ptime:20" -d 5000
va="$WORK/re-uac.vars"
wait_for "$va.reoffer" port=
wait_for "$WORK/re-uas.vars.reoffer" port=
check "access_srtp = dtls takes SDES; the core's re-offer reaches the caller as RTP/SAVP, our key kept" \
	test "$(var proto "$va.reoffer")" = RTP/SAVP -a -n "$(var key "$va")" \
	-a "$(var key "$va.reoffer")" = "$(var key "$va")"
check "the caller's SRTP answer reaches the core as plain RTP/AVP" \
	test "$(var proto "$WORK/re-uas.vars.reoffer")" = RTP/AVP
"$PEER" srtp 31002 "$(var port "$WORK/re-uas.vars")" 31004 "$(var port "$va")" 100 \
	"AES_CM_128_HMAC_SHA1_80:$key" "AES_CM_128_HMAC_SHA1_80:$(var key "$va")" \
	> "$WORK/peer.out" 2>&1
check "after it, SRTP <-> RTP: 100 packets each way, payloads in order" both_ways
end_call
check "that call ends cleanly: sipp exit $uac_rc" test "$uac_rc" = 0

# ---- DTLS-SRTP outside, RTP inside ----
mkdir -p "$WORK/cert"
fp=$("$PEER" dtls-cert "$WORK/cert" | sed -n 's/^fingerprint=//p')
uas sbc_uas_plain dtls-uas -key peer_port 31002 -key fmt "0 8" \
	-key rtpmap "a=rtpmap:0 PCMU/8000"
UAC_FMT="0 8"
uac sbc_uac_srtp dtls-uac 5260 UDP/TLS/RTP/SAVP \
	"a=fingerprint:sha-256 $fp" "a=setup:active" -d 6000
UAC_FMT=
va="$WORK/dtls-uac.vars"
if wait_for "$va" port= && wait_for "$WORK/dtls-uas.vars" port=; then
	pass "a UDP/TLS/RTP/SAVP call crosses the SBC and is answered"
else
	fail "a UDP/TLS/RTP/SAVP call crosses the SBC and is answered"
	diag "$WORK/dtls-uac.out" "$WORK/sbc.log"
fi
t() { tr -d '\r' < "$WORK/dtls-uac.msg" | grep -q '^m=audio [0-9]* UDP/TLS/RTP/SAVP 0$'; }
check "both offer PCMU and PCMA: the caller's answer names the one in use" t
check "the caller gets UDP/TLS/RTP/SAVP, our fingerprint, a=setup:passive" \
	test "$(var proto "$va")" = UDP/TLS/RTP/SAVP -a -n "$(var fp "$va")" \
	-a "$(var setup "$va")" = passive
"$PEER" dtls 31002 "$(var port "$WORK/dtls-uas.vars")" 31004 "$(var port "$va")" 100 \
	"$WORK/cert" "$(var fp "$va")" > "$WORK/peer.out" 2>&1
check "the DTLS handshake completes ($(peer dtls), $(peer suite))" test "$(peer dtls)" = ok
check "the SBC's certificate is the one its SDP announced" \
	test "$(peer server_fingerprint_ok)" = yes
check "DTLS-SRTP <-> RTP: 100 packets each way, payloads in order" both_ways
check "a tampered and a replayed packet are counted on leg A" refused
check "media show channel: DTLS established on leg A" \
	grep -q '"dtls":"established"' "$WORK/leg.out"
end_call
check "the DTLS call ends cleanly (re-INVITE, BYE): sipp exit $uac_rc" test "$uac_rc" = 0
t() { ! grep -qi 'crypto\|fingerprint\|setup:\|SAVP\|TLS' "$WORK/dtls-uas.msg"; }
check "no fingerprint, setup or SAVP on the core side" t

# ---- DTLS: a peer whose certificate is not its SDP's gets no media ----
wrong=$(echo "$fp" | sed 's/^../00/')
uas sbc_uas_plain dtls2-uas -key peer_port 31002 -key fmt 0 \
	-key rtpmap "a=rtpmap:0 PCMU/8000"
uac sbc_uac_srtp dtls2-uac 5260 UDP/TLS/RTP/SAVP \
	"a=fingerprint:sha-256 $wrong" "a=setup:active" -d 4000
va="$WORK/dtls2-uac.vars"
wait_for "$va" port=
wait_for "$WORK/dtls2-uas.vars" port=
"$PEER" dtls 31002 "$(var port "$WORK/dtls2-uas.vars")" 31004 "$(var port "$va")" 20 \
	"$WORK/cert" "$(var fp "$va")" > "$WORK/peer.out" 2>&1
t() {
	for _ in $(seq 1 100); do
		leg_a | grep -q '"dtls":"failed"' && return 0
		sleep 0.1
	done
	return 1
}
check "a DTLS peer whose certificate is not its a=fingerprint is refused" t
check "and no media flows either way ($(peer a_to_b_ok), $(peer b_to_a_ok))" \
	test "$(peer a_to_b_ok)" = 0 -a "$(peer b_to_a_ok)" = 0
end_call

# ---- policy: access_srtp = dtls refuses plain RTP; unknown suites ----
uac sbc_uac_srtp_refused plain-uac 5262 RTP/AVP "a=ptime:20" "a=sendrecv"
wait_exit "$uac_pid" 20
check "access_srtp = dtls: a plain offer gets 488 (sipp exit $rc)" test "$rc" = 0
check "with a Warning that says SRTP is required" \
	grep -q '^Warning: 302 tandem-sbc "SRTP required' "$WORK/plain-uac.msg"
uac sbc_uac_srtp_refused sdes-bad 5262 RTP/SAVP \
	"a=crypto:1 F8_128_HMAC_SHA1_80 inline:$key" "a=sendrecv"
wait_exit "$uac_pid" 20
check "an offer with no suite we support gets 488 (sipp exit $rc)" test "$rc" = 0
check "with Warning 306 naming the crypto suites" \
	grep -q '^Warning: 306 tandem-sbc "no a=crypto suite' "$WORK/sdes-bad.msg"
uac sbc_uac_srtp_refused nokey-uac 5260 RTP/SAVP "a=ptime:20" "a=sendrecv"
wait_exit "$uac_pid" 20
check "RTP/SAVP without a=crypto gets 488 and Warning 306 (sipp exit $rc)" \
	grep -q '^Warning: 306 tandem-sbc' "$WORK/nokey-uac.msg"
uac sbc_uac_srtp_refused off-uac 5264 RTP/SAVP \
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:$key" "a=sendrecv"
wait_exit "$uac_pid" 20
check "access_srtp = off: an SRTP offer gets 488 (sipp exit $rc)" test "$rc" = 0
check "with a Warning that says SRTP is off" \
	grep -q '^Warning: 302 tandem-sbc "SRTP is off here' "$WORK/off-uac.msg"
check "the node that refused keeps serving" kill -0 "$strict_pid"

# ---- transcoding: the caller has PCMU only, the callee PCMA only ----
tshark -i lo -f udp -w "$WORK/tc.pcap" -q > "$WORK/tshark.log" 2>&1 &
tshark_pid=$!
wait_for "$WORK/tshark.log" "Capturing on"
uas sbc_uas_pcma tc-uas
uac sbc_uac_srtp tc-uac 5260 RTP/AVP "a=ptime:20" "a=sendrecv" -d 4000
wait_for "$WORK/tc-uac.vars" port=
"$PEER" sink 31004 100 5000 > "$WORK/sink.out" 2>&1
end_call
sleep 0.5
kill "$tshark_pid" 2>/dev/null
wait "$tshark_pid" 2>/dev/null
t() { grep -q "fmts=0 8 9" "$WORK/tc-uas.vars"; }
check "the core is offered PCMU, then PCMA and G722 ($(sed -n "s/.*fmts=//p" "$WORK/tc-uas.vars"))" t
t() {
	tr -d '\r' < "$WORK/tc-uac.msg" | grep -q '^m=audio [0-9]* RTP/AVP 0$' &&
	! grep -q 'PCMA' "$WORK/tc-uac.msg"
}
check "the caller's answer names PCMU alone" t
sbc_a=$(var port "$WORK/tc-uac.vars")
pt_count() { # PT SRC_PORT DST_PORT: RTP packets of that payload type
	tshark -r "$WORK/tc.pcap" -d "udp.port==$2,rtp" -d "udp.port==$3,rtp" \
		-Y "rtp.p_type == $1 && udp.srcport == $2 && udp.dstport == $3" \
		2>/dev/null | wc -l
}
pcmu=$(pt_count 0 "$sbc_a" 31004)
pcma=$(pt_count 8 "$sbc_a" 31004)
check "PCMU leaves the SBC towards the caller ($pcmu packets, $pcma PCMA)" \
	test "$pcmu" -ge 50 -a "$pcma" = 0
check "the caller's sink got them ($(sed -n 's/^packets=//p' "$WORK/sink.out"))" \
	test "$(sed -n 's/^packets=//p' "$WORK/sink.out")" -ge 50
check "the transcoded call ends cleanly (sipp exit $uac_rc)" test "$uac_rc" = 0

# ---- IPv6 outside, IPv4 inside: RTP both ways through a node on :: ----
tshark -i lo -f udp -w "$WORK/v6.pcap" -q > "$WORK/tshark6.log" 2>&1 &
tshark_pid=$!
wait_for "$WORK/tshark6.log" "Capturing on"
"$SIPP" -sf "$SC/sbc_uas_call.xml" -t u1 -i 127.0.0.1 -p 5270 -m 1 -mp 32000 \
	-nostdin -timeout 30s -trace_msg -message_file "$WORK/v6-uas.msg" \
	> "$WORK/v6-uas.out" 2>&1 &
uas_pid=$!
sleep 0.5
"$SIPP" -sf "$SC/sbc_uac_call.xml" -t u1 127.0.0.1:5264 -s callee -i 127.0.0.1 \
	-p 5261 -mi ::1 -mp 32100 -m 1 -d 3000 -nostdin -timeout 30s \
	-trace_msg -message_file "$WORK/v6-uac.msg" > "$WORK/v6-uac.out" 2>&1 &
uac_pid=$!
end_call
sleep 0.5
kill "$tshark_pid" 2>/dev/null
wait "$tshark_pid" 2>/dev/null
check "a call with IPv6 media outside and IPv4 inside completes (sipp exit $uac_rc)" \
	test "$uac_rc" = 0
t() {
	tr -d '\r' < "$WORK/v6-uac.msg" | grep -q '^c=IN IP6 ::1$' &&
	tr -d '\r' < "$WORK/v6-uac.msg" | grep -q '^o=sbc .* IN IP6 ::1$'
}
check "the caller's answer says o= and c=IN IP6 ::1" t
t() {
	tr -d '\r' < "$WORK/v6-uas.msg" | grep -q '^c=IN IP4 127.0.0.1$' &&
	! grep -q 'IP6\|::1' "$WORK/v6-uas.msg"
}
check "the core's offer says IN IP4 and nothing of IPv6" t
v6port=$(tr -d '\r' < "$WORK/v6-uac.msg" | sed -n 's/^m=audio \([0-9]*\) .*/\1/p' | tail -n 1)
v4port=$(tr -d '\r' < "$WORK/v6-uas.msg" | sed -n 's/^m=audio \([0-9]*\) .*/\1/p' | head -n 1)
rtp_from() { # FILTER: RTP packets the SBC sent matching it
	tshark -r "$WORK/v6.pcap" -d "udp.port==$v6port,rtp" -d "udp.port==$v4port,rtp" \
		-Y "rtp && $1" 2>/dev/null | wc -l
}
n6=$(rtp_from "ipv6.src == ::1 && udp.srcport == ${v6port:-1}")
n4=$(rtp_from "ip.src == 127.0.0.1 && udp.srcport == ${v4port:-1}")
check "RTP leaves the SBC over IPv6 to the caller ($n6) and over IPv4 to the core ($n4)" \
	test "$n6" -ge 20 -a "$n4" -ge 20

for n in sbc strict dual; do
	pid=$sbc_pid; [ $n = strict ] && pid=$strict_pid
	[ $n = dual ] && pid=$dual_pid
	kill -TERM "$pid" 2>/dev/null
	wait_exit "$pid" 20
	check "the $n node stops cleanly (rc=$rc)" test "$rc" = 0
done
t() { ! grep -q 'AddressSanitizer\|runtime error' "$WORK/sbc.log" "$WORK/strict.log" "$WORK/dual.log"; }
check "no sanitizer report in the nodes' logs" t
[ "$tap_failed" = 0 ] || { diag "$WORK/peer.out"; tail -n 40 "$WORK/sbc.log" | diag; }
finish
