#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checksum states: every way a request's checksum can reach l3dsr on a
# server must come out right after the rewrite.
#
#   sender's offload  tx on:  the router's veth hands the server packets
#                             whose checksum is still to be done
#                             (CHECKSUM_PARTIAL), TCP in 64 KB GSO packets
#                     tx off: checksums computed in software on the way
#                             out; the server's stack verifies every one
#                             (CHECKSUM_NONE)
#   server's GRO      on:     small segments merged again on the server's
#                             ingress, their checksum state rebuilt by GRO
#   conntrack         loaded in the server's namespace, or not
#
# For each combination and each family: a bulk TCP transfer whose SHA-256
# must match at both ends, UDP request/reply and ICMP / ICMPv6 echo to the
# VIP, all through the balancer of l3dsr_e2e.sh (drawn there):
#
#   client -> router -> lb (DSCP 10, dst = RIP) -> router -> server (l3dsr)
#          <-----------------------------------------------  (from the VIP)
#
# after which the server's checksum error counters (*InCsumErrors) must all
# still be 0.
#
# A checksum still to be done (CHECKSUM_PARTIAL) is never verified by the
# server itself, so a wrong one would pass unseen. The server therefore
# copies (nft dup) every request l3dsr rewrote to an observer on the wire
# of lib.sh's wire topology, through a veth with tx off, where the kernel
# completes the checksum from what l3dsr left; l3dsr_wire capture verifies
# each copy's transport checksum there:
#
#   server --dup, tx off--> wire (l3dsr_wire capture: checksum right?)
# One transfer per family is BULK_BYTES (16 MB); the other
# combinations send MATRIX_BYTES, since TCG is slow. CSUM_CONNTRACK_STATES
# may leave conntrack's half of the matrix out.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly BULK_PORT=9100
readonly ECHO_PORT=9200
readonly BULK_BYTES=${BULK_BYTES:-16777216}
readonly MATRIX_BYTES=${MATRIX_BYTES:-1048576}
# the conntrack states of the matrix ("off on"; "off" halves it where every
# combination costs much: the Debian kernels' lanes run the whole)
readonly CONNTRACK_STATES=${CSUM_CONNTRACK_STATES:-off on}
readonly UDP_COUNT=10
readonly PING_COUNT=3
OBSERVER_PID=

require_l3dsr
require_cmds ethtool nstat ping sha256sum
tap_begin

# The observer's side completes checksums itself, from what l3dsr left.
observer_tx_off()
{
	offload "" "$WIRE_IF" tx off
}

scratch_dir TMP || skip_all "cannot create a scratch directory"
set_up topo_setup wire_setup observer_tx_off
map_dscp_both

run nft -f - <<EOF || fail "copies of the rewritten requests to the observer"
table ip l3dsr_observe {
	chain prerouting {
		type filter hook prerouting priority filter; policy accept;
		ip daddr $VIP4 dup to $WIRE_PEER4 device "$WIRE_IF"
	}
}
table ip6 l3dsr_observe {
	chain prerouting {
		type filter hook prerouting priority filter; policy accept;
		ip6 daddr $VIP6 dup to $WIRE_PEER6 device "$WIRE_IF"
	}
}
EOF
defer "nft delete table ip l3dsr_observe"
defer "nft delete table ip6 l3dsr_observe"

head -c "$BULK_BYTES" /dev/urandom >"$TMP/bulk"
background echo4_pid "$PEER" udp-echo "$VIP4" "$ECHO_PORT"
background echo6_pid "$PEER" udp-echo "$VIP6" "$ECHO_PORT"
wait_listener "" udp "$ECHO_PORT" || fail "UDP echo listening"

# Whatever the run did to the devices and tables is undone at exit.
defer "nft delete table inet l3dsr_ct"
defer "ethtool -K '$SERVER_IF' gro off"
defer "ip netns exec '$NS_ROUTER' ethtool -K r-server tx on"
defer "ip netns exec '$NS_CLIENT' ethtool -K eth0 tx on"

# conntrack on|off: a ct rule is what makes a namespace track connections
# (and defragment); deleting the table lets it go again.
conntrack_state()
{
	if [ "$1" = on ]; then
		run nft -f - <<-EOF
		table inet l3dsr_ct {
			chain prerouting {
				type filter hook prerouting priority filter;
				ct state new counter
			}
		}
		EOF
	else
		run nft delete table inet l3dsr_ct 2>/dev/null
		return 0
	fi
}

# tx on|off on every veth that sends the requests: the client's and the
# router's towards the server.
tx_state()
{
	offload "$NS_CLIENT" eth0 tx "$1" &&
	offload "$NS_ROUTER" r-server tx "$1"
}

# bulk BYTES: send the first BYTES of the random file to the VIP; the
# receiver hashes what it got.
bulk()
{
	local bytes=$1 want got info pid

	want=$(head -c "$bytes" "$TMP/bulk" | sha256sum | cut -d' ' -f1)
	rm -f "$TMP/recv.sum" "$TMP/recv.info"
	# shellcheck disable=SC2016 # expanded by the inner shell
	background pid bash -c '"$1" -w 200 tcp-recv "$2" "$3" \
		2>"$4.info" | sha256sum | cut -d" " -f1 >"$4.sum"' _ \
		"$PEER" "$VIP" "$BULK_PORT" "$TMP/recv"
	wait_listener "" tcp "$BULK_PORT"
	# A broken path must fail in seconds, a slow TCG guest not at all.
	check "$LABEL: TCP $bytes bytes sent to the VIP" \
		in_ns "$NS_CLIENT" "$PEER" -w "$((30 + bytes / 131072))" \
		tcp-send "$VIP" "$BULK_PORT" < <(head -c "$bytes" "$TMP/bulk")
	finish_receiver "$pid" $?
	got=$(cat "$TMP/recv.sum" 2>/dev/null)
	info=$(cat "$TMP/recv.info" 2>/dev/null)
	check_eq "$LABEL: TCP received intact (sha256 at both ends)" \
		"$want" "$got"
	check_eq "$LABEL: TCP socket on the VIP" "local $VIP peer $CLIENT" \
		"$info"
}

ping_vip()
{
	local family_flag=-4

	[ "$FAMILY" = inet6 ] && family_flag=-6
	in_ns "$NS_CLIENT" ping "$family_flag" -q -c "$PING_COUNT" -i 0.2 \
		-W 3 "$VIP"
}

observer_ready()
{
	grep -q '^ready$' "$TMP/observer"
}

observer_start()
{
	rm -f "$TMP/observer"
	trace "ip netns exec $NS_WIRE $WIRE capture eth0 $VIP $RIP &"
	# Not through a function: the signal must reach the program itself
	# (ip netns exec becomes it), not a subshell around it.
	ip netns exec "$NS_WIRE" "$WIRE" capture eth0 "$VIP" "$RIP" \
		>"$TMP/observer" 2>&1 &
	OBSERVER_PID=$!
	track_pid "$OBSERVER_PID"
	wait_until 100 observer_ready || note "the observer did not start"
}

# observer_check: stop the observer; it must have seen copies, all with a
# right checksum.
observer_check()
{
	local to_vip bad

	kill -USR1 "$OBSERVER_PID" 2>/dev/null
	wait "$OBSERVER_PID"
	read -r _ to_vip _ _ _ bad < <(tail -n 1 "$TMP/observer")
	note "$LABEL: the observer verified ${to_vip:-no} copies, ${bad:-?} bad"
	check_gt "$LABEL: the observer got copies of the rewritten requests" \
		0 "${to_vip:-none}"
	check_eq "$LABEL: their transport checksums are right" 0 "${bad:-none}"
}

# run_combo BYTES: one pass of TCP, UDP and ICMP in the current states.
run_combo()
{
	local bytes=$1 rewritten_before packets bytes_b csum_before

	csum_before=$(csum_errors "")
	rewritten_before=$(l3dsr_stat rewritten)
	packets=$(mapping_field "$FAMILY" "$DSCP" packets)
	bytes_b=$(mapping_field "$FAMILY" "$DSCP" bytes)

	observer_start
	bulk "$bytes"
	check "$LABEL: UDP request/reply x$UDP_COUNT" \
		in_ns "$NS_CLIENT" "$PEER" -n "$UDP_COUNT" -s 200 udp-send \
		"$VIP" "$ECHO_PORT"
	check "$LABEL: ICMP echo x$PING_COUNT" ping_vip
	observer_check

	check_eq "$LABEL: no new *InCsumErrors on the server" \
		"$csum_before" "$(csum_errors "")"
	check_gt "$LABEL: l3dsr rewrote the requests" 0 \
		"$(delta "$(l3dsr_stat rewritten)" "$rewritten_before")"
	# What the rewrite saw: above the link MTU means GSO/GRO packets.
	packets=$(delta "$(mapping_field "$FAMILY" "$DSCP" packets)" "$packets")
	bytes_b=$(delta "$(mapping_field "$FAMILY" "$DSCP" bytes)" "$bytes_b")
	[[ "$packets" =~ ^[1-9][0-9]*$ ]] && [[ "$bytes_b" =~ ^[0-9]+$ ]] &&
		note "$LABEL: $packets packets rewritten, $((bytes_b / packets)) bytes on average"
}

# matrix: every combination for one family; the first sends BULK_BYTES.
# Once one fails, the others would mostly wait out their deadlines: the
# family stops there.
matrix()
{
	local ct gro tx bytes=$BULK_BYTES failed_before=$tap_failed

	# shellcheck disable=SC2086 # a blank-separated list
	for ct in $CONNTRACK_STATES; do
		conntrack_state "$ct" || fail "$FAMILY: conntrack $ct"
		for gro in off on; do
			offload "" "$SERVER_IF" gro "$gro" ||
				fail "$FAMILY: GRO $gro on the server's ingress"
			for tx in off on; do
				tx_state "$tx" || fail "$FAMILY: tx $tx"
				LABEL="$FAMILY tx $tx gro $gro conntrack $ct"
				run_combo "$bytes"
				bytes=$MATRIX_BYTES
				if [ "$tap_failed" != "$failed_before" ]; then
					note "$FAMILY: the other combinations skipped after this failure"
					return
				fi
			done
		done
	done
}

# Each run then checks that they stayed so (a failed run does not fail
# the ones after it).
check_eq "the server starts with every *InCsumErrors at 0" "" \
	"$(csum_errors "")"
for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	matrix
	conntrack_state off
done

tap_end
