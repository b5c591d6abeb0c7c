# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Variables set here are for the scripts that source this file, and results
# go back through namerefs: SC2034 cannot see either use.
# shellcheck disable=SC2034
#
# Shared helpers for the l3dsr selftests: TAP output, network namespaces with
# unique names, a cleanup stack run on exit, command tracing (VERBOSE=1),
# waiting for listeners, reading counters, and the balancer topology that the
# end-to-end test and the demo share.
#
# A test script sources this file, calls tap_begin, records one TAP line per
# assertion and ends with tap_end, which exits 0 (all passed), 1 (something
# failed) or 4 (skipped, the kselftest convention).

set -u

# Real tools first: in a busybox guest the applets of the same name (ip
# without netns support, for one) must not win.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
export PATH

readonly KSFT_PASS=0
readonly KSFT_FAIL=1
readonly KSFT_SKIP=4

SELFTESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SELFTESTS_DIR
readonly PEER="$SELFTESTS_DIR/l3dsr_peer"
readonly WIRE="$SELFTESTS_DIR/l3dsr_wire"
L3DSRCTL=${L3DSRCTL:-l3dsrctl}
VERBOSE=${VERBOSE:-0}
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}

readonly CROWD="$SELFTESTS_DIR/l3dsr_crowd"

# In the order of enum l3dsr_stat.
readonly STAT_NAMES=(rewritten rewritten_fragments skipped_scope
	skipped_not_host skipped_malformed skipped_routing_header
	dropped_unwritable skipped_down skipped_not_local skipped_bridged
	skipped_protocol)

# ---------------------------------------------------------------- TAP output

tap_count=0
tap_failed=0
tap_passed=0
tap_skipped=0

tap_begin()
{
	echo "TAP version 13"
}

# note MESSAGE...: a diagnostic line, never mistaken for a result.
note()
{
	local line

	while IFS= read -r line; do
		echo "# $line"
	done <<< "$*"
}

pass()
{
	tap_count=$((tap_count + 1))
	tap_passed=$((tap_passed + 1))
	echo "ok $tap_count - $1"
}

# fail DESCRIPTION [WHY...]: WHY is printed as diagnostics under the line.
fail()
{
	local desc=$1

	shift
	tap_count=$((tap_count + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_count - $desc"
	[ $# -gt 0 ] && note "$*"
	return 0
}

skip()
{
	tap_count=$((tap_count + 1))
	tap_skipped=$((tap_skipped + 1))
	echo "ok $tap_count - $1 # SKIP ${2:-}"
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check()
{
	local desc=$1 out rc

	shift
	trace_unless_function "$@"
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		pass "$desc"
		return 0
	fi
	fail "$desc" "exit $rc from: $*"$'\n'"$out"
	return 1
}

# check_fails DESCRIPTION COMMAND...: passes when COMMAND fails.
check_fails()
{
	local desc=$1 out rc

	shift
	trace_unless_function "$@"
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then
		pass "$desc"
		return 0
	fi
	fail "$desc" "unexpected success of: $*"$'\n'"$out"
	return 1
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq()
{
	if [ "$2" = "$3" ]; then
		pass "$1"
		return 0
	fi
	fail "$1" "expected '$2', got '$3'"
	return 1
}

# check_gt DESCRIPTION LIMIT ACTUAL: ACTUAL must be a number above LIMIT.
check_gt()
{
	if [[ "$3" =~ ^[0-9]+$ ]] && [ "$3" -gt "$2" ]; then
		pass "$1"
		return 0
	fi
	fail "$1" "expected a number above $2, got '$3'"
	return 1
}

# check_contains DESCRIPTION NEEDLE HAYSTACK
check_contains()
{
	if [[ "$3" == *"$2"* ]]; then
		pass "$1"
		return 0
	fi
	fail "$1" "expected to find '$2' in:"$'\n'"$3"
	return 1
}

# tap_end: the plan, a summary, and the kselftest exit status.
tap_end()
{
	echo "1..$tap_count"
	note "$TEST_NAME: pass $tap_passed fail $tap_failed skip $tap_skipped"
	if [ "$tap_failed" -gt 0 ]; then
		exit "$KSFT_FAIL"
	fi
	if [ "$tap_passed" -eq 0 ] && [ "$tap_skipped" -gt 0 ]; then
		exit "$KSFT_SKIP"
	fi
	exit "$KSFT_PASS"
}

# skip_all REASON: nothing in this script can run here.
skip_all()
{
	echo "1..0 # SKIP $*"
	exit "$KSFT_SKIP"
}

# ------------------------------------------------------ running and cleanup

trace()
{
	[ "$VERBOSE" = 1 ] && note "+ $*"
	return 0
}

# Our functions trace the commands they run themselves.
trace_unless_function()
{
	declare -F "$1" >/dev/null || trace "$@"
}

# run COMMAND...: run it, traced when VERBOSE=1.
run()
{
	trace "$@"
	"$@"
}

# in_ns NS COMMAND...: run COMMAND in namespace NS ("" is the initial one).
in_ns()
{
	local ns=$1

	shift
	if [ -n "$ns" ]; then
		run ip netns exec "$ns" "$@"
	else
		run "$@"
	fi
}

# Cleanup actions run last-in first-out when the script exits, whatever the
# reason, so a failed assertion never leaves state for the next script.
cleanup_actions=()
background_pids=()

defer()
{
	cleanup_actions+=("$*")
}

# descendants PID: every live process below PID, children first listed
# before theirs, from /proc (no ps with --ppid in a busybox guest).
descendants()
{
	local -A children=()
	local stat line pid ppid queue=("$1") found=()

	for stat in /proc/[0-9]*/stat; do
		# a process may end between the glob and the read
		{ read -r line <"$stat"; } 2>/dev/null || continue
		pid=${line%% *}
		# After the ")" closing the command name: state, then ppid.
		line=${line##*) }
		ppid=${line#* }
		ppid=${ppid%% *}
		children[$ppid]+=" $pid"
	done
	while [ ${#queue[@]} -gt 0 ]; do
		pid=${queue[0]}
		queue=("${queue[@]:1}")
		for ppid in ${children[$pid]:-}; do
			found+=("$ppid")
			queue+=("$ppid")
		done
	done
	echo "${found[@]}"
}

run_cleanup()
{
	local i pid leftovers

	# Everything this script started, including what a killed subshell
	# would leave orphaned (holding our stdout open for ever).
	leftovers=$(descendants $$)
	for pid in "${background_pids[@]}" $leftovers; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${background_pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	background_pids=()
	for ((i = ${#cleanup_actions[@]} - 1; i >= 0; i--)); do
		trace "${cleanup_actions[i]}"
		eval "${cleanup_actions[i]}" >/dev/null 2>&1
	done
	cleanup_actions=()
}

trap run_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# background VAR COMMAND...: start COMMAND in the background, store its pid
# in VAR; it is killed at exit if still running. Output goes where ours
# goes; for a redirection start it yourself and hand the pid to track_pid.
background()
{
	local -n pid_var=$1

	shift
	trace "$* &"
	"$@" &
	pid_var=$!
	background_pids+=("$pid_var")
}

track_pid()
{
	background_pids+=("$1")
}

# stop_background PID: kill and reap it now.
stop_background()
{
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# finish_receiver PID SENDER_STATUS: wait for a receiver whose sender
# succeeded (status 0); end one whose sender failed now, rather than let it
# wait out its deadline.
finish_receiver()
{
	if [ "$2" = 0 ]; then
		wait "$1"
	else
		stop_background "$1"
	fi
}

# scratch_dir VAR: a private temporary directory removed at exit.
scratch_dir()
{
	local -n dir_var=$1

	dir_var=$(mktemp -d "/tmp/$TEST_NAME.XXXXXX") || return 1
	# shellcheck disable=SC2016 # expanded now, on purpose
	defer "rm -rf '$dir_var'"
}

# ns_new VAR ROLE: create a namespace named after the test, the role and
# this shell, with lo up; removed at exit.
ns_new()
{
	local -n ns_var=$1
	local name="l3dsr-$TEST_NAME-$2-$$"

	run ip netns add "$name" || return 1
	defer "ip netns del '$name'"
	ip -n "$name" link set lo up
	ns_var=$name
}

# sysctl_set NS KEY=VALUE...: through /proc/sys, which shows the namespace
# of whoever opens it, so no sysctl program is needed in the guest.
sysctl_set()
{
	local ns=$1 setting path

	shift
	for setting in "$@"; do
		path=/proc/sys/${setting%%=*}
		path=${path//./\/}
		# shellcheck disable=SC2016 # expanded by the inner shell
		in_ns "$ns" bash -c 'printf "%s\n" "$2" > "$1"' _ \
			"$path" "${setting#*=}" || return 1
	done
}

# wait_until TIMEOUT_TENTHS COMMAND...: poll COMMAND every 0.1 s.
wait_until()
{
	local tries=$1

	shift
	while [ "$tries" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	return 1
}

listening()
{
	local ns=$1 proto=$2 port=$3 flag=t

	[ "$proto" = udp ] && flag=u
	in_ns "$ns" ss -Hln"$flag" "sport = :$port" 2>/dev/null | grep -q .
}

# wait_listener NS tcp|udp PORT: until something listens there (10 s).
wait_listener()
{
	if ! wait_until 100 listening "$@"; then
		note "nothing listens on $2 port $3 in '${1:-init}'"
		return 1
	fi
}

# --------------------------------------------------------------- counters

# nft_counter NS FAMILY TABLE COUNTER packets|bytes
nft_counter()
{
	in_ns "$1" nft -j list counter "$2" "$3" "$4" |
		jq -e ".nftables[] | select(.counter) | .counter.$5"
}

# l3dsr_stat NAME [NS]: one namespace counter, from l3dsrctl stats -j;
# for the initial namespace, from sysfs when the tool does not name it
# (a tool older than the module).
l3dsr_stat()
{
	local args=() value

	[ -n "${2:-}" ] && args=(-n "$2")
	if value=$(run "$L3DSRCTL" "${args[@]}" -j stats | jq -e ".$1"); then
		echo "$value"
		return 0
	fi
	[ -z "${2:-}" ] && cat "/sys/kernel/l3dsr/stats/$1" 2>/dev/null
}

# mapping_field inet|inet6 DSCP FIELD [NS]: one key of a show -j entry.
mapping_field()
{
	local args=()

	[ -n "${4:-}" ] && args=(-n "$4")
	run "$L3DSRCTL" "${args[@]}" -j show |
		jq -e --arg family "$1" --argjson dscp "$2" \
		".[] | select(.family == \$family and .dscp == \$dscp) | .$3"
}

# delta AFTER BEFORE: AFTER - BEFORE, or "unreadable" if either is not a
# number (a failed read must fail the assertion, not abort the script).
delta()
{
	if [[ "$1" =~ ^[0-9]+$ ]] && [[ "$2" =~ ^[0-9]+$ ]]; then
		echo $(($1 - $2))
	else
		echo "unreadable ('$1' - '$2')"
	fi
}

# sysfs_mapping_dir inet|inet6 DSCP
sysfs_mapping_dir()
{
	local family=ipv4

	[ "$1" = inet6 ] && family=ipv6
	echo "/sys/kernel/l3dsr/mappings/$family/$2"
}

# ------------------------------------------------------- preconditions

require_root()
{
	[ "$(id -u)" = 0 ] || skip_all "needs root"
}

require_cmds()
{
	local cmd

	for cmd in "$@"; do
		command -v "$cmd" >/dev/null || skip_all "needs $cmd"
	done
}

# require_l3dsr: the tool, the helper and a loadable module; with
# L3DSR_SELFTEST_BACKEND=nft, require_nft_backend's setting instead, so
# that a script written for the module runs on the nftables backend.
require_l3dsr()
{
	if [ "${L3DSR_SELFTEST_BACKEND:-}" = nft ]; then
		require_nft_backend
		return
	fi
	require_root
	require_cmds ip ss nft jq "$L3DSRCTL"
	[ -x "$PEER" ] || skip_all "needs $PEER (run make in selftests/)"
	modprobe l3dsr 2>/dev/null || [ -d /sys/kernel/l3dsr ] ||
		skip_all "the l3dsr module cannot be loaded"
	modprobe veth 2>/dev/null
	modprobe nf_tables 2>/dev/null
	return 0
}

# require_nft_backend: l3dsrctl on its nftables backend, as on a host where
# the module cannot be loaded: l3dsr.ko unloaded if an earlier script loaded
# it, and modprobe (the kernel's autoload included) told to refuse it until
# this script ends. Never insmod-ed here. nft_fib must be there, as the
# backend's rules use it.
readonly L3DSR_BLOCK_CONF=/etc/modprobe.d/l3dsr-selftest-absent.conf
require_nft_backend()
{
	require_root
	require_cmds ip ss nft jq "$L3DSRCTL"
	[ -x "$PEER" ] || skip_all "needs $PEER (run make in selftests/)"
	modprobe veth 2>/dev/null
	modprobe nf_tables 2>/dev/null
	modprobe nft_fib_inet 2>/dev/null
	if ! nft -f - >/dev/null 2>&1 <<-EOF; then
		table inet l3dsr_probe {
			chain c { fib daddr . mark . iif type local accept; }
		}
	EOF
		skip_all "nftables here has no fib expression (CONFIG_NFT_FIB_INET)"
	fi
	nft delete table inet l3dsr_probe
	if [ -d /sys/module/l3dsr ] && ! rmmod l3dsr 2>/dev/null; then
		skip_all "the l3dsr module is loaded and cannot be unloaded"
	fi
	if ! mkdir -p "${L3DSR_BLOCK_CONF%/*}" ||
		! echo "install l3dsr false" >"$L3DSR_BLOCK_CONF"; then
		skip_all "cannot keep modprobe from loading l3dsr"
	fi
	defer "rm -f $L3DSR_BLOCK_CONF"
	defer "$L3DSRCTL --backend nft flush; nft delete table inet l3dsr"
	return 0
}

# allow_module: modprobe may load l3dsr again (a switch to the module).
allow_module()
{
	rm -f "$L3DSR_BLOCK_CONF"
}

# netns_barrier: returns once every network namespace deleted before it
# was called has been dismantled, l3dsr's part of it included (its state
# is freed in its exit_batch). The kernel dismantles namespaces in runs of
# one work item on an ordered work queue, each run taking all those
# deleted until it starts, and only the runs' ends show from here: a
# namespace's veth leaves its peer in this one when its run has dismantled
# the namespace's devices. When the first probe's peer is gone, its run has
# begun, and everything deleted before it is in that run or an earlier one;
# the second probe, deleted then, waits for the next run, so when its peer
# is gone that run has ended. Seconds on the debug kernel; 2 minutes at
# most each.
netns_barrier()
{
	local ns=l3dsr-barrier-$$ peer=l3dsrb$$ round

	for round in 1 2; do
		ip netns add "$ns" || return 1
		if ! ip link add "$peer" type veth peer name eth0 netns "$ns"; then
			ip netns del "$ns"
			return 1
		fi
		ip netns del "$ns"
		wait_until 1200 bash -c "! ip link show dev $peer" || return 1
	done
}

# The module's live objects (debugfs l3dsr/objects), once the namespaces
# deleted until now are gone (netns_barrier): their teardown runs from a
# work queue and frees after RCU grace periods, seconds later on the debug
# kernel; then the counts are read until two readings a second apart agree
# (a minute at most). Nothing where the module has no such file.
readonly L3DSR_LIVE_OBJECTS=/sys/kernel/debug/l3dsr/objects
live_objects_settled()
{
	local last now tries=60

	[ -r "$L3DSR_LIVE_OBJECTS" ] || return 0
	netns_barrier >/dev/null 2>&1
	last=$(cat "$L3DSR_LIVE_OBJECTS" 2>/dev/null) || return 0
	while [ "$tries" -gt 0 ]; do
		sleep 1
		now=$(cat "$L3DSR_LIVE_OBJECTS")
		[ "$now" = "$last" ] && break
		last=$now
		tries=$((tries - 1))
	done
	echo "$last"
}

live_objects()
{
	cat "$L3DSR_LIVE_OBJECTS" 2>/dev/null
}

# check_live_objects DESCRIPTION BEFORE: the module's live objects come back
# to BEFORE (as live_objects_settled read them) once the namespaces deleted
# until now are gone, within a minute more; a skip where the module has no
# such file.
check_live_objects()
{
	local tries=600

	if [ -z "$2" ]; then
		skip "$1" "the module has no $L3DSR_LIVE_OBJECTS"
		return
	fi
	netns_barrier >/dev/null 2>&1
	while [ "$tries" -gt 0 ] && [ "$(live_objects)" != "$2" ]; do
		sleep 0.1
		tries=$((tries - 1))
	done
	check_eq "$1" "$2" "$(live_objects)"
}

# set_up STEP...: the script's first check. Runs each set-up step (a
# command without arguments) in order; if one fails, that is reported and
# the script ends, since nothing after it could mean anything.
set_up()
{
	local step

	for step in "$@"; do
		if ! "$step"; then
			fail "topology set up ($step failed)"
			tap_end
		fi
	done
	pass "topology set up"
}

# map_dscp_both: the server's table holds only DSCP -> VIP4 and DSCP -> VIP6
# (one check), and is emptied again at the end whatever happens.
map_dscp_both()
{
	run "$L3DSRCTL" flush
	defer "$L3DSRCTL flush"
	check "mappings DSCP $DSCP for both families" bash -c \
		"$L3DSRCTL add-mapping dscp $DSCP vip $VIP4 &&
		 $L3DSRCTL add-mapping dscp $DSCP vip $VIP6"
}

# ------------------------------------------------ the balancer topology
#
# Drawn at the top of l3dsr_e2e.sh. The router sends the VIP to the lb. The
# lb, stateless like a hardware balancer, marks DSCP 10, rewrites the
# destination to the RIP and hands the packet back to the router, which
# delivers it to the server (the initial namespace). The server answers from
# the VIP straight to the client through the router.

readonly VIP4=211.115.115.100
readonly VIP6=2001:db8:ffff::100
readonly RIP4=192.0.2.10
readonly RIP6=2001:db8:192::10
readonly RIP4_OTHER=192.0.2.11
readonly RIP6_OTHER=2001:db8:192::11
readonly CLIENT4=198.51.100.2
readonly CLIENT6=2001:db8:100::2
readonly DSCP=10
# DSCP 10 in the traffic class byte, for senders that bypass the lb.
readonly DSCP_TOS=0x28

NS_CLIENT=
NS_ROUTER=
NS_LB=
# The server's end of its link lives in the initial namespace; unique so a
# leftover from a killed run cannot collide.
SERVER_IF=l3dsr$$

# family_vars inet|inet6: VIP, RIP, RIP_OTHER and CLIENT of the family.
family_vars()
{
	if [ "$1" = inet ]; then
		VIP=$VIP4 RIP=$RIP4 RIP_OTHER=$RIP4_OTHER CLIENT=$CLIENT4
	else
		VIP=$VIP6 RIP=$RIP6 RIP_OTHER=$RIP6_OTHER CLIENT=$CLIENT6
	fi
}

# client_udp [udp-send options...] ADDR PORT: COUNT datagrams of
# UDP_PAYLOAD bytes from NS_CLIENT through the topology (l3dsr_peer), each
# answered; the end-to-end scripts set those.
client_udp()
{
	in_ns "$NS_CLIENT" "$PEER" -s "$UDP_PAYLOAD" -n "$COUNT" "$@"
}

# http_fetch ADDR: the client's GET of index.html on ADDR, port HTTP_PORT.
http_fetch()
{
	in_ns "$NS_CLIENT" timeout 10 busybox wget -q -Y off -O - \
		"http://$(url_host "$1"):$HTTP_PORT/index.html"
}

# ------------------------------------------ crowded hosts' set-ups
# The module's crowded-host tests and their nftables-backend twins build
# the same bridge (BR_IF, BR4/BR6, containers NS_A/NS_B at A4/A6, B4/B6)
# and the same VRF (VRF_IF, VRF_TABLE, the wire's server end enslaved);
# each script sets those names.

bridge_netfilter()
{
	sysctl_change net.bridge.bridge-nf-call-iptables=1 \
		net.bridge.bridge-nf-call-ip6tables=1
}

# container NS_VAR ROLE HOST_END ADDR4 ADDR6
container()
{
	local -n ns_ref=$1

	ns_new "$1" "$2" || return 1
	run ip link add "$3" type veth peer name eth0 netns "$ns_ref" &&
	defer "ip link del '$3'" &&
	run ip link set "$3" master "$BR_IF" &&
	run ip link set "$3" up &&
	run ip -n "$ns_ref" addr add "$4/24" dev eth0 &&
	run ip -n "$ns_ref" addr add "$5/64" dev eth0 nodad &&
	run ip -n "$ns_ref" link set eth0 up &&
	run ip -n "$ns_ref" route add default via "$BR4" &&
	run ip -n "$ns_ref" -6 route add default via "$BR6"
}

bridge_setup()
{
	run ip link add "$BR_IF" type bridge &&
	defer "ip link del '$BR_IF'" &&
	run ip addr add "$BR4"/24 dev "$BR_IF" &&
	run ip addr add "$BR6"/64 dev "$BR_IF" nodad &&
	run ip link set "$BR_IF" up || return 1
	container NS_A a "ba$$" "$A4" "$A6" &&
	container NS_B b "bb$$" "$B4" "$B6"
}

# bridge_servers_setup: UDP echo on container b's addresses and on the
# host's VIPs, ECHO_PORT, listening before it returns.
bridge_servers_setup()
{
	local addr
	# shellcheck disable=SC2034 # set through background's nameref
	local echo_pid

	# shellcheck disable=SC2153 # NS_B: the bridge scripts' container b
	for addr in "$B4" $B6; do
		background echo_pid in_ns "$NS_B" "$PEER" udp-echo "$addr" \
			"$ECHO_PORT"
	done
	for addr in "$VIP4" "$VIP6"; do
		background echo_pid "$PEER" udp-echo "$addr" "$ECHO_PORT"
	done
	wait_listener "$NS_B" udp "$ECHO_PORT" &&
	wait_listener "" udp "$ECHO_PORT"
}

# The wire (wire_setup), but the server's end in the VRF: enslaved first,
# addressed after, so its routes are made in the VRF's table.
vrf_setup()
{
	run ip link add "$VRF_IF" type vrf table "$VRF_TABLE" || return 1
	defer "ip link del '$VRF_IF'"
	run ip link set "$VRF_IF" up &&
	ns_new NS_WIRE wire &&
	run ip link add "$WIRE_IF" type veth peer name eth0 netns "$NS_WIRE" ||
		return 1
	defer "ip link del '$WIRE_IF'"
	run ip link set "$WIRE_IF" master "$VRF_IF" &&
	run ip link set "$WIRE_IF" up &&
	run ip addr add "$WIRE_SERVER4/24" dev "$WIRE_IF" &&
	run ip addr add "$WIRE_SERVER6/64" dev "$WIRE_IF" nodad &&
	run ip addr add "$VIP4/32" dev "$VRF_IF" &&
	run ip addr add "$VIP6/128" dev "$VRF_IF" nodad &&
	run ip -n "$NS_WIRE" addr add "$WIRE_PEER4/24" dev eth0 &&
	run ip -n "$NS_WIRE" addr add "$WIRE_PEER6/64" dev eth0 nodad &&
	run ip -n "$NS_WIRE" link set eth0 up || return 1
	WIRE_MAC=$(cat "/sys/class/net/$WIRE_IF/address")
}

# The VIP is routed in the VRF's table, not the main one.
vrf_routes()
{
	ip route show table "$VRF_TABLE" type local | grep -q "$VIP4" &&
	ip -6 route show table "$VRF_TABLE" type local | grep -q "$VIP6"
}

# A raw socket not bound to a device sees what a VRF delivers.
raw_sockets_see_vrf()
{
	sysctl_change net.ipv4.raw_l3mdev_accept=1
}

# url_host ADDR: ADDR as it goes in a URL.
url_host()
{
	case $1 in
	*:*) echo "[$1]" ;;
	*) echo "$1" ;;
	esac
}

forwarding_ns()
{
	sysctl_set "$1" net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0
}

# topo_setup: build the drawing above. Returns non-zero if any step failed.
topo_setup()
{
	ns_new NS_CLIENT client &&
	ns_new NS_ROUTER router &&
	ns_new NS_LB lb || return 1
	forwarding_ns "$NS_ROUTER" && forwarding_ns "$NS_LB" || return 1

	run ip -n "$NS_CLIENT" link add eth0 type veth \
		peer name r-client netns "$NS_ROUTER" &&
	run ip -n "$NS_LB" link add eth0 type veth \
		peer name r-lb netns "$NS_ROUTER" &&
	run ip link add "$SERVER_IF" type veth \
		peer name r-server netns "$NS_ROUTER" || return 1
	defer "ip link del '$SERVER_IF'"

	run ip -n "$NS_CLIENT" addr add $CLIENT4/24 dev eth0 &&
	run ip -n "$NS_CLIENT" addr add $CLIENT6/64 dev eth0 nodad &&
	run ip -n "$NS_ROUTER" addr add 198.51.100.1/24 dev r-client &&
	run ip -n "$NS_ROUTER" addr add 2001:db8:100::1/64 dev r-client nodad &&
	run ip -n "$NS_ROUTER" addr add 203.0.113.1/24 dev r-lb &&
	run ip -n "$NS_ROUTER" addr add 2001:db8:203::1/64 dev r-lb nodad &&
	run ip -n "$NS_ROUTER" addr add 192.0.2.1/24 dev r-server &&
	run ip -n "$NS_ROUTER" addr add 2001:db8:192::1/64 dev r-server nodad &&
	run ip -n "$NS_LB" addr add 203.0.113.2/24 dev eth0 &&
	run ip -n "$NS_LB" addr add 2001:db8:203::2/64 dev eth0 nodad &&
	run ip addr add $RIP4/24 dev "$SERVER_IF" &&
	run ip addr add $RIP4_OTHER/24 dev "$SERVER_IF" &&
	run ip addr add $RIP6/64 dev "$SERVER_IF" nodad &&
	run ip addr add $RIP6_OTHER/64 dev "$SERVER_IF" nodad || return 1

	run ip addr add $VIP4/32 dev lo &&
	defer "ip addr del $VIP4/32 dev lo" &&
	run ip addr add $VIP6/128 dev lo nodad &&
	defer "ip addr del $VIP6/128 dev lo" || return 1

	local ns dev
	for ns in "$NS_CLIENT:eth0" "$NS_LB:eth0" "$NS_ROUTER:r-client" \
		  "$NS_ROUTER:r-lb" "$NS_ROUTER:r-server"; do
		dev=${ns#*:}
		run ip -n "${ns%%:*}" link set "$dev" up || return 1
	done
	run ip link set "$SERVER_IF" up || return 1

	run ip -n "$NS_CLIENT" route add default via 198.51.100.1 &&
	run ip -n "$NS_CLIENT" -6 route add default via 2001:db8:100::1 &&
	run ip -n "$NS_LB" route add default via 203.0.113.1 &&
	run ip -n "$NS_LB" -6 route add default via 2001:db8:203::1 &&
	run ip -n "$NS_ROUTER" route add $VIP4/32 via 203.0.113.2 &&
	run ip -n "$NS_ROUTER" -6 route add $VIP6/128 via 2001:db8:203::2 &&
	run ip route add 198.51.100.0/24 via 192.0.2.1 dev "$SERVER_IF" &&
	run ip -6 route add 2001:db8:100::/64 via 2001:db8:192::1 \
		dev "$SERVER_IF" || return 1

	lb_rules && router_rules && server_rules
}

# The lb's whole job, stateless: no conntrack, so it can only see requests.
# to_vip counts requests before the rewrite; from_vip would count any reply
# that came back through the lb, which direct server return must keep at 0.
lb_rules()
{
	in_ns "$NS_LB" nft -f - <<-EOF
	table inet l3dsr_lb {
		counter to_vip4 { }
		counter to_vip6 { }
		counter from_vip4 { }
		counter from_vip6 { }
		chain prerouting {
			type filter hook prerouting priority raw; policy accept;
			ip saddr $VIP4 counter name from_vip4
			ip6 saddr $VIP6 counter name from_vip6
			ip daddr $VIP4 counter name to_vip4 ip dscp set $DSCP ip daddr set $RIP4
			ip6 daddr $VIP6 counter name to_vip6 ip6 dscp set $DSCP ip6 daddr set $RIP6
		}
	}
	EOF
}

# The router counts replies arriving from the server's side.
router_rules()
{
	in_ns "$NS_ROUTER" nft -f - <<-EOF
	table inet l3dsr_router {
		counter replies4 { }
		counter replies6 { }
		chain forward {
			type filter hook forward priority filter; policy accept;
			iifname "r-server" ip saddr $VIP4 counter name replies4
			iifname "r-server" ip6 saddr $VIP6 counter name replies6
		}
	}
	EOF
}

# The server counts, after l3dsr has run (-310), the DSCP packets to the
# VIP carry, to see what clear-dscp did.
server_rules()
{
	run nft -f - <<-EOF || return 1
	table inet l3dsr_server {
		counter dscp0_4 { }
		counter dscp10_4 { }
		counter dscp0_6 { }
		counter dscp10_6 { }
		chain prerouting {
			type filter hook prerouting priority filter; policy accept;
			ip daddr $VIP4 ip dscp 0 counter name dscp0_4
			ip daddr $VIP4 ip dscp $DSCP counter name dscp10_4
			ip6 daddr $VIP6 ip6 dscp 0 counter name dscp0_6
			ip6 daddr $VIP6 ip6 dscp $DSCP counter name dscp10_6
		}
	}
	EOF
	defer "nft delete table inet l3dsr_server"
}

# ------------------------------------------- stack counters and offloads

# mib NS NAME: one of the namespace's SNMP counters as nstat names them
# (IpInHdrErrors, Udp6InErrors, ...), absolute; 0 when the kernel has none.
mib()
{
	in_ns "$1" nstat -saz "$2" 2>/dev/null |
		awk -v name="$2" '$1 == name { value = $2 }
				  END { print value + 0 }'
}

# csum_errors NS: every *InCsumErrors counter of the namespace, as
# "Name=value" words, the nonzero ones only ("" when all are 0).
csum_errors()
{
	in_ns "$1" nstat -saz 2>/dev/null |
		awk '$1 ~ /InCsumErrors$/ && $2 != 0 { printf "%s=%s ", $1, $2 }'
}

# stats_snapshot: every l3dsr counter of the server (the initial namespace)
# as "name=value" words, in the tool's order, for stats_delta; then, from
# sysfs, those of STAT_NAMES the tool does not name.
stats_snapshot()
{
	local words name value

	words=$(run "$L3DSRCTL" -j stats |
		jq -r 'to_entries | map("\(.key)=\(.value)") | join(" ")')
	for name in "${STAT_NAMES[@]}"; do
		[[ " $words" == *" $name="* ]] && continue
		value=$(cat "/sys/kernel/l3dsr/stats/$name" 2>/dev/null) &&
			words+=" $name=$value"
	done
	echo "${words# }"
}

# ns_stats_snapshot NS: stats_snapshot of namespace NS, from the tool
# alone (sysfs shows the initial namespace only).
ns_stats_snapshot()
{
	run "$L3DSRCTL" -n "$1" -j stats |
		jq -r 'to_entries | map("\(.key)=\(.value)") | join(" ")'
}

# stats_delta BEFORE AFTER: the counters that moved between two snapshots,
# "name=+N" words in the snapshots' order, or "none".
stats_delta()
{
	local -A before=()
	local word name out=

	for word in $1; do
		before[${word%%=*}]=${word#*=}
	done
	for word in $2; do
		name=${word%%=*}
		if [ "${before[$name]:-}" != "${word#*=}" ]; then
			out+="$name=+$(delta "${word#*=}" "${before[$name]:-}") "
		fi
	done
	out=${out% }
	echo "${out:-none}"
}

# offload NS DEV FEATURE on|off: through ethtool -K; says so when the
# device refuses, since a test would then measure something else.
offload()
{
	if ! in_ns "$1" ethtool -K "$2" "$3" "$4" >/dev/null 2>&1; then
		note "ethtool -K $2 $3 $4 failed in '${1:-init}'"
		return 1
	fi
}

# ------------------------------------------------------ the wire topology
#
#  +------------------------+            +------------------------------+
#  | wire (crafts frames)   |            | server = the initial ns      |
#  |  eth0 198.18.0.2/24    +------------+ wNNN 198.18.0.1/24           |
#  |  2001:db8:18::2/64     |            |  2001:db8:18::1/64           |
#  +------------------------+            | lo: VIP4, VIP6               |
#                                        +------------------------------+
#
# For frames whose every byte a test chooses: l3dsr_wire writes them on the
# wire's eth0 to WIRE_MAC, the server's end.

readonly WIRE_SERVER4=198.18.0.1
readonly WIRE_PEER4=198.18.0.2
readonly WIRE_SERVER6=2001:db8:18::1
readonly WIRE_PEER6=2001:db8:18::2
NS_WIRE=
WIRE_IF=w$$
WIRE_MAC=

# wire_setup: build it.
wire_setup()
{
	ns_new NS_WIRE wire || return 1
	run ip link add "$WIRE_IF" type veth peer name eth0 netns "$NS_WIRE" ||
		return 1
	defer "ip link del '$WIRE_IF'"
	run ip addr add $WIRE_SERVER4/24 dev "$WIRE_IF" &&
	run ip addr add $WIRE_SERVER6/64 dev "$WIRE_IF" nodad &&
	run ip -n "$NS_WIRE" addr add $WIRE_PEER4/24 dev eth0 &&
	run ip -n "$NS_WIRE" addr add $WIRE_PEER6/64 dev eth0 nodad &&
	run ip link set "$WIRE_IF" up &&
	run ip -n "$NS_WIRE" link set eth0 up || return 1
	WIRE_MAC=$(cat "/sys/class/net/$WIRE_IF/address")
}

# vips_on_lo: the VIPs on the server's lo, for tests without topo_setup.
vips_on_lo()
{
	run ip addr add $VIP4/32 dev lo &&
	defer "ip addr del $VIP4/32 dev lo" &&
	run ip addr add $VIP6/128 dev lo nodad &&
	defer "ip addr del $VIP6/128 dev lo"
}

# wire_send SHAPE inet|inet6 COUNT PORT [DST]: COUNT crafted frames of that
# shape, DSCP 10 (or the whole TOS / traffic class in WIRE_TOS), from the
# wire to DST (default the server's address on the wire).
wire_send()
{
	local shape=$1 src=$WIRE_PEER4 dst=${5:-$WIRE_SERVER4}

	if [ "$2" = inet6 ]; then
		src=$WIRE_PEER6
		dst=${5:-$WIRE_SERVER6}
	fi
	in_ns "$NS_WIRE" "$WIRE" -t "${WIRE_TOS:-$DSCP_TOS}" -n "$3" \
		send eth0 "$WIRE_MAC" \
		"$shape" "$src" "$dst" "$4"
}

# ----------------------------------------------------- crowded hosts
#
# Helpers for the l3dsr_crowded_*.sh tests: hosts that bridge, route, use
# VRFs and let unprivileged users make namespaces.

# sysctl_change KEY=VALUE...: set in the initial namespace; the old value
# is put back at exit.
sysctl_change()
{
	local setting path old

	for setting in "$@"; do
		path=/proc/sys/${setting%%=*}
		path=${path//./\/}
		old=$(cat "$path") || return 1
		defer "printf '%s\\n' '$old' > '$path'"
		sysctl_set "" "$setting" || return 1
	done
}

# source_balancer NS VIP4 RIP4 VIP6 RIP6: the balancer's stateless job done
# on the way out of NS: a request to a VIP leaves marked with DSCP 10 and
# addressed to the RIP, so a client needs no balancer of its own. The
# server answers from the VIP, as the client's socket (connected to the
# VIP) expects. Only TCP and UDP, as a balancer's services: an ICMP error
# the client sends about a reply stays as it is. Counter to_vip of tables
# ip and ip6 l3dsr_source_lb counts the requests.
source_balancer()
{
	in_ns "$1" nft -f - <<-EOF
	table ip l3dsr_source_lb {
		counter to_vip { }
		chain output {
			type route hook output priority mangle; policy accept;
			ip daddr $2 meta l4proto { tcp, udp } counter name to_vip ip dscp set $DSCP ip daddr set $3
		}
	}
	table ip6 l3dsr_source_lb {
		counter to_vip { }
		chain output {
			type route hook output priority mangle; policy accept;
			ip6 daddr $4 meta l4proto { tcp, udp } counter name to_vip ip6 dscp set $DSCP ip6 daddr set $5
		}
	}
	EOF
}

# balanced NS inet|inet6: requests source_balancer has sent from NS so far.
balanced()
{
	local table=ip

	[ "$2" = inet6 ] && table=ip6
	nft_counter "$1" "$table" l3dsr_source_lb to_vip packets ||
		echo unreadable
}

# mark_counters NS: count what NS sends with DSCP 10, whatever sends it;
# read with marked.
mark_counters()
{
	in_ns "$1" nft -f - <<-EOF
	table inet l3dsr_marked {
		counter marked4 { }
		counter marked6 { }
		chain output {
			type filter hook output priority filter; policy accept;
			ip dscp $DSCP counter name marked4
			ip6 dscp $DSCP counter name marked6
		}
	}
	EOF
}

# marked NS inet|inet6: packets NS has sent with DSCP 10 so far.
marked()
{
	local af=4

	[ "$2" = inet6 ] && af=6
	nft_counter "$1" inet l3dsr_marked "marked$af" packets ||
		echo unreadable
}

# now_us: microseconds since the epoch, without starting a program.
now_us()
{
	local t=$EPOCHREALTIME

	echo "${t//[.,]/}"
}

# ms_between START_US END_US: the milliseconds between two now_us.
ms_between()
{
	echo $((($2 - $1) / 1000))
}

# as_tenant COMMAND...: COMMAND as an unprivileged user (nobody) in a user
# and a network namespace of its own, as any user of a container host may
# make them (unshare -Urn).
as_tenant()
{
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		unshare -Urn "$@"
}

# tenants_allowed: whether as_tenant works on this kernel.
tenants_allowed()
{
	as_tenant true >/dev/null 2>&1
}

# meminfo_kb NAME: one field of /proc/meminfo, in kB.
meminfo_kb()
{
	awk -v name="$1:" '$1 == name { print $2 }' /proc/meminfo
}

# wire_recv_start SHAPE COUNT ADDR_A ADDR_B OUT: l3dsr_wire recv in the
# initial namespace (the server), writing to OUT; returns once it listens.
# wire_recv_result OUT then waits (30 s at most) for its verdict, "ADDR_A
# N ADDR_B M bad K", and prints it. It stops after COUNT packets or
# WIRE_RECV_IDLE ms (default 5000: a sender may be slow to start on a
# loaded machine) without one.
WIRE_RECV_PID=
wire_recv_start()
{
	trace "$WIRE -n $2 -r ${WIRE_RECV_IDLE:-5000} recv $1 $3 $4 &"
	"$WIRE" -n "$2" -r "${WIRE_RECV_IDLE:-5000}" recv "$1" "$3" "$4" \
		>"$5" 2>&1 &
	WIRE_RECV_PID=$!
	track_pid "$WIRE_RECV_PID"
	if ! wait_until 100 grep -q '^ready$' "$5"; then
		note "l3dsr_wire recv $1 did not start: $(cat "$5")"
		return 1
	fi
}

wire_recv_result()
{
	# Often called in a command substitution, whose subshell cannot wait
	# for our child: the verdict, the line after "ready", tells instead.
	wait_until 300 recv_done "$1"
	tail -n 1 "$1"
}

recv_done()
{
	[ "$(wc -l <"$1")" -ge 2 ]
}
