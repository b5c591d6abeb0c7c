#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# l3dsr_crowded_router.sh on the nftables backend, the module kept from
# loading: a host that forwards for others leaves their marked traffic
# alone (counted in skipped_not_local, which nftables counts too), rewrites
# what is for its own VIP, and with nonlocal takes the marked datagrams
# meant for the far host, as the module does.
export L3DSR_SELFTEST_BACKEND=nft
exec "$(dirname "$0")/l3dsr_crowded_router.sh"
