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
#include <linux/netdevice.h>
#include <linux/netfilter_bridge.h>
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

#include "compat.h"
#include "l3dsr.h"

#define L3DSR_HOOK_PRIORITY	(NF_IP_PRI_RAW - 10)

/* Protocols the kernel's headers do not name. */
#define L3DSR_PROTO_OSPF	89
#define L3DSR_PROTO_VRRP	112

/* What the destination means to a transport protocol (uapi/l3dsr.h). */
enum l3dsr_l4_kind {
	/* its checksum covers a pseudo-header: adjusted */
	L3DSR_L4_PSEUDO_HEADER,
	/* nothing in it depends on the destination */
	L3DSR_L4_INDEPENDENT,
	/* authenticated, ambiguous or unknown: the packet is left alone */
	L3DSR_L4_UNSAFE,
};

/* Where a transport header keeps the checksum the destination takes part in. */
struct l3dsr_l4 {
	unsigned int csum_offset;	/* from the transport header */
	unsigned int min_len;		/* bytes the header needs to be valid */
	bool zero_means_none;		/* UDP: a 0 checksum is "none" */
};

static enum l3dsr_l4_kind l3dsr_l4_pseudo(struct l3dsr_l4 *l4,
					  unsigned int csum_offset,
					  unsigned int min_len,
					  bool zero_means_none)
{
	l4->csum_offset = csum_offset;
	l4->min_len = min_len;
	l4->zero_means_none = zero_means_none;
	return L3DSR_L4_PSEUDO_HEADER;
}

static enum l3dsr_l4_kind l3dsr_l4_lookup(u8 protocol, bool ipv6,
					  struct l3dsr_l4 *l4)
{
	switch (protocol) {
	case IPPROTO_TCP:
		return l3dsr_l4_pseudo(l4, offsetof(struct tcphdr, check),
				       sizeof(struct tcphdr), false);
	case IPPROTO_UDP:
		return l3dsr_l4_pseudo(l4, offsetof(struct udphdr, check),
				       sizeof(struct udphdr), true);
	case IPPROTO_UDPLITE:
		return l3dsr_l4_pseudo(l4, offsetof(struct udphdr, check),
				       sizeof(struct udphdr), false);
	case IPPROTO_DCCP:
		/* after the ports, the data offset, CCVal and CsCov */
		return l3dsr_l4_pseudo(l4, 6, 12, false);
	case IPPROTO_GRE:
	case IPPROTO_ESP:
	case IPPROTO_SCTP:	/* CRC32c over the SCTP packet alone */
	case IPPROTO_IPIP:
	case IPPROTO_IPV6:
		return L3DSR_L4_INDEPENDENT;
	case IPPROTO_AH:	/* authenticates the destination */
		return L3DSR_L4_UNSAFE;
	}

	if (ipv6) {
		switch (protocol) {
		case IPPROTO_ICMPV6:
			return l3dsr_l4_pseudo(l4,
					       offsetof(struct icmp6hdr,
							icmp6_cksum),
					       sizeof(struct icmp6hdr), false);
		case IPPROTO_MH:	/* proto, length, type, reserved */
			return l3dsr_l4_pseudo(l4, 4, 6, false);
		case L3DSR_PROTO_OSPF:	/* OSPFv3, RFC 5340 */
			return l3dsr_l4_pseudo(l4, 12, 16, false);
		case IPPROTO_PIM:	/* RFC 7761 */
			return l3dsr_l4_pseudo(l4, 2, 4, false);
		case L3DSR_PROTO_VRRP:	/* VRRPv3, RFC 5798 */
			return l3dsr_l4_pseudo(l4, 6, 8, false);
		case NEXTHDR_NONE:
			return L3DSR_L4_INDEPENDENT;
		}
		return L3DSR_L4_UNSAFE;
	}

	switch (protocol) {
	case IPPROTO_ICMP:
	case IPPROTO_IGMP:
	case L3DSR_PROTO_OSPF:	/* OSPFv2 sums the packet alone */
	case IPPROTO_PIM:	/* for IPv4, without a pseudo-header */
		return L3DSR_L4_INDEPENDENT;
	}
	/* and VRRP: version 2 has no pseudo-header, version 3 has one */
	return L3DSR_L4_UNSAFE;
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
 * VRF hands a packet to its own device and runs PREROUTING again: the
 * packet was judged, and rewritten, on the device it came in on.
 */
static bool l3dsr_second_pass(const struct sk_buff *skb)
{
	return netif_is_l3_master(skb->dev);
}

/*
 * br_netfilter hands the IP hooks the frames a bridge switches, after
 * turning those for another host at the link layer into PACKET_HOST.
 */
static bool l3dsr_bridged_elsewhere(const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_BRIDGE_NETFILTER)
	const struct nf_bridge_info *nf_bridge = nf_bridge_info_get(skb);

	return nf_bridge && nf_bridge->pkt_otherhost;
#else
	return false;
#endif
}

/*
 * Checks shared by both families before anything is written. Returns the
 * stat to count if the packet is to be left alone, or __L3DSR_STAT_LAST.
 */
static enum l3dsr_stat l3dsr_precheck(struct l3dsr_table *table,
				      struct l3dsr_mapping *m,
				      struct sk_buff *skb, const void *daddr)
{
	if (unlikely(m->flags & L3DSR_F_DOWN))
		return L3DSR_STAT_SKIPPED_DOWN;
	if (!l3dsr_scope_matches(m, skb, daddr, l3dsr_addr_len(m->family)))
		return L3DSR_STAT_SKIPPED_SCOPE;
	if (skb->pkt_type != PACKET_HOST)
		return L3DSR_STAT_SKIPPED_NOT_HOST;
	if (l3dsr_bridged_elsewhere(skb))
		return L3DSR_STAT_SKIPPED_BRIDGED;
	if (!(m->flags & L3DSR_F_NONLOCAL) &&
	    !l3dsr_dest_is_local(table, m, skb, daddr))
		return L3DSR_STAT_SKIPPED_NOT_LOCAL;
	return __L3DSR_STAT_LAST;
}

/*
 * The part both families share once the network headers are read: find the
 * transport checksum that covers the destination and make the headers up to
 * it writable (only the IP header, @iphlen bytes, when there is none).
 *
 * Every fragment of a datagram is rewritten alike, and the transport
 * checksum is adjusted in the fragment that carries it: @frag_offset is
 * where this packet's transport bytes start in the datagram's (0 unless a
 * later fragment), or -1 when a later IPv6 fragment cannot tell, its
 * fragmentable part starting with an extension header (the first fragment
 * then holds the whole transport header, RFC 8200). @fragment says the
 * datagram is in fragments: the header need not be whole in this one.
 *
 * Returns __L3DSR_STAT_LAST to go on, with *check NULL when there is no
 * checksum to adjust here; L3DSR_STAT_DROPPED_UNWRITABLE when the packet is
 * to be dropped; or the stat to count for a packet left alone.
 */
static __always_inline enum l3dsr_stat
l3dsr_find_check(struct sk_buff *skb, u8 protocol, bool ipv6,
		 unsigned int iphlen, unsigned int thoff, int frag_offset,
		 bool fragment, __sum16 **check, bool *zero_means_none)
{
	unsigned int write_len = iphlen, field = 0;
	struct l3dsr_l4 l4;

	*check = NULL;
	*zero_means_none = false;
	if (frag_offset < 0)
		goto writable;

	switch (l3dsr_l4_lookup(protocol, ipv6, &l4)) {
	case L3DSR_L4_UNSAFE:
		return L3DSR_STAT_SKIPPED_PROTOCOL;
	case L3DSR_L4_INDEPENDENT:
		break;
	case L3DSR_L4_PSEUDO_HEADER:
		if (!fragment) {
			if (skb->len < thoff + l4.min_len)
				return L3DSR_STAT_SKIPPED_MALFORMED;
			field = thoff + l4.csum_offset;
		} else if ((unsigned int)frag_offset <= l4.csum_offset &&
			   thoff + l4.csum_offset - frag_offset +
			   sizeof(__sum16) <= skb->len) {
			field = thoff + l4.csum_offset - frag_offset;
		}
		if (field)
			write_len = field + sizeof(__sum16);
		break;
	}

writable:
	if (unlikely(!l3dsr_make_writable(skb, write_len)))
		return L3DSR_STAT_DROPPED_UNWRITABLE;

	if (field) {
		*check = (__sum16 *)(skb->data + field);
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
	 * change them. The fast path has looked at this CPU's part of the
	 * mapping already: read here, the pointer is not loaded again.
	 */
	bool partial = skb->ip_summed == CHECKSUM_PARTIAL;
	bool complete = skb->ip_summed == CHECKSUM_COMPLETE;
	struct l3dsr_mapping_pcpu *pcpu = this_cpu_ptr(m->pcpu);
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

	l3dsr_count_mapping(pcpu, skb->len);
}

static __always_inline u64 l3dsr_add64(u64 a, u64 b)
{
	u64 sum = a + b;

	/* this form, unlike check_add_overflow(), becomes add and adc */
	return sum + (sum < a);
}

/*
 * An address summed as two 64-bit words, as good as any other width in
 * one's complement; an address is only 32-bit aligned.
 */
static __always_inline u64 l3dsr_in6_sum(const struct in6_addr *addr)
{
	return l3dsr_add64(get_unaligned((const u64 *)&addr->s6_addr[0]),
			   get_unaligned((const u64 *)&addr->s6_addr[8]));
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
	/* read before the stores, as for IPv4 */
	struct l3dsr_mapping_pcpu *pcpu = this_cpu_ptr(m->pcpu);
	u16 delta;

	delta = l3dsr_ipv6_delta(&ip6h->daddr, &m->vip.in6);
	if (!(has_check &&
	      l3dsr_l4_adjust(partial, check, zero_means_none, delta)) &&
	    complete)
		skb->csum = csum_add(skb->csum, (__force __wsum)(u32)delta);
	/* a struct assignment here costs a stack frame, memcpy() does not */
	memcpy(&ip6h->daddr, &m->vip.in6, sizeof(ip6h->daddr));

	l3dsr_count_mapping(pcpu, skb->len);
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

/*
 * The fast path leaves every packet with an skb extension to the general
 * one: br_netfilter tags the frames it hands to the IP hooks with one, and
 * only the general path tells a bridged frame from the rest.
 */
static __always_inline bool l3dsr_has_extensions(const struct sk_buff *skb)
{
#ifdef CONFIG_SKB_EXTENSIONS
	return skb->active_extensions;
#else
	return false;
#endif
}

/*
 * Whether this CPU has found @daddr to be this host's, on the device the
 * packet came in on, since the routes last changed (local.c).
 */
static __always_inline bool
l3dsr_known_local(const struct l3dsr_table *table,
		  const struct l3dsr_mapping *m, const struct sk_buff *skb,
		  const struct net *net, const void *daddr, u8 family)
{
	return l3dsr_dest_cached(&this_cpu_ptr(m->pcpu)->local, daddr, family,
				 skb->dev->ifindex,
				 l3dsr_routes_gen(table, net, family));
}

/* Every shape of IPv4 packet, and every kind of mapping. */
static noinline unsigned int l3dsr_ipv4_rewrite_any(struct l3dsr_table *table,
						    struct sk_buff *skb,
						    struct l3dsr_mapping *m)
{
	struct l3dsr_net *ln = table->ln;
	const struct iphdr *iph = ip_hdr(skb);
	unsigned int thoff = ip_hdrlen(skb);
	int frag_offset = (ntohs(iph->frag_off) & IP_OFFSET) << 3;
	bool fragment = iph->frag_off & htons(IP_MF | IP_OFFSET);
	bool zero_means_none;
	enum l3dsr_stat skip;
	__sum16 *check;

	if (l3dsr_second_pass(skb))
		return NF_ACCEPT;
	skip = l3dsr_precheck(table, m, skb, &iph->daddr);
	if (skip != __L3DSR_STAT_LAST)
		goto skipped;

	skip = l3dsr_find_check(skb, iph->protocol, false, thoff, thoff,
				frag_offset, fragment, &check,
				&zero_means_none);
	if (skip == L3DSR_STAT_DROPPED_UNWRITABLE) {
		l3dsr_count(ln, skip);
		return NF_DROP;
	}
	if (skip != __L3DSR_STAT_LAST)
		goto skipped;

	l3dsr_ipv4_apply(m, skb, check, check, zero_means_none);
	if (unlikely(m->flags & L3DSR_F_CLEAR_DSCP))
		ipv4_change_dsfield(ip_hdr(skb), INET_ECN_MASK, 0);
	if (frag_offset)
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

/* Four bytes of the header from frag_off on, wider than the field. */
static __always_inline __be32 l3dsr_ipv4_word(const struct iphdr *iph)
{
	return get_unaligned((const __be32 *)((const u8 *)iph +
					      offsetof(struct iphdr,
						       frag_off)));
}

static noinline unsigned int l3dsr_ipv4_rewrite_slow(struct l3dsr_table *table,
						     struct sk_buff *skb,
						     struct l3dsr_mapping *m);

/*
 * The common case in as few instructions as it takes: a mapping that
 * applies, a packet addressed to this host at the link layer, not bridged,
 * to a destination this CPU has already found local, an unfragmented TCP
 * segment or UDP datagram after an IPv4 header without options, with its
 * headers private and linear. Anything else, including anything to be
 * skipped and counted, takes the slow path, or the general one if that is
 * where it came from (@from_hook false).
 */
static __always_inline unsigned int
l3dsr_ipv4_rewrite_fast(struct l3dsr_table *table, struct sk_buff *skb,
			struct l3dsr_mapping *m,
			const struct l3dsr_fast_pattern *pattern,
			const struct net *net, bool from_hook)
{
	const struct iphdr *iph = ip_hdr(skb);

	if (likely(skb->pkt_type == PACKET_HOST &&
		   *(u8 *)iph == L3DSR_IPV4_NO_OPTIONS &&
		   !l3dsr_has_extensions(skb) &&
		   l3dsr_known_local(table, m, skb, net, &iph->daddr,
				     AF_INET) &&
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
				       table->ln->net, false);
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
	return l3dsr_ipv4_rewrite_fast(table, skb, m, &m->fast, state->net,
				       true);
}

/*
 * Where the transport header of an IPv6 packet starts, past the extension
 * headers. Returns false if the packet must be left alone, with *skip saying
 * why. For l3dsr_find_check(): *fragment when the datagram is in fragments,
 * and *frag_offset, where this packet's transport bytes start in the
 * datagram, or -1 when a later fragment cannot tell. AH ends the walk: it
 * is a transport protocol to l3dsr, one that authenticates the destination.
 */
static bool l3dsr_ipv6_find_l4(const struct sk_buff *skb, u8 *nexthdr,
			       unsigned int *thoff, int *frag_offset,
			       bool *fragment, enum l3dsr_stat *skip)
{
	unsigned int off = sizeof(struct ipv6hdr);
	u8 next = ipv6_hdr(skb)->nexthdr;

	*frag_offset = 0;
	*fragment = false;
	for (;;) {
		u8 buf[4];
		const u8 *hp;

		switch (next) {
		case NEXTHDR_HOP:
		case NEXTHDR_DEST:
		case NEXTHDR_ROUTING:
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
			/* an atomic fragment (offset 0, no more) is whole */
			*fragment = fh->frag_off & htons(IP6_OFFSET | IP6_MF);
			off += sizeof(*fh);
			if (!(fh->frag_off & htons(IP6_OFFSET)))
				break;
			*frag_offset = ntohs(fh->frag_off) & IP6_OFFSET;
			*nexthdr = fh->nexthdr;
			*thoff = off;
			if (ipv6_ext_hdr(fh->nexthdr) &&
			    fh->nexthdr != NEXTHDR_AUTH)
				*frag_offset = -1;
			return true;
		}
		default:
			off += ipv6_optlen((const struct ipv6_opt_hdr *)hp);
			break;
		}
		/* a header that runs past the packet is the stack's to drop */
		if (off > skb->len) {
			*skip = L3DSR_STAT_SKIPPED_MALFORMED;
			return false;
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
	struct l3dsr_net *ln = table->ln;
	bool fragment, zero_means_none;
	enum l3dsr_stat skip;
	unsigned int thoff;
	int frag_offset;
	__sum16 *check;
	u8 nexthdr;

	if (l3dsr_second_pass(skb))
		return NF_ACCEPT;
	skip = l3dsr_precheck(table, m, skb, &ipv6_hdr(skb)->daddr);
	if (skip != __L3DSR_STAT_LAST)
		goto skipped;

	if (!l3dsr_ipv6_find_l4(skb, &nexthdr, &thoff, &frag_offset,
				&fragment, &skip))
		goto skipped;

	skip = l3dsr_find_check(skb, nexthdr, true, sizeof(struct ipv6hdr),
				thoff, frag_offset, fragment, &check,
				&zero_means_none);
	if (skip == L3DSR_STAT_DROPPED_UNWRITABLE) {
		l3dsr_count(ln, skip);
		return NF_DROP;
	}
	if (skip != __L3DSR_STAT_LAST)
		goto skipped;

	l3dsr_ipv6_apply(m, skb, check, check, zero_means_none);
	if (unlikely(m->flags & L3DSR_F_CLEAR_DSCP))
		l3dsr_ipv6_clear_dscp(skb);
	if (frag_offset)
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

/* Four bytes of the header from payload_len on, wider than the field. */
static __always_inline __be32 l3dsr_ipv6_word(const struct ipv6hdr *ip6h)
{
	return get_unaligned((const __be32 *)((const u8 *)ip6h +
					      offsetof(struct ipv6hdr,
						       payload_len)));
}

static noinline unsigned int l3dsr_ipv6_rewrite_slow(struct l3dsr_table *table,
						     struct sk_buff *skb,
						     struct l3dsr_mapping *m);

/* The common case, as for IPv4: TCP or UDP right after the IPv6 header. */
static __always_inline unsigned int
l3dsr_ipv6_rewrite_fast(struct l3dsr_table *table, struct sk_buff *skb,
			struct l3dsr_mapping *m,
			const struct l3dsr_fast_pattern *pattern,
			const struct net *net, bool from_hook)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);

	if (likely(skb->pkt_type == PACKET_HOST &&
		   !l3dsr_has_extensions(skb) &&
		   l3dsr_known_local(table, m, skb, net, &ip6h->daddr,
				     AF_INET6) &&
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
				       table->ln->net, false);
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
	return l3dsr_ipv6_rewrite_fast(table, skb, m, &m->fast, state->net,
				       true);
}

/*
 * A mapping that must look closer (down, scoped, clearing the DSCP,
 * nonlocal) gets a
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

/*
 * A namespace pays for the hook only while it has a mapping of that family:
 * the hook is attached with the first mapping, handed the family's table,
 * and detached with the last.
 */
int l3dsr_hook_attach(struct l3dsr_net *ln, struct l3dsr_table *table,
		      u8 family)
{
	struct nf_hook_ops *ops = &table->ops;

	ops->hook = family == AF_INET ? l3dsr_ipv4_hook : l3dsr_ipv6_hook;
	ops->pf = family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;
	ops->hooknum = NF_INET_PRE_ROUTING;
	ops->priority = L3DSR_HOOK_PRIORITY;
	ops->priv = table;
	return nf_register_net_hook(ln->net, ops);
}

void l3dsr_hook_detach(struct l3dsr_net *ln, struct l3dsr_table *table)
{
	nf_unregister_net_hook(ln->net, &table->ops);
}
