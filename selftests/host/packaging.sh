#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The install side, on the host (nothing is loaded: the host kernel cannot
# load modules). TAP on stdout, exit 0 only if every check passed.
#
#   1. VERSION is the one version: debian/changelog and the RPM spec agree
#      with it, dkms.conf carries a placeholder rather than a copy.
#   2. DKMS from the source tree: add, build and install for both kernels of
#      the VM matrix (selftests/vm/vm.sh kver 6.1 / 6.12), then remove; and
#      `dkms add .` from a checkout, as people try a DKMS module, builds too.
#      Kbuild's feature probes all pass on the newest kernel of the matrix.
#   3. dpkg-buildpackage -us -uc -b, the packages' contents, lintian.
#   4. apt-get install of both .debs: DKMS builds the module for both
#      kernels, l3dsrctl --version reports VERSION; then purge.
#   5. rpmbuild of packaging/l3dsr.spec, rpm -qlp of both packages.
#   6. The machine is left as it was found.
#
# usage: selftests/host/packaging.sh
#   Run as root. Packages it needs (dkms, debhelper, dh-dkms, lintian, rpm,
#   ...) and the kernels' headers (vm.sh fetch) are installed when missing
#   and kept, as for every test; everything the test itself installs is
#   removed. The tree tested is the working tree: tracked files and new files
#   git does not ignore. PACKAGING_REV=REV tests a git revision instead,
#   PACKAGING_TREE=DIR a directory (an unpacked release tarball).
#   VERBOSE=1 prints the output of every step, not only of failed ones.
# shellcheck disable=SC2317 # functions run through a trap or check

set -u
set -o pipefail

readonly PROG=packaging.sh
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SELF_DIR
REPO=$(cd "$SELF_DIR/../.." && pwd)
readonly REPO
readonly VM_SH=$REPO/selftests/vm/vm.sh
readonly VERBOSE=${VERBOSE:-0}
readonly PACKAGES=(l3dsr-dkms l3dsr-tools)
# What the test needs on the host, by Debian package.
readonly NEEDED='dkms debhelper dh-dkms dpkg-dev lintian rpm rpm2cpio cpio build-essential libmnl-dev pkg-config groff-base iproute2 git kmod'
# Places the test writes to outside its own directory; compared before and
# after.
readonly WATCHED=(/usr/src /var/lib/dkms /lib/modules)
readonly APT_LOCK_WAIT=600

count=0
failed=0
WORK=
VERSION=
KERNELS=()
DKMS_ADDED=0
DEBS_INSTALLED=0

export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C.UTF-8

# ------------------------------------------------------------------ TAP

pass() {
	count=$((count + 1))
	echo "ok $count - $1"
}

# fail DESCRIPTION [DETAIL...]: DETAIL lines become TAP diagnostics.
fail() {
	local line

	count=$((count + 1))
	failed=$((failed + 1))
	echo "not ok $count - $1"
	shift
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/#   /'
	done
}

# check DESCRIPTION COMMAND...: one TAP line for COMMAND's exit status, its
# output shown (last lines) when it fails.
check() {
	local desc=$1 log

	shift
	log=$WORK/step-$((count + 1)).log
	if "$@" >"$log" 2>&1; then
		pass "$desc"
		[ "$VERBOSE" = 1 ] && sed 's/^/#   /' "$log"
		return 0
	fi
	fail "$desc" "failed: $*" "$(tail -n 25 "$log")"
	return 1
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected: $2" "got:      $3"
	fi
}

bail() {
	echo "Bail out! $PROG: $*"
	exit 1
}

msg() { printf '# %s\n' "$*"; }

# ------------------------------------------------------------ helpers

# timed NAME COMMAND...: run a phase, say how long it took.
timed() {
	local name=$1 start=$SECONDS status

	shift
	"$@"
	status=$?
	msg "$name: $((SECONDS - start)) s"
	return "$status"
}

apt_get() {
	apt-get -o DPkg::Lock::Timeout=$APT_LOCK_WAIT -y -q "$@"
}

package_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

install_needed() {
	local missing=() pkg

	for pkg in $NEEDED; do
		package_installed "$pkg" || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	msg "installing ${missing[*]}"
	{ apt_get update && apt_get install "${missing[@]}"; } >"$WORK/apt-needed.log" 2>&1 ||
		bail "cannot install ${missing[*]}: $(tail -n 5 "$WORK/apt-needed.log")"
}

# The kernels of the VM matrix, their headers installed.
resolve_kernels() {
	local series kver

	for series in 6.1 6.12; do
		kver=$("$VM_SH" kver "$series") ||
			bail "vm.sh cannot resolve kernel series $series"
		if ! package_installed "linux-headers-$kver"; then
			msg "fetching kernel $kver (vm.sh fetch $series)"
			"$VM_SH" fetch "$series" >"$WORK/fetch-$series.log" 2>&1 ||
				bail "vm.sh fetch $series failed: $(tail -n 5 "$WORK/fetch-$series.log")"
		fi
		[ -e "/lib/modules/$kver/build/Makefile" ] ||
			bail "no headers at /lib/modules/$kver/build"
		KERNELS+=("$kver")
	done
}

# What lies in the watched places (names and types; depmod rewrites the
# content of modules.* files, which is theirs to do), and which packages
# are installed. The module signing key dkms makes on its first build is
# dkms's own, kept for the life of the machine like dkms itself.
snapshot() {
	find "${WATCHED[@]}" -printf '%y %p\n' 2>/dev/null |
		grep -Ev '^f /var/lib/dkms/mok\.(key|pub)$' | sort
	dpkg-query -W -f='pkg ${Package}:${Architecture} ${db:Status-Abbrev}\n' | sort
}

# Copy the tree under test to $1.
export_tree() {
	local dest=$1

	mkdir -p "$dest" || return 1
	if [ -n "${PACKAGING_TREE:-}" ]; then
		cp -a "$PACKAGING_TREE/." "$dest/"
		return
	fi
	if [ -n "${PACKAGING_REV:-}" ]; then
		git -C "$REPO" archive "$PACKAGING_REV" | tar -C "$dest" -xf -
		return
	fi
	if ! git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		# a release tarball: no build products to leave out
		cp -a "$REPO/." "$dest/"
		return
	fi
	(
		cd "$REPO" || exit 1
		git ls-files -z -c -o --exclude-standard |
			while IFS= read -r -d '' file; do
				# tracked files deleted in the working tree
				[ -e "$file" ] && printf '%s\0' "$file"
			done | tar --null -T - -cf -
	) | tar -C "$dest" -xf -
}

dkms_state() {
	dkms status -m l3dsr -v "$VERSION" -k "$1" 2>/dev/null
}

# installed_for KVER: DKMS installed l3dsr VERSION for KVER, and modprobe's
# view of that kernel finds that module with that version.
installed_for() {
	local kver=$1 version

	dkms_state "$kver" | grep -q ': installed' || {
		echo "dkms status for $kver: $(dkms_state "$kver")"
		return 1
	}
	version=$(modinfo -k "$kver" -F version l3dsr) || return 1
	[ "$version" = "$VERSION" ] || {
		echo "modinfo -k $kver says version $version"
		return 1
	}
}

# Nothing of l3dsr left in DKMS, /usr/src or any kernel's module tree.
nothing_left() {
	local left

	left=$(
		find /usr/src /var/lib/dkms -maxdepth 1 -name 'l3dsr*'
		find /lib/modules -name 'l3dsr.ko*'
	)
	[ -z "$left" ] || {
		echo "left behind:"
		echo "$left"
		return 1
	}
}

# dkms and depmod leave files that were not there before (modules.* of a
# kernel that had none, an empty updates/ tree): remove exactly those.
restore_module_trees() {
	local path

	comm -13 <(grep '^. /lib/modules/' "$WORK/before" | cut -d' ' -f2- | sort) \
		<(find /lib/modules -printf '%p\n' | sort) |
		sort -r | while IFS= read -r path; do
			case $path in
			/lib/modules/*/modules.*) rm -f -- "$path" ;;
			*) [ -d "$path" ] && rmdir -- "$path" 2>/dev/null ;;
			esac
		done
}

cleanup() {
	local status=$?

	if [ "$DEBS_INSTALLED" = 1 ]; then
		apt_get purge "${PACKAGES[@]}" >/dev/null 2>&1
	fi
	if [ "$DKMS_ADDED" = 1 ]; then
		dkms remove "l3dsr/$VERSION" --all >/dev/null 2>&1
		rm -rf "/usr/src/l3dsr-$VERSION"
	fi
	[ -n "$WORK" ] && [ -f "$WORK/before" ] && restore_module_trees
	[ -n "$WORK" ] && rm -rf "$WORK"
	exit "$status"
}

# --------------------------------------------------------------- steps

preflight() {
	local pkg

	[ "$(id -u)" = 0 ] || bail "run as root (dkms, apt-get)"
	for pkg in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null |
			grep -q '^[^u]' &&
			bail "$pkg is installed here: not touching it (dpkg --purge $pkg first)"
	done
	[ -d /var/lib/dkms/l3dsr ] &&
		bail "l3dsr is in the DKMS tree here: not touching it (dkms remove l3dsr --all first)"
	compgen -G '/usr/src/l3dsr-*' >/dev/null &&
		bail "/usr/src/l3dsr-* exists here: not touching it"
	return 0
}

test_versions() {
	local changelog spec

	VERSION=$(cat "$SRC/VERSION")
	msg "VERSION $VERSION, kernels ${KERNELS[*]}"
	changelog=$(cd "$SRC" && dpkg-parsechangelog -S Version)
	check_eq "debian/changelog is at VERSION" "$VERSION" "$changelog"
	spec=$(rpmspec -q --srpm --qf '%{VERSION}\n' \
		"$SRC/packaging/l3dsr.spec" 2>"$WORK/rpmspec.log")
	check_eq "packaging/l3dsr.spec is at VERSION" "$VERSION" "$spec"
	check_eq "dkms.conf takes its version from VERSION (a placeholder)" \
		'PACKAGE_VERSION="#MODULE_VERSION#"' \
		"$(grep '^PACKAGE_VERSION=' "$SRC/dkms.conf")"
}

test_dkms_source() {
	local kver

	DKMS_ADDED=1
	check "DKMS source tree laid out in /usr/src/l3dsr-$VERSION" \
		"$SRC/packaging/dkms-source.sh" "/usr/src/l3dsr-$VERSION" || return
	check_eq "its dkms.conf is at VERSION" "PACKAGE_VERSION=\"$VERSION\"" \
		"$(grep '^PACKAGE_VERSION=' "/usr/src/l3dsr-$VERSION/dkms.conf")"
	check "dkms add l3dsr/$VERSION" dkms add "l3dsr/$VERSION" || return
	for kver in "${KERNELS[@]}"; do
		check "dkms build for $kver" \
			dkms build "l3dsr/$VERSION" -k "$kver" || continue
		check "dkms install for $kver" \
			dkms install "l3dsr/$VERSION" -k "$kver" || continue
		check "$kver: module installed, modinfo says $VERSION" \
			installed_for "$kver"
	done
	check "dkms remove l3dsr/$VERSION --all" \
		sh -c "dkms remove l3dsr/$VERSION --all && rm -rf /usr/src/l3dsr-$VERSION" &&
		check "no l3dsr module, DKMS entry or source left" nothing_left &&
		DKMS_ADDED=0
}

# `dkms add DIR` on a checkout: dkms reads the checkout's own dkms.conf,
# whose placeholder gives way to VERSION, and copies the tree to
# /usr/src/l3dsr-VERSION itself.
test_dkms_checkout() {
	local kver=${KERNELS[0]}

	DKMS_ADDED=1
	check "dkms add . in a checkout registers l3dsr/$VERSION" \
		sh -c "cd '$SRC' && dkms add . && dkms status -m l3dsr -v '$VERSION' | grep -q added" ||
		return
	check "dkms build of the checkout for $kver" \
		dkms build "l3dsr/$VERSION" -k "$kver"
	check "dkms remove l3dsr/$VERSION --all (the checkout's)" \
		sh -c "dkms remove l3dsr/$VERSION --all && rm -rf /usr/src/l3dsr-$VERSION" &&
		check "no l3dsr module, DKMS entry or source left" nothing_left &&
		DKMS_ADDED=0
}

# Kbuild's probes (kmod/probes/) test for APIs that newer kernels have: on
# the newest kernel of the matrix every one must pass, or it is broken.
test_probes() {
	local kver dir want got newest=${KERNELS[-1]}

	want=$(cd "$SRC/kmod/probes" && for f in *.c; do
		printf 'COMPAT_HAVE_%s ' "$(basename "$f" .c | tr '[:lower:]' '[:upper:]')"; done)
	for kver in "${KERNELS[@]}"; do
		dir=$WORK/probes-$kver
		if ! mkdir -p "$dir" ||
			! cp -r "$SRC/Kbuild" "$SRC/VERSION" "$SRC/kmod" "$dir/"; then
			fail "copy the module for $kver"
			continue
		fi
		check "module builds for $kver with the probes' answers" \
			make -C "/lib/modules/$kver/build" M="$dir" modules || continue
		got=$(sed -n 's/^#define \(COMPAT_HAVE_[A-Z0-9_]*\) 1$/\1 /p' \
			"$dir/compat-probes.h" | tr -d '\n')
		msg "$kver has: ${got:-none}"
		[ "$kver" = "$newest" ] &&
			check_eq "every probe passes on $newest" "$want" "$got"
	done
	return 0
}

# The files the tools package must hold, as regular expressions over paths.
# $1: the distribution's systemd unit directory; $2: the manual pages'
# compression suffix (Debian always compresses, rpm as its macros say).
tools_files() {
	local unit_dir=$1 man_suffix=$2

	printf '%s\n' \
		'/usr/sbin/l3dsrctl' \
		"/usr/share/man/man8/l3dsrctl\\.8$man_suffix" \
		"/usr/share/man/man5/l3dsr\\.conf\\.5$man_suffix" \
		"/usr/share/man/man7/l3dsr\\.7$man_suffix" \
		'/usr/share/bash-completion/completions/l3dsrctl' \
		"$unit_dir/l3dsr\\.service" \
		'/usr/share/doc/l3dsr-tools/examples/l3dsr\.conf'
}

# The module's DKMS tree: dkms.conf, Kbuild, VERSION and every C file and
# header of kmod/ in the tree under test (listed here, not taken from what
# dkms-source.sh copies).
dkms_files() {
	local file

	for file in dkms.conf Kbuild VERSION $(cd "$SRC" && find kmod -type f -name '*.[ch]'); do
		printf '/usr/src/l3dsr-%s/%s\n' "$VERSION" "$file"
	done | sort
}

# holds_files LISTING PATTERN...: every extended regular expression matches
# a whole path of LISTING.
holds_files() {
	local listing=$1 pattern all_there=0

	shift
	for pattern in "$@"; do
		grep -Eqx -- "$pattern" "$listing" || {
			echo "missing: $pattern"
			all_there=1
		}
	done
	return "$all_there"
}

# same_files LISTING EXPECTED: the regular files under /usr/src in LISTING
# are exactly those of EXPECTED.
same_files() {
	diff -u "$2" <(grep '^/usr/src/' "$1" | sort)
}

test_debs() {
	local deb_dir=$WORK/deb tree=$WORK/deb/l3dsr-$VERSION arch pkg patterns

	arch=$(dpkg --print-architecture)
	export_tree "$tree" || { fail "copy the tree for dpkg-buildpackage"; return 1; }
	check "dpkg-buildpackage -us -uc -b" \
		sh -c "cd '$tree' && dpkg-buildpackage -us -uc -b" || return 1
	DKMS_DEB=$deb_dir/l3dsr-dkms_${VERSION}_all.deb
	TOOLS_DEB=$deb_dir/l3dsr-tools_${VERSION}_$arch.deb
	check "it built $(basename "$DKMS_DEB") and $(basename "$TOOLS_DEB")" \
		test -f "$DKMS_DEB" -a -f "$TOOLS_DEB" || return 1
	for pkg in "$DKMS_DEB" "$TOOLS_DEB"; do
		check_eq "$(basename "$pkg"): Version is VERSION" "$VERSION" \
			"$(dpkg-deb -f "$pkg" Version)"
	done
	check_eq "l3dsr-dkms is Architecture: all" all \
		"$(dpkg-deb -f "$DKMS_DEB" Architecture)"
	check "l3dsr-dkms depends on dkms" \
		sh -c "dpkg-deb -f '$DKMS_DEB' Depends | grep -qw dkms"
	check "l3dsr-tools depends on libmnl (shlibs)" \
		sh -c "dpkg-deb -f '$TOOLS_DEB' Depends | grep -q 'libmnl0'"

	dpkg-deb --fsys-tarfile "$DKMS_DEB" | tar -t | sed -n 's,^\./,/,; /[^/]$/p' \
		>"$WORK/deb-dkms.list"
	dkms_files >"$WORK/dkms.expected"
	check "l3dsr-dkms holds the DKMS tree and nothing else under /usr/src" \
		same_files "$WORK/deb-dkms.list" "$WORK/dkms.expected"
	check "l3dsr-dkms's dkms.conf is at VERSION" sh -c \
		"dpkg-deb --fsys-tarfile '$DKMS_DEB' |
		 tar -xO ./usr/src/l3dsr-$VERSION/dkms.conf |
		 grep -qx 'PACKAGE_VERSION=\"$VERSION\"'"
	dpkg-deb --fsys-tarfile "$TOOLS_DEB" | tar -t | sed 's,^\./,/,' \
		>"$WORK/deb-tools.list"
	mapfile -t patterns < <(tools_files /lib/systemd/system '\.gz')
	check "l3dsr-tools holds the tool, manual pages, completion, unit, example" \
		holds_files "$WORK/deb-tools.list" "${patterns[@]}"
	check "l3dsr-dkms: postinst builds through DKMS, prerm removes" sh -c \
		"dpkg-deb --ctrl-tarfile '$DKMS_DEB' | tar -xO ./postinst | grep -q 'common.postinst' &&
		 dpkg-deb --ctrl-tarfile '$DKMS_DEB' | tar -xO ./prerm | grep -q 'dkms remove'"
	test_lintian "$deb_dir"/l3dsr_"${VERSION}"_*.changes
}

# Errors fail the build of a Debian package; warnings here are either fixed
# or overridden with a reason in debian/*.lintian-overrides, so both fail.
test_lintian() {
	local changes=$1 tags

	lintian --pedantic -I "$changes" >"$WORK/lintian.log" 2>&1
	tags=$(grep -E '^[EW]: ' "$WORK/lintian.log")
	if [ -z "$tags" ] && ! grep -q '^internal error' "$WORK/lintian.log"; then
		pass "lintian: no error, no warning"
	else
		fail "lintian: no error, no warning" "$(cat "$WORK/lintian.log")"
	fi
	msg "lintian: $(grep -cE '^[IP]: ' "$WORK/lintian.log") info/pedantic tags"
	[ "$VERBOSE" = 1 ] && sed 's/^/#   /' "$WORK/lintian.log"
	return 0
}

test_install() {
	local kver tool_version

	snapshot >"$WORK/before-install"
	DEBS_INSTALLED=1
	check "apt-get install both .debs" \
		apt_get install "$DKMS_DEB" "$TOOLS_DEB" || return 1
	for kver in "${KERNELS[@]}"; do
		if ! dkms_state "$kver" | grep -q ': installed'; then
			# The postinst builds for the running kernel and the
			# newest; any other kernel is built the way the kernel's
			# own dkms hook does it.
			msg "$kver: not built by the postinst, running dkms autoinstall"
			dkms autoinstall -k "$kver" >"$WORK/autoinstall-$kver.log" 2>&1
		fi
		check "installed package: dkms status says installed for $kver, modinfo $VERSION" \
			installed_for "$kver"
	done
	tool_version=$(/usr/sbin/l3dsrctl --version 2>&1 | head -n 1)
	check_eq "l3dsrctl --version reports VERSION" "l3dsrctl $VERSION," \
		"$(cut -d' ' -f1-2 <<< "$tool_version")"
	check "apt-get purge both packages" apt_get purge "${PACKAGES[@]}" &&
		DEBS_INSTALLED=0
	check "no l3dsr module, DKMS entry or source left after purge" nothing_left
	snapshot >"$WORK/after-purge"
	check "the installed package set is as before the install" \
		diff -u <(grep '^pkg ' "$WORK/before-install") \
		<(grep '^pkg ' "$WORK/after-purge")
}

test_rpm() {
	local top=$WORK/rpm tree rpms dkms_rpm tools_rpm patterns

	tree=$top/BUILD-src/l3dsr-$VERSION
	mkdir -p "$top/SOURCES"
	export_tree "$tree" || { fail "copy the tree for rpmbuild"; return 1; }
	tar -C "$(dirname "$tree")" -czf "$top/SOURCES/l3dsr-$VERSION.tar.gz" \
		"l3dsr-$VERSION"
	# BuildRequires name RHEL packages: --nodeps, the Debian ones are here.
	check "rpmbuild -bb packaging/l3dsr.spec" \
		rpmbuild -bb --nodeps --define "_topdir $top" \
		"$tree/packaging/l3dsr.spec" || return 1
	rpms=$top/RPMS
	dkms_rpm=$(find "$rpms" -name "l3dsr-dkms-$VERSION-*.noarch.rpm")
	tools_rpm=$(find "$rpms" -name "l3dsr-tools-$VERSION-*.rpm")
	check "it built l3dsr-dkms (noarch) and l3dsr-tools at VERSION" \
		test -n "$dkms_rpm" -a -n "$tools_rpm" || return 1
	# rpm -qlp lists directories too: keep regular files.
	rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms}\n]' "$dkms_rpm" 2>/dev/null |
		sed -n 's/ -[^ ]*$//p' >"$WORK/rpm-dkms.list"
	check "rpm -qlp l3dsr-dkms: the DKMS tree and nothing else under /usr/src" \
		same_files "$WORK/rpm-dkms.list" "$WORK/dkms.expected"
	check "l3dsr-dkms's dkms.conf is at VERSION" sh -c \
		"rpm2cpio '$dkms_rpm' |
		 cpio --quiet -i --to-stdout ./usr/src/l3dsr-$VERSION/dkms.conf |
		 grep -qx 'PACKAGE_VERSION=\"$VERSION\"'"
	check "l3dsr-dkms: %post dkms add/install, %preun dkms remove" sh -c \
		"rpm -qp --scripts '$dkms_rpm' >'$WORK/rpm-scripts' 2>/dev/null &&
		 grep -q 'dkms add -m l3dsr -v $VERSION' '$WORK/rpm-scripts' &&
		 grep -q 'dkms install -m l3dsr -v $VERSION' '$WORK/rpm-scripts' &&
		 grep -q 'dkms remove -m l3dsr -v $VERSION --all' '$WORK/rpm-scripts'"
	rpm -qlp "$tools_rpm" >"$WORK/rpm-tools.list" 2>/dev/null
	mapfile -t patterns < <(tools_files /usr/lib/systemd/system '(\.gz)?')
	check "rpm -qlp l3dsr-tools: tool, manual pages, completion, unit, example" \
		holds_files "$WORK/rpm-tools.list" "${patterns[@]}"
}

# ----------------------------------------------------------------- main

echo "TAP version 13"
started=$(date +%s)
preflight
WORK=$(mktemp -d /tmp/l3dsr-packaging.XXXXXX) || bail "mktemp failed"
trap cleanup EXIT
trap 'exit 130' INT TERM
install_needed
resolve_kernels
snapshot >"$WORK/before"
SRC=$WORK/src
export_tree "$SRC" || bail "cannot copy the tree under test"

test_versions
timed "DKMS from the source tree" test_dkms_source
timed "DKMS from a checkout" test_dkms_checkout
timed "feature probes" test_probes
timed "Debian packages" test_debs && timed "install and purge" test_install
timed "RPM packages" test_rpm

restore_module_trees
check "the machine is as it was found (${WATCHED[*]}, packages)" \
	diff -u "$WORK/before" <(snapshot)

echo "1..$count"
msg "$((count - failed)) passed, $failed failed, $(($(date +%s) - started)) s"
[ "$failed" = 0 ]
