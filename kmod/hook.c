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
#include <linux/overflow.h>
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

static bool l3dsr_l4_lookup(u8 protocol, bool ipv6, struct l3dsr_l4 *l4)
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
		/* ICMP for IPv4 has no pseudo-header: nothing to adjust */
		if (!ipv6)
			return false;
		l4->csum_offset = offsetof(struct icmp6hdr, icmp6_cksum);
		l4->min_len = sizeof(struct icmp6hdr);
		l4->zero_means_none = false;
		return true;
	}
	return false;
}

/*
 * Checksums are adjusted incrementally (RFC 1624) by @delta, the change of
 * the one's complement sum that the new address makes, folded to 16 bits.
 * A checksum field holds the complement of the sum, so it loses @delta;
 * under CHECKSUM_PARTIAL the transport field holds the uncomplemented
 * pseudo-header sum that the device or the stack completes later, so it
 * gains it. One's complement arithmetic carries end-around, and a
 * subtraction borrows end-around: that is RFC 1624's equation 3.
 */
static __always_inline u16 l3dsr_add16(u16 a, u16 b)
{
	bool carry;
	u16 sum;

	carry = check_add_overflow(a, b, &sum);
	return sum + carry;
}

static __always_inline u16 l3dsr_sub16(u16 a, u16 b)
{
	bool borrow;
	u16 dif;

	borrow = check_sub_overflow(a, b, &dif);
	return dif - borrow;
}

static __always_inline u16 l3dsr_fold16(u32 sum)
{
	return l3dsr_add16(sum >> 16, sum);
}

static __always_inline void l3dsr_csum_adjust(__sum16 *check, u16 delta)
{
	*check = (__force __sum16)l3dsr_sub16((__force u16)*check, delta);
}

/*
 * Adjust the transport checksum for the new destination. Returns false
 * when it was left alone: a UDP datagram sent without a checksum (0) keeps
 * none. Otherwise a UDP checksum never becomes 0: adding the complement
 * of @delta instead of subtracting it gives all ones where the
 * subtraction gives 0, and all ones is how a computed 0 is sent.
 */
static __always_inline bool l3dsr_l4_adjust(bool partial, __sum16 *check,
					    bool zero_means_none, u16 delta)
{
	u16 old = (__force u16)*check;

	if (partial) {
		*check = (__force __sum16)l3dsr_add16(old, delta);
		return true;
	}
	if (zero_means_none) {
		if (!old)
			return false;
		*check = (__force __sum16)l3dsr_add16(old, ~delta);
		return true;
	}
	l3dsr_csum_adjust(check, delta);
	return true;
}

/*
 * Whether the first @len bytes of the packet, its headers, are linear and
 * private, so they can be written in place. In PREROUTING skb->data is
 * the network header.
 */
static __always_inline bool l3dsr_headers_writable(const struct sk_buff *skb,
						   unsigned int len)
{
	return likely(len <= skb_headlen(skb) && !skb_cloned(skb));
}

/* Only the headers are made private and linear, never the payload. */
static __always_inline bool l3dsr_make_writable(struct sk_buff *skb,
						unsigned int len)
{
	return l3dsr_headers_writable(skb, len) ||
	       !skb_ensure_writable(skb, len);
}

/*
 * In PREROUTING the device a packet came in on is skb->dev (the hook
 * state's @in is the same device), so the packet path needs nothing but
 * the packet.
 */
static bool l3dsr_scope_matches(const struct l3dsr_mapping *m,
				const struct sk_buff *skb,
				const void *daddr, unsigned int alen)
{
	if ((m->match & L3DSR_MATCH_DEV) && skb->dev->ifindex != m->ifindex)
		return false;
	if ((m->match & L3DSR_MATCH_RIP) && memcmp(daddr, &m->rip, alen))
		return false;
	return true;
}

/* Whether a mapping that is down or scoped applies to this packet. */
static bool l3dsr_applies(const struct l3dsr_mapping *m,
			  const struct sk_buff *skb,
			  const void *daddr, unsigned int alen)
{
	return !(m->flags & L3DSR_F_DOWN) &&
	       l3dsr_scope_matches(m, skb, daddr, alen);
}

/*
 * Checks shared by both families before anything is written. Returns the
 * stat to count if the packet is to be left alone, or __L3DSR_STAT_LAST.
 */
static enum l3dsr_stat l3dsr_precheck(const struct l3dsr_mapping *m,
				      const struct sk_buff *skb,
				      const void *daddr, unsigned int alen)
{
	if (unlikely(m->flags & L3DSR_F_DOWN))
		return L3DSR_STAT_SKIPPED_DOWN;
	if (!l3dsr_scope_matches(m, skb, daddr, alen))
		return L3DSR_STAT_SKIPPED_SCOPE;
	if (skb->pkt_type != PACKET_HOST)
		return L3DSR_STAT_SKIPPED_NOT_HOST;
	return __L3DSR_STAT_LAST;
}

/*
 * The part both families share once the network headers are read: find the
 * transport checksum that covers the destination and make the headers up to
 * it writable (only the IP header, @iphlen bytes, when there is none).
 * Returns __L3DSR_STAT_LAST to go on, with *check NULL when there is no
 * checksum to adjust; L3DSR_STAT_DROPPED_UNWRITABLE when the packet is to be
 * dropped; or the stat to count for a packet left alone.
 */
static __always_inline enum l3dsr_stat
l3dsr_find_check(struct sk_buff *skb, u8 protocol, bool ipv6,
		 unsigned int iphlen, unsigned int thoff, bool later_fragment,
		 __sum16 **check, bool *zero_means_none)
{
	unsigned int write_len = iphlen;
	struct l3dsr_l4 l4;
	bool has_l4 = false;

	*check = NULL;
	*zero_means_none = false;
	if (!later_fragment && l3dsr_l4_lookup(protocol, ipv6, &l4)) {
		if (skb->len < thoff + l4.min_len)
			return L3DSR_STAT_SKIPPED_MALFORMED;
		has_l4 = true;
		write_len = thoff + l4.min_len;
	}

	if (unlikely(!l3dsr_make_writable(skb, write_len)))
		return L3DSR_STAT_DROPPED_UNWRITABLE;

	if (has_l4) {
		*check = (__sum16 *)(skb->data + thoff + l4.csum_offset);
		*zero_means_none = l4.zero_means_none;
	}
	return __L3DSR_STAT_LAST;
}

/*
 * Point the packet at the VIP: @check is the transport checksum covering the
 * destination, if @has_check (a constant on the fast path, so the test
 * costs nothing there). With CHECKSUM_COMPLETE, skb->csum covers the IP
 * header too, but the header's own checksum keeps its sum constant: only
 * the transport field's change shows.
 */
static __always_inline void l3dsr_ipv4_apply(struct l3dsr_mapping *m,
					     struct sk_buff *skb,
					     bool has_check, __sum16 *check,
					     bool zero_means_none)
{
	struct iphdr *iph = ip_hdr(skb);
	/*
	 * Read first: for all the compiler knows, the stores below might
	 * change them.
	 */
	bool partial = skb->ip_summed == CHECKSUM_PARTIAL;
	bool complete = skb->ip_summed == CHECKSUM_COMPLETE;
	__be32 vip = m->vip.ip;
	u16 delta;

	/* vip - daddr, added in this order so vip is not copied to be kept */
	delta = l3dsr_fold16((__force u32)csum_add(~(__force __wsum)iph->daddr,
						   (__force __wsum)vip));
	l3dsr_csum_adjust(&iph->check, delta);
	iph->daddr = vip;
	if (has_check &&
	    l3dsr_l4_adjust(partial, check, zero_means_none, delta) &&
	    complete)
		skb->csum = csum_sub(skb->csum, (__force __wsum)(u32)delta);

	l3dsr_count_mapping(m, skb->len);
}

static __always_inline u64 l3dsr_add64(u64 a, u64 b)
{
	u64 sum = a + b;

	/* this form, unlike check_add_overflow(), becomes add and adc */
	return sum + (sum < a);
}

/*
 * An address summed as two 64-bit words, as good as any other width in
 * one's complement; memcpy() makes no claim on its alignment.
 */
static __always_inline u64 l3dsr_in6_sum(const struct in6_addr *addr)
{
	/* two scalars: an array would stay on the stack, with a canary */
	u64 high, low;

	memcpy(&high, &addr->s6_addr32[0], sizeof(high));
	memcpy(&low, &addr->s6_addr32[2], sizeof(low));
	return l3dsr_add64(high, low);
}

static __always_inline u16 l3dsr_ipv6_delta(const struct in6_addr *from,
					    const struct in6_addr *to)
{
	u64 sum = l3dsr_add64(l3dsr_in6_sum(to), ~l3dsr_in6_sum(from));
	u32 lo = sum, hi = sum >> 32;
	bool carry;

	carry = check_add_overflow(lo, hi, &lo);
	return l3dsr_fold16(lo + carry);
}

/*
 * Point the packet at the VIP; @check as for IPv4. With CHECKSUM_COMPLETE,
 * skb->csum covers the IPv6 header, which has no checksum of its own: when
 * the transport field absorbs the change the two cancel out; when it does
 * not, skb->csum must follow.
 */
static __always_inline void l3dsr_ipv6_apply(struct l3dsr_mapping *m,
					     struct sk_buff *skb,
					     bool has_check, __sum16 *check,
					     bool zero_means_none)
{
	struct ipv6hdr *ip6h = ipv6_hdr(skb);
	bool partial = skb->ip_summed == CHECKSUM_PARTIAL;
	bool complete = skb->ip_summed == CHECKSUM_COMPLETE;
	u16 delta;

	delta = l3dsr_ipv6_delta(&ip6h->daddr, &m->vip.in6);
	if (!(has_check &&
	      l3dsr_l4_adjust(partial, check, zero_means_none, delta)) &&
	    complete)
		skb->csum = csum_add(skb->csum, (__force __wsum)(u32)delta);
	/* a struct assignment here costs a stack frame, memcpy() does not */
	memcpy(&ip6h->daddr, &m->vip.in6, sizeof(ip6h->daddr));

	l3dsr_count_mapping(m, skb->len);
}

static __always_inline void l3dsr_apply(struct l3dsr_mapping *m,
					struct sk_buff *skb, __sum16 *check,
					bool zero_means_none, bool ipv6)
{
	if (ipv6)
		l3dsr_ipv6_apply(m, skb, true, check, zero_means_none);
	else
		l3dsr_ipv4_apply(m, skb, true, check, zero_means_none);
}

/*
 * The transport part of both families' fast paths: @word, the network
 * header's word that @pattern tells about, says whether a UDP datagram or
 * a TCP segment follows the @nhlen bytes of network header; if so and its
 * headers can be written in place, it is rewritten. Each protocol has its
 * own call, so that each is compiled with its constants.
 */
static __always_inline bool l3dsr_fast_apply(struct sk_buff *skb,
					     struct l3dsr_mapping *m,
					     __be32 word,
					     const struct l3dsr_fast_pattern *pattern,
					     unsigned int nhlen, bool ipv6)
{
	void *l4 = skb_network_header(skb) + nhlen;

	word &= pattern->mask;
	if (word == pattern->udp) {
		if (unlikely(!l3dsr_headers_writable(skb, nhlen +
						     sizeof(struct udphdr))))
			return false;
		l3dsr_apply(m, skb, &((struct udphdr *)l4)->check, true, ipv6);
		return true;
	}
	if (likely(word == pattern->tcp)) {
		if (unlikely(!l3dsr_headers_writable(skb, nhlen +
						     sizeof(struct tcphdr))))
			return false;
		l3dsr_apply(m, skb, &((struct tcphdr *)l4)->check, false, ipv6);
		return true;
	}
	return false;
}

/* Every shape of IPv4 packet, and every kind of mapping. */
static noinline unsigned int l3dsr_ipv4_rewrite_any(struct l3dsr_table *table,
						    struct sk_buff *skb,
						    struct l3dsr_mapping *m)
{
	struct l3dsr_net *ln = container_of(table, struct l3dsr_net, ipv4);
	const struct iphdr *iph = ip_hdr(skb);
	unsigned int thoff = ip_hdrlen(skb);
	bool zero_means_none, later_fragment;
	enum l3dsr_stat skip;
	__sum16 *check;

	skip = l3dsr_precheck(m, skb, &iph->daddr, sizeof(iph->daddr));
	if (skip != __L3DSR_STAT_LAST)
		goto skipped;

	later_fragment = iph->frag_off & htons(IP_OFFSET);
	skip = l3dsr_find_check(skb, iph->protocol, false, thoff, thoff,
				later_fragment, &check, &zero_means_none);
	if (skip == L3DSR_STAT_DROPPED_UNWRITABLE) {
		l3dsr_count(ln, skip);
		return NF_DROP;
	}
	if (skip != __L3DSR_STAT_LAST)
		goto skipped;

	l3dsr_ipv4_apply(m, skb, check, check, zero_means_none);
	if (unlikely(m->flags & L3DSR_F_CLEAR_DSCP))
		ipv4_change_dsfield(ip_hdr(skb), INET_ECN_MASK, 0);
	if (later_fragment)
		l3dsr_count(ln, L3DSR_STAT_REWRITTEN_FRAGMENTS);
	return NF_ACCEPT;

skipped:
	l3dsr_count(ln, skip);
	return NF_ACCEPT;
}

/*
 * The first byte of an IPv4 header without options: ip_rcv() has already
 * checked the version, so one compare also tells where the transport
 * header is.
 */
#define L3DSR_IPV4_NO_OPTIONS	0x45

/*
 * The word of the IPv4 header that the fast path tests, frag_off, ttl and
 * protocol: a packet that is not a fragment and is UDP or TCP leaves only
 * the protocol under the mask. The Don't Fragment bit and the TTL do not
 * matter.
 */
static const struct l3dsr_fast_pattern l3dsr_ipv4_pattern = {
	.mask = htonl((IP_MF | IP_OFFSET) << 16 | 0xff),
	.udp = htonl(IPPROTO_UDP),
	.tcp = htonl(IPPROTO_TCP),
};

static __always_inline __be32 l3dsr_ipv4_word(const struct iphdr *iph)
{
	__be32 word;

	memcpy(&word, &iph->frag_off, sizeof(word));
	return word;
}

static noinline unsigned int l3dsr_ipv4_rewrite_slow(struct l3dsr_table *table,
						     struct sk_buff *skb,
						     struct l3dsr_mapping *m);

/*
 * The common case in as few instructions as it takes: a mapping that
 * applies, a packet for this host, an unfragmented TCP segment or UDP
 * datagram after an IPv4 header without options, with its headers private
 * and linear. Anything else, including anything to be skipped and
 * counted, takes the slow path, or the general one if that is where it
 * came from (@from_hook false).
 */
static __always_inline unsigned int
l3dsr_ipv4_rewrite_fast(struct l3dsr_table *table, struct sk_buff *skb,
			struct l3dsr_mapping *m,
			const struct l3dsr_fast_pattern *pattern,
			bool from_hook)
{
	const struct iphdr *iph = ip_hdr(skb);

	if (likely(skb->pkt_type == PACKET_HOST &&
		   *(u8 *)iph == L3DSR_IPV4_NO_OPTIONS &&
		   l3dsr_fast_apply(skb, m, l3dsr_ipv4_word(iph), pattern,
				    sizeof(*iph), false)))
		return NF_ACCEPT;
	if (from_hook)
		return l3dsr_ipv4_rewrite_slow(table, skb, m);
	return l3dsr_ipv4_rewrite_any(table, skb, m);
}

/*
 * Everything the hook's fast path turned away. A mapping that is down,
 * scoped or clears the DSCP may not apply to the packet, and when it does
 * it has more to do; its pattern matches no packet (l3dsr_hook_prepare()),
 * so it always comes here. Once it is known to apply, the packet may still
 * be a common one.
 */
static noinline unsigned int l3dsr_ipv4_rewrite_slow(struct l3dsr_table *table,
						     struct sk_buff *skb,
						     struct l3dsr_mapping *m)
{
	if (!m->slow_checks || (m->flags & L3DSR_F_CLEAR_DSCP) ||
	    !l3dsr_applies(m, skb, &ip_hdr(skb)->daddr, sizeof(__be32)))
		return l3dsr_ipv4_rewrite_any(table, skb, m);
	return l3dsr_ipv4_rewrite_fast(table, skb, m, &l3dsr_ipv4_pattern,
				       false);
}

/*
 * A miss, the fate of all unmarked traffic, costs a load and a test; a hit
 * of an unscoped mapping stays in this function.
 */
static unsigned int l3dsr_ipv4_hook(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	struct l3dsr_table *table = priv;
	struct l3dsr_mapping *m;

	m = rcu_dereference(table->by_dsfield[ip_hdr(skb)->tos]);
	if (likely(!m))
		return NF_ACCEPT;
	return l3dsr_ipv4_rewrite_fast(table, skb, m, &m->fast, true);
}

/*
 * Where the transport header of an IPv6 packet starts, past the extension
 * headers. Returns false if the packet must be left alone, with *skip saying
 * why; sets *later_fragment for non-first fragments, which carry no
 * transport header.
 */
static bool l3dsr_ipv6_find_l4(const struct sk_buff *skb, u8 *nexthdr,
			       unsigned int *thoff, bool *later_fragment,
			       enum l3dsr_stat *skip)
{
	unsigned int off = sizeof(struct ipv6hdr);
	u8 next = ipv6_hdr(skb)->nexthdr;

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
 * The IPv6 header has no checksum of its own, but with CHECKSUM_COMPLETE
 * skb->csum covers it and must follow the change.
 */
static void l3dsr_ipv6_clear_dscp(struct sk_buff *skb)
{
	struct ipv6hdr *ip6h = ipv6_hdr(skb);
	__be32 *first_word = (__be32 *)ip6h;
	__be32 before = *first_word, after;

	ipv6_change_dsfield(ip6h, INET_ECN_MASK, 0);
	after = *first_word;
	if (skb->ip_summed == CHECKSUM_COMPLETE)
		skb->csum = csum_add(csum_sub(skb->csum,
					      (__force __wsum)before),
				     (__force __wsum)after);
}

/* Every shape of IPv6 packet, and every kind of mapping. */
static noinline unsigned int l3dsr_ipv6_rewrite_any(struct l3dsr_table *table,
						    struct sk_buff *skb,
						    struct l3dsr_mapping *m)
{
	struct l3dsr_net *ln = container_of(table, struct l3dsr_net, ipv6);
	bool later_fragment, zero_means_none;
	enum l3dsr_stat skip;
	unsigned int thoff;
	__sum16 *check;
	u8 nexthdr;

	skip = l3dsr_precheck(m, skb, &ipv6_hdr(skb)->daddr,
			      sizeof(struct in6_addr));
	if (skip != __L3DSR_STAT_LAST)
		goto skipped;

	if (!l3dsr_ipv6_find_l4(skb, &nexthdr, &thoff, &later_fragment, &skip))
		goto skipped;

	skip = l3dsr_find_check(skb, nexthdr, true, sizeof(struct ipv6hdr),
				thoff, later_fragment, &check, &zero_means_none);
	if (skip == L3DSR_STAT_DROPPED_UNWRITABLE) {
		l3dsr_count(ln, skip);
		return NF_DROP;
	}
	if (skip != __L3DSR_STAT_LAST)
		goto skipped;

	l3dsr_ipv6_apply(m, skb, check, check, zero_means_none);
	if (unlikely(m->flags & L3DSR_F_CLEAR_DSCP))
		l3dsr_ipv6_clear_dscp(skb);
	if (later_fragment)
		l3dsr_count(ln, L3DSR_STAT_REWRITTEN_FRAGMENTS);
	return NF_ACCEPT;

skipped:
	l3dsr_count(ln, skip);
	return NF_ACCEPT;
}

/*
 * The word of the IPv6 header that the fast path tests, payload_len,
 * nexthdr and hop_limit: only the next header counts, and it must be UDP or
 * TCP right after the IPv6 header.
 */
static const struct l3dsr_fast_pattern l3dsr_ipv6_pattern = {
	.mask = htonl(0xff << 8),
	.udp = htonl(IPPROTO_UDP << 8),
	.tcp = htonl(IPPROTO_TCP << 8),
};

static __always_inline __be32 l3dsr_ipv6_word(const struct ipv6hdr *ip6h)
{
	__be32 word;

	memcpy(&word, &ip6h->payload_len, sizeof(word));
	return word;
}

static noinline unsigned int l3dsr_ipv6_rewrite_slow(struct l3dsr_table *table,
						     struct sk_buff *skb,
						     struct l3dsr_mapping *m);

/* The common case, as for IPv4: TCP or UDP right after the IPv6 header. */
static __always_inline unsigned int
l3dsr_ipv6_rewrite_fast(struct l3dsr_table *table, struct sk_buff *skb,
			struct l3dsr_mapping *m,
			const struct l3dsr_fast_pattern *pattern,
			bool from_hook)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);

	if (likely(skb->pkt_type == PACKET_HOST &&
		   l3dsr_fast_apply(skb, m, l3dsr_ipv6_word(ip6h), pattern,
				    sizeof(*ip6h), true)))
		return NF_ACCEPT;
	if (from_hook)
		return l3dsr_ipv6_rewrite_slow(table, skb, m);
	return l3dsr_ipv6_rewrite_any(table, skb, m);
}

/* As for IPv4: everything the fast path turned away. */
static noinline unsigned int l3dsr_ipv6_rewrite_slow(struct l3dsr_table *table,
						     struct sk_buff *skb,
						     struct l3dsr_mapping *m)
{
	if (!m->slow_checks || (m->flags & L3DSR_F_CLEAR_DSCP) ||
	    !l3dsr_applies(m, skb, &ipv6_hdr(skb)->daddr,
			   sizeof(struct in6_addr)))
		return l3dsr_ipv6_rewrite_any(table, skb, m);
	return l3dsr_ipv6_rewrite_fast(table, skb, m, &l3dsr_ipv6_pattern,
				       false);
}

static unsigned int l3dsr_ipv6_hook(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	struct l3dsr_table *table = priv;
	/* version, traffic class and flow label: the class is bits 4 to 11 */
	u32 first_bits = ntohs(*(const __be16 *)ipv6_hdr(skb));
	struct l3dsr_mapping *m;

	m = rcu_dereference(table->by_dsfield[(first_bits >> 4) & 0xff]);
	if (likely(!m))
		return NF_ACCEPT;
	return l3dsr_ipv6_rewrite_fast(table, skb, m, &m->fast, true);
}

/*
 * A mapping that must look closer (down, scoped, clearing the DSCP) gets a
 * pattern no packet matches: the fast path then turns it away to the slow
 * one without a test of its own.
 */
void l3dsr_hook_prepare(struct l3dsr_mapping *m)
{
	static const struct l3dsr_fast_pattern none = {
		.mask = 0,
		.udp = htonl(1),
		.tcp = htonl(1),
	};

	if (m->slow_checks)
		m->fast = none;
	else if (m->family == AF_INET)
		m->fast = l3dsr_ipv4_pattern;
	else
		m->fast = l3dsr_ipv6_pattern;
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
	ops->priv = l3dsr_table(ln, family);
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
