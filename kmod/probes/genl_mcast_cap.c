// SPDX-License-Identifier: GPL-2.0
/*
 * Probe: a multicast group only CAP_NET_ADMIN over the namespace may join,
 * GENL_MCAST_CAP_NET_ADMIN in struct genl_multicast_group's flags (Linux
 * 6.7, and stable updates of older series: Debian 12's 6.1 since 6.1.176).
 * The module needs it (compat.h).
 */
#include <net/genetlink.h>

u8 l3dsr_probe(void);
u8 l3dsr_probe(void)
{
	static const struct genl_multicast_group group = {
		.name = "probe",
		.flags = GENL_MCAST_CAP_NET_ADMIN,
	};

	return group.flags;
}
