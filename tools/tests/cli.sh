#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of l3dsrctl: all that needs no l3dsr module. The command
# line and its exit codes, help and version, refusing bad input before any
# netlink traffic, failing cleanly where the module is absent, the man page
# covering every command, and the bash completion.
#
# usage: tests/cli.sh [L3DSRCTL]
#   VALGRIND=1 runs every call of the tool under valgrind and fails on any
#   memory error or leak.
# shellcheck source-path=SCRIPTDIR
set -u

TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
TOOLS_DIR=$(dirname "$TESTS_DIR")
TOOL=$(realpath "${1:-$TOOLS_DIR/l3dsrctl}")
VALGRIND=${VALGRIND:-0}
# On a host that has no l3dsr.ko for its kernel, which is where these tests
# of its absence run.
KVER=$(uname -r)
readonly KVER
readonly ABSENT="it is not installed for the running kernel $KVER (modules.dep names no l3dsr.ko): install it for this kernel (dkms autoinstall -k $KVER)"
readonly NOT_LOADED="l3dsrctl: the l3dsr kernel module is not loaded: $ABSENT"

TMP=$(mktemp -d) || exit 1
NETNS=

cleanup()
{
	[ -n "$NETNS" ] && ip netns del "$NETNS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# TAP counting (pass, fail), shared with config.sh and import.sh; ctl and
# the checks below are this script's own (valgrind, its messages).
# shellcheck source=lib.sh
source "$TESTS_DIR/lib.sh"

# ctl ARGS...: run the tool; its output in OUT and ERR, its status in RC.
ctl()
{
	if [ "$VALGRIND" = 1 ]; then
		valgrind -q --leak-check=full --show-leak-kinds=all \
			--errors-for-leak-kinds=all --error-exitcode=99 \
			--log-file="$TMP/valgrind" \
			"$TOOL" "$@" >"$TMP/out" 2>"$TMP/err"
		RC=$?
		if [ -s "$TMP/valgrind" ]; then
			fail "valgrind is clean: l3dsrctl $*" "$(cat "$TMP/valgrind")"
		fi
	else
		"$TOOL" "$@" >"$TMP/out" 2>"$TMP/err"
		RC=$?
	fi
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
}

# expect_usage NEEDLE ARGS...: ARGS are refused as a bad command line: exit
# 2, nothing on stdout, "l3dsrctl: ..." naming NEEDLE on stderr, then a
# usage line.
expect_usage()
{
	local needle=$1 desc
	shift

	ctl "$@"
	desc="l3dsrctl $* -> exit 2 naming '$needle'"
	if [ "$RC" != 2 ] || [ -n "$OUT" ] ||
	   [[ "$ERR" != "l3dsrctl: "*"$needle"* ]] ||
	   [[ "$(sed -n 2p <<< "$ERR")" != "usage: l3dsrctl"* ]]; then
		fail "$desc" "exit $RC" "stdout: $OUT" "stderr: $ERR"
		return
	fi
	pass "$desc"
}

# expect_failure MESSAGE ARGS...: ARGS fail with exit 1, nothing on stdout
# and exactly MESSAGE on stderr.
expect_failure()
{
	local message=$1
	shift

	ctl "$@"
	if [ "$RC" != 1 ] || [ -n "$OUT" ] || [ "$ERR" != "$message" ]; then
		fail "l3dsrctl $* -> exit 1: $message" "exit $RC" \
			"stdout: $OUT" "stderr: $ERR"
		return
	fi
	pass "l3dsrctl $* -> exit 1: $message"
}

check_eq()
{
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected: $2" "got:      $3"
	fi
}

echo "TAP version 13"

# ------------------------------------------------------ help and version

for args in help -h --help "-j help" "add-mapping -h" "show --help" \
	    "help del-mapping"; do
	# shellcheck disable=SC2086 # split on purpose
	ctl $args
	if [ "$RC" = 0 ] && [ -n "$OUT" ] && [ -z "$ERR" ]; then
		pass "l3dsrctl $args -> exit 0, stdout only"
	else
		fail "l3dsrctl $args -> exit 0, stdout only" "exit $RC" "$ERR"
	fi
done

ctl help
HELP=$OUT
commands=$(awk '/^Commands:/ { c = 1; next } /^$/ { c = 0 }
		c && /^  [a-z]/ { print $1 }' <<< "$HELP")
check_eq "help lists the commands of the contract" \
	"add-mapping replace-mapping del-mapping set-mapping show flush apply save import-iptables import-dsrtools check stats monitor help version" \
	"$(tr '\n' ' ' <<< "$commands" | sed 's/ $//')"

ctl help add-mapping
check_eq "help add-mapping gives the one-line usage" \
	"usage: l3dsrctl add-mapping dscp DSCP vip ADDR [dev IFNAME] [rip ADDR] [clear-dscp] [nonlocal] [add-vip] [vip-device IFNAME]" \
	"$(head -n 1 <<< "$OUT")"

ctl help set-mapping
check_eq "help set-mapping gives the one-line usage" \
	"usage: l3dsrctl set-mapping dscp DSCP [down|up] [nonlocal on|off]" \
	"$(head -n 1 <<< "$OUT")"

ctl version
version=$OUT
if [ "$RC" = 0 ] && [[ "$version" =~ ^l3dsrctl\ [0-9]+\.[0-9]+\.[0-9]+, ]]; then
	pass "version prints 'l3dsrctl X.Y.Z, ...'"
else
	fail "version prints 'l3dsrctl X.Y.Z, ...'" "exit $RC: $version"
fi
expected_version=0.1.0
[ -f "$TOOLS_DIR/../VERSION" ] && expected_version=$(cat "$TOOLS_DIR/../VERSION")
family_version=$(sed -n 's/^#define L3DSR_GENL_VERSION[[:space:]]*\([0-9]*\)$/\1/p' \
	"$TOOLS_DIR/../kmod/uapi/l3dsr.h")
check_eq "version names the tool's release (../VERSION) and family version first" \
	"l3dsrctl $expected_version, netlink family version $family_version" \
	"$(head -n 1 <<< "$OUT")"
ctl --version
check_eq "--version says what version says" "$version" "$OUT"
# The host cannot load modules: there is none to look up, and looking
# must not try to load one.
if [ ! -e /sys/module/l3dsr ]; then
	check_eq "version without the module: 'module not loaded', exit 0" \
		"0 module not loaded" "$RC $(sed -n 2p <<< "$OUT")"
	ctl -j version
	if [ "$RC" = 0 ] && jq -e --arg v "$expected_version" \
		--argjson f "$family_version" \
		'.tool.release == $v and .tool.family_version == $f and
		 .module.loaded == false and .module.release == null and
		 .module.family_version == null and .same == null and
		 .module_lacks == []' <<< "$OUT" >/dev/null; then
		pass "version -j without the module"
	else
		fail "version -j without the module" "exit $RC: $OUT" "$ERR"
	fi
fi

"$TOOL" help >/dev/full 2>"$TMP/err"
RC=$?
if [ "$RC" = 1 ] && grep -q "cannot write output" "$TMP/err"; then
	pass "a failed write to stdout is exit 1"
else
	fail "a failed write to stdout is exit 1" "exit $RC: $(cat "$TMP/err")"
fi

# ------------------------------------------------- global command line

expect_global_usage()
{
	local needle=$1 desc
	shift

	ctl "$@"
	desc="l3dsrctl $* -> exit 2 naming '$needle'"
	if [ "$RC" != 2 ] || [ -n "$OUT" ] ||
	   [[ "$ERR" != "l3dsrctl: "*"$needle"* ]]; then
		fail "$desc" "exit $RC" "stdout: $OUT" "stderr: $ERR"
		return
	fi
	pass "$desc"
}

expect_global_usage "no command"
expect_global_usage frobnicate frobnicate
expect_global_usage "-Z" -Z show
expect_global_usage "--bogus" --bogus show
expect_global_usage "-n" -n
expect_global_usage "-4 and -6" -4 -6 show
expect_global_usage "-n given twice" -n a -n b show
expect_global_usage "../x" -n ../x show
expect_global_usage "a/b" -n a/b show
expect_global_usage '""' -n "" show
expect_usage '"-x"' -j -- show -x

# -------------------------------------------------- command arguments

V4=211.115.115.100
for cmd in add-mapping replace-mapping; do
	expect_usage dscp $cmd
	expect_usage vip $cmd dscp 10
	expect_usage dscp $cmd vip $V4
	expect_usage "unmarked" $cmd dscp 0 vip $V4
	for dscp in 0 00 CS0 cs0 64 255 99999999999999999999 -1 +1 AF14 CS8 \
		    bogus 0x0a; do
		expect_usage "\"$dscp\"" $cmd dscp "$dscp" vip $V4
	done
	expect_usage '""' $cmd dscp "" vip $V4
	for vip in 999.1.1.1 1.2.3 $V4/32 2001:db8::1/128 fe80::1%lo host.example ""; do
		expect_usage "\"$vip\"" $cmd dscp 10 vip "$vip"
	done
	expect_usage "2001:db8::1" $cmd dscp 10 vip $V4 rip 2001:db8::1
	expect_usage "192.0.2.1" $cmd dscp 10 vip 2001:db8::1 rip 192.0.2.1
	expect_usage "\"bogus\"" $cmd dscp 10 vip $V4 rip bogus
	expect_usage "\"rip\"" $cmd dscp 10 vip $V4 rip
	expect_usage "\"dev\"" $cmd dscp 10 vip $V4 dev
	expect_usage "\"dscp\" given twice" $cmd dscp 10 vip $V4 dscp 11
	expect_usage "\"vip\" given twice" $cmd dscp 10 vip $V4 vip $V4
	expect_usage "\"clear-dscp\" given twice" $cmd dscp 10 vip $V4 \
		clear-dscp clear-dscp
	expect_usage "\"frob\"" $cmd dscp 10 vip $V4 frob
	expect_usage "\"nonlocal\" given twice" $cmd dscp 10 vip $V4 \
		nonlocal nonlocal
	expect_usage "unknown keyword \"on\"" $cmd dscp 10 vip $V4 nonlocal on
	expect_usage "\"DSCP\"" $cmd DSCP 10 vip $V4
	expect_usage "\"0123456789abcdef\"" $cmd dscp 10 vip $V4 \
		dev 0123456789abcdef
	expect_usage '""' $cmd dscp 10 vip $V4 dev ""
	expect_usage "-6" -6 $cmd dscp 10 vip $V4
	expect_usage "-4" -4 $cmd dscp 10 vip 2001:db8::1
done

expect_usage dscp del-mapping
expect_usage "\"dscp\"" del-mapping dscp
expect_usage "\"99\"" del-mapping dscp 99
expect_usage "\"vip\"" del-mapping dscp 10 vip $V4
expect_usage "\"dscp\" given twice" del-mapping dscp 10 dscp 10
expect_usage "\"99\"" show dscp 99
expect_usage "\"CS0\"" show dscp CS0
expect_usage "\"dscp\"" show dscp
expect_usage "\"all\"" show all
for cmd in flush stats monitor version save check; do
	expect_usage "\"extra\"" $cmd extra
done
expect_usage dscp set-mapping
expect_usage "\"down\" or \"up\"" set-mapping dscp 10
expect_usage "\"down\" or \"up\"" set-mapping dscp 10 down up
expect_usage "\"up\" given twice" set-mapping dscp 10 up up
expect_usage "\"sideways\"" set-mapping dscp 10 sideways
expect_usage "\"nonlocal on\" or \"nonlocal off\"" set-mapping dscp 10
expect_usage "missing value after \"nonlocal\"" set-mapping dscp 10 nonlocal
for value in maybe ON yes 1 down; do
	expect_usage "invalid value \"$value\" after \"nonlocal\"" \
		set-mapping dscp 10 nonlocal "$value"
done
expect_usage "\"nonlocal\" given twice" set-mapping dscp 10 nonlocal on \
	nonlocal off
expect_usage "\"down\" or \"up\"" set-mapping dscp 10 down up nonlocal on
expect_usage "\"99\"" set-mapping dscp 99 down
expect_usage "\"down\"" add-mapping dscp 10 vip $V4 down
expect_usage "\"--prom\"" stats --prom
expect_usage "--prometheus" -j stats --prometheus
expect_usage "-4 and -6" -4 save
expect_usage "-j does not apply" -j save
expect_usage "-4 and -6" -6 apply -f /dev/null
expect_usage "\"--force\"" apply --force
expect_usage "-j does not apply" -j import-iptables
expect_usage "\"b\"" import-iptables a b
expect_usage "-4 and -6" -4 stats
expect_usage "\"frob\"" help frob
expect_usage "\"two\"" help show two

# --------------------------------------------- without the kernel module
# --backend module: auto would turn to nftables (tests/nft.sh tests that).

ctl --backend module show
if [ "$ERR" != "$NOT_LOADED" ]; then
	echo "# the l3dsr family answers here: skipping the tests of its absence"
else
	for args in "add-mapping dscp 10 vip $V4" \
		    "add-mapping dscp EF vip 2001:db8::1 rip 2001:db8::2 clear-dscp" \
		    "replace-mapping dscp af41 vip $V4" "del-mapping dscp 10" \
		    "-4 del-mapping dscp 10" "show" "-j show" "-6 show dscp 10" \
		    "flush" "-6 flush" "stats" "-j stats" "monitor" \
		    "-j monitor" "set-mapping dscp 10 down" \
		    "-6 set-mapping dscp af41 up" \
		    "add-mapping dscp 10 vip $V4 nonlocal" \
		    "replace-mapping dscp 10 vip 2001:db8::1 nonlocal clear-dscp" \
		    "set-mapping dscp 10 nonlocal on" \
		    "-4 set-mapping dscp 10 up nonlocal off" \
		    "apply --allow-empty -f /dev/null" "stats --prometheus" \
		    "add-mapping dscp 10 vip $V4 add-vip" \
		    "del-mapping dscp 10 del-vip"; do
		# shellcheck disable=SC2086 # split on purpose
		expect_failure "$NOT_LOADED" --backend module $args
	done

	# save neither loads the module nor touches the file it would write.
	expect_failure "l3dsrctl: save: the l3dsr module is not loaded, so there is no table to save: $ABSENT" save
	printf 'dscp 10 vip %s\n' "$V4" >"$TMP/kept.conf"
	cp "$TMP/kept.conf" "$TMP/kept.orig"
	mkdir "$TMP/savedir" && cp "$TMP/kept.conf" "$TMP/savedir/l3dsr.conf"
	expect_failure "l3dsrctl: save: the l3dsr module is not loaded, so there is no table to save ($TMP/savedir/l3dsr.conf is left as it is): $ABSENT" \
		save -o "$TMP/savedir/l3dsr.conf"
	check_eq "save -o without the module: the file is intact, nothing beside it" \
		"$(cat "$TMP/kept.orig")|l3dsr.conf" \
		"$(cat "$TMP/savedir/l3dsr.conf")|$(ls -A "$TMP/savedir")"

	ctl check
	if [ "$RC" = 1 ] && [ -z "$ERR" ] &&
	   [ "$(head -n 1 <<< "$OUT")" = "FAIL module l3dsr: the l3dsr module is not loaded: $ABSENT" ]; then
		pass "check without the module: a FAIL line, exit 1"
	else
		fail "check without the module: a FAIL line, exit 1" \
			"exit $RC" "stdout: $OUT" "stderr: $ERR"
	fi
	ctl -j check
	if [ "$RC" = 1 ] && jq -e --arg m "the l3dsr module is not loaded: $ABSENT" \
	   '.ok == false and .fail_count >= 1 and
	   .checks[0] == {level: "fail", check: "module", subject: "l3dsr",
	   message: $m}' >/dev/null 2>&1 <<< "$OUT"; then
		pass "check -j without the module: ok false, the module's FAIL"
	else
		fail "check -j without the module: ok false, the module's FAIL" \
			"exit $RC" "stdout: $OUT"
	fi

	expect_failure "l3dsrctl: cannot open network namespace \"l3dsrctl-absent-$$\": No such file or directory" \
		-n "l3dsrctl-absent-$$" show
	if ip netns add "l3dsrctl-test-$$" 2>/dev/null; then
		NETNS=l3dsrctl-test-$$
		expect_failure "$NOT_LOADED" --backend module -n "$NETNS" show
		expect_failure "$NOT_LOADED" --backend module -n "$NETNS" \
			add-mapping dscp 10 vip $V4 dev lo
	else
		echo "# cannot create a network namespace: -n not tried"
	fi
fi

# ------------------------------------------------------------ man page

MAN=$TOOLS_DIR/man/l3dsrctl.8
warnings=$(LC_ALL=C.UTF-8 groff -t -man -ww -z -Tutf8 "$MAN" 2>&1)
check_eq "the man page renders without warnings" "" "$warnings"
# Wide lines and ASCII, so that no name is hyphenated or turned typographic.
rendered=$(groff -t -man -rLL=300n -rHY=0 -Tascii -P-cbou "$MAN" 2>/dev/null)
missing=
for word in $commands -j -n -4 -6 \
	    $(grep -oE '\<[A-Z]+[0-9]*=[0-9]+\>' <<< "$HELP" | sed 's/=.*//') \
	    rewritten rewritten_fragments skipped_scope skipped_not_host \
	    skipped_malformed skipped_routing_header dropped_unwritable \
	    skipped_down skipped_not_local skipped_bridged skipped_protocol \
	    family dscp vip rip dev clear_dscp nonlocal down \
	    packets bytes event mapping \
	    tool module release family_version loaded same module_lacks \
	    UPGRADING \
	    "add-mapping dscp 10 vip 211.115.115.100"; do
	grep -qF -- "$word" <<< "$rendered" || missing+=" $word"
done
check_eq "the man page names every command, option, class, key and counter" \
	"" "$missing"

# ---------------------------------------------------------- completion

# shellcheck source=../completion/l3dsrctl.bash
source "$TOOLS_DIR/completion/l3dsrctl.bash"

# complete LINE: what completing at the end of LINE offers, space separated.
complete_line()
{
	COMP_LINE="$TOOL $1"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_l3dsrctl
	echo "${COMPREPLY[*]}"
}

check_eq "completion: commands" "$(tr '\n' ' ' <<< "$commands" | sed 's/ $//')" \
	"$(complete_line "")"
check_eq "completion: a command's prefix" "del-mapping" "$(complete_line "del")"
check_eq "completion: keywords" "dscp vip dev rip clear-dscp nonlocal add-vip vip-device" \
	"$(complete_line "add-mapping ")"
check_eq "completion: keywords not yet given, past an IPv6 address" \
	"dev rip clear-dscp nonlocal add-vip vip-device" \
	"$(complete_line "replace-mapping dscp 10 vip 2001:db8::1 ")"
check_eq "completion: DSCP class names" "AF41 AF42 AF43" \
	"$(complete_line "add-mapping dscp AF4")"
check_eq "completion: DSCP class names in lower case" "cs1 cs2 cs3 cs4 cs5 cs6 cs7" \
	"$(complete_line "show dscp cs")"
check_eq "completion: del-mapping's option" "del-vip" \
	"$(complete_line "del-mapping dscp 10 ")"
check_eq "completion: nothing after a complete del-mapping" "" \
	"$(complete_line "del-mapping dscp 10 del-vip ")"
check_eq "completion: help completes commands" "set-mapping show save stats" \
	"$(complete_line "help s")"
check_eq "completion: version" "version" "$(complete_line "vers")"
check_eq "completion: nothing after version" "" "$(complete_line "version ")"
check_eq "completion: options" "--json" "$(complete_line "--js")"
devices=" $(complete_line "add-mapping dev ") "
if [[ "$devices" == *" lo "* ]]; then
	pass "completion: dev offers interface names"
else
	fail "completion: dev offers interface names" "got: $devices"
fi
if [ -n "$NETNS" ]; then
	check_eq "completion: -n offers namespaces" "$NETNS" \
		"$(complete_line "-n l3dsrctl-test-$$")"
fi

echo "1..$count"
echo "# $((count - failed)) passed, $failed failed"
[ "$failed" = 0 ]
