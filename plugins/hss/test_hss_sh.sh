#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The Sh server of the hss plugin, driven by diaclient as an application
# server: UDR (identities, user state, S-CSCF, iFC, repository data), PUR
# with sequence numbers, SNR and the PNR that follows a change.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$HSS_SRCDIR/hss_lib.sh"
plan 13

if hss_start; then pass "an hss node starts"; else
	fail "an hss node starts"; diag "$WORK/hss.log"; finish; fi
cat > "$WORK/ifc.xml" <<'XML'
<InitialFilterCriteria><Priority>0</Priority><TriggerPoint><ConditionTypeCNF>1</ConditionTypeCNF><SPT><ConditionNegated>0</ConditionNegated><Group>0</Group><Method>INVITE</Method></SPT></TriggerPoint><ApplicationServer><ServerName>sip:as.ims.lab:5070</ServerName><DefaultHandling>0</DefaultHandling></ApplicationServer></InitialFilterCriteria>
XML
ctl hss profile set voice "$WORK/ifc.xml" > /dev/null
ctl hss subscriber add alice@ims.lab impu=sip:alice@ims.lab,tel:+15551234 \
	k=$K opc=$OPC profile=voice > /dev/null
UID="User-Identity.Public-Identity=sip:alice@ims.lab"
D="Sh-Data"
as > "$WORK/s1" 2>&1 <<EOS
send UDR $UID Data-Reference=10 Data-Reference=11 Data-Reference=13
send UDR User-Identity.Public-Identity=sip:nobody@ims.lab Data-Reference=11
send UDR Data-Reference=11
send UDR $UID Data-Reference=0
send PUR $UID Data-Reference=0 Sh-User-Data=<$D><RepositoryData><ServiceIndication>mmtel</ServiceIndication><SequenceNumber>0</SequenceNumber><ServiceData><cfu>sip:voicemail@ims.lab</cfu></ServiceData></RepositoryData></$D>
send PUR $UID Data-Reference=0 Sh-User-Data=<$D><RepositoryData><ServiceIndication>mmtel</ServiceIndication><SequenceNumber>5</SequenceNumber><ServiceData><x/></ServiceData></RepositoryData></$D>
send UDR $UID Data-Reference=0 Service-Indication=mmtel
send PUR $UID Data-Reference=11 Sh-User-Data=<$D/>
send PUR $UID Data-Reference=0 Sh-User-Data=not-xml
send SNR $UID Data-Reference=11 Subs-Req-Type=0 Send-Data-Indication=1
EOS
t() { val "$WORK/s1" 1 User-Data-29.329 | grep -q '<IMSPublicIdentity>tel:+15551234</IMSPublicIdentity>.*<IMSUserState>0</IMSUserState>'; }
check "UDR: public identities and IMS user state" t
t() { val "$WORK/s1" 1 User-Data-29.329 | grep -q '<IFCs><InitialFilterCriteria><Priority>0</Priority>'; }
check "UDR: the initial filter criteria" t
check "UDR for an unknown user: 5001" test "$(result "$WORK/s1" 2)" = 5001
check "UDR without User-Identity: 5005" test "$(result "$WORK/s1" 3)" = 5005
check "UDR for repository data without Service-Indication: 5005" \
	test "$(result "$WORK/s1" 4)" = 5005
check "PUR of new repository data (sequence 0): 2001" \
	test "$(result "$WORK/s1" 5)" = 2001
check "PUR with a sequence out of sync: 5105" test "$(result "$WORK/s1" 6)" = 5105
t() { val "$WORK/s1" 7 User-Data-29.329 | grep -q '<ServiceIndication>mmtel</ServiceIndication><SequenceNumber>0</SequenceNumber><ServiceData><cfu>sip:voicemail@ims.lab</cfu></ServiceData>'; }
check "UDR returns the repository data" t
check "PUR of data that cannot be changed: 5103" test "$(result "$WORK/s1" 8)" = 5103
check "PUR with User-Data that is not Sh-Data XML: 5100" \
	test "$(result "$WORK/s1" 9)" = 5100
t() { [ "$(result "$WORK/s1" 10)" = 2001 ] && val "$WORK/s1" 10 User-Data-29.329 | grep -q '<IMSUserState>0</IMSUserState>'; }
check "SNR with Send-Data-Indication: 2001 and the data" t

# The AS subscribed to IMSUserState (above): a registration sends it a
# PNR once it is connected again.
as_open() {
	ctl diameter show peers | awk '/^peer: *as.ims.lab/ { f = 1 }
		f && /^state:/ { print; exit }' | grep -q OPEN
}
{ dia_wait 10 as_open
  echo "send SAR User-Name=alice@ims.lab Public-Identity=sip:alice@ims.lab Server-Name=sip:scscf.ims.lab:6060 Server-Assignment-Type=1 User-Data-Already-Available=0" |
	cx > "$WORK/c1" 2>&1
  echo "wait-requests 1"; } | as > "$WORK/s2" 2>&1
t() { grep -q '^request PNR' "$WORK/s2" && grep -q '<IMSUserState>1</IMSUserState>' "$WORK/s2"; }
check "a registration sends a PNR with the new IMS user state" t
finish
