#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# test_tandem_aka.sh - TAP test of the tandem-aka tool: 3GPP TS 35.208 test
# set 1 through the command line, an AUTS round trip, and bad input, which
# must give exit status 2, nothing on stdout and one line on stderr.
#
# The tool is $TANDEM_AKA, by default ./tandem-aka (the build directory).

AKA=${TANDEM_AKA:-./tandem-aka}

# TS 35.208 test set 1
K=465b5ce8b199b49faa5f0a2ee238a6bc
RAND=23553cbe9637a89d218ae64dae47bf35
SQN=ff9bb4d0b607
AMF=b9b9
OP=cdc202d5123e20f62b6d676ac72cb318
OPC=cd63cb71954a9f4e48a5994e37a02baf

n=0
failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}

# Shows a file as TAP diagnostics.
diag_file() {
	sed "s/^/#   $1: /" "$2"
}

# run ARGS...: runs the tool, keeps stdout, stderr and the exit status.
run() {
	"$AKA" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# expect_vector DESCRIPTION EXPECTED-FILE ARGS...
expect_vector() {
	desc=$1
	want=$2
	shift 2
	run "$@"
	if [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] &&
	   cmp -s "$want" "$tmp/out"; then
		ok "$desc"
	else
		not_ok "$desc"
		echo "#   exit status $rc"
		diff "$want" "$tmp/out" | sed 's/^/#   /'
		diag_file stderr "$tmp/err"
	fi
}

# expect_usage_error DESCRIPTION PATTERN ARGS...: exit 2, no stdout, one
# stderr line that matches PATTERN (the option at fault).
expect_usage_error() {
	desc=$1
	pattern=$2
	shift 2
	run "$@"
	lines=$(wc -l <"$tmp/err")
	if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -s "$tmp/out" ] &&
	   grep -q -e "$pattern" "$tmp/err"; then
		ok "$desc"
	else
		not_ok "$desc"
		echo "#   exit status $rc, $lines stderr lines, want 2 and 1"
		diag_file stdout "$tmp/out"
		diag_file stderr "$tmp/err"
	fi
}

# value NAME: the hex after NAME= in the last run's output.
value() {
	sed -n "s/^$1=//p" "$tmp/out"
}

if [ ! -x "$AKA" ]; then
	echo "Bail out! $AKA is not an executable"
	exit 1
fi

cat >"$tmp/set1" <<EOF
RAND=$RAND
OPC=$OPC
MAC_A=4a9ffac354dfafb3
MAC_S=01cfaf9ec4e871e9
XRES=a54211d5e3ba50bf
CK=b40ba9a3c58b2a05bbf0d987b21bf8cb
IK=f769bcd751044604127672711c6d3441
AK=aa689c648370
AK_S=451e8beca43b
AUTN=55f328b43577b9b94a9ffac354dfafb3
EOF

expect_vector "set 1 with OPc" "$tmp/set1" \
	-k $K -c $OPC -r $RAND -s $SQN -a $AMF
expect_vector "set 1 with OP, long options, upper case" "$tmp/set1" \
	--key=$(echo $K | tr a-f A-F) --op $OP --rand $RAND --sqn $SQN \
	--amf $AMF

run -k $K -c $OPC -r $RAND -s $SQN
autn=$(value AUTN)
if [ "$rc" -eq 0 ] && [ "${autn#????????????8000}" != "$autn" ]; then
	ok "AMF defaults to 8000"
else
	not_ok "AMF defaults to 8000"
	echo "#   exit status $rc, AUTN=$autn"
fi

run -k $K -c $OPC -s $SQN
rand1=$(value RAND)
run -k $K -c $OPC -s $SQN
rand2=$(value RAND)
if echo "$rand1" | grep -qx '[0-9a-f]\{32\}' && [ "$rand1" != "$rand2" ]; then
	ok "RAND is random when -r is not given"
else
	not_ok "RAND is random when -r is not given"
	echo "#   $rand1, then $rand2"
fi

# AUTS = SQN_MS ^ AK* || MAC-S, MAC-S over AMF 0000 (TS 33.102 6.3.3),
# made from the tool's own f1* and f5* output.
run -k $K -c $OPC -r $RAND -s $SQN -a 0000
mac_s=$(value MAC_S)
conc=$(printf '%012x' $((0x$SQN ^ 0x$(value AK_S))))
auts=$conc$mac_s
run -k $K -c $OPC -r $RAND --auts $auts
if [ "$rc" -eq 0 ] && [ "$(value SQN_MS)" = "$SQN" ] &&
   [ "$(value MAC_S)" = "$mac_s" ] && [ ! -s "$tmp/err" ]; then
	ok "AUTS round trip gives SQN_MS"
else
	not_ok "AUTS round trip gives SQN_MS"
	diag_file stdout "$tmp/out"
	diag_file stderr "$tmp/err"
fi

bad_auts=${auts%?}$(printf '%x' $(((0x${auts#???????????????????????????} + 1) % 16)))
run -k $K -c $OPC -r $RAND --auts $bad_auts
if [ "$rc" -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
   grep -q MAC-S "$tmp/err"; then
	ok "corrupted AUTS: exit 1, one line on stderr"
else
	not_ok "corrupted AUTS: exit 1, one line on stderr"
	echo "#   exit status $rc"
	diag_file stderr "$tmp/err"
fi

expect_usage_error "-k of 15 bytes" '-k' \
	-k 465b5ce8b199b49faa5f0a2ee238a6 -c $OPC -s $SQN
expect_usage_error "-k not hex" '-k' \
	-k 465b5ce8b199b49faa5f0a2ee238a6bx -c $OPC -s $SQN
expect_usage_error "-k with 0x prefix" '-k' \
	-k 0x465b5ce8b199b49faa5f0a2ee238a6 -c $OPC -s $SQN
expect_usage_error "both -o and -c" '-o.*-c' \
	-k $K -o $OP -c $OPC -s $SQN
expect_usage_error "neither -o nor -c" '-o.*-c' -k $K -s $SQN
expect_usage_error "no -k" '-k' -c $OPC -s $SQN
expect_usage_error "no -s" '-s' -k $K -c $OPC
expect_usage_error "-s of 5 bytes" '-s' -k $K -c $OPC -s ff9bb4d0b6
expect_usage_error "-a not hex" '-a' -k $K -c $OPC -s $SQN -a 80zz
expect_usage_error "-r of 17 bytes" '-r' -k $K -c $OPC -s $SQN -r ${RAND}00
expect_usage_error "--auts of 13 bytes" '--auts' \
	-k $K -c $OPC -r $RAND --auts ${auts%??}
expect_usage_error "--auts without -r" '--auts' -k $K -c $OPC --auts $auts
expect_usage_error "--auts with -s" '--auts' \
	-k $K -c $OPC -r $RAND -s $SQN --auts $auts
expect_usage_error "-k given twice" '-k' -k $K -k $K -c $OPC -s $SQN
expect_usage_error "-k without a value" '-k' -c $OPC -s $SQN -k
expect_usage_error "unknown option" 'unknown option' -k $K -c $OPC -q
expect_usage_error "stray argument" 'unexpected argument' \
	-k $K -c $OPC -s $SQN extra

run --help
if [ "$rc" -eq 0 ] && grep -q '^Usage: ' "$tmp/out" && [ ! -s "$tmp/err" ]
then
	ok "--help"
else
	not_ok "--help"
fi

run --version
if [ "$rc" -eq 0 ] && grep -q '^tandem-aka ' "$tmp/out"; then
	ok "--version"
else
	not_ok "--version"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
