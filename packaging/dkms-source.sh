#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lay out the module's DKMS source tree: what `dkms build` needs and nothing
# else, with dkms.conf's version placeholder replaced by the content of
# VERSION.
#
#   packaging/dkms-source.sh DIR
#
# DIR is the tree's final place (/usr/src/l3dsr-VERSION) or its staging copy
# inside a package build root; it must not exist yet, or be empty, so no stale
# file from an earlier version can slip into a build. `make dkms-install`,
# debian/rules and packaging/l3dsr.spec all call this script, so every way of
# installing the module ships the same files.

set -u
set -o pipefail

readonly PROG=dkms-source.sh
readonly PLACEHOLDER='#MODULE_VERSION#'

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $PROG DIR" >&2
	exit 2
fi
dest=$1

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd) ||
	die "cannot find the top of the source tree"

[ -r "$top/VERSION" ] || die "$top/VERSION is missing"
version=$(cat "$top/VERSION") || die "cannot read $top/VERSION"
# Debian, RPM and DKMS all accept this form; RPM refuses '-', DKMS '/'.
[[ $version =~ ^[0-9][0-9A-Za-z.+~]*$ ]] ||
	die "VERSION holds \"$version\": expected one line like 1.2.3"

conf_version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
[ "$conf_version" = "$PLACEHOLDER" ] ||
	die "dkms.conf must say PACKAGE_VERSION=\"$PLACEHOLDER\" (the version comes from VERSION), not \"$conf_version\""

if [ -e "$dest" ]; then
	[ -d "$dest" ] || die "$dest exists and is not a directory"
	[ -z "$(ls -A "$dest")" ] ||
		die "$dest is not empty: remove it first"
fi

# The module's sources, never build products that an in-tree build left.
mapfile -t sources < <(cd "$top" && find kmod -type f -name '*.[ch]' | sort)
[ ${#sources[@]} -gt 0 ] || die "no module sources under $top/kmod"

install -d -m 0755 "$dest" || die "cannot create $dest"
install -m 0644 "$top/Kbuild" "$top/VERSION" "$dest/" ||
	die "cannot copy Kbuild and VERSION to $dest"
for file in "${sources[@]}"; do
	install -D -m 0644 "$top/$file" "$dest/$file" ||
		die "cannot copy $file to $dest"
done
sed "s/^PACKAGE_VERSION=\"$PLACEHOLDER\"\$/PACKAGE_VERSION=\"$version\"/" \
	"$top/dkms.conf" >"$dest/dkms.conf" ||
	die "cannot write $dest/dkms.conf"
chmod 0644 "$dest/dkms.conf" || die "cannot set the mode of $dest/dkms.conf"
