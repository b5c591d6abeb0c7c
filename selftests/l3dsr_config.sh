#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Operating l3dsr on a server: configuration files made the table with
# `apply` (atomically: all or nothing), `save` and back, draining with
# set-mapping down/up, `check`, `stats --prometheus`, `monitor -j` and
# `import-iptables` on the DADDR rule it replaces.
#
#   +----------------------+         +---------------------------+
#   | peer                 |         | srv (the table under      |
#   |  192.0.2.2/24   eth0 +---------+ eth0  test, -n srv)       |
#   +----------------------+         |  192.0.2.1/24             |
#   sends DSCP 10 to 192.0.2.1       |  lo: 211.115.115.100/32   |
#   so counters move                 |      211.115.115.101/32   |
#                                    |      2001:db8:ffff::100/128|
#                                    |  udp echo on VIP:9300     |
#                                    +---------------------------+

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly SRV_ADDR=192.0.2.1
readonly PEER_ADDR=192.0.2.2
readonly VIP_A=211.115.115.100
readonly VIP_B=211.115.115.101
readonly VIP_C=211.115.115.102
readonly VIP_V6=2001:db8:ffff::100
readonly ECHO_PORT=9300
readonly COUNT=4
# What DSCP 10 means as a TOS byte, for the peer's sender.
readonly TOS_DSCP10=0x28
readonly SEED_RULE='-A PREROUTING -m dscp --dscp 10 -j DADDR --set-daddr=211.115.115.100'

require_l3dsr
require_cmds timeout
tap_begin
scratch_dir TMP || skip_all "cannot create a scratch directory"

# ctl ARGS...: l3dsrctl in the srv namespace; OUT, ERR and RC as it left them.
ctl()
{
	trace "$L3DSRCTL -n $NS_SRV $*"
	OUT=$("$L3DSRCTL" -n "$NS_SRV" "$@" 2>"$TMP/stderr")
	RC=$?
	ERR=$(cat "$TMP/stderr")
}

# expect DESCRIPTION RC [NEEDLE...]: the last ctl exited RC and its stderr
# holds every NEEDLE.
expect()
{
	local desc=$1 rc=$2 needle

	shift 2
	if [ "$RC" != "$rc" ]; then
		fail "$desc" "exit $RC, expected $rc; stdout: $OUT; stderr: $ERR"
		return 1
	fi
	for needle in "$@"; do
		if [[ "$ERR" != *"$needle"* ]]; then
			fail "$desc" "stderr lacks '$needle': $ERR"
			return 1
		fi
	done
	pass "$desc"
}

json_is()
{
	if jq -e "$2" >/dev/null 2>&1 <<< "$OUT"; then
		pass "$1"
		return 0
	fi
	fail "$1" "jq '$2' is not true of: $OUT"
	return 1
}

# table: the srv table as show -j prints it, one line.
table()
{
	"$L3DSRCTL" -n "$NS_SRV" -j show
}

# table_sans_counters: the same without packets and bytes.
table_sans_counters()
{
	table | jq -c 'map(del(.packets, .bytes))'
}

mapping_of()
{
	table | jq -c --argjson dscp "$1" --arg family "${2:-inet}" \
		'.[] | select(.dscp == $dscp and .family == $family)'
}

srv_stat()
{
	"$L3DSRCTL" -n "$NS_SRV" -j stats | jq -e ".$1"
}

# COUNT datagrams with DSCP 10 to srv's own address; a mapping turns them
# towards VIP_A, where the echo answers from the VIP (which the connected
# sender ignores: only counters tell).
send_marked()
{
	in_ns "$NS_PEER" "$PEER" -t "$TOS_DSCP10" -n "$COUNT" -r 0 \
		udp-send "$SRV_ADDR" "$ECHO_PORT" >/dev/null
	return 0
}

setup()
{
	ns_new NS_SRV srv && ns_new NS_PEER peer || return 1
	run ip -n "$NS_SRV" link add eth0 type veth \
		peer name eth0 netns "$NS_PEER" &&
	run ip -n "$NS_SRV" addr add $SRV_ADDR/24 dev eth0 &&
	run ip -n "$NS_PEER" addr add $PEER_ADDR/24 dev eth0 &&
	run ip -n "$NS_SRV" addr add $VIP_A/32 dev lo &&
	run ip -n "$NS_SRV" addr add $VIP_B/32 dev lo &&
	run ip -n "$NS_SRV" addr add $VIP_V6/128 dev lo nodad &&
	run ip -n "$NS_SRV" link set eth0 up &&
	run ip -n "$NS_PEER" link set eth0 up || return 1
	# The server side of a good DSR setup, as check wants it.
	sysctl_set "$NS_SRV" net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2 || return 1
	background ECHO_PID ip netns exec "$NS_SRV" "$PEER" udp-echo "$VIP_A" \
		"$ECHO_PORT"
	wait_listener "$NS_SRV" udp "$ECHO_PORT"
}

# ------------------------------------------------------------- apply

test_apply()
{
	local before

	cat >"$TMP/first.conf" <<-EOF
	# the first table
	dscp 10 vip $VIP_A rip $SRV_ADDR dev eth0
	add-mapping dscp 20 vip $VIP_B clear-dscp   # the old command's words
	dscp AF41 vip $VIP_V6
	EOF
	ctl apply -f "$TMP/first.conf"
	expect "apply a first file" 0
	OUT=$(table_sans_counters)
	check_eq "the table is exactly the file" \
		"$(jq -nc --arg a $VIP_A --arg b $VIP_B --arg v6 $VIP_V6 \
		   --arg rip $SRV_ADDR '[
		{family: "inet", dscp: 10, vip: $a, rip: $rip, dev: "eth0",
		 clear_dscp: false, nonlocal: false, down: false},
		{family: "inet", dscp: 20, vip: $b, rip: null, dev: null,
		 clear_dscp: true, nonlocal: false, down: false},
		{family: "inet6", dscp: 34, vip: $v6, rip: null, dev: null,
		 clear_dscp: false, nonlocal: false, down: false}]')" "$OUT"

	send_marked
	check_eq "marked packets are rewritten by the applied mapping" \
		"$COUNT" "$(mapping_of 10 | jq .packets)"

	before=$(table)
	cat >"$TMP/bad.conf" <<-EOF
	dscp 10 vip $VIP_A
	dscp 21 vip $VIP_C

	dscp 22 vip 211.115.115
	EOF
	ctl apply -f "$TMP/bad.conf"
	expect "a bad line: exit 1, FILE:LINE naming the word" 1 \
		"$TMP/bad.conf:4:" '"211.115.115"'
	check_eq "a bad line changes nothing" "$before" "$(table)"

	printf 'dscp 10 vip %s\ndscp 23 vip %s dev nosuchdev0\n' \
		"$VIP_A" "$VIP_C" >"$TMP/nodev.conf"
	ctl apply -f "$TMP/nodev.conf"
	expect "a missing device: exit 1, FILE:LINE" 1 "$TMP/nodev.conf:2:" \
		nosuchdev0
	check_eq "a missing device changes nothing" "$before" "$(table)"

	# Refused as the kernel would, before anything is sent.
	printf 'dscp 11 vip %s\ndscp 24 vip 224.0.0.1\n' "$VIP_C" \
		>"$TMP/multicast.conf"
	ctl apply -f "$TMP/multicast.conf"
	expect "a VIP the kernel refuses: exit 1, FILE:LINE" 1 \
		"$TMP/multicast.conf:2:" "multicast"
	check_eq "a refused table changes nothing" "$before" "$(table)"

	printf 'dscp 10 vip %s\ndscp 10 vip %s\n' "$VIP_A" "$VIP_B" \
		>"$TMP/dup.conf"
	ctl apply -f "$TMP/first.conf" -f "$TMP/dup.conf"
	expect "a DSCP twice across files: both places named" 1 \
		"$TMP/dup.conf:1:" "$TMP/first.conf:2"
	check_eq "duplicates change nothing" "$before" "$(table)"

	ctl apply -f "$TMP/first.conf" --bogus
	expect "an unknown option: exit 2" 2 "--bogus"

	# The second table: 10 as it was, 20 changed, AF41 gone, 40 new.
	cat >"$TMP/second.conf" <<-EOF
	dscp 10 vip $VIP_A rip $SRV_ADDR dev eth0
	dscp 20 vip $VIP_C
	dscp 40 vip $VIP_B
	EOF
	ctl apply -f "$TMP/second.conf"
	expect "apply a second file" 0
	OUT=$(table)
	json_is "the second file replaced the table exactly" \
		"map([.family, .dscp, .vip]) ==
		 [[\"inet\", 10, \"$VIP_A\"], [\"inet\", 20, \"$VIP_C\"],
		  [\"inet\", 40, \"$VIP_B\"]]"
	json_is "an unchanged mapping keeps its counters" \
		".[] | select(.dscp == 10) | .packets == $COUNT"

	before=$OUT
	ctl apply -f "$TMP/second.conf"
	expect "applying the same file again" 0
	check_eq "applying the same file again keeps everything" "$before" \
		"$(table)"

	: >"$TMP/empty.conf"
	ctl apply -f "$TMP/empty.conf"
	expect "an empty file is refused" 1 "hold no mapping"
	check_eq "an empty file leaves the table alone" "$before" "$(table)"
	ctl apply --allow-empty -f "$TMP/empty.conf"
	expect "an empty file with --allow-empty" 0
	check_eq "--allow-empty empties the table" "[]" "$(table)"

	ctl apply -f - <"$TMP/second.conf"
	expect "apply -f - reads standard input" 0
	OUT=$(table)
	json_is "standard input made the table" 'length == 3'
}

# The default files, /etc/l3dsr.conf and /etc/l3dsr.d/*.conf, in order.
test_apply_defaults()
{
	if [ -e /etc/l3dsr.conf ] || [ -e /etc/l3dsr.d ]; then
		skip "apply reads the default files" "this guest has its own"
		return
	fi
	mkdir /etc/l3dsr.d || return
	defer "rm -rf /etc/l3dsr.conf /etc/l3dsr.d"
	echo "dscp 10 vip $VIP_A" >/etc/l3dsr.conf
	echo "dscp 12 vip $VIP_B" >/etc/l3dsr.d/20-b.conf
	echo "dscp 14 vip $VIP_C" >/etc/l3dsr.d/10-c.conf
	echo "dscp 16 vip 1.2.3" >/etc/l3dsr.d/ignored.conf.disabled
	ctl apply
	expect "apply without -f" 0
	OUT=$(table)
	json_is "apply without -f read /etc/l3dsr.conf and /etc/l3dsr.d/*.conf" \
		'map(.dscp) == [10, 12, 14]'
	echo "dscp 12 vip $VIP_C" >/etc/l3dsr.d/30-dup.conf
	ctl apply
	expect "a duplicate in /etc/l3dsr.d: the files named in order" 1 \
		"/etc/l3dsr.d/30-dup.conf:1:" "/etc/l3dsr.d/20-b.conf:1"
}

# --------------------------------------------------------- save

test_save_round_trip()
{
	local before saved

	cat >"$TMP/full.conf" <<-EOF
	dscp 10 vip $VIP_A rip $SRV_ADDR dev eth0 clear-dscp
	dscp 12 vip $VIP_B down
	dscp 46 vip $VIP_V6 rip 2001:db8:192::10 clear-dscp
	EOF
	ctl apply -f "$TMP/full.conf"
	expect "apply a table with rip, dev, clear-dscp and down" 0
	before=$(table_sans_counters)
	OUT=$before
	json_is "down came from the file" \
		'.[] | select(.dscp == 12) | .down == true'

	ctl save -o "$TMP/saved.conf"
	expect "save -o" 0
	ctl save
	expect "save" 0
	saved=$OUT
	check_eq "save -o writes what save prints" "$saved" \
		"$(cat "$TMP/saved.conf")"
	run "$L3DSRCTL" -n "$NS_SRV" flush
	check_eq "flushed" "[]" "$(table)"
	ctl apply -f "$TMP/saved.conf"
	expect "apply what save wrote" 0
	check_eq "save, flush, apply: the same table" "$before" \
		"$(table_sans_counters)"
	ctl save
	check_eq "save again says the same" "$saved" "$OUT"
}

# --------------------------------------------------------- drain

test_drain()
{
	local packets rewritten down_before

	printf 'dscp 10 vip %s rip %s\n' "$VIP_A" "$SRV_ADDR" >"$TMP/drain.conf"
	ctl apply -f "$TMP/drain.conf"
	send_marked
	packets=$(mapping_of 10 | jq .packets)
	check_eq "up: marked packets are rewritten" "$COUNT" "$packets"

	rewritten=$(srv_stat rewritten)
	down_before=$(srv_stat skipped_down)
	ctl set-mapping dscp 10 down
	expect "set-mapping dscp 10 down" 0
	OUT=$(mapping_of 10)
	json_is "show says down, and keeps the counters" \
		".down == true and .packets == $packets"
	ctl show
	check_contains "show (text) says down in FLAGS" "down" \
		"$(grep -E '^inet +10 ' <<< "$OUT")"
	send_marked
	check_eq "down: the mapping rewrites nothing" "$packets" \
		"$(mapping_of 10 | jq .packets)"
	check_eq "down: skipped_down counts the packets" "$COUNT" \
		"$(delta "$(srv_stat skipped_down)" "$down_before")"
	check_eq "down: rewritten does not move" "$rewritten" \
		"$(srv_stat rewritten)"

	ctl save
	check_contains "save keeps down" "dscp 10 vip $VIP_A rip $SRV_ADDR down" \
		"$OUT"

	ctl set-mapping dscp 10 up
	expect "set-mapping dscp 10 up" 0
	send_marked
	OUT=$(mapping_of 10)
	json_is "up again: rewritten again, the counters went on" \
		".down == false and .packets == $((packets + COUNT))"

	ctl set-mapping dscp 10 down up
	expect "down and up together: exit 2" 2 "down"
	ctl set-mapping dscp 10
	expect "neither down nor up: exit 2" 2 "down"
	ctl set-mapping dscp 63 down
	expect "set-mapping of a missing mapping: exit 1" 1 \
		"no mapping for DSCP 63"
	ctl -6 set-mapping dscp 10 down
	expect "-6 set-mapping where only inet maps: exit 1" 1 \
		"no mapping for DSCP 10 (inet6)"
	OUT=$(mapping_of 10)
	json_is "failed set-mapping changed nothing" ".down == false"
}

# --------------------------------------------------------- monitor

test_monitor()
{
	local pid seen

	"$L3DSRCTL" -n "$NS_SRV" -j monitor >>"$TMP/monitor" 2>&1 &
	pid=$!
	track_pid "$pid"
	# Joined once the first change shows up: poke until one does.
	wait_until 50 bash -c "'$L3DSRCTL' -n '$NS_SRV' set-mapping dscp 10 down &&
		'$L3DSRCTL' -n '$NS_SRV' set-mapping dscp 10 up &&
		grep -q . '$TMP/monitor'"
	seen=$(wc -l <"$TMP/monitor")
	run "$L3DSRCTL" -n "$NS_SRV" set-mapping dscp 10 down
	wait_until 50 bash -c "tail -n +$((seen + 1)) '$TMP/monitor' |
		grep -q '\"down\":true'"
	stop_background "$pid"
	OUT=$(tail -n +$((seen + 1)) "$TMP/monitor" | head -n 1)
	json_is "monitor -j shows a drained mapping as down" \
		".event == \"new\" and .mapping.dscp == 10 and
		 .mapping.down == true and .mapping.vip == \"$VIP_A\""
	run "$L3DSRCTL" -n "$NS_SRV" set-mapping dscp 10 up
}

# ------------------------------------------------------ prometheus

# prometheus_valid FILE: the text exposition format, strictly: every
# sample's metric has one HELP and one TYPE before it, names and labels are
# well formed, values are numbers, and no series appears twice.
prometheus_valid()
{
	awk '
	function bad(why) { print FILENAME ":" NR ": " why ": " $0; failed = 1 }
	/^# HELP / {
		if ($3 in help) bad("second HELP")
		help[$3] = 1; next
	}
	/^# TYPE / {
		if ($3 in type) bad("second TYPE")
		if ($4 !~ /^(counter|gauge|untyped|summary|histogram)$/)
			bad("unknown type")
		type[$3] = $4; next
	}
	/^#/ { next }
	/^$/ { bad("empty line"); next }
	{
		if (!match($0, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) { bad("no name"); next }
		name = substr($0, 1, RLENGTH); rest = substr($0, RLENGTH + 1)
		if (!(name in type) || !(name in help)) bad("no HELP/TYPE first")
		if (substr(rest, 1, 1) == "{") {
			lab = "^\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*\\}"
			if (!match(rest, lab)) { bad("bad labels"); next }
			series = name substr(rest, 1, RLENGTH)
			rest = substr(rest, RLENGTH + 1)
		} else {
			series = name
		}
		if (rest !~ /^ [-+]?([0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|NaN|[-+]Inf)$/)
			bad("bad value")
		if (series in seen) bad("series twice")
		seen[series] = 1
		if (type[name] == "counter" && name !~ /_total$/)
			bad("counter without _total")
	}
	END { exit failed }' "$1"
}

test_prometheus()
{
	local rewritten

	send_marked
	ctl stats --prometheus
	expect "stats --prometheus" 0
	printf '%s\n' "$OUT" >"$TMP/metrics"
	check "stats --prometheus is valid exposition format" \
		prometheus_valid "$TMP/metrics"
	rewritten=$(srv_stat rewritten)
	# -n labels every sample with the namespace.
	check_eq "the rewritten counter is the one stats -j gives" \
		"l3dsr_rewritten_total{netns=\"$NS_SRV\"} $rewritten" \
		"$(grep '^l3dsr_rewritten_total{' "$TMP/metrics")"
	check_contains "skipped_down is exported" "l3dsr_skipped_down_total " \
		"$OUT"
	check_eq "a mapping's packets, labelled by family, dscp and vip" \
		"l3dsr_mapping_packets_total{netns=\"$NS_SRV\",family=\"inet\",dscp=\"10\",vip=\"$VIP_A\"} $(mapping_of 10 | jq .packets)" \
		"$(grep '^l3dsr_mapping_packets_total{.*,family="inet",dscp="10",' "$TMP/metrics")"
	ctl -j stats --prometheus
	expect "-j and --prometheus: exit 2" 2 "--prometheus"
}

# ----------------------------------------------------------- check

test_check()
{
	printf 'dscp 10 vip %s\n' "$VIP_A" >"$TMP/check.conf"
	ctl apply -f "$TMP/check.conf"
	ctl -j check
	expect "check on a good setup: exit 0" 0
	json_is "check on a good setup: nothing to warn about" \
		'.ok == true and .fail_count == 0 and .warn_count == 0 and
		 (.checks | map(.level) | all(. == "ok"))'
	json_is "check looked at the module, the VIP and its listener" \
		'[.checks[].check] | (index("module") != null and
		 index("vip_address") != null and index("listener") != null and
		 index("arp_ignore") != null)'
	ctl check
	check_contains "check (text) prints OK lines" "OK   vip_address" "$OUT"

	run ip -n "$NS_SRV" addr del $VIP_A/32 dev lo
	ctl check
	expect "check with the VIP missing from lo: exit 1" 1
	check_contains "the missing VIP is a FAIL naming it" \
		"FAIL vip_address dscp 10 $VIP_A: $VIP_A is on no interface" \
		"$OUT"
	run ip -n "$NS_SRV" addr add $VIP_A/32 dev lo

	printf 'dscp 10 vip %s\ndscp 12 vip %s\n' "$VIP_A" "$VIP_B" \
		>"$TMP/check.conf"
	ctl apply -f "$TMP/check.conf"
	ctl -j check
	expect "check with a VIP nobody listens on: exit 0" 0
	json_is "no listener is a WARN for that VIP only" \
		"[.checks[] | select(.level != \"ok\") |
		  [.level, .check, .subject]] ==
		 [[\"warn\", \"listener\", \"dscp 12 $VIP_B\"]]"

	# As on a host whose files say "sysctls unmanaged".
	sysctl_set "$NS_SRV" net.ipv4.conf.all.arp_ignore=0 \
		net.ipv4.conf.eth0.arp_ignore=0
	ctl -j check
	json_is "arp_ignore 0 is a WARN for eth0" \
		'[.checks[] | select(.check == "arp_ignore")] ==
		 [.checks[] | select(.check == "arp_ignore") |
		  select(.level == "warn" and .subject == "eth0")]'
	sysctl_set "$NS_SRV" net.ipv4.conf.all.arp_ignore=1
}

# ------------------------------------------------- import-iptables

test_import()
{
	# Start from nothing, so the imported mapping's counters are its own.
	run "$L3DSRCTL" -n "$NS_SRV" flush
	printf '*raw\n:PREROUTING ACCEPT [0:0]\n%s\n%s\nCOMMIT\n' \
		"$SEED_RULE" \
		"-A PREROUTING -i eth0 -m dscp --dscp 0x0c -j DADDR --set-daddr $VIP_B" \
		>"$TMP/iptables.save"
	ctl import-iptables "$TMP/iptables.save"
	expect "import-iptables on the seed rule" 0
	printf '%s\n' "$OUT" >"$TMP/imported.conf"
	ctl apply -f "$TMP/imported.conf"
	expect "apply what import-iptables wrote" 0
	OUT=$(table_sans_counters)
	json_is "the imported table is the DADDR rules'" \
		"map([.dscp, .vip, .dev]) == [[10, \"$VIP_A\", null],
					      [12, \"$VIP_B\", \"eth0\"]]"
	send_marked
	check_eq "the imported mapping rewrites" "$COUNT" \
		"$(mapping_of 10 | jq .packets)"
}

if ! setup; then
	fail "namespaces set up"
	tap_end
fi
pass "namespaces set up"
test_apply
test_apply_defaults
test_save_round_trip
test_drain
test_monitor
test_prometheus
test_check
test_import
run "$L3DSRCTL" -n "$NS_SRV" flush

tap_end
