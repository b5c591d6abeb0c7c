#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# From nftables to the module under load: the mappings are made while the
# module cannot be loaded (so in nftables), a steady stream of requests
# runs through the balancer in both families, the module becomes loadable
# and `apply` runs. Every request must be answered (the stream waits for
# each echo: one lost datagram fails it), the nftables table must be gone,
# its counters said by apply, and the module must hold the table.

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly ECHO_PORT=9200
readonly STREAM=3000

require_nft_backend
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"
set_up topo_setup
defer "$L3DSRCTL --backend module flush"

background echo4_pid "$PEER" udp-echo "$VIP4" "$ECHO_PORT"
background echo6_pid "$PEER" udp-echo "$VIP6" "$ECHO_PORT"
# Both echo servers, each on its VIP: a stream without one fails whole.
for vip in "$VIP4" "[$VIP6]"; do
	wait_until 100 bash -c "ss -Hlnu 'src $vip:$ECHO_PORT' | grep -q ." ||
		fail "an echo server listens on $vip"
done

check "mappings made in nftables" bash -c \
	"$L3DSRCTL add-mapping dscp $DSCP vip $VIP4 2>/dev/null &&
	 $L3DSRCTL add-mapping dscp $DSCP vip $VIP6 &&
	 nft list table inet l3dsr >/dev/null"

# stream FAMILY: STREAM datagrams, each waiting for its echo.
# A move is judged on a stream already flowing: each family's path answers
# (neighbours resolved on every hop) before the streams start.
for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	check "$FAMILY: the path through nftables answers before the stream" \
		wait_until 300 in_ns "$NS_CLIENT" "$PEER" -w 1 -n 1 -s 64 \
			udp-send "$VIP" "$ECHO_PORT"
done

stream()
{
	family_vars "$1"
	in_ns "$NS_CLIENT" "$PEER" -w 120 -n "$STREAM" -s 64 -r 1000 \
		udp-send "$VIP" "$ECHO_PORT" >"$TMP/stream-$1" 2>&1
}
stream inet &
stream4_pid=$!
track_pid "$stream4_pid"
stream inet6 &
stream6_pid=$!
track_pid "$stream6_pid"

# Under way through nftables first: apply's report shows it did.
sleep 0.5
allow_module
run "$L3DSRCTL" apply -f - >"$TMP/apply.out" 2>"$TMP/apply.err" <<-EOF
	vips unmanaged
	sysctls unmanaged
	dscp $DSCP vip $VIP4
	dscp $DSCP vip $VIP6
EOF
check_eq "apply moves the table into the module" \
	"0|" "$?|$(cat "$TMP/apply.err")"

wait "$stream4_pid"
check_eq "inet: every request of the stream answered" \
	"0 replies $STREAM" "$? $(cat "$TMP/stream-inet")"
wait "$stream6_pid"
check_eq "inet6: every request of the stream answered" \
	"0 replies $STREAM" "$? $(cat "$TMP/stream-inet6")"

check_fails "the nftables table is gone" nft list table inet l3dsr
check_eq "the module holds the table" "module" \
	"$("$L3DSRCTL" -j version | jq -r .backend)"
# What nftables counted before it went, and what the module counted after:
# together at least the stream (the few packets between the module taking
# the table and the nftables table going are counted by both).
for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	by_nft=$(sed -n "s/^nftables counted for $FAMILY dscp $DSCP vip $VIP: \([0-9]*\) packets.*/\1/p" "$TMP/apply.out")
	by_module=$(mapping_field "$FAMILY" "$DSCP" packets)
	check_gt "$FAMILY: apply said what nftables counted" 0 "${by_nft:-0}"
	check_gt "$FAMILY: the module counted the rest" 0 "${by_module:-0}"
	check_gt "$FAMILY: together, at least the stream" "$((STREAM - 1))" \
		"$((${by_nft:-0} + ${by_module:-0}))"
done

tap_end
