#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Calls from the core realm to access peers through the SBC. Two realms in
# a private network namespace: the core on 10.40.0.0/24 (the SBC's core
# listener 10.40.0.1:5270, named by core_listen), the access side on
# 10.30.0.0/24 (its listener 10.30.0.1:5260); all addresses on lo. sipp
# plays the core (an S-CSCF calling a number, with Record-Route and P-
# headers) and the peers (trunks and PBXs). Checks routing by prefix for
# tel: and user=phone URIs, 404 for a number no peer has, what the peer
# receives (nothing of the core: no address, Call-ID, tag, P- header or
# Record-Route; the asserted number as From), BYE both ways, serial
# failover (a destination that does not answer, one that answers 503),
# outbound digest (right and wrong credentials), `sbc show calls`, and
# that access -> core calls still work. Every sipp run is bounded.
. "$abs_top_srcdir/tests/integration/lib.sh"

in_netns "$@"
for a in 10.30.0.1 10.30.0.2 10.30.0.3 10.40.0.1 10.40.0.2; do
	ip addr add $a/32 dev lo ||
		{ echo "1..0 # SKIP cannot add addresses to lo"; exit 0; }
done
need_sipp
SCEN="$SBC_SRCDIR/sipp"
SOCK="$WORK/sbc.sock"
plan 35

cat > "$WORK/sbc.conf" <<CONF
[node]
name = sbc-route-test
control_socket = $SOCK
log_level = info
[plugins]
load = sip media sbc
[sip]
; the access listener first: replies to sources on no listener's
; address leave from it (all addresses here are on lo)
listen = udp:10.30.0.1:5260 udp:10.40.0.1:5270
[media]
workers = 1
pin_workers = no
rtp_address = 0.0.0.0
rtp_port_min = 46000
rtp_port_max = 46999
[sbc]
core_listen = udp:10.40.0.1:5270
core_next_hop = udp:10.40.0.2:5272
core_domain = core.lab
access_domain = 10.30.0.1:5260
access_media_address = 10.30.0.1
core_media_address = 10.40.0.1
failover_s = 2
; a strict source rate: the core's proxies are not held to it
rate_per_s = 2
burst = 2
[sbc-peer pbx]
address = 10.30.0.2
destination = udp:10.30.0.2:5280
prefixes = +44207946
[sbc-peer pair]
address = 10.30.0.9
; the first does not answer: the second takes the call
destination = udp:10.30.0.2:5290 udp:10.30.0.3:5281
prefixes = +44207945
[sbc-peer busy]
address = 10.30.0.10
destination = udp:10.30.0.2:5291 udp:10.30.0.3:5282
prefixes = +44207949
[sbc-peer late]
address = 10.30.0.11
; the first answers 200 only after failover_s, with no 1xx before
destination = udp:10.30.0.2:5292 udp:10.30.0.3:5283
prefixes = +44207944
[sbc-peer tcpfirst]
address = 10.30.0.12
; nothing listens on the first: the connection is refused at once
destination = tcp:10.30.0.2:5299 udp:10.30.0.3:5284
prefixes = +44207943
[sbc-peer single]
address = 10.30.0.13
destination = udp:10.30.0.2:5285
prefixes = +44207942
max_calls = 1
[sbc-peer trunk]
address = 10.30.0.8
destination = udp:10.30.0.2:5283
prefixes = +44207947
out_user = trunk
out_password = s3cret
[sbc-peer natpbx]
address = 10.30.0.14
destination = udp:10.30.0.2:5286
prefixes = +44207941
rules = uk-national
[sbc-rules uk-national]
country_code = 44
national_prefix = 0
international_prefix = 00
number_format = national
[sbc-peer badtrunk]
address = 10.30.0.7
destination = udp:10.30.0.2:5284
prefixes = +44207948
out_user = trunk
out_password = wrong
CONF

if start_node "$WORK/sbc.conf" "$WORK/sbc.log"; then
	pass "an SBC node with a core and an access listener starts"
else
	fail "an SBC node with a core and an access listener starts"
	diag "$WORK/sbc.log"; finish
fi

# peer NAME SCENARIO IP PORT: a sipp uas of the access realm, in the
# background (uas=PID), ready when it returns
peer() {
	sf="$SCEN/$2"
	[ -f "$sf" ] || sf="$abs_top_srcdir/contrib/sipp/$2"
	"$SIPP" -sf "$sf" -t u1 -i "$3" -p "$4" -mp $(($4 + 2000)) \
		-m "${PEER_CALLS:-1}" -nostdin -timeout 30s -trace_msg \
		-message_file "$WORK/peer-$1.msg" > "$WORK/peer-$1.out" 2>&1 &
	uas=$!
	for _ in $(seq 1 50); do
		grep -q 'Scenario Screen\|Call-rate' "$WORK/peer-$1.out" \
			2>/dev/null && break
		sleep 0.1
	done
}

# core NAME SCENARIO TARGET [SIPP ARGS]: the core calls TARGET through
# the SBC's core listener; sets core_rc
core() {
	n=$1 sf=$2 target=$3
	shift 3
	"$SIPP" -sf "$SCEN/$sf" -t u1 10.40.0.1:5270 -i 10.40.0.2 -p 5271 \
		-mp 7000 -key target "$target" -d "${CORE_PAUSE:-1000}" \
		-cid_str 'COREcid-%u-%p@%s' \
		-m "${CORE_CALLS:-1}" -r 10 -nostdin -timeout 30s \
		-timeout_error -trace_msg -message_file "$WORK/core-$n.msg" \
		"$@" > "$WORK/core-$n.out" 2>&1
	core_rc=$?
}

# peer_done: the uas of the last peer() ended well (bounded wait)
peer_done() {
	wait_exit "$uas" 30
	[ "$rc" = timeout ] && kill "$uas" 2>/dev/null
	[ "$rc" = 0 ]
}

stat() {
	"$TANDEMCTL" -s "$SOCK" --json show stats | tr '{' '\n' |
		sed -n "s/^\"counter\":\"sbc.$1\",\"value\":\([0-9]*\).*/\1/p"
}

# ---- a tel: URI routed by prefix to the PBX; the core hangs up ----
peer pbx sbc_uas_call.xml 10.30.0.2 5280
CORE_PAUSE=3000 core tel sbc_route_uac_call.xml "tel:+44-20-7946-1234" &
core_pid=$!
shown=no
for _ in $(seq 1 50); do
	"$TANDEMCTL" -s "$SOCK" sbc show calls > "$WORK/calls.txt" 2>&1
	grep -q 'direction: *core->access' "$WORK/calls.txt" && { shown=yes; break; }
	sleep 0.1
done
wait "$core_pid"
core_rc=$?
check "a call from the core to tel:+44-20-7946-1234 completes (core rc=$core_rc)" \
	test "$core_rc" = 0
check "the PBX answered it and took the core's BYE" peer_done
check "sbc show calls shows its direction and destination" sh -c \
	"test $shown = yes && grep -q 'destination: *udp:10.30.0.2:5280 sip:+442079461234@10.30.0.2:5280;user=phone' '$WORK/calls.txt'"
check "the peer got the number as a SIP URI at its own address" \
	grep -q '^INVITE sip:+442079461234@10.30.0.2:5280;user=phone SIP/2.0' \
	"$WORK/peer-pbx.msg"
check "the peer sees the asserted number as From, at the SBC's access address" \
	grep -q '^From: <sip:+15550001@10.30.0.1:5260;user=phone>;tag=' \
	"$WORK/peer-pbx.msg"
check "no core address (10.40.x) reaches the peer" \
	sh -c "! grep -q '10\.40\.' '$WORK/peer-pbx.msg'"
check "no core Call-ID, tag, icid or name reaches the peer" \
	sh -c "! grep -qi 'CORE\|corerealm\|scscf' '$WORK/peer-pbx.msg'"
check "no P- header or Record-Route reaches the peer" \
	sh -c "! grep -qi '^\(P-[A-Za-z-]*\|Record-Route\):' '$WORK/peer-pbx.msg'"
check "the SDP the peer got names the SBC's access address only" sh -c \
	"grep -q '^c=IN IP4 10.30.0.1' '$WORK/peer-pbx.msg' &&
	 grep -q '^o=sbc ' '$WORK/peer-pbx.msg'"

# ---- sip:+44...;user=phone; the peer hangs up ----
peer byes sbc_uas_byes.xml 10.30.0.2 5280
core byed sbc_route_uac_byed.xml "sip:+442079461235@core.lab;user=phone"
check "a call to sip:+442079461235@core.lab;user=phone: the peer's BYE reaches the core (rc=$core_rc)" \
	test "$core_rc" = 0
check "the peer's side of it ended well" peer_done

# ---- a number no peer routes ----
core unknown sbc_route_uac_fail.xml "tel:+3312345678"
check "a number no peer has: 404 to the core" sh -c \
	"test $core_rc = 0 && grep -q '^SIP/2.0 404' '$WORK/core-unknown.msg'"

# ---- failover: the first destination sends nothing ----
peer second sbc_uas_call.xml 10.30.0.3 5281
core failover sbc_route_uac_call.xml "tel:+442079451234"
check "the first destination silent: the second answers the call (rc=$core_rc)" \
	test "$core_rc" = 0
check "the second destination's call ended well" peer_done
check "the SBC logged the failover to the second destination" \
	grep -q 'udp:10.30.0.2:5290 sent nothing, trying udp:10.30.0.3:5281' \
	"$WORK/sbc.log"

# ---- failover: the first destination answers 503 ----
peer out503 sbc_route_uas_503.xml 10.30.0.2 5291
out503=$uas
peer third sbc_uas_call.xml 10.30.0.3 5282
core failover503 sbc_route_uac_call.xml "tel:+442079491234"
check "the first destination 503: the second answers (rc=$core_rc)" \
	sh -c "test $core_rc = 0 && grep -q 'udp:10.30.0.2:5291 answered 503, trying udp:10.30.0.3:5282' '$WORK/sbc.log'"
peer_done
uas=$out503
peer_done

# ---- failover: the first destination answers too late ----
peer late sbc_route_uas_late.xml 10.30.0.2 5292
late=$uas
peer fourth sbc_uas_call.xml 10.30.0.3 5283
core failoverlate sbc_route_uac_call.xml "tel:+442079441234"
check "a destination silent for failover_s: the next one takes the call (rc=$core_rc)" \
	test "$core_rc" = 0
peer_done
uas=$late
check "the destination given up, answering 200 late, gets its ACK and a BYE" peer_done

# ---- failover: the first destination's transport fails ----
peer fifth sbc_uas_call.xml 10.30.0.3 5284
core failovertcp sbc_route_uac_call.xml "tel:+442079431234"
# (the sip service reports the refused connection at Timer B, so it is
# failover_s that moves the call on)
check "a destination whose TCP connection is refused: the next one takes the call (rc=$core_rc)" \
	sh -c "test $core_rc = 0 && grep -Eq 'tcp:10.30.0.2:5299 (did not answer|sent nothing), trying udp:10.30.0.3:5284' '$WORK/sbc.log'"
peer_done

# ---- the core cancels while the peer rings ----
peer cancel uas_cancel.xml 10.30.0.2 5280
"$SIPP" -sf "$SCEN/sbc_uac_cancel.xml" -t u1 10.40.0.1:5270 -i 10.40.0.2 \
	-p 5271 -mp 7000 -s +442079461236 -m 1 -nostdin -timeout 30s \
	-timeout_error > "$WORK/core-cancel.out" 2>&1
cancel_rc=$?
check "the core's CANCEL reaches the peer (CANCEL, 487, ACK) (rc=$cancel_rc)" peer_done

# ---- outbound digest ----
peer auth sbc_route_uas_auth.xml 10.30.0.2 5283
core auth sbc_route_uac_call.xml "tel:+442079471234"
check "a trunk's 401 is answered with the right credentials: the call completes (rc=$core_rc)" \
	test "$core_rc" = 0
check "the trunk checked the Authorization (MD5, qop auth, nc, cnonce) and took the call" \
	sh -c "grep '^Authorization: Digest username=\"trunk\", realm=\"trunk.example\", ' '$WORK/peer-auth.msg' > '$WORK/auth.line' &&
	 grep -q 'qop=auth' '$WORK/auth.line' && grep -q 'nc=00000001' '$WORK/auth.line' &&
	 grep -q 'cnonce=\"[0-9a-zA-Z]*\"' '$WORK/auth.line' &&
	 grep -q 'opaque=\"route-test\"' '$WORK/auth.line' && grep -q '^BYE ' '$WORK/peer-auth.msg'"
peer_done
peer badauth sbc_route_uas_auth.xml 10.30.0.2 5284
core badauth sbc_route_uac_fail.xml "tel:+442079481234"
check "wrong credentials: the second 401 fails the call, 403 to the core" sh -c \
	"test $core_rc = 0 && grep -q '^SIP/2.0 403' '$WORK/core-badauth.msg' &&
	 test \$(grep -c '^INVITE ' '$WORK/peer-badauth.msg') = 2"
peer_done

# ---- the core is not held to the source rate (2/s here) ----
PEER_CALLS=10 peer burst sbc_uas_call.xml 10.30.0.2 5280
CORE_CALLS=10 core burst sbc_route_uac_call.xml "tel:+442079461237"
check "10 calls at 10/s from the core all complete: no source rate for the core (rc=$core_rc, $(stat rate_limited) limited)" \
	test "$core_rc" = 0 -a "$(stat rate_limited)" = 0
peer_done

# ---- a peer's max_calls holds for calls to it ----
peer single sbc_uas_call.xml 10.30.0.2 5285
CORE_CALLS=2 CORE_PAUSE=3000 core single sbc_route_uac_call.xml "tel:+442079421234"
check "a peer with max_calls 1: the second call at once meets 503 Peer Limit" \
	sh -c "grep -q '^SIP/2.0 503 Peer Limit' '$WORK/core-single.msg' &&
	 grep -q '^Retry-After: 5' '$WORK/core-single.msg'"
check "the first call to it completes" peer_done

# ---- a peer's rule set: numbers in its national dialling format ----
peer natpbx sbc_uas_call.xml 10.30.0.2 5286
core natpbx sbc_route_uac_call.xml "tel:+442079411234"
check "a call to a peer with rules (national format) completes (rc=$core_rc)" \
	test "$core_rc" = 0
peer_done
check "the peer gets the called number in its national format" \
	grep -q '^INVITE sip:02079411234@10.30.0.2:5286 SIP/2.0' \
	"$WORK/peer-natpbx.msg"
check "and the caller's number in its international format (00...)" \
	grep -q '^From: <sip:0015550001@10.30.0.1:5260>;tag=' \
	"$WORK/peer-natpbx.msg"
grep -q '^INVITE sip:02079411234@' "$WORK/peer-natpbx.msg" ||
	grep -E '^(INVITE|From|To):? ' "$WORK/peer-natpbx.msg" | diag

# ---- access -> core still ----
"$SIPP" -sf "$SBC_SRCDIR/sipp/sbc_uas_call.xml" -t u1 -i 10.40.0.2 -p 5272 \
	-mp 9000 -m 1 -nostdin -timeout 30s -trace_msg \
	-message_file "$WORK/core-uas.msg" > "$WORK/core-uas.out" 2>&1 &
uas=$!
sleep 0.5
"$SIPP" -sf "$abs_top_srcdir/contrib/sipp/uac_call.xml" -t u1 10.30.0.1:5260 \
	-s callee -i 10.30.0.2 -p 5285 -mp 9100 -m 1 -nostdin -timeout 30s \
	-timeout_error > "$WORK/access-uac.out" 2>&1
access_rc=$?
check "a call from the access side still goes to the core next hop (rc=$access_rc)" \
	sh -c "test $access_rc = 0 && grep -q '^INVITE sip:callee@core.lab SIP/2.0' '$WORK/core-uas.msg'"
peer_done

check "counters: 21 calls towards access peers, 4 failovers ($(stat calls_to_access), $(stat failovers))" \
	test "$(stat calls_to_access)" = 21 -a "$(stat failovers)" = 4

kill -TERM "$NODE_PID" 2>/dev/null
wait_exit "$NODE_PID" 20
check "the SBC stops cleanly (rc=$rc)" test "$rc" = 0

# alt_node NAME WHAT SED: a second SBC node with one listener (the access
# one) and the [sbc] lines SED changes; a call from 10.40.0.2:5271 must be
# taken as from the core and routed to the PBX.
alt_node() {
	sed -e 's/^listen = .*/listen = udp:10.30.0.1:5260/' -e '/^core_listen/d' \
		-e "s|^control_socket = .*|control_socket = $WORK/sbc-$1.sock|" \
		-e "$3" "$WORK/sbc.conf" > "$WORK/sbc-$1.conf"
	SOCK="$WORK/sbc-$1.sock"
	if ! start_node "$WORK/sbc-$1.conf" "$WORK/sbc-$1.log"; then
		fail "$2: an SBC node with one listener starts"
		diag "$WORK/sbc-$1.log"
		return
	fi
	peer "$1" sbc_uas_call.xml 10.30.0.2 5280
	"$SIPP" -sf "$SCEN/sbc_route_uac_call.xml" -t u1 10.30.0.1:5260 \
		-i 10.40.0.2 -p 5271 -mp 7000 -key target "tel:+442079461238" \
		-d 500 -m 1 -nostdin -timeout 30s -timeout_error \
		> "$WORK/core-$1.out" 2>&1
	core_rc=$?
	n=$(stat calls_to_access)
	check "$2: a call from 10.40.0.2:5271 is from the core, routed to the PBX (rc=$core_rc, $n)" \
		test "$core_rc" = 0 -a "$n" = 1
	peer_done
	kill -TERM "$NODE_PID" 2>/dev/null
	wait_exit "$NODE_PID" 20
}
alt_node sources "core_sources = 10.40.0.0/24" \
	's|^core_domain = .*|&\ncore_sources = 10.40.0.0/24|'
# neither key: only core_next_hop's own address and port are the core
alt_node nexthop "neither core_listen nor core_sources, core_next_hop 10.40.0.2:5271" \
	's|^core_next_hop = .*|core_next_hop = udp:10.40.0.2:5271|'

[ "$tap_failed" -gt 0 ] && tail -n 60 "$WORK/sbc.log" | diag
finish
