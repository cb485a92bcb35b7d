#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A short, bounded libFuzzer run of rxclient's SDP reader, seeded with
# fuzz-sdp/: no crash, no sanitizer report, no leak. `make fuzz` runs it
# longer. Skipped without clang.
. "$abs_top_srcdir/tests/integration/lib.sh"

RUNS=${PCRF_FUZZ_RUNS:-20000}
if [ ! -x "$PCRF_BUILDDIR/fuzz_rxc_sdp" ]; then
	echo "1..0 # SKIP no fuzz target (clang not found)"
	exit 0
fi
plan 1
mkdir -p "$WORK/corpus"
if "$PCRF_BUILDDIR/fuzz_rxc_sdp" -runs="$RUNS" -max_total_time=120 \
	-rss_limit_mb=2048 "$WORK/corpus" "$PCRF_SRCDIR/fuzz-sdp" \
	> "$WORK/fuzz.log" 2>&1; then
	pass "fuzz_rxc_sdp: $RUNS runs, clean ($(grep -o 'cov: [0-9]*' "$WORK/fuzz.log" | tail -n 1))"
else
	fail "fuzz_rxc_sdp: $RUNS runs"
	tail -n 40 "$WORK/fuzz.log" | diag /dev/stdin
fi
finish
