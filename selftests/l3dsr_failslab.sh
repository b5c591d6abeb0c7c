#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Allocation failure on every path: each allocation a request makes is made
# to fail in turn (the kernel's per-task fail-nth: n = 1, 2, ... until the
# request no longer reaches the n-th fault point), for every netlink
# command, for the making of a namespace and for the loading of the module.
# Needs CONFIG_FAULT_INJECTION_DEBUG_FS and CONFIG_FAILSLAB (and uses
# CONFIG_FAIL_PAGE_ALLOC where there is one); skips elsewhere.
#
# l3dsr_nlreq sends each request in one system call right after setting
# /proc/thread-self/fail-nth (see there why l3dsrctl cannot be made to).
# failslab (and fail_page_alloc) are set to fail only on fail-nth's word
# (probability 0, task-filter on), quietly (verbose 0: a forced failure
# would otherwise print a stack trace), and GFP_KERNEL allocations too
# (ignore-gfp-wait off); all is put back at the end.
#
# For each injected failure of a netlink command:
#   - the command fails with ENOMEM (ENOBUFS when the request's own buffer
#     could not be had) and the table and counters are exactly as before
#     (save, show -j but for packet counters, stats -j); or
#   - the command succeeds, the failure being one it may shrug off (a
#     notification, a sysfs directory), and the table is what the command
#     makes when nothing fails; or
#   - the answer is lost (the kernel had no memory for the ack), and the
#     table is either of those, never a mix;
# and the next command (the reads above) succeeds. Where the kernel has the
# fault-injection call-stack filter (the debug kernel), a command's sweep
# fails only allocations made with l3dsr's code on the stack, and each
# ENOMEM must then carry the module's extack message naming what it could
# not allocate.
# Making a namespace and giving it its first mapping (with the call-stack
# filter only): it fails with ENOMEM and the module's message, or it works
# and the module serves it. Loading the module: it fails leaving nothing
# behind, or it works.
#
#  initial namespace: the table under test (its sysfs directories too), a
#  monitor subscribed so that changes allocate their notifications
#  +-----------------------------+
#  | big: the 126-mapping table  |  (no sysfs and no monitor: a namespace
#  |                             |   of its own, so the sweep stays short)
#  +-----------------------------+
#
# Each command's count of fault points and how each failure went is
# printed as a diagnostic; FAILSLAB_MAX bounds a sweep (default 5000).

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly NLREQ="$SELFTESTS_DIR/l3dsr_nlreq"
readonly MAX=${FAILSLAB_MAX:-5000}
# The big tables' sweeps fail every FAILSLAB_BIG_STEP-th allocation, then
# each of the last ones (their allocations are the same few, 126 times
# over); 1, the default, fails every one.
readonly BIG_STEP=${FAILSLAB_BIG_STEP:-1}
# The load's sweep fails every FAILSLAB_LOAD_STEP-th allocation, then each of
# the last ones: a load and an unload take several seconds where kobjects
# are released late (DEBUG_KOBJECT_RELEASE); 1, the default, fails every one.
readonly LOAD_STEP=${FAILSLAB_LOAD_STEP:-1}
readonly DEBUGFS=/sys/kernel/debug

require_l3dsr
require_cmds rmmod modinfo
[ -x "$NLREQ" ] || skip_all "needs $NLREQ (run make in selftests/)"
[ -d "$DEBUGFS/failslab" ] ||
	skip_all "no $DEBUGFS/failslab: the kernel lacks CONFIG_FAILSLAB or CONFIG_FAULT_INJECTION_DEBUG_FS"
[ -e /proc/thread-self/fail-nth ] ||
	skip_all "no /proc/thread-self/fail-nth: the kernel lacks CONFIG_FAULT_INJECTION"
tap_begin
scratch_dir TMP || skip_all "cannot create a scratch directory"
for step in "$BIG_STEP" "$LOAD_STEP"; do
	if ! [[ "$step" =~ ^[1-9][0-9]*$ ]]; then
		fail "FAILSLAB_BIG_STEP and FAILSLAB_LOAD_STEP are positive numbers" \
			"not '$step'"
		tap_end
	fi
done

# ------------------------------------------------------ fault injection

# inject_set FAULT KNOB VALUE: set one knob, remembering its old value.
inject_set()
{
	local file=$DEBUGFS/$1/$2 old

	[ -e "$file" ] || return 0
	old=$(cat "$file")
	# shellcheck disable=SC2016 # expanded now, on purpose
	defer "echo '$old' > '$file'"
	echo "$3" >"$file"
}

inject_setup()
{
	local fault

	for fault in failslab fail_page_alloc; do
		[ -d "$DEBUGFS/$fault" ] || continue
		inject_set "$fault" probability 0 &&
		inject_set "$fault" interval 1 &&
		inject_set "$fault" times -1 &&
		inject_set "$fault" space 0 &&
		inject_set "$fault" verbose 0 &&
		inject_set "$fault" task-filter Y &&
		inject_set "$fault" ignore-gfp-wait N || return 1
	done
	inject_set failslab cache-filter N
}

# Where the kernel has the call-stack filter, the netlink commands' sweeps
# fail only what is allocated on l3dsr's behalf (its code on the stack):
# every such failure must then say what it was in an extack message, and
# the sweep leaves alone what genetlink and netlink allocate before and
# after the module's part; so does the namespace's (see sweep_netns). The
# load's fails what is allocated under do_init_module (the module's init).
SCOPED=0
[ -e "$DEBUGFS/failslab/require-start" ] && SCOPED=1

# The module's code: from its first function to a little past its last.
module_text()
{
	awk '$4 == "[l3dsr]" && ($2 == "t" || $2 == "T") { print $1 }' \
		/proc/kallsyms | sort | sed -n '1p;$p' | tr '\n' ' '
}

# fail_within START END: fail only allocations with a return address in
# [START, END) among the 32 innermost frames.
fail_within()
{
	local fault

	for fault in failslab fail_page_alloc; do
		[ -e "$DEBUGFS/$fault/require-start" ] || continue
		echo 32 >"$DEBUGFS/$fault/stacktrace-depth" &&
		echo "$1" >"$DEBUGFS/$fault/require-start" &&
		echo "$2" >"$DEBUGFS/$fault/require-end" || return 1
	done
}

scope_to_module()
{
	local first last

	read -r first last <<< "$(module_text)"
	[ -n "$last" ] || return 1
	fail_within "0x$first" "$(printf '0x%x' $((0x$last + 16384)))"
}

scope_to_all()
{
	fail_within 0 0xffffffffffffffff
}

scope_setup()
{
	local fault knob

	[ "$SCOPED" = 1 ] || return 0
	for fault in failslab fail_page_alloc; do
		for knob in stacktrace-depth require-start require-end; do
			inject_set "$fault" "$knob" "$(cat "$DEBUGFS/$fault/$knob" 2>/dev/null)"
		done
	done
	scope_to_module
}

# ------------------------------------------------------------- the state

NS_BIG=
# state NS: what must not change when a command fails: every attribute of
# every mapping, counters included, and every namespace counter, read by
# l3dsr_nlreq in one process (a sweep reads it hundreds of times, and
# programs start slowly on the debug kernel under emulation).
state()
{
	local args=()

	[ -n "$1" ] && args=(-N "$1")
	"$NLREQ" "${args[@]}" state
}

# tool_state NS: the same as l3dsrctl says it, before and after a sweep.
tool_state()
{
	local args=()

	[ -n "$1" ] && args=(-n "$1")
	"$L3DSRCTL" "${args[@]}" save &&
	"$L3DSRCTL" "${args[@]}" -j show | jq -c 'map(del(.packets, .bytes))' &&
	"$L3DSRCTL" "${args[@]}" -j stats
}

# restore NS TABLE: make NS's table the entries of the array named TABLE
# (l3dsr_nlreq's SET_TABLE: after every failure shrugged off, so often).
restore()
{
	local args=()
	local -n entries=$2

	[ -n "$1" ] && args=(-N "$1")
	"$NLREQ" "${args[@]}" table "${entries[@]}" >/dev/null
}

start_monitor()
{
	local args=() pid

	[ -n "$1" ] && args=(-n "$1")
	"$L3DSRCTL" "${args[@]}" monitor >/dev/null 2>&1 &
	pid=$!
	track_pid "$pid"
	MONITORS+=("$pid")
}

stop_monitors()
{
	local pid

	for pid in "${MONITORS[@]}"; do
		stop_background "$pid"
	done
	MONITORS=()
}

MONITORS=()
TOTAL_INJECTED=0

# --------------------------------------------------------- one command
#
# sweep NAME NS BEFORE NLREQ_ARGS...: restore the table to the entries of
# the array named BEFORE, run the request once cleanly to learn the table
# it makes, then with every fault point failing in turn.

sweep()
{
	local name=$1 ns=$2 table=$3 before after now out rc n points=
	local enomem=0 enobufs=0 with_msg=0 tolerated=0 lost=0 bad=0 tool_before
	local detail='' dirty=1 step=${SWEEP_STEP:-1} sampled=
	local -a netns=()

	shift 3
	[ -n "$ns" ] && netns=(-N "$ns")

	if ! restore "$ns" "$table" >/dev/null || ! before=$(state "$ns") ||
	   ! tool_before=$(tool_state "$ns"); then
		fail "$name: the table before" "cannot be made"
		return
	fi
	if ! out=$("$NLREQ" "${netns[@]}" "$@" 2>&1); then
		fail "$name: the command works when nothing fails" "$out"
		return
	fi
	after=$(state "$ns")

	for ((n = 1; n <= MAX; n += step)); do
		if [ "$dirty" = 1 ]; then
			restore "$ns" "$table" >/dev/null
			now=$(state "$ns")
			if [ "$now" != "$before" ]; then
				bad=$((bad + 1))
				detail+="n=$n: the table could not be restored"$'\n'
				break
			fi
			dirty=0
		fi
		out=$("$NLREQ" "${netns[@]}" -F "$n" "$@" 2>&1)
		rc=$?
		if ! now=$(state "$ns"); then
			bad=$((bad + 1))
			detail+="n=$n: the next command failed: $now"$'\n'
			dirty=1
			continue
		fi
		if [[ "$out" == *"fail-nth unused"* ]]; then
			if [ "$rc" != 0 ] || [ "$now" != "$after" ]; then
				bad=$((bad + 1))
				detail+="n=$n, nothing injected: exit $rc, $out"$'\n'
			fi
			if [ "$step" -gt 1 ]; then
				# past the end by strides: the last stride point by point
				sampled="every ${step}th, and each of the last $step,"
				n=$((n > step ? n - step : 0))
				step=1
				dirty=1
				continue
			fi
			points=$((n - 1))
			break
		fi
		if [[ "$out" != *"fail-nth injected"* ]]; then
			bad=$((bad + 1))
			detail+="n=$n: exit $rc: $out"$'\n'
			dirty=1
			continue
		fi
		case $rc in
		0)
			tolerated=$((tolerated + 1))
			if [ "$now" != "$after" ]; then
				bad=$((bad + 1))
				detail+="n=$n: succeeded, but the table is not what it makes"$'\n'
			fi
			;;
		1)
			if [[ "$out" == *"error ENOMEM"* ]]; then
				enomem=$((enomem + 1))
				if [[ "$out" == *"Cannot allocate memory: l3dsr: "* ]]; then
					with_msg=$((with_msg + 1))
				elif [ "$SCOPED" = 1 ]; then
					bad=$((bad + 1))
					detail+="n=$n: ENOMEM without a message: $out"$'\n'
				fi
			elif [[ "$out" == *"error ENOBUFS"* ]]; then
				enobufs=$((enobufs + 1))
			else
				bad=$((bad + 1))
				detail+="n=$n: not ENOMEM: $out"$'\n'
			fi
			if [ "$now" != "$before" ]; then
				bad=$((bad + 1))
				detail+="n=$n: failed, but the table changed: $out"$'\n'
			fi
			;;
		3)
			lost=$((lost + 1))
			if [ "$now" != "$before" ] && [ "$now" != "$after" ]; then
				bad=$((bad + 1))
				detail+="n=$n: answer lost, and the table is neither before nor after"$'\n'
			fi
			;;
		*)
			bad=$((bad + 1))
			detail+="n=$n: exit $rc: $out"$'\n'
			;;
		esac
		[ "$now" != "$before" ] && dirty=1
	done

	restore "$ns" "$table" >/dev/null
	if [ "$(tool_state "$ns")" != "$tool_before" ]; then
		bad=$((bad + 1))
		detail+="l3dsrctl save, show -j or stats -j differ after the sweep"$'\n'
	fi
	note "$name: ${points:-more than $MAX} fault points: ENOMEM $enomem ($with_msg with a message), ENOBUFS $enobufs, shrugged off $tolerated, answer lost $lost"
	TOTAL_INJECTED=$((TOTAL_INJECTED + enomem + enobufs + tolerated + lost))
	if [ -z "$points" ]; then
		fail "$name: every allocation failed in turn, cleanly" \
			"still reaching fault point $MAX"$'\n'"$detail"
	elif [ "$bad" != 0 ]; then
		fail "$name: every allocation failed in turn, cleanly" \
			"$(head -n 10 <<< "$detail")"
	else
		pass "$name: ${sampled:-every one} of its $points allocations failed in turn, cleanly"
	fi
}

# ------------------------------------------------------- the namespace

# netns_points: fault points of making a namespace (nothing injected).
netns_points()
{
	local out

	out=$("$NLREQ" -F 1000000 netns 2>&1)
	[[ "$out" =~ unused,\ ([0-9]+)\ points ]] && echo "${BASH_REMATCH[1]}"
}

module_loaded()
{
	grep -q '^l3dsr ' /proc/modules
}

sysfs_gone()
{
	[ ! -e /sys/kernel/l3dsr ] && [ ! -e /sys/module/l3dsr ]
}

# unload: no monitor left, and the sysfs directories really gone (a kernel
# with CONFIG_DEBUG_KOBJECT_RELEASE removes them seconds later), so that
# a load fails for the fault injected and not for that.
unload()
{
	stop_monitors
	rmmod l3dsr 2>/dev/null
	! module_loaded && wait_until 100 sysfs_gone
}

# A namespace costs l3dsr nothing until its first mapping: its pernet
# operations have no init, only the kernel's allocation of their pointer,
# and are registered among the subsystems, before every device's (loopback,
# sit and the others). The namespace's sweep therefore fails, with the
# call-stack filter, each allocation of l3dsr's in making a namespace and
# giving it its first mapping, which makes the module's state for it.
# Without the filter it would fail the devices' registrations too, whose
# error paths are the kernel's (and under DEBUG_KOBJECT_RELEASE report
# themselves), so it is not run.
sweep_netns()
{
	local counted points='' n out rc bad=0 enomem=0 served=0 detail=''

	if [ "$SCOPED" != 1 ]; then
		skip "netns: each of l3dsr's allocations in making a namespace failed in turn" \
			"needs the call-stack filter"
		return
	fi
	if ! scope_to_module || ! counted=$(netns_points) ||
	   ! [ "${counted:-0}" -gt 0 ]; then
		fail "netns: the fault points of making a namespace counted"
		scope_to_all
		return
	fi
	# the count may vary a little from one namespace to the next: room
	for ((n = 1; n <= 2 * counted + 8; n++)); do
		out=$("$NLREQ" -F "$n" netns 2>&1)
		rc=$?
		if [[ "$out" == *"fail-nth unused"* ]]; then
			if [ "$rc" != 0 ] || [[ "$out" != *"new namespace served"* ]]; then
				bad=$((bad + 1))
				detail+="n=$n, nothing injected: exit $rc: $out"$'\n'
			fi
			points=$((n - 1))
			break
		fi
		TOTAL_INJECTED=$((TOTAL_INJECTED + 1))
		if [ "$rc" = 0 ] && [[ "$out" == *"new namespace served"* ]]; then
			served=$((served + 1))
		elif [ "$rc" = 1 ] &&
		     [[ "$out" == *"error ENOMEM: Cannot allocate memory: l3dsr: "* ]] &&
		     [[ "$out" != *"new namespace served"* ]]; then
			enomem=$((enomem + 1))
		else
			bad=$((bad + 1))
			detail+="n=$n: exit $rc: $out"$'\n'
		fi
	done
	scope_to_all
	note "netns: ${points:-more than $((2 * counted + 8))} fault points ($counted when counted): ENOMEM with a message $enomem, shrugged off $served"
	if [ "${points:-0}" -gt 0 ] && [ "$bad" = 0 ]; then
		pass "netns: each of l3dsr's $points allocations in making a namespace and its first mapping failed in turn, cleanly"
	else
		fail "netns: each of l3dsr's allocations in making a namespace failed in turn, cleanly" \
			"$(head -n 10 <<< "$detail")"
	fi
	check "netns: a namespace made afterwards is served" \
		"$NLREQ" netns
	check_live_objects "netns: the module's live objects are what they were" \
		"$OBJECTS_BEFORE"
}

# ------------------------------------------------------------- the load

# function_range NAME: "START END" of a kernel function: its address and
# the next symbol's.
function_range()
{
	sort /proc/kallsyms | awk -v f="$1" '
		found { print "0x" start, "0x" $1; exit }
		NF == 3 && ($3 == f || index($3, f ".") == 1) {
			start = $1; found = 1
		}'
}

sweep_load()
{
	local ko n out rc points='' bad=0 failed=0 loaded=0 detail='' dep
	local range='' step=$LOAD_STEP sampled=''

	ko=$(modinfo -n l3dsr 2>/dev/null)
	if [ -z "$ko" ] || ! unload; then
		fail "load: the module unloads before the sweep"
		modprobe l3dsr
		return
	fi
	for dep in $(modinfo -F depends l3dsr | tr ',' ' '); do
		modprobe "$dep"
	done
	# With the call-stack filter, what the module's init allocates (under
	# do_init_module), not the loader's reading and checking of the file.
	if [ "$SCOPED" = 1 ] && range=$(function_range do_init_module) &&
	   [ -n "$range" ]; then
		# shellcheck disable=SC2086 # two words
		fail_within $range || range=
		note "load: failing what do_init_module allocates ($range)"
	fi

	for ((n = 1; n <= MAX; n += step)); do
		out=$("$NLREQ" -F "$n" load "$ko" 2>&1)
		rc=$?
		if [[ "$out" == *"fail-nth unused"* ]]; then
			if [ "$rc" != 0 ] || ! module_loaded; then
				bad=$((bad + 1))
				detail+="n=$n, nothing injected: $out"$'\n'
			fi
			if [ "$step" -gt 1 ]; then
				# past the end by strides: the last stride point by point
				if ! module_loaded || ! unload; then
					bad=$((bad + 1))
					detail+="n=$n: the module does not unload"$'\n'
					break
				fi
				sampled="every ${step}th, and each of the last $step, of"
				n=$((n > step ? n - step : 0))
				step=1
				continue
			fi
			points=$((n - 1))
			break
		fi
		if [ "$rc" = 0 ]; then
			# loaded all the same: it must work, then go
			loaded=$((loaded + 1))
			if ! module_loaded || ! out=$("$L3DSRCTL" show 2>&1); then
				bad=$((bad + 1))
				detail+="n=$n: loaded, but does not work: $out"$'\n'
			fi
		elif [ "$rc" = 1 ]; then
			failed=$((failed + 1))
			if module_loaded || ! wait_until 100 sysfs_gone; then
				bad=$((bad + 1))
				detail+="n=$n: the failed load left the module or its sysfs behind: $out"$'\n'
			fi
		else
			bad=$((bad + 1))
			detail+="n=$n: exit $rc: $out"$'\n'
		fi
		if module_loaded && ! unload; then
			bad=$((bad + 1))
			detail+="n=$n: the module does not unload"$'\n'
			break
		fi
	done
	[ -n "$range" ] && scope_to_all
	TOTAL_INJECTED=$((TOTAL_INJECTED + failed + loaded))
	note "load: ${points:-more than $MAX} fault points: refused $failed times, loaded all the same $loaded times"
	if [ -n "$points" ] && [ "$bad" = 0 ]; then
		pass "load: ${sampled:-every one of} its $points allocations failed in turn, cleanly"
	else
		fail "load: every allocation failed in turn, cleanly" \
			"$(head -n 10 <<< "$detail")"
	fi
	module_loaded || modprobe l3dsr
	check "load: the module loads and works afterwards" \
		bash -c "'$L3DSRCTL' add-mapping dscp 10 vip $VIP4 && '$L3DSRCTL' flush"
}

# ------------------------------------------------------------------ run

setup()
{
	inject_setup || return 1
	ns_new NS_BIG big || return 1
	run "$L3DSRCTL" flush
	defer "$L3DSRCTL flush"
	# shellcheck disable=SC2034 # read through restore's nameref
	BASE=("inet,10,$VIP4" "inet,12,203.0.113.12,rip=192.0.2.12,clear-dscp"
	      "inet,14,203.0.113.14,down" "inet6,10,$VIP6")
	local dscp
	HALF=()
	for dscp in $(seq 1 63); do
		HALF+=("inet,$dscp,203.0.113.$dscp")
	done
	TABLE126=()
	for dscp in $(seq 1 63); do
		TABLE126+=("inet,$dscp,198.51.100.$dscp"
			   "inet6,$dscp,2001:db8:126::$dscp")
	done
	# some of them drained, some clearing, some scoped
	TABLE126[0]+=",down"
	TABLE126[1]+=",clear-dscp"
	TABLE126[2]+=",rip=192.0.2.33"
}

set_up setup
if [ "$SCOPED" = 1 ]; then
	check "the commands' sweeps fail only what l3dsr allocates" scope_setup
	note "l3dsr's code: $(module_text)"
else
	note "no call-stack filter (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER): the commands' sweeps fail every allocation, and an ENOMEM from the core may come without a message"
fi
start_monitor ""
restore "" BASE && restore "$NS_BIG" HALF
OBJECTS_BEFORE=$(live_objects_settled)
start=$(date +%s)

sweep "add" "" BASE add inet 20 203.0.113.20 rip 192.0.2.20 clear-dscp
sweep "add (inet6, dev)" "" BASE add inet6 20 2001:db8:113::20 dev lo
sweep "replace" "" BASE add inet 10 203.0.113.99 rip 192.0.2.99 replace
sweep "set-table, 1 mapping" "" BASE table "inet,10,203.0.113.77,clear-dscp"
sweep "set-mapping down" "" BASE set inet 10 down
sweep "set-mapping up" "" BASE set inet 14 up
sweep "delete" "" BASE del inet6 10
sweep "flush" "" BASE flush
sweep "get" "" BASE get inet 12
sweep "dump" "" BASE dump
sweep "stats" "" BASE stats
SWEEP_STEP=$BIG_STEP sweep "set-table, 126 mappings" "$NS_BIG" HALF table "${TABLE126[@]}"
sweep "dump, 126 mappings" "$NS_BIG" HALF dump
SWEEP_STEP=$BIG_STEP sweep "flush, 63 mappings" "$NS_BIG" HALF flush

# Every sweep ended by restoring its table: what failed must have freed
# what it had made.
check_live_objects "the module's live objects are what they were" \
	"$OBJECTS_BEFORE"

sweep_netns
sweep_load

note "$TOTAL_INJECTED failures injected in $(($(date +%s) - start)) s"

tap_end
