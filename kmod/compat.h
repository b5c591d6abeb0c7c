/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels the module builds against, each keyed on
 * the presence of the feature rather than on a version number, so that a
 * distribution kernel that backported an API takes the path it has. Kbuild
 * compiles each kmod/probes/NAME.c with the kernel's flags and defines
 * COMPAT_HAVE_NAME in compat-probes.h for those that compile.
 */
#ifndef _L3DSR_COMPAT_H
#define _L3DSR_COMPAT_H

#include "compat-probes.h"

/* COMPAT_HAVE_EXTACK_FMT: extack messages with values in them (6.2+) */

/* get_unaligned(): in <linux/unaligned.h> from 6.12, <asm/unaligned.h> before */
#ifdef COMPAT_HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#endif /* _L3DSR_COMPAT_H */
