#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The lab: install dependencies, build, and start every node of conf/lab/
# on loopback, then show what runs.
#   contrib/lab.sh [start]   build and (re)start the lab
#   contrib/lab.sh status    show each node's plugins
#   contrib/lab.sh stop      stop every lab node
#   contrib/lab.sh demo      an IMS UE (alice) and a PBX extension call each
#                            other through the core, the SBC and the gateway
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
run=/tmp/tandem-lab
build="$top/_build"

node_name() { sed -n 's/^name *= *//p' "$1" | head -n 1; }

stop_lab() {
	for pidfile in "$run"/*.pid; do
		[ -f "$pidfile" ] || continue
		pid=$(cat "$pidfile")
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		rm -f "$pidfile"
	done
}

status_lab() {
	for conf in "$top"/conf/lab/*.conf; do
		name=$(node_name "$conf")
		echo "== $name ($conf)"
		"$build/core/tandemctl" -c "$conf" show plugins || true
	done
}

start_node() {
	conf=$1
	name=$(node_name "$conf")
	"$build/core/tandemd" --check -c "$conf" --plugin-path "$plugin_path" >/dev/null
	nohup "$build/core/tandemd" -c "$conf" --plugin-path "$plugin_path" \
		> "$run/$name.log" 2>&1 &
	echo $! > "$run/$name.pid"
	for _ in $(seq 1 50); do
		"$build/core/tandemctl" -c "$conf" show plugins >/dev/null 2>&1 &&
			return 0
		sleep 0.1
	done
	echo "lab: node $name did not come up; see $run/$name.log" >&2
	return 1
}

# Demo subscribers of the IMS core (kept in its HSS database across
# restarts): two AKA UEs with TS 35.208 test sets 3 and 15 (sipp can read
# their keys) and a softphone with SIP Digest.
ims_lab_subscribers() {
	hss="$build/core/tandemctl -c $top/conf/lab/ims-hss.conf"
	[ -f "$top/conf/lab/ims-hss.conf" ] || return 0
	$hss hss subscriber add alice@ims.lab \
		impu=sip:alice@ims.lab,tel:+15550001 amf=8000 \
		k=fec86ba6eb707ed08905757b1bb44b8f \
		op=dbc59adcb6f9a0ef735477b7fadf8374 > /dev/null 2>&1 || true
	$hss hss subscriber add bob@ims.lab \
		impu=sip:bob@ims.lab,tel:+15550002 amf=8000 \
		k=af7c65e1927221de591187a2c5987a53 \
		op=0c7acb8d95b7d4a31c5aca6d26345a88 > /dev/null 2>&1 || true
	$hss hss subscriber add phone@ims.lab \
		impu=sip:phone@ims.lab,tel:+15550003 scheme=digest \
		password=tandem-lab > /dev/null 2>&1 || true
}

# The UEs' IP-CAN session (they all sit on 127.0.0.1) at the lab's packet
# gateway, once its Gx link to the PCRF is up: calls then get bearers.
ims_lab_bearers() {
	pgw="$build/core/tandemctl -c $top/conf/lab/ims-pgw.conf"
	[ -f "$top/conf/lab/ims-pgw.conf" ] || return 0
	for _ in $(seq 1 100); do
		$pgw diameter show peers 2>/dev/null | grep -q '^state: *OPEN' &&
			break
		sleep 0.2
	done
	$pgw pcef open 127.0.0.1 > /dev/null 2>&1
	for _ in $(seq 1 50); do
		$pgw pcef show rules 127.0.0.1 > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "lab: the packet gateway did not open the UEs' IP-CAN session" >&2
}

# The legacy PBX (contrib/pbxsim) on the gateway's simulated E1; commands
# go to its fifo $run/pbx.in, events to $run/pbx.log.
start_pbx() {
	[ -f "$top/conf/lab/pbx.ini" ] || return 0
	nohup "$build/contrib/pbxsim/pbxsim" -c "$top/conf/lab/pbx.ini" \
		--fifo "$run/pbx.in" > "$run/pbx.log" 2>&1 &
	echo $! > "$run/pbx.pid"
}

case "${1:-start}" in
start)
	sh "$top/contrib/deps.sh"
	sh "$top/contrib/build.sh" _build
	mkdir -p "$run"
	stop_lab
	plugin_path=$(ls -d "$build"/plugins/* "$build"/hw/* 2>/dev/null | tr '\n' ':')
	# the IMS core's Diameter identities (freeDiameter wants certificates)
	sh "$top/plugins/diameter/diameter-certs.sh" "$run/certs" \
		hss.ims.lab icscf.ims.lab scscf.ims.lab pcscf.ims.lab \
		pcrf.ims.lab pgw.ims.lab > /dev/null
	for conf in "$top"/conf/lab/*.conf; do
		start_node "$conf"
	done
	start_pbx
	ims_lab_subscribers
	ims_lab_bearers
	status_lab
	echo
	echo "The lab runs. Logs: $run/*.log. Try:"
	echo "  $build/core/tandemctl -c conf/lab/core.conf help"
	echo "  $build/core/tandemctl -c conf/lab/core.conf skel greet you"
	echo "IMS core: register a softphone to domain ims.lab through the"
	echo "  outbound proxy 127.0.0.1:5060 (UDP) as phone@ims.lab (authentication"
	echo "  user phone@ims.lab), password"
	echo "  tandem-lab; AKA UEs alice and bob: docs/ims.md (sipp)."
	echo "  $build/core/tandemctl -c conf/lab/ims-pcscf.conf pcscf registrations"
	echo "Policy: each IMS call gets a QCI 1 bearer at the lab's packet gateway"
	echo "  (P-CSCF -> Rx -> PCRF -> Gx):"
	echo "  $build/core/tandemctl -c conf/lab/ims-pgw.conf pcef show rules 127.0.0.1"
	echo "PSTN: the gateway (conf/lab/gateway.conf) and a PBX on its E1;"
	echo "  calls both ways with a ladder and media quality: contrib/lab.sh demo"
	echo "SBC: the PBX trunk reaches the IMS core through conf/lab/sbc.conf"
	echo "  (access side 127.0.0.1:7070 for the gateway, core side 127.0.0.1:7080"
	echo "  for the S-CSCF's breakout), media anchored on its ports:"
	echo "  $build/core/tandemctl -c conf/lab/sbc.conf sbc show calls"
	echo "Stop it with: contrib/lab.sh stop"
	;;
demo) sh "$top/contrib/pbxsim/pbxsim-demo.sh" "$top" "$build" "$run" ;;
status) status_lab ;;
stop) stop_lab; echo "lab stopped" ;;
*) echo "usage: contrib/lab.sh [start|status|stop|demo]" >&2; exit 2 ;;
esac
