#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# diaclient, a separate freeDiameter process, against a tandemd node:
# answers, Experimental-Result, a missing AVP with Failed-AVP.
. "$DIA_SRCDIR/dia_lib.sh"
dia_netns "$0" "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
PLUGIN_PATH="$abs_top_builddir/plugins/diameter:$PLUGIN_PATH"
plan 5

dia_certs hss.test.lab client.test.lab
cat > "$WORK/a.conf" <<CONF
[node]
name = a
control_socket = $WORK/a.sock
[plugins]
load = diameter diatest
CONF
dia_section hss.test.lab 3868 "" client.test.lab >> "$WORK/a.conf"
start_node "$WORK/a.conf" "$WORK/a.log" || { diag "$WORK/a.log"; }

diaclient client.test.lab 3870 hss.test.lab@127.0.0.1:3868 > "$WORK/out" 2>&1 <<EOS
send LIR Public-Identity=sip:alice@test.lab
send LIR Public-Identity=sip:unknown@test.lab
send LIR User-Name=alice
EOS
rc=$?
diag "$WORK/out"
check "diaclient connects and gets its answers (rc=$rc)" test "$rc" = 0
check "LIA with Result-Code and Server-Name" \
	sh -c "grep -q '^  Result-Code=2001' '$WORK/out' && grep -q '^  Server-Name=sip:scscf.test:6060' '$WORK/out'"
check "LIA with Experimental-Result 5001" \
	grep -q '^  Experimental-Result.Experimental-Result-Code=5001' "$WORK/out"
check "a missing AVP gives 5005 and Failed-AVP" \
	sh -c "grep -q '^  Result-Code=5005' '$WORK/out' && grep -q '^  Failed-AVP.Public-Identity=' '$WORK/out'"
check "the answers repeat the application and session state" \
	grep -q '^  Vendor-Specific-Application-Id.Auth-Application-Id=16777216' "$WORK/out"
finish
