/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_IPTABLES_H
#define L3DSRCTL_IPTABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "words.h"

/*
 * The DADDR rules of iptables-save (or ip6tables-save) output, each turned
 * into the mapping that does the same, when one can.
 */

struct daddr_rule {
	struct mapping_spec spec;	/* valid if converted */
	bool converted;
	unsigned int line;
	unsigned int order;		/* when PREROUTING runs it; 0: never */
	char where[80];			/* "TABLE CHAIN" */
	char comment[128];		/* its -m comment, or "" */
	char why[320];			/* why it is not converted */
	char *text;			/* the line as read, owned */
};

struct daddr_rules {
	struct daddr_rule *items;
	size_t count;
	size_t capacity;
	unsigned int unconvertible;
};

/*
 * Read every line of in (named name in messages), then follow the tables
 * as the kernel runs them: raw PREROUTING, then mangle PREROUTING, into
 * the user chains they jump to. A rule is converted only if PREROUTING
 * runs it for every packet it matches; rules in OUTPUT, POSTROUTING,
 * FORWARD, INPUT or in chains reached from them are refused. DADDR does
 * not end the chain, so of several rules for one DSCP the last one run
 * is the one in effect. For each DADDR rule that cannot be converted
 * exactly, "PREFIXNAME:LINE: not converted: reason: RULE" goes to report
 * (if not NULL), in line order. Returns -1 if reading failed or memory
 * ran out.
 */
int daddr_rules_read(FILE *in, const char *name, struct daddr_rules *rules,
		     FILE *report, const char *prefix);
void daddr_rules_free(struct daddr_rules *rules);

#endif
