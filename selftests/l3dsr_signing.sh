#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Module signatures and the operator's words for a module that will not
# load. vm.sh puts beside the real l3dsr.ko, in /l3dsr/modules:
#
#   unsigned.ko      the same module, no signature
#   other-kernel.ko  its version magic names another kernel
#   untrusted.ko     signed with a key the kernel does not trust
#
# and, on a kernel that enforces signatures (the debug kernel:
# CONFIG_MODULE_SIG_FORCE, trusting a key made the way DKMS makes its MOK),
# signs the real one with the trusted key, as DKMS would. Each case installs
# one of them as the module modprobe loads, then asks l3dsrctl:
#
#   case            any kernel                  a kernel that enforces
#   not installed   "not installed for KVER"
#   other kernel    "built for kernel 9.x"
#   unsigned        loads; check: not signed    refused; "not signed"
#   untrusted                                   refused; "not by a key this
#                                               kernel trusts"
#   the real one    loads; works                loads; check: verified
#
# The real module is put back whatever happens.

# jq's own variables ($m) are in single quotes on purpose.
# shellcheck disable=SC2016
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly CASES=/l3dsr/modules

require_l3dsr
require_cmds depmod modinfo rmmod insmod
[ -f "$CASES/unsigned.ko" ] ||
	skip_all "no $CASES/unsigned.ko: run under selftests/vm/vm.sh"
KVER=$(uname -r)
readonly KVER
INSTALLED=$(modinfo -n l3dsr 2>/dev/null)
readonly INSTALLED
[ -f "$INSTALLED" ] || skip_all "modinfo finds no installed l3dsr.ko"
ENFORCING=0
[ "$(cat /sys/module/module/parameters/sig_enforce 2>/dev/null)" = Y ] &&
	ENFORCING=1
readonly ENFORCING
tap_begin
scratch_dir TMP || skip_all "cannot create a scratch directory"
cp "$INSTALLED" "$TMP/l3dsr.ko" || skip_all "cannot keep a copy of $INSTALLED"
note "$KVER: module signatures $([ "$ENFORCING" = 1 ] || echo "not ")enforced"
# shellcheck disable=SC2016 # expanded when run
defer 'cp "$TMP/l3dsr.ko" "$INSTALLED"; depmod; modprobe l3dsr'

# install FILE: make it what modprobe loads; "" removes it.
install_module()
{
	rmmod l3dsr 2>/dev/null
	rm -f "$INSTALLED"
	[ -z "$1" ] || cp "$1" "$INSTALLED"
	depmod
}

# ask CMD...: l3dsrctl's exit status, stdout and stderr into RC, OUT, ERR.
ask()
{
	trace "l3dsrctl $*"
	OUT=$(l3dsrctl "$@" 2>"$TMP/err")
	RC=$?
	ERR=$(cat "$TMP/err")
}

# refused NAME WHY CHECK_WHY: show on the module fails saying WHY, show
# on auto turns to nftables saying WHY, check has a FAIL saying CHECK_WHY,
# and the module stays out.
refused()
{
	local name=$1 why=$2 check_why=$3

	ask --backend module show
	check_eq "$name: show --backend module exits 1" 1 "$RC"
	check_contains "$name: show --backend module says why" \
		"l3dsrctl: the l3dsr kernel module is not loaded: $why" "$ERR"
	ask show
	check_contains "$name: show turns to nftables and says why" \
		"using nftables (table inet l3dsr): the l3dsr module cannot be loaded: $why" \
		"$ERR"
	check_fails "$name: the module is not loaded" \
		test -e /sys/module/l3dsr/initstate
	ask -j check
	check "$name: check has a FAIL for it" jq -e --arg m "$check_why" \
		'.ok == false and any(.checks[]; .level == "fail" and
		 (.message | contains($m)))' <<< "$OUT"
}

# ------------------------------------------------------------- the cases

install_module ""
refused "not installed" \
	"it is not installed for the running kernel $KVER (modules.dep names no l3dsr.ko): install it for this kernel (dkms autoinstall -k $KVER)" \
	"not installed for the running kernel $KVER"

install_module "$CASES/other-kernel.ko"
refused "built for another kernel" \
	"$INSTALLED was built for kernel 9${KVER#?}, and this is $KVER: rebuild it for this kernel (dkms autoinstall)" \
	"$INSTALLED was built for kernel 9${KVER#?}, not $KVER"
check_fails "built for another kernel: insmod refuses it" insmod "$INSTALLED"

install_module "$CASES/unsigned.ko"
if [ "$ENFORCING" = 1 ]; then
	refused "unsigned" \
		"$INSTALLED is not signed, and this kernel loads only signed modules" \
		"$INSTALLED is not signed, and this kernel will refuse it"
	out=$(insmod "$INSTALLED" 2>&1)
	check_contains "unsigned: insmod is refused" \
		"Key was rejected by service" "$out"
else
	ask show
	check_eq "unsigned: loads where signatures are not enforced" 0 "$RC"
	ask -j check
	check "unsigned: check says the installed module is not signed" \
		jq -e --arg m "$INSTALLED, not signed" \
		'any(.checks[]; .subject == "installed" and
		 (.message | startswith($m)))' <<< "$OUT"
fi

if [ -f "$CASES/untrusted.ko" ]; then
	install_module "$CASES/untrusted.ko"
	check_contains "untrusted: modinfo shows a signer" "DKMS module signing key" \
		"$(modinfo -F signer "$INSTALLED")"
	refused "untrusted" \
		"$INSTALLED is signed, but not by a key this kernel trusts: enrol the key it was signed with" \
		"the l3dsr module is not loaded: $INSTALLED is installed but not loaded"
	out=$(insmod "$INSTALLED" 2>&1)
	check_contains "untrusted: insmod is refused" \
		"Key was rejected by service" "$out"
else
	skip "untrusted: refused" "the kernel does not enforce signatures"
fi

install_module "$TMP/l3dsr.ko"
ask add-mapping dscp 10 vip 211.115.115.100
check_eq "the real module: loads, and takes a mapping" 0 "$RC"
ask -j check
if [ "$ENFORCING" = 1 ]; then
	check_contains "the real module: signed by the DKMS-style key" \
		"DKMS module signing key (mok)" "$(modinfo -F signer "$INSTALLED")"
	check "the real module: check says the kernel verified it" \
		jq -e --arg m "the loaded module's signature was verified by the kernel" \
		'any(.checks[]; .subject == "loaded" and .message == $m) and
		 any(.checks[]; .subject == "signatures" and
		 (.message | startswith("the kernel loads only modules signed")))' \
		<<< "$OUT"
else
	check "the real module: check reports signatures as not enforced" \
		jq -e 'any(.checks[]; .subject == "signatures" and
		       .message == "the kernel loads unsigned modules too")' <<< "$OUT"
fi
ask flush
tap_end
