# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers of the gateway tests, sourced after tests/integration/lib.sh: a
# gateway node (sim span + pri + sip + media + mgw + mgcf [+ bgcf]) whose
# span 1 is cabled to pbxsim, the simulated PBX, and sipp on the SIP side.
# Every test runs in a network namespace of its own (gw_netns), so fixed
# ports collide with nothing and nothing leaves the machine.

# gw_netns "$@": re-run the test inside a new network namespace, before
# tests/integration/lib.sh makes its work directory.
gw_netns() {
	if [ -n "$GW_IN_NETNS" ]; then
		ip link set lo up || { echo "1..0 # SKIP cannot set lo up"; exit 0; }
		return 0
	fi
	if ! unshare -rn true 2>/dev/null; then
		echo "1..0 # SKIP cannot create a network namespace (unshare -rn)"
		exit 0
	fi
	GW_IN_NETNS=1 exec unshare -rn sh "$0" "$@"
}

GW_SIP=5060      # the gateway's SIP port
SIPP_UAC=5061    # sipp as the IMS caller
SIPP_UAS=5062    # sipp as the IMS callee (the gateway's next hop)
SCEN="$abs_top_srcdir/plugins/mgcf/sipp"
GW_SOCK="$WORK/gw.sock"
CABLE="$WORK/e1.sock"

# gw_conf FILE [LOAD_EXTRA]: the gateway node; sections may be appended.
gw_conf() {
	cat > "$1" <<CONF
[node]
name = gw-test
control_socket = $GW_SOCK
log_level = ${GW_LOG_LEVEL:-info}
[plugins]
load = sim pri sip media mgw $2 mgcf
[sip]
listen = udp:127.0.0.1:$GW_SIP
[media]
workers = 4
rtp_port_min = 30000
rtp_port_max = 30999
rtp_timeout_s = 0
[mgw]
codecs = PCMA PCMU G722
tones = eu
[mgcf]
domain = ims.lab
contact = sip:mgcf@127.0.0.1:$GW_SIP
sip_next_hop = udp:127.0.0.1:$SIPP_UAS
trunk = pbx
cancel_poll_ms = 100
overlap_timeout_ms = 1500
[trunk pbx]
spans = 1
country_code = 44
ddi_prefix = +44207946
ddi_digits = 4
called_format = ddi
calling_format = national
called_digits = 11
[span 1]
type = e1
timing = 1
cable = $CABLE
cable_listen = yes
[pri 1]
switchtype = euroisdn_e1
side = network
dchan = tdm
overlap = yes
CONF
}

# pbx_conf FILE: the PBX on the other end of span 1's cable.
pbx_conf() {
	cat > "$1" <<CONF
[pbx]
cable = $CABLE
switchtype = euroisdn_e1
side = user
[ext 2000]
action = answer
[ext 2001]
action = tone
tone_hz = 1300
[ext 2002]
action = echo
[ext 2003]
action = ring
[ext 2004]
action = busy
[ext 2005]
action = answer
answer_ms = 1500
[ext 2006]
action = tone
tone_hz = 1300
inband = yes
answer_ms = 3000
[ext 2007]
action = ring
inband = yes
early = tone
tone_hz = 700
[ext 79]
match = prefix
action = reject
cause = digits
CONF
}

# gw_two_spans FILE: span 2 joins the pbx trunk (its own cable to the
# PBX); spans get few B-channels so that "all busy" is easy to reach.
gw_two_spans() {
	sed -i -e 's/^spans = 1$/spans = 1,2/' "$1"
	cat >> "$1" <<CONF
bchans = 1-2
noanswer_ms = 6000
[span 2]
type = e1
timing = 2
cable = $WORK/e1b.sock
cable_listen = yes
[pri 2]
switchtype = euroisdn_e1
side = network
dchan = tdm
bchans = 1
noanswer_ms = 6000
CONF
}

# pbx_two_spans FILE: the PBX's second span.
pbx_two_spans() {
	cat >> "$1" <<CONF
[span 2]
cable = $WORK/e1b.sock
CONF
}

# sipp_template NAME KEY=VALUE...: a scenario made from a template.
sipp_template() {
	name=$1; shift
	out="$WORK/$name"
	cp "$SCEN/$name" "$out"
	for kv in "$@"; do
		sed -i "s|@${kv%%=*}@|${kv#*=}|g" "$out"
	done
	echo "$out"
}

ctl() { "$TANDEMCTL" -s "$GW_SOCK" "$@"; }

# gw_up CONF: start the gateway and wait (bounded) until it runs.
gw_up() {
	start_node "$1" "$WORK/gw.log"
}

# pbx_up CONF [ARGS]: start pbxsim with commands from a fifo (fd 3) and
# wait (bounded) until its D-channel is up.
pbx_up() {
	conf=$1; shift
	mkfifo "$WORK/pbx.in"
	"$PBXSIM" -c "$conf" "$@" < "$WORK/pbx.in" > "$WORK/pbx.out" 2>&1 &
	PBX_PID=$!
	NODE_PIDS="$NODE_PIDS $PBX_PID"
	exec 3> "$WORK/pbx.in"
	want=$(grep -c '^cable' "$conf")
	for _ in $(seq 1 100); do
		[ "$(grep -c '^up' "$WORK/pbx.out" 2>/dev/null)" -ge "$want" ] && \
			[ "$(ctl --json pri show spans 2>/dev/null | grep -o '"dchan":"up"' | wc -l)" \
				-ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

pbx_cmd() { echo "$*" >&3; }

# wait_line FILE PATTERN [SECONDS]: bounded wait for a line.
wait_line() {
	for _ in $(seq 1 $((${3:-10} * 10))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# uas_start SCENARIO OUT [SIPP ARGS]: sipp as the IMS callee, one call,
# in the background (UAS_PID), ready when it returns.
uas_start() {
	scen=$1 out=$2
	shift 2
	case $scen in /*) ;; *) scen="$SCEN/$scen" ;; esac
	"$SIPP" -sf "$scen" -i 127.0.0.1 -p $SIPP_UAS -m 1 -nostdin \
		-timeout 30s -trace_err -error_file "$out.err" "$@" \
		> "$out" 2>&1 &
	UAS_PID=$!
	NODE_PIDS="$NODE_PIDS $UAS_PID"
	wait_udp_port $SIPP_UAS # ready once its port is bound
	return 0
}

# uac_run SCENARIO OUT NUMBER [SIPP ARGS]: sipp as the IMS caller, one
# call to NUMBER at the gateway; sets uac_rc and uac_ok (successful calls).
uac_run() {
	scen=$1 out=$2 number=$3
	shift 3
	case $scen in /*) ;; *) scen="$SCEN/$scen" ;; esac
	"$SIPP" -sf "$scen" 127.0.0.1:$GW_SIP -s "$number" -i 127.0.0.1 \
		-p $SIPP_UAC -m 1 -nostdin -timeout 30s -trace_err \
		-error_file "$out.err" "$@" > "$out" 2>&1
	uac_rc=$?
	uac_ok=$(sed -n 's/^ *Successful call *|.*| *\([0-9]*\) *$/\1/p' "$out" |
		tail -n 1)
}

# rtp_start PORT OUT [ARGS]: the SIP side's audio (test_mgw_rtp) in the
# background (RTP_PID); it waits for the gateway's first packet.
rtp_start() {
	port=$1 out=$2
	shift 2
	"$RTPTOOL" -p "$port" -w 20000 "$@" > "$out" 2>&1 &
	RTP_PID=$!
	NODE_PIDS="$NODE_PIDS $RTP_PID"
}

# near HZ WANT [TOLERANCE]: HZ within TOLERANCE (15) of WANT.
near() {
	[ -n "$1" ] && [ "$1" -ge $(($2 - ${3:-15})) ] && \
		[ "$1" -le $(($2 + ${3:-15})) ]
}

key() { sed -n "s/^$1=//p" "$2"; }

# GW_KEEP=1 keeps the work directory of a run (for a look at the logs).
if [ -n "$GW_KEEP" ] && [ -n "$NODE_PIDS$WORK" ]; then
	trap 'for pid in $NODE_PIDS; do kill -KILL "$pid" 2>/dev/null; done; echo "# kept $WORK"' EXIT
fi

# gw_idle: bounded wait until no call is left on the circuit side (the
# pri plugin spins when a span stops under a call still releasing).
gw_idle() {
	for _ in $(seq 1 50); do
		[ -z "$(ctl --json pri show calls 2>/dev/null | grep '"call"')" ] && return 0
		sleep 0.1
	done
	return 1
}
