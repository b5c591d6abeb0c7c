#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the selftests (./run_tests.sh) in a VM per kernel series, all series at
# once, and count the TAP results of them all. When 6.12 is among the series,
# the benchmark's smoke run (selftests/bench/bench.sh --smoke) goes with them,
# one TAP line per benchmark variant, so the benchmark cannot rot unseen.
#
#   check.sh [--no-bench] [--no-host] [SERIES...]   default: 6.1 6.12
#
# First, one after another, the checks that need no VM: the sources
# (selftests/host/style.sh), the packages (selftests/host/packaging.sh) and
# the tool's own tests (make -C tools check). L3DSR_CHECK_BENCH=0 is
# --no-bench, L3DSR_CHECK_HOST=0 is --no-host.
#
# Each output line is prefixed with its series ("bench" for the smoke run).
# The last line reads
# "N passed, N failed" (", N skipped" when any were). A run that fails
# without saying which test failed (the VM timed out, the kernel log shows a
# splat, the TAP stream stopped early) counts as at least one failure. Exit 0
# only if nothing failed.

set -u
set -o pipefail

readonly PROG=check.sh
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SELF_DIR
readonly VM=$SELF_DIR/vm.sh
readonly BENCH=$SELF_DIR/../bench/bench.sh
readonly REPO_DIR=$SELF_DIR/../..
# Checks that need no VM, run one after another before the VMs start, so
# they do not compete with them for the cores.
readonly HOST_JOBS=(style packaging tools)
# The kernel the benchmark boots.
readonly BENCH_SERIES=6.12

usage() {
	echo "usage: $PROG [--no-bench] [--no-host] [SERIES...]   (SERIES: 6.1 or 6.12; default both)" >&2
	exit 2
}

WORK=
PIDS=()

# The runs are killed through vm.sh, which takes its VM down with it.
cleanup() {
	local pid f

	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for f in "$WORK"/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	rm -rf "$WORK"
}

# run_job NAME CMD...: its raw output goes to $WORK/NAME.log, its exit status
# to $WORK/NAME.rc, and prefixed lines to our stdout as they come.
run_job() {
	local name=$1 out out_pid vm_pid rc
	shift

	exec {out}> >(tee "$WORK/$name.log" | sed -u "s/^/[$name] /")
	out_pid=$!
	"$@" >&"$out" 2>&1 &
	vm_pid=$!
	echo "$vm_pid" >"$WORK/$name.pid"
	exec {out}>&-
	wait "$vm_pid"
	rc=$?
	rm -f "$WORK/$name.pid"
	# All its output is in the log before anyone counts it.
	wait "$out_pid"
	echo "$rc" >"$WORK/$name.rc"
}

# From one series' log: "passed failed skipped planned reported has_plan".
# Only top-level TAP lines count; indented lines are subtests or commentary.
count_tap() {
	awk '
	/^(not )?ok( |$)/ {
		reported++
		if ($0 ~ /#[ \t]*[Ss][Kk][Ii][Pp]/)
			skipped++
		else if ($0 ~ /^not ok/)
			failed++
		else
			passed++
		next
	}
	/^1\.\.[0-9]+/ {
		has_plan = 1
		split(substr($0, 4), n, /[^0-9]/)
		planned += n[1]
	}
	END {
		printf "%d %d %d %d %d %d\n", passed, failed, skipped, planned,
			reported, has_plan
	}' "$1"
}

main() {
	local series all=() pid bench=${L3DSR_CHECK_BENCH:-1}
	local host=${L3DSR_CHECK_HOST:-1}
	local total_passed=0 total_failed=0 total_skipped=0

	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) usage ;;
		--no-bench) bench=0; shift ;;
		--no-host) host=0; shift ;;
		*) break ;;
		esac
	done
	[ $# -eq 0 ] && set -- 6.1 6.12
	for series in "$@"; do
		case $series in
		6.1 | 6.12) ;;
		*)
			echo "$PROG: unknown kernel series '$series'" >&2
			usage
			;;
		esac
		all+=("$series")
	done

	WORK=$(mktemp -d) || exit 1
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	local runs=()
	if [ "$host" != 0 ]; then
		run_job style "$REPO_DIR/selftests/host/style.sh"
		run_job packaging "$REPO_DIR/selftests/host/packaging.sh"
		run_job tools make -s -C "$REPO_DIR/tools" check
		runs+=("${HOST_JOBS[@]}")
	fi

	for series in "${all[@]}"; do
		run_job "$series" "$VM" run "$series" -- ./run_tests.sh &
		PIDS+=($!)
	done
	# It waits for the suite on the same kernel (vm.sh takes turns).
	runs+=("${all[@]}")
	if [ "$bench" != 0 ] && [[ " ${all[*]} " == *" $BENCH_SERIES "* ]]; then
		run_job bench "$BENCH" --smoke --tap &
		PIDS+=($!)
		runs+=(bench)
	fi
	for pid in "${PIDS[@]}"; do
		wait "$pid"
	done
	PIDS=()

	local passed failed skipped planned reported has_plan rc why label
	for series in "${runs[@]}"; do
		rc=$(cat "$WORK/$series.rc" 2>/dev/null || echo 1)
		read -r passed failed skipped planned reported has_plan \
			< <(count_tap "$WORK/$series.log")
		why=()
		if [ "$has_plan" = 0 ]; then
			why+=("no TAP plan")
		elif [ "$reported" -lt "$planned" ]; then
			why+=("$((planned - reported)) of $planned planned tests never reported")
			failed=$((failed + planned - reported))
		fi
		[ "$rc" != 0 ] && why+=("exit status $rc")
		if [ ${#why[@]} -gt 0 ] && [ "$failed" = 0 ]; then
			# Something went wrong that no TAP line names.
			failed=1
		fi
		local summary="$passed passed, $failed failed"
		[ "$skipped" != 0 ] && summary+=", $skipped skipped"
		if [ ${#why[@]} -gt 0 ]; then
			local joined
			joined=$(printf '%s; ' "${why[@]}")
			summary+=" (${joined%; })"
		fi
		if [ "$series" = bench ]; then
			label="benchmark smoke on $BENCH_SERIES"
		elif [[ " ${HOST_JOBS[*]} " == *" $series "* ]]; then
			label="host checks: $series"
		else
			label=$("$VM" kver "$series" 2>/dev/null || echo "$series")
		fi
		echo "[$series] $label: $summary"
		total_passed=$((total_passed + passed))
		total_failed=$((total_failed + failed))
		total_skipped=$((total_skipped + skipped))
	done

	local final="$total_passed passed, $total_failed failed"
	[ "$total_skipped" != 0 ] && final+=", $total_skipped skipped"
	echo "$final"
	[ "$total_failed" = 0 ]
}

main "$@"
