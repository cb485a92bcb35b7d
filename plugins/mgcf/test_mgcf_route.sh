#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The gateway with the bgcf: numbers of the PBX's range go to its trunk,
# others to a SIP peer (the MGCF proxies the INVITE there), a congested
# trunk overflows to the next route, and the routes file is reloaded
# while a call runs, which keeps running; a routes file with an error is
# refused and the table in use stays.
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"
gw_netns "$@"
. "$abs_top_srcdir/tests/integration/lib.sh"
. "$abs_top_srcdir/plugins/mgcf/test_mgcf_lib.sh"

need_sipp
plan 12

ROUTES="$WORK/routes.conf"
cat > "$ROUTES" <<EOF
[route pbx]
prefix = +44207946
target = trunk:pbx
overflow = peer

[route peer]
prefix = +33
target = sip:peer@127.0.0.1:$SIPP_UAS
EOF
gw_conf "$WORK/gw.conf" bgcf
sed -i -e '/^trunk = pbx$/d' -e 's/^\[pri 1\]$/[pri 1]\nbchans = 1/' \
	"$WORK/gw.conf"
printf '[bgcf]\nroutes = %s\ncheck_ms = 0\n' "$ROUTES" >> "$WORK/gw.conf"
pbx_conf "$WORK/pbx.conf"
if gw_up "$WORK/gw.conf" && pbx_up "$WORK/pbx.conf"; then
	pass "a gateway with the bgcf and its routes file starts"
else
	fail "a gateway with the bgcf and its routes file starts"
	diag "$WORK/gw.log"; finish
fi
check "bgcf route: the PBX's range goes to its trunk, then the peer" \
	sh -c "'$TANDEMCTL' -s '$GW_SOCK' bgcf route +442079462000 | grep -q 'trunk:pbx' &&
	       '$TANDEMCTL' -s '$GW_SOCK' bgcf route +442079462000 | grep -q 'sip:peer@'"

# A call to the PBX through the route; while it runs, the routes change.
"$SIPP" -sf "$SCEN/uac_call.xml" 127.0.0.1:$GW_SIP -s +442079462000 \
	-i 127.0.0.1 -p $SIPP_UAC -m 1 -nostdin -timeout 30s \
	-key rtp_port 40000 -key codec PCMA -key pt 8 -d 3000 \
	> "$WORK/long.out" 2>&1 &
LONG=$!
NODE_PIDS="$NODE_PIDS $LONG"
wait_line "$WORK/pbx.out" '^answered ' 10
check "the call reaches the PBX by the bgcf's trunk route" \
	grep -q '^ring 2000 ' "$WORK/pbx.out"

cat > "$ROUTES.new" <<EOF
[route pbx]
prefix = +44207946
target = sip:moved@127.0.0.1:$SIPP_UAS

[route broken]
prefix = +1
target = ftp:nowhere
EOF
cp "$ROUTES.new" "$ROUTES"
check "a routes file with an error is refused" \
	sh -c "! '$TANDEMCTL' -s '$GW_SOCK' bgcf reload > /dev/null 2>&1"
check "its error is logged with file:line" \
	grep -q "routes.conf:7: target = ftp:nowhere" "$WORK/gw.log"
check "and the table in use stays" \
	sh -c "'$TANDEMCTL' -s '$GW_SOCK' bgcf route +442079462000 | grep -q 'trunk:pbx'"
head -n 3 "$ROUTES.new" > "$ROUTES"
check "a good one is taken while the call runs" \
	sh -c "'$TANDEMCTL' -s '$GW_SOCK' bgcf reload | grep -q 'routes: *1'"
wait_exit "$LONG" 15
check "the call that was running ends normally" test "$rc" = 0

# The same number now goes to the SIP peer: the MGCF proxies the INVITE.
BUSY='Reason: Q.850;cause=17;text="user busy"'
scen=$(sipp_template uas_status.xml STATUS=486 "REASON=$BUSY")
uas_start "$scen" "$WORK/peer.out"
scen=$(sipp_template uac_status.xml STATUS=486 CAUSE=17)
uac_run "$scen" "$WORK/moved.out" +442079462000
wait_exit "$UAS_PID" 10
check "after the reload the number goes to the SIP peer (proxied)" \
	test "$rc" = 0

# Overflow: the trunk's only B-channel rings; the next call overflows.
cp /dev/null "$ROUTES"
cat > "$ROUTES" <<EOF
[route pbx]
prefix = +44207946
target = trunk:pbx
overflow = peer

[route peer]
prefix = +33
target = sip:peer@127.0.0.1:$SIPP_UAS
EOF
ctl bgcf reload > /dev/null
scen=$(sipp_template uas_status.xml STATUS=486 "REASON=$BUSY")
uas_start "$scen" "$WORK/overflow-peer.out"
"$SIPP" -sf "$SCEN/uac_cancel.xml" 127.0.0.1:$GW_SIP -s +442079462003 \
	-i 127.0.0.1 -p 5063 -m 1 -d 5000 -nostdin -timeout 30s \
	> "$WORK/ringing.out" 2>&1 &
RINGING=$!
NODE_PIDS="$NODE_PIDS $RINGING"
wait_line "$WORK/pbx.out" '^ring 2003 ' 5
scen=$(sipp_template uac_status.xml STATUS=486 CAUSE=17)
uac_run "$scen" "$WORK/overflow.out" +442079462000
wait_exit "$UAS_PID" 10
check "no B-channel left on the trunk: the call overflows to the peer" \
	test "$rc" = 0 -a "$uac_rc" = 0
wait_exit "$RINGING" 10
check "and the ringing call ends when its caller gives up" test "$rc" = 0
gw_idle
kill -TERM "$NODE_PID"
wait_exit "$NODE_PID" 15
check "the gateway stops cleanly (rc=$rc)" test "$rc" = 0
[ "$tap_failed" -gt 0 ] && { diag "$WORK/pbx.out"; tail -n 60 "$WORK/gw.log" | diag; }
finish
