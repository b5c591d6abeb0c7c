#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# l3dsr_crowded_bridge.sh on the nftables backend, the module kept from
# loading: a Docker-like host, two containers on a Linux bridge with
# br_netfilter loaded (bridge-nf-call-iptables=1, bridge-nf-call-ip6tables=1),
# which runs the IPv4 and IPv6 prerouting hooks, the backend's chain among
# them, on every frame the bridge switches.
#
#  +-------------------+                          +-------------------+
#  | a (container)     |                          | b (container)     |
#  |  eth0 198.18.10.2 |                          |  eth0 198.18.10.3 |
#  |  2001:db8:10::2   |                          |  2001:db8:10::3   |
#  |  balancer: VIP -> |                          |  UDP echo, TCP    |
#  |  198.18.10.1      |                          |  receiver on .3   |
#  +---------+---------+                          +---------+---------+
#            | baNNN                                  bbNNN |
#  +---------+----------------------------------------------+---------+
#  |         +------------ l3brNNN (bridge) ----------------+         |
#  |          198.18.10.1/24, 2001:db8:10::1/64 (the RIP)             |
#  | host = the initial namespace, br_netfilter                       |
#  | lo: VIP 211.115.115.100, 2001:db8:ffff::100; l3dsr DSCP 10 -> VIP |
#  +------------------------------------------------------------------+
#
# Between a and b, marked (DSCP 10) UDP and TCP arrive untouched at the
# other container, which answers from its own address; the backend counts
# every marked frame the containers sent in skipped_not_local (nftables'
# fib lookup finds b's address not the host's) and rewrites none. The
# host's own service works: a marked request from a container to the RIP
# on the bridge itself is rewritten and answered from the VIP (a RIP on
# an ordinary link is l3dsr_nft_e2e.sh's). The documented difference
# (README, "Without the module"): with the mapping's nonlocal flag,
# br_netfilter having handed
# the frames for b to nftables as the host's, they are rewritten and
# delivered to the host's VIP, not to b; the module leaves them alone.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly ECHO_PORT=9200
readonly TCP_PORT=9100
readonly COUNT=10
readonly NONLOCAL_COUNT=5
readonly TCP_BYTES=65536
readonly BR4=198.18.10.1
readonly BR6=2001:db8:10::1
readonly A4=198.18.10.2
readonly A6=2001:db8:10::2
readonly B4=198.18.10.3
readonly B6=2001:db8:10::3
BR_IF=l3br$$
NS_A=
NS_B=

require_nft_backend
require_cmds sha256sum
modprobe bridge 2>/dev/null
if ! lsmod | grep -q '^br_netfilter '; then
	modprobe br_netfilter 2>/dev/null ||
		skip_all "the kernel has no br_netfilter"
	# last, after the bridge is gone
	defer "rmmod br_netfilter"
fi
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"

# The host counts what reaches it for the echo on the VIP, in a table of
# its own, which the backend must leave alone.
counters_setup()
{
	mark_counters "$NS_A" && mark_counters "$NS_B" &&
	source_balancer "$NS_A" "$VIP4" "$BR4" "$VIP6" "$BR6" || return 1
	run nft -f - <<-EOF || return 1
	table inet l3dsr_seen {
		counter vip4 { }
		counter vip6 { }
		chain input {
			type filter hook input priority filter; policy accept;
			ip daddr $VIP4 udp dport $ECHO_PORT counter name vip4
			ip6 daddr $VIP6 udp dport $ECHO_PORT counter name vip6
		}
	}
	EOF
	defer "nft delete table inet l3dsr_seen"
}

set_up bridge_netfilter bridge_setup vips_on_lo counters_setup \
	bridge_servers_setup
map_dscp_both

# reading SOURCE...: the counters the checks compare, as "name=value"
# lines, from the sources named (each read a program that takes most of a
# second under emulation, so only those needed): a and b, the
# containers' own (a.inet.l3dsr_marked.marked4: what a sent marked;
# a.ip.l3dsr_source_lb.to_vip: requests a's balancer sent to the RIP);
# host, the host's l3dsr_seen; stats, the namespace's (rewritten,
# not_local); show, the mappings' packets (inet, inet6).
reading()
{
	local source ns filter

	# shellcheck disable=SC2016 # jq's variable, not the shell's
	filter='.nftables[] | select(.counter) | .counter |
		"\($who).\(.family).\(.table).\(.name)=\(.packets)"'
	for source in "$@"; do
		case $source in
		a|b|host)
			ns=
			[ "$source" = a ] && ns=$NS_A
			[ "$source" = b ] && ns=$NS_B
			in_ns "$ns" nft -j list counters |
				jq -r --arg who "$source" "$filter"
			;;
		stats)
			run "$L3DSRCTL" -j stats | jq -r \
				'"rewritten=\(.rewritten)", "not_local=\(.skipped_not_local)"'
			;;
		show)
			run "$L3DSRCTL" -j show | jq -r --argjson dscp "$DSCP" \
				'.[] | select(.dscp == $dscp) | "\(.family)=\(.packets)"'
			;;
		esac
	done
}

# moved NAME...: how much the sum of counters NAME grew from BEFORE to
# AFTER (two readings).
moved()
{
	local name sum_before=0 sum_after=0 b a

	for name in "$@"; do
		b=$(sed -n "s/^$name=//p" <<<"$BEFORE")
		a=$(sed -n "s/^$name=//p" <<<"$AFTER")
		if ! [[ "$b" =~ ^[0-9]+$ ]] || ! [[ "$a" =~ ^[0-9]+$ ]]; then
			echo "unreadable $name ('$b', '$a')"
			return
		fi
		sum_before=$((sum_before + b)) sum_after=$((sum_after + a))
	done
	echo $((sum_after - sum_before))
}

# Between a and b: COUNT UDP datagrams echoed by b, a TCP stream to b.
bridged_traffic()
{
	local pid rc want

	check "$FAMILY bridged UDP: b echoes all $COUNT from its own address" \
		in_ns "$NS_A" "$PEER" -t "$DSCP_TOS" -n "$COUNT" -r 1000 \
		udp-send "$B" "$ECHO_PORT"

	want=$(sha256sum <"$TMP/data" | cut -d' ' -f1)
	rm -f "$TMP/recv.sum" "$TMP/recv.info"
	# shellcheck disable=SC2016 # expanded by the inner shell
	background pid ip netns exec "$NS_B" bash -c '"$1" -w 20 tcp-recv \
		"$2" "$3" 2>"$4.info" | sha256sum | cut -d" " -f1 >"$4.sum"' _ \
		"$PEER" "$B" "$TCP_PORT" "$TMP/recv"
	wait_listener "$NS_B" tcp "$TCP_PORT"
	check "$FAMILY bridged TCP: $TCP_BYTES bytes sent from a to b" \
		in_ns "$NS_A" "$PEER" -w 10 -t "$DSCP_TOS" tcp-send "$B" \
		"$TCP_PORT" <"$TMP/data"
	rc=$?
	finish_receiver "$pid" "$rc"
	check_eq "$FAMILY bridged TCP: b's socket on its own address, peer a" \
		"local $B peer $A" "$(cat "$TMP/recv.info" 2>/dev/null)"
	check_eq "$FAMILY bridged TCP: b received them intact (sha256)" \
		"$want" "$(cat "$TMP/recv.sum" 2>/dev/null)"
}

host_service()
{
	# COUNT requests from a to the VIP, balanced to the RIP on the
	# bridge and answered from the VIP.
	check "$FAMILY RIP on the bridge: $COUNT requests to the VIP answered" \
		in_ns "$NS_A" "$PEER" -n "$COUNT" -r 1000 udp-send "$VIP" \
		"$ECHO_PORT"
}

head -c "$TCP_BYTES" /dev/urandom >"$TMP/data"
check_eq "the table is on the nftables backend" nft \
	"$("$L3DSRCTL" -j version | jq -r .backend)"

for_families()
{
	for FAMILY in inet inet6; do
		A=$A4 B=$B4 VIP=$VIP4
		[ "$FAMILY" = inet6 ] && A=$A6 B=$B6 VIP=$VIP6
		"$@"
	done
}

BEFORE=$(reading a b stats show)
for_families bridged_traffic
AFTER=$(reading a b stats show)
bridged=$(moved a.inet.l3dsr_marked.marked4 a.inet.l3dsr_marked.marked6 \
	b.inet.l3dsr_marked.marked4 b.inet.l3dsr_marked.marked6)
note "the containers sent $bridged marked packets to each other"
check_gt "bridged: the containers' marked packets were counted" 0 "$bridged"
check_eq "bridged: every one counted in skipped_not_local" \
	"$bridged" "$(moved not_local)"
check_eq "bridged: none rewritten" 0 "$(moved rewritten inet inet6)"

BEFORE=$AFTER
for_families host_service
AFTER=$(reading a stats show)
for FAMILY in inet inet6; do
	af=; [ "$FAMILY" = inet6 ] && af=6
	check_eq "$FAMILY RIP on the bridge: a's balancer sent $COUNT requests" \
		"$COUNT" "$(moved "a.ip$af.l3dsr_source_lb.to_vip")"
	check_eq "$FAMILY RIP on the bridge: the mapping rewrote every one" \
		"$COUNT" "$(moved "$FAMILY")"
done
check_eq "RIP on the bridge: rewritten counted both families' requests" \
	"$((2 * COUNT))" "$(moved rewritten)"

# nonlocal: frames the bridge switches to b are rewritten, the host takes
# them for its VIP, and b never sees them.
for FAMILY in inet inet6; do
	VIP=$VIP4; [ "$FAMILY" = inet6 ] && VIP=$VIP6
	check "$FAMILY: the mapping made nonlocal" \
		"$L3DSRCTL" replace-mapping dscp "$DSCP" vip "$VIP" nonlocal
done
BEFORE=$(reading a host show)
for FAMILY in inet inet6; do
	B=$B4; [ "$FAMILY" = inet6 ] && B=$B6
	check_fails "$FAMILY bridged UDP, nonlocal: b echoes none of $NONLOCAL_COUNT" \
		in_ns "$NS_A" "$PEER" -t "$DSCP_TOS" -n "$NONLOCAL_COUNT" \
		-r 200 udp-send "$B" "$ECHO_PORT"
done
AFTER=$(reading a host show)
for FAMILY in inet inet6; do
	af=4; [ "$FAMILY" = inet6 ] && af=6
	label="$FAMILY bridged UDP, nonlocal"
	check_eq "$label: a sent $NONLOCAL_COUNT marked" \
		"$NONLOCAL_COUNT" "$(moved "a.inet.l3dsr_marked.marked$af")"
	check_eq "$label: the mapping rewrote every one" \
		"$NONLOCAL_COUNT" "$(moved "$FAMILY")"
	check_eq "$label: every one reached the host for the VIP" \
		"$NONLOCAL_COUNT" "$(moved "host.inet.l3dsr_seen.vip$af")"
done

tap_end
