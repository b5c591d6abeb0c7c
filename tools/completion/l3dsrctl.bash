# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# bash completion for l3dsrctl. Command names, their keywords, options and
# values and the DSCP class names are read from `l3dsrctl help`, so they never
# drift from the tool; devices and namespaces come from `ip`, files from
# compgen.

# The words of the line up to the cursor, split on blanks only: IPv6
# addresses hold colons, which bash would otherwise split words at.
_l3dsrctl_split_line()
{
	local line=${COMP_LINE:0:COMP_POINT}

	read -ra _l3dsrctl_words <<< "$line"
	_l3dsrctl_cur=
	if [[ ${#_l3dsrctl_words[@]} -gt 0 && $line != *[[:blank:]] ]]; then
		_l3dsrctl_cur=${_l3dsrctl_words[-1]}
		unset '_l3dsrctl_words[-1]'
	fi
}

_l3dsrctl_commands()
{
	"$1" help 2>/dev/null |
		awk '/^Commands:/ { in_list = 1; next }
		     /^$/ { in_list = 0 }
		     in_list && /^  [a-z]/ { print $1 }'
}

# The words of a command's usage line after its name, into the array
# _l3dsrctl_usage_words (read, not expanded: "[clear-dscp]" is a glob).
_l3dsrctl_usage()
{
	read -ra _l3dsrctl_usage_words <<< "$("$1" help "$2" 2>/dev/null |
					       sed -n "1s/^usage: [^ ]* $2//p")"
}

# The keywords and options of a command: the lower-case words of its usage
# line, alternatives ("down|up") kept together as one line. A word after
# a keyword in one pair of brackets ("[nonlocal on|off]") is its value.
_l3dsrctl_keywords()
{
	local -a _l3dsrctl_usage_words
	local word bare in_group='' after_keyword=''
	local lower='^-{0,2}[a-z][a-z-]*(\|[a-z][a-z-]*)*$'

	_l3dsrctl_usage "$1" "$2"
	for word in "${_l3dsrctl_usage_words[@]}"; do
		[[ $word == \[* ]] && in_group=1 && after_keyword=
		bare=${word//[\[\].]/}
		if [[ -n $after_keyword ]]; then
			after_keyword=
		elif [[ $bare =~ $lower ]]; then
			printf '%s\n' "$bare"
			[[ -n $in_group ]] && after_keyword=1
		fi
		[[ $word == *\]* ]] && in_group= && after_keyword=
	done
}

# The values keyword $3 of command $2 takes, when its usage line spells
# them out in lower case ("[nonlocal on|off]"), one per line.
_l3dsrctl_values()
{
	local -a _l3dsrctl_usage_words
	local word bare in_group='' found=''
	local lower='^[a-z][a-z-]*(\|[a-z][a-z-]*)*$'

	_l3dsrctl_usage "$1" "$2"
	for word in "${_l3dsrctl_usage_words[@]}"; do
		[[ $word == \[* ]] && in_group=1 && found=
		bare=${word//[\[\].]/}
		if [[ -n $found ]]; then
			[[ $bare =~ $lower ]] &&
				printf '%s\n' "${bare//|/$'\n'}"
			return 0
		fi
		[[ -n $in_group && $bare == "$3" ]] && found=1
		[[ $word == *\]* ]] && in_group= && found=
	done
}

# Help lists the classes as NAME=VALUE words.
_l3dsrctl_dscp_classes()
{
	"$1" help 2>/dev/null | grep -oE '\<[A-Z]+[0-9]*=[0-9]+\>' |
		sed 's/=.*//'
}

_l3dsrctl_devices()
{
	local netns=$1

	if [[ -n $netns ]]; then
		ip -n "$netns" -o link show 2>/dev/null
	else
		ip -o link show 2>/dev/null
	fi | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'
}

# _l3dsrctl_reply WORDS CUR: offer those of WORDS (blank-separated) that
# start with CUR.
_l3dsrctl_reply()
{
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

_l3dsrctl()
{
	local -a _l3dsrctl_words
	local _l3dsrctl_cur
	local tool cur prev cmd='' netns='' word i classes
	local -a used=()

	COMPREPLY=()
	_l3dsrctl_split_line
	cur=$_l3dsrctl_cur
	tool=${_l3dsrctl_words[0]:-l3dsrctl}
	tool=${tool/#\~/$HOME}
	prev=
	[[ ${#_l3dsrctl_words[@]} -gt 1 ]] && prev=${_l3dsrctl_words[-1]}

	# Global options come first; the first other word is the command.
	for ((i = 1; i < ${#_l3dsrctl_words[@]}; i++)); do
		word=${_l3dsrctl_words[i]}
		case $word in
		-n | --netns)
			netns=${_l3dsrctl_words[i + 1]:-}
			((i++))
			;;
		--backend)
			((i++))
			;;
		-*) ;;
		*)
			cmd=$word
			break
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		case $prev in
		-n | --netns)
			_l3dsrctl_reply "$(ip netns list 2>/dev/null |
					   awk '{ print $1 }')" "$cur"
			;;
		--backend)
			_l3dsrctl_reply "module nft auto" "$cur"
			;;
		*)
			if [[ $cur == -* ]]; then
				_l3dsrctl_reply "-j --json -n --netns -4 -6 --backend -h --help --version" "$cur"
			else
				_l3dsrctl_reply "$(_l3dsrctl_commands "$tool")" "$cur"
			fi
			;;
		esac
		return 0
	fi

	for ((i++; i < ${#_l3dsrctl_words[@]}; i++))
	do
		used+=("${_l3dsrctl_words[i]}")
	done

	if [[ $cmd == help ]]; then
		[[ ${#used[@]} -eq 0 ]] &&
			_l3dsrctl_reply "$(_l3dsrctl_commands "$tool")" "$cur"
		return 0
	fi

	case $prev in
	dscp)
		classes=$(_l3dsrctl_dscp_classes "$tool")
		# Names are case-insensitive: answer in the case being typed.
		[[ $cur == [a-z]* ]] && classes=${classes,,}
		_l3dsrctl_reply "$classes" "$cur"
		return 0
		;;
	dev | vip-device)
		_l3dsrctl_reply "$(_l3dsrctl_devices "$netns")" "$cur"
		return 0
		;;
	vip | rip)
		return 0
		;;
	-f | --file | -o | --output)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
		;;
	esac

	local values
	values=$(_l3dsrctl_values "$tool" "$cmd" "$prev")
	if [[ -n $values ]]; then
		_l3dsrctl_reply "$values" "$cur"
		return 0
	fi

	# One DIR or FILE, and -o FILE for the output.
	if [[ $cmd == import-dsrtools ]]; then
		local given='' output=''
		for ((i = 0; i < ${#used[@]}; i++)); do
			if [[ ${used[i]} == -o ]]; then
				output=1
				((i++))
			else
				given=1
			fi
		done
		if [[ $prev == -o ]]; then
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		elif [[ $cur == -* ]]; then
			[[ -z $output ]] && _l3dsrctl_reply "-o" "$cur"
		elif [[ -z $given ]]; then
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		return 0
	fi

	if [[ $cmd == import-iptables ]]; then
		[[ ${#used[@]} -eq 0 ]] &&
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
	fi

	# The keywords not given yet; of alternatives, none once one is; -f as
	# often as wanted.
	local keywords='' alternative taken
	for word in $(_l3dsrctl_keywords "$tool" "$cmd"); do
		taken=
		for alternative in ${word//|/ }; do
			[[ " ${used[*]} " == *" $alternative "* ]] && taken=1
		done
		[[ -n $taken && $word != -f ]] && continue
		keywords+="${word//|/ } "
	done
	_l3dsrctl_reply "$keywords" "$cur"
	return 0
}

complete -F _l3dsrctl l3dsrctl
