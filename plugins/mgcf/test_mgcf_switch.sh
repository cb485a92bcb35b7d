#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every switch type through the whole gateway: one node with eight spans,
# each its own trunk and Q.931 variant (EuroISDN E1 and T1, NI-2, NI-1,
# DMS-100, 4ESS, 5ESS, QSIG), E1s in A-law and T1s in u-law, against
# pbxsim (libpri, user side) speaking the same variant on each. On every
# span a call from IMS is set up and cleared, and a call from the PBX
# too; one T1 call carries a tone each way (A-law on SIP <-> u-law on
# the T1). plugins/pri/test_pri_calls checks the same variants at the
# pri service, both sides; this checks them end to end with SIP.
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"
gw_netns "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"

need_sipp
SWITCHES="euroisdn_e1:e1 euroisdn_t1:t1 ni2:t1 ni1:t1 dms100:t1 4ess:t1 5ess:t1 qsig:e1"
plan 22

# span N: trunk sN, numbers +4420794N2xxx, route to it by prefix
gw_conf "$WORK/gw.conf" bgcf
sed -i -e '/^trunk = pbx$/d' -e '/^\[trunk pbx\]$/,$d' "$WORK/gw.conf"
printf '[bgcf]\nroutes = %s\ncheck_ms = 0\n' "$WORK/routes.conf" >> "$WORK/gw.conf"
: > "$WORK/routes.conf"
printf '[pbx]\nswitchtype = euroisdn_e1\nside = user\n' > "$WORK/pbx.conf"
n=0
for st in $SWITCHES; do
	n=$((n + 1))
	cat >> "$WORK/gw.conf" <<CONF
[trunk s$n]
spans = $n
country_code = 44
ddi_prefix = +4420794$n
ddi_digits = 4
called_format = ddi
calling_format = national
called_digits = 11
[span $n]
type = ${st#*:}
timing = $n
cable = $WORK/e1-$n.sock
cable_listen = yes
[pri $n]
switchtype = ${st%:*}
side = network
dchan = tdm
CONF
	printf '[route s%d]\nprefix = +4420794%d\ntarget = trunk:s%d\n' \
		$n $n $n >> "$WORK/routes.conf"
	printf '[span %d]\ncable = %s/e1-%d.sock\ntype = %s\nswitchtype = %s\n' \
		$n "$WORK" $n "${st#*:}" "${st%:*}" >> "$WORK/pbx.conf"
done
cat >> "$WORK/pbx.conf" <<CONF
[ext 2000]
action = answer
[ext 2001]
action = tone
tone_hz = 1300
CONF

if gw_up "$WORK/gw.conf"; then
	pass "a gateway with eight spans of eight switch types starts"
else
	fail "a gateway with eight spans of eight switch types starts"
	diag "$WORK/gw.log"; finish
fi
if pbx_up "$WORK/pbx.conf"; then
	pass "pbxsim brings the eight D-channels up"
else
	fail "pbxsim brings the eight D-channels up"
	diag "$WORK/pbx.out" "$WORK/gw.log"; finish
fi

MARK=0
mark() { MARK=$(wc -l < "$WORK/pbx.out"); }
since() { tail -n +$((MARK + 1)) "$WORK/pbx.out"; }
wait_since() {
	for _ in $(seq 1 "${2:-100}"); do
		since | grep -q "$1" && return 0
		sleep 0.1
	done
	return 1
}

n=0
for st in $SWITCHES; do
	n=$((n + 1))
	sw=${st%:*}
	# IMS -> PBX on span n
	mark
	uac_run uac_call.xml "$WORK/uac$n.out" "+4420794${n}2000" \
		-key rtp_port 40000 -key codec PCMA -key pt 8 -d 300
	t() {
		test "$uac_rc" = 0 -a "${uac_ok:-0}" = 1 &&
			since | grep -q "^ring 2000 [0-9]* [0-9]* $n " &&
			wait_since "^released 16 [0-9]* $n\$" 30
	}
	check "$sw (span $n, ${st#*:}): a call from IMS is answered on the span and cleared" t
	# PBX -> IMS from span n
	uas_start uas_answer.xml "$WORK/uas$n.out" -key rtp_port 40010 \
		-key codec PCMA -key pt 8
	mark
	pbx_cmd dial 02079460099 2000 span=$n
	wait_since "^answered [0-9]* $n\$" 50
	pbx_cmd hangup
	wait_exit "$UAS_PID" 10
	t() {
		test "$rc" = 0 && since | grep -q "^answered [0-9]* $n\$" &&
			grep -q "from the circuit: +4420794${n}2000 -> sip:+442079460099@" "$WORK/gw.log"
	}
	check "$sw (span $n): a call from the PBX reaches IMS, is answered and cleared" t
done

# A-law on SIP <-> u-law on a T1 (NI-2, span 3), a tone each way.
mark
rtp_start 40020 "$WORK/rtp-t1.out" -c PCMA -t 1000 -m 3000
uac_run uac_call.xml "$WORK/uac-t1.out" +442079432001 \
	-key rtp_port 40020 -key codec PCMA -key pt 8 -d 3500
wait "$RTP_PID"
heard=$(key tone_hz "$WORK/rtp-t1.out")
check "T1 (NI-2): the PBX's 1300 Hz in u-law is heard in PCMA ($heard Hz)" \
	near "$heard" 1300
t() {
	hz=$(since | grep '^tone [0-9]* [0-9]* [-0-9]* 3$' | head -n 1 |
		cut -d' ' -f3)
	near "$hz" 1000
}
check "and the SIP side's 1000 Hz (PCMA) is heard in u-law on the T1" t
check "the call record names the T1 circuit (span 3)" \
	sh -c "'$TANDEMCTL' -s '$GW_SOCK' mgw show records 1 | grep -q 'circuit: *3/'"

gw_idle
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 15
check "the gateway stops cleanly (rc=$rc)" test "$rc" = 0
if [ "$tap_failed" -gt 0 ]; then
	diag "$WORK/pbx.out"
	for f in "$WORK"/*.out.err; do [ -s "$f" ] && tail -n 20 "$f" | diag; done
	tail -n 100 "$WORK/gw.log" | diag
fi
finish
