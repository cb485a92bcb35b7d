#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Interop: Kamailio's IMS modules use the tandem HSS over Cx. An I-CSCF
# (ims_icscf) and an S-CSCF (ims_auth, ims_registrar_scscf) run on
# loopback; a sipp UE registers through them with Digest-AKAv1-MD5 (UAR,
# MAR, 401, UAR, SAR, 200) as a subscriber provisioned with tandemctl.
# Skipped when kamailio, kamailio-ims-modules or sipp are missing.
. "$DIA_SRCDIR/dia_lib.sh"
KAM_MODS=/usr/lib/x86_64-linux-gnu/kamailio/modules
KAM_DBTEXT=/usr/share/kamailio/dbtext/kamailio
for need in kamailio sipp; do
	command -v $need > /dev/null || { echo "1..0 # SKIP $need not installed"; exit 0; }
done
[ -f "$KAM_MODS/ims_icscf.so" ] || { echo "1..0 # SKIP kamailio-ims-modules not installed"; exit 0; }
[ -f "$KAM_MODS/presence.so" ] || { echo "1..0 # SKIP kamailio-presence-modules not installed"; exit 0; }

# Own network and mount namespaces: loopback only, and an /etc/hosts that
# names the nodes (cdp and Kamailio resolve them).
if [ -z "$KAM_IN_NS" ]; then
	if unshare -rnm true 2>/dev/null; then
		KAM_IN_NS=1 DIA_IN_NETNS=1 exec unshare -rnm sh "$0" "$@"
	fi
	echo "1..0 # SKIP cannot make network and mount namespaces"
	exit 0
fi
ip link set lo up
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$HSS_SRCDIR/hss_lib.sh"
{ echo "127.0.0.1 hss.ims.lab icscf.ims.lab scscf.ims.lab"; cat /etc/hosts; } > "$WORK/hosts"
mount --bind "$WORK/hosts" /etc/hosts
plan 9

# TS 35.208 test set 3 (sipp cannot read a K with the byte 0x5b).
K3=fec86ba6eb707ed08905757b1bb44b8f
OP3=dbc59adcb6f9a0ef735477b7fadf8374

dia_certs hss.ims.lab
cat > "$WORK/hss.conf" <<CONF
[node]
name = hss
control_socket = $HSS_SOCK
log_level = info
[plugins]
load = diameter hss
CONF
dia_section hss.ims.lab 3868 "" "icscf.ims.lab scscf.ims.lab" >> "$WORK/hss.conf"
cat >> "$WORK/hss.conf" <<CONF
[hss]
db_path = $WORK/hss.db
scscf_names = sip:scscf.ims.lab:6060
CONF
if start_node "$WORK/hss.conf" "$WORK/hss.log"; then pass "the hss node starts"; else
	fail "the hss node starts"; diag "$WORK/hss.log"; finish; fi
check "a subscriber is provisioned with tandemctl" \
	ctl hss subscriber add alice@ims.lab impu=sip:alice@ims.lab k=$K3 op=$OP3 amf=8000

# ---- cdp (Kamailio's Diameter peer) configurations ----
cdp_xml() { # FQDN PORT
	cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
<DiameterPeer FQDN="$1" Realm="ims.lab" Vendor_Id="10415" Product_Name="CDiameterPeer"
	AcceptUnknownPeers="0" DropUnknownOnDisconnect="1" Tc="2" Workers="2"
	QueueLength="32" TransactionTimeout="5" SessionsHashSize="128"
	DefaultAuthSessionTimeout="60" MaxAuthSessionTimeout="60">
	<Peer FQDN="hss.ims.lab" Realm="ims.lab" port="3868"/>
	<Acceptor port="$2" bind="127.0.0.1"/>
	<Auth id="16777216" vendor="10415"/>
	<SupportedVendor vendor="10415"/>
	<DefaultRoute FQDN="hss.ims.lab" metric="10"/>
</DiameterPeer>
XML
}
cdp_xml icscf.ims.lab 3869 > "$WORK/icscf.xml"
cdp_xml scscf.ims.lab 3870 > "$WORK/scscf.xml"

# ---- I-CSCF: S-CSCF list in db_text ----
mkdir -p "$WORK/icscf-db"
printf 'id(int,auto) name(string) s_cscf_uri(string)\n1:scscf1:sip\\:scscf.ims.lab\\:6060\n' > "$WORK/icscf-db/s_cscf"
printf 'id(int,auto) id_s_cscf(int) capability(int)\n' > "$WORK/icscf-db/s_cscf_capabilities"
printf 'id(int,auto) trusted_domain(string)\n' > "$WORK/icscf-db/nds_trusted_domains"

kam_common() { # NAME PORT
	cat <<CFG
#!KAMAILIO
debug=${KAM_DEBUG:-2}
log_stderror=yes
memdbg=5
memlog=5
children=1
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=off
dns_try_ipv6=no
disable_tcp=yes
listen=udp:127.0.0.1:$2
alias=$1.ims.lab:$2
mpath="$KAM_MODS/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "textops.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "kex.so"
loadmodule "tmx.so"
loadmodule "corex.so"
loadmodule "xlog.so"
loadmodule "cdp.so"
loadmodule "cdp_avp.so"
modparam("cdp", "config_file", "$WORK/$1.xml")
CFG
}

{ kam_common icscf 4060; cat <<'CFG'
loadmodule "db_text.so"
loadmodule "ims_icscf.so"
CFG
cat <<CFG
modparam("ims_icscf", "cxdx_dest_realm", "ims.lab")
modparam("ims_icscf", "db_url", "text://$WORK/icscf-db")
CFG
cat <<'CFG'
request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (!is_method("REGISTER")) { sl_send_reply("405", "Only REGISTER here"); exit; }
	if (t_lookup_request()) exit;
	t_newtran();
	if (!I_perform_user_authorization_request("UAA", "0")) t_reply("500", "UAR not sent");
	exit;
}
route[UAA] {
	xlog("L_NOTICE", "icscf: UAA result $avp(s:uaa_return_code)\n");
	if ($avp(s:uaa_return_code) == 1 && I_scscf_select("0")) {
		t_on_reply("REPLY");
		if (!t_relay()) t_reply("500", "cannot relay to the S-CSCF");
	} else {
		I_scscf_drop();
		t_reply("403", "UAR refused");
	}
	exit;
}
onreply_route[REPLY] {
	if (!t_check_status("401")) I_scscf_drop();
}
CFG
} > "$WORK/icscf.cfg"

# ims_usrloc_scscf binds presence, which wants its tables: Debian's
# db_text templates.
mkdir -p "$WORK/scscf-db"
for t in version presentity active_watchers watchers xcap; do
	cp "$KAM_DBTEXT/$t" "$WORK/scscf-db/"
done
{ kam_common scscf 6060; cat <<CFG
loadmodule "db_text.so"
loadmodule "presence.so"
modparam("presence", "db_url", "text://$WORK/scscf-db")
CFG
cat <<'CFG'
loadmodule "ims_dialog.so"
modparam("ims_dialog", "dlg_flag", 2)
loadmodule "ims_usrloc_scscf.so"
loadmodule "ims_registrar_scscf.so"
loadmodule "ims_auth.so"
modparam("ims_usrloc_scscf", "matching_mode", 0)
modparam("ims_auth", "name", "sip:scscf.ims.lab:6060")
modparam("ims_auth", "registration_default_algorithm", "AKAv1-MD5")
modparam("ims_auth", "cxdx_dest_realm", "ims.lab")
modparam("ims_auth", "av_request_at_once", 1)
modparam("ims_auth", "av_request_at_sync", 1)
modparam("ims_auth", "registration_qop", "auth")
modparam("ims_registrar_scscf", "scscf_name", "sip:scscf.ims.lab:6060")
modparam("ims_registrar_scscf", "cxdx_dest_realm", "ims.lab")
modparam("ims_registrar_scscf", "default_expires", 600)
request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (!is_method("REGISTER")) { sl_send_reply("405", "Only REGISTER here"); exit; }
	if (t_precheck_trans()) { t_check_trans(); exit; }
	t_check_trans();
	if (!ims_www_authenticate("$td")) {
		if ($? == -2) { send_reply("403", "Authentication Failed"); exit; }
		if ($? == -9) { ims_www_resync_auth("RESYNC", "$td"); exit; }
		ims_www_challenge("MAA", "$td", "AKAv1-MD5");
		exit;
	}
	xlog("L_NOTICE", "scscf: $fu authenticated\n");
	# Kamailio 5.6.3 reads the optional mode and flags: give both.
	save("SAA", "location", "0", "0");
	exit;
}
route[MAA] {
	xlog("L_NOTICE", "scscf: MAA result $avp(s:maa_return_code)\n");
	if ($avp(s:maa_return_code) != 1) send_reply("500", "MAR failed");
	exit;
}
route[RESYNC] {
	ims_www_challenge("MAA", "$td", "AKAv1-MD5");
}
route[SAA] {
	xlog("L_NOTICE", "scscf: SAA result $avp(s:saa_return_code)\n");
	exit;
}
CFG
} > "$WORK/scscf.cfg"

KAM_PIDS=""
kam() { # NAME
	kamailio -f "$WORK/$1.cfg" -DD -E -m 64 -M 8 -Y "$WORK/run-$1" -w "$WORK" \
		-P "$WORK/$1.pid" > "$WORK/$1.log" 2>&1 &
	KAM_PIDS="$KAM_PIDS $!"
}
# Kamailio forks workers: TERM lets its main process stop them; whatever is
# left (bounded wait) is killed by parent id.
kam_stop() {
	for pid in $KAM_PIDS; do kill -TERM "$pid" 2>/dev/null; done
	for pid in $KAM_PIDS; do
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		pkill -KILL -P "$pid" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
	done
	KAM_PIDS=""
}
trap 'kam_stop; cleanup' EXIT
mkdir -p "$WORK/run-icscf" "$WORK/run-scscf"
kam icscf
kam scscf
cx_open() { # the two CSCFs are peers of the HSS
	[ "$(ctl --json diameter show peers | grep -o '"state":"OPEN' | wc -l)" = 2 ]
}
if dia_wait 20 cx_open; then pass "I-CSCF and S-CSCF connect to the HSS over Cx"; else
	fail "I-CSCF and S-CSCF connect to the HSS over Cx"
	ctl diameter show peers | diag /dev/stdin; diag "$WORK/icscf.log" "$WORK/scscf.log"; finish; fi

# ---- the UE ----
cat > "$WORK/ue.xml" <<XML
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="IMS AKA registration">
  <send retrans="500">
    <![CDATA[
REGISTER sip:ims.lab SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
Max-Forwards: 70
From: <sip:alice@ims.lab>;tag=[call_number]
To: <sip:alice@ims.lab>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:alice@[local_ip]:[local_port]>
Authorization: Digest username="alice@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response=""
P-Visited-Network-ID: ims.lab
Expires: 600
Content-Length: 0

]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="401" auth="true"/>
  <send retrans="500">
    <![CDATA[
REGISTER sip:ims.lab SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
Max-Forwards: 70
From: <sip:alice@ims.lab>;tag=[call_number]
To: <sip:alice@ims.lab>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:alice@[local_ip]:[local_port]>
[authentication username=alice@ims.lab aka_K=0x$K3 aka_OP=0x$OP3 aka_AMF=0x8000]
P-Visited-Network-ID: ims.lab
Expires: 600
Content-Length: 0

]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="200"/>
</scenario>
XML
sipp -sf "$WORK/ue.xml" -i 127.0.0.1 -p 5099 -m 1 -timeout 30s -timeout_error \
	-trace_msg -message_file "$WORK/ue.msg" -trace_err -error_file "$WORK/ue.err" \
	127.0.0.1:4060 > "$WORK/ue.out" 2>&1 < /dev/null
rc=$?
check "the sipp UE registers with Digest-AKAv1-MD5 (rc=$rc)" test "$rc" = 0
t() { grep -q "SIP/2.0 401" "$WORK/ue.msg" && grep -q 'algorithm=AKAv1-MD5' "$WORK/ue.msg"; }
check "the S-CSCF challenged it with an AKA vector of the HSS (401)" t
t() { ctl hss subscriber show alice@ims.lab | grep -Eq '^state: +registered'; }
check "the HSS has alice registered at the S-CSCF" t
t() { ctl hss subscriber show alice@ims.lab | grep -Eq '^sqn: +32$'; }
check "and its SQN is that of the one vector given (32)" t
t() { ctl show stats | grep -Eq '^hss.uar +2 ' && ctl show stats | grep -Eq '^hss.mar +1 ' &&
	ctl show stats | grep -Eq '^hss.sar +1 '; }
check "the HSS saw the flow: UAR, MAR, UAR, SAR" t
# Administrative de-registration: the Kamailio S-CSCF gets our RTR.
ctl hss deregister alice@ims.lab > /dev/null
check "the S-CSCF answers the HSS's RTR with 2001" \
	dia_wait 10 grep -q "RTR answered 2001" "$WORK/hss.log"
[ "$tap_failed" = 0 ] || { diag "$WORK/ue.out" "$WORK/ue.err" "$WORK/ue.msg" "$WORK/icscf.log" "$WORK/scscf.log"; ctl show stats | diag /dev/stdin; }
finish
