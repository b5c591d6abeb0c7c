#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IPv6 extension headers between the IPv6 header and the transport header.
#
# Hop-by-Hop and Destination Options (16 bytes each, set on the client's
# socket) in front of UDP and TCP, through the balancer of l3dsr_e2e.sh
# (drawn there): l3dsr must find the transport header past them, rewrite
# its checksum, and the server must accept every packet. The server counts
# at its filter priority the packets to the VIP that carry each header, so
# the headers really were there.
#
# A Routing header (type 0, one address), crafted on the wire of lib.sh's
# wire topology:
#   segments left 1: the destination is a waypoint, not this host in the
#                    end; l3dsr leaves it alone (skipped_routing_header)
#                    and the packet reaches the server's filter still
#                    addressed to the server's own address
#   segments left 0: a spent route, walked past: rewritten to the VIP, the
#                    datagram delivered to a socket there (checksum right)
#
# IPv4 source routes, LSRR and SSRR with one address, crafted the same way,
# decided as IPv6 Routing headers are:
#   pointer at the address (a hop left): left alone, skipped_routing_header,
#                    still addressed to the server after l3dsr
#   pointer past the end (the route walked): rewritten to the VIP
# The server's filter counts them at priority -300, before the stack drops
# source-routed packets (accept_source_route is off).

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly BULK_PORT=9100
readonly ECHO_PORT=9200
readonly SINK_PORT=9300
readonly COUNT=10
readonly TCP_BYTES=262144

require_l3dsr
require_cmds nstat sha256sum
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"
set_up topo_setup wire_setup
family_vars inet6

run "$L3DSRCTL" flush
defer "$L3DSRCTL flush"
check "mapping DSCP $DSCP to $VIP6" \
	"$L3DSRCTL" add-mapping dscp "$DSCP" vip "$VIP6"

# At filter priority, after l3dsr: what carries which header, to where.
# Only the crafted frames carry DSCP 10 on the wire: neighbour discovery
# and the ICMPv6 errors the server answers with do not.
run nft -f - <<EOF || fail "server counters"
table ip6 l3dsr_exthdr {
	counter vip_hbh { }
	counter vip_dst { }
	counter wire_to_vip { }
	counter wire_to_server { }
	chain prerouting {
		type filter hook prerouting priority filter; policy accept;
		ip6 daddr $VIP6 exthdr hbh exists counter name vip_hbh
		ip6 daddr $VIP6 exthdr dst exists counter name vip_dst
		ip6 saddr $WIRE_PEER6 ip6 dscp $DSCP ip6 daddr $VIP6 counter name wire_to_vip
		ip6 saddr $WIRE_PEER6 ip6 dscp $DSCP ip6 daddr $WIRE_SERVER6 counter name wire_to_server
	}
}
EOF
defer "nft delete table ip6 l3dsr_exthdr"

background echo_pid "$PEER" udp-echo "$VIP6" "$ECHO_PORT"
wait_listener "" udp "$ECHO_PORT" || fail "UDP echo listening"
head -c "$TCP_BYTES" /dev/urandom >"$TMP/bulk"
TCP_SUM=$(sha256sum <"$TMP/bulk" | cut -d' ' -f1)

counter()
{
	nft_counter "" ip6 l3dsr_exthdr "$1" packets || echo unreadable
}

# headers_counted HEADERS BEFORE_HBH BEFORE_DST: the server's counters of
# packets to the VIP with each header grew as HEADERS (hop, dst, both) says.
headers_counted()
{
	local hbh dst

	hbh=$(delta "$(counter vip_hbh)" "$2")
	dst=$(delta "$(counter vip_dst)" "$3")
	case $1 in
	hop) [[ $hbh =~ ^[1-9] ]] && [ "$dst" = 0 ] ;;
	dst) [ "$hbh" = 0 ] && [[ $dst =~ ^[1-9] ]] ;;
	both) [[ $hbh =~ ^[1-9] ]] && [[ $dst =~ ^[1-9] ]] ;;
	esac || { note "hop-by-hop +$hbh, destination options +$dst"; return 1; }
}

check_eq "the server starts with every *InCsumErrors at 0" "" \
	"$(csum_errors "")"
for ext in hop dst both; do
	label="UDP with $ext options header(s)"
	csum_before=$(csum_errors "")
	stats_before=$(stats_snapshot)
	hbh=$(counter vip_hbh)
	dst=$(counter vip_dst)
	check "$label: $COUNT echoed" in_ns "$NS_CLIENT" "$PEER" -x "$ext" \
		-n "$COUNT" -s 100 udp-send "$VIP6" "$ECHO_PORT"
	check_eq "$label: l3dsr rewrote each" "rewritten=+$COUNT" \
		"$(stats_delta "$stats_before" "$(stats_snapshot)")"
	check "$label: the headers reached the server" \
		headers_counted "$ext" "$hbh" "$dst"
	check_eq "$label: no new *InCsumErrors on the server" \
		"$csum_before" "$(csum_errors "")"
done

for ext in hop dst; do
	label="TCP with $ext options header"
	csum_before=$(csum_errors "")
	hbh=$(counter vip_hbh)
	dst=$(counter vip_dst)
	rm -f "$TMP/recv.sum"
	# shellcheck disable=SC2016 # expanded by the inner shell
	background pid bash -c '"$1" -w 60 tcp-recv "$2" "$3" 2>/dev/null |
		sha256sum | cut -d" " -f1 >"$4"' _ "$PEER" "$VIP6" "$BULK_PORT" \
		"$TMP/recv.sum"
	wait_listener "" tcp "$BULK_PORT"
	check "$label: $TCP_BYTES bytes sent" in_ns "$NS_CLIENT" "$PEER" \
		-w 60 -x "$ext" tcp-send "$VIP6" "$BULK_PORT" <"$TMP/bulk"
	finish_receiver "$pid" $?
	check_eq "$label: received intact (sha256)" "$TCP_SUM" \
		"$(cat "$TMP/recv.sum" 2>/dev/null)"
	check "$label: the header reached the server" \
		headers_counted "$ext" "$hbh" "$dst"
	check_eq "$label: no new *InCsumErrors on the server" \
		"$csum_before" "$(csum_errors "")"
done

# Routing headers, crafted.
label="routing header, segments left 1"
stats_before=$(stats_snapshot)
to_vip=$(counter wire_to_vip)
to_server=$(counter wire_to_server)
check "$label: $COUNT sent" wire_send rthdr-sl1 inet6 "$COUNT" "$SINK_PORT"
check_eq "$label: l3dsr skipped them" "skipped_routing_header=+$COUNT" \
	"$(stats_delta "$stats_before" "$(stats_snapshot)")"
check_eq "$label: still addressed to the server after l3dsr" "$COUNT 0" \
	"$(delta "$(counter wire_to_server)" "$to_server") $(delta "$(counter wire_to_vip)" "$to_vip")"

label="routing header, segments left 0"
csum_before=$(csum_errors "")
stats_before=$(stats_snapshot)
to_vip=$(counter wire_to_vip)
rm -f "$TMP/sink"
sink_pid=
# ends once all have come: its wait for the first may be long (a slow start)
background sink_pid bash -c "'$PEER' -n $COUNT -r 20000 udp-recv $VIP6 \
	$SINK_PORT >'$TMP/sink'"
wait_listener "" udp "$SINK_PORT"
check "$label: $COUNT sent" wire_send rthdr-sl0 inet6 "$COUNT" "$SINK_PORT"
wait "$sink_pid"
check_eq "$label: l3dsr rewrote them" "rewritten=+$COUNT" \
	"$(stats_delta "$stats_before" "$(stats_snapshot)")"
check_eq "$label: addressed to the VIP after l3dsr" "$COUNT" \
	"$(delta "$(counter wire_to_vip)" "$to_vip")"
check_eq "$label: delivered to the socket on the VIP" "datagrams $COUNT" \
	"$(cat "$TMP/sink" 2>/dev/null)"
check_eq "$label: no new *InCsumErrors on the server" "$csum_before" \
	"$(csum_errors "")"

# IPv4 source routes, crafted.
check "mapping DSCP $DSCP to $VIP4" \
	"$L3DSRCTL" add-mapping dscp "$DSCP" vip "$VIP4"
run nft -f - <<EOF || fail "server counters (IPv4)"
table ip l3dsr_exthdr4 {
	counter wire_to_vip { }
	counter wire_to_server { }
	chain prerouting {
		type filter hook prerouting priority -300; policy accept;
		ip saddr $WIRE_PEER4 ip dscp $DSCP ip daddr $VIP4 counter name wire_to_vip
		ip saddr $WIRE_PEER4 ip dscp $DSCP ip daddr $WIRE_SERVER4 counter name wire_to_server
	}
}
EOF
defer "nft delete table ip l3dsr_exthdr4"

counter4()
{
	nft_counter "" ip l3dsr_exthdr4 "$1" packets || echo unreadable
}

for shape in lsrr-left ssrr-left lsrr-spent ssrr-spent; do
	if [ "${shape#*-}" = left ]; then
		label="IPv4 ${shape%-*}, a hop left"
		want_stats="skipped_routing_header=+$COUNT" want="$COUNT 0"
		what="skipped them" where="server"
	else
		label="IPv4 ${shape%-*}, the route walked"
		want_stats="rewritten=+$COUNT" want="0 $COUNT"
		what="rewrote them" where="VIP"
	fi
	stats_before=$(stats_snapshot)
	to_vip=$(counter4 wire_to_vip)
	to_server=$(counter4 wire_to_server)
	check "$label: $COUNT sent" wire_send "$shape" inet "$COUNT" "$SINK_PORT"
	check_eq "$label: l3dsr $what" "$want_stats" \
		"$(stats_delta "$stats_before" "$(stats_snapshot)")"
	check_eq "$label: addressed to the $where after l3dsr" "$want" \
		"$(delta "$(counter4 wire_to_server)" "$to_server") $(delta "$(counter4 wire_to_vip)" "$to_vip")"
done

tap_end
