#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fax across the gateway (T.38 Annex D): the PBX's fax calls IMS and its
# calling tone (CNG) makes the gateway re-INVITE IMS to T.38; an IMS fax
# calls the PBX and re-INVITEs to T.38 itself. Both end with the call's
# stream in T.38 (UDPTL) on the IP side, the media plugin's T.38 gateway
# toward the E1.
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"
gw_netns "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"

need_sipp
plan 8

gw_conf "$WORK/gw.conf"
pbx_conf "$WORK/pbx.conf"
printf '[ext 2008]\naction = fax\n' >> "$WORK/pbx.conf"
if gw_up "$WORK/gw.conf" && pbx_up "$WORK/pbx.conf"; then
	pass "gateway and PBX up"
else
	fail "gateway and PBX up"; diag "$WORK/gw.log"; finish
fi

t38_records() { ctl --json mgw show records | grep -o '"codec":"t38"' | wc -l; }

# The PBX's fax calls out.
uas_start uas_t38.xml "$WORK/uas.out" -key rtp_port 40020 -key codec PCMA \
	-key pt 8
pbx_cmd dial 02079460099 2008
wait_line "$WORK/gw.log" 'call [0-9]*: T.38$' 10
check "the PBX's fax tone (CNG) made the gateway re-INVITE to T.38" \
	grep -q 'call [0-9]*: T.38$' "$WORK/gw.log"
sleep 1
pbx_cmd hangup
wait_exit "$UAS_PID" 10
check "IMS took the T.38 offer and the call ended well" test "$rc" = 0
t() { for _ in $(seq 1 100); do [ "$(t38_records)" -ge 1 ] && return 0; sleep 0.1; done; return 1; }
check "the call's record says t38" t

# An IMS fax calls the PBX and asks for T.38 itself.
uac_run uac_t38.xml "$WORK/uac.out" +442079462000 -key rtp_port 40030 \
	-key codec PCMA -key pt 8 -d 1000
check "an IMS re-INVITE to T.38 gets an image answer" test "$uac_rc" = 0
t() { for _ in $(seq 1 100); do [ "$(t38_records)" -ge 2 ] && return 0; sleep 0.1; done; return 1; }
check "and its record says t38 too" t
check "the gateway logged both switches to T.38" \
	grep -q 'fax now in T.38\|re-INVITE answered' "$WORK/gw.log"
gw_idle
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 15
check "the gateway stops cleanly (rc=$rc)" test "$rc" = 0
[ "$tap_failed" -gt 0 ] && { diag "$WORK/pbx.out"; tail -n 60 "$WORK/gw.log" | diag; }
finish
