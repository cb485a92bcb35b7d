# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers of the sip plugin's integration tests. Sourced after
# tests/integration/lib.sh, not run.

# sip_conf FILE SOCK PORT [KEY=VALUE...]: a node running the sip plugin
# with UDP and TCP listeners on 127.0.0.1:PORT; extra [sip] keys follow.
sip_conf() {
	f=$1 sock=$2 port=$3
	shift 3
	{
		printf '[node]\nname = sip-test\ncontrol_socket = %s\n' "$sock"
		printf 'log_level = info\n[plugins]\nload = sip\n[sip]\n'
		printf 'listen = udp:127.0.0.1:%s tcp:127.0.0.1:%s\n' "$port" "$port"
		for kv in "$@"; do
			printf '%s\n' "$kv" | sed 's/=/ = /'
		done
	} > "$f"
}

# stop_node PID LOG: SIGTERM, then check the node ended cleanly (exit 0,
# which under ASan also means no leak report).
stop_node() {
	kill -TERM "$1" 2>/dev/null
	wait_exit "$1" 20
	if [ "$rc" = 0 ]; then
		return 0
	fi
	echo "# node exit: $rc"
	tail -n 30 "$2" | sed 's/^/# /'
	return 1
}

# ctl SOCK ARGS...: tandemctl against a node
ctl() {
	s=$1
	shift
	"$TANDEMCTL" -s "$s" "$@"
}

# stat_value SOCK NAME: one counter of `show stats`
stat_value() {
	ctl "$1" --json show stats | tr '{' '\n' |
		sed -n "s/^\"counter\":\"$2\",\"value\":\([0-9]*\).*/\1/p"
}
