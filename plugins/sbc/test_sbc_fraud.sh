#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Toll fraud at the access side: a PBX trunk whose numbers its rules turn
# into E.164 (UK dialling plan). Calls to [sbc] blocked_destinations
# (+882, dialled 00882...) and to the peer's own (+1900) get 403 with a
# Warning and never reach the core; national calls go through;
# international calls beyond the peer's intl_calls_per_min get 403 and
# raise a fraud alarm. Counters and `sbc show peers` say so; bad lists
# are file:line errors. sipp plays both sides in a network namespace of
# the test's own; every run is bounded.
. "$abs_top_srcdir/tests/integration/lib.sh"

in_netns "$@"
need_sipp
SC="$SBC_SRCDIR/sipp"
SOCK="$WORK/sbc.sock"
plan 15

# conf BLOCKED: the node; the PBX calls from 127.0.0.1:5261 to 5260, the
# core takes calls at 5270
conf() {
	cat <<CONF
[node]
name = sbc-fraud
control_socket = $SOCK
log_level = info
[plugins]
load = sip media sbc
[sip]
listen = udp:127.0.0.1:5260
[media]
workers = 1
pin_workers = no
rtp_address = 127.0.0.1
rtp_port_min = 30000
rtp_port_max = 30099
[sbc]
core_next_hop = udp:127.0.0.1:5270
core_domain = 127.0.0.1:5270
blocked_destinations = $1
home_country_code = 44
[sbc-peer pbx]
address = 127.0.0.1
rules = uk
blocked_destinations = +1900
intl_calls_per_min = 2
[sbc-rules uk]
country_code = 44
national_prefix = 0
international_prefix = 00
CONF
}

conf "+882 9x79" > "$WORK/bad.conf"
check "a blocked destination that is no number prefix: file:line error" \
	conf_refused "$WORK/bad.conf" '^blocked_destinations = +882' \
	"'9x79' is not a number prefix"

conf "+882 +979" > "$WORK/sbc.conf"
if start_node "$WORK/sbc.conf" "$WORK/sbc.log"; then
	pass "an SBC with blocked destinations and an international limit starts"
else
	fail "an SBC with blocked destinations and an international limit starts"
	diag "$WORK/sbc.log"; finish
fi
stat() {
	"$TANDEMCTL" -s "$SOCK" --json show stats | tr '{' '\n' |
		sed -n "s/^\"counter\":\"sbc.$1\",\"value\":\([0-9]*\).*/\1/p"
}

# refused NAME NUMBER: the PBX calls NUMBER and must get 403 (sipp)
refused() {
	"$SIPP" -sf "$SC/sbc_tls_uac_403.xml" -t u1 127.0.0.1:5260 -s "$2" \
		-i 127.0.0.1 -p 5261 -m 1 -mp 32100 -nostdin -timeout 20s \
		-trace_msg -message_file "$WORK/$1.msg" > "$WORK/$1.out" 2>&1
	ref_rc=$?
}
# call NAME NUMBER: the PBX calls NUMBER, a core callee answers; sets
# call_rc; what the core got is in $WORK/NAME-core.msg
call() {
	"$SIPP" -sf "$SC/sbc_uas_call.xml" -t u1 -i 127.0.0.1 -p 5270 -m 1 \
		-mp 32000 -nostdin -timeout 30s -trace_msg \
		-message_file "$WORK/$1-core.msg" > "$WORK/$1-core.out" 2>&1 &
	uas_pid=$!
	wait_udp_port 5270
	"$SIPP" -sf "$SC/sbc_uac_call.xml" -t u1 127.0.0.1:5260 -s "$2" \
		-i 127.0.0.1 -p 5261 -m 1 -mp 32100 -d 200 -nostdin \
		-timeout 30s -trace_msg -message_file "$WORK/$1.msg" \
		> "$WORK/$1.out" 2>&1
	call_rc=$?
	wait_exit "$uas_pid" 10
	[ "$rc" = timeout ] && kill "$uas_pid" 2>/dev/null
}
# warned NAME TEXT: the last refused() got its 403 with that Warning
warned() {
	[ "$ref_rc" = 0 ] && grep -q "^Warning: 399 tandem-sbc \"$2\"" "$WORK/$1.msg"
}

refused sat 00882123456789
check "a call to 00882... (+882, blocked for all) gets 403 (sipp exit $ref_rc)" \
	warned sat "destination blocked"
refused prem +19005550100
check "a call to +1900... (blocked for this peer) gets 403 with its Warning" \
	warned prem "destination blocked"
check "both counted in sbc.destinations_blocked ($(stat destinations_blocked))" \
	test "$(stat destinations_blocked)" = 2

call nat 02079460001
check "a national call goes through (sipp exit $call_rc)" test "$call_rc" = 0
check "the core got it in E.164" \
	grep -q '^INVITE sip:+442079460001@' "$WORK/nat-core.msg"
check "not counted as international ($(stat calls_international))" \
	test "$(stat calls_international)" = 0

call intl1 0033123456789
call intl2 +33123456780
check "two international calls within the peer's limit go through" \
	test "$call_rc" = 0 -a "$(stat calls_international)" = 2
refused intl3 +33123456781
check "the third in the minute gets 403" warned intl3 "international call limit"
check "a fraud alarm is counted ($(stat fraud_alarms))" \
	test "$(stat fraud_alarms)" = 1
check "and logged" grep -q 'fraud alarm: peer pbx over 2 international calls' \
	"$WORK/sbc.log"
call home +441632960001
check "a national call in E.164 is still admitted (sipp exit $call_rc)" \
	test "$call_rc" = 0
"$TANDEMCTL" -s "$SOCK" sbc show peers > "$WORK/peers.txt"
check "sbc show peers shows the peer's counts" sh -c \
	"grep -Eq '^intl_calls: +2$' '$WORK/peers.txt' &&
	 grep -Eq '^intl_refused: +1$' '$WORK/peers.txt' &&
	 grep -Eq '^dest_refused: +2$' '$WORK/peers.txt'"

kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 10
check "the node stops cleanly (rc=$rc)" test "$rc" = 0
[ "$tap_failed" = 0 ] || diag "$WORK/sbc.log" "$WORK/bad.conf.check"
finish
