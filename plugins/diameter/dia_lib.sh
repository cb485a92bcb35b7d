# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the Diameter tests, on top of tests/integration/lib.sh:
# certificates, free ports, node configs. Sourced, not run.

# Lab certificates for the identities given.
dia_certs() {
	sh "$DIA_SRCDIR/diameter-certs.sh" "$WORK/certs" "$@" >/dev/null
}

# A TCP port nobody listens on, from a range per test process.
dia_port() {
	base=$(( 20000 + ($$ % 2000) * 10 ))
	n=${1:-0}
	echo $((base + n))
}

# dia_section ID PORT PEERS [ACCEPT]: the [diameter] section of a node.
dia_section() {
	cat <<CONF
[diameter]
identity = $1
listen_address = 127.0.0.1
port = $2
peers = $3
accept_peers = ${4:-}
tls_cert = $WORK/certs/$1.pem
tls_key = $WORK/certs/$1.key
tls_ca = $WORK/certs/ca.pem
tc_timer_s = 1
CONF
}

# diaclient ID PORT PEER [ARGS...]: the test client, certificates given.
diaclient() {
	id=$1 port=$2 peer=$3
	shift 3
	"$DIACLIENT" -i "$id" -p "$port" -P "$peer" \
		--cert "$WORK/certs/$id.pem" --key "$WORK/certs/$id.key" \
		--ca "$WORK/certs/ca.pem" "$@"
}

# dia_wait SECONDS COMMAND...: poll (bounded) until the command succeeds.
dia_wait() {
	t=$1
	shift
	for _ in $(seq 1 $((t * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# Run the calling test in a network namespace of its own with only lo up:
# its ports cannot collide with other tests, and nothing leaves the
# machine. Call first thing, with "$0" "$@".
dia_netns() {
	if [ -z "$DIA_IN_NETNS" ] && command -v unshare >/dev/null &&
		unshare -rn true 2>/dev/null; then
		DIA_IN_NETNS=1 exec unshare -rn sh "$@"
	fi
	ip link set lo up 2>/dev/null || true
}
