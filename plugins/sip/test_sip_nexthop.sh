#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# sip 1.2 dialog_set_next_hop(): a caller behind a NAT puts a private
# address in its Contact (192.0.2.10, unreachable in this namespace);
# its real source is 127.0.0.1:PS. The callee (siptest, answer = ring)
# sends its BYE by the Contact and it never arrives; with the next hop
# set to the source it arrives, with the Contact still as Request-URI;
# over TCP it comes back on the caller's own connection.
# Runs in a network namespace of its own.
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SIP_SRCDIR/test_sip_lib.sh"
in_netns "$@"

need_sipp
plan 8
PB=26190 PS=26191

sip_conf "$WORK/b.conf" "$WORK/b.sock" $PB t1_ms=100
sed -i -e 's/^load = sip$/load = sip siptest/' \
	-e 's/^log_level = info$/log_level = debug/' "$WORK/b.conf"
printf '[siptest]\nanswer = ring\n' >> "$WORK/b.conf"
if start_node "$WORK/b.conf" "$WORK/b.log"; then
	pass "a user agent node starts"
else
	fail "a user agent node starts"; diag "$WORK/b.log"; finish
fi
B=$NODE_PID

# A caller whose Contact is not where it sends from; it waits for the
# callee's BYE (or, in the first run, gives up after 3 s without it).
cat > "$WORK/uac.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller behind a NAT">
  <send retrans="500">
    <![CDATA[

      INVITE sip:callee@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:natted@192.0.2.10>;tag=[pid]N[call_number]
      To: <sip:callee@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:natted@192.0.2.10:5060>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[

      ACK sip:callee@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:natted@192.0.2.10>;tag=[pid]N[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv request="BYE" timeout="6000" ontimeout="nobye">
    <action>
      <ereg regexp="^BYE sip:natted@192.0.2.10:5060 " search_in="msg"
            check_it="true" assign_to="ruri"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <Reference variables="ruri"/>
  <nop next="end"/>
  <label id="nobye"/>
  <nop><action><exec int_cmd="stop_now"/></action></nop>
  <label id="end"/>
</scenario>
XML

# The caller's TCP connection as the node sees it: "tcp:127.0.0.1:PORT"
caller_conn() {
	ctl "$WORK/b.sock" --json sip show connections | tr '{' '\n' |
		grep '"direction":"in"' |
		sed -n 's/.*"remote":"\([^"]*\)".*/tcp:\1/p' | head -n 1
}

# call NAME NEXT_HOP [SIPP_TRANSPORT]: one call; the callee's BYE after
# `siptest nexthop` (NEXT_HOP "none": not set; "conn": the caller's
# TCP connection)
call() {
	"$SIPP" -sf "$WORK/uac.xml" -t "${3:-u1}" -i 127.0.0.1 -p $PS -m 1 \
		-nostdin -timeout 20s -trace_msg \
		-message_file "$WORK/uac-$1.msg" 127.0.0.1:$PB \
		> "$WORK/uac-$1.out" 2>&1 &
	uac=$!
	for _ in $(seq 1 50); do
		ctl "$WORK/b.sock" siptest dlg | grep CONFIRMED | grep -qv ENDED && break
		sleep 0.1
	done
	hop=$2
	[ "$hop" = conn ] && hop=$(caller_conn)
	[ "$hop" != none ] && ctl "$WORK/b.sock" siptest nexthop "$hop"
	ctl "$WORK/b.sock" siptest bye >/dev/null
	wait_exit "$uac" 20
	[ "$rc" = timeout ] && kill "$uac" 2>/dev/null
}

call contact none
check "without a next hop the BYE goes by the Contact and is lost" \
	sh -c "grep -q '^ACK ' '$WORK/uac-contact.msg' &&
		! grep -q '^BYE ' '$WORK/uac-contact.msg'"
call source udp:127.0.0.1:$PS
check "with the next hop set the BYE reaches the caller's source" \
	test "$rc" = 0
check "its Request-URI is still the Contact" \
	grep -q '^BYE sip:natted@192.0.2.10:5060 SIP/2.0' "$WORK/uac-source.msg"
call tcp conn t1
check "over TCP the BYE comes back on the caller's own connection" \
	sh -c "[ '$rc' = 0 ] && grep -q '^BYE sip:natted@192.0.2.10:5060' '$WORK/uac-tcp.msg'"
# the node logs each connection's end (debug): the caller's only
conns() { sed -n 's/.*TCP connection \([0-9]*\) with .* closed.*/\1/p' \
	"$WORK/b.log" | sort -u | wc -l; }
for _ in $(seq 1 100); do [ "$(conns)" -ge 1 ] && break; sleep 0.1; done
check "... and the node opened no connection of its own" test "$(conns)" = 1
check "a next hop that is not PROTO:IP:PORT is refused" \
	sh -c "ctl_out=\$('$TANDEMCTL' -s '$WORK/b.sock' siptest nexthop nowhere 2>&1); echo \"\$ctl_out\" | grep -q 'Invalid argument'"
check "the node stops cleanly" stop_node $B "$WORK/b.log"
finish
