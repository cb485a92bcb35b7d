#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Provisioning the hss through tandemctl: subscribers, identities, service
# profiles with iFC validated on input, bulk import and export in CSV and
# JSON, the RTR sent when a registered subscriber is deleted.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$HSS_SRCDIR/hss_lib.sh"
plan 26

if hss_start; then pass "an hss node starts"; else
	fail "an hss node starts"; diag "$WORK/hss.log"; finish; fi
refused() { ! ctl "$@" > /dev/null 2> "$WORK/err"; }

check "add a subscriber" ctl hss subscriber add carol@ims.lab \
	impu=sip:carol@ims.lab k=$K op=cdc202d5123e20f62b6d676ac72cb318 \
	amf=b9b9 imsi=001010000000003
check "a bad K is refused" refused hss subscriber add d@ims.lab \
	impu=sip:d@ims.lab k=123 opc=$OPC
check "with a reason" grep -q "k must be 32 hex digits" "$WORK/err"
check "AKA without OP/OPc is refused" refused hss subscriber add d@ims.lab \
	impu=sip:d@ims.lab k=$K
check "an IMPU that is not a URI is refused" refused hss subscriber add \
	d@ims.lab impu=carol k=$K opc=$OPC
check "an IMPU already provisioned is refused" refused hss subscriber add \
	d@ims.lab impu=sip:carol@ims.lab k=$K opc=$OPC
check "an unknown key is refused" refused hss subscriber add d@ims.lab \
	impu=sip:d@ims.lab k=$K opc=$OPC colour=blue
ctl hss subscriber show carol@ims.lab > "$WORK/show"
t() { grep -Eq '^amf: +b9b9' "$WORK/show" && grep -Eq '^imsi: +001010000000003' "$WORK/show" &&
	grep -Eq '^k: +\(set\)' "$WORK/show" && ! grep -q "$K" "$WORK/show"; }
check "show gives the subscriber and hides its keys" t
check "show by IMPU" sh -c "'$TANDEMCTL' -s '$HSS_SOCK' hss subscriber show sip:carol@ims.lab | grep -q 'carol@ims.lab'"
check "set changes SQN and the password" \
	ctl hss subscriber set carol@ims.lab sqn=4096 password=pw
t() { ctl hss subscriber show carol@ims.lab | grep -Eq '^sqn: +4096$'; }
check "and show has the new SQN" t
check "impu add: a tel URI in another implicit set" \
	ctl hss impu add carol@ims.lab tel:+15550003 irs=2 barred=yes
t() { ctl --json hss subscriber show carol@ims.lab | grep -q '"impu":"tel:+15550003","state":"not-registered","type":"user","barred":"yes","irs":2'; }
check "and show lists it barred in set 2" t

printf '<InitialFilterCriteria><Priority>1</Priority><ApplicationServer><ServerName>as.ims.lab</ServerName></ApplicationServer></InitialFilterCriteria>' > "$WORK/bad1.xml"
printf '<InitialFilterCriteria><Priority>1</Priority><TriggerPoint><ConditionTypeCNF>1</ConditionTypeCNF><SPT><Group>0</Group><Method>INVITE</Method><SessionCase>0</SessionCase></SPT></TriggerPoint><ApplicationServer><ServerName>sip:as.ims.lab</ServerName></ApplicationServer></InitialFilterCriteria>' > "$WORK/bad2.xml"
printf '<InitialFilterCriteria><Priority>1</Priority>' > "$WORK/bad3.xml"
cat > "$WORK/good.xml" <<'XML'
<InitialFilterCriteria>
 <Priority>10</Priority>
 <TriggerPoint><ConditionTypeCNF>0</ConditionTypeCNF>
  <SPT><ConditionNegated>0</ConditionNegated><Group>0</Group><Method>INVITE</Method></SPT>
  <SPT><Group>0</Group><SessionCase>1</SessionCase></SPT>
  <SPT><Group>1</Group><SIPHeader><Header>Accept-Contact</Header><Content>video</Content></SIPHeader></SPT>
  <SPT><Group>1</Group><SessionDescription><Line>m</Line><Content>audio</Content></SessionDescription></SPT>
  <SPT><Group>2</Group><RequestURI>sip:conf@ims.lab</RequestURI></SPT>
 </TriggerPoint>
 <ApplicationServer><ServerName>sip:mmtel.ims.lab:5070</ServerName><DefaultHandling>1</DefaultHandling></ApplicationServer>
</InitialFilterCriteria>
XML
check "iFC whose ServerName is not a SIP URI is refused" refused hss profile set p1 "$WORK/bad1.xml"
check "iFC with two conditions in one SPT is refused" refused hss profile set p1 "$WORK/bad2.xml"
check "iFC that is not well-formed XML is refused" refused hss profile set p1 "$WORK/bad3.xml"
check "a valid iFC (DNF, every SPT kind) is stored" ctl hss profile set mmtel "$WORK/good.xml"
check "set profile=mmtel" ctl hss subscriber set carol@ims.lab profile=mmtel

# Bulk: import CSV and JSON, export both, import the export elsewhere.
cat > "$WORK/subs.csv" <<CSV
impi,impu,k,op,opc,amf,sqn,password,scheme,imsi,profile,roaming
u1@ims.lab,sip:u1@ims.lab;tel:+15550101,$K,,$OPC,8000,0,,aka,,mmtel,no
u2@ims.lab,sip:u2@ims.lab,,,,,,secret,digest,,,yes
CSV
cat > "$WORK/subs.json" <<JSON
[ {"impi": "u3@ims.lab", "impu": ["sip:u3@ims.lab", "tel:+15550103"], "k": "$K",
   "opc": "$OPC", "sqn": 64, "roaming": true},
  {"impi": "u4@ims.lab", "impu": ["sip:u4@ims.lab"], "scheme": "digest", "password": "pw4"} ]
JSON
check "import CSV" sh -c "'$TANDEMCTL' -s '$HSS_SOCK' hss import '$WORK/subs.csv' | grep -Eq '^imported: +2'"
check "import JSON" sh -c "'$TANDEMCTL' -s '$HSS_SOCK' hss import '$WORK/subs.json' | grep -Eq '^imported: +2'"
ctl hss export "$WORK/out.csv" > /dev/null
ctl hss export "$WORK/out.json" > /dev/null
t() { [ "$(grep -c '@ims.lab' "$WORK/out.csv")" = 5 ] &&
	grep -q "^u3@ims.lab,sip:u3@ims.lab;tel:+15550103,$K,,$OPC,8000,64,,aka,,,yes,no/1/user/;no/1/user/$" "$WORK/out.csv"; }
check "export CSV has every subscriber with its values" t
check "and each identity's barring, implicit set, type and profile (impu_attrs)" \
	grep -q "^carol@ims.lab,.*,no/1/user/mmtel;yes/2/user/mmtel$" "$WORK/out.csv"
# A second node imports the JSON export: same subscribers.
sed "s|$WORK/hss.db|$WORK/hss2.db|; s|$HSS_SOCK|$WORK/hss2.sock|; s|^port = 3868|port = 3878|" \
	"$WORK/hss.conf" > "$WORK/hss2.conf"
start_node "$WORK/hss2.conf" "$WORK/hss2.log"
"$TANDEMCTL" -s "$WORK/hss2.sock" hss profile set mmtel "$WORK/good.xml" > /dev/null
"$TANDEMCTL" -s "$WORK/hss2.sock" hss import "$WORK/out.json" > /dev/null
"$TANDEMCTL" -s "$WORK/hss2.sock" hss export "$WORK/again.csv" > /dev/null
check "a JSON export imports into another node unchanged (impu_attrs too)" cmp "$WORK/out.csv" "$WORK/again.csv"

# A registered user of a profile that changes: its S-CSCF gets a PPR.
{ echo "send SAR User-Name=u1@ims.lab Public-Identity=sip:u1@ims.lab Server-Name=sip:scscf.ims.lab:6060 Server-Assignment-Type=1 User-Data-Already-Available=0"
  answered "$WORK/c0"; ctl hss profile set mmtel "$WORK/good.xml" > "$WORK/ppr" 2>&1
  echo "wait-requests 1"; } | cx > "$WORK/c0" 2>&1
t() { grep -q '^request PPR' "$WORK/c0" && grep -q '^  User-Name=u1@ims.lab' "$WORK/c0" &&
	grep -q '^  User-Data=.*<ServerName>sip:mmtel.ims.lab:5070</ServerName>' "$WORK/c0" &&
	grep -q '1 PPR sent' "$WORK/ppr"; }
check "a profile change sends a PPR with the new User-Data to the S-CSCF" t

# Delete a registered subscriber: its S-CSCF gets an RTR.
{ echo "send SAR User-Name=u1@ims.lab Public-Identity=sip:u1@ims.lab Server-Name=sip:scscf.ims.lab:6060 Server-Assignment-Type=1 User-Data-Already-Available=0"
  answered "$WORK/c1"; ctl hss subscriber delete u1@ims.lab > "$WORK/del" 2>&1
  echo "wait-requests 1"; } | cx > "$WORK/c1" 2>&1
t() { grep -q '^request RTR' "$WORK/c1" && grep -q '^  Deregistration-Reason.Reason-Code=0' "$WORK/c1" &&
	! ctl hss subscriber show u1@ims.lab > /dev/null 2>&1; }
check "deleting a registered subscriber sends an RTR and removes it" t
finish
