# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the span tests, on top of tests/integration/lib.sh. Sourced.
. "$abs_top_srcdir/tests/integration/lib.sh"

# pstat SOCK SPAN FIELD: one field of what the probe saw on a span.
pstat() {
	"$TANDEMCTL" -s "$1" tdmprobe stats 2>/dev/null |
		awk -v s="$2" -v f="$3:" '$1 == "span:" { cur = $2 }
			cur == s && $1 == f { print $2; exit }'
}

# sfield SOCK SPAN FIELD: one field of `span show SPAN` (the whole value).
sfield() {
	"$TANDEMCTL" -s "$1" span show "$2" 2>/dev/null |
		awk -v f="$3:" '$1 == f { $1 = ""; sub(/^ +/, ""); print; exit }'
}

# wait_until SECONDS COMMAND...: retry every 0.1 s until the command
# succeeds; bounded by SECONDS.
wait_until() {
	limit=$(($1 * 10)); shift
	for _ in $(seq 1 "$limit"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# pstat_ge SOCK SPAN FIELD MIN / pstat_eq SOCK SPAN FIELD VALUE
pstat_ge() { v=$(pstat "$1" "$2" "$3"); [ "${v:-0}" -ge "$4" ]; }
pstat_eq() { v=$(pstat "$1" "$2" "$3"); [ "$v" = "$4" ]; }
sfield_is() { v=$(sfield "$1" "$2" "$3"); [ "$v" = "$4" ]; }

# The emulated /dev/dahdi (LD_PRELOAD) for nodes that load the dahdi
# driver. A sanitizer build links ASan into tandemd; the shim is preloaded
# ahead of it, which ASan accepts when told to.
EMU_SHIM="$abs_builddir/dahdi/emu/.libs/dahdi_emu.so"
emu_env() {
	asan=$(ldd "$TANDEMD" 2>/dev/null | grep -c libasan)
	if [ "$asan" != 0 ]; then
		echo "ASAN_OPTIONS=verify_asan_link_order=0:${ASAN_OPTIONS:-}"
	fi
	echo "LD_PRELOAD=$EMU_SHIM"
}

# start_emu_node CONFIG LOG: start_node with the emulator preloaded; the
# DAHDI_EMU_* variables of the caller's environment describe the card.
start_emu_node() {
	# shellcheck disable=SC2046
	env $(emu_env) "$TANDEMD" -c "$1" --plugin-path "$PLUGIN_PATH" 2>"$2" &
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
