#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A host that routes for others (ip_forward=1: pods, VMs, a gateway) and
# serves a VIP of its own, with DSCP 10 mapped. Clients choose their DSCP
# freely, so traffic that only crosses the host may well carry it.
#
#  +---------------------+     +----------------------------+     +---------------------+
#  | left                |     | router = initial namespace |     | right (far host)    |
#  |  eth0 198.18.20.2   +-----+ rlNNN          rrNNN       +-----+ eth0 198.18.21.2    |
#  |  2001:db8:20::2     |     | 198.18.20.1    198.18.21.1 |     |  2001:db8:21::2     |
#  |  balancer: VIP ->   |     | 2001:db8:20::1 ..21::1     |     |  UDP echo, TCP      |
#  |  198.18.20.1        |     | forwarding on              |     |  receiver on .2     |
#  +---------------------+     | lo: VIP; DSCP 10 -> VIP     |     +---------------------+
#                              +----------------------------+
#
# Marked (DSCP 10) UDP and TCP from left to right must cross the router
# untouched: right receives every datagram with its own address as the
# destination and echoes it; l3dsr counts each in skipped_not_local, as
# many as left sent by its own counters. The router's own VIP still works:
# left's requests to the VIP, balanced to the router's address (its RIP),
# are rewritten and answered from the VIP. With the mapping's nonlocal
# flag, the old behaviour comes back: the router rewrites the marked
# datagrams meant for right and takes them itself.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly ECHO_PORT=9200
readonly SINK_PORT=9201
readonly TCP_PORT=9100
readonly COUNT=10
readonly TCP_BYTES=65536
readonly LEFT_GW4=198.18.20.1
readonly LEFT_GW6=2001:db8:20::1
readonly LEFT4=198.18.20.2
readonly LEFT6=2001:db8:20::2
readonly RIGHT_GW4=198.18.21.1
readonly RIGHT_GW6=2001:db8:21::1
readonly RIGHT4=198.18.21.2
readonly RIGHT6=2001:db8:21::2
NS_LEFT=
NS_RIGHT=

require_l3dsr
require_cmds sha256sum
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"

router_forwarding()
{
	sysctl_change net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# side NS_VAR ROLE HOST_END GW4 GW6 ADDR4 ADDR6
side()
{
	local -n ns_ref=$1

	ns_new "$1" "$2" || return 1
	run ip link add "$3" type veth peer name eth0 netns "$ns_ref" &&
	defer "ip link del '$3'" &&
	run ip addr add "$4/24" dev "$3" &&
	run ip addr add "$5/64" dev "$3" nodad &&
	run ip link set "$3" up &&
	run ip -n "$ns_ref" addr add "$6/24" dev eth0 &&
	run ip -n "$ns_ref" addr add "$7/64" dev eth0 nodad &&
	run ip -n "$ns_ref" link set eth0 up &&
	run ip -n "$ns_ref" route add default via "$4" &&
	run ip -n "$ns_ref" -6 route add default via "$5"
}

sides_setup()
{
	side NS_LEFT left "rl$$" "$LEFT_GW4" "$LEFT_GW6" "$LEFT4" "$LEFT6" &&
	side NS_RIGHT right "rr$$" "$RIGHT_GW4" "$RIGHT_GW6" "$RIGHT4" \
		"$RIGHT6"
}

counters_setup()
{
	mark_counters "$NS_LEFT" &&
	source_balancer "$NS_LEFT" "$VIP4" "$LEFT_GW4" "$VIP6" "$LEFT_GW6"
}

servers_setup()
{
	local addr
	# shellcheck disable=SC2034 # set through background's nameref
	local echo_pid

	for addr in "$RIGHT4" "$RIGHT6"; do
		background echo_pid in_ns "$NS_RIGHT" "$PEER" udp-echo "$addr" \
			"$ECHO_PORT"
	done
	for addr in "$VIP4" "$VIP6"; do
		background echo_pid "$PEER" udp-echo "$addr" "$ECHO_PORT"
	done
	wait_listener "$NS_RIGHT" udp "$ECHO_PORT" &&
	wait_listener "" udp "$ECHO_PORT"
}

set_up router_forwarding sides_setup vips_on_lo counters_setup servers_setup
map_dscp_both

stat_now()
{
	l3dsr_stat "$1" || echo unreadable
}

packets_now()
{
	mapping_field "$FAMILY" "$DSCP" packets || echo unreadable
}

# forwarded_counted LABEL SENT: every one of SENT left alone as not for
# this host, none rewritten.
forwarded_counted()
{
	check_eq "$1: l3dsr counted every one in skipped_not_local" "$2" \
		"$(delta "$(stat_now skipped_not_local)" "$NOT_LOCAL_BEFORE")"
	check_eq "$1: l3dsr rewrote none" \
		0 "$(delta "$(stat_now rewritten)" "$REWRITTEN_BEFORE")"
}

snapshot()
{
	MARKED_BEFORE=$(marked "$NS_LEFT" "$FAMILY")
	NOT_LOCAL_BEFORE=$(stat_now skipped_not_local)
	REWRITTEN_BEFORE=$(stat_now rewritten)
}

test_forwarded_udp()
{
	local label="$FAMILY forwarded UDP"

	snapshot
	check "$label: right echoes all $COUNT datagrams from its own address" \
		in_ns "$NS_LEFT" "$PEER" -t "$DSCP_TOS" -n "$COUNT" -r 1000 \
		udp-send "$RIGHT" "$ECHO_PORT"
	check_eq "$label: left sent $COUNT marked datagrams, nothing else" \
		"$COUNT" "$(delta "$(marked "$NS_LEFT" "$FAMILY")" "$MARKED_BEFORE")"
	forwarded_counted "$label" "$COUNT"
}

test_forwarded_tcp()
{
	local label="$FAMILY forwarded TCP" pid want rc sent

	head -c "$TCP_BYTES" /dev/urandom >"$TMP/data"
	want=$(sha256sum <"$TMP/data" | cut -d' ' -f1)
	rm -f "$TMP/recv.sum" "$TMP/recv.info"
	snapshot
	# shellcheck disable=SC2016 # expanded by the inner shell
	background pid ip netns exec "$NS_RIGHT" bash -c '"$1" -w 20 tcp-recv \
		"$2" "$3" 2>"$4.info" | sha256sum | cut -d" " -f1 >"$4.sum"' _ \
		"$PEER" "$RIGHT" "$TCP_PORT" "$TMP/recv"
	wait_listener "$NS_RIGHT" tcp "$TCP_PORT"
	check "$label: $TCP_BYTES bytes sent from left to right" \
		in_ns "$NS_LEFT" "$PEER" -w 10 -t "$DSCP_TOS" tcp-send "$RIGHT" \
		"$TCP_PORT" <"$TMP/data"
	rc=$?
	finish_receiver "$pid" "$rc"
	check_eq "$label: right's socket is on its own address, the peer is left" \
		"local $RIGHT peer $LEFT" "$(cat "$TMP/recv.info" 2>/dev/null)"
	check_eq "$label: right received them intact (sha256)" \
		"$want" "$(cat "$TMP/recv.sum" 2>/dev/null)"
	sent=$(delta "$(marked "$NS_LEFT" "$FAMILY")" "$MARKED_BEFORE")
	note "$label: left sent $sent marked segments"
	check_gt "$label: left's marked segments were counted" 0 "$sent"
	forwarded_counted "$label" "$sent"
}

# The router's own service, reached at its RIP through left's balancer.
test_own_vip()
{
	local label="$FAMILY the router's own VIP" packets requests

	packets=$(packets_now)
	requests=$(balanced "$NS_LEFT" "$FAMILY")
	check "$label: $COUNT requests answered from the VIP" \
		in_ns "$NS_LEFT" "$PEER" -n "$COUNT" -r 1000 udp-send "$VIP" \
		"$ECHO_PORT"
	check_eq "$label: the balancer sent $COUNT marked to the RIP" \
		"$COUNT" "$(delta "$(balanced "$NS_LEFT" "$FAMILY")" "$requests")"
	check_eq "$label: the mapping rewrote every one" \
		"$COUNT" "$(delta "$(packets_now)" "$packets")"
}

# nonlocal: the router takes the marked datagrams meant for right.
test_nonlocal()
{
	local label="$FAMILY mapping nonlocal" packets sink_pid far_pid

	if ! check "$label: mapping replaced" "$L3DSRCTL" replace-mapping \
		dscp "$DSCP" vip "$VIP" nonlocal; then
		return
	fi
	snapshot
	packets=$(packets_now)
	rm -f "$TMP/sink" "$TMP/far"
	# Each waits up to 5 s for a first datagram (the sender starts
	# slowly under emulation) and for each next one.
	"$PEER" -n "$COUNT" -r 5000 udp-recv "$VIP" "$SINK_PORT" \
		>"$TMP/sink" 2>&1 &
	sink_pid=$!
	track_pid "$sink_pid"
	ip netns exec "$NS_RIGHT" "$PEER" -n "$COUNT" -r 5000 udp-recv \
		"$RIGHT" "$SINK_PORT" >"$TMP/far" 2>&1 &
	far_pid=$!
	track_pid "$far_pid"
	wait_listener "" udp "$SINK_PORT" &&
		wait_listener "$NS_RIGHT" udp "$SINK_PORT"
	# no echo on this port: only the count on either side tells
	in_ns "$NS_LEFT" "$PEER" -t "$DSCP_TOS" -n "$COUNT" -r 50 \
		udp-send "$RIGHT" "$SINK_PORT" >/dev/null
	wait "$sink_pid" "$far_pid"
	check_eq "$label: the router's socket on the VIP got all $COUNT" \
		"datagrams $COUNT" "$(cat "$TMP/sink")"
	check_eq "$label: right got none of them" \
		"datagrams 0" "$(cat "$TMP/far")"
	check_eq "$label: the mapping counted them" "$COUNT" \
		"$(delta "$(packets_now)" "$packets")"
	check_eq "$label: skipped_not_local did not move" \
		0 "$(delta "$(stat_now skipped_not_local)" "$NOT_LOCAL_BEFORE")"
	run "$L3DSRCTL" replace-mapping dscp "$DSCP" vip "$VIP" >/dev/null
}

for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	LEFT=$LEFT4 RIGHT=$RIGHT4
	[ "$FAMILY" = inet6 ] && LEFT=$LEFT6 RIGHT=$RIGHT6

	test_forwarded_udp
	test_forwarded_tcp
	test_own_vip
	test_nonlocal
done

tap_end
