#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The family's YNL spec, kmod/uapi/l3dsr.yaml, checked with the kernel's own
# ynl tools from Debian's linux-source-6.12 (tools/net/ynl and the schemas
# of Documentation/netlink, unpacked into the cache), as TAP:
#
#   1. the spec passes its protocol's schema (python3-jsonschema);
#   2. the ynl library reads it (every reference resolves);
#   3. ynl-gen-c.py --mode uapi generates a header from it, which compiles;
#   4. that header and kmod/uapi/l3dsr.h define the same constants, enum
#      members, enums and defines alike, with the same values (a tiny C
#      program against each prints them), so spec and header cannot drift;
#   5. ynl-gen-c.py --mode user generates a C library that compiles against
#      kmod/uapi/l3dsr.h (the few names the spec spells otherwise, SPELLING
#      below, defined as the header's).
#
# Nothing is loaded: selftests/l3dsr_ynl.sh drives a running module with the
# ynl CLI in the VM.
#
# usage: selftests/host/ynl.sh     (as root when packages must be installed)
#        selftests/host/ynl.sh --tools DIR
#            put the ynl CLI (cli.py, lib/) and the spec into DIR, for the
#            VM test (make -C selftests does it, into selftests/ynl/); says
#            why and exits 0 when the source package is not installed,
#            installing nothing

set -u
set -o pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly REPO
CACHE=${L3DSR_VM_CACHE:-$REPO/.cache/vm}
readonly CACHE
readonly SPEC=$REPO/kmod/uapi/l3dsr.yaml
readonly HEADER=$REPO/kmod/uapi/l3dsr.h
readonly SOURCE_PACKAGE=linux-source-6.12
# Debian's own python, whose packages these are.
readonly PYTHON=/usr/bin/python3
# Constants the generator cannot spell as the header does: the generated
# name, then the header's. The "all flags" masks come out of render-max as
# *_MASK; the notifications, listed apart in the spec for the ynl CLI, are
# the commands that make the changes.
readonly SPELLING='L3DSR_F_MASK=__L3DSR_F_ALL L3DSR_REQUEST_F_MASK=__L3DSR_REQUEST_F_ALL L3DSR_CMD_NEW_MAPPING_NTF=L3DSR_CMD_NEW_MAPPING L3DSR_CMD_DEL_MAPPING_NTF=L3DSR_CMD_DEL_MAPPING'
readonly GEN_TIMEOUT=120

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

# step TEXT COMMAND...: one TAP line for COMMAND, its output shown on failure
step()
{
	local text=$1 rc

	shift
	"$@" >"$WORK/log" 2>&1
	rc=$?
	[ $rc = 0 ] || show "$WORK/log"
	result $rc "$text"
	return $rc
}

bail()
{
	echo "Bail out! ynl.sh: $*"
	exit 1
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

# The ynl tools, the schemas and MAINTAINERS (by which ynl-gen-c.py finds
# the top of the tree it names in its output), unpacked once.
unpack_tools()
{
	local tarball

	[ -f "$YNL_ROOT/.unpacked" ] && return 0
	tarball=$(find /usr/src -maxdepth 1 -name "$SOURCE_PACKAGE.tar.*" | head -n 1)
	[ -n "$tarball" ] || return 1
	rm -rf "$YNL_ROOT" && mkdir -p "$YNL_ROOT" &&
		tar -xaf "$tarball" -C "$YNL_ROOT" --strip-components=1 \
			--wildcards '*/tools/net/ynl/*' '*/Documentation/netlink/*' \
			"$SOURCE_PACKAGE/MAINTAINERS" &&
		touch "$YNL_ROOT/.unpacked"
}

if [ "${1:-}" = --tools ]; then
	[ $# = 2 ] || { echo "usage: ynl.sh --tools DIR" >&2; exit 2; }
	YNL_ROOT=$CACHE/ynl-$SOURCE_PACKAGE
	if ! unpack_tools; then
		echo "ynl.sh: no $SOURCE_PACKAGE in /usr/src: no ynl CLI for the VM (l3dsr_ynl.sh will skip)" >&2
		exit 0
	fi
	# shellcheck disable=SC2015 # the message when any step fails
	rm -rf "$2.tmp" && mkdir -p "$2.tmp/lib" &&
		cp "$YNL_ROOT/tools/net/ynl/cli.py" "$2.tmp/" &&
		cp "$YNL_ROOT/tools/net/ynl/lib/"*.py "$2.tmp/lib/" &&
		cp "$SPEC" "$2.tmp/l3dsr.yaml" &&
		rm -rf "$2" && mv "$2.tmp" "$2" ||
		{ echo "ynl.sh: cannot fill $2" >&2; exit 1; }
	exit 0
fi

echo "TAP version 13"
need_packages "$SOURCE_PACKAGE" python3 python3-yaml python3-jsonschema gcc ||
	echo "# could not install everything this needs"
WORK=$(mktemp -d) || bail "mktemp failed"
trap 'rm -rf "$WORK"' EXIT
YNL_ROOT=$CACHE/ynl-$SOURCE_PACKAGE
unpack_tools || bail "no $SOURCE_PACKAGE tarball in /usr/src to take the ynl tools from"
readonly YNL_DIR=$YNL_ROOT/tools/net/ynl
[ -f "$SPEC" ] || bail "no spec at $SPEC"

# 1. The schema of the protocol the spec names.
# shellcheck disable=SC2016 # Python, not the shell
step "the spec passes the schema of its protocol (Documentation/netlink)" \
	"$PYTHON" -c '
import sys, yaml, jsonschema
spec = yaml.safe_load(open(sys.argv[1]))
schema = "%s/%s.yaml" % (sys.argv[2], spec.get("protocol", "genetlink"))
jsonschema.validate(spec, yaml.safe_load(open(schema)))
print("valid against", schema)
' "$SPEC" "$YNL_ROOT/Documentation/netlink"

# 2. The library the ynl CLI is made of reads it.
# shellcheck disable=SC2016 # Python, not the shell
step "the ynl library reads the spec, every reference resolved" \
	"$PYTHON" -c '
import sys, yaml
sys.path.insert(0, sys.argv[1])
from lib.nlspec import SpecFamily
spec = yaml.safe_load(open(sys.argv[2]))
family = SpecFamily(sys.argv[2], "%s/%s.yaml" % (sys.argv[3], spec["protocol"]))
print(family.name, "version", family.yaml.get("version", 1), "ops", list(family.ops))
' "$YNL_DIR" "$SPEC" "$YNL_ROOT/Documentation/netlink"

# 3. The generator works on a copy among the kernel's specs, where it
# expects one.
mkdir -p "$YNL_ROOT/Documentation/netlink/specs"
cp "$SPEC" "$YNL_ROOT/Documentation/netlink/specs/l3dsr.yaml"
GENERATED=$WORK/generated/l3dsr.h
mkdir -p "$WORK/generated"
if step "ynl-gen-c.py --mode uapi generates a header from the spec" \
	timeout "$GEN_TIMEOUT" "$PYTHON" "$YNL_DIR/ynl-gen-c.py" --mode uapi \
	--header --spec "$YNL_ROOT/Documentation/netlink/specs/l3dsr.yaml" \
	-o "$GENERATED"; then
	step "the generated header compiles" \
		gcc -Wall -Wextra -Werror -fsyntax-only -x c "$GENERATED"
else
	result 1 "the generated header compiles"
fi

# 4. The names each header defines: defines and enum members, and the enums.
# shellcheck disable=SC2016 # Python, not the shell
names_of()
{
	gcc -E -P -dD -undef -x c "$1" | "$PYTHON" -c '
import re, sys
text = sys.stdin.read()
for name, value in re.findall(r"^#define\s+(_*L3DSR\w*)\s+(.*)$", text, re.M):
    print("string" if value.startswith("\"") else "number", name)
for tag, body in re.findall(r"\benum\s+(\w*)\s*\{(.*?)\}", text, re.S):
    if tag:
        print("enum", tag)
    for member in body.split(","):
        member = member.split("=")[0].strip()
        if member:
            print("number", member)
' | sort -u
}

# What the header calls a generated name.
header_name()
{
	local pair

	for pair in $SPELLING; do
		[ "${pair%%=*}" = "$1" ] && { echo "${pair#*=}"; return; }
	done
	echo "$1"
}

# The header's names as the generator spells them: a name the spec spells
# otherwise becomes that, a name it also spells otherwise is both.
as_spec()
{
	local kind name pair found

	while read -r kind name; do
		found=0
		for pair in $SPELLING; do
			if [ "${pair#*=}" = "$name" ]; then
				echo "$kind ${pair%%=*}"
				found=1
			fi
		done
		if [ $found = 0 ] || grep -qx "$kind $name" "$WORK/spec.names"; then
			echo "$kind $name"
		fi
	done <"$1" | sort -u
}

# print_program NAMES [header]: a C program printing "NAME=value" for each
# name of the generated header, spelt as the generated header spells it, or
# with "header" as kmod/uapi/l3dsr.h does.
print_program()
{
	local kind name spelt

	echo '#include <stdio.h>'
	echo 'int main(void)'
	echo '{'
	while read -r kind name; do
		spelt=$name
		[ "${2:-}" = header ] && spelt=$(header_name "$name")
		case $kind in
		enum) echo "	(void)sizeof(enum $spelt);" ;;
		string) printf '\tprintf("%%s=\\"%%s\\"\\n", "%s", %s);\n' \
				"$name" "$spelt" ;;
		number) printf '\tprintf("%%s=%%lld\\n", "%s", (long long)(%s));\n' \
				"$name" "$spelt" ;;
		esac
	done <"$1"
	echo '	return 0;'
	echo '}'
}

# values_of HEADER PROGRAM: what PROGRAM prints, compiled against HEADER.
values_of()
{
	gcc -Wall -Werror -include "$1" -o "$WORK/print" "$2" && "$WORK/print"
}

if [ -f "$GENERATED" ]; then
	names_of "$GENERATED" | grep -v ' _UAPI_LINUX_L3DSR_H$' >"$WORK/spec.names"
	names_of "$HEADER" | grep -v ' _UAPI_LINUX_L3DSR_H$' >"$WORK/header.names"
	as_spec "$WORK/header.names" >"$WORK/header.as-spec"
	comm -23 "$WORK/spec.names" "$WORK/header.as-spec" >"$WORK/only-spec"
	comm -13 "$WORK/spec.names" "$WORK/header.as-spec" >"$WORK/only-header"
	[ -s "$WORK/only-spec" ] && show "$WORK/only-spec"
	result "$([ -s "$WORK/only-spec" ] && echo 1 || echo 0)" \
		"every constant of the spec is in kmod/uapi/l3dsr.h ($(wc -l <"$WORK/spec.names") names)"
	[ -s "$WORK/only-header" ] && show "$WORK/only-header"
	result "$([ -s "$WORK/only-header" ] && echo 1 || echo 0)" \
		"every constant of kmod/uapi/l3dsr.h is in the spec"

	grep -Fxf "$WORK/header.as-spec" "$WORK/spec.names" >"$WORK/common.names"
	print_program "$WORK/common.names" >"$WORK/print-spec.c"
	print_program "$WORK/common.names" header >"$WORK/print-header.c"
	if values_of "$GENERATED" "$WORK/print-spec.c" >"$WORK/spec.values" 2>"$WORK/log" &&
		values_of "$HEADER" "$WORK/print-header.c" >"$WORK/header.values" 2>>"$WORK/log"; then
		diff -u "$WORK/spec.values" "$WORK/header.values" >"$WORK/log"
		rc=$?
		[ $rc = 0 ] || show "$WORK/log"
		result $rc "spec and header give each constant the same value, enums alike ($(wc -l <"$WORK/spec.values") values)"
	else
		show "$WORK/log"
		result 1 "spec and header give each constant the same value, enums alike"
	fi
else
	for text in "every constant of the spec is in kmod/uapi/l3dsr.h" \
		    "every constant of kmod/uapi/l3dsr.h is in the spec" \
		    "spec and header give each constant the same value, enums alike"; do
		result 1 "$text"
	done
fi

# 5. The user-space library the kernel's generator makes from the spec, with
# the flags of tools/net/ynl/generated, against the real header.
mkdir -p "$WORK/user"
if step "ynl-gen-c.py --mode user generates a C library from the spec" sh -c "
	timeout $GEN_TIMEOUT '$PYTHON' '$YNL_DIR/ynl-gen-c.py' --mode user --header \
		--spec '$YNL_ROOT/Documentation/netlink/specs/l3dsr.yaml' \
		-o '$WORK/user/l3dsr-user.h' &&
	timeout $GEN_TIMEOUT '$PYTHON' '$YNL_DIR/ynl-gen-c.py' --mode user --source \
		--spec '$YNL_ROOT/Documentation/netlink/specs/l3dsr.yaml' \
		-o '$WORK/user/l3dsr-user.c'"; then
	# Names the spec spells otherwise are the header's.
	spelt=()
	for pair in $SPELLING; do
		spelt+=("-D$pair")
	done
	step "the generated library compiles against kmod/uapi/l3dsr.h" \
		gcc -std=gnu11 -O2 -W -Wall -Wextra -Wno-unused-parameter -Wshadow \
		-Werror "${spelt[@]}" -I"$WORK/user" -I"$REPO/kmod/uapi" \
		-I"$YNL_DIR/lib" -c "$WORK/user/l3dsr-user.c" \
		-o "$WORK/user/l3dsr-user.o"
else
	result 1 "the generated library compiles against kmod/uapi/l3dsr.h"
fi

echo "1..$number"
[ "$failed" = 0 ]
