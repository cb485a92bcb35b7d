#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# SIP over TLS: a TLS listener answers OPTIONS; a connection that never
# completes its handshake is closed after message_timeout_ms; mutual TLS
# refuses a client without a certificate and serves one with; a proxy
# forwards over TLS to a next hop whose certificate it checks. Certificates
# are made here with the openssl tool. Runs in a network namespace of its
# own.
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SIP_SRCDIR/test_sip_lib.sh"
in_netns "$@"

if ! command -v openssl > /dev/null; then
	echo "1..0 # SKIP no openssl tool"
	exit 0
fi
plan 12

# ---- A CA, a server certificate for 127.0.0.1, a client certificate ----
C="$WORK/certs"
mkdir -p "$C"
(
	cd "$C" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca \
		-keyout ca.key -out ca.pem
	for who in server client; do
		openssl req -newkey rsa:2048 -nodes -subj /CN=$who.test \
			-keyout $who.key -out $who.csr
		printf 'subjectAltName=IP:127.0.0.1,IP:::1\n' > $who.ext
		openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key \
			-CAcreateserial -days 2 -extfile $who.ext -out $who.pem
	done
) > "$WORK/openssl.log" 2>&1
check "test certificates are made" test -s "$C/client.pem"

PS=25100 # TLS server node
PM=25110 # mutual TLS node
PP=25120 # proxy node
opts_tls() {
	printf 'tls_cert = %s\ntls_key = %s\ntls_ca = %s\n' \
		"$C/server.pem" "$C/server.key" "$C/ca.pem"
}
sip_conf "$WORK/s.conf" "$WORK/s.sock" $PS message_timeout_ms=300
sed -i "s/^listen = .*/listen = tls:127.0.0.1:$PS udp:127.0.0.1:$PS/" "$WORK/s.conf"
opts_tls >> "$WORK/s.conf"
start_node "$WORK/s.conf" "$WORK/s.log" && S=$NODE_PID
check "a node with a TLS listener starts" grep -q "listening on TLS 127.0.0.1:$PS" "$WORK/s.log"

msg() { # FILE TRANSPORT
	{
		printf 'OPTIONS sip:n@127.0.0.1:%s SIP/2.0\r\n' $PS
		printf 'Via: SIP/2.0/%s 127.0.0.1:25101;branch=z9hG4bK-t%s\r\n' "$2" "$$"
		printf 'Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=t1\r\n'
		printf 'To: <sip:n@127.0.0.1>\r\nCall-ID: tls-%s-%s@t\r\n' "$2" "$$"
		printf 'CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n'
	} > "$1"
}
msg "$WORK/o" TLS
"$SIP_SEND" -t tls -A "$C/ca.pem" -n -p $PS "$WORK/o" > "$WORK/out"
check "OPTIONS over TLS gets 200" grep -q '^final=200' "$WORK/out"
check "over TLS 1.2 or 1.3" grep -q '^tls=TLSv1\.[23]' "$WORK/out"

"$SIP_SEND" -t tcp -k -w 5000 -p $PS /dev/null > "$WORK/out"
check "a handshake never started is cut after message_timeout_ms" \
	grep -q '^eof=yes' "$WORK/out"
check "and logged" grep -q 'TLS handshake not completed' "$WORK/s.log"

sip_conf "$WORK/m.conf" "$WORK/m.sock" $PM tls_verify_client=yes
sed -i "s/^listen = .*/listen = tls:127.0.0.1:$PM/" "$WORK/m.conf"
opts_tls >> "$WORK/m.conf"
start_node "$WORK/m.conf" "$WORK/m.log" && M=$NODE_PID
sed "s/$PS/$PM/" "$WORK/o" > "$WORK/om"
"$SIP_SEND" -t tls -A "$C/ca.pem" -n -w 5000 -p $PM "$WORK/om" > "$WORK/out"
check "mutual TLS: no client certificate, no answer" \
	sh -c "! grep -q '^final=200' '$WORK/out'"
check "and the refusal is logged" grep -q 'TLS handshake' "$WORK/m.log"
"$SIP_SEND" -t tls -A "$C/ca.pem" -C "$C/client.pem" -K "$C/client.key" \
	-n -p $PM "$WORK/om" > "$WORK/out"
check "mutual TLS: with a client certificate, 200" grep -q '^final=200' "$WORK/out"

# A proxy reached over UDP forwards to the TLS node, checking its certificate.
sip_conf "$WORK/p.conf" "$WORK/p.sock" $PP mode=proxy \
	next_hop=tls:127.0.0.1:$PS
sed -i "s/^listen = .*/listen = udp:127.0.0.1:$PP/" "$WORK/p.conf"
printf 'tls_ca = %s\n' "$C/ca.pem" >> "$WORK/p.conf"
start_node "$WORK/p.conf" "$WORK/p.log" && P=$NODE_PID
msg "$WORK/op" UDP
sed -i "s/^Via: SIP\/2.0\/UDP 127.0.0.1:25101/Via: SIP\/2.0\/UDP 127.0.0.1:25121/" "$WORK/op"
"$SIP_SEND" -t udp -n -p $PP "$WORK/op" > "$WORK/out"
check "a proxy forwards over TLS and the 200 comes back over UDP" \
	grep -q '^final=200' "$WORK/out"
check "after checking the next hop's certificate" \
	grep -q "TLS connection [0-9]* with 127.0.0.1:$PS: TLSv1" "$WORK/p.log"

ok=0
for n in "$S:s" "$M:m" "$P:p"; do
	stop_node "${n%%:*}" "$WORK/${n#*:}.log" || ok=1
done
check "the three nodes stop cleanly" test $ok = 0
finish
