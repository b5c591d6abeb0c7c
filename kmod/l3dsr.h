/* SPDX-License-Identifier: GPL-2.0 */
/*
 * State shared by the parts of the module: the per-namespace table of
 * mappings, what the packet hook reads and what the configuration path
 * writes.
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

#include "uapi/l3dsr.h"

#define L3DSR_NR_SLOTS		(L3DSR_DSCP_MAX + 1)
/* A DS field (the TOS byte, the traffic class): a DSCP and two ECN bits. */
#define L3DSR_NR_DSFIELDS	256
#define L3DSR_ECN_BITS		2

union l3dsr_addr {
	__be32 ip;
	struct in6_addr in6;
};

struct l3dsr_mapping_stats {
	u64_stats_t packets;
	u64_stats_t bytes;
	struct u64_stats_sync syncp;
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
	/* down, scoped or clearing the DSCP: the packet path looks closer */
	bool slow_checks;
	u32 flags;
	struct l3dsr_fast_pattern fast;
	struct l3dsr_mapping_stats __percpu *stats;
	/* false once a replacement has taken the counters over */
	bool owns_stats;
	union {
		struct rcu_head rcu;
		/* in l3dsr_net.removed while packets may still count on it */
		struct list_head removed;
	};
};

struct l3dsr_table {
	/*
	 * Indexed by the whole DS field, so the IPv4 hook takes the TOS byte
	 * as it is: a mapping sits in its DSCP's four entries, one per ECN
	 * value. First: the hook is handed the table and indexes it with no
	 * offset.
	 */
	struct l3dsr_mapping __rcu *by_dsfield[L3DSR_NR_DSFIELDS];
	unsigned int count;
	/* the hook is registered only while the table has a mapping */
	bool hook_registered;
};

struct l3dsr_net_stats {
	u64_stats_t ctr[__L3DSR_STAT_LAST];
	struct u64_stats_sync syncp;
};

struct l3dsr_net {
	struct net *net;
	/* bumped by every change, so a dump can tell it was interrupted */
	unsigned int generation;
	/*
	 * A packet counts its rewrite once, on its mapping. The namespace's
	 * total adds what mappings removed since counted.
	 */
	struct list_head removed;
	u64 rewritten_by_removed;
	struct l3dsr_net_stats __percpu *stats;
	struct l3dsr_table ipv4;
	struct l3dsr_table ipv6;
	struct nf_hook_ops ipv4_ops;
	struct nf_hook_ops ipv6_ops;
};

/* The first of @dscp's entries, where readers other than the hook look. */
static inline struct l3dsr_mapping __rcu **
l3dsr_slot(struct l3dsr_table *table, u8 dscp)
{
	return &table->by_dsfield[dscp << L3DSR_ECN_BITS];
}

/* Serialises every change to every namespace's table. */
extern struct mutex l3dsr_config_lock;

/* Tables and sysfs directories are kept per family in this order. */
static inline unsigned int l3dsr_family_index(u8 family)
{
	return family == AF_INET ? 0 : 1;
}

/* table.c */
struct l3dsr_net *l3dsr_pernet(struct net *net);
struct l3dsr_table *l3dsr_table(struct l3dsr_net *ln, u8 family);
int l3dsr_pernet_init(void);
void l3dsr_pernet_exit(void);

struct l3dsr_mapping *l3dsr_mapping_alloc(void);
void l3dsr_mapping_free(struct l3dsr_mapping *m);
bool l3dsr_mapping_equal(const struct l3dsr_mapping *a,
			 const struct l3dsr_mapping *b);
struct l3dsr_mapping *l3dsr_mapping_get_locked(struct l3dsr_net *ln,
					       u8 family, u8 dscp);
int l3dsr_mapping_prepare(struct l3dsr_mapping *m, struct l3dsr_mapping *old);
int l3dsr_table_attach(struct l3dsr_net *ln, u8 family);
void l3dsr_mapping_commit(struct l3dsr_net *ln, struct l3dsr_mapping *m,
			  struct l3dsr_mapping *old);
void l3dsr_mapping_remove(struct l3dsr_net *ln, struct l3dsr_mapping *m);
void l3dsr_table_tidy(struct l3dsr_net *ln, u8 family);
void l3dsr_table_flush(struct l3dsr_net *ln, u8 family,
		       void (*removing)(struct l3dsr_net *ln,
					const struct l3dsr_mapping *m));

/* counters.c */
static inline void l3dsr_count(struct l3dsr_net *ln, enum l3dsr_stat stat)
{
	struct l3dsr_net_stats *s = this_cpu_ptr(ln->stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->ctr[stat]);
	u64_stats_update_end(&s->syncp);
}

static inline void l3dsr_count_mapping(struct l3dsr_mapping *m,
				       unsigned int bytes)
{
	struct l3dsr_mapping_stats *s = this_cpu_ptr(m->stats);

	u64_stats_update_begin(&s->syncp);
	u64_stats_inc(&s->packets);
	u64_stats_add(&s->bytes, bytes);
	u64_stats_update_end(&s->syncp);
}

extern const char *const l3dsr_stat_names[__L3DSR_STAT_LAST];
void l3dsr_stats_sum(struct l3dsr_net *ln, u64 *sum);
void l3dsr_mapping_stats_sum(const struct l3dsr_mapping *m,
			     u64 *packets, u64 *bytes);

/* hook.c */
void l3dsr_hook_prepare(struct l3dsr_mapping *m);
int l3dsr_hook_attach(struct l3dsr_net *ln, u8 family);
void l3dsr_hook_detach(struct l3dsr_net *ln, u8 family);

/* netlink.c */
int l3dsr_genl_init(void);
void l3dsr_genl_exit(void);

/* sysfs.c: the initial namespace's table, for monitoring agents */
int l3dsr_sysfs_init(void);
void l3dsr_sysfs_exit(void);
void l3dsr_sysfs_mapping_added(struct l3dsr_net *ln,
			       const struct l3dsr_mapping *m);
void l3dsr_sysfs_mapping_removed(struct l3dsr_net *ln,
				 const struct l3dsr_mapping *m);

#endif /* _L3DSR_H */
