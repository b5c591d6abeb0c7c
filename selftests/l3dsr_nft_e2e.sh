#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end on the nftables backend, the module kept from loading: the
# balancer topology of l3dsr_e2e.sh (lib.sh draws it), TCP and UDP in both
# families, the counters against what this script sent, down and up,
# clear-dscp, and the operator's own nftables table (the server's counters
# in table inet l3dsr_server) untouched by every command.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly HTTP_PORT=8080
readonly BULK_PORT=9100
readonly ECHO_PORT=9200
readonly UDP_PAYLOAD=100
readonly COUNT=20
readonly BULK_BYTES=1048576

require_nft_backend
require_cmds busybox sha256sum timeout
tap_begin

scratch_dir TMP || skip_all "cannot create a scratch directory"
set_up topo_setup

# The operator's table, as nft prints it without counters.
foreign_table()
{
	nft -s list table inet l3dsr_server
}
FOREIGN_BEFORE=$(foreign_table)

mkdir -p "$TMP/www"
head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1 >"$TMP/www/index.html"
head -c "$BULK_BYTES" /dev/urandom >"$TMP/bulk"
BULK_SUM=$(sha256sum <"$TMP/bulk" | cut -d' ' -f1)

background httpd_pid busybox httpd -f -p "$HTTP_PORT" -h "$TMP/www"
background echo4_pid "$PEER" udp-echo "$VIP4" "$ECHO_PORT"
background echo6_pid "$PEER" udp-echo "$VIP6" "$ECHO_PORT"
if ! wait_listener "" tcp "$HTTP_PORT" ||
	! wait_listener "" udp "$ECHO_PORT"; then
	fail "servers listening"
	tap_end
fi

# The first change says once why nftables is used; the next says nothing.
run "$L3DSRCTL" add-mapping dscp "$DSCP" vip "$VIP4" 2>"$TMP/first.err"
check_eq "auto falls back to nftables, said once with the reason" 1 \
	"$(grep -c 'using nftables (table inet l3dsr): the l3dsr module cannot be loaded: ' "$TMP/first.err")"
run "$L3DSRCTL" add-mapping dscp "$DSCP" vip "$VIP6" 2>"$TMP/second.err"
check_eq "the next command says nothing" "" "$(cat "$TMP/second.err")"
check_eq "version -j: backend nft" nft \
	"$("$L3DSRCTL" -j version | jq -r .backend)"
check_eq "check -j: backend nft" nft "$("$L3DSRCTL" -j check | jq -r .backend)"
check_eq "stats -j: what nftables cannot count is null, not 0" \
	"null null null" \
	"$("$L3DSRCTL" -j stats | jq -r '[.skipped_down, .skipped_protocol, .rewritten_fragments] | map(tostring) | join(" ")')"

packets_now()
{
	mapping_field "$FAMILY" "$DSCP" packets || echo "unreadable"
}

server_dscp()
{
	nft_counter "" inet l3dsr_server "dscp$1_$AF" packets
}

for FAMILY in inet inet6; do
	family_vars "$FAMILY"
	AF=4
	[ "$FAMILY" = inet6 ] && AF=6
	header=20
	[ "$FAMILY" = inet6 ] && header=40

	check_eq "$FAMILY: HTTP fetch through the balancer" \
		"$(cat "$TMP/www/index.html")" "$(http_fetch "$VIP")"
	# shellcheck disable=SC2016 # expanded by the inner shell
	background bulk_pid bash -c '"$1" -w 60 tcp-recv "$2" "$3" \
		2>/dev/null | sha256sum | cut -d" " -f1 >"$4"' _ \
		"$PEER" "$VIP" "$BULK_PORT" "$TMP/bulk-$FAMILY.sum"
	wait_listener "" tcp "$BULK_PORT"
	check "$FAMILY: $BULK_BYTES bytes over TCP" in_ns "$NS_CLIENT" \
		"$PEER" -w 60 tcp-send "$VIP" "$BULK_PORT" <"$TMP/bulk"
	wait "${bulk_pid:?}"
	check_eq "$FAMILY: they arrive intact (sha256)" "$BULK_SUM" \
		"$(cat "$TMP/bulk-$FAMILY.sum")"

	# A fresh mapping counts exactly what is sent.
	if ! run "$L3DSRCTL" "-$AF" del-mapping dscp "$DSCP" ||
		! run "$L3DSRCTL" add-mapping dscp "$DSCP" vip "$VIP"; then
		fail "$FAMILY: mapping made again"
	fi
	rewritten=$(l3dsr_stat rewritten)
	not_local=$(l3dsr_stat skipped_not_local)
	check "$FAMILY: $COUNT datagrams answered" \
		client_udp udp-send "$VIP" "$ECHO_PORT"
	check_eq "$FAMILY: show -j packets == datagrams sent" "$COUNT" \
		"$(packets_now)"
	check_eq "$FAMILY: show -j bytes == their IP lengths summed" \
		"$((COUNT * (header + 8 + UDP_PAYLOAD)))" \
		"$(mapping_field "$FAMILY" "$DSCP" bytes)"
	check_eq "$FAMILY: stats rewritten grew by the datagrams sent" \
		"$COUNT" "$(delta "$(l3dsr_stat rewritten)" "$rewritten")"
	check_eq "$FAMILY: and skipped_not_local did not" \
		0 "$(delta "$(l3dsr_stat skipped_not_local)" "$not_local")"

	# down: kept, counters and all; nothing rewritten; up goes on counting.
	run "$L3DSRCTL" set-mapping dscp "$DSCP" down ||
		fail "$FAMILY: set-mapping down"
	check_fails "$FAMILY down: no reply" \
		client_udp -n 2 -r 300 udp-send "$VIP" "$ECHO_PORT"
	check_eq "$FAMILY down: the mapping keeps its counters" \
		"$COUNT true" "$(packets_now) $(mapping_field "$FAMILY" "$DSCP" down)"
	run "$L3DSRCTL" set-mapping dscp "$DSCP" up || fail "$FAMILY: up"
	check "$FAMILY up: answered again" \
		client_udp udp-send "$VIP" "$ECHO_PORT"
	check_eq "$FAMILY up: the counters went on" "$((2 * COUNT))" \
		"$(packets_now)"

	# clear-dscp: the server's own rules, after l3dsr, see DSCP 0.
	run "$L3DSRCTL" replace-mapping dscp "$DSCP" vip "$VIP" clear-dscp ||
		fail "$FAMILY: replace-mapping clear-dscp"
	zero=$(server_dscp 0)
	check "$FAMILY clear-dscp: answered" \
		client_udp udp-send "$VIP" "$ECHO_PORT"
	check_eq "$FAMILY clear-dscp: the server sees DSCP 0" "$COUNT" \
		"$(delta "$(server_dscp 0)" "$zero")"
	check_eq "$FAMILY replace-mapping: the counters went on" \
		"$((3 * COUNT))" "$(packets_now)"

	run "$L3DSRCTL" "-$AF" del-mapping dscp "$DSCP" ||
		fail "$FAMILY: del-mapping"
	check_fails "$FAMILY: without the mapping no reply" \
		client_udp -n 1 -r 300 udp-send "$VIP" "$ECHO_PORT"
	check_eq "$FAMILY: no reply went back through the lb" 0 \
		"$(nft_counter "$NS_LB" inet l3dsr_lb "from_vip$AF" packets)"
done

run "$L3DSRCTL" apply -f - <<-EOF >/dev/null || fail "apply on nftables"
	vips unmanaged
	sysctls unmanaged
	dscp $DSCP vip $VIP4
	dscp 12 vip $VIP6 nonlocal
EOF
check_eq "apply, then save: the same table" \
	"dscp $DSCP vip $VIP4|dscp 12 vip $VIP6 nonlocal" \
	"$("$L3DSRCTL" save | grep -v '^#' | grep . | paste -sd'|')"
run "$L3DSRCTL" flush || fail "flush"
check_eq "flush: no mapping left" "[]" "$("$L3DSRCTL" -j show)"
check_eq "the operator's table is as it was" "$FOREIGN_BEFORE" \
	"$(foreign_table)"

tap_end
