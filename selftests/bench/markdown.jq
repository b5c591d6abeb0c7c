# SPDX-License-Identifier: GPL-2.0
#
# The benchmark's JSON report as a Markdown table, for the READMEs: one row
# per variant, one column per case; the no-rule row in ns per packet, the
# others as the cost added over no rule (ratio to the empty hook), and
# whether the variant's targets for that case were met.

def fixed1: if . == null then "-" else (. * 10 | round / 10 + 0 | tostring) end;
def fixed2: if . == null then "-" else (. * 100 | round / 100 + 0 | tostring) end;

(.results | map(.variant)
	| reduce .[] as $v ([]; if index([$v]) then . else . + [$v] end))
	as $variants
| (.results | map([.family, .size]) | unique) as $cases
| (.results | map({key: "\(.variant)/\(.family)/\(.size)", value: .})
	| from_entries) as $by
| "| variant | " + ($cases | map(
	(if .[0] == "ipv4" then "IPv4" else "IPv6" end) + " \(.[1]) B")
	| join(" | ")) + " |",
  "|---|" + ($cases | map("---:") | join("|")) + "|",
  ($variants[] as $v
   | "| \($v) | " + ([$cases[] as $c | $by["\($v)/\($c[0])/\($c[1])"]
	| if .status != "ok" then "FAILED"
	  elif $v == "none" then "\(.ns | fixed1) ns"
	  else "\(.added_ns | fixed1) (\(.ratio_to_empty_hook | fixed2)x)" +
		(if (.targets | length) == 0 then ""
		 elif (.targets | all(.met)) then " met"
		 else " missed" end)
	  end] | join(" | ")) + " |")
