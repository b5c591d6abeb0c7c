/* SPDX-License-Identifier: GPL-2.0 */
/*
 * State shared by the parts of the module: the per-namespace state and its
 * tables of mappings, what the packet hook reads and what the configuration
 * path writes.
 */
#ifndef _L3DSR_H
#define _L3DSR_H

#include <linux/in6.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <linux/notifier.h>
#include <linux/rcupdate.h>
#include <linux/seqlock.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>
#include <net/net_namespace.h>

#include "compat.h"
#include "uapi/l3dsr.h"

#define L3DSR_NR_SLOTS		(L3DSR_DSCP_MAX + 1)
/* A DS field (the TOS byte, the traffic class): a DSCP and two ECN bits. */
#define L3DSR_NR_DSFIELDS	256
#define L3DSR_ECN_BITS		2
#define L3DSR_NR_FAMILIES	2

union l3dsr_addr {
	__be32 ip;
	struct in6_addr in6;
};

/*
 * A destination once found to be this host's (or not), on a device, while
 * the namespace's routes were at generation @gen. Zeroed, it matches no
 * packet: no device has ifindex 0.
 */
struct l3dsr_dest_cache {
	union l3dsr_addr addr;
	int ifindex;
	u32 gen;
};

/*
 * What a mapping keeps per CPU: its counters, and what the packet path last
 * learnt about a destination on this CPU.
 */
struct l3dsr_mapping_pcpu {
	u64_stats_t packets;
	u64_stats_t bytes;
	struct u64_stats_sync syncp;
	struct l3dsr_dest_cache local;
	struct l3dsr_dest_cache not_local;
};

/*
 * A word of the network header that tells whether the hook's fast path may
 * take a packet, and the values it holds, under the mask, for UDP and for
 * TCP (hook.c).
 */
struct l3dsr_fast_pattern {
	__be32 mask;
	__be32 udp;
	__be32 tcp;
};

/* Restrictions on which packets a mapping applies to. */
#define L3DSR_MATCH_RIP		BIT(0)
#define L3DSR_MATCH_DEV		BIT(1)

struct l3dsr_net;

/*
 * A mapping never changes once published: a change publishes a new one in its
 * slot, so the packet path needs no lock to see a consistent mapping.
 */
struct l3dsr_mapping {
	union l3dsr_addr vip;
	union l3dsr_addr rip;
	int ifindex;
	u8 match;
	u8 family;
	u8 dscp;
	/* down, scoped, clearing the DSCP or nonlocal: the path looks closer */
	bool slow_checks;
	u32 flags;
	struct l3dsr_fast_pattern fast;
	struct l3dsr_mapping_pcpu __percpu *pcpu;
	/* false once a replacement has taken the counters over */
	bool owns_pcpu;
	struct l3dsr_net *ln;
	/* on ln->retiring from its removal until its count is folded in */
	struct list_head retiring;
	struct rcu_head rcu;
};

/* One family's table: plain data, read by the packet path under RCU. */
struct l3dsr_table {
	/*
	 * Indexed by the whole DS field, so the IPv4 hook takes the TOS byte
	 * as it is: a mapping sits in its DSCP's four entries, one per ECN
	 * value.
	 */
	struct l3dsr_mapping __rcu *by_dsfield[L3DSR_NR_DSFIELDS];
	struct l3dsr_net *ln;
	/* IPv6: every change the FIB notifies (local.c) */
	atomic_t routes_changes;
	unsigned int count;
	struct nf_hook_ops ops;
	struct rcu_head rcu;
};

/*
 * The counters a namespace keeps per CPU: every stat after
 * L3DSR_STAT_REWRITTEN, which is summed from the mappings.
 */
#define L3DSR_NS_STAT_FIRST	L3DSR_STAT_REWRITTEN_FRAGMENTS
#define L3DSR_NS_STAT_COUNT	(__L3DSR_STAT_LAST - L3DSR_NS_STAT_FIRST)

struct l3dsr_net_stats {
	u64_stats_t ctr[L3DSR_NS_STAT_COUNT];
	struct u64_stats_sync syncp;
};

/*
 * A namespace's state, made with its first mapping and kept, with its
 * counters, until the namespace goes: counters never go back. The tables
 * and the hooks exist only while a family has mappings.
 */
struct l3dsr_net {
	struct net *net;
	/* serialises this namespace's changes; readers take no lock */
	struct mutex lock;
	struct l3dsr_table __rcu *tables[L3DSR_NR_FAMILIES];
	/* tells the tables of the namespace's route changes (local.c) */
	struct notifier_block fib_nb;
	/* bumped by every change of the tables, so a dump can tell */
	unsigned int generation;
	/*
	 * A packet counts its rewrite once, on its mapping. The namespace's
	 * total adds the mappings removed since: those still retiring, which
	 * packets may be counting on, and the folded total of those gone.
	 * The lock makes a mapping's move from one to the other atomic for
	 * readers.
	 */
	seqlock_t retire_lock;
	struct list_head retiring;
	u64 rewritten_retired;
	struct l3dsr_net_stats __percpu *stats;
};

/*
 * What a configuration allocates is charged to whoever makes it, and a
 * memory cgroup's limit refuses the request (-ENOMEM) rather than calling
 * in the OOM killer.
 */
#define L3DSR_GFP	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL)

/* Tables and sysfs directories are kept per family in this order. */
static inline unsigned int l3dsr_family_index(u8 family)
{
	return family == AF_INET ? 0 : 1;
}

static inline size_t l3dsr_addr_len(u8 family)
{
	return family == AF_INET ? sizeof(__be32) : sizeof(struct in6_addr);
}

/* table.c: the data, knowing nothing of who watches it */
struct l3dsr_table *l3dsr_table_alloc(struct l3dsr_net *ln);
void l3dsr_table_free(struct l3dsr_table *table);
void l3dsr_table_free_after_readers(struct l3dsr_table *table);
struct l3dsr_mapping *l3dsr_table_get(struct l3dsr_table *table, u8 dscp);
void l3dsr_table_set(struct l3dsr_table *table, u8 dscp,
		     struct l3dsr_mapping *m);
struct l3dsr_mapping *l3dsr_mapping_alloc(void);
int l3dsr_mapping_alloc_pcpu(struct l3dsr_mapping *m);
void l3dsr_mapping_free(struct l3dsr_mapping *m);
bool l3dsr_mapping_equal(const struct l3dsr_mapping *a,
			 const struct l3dsr_mapping *b);

/* net.c: the owner of a namespace's state and of every change to it */
struct l3dsr_net *l3dsr_net_find(struct net *net);
struct l3dsr_net *l3dsr_net_get(struct net *net,
				struct netlink_ext_ack *extack);
struct l3dsr_table *l3dsr_net_table(struct l3dsr_net *ln, u8 family);
struct l3dsr_mapping *l3dsr_net_mapping(struct l3dsr_net *ln, u8 family,
					u8 dscp);

/* One slot's change in a transaction: @new takes the place of @old. */
struct l3dsr_change {
	struct l3dsr_mapping *new;
	struct l3dsr_mapping *old;
};

int l3dsr_net_commit(struct l3dsr_net *ln, struct l3dsr_change *changes,
		     unsigned int n, struct netlink_ext_ack *extack);
void l3dsr_net_flush(struct l3dsr_net *ln, u8 family);
int l3dsr_pernet_init(void);
void l3dsr_pernet_exit(void);

/*
 * local.c: which destinations are this host's. Whatever changes that moves
 * the generation on: for IPv4 the routes' own generation, bumped after
 * every change; for IPv6 the routes' serial number, bumped after every
 * addition or replacement, plus a count of every change the FIB notifies,
 * which it does after a deletion (and before the others). The IPv6 count
 * is kept in the table, which the hook is handed, to save a load.
 */
static __always_inline u32 l3dsr_routes_gen(const struct l3dsr_table *table,
					    const struct net *net, u8 family)
{
	if (family == AF_INET)
		return rt_genid_ipv4(net);
	return atomic_read(&table->routes_changes) + rt_genid_ipv6(net);
}

static __always_inline bool l3dsr_addr_equal(const union l3dsr_addr *a,
					     const void *daddr, u8 family)
{
	const u64 *b = daddr;

	if (family == AF_INET)
		return a->ip == *(const __be32 *)daddr;
	/*
	 * Two compares in turn: ipv6_addr_equal()'s xor and or hold four
	 * registers, which costs the hit path five instructions to save.
	 */
	return get_unaligned((const u64 *)&a->in6) == get_unaligned(b) &&
	       get_unaligned((const u64 *)&a->in6 + 1) == get_unaligned(b + 1);
}

/*
 * Whether @c holds @daddr, seen on @ifindex under generation @gen. The
 * generation first: in that order the hit path needs no register saved.
 */
static __always_inline bool l3dsr_dest_cached(const struct l3dsr_dest_cache *c,
					      const void *daddr, u8 family,
					      int ifindex, u32 gen)
{
	return c->gen == gen && c->ifindex == ifindex &&
	       l3dsr_addr_equal(&c->addr, daddr, family);
}

int l3dsr_routes_watch(struct l3dsr_net *ln, struct netlink_ext_ack *extack);
void l3dsr_routes_unwatch(struct l3dsr_net *ln);
bool l3dsr_dest_is_local(struct l3dsr_table *table, struct l3dsr_mapping *m,
			 struct sk_buff *skb, const void *daddr);

/* counters.c */
static inline void l3dsr_count(struct l3dsr_net *ln, enum l3dsr_stat stat)
{
	struct l3dsr_net_stats *s = this_cpu_ptr(ln->stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->ctr[stat - L3DSR_NS_STAT_FIRST]);
	u64_stats_update_end(&s->syncp);
}

/* @s: this CPU's part of the mapping, this_cpu_ptr(m->pcpu). */
static inline void l3dsr_count_mapping(struct l3dsr_mapping_pcpu *s,
				       unsigned int bytes)
{
	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->packets);
	u64_stats_add(&s->bytes, bytes);
	u64_stats_update_end(&s->syncp);
}

/*
 * Live objects, for the tests that look for leaks: what was allocated and
 * not yet freed, RCU callbacks pending included (debugfs l3dsr/objects).
 */
enum l3dsr_object {
	L3DSR_OBJ_NAMESPACES,
	L3DSR_OBJ_TABLES,
	L3DSR_OBJ_MAPPINGS,
	__L3DSR_OBJ_LAST
};

extern atomic_t l3dsr_objects[__L3DSR_OBJ_LAST];

static inline void l3dsr_objects_inc(enum l3dsr_object obj)
{
	atomic_inc(&l3dsr_objects[obj]);
}

static inline void l3dsr_objects_dec(enum l3dsr_object obj)
{
	atomic_dec(&l3dsr_objects[obj]);
}

void l3dsr_debugfs_init(void);
void l3dsr_debugfs_exit(void);

extern const char *const l3dsr_stat_names[__L3DSR_STAT_LAST];
void l3dsr_stats_sum(struct l3dsr_net *ln, u64 *sum);
u64 l3dsr_stat_read(struct l3dsr_net *ln, enum l3dsr_stat stat);
void l3dsr_mapping_stats_sum(const struct l3dsr_mapping *m,
			     u64 *packets, u64 *bytes);

/* hook.c */
void l3dsr_hook_prepare(struct l3dsr_mapping *m);
int l3dsr_hook_attach(struct l3dsr_net *ln, struct l3dsr_table *table,
		      u8 family);
void l3dsr_hook_detach(struct l3dsr_net *ln, struct l3dsr_table *table);

/* netlink.c */
int l3dsr_genl_init(void);
void l3dsr_genl_exit(void);
void l3dsr_genl_notify(struct l3dsr_net *ln, const struct l3dsr_mapping *m,
		       bool removed);

/* sysfs.c: the initial namespace's table, for monitoring agents */
int l3dsr_sysfs_init(void);
void l3dsr_sysfs_exit(void);
void l3dsr_sysfs_mapping_added(struct l3dsr_net *ln,
			       const struct l3dsr_mapping *m);
void l3dsr_sysfs_mapping_removed(struct l3dsr_net *ln,
				 const struct l3dsr_mapping *m);

#endif /* _L3DSR_H */
