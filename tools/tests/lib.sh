# SPDX-License-Identifier: GPL-2.0
#
# What the host-side tests of l3dsrctl share: TAP counting, running the
# tool, comparing. Sourced by config.sh and import.sh after they set TOOL;
# each makes its own TMP.
# shellcheck shell=bash disable=SC2034 # count and failed are the caller's

count=0
failed=0

pass()
{
	count=$((count + 1))
	echo "ok $count - $1"
}

fail()
{
	local why line

	count=$((count + 1))
	failed=$((failed + 1))
	echo "not ok $count - $1"
	shift
	for why in "$@"; do
		while IFS= read -r line; do
			echo "# $line"
		done <<< "$why"
	done
}

# ctl ARGS...: run the tool; OUT, ERR and RC as it left them.
ctl()
{
	"$TOOL" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}

check_eq()
{
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected: $2" "got:      $3"
	fi
}

# expect DESCRIPTION RC STDERR: the last ctl exited RC with exactly STDERR.
expect()
{
	if [ "$RC" == "$2" ] && [ "$ERR" == "$3" ]; then
		pass "$1"
	else
		fail "$1" "exit $RC, expected $2" "stderr:   $ERR" \
			"expected: $3" "stdout: $OUT"
	fi
}
