# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the IMS core tests: an HSS, an I-CSCF, an S-CSCF and a
# P-CSCF, each its own tandemd node on loopback, and sipp UEs. Sourced
# after tests/integration/lib.sh and plugins/diameter/dia_lib.sh (whose
# dia_netns the test calls first: every test runs in its own network
# namespace, so the fixed ports below never collide).
#
#   P-CSCF  SIP 5060                      pcscf.ims.lab
#   I-CSCF  SIP 4060  Diameter 3869       icscf.ims.lab
#   S-CSCF  SIP 6060  Diameter 3870       scscf.ims.lab
#   HSS               Diameter 3868       hss.ims.lab
#
# Extra lines for a node's own section: PCSCF_EXTRA, ICSCF_EXTRA,
# SCSCF_EXTRA, HSS_EXTRA; more P-CSCF listeners in PCSCF_LISTEN_MORE
# ("tls:127.0.0.1:5061") and more lines of its [sip] in PCSCF_SIP_EXTRA.

HSS_SOCK="$WORK/hss.sock"
ICSCF_SOCK="$WORK/icscf.sock"
SCSCF_SOCK="$WORK/scscf.sock"
PCSCF_SOCK="$WORK/pcscf.sock"
SIPP_DIR="$abs_top_srcdir/contrib/sipp"
IMS_HOSTS="pcscf.ims.lab=127.0.0.1 icscf.ims.lab=127.0.0.1 scscf.ims.lab=127.0.0.1 as.ims.lab=127.0.0.1 bgcf.ims.lab=127.0.0.1 ecscf.ims.lab=127.0.0.1"
# TS 35.208 test sets 3 and 15: sipp mis-reads keys holding some bytes
# (0x00, 0x5b, 0x5c, '"'...), which rules out test set 1 and most others.
K3=fec86ba6eb707ed08905757b1bb44b8f
OP3=dbc59adcb6f9a0ef735477b7fadf8374
K15=af7c65e1927221de591187a2c5987a53
OP15=0c7acb8d95b7d4a31c5aca6d26345a88

hss() { "$TANDEMCTL" -s "$HSS_SOCK" "$@"; }
icscf() { "$TANDEMCTL" -s "$ICSCF_SOCK" "$@"; }
scscf() { "$TANDEMCTL" -s "$SCSCF_SOCK" "$@"; }
pcscf() { "$TANDEMCTL" -s "$PCSCF_SOCK" "$@"; }

# ims_node NAME SOCK LOAD: the [node] and [plugins] sections.
ims_node() {
	cat <<CONF
[node]
name = $1
control_socket = $2
log_level = ${IMS_LOG_LEVEL:-info}
[plugins]
load = $3
CONF
}

# ims_sip PORT [EXTRA]: a [sip] section listening on loopback; EXTRA:
# more lines of the section (more listeners, TLS credentials).
ims_sip() {
	cat <<CONF
[sip]
listen = udp:127.0.0.1:$1 tcp:127.0.0.1:$1 ${2:-}
hosts = $IMS_HOSTS
${3:-}
CONF
}

ims_hss_conf() {
	ims_node hss "$HSS_SOCK" "diameter hss"
	dia_section hss.ims.lab 3868 "" "icscf.ims.lab scscf.ims.lab"
	cat <<CONF
[hss]
db_path = $WORK/hss.db
scscf_names = sip:scscf.ims.lab:6060
${HSS_EXTRA:-}
CONF
}

ims_icscf_conf() {
	ims_node icscf "$ICSCF_SOCK" "sip diameter icscf"
	ims_sip 4060
	dia_section icscf.ims.lab 3869 "hss.ims.lab@127.0.0.1:3868"
	cat <<CONF
[icscf]
name = sip:icscf.ims.lab:4060
scscfs = sip:scscf.ims.lab:6060
${ICSCF_EXTRA:-}
CONF
}

ims_scscf_conf() {
	ims_node scscf "$SCSCF_SOCK" "sip diameter scscf"
	ims_sip 6060
	dia_section scscf.ims.lab 3870 "hss.ims.lab@127.0.0.1:3868"
	cat <<CONF
[scscf]
name = sip:scscf.ims.lab:6060
db_path = $WORK/scscf.db
min_expires = 1
${SCSCF_EXTRA:-}
CONF
}

ims_pcscf_conf() {
	ims_node pcscf "$PCSCF_SOCK" "${PCSCF_LOAD:-sip pcscf}"
	ims_sip 5060 "${PCSCF_LISTEN_MORE:-}" "${PCSCF_SIP_EXTRA:-}"
	cat <<CONF
[pcscf]
name = sip:pcscf.ims.lab:5060
icscf = sip:icscf.ims.lab:4060
${PCSCF_EXTRA:-}
CONF
}

# ims_start_node NAME: write NAME.conf and start it; logs in NAME.log
# (a restarted node starts a new one), its pid in NAME_PID.
ims_start_node() {
	"ims_$1_conf" > "$WORK/$1.conf"
	start_node "$WORK/$1.conf" "$WORK/$1.log"
	rc=$?
	eval "$1_PID=$NODE_PID"
	return $rc
}

# ims_stop_node NAME: TERM, and wait (bounded) for it to end.
ims_stop_node() {
	eval "pid=\$$1_PID"
	kill -TERM "$pid" 2>/dev/null
	wait_exit "$pid" 10
	mv "$WORK/$1.log" "$WORK/$1.log.1"
	[ "$rc" = 0 ]
}

# Both CSCFs are Diameter peers of the HSS.
ims_cx_open() {
	[ "$(hss --json diameter show peers | grep -o '"state":"OPEN' | wc -l)" = 2 ]
}

# ims_core: certificates, the four nodes, Cx up. 0 when all is well.
ims_core() {
	dia_certs hss.ims.lab icscf.ims.lab scscf.ims.lab
	ims_start_node hss && ims_start_node scscf && ims_start_node icscf &&
		ims_start_node pcscf && dia_wait 20 ims_cx_open
}

ims_logs() {
	for n in hss icscf scscf pcscf; do
		echo "---- $n" | diag /dev/stdin
		tail -n 60 "$WORK/$n.log" 2>/dev/null | diag /dev/stdin
	done
}

# ims_scenario TEMPLATE USER K OP [EXPIRES [PASSWORD]]: a sipp scenario
# for one identity (sipp does not expand keywords inside
# [authentication]).
ims_scenario() {
	out="$WORK/$(basename "$1" .xml)-$2.xml"
	sed -e "s/@USER@/$2/g; s/@DOMAIN@/ims.lab/g; s/@K@/$3/g" \
		-e "s/@OP@/$4/g; s/@AMF@/8000/g; s/@EXPIRES@/${5:-600}/g" \
		-e "s/@PASSWORD@/${6:-}/g" \
		"$SIPP_DIR/$1" > "$out"
	echo "$out"
}

# ims_sipp SCENARIO LOCAL_PORT NAME [ARGS...]: one sipp run against the
# P-CSCF, bounded in time; its messages in NAME.msg. Returns sipp's code.
ims_sipp() {
	scen=$1 port=$2 name=$3
	shift 3
	sipp -sf "$scen" -i 127.0.0.1 -p "$port" -m 1 -timeout 30s \
		-timeout_error -trace_msg -message_file "$WORK/$name.msg" \
		-trace_err -error_file "$WORK/$name.err" "$@" 127.0.0.1:5060 \
		> "$WORK/$name.out" 2>&1 < /dev/null
}

# ims_stat SOCKFN COUNTER: a counter's value ("scscf" "scscf.registered").
ims_stat() {
	"$1" show stats | awk -v c="$2" '$1 == c { print $2 }'
}

# IMS_KEEP=1 keeps the work folder (configs, logs, sipp traces) to look at.
if [ -n "${IMS_KEEP:-}" ]; then
	trap 'for pid in $NODE_PIDS; do kill -KILL "$pid" 2>/dev/null; done; echo "# kept $WORK"' EXIT
fi
