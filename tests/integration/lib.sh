# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for the integration tests: TAP output, temporary
# directories, starting and stopping nodes. Sourced, not run.

TANDEMD="$abs_top_builddir/core/tandemd"
TANDEMCTL="$abs_top_builddir/core/tandemctl"
# Every plugin and span driver folder of the build tree.
PLUGIN_PATH=$(ls -d "$abs_top_builddir"/plugins/* "$abs_top_builddir"/hw/* 2>/dev/null | tr '\n' ':')

tap_n=0
tap_failed=0
plan() { echo "1..$1"; }
pass() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
fail() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $1"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() { d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }
diag() { sed 's/^/# /' "$@"; }
finish() { exit $((tap_failed > 0)); }

WORK=$(mktemp -d /tmp/tandem-test.XXXXXX)
NODE_PIDS=""
cleanup() {
	for pid in $NODE_PIDS; do kill -KILL "$pid" 2>/dev/null; done
	if [ -n "${TND_KEEP_WORK:-}${SBC_KEEP_WORK:-}" ]; then
		echo "# traces kept in $WORK" # debugging: TND_KEEP_WORK=1
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# in_netns "$@": run the test again in a network namespace of its own
# (unshare -rn) with only lo, up: nothing it sends can leave the machine
# and its ports meet no other test's. SKIP where that cannot be made.
in_netns() {
	if [ -n "${TND_IN_NETNS:-}" ]; then
		ip link set lo up || { echo "1..0 # SKIP cannot set lo up"; exit 0; }
		return 0
	fi
	if ! unshare -rn true 2>/dev/null; then
		echo "1..0 # SKIP cannot create a network namespace (unshare -rn)"
		exit 0
	fi
	rm -rf "$WORK"
	TND_IN_NETNS=1 exec unshare -rn sh "$0" "$@"
}

# start_node CONFIG LOG: start tandemd in the background and wait (bounded)
# until its control socket answers. Sets NODE_PID.
start_node() {
	$VALGRIND_CMD "$TANDEMD" -c "$1" --plugin-path "$PLUGIN_PATH" 2>"$2" &
	NODE_PID=$!
	NODE_PIDS="$NODE_PIDS $NODE_PID"
	sock=$(sed -n 's/^control_socket *= *//p' "$1")
	for _ in $(seq 1 100); do
		"$TANDEMCTL" -s "$sock" show plugins >/dev/null 2>&1 && return 0
		kill -0 "$NODE_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# wait_exit PID SECONDS: wait (bounded) for a child to end; sets rc to its
# exit code, or to "timeout".
wait_exit() {
	rc=timeout
	for _ in $(seq 1 $(($2 * 10))); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1"; rc=$?; return 0
		fi
		sleep 0.1
	done
}

# wait_for FILE PATTERN: bounded wait (10 s) for a line matching PATTERN.
wait_for() {
	for _ in $(seq 1 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_udp_port PORT: bounded wait (10 s) until a UDP socket is bound to
# PORT (a sipp started in the background is ready for its peer).
wait_udp_port() {
	for _ in $(seq 1 100); do
		ss -Hlun "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# need_sipp: the test is skipped where $SIPP (set by make check) is not
# there to run.
need_sipp() {
	if [ -z "$SIPP" ] || [ ! -x "$SIPP" ]; then
		echo "1..0 # SKIP sipp not found (Debian package sip-tester)"
		exit 0
	fi
}

# conf_refused FILE LINE_REGEX TEXT: `tandemd --check` refuses FILE with a
# message naming the line that matches LINE_REGEX (FILE:LINE:) and
# saying TEXT; its output is kept in FILE.check.
conf_refused() {
	"$TANDEMD" --check -c "$1" --plugin-path "$PLUGIN_PATH" \
		> "$1.check" 2>&1 && return 1
	line=$(grep -n "$2" "$1" | head -n 1 | cut -d: -f1)
	grep -q "$(basename "$1"):$line:.*$3" "$1.check"
}
