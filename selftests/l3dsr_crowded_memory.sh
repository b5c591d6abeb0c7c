#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Memory on a host of many namespaces. Container hosts run thousands of
# network namespaces, most of which never see a mapping; and whoever makes
# a namespace must pay for what its mappings cost.
#
#  +------------------------------------+   +------------------------------+
#  | initial namespace                  |   | cgroup l3dsr-owner-NNN       |
#  |  l3dsr_crowd hold: 1000 idle       |   |  memory.max = what it uses   |
#  |  namespaces (no mapping), then one |   |  + 64 KiB                    |
#  |  mapping in each, then 126 in 100  |   |  a tenant (nobody, own user  |
#  |  of them                           |   |  namespace): l3dsr_crowd     |
#  |  SUnreclaim + Percpu measured with |   |  hold, 20 namespaces, adds   |
#  |  and without the module            |   |  126 mappings in each        |
#  +------------------------------------+   +------------------------------+
#
# Reported (diagnostics): the module's share of kernel memory with 1000
# idle namespaces, and the bytes a namespace costs with none, one and 126
# mappings, from /proc/meminfo's SUnreclaim and Percpu (slab caches
# shrunk, RCU given time to free) before and after; the module loaded
# into the 1000 namespaces less the module loaded into none is their
# share. Asserted: an idle namespace costs the module no more than
# IDLE_BYTES_MAX (a pointer, with room for measurement noise), and every
# mapping asked for was made.
#
# With cgroup v2 and its memory controller: the tenant's mappings are
# charged to its cgroup, so its limit stops them with ENOMEM (the
# module's refusal, not the OOM killer's), while the initial namespace,
# outside that cgroup, still applies 126 mappings.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly IDLE_SPACES=1000
readonly FULL_SPACES=100
readonly IDLE_BYTES_MAX=256
readonly OWNER_SPACES=20
readonly HEADROOM=65536
readonly CGROUP_ROOT=/sys/fs/cgroup

require_l3dsr
[ -x "$CROWD" ] || skip_all "needs $CROWD (run make in selftests/)"
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"
run "$L3DSRCTL" flush

# kernel_kb: unreclaimable slab and per-CPU memory, once slab caches have
# given back their empty slabs and RCU callbacks have run.
kernel_kb()
{
	local cache

	sleep 1
	for cache in /sys/kernel/slab/*/shrink; do
		echo 1 >"$cache" 2>/dev/null
	done
	echo $(($(meminfo_kb SUnreclaim) + $(meminfo_kb Percpu)))
}

# per_space KB SPACES: KB kibibytes over SPACES namespaces, in bytes.
per_space()
{
	echo $(($1 * 1024 / $2))
}

# crowd COMMAND: one command to the coprocess, its one-line answer.
crowd()
{
	local answer

	trace "l3dsr_crowd <<< $1"
	{ echo "$1" >&"${CROWD_IO[1]}"; } 2>/dev/null || return 1
	read -r -t 300 -u "${CROWD_IO[0]}" answer || return 1
	echo "$answer"
}

crowd_quit()
{
	{ echo quit >&"${CROWD_IO[1]}"; } 2>/dev/null
	wait "$CROWD_PID" 2>/dev/null
}

# ------------------------------------------------- 1000 idle namespaces

test_idle_spaces()
{
	local m0 m1 m2 m3 m4 m5 fixed idle one full ready start answer

	if ! rmmod l3dsr 2>/dev/null; then
		skip "the module's share of idle namespaces" \
			"the module cannot be unloaded"
		return
	fi
	defer "modprobe l3dsr"
	m0=$(kernel_kb)
	run modprobe l3dsr
	m1=$(kernel_kb)
	run rmmod l3dsr
	fixed=$((m1 - m0))

	start=$(now_us)
	coproc CROWD_IO { exec "$CROWD" -n "$IDLE_SPACES" hold 2>&1; }
	CROWD_PID=$!
	track_pid "$CROWD_PID"
	read -r -t 300 -u "${CROWD_IO[0]}" ready
	if ! check_eq "$IDLE_SPACES idle namespaces made" \
		"ready $IDLE_SPACES" "$ready"; then
		return
	fi
	note "$IDLE_SPACES namespaces made in" \
		"$(ms_between "$start" "$(now_us)") ms"
	m2=$(kernel_kb)
	note "without the module: $((m2 - m0)) KiB for $IDLE_SPACES" \
		"namespaces, $(per_space $((m2 - m0)) "$IDLE_SPACES") bytes each"
	run modprobe l3dsr
	m3=$(kernel_kb)
	idle=$(per_space $((m3 - m2 - fixed)) "$IDLE_SPACES")
	note "the module loaded: $fixed KiB alone, $((m3 - m2)) KiB with" \
		"$IDLE_SPACES idle namespaces: $idle bytes per idle namespace"

	answer=$(crowd "fill 0 1 $IDLE_SPACES")
	check_eq "one mapping in each of the $IDLE_SPACES namespaces" \
		"added $IDLE_SPACES" "$answer"
	m4=$(kernel_kb)
	one=$((idle + $(per_space $((m4 - m3)) "$IDLE_SPACES")))
	answer=$(crowd "fill 1 126 $FULL_SPACES")
	check_eq "126 mappings in $FULL_SPACES of them" \
		"added $((125 * FULL_SPACES))" "$answer"
	m5=$(kernel_kb)
	full=$((one + $(per_space $((m5 - m4)) "$FULL_SPACES")))
	note "bytes per namespace: $idle with no mapping, $one with one," \
		"$full with 126 ($(((full - one) / 125)) per further mapping)"
	check_eq "an idle namespace costs the module at most $IDLE_BYTES_MAX bytes" \
		"at most $IDLE_BYTES_MAX" \
		"$([ "$idle" -le "$IDLE_BYTES_MAX" ] && echo "at most $IDLE_BYTES_MAX" ||
		   echo "$idle bytes")"

	start=$(now_us)
	crowd_quit
	note "the $IDLE_SPACES namespaces' owner ended in" \
		"$(ms_between "$start" "$(now_us)") ms"
}

# ----------------------------------------------------- a memcg's limit

cgroup_ready()
{
	if [ ! -e "$CGROUP_ROOT/cgroup.controllers" ]; then
		mkdir -p "$CGROUP_ROOT"
		mount -t cgroup2 none "$CGROUP_ROOT" 2>/dev/null || return 1
		defer "umount $CGROUP_ROOT"
	fi
	grep -qw memory "$CGROUP_ROOT/cgroup.controllers" || return 1
	grep -qw memory "$CGROUP_ROOT/cgroup.subtree_control" ||
		echo +memory >"$CGROUP_ROOT/cgroup.subtree_control"
}

# cgroup_new NAME: a child of the root, removed at exit.
cgroup_new()
{
	mkdir "$CGROUP_ROOT/$1" || return 1
	defer "rmdir $CGROUP_ROOT/$1"
}

test_memcg()
{
	local owner="l3dsr-owner-$$" drain="l3dsr-drain-$$" dir ready answer
	local current added events

	if ! cgroup_ready; then
		skip "a memcg limit stops a tenant's mappings" \
			"no cgroup v2 with a memory controller in this kernel"
		return
	fi
	dir=$CGROUP_ROOT/$owner
	if ! cgroup_new "$owner" || ! cgroup_new "$drain"; then
		fail "cgroups made"
		return
	fi

	# The tenant: in the owner cgroup, nobody in its own user namespace
	# (root where the kernel allows no such thing), making its network
	# namespaces itself.
	if tenants_allowed; then
		coproc CROWD_IO { echo "$BASHPID" >"$dir/cgroup.procs" &&
			exec setpriv --reuid=65534 --regid=65534 --clear-groups \
			unshare -Ur "$CROWD" -n "$OWNER_SPACES" hold 2>&1; }
	else
		note "unprivileged user namespaces are off: the owner is root"
		coproc CROWD_IO { echo "$BASHPID" >"$dir/cgroup.procs" &&
			exec "$CROWD" -n "$OWNER_SPACES" hold 2>&1; }
	fi
	CROWD_PID=$!
	track_pid "$CROWD_PID"
	read -r -t 300 -u "${CROWD_IO[0]}" ready
	check_eq "the owner made $OWNER_SPACES namespaces in its cgroup" \
		"ready $OWNER_SPACES" "$ready" || return
	# its buffers in use, the family resolved: nothing new to fault in
	crowd nop >/dev/null
	crowd "fill 0 0 $OWNER_SPACES" >/dev/null

	# Another cgroup's charge on this CPU takes back the owner's
	# precharged pages, so memory.current is what it really holds.
	bash -c 'echo $$ >"$1/cgroup.procs" && exec true' _ \
		"$CGROUP_ROOT/$drain"
	current=$(cat "$dir/memory.current")
	echo $((current + HEADROOM)) >"$dir/memory.max"
	note "the owner's cgroup holds $current bytes; memory.max" \
		"$(cat "$dir/memory.max")"

	answer=$(crowd "fill 0 126 $OWNER_SPACES") || answer="no answer"
	events=$(tr '\n' ' ' <"$dir/memory.events")
	note "the owner: '$answer'; memory.events: $events"
	added=$(sed -n 's/^added \([0-9]*\).*/\1/p' <<<"$answer")
	if [[ "$answer" == *"error ENOMEM" ]] &&
	   [ "${added:-0}" -lt $((126 * OWNER_SPACES)) ]; then
		pass "the limit stopped the owner's mappings with ENOMEM ($added made)"
	else
		fail "the limit stopped the owner's mappings with ENOMEM" \
			"asked for $((126 * OWNER_SPACES)) within $HEADROOM bytes" \
			"more; the owner answered '$answer'"
	fi
	check_contains "the OOM killer was not needed" " oom_kill 0" \
		" $events"

	conf_126 >"$TMP/host.conf"
	check "the host, outside that cgroup, applies 126 mappings" \
		"$L3DSRCTL" apply -f "$TMP/host.conf"
	check_eq "the host's table holds them" 126 \
		"$("$L3DSRCTL" -j show | jq length)"
	run "$L3DSRCTL" flush
	crowd_quit
}

conf_126()
{
	local dscp

	for dscp in $(seq 1 63); do
		echo "dscp $dscp vip 198.18.100.$dscp"
		echo "dscp $dscp vip 2001:db8:100::$dscp"
	done
}

test_idle_spaces
test_memcg

tap_end
