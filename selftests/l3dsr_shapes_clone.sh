#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cloned packets: a capture on the server's ingress shares each packet's
# data with the stack. l3dsr must make the headers private before it writes
# them, or the capture shows the VIP where the wire carried the RIP.
#
# An AF_PACKET socket (l3dsr_wire capture) on the server's end of the link
# in the balancer topology of l3dsr_e2e.sh (drawn there) lets the frames
# queue up unread while UDP and TCP traffic flows and l3dsr rewrites it,
# and only then reads them: every request must still say RIP, none VIP.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly BULK_PORT=9100
readonly ECHO_PORT=9200
readonly COUNT=20
readonly TCP_BYTES=262144

require_l3dsr
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"
set_up topo_setup

map_dscp_both

background echo4_pid "$PEER" udp-echo "$VIP4" "$ECHO_PORT"
background echo6_pid "$PEER" udp-echo "$VIP6" "$ECHO_PORT"
wait_listener "" udp "$ECHO_PORT" || fail "UDP echo listening"
head -c "$TCP_BYTES" /dev/urandom >"$TMP/bulk"

capture_ready()
{
	grep -q '^ready$' "$TMP/capture"
}

for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	AF=4
	[ "$FAMILY" = inet6 ] && AF=6

	"$WIRE" capture "$SERVER_IF" "$RIP" "$VIP" >"$TMP/capture" 2>&1 &
	capture_pid=$!
	track_pid "$capture_pid"
	wait_until 100 capture_ready || fail "$FAMILY: capture started"

	lb_before=$(nft_counter "$NS_LB" inet l3dsr_lb "to_vip$AF" packets)
	rewritten_before=$(l3dsr_stat rewritten)
	check "$FAMILY: UDP request/reply x$COUNT while capturing" \
		in_ns "$NS_CLIENT" "$PEER" -n "$COUNT" udp-send "$VIP" \
		"$ECHO_PORT"
	"$PEER" -w 60 tcp-recv "$VIP" "$BULK_PORT" >/dev/null 2>&1 &
	pid=$!
	track_pid "$pid"
	wait_listener "" tcp "$BULK_PORT"
	check "$FAMILY: TCP to the VIP while capturing" \
		in_ns "$NS_CLIENT" "$PEER" -w 60 tcp-send "$VIP" "$BULK_PORT" \
		<"$TMP/bulk" >/dev/null
	finish_receiver "$pid" $?
	lb_after=$(nft_counter "$NS_LB" inet l3dsr_lb "to_vip$AF" packets)
	rewritten=$(delta "$(l3dsr_stat rewritten)" "$rewritten_before")

	kill -USR1 "$capture_pid"
	wait "$capture_pid"
	read -r _ to_rip _ to_vip _ < <(tail -n 1 "$TMP/capture")
	note "$FAMILY: the lb sent $(delta "$lb_after" "$lb_before") requests," \
		"l3dsr rewrote $rewritten, the capture read $to_rip to the RIP" \
		"and $to_vip to the VIP"
	check_gt "$FAMILY: l3dsr rewrote the requests" 0 "$rewritten"
	# GRO or GSO may merge requests: the capture sees what l3dsr saw.
	check_eq "$FAMILY: the capture saw every rewritten request as sent (RIP)" \
		"$rewritten" "$to_rip"
	check_eq "$FAMILY: the capture never saw the VIP" 0 "$to_vip"
done

tap_end
