#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the debug kernel of the VM matrix (series "debug") from Debian's
# linux-source-6.12, the kselftest way: tinyconfig, kvm_guest.config, then
# the fragments in the repository (selftests/vm/guest.config,
# selftests/config, selftests/vm/debug.config), every option of which must
# end up set as written. What is kept, outside the repository:
#
#   DIR/root/boot/vmlinuz-KVER     the kernel
#   DIR/root/lib/modules/KVER/     modules.builtin and the rest of the index,
#                                  for modprobe and depmod (nothing is a module)
#   DIR/build/                     the tree out-of-tree modules build against
#                                  (make -C DIR/build M=...)
#   DIR/config, DIR/build.log, DIR/info
#   DIR/signing/                   two keys made the way DKMS makes its MOK:
#                                  mok.key, mok.pub (DER) the kernel trusts
#                                  (CONFIG_SYSTEM_TRUSTED_KEYS), other.key,
#                                  other.pub it does not; vm.sh signs
#                                  l3dsr.ko with the first
#
# DIR is L3DSR_KERNEL_CACHE (default /var/cache/l3dsr/debug-kernel) / KEY,
# and KEY names the source package's version and a hash of the fragments,
# this script and the compiler: a machine that built a kernel of that KEY
# once never builds it again.
#
#   kernel.sh release      the kernel release, e.g. 6.12.117-l3dsr-debug
#   kernel.sh dir          DIR, built or not
#   kernel.sh packages     the Debian packages the build needs
#   kernel.sh build        build unless DIR is complete; print DIR
#
# Exit status: 0, 1 on failure, 2 for a usage error, 4 when the source
# package is not to be had here (the lane is skipped, not failed).

set -u
set -o pipefail

readonly PROG=kernel.sh
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SELF_DIR
REPO=$(cd "$SELF_DIR/../.." && pwd)
readonly REPO
readonly KSFT_SKIP=4

readonly SOURCE_PACKAGE=linux-source-6.12
readonly LOCALVERSION=-l3dsr-debug
readonly CACHE_ROOT=${L3DSR_KERNEL_CACHE:-/var/cache/l3dsr/debug-kernel}
readonly JOBS=${L3DSR_KERNEL_JOBS:-$(nproc)}
# In the order they are merged; later ones win.
readonly FRAGMENTS=(
	"$SELF_DIR/guest.config"
	"$REPO/selftests/config"
	"$SELF_DIR/debug.config"
)
# The build's own tools; gcc, make and the rest come with the harness.
readonly BUILD_PACKAGES="$SOURCE_PACKAGE xz-utils bc bison flex libelf-dev libssl-dev openssl"

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { msg "$*"; exit 1; }
skip() { msg "$*"; exit "$KSFT_SKIP"; }

usage() {
	echo "usage: $PROG release|dir|packages|build" >&2
	exit 2
}

# The version of the source package: the installed one, else the one apt
# would install.
source_version() {
	local v

	v=$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' \
		"$SOURCE_PACKAGE" 2>/dev/null | sed -n 's/^ii  *//p')
	if [ -z "$v" ]; then
		v=$(apt-cache policy "$SOURCE_PACKAGE" 2>/dev/null |
			sed -n 's/^ *Candidate: *//p')
		[ "$v" = "(none)" ] && v=
	fi
	[ -n "$v" ] || return 1
	printf '%s\n' "$v"
}

# 6.12.117 from 6.12.117-1~deb12u1: the release the tree's Makefile gives.
upstream_version() {
	local v=${1#*:}

	printf '%s\n' "${v%%-*}"
}

key() {
	local v hash

	v=$(source_version) ||
		skip "apt knows no $SOURCE_PACKAGE: no debug kernel can be built here"
	hash=$({
		printf '%s\n' "$v"
		gcc --version 2>/dev/null | head -n 1
		sha256sum "${BASH_SOURCE[0]}" "${FRAGMENTS[@]}" | cut -d ' ' -f 1
	} | sha256sum | cut -c 1-16)
	printf '%s-%s\n' "$(upstream_version "$v")" "$hash"
}

release() {
	local v

	v=$(source_version) ||
		skip "apt knows no $SOURCE_PACKAGE: no debug kernel can be built here"
	printf '%s%s\n' "$(upstream_version "$v")" "$LOCALVERSION"
}

# Every option the fragments set, as "NAME VALUE" (VALUE n for "is not set").
fragment_options() {
	sed -n -e 's/^CONFIG_\([A-Za-z0-9_]*\)=\(.*\)$/\1 \2/p' \
		-e 's/^# CONFIG_\([A-Za-z0-9_]*\) is not set$/\1 n/p' "$1"
}

# merge_config.sh and olddefconfig drop, without failing, every option whose
# dependencies are not met. Compare each fragment with the resulting .config:
# an option the kernel has and did not get is an error; one the kernel does
# not have at all is an error in our own fragments and a note in
# selftests/config, which serves every kernel of the matrix.
verify_config() {
	local src=$1 config=$2 frag name want got bad=0
	local symbols

	symbols=$(mktemp) || die "cannot create a temporary file"
	find "$src" -name 'Kconfig*' -type f -print0 |
		xargs -0 sed -n 's/^[[:space:]]*\(menu\)\{0,1\}config[[:space:]]\{1,\}\([A-Za-z0-9_]\{1,\}\).*/\2/p' |
		sort -u >"$symbols"
	for frag in "${FRAGMENTS[@]}"; do
		while read -r name want; do
			if ! grep -qx "$name" "$symbols"; then
				if [ "$frag" = "$REPO/selftests/config" ]; then
					msg "note: this kernel has no CONFIG_$name (${frag#"$REPO"/})"
					continue
				fi
				msg "CONFIG_$name (${frag#"$REPO"/}) is not an option of this kernel"
				bad=1
				continue
			fi
			got=$(sed -n "s/^CONFIG_$name=//p" "$config")
			[ -n "$got" ] || got=n
			if [ "$got" != "$want" ]; then
				[ "$got" = n ] && got="not set"
				msg "CONFIG_$name=$want (${frag#"$REPO"/}) ended up $got: a dependency is missing"
				bad=1
			fi
		done < <(fragment_options "$frag")
	done
	rm -f "$symbols"
	[ "$bad" = 0 ] || die "the configuration is not what the fragments ask for"
}

# signing_key DIR NAME: a key pair as Debian's dkms (3.0.10) makes the MOK it
# signs modules with: NAME.key (PEM) and NAME.pub (DER), plus NAME.pem, the
# certificate in the form CONFIG_SYSTEM_TRUSTED_KEYS reads.
signing_key() {
	local dir=$1 name=$2

	openssl req -new -x509 -nodes -days 36500 \
		-subj "/CN=DKMS module signing key ($name)" -newkey rsa:2048 \
		-keyout "$dir/$name.key" -outform DER -out "$dir/$name.pub" \
		>/dev/null 2>&1 &&
		openssl x509 -inform DER -in "$dir/$name.pub" -out "$dir/$name.pem"
}

# kmake ARGS...: make in the source tree, objects in $OBJ.
kmake() {
	make -C "$SRC" O="$OBJ" "$@"
}

build() {
	local dir=$1 kver=$2 tmp t0 t1 tarball log

	tarball=$(find /usr/src -maxdepth 1 -name "$SOURCE_PACKAGE.tar.*" | head -n 1)
	[ -n "$tarball" ] ||
		die "no /usr/src/$SOURCE_PACKAGE.tar.*: install $SOURCE_PACKAGE (vm.sh fetch debug does)"

	t0=$(date +%s)
	# Left by a build that was interrupted.
	rm -rf "$dir".tmp.*
	tmp=$(mktemp -d "$dir.tmp.XXXXXX") || die "cannot create a directory beside $dir"
	SRC=$tmp/src OBJ=$tmp/obj
	log=$tmp/build.log
	mkdir -p "$SRC" "$OBJ" || die "cannot create $tmp"

	msg "unpacking $(basename "$tarball")"
	tar -xf "$tarball" -C "$SRC" --strip-components=1 ||
		die "cannot unpack $tarball"

	mkdir -p "$tmp/signing" || die "cannot create $tmp/signing"
	signing_key "$tmp/signing" mok || die "openssl cannot make the signing key"
	signing_key "$tmp/signing" other ||
		die "openssl cannot make the untrusted signing key"

	msg "configuring: tinyconfig, kvm_guest.config, $(printf '%s\n' "${FRAGMENTS[@]#"$REPO"/}" | paste -sd ' ')"
	# The build's own settings: its release, and the key it trusts.
	{
		printf 'CONFIG_LOCALVERSION="%s"\n' "$LOCALVERSION"
		printf '# CONFIG_LOCALVERSION_AUTO is not set\n'
		printf 'CONFIG_SYSTEM_TRUSTED_KEYS="%s"\n' "$tmp/signing/mok.pem"
	} >"$tmp/release.config"
	{
		kmake tinyconfig &&
		"$SRC/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" \
			"$SRC/kernel/configs/kvm_guest.config" "${FRAGMENTS[@]}" \
			"$tmp/release.config" &&
		kmake olddefconfig
	} >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "configuring failed"; }
	verify_config "$SRC" "$OBJ/.config"
	grep -qx "CONFIG_SYSTEM_TRUSTED_KEYS=\"$tmp/signing/mok.pem\"" "$OBJ/.config" ||
		die "CONFIG_SYSTEM_TRUSTED_KEYS did not end up set: the kernel would not trust the signing key"

	msg "building $kver with $JOBS jobs (log: $log)"
	if ! kmake -j"$JOBS" all >>"$log" 2>&1; then
		grep -E 'error|Error' "$log" | tail -n 20 >&2
		die "the kernel does not build; the log is $log"
	fi
	# Known once the build has run: vm.sh names the kernel before it exists.
	[ "$(cat "$OBJ/include/config/kernel.release")" = "$kver" ] ||
		die "the tree built kernel release $(cat "$OBJ/include/config/kernel.release"), not $kver"

	mkdir -p "$tmp/root/boot" || die "cannot create $tmp/root"
	cp "$OBJ/$(kmake -s image_name)" "$tmp/root/boot/vmlinuz-$kver" ||
		die "cannot copy the kernel image"
	kmake INSTALL_MOD_PATH="$tmp/root" modules_install >>"$log" 2>&1 ||
		die "modules_install failed; the log is $log"
	rm -f "$tmp/root/lib/modules/$kver/build" "$tmp/root/lib/modules/$kver/source"
	[ -f "$tmp/root/lib/modules/$kver/modules.builtin" ] ||
		die "modules_install left no modules.builtin"
	# What out-of-tree modules build against, as the kernel packages it
	# for its own linux-headers .deb.
	kmake run-command KBUILD_RUN_COMMAND="$SRC/scripts/package/install-extmod-build $tmp/build" \
		>>"$log" 2>&1 || die "cannot lay out the module build tree; the log is $log"
	cp "$OBJ/.config" "$tmp/build/.config" || die "cannot copy .config"
	cp "$OBJ/.config" "$tmp/config" || die "cannot copy .config"

	rm -rf "$SRC" "$OBJ"
	t1=$(date +%s)
	{
		printf 'release %s\n' "$kver"
		printf 'source %s %s\n' "$SOURCE_PACKAGE" "$(source_version)"
		printf 'compiler %s\n' "$(gcc --version | head -n 1)"
		printf 'jobs %s\n' "$JOBS"
		printf 'seconds %s\n' "$((t1 - t0))"
	} >"$tmp/info"
	mv "$tmp" "$dir" || die "cannot move the build to $dir"
	msg "built $kver in $((t1 - t0)) s: $dir"
}

main() {
	[ $# -eq 1 ] || usage
	case $1 in
	release)
		release
		;;
	dir)
		printf '%s/%s\n' "$CACHE_ROOT" "$(key)"
		;;
	packages)
		printf '%s\n' "$BUILD_PACKAGES"
		;;
	build)
		local dir kver

		dir=$CACHE_ROOT/$(key) || exit
		kver=$(release) || exit
		mkdir -p "$CACHE_ROOT" || die "cannot create $CACHE_ROOT (L3DSR_KERNEL_CACHE names another place)"
		(
			flock 9 || die "cannot lock $CACHE_ROOT/.build.lock"
			if [ -d "$dir" ]; then
				msg "$kver is in the cache: $dir"
			else
				build "$dir" "$kver"
			fi
		) 9>"$CACHE_ROOT/.build.lock" || exit
		printf '%s\n' "$dir"
		;;
	*)
		usage
		;;
	esac
}

main "$@"
