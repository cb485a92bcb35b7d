#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The reg event package and the HSS's own Cx requests: the P-CSCF
# subscribes to every UE it registers, a UE to its own registration;
# the S-CSCF restarts and keeps the subscriptions (they are stored with
# the registrations); the HSS de-registers alice (RTR): the S-CSCF
# notifies "terminated"
# (deactivated), the P-CSCF drops her and refuses her next call; a new
# profile pushed by the HSS (PPR) reaches the S-CSCF; an administrative
# de-registration at the S-CSCF (SAR) is notified too.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SCSCF_SRCDIR/ims_lib.sh"
command -v sipp > /dev/null || { echo "1..0 # SKIP sipp not installed"; exit 0; }
plan 25

if ims_core; then pass "HSS, I-, S- and P-CSCF start; Cx is up"; else
	fail "HSS, I-, S- and P-CSCF start; Cx is up"; ims_logs; finish; fi
hss hss subscriber add alice@ims.lab impu=sip:alice@ims.lab,tel:+15550001 \
	k=$K3 op=$OP3 amf=8000 > /dev/null
hss hss subscriber add bob@ims.lab impu=sip:bob@ims.lab k=$K15 op=$OP15 \
	amf=8000 > /dev/null
s=$(ims_scenario ims-ue-register.xml alice $K3 $OP3)
ims_sipp "$s" 5099 reg-alice && a=0 || a=1
s=$(ims_scenario ims-ue-register.xml bob $K15 $OP15)
ims_sipp "$s" 5098 reg-bob && b=0 || b=1
check "alice and bob register" test "$a$b" = 00
t() { pcscf pcscf registrations | grep -q 'subscribed'; }
check "the P-CSCF subscribed to their reg event" t
t() { [ "$(ims_stat scscf scscf.notify)" -ge 2 ]; }
check "and the S-CSCF sent the first NOTIFYs" dia_wait 5 t

# alice's UE subscribes to her own registration, from her flow
sipp -sf "$SIPP_DIR/ims-ue-subscribe.xml" -i 127.0.0.1 -p 5099 -m 1 \
	-key me alice -timeout 30s -timeout_error -trace_msg \
	-message_file "$WORK/sub.msg" -trace_err -error_file "$WORK/sub.err" \
	127.0.0.1:5060 > "$WORK/sub.out" 2>&1 < /dev/null &
SUB=$!
t() { grep -q 'state="active"' "$WORK/sub.msg" 2>/dev/null; }
check "alice's UE subscribes and gets the active state" dia_wait 10 t

# ---- the S-CSCF restarts: the subscriptions are in its store ----
ims_stop_node scscf
check "the S-CSCF stops" test "$rc" = 0
if ims_start_node scscf && dia_wait 20 ims_cx_open; then
	pass "and starts again with the same store"
else
	fail "and starts again with the same store"
fi
t() { grep -q '3 reg event subscription(s) restored' "$WORK/scscf.log"; }
check "with the P-CSCF's two subscriptions and alice's own" t

# ---- the HSS de-registers alice ----
hss hss deregister alice@ims.lab > /dev/null
t() { ! scscf scscf registrations | grep -q 'sip:alice@ims.lab'; }
check "RTR from the HSS: the S-CSCF drops alice" dia_wait 10 t
t() { grep -q 'RTR answered 2001' "$WORK/hss.log"; }
check "and answers the RTR 2001" dia_wait 5 t
t() { ! pcscf pcscf registrations | grep -q 'sip:alice@ims.lab'; }
check "the P-CSCF drops alice on the reg event NOTIFY" dia_wait 10 t
t() { [ "$(ims_stat pcscf pcscf.reg_event_terminated)" = 1 ]; }
check "and counts it" t
wait_exit $SUB 30
check "alice's UE hears the registration ended (rc=$rc)" test "$rc" = 0
t() { grep -q 'event="deactivated"' "$WORK/sub.msg"; }
check "with the event deactivated (RFC 3680, Reason-Code of the RTR)" t
sed "s/@EXPECT@/403/g" "$SIPP_DIR/ims-uac-fail.xml" > "$WORK/fail-403.xml"
ims_sipp "$WORK/fail-403.xml" 5099 after -key me alice -key target sip:bob@ims.lab
check "alice's next call meets 403 at the P-CSCF (rc=$?)" test $? = 0

# ---- a new profile pushed by the HSS ----
cat > "$WORK/bob.xml" <<XML
<InitialFilterCriteria><Priority>3</Priority><TriggerPoint><ConditionTypeCNF>0</ConditionTypeCNF><SPT><Group>0</Group><Method>MESSAGE</Method></SPT></TriggerPoint><ApplicationServer><ServerName>sip:as.ims.lab:7070</ServerName><DefaultHandling>0</DefaultHandling></ApplicationServer></InitialFilterCriteria>
XML
hss hss profile set bob-svc "$WORK/bob.xml" > /dev/null
hss hss subscriber set bob@ims.lab profile=bob-svc > /dev/null
t() { scscf scscf registration sip:bob@ims.lab | grep -q 'sip:as.ims.lab:7070'; }
check "PPR: the S-CSCF has bob's new iFC" dia_wait 10 t
t() { [ "$(ims_stat scscf scscf.ppr)" -ge 1 ]; }
check "from a Push-Profile request" t

# ---- administrative de-registration at the S-CSCF ----
check "the S-CSCF de-registers bob" scscf scscf deregister sip:bob@ims.lab
t() { ! hss hss subscriber show bob@ims.lab | grep -Eq '^state: +registered'; }
check "the HSS hears it (SAR)" dia_wait 10 t
t() { ! pcscf pcscf registrations | grep -q 'sip:bob@ims.lab'; }
check "and the P-CSCF through the reg event" dia_wait 10 t

# ---- a subscription not refreshed in time (RFC 6665 4.2.2) ----
# an S-CSCF granting 2 s: bob's P-CSCF subscription lapses, is ended with
# a last NOTIFY (timeout), bob stays registered, and his next
# re-registration makes the P-CSCF subscribe again
ims_stop_node scscf
SCSCF_EXTRA="reg_event_expires = 2"
ims_start_node scscf && dia_wait 20 ims_cx_open
s=$(ims_scenario ims-ue-register.xml bob $K15 $OP15)
ims_sipp "$s" 5098 reg-bob2
check "bob registers again with an S-CSCF that grants 2 s subscriptions (rc=$?)" test $? = 0
t() { grep -q 'reg event subscription .* expired' "$WORK/scscf.log"; }
check "his P-CSCF's subscription expires at the S-CSCF" dia_wait 10 t
bob_sub() { # what the P-CSCF says of bob's reg event subscription
	pcscf --json pcscf registrations | tr '{' '\n' |
		grep '"impu":"sip:bob@ims.lab"' | grep -o '"reg_event":"[^"]*"'
}
t() { [ "$(bob_sub)" = '"reg_event":"-"' ]; }
check "the P-CSCF heard it end (timeout) and keeps bob registered" dia_wait 5 t
ims_sipp "$s" 5098 reg-bob3
t() { [ "$(bob_sub)" = '"reg_event":"subscribed"' ] ||
	[ "$(grep -c 'sip:bob@ims.lab: reg event subscription from' "$WORK/scscf.log")" = 2 ]; }
check "bob's re-registration makes the P-CSCF subscribe again" dia_wait 5 t

# every node stops on TERM and frees what it holds (the sanitizer build
# fails a leak here)
t() {
	for n in pcscf icscf scscf; do ims_stop_node $n || return 1; done
}
check "P-, I- and S-CSCF stop cleanly" t

[ "$tap_failed" = 0 ] || { for f in "$WORK"/*.out "$WORK"/*.err; do diag "$f"; done; ims_logs; }
finish
