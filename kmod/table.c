// SPDX-License-Identifier: GPL-2.0
/*
 * The per-namespace table: one slot per DSCP and address family, read by the
 * packet hook under RCU and changed only under l3dsr_config_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <net/netns/generic.h>

#include "l3dsr.h"

/* held by every writer of every namespace's table, never by the packet path */
DEFINE_MUTEX(l3dsr_config_lock);

static unsigned int l3dsr_net_id __read_mostly;

struct l3dsr_net *l3dsr_pernet(struct net *net)
{
	return net_generic(net, l3dsr_net_id);
}

struct l3dsr_table *l3dsr_table(struct l3dsr_net *ln, u8 family)
{
	return family == AF_INET ? &ln->ipv4 : &ln->ipv6;
}

struct l3dsr_mapping *l3dsr_mapping_alloc(void)
{
	return kzalloc(sizeof(struct l3dsr_mapping), GFP_KERNEL);
}

void l3dsr_mapping_free(struct l3dsr_mapping *m)
{
	if (m->owns_stats)
		free_percpu(m->stats);
	kfree(m);
}

static void l3dsr_mapping_free_rcu(struct rcu_head *head)
{
	l3dsr_mapping_free(container_of(head, struct l3dsr_mapping, rcu));
}

bool l3dsr_mapping_equal(const struct l3dsr_mapping *a,
			 const struct l3dsr_mapping *b)
{
	size_t alen = a->family == AF_INET ? sizeof(a->vip.ip) :
					     sizeof(a->vip.in6);

	return a->family == b->family && a->dscp == b->dscp &&
	       a->flags == b->flags && a->match == b->match &&
	       !memcmp(&a->vip, &b->vip, alen) &&
	       (!(a->match & L3DSR_MATCH_RIP) ||
		!memcmp(&a->rip, &b->rip, alen)) &&
	       (!(a->match & L3DSR_MATCH_DEV) || a->ifindex == b->ifindex);
}

struct l3dsr_mapping *l3dsr_mapping_get_locked(struct l3dsr_net *ln,
					       u8 family, u8 dscp)
{
	return rcu_dereference_protected(*l3dsr_slot(l3dsr_table(ln, family),
						     dscp),
					 lockdep_is_held(&l3dsr_config_lock));
}

/*
 * A change is made in two steps, so that a request changing several slots
 * applies entirely or not at all: l3dsr_mapping_prepare() and
 * l3dsr_table_attach() do everything that can fail, then
 * l3dsr_mapping_commit() and l3dsr_mapping_remove() cannot fail, and
 * l3dsr_table_tidy() tidies up.
 */
int l3dsr_mapping_prepare(struct l3dsr_mapping *m, struct l3dsr_mapping *old)
{
	if (old)
		return 0;	/* a replacement inherits the counters */
	m->stats = netdev_alloc_pcpu_stats(struct l3dsr_mapping_stats);
	if (!m->stats)
		return -ENOMEM;
	m->owns_stats = true;
	return 0;
}

/* The hook is attached only while the family has a mapping. */
int l3dsr_table_attach(struct l3dsr_net *ln, u8 family)
{
	if (l3dsr_table(ln, family)->hook_registered)
		return 0;
	return l3dsr_hook_attach(ln, family);
}

/*
 * After a change: unhook a family left without mappings, and free the
 * mappings removed, once no packet can be counting on them any more.
 */
void l3dsr_table_tidy(struct l3dsr_net *ln, u8 family)
{
	struct l3dsr_mapping *m, *next;
	u64 packets, bytes;

	if (!l3dsr_table(ln, family)->count)
		l3dsr_hook_detach(ln, family);
	if (list_empty(&ln->removed))
		return;

	synchronize_rcu();
	list_for_each_entry_safe(m, next, &ln->removed, removed) {
		l3dsr_mapping_stats_sum(m, &packets, &bytes);
		ln->rewritten_by_removed += packets;
		list_del(&m->removed);
		l3dsr_mapping_free(m);
	}
}

/* @m, or NULL, in every entry of @dscp, whatever the ECN bits. */
static void l3dsr_table_set(struct l3dsr_table *table, u8 dscp,
			    struct l3dsr_mapping *m)
{
	struct l3dsr_mapping __rcu **slot = l3dsr_slot(table, dscp);
	unsigned int ecn;

	for (ecn = 0; ecn < BIT(L3DSR_ECN_BITS); ecn++)
		rcu_assign_pointer(slot[ecn], m);
}

/* Put a prepared @m into its slot, in place of @old (NULL if empty). */
void l3dsr_mapping_commit(struct l3dsr_net *ln, struct l3dsr_mapping *m,
			  struct l3dsr_mapping *old)
{
	struct l3dsr_table *table = l3dsr_table(ln, m->family);

	lockdep_assert_held(&l3dsr_config_lock);

	m->slow_checks = m->match ||
			 (m->flags & (L3DSR_F_DOWN | L3DSR_F_CLEAR_DSCP));
	l3dsr_hook_prepare(m);
	ln->generation++;
	if (old) {
		m->stats = old->stats;
		m->owns_stats = true;
		old->owns_stats = false;
		l3dsr_table_set(table, m->dscp, m);
		call_rcu(&old->rcu, l3dsr_mapping_free_rcu);
		return;
	}
	l3dsr_table_set(table, m->dscp, m);
	table->count++;
	l3dsr_sysfs_mapping_added(ln, m);
}

void l3dsr_mapping_remove(struct l3dsr_net *ln, struct l3dsr_mapping *m)
{
	struct l3dsr_table *table = l3dsr_table(ln, m->family);

	lockdep_assert_held(&l3dsr_config_lock);

	ln->generation++;
	l3dsr_table_set(table, m->dscp, NULL);
	table->count--;
	l3dsr_sysfs_mapping_removed(ln, m);
	list_add(&m->removed, &ln->removed);
}

static int __net_init l3dsr_net_init(struct net *net)
{
	struct l3dsr_net *ln = l3dsr_pernet(net);

	ln->net = net;
	INIT_LIST_HEAD(&ln->removed);
	ln->stats = netdev_alloc_pcpu_stats(struct l3dsr_net_stats);
	if (!ln->stats)
		return -ENOMEM;
	return 0;
}

/* @removing, if given, hears of each mapping before it goes. */
void l3dsr_table_flush(struct l3dsr_net *ln, u8 family,
		       void (*removing)(struct l3dsr_net *ln,
					const struct l3dsr_mapping *m))
{
	struct l3dsr_mapping *m;
	unsigned int dscp;

	for (dscp = L3DSR_DSCP_MIN; dscp <= L3DSR_DSCP_MAX; dscp++) {
		m = l3dsr_mapping_get_locked(ln, family, dscp);
		if (!m)
			continue;
		if (removing)
			removing(ln, m);
		l3dsr_mapping_remove(ln, m);
	}
	l3dsr_table_tidy(ln, family);
}

/*
 * Unhooking happens before the core's grace period that separates pre_exit
 * from exit, so by exit no packet can still be reading this namespace's state.
 */
static void __net_exit l3dsr_net_pre_exit(struct net *net)
{
	struct l3dsr_net *ln = l3dsr_pernet(net);

	mutex_lock(&l3dsr_config_lock);
	l3dsr_table_flush(ln, AF_INET, NULL);
	l3dsr_table_flush(ln, AF_INET6, NULL);
	mutex_unlock(&l3dsr_config_lock);
}

static void __net_exit l3dsr_net_exit(struct net *net)
{
	free_percpu(l3dsr_pernet(net)->stats);
}

static struct pernet_operations l3dsr_net_ops = {
	.init = l3dsr_net_init,
	.pre_exit = l3dsr_net_pre_exit,
	.exit = l3dsr_net_exit,
	.id = &l3dsr_net_id,
	.size = sizeof(struct l3dsr_net),
};

int l3dsr_pernet_init(void)
{
	return register_pernet_subsys(&l3dsr_net_ops);
}

void l3dsr_pernet_exit(void)
{
	unregister_pernet_subsys(&l3dsr_net_ops);
	/* mappings are freed by RCU callbacks that live in this module */
	rcu_barrier();
}
