// SPDX-License-Identifier: GPL-2.0
/*
 * DSCP values by number or by the per-hop behaviour names of RFC 2474
 * (class selectors), RFC 2597 (assured forwarding) and RFC 3246 (expedited
 * forwarding).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

#include "l3dsr.h"
#include "dscp.h"

const struct dscp_class dscp_classes[] = {
	{ "CS1", 8 },  { "CS2", 16 }, { "CS3", 24 }, { "CS4", 32 },
	{ "CS5", 40 }, { "CS6", 48 }, { "CS7", 56 },
	{ "AF11", 10 }, { "AF12", 12 }, { "AF13", 14 },
	{ "AF21", 18 }, { "AF22", 20 }, { "AF23", 22 },
	{ "AF31", 26 }, { "AF32", 28 }, { "AF33", 30 },
	{ "AF41", 34 }, { "AF42", 36 }, { "AF43", 38 },
	{ "EF", 46 },
};
const size_t dscp_class_count = sizeof(dscp_classes) / sizeof(dscp_classes[0]);

/*
 * Names of DSCP 0, the default behaviour. They are recognised only so that
 * the refusal can explain itself instead of calling them unknown.
 */
static const char *const default_class_names[] = { "CS0", "DF", "BE" };

static enum dscp_parse_result parse_number(const char *word,
					   unsigned int *value)
{
	unsigned long number;
	const char *p;
	char *end;

	for (p = word; *p; p++)
		if (!isdigit((unsigned char)*p))
			return DSCP_UNKNOWN;

	errno = 0;
	number = strtoul(word, &end, 10);
	if (errno == ERANGE || number > L3DSR_DSCP_MAX)
		return DSCP_OUT_OF_RANGE;
	if (number == 0)
		return DSCP_IS_ZERO;
	*value = number;
	return DSCP_VALID;
}

enum dscp_parse_result dscp_parse(const char *word, unsigned int *value)
{
	size_t i;

	if (isdigit((unsigned char)word[0]))
		return parse_number(word, value);

	for (i = 0; i < dscp_class_count; i++) {
		if (!strcasecmp(word, dscp_classes[i].name)) {
			*value = dscp_classes[i].value;
			return DSCP_VALID;
		}
	}
	for (i = 0; i < sizeof(default_class_names) /
			sizeof(default_class_names[0]); i++)
		if (!strcasecmp(word, default_class_names[i]))
			return DSCP_IS_ZERO;
	return DSCP_UNKNOWN;
}

const char *dscp_class_name(unsigned int value)
{
	size_t i;

	for (i = 0; i < dscp_class_count; i++)
		if (dscp_classes[i].value == value)
			return dscp_classes[i].name;
	return NULL;
}
