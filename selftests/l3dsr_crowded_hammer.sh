#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An unprivileged tenant must not slow the host's own configuration. Any
# user of a container host may make a user namespace and a network
# namespace in it (unshare -Urn), and there holds CAP_NET_ADMIN, enough to
# change that namespace's l3dsr table (GENL_UNS_ADMIN_PERM).
#
#  +-----------------------------------+   +-------------------------------+
#  | initial namespace (root)          |   | tenant: uid nobody, its own   |
#  |  l3dsrctl apply of 126 mappings   |   | user and network namespace    |
#  |  (63 DSCP x 2 families), 50 times,|   |  l3dsr_crowd hammer: add,     |
#  |  two files in turn, so each apply |   |  dump, delete, round and      |
#  |  replaces all 126                 |   |  round, as fast as it can     |
#  |  sysfs counter reads (monitoring) |   |                               |
#  +-----------------------------------+   +-------------------------------+
#
# After a round that is not timed, the applies and the reads run four
# times: alone; beside a hammer at nice 19 (the guest has one CPU: at
# that priority the hammer takes almost none of it, so what slows the
# host is waiting for the module, a lock or a grace period); beside a
# hammer at nice 0, sharing the CPU as any process would; and alone
# again, to show how far the figures drift by themselves. The timings
# and their ratios are reported as diagnostics and never asserted:
# performance is measured, not tested.
# What is asserted: every apply succeeded, the host's table is exactly the
# last file afterwards, and each hammer ran, unprivileged, without an
# error.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly APPLIES=50
readonly READS=500
# rounds of APPLIES: the untimed one and the four timed
readonly RUNS=5

require_l3dsr
require_cmds setpriv unshare
[ -x "$CROWD" ] || skip_all "needs $CROWD (run make in selftests/)"
tenants_allowed ||
	skip_all "unprivileged users may not make user and network namespaces"
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"

# conf_file NAME OCTET: 126 mappings whose VIPs end in OCTET's block.
conf_file()
{
	local dscp

	for dscp in $(seq 1 63); do
		echo "dscp $dscp vip 198.18.$2.$dscp"
		echo "dscp $dscp vip 2001:db8:$2::$dscp"
	done >"$TMP/$1.conf"
}

files_setup()
{
	conf_file a 100 && conf_file b 101
}

set_up files_setup
run "$L3DSRCTL" flush
defer "$L3DSRCTL flush"

APPLY_FAILURES=0
LAST_FILE=

# applies: APPLIES applies, files a and b in turn; sets APPLY_MS.
applies()
{
	local i file start

	start=$(now_us)
	for ((i = 0; i < APPLIES; i++)); do
		file=a
		((i % 2)) && file=b
		"$L3DSRCTL" apply -f "$TMP/$file.conf" >/dev/null 2>&1 ||
			APPLY_FAILURES=$((APPLY_FAILURES + 1))
		LAST_FILE=$file
	done
	APPLY_MS=$(ms_between "$start" "$(now_us)")
}

# reads: READS reads of a sysfs counter, as a monitoring agent makes
# them, without starting a program; sets READ_MS.
reads()
{
	local i value start

	start=$(now_us)
	for ((i = 0; i < READS; i++)); do
		read -r value </sys/kernel/l3dsr/stats/rewritten
	done
	: "$value"
	READ_MS=$(ms_between "$start" "$(now_us)")
}

HAMMER_PID=
# hammer_start NICE: a tenant's hammer; returns once it is running.
hammer_start()
{
	rm -f "$TMP/hammer"
	trace "as_tenant $CROWD -N $1 hammer &"
	# unshare and setpriv exec: the pid is the hammer's own
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		unshare -Urn "$CROWD" -N "$1" hammer >"$TMP/hammer" 2>&1 &
	HAMMER_PID=$!
	track_pid "$HAMMER_PID"
	wait_until 300 grep -q '^running$' "$TMP/hammer"
}

# hammer_stop LABEL: stop it; it must have made rounds without an error.
hammer_stop()
{
	local iterations errors

	kill -TERM "$HAMMER_PID" 2>/dev/null
	wait "$HAMMER_PID"
	read -r _ iterations _ errors < <(grep '^iterations' "$TMP/hammer")
	note "$1: the tenant made ${iterations:-no} add/dump/delete rounds"
	check_gt "$1: the tenant hammered its own table" 0 "${iterations:-none}"
	check_eq "$1: none of its requests failed" 0 "${errors:-none}" ||
		note "$(cat "$TMP/hammer")"
}

# ratio A B: B / A with two decimals.
ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a ? b / a : 0 }'
}

# untimed: the first applies allocate what later ones reuse
applies
applies
reads
alone_apply=$APPLY_MS alone_read=$READ_MS
note "alone: $APPLIES applies of 126 mappings in ${alone_apply} ms," \
	"$READS sysfs reads in ${alone_read} ms"

for niceness in 19 0; do
	label="beside a tenant's hammer at nice $niceness"
	if ! hammer_start "$niceness"; then
		fail "$label: the hammer started" "$(cat "$TMP/hammer")"
		continue
	fi
	applies
	reads
	hammer_stop "$label"
	note "$label: $APPLIES applies in $APPLY_MS ms" \
		"($(ratio "$alone_apply" "$APPLY_MS")x alone)," \
		"$READS sysfs reads in $READ_MS ms" \
		"($(ratio "$alone_read" "$READ_MS")x alone)"
done

# Alone again: how far the figures drift on their own.
applies
reads
note "alone again: $APPLIES applies in $APPLY_MS ms" \
	"($(ratio "$alone_apply" "$APPLY_MS")x the first time)," \
	"$READS sysfs reads in $READ_MS ms" \
	"($(ratio "$alone_read" "$READ_MS")x)"

# The table is the last file's, and holds nothing of the tenant's.
want=$(sed 's/^dscp \([0-9]*\) vip \(.*\)$/\1 \2/' "$TMP/$LAST_FILE.conf" |
	sort)
got=$("$L3DSRCTL" -j show | jq -r '.[] | "\(.dscp) \(.vip)"' | sort)
check_eq "$((RUNS * APPLIES)) applies succeeded and the table is the last file's" \
	"0 failed, $(wc -l <<<"$want") mappings as in $LAST_FILE.conf" \
	"$APPLY_FAILURES failed, $(wc -l <<<"$got") mappings as in $([ "$want" = "$got" ] &&
		echo "$LAST_FILE.conf" || echo "neither file")"

tap_end
