#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unloading under load: `rmmod l3dsr` while everything uses the module at
# once, then loading it again at once (what `systemctl restart`, a DKMS
# upgrade or a postinst does), UNLOAD_ROUNDS times (default 50). In each
# round all of these hold on:
#
#   flows    marked UDP datagrams of both families keep arriving
#   monitor  `l3dsrctl monitor` is subscribed to the config group
#   sysfs    /sys/kernel/l3dsr/stats/rewritten is held open (exec 9<)
#   dump     (odd rounds) a dump was started and is not read
#            (l3dsr_nlreq -S), read to its end or closed unread in turn
#
# Each round: rmmod either succeeds or is refused cleanly (the module is in
# use: EBUSY/EAGAIN) and then succeeds once the dump lets go; the sysfs
# directory is gone with the module; the file held open across the unload
# reads an error, not a crash; modprobe right after rmmod succeeds, the
# flows and the monitor still running; and the module works again: a
# mapping rewrites marked datagrams.
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

# release CASE ROUND: the holder lets go: a dump (held on odd rounds) is
# read to its end on rounds 1, 5, 9, ..., its socket closed unread on
# rounds 3, 7, 11, ...
release()
{
	case $1 in
	dump)
		if ((($2 / 2) % 2)); then
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

# --------------------------------------------------------------- a round

declare -A COUNT=()
DETAIL=

count()
{
	COUNT[$1]=$((${COUNT[$1]:-0} + 1))
}

detail()
{
	# the first few are enough
	[ "$(grep -c . <<< "$DETAIL")" -lt 5 ] && DETAIL+="$*"$'\n'
	return 0
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

# HELD: the holders of this round, by case name, with their pids.
declare -A HELD=()

hold_all()
{
	local name

	for name in "$@"; do
		hold "$name" || return 1
		HELD[$name]=$HOLDER_PID
	done
}

# let_go NAME ROUND: that holder, if it still holds.
let_go()
{
	[ -n "${HELD[$1]+set}" ] || return 0
	HOLDER_PID=${HELD[$1]}
	release "$1" "$2"
	unset "HELD[$1]"
}

# one_round ROUND: every holder at once (a dump only on odd rounds, since
# an unread dump keeps the module in use and the other rounds unload
# under the rest), rmmod, reload, and the module works again.
one_round()
{
	local round=$1 value t name
	local -a holders=(flows monitor sysfs)

	((round % 2)) && holders+=(dump)
	# the last round's reload made them; a failed one may not have
	if [ "$(srv_mappings)" != 2 ] && ! timed tables tables; then
		detail "round $round: the tables could not be made"
		count bad
		return
	fi
	if ! timed hold hold_all "${holders[@]}"; then
		detail "round $round: a holder did not start"
		for name in "${!HELD[@]}"; do
			let_go "$name" "$round"
		done
		count bad
		return
	fi

	if timed rmmod rmmod_now; then
		count "at_once_${#holders[@]}"
	elif [[ "$RMMOD_OUT" =~ in\ use|temporarily\ unavailable|resource\ busy ]]; then
		count "refused_${#holders[@]}"
		# the dump first: it is what may keep the module in use
		let_go dump "$round"
		for t in 1 2 3 4 5 6 7 8 9 10; do
			rmmod_now && break
			sleep 0.2
		done
		if ! module_gone; then
			detail "round $round: rmmod still fails once the dump let go: $RMMOD_OUT"
			count bad
		fi
	else
		detail "round $round: rmmod failed uncleanly: $RMMOD_OUT"
		count bad
	fi

	if module_gone; then
		if [ -e /sys/kernel/l3dsr ]; then
			detail "round $round: /sys/kernel/l3dsr is still there after rmmod"
		else
			count sysfs_gone
		fi
	fi
	# A file held open across the unload reads an error.
	if [ "$SYSFS_OPEN" = 1 ]; then
		if { read -r value <&9; } 2>/dev/null; then
			detail "round $round: the stale sysfs file still reads '$value'"
		else
			count stale_ok
		fi
	fi

	# Loaded again at once, the flows and the monitor still running.
	if ! timed modprobe modprobe_now; then
		detail "round $round: modprobe right after rmmod failed: $MODPROBE_OUT; $(dmesg | tail -n 3)"
		count bad
		for t in 1 2 3 4 5 6 7 8 9 10; do
			modprobe l3dsr 2>/dev/null && break
			sleep 1
		done
	else
		count reloaded
	fi
	if timed tables tables && timed works works; then
		count worked
	else
		detail "round $round: no rewrite after the reload"
	fi
	for name in "${!HELD[@]}"; do
		let_go "$name" "$round"
	done
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
	one_round "$round"
done
elapsed=$(($(date +%s) - start))
note "$ROUNDS unloads in $elapsed s; seconds spent: $(for k in "${!STAGE_US[@]}"; do printf '%s %s.%03d, ' "$k" $((STAGE_US[$k] / 1000000)) $((STAGE_US[$k] / 1000 % 1000)); done)"
note "flows, monitor and sysfs held: rmmod at once ${COUNT[at_once_3]:-0}, refused ${COUNT[refused_3]:-0}; with a dump as well: at once ${COUNT[at_once_4]:-0}, refused ${COUNT[refused_4]:-0}"
[ -n "$DETAIL" ] && note "$DETAIL"

check_eq "rmmod under flows, a monitor, an open sysfs file and (every other round) a dump succeeded or was refused cleanly, then succeeded, $ROUNDS times" \
	"$ROUNDS 0" \
	"$((${COUNT[at_once_3]:-0} + ${COUNT[refused_3]:-0} + ${COUNT[at_once_4]:-0} + ${COUNT[refused_4]:-0})) ${COUNT[bad]:-0}"
check_eq "the sysfs directory went with the module, $ROUNDS times" \
	"$ROUNDS" "${COUNT[sysfs_gone]:-0}"
check_eq "the sysfs file held open reads an error after the unload, $ROUNDS times" \
	"$ROUNDS" "${COUNT[stale_ok]:-0}"
check_eq "modprobe right after rmmod succeeded, $ROUNDS times" \
	"$ROUNDS" "${COUNT[reloaded]:-0}"
check_eq "the reloaded module rewrote a marked datagram, $ROUNDS times" \
	"$ROUNDS" "${COUNT[worked]:-0}"
check_eq "the module's reference count is 0 at the end" 0 \
	"$(cat /sys/module/l3dsr/refcnt 2>&1)"

tap_end
