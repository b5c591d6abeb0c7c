#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# l3dsr_shapes_csum.sh's checksum states (sender's offload, GRO,
# conntrack; TCP, UDP and ICMP in both families, the rewritten requests'
# checksums verified on the wire) on the nftables backend, the module kept
# from loading: nftables must leave every checksum as right as the module
# does. Smaller transfers than the module's run, and conntrack off only, to
# keep it short (CSUM_CONNTRACK_STATES="off on" runs both).
export L3DSR_SELFTEST_BACKEND=nft
export BULK_BYTES=${BULK_BYTES:-1048576}
export CSUM_CONNTRACK_STATES=${CSUM_CONNTRACK_STATES:-off}
exec "$(dirname "$0")/l3dsr_shapes_csum.sh"
