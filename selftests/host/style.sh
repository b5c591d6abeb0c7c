#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side checks of the sources, as TAP: the module builds warning-free
# with -Werror and passes sparse against every kernel of the matrix, the C
# sources pass the kernel's checkpatch.pl (from Debian's linux-source), the
# tool's cppcheck, and every shell script shellcheck.
# Nothing here loads a module; the VM suite does that.
#
#   style.sh                 Debian's four kernels, and checkpatch
#   style.sh --kernels S...  the build and sparse for these series only
#                            (check.sh: the debug kernel, once it is built)

set -u
set -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly REPO
CACHE=${L3DSR_VM_CACHE:-$REPO/.cache/vm}
readonly CACHE
readonly VM="$REPO/selftests/vm/vm.sh"
SERIES=(6.1 6.12 6.1-rt 6.12-rt)
KERNELS_ONLY=0
if [ "${1:-}" = --kernels ]; then
	shift
	SERIES=("$@")
	KERNELS_ONLY=1
fi
readonly SERIES KERNELS_ONLY

# The tree the module builds against: a headers package, or the debug
# kernel's own build tree.
kernel_tree()
{
	local dir

	if [ "$1" = debug ]; then
		dir=$("$REPO/selftests/vm/kernel.sh" dir) && echo "$dir/build"
	else
		echo "/usr/src/linux-headers-$2"
	fi
}

number=0
failed=0

result()
{
	local ok=$1 text=$2

	number=$((number + 1))
	if [ "$ok" = 0 ]; then
		echo "ok $number - $text"
	else
		echo "not ok $number - $text"
		failed=$((failed + 1))
	fi
}

# show FILE: the first lines of a failure's output, as TAP comments
show()
{
	sed -n '1,40s/^/# /p' "$1"
}

need_packages()
{
	local missing=() p

	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "# installing ${missing[*]}"
	{ apt-get install -y -qq "${missing[@]}" ||
	  { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; }; } \
		>/dev/null 2>&1
}

# The newest linux-source-X.Y Debian has; its checkpatch.pl is the reference.
checkpatch_path()
{
	local pkg tarball dir

	pkg=$(apt-cache search --names-only '^linux-source-[0-9.]+$' 2>/dev/null |
	      cut -d' ' -f1 | sort -V | tail -n 1)
	[ -n "$pkg" ] || { apt-get update -qq >/dev/null 2>&1;
		pkg=$(apt-cache search --names-only '^linux-source-[0-9.]+$' |
		      cut -d' ' -f1 | sort -V | tail -n 1); }
	[ -n "$pkg" ] || return 1
	dir="$CACHE/$pkg"
	if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
		need_packages "$pkg" || return 1
		tarball=$(find /usr/src -maxdepth 1 -name "$pkg.tar.*" | head -n 1)
		[ -n "$tarball" ] || return 1
		mkdir -p "$dir" &&
		tar -xaf "$tarball" -C "$dir" --strip-components=1 \
			--wildcards '*/scripts/checkpatch.pl' \
			'*/scripts/spelling.txt' \
			'*/scripts/const_structs.checkpatch' || return 1
	fi
	echo "$dir/scripts/checkpatch.pl"
}

echo "TAP version 13"
need_packages sparse make gcc || echo "# could not install sparse"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

for series in "${SERIES[@]}"; do
	kver=$("$VM" kver "$series" 2>"$log") && "$VM" fetch "$series" >"$log" 2>&1
	kdir=$(kernel_tree "$series" "$kver")
	if [ -z "$kver" ] || [ ! -d "$kdir" ]; then
		show "$log"
		result 1 "module builds with -Werror for $series (headers)"
		result 1 "sparse is clean for $series"
		continue
	fi
	build="$CACHE/style-build-$kver"
	rm -rf "$build" && mkdir -p "$build" &&
		cp -r "$REPO/Kbuild" "$REPO/VERSION" "$REPO/kmod" "$build/"
	make -s -C "$kdir" M="$build" \
		L3DSR_WERROR=y modules >"$log" 2>&1
	rc=$?
	[ $rc = 0 ] || show "$log"
	result $rc "module builds with -Werror for $kver"

	# C=2 runs sparse on every file, built or not
	make -s -C "$kdir" M="$build" C=2 \
		CHECKFLAGS="-Wsparse-error" modules >"$log" 2>&1
	rc=$?
	if grep -qE 'warning:|error:' "$log"; then
		rc=1
	fi
	[ $rc = 0 ] || show "$log"
	result $rc "sparse is clean for $kver"
done

# The module is held to --strict. Userspace (tools/ and the selftests'
# helpers) is held to checkpatch's default level, less the rules that are
# kernel-only: userspace has no kernel helpers or types (ARRAY_SIZE, BIT,
# __aligned, __printf, strscpy, __noreturn, u8), keeps its typedefs for
# libmnl callbacks, spells inttypes.h macros in capitals, needs volatile for
# flags set by signal handlers and splits long usage strings over lines as
# they print.
readonly USERSPACE_IGNORE=PREFER_DEFINED_ATTRIBUTE_MACRO,ARRAY_SIZE,BIT_MACRO,STRCPY,NEW_TYPEDEFS,CAMELCASE,SPLIT_STRING,STRING_FRAGMENTS,EMBEDDED_FUNCTION_NAME,PREFER_KERNEL_TYPES,VOLATILE

if [ "$KERNELS_ONLY" = 1 ]; then
	:
elif checkpatch=$(checkpatch_path); then
	cd "$REPO" || exit 1
	for group in kmod tools selftests; do
		mapfile -t files < <(git ls-files "$group" | grep -E '\.[ch]$')
		[ ${#files[@]} -gt 0 ] || continue
		ignore=SPDX_LICENSE_TAG,FILE_PATH_CHANGES
		level=--strict
		if [ "$group" != kmod ]; then
			ignore="$ignore,$USERSPACE_IGNORE"
			level=
		fi
		# shellcheck disable=SC2086 # $level is one word or none
		"$checkpatch" --no-tree $level --terse --show-types \
			--ignore "$ignore" -f "${files[@]}" >"$log" 2>&1
		if grep -qE '(ERROR|WARNING|CHECK):' "$log"; then
			grep -E '(ERROR|WARNING|CHECK):' "$log" | sed -n '1,40s/^/# /p'
			result 1 "checkpatch ${level:+$level }is clean for $group/"
		else
			result 0 "checkpatch ${level:+$level }is clean for $group/"
		fi
	done
else
	result 1 "checkpatch.pl from Debian's linux-source is available"
fi

# Every shell script of the project, by name or by its #! line, and the
# tool's C through cppcheck (make -C tools lint, which has the flags).
shell_scripts()
{
	local f

	git -C "$REPO" ls-files | while read -r f; do
		case $f in
		*.sh | *.bash) echo "$f" ;;
		*) head -n 1 "$REPO/$f" 2>/dev/null | grep -qE '^#!.*(bash|/sh)' &&
			echo "$f" ;;
		esac
	done
}

if [ "$KERNELS_ONLY" = 0 ]; then
	need_packages shellcheck cppcheck libmnl-dev pkg-config ||
		echo "# could not install shellcheck or cppcheck"
	mapfile -t files < <(shell_scripts)
	(cd "$REPO" && shellcheck -f gcc -x -P SCRIPTDIR "${files[@]}") >"$log" 2>&1
	rc=$?
	[ $rc = 0 ] || show "$log"
	result $rc "shellcheck is clean for the ${#files[@]} shell scripts"
	make -s -C "$REPO/tools" lint >"$log" 2>&1
	rc=$?
	[ $rc = 0 ] || show "$log"
	result $rc "cppcheck and shellcheck are clean for tools/ (make -C tools lint)"
fi

echo "1..$number"
[ "$failed" = 0 ]
