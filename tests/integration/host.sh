#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tandemd with the template plugin, driven through tandemctl: commands,
# JSON, errors, SIGHUP reload, graceful stop.
. "$abs_top_srcdir/tests/integration/lib.sh"
plan 18

SOCK="$WORK/node.sock"
cat > "$WORK/node.conf" <<CONF
[node]
name = t1
control_socket = $SOCK
log_level = info
[plugins]
load = skel
[skel]
greeting = hi
interval_ms = 20
CONF

if start_node "$WORK/node.conf" "$WORK/node.log"; then
	pass "tandemd starts with the skel plugin"
else
	fail "tandemd starts with the skel plugin"; diag "$WORK/node.log"; finish
fi

ctl() { "$TANDEMCTL" -s "$SOCK" "$@"; }
ctl show plugins > "$WORK/out"
check "show plugins lists skel as running" \
	sh -c "grep -q '^state: *running' '$WORK/out' && grep -q '^provides: *skel/1' '$WORK/out'"
check "the socket is mode 0660" \
	sh -c "[ \"\$(stat -c %a '$SOCK')\" = 660 ]"
out=$(ctl skel greet world)
check "a plugin command answers" test "$out" = "greeting: hi, world"
out=$(ctl --json skel greet world)
check "--json answers JSON" test "$out" = '{"ok":true,"records":[{"greeting":"hi, world"}]}'
ctl skel bogus > "$WORK/out" 2> "$WORK/err"; rc=$?
check "an unknown command exits 1" test "$rc" = 1
check "and says so on stderr" grep -q "^error: unknown command 'skel bogus'" "$WORK/err"
ctl skel greet > /dev/null 2> "$WORK/err"; rc=$?
check "a command's usage error exits 1" sh -c "[ $rc = 1 ] && grep -q 'usage: skel greet NAME' '$WORK/err'"
"$TANDEMCTL" -s "$WORK/none.sock" show plugins 2> "$WORK/err"; rc=$?
check "an unreachable node exits 2 with a reason" \
	sh -c "[ $rc = 2 ] && grep -q 'cannot reach the node' '$WORK/err'"
sleep 0.2
ticks=$(ctl --json show stats | sed -n 's/.*"skel.ticks","value":\([0-9]*\).*/\1/p')
check "the timer ticks and show stats counts it (ticks=$ticks)" test "${ticks:-0}" -gt 0
check "show params shows the configured value" \
	sh -c "'$TANDEMCTL' -s '$SOCK' show params skel | grep -Eq '^skel +greeting +string +hi '"
check "log level changes a category" \
	sh -c "'$TANDEMCTL' -s '$SOCK' log level skel debug >/dev/null && '$TANDEMCTL' -s '$SOCK' show log | grep -Eq '^skel +debug'"

# SIGHUP: a reloadable parameter changes, a fixed one needs a restart.
sed -i 's/^greeting = hi/greeting = hello/; s/^interval_ms = 20/interval_ms = 30/' "$WORK/node.conf"
sed -i 's/^log_level = info/log_level = info\nuser =/' "$WORK/node.conf"
printf 'enabled = no\n' >> "$WORK/node.conf"
kill -HUP "$NODE_PID"
wait_for "$WORK/node.log" "changed: skel.greeting"
check "SIGHUP applies reloadable parameters" \
	sh -c "[ \"\$('$TANDEMCTL' -s '$SOCK' skel greet x)\" = 'greeting: hello, x' ]"
check "and reports what changed and what needs a restart" \
	grep -q "changed: skel.greeting, skel.interval_ms; need a restart: skel.enabled" "$WORK/node.log"
printf 'bogus = 1\n' >> "$WORK/node.conf"
ctl reload > /dev/null 2> "$WORK/err"; rc=$?
check "a reload with errors is refused and the node keeps running" \
	sh -c "[ $rc = 1 ] && grep -q 'reload refused' '$WORK/err' && '$TANDEMCTL' -s '$SOCK' skel show >/dev/null"
check "the refusal names file and line" grep -q "node.conf:12: \[skel\] unknown key 'bogus'" "$WORK/node.log"

kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 10
check "SIGTERM stops the node with exit code 0 (got $rc)" test "$rc" = 0
check "the socket is removed on stop" test ! -e "$SOCK"
finish
