// SPDX-License-Identifier: GPL-2.0
/*
 * Probe: get_unaligned() from <linux/unaligned.h> (6.12); before, it came
 * from <asm/unaligned.h>.
 */
#include <linux/types.h>
#include <linux/unaligned.h>

u32 l3dsr_probe(const void *p);
u32 l3dsr_probe(const void *p)
{
	return get_unaligned((const u32 *)p);
}
