#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The first mapping of a namespace whose FIB is large and never still, as
# on a server that speaks BGP: nothing the routes do may make the command
# fail or wait for them to settle.
#
#  +-----------------------------------------------------------------+
#  | fib (-n fib)                                                    |
#  |  FIB_ROUTES blackhole routes, 10.0.0.0/15 as /32s (ip -batch)   |
#  |  loop 1: adds and deletes IPv4 routes in 172.16.0.0/16          |
#  |  loop 2: adds and deletes IPv6 routes in 2001:db8:ee::/48       |
#  |  lo: VIP 211.115.115.100; l3dsr: DSCP 10 -> VIP, made and       |
#  |      removed FIB_CHURN_ROUNDS times                             |
#  +-----------------------------------------------------------------+
#
# Each round removes the namespace's only mapping, unloads and loads the
# module (so that nothing it kept of the namespace is left) and adds the
# mapping again, the first mapping of the namespace each time, while both
# loops run: the add must succeed at once, every round. Its wall time is
# printed, not judged (a loaded machine decides it). Where the module
# cannot be unloaded (something holds it), the round goes on with what it
# kept, and says so.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly FIB_ROUTES=${FIB_ROUTES:-100000}
readonly ROUNDS=${FIB_CHURN_ROUNDS:-10}
# the loops' own limit, should the script die without its cleanup
readonly CHURN_SECONDS=${FIB_CHURN_SECONDS:-600}
readonly CHUNK=200

require_l3dsr
require_cmds awk
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"

NS_FIB=

# routes COUNT: "route add blackhole" lines for COUNT /32s from 10.0.0.0.
routes()
{
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "route add blackhole 10.%d.%d.%d/32\n",
				int(i / 65536), int(i / 256) % 256, i % 256
	}'
}

setup()
{
	local t0 t1

	ns_new NS_FIB fib &&
	run ip -n "$NS_FIB" addr add "$VIP4"/32 dev lo || return 1
	routes "$FIB_ROUTES" >"$TMP/routes"
	t0=$(now_us)
	run ip -n "$NS_FIB" -batch "$TMP/routes" || return 1
	t1=$(now_us)
	note "$FIB_ROUTES routes added in $(ms_between "$t0" "$t1") ms"
}

set_up setup

check_gt "the namespace holds at least $FIB_ROUTES routes" \
	$((FIB_ROUTES - 1)) \
	"$(ip -n "$NS_FIB" route show | wc -l)"

# Batches of CHUNK adds then CHUNK deletes, one "ip -batch" each, until
# the deadline or the script's cleanup ends them; each batch done adds a
# line to the loop's file.
awk -v n=$CHUNK 'BEGIN {
	for (i = 0; i < n; i++)
		printf "route add blackhole 172.16.%d.%d/32\n", int(i / 256), i % 256
	for (i = 0; i < n; i++)
		printf "route del blackhole 172.16.%d.%d/32\n", int(i / 256), i % 256
}' >"$TMP/churn4"
awk -v n=$CHUNK 'BEGIN {
	for (i = 0; i < n; i++)
		printf "-6 route add blackhole 2001:db8:ee::%x/128\n", i
	for (i = 0; i < n; i++)
		printf "-6 route del blackhole 2001:db8:ee::%x/128\n", i
}' >"$TMP/churn6"

churn()
{
	local deadline=$((SECONDS + CHURN_SECONDS))

	while [ "$SECONDS" -lt "$deadline" ]; do
		ip -n "$NS_FIB" -batch "$1" >/dev/null 2>&1
		echo >>"$2"
	done
}

churn4_pid=
churn6_pid=
: >"$TMP/done4"
: >"$TMP/done6"
background churn4_pid churn "$TMP/churn4" "$TMP/done4"
background churn6_pid churn "$TMP/churn6" "$TMP/done6"
check "both loops are changing routes" wait_until 300 bash -c \
	"[ -s '$TMP/done4' ] && [ -s '$TMP/done6' ]"

churning()
{
	kill -0 "$churn4_pid" 2>/dev/null && kill -0 "$churn6_pid" 2>/dev/null
}

times=
for ((round = 1; round <= ROUNDS; round++)); do
	run "$L3DSRCTL" -n "$NS_FIB" flush
	if run modprobe -r l3dsr; then
		run modprobe l3dsr ||
			fail "round $round: the module loads again"
	else
		note "round $round: the module cannot be unloaded; its state stays"
	fi
	if ! churning; then
		fail "round $round: the loops are running" "a churn loop ended"
		break
	fi
	batches=$(wc -l <"$TMP/done4")
	t0=$(now_us)
	add_out=$("$L3DSRCTL" -n "$NS_FIB" add-mapping dscp "$DSCP" vip "$VIP4" 2>&1)
	rc=$?
	t1=$(now_us)
	ms=$(ms_between "$t0" "$t1")
	times+=" $ms"
	note "round $round: add-mapping took $ms ms (IPv4 batches done before it: $batches)"
	if [ "$rc" = 0 ]; then
		pass "round $round: the namespace's first mapping is made at once"
	else
		fail "round $round: the namespace's first mapping is made at once" \
			"exit $rc: $add_out"
	fi
done
check_eq "the mapping is there after the last round" "$VIP4" \
	"$(mapping_field inet "$DSCP" vip "$NS_FIB" | tr -d '"')"
note "add-mapping wall times (ms):$times"
note "batches of $CHUNK adds and $CHUNK deletes done: IPv4 $(wc -l <"$TMP/done4"), IPv6 $(wc -l <"$TMP/done6")"
stop_background "$churn4_pid"
stop_background "$churn6_pid"
run "$L3DSRCTL" -n "$NS_FIB" flush

tap_end
