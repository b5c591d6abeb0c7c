// SPDX-License-Identifier: GPL-2.0
/*
 * A family's table of mappings, one slot per DSCP, read by the packet hook
 * under RCU. Plain data: what follows a change (hooks, sysfs, notifications)
 * is net.c's business.
 *
 * Everything here is allocated on behalf of the user who configures the
 * namespace and charged to them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/socket.h>

#include "l3dsr.h"

struct l3dsr_table *l3dsr_table_alloc(struct l3dsr_net *ln)
{
	struct l3dsr_table *table;

	table = kzalloc(sizeof(*table), L3DSR_GFP);
	if (!table)
		return NULL;
	table->ln = ln;
	table->stats = ln->stats;
	l3dsr_objects_inc(L3DSR_OBJ_TABLES);
	return table;
}

void l3dsr_table_free(struct l3dsr_table *table)
{
	l3dsr_objects_dec(L3DSR_OBJ_TABLES);
	kfree(table);
}

static void l3dsr_table_free_rcu(struct rcu_head *head)
{
	l3dsr_table_free(container_of(head, struct l3dsr_table, rcu));
}

/* For a table a hook was handed: it may still be reading it. */
void l3dsr_table_free_after_readers(struct l3dsr_table *table)
{
	call_rcu(&table->rcu, l3dsr_table_free_rcu);
}

/* @dscp's mapping: under RCU, or with the namespace's lock held. */
struct l3dsr_mapping *l3dsr_table_get(struct l3dsr_table *table, u8 dscp)
{
	return rcu_dereference_check(table->by_dsfield[dscp << L3DSR_ECN_BITS],
				     lockdep_is_held(&table->ln->lock));
}

/* @m, or NULL, in every entry of @dscp, whatever the ECN bits. */
void l3dsr_table_set(struct l3dsr_table *table, u8 dscp,
		     struct l3dsr_mapping *m)
{
	struct l3dsr_mapping __rcu **entry;
	unsigned int ecn;

	entry = &table->by_dsfield[dscp << L3DSR_ECN_BITS];
	for (ecn = 0; ecn < BIT(L3DSR_ECN_BITS); ecn++)
		rcu_assign_pointer(entry[ecn], m);
}

struct l3dsr_mapping *l3dsr_mapping_alloc(void)
{
	struct l3dsr_mapping *m;

	m = kzalloc(sizeof(*m), L3DSR_GFP);
	if (m)
		l3dsr_objects_inc(L3DSR_OBJ_MAPPINGS);
	return m;
}

/* A new mapping's counters; a replacement takes over its predecessor's. */
int l3dsr_mapping_alloc_pcpu(struct l3dsr_mapping *m)
{
	m->pcpu = __netdev_alloc_pcpu_stats(struct l3dsr_mapping_pcpu,
					    L3DSR_GFP);
	if (!m->pcpu)
		return -ENOMEM;
	m->owns_pcpu = true;
	return 0;
}

void l3dsr_mapping_free(struct l3dsr_mapping *m)
{
	if (m->owns_pcpu)
		free_percpu(m->pcpu);
	kfree(m);
	l3dsr_objects_dec(L3DSR_OBJ_MAPPINGS);
}

bool l3dsr_mapping_equal(const struct l3dsr_mapping *a,
			 const struct l3dsr_mapping *b)
{
	size_t alen = l3dsr_addr_len(a->family);

	return a->family == b->family && a->dscp == b->dscp &&
	       a->flags == b->flags && a->match == b->match &&
	       !memcmp(&a->vip, &b->vip, alen) &&
	       (!(a->match & L3DSR_MATCH_RIP) ||
		!memcmp(&a->rip, &b->rip, alen)) &&
	       (!(a->match & L3DSR_MATCH_DEV) || a->ifindex == b->ifindex);
}
