/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels the module builds against, each keyed on
 * the presence of the feature rather than on a version number.
 */
#ifndef _L3DSR_COMPAT_H
#define _L3DSR_COMPAT_H

#include <linux/netlink.h>

/*
 * Formatted extack messages (6.2+). Older kernels get the fixed message,
 * which says the same without the values.
 */
#ifdef NL_SET_ERR_MSG_FMT_MOD
#define L3DSR_SET_ERR_MSG_FMT(extack, fixed, fmt, args...) \
	NL_SET_ERR_MSG_FMT_MOD(extack, fmt, ##args)
#else
#define L3DSR_SET_ERR_MSG_FMT(extack, fixed, fmt, args...) \
	NL_SET_ERR_MSG_MOD(extack, fixed)
#endif

#endif /* _L3DSR_COMPAT_H */
