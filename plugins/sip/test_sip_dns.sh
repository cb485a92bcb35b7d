#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# RFC 3263 server location through a proxy: NAPTR -> SRV -> A (TCP), SRV
# without NAPTR (UDP), A alone on the default port, a port and a transport
# in the URI (A only), a name that does not exist (404), and a request
# sent through the sip service to a name. A dnsmasq in
# the test's network namespace serves the lab zone; nothing leaves lo.
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SIP_SRCDIR/test_sip_lib.sh"
in_netns "$@"

if ! command -v dnsmasq > /dev/null; then
	echo "1..0 # SKIP no dnsmasq (Debian package dnsmasq-base)"
	exit 0
fi
plan 13

PA=25130
PB=25140
PF=25145
dnsmasq --no-daemon --port=5353 --listen-address=127.0.0.1 \
	--bind-interfaces --no-resolv --no-hosts --user=root --group=root \
	--local=/lab/ --log-queries --log-facility="$WORK/dns.log" \
	--host-record=uas.lab,127.0.0.1 --host-record=aonly.lab,127.0.0.1 \
	--naptr-record=lab,10,20,S,SIP+D2U,,_sip._udp.nothing.lab \
	--naptr-record=lab,10,10,S,SIP+D2T,,_sip._tcp.lab \
	--srv-host=_sip._tcp.lab,uas.lab,$PB,0,5 \
	--srv-host=_sip._udp.srvonly.lab,uas.lab,$PB,0,5 \
	--srv-host=_sip._udp.failover.lab,uas.lab,$PF,0,5 \
	--srv-host=_sip._udp.failover.lab,uas.lab,$PB,1,5 \
	2> "$WORK/dnsmasq.err" &
DNS=$!
NODE_PIDS="$NODE_PIDS $DNS"

sip_conf "$WORK/b.conf" "$WORK/b.sock" $PB
sed -i "s/^listen = .*/listen = udp:127.0.0.1:$PB tcp:127.0.0.1:$PB udp:127.0.0.1:5060/" "$WORK/b.conf"
start_node "$WORK/b.conf" "$WORK/b.log" && B=$NODE_PID
sip_conf "$WORK/a.conf" "$WORK/a.sock" $PA mode=proxy \
	dns_servers=127.0.0.1:5353
sed -i 's/^load = sip$/load = sip siptest/' "$WORK/a.conf"
start_node "$WORK/a.conf" "$WORK/a.log" && A=$NODE_PID
check "a proxy with a DNS server and an endpoint start" \
	sh -c "kill -0 $A && kill -0 $B && kill -0 $DNS"

opt() { # FILE R-URI
	{
		printf 'OPTIONS %s SIP/2.0\r\n' "$2"
		printf 'Via: SIP/2.0/UDP 127.0.0.1:25131;branch=z9hG4bK-d%s\r\n' "$(echo "$2" | cksum | cut -d' ' -f1)"
		printf 'Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=d1\r\n'
		printf 'To: <%s>\r\nCall-ID: dns-%s@t\r\n' "$2" "$(echo "$2" | cksum | cut -d' ' -f1)"
		printf 'CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'
	} > "$1"
}
tcp_rx() { ctl "$WORK/b.sock" --json sip show listeners |
	sed 's/},{/}\n{/g' | sed -n 's/.*"transport":"TCP".*"rx_msgs":\([0-9]*\).*/\1/p'; }

opt "$WORK/o1" "sip:x@lab"
"$SIP_SEND" -n -w 5000 -p $PA "$WORK/o1" > "$WORK/out"
check "NAPTR (SIP+D2T first), SRV, A: the endpoint answers" grep -q '^final=200' "$WORK/out"
check "and the request went over TCP" test "$(tcp_rx)" = 1
check "the look-ups were NAPTR, then SRV" sh -c \
	"grep -q 'query\[NAPTR\] lab' '$WORK/dns.log' && grep -q 'query\[SRV\] _sip._tcp.lab' '$WORK/dns.log'"

opt "$WORK/o2" "sip:x@srvonly.lab"
"$SIP_SEND" -n -w 5000 -p $PA "$WORK/o2" > "$WORK/out"
check "no NAPTR: SRV _sip._udp, then A" grep -q '^final=200' "$WORK/out"

opt "$WORK/o3" "sip:x@aonly.lab"
"$SIP_SEND" -n -w 5000 -p $PA "$WORK/o3" > "$WORK/out"
check "no NAPTR, no SRV: A and port 5060" grep -q '^final=200' "$WORK/out"

opt "$WORK/o4" "sip:x@aonly.lab:$PB;transport=tcp"
"$SIP_SEND" -n -w 5000 -p $PA "$WORK/o4" > "$WORK/out"
check "a port and a transport in the URI: A only, over TCP" sh -c \
	"grep -q '^final=200' '$WORK/out'"

opt "$WORK/o5" "sip:x@nowhere.lab"
"$SIP_SEND" -n -w 5000 -p $PA "$WORK/o5" > "$WORK/out"
check "a name that does not exist: 404" grep -q '^final=404' "$WORK/out"

# The service: a request sent to a name leaves once the name is located.
ctl "$WORK/a.sock" siptest send OPTIONS sip:x@srvonly.lab > /dev/null
for _ in $(seq 1 50); do
	got=$(ctl "$WORK/a.sock" siptest last | sed -n 's/^statuses: *//p')
	[ "$got" = 200 ] && break
	sleep 0.1
done
check "send_request to a name: located, sent, answered ($got)" test "$got" = 200

# RFC 3263 4.3: the first SRV target answers 503 (a sipp server), the
# request is sent again to the next one, and the user sees its 200
if [ -n "$SIPP" ] && [ -x "$SIPP" ]; then
	"$SIPP" -sf "$abs_top_srcdir/contrib/sipp/uas_options_503.xml" -t u1 \
		-i 127.0.0.1 -p $PF -m 1 -nostdin -timeout 15s \
		> "$WORK/uas503.out" 2>&1 &
	uas=$!
	for _ in $(seq 1 50); do
		grep -q 'Scenario Screen\|Call-rate' "$WORK/uas503.out" 2>/dev/null &&
			break
		sleep 0.1
	done
	before=$(stat_value "$WORK/b.sock" sip.rx_options)
	ctl "$WORK/a.sock" siptest send OPTIONS sip:x@failover.lab > /dev/null
	for _ in $(seq 1 50); do
		got=$(ctl "$WORK/a.sock" siptest last | sed -n 's/^statuses: *//p')
		[ "$got" = 200 ] && break
		sleep 0.1
	done
	check "SRV failover: 503 from the first server, 200 from the next ($got)" \
		test "$got" = 200
	wait_exit "$uas" 10
	[ "$rc" = timeout ] && kill "$uas" 2>/dev/null
	check "the first server did get the request (and answered 503)" \
		test "$rc" = 0
	check "the next server got it once" test \
		"$(stat_value "$WORK/b.sock" sip.rx_options)" = $((before + 1))
else
	pass "SRV failover # SKIP no sipp"
	pass "SRV failover: first server # SKIP no sipp"
	pass "SRV failover: next server # SKIP no sipp"
fi

ok=0
stop_node "$A" "$WORK/a.log" || ok=1
stop_node "$B" "$WORK/b.log" || ok=1
check "both nodes stop cleanly" test $ok = 0
finish
