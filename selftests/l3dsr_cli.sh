#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# l3dsrctl against the real module: every subcommand, its JSON, its errors
# and exit codes, privileges, module autoload, namespace isolation and the
# sysfs layout.
#
#   +----------------------+         +----------------------+
#   | peer                 |         | cli (the table under |
#   |  192.0.2.2/24   eth0 +---------+ eth0  test, -n cli)  |
#   +----------------------+         |  192.0.2.1/24        |
#   sends DSCP 10 to 192.0.2.1       |  lo: 211.115.115.100 |
#   so counters move                 +----------------------+
#   +----------------------+
#   | other: must never see|         initial namespace: sysfs, autoload
#   | cli's mappings       |
#   +----------------------+

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly CLI_VIP=211.115.115.100
readonly CLI_VIP_OTHER=211.115.115.101
readonly CLI_ADDR=192.0.2.1
readonly PEER_ADDR=192.0.2.2
readonly ECHO_PORT=9200
readonly COUNT=5
readonly SHOW_KEYS='["bytes","clear_dscp","dev","down","dscp","family","nonlocal","packets","rip","vip"]'

require_l3dsr
require_cmds setpriv timeout lsmod
tap_begin
scratch_dir TMP || skip_all "cannot create a scratch directory"

# ctl ARGS...: l3dsrctl, stdout in OUT, stderr in ERR, exit status in RC.
ctl()
{
	trace "$L3DSRCTL $*"
	OUT=$("$L3DSRCTL" "$@" 2>"$TMP/stderr")
	RC=$?
	ERR=$(cat "$TMP/stderr")
}

# expect DESCRIPTION RC [NEEDLE]: the last ctl exited RC and, when NEEDLE is
# given, said it on stderr after the "l3dsrctl: " prefix.
expect()
{
	local desc=$1 rc=$2 needle=${3:-}

	if [ "$RC" != "$rc" ]; then
		fail "$desc" "exit $RC, expected $rc; stdout: $OUT; stderr: $ERR"
		return 1
	fi
	if [ -n "$needle" ] && { [[ "$ERR" != "l3dsrctl: "* ]] ||
				 [[ "$ERR" != *"$needle"* ]]; }; then
		fail "$desc" "stderr lacks 'l3dsrctl: ...$needle': $ERR"
		return 1
	fi
	pass "$desc"
}

# json_is DESCRIPTION JQ_FILTER: the last ctl printed JSON that the filter
# finds true.
json_is()
{
	if jq -e "$2" >/dev/null 2>&1 <<< "$OUT"; then
		pass "$1"
		return 0
	fi
	fail "$1" "jq '$2' is not true of: $OUT"
	return 1
}

# show_json [ARGS...]: show -j of the cli namespace into OUT.
show_json()
{
	ctl -n "$NS_CLI" -j "$@" show
}

module_loaded()
{
	grep -q '^l3dsr ' /proc/modules
}

# ------------------------------------------------ autoload and absence
# First, while nothing holds the module.

test_autoload()
{
	local saved_modprobe

	run "$L3DSRCTL" flush >/dev/null 2>&1
	if ! run modprobe -r l3dsr; then
		skip "module autoload" "the module cannot be unloaded"
		return
	fi
	check_fails "the module is unloaded" module_loaded
	ctl show
	expect "show autoloads the module" 0
	check "lsmod lists l3dsr after show" \
		bash -c 'lsmod | grep -q "^l3dsr "'

	# The kernel's own request fails (its modprobe is broken, as in some
	# containers): the tool runs modprobe itself, to load the module or to
	# learn why it cannot (l3dsr_signing.sh has the refusals).
	saved_modprobe=$(cat /proc/sys/kernel/modprobe)
	run modprobe -r l3dsr
	defer "echo '$saved_modprobe' > /proc/sys/kernel/modprobe; modprobe l3dsr"
	echo /bin/false >/proc/sys/kernel/modprobe
	ctl show
	expect "the kernel cannot load the module: show loads it through modprobe" 0
	check "lsmod lists l3dsr after that show" \
		bash -c 'lsmod | grep -q "^l3dsr "'
	echo "$saved_modprobe" >/proc/sys/kernel/modprobe
	run modprobe l3dsr
}

# ------------------------------------------------------ help and version

test_help_version()
{
	local cmd missing=

	for cmd in help -h --help; do
		ctl "$cmd"
		expect "$cmd: exit 0" 0
	done
	ctl help
	for cmd in add-mapping replace-mapping del-mapping show flush stats \
		   monitor help version; do
		[[ "$OUT$ERR" == *"$cmd"* ]] || missing+=" $cmd"
	done
	check_eq "help names every command" "" "$missing"

	ctl version
	expect "version: exit 0" 0
	check_gt "version prints something" 0 "${#OUT}"
	local version=$OUT
	ctl --version
	expect "--version: exit 0" 0
	check_eq "--version says what version says" "$version" "$OUT"

	ctl
	expect "no command: exit 2" 2 ""
	ctl frobnicate
	expect "unknown command: exit 2, named" 2 frobnicate
	ctl -Z show
	expect "unknown option: exit 2" 2 "Z"
}

# ------------------------------------------------------- the namespaces

setup_namespaces()
{
	ns_new NS_CLI cli && ns_new NS_PEER peer && ns_new NS_OTHER other ||
		return 1
	run ip -n "$NS_CLI" link add eth0 type veth \
		peer name eth0 netns "$NS_PEER" &&
	run ip -n "$NS_CLI" addr add $CLI_ADDR/24 dev eth0 &&
	run ip -n "$NS_PEER" addr add $PEER_ADDR/24 dev eth0 &&
	run ip -n "$NS_CLI" addr add $CLI_VIP/32 dev lo &&
	run ip -n "$NS_CLI" link set eth0 up &&
	run ip -n "$NS_PEER" link set eth0 up || return 1
	background ECHO_PID ip netns exec "$NS_CLI" "$PEER" udp-echo "$CLI_VIP" \
		"$ECHO_PORT"
	wait_listener "$NS_CLI" udp "$ECHO_PORT"
}

# COUNT datagrams with DSCP 10 to the cli namespace's own address; a mapping
# turns them towards the VIP. Their answers come from the VIP, which the
# sender's connected socket ignores, so only the counters tell.
send_marked()
{
	in_ns "$NS_PEER" "$PEER" -t "$DSCP_TOS" -n "$COUNT" -r 0 \
		udp-send "$CLI_ADDR" "$ECHO_PORT" >/dev/null
	return 0
}

# --------------------------------------------------------- the mappings

test_add_show()
{
	show_json
	expect "show -j on an empty table: exit 0" 0
	json_is "show -j on an empty table is []" '. == []'

	ctl -n "$NS_CLI" add-mapping dscp 10 vip $CLI_VIP
	expect "add-mapping dscp 10 vip $CLI_VIP" 0
	show_json
	json_is "show -j is an array of one" 'type == "array" and length == 1'
	json_is "show -j entry has exactly the documented keys" \
		"(.[0] | keys) == $SHOW_KEYS"
	json_is "show -j entry describes the mapping" \
		".[0] == {family: \"inet\", dscp: 10, vip: \"$CLI_VIP\",
			  rip: null, dev: null, clear_dscp: false,
			  nonlocal: false, down: false, packets: 0,
			  bytes: 0}"

	ctl -n "$NS_CLI" show
	expect "show (text): exit 0" 0
	check_eq "show (text) header" \
		"FAMILY DSCP VIP RIP DEV FLAGS PACKETS BYTES" \
		"$(head -n 1 <<< "$OUT" | tr -s ' \t' '  ' | sed 's/ $//')"
	check_eq "show (text) row, '-' for unset" \
		"inet 10 $CLI_VIP - - - 0 0" \
		"$(sed -n 2p <<< "$OUT" | tr -s ' \t' '  ' | sed 's/ $//')"

	send_marked
	show_json
	json_is "marked traffic moves the counters" \
		".[0].packets == $COUNT and .[0].bytes == $((COUNT * (20 + 8 + 64)))"

	ctl -n "$NS_CLI" add-mapping dscp 10 vip $CLI_VIP
	expect "re-adding the identical mapping succeeds" 0
	show_json
	json_is "re-adding keeps the counters" ".[0].packets == $COUNT"

	ctl -n "$NS_CLI" add-mapping dscp 10 vip $CLI_VIP_OTHER
	expect "a conflicting add fails with exit 1" 1 \
		"add-mapping: DSCP 10 (inet) already maps to vip $CLI_VIP; use replace-mapping"
	show_json
	json_is "a conflicting add changes nothing" \
		".[0].vip == \"$CLI_VIP\" and length == 1"

	ctl -n "$NS_CLI" replace-mapping dscp 10 vip $CLI_VIP_OTHER
	expect "replace-mapping of an existing mapping" 0
	show_json
	json_is "replace-mapping changed the VIP, counters go on" \
		".[0].vip == \"$CLI_VIP_OTHER\" and .[0].packets == $COUNT"
	ctl -n "$NS_CLI" replace-mapping dscp 20 vip $CLI_VIP
	expect "replace-mapping creates a missing mapping" 0
	show_json
	json_is "the created mapping is there" \
		'[.[] | select(.dscp == 20)] | length == 1'

	ctl -n "$NS_CLI" add-mapping clear-dscp dev eth0 vip $CLI_VIP \
		rip $CLI_ADDR dscp 12
	expect "keywords in any order, with rip, dev and clear-dscp" 0
	show_json
	json_is "rip, dev and clear-dscp are shown" \
		".[] | select(.dscp == 12) | .rip == \"$CLI_ADDR\" and
		 .dev == \"eth0\" and .clear_dscp == true"
	ctl -n "$NS_CLI" show
	check_contains "show (text) names the clear-dscp flag" "clear-dscp" \
		"$(grep -E '^inet +12 ' <<< "$OUT")"
}

test_classes()
{
	local class dscp

	for class in AF11:10 af41:34 EF:46 cs7:56 Cs1:8; do
		dscp=${class#*:}
		class=${class%:*}
		ctl -n "$NS_CLI" add-mapping dscp "$class" vip "2001:db8::$dscp"
		expect "class $class accepted" 0
		show_json -6
		json_is "class $class is DSCP $dscp" \
			"[.[] | select(.dscp == $dscp and
			 .vip == \"2001:db8::$dscp\")] | length == 1"
	done
	for class in 0 CS0 cs0 64 -1 AF14 bogus; do
		ctl -n "$NS_CLI" add-mapping dscp "$class" vip 2001:db8::99
		expect "dscp $class refused: exit 2, named" 2 "$class"
	done
	run "$L3DSRCTL" -n "$NS_CLI" -6 flush
}

test_bad_arguments()
{
	local before

	show_json
	before=$OUT

	ctl -n "$NS_CLI" add-mapping dscp 30 vip 999.1.1.1
	expect "bad VIP: exit 2, named" 2 999.1.1.1
	ctl -n "$NS_CLI" add-mapping dscp 30
	expect "missing VIP: exit 2" 2 vip
	ctl -n "$NS_CLI" add-mapping vip $CLI_VIP
	expect "missing DSCP: exit 2" 2 dscp
	ctl -n "$NS_CLI" add-mapping dscp 30 vip $CLI_VIP frob
	expect "unknown keyword: exit 2, named" 2 frob
	ctl -n "$NS_CLI" add-mapping dscp 30 vip $CLI_VIP rip
	expect "keyword without its value: exit 2, named" 2 rip
	ctl -n "$NS_CLI" add-mapping dscp 30 vip $CLI_VIP rip 2001:db8::1
	expect "rip of the other family: exit 2, named" 2 2001:db8::1
	ctl -n "$NS_CLI" add-mapping dscp 30 vip $CLI_VIP dev nosuchdev0
	expect "non-existent dev: exit 1, named" 1 nosuchdev0
	ctl -n "$NS_CLI" add-mapping dscp 30 vip 224.0.0.1
	if [ "$RC" = 1 ] || [ "$RC" = 2 ]; then
		expect "multicast VIP refused" "$RC" "add-mapping"
	else
		fail "multicast VIP refused" "exit $RC: $ERR"
	fi
	ctl -n "$NS_CLI" del-mapping dscp 33
	expect "deleting a missing mapping: exit 1" 1 "no mapping for DSCP 33"
	ctl -n "$NS_CLI" del-mapping
	expect "del-mapping without a DSCP: exit 2" 2 dscp
	ctl -n "$NS_CLI" show dscp 99
	expect "show with a bad DSCP: exit 2, named" 2 99
	ctl -n "$NS_CLI" stats extra
	expect "stats with an extra word: exit 2, named" 2 extra
	ctl -n l3dsr-no-such-namespace-$$ show
	expect "-n with a missing namespace: exit 1" 1 \
		"l3dsr-no-such-namespace-$$"

	show_json
	check_eq "rejected commands changed nothing" "$before" "$OUT"
}

test_filters_delete_flush()
{
	ctl -n "$NS_CLI" add-mapping dscp 10 vip 2001:db8::10:1
	expect "the same DSCP in the other family" 0

	ctl -n "$NS_CLI" -j show dscp 10
	json_is "show dscp 10 shows both families' DSCP 10 only" \
		'length == 2 and all(.[]; .dscp == 10) and
		 .[0].family == "inet" and .[1].family == "inet6"'
	ctl -n "$NS_CLI" -4 -j show
	json_is "-4 show lists only inet" \
		'length > 0 and all(.[]; .family == "inet")'
	ctl -n "$NS_CLI" -6 -j show
	json_is "-6 show lists only inet6" \
		'length > 0 and all(.[]; .family == "inet6")'
	show_json
	# shellcheck disable=SC2016 # a jq variable
	json_is "show lists inet first, then by DSCP" \
		'[.[] | [(.family == "inet6"), .dscp]] as $k | $k == ($k | sort)'

	ctl -n "$NS_CLI" -6 del-mapping dscp 10
	expect "-6 del-mapping dscp 10" 0
	show_json
	json_is "-6 del-mapping left the inet mapping" \
		'[.[] | select(.dscp == 10) | .family] == ["inet"]'

	ctl -n "$NS_CLI" add-mapping dscp 10 vip 2001:db8::10:1
	ctl -n "$NS_CLI" del-mapping dscp 10
	expect "del-mapping dscp 10 without a family" 0
	show_json
	json_is "it deleted DSCP 10 of both families" \
		'[.[] | select(.dscp == 10)] == []'

	ctl -n "$NS_CLI" -6 flush
	expect "-6 flush" 0
	show_json
	json_is "-6 flush emptied only inet6" \
		'length > 0 and all(.[]; .family == "inet")'
	ctl -n "$NS_CLI" flush
	expect "flush" 0
	show_json
	json_is "flush emptied the table" '. == []'
	ctl -n "$NS_CLI" flush
	expect "flushing an empty table succeeds" 0
}

test_stats()
{
	local names

	ctl -n "$NS_CLI" -j stats
	expect "stats -j: exit 0" 0
	names=$(printf '"%s",' "${STAT_NAMES[@]}")
	json_is "stats -j has exactly the documented counters" \
		"(keys | sort) == ([${names%,}] | sort) and
		 all(.[]; type == \"number\")"
	json_is "stats -j counted the marked traffic" \
		".rewritten >= $COUNT"

	ctl -n "$NS_CLI" stats
	expect "stats (text): exit 0" 0
	check_eq "stats (text): one 'name value' line per counter" \
		"$(printf '%s\n' "${STAT_NAMES[@]}" | sort)" \
		"$(awk 'NF == 2 && $2 ~ /^[0-9]+$/ { print $1 }' <<< "$OUT" |
		   sort)"
}

test_isolation()
{
	ctl -n "$NS_CLI" add-mapping dscp 61 vip 203.0.113.61
	expect "mapping made in one namespace" 0
	ctl -n "$NS_OTHER" -j show
	json_is "another namespace does not see it" '. == []'
	ctl -j show
	json_is "the initial namespace does not see it" \
		'[.[] | select(.dscp == 61)] == []'
	check_fails "sysfs (initial namespace) does not show it" \
		test -e "$(sysfs_mapping_dir inet 61)"
	ctl -n "$NS_OTHER" del-mapping dscp 61
	expect "another namespace cannot delete it" 1 "no mapping for DSCP 61"
	ctl -n "$NS_CLI" del-mapping dscp 61
}

# ----------------------------------------------------- without privilege

# unprivileged ARGS...: l3dsrctl in the cli namespace as nobody, no caps.
unprivileged()
{
	trace "setpriv nobody: $L3DSRCTL $*"
	OUT=$(ip netns exec "$NS_CLI" setpriv --reuid=65534 --regid=65534 \
		--clear-groups --inh-caps=-all --bounding-set=-all \
		timeout 10 "$L3DSRCTL" "$@" 2>"$TMP/stderr")
	RC=$?
	ERR=$(cat "$TMP/stderr")
}

test_unprivileged()
{
	local before

	run "$L3DSRCTL" -n "$NS_CLI" add-mapping dscp 10 vip $CLI_VIP
	show_json
	before=$OUT

	unprivileged show
	expect "unprivileged show works" 0
	unprivileged -j stats
	expect "unprivileged stats works" 0
	unprivileged add-mapping dscp 11 vip $CLI_VIP
	expect "unprivileged add-mapping refused" 1 "Operation not permitted"
	unprivileged replace-mapping dscp 10 vip $CLI_VIP_OTHER
	expect "unprivileged replace-mapping refused" 1 \
		"Operation not permitted"
	unprivileged del-mapping dscp 10
	expect "unprivileged del-mapping refused" 1 "Operation not permitted"
	unprivileged flush
	expect "unprivileged flush refused" 1 "Operation not permitted"
	# monitor, like show, is open to any user: l3dsr_privileges.sh
	show_json
	check_eq "refused changes changed nothing" "$before" "$OUT"
	run "$L3DSRCTL" -n "$NS_CLI" flush
}

# ------------------------------------------------------------- monitor

# monitor_run FILE [OPTIONS...]: run monitor into FILE while a mapping comes
# and goes. A canary change repeated until the monitor prints it shows that
# it has joined the group, so no event is lost to the start-up race.
monitor_run()
{
	local file=$1 pid tries=50
	shift

	trace "$L3DSRCTL -n $NS_CLI $* monitor > $file &"
	"$L3DSRCTL" -n "$NS_CLI" "$@" monitor >"$file" 2>&1 &
	pid=$!
	track_pid "$pid"

	while [ "$tries" -gt 0 ] && ! grep -q 203.0.113.63 "$file"; do
		"$L3DSRCTL" -n "$NS_CLI" replace-mapping dscp 63 \
			vip 203.0.113.63 >/dev/null 2>&1
		sleep 0.2
		"$L3DSRCTL" -n "$NS_CLI" del-mapping dscp 63 >/dev/null 2>&1
		tries=$((tries - 1))
	done
	"$L3DSRCTL" -n "$NS_CLI" add-mapping dscp 30 vip 203.0.113.30 \
		rip $CLI_ADDR clear-dscp
	"$L3DSRCTL" -n "$NS_CLI" del-mapping dscp 30
	wait_until 50 grep -q 'del.*203.0.113.30' "$file"
	stop_background "$pid"
	"$L3DSRCTL" -n "$NS_CLI" flush
}

test_monitor()
{
	local file=$TMP/monitor.txt events

	monitor_run "$file"
	check_contains "monitor prints the new mapping" \
		"new dscp 30 vip 203.0.113.30 rip $CLI_ADDR clear-dscp" \
		"$(cat "$file")"
	check_contains "monitor prints the deleted mapping" \
		"del dscp 30 vip 203.0.113.30" "$(cat "$file")"

	file=$TMP/monitor.json
	monitor_run "$file" -j
	check "monitor -j prints one JSON object per line" \
		jq -e -s 'length > 0 and all(.[]; type == "object")' "$file"
	events=$(jq -c 'select(.mapping.dscp == 30) |
		[.event, (.mapping | keys), .mapping.vip, .mapping.rip,
		 .mapping.clear_dscp]' "$file")
	check_eq "monitor -j prints new and del with the documented keys" \
		"[\"new\",$SHOW_KEYS,\"203.0.113.30\",\"$CLI_ADDR\",true]
[\"del\",$SHOW_KEYS,\"203.0.113.30\",\"$CLI_ADDR\",true]" "$events"
}

# --------------------------------------------------------------- sysfs

test_sysfs()
{
	local dir4 dir6 name missing=

	for name in "${STAT_NAMES[@]}"; do
		[[ "$(cat "/sys/kernel/l3dsr/stats/$name" 2>/dev/null)" =~ ^[0-9]+$ ]] ||
			missing+=" $name"
	done
	check_eq "sysfs has every stat, each a number" "" "$missing"

	dir4=$(sysfs_mapping_dir inet 44)
	dir6=$(sysfs_mapping_dir inet6 44)
	check_fails "no sysfs directory before the mapping" test -e "$dir4"
	ctl add-mapping dscp 44 vip 203.0.113.44
	ctl add-mapping dscp 44 vip 2001:DB8:0:0:0:0:0:2C
	check "sysfs ipv4 directory appears with the mapping" test -d "$dir4"
	check_eq "sysfs ipv4 vip" "203.0.113.44" "$(cat "$dir4/vip" 2>&1)"
	check_eq "sysfs ipv4 packets and bytes start at 0" "0 0" \
		"$(cat "$dir4/packets" 2>&1) $(cat "$dir4/bytes" 2>&1)"
	check_eq "sysfs ipv6 vip as inet_ntop writes it" "2001:db8::2c" \
		"$(cat "$dir6/vip" 2>&1)"
	ctl del-mapping dscp 44
	check_fails "sysfs ipv4 directory goes with the mapping" test -e "$dir4"
	check_fails "sysfs ipv6 directory goes with the mapping" test -e "$dir6"
}

test_autoload
if ! setup_namespaces; then
	fail "namespaces set up"
	tap_end
fi
pass "namespaces set up"
test_help_version
test_add_show
test_classes
test_bad_arguments
test_filters_delete_flush
test_stats
test_isolation
test_unprivileged
test_monitor
test_sysfs
run "$L3DSRCTL" flush

tap_end
