#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What `make demo` shows: a client fetches a page from a VIP through a
# stateless balancer, and the server answers straight back thanks to one
# l3dsr mapping. Runs as root in a throwaway VM (see selftests/vm/).
# DEMO_BACKEND=nft (`make demo-nft`): the same on a host where the module
# cannot be loaded, l3dsrctl keeping the table in nftables.

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

readonly HTTP_PORT=80
readonly BACKEND=${DEMO_BACKEND:-module}

section()
{
	printf '\n=== %s ===\n\n' "$*"
}

# show_run COMMAND...: print it like a shell prompt would, then run it.
show_run()
{
	printf '$ %s\n' "$*"
	"$@"
}

die()
{
	printf '\ndemo failed: %s\n' "$*" >&2
	exit 1
}

fetch()
{
	in_ns "$NS_CLIENT" timeout 5 busybox wget -q -Y off -O - \
		"http://$VIP4:$HTTP_PORT/"
}

[ "$(id -u)" = 0 ] || die "run me as root (in the VM: make demo)"
for cmd in ip nft busybox timeout "$L3DSRCTL"; do
	command -v "$cmd" >/dev/null || die "$cmd is missing"
done
case $BACKEND in
module) modprobe l3dsr || die "the l3dsr module cannot be loaded" ;;
# as on a host where it cannot be: modprobe refuses it
nft) require_nft_backend ;;
*) die "DEMO_BACKEND is module or nft, not '$BACKEND'" ;;
esac

section "Topology"
cat <<EOF
  client $CLIENT4 --- router --- lb: stateless nft, for the VIP sets DSCP 10
                        |            and rewrites the destination to the RIP
                        |
                      server: RIP $RIP4, VIP $VIP4 on lo

  request: client -> router -> lb -> router -> server (to the RIP, DSCP 10)
  reply:   server -> router -> client                 (from the VIP, direct)
EOF

topo_setup >/dev/null || die "cannot build the topology"
"$L3DSRCTL" flush
defer "$L3DSRCTL flush"
scratch_dir WWW || die "cannot create a scratch directory"
echo "Hello from the server behind $VIP4" >"$WWW/index.html"
background HTTPD_PID busybox httpd -f -p "$HTTP_PORT" -h "$WWW"
wait_listener "" tcp "$HTTP_PORT" || die "the web server did not start"

section "Without a mapping the server cannot answer for the VIP"
printf '$ wget http://%s/   (from the client)\n' "$VIP4"
if fetch; then
	die "the fetch worked without a mapping: something else rewrites"
fi
echo "(no answer, as expected: the request reaches the server for $RIP4)"

section "Map DSCP 10 to the VIP on the server"
show_run "$L3DSRCTL" add-mapping dscp 10 vip "$VIP4" ||
	die "add-mapping failed"

section "Fetch the page from the client, through the balancer"
printf '$ wget http://%s/   (from the client)\n' "$VIP4"
page=$(fetch) || die "the fetch failed"
echo "$page"

section "The mapping and its counters"
show_run "$L3DSRCTL" show || die "show failed"
echo
show_run "$L3DSRCTL" stats || die "stats failed"
rewritten=$("$L3DSRCTL" -j stats | jq .rewritten)
[ "${rewritten:-0}" -gt 0 ] 2>/dev/null ||
	die "no packet was rewritten"

if [ "$BACKEND" = nft ]; then
	section "Which backend, and the table it keeps in nftables"
	show_run "$L3DSRCTL" version || die "version failed"
	echo
	show_run nft list table inet l3dsr || die "no l3dsr table in nftables"
else
	section "The same in sysfs"
	show_run grep -r . /sys/kernel/l3dsr/mappings/ipv4/10 \
		/sys/kernel/l3dsr/stats || die "sysfs shows nothing"
fi

section "Replies did not go back through the balancer"
printf 'lb: requests to the VIP %s, replies from the VIP %s\n' \
	"$(nft_counter "$NS_LB" inet l3dsr_lb to_vip4 packets)" \
	"$(nft_counter "$NS_LB" inet l3dsr_lb from_vip4 packets)"

printf '\nDemo complete.\n'
