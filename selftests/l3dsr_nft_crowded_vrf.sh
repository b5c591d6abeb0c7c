#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# l3dsr_crowded_vrf.sh on the nftables backend, the module kept from
# loading. A packet arriving on a device enslaved to a VRF passes
# PREROUTING twice: on that device, then on the VRF device, already
# rewritten, its DSCP still the mapped one. The backend's chains judge a
# packet on its first pass only (meta iifkind != "vrf"), so each is
# rewritten and counted once, as by the module.
#
#  +------------------------+            +----------------------------------+
#  | wire (crafts frames)   |            | server = the initial namespace   |
#  |  eth0 198.18.0.2/24    +------------+ wNNN 198.18.0.1/24 (the RIP)     |
#  |  2001:db8:18::2/64     |            |   2001:db8:18::1/64              |
#  +------------------------+            |   enslaved to vblueNNN           |
#                                        | vblueNNN: VRF, table 10,         |
#                                        |   VIP 211.115.115.100/32,        |
#                                        |   2001:db8:ffff::100/128         |
#                                        | l3dsr (nft): DSCP 10 -> VIP      |
#                                        +----------------------------------+
#
# The wire sends COUNT UDP datagrams marked DSCP 10 to the RIP. A raw
# socket on the server sees every one arrive in the VRF addressed to the
# VIP with a right UDP checksum; the mapping's packets and the namespace's
# rewritten grow by COUNT, not twice COUNT (the second pass is not
# judged). A mapping scoped to a device (dev wNNN),
# which the module's test also runs, is refused on this backend with the
# table left as it was (README, "Without the module").

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly PORT=9300
readonly COUNT=10
readonly VRF_TABLE=10
VRF_IF=vblue$$

require_nft_backend
modprobe vrf 2>/dev/null
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"

set_up vrf_setup vrf_routes raw_sockets_see_vrf
map_dscp_both

packets_now()
{
	mapping_field "$FAMILY" "$DSCP" packets || echo unreadable
}

check_eq "the table is on the nftables backend" nft \
	"$("$L3DSRCTL" -j version | jq -r .backend)"

# stats_words: stats -j as "name=value" words, for stats_delta.
stats_words()
{
	run "$L3DSRCTL" -j stats |
		jq -r 'to_entries | map("\(.key)=\(.value)") | join(" ")'
}

for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	WIRE_SERVER=$WIRE_SERVER4
	[ "$FAMILY" = inet6 ] && WIRE_SERVER=$WIRE_SERVER6
	label="$FAMILY VRF"

	packets=$(packets_now)
	stats_before=$(stats_words)
	wire_recv_start udp "$COUNT" "$VIP" "$WIRE_SERVER" "$TMP/recv" ||
		fail "$label: receiver started"
	check "$label: $COUNT marked datagrams sent to the RIP" \
		wire_send udp "$FAMILY" "$COUNT" "$PORT"
	check_eq "$label: all delivered in the VRF to the VIP, checksums right" \
		"$VIP $COUNT $WIRE_SERVER 0 bad 0" "$(wire_recv_result "$TMP/recv")"
	check_eq "$label: the mapping counted each once" \
		"$COUNT" "$(delta "$(packets_now)" "$packets")"
	check_eq "$label: the namespace counted each rewritten once, and nothing else" \
		"rewritten=+$COUNT" "$(stats_delta "$stats_before" "$(stats_words)")"

	table_before=$("$L3DSRCTL" -j show)
	# shellcheck disable=SC2016 # expanded by the inner shell
	check_fails "$label: a mapping scoped to $WIRE_IF is refused" \
		bash -c '"$1" replace-mapping dscp "$2" vip "$3" dev "$4" \
		2>"$5"' _ "$L3DSRCTL" "$DSCP" "$VIP" "$WIRE_IF" "$TMP/err"
	check_contains "$label: the error names the dev scope" \
		"no dev scope" "$(cat "$TMP/err")"
	check_eq "$label: the table is as it was" \
		"$table_before" "$("$L3DSRCTL" -j show)"
done

tap_end
