#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reconfiguration under traffic. TCP and UDP flows of both families run
# from the client to the VIPs through the balancer topology of l3dsr_e2e.sh
# (drawn there: client -> router -> lb, which marks DSCP 10 and sends to the
# RIP -> router -> server, the initial namespace) while the table is changed
# RECONFIG_OPS times (default 1000) by one process: replace, set-mapping
# down/up, del/add, apply and dumps, of the flows' mappings and of others.
#
#   first half: only changes a packet of the flows must never notice (the
#               flows' mappings replaced by others that still rewrite them,
#               every other mapping added, changed, drained and deleted,
#               whole tables applied that keep the flows' mappings);
#   second half: the flows' mappings also taken down and up, deleted and
#               added, left out of an applied table and put back, flushed.
#
# Asserted:
#   - every UDP datagram that arrives is intact (each carries the hash of
#     its payload), and every one lost was sent while its mapping was
#     absent or down (the change's command running, RECONFIG_MARGIN_MS
#     either side): none in the first half;
#   - every TCP transfer (repeated, new connections, both families, a
#     second apart: RECONFIG_TCP_PAUSE) arrives whole: the sha256 of what
#     was sent;
#   - counters are monotonic: the namespace's, read after every dump and
#     by a sampler running beside (sysfs and stats -j), "rewritten" across
#     deletes included; a mapping's, for as long as it is not deleted;
#   - the table ends as the commands left it: applying the model the test
#     kept of it changes nothing (save and show -j before and after).
# RECONFIG_SEED makes the sequence of changes repeatable; it is printed.

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly OPS=${RECONFIG_OPS:-1000}
readonly SEED=${RECONFIG_SEED:-$(($(date +%s) % 32768))}
readonly MARGIN_MS=${RECONFIG_MARGIN_MS:-100}
readonly FLOW="$SELFTESTS_DIR/l3dsr_flow"
readonly UDP_PORT=9500
readonly TCP_PORTS=(9601 9602)
readonly TCP_BYTES=${RECONFIG_TCP_BYTES:-524288}
# seconds each TCP flow rests between two transfers
readonly TCP_PAUSE=${RECONFIG_TCP_PAUSE:-1}
# 25 rounds a second, two flows per family: 100 datagrams a second, light
# enough to leave the one CPU of the guest to the changes
readonly UDP_INTERVAL_US=40000
# DSCPs that carry no traffic, changed at will in both halves
readonly OTHERS=(20 21 22 30 46)

require_l3dsr
require_cmds sha256sum timeout
[ -x "$FLOW" ] || skip_all "needs $FLOW (run make in selftests/)"
tap_begin
scratch_dir TMP || skip_all "cannot create a scratch directory"
note "seed $SEED, $OPS changes"
RANDOM=$SEED

set_up topo_setup
run "$L3DSRCTL" flush
defer "$L3DSRCTL flush"

# ------------------------------------------------------------- the model
#
# MODEL[FAMILY/DSCP] = "VIP RIP DEV CLEAR DOWN", "-" for no rip or dev,
# 0/1 for the flags; EPOCH[FAMILY/DSCP] grows when the slot is emptied,
# which is the only thing that may start a mapping's counters again.

declare -A MODEL=() EPOCH=()

fam_of()
{
	[ "$1" = 4 ] && echo inet || echo inet6
}

model_set()
{
	MODEL[$1]=$2
}

model_del()
{
	unset "MODEL[$1]"
	EPOCH[$1]=$((${EPOCH[$1]:-0} + 1))
}

# words KEY: the mapping in the words of add-mapping and of a table file,
# in WORDS (an array; no subshell: forks are dear under emulation).
words()
{
	local -a f

	read -r -a f <<< "${MODEL[$1]}"
	WORDS=(dscp "${1#*/}" vip "${f[0]}")
	[ "${f[1]}" != - ] && WORDS+=(rip "${f[1]}")
	[ "${f[2]}" != - ] && WORDS+=(dev "${f[2]}")
	[ "${f[3]}" = 1 ] && WORDS+=(clear-dscp)
	[ "${f[4]}" = 1 ] && WORDS+=(down)
	return 0
}

# model_conf: the whole model as a table file, inet first, by DSCP.
model_conf()
{
	local fam dscp

	for fam in 4 6; do
		for ((dscp = 1; dscp <= 63; dscp++)); do
			[ -n "${MODEL[$fam/$dscp]:-}" ] || continue
			words "$fam/$dscp"
			echo "${WORDS[*]}"
		done
	done
}

# The random choices are made in this shell, never in a $(...) subshell,
# whose RANDOM would not follow the seed: results come back in TARGET.

# flow_target FAMILY: a mapping for the flows' slot that still rewrites
# them: the VIP, scoped or not to what the requests really arrive with,
# clearing or not.
flow_target()
{
	local fam=$1 vip=$VIP4 rip=$RIP4 rip_arg=- dev_arg=- clear=0

	[ "$fam" = 6 ] && vip=$VIP6 rip=$RIP6
	case $((RANDOM % 5)) in
	1) rip_arg=$rip ;;
	2) dev_arg=$SERVER_IF ;;
	3) rip_arg=$rip dev_arg=$SERVER_IF ;;
	esac
	((RANDOM % 2)) && clear=1
	TARGET="$vip $rip_arg $dev_arg $clear"
}

# other_target FAMILY: a mapping for another slot: any VIP, sometimes
# scoped.
other_target()
{
	local fam=$1 n=$((RANDOM % 200 + 1)) vip rip=- dev=-

	if [ "$fam" = 4 ]; then
		vip=203.0.113.$n
		((RANDOM % 4)) || rip=$RIP4_OTHER
	else
		vip=2001:db8:113::$n
		((RANDOM % 4)) || rip=$RIP6_OTHER
	fi
	((RANDOM % 5)) || dev=lo
	TARGET="$vip $rip $dev $((RANDOM % 2))"
}

# ------------------------------------------------------------- commands

OPS_DONE=0
OPS_FAILED=0
OPS_DETAIL=
declare -A OPS_BY_KIND=() OPS_US=()

# ctl KIND ARGS...: one change; a failure is counted, never fatal.
ctl()
{
	local kind=$1 out t0 t1

	shift
	OPS_DONE=$((OPS_DONE + 1))
	OPS_BY_KIND[$kind]=$((${OPS_BY_KIND[$kind]:-0} + 1))
	t0=${EPOCHREALTIME/./}
	if ! out=$("$L3DSRCTL" "$@" 2>&1); then
		OPS_FAILED=$((OPS_FAILED + 1))
		[ "$OPS_FAILED" -le 5 ] && OPS_DETAIL+="$*: $out"$'\n'
		return 1
	fi
	t1=${EPOCHREALTIME/./}
	OPS_US[$kind]=$((${OPS_US[$kind]:-0} + t1 - t0))
	CTL_OUT=$out
}

# put KEY TARGET: replace (or add, when empty) the slot's mapping with
# TARGET, its down state kept.
put()
{
	local key=$1 down=0 cmd=replace-mapping
	local -a f

	read -r -a f <<< "$2"
	if [ -n "${MODEL[$key]:-}" ]; then
		down=${MODEL[$key]##* }
	elif ((RANDOM % 2)); then
		cmd=add-mapping
	fi
	model_set "$key" "${f[0]} ${f[1]} ${f[2]} ${f[3]} 0"
	# the words without "down", which add-mapping would refuse
	words "$key"
	model_set "$key" "${f[0]} ${f[1]} ${f[2]} ${f[3]} $down"
	ctl "$cmd" "$cmd" "${WORDS[@]}"
}

del()
{
	model_del "$1"
	ctl del-mapping "-${1%/*}" del-mapping dscp "${1#*/}"
}

set_state()
{
	local key=$1 state=$2
	local -a f

	read -r -a f <<< "${MODEL[$key]}"
	f[4]=0
	[ "$state" = down ] && f[4]=1
	model_set "$key" "${f[*]}"
	ctl set-mapping "-${key%/*}" set-mapping dscp "${key#*/}" "$state"
}

# apply [WITHOUT...]: a whole new table: the flows' slots (but those
# named) with targets that keep rewriting them, others at random.
apply_table()
{
	local key fam dscp
	local -A new=()

	for fam in 4 6; do
		if [[ " $* " != *" $fam/$DSCP "* ]]; then
			flow_target "$fam"
			new[$fam/$DSCP]="$TARGET 0"
		fi
		for dscp in "${OTHERS[@]}"; do
			((RANDOM % 2)) || continue
			other_target "$fam"
			new[$fam/$dscp]="$TARGET $((RANDOM % 2))"
		done
	done
	# A slot in both tables keeps its counters; one left out is emptied.
	for key in "${!MODEL[@]}"; do
		[ -n "${new[$key]:-}" ] || model_del "$key"
	done
	for key in "${!new[@]}"; do
		model_set "$key" "${new[$key]}"
	done
	model_conf >"$TMP/apply.conf"
	ctl apply apply -f "$TMP/apply.conf"
}

# ----------------------------------------------------- gaps in a flow slot
#
# A window during which a family's flows may lose datagrams: from before
# the command that takes the mapping away to after the one that brings it
# back. Microseconds, as l3dsr_flow logs send times.

gap()
{
	local fam=$1 start=${EPOCHREALTIME/./}

	shift
	"$@"
	echo "$fam $start ${EPOCHREALTIME/./}" >>"$TMP/gaps"
}

gap_down_up()
{
	set_state "$1/$DSCP" down
	set_state "$1/$DSCP" up
}

gap_del_add()
{
	del "$1/$DSCP"
	flow_target "$1"
	put "$1/$DSCP" "$TARGET"
}

gap_apply()
{
	apply_table "$1/$DSCP"
	apply_table
}

gap_flush()
{
	local key

	for key in "${!MODEL[@]}"; do
		[ "${key%/*}" = "$1" ] && model_del "$key"
	done
	ctl flush "-$1" flush
	flow_target "$1"
	put "$1/$DSCP" "$TARGET"
}

# ---------------------------------------------------------- monotonicity

declare -A LAST_PACKETS=() LAST_EPOCH=()
LAST_STATS=
MONO_FAILED=0
MONO_DETAIL=
SAMPLES=0

mono_fail()
{
	MONO_FAILED=$((MONO_FAILED + 1))
	[ "$MONO_FAILED" -le 5 ] && MONO_DETAIL+="$*"$'\n'
	return 0
}

# sample: a dump; every counter against the last dump's.
sample()
{
	local line fam dscp packets key name value stats
	local -A before=()

	ctl show "-j" show || return
	while read -r fam dscp packets; do
		key=4/$dscp
		[ "$fam" = inet6 ] && key=6/$dscp
		if [ "${LAST_EPOCH[$key]:-x}" = "${EPOCH[$key]:-0}" ] &&
		   [ "$packets" -lt "${LAST_PACKETS[$key]}" ]; then
			mono_fail "$fam DSCP $dscp: packets went from ${LAST_PACKETS[$key]} to $packets"
		fi
		LAST_PACKETS[$key]=$packets
		LAST_EPOCH[$key]=${EPOCH[$key]:-0}
	done < <(jq -r '.[] | "\(.family) \(.dscp) \(.packets)"' <<< "$CTL_OUT")

	ctl stats "-j" stats || return
	stats=$(jq -r 'to_entries[] | "\(.key) \(.value)"' <<< "$CTL_OUT")
	while read -r name value; do
		[ -n "$name" ] && before[$name]=$value
	done <<< "$LAST_STATS"
	while read -r name value; do
		[ -n "$name" ] || continue
		if [ -n "${before[$name]:-}" ] && [ "$value" -lt "${before[$name]}" ]; then
			mono_fail "stats $name went from ${before[$name]} to $value"
		fi
	done <<< "$stats"
	LAST_STATS=$stats
	SAMPLES=$((SAMPLES + 1))
}

# The sampler beside: sysfs every pass, stats -j every fifth; a decrease
# of any counter is written to its file. It sleeps on a FIFO nobody
# writes, rather than start a sleep process each time: the guest has one
# CPU, and the changes need it.
sampler()
{
	local -A last=()
	local file name value pass=0 out fd

	mkfifo "$TMP/never" && exec {fd}<>"$TMP/never" || return 1

	while [ ! -e "$TMP/stop-sampler" ]; do
		for file in /sys/kernel/l3dsr/stats/*; do
			name=${file##*/}
			read -r value <"$file" 2>/dev/null || continue
			if [ -n "${last[sysfs_$name]:-}" ] &&
			   [ "$value" -lt "${last[sysfs_$name]}" ]; then
				echo "sysfs $name went from ${last[sysfs_$name]} to $value"
			fi
			last[sysfs_$name]=$value
		done
		pass=$((pass + 1))
		if ((pass % 5 == 0)) && out=$("$L3DSRCTL" -j stats 2>/dev/null); then
			while read -r name value; do
				if [ -n "${last[nl_$name]:-}" ] &&
				   [ "$value" -lt "${last[nl_$name]}" ]; then
					echo "stats -j $name went from ${last[nl_$name]} to $value"
				fi
				last[nl_$name]=$value
			done < <(jq -r 'to_entries[] | "\(.key) \(.value)"' <<< "$out")
		fi
		read -r -t 0.4 -u "$fd"
	done
	echo "passes $pass"
}

# ---------------------------------------------------------------- flows

# tcp_loop FAMILY PORT: transfers one after the other, TCP_PAUSE apart,
# until told to stop, each a new connection; one "ok" or "bad ..." line per
# transfer.
tcp_loop()
{
	local fam=$1 port=$2 vip=$VIP4 n=0 recv_pid got sent_sum pause

	[ "$fam" = 6 ] && vip=$VIP6
	sent_sum=$(sha256sum <"$TMP/tcp.data" | cut -d' ' -f1)
	mkfifo "$TMP/tcp-pause-$fam-$port" &&
		exec {pause}<>"$TMP/tcp-pause-$fam-$port" || return 1
	while [ ! -e "$TMP/stop-tcp" ]; do
		# a breath between transfers, or four of them back to back
		# leave the guest's one CPU little for the changes
		((n)) && read -r -t "$TCP_PAUSE" -u "$pause"
		n=$((n + 1))
		"$PEER" -w 120 tcp-recv "$vip" "$port" 2>/dev/null |
			sha256sum >"$TMP/tcp-$fam-$port.sum" &
		recv_pid=$!
		if ! wait_listener "" tcp "$port" >/dev/null; then
			echo "bad $n: no listener"
			kill "$recv_pid" 2>/dev/null
			wait "$recv_pid"
			continue
		fi
		# paced so that a transfer takes about sixteen seconds
		if ! ip netns exec "$NS_CLIENT" "$FLOW" -w 120 \
			-b $((TCP_BYTES / 16)) tcp-send "$vip" "$port" \
			<"$TMP/tcp.data" >/dev/null 2>"$TMP/tcp-$fam-$port.err"; then
			echo "bad $n: sending failed: $(cat "$TMP/tcp-$fam-$port.err")"
			kill "$recv_pid" 2>/dev/null
			wait "$recv_pid"
			continue
		fi
		wait "$recv_pid"
		got=$(cut -d' ' -f1 "$TMP/tcp-$fam-$port.sum")
		if [ "$got" = "$sent_sum" ]; then
			echo "ok $n"
		else
			echo "bad $n: sha256 $got, sent $sent_sum"
		fi
	done
}

udp_sinks_listening()
{
	[ "$(ss -Hlnu "sport = :$UDP_PORT" | wc -l)" = 2 ]
}

start_flows()
{
	local fam port pid

	head -c "$TCP_BYTES" /dev/urandom >"$TMP/tcp.data"
	for fam in 4 6; do
		local vip=$VIP4
		[ "$fam" = 6 ] && vip=$VIP6
		"$FLOW" -w 900 -l "$TMP/udp-sink-$fam.log" \
			udp-sink "$vip" "$UDP_PORT" >"$TMP/udp-sink-$fam.out" 2>&1 &
		pid=$!
		track_pid "$pid"
		SINK_PIDS+=("$pid")
	done
	wait_until 100 udp_sinks_listening || return 1

	# Enough rounds to outlast the changes; stopped when they are done.
	for fam in 4 6; do
		local vip=$VIP4 flow=1
		[ "$fam" = 6 ] && vip=$VIP6 flow=11
		ip netns exec "$NS_CLIENT" "$FLOW" -w 900 -n 1000000 \
			-i "$UDP_INTERVAL_US" -s 200 -f "$flow" \
			-l "$TMP/udp-send-$fam.log" \
			udp-send "$vip" "$UDP_PORT" "$vip" "$UDP_PORT" \
			>"$TMP/udp-send-$fam.out" 2>&1 &
		pid=$!
		track_pid "$pid"
		SENDER_PIDS+=("$pid")
	done

	for fam in 4 6; do
		for port in "${TCP_PORTS[@]}"; do
			tcp_loop "$fam" "$port" >"$TMP/tcp-$fam-$port.results" 2>&1 &
			pid=$!
			track_pid "$pid"
			TCP_PIDS+=("$pid")
		done
	done

	sampler >"$TMP/sampler.out" 2>&1 &
	SAMPLER_PID=$!
	track_pid "$SAMPLER_PID"
}

# ----------------------------------------------------------- the changes

# One change of the first half: nothing the flows could notice.
hitless_op()
{
	local fam=$((RANDOM % 2 ? 4 : 6)) dscp key state=up

	dscp=${OTHERS[RANDOM % ${#OTHERS[@]}]}
	key=$fam/$dscp
	case $((RANDOM % 12)) in
	0 | 1)
		flow_target "$fam"
		put "$fam/$DSCP" "$TARGET"
		;;
	2 | 3)
		other_target "$fam"
		put "$key" "$TARGET"
		;;
	4)
		if [ -n "${MODEL[$key]:-}" ]; then
			del "$key"
		else
			other_target "$fam"
			put "$key" "$TARGET"
		fi
		;;
	5)
		((RANDOM % 2)) && state=down
		if [ -n "${MODEL[$key]:-}" ]; then
			set_state "$key" "$state"
		else
			other_target "$fam"
			put "$key" "$TARGET"
		fi
		;;
	6 | 7) apply_table ;;
	8) ctl save save ;;
	9) sample ;;
	*)
		flow_target "$fam"
		put "$fam/$DSCP" "$TARGET"
		;;
	esac
}

# One change of the second half: the flows' mappings too.
any_op()
{
	local fam=$((RANDOM % 2 ? 4 : 6))

	case $((RANDOM % 10)) in
	0) gap "$fam" gap_down_up "$fam" ;;
	1) gap "$fam" gap_del_add "$fam" ;;
	2) gap "$fam" gap_apply "$fam" ;;
	3) [ "$((RANDOM % 4))" = 0 ] && gap "$fam" gap_flush "$fam" ;;
	*) hitless_op ;;
	esac
}

SINK_PIDS=()
SENDER_PIDS=()
TCP_PIDS=()
: >"$TMP/gaps"

# The flows' mappings first, so that the flows start on them.
put "4/$DSCP" "$VIP4 - - 0"
put "6/$DSCP" "$VIP6 - - 0"
if ! start_flows; then
	fail "flows started"
	tap_end
fi
pass "flows started"
# Let the first TCP connections get going before anything changes.
sleep 2

t_start=$(date +%s)
for ((op = 0; op < OPS / 2; op++)); do
	hitless_op
done
HALF_US=${EPOCHREALTIME/./}
for ((op = OPS / 2; op < OPS; op++)); do
	any_op
done
# the flows' slots as the flows need them, for the last transfers
for fam in 4 6; do
	flow_target "$fam"
	put "$fam/$DSCP" "$TARGET"
done
for key in 4/$DSCP 6/$DSCP; do
	[ "${MODEL[$key]##* }" = 1 ] && set_state "$key" up
done
sample
note "$OPS_DONE commands in $(($(date +%s) - t_start)) s (kind=count/mean ms): $(for k in "${!OPS_BY_KIND[@]}"; do printf '%s=%s/%s ' "$k" "${OPS_BY_KIND[$k]}" $((${OPS_US[$k]:-0} / ${OPS_BY_KIND[$k]} / 1000)); done)"
check_eq "every change and dump succeeded" "0 failed" "$OPS_FAILED failed"
[ "$OPS_FAILED" -gt 0 ] && note "$OPS_DETAIL"

# Stop the flows: senders first, then what is in flight, then the sinks.
touch "$TMP/stop-tcp"
for pid in "${SENDER_PIDS[@]}"; do
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
done
for pid in "${TCP_PIDS[@]}"; do
	wait "$pid"
done
sleep 1
for pid in "${SINK_PIDS[@]}"; do
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
done
touch "$TMP/stop-sampler"
wait "$SAMPLER_PID"

# ------------------------------------------------------------ the verdict

for fam in 4 6; do
	note "IPv$fam UDP: $(cat "$TMP/udp-send-$fam.out") -> $(cat "$TMP/udp-sink-$fam.out")"
	read -r _ received _ bad _ < <(grep '^received' "$TMP/udp-sink-$fam.out")
	check_eq "IPv$fam UDP: every datagram that arrived is intact" 0 "${bad:-unread}"
	check_gt "IPv$fam UDP: datagrams arrived" 0 "${received:-0}"

	# Lost: sent, never received. Each must lie in one of the family's
	# gaps, widened by the margin; none can be in the first half.
	lost=$(awk -v fam="$fam" -v margin=$((MARGIN_MS * 1000)) \
		-v half="$HALF_US" '
		part == "gaps" {
			if ($1 == fam) { start[++n] = $2 - margin; end[n] = $3 + margin }
			next
		}
		part == "sink" { got[$1 " " $2] = 1; next }
		!(($1 " " $2) in got) {
			lost++
			inside = 0
			for (i = 1; i <= n; i++)
				if ($3 >= start[i] && $3 <= end[i]) { inside = 1; break }
			if (!inside) {
				outside++
				if (outside <= 5)
					detail = detail sprintf(" flow %s seq %s at %s%s;",
						$1, $2, $3, $3 < half ? " (first half)" : "")
			}
		}
		END { printf "%d %d %d%s\n", lost, outside, n, detail }' \
		part=gaps "$TMP/gaps" part=sink "$TMP/udp-sink-$fam.log" \
		part=send "$TMP/udp-send-$fam.log")
	read -r lost_n outside_n gaps_n _ <<< "$lost"
	note "IPv$fam UDP: $lost_n lost, $gaps_n gaps"
	check_eq "IPv$fam UDP: datagrams were lost only while their mapping was absent or down" \
		0 "$outside_n"
	[ "${outside_n:-0}" != 0 ] && note "outside every gap:${lost#* * * }"
done

for fam in 4 6; do
	for port in "${TCP_PORTS[@]}"; do
		results=$TMP/tcp-$fam-$port.results
		good=$(grep -c '^ok' "$results")
		note "IPv$fam TCP port $port: $good transfers of $TCP_BYTES bytes intact"
		check_eq "IPv$fam TCP port $port: every transfer arrived whole (sha256)" \
			"" "$(grep -v '^ok' "$results" | head -n 5)"
		check_gt "IPv$fam TCP port $port: transfers were made" 0 "$good"
	done
done

note "counters sampled $SAMPLES times after dumps; $(tail -n 1 "$TMP/sampler.out")"
check_eq "counters never decreased between dumps" "" "$MONO_DETAIL"
check_eq "counters never decreased as the sampler read them" "" \
	"$(grep -v '^passes' "$TMP/sampler.out" | head -n 5)"

# The table is what the commands made it: applying the model is a no-op.
model_conf >"$TMP/model.conf"
save_before=$("$L3DSRCTL" save)
show_before=$("$L3DSRCTL" -j show)
check "the model of the table applies" "$L3DSRCTL" apply -f "$TMP/model.conf"
check_eq "the table ends as the commands left it (save)" "$save_before" \
	"$("$L3DSRCTL" save)"
check_eq "the table ends as the commands left it (show -j, counters too)" \
	"$show_before" "$("$L3DSRCTL" -j show)"

tap_end
