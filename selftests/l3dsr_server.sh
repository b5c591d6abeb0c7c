#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The server's whole side made by `l3dsrctl apply` from a configuration
# file alone: the mappings, every VIP on lo (or on vip-device) marked with
# address protocol 213, the ARP sysctls and loose reverse-path filtering;
# applied again, nothing changes; a mapping removed takes its VIP, never
# an address made by hand; a failure half way (the kernel refuses a
# mapping, an address cannot be added) leaves mappings, addresses and
# sysctls exactly as they were; the boot path (the unit's commands in a
# fresh namespace); an empty file refused; save -o; --dry-run agreeing
# with the real apply on every bad file of tools/tests/bad; and a request
# from the client answered from the VIP, nothing added by hand.
#
#  +-------------------------+          +-------------------------------+
#  | cli: client and lb      |          | srv: a clean namespace, only  |
#  |  eth0 192.0.2.2/24      +----------+ eth0 192.0.2.1/24 (RIP)       |
#  |       2001:db8:2::2/64  |          |      2001:db8:2::1/64         |
#  |  nft output (stateless):|          | up0 (a veth pair's end): the  |
#  |   to a VIP: DSCP 10,    |          |   default route               |
#  |   destination the RIP   |          | lo, vip0 (a veth pair's end): |
#  +-------------------------+          |   what apply puts there       |
#                                       +-------------------------------+
#
# Addresses and their protocol are read with a netlink dump of this
# script's own (python3), not with l3dsrctl.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly SRV4=192.0.2.1
readonly CLI4=192.0.2.2
readonly SRV6=2001:db8:2::1
readonly CLI6=2001:db8:2::2
readonly V4A=211.115.115.100
readonly V4B=211.115.115.101
readonly V4C=211.115.115.102
readonly V6A=2001:db8:ffff::100
readonly V6B=2001:db8:ffff::101
readonly ECHO_PORT=9400
readonly PROTO=213
UNIT="$SELFTESTS_DIR/../tools/systemd/l3dsr.service"
BAD_DIR="$SELFTESTS_DIR/../tools/tests/bad"

require_l3dsr
require_cmds python3 timeout
tap_begin
scratch_dir TMP || skip_all "cannot create a scratch directory"

NS_SRV=
NS_CLI=

# ctl ARGS...: l3dsrctl in srv; OUT, ERR and RC as it left them.
ctl()
{
	trace "$L3DSRCTL -n $NS_SRV $*"
	OUT=$("$L3DSRCTL" -n "$NS_SRV" "$@" 2>"$TMP/stderr")
	RC=$?
	ERR=$(cat "$TMP/stderr")
}

# expect DESCRIPTION RC [NEEDLE...]: the last ctl exited RC, stderr holds
# every NEEDLE.
expect()
{
	local desc=$1 rc=$2 needle

	shift 2
	if [ "$RC" != "$rc" ]; then
		fail "$desc" "exit $RC, expected $rc; stdout: $OUT; stderr: $ERR"
		return 1
	fi
	for needle in "$@"; do
		if [[ "$ERR" != *"$needle"* ]]; then
			fail "$desc" "stderr lacks '$needle': $ERR"
			return 1
		fi
	done
	pass "$desc"
}

# The addresses of srv as "DEV ADDR/PREFIX proto N" lines, sorted, from
# an RTM_GETADDR dump (iproute2 6.1 cannot print an address's protocol).
addresses()
{
	# -S: without site's imports python starts several times faster.
	ip netns exec "$NS_SRV" python3 -S - <<-'EOF'
	import socket, struct
	IFA_ADDRESS, IFA_LOCAL, IFA_PROTO = 1, 2, 11
	s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
	s.bind((0, 0))
	req = struct.pack("=LHHLLBBBBL", 24, 22, 0x301, 1, 0, 0, 0, 0, 0, 0)
	s.send(req)
	out, done = [], False
	while not done:
	    data = s.recv(65536)
	    off = 0
	    while off < len(data):
	        length, kind = struct.unpack_from("=LH", data, off)
	        if kind in (2, 3):
	            done = True
	            break
	        fam, plen, _, _, index = struct.unpack_from("=BBBBL", data, off + 16)
	        attrs, pos, end = {}, off + 24, off + length
	        while pos + 4 <= end:
	            alen, atype = struct.unpack_from("=HH", data, pos)
	            attrs[atype] = data[pos + 4:pos + alen]
	            pos += (alen + 3) & ~3
	        addr = attrs.get(IFA_LOCAL, attrs.get(IFA_ADDRESS))
	        proto = attrs.get(IFA_PROTO, b"\0")[0]
	        out.append("%s %s/%d proto %d" % (socket.if_indextoname(index),
	                   socket.inet_ntop(fam, addr), plen, proto))
	        off += (length + 3) & ~3
	print("\n".join(sorted(out)))
	EOF
}

# Lines of addresses matching an extended regular expression, one line.
addresses_like()
{
	addresses | grep -E "$1" | tr '\n' '|'
}

# sysctl_of DEV KEY: net.ipv4.conf.DEV.KEY in srv.
sysctl_of()
{
	ip netns exec "$NS_SRV" cat "/proc/sys/net/ipv4/conf/$1/$2"
}

# The sysctls apply may set, in one line, read in one go.
sysctls()
{
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec "$NS_SRV" bash -c '
		for dev in all lo eth0 up0 vip0; do
			for key in arp_ignore arp_announce rp_filter; do
				read -r value < "/proc/sys/net/ipv4/conf/$dev/$key"
				printf "%s.%s=%s " "$dev" "$key" "$value"
			done
		done'
}

table()
{
	"$L3DSRCTL" -n "$NS_SRV" -j show | jq -c 'map(del(.packets, .bytes))'
}

# Everything apply may change in srv, to compare before and after (ip
# rather than the dump above, which costs a python start each time).
state()
{
	printf '%s\n%s\n%s\n' "$(table)" \
		"$(ip -n "$NS_SRV" -o addr show | awk '{ print $2, $4 }')" \
		"$(sysctls)"
}

# A request from the client to VIP:ECHO_PORT, answered by an echo bound
# to the VIP: succeeds only if the answer came from the VIP.
request()
{
	in_ns "$NS_CLI" "$PEER" -w 10 -n 2 -r 1000 udp-send "$1" "$ECHO_PORT" \
		>/dev/null 2>&1
}

setup()
{
	ns_new NS_SRV srv && ns_new NS_CLI cli || return 1
	run ip -n "$NS_SRV" link add eth0 type veth peer name eth0 \
		netns "$NS_CLI" &&
	# veth pairs stand for the dummy devices a real host would use
	run ip -n "$NS_SRV" link add up0 type veth peer name up0-peer &&
	run ip -n "$NS_SRV" link add vip0 type veth peer name vip0-peer &&
	run ip -n "$NS_SRV" addr add $SRV4/24 dev eth0 &&
	run ip -n "$NS_SRV" addr add $SRV6/64 dev eth0 nodad &&
	run ip -n "$NS_SRV" addr add 10.255.0.1/30 dev up0 &&
	run ip -n "$NS_CLI" addr add $CLI4/24 dev eth0 &&
	run ip -n "$NS_CLI" addr add $CLI6/64 dev eth0 nodad || return 1
	for dev in eth0 up0 up0-peer vip0 vip0-peer; do
		run ip -n "$NS_SRV" link set "$dev" up || return 1
	done
	run ip -n "$NS_CLI" link set eth0 up &&
	run ip -n "$NS_SRV" route add default via 10.255.0.2 dev up0 &&
	run ip -n "$NS_CLI" route add default via $SRV4 &&
	run ip -n "$NS_CLI" -6 route add default via $SRV6 || return 1
	# The lb's job, stateless, in the client's output path.
	in_ns "$NS_CLI" nft -f - <<-EOF || return 1
	table inet l3dsr_lb {
		chain output {
			type route hook output priority raw; policy accept;
			ip daddr { $V4A, $V4B, $V4C } ip dscp set 10 ip daddr set $SRV4
			ip6 daddr { $V6A, $V6B } ip6 dscp set 10 ip6 daddr set $SRV6
		}
	}
	EOF
	# A host that filters strictly; the ARP sysctls as the kernel has them.
	sysctl_set "$NS_SRV" net.ipv4.conf.all.rp_filter=1 \
		net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=0
}

# ------------------------------------------------------- apply, again

test_apply()
{
	local before untouched

	untouched="$(sysctl_of lo arp_ignore) $(sysctl_of lo arp_announce) $(sysctl_of vip0 arp_ignore) $(sysctl_of vip0 arp_announce) $(sysctl_of up0 rp_filter)"
	cat >"$TMP/server.conf" <<-EOF
	dscp 10 vip $V4A rip $SRV4 dev eth0
	dscp 12 vip $V4B
	dscp 14 vip $V4B clear-dscp
	dscp 10 vip $V6A
	dscp 12 vip $V6B rip $SRV6
	EOF
	ctl apply --dry-run -f "$TMP/server.conf"
	expect "dry run of a first configuration: exit 3, changes" 3
	check_eq "the dry run changed nothing" "[]" "$(table)"

	ctl apply -f "$TMP/server.conf"
	expect "apply of IPv4 and IPv6 mappings" 0
	check_eq "the table is the file's" \
		"10 $V4A|12 $V4B|14 $V4B|10 $V6A|12 $V6B|" \
		"$(table | jq -r '.[] | "\(.dscp) \(.vip)"' | tr '\n' '|')"
	check_eq "every VIP on lo once, /32 and /128, marked proto $PROTO" \
		"lo $V6A/128 proto $PROTO|lo $V6B/128 proto $PROTO|lo $V4A/32 proto $PROTO|lo $V4B/32 proto $PROTO|" \
		"$(addresses_like "proto $PROTO")"
	# dscp 12 takes requests on any interface with an IPv4 address: up0
	# carries RIPs too, but the default route.
	check_eq "ARP sysctls on all and the RIPs' interfaces (eth0, up0)" \
		"1 2 1 2 1 2" \
		"$(sysctl_of all arp_ignore) $(sysctl_of all arp_announce) $(sysctl_of eth0 arp_ignore) $(sysctl_of eth0 arp_announce) $(sysctl_of up0 arp_ignore) $(sysctl_of up0 arp_announce)"
	check_eq "strict rp_filter: loose on eth0, which lacks the default route" \
		2 "$(sysctl_of eth0 rp_filter)"
	check_eq "lo and vip0 (no RIP) and up0's rp_filter (the default route) untouched" \
		"$untouched" \
		"$(sysctl_of lo arp_ignore) $(sysctl_of lo arp_announce) $(sysctl_of vip0 arp_ignore) $(sysctl_of vip0 arp_announce) $(sysctl_of up0 rp_filter)"

	before=$(state)
	ctl apply --dry-run -f "$TMP/server.conf"
	check_eq "dry run after apply: nothing to change, exit 0" \
		"0|nothing to change" "$RC|$OUT"
	ctl apply -f "$TMP/server.conf"
	expect "apply again" 0
	check_eq "apply again changes nothing" "$before" "$(state)"
}

# ------------------------------------- removals, addresses made by hand

test_removal()
{
	# The operator's own address, equal to a VIP of the file.
	run ip -n "$NS_SRV" addr add "$V4C/32" dev lo
	printf 'dscp 10 vip %s\ndscp 16 vip %s\n' "$V4A" "$V4C" \
		>"$TMP/fewer.conf"
	ctl apply -f "$TMP/fewer.conf"
	expect "apply of fewer mappings" 0
	check_eq "removed mappings' VIPs go; the hand-made one is used as is" \
		"lo $V4A/32 proto $PROTO|lo $V4C/32 proto 0|" \
		"$(addresses_like "211\.115\.115\.")"
	check_eq "no IPv6 VIP is left" "" "$(addresses_like "ffff::")"

	printf 'dscp 10 vip %s\n' "$V4A" >"$TMP/one.conf"
	ctl apply -f "$TMP/one.conf"
	expect "apply without the hand-made VIP's mapping" 0
	check_eq "an address made by hand stays when its mapping goes" \
		"lo $V4A/32 proto $PROTO|lo $V4C/32 proto 0|" \
		"$(addresses_like "211\.115\.115\.")"
	run ip -n "$NS_SRV" addr del "$V4C/32" dev lo

	# Two mappings, one VIP: it stays while one of them does.
	printf 'dscp 10 vip %s\ndscp 12 vip %s\n' "$V4A" "$V4A" \
		>"$TMP/shared.conf"
	ctl apply -f "$TMP/shared.conf"
	ctl del-mapping dscp 12 del-vip
	expect "del-mapping del-vip of one of two mappings of a VIP" 0
	check_eq "the VIP another mapping uses stays" \
		"lo $V4A/32 proto $PROTO|" "$(addresses_like "211\.115\.115\.")"
	ctl del-mapping dscp 10 del-vip
	expect "del-mapping del-vip of its last mapping" 0
	check_eq "then it goes" "" "$(addresses_like "211\.115\.115\.")"
	ctl add-mapping dscp 20 vip "$V6B" add-vip
	expect "add-mapping add-vip" 0
	check_eq "add-mapping add-vip puts the VIP on lo, marked" \
		"lo $V6B/128 proto $PROTO|" "$(addresses_like "ffff::")"
	ctl flush
	check_eq "flush takes the VIPs l3dsr added" "[]||" \
		"$(table)|$(addresses_like "ffff::")|$(addresses_like "proto $PROTO")"
}

# ------------------------------------------------------- vip-device

test_vip_device()
{
	printf 'vip-device vip0\ndscp 10 vip %s\ndscp 10 vip %s\nvip %s\n' \
		"$V4A" "$V6A" "$V4B" >"$TMP/dummy.conf"
	ctl apply -f "$TMP/dummy.conf"
	expect "apply with vip-device vip0" 0
	check_eq "the VIPs, a vip line's too, are on vip0, not on lo" \
		"vip0 $V6A/128 proto $PROTO|vip0 $V4A/32 proto $PROTO|vip0 $V4B/32 proto $PROTO|" \
		"$(addresses_like "proto $PROTO")"
	printf 'dscp 10 vip %s\ndscp 10 vip %s\n' "$V4A" "$V6A" \
		>"$TMP/back.conf"
	ctl apply -f "$TMP/back.conf"
	expect "apply without vip-device" 0
	check_eq "the VIPs move back to lo" \
		"lo $V6A/128 proto $PROTO|lo $V4A/32 proto $PROTO|" \
		"$(addresses_like "proto $PROTO")"
	printf 'vips unmanaged\nsysctls unmanaged\ndscp 10 vip %s\n' "$V4A" \
		>"$TMP/unmanaged.conf"
	ctl apply -f "$TMP/unmanaged.conf"
	expect "apply with vips unmanaged" 0
	check_eq "vips unmanaged: the addresses are left as they are" \
		"lo $V6A/128 proto $PROTO|lo $V4A/32 proto $PROTO|" \
		"$(addresses_like "proto $PROTO")"
}

# ------------------------------------------------- failure half way

test_half_way()
{
	local before

	printf 'dscp 10 vip %s rip %s dev eth0\n' "$V4A" "$SRV4" \
		>"$TMP/base.conf"
	ctl apply -f "$TMP/base.conf"
	# What the next apply would change: the sysctls, back as a fresh host.
	sysctl_set "$NS_SRV" net.ipv4.conf.all.arp_ignore=0 \
		net.ipv4.conf.eth0.arp_announce=0 net.ipv4.conf.eth0.rp_filter=0
	before=$(state)

	# The kernel refuses one mapping (::1, the tool's own check left to
	# the kernel): addresses and sysctls were changed by then.
	printf 'dscp 10 vip %s\ndscp 12 vip %s\ndscp 14 vip %s\ndscp 30 vip ::1\n' \
		"$V4B" "$V4C" "$V6A" >"$TMP/refused.conf"
	ctl apply --dry-run -f "$TMP/refused.conf"
	expect "the tool's own check names the VIP the kernel would refuse" 1 \
		"$TMP/refused.conf:4: vip ::1 is the loopback address"
	trace "L3DSRCTL_SKIP_CHECKS=1 $L3DSRCTL -n $NS_SRV apply"
	OUT=$(L3DSRCTL_SKIP_CHECKS=1 "$L3DSRCTL" -n "$NS_SRV" apply \
	      -f "$TMP/refused.conf" 2>&1)
	RC=$? ERR=$OUT
	expect "the kernel refuses a mapping: exit 1, its word, at the line" 1 \
		"$TMP/refused.conf:4:" "unicast" "nothing was changed"
	check_eq "mappings, addresses and sysctls exactly as before" \
		"$before" "$(state)"

	# An address cannot be added: IPv6 is disabled on lo.
	sysctl_set "$NS_SRV" net.ipv6.conf.lo.disable_ipv6=1
	before=$(state)
	printf 'dscp 10 vip %s\ndscp 12 vip %s\n' "$V4B" "$V6A" \
		>"$TMP/noaddr.conf"
	ctl apply -f "$TMP/noaddr.conf"
	expect "an address the kernel will not add: exit 1, named" 1 \
		"cannot add address $V6A/128 dev lo" "nothing was changed"
	check_eq "mappings, addresses and sysctls exactly as before" \
		"$before" "$(state)"
	sysctl_set "$NS_SRV" net.ipv6.conf.lo.disable_ipv6=0
}

# -------------------------------------------- safeguards, save -o

test_safeguards()
{
	local before

	printf 'dscp 10 vip %s\n' "$V4A" >"$TMP/keep.conf"
	ctl apply -f "$TMP/keep.conf"
	before=$(state)
	: >"$TMP/empty.conf"
	ctl apply -f "$TMP/empty.conf"
	expect "apply of an empty file: refused" 1 "--allow-empty" \
		"left as it is"
	check_eq "an empty file changes nothing" "$before" "$(state)"
	printf '# flush\n  \n' >"$TMP/comments.conf"
	ctl apply -f "$TMP/comments.conf"
	expect "apply of comments alone: refused" 1 "hold no mapping"

	ctl save -o "$TMP/saved.conf"
	expect "save -o" 0
	check_eq "save -o wrote the table, and nothing beside it" \
		"dscp 10 vip $V4A|saved.conf" \
		"$(grep -v '^#' "$TMP/saved.conf")|$(cd "$TMP" && echo saved.conf*)"

	printf 'flush\n' >"$TMP/flush.conf"
	ctl apply -f "$TMP/flush.conf"
	expect "a flush line empties the table on purpose" 0
	check_eq "flushed, the VIP gone with it" "[]|" \
		"$(table)|$(addresses_like "proto $PROTO")"
	cp "$TMP/saved.conf" "$TMP/saved.orig"
	ctl save -o "$TMP/saved.conf"
	expect "save -o of an empty table: refused" 1 "left as it is"
	check "save -o of an empty table leaves the file intact" \
		cmp "$TMP/saved.conf" "$TMP/saved.orig"
	ctl apply --allow-empty -f "$TMP/empty.conf"
	expect "--allow-empty" 0
}

# ---------------------------------------- dry run against the kernel

test_corpus()
{
	local file name before dry rc

	if ! compgen -G "$BAD_DIR/*.conf" >/dev/null; then
		fail "the bad files of tools/tests/bad are there" "$BAD_DIR"
		return
	fi
	printf 'dscp 10 vip %s\n' "$V4A" >"$TMP/keep.conf"
	ctl apply -f "$TMP/keep.conf"
	sysctl_set "$NS_SRV" net.ipv4.conf.all.arp_ignore=0
	before=$(state)
	for file in "$BAD_DIR"/*.conf; do
		name=bad/${file##*/}
		ctl apply --dry-run -f "$TMP/keep.conf" -f "$file"
		dry="$RC|$ERR"
		ctl apply -f "$TMP/keep.conf" -f "$file"
		check_eq "$name: apply says what --dry-run said" "$dry" \
			"$RC|$ERR"
		trace "L3DSRCTL_SKIP_CHECKS=1 $L3DSRCTL -n $NS_SRV apply -f $file"
		L3DSRCTL_SKIP_CHECKS=1 "$L3DSRCTL" -n "$NS_SRV" apply \
			-f "$TMP/keep.conf" -f "$file" >/dev/null 2>&1
		rc=$?
		check_eq "$name: refused (exit 1) by the kernel too, nothing changed" \
			"1|$before" "$rc|$(state)"
	done
}

# ---------------------------------------------------------- boot

# boot_apply CONF|-: the unit's ExecStart in srv, /etc holding CONF as
# /etc/l3dsr.conf (or no configuration at all).
boot_apply()
{
	local exec args

	exec=$(sed -n 's/^ExecStart=//p' "$UNIT")
	args=${exec#* }
	trace "ip netns exec $NS_SRV [/etc: $1] $L3DSRCTL $args"
	# shellcheck disable=SC2016,SC2086 # the inner shell expands; args split
	OUT=$(ip netns exec "$NS_SRV" bash -c '
		mount -t tmpfs l3dsr-etc /etc || exit 99
		[ "$1" = - ] || cp "$1" /etc/l3dsr.conf || exit 99
		shift
		exec "$@"' _ "$1" "$L3DSRCTL" $args 2>&1) # split on purpose
	RC=$? ERR=$OUT
}

test_boot()
{
	local pre before

	if [ ! -f "$UNIT" ]; then
		fail "the unit is there" "$UNIT"
		return
	fi
	pre=$(sed -n 's/^ExecStartPre=//p' "$UNIT")
	check_eq "the unit loads the module, then applies" \
		"/sbin/modprobe l3dsr|/usr/sbin/l3dsrctl apply" \
		"$pre|$(sed -n 's/^ExecStart=//p' "$UNIT")"
	printf 'dscp 10 vip %s rip %s dev eth0\ndscp 10 vip %s\n' \
		"$V4A" "$SRV4" "$V6A" >"$TMP/boot.conf"
	ctl apply -f "$TMP/boot.conf"
	before=$(state)

	# A reboot of srv: its table, VIPs and sysctls as a fresh boot has
	# them; the module unloaded if nothing else holds it.
	ctl flush
	sysctl_set "$NS_SRV" net.ipv4.conf.all.arp_ignore=0 \
		net.ipv4.conf.all.arp_announce=0 \
		net.ipv4.conf.eth0.arp_ignore=0 \
		net.ipv4.conf.eth0.arp_announce=0 \
		net.ipv4.conf.eth0.rp_filter=0
	modprobe -r l3dsr 2>/dev/null
	# shellcheck disable=SC2086 # the unit's words, split on purpose
	check "ExecStartPre loads the module" $pre
	boot_apply "$TMP/boot.conf"
	check_eq "ExecStart restores the configuration: table, VIPs, sysctls" \
		"0|$before" "$RC|$(state)"

	before=$(state)
	boot_apply -
	check_eq "no configuration: exit 1, the table left alone, said why" \
		"1|no configuration|$before" \
		"$RC|$(grep -o 'no configuration' <<< "$ERR")|$(state)"
	boot_apply "$TMP/empty.conf"
	check_eq "an empty configuration: exit 1, the table left alone, said why" \
		"1|hold no mapping|$before" \
		"$RC|$(grep -o 'hold no mapping' <<< "$ERR")|$(state)"
}

# ------------------------------------------------------------ e2e

test_e2e()
{
	local echo4 echo6

	ctl flush
	printf 'dscp 10 vip %s rip %s dev eth0\ndscp 10 vip %s rip %s\n' \
		"$V4A" "$SRV4" "$V6A" "$SRV6" >"$TMP/e2e.conf"
	ctl apply -f "$TMP/e2e.conf"
	expect "e2e: apply of the configuration file, nothing else" 0
	background echo4 ip netns exec "$NS_SRV" "$PEER" udp-echo "$V4A" \
		"$ECHO_PORT"
	background echo6 ip netns exec "$NS_SRV" "$PEER" udp-echo "$V6A" \
		"$ECHO_PORT"
	wait_listener "$NS_SRV" udp "$ECHO_PORT"
	check "e2e IPv4: the client's request is answered from the VIP" \
		request "$V4A"
	check "e2e IPv6: the client's request is answered from the VIP" \
		request "$V6A"
	check_eq "e2e: each mapping rewrote the requests" "2 2" \
		"$("$L3DSRCTL" -n "$NS_SRV" -j show | jq -r 'map(.packets) | join(" ")')"
	stop_background "$echo4"
	stop_background "$echo6"
}

if ! setup; then
	fail "namespaces set up"
	tap_end
fi
pass "namespaces set up"
# Each part's seconds, for the lanes' time budget.
for part in apply removal vip_device half_way safeguards corpus boot e2e; do
	start=$SECONDS
	"test_$part"
	note "$part took $((SECONDS - start)) s"
done
ctl flush

tap_end
