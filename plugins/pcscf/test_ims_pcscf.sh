#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The P-CSCF's own duties, with the rest of the core: the identity it
# asserts (a preferred identity of the UE's set taken, a forged asserted
# one removed), emergency calls of a UE that is not registered routed to
# the emergency route, and security agreement: a UE that requires
# sec-agree with IPsec only gets 494 where the kernel has no xfrm, one
# with TLS gets it offered in Security-Server.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$SCSCF_SRCDIR/ims_lib.sh"
command -v sipp > /dev/null || { echo "1..0 # SKIP sipp not installed"; exit 0; }
plan 16

PCSCF_EXTRA="emergency_route = sip:ecscf.ims.lab:7075
sec_mechanisms = ipsec-3gpp tls
keepalive_s = 1"
# a TLS listener too, for UEs that agree on tls
dia_certs pcscf.ims.lab
PCSCF_LISTEN_MORE="tls:127.0.0.1:5061"
PCSCF_SIP_EXTRA="tls_cert = $WORK/certs/pcscf.ims.lab.pem
tls_key = $WORK/certs/pcscf.ims.lab.key
tls_ca = $WORK/certs/ca.pem"
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
t() { [ "$(pcscf show stats | awk 'tolower($1) == "sip.tx_options" { print $2 }')" -ge 2 ]; }
check "the P-CSCF keeps their flows open (OPTIONS every second)" dia_wait 5 t

# bg NAME SCENARIO PORT ARGS...: a sipp UAS in the background
bg() {
	name=$1 scen=$2 port=$3
	shift 3
	sipp -sf "$SIPP_DIR/$scen" -i 127.0.0.1 -p "$port" -m 1 -timeout 30s \
		-timeout_error -trace_msg -message_file "$WORK/$name.msg" \
		-trace_err -error_file "$WORK/$name.err" "$@" \
		> "$WORK/$name.out" 2>&1 < /dev/null &
	BG=$!
}

# ---- asserted identity ----
bg ppi-bob ims-uas-call.xml 5098 -key me bob
sleep 0.2
ims_sipp "$SIPP_DIR/ims-uac-ppi.xml" 5099 ppi -key me alice \
	-key target sip:bob@ims.lab -key ppi tel:+15550001
check "alice calls bob preferring her tel: identity (rc=$?)" test $? = 0
wait_exit $BG 30
t() { grep -q '^P-Asserted-Identity: <tel:+15550001>' "$WORK/ppi-bob.msg"; }
check "bob sees the preferred identity asserted" t
t() { ! grep -q 'mallory' "$WORK/ppi-bob.msg" &&
	! grep -q '^P-Preferred-Identity' "$WORK/ppi-bob.msg"; }
check "and neither the forged assertion nor the preference" t

# ---- emergency from a UE that is not registered ----
bg ecscf ims-uas-call.xml 7075 -key me ecscf
sleep 0.2
# (urn:service:sos in the Request-URI meets 416 in the sip plugin's
# scan, before the P-CSCF: sip:sos@ is what reaches it)
ims_sipp "$SIPP_DIR/ims-uac-call.xml" 5090 sos -key me visitor -key target sip:sos@ims.lab
check "an unregistered UE calls sip:sos@ims.lab (rc=$?)" test $? = 0
wait_exit $BG 30
check "the emergency route takes it (rc=$rc)" test "$rc" = 0
t() { grep -q '^INVITE sip:sos@ims.lab SIP/2.0' "$WORK/ecscf.msg"; }
check "with the emergency Request-URI" t
t() { [ "$(ims_stat pcscf pcscf.emergency)" = 1 ]; }
check "and the P-CSCF counted it" t

# ---- security agreement ----
# ipsec-3gpp is never offered (docs/ims.md, "Security agreement"); the
# log says whether the kernel or the missing SA set-up stops it
t() { grep -q 'ipsec-3gpp unavailable' "$WORK/pcscf.log"; }
check "the P-CSCF says why ipsec-3gpp is unavailable" t
expect=494
sed "s/@EXPECT@/$expect/" "$(ims_scenario ims-ue-secagree.xml alice $K3 $OP3)" > "$WORK/sa-ipsec.xml"
ims_sipp "$WORK/sa-ipsec.xml" 5093 sa-ipsec -key mech ipsec-3gpp
check "a UE requiring sec-agree with ipsec-3gpp gets $expect (rc=$?)" test $? = 0
sed "s/@EXPECT@/401/" "$(ims_scenario ims-ue-secagree.xml alice $K3 $OP3)" > "$WORK/sa-tls.xml"
ims_sipp "$WORK/sa-tls.xml" 5092 sa-tls -key mech tls
check "one offering tls is challenged (rc=$?)" test $? = 0
t() { grep -q '^Security-Server: tls;q=0.5' "$WORK/sa-tls.msg"; }
check "with tls in Security-Server" t

# ---- tls agreed, the REGISTER over TLS (sipp has no TLS: openssl) ----
if command -v openssl > /dev/null; then
	{
		printf 'REGISTER sip:ims.lab SIP/2.0\r\n'
		printf 'Via: SIP/2.0/TLS 127.0.0.1:5095;branch=z9hG4bK-tls-1;rport\r\n'
		printf 'Max-Forwards: 70\r\nFrom: <sip:bob@ims.lab>;tag=tls1\r\n'
		printf 'To: <sip:bob@ims.lab>\r\nCall-ID: tls-reg-1\r\n'
		printf 'CSeq: 1 REGISTER\r\n'
		printf 'Contact: <sip:bob@127.0.0.1:5095;transport=tls>\r\n'
		printf 'Authorization: Digest username="bob@ims.lab", realm="ims.lab", '
		printf 'nonce="", uri="sip:ims.lab", response=""\r\n'
		printf 'Supported: path, sec-agree\r\nRequire: sec-agree\r\n'
		printf 'Proxy-Require: sec-agree\r\nSecurity-Client: tls\r\n'
		printf 'Expires: 600\r\nContent-Length: 0\r\n\r\n'
	} > "$WORK/tls-register.txt"
	timeout 15 openssl s_client -quiet -connect 127.0.0.1:5061 \
		-CAfile "$WORK/certs/ca.pem" < "$WORK/tls-register.txt" \
		> "$WORK/tls.out" 2> "$WORK/tls.err" &
	TLS=$!
	check "a UE agreeing on tls registers over TLS and is challenged" \
		wait_for "$WORK/tls.out" '^SIP/2.0 401'
	kill "$TLS" 2> /dev/null
	t() { grep -q '^Security-Server: tls;q=0.5' "$WORK/tls.out" &&
		grep -q '^WWW-Authenticate: Digest' "$WORK/tls.out" &&
		! grep -Eq 'ck=|ik=' "$WORK/tls.out"; }
	check "over the same connection: tls in Security-Server, no CK/IK" t
else
	pass "# SKIP openssl missing"
	pass "# SKIP openssl missing"
fi

[ "$tap_failed" = 0 ] || { for f in "$WORK"/*.out "$WORK"/*.err; do diag "$f"; done; ims_logs; }
finish
