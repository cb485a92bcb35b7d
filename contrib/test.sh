#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The whole test suite, as CI runs it: install dependencies, build with
# warnings as errors, `make check`; again with ASan+UBSan; the unit tests
# under valgrind; `make distcheck`. Ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh contrib/deps.sh || exit 1
[ -x configure ] || ./autogen.sh || exit 1

failed_steps=""
step() {
	name=$1; shift
	echo "=== $name"
	if "$@"; then echo "=== $name: passed"; else
		echo "=== $name: FAILED"; failed_steps="$failed_steps $name"; fi
}

# Tests run one at a time: the media and call tests keep 20 ms deadlines
# and two cores shared by parallel tests miss them (builds stay parallel).
# -k: one failing directory does not hide the results of the others.
check_in() { make -k -C "$1" check; }

step build sh contrib/build.sh _build --enable-werror
step check check_in _build
step build-sanitizers sh contrib/build.sh _build-asan --enable-werror --enable-sanitizers
step check-sanitizers check_in _build-asan
step valgrind make -C _build check-valgrind
step distcheck make -C _build distcheck

# One closing line that counts every TAP test of both check runs.
results() {
	find _build _build-asan -name '*.trs' -not -path '*/tandem-*/*' \
		-exec cat {} + 2>/dev/null
}
pass=$(results | grep -c '^:test-result: PASS')
# Name each failed test and show the end of its log: CI keeps only the
# tail of what this prints.
failed_logs() {
	find _build _build-asan -name '*.trs' -not -path '*/tandem-*/*' \
		-exec grep -lE '^:test-result: (FAIL|ERROR|XPASS)' {} + 2>/dev/null
}
for trs in $(failed_logs); do
	log=${trs%.trs}.log
	echo "=== failed: $log"
	grep -E '^(not ok|Bail out)' "$log" | head -20
	tail -n 30 "$log"
done
fail=$(results | grep -Ec '^:test-result: (FAIL|ERROR|XPASS)')
if [ -n "$failed_steps" ]; then
	echo "failed steps:$failed_steps"
	[ "$fail" -gt 0 ] || fail=1
fi
echo "$pass passed, $fail failed"
[ -z "$failed_steps" ]
