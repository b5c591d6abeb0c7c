#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Connection tracking: the server runs a stateful firewall, as servers do:
# new connections only to the VIP's service port, established ones allowed,
# everything else dropped (neighbour discovery aside, without which IPv6
# has no link at all). l3dsr runs before conntrack (-310 < -200), so
# conntrack must record the VIP as the original destination, the server's
# replies from the VIP must match that entry, and L3DSR TCP must work
# through the firewall. The balancer of l3dsr_e2e.sh (drawn there) sends
# the requests.
#
# Two controls prove the firewall is live: a connection to the VIP on
# another port, and one straight to the server's own address (RIP) on the
# service port, must both fail.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly SERVICE_PORT=9100
readonly OTHER_PORT=9101
readonly TCP_BYTES=1048576

require_l3dsr
require_cmds conntrack sha256sum
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"
set_up topo_setup

map_dscp_both

run nft -f - <<EOF || fail "the server's firewall"
table inet l3dsr_firewall {
	counter dropped { }
	chain input {
		type filter hook input priority filter; policy drop;
		iif lo accept
		ct state established,related accept
		ct state new ip daddr $VIP4 tcp dport $SERVICE_PORT accept
		ct state new ip6 daddr $VIP6 tcp dport $SERVICE_PORT accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
		counter name dropped
	}
}
EOF
defer "nft delete table inet l3dsr_firewall"

head -c "$TCP_BYTES" /dev/urandom >"$TMP/bulk"
TCP_SUM=$(sha256sum <"$TMP/bulk" | cut -d' ' -f1)

dropped()
{
	nft_counter "" inet l3dsr_firewall dropped packets || echo unreadable
}

# tcp_to ADDR PORT: a short connection from the client; fails fast.
tcp_to()
{
	in_ns "$NS_CLIENT" "$PEER" -w 5 tcp-send "$1" "$2" </dev/null
}

# The original direction of the tracked connections to the service port,
# as "ORIGINAL_DST REPLY_SRC" lines.
tracked()
{
	run conntrack -L -f "$1" -p tcp --dport "$SERVICE_PORT" 2>/dev/null |
		awk '{
			n = 0
			for (i = 1; i <= NF; i++)
				if ($i ~ /^(dst|src)=/)
					field[++n] = $i
			# src dst (original) src dst (reply)
			sub(/^dst=/, "", field[2]); sub(/^src=/, "", field[3])
			print field[2], field[3]
		}' | sort -u
}

other_pid=
rip_pid=
for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	ct_family=ipv4
	[ "$FAMILY" = inet6 ] && ct_family=ipv6

	rm -f "$TMP/recv.sum" "$TMP/recv.info"
	# shellcheck disable=SC2016 # expanded by the inner shell
	background pid bash -c '"$1" -w 60 tcp-recv "$2" "$3" 2>"$4.info" |
		sha256sum | cut -d" " -f1 >"$4.sum"' _ "$PEER" "$VIP" \
		"$SERVICE_PORT" "$TMP/recv"
	wait_listener "" tcp "$SERVICE_PORT"
	check "$FAMILY: TCP through the firewall to the VIP's service port" \
		in_ns "$NS_CLIENT" "$PEER" -w 60 tcp-send "$VIP" \
		"$SERVICE_PORT" <"$TMP/bulk"
	finish_receiver "$pid" $?
	check_eq "$FAMILY: received intact (sha256)" "$TCP_SUM" \
		"$(cat "$TMP/recv.sum" 2>/dev/null)"
	check_eq "$FAMILY: the server's socket is on the VIP" \
		"local $VIP peer $CLIENT" "$(cat "$TMP/recv.info" 2>/dev/null)"
	check_eq "$FAMILY: conntrack's original destination is the VIP" \
		"$VIP $VIP" "$(tracked "$ct_family")"

	# Controls: both must be refused by the firewall, not by a missing
	# listener, so both have one.
	background other_pid "$PEER" -w 30 tcp-recv "$VIP" "$OTHER_PORT"
	wait_listener "" tcp "$OTHER_PORT"
	dropped_before=$(dropped)
	check_fails "$FAMILY: the VIP's other port is firewalled" \
		tcp_to "$VIP" "$OTHER_PORT"
	stop_background "$other_pid"
	check_gt "$FAMILY: the firewall dropped it" "$dropped_before" "$(dropped)"

	background rip_pid "$PEER" -w 30 tcp-recv "$RIP" "$SERVICE_PORT"
	wait_listener "" tcp "$SERVICE_PORT"
	dropped_before=$(dropped)
	check_fails "$FAMILY: the service port on the RIP is firewalled" \
		tcp_to "$RIP" "$SERVICE_PORT"
	stop_background "$rip_pid"
	check_gt "$FAMILY: the firewall dropped it" "$dropped_before" "$(dropped)"
done

tap_end
