#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Dialogs through the sip service, between two nodes running the siptest
# plugin: A calls B; B answers with a reliable 183 (A PRACKs it) and a 200
# with an SDP answer (A ACKs it); A sends UPDATE; the session timer A
# asked for is refreshed by A; A hangs up and both dialogs end; a busy
# callee ends the dialog with 486; when A (the refresher) is stopped, B
# ends the session itself (RFC 4028 10: BYE, 408). Loopback only, in a
# network namespace.
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SIP_SRCDIR/test_sip_lib.sh"
in_netns "$@"
plan 17

PA=25150
PB=25160
sip_conf "$WORK/a.conf" "$WORK/a.sock" $PA session_expires=2 min_se=1
sip_conf "$WORK/b.conf" "$WORK/b.sock" $PB min_se=1
for n in a b; do
	sed -i 's/^load = sip$/load = sip siptest/' "$WORK/$n.conf"
done
printf '[siptest]\nanswer = reliable\n' >> "$WORK/b.conf"
start_node "$WORK/b.conf" "$WORK/b.log" && B=$NODE_PID
start_node "$WORK/a.conf" "$WORK/a.log" && A=$NODE_PID
check "two nodes with dialog users start" sh -c "kill -0 $A && kill -0 $B"

# field SOCK KEY: one field of `siptest dlg`
field() { ctl "$1" siptest dlg | sed -n "s/^$2: *//p"; }
# wait_field SOCK KEY PATTERN: poll (bounded) until the field matches
wait_field() {
	for _ in $(seq 1 60); do
		v=$(field "$1" "$2")
		echo "$v" | grep -Eq "$3" && return 0
		sleep 0.1
	done
	echo "# $2: $v"
	return 1
}

ctl "$WORK/a.sock" siptest call "sip:b@127.0.0.1:$PB" > /dev/null
check "A: early (183), then confirmed (200)" \
	wait_field "$WORK/a.sock" states '^EARLY\(183\),CONFIRMED\(200\)$'
check "B: early, then confirmed by the ACK" \
	wait_field "$WORK/b.sock" states '^EARLY\(183\),CONFIRMED\(200\)$'
check "the reliable 183 was PRACKed" \
	test "$(stat_value "$WORK/b.sock" sip.rx_prack)" = 1
check "A runs the session timer it asked for (2 s, refresher)" sh -c \
	"[ \"\$('$TANDEMCTL' -s '$WORK/a.sock' siptest dlg | sed -n 's/^session_expires: *//p')\" = 2 ]"

ctl "$WORK/a.sock" siptest update > /dev/null
check "UPDATE in the dialog gets 200" wait_field "$WORK/a.sock" last '^200$'
check "the session is refreshed by A" \
	wait_field "$WORK/a.sock" refreshes '^[1-9]'
check "and B sees the refreshes" wait_field "$WORK/b.sock" refreshes '^[1-9]'

ctl "$WORK/a.sock" siptest bye > /dev/null
check "A hangs up: ended" wait_field "$WORK/a.sock" states 'ENDED\(200\)$'
check "B's dialog ends with the BYE" \
	wait_field "$WORK/b.sock" states 'ENDED\(200\)$'

# ending an early UAC dialog twice sends one CANCEL (RFC 3261 9.1)
ctl "$WORK/a.sock" siptest call "sip:slow@127.0.0.1:$PB" > /dev/null
wait_field "$WORK/a.sock" states '^EARLY\(183\)$' > /dev/null
ctl "$WORK/a.sock" siptest bye > /dev/null
ctl "$WORK/a.sock" siptest bye > /dev/null
check "an early dialog ended twice: cancelled (487)" \
	wait_field "$WORK/a.sock" states '^EARLY\(183\),ENDED\(487\)$'
check "with a single CANCEL on the wire" \
	test "$(stat_value "$WORK/b.sock" sip.rx_cancel)" = 1

ctl "$WORK/a.sock" siptest call "sip:busy@127.0.0.1:$PB" > /dev/null
check "a busy callee: the dialog ends with 486" \
	wait_field "$WORK/a.sock" states '^ENDED\(486\)$'

# RFC 4028 10: the refresher falls silent (A stopped), so B sends BYE
# when the session expires and ends the dialog with 408
ctl "$WORK/a.sock" siptest call "sip:b@127.0.0.1:$PB" > /dev/null
check "another call is confirmed" \
	wait_field "$WORK/b.sock" states '^EARLY\(183\),CONFIRMED\(200\)$'
kill -STOP "$A"
sleep 3.5
check "B ends the unrefreshed session (408)" \
	wait_field "$WORK/b.sock" states 'CONFIRMED\(200\),ENDED\(408\)$'
kill -CONT "$A"
check "A, woken, learns it ended (BYE, or 481 to its late refresh)" \
	wait_field "$WORK/a.sock" states 'ENDED\((200|481)\)$'

ok=0
stop_node "$A" "$WORK/a.log" || ok=1
stop_node "$B" "$WORK/b.log" || ok=1
check "both nodes stop cleanly" test $ok = 0
finish
