# SPDX-License-Identifier: GPL-2.0
#
# Turns the guest's "bench-" lines (jq -R -n) into the benchmark's JSON
# report. $mode is "full" (targets judged) or "smoke" (no targets).
#
# Per variant and case (family, size): the median over the rounds of the
# instruction-equivalent ns per packet, from the time pktgen's thread spent
# on the CPU; the cost added over the no-rule run
# whose packets take the same path after the hook (none for packets left
# alone, none_vip for packets that end at the VIP, none_other for packets to
# an address not this host's, so the terminator's own cost cancels out);
# that cost as a multiple of the empty hook's.

def median:
	sort | length as $n |
	if $n == 0 then null
	elif $n % 2 == 1 then .[($n - 1) / 2]
	else (.[$n / 2 - 1] + .[$n / 2]) / 2
	end;

def round1: (. * 10 | round) / 10;
def round2: (. * 100 | round) / 100;

# Packets of these variants end at the VIP; those of the next at the
# address not this host's they were sent to; all others at the RIP.
def rewrites:
	IN("none_vip", "l3dsr_hit_1", "l3dsr_hit_63", "l3dsr_rip", "l3dsr_dev",
	   "l3dsr_rules_hit", "nft_1", "nft_63", "nft_map");

def not_local: IN("none_other", "l3dsr_not_local");

def baseline_of:
	if IN("none", "none_vip", "none_other") then "none"
	elif rewrites then "none_vip"
	elif not_local then "none_other"
	else "none"
	end;

def key($v; $f; $s): "\($v)/\($f)/\($s)";

[inputs | select(startswith("bench-"))] as $lines
| ($lines | map(select(startswith("bench-config ")) | .[13:] | split(" ")
	| map(capture("^(?<k>[^=]+)=(?<v>.*)$") | {(.k): .v}) | add)
	| first // {}) as $config
| ($lines | map(select(startswith("bench-variant ")) | .[14:]
	| capture("^(?<name>[^ ]+) (?<description>.*)$"))) as $variants
| ($lines | map(select(startswith("bench-result ")) | .[13:] | split(" ")
	| {round: (.[0] | tonumber), variant: .[1], family: .[2],
	   size: (.[3] | tonumber), ok: (.[4] == "ok"),
	   # Time pktgen's thread was on the CPU: a task that ran in
	   # between is not the packets' cost.
	   ns: (if .[4] == "ok" then
		((.[5] | tonumber) - (.[6] | tonumber)) * 1000 /
		(.[7] | tonumber)
		else null end),
	   idle_us: (if .[4] == "ok" then .[6] | tonumber else null end),
	   reason: (if .[4] == "ok" then null else .[5:] | join(" ") end)}))
	as $results
| ($config.rounds // "0" | tonumber) as $rounds
| ($lines | any(. == "bench-done")) as $done
| [$results[] | {family, size}] | unique_by([.family, .size])
	| sort_by([.family, .size]) as $cases
# One row per variant and case, with its median.
| [$variants[] as $v | $cases[] as $c
	| [$results[] | select(.variant == $v.name and .family == $c.family
		and .size == $c.size)] as $r
	| ($r | map(select(.ok))) as $good
	| {variant: $v.name, description: $v.description, family: $c.family,
	   size: $c.size,
	   failure: (if ($r | map(select(.ok | not)) | length) > 0 then
			($r | map(select(.ok | not)) | first
			 | "round \(.round): \(.reason)")
		elif ($good | length) < $rounds then
			"only \($good | length) of \($rounds) rounds ran" +
			(if $done then "" else " (the guest stopped early)" end)
		else null end),
	   rounds_ns: ($good | sort_by(.round) | map(.ns | round1)),
	   ns: ($good | map(.ns) | median)}
	| .status = (if .failure == null then "ok" else "failed" end)
	| if .status == "ok" then . else .ns = null end] as $rows
| ($rows | map({key: key(.variant; .family; .size), value: .}) | from_entries)
	as $by
| def added($v; $f; $s):
	$by[key($v; $f; $s)] as $row
	| $by[key($v | baseline_of; $f; $s)].ns as $base
	| if $row.ns == null or $base == null then null
	  else $row.ns - $base end;
# Targets: information only, never a failure. Issue 15's budget, for a
# namespace without custom rules. l3dsr_not_local and the variants with a
# custom rule (l3dsr_rules_*) are reported only: they have none.
def targets($row; $added; $ratio):
	($row.variant) as $v | ($row.family) as $f | ($row.size) as $s
	| [
	  (if ($v == "l3dsr_hit_1" or $v == "l3dsr_hit_63") then
		(if $f == "ipv4" then 3.5 else 4.5 end) as $max
		| {target: "added <= \($max)x the empty hook's",
		   met: ($ratio != null and $ratio <= $max)}
	   else empty end),
	  (if $v == "l3dsr_hit_63" then
		added("l3dsr_hit_1"; $f; $s) as $one
		| {target: "added within 5% of 1 mapping's",
		   met: ($added != null and $one != null and $one > 0 and
			(($added - $one) | fabs) <= 0.05 * $one)}
	   else empty end),
	  (if ($v == "l3dsr_miss" or $v == "l3dsr_empty") then
		{target: "added <= 1.5x the empty hook's",
		 met: ($ratio != null and $ratio <= 1.5)}
	   else empty end),
	  (if $s != 64 and IN($v; "l3dsr_miss", "l3dsr_hit_1", "l3dsr_hit_63",
			"l3dsr_rip", "l3dsr_dev") then
		added($v; $f; 64) as $small
		| {target: "added within 10% of the 64-byte case's",
		   met: ($added != null and $small != null and $small > 0 and
			(($added - $small) | fabs) <= 0.10 * $small)}
	   else empty end)
	];
{
	mode: $mode,
	kernel: $config.kernel,
	unit: "instruction-equivalent ns per packet (QEMU -icount shift=0: one guest instruction is one ns)",
	packets_per_run: ($config.count // "0" | tonumber),
	warmup_packets: ($config.warmup // "0" | tonumber),
	rounds: $rounds,
	dscp: ($config.dscp // "0" | tonumber),
	large_packet: {size: ($config.large_size // "0" | tonumber),
		       frags: ($config.large_frags // "0" | tonumber)},
	complete: $done,
	results: [$rows[] as $row
		| added($row.variant; $row.family; $row.size) as $added
		| added("empty_hook"; $row.family; $row.size) as $empty
		| (if $added == null or $empty == null or $empty <= 0 then null
		   else $added / $empty end) as $ratio
		| $row + {
			ns: ($row.ns | if . == null then null else round1 end),
			baseline: ($row.variant | baseline_of),
			added_ns: ($added | if . == null then null else round1 end),
			ratio_to_empty_hook: ($ratio | if . == null then null
				else round2 end),
			targets: (if $mode == "full" then targets($row; $added; $ratio)
				  else [] end)
		}]
}
