// SPDX-License-Identifier: GPL-2.0
/*
 * Counters are per CPU so the packet path never shares a cache line or
 * takes an atomic; readers sum them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>

#include "l3dsr.h"

atomic_t l3dsr_objects[__L3DSR_OBJ_LAST];

static const char *const l3dsr_object_names[__L3DSR_OBJ_LAST] = {
	[L3DSR_OBJ_NAMESPACES]	= "namespaces",
	[L3DSR_OBJ_TABLES]	= "tables",
	[L3DSR_OBJ_MAPPINGS]	= "mappings",
};

static struct dentry *l3dsr_debugfs_dir;

static int l3dsr_objects_show(struct seq_file *seq, void *v)
{
	int i;

	for (i = 0; i < __L3DSR_OBJ_LAST; i++)
		seq_printf(seq, "%s %d\n", l3dsr_object_names[i],
			   atomic_read(&l3dsr_objects[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(l3dsr_objects);

/* A debugging aid: the module works the same without it. */
void l3dsr_debugfs_init(void)
{
	l3dsr_debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("objects", 0444, l3dsr_debugfs_dir, NULL,
			    &l3dsr_objects_fops);
}

void l3dsr_debugfs_exit(void)
{
	debugfs_remove(l3dsr_debugfs_dir);
}

/* Stable names: sysfs files and the tool's JSON keys. */
const char *const l3dsr_stat_names[__L3DSR_STAT_LAST] = {
	[L3DSR_STAT_REWRITTEN]			= "rewritten",
	[L3DSR_STAT_REWRITTEN_FRAGMENTS]	= "rewritten_fragments",
	[L3DSR_STAT_SKIPPED_SCOPE]		= "skipped_scope",
	[L3DSR_STAT_SKIPPED_NOT_HOST]		= "skipped_not_host",
	[L3DSR_STAT_SKIPPED_MALFORMED]		= "skipped_malformed",
	[L3DSR_STAT_SKIPPED_ROUTING_HEADER]	= "skipped_routing_header",
	[L3DSR_STAT_DROPPED_UNWRITABLE]		= "dropped_unwritable",
	[L3DSR_STAT_SKIPPED_DOWN]		= "skipped_down",
	[L3DSR_STAT_SKIPPED_NOT_LOCAL]		= "skipped_not_local",
	[L3DSR_STAT_SKIPPED_BRIDGED]		= "skipped_bridged",
	[L3DSR_STAT_SKIPPED_PROTOCOL]		= "skipped_protocol",
};

/* One namespace counter, summed over the CPUs. */
static u64 l3dsr_ns_stat_sum(struct l3dsr_net *ln, enum l3dsr_stat stat)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct l3dsr_net_stats *s = per_cpu_ptr(ln->stats, cpu);
		unsigned int start;
		u64 value;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			value = u64_stats_read(&s->ctr[stat -
						      L3DSR_NS_STAT_FIRST]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		sum += value;
	}
	return sum;
}

/* @ln may be NULL: a namespace that never had a mapping counted nothing. */
u64 l3dsr_stat_read(struct l3dsr_net *ln, enum l3dsr_stat stat)
{
	if (!ln)
		return 0;
	return l3dsr_ns_stat_sum(ln, stat);
}

void l3dsr_stats_sum(struct l3dsr_net *ln, u64 *sum)
{
	int i;

	memset(sum, 0, sizeof(*sum) * __L3DSR_STAT_LAST);
	for (i = L3DSR_STAT_REWRITTEN; i < __L3DSR_STAT_LAST; i++)
		sum[i] = l3dsr_stat_read(ln, i);
}

void l3dsr_mapping_stats_sum(const struct l3dsr_mapping *m,
			     u64 *packets, u64 *bytes)
{
	int cpu;

	*packets = 0;
	*bytes = 0;
	for_each_possible_cpu(cpu) {
		const struct l3dsr_mapping_pcpu *s = per_cpu_ptr(m->pcpu, cpu);
		unsigned int start;
		u64 p, b;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			p = u64_stats_read(&s->packets);
			b = u64_stats_read(&s->bytes);
		} while (u64_stats_fetch_retry(&s->syncp, start));

		*packets += p;
		*bytes += b;
	}
}
