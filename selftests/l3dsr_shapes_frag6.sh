#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IPv6 datagrams in two fragments, crafted, each fragment seen by l3dsr on
# its own (nothing in the server's namespace loads conntrack or defrag):
# every fragment of a datagram must get the same decision. The Fragment
# header, which every fragment carries, names what the fragmentable part
# starts with; when that is an extension header, the transport header may
# be in any fragment or none, so the whole datagram is left alone and each
# fragment counted skipped_protocol.
#
#  +-------------------------+          +--------------------------------+
#  | wire (crafts frames)    |          | server (-n server)             |
#  |  eth0 2001:db8:18::2/64 +----------+ eth0 2001:db8:18::1/64         |
#  +-------------------------+          | lo: VIP 2001:db8:ffff::100     |
#                                       | l3dsr: DSCP 10 -> VIP          |
#                                       | nft at -300 (after l3dsr):     |
#                                       |  fragments by destination and  |
#                                       |  by offset (first, later)      |
#                                       +--------------------------------+
#
#   frag6-dst-ah       Frag -> Destination Options -> AH -> UDP
#   frag6-dst-p253     Frag -> Destination Options -> protocol 253
#   frag6-dst-udp      Frag -> Destination Options -> UDP
#   frag6-dstlong-udp  Frag -> Destination Options (24 bytes) -> UDP, the
#                      UDP header in the second fragment
#       both fragments of each datagram still addressed to the server,
#       skipped_protocol grows by the fragments sent, nothing else moves
#   frag6-udp          Frag -> UDP, the ordinary case: both fragments
#                      rewritten to the VIP, the datagram reassembles there
#                      with a right UDP checksum

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly COUNT=10
readonly PORT=9500

require_l3dsr
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"

NS_SRV=
SERVER_MAC=

setup()
{
	ns_new NS_WIRE wire && ns_new NS_SRV server || return 1
	run ip -n "$NS_WIRE" link add eth0 type veth \
		peer name eth0 netns "$NS_SRV" &&
	run ip -n "$NS_WIRE" addr add "$WIRE_PEER6"/64 dev eth0 nodad &&
	run ip -n "$NS_SRV" addr add "$WIRE_SERVER6"/64 dev eth0 nodad &&
	run ip -n "$NS_SRV" addr add "$VIP6"/128 dev lo nodad &&
	run ip -n "$NS_WIRE" link set eth0 up &&
	run ip -n "$NS_SRV" link set eth0 up || return 1
	SERVER_MAC=$(ip netns exec "$NS_SRV" cat /sys/class/net/eth0/address)
}

counters()
{
	in_ns "$NS_SRV" nft -f - <<-EOF
	table ip6 l3dsr_frag6 {
		counter vip_first { }
		counter vip_later { }
		counter server_first { }
		counter server_later { }
		chain prerouting {
			type filter hook prerouting priority -300; policy accept;
			ip6 daddr $VIP6 frag frag-off 0 counter name vip_first
			ip6 daddr $VIP6 frag frag-off != 0 counter name vip_later
			ip6 daddr $WIRE_SERVER6 frag frag-off 0 counter name server_first
			ip6 daddr $WIRE_SERVER6 frag frag-off != 0 counter name server_later
		}
	}
	EOF
}

mapping()
{
	run "$L3DSRCTL" -n "$NS_SRV" add-mapping dscp "$DSCP" vip "$VIP6"
}

set_up setup counters mapping

# where: "server F L vip F L", fragments counted by destination and offset.
where()
{
	local -A c=()
	local -a w
	local i

	# one nft call for the four: the machine may be slow
	read -r -a w <<< "$(in_ns "$NS_SRV" nft -j list table ip6 l3dsr_frag6 |
		jq -r '[.nftables[] | select(.counter) |
			"\(.counter.name) \(.counter.packets)"] | join(" ")')"
	for ((i = 0; i + 1 < ${#w[@]}; i += 2)); do
		c[${w[i]}]=${w[i + 1]}
	done
	echo "server ${c[server_first]:-} ${c[server_later]:-}" \
	     "vip ${c[vip_first]:-} ${c[vip_later]:-}"
}

# moved BEFORE AFTER: the numbers of where's readings subtracted.
moved()
{
	local -a b a
	local i out=

	read -r -a b <<< "$1"
	read -r -a a <<< "$2"
	for ((i = 0; i < ${#a[@]}; i++)); do
		if [[ ${a[i]} =~ ^[a-z] ]]; then
			out+="${a[i]} "
		else
			out+="$(delta "${a[i]}" "${b[i]:-}") "
		fi
	done
	echo "${out% }"
}

# landed BEFORE N: N more fragments counted after the hook since BEFORE
# (a reading of where), whatever their destination.
landed()
{
	local -a m
	local i sum=0

	read -r -a m <<< "$(moved "$1" "$(where)")"
	for i in 1 2 4 5; do
		[[ "${m[i]:-}" =~ ^[0-9]+$ ]] || return 1
		sum=$((sum + m[i]))
	done
	[ "$sum" -ge "$2" ]
}

send()
{
	in_ns "$NS_WIRE" "$WIRE" -n "$COUNT" send eth0 "$SERVER_MAC" "$1" \
		"$WIRE_PEER6" "$WIRE_SERVER6" "$PORT"
}

for shape in frag6-dst-ah frag6-dst-p253 frag6-dst-udp frag6-dstlong-udp; do
	stats_before=$(ns_stats_snapshot "$NS_SRV")
	where_before=$(where)
	check "$shape: $COUNT datagrams sent in 2 fragments each" send "$shape"
	# received asynchronously: until every fragment has passed the hook
	wait_until 50 landed "$where_before" $((2 * COUNT))
	check_eq "$shape: every fragment counted skipped_protocol" \
		"skipped_protocol=+$((2 * COUNT))" \
		"$(stats_delta "$stats_before" "$(ns_stats_snapshot "$NS_SRV")")"
	check_eq "$shape: both fragments of each still to the server" \
		"server $COUNT $COUNT vip 0 0" \
		"$(moved "$where_before" "$(where)")"
done

shape=frag6-udp
stats_before=$(ns_stats_snapshot "$NS_SRV")
where_before=$(where)
# shellcheck disable=SC2016 # expanded by the inner shell
in_ns "$NS_SRV" bash -c 'exec "$1" -n "$2" -r 5000 recv frag6-udp "$3" "$4"' \
	_ "$WIRE" "$COUNT" "$VIP6" "$WIRE_SERVER6" >"$TMP/recv" 2>&1 &
track_pid $!
wait_until 100 grep -q '^ready$' "$TMP/recv" ||
	note "l3dsr_wire recv did not start: $(cat "$TMP/recv")"
check "$shape: $COUNT datagrams sent in 2 fragments each" send "$shape"
wait_until 50 landed "$where_before" $((2 * COUNT))
wait_until 300 bash -c "[ \$(wc -l <'$TMP/recv') -ge 2 ]"
check_eq "$shape: both fragments rewritten, the second as a fragment" \
	"rewritten=+$((2 * COUNT)) rewritten_fragments=+$COUNT" \
	"$(stats_delta "$stats_before" "$(ns_stats_snapshot "$NS_SRV")")"
check_eq "$shape: both fragments of each to the VIP" \
	"server 0 0 vip $COUNT $COUNT" "$(moved "$where_before" "$(where)")"
check_eq "$shape: each reassembled at the VIP, its UDP checksum right" \
	"$VIP6 $COUNT $WIRE_SERVER6 0 bad 0" "$(tail -n 1 "$TMP/recv")"

tap_end
