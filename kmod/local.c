// SPDX-License-Identifier: GPL-2.0
/*
 * Which destinations are this host's: a mapping rewrites a packet only when
 * the namespace would accept its original destination as its own, the
 * question the route lookup after PREROUTING answers. That lookup is too
 * dear for every packet, so each mapping remembers, per CPU, the last
 * destination found local and the last found not to be, with the
 * generation of the routes they were found under (l3dsr_routes_gen()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <net/fib_notifier.h>
#include <net/ip6_route.h>
#include <net/l3mdev.h>
#include <net/route.h>

#include "l3dsr.h"

/* Called under RCU, some of the time with a FIB table's lock held. */
static int l3dsr_routes_changed(struct notifier_block *nb,
				unsigned long event, void *ptr)
{
	struct l3dsr_net *ln = container_of(nb, struct l3dsr_net, fib_nb);
	struct l3dsr_table *table;
	unsigned int fi;

	for (fi = 0; fi < L3DSR_NR_FAMILIES; fi++) {
		table = rcu_dereference(ln->tables[fi]);
		if (table)
			atomic_inc(&table->routes_changes);
	}
	return NOTIFY_DONE;
}

/* The FIB changed while it was being replayed to the notifier. */
static void l3dsr_routes_replay_aborted(struct notifier_block *nb)
{
	l3dsr_routes_changed(nb, 0, NULL);
}

int l3dsr_routes_watch(struct l3dsr_net *ln, struct netlink_ext_ack *extack)
{
	int err;

	ln->fib_nb.notifier_call = l3dsr_routes_changed;
	err = register_fib_notifier(ln->net, &ln->fib_nb,
				    l3dsr_routes_replay_aborted, extack);
	if (err == -EBUSY)
		NL_SET_ERR_MSG_MOD(extack,
				   "the routes kept changing while l3dsr read them; try again");
	else if (err == -ENOMEM)
		NL_SET_ERR_MSG_MOD(extack,
				   "no memory to read the namespace's routes");
	return err;
}

void l3dsr_routes_unwatch(struct l3dsr_net *ln)
{
	unregister_fib_notifier(ln->net, &ln->fib_nb);
}

/*
 * An address of any interface or a "local" route (AnyIP) in the table the
 * stack will look the packet up in: a VRF's, for a device enslaved to one.
 */
static bool l3dsr_ipv4_is_local(struct net *net, const struct sk_buff *skb,
				__be32 daddr)
{
	return inet_addr_type_dev_table(net, skb->dev, daddr) == RTN_LOCAL;
}

/*
 * The lookup ip6_route_input() makes, as it will make it: once VRF has
 * handed the packet to its device.
 */
static bool l3dsr_ipv6_is_local(struct net *net, const struct sk_buff *skb)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	struct net_device *dev = l3mdev_master_dev_rcu(skb->dev) ?: skb->dev;
	struct flowi6 fl6 = {
		.flowi6_iif = dev->ifindex,
		.flowi6_mark = skb->mark,
		.flowi6_proto = ip6h->nexthdr,
		.daddr = ip6h->daddr,
		.saddr = ip6h->saddr,
		.flowlabel = ip6_flowinfo(ip6h),
	};
	struct dst_entry *dst;
	bool local;

	dst = ip6_route_input_lookup(net, dev, &fl6, skb,
				     RT6_LOOKUP_F_HAS_SADDR);
	local = !dst->error &&
		(container_of(dst, struct rt6_info, dst)->rt6i_flags &
		 RTF_LOCAL);
	dst_release(dst);
	return local;
}

/*
 * Apart, so that its stack frame is paid by the lookups alone. Fills the
 * cache entry of the answer with @daddr seen on @ifindex under @gen.
 */
static noinline bool l3dsr_dest_lookup(struct l3dsr_mapping *m,
				       struct sk_buff *skb, const void *daddr,
				       int ifindex, u32 gen)
{
	struct l3dsr_mapping_pcpu *pcpu = this_cpu_ptr(m->pcpu);
	struct net *net = m->ln->net;
	struct l3dsr_dest_cache *c;
	bool local;

	if (m->family == AF_INET)
		local = l3dsr_ipv4_is_local(net, skb,
					    *(const __be32 *)daddr);
	else
		local = l3dsr_ipv6_is_local(net, skb);

	c = local ? &pcpu->local : &pcpu->not_local;
	memcpy(&c->addr, daddr, l3dsr_addr_len(m->family));
	c->ifindex = ifindex;
	c->gen = gen;
	return local;
}

/* Called under RCU, from the packet path. */
bool l3dsr_dest_is_local(struct l3dsr_table *table, struct l3dsr_mapping *m,
			 struct sk_buff *skb, const void *daddr)
{
	struct l3dsr_mapping_pcpu *pcpu = this_cpu_ptr(m->pcpu);
	int ifindex = skb->dev->ifindex;
	u8 family = m->family;
	u32 gen;

	/* read before the lookup: a change during it leaves the answer stale */
	gen = l3dsr_routes_gen(table, m->ln->net, family);
	if (l3dsr_dest_cached(&pcpu->local, daddr, family, ifindex, gen))
		return true;
	if (l3dsr_dest_cached(&pcpu->not_local, daddr, family, ifindex, gen))
		return false;
	return l3dsr_dest_lookup(m, skb, daddr, ifindex, gen);
}
