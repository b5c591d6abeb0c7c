#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the selftests (./run_tests.sh) in a VM per kernel series and count the
# TAP results of them all. When 6.12 is among the series, the benchmark's
# smoke run (selftests/bench/bench.sh --smoke) follows its suite, one TAP
# line per benchmark variant, so the benchmark cannot rot unseen.
#
#   check.sh [--no-bench] [--no-host] [SERIES...]
#            default: 6.1 6.12 6.1-rt 6.12-rt debug
#
# In order:
# 1. apt, for every series (vm.sh install), so that nothing installs
#    packages while the host checks watch what packaging installs; the
#    debug kernel's first, and its build (vm.sh fetch debug; nothing when
#    it is in the cache) starts then, beside the rest;
# 2. the checks that need no VM, one after another (selftests/host/style.sh,
#    selftests/host/packaging.sh, make -C tools check, selftests/host/ynl.sh
#    for the YNL spec), holding one of L3DSR_CHECK_JOBS (default: the
#    number of CPUs) places; a debug kernel still building holds another;
# 3. the VM suites in the places left and freed, the longest ready one
#    first (debug, 6.12 with the benchmark, 6.1, then the PREEMPT_RT
#    ones), so that the last to end is a short one: each VM runs on one
#    CPU (the kernel's build, on both, shares them with one VM). The other lanes do
#    not wait for the debug kernel; when it is built, the -Werror build
#    and sparse against its tree run (half a minute), and its lane goes
#    next. With the kernel in the cache the debug lane, the longest, so
#    starts beside the host checks.
# L3DSR_CHECK_BENCH=0 is --no-bench, L3DSR_CHECK_HOST=0 is --no-host. A
# series with a tests file (selftests/vm/debug.tests for the debug kernel,
# rt.tests for both PREEMPT_RT series, 6.1.tests, 6.12.tests) runs the
# tests it names with the settings it gives (see there why); a series
# without one, the whole suite at its defaults. The debug kernel's VM has L3DSR_CHECK_DEBUG_TIMEOUT seconds (4800).
#
# Each output line is prefixed with its lane: a series, a host check, or
# "bench". The summary gives each lane's counts and wall time, then lists
# every failed test again with the start of what it said; the last line
# reads "N passed, N failed" (", N skipped" when any were). A run that fails
# without saying which test failed (the VM timed out, the kernel log shows a
# splat, the TAP stream stopped early) counts as at least one failure; a
# lane that cannot run here (apt has no such kernel, no linux-source) is one
# skip, with the reason. Exit 0 only if nothing failed.

set -u
set -o pipefail

readonly PROG=check.sh
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SELF_DIR
readonly VM=$SELF_DIR/vm.sh
readonly BENCH=$SELF_DIR/../bench/bench.sh
readonly REPO_DIR=$SELF_DIR/../..
readonly ALL_SERIES='6.1 6.12 6.1-rt 6.12-rt debug'
# The order the VMs start in, the longest lane first (6.12's, the whole
# suite at full counts, then the benchmark), so that the last to finish is
# a short one.
readonly LONGEST_FIRST='debug 6.12 6.1 6.12-rt 6.1-rt'
# Checks that need no VM, run one after another in one CPU's place.
readonly HOST_JOBS=(style packaging tools ynl)
# The kernel the benchmark boots.
readonly BENCH_SERIES=6.12
readonly DEBUG_TIMEOUT=${L3DSR_CHECK_DEBUG_TIMEOUT:-4800}
readonly KSFT_SKIP=4
# How many of a failed test's comment lines the final list repeats.
readonly FAILURE_LINES=6

usage() {
	echo "usage: $PROG [--no-bench] [--no-host] [SERIES...]   (SERIES: ${ALL_SERIES// /, }; default all)" >&2
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
# to $WORK/NAME.rc, its wall time in seconds to $WORK/NAME.secs, and
# prefixed lines to our stdout as they come.
run_job() {
	local name=$1 out out_pid vm_pid rc t0
	shift

	t0=$(date +%s)
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
	echo $(($(date +%s) - t0)) >"$WORK/$name.secs"
	echo "$rc" >"$WORK/$name.rc"
}

# not_run LANE REASON RC: the lane is not started; RC 4 makes it a skip,
# anything else a failure.
not_run() {
	printf '%s\n' "$2" >"$WORK/$1.why"
	echo "$3" >"$WORK/$1.rc"
	: >"$WORK/$1.log"
}

# Why a job that exited 4 could not run: its last message.
skip_reason() {
	grep -E '^(vm|kernel)\.sh: ' "$1" | tail -n 1 | sed 's/^[a-z]*\.sh: //'
}

duration() {
	local s=$1

	if [ "$s" -ge 60 ]; then
		printf '%dm%02ds' $((s / 60)) $((s % 60))
	else
		printf '%ds' "$s"
	fi
}

# From one lane's log: "passed failed skipped planned reported has_plan".
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

# What SERIES.tests says (selftests/vm/debug.tests, rt.tests for both
# PREEMPT_RT series), one word a line: a NAME=VALUE line as it is (an
# environment setting for the run), a test pattern as the scripts it
# names. Nothing when there is no such file: the whole suite.
tests_plan() {
	local file=$SELF_DIR/$1.tests line word script

	[ -f "$file" ] || return 0
	while read -r line; do
		word=${line%%#*}
		word=${word//[[:space:]]/}
		case $word in
		'') ;;
		*=*) printf '%s\n' "$word" ;;
		*)
			for script in "$REPO_DIR"/selftests/$word; do
				[ -e "$script" ] && basename "$script"
			done
			;;
		esac
	done <"$file"
}

# The file of tests for SERIES: its own, or that of its kind.
tests_file_for() {
	case $1 in
	*-rt) echo rt ;;
	*) echo "$1" ;;
	esac
}

# The module of an earlier commit, for l3dsr_skew.sh: built and installed
# in every guest beside l3dsr.ko (selftests/skew/build.sh lays out its
# sources; outside a git checkout there are none, and the test skips).
skew_kbuild() {
	local dir

	dir=$("$REPO_DIR/selftests/skew/build.sh" --dir 2>/dev/null) || return 0
	[ -f "$dir/Kbuild" ] && printf '%s\n' "$dir"
}

build_helpers() {
	make -s -C "$REPO_DIR/tools" && make -s -C "$REPO_DIR/selftests"
}

host_checks() {
	run_job style "$REPO_DIR/selftests/host/style.sh"
	run_job packaging "$REPO_DIR/selftests/host/packaging.sh"
	run_job tools make -s -C "$REPO_DIR/tools" check
	run_job ynl "$REPO_DIR/selftests/host/ynl.sh"
}

# is_running PID: the background job PID has not ended.
is_running() {
	[[ " $(jobs -rp | tr '\n' ' ') " == *" $1 "* ]]
}

# remove_from ARRAY WORD: ARRAY without WORD.
remove_from() {
	local -n array=$1
	local kept=() word

	for word in "${array[@]}"; do
		[ "$word" = "$2" ] || kept+=("$word")
	done
	array=("${kept[@]}")
}

# first_ready BUILD_PID SERIES...: the first series that can start now;
# the debug lane waits for its kernel, which is being built while
# BUILD_PID is not empty.
first_ready() {
	local building=$1 series
	shift

	for series in "$@"; do
		if [ "$series" != debug ] || [ -z "$building" ]; then
			echo "$series"
			return 0
		fi
	done
	return 1
}

# debug_kernel_ready HOST: after vm.sh fetch debug ended, whether its lane
# can run; when HOST is not 0, the -Werror build and sparse against the
# kernel's tree follow, now there.
debug_kernel_ready() {
	local rc reason

	rc=$(cat "$WORK/debug-kernel.rc" 2>/dev/null || echo 1)
	if [ "$rc" != 0 ]; then
		reason="the debug kernel did not build (vm.sh fetch debug exited $rc)"
		[ "$rc" = "$KSFT_SKIP" ] && reason=$(skip_reason "$WORK/debug-kernel.log")
		not_run debug "$reason" "$rc"
		return 1
	fi
	[ "$1" = 0 ] || run_job style-debug "$REPO_DIR/selftests/host/style.sh" --kernels debug
}

# lane SERIES: the suite on one kernel, or what its .tests file names;
# 6.12's is followed by the benchmark.
lane() {
	local series=$1 plan=() settings=() tests=() word timeout=()
	local -x L3DSR_VM_EXTRA_KBUILD

	L3DSR_VM_EXTRA_KBUILD=$(skew_kbuild)
	mapfile -t plan < <(tests_plan "$(tests_file_for "$series")")
	for word in "${plan[@]}"; do
		case $word in
		*=*) settings+=("$word") ;;
		*) [[ " ${tests[*]} " == *" $word "* ]] || tests+=("$word") ;;
		esac
	done
	[ "$series" = debug ] && timeout=(--timeout "$DEBUG_TIMEOUT")
	run_job "$series" "$VM" run "$series" "${timeout[@]}" -- \
		env "${settings[@]}" ./run_tests.sh "${tests[@]}"
	if [ "$series" = "$BENCH_SERIES" ] && [ "$BENCH_ON" = 1 ]; then
		run_job bench "$BENCH" --smoke --tap
	fi
}

# failures LANE...: each failed test again, with the first lines of what
# it said, after the summary: a CI log that keeps only its end still names
# what failed, however early in the run it was.
failures() {
	local lane_name

	for lane_name in "$@"; do
		[ -s "$WORK/$lane_name.log" ] || continue
		awk -v lane="$lane_name" -v max="$FAILURE_LINES" '
		/^not ok( |$)/ && $0 !~ /#[ \t]*[Ss][Kk][Ii][Pp]/ {
			print "[" lane "] " $0
			said = 0
			within = 1
			next
		}
		/^(ok|not ok)( |$)|^1\.\./ { within = 0; next }
		within && /^#/ && said < max {
			print "[" lane "]   " $0
			said++
		}' "$WORK/$lane_name.log"
	done
}

BENCH_ON=0

main() {
	local series all=() pid bench=${L3DSR_CHECK_BENCH:-1}
	local host=${L3DSR_CHECK_HOST:-1} jobs=${L3DSR_CHECK_JOBS:-$(nproc)}
	local total_passed=0 total_failed=0 total_skipped=0 t_start

	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) usage ;;
		--no-bench) bench=0; shift ;;
		--no-host) host=0; shift ;;
		*) break ;;
		esac
	done
	# shellcheck disable=SC2086 # a blank-separated list
	[ $# -eq 0 ] && set -- $ALL_SERIES
	for series in "$@"; do
		case " $ALL_SERIES " in
		*" $series "*) ;;
		*)
			echo "$PROG: unknown kernel series '$series'" >&2
			usage
			;;
		esac
		[[ " ${all[*]} " == *" $series "* ]] || all+=("$series")
	done
	[[ $jobs =~ ^[1-9][0-9]*$ ]] || jobs=1

	WORK=$(mktemp -d) || exit 1
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	t_start=$(date +%s)

	# 1. apt, for every series, before anything watches the packages; the
	#    debug kernel's first, so that its build starts beside the rest.
	local rc runnable=() build_pid='' order=()
	[[ " ${all[*]} " == *" debug "* ]] && order=(debug)
	for series in "${all[@]}"; do
		[ "$series" = debug ] || order+=("$series")
	done
	for series in "${order[@]}"; do
		run_job "install-$series" "$VM" install "$series"
		rc=$(cat "$WORK/install-$series.rc")
		if [ "$rc" = 0 ]; then
			runnable+=("$series")
			if [ "$series" = debug ]; then
				run_job debug-kernel "$VM" fetch debug &
				build_pid=$!
				PIDS+=("$build_pid")
			fi
		elif [ "$rc" = "$KSFT_SKIP" ]; then
			not_run "$series" "$(skip_reason "$WORK/install-$series.log")" "$KSFT_SKIP"
		else
			not_run "$series" "cannot install what it needs (vm.sh install exited $rc)" "$rc"
		fi
	done
	if [ "$bench" != 0 ] && [[ " ${all[*]} " == *" $BENCH_SERIES "* ]]; then
		if [[ " ${runnable[*]} " == *" $BENCH_SERIES "* ]]; then
			BENCH_ON=1
		else
			not_run bench "$BENCH_SERIES cannot run here" "$KSFT_SKIP"
		fi
		bench=1
	else
		bench=0
	fi

	# The tool and the helpers every guest gets, the old module's sources
	# among them, built once before the VMs (vm.sh would, one run at a
	# time) and before the host checks, whose tools/ check then builds only
	# its tests, not the files a starting lane may be building.
	run_job helpers build_helpers

	# 2. The host checks, one after another, in one of the $jobs places;
	#    the debug kernel's build, until it is done, in another.
	local runs=()
	if [ "$host" != 0 ]; then
		host_checks &
		PIDS+=($!)
		runs+=("${HOST_JOBS[@]}")
	fi

	# 3. The VM suites, the longest ready one first, in the places left:
	#    with the debug kernel in the cache its lane starts at once, beside
	#    the host checks.
	local queue=() next
	for series in $LONGEST_FIRST; do
		[[ " ${runnable[*]} " == *" $series "* ]] && queue+=("$series")
	done
	while [ ${#queue[@]} -gt 0 ]; do
		if [ -n "$build_pid" ] && ! is_running "$build_pid"; then
			wait "$build_pid"
			if ! debug_kernel_ready "$host"; then
				remove_from queue debug
			elif [ "$host" != 0 ]; then
				runs+=(style-debug)
			fi
			build_pid=
			continue
		fi
		if [ "$(jobs -rp | wc -l)" -lt "$jobs" ] &&
		   next=$(first_ready "$build_pid" "${queue[@]}"); then
			lane "$next" &
			PIDS+=($!)
			remove_from queue "$next"
			continue
		fi
		# not wait -n: it misses a job that ended since the checks above
		sleep 2
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid"
	done
	PIDS=()

	runs+=("${all[@]}")
	[ "$bench" = 1 ] && runs+=(bench)
	local passed failed skipped planned reported has_plan why label lane_name
	local summary joined secs
	for lane_name in "${runs[@]}"; do
		rc=$(cat "$WORK/$lane_name.rc" 2>/dev/null || echo 1)
		read -r passed failed skipped planned reported has_plan \
			< <(count_tap "$WORK/$lane_name.log")
		why=()
		if [ -f "$WORK/$lane_name.why" ] && [ "$rc" = "$KSFT_SKIP" ]; then
			skipped=1
			why+=("skipped: $(cat "$WORK/$lane_name.why")")
		elif [ -f "$WORK/$lane_name.why" ]; then
			failed=1
			why+=("$(cat "$WORK/$lane_name.why")")
		elif [ "$rc" = "$KSFT_SKIP" ] && [ "$has_plan" = 0 ]; then
			skipped=$((skipped + 1))
			why+=("skipped: $(skip_reason "$WORK/$lane_name.log")")
		else
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
		fi
		summary="$passed passed, $failed failed"
		[ "$skipped" != 0 ] && summary+=", $skipped skipped"
		if [ -f "$WORK/$lane_name.secs" ]; then
			secs=$(cat "$WORK/$lane_name.secs")
			summary+=" in $(duration "$secs")"
			if [ "$lane_name" = debug ] && [ -f "$WORK/debug-kernel.secs" ]; then
				summary+=", after $(duration "$(cat "$WORK/debug-kernel.secs")") for the kernel"
				grep -q '^kernel\.sh: built ' "$WORK/debug-kernel.log" ||
					summary+=" (cached)"
			fi
		fi
		if [ ${#why[@]} -gt 0 ]; then
			joined=$(printf '%s; ' "${why[@]}")
			summary+=" (${joined%; })"
		fi
		if [ "$lane_name" = bench ]; then
			label="benchmark smoke on $BENCH_SERIES"
		elif [[ " ${HOST_JOBS[*]} style-debug " == *" $lane_name "* ]]; then
			label="host checks: $lane_name"
		elif [ "$rc" = "$KSFT_SKIP" ]; then
			label=$lane_name
		else
			label=$("$VM" kver "$lane_name" 2>/dev/null || echo "$lane_name")
		fi
		echo "[$lane_name] $label: $summary"
		total_passed=$((total_passed + passed))
		total_failed=$((total_failed + failed))
		total_skipped=$((total_skipped + skipped))
	done

	failures "${runs[@]}"
	echo "wall time $(duration $(($(date +%s) - t_start)))"
	local final="$total_passed passed, $total_failed failed"
	[ "$total_skipped" != 0 ] && final+=", $total_skipped skipped"
	echo "$final"
	[ "$total_failed" = 0 ]
}

main "$@"
