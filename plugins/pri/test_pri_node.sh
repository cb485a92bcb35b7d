#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tandemd with the pri plugin (network side) and pbxsim (the lab's PBX,
# user side) on a D-channel over a unix SOCK_SEQPACKET socket: calls both
# ways through tandemctl, the control commands, and the PBX vanishing
# mid-call (a layer 1 alarm for the span). Only local sockets.
. "$abs_top_srcdir/tests/integration/lib.sh"
plan 14

SOCK="$WORK/node.sock"
DCHAN="$WORK/pri1.sock"
cat > "$WORK/node.conf" <<CONF
[node]
name = gw1
control_socket = $SOCK
log_level = info
[plugins]
load = pri
[pri 1]
switchtype = euroisdn_e1
side = network
dchan = listen:$DCHAN
CONF
cat > "$WORK/pbx.conf" <<CONF
[pbx]
dchan = unix:$DCHAN
switchtype = euroisdn_e1
side = user
[ext 2000]
action = answer
[ext 2003]
action = ring
CONF

ctl() { "$TANDEMCTL" -s "$SOCK" "$@"; }
# wait_ctl PATTERN ARGS...: bounded wait for a tandemctl answer.
wait_ctl() {
	pat=$1; shift
	for _ in $(seq 1 100); do
		ctl "$@" 2>/dev/null | grep -q "$pat" && return 0
		sleep 0.1
	done
	return 1
}

if start_node "$WORK/node.conf" "$WORK/node.log"; then
	pass "tandemd starts with the pri plugin"
else
	fail "tandemd starts with the pri plugin"; diag "$WORK/node.log"; finish
fi

mkfifo "$WORK/pbx.in"
"$PBXSIM" -c "$WORK/pbx.conf" < "$WORK/pbx.in" > "$WORK/pbx.out" 2>&1 &
PBX_PID=$!
NODE_PIDS="$NODE_PIDS $PBX_PID"
exec 3> "$WORK/pbx.in"

check "pbxsim brings the D-channel up" wait_for "$WORK/pbx.out" "^up"
check "pri show spans: span 1 up, 30 B-channels" \
	wait_ctl '"dchan":"up".*"bchans":30' --json pri show spans

id=$(ctl --json pri call 1 2000 5551234 | sed -n 's/.*"call":\([0-9]*\).*/\1/p')
check "pri call: the PBX rings extension 2000 from 5551234" \
	wait_for "$WORK/pbx.out" "^ring 2000 5551234 1"
check "and answers it: the call is ACTIVE" wait_ctl "ACTIVE" pri show calls
check "pri show channels: B-channel 1 busy" \
	sh -c "'$TANDEMCTL' -s '$SOCK' --json pri show channels 1 | grep -q '\"bchan\":1,\"state\":\"busy\"'"
ctl pri hangup "${id:-0}" > /dev/null
check "pri hangup: the PBX sees cause 16" wait_for "$WORK/pbx.out" "^released 16"
# (the PBX prints its release as it sends it: the node may still be on it)
t() {
	for _ in $(seq 1 100); do
		[ -z "$(ctl pri show calls)" ] && return 0
		sleep 0.1
	done
	return 1
}
check "no call left" t

echo "dial 7000 2000" >&3
check "a call from the PBX with no call control user: cause 21" \
	wait_for "$WORK/pbx.out" "^released 21"

out=$(ctl pri debug 1 on)
check "pri debug 1 on" sh -c "echo '$out' | grep -q 'on'"
ctl pri debug 1 off > /dev/null
ctl pri debug 9 on > /dev/null 2> "$WORK/err"; rc=$?
check "pri debug on an unknown span fails" sh -c "[ $rc = 1 ] && grep -q 'no PRI span 9' '$WORK/err'"

ctl pri call 1 2003 > /dev/null
check "a call to the ringing extension is alerting" \
	wait_ctl "OUT_ALERTING" pri show calls
kill "$PBX_PID"
check "the PBX vanishing is an alarm: the call is cleared" \
	sh -c "for i in \$(seq 1 100); do '$TANDEMCTL' -s '$SOCK' --json pri show spans | grep -q '\"dchan\":\"alarm\".*\"calls\":0' && exit 0; sleep 0.1; done; exit 1"
check "counters: two calls out, one in" \
	sh -c "'$TANDEMCTL' -s '$SOCK' --json show stats | grep -q '\"pri.calls_out\",\"value\":2' && '$TANDEMCTL' -s '$SOCK' --json show stats | grep -q '\"pri.calls_in\",\"value\":1'"
exec 3>&-
if [ "$tap_failed" -gt 0 ]; then diag "$WORK/node.log"; diag "$WORK/pbx.out"; fi
finish
