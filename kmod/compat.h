/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels the module builds against, each keyed on
 * the presence of the feature rather than on a version number.
 */
#ifndef _L3DSR_COMPAT_H
#define _L3DSR_COMPAT_H

#include <linux/netlink.h>

/* extack messages with values in them (6.2+) */
#ifdef NL_SET_ERR_MSG_FMT_MOD
#define COMPAT_HAVE_EXTACK_FMT 1
#endif

/* get_unaligned(): in <linux/unaligned.h> from 6.12, <asm/unaligned.h> before */
#ifdef COMPAT_HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#endif /* _L3DSR_COMPAT_H */
