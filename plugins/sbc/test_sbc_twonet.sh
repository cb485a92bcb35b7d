#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Two networks on one machine: the SBC's namespace joins an outside
# (access) namespace and an inside (core) namespace by two veth pairs:
#
#   outside ns 203.0.113.2 --vout-- 203.0.113.1  SBC  10.20.0.1 --vin-- 10.20.0.2 inside ns
#   (sipp uac, callers)                                            (sipp uas, core)
#
# Both sides run over UDP, one listener each: the sip service sends from
# the listener on the address its routes use toward the destination, so
# Via and Contact name the side a message leaves on. Calls with RTP both
# ways cross the SBC; tshark captures both links and
# the test checks that RTP goes through the SBC's ports, that no inside
# address or name leaves on the outside link (IP headers, SIP headers,
# SDP lines) and no outside address reaches the inside; then 486, a BYE
# from the core side, hold/resume by re-INVITE, CANCEL, the media timeout
# and a flood that ends blocked. Every sipp run is bounded (-m, -timeout).
. "$abs_top_srcdir/tests/integration/lib.sh"

in_netns "$@"
if [ -z "$SIPP" ] || [ ! -x "$SIPP" ] || ! command -v tshark >/dev/null; then
	echo "1..0 # SKIP sipp (sip-tester) or tshark missing"
	exit 0
fi
SCEN="$SBC_SRCDIR/sipp"
SOCK="$WORK/sbc.sock"
OUT_IP=203.0.113.2
FLOOD_IP=203.0.113.3
STRANGER_IP=203.0.113.4
AUTH_IP=203.0.113.5
LEGIT_IP=203.0.113.6
SBC_OUT=203.0.113.1
SBC_IN=10.20.0.1
IN_IP=10.20.0.2
INSIDE_NAME=core.inside.lab
plan 31

# ---- the two networks ----
ip link set lo up
unshare -n sleep 300 & OUT_NS=$!
unshare -n sleep 300 & IN_NS=$!
NODE_PIDS="$NODE_PIDS $OUT_NS $IN_NS"
sleep 0.2
in_out() { nsenter -t "$OUT_NS" -n "$@"; }
in_in() { nsenter -t "$IN_NS" -n "$@"; }
if ! { ip link add vout type veth peer name vout_p netns "$OUT_NS" &&
	ip link add vin type veth peer name vin_p netns "$IN_NS" &&
	ip addr add $SBC_OUT/24 dev vout && ip link set vout up &&
	ip addr add $SBC_IN/24 dev vin && ip link set vin up &&
	in_out ip link set lo up &&
	in_out ip addr add $OUT_IP/24 dev vout_p &&
	in_out ip addr add $FLOOD_IP/24 dev vout_p &&
	in_out ip addr add $STRANGER_IP/24 dev vout_p &&
	in_out ip addr add $AUTH_IP/24 dev vout_p &&
	in_out ip addr add $LEGIT_IP/24 dev vout_p &&
	in_out ip link set vout_p up &&
	in_in ip link set lo up &&
	in_in ip addr add $IN_IP/24 dev vin_p &&
	in_in ip link set vin_p up; }; then
	echo "1..0 # SKIP cannot build the veth networks"
	exit 0
fi

cat > "$WORK/sbc.conf" <<CONF
[node]
name = sbc-twonet
control_socket = $SOCK
log_level = info
[plugins]
load = sip media sbc
[sip]
listen = udp:$SBC_OUT:5060 udp:$SBC_IN:5060
[media]
workers = 1
pin_workers = no
rtp_address = 0.0.0.0
rtp_port_min = 20000
rtp_port_max = 20999
rtp_timeout_s = 3
[sbc]
core_next_hop = udp:$IN_IP:5070
core_domain = $INSIDE_NAME
access_media_address = $SBC_OUT
core_media_address = $SBC_IN
rate_per_s = 20
burst = 20
block_after = 30
block_s = 60
[sbc-peer pbx]
address = $OUT_IP/32 192.0.2.0/24
max_calls = 8
cps = 5
[sbc-peer authpbx]
address = $AUTH_IP
auth_user = pbx
auth_password = s3cret
; a carrier trunk without limits: the calls that run through the flood
[sbc-peer carrier]
address = $LEGIT_IP
CONF

# capture both links for the whole test
tshark -i vout -w "$WORK/out.pcap" -q > "$WORK/tshark-out.log" 2>&1 &
cap_out=$!
tshark -i vin -w "$WORK/in.pcap" -q > "$WORK/tshark-in.log" 2>&1 &
cap_in=$!
NODE_PIDS="$NODE_PIDS $cap_out $cap_in"
for _ in $(seq 1 50); do
	grep -q 'Capturing' "$WORK/tshark-out.log" "$WORK/tshark-in.log" 2>/dev/null &&
		[ "$(grep -l Capturing "$WORK"/tshark-*.log | wc -l)" = 2 ] && break
	sleep 0.1
done

if start_node "$WORK/sbc.conf" "$WORK/sbc.log"; then
	pass "an SBC node starts on two networks"
else
	fail "an SBC node starts on two networks"; diag "$WORK/sbc.log"; finish
fi

counter() {
	"$TANDEMCTL" -s "$SOCK" --json show stats | tr '{' '\n' |
		sed -n "s/^\"counter\":\"sbc.$1\",\"value\":\([0-9]*\).*/\1/p"
}

# start_uas SCENARIO NAME [ARGS...]: sipp uas in the inside network
start_uas() {
	f=$1 n=$2
	shift 2
	nsenter -t "$IN_NS" -n "$SIPP" -sf "$f" -t u1 -i $IN_IP -p 5070 -mi $IN_IP \
		-mp 40000 -nostdin -timeout 60s -trace_msg \
		-message_file "$WORK/uas-$n.msg" "$@" \
		> "$WORK/uas-$n.out" 2>&1 &
	uas=$!
	for _ in $(seq 1 50); do
		grep -q 'Scenario Screen\|Call-rate' "$WORK/uas-$n.out" \
			2>/dev/null && break
		sleep 0.1
	done
}

# run_uac SCENARIO NAME IP COUNT RATE [ARGS...]: bounded sipp uac in the
# outside network; sets uac_rc, ok_calls, bad_calls
run_uac() {
	f=$1 n=$2 ip=$3 count=$4 rate=$5
	shift 5
	in_out "$SIPP" -sf "$f" -t u1 $SBC_OUT:5060 -s callee -i "$ip" \
		-p 5061 -mi "$ip" -mp 30000 -m "$count" -r "$rate" -nostdin \
		-timeout 60s -trace_msg -message_file "$WORK/uac-$n.msg" "$@" \
		> "$WORK/uac-$n.out" 2>&1
	uac_rc=$?
	ok_calls=$(sed -n 's/^ *Successful call *|.*| *\([0-9]*\) *$/\1/p' \
		"$WORK/uac-$n.out" | tail -n 1)
	bad_calls=$(sed -n 's/^ *Failed call *|.*| *\([0-9]*\) *$/\1/p' \
		"$WORK/uac-$n.out" | tail -n 1)
}

uac_ok() { # COUNT: the last run_uac completed COUNT calls, none failed
	[ "$uac_rc" = 0 ] && [ "${ok_calls:-0}" = "$1" ] &&
		[ "${bad_calls:-1}" = 0 ]
}

uas_done() { # NAME: the uas ended by itself, every call successful
	wait_exit "$uas" 30
	[ "$rc" = timeout ] && kill "$uas" 2>/dev/null
	[ "$rc" = 0 ]
}

show_failure() {
	tail -n 15 "$WORK/uac-$1.out" | diag
	tail -n 15 "$WORK/sbc.log" | diag
}

# ---- calls with RTP both ways ----
CALLS=4
start_uas "$SCEN/sbc_uas_call.xml" call -m $CALLS
run_uac "$SCEN/sbc_uac_call.xml" call $OUT_IP $CALLS 4
if uac_ok $CALLS; then
	pass "calls with RTP cross the SBC: $ok_calls of $CALLS"
else
	fail "calls with RTP cross the SBC: exit $uac_rc, $ok_calls ok, $bad_calls failed"
	show_failure call
fi
check "the core side saw every call end" uas_done call
relayed=$(counter relayed_packets)
check "the SBC relayed RTP (${relayed:-0} packets sent by its channels)" \
	test "${relayed:-0}" -gt $((CALLS * 100))

# ---- hold and resume (re-INVITE both ways through the SBC) ----
start_uas "$SCEN/sbc_uas_hold.xml" hold -m 1
run_uac "$SCEN/sbc_uac_hold.xml" hold $OUT_IP 1 1
if uac_ok 1; then
	pass "re-INVITE sendonly/sendrecv relayed and answered (hold, resume)"
else
	fail "hold and resume: exit $uac_rc"; show_failure hold
fi
check "the core side saw both re-INVITEs with the caller's direction" uas_done hold

# ---- 486 from the core ----
start_uas "$abs_top_srcdir/contrib/sipp/uas_busy.xml" busy -m 2
run_uac "$SCEN/sbc_uac_busy.xml" busy $OUT_IP 2 2
check "486 from the core reaches the caller: ${ok_calls:-0} of 2" uac_ok 2
uas_done busy >/dev/null

# ---- the core side hangs up ----
start_uas "$SCEN/sbc_uas_byes.xml" byes -m 2
run_uac "$SCEN/sbc_uac_byed.xml" byed $OUT_IP 2 2
check "a BYE from the core side reaches the caller: ${ok_calls:-0} of 2" uac_ok 2
check "the core side's BYE was answered" uas_done byes

# ---- CANCEL while the core rings ----
start_uas "$abs_top_srcdir/contrib/sipp/uas_cancel.xml" cancel -m 1
run_uac "$SCEN/sbc_uac_cancel.xml" cancel $OUT_IP 1 1
check "the caller's CANCEL is answered 200 and 487" uac_ok 1
check "the core leg is cancelled too (CANCEL, 487, ACK)" uas_done cancel

# ---- media timeout: a call where nobody sends RTP ----
sed '/play_pcap_audio/d' "$SCEN/sbc_uas_call.xml" > "$WORK/uas_quiet.xml"
sed '/play_pcap_audio/d' "$SCEN/sbc_uac_byed.xml" > "$WORK/uac_quiet.xml"
start_uas "$WORK/uas_quiet.xml" quiet -m 1
run_uac "$WORK/uac_quiet.xml" quiet $OUT_IP 1 1
check "a call without RTP is ended by the SBC: the caller gets a BYE" uac_ok 1
check "... and the core side too" uas_done quiet
check "the media timeout is counted ($(counter media_timeouts))" \
	test "$(counter media_timeouts)" -ge 1

# ---- peers: ACL and calls per second ----
start_uas "$abs_top_srcdir/contrib/sipp/uas_busy.xml" peer
run_uac "$SCEN/sbc_uac_busy.xml" stranger $STRANGER_IP 1 1
check "a source that is no peer is refused (403)" \
	grep -q "SIP/2.0 403 Not A Peer" "$WORK/uac-stranger.msg"
run_uac "$SCEN/sbc_uac_busy.xml" cps $OUT_IP 10 50
check "the peer's calls per second are enforced (${ok_calls:-0} admitted, ${bad_calls:-0} refused)" \
	sh -c "[ '${ok_calls:-0}' -ge 1 ] && [ '${bad_calls:-0}' -ge 1 ] &&
		grep -q 'SIP/2.0 503 Peer Limit' '$WORK/uac-cps.msg'"
run_uac "$SCEN/sbc_uac_auth.xml" auth $AUTH_IP 2 2 -au pbx -ap s3cret
check "a peer with digest credentials is challenged (407) and admitted: ${ok_calls:-0} of 2" \
	uac_ok 2
run_uac "$SCEN/sbc_uac_auth_bad.xml" authbad $AUTH_IP 36 8 -au pbx -ap wrong
check "wrong digest credentials are refused (403): ${ok_calls:-0} times" \
	test "${ok_calls:-0}" -ge 10
"$TANDEMCTL" -s "$SOCK" sbc show blocked > "$WORK/blocked-auth.txt" 2>&1
check "a source failing digest repeatedly is blocked" \
	sh -c "grep -q '$AUTH_IP' '$WORK/blocked-auth.txt' &&
		grep -q 'digest' '$WORK/blocked-auth.txt'"
kill "$uas" 2>/dev/null
wait "$uas" 2>/dev/null
"$TANDEMCTL" -s "$SOCK" sbc show peers > "$WORK/peers.txt" 2>&1
check "sbc show peers lists the peer and its limits" \
	sh -c "grep -q pbx '$WORK/peers.txt' && grep -q 'max_calls' '$WORK/peers.txt'"
sleep 1

# ---- a flood of INVITEs and REGISTERs from a second outside address
# while 100 legitimate calls (15/s, within the source rate; 2 s of RTP
# each) run: at least 99 of them
# complete ----
start_uas "$SCEN/sbc_uas_call.xml" legit
nsenter -t "$OUT_NS" -n "$SIPP" -sf "$abs_top_srcdir/contrib/sipp/uac_call.xml" -t u1 \
	$SBC_OUT:5060 -s callee -i $FLOOD_IP -p 5062 -m 600 -r 150 -l 600 \
	-nostdin -timeout 20s > "$WORK/uac-flood.out" 2>&1 &
flood=$!
nsenter -t "$OUT_NS" -n "$SIPP" -sf "$SCEN/sbc_flood_register.xml" -t u1 \
	$SBC_OUT:5060 -i $FLOOD_IP -p 5063 -m 600 -r 150 -l 600 \
	-nostdin -timeout 20s > "$WORK/reg-flood.out" 2>&1 &
reg_flood=$!
run_uac "$SCEN/sbc_uac_call.xml" legit $LEGIT_IP 100 15 -l 100
check "legitimate calls complete during a flood: ${ok_calls:-0} of 100" \
	test "${ok_calls:-0}" -ge 99
for pid in $flood $reg_flood; do
	wait_exit "$pid" 40
	[ "$rc" = timeout ] && kill "$pid" 2>/dev/null
done
kill "$uas" 2>/dev/null
wait "$uas" 2>/dev/null
"$TANDEMCTL" -s "$SOCK" sbc show blocked > "$WORK/blocked.txt" 2>&1
check "the flooding source is blocked (sbc show blocked)" \
	grep -q "$FLOOD_IP" "$WORK/blocked.txt"
check "the legitimate source is not blocked" \
	sh -c "! grep -q '$LEGIT_IP' '$WORK/blocked.txt'"
"$TANDEMCTL" -s "$SOCK" sbc unblock $FLOOD_IP > "$WORK/unblock.txt" 2>&1
"$TANDEMCTL" -s "$SOCK" sbc show blocked > "$WORK/blocked2.txt" 2>&1
check "sbc unblock lifts the block" \
	sh -c "! grep -q '$FLOOD_IP' '$WORK/blocked2.txt'"
"$TANDEMCTL" -s "$SOCK" sbc unblock 192.0.2.99 > "$WORK/unblock2.txt" 2>&1
check "sbc unblock of an address not blocked is a clear error" \
	grep -q "not blocked" "$WORK/unblock2.txt"

kill -TERM "$NODE_PID" 2>/dev/null
wait_exit "$NODE_PID" 20
check "the SBC stops cleanly (exit $rc)" test "$rc" = 0
sleep 0.5
kill -INT $cap_out $cap_in 2>/dev/null
wait $cap_out $cap_in 2>/dev/null

# ---- what crossed each link ----
payloads() { # PCAP: every SIP message (SDP included) as text
	tshark -r "$1" -Y "udp.port == 5060 || tcp.port == 5060" \
		-T fields -e udp.payload -e tcp.payload 2>/dev/null |
		xxd -r -p |
		tr -c '[:print:]\n' '.'
}
payloads "$WORK/out.pcap" > "$WORK/out.txt"
payloads "$WORK/in.pcap" > "$WORK/in.txt"
tshark -r "$WORK/out.pcap" -T fields -e ip.src -e ip.dst 2>/dev/null |
	sort -u > "$WORK/out-ips.txt"
rtp_out=$(tshark -r "$WORK/out.pcap" -Y "ip.src == $SBC_OUT && udp.srcport >= 20000 && udp.srcport <= 20999" 2>/dev/null | wc -l)
rtp_in=$(tshark -r "$WORK/in.pcap" -Y "ip.src == $SBC_IN && udp.srcport >= 20000 && udp.srcport <= 20999" 2>/dev/null | wc -l)
check "RTP leaves the SBC's ports on the outside ($rtp_out packets)" \
	test "$rtp_out" -gt $((CALLS * 100))
check "RTP leaves the SBC's ports on the inside ($rtp_in packets)" \
	test "$rtp_in" -gt $((CALLS * 100))
check "no inside address in any IP header on the outside link" \
	sh -c "! grep -q '10\\.20\\.' '$WORK/out-ips.txt'"
if grep -n "10\.20\.\|$INSIDE_NAME\|:5070" "$WORK/out.txt" > "$WORK/leaks.txt"; then
	fail "no inside address, name or port in SIP or SDP on the outside"
	head -n 5 "$WORK/leaks.txt" | diag
else
	pass "no inside address, name or port in SIP or SDP on the outside ($(grep -c '^c=\|SIP/2.0' "$WORK/out.txt") lines)"
fi
check "no outside address in SIP or SDP on the inside" \
	sh -c "! grep -q '203\\.0\\.113\\.' '$WORK/in.txt'"
finish
