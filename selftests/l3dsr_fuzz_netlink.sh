#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Netlink fuzz: l3dsr_nlfuzz sends FUZZ_MESSAGES (default 100000) random
# and mutated generic netlink messages per run to the l3dsr family, every
# command number 0..255 weighted to the real ones, random attributes,
# nesting, lengths and NLM_F_* flags, dumps included:
#
#   1. as nobody, without capabilities, in the initial namespace;
#   2. as nobody in a user and network namespace of its own (unshare -Urn),
#      where it is root over its own table;
#   3. as root in the initial namespace, where it may change anything.
#
# After the unprivileged runs the initial namespace's table must be what it
# was (save, show -j but for packet counters); after the root run it is
# restored with apply. Then: the module still rewrites a marked datagram,
# nothing holds a reference to it, and its live objects are back where
# they were. The kernel log is the harness's to judge. FUZZ_SEED (printed)
# replays a run: run N uses seed FUZZ_SEED + N - 1.
#
#  +------------------------+            +-------------------------------+
#  | wire                   |            | server = the initial ns       |
#  |  eth0 198.18.0.2/24    +------------+ wNNN 198.18.0.1/24            |
#  |  2001:db8:18::2/64     |            |  2001:db8:18::1/64            |
#  |  sends DSCP 10         |            | the table the fuzzer hits     |
#  +------------------------+            +-------------------------------+

# Functions here are often run through check(), out of shellcheck's sight.
# shellcheck disable=SC2317
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly MESSAGES=${FUZZ_MESSAGES:-100000}
readonly SEED=${FUZZ_SEED:-$(($(date +%s) % 1000000))}
readonly FUZZ="$SELFTESTS_DIR/l3dsr_nlfuzz"
readonly FLOW="$SELFTESTS_DIR/l3dsr_flow"
readonly PORT=9800
readonly NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups
	--inh-caps=-all --bounding-set=-all)

require_l3dsr
require_cmds setpriv unshare timeout
{ [ -x "$FUZZ" ] && [ -x "$FLOW" ]; } ||
	skip_all "needs $FUZZ and $FLOW (run make in selftests/)"
tap_begin
scratch_dir TMP || skip_all "cannot create a scratch directory"
note "seed $SEED, $MESSAGES messages per run"

set_up wire_setup
run "$L3DSRCTL" flush
defer "$L3DSRCTL flush"

cat >"$TMP/baseline.conf" <<EOF
dscp $DSCP vip $VIP4
dscp $DSCP vip $VIP6
dscp 20 vip 203.0.113.20 rip $WIRE_SERVER4 dev $WIRE_IF clear-dscp
dscp 30 vip 203.0.113.30 down
dscp 46 vip 2001:db8:113::46 rip $WIRE_SERVER6
EOF
check "the table the fuzzer starts from" "$L3DSRCTL" apply -f "$TMP/baseline.conf"

# table: what must not change, counters aside.
table()
{
	"$L3DSRCTL" save
	"$L3DSRCTL" -j show | jq -c 'map(del(.packets, .bytes))'
}

packets()
{
	"$L3DSRCTL" -j show | jq '[.[].packets] | add // 0'
}

packets_above()
{
	[ "$(packets)" -gt "$1" ]
}

# rewrites: one marked datagram per family from the wire is rewritten.
rewrites()
{
	local before

	before=$(packets) || return 1
	in_ns "$NS_WIRE" "$FLOW" -t "$DSCP_TOS" -n 1 \
		udp-send "$WIRE_SERVER4" "$PORT" "$WIRE_SERVER6" "$PORT" \
		>/dev/null || return 1
	wait_until 30 packets_above $((before + 1))
}

check "marked datagrams are rewritten before the fuzzing" rewrites
BASELINE_SAVE=$("$L3DSRCTL" save)
BASELINE=$(table)
OBJECTS_BEFORE=$(live_objects_settled)

# fuzz NAME SEED COMMAND...: one run of the fuzzer; its summary as notes.
fuzz()
{
	local name=$1 seed=$2 rc start

	shift 2
	start=$(date +%s)
	trace "$* $FUZZ -s $seed -n $MESSAGES"
	timeout 1200 "$@" "$FUZZ" -q -s "$seed" -n "$MESSAGES" \
		>"$TMP/$name.out" 2>&1
	rc=$?
	note "$name (seed $seed, $(($(date +%s) - start)) s):"$'\n'"$(cat "$TMP/$name.out")"
	check_eq "$name: the fuzzer sent its $MESSAGES messages" 0 "$rc"
}

# 1. nobody, initial namespace
fuzz "unprivileged" "$SEED" "${NOBODY[@]}"
check_eq "unprivileged: the table did not change" "$BASELINE" "$(table)"

# 2. nobody, root in its own user and network namespace
if "${NOBODY[@]}" unshare -Urn true 2>/dev/null; then
	fuzz "userns" $((SEED + 1)) "${NOBODY[@]}" unshare -Urn
	check_eq "userns: the initial namespace's table did not change" \
		"$BASELINE" "$(table)"
else
	skip "userns: the fuzzer ran in a user namespace of its own" \
		"nobody cannot make a user namespace here"
fi

# 3. root, initial namespace
fuzz "root" $((SEED + 2))
check "root: the module is still loaded" test -d /sys/module/l3dsr
check "root: the table is restored with apply" \
	"$L3DSRCTL" apply -f "$TMP/baseline.conf"
check_eq "root: the restored table is the one saved before" \
	"$BASELINE_SAVE" "$("$L3DSRCTL" save)"

check "the module still rewrites marked datagrams" rewrites
check_eq "nothing holds a reference to the module" 0 \
	"$(cat /sys/module/l3dsr/refcnt 2>&1)"
# The user namespace's table goes with its namespace, a little after.
check_live_objects "the module's live objects are back where they were" \
	"$OBJECTS_BEFORE"

tap_end
