#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module and the tool of an earlier commit of this repository, for
# l3dsr_skew.sh, which runs the current tool against the old module and the
# old tool against the current module. Built on the host (the guest has no
# compiler), from `git archive` of the commit:
#
#   selftests/skew/l3dsrctl-old    the old l3dsrctl; selftests/ is copied
#                                  into the guest, so it is there as
#                                  /l3dsr/selftests/skew/l3dsrctl-old
#   CACHE/l3dsr_old/               Kbuild and sources of the old module as
#                                  l3dsr_old.ko, for the VM harness to build
#                                  per kernel and install beside l3dsr.ko:
#       L3DSR_VM_EXTRA_KBUILD=CACHE/l3dsr_old selftests/vm/vm.sh run ...
#
# The old module keeps the family name "l3dsr", so only one of the two can
# be loaded at a time, which is what the test wants; it loses the family's
# module alias (the one line changed in its sources), so that resolving the
# family never loads it in place of l3dsr.ko. CACHE is L3DSR_SKEW_CACHE,
# default <repo>/.cache/skew.
#
#   selftests/skew/build.sh [COMMIT]     default: SKEW_COMMIT below
#   selftests/skew/build.sh --dir        print the module directory
#
# Nothing is rebuilt when the artifacts of COMMIT are there. Outside a git
# checkout (a release tarball) there is no earlier commit: it says so and
# exits 0, and l3dsr_skew.sh skips.
# shellcheck disable=SC2015 # "A && B || die": die when either fails

set -u
set -o pipefail

readonly PROG=skew/build.sh
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SELF_DIR
REPO=$(cd "$SELF_DIR/../.." && pwd)
readonly REPO
readonly CACHE=${L3DSR_SKEW_CACHE:-$REPO/.cache/skew}
# The last commit of netlink family version 1.
readonly SKEW_COMMIT=10dde43
readonly NAME=l3dsr_old
readonly MODULE_DIR=$CACHE/$NAME
readonly TOOL=$SELF_DIR/l3dsrctl-old

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { msg "$*"; exit 1; }

if [ "${1:-}" = --dir ]; then
	printf '%s\n' "$MODULE_DIR"
	exit 0
fi
commit=${1:-$SKEW_COMMIT}

if ! git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
	msg "not a git checkout: no old module or tool to build (l3dsr_skew.sh will skip)"
	exit 0
fi
full=$(git -C "$REPO" rev-parse --verify -q "$commit^{commit}") ||
	die "no commit $commit in $REPO"

if [ -x "$TOOL" ] && [ "$(cat "$TOOL.commit" 2>/dev/null)" = "$full" ] &&
	[ "$(cat "$MODULE_DIR/.commit" 2>/dev/null)" = "$full" ]; then
	exit 0
fi

mkdir -p "$CACHE" || die "cannot create $CACHE"
exec 9>"$CACHE/.lock"
flock 9 || die "cannot lock $CACHE/.lock"

src=$CACHE/src-$full
if [ ! -f "$src/.complete" ]; then
	rm -rf "$src"
	mkdir -p "$src" &&
		git -C "$REPO" archive "$full" Kbuild VERSION kmod tools |
		tar -C "$src" -xf - ||
		die "cannot unpack $commit"
	touch "$src/.complete"
fi

# The tool, as that commit built it.
make -s -C "$src/tools" l3dsrctl >&2 || die "the tool of $commit does not build"
cp "$src/tools/l3dsrctl" "$TOOL.tmp" && mv "$TOOL.tmp" "$TOOL" &&
	printf '%s\n' "$full" >"$TOOL.commit" ||
	die "cannot install $TOOL"

# The module under another name: the object list of its own Kbuild,
# renamed, and the alias taken away.
grep -q '^obj-m := l3dsr\.o$' "$src/Kbuild" ||
	die "$commit's Kbuild does not build l3dsr.o the way this script knows"
rm -rf "$MODULE_DIR.tmp"
mkdir -p "$MODULE_DIR.tmp" && cp -r "$src/kmod" "$MODULE_DIR.tmp/" ||
	die "cannot lay out $MODULE_DIR"
printf '%s+%s\n' "$(cat "$src/VERSION")" "${full:0:7}" >"$MODULE_DIR.tmp/VERSION"
{
	echo "# l3dsr.ko of commit ${full:0:7} as $NAME.ko, for l3dsr_skew.sh"
	echo "# (written by selftests/skew/build.sh)."
	sed -e "s/^obj-m := l3dsr\\.o\$/obj-m := $NAME.o/" \
		-e "s/^l3dsr-y\\b/$NAME-y/" "$src/Kbuild"
	echo "# Old code against newer headers: a warning must not stop the test."
	# shellcheck disable=SC2016 # make's $(...), not the shell's
	echo 'ccflags-y := $(filter-out -Werror,$(ccflags-y))'
} >"$MODULE_DIR.tmp/Kbuild"
# Loaded by hand only: without the family's alias, resolving the family
# never loads it in place of l3dsr.ko.
grep -l '^MODULE_ALIAS_GENL_FAMILY(' "$MODULE_DIR.tmp"/kmod/*.c >/dev/null ||
	die "$commit's module declares no family alias where this script looks"
sed -i '/^MODULE_ALIAS_GENL_FAMILY(/d' "$MODULE_DIR.tmp"/kmod/*.c ||
	die "cannot take the alias out of $MODULE_DIR"
printf '%s\n' "$full" >"$MODULE_DIR.tmp/.commit"
rm -rf "$MODULE_DIR" && mv "$MODULE_DIR.tmp" "$MODULE_DIR" ||
	die "cannot install $MODULE_DIR"
msg "built l3dsrctl-old and $NAME of ${full:0:7} (module: L3DSR_VM_EXTRA_KBUILD=$MODULE_DIR)"
