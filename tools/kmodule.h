/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_KMODULE_H
#define L3DSRCTL_KMODULE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* What is known of something: the answer, or that it could not be told. */
enum tristate { TS_UNKNOWN = -1, TS_NO = 0, TS_YES = 1 };

/*
 * The l3dsr module as the running kernel sees it and as it lies on disk,
 * for saying why it does not load and what `check` reports. Looked at,
 * never loaded: kmodule_modprobe() is the one thing that acts.
 */
struct kmodule {
	char release[128];		/* the running kernel's */
	/* the installed file modprobe would load, "" if none */
	char path[PATH_MAX];
	bool compressed;		/* so not inspected */
	char built_for[128];		/* vermagic's release, "" unknown */
	enum tristate file_signed;
	/* the kernel refuses modules without a trusted signature */
	enum tristate enforcing;
	const char *enforced_by;	/* what makes it so, when it is */
	enum tristate secure_boot;	/* TS_UNKNOWN: not booted by EFI */
	bool loaded;
	/* TS_UNKNOWN: this kernel does not check module signatures */
	enum tristate loaded_verified;
};

void kmodule_inspect(struct kmodule *km);

/*
 * Run modprobe l3dsr (root only, and only if it is installed), which the
 * kernel's own attempt leaves unsaid: 0 if it loaded it, else the errno
 * it was refused with, or -1. Its words for the refusal go to why.
 */
int kmodule_modprobe(const struct kmodule *km, char *why, size_t len);

/* Why the module is not loaded, as far as looking can tell. */
void kmodule_why_absent(const struct kmodule *km, char *why, size_t len);

#endif
