#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every message of the SIP torture corpus (RFC 4475, RFC 5118) sent over
# UDP and over TCP to a running node: each gets what torture-expect.tsv
# says (derived from expected.tsv, checked against its class), the node
# answers a fresh OPTIONS right after each, and it stops cleanly at the end
# (no crash, no leak under ASan). The corpus carries foreign addresses, so
# the whole test runs in a network namespace of its own with only lo.
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SIP_SRCDIR/test_sip_lib.sh"
in_netns "$@"

TSV="$SIP_CORPUS/expected.tsv"
OURS="$SIP_SRCDIR/torture-expect.tsv"
if [ ! -r "$TSV" ]; then
	echo "1..0 # SKIP no corpus at $SIP_CORPUS (configure SHARED_DIR)"
	exit 0
fi
files=$(grep -v '^#' "$TSV" | cut -f1)
n=$(echo "$files" | wc -l)
plan $((2 * (n + 2) + 1))

path_of() {
	if [ -f "$SIP_CORPUS/rfc4475/$1" ]; then
		echo "$SIP_CORPUS/rfc4475/$1"
	else
		echo "$SIP_CORPUS/rfc5118/$1"
	fi
}
is_response() { head -c 4 "$1" | grep -q '^SIP/'; }
has_length() { grep -aqiE '^(content-length|l)[ 	]*:' "$1"; }

# class_allows CLASS ANSWER FILE TRANSPORT: does expected.tsv's class
# allow our answer? A valid message may get 400 only over TCP when it has
# no Content-Length (RFC 3261 18.3: a stream cannot be framed without it).
class_allows() {
	case "$1:$2" in
	valid:400) [ "$4" = tcp ] && ! has_length "$3" ;;
	valid:close) return 1 ;;
	*:none) is_response "$3" ;;
	invalid:4* | invalid:5* | invalid:close) ! is_response "$3" ;;
	invalid:*) return 1 ;;
	semantic:4*) return 0 ;;
	semantic:2*) head -c 8 "$3" | grep -q '^OPTIONS ' ;;
	semantic:*) return 1 ;;
	*) return 0 ;;
	esac
}

bad=0
for f in $files; do
	line=$(grep "^$f	" "$OURS")
	if [ -z "$line" ]; then
		echo "# $f: not in torture-expect.tsv"
		bad=1
		continue
	fi
	class=$(grep "^$f	" "$TSV" | cut -f3)
	for t in udp tcp; do
		col=2
		[ $t = tcp ] && col=3
		for w in $(echo "$line" | cut -f$col | tr '|' ' '); do
			class_allows "$class" "$w" "$(path_of "$f")" $t ||
				{ echo "# $f: $w over $t does not fit class $class"; bad=1; }
		done
	done
done
check "torture-expect.tsv covers expected.tsv and fits its classes" test $bad = 0

PORT=25060
for proto in udp tcp; do
	SOCK="$WORK/$proto.sock"
	sip_conf "$WORK/$proto.conf" "$SOCK" $PORT
	if start_node "$WORK/$proto.conf" "$WORK/$proto.log"; then
		pass "node for $proto starts"
	else
		fail "node for $proto starts"; diag "$WORK/$proto.log"; finish
	fi
	col=2
	[ $proto = tcp ] && col=3
	for f in $files; do
		path=$(path_of "$f")
		want=$(grep "^$f	" "$OURS" | cut -f$col)
		opts="-t $proto -w 3000 -p $PORT"
		[ "$want" = close ] && opts="$opts -c"
		"$SIP_SEND" $opts "$path" > "$WORK/out" 2>&1
		got=$(sed -n 's/^final=//p' "$WORK/out")
		probe=$(sed -n 's/^probe=//p' "$WORK/out")
		stray=$(sed -n 's/^stray=//p' "$WORK/out")
		if [ "$want" = close ]; then
			grep -q '^eof=yes' "$WORK/out" && [ "$got" = none ] &&
				got=close
		fi
		ok=no
		for w in $(echo "$want" | tr '|' ' '); do
			[ "$got" = "$w" ] && ok=yes
		done
		if [ $ok = yes ] && [ "$probe" = 200 ] && [ "$stray" = 0 ]; then
			pass "$f over $proto: $got, then OPTIONS answered"
		else
			fail "$f over $proto: got $got (want $want), probe $probe, stray $stray"
			diag "$WORK/out"
		fi
	done
	if stop_node "$NODE_PID" "$WORK/$proto.log"; then
		pass "node for $proto stops cleanly"
	else
		fail "node for $proto stops cleanly"
	fi
	grep -q 'answered 400 to a request' "$WORK/$proto.log" ||
		echo "# no refusal was logged"
done
finish
