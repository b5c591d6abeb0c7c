#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The server's RIP inside a VRF. A packet arriving on a device enslaved to
# a VRF passes PREROUTING twice: on that device, then again on the VRF
# device, already rewritten, with its DSCP still the mapped one.
#
#  +------------------------+            +----------------------------------+
#  | wire (crafts frames)   |            | server = the initial namespace   |
#  |  eth0 198.18.0.2/24    +------------+ wNNN 198.18.0.1/24 (the RIP)     |
#  |  2001:db8:18::2/64     |            |   2001:db8:18::1/64              |
#  +------------------------+            |   enslaved to vblueNNN           |
#                                        | vblueNNN: VRF, table 10,         |
#                                        |   VIP 211.115.115.100/32,        |
#                                        |   2001:db8:ffff::100/128         |
#                                        | l3dsr: DSCP 10 -> VIP            |
#                                        +----------------------------------+
#
# The wire sends COUNT UDP datagrams marked DSCP 10 to the RIP. Each must
# be rewritten once and counted once: the mapping's packets and the
# namespace's rewritten grow by COUNT, and no other counter moves (the
# second pass is neither rewritten nor counted). A raw socket on the
# server sees every datagram arrive in the VRF addressed to the VIP with a
# right UDP checksum. A mapping scoped to the enslaved device (dev wNNN)
# does the same, skipped_scope unchanged: the second pass, on the VRF
# device, is not judged against the mapping's scope either.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly PORT=9300
readonly COUNT=10
readonly VRF_TABLE=10
VRF_IF=vblue$$

require_l3dsr
modprobe vrf 2>/dev/null
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"

set_up vrf_setup vrf_routes raw_sockets_see_vrf
map_dscp_both

packets_now()
{
	mapping_field "$FAMILY" "$DSCP" packets || echo unreadable
}

# send_and_count LABEL: COUNT marked datagrams to the RIP; each rewritten
# and counted once, delivered to the VIP in the VRF.
send_and_count()
{
	local label=$1 packets stats_before

	packets=$(packets_now)
	stats_before=$(stats_snapshot)
	wire_recv_start udp "$COUNT" "$VIP" "$WIRE_SERVER" "$TMP/recv" ||
		fail "$label: receiver started"
	check "$label: $COUNT marked datagrams sent to the RIP" \
		wire_send udp "$FAMILY" "$COUNT" "$PORT"
	check_eq "$label: all delivered in the VRF to the VIP, checksums right" \
		"$VIP $COUNT $WIRE_SERVER 0 bad 0" "$(wire_recv_result "$TMP/recv")"
	check_eq "$label: the mapping counted each once" \
		"$COUNT" "$(delta "$(packets_now)" "$packets")"
	check_eq "$label: rewritten once each, nothing else counted" \
		"rewritten=+$COUNT" \
		"$(stats_delta "$stats_before" "$(stats_snapshot)")"
}

for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	WIRE_SERVER=$WIRE_SERVER4
	[ "$FAMILY" = inet6 ] && WIRE_SERVER=$WIRE_SERVER6

	send_and_count "$FAMILY VRF"
	if check "$FAMILY VRF: mapping scoped to the enslaved $WIRE_IF" \
		"$L3DSRCTL" replace-mapping dscp "$DSCP" vip "$VIP" \
		dev "$WIRE_IF"; then
		send_and_count "$FAMILY VRF, dev $WIRE_IF"
	fi
	run "$L3DSRCTL" replace-mapping dscp "$DSCP" vip "$VIP" >/dev/null
done

tap_end
