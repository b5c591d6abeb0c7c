#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unloading under load: `rmmod l3dsr` while something uses the module, then
# loading it again at once (what `systemctl restart`, a DKMS upgrade or a
# postinst does), UNLOAD_ROUNDS times (default 50), each round through four
# cases:
#
#   flows    marked UDP datagrams of both families keep arriving
#   dump     a dump was started and is not read (l3dsr_nlreq -S)
#   monitor  `l3dsrctl monitor` is subscribed to the config group
#   sysfs    /sys/kernel/l3dsr/stats/rewritten is held open (exec 9<)
#
# Each case: rmmod either succeeds or is refused cleanly (the module is in
# use: EBUSY/EAGAIN) and then succeeds once the holder lets go; the sysfs
# directory is gone with the module; a file held open across the unload
# reads an error, not a crash; modprobe right after rmmod succeeds; and the
# module works again: a mapping rewrites a marked datagram.
#
#   +----------------------+         +----------------------------+
#   | peer                 |         | srv (the table under test) |
#   |  192.0.2.2/24   eth0 +---------+ eth0  192.0.2.1/24         |
#   |  2001:db8:1::2/64    |         |       2001:db8:1::1/64     |
#   +----------------------+         |  DSCP 10 -> VIP4, VIP6     |
#   sends DSCP 10 to .1 and ::1      +----------------------------+
#
# The initial namespace holds a mapping too, so that its sysfs directory
# is there to go with the module.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly ROUNDS=${UNLOAD_ROUNDS:-50}
readonly FLOW="$SELFTESTS_DIR/l3dsr_flow"
readonly NLREQ="$SELFTESTS_DIR/l3dsr_nlreq"
readonly SRV4=192.0.2.1
readonly PEER4=192.0.2.2
readonly SRV6=2001:db8:1::1
readonly PEER6=2001:db8:1::2
readonly PORT=9700
readonly CASES=(flows dump monitor sysfs)

require_l3dsr
require_cmds lsmod rmmod timeout
{ [ -x "$FLOW" ] && [ -x "$NLREQ" ]; } ||
	skip_all "needs $FLOW and $NLREQ (run make in selftests/)"
tap_begin
scratch_dir TMP || skip_all "cannot create a scratch directory"

setup()
{
	ns_new NS_SRV srv && ns_new NS_PEER peer || return 1
	run ip -n "$NS_SRV" link add eth0 type veth \
		peer name eth0 netns "$NS_PEER" &&
	run ip -n "$NS_SRV" addr add "$SRV4/24" dev eth0 &&
	run ip -n "$NS_SRV" addr add "$SRV6/64" dev eth0 nodad &&
	run ip -n "$NS_PEER" addr add "$PEER4/24" dev eth0 &&
	run ip -n "$NS_PEER" addr add "$PEER6/64" dev eth0 nodad &&
	run ip -n "$NS_SRV" addr add "$VIP4/32" dev lo &&
	run ip -n "$NS_SRV" addr add "$VIP6/128" dev lo nodad &&
	run ip -n "$NS_SRV" link set eth0 up &&
	run ip -n "$NS_PEER" link set eth0 up || return 1
	run "$L3DSRCTL" flush
	defer "$L3DSRCTL flush"
	# whatever happens, the module is left loaded for the next test
	defer "modprobe l3dsr"
}

# tables: both namespaces' mappings, after a load (l3dsr_nlreq's
# SET_TABLE: a static program starts fast, and this runs 400 times).
tables()
{
	"$NLREQ" -N "$NS_SRV" table "inet,$DSCP,$VIP4" "inet6,$DSCP,$VIP6" \
		>/dev/null &&
	"$NLREQ" table "inet,$DSCP,$VIP4" >/dev/null
}

# srv_packets: what srv's mappings rewrote (l3dsr_nlreq: a static program
# starts faster than l3dsrctl and jq, and this is polled).
srv_packets()
{
	"$NLREQ" -N "$NS_SRV" dump 2>/dev/null |
		awk '$1 == "mapping" { sum += $5 } END { print sum + 0 }'
}

# works: one marked datagram per family is rewritten.
works()
{
	local before

	before=$(srv_packets)
	ip netns exec "$NS_PEER" "$FLOW" -t "$DSCP_TOS" -n 1 \
		udp-send "$SRV4" "$PORT" "$SRV6" "$PORT" >/dev/null || return 1
	wait_until 30 packets_above $((before + 1))
}

srv_mappings()
{
	"$NLREQ" -N "$NS_SRV" dump 2>/dev/null | awk '$1 == "mappings" { print $2 }'
}

packets_above()
{
	[ "$(srv_packets)" -gt "$1" ]
}

module_gone()
{
	! grep -q '^l3dsr ' /proc/modules && [ ! -e /sys/module/l3dsr ]
}

# ------------------------------------------------------------ the holders

HOLDER_PID=
SYSFS_OPEN=0

hold()
{
	case $1 in
	flows)
		ip netns exec "$NS_PEER" "$FLOW" -t "$DSCP_TOS" -n 1000000 \
			-i 2000 udp-send "$SRV4" "$PORT" "$SRV6" "$PORT" \
			>/dev/null 2>&1 &
		HOLDER_PID=$!
		track_pid "$HOLDER_PID"
		wait_until 30 packets_above "$(srv_packets)"
		;;
	dump)
		"$NLREQ" -N "$NS_SRV" -S 60 dump >"$TMP/dump.out" 2>&1 &
		HOLDER_PID=$!
		track_pid "$HOLDER_PID"
		wait_until 50 grep -q '^sent$' "$TMP/dump.out"
		;;
	monitor)
		"$L3DSRCTL" -n "$NS_SRV" monitor >"$TMP/monitor.out" 2>&1 &
		HOLDER_PID=$!
		track_pid "$HOLDER_PID"
		# subscribed once it reports a change: poke until it does
		wait_until 50 bash -c "'$L3DSRCTL' -n '$NS_SRV' set-mapping dscp $DSCP down >/dev/null &&
			'$L3DSRCTL' -n '$NS_SRV' set-mapping dscp $DSCP up >/dev/null &&
			grep -q . '$TMP/monitor.out'"
		;;
	sysfs)
		# opened, never read: a read after the unload must fail
		exec 9</sys/kernel/l3dsr/stats/rewritten || return 1
		SYSFS_OPEN=1
		;;
	esac
}

# release CASE ROUND: the holder lets go: a dump is read to its end on even
# rounds, its socket closed unread on odd ones.
release()
{
	case $1 in
	dump)
		if (($2 % 2)); then
			kill -KILL "$HOLDER_PID" 2>/dev/null
		else
			kill -USR1 "$HOLDER_PID" 2>/dev/null
		fi
		wait "$HOLDER_PID" 2>/dev/null
		;;
	sysfs)
		exec 9<&-
		SYSFS_OPEN=0
		;;
	*)
		kill "$HOLDER_PID" 2>/dev/null
		wait "$HOLDER_PID" 2>/dev/null
		;;
	esac
	HOLDER_PID=
}

# ---------------------------------------------------------------- a case

declare -A AT_ONCE=() REFUSED=() BAD=() RELOADED=() WORKED=() STALE_OK=()
declare -A SYSFS_GONE=() DETAIL=()

detail()
{
	local key=$1

	shift
	# the first few per case are enough
	[ "$(grep -c . <<< "${DETAIL[$key]:-}")" -lt 3 ] &&
		DETAIL[$key]+="$*"$'\n'
	return 0
}

count()
{
	local -n counter=$1

	counter[$2]=$((${counter[$2]:-0} + 1))
}

# timed STAGE COMMAND...: run it, adding its time to the stage's total.
declare -A STAGE_US=()
timed()
{
	local stage=$1 t0=${EPOCHREALTIME/./} rc

	shift
	"$@"
	rc=$?
	STAGE_US[$stage]=$((${STAGE_US[$stage]:-0} + ${EPOCHREALTIME/./} - t0))
	return "$rc"
}

rmmod_now()
{
	RMMOD_OUT=$(rmmod l3dsr 2>&1)
}

modprobe_now()
{
	MODPROBE_OUT=$(modprobe l3dsr 2>&1)
}

one_case()
{
	local name=$1 round=$2 value t

	# the last case's reload made them; a failed one may not have
	if [ "$(srv_mappings)" != 2 ] && ! timed tables tables; then
		detail "$name" "round $round: the tables could not be made"
		count BAD "$name"
		return
	fi
	if ! timed hold hold "$name"; then
		detail "$name" "round $round: the holder did not start"
		release "$name" "$round"
		count BAD "$name"
		return
	fi

	if timed rmmod rmmod_now; then
		count AT_ONCE "$name"
	elif [[ "$RMMOD_OUT" =~ in\ use|temporarily\ unavailable|resource\ busy ]]; then
		count REFUSED "$name"
		release "$name" "$round"
		for t in 1 2 3 4 5 6 7 8 9 10; do
			rmmod_now && break
			sleep 0.2
		done
		if ! module_gone; then
			detail "$name" "round $round: rmmod still fails once the holder let go: $RMMOD_OUT"
			count BAD "$name"
		fi
	else
		detail "$name" "round $round: rmmod failed uncleanly: $RMMOD_OUT"
		count BAD "$name"
		release "$name" "$round"
	fi

	if module_gone; then
		if [ -e /sys/kernel/l3dsr ]; then
			detail "$name" "round $round: /sys/kernel/l3dsr is still there after rmmod"
		else
			count SYSFS_GONE "$name"
		fi
	fi
	# A file held open across the unload reads an error.
	if [ "$SYSFS_OPEN" = 1 ]; then
		if { read -r value <&9; } 2>/dev/null; then
			detail sysfs "round $round: the stale file still reads '$value'"
		else
			count STALE_OK sysfs
		fi
	fi

	# Loaded again at once.
	if ! timed modprobe modprobe_now; then
		t=$MODPROBE_OUT
		detail "$name" "round $round: modprobe right after rmmod failed: $t; $(dmesg | tail -n 3)"
		count BAD "$name"
		for t in 1 2 3 4 5 6 7 8 9 10; do
			modprobe l3dsr 2>/dev/null && break
			sleep 1
		done
	else
		count RELOADED "$name"
	fi
	if timed tables tables && timed works works; then
		count WORKED "$name"
	else
		detail "$name" "round $round: no rewrite after the reload"
	fi
	if [ -n "$HOLDER_PID" ] || [ "$SYSFS_OPEN" = 1 ]; then
		release "$name" "$round"
	fi
	return 0
}

# ------------------------------------------------------------------- run

set_up setup
if tables && works; then
	pass "the module works before anything"
else
	fail "the module works before anything"
	tap_end
fi

start=$(date +%s)
for ((round = 1; round <= ROUNDS; round++)); do
	for name in "${CASES[@]}"; do
		one_case "$name" "$round"
	done
done
elapsed=$(($(date +%s) - start))
note "$ROUNDS rounds of ${#CASES[@]} unloads in $elapsed s; seconds spent: $(for k in "${!STAGE_US[@]}"; do printf '%s %s.%03d, ' "$k" $((STAGE_US[$k] / 1000000)) $((STAGE_US[$k] / 1000 % 1000)); done)"

for name in "${CASES[@]}"; do
	note "$name: rmmod at once ${AT_ONCE[$name]:-0}, refused while held ${REFUSED[$name]:-0}"
	check_eq "$name: rmmod succeeded or was refused cleanly, then succeeded, $ROUNDS times" \
		"$ROUNDS 0" \
		"$((${AT_ONCE[$name]:-0} + ${REFUSED[$name]:-0})) ${BAD[$name]:-0}"
	check_eq "$name: the sysfs directory went with the module" \
		"$ROUNDS" "${SYSFS_GONE[$name]:-0}"
	check_eq "$name: modprobe right after rmmod succeeded" \
		"$ROUNDS" "${RELOADED[$name]:-0}"
	check_eq "$name: the reloaded module rewrote a marked datagram" \
		"$ROUNDS" "${WORKED[$name]:-0}"
	[ -n "${DETAIL[$name]:-}" ] && note "${DETAIL[$name]}"
done
check_eq "sysfs: the file held open reads an error after the unload" \
	"$ROUNDS" "${STALE_OK[sysfs]:-0}"
check_eq "the module's reference count is 0 at the end" 0 \
	"$(cat /sys/module/l3dsr/refcnt 2>&1)"

tap_end
