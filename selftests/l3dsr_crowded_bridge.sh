#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A Docker-like host: two containers on a Linux bridge with br_netfilter
# loaded (bridge-nf-call-iptables=1, bridge-nf-call-ip6tables=1), which
# runs the IPv4 and IPv6 PREROUTING hooks, l3dsr's among them, on every
# frame the bridge switches. The host maps the DSCP the containers use.
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
#  |          198.18.10.1/24, 2001:db8:10::1/64 (a RIP too)           |
#  | host = the initial namespace, br_netfilter                       |
#  | lo: VIP 211.115.115.100, 2001:db8:ffff::100; l3dsr DSCP 10 -> VIP |
#  | uNNN: RIP 192.0.2.10/24, 2001:db8:192::10/64                      |
#  +---------+--------------------------------------------------------+
#            |
#  +---------+---------+
#  | client            |  balancer in its own output path: to the VIP
#  |  eth0 192.0.2.2   |  leaves marked DSCP 10, addressed to the RIP
#  |  2001:db8:192::2  |
#  +-------------------+
#
# Between a and b, marked (DSCP 10) UDP, TCP and ping must arrive untouched
# at the other container, which sees its own address as the destination
# and answers from it; l3dsr must count each of those frames as left alone
# (skipped_bridged, or skipped_not_local), as many as the containers sent,
# by their own counters. Meanwhile the host's own L3DSR service works: a
# marked request to its RIP, from the client or from a container to the
# RIP on the bridge itself, is rewritten and answered from the VIP. With
# the mapping's nonlocal flag, bridged frames are still left alone.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly ECHO_PORT=9200
readonly TCP_PORT=9100
readonly COUNT=10
readonly PING_COUNT=5
readonly TCP_BYTES=65536
readonly BR4=198.18.10.1
readonly BR6=2001:db8:10::1
readonly A4=198.18.10.2
readonly A6=2001:db8:10::2
readonly B4=198.18.10.3
readonly B6=2001:db8:10::3
readonly CLIENT_U4=192.0.2.2
readonly CLIENT_U6=2001:db8:192::2
BR_IF=l3br$$
UPLINK_IF=u$$
NS_A=
NS_B=
NS_CL=

require_l3dsr
require_cmds ping sha256sum
modprobe bridge 2>/dev/null
if ! lsmod | grep -q '^br_netfilter '; then
	modprobe br_netfilter 2>/dev/null ||
		skip_all "the kernel has no br_netfilter"
	# last, after the bridge is gone
	defer "rmmod br_netfilter"
fi
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"

uplink_setup()
{
	ns_new NS_CL client || return 1
	run ip link add "$UPLINK_IF" type veth peer name eth0 netns "$NS_CL" &&
	defer "ip link del '$UPLINK_IF'" &&
	run ip addr add "$RIP4/24" dev "$UPLINK_IF" &&
	run ip addr add "$RIP6/64" dev "$UPLINK_IF" nodad &&
	run ip link set "$UPLINK_IF" up &&
	run ip -n "$NS_CL" addr add "$CLIENT_U4"/24 dev eth0 &&
	run ip -n "$NS_CL" addr add "$CLIENT_U6"/64 dev eth0 nodad &&
	run ip -n "$NS_CL" link set eth0 up &&
	run ip -n "$NS_CL" route add "$VIP4/32" via "$RIP4" &&
	run ip -n "$NS_CL" -6 route add "$VIP6/128" via "$RIP6"
}

counters_setup()
{
	mark_counters "$NS_A" && mark_counters "$NS_B" &&
	source_balancer "$NS_CL" "$VIP4" "$RIP4" "$VIP6" "$RIP6" &&
	source_balancer "$NS_A" "$VIP4" "$BR4" "$VIP6" "$BR6"
}

set_up bridge_netfilter bridge_setup uplink_setup vips_on_lo counters_setup \
	bridge_servers_setup
map_dscp_both

# left_alone: skipped_bridged + skipped_not_local, the two reasons a
# switched frame may be given.
left_alone()
{
	local bridged not_local

	bridged=$(l3dsr_stat skipped_bridged) || bridged=unreadable
	not_local=$(l3dsr_stat skipped_not_local) || not_local=unreadable
	if [[ "$bridged" =~ ^[0-9]+$ ]] && [[ "$not_local" =~ ^[0-9]+$ ]]; then
		echo $((bridged + not_local))
	else
		echo "unreadable ($bridged, $not_local)"
	fi
}

stat_now()
{
	l3dsr_stat "$1" || echo unreadable
}

# containers_marked: DSCP 10 packets a and b have sent, of the family.
containers_marked()
{
	local a b

	a=$(marked "$NS_A" "$FAMILY")
	b=$(marked "$NS_B" "$FAMILY")
	if [[ "$a" =~ ^[0-9]+$ ]] && [[ "$b" =~ ^[0-9]+$ ]]; then
		echo $((a + b))
	else
		echo "unreadable ($a, $b)"
	fi
}

# Snapshots before a step, compared by bridged_counted after it.
snapshot()
{
	MARKED_BEFORE=$(containers_marked)
	ALONE_BEFORE=$(left_alone)
	REWRITTEN_BEFORE=$(stat_now rewritten)
}

# bridged_counted LABEL: what the containers sent marked, l3dsr left alone
# and counted, every one, and rewrote none.
bridged_counted()
{
	local sent

	sent=$(delta "$(containers_marked)" "$MARKED_BEFORE")
	note "$1: the containers sent $sent marked packets"
	check_gt "$1: the containers' marked packets were counted" 0 "$sent"
	check_eq "$1: l3dsr left every one alone and counted it" \
		"$sent" "$(delta "$(left_alone)" "$ALONE_BEFORE")"
	check_eq "$1: l3dsr rewrote none" \
		0 "$(delta "$(stat_now rewritten)" "$REWRITTEN_BEFORE")"
}

test_bridged_udp()
{
	local label="$FAMILY bridged UDP"

	snapshot
	check "$label: b echoes all $COUNT datagrams from its own address" \
		in_ns "$NS_A" "$PEER" -t "$DSCP_TOS" -n "$COUNT" -r 1000 \
		udp-send "$B" "$ECHO_PORT"
	check_eq "$label: a sent $COUNT marked datagrams, nothing else" \
		"$COUNT" "$(delta "$(containers_marked)" "$MARKED_BEFORE")"
	bridged_counted "$label"
}

test_bridged_tcp()
{
	local label="$FAMILY bridged TCP" pid want rc

	head -c "$TCP_BYTES" /dev/urandom >"$TMP/data"
	want=$(sha256sum <"$TMP/data" | cut -d' ' -f1)
	rm -f "$TMP/recv.sum" "$TMP/recv.info"
	snapshot
	# shellcheck disable=SC2016 # expanded by the inner shell
	background pid ip netns exec "$NS_B" bash -c '"$1" -w 20 tcp-recv \
		"$2" "$3" 2>"$4.info" | sha256sum | cut -d" " -f1 >"$4.sum"' _ \
		"$PEER" "$B" "$TCP_PORT" "$TMP/recv"
	wait_listener "$NS_B" tcp "$TCP_PORT"
	check "$label: $TCP_BYTES bytes sent from a to b" \
		in_ns "$NS_A" "$PEER" -w 10 -t "$DSCP_TOS" tcp-send "$B" \
		"$TCP_PORT" <"$TMP/data"
	rc=$?
	finish_receiver "$pid" "$rc"
	check_eq "$label: b's socket is on its own address, the peer is a" \
		"local $B peer $A" "$(cat "$TMP/recv.info" 2>/dev/null)"
	check_eq "$label: b received them intact (sha256)" \
		"$want" "$(cat "$TMP/recv.sum" 2>/dev/null)"
	bridged_counted "$label"
}

test_bridged_ping()
{
	local label="$FAMILY bridged ping" out

	snapshot
	out=$(in_ns "$NS_A" ping "-${AF}" -Q "$DSCP_TOS" -c "$PING_COUNT" \
		-i 0.2 -W 2 "$B" 2>&1)
	check_contains "$label: $PING_COUNT replies" \
		" $PING_COUNT received" "$out"
	check_eq "$label: every reply came from b's own address" \
		"$PING_COUNT replies from $B" \
		"$(grep -c "bytes from $B: " <<<"$out") replies from $B$(
		   grep -o 'DIFFERENT ADDRESS' <<<"$out" | sort -u |
		   sed 's/^/, /')"
	bridged_counted "$label"
}

# The host's own service: a request to the VIP from a client, balanced
# to RIP (on the uplink or on the bridge), rewritten by l3dsr and
# answered from the VIP.
test_host_service()
{
	local ns=$1 where=$2 label packets requests

	label="$FAMILY host service from $where"
	packets=$(mapping_field "$FAMILY" "$DSCP" packets)
	requests=$(balanced "$ns" "$FAMILY")
	check "$label: $COUNT requests to the VIP answered from it" \
		in_ns "$ns" "$PEER" -n "$COUNT" -r 1000 udp-send "$VIP" \
		"$ECHO_PORT"
	check_eq "$label: the balancer sent $COUNT marked to the RIP" \
		"$COUNT" "$(delta "$(balanced "$ns" "$FAMILY")" "$requests")"
	check_eq "$label: the mapping rewrote every one" "$COUNT" \
		"$(delta "$(mapping_field "$FAMILY" "$DSCP" packets)" "$packets")"
}

test_host_tcp()
{
	local label="$FAMILY host service from the client, TCP" pid rc

	rm -f "$TMP/host.info"
	# shellcheck disable=SC2016 # expanded by the inner shell
	background pid bash -c '"$1" -w 20 tcp-recv "$2" "$3" 2>"$4" \
		>/dev/null' _ "$PEER" "$VIP" "$TCP_PORT" "$TMP/host.info"
	wait_listener "" tcp "$TCP_PORT"
	check "$label: connection to the VIP" \
		in_ns "$NS_CL" "$PEER" -w 10 tcp-send "$VIP" "$TCP_PORT" \
		<"$TMP/data"
	rc=$?
	finish_receiver "$pid" "$rc"
	check_eq "$label: the host's socket is on the VIP, the peer the client" \
		"local $VIP peer $CLIENT_U" "$(cat "$TMP/host.info" 2>/dev/null)"
}

# With nonlocal the mapping takes over what is addressed to others, but
# never a frame the bridge switches to another host.
test_nonlocal()
{
	local label="$FAMILY bridged UDP, mapping nonlocal" bridged_before

	if ! check "$FAMILY: the mapping made nonlocal" \
		"$L3DSRCTL" replace-mapping dscp "$DSCP" vip "$VIP" nonlocal; then
		return
	fi
	snapshot
	bridged_before=$(stat_now skipped_bridged)
	check "$label: b still echoes all $COUNT datagrams" \
		in_ns "$NS_A" "$PEER" -t "$DSCP_TOS" -n "$COUNT" -r 1000 \
		udp-send "$B" "$ECHO_PORT"
	check_eq "$label: every one counted in skipped_bridged" "$COUNT" \
		"$(delta "$(stat_now skipped_bridged)" "$bridged_before")"
	check_eq "$label: l3dsr rewrote none" \
		0 "$(delta "$(stat_now rewritten)" "$REWRITTEN_BEFORE")"
	run "$L3DSRCTL" replace-mapping dscp "$DSCP" vip "$VIP" >/dev/null
}

for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	AF=4 A=$A4 B=$B4 CLIENT_U=$CLIENT_U4
	[ "$FAMILY" = inet6 ] && AF=6 A=$A6 B=$B6 CLIENT_U=$CLIENT_U6

	test_bridged_udp
	test_bridged_tcp
	test_bridged_ping
	test_host_service "$NS_CL" "the client (RIP on the uplink)"
	test_host_tcp
	test_host_service "$NS_A" "a container (RIP on the bridge)"
	test_nonlocal
done

tap_end
