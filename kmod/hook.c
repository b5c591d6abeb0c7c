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
 *
 * Each family's hook takes the common case, a TCP segment or UDP datagram
 * in one piece, for this host as the locality cache already knows, for a
 * mapping that applies to every packet, in a few dozen instructions; it
 * hands everything else to the general path, which does every check and
 * counts every packet it leaves alone.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/netfilter_bridge.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/dst_metadata.h>
#include <net/dsfield.h>
#include <net/inet_dscp.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ip6_fib.h>
#include <net/ip6_route.h>
#include <net/ip_fib.h>
#include <net/ipv6.h>
#include <net/l3mdev.h>
#include <net/route.h>

#include "hook.h"

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
	bool udp;			/* a 0 checksum is "none" */
};

#define L3DSR_L4(offset, len, is_udp) \
	((struct l3dsr_l4){ .csum_offset = (offset), .min_len = (len), \
			    .udp = (is_udp) })

static enum l3dsr_l4_kind l3dsr_l4_lookup(u8 protocol, bool ipv6,
					  struct l3dsr_l4 *l4)
{
	switch (protocol) {
	case IPPROTO_TCP:
		*l4 = L3DSR_L4(offsetof(struct tcphdr, check),
			       sizeof(struct tcphdr), false);
		return L3DSR_L4_PSEUDO_HEADER;
	case IPPROTO_UDP:
		*l4 = L3DSR_L4(offsetof(struct udphdr, check),
			       sizeof(struct udphdr), true);
		return L3DSR_L4_PSEUDO_HEADER;
	case IPPROTO_UDPLITE:
		*l4 = L3DSR_L4(offsetof(struct udphdr, check),
			       sizeof(struct udphdr), false);
		return L3DSR_L4_PSEUDO_HEADER;
	case IPPROTO_DCCP:
		/* after the ports, the data offset, CCVal and CsCov */
		*l4 = L3DSR_L4(6, 12, false);
		return L3DSR_L4_PSEUDO_HEADER;
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
			*l4 = L3DSR_L4(offsetof(struct icmp6hdr, icmp6_cksum),
				       sizeof(struct icmp6hdr), false);
			return L3DSR_L4_PSEUDO_HEADER;
		case IPPROTO_MH:	/* proto, length, type, reserved */
			*l4 = L3DSR_L4(4, 6, false);
			return L3DSR_L4_PSEUDO_HEADER;
		case L3DSR_PROTO_OSPF:	/* OSPFv3, RFC 5340 */
			*l4 = L3DSR_L4(12, 16, false);
			return L3DSR_L4_PSEUDO_HEADER;
		case IPPROTO_PIM:	/* RFC 7761 */
			*l4 = L3DSR_L4(2, 4, false);
			return L3DSR_L4_PSEUDO_HEADER;
		case L3DSR_PROTO_VRRP:	/* VRRPv3, RFC 5798 */
			*l4 = L3DSR_L4(6, 8, false);
			return L3DSR_L4_PSEUDO_HEADER;
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
 * The change a new destination makes to a one's complement sum, folded to
 * 16 bits once for the fields that take it (RFC 1624). Folding it for each
 * field, as csum_replace_by_diff() does, is 21 instructions more an IPv4
 * hit and 8 more an IPv6 one (make bench's trace); folding with
 * csum_fold() and undoing its complement, 4 more than csum16_add() of the
 * two halves (the disassembly).
 */
static __always_inline __be16 l3dsr_fold(__wsum diff)
{
	u32 sum = (__force u32)diff;

	return (__force __be16)csum16_add((__force __sum16)(sum >> 16),
					  (__force __be16)(u16)sum);
}

/*
 * The transport checksum at @check follows a change of the pseudo-header's
 * sum by @delta. Under CHECKSUM_PARTIAL the field holds that sum itself,
 * for the device to complete. A UDP datagram sent without a checksum (0)
 * keeps none; any other field stays non-zero, as one's complement addition
 * to a non-zero number never gives 0, so UDP never reads it as "none".
 * Returns whether the field changed.
 */
static __always_inline bool l3dsr_l4_csum_update(u8 ip_summed, __sum16 *check,
						 bool udp, __be16 delta)
{
	if (ip_summed == CHECKSUM_PARTIAL) {
		*check = csum16_add(*check, delta);
		return true;
	}
	if (udp && !*check)
		return false;
	*check = csum16_sub(*check, delta);
	return true;
}

/*
 * Point the packet at @vip, with @check the transport checksum covering the
 * destination if @has_check (a constant in the common case, where a test
 * of @check would cost two instructions). With CHECKSUM_COMPLETE, skb->csum
 * covers the IP header too, but the header's own checksum keeps its sum
 * constant: only the transport field's change shows.
 */
static __always_inline void l3dsr_ipv4_set_daddr(struct sk_buff *skb,
						 __be32 vip, bool has_check,
						 __sum16 *check, bool udp)
{
	struct iphdr *iph = ip_hdr(skb);
	/* read before the stores, which might change it for all gcc knows */
	u8 ip_summed = skb->ip_summed;
	__be16 delta = l3dsr_fold(csum_sub((__force __wsum)vip,
					   (__force __wsum)iph->daddr));

	iph->check = csum16_sub(iph->check, delta);
	if (has_check && l3dsr_l4_csum_update(ip_summed, check, udp, delta) &&
	    ip_summed == CHECKSUM_COMPLETE)
		skb->csum = csum_sub(skb->csum, (__force __wsum)(__force u16)delta);
	iph->daddr = vip;
}

static __always_inline u64 l3dsr_add64(u64 a, u64 b)
{
	u64 sum = a + b;

	return sum + (sum < a);
}

/*
 * The change of the one's complement sum from @from to @to, summed in
 * 64-bit words: the same sum as csum_add() over four 32-bit words took 40
 * instructions in make bench's trace (gcc keeps it a loop), this one 15.
 */
static __always_inline __wsum l3dsr_ipv6_diff(const struct in6_addr *from,
					      const struct in6_addr *to)
{
	u64 sum = l3dsr_add64(get_unaligned((const u64 *)&to->s6_addr[0]),
			      get_unaligned((const u64 *)&to->s6_addr[8]));

	sum = l3dsr_add64(sum, ~get_unaligned((const u64 *)&from->s6_addr[0]));
	sum = l3dsr_add64(sum, ~get_unaligned((const u64 *)&from->s6_addr[8]));
	return csum_add((__force __wsum)(u32)sum,
			(__force __wsum)(u32)(sum >> 32));
}

/*
 * Point the packet at @vip; @has_check and @check as for IPv4. With
 * CHECKSUM_COMPLETE, skb->csum covers the IPv6 header, which has no
 * checksum of its own: when the transport field absorbs the change the two
 * cancel out; when it does not, skb->csum must follow.
 */
static __always_inline void l3dsr_ipv6_set_daddr(struct sk_buff *skb,
						 const struct in6_addr *vip,
						 bool has_check,
						 __sum16 *check, bool udp)
{
	struct ipv6hdr *ip6h = ipv6_hdr(skb);
	u8 ip_summed = skb->ip_summed;
	__be16 delta = l3dsr_fold(l3dsr_ipv6_diff(&ip6h->daddr, vip));

	if (!(has_check &&
	      l3dsr_l4_csum_update(ip_summed, check, udp, delta)) &&
	    ip_summed == CHECKSUM_COMPLETE)
		skb->csum = csum_add(skb->csum, (__force __wsum)(__force u16)delta);
	memcpy(&ip6h->daddr, vip, sizeof(ip6h->daddr));
}

/*
 * Whether the first @len bytes of the packet, its headers, are linear and
 * private, so they can be written in place. In PREROUTING skb->data is
 * the network header.
 */
static __always_inline bool l3dsr_headers_writable(const struct sk_buff *skb,
						   unsigned int len)
{
	return len <= skb_headlen(skb) && !skb_cloned(skb);
}

/*
 * br_netfilter hands the IP hooks the frames a bridge switches, with an skb
 * extension; only the general path tells a bridged frame from the rest.
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
 * Whether a packet is for this host: a mapping rewrites a packet only when
 * the stack would deliver it locally as it stands at the hook. The answer
 * is the stack's own: the route the packet already carries (one looped
 * back from this host), or else the input route lookup the stack makes
 * after PREROUTING, with every key it uses (ingress device, VRF, mark,
 * source, DS field, flow label, the rules, a tunnel's id), made here in
 * advance.
 *
 * The lookup is not handed on: hooks after l3dsr's (a mangle MARK rule,
 * NAT) may change what the stack's own lookup sees, and a rewritten packet
 * must be routed to the VIP, not the RIP. So a marked packet costs one
 * lookup more.
 *
 * Where the answer depends only on the destination and the ingress device,
 * in a namespace without rules of its own (nor, for IPv6, routes that
 * depend on the source), each mapping remembers per CPU the last
 * destination found local and the last found not to be, with the
 * generation of the routes they were found under (hook.h). The generation
 * is read before the rules' presence and before the lookup, so an answer
 * filled while either changed is born stale, as far as the FIB orders its
 * stores (hook.h). Lookups that fail (a martian or a source that
 * reverse-path filtering refuses: the stack drops those whatever their
 * destination) are not remembered.
 */

static void l3dsr_remember(struct l3dsr_mapping *m, bool local,
			   const void *daddr, int ifindex, u32 gen)
{
	struct l3dsr_mapping_pcpu *pcpu = this_cpu_ptr(m->pcpu);
	struct l3dsr_dest_cache *c = local ? &pcpu->local : &pcpu->not_local;

	memcpy(&c->addr, daddr, l3dsr_addr_len(m->family));
	c->ifindex = ifindex;
	c->gen = gen;
}

/*
 * ip_rcv_finish()'s lookup, with its arguments: on the device the packet
 * came in on, which VRF changes only after the lookup for IPv4. It leaves
 * its route on the packet, taken off again. It would also drop a tunnel's
 * metadata, which it reads (rules on tun_id): the packet keeps a reference
 * of its own, put back afterwards, as ip_options_rcv_srr() does. The DS
 * field goes without its ECN bits: 6.1 and 6.12 mask them off themselves,
 * and from 6.13 the argument is a dscp_t, which callers mask.
 */
static int l3dsr_ipv4_route(struct sk_buff *skb, bool *local)
{
	const struct iphdr *iph = ip_hdr(skb);
	unsigned long refdst = skb->_skb_refdst;
	int err;

	if (refdst && !(refdst & SKB_DST_NOREF))
		dst_hold(skb_dst(skb));
	err = ip_route_input_noref(skb, iph->daddr, iph->saddr,
				   iph->tos & INET_DSCP_MASK, skb->dev);
	if (!err)
		*local = skb_rtable(skb)->rt_type == RTN_LOCAL;
	skb_dst_drop(skb);
	skb->_skb_refdst = refdst;
	return err;
}

/* Under RCU, with bottom halves disabled. */
static bool l3dsr_ipv4_dest_is_local(struct l3dsr_mapping *m,
				     struct sk_buff *skb, struct net *net)
{
	struct l3dsr_mapping_pcpu *pcpu = this_cpu_ptr(m->pcpu);
	const __be32 *daddr = &ip_hdr(skb)->daddr;
	int ifindex = skb->dev->ifindex;
	bool local = false, cacheable;
	u32 gen;

	if (skb_valid_dst(skb))
		return skb_rtable(skb)->rt_type == RTN_LOCAL;

	gen = l3dsr_ipv4_routes_gen(net);
	if (l3dsr_dest_cached(&pcpu->local, daddr, AF_INET, ifindex, gen))
		return true;
	if (l3dsr_dest_cached(&pcpu->not_local, daddr, AF_INET, ifindex, gen))
		return false;

	/* @gen before the rules' presence and the routes (hook.h) */
	smp_rmb();
	cacheable = !READ_ONCE(net->ipv4.fib_has_custom_rules);
	if (l3dsr_ipv4_route(skb, &local))
		return false;
	if (cacheable)
		l3dsr_remember(m, local, daddr, ifindex, gen);
	return local;
}

/*
 * The stack delivers to this host on a local or an anycast route (its
 * input is ip6_input(), ip6_rt_init_dst()): a forwarding host holds its
 * prefixes' subnet-router anycast addresses, and an operator may add more.
 */
static bool l3dsr_rt6_delivers(const struct rt6_info *rt)
{
	return !rt->dst.error && (rt->rt6i_flags & (RTF_LOCAL | RTF_ANYCAST));
}

/*
 * ip6_route_input()'s lookup, as it makes it: on the VRF's device for a
 * device enslaved to one, since VRF hands IPv6 packets to its own device
 * before the lookup.
 */
static bool l3dsr_ipv6_route(struct net *net, struct sk_buff *skb)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	struct net_device *dev = l3mdev_master_dev_rcu(skb->dev) ?: skb->dev;
	struct flowi6 fl6 = {
		.flowi6_iif = dev->ifindex,
		.daddr = ip6h->daddr,
		.saddr = ip6h->saddr,
		.flowlabel = ip6_flowinfo(ip6h),
		.flowi6_mark = skb->mark,
		.flowi6_proto = ip6h->nexthdr,
	};
	const struct ip_tunnel_info *tun_info = skb_tunnel_info(skb);
	int flags = RT6_LOOKUP_F_HAS_SADDR | RT6_LOOKUP_F_DST_NOREF;
	struct flow_keys flkeys;
	struct rt6_info *rt;
	bool local;

	if (tun_info && !(tun_info->mode & IP_TUNNEL_INFO_TX))
		fl6.flowi6_tun_key.tun_id = tun_info->key.tun_id;
	/* rules on ports; the multipath hash picks a next hop, not a type */
	fib6_rules_early_flow_dissect(net, skb, &fl6, &flkeys);

	rt = container_of(ip6_route_input_lookup(net, dev, &fl6, skb, flags),
			  struct rt6_info, dst);
	local = l3dsr_rt6_delivers(rt);
	ip6_rt_put_flags(rt, flags);
	return local;
}

/* Under RCU, with bottom halves disabled. */
static bool l3dsr_ipv6_dest_is_local(struct l3dsr_mapping *m,
				     struct sk_buff *skb, struct net *net)
{
	struct l3dsr_mapping_pcpu *pcpu = this_cpu_ptr(m->pcpu);
	const struct in6_addr *daddr = &ipv6_hdr(skb)->daddr;
	int ifindex = skb->dev->ifindex;
	bool local, cacheable;
	u32 gen;

	if (skb_valid_dst(skb))
		return l3dsr_rt6_delivers(container_of(skb_dst(skb),
						       struct rt6_info, dst));

	gen = l3dsr_ipv6_routes_gen(net);
	if (l3dsr_dest_cached(&pcpu->local, daddr, AF_INET6, ifindex, gen))
		return true;
	if (l3dsr_dest_cached(&pcpu->not_local, daddr, AF_INET6, ifindex,
			      gen))
		return false;

	/* as for IPv4 */
	smp_rmb();
	cacheable = !fib6_has_custom_rules(net) &&
		    !fib6_routes_require_src(net);
	local = l3dsr_ipv6_route(net, skb);
	if (cacheable)
		l3dsr_remember(m, local, daddr, ifindex, gen);
	return local;
}

/*
 * What the common case asks of a mapping and a packet before their headers:
 * the mapping applies to every packet; the packet is for this host at the
 * link layer, carries no route yet (the stack's lookup is still to come),
 * is not a bridge's; and the hook runs in softirq, so that per-CPU state is
 * this CPU's alone (NFQUEUE reinjects packets from process context).
 */
static __always_inline bool l3dsr_plain(const struct l3dsr_mapping *m,
					const struct sk_buff *skb)
{
	return m->plain && skb->pkt_type == PACKET_HOST && !skb_dst(skb) &&
	       !l3dsr_has_extensions(skb) && softirq_count();
}

/* Whether a later hook of this family sees the same packet. */
static bool l3dsr_second_pass(const struct sk_buff *skb)
{
	/* VRF runs PREROUTING again on its own device */
	return netif_is_l3_master(skb->dev);
}

static bool l3dsr_bridged_elsewhere(const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_BRIDGE_NETFILTER)
	const struct nf_bridge_info *nf_bridge = nf_bridge_info_get(skb);

	/* br_netfilter made PACKET_HOST of a frame for another host */
	return nf_bridge && nf_bridge->pkt_otherhost;
#else
	return false;
#endif
}

/*
 * The reasons, shared by both families, that a packet is left alone before
 * its headers are looked at, in the order the uapi header gives; 0 if none.
 */
static enum l3dsr_stat l3dsr_mapping_skips(const struct l3dsr_mapping *m,
					   const struct sk_buff *skb,
					   const void *daddr)
{
	if (m->flags & L3DSR_F_DOWN)
		return L3DSR_STAT_SKIPPED_DOWN;
	if ((m->match & L3DSR_MATCH_DEV) && skb->dev->ifindex != m->ifindex)
		return L3DSR_STAT_SKIPPED_SCOPE;
	if ((m->match & L3DSR_MATCH_RIP) &&
	    memcmp(daddr, &m->rip, l3dsr_addr_len(m->family)))
		return L3DSR_STAT_SKIPPED_SCOPE;
	if (skb->pkt_type != PACKET_HOST)
		return L3DSR_STAT_SKIPPED_NOT_HOST;
	if (l3dsr_bridged_elsewhere(skb))
		return L3DSR_STAT_SKIPPED_BRIDGED;
	return 0;
}

/* Where a packet's transport bytes are, for l3dsr_find_check(). */
struct l3dsr_l4_place {
	u8 protocol;
	/* where they start in this packet */
	unsigned int thoff;
	/* where this packet's start in the datagram's: 0 but in later fragments */
	unsigned int frag_offset;
	/* the datagram is in fragments: the header need not be whole here */
	bool fragment;
};

/*
 * Find the transport checksum that covers the destination, if this packet
 * carries it, and make the headers up to it writable (the @nhlen bytes of
 * the network header alone when there is none). Every fragment of a
 * datagram is rewritten alike, and its transport checksum adjusted in the
 * fragment that carries it. Returns 0 with *check set, or NULL; or the
 * reason the packet is left alone; or L3DSR_STAT_DROPPED_UNWRITABLE.
 */
static enum l3dsr_stat l3dsr_find_check(struct sk_buff *skb, bool ipv6,
					unsigned int nhlen,
					const struct l3dsr_l4_place *place,
					__sum16 **check, bool *udp)
{
	unsigned int end = nhlen, field = 0;
	struct l3dsr_l4 l4 = {};

	switch (l3dsr_l4_lookup(place->protocol, ipv6, &l4)) {
	case L3DSR_L4_UNSAFE:
		return L3DSR_STAT_SKIPPED_PROTOCOL;
	case L3DSR_L4_INDEPENDENT:
		break;
	case L3DSR_L4_PSEUDO_HEADER:
		if (!place->fragment) {
			if (skb->len < place->thoff + l4.min_len)
				return L3DSR_STAT_SKIPPED_MALFORMED;
			field = place->thoff + l4.csum_offset;
		} else if (place->frag_offset <= l4.csum_offset &&
			   place->thoff + l4.csum_offset - place->frag_offset +
			   sizeof(__sum16) <= skb->len) {
			field = place->thoff + l4.csum_offset -
				place->frag_offset;
		}
		if (field)
			end = field + sizeof(__sum16);
		break;
	}

	if (!l3dsr_headers_writable(skb, end) && skb_ensure_writable(skb, end))
		return L3DSR_STAT_DROPPED_UNWRITABLE;
	*check = field ? (__sum16 *)(skb->data + field) : NULL;
	*udp = l4.udp;
	return 0;
}

/*
 * Whether an IPv4 source route (LSRR, SSRR) still has hops to visit: the
 * destination is then a waypoint, as with an IPv6 Routing header with
 * segments left, and the stack forwards the packet to the next one.
 * Returns the reason to leave the packet alone, or 0.
 */
static enum l3dsr_stat l3dsr_ipv4_source_routed(const struct iphdr *iph)
{
	const u8 *opt = (const u8 *)(iph + 1);
	const u8 *end = (const u8 *)iph + iph->ihl * 4;

	while (opt < end) {
		if (opt[0] == IPOPT_END)
			break;
		if (opt[0] == IPOPT_NOOP) {
			opt++;
			continue;
		}
		/* ip_rcv_options() drops what does not parse */
		if (end - opt < 2 || opt[1] < 2 || opt[1] > end - opt)
			return L3DSR_STAT_SKIPPED_MALFORMED;
		/* the pointer is past the length once the route is done */
		if ((opt[0] == IPOPT_LSRR || opt[0] == IPOPT_SSRR) &&
		    opt[1] >= 3 && opt[2] <= opt[1])
			return L3DSR_STAT_SKIPPED_ROUTING_HEADER;
		opt += opt[1];
	}
	return 0;
}

/* Judge and rewrite every shape of IPv4 packet; returns what to count. */
static enum l3dsr_stat l3dsr_ipv4_rewrite_general(struct l3dsr_mapping *m,
						  struct sk_buff *skb,
						  struct net *net)
{
	const struct iphdr *iph = ip_hdr(skb);
	struct l3dsr_l4_place place = {
		.protocol = iph->protocol,
		.thoff = ip_hdrlen(skb),
		.frag_offset = (ntohs(iph->frag_off) & IP_OFFSET) << 3,
		.fragment = ip_is_fragment(iph),
	};
	enum l3dsr_stat skip;
	__sum16 *check;
	bool udp;

	skip = l3dsr_mapping_skips(m, skb, &iph->daddr);
	if (skip)
		return skip;
	if (!(m->flags & L3DSR_F_NONLOCAL) &&
	    !l3dsr_ipv4_dest_is_local(m, skb, net))
		return L3DSR_STAT_SKIPPED_NOT_LOCAL;
	if (iph->ihl > 5) {
		skip = l3dsr_ipv4_source_routed(iph);
		if (skip)
			return skip;
	}

	skip = l3dsr_find_check(skb, false, place.thoff, &place, &check, &udp);
	if (skip)
		return skip;

	l3dsr_ipv4_set_daddr(skb, m->vip.ip, check, check, udp);
	if (m->flags & L3DSR_F_CLEAR_DSCP)
		ipv4_change_dsfield(ip_hdr(skb), INET_ECN_MASK, 0);
	return place.frag_offset ? L3DSR_STAT_REWRITTEN_FRAGMENTS :
				   L3DSR_STAT_REWRITTEN;
}

/*
 * Where the transport bytes of an IPv6 packet start, past the extension
 * headers. Returns 0, or the reason the packet is left alone.
 *
 * Every fragment of a datagram must be judged alike, and a later fragment
 * holds only what precedes its Fragment header and that header's next
 * header: the protocol of a fragmented datagram is that next header. When
 * it is an extension header (Destination Options, AH, ...) no later
 * fragment can tell what follows, so the whole datagram is left alone.
 * AH ends the walk of a packet in one piece: it is a transport protocol to
 * l3dsr, one that authenticates the destination.
 */
static enum l3dsr_stat l3dsr_ipv6_find_l4(const struct sk_buff *skb,
					  struct l3dsr_l4_place *place)
{
	unsigned int off = sizeof(struct ipv6hdr);
	u8 next = ipv6_hdr(skb)->nexthdr;

	for (;;) {
		const struct frag_hdr *fh;
		struct frag_hdr fbuf;
		u8 buf[4];
		const u8 *hp;

		switch (next) {
		case NEXTHDR_HOP:
		case NEXTHDR_DEST:
		case NEXTHDR_ROUTING:
		case NEXTHDR_FRAGMENT:
			break;
		default:
			place->protocol = next;
			place->thoff = off;
			return 0;
		}

		if (next == NEXTHDR_FRAGMENT) {
			fh = skb_header_pointer(skb, off, sizeof(fbuf), &fbuf);
			if (!fh)
				return L3DSR_STAT_SKIPPED_MALFORMED;
			off += sizeof(*fh);
			next = fh->nexthdr;
			/* an atomic fragment (offset 0, no more) is whole */
			if (!(fh->frag_off & htons(IP6_OFFSET | IP6_MF)))
				continue;
			if (ipv6_ext_hdr(next))
				return L3DSR_STAT_SKIPPED_PROTOCOL;
			place->protocol = next;
			place->thoff = off;
			place->frag_offset = ntohs(fh->frag_off) & IP6_OFFSET;
			place->fragment = true;
			return 0;
		}

		hp = skb_header_pointer(skb, off, sizeof(buf), buf);
		if (!hp)
			return L3DSR_STAT_SKIPPED_MALFORMED;
		/*
		 * Segments left: the destination is a waypoint, and rewriting
		 * it would hijack a routed packet.
		 */
		if (next == NEXTHDR_ROUTING && hp[3])
			return L3DSR_STAT_SKIPPED_ROUTING_HEADER;
		next = hp[0];
		off += ipv6_optlen((const struct ipv6_opt_hdr *)hp);
		/* a header that runs past the packet is the stack's to drop */
		if (off > skb->len)
			return L3DSR_STAT_SKIPPED_MALFORMED;
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
	__be32 before = *first_word;

	ipv6_change_dsfield(ip6h, INET_ECN_MASK, 0);
	if (skb->ip_summed == CHECKSUM_COMPLETE)
		skb->csum = csum_add(csum_sub(skb->csum,
					      (__force __wsum)before),
				     (__force __wsum)*first_word);
}

/* Judge and rewrite every shape of IPv6 packet; returns what to count. */
static enum l3dsr_stat l3dsr_ipv6_rewrite_general(struct l3dsr_mapping *m,
						  struct sk_buff *skb,
						  struct net *net)
{
	struct l3dsr_l4_place place = {};
	enum l3dsr_stat skip;
	__sum16 *check;
	bool udp;

	skip = l3dsr_mapping_skips(m, skb, &ipv6_hdr(skb)->daddr);
	if (skip)
		return skip;
	if (!(m->flags & L3DSR_F_NONLOCAL) &&
	    !l3dsr_ipv6_dest_is_local(m, skb, net))
		return L3DSR_STAT_SKIPPED_NOT_LOCAL;

	skip = l3dsr_ipv6_find_l4(skb, &place);
	if (skip)
		return skip;
	skip = l3dsr_find_check(skb, true, sizeof(struct ipv6hdr), &place,
				&check, &udp);
	if (skip)
		return skip;

	l3dsr_ipv6_set_daddr(skb, &m->vip.in6, check, check, udp);
	if (m->flags & L3DSR_F_CLEAR_DSCP)
		l3dsr_ipv6_clear_dscp(skb);
	return place.frag_offset ? L3DSR_STAT_REWRITTEN_FRAGMENTS :
				   L3DSR_STAT_REWRITTEN;
}

/*
 * The general path of both families: everything the common case turned
 * away, each packet judged and counted once.
 */
static noinline unsigned int l3dsr_rewrite_general(struct l3dsr_table *table,
						   struct l3dsr_mapping *m,
						   struct sk_buff *skb,
						   struct net *net)
{
	struct l3dsr_net *ln = table->ln;
	enum l3dsr_stat stat;

	if (l3dsr_second_pass(skb))
		return NF_ACCEPT;

	local_bh_disable();
	if (m->family == AF_INET)
		stat = l3dsr_ipv4_rewrite_general(m, skb, net);
	else
		stat = l3dsr_ipv6_rewrite_general(m, skb, net);

	if (stat == L3DSR_STAT_REWRITTEN_FRAGMENTS) {
		l3dsr_count(ln->stats, stat);
		stat = L3DSR_STAT_REWRITTEN;
	}
	if (stat == L3DSR_STAT_REWRITTEN)
		l3dsr_count_rewrite(ln->stats, this_cpu_ptr(m->pcpu), skb->len);
	else
		l3dsr_count(ln->stats, stat);
	local_bh_enable();

	/*
	 * The server would answer from its RIP, and the client could not
	 * match the reply.
	 */
	return stat == L3DSR_STAT_DROPPED_UNWRITABLE ? NF_DROP : NF_ACCEPT;
}

/*
 * A miss, the fate of all unmarked traffic, costs a load and a test. The
 * common case: a TCP segment or UDP datagram in one piece after an IPv4
 * header without options, its headers private and linear, to a
 * destination this CPU has found local since the routes last changed.
 */
static unsigned int l3dsr_ipv4_hook(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	struct l3dsr_table *table = priv;
	struct l3dsr_mapping_pcpu *pcpu;
	struct l3dsr_mapping *m;
	struct iphdr *iph;
	void *l4;

	m = rcu_dereference(table->by_dsfield[ip_hdr(skb)->tos]);
	if (likely(!m))
		return NF_ACCEPT;

	iph = ip_hdr(skb);
	/* ip_rcv() checked the version: one compare says "no options" */
	if (unlikely(!l3dsr_plain(m, skb) || *(u8 *)iph != 0x45 ||
		     ip_is_fragment(iph)))
		goto general;
	pcpu = this_cpu_ptr(m->pcpu);
	if (unlikely(!l3dsr_dest_cached(&pcpu->local, &iph->daddr, AF_INET,
					skb->dev->ifindex,
					l3dsr_ipv4_routes_gen(state->net))))
		goto general;

	l4 = iph + 1;
	switch (iph->protocol) {
	case IPPROTO_TCP:
		if (!l3dsr_headers_writable(skb, sizeof(*iph) +
					    sizeof(struct tcphdr)))
			goto general;
		l3dsr_ipv4_set_daddr(skb, m->vip.ip, true,
				     &((struct tcphdr *)l4)->check, false);
		break;
	case IPPROTO_UDP:
		if (!l3dsr_headers_writable(skb, sizeof(*iph) +
					    sizeof(struct udphdr)))
			goto general;
		l3dsr_ipv4_set_daddr(skb, m->vip.ip, true,
				     &((struct udphdr *)l4)->check, true);
		break;
	default:
		goto general;
	}
	l3dsr_count_rewrite(table->stats, pcpu, skb->len);
	return NF_ACCEPT;

general:
	return l3dsr_rewrite_general(table, m, skb, state->net);
}

/* As for IPv4: TCP or UDP right after the IPv6 header. */
static unsigned int l3dsr_ipv6_hook(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	struct l3dsr_table *table = priv;
	struct l3dsr_mapping_pcpu *pcpu;
	struct l3dsr_mapping *m;
	struct ipv6hdr *ip6h;
	void *l4;

	m = rcu_dereference(table->by_dsfield[ipv6_get_dsfield(ipv6_hdr(skb))]);
	if (likely(!m))
		return NF_ACCEPT;

	ip6h = ipv6_hdr(skb);
	if (unlikely(!l3dsr_plain(m, skb)))
		goto general;
	pcpu = this_cpu_ptr(m->pcpu);
	if (unlikely(!l3dsr_dest_cached(&pcpu->local, &ip6h->daddr, AF_INET6,
					skb->dev->ifindex,
					l3dsr_ipv6_routes_gen(state->net))))
		goto general;

	l4 = ip6h + 1;
	switch (ip6h->nexthdr) {
	case IPPROTO_TCP:
		if (!l3dsr_headers_writable(skb, sizeof(*ip6h) +
					    sizeof(struct tcphdr)))
			goto general;
		l3dsr_ipv6_set_daddr(skb, &m->vip.in6, true,
				     &((struct tcphdr *)l4)->check, false);
		break;
	case IPPROTO_UDP:
		if (!l3dsr_headers_writable(skb, sizeof(*ip6h) +
					    sizeof(struct udphdr)))
			goto general;
		l3dsr_ipv6_set_daddr(skb, &m->vip.in6, true,
				     &((struct udphdr *)l4)->check, true);
		break;
	default:
		goto general;
	}
	l3dsr_count_rewrite(table->stats, pcpu, skb->len);
	return NF_ACCEPT;

general:
	return l3dsr_rewrite_general(table, m, skb, state->net);
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
