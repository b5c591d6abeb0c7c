#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Who may read and who may change. Reading the table is open to any user
# of the namespace, by every way it is shown: `show`, `show -j`, `stats`,
# `monitor` (the configuration multicast group) and the sysfs files (the
# initial namespace's). Changing it needs CAP_NET_ADMIN: a refused change
# says why and changes nothing.
#
#  +---------------------------------+
#  | priv (-n priv)                  |    initial namespace: sysfs
#  |  lo: 211.115.115.100            |    (/sys/kernel/l3dsr), read
#  |  root: DSCP 10 -> the VIP       |    as nobody too
#  |  nobody (uid 65534, no caps,    |
#  |   no groups): reads, monitors,  |
#  |   tries to change               |
#  +---------------------------------+

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly PRIV_VIP=211.115.115.100
readonly CANARY_VIP=203.0.113.63
readonly NEW_VIP=203.0.113.20
readonly SYSFS_DSCP=45
readonly SYSFS_VIP=203.0.113.45

require_l3dsr
require_cmds setpriv timeout
tap_begin
scratch_dir TMP || skip_all "cannot create a scratch directory"

NS_PRIV=

setup()
{
	ns_new NS_PRIV priv &&
	run ip -n "$NS_PRIV" addr add "$PRIV_VIP"/32 dev lo &&
	run "$L3DSRCTL" -n "$NS_PRIV" add-mapping dscp "$DSCP" vip "$PRIV_VIP"
}

set_up setup

# nobody COMMAND...: COMMAND in the priv namespace as nobody, without any
# capability or group, at most 10 s.
nobody()
{
	trace "nobody: $*"
	ip netns exec "$NS_PRIV" setpriv --reuid=65534 --regid=65534 \
		--clear-groups --inh-caps=-all --bounding-set=-all \
		timeout 10 "$@"
}

# nobody_in_init COMMAND...: the same in the initial namespace.
nobody_in_init()
{
	trace "nobody (initial namespace): $*"
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		--bounding-set=-all timeout 10 "$@"
}

# ------------------------------------------------------------ reading

root_show=$("$L3DSRCTL" -n "$NS_PRIV" show 2>&1)
root_json=$("$L3DSRCTL" -n "$NS_PRIV" -j show 2>&1)
check_eq "nobody's show is root's" "$root_show" "$(nobody "$L3DSRCTL" show 2>&1)"
check_eq "nobody's show -j is root's" "$root_json" \
	"$(nobody "$L3DSRCTL" -j show 2>&1)"
check "nobody's stats works" nobody "$L3DSRCTL" stats
check_eq "nobody's stats -j names what root's does" \
	"$("$L3DSRCTL" -n "$NS_PRIV" -j stats | jq -c keys)" \
	"$(nobody "$L3DSRCTL" -j stats | jq -c keys)"

# monitor: nobody subscribes; root changes the table until nobody has seen
# a canary (so nobody has joined the group), then once more for real.
nobody "$L3DSRCTL" monitor >"$TMP/monitor" 2>&1 &
monitor_pid=$!
track_pid "$monitor_pid"
tries=50
while [ "$tries" -gt 0 ] && kill -0 "$monitor_pid" 2>/dev/null &&
      ! grep -q "$CANARY_VIP" "$TMP/monitor"; do
	"$L3DSRCTL" -n "$NS_PRIV" replace-mapping dscp 63 vip "$CANARY_VIP" \
		>/dev/null 2>&1
	sleep 0.2
	"$L3DSRCTL" -n "$NS_PRIV" del-mapping dscp 63 >/dev/null 2>&1
	tries=$((tries - 1))
done
check "root's change" \
	"$L3DSRCTL" -n "$NS_PRIV" add-mapping dscp 20 vip "$NEW_VIP"
wait_until 50 grep -q "new dscp 20 vip $NEW_VIP" "$TMP/monitor"
stop_background "$monitor_pid"
check_contains "nobody's monitor sees root's change" \
	"new dscp 20 vip $NEW_VIP" "$(cat "$TMP/monitor")"
run "$L3DSRCTL" -n "$NS_PRIV" del-mapping dscp 20

# sysfs shows the initial namespace's table
run "$L3DSRCTL" add-mapping dscp "$SYSFS_DSCP" vip "$SYSFS_VIP" ||
	fail "a mapping in the initial namespace for sysfs"
defer "$L3DSRCTL del-mapping dscp $SYSFS_DSCP"
sysfs_dir=$(sysfs_mapping_dir inet "$SYSFS_DSCP")
check_eq "nobody reads a mapping's vip in sysfs" "$SYSFS_VIP" \
	"$(nobody_in_init cat "$sysfs_dir/vip" 2>&1)"
check_eq "nobody reads a mapping's packets in sysfs" \
	"$(cat "$sysfs_dir/packets")" \
	"$(nobody_in_init cat "$sysfs_dir/packets" 2>&1)"
unreadable=
for name in "${STAT_NAMES[@]}"; do
	value=$(nobody_in_init cat "/sys/kernel/l3dsr/stats/$name" 2>/dev/null)
	[[ "$value" =~ ^[0-9]+$ ]] || unreadable+=" $name"
done
check_eq "nobody reads every stat in sysfs" "" "$unreadable"

# ------------------------------------------------------------ changing

table_before=$("$L3DSRCTL" -n "$NS_PRIV" -j show)
# refused CMD...: nobody's l3dsrctl CMD fails, saying it lacks permission.
refused()
{
	local err rc

	err=$(nobody "$L3DSRCTL" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" = 0 ]; then
		fail "nobody's $1 is refused" "it succeeded"
	elif [[ "$err" != "l3dsrctl: "*"Operation not permitted"* ]]; then
		fail "nobody's $1 is refused" "exit $rc, but it says: $err"
	else
		pass "nobody's $1 is refused"
	fi
}
refused add-mapping dscp 11 vip "$PRIV_VIP"
refused replace-mapping dscp "$DSCP" vip "$NEW_VIP"
refused set-mapping dscp "$DSCP" down
refused del-mapping dscp "$DSCP"
refused flush
check_eq "the refused changes changed nothing" "$table_before" \
	"$("$L3DSRCTL" -n "$NS_PRIV" -j show)"

tap_end
