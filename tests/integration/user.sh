#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# [node] user: the node hands its control socket to that user and runs as
# it; a user that does not exist is refused with one line.
. "$abs_top_srcdir/tests/integration/lib.sh"
plan 4

if [ "$(id -u)" != 0 ]; then
	for i in 1 2 3 4; do echo "ok $i # SKIP switching user needs root"; done
	exit 0
fi
chmod 755 "$WORK"
SOCK="$WORK/node.sock"
cat > "$WORK/node.conf" <<CONF
[node]
control_socket = $SOCK
user = nobody
[plugins]
load = skel
CONF
if start_node "$WORK/node.conf" "$WORK/node.log"; then
	uid=$(awk '/^Uid:/ {print $2}' "/proc/$NODE_PID/status")
	check "the node runs as nobody (uid $uid)" test "$uid" = "$(id -u nobody)"
	check "the control socket belongs to nobody" \
		test "$(stat -c %U "$SOCK")" = nobody
	kill -TERM "$NODE_PID"; wait_exit "$NODE_PID" 10
	check "it stops cleanly (exit $rc)" test "$rc" = 0
else
	fail "the node starts as nobody"; diag "$WORK/node.log"
	fail "the control socket belongs to nobody"
	fail "it stops cleanly"
fi
sed -i 's/^user = nobody/user = no-such-user-here/' "$WORK/node.conf"
"$TANDEMD" -c "$WORK/node.conf" --plugin-path "$PLUGIN_PATH" 2> "$WORK/err"; rc=$?
check "an unknown user is refused with one line (exit $rc)" \
	sh -c "[ $rc = 1 ] && grep -q \"node.conf:3: \\[node\\] user 'no-such-user-here' does not exist\" '$WORK/err' && [ \$(grep -c ' error ' '$WORK/err') = 1 ]"
finish
