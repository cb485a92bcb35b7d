#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Far-end devices behind NAT, in a network namespace of the test's own
# with only loopback up:
#
#   device sipp 127.0.0.5:5999  --  SBC 127.0.0.1:5960  --  core sipp 127.0.0.9:5970
#   (Via and Contact claim 192.168.1.10:5060, which is unreachable here:
#    anything the SBC sent there would fail with ENETUNREACH)
#
# The device registers through the SBC (the core challenges, the device
# answers): the core sees the SBC's Contact, the device's asked expiry
# and its credentials; the device gets nat_expires and no Path or
# Service-Route. A refresh is answered by the SBC alone. The device
# calls, the core hangs up: the BYE reaches the device's real address.
# A MESSAGE from the core to the SBC's Contact reaches the device; a
# refresh from another port (NAT rebinding) moves the device. Then,
# with keep-alives on (a second run of the node), OPTIONS reach the
# device; when it stops answering it is dropped and unregistered at the
# core; a full binding table refuses a second device with 503; with a
# peer ACL a REGISTER from elsewhere gets 403, and requests to a device's
# token from outside the core get 403. Every sipp run is bounded (-m, -timeout).
. "$abs_top_srcdir/tests/integration/lib.sh"

in_netns "$@"
if [ -z "$SIPP" ] || [ ! -x "$SIPP" ]; then
	echo "1..0 # SKIP sipp (sip-tester) missing"
	exit 0
fi
ip link set lo up
SCEN="$SBC_SRCDIR/sipp"
SOCK="$WORK/sbc.sock"
DEV_IP=127.0.0.5 DEV_PORT=5999
SBC_IP=127.0.0.1 SBC_PORT=5960
CORE_IP=127.0.0.9 CORE_PORT=5970
PRIVATE=192.168.1.10
NAT_EXPIRES=300
plan 34

# node_conf FILE PING_S EXPIRES ["SIP LINE" ["SBC LINE"]]
node_conf() {
	{
		printf '[node]\nname = sbc-nat\ncontrol_socket = %s\n' "$SOCK"
		printf 'log_level = info\n[plugins]\nload = sip media sbc\n'
		printf '[sip]\nlisten = udp:%s:%s tcp:%s:%s\n' $SBC_IP \
			$SBC_PORT $SBC_IP $SBC_PORT
		[ -n "$4" ] && printf '%s\n' "$4"
		printf '[media]\nworkers = 1\npin_workers = no\n'
		printf 'rtp_address = 127.0.0.1\nrtp_port_min = 21400\n'
		printf 'rtp_port_max = 21499\n[sbc]\n'
		printf 'core_next_hop = udp:%s:%s\n' $CORE_IP $CORE_PORT
		printf 'core_domain = core.test\nnat_ping_s = %s\n' "$2"
		printf 'nat_ping_fails = 2\nnat_expires = %s\n' "$3"
		[ -n "$5" ] && printf '%s\n' "$5"
	} > "$1"
}

devices() { "$TANDEMCTL" -s "$SOCK" sbc show devices; }
counter() {
	"$TANDEMCTL" -s "$SOCK" --json show stats | tr '{' '\n' |
		sed -n "s/^\"counter\":\"sbc.$1\",\"value\":\([0-9]*\).*/\1/p"
}

# core SCENARIO NAME [ARGS...]: a sipp uas on the core side, background
core() {
	f=$1 n=$2
	shift 2
	"$SIPP" -sf "$SCEN/$f" -t u1 -i $CORE_IP -p $CORE_PORT -mi $CORE_IP \
		-mp 41000 -nostdin -timeout 40s -trace_msg -trace_err \
		-message_file "$WORK/core-$n.msg" -error_file "$WORK/core-$n.err" \
		-m 1 "$@" > "$WORK/core-$n.out" 2>&1 &
	core_pid=$!
	for _ in $(seq 1 50); do
		grep -q 'Scenario Screen\|Call-rate' "$WORK/core-$n.out" \
			2>/dev/null && break
		sleep 0.1
	done
}
core_done() { # the last core sipp ended by itself, its call successful
	wait_exit "$core_pid" "${1:-30}"
	[ "$rc" = timeout ] && kill "$core_pid" 2>/dev/null
	[ "$rc" = 0 ]
}

# device SCENARIO NAME [ARGS...]: the device's sipp, from 127.0.0.5:5999
device() {
	f=$1 n=$2
	shift 2
	"$SIPP" -sf "$SCEN/$f" -t u1 -i $DEV_IP -p $DEV_PORT -mi $DEV_IP \
		-mp 42000 -nostdin -timeout 40s -trace_msg -trace_err \
		-message_file "$WORK/dev-$n.msg" -error_file "$WORK/dev-$n.err" \
		-m 1 "$@" > "$WORK/dev-$n.out" 2>&1
}

show_failure() {
	for f in "$WORK"/*-"$1".err "$WORK"/*-"$1".out; do
		[ -s "$f" ] && tail -n 8 "$f" | diag
	done
	tail -n 15 "$WORK/sbc.log" | diag
}

# trace FILE DIRECTION: the messages of a sipp trace received or sent
trace() {
	awk -v dir="$2" '/ message (received|sent)/ { keep = ($0 ~ dir) }
		keep' "$1"
}

node_conf "$WORK/sbc.conf" 0 $NAT_EXPIRES
if start_node "$WORK/sbc.conf" "$WORK/sbc.log"; then
	pass "an SBC node starts"
else
	fail "an SBC node starts"; diag "$WORK/sbc.log"; finish
fi

# ---- registration through the SBC, challenged by the core ----
core sbc_nat_core_reg.xml reg
device sbc_nat_dev_reg.xml reg $SBC_IP:$SBC_PORT
dev_rc=$?
if [ $dev_rc = 0 ]; then
	pass "the device registers through the SBC after the core's 401"
else
	fail "the device registers through the SBC after the core's 401 (exit $dev_rc)"
	show_failure reg
fi
check "the core's registrar accepted the device's credentials" core_done
trace "$WORK/core-reg.msg" received > "$WORK/core-reg.rx"
check "the core sees the SBC's Contact (a nat- token at $SBC_IP:$SBC_PORT)" \
	grep -q "^Contact: <sip:nat-[0-9a-f]*@$SBC_IP:$SBC_PORT>" "$WORK/core-reg.rx"
check "no private address of the device reaches the core" \
	sh -c "! grep -q '$PRIVATE\|$DEV_IP' '$WORK/core-reg.rx'"
check "the core sees the expiry the device asked for (3600)" \
	grep -q "^Expires: 3600" "$WORK/core-reg.rx"
check "the device's Authorization crossed to the core unchanged" \
	grep -q '^Authorization: Digest .*username="alice"' "$WORK/core-reg.rx"
trace "$WORK/dev-reg.msg" received > "$WORK/dev-reg.rx"
check "the device gets expires=$NAT_EXPIRES on its own Contact" \
	grep -q "^Contact: <sip:alice@$PRIVATE:5060>;expires=$NAT_EXPIRES" \
	"$WORK/dev-reg.rx"
check "no Path or Service-Route reaches the device" \
	sh -c "! grep -qi '^Path:\|^Service-Route:\|scscf\|pcscf' '$WORK/dev-reg.rx'"
devices > "$WORK/devices.txt"
check "sbc show devices: the AoR, its Contact, its real source" \
	sh -c "grep -q 'sip:alice@core.test' '$WORK/devices.txt' &&
		grep -q 'udp:$DEV_IP:$DEV_PORT' '$WORK/devices.txt' &&
		grep -q 'sip:alice@$PRIVATE:5060' '$WORK/devices.txt' &&
		grep -q 'registered' '$WORK/devices.txt'" || diag "$WORK/devices.txt"
TOKEN=$(grep -o 'nat-[0-9a-f]*' "$WORK/devices.txt" | head -n 1)

# ---- bad REGISTERs get their 400 and the node keeps serving; a query ----
SIP_SEND="$abs_top_builddir/plugins/sip/sip-send"
[ -x "$SIP_SEND" ] || make -C "$abs_top_builddir/plugins/sip" sip-send \
	> /dev/null 2>&1
# register FILE CONTACT-LINE EXPIRES-LINE: a REGISTER of alice from 5996
register() {
	{
		printf 'REGISTER sip:core.test SIP/2.0\r\n'
		printf 'Via: SIP/2.0/UDP %s:5996;rport;branch=z9hG4bK-%s\r\n' \
			$DEV_IP "$(basename "$1")"
		printf 'From: <sip:alice@core.test>;tag=b1\r\n'
		printf 'To: <sip:alice@core.test>\r\nCall-ID: %s@bad\r\n' \
			"$(basename "$1")"
		printf 'CSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n%s%s' "$2" "$3"
		printf 'Content-Length: 0\r\n\r\n'
	} > "$1"
}
bad_ok=0
register "$WORK/bad1" 'Contact: <>\r\n' ''
register "$WORK/bad2" 'Contact: *\r\n' 'Expires: 3600\r\n'
register "$WORK/bad3" 'Contact: <sip:alice@192.168.1.10>;expires=-3\r\n' ''
for f in bad1 bad2 bad3; do
	"$SIP_SEND" -w 3000 -p $SBC_PORT "$WORK/$f" > "$WORK/$f.out" 2>&1
	grep -q '^final=400' "$WORK/$f.out" && grep -q '^probe=200' \
		"$WORK/$f.out" && bad_ok=$((bad_ok + 1))
done
check "bad REGISTERs (empty Contact, * with Expires, expires=-3) get 400, the node serves on" \
	test $bad_ok = 3
register "$WORK/query" '' ''
"$SIP_SEND" -n -w 3000 -p $SBC_PORT -H Contact "$WORK/query" \
	> "$WORK/query.out" 2>&1
check "a query (no Contact) is answered with the device's Contact" \
	sh -c "grep -q '^final=200' '$WORK/query.out' &&
		grep -q 'sip:alice@$PRIVATE:5060>;expires=$NAT_EXPIRES' '$WORK/query.out'"

# ---- a refresh is the SBC's to answer (no core running now) ----
device sbc_nat_dev_refresh.xml refresh $SBC_IP:$SBC_PORT
check "a refresh while the core's binding lasts is answered by the SBC" \
	test $? = 0
check "... with expires=$NAT_EXPIRES again" \
	grep -q "expires=$NAT_EXPIRES" "$WORK/dev-refresh.msg"

# ---- a call from the device; the core hangs up ----
core sbc_uas_byes.xml call
device sbc_nat_dev_call.xml call $SBC_IP:$SBC_PORT -s core-user
dev_rc=$?
if [ $dev_rc = 0 ]; then
	pass "the core's BYE reaches the device's real address, Request-URI its Contact"
else
	fail "the core's BYE reaches the device's real address (exit $dev_rc)"
	show_failure call
fi
check "the core side's call completed" core_done

# ---- a MESSAGE from the core to the device's token ----
"$SIPP" -sf "$SCEN/sbc_nat_dev_msg.xml" -t u1 -i $DEV_IP -p $DEV_PORT \
	-nostdin -timeout 30s -m 1 -trace_msg -message_file "$WORK/dev-msg.msg" \
	> "$WORK/dev-msg.out" 2>&1 &
dev_pid=$!
sleep 0.5
"$SIPP" -sf "$SCEN/sbc_nat_core_msg.xml" -t u1 -i $CORE_IP -p $CORE_PORT \
	-nostdin -timeout 30s -m 1 -s "${TOKEN:-none}" $SBC_IP:$SBC_PORT \
	-trace_msg -message_file "$WORK/core-msg.msg" > "$WORK/core-msg.out" 2>&1
check "a MESSAGE from the core to the SBC's Contact ($TOKEN) is answered 200" \
	test $? = 0
wait_exit "$dev_pid" 10
[ "$rc" = timeout ] && kill "$dev_pid" 2>/dev/null
check "... by the device, at its real address, its Contact as Request-URI" \
	test "$rc" = 0

# ---- a call from the core to the device's token (sbc_reg_target) ----
"$SIPP" -sf "$SCEN/sbc_nat_dev_answer.xml" -t u1 -i $DEV_IP -p $DEV_PORT \
	-mi $DEV_IP -mp 42000 -nostdin -timeout 30s -m 1 -trace_msg -trace_err \
	-message_file "$WORK/dev-answer.msg" -error_file "$WORK/dev-answer.err" \
	> "$WORK/dev-answer.out" 2>&1 &
dev_pid=$!
sleep 0.5
"$SIPP" -sf "$abs_top_srcdir/contrib/sipp/uac_call.xml" -t u1 -i $CORE_IP \
	-p $CORE_PORT -mi $CORE_IP -mp 41000 -nostdin -timeout 30s -m 1 -d 500 \
	-s "${TOKEN:-none}" $SBC_IP:$SBC_PORT -trace_msg \
	-message_file "$WORK/core-invite.msg" > "$WORK/core-invite.out" 2>&1
check "an INVITE from the core to the SBC's Contact ($TOKEN) is answered 200" \
	test $? = 0
wait_exit "$dev_pid" 10
[ "$rc" = timeout ] && kill "$dev_pid" 2>/dev/null
check "... by the device (its Contact as Request-URI); ACK and BYE reach its real address" \
	test "$rc" = 0
[ "$rc" = 0 ] || show_failure answer

# message FILE URI: a MESSAGE from 127.0.0.1:5994 (not the core)
message() {
	{
		printf 'MESSAGE %s SIP/2.0\r\n' "$2"
		printf 'Via: SIP/2.0/UDP 127.0.0.1:5994;branch=z9hG4bK-%s\r\n' \
			"$(basename "$1")"
		printf 'From: <sip:eve@outside.test>;tag=e1\r\n'
		printf 'To: <sip:alice@core.test>\r\nCall-ID: %s@eve\r\n' \
			"$(basename "$1")"
		printf 'CSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n'
		printf 'Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi'
	} > "$1"
}
message "$WORK/eve" "sip:$TOKEN@$SBC_IP:$SBC_PORT"
"$SIP_SEND" -n -w 3000 -p $SBC_PORT "$WORK/eve" > "$WORK/eve.out" 2>&1
check "a request to the device's token from outside the core gets 403" \
	grep -q '^final=403' "$WORK/eve.out"

# ---- the NAT gives the device another port: its refresh moves it ----
"$SIPP" -sf "$SCEN/sbc_nat_dev_refresh.xml" -t u1 -i $DEV_IP -p 5997 -m 1 \
	-nostdin -timeout 20s $SBC_IP:$SBC_PORT > "$WORK/dev-moved.out" 2>&1
check "a refresh from a new source port moves the device there" \
	sh -c "[ $? = 0 ] && '$TANDEMCTL' -s '$SOCK' sbc show devices |
		grep -q 'udp:$DEV_IP:5997'"

# ---- keep-alives, and a device that stops answering them ----
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 20
check "the node stops cleanly" test "$rc" = 0
mv "$WORK/sbc.log" "$WORK/sbc-1.log"
node_conf "$WORK/sbc.conf" 1 60 "t1_ms = 100" "max_registrations = 1"
printf '[sbc-peer devices]\naddress = %s\n' $DEV_IP >> "$WORK/sbc.conf"
if ! start_node "$WORK/sbc.conf" "$WORK/sbc.log"; then
	fail "the node starts again with keep-alives"; diag "$WORK/sbc.log"; finish
fi
core sbc_nat_core_reg.xml reg2
device sbc_nat_dev_reg.xml reg2 $SBC_IP:$SBC_PORT
reg_rc=$?
core_done
check "the device registers again (keep-alives every second)" \
	test "$reg_rc/$rc" = 0/0
"$SIPP" -sf "$SCEN/sbc_nat_dev_full.xml" -t u1 -i $DEV_IP -p 5998 -m 1 \
	-nostdin -timeout 20s $SBC_IP:$SBC_PORT > "$WORK/dev-full.out" 2>&1
check "a second device while the table is full (max_registrations 1): 503" \
	test $? = 0
register "$WORK/stranger" 'Contact: <sip:x@127.0.0.1:5996>\r\n' ''
"$SIP_SEND" -n -w 3000 -p $SBC_PORT "$WORK/stranger" > "$WORK/stranger.out" 2>&1
check "with [sbc-peer] ACLs a REGISTER from no peer's address gets 403" \
	grep -q '^final=403' "$WORK/stranger.out"
device sbc_nat_dev_ping.xml ping -m 2
check "keep-alive OPTIONS reach the device's real address (2 answered)" \
	test $? = 0
# the device is gone: 2 keep-alives go unanswered (Timer F: 64*T1 each)
core sbc_nat_core_unreg.xml unreg
check "the device that stopped answering is unregistered at the core" \
	core_done 40
check "... and dropped (sbc show devices, sbc.devices_dropped)" \
	sh -c "[ -z \"\$('$TANDEMCTL' -s '$SOCK' sbc show devices)\" ] &&
		grep -q 'dropped: keep-alives unanswered' '$WORK/sbc.log'"
check "sbc.devices_dropped counts it" test "$(counter devices_dropped)" = 1
# ---- a device over TCP: keep-alives over its own connection ----
core sbc_nat_core_reg.xml tcp
"$SIPP" -sf "$SCEN/sbc_nat_dev_tcp.xml" -t t1 -i $DEV_IP -p $DEV_PORT -aa \
	-m 1 -nostdin -timeout 30s -trace_msg -message_file "$WORK/dev-tcp.msg" \
	$SBC_IP:$SBC_PORT > "$WORK/dev-tcp.out" 2>&1 &
dev_pid=$!
answered=0
for _ in $(seq 1 100); do # while the device waits (8 s), bounded
	answered=$("$TANDEMCTL" -s "$SOCK" --json sbc show devices |
		sed -n 's/.*"pings_answered":\([0-9]*\).*/\1/p' | head -n 1)
	[ "${answered:-0}" -ge 1 ] && break
	sleep 0.1
done
"$TANDEMCTL" -s "$SOCK" --json sip show connections > "$WORK/conns.json"
"$TANDEMCTL" -s "$SOCK" sbc show devices > "$WORK/devices-tcp.txt"
check "a device registered over TCP answers keep-alives (${answered:-0})" \
	sh -c "[ '${answered:-0}' -ge 1 ] &&
		grep -q 'tcp:$DEV_IP:' '$WORK/devices-tcp.txt'"
check "... which come over its own connection (the SBC opened none)" \
	sh -c "grep -q '\"direction\":\"in\"' '$WORK/conns.json' &&
		! grep -q '\"direction\":\"out\"' '$WORK/conns.json'"
wait_exit "$dev_pid" 30
[ "$rc" = timeout ] && kill "$dev_pid" 2>/dev/null
check "the core registered the TCP device too" core_done

kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 20
check "the node stops cleanly again" test "$rc" = 0
finish
