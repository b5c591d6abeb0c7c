#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What the nftables backend does differently from the module, each its own
# check (README, "Without the module"; l3dsr(7)), on the balancer topology
# of l3dsr_e2e.sh with the module kept from loading:
#   - fragments are left alone, every fragment of a datagram alike, unless
#     defragmentation (conntrack) reassembles them before -310: then the
#     whole datagram is rewritten once;
#   - reading the table needs CAP_NET_ADMIN, as all of nftables does;
#   - the "skipped" counters nftables cannot keep are null, even after
#     packets a module would have counted there.

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly ECHO_PORT=9200
readonly SIZE=4000
readonly COUNT=3

require_nft_backend
require_cmds setpriv
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"
set_up topo_setup
map_dscp_both 2>/dev/null

background echo4_pid "$PEER" udp-echo "$VIP4" "$ECHO_PORT"
background echo6_pid "$PEER" udp-echo "$VIP6" "$ECHO_PORT"
wait_listener "" udp "$ECHO_PORT" || fail "UDP echo listening"
defer "nft delete table inet l3dsr_defrag"

for defrag in off on; do
	if [ "$defrag" = on ]; then
		# A conntrack rule pulls nf_defrag_ipv4/6 into the namespace.
		run nft -f - <<-EOF || fail "defrag on"
		table inet l3dsr_defrag {
			chain prerouting {
				type filter hook prerouting priority filter;
				ct state new counter
			}
		}
		EOF
	fi
	for FAMILY in inet inet6; do
		family_vars "$FAMILY"
		packets=$(mapping_field "$FAMILY" "$DSCP" packets)
		if [ "$defrag" = off ]; then
			check_fails "$FAMILY defrag off: fragmented datagrams are left alone" \
				in_ns "$NS_CLIENT" "$PEER" -n "$COUNT" -s "$SIZE" \
				-r 300 udp-send "$VIP" "$ECHO_PORT"
			expected=0
		else
			check "$FAMILY defrag on: reassembled datagrams are rewritten" \
				in_ns "$NS_CLIENT" "$PEER" -n "$COUNT" -s "$SIZE" \
				udp-send "$VIP" "$ECHO_PORT"
			expected=$COUNT
		fi
		check_eq "$FAMILY defrag $defrag: the mapping counted $expected" \
			"$expected" \
			"$(delta "$(mapping_field "$FAMILY" "$DSCP" packets)" "$packets")"
	done
done

setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$L3DSRCTL" show >/dev/null 2>"$TMP/err"
check_contains "reading the table needs CAP_NET_ADMIN" \
	"needs CAP_NET_ADMIN" "$(cat "$TMP/err")"

run "$L3DSRCTL" set-mapping dscp "$DSCP" down
in_ns "$NS_CLIENT" "$PEER" -n 2 -r 300 udp-send "$VIP4" "$ECHO_PORT" \
	>/dev/null 2>&1
check_eq "skipped_down stays null after packets to a down mapping" null \
	"$("$L3DSRCTL" -j stats | jq .skipped_down)"

tap_end
