#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "For this host" is what the stack's input route lookup decides for the
# packet as it stands at l3dsr's hook, rules, mark and source included: a
# mapping rewrites a DSCP-10 packet addressed to one of the server's own
# addresses only when that lookup delivers it locally.
#
#  +---------------------+      +----------------------------------+
#  | client              |      | server (-n server), forwards     |
#  |  eth0 10.0.1.2/24   +------+ c0 10.0.1.1/24, 2001:db8:1::1/64 |
#  |  2001:db8:1::2/64   |      | lo: RIP 192.0.2.10,              |
#  | crafts DSCP-10 UDP  |      |     2001:db8:192::10,            |
#  | to the RIP, also    |      |     VIP 211.115.115.100,         |
#  | from 2001:db8:1::99 |      |     2001:db8:ffff::100           |
#  +---------------------+      | l3dsr: DSCP 10 -> VIP            |
#                               | s0 10.0.2.1/24, 2001:db8:2::1/64 |
#                               +----------------+-----------------+
#                                                |
#                               +----------------+-----------------+
#                               | other: eth0 10.0.2.2/24,         |
#                               |  2001:db8:2::2/64; counts, at    |
#                               |  prerouting, what comes to the   |
#                               |  RIP and to the VIP              |
#                               +----------------------------------+
#
# Source-specific route (IPv6, no ip rule): the server's local table says
# the RIP is local from 2001:db8:1::/64 but routed to other from
# 2001:db8:1::99/128. Packets from ::99 are forwarded to other untouched
# and counted skipped_not_local; those from ::2 are rewritten.
#
# Anycast (IPv6): packets to the subnet-router anycast address of c0's
# prefix, which the forwarding server delivers locally, are rewritten.
#
# Policy routing (both families): the local rule moved after a fwmark rule,
# as VRF set-ups do (pref 32765), and "fwmark 1 lookup 100" at pref 100,
# table 100 routing the RIP to other. An nft chain at priority -350, before
# l3dsr's hook, marks UDP to MARKED_PORT. Marked packets reach other still
# addressed to the RIP and count as skipped_not_local; unmarked ones are
# rewritten and reach the VIP. First marked traffic on a cold start, then
# unmarked, marked and unmarked again (whatever l3dsr remembers of earlier
# packets must not decide for later ones).
#
# Every step: the server's l3dsr counters move by exactly the packets
# sent, in the counter the step expects; the mapping's packets grow by the
# rewritten ones; the server's counts of packets to the VIP and to the RIP
# after the hook (-300) and other's of packets to the RIP and to the VIP
# agree.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly COUNT=${POLICY_COUNT:-10}
readonly PORT=9400
readonly MARKED_PORT=9401
readonly CLIENT_A4=10.0.1.2
readonly CLIENT_A6=2001:db8:1::2
readonly CLIENT_B6=2001:db8:1::99
readonly OTHER4=10.0.2.2
readonly OTHER6=2001:db8:2::2

require_l3dsr
tap_begin

NS_SRV=
NS_CL=
NS_OTHER=
SERVER_MAC=

setup()
{
	ns_new NS_SRV server && ns_new NS_CL client && ns_new NS_OTHER other ||
		return 1
	forwarding_ns "$NS_SRV" || return 1
	run ip -n "$NS_CL" link add eth0 type veth \
		peer name c0 netns "$NS_SRV" &&
	run ip -n "$NS_OTHER" link add eth0 type veth \
		peer name s0 netns "$NS_SRV" || return 1
	run ip -n "$NS_CL" addr add "$CLIENT_A4"/24 dev eth0 &&
	run ip -n "$NS_CL" addr add "$CLIENT_A6"/64 dev eth0 nodad &&
	run ip -n "$NS_SRV" addr add 10.0.1.1/24 dev c0 &&
	run ip -n "$NS_SRV" addr add 2001:db8:1::1/64 dev c0 nodad &&
	run ip -n "$NS_SRV" addr add 10.0.2.1/24 dev s0 &&
	run ip -n "$NS_SRV" addr add 2001:db8:2::1/64 dev s0 nodad &&
	run ip -n "$NS_OTHER" addr add "$OTHER4"/24 dev eth0 &&
	run ip -n "$NS_OTHER" addr add "$OTHER6"/64 dev eth0 nodad &&
	run ip -n "$NS_SRV" addr add "$RIP4"/32 dev lo &&
	run ip -n "$NS_SRV" addr add "$RIP6"/128 dev lo nodad &&
	run ip -n "$NS_SRV" addr add "$VIP4"/32 dev lo &&
	run ip -n "$NS_SRV" addr add "$VIP6"/128 dev lo nodad &&
	run ip -n "$NS_CL" link set eth0 up &&
	run ip -n "$NS_OTHER" link set eth0 up &&
	run ip -n "$NS_SRV" link set c0 up &&
	run ip -n "$NS_SRV" link set s0 up || return 1
	SERVER_MAC=$(ip netns exec "$NS_SRV" cat /sys/class/net/c0/address)
}

# The server marks at -350 (before l3dsr at -310) and counts at -300
# (after it); other counts what reaches it.
counters()
{
	in_ns "$NS_SRV" nft -f - <<-EOF || return 1
	table inet l3dsr_policy {
		counter to_vip4 { }
		counter to_vip6 { }
		counter to_rip4 { }
		counter to_rip6 { }
		chain set_mark {
			type filter hook prerouting priority -350; policy accept;
			udp dport $MARKED_PORT meta mark set 1
		}
		chain after_l3dsr {
			type filter hook prerouting priority -300; policy accept;
			ip daddr $VIP4 counter name to_vip4
			ip6 daddr $VIP6 counter name to_vip6
			ip daddr $RIP4 ip dscp $DSCP counter name to_rip4
			ip6 daddr $RIP6 ip6 dscp $DSCP counter name to_rip6
		}
	}
	EOF
	in_ns "$NS_OTHER" nft -f - <<-EOF
	table inet l3dsr_other {
		counter to_rip4 { }
		counter to_rip6 { }
		counter to_vip4 { }
		counter to_vip6 { }
		chain prerouting {
			type filter hook prerouting priority -300; policy accept;
			ip daddr $RIP4 ip dscp $DSCP counter name to_rip4
			ip6 daddr $RIP6 ip6 dscp $DSCP counter name to_rip6
			ip daddr $VIP4 counter name to_vip4
			ip6 daddr $VIP6 counter name to_vip6
		}
	}
	EOF
}

mappings()
{
	run "$L3DSRCTL" -n "$NS_SRV" add-mapping dscp "$DSCP" vip "$VIP4" &&
	run "$L3DSRCTL" -n "$NS_SRV" add-mapping dscp "$DSCP" vip "$VIP6"
}

set_up setup counters mappings

# send inet|inet6 SRC PORT: COUNT crafted DSCP-10 UDP datagrams from SRC
# to the RIP, from each CPU in turn where there are several (the stack
# receives a veth's frame on the sending CPU).
send()
{
	local cpu cpus

	cpus=$(nproc 2>/dev/null || echo 1)
	for ((cpu = 0; cpu < cpus; cpu++)); do
		if [ "$cpus" -gt 1 ]; then
			in_ns "$NS_CL" taskset -c "$cpu" "$WIRE" -n "$COUNT" \
				send eth0 "$SERVER_MAC" udp "$2" "$RIP" "$3" ||
				return 1
		else
			in_ns "$NS_CL" "$WIRE" -n "$COUNT" send eth0 \
				"$SERVER_MAC" udp "$2" "$RIP" "$3" || return 1
		fi
	done
	SENT=$((COUNT * cpus))
}

# table_counters NS TABLE: "NAME PACKETS" words for each counter of the
# table, in one nft call (the machine may be slow).
table_counters()
{
	in_ns "$1" nft -j list table inet "$2" |
		jq -r '[.nftables[] | select(.counter) |
			"\(.counter.name) \(.counter.packets)"] | join(" ")'
}

# where [server]: "server-vip N server-rip N other-rip N other-vip N
# mapping N", the family's counters after l3dsr's hook in the server, at
# other, and the mapping's; with "server", the server's two alone.
where()
{
	local name i
	local -A c=()
	local -a w

	read -r -a w <<< "$(table_counters "$NS_SRV" l3dsr_policy)"
	for ((i = 0; i + 1 < ${#w[@]}; i += 2)); do
		c[server-${w[i]}]=${w[i + 1]}
	done
	if [ "${1:-}" = server ]; then
		echo "server-vip ${c[server-to_vip$AF]:-}" \
		     "server-rip ${c[server-to_rip$AF]:-}"
		return
	fi
	read -r -a w <<< "$(table_counters "$NS_OTHER" l3dsr_other)"
	for ((i = 0; i + 1 < ${#w[@]}; i += 2)); do
		c[other-${w[i]}]=${w[i + 1]}
	done
	for name in server-vip server-rip other-rip other-vip; do
		echo -n "$name ${c[${name%-*}-to_${name#*-}$AF]:-} "
	done
	echo "mapping $(mapping_field "$FAMILY" "$DSCP" packets "$NS_SRV")"
}

# moved BEFORE AFTER: the readings of where, AFTER minus BEFORE, word by
# word.
moved()
{
	local -a b a
	local i out=

	read -r -a b <<< "$1"
	read -r -a a <<< "$2"
	for ((i = 0; i < ${#a[@]}; i += 2)); do
		out+="${a[i]} $(delta "${a[i + 1]}" "${b[i + 1]:-}") "
	done
	echo "${out% }"
}

# passed BEFORE N: N packets have passed l3dsr's hook since BEFORE (a
# reading of "where server"), to the VIP or to the RIP.
passed()
{
	local -a m

	read -r -a m <<< "$(moved "$1" "$(where server)")"
	[[ "${m[1]}" =~ ^[0-9]+$ ]] && [[ "${m[3]}" =~ ^[0-9]+$ ]] &&
		[ $((m[1] + m[3])) -ge "$2" ]
}

# forwarded BEFORE N: other has counted N more packets to the RIP.
forwarded()
{
	[ "$(delta "$(nft_counter "$NS_OTHER" inet l3dsr_other \
		"to_rip$AF" packets)" "$1")" = "$2" ]
}

# step LABEL SRC PORT local|forwarded: send, then check where they went.
step()
{
	local label="$FAMILY: $1" stats_before where_before want_stats want
	local server_before other_before

	stats_before=$(ns_stats_snapshot "$NS_SRV")
	where_before=$(where)
	server_before=$(where server)
	other_before=$(nft_counter "$NS_OTHER" inet l3dsr_other \
		"to_rip$AF" packets)
	if ! send "$FAMILY" "$2" "$3"; then
		fail "$label: $COUNT sent" "l3dsr_wire send failed"
		return
	fi
	if [ "$4" = local ]; then
		want_stats="rewritten=+$SENT"
		want="server-vip $SENT server-rip 0 other-rip 0 other-vip 0 mapping $SENT"
	else
		want_stats="skipped_not_local=+$SENT"
		want="server-vip 0 server-rip $SENT other-rip $SENT other-vip 0 mapping 0"
	fi
	# the frames are received asynchronously, and forwarded after that
	wait_until 50 passed "$server_before" "$SENT"
	[ "$4" = local ] ||
		wait_until 30 forwarded "$other_before" "$SENT"
	check_eq "$label: l3dsr counted each as $([ "$4" = local ] &&
		echo rewritten || echo not local)" \
		"$want_stats" "$(stats_delta "$stats_before" \
			"$(ns_stats_snapshot "$NS_SRV")")"
	check_eq "$label: $([ "$4" = local ] && echo "delivered to the VIP" ||
		echo "forwarded to other, still to the RIP")" \
		"$want" "$(moved "$where_before" "$(where)")"
}

# ------------------------------------------- a source-specific route
# No ip rule yet: the namespace has only the default rules.

FAMILY=inet6
AF=6
family_vars "$FAMILY"
if check "IPv6: the local table routes the RIP to other from $CLIENT_B6" \
	bash -c "ip -n '$NS_SRV' -6 route add table local local $RIP6/128 \
			from 2001:db8:1::/64 dev lo &&
		 ip -n '$NS_SRV' -6 route add table local $RIP6/128 \
			from $CLIENT_B6/128 via $OTHER6 dev s0"; then
	step "source-specific route, from $CLIENT_B6" "$CLIENT_B6" "$PORT" \
		forwarded
	step "source-specific route, from $CLIENT_A6" "$CLIENT_A6" "$PORT" \
		local
	step "source-specific route, from $CLIENT_B6 again" "$CLIENT_B6" \
		"$PORT" forwarded
fi
run ip -n "$NS_SRV" -6 route del table local $RIP6/128 from $CLIENT_B6/128
run ip -n "$NS_SRV" -6 route del table local $RIP6/128 from 2001:db8:1::/64

# ------------------------------------------------- an anycast RIP
# A forwarding host holds the subnet-router anycast address of each of its
# prefixes (c0's: 2001:db8:1::) and delivers packets to it locally, as to
# its unicast addresses: "for this host" includes it.

ANYCAST6=2001:db8:1::

# vip_moved BEFORE N: the server has counted N more packets to the VIP
# after l3dsr's hook.
vip_moved()
{
	[ "$(delta "$(nft_counter "$NS_SRV" inet l3dsr_policy to_vip6 \
		packets)" "$1")" = "$2" ]
}

if check "IPv6: the server holds $ANYCAST6, c0's subnet-router anycast address" \
	bash -c "ip -n '$NS_SRV' -6 route show table local |
		grep -q '^anycast $ANYCAST6 '"; then
	stats_before=$(ns_stats_snapshot "$NS_SRV")
	vip_before=$(nft_counter "$NS_SRV" inet l3dsr_policy to_vip6 packets)
	if RIP=$ANYCAST6 send inet6 "$CLIENT_A6" "$PORT"; then
		wait_until 50 vip_moved "$vip_before" "$SENT"
		check_eq "IPv6: l3dsr counted DSCP-10 packets to the anycast address as rewritten" \
			"rewritten=+$SENT" "$(stats_delta "$stats_before" \
				"$(ns_stats_snapshot "$NS_SRV")")"
		check "IPv6: they reached the VIP" \
			vip_moved "$vip_before" "$SENT"
	else
		fail "IPv6: DSCP-10 packets sent to $ANYCAST6" \
			"l3dsr_wire send failed"
	fi
fi

# ------------------------------------------------- policy routing

# policy_rules inet|inet6: (family_vars done) the local rule after "fwmark 1 lookup 100",
# table 100 routing the RIP to other.
policy_rules()
{
	local af=-4 via=$OTHER4

	[ "$1" = inet6 ] && af=-6 via=$OTHER6
	run ip -n "$NS_SRV" "$af" rule add pref 32765 table local &&
	run ip -n "$NS_SRV" "$af" rule del pref 0 &&
	run ip -n "$NS_SRV" "$af" rule add pref 100 fwmark 1 table 100 &&
	run ip -n "$NS_SRV" "$af" route add table 100 "$RIP" via "$via" \
		dev s0 || return 1
	# the stack agrees with what the test expects of it
	ip -n "$NS_SRV" "$af" route get "$RIP" from "$CLIENT" iif c0 \
		mark 1 | grep -q "via $via" &&
	ip -n "$NS_SRV" "$af" route get "$RIP" from "$CLIENT" iif c0 |
		grep -q "^local"
}

for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	CLIENT=$CLIENT_A4 AF=4
	[ "$FAMILY" = inet6 ] && CLIENT=$CLIENT_A6 AF=6
	check "$FAMILY: the local rule after fwmark 1 -> table 100 (the RIP via other)" \
		policy_rules "$FAMILY" || continue
	step "policy, marked, cold" "$CLIENT" "$MARKED_PORT" forwarded
	step "policy, unmarked" "$CLIENT" "$PORT" local
	step "policy, marked after unmarked" "$CLIENT" "$MARKED_PORT" forwarded
	step "policy, unmarked after marked" "$CLIENT" "$PORT" local
done

tap_end
