#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A first fragment too short for the transport header. Fragment offsets
# count in 8 bytes, so an IPv4 sender may put only 8 bytes of a TCP
# segment in the first fragment: the ports and the sequence number, not
# the checksum, which then travels in a later fragment. Crafted by
# l3dsr_wire on lib.sh's wire topology (drawn there), every fragment
# marked DSCP 10 and addressed to the server's RIP:
#
#   tcp-frag8      8 bytes | the rest (the checksum is in the second)
#   tcp-frag8x2    8 | 8 | the rest (the checksum is in the third)
#   tcp-frag8-rev  as tcp-frag8, the second fragment sent first
#   udp-frag8      a UDP datagram, its 8-byte header | the rest: the
#                  control, whose first fragment holds the checksum
#
# Nothing in the server's namespace loads nf_defrag (no conntrack), so
# l3dsr sees every fragment. One datagram, one decision: every fragment
# must be rewritten, the checksum adjusted in whichever carries it, or
# the fragments would be addressed to two hosts and never reassemble. The
# stack must reassemble each datagram (IpReasmOKs) on the VIP, a raw
# socket there must find its checksum right for the VIP, and l3dsr must
# count each fragment as rewritten, all but the first as
# rewritten_fragments.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly PORT=9300
readonly COUNT=5

require_l3dsr
require_cmds nstat
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"
set_up wire_setup vips_on_lo
map_dscp_both

# shape SHAPE FRAGMENTS: COUNT datagrams of FRAGMENTS fragments each.
shape()
{
	local name=$1 frags=$2 label="inet $1" stats_before reasm_before
	local csum_before want

	stats_before=$(stats_snapshot)
	reasm_before=$(mib "" IpReasmOKs)
	csum_before=$(csum_errors "")
	wire_recv_start "$name" "$COUNT" "$VIP4" "$WIRE_SERVER4" "$TMP/recv" ||
		fail "$label: observer started"
	check "$label: $COUNT datagrams sent in $frags fragments each" \
		wire_send "$name" inet "$COUNT" "$PORT"
	check_eq "$label: each reassembled on the VIP, its checksum right" \
		"$VIP4 $COUNT $WIRE_SERVER4 0 bad 0" \
		"$(wire_recv_result "$TMP/recv")"
	check_eq "$label: the stack reassembled all $COUNT" \
		"$COUNT" "$(delta "$(mib "" IpReasmOKs)" "$reasm_before")"
	want="rewritten=+$((COUNT * frags))"
	want+=" rewritten_fragments=+$((COUNT * (frags - 1)))"
	check_eq "$label: l3dsr rewrote every fragment" \
		"$want" "$(stats_delta "$stats_before" "$(stats_snapshot)")"
	check_eq "$label: no new *InCsumErrors on the server" \
		"$csum_before" "$(csum_errors "")"
}

shape udp-frag8 2
shape tcp-frag8 2
shape tcp-frag8x2 3
shape tcp-frag8-rev 2

tap_end
