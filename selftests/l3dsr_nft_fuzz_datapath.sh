#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# l3dsr_fuzz_datapath.sh with the nftables backend as the second twin: the
# same random packets of every shape (checksum states, fragments, extension
# headers, malformed ones) to the module in one namespace and to
# `l3dsrctl --backend nft` in the other. What the backend delivers is byte
# for byte what the module delivers, or differs for a reason README's
# "What differs" names (fragments, the protocols it leaves, Routing
# headers, a UDP header cut short, ...), each counted; its counters move as
# its chain allows. Fewer packets than the module's run, to keep it short.
export FUZZ_TWIN=backend
export FUZZ_COUNT=${FUZZ_COUNT:-100000}
exec "$(dirname "$0")/l3dsr_fuzz_datapath.sh"
