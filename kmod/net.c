// SPDX-License-Identifier: GPL-2.0
/*
 * A namespace's state and every change to it. This is the one place where
 * a change is applied and where its consequences follow, in this order:
 * the family's table and hook come with its first mapping; the slot is
 * published; sysfs and the "config" group hear of it; a mapping taken out
 * retires; a family left without mappings loses its hook and its table.
 *
 * Each namespace has its own lock, which only its changes take; readers
 * use RCU. Nothing here waits for a grace period with a lock held: retiring
 * mappings are freed by RCU callbacks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <net/netns/generic.h>

#include "l3dsr.h"

static unsigned int l3dsr_net_id __read_mostly;

/* What a namespace that never had a mapping pays for: one pointer. */
struct l3dsr_pernet {
	struct l3dsr_net __rcu *ln;
};

static struct l3dsr_pernet *l3dsr_pernet(struct net *net)
{
	return net_generic(net, l3dsr_net_id);
}

/*
 * NULL if the namespace never had a mapping. The state lives as long as
 * the namespace, which the caller holds, so neither RCU nor a lock is
 * needed to keep it.
 */
struct l3dsr_net *l3dsr_net_find(struct net *net)
{
	return rcu_dereference_raw(l3dsr_pernet(net)->ln);
}

static void l3dsr_net_free(struct l3dsr_net *ln)
{
	free_percpu(ln->stats);
	kfree(ln);
	l3dsr_objects_dec(L3DSR_OBJ_NAMESPACES);
}

/* The namespace's state, made if it has none yet; charged to the caller. */
struct l3dsr_net *l3dsr_net_get(struct net *net,
				struct netlink_ext_ack *extack)
{
	struct l3dsr_pernet *pn = l3dsr_pernet(net);
	struct l3dsr_net *ln, *other;
	int err = -ENOMEM;

	ln = l3dsr_net_find(net);
	if (ln)
		return ln;

	ln = kzalloc(sizeof(*ln), L3DSR_GFP);
	if (!ln) {
		NL_SET_ERR_MSG_MOD(extack, "no memory for the namespace's state");
		return ERR_PTR(-ENOMEM);
	}
	l3dsr_objects_inc(L3DSR_OBJ_NAMESPACES);
	ln->net = net;
	mutex_init(&ln->lock);
	seqlock_init(&ln->retire_lock);
	INIT_LIST_HEAD(&ln->retiring);
	/* a dump's consistency check takes 0 as "not started" */
	ln->generation = 1;
	ln->stats = __netdev_alloc_pcpu_stats(struct l3dsr_net_stats,
					      L3DSR_GFP);
	if (!ln->stats) {
		NL_SET_ERR_MSG_MOD(extack,
				   "no memory for the namespace's counters");
		goto err_free;
	}
	err = l3dsr_routes_watch(ln, extack);
	if (err)
		goto err_free;

	/* two first requests at once: one state wins, the other goes */
	other = unrcu_pointer(cmpxchg(&pn->ln, NULL, RCU_INITIALIZER(ln)));
	if (other) {
		l3dsr_routes_unwatch(ln);
		l3dsr_net_free(ln);
		return other;
	}
	return ln;

err_free:
	l3dsr_net_free(ln);
	return ERR_PTR(err);
}

/* Under RCU or the namespace's lock. */
struct l3dsr_table *l3dsr_net_table(struct l3dsr_net *ln, u8 family)
{
	return rcu_dereference_check(ln->tables[l3dsr_family_index(family)],
				     lockdep_is_held(&ln->lock));
}

/* Under RCU or the namespace's lock. */
struct l3dsr_mapping *l3dsr_net_mapping(struct l3dsr_net *ln, u8 family,
					u8 dscp)
{
	struct l3dsr_table *table = l3dsr_net_table(ln, family);

	return table ? l3dsr_table_get(table, dscp) : NULL;
}

static void l3dsr_mapping_free_rcu(struct rcu_head *head)
{
	l3dsr_mapping_free(container_of(head, struct l3dsr_mapping, rcu));
}

/*
 * A grace period after its removal no packet can be counting on a mapping:
 * its count is final and joins the namespace's total, in one step as far
 * as readers can tell. They may still be walking the list, hence a second
 * grace period before it is freed.
 */
static void l3dsr_mapping_retire_rcu(struct rcu_head *head)
{
	struct l3dsr_mapping *m = container_of(head, struct l3dsr_mapping,
					       rcu);
	struct l3dsr_net *ln = m->ln;
	u64 packets, bytes;

	l3dsr_mapping_stats_sum(m, &packets, &bytes);
	write_seqlock_bh(&ln->retire_lock);
	ln->rewritten_retired += packets;
	list_del_rcu(&m->retiring);
	write_sequnlock_bh(&ln->retire_lock);
	call_rcu(&m->rcu, l3dsr_mapping_free_rcu);
}

/*
 * Bumped before a change publishes anything, so that a dump, which reads
 * the generation, the slots and the generation again, sees it move.
 */
static void l3dsr_net_changing(struct l3dsr_net *ln)
{
	WRITE_ONCE(ln->generation, ln->generation + 1);
	/* pairs with the dump's smp_rmb() after it reads the generation */
	smp_wmb();
}

/* Publish one prepared change; nothing here fails. */
static void l3dsr_net_apply(struct l3dsr_net *ln, struct l3dsr_change *c)
{
	struct l3dsr_mapping *m = c->new, *old = c->old;
	struct l3dsr_mapping *key = m ? m : old;
	struct l3dsr_table *table = l3dsr_net_table(ln, key->family);

	if (m) {
		m->ln = ln;
		m->slow_checks = m->match ||
				 (m->flags & (L3DSR_F_DOWN |
					      L3DSR_F_CLEAR_DSCP |
					      L3DSR_F_NONLOCAL));
		l3dsr_hook_prepare(m);
	}

	if (m && old) {
		/* the replacement counts on where its predecessor stopped */
		m->pcpu = old->pcpu;
		m->owns_pcpu = true;
		old->owns_pcpu = false;
		l3dsr_table_set(table, m->dscp, m);
		call_rcu(&old->rcu, l3dsr_mapping_free_rcu);
		l3dsr_genl_notify(ln, m, false);
	} else if (m) {
		l3dsr_table_set(table, m->dscp, m);
		table->count++;
		l3dsr_sysfs_mapping_added(ln, m);
		l3dsr_genl_notify(ln, m, false);
	} else {
		l3dsr_genl_notify(ln, old, true);
		l3dsr_sysfs_mapping_removed(ln, old);
		write_seqlock_bh(&ln->retire_lock);
		l3dsr_table_set(table, old->dscp, NULL);
		list_add_tail_rcu(&old->retiring, &ln->retiring);
		write_sequnlock_bh(&ln->retire_lock);
		table->count--;
		call_rcu(&old->rcu, l3dsr_mapping_retire_rcu);
	}
}

/*
 * A family keeps its table and its hook only while it has mappings. The
 * hook may still be running on another CPU with the table it was handed,
 * all of whose slots are empty: it goes after a grace period.
 */
static void l3dsr_net_tidy(struct l3dsr_net *ln)
{
	struct l3dsr_table *table;
	unsigned int fi;

	for (fi = 0; fi < L3DSR_NR_FAMILIES; fi++) {
		table = rcu_dereference_protected(ln->tables[fi],
						  lockdep_is_held(&ln->lock));
		if (!table || table->count)
			continue;
		l3dsr_hook_detach(ln, table);
		RCU_INIT_POINTER(ln->tables[fi], NULL);
		l3dsr_table_free_after_readers(table);
	}
}

/*
 * Apply @n changes, each to its own slot, entirely or not at all: first
 * everything that can fail (counters for new mappings, a table and a hook
 * for a family's first mapping), then the changes, which cannot fail. On
 * success the mappings given belong to the namespace; on failure they are
 * still the caller's, nothing changed, and @extack says what failed.
 */
int l3dsr_net_commit(struct l3dsr_net *ln, struct l3dsr_change *changes,
		     unsigned int n, struct netlink_ext_ack *extack)
{
	struct l3dsr_table *added[L3DSR_NR_FAMILIES] = {};
	unsigned int i, fi;
	int err = 0;

	lockdep_assert_held(&ln->lock);

	for (i = 0; i < n; i++) {
		struct l3dsr_mapping *m = changes[i].new;
		u8 family;

		if (!m)
			continue;
		if (!changes[i].old && !m->pcpu) {
			err = l3dsr_mapping_alloc_pcpu(m);
			if (err) {
				NL_SET_ERR_MSG_MOD(extack,
						   "no memory for a mapping's counters");
				goto undo;
			}
		}
		family = m->family;
		fi = l3dsr_family_index(family);
		if (added[fi] || l3dsr_net_table(ln, family))
			continue;
		added[fi] = l3dsr_table_alloc(ln);
		if (!added[fi]) {
			NL_SET_ERR_MSG_MOD(extack,
					   "no memory for the family's DSCP table");
			err = -ENOMEM;
			goto undo;
		}
		err = l3dsr_hook_attach(ln, added[fi], family);
		if (err) {
			NL_SET_ERR_MSG_MOD(extack,
					   "cannot attach the family's netfilter hook");
			l3dsr_table_free(added[fi]);
			added[fi] = NULL;
			goto undo;
		}
	}

	for (fi = 0; fi < L3DSR_NR_FAMILIES; fi++)
		if (added[fi])
			rcu_assign_pointer(ln->tables[fi], added[fi]);
	l3dsr_net_changing(ln);
	for (i = 0; i < n; i++)
		l3dsr_net_apply(ln, &changes[i]);
	l3dsr_net_tidy(ln);
	return 0;

undo:
	/* a hook attached for nothing may have seen a packet: RCU frees */
	for (fi = 0; fi < L3DSR_NR_FAMILIES; fi++) {
		if (!added[fi])
			continue;
		l3dsr_hook_detach(ln, added[fi]);
		l3dsr_table_free_after_readers(added[fi]);
	}
	return err;
}

/* Remove every mapping of @family, or of both with AF_UNSPEC. */
void l3dsr_net_flush(struct l3dsr_net *ln, u8 family)
{
	static const u8 families[] = { AF_INET, AF_INET6 };
	struct l3dsr_change c = {};
	unsigned int fi, dscp;

	lockdep_assert_held(&ln->lock);

	l3dsr_net_changing(ln);
	for (fi = 0; fi < ARRAY_SIZE(families); fi++) {
		if (family != AF_UNSPEC && family != families[fi])
			continue;
		for (dscp = L3DSR_DSCP_MIN; dscp <= L3DSR_DSCP_MAX; dscp++) {
			c.old = l3dsr_net_mapping(ln, families[fi], dscp);
			if (c.old)
				l3dsr_net_apply(ln, &c);
		}
	}
	l3dsr_net_tidy(ln);
}

/*
 * Unhooking happens before the core's grace period that separates pre_exit
 * from exit, so by exit no packet can still be reading this namespace's
 * state.
 */
static void __net_exit l3dsr_net_pre_exit(struct net *net)
{
	struct l3dsr_net *ln = l3dsr_net_find(net);

	if (!ln)
		return;
	mutex_lock(&ln->lock);
	l3dsr_net_flush(ln, AF_UNSPEC);
	mutex_unlock(&ln->lock);
	l3dsr_routes_unwatch(ln);
}

static void __net_exit l3dsr_net_exit_batch(struct list_head *net_exit_list)
{
	struct l3dsr_net *ln;
	bool any = false;
	struct net *net;

	list_for_each_entry(net, net_exit_list, exit_list)
		any |= !!l3dsr_net_find(net);
	if (!any)
		return;

	/* retiring mappings fold their counts into their namespace's state */
	rcu_barrier();
	list_for_each_entry(net, net_exit_list, exit_list) {
		ln = l3dsr_net_find(net);
		if (ln)
			l3dsr_net_free(ln);
	}
}

static struct pernet_operations l3dsr_net_ops = {
	.pre_exit = l3dsr_net_pre_exit,
	.exit_batch = l3dsr_net_exit_batch,
	.id = &l3dsr_net_id,
	.size = sizeof(struct l3dsr_pernet),
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
