#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# l3dsr's hook after an NFQUEUE verdict. A chain at prerouting priority
# -400 queues every DSCP-10 packet the server receives (queue 0, no
# bypass) to l3dsr_nfq, which accepts each unchanged; nf_reinject() then
# runs the hooks after the queueing one, l3dsr's at -310 among them, in
# process context, with bottom halves enabled and, on a preemptible
# kernel, preemption too. The requests must get through as ever, counted
# once each; a kernel with DEBUG_PREEMPT and lockdep (the debug lane)
# reports per-CPU state touched where it is not safe, which fails the run
# (selftests/klog-bad).
#
# The balancer topology of l3dsr_e2e.sh (drawn there); on the server (the
# initial namespace):
#
#   DSCP 10 in --> [-400 queue 0] --> l3dsr_nfq (userspace, accepts)
#                                        |
#                                        v nf_reinject()
#                  [-310 l3dsr: RIP -> VIP] --> ... --> socket on the VIP
#
# Per family: COUNT UDP datagrams echoed and a TCP transfer whose bytes
# arrive intact; then the mapping's packets, the namespace's rewritten and
# what l3dsr_nfq accepted all equal the requests the lb sent (its counter),
# nothing lost in the queue.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly NFQ="$SELFTESTS_DIR/l3dsr_nfq"
readonly ECHO_PORT=9200
readonly BULK_PORT=9100
readonly COUNT=20
readonly TCP_BYTES=${NFQUEUE_TCP_BYTES:-262144}

require_l3dsr
require_cmds sha256sum
[ -x "$NFQ" ] || skip_all "needs $NFQ (run make in selftests/)"
modprobe nfnetlink_queue 2>/dev/null
modprobe nft_queue 2>/dev/null
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"
set_up topo_setup

map_dscp_both

# The verdict program first: with bypass off, a packet queued to a queue
# nobody listens on is dropped.
"$NFQ" -q 0 >"$TMP/nfq" 2>&1 &
NFQ_PID=$!
track_pid "$NFQ_PID"
check "l3dsr_nfq listens on queue 0" wait_until 100 grep -q '^ready$' \
	"$TMP/nfq" || note "$(cat "$TMP/nfq")"

check "DSCP-10 packets queued at priority -400" nft -f - <<EOF
table inet l3dsr_nfqueue {
	counter queued { }
	chain prerouting {
		type filter hook prerouting priority -400; policy accept;
		iifname "$SERVER_IF" ip dscp $DSCP counter name queued queue num 0
		iifname "$SERVER_IF" ip6 dscp $DSCP counter name queued queue num 0
	}
}
EOF
defer "nft delete table inet l3dsr_nfqueue"

background echo4_pid "$PEER" udp-echo "$VIP4" "$ECHO_PORT"
background echo6_pid "$PEER" udp-echo "$VIP6" "$ECHO_PORT"
wait_listener "" udp "$ECHO_PORT" || fail "UDP echo listening"
head -c "$TCP_BYTES" /dev/urandom >"$TMP/bulk"
TCP_SUM=$(sha256sum <"$TMP/bulk" | cut -d' ' -f1)

for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	AF=4
	[ "$FAMILY" = inet6 ] && AF=6
	lb_before=$(nft_counter "$NS_LB" inet l3dsr_lb "to_vip$AF" packets)
	queued_before=$(nft_counter "" inet l3dsr_nfqueue queued packets)
	rewritten_before=$(l3dsr_stat rewritten)
	packets_before=$(mapping_field "$FAMILY" "$DSCP" packets)

	check "$FAMILY: $COUNT UDP datagrams echoed through the queue" \
		in_ns "$NS_CLIENT" "$PEER" -n "$COUNT" -s 100 udp-send "$VIP" \
		"$ECHO_PORT"

	rm -f "$TMP/recv.sum"
	# shellcheck disable=SC2016 # expanded by the inner shell
	background pid bash -c '"$1" -w 60 tcp-recv "$2" "$3" 2>/dev/null |
		sha256sum | cut -d" " -f1 >"$4"' _ "$PEER" "$VIP" "$BULK_PORT" \
		"$TMP/recv.sum"
	wait_listener "" tcp "$BULK_PORT"
	check "$FAMILY: TCP, $TCP_BYTES bytes sent through the queue" \
		in_ns "$NS_CLIENT" "$PEER" -w 60 tcp-send "$VIP" "$BULK_PORT" \
		<"$TMP/bulk"
	finish_receiver "$pid" $?
	check_eq "$FAMILY: TCP received intact (sha256)" "$TCP_SUM" \
		"$(cat "$TMP/recv.sum" 2>/dev/null)"

	sent=$(delta "$(nft_counter "$NS_LB" inet l3dsr_lb "to_vip$AF" \
		packets)" "$lb_before")
	check_gt "$FAMILY: the lb sent requests" "$COUNT" "$sent"
	check_eq "$FAMILY: every request was queued" "$sent" \
		"$(delta "$(nft_counter "" inet l3dsr_nfqueue queued packets)" \
			"$queued_before")"
	check_eq "$FAMILY: the mapping's packets == requests sent" "$sent" \
		"$(delta "$(mapping_field "$FAMILY" "$DSCP" packets)" \
			"$packets_before")"
	check_eq "$FAMILY: rewritten == requests sent" "$sent" \
		"$(delta "$(l3dsr_stat rewritten)" "$rewritten_before")"
done

# Nothing is queued once the table is gone; then the program may stop.
run nft delete table inet l3dsr_nfqueue
stop_background "$NFQ_PID"
total=$(($(nft_counter "$NS_LB" inet l3dsr_lb to_vip4 packets) +
	 $(nft_counter "$NS_LB" inet l3dsr_lb to_vip6 packets)))
check_eq "l3dsr_nfq accepted every request" "accepted $total" \
	"$(tail -n 1 "$TMP/nfq")"

tap_end
