#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end: a client reaches a VIP through a stateless balancer that marks
# DSCP 10 and sends the request to the server's own address (RIP); l3dsr on
# the server turns the destination back into the VIP, and the server answers
# from the VIP straight to the client.
#
#  +-----------+        +-------------+          +------------------------+
#  | client    |        | router      |          | lb (nft, stateless)    |
#  |      eth0 +--------+ r-client    |          | to VIP: DSCP 10,       |
#  | .2 / ::2  |        |        r-lb +----------+ eth0  daddr = RIP      |
#  +-----------+        |             |          | 203.0.113.2            |
#  198.51.100.0/24      | r-server    |          | 2001:db8:203::2        |
#  2001:db8:100::/64    +------+------+          +------------------------+
#                              |  VIP routed to the lb
#                              |  192.0.2.0/24, 2001:db8:192::/64
#                       +------+------------------------------------------+
#                       | server = the initial namespace (sysfs speaks    |
#                       | for it), l3dsrNNN: RIP 192.0.2.10 (.11 spare)    |
#                       |   RIP 2001:db8:192::10 (::11 spare)             |
#                       | lo: VIP 211.115.115.100/32, 2001:db8:ffff::100  |
#                       | l3dsr: DSCP 10 -> VIP                           |
#                       +-------------------------------------------------+
#
#  request:  client -> router -> lb -> router -> server   (dst VIP, then RIP)
#  reply:    server -> router -> client                   (src VIP)
#
# The counters checked against l3dsr come from what this script sent and
# from nft counters on the lb, never from l3dsr's own output.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly HTTP_PORT=8080
readonly BULK_PORT=9100
readonly REFUSED_PORT=9101
readonly ECHO_PORT=9200
readonly SPARE_ECHO_PORT=9300
readonly UDP_PAYLOAD=100
readonly COUNT=20
readonly BULK_BYTES=${BULK_BYTES:-4194304}
# Datagrams bigger than the links' MTU (veth's 1500) arrive in fragments.
readonly LINK_MTU=1500
readonly FRAGMENTED_PAYLOAD=3000
readonly FRAGMENTED_COUNT=5

require_l3dsr
require_cmds busybox sha256sum timeout
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"
set_up topo_setup

# The server's table starts empty and is emptied whatever happens.
run "$L3DSRCTL" flush
defer "$L3DSRCTL flush"

mkdir -p "$TMP/www"
head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1 >"$TMP/www/index.html"
head -c "$BULK_BYTES" /dev/urandom >"$TMP/bulk"
BULK_SUM=$(sha256sum <"$TMP/bulk" | cut -d' ' -f1)

background httpd_pid busybox httpd -f -p "$HTTP_PORT" -h "$TMP/www"
background echo4_pid "$PEER" udp-echo "$VIP4" "$ECHO_PORT"
background echo6_pid "$PEER" udp-echo "$VIP6" "$ECHO_PORT"
background spare4_pid "$PEER" udp-echo "$RIP4_OTHER" "$SPARE_ECHO_PORT"
background spare6_pid "$PEER" udp-echo "$RIP6_OTHER" "$SPARE_ECHO_PORT"
if ! wait_listener "" tcp "$HTTP_PORT" ||
	! wait_listener "" udp "$ECHO_PORT" ||
	! wait_listener "" udp "$SPARE_ECHO_PORT"; then
	fail "servers listening"
	tap_end
fi

stat_now()
{
	l3dsr_stat "$1" || echo "unreadable"
}

packets_now()
{
	mapping_field "$FAMILY" "$DSCP" packets || echo "unreadable"
}

sysfs_read()
{
	cat "$(sysfs_mapping_dir "$FAMILY" "$DSCP")/$1" 2>/dev/null ||
		echo "unreadable"
}

test_tcp()
{
	local got info bulk_pid

	got=$(http_fetch "$VIP")
	check_eq "$FAMILY: HTTP fetch from the client to the VIP" \
		"$(cat "$TMP/www/index.html")" "$got"

	# The receiver hashes what it got; the sender's hash was taken before.
	# shellcheck disable=SC2016 # expanded by the inner shell
	background bulk_pid bash -c '"$1" -w 120 tcp-recv "$2" "$3" \
		2>"$4.info" | sha256sum | cut -d" " -f1 >"$4.sum"' _ \
		"$PEER" "$VIP" "$BULK_PORT" "$TMP/bulk-$FAMILY"
	wait_listener "" tcp "$BULK_PORT"
	check "$FAMILY: bulk transfer of $BULK_BYTES bytes sent" \
		in_ns "$NS_CLIENT" "$PEER" -w 120 tcp-send "$VIP" "$BULK_PORT" \
		<"$TMP/bulk"
	wait "$bulk_pid"
	check_eq "$FAMILY: bulk transfer arrives intact (sha256)" \
		"$BULK_SUM" "$(cat "$TMP/bulk-$FAMILY.sum")"
	info=$(cat "$TMP/bulk-$FAMILY.info")
	check_eq "$FAMILY: the server's socket is on the VIP, the peer is the client" \
		"local $VIP peer $CLIENT" "$info"
}

test_udp()
{
	check "$FAMILY: UDP request/reply through the balancer" \
		client_udp udp-send "$VIP" "$ECHO_PORT"
}

# Exactly COUNT datagrams of known size: the mapping's counters must say so.
test_counters()
{
	local header=20 rewritten_before lb_before lb_after expected_bytes

	[ "$FAMILY" = inet6 ] && header=40
	expected_bytes=$((COUNT * (header + 8 + UDP_PAYLOAD)))

	# A fresh mapping starts from zero.
	run "$L3DSRCTL" "-$AF" del-mapping dscp "$DSCP" >/dev/null
	run "$L3DSRCTL" add-mapping dscp "$DSCP" vip "$VIP" ||
		fail "$FAMILY: mapping re-created for the counter test"
	rewritten_before=$(stat_now rewritten)
	lb_before=$(nft_counter "$NS_LB" inet l3dsr_lb "to_vip$AF" packets)

	check "$FAMILY: $COUNT datagrams answered" \
		client_udp udp-send "$VIP" "$ECHO_PORT"

	lb_after=$(nft_counter "$NS_LB" inet l3dsr_lb "to_vip$AF" packets)
	check_eq "$FAMILY: the lb counted $COUNT requests to the VIP" \
		"$COUNT" "$(delta "$lb_after" "$lb_before")"
	check_eq "$FAMILY: show -j packets == datagrams sent" \
		"$COUNT" "$(packets_now)"
	check_eq "$FAMILY: show -j bytes == their IP lengths summed" \
		"$expected_bytes" "$(mapping_field "$FAMILY" "$DSCP" bytes)"
	check_eq "$FAMILY: sysfs packets == datagrams sent" \
		"$COUNT" "$(sysfs_read packets)"
	check_eq "$FAMILY: sysfs bytes == their IP lengths summed" \
		"$expected_bytes" "$(sysfs_read bytes)"
	check_eq "$FAMILY: sysfs vip is the VIP" "$VIP" "$(sysfs_read vip)"
	check_eq "$FAMILY: stats rewritten grew by the datagrams sent" \
		"$COUNT" "$(delta "$(stat_now rewritten)" "$rewritten_before")"
}

# The same traffic without a mapping must not get through.
test_without_mapping()
{
	local refused_pid rewritten_before

	rewritten_before=$(stat_now rewritten)
	run "$L3DSRCTL" "-$AF" del-mapping dscp "$DSCP" ||
		fail "$FAMILY: mapping deleted"
	# the total is the mappings' counters: a deleted one's must stay in it
	check_eq "$FAMILY: stats rewritten kept the deleted mapping's packets" \
		"$rewritten_before" "$(stat_now rewritten)"
	background refused_pid "$PEER" -w 30 tcp-recv "$VIP" "$REFUSED_PORT"
	wait_listener "" tcp "$REFUSED_PORT"
	check_fails "$FAMILY: without the mapping TCP to the VIP fails" \
		in_ns "$NS_CLIENT" "$PEER" -w 3 tcp-send "$VIP" \
		"$REFUSED_PORT" </dev/null
	check_fails "$FAMILY: without the mapping the HTTP fetch fails" \
		http_fetch "$VIP"
	check_fails "$FAMILY: without the mapping UDP gets no reply" \
		client_udp -n 1 -r 1000 udp-send "$VIP" "$ECHO_PORT"
	stop_background "$refused_pid"
}

# fragments FAMILY: how many fragments, and their IP lengths summed, one
# UDP datagram of FRAGMENTED_PAYLOAD bytes becomes on a LINK_MTU link.
fragments()
{
	local header=20 frag_header=0 data per_fragment count

	if [ "$1" = inet6 ]; then
		header=40
		frag_header=8
	fi
	data=$((8 + FRAGMENTED_PAYLOAD))
	# Every fragment but the last carries a multiple of 8 bytes.
	per_fragment=$(((LINK_MTU - header - frag_header) / 8 * 8))
	count=$(((data + per_fragment - 1) / per_fragment))
	echo "$count $((data + count * (header + frag_header)))"
}

# Nothing on the path reassembles before l3dsr, so it sees each fragment:
# the first carries the UDP header, the others only need the IP header
# rewritten. The echo proves the datagram was whole and its checksum right.
test_fragments()
{
	local -a per_datagram
	local packets bytes fragments_before

	read -r -a per_datagram <<< "$(fragments "$FAMILY")"
	run "$L3DSRCTL" replace-mapping dscp "$DSCP" vip "$VIP" ||
		fail "$FAMILY fragments: mapping"
	packets=$(packets_now)
	bytes=$(mapping_field "$FAMILY" "$DSCP" bytes)
	fragments_before=$(stat_now rewritten_fragments)
	check "$FAMILY fragments: $FRAGMENTED_PAYLOAD-byte datagrams answered" \
		client_udp -n "$FRAGMENTED_COUNT" -s "$FRAGMENTED_PAYLOAD" \
		udp-send "$VIP" "$ECHO_PORT"
	check_eq "$FAMILY fragments: mapping counted every fragment" \
		"$((FRAGMENTED_COUNT * per_datagram[0]))" \
		"$(delta "$(packets_now)" "$packets")"
	check_eq "$FAMILY fragments: mapping bytes are the fragments' lengths" \
		"$((FRAGMENTED_COUNT * per_datagram[1]))" \
		"$(delta "$(mapping_field "$FAMILY" "$DSCP" bytes)" "$bytes")"
	check_eq "$FAMILY fragments: rewritten_fragments counted the non-first" \
		"$((FRAGMENTED_COUNT * (per_datagram[0] - 1)))" \
		"$(delta "$(stat_now rewritten_fragments)" "$fragments_before")"
}

# rip: only requests sent to that RIP are rewritten.
test_rip_scope()
{
	local packets scope_before

	run "$L3DSRCTL" add-mapping dscp "$DSCP" vip "$VIP" rip "$RIP" ||
		fail "$FAMILY: RIP-scoped mapping added"
	check "$FAMILY rip: requests to the RIP are rewritten" \
		client_udp udp-send "$VIP" "$ECHO_PORT"
	packets=$(packets_now)
	check_eq "$FAMILY rip: mapping counted them" "$COUNT" "$packets"

	# DSCP 10 to the server's other address, straight from the client.
	scope_before=$(stat_now skipped_scope)
	check "$FAMILY rip: DSCP $DSCP to another address is left alone" \
		client_udp -t "$DSCP_TOS" udp-send "$RIP_OTHER" \
		"$SPARE_ECHO_PORT"
	check_eq "$FAMILY rip: skipped_scope counted them" \
		"$COUNT" "$(delta "$(stat_now skipped_scope)" "$scope_before")"
	check_eq "$FAMILY rip: mapping did not count them" \
		"$packets" "$(packets_now)"
}

# dev: only requests arriving on that device are rewritten.
test_dev_scope()
{
	local packets scope_before

	run "$L3DSRCTL" replace-mapping dscp "$DSCP" vip "$VIP" dev lo ||
		fail "$FAMILY dev: mapping scoped to lo"
	packets=$(packets_now)
	scope_before=$(stat_now skipped_scope)
	check_fails "$FAMILY dev: requests arriving elsewhere get no reply" \
		client_udp -r 300 udp-send "$VIP" "$ECHO_PORT"
	check_eq "$FAMILY dev: skipped_scope counted them" \
		"$COUNT" "$(delta "$(stat_now skipped_scope)" "$scope_before")"
	check_eq "$FAMILY dev: mapping did not count them" \
		"$packets" "$(packets_now)"

	run "$L3DSRCTL" replace-mapping dscp "$DSCP" vip "$VIP" \
		dev "$SERVER_IF" || fail "$FAMILY dev: mapping scoped to $SERVER_IF"
	check "$FAMILY dev: requests arriving on the device are rewritten" \
		client_udp udp-send "$VIP" "$ECHO_PORT"
	check_eq "$FAMILY dev: mapping counted them" \
		"$((packets + COUNT))" "$(packets_now)"
}

# server_dscp_counts: "PACKETS_WITH_DSCP_10 PACKETS_WITH_DSCP_0" to the VIP,
# as the server's own rules see them after l3dsr.
server_dscp_counts()
{
	echo "$(nft_counter "" inet l3dsr_server "dscp10_$AF" packets)" \
		"$(nft_counter "" inet l3dsr_server "dscp0_$AF" packets)"
}

# dscp_deltas BEFORE AFTER: both counts' growth.
dscp_deltas()
{
	local -a before after

	read -r -a before <<< "$1"
	read -r -a after <<< "$2"
	echo "$(delta "${after[0]:-}" "${before[0]:-}")" \
		"$(delta "${after[1]:-}" "${before[1]:-}")"
}

# What DSCP the server's own rules see after l3dsr, with and without
# clear-dscp. The first half proves the counters can tell the difference.
test_clear_dscp()
{
	local before

	run "$L3DSRCTL" replace-mapping dscp "$DSCP" vip "$VIP" ||
		fail "$FAMILY: mapping without clear-dscp"
	before=$(server_dscp_counts)
	check "$FAMILY: requests answered without clear-dscp" \
		client_udp udp-send "$VIP" "$ECHO_PORT"
	check_eq "$FAMILY: without clear-dscp the server sees DSCP $DSCP" \
		"$COUNT 0" "$(dscp_deltas "$before" "$(server_dscp_counts)")"

	run "$L3DSRCTL" replace-mapping dscp "$DSCP" vip "$VIP" clear-dscp ||
		fail "$FAMILY: mapping with clear-dscp"
	before=$(server_dscp_counts)
	check "$FAMILY clear-dscp: requests still answered" \
		client_udp udp-send "$VIP" "$ECHO_PORT"
	check_eq "$FAMILY clear-dscp: the server sees DSCP 0" \
		"0 $COUNT" "$(dscp_deltas "$before" "$(server_dscp_counts)")"
}

for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	AF=4
	[ "$FAMILY" = inet6 ] && AF=6

	check "$FAMILY: add-mapping dscp $DSCP vip $VIP" \
		"$L3DSRCTL" add-mapping dscp "$DSCP" vip "$VIP"
	test_tcp
	test_udp
	test_counters
	test_without_mapping
	test_rip_scope
	test_dev_scope
	test_clear_dscp
	test_fragments
	run "$L3DSRCTL" "-$AF" del-mapping dscp "$DSCP" >/dev/null

	check_eq "$FAMILY: no reply went back through the lb" \
		0 "$(nft_counter "$NS_LB" inet l3dsr_lb "from_vip$AF" packets)"
	check_gt "$FAMILY: the router saw replies from the VIP on the server's side" \
		0 "$(nft_counter "$NS_ROUTER" inet l3dsr_router "replies$AF" packets)"
done

tap_end
