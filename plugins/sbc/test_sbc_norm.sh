#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Normalisation rules across the SBC, with real calls: sipp uac (a PBX of
# the access realm) -> tandem SBC -> sipp uas (the core). The core side's
# INVITE must carry E.164 numbers, the headers the peer's rules add,
# rewrite and remove, and our P-Asserted-Identity instead of the one the
# untrusted PBX forged; the caller must receive nothing internal to the
# IMS (P-Asserted-Identity, P-Charging-*, Path, Service-Route,
# Record-Route) while a header its rules copy passes. The core's reliable
# 183 reaches a caller without 100rel plainly (the core gets its PRACK),
# and a trusted peer with `100rel = no` likewise, its PAI kept in E.164.
# The core's session refresh (UPDATE, no body) is answered by the SBC. A
# caller that requires 100rel gets the core's plain 180 reliably
# (`100rel = always`); a peer without UPDATE gets the core's UPDATE with
# an offer as a re-INVITE (`update = no`).
# Rule sets with errors stop `tandemd --check` with file:line. Runs in a
# network namespace of its own; every sipp run is bounded.
. "$abs_top_srcdir/tests/integration/lib.sh"

in_netns "$@"
need_sipp
SOCK="$WORK/sbc.sock"
SBC_PORT=5460
UAS_PORT=5470
plan 36

cat > "$WORK/sbc.conf" <<CONF
[node]
name = sbc-norm-test
control_socket = $SOCK
log_level = info
[plugins]
load = sip media sbc
[sip]
listen = udp:127.0.0.1:$SBC_PORT
[media]
workers = 1
pin_workers = no
rtp_address = 127.0.0.1
[sbc]
core_next_hop = udp:127.0.0.1:$UAS_PORT
core_domain = 127.0.0.1:$UAS_PORT

; a London PBX: local and national dialling, not trusted
[sbc-rules pbx]
country_code = 44
national_prefix = 0
international_prefix = 00
area_code = 20
local_length = 8
number_format = local
asserted_identity = sip:+442079460000@pbx.example
; its DDI range: a caller's From in it becomes the asserted identity
allowed_numbers = ^\+4420794600[0-9]{2}\$
in1 = add X-Trunk: london
in2 = copy X-*
in3 = remove X-Secret*
in4 = rewrite X-Colour /^blue\$/black/i
in5 = set ruri.param.user phone
out1 = copy *

; a trusted PBX that supports 100rel but is not to be sent it
[sbc-rules trusted-pbx]
country_code = 44
number_format = national
trusted = yes
100rel = no

; a PBX that requires 100rel, behind a core that rings plainly
[sbc-rules rel-pbx]
100rel = always

; a PBX without UPDATE
[sbc-rules noupdate-pbx]
update = no

[sbc-peer pbx]
address = 127.0.0.1
rules = pbx
[sbc-peer trusted]
address = 127.0.0.2
rules = trusted-pbx
[sbc-peer rel]
address = 127.0.0.3
rules = rel-pbx
[sbc-peer noupdate]
address = 127.0.0.4
rules = noupdate-pbx
CONF

if start_node "$WORK/sbc.conf" "$WORK/sbc.log"; then
	pass "an SBC node with rule sets starts"
else
	fail "an SBC node with rule sets starts"; diag "$WORK/sbc.log"; finish
fi

# call NAME UAC_SCENARIO SOURCE [UAS_SCENARIO]: one call through the SBC; sets uac_rc,
# uas_rc, and leaves uac-NAME.msg / uas-NAME.msg (sipp -trace_msg)
call() {
	"$SIPP" -sf "$SBC_SRCDIR/sipp/${4:-sbc_norm_uas.xml}" -t u1 -i 127.0.0.1 \
		-p $UAS_PORT -m 1 -nostdin -timeout 30s -trace_msg \
		-message_file "$WORK/uas-$1.msg" > "$WORK/uas-$1.out" 2>&1 &
	uas=$!
	for _ in $(seq 1 50); do
		grep -q 'Scenario Screen\|Call-rate' "$WORK/uas-$1.out" \
			2>/dev/null && break
		sleep 0.1
	done
	"$SIPP" -sf "$SBC_SRCDIR/sipp/$2" -t u1 127.0.0.1:$SBC_PORT \
		-i "$3" -p 5461 -m 1 -nostdin -timeout 30s -trace_msg \
		-message_file "$WORK/uac-$1.msg" > "$WORK/uac-$1.out" 2>&1
	uac_rc=$?
	wait_exit "$uas" 20
	uas_rc=$rc
	[ "$rc" = timeout ] && kill "$uas" 2>/dev/null
	if [ "$uac_rc" != 0 ] || [ "$uas_rc" != 0 ]; then
		tail -n 15 "$WORK/uac-$1.out" | diag
		tail -n 15 "$WORK/uas-$1.out" | diag
		tail -n 20 "$WORK/sbc.log" | diag
	fi
}

# received FILE: the messages sipp received (its trace holds both ways)
received() {
	awk '/message received/ { on = 1; next } /message sent/ { on = 0 }
	     on' "$1"
}

# ---- an untrusted PBX (127.0.0.1) without 100rel ----
call pbx sbc_norm_uac.xml 127.0.0.1
check "the call completes on the caller's side (183 unreliable: no RSeq)" \
	test "$uac_rc" = 0
check "the call completes on the core side (its 183 PRACKed)" \
	test "$uas_rc" = 0
received "$WORK/uas-pbx.msg" > "$WORK/core-in.txt"
received "$WORK/uac-pbx.msg" > "$WORK/caller-in.txt"
# the checks of absence below mean something only if the traces are there
check "the traces hold the core's INVITE and the caller's 200" \
	sh -c "grep -q '^INVITE ' '$WORK/core-in.txt' &&
	       grep -q '^SIP/2.0 200' '$WORK/caller-in.txt'"
check "the core got a PRACK for its reliable 183" \
	grep -q '^PRACK ' "$WORK/core-in.txt"
check "R-URI in E.164 with user=phone" \
	grep -q "^INVITE sip:+442079460000@127.0.0.1:$UAS_PORT;user=phone SIP/2.0" \
	"$WORK/core-in.txt"
check "To in E.164 (national 02079460000)" \
	grep -q '^To: <sip:+442079460000@' "$WORK/core-in.txt"
check "From in E.164 (local 79460001, area 20)" \
	grep -q '^From: <sip:+442079460001@' "$WORK/core-in.txt"
check "the forged P-Asserted-Identity is replaced: the From, screened in the DDI range" \
	sh -c "grep -q '^P-Asserted-Identity: <sip:+442079460001@pbx.example>' \
	'$WORK/core-in.txt' && ! grep -q forged.example '$WORK/core-in.txt'"
check "a header the rules add reaches the core (X-Trunk)" \
	grep -q '^X-Trunk: london' "$WORK/core-in.txt"
check "a copied header is rewritten (X-Colour: Blue -> black)" \
	grep -q '^X-Colour: black' "$WORK/core-in.txt"
check "a header the rules remove does not (X-Secret-Token)" \
	sh -c "! grep -qi 'x-secret\|caller-secret' '$WORK/core-in.txt'"
check "the caller's own P-Charging-Vector does not enter the core" \
	sh -c "! grep -q 'forged-by-caller' '$WORK/core-in.txt'"
check "the caller received no 183 with RSeq (sent unreliably)" \
	sh -c "grep -q '^SIP/2.0 183' '$WORK/caller-in.txt' &&
	       ! grep -qi '^RSeq:' '$WORK/caller-in.txt'"
check "nothing internal reached the caller (ims.internal, core-secret, rr-internal)" \
	sh -c "! grep -q 'ims.internal\|core-secret\|rr-internal' '$WORK/caller-in.txt'"
check "no P-Asserted-Identity, P-Charging-*, Path, Service-Route to it" \
	sh -c "! grep -qi '^\(P-Asserted-Identity\|P-Charging-[A-Za-z-]*\|Path\|Service-Route\|P-Visited-Network-ID\):' '$WORK/caller-in.txt'"
check "a header its rules copy passes (X-Custom)" \
	grep -q '^X-Custom: passed' "$WORK/caller-in.txt"
check "the core's refresh UPDATE was answered (by the SBC)" \
	grep -q '^CSeq: 10 UPDATE' "$WORK/core-in.txt"
check "no UPDATE reached the caller, the core's BYE did" \
	sh -c "! grep -q '^UPDATE ' '$WORK/caller-in.txt' &&
	       grep -q '^BYE ' '$WORK/caller-in.txt'"

# ---- a trusted PBX (127.0.0.2) that supports 100rel, 100rel = no ----
call trusted sbc_norm_uac_trusted.xml 127.0.0.2
check "a trusted caller's call completes, its 183 unreliable" \
	test "$uac_rc" = 0 -a "$uas_rc" = 0
received "$WORK/uas-trusted.msg" > "$WORK/core-in2.txt"
received "$WORK/uac-trusted.msg" > "$WORK/caller-in2.txt"
check "the traces hold the core's INVITE and the caller's 183" \
	sh -c "grep -q '^INVITE ' '$WORK/core-in2.txt' &&
	       grep -q '^SIP/2.0 183' '$WORK/caller-in2.txt'"
check "its tel: From (national) reaches the core in E.164" \
	grep -q '^From: <sip:+442079460006@' "$WORK/core-in2.txt"
check "its P-Asserted-Identity is kept, in E.164" \
	grep -q '^P-Asserted-Identity: <sip:+442079460005@trusted-pbx.example>' \
	"$WORK/core-in2.txt"
check "the callee's P-Asserted-Identity reaches it, in national format" \
	grep -q '^P-Asserted-Identity: <sip:02079460000@ims.internal>' \
	"$WORK/caller-in2.txt"
check "no RSeq reached the caller that supports 100rel" \
	sh -c "! grep -qi '^RSeq:' '$WORK/caller-in2.txt'"

# ---- a PBX requiring 100rel (127.0.0.3), the core's 180 plain ----
call rel sbc_norm_uac_rel.xml 127.0.0.3 sbc_norm_uas_ring.xml
check "100rel = always: the plain 180 reached the caller reliably (RSeq), PRACKed, then cancelled" \
	test "$uac_rc" = 0
check "the core's leg was cancelled (200, 487, ACK)" test "$uas_rc" = 0

# ---- a PBX without UPDATE (127.0.0.4): the core holds by UPDATE ----
call noupdate sbc_norm_uac_noupdate.xml 127.0.0.4 sbc_norm_uas_update.xml
check "update = no: the core's UPDATE reached the caller as a re-INVITE (a=sendonly)" \
	test "$uac_rc" = 0
check "the caller's answer (a=recvonly) reached the core in the 200 to its UPDATE" \
	test "$uas_rc" = 0
received "$WORK/uac-noupdate.msg" > "$WORK/caller-in4.txt"
check "no UPDATE reached the caller without UPDATE" \
	sh -c "grep -c '^INVITE ' '$WORK/caller-in4.txt' | grep -q 1 &&
	       ! grep -q '^UPDATE ' '$WORK/caller-in4.txt'"

rules=$("$TANDEMCTL" -s "$SOCK" --json sbc show rules)
check "sbc show rules lists the sets" \
	sh -c "echo '$rules' | grep -q '\"name\":\"pbx\",\"trusted\":\"no\",\"country_code\":\"44\",\"area_code\":\"20\",\"number_format\":\"local\"' &&
	       echo '$rules' | grep -q '\"name\":\"noupdate-pbx\".*\"update\":\"no\"'"

kill -TERM "$NODE_PID" 2>/dev/null
wait_exit "$NODE_PID" 20
if [ "$rc" = 0 ]; then
	pass "the SBC stops cleanly"
else
	fail "the SBC stops cleanly (exit $rc)"
	tail -n 30 "$WORK/sbc.log" | diag
fi

# ---- rule sets with errors: file:line at --check ----
# bad_config NAME LINES...: `tandemd --check` of a config whose last
# lines are LINES; sets out (its output) and check_rc
bad_config() {
	name=$1
	shift
	{
		printf '[node]\nname = bad\n[plugins]\nload = sip media sbc\n'
		printf '[sip]\nlisten = udp:127.0.0.1:%s\n' $SBC_PORT
		printf '[media]\nrtp_address = 127.0.0.1\n'
		for l in "$@"; do printf '%s\n' "$l"; done
	} > "$WORK/$name.conf"
	"$TANDEMD" --check -c "$WORK/$name.conf" --plugin-path "$PLUGIN_PATH" \
		> "$WORK/$name.out" 2>&1
	check_rc=$?
	out=$(cat "$WORK/$name.out")
}
bad_config regex '[sbc-rules r]' 'in1 = rewrite ruri.user /([0-9]/x/'
check "a regex that does not compile: $(echo "$out" | grep regex | head -n 1)" \
	sh -c "[ $check_rc != 0 ] && grep -q 'regex.conf:10: .*regex' '$WORK/regex.out'"
bad_config verb '[sbc-rules r]' 'country_code = 44' 'out2 = replace X-A'
check "an unknown action: $(echo "$out" | grep action | head -n 1)" \
	sh -c "[ $check_rc != 0 ] && grep -q 'verb.conf:11: .*unknown action' '$WORK/verb.out'"
bad_config peer '[sbc-peer p]' 'address = 127.0.0.1' 'rules = nosuch'
check "a peer naming no set: $(echo "$out" | grep nosuch | head -n 1)" \
	sh -c "[ $check_rc != 0 ] && grep -q 'peer.conf:11: .*nosuch' '$WORK/peer.out'"
bad_config realm '[sbc]' 'core_rules = missing'
check "[sbc] core_rules naming no set: $(echo "$out" | grep missing | head -n 1)" \
	sh -c "[ $check_rc != 0 ] && grep -q 'realm.conf:10: .*missing' '$WORK/realm.out'"
finish
