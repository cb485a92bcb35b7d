#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The lab's IMS core as a newcomer gets it: the four nodes of
# conf/lab/ims-*.conf (their /tmp/tandem-lab paths moved to this test's
# folder), the certificates, demo subscribers and the UEs' IP-CAN session
# exactly as contrib/lab.sh makes them; then a softphone registers with
# SIP Digest (phone@ims.lab / tandem-lab), the AKA UEs alice and bob
# register, and alice calls bob: the packet gateway gets a QCI 1 bearer
# for the call (P-CSCF -> Rx -> PCRF -> Gx), removed at hang-up.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
command -v sipp > /dev/null || { echo "1..0 # SKIP sipp not installed"; exit 0; }
plan 13

SIPP_DIR="$abs_top_srcdir/contrib/sipp"
LAB="$WORK/top/conf/lab"
mkdir -p "$LAB"
for f in "$abs_top_srcdir"/conf/lab/ims-*.conf; do
	sed "s#/tmp/tandem-lab#$WORK#g" "$f" > "$LAB/$(basename "$f")"
done
sh "$DIA_SRCDIR/diameter-certs.sh" "$WORK/certs" hss.ims.lab icscf.ims.lab \
	scscf.ims.lab pcscf.ims.lab pcrf.ims.lab pgw.ims.lab > /dev/null

t() {
	for f in "$LAB"/ims-*.conf; do
		"$TANDEMD" --check -c "$f" --plugin-path "$PLUGIN_PATH" \
			> /dev/null || return 1
	done
}
check "every lab IMS node's config passes --check" t
t() {
	for n in hss scscf icscf pcrf pgw pcscf; do
		start_node "$LAB/ims-$n.conf" "$WORK/$n.log" || return 1
	done
}
hss_open() {
	[ "$("$TANDEMCTL" -c "$LAB/ims-hss.conf" --json diameter show peers |
		grep -o '"state":"OPEN' | wc -l)" = 2 ]
}
if t && dia_wait 20 hss_open; then
	pass "HSS, S-, I- and P-CSCF of the lab start; Cx is up"
else
	fail "HSS, S-, I- and P-CSCF of the lab start; Cx is up"
	for n in hss scscf icscf pcrf pgw pcscf; do diag "$WORK/$n.log"; done
	finish
fi

# contrib/lab.sh's own provisioning, taken from it, not copied
eval "$(sed -n '/^ims_lab_subscribers() {/,/^}/p' "$abs_top_srcdir/contrib/lab.sh")"
top="$WORK/top" build="$abs_top_builddir" ims_lab_subscribers
t() {
	[ "$("$TANDEMCTL" -c "$LAB/ims-hss.conf" hss subscriber list |
		grep -Ec '^(alice|bob|phone)@ims.lab ')" = 3 ]
}
check "lab.sh provisioned alice, bob and phone" t
eval "$(sed -n '/^ims_lab_bearers() {/,/^}/p' "$abs_top_srcdir/contrib/lab.sh")"
top="$WORK/top" build="$abs_top_builddir" ims_lab_bearers
check "lab.sh opened the UEs' IP-CAN session at the gateway" \
	"$TANDEMCTL" -c "$LAB/ims-pgw.conf" pcef show rules 127.0.0.1

# sipp_to_pcscf SCENARIO PORT NAME [ARGS]: one sipp run, bounded
sipp_to_pcscf() {
	scen=$1 port=$2 name=$3
	shift 3
	sipp -sf "$scen" -i 127.0.0.1 -p "$port" -m 1 -timeout 30s \
		-timeout_error -trace_msg -message_file "$WORK/$name.msg" \
		"$@" 127.0.0.1:5060 > "$WORK/$name.out" 2>&1 < /dev/null
}
sipp_to_pcscf "$SCSCF_SRCDIR/sipp/softphone-register.xml" 5097 phone
check "a softphone registers as phone@ims.lab / tandem-lab, its instance kept (rc=$?)" test $? = 0

# the AKA UEs with the keys lab.sh gave them (TS 35.208 sets 3 and 15)
aka() { # USER K OP PORT
	sed -e "s/@USER@/$1/g; s/@DOMAIN@/ims.lab/g; s/@K@/$2/g; s/@OP@/$3/g" \
		-e "s/@AMF@/8000/g; s/@EXPIRES@/600/g" \
		"$SIPP_DIR/ims-ue-register.xml" > "$WORK/reg-$1.xml"
	sipp_to_pcscf "$WORK/reg-$1.xml" "$4" "reg-$1"
}
aka alice fec86ba6eb707ed08905757b1bb44b8f dbc59adcb6f9a0ef735477b7fadf8374 5099
check "alice registers with Digest-AKAv1-MD5 (rc=$?)" test $? = 0
aka bob af7c65e1927221de591187a2c5987a53 0c7acb8d95b7d4a31c5aca6d26345a88 5098
check "bob registers with Digest-AKAv1-MD5 (rc=$?)" test $? = 0
t() {
	[ "$("$TANDEMCTL" -c "$LAB/ims-pcscf.conf" pcscf registrations |
		grep -Ec '^sip:(alice|bob|phone)@ims.lab ')" = 3 ]
}
check "the P-CSCF has the three of them" t

sipp -sf "$SIPP_DIR/ims-uas-call.xml" -i 127.0.0.1 -p 5098 -m 1 -key me bob \
	-timeout 30s -timeout_error -trace_msg -message_file "$WORK/bob.msg" \
	> "$WORK/bob.out" 2>&1 < /dev/null &
uas=$!
sleep 0.2
sipp_to_pcscf "$SIPP_DIR/ims-uac-call.xml" 5099 call -key me alice \
	-key target sip:bob@ims.lab
check "alice calls bob through the lab core (rc=$?)" test $? = 0
wait_exit "$uas" 30
check "bob answers and sees the BYE (rc=$rc)" test "$rc" = 0
check "the gateway got a QCI 1 bearer for the call" \
	grep -q "installed: QCI 1" "$WORK/pgw.log"
t() { grep -q "removed" "$WORK/pgw.log"; }
check "and lost it at hang-up" dia_wait 5 t

t() {
	for pid in $NODE_PIDS; do kill -TERM "$pid"; done
	for pid in $NODE_PIDS; do
		wait_exit "$pid" 20
		[ "$rc" = 0 ] || return 1
	done
}
check "the six lab nodes stop cleanly" t

[ "$tap_failed" = 0 ] || { for f in "$WORK"/*.out "$WORK"/*.log; do diag "$f"; done; }
finish
