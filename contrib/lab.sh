#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The lab: install dependencies, build, and start every node of conf/lab/
# on loopback, then show what runs.
#   contrib/lab.sh [start]   build and (re)start the lab
#   contrib/lab.sh status    show each node's plugins
#   contrib/lab.sh stop      stop every lab node
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

case "${1:-start}" in
start)
	sh "$top/contrib/deps.sh"
	sh "$top/contrib/build.sh" _build
	mkdir -p "$run"
	stop_lab
	plugin_path=$(ls -d "$build"/plugins/* "$build"/hw/* 2>/dev/null | tr '\n' ':')
	for conf in "$top"/conf/lab/*.conf; do
		start_node "$conf"
	done
	status_lab
	echo
	echo "The lab runs. Logs: $run/*.log. Try:"
	echo "  $build/core/tandemctl -c conf/lab/core.conf help"
	echo "  $build/core/tandemctl -c conf/lab/core.conf skel greet you"
	echo "Stop it with: contrib/lab.sh stop"
	;;
status) status_lab ;;
stop) stop_lab; echo "lab stopped" ;;
*) echo "usage: contrib/lab.sh [start|status|stop]" >&2; exit 2 ;;
esac
