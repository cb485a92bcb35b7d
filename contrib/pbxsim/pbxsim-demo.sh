#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The lab's gateway demo (contrib/lab.sh demo): two calls through the lab
# gateway (conf/lab/gateway.conf) and the lab PBX (conf/lab/pbx.ini), each
# printed as a call ladder with its media quality.
#   1. IMS -> PBX: a SIP caller (sipp, with test_mgw_rtp playing 1000 Hz)
#      calls +442079462001, the PBX's tone extension (1300 Hz).
#   2. PBX -> out: extension 2002 (an echo) dials 0015559999, which the
#      gateway's bgcf routes to a SIP peer (sipp, playing 1000 Hz): the
#      peer hears its own tone back across the E1.
#   pbxsim-demo.sh TOP BUILD RUN
set -u
top=$1 build=$2 run=$3
ctl() { "$build/core/tandemctl" -s "$run/lab-gw.sock" "$@"; }
rtp="$build/plugins/mgw/test_mgw_rtp"
scen="$top/plugins/mgcf/sipp"
log="$run/lab-gw.log"

if ! ctl show plugins > /dev/null 2>&1; then
	echo "demo: the lab gateway does not run (contrib/lab.sh start)" >&2
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
	printf '\n  %8s  %-32s %-32s\n' "" "IMS / SIP side <-> gateway" \
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

ctl log level mgcf debug > /dev/null
echo "== call 1: IMS -> PBX extension 2001 (a 1300 Hz tone), PCMU on SIP"
"$rtp" -p 42000 -c PCMU -t 1000 -m 3000 -w 15000 > "$run/demo-rtp1.out" &
r1=$!
sipp -sf "$scen/uac_call.xml" 127.0.0.1:7060 -s +442079462001 \
	-i 127.0.0.1 -p 7061 -m 1 -nostdin -timeout 20s -key rtp_port 42000 \
	-key codec PCMU -key pt 0 -d 4000 > "$run/demo-uac.out" 2>&1
wait $r1
sleep 0.5
ladder "$(last_call)"
echo
echo "  heard on the SIP side: $(sed -n 's/^tone_hz=//p' "$run/demo-rtp1.out") Hz"
echo "  heard on the E1: $(grep '^tone ' "$run/pbx.log" | tail -n 1 | cut -d' ' -f3) Hz"
quality

echo
echo "== call 2: PBX extension 2002 (an echo) dials 0015559999, a SIP peer"
cat > "$run/lab-gw-routes.conf" <<EOF
; the demo's SIP peer: +15559999 leaves the gateway toward it
[route demo-peer]
prefix = +15559999
target = sip:peer@127.0.0.1:7062
EOF
ctl bgcf reload > /dev/null
sipp -sf "$scen/uas_answer.xml" -i 127.0.0.1 -p 7062 -m 1 -nostdin \
	-timeout 20s -key rtp_port 42010 -key codec PCMA -key pt 8 \
	> "$run/demo-uas.out" 2>&1 &
uas=$!
sleep 0.5
"$rtp" -p 42010 -c PCMA -t 1000 -m 3000 -w 15000 > "$run/demo-rtp2.out" &
r2=$!
echo "dial 0015559999 2002" > "$run/pbx.in"
wait $r2
echo "hangup" > "$run/pbx.in"
wait $uas
sleep 0.5
ladder "$(last_call)"
echo
echo "  the peer hears its own 1000 Hz back from the PBX's echo: $(sed -n 's/^tone_hz=//p' "$run/demo-rtp2.out") Hz"
quality
ctl log level mgcf info > /dev/null
echo
echo "Logs: $log, $run/pbx.log; call records: $run/lab-gw-cdr.csv"
