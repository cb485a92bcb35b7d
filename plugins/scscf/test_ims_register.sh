#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# IMS registration through the whole core: sipp UEs with Digest-AKAv1-MD5
# register through P-CSCF -> I-CSCF -> S-CSCF against the tandem HSS, each
# its own tandemd node on loopback: initial registration, re-registration,
# nonce replay, wrong RES, unknown user, AUTS re-synchronisation, S-CSCF
# restart, de-registration and expiry.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SCSCF_SRCDIR/ims_lib.sh"
command -v sipp > /dev/null || { echo "1..0 # SKIP sipp not installed"; exit 0; }
plan 40

# three AKA vectors per MAR: the spare ones serve the next challenges
SCSCF_EXTRA="vectors = 3"

if ims_core; then pass "HSS, I-, S- and P-CSCF start; Cx is up"; else
	fail "HSS, I-, S- and P-CSCF start; Cx is up"; ims_logs; finish; fi
hss hss subscriber add alice@ims.lab impu=sip:alice@ims.lab,tel:+15550001 \
	k=$K3 op=$OP3 amf=8000 > /dev/null
hss hss subscriber add bob@ims.lab impu=sip:bob@ims.lab k=$K15 op=$OP15 \
	amf=8000 > /dev/null
check "two subscribers provisioned" \
	sh -c "hss_n=\$('$TANDEMCTL' -s '$HSS_SOCK' --json hss subscriber list | grep -o '\"impi\"' | wc -l); [ \$hss_n = 2 ]"

# ---- initial registration ----
s=$(ims_scenario ims-ue-register.xml alice $K3 $OP3)
ims_sipp "$s" 5099 reg1
check "alice registers: REGISTER, 401, REGISTER, 200 (sipp rc=$?)" test $? = 0
t() { grep -q 'algorithm=AKAv1-MD5' "$WORK/reg1.msg"; }
check "the UE was challenged with Digest-AKAv1-MD5" t
t() { ! grep -q 'ck=\|ik=' "$WORK/reg1.msg"; }
check "the P-CSCF took CK and IK out of the 401" t
t() { grep -q '^Service-Route: <sip:orig@scscf.ims.lab:6060;lr>' "$WORK/reg1.msg"; }
check "the 200 carries the S-CSCF's Service-Route" t
t() { grep -q '^Path: <sip:term@pcscf.ims.lab:5060;lr>' "$WORK/reg1.msg"; }
check "and the P-CSCF's Path" t
t() { grep '^P-Associated-URI:' "$WORK/reg1.msg" | grep -q 'tel:+15550001'; }
check "and the implicit set in P-Associated-URI" t
t() { scscf scscf registration sip:alice@ims.lab | grep -q 'sip:alice@127.0.0.1:5099'; }
check "the S-CSCF has alice's binding" t
t() { scscf scscf registration tel:+15550001 | grep -q 'sip:alice@ims.lab'; }
check "and finds her by another identity of the set" t
t() { pcscf pcscf registrations | grep -q 'udp:127.0.0.1:5099'; }
check "the P-CSCF cached alice with her flow" t
t() { hss hss subscriber show alice@ims.lab | grep -Eq '^state: +registered'; }
check "the HSS has alice registered" t
t() { [ "$(ims_stat hss hss.sar)" = 1 ] && [ "$(ims_stat hss hss.uar)" = 2 ] &&
	[ "$(ims_stat hss hss.mar)" = 1 ]; }
check "the HSS saw UAR, MAR, UAR, SAR" t

# ---- re-registration, then the used nonce again ----
s=$(ims_scenario ims-ue-replay.xml alice $K3 $OP3)
ims_sipp "$s" 5099 replay
check "alice re-registers; the replayed nonce gets a fresh 401 (rc=$?)" test $? = 0
t() { [ "$(ims_stat scscf scscf.stale)" -ge 1 ]; }
check "the S-CSCF counted the stale nonce" t
t() { [ "$(ims_stat hss hss.sar)" = 3 ]; }
check "each registration was a SAR (REGISTRATION, RE_REGISTRATION x2)" t
# vectors = 3: the first MAR left two spare vectors for alice, and the
# re-registration's challenges used them
t() { [ "$(ims_stat hss hss.mar)" = 1 ] &&
	[ "$(ims_stat scscf scscf.spare_vectors)" = 2 ]; }
check "the re-challenges took the first MAR's spare vectors: no new MAR" t

# ---- a wrong answer ----
s=$(ims_scenario ims-ue-wrong-res.xml alice $K3 $OP3)
ims_sipp "$s" 5097 wrong
check "a wrong RES is refused with 403 (rc=$?)" test $? = 0
t() { [ "$(ims_stat scscf scscf.auth_failed)" = 1 ]; }
check "the S-CSCF counted the failure" t
t() { scscf scscf registration sip:alice@ims.lab | grep -q 'sip:alice@127.0.0.1:5099'; }
check "and alice's registration stands" t

# ---- a PBX trunk with SIP Digest ----
hss hss subscriber add pbx@ims.lab impu=sip:pbx@ims.lab scheme=digest \
	password=trunk-secret > /dev/null
s=$(ims_scenario ims-ue-digest.xml pbx x x 600 trunk-secret)
ims_sipp "$s" 5094 digest
check "a PBX registers with SIP Digest MD5 (rc=$?)" test $? = 0
t() { grep -q 'algorithm=MD5' "$WORK/digest.msg" &&
	scscf scscf registration sip:pbx@ims.lab | grep -q '127.0.0.1:5094'; }
check "challenged with MD5, bound at the S-CSCF" t

# ---- unknown user ----
s=$(ims_scenario ims-ue-unknown.xml nobody $K3 $OP3)
ims_sipp "$s" 5096 unknown
check "an unknown user gets 403 from the I-CSCF (rc=$?)" test $? = 0
t() { [ "$(ims_stat icscf icscf.refused)" = 1 ]; }
check "after the HSS answered the UAR with 5001" t

# ---- AUTS re-synchronisation: a UE whose SQN is ahead ----
"$IMS_UE" -p 5095 -u bob -k $K15 -o $OP15 --sqn-ahead 100000 \
	> "$WORK/resync.out" 2>&1
check "a UE ahead in SQN re-synchronises (AUTS) and registers (rc=$?)" test $? = 0
t() { grep -q '^resync: 401 after AUTS' "$WORK/resync.out" &&
	grep -q '^registered: 200' "$WORK/resync.out"; }
check "the second challenge came after the AUTS, then 200" t
t() { [ "$(ims_stat scscf scscf.resyncs)" = 1 ] &&
	[ "$(ims_stat hss hss.resyncs)" = 1 ]; }
check "S-CSCF and HSS counted one re-synchronisation" t
t() { hss hss subscriber show bob@ims.lab | awk '$1 == "sqn:" { exit !($2 > 100000 * 32) }'; }
check "the HSS continues from the UE's SQN" t

# ---- the S-CSCF restarts: no registration lost ----
ims_stop_node scscf
check "the S-CSCF stops cleanly" test "$rc" = 0
if ims_start_node scscf && dia_wait 20 ims_cx_open; then
	pass "and starts again with the same store"; else
	fail "and starts again with the same store"; ims_logs; fi
t() { scscf scscf registration sip:alice@ims.lab | grep -q 'sip:alice@127.0.0.1:5099' &&
	scscf scscf registration sip:bob@ims.lab | grep -q '127.0.0.1:5095'; }
check "alice and bob are still registered after the restart" t
s=$(ims_scenario ims-ue-register.xml alice $K3 $OP3)
ims_sipp "$s" 5099 reg2
check "alice re-registers with the restarted S-CSCF (rc=$?)" test $? = 0

# ---- de-registration ----
s=$(ims_scenario ims-ue-deregister.xml alice $K3 $OP3)
ims_sipp "$s" 5099 dereg
check "alice de-registers: Expires 0, 401, answer, 200 (rc=$?)" test $? = 0
t() { ! scscf scscf registrations | grep -q 'sip:alice@ims.lab'; }
check "the S-CSCF dropped alice" t
t() { ! pcscf pcscf registrations | grep -q 'sip:alice@ims.lab'; }
check "the P-CSCF dropped alice" t
t() { ! hss hss subscriber show alice@ims.lab | grep -Eq '^state: +registered'; }
check "the HSS has alice no more registered" t

# ---- expiry ----
s=$(ims_scenario ims-ue-register.xml bob $K15 $OP15 2)
ims_sipp "$s" 5095 short
check "bob registers for 2 s (rc=$?)" test $? = 0
t() { ! scscf scscf registrations | grep -q 'sip:bob@ims.lab'; }
check "the registration expires at the S-CSCF" dia_wait 10 t
t() { ! hss hss subscriber show bob@ims.lab | grep -Eq '^state: +registered'; }
check "and the HSS heard of it (SAR TIMEOUT_DEREGISTRATION)" dia_wait 5 t
t() { ! pcscf pcscf registrations | grep -q 'sip:bob@ims.lab'; }
check "and the P-CSCF forgot bob" dia_wait 10 t

[ "$tap_failed" = 0 ] || { for f in "$WORK"/*.out "$WORK"/*.err; do diag "$f"; done; ims_logs; }
finish
