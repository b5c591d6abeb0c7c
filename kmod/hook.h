/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the packet path inlines: the locality cache's test and the counters.
 * Kept apart from l3dsr.h, which declares what the other files share.
 */
#ifndef _L3DSR_HOOK_H
#define _L3DSR_HOOK_H

#include <linux/percpu.h>
#include <net/ip6_fib.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>

#include "l3dsr.h"

/*
 * The generation of a namespace's routes: whatever changes what an input
 * route lookup answers moves it on.
 *
 * IPv4: rt_genid_ipv4(), which the FIB bumps for every insertion, for the
 * deletion of any route a lookup has found (FA_S_ACCESSED) and for every
 * rule, device and address event; the kernel's own cached input routes
 * are valid under the same number (rt_cache_valid()).
 *
 * IPv6: rt_genid_ipv6() is the FIB's serial number, renewed by every
 * insertion, replacement and change of a route's next hops; a deletion
 * renews only the serial number of the route's own node, which sockets'
 * cached routes check through their cookie. The FIB counts every deletion
 * in its statistics (fib6_del_route()): the sum moves on with any change.
 *
 * The FIB bumps these after the change it stands for, but without a
 * barrier (the IPv6 serial number excepted), and the deletion count is a
 * plain increment under one table's lock. x86 keeps stores in order, so
 * an answer found under a generation is that generation's; a weakly
 * ordered CPU may see a bump before the change, and keep a stale answer
 * until the next change of the routes.
 */
static __always_inline u32 l3dsr_ipv4_routes_gen(const struct net *net)
{
	return rt_genid_ipv4(net);
}

static __always_inline u32 l3dsr_ipv6_routes_gen(const struct net *net)
{
	return rt_genid_ipv6(net) +
	       READ_ONCE(net->ipv6.rt6_stats->fib_discarded_routes);
}

static __always_inline bool l3dsr_addr_equal(const union l3dsr_addr *a,
					     const void *daddr, u8 family)
{
	if (family == AF_INET)
		return a->ip == *(const __be32 *)daddr;
	return ipv6_addr_equal(&a->in6, daddr);
}

/*
 * Whether @c holds @daddr, seen on @ifindex under generation @gen. Only
 * a namespace whose lookups depend on nothing else fills the cache
 * (hook.c), so a match is the lookup's answer.
 */
static __always_inline bool l3dsr_dest_cached(const struct l3dsr_dest_cache *c,
					      const void *daddr, u8 family,
					      int ifindex, u32 gen)
{
	return c->gen == gen && c->ifindex == ifindex &&
	       l3dsr_addr_equal(&c->addr, daddr, family);
}

/*
 * Counters are per CPU: the packet path must run with bottom halves
 * disabled, as it does in softirq (hook.c).
 */
static __always_inline void l3dsr_count(struct l3dsr_net_stats __percpu *stats,
					enum l3dsr_stat stat)
{
	struct l3dsr_net_stats *s = this_cpu_ptr(stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->ctr[stat - L3DSR_NS_STAT_FIRST]);
	u64_stats_update_end(&s->syncp);
}

/* A rewrite counts on the namespace and on the mapping that made it. */
static __always_inline void
l3dsr_count_rewrite(struct l3dsr_net_stats __percpu *stats,
		    struct l3dsr_mapping_pcpu *pcpu, unsigned int bytes)
{
	l3dsr_count(stats, L3DSR_STAT_REWRITTEN);
	u64_stats_update_begin(&pcpu->syncp);
	u64_stats_inc(&pcpu->packets);
	u64_stats_add(&pcpu->bytes, bytes);
	u64_stats_update_end(&pcpu->syncp);
}

#endif /* _L3DSR_HOOK_H */
