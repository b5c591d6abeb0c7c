// SPDX-License-Identifier: GPL-2.0
/*
 * What each version of the l3dsr netlink family added after the first, in
 * one table, and what the loaded module therefore has.
 */
#include <stdio.h>
#include <string.h>

#include "l3dsr.h"
#include "l3dsrctl.h"
#include "netlink.h"
#include "stats.h"
#include "family.h"

#define MODULE_VERSION_FILE "/sys/module/l3dsr/version"

enum feature_kind {
	FEATURE_FLAG,		/* an L3DSR_F_* bit of a mapping */
	FEATURE_COUNTER,	/* an L3DSR_STAT_* counter */
};

/*
 * Everything the family gained after its first version, with the version
 * that brought it. A module of an older version refuses what it does not
 * know (a flag: "Invalid argument") or leaves it out of its replies (a
 * counter); the tool asks this table before it sends or shows either.
 */
static const struct feature {
	enum feature_kind kind;
	uint32_t id;		/* the flag bit, or the counter's number */
	uint32_t version;	/* the first family version that has it */
} features[] = {
	{ FEATURE_FLAG, L3DSR_F_NONLOCAL, 2 },
	{ FEATURE_COUNTER, L3DSR_STAT_SKIPPED_NOT_LOCAL, 2 },
	{ FEATURE_COUNTER, L3DSR_STAT_SKIPPED_BRIDGED, 2 },
	{ FEATURE_COUNTER, L3DSR_STAT_SKIPPED_PROTOCOL, 2 },
};

#define FEATURE_COUNT (sizeof(features) / sizeof(features[0]))

/* As the user meets it: the keyword of a flag, the name of a counter. */
static const char *feature_name(const struct feature *f)
{
	if (f->kind == FEATURE_COUNTER)
		return stat_names[f->id];
	switch (f->id) {
	case L3DSR_F_NONLOCAL:
		return "nonlocal";
	}
	return "a flag";
}

/* Whether the module (family version; 0 if it did not say) has f. */
static bool version_has(uint32_t version, const struct feature *f)
{
	return !version || version >= f->version;
}

uint32_t module_flags(const struct l3dsr_nl *nl)
{
	uint32_t flags = __L3DSR_F_ALL;
	size_t i;

	for (i = 0; i < FEATURE_COUNT; i++)
		if (features[i].kind == FEATURE_FLAG &&
		    !version_has(nl->version, &features[i]))
			flags &= ~features[i].id;
	return flags;
}

bool module_knows_flags(const struct ctl *ctl, const char *where,
			const struct l3dsr_nl *nl, uint32_t flags)
{
	char release[64];
	size_t i;

	for (i = 0; i < FEATURE_COUNT; i++) {
		const struct feature *f = &features[i];

		if (f->kind != FEATURE_FLAG || !(flags & f->id) ||
		    version_has(nl->version, f))
			continue;
		fprintf(stderr, PROG_NAME
			": %s: %s needs version %u of the l3dsr module's netlink family, and the loaded module",
			where ? where : ctl->cmd->name, feature_name(f),
			f->version);
		if (module_release(release, sizeof(release)))
			fprintf(stderr, " (%s)", release);
		fprintf(stderr, " has version %u; load a newer one (see "
			PROG_NAME "(8), UPGRADING)\n", nl->version);
		return false;
	}
	return true;
}

const char *module_release(char *buf, size_t size)
{
	FILE *f = fopen(MODULE_VERSION_FILE, "r");
	size_t len;

	if (!f)
		return NULL;
	if (!fgets(buf, size, f)) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	len = strcspn(buf, "\n");
	buf[len] = '\0';
	return len ? buf : NULL;
}

size_t missing_features(uint32_t version, const char *names[],
			size_t size)
{
	size_t i, count = 0;

	for (i = 0; i < FEATURE_COUNT && count < size; i++)
		if (!version_has(version, &features[i]))
			names[count++] = feature_name(&features[i]);
	return count;
}
