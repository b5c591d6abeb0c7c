#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of `make bench` (selftests/bench/README): measures what each
# way of turning a RIP back into a VIP costs per received packet, and checks
# that every measured packet was handled as the variant says.
#
#   guest.sh [--count N] [--warmup N] [--rounds N] [--variants "V ..."]
#            [--smoke]
#   guest.sh --trace VARIANT
#
# Runs as root in the initial network namespace of a VM that boots with
# `-icount shift=0,sleep=off -smp 1`, so guest time counts instructions.
#
#       pktgen (netif_receive: as if bench0 had received the packet)
#         |
#         v
#     [bench0]  RIP 192.0.2.2, 2001:db8:1::2    peer bench1 (carrier only)
#         |
#     PREROUTING -310  empty hook / l3dsr        (the variant under test)
#     PREROUTING -300  nft raw-priority rules    (the nft variants)
#     PREROUTING  300  terminator: count by destination (RIP, VIP or
#                      OTHER), drop
#
# Output, one line per measurement and nothing else that starts with
# "bench-":
#   bench-config KEY=VALUE...
#   bench-variant NAME DESCRIPTION
#   bench-result ROUND VARIANT FAMILY SIZE ok ELAPSED_US IDLE_US PACKETS
#   bench-result ROUND VARIANT FAMILY SIZE fail REASON...
# ELAPSED_US is pktgen's time for PACKETS packets, IDLE_US the part of it its
# thread was scheduled out. Commentary lines start with "#".
#
# --trace VARIANT (trace.sh): sets VARIANT up with the empty hook beside it,
# prints where the code of both modules and of the kernel was loaded, then
# "bench-trace-ready", and sends the variant's 64-byte packets, IPv4 and
# IPv6 in turn, until the VM is stopped:
#   bench-trace-sym ADDRESS TYPE NAME [MODULE]   (/proc/kallsyms)
#   bench-trace-section MODULE SECTION ADDRESS   (/sys/module)

set -u
set -o pipefail

readonly PROG=guest.sh
readonly DEV=bench0 PEER=bench1 MTU=9100
readonly SRC4=198.51.100.1 RIP4=192.0.2.2
readonly SRC6=2001:db8:2::1 RIP6=2001:db8:1::2
# Another address of the RIP's subnet, on no interface: not this host's.
readonly OTHER4=192.0.2.3 OTHER6=2001:db8:1::3
# The packets carry DSCP 10; pktgen takes the whole TOS / traffic class byte
# in hex, DSCP in its upper six bits.
readonly DSCP=10 TOS_HEX=28
readonly VIP4=203.0.113.$DSCP VIP6=2001:db8:ffff::$DSCP
readonly LARGE_SIZE=9000 LARGE_FRAGS=4
readonly PG=/proc/net/pktgen
readonly END_TABLE=l3dsr_bench_end NFT_TABLE=l3dsr_bench
readonly STATS=(rewritten rewritten_fragments skipped_scope skipped_not_host
	skipped_malformed skipped_routing_header dropped_unwritable
	skipped_down skipped_not_local skipped_bridged skipped_protocol)
# The terminator's counters, one per destination a packet can end at.
readonly FATES=(rip vip other)

COUNT=100000
WARMUP=1000
ROUNDS=3
VARIANTS=(none none_vip none_other empty_hook l3dsr_empty l3dsr_miss
	l3dsr_hit_1 l3dsr_hit_63 l3dsr_rip l3dsr_dev l3dsr_not_local nft_1
	nft_63 nft_map nftbackend_hit nftbackend_miss nftbackend_not_local
	l3dsr_rules_hit l3dsr_rules_miss)
# A policy routing rule the packets do not match (they carry no mark): it
# makes the namespace one "with custom rules", and that stays so after the
# rule is deleted (the kernel never clears net->ipv4.fib_has_custom_rules
# nor its IPv6 twin). Variants that add it therefore run after every other
# variant's rounds (main()).
readonly RULE_PREF=100 RULE_MARK=1 RULE_TABLE=100
# Left out of --smoke (bench.sh --smoke, run by `make check`) to keep it
# about a minute: its path is l3dsr_miss's, which the smoke run checks.
readonly SMOKE_SKIP=(l3dsr_rules_miss)
CASES=("ipv4 64" "ipv4 $LARGE_SIZE" "ipv6 64" "ipv6 $LARGE_SIZE")

declare -A DESCRIPTION=(
	[none]="no rule (baseline)"
	[none_vip]="no rule, packets sent to the VIP itself (terminator calibration)"
	[none_other]="no rule, packets sent to an address not this host's (terminator calibration)"
	[empty_hook]="empty hook at -310 returning NF_ACCEPT"
	[l3dsr_empty]="l3dsr loaded, no mappings"
	[l3dsr_miss]="l3dsr, DSCP unmapped, the 62 other DSCPs mapped"
	[l3dsr_hit_1]="l3dsr hit, 1 mapping"
	[l3dsr_hit_63]="l3dsr hit, 63 mappings"
	[l3dsr_rip]="l3dsr hit, 1 mapping scoped to the RIP"
	[l3dsr_dev]="l3dsr hit, 1 mapping scoped to the device"
	[l3dsr_not_local]="l3dsr, mapped DSCP, destination not this host's"
	[l3dsr_rules_hit]="l3dsr hit, 1 mapping, in a namespace with a custom ip rule"
	[l3dsr_rules_miss]="l3dsr, DSCP unmapped (62 others mapped), with a custom ip rule"
	[nft_1]="nft, 1 rule 'dscp 10 daddr set VIP notrack' at raw priority"
	[nft_63]="nft, 63 such rules, match in the last"
	[nft_map]="nft, 1 rule with a 63-entry dscp map"
	[nftbackend_hit]="l3dsrctl --backend nft (no module), hit, 1 mapping"
	[nftbackend_miss]="l3dsrctl --backend nft, DSCP unmapped, the 62 other DSCPs mapped"
	[nftbackend_not_local]="l3dsrctl --backend nft, mapped DSCP, destination not this host's"
)

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { msg "$*"; exit 1; }

usage() {
	echo "usage: $PROG [--count N] [--warmup N] [--rounds N] [--variants \"V ...\"] [--smoke]" >&2
	echo "       $PROG --trace VARIANT" >&2
	exit 2
}

vip4_of() { printf '203.0.113.%d\n' "$1"; }
vip6_of() { printf '2001:db8:ffff::%d\n' "$1"; }

# DSCP values other than the one the packets carry, then that one: a rule
# list built in this order matches in its last rule.
dscps_target_last() {
	local d

	for d in $(seq 1 63); do
		[ "$d" = "$DSCP" ] || echo "$d"
	done
	echo "$DSCP"
}

# --- the fixed part: device, addresses, terminator --------------------------

setup_host() {
	local m

	for m in pktgen nf_tables nft_ct veth; do
		modprobe "$m" || die "cannot load $m"
	done
	# The peer only gives $DEV its carrier. Without IPv6 it sends no
	# solicitations or reports, which $DEV would receive amid the
	# measured packets; nor does $DEV send any whose timers would fire
	# amid them.
	if ! { ip link add "$DEV" mtu "$MTU" type veth peer name "$PEER" \
			mtu "$MTU" &&
		echo 1 >"/proc/sys/net/ipv6/conf/$PEER/disable_ipv6" &&
		echo 0 >"/proc/sys/net/ipv6/conf/$DEV/accept_dad" &&
		echo 0 >"/proc/sys/net/ipv6/conf/$DEV/router_solicitations" &&
		ip link set "$DEV" up && ip link set "$PEER" up &&
		ip addr add "$RIP4/24" dev "$DEV" &&
		ip addr add "$RIP6/64" dev "$DEV" nodad &&
		ip addr add "$VIP4/32" dev lo &&
		ip addr add "$VIP6/128" dev lo; }; then
		die "cannot set up $DEV and the addresses"
	fi
	MAC=$(cat "/sys/class/net/$DEV/address") || die "no MAC on $DEV"
	# What bringing a device up still starts (multicast reports) is over
	# by then. Idle guest time costs no wall time (-icount sleep=off).
	sleep 5

	# Every variant ends here. One rule per family whose cost does not
	# depend on the outcome: the destination picks the counter out of a
	# three-entry map, rewritten (VIP), not (RIP) or not this host's to
	# rewrite (OTHER), and the packet is dropped. Anything else lands in
	# "stray".
	nft -f - <<EOF || die "cannot load the terminator"
table ip $END_TABLE {
	counter rip {}
	counter vip {}
	counter other {}
	counter stray {}
	chain prerouting {
		type filter hook prerouting priority 300; policy drop;
		counter name ip daddr map { $RIP4 : "rip", $VIP4 : "vip",
			$OTHER4 : "other" } drop
		counter name "stray" drop
	}
}
table ip6 $END_TABLE {
	counter rip {}
	counter vip {}
	counter other {}
	counter stray {}
	chain prerouting {
		type filter hook prerouting priority 300; policy drop;
		counter name ip6 daddr map { $RIP6 : "rip", $VIP6 : "vip",
			$OTHER6 : "other" } drop
		counter name "stray" drop
	}
}
EOF
}

# --- variants ---------------------------------------------------------------

l3dsr_load() {
	modprobe l3dsr || { echo "modprobe l3dsr failed"; return 1; }
}

# l3dsr_apply LINE...: the module's table becomes exactly these mappings, in
# the words of `l3dsrctl add-mapping`, given once for both families (the
# VIPs of DSCP d being vip4_of d and vip6_of d). One l3dsrctl for all.
l3dsr_apply() {
	local conf=/tmp/l3dsr-bench.conf line d

	l3dsr_load || return 1
	for line in "$@"; do
		d=${line%% *}
		line=${line#* }
		printf 'dscp %d vip %s %s\n' "$d" "$(vip4_of "$d")" "${line//@RIP@/$RIP4}"
		printf 'dscp %d vip %s %s\n' "$d" "$(vip6_of "$d")" "${line//@RIP@/$RIP6}"
	done >"$conf"
	l3dsrctl apply -f "$conf" >/dev/null ||
		{ echo "l3dsrctl apply refused: $(tr '\n' ';' <"$conf")"; return 1; }
}

# nftbackend_apply LINE...: l3dsr_apply's table, kept by l3dsrctl in
# nftables (table inet l3dsr) with the module not loaded.
nftbackend_apply() {
	local conf=/tmp/l3dsr-bench.conf line d

	for line in "$@"; do
		d=${line%% *}
		printf 'dscp %d vip %s\n' "$d" "$(vip4_of "$d")"
		printf 'dscp %d vip %s\n' "$d" "$(vip6_of "$d")"
	done >"$conf"
	l3dsrctl --backend nft apply -f "$conf" >/dev/null ||
		{ echo "l3dsrctl --backend nft apply refused"; return 1; }
}

# Lines for l3dsr_apply: "DSCP [OPTIONS]" for each DSCP 1..63 but the
# packets' one.
other_dscps() {
	local d

	for d in $(seq 1 63); do
		[ "$d" = "$DSCP" ] || echo "$d "
	done
}

# The nft variants' rules for one family, as an operator would write them:
# nft_* L3 VIP_OF, L3 being ip or ip6.
nft_one_rule() {
	printf '\t\t%s dscp %d %s daddr set %s notrack\n' \
		"$1" "$DSCP" "$1" "$($2 "$DSCP")"
}

nft_63_rules() {
	local d

	for d in $(dscps_target_last); do
		printf '\t\t%s dscp %d %s daddr set %s notrack\n' \
			"$1" "$d" "$1" "$($2 "$d")"
	done
}

nft_map_rule() {
	local d sep=''

	printf '\t\t%s daddr set %s dscp map {' "$1" "$1"
	for d in $(seq 1 63); do
		printf '%s %d : %s' "$sep" "$d" "$($2 "$d")"
		sep=,
	done
	printf ' } notrack\n'
}

# nft_load RULES_FUNCTION: a table per family with a chain at raw priority.
nft_load() {
	local rules=$1

	nft -f - <<EOF || { echo "nft refused the $rules ruleset"; return 1; }
table ip $NFT_TABLE {
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
$($rules ip vip4_of)
	}
}
table ip6 $NFT_TABLE {
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
$($rules ip6 vip6_of)
	}
}
EOF
}

# The custom rule, for both families, unless it is there already: `ip rule
# add pref P fwmark M table T`, which no benchmark packet matches. In that
# table the RIP's subnet is unreachable: a packet that did match would not
# be this host's.
rules_add() {
	local f

	for f in -4 -6; do
		[ -z "$(ip "$f" rule show pref "$RULE_PREF")" ] || continue
		ip "$f" rule add pref "$RULE_PREF" fwmark "$RULE_MARK" \
			table "$RULE_TABLE" ||
			{ echo "ip $f rule add failed"; return 1; }
	done
	if ! { ip -4 route replace unreachable 192.0.2.0/24 \
			table "$RULE_TABLE" &&
		ip -6 route replace unreachable 2001:db8:1::/64 \
			table "$RULE_TABLE"; }; then
		echo "cannot fill table $RULE_TABLE"
		return 1
	fi
	# What the variant is about: the rule is in place for both families.
	for f in -4 -6; do
		[[ $(ip "$f" rule show pref "$RULE_PREF") == *"fwmark 0x$RULE_MARK lookup $RULE_TABLE"* ]] ||
			{ echo "ip $f rule show: no rule at pref $RULE_PREF"; return 1; }
	done
}

# Variants that run with the custom rule. The rule stays once added:
# deleting it would not give the namespace its former state back.
uses_rules() { [ "${1#l3dsr_rules_}" != "$1" ]; }

# Prints why it failed on stdout; nothing when it worked.
setup_variant() {
	local -a others

	case $1 in
	none | none_vip | none_other) ;;
	empty_hook)
		modprobe l3dsr_empty_hook || echo "modprobe l3dsr_empty_hook failed"
		;;
	l3dsr_empty) l3dsr_load ;;
	l3dsr_miss)
		mapfile -t others < <(other_dscps)
		l3dsr_apply "${others[@]}"
		;;
	l3dsr_hit_1 | l3dsr_not_local) l3dsr_apply "$DSCP " ;;
	l3dsr_hit_63)
		mapfile -t others < <(other_dscps)
		l3dsr_apply "${others[@]}" "$DSCP "
		;;
	l3dsr_rip) l3dsr_apply "$DSCP rip @RIP@" ;;
	l3dsr_dev) l3dsr_apply "$DSCP dev $DEV" ;;
	nft_1) nft_load nft_one_rule ;;
	nft_63) nft_load nft_63_rules ;;
	nft_map) nft_load nft_map_rule ;;
	nftbackend_hit | nftbackend_not_local) nftbackend_apply "$DSCP " ;;
	nftbackend_miss)
		mapfile -t others < <(other_dscps)
		nftbackend_apply "${others[@]}"
		;;
	l3dsr_rules_hit) rules_add && l3dsr_apply "$DSCP " ;;
	l3dsr_rules_miss)
		mapfile -t others < <(other_dscps)
		rules_add && l3dsr_apply "${others[@]}"
		;;
	*) echo "unknown variant $1" ;;
	esac
}

# Back to the baseline: no hook but the terminator's. Prints what it could
# not undo.
teardown_variants() {
	local f

	if [ -d /sys/module/l3dsr_empty_hook ]; then
		rmmod l3dsr_empty_hook || echo "rmmod l3dsr_empty_hook failed"
	fi
	if [ -d /sys/module/l3dsr ]; then
		l3dsrctl flush >/dev/null || echo "l3dsrctl flush failed"
		rmmod l3dsr || echo "rmmod l3dsr failed"
	fi
	if nft list table inet l3dsr >/dev/null 2>&1; then
		nft delete table inet l3dsr ||
			echo "nft delete table inet l3dsr failed"
	fi
	for f in ip ip6; do
		if nft list table "$f" "$NFT_TABLE" >/dev/null 2>&1; then
			nft delete table "$f" "$NFT_TABLE" ||
				echo "nft delete table $f $NFT_TABLE failed"
		fi
	done
}

# Where a variant's packets must end: "vip" when every packet was rewritten
# (or sent there), "rip" when none was, "other" when they were sent to an
# address not this host's and left alone.
expected_fate() {
	case $1 in
	none | empty_hook | l3dsr_empty | l3dsr_miss | nftbackend_miss) echo rip ;;
	none_other | l3dsr_not_local | nftbackend_not_local) echo other ;;
	l3dsr_rules_miss) echo rip ;;
	*) echo vip ;;
	esac
}

# destination_of VARIANT FAMILY: where its packets are sent.
destination_of() {
	case $1:$2 in
	none_vip:ipv4) echo "$VIP4" ;;
	none_vip:ipv6) echo "$VIP6" ;;
	none_other:ipv4 | l3dsr_not_local:ipv4 | nftbackend_not_local:ipv4) echo "$OTHER4" ;;
	none_other:ipv6 | l3dsr_not_local:ipv6 | nftbackend_not_local:ipv6) echo "$OTHER6" ;;
	*:ipv4) echo "$RIP4" ;;
	*) echo "$RIP6" ;;
	esac
}

is_l3dsr() { [ "${1#l3dsr_}" != "$1" ]; }

# --- counters ---------------------------------------------------------------

# snapshot PHASE FAMILY VARIANT: records as COUNTERS[PHASE:NAME] the
# terminator's counters of FAMILY and, for l3dsr variants, the module's
# namespace counters (l3dsrctl -j stats and sysfs) and the counters of the
# packets' mapping (l3dsrctl -j show). On failure, returns 1 with the reason
# in SNAPSHOT_ERROR. Parsed by the shell itself: under TCG a jq start costs
# more than the packets.
snapshot() {
	local phase=$1 family=$2 variant=$3 nf=ip af=inet
	local out line name obj value packets bytes all=0
	local re_num='"([a-z_]+)":([0-9]+)'

	[ "$family" = ipv6 ] && nf=ip6 && af=inet6
	SNAPSHOT_ERROR=
	if ! out=$(nft list counters table "$nf" "$END_TABLE"); then
		SNAPSHOT_ERROR="nft list counters failed"
		return 1
	fi
	# counter NAME {
	#         packets N bytes N
	while read -r line; do
		case $line in
		"counter "*) name=${line#counter }; name=${name% \{} ;;
		"packets "*)
			read -r _ packets _ bytes <<<"$line"
			COUNTERS[$phase:end_${name}_packets]=$packets
			COUNTERS[$phase:end_${name}_bytes]=$bytes
			;;
		esac
	done <<<"$out"

	is_l3dsr "$variant" || return 0
	# {"rewritten":0,"rewritten_fragments":0,...}
	if ! out=$(l3dsrctl -j stats); then
		SNAPSHOT_ERROR="l3dsrctl -j stats failed"
		return 1
	fi
	while [[ $out =~ $re_num ]]; do
		COUNTERS[$phase:stat_${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
		out=${out#*"${BASH_REMATCH[0]}"}
	done
	if ! read -r value </sys/kernel/l3dsr/stats/rewritten; then
		SNAPSHOT_ERROR="cannot read /sys/kernel/l3dsr/stats/rewritten"
		return 1
	fi
	COUNTERS[$phase:sysfs_rewritten]=$value
	# [{"family":"inet","dscp":10,...,"packets":0,"bytes":0}, ...]: flat
	# objects, one per mapping.
	if ! out=$(l3dsrctl -j show); then
		SNAPSHOT_ERROR="l3dsrctl -j show failed"
		return 1
	fi
	COUNTERS[$phase:map_packets]=0
	COUNTERS[$phase:map_bytes]=0
	while [[ $out =~ \{[^{}]*\} ]]; do
		obj=${BASH_REMATCH[0]}
		out=${out#*"$obj"}
		[[ $obj =~ \"packets\":([0-9]+) ]] || continue
		value=${BASH_REMATCH[1]}
		all=$((all + value))
		if [[ $obj =~ \"family\":\ *\"$af\" ]] &&
			[[ $obj =~ \"dscp\":\ *${DSCP}[^0-9] ]]; then
			COUNTERS[$phase:map_packets]=$value
			[[ $obj =~ \"bytes\":([0-9]+) ]] &&
				COUNTERS[$phase:map_bytes]=${BASH_REMATCH[1]}
		fi
	done
	COUNTERS[$phase:all_map_packets]=$all
}

# delta NAME: sets DELTA to how much counter NAME went up between the two
# snapshots; returns 1 if either lacks it.
delta() {
	local before=${COUNTERS[before:$1]:-} after=${COUNTERS[after:$1]:-}

	[ -n "$before" ] && [ -n "$after" ] || return 1
	DELTA=$((after - before))
}

# check_counters VARIANT N: compares the snapshots "before" and "after" with
# what VARIANT must have done to N packets; every disagreement goes into
# CHECK_ERRORS.
check_counters() {
	local variant=$1 n=$2 fate f s k
	local -A want=()

	CHECK_ERRORS=()
	fate=$(expected_fate "$variant")
	for f in "${FATES[@]}" stray; do
		want[end_${f}_packets]=0
	done
	want[end_${fate}_packets]=$n
	if is_l3dsr "$variant"; then
		for s in "${STATS[@]}"; do
			want[stat_$s]=0
		done
		if [ "$fate" = vip ]; then
			want[stat_rewritten]=$n
			want[sysfs_rewritten]=$n
			want[map_packets]=$n
			# Both count the bytes from the IP header on.
			if delta end_vip_bytes; then
				want[map_bytes]=$DELTA
			fi
		else
			want[sysfs_rewritten]=0
			want[all_map_packets]=0
		fi
		# Mapped, but not for this host: left alone and counted.
		[ "$fate" = other ] && want[stat_skipped_not_local]=$n
	fi
	for k in "${!want[@]}"; do
		if ! delta "$k"; then
			CHECK_ERRORS+=("counter $k missing")
		elif [ "$DELTA" != "${want[$k]}" ]; then
			CHECK_ERRORS+=("$k went up by $DELTA, expected ${want[$k]}")
		fi
	done
}

# --- pktgen -----------------------------------------------------------------
#
# Under TCG every fork and exec costs tens of milliseconds of wall time, so
# this part keeps to shell builtins and reports through globals.

PG_ERROR=
PG_RESULT=

# The "Result:" line of a pktgen file, into PG_RESULT.
pg_result() {
	local line

	PG_RESULT=
	while IFS= read -r line; do
		case $line in
		Result:*) PG_RESULT=$line ;;
		esac
	done <"$1"
}

pg_write() {
	local file=$1 cmd=$2

	if ! echo "$cmd" 2>/dev/null >"$file"; then
		PG_ERROR="pktgen refused '$cmd'"
		return 1
	fi
	[ "$file" = "$PG/$DEV" ] || return 0
	pg_result "$file"
	case $PG_RESULT in
	"Result: OK"*) return 0 ;;
	esac
	PG_ERROR="pktgen: '$cmd': $PG_RESULT"
	return 1
}

# pktgen_setup FAMILY SIZE DST: one pktgen device on $DEV sending packets of
# SIZE bytes to DST.
pktgen_setup() {
	local family=$1 size=$2 dst=$3 frags=0 cmd
	local -a cmds

	[ "$size" = "$LARGE_SIZE" ] && frags=$LARGE_FRAGS
	pg_write "$PG/kpktgend_0" rem_device_all || return 1
	pg_write "$PG/kpktgend_0" "add_device $DEV" || return 1
	# A fresh skb per packet, handed over to the stack (!SHARED): the
	# stack owns it, as it owns a received packet, so a writer does not
	# pay for un-sharing it. UDP with a checksum, as a real one carries.
	cmds=("clone_skb 0" "burst 1" "delay 0"
		"xmit_mode netif_receive" "flag !SHARED" "flag UDPCSUM"
		"flag NO_TIMESTAMP" "pkt_size $size" "frags $frags"
		"dst_mac $MAC" "udp_src_min 40000" "udp_src_max 40000"
		"udp_dst_min 9" "udp_dst_max 9")
	if [ "$family" = ipv4 ]; then
		cmds+=("src_min $SRC4" "src_max $SRC4" "dst $dst" "tos $TOS_HEX")
	else
		cmds+=("src6 $SRC6" "dst6 $dst" "traffic_class $TOS_HEX")
	fi
	for cmd in "${cmds[@]}"; do
		pg_write "$PG/$DEV" "$cmd" || return 1
	done
}

# pktgen_send COUNT: sets PG_ELAPSED_US, PG_IDLE_US and PG_PACKETS.
pktgen_send() {
	local re='^Result: OK: ([0-9]+)\(c[0-9]+\+d([0-9]+)\) usec, ([0-9]+) '

	pg_write "$PG/$DEV" "count $1" || return 1
	pg_write "$PG/pgctrl" start || return 1
	pg_result "$PG/$DEV"
	if ! [[ $PG_RESULT =~ $re ]]; then
		PG_ERROR="pktgen: $PG_RESULT"
		return 1
	fi
	PG_ELAPSED_US=${BASH_REMATCH[1]}
	PG_IDLE_US=${BASH_REMATCH[2]}
	PG_PACKETS=${BASH_REMATCH[3]}
}

# --- the run ----------------------------------------------------------------

declare -A COUNTERS=()
SNAPSHOT_ERROR=
CHECK_ERRORS=()
DELTA=

# report_failure ROUND VARIANT FAMILY SIZE REASON...
report_failure() {
	echo "bench-result $1 $2 $3 $4 fail ${*:5}"
	echo "# round $1: $2 $3 $4: FAILED: ${*:5}"
}

# measure ROUND VARIANT FAMILY SIZE: one result line.
measure() {
	local round=$1 variant=$2 family=$3 size=$4 dst why tenths
	local -a fail=(report_failure "$@")

	dst=$(destination_of "$variant" "$family")
	if ! pktgen_setup "$family" "$size" "$dst"; then
		"${fail[@]}" "$PG_ERROR"
		return
	fi
	# Unmeasured: the first packets of a path allocate what later ones
	# reuse.
	if ! pktgen_send "$WARMUP"; then
		"${fail[@]}" "warm-up: $PG_ERROR"
		return
	fi
	COUNTERS=()
	if ! snapshot before "$family" "$variant"; then
		"${fail[@]}" "$SNAPSHOT_ERROR"
		return
	fi
	if ! pktgen_send "$COUNT"; then
		"${fail[@]}" "$PG_ERROR"
		return
	fi
	if ! snapshot after "$family" "$variant"; then
		"${fail[@]}" "$SNAPSHOT_ERROR"
		return
	fi
	if [ "$PG_PACKETS" != "$COUNT" ]; then
		"${fail[@]}" "pktgen sent $PG_PACKETS packets of $COUNT"
		return
	fi
	check_counters "$variant" "$COUNT"
	if [ ${#CHECK_ERRORS[@]} -gt 0 ]; then
		why=$(printf '%s; ' "${CHECK_ERRORS[@]}")
		"${fail[@]}" "${why%; }"
		return
	fi
	echo "bench-result $round $variant $family $size ok $PG_ELAPSED_US $PG_IDLE_US $PG_PACKETS"
	tenths=$((PG_ELAPSED_US * 10000 / PG_PACKETS))
	printf '# round %d: %-12s %s %5s: %6d.%d ns/packet\n' "$round" \
		"$variant" "$family" "$size" $((tenths / 10)) $((tenths % 10))
}

run_variant() {
	local round=$1 variant=$2 why c

	why=$(setup_variant "$variant")
	if [ -n "$why" ]; then
		for c in "${CASES[@]}"; do
			# shellcheck disable=SC2086 # "FAMILY SIZE"
			echo "bench-result $round $variant $c fail setup: $why"
		done
		echo "# round $round: $variant: setup FAILED: $why"
	else
		for c in "${CASES[@]}"; do
			# shellcheck disable=SC2086 # "FAMILY SIZE"
			measure "$round" "$variant" $c
		done
	fi
	why=$(teardown_variants)
	[ -z "$why" ] || die "cannot return to the baseline after $variant: $why"
}

# run_rounds VARIANT...: every round goes over every variant in turn, so
# whatever drifts during the run is spread over all of them alike.
run_rounds() {
	local round variant

	[ $# -gt 0 ] || return 0
	for round in $(seq 1 "$ROUNDS"); do
		for variant in "$@"; do
			run_variant "$round" "$variant"
		done
	done
}

# trace_send VARIANT FAMILY COUNT: COUNT of the variant's 64-byte packets.
trace_send() {
	pktgen_setup "$2" 64 "$(destination_of "$1" "$2")" || die "$PG_ERROR"
	pktgen_send "$3" || die "$PG_ERROR"
}

# For trace.sh: VARIANT's packets, forever, once the addresses are out.
trace_variant() {
	local variant=$1 why line s family

	why=$(setup_variant "$variant")
	[ -z "$why" ] || die "cannot set $variant up: $why"
	if [ "$variant" != empty_hook ]; then
		modprobe l3dsr_empty_hook || die "modprobe l3dsr_empty_hook failed"
	fi
	# Every code symbol, the kernel's too (Debian's System.map is a
	# placeholder): trace.py names the kernel's addresses with them. One
	# grep: a shell loop over the kernel's symbols takes minutes here.
	grep -E '^[0-9a-f]+ [tT] ' /proc/kallsyms |
		sed 's/^/bench-trace-sym /' || die "cannot read /proc/kallsyms"
	for s in /sys/module/l3dsr/sections/.text* \
		/sys/module/l3dsr_empty_hook/sections/.text*; do
		[ -f "$s" ] || continue
		read -r line <"$s" || die "cannot read $s"
		s=${s#/sys/module/}
		echo "bench-trace-section ${s%%/*} ${s##*/} $line"
	done
	for family in ipv4 ipv6; do
		trace_send "$variant" "$family" "$WARMUP"
	done
	echo "bench-trace-ready $variant"
	for (( ; ; )); do
		for family in ipv4 ipv6; do
			trace_send "$variant" "$family" 100
		done
	done
}

main() {
	local v trace='' smoke=0
	local -a plain=() with_rules=()

	while [ $# -gt 0 ]; do
		case $1 in
		--count) [ $# -ge 2 ] || usage; COUNT=$2; shift 2 ;;
		--warmup) [ $# -ge 2 ] || usage; WARMUP=$2; shift 2 ;;
		--rounds) [ $# -ge 2 ] || usage; ROUNDS=$2; shift 2 ;;
		--trace) [ $# -ge 2 ] || usage; trace=$2; shift 2 ;;
		--smoke) smoke=1; shift ;;
		--variants)
			[ $# -ge 2 ] || usage
			read -r -a VARIANTS <<<"$2"
			shift 2
			;;
		*) usage ;;
		esac
	done
	for v in "$COUNT" "$WARMUP" "$ROUNDS"; do
		[[ $v =~ ^[1-9][0-9]*$ ]] || die "'$v' is not a positive number"
	done
	for v in "${VARIANTS[@]}" ${trace:+"$trace"}; do
		[ -n "${DESCRIPTION[$v]:-}" ] || die "unknown variant '$v'"
	done

	if [ "$smoke" = 1 ]; then
		for v in "${VARIANTS[@]}"; do
			[[ " ${SMOKE_SKIP[*]} " == *" $v "* ]] || plain+=("$v")
		done
		VARIANTS=("${plain[@]}")
		plain=()
	fi

	setup_host
	if [ -n "$trace" ]; then
		trace_variant "$trace"
		return
	fi
	echo "bench-config kernel=$(uname -r) count=$COUNT warmup=$WARMUP rounds=$ROUNDS dscp=$DSCP large_size=$LARGE_SIZE large_frags=$LARGE_FRAGS"
	for v in "${VARIANTS[@]}"; do
		echo "bench-variant $v ${DESCRIPTION[$v]}"
	done
	for v in "${VARIANTS[@]}"; do
		if uses_rules "$v"; then
			with_rules+=("$v")
		else
			plain+=("$v")
		fi
	done
	run_rounds "${plain[@]}"
	# The namespace keeps the mark of custom rules for good: those
	# variants come once every other is done.
	run_rounds "${with_rules[@]}"
	echo "bench-done"
}

main "$@"
