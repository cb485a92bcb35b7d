#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Initial filter criteria at work: profiles provisioned in the tandem HSS
# send requests from the S-CSCF to application servers (sipp) over ISC.
# A third-party REGISTER reaches an AS with the REGISTER in its body; an
# originating iFC sends alice's call to an AS that sends it back along
# the odi Route, where evaluation resumes; bob's terminating iFC names
# an AS that does not answer (SESSION_CONTINUED: the call goes on),
# carol's one that does not answer either (SESSION_TERMINATED: 408).
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SCSCF_SRCDIR/ims_lib.sh"
command -v sipp > /dev/null || { echo "1..0 # SKIP sipp not installed"; exit 0; }
plan 17

SCSCF_EXTRA="icscf = sip:icscf.ims.lab:4060
as_timeout_ms = 1000"
if ims_core; then pass "HSS, I-, S- and P-CSCF start; Cx is up"; else
	fail "HSS, I-, S- and P-CSCF start; Cx is up"; ims_logs; finish; fi

# ifc PRIORITY CNF SPTS AS DEFAULT [EXTENSION]
ifc() {
	cat <<XML
<InitialFilterCriteria><Priority>$1</Priority><TriggerPoint><ConditionTypeCNF>$2</ConditionTypeCNF>$3</TriggerPoint><ApplicationServer><ServerName>$4</ServerName><DefaultHandling>$5</DefaultHandling>${6:-}</ApplicationServer></InitialFilterCriteria>
XML
}
spt() { echo "<SPT><ConditionNegated>${3:-0}</ConditionNegated><Group>$1</Group>$2</SPT>"; }
INVITE=$(spt 0 "<Method>INVITE</Method>")
{ ifc 0 1 "$INVITE$(spt 1 '<SessionCase>0</SessionCase>')" sip:as.ims.lab:7080 0
  ifc 5 0 "$(spt 0 '<Method>REGISTER</Method>')" sip:as.ims.lab:7082 0 \
	"<Extension><IncludeRegisterRequest/></Extension>"
  ifc 9 1 "$INVITE$(spt 1 '<SessionCase>1</SessionCase>')" sip:as.ims.lab:7093 0
} > "$WORK/alice.xml"
ifc 0 1 "$INVITE$(spt 1 '<SessionCase>1</SessionCase>')" sip:as.ims.lab:7090 0 > "$WORK/bob.xml"
ifc 0 1 "$INVITE$(spt 1 '<SessionCase>1</SessionCase>')" sip:as.ims.lab:7091 1 > "$WORK/carol.xml"
for u in alice bob carol; do hss hss profile set "$u-svc" "$WORK/$u.xml" > "$WORK/prof-$u" 2>&1; done
hss hss subscriber add alice@ims.lab impu=sip:alice@ims.lab k=$K3 op=$OP3 \
	amf=8000 profile=alice-svc > /dev/null
hss hss subscriber add bob@ims.lab impu=sip:bob@ims.lab k=$K15 op=$OP15 \
	amf=8000 profile=bob-svc > /dev/null
hss hss subscriber add carol@ims.lab impu=sip:carol@ims.lab k=$K3 op=$OP3 \
	amf=8000 profile=carol-svc > /dev/null
t() { hss hss subscriber show alice@ims.lab | grep -q alice-svc; }
check "three profiles with iFCs provisioned" t

# bg NAME SCENARIO PORT [ARGS]: a sipp in the background; pid in BG_PID
bg() {
	name=$1 scen=$2 port=$3
	shift 3
	sipp -sf "$scen" -i 127.0.0.1 -p "$port" -m 1 -timeout 30s \
		-timeout_error -trace_msg -message_file "$WORK/$name.msg" \
		-trace_err -error_file "$WORK/$name.err" "$@" \
		> "$WORK/$name.out" 2>&1 < /dev/null &
	BG_PID=$!
}
bg_done() { wait_exit "$1" 40; [ "$rc" = 0 ]; }

# ---- third-party registration ----
bg as-reg "$SIPP_DIR/ims-as-register.xml" 7082
AS_REG=$BG_PID
sleep 0.2
s=$(ims_scenario ims-ue-register.xml alice $K3 $OP3)
ims_sipp "$s" 5099 reg-alice
check "alice registers (rc=$?)" test $? = 0
check "the AS gets the third-party REGISTER and answers 200" bg_done $AS_REG
t() { grep -q '^REGISTER sip:as.ims.lab:7082 SIP/2.0' "$WORK/as-reg.msg" &&
	grep -q '^Content-Type: message/sip' "$WORK/as-reg.msg" &&
	grep -q '^To: <sip:alice@ims.lab>' "$WORK/as-reg.msg"; }
check "for alice, with her REGISTER as a message/sip body" t
s=$(ims_scenario ims-ue-register.xml bob $K15 $OP15)
ims_sipp "$s" 5098 reg-bob && b=0 || b=1
s=$(ims_scenario ims-ue-register.xml carol $K3 $OP3)
ims_sipp "$s" 5097 reg-carol && c=0 || c=1
check "bob and carol register" test "$b$c" = 00

# ---- originating AS that sends the call back; a silent terminating AS ----
bg as "$SIPP_DIR/ims-as-proxy.xml" 7080
AS=$BG_PID
bg bob "$SIPP_DIR/ims-uas-call.xml" 5098 -key me bob
BOB=$BG_PID
sleep 0.2
ims_sipp "$SIPP_DIR/ims-uac-call.xml" 5099 call -key me alice -key target sip:bob@ims.lab
check "alice calls bob through her AS and bob's silent AS (rc=$?)" test $? = 0
check "the originating AS took the call and passed it on" bg_done $AS
check "bob answered and saw the BYE" bg_done $BOB
t() { grep -q '^Route: <sip:scscf.ims.lab:6060;lr;odi=' "$WORK/as.msg"; }
check "the S-CSCF gave the AS its odi Route" t
t() { grep -q '^P-Asserted-Identity: <sip:alice@ims.lab>' "$WORK/as.msg"; }
check "and alice's asserted identity" t
t() { [ "$(ims_stat scscf scscf.as_routed)" -ge 2 ] &&
	[ "$(ims_stat scscf scscf.as_failed)" = 1 ]; }
check "two ASs asked, the silent one got SESSION_CONTINUED" t
t() { grep -q 'default handling SESSION_CONTINUED' "$WORK/scscf.log"; }
check "and the S-CSCF says so" t
t() { ! grep -q 'sip:as.ims.lab:7093' "$WORK/scscf.log"; }
check "alice's own terminating iFC was not used for her call" t

# ---- a silent AS with SESSION_TERMINATED ----
sed "s/@EXPECT@/408/g" "$SIPP_DIR/ims-uac-fail.xml" > "$WORK/fail-408.xml"
ims_sipp "$WORK/fail-408.xml" 5098 call2 -key me bob -key target sip:carol@ims.lab
check "bob calls carol, whose AS is silent and ends the session: 408 (rc=$?)" test $? = 0
t() { grep -q 'default handling SESSION_TERMINATED' "$WORK/scscf.log"; }
check "the S-CSCF applied SESSION_TERMINATED" t
no_dialogs() {
	for n in pcscf icscf scscf; do
		"$n" "$n" show | grep -Eq '^dialogs: +0$' || return 1
	done
}
check "every dialog is gone" dia_wait 5 no_dialogs

[ "$tap_failed" = 0 ] || { for f in "$WORK"/*.out "$WORK"/*.err "$WORK"/prof-*; do diag "$f"; done; ims_logs; }
finish
