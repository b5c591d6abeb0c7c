// SPDX-License-Identifier: GPL-2.0
/*
 * The packet path: a PREROUTING hook per address family that turns the
 * destination of a DSCP-marked packet back into its VIP.
 *
 * Priority: after defragmentation (NF_IP_PRI_CONNTRACK_DEFRAG, -400), so that
 * when nf_defrag is loaded every fragment of a datagram is seen once as the
 * reassembled whole; and before the raw table (-300) and conntrack (-200),
 * so that raw rules and the connection tracking entry see the VIP as the
 * original destination and the server's replies from the VIP match it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/dsfield.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "l3dsr.h"

#define L3DSR_HOOK_PRIORITY	(NF_IP_PRI_RAW - 10)

/* Where a transport header keeps the checksum the destination takes part in. */
struct l3dsr_l4 {
	unsigned int csum_offset;	/* from the transport header */
	unsigned int min_len;		/* bytes the header needs to be valid */
	bool zero_means_none;		/* UDP: a 0 checksum is "none" */
};

static bool l3dsr_l4_lookup(u8 protocol, struct l3dsr_l4 *l4)
{
	switch (protocol) {
	case IPPROTO_TCP:
		l4->csum_offset = offsetof(struct tcphdr, check);
		l4->min_len = sizeof(struct tcphdr);
		l4->zero_means_none = false;
		return true;
	case IPPROTO_UDP:
		l4->csum_offset = offsetof(struct udphdr, check);
		l4->min_len = sizeof(struct udphdr);
		l4->zero_means_none = true;
		return true;
	case IPPROTO_UDPLITE:
		l4->csum_offset = offsetof(struct udphdr, check);
		l4->min_len = sizeof(struct udphdr);
		l4->zero_means_none = false;
		return true;
	case IPPROTO_ICMPV6:
		l4->csum_offset = offsetof(struct icmp6hdr, icmp6_cksum);
		l4->min_len = sizeof(struct icmp6hdr);
		l4->zero_means_none = false;
		return true;
	}
	return false;
}

/*
 * A UDP header whose length disagrees with the datagram would be dropped by
 * the stack; leave it as it came so the stack's own counters account for it.
 * Only a whole datagram can be judged: a first fragment carries the length
 * of the reassembled datagram.
 */
static bool l3dsr_udp_len_ok(const struct sk_buff *skb, unsigned int thoff,
			     bool fragment)
{
	const struct udphdr *uh = (const void *)(skb->data + thoff);
	unsigned int ulen = ntohs(uh->len);

	if (fragment)
		return true;
	return ulen >= sizeof(*uh) && ulen <= skb->len - thoff;
}

static bool l3dsr_scope_matches(const struct l3dsr_mapping *m,
				const struct nf_hook_state *state,
				const void *daddr, unsigned int alen)
{
	if ((m->match & L3DSR_MATCH_DEV) && state->in->ifindex != m->ifindex)
		return false;
	if ((m->match & L3DSR_MATCH_RIP) && memcmp(daddr, &m->rip, alen))
		return false;
	return true;
}

/*
 * Checks shared by both families before anything is written. Returns the
 * stat to count if the packet is to be left alone, or __L3DSR_STAT_LAST.
 */
static enum l3dsr_stat l3dsr_precheck(const struct l3dsr_mapping *m,
				      const struct sk_buff *skb,
				      const struct nf_hook_state *state,
				      const void *daddr, unsigned int alen)
{
	if (unlikely(m->flags & L3DSR_F_DOWN))
		return L3DSR_STAT_SKIPPED_DOWN;
	if (!l3dsr_scope_matches(m, state, daddr, alen))
		return L3DSR_STAT_SKIPPED_SCOPE;
	if (skb->pkt_type != PACKET_HOST)
		return L3DSR_STAT_SKIPPED_NOT_HOST;
	return __L3DSR_STAT_LAST;
}

static unsigned int l3dsr_ipv4_rewrite(struct l3dsr_net *ln,
				       struct l3dsr_mapping *m,
				       struct sk_buff *skb,
				       const struct nf_hook_state *state)
{
	const struct iphdr *iph = ip_hdr(skb);
	unsigned int thoff = ip_hdrlen(skb);
	unsigned int write_len = thoff;
	bool later_fragment, fragment;
	struct l3dsr_l4 l4;
	bool has_l4 = false;
	enum l3dsr_stat skip;
	struct iphdr *wiph;
	__be32 old;

	skip = l3dsr_precheck(m, skb, state, &iph->daddr, sizeof(iph->daddr));
	if (skip != __L3DSR_STAT_LAST)
		goto skipped;

	fragment = ip_is_fragment(iph);
	later_fragment = iph->frag_off & htons(IP_OFFSET);
	if (!later_fragment && l3dsr_l4_lookup(iph->protocol, &l4) &&
	    iph->protocol != IPPROTO_ICMPV6) {
		if (skb->len < thoff + l4.min_len) {
			skip = L3DSR_STAT_SKIPPED_MALFORMED;
			goto skipped;
		}
		has_l4 = true;
		write_len = thoff + l4.min_len;
	}

	/* Only the headers are made private and linear, never the payload. */
	if (skb_ensure_writable(skb, write_len)) {
		l3dsr_count(ln, L3DSR_STAT_DROPPED_UNWRITABLE);
		return NF_DROP;
	}

	if (has_l4 && l4.zero_means_none &&
	    !l3dsr_udp_len_ok(skb, thoff, fragment)) {
		skip = L3DSR_STAT_SKIPPED_MALFORMED;
		goto skipped;
	}

	wiph = ip_hdr(skb);
	old = wiph->daddr;
	if (has_l4) {
		__sum16 *check = (__sum16 *)(skb->data + thoff + l4.csum_offset);

		if (!(l4.zero_means_none && !*check &&
		      skb->ip_summed != CHECKSUM_PARTIAL)) {
			inet_proto_csum_replace4(check, skb, old, m->vip.ip,
						 true);
			if (l4.zero_means_none && !*check &&
			    skb->ip_summed != CHECKSUM_PARTIAL)
				*check = CSUM_MANGLED_0;
		}
	}
	csum_replace4(&wiph->check, old, m->vip.ip);
	wiph->daddr = m->vip.ip;
	if (m->flags & L3DSR_F_CLEAR_DSCP)
		ipv4_change_dsfield(wiph, INET_ECN_MASK, 0);

	if (later_fragment)
		l3dsr_count(ln, L3DSR_STAT_REWRITTEN_FRAGMENTS);
	l3dsr_count(ln, L3DSR_STAT_REWRITTEN);
	l3dsr_count_mapping(m, skb->len);
	return NF_ACCEPT;

skipped:
	l3dsr_count(ln, skip);
	return NF_ACCEPT;
}

static unsigned int l3dsr_ipv4_hook(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	struct l3dsr_net *ln = priv;
	struct l3dsr_mapping *m;

	m = rcu_dereference(ln->ipv4.slot[ip_hdr(skb)->tos >> 2]);
	if (likely(!m))
		return NF_ACCEPT;
	return l3dsr_ipv4_rewrite(ln, m, skb, state);
}

/*
 * Where the transport header of an IPv6 packet starts, past the extension
 * headers. Returns false if the packet must be left alone, with *skip saying
 * why; sets *later_fragment for non-first fragments, which carry no
 * transport header.
 */
static bool l3dsr_ipv6_find_l4(const struct sk_buff *skb, u8 *nexthdr,
			       unsigned int *thoff, bool *fragment,
			       bool *later_fragment, enum l3dsr_stat *skip)
{
	unsigned int off = sizeof(struct ipv6hdr);
	u8 next = ipv6_hdr(skb)->nexthdr;

	*fragment = false;
	*later_fragment = false;
	for (;;) {
		u8 buf[4];
		const u8 *hp;

		switch (next) {
		case NEXTHDR_HOP:
		case NEXTHDR_DEST:
		case NEXTHDR_ROUTING:
		case NEXTHDR_AUTH:
		case NEXTHDR_FRAGMENT:
			break;
		default:
			*nexthdr = next;
			*thoff = off;
			return true;
		}

		hp = skb_header_pointer(skb, off, sizeof(buf), buf);
		if (!hp) {
			*skip = L3DSR_STAT_SKIPPED_MALFORMED;
			return false;
		}

		switch (next) {
		case NEXTHDR_ROUTING:
			/*
			 * With segments left, the destination is a waypoint
			 * and the packet is not for this host in the end:
			 * rewriting it would hijack a routed packet.
			 */
			if (hp[3]) {
				*skip = L3DSR_STAT_SKIPPED_ROUTING_HEADER;
				return false;
			}
			off += ipv6_optlen((const struct ipv6_opt_hdr *)hp);
			break;
		case NEXTHDR_FRAGMENT: {
			const struct frag_hdr *fh;
			struct frag_hdr fbuf;

			fh = skb_header_pointer(skb, off, sizeof(fbuf), &fbuf);
			if (!fh) {
				*skip = L3DSR_STAT_SKIPPED_MALFORMED;
				return false;
			}
			*fragment = true;
			if (fh->frag_off & htons(IP6_OFFSET)) {
				*later_fragment = true;
				*nexthdr = fh->nexthdr;
				*thoff = off + sizeof(*fh);
				return true;
			}
			off += sizeof(*fh);
			break;
		}
		case NEXTHDR_AUTH:
			off += ipv6_authlen((const struct ip_auth_hdr *)hp);
			break;
		default:
			off += ipv6_optlen((const struct ipv6_opt_hdr *)hp);
			break;
		}
		next = hp[0];
	}
}

/*
 * Rewrite a checksum covering an IPv6 pseudo-header for a new destination.
 * CHECKSUM_PARTIAL keeps the uncomplemented pseudo-header sum in the field.
 * For CHECKSUM_COMPLETE, skb->csum needs no change: it also covers the IPv6
 * header, whose sum moves by exactly the opposite of the field's.
 */
static void l3dsr_csum_replace16(__sum16 *check, const struct sk_buff *skb,
				 const struct in6_addr *from,
				 const struct in6_addr *to)
{
	__be32 diff[] = {
		~from->s6_addr32[0], ~from->s6_addr32[1],
		~from->s6_addr32[2], ~from->s6_addr32[3],
		to->s6_addr32[0], to->s6_addr32[1],
		to->s6_addr32[2], to->s6_addr32[3],
	};

	if (skb->ip_summed == CHECKSUM_PARTIAL)
		*check = ~csum_fold(csum_partial(diff, sizeof(diff),
						 csum_unfold(*check)));
	else
		*check = csum_fold(csum_partial(diff, sizeof(diff),
						~csum_unfold(*check)));
}

static unsigned int l3dsr_ipv6_rewrite(struct l3dsr_net *ln,
				       struct l3dsr_mapping *m,
				       struct sk_buff *skb,
				       const struct nf_hook_state *state)
{
	unsigned int write_len = sizeof(struct ipv6hdr);
	bool fragment, later_fragment;
	struct ipv6hdr *ip6h;
	struct in6_addr old;
	unsigned int thoff;
	enum l3dsr_stat skip;
	struct l3dsr_l4 l4;
	bool has_l4 = false;
	u8 nexthdr;

	ip6h = ipv6_hdr(skb);
	skip = l3dsr_precheck(m, skb, state, &ip6h->daddr,
			      sizeof(ip6h->daddr));
	if (skip != __L3DSR_STAT_LAST)
		goto skipped;

	if (!l3dsr_ipv6_find_l4(skb, &nexthdr, &thoff, &fragment,
				&later_fragment, &skip))
		goto skipped;

	if (!later_fragment && nexthdr != IPPROTO_NONE &&
	    l3dsr_l4_lookup(nexthdr, &l4)) {
		if (skb->len < thoff + l4.min_len) {
			skip = L3DSR_STAT_SKIPPED_MALFORMED;
			goto skipped;
		}
		has_l4 = true;
		write_len = thoff + l4.min_len;
	}

	if (skb_ensure_writable(skb, write_len)) {
		l3dsr_count(ln, L3DSR_STAT_DROPPED_UNWRITABLE);
		return NF_DROP;
	}

	if (has_l4 && nexthdr == IPPROTO_UDP &&
	    !l3dsr_udp_len_ok(skb, thoff, fragment)) {
		skip = L3DSR_STAT_SKIPPED_MALFORMED;
		goto skipped;
	}

	ip6h = ipv6_hdr(skb);
	old = ip6h->daddr;
	if (has_l4) {
		__sum16 *check = (__sum16 *)(skb->data + thoff + l4.csum_offset);

		if (l4.zero_means_none && !*check &&
		    skb->ip_summed != CHECKSUM_PARTIAL)
			has_l4 = false;
		else
			l3dsr_csum_replace16(check, skb, &old, &m->vip.in6);
	}
	if (!has_l4 && skb->ip_summed == CHECKSUM_COMPLETE) {
		/* no transport checksum absorbs the header's change */
		__be32 diff[] = {
			~old.s6_addr32[0], ~old.s6_addr32[1],
			~old.s6_addr32[2], ~old.s6_addr32[3],
			m->vip.in6.s6_addr32[0], m->vip.in6.s6_addr32[1],
			m->vip.in6.s6_addr32[2], m->vip.in6.s6_addr32[3],
		};

		skb->csum = csum_partial(diff, sizeof(diff), skb->csum);
	}
	ip6h->daddr = m->vip.in6;

	if (m->flags & L3DSR_F_CLEAR_DSCP) {
		__be32 *first_word = (__be32 *)ip6h;
		__be32 before = *first_word, after;

		ipv6_change_dsfield(ip6h, INET_ECN_MASK, 0);
		after = *first_word;
		if (skb->ip_summed == CHECKSUM_COMPLETE)
			skb->csum = csum_add(csum_sub(skb->csum,
						      (__force __wsum)before),
					     (__force __wsum)after);
	}

	if (later_fragment)
		l3dsr_count(ln, L3DSR_STAT_REWRITTEN_FRAGMENTS);
	l3dsr_count(ln, L3DSR_STAT_REWRITTEN);
	l3dsr_count_mapping(m, skb->len);
	return NF_ACCEPT;

skipped:
	l3dsr_count(ln, skip);
	return NF_ACCEPT;
}

static unsigned int l3dsr_ipv6_hook(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	struct l3dsr_net *ln = priv;
	struct l3dsr_mapping *m;

	m = rcu_dereference(ln->ipv6.slot[ipv6_get_dsfield(ipv6_hdr(skb)) >> 2]);
	if (likely(!m))
		return NF_ACCEPT;
	return l3dsr_ipv6_rewrite(ln, m, skb, state);
}

static struct nf_hook_ops *l3dsr_hook_ops(struct l3dsr_net *ln, u8 family)
{
	struct nf_hook_ops *ops;

	if (family == AF_INET) {
		ops = &ln->ipv4_ops;
		ops->hook = l3dsr_ipv4_hook;
		ops->pf = NFPROTO_IPV4;
	} else {
		ops = &ln->ipv6_ops;
		ops->hook = l3dsr_ipv6_hook;
		ops->pf = NFPROTO_IPV6;
	}
	ops->hooknum = NF_INET_PRE_ROUTING;
	ops->priority = L3DSR_HOOK_PRIORITY;
	ops->priv = ln;
	return ops;
}

/*
 * A namespace pays for the hook only while it has a mapping of that family:
 * the hook is attached with the first mapping and detached with the last.
 */
int l3dsr_hook_attach(struct l3dsr_net *ln, u8 family)
{
	int err;

	err = nf_register_net_hook(ln->net, l3dsr_hook_ops(ln, family));
	if (!err)
		l3dsr_table(ln, family)->hook_registered = true;
	return err;
}

void l3dsr_hook_detach(struct l3dsr_net *ln, u8 family)
{
	struct l3dsr_table *table = l3dsr_table(ln, family);

	if (!table->hook_registered)
		return;
	nf_unregister_net_hook(ln->net, l3dsr_hook_ops(ln, family));
	table->hook_registered = false;
}
