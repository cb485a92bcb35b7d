# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by contrib/bench/ims-register: Kamailio 5.6's IMS I-CSCF
# (ims_icscf) and S-CSCF (ims_auth, ims_registrar_scscf) on the ports and
# Diameter identities of tandem's, against the same HSS. The same shape
# as plugins/hss/test_hss_kamailio.sh, with KAM_CHILDREN UDP workers
# each (default 4) for a throughput run. Needs $WORK, $KAM_MODS,
# dia_wait, KAM_PIDS and kam_stop of the caller.

KAM_DBTEXT=/usr/share/kamailio/dbtext/kamailio
KAM_CHILDREN=${KAM_CHILDREN:-4}

kam_cdp() { # FQDN PORT
	cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
<DiameterPeer FQDN="$1" Realm="ims.lab" Vendor_Id="10415" Product_Name="CDiameterPeer"
	AcceptUnknownPeers="0" DropUnknownOnDisconnect="1" Tc="2" Workers="4"
	QueueLength="1024" TransactionTimeout="5" SessionsHashSize="1024"
	DefaultAuthSessionTimeout="60" MaxAuthSessionTimeout="60">
	<Peer FQDN="hss.ims.lab" Realm="ims.lab" port="3868"/>
	<Acceptor port="$2" bind="127.0.0.1"/>
	<Auth id="16777216" vendor="10415"/>
	<SupportedVendor vendor="10415"/>
	<DefaultRoute FQDN="hss.ims.lab" metric="10"/>
</DiameterPeer>
XML
}

kam_common() { # NAME PORT
	cat <<CFG
#!KAMAILIO
debug=1
log_stderror=yes
memdbg=5
memlog=5
children=$KAM_CHILDREN
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
modparam("cdp", "config_file", "$WORK/kam-$1.xml")
CFG
}

kam_icscf_cfg() {
	kam_common icscf 4060
	cat <<CFG
loadmodule "db_text.so"
loadmodule "ims_icscf.so"
modparam("ims_icscf", "cxdx_dest_realm", "ims.lab")
modparam("ims_icscf", "db_url", "text://$WORK/kam-icscf-db")
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
}

kam_scscf_cfg() {
	kam_common scscf 6060
	cat <<CFG
loadmodule "db_text.so"
loadmodule "presence.so"
modparam("presence", "db_url", "text://$WORK/kam-scscf-db")
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
modparam("ims_registrar_scscf", "default_expires", 3600)
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
	save("SAA", "location", "0", "0");
	exit;
}
route[MAA] {
	if ($avp(s:maa_return_code) != 1) send_reply("500", "MAR failed");
	exit;
}
route[RESYNC] {
	ims_www_challenge("MAA", "$td", "AKAv1-MD5");
}
route[SAA] {
	exit;
}
CFG
}

kam_run() { # NAME
	mkdir -p "$WORK/kam-run-$1"
	kamailio -f "$WORK/kam-$1.cfg" -DD -E -m 256 -M 32 -Y "$WORK/kam-run-$1" \
		-w "$WORK" -P "$WORK/kam-$1.pid" > "$WORK/kam-$1.log" 2>&1 &
	KAM_PIDS="$KAM_PIDS $!"
}

kam_start() {
	kam_cdp icscf.ims.lab 3869 > "$WORK/kam-icscf.xml"
	kam_cdp scscf.ims.lab 3870 > "$WORK/kam-scscf.xml"
	mkdir -p "$WORK/kam-icscf-db" "$WORK/kam-scscf-db"
	printf 'id(int,auto) name(string) s_cscf_uri(string)\n1:scscf1:sip\\:scscf.ims.lab\\:6060\n' \
		> "$WORK/kam-icscf-db/s_cscf"
	printf 'id(int,auto) id_s_cscf(int) capability(int)\n' \
		> "$WORK/kam-icscf-db/s_cscf_capabilities"
	printf 'id(int,auto) trusted_domain(string)\n' \
		> "$WORK/kam-icscf-db/nds_trusted_domains"
	for t in version presentity active_watchers watchers xcap; do
		cp "$KAM_DBTEXT/$t" "$WORK/kam-scscf-db/"
	done
	kam_icscf_cfg > "$WORK/kam-icscf.cfg"
	kam_scscf_cfg > "$WORK/kam-scscf.cfg"
	kam_run icscf
	kam_run scscf
}

# The proportional set size of every Kamailio process, summed (kB): its
# shared memory is counted once over the processes that map it.
kam_pss() {
	total=0
	for pid in $KAM_PIDS; do
		for p in $pid $(pgrep -P "$pid"); do
			v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
			total=$((total + ${v:-0}))
		done
	done
	echo "$total"
}
