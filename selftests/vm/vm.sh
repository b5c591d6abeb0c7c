#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one of Debian's kernels, or the debug kernel the project builds, in
# QEMU (software emulation, no NIC) with the l3dsr module built for it, and
# run one command in the guest.
#
#   vm.sh kver SERIES                      print the kernel release of SERIES
#   vm.sh install SERIES                   install the packages SERIES needs
#   vm.sh fetch SERIES                     install them, unpack (debug: build)
#                                          the kernel into the cache
#   vm.sh run SERIES [--timeout SECS] -- CMD [ARGS...]
#
# SERIES is 6.1 or 6.12 (Debian's cloud kernels), 6.1-rt or 6.12-rt (its
# PREEMPT_RT kernels) or debug (built by kernel.sh). See selftests/vm/README.
# Exit 4 when this machine cannot have the kernel of SERIES.

set -u
set -o pipefail

readonly PROG=vm.sh
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SELF_DIR
REPO=$(cd "$SELF_DIR/../.." && pwd)
readonly REPO
CACHE=${L3DSR_VM_CACHE:-$REPO/.cache/vm}
readonly CACHE
readonly DEFAULT_TIMEOUT=${L3DSR_VM_TIMEOUT:-4200}
readonly KERNEL_SH=$SELF_DIR/kernel.sh
readonly SERIES_LIST='6.1 6.12 6.1-rt 6.12-rt debug'
readonly KSFT_SKIP=4

# Used when selftests/guest-programs or selftests/guest-modules is absent.
readonly DEFAULT_PROGRAMS='bash ip nft ethtool tc ss nstat jq socat tcpdump sha256sum timeout'
readonly DEFAULT_MODULES='veth nf_tables nft_ct nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6 pktgen'

# Host packages the harness itself uses; guest programs add their own.
readonly HOST_PACKAGES='qemu-system-x86 busybox-static cpio kmod iproute2 bash coreutils util-linux make gcc libmnl-dev libnftables-dev libjansson-dev pkg-config'

# Where a guest program comes from when it is not on the host yet; a program
# not listed here is assumed to live in the package of the same name.
declare -A PROGRAM_PACKAGE=(
	[ip]=iproute2 [tc]=iproute2 [ss]=iproute2 [nstat]=iproute2
	[bridge]=iproute2 [nft]=nftables [ping]=iputils-ping
	[sha256sum]=coreutils [timeout]=coreutils [stdbuf]=coreutils
	[setpriv]=util-linux [unshare]=util-linux [nsenter]=util-linux
	[python3]=python3 [ncat]=ncat [nc]=netcat-openbsd
)

APT_UPDATED=0

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { msg "$*"; exit 1; }
skip() { msg "$*"; exit "$KSFT_SKIP"; }

# Seconds between two `date +%s.%N` stamps, with $3 decimals.
elapsed() {
	awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { printf "%.*f", d, b - a }'
}

usage() {
	cat >&2 <<EOF
usage: $PROG kver SERIES
       $PROG install SERIES
       $PROG fetch SERIES
       $PROG run SERIES [--timeout SECS] -- CMD [ARGS...]
SERIES: ${SERIES_LIST// /, }
EOF
	exit 2
}

apt_update_once() {
	[ "$APT_UPDATED" = 1 ] && return 0
	APT_UPDATED=1
	msg "refreshing the package lists (apt-get update)"
	apt-get update -qq >&2 || die "apt-get update failed"
}

# apt and dpkg take their own lock and fail rather than wait; two runs for
# different kernels fetch at the same time, so take turns.
with_apt_lock() {
	mkdir -p "$CACHE" || die "cannot create $CACHE"
	(
		flock 9 || die "cannot lock $CACHE/.apt.lock"
		"$@"
	) 9>"$CACHE/.apt.lock"
}

# The kernel of 6.1 is the one the flavour's metapackage points at today; of
# 6.12, the newest 6.12 of the flavour apt knows; of debug, what kernel.sh
# builds from the linux-source package apt has.
resolve_kver_once() {
	local flavour=cloud

	case $1 in
	*-rt) flavour=rt ;;
	esac
	case $1 in
	6.1 | 6.1-rt)
		apt-cache depends "linux-image-$flavour-amd64" 2>/dev/null |
			sed -n 's/^ *Depends: linux-image-\([^ <>]*\)$/\1/p' |
			head -n 1
		;;
	6.12 | 6.12-rt)
		apt-cache search --names-only \
			"^linux-image-6\\.12\\.[0-9]+\\+deb12-$flavour-amd64\$" \
			2>/dev/null |
			sed -n 's/^linux-image-\([^ ]*\) .*/\1/p' | sort -V |
			tail -n 1
		;;
	debug)
		"$KERNEL_SH" release 2>/dev/null
		;;
	esac
}

check_series() {
	case " $SERIES_LIST " in
	*" $1 "*) ;;
	*)
		msg "unknown kernel series '$1' (expected ${SERIES_LIST// /, })"
		usage
		;;
	esac
}

resolve_kver() {
	local series=$1 kver

	check_series "$series"
	kver=$(resolve_kver_once "$series")
	if [ -z "$kver" ]; then
		apt_update_once
		kver=$(resolve_kver_once "$series")
	fi
	if [ -z "$kver" ]; then
		[ "$series" = debug ] &&
			skip "apt knows no $("$KERNEL_SH" packages | cut -d ' ' -f 1): the debug kernel cannot be built here"
		skip "apt knows no kernel of series $series"
	fi
	printf '%s\n' "$kver"
}

# Where the kernel of SERIES (release KVER) lives, set once per run:
#   IMG       a root holding boot/vmlinuz-KVER and lib/modules/KVER
#   KDIR      the tree modules build against
#   KDIR_ID   what changes when KDIR does (a package version, a build key)
# Debian's kernels are unpacked into the cache and built against their
# headers package; the debug kernel is kernel.sh's.
IMG=
KDIR=
KDIR_ID=
locate_kernel() {
	local series=$1 kver=$2 dir

	if [ "$series" = debug ]; then
		dir=$("$KERNEL_SH" dir) || exit
		IMG=$dir/root KDIR=$dir/build KDIR_ID=$(basename "$dir")
	else
		IMG=$CACHE/$kver/root KDIR=/usr/src/linux-headers-$kver
		KDIR_ID=$(dpkg-query -W -f='${Version}' "linux-headers-$kver" 2>/dev/null)
	fi
}

package_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

KLOG_BAD=

# klog_patterns FILE: the expressions in FILE, one a line, as one extended
# regular expression; comments and blank lines left out. run_tests.sh reads
# the same file the same way.
klog_patterns() {
	local line expr=

	while IFS= read -r line; do
		case $line in
		'' | '#'*) continue ;;
		esac
		expr+=${expr:+|}$line
	done <"$1" || return 1
	[ -n "$expr" ] && printf '%s\n' "$expr"
}

# Lines of a list file without comments and blanks, or the default list.
read_list() {
	local file=$1 default=$2

	if [ -f "$file" ]; then
		sed -e 's/#.*//' -e 's/[[:space:]]\+/\n/g' "$file" | grep -v '^$'
	else
		# shellcheck disable=SC2086 # a blank-separated list
		printf '%s\n' $default
	fi
}

# The words of a blank-separated list, one a line; nothing for an empty one.
words() {
	local -a list=()

	read -r -a list <<<"$1"
	[ ${#list[@]} -eq 0 ] || printf '%s\n' "${list[@]}"
}

guest_programs() {
	read_list "$REPO/selftests/guest-programs" "$DEFAULT_PROGRAMS"
}

# selftests/guest-trees: "DIR PACKAGE" lines, directories copied into the
# guest as they are (Python's standard library, say), and "-DIR" lines,
# parts of them left out.
guest_trees() {
	[ -f "$REPO/selftests/guest-trees" ] || return 0
	sed -e 's/#.*//' "$REPO/selftests/guest-trees" | awk 'NF'
}

stage_trees() {
	local root=$1 dir pkg excludes=()

	while read -r dir pkg; do
		[ "${dir#-}" != "$dir" ] && excludes+=("--exclude=${dir#-/}")
	done < <(guest_trees)
	while read -r dir pkg; do
		[ "${dir#-}" = "$dir" ] || continue
		[ -d "$dir" ] || die "guest tree $dir is not on the host (package $pkg; run: $PROG fetch)"
		tar -C / -cf - "${excludes[@]}" "${dir#/}" | tar -C "$root" -xf - ||
			die "cannot copy $dir into the guest"
	done < <(guest_trees)
}

guest_modules() {
	read_list "$REPO/selftests/guest-modules" "$DEFAULT_MODULES"
	words "${L3DSR_VM_EXTRA_GUEST_MODULES:-}"
}

host_which() {
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		command -v "$1"
}

install_missing_packages() {
	local series=$1 kver=$2 pkg prog missing=() wanted_host=() wanted=()

	if [ "$series" = debug ]; then
		read -r -a wanted <<<"$("$KERNEL_SH" packages)"
	else
		wanted=("linux-headers-$kver")
	fi
	read -r -a wanted_host <<<"$HOST_PACKAGES"
	wanted+=("${wanted_host[@]}")
	while read -r prog; do
		host_which "$prog" >/dev/null && continue
		wanted+=("${PROGRAM_PACKAGE[$prog]:-$prog}")
	done < <(guest_programs)
	while read -r prog pkg; do
		[ "${prog#-}" = "$prog" ] && [ ! -d "$prog" ] && wanted+=("$pkg")
	done < <(guest_trees)

	for pkg in "${wanted[@]}"; do
		package_installed "$pkg" || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0

	for pkg in "${missing[@]}"; do
		if ! apt-cache show "$pkg" >/dev/null 2>&1; then
			apt_update_once
			break
		fi
	done
	msg "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

# The image is unpacked, never installed: installing runs update-initramfs,
# which is slow and of no use to a VM that boots our own initramfs.
unpack_image() {
	local kver=$1 dir=$CACHE/$1 tmp deb

	[ -f "$dir/.unpacked" ] && return 0
	mkdir -p "$dir" || die "cannot create $dir"
	# Left by an unpack that was interrupted.
	rm -rf "$dir"/unpack.*
	tmp=$(mktemp -d "$dir/unpack.XXXXXX") || die "cannot create a temporary directory in $dir"
	if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root \
		"linux-image-$kver" >&2); then
		apt_update_once
		(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root \
			"linux-image-$kver" >&2) ||
			die "cannot download linux-image-$kver"
	fi
	deb=$(find "$tmp" -maxdepth 1 -name '*.deb' | head -n 1)
	[ -n "$deb" ] || die "apt-get download left no .deb for linux-image-$kver"
	dpkg -x "$deb" "$tmp/root" || die "cannot unpack $deb"
	rm -f "$deb"

	# modprobe -d ROOT looks in ROOT/lib/modules whatever the package used.
	if [ ! -e "$tmp/root/lib/modules" ] && [ -d "$tmp/root/usr/lib/modules" ]; then
		ln -s usr/lib "$tmp/root/lib"
	fi
	[ -f "$tmp/root/boot/vmlinuz-$kver" ] ||
		die "linux-image-$kver holds no boot/vmlinuz-$kver"
	[ -d "$tmp/root/lib/modules/$kver/kernel" ] ||
		die "linux-image-$kver holds no lib/modules/$kver/kernel"
	# Debian generates the module index at install time; we do it here.
	depmod -b "$tmp/root" "$kver" || die "depmod failed for the unpacked $kver"

	rm -rf "$dir/root"
	mv "$tmp/root" "$dir/root" || die "cannot move the unpacked image into $dir"
	rmdir "$tmp"
	touch "$dir/.unpacked"
}

# Debian's kernels are unpacked; the debug kernel is built, unless the cache
# has it, outside the apt lock (it takes minutes).
fetch() {
	local series=$1 kver=$2

	with_apt_lock install_missing_packages "$series" "$kver" || exit 1
	if [ "$series" = debug ]; then
		"$KERNEL_SH" build >/dev/null || exit
	else
		with_apt_lock unpack_image "$kver" || exit 1
	fi
	locate_kernel "$series" "$kver"
}

# What the module is built from, and against which headers: the same
# fingerprint means the last build still holds.
module_fingerprint() {
	local src=$1

	{
		printf '%s\n' "$KDIR" "$KDIR_ID"
		(cd "$src" && find Kbuild VERSION kmod -type f -print0 2>/dev/null |
			LC_ALL=C sort -z | xargs -0 sha256sum)
	} | sha256sum | cut -d ' ' -f 1
}

# Build the module in a directory of its own per kernel, so two kernels can
# build at once without sharing objects.
build_module() {
	local kver=$1 src=${L3DSR_VM_MODULE_SRC:-$REPO}
	local bdir=$CACHE/build-$kver kdir=$KDIR
	local fingerprint t0

	[ -f "$src/Kbuild" ] ||
		die "no Kbuild in $src: nothing to build (L3DSR_VM_MODULE_SRC names another source tree)"
	[ -d "$kdir" ] || die "no kernel headers at $kdir (run: $PROG fetch)"
	fingerprint=$(module_fingerprint "$src")
	if [ -f "$bdir/l3dsr.ko" ] &&
		[ "$(cat "$bdir/.fingerprint" 2>/dev/null)" = "$fingerprint" ]; then
		msg "l3dsr.ko for $kver is up to date"
		return 0
	fi

	t0=$(date +%s.%N)
	rm -rf "$bdir"
	mkdir -p "$bdir" || die "cannot create $bdir"
	cp -a "$src/Kbuild" "$bdir/" || die "cannot copy $src/Kbuild"
	if [ -d "$src/kmod" ]; then
		cp -a "$src/kmod" "$bdir/" || die "cannot copy $src/kmod"
	fi
	# Kbuild reads the version string from it.
	if [ -f "$src/VERSION" ]; then
		cp -a "$src/VERSION" "$bdir/" || die "cannot copy $src/VERSION"
	fi
	# Kbuild says it skips BTF when the headers lack vmlinux, every time;
	# the module works without it.
	make -s -C "$kdir" M="$bdir" L3DSR_WERROR=y modules 2>&1 |
		grep -v '^Skipping BTF generation' >&2
	[ "${PIPESTATUS[0]}" = 0 ] || die "the module does not build for $kver"
	[ -f "$bdir/l3dsr.ko" ] || die "the build for $kver produced no l3dsr.ko"
	printf '%s\n' "$fingerprint" >"$bdir/.fingerprint"
	msg "built l3dsr.ko for $kver in $(elapsed "$t0" "$(date +%s.%N)" 1) s"
}

# Directories named in L3DSR_VM_EXTRA_KBUILD, one a line.
extra_kbuild_dirs() {
	words "${L3DSR_VM_EXTRA_KBUILD:-}"
}

# Where the modules of one extra Kbuild directory are built for KVER.
extra_build_dir() {
	printf '%s\n' "$CACHE/extra-$1/$(basename "$2")"
}

# Out-of-tree modules other than l3dsr that a run wants in its guest (the
# benchmark's empty hook): each directory holds a Kbuild and its sources and
# is built like l3dsr.ko, once per kernel and whenever it changed.
build_extra_modules() {
	local kver=$1 src bdir fingerprint name
	local kdir=$KDIR
	declare -A seen=()

	while read -r src; do
		[ -f "$src/Kbuild" ] ||
			die "L3DSR_VM_EXTRA_KBUILD: no Kbuild in '$src'"
		src=$(cd "$src" && pwd) || die "cannot enter $src"
		name=$(basename "$src")
		[ -z "${seen[$name]:-}" ] ||
			die "L3DSR_VM_EXTRA_KBUILD: two directories are named $name"
		seen[$name]=1
		bdir=$(extra_build_dir "$kver" "$src")
		fingerprint=$({
			printf '%s\n' "$KDIR" "$KDIR_ID"
			(cd "$src" && find . -type f -print0 | LC_ALL=C sort -z |
				xargs -0 sha256sum)
		} | sha256sum | cut -d ' ' -f 1)
		if [ "$(cat "$bdir/.fingerprint" 2>/dev/null)" = "$fingerprint" ]; then
			continue
		fi
		rm -rf "$bdir"
		mkdir -p "$bdir" || die "cannot create $bdir"
		cp -a "$src/." "$bdir/" || die "cannot copy $src"
		make -s -C "$kdir" M="$bdir" L3DSR_WERROR=y modules 2>&1 |
			grep -v '^Skipping BTF generation' >&2
		[ "${PIPESTATUS[0]}" = 0 ] ||
			die "the modules in $src do not build for $kver"
		compgen -G "$bdir/*.ko" >/dev/null ||
			die "the build of $src for $kver produced no module"
		printf '%s\n' "$fingerprint" >"$bdir/.fingerprint"
		msg "built $(cd "$bdir" && echo *.ko) for $kver"
	done < <(extra_kbuild_dirs)
}

# The .ko files built from L3DSR_VM_EXTRA_KBUILD for KVER.
extra_module_files() {
	local kver=$1 src

	while read -r src; do
		find "$(extra_build_dir "$kver" "$src")" -maxdepth 1 -name '*.ko'
	done < <(extra_kbuild_dirs)
}

# The tool and the helpers are host binaries shared by every kernel: build
# them once, one run at a time.
build_host_programs() {
	mkdir -p "$CACHE" || die "cannot create $CACHE"
	(
		flock 9 || die "cannot lock $CACHE/.host-build.lock"
		if [ -f "$REPO/tools/Makefile" ]; then
			make -s --no-print-directory -C "$REPO/tools" >&2 ||
				die "tools/ does not build"
		else
			msg "warning: no tools/Makefile: the guest has no l3dsrctl"
		fi
		if [ -f "$REPO/selftests/Makefile" ]; then
			make -s --no-print-directory -C "$REPO/selftests" >&2 ||
				die "selftests/ helpers do not build"
		fi
	) 9>"$CACHE/.host-build.lock"
}

# --- initramfs -------------------------------------------------------------

declare -A STAGED=()

# Copy one host path into the staging tree at the same place, recreating each
# symlink on the way so multi-call programs (kmod) and merged /usr resolve in
# the guest as they do on the host.
stage_path() {
	local root=$1 path=$2 dir base target

	while :; do
		[ -n "${STAGED[$path]:-}" ] && return 0
		STAGED[$path]=1
		dir=$(realpath -e "$(dirname "$path")") ||
			die "cannot resolve $(dirname "$path")"
		base=$(basename "$path")
		mkdir -p "$root$dir" || die "cannot create $root$dir"
		if [ -L "$path" ]; then
			target=$(readlink "$path")
			ln -sfn "$target" "$root$dir/$base" ||
				die "cannot link $root$dir/$base"
			case $target in
			/*) path=$target ;;
			*) path=$dir/$target ;;
			esac
			continue
		fi
		[ -f "$path" ] || die "$path is not a regular file"
		cp --preserve=mode "$path" "$root$dir/$base" ||
			die "cannot copy $path"
		return 0
	done
}

is_elf() {
	[ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]
}

# What a program needs to start: its shared libraries, or the interpreter
# named by its #! line.
stage_needs() {
	local root=$1 path lib interp

	path=$(realpath -e "$2") || die "cannot resolve $2"
	if is_elf "$path"; then
		ldd "$path" 2>/dev/null | grep -q 'not found' &&
			die "$path needs a library the host lacks: $(ldd "$path" | grep 'not found' | tr -s ' \t' ' ')"
		while read -r lib; do
			stage_path "$root" "$lib"
		done < <(ldd "$path" 2>/dev/null |
			awk '$2 == "=>" && $3 ~ /^\// { print $3 }
			     $1 ~ /^\// { print $1 }')
	elif [ "$(head -c 2 "$path")" = '#!' ]; then
		read -r interp _ < <(head -n 1 "$path" | cut -c 3-)
		if [ -n "$interp" ] && [ -z "${STAGED[$interp]:-}" ]; then
			stage_program "$root" "$interp"
		fi
	fi
}

stage_program() {
	stage_path "$1" "$2"
	stage_needs "$1" "$2"
}

# The dependency closure of kernel modules, as modprobe would load them, from
# the unpacked image. Prints the paths; builtins need nothing.
module_closure() {
	local kver=$1 name out
	local img=$IMG
	shift

	for name in "$@"; do
		if ! out=$(modprobe -d "$img" -S "$kver" --show-depends "$name" 2>&1); then
			msg "warning: kernel $kver has no module $name: the guest goes without it"
			continue
		fi
		printf '%s\n' "$out" | awk '$1 == "insmod" { print $2 }'
	done
}

# Names the module itself declares it needs: hard dependencies and softdeps.
module_wants() {
	local ko=$1

	modinfo -F depends "$ko" | tr ',' '\n'
	modinfo -F softdep "$ko" | tr ' ' '\n' | grep -v -e ':$' -e '^$'
}

stage_modules() {
	local root=$1 kver=$2 ko=$3 path rel f
	local img=$IMG
	local moddir=$img/lib/modules/$kver
	local names=() extra=()

	mapfile -t extra < <(extra_module_files "$kver")
	mapfile -t names < <(guest_modules
		for path in "$ko" "${extra[@]}"; do
			module_wants "$path"
		done | grep -v '^$')
	mkdir -p "$root/lib/modules/$kver/extra" || die "cannot create the guest module tree"
	while read -r path; do
		rel=${path#"$img"/}
		mkdir -p "$root/$(dirname "$rel")" || die "cannot create $root/$(dirname "$rel")"
		cp "$path" "$root/$rel" || die "cannot copy $path"
	done < <(module_closure "$kver" "${names[@]}" | sort -u)

	# modules.builtin lets modprobe succeed for what the kernel has built in.
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		[ -f "$moddir/$f" ] && cp "$moddir/$f" "$root/lib/modules/$kver/"
	done
	# Debug info would only make the initramfs bigger; symbols stay.
	# Signatures go on last: stripping a signed module breaks its signature.
	strip --strip-debug -o "$root/lib/modules/$kver/extra/l3dsr.ko" "$ko" ||
		die "cannot copy $ko"
	stage_signing_cases "$root" "$kver" "$root/lib/modules/$kver/extra/l3dsr.ko"
	sign_module mok "$root/lib/modules/$kver/extra/l3dsr.ko"
	for path in "${extra[@]}"; do
		f=$root/lib/modules/$kver/extra/$(basename "$path")
		[ -e "$f" ] && die "two guest modules are named $(basename "$path")"
		strip --strip-debug -o "$f" "$path" || die "cannot copy $path"
		sign_module mok "$f"
	done
	depmod -b "$root" "$kver" || die "depmod failed on the guest module tree"
}

# A kernel that enforces module signatures (the debug kernel) comes with
# the keys kernel.sh made beside its build tree: mok, which it trusts, and
# other, which it does not.
signing_dir() {
	local dir

	dir=$(dirname "$KDIR")/signing
	[ -f "$dir/mok.key" ] && printf '%s\n' "$dir"
}

# sign_module KEY FILE: sign FILE as DKMS does, with the hash the kernel
# signs its own modules with; nothing where the kernel has no keys of ours.
sign_module() {
	local key=$1 file=$2 dir hash

	dir=$(signing_dir) || return 0
	hash=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"$/\1/p' "$KDIR/.config")
	"$KDIR/scripts/sign-file" "${hash:-sha512}" "$dir/$key.key" \
		"$dir/$key.pub" "$file" || die "cannot sign $file with the $key key"
}

# The copies of l3dsr.ko l3dsr_signing.sh tries to load, in /l3dsr/modules:
#   unsigned.ko      no signature
#   untrusted.ko     signed with a key the kernel does not trust
#   other-kernel.ko  built, as far as the kernel can tell, for another
#                    kernel: its vermagic names another release, and the
#                    CRC of module_layout (what a kernel with MODVERSIONS
#                    checks instead) is another's; signed like the real
#                    one, so that only that differs
# The last two only where the kernel has keys of ours (signing_dir).
stage_signing_cases() {
	local root=$1 kver=$2 ko=$3 dir=$1/l3dsr/modules other

	mkdir -p "$dir" || die "cannot create $dir"
	cp "$ko" "$dir/unsigned.ko" || die "cannot copy $ko"
	other=9${kver#?}
	perl -0777 -pe "s/vermagic=\Q$kver\E /vermagic=$other /;
		s/[\\x00-\\xff]{8}(?=module_layout\\x00)/\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff/" \
		"$ko" >"$dir/other-kernel.ko" || die "cannot copy $ko"
	cmp -s "$ko" "$dir/other-kernel.ko" &&
		die "no vermagic=$kver in $ko"
	signing_dir >/dev/null || return 0
	cp "$ko" "$dir/untrusted.ko" || die "cannot copy $ko"
	sign_module other "$dir/untrusted.ko"
	sign_module mok "$dir/other-kernel.ko"
}

write_init() {
	local root=$1

	cat >"$root/init" <<'EOF'
#!/bin/bash
# First and only process of the test guest: set the system up, run the
# command, report its exit status and the kernel log verdict on the results
# port (ttyS1), reset (QEMU runs with -no-reboot, so it exits).
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/usr/libexec/busybox
export HOME=/root TERM=dumb LC_ALL=C

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/netns
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ln -sf /proc/self/fd /dev/fd
# Where allocations can be made to fail (the debug kernel), a test that
# asks for it (fail-nth) gets any allocation failed, sleeping or not, of
# any order, and the kernel notes each in one line rather than a stack dump
# the log check would take for a splat.
for d in /sys/kernel/debug/failslab /sys/kernel/debug/fail_page_alloc; do
	[ -d "$d" ] || continue
	echo 1 >"$d/verbose"
	echo N >"$d/ignore-gfp-wait"
	[ -f "$d/min-order" ] && echo 0 >"$d/min-order"
done
ip link set lo up

# shellcheck disable=SC1091
. /etc/l3dsr-vm/run.conf

stty -F /dev/ttyS1 raw -echo
exec 3>/dev/ttyS1

cd /l3dsr/selftests || exit 1
"${cmd[@]}" </dev/null >&3 2>&3
status=$?

klog=ok
if dmesg | grep -E "$klog_bad" >/tmp/klog-bad; then
	klog=bad
	{
		printf '\nvm: the kernel log shows trouble:\n'
		cat /tmp/klog-bad
	} >&3
fi
printf '%s exit=%d klog=%s\n' "$nonce" "$status" "$klog" >&3
# Both wait until the UART has sent everything, before the reset cuts it.
stty -F /dev/ttyS1 raw -echo
exec 3>&-
reboot -f
EOF
	chmod 755 "$root/init"
}

write_etc() {
	local root=$1 f

	mkdir -p "$root/etc" "$root/root" "$root/var/tmp" "$root/etc/l3dsr-vm"
	ln -s /proc/self/mounts "$root/etc/mtab"
	ln -s /run "$root/var/run"
	printf 'root:x:0:0:root:/root:/bin/bash\ntcpdump:x:104:108::/nonexistent:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
		>"$root/etc/passwd"
	printf 'root:x:0:\ntcpdump:x:108:\nnogroup:x:65534:\n' >"$root/etc/group"
	printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
	printf 'passwd: files\ngroup: files\nhosts: files\nprotocols: files\nservices: files\n' \
		>"$root/etc/nsswitch.conf"
	for f in /etc/protocols /etc/services /etc/ethertypes; do
		[ -f "$f" ] && cp "$f" "$root/etc/"
	done
	[ -d /etc/iproute2 ] && cp -r /etc/iproute2 "$root/etc/"
	return 0
}

build_initramfs() {
	local kver=$1 out=$2 nonce=$3 ko=$4
	shift 4
	local root=$CACHE/$kver/initramfs.d
	local d prog path tool

	rm -rf "$root"
	mkdir -p "$root" || die "cannot create $root"
	# Mirror the host's merged /usr, so copied paths and symlinks agree.
	for d in bin sbin lib lib32 lib64 libx32; do
		if [ -L "/$d" ]; then
			ln -s "$(readlink "/$d")" "$root/$d"
		fi
	done
	mkdir -p "$root"/{proc,sys,dev,tmp,run,usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu}

	# busybox for everything else; its applets come last in PATH.
	path=$(host_which busybox) || die "no busybox on the host"
	is_elf "$path" && ldd "$path" >/dev/null 2>&1 &&
		die "$path is not static (install busybox-static)"
	mkdir -p "$root/usr/libexec/busybox"
	cp "$path" "$root/usr/libexec/busybox/busybox"
	while read -r prog; do
		ln -s busybox "$root/usr/libexec/busybox/$prog"
	done < <("$path" --list | grep -v -x busybox)

	for prog in bash ip kmod modprobe insmod rmmod lsmod depmod modinfo; do
		path=$(host_which "$prog") || die "no $prog on the host"
		stage_program "$root" "$path"
	done
	# Scripts say /bin/sh; busybox's sh would run its applets instead of
	# the real programs.
	ln -sfn bash "$root/usr/bin/sh"
	while read -r prog; do
		path=$(host_which "$prog") ||
			die "guest program $prog is not on the host (run: $PROG fetch)"
		stage_program "$root" "$path"
	done < <(guest_programs)

	tool=$REPO/tools/l3dsrctl
	if [ -x "$tool" ]; then
		cp "$tool" "$root/usr/sbin/l3dsrctl" || die "cannot copy $tool"
		stage_needs "$root" "$tool"
	fi

	mkdir -p "$root/l3dsr"
	cp -a "$REPO/selftests" "$root/l3dsr/selftests" || die "cannot copy selftests/"
	# l3dsr_server.sh runs the unit's commands and apply on the bad files
	if ! mkdir -p "$root/l3dsr/tools/tests" ||
		! cp -a "$REPO/tools/systemd" "$root/l3dsr/tools/" ||
		! cp -a "$REPO/tools/tests/bad" "$root/l3dsr/tools/tests/"; then
		die "cannot copy tools/systemd and tools/tests/bad"
	fi
	while read -r path; do
		stage_needs "$root" "$path"
	done < <(find "$REPO/selftests" -type f -perm -u+x)

	stage_trees "$root"
	stage_modules "$root" "$kver" "$ko"
	write_etc "$root"
	write_init "$root"
	{
		printf 'nonce=%q\n' "$nonce"
		printf 'klog_bad=%q\n' "$KLOG_BAD"
		printf 'cmd=('
		printf ' %q' "$@"
		printf ' )\n'
	} >"$root/etc/l3dsr-vm/run.conf"

	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio --quiet -o -0 -H newc -R 0:0 ) >"$out.tmp" ||
		die "cannot write the initramfs"
	mv "$out.tmp" "$out"
	rm -rf "$root"
}

# --- run -------------------------------------------------------------------

QEMU_PID=

stop_qemu() {
	if [ -n "$QEMU_PID" ]; then
		kill "$QEMU_PID" 2>/dev/null
		QEMU_PID=
	fi
}

# The kernel command line a series needs beyond the console: the debug
# kernel's leak detector, on whatever its built-in default.
series_append() {
	case $1 in
	debug) echo kmemleak=on ;;
	esac
}

run() {
	local series=$1 timeout=$2 kver
	shift 2

	kver=$(resolve_kver "$series") || exit
	fetch "$series" "$kver"
	KLOG_BAD=$(klog_patterns "$REPO/selftests/klog-bad") ||
		die "no kernel log patterns in $REPO/selftests/klog-bad"

	local dir=$CACHE/$kver
	local console=$dir/console.log initrd=$dir/initramfs.cpio
	local vmlinuz=$IMG/boot/vmlinuz-$kver

	# The cache directory holds one console log and one initramfs per
	# kernel: runs of the same kernel wait for each other.
	mkdir -p "$dir" || die "cannot create $dir"
	exec 8>"$dir/.run.lock"
	if ! flock -n 8; then
		msg "another run on $kver is in progress; waiting for it"
		# Waited for in the background, so that being told to stop
		# stops the wait too, rather than leaving a flock behind that
		# holds our output open.
		local lock_pid
		flock 8 &
		lock_pid=$!
		trap 'kill "$lock_pid" 2>/dev/null; exit 130' INT
		trap 'kill "$lock_pid" 2>/dev/null; exit 143' TERM
		wait "$lock_pid" || die "cannot lock $dir/.run.lock"
		trap - INT TERM
	fi

	build_module "$kver"
	# make -C selftests may lay out an extra module's sources (skew/)
	build_host_programs
	build_extra_modules "$kver"

	local nonce t0 t1
	nonce=l3dsr-vm-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	t0=$(date +%s.%N)
	build_initramfs "$kver" "$initrd" "$nonce" \
		"$CACHE/build-$kver/l3dsr.ko" "$@"
	t1=$(date +%s.%N)
	msg "initramfs $(du -k "$initrd" | cut -f1) KiB, built in $(elapsed "$t0" "$t1" 1) s; booting $kver"

	local -a qemu=(qemu-system-x86_64 -accel tcg -m 2G -smp 1 -nic none
		-no-reboot -nographic -nodefaults -monitor none
		-kernel "$vmlinuz" -initrd "$initrd"
		-append "console=ttyS0 panic=-1 $(series_append "$series") ${L3DSR_VM_APPEND:-}"
		-serial "file:$console" -serial stdio)
	# Extra options for QEMU, split on blanks (e.g. -icount shift=0).
	local -a extra=()
	read -r -a extra <<<"${L3DSR_VM_QEMU_ARGS:-}"
	qemu+=("${extra[@]}")

	local line status='' klog='' got_report=0 qemu_rc
	trap stop_qemu EXIT
	trap 'stop_qemu; exit 130' INT
	trap 'stop_qemu; exit 143' TERM
	exec 7< <(exec timeout -k 10 "$timeout" "${qemu[@]}" </dev/null)
	QEMU_PID=$!
	while IFS= read -r -u 7 line || [ -n "$line" ]; do
		line=${line%$'\r'}
		case $line in
		*"$nonce exit="*)
			[ -n "${line%%"$nonce"*}" ] && printf '%s\n' "${line%%"$nonce"*}"
			line=${line##*"$nonce" }
			status=${line#exit=}
			status=${status%% *}
			klog=${line##*klog=}
			got_report=1
			;;
		*)
			printf '%s\n' "$line"
			;;
		esac
	done
	exec 7<&-
	wait "$QEMU_PID"
	qemu_rc=$?
	QEMU_PID=
	trap - EXIT INT TERM
	t1=$(date +%s.%N)

	local rc=0
	if [ "$qemu_rc" = 124 ]; then
		msg "$kver: the VM timed out after $timeout s"
		rc=124
	elif [ "$got_report" = 0 ]; then
		msg "$kver: the guest never reported (qemu exited $qemu_rc)"
		rc=1
	elif ! [[ $status =~ ^[0-9]+$ ]]; then
		msg "$kver: garbled report from the guest: '$status'"
		rc=1
	else
		rc=$status
		if [ "$klog" != ok ]; then
			msg "$kver: the guest found trouble in its kernel log"
			[ "$rc" = 0 ] && rc=1
		fi
	fi
	# The guest has printed what its own check found; the console also
	# holds what came after its report, or everything if it never made it.
	local bad
	if bad=$(grep -a -n -E "$KLOG_BAD" "$console"); then
		if [ "$klog" != bad ]; then
			msg "$kver: the console log shows trouble:"
			printf '%s\n' "$bad" | sed 's/\r$//; s/^/    /' >&2
		fi
		[ "$rc" = 0 ] && rc=1
	fi
	if [ "$rc" != 0 ]; then
		msg "$kver: failed (exit $rc); console log: $console"
	else
		msg "$kver: passed in $(elapsed "$t0" "$t1" 0) s"
	fi
	return "$rc"
}

main() {
	[ $# -ge 1 ] || usage
	local sub=$1
	shift
	case $sub in
	kver)
		[ $# -eq 1 ] || usage
		resolve_kver "$1"
		;;
	install)
		[ $# -eq 1 ] || usage
		local kver
		kver=$(resolve_kver "$1") || exit
		with_apt_lock install_missing_packages "$1" "$kver"
		;;
	fetch)
		[ $# -eq 1 ] || usage
		local kver
		kver=$(resolve_kver "$1") || exit
		fetch "$1" "$kver"
		;;
	run)
		[ $# -ge 1 ] || usage
		local series=$1 timeout=$DEFAULT_TIMEOUT
		shift
		check_series "$series"
		while [ $# -gt 0 ]; do
			case $1 in
			--timeout)
				[ $# -ge 2 ] || usage
				timeout=$2
				shift 2
				;;
			--timeout=*)
				timeout=${1#--timeout=}
				shift
				;;
			--)
				shift
				break
				;;
			*)
				msg "unexpected argument '$1' (the command goes after --)"
				usage
				;;
			esac
		done
		[[ $timeout =~ ^[1-9][0-9]*$ ]] ||
			{ msg "--timeout wants a number of seconds, not '$timeout'"; usage; }
		[ $# -ge 1 ] || { msg "no command to run"; usage; }
		run "$series" "$timeout" "$@"
		;;
	help | -h | --help)
		usage
		;;
	*)
		msg "unknown command '$sub'"
		usage
		;;
	esac
}

main "$@"
