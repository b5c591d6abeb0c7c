/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_STATS_H
#define L3DSRCTL_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "l3dsr.h"
#include "mapping.h"

/*
 * The names sysfs, JSON, text and Prometheus output share, in enum order,
 * and what each counts. NULL for numbers that are no counter of ours.
 */
extern const char *const stat_names[L3DSR_STAT_MAX + 1];
extern const char *const stat_help[L3DSR_STAT_MAX + 1];

/*
 * A module older than the tool lacks some counters: those it did not send
 * are absent, never 0, so that a monitor does not read a flat line where
 * nothing is counted.
 */
struct stats {
	uint64_t values[L3DSR_STAT_MAX + 1];
	bool present[L3DSR_STAT_MAX + 1];	/* the module sent it */
	bool received;
};

/*
 * The namespace counters and every mapping's in the Prometheus text
 * exposition format, for node_exporter's textfile collector; an absent
 * counter has no sample. netns, if not NULL, becomes a label of every
 * sample, so files of several namespaces can sit side by side.
 */
void prometheus_write(FILE *out, const struct stats *stats,
		      const struct mapping_list *list, const char *netns);

#endif
