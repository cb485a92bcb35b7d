#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The lab's demo (contrib/lab.sh demo): calls between the lab's IMS core
# (conf/lab/ims-*.conf) and the legacy PBX (conf/lab/pbx.ini) behind the
# lab gateway (conf/lab/gateway.conf), each printed as a call ladder with
# its media quality.
#   0. alice, the AKA UE lab.sh provisions (sipp), registers through the
#      P-CSCF (127.0.0.1:5060) from 127.0.0.1:5099.
#   1. IMS -> PBX: alice calls tel:+442079462001, the PBX's tone extension
#      (1300 Hz), as her tel:+15550001: P-CSCF -> S-CSCF -> its BGCF, the
#      SBC (conf/lab/sbc.conf) -> gateway -> E1. Her audio (test_mgw_rtp)
#      is PCMU playing 1000 Hz.
#   2. PBX -> IMS: extension 2001 dials 0015550001, alice's tel:+15550001:
#      E1 -> gateway -> SBC -> I-CSCF -> S-CSCF -> P-CSCF -> alice, who
#      answers with G.722 playing 1000 Hz; the PBX plays its 1300 Hz.
#   The SBC anchors both calls' RTP; what it logged is shown per call
#   (a lab without conf/lab/sbc.conf runs the same calls without it).
#   pbxsim-demo.sh TOP BUILD RUN
set -u
top=$1 build=$2 run=$3
ctl() { "$build/core/tandemctl" -s "$run/lab-gw.sock" "$@"; }
rtp="$build/plugins/mgw/test_mgw_rtp"
scen="$top/plugins/mgcf/sipp"
log="$run/lab-gw.log"
pcscf=127.0.0.1:5060
ue_port=5099

if ! ctl show plugins > /dev/null 2>&1; then
	echo "demo: the lab gateway does not run (contrib/lab.sh start)" >&2
	exit 1
fi
if ! "$build/core/tandemctl" -s "$run/ims-pcscf.sock" show plugins \
	> /dev/null 2>&1; then
	echo "demo: the lab's IMS core does not run (contrib/lab.sh start)" >&2
	exit 1
fi
if ! command -v sipp > /dev/null 2>&1 || [ ! -x "$rtp" ]; then
	echo "demo: needs sipp (sip-tester) and $rtp" >&2
	exit 1
fi
for _ in $(seq 1 50); do
	ctl pri show spans | grep -q 'dchan: *up' && break
	sleep 0.1
done

# ladder CALL: the gateway's log of one call as a ladder diagram.
ladder() {
	printf '\n  %8s  %-32s %-32s\n' "" "IMS core <-> gateway" \
		"gateway <-> PBX (E1)"
	grep -a " mgcf: call $1 ladder " "$log" | awk '
	function seg(t, right,    s) {
		s = (right ? "--- " : "<-- ") t " "
		while (length(s) < W - 1) s = s "-"
		return right ? s ">" : s "-"
	}
	function blank(    s) { s = ""; while (length(s) < W) s = s " "; return s }
	BEGIN { W = 32 }
	{
		split($2, hms, ":"); sec = hms[1] * 3600 + hms[2] * 60 + hms[3]
		if (!t0) t0 = sec
		arrow = $8; text = ""
		for (i = 9; i <= NF; i++) text = text (i > 9 ? " " : "") $i
		sub(/ \([^()]*\.c:[0-9]+\)$/, "", text)
		text = substr(text, 1, W - 7)
		if (arrow == "ims>") l = seg(text, 1)
		else if (arrow == "<ims") l = "<" substr(seg(text, 0), 2)
		else l = blank()
		if (arrow == "<pri") r = seg(text, 1)
		else if (arrow == "pri>") r = "<" substr(seg(text, 0), 2)
		else r = blank()
		printf "  %+8.3f |%s|%s|\n", sec - t0, l, r
	}'
}

last_call() { sed -n 's/.* mgcf: call \([0-9]*\) ladder .*/\1/p' "$log" | tail -n 1; }

quality() {
	echo
	echo "  media quality (mgw show records 1):"
	ctl mgw show records 1 | sed 's/^/    /'
}

# The core's nodes hide their topology (the UE sees only the P-CSCF), so
# the path of a call through them is shown by what each logged meanwhile.
core_nodes="pcscf icscf scscf pcrf pgw"
# mark_core: where each IMS node's log ends now.
mark_core() {
	core_mark=""
	for n in $core_nodes; do
		core_mark="$core_mark $n=$(wc -c < "$run/ims-$n.log" 2>/dev/null || echo 0)"
	done
}
# core_trail: what the IMS nodes logged since mark_core, in time order.
core_trail() {
	echo "  the IMS core's log meanwhile:"
	for m in $core_mark; do
		tail -c +$((${m#*=} + 1)) "$run/ims-${m%%=*}.log" 2>/dev/null
	done | grep -a -E '^[^ ]+ [^ ]+ [a-z]+ (pcscf|icscf|scscf|rxclient|pcrf|pcef): ' |
		sed 's/^[^ ]* \([^ ]*\) [a-z]* /\1 /; s/ ([^()]*\.c:[0-9]*)$//' |
		sort -s -k1,1 | cut -c1-120 | sed 's/^/    /'
}

# The SBC between the gateway and the IMS core, when the lab has one.
sbc_log="$run/lab-sbc.log"
sbc_ctl() { "$build/core/tandemctl" -s "$run/lab-sbc.sock" "$@"; }
sbc_runs() { sbc_ctl show plugins > /dev/null 2>&1; }
mark_sbc() { sbc_mark=$(wc -c < "$sbc_log" 2>/dev/null || echo 0); }
# sbc_trail: what the SBC logged about calls since mark_sbc
sbc_trail() {
	sbc_runs || return 0
	echo "  the SBC's log meanwhile:"
	tail -c +$((sbc_mark + 1)) "$sbc_log" 2>/dev/null |
		grep -a -E '^[^ ]+ [^ ]+ [a-z]+ sbc: call ' |
		sed 's/^[^ ]* \([^ ]*\) [a-z]* /\1 /; s/ ([^()]*\.c:[0-9]*)$//' |
		cut -c1-140 | sed 's/^/    /'
}

# wait_udp PORT: bounded wait (5 s) until something listens on UDP PORT
# (sipp or test_mgw_rtp started in the background), so that the first
# packet toward it is not lost.
wait_udp() {
	for _ in $(seq 1 50); do
		ss -Hlun "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
}

# alice's keys, as contrib/lab.sh provisions them (TS 35.208 set 3)
alice_key() {
	sed -n '/subscriber add alice@ims.lab/,/op=/p' "$top/contrib/lab.sh" |
		sed -n "s/.*[[:space:]]$1=\([0-9a-f]*\).*/\1/p"
}

failed=""
ctl log level mgcf debug > /dev/null
echo "== alice registers through the P-CSCF ($pcscf) with Digest-AKAv1-MD5"
sed -e "s/@USER@/alice/g; s/@DOMAIN@/ims.lab/g; s/@AMF@/8000/g" \
	-e "s/@K@/$(alice_key k)/g; s/@OP@/$(alice_key op)/g" \
	-e "s/@EXPIRES@/600/g" \
	"$top/contrib/sipp/ims-ue-register.xml" > "$run/demo-reg-alice.xml"
mark_core
if sipp -sf "$run/demo-reg-alice.xml" -i 127.0.0.1 -p $ue_port -m 1 \
	-nostdin -timeout 20s -timeout_error $pcscf \
	> "$run/demo-reg.out" 2>&1; then
	core_trail
else
	echo "demo: alice could not register (see $run/demo-reg.out)" >&2
	exit 1
fi

echo
echo "== call 1: alice (IMS) -> PBX extension 2001 (a 1300 Hz tone), PCMU"
mark=$(wc -l < "$run/pbx.log")
"$rtp" -p 42000 -c PCMU -t 1000 -m 3000 -w 15000 > "$run/demo-rtp1.out" &
r1=$!
wait_udp 42000
mark_core
mark_sbc
sipp -sf "$scen/ims_ue_call_media.xml" -i 127.0.0.1 -p $ue_port -m 1 \
	-nostdin -timeout 20s -timeout_error -key me alice \
	-key target tel:+442079462001 -key ppi tel:+15550001 \
	-key rtp_port 42000 -key codec PCMU -key pt 0 -d 4000 \
	-trace_msg -message_file "$run/demo-call1.msg" \
	$pcscf > "$run/demo-call1.out" 2>&1 || failed="$failed 1"
echo "  alice's sipp: $(sed -n 's/^ *Successful call *|.*| *\([0-9]*\) *$/\1/p' \
	"$run/demo-call1.out" | tail -n 1) successful call(s)"
wait $r1
sleep 0.5
core_trail
sbc_trail
ladder "$(last_call)"
echo
echo "  heard by alice: $(sed -n 's/^tone_hz=//p' "$run/demo-rtp1.out") Hz"
echo "  heard on the E1: $(tail -n +$((mark + 1)) "$run/pbx.log" |
	grep '^tone ' | tail -n 1 | cut -d' ' -f3) Hz"
echo "  the PBX saw the call as: $(tail -n +$((mark + 1)) "$run/pbx.log" |
	grep -m 1 '^ring ' | cut -d' ' -f2,3 | sed 's/ / from /')"
quality

echo
echo "== call 2: PBX extension 2001 (1300 Hz) dials 0015550001: alice, G.722"
sipp -sf "$scen/ims_ue_answer_media.xml" -i 127.0.0.1 -p $ue_port -m 1 \
	-nostdin -timeout 20s -timeout_error -key me alice \
	-key rtp_port 42010 -key codec G722 -key pt 9 \
	-trace_msg -message_file "$run/demo-call2.msg" \
	> "$run/demo-call2.out" 2>&1 &
uas=$!
wait_udp $ue_port
"$rtp" -p 42010 -c G722 -t 1000 -m 3000 -w 15000 > "$run/demo-rtp2.out" &
r2=$!
wait_udp 42010
mark=$(wc -l < "$run/pbx.log")
mark_core
mark_sbc
echo "dial 0015550001 2001" > "$run/pbx.in"
wait $r2
echo "hangup" > "$run/pbx.in"
wait $uas
uas_rc=$?
echo "  alice's sipp: rc=$uas_rc"
[ $uas_rc = 0 ] || failed="$failed 2"
sleep 0.5
core_trail
sbc_trail
ladder "$(last_call)"
echo
echo "  heard by alice: $(sed -n 's/^tone_hz=//p' "$run/demo-rtp2.out") Hz"
echo "  heard on the E1: $(tail -n +$((mark + 1)) "$run/pbx.log" |
	grep '^tone ' | tail -n 1 | cut -d' ' -f3) Hz"
quality
ctl log level mgcf info > /dev/null
if sbc_runs; then
	echo
	echo "== the SBC (conf/lab/sbc.conf): its counters"
	sbc_ctl show stats |
		grep -E 'sbc\.(calls|calls_to_access|calls_failed|relayed_packets)([^a-z_]|$)' |
		sed 's/^ */    /'
fi
echo
echo "Logs: $log, $run/ims-*.log, $run/pbx.log; call records: $run/lab-gw-cdr.csv"
if [ -n "$failed" ]; then
	echo "demo: call(s)$failed failed: see $run/demo-call*.out" >&2
	exit 1
fi
