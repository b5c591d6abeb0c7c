// SPDX-License-Identifier: GPL-2.0
/*
 * The "l3dsr" generic netlink family: the only way the table is changed.
 * The protocol is documented in uapi/l3dsr.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/socket.h>
#include <net/genetlink.h>
#include <net/ipv6.h>

#include "compat.h"
#include "l3dsr.h"

/* The attributes of one mapping, in a request and in a table entry. */
#define L3DSR_MAPPING_POLICY						\
	[L3DSR_A_FAMILY]	= { .type = NLA_U8 },			\
	[L3DSR_A_DSCP]		= { .type = NLA_U8 },			\
	[L3DSR_A_VIP]		= { .type = NLA_BINARY,			\
				    .len = sizeof(struct in6_addr) },	\
	[L3DSR_A_RIP]		= { .type = NLA_BINARY,			\
				    .len = sizeof(struct in6_addr) },	\
	[L3DSR_A_IFINDEX]	= NLA_POLICY_MIN(NLA_U32, 1),		\
	[L3DSR_A_FLAGS]		= NLA_POLICY_MASK(NLA_U32, __L3DSR_F_ALL)

static const struct nla_policy l3dsr_new_policy[L3DSR_A_MAX + 1] = {
	L3DSR_MAPPING_POLICY,
	[L3DSR_A_REQUEST_FLAGS]	= NLA_POLICY_MASK(NLA_U32,
						  __L3DSR_REQUEST_F_ALL),
};

static const struct nla_policy l3dsr_entry_policy[L3DSR_A_MAX + 1] = {
	L3DSR_MAPPING_POLICY,
};

static const struct nla_policy l3dsr_mappings_policy[L3DSR_A_MAX + 1] = {
	[L3DSR_A_MAPPING]	= NLA_POLICY_NESTED(l3dsr_entry_policy),
};

static const struct nla_policy l3dsr_set_table_policy[L3DSR_A_MAX + 1] = {
	[L3DSR_A_MAPPINGS]	= NLA_POLICY_NESTED(l3dsr_mappings_policy),
};

static const struct nla_policy l3dsr_set_mapping_policy[L3DSR_A_MAX + 1] = {
	[L3DSR_A_FAMILY]	= { .type = NLA_U8 },
	[L3DSR_A_DSCP]		= { .type = NLA_U8 },
	[L3DSR_A_FLAGS]		= NLA_POLICY_MASK(NLA_U32, __L3DSR_F_ALL),
	[L3DSR_A_FLAGS_MASK]	= NLA_POLICY_MASK(NLA_U32, __L3DSR_F_ALL),
};

static const struct nla_policy l3dsr_key_policy[L3DSR_A_DSCP + 1] = {
	[L3DSR_A_FAMILY]	= { .type = NLA_U8 },
	[L3DSR_A_DSCP]		= { .type = NLA_U8 },
};

static const struct nla_policy l3dsr_flush_policy[L3DSR_A_FAMILY + 1] = {
	[L3DSR_A_FAMILY]	= { .type = NLA_U8 },
};

static struct genl_family l3dsr_genl_family;
static bool l3dsr_genl_registered;

/*
 * A request's attributes: the top level of a message (@nest NULL) or one
 * entry of a table (@nest the entry), so that a missing attribute is
 * reported where it is missing.
 */
struct l3dsr_attrs {
	struct nlattr **tb;
	const struct nlattr *nest;
	struct netlink_ext_ack *extack;
};

static struct l3dsr_attrs l3dsr_info_attrs(struct genl_info *info)
{
	return (struct l3dsr_attrs){ .tb = info->attrs,
				     .extack = info->extack };
}

static bool l3dsr_missing(const struct l3dsr_attrs *a, int type)
{
	return NL_REQ_ATTR_CHECK(a->extack, a->nest, a->tb, type);
}

static int l3dsr_parse_family(const struct l3dsr_attrs *a, u8 *family)
{
	struct nlattr *attr = a->tb[L3DSR_A_FAMILY];

	*family = nla_get_u8(attr);
	if (*family != AF_INET && *family != AF_INET6) {
		NL_SET_ERR_MSG_ATTR(a->extack, attr,
				    "family must be AF_INET or AF_INET6");
		return -EINVAL;
	}
	return 0;
}

static int l3dsr_parse_key(const struct l3dsr_attrs *a, u8 *family, u8 *dscp)
{
	struct nlattr *attr;
	int err;

	if (l3dsr_missing(a, L3DSR_A_FAMILY) || l3dsr_missing(a, L3DSR_A_DSCP))
		return -EINVAL;

	err = l3dsr_parse_family(a, family);
	if (err)
		return err;

	attr = a->tb[L3DSR_A_DSCP];
	*dscp = nla_get_u8(attr);
	if (*dscp == 0) {
		NL_SET_ERR_MSG_ATTR(a->extack, attr,
				    "DSCP 0 is all unmarked traffic and cannot be mapped");
		return -EINVAL;
	}
	if (*dscp > L3DSR_DSCP_MAX) {
		NL_SET_ERR_MSG_ATTR(a->extack, attr, "DSCP must be 1 to 63");
		return -EINVAL;
	}
	return 0;
}

static bool l3dsr_addr_is_unicast(u8 family, const union l3dsr_addr *addr)
{
	if (family == AF_INET)
		return !ipv4_is_multicast(addr->ip) &&
		       !ipv4_is_lbcast(addr->ip) &&
		       !ipv4_is_zeronet(addr->ip) &&
		       !ipv4_is_loopback(addr->ip);
	return !ipv6_addr_any(&addr->in6) &&
	       !ipv6_addr_is_multicast(&addr->in6) &&
	       !ipv6_addr_loopback(&addr->in6);
}

/* Separate messages per attribute, so that each one names what is wrong. */
static int l3dsr_parse_addr(const struct l3dsr_attrs *a, int type, u8 family,
			    union l3dsr_addr *addr)
{
	struct nlattr *attr = a->tb[type];
	size_t len = family == AF_INET ? sizeof(addr->ip) : sizeof(addr->in6);
	bool vip = type == L3DSR_A_VIP;

	if (nla_len(attr) != len) {
		if (vip)
			NL_SET_ERR_MSG_ATTR(a->extack, attr,
					    "VIP length does not match the family (4 bytes for AF_INET, 16 for AF_INET6)");
		else
			NL_SET_ERR_MSG_ATTR(a->extack, attr,
					    "RIP length does not match the family (4 bytes for AF_INET, 16 for AF_INET6)");
		return -EINVAL;
	}
	memcpy(addr, nla_data(attr), len);
	if (!l3dsr_addr_is_unicast(family, addr)) {
		if (vip)
			NL_SET_ERR_MSG_ATTR(a->extack, attr,
					    "VIP must be a unicast address");
		else
			NL_SET_ERR_MSG_ATTR(a->extack, attr,
					    "RIP must be a unicast address");
		return -EINVAL;
	}
	return 0;
}

static int l3dsr_parse_mapping(struct net *net, const struct l3dsr_attrs *a,
			       struct l3dsr_mapping *m)
{
	struct nlattr **tb = a->tb;
	int err;

	err = l3dsr_parse_key(a, &m->family, &m->dscp);
	if (err)
		return err;

	if (l3dsr_missing(a, L3DSR_A_VIP))
		return -EINVAL;
	err = l3dsr_parse_addr(a, L3DSR_A_VIP, m->family, &m->vip);
	if (err)
		return err;

	if (tb[L3DSR_A_RIP]) {
		err = l3dsr_parse_addr(a, L3DSR_A_RIP, m->family, &m->rip);
		if (err)
			return err;
		m->match |= L3DSR_MATCH_RIP;
	}

	if (tb[L3DSR_A_IFINDEX]) {
		bool exists;

		m->ifindex = nla_get_u32(tb[L3DSR_A_IFINDEX]);
		rcu_read_lock();
		exists = dev_get_by_index_rcu(net, m->ifindex);
		rcu_read_unlock();
		if (!exists) {
			NL_SET_ERR_MSG_ATTR(a->extack, tb[L3DSR_A_IFINDEX],
					    "no device with this ifindex in the namespace");
			return -ENODEV;
		}
		m->match |= L3DSR_MATCH_DEV;
	}

	if (tb[L3DSR_A_FLAGS])
		m->flags = nla_get_u32(tb[L3DSR_A_FLAGS]);
	return 0;
}

/* @cb is the dump this message is part of, or NULL. */
static int l3dsr_fill_mapping(struct sk_buff *skb,
			      const struct l3dsr_mapping *m,
			      u32 portid, u32 seq, int flags, u8 cmd,
			      struct netlink_callback *cb)
{
	size_t alen = m->family == AF_INET ? sizeof(m->vip.ip) :
					     sizeof(m->vip.in6);
	u64 packets, bytes;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &l3dsr_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);

	l3dsr_mapping_stats_sum(m, &packets, &bytes);
	if (nla_put_u8(skb, L3DSR_A_FAMILY, m->family) ||
	    nla_put_u8(skb, L3DSR_A_DSCP, m->dscp) ||
	    nla_put(skb, L3DSR_A_VIP, alen, &m->vip) ||
	    nla_put_u32(skb, L3DSR_A_FLAGS, m->flags) ||
	    ((m->match & L3DSR_MATCH_RIP) &&
	     nla_put(skb, L3DSR_A_RIP, alen, &m->rip)) ||
	    ((m->match & L3DSR_MATCH_DEV) &&
	     nla_put_u32(skb, L3DSR_A_IFINDEX, m->ifindex)) ||
	    nla_put_u64_64bit(skb, L3DSR_A_PACKETS, packets, L3DSR_A_PAD) ||
	    nla_put_u64_64bit(skb, L3DSR_A_BYTES, bytes, L3DSR_A_PAD)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/*
 * Tell the "config" group of a change, as net.c applies it; a change is
 * never undone for want of memory to announce it.
 */
void l3dsr_genl_notify(struct l3dsr_net *ln, const struct l3dsr_mapping *m,
		       bool removed)
{
	u8 cmd = removed ? L3DSR_CMD_DEL_MAPPING : L3DSR_CMD_NEW_MAPPING;
	struct sk_buff *skb;

	/* the namespaces' exit at unload comes after the family's */
	if (!l3dsr_genl_registered ||
	    !genl_has_listeners(&l3dsr_genl_family, ln->net, 0))
		return;

	skb = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!skb)
		return;
	if (l3dsr_fill_mapping(skb, m, 0, 0, 0, cmd, NULL)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_multicast_netns(&l3dsr_genl_family, ln->net, skb, 0, 0,
				GFP_KERNEL);
}

static void l3dsr_err_slot_taken(struct netlink_ext_ack *extack,
				 const struct nlattr *dscp_attr,
				 const struct l3dsr_mapping *old)
{
	NL_SET_BAD_ATTR(extack, dscp_attr);
#ifdef COMPAT_HAVE_EXTACK_FMT
	if (old->family == AF_INET)
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "DSCP %u is already mapped to %pI4; replace it",
				       old->dscp, &old->vip.ip);
	else
		NL_SET_ERR_MSG_FMT_MOD(extack,
				       "DSCP %u is already mapped to %pI6c; replace it",
				       old->dscp, &old->vip.in6);
#else
	NL_SET_ERR_MSG_MOD(extack,
			   "DSCP is already mapped to a different VIP; replace it");
#endif
}

static int l3dsr_err_nomem_mapping(struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG_MOD(extack, "no memory for the mapping");
	return -ENOMEM;
}

static int l3dsr_err_nomem_reply(struct netlink_ext_ack *extack)
{
	NL_SET_ERR_MSG_MOD(extack, "no memory for the reply");
	return -ENOMEM;
}

static int l3dsr_nl_new_mapping(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct l3dsr_attrs a = l3dsr_info_attrs(info);
	struct nlattr *dscp_attr = info->attrs[L3DSR_A_DSCP];
	struct nlattr *req_attr = info->attrs[L3DSR_A_REQUEST_FLAGS];
	u32 req = req_attr ? nla_get_u32(req_attr) : 0;
	struct l3dsr_change change = {};
	struct l3dsr_mapping *m;
	struct l3dsr_net *ln;
	int err;

	if ((req & L3DSR_REQUEST_F_EXCL) && (req & L3DSR_REQUEST_F_REPLACE)) {
		NL_SET_ERR_MSG_ATTR(info->extack, req_attr,
				    "EXCL and REPLACE contradict each other");
		return -EINVAL;
	}

	m = l3dsr_mapping_alloc();
	if (!m)
		return l3dsr_err_nomem_mapping(info->extack);

	err = l3dsr_parse_mapping(net, &a, m);
	if (err)
		goto out_free;
	if (m->flags & L3DSR_F_DOWN) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[L3DSR_A_FLAGS],
				    "a mapping is taken down with SET_MAPPING, not made down");
		err = -EINVAL;
		goto out_free;
	}

	ln = l3dsr_net_get(net, info->extack);
	if (IS_ERR(ln)) {
		err = PTR_ERR(ln);
		goto out_free;
	}

	mutex_lock(&ln->lock);
	change.old = l3dsr_net_mapping(ln, m->family, m->dscp);
	if (change.old) {
		if (req & L3DSR_REQUEST_F_EXCL) {
			NL_SET_ERR_MSG_ATTR(info->extack, dscp_attr,
					    "DSCP is already mapped");
			err = -EEXIST;
			goto out_unlock;
		}
		/* being down is state, not configuration: it carries over */
		m->flags |= change.old->flags & L3DSR_F_DOWN;
		if (l3dsr_mapping_equal(change.old, m))
			goto out_unlock;	/* nothing to change */
		if (!(req & L3DSR_REQUEST_F_REPLACE)) {
			l3dsr_err_slot_taken(info->extack, dscp_attr,
					     change.old);
			err = -EEXIST;
			goto out_unlock;
		}
	}

	change.new = m;
	err = l3dsr_net_commit(ln, &change, 1, info->extack);
	mutex_unlock(&ln->lock);
	if (err)
		goto out_free;
	return 0;

out_unlock:
	mutex_unlock(&ln->lock);
out_free:
	l3dsr_mapping_free(m);
	return err;
}

static int l3dsr_err_no_mapping(struct genl_info *info)
{
	NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[L3DSR_A_DSCP],
			    "no mapping for this DSCP");
	return -ENOENT;
}

static int l3dsr_nl_set_mapping(struct sk_buff *skb, struct genl_info *info)
{
	struct l3dsr_net *ln = l3dsr_net_find(genl_info_net(info));
	struct l3dsr_attrs a = l3dsr_info_attrs(info);
	struct l3dsr_change change = {};
	struct l3dsr_mapping *m;
	u32 flags, mask;
	u8 family, dscp;
	int err;

	err = l3dsr_parse_key(&a, &family, &dscp);
	if (err)
		return err;
	if (l3dsr_missing(&a, L3DSR_A_FLAGS) ||
	    l3dsr_missing(&a, L3DSR_A_FLAGS_MASK))
		return -EINVAL;
	flags = nla_get_u32(info->attrs[L3DSR_A_FLAGS]);
	mask = nla_get_u32(info->attrs[L3DSR_A_FLAGS_MASK]);
	if (!ln)
		return l3dsr_err_no_mapping(info);

	mutex_lock(&ln->lock);
	change.old = l3dsr_net_mapping(ln, family, dscp);
	if (!change.old) {
		err = l3dsr_err_no_mapping(info);
		goto out_unlock;
	}
	flags = (change.old->flags & ~mask) | (flags & mask);
	if (flags == change.old->flags)
		goto out_unlock;

	m = l3dsr_mapping_alloc();
	if (!m) {
		err = l3dsr_err_nomem_mapping(info->extack);
		goto out_unlock;
	}
	m->vip = change.old->vip;
	m->rip = change.old->rip;
	m->ifindex = change.old->ifindex;
	m->match = change.old->match;
	m->family = family;
	m->dscp = dscp;
	m->flags = flags;
	change.new = m;
	err = l3dsr_net_commit(ln, &change, 1, info->extack);
	if (err)
		l3dsr_mapping_free(m);
out_unlock:
	mutex_unlock(&ln->lock);
	return err;
}

/* The wanted content of every slot, both families, IPv4 first. */
struct l3dsr_wanted {
	struct l3dsr_mapping *slot[2][L3DSR_NR_SLOTS];
};

static void l3dsr_wanted_free(struct l3dsr_wanted *w)
{
	unsigned int fi, dscp;

	for (fi = 0; fi < 2; fi++)
		for (dscp = 0; dscp < L3DSR_NR_SLOTS; dscp++)
			if (w->slot[fi][dscp])
				l3dsr_mapping_free(w->slot[fi][dscp]);
	kfree(w);
}

/* *any: the request holds at least one mapping. */
static int l3dsr_wanted_parse(struct genl_info *info, struct l3dsr_wanted *w,
			      bool *any)
{
	struct net *net = genl_info_net(info);
	struct nlattr *tb[L3DSR_A_MAX + 1];
	struct nlattr *entry;
	int rem, err;

	nla_for_each_nested(entry, info->attrs[L3DSR_A_MAPPINGS], rem) {
		struct l3dsr_attrs a = { .tb = tb, .nest = entry,
					 .extack = info->extack };
		struct l3dsr_mapping *m;
		unsigned int fi;

		/* the core validated the entry against l3dsr_entry_policy */
		err = nla_parse_nested(tb, L3DSR_A_MAX, entry,
				       l3dsr_entry_policy, info->extack);
		if (err)
			return err;

		m = l3dsr_mapping_alloc();
		if (!m)
			return l3dsr_err_nomem_mapping(info->extack);
		err = l3dsr_parse_mapping(net, &a, m);
		fi = l3dsr_family_index(m->family);
		if (!err && w->slot[fi][m->dscp]) {
			NL_SET_ERR_MSG_ATTR(info->extack, entry,
					    "two entries for the same family and DSCP");
			err = -EINVAL;
		}
		if (err) {
			l3dsr_mapping_free(m);
			return err;
		}
		w->slot[fi][m->dscp] = m;
		*any = true;
	}
	return 0;
}

static int l3dsr_nl_set_table(struct sk_buff *skb, struct genl_info *info)
{
	static const u8 families[] = { AF_INET, AF_INET6 };
	struct net *net = genl_info_net(info);
	struct l3dsr_change *changes = NULL;
	struct l3dsr_mapping *m, *old;
	unsigned int fi, dscp, i, n = 0;
	struct l3dsr_wanted *w;
	struct l3dsr_net *ln;
	bool any = false;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, L3DSR_A_MAPPINGS))
		return -EINVAL;

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w) {
		NL_SET_ERR_MSG_MOD(info->extack, "no memory for the new table");
		return -ENOMEM;
	}
	err = l3dsr_wanted_parse(info, w, &any);
	if (err)
		goto out_free;

	/* an empty table asked of a namespace that never had one */
	ln = any ? l3dsr_net_get(net, info->extack) : l3dsr_net_find(net);
	if (IS_ERR_OR_NULL(ln)) {
		err = PTR_ERR_OR_ZERO(ln);
		goto out_free;
	}
	changes = kcalloc(ARRAY_SIZE(families) * L3DSR_DSCP_MAX,
			  sizeof(*changes), GFP_KERNEL);
	if (!changes) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "no memory for the list of changes");
		err = -ENOMEM;
		goto out_free;
	}

	mutex_lock(&ln->lock);
	for (fi = 0; fi < ARRAY_SIZE(families); fi++) {
		for (dscp = L3DSR_DSCP_MIN; dscp <= L3DSR_DSCP_MAX; dscp++) {
			m = w->slot[fi][dscp];
			old = l3dsr_net_mapping(ln, families[fi], dscp);
			if (m && old && l3dsr_mapping_equal(old, m))
				continue;
			if (!m && !old)
				continue;
			changes[n].new = m;
			changes[n].old = old;
			n++;
			/* the change holds it now; an equal one is freed */
			w->slot[fi][dscp] = NULL;
		}
	}
	err = l3dsr_net_commit(ln, changes, n, info->extack);
	mutex_unlock(&ln->lock);
	if (err)
		for (i = 0; i < n; i++)
			if (changes[i].new)
				l3dsr_mapping_free(changes[i].new);

out_free:
	kfree(changes);
	l3dsr_wanted_free(w);
	return err;
}

static int l3dsr_nl_del_mapping(struct sk_buff *skb, struct genl_info *info)
{
	struct l3dsr_net *ln = l3dsr_net_find(genl_info_net(info));
	struct l3dsr_attrs a = l3dsr_info_attrs(info);
	struct l3dsr_change change = {};
	u8 family, dscp;
	int err;

	err = l3dsr_parse_key(&a, &family, &dscp);
	if (err)
		return err;
	if (!ln)
		return l3dsr_err_no_mapping(info);

	mutex_lock(&ln->lock);
	change.old = l3dsr_net_mapping(ln, family, dscp);
	if (change.old)
		err = l3dsr_net_commit(ln, &change, 1, info->extack);
	else
		err = l3dsr_err_no_mapping(info);
	mutex_unlock(&ln->lock);
	return err;
}

static int l3dsr_nl_get_mapping(struct sk_buff *skb, struct genl_info *info)
{
	struct l3dsr_net *ln = l3dsr_net_find(genl_info_net(info));
	struct l3dsr_attrs a = l3dsr_info_attrs(info);
	struct l3dsr_mapping *m;
	struct sk_buff *reply;
	u8 family, dscp;
	int err;

	err = l3dsr_parse_key(&a, &family, &dscp);
	if (err)
		return err;

	reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!reply)
		return l3dsr_err_nomem_reply(info->extack);

	rcu_read_lock();
	m = ln ? l3dsr_net_mapping(ln, family, dscp) : NULL;
	if (m)
		err = l3dsr_fill_mapping(reply, m, info->snd_portid,
					 info->snd_seq, 0,
					 L3DSR_CMD_GET_MAPPING, NULL);
	else
		err = l3dsr_err_no_mapping(info);
	rcu_read_unlock();

	if (err) {
		nlmsg_free(reply);
		return err;
	}
	return genlmsg_reply(reply, info);
}

/* The documentation promises a dump takes no attribute: it refuses any. */
static int l3dsr_nl_dump_start(struct netlink_callback *cb)
{
	if (nlmsg_len(cb->nlh) > GENL_HDRLEN) {
		NL_SET_ERR_MSG_MOD(cb->extack, "a dump takes no attributes");
		return -EINVAL;
	}
	return 0;
}

/*
 * cb->args[0]: the next slot to send, IPv4 slots first. Readers take no
 * lock: a change while a part of the dump was filled leaves cb->seq
 * different from what its messages said, so the next part, or the final
 * NLMSG_DONE, carries NLM_F_DUMP_INTR.
 */
static int l3dsr_nl_dump_mappings(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	struct l3dsr_net *ln = l3dsr_net_find(sock_net(skb->sk));
	unsigned long pos = cb->args[0];

	if (!ln)
		return 0;

	rcu_read_lock();
	cb->seq = READ_ONCE(ln->generation);
	/* the generation before the slots: l3dsr_net_changing() */
	smp_rmb();
	for (; pos < 2 * L3DSR_NR_SLOTS; pos++) {
		u8 family = pos < L3DSR_NR_SLOTS ? AF_INET : AF_INET6;
		struct l3dsr_mapping *m;

		m = l3dsr_net_mapping(ln, family, pos % L3DSR_NR_SLOTS);
		if (!m)
			continue;
		if (l3dsr_fill_mapping(skb, m, NETLINK_CB(cb->skb).portid,
				       cb->nlh->nlmsg_seq, NLM_F_MULTI,
				       L3DSR_CMD_GET_MAPPING, cb))
			break;
	}
	/* and after them, for a change made meanwhile */
	smp_rmb();
	cb->seq = READ_ONCE(ln->generation);
	rcu_read_unlock();
	cb->args[0] = pos;
	return skb->len;
}

static int l3dsr_nl_flush_mappings(struct sk_buff *skb, struct genl_info *info)
{
	struct l3dsr_net *ln = l3dsr_net_find(genl_info_net(info));
	struct l3dsr_attrs a = l3dsr_info_attrs(info);
	u8 family = AF_UNSPEC;
	int err;

	if (info->attrs[L3DSR_A_FAMILY]) {
		err = l3dsr_parse_family(&a, &family);
		if (err)
			return err;
	}
	if (!ln)
		return 0;

	mutex_lock(&ln->lock);
	l3dsr_net_flush(ln, family);
	mutex_unlock(&ln->lock);
	return 0;
}

static int l3dsr_nl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	struct l3dsr_net *ln = l3dsr_net_find(genl_info_net(info));
	u64 sum[__L3DSR_STAT_LAST];
	struct sk_buff *reply;
	struct nlattr *nest;
	void *hdr;
	int i;

	reply = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!reply)
		return l3dsr_err_nomem_reply(info->extack);

	hdr = genlmsg_put_reply(reply, info, &l3dsr_genl_family, 0,
				L3DSR_CMD_GET_STATS);
	if (!hdr)
		goto nla_put_failure;
	nest = nla_nest_start(reply, L3DSR_A_STATS);
	if (!nest)
		goto nla_put_failure;

	l3dsr_stats_sum(ln, sum);
	for (i = L3DSR_STAT_REWRITTEN; i < __L3DSR_STAT_LAST; i++)
		if (nla_put_u64_64bit(reply, i, sum[i], L3DSR_STAT_PAD))
			goto nla_put_failure;

	nla_nest_end(reply, nest);
	genlmsg_end(reply, hdr);
	return genlmsg_reply(reply, info);

nla_put_failure:
	nlmsg_free(reply);
	return -EMSGSIZE;
}

static const struct genl_ops l3dsr_genl_ops[] = {
	{
		.cmd = L3DSR_CMD_NEW_MAPPING,
		.doit = l3dsr_nl_new_mapping,
		.policy = l3dsr_new_policy,
		.maxattr = ARRAY_SIZE(l3dsr_new_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = L3DSR_CMD_DEL_MAPPING,
		.doit = l3dsr_nl_del_mapping,
		.policy = l3dsr_key_policy,
		.maxattr = ARRAY_SIZE(l3dsr_key_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = L3DSR_CMD_GET_MAPPING,
		.doit = l3dsr_nl_get_mapping,
		.start = l3dsr_nl_dump_start,
		.dumpit = l3dsr_nl_dump_mappings,
		.policy = l3dsr_key_policy,
		.maxattr = ARRAY_SIZE(l3dsr_key_policy) - 1,
	},
	{
		.cmd = L3DSR_CMD_FLUSH_MAPPINGS,
		.doit = l3dsr_nl_flush_mappings,
		.policy = l3dsr_flush_policy,
		.maxattr = ARRAY_SIZE(l3dsr_flush_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		/* no policy: any attribute is refused */
		.cmd = L3DSR_CMD_GET_STATS,
		.doit = l3dsr_nl_get_stats,
	},
	{
		.cmd = L3DSR_CMD_SET_MAPPING,
		.doit = l3dsr_nl_set_mapping,
		.policy = l3dsr_set_mapping_policy,
		.maxattr = ARRAY_SIZE(l3dsr_set_mapping_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = L3DSR_CMD_SET_TABLE,
		.doit = l3dsr_nl_set_table,
		.policy = l3dsr_set_table_policy,
		.maxattr = ARRAY_SIZE(l3dsr_set_table_policy) - 1,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static const struct genl_multicast_group l3dsr_genl_mcgrps[] = {
	/* open to every reader of the table, as GET_MAPPING is (uapi) */
	{ .name = L3DSR_MCGRP_CONFIG },
};

static struct genl_family l3dsr_genl_family __ro_after_init = {
	.name = L3DSR_GENL_NAME,
	.version = L3DSR_GENL_VERSION,
	.module = THIS_MODULE,
	.netnsok = true,
	/* changes are serialised by their namespace's lock, not by genl */
	.parallel_ops = true,
	.ops = l3dsr_genl_ops,
	.n_ops = ARRAY_SIZE(l3dsr_genl_ops),
	.mcgrps = l3dsr_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(l3dsr_genl_mcgrps),
};

int __init l3dsr_genl_init(void)
{
	int err;

	err = genl_register_family(&l3dsr_genl_family);
	l3dsr_genl_registered = !err;
	return err;
}

void l3dsr_genl_exit(void)
{
	genl_unregister_family(&l3dsr_genl_family);
	l3dsr_genl_registered = false;
}
