#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tandemd --check, --version and --list-params: good and bad configs, each
# bad one refused with one line that names file and line.
. "$abs_top_srcdir/tests/integration/lib.sh"
DATA="$abs_top_srcdir/tests/data"
plan 11

tcheck() { "$TANDEMD" --check --plugin-path "$PLUGIN_PATH" -c "$1"; }

out=$(tcheck "$abs_top_srcdir/conf/tandem.conf" 2>&1); rc=$?
check "the example config passes --check" sh -c "[ $rc = 0 ] && echo '$out' | grep -q 'configuration OK (1 plugins)'"

# Each bad config: exit 1, exactly one error line, the expected text.
for f in "$DATA"/bad-*.conf; do
	want=$(sed -n 's/^# expect: //p' "$f")
	tcheck "$f" > "$WORK/out" 2> "$WORK/err"; rc=$?
	lines=$(grep -c ' error ' "$WORK/err")
	if [ "$rc" = 1 ] && [ "$lines" = 1 ] && grep -qF "$want" "$WORK/err"; then
		pass "$(basename "$f"): $want"
	else
		fail "$(basename "$f"): $want"; diag "$WORK/err"
	fi
done

"$TANDEMD" --check -c "$WORK/missing.conf" 2> "$WORK/err"; rc=$?
check "a missing config file is refused" sh -c "[ $rc = 1 ] && grep -q 'missing.conf: cannot read: No such file' '$WORK/err'"
check "--version names the ABI" sh -c "'$TANDEMD' --version | grep -q 'plugin ABI 1\.1'"
"$TANDEMD" --list-params --plugin-path "$PLUGIN_PATH" skel > "$WORK/out"
check "--list-params shows a plugin's parameters" grep -Eq '^skel +interval_ms +unsigned +1000 +10..3600000 +yes' "$WORK/out"
finish
