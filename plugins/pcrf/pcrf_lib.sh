# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the PCRF tests: three nodes on loopback, each its own
# Diameter identity - the PCRF (pcrf.ims.lab:3868), an AF with rxclient
# and rxdrive (af.ims.lab:3869), a packet gateway with pcef
# (pgw.ims.lab:3870). Sourced after dia_lib.sh's dia_netns and
# tests/integration/lib.sh.

PLUGIN_PATH="$abs_top_builddir/plugins/pcrf:$abs_top_builddir/plugins/diameter:$PLUGIN_PATH"
PCRF_PORT=3868 AF_PORT=3869 GW_PORT=3870

# pcrf_node NAME ID PORT PEERS ACCEPT LOAD [EXTRA SECTIONS on stdin]
pcrf_node_conf() {
	cat <<CONF
[node]
name = $1
control_socket = $WORK/$1.sock
log_level = ${PCRF_LOG_LEVEL:-info}
[plugins]
load = diameter $6
CONF
	dia_section "$2" "$3" "$4" "$5"
	cat
}

pcrf_conf() {
	pcrf_node_conf pcrf pcrf.ims.lab $PCRF_PORT "" \
		"af.ims.lab pgw.ims.lab" pcrf <<CONF
[pcrf]
db_path = $WORK/pcrf.db
audit_interval_s = ${PCRF_AUDIT:-60}
${PCRF_EXTRA:-}
CONF
}

af_conf() {
	pcrf_node_conf af af.ims.lab $AF_PORT "pcrf.ims.lab@127.0.0.1:$PCRF_PORT" \
		"" "${AF_LOAD:-rxclient rxdrive}" <<CONF
[rxclient]
pcrf_host = pcrf.ims.lab
${AF_EXTRA:-}
CONF
}

gw_conf() {
	pcrf_node_conf gw pgw.ims.lab $GW_PORT "pcrf.ims.lab@127.0.0.1:$PCRF_PORT" \
		"" pcef <<CONF
[pcef]
pcrf_host = pcrf.ims.lab
CONF
}

pcrf() { "$TANDEMCTL" -s "$WORK/pcrf.sock" "$@"; }
af() { "$TANDEMCTL" -s "$WORK/af.sock" "$@"; }
gw() { "$TANDEMCTL" -s "$WORK/gw.sock" "$@"; }

# field VALUE-OF KEY from "key: value" output on stdin
field() { awk -v k="$1" '$1 == k":" { print $2; exit }'; }

peer_open() { "$TANDEMCTL" -s "$WORK/$1.sock" diameter show peers 2>/dev/null |
	grep -q "^state: *OPEN"; }

# Start the three nodes and wait until AF and GW are connected to the PCRF.
pcrf_start_all() {
	dia_certs pcrf.ims.lab af.ims.lab pgw.ims.lab
	pcrf_conf > "$WORK/pcrf.conf"
	af_conf > "$WORK/af.conf"
	gw_conf > "$WORK/gw.conf"
	start_node "$WORK/pcrf.conf" "$WORK/pcrf.log" || return 1
	PID_PCRF=$NODE_PID
	start_node "$WORK/af.conf" "$WORK/af.log" || return 1
	PID_AF=$NODE_PID
	start_node "$WORK/gw.conf" "$WORK/gw.log" || return 1
	PID_GW=$NODE_PID
	dia_wait 15 peer_open af && dia_wait 15 peer_open gw
}

pcrf_logs() { for f in "$WORK"/*.log; do echo "# --- $f"; diag "$f"; done; }

# rules_of ADDR: the PCEF's rules for a UE, one JSON record a line.
rules_of() { gw --json pcef show rules "$1" | sed 's/},{/}\n{/g'; }

# raw EXPECTED ITEMS...: send with diaraw (loaded in the AF node), wait
# for an answer matching EXPECTED.
raw() {
	want=$1; shift
	af diaraw send "$@" > /dev/null || return 1
	got() { af diaraw last | grep -q "$want"; }
	dia_wait 5 got || { af diaraw last | sed 's/^/# got /'; return 1; }
}

# norules ADDR: the PCEF holds no rule for the UE.
norules() { gw pcef show rules "$1" | grep -q '^no rules'; }
