#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: what l3dsr, an empty hook and nftables cost per received
# packet, measured in one instruction-counted VM boot (selftests/bench/README).
#
#   bench.sh [--smoke] [--tap] [--rounds N] [--count N] [--output FILE]
#
# Prints progress, then a table; writes the same as JSON (out/bench.json, or
# out/bench-smoke.json for --smoke), as Markdown (.md) and the guest's raw
# lines (.log) beside it. --smoke: few packets, one round, every check, no targets; with
# --tap it also prints one TAP line per variant, for check.sh.
#
# Exit status: 0 when every variant passed its self-checks (whether or not
# it met its target), 1 when one failed or the VM did, 2 for a usage error.

set -u
set -o pipefail

readonly PROG=bench.sh
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SELF_DIR
REPO=$(cd "$SELF_DIR/../.." && pwd)
readonly REPO
readonly VM=$REPO/selftests/vm/vm.sh
readonly SERIES=6.12

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { msg "$*"; exit 1; }

usage() {
	echo "usage: $PROG [--smoke] [--tap] [--rounds N] [--count N] [--output FILE]" >&2
	exit 2
}

# The table, from the JSON report.
print_table() {
	jq -r '
	def fixed($d):
		pow(10; $d) as $p | (. * $p | round) as $n | ($n | fabs) as $a
		| ($a / $p | floor) as $i
		| ($a - $i * $p | tostring) as $f
		| (if $n < 0 then "-" else "" end) + ($i | tostring) +
		  (if $d > 0 then "." + ("0" * ($d - ($f | length))) + $f
		   else "" end);
	def num($w; $d):
		(if . == null then "-" else fixed($d) end)
		| (" " * ($w - length)) + .;
	def pad($w): . + (" " * ($w - length));
	def targets:
		if length == 0 then "" else
			map((if .met then "met: " else "MISSED: " end) + .target)
			| join("; ")
		end;
	"kernel \(.kernel), \(.packets_per_run) packets per run, " +
	"\(.rounds) round(s), median; \(.unit)",
	"added: over the no-rule run that ends the same way (none; none_vip " +
	"for packets rewritten to the VIP; none_other for packets to an " +
	"address not this host'"'"'s); x empty: added / the empty hook'"'"'s",
	"",
	("VARIANT" | pad(17)) + ("FAMILY" | pad(7)) + "  SIZE" +
		"    NS/PKT     ADDED  X EMPTY  TARGETS",
	(.results[] |
		(.variant | pad(17)) + (.family | pad(7)) +
		(.size | tostring | (" " * (6 - length)) + .) +
		(if .status == "ok" then
			(.ns | num(10; 1)) + (.added_ns | num(10; 1)) +
			(.ratio_to_empty_hook | num(9; 2)) + "  " +
			(.targets | targets)
		else
			"    FAILED: " + .failure
		end))
	' "$1"
}

# TAP, one line per variant: ok when all its cases passed their checks.
print_tap() {
	jq -r '
	# Variants in the order they ran.
	(.results | map(.variant) | reduce .[] as $v ([];
		if index([$v]) then . else . + [$v] end)) as $order
	| [$order[] as $name | {variant: $name,
		failures: [.results[] | select(.variant == $name and
			.status != "ok") | "\(.family) \(.size): \(.failure)"]}]
	  as $v
	| "1..\($v | length)",
	  ($v | to_entries[] |
		(if (.value.failures | length) == 0 then "ok" else "not ok" end) +
		" \(.key + 1) - bench smoke: \(.value.variant)" +
		(if (.value.failures | length) == 0 then ""
		 else " # " + (.value.failures | join("; ")) end))
' "$1"
}

VM_PID=

# vm.sh takes its VM down when it is told to stop.
stop_vm() {
	[ -n "$VM_PID" ] && kill "$VM_PID" 2>/dev/null
}

main() {
	local smoke=0 tap=0 rounds=3 count=50000 warmup=1000 output=
	local timeout=1800

	while [ $# -gt 0 ]; do
		case $1 in
		--smoke) smoke=1; shift ;;
		--tap) tap=1; shift ;;
		--rounds) [ $# -ge 2 ] || usage; rounds=$2; shift 2 ;;
		--count) [ $# -ge 2 ] || usage; count=$2; shift 2 ;;
		--output) [ $# -ge 2 ] || usage; output=$2; shift 2 ;;
		-h | --help) usage ;;
		*) msg "unknown argument '$1'"; usage ;;
		esac
	done
	if [ "$smoke" = 1 ]; then
		rounds=1 count=2000 warmup=200 timeout=300
		: "${output:=$REPO/out/bench-smoke.json}"
	fi
	: "${output:=$REPO/out/bench.json}"
	[[ $rounds =~ ^[1-9][0-9]*$ ]] || { msg "--rounds wants a positive number"; usage; }
	[[ $count =~ ^[1-9][0-9]*$ ]] || { msg "--count wants a positive number"; usage; }
	command -v jq >/dev/null || die "jq is missing (apt-get install jq)"
	mkdir -p "$(dirname "$output")" || die "cannot create $(dirname "$output")"
	trap 'stop_vm; exit 130' INT
	trap 'stop_vm; exit 143' TERM
	local log=${output%.json}.log mode=full
	local -a guest_args=(--rounds "$rounds" --count "$count" --warmup "$warmup")
	if [ "$smoke" = 1 ]; then
		mode=smoke
		guest_args+=(--smoke)
	fi

	# One guest instruction is one nanosecond of guest time, on one CPU:
	# the guest's clock counts instructions, whatever the host is doing.
	local vm_rc out out_pid
	if [ "$tap" = 1 ]; then
		# A TAP reader must see only our plan and results: everything
		# else is indented commentary.
		exec {out}> >(tee "$log" |
			sed -u -e '/^bench-/d' -e 's/^# //' -e 's/^/    /')
	else
		exec {out}> >(tee "$log" | grep --line-buffered -v '^bench-')
	fi
	out_pid=$!
	# One guest instruction is one nanosecond of guest time, on one CPU:
	# the guest's clock counts instructions, whatever the host is doing.
	L3DSR_VM_QEMU_ARGS="-icount shift=0,sleep=off ${L3DSR_VM_QEMU_ARGS:-}" \
	L3DSR_VM_EXTRA_KBUILD="$SELF_DIR/empty_hook" \
	L3DSR_VM_EXTRA_GUEST_MODULES="pktgen nft_ct ${L3DSR_VM_EXTRA_GUEST_MODULES:-}" \
		"$VM" run "$SERIES" --timeout "$timeout" -- \
		./bench/guest.sh "${guest_args[@]}" >&"$out" 2>&1 &
	VM_PID=$!
	exec {out}>&-
	wait "$VM_PID"
	vm_rc=$?
	VM_PID=
	# The whole log is written before it is read.
	wait "$out_pid"

	if ! jq -R -n --arg mode "$mode" -f "$SELF_DIR/report.jq" <"$log" \
		>"$output.tmp"; then
		die "cannot make the report from $log"
	fi
	mv "$output.tmp" "$output" || die "cannot write $output"
	# The same table in Markdown, for the READMEs.
	jq -r -f "$SELF_DIR/markdown.jq" "$output" >"${output%.json}.md" ||
		die "cannot write ${output%.json}.md"

	local failed
	failed=$(jq '[.results[] | select(.status != "ok")] | length' "$output")
	if [ "$tap" = 1 ]; then
		print_tap "$output"
		[ "$vm_rc" = 0 ] || echo "not ok - bench smoke: the VM run failed (vm.sh exited $vm_rc)"
	else
		echo
		print_table "$output"
		echo
	fi
	msg "report: $output (Markdown: ${output%.json}.md, raw guest output: $log)"
	if [ "$(jq '.results | length' "$output")" = 0 ]; then
		msg "no results: see $log"
		return 1
	fi
	if [ "$failed" != 0 ]; then
		msg "$failed of $(jq '.results | length' "$output") measurements failed their checks"
		return 1
	fi
	if [ "$vm_rc" != 0 ]; then
		msg "the VM run failed (vm.sh exited $vm_rc)"
		return 1
	fi
}

main "$@"
