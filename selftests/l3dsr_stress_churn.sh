#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Namespace churn: namespaces are made, given an IPv4 and an IPv6 mapping
# (the first scoped to its RIP or its device), sent marked datagrams that
# must be counted as rewritten, and deleted with the mappings in place,
# CHURN_CYCLES times (default 1000), CHURN_WAVE at a time (default 10, so
# that several tables live and die together). The initial namespace's own
# table and counters must not move, the module's reference count must come
# back, and nothing may stay allocated.
#
#  +-----------------------------+  pI / eth0  +-------------------------------+
#  | peer (one per wave)         +-------------+ cycle I (one per cycle)       |
#  |  pI 198.18.I.2/24           |   I = 0..   |  eth0 198.18.I.1/24           |
#  |     2001:db8:18:I::2/64     |   WAVE-1    |       2001:db8:18:I::1/64     |
#  |  sends DSCP 10 to .1 and ::1|             |  DSCP 10 -> VIP4 (rip or dev) |
#  +-----------------------------+             |  DSCP 10 -> VIP6              |
#                                              +-------------------------------+
#  initial namespace: a table of its own, compared (save, show -j, stats -j)
#  before and after
#
# The VIPs need not be local to the cycle namespaces: the hook counts what
# it rewrites before routing, and the rewritten datagrams are dropped.
#
# Leaks: the kmemleak scan of the debug lane, the module's reference count
# and lsmod line, the kmalloc caches' object counts once every namespace is
# gone (against the same cycles without l3dsr's mappings when a cache grew
# by half a cycle's worth; a diagnostic under KASAN, whose quarantine holds
# freed objects), and
# the module's own count of live namespaces, tables and mappings in debugfs
# (lib.sh's check_live_objects), where it has one.

# Functions here are often run through wait_until, out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly CYCLES=${CHURN_CYCLES:-1000}
readonly WAVE=${CHURN_WAVE:-10}
# datagrams per family and cycle
readonly DATAGRAMS=${CHURN_DATAGRAMS:-3}
readonly PORT=9400
readonly TOS=0x28
readonly FLOW="$SELFTESTS_DIR/l3dsr_flow"
readonly NLREQ="$SELFTESTS_DIR/l3dsr_nlreq"
# The module's count of what it has allocated, one "name count" a line;
# compared before and after.
readonly PREFIX="l3dsr-churn-$$"

require_l3dsr
require_cmds lsmod
{ [ -x "$FLOW" ] && [ -x "$NLREQ" ]; } ||
	skip_all "needs $FLOW and $NLREQ (run make in selftests/)"
{ [ "$WAVE" -ge 1 ] && [ "$WAVE" -le 200 ]; } || skip_all "CHURN_WAVE must be 1..200"
tap_begin
scratch_dir TMP || skip_all "cannot create a scratch directory"

# Whatever a failed run leaves, whatever its wave.
defer "ip netns list 2>/dev/null | awk '/^$PREFIX-/ { print \$1 }' |
	while read -r ns; do ip netns del \"\$ns\"; done"

# ------------------------------------------------------------ snapshots

# init_state: what must not move in the initial namespace.
init_state()
{
	"$L3DSRCTL" save
	"$L3DSRCTL" -j show
	"$L3DSRCTL" -j stats
}

module_refs()
{
	cat /sys/module/l3dsr/refcnt 2>/dev/null || echo none
}

lsmod_line()
{
	lsmod | awk '$1 == "l3dsr"'
}

# slab_objects CACHE: the objects in use in the cache, after SLUB was
# asked to give back what its per-CPU slabs hold (without that the count
# includes free objects); /proc/slabinfo's active objects otherwise.
slab_objects()
{
	local dir=/sys/kernel/slab/$1 objects

	if [ -r "$dir/objects" ]; then
		echo 1 >"$dir/shrink" 2>/dev/null
		read -r objects _ <"$dir/objects"
		echo "$objects"
		return
	fi
	awk -v name="$1" 'NR > 2 && $1 == name { print $2 }' /proc/slabinfo \
		2>/dev/null
}

# slab_snapshot: "name objects" of every kmalloc cache.
slab_snapshot()
{
	local dir

	for dir in /sys/kernel/slab/kmalloc-*; do
		[ -L "$dir" ] && continue
		echo "${dir##*/} $(slab_objects "${dir##*/}")"
	done
}

have_kasan()
{
	grep -q ' kasan_save_stack$' /proc/kallsyms 2>/dev/null
}

# Percpu memory, as meminfo counts it (chunks, so a coarse figure).
percpu_kb()
{
	awk '$1 == "Percpu:" { print $2 }' /proc/meminfo
}

# ------------------------------------------------------------- a wave

FAILURES=0
FAIL_DETAIL=

failure()
{
	FAILURES=$((FAILURES + 1))
	# The first few are enough to see what goes wrong.
	[ "$FAILURES" -le 5 ] && FAIL_DETAIL+="$*"$'\n'
	return 0
}

# wave FIRST COUNT [control]: cycles FIRST .. FIRST+COUNT-1, all at once;
# with "control", the same namespaces, devices and datagrams without a
# mapping, for what the kernel itself keeps of them.
wave()
{
	local first=$1 count=$2 control=${3:-} i cyc peer=$PREFIX-peer-$1 out
	local try names=
	local -a dests=()

	{
		echo "netns add $peer"
		for ((i = 0; i < count; i++)); do
			echo "netns add $PREFIX-$((first + i))"
		done
	} >"$TMP/add.batch"
	if ! out=$(ip -b "$TMP/add.batch" 2>&1); then
		failure "cycle $first: namespaces not made: $out"
		return 1
	fi

	{
		for ((i = 0; i < count; i++)); do
			echo "link add p$i netns $peer type veth peer name eth0 netns $PREFIX-$((first + i))"
		done
	} >"$TMP/link.batch"
	out=$(ip -b "$TMP/link.batch" 2>&1) ||
		failure "cycle $first: veth pairs not made: $out"

	{
		for ((i = 0; i < count; i++)); do
			echo "addr add 198.18.$i.2/24 dev p$i"
			echo "addr add 2001:db8:18:$i::2/64 dev p$i nodad"
			echo "link set p$i up"
		done
	} >"$TMP/peer.batch"
	out=$(ip -n "$peer" -b "$TMP/peer.batch" 2>&1) ||
		failure "cycle $first: peer addresses: $out"

	for ((i = 0; i < count; i++)); do
		cyc=$PREFIX-$((first + i))
		printf '%s\n' "addr add 198.18.$i.1/24 dev eth0" \
			"addr add 2001:db8:18:$i::1/64 dev eth0 nodad" \
			"link set eth0 up" >"$TMP/cycle.batch"
		out=$(ip -n "$cyc" -b "$TMP/cycle.batch" 2>&1) ||
			failure "cycle $((first + i)): addresses: $out"

		# Both ways in: single commands, and (cheaper, so more often)
		# one transaction.
		if [ -n "$control" ]; then
			:
		elif (((first + i) % 4)); then
			# the module's lifecycle alone: no VIPs, no sysctls
			printf '%s\ndscp %s vip %s dev eth0\ndscp %s vip %s\n' \
				"vips unmanaged
sysctls unmanaged" \
				"$DSCP" "$VIP4" "$DSCP" "$VIP6" >"$TMP/table.conf"
			out=$("$L3DSRCTL" -n "$cyc" apply -f "$TMP/table.conf" 2>&1) ||
				failure "cycle $((first + i)): apply: $out"
		else
			out=$("$L3DSRCTL" -n "$cyc" add-mapping dscp "$DSCP" \
				vip "$VIP4" rip "198.18.$i.1" 2>&1 &&
			      "$L3DSRCTL" -n "$cyc" add-mapping dscp "$DSCP" \
				vip "$VIP6" 2>&1) ||
				failure "cycle $((first + i)): add-mapping: $out"
		fi
		dests+=("198.18.$i.1" "$PORT" "2001:db8:18:$i::1" "$PORT")
		names+=${names:+,}$cyc
	done

	out=$(ip netns exec "$peer" "$FLOW" -t "$TOS" -n "$DATAGRAMS" \
		udp-send "${dests[@]}" 2>&1) ||
		failure "cycle $first: sending: $out"

	# The datagrams are usually through when the sender exits; an IPv6
	# neighbour being resolved may hold the first ones back.
	for try in 1 2 3 4 5 6 7 8 9 10; do
		[ -n "$control" ] && break
		out=$("$NLREQ" -N "$names" dump 2>&1)
		[ "$(rewritten_all "$out")" = "$count" ] && break
		sleep 0.2
	done
	if [ -z "$control" ] && [ "$(rewritten_all "$out")" != "$count" ]; then
		failure "cycles $first..$((first + count - 1)):" \
			"$(rewritten_all "$out") of $count namespaces have" \
			"$DATAGRAMS rewritten per family (after $try tries): $out"
	fi

	{
		for ((i = 0; i < count; i++)); do
			echo "netns del $PREFIX-$((first + i))"
		done
		echo "netns del $peer"
	} >"$TMP/del.batch"
	out=$(ip -b "$TMP/del.batch" 2>&1) ||
		failure "cycle $first: namespaces not deleted: $out"
	return 0
}

# rewritten_all DUMPS: how many of the namespaces l3dsr_nlreq -N dumped
# hold exactly an inet and an inet6 mapping of DSCP, each having rewritten
# DATAGRAMS packets.
rewritten_all()
{
	awk -v dscp="$DSCP" -v n="$DATAGRAMS" '
		function judge() { if (ns != "" && ok == 2 && other == 0) good++ }
		$1 == "netns" { judge(); ns = $2; ok = 0; other = 0; next }
		$1 == "mapping" {
			if (($2 == "inet" || $2 == "inet6") && $3 == dscp &&
			    $5 == n)
				ok++
			else
				other++
		}
		END { judge(); print good + 0 }' <<< "$1"
}

# ------------------------------------------------------------------ run

# The initial namespace holds a table of its own the whole time.
run "$L3DSRCTL" flush
defer "$L3DSRCTL flush"
cat >"$TMP/init.conf" <<EOF
dscp $DSCP vip $VIP4
dscp 12 vip 203.0.113.12 down
dscp 46 vip $VIP6 clear-dscp
EOF
check "the initial namespace's table" "$L3DSRCTL" apply -f "$TMP/init.conf"

# One wave first, so that caches the kernel fills once are filled.
wave 0 "$WAVE"
if [ "$FAILURES" -gt 0 ]; then
	fail "a first wave of $WAVE cycles works" "$FAIL_DETAIL"
	tap_end
fi
pass "a first wave of $WAVE cycles works"

wait_until 300 bash -c "! ip netns list | grep -q '^$PREFIX-'"
INIT_BEFORE=$(init_state)
REFS_BEFORE=$(module_refs)
LSMOD_BEFORE=$(lsmod_line)
NETNS_OBJS_BEFORE=$(slab_objects net_namespace)
SLAB_BEFORE=$(slab_snapshot)
PERCPU_BEFORE=$(percpu_kb)
LIVE_BEFORE=$(live_objects_settled)

start=$(date +%s)
FAILURES=0
FAIL_DETAIL=
for ((c = 1; c <= CYCLES; c += WAVE)); do
	n=$WAVE
	[ $((c + n - 1)) -gt "$CYCLES" ] && n=$((CYCLES - c + 1))
	wave "$c" "$n"
done
elapsed=$(($(date +%s) - start))
note "$CYCLES cycles in $elapsed s, $WAVE at a time"
check_eq "every cycle made its namespace, mappings and traffic, and $DATAGRAMS datagrams per family were rewritten" \
	"0 failures" "$FAILURES failures"
[ "$FAILURES" -gt 0 ] && note "$FAIL_DETAIL"

# Namespaces are freed by a work queue, after their deletion returns.
check "every namespace made here is gone" \
	wait_until 600 bash -c "! ip netns list | grep -q '^$PREFIX-'"
# SLUB keeps a few freed namespaces' objects counted, one wave's at most:
# what matters is that the count does not grow with the cycles.
netns_freed()
{
	[ "$(slab_objects net_namespace)" -le $((NETNS_OBJS_BEFORE + WAVE + 1)) ]
}
[ -n "$NETNS_OBJS_BEFORE" ] && wait_until 600 netns_freed

check_eq "the initial namespace's table and counters did not move" \
	"$INIT_BEFORE" "$(init_state)"
check_eq "the module's reference count is back" "$REFS_BEFORE" \
	"$(module_refs)"
check_eq "lsmod says what it said before" "$LSMOD_BEFORE" "$(lsmod_line)"

if [ -z "$NETNS_OBJS_BEFORE" ]; then
	skip "no namespace left allocated" "no net_namespace slab to count"
else
	objs=$(slab_objects net_namespace)
	note "net_namespace objects: $NETNS_OBJS_BEFORE before, $objs after"
	check "no namespace left allocated (net_namespace objects at most a wave's more)" \
		netns_freed
fi

# growth BEFORE AFTER: "cache+N" for each kmalloc cache that grew, then
# "total+N most+N".
growth()
{
	awk 'NR == FNR { before[$1] = $2; next }
	     $2 > before[$1] { d = $2 - before[$1]
			       printf "%s+%d ", $1, d
			       sum += d
			       if (d > most) most = d }
	     END { printf "total+%d most+%d", sum, most }' \
		<(echo "$1") <(echo "$2")
}

# excess GROWTH CONTROL: the largest growth of one cache beyond what the
# control's cycles grew it by.
excess()
{
	awk 'NR == FNR { for (i = 1; i <= NF; i++) {
				 split($i, w, "+"); control[w[1]] = w[2] }
			 next }
	     { for (i = 1; i <= NF; i++) {
		       split($i, w, "+")
		       if (w[1] ~ /^(total|most)$/) continue
		       d = w[2] - control[w[1]]
		       if (d > most) most = d } }
	     END { print most + 0 }' <(echo "$2") <(echo "$1")
}

# A leak of one object per cycle would be CYCLES objects in some cache.
# Other modules loaded by earlier tests may keep objects of every
# namespace themselves (seen on 6.1 after the whole suite, never alone):
# a cache that grew by half a cycle's worth is judged against the same
# cycles made again without l3dsr's mappings.
if [ -n "$SLAB_BEFORE" ]; then
	# the sum of all caches' noise is no measure of one cache's leak
	grew=$(growth "$SLAB_BEFORE" "$(slab_snapshot)")
	note "kmalloc caches that grew: $grew; percpu ${PERCPU_BEFORE} kB -> $(percpu_kb) kB"
	most=${grew##*most+}
	control=
	if ! have_kasan && [ "$most" -ge $((CYCLES / 2)) ]; then
		control_before=$(slab_snapshot)
		for ((c = 1; c <= CYCLES; c += WAVE)); do
			n=$WAVE
			[ $((c + n - 1)) -gt "$CYCLES" ] && n=$((CYCLES - c + 1))
			wave "$c" "$n" control
		done
		wait_until 300 bash -c "! ip netns list | grep -q '^$PREFIX-'"
		control=$(growth "$control_before" "$(slab_snapshot)")
		note "the same $CYCLES cycles without l3dsr's mappings grew: $control"
		most=$(excess "$grew" "$control")
	fi
	if have_kasan; then
		skip "kmalloc caches did not grow by a cycle's worth" \
			"KASAN's quarantine holds freed objects; kmemleak decides"
	elif [ "$most" -lt $((CYCLES / 2)) ]; then
		pass "kmalloc caches did not grow by a cycle's worth (at most +$most objects in one cache for $CYCLES cycles${control:+, beyond the same cycles without l3dsr})"
	else
		fail "kmalloc caches did not grow by a cycle's worth" \
			"+$most objects in one cache for $CYCLES cycles${control:+ beyond the same cycles without l3dsr ($control)}: $grew"
	fi
else
	skip "kmalloc caches did not grow by a cycle's worth" "no /sys/kernel/slab"
fi

# The last wave's namespaces may still be on their way out: their objects
# go with them.
check_live_objects "the module's live objects are what they were" \
	"$LIVE_BEFORE"

tap_end
