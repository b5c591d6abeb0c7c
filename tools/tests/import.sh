#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of import-dsrtools, without the module: realistic
# /etc/dsr.d trees as dsrtools' dsrctl reads them (several files, found
# through subdirectories and symbolic links, comments, octal and hex DSCPs,
# IPv6, L2DSR lines, host names that resolve and do not, bad lines), what
# the tool writes with -o, and the round trip through `apply --dry-run`.
# Host names that must resolve come from a hosts file bind-mounted over
# /etc/hosts in a user and mount namespace (skipped where none can be made).
#
# usage: tests/import.sh [L3DSRCTL]
# shellcheck source-path=SCRIPTDIR
set -u

TESTS_DIR=$(cd "$(dirname "$0")" && pwd)
TOOLS_DIR=$(dirname "$TESTS_DIR")
TOOL=$(realpath "${1:-$TOOLS_DIR/l3dsrctl}")

# dsrctl lists its files in the locale's order; C's is byte order.
export LC_ALL=C

TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT

# shellcheck source=lib.sh
source "$TESTS_DIR/lib.sh"

skip()
{
	count=$((count + 1))
	echo "ok $count - $1 # SKIP $2"
}

# ctl ARGS...: run the tool; OUT, ERR and RC as it left them.
# The mappings an apply --dry-run would add, without where each came from.
mappings()
{
	sed -n 's/^add mapping \(.*\)  #.*/\1/p' <<< "$1"
}

echo "TAP version 13"

# ------------------------------------------------------ a realistic tree

D=$TMP/dsr.d
mkdir -p "$D/sub" "$TMP/elsewhere"
cat >"$D/10-web.conf" <<'EOF'
# web farm: L3DSR VIPs
Version=2
98.139.235.245=28    # this is the best L3DSR ever
  98.139.235.246 = 041	# octal: DSCP 33

98.139.235.247=0X2a
98.139.235.245=28
nosuch.invalid=12
localhost=13
EOF
cat >"$D/20-v6.conf" <<'EOF'
201F::0080:1d0:f8=29 # this is a good one, too
2001:db8::10 = 0x1c
cafe=30
::ffff:10.0.0.128=31
2001:db8::11=28
EOF
cat >"$D/30-l2.conf" <<'EOF'
# L2DSR: the VIP alone
192.0.2.7            # mail, L2DSR
98.139.235.246
192.0.2.7
2001:db8::99
EOF
cat >"$D/40-bad.conf" <<'EOF'
192.0.2.20=64
192.0.2.21=08
192.0.2.22=0
192.0.2.23=077
192.0.2.24 = 
192.0.2.25 garbage
192.0.2.26=14 15
1.2.3.999=15
224.0.0.5=16
web_farm=17
192.0.2.28=041
EOF
printf '192.0.2.30=0x0b\r\n192.0.2.31\r\n' >"$D/50-crlf.conf"
# dsrctl's `find -L DIR -type f -name '*.conf'` reads hidden files, nested
# directories and linked ones, and nothing else.
echo '192.0.2.40=20' >"$D/.hidden.conf"
echo '192.0.2.41=21' >"$D/README"
echo '192.0.2.42=22' >"$D/60-old.conf.rpmsave"
echo '192.0.2.43=23' >"$D/sub/70-nested.conf"
echo '192.0.2.44=24' >"$TMP/elsewhere/80-linked.conf"
ln -s "$TMP/elsewhere" "$D/linked"
ln -s "$TMP/absent.conf" "$D/dangling.conf"
# A link back up the tree: each file is still read once (dsrctl's find
# reported the loop, and dsrctl gave up on the whole tree).
ln -s .. "$D/sub/up"

ctl import-dsrtools "$D"
# The resolver's words for a name that does not resolve vary.
# shellcheck disable=SC2001 # one line of several
ERR=$(sed 's/does not resolve: [^:]*: nosuch/does not resolve: REASON: nosuch/' <<< "$ERR")
P="l3dsrctl: import-dsrtools: $D"
NOT="not converted"
expect "import-dsrtools names every line it cannot convert, in order, exit 1" 1 \
"$P/10-web.conf:8: $NOT: host name nosuch.invalid does not resolve: REASON: nosuch.invalid=12
$P/10-web.conf:9: $NOT: localhost is IPv4 127.0.0.1, a loopback address, which the kernel refuses as a VIP: localhost=13
$P/20-v6.conf:3: $NOT: \"cafe\" is not an IPv6 address (dsrtools reads a word of hex digits and colons as one, never as a host name): cafe=30
$P/20-v6.conf:4: $NOT: \"::ffff:10.0.0.128\": dsrtools takes no IPv6 address with an IPv4 part; write it in hex: ::ffff:10.0.0.128=31
$P/20-v6.conf:5: $NOT: DSCP 28 (inet6) is mapped already, to 2001:db8::10 at $D/20-v6.conf:2; dsrctl refused such a configuration (\"Conflicting DSRs\"): keep one: 2001:db8::11=28
$P/40-bad.conf:1: $NOT: DSCP \"64\" is out of range (1..63): 192.0.2.20=64
$P/40-bad.conf:2: $NOT: DSCP \"08\" is not a number as dsrtools writes them: decimal (33), octal with a leading 0 (041) or hex with 0x (0x21): 192.0.2.21=08
$P/40-bad.conf:3: $NOT: DSCP \"0\" is 0, every unmarked packet: dsrtools let it through, l3dsr never maps it: 192.0.2.22=0
$P/40-bad.conf:4: $NOT: DSCP \"077\" was refused by dsrctl, whose range check reads it as decimal 77: 192.0.2.23=077
$P/40-bad.conf:5: $NOT: no DSCP after \"=\": 192.0.2.24 = 
$P/40-bad.conf:6: $NOT: \"garbage\" after the VIP: a line holds VIP=DSCP or a VIP alone: 192.0.2.25 garbage
$P/40-bad.conf:7: $NOT: \"15\" after the DSCP: a line holds VIP=DSCP or a VIP alone: 192.0.2.26=14 15
$P/40-bad.conf:8: $NOT: \"1.2.3.999\" is not an IPv4 address: 1.2.3.999=15
$P/40-bad.conf:9: $NOT: VIP 224.0.0.5 is a multicast address, which the kernel refuses: 224.0.0.5=16
$P/40-bad.conf:10: $NOT: \"web_farm\" is neither an address nor a host name (letters, digits, dots, hyphens): web_farm=17
$P/40-bad.conf:11: $NOT: DSCP 33 (inet) is mapped already, to 98.139.235.246 at $D/10-web.conf:4; dsrctl refused such a configuration (\"Conflicting DSRs\"): keep one: 192.0.2.28=041
l3dsrctl: import-dsrtools: 15 of 31 VIP lines converted; the others need a decision"
check_eq "import-dsrtools converts the rest, in dsrctl's file order, each line saying where from" \
"# l3dsr configuration converted by \`l3dsrctl import-dsrtools\` from
# dsrtools' $D: every *.conf under it, in locale order.
# Check it, then: l3dsrctl apply -f FILE
# Host names were resolved when this file was written; it holds
# their addresses.
dscp 20 vip 192.0.2.40  # $D/.hidden.conf:1
dscp 28 vip 98.139.235.245  # $D/10-web.conf:3: this is the best L3DSR ever
dscp 33 vip 98.139.235.246  # $D/10-web.conf:4: octal: DSCP 33
dscp 42 vip 98.139.235.247  # $D/10-web.conf:6
# $D/10-web.conf:7: the same as at $D/10-web.conf:3
dscp 29 vip 201f::80:1d0:f8  # $D/20-v6.conf:1: this is a good one, too
dscp 28 vip 2001:db8::10  # $D/20-v6.conf:2
vip 192.0.2.7  # $D/30-l2.conf:2: mail, L2DSR
# $D/30-l2.conf:3: held already by the mapping at $D/10-web.conf:4
# $D/30-l2.conf:4: the same as at $D/30-l2.conf:2
vip 2001:db8::99  # $D/30-l2.conf:5
dscp 11 vip 192.0.2.30  # $D/50-crlf.conf:1
vip 192.0.2.31  # $D/50-crlf.conf:2
dscp 24 vip 192.0.2.44  # $D/linked/80-linked.conf:1
dscp 23 vip 192.0.2.43  # $D/sub/70-nested.conf:1" "$OUT"

# What it wrote is a configuration apply takes, meaning those mappings.
printf '%s\n' "$OUT" >"$TMP/tree.conf"
ctl apply --dry-run -f "$TMP/tree.conf"
# exit 3: a plan with changes (l3dsrctl(8)), here to a table with none
expect "apply --dry-run takes what import-dsrtools wrote" 3 ""
check_eq "... and reads the mappings meant" \
"dscp 11 vip 192.0.2.30
dscp 20 vip 192.0.2.40
dscp 23 vip 192.0.2.43
dscp 24 vip 192.0.2.44
dscp 28 vip 98.139.235.245
dscp 33 vip 98.139.235.246
dscp 42 vip 98.139.235.247
dscp 28 vip 2001:db8::10
dscp 29 vip 201f::80:1d0:f8" "$(mappings "$OUT")"
check_eq "... and holds the L2DSR VIPs on lo, without a mapping" \
"add address 192.0.2.7/32 dev lo proto 213
add address 2001:db8::99/128 dev lo proto 213
add address 192.0.2.31/32 dev lo proto 213" \
	"$(grep -E '^add address (192\.0\.2\.(7|31)|2001:db8::99)/' <<< "$OUT")"

# ---------------------------------------------------------------- -o FILE

echo 'dscp 1 vip 192.0.2.1' >"$TMP/kept.conf"
ctl import-dsrtools -o "$TMP/kept.conf" "$D"
check_eq "-o with lines not converted: exit 1, nothing on stdout" "1 " \
	"$RC $OUT"
check_eq "-o with lines not converted says nothing was written" \
	"l3dsrctl: import-dsrtools: 15 of 31 VIP lines converted; the others need a decision: nothing written" \
	"$(tail -n 1 <<< "$ERR")"
check_eq "... and leaves the file as it was" "dscp 1 vip 192.0.2.1" \
	"$(cat "$TMP/kept.conf")"

mkdir "$TMP/clean"
printf '# web\n198.51.100.1=0x0a # web\n2001:db8::1 = 012\n' \
	>"$TMP/clean/web.conf"
ctl import-dsrtools "$TMP/clean"
expect "a clean tree converts whole: exit 0, nothing on stderr" 0 ""
printf '%s\n' "$OUT" >"$TMP/clean.expected"
chmod 0640 "$TMP/kept.conf"
ctl import-dsrtools -o "$TMP/kept.conf" "$TMP/clean"
expect "-o of a clean tree: exit 0, nothing on stderr" 0 ""
check_eq "-o prints nothing" "" "$OUT"
check_eq "-o writes what standard output would have shown" \
	"$(cat "$TMP/clean.expected")" "$(cat "$TMP/kept.conf")"
check_eq "-o keeps the mode of the file it replaces, and leaves no temporary file" \
	"640 kept.conf" \
	"$(stat -c %a "$TMP/kept.conf") $(cd "$TMP" && echo kept.conf*)"
ctl apply --dry-run -f "$TMP/kept.conf"
check_eq "apply --dry-run reads 0x0a and octal 012 as 10" \
	"dscp 10 vip 198.51.100.1
dscp 10 vip 2001:db8::1" "$(mappings "$OUT")"
ctl import-dsrtools -o "$TMP/no-such-dir/x.conf" "$TMP/clean"
check_eq "-o into a missing directory: exit 1, named" \
	"1 l3dsrctl: import-dsrtools: cannot create a file beside $TMP/no-such-dir/x.conf: No such file or directory" \
	"$RC $ERR"

# ----------------------------------------------- dsrctl's DSCP arithmetic

# iptables read 041 as octal 33; dsrctl's checks read it as decimal 41, so
# it saw no conflict with 33 and appended a DADDR rule for each: the later
# one rewrote last.
printf '203.0.113.1=041\n203.0.113.2=33\n' >"$TMP/octal.conf"
ctl import-dsrtools "$TMP/octal.conf"
expect "041 and 33: the later line was in effect, the earlier is named" 1 \
"l3dsrctl: import-dsrtools: $TMP/octal.conf:1: $NOT: DSCP 33 (inet) is mapped again, to 203.0.113.2, at $TMP/octal.conf:2: dsrctl read 041 and 33 as different numbers, missed the conflict and appended a DADDR rule for each, so the later one was in effect (unless dsrctl ran with -i) and is the one converted: 203.0.113.1=041
l3dsrctl: import-dsrtools: 1 of 2 VIP lines converted; the others need a decision"
check_eq "... and the later one is converted (a file named alone is read)" \
	"dscp 33 vip 203.0.113.2  # $TMP/octal.conf:2" \
	"$(grep -v '^#' <<< "$OUT")"

# dsrctl skipped a line equal to an earlier one in its own reading, so the
# rule it added for 041 stayed the last one for DSCP 33.
printf '203.0.113.1=33\n203.0.113.2=041\n203.0.113.1=33\n' >"$TMP/again.conf"
ctl import-dsrtools "$TMP/again.conf"
check_eq "33, 041, 33 again: 041's VIP was in effect" \
"dscp 33 vip 203.0.113.2  # $TMP/again.conf:2
# $TMP/again.conf:3: the same as at $TMP/again.conf:1" \
	"$(grep -v '^# [lCdH]' <<< "$OUT")"

# ------------------------------------------------- host names that resolve

cat >"$TMP/hosts" <<'EOF'
192.0.2.55 web.example.test
2001:db8::56 v6only.example.test
192.0.2.57 dual.example.test
2001:db8::57 dual.example.test
EOF
cat >"$TMP/names.conf" <<'EOF'
web.example.test=10   # the web VIP by name
v6only.example.test=11
dual.example.test=0x0c
web.example.test
EOF
# in_hosts CMD...: run CMD with $TMP/hosts as /etc/hosts.
in_hosts()
{
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -rm sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' \
		"$TMP/hosts" "$@"
}
if [ "$(in_hosts getent hosts web.example.test 2>/dev/null)" == \
     "192.0.2.55      web.example.test" ]; then
	in_hosts "$TOOL" import-dsrtools "$TMP/names.conf" >"$TMP/out" \
		2>"$TMP/err"
	RC=$?
	OUT=$(cat "$TMP/out")
	ERR=$(cat "$TMP/err")
	expect "a name with IPv6 addresses alone is refused, naming them" 1 \
"l3dsrctl: import-dsrtools: $TMP/names.conf:2: $NOT: host name v6only.example.test has no IPv4 address (it gives IPv6 2001:db8::56), and dsrtools took a name for its IPv4 address only: write the address that is meant: v6only.example.test=11
l3dsrctl: import-dsrtools: 3 of 4 VIP lines converted; the others need a decision"
	check_eq "a name becomes its first IPv4 address, its other addresses named with their family" \
"# l3dsr configuration converted by \`l3dsrctl import-dsrtools\` from
# dsrtools' $TMP/names.conf.
# Check it, then: l3dsrctl apply -f FILE
# Host names were resolved when this file was written; it holds
# their addresses.
dscp 10 vip 192.0.2.55  # $TMP/names.conf:1: web.example.test is IPv4 192.0.2.55: the web VIP by name
dscp 12 vip 192.0.2.57  # $TMP/names.conf:3: dual.example.test is IPv4 192.0.2.57 (also IPv6 2001:db8::57, unused: dsrtools took the first IPv4 address)
# $TMP/names.conf:4: held already by the mapping at $TMP/names.conf:1" \
		"$OUT"
else
	skip "host names from a hosts file" "no user and mount namespace here (unshare -rm)"
	skip "host names from a hosts file: families" "no user and mount namespace here (unshare -rm)"
fi

# ------------------------------------------- nothing to read, bad usage

ctl import-dsrtools "$TMP/absent.d"
expect "a missing directory: exit 1, named" 1 \
	"l3dsrctl: import-dsrtools: cannot open $TMP/absent.d: No such file or directory"
mkdir "$TMP/empty.d"
echo '192.0.2.1=10' >"$TMP/empty.d/10.conf.disabled"
ctl import-dsrtools "$TMP/empty.d"
expect "a directory without *.conf: exit 1, nothing to import" 1 \
	"l3dsrctl: import-dsrtools: $TMP/empty.d: no *.conf file: nothing to import"
printf '# all gone\n\nVersion=3\n' >"$TMP/empty.d/10.conf"
ctl import-dsrtools -o "$TMP/empty.out" "$TMP/empty.d"
expect "comments alone: exit 1, nothing to import" 1 \
	"l3dsrctl: import-dsrtools: $TMP/empty.d: no VIP in 1 file: nothing to import"
check_eq "... and -o writes no empty configuration" "absent" \
	"$([ -e "$TMP/empty.out" ] && echo present || echo absent)"
printf '\xef\xbb\xbf192.0.2.1=10\n' >"$TMP/bom.conf"
ctl import-dsrtools "$TMP/bom.conf"
check_eq "a byte order mark is named" \
	"l3dsrctl: import-dsrtools: $TMP/bom.conf:1: $NOT: a UTF-8 byte order mark starts the file, which dsrctl read as part of the line: remove it: $(printf '\xef\xbb\xbf')192.0.2.1=10" \
	"$(head -n 1 <<< "$ERR")"

for args in "-j import-dsrtools" "-4 import-dsrtools" \
	    "import-dsrtools a b" "import-dsrtools -o" \
	    "import-dsrtools -o a -o b" "import-dsrtools --force"; do
	# shellcheck disable=SC2086 # split on purpose
	ctl $args
	if [ "$RC" == 2 ] && [[ "$ERR" == "l3dsrctl: import-dsrtools: "* ]] &&
	   [ -z "$OUT" ]; then
		pass "$args: exit 2"
	else
		fail "$args: exit 2" "exit $RC: $ERR"
	fi
done

# ------------------------------------------------ man page, completion

rendered=$(groff -t -man -rLL=300n -rHY=0 -Tascii -P-cbou \
	   "$TOOLS_DIR/man/l3dsrctl.8" 2>/dev/null)
missing=
for word in "import-dsrtools [-o FILE] [DIR|FILE]" /etc/dsr.d dsr.conf \
	    L2DSR "vip 192.0.2.7" octal XT_CONTINUE; do
	[ "$word" == XT_CONTINUE ] && word="DADDR does not end the chain"
	grep -qF -- "$word" <<< "$rendered" || missing+=" [$word]"
done
check_eq "l3dsrctl(8) describes import-dsrtools and DADDR's order" "" \
	"$missing"

# shellcheck source=../completion/l3dsrctl.bash
source "$TOOLS_DIR/completion/l3dsrctl.bash"

complete_line()
{
	COMP_LINE="$TOOL $1"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_l3dsrctl
	echo "${COMPREPLY[*]}"
}

check_eq "completion: import-dsrtools offers -o" "-o" \
	"$(complete_line "import-dsrtools -")"
check_eq "completion: import-dsrtools completes a directory" "$TMP/dsr.d" \
	"$(complete_line "import-dsrtools $TMP/dsr.")"
check_eq "completion: -o completes a file" "$TMP/kept.conf" \
	"$(complete_line "import-dsrtools -o $TMP/kept.")"
check_eq "completion: one directory, -o once" "" \
	"$(complete_line "import-dsrtools -o x $TMP/dsr.d ")"

echo "1..$count"
echo "# $((count - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
