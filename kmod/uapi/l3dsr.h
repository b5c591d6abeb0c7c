/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * l3dsr: layer-3 Direct Server Return, the server side.
 *
 * A load balancer marks each request with a DSCP value that stands for one
 * virtual address (VIP) and sends it to the real server's own address (RIP).
 * On the server, l3dsr looks the packet's DSCP up in a per-namespace table in
 * the netfilter PREROUTING hook and rewrites the destination back to the VIP,
 * so the application answers from the VIP straight to the client.
 *
 * This header is the whole contract between the kernel module and userspace.
 *
 * Generic netlink family
 * ----------------------
 *
 * Family name L3DSR_GENL_NAME ("l3dsr"), version L3DSR_GENL_VERSION. Resolving
 * the family loads the module (it carries the genl family alias). The family
 * is namespace aware: every command acts on the network namespace of the
 * requesting socket. Commands that change state need CAP_NET_ADMIN over that
 * namespace; reading does not.
 *
 * Every message carries L3DSR_A_* attributes (enum l3dsr_attr). Attributes
 * are validated strictly: unknown attributes, wrong types or lengths and
 * values out of range are refused with -EINVAL, and the extended ACK carries a
 * message naming the offending attribute. Nothing is changed by a rejected
 * request. A request the kernel has no memory for fails with -ENOMEM and,
 * where the allocation was the module's, an extack message naming what it
 * could not allocate; it too changes nothing.
 *
 * A mapping is keyed by (L3DSR_A_FAMILY, L3DSR_A_DSCP): each address family
 * has its own table of 63 slots, DSCP 1 to 63. DSCP 0 is all unmarked traffic
 * and cannot be mapped.
 *
 * Which packets a mapping rewrites
 * --------------------------------
 * A packet carrying a mapped DSCP is rewritten only when it is for this host:
 *   - the stack would deliver it locally, as it stands at l3dsr's hook: the
 *     route it already carries (a packet looped back from this host)
 *     decides, or else the same input route lookup the stack makes after
 *     PREROUTING, with the same keys: the ingress device (for IPv6 in a
 *     VRF, the VRF's device), mark, source, DS field, flow label, tunnel
 *     id, every ip rule and source-specific route. Only an address of this
 *     host (a "local" route, AnyIP prefixes on lo included; for IPv6 an
 *     anycast address of this host too) takes the packet. A
 *     mark that is to steer the route must be set before l3dsr's hook
 *     (priority -310: tc ingress, or an nftables chain at a lower
 *     priority). A packet the host would forward or drop is left alone
 *     (L3DSR_STAT_SKIPPED_NOT_LOCAL), unless the mapping has
 *     L3DSR_F_NONLOCAL;
 *   - it is not a frame a bridge switches from one port to another: with
 *     br_netfilter the IPv4 and IPv6 hooks see those too, and one addressed
 *     at the link layer to another host is left alone
 *     (L3DSR_STAT_SKIPPED_BRIDGED), whatever the flags;
 *   - it is judged once: the second pass VRF makes through PREROUTING on
 *     the VRF device is neither rewritten nor counted;
 *   - its transport checksum can be kept right. TCP, UDP, UDP-Lite and DCCP,
 *     and for IPv6 also ICMPv6, the Mobility Header, OSPFv3, PIM and VRRP,
 *     have checksums over a pseudo-header holding the destination: they are
 *     adjusted; a UDP checksum of 0 (none) stays 0, in either family.
 *     GRE, ESP, SCTP and IP-in-IP (4 and 41) in either family, ICMP,
 *     IGMP, OSPFv2 and PIM over IPv4, and no-next-header over IPv6 carry
 *     nothing that depends on it: only the destination changes. AH
 *     authenticates the destination, VRRP over IPv4 may or may not sum a
 *     pseudo-header (version 2 does not, version 3 does), and any other
 *     protocol (ICMP or IGMP over IPv6 among them) is unknown: such packets
 *     are left alone (L3DSR_STAT_SKIPPED_PROTOCOL), never corrupted.
 *   - its destination is its last: an IPv4 source route (LSRR, SSRR) with
 *     hops left, like an IPv6 Routing header with segments left, makes it
 *     a waypoint, and the packet is left alone
 *     (L3DSR_STAT_SKIPPED_ROUTING_HEADER).
 * Every fragment of a datagram gets the same decision, made only from what
 * every fragment carries: each is rewritten, and the transport checksum is
 * adjusted in the fragment that carries it. The protocol of a fragmented
 * IPv6 datagram is its Fragment header's next header; when that is an
 * extension header (No Next Header counts as one there), no later fragment
 * can tell what follows, and the whole datagram is left alone
 * (L3DSR_STAT_SKIPPED_PROTOCOL). A packet
 * that is not a fragment (an IPv6 atomic fragment included) and whose
 * transport header is cut short, even after its checksum, or whose IPv6
 * extension headers run past its end, is left to the stack
 * (L3DSR_STAT_SKIPPED_MALFORMED).
 * A packet left alone for several reasons counts once, for the first of:
 * down, scope, not addressed to this host at the link layer, bridged, not
 * local, Routing header or source route, malformed, protocol.
 *
 * Who may do what
 * ---------------
 * Reading is open to every user of the namespace: the mappings
 * (L3DSR_CMD_GET_MAPPING), the counters (L3DSR_CMD_GET_STATS, and sysfs for
 * the initial namespace) and the "config" group's announcements, as the
 * namespace's routes and addresses are. A table holds addresses the
 * balancer announces to the world and counters, nothing secret, and the
 * monitoring agents that read it should not need privilege. Every change
 * needs CAP_NET_ADMIN in the user namespace that owns the network
 * namespace.
 *
 * L3DSR_CMD_NEW_MAPPING
 *   Create or change one mapping. Needs CAP_NET_ADMIN.
 *   Takes:
 *     L3DSR_A_FAMILY   u8, AF_INET or AF_INET6                    (required)
 *     L3DSR_A_DSCP     u8, 1..63                                  (required)
 *     L3DSR_A_VIP      binary, 4 bytes for AF_INET, 16 for AF_INET6,
 *                      network byte order; the address the packet's
 *                      destination is rewritten to. Must be a unicast
 *                      address.                                   (required)
 *     L3DSR_A_RIP      binary, as L3DSR_A_VIP: only packets whose original
 *                      destination is this address are rewritten. (optional)
 *     L3DSR_A_IFINDEX  u32: only packets that arrived on this device are
 *                      rewritten. The device must exist in the namespace
 *                      when the mapping is made, and the mapping lives
 *                      only as long as the device stays in it: when the
 *                      device is unregistered or moves to another
 *                      namespace, the mapping is deleted and
 *                      L3DSR_CMD_DEL_MAPPING announced, as a route
 *                      through the device is, so that no device given the
 *                      same index later inherits it.              (optional)
 *     L3DSR_A_FLAGS    u32, a set of L3DSR_F_* bits; unknown bits are
 *                      refused, and so is L3DSR_F_DOWN: being down is the
 *                      state of a mapping, set by L3DSR_CMD_SET_MAPPING,
 *                      and a changed mapping keeps the state of the one it
 *                      replaces (a new one starts up).           (optional)
 *     L3DSR_A_REQUEST_FLAGS u32, L3DSR_REQUEST_F_* bits saying what to do
 *                      when the slot is taken, as `ip` users know them from
 *                      NLM_F_EXCL and NLM_F_REPLACE (generic netlink keeps
 *                      the header flags for its own use):    (optional)
 *       none           an empty slot gets the mapping; an identical existing
 *                      mapping (up or down) is success and changes nothing
 *                      (scripts may re-run); a different one is -EEXIST, the extack
 *                      naming L3DSR_A_DSCP and the VIP in the slot.
 *       L3DSR_REQUEST_F_EXCL     the slot must be empty, else -EEXIST.
 *       L3DSR_REQUEST_F_REPLACE  overwrite what is in the slot (or fill an
 *                      empty one); the counters go on.
 *       Both together are -EINVAL.
 *   Announces L3DSR_CMD_NEW_MAPPING on the "config" group when anything
 *   changed.
 *
 * L3DSR_CMD_DEL_MAPPING
 *   Delete one mapping. Needs CAP_NET_ADMIN.
 *   Takes L3DSR_A_FAMILY and L3DSR_A_DSCP (required). -ENOENT if the slot is
 *   empty. Announces L3DSR_CMD_DEL_MAPPING with the deleted mapping.
 *
 * L3DSR_CMD_GET_MAPPING
 *   Read mappings. Does not need privilege.
 *   doit: takes L3DSR_A_FAMILY and L3DSR_A_DSCP (required) and answers one
 *         L3DSR_CMD_GET_MAPPING message describing it, or -ENOENT.
 *   dump (NLM_F_DUMP): takes no attribute (any is refused with -EINVAL)
 *         and answers one message per mapping, AF_INET first, then by DSCP.
 *         A dump whose table changed while it was being sent carries
 *         NLM_F_DUMP_INTR, on a mapping message or on NLMSG_DONE.
 *   A mapping is described by L3DSR_A_FAMILY, L3DSR_A_DSCP, L3DSR_A_VIP,
 *   L3DSR_A_FLAGS, L3DSR_A_RIP and L3DSR_A_IFINDEX (only when set), and its
 *   counters L3DSR_A_PACKETS and L3DSR_A_BYTES (u64: packets rewritten and
 *   their bytes from the IP header on).
 *
 * L3DSR_CMD_FLUSH_MAPPINGS
 *   Delete every mapping of the namespace, or of one family when
 *   L3DSR_A_FAMILY is given. Needs CAP_NET_ADMIN. Emptying an empty table is
 *   success. Announces one L3DSR_CMD_DEL_MAPPING per deleted mapping.
 *
 * L3DSR_CMD_GET_STATS
 *   Read the namespace's packet counters. Does not need privilege. Takes
 *   nothing; answers L3DSR_A_STATS, a nest of enum l3dsr_stat attributes,
 *   each a u64 summed over CPUs.
 *
 * L3DSR_CMD_SET_MAPPING
 *   Change the flags of one existing mapping; it keeps everything else,
 *   counters included. Needs CAP_NET_ADMIN. This is how a server is drained:
 *   L3DSR_F_DOWN stops the rewriting while the mapping stays.
 *   Takes L3DSR_A_FAMILY, L3DSR_A_DSCP, L3DSR_A_FLAGS (the new values) and
 *   L3DSR_A_FLAGS_MASK (u32: which bits to change), all required. -ENOENT if
 *   the slot is empty. Announces L3DSR_CMD_NEW_MAPPING if anything changed.
 *
 * L3DSR_CMD_SET_TABLE
 *   Make the namespace's whole table, both families, exactly the given list
 *   of mappings, in one step: every entry is checked and every allocation
 *   made before anything changes, so the request applies entirely or not at
 *   all. Needs CAP_NET_ADMIN.
 *   Takes L3DSR_A_MAPPINGS (required, may be empty): a nest of
 *   L3DSR_A_MAPPING nests, each holding the attributes of
 *   L3DSR_CMD_NEW_MAPPING except L3DSR_A_REQUEST_FLAGS; here L3DSR_A_FLAGS
 *   may hold L3DSR_F_DOWN, so a saved table comes back as it was. Two
 *   entries for one family and DSCP are -EINVAL. A mapping equal to the
 *   entry for its slot stays as it is; one that differs is replaced, its
 *   counters going on; slots without an entry are emptied. Each slot
 *   switches on its own: a packet sees either the old or the new mapping of
 *   its slot. Announces L3DSR_CMD_NEW_MAPPING and L3DSR_CMD_DEL_MAPPING for
 *   every slot that changed.
 *
 * Multicast group L3DSR_MCGRP_CONFIG ("config"): announces every change to
 * the namespace's table, as described above, the removals that follow a
 * device's departure included. Any user of the namespace may join it.
 *
 * Errors
 *   -EINVAL      an attribute is missing, malformed or out of range; the
 *                extack says which.
 *   -EEXIST      the slot holds a different mapping (or any, with EXCL).
 *   -ENOENT      no mapping in that slot (delete, get).
 *   -ENODEV      L3DSR_A_IFINDEX names no device in the namespace.
 *   -EPERM       a change without CAP_NET_ADMIN over the namespace.
 *   -EMSGSIZE    only from a dump buffer too small; not seen by users of
 *                libmnl-sized buffers.
 *
 * The API grows only by appending commands, attributes, flags and counters.
 */
#ifndef _UAPI_LINUX_L3DSR_H
#define _UAPI_LINUX_L3DSR_H

#define L3DSR_GENL_NAME		"l3dsr"
/*
 * 1: the first release. 2: L3DSR_F_NONLOCAL, L3DSR_STAT_SKIPPED_NOT_LOCAL,
 * L3DSR_STAT_SKIPPED_BRIDGED and L3DSR_STAT_SKIPPED_PROTOCOL.
 */
#define L3DSR_GENL_VERSION	2
#define L3DSR_MCGRP_CONFIG	"config"

/* The DSCP field has six bits; 0 means unmarked and is never mapped. */
#define L3DSR_DSCP_MIN		1
#define L3DSR_DSCP_MAX		63

enum l3dsr_cmd {
	L3DSR_CMD_UNSPEC,
	L3DSR_CMD_NEW_MAPPING,
	L3DSR_CMD_DEL_MAPPING,
	L3DSR_CMD_GET_MAPPING,
	L3DSR_CMD_FLUSH_MAPPINGS,
	L3DSR_CMD_GET_STATS,
	L3DSR_CMD_SET_MAPPING,
	L3DSR_CMD_SET_TABLE,
	__L3DSR_CMD_MAX
};

#define L3DSR_CMD_MAX (__L3DSR_CMD_MAX - 1)

enum l3dsr_attr {
	L3DSR_A_UNSPEC,
	L3DSR_A_PAD,		/* alignment padding for u64 attributes */
	L3DSR_A_FAMILY,		/* u8: AF_INET or AF_INET6 */
	L3DSR_A_DSCP,		/* u8: 1..63 */
	L3DSR_A_VIP,		/* binary: 4 or 16 bytes, network byte order */
	L3DSR_A_RIP,		/* binary: 4 or 16 bytes, network byte order */
	L3DSR_A_IFINDEX,	/* u32: ingress device */
	L3DSR_A_FLAGS,		/* u32: L3DSR_F_* */
	L3DSR_A_PACKETS,	/* u64, replies only */
	L3DSR_A_BYTES,		/* u64, replies only */
	L3DSR_A_STATS,		/* nest of enum l3dsr_stat, replies only */
	L3DSR_A_REQUEST_FLAGS,	/* u32: L3DSR_REQUEST_F_* */
	L3DSR_A_FLAGS_MASK,	/* u32: L3DSR_F_* bits L3DSR_A_FLAGS changes */
	L3DSR_A_MAPPINGS,	/* nest of L3DSR_A_MAPPING */
	L3DSR_A_MAPPING,	/* nest: one mapping's attributes */
	__L3DSR_A_LAST
};

#define L3DSR_A_MAX (__L3DSR_A_LAST - 1)

/*
 * L3DSR_F_CLEAR_DSCP: after the rewrite, set the DSCP to 0 (ECN bits are
 * kept), so that the marking the balancer used does not leak into the
 * server's own policies or replies.
 * L3DSR_F_DOWN: the mapping is kept with its counters but rewrites nothing
 * (packets pass untouched, counted in L3DSR_STAT_SKIPPED_DOWN): requests the
 * balancer sends stop reaching the service on the VIP, so its health checks
 * fail and it drains the server.
 * L3DSR_F_NONLOCAL: rewrite packets whatever their destination, also those
 * the host would forward (version 2). For the rare host that must take over
 * traffic addressed to others; a router or a container host with it
 * answers, from the VIP, packets meant for a neighbour whenever their DSCP
 * is the mapped one. Bridged frames for another host are still left alone.
 */
enum l3dsr_flag {
	L3DSR_F_CLEAR_DSCP = 1U << 0,
	L3DSR_F_DOWN = 1U << 1,
	L3DSR_F_NONLOCAL = 1U << 2,
	__L3DSR_F_ALL = L3DSR_F_CLEAR_DSCP | L3DSR_F_DOWN | L3DSR_F_NONLOCAL
};

/* What L3DSR_CMD_NEW_MAPPING does with a slot already taken. */
enum l3dsr_request_flag {
	L3DSR_REQUEST_F_EXCL = 1U << 0,
	L3DSR_REQUEST_F_REPLACE = 1U << 1,
	__L3DSR_REQUEST_F_ALL = L3DSR_REQUEST_F_EXCL | L3DSR_REQUEST_F_REPLACE
};

/*
 * Namespace counters, each a u64 attribute inside L3DSR_A_STATS. Only packets
 * whose DSCP is mapped are counted; all others are untouched and uncounted.
 *
 * L3DSR_STAT_REWRITTEN          packets whose destination became the VIP.
 * L3DSR_STAT_REWRITTEN_FRAGMENTS of those, IP fragments other than the
 *                               first: the destination was rewritten, and the
 *                               transport checksum only if the fragment
 *                               carries it.
 * L3DSR_STAT_SKIPPED_SCOPE      the mapping's device or RIP did not match;
 *                               passed on untouched.
 * L3DSR_STAT_SKIPPED_NOT_HOST   not addressed to this host at the link layer
 *                               (broadcast, multicast); passed on untouched.
 * L3DSR_STAT_SKIPPED_MALFORMED  a header the rewrite needs was truncated;
 *                               passed on untouched for the stack to judge.
 * L3DSR_STAT_SKIPPED_ROUTING_HEADER IPv6 packets with a Routing header with
 *                               segments left, IPv4 packets with a source
 *                               route (LSRR, SSRR) with hops left: their
 *                               destination is a waypoint and not the final
 *                               destination; passed on untouched.
 * L3DSR_STAT_DROPPED_UNWRITABLE the headers could not be made writable (out
 *                               of memory). Dropped, since the server would
 *                               otherwise answer from its RIP and the client
 *                               could not match the reply.
 * L3DSR_STAT_SKIPPED_DOWN       the mapping is down (drained); passed on
 *                               untouched.
 * L3DSR_STAT_SKIPPED_NOT_LOCAL  the stack's route for the packet does not
 *                               deliver it to this host (it would forward
 *                               or drop it); passed on untouched.
 *                               Version 2.
 * L3DSR_STAT_SKIPPED_BRIDGED    a frame a bridge switches to another host at
 *                               the link layer (br_netfilter); passed on
 *                               untouched. Version 2.
 * L3DSR_STAT_SKIPPED_PROTOCOL   a transport protocol whose checksum or
 *                               authentication l3dsr cannot keep right (AH,
 *                               VRRP over IPv4, unknown protocols); passed on
 *                               untouched. Version 2.
 */
enum l3dsr_stat {
	L3DSR_STAT_UNSPEC,
	L3DSR_STAT_PAD,
	L3DSR_STAT_REWRITTEN,
	L3DSR_STAT_REWRITTEN_FRAGMENTS,
	L3DSR_STAT_SKIPPED_SCOPE,
	L3DSR_STAT_SKIPPED_NOT_HOST,
	L3DSR_STAT_SKIPPED_MALFORMED,
	L3DSR_STAT_SKIPPED_ROUTING_HEADER,
	L3DSR_STAT_DROPPED_UNWRITABLE,
	L3DSR_STAT_SKIPPED_DOWN,
	L3DSR_STAT_SKIPPED_NOT_LOCAL,
	L3DSR_STAT_SKIPPED_BRIDGED,
	L3DSR_STAT_SKIPPED_PROTOCOL,
	__L3DSR_STAT_LAST
};

#define L3DSR_STAT_MAX (__L3DSR_STAT_LAST - 1)

#endif /* _UAPI_LINUX_L3DSR_H */
