/* SPDX-License-Identifier: GPL-2.0 */
/*
 * State shared by the parts of the module: the per-namespace state and its
 * tables of mappings, what the packet hook reads and what the configuration
 * path writes.
 */
#ifndef _L3DSR_H
#define _L3DSR_H

#include <linux/in6.h>
#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <linux/rcupdate.h>
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
 * the namespace's routes were at generation @gen (hook.h). Zeroed, it
 * matches no packet: no device has ifindex 0.
 */
struct l3dsr_dest_cache {
	union l3dsr_addr addr;
	int ifindex;
	u32 gen;
};

/*
 * What a mapping keeps per CPU: its counters, and what the packet path last
 * learnt about a destination on this CPU (hook.c).
 */
struct l3dsr_mapping_pcpu {
	u64_stats_t packets;
	u64_stats_t bytes;
	struct u64_stats_sync syncp;
	struct l3dsr_dest_cache local;
	struct l3dsr_dest_cache not_local;
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
	/* neither down, scoped, clearing the DSCP nor nonlocal (hook.c) */
	bool plain;
	u32 flags;
	struct l3dsr_mapping_pcpu __percpu *pcpu;
	/* false once a replacement has taken the counters over */
	bool owns_pcpu;
	struct l3dsr_net *ln;
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
	/* the namespace's counters, ln->stats, a load nearer the hook */
	struct l3dsr_net_stats __percpu *stats;
	unsigned int count;
	struct nf_hook_ops ops;
	struct rcu_head rcu;
};

/* The counters a namespace keeps per CPU, from L3DSR_STAT_REWRITTEN on. */
#define L3DSR_NS_STAT_FIRST	L3DSR_STAT_REWRITTEN
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
	/* bumped by every change of the tables, so a dump can tell */
	unsigned int generation;
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
void l3dsr_net_forget_dev(struct l3dsr_net *ln, int ifindex);
int l3dsr_pernet_init(void);
void l3dsr_pernet_exit(void);

/* counters.c */
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
