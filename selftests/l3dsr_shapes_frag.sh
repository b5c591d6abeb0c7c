#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fragments: UDP datagrams of 4000 and 20000 bytes leave the client in
# fragments (links have veth's 1500-byte MTU) and cross the balancer of
# l3dsr_e2e.sh (drawn there) to the server.
#
#   defrag off: nothing in the server's namespace needs reassembly before
#               PREROUTING, so l3dsr sees every fragment: the first with the
#               UDP header, whose checksum covers the whole datagram, the
#               others with only an IP header to rewrite.
#   defrag on:  a conntrack rule pulls nf_defrag_ipv4/6 into the namespace;
#               they run at -400, before l3dsr, which then sees each
#               datagram once, reassembled.
#
# Every datagram must come back whole from the echo server on the VIP
# (compared byte for byte with what was sent); l3dsr's fragment counter
# shows which of the two it saw, so a state that did not take effect cannot
# pass for the other; the server's checksum error counters must stay 0.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly ECHO_PORT=9200
readonly LINK_MTU=1500
readonly SIZES=(4000 20000)
readonly COUNT=5

require_l3dsr
require_cmds nstat
tap_begin

set_up topo_setup

map_dscp_both

background echo4_pid "$PEER" udp-echo "$VIP4" "$ECHO_PORT"
background echo6_pid "$PEER" udp-echo "$VIP6" "$ECHO_PORT"
wait_listener "" udp "$ECHO_PORT" || fail "UDP echo listening"
defer "nft delete table inet l3dsr_defrag"

defrag_state()
{
	if [ "$1" = on ]; then
		run nft -f - <<-EOF
		table inet l3dsr_defrag {
			chain prerouting {
				type filter hook prerouting priority filter;
				ct state new counter
			}
		}
		EOF
	else
		run nft delete table inet l3dsr_defrag 2>/dev/null
		return 0
	fi
}

# fragment_count inet|inet6 SIZE: how many fragments a UDP datagram of SIZE
# payload bytes becomes on a LINK_MTU link. Every fragment but the last
# carries a multiple of 8 bytes; IPv6 adds its fragment header to each.
fragment_count()
{
	local header=20 per_fragment

	[ "$1" = inet6 ] && header=48
	per_fragment=$(((LINK_MTU - header) / 8 * 8))
	echo $(((8 + $2 + per_fragment - 1) / per_fragment))
}

check_eq "the server starts with every *InCsumErrors at 0" "" \
	"$(csum_errors "")"
for defrag in off on; do
	defrag_state "$defrag" || fail "defrag $defrag"
	for FAMILY in inet inet6; do
		family_vars "$FAMILY"
		for size in "${SIZES[@]}"; do
			label="$FAMILY defrag $defrag $size-byte datagrams"
			frags=$(fragment_count "$FAMILY" "$size")
			stats_before=$(stats_snapshot)
			csum_before=$(csum_errors "")

			check "$label: $COUNT echoed whole" \
				in_ns "$NS_CLIENT" "$PEER" -n "$COUNT" \
				-s "$size" udp-send "$VIP" "$ECHO_PORT"

			if [ "$defrag" = off ]; then
				# each fragment on its own; all but the first
				# carry no UDP header
				want="rewritten=+$((COUNT * frags))"
				want+=" rewritten_fragments=+$((COUNT * (frags - 1)))"
			else
				want="rewritten=+$COUNT"
			fi
			check_eq "$label: l3dsr saw $([ "$defrag" = off ] &&
				echo "$frags fragments each" ||
				echo "them reassembled")" \
				"$want" "$(stats_delta "$stats_before" "$(stats_snapshot)")"
			check_eq "$label: no new *InCsumErrors on the server" \
				"$csum_before" "$(csum_errors "")"
		done
	done
done
defrag_state off

tap_end
