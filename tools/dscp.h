/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_DSCP_H
#define L3DSRCTL_DSCP_H

#include <stddef.h>

struct dscp_class {
	const char *name;
	unsigned int value;
};

/* The class names a DSCP may be given by, in the order help lists them. */
extern const struct dscp_class dscp_classes[];
extern const size_t dscp_class_count;

enum dscp_parse_result {
	DSCP_VALID,
	DSCP_IS_ZERO,		/* 0 or a name of it: never mappable */
	DSCP_OUT_OF_RANGE,	/* a number above 63 */
	DSCP_UNKNOWN,		/* neither a number nor a class name */
};

enum dscp_parse_result dscp_parse(const char *word, unsigned int *value);
const char *dscp_class_name(unsigned int value);

#endif
