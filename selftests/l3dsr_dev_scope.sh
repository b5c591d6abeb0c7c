#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A mapping scoped to a device (dev IFNAME) lives as long as the device
# stays in the namespace, as the device's routes do: when the device is
# deleted, or moved to another namespace, the mapping is removed and the
# removal announced on the configuration group. A device that comes later,
# even under the same name and ifindex, gets no mapping until one is made
# for it again (here by `l3dsrctl apply` of a configuration naming it).
#
#  +-----------------------+          +------------------------------------+
#  | wire (crafts frames)  |          | server (-n server)                 |
#  |  eth0 10.0.1.2/24     +----------+ in0 (ifindex N) 10.0.1.1/24 (RIP)  |
#  |  2001:db8:1::2/64     |          |  2001:db8:1::1/64                  |
#  +-----------------------+          | lo: VIP 211.115.115.100,           |
#                                     |     2001:db8:ffff::100             |
#  +-----------------------+          | l3dsr: DSCP 10 -> VIP dev in0      |
#  | other: where in0 is   |          | monitor (root) records the         |
#  | moved to, and back    |          |  announcements                     |
#  +-----------------------+          +------------------------------------+
#
# in0 is deleted and made again with "index N", then moved to other and
# back (it keeps N): each time the mappings go, announced, show lists
# none, and DSCP-10 packets arriving on the new in0 stay addressed to the
# RIP. apply then brings the mappings back, and they rewrite again.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly COUNT=10
readonly PORT=9600
readonly SRV4=10.0.1.1
readonly SRV6=2001:db8:1::1
readonly PEER4=10.0.1.2
readonly PEER6=2001:db8:1::2
readonly CANARY_VIP=203.0.113.63

require_l3dsr
tap_begin
scratch_dir TMP || skip_all "cannot create a scratch directory"

NS_SRV=
NS_WIRE=
NS_OTHER=
IFINDEX=

# in0_up: in0's addresses and state, as after it was made.
in0_up()
{
	run ip -n "$NS_SRV" addr add "$SRV4"/24 dev in0 &&
	run ip -n "$NS_SRV" addr add "$SRV6"/64 dev in0 nodad &&
	run ip -n "$NS_SRV" link set in0 up &&
	run ip -n "$NS_WIRE" link set eth0 up
}

# make_in0 [index N]: the pair, in0 in the server, eth0 in the wire.
# shellcheck disable=SC2120 # called with "index N" through check
make_in0()
{
	run ip -n "$NS_SRV" link add in0 "$@" type veth \
		peer name eth0 netns "$NS_WIRE" &&
	in0_up
}

setup()
{
	ns_new NS_SRV server && ns_new NS_WIRE wire &&
	ns_new NS_OTHER other || return 1
	# shellcheck disable=SC2119 # the kernel picks the first ifindex
	make_in0 || return 1
	IFINDEX=$(ip netns exec "$NS_SRV" cat /sys/class/net/in0/ifindex)
	run ip -n "$NS_WIRE" addr add "$PEER4"/24 dev eth0 &&
	run ip -n "$NS_WIRE" addr add "$PEER6"/64 dev eth0 nodad &&
	run ip -n "$NS_SRV" addr add "$VIP4"/32 dev lo &&
	run ip -n "$NS_SRV" addr add "$VIP6"/128 dev lo nodad || return 1
	in_ns "$NS_SRV" nft -f - <<-EOF
	table inet l3dsr_scope {
		counter to_vip { }
		counter to_rip { }
		chain prerouting {
			type filter hook prerouting priority -300; policy accept;
			ip daddr $VIP4 udp dport $PORT counter name to_vip
			ip6 daddr $VIP6 udp dport $PORT counter name to_vip
			ip daddr $SRV4 udp dport $PORT counter name to_rip
			ip6 daddr $SRV6 udp dport $PORT counter name to_rip
		}
	}
	EOF
}

mappings()
{
	printf 'dscp %s vip %s dev in0\n' "$DSCP" "$VIP4" "$DSCP" "$VIP6" \
		>"$TMP/l3dsr.conf"
	run "$L3DSRCTL" -n "$NS_SRV" apply -f "$TMP/l3dsr.conf"
}

# The monitor runs from here to the end; a canary change repeated until
# it prints it shows that it has joined the group.
monitor_start()
{
	local tries=50

	"$L3DSRCTL" -n "$NS_SRV" monitor >"$TMP/monitor" 2>&1 &
	track_pid $!
	while [ "$tries" -gt 0 ] && ! grep -q "$CANARY_VIP" "$TMP/monitor"; do
		"$L3DSRCTL" -n "$NS_SRV" add-mapping dscp 63 \
			vip "$CANARY_VIP" >/dev/null 2>&1
		sleep 0.2
		"$L3DSRCTL" -n "$NS_SRV" del-mapping dscp 63 >/dev/null 2>&1
		tries=$((tries - 1))
	done
	grep -q "$CANARY_VIP" "$TMP/monitor"
}

set_up setup mappings monitor_start

# sent_to: "vip N rip M", the packets counted after l3dsr.
sent_to()
{
	echo "vip $(nft_counter "$NS_SRV" inet l3dsr_scope to_vip packets)" \
	     "rip $(nft_counter "$NS_SRV" inet l3dsr_scope to_rip packets)"
}

# send_both: COUNT DSCP-10 UDP datagrams per family from the wire to the
# server's address on in0 (to the MAC address in0 has now).
send_both()
{
	local mac

	mac=$(ip netns exec "$NS_SRV" cat /sys/class/net/in0/address) || return 1
	in_ns "$NS_WIRE" "$WIRE" -n "$COUNT" send eth0 "$mac" udp \
		"$PEER4" "$SRV4" "$PORT" &&
	in_ns "$NS_WIRE" "$WIRE" -n "$COUNT" send eth0 "$mac" udp \
		"$PEER6" "$SRV6" "$PORT"
}

# all_passed BEFORE N: N more packets counted after the hook, to the VIP
# or to the RIP, since BEFORE (a reading of sent_to).
all_passed()
{
	local v0 r0 v1 r1

	read -r _ v0 _ r0 <<< "$1"
	read -r _ v1 _ r1 <<< "$(sent_to)"
	[ $((v1 + r1 - v0 - r0)) -ge "$2" ]
}

# traffic LABEL rewritten|left: send, and see where it went.
traffic()
{
	local before after want

	before=$(sent_to)
	check "$1: $COUNT DSCP-10 datagrams per family sent" send_both
	# received asynchronously: wait until all have passed the hook
	wait_until 50 all_passed "$before" $((2 * COUNT))
	after=$(sent_to)
	if [ "$2" = rewritten ]; then
		want="vip $((2 * COUNT)) rip 0"
	else
		want="vip 0 rip $((2 * COUNT))"
	fi
	read -r _ v0 _ r0 <<< "$before"
	read -r _ v1 _ r1 <<< "$after"
	check_eq "$1: $([ "$2" = rewritten ] && echo "rewritten to the VIP" ||
		echo "left addressed to the RIP")" "$want" \
		"vip $(delta "$v1" "$v0") rip $(delta "$r1" "$r0")"
}

# gone LABEL: both mappings removed and the removal announced.
gone()
{
	check_eq "$1: show lists no mapping" "[]" \
		"$("$L3DSRCTL" -n "$NS_SRV" -j show | jq -c .)"
	wait_until 50 bash -c "[ \$(grep -c '^del dscp $DSCP vip' \
		'$TMP/monitor') -ge $((2 * ANNOUNCED + 2)) ]"
	check_eq "$1: monitor saw both mappings deleted" \
		"$((2 * ANNOUNCED + 2))" \
		"$(grep -c "^del dscp $DSCP vip" "$TMP/monitor")"
	check_contains "$1: the IPv4 deletion names the VIP" \
		"del dscp $DSCP vip $VIP4" "$(cat "$TMP/monitor")"
	check_contains "$1: the IPv6 deletion names the VIP" \
		"del dscp $DSCP vip $VIP6" "$(cat "$TMP/monitor")"
	ANNOUNCED=$((ANNOUNCED + 1))
}
ANNOUNCED=0

check_eq "both mappings scoped to in0" "in0 in0" \
	"$(mapping_field inet "$DSCP" dev "$NS_SRV" | tr -d '"') $(mapping_field inet6 "$DSCP" dev "$NS_SRV" | tr -d '"')"
traffic "in0 as made" rewritten

# ------------------------------------------------ deleted, made again
run ip -n "$NS_SRV" link del in0
gone "in0 deleted"
check "in0 made again with ifindex $IFINDEX" make_in0 index "$IFINDEX"
check_eq "the new in0 has the old one's ifindex" "$IFINDEX" \
	"$(ip netns exec "$NS_SRV" cat /sys/class/net/in0/ifindex)"
traffic "the new in0, same name and ifindex" left
check_eq "show still lists no mapping" "[]" \
	"$("$L3DSRCTL" -n "$NS_SRV" -j show | jq -c .)"
check "apply brings the mappings back" \
	"$L3DSRCTL" -n "$NS_SRV" apply -f "$TMP/l3dsr.conf"
traffic "the new in0 after apply" rewritten

# ------------------------------------------- moved away and back
run ip -n "$NS_SRV" link set in0 netns "$NS_OTHER"
gone "in0 moved to another namespace"
check "in0 moved back" ip -n "$NS_OTHER" link set in0 netns "$NS_SRV"
check "in0 addressed again" in0_up
check_eq "in0 kept ifindex $IFINDEX" "$IFINDEX" \
	"$(ip netns exec "$NS_SRV" cat /sys/class/net/in0/ifindex)"
traffic "in0 back from another namespace" left
check "apply brings the mappings back" \
	"$L3DSRCTL" -n "$NS_SRV" apply -f "$TMP/l3dsr.conf"
traffic "in0 back, after apply" rewritten

tap_end
