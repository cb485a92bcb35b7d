#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The "sip" service as another plugin uses it (the siptest plugin): a
# handler that answers, one that keeps the request and answers later, one
# that hands it to the proxy core, option tags, and requests sent in
# client transactions with their responses back. Two nodes on loopback in a
# network namespace of their own: A (sip + siptest) and B (sip alone).
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SIP_SRCDIR/test_sip_lib.sh"
in_netns "$@"
plan 16

PA=25080
PB=25090
sip_conf "$WORK/b.conf" "$WORK/b.sock" $PB
sip_conf "$WORK/a.conf" "$WORK/a.sock" $PA
sed -i 's/^load = sip$/load = sip siptest/' "$WORK/a.conf"
printf '[siptest]\nproxy_to = sip:b@127.0.0.1:%s\n' $PB >> "$WORK/a.conf"
start_node "$WORK/b.conf" "$WORK/b.log" && B=$NODE_PID
if start_node "$WORK/a.conf" "$WORK/a.log"; then
	pass "a node with the sip plugin and a service user starts"
else
	fail "a node with the sip plugin and a service user starts"
	diag "$WORK/a.log"; finish
fi
A=$NODE_PID

# msg FILE METHOD [EXTRA-HEADER]: a request to node A
msg() {
	{
		printf '%s sip:svc@127.0.0.1:%s SIP/2.0\r\n' "$2" $PA
		printf 'Via: SIP/2.0/UDP 127.0.0.1:25081;branch=z9hG4bK-%s-1\r\n' "$2"
		printf 'Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=s1\r\n'
		printf 'To: <sip:svc@127.0.0.1>\r\nCall-ID: svc-%s@t\r\n' "$2"
		printf 'CSeq: 1 %s\r\n' "$2"
		[ -n "$3" ] && printf '%s\r\n' "$3"
		printf 'Content-Length: 0\r\n\r\n'
	} > "$1"
}

msg "$WORK/m" MESSAGE
"$SIP_SEND" -n -H X-Handled -p $PA "$WORK/m" > "$WORK/out"
check "a handler answers MESSAGE (202)" grep -q '^final=202' "$WORK/out"
check "with the header it chose" grep -q '^header=siptest' "$WORK/out"

# route_set(): Path entries over two lines, in order; Record-Route
# reversed; local_route() for the TCP listener
{
	printf 'MESSAGE sip:svc@127.0.0.1:%s SIP/2.0\r\n' $PA
	printf 'Via: SIP/2.0/UDP 127.0.0.1:25081;branch=z9hG4bK-path-1\r\n'
	printf 'Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=s1\r\n'
	printf 'To: <sip:svc@127.0.0.1>\r\nCall-ID: svc-path@t\r\n'
	printf 'CSeq: 1 MESSAGE\r\n'
	printf 'Path: <sip:p1@127.0.0.1;lr>, "P, 2" <sip:p2@127.0.0.1;lr>;x=1\r\n'
	printf 'Record-Route: <sip:r1@127.0.0.1;lr>\r\n'
	printf 'Path: <sip:p3@127.0.0.1;lr>\r\n'
	printf 'Record-Route: <sip:r2@127.0.0.1;lr>\r\n'
	printf 'Content-Length: 0\r\n\r\n'
} > "$WORK/path"
"$SIP_SEND" -n -H X-Path -p $PA "$WORK/path" > "$WORK/out"
check "route_set: every Path entry of every line, in order" grep -qF \
	'header=3 <sip:p1@127.0.0.1;lr>, "P, 2" <sip:p2@127.0.0.1;lr>;x=1, <sip:p3@127.0.0.1;lr>' \
	"$WORK/out"
"$SIP_SEND" -n -H X-RR -p $PA "$WORK/path" > "$WORK/out"
check "route_set: Record-Route reversed (a UAC's route set)" grep -qF \
	'header=2 <sip:r2@127.0.0.1;lr>, <sip:r1@127.0.0.1;lr>' "$WORK/out"
"$SIP_SEND" -n -H X-Me -p $PA "$WORK/path" > "$WORK/out"
check "local_route: this node's entry for its TCP listener" grep -qF \
	"header=<sip:term@127.0.0.1:$PA;transport=tcp;lr>" "$WORK/out"
"$SIP_SEND" -n -H X-Local -p $PA "$WORK/path" > "$WORK/out"
check "local: the listener the request arrived on" grep -qF \
	"header=UDP 127.0.0.1:$PA" "$WORK/out"

msg "$WORK/i" INFO
"$SIP_SEND" -n -w 3000 -p $PA "$WORK/i" > "$WORK/out"
check "a kept INFO is answered after the callback returned" \
	grep -q '^final=200' "$WORK/out"

msg "$WORK/o" OPTIONS "Require: foo"
"$SIP_SEND" -n -H Supported -p $PA "$WORK/o" > "$WORK/out"
check "Require of a tag a handler declared is accepted" \
	grep -q '^final=200' "$WORK/out"
check "and OPTIONS lists it in Supported" grep -q '^header=foo' "$WORK/out"

msg "$WORK/s" SUBSCRIBE
"$SIP_SEND" -n -p $PA "$WORK/s" > "$WORK/out"
check "a handler hands SUBSCRIBE to the proxy core: B's 405 comes back" \
	grep -q '^final=405' "$WORK/out"
check "B received it through A" \
	test "$(stat_value "$WORK/b.sock" sip.rx_subscribe)" = 1

# wait_statuses WANT: poll (bounded) `siptest last` for WANT
wait_statuses() {
	for _ in $(seq 1 50); do
		got=$(ctl "$WORK/a.sock" siptest last | sed -n 's/^statuses: *//p')
		[ "$got" = "$1" ] && return 0
		sleep 0.1
	done
	echo "# statuses: $got"
	return 1
}
ctl "$WORK/a.sock" siptest send OPTIONS "sip:b@127.0.0.1:$PB" > /dev/null
check "send_request: B's 200 to an OPTIONS comes back" wait_statuses 200
ctl "$WORK/a.sock" siptest send INVITE "sip:b@127.0.0.1:$PB" > /dev/null
check "send_request: an INVITE gets B's 480" wait_statuses 480

stop_node "$A" "$WORK/a.log"
check "node A stops cleanly" test "$rc" = 0
stop_node "$B" "$WORK/b.log"
check "node B stops cleanly" test "$rc" = 0
finish
