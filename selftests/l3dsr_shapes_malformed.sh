#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Malformed packets with a mapped DSCP, every byte crafted (l3dsr_wire on
# lib.sh's wire topology, drawn there). For each shape, COUNT frames, and
# then exactly what must have happened:
#
#   - l3dsr's counters moved as listed and no others (a shape l3dsr must
#     leave alone is never counted as rewritten);
#   - the stack's own counter for that fault moved by COUNT, as it would
#     without l3dsr: bad IPv4/IPv6 headers never reach PREROUTING (ip_rcv
#     and ipv6_rcv drop them), the rest are judged by the stack after l3dsr
#     passed them on: untouched when a header l3dsr needs is cut short,
#     rewritten when only the stack's own checks fail (a UDP length that
#     lies, as a bad checksum would be, is the stack's to judge);
#   - the server's filter, after l3dsr, saw them addressed as expected.
#
# A well-formed datagram goes first as the control: it is rewritten and
# delivered to a socket on the VIP, so the crafted frames do reach the hook.
# That the kernel logged no WARN or BUG meanwhile, run_tests.sh checks.

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

# After l3dsr, where the crafted frames (the only DSCP 10 on the wire) are
# addressed.
run nft -f - <<EOF || fail "server counters"
table inet l3dsr_malformed {
	counter to_vip { }
	counter to_server { }
	chain prerouting {
		type filter hook prerouting priority filter; policy accept;
		ip saddr $WIRE_PEER4 ip dscp $DSCP ip daddr $VIP4 counter name to_vip
		ip6 saddr $WIRE_PEER6 ip6 dscp $DSCP ip6 daddr $VIP6 counter name to_vip
		ip saddr $WIRE_PEER4 ip dscp $DSCP ip daddr $WIRE_SERVER4 counter name to_server
		ip6 saddr $WIRE_PEER6 ip6 dscp $DSCP ip6 daddr $WIRE_SERVER6 counter name to_server
	}
}
EOF
defer "nft delete table inet l3dsr_malformed"

counter()
{
	nft_counter "" inet l3dsr_malformed "$1" packets || echo unreadable
}

# shape FAMILY SHAPE L3DSR_DELTA STACK_COUNTER FILTER_SEES [DELIVERED]
#   L3DSR_DELTA   l3dsr's counters that must move, stats_delta style, with
#                 N for COUNT ("skipped_malformed=+N", "none")
#   STACK_COUNTER the nstat counter that must grow by COUNT, or "-"
#   FILTER_SEES   what the filter after l3dsr counts: "vip", "server" or
#                 "nothing" (the stack dropped it before PREROUTING)
#   DELIVERED     "delivered": a socket on the VIP must get every one
shape()
{
	local family=$1 name=$2 want_l3dsr=${3//N/$COUNT} mib_name=$4
	local sees=$5 delivered=${6:-} label="$1 $2${WIRE_TOS:+ tos $WIRE_TOS}"
	local stats_before mib_before vip_before server_before want_filter sink_pid
	local vip=$VIP4

	[ "$family" = inet6 ] && vip=$VIP6
	stats_before=$(stats_snapshot)
	vip_before=$(counter to_vip)
	server_before=$(counter to_server)
	[ "$mib_name" != - ] && mib_before=$(mib "" "$mib_name")
	if [ "$delivered" = delivered ]; then
		rm -f "$TMP/sink"
		# It ends once all have come, so its wait for the first (and
		# each next) may be long: crafting and sending start slowly
		# on the debug kernel with another VM beside it.
		"$PEER" -n "$COUNT" -r 20000 udp-recv "$vip" "$PORT" \
			>"$TMP/sink" 2>&1 &
		sink_pid=$!
		track_pid "$sink_pid"
		wait_listener "" udp "$PORT"
	fi

	check "$label: $COUNT crafted frames sent" \
		wire_send "$name" "$family" "$COUNT" "$PORT"

	if [ "$delivered" = delivered ]; then
		wait "$sink_pid"
		check_eq "$label: delivered to the socket on the VIP" \
			"datagrams $COUNT" "$(cat "$TMP/sink")"
	fi
	check_eq "$label: l3dsr's counters that moved: $want_l3dsr" \
		"$want_l3dsr" \
		"$(stats_delta "$stats_before" "$(stats_snapshot)")"
	if [ "$mib_name" != - ]; then
		check_eq "$label: the stack counted it in $mib_name" "$COUNT" \
			"$(delta "$(mib "" "$mib_name")" "$mib_before")"
	fi
	case $sees in
	vip)
		want_filter="$COUNT 0"
		sees="after l3dsr it is addressed to the VIP"
		;;
	server)
		want_filter="0 $COUNT"
		sees="after l3dsr it is still addressed to the server"
		;;
	nothing)
		want_filter="0 0"
		sees="it never reached PREROUTING"
		;;
	esac
	# "to the VIP, to the server" as the filter counted them
	check_eq "$label: $sees" "$want_filter" \
		"$(delta "$(counter to_vip)" "$vip_before") $(delta "$(counter to_server)" "$server_before")"
}

#     family name         l3dsr                   stack counter        filter  socket
shape inet  udp           rewritten=+N            -                    vip     delivered
shape inet  ip-options    rewritten=+N            -                    vip     delivered
shape inet  ip-short      none                    IpInHdrErrors        nothing
shape inet  ihl-small     none                    IpInHdrErrors        nothing
shape inet  ihl-past-end  none                    IpInHdrErrors        nothing
shape inet  totlen-long   none                    IpExtInTruncatedPkts nothing
shape inet  tcp-short     skipped_malformed=+N    -                    server
shape inet  udp-short     skipped_malformed=+N    UdpInErrors          server
shape inet  udp-len-long  rewritten=+N            UdpInErrors          vip

shape inet6 udp           rewritten=+N            -                    vip     delivered
shape inet6 ip-short      none                    Ip6InHdrErrors       nothing
shape inet6 paylen-long   none                    Ip6InTruncatedPkts   nothing
shape inet6 dstopts-short skipped_malformed=+N    Ip6InHdrErrors       server
shape inet6 tcp-short     skipped_malformed=+N    -                    server
shape inet6 udp-short     skipped_malformed=+N    Udp6InErrors         server
shape inet6 udp-len-long  rewritten=+N            Udp6InErrors         vip

# The two ECN bits beside the DSCP change nothing: ECT(1), ECT(0) and CE.
for ecn in 1 2 3; do
	WIRE_TOS=$((DSCP_TOS | ecn))
	shape inet  udp       rewritten=+N            -                    vip     delivered
	shape inet6 udp       rewritten=+N            -                    vip     delivered
done
unset WIRE_TOS

tap_end
