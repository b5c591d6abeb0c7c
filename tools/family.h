/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_FAMILY_H
#define L3DSRCTL_FAMILY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl;
struct l3dsr_nl;

/*
 * The l3dsr netlink family grows by versions (L3DSR_GENL_VERSION): the
 * module that is loaded may be older than this tool, after an upgrade that
 * has not reloaded it, or newer, when a provisioning run ships an older
 * tool. What each version added is in one table, in family.c; everything
 * that sends or shows something an older module lacks asks it.
 */

/*
 * The L3DSR_F_* flags of this tool that the loaded module knows: all of
 * them for a module as new as the tool, or one that does not say its
 * version.
 */
uint32_t module_flags(const struct l3dsr_nl *nl);

/*
 * Whether the loaded module knows every flag in flags: an older one would
 * refuse a newer flag with a bare "Invalid argument". If not, prints
 * "l3dsrctl: WHERE: nonlocal needs version 2 of the l3dsr module's netlink
 * family, and the loaded module has version 1 ..." (WHERE defaults to the
 * command's name).
 */
bool module_knows_flags(const struct ctl *ctl, const char *where,
			const struct l3dsr_nl *nl, uint32_t flags);

/*
 * The release of the loaded module as /sys/module/l3dsr/version says it,
 * into buf; NULL if it cannot be read.
 */
const char *module_release(char *buf, size_t size);

/*
 * The names of this tool's features that a module lacks whose family is at
 * @version (none for 0, a module that does not say), at most size of them,
 * into names. Returns how many.
 */
size_t missing_features(uint32_t version, const char *names[],
			size_t size);

#endif
