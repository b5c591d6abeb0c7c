#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of the operating side of l3dsrctl, all without the
# module: configuration files through `apply --dry-run`, import-iptables on
# realistic iptables-save output, the Prometheus exposition (checked by
# promtool when Debian's prometheus package is installed), the man pages
# covering every command and keyword, the bash completion, the systemd unit
# (systemd-analyze verify) and what `make install` puts where.
#
# usage: tests/config.sh [L3DSRCTL]
# shellcheck source-path=SCRIPTDIR
set -u

TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
TOOLS_DIR=$(dirname "$TESTS_DIR")
TOOL=$(realpath "${1:-$TOOLS_DIR/l3dsrctl}")

TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT

# shellcheck source=lib.sh
source "$TESTS_DIR/lib.sh"

echo "TAP version 13"

# ----------------------------------------------------- configuration files

cat >"$TMP/a.conf" <<'EOF'
# web
dscp 10 vip 211.115.115.100

	add-mapping   dscp AF41 vip 2001:db8::1 rip 2001:db8::2 dev lo clear-dscp down   # v6
dscp 12 rip 192.0.2.10 vip 211.115.115.101	# keywords in any order
nonlocal dscp 13 vip 211.115.115.102 rip 198.51.100.7
EOF
# The plan's mapping lines alone: the rest depends on this host.
mapping_lines()
{
	grep -E '^(add|change|remove) mapping |^  was: ' <<< "$OUT"
}

ctl apply --dry-run -f "$TMP/a.conf"
expect "apply --dry-run of a good file: exit 3, changes to make" 3 ""
check_eq "apply --dry-run without the module: every mapping is added, inet first, with origins" \
"add mapping dscp 10 vip 211.115.115.100  # $TMP/a.conf:2
add mapping dscp 12 vip 211.115.115.101 rip 192.0.2.10  # $TMP/a.conf:5
add mapping dscp 13 vip 211.115.115.102 rip 198.51.100.7 nonlocal  # $TMP/a.conf:6
add mapping dscp 34 vip 2001:db8::1 rip 2001:db8::2 dev lo clear-dscp down  # $TMP/a.conf:4" \
	"$(mapping_lines)"
check_eq "apply --dry-run: each VIP is an address to add on lo, marked" \
"add address 211.115.115.100/32 dev lo proto 213
add address 211.115.115.101/32 dev lo proto 213
add address 211.115.115.102/32 dev lo proto 213
add address 2001:db8::1/128 dev lo proto 213" \
	"$(grep '^add address' <<< "$OUT")"

# The sysctls the plan sets are the ones this host lacks, read here.
expected=
for key in arp_ignore:1 arp_announce:2; do
	value=$(cat "/proc/sys/net/ipv4/conf/all/${key%:*}")
	[ "$value" -lt "${key#*:}" ] &&
		expected+="set sysctl net.ipv4.conf.all.${key%:*}=${key#*:}  # was $value"$'\n'
done
check_eq "apply --dry-run: ARP sysctls of \"all\" the host lacks" \
	"${expected%$'\n'}" "$(grep '^set sysctl net.ipv4.conf.all' <<< "$OUT")"

# What dry-run prints of mappings is itself a file apply takes.
mapping_lines | sed 's/^add mapping //; s/  #.*//' >"$TMP/again.conf"
ctl apply --dry-run -f "$TMP/again.conf"
check_eq "the plan's mapping lines read back as the same table" \
	"$(sed 's/^/add mapping /' "$TMP/again.conf")" \
	"$(mapping_lines | sed 's/  #.*//')"

printf 'vips unmanaged\nsysctls unmanaged\n' >"$TMP/unmanaged.conf"
ctl -j apply --dry-run -f - -f "$TMP/unmanaged.conf" < "$TMP/a.conf"
check_eq "apply -j --dry-run -f -: the plan in JSON, entries with their origin" \
	'{"changes":4,"module_loaded":false,"backend":null,"mappings":[{"action":"add","family":"inet","dscp":10,"vip":"211.115.115.100","rip":null,"dev":null,"clear_dscp":false,"nonlocal":false,"down":false,"file":"<stdin>","line":2},{"action":"add","family":"inet","dscp":12,"vip":"211.115.115.101","rip":"192.0.2.10","dev":null,"clear_dscp":false,"nonlocal":false,"down":false,"file":"<stdin>","line":5},{"action":"add","family":"inet","dscp":13,"vip":"211.115.115.102","rip":"198.51.100.7","dev":null,"clear_dscp":false,"nonlocal":true,"down":false,"file":"<stdin>","line":6},{"action":"add","family":"inet6","dscp":34,"vip":"2001:db8::1","rip":"2001:db8::2","dev":"lo","clear_dscp":true,"nonlocal":false,"down":true,"file":"<stdin>","line":4}],"addresses":[],"sysctls":[]}' \
	"$OUT"
check_eq "vips unmanaged, sysctls unmanaged: exit 3 for the mappings alone" \
	3 "$RC"

# All flags at once, in any order, come back in one order and mean the same.
printf 'down nonlocal dscp EF clear-dscp vip 2001:db8::9\n' >"$TMP/flags.conf"
ctl apply --dry-run -f "$TMP/flags.conf"
check_eq "apply --dry-run writes every flag, nonlocal included" \
	"add mapping dscp 46 vip 2001:db8::9 clear-dscp nonlocal down  # $TMP/flags.conf:1" \
	"$(mapping_lines)"

# A VIP held without a mapping, on the device vip-device names.
printf 'dscp 10 vip 2001:db8::9\nvip 2001:db8::10\nvip-device lo\n' \
	>"$TMP/vips.conf"
ctl apply --dry-run -f "$TMP/vips.conf"
check_eq "a vip line is an address to hold, beside the mappings' VIPs" \
"add address 2001:db8::9/128 dev lo proto 213
add address 2001:db8::10/128 dev lo proto 213" \
	"$(grep '^add address' <<< "$OUT")"

# One pass reports every bad line of tests/bad/mixed.conf: syntax, the
# kernel's checks, devices, duplicates; the other files of tests/bad are
# each refused for one reason (selftests/l3dsr_server.sh gives the same
# files to the kernel).
ctl apply --dry-run -f "$TMP/a.conf" -f "$TESTS_DIR/bad/mixed.conf"
B=$TESTS_DIR/bad/mixed.conf
expect "one pass reports every bad line: syntax, kernel checks, devices, duplicates" 1 \
"l3dsrctl: apply: $B:4: invalid vip \"211.115.115\": not an IPv4 or IPv6 address
l3dsrctl: apply: $B:5: DSCP \"0\" cannot be mapped: DSCP 0 is every unmarked packet
l3dsrctl: apply: $B:6: unknown keyword \"frob\"
l3dsrctl: apply: $B:7: rip 2001:db8::1 is IPv6 but vip 211.115.115.124 is IPv4: both must be of one family
l3dsrctl: apply: $B:8: missing value after \"dev\"
l3dsrctl: apply: $B:9: \"down\" given twice
l3dsrctl: apply: $B:10: unknown keyword \"replace-mapping\"
l3dsrctl: apply: $B:11: DSCP 10 (inet) is mapped twice: also at $TMP/a.conf:2
l3dsrctl: apply: $B:12: missing \"vip ADDR\"
l3dsrctl: apply: $B:13: unknown keyword \"on\"
l3dsrctl: apply: $B:14: \"nonlocal\" given twice
l3dsrctl: apply: $B:16: vip 224.0.0.1 is a multicast address: a mapping needs a unicast address
l3dsrctl: apply: $B:17: rip ::1 is the loopback address: a mapping needs a unicast address
l3dsrctl: apply: $B:18: \"vips\" takes one word: \"managed\" or \"unmanaged\"
l3dsrctl: apply: $B:20: vip 0.0.0.0 is the unspecified address: a VIP is unicast
l3dsrctl: apply: $B:15: no such device: l3dsr-nodev0
l3dsrctl: apply: $B:19: no such device: l3dsr-nodev1"
check_eq "a bad file prints no plan" "" "$OUT"

for file in "$TESTS_DIR"/bad/*.conf; do
	ctl apply --dry-run -f "$file"
	if [ "$RC" = 1 ] && [ -z "$OUT" ] &&
	   [[ "$ERR" == "l3dsrctl: apply: $file:"[0-9]* ]]; then
		pass "bad/${file##*/}: refused at its line"
	else
		fail "bad/${file##*/}: refused at its line" "exit $RC" "$ERR" \
			"stdout: $OUT"
	fi
done

# The kernel's refusals, each named by the tool before anything is sent.
for vip in 224.0.0.1 239.255.255.250 255.255.255.255 0.0.0.0 \
	   127.0.0.1 127.1.2.3 :: ::1 ff02::1 ff05::2; do
	printf 'dscp 10 vip %s\n' "$vip" >"$TMP/kernel.conf"
	ctl apply --dry-run -f "$TMP/kernel.conf"
	if [ "$RC" = 1 ] && [[ "$ERR" == *"kernel.conf:1: vip $vip is "*": a mapping needs a unicast address" ]]; then
		pass "vip $vip: refused as the kernel would"
	else
		fail "vip $vip: refused as the kernel would" "exit $RC: $ERR"
	fi
done
for vip in 0.1.2.3 1.0.0.0 223.255.255.255 240.0.0.1 192.0.2.255 ::2 \
	   fe80::1 ::ffff:127.0.0.1; do
	printf 'dscp 10 vip %s\n' "$vip" >"$TMP/kernel.conf"
	ctl apply --dry-run -f "$TMP/kernel.conf" -f "$TMP/unmanaged.conf"
	check_eq "vip $vip: taken, as the kernel takes it" 3 "$RC"
done

# A file of nothing but bad lines: the first errors, then how many more.
for ((i = 0; i < 5000; i++)); do
	echo "dscp 10 vip nowhere"
done >"$TMP/many.conf"
ctl apply --dry-run -f "$TMP/many.conf"
check_eq "5000 bad lines: 20 printed, then how many more, exit 1" \
	"20|l3dsrctl: apply: ... and 4980 more errors|1" \
	"$(grep -c "many.conf:[0-9]*: invalid vip" <<< "$ERR")|$(tail -n 1 <<< "$ERR")|$RC"

# A byte order mark, as some editors write one, is not part of a word.
printf '\xef\xbb\xbfdscp 10 vip 211.115.115.100\n' >"$TMP/bom.conf"
ctl apply --dry-run -f "$TMP/bom.conf" -f "$TMP/unmanaged.conf"
check_eq "a UTF-8 byte order mark is accepted" \
	"3|add mapping dscp 10 vip 211.115.115.100  # $TMP/bom.conf:1" \
	"$RC|$OUT"
printf 'dscp 10 vip 211.115.115.100\n\xef\xbb\xbfdscp 11 vip 211.115.115.101\n' \
	>"$TMP/bom2.conf"
ctl apply --dry-run -f "$TMP/bom2.conf"
check_eq "a byte order mark past the start is a bad word, named" 1 "$RC"

printf 'dscp 10 vip 192.0.2.1\0\n' >"$TMP/binary.conf"
ctl apply --dry-run -f "$TMP/binary.conf"
expect "a NUL byte is refused" 1 \
	"l3dsrctl: apply: $TMP/binary.conf:1: a NUL byte: this is not a text file"

ctl apply --dry-run -f "$TMP/absent.conf"
expect "a missing file: exit 1, named" 1 \
	"l3dsrctl: apply: $TMP/absent.conf: cannot open: No such file or directory"
ctl apply --dry-run -f "$TMP"
expect "a directory: exit 1, named" 1 "l3dsrctl: apply: $TMP: is a directory"

# A table emptied takes an explicit word.
readonly EMPTY_REFUSED="l3dsrctl: apply: the files hold no mapping: applying them would empty the table, which is left as it is (write a \"flush\" line in them, or give --allow-empty, to empty it on purpose)"
: >"$TMP/empty.conf"
ctl apply --dry-run -f "$TMP/empty.conf"
expect "an empty file is refused, dry run or not" 1 "$EMPTY_REFUSED"
check_eq "an empty file prints no plan" "" "$OUT"
printf '# nothing yet\n\nvip 2001:db8::10\n' >"$TMP/comments.conf"
ctl apply --dry-run -f "$TMP/comments.conf"
expect "comments and a vip line hold no mapping: refused" 1 "$EMPTY_REFUSED"
printf 'flush\n' >"$TMP/flush.conf"
ctl apply --dry-run -f "$TMP/flush.conf"
expect "a flush line: an empty table on purpose" 0 ""
check_eq "nothing to change without the module" "nothing to change" "$OUT"
ctl apply --dry-run --allow-empty -f "$TMP/empty.conf"
expect "--allow-empty: an empty table on purpose" 0 ""
printf 'flush\nflush\nvips managed\nvips unmanaged\nflush now\nvip-device\n' \
	>"$TMP/twice.conf"
ctl apply --dry-run -f "$TMP/twice.conf"
expect "directives given twice or malformed" 1 \
"l3dsrctl: apply: $TMP/twice.conf:2: \"flush\" given twice: also at $TMP/twice.conf:1
l3dsrctl: apply: $TMP/twice.conf:4: \"vips\" given twice: also at $TMP/twice.conf:3
l3dsrctl: apply: $TMP/twice.conf:5: \"flush\" stands alone on its line
l3dsrctl: apply: $TMP/twice.conf:6: \"vip-device\" takes one device name"

for args in "--bogus" "-f" "-f $TMP/a.conf -f $TMP/a.conf" "-f - -f -" \
	    "-4 apply" "-6 apply"; do
	case $args in
	-4* | -6*)
		# shellcheck disable=SC2086 # split on purpose
		ctl ${args% apply} apply --dry-run -f "$TMP/a.conf" ;;
	*)
		# shellcheck disable=SC2086 # split on purpose
		ctl apply --dry-run $args ;;
	esac
	if [ "$RC" == 2 ] && [[ "$ERR" == "l3dsrctl: apply: "* ]] &&
	   [ -z "$OUT" ]; then
		pass "apply $args: exit 2"
	else
		fail "apply $args: exit 2" "exit $RC: $ERR"
	fi
done

# -------------------------------------------------------- import-iptables

# A legacy iptables-save of a server running DADDR beside ordinary rules,
# with counters (-c), quoting, both --set-daddr forms and hex DSCPs.
cat >"$TMP/iptables.save" <<'EOF'
# Generated by iptables-save v1.8.9 (legacy) on Sun Nov 22 08:00:00 2026
*raw
:PREROUTING ACCEPT [3317:421036]
:OUTPUT ACCEPT [2904:388211]
[120:7200] -A PREROUTING -m dscp --dscp 0x0a -j DADDR --set-daddr=211.115.115.100
[0:0] -A PREROUTING -i eth0 -d 10.1.2.3/32 -m dscp --dscp-class AF41 -m comment --comment "web \"front\" pool" -j DADDR --set-daddr 211.115.115.101
[0:0] -A PREROUTING -p tcp -m tcp --dport 80 -m dscp --dscp 0x0c -j DADDR --set-daddr 211.115.115.102
[0:0] -A OUTPUT -o lo -j ACCEPT
COMMIT
# Completed on Sun Nov 22 08:00:00 2026
# Generated by iptables-save v1.8.9 (legacy) on Sun Nov 22 08:00:00 2026
*mangle
:PREROUTING ACCEPT [3317:421036]
:DSR - [0:0]
[0:0] -A PREROUTING -j DSR
[0:0] -A DSR -m dscp ! --dscp 0x0e -j DADDR --set-daddr 211.115.115.103
[0:0] -A DSR -d 10.0.0.0/8 -m dscp --dscp 0x10 -j DADDR --set-daddr 211.115.115.104
[0:0] -A DSR -i eth+ -m dscp --dscp 0x12 -j DADDR --set-daddr 211.115.115.105
[0:0] -A DSR -m dscp --dscp 0x0a -j DADDR --set-daddr 211.115.115.106
[0:0] -A DSR -j DADDR --set-daddr 211.115.115.107
[0:0] -A DSR -m dscp --dscp 0x00 -j DADDR --set-daddr 211.115.115.108
[0:0] -A DSR -m dscp --dscp 20 -j DADDR --set-daddr=211.115.115.109/32
COMMIT
*filter
:INPUT ACCEPT [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
COMMIT
EOF
ctl import-iptables "$TMP/iptables.save"
expect "import-iptables lists every rule it cannot carry over, exit 1" 1 \
"l3dsrctl: import-iptables: $TMP/iptables.save:5: not converted: DSCP 10 (inet) is rewritten again by line 19 (mangle DSR), which runs after this rule and matches every packet it rewrote: DADDR does not end the chain, so line 19's VIP 211.115.115.106 was in effect and is the one converted: [120:7200] -A PREROUTING -m dscp --dscp 0x0a -j DADDR --set-daddr=211.115.115.100
l3dsrctl: import-iptables: $TMP/iptables.save:7: not converted: \"-p tcp\" matches more than a mapping can: [0:0] -A PREROUTING -p tcp -m tcp --dport 80 -m dscp --dscp 0x0c -j DADDR --set-daddr 211.115.115.102
l3dsrctl: import-iptables: $TMP/iptables.save:16: not converted: \"! --dscp 0x0e\" is a negation, which a mapping cannot express: [0:0] -A DSR -m dscp ! --dscp 0x0e -j DADDR --set-daddr 211.115.115.103
l3dsrctl: import-iptables: $TMP/iptables.save:17: not converted: -d \"10.0.0.0/8\" is a prefix: a mapping's rip is one address: [0:0] -A DSR -d 10.0.0.0/8 -m dscp --dscp 0x10 -j DADDR --set-daddr 211.115.115.104
l3dsrctl: import-iptables: $TMP/iptables.save:18: not converted: -i eth+ is a wildcard: dev names one device: [0:0] -A DSR -i eth+ -m dscp --dscp 0x12 -j DADDR --set-daddr 211.115.115.105
l3dsrctl: import-iptables: $TMP/iptables.save:20: not converted: no -m dscp --dscp: the rule rewrites every packet, which l3dsr never does: [0:0] -A DSR -j DADDR --set-daddr 211.115.115.107
l3dsrctl: import-iptables: $TMP/iptables.save:21: not converted: DSCP 0 is every unmarked packet and cannot be mapped: [0:0] -A DSR -m dscp --dscp 0x00 -j DADDR --set-daddr 211.115.115.108
l3dsrctl: import-iptables: 3 of 10 DADDR rules converted; the others need a decision"
check_eq "import-iptables converts what it can, the rule in effect for DSCP 10 (raw runs before mangle), each line saying where from" \
"# l3dsr mappings converted by \`l3dsrctl import-iptables\` from the DADDR
# rules of $TMP/iptables.save. Check them, then: l3dsrctl apply -f FILE
dscp 34 vip 211.115.115.101 rip 10.1.2.3 dev eth0  # line 6, raw PREROUTING: web \"front\" pool
dscp 10 vip 211.115.115.106  # line 19, mangle DSR
dscp 20 vip 211.115.115.109  # line 22, mangle DSR" "$OUT"

# DADDR rules where PREROUTING does not run them for every packet they
# match, and several rules for one DSCP, which DADDR (it returns
# XT_CONTINUE) all ran: the last one rewrote last.
cat >"$TMP/chains.save" <<'EOF'
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DSR - [0:0]
:WEB - [0:0]
:LOCAL - [0:0]
:SPARE - [0:0]
-A PREROUTING -j DSR
-A PREROUTING -p tcp -m tcp --dport 443 -j WEB
-A PREROUTING -p udp -m udp --dport 53 -j ACCEPT
-A PREROUTING -m dscp --dscp 0x10 -j DADDR --set-daddr 203.0.113.20
-A PREROUTING -j ACCEPT
-A PREROUTING -m dscp --dscp 0x11 -j DADDR --set-daddr 203.0.113.21
-A INPUT -m dscp --dscp 0x01 -j DADDR --set-daddr 203.0.113.1
-A FORWARD -m dscp --dscp 0x02 -j DADDR --set-daddr 203.0.113.2
-A OUTPUT -j LOCAL
-A OUTPUT -m dscp --dscp 0x03 -j DADDR --set-daddr 203.0.113.3
-A POSTROUTING -m dscp --dscp 0x04 -j DADDR --set-daddr 203.0.113.4
-A DSR -m dscp --dscp 0x0a -j DADDR --set-daddr 203.0.113.10
-A DSR -m dscp --dscp 0x0a -j DADDR --set-daddr 203.0.113.11
-A DSR -d 10.0.0.5/32 -m dscp --dscp 0x0a -j DADDR --set-daddr 203.0.113.12
-A DSR -i eth0 -m dscp --dscp 0x0b -j DADDR --set-daddr 203.0.113.13
-A DSR -i eth1 -m dscp --dscp 0x0b -j DADDR --set-daddr 203.0.113.14
-A DSR -i eth0 -m dscp --dscp 0x0c -j DADDR --set-daddr 203.0.113.15
-A DSR -m dscp --dscp 0x0c -j DADDR --set-daddr 203.0.113.16
-A WEB -m dscp --dscp 0x0d -j DADDR --set-daddr 203.0.113.17
-A LOCAL -m dscp --dscp 0x0e -j DADDR --set-daddr 203.0.113.18
-A SPARE -m dscp --dscp 0x0f -j DADDR --set-daddr 203.0.113.19
COMMIT
EOF
ctl import-iptables "$TMP/chains.save"
routed="l3dsr rewrites only received packets, before routing (PREROUTING)"
expect "import-iptables refuses DADDR outside PREROUTING and says which rule of a DSCP was in effect" 1 \
"l3dsrctl: import-iptables: $TMP/chains.save:14: not converted: packets matching \"-p udp -m udp --dport 53\" leave PREROUTING at line 13 (-j ACCEPT) before this rule, and a mapping would rewrite them too: -A PREROUTING -m dscp --dscp 0x10 -j DADDR --set-daddr 203.0.113.20
l3dsrctl: import-iptables: $TMP/chains.save:16: not converted: it never runs: every packet leaves PREROUTING before it (an ACCEPT, RETURN, DROP or goto matching everything): -A PREROUTING -m dscp --dscp 0x11 -j DADDR --set-daddr 203.0.113.21
l3dsrctl: import-iptables: $TMP/chains.save:17: not converted: mangle INPUT: DADDR there rewrote packets already routed to this host, so the VIP played no part in routing them; $routed: -A INPUT -m dscp --dscp 0x01 -j DADDR --set-daddr 203.0.113.1
l3dsrctl: import-iptables: $TMP/chains.save:18: not converted: mangle FORWARD: DADDR there rewrote packets routed through this host; $routed: -A FORWARD -m dscp --dscp 0x02 -j DADDR --set-daddr 203.0.113.2
l3dsrctl: import-iptables: $TMP/chains.save:20: not converted: mangle OUTPUT: DADDR there rewrote packets this host sends; $routed: -A OUTPUT -m dscp --dscp 0x03 -j DADDR --set-daddr 203.0.113.3
l3dsrctl: import-iptables: $TMP/chains.save:21: not converted: mangle POSTROUTING: DADDR there rewrote packets leaving this host, sent or forwarded; $routed: -A POSTROUTING -m dscp --dscp 0x04 -j DADDR --set-daddr 203.0.113.4
l3dsrctl: import-iptables: $TMP/chains.save:22: not converted: DSCP 10 (inet) is rewritten again by line 23 (mangle DSR), which runs after this rule and matches every packet it rewrote: DADDR does not end the chain, so line 23's VIP 203.0.113.11 was in effect and is the one converted: -A DSR -m dscp --dscp 0x0a -j DADDR --set-daddr 203.0.113.10
l3dsrctl: import-iptables: $TMP/chains.save:24: not converted: it never matches: line 23 (mangle DSR) ran first and rewrote every DSCP 10 packet it sees to 203.0.113.11, so -d 10.0.0.5 no longer matches; line 23 is in effect and converted: -A DSR -d 10.0.0.5/32 -m dscp --dscp 0x0a -j DADDR --set-daddr 203.0.113.12
l3dsrctl: import-iptables: $TMP/chains.save:25: not converted: lines 25 and 26 rewrite DSCP 11 (inet) for different packets (their -i or -d differ), to different VIPs: one mapping per DSCP cannot do both; keep one: -A DSR -i eth0 -m dscp --dscp 0x0b -j DADDR --set-daddr 203.0.113.13
l3dsrctl: import-iptables: $TMP/chains.save:26: not converted: lines 25 and 26 rewrite DSCP 11 (inet) for different packets (their -i or -d differ), to different VIPs: one mapping per DSCP cannot do both; keep one: -A DSR -i eth1 -m dscp --dscp 0x0b -j DADDR --set-daddr 203.0.113.14
l3dsrctl: import-iptables: $TMP/chains.save:27: not converted: DSCP 12 (inet) is rewritten again by line 28 (mangle DSR), which runs after this rule and matches every packet it rewrote: DADDR does not end the chain, so line 28's VIP 203.0.113.16 was in effect and is the one converted: -A DSR -i eth0 -m dscp --dscp 0x0c -j DADDR --set-daddr 203.0.113.15
l3dsrctl: import-iptables: $TMP/chains.save:29: not converted: chain WEB is entered only through line 12, for packets matching \"-p tcp -m tcp --dport 443\", which a mapping cannot express: -A WEB -m dscp --dscp 0x0d -j DADDR --set-daddr 203.0.113.17
l3dsrctl: import-iptables: $TMP/chains.save:30: not converted: chain LOCAL is reached from OUTPUT (line 19): DADDR there rewrote packets this host sends; $routed: -A LOCAL -m dscp --dscp 0x0e -j DADDR --set-daddr 203.0.113.18
l3dsrctl: import-iptables: $TMP/chains.save:31: not converted: no rule jumps to chain SPARE, so this rule never runs: -A SPARE -m dscp --dscp 0x0f -j DADDR --set-daddr 203.0.113.19
l3dsrctl: import-iptables: 2 of 16 DADDR rules converted; the others need a decision"
check_eq "import-iptables converts the rules in effect for every packet of their DSCP" \
"# l3dsr mappings converted by \`l3dsrctl import-iptables\` from the DADDR
# rules of $TMP/chains.save. Check them, then: l3dsrctl apply -f FILE
dscp 10 vip 203.0.113.11  # line 23, mangle DSR
dscp 12 vip 203.0.113.16  # line 28, mangle DSR" "$OUT"

# A chain entered for some packets and, later, for all: every packet meets
# the rule, so it converts (the chain not declared, as by hand).
printf '%s\n' '*raw' ':PREROUTING ACCEPT [0:0]' \
	'-A PREROUTING -p tcp -j DSR' '-A PREROUTING -j DSR' \
	'-A DSR -m dscp --dscp 0x0a -j DADDR --set-daddr 203.0.113.30' \
	'COMMIT' >"$TMP/twice.save"
ctl import-iptables "$TMP/twice.save"
expect "a chain also entered by every packet: its rule converts" 0 ""
check_eq "... as the mapping of raw DSR" \
	"dscp 10 vip 203.0.113.30  # line 5, raw DSR" "$(grep -v '^#' <<< "$OUT")"

# Chains that jump twice to the next, 60 deep, make 2^60 paths: the walk
# gives up at once and says so, rather than run for ever.
{
	printf '*mangle\n:PREROUTING ACCEPT [0:0]\n'
	for i in $(seq 0 59); do printf ':C%d - [0:0]\n' "$i"; done
	echo '-A PREROUTING -j C0'
	for i in $(seq 0 58); do
		printf -- '-A C%d -j C%d\n-A C%d -j C%d\n' "$i" $((i + 1)) \
			"$i" $((i + 1))
	done
	echo '-A C59 -m dscp --dscp 5 -j DADDR --set-daddr 192.0.2.1'
	echo 'COMMIT'
} >"$TMP/paths.save"
ctl import-iptables "$TMP/paths.save"
expect "tables too intricate to follow: the rule is named, not judged" 1 \
"l3dsrctl: import-iptables: $TMP/paths.save:182: not converted: the chains nest deeper than 64, or jump to each other more often than can be followed here: check the rule by hand: -A C59 -m dscp --dscp 5 -j DADDR --set-daddr 192.0.2.1
l3dsrctl: import-iptables: 0 of 1 DADDR rules converted; the others need a decision"

# The seed's rule, as iptables-save and ip6tables-save print such rules,
# through standard input: everything converts, and apply takes the result.
{
	printf '*raw\n:PREROUTING ACCEPT [0:0]\n'
	echo '-A PREROUTING -m dscp --dscp 10 -j DADDR --set-daddr=211.115.115.100'
	echo 'COMMIT'
	printf '*raw\n:PREROUTING ACCEPT [0:0]\n'
	echo '-A PREROUTING -d 2001:db8::10/128 -m dscp --dscp 0x2e -j DADDR --set-daddr 2001:db8::100'
	echo 'COMMIT'
} >"$TMP/seed.save"
ctl import-iptables - <"$TMP/seed.save"
expect "import-iptables of the seed rule: exit 0, nothing on stderr" 0 ""
printf '%s\n' "$OUT" >"$TMP/seed.conf"
ctl apply --dry-run -f "$TMP/seed.conf"
check_eq "apply takes what import-iptables wrote" \
"add mapping dscp 10 vip 211.115.115.100  # $TMP/seed.conf:3
add mapping dscp 46 vip 2001:db8::100 rip 2001:db8::10  # $TMP/seed.conf:4" \
	"$(mapping_lines)"

printf '*filter\n-A INPUT -j ACCEPT\nCOMMIT\n' | "$TOOL" import-iptables \
	>"$TMP/out" 2>"$TMP/err"
RC=$?
ERR=$(cat "$TMP/err")
expect "no DADDR rule at all: exit 0, said on stderr" 0 \
	"l3dsrctl: import-iptables: <stdin>: no DADDR rules found"
ctl import-iptables "$TMP/absent.save"
expect "a missing file: exit 1" 1 \
	"l3dsrctl: import-iptables: cannot open $TMP/absent.save: No such file or directory"
ctl import-iptables a b
check_eq "two files: exit 2" 2 "$RC"

# ------------------------------------------------------------ prometheus

"$TESTS_DIR/unit" "$TMP/sample.prom" >/dev/null
missing=
for counter in rewritten rewritten_fragments skipped_scope skipped_not_host \
	       skipped_malformed skipped_routing_header dropped_unwritable \
	       skipped_down skipped_not_local skipped_bridged skipped_protocol; do
	for line in "# HELP l3dsr_${counter}_total " \
		    "# TYPE l3dsr_${counter}_total counter" \
		    "l3dsr_${counter}_total{"; do
		grep -qF -- "$line" "$TMP/sample.prom" || missing+=" $line"
	done
done
check_eq "the exposition has every counter, with HELP and TYPE" "" "$missing"
if command -v promtool >/dev/null; then
	if out=$(promtool check metrics <"$TMP/sample.prom" 2>&1); then
		pass "promtool accepts the exposition"
	else
		fail "promtool accepts the exposition" "$out" \
			"$(cat "$TMP/sample.prom")"
	fi
else
	echo "ok $((count += 1)) - promtool accepts the exposition # SKIP no promtool (apt-get install prometheus)"
fi
ctl -j stats --prometheus
check_eq "-j with --prometheus: exit 2" 2 "$RC"

# ------------------------------------------------------------- man pages

render()
{
	groff -t -man -rLL=300n -rHY=0 -Tascii -P-cbou "$1" 2>/dev/null
}

for page in man/l3dsrctl.8 man/l3dsr.conf.5 man/l3dsr.7; do
	warnings=$(LC_ALL=C.UTF-8 groff -t -man -ww -z -Tutf8 \
		   "$TOOLS_DIR/$page" 2>&1)
	check_eq "$page renders without warnings" "" "$warnings"
done

ctl help
commands=$(awk '/^Commands:/ { c = 1; next } /^$/ { c = 0 }
		c && /^  [a-z]/ { print $1 }' <<< "$OUT")
rendered=$(render "$TOOLS_DIR/man/l3dsrctl.8")
missing=
for word in $commands set-mapping apply save import-iptables check \
	    --dry-run -f --prometheus down up skipped_down nonlocal \
	    "nonlocal on" "nonlocal off" skipped_not_local skipped_bridged \
	    skipped_protocol br_netfilter \
	    /etc/l3dsr.conf /etc/l3dsr.d OK WARN FAIL module vip_address \
	    rip_address listener arp_ignore arp_announce rp_filter daddr_rules \
	    ok_count warn_count fail_count level subject message \
	    l3dsr_mapping_packets_total l3dsr_mapping_bytes_total \
	    l3dsr_mapping_down --set-daddr --dscp-class --allow-empty \
	    "save -o" add-vip vip-device del-vip "proto 213" \
	    "nothing to change" "exit status 0" L3DSRCTL_SKIP_CHECKS \
	    module_loaded addresses sysctls; do
	grep -qF -- "$word" <<< "$rendered" || missing+=" $word"
done
check_eq "l3dsrctl(8) names every new command, keyword, key and check" \
	"" "$missing"

rendered=$(render "$TOOLS_DIR/man/l3dsr.conf.5")
missing=
for word in /etc/l3dsr.conf /etc/l3dsr.d dscp vip rip dev clear-dscp nonlocal \
	    down add-mapping '#' "l3dsrctl apply" l3dsr.service vip-device \
	    "vips managed" unmanaged "sysctls managed" flush "protocol 213" \
	    arp_ignore arp_announce rp_filter "byte order mark" \
	    "and 4980 more errors" --allow-empty unicast; do
	grep -qF -- "$word" <<< "$rendered" || missing+=" $word"
done
check_eq "l3dsr.conf(5) names every keyword and file" "" "$missing"

rendered=$(render "$TOOLS_DIR/man/l3dsr.7")
missing=
for word in rewritten rewritten_fragments skipped_scope skipped_not_host \
	    skipped_malformed skipped_routing_header dropped_unwritable \
	    skipped_down skipped_not_local skipped_bridged skipped_protocol \
	    nonlocal "version 2" /sys/kernel/l3dsr/stats/ \
	    /sys/kernel/l3dsr/mappings/ipv4 \
	    /sys/kernel/l3dsr/mappings/ipv6 "no parameters" l3dsr.h config \
	    SET_TABLE SET_MAPPING -310; do
	grep -qF -- "$word" <<< "$rendered" || missing+=" $word"
done
check_eq "l3dsr(7) names every counter, the sysfs layout and the family" \
	"" "$missing"

# ------------------------------------------------------------ completion

# shellcheck source=../completion/l3dsrctl.bash
source "$TOOLS_DIR/completion/l3dsrctl.bash"

complete_line()
{
	COMP_LINE="$TOOL $1"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_l3dsrctl
	echo "${COMPREPLY[*]}"
}

check_eq "completion: set-mapping keywords" "dscp down up nonlocal" \
	"$(complete_line "set-mapping ")"
check_eq "completion: down or up, not both" "nonlocal" \
	"$(complete_line "set-mapping dscp 10 down ")"
check_eq "completion: set-mapping nonlocal takes on or off" "on off" \
	"$(complete_line "set-mapping dscp 10 nonlocal ")"
check_eq "completion: on or off, by prefix" "off" \
	"$(complete_line "set-mapping dscp 10 nonlocal of")"
check_eq "completion: apply options, -f again" "-f --allow-empty" \
	"$(complete_line "apply -f x --dry-run ")"
check_eq "completion: stats --prometheus" "--prometheus" \
	"$(complete_line "stats --p")"
check_eq "completion: apply -f completes files" "$TMP/a.conf" \
	"$(complete_line "apply -f $TMP/a.c")"
check_eq "completion: import-iptables completes files" "$TMP/iptables.save" \
	"$(complete_line "import-iptables $TMP/iptables.s")"
check_eq "completion: check takes nothing, save -o" " -o" \
	"$(complete_line "check ") $(complete_line "save ")"
check_eq "completion: save -o completes files" "$TMP/a.conf" \
	"$(complete_line "save -o $TMP/a.c")"

# ------------------------------------------------ systemd unit, install

make -s -C "$TOOLS_DIR" install DESTDIR="$TMP/root" >"$TMP/install.log" 2>&1
installed=$(cd "$TMP/root" && find . -type f | sort | tr '\n' ' ')
check_eq "make install puts every file in place" \
	"./lib/systemd/system/l3dsr.service ./usr/sbin/l3dsrctl ./usr/share/bash-completion/completions/l3dsrctl ./usr/share/doc/l3dsr-tools/examples/l3dsr.conf ./usr/share/man/man5/l3dsr.conf.5 ./usr/share/man/man7/l3dsr.7 ./usr/share/man/man8/l3dsrctl.8 " \
	"$installed"
make -s -C "$TOOLS_DIR" install DESTDIR="$TMP/local" PREFIX=/usr/local \
	UNITDIR=/etc/systemd/system >/dev/null 2>&1
check_eq "the unit runs the tool where SBINDIR put it" \
	"ExecStart=/usr/local/sbin/l3dsrctl apply" \
	"$(grep '^ExecStart=' "$TMP/local/etc/systemd/system/l3dsr.service")"

UNIT=$TMP/root/lib/systemd/system/l3dsr.service
for key in Type=oneshot RemainAfterExit=yes \
	   "ExecStartPre=/sbin/modprobe l3dsr" \
	   "ExecStart=/usr/sbin/l3dsrctl apply" \
	   "ExecReload=/usr/sbin/l3dsrctl apply" Before=network.target \
	   WantedBy=multi-user.target; do
	if grep -qxF "$key" "$UNIT"; then
		pass "the unit says $key"
	else
		fail "the unit says $key"
	fi
done
if command -v systemd-analyze >/dev/null; then
	# Installed where its ExecStart exists, so verify can look at it.
	make -s -C "$TOOLS_DIR" install PREFIX="$TMP/prefix" \
		UNITDIR="$TMP/prefix/unit" >/dev/null 2>&1
	out=$(systemd-analyze verify --man=no \
	      "$TMP/prefix/unit/l3dsr.service" 2>&1)
	check_eq "systemd-analyze verify finds nothing wrong with the unit" \
		"" "$out"
else
	echo "ok $((count += 1)) - systemd-analyze verify # SKIP no systemd-analyze"
fi
missing=
read -ra pages <<< "$(sed -n 's/^Documentation=//p' "$UNIT")"
for page in "${pages[@]}"; do
	page=${page#man:}
	section=${page##*(}
	section=${section%)}
	[ -f "$TMP/root/usr/share/man/man$section/${page%(*}.$section" ] ||
		missing+=" $page"
done
check_eq "the unit's Documentation= pages are installed" "" "$missing"
# The example names eth0, which a build machine may lack: lo stands in.
sed 's/dev eth0/dev lo/' \
	"$TMP/root/usr/share/doc/l3dsr-tools/examples/l3dsr.conf" \
	>"$TMP/example.conf"
ctl apply --dry-run -f "$TMP/example.conf"
expect "the example configuration is valid" 3 ""
check_eq "the example configuration has its four mappings" 4 \
	"$(grep -c '^add mapping ' <<< "$OUT")"

echo "1..$count"
echo "# $((count - failed)) passed, $failed failed"
[ "$failed" = 0 ]
