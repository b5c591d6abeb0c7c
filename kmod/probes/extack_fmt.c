// SPDX-License-Identifier: GPL-2.0
/* Probe: extack messages with values in them, NL_SET_ERR_MSG_FMT_MOD (6.2). */
#include <linux/netlink.h>

void l3dsr_probe(struct netlink_ext_ack *extack, unsigned int value);
void l3dsr_probe(struct netlink_ext_ack *extack, unsigned int value)
{
	NL_SET_ERR_MSG_FMT_MOD(extack, "value %u", value);
}
