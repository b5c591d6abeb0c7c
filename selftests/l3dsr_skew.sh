#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tool and module of two versions, as after `apt upgrade` without a reboot
# (new tool, old module still loaded) and after a provisioning run that
# ships an older tool (old tool, new module):
#
#   1. the current l3dsrctl against the module of commit 10dde43 (netlink
#      family version 1), built as l3dsr_old.ko: what version 1 has works;
#      nonlocal is refused before anything is sent, naming both versions;
#      the three counters of version 2 are absent, never 0; version says
#      how the two differ;
#   2. the l3dsrctl of that commit against the current module: everything
#      it knows works, and what it does not know is shown, not hidden.
#
# Initial namespace only; no traffic: this is about what crosses netlink.
#
# Needs the old artifacts, built on the host by selftests/skew/build.sh
# (make -C selftests does it): skew/l3dsrctl-old here, and l3dsr_old.ko in
# the guest's module tree, which the VM harness builds and installs when
# asked to:
#   L3DSR_VM_EXTRA_KBUILD=$(selftests/skew/build.sh --dir) \
#       selftests/vm/vm.sh run 6.12 -- ./l3dsr_skew.sh
# Without them the test skips.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly OLD_TOOL=$SELFTESTS_DIR/skew/l3dsrctl-old
readonly OLD_MODULE=l3dsr_old
readonly VIP_A=211.115.115.100
readonly VIP_B=211.115.115.101
readonly VIP_6=2001:db8:ffff::100

require_root
require_cmds jq modprobe lsmod "$L3DSRCTL"
[ -x "$OLD_TOOL" ] ||
	skip_all "no $OLD_TOOL (make -C selftests builds it from a git checkout)"
modinfo "$OLD_MODULE" >/dev/null 2>&1 ||
	skip_all "no $OLD_MODULE.ko in the guest: run vm.sh with L3DSR_VM_EXTRA_KBUILD=\$(selftests/skew/build.sh --dir)"
tap_begin
scratch_dir TMP || skip_all "cannot create a scratch directory"

# on TOOL ARGS...: run one tool, stdout in OUT, stderr in ERR, status in RC.
on()
{
	local tool=$1

	shift
	trace "$tool $*"
	OUT=$("$tool" "$@" 2>"$TMP/stderr")
	RC=$?
	ERR=$(cat "$TMP/stderr")
}

# expect DESCRIPTION RC: the last command exited RC.
expect()
{
	if [ "$RC" = "$2" ]; then
		pass "$1"
		return 0
	fi
	fail "$1" "exit $RC, expected $2; stdout: $OUT; stderr: $ERR"
	return 1
}

# expect_jq DESCRIPTION FILTER: the last command succeeded and its output
# passes jq -e FILTER.
expect_jq()
{
	if [ "$RC" = 0 ] && jq -e "$2" >/dev/null 2>&1 <<< "$OUT"; then
		pass "$1"
		return 0
	fi
	fail "$1" "exit $RC; jq -e '$2' fails on: $OUT; stderr: $ERR"
	return 1
}

unload_all()
{
	local m

	for m in l3dsr "$OLD_MODULE"; do
		[ -d "/sys/module/$m" ] && run modprobe -r "$m"
	done
	! [ -d /sys/module/l3dsr ] && ! [ -d "/sys/module/$OLD_MODULE" ]
}

# Whatever happens, the guest is left with the current module, empty.
defer "modprobe -r $OLD_MODULE; modprobe l3dsr; $L3DSRCTL flush"

check "neither module loaded to start with" unload_all

# ------------------------------------------------ 1. new tool, old module

check "the module of 10dde43 loads (as $OLD_MODULE)" modprobe "$OLD_MODULE"

on "$L3DSRCTL" version
expect "version: exit 0" 0
check_eq "version: the module speaks family version 1" \
	"module (release unknown), netlink family version 1" \
	"$(sed -n 2p <<< "$OUT")"
check_contains "version: says the module is older and lacks nonlocal" \
	"the module is older than l3dsrctl (netlink family version 1, not 2): it lacks nonlocal, skipped_not_local, skipped_bridged and skipped_protocol" \
	"$OUT"
on "$L3DSRCTL" -j version
expect_jq "version -j: family 1, what it lacks, same unknown" \
	'.module.loaded and .module.family_version == 1 and
	 .tool.family_version == 2 and .same == null and
	 .module_lacks == ["nonlocal","skipped_not_local","skipped_bridged",
			   "skipped_protocol"]'

on "$L3DSRCTL" add-mapping dscp 10 vip "$VIP_A" clear-dscp
expect "add-mapping works on version 1" 0
on "$L3DSRCTL" add-mapping dscp 20 vip "$VIP_6"
expect "add-mapping of an IPv6 VIP works on version 1" 0
on "$L3DSRCTL" add-mapping dscp 10 vip "$VIP_A" clear-dscp
expect "re-adding an identical mapping is success on version 1" 0

on "$L3DSRCTL" add-mapping dscp 11 vip "$VIP_B" nonlocal
expect "add-mapping nonlocal: refused on version 1 (exit 1)" 1
check_contains "add-mapping nonlocal: names the feature and both versions" \
	"l3dsrctl: add-mapping: nonlocal needs version 2 of the l3dsr module's netlink family, and the loaded module has version 1" \
	"$ERR"
if [[ "$ERR" == *"Invalid argument"* ]]; then
	fail "add-mapping nonlocal: no bare EINVAL" "$ERR"
else
	pass "add-mapping nonlocal: no bare EINVAL"
fi
on "$L3DSRCTL" -j show
expect_jq "show -j: nonlocal null, the flags version 1 knows as booleans" \
	'length == 2 and
	 (.[] | select(.dscp == 10) | .nonlocal == null and
	  .clear_dscp == true and .down == false) and
	 (.[] | select(.dscp == 20) | .family == "inet6" and .nonlocal == null)'

on "$L3DSRCTL" set-mapping dscp 10 nonlocal on
expect "set-mapping nonlocal on: refused on version 1" 1
check_contains "set-mapping nonlocal on: names the feature" \
	"nonlocal needs version 2" "$ERR"
on "$L3DSRCTL" set-mapping dscp 10 down
expect "set-mapping down works on version 1" 0
on "$L3DSRCTL" -j show dscp 10
expect_jq "show -j: the mapping is down" '.[0].down == true'
on "$L3DSRCTL" set-mapping dscp 10 up
expect "set-mapping up works on version 1" 0

on "$L3DSRCTL" stats
expect "stats works on version 1" 0
check_eq "stats: the counters of version 2 are '-'" \
	"skipped_not_local - skipped_bridged - skipped_protocol -" \
	"$(grep -E '^skipped_(not_local|bridged|protocol) ' <<< "$OUT" | tr '\n' ' ' | sed 's/ $//')"
check_contains "stats: those of version 1 are numbers" "rewritten 0" "$OUT"
check_contains "stats: stderr says why" \
	"does not count skipped_not_local, skipped_bridged, skipped_protocol" "$ERR"
on "$L3DSRCTL" -j stats
expect_jq "stats -j: the counters of version 2 are null, the others numbers" \
	'.skipped_not_local == null and .skipped_bridged == null and
	 .skipped_protocol == null and (.rewritten | type == "number") and
	 (.skipped_down | type == "number")'
on "$L3DSRCTL" stats --prometheus
expect "stats --prometheus works on version 1" 0
if [[ "$OUT" == *l3dsr_rewritten_total* ]] &&
	[[ "$OUT" != *skipped_not_local* ]] && [[ "$OUT" != *skipped_bridged* ]] &&
	[[ "$OUT" != *skipped_protocol* ]]; then
	pass "stats --prometheus: the absent counters have no sample"
else
	fail "stats --prometheus: the absent counters have no sample" "$OUT"
fi

printf 'dscp 10 vip %s\ndscp 12 vip %s nonlocal\n' "$VIP_A" "$VIP_B" \
	>"$TMP/nonlocal.conf"
on "$L3DSRCTL" apply -f "$TMP/nonlocal.conf"
expect "apply of a nonlocal line: refused on version 1" 1
check_contains "apply: names the file, the line and the feature" \
	"$TMP/nonlocal.conf:2: nonlocal needs version 2" "$ERR"
on "$L3DSRCTL" -j show
expect_jq "apply refused: the table is untouched" 'length == 2'
printf 'dscp 10 vip %s\ndscp 12 vip %s down\n' "$VIP_A" "$VIP_B" \
	>"$TMP/v1.conf"
on "$L3DSRCTL" apply -f "$TMP/v1.conf"
expect "apply works on version 1" 0
on "$L3DSRCTL" save
check_eq "save after apply" \
	"dscp 10 vip $VIP_A|dscp 12 vip $VIP_B down" \
	"$(grep -v '^#' <<< "$OUT" | grep . | tr '\n' '|' | sed 's/|$//')"

# monitor: the events of version 1 carry no nonlocal either.
"$L3DSRCTL" -j monitor >"$TMP/monitor" 2>&1 &
track_pid $!
monitor_pid=$!
sleep 0.5
run "$L3DSRCTL" del-mapping dscp 12
wait_until 50 grep -q . "$TMP/monitor"
stop_background "$monitor_pid"
OUT=$(head -n 1 "$TMP/monitor") RC=0
expect_jq "monitor -j: the del event, nonlocal null" \
	'.event == "del" and .mapping.dscp == 12 and .mapping.nonlocal == null'

on "$L3DSRCTL" flush
expect "flush works on version 1" 0
check "the module of 10dde43 unloads" unload_all

# The old module has no alias: resolving the family loads the current one.
on "$L3DSRCTL" show
expect "with nothing loaded, show loads a module" 0
if [ -d /sys/module/l3dsr ] && ! [ -d "/sys/module/$OLD_MODULE" ]; then
	pass "the family's alias loads l3dsr, never $OLD_MODULE"
else
	fail "the family's alias loads l3dsr, never $OLD_MODULE" "$(lsmod | grep l3dsr)"
fi

# ------------------------------------------------ 2. old tool, new module

on "$L3DSRCTL" version
check_eq "version: the current module speaks family version 2" \
	"module $(cat /sys/module/l3dsr/version), netlink family version 2" \
	"$(sed -n 2p <<< "$OUT")"
on "$L3DSRCTL" -j version
expect_jq "version -j: the same release and version, nothing lacking" \
	'.same == true and .module_lacks == []'

on "$OLD_TOOL" --version
expect "the old tool runs" 0
on "$OLD_TOOL" add-mapping dscp 10 vip "$VIP_A"
expect "old tool: add-mapping" 0
on "$OLD_TOOL" add-mapping dscp 20 vip "$VIP_6" clear-dscp
expect "old tool: add-mapping of an IPv6 VIP" 0
on "$L3DSRCTL" add-mapping dscp 11 vip "$VIP_B" nonlocal
expect "new tool: add-mapping nonlocal, for the old one to see" 0

on "$OLD_TOOL" show
expect "old tool: show" 0
check_eq "old tool: show lists the three mappings" 3 \
	"$(grep -c -E "^inet6? +(10|11|20) " <<< "$OUT")"
check_eq "old tool: show writes the flag it has no name for in hex" \
	"0x4" "$(awk '$2 == 11 { print $6 }' <<< "$OUT")"
on "$OLD_TOOL" -j show
expect_jq "old tool: show -j reads every mapping" \
	'length == 3 and (.[] | select(.dscp == 20) | .clear_dscp == true)'
on "$OLD_TOOL" -j show dscp 11
expect_jq "old tool: show -j dscp 11" \
	'length == 1 and .[0].vip == "'"$VIP_B"'"'

on "$OLD_TOOL" stats
expect "old tool: stats" 0
check_contains "old tool: stats prints the counters it knows" "skipped_down " "$OUT"
if [[ "$OUT" == *skipped_not_local* ]]; then
	fail "old tool: counters it does not know are left out" "$OUT"
else
	pass "old tool: counters it does not know are left out"
fi
on "$OLD_TOOL" -j stats
expect_jq "old tool: stats -j" '(.rewritten | type == "number")'
on "$OLD_TOOL" stats --prometheus
expect "old tool: stats --prometheus" 0

on "$OLD_TOOL" set-mapping dscp 10 down
expect "old tool: set-mapping down" 0
on "$L3DSRCTL" -j show dscp 10
expect_jq "old tool: the mapping is down" '.[0].down == true'
on "$OLD_TOOL" set-mapping dscp 10 up
expect "old tool: set-mapping up" 0
on "$L3DSRCTL" -j show dscp 11
expect_jq "old tool: a change elsewhere leaves nonlocal alone" \
	'.[0].nonlocal == true'

on "$OLD_TOOL" save
expect "old tool: save" 0
check_contains "old tool: save drops what it does not know (nonlocal)" \
	"dscp 11 vip $VIP_B" "$OUT"
if [[ "$OUT" == *nonlocal* ]]; then
	fail "old tool: save cannot write nonlocal" "$OUT"
else
	pass "old tool: save cannot write nonlocal"
fi
on "$L3DSRCTL" save
check_contains "new tool: save keeps nonlocal" "dscp 11 vip $VIP_B nonlocal" \
	"$OUT"

printf 'dscp 10 vip %s\ndscp 30 vip %s clear-dscp\n' "$VIP_A" "$VIP_B" \
	>"$TMP/old.conf"
on "$OLD_TOOL" apply -f "$TMP/old.conf"
expect "old tool: apply" 0
on "$L3DSRCTL" -j show
expect_jq "old tool: apply made the table the file's" \
	'[.[] | .dscp] == [10, 30] and (.[] | select(.dscp == 30) |
	 .clear_dscp == true and .nonlocal == false)'

"$OLD_TOOL" -j monitor >"$TMP/old-monitor" 2>&1 &
track_pid $!
monitor_pid=$!
sleep 0.5
run "$OLD_TOOL" del-mapping dscp 30
wait_until 50 grep -q . "$TMP/old-monitor"
stop_background "$monitor_pid"
OUT=$(head -n 1 "$TMP/old-monitor") RC=0
expect_jq "old tool: monitor -j sees the del event" \
	'.event == "del" and .mapping.dscp == 30'

on "$OLD_TOOL" del-mapping dscp 10
expect "old tool: del-mapping" 0
on "$OLD_TOOL" flush
expect "old tool: flush" 0
on "$L3DSRCTL" -j show
expect_jq "the table is empty" 'length == 0'

tap_end
