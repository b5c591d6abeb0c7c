#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every l3dsr selftest and merge their results into one TAP stream: each
# assertion of each script becomes one numbered line, prefixed with the
# script's name; everything else the scripts print becomes a "# " comment.
# The plan comes last, once the count is known.
#
#   ./run_tests.sh [TEST...]     default: every test in TESTS below
#   VERBOSE=1 ./run_tests.sh     each command a test runs is printed
#   L3DSR_TEST_TIMEOUT=SECS      each script's time limit (settings has it)
#
# A script that skips (exit 4) without printing results adds one SKIP line;
# one that fails or times out without a failed assertion adds a "not ok"
# line for itself. After each script, one more line says whether the kernel
# logged a WARN, BUG, "hw csum failure", a detector's report or any other
# splat (the expressions in klog-bad) while it ran. On a kernel with
# kmemleak, a last line says whether it suspects l3dsr of a leak. Each
# script's wall time is a comment ("# l3dsr_e2e.sh took 12 s").
# Exits 0 when nothing failed, 1 otherwise.

set -u

cd "$(dirname "$0")" || exit 1

# every l3dsr_*.sh here is a test, so a new one needs no edit of this file
readonly TESTS=(l3dsr_*.sh)
readonly KSFT_SKIP=4

# klog_patterns FILE: the expressions in FILE, one a line, as one extended
# regular expression; comments and blank lines left out.
klog_patterns()
{
	local line expr=

	while IFS= read -r line; do
		case $line in
		'' | '#'*) continue ;;
		esac
		expr+=${expr:+|}$line
	done <"$1"
	[ -n "$expr" ] && echo "$expr"
}

# Kernel log lines that fail a test: the kernel found itself in trouble
# (a splat, a detector's report). The VM harness applies the same list.
KLOG_TROUBLE=$(klog_patterns klog-bad) || {
	echo "run_tests.sh: no kernel log patterns in $PWD/klog-bad" >&2
	exit 1
}
readonly KLOG_TROUBLE

# The per-script limit, from the kselftest settings file; L3DSR_TEST_TIMEOUT
# (seconds) overrides it for a slower kernel (the VM harness's debug kernel).
timeout_secs=300
if [ -f settings ]; then
	value=$(sed -n 's/^timeout=\([0-9]\+\)$/\1/p' settings)
	[ -n "$value" ] && timeout_secs=$value
fi
if [[ "${L3DSR_TEST_TIMEOUT:-}" =~ ^[1-9][0-9]*$ ]]; then
	timeout_secs=$L3DSR_TEST_TIMEOUT
fi

number=0
failed=0
skipped=0

emit()
{
	local verdict=$1 text=$2

	number=$((number + 1))
	echo "$verdict $number - $text"
}

# run_limited SCRIPT: run it under the time limit; then end whatever it left
# behind, since a stray process holding the output pipe would keep this
# runner waiting for ever. timeout makes its own process group, whose id is
# its pid.
run_limited()
{
	local pid rc

	timeout --kill-after=10 "$timeout_secs" "./$1" 2>&1 &
	pid=$!
	wait "$pid"
	rc=$?
	kill -TERM -- "-$pid" 2>/dev/null
	return "$rc"
}

# run_one SCRIPT: run it, renumber its results; sets script_rc and the
# counts of its results.
run_one()
{
	local script=$1 name=${1%.sh} line verdict rest
	local results=0 failures=0 skip_reason=
	local marker="run_tests-$$-$RANDOM exit "

	echo "# running $script"
	script_rc=
	while IFS= read -r line; do
		if [[ "$line" == "$marker"* ]]; then
			script_rc=${line#"$marker"}
		elif [[ "$line" =~ ^(not ok|ok)\ [0-9]+\ -\ (.*)$ ]]; then
			verdict=${BASH_REMATCH[1]}
			rest=${BASH_REMATCH[2]}
			results=$((results + 1))
			if [ "$verdict" = "not ok" ]; then
				failures=$((failures + 1))
				failed=$((failed + 1))
			elif [[ "$rest" == *"# SKIP"* ]]; then
				skipped=$((skipped + 1))
			fi
			emit "$verdict" "$name: $rest"
		elif [[ "$line" =~ ^(TAP\ version|1\.\.) ]]; then
			# Its own header and plan; a skip reason is kept.
			[[ "$line" == *"# SKIP"* ]] && skip_reason=${line#*# SKIP}
		elif [[ "$line" == "#"* ]]; then
			echo "$line"
		else
			echo "# $line"
		fi
	done < <(run_limited "$script"; echo "$marker$?")

	if [ "$script_rc" = "$KSFT_SKIP" ] && [ "$results" -eq 0 ]; then
		skipped=$((skipped + 1))
		emit ok "$name # SKIP$skip_reason"
	elif [ "$script_rc" = 124 ] || [ "$script_rc" = 137 ]; then
		failed=$((failed + 1))
		emit "not ok" "$name: timed out after $timeout_secs s"
	elif [ "$script_rc" != 0 ] && [ "$script_rc" != "$KSFT_SKIP" ] &&
	     [ "$failures" -eq 0 ]; then
		failed=$((failed + 1))
		emit "not ok" "$name: exited $script_rc"
	fi
}

# The kernel log's records from after a time stamp (seconds since boot, as
# dmesg prints them), so a ring that wrapped does not hide new lines.
klog_since()
{
	dmesg | awk -v mark="$1" '{
		stamp = $0
		sub(/^[^[]*\[ */, "", stamp)
		sub(/\].*/, "", stamp)
		if (stamp + 0 > mark + 0)
			print
	}'
}

# klog_mark: the time stamp of the last record, or "unreadable" (no dmesg,
# or records without time stamps: a kernel without CONFIG_PRINTK_TIME).
klog_mark()
{
	local last

	if ! last=$(dmesg 2>/dev/null | tail -n 1) ||
	   ! [[ "$last" =~ ^\[\ *([0-9]+\.[0-9]+)\] ]]; then
		echo unreadable
		return
	fi
	echo "${BASH_REMATCH[1]}"
}

# klog_check NAME MARK: one result for what the kernel logged since MARK.
klog_check()
{
	local name=$1 mark=$2 trouble

	if [ "$mark" = unreadable ]; then
		skipped=$((skipped + 1))
		emit ok "$name: kernel log clean # SKIP dmesg unreadable or without time stamps"
		return
	fi
	trouble=$(klog_since "$mark" | grep -E "$KLOG_TROUBLE")
	if [ -z "$trouble" ]; then
		emit ok "$name: kernel log clean"
		return
	fi
	failed=$((failed + 1))
	emit "not ok" "$name: kernel log clean"
	# shellcheck disable=SC2001 # one prefix per line
	sed 's/^/# /' <<< "$trouble"
}

# kmemleak_check: where the kernel has kmemleak (the VM harness's debug
# kernel), one result for the whole run: a scan, a pause, a second scan so
# that objects in flight settle, then every suspect whose allocation
# backtrace runs through l3dsr, or through code no longer loaded (the module
# was unloaded since; it is the only module such a kernel loads), fails it.
# The kernel's own suspects are counted, not judged.
kmemleak_check()
{
	local f=/sys/kernel/debug/kmemleak report found total ours

	[ -e "$f" ] || return 0
	if ! { echo scan >"$f" && sleep 5 && echo scan >"$f" &&
	       report=$(cat "$f"); } 2>/dev/null; then
		failed=$((failed + 1))
		emit "not ok" "kmemleak: nothing leaked by l3dsr"
		echo "# kmemleak cannot scan: it has turned itself off (see dmesg)"
		return
	fi
	# The number of suspects on the first line, then the blocks of ours.
	found=$(awk '
	function flush() {
		if (block ~ /\[l3dsr\]/ || block ~ /\] 0x[0-9a-f]+\n/)
			ours = ours block
		block = ""
	}
	/^unreferenced object/ { flush(); total++ }
	{ block = block $0 "\n" }
	END { flush(); print total + 0; printf "%s", ours }
	' <<< "$report")
	total=${found%%$'\n'*}
	ours=${found#"$total"}
	ours=${ours#$'\n'}
	echo "# kmemleak: $total suspects in all"
	if [ -z "$ours" ]; then
		emit ok "kmemleak: nothing leaked by l3dsr"
		return
	fi
	failed=$((failed + 1))
	emit "not ok" "kmemleak: nothing leaked by l3dsr"
	# shellcheck disable=SC2001 # one prefix per line
	sed 's/^/# /' <<< "$ours"
}

echo "TAP version 13"
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=("${TESTS[@]}")
for script in "${tests[@]}"; do
	if [ ! -x "$script" ]; then
		failed=$((failed + 1))
		emit "not ok" "${script%.sh}: no such executable test"
		continue
	fi
	mark=$(klog_mark)
	started=$SECONDS
	run_one "$script"
	echo "# $script took $((SECONDS - started)) s"
	klog_check "${script%.sh}" "$mark"
done
kmemleak_check
echo "1..$number"
echo "# totals: pass $((number - failed - skipped)) fail $failed skip $skipped"
[ "$failed" -eq 0 ]
