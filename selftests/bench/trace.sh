#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Where a packet's instructions go: every instruction the CPU executes in
# the l3dsr hooks (and in the empty hook, the floor) for one packet of a
# benchmark variant, named by source line and inlined function
# (selftests/bench/README, "Where the hit's instructions go").
#
#   trace.sh [--port N] [--output FILE] [VARIANT]      (default l3dsr_hit_1)
#
# Boots the benchmark's kernel with QEMU's gdb stub, lets guest.sh --trace
# set VARIANT up and send its packets, then gdb (trace.py) single-steps the
# hooks' first call for a packet of each family, calls into the kernel
# included. The report goes to FILE (out/trace-VARIANT.txt), the raw trace
# beside it (.raw), the guest's output too (.log).
#
# A trace is not a measurement: it shows the path of one packet after the
# warm-up. `make bench` says what the path costs.

set -u
set -o pipefail

readonly PROG=trace.sh
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SELF_DIR
REPO=$(cd "$SELF_DIR/../.." && pwd)
readonly REPO
readonly VM=$REPO/selftests/vm/vm.sh
readonly SERIES=6.12
CACHE=${L3DSR_VM_CACHE:-$REPO/.cache/vm}
readonly CACHE
# The functions traced, when the guest has them.
readonly HOOKS='empty_hook l3dsr_ipv4_hook l3dsr_ipv6_hook'

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { msg "$*"; exit 1; }

usage() {
	echo "usage: $PROG [--port N] [--output FILE] [VARIANT]" >&2
	exit 2
}

VM_PID=

stop_vm() {
	[ -n "$VM_PID" ] && kill "$VM_PID" 2>/dev/null
	VM_PID=
}

main() {
	local port=1237 output='' variant=l3dsr_hit_1 log raw kver name
	local funcs='' waited=0 addr p

	while [ $# -gt 0 ]; do
		case $1 in
		--port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
		--output) [ $# -ge 2 ] || usage; output=$2; shift 2 ;;
		-h | --help) usage ;;
		-*) msg "unknown option '$1'"; usage ;;
		*) variant=$1; shift ;;
		esac
	done
	[[ $port =~ ^[1-9][0-9]*$ ]] || { msg "--port wants a number"; usage; }
	: "${output:=$REPO/out/trace-$variant.txt}"
	for p in gdb addr2line python3; do
		command -v "$p" >/dev/null || die "$p is missing"
	done
	mkdir -p "$(dirname "$output")" || die "cannot create $(dirname "$output")"
	log=${output%.txt}.log raw=${output%.txt}.raw
	kver=$("$VM" kver "$SERIES") || die "no kernel for $SERIES"
	rm -f "$raw"

	trap 'stop_vm; exit 130' INT
	trap 'stop_vm; exit 143' TERM
	trap stop_vm EXIT
	L3DSR_VM_QEMU_ARGS="-icount shift=0,sleep=off -gdb tcp:127.0.0.1:$port ${L3DSR_VM_QEMU_ARGS:-}" \
	L3DSR_VM_EXTRA_KBUILD="$SELF_DIR/empty_hook" \
	L3DSR_VM_EXTRA_GUEST_MODULES="pktgen nft_ct ${L3DSR_VM_EXTRA_GUEST_MODULES:-}" \
		"$VM" run "$SERIES" --timeout 1800 -- \
		./bench/guest.sh --warmup 1000 --trace "$variant" >"$log" 2>&1 &
	VM_PID=$!

	# The guest prints the addresses, then sends packets until stopped.
	until grep -q '^bench-trace-ready' "$log" 2>/dev/null; do
		kill -0 "$VM_PID" 2>/dev/null ||
			die "the VM stopped before the guest was ready: see $log"
		sleep 1
		waited=$((waited + 1))
		[ "$waited" -lt 3600 ] || die "the guest was not ready in an hour"
	done
	# The VM holds the kernel's run lock: nothing rebuilds these now.
	if ! { cp "$CACHE/build-$kver/l3dsr.ko" "${output%.txt}.l3dsr.ko" &&
		cp "$CACHE/extra-$kver/empty_hook/l3dsr_empty_hook.ko" \
			"${output%.txt}.empty_hook.ko"; }; then
		die "cannot copy the modules the guest runs"
	fi
	for name in $HOOKS; do
		addr=$(sed -n -E "s/^bench-trace-sym ([0-9a-f]+) [tT] $name([[:space:]].*)?$/\\1/p" "$log" |
			head -n 1)
		[ -n "$addr" ] && funcs+=" $name=$addr"
	done
	[ -n "$funcs" ] || die "the guest printed none of: $HOOKS"
	msg "tracing$funcs"
	TRACE_PORT=$port TRACE_FUNCS=$funcs TRACE_RAW=$raw \
		timeout 900 gdb -q -nx -batch -x "$SELF_DIR/trace.py" >"$raw.gdb" 2>&1 ||
		die "gdb failed: see $raw.gdb"
	stop_vm
	wait 2>/dev/null
	python3 "$SELF_DIR/trace.py" report --log "$log" --raw "$raw" \
		--ko "${output%.txt}.l3dsr.ko" \
		--empty-ko "${output%.txt}.empty_hook.ko" \
		--system-map "$CACHE/$kver/root/boot/System.map-$kver" \
		>"$output" || die "cannot make the report"
	grep '^==' "$output"
	msg "report: $output"
}

main "$@"
