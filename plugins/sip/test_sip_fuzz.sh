#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A short, bounded libFuzzer run of the message target (seeded with the
# torture corpus) and of the SDP target: no crash, no sanitizer report, no
# leak. `make fuzz` runs them longer. Skipped without clang.
. "$abs_top_srcdir/tests/integration/lib.sh"

RUNS=${SIP_FUZZ_RUNS:-20000}
if [ ! -x "$SIP_BUILDDIR/fuzz_sip_msg" ] || [ ! -x "$SIP_BUILDDIR/fuzz_sdp" ]; then
	echo "1..0 # SKIP no fuzz targets (clang not found)"
	exit 0
fi
plan 2

run() { # target seeds...
	t=$1
	shift
	mkdir -p "$WORK/$t"
	"$SIP_BUILDDIR/$t" -runs="$RUNS" -max_total_time=120 \
		-rss_limit_mb=2048 "$WORK/$t" "$@" > "$WORK/$t.log" 2>&1
}
if run fuzz_sip_msg "$SIP_CORPUS/rfc4475" "$SIP_CORPUS/rfc5118"; then
	pass "fuzz_sip_msg: $RUNS runs, clean ($(grep -o 'cov: [0-9]*' "$WORK/fuzz_sip_msg.log" | tail -n 1))"
else
	fail "fuzz_sip_msg: $RUNS runs"
	tail -n 40 "$WORK/fuzz_sip_msg.log" | diag
fi
if run fuzz_sdp "$SIP_SRCDIR/fuzz-sdp"; then
	pass "fuzz_sdp: $RUNS runs, clean ($(grep -o 'cov: [0-9]*' "$WORK/fuzz_sdp.log" | tail -n 1))"
else
	fail "fuzz_sdp: $RUNS runs"
	tail -n 40 "$WORK/fuzz_sdp.log" | diag
fi
finish
