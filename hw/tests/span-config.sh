#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# [span N] sections under tandemd --check: the example configs pass; each
# mistake is refused with a message that names file and line.
. "$abs_srcdir/tests/lib-span.sh"
DATA="$abs_srcdir/tests/data"
CONF="$abs_top_srcdir/conf"
n=$(ls "$DATA"/span-*.conf | wc -l)
plan $((n + 3))

tcheck() { "$TANDEMD" --check --plugin-path "$PLUGIN_PATH" -c "$1"; }

out=$(tcheck "$CONF/span-lab.conf" 2>&1); rc=$?
check "conf/span-lab.conf passes --check" \
	sh -c "[ $rc = 0 ] && echo '$out' | grep -q 'configuration OK'"
[ "$rc" = 0 ] || echo "$out" | diag

for f in "$DATA"/span-*.conf; do
	want=$(sed -n 's/^# expect: //p' "$f")
	tcheck "$f" > "$WORK/out" 2> "$WORK/err"; rc=$?
	# Only the config lines: no "failed to initialise" after them.
	if [ "$rc" = 1 ] && grep ' error ' "$WORK/err" | grep -qF "$want" &&
	   ! grep -q 'failed to initialise' "$WORK/err"; then
		pass "$(basename "$f"): $want"
	else
		fail "$(basename "$f"): $want (rc $rc)"; diag "$WORK/err"
	fi
done

# Every mistake of a file is reported, not only the first.
cat > "$WORK/two.conf" <<CONF
[plugins]
load = sim
[span 1]
dchan = 40
[span 2]
bchan = 0-3
CONF
tcheck "$WORK/two.conf" 2> "$WORK/err"
check "two bad spans: both reported" \
	sh -c "grep -q 'two.conf:4: \[span 1\] dchan = 40' '$WORK/err' &&
	       grep -q 'two.conf:6: \[span 2\] bchan = 0-3' '$WORK/err'"

# A T1 span gets T1 defaults: 23 bearers and the D-channel on 24.
cat > "$WORK/t1.conf" <<CONF
[node]
control_socket = $WORK/t1.sock
[plugins]
load = sim
[span 1]
type = t1
CONF
if start_node "$WORK/t1.conf" "$WORK/t1.log"; then
	"$TANDEMCTL" -s "$WORK/t1.sock" span show 1 > "$WORK/out"
	check "T1 defaults: esf, b8zs, ulaw, bchan 1-23, dchan 24" \
		sh -c "grep -q '^framing: *esf' '$WORK/out' &&
		       grep -q '^coding: *b8zs' '$WORK/out' &&
		       grep -q '^law: *ulaw' '$WORK/out' &&
		       grep -q '^bchan: *1-23$' '$WORK/out' &&
		       grep -q '^dchan: *24 ' '$WORK/out'"
else
	fail "T1 defaults"; diag "$WORK/t1.log"
fi
finish
