#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Transports beyond TCP and UDP with a mapped DSCP, every byte crafted
# (l3dsr_wire on lib.sh's wire topology, drawn there), each addressed to
# the server's RIP on the wire with its checksum right for the RIP, as a
# balancer would leave it:
#
#   wire (l3dsr_wire send) --> server: l3dsr, then a raw socket (recv)
#
# A protocol whose checksum covers the pseudo-header (DCCP; for IPv6 also
# the Mobility Header, OSPFv3, PIM and VRRPv3) must be rewritten with its
# checksum adjusted; one that carries nothing that depends on the
# destination (GRE, SCTP, PIM over IPv4) rewritten, destination only; one
# l3dsr cannot keep right (AH authenticates the destination; VRRP over
# IPv4 may or may not sum a pseudo-header; 253 is unknown) left alone and
# counted in skipped_protocol. The raw socket on the server is the
# observer: it computes each packet's own integrity check (see l3dsr_wire
# recv) over the bytes it received, with the addresses it arrived with,
# so a rewritten packet must be right for the VIP and one left alone for
# the RIP. l3dsr's counters must say exactly that and nothing more.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly PORT=9300
readonly COUNT=5

require_l3dsr
require_cmds nstat
# The host of a DCCP user has the protocol loaded: its stack then sees
# the rewritten packets too.
dccp=absent
modprobe dccp_ipv4 2>/dev/null && modprobe dccp_ipv6 2>/dev/null &&
	dccp=loaded
tap_begin
note "DCCP modules $dccp"

scratch_dir TMP || skip_all "cannot create a scratch directory"
set_up wire_setup vips_on_lo
map_dscp_both

packets_now()
{
	mapping_field "$1" "$DSCP" packets || echo unreadable
}

# shape FAMILY SHAPE rewritten|left-alone
shape()
{
	local family=$1 name=$2 fate=$3 label="$1 $2" vip=$VIP4 rip=$WIRE_SERVER4
	local packets stats_before csum_before want_recv want_stats

	if [ "$family" = inet6 ]; then
		vip=$VIP6
		rip=$WIRE_SERVER6
	fi
	if [ "$fate" = rewritten ]; then
		want_recv="$vip $COUNT $rip 0 bad 0"
		want_stats="rewritten=+$COUNT"
		fate="rewritten to the VIP, its checks right for the VIP"
	else
		want_recv="$vip 0 $rip $COUNT bad 0"
		want_stats="skipped_protocol=+$COUNT"
		fate="delivered untouched to the RIP, its checks right"
	fi
	packets=$(packets_now "$family")
	stats_before=$(stats_snapshot)
	csum_before=$(csum_errors "")
	wire_recv_start "$name" "$COUNT" "$vip" "$rip" "$TMP/recv" ||
		fail "$label: observer started"
	check "$label: $COUNT crafted packets sent" \
		wire_send "$name" "$family" "$COUNT" "$PORT"
	check_eq "$label: $fate" "$want_recv" "$(wire_recv_result "$TMP/recv")"
	check_eq "$label: l3dsr's counters that moved: $want_stats" \
		"$want_stats" "$(stats_delta "$stats_before" "$(stats_snapshot)")"
	if [ "$want_stats" = "rewritten=+$COUNT" ]; then
		check_eq "$label: the mapping counted them" "$COUNT" \
			"$(delta "$(packets_now "$family")" "$packets")"
	else
		check_eq "$label: the mapping did not count them" "$packets" \
			"$(packets_now "$family")"
	fi
	check_eq "$label: no new *InCsumErrors on the server" \
		"$csum_before" "$(csum_errors "")"
}

#     family shape  fate
shape inet   udp    rewritten
shape inet6  udp    rewritten
# the pseudo-header protocols
shape inet   dccp   rewritten
shape inet6  dccp   rewritten
shape inet6  mh     rewritten
shape inet6  ospf   rewritten
shape inet6  pim    rewritten
shape inet6  vrrp   rewritten
# nothing that depends on the destination
shape inet   pim    rewritten
shape inet   gre    rewritten
shape inet6  gre    rewritten
shape inet   sctp   rewritten
shape inet6  sctp   rewritten
# what no rewrite can keep right, or l3dsr does not know
shape inet   vrrp   left-alone
shape inet   ah     left-alone
shape inet6  ah     left-alone
shape inet   p253   left-alone
shape inet6  p253   left-alone

tap_end
