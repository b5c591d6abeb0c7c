#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of l3dsrctl's nftables backend: the commands against the
# host kernel's nf_tables, in a network namespace of their own (unshare -rn,
# or unshare -n as root), where no l3dsr module can be: what the table
# holds, the choice of the backend and its announcement, refusals, the
# operator's own tables left alone, all or nothing. Skipped where no such
# namespace can be made or nf_tables is missing. No packet is sent here:
# selftests/l3dsr_nft_*.sh test the datapath in a VM.
#
# usage: tests/nft.sh [L3DSRCTL]
# shellcheck source-path=SCRIPTDIR
set -u

TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
TOOLS_DIR=$(dirname "$TESTS_DIR")
TOOL=$(realpath "${1:-$TOOLS_DIR/l3dsrctl}")

# Once inside the namespace, the tests proper.
if [ "${L3DSR_NFT_INSIDE:-}" != 1 ]; then
	# A namespace whose nf_tables takes a rule rewriting a destination
	# (some kernels refuse that inside a user namespace).
	for how in "unshare -n" "unshare -rn"; do
		# shellcheck disable=SC2086 # the words of the command
		if $how nft -f - >/dev/null 2>&1 <<-EOF; then
			table inet probe { chain c { ip daddr set 192.0.2.1; }; }
		EOF
			# shellcheck disable=SC2086
			L3DSR_NFT_INSIDE=1 exec $how "$0" "$TOOL"
		fi
	done
	echo "TAP version 13"
	echo "1..0 # SKIP no network namespace with nf_tables here (unshare -n, unshare -rn)"
	exit 0
fi

TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT

# shellcheck source=lib.sh
source "$TESTS_DIR/lib.sh"

echo "TAP version 13"
V4=211.115.115.100
V6=2001:db8::100

# table_text: our table without counters, handles or elements' order.
table_text()
{
	nft -s list table inet l3dsr 2>&1
}

# ---------------------------------------------------- choice and marker

nft add table inet operator
nft add chain inet operator input '{ type filter hook input priority 0; }'
nft add rule inet operator input tcp dport 22 counter accept
operator_before=$(nft -s list table inet operator)

ctl show
check_eq "show with no table: an empty table, exit 0" "0 FAMILY" \
	"$RC $(cut -d' ' -f1 <<< "$OUT")"
check_eq "show made no table" "" "$(nft list tables inet | grep l3dsr)"

ctl add-mapping dscp 10 vip $V4
expect_said=$(grep -c 'using nftables (table inet l3dsr): the l3dsr module cannot be loaded: ' <<< "$ERR")
check_eq "auto without the module: nftables, said with the reason" "0 1" \
	"$RC $expect_said"
ctl add-mapping dscp 11 vip $V6 clear-dscp nonlocal
expect "the next command says nothing" 0 ""
check_eq "the table carries l3dsr's marker" \
	'comment "l3dsr: made by l3dsrctl, changed only by it"' \
	"$(nft list table inet l3dsr | sed -n '2s/^\t//p')"

ctl -j show
check_eq "show -j: both mappings, flags from the table" \
	'inet 10 211.115.115.100 false false false|inet6 11 2001:db8::100 true true false' \
	"$(jq -r '.[] | "\(.family) \(.dscp) \(.vip) \(.clear_dscp) \(.nonlocal) \(.down)"' <<< "$OUT" | paste -sd'|')"
check_eq "a DSCP map per family, an element each; up ones in the vmaps" \
	"10|10|704|704" \
	"$(nft -j -n list table inet l3dsr | jq -r '.nftables[] | .map? // empty | select(.elem) | .elem[] | .[0] | if type == "object" then .elem.val else . end' | sort -n | paste -sd'|')"

ctl add-mapping dscp 10 vip $V4
expect "add-mapping of the same mapping: success" 0 ""
ctl add-mapping dscp 10 vip 211.115.115.101
expect "add-mapping over another: refused, named" 1 \
	"l3dsrctl: add-mapping: DSCP 10 (inet) already maps to vip 211.115.115.100; use replace-mapping"
ctl add-mapping dscp 12 vip $V4 rip 192.0.2.10
expect "a rip scope: refused, the module needed" 1 \
	"l3dsrctl: add-mapping: Operation not supported: the nftables backend has no rip scope: it needs the module"
ctl add-mapping dscp 12 vip $V4 dev lo
expect "a dev scope: refused, the module needed" 1 \
	"l3dsrctl: add-mapping: Operation not supported: the nftables backend has no dev scope: it needs the module"

# ------------------------------------------- counters survive every move

# Counters are set here as a packet path would leave them.
nft delete element inet l3dsr vip4 '{ 10 }'
nft add element inet l3dsr vip4 '{ 10 counter packets 7 bytes 700 : 211.115.115.100 }'
ctl -4 show
check_eq "show reads the element's counters" "7 700" \
	"$(awk 'NR == 2 { print $7, $8 }' <<< "$OUT")"
ctl set-mapping dscp 10 down
check_eq "down: out of the vmap, kept with its counters" "0 0 7 700 down" \
	"$RC $(nft -j list map inet l3dsr go4 | jq '[.nftables[1].map.elem // [] | .[]] | length') $("$TOOL" -4 show | awk 'NR == 2 { print $7, $8, $6 }')"
ctl -j stats
check_eq "stats -j: what nftables cannot count is null" \
	"0 0 0 null null null" \
	"$RC $(jq -r '[.rewritten, .skipped_not_local, .skipped_down, .skipped_protocol, .rewritten_fragments] | map(tostring) | join(" ")' <<< "$OUT")"
ctl stats --prometheus
check_eq "Prometheus: counted ones present, the others absent" \
	"1 0" "$(grep -c '^l3dsr_rewritten_total ' <<< "$OUT") $(grep -c '^l3dsr_skipped_down_total' <<< "$OUT")"
ctl set-mapping dscp 10 up nonlocal on
check_eq "up, nonlocal: back in the vmap to the chain without fib, counters kept" \
	"goto any4|7 700" \
	"$(nft -j list map inet l3dsr go4 | jq -r '.nftables[1].map.elem[0][1].goto.target | "goto \(.)"')|$("$TOOL" -4 show | awk 'NR == 2 { print $7, $8 }')"
ctl replace-mapping dscp 10 vip 211.115.115.101
check_eq "replace-mapping: the counters go on" "0 211.115.115.101 7" \
	"$RC $("$TOOL" -4 show | awk 'NR == 2 { print $3, $7 }')"

# ---------------------------------------------- all or nothing, apply, save

before=$(table_text)
ctl apply -f - <<-EOF
	vips unmanaged
	sysctls unmanaged
	dscp 20 vip $V4
	dscp 21 vip 2001:db8::1 rip 2001:db8::2
EOF
check_eq "apply with a mapping nftables cannot hold: refused, nothing changed" \
	"1|$before" "$RC|$(table_text)"
printf 'vips unmanaged\nsysctls unmanaged\ndscp 10 vip %s\ndscp 20 vip %s down\ndscp 21 vip %s clear-dscp\n' \
	211.115.115.101 $V4 $V6 >"$TMP/table.conf"
ctl apply -f "$TMP/table.conf"
expect "apply on nftables" 0 ""
ctl apply --dry-run -f "$TMP/table.conf"
check_eq "apply again: nothing to change" "0 nothing to change" "$RC $OUT"
ctl -j apply --dry-run -f "$TMP/table.conf"
check_eq "apply -j --dry-run names the backend" nft "$(jq -r .backend <<< "$OUT")"
ctl save
check_eq "save writes what apply made" \
	"dscp 10 vip 211.115.115.101|dscp 20 vip $V4 down|dscp 21 vip $V6 clear-dscp" \
	"$(grep -v '^#' <<< "$OUT" | grep . | paste -sd'|')"
check_eq "the kept mapping kept its counters through apply" 7 \
	"$("$TOOL" -4 show dscp 10 | awk 'NR == 2 { print $7 }')"
ctl -j version
check_eq "version -j: backend nft" nft "$(jq -r .backend <<< "$OUT")"
ctl -j check
check_eq "check -j: backend nft, a WARN for the module" "nft warn" \
	"$(jq -r '"\(.backend) \(.checks[0].level)"' <<< "$OUT")"
printf 'backend module\nvips unmanaged\nsysctls unmanaged\ndscp 10 vip %s\n' $V4 \
	>"$TMP/module.conf"
before=$(table_text)
ctl apply -f "$TMP/module.conf"
check_eq "a \"backend module\" line: apply asks the module, nftables untouched" \
	"1|$before" "$RC|$(table_text)"
ctl --backend nft apply --dry-run -f "$TMP/module.conf"
check_eq "--backend overrides the files' line" "3" "$RC"
ctl apply --dry-run -f - <<< "backend nftables"
check_eq "a \"backend\" line with another word: refused, named" \
	"1 l3dsrctl: apply: <stdin>:1: \"backend\" takes one word: \"module\", \"nft\" or \"auto\"" \
	"$RC $(head -n 1 <<< "$ERR")"
ctl monitor
expect "monitor: the module needed" 1 \
	"l3dsrctl: monitor: the table is in nftables, which announces no changes: monitor needs the module"
ctl -6 flush
check_eq "-6 flush: the IPv4 mappings stay" "0 inet inet" \
	"$RC $("$TOOL" -j show | jq -r '[.[].family] | join(" ")')"
ctl flush
check_eq "flush: empty" "0 []" "$RC $("$TOOL" -j show)"

# ------------------------------------------------ tables that are not ours

check_eq "the operator's table is as it was" "$operator_before" \
	"$(nft -s list table inet operator)"
nft delete table inet l3dsr
nft add table inet l3dsr
nft add chain inet l3dsr keep
ctl add-mapping dscp 10 vip $V4
expect "a table inet l3dsr without the marker: refused" 1 \
	"l3dsrctl: add-mapping: nftables has a table inet l3dsr that l3dsr did not make (its comment is not l3dsr's): refusing to touch it"
ctl --backend nft flush
check_eq "flush leaves it as it was" "1 keep" \
	"$RC $(nft -j list table inet l3dsr | jq -r '.nftables[] | .chain? // empty | .name')"
ctl --backend module show
check_eq "--backend module does not fall back" 1 "$RC"
ctl --backend nftables show
expect "an unknown backend: a usage error" 2 \
	"l3dsrctl: unknown backend \"nftables\": say module, nft or auto
usage: l3dsrctl [-j] [-n NETNS] [-4|-6] [--backend module|nft|auto] COMMAND [ARGS]
Try 'l3dsrctl help' for the commands."

# ------------------------------------------------------- documentation

render()
{
	groff -t -man -rLL=300n -rHY=0 -Tascii -P-cbou "$TOOLS_DIR/man/$1" 2>/dev/null
}
missing=
for word in "--backend module|nft|auto" "table inet l3dsr" "WITHOUT THE MODULE"; do
	grep -qF -- "$word" <<< "$(render l3dsrctl.8)" || missing+=" l3dsrctl.8:$word"
done
grep -qF -- "backend module|nft|auto" <<< "$(render l3dsr.conf.5)" ||
	missing+=" l3dsr.conf.5:backend"
for word in "WITHOUT THE MODULE" "fib daddr . mark . iif type local" \
	    CAP_NET_ADMIN "table inet l3dsr"; do
	grep -qF -- "$word" <<< "$(render l3dsr.7)" || missing+=" l3dsr.7:$word"
done
check_eq "the man pages document the backend and what differs" "" "$missing"

echo "1..$count"
echo "# $((count - failed)) passed, $failed failed"
[ "$failed" = 0 ]
