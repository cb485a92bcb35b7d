# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the HSS tests: a node with diameter + hss on loopback, the
# diaclient as Cx/Sh peer, reading its answers. Sourced after
# dia_lib.sh's dia_netns and tests/integration/lib.sh.

PLUGIN_PATH="$abs_top_builddir/plugins/diameter:$abs_top_builddir/plugins/hss:$PLUGIN_PATH"
HSS_SOCK="$WORK/hss.sock"
K=465b5ce8b199b49faa5f0a2ee238a6bc   # TS 35.208 test set 1
OPC=cd63cb71954a9f4e48a5994e37a02baf

hss_conf() {
	cat <<CONF
[node]
name = hss
control_socket = $HSS_SOCK
log_level = info
[plugins]
load = diameter hss
CONF
	dia_section hss.ims.lab 3868 "" "client.ims.lab as.ims.lab"
	cat <<CONF
[hss]
db_path = $WORK/hss.db
scscf_names = sip:scscf.ims.lab:6060
${HSS_EXTRA:-}
CONF
}

hss_start() {
	dia_certs hss.ims.lab client.ims.lab as.ims.lab
	hss_conf > "$WORK/hss.conf"
	start_node "$WORK/hss.conf" "$WORK/hss.log"
}

ctl() { "$TANDEMCTL" -s "$HSS_SOCK" "$@"; }

# cx: the diaclient as client.ims.lab (an I/S-CSCF), script on stdin.
cx() { diaclient client.ims.lab 3870 hss.ims.lab@127.0.0.1:3868 "$@"; }
# answered FILE: bounded wait (10 s) until the diaclient writing FILE has
# its first answer (a script that then acts on the HSS knows its request
# was served, however slow the build or the machine).
answered() { dia_wait 10 grep -q '^answer' "$1"; }
# as: the diaclient as an application server (Sh).
as() { diaclient as.ims.lab 3871 hss.ims.lab@127.0.0.1:3868 "$@"; }

# val FILE N PATH: the value of PATH in the Nth answer of FILE.
val() {
	awk -v n="$2" -v p="  $3=" '
		/^(answer|request|timeout)/ { i++ }
		i == n && index($0, p) == 1 { print substr($0, length(p) + 1); exit }
	' "$1"
}

# result FILE N: Result-Code, or Experimental-Result-Code, of answer N.
result() {
	r=$(val "$1" "$2" Result-Code)
	[ -n "$r" ] || r=$(val "$1" "$2" Experimental-Result.Experimental-Result-Code)
	echo "$r"
}
