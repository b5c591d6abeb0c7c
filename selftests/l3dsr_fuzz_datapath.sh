#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A differential fuzz of the packet path. Random packets of every shape (both
# families; TCP, UDP with and without checksum, UDP-Lite, ICMP, ICMPv6, DCCP,
# SCTP, GRE, AH, ESP, OSPF, PIM, VRRP, MH, unknown protocols; IPv4 options,
# IPv6 extension header chains, first, middle and last fragments; cut
# headers, lying lengths, link-layer broadcast; checksum offload on the
# sender; DSCP mapped or not; destinations local or not) go to two twin
# namespaces, which differ only in how they rewrite:
#
#   wire (l3dsr_pktfuzz)                 twin "l3dsr"             twin "nft"
#    l-in  -------------------------- in0 (l3dsr, -310)
#    l-dup <-- nft dup at raw, every packet as PREROUTING left it -- dup0
#    l-fwd <-- what is routed to the IPv4 VIP (ip_forward) --------- fwd0
#    n-in, n-dup, n-fwd ----------------------------------------- the same,
#                           with `ip dscp 10 ip daddr set VIP` at -310 instead
#
# l3dsr_pktfuzz writes each packet into both twins, reads every copy, and
# judges each packet by two models: the uapi header's "Which packets a
# mapping rewrites" for the l3dsr twin, nft_payload.c for the other. Where
# the twins then differ, the difference is counted under the reason the
# models differ for (skipped_not_local, a pseudo-header checksum nft leaves
# alone, a short first fragment, ...); any other difference fails, printed
# with a replay token. The corpus in fuzz-corpus/ is replayed first, then
# FUZZ_COUNT random packets from FUZZ_SEED (printed). Last, the l3dsr twin's
# counters must account for exactly the marked packets that reached its
# hook, each under the counter the contract names for it.
#
#   FUZZ_SEED=S          the seed (default: today's date, YYYYMMDD)
#   FUZZ_COUNT=N         random packets (default below: what fits the time)
#   FUZZ_REPLAY=TOKEN    replay one packet only, verbosely
#   FUZZ_INDEX=I         replay packet I of FUZZ_SEED only, verbosely
#   FUZZ_TWIN=backend    the second twin is l3dsrctl's nftables backend
#                        (`l3dsrctl --backend nft`), not the hand-written
#                        rule: judged by its chain, every difference from
#                        the module twin one README's "What differs" names,
#                        its counters checked as the module's are
#                        (l3dsr_nft_fuzz_datapath.sh)
#
# The twins' VIP for IPv4 is not local but routed out of fwd0, so that the
# forwarded copy shows the IPv4 header checksum l3dsr left (nf_dup's copy
# gets one computed anew); the IPv6 VIP is on lo, as on a real server.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly FUZZ="$SELFTESTS_DIR/l3dsr_pktfuzz"
readonly CORPUS_DIR="$SELFTESTS_DIR/fuzz-corpus"
# Under TCG a 6.12 guest judges 2,700 to 3,500 packets a second (2 cores
# shared with other VMs): 200,000 take about a minute, well within the time
# of a script even on a machine twice as loaded.
readonly FUZZ_COUNT=${FUZZ_COUNT:-200000}
FUZZ_SEED=${FUZZ_SEED:-$(date +%Y%m%d)}
readonly FUZZ_SEED
readonly FUZZ_REPLAY=${FUZZ_REPLAY:-}
readonly FUZZ_INDEX=${FUZZ_INDEX:-}
readonly FUZZ_TWIN=${FUZZ_TWIN:-rule}
readonly COUNTERS=(rewritten rewritten_fragments skipped_scope
	skipped_not_host skipped_malformed skipped_routing_header
	dropped_unwritable skipped_down skipped_not_local skipped_bridged
	skipped_protocol)

case $FUZZ_TWIN in
rule | backend) ;;
*)
	echo "FUZZ_TWIN is rule or backend, not \"$FUZZ_TWIN\"" >&2
	exit 1
	;;
esac
if [ "$FUZZ_TWIN" = backend ] && [ "${L3DSR_SELFTEST_BACKEND:-}" = nft ]; then
	skip_all "FUZZ_TWIN=backend compares the backend with the module: the module must load"
fi
require_l3dsr
require_cmds ethtool
[ -x "$FUZZ" ] || skip_all "needs $FUZZ (run make in selftests/)"
if [ "$FUZZ_TWIN" = backend ]; then
	modprobe nft_fib_inet 2>/dev/null
	nft -f - >/dev/null 2>&1 <<-EOF ||
	table inet l3dsr_probe {
		chain c { fib daddr . mark . iif type local accept; }
	}
	EOF
		skip_all "nftables here has no fib expression (CONFIG_NFT_FIB_INET)"
	nft delete table inet l3dsr_probe
fi
tap_begin

# FZ_*: the addresses the helper judges by, from the helper itself.
eval "$("$FUZZ" env)" || skip_all "$FUZZ env failed"

scratch_dir TMP || skip_all "cannot create a scratch directory"
NS_WIRE=
NS_L=
NS_N=

# twin_setup NS T: one twin, T (l or n) naming its wire-side devices.
twin_setup()
{
	local ns=$1 t=$2 dev mac_dup mac_fwd

	sysctl_set "$ns" net.ipv4.ip_forward=1 \
		net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.default.router_solicitations=0 || return 1
	run ip -n "$NS_WIRE" link add "$t-in" type veth \
		peer name in0 netns "$ns" &&
	run ip -n "$NS_WIRE" link add "$t-dup" type veth \
		peer name dup0 netns "$ns" &&
	run ip -n "$NS_WIRE" link add "$t-fwd" type veth \
		peer name fwd0 netns "$ns" || return 1
	mac_dup=$(ip netns exec "$NS_WIRE" cat "/sys/class/net/$t-dup/address")
	mac_fwd=$(ip netns exec "$NS_WIRE" cat "/sys/class/net/$t-fwd/address")

	run ip -n "$ns" link set in0 address "$FZ_TWIN_MAC" &&
	run ip -n "$ns" addr add "$FZ_RIP4" dev in0 &&
	run ip -n "$ns" addr add "$FZ_RIP6" dev in0 nodad &&
	run ip -n "$ns" addr add "$FZ_LOCAL4" dev lo &&
	run ip -n "$ns" addr add "$FZ_LOCAL6" dev lo nodad &&
	run ip -n "$ns" addr add "$FZ_VIP6/128" dev lo nodad &&
	run ip -n "$ns" addr add "$FZ_DUP4" dev dup0 &&
	run ip -n "$ns" addr add "$FZ_DUP6" dev dup0 nodad &&
	run ip -n "$ns" addr add "$FZ_FWD4" dev fwd0 || return 1
	for dev in in0 dup0 fwd0; do
		run ip -n "$ns" link set "$dev" up || return 1
	done
	for dev in in dup fwd; do
		run ip -n "$NS_WIRE" link set "$t-$dev" up || return 1
	done
	run ip -n "$ns" route add local "$FZ_ANYIP4" dev lo &&
	run ip -n "$ns" -6 route add local "$FZ_ANYIP6" dev lo &&
	run ip -n "$ns" neigh add "$FZ_DUP4_GW" lladdr "$mac_dup" \
		dev dup0 nud permanent &&
	run ip -n "$ns" -6 neigh add "$FZ_DUP6_GW" lladdr "$mac_dup" \
		dev dup0 nud permanent &&
	run ip -n "$ns" neigh add "$FZ_FWD4_GW" lladdr "$mac_fwd" \
		dev fwd0 nud permanent &&
	run ip -n "$ns" route add "$FZ_VIP4/32" via "$FZ_FWD4_GW" dev fwd0 ||
		return 1
	# copies leave with their checksums completed, as the wire sees them
	offload "$ns" dup0 tx off && offload "$ns" fwd0 tx off || return 1

	# every packet from the wire, as PREROUTING left it, to the observer
	in_ns "$ns" nft -f - <<-EOF
	table ip fuzz_copy {
		chain prerouting {
			type filter hook prerouting priority raw; policy accept;
			iifname "in0" dup to $FZ_DUP4_GW device "dup0"
		}
	}
	table ip6 fuzz_copy {
		chain prerouting {
			type filter hook prerouting priority raw; policy accept;
			iifname "in0" dup to $FZ_DUP6_GW device "dup0"
		}
	}
	EOF
}

topology()
{
	ns_new NS_WIRE wire && ns_new NS_L l3dsr && ns_new NS_N nft || return 1
	# the wire's own stack stays out of the way: no IPv6, no addresses
	sysctl_set "$NS_WIRE" net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || return 1
	twin_setup "$NS_L" l && twin_setup "$NS_N" n
}

# The rewrite of the nft twin: the same job, the same priority.
nft_twin()
{
	in_ns "$NS_N" nft -f - <<-EOF
	table ip fuzz_rewrite {
		chain prerouting {
			type filter hook prerouting priority -310; policy accept;
			ip dscp $FZ_DSCP ip daddr set $FZ_VIP4
		}
	}
	table ip6 fuzz_rewrite {
		chain prerouting {
			type filter hook prerouting priority -310; policy accept;
			ip6 dscp $FZ_DSCP ip6 daddr set $FZ_VIP6
		}
	}
	EOF
}

l3dsr_twin()
{
	run "$L3DSRCTL" -n "$NS_L" add-mapping dscp "$FZ_DSCP" vip "$FZ_VIP4" &&
	run "$L3DSRCTL" -n "$NS_L" add-mapping dscp "$FZ_DSCP" vip "$FZ_VIP6"
}

# The nft twin as the nftables backend: the same mappings, the module
# loaded (the other twin's) but not asked.
backend_twin()
{
	run "$L3DSRCTL" --backend nft -n "$NS_N" add-mapping \
		dscp "$FZ_DSCP" vip "$FZ_VIP4" &&
	run "$L3DSRCTL" --backend nft -n "$NS_N" add-mapping \
		dscp "$FZ_DSCP" vip "$FZ_VIP6" &&
	run ip netns exec "$NS_N" nft list table inet l3dsr >/dev/null
}

if [ "$FUZZ_TWIN" = backend ]; then
	set_up topology backend_twin l3dsr_twin
else
	set_up topology nft_twin l3dsr_twin
fi

# counters_of JSON: the twin's counters, one "name value" line each.
counters_of()
{
	jq -r --argjson names "$(printf '%s\n' "${COUNTERS[@]}" | jq -R . | jq -s .)" \
		'. as $s | $names[] | "\(.) \($s[.] // 0)"' <<<"$1"
}

# mapping_counts JSON FAMILY: "packets bytes" of the family's mapping.
mapping_counts()
{
	jq -r --arg f "$2" '.[] | select(.family == $f) |
		"\(.packets) \(.bytes)"' <<<"$1"
}

# softnet_drops: packets the receive backlogs of all CPUs dropped.
softnet_drops()
{
	local line sum=0

	while read -r line; do
		read -r _ line <<<"$line"
		sum=$((sum + 16#${line%% *}))
	done </proc/net/softnet_stat
	echo "$sum"
}

args=(run -s "$FUZZ_SEED" -t "$FUZZ_TWIN")
what="the corpus and $FUZZ_COUNT random packets of seed $FUZZ_SEED"
if [ -n "$FUZZ_REPLAY" ]; then
	args+=(-v -r "$FUZZ_REPLAY")
	what="the replayed packet"
elif [ -n "$FUZZ_INDEX" ]; then
	args+=(-v -i "$FUZZ_INDEX")
	what="packet $FUZZ_INDEX of seed $FUZZ_SEED"
else
	args+=(-n "$FUZZ_COUNT")
	for file in "$CORPUS_DIR"/*.txt; do
		[ -f "$file" ] && args+=(-c "$file")
	done
fi
note "seed $FUZZ_SEED (replay a packet: FUZZ_REPLAY=TOKEN or FUZZ_SEED=S FUZZ_INDEX=I $0)"

stats_before=$(run "$L3DSRCTL" -n "$NS_L" -j stats)
maps_before=$(run "$L3DSRCTL" -n "$NS_L" -j show)
if [ "$FUZZ_TWIN" = backend ]; then
	bstats_before=$(run "$L3DSRCTL" --backend nft -n "$NS_N" -j stats)
	bmaps_before=$(run "$L3DSRCTL" --backend nft -n "$NS_N" -j show)
fi
drops_before=$(softnet_drops)
trace "ip netns exec $NS_WIRE $FUZZ ${args[*]} l-in l-dup l-fwd n-in n-dup n-fwd"
ip netns exec "$NS_WIRE" "$FUZZ" "${args[@]}" \
	l-in l-dup l-fwd n-in n-dup n-fwd >"$TMP/report" 2>&1
rc=$?
stats_after=$(run "$L3DSRCTL" -n "$NS_L" -j stats)
maps_after=$(run "$L3DSRCTL" -n "$NS_L" -j show)
if [ "$FUZZ_TWIN" = backend ]; then
	bstats_after=$(run "$L3DSRCTL" --backend nft -n "$NS_N" -j stats)
	bmaps_after=$(run "$L3DSRCTL" --backend nft -n "$NS_N" -j show)
fi
drops_after=$(softnet_drops)

note "$(grep -v '^expect ' "$TMP/report" | sed 's/^# \{0,1\}//')"
check_eq "$what: each twin did what its model says, every difference has a reason" \
	0 "$rc"
check_eq "no packet was dropped by a full receive backlog" 0 \
	"$((drops_after - drops_before))"

# expect NAME: "LOW HIGH" from the helper's report
expect()
{
	awk -v n="$1" '$1 == "expect" && $2 == n { print $3, $4, $5, $6 }' \
		"$TMP/report"
}

declare -A moved=()
while read -r name value; do
	moved[$name]=$value
done < <(counters_of "$stats_before")
while read -r name value; do
	moved[$name]=$((value - ${moved[$name]:-0}))
done < <(counters_of "$stats_after")

read -r marked _ <<<"$(expect marked)"
total=$(( ${moved[rewritten]:-0} + ${moved[skipped_scope]:-0} +
	  ${moved[skipped_not_host]:-0} + ${moved[skipped_malformed]:-0} +
	  ${moved[skipped_routing_header]:-0} + ${moved[dropped_unwritable]:-0} +
	  ${moved[skipped_down]:-0} + ${moved[skipped_not_local]:-0} +
	  ${moved[skipped_bridged]:-0} + ${moved[skipped_protocol]:-0} ))
check_eq "rewritten and the skipped counters account for every marked packet that reached the hook" \
	"${marked:-none}" "$total"

# Each counter within what the packets allow: the contract leaves some
# choices open (which of two reasons counts a packet, a header cut between
# its checksum and its end), each narrowing to one number when none is.
outside=
for name in "${COUNTERS[@]}"; do
	read -r lo hi _ <<<"$(expect "$name")"
	lo=${lo:-0} hi=${hi:-0}
	value=${moved[$name]:-0}
	note "$name: +$value (the packets allow $lo..$hi)"
	if [ "$value" -lt "$lo" ] || [ "$value" -gt "$hi" ]; then
		outside+="$name +$value not in $lo..$hi; "
	fi
done
check_eq "each counter moved as the packets it was given allow" "" "$outside"

# mappings_within WHOSE BEFORE AFTER: each family's mapping moved between
# two `show -j` readings as the helper's "expect WHOSEmapping_FAMILY"
# bounds allow; what did not is left in $outside.
mappings_within()
{
	local family plo phi blo bhi p0 b0 p1 b1 packets bytes

	outside=
	for family in inet inet6; do
		read -r plo phi blo bhi <<<"$(expect "$1mapping_$family")"
		read -r p0 b0 <<<"$(mapping_counts "$2" "$family")"
		read -r p1 b1 <<<"$(mapping_counts "$3" "$family")"
		packets=$((p1 - p0)) bytes=$((b1 - b0))
		note "$1mapping $family: +$packets packets, +$bytes bytes (allowed ${plo:-0}..${phi:-0}, ${blo:-0}..${bhi:-0})"
		if [ "$packets" -lt "${plo:-0}" ] || [ "$packets" -gt "${phi:-0}" ] ||
		   [ "$bytes" -lt "${blo:-0}" ] || [ "$bytes" -gt "${bhi:-0}" ]; then
			outside+="$family +$packets packets +$bytes bytes, allowed $plo..$phi and $blo..$bhi; "
		fi
	done
}

mappings_within "" "$maps_before" "$maps_after"
check_eq "each mapping counted the packets and bytes it rewrote" "" "$outside"

[ "$FUZZ_TWIN" = backend ] || tap_end

# The backend twin's counters: rewritten and skipped_not_local within what
# its chain allows, the others null (nftables cannot count them), and each
# mapping's element, counted at the lookup.
outside=
for name in rewritten skipped_not_local; do
	read -r lo hi _ <<<"$(expect "backend_$name")"
	c0=$(jq -r --arg n "$name" '.[$n]' <<<"$bstats_before")
	c1=$(jq -r --arg n "$name" '.[$n]' <<<"$bstats_after")
	if ! [[ $c0 =~ ^[0-9]+$ && $c1 =~ ^[0-9]+$ ]]; then
		outside+="$name reads $c0, then $c1; "
		continue
	fi
	value=$((c1 - c0))
	note "backend $name: +$value (the packets allow ${lo:-0}..${hi:-0})"
	if [ "$value" -lt "${lo:-0}" ] || [ "$value" -gt "${hi:-0}" ]; then
		outside+="$name +$value not in ${lo:-0}..${hi:-0}; "
	fi
done
check_eq "the backend's rewritten and skipped_not_local moved as the packets allow" \
	"" "$outside"

not_null=
for name in "${COUNTERS[@]}"; do
	case $name in rewritten | skipped_not_local) continue ;; esac
	[ "$(jq -r --arg n "$name" '.[$n]' <<<"$bstats_after")" = null ] ||
		not_null+=" $name"
done
check_eq "the backend's other counters are null, not 0" "" "$not_null"

mappings_within backend_ "$bmaps_before" "$bmaps_after"
check_eq "the backend's mappings counted the packets and bytes they looked up" \
	"" "$outside"

tap_end
