#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# AnyIP: a whole prefix made local by a "local" route on lo, with no
# address of its own on any interface (ip route add local 198.18.50.0/24
# dev lo), as hosts answering for a range do. An address in it counts as
# this host's, so it may be the RIP; an address just beside it, routed
# elsewhere, does not.
#
#  +------------------------+            +----------------------------------+
#  | wire (crafts frames)   |            | server = the initial namespace   |
#  |  eth0 198.18.0.2/24    +------------+ wNNN 198.18.0.1/24               |
#  |  2001:db8:18::2/64     |            |   2001:db8:18::1/64              |
#  +------------------------+            | local 198.18.50.0/24 dev lo      |
#                                        | local 2001:db8:50::/64 dev lo    |
#                                        | 198.18.51.0/24, 2001:db8:51::/64 |
#                                        |   routed to the wire             |
#                                        | lo: VIP; l3dsr: DSCP 10 -> VIP   |
#                                        +----------------------------------+
#
# COUNT UDP datagrams marked DSCP 10 to 198.18.50.7 (2001:db8:50::7) must
# be rewritten, every one counted by the mapping, and arrive at the VIP
# with a right checksum. COUNT to 198.18.51.7 (2001:db8:51::7), an
# address the host would route on, must be left alone and counted in
# skipped_not_local, and none may reach the VIP.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly PORT=9300
readonly COUNT=10
readonly ANYIP_NET4=198.18.50.0/24
readonly ANYIP_NET6=2001:db8:50::/64
readonly ANYIP4=198.18.50.7
readonly ANYIP6=2001:db8:50::7
readonly ROUTED_NET4=198.18.51.0/24
readonly ROUTED_NET6=2001:db8:51::/64
readonly ROUTED4=198.18.51.7
readonly ROUTED6=2001:db8:51::7

require_l3dsr
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"

routes_setup()
{
	run ip route add local "$ANYIP_NET4" dev lo &&
	defer "ip route del local $ANYIP_NET4 dev lo" &&
	run ip -6 route add local "$ANYIP_NET6" dev lo &&
	defer "ip -6 route del local $ANYIP_NET6 dev lo" &&
	run ip route add "$ROUTED_NET4" via "$WIRE_PEER4" &&
	run ip -6 route add "$ROUTED_NET6" via "$WIRE_PEER6"
}

# The prefix is local without any address of the host in it.
anyip_is_local()
{
	ip route get "$ANYIP4" | grep -q '^local ' &&
	ip -6 route get "$ANYIP6" | grep -q '^local ' &&
	! ip addr show | grep -q -e "${ANYIP4%.*}\." -e "${ANYIP6%::*}::"
}

set_up wire_setup vips_on_lo routes_setup anyip_is_local
map_dscp_both

packets_now()
{
	mapping_field "$FAMILY" "$DSCP" packets || echo unreadable
}

for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	ANYIP=$ANYIP4 ROUTED=$ROUTED4
	[ "$FAMILY" = inet6 ] && ANYIP=$ANYIP6 ROUTED=$ROUTED6

	label="$FAMILY AnyIP $ANYIP"
	packets=$(packets_now)
	stats_before=$(stats_snapshot)
	wire_recv_start udp "$COUNT" "$VIP" "$ANYIP" "$TMP/recv" ||
		fail "$label: receiver started"
	check "$label: $COUNT marked datagrams sent" \
		wire_send udp "$FAMILY" "$COUNT" "$PORT" "$ANYIP"
	check_eq "$label: all arrive at the VIP, checksums right" \
		"$VIP $COUNT $ANYIP 0 bad 0" "$(wire_recv_result "$TMP/recv")"
	check_eq "$label: the mapping rewrote every one" \
		"$COUNT" "$(delta "$(packets_now)" "$packets")"
	check_eq "$label: rewritten, nothing else counted" \
		"rewritten=+$COUNT" \
		"$(stats_delta "$stats_before" "$(stats_snapshot)")"

	label="$FAMILY routed $ROUTED"
	packets=$(packets_now)
	stats_before=$(stats_snapshot)
	wire_recv_start udp "$COUNT" "$VIP" "$ROUTED" \
		"$TMP/recv" || fail "$label: receiver started"
	check "$label: $COUNT marked datagrams sent" \
		wire_send udp "$FAMILY" "$COUNT" "$PORT" "$ROUTED"
	check_eq "$label: none reaches the VIP (nor the host)" \
		"$VIP 0 $ROUTED 0 bad 0" "$(wire_recv_result "$TMP/recv")"
	check_eq "$label: the mapping rewrote none" \
		0 "$(delta "$(packets_now)" "$packets")"
	check_eq "$label: left alone as not for this host" \
		"skipped_not_local=+$COUNT" \
		"$(stats_delta "$stats_before" "$(stats_snapshot)")"
done

tap_end
