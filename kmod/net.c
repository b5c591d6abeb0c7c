// SPDX-License-Identifier: GPL-2.0
/*
 * A namespace's state and every change to it. This is the one place where
 * a change is applied and where its consequences follow, in this order:
 * the family's table and hook come with its first mapping; the slot is
 * published; sysfs and the "config" group hear of it; a mapping taken out
 * is freed after a grace period; a family left without mappings loses its
 * hook and its table. A mapping scoped to a device goes with the device,
 * as a route does.
 *
 * Each namespace has its own lock, which only its changes take, some of
 * them under RTNL; readers use RCU. Nothing here waits for a grace period
 * with a lock held: mappings are freed by RCU callbacks.
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
	/* a dump's consistency check takes 0 as "not started" */
	ln->generation = 1;
	ln->stats = __netdev_alloc_pcpu_stats(struct l3dsr_net_stats,
					      L3DSR_GFP);
	if (!ln->stats) {
		NL_SET_ERR_MSG_MOD(extack,
				   "no memory for the namespace's counters");
		goto err_free;
	}

	/* two first requests at once: one state wins, the other goes */
	other = unrcu_pointer(cmpxchg(&pn->ln, NULL, RCU_INITIALIZER(ln)));
	if (other) {
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
		m->plain = !m->match &&
			   !(m->flags & (L3DSR_F_DOWN | L3DSR_F_CLEAR_DSCP |
					 L3DSR_F_NONLOCAL));
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
		l3dsr_table_set(table, old->dscp, NULL);
		table->count--;
		call_rcu(&old->rcu, l3dsr_mapping_free_rcu);
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
 * Checked under the namespace's lock: a device that is still listed then
 * has its unregistration, and the removal of its mappings, still to come
 * (l3dsr_netdev_event()).
 */
static bool l3dsr_net_has_dev(struct l3dsr_net *ln, int ifindex)
{
	bool exists;

	rcu_read_lock();
	exists = dev_get_by_index_rcu(ln->net, ifindex);
	rcu_read_unlock();
	return exists;
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
		if ((m->match & L3DSR_MATCH_DEV) &&
		    !l3dsr_net_has_dev(ln, m->ifindex)) {
			NL_SET_ERR_MSG_MOD(extack,
					   "no device with this ifindex in the namespace");
			err = -ENODEV;
			goto undo;
		}
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
 * A device leaves the namespace (unregistered, or moved to another): the
 * mappings scoped to it go, announced like any removal, so that no device
 * given its index later inherits them.
 */
void l3dsr_net_forget_dev(struct l3dsr_net *ln, int ifindex)
{
	static const u8 families[] = { AF_INET, AF_INET6 };
	struct l3dsr_change c = {};
	unsigned int fi, dscp;
	bool changed = false;

	lockdep_assert_held(&ln->lock);

	for (fi = 0; fi < ARRAY_SIZE(families); fi++) {
		for (dscp = L3DSR_DSCP_MIN; dscp <= L3DSR_DSCP_MAX; dscp++) {
			c.old = l3dsr_net_mapping(ln, families[fi], dscp);
			if (!c.old || !(c.old->match & L3DSR_MATCH_DEV) ||
			    c.old->ifindex != ifindex)
				continue;
			if (!changed)
				l3dsr_net_changing(ln);
			changed = true;
			l3dsr_net_apply(ln, &c);
		}
	}
	l3dsr_net_tidy(ln);
}

static int l3dsr_netdev_event(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct l3dsr_net *ln;

	if (event != NETDEV_UNREGISTER)
		return NOTIFY_DONE;
	ln = l3dsr_net_find(dev_net(dev));
	if (!ln)
		return NOTIFY_DONE;
	mutex_lock(&ln->lock);
	l3dsr_net_forget_dev(ln, dev->ifindex);
	mutex_unlock(&ln->lock);
	return NOTIFY_DONE;
}

static struct notifier_block l3dsr_netdev_notifier = {
	.notifier_call = l3dsr_netdev_event,
};

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

	/*
	 * Mappings freed by RCU callbacks name their namespace's state. The
	 * namespace's devices were unregistered before this (exits run in
	 * the reverse order of registration), finding the state empty.
	 */
	rcu_barrier();
	list_for_each_entry(net, net_exit_list, exit_list) {
		ln = l3dsr_net_find(net);
		if (!ln)
			continue;
		RCU_INIT_POINTER(l3dsr_pernet(net)->ln, NULL);
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
	int err;

	err = register_pernet_subsys(&l3dsr_net_ops);
	if (err)
		return err;
	err = register_netdevice_notifier(&l3dsr_netdev_notifier);
	if (err)
		unregister_pernet_subsys(&l3dsr_net_ops);
	return err;
}

/*
 * Unregistering the notifier replays every device's unregistration: the
 * device-scoped mappings go first, then the rest. The family is gone by
 * then, so nothing is announced.
 */
void l3dsr_pernet_exit(void)
{
	unregister_netdevice_notifier(&l3dsr_netdev_notifier);
	unregister_pernet_subsys(&l3dsr_net_ops);
	/* mappings are freed by RCU callbacks that live in this module */
	rcu_barrier();
}
