#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The sip service as a B2BUA uses it (siptest, answer = b2bua), with real
# peers: a CANCEL of the first leg reaches the B2BUA (on_cancel), which
# cancels its second leg (sipp uac -> B2BUA A -> proxy C -> sipp uas);
# Max-Forwards goes down by one per hop and 0 is answered 483; requests
# with explicit dialog fields (local/remote tag, route set, loose and
# strict) are accepted by a strict UA (node B's dialog layer) and a wrong
# tag gets its 481. Runs in a network namespace of its own.
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SIP_SRCDIR/test_sip_lib.sh"
in_netns "$@"

need_sipp
plan 22
SCEN="$abs_top_srcdir/contrib/sipp"
PA=26080 PB=26090 PC=26070 PU=26062 PS=26061
CALLS=5

sip_conf "$WORK/c.conf" "$WORK/c.sock" $PC mode=proxy
sip_conf "$WORK/b.conf" "$WORK/b.sock" $PB
sed -i 's/^load = sip$/load = sip siptest/' "$WORK/b.conf"
printf '[siptest]\nanswer = ring\n' >> "$WORK/b.conf"
sip_conf "$WORK/a.conf" "$WORK/a.sock" $PA
sed -i 's/^load = sip$/load = sip siptest/' "$WORK/a.conf"
printf '[siptest]\nanswer = b2bua\nproxy_to = sip:uas@127.0.0.1:%s\n' $PU \
	>> "$WORK/a.conf"
printf 'b2b_route = <sip:127.0.0.1:%s;lr>\n' $PC >> "$WORK/a.conf"
start_node "$WORK/c.conf" "$WORK/c.log" && C=$NODE_PID
start_node "$WORK/b.conf" "$WORK/b.log" && B=$NODE_PID
if start_node "$WORK/a.conf" "$WORK/a.log"; then
	pass "a B2BUA node, a proxy and a user agent start"
else
	fail "a B2BUA node, a proxy and a user agent start"
	diag "$WORK/a.log"; finish
fi
A=$NODE_PID

# ---- CANCEL through the B2BUA (sip->on_cancel) ----
"$SIPP" -sf "$SCEN/uas_cancel.xml" -t u1 -i 127.0.0.1 -p $PU -m $CALLS \
	-nostdin -timeout 30s > "$WORK/uas.out" 2>&1 &
uas=$!
for _ in $(seq 1 50); do
	grep -q 'Scenario Screen\|Call-rate' "$WORK/uas.out" 2>/dev/null && break
	sleep 0.1
done
"$SIPP" -sf "$SCEN/uac_cancel.xml" -t u1 127.0.0.1:$PA -i 127.0.0.1 \
	-p $PS -m $CALLS -r 5 -l 1 -nostdin -timeout 30s > "$WORK/uac.out" 2>&1
uac_rc=$?
wait_exit "$uas" 15
uas_rc=$rc
[ "$uas_rc" = timeout ] && kill "$uas" 2>/dev/null
check "a caller's CANCELs end its calls at the B2BUA ($CALLS calls)" \
	test "$uac_rc" = 0
check "the B2BUA heard each CANCEL and cancelled its second leg" \
	test "$(grep -c 'first leg cancelled' "$WORK/a.log")" = $CALLS
check "the callee saw every second leg cancelled" test "$uas_rc" = 0
check "the second legs went along the route set (proxy C)" \
	test "$(stat_value "$WORK/c.sock" sip.rx_cancel)" = $CALLS

# ---- Max-Forwards (RFC 3261 16.6 step 3, 16.3 step 2) ----
# invite FILE MF: an INVITE to the B2BUA with that Max-Forwards
invite() {
	{
		printf 'INVITE sip:x@127.0.0.1:%s SIP/2.0\r\n' $PA
		printf 'Via: SIP/2.0/UDP 127.0.0.1:26081;branch=z9hG4bK-mf%s\r\n' "$2"
		printf 'Max-Forwards: %s\r\nFrom: <sip:t@127.0.0.1>;tag=m%s\r\n' "$2" "$2"
		printf 'To: <sip:x@127.0.0.1>\r\nCall-ID: mf-%s@t\r\n' "$2"
		printf 'CSeq: 1 INVITE\r\nContact: <sip:t@127.0.0.1:26081>\r\n'
		printf 'Content-Length: 0\r\n\r\n'
	} > "$1"
}
"$SIPP" -sf "$SCEN/uas_busy.xml" -t u1 -i 127.0.0.1 -p $PU -m 1 \
	-nostdin -timeout 20s > "$WORK/uas-busy.out" 2>&1 &
uas=$!
for _ in $(seq 1 50); do
	grep -q 'Scenario Screen\|Call-rate' "$WORK/uas-busy.out" 2>/dev/null && break
	sleep 0.1
done
invite "$WORK/mf2" 2
"$SIP_SEND" -n -w 5000 -p $PA "$WORK/mf2" > "$WORK/out"
check "Max-Forwards 2: through the B2BUA (1) and the proxy (0) to the callee's 486" \
	grep -q '^final=486' "$WORK/out"
wait_exit "$uas" 10
[ "$rc" = timeout ] && kill "$uas" 2>/dev/null
before=$(stat_value "$WORK/c.sock" sip.rx_invite)
invite "$WORK/mf1" 1
"$SIP_SEND" -n -w 5000 -p $PA "$WORK/mf1" > "$WORK/out"
check "Max-Forwards 1: the B2BUA sends 0 on, the proxy answers 483" \
	grep -q '^final=483' "$WORK/out"
check "(the proxy saw that INVITE)" \
	test "$(stat_value "$WORK/c.sock" sip.rx_invite)" = $((before + 1))
invite "$WORK/mf0" 0
"$SIP_SEND" -n -w 5000 -p $PA "$WORK/mf0" > "$WORK/out"
check "Max-Forwards 0: the B2BUA answers 483 itself" \
	grep -q '^final=483' "$WORK/out"
check "(and sends nothing on)" \
	test "$(stat_value "$WORK/c.sock" sip.rx_invite)" = $((before + 1))

# ---- Requests with explicit dialog fields (send_request 1.1) ----
# wait_last WANT: poll (bounded) `siptest last` on A until its statuses end
# with WANT; sets TO_TAG
wait_last() {
	for _ in $(seq 1 50); do
		out=$(ctl "$WORK/a.sock" siptest last)
		got=$(printf '%s\n' "$out" | sed -n 's/^statuses: *//p')
		TO_TAG=$(printf '%s\n' "$out" | sed -n 's/^to_tag: *//p')
		case "$got" in *"$1") return 0 ;; esac
		sleep 0.1
	done
	echo "# statuses: $got"
	return 1
}
URI="sip:b@127.0.0.1:$PB"
ctl "$WORK/a.sock" siptest dsend INVITE "$URI" dlg-1 1 lt-1 - > /dev/null
check "an INVITE with our own From tag is answered 200" wait_last 200
REMOTE=$TO_TAG
ctl "$WORK/a.sock" siptest dsend BYE "$URI" dlg-1 2 other-tag "$REMOTE" > /dev/null
check "a BYE with another From tag gets 481 from the strict UA" wait_last 481
before=$(stat_value "$WORK/c.sock" sip.forwarded_stateful)
ctl "$WORK/a.sock" siptest dsend BYE "$URI" dlg-1 3 lt-1 "$REMOTE" \
	"<sip:127.0.0.1:$PC;lr>" > /dev/null
check "a BYE with the dialog's tags, CSeq and a loose route set: 200" \
	wait_last 200
check "(it went through the proxy of the route set)" test \
	"$(stat_value "$WORK/c.sock" sip.forwarded_stateful)" -gt "$before"
ctl "$WORK/a.sock" siptest dsend INVITE "$URI" dlg-2 1 lt-2 - > /dev/null
wait_last 200 > /dev/null
REMOTE=$TO_TAG
before=$(stat_value "$WORK/c.sock" sip.forwarded_stateful)
ctl "$WORK/a.sock" siptest dsend BYE "$URI" dlg-2 2 lt-2 "$REMOTE" \
	"<sip:127.0.0.1:$PC>" > /dev/null
strict_bye() {
	wait_last 200 && test \
		"$(stat_value "$WORK/c.sock" sip.forwarded_stateful)" -gt "$before"
}
check "a BYE along a strict router (RFC 3261 12.2.1.1): 200 through it" \
	strict_bye

# ---- A CANCEL ends a dialog made by dialog_accept() (487) ----
"$SIPP" -sf "$SCEN/uac_cancel.xml" -t u1 127.0.0.1:$PB -s slow -i 127.0.0.1 \
	-p $PS -m 1 -nostdin -timeout 20s > "$WORK/uac-slow.out" 2>&1
check "a caller CANCELs a ringing dialog of the layer: 200 and 487" \
	test $? = 0
ended_by_cancel() {
	st=$(ctl "$WORK/b.sock" siptest dlg | sed -n 's/^states: *//p')
	echo "# states: $st"
	test "$st" = "EARLY(180),ENDED(487)"
}
check "the callee's dialog user hears it ended with 487" ended_by_cancel

# ---- A re-INVITE's 2xx is resent until its ACK (RFC 3261 13.3.1.4) ----
before=$(stat_value "$WORK/b.sock" sip.retransmissions)
"$SIPP" -sf "$SCEN/uac_reinvite.xml" -t u1 127.0.0.1:$PB -i 127.0.0.1 \
	-p $PS -m 1 -nostdin -timeout 20s > "$WORK/uac-re.out" 2>&1
check "a caller slow to ACK a re-INVITE completes its call" test $? = 0
mid=$(stat_value "$WORK/b.sock" sip.retransmissions)
check "the callee resent the re-INVITE's 200 while no ACK came" \
	test "$mid" -gt "$before"
sleep 2
check "and stopped once the ACK came" \
	test "$(stat_value "$WORK/b.sock" sip.retransmissions)" = "$mid"
ended_by_bye() {
	st=$(ctl "$WORK/b.sock" siptest dlg | sed -n 's/^states: *//p')
	echo "# states: $st"
	case "$st" in *"CONFIRMED(200),ENDED(200)") return 0 ;; esac
	return 1
}
check "the callee's dialog ended by the BYE, not by a missing ACK" \
	ended_by_bye

stop_node "$A" "$WORK/a.log"
check "the B2BUA node stops cleanly" test "$rc" = 0
stop_node "$B" "$WORK/b.log"
stop_node "$C" "$WORK/c.log"
finish
