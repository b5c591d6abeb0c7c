#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel's generic ynl CLI, driven by the family's YNL spec
# (kmod/uapi/l3dsr.yaml), against the running module in the initial
# namespace: it dumps the mappings and reads the counters as l3dsrctl
# does, changes a mapping, and hears the change on the config group. What
# it reads is compared with l3dsrctl -j.
#
# Needs python3 with its standard library and the yaml module in the
# guest, and the ynl CLI with the spec in selftests/ynl/ (make -C selftests
# copies them there from Debian's linux-source-6.12); skips without them.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly YNL_DIR=$SELFTESTS_DIR/ynl
readonly VIP_A=211.115.115.100
readonly VIP_B=211.115.115.102
readonly VIP_6=2001:db8:ffff::100
readonly RIP_6=2001:db8:192::10

require_l3dsr
command -v python3 >/dev/null ||
	skip_all "no python3 in the guest (the VM harness brings programs and their libraries, not Python's standard library)"
python3 -c 'import argparse, ipaddress, json, pprint, socket, struct, uuid, yaml' \
	2>/dev/null ||
	skip_all "python3 in the guest lacks its standard library or the yaml module"
if [ ! -f "$YNL_DIR/cli.py" ] || [ ! -f "$YNL_DIR/l3dsr.yaml" ]; then
	skip_all "no ynl CLI and spec in $YNL_DIR (make -C selftests copies them from linux-source-6.12)"
fi
tap_begin
scratch_dir TMP || skip_all "cannot create a scratch directory"

# ynl ARGS...: the CLI with our spec, JSON out; stdout in OUT, status in RC.
ynl()
{
	trace "ynl $*"
	OUT=$(python3 "$YNL_DIR/cli.py" --spec "$YNL_DIR/l3dsr.yaml" --no-schema \
		--output-json "$@" 2>"$TMP/stderr")
	RC=$?
	ERR=$(cat "$TMP/stderr")
}

# expect_jq DESCRIPTION FILTER [ARGS...]: the last ynl succeeded and its
# output passes jq -e FILTER (ARGS go to jq before it).
expect_jq()
{
	local desc=$1 filter=$2

	shift 2
	if [ "$RC" = 0 ] && jq -e "$@" "$filter" >/dev/null 2>&1 <<< "$OUT"; then
		pass "$desc"
		return 0
	fi
	fail "$desc" "exit $RC; jq -e '$filter' fails on: $OUT; stderr: $ERR"
	return 1
}

run "$L3DSRCTL" flush
defer "$L3DSRCTL flush"
check "three mappings made with l3dsrctl" bash -c \
	"$L3DSRCTL add-mapping dscp 10 vip $VIP_A clear-dscp &&
	 $L3DSRCTL add-mapping dscp 20 vip $VIP_6 rip $RIP_6 &&
	 $L3DSRCTL add-mapping dscp 30 vip 211.115.115.101 dev lo &&
	 $L3DSRCTL set-mapping dscp 30 down"

started=$SECONDS
ynl --dump get-mapping
expect_jq "ynl --dump get-mapping: three mappings" 'length == 3'
show_json=$("$L3DSRCTL" -j show)
# The same mappings as l3dsrctl sees them, in l3dsrctl's terms.
# shellcheck disable=SC2016 # $show is jq's
expect_jq "ynl --dump get-mapping: what l3dsrctl -j show says" \
	'[.[] | {family: (if .family == 2 then "inet" else "inet6" end),
		 dscp, vip, rip: (.rip // null),
		 dev: (if .ifindex then "lo" else null end),
		 clear_dscp: ((.flags // []) | index("clear-dscp") != null),
		 down: ((.flags // []) | index("down") != null),
		 packets, bytes}] ==
	 [$show[] | {family, dscp, vip, rip, dev, clear_dscp, down,
		     packets, bytes}]' \
	--argjson show "$show_json"
note "ynl's dump took $((SECONDS - started)) s"

ynl --do get-mapping --json '{"family": 10, "dscp": 20}'
expect_jq "ynl --do get-mapping: one IPv6 mapping with its rip" \
	'.vip == "'"$VIP_6"'" and .rip == "'"$RIP_6"'" and .dscp == 20'

ynl --do get-stats
stats_json=$("$L3DSRCTL" -j stats)
# shellcheck disable=SC2016 # $stats is jq's
expect_jq "ynl --do get-stats: the counters l3dsrctl -j stats reads" \
	'.stats | with_entries(.key |= gsub("-"; "_")) == $stats' \
	--argjson stats "$stats_json"

# A change through ynl: a new mapping (the VIP in hex, as ynl takes
# binary attributes), then draining one.
ynl --do new-mapping --json '{"family": 2, "dscp": 40, "vip": "d3737366"}'
expect_jq "ynl --do new-mapping" 'true'
check_eq "l3dsrctl sees the mapping ynl made" "\"$VIP_B\"" \
	"$(mapping_field inet 40 vip)"
ynl --do set-mapping --json \
	'{"family": 2, "dscp": 10, "flags": ["down"], "flags-mask": ["down"]}'
expect_jq "ynl --do set-mapping drains a mapping" 'true'
check_eq "l3dsrctl sees it down" true "$(mapping_field inet 10 down)"
ynl --do del-mapping --json '{"family": 2, "dscp": 40}'
expect_jq "ynl --do del-mapping" 'true'
ynl --do del-mapping --json '{"family": 2, "dscp": 40}'
if [ "$RC" != 0 ] && [[ "$OUT$ERR" == *"No such file or directory"* ||
			 "$OUT$ERR" == *"error"* ]]; then
	pass "ynl --do del-mapping of an empty slot fails (ENOENT)"
else
	fail "ynl --do del-mapping of an empty slot fails (ENOENT)" \
		"exit $RC: $OUT $ERR"
fi

# The config group: ynl joins it, sleeps, then prints what arrived.
python3 "$YNL_DIR/cli.py" --spec "$YNL_DIR/l3dsr.yaml" --no-schema \
	--output-json --subscribe config --sleep 8 >"$TMP/events" 2>&1 &
listener=$!
track_pid "$listener"
# Python starts slowly in an emulated guest: change until it has surely
# joined, then let it print.
for _ in $(seq 12); do
	sleep 0.5
	"$L3DSRCTL" set-mapping dscp 20 down >/dev/null 2>&1
	"$L3DSRCTL" set-mapping dscp 20 up >/dev/null 2>&1
done
wait "$listener"
OUT=$(cat "$TMP/events") RC=$?
expect_jq "ynl --subscribe config hears the changes, each with its mapping" \
	'[.[] | select(.name == "new-mapping-ntf" and .msg.dscp == 20)] |
	 length > 0 and (.[0].msg.vip == "'"$VIP_6"'") and
	 any(.[]; .msg.flags == ["down"]) and any(.[]; .msg.flags == [])'
note "$TEST_NAME took $SECONDS s"

tap_end
