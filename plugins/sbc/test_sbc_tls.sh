#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Mutual TLS per peer: the SBC's access listener is TLS with
# tls_verify_client = yes and tls_ca = the peers' CA; peer "pbx" has
# tls_name = pbx.example.com. A CA, the SBC's certificate and the peers'
# are made here with the openssl tool.
# Debian's sipp 3.6.1 has no TLS, so each caller is sipp over TCP to a
# small relay (python3's ssl module, OpenSSL) that opens the TLS
# connection to the SBC with a client certificate: the SBC sees a real
# TLS client and its certificate.
# - certificate of the peers' CA naming pbx.example.com: the call crosses
#   to a sipp uas on the core side;
# - certificate of another CA: refused at the handshake, no call reaches
#   the core, the node keeps serving;
# - the peers' CA but another name: 403 Certificate Required;
# - the same peer over plain UDP: 403 as well;
# - the SBC's OPTIONS keep-alive reaches the pbx over TLS, the pbx's TLS
#   server (the relay the other way) requiring and verifying the SBC's
#   certificate.
# Runs in a network namespace of its own; every run is bounded.
. "$abs_top_srcdir/tests/integration/lib.sh"

in_netns "$@"
need_sipp
if ! command -v openssl > /dev/null || ! python3 -c 'import ssl' 2>/dev/null
then
	echo "1..0 # SKIP needs the openssl tool and python3 with ssl"
	exit 0
fi
plan 16

SOCK="$WORK/sbc.sock"
P_UDP=5360	# the SBC's plain listener (access side too)
P_TLS=5361	# the SBC's TLS listener
P_GOOD=5362	# relay: the pbx's certificate
P_NAME=5363	# relay: the peers' CA, another name
P_ROGUE=5364	# relay: another CA
P_CORE=5370	# sipp uas of the core side
P_UAC=5365	# sipp uac's own port
P_PBXTLS=5366	# the pbx's TLS server (relay, the SBC's certificate required)
P_PBXOPT=5367	# behind it, a sipp answering the SBC's OPTIONS over TCP
HELPER_PIDS=""
trap 'for p in $HELPER_PIDS; do kill "$p" 2>/dev/null; done; cleanup' EXIT

# ---- certificates ----
C="$WORK/certs"
mkdir -p "$C"
# cert NAME CA SAN: NAME.pem / NAME.key signed by CA (CA.pem / CA.key)
cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=$1" -keyout "$C/$1.key" -out "$C/$1.csr" &&
	printf 'subjectAltName=%s\n' "$3" > "$C/$1.ext" &&
	openssl x509 -req -in "$C/$1.csr" -CA "$C/$2.pem" -CAkey "$C/$2.key" \
		-CAcreateserial -days 2 -extfile "$C/$1.ext" -out "$C/$1.pem"
}
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 2 -subj "/CN=$1" -keyout "$C/$1.key" -out "$C/$1.pem" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign"
}
{
	ca peers-ca && ca rogue-ca &&
	cert sbc.test peers-ca "IP:127.0.0.1" &&
	cert pbx.example.com peers-ca "DNS:pbx.example.com" &&
	cert other.example.com peers-ca "DNS:other.example.com" &&
	mkdir -p "$C/rogue" &&
	cert pbx.example.com rogue-ca "DNS:pbx.example.com" &&
	mv "$C/pbx.example.com.pem" "$C/rogue/pbx.pem" &&
	mv "$C/pbx.example.com.key" "$C/rogue/pbx.key" &&
	cert pbx.example.com peers-ca "DNS:pbx.example.com,IP:127.0.0.1"
} > "$WORK/openssl.log" 2>&1
check "test certificates are made" \
	test -s "$C/pbx.example.com.pem" -a -s "$C/rogue/pbx.pem"

# ---- the relay: TCP in (sipp), TLS out with a client certificate; or,
# with "server", TLS in (the SBC, its certificate required), TCP out ----
cat > "$WORK/relay.py" <<'PY'
import select, socket, ssl, sys, threading

port, target, ca, cert, key, log = sys.argv[1:7]
server = sys.argv[7:] == ["server"]
out = open(log, "a", buffering=1)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else
                     ssl.PROTOCOL_TLS_CLIENT)
if server:
    ctx.verify_mode = ssl.CERT_REQUIRED
else:
    ctx.check_hostname = False  # the SBC's certificate names 127.0.0.1
ctx.load_verify_locations(ca)
ctx.load_cert_chain(cert, key)
host, tport = target.rsplit(":", 1)

def send_all(sock, data):
    while data:
        try:
            data = data[sock.send(data):]
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
            select.select([], [sock], [], 5)

# The TLS side is non-blocking: a TLS 1.3 session ticket makes it
# readable with no data for us, which must not block the relay.
def relay(plain, tls):
    tls.setblocking(False)
    try:
        while True:
            ready = [tls] if tls.pending() else \
                select.select([plain, tls], [], [], 60)[0]
            if not ready:
                return
            for s in ready:
                try:
                    data = s.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    continue
                if not data:
                    out.write("closed by the %s side\n" %
                              ("sipp" if s is plain else "SBC"))
                    return
                send_all(tls if s is plain else plain, data)
    except (OSError, ssl.SSLError) as e:
        out.write("relay ended: %s\n" % e)
    finally:
        plain.close()
        tls.close()

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(port)))
srv.listen(8)
out.write("listening\n")
def client_cn(tls):
    subject = dict(x[0] for x in tls.getpeercert().get("subject", ()))
    return subject.get("commonName", "?")

while True:
    conn, _ = srv.accept()
    try:
        if server:
            tls = ctx.wrap_socket(conn, server_side=True)
            out.write("TLS up: %s, client %s\n" % (tls.version(),
                                                   client_cn(tls)))
            plain = socket.create_connection((host, int(tport)), timeout=10)
            plain.settimeout(None)
        else:
            plain = conn
            raw = socket.create_connection((host, int(tport)), timeout=10)
            tls = ctx.wrap_socket(raw, server_hostname=host)
            out.write("TLS up: %s\n" % tls.version())
    except (OSError, ssl.SSLError) as e:
        out.write("handshake failed: %s\n" % e)
        conn.close()
        continue
    threading.Thread(target=relay, args=(plain, tls), daemon=True).start()
PY

# relay NAME PORT CERT KEY [TARGET server]: a relay to the SBC's TLS
# listener, or a TLS server relaying to TARGET
relay() {
	python3 "$WORK/relay.py" "$2" "${5:-127.0.0.1:$P_TLS}" \
		"$C/peers-ca.pem" "$3" "$4" "$WORK/relay-$1.log" $6 \
		2>> "$WORK/relay-$1.log" &
	HELPER_PIDS="$HELPER_PIDS $!"
	wait_for "$WORK/relay-$1.log" listening
}
# wait_port -u|-t PORT: bounded wait until something listens there
wait_port() {
	for _ in $(seq 1 50); do
		ss -ln "$1" | grep -q "127.0.0.1:$2 " && return 0
		sleep 0.1
	done
	return 1
}

# the pbx's side of the keep-alive: TLS server, sipp behind it
"$SIPP" -sf "$SBC_SRCDIR/sipp/sbc_trunk_options.xml" -t t1 -i 127.0.0.1 \
	-p $P_PBXOPT -nostdin -timeout 120s -trace_msg \
	-message_file "$WORK/pbx-opt.msg" > "$WORK/pbx-opt.out" 2>&1 &
HELPER_PIDS="$HELPER_PIDS $!"
wait_port -t $P_PBXOPT
relay pbxtls $P_PBXTLS "$C/pbx.example.com.pem" "$C/pbx.example.com.key" \
	"127.0.0.1:$P_PBXOPT" server

cat > "$WORK/sbc.conf" <<CONF
[node]
name = sbc-tls
control_socket = $SOCK
log_level = info
[plugins]
load = sip media sbc
[sip]
listen = tls:127.0.0.1:$P_TLS udp:127.0.0.1:$P_UDP
tls_cert = $C/sbc.test.pem
tls_key = $C/sbc.test.key
tls_ca = $C/peers-ca.pem
tls_verify_client = yes
[media]
workers = 1
pin_workers = no
rtp_address = 127.0.0.1
[sbc]
core_next_hop = udp:127.0.0.1:$P_CORE
core_domain = 127.0.0.1:$P_CORE
[sbc-peer pbx]
address = 127.0.0.1
tls_name = pbx.example.com
destination = tls:127.0.0.1:$P_PBXTLS
options_interval_s = 1
CONF
if start_node "$WORK/sbc.conf" "$WORK/sbc.log"; then
	pass "an SBC node with a mutual TLS listener starts"
else
	fail "an SBC node with a mutual TLS listener starts"
	diag "$WORK/sbc.log"; finish
fi
relay good $P_GOOD "$C/pbx.example.com.pem" "$C/pbx.example.com.key"
relay name $P_NAME "$C/other.example.com.pem" "$C/other.example.com.key"
relay rogue $P_ROGUE "$C/rogue/pbx.pem" "$C/rogue/pbx.key"

# the core side: a sipp uas answering calls
"$SIPP" -sf "$abs_top_srcdir/contrib/sipp/uas_call.xml" -t u1 \
	-i 127.0.0.1 -p $P_CORE -nostdin -timeout 120s -trace_msg \
	-message_file "$WORK/uas.msg" > "$WORK/uas.out" 2>&1 &
HELPER_PIDS="$HELPER_PIDS $!"
wait_port -u $P_CORE

# ---- the keep-alive towards the pbx over TLS ----
check "the keep-alive reaches the pbx over TLS (OPTIONS answered 200)" \
	sh -c "for i in \$(seq 1 50); do \"$TANDEMCTL\" -s \"$SOCK\" --json sbc show peers |
		grep -q '\"destination1_check\":\"200 ' && exit 0; sleep 0.2; done; exit 1"
check "the pbx's TLS server verified the SBC's certificate" \
	grep -q 'TLS up: TLSv1\.[23], client sbc.test' "$WORK/relay-pbxtls.log"

# call NAME SCENARIO TRANSPORT PORT COUNT: a bounded sipp uac; sets
# uac_rc, ok_calls
call() {
	"$SIPP" -sf "$SBC_SRCDIR/sipp/$2" -t "$3" "127.0.0.1:$4" -s callee \
		-i 127.0.0.1 -p $P_UAC -m "$5" -r 5 -nostdin -timeout 20s \
		-max_reconnect 0 -trace_msg -message_file "$WORK/uac-$1.msg" \
		> "$WORK/uac-$1.out" 2>&1
	uac_rc=$?
	ok_calls=$(sed -n 's/^ *Successful call *|.*| *\([0-9]*\) *$/\1/p' \
		"$WORK/uac-$1.out" | tail -n 1)
}
invites_at_core() { grep -c '^INVITE ' "$WORK/uas.msg" 2>/dev/null; }

# ---- the right certificate: calls cross ----
call good sbc_uac_call.xml t1 $P_GOOD 3
check "the pbx's certificate: 3 calls cross to the core (${ok_calls:-0})" \
	test "$uac_rc" = 0 -a "${ok_calls:-0}" = 3
check "over TLS 1.2 or 1.3" grep -q 'TLS up: TLSv1\.[23]' "$WORK/relay-good.log"
check "the core side answered 3 INVITEs" test "$(invites_at_core)" = 3

# ---- a certificate of another CA: refused at the handshake ----
call rogue sbc_tls_uac_403.xml t1 $P_ROGUE 1
check "another CA's certificate: the call fails, no answer at all" \
	sh -c "[ '$uac_rc' != 0 ] && ! grep -q 'SIP/2.0 [0-9]' '$WORK/uac-rogue.msg' 2>/dev/null"
check "the SBC refused the handshake (logged)" \
	grep -q 'closed: TLS handshake: certificate' "$WORK/sbc.log"
check "nothing reached the core" test "$(invites_at_core)" = 3

# ---- the peers' CA, another name: 403 ----
call name sbc_tls_uac_403.xml t1 $P_NAME 1
check "a certificate naming another host: 403 (${ok_calls:-0} of 1)" \
	test "$uac_rc" = 0 -a "${ok_calls:-0}" = 1
check "with reason Certificate Required" \
	grep -q '^SIP/2.0 403 Certificate Required' "$WORK/uac-name.msg"

# ---- the same peer, not over TLS: 403 ----
call udp sbc_tls_uac_403.xml u1 $P_UDP 1
check "the peer over plain UDP: 403 (${ok_calls:-0} of 1)" \
	test "$uac_rc" = 0 -a "${ok_calls:-0}" = 1
check "both counted: sbc.tls_refused = $("$TANDEMCTL" -s "$SOCK" --json show stats |
	tr '{' '\n' | sed -n 's/^"counter":"sbc.tls_refused","value":\([0-9]*\).*/\1/p')" \
	sh -c "\"$TANDEMCTL\" -s \"$SOCK\" --json show stats | grep -q '\"sbc.tls_refused\",\"value\":2'"

# ---- and the node still serves the right peer ----
call again sbc_uac_call.xml t1 $P_GOOD 1
check "after all that, the pbx still calls through (${ok_calls:-0} of 1)" \
	test "$uac_rc" = 0 -a "${ok_calls:-0}" = 1

kill -TERM "$NODE_PID" 2>/dev/null
wait_exit "$NODE_PID" 20
if [ "$rc" = 0 ]; then
	pass "the SBC stops cleanly"
else
	fail "the SBC stops cleanly (exit $rc)"
	tail -n 30 "$WORK/sbc.log" | diag
fi
if [ "$tap_failed" -gt 0 ]; then
	cat "$WORK"/relay-*.log | diag
	grep -i "sbc\|tls" "$WORK/sbc.log" | tail -n 30 | diag
fi
finish
