// SPDX-License-Identifier: GPL-2.0
/*
 * l3dsr_pktfuzz: a differential fuzz of the packet path.
 *
 * Two twin namespaces get the same packets, each on its own veth: the "l3dsr"
 * twin rewrites with a mapping DSCP 10 -> VIP for both families, the "nft"
 * twin with the stateless rules that do the same job at the same priority,
 * `ip dscp 10 ip daddr set VIP` and `ip6 dscp 10 ip6 daddr set VIP6`. After
 * the rewrite point each twin copies every packet that came in, as its
 * PREROUTING left it, to an observer device (`nft dup` at priority raw), and
 * it forwards what is addressed to the IPv4 VIP out of a second one. This
 * program writes the packets (AF_PACKET) and reads both kinds of copies, all
 * in one namespace, the "wire":
 *
 *   wire: L_IN  ---- l3dsr twin: in0   (l3dsr at -310)
 *         L_DUP ----             dup0  (nft dup at -300: every packet)
 *         L_FWD ----             fwd0  (the route to the IPv4 VIP)
 *         N_IN, N_DUP, N_FWD     the same for the nft twin
 *
 * Each packet is judged against two models, not only against the other
 * twin: what kmod/uapi/l3dsr.h says a mapping does with it ("Which packets
 * a mapping rewrites"), and what nft's payload set does (net/netfilter/
 * nft_payload.c: the L4 checksum only for TCP, UDP with a checksum, UDP-Lite
 * and ICMPv6, never in a non-first fragment, and a rule that gives up half
 * way when the TCP header is short). Where the header leaves a choice open,
 * the l3dsr model holds every outcome it allows. A packet passes when each
 * twin did what its model says; where the two twins then differ, the
 * difference is counted under the reason the models differ for. Anything
 * else fails, with the seed, the index and a replay token.
 *
 * The dup copy is exact but for what nf_dup itself changes (TTL or hop
 * limit minus one, IPv4 DF set and the header checksum recomputed by
 * ip_local_out), and the twins' observer devices have tx checksum offload
 * off, so a checksum left to offload is completed on the way out. The IPv4
 * header checksum l3dsr wrote is seen in the forwarded copy (ip_forward
 * changes it incrementally), which must carry a right one.
 *
 *   l3dsr_pktfuzz env
 *	The addresses and names the twins are built with, as shell
 *	assignments, so that the script and this program share them.
 *   l3dsr_pktfuzz show [-s SEED] [-t rule|backend] (-i INDEX | -r TOKEN)
 *	A packet's replay token and description, and what each twin must make
 *	of it, without any network.
 *   l3dsr_pktfuzz list [-s SEED] [-i FIRST] -n COUNT
 *	One line per generated packet: index, token, description.
 *   l3dsr_pktfuzz run [-s SEED] [-n COUNT] [-c CORPUS]... [-i INDEX]
 *		[-r TOKEN] [-v] [-t rule|backend] L_IN L_DUP L_FWD N_IN N_DUP N_FWD
 *	(or --seed, --count, --corpus, --index, --replay, --verbose, --twin)
 *	Replay the corpus files, then COUNT random packets from SEED (or only
 *	packet INDEX of SEED, or only TOKEN). Prints a report: the table of
 *	outcomes by reason, every failure, and lines "expect COUNTER LOW HIGH"
 *	for the l3dsr twin's counters, which the script checks.
 *
 * A replay token is the hex of the packet from the IP header on, after
 * optional comma-separated fields: "l2=b" (broadcast) or "l2=m"
 * (multicast) frame, "csum=START:OFFSET" (sent as checksum offload would
 * hand it over: CHECKSUM_PARTIAL, START from the IP header), "et=XXXX" (an
 * ethertype other than the one the version implies).
 *
 * With --twin backend, the second twin is l3dsrctl's nftables backend
 * (`l3dsrctl --backend nft`, table inet l3dsr) instead of the hand-written
 * rule, judged by its chain (backend_expect(): the module's contract with
 * the differences README's "What differs" names). Where it and the module
 * twin differ, the difference must be one of those (even where the
 * module's contract would allow what the backend did); packets both
 * rewrite must be equal byte for byte.
 * The report then adds "expect backend_..." lines for its counters.
 *
 * Exit 0 when every packet passed, 1 on any failure, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKT_MAX		1600	/* the IP packet and any padding after it */
#define IP_MAX		1500	/* the links' MTU */
#define BATCH		128
#define SENTINEL_WAIT_MS 20000
#define MAX_DETAILS	12	/* failures printed in full */
#define MAX_GROUPS	64

static const char *progname = "l3dsr_pktfuzz";

/* ------------------------------------------------------------ the twins */

#define MAPPED_DSCP	10
#define TWIN_MAC	"02:00:00:00:00:10"

static const uint8_t twin_mac[6] = { 0x02, 0, 0, 0, 0, 0x10 };
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mcast4_mac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const uint8_t mcast6_mac[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };

static const uint8_t rip4[4] = { 192, 0, 2, 10 };
static const uint8_t local4[4] = { 198, 19, 0, 1 };	/* on lo */
static const uint8_t anyip4[4] = { 198, 19, 8, 0 };	/* /24, local route */
static const uint8_t nonlocal4[4] = { 203, 0, 113, 0 };	/* /24, no route */
static const uint8_t vip4[4] = { 211, 115, 115, 100 };	/* routed out fwd0 */
static const uint8_t src4_net = 10;			/* 10/8: packet ids */

static const uint8_t rip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x92,
				  [15] = 0x10 };
static const uint8_t local6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x19,
				    [15] = 0x01 };
/* /64, local route */
static const uint8_t anyip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x19,
				    0x00, 0x08 };
/* /64, no route */
static const uint8_t nonlocal6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xde, 0xad };
/* on lo */
static const uint8_t vip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff,
				  [14] = 0x01, [15] = 0x00 };
/* 2001:db8:f::/48 + id: packet ids */
static const uint8_t src6_net[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0f };

#define SENTINEL_ID	0xfffffeU
#define MAX_COUNT	(SENTINEL_ID - 2)

static void print_env(void)
{
	printf("FZ_TWIN_MAC=%s\n"
	       "FZ_DSCP=%d\n"
	       "FZ_RIP4=192.0.2.10/24\n"
	       "FZ_RIP6=2001:db8:192::10/64\n"
	       "FZ_LOCAL4=198.19.0.1/32\n"
	       "FZ_LOCAL6=2001:db8:19::1/128\n"
	       "FZ_ANYIP4=198.19.8.0/24\n"
	       "FZ_ANYIP6=2001:db8:19:8::/64\n"
	       "FZ_VIP4=211.115.115.100\n"
	       "FZ_VIP6=2001:db8:ffff::100\n"
	       "FZ_DUP4=198.18.1.1/30\n"
	       "FZ_DUP4_GW=198.18.1.2\n"
	       "FZ_DUP6=2001:db8:181::1/64\n"
	       "FZ_DUP6_GW=2001:db8:181::2\n"
	       "FZ_FWD4=198.18.2.1/30\n"
	       "FZ_FWD4_GW=198.18.2.2\n",
	       TWIN_MAC, MAPPED_DSCP);
}

/* ----------------------------------------------------------- utilities */

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", progname, what, strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: %s env\n"
		"       %s show [-s SEED] [-t rule|backend] (-i INDEX | -r TOKEN)\n"
		"       %s list [-s SEED] [-i FIRST] -n COUNT\n"
		"       %s run [-s SEED] [-n COUNT] [-c CORPUS]... [-i INDEX] [-r TOKEN] [-v]\n"
		"              [-t rule|backend] L_IN L_DUP L_FWD N_IN N_DUP N_FWD\n",
		progname, progname, progname, progname);
	exit(2);
}

static uint64_t parse_u64(const char *text, const char *what, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno || end == text || *end || v > max) {
		fprintf(stderr, "%s: bad %s \"%s\"\n", progname, what, text);
		exit(2);
	}
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* splitmix64: each packet has its own stream, from the seed and its index */
struct rng {
	uint64_t s;
};

static uint64_t rnext(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rnd(struct rng *r, unsigned int n)
{
	return n ? (unsigned int)(rnext(r) % n) : 0;
}

/* an integer in [lo, hi] */
static unsigned int rrange(struct rng *r, unsigned int lo, unsigned int hi)
{
	return hi <= lo ? lo : lo + rnd(r, hi - lo + 1);
}

static bool chance(struct rng *r, unsigned int percent)
{
	return rnd(r, 100) < percent;
}

static void rfill(struct rng *r, uint8_t *p, size_t len)
{
	while (len--)
		*p++ = rnext(r) & 0xff;
}

/* ------------------------------------------------------------ checksums */

/* The one's complement sum of @len bytes as big-endian 16-bit words. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	while (len > 1) {
		sum += rd16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

/* Folded to 16 bits with end-around carry: 0 only for a sum of zeros. */
static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t oc_add(uint16_t a, uint16_t b)
{
	return fold((uint32_t)a + b);
}

static uint16_t oc_sub(uint16_t a, uint16_t b)
{
	return oc_add(a, (uint16_t)~b);
}

/* A checksum field over @sum: its complement, 0 sent as 0xffff. */
static uint16_t csum_field(uint32_t sum)
{
	uint16_t c = (uint16_t)~fold(sum);

	return c ? c : 0xffff;
}

static uint32_t pseudo_sum(int family, const uint8_t *src, const uint8_t *dst,
			   uint8_t proto, uint32_t len)
{
	size_t alen = family == 4 ? 4 : 16;
	uint32_t sum = 0;

	sum = sum16(sum, src, alen);
	sum = sum16(sum, dst, alen);
	return sum + proto + (len >> 16) + (len & 0xffff);
}

static uint32_t crc32c(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffff;
	int k;

	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = crc >> 1 ^ (0x82f63b78 & -(crc & 1));
	}
	return ~crc;
}

static void ipv4_set_check(uint8_t *ip)
{
	size_t hlen = (ip[0] & 0xf) * 4;

	wr16(ip + 10, 0);
	wr16(ip + 10, (uint16_t)~fold(sum16(0, ip, hlen)));
}

/* ------------------------------------------------------------- packets */

enum l2kind { L2_HOST, L2_BCAST, L2_MCAST };

struct pkt {
	uint8_t b[PKT_MAX];	/* from the IP header on, padding included */
	size_t len;
	uint16_t ethertype;
	uint8_t l2;
	bool offload;		/* CHECKSUM_PARTIAL, as from a sender's offload */
	uint16_t csum_start;	/* offload: from the IP header */
	uint16_t csum_off;	/* offload: from csum_start */
	char desc[160];
};

static int pkt_family(const struct pkt *p)
{
	return p->ethertype == ETHERTYPE_IPV6 ? 6 : 4;
}

static size_t alen(int family)
{
	return family == 4 ? 4 : 16;
}

static const uint8_t *pkt_dst(const uint8_t *b, int family)
{
	return b + (family == 4 ? 16 : 24);
}

static const uint8_t *vip_of(int family)
{
	return family == 4 ? vip4 : vip6;
}

static uint8_t pkt_tos(const uint8_t *b, int family)
{
	return family == 4 ? b[1] : (uint8_t)(b[0] << 4 | b[1] >> 4);
}

/* Adds to a packet's description. */
__attribute__((format(printf, 2, 3)))
static void describe(struct pkt *p, const char *fmt, ...)
{
	size_t used = strlen(p->desc);
	va_list ap;

	if (used + 2 >= sizeof(p->desc))
		return;
	va_start(ap, fmt);
	vsnprintf(p->desc + used, sizeof(p->desc) - used, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------ protocols and tokens */

static const char *proto_name(uint8_t proto, int family)
{
	static char buf[8];

	switch (proto) {
	case 0:
		return family == 6 ? "hopopts" : "proto0";
	case 1: return "icmp";
	case 2: return "igmp";
	case 4: return "ipip";
	case 6: return "tcp";
	case 17: return "udp";
	case 33: return "dccp";
	case 41: return "ipv6";
	case 43: return "rthdr";
	case 44: return "frag";
	case 47: return "gre";
	case 50: return "esp";
	case 51: return "ah";
	case 58: return "icmpv6";
	case 59: return "nonext";
	case 60: return "dstopts";
	case 89:
		return family == 6 ? "ospfv3" : "ospf";
	case 103: return "pim";
	case 112: return "vrrp";
	case 132: return "sctp";
	case 135: return "mh";
	case 136: return "udplite";
	}
	snprintf(buf, sizeof(buf), "p%u", proto);
	return buf;
}

static void hex_out(FILE *f, const uint8_t *p, size_t len)
{
	while (len--)
		fprintf(f, "%02x", *p++);
}

static void token_out(FILE *f, const struct pkt *p)
{
	uint16_t natural = (p->len && (p->b[0] >> 4) == 6) ? ETHERTYPE_IPV6 :
			   ETHERTYPE_IP;

	if (p->l2 == L2_BCAST)
		fputs("l2=b,", f);
	else if (p->l2 == L2_MCAST)
		fputs("l2=m,", f);
	if (p->offload)
		fprintf(f, "csum=%u:%u,", p->csum_start, p->csum_off);
	if (p->ethertype != natural)
		fprintf(f, "et=%04x,", p->ethertype);
	hex_out(f, p->b, p->len);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses a replay token; false if it is not one. */
static bool token_parse(const char *text, struct pkt *p)
{
	char word[2 * PKT_MAX + 64];
	bool et_given = false;
	size_t wlen = strcspn(text, " \t\n");
	const char *t = word, *comma;

	if (wlen >= sizeof(word))
		return false;
	memcpy(word, text, wlen);
	word[wlen] = 0;
	memset(p, 0, sizeof(*p));
	while ((comma = strchr(t, ','))) {
		unsigned int a, b;

		if (!strncmp(t, "l2=b,", 5)) {
			p->l2 = L2_BCAST;
		} else if (!strncmp(t, "l2=m,", 5)) {
			p->l2 = L2_MCAST;
		} else if (sscanf(t, "csum=%u:%u,", &a, &b) == 2) {
			if (a > 0xffff || b > 0xffff)
				return false;
			p->offload = true;
			p->csum_start = a;
			p->csum_off = b;
		} else if (sscanf(t, "et=%x,", &a) == 1) {
			if (a > 0xffff)
				return false;
			p->ethertype = a;
			et_given = true;
		} else {
			return false;
		}
		t = comma + 1;
	}
	while (*t) {
		int hi = hexval(t[0]), lo = hexval(t[1]);

		if (hi < 0 || lo < 0 || p->len >= sizeof(p->b))
			return false;
		p->b[p->len++] = (uint8_t)(hi << 4 | lo);
		t += 2;
	}
	if (!p->len)
		return false;
	if (!et_given)
		p->ethertype = (p->b[0] >> 4) == 6 ? ETHERTYPE_IPV6 :
			       ETHERTYPE_IP;
	if (p->offload && (size_t)p->csum_start + p->csum_off + 2 > p->len)
		return false;
	snprintf(p->desc, sizeof(p->desc), "replayed");
	return true;
}

/* ---------------------------------------------------------- generation */

/* What the generator chose, for the parts that build on each other. */
struct gen {
	struct rng r;
	int family;
	uint8_t src[16], dst[16];
	int csum_at;		/* the transport checksum in the L4 bytes, -1 */
	bool pseudo;		/* and it covers a pseudo-header */
	bool mutated;		/* a length lies: no offload for it */
};

static void id_src(int family, uint32_t id, uint8_t *src)
{
	memset(src, 0, 16);
	if (family == 4) {
		src[0] = src4_net;
		src[1] = id >> 16;
		src[2] = id >> 8;
		src[3] = id;
	} else {
		memcpy(src, src6_net, sizeof(src6_net));
		wr32(src + 12, id);
	}
}

/* An id from a copy's source address, or 0 if it is not one of ours. */
static uint32_t id_of(const uint8_t *ip, size_t len)
{
	if (len >= 20 && (ip[0] >> 4) == 4 && ip[12] == src4_net)
		return (uint32_t)ip[13] << 16 | ip[14] << 8 | ip[15];
	if (len >= 40 && (ip[0] >> 4) == 6 &&
	    !memcmp(ip + 8, src6_net, sizeof(src6_net)) &&
	    !ip[14] && !ip[15] && !ip[16] && !ip[17] && !ip[18] && !ip[19])
		return (uint32_t)ip[20] << 24 | ip[21] << 16 | ip[22] << 8 |
		       ip[23];
	return 0;
}

static void pick_dst(struct gen *g, struct pkt *p)
{
	unsigned int k = rnd(&g->r, 100);
	bool v4 = g->family == 4;

	memset(g->dst, 0, 16);
	if (k < 70) {
		memcpy(g->dst, v4 ? rip4 : rip6, alen(g->family));
		describe(p, " dst=%s", "rip");
	} else if (k < 76) {
		memcpy(g->dst, v4 ? local4 : local6, alen(g->family));
		describe(p, " dst=%s", "local-lo");
	} else if (k < 82) {
		memcpy(g->dst, v4 ? anyip4 : anyip6, alen(g->family));
		if (v4)
			g->dst[3] = rrange(&g->r, 1, 254);
		else
			rfill(&g->r, g->dst + 8, 8);
		describe(p, " dst=%s", "local-route");
	} else if (k < 94) {
		memcpy(g->dst, v4 ? nonlocal4 : nonlocal6, alen(g->family));
		if (v4)
			g->dst[3] = rrange(&g->r, 1, 254);
		else
			rfill(&g->r, g->dst + 8, 8);
		describe(p, " dst=%s", "not-local");
	} else {
		memcpy(g->dst, vip_of(g->family), alen(g->family));
		describe(p, " dst=%s", "vip");
	}
}

static size_t pick_payload(struct gen *g)
{
	unsigned int k = rnd(&g->r, 100);

	if (k < 15)
		return 0;
	if (k < 70)
		return rrange(&g->r, 1, 64);
	if (k < 92)
		return rrange(&g->r, 65, 400);
	return rrange(&g->r, 401, 1300);
}

/* The protocols, weighted; some only make sense for one family. */
struct proto_weight {
	uint8_t proto;
	uint8_t weight;
	uint8_t family;		/* 0: both */
};

static const struct proto_weight proto_weights[] = {
	{ 6, 22, 0 }, { 17, 22, 0 }, { 136, 5, 0 }, { 33, 5, 0 },
	{ 1, 6, 4 }, { 58, 8, 6 }, { 2, 2, 4 }, { 132, 4, 0 }, { 47, 4, 0 },
	{ 51, 4, 0 }, { 50, 2, 0 }, { 89, 3, 0 }, { 103, 3, 0 },
	{ 112, 3, 0 }, { 135, 3, 6 }, { 4, 1, 0 }, { 41, 1, 0 },
	{ 59, 2, 6 }, { 0, 6, 0 },	/* 0: an unknown protocol */
};

static uint8_t unknown_proto(struct gen *g)
{
	static const uint8_t assigned[] = { 3, 8, 9, 27, 46, 88, 94, 115,
					    137, 139, 140, 253, 254, 255 };
	static const uint8_t v4_only[] = { 0, 43, 44, 60 };

	if (g->family == 4 && chance(&g->r, 10))
		return v4_only[rnd(&g->r, sizeof(v4_only))];
	if (chance(&g->r, 40))
		return assigned[rnd(&g->r, sizeof(assigned))];
	if (g->family == 4 && chance(&g->r, 5))
		return 58;	/* ICMPv6 in IPv4: unknown, nft sums it */
	return rrange(&g->r, 143, 252);
}

static uint8_t pick_proto(struct gen *g)
{
	unsigned int total = 0, k, i;

	for (i = 0; i < sizeof(proto_weights) / sizeof(proto_weights[0]); i++)
		if (!proto_weights[i].family ||
		    proto_weights[i].family == g->family)
			total += proto_weights[i].weight;
	k = rnd(&g->r, total);
	for (i = 0; i < sizeof(proto_weights) / sizeof(proto_weights[0]); i++) {
		const struct proto_weight *w = &proto_weights[i];

		if (w->family && w->family != g->family)
			continue;
		if (k < w->weight)
			return w->proto ? w->proto : unknown_proto(g);
		k -= w->weight;
	}
	return 6;
}

/* The checksum over the pseudo-header and @cover bytes of @l4 (@len long). */
static void set_pseudo_csum(struct gen *g, uint8_t *l4, size_t len,
			    uint8_t proto, int at, size_t cover)
{
	uint32_t sum = pseudo_sum(g->family, g->src, g->dst, proto, len);

	wr16(l4 + at, 0);
	wr16(l4 + at, csum_field(sum16(sum, l4, cover)));
	g->csum_at = at;
	g->pseudo = true;
}

static void set_plain_csum(struct gen *g, uint8_t *l4, size_t len, int at)
{
	wr16(l4 + at, 0);
	wr16(l4 + at, csum_field(sum16(0, l4, len)));
	g->csum_at = at;
	g->pseudo = false;
}

static size_t tcp_options(struct gen *g, uint8_t *o)
{
	size_t n = 0;

	if (chance(&g->r, 50)) {		/* MSS */
		o[n++] = 2;
		o[n++] = 4;
		wr16(o + n, 1460);
		n += 2;
	}
	if (chance(&g->r, 40))			/* SACK permitted */
		o[n++] = 1, o[n++] = 1, o[n++] = 4, o[n++] = 2;
	if (chance(&g->r, 40)) {		/* timestamps */
		o[n++] = 1, o[n++] = 1, o[n++] = 8, o[n++] = 10;
		rfill(&g->r, o + n, 8);
		n += 8;
	}
	if (chance(&g->r, 30))			/* window scale */
		o[n++] = 1, o[n++] = 3, o[n++] = 3, o[n++] = 7;
	while (n % 4)
		o[n++] = 0;
	return n;
}

/*
 * The transport part of a datagram, whole and with its checksum right for
 * src -> dst, into @l4; returns its length. @room bounds it.
 */
static size_t build_l4(struct gen *g, struct pkt *p, uint8_t proto,
		       uint8_t *l4, size_t room)
{
	size_t pay = pick_payload(g), len = 0, n;
	struct rng *r = &g->r;

	g->csum_at = -1;
	g->pseudo = false;
	if (pay + 64 > room)
		pay = room > 64 ? room - 64 : 0;

	switch (proto) {
	case 6: {
		size_t opt = tcp_options(g, l4 + 20);

		rfill(r, l4, 20);
		l4[12] = (uint8_t)((20 + opt) / 4) << 4 | (l4[12] & 0x0f);
		l4[13] &= 0x3f;
		len = 20 + opt + pay;
		rfill(r, l4 + 20 + opt, pay);
		set_pseudo_csum(g, l4, len, proto, 16, len);
		if (chance(r, 3)) {
			l4[12] = (uint8_t)(rnd(r, 16) << 4);
			describe(p, " %s", "doff-lies");
		}
		break;
	}
	case 17:
	case 136:
		len = 8 + pay;
		rfill(r, l4, len);
		wr16(l4 + 4, (uint16_t)len);
		if (proto == 136) {
			/* the length field is the checksum coverage */
			size_t cover = len;

			if (chance(r, 50)) {
				cover = rrange(r, 8, (unsigned int)len);
				wr16(l4 + 4, (uint16_t)cover);
			} else {
				wr16(l4 + 4, 0);
			}
			set_pseudo_csum(g, l4, len, proto, 6, cover);
			break;
		}
		if (chance(r, 4)) {
			wr16(l4 + 4, (uint16_t)rnd(r, 0x10000));
			describe(p, " %s", "udp-len-lies");
		}
		set_pseudo_csum(g, l4, len, proto, 6, len);
		if (g->family == 4 && chance(r, 12)) {
			wr16(l4 + 6, 0);
			describe(p, " %s", "udp-csum-0");
		} else if (g->family == 6 && chance(r, 3)) {
			wr16(l4 + 6, 0);
			describe(p, " %s", "udp6-csum-0");
		}
		break;
	case 33: {
		bool x = chance(r, 70);
		size_t hlen = x ? 16 : 12, cover;
		unsigned int cscov = chance(r, 30) ? rrange(r, 1, 15) : 0;

		len = hlen + pay;
		rfill(r, l4, len);
		l4[4] = (uint8_t)(hlen / 4);
		l4[5] = (uint8_t)((l4[5] & 0xf0) | cscov);
		l4[8] = (uint8_t)((l4[8] & 0x1e) | x);
		cover = cscov ? hlen + (cscov - 1) * 4 : len;
		if (cover > len)
			cover = len;
		set_pseudo_csum(g, l4, len, proto, 6, cover);
		break;
	}
	case 1:
	case 2:
		len = 8 + pay;
		rfill(r, l4, len);
		if (proto == 1) {
			static const uint8_t types[] = { 0, 3, 8, 11, 13, 14 };

			l4[0] = types[rnd(r, sizeof(types))];
		} else {
			l4[0] = chance(r, 50) ? 0x11 : 0x16;
			len = 8;
		}
		set_plain_csum(g, l4, len, 2);
		break;
	case 58: {
		static const uint8_t types[] = { 128, 129, 1, 2, 3, 4, 135, 136,
						 133, 143, 150 };

		len = 8 + pay;
		rfill(r, l4, len);
		l4[0] = types[rnd(r, sizeof(types))];
		set_pseudo_csum(g, l4, len, proto, 2, len);
		break;
	}
	case 132: {
		size_t chunk = 16 + (pay & ~3UL);

		len = 12 + chunk;
		rfill(r, l4, len);
		l4[12] = 0;			/* DATA */
		wr16(l4 + 14, (uint16_t)chunk);
		wr32(l4 + 8, 0);
		wr32(l4 + 8, __builtin_bswap32(crc32c(l4, len)));
		break;
	}
	case 47: {
		uint16_t flags = 0;
		size_t hlen = 4;

		if (chance(r, 40))
			flags |= 0x8000, hlen += 4;	/* checksum */
		if (chance(r, 40))
			flags |= 0x2000, hlen += 4;	/* key */
		if (chance(r, 20))
			flags |= 0x1000, hlen += 4;	/* sequence */
		len = hlen + pay;
		rfill(r, l4, len);
		wr16(l4, flags);
		wr16(l4 + 2, chance(r, 50) ? 0x0800 : 0x6558);
		if (flags & 0x8000) {
			wr16(l4 + 6, 0);
			set_plain_csum(g, l4, len, 4);
		}
		break;
	}
	case 51: {
		/* AH, 24 bytes, then a UDP datagram */
		len = 24 + 8 + pay;
		rfill(r, l4, len);
		l4[0] = 17;
		l4[1] = 4;
		wr16(l4 + 2, 0);
		break;
	}
	case 50:
		len = 8 + pay + 12;
		rfill(r, l4, len);
		break;
	case 89:
		if (g->family == 4) {
			len = 24 + pay;
			rfill(r, l4, len);
			l4[0] = 2;
			l4[1] = rrange(r, 1, 5);
			wr16(l4 + 2, (uint16_t)len);
			wr16(l4 + 14, 0);		/* autype: none */
			memset(l4 + 16, 0, 8);
			set_plain_csum(g, l4, len, 12);
		} else {
			len = 16 + pay;
			rfill(r, l4, len);
			l4[0] = 3;
			l4[1] = rrange(r, 1, 5);
			wr16(l4 + 2, (uint16_t)len);
			set_pseudo_csum(g, l4, len, proto, 12, len);
		}
		break;
	case 103:
		len = 4 + pay;
		rfill(r, l4, len);
		l4[0] = 0x20 | (uint8_t)rnd(r, 9);
		if (g->family == 4)
			set_plain_csum(g, l4, len, 2);
		else
			set_pseudo_csum(g, l4, len, proto, 2, len);
		break;
	case 112: {
		bool v3 = g->family == 6 || chance(r, 50);
		size_t naddr = rrange(r, 1, 3);

		len = 8 + naddr * alen(g->family);
		rfill(r, l4, len);
		l4[0] = (uint8_t)((v3 ? 3 : 2) << 4 | 1);
		l4[3] = (uint8_t)naddr;
		if (v3)
			set_pseudo_csum(g, l4, len, proto, 6, len);
		else
			set_plain_csum(g, l4, len, 6);
		describe(p, " %s", v3 ? "vrrp3" : "vrrp2");
		break;
	}
	case 135:
		/* Mobility Header: a multiple of 8 bytes */
		len = 8 + (pay & ~7UL);
		rfill(r, l4, len);
		l4[0] = 59;
		l4[1] = (uint8_t)(len / 8 - 1);
		l4[2] = (uint8_t)rnd(r, 17);
		set_pseudo_csum(g, l4, len, proto, 4, len);
		break;
	case 4:
		len = 20 + pay;
		rfill(r, l4, len);
		l4[0] = 0x45;
		wr16(l4 + 2, (uint16_t)len);
		ipv4_set_check(l4);
		break;
	case 41:
		len = 40 + pay;
		rfill(r, l4, len);
		l4[0] = 0x60 | (l4[0] & 0x0f);
		wr16(l4 + 4, (uint16_t)pay);
		l4[6] = 59;
		break;
	default:
		len = pay;
		rfill(r, l4, len);
		break;
	}
	n = len;
	if (n > room)
		n = room;
	/* now and then a checksum that is wrong from the start */
	if (g->csum_at >= 0 && (size_t)g->csum_at + 2 <= n && chance(r, 3)) {
		wr16(l4 + g->csum_at, rd16(l4 + g->csum_at) ^
		     (uint16_t)rrange(r, 1, 0xffff));
		describe(p, " %s", "bad-csum");
	}
	return n;
}

/* IPv4 options, @max bytes at most, a multiple of 4; returns their length. */
static size_t ipv4_options(struct gen *g, struct pkt *p, uint8_t *o,
			   size_t max)
{
	struct rng *r = &g->r;
	size_t n = 0;
	int items = rrange(r, 1, 4);
	bool srr = false;

	while (items-- > 0 && n + 12 <= max) {
		switch (rnd(r, 8)) {
		case 0:
			o[n++] = 1;				/* NOP */
			break;
		case 1:
			o[n++] = 0x94, o[n++] = 4;		/* Router Alert */
			o[n++] = 0;
			o[n++] = 0;
			break;
		case 2:					/* Record Route */
			o[n++] = 7, o[n++] = 11, o[n++] = 4;
			memset(o + n, 0, 8);
			n += 8;
			break;
		case 3:					/* Timestamp */
			o[n++] = 0x44, o[n++] = 12, o[n++] = 5, o[n++] = 0;
			memset(o + n, 0, 8);
			n += 8;
			break;
		case 4:					/* Stream ID */
			o[n++] = 0x88, o[n++] = 4;
			rfill(r, o + n, 2);
			n += 2;
			break;
		case 5:					/* unknown */
			o[n++] = 0x9e, o[n++] = 6;
			rfill(r, o + n, 4);
			n += 4;
			break;
		case 6:			/* a source route of two addresses */
			if (srr) {		/* one: two the stack refuses */
				o[n++] = 1;
				break;
			}
			srr = true;
			o[n++] = chance(r, 50) ? 0x83 : 0x89;
			o[n++] = 11;
			/* at the first, at the second, or past the end */
			o[n++] = 4 + 4 * rnd(r, 3);
			describe(p, " %s", o[n - 1] <= 11 ? "srr-left" :
				 "srr-spent");
			rfill(r, o + n, 8);
			n += 8;
			break;
		default:				/* a lying length */
			if (chance(r, 30)) {
				o[n++] = 0x9e;
				o[n++] = (uint8_t)rnd(r, 50);
				describe(p, " %s", "bad-option");
			} else {
				o[n++] = 1;
			}
			break;
		}
	}
	while (n % 4)
		o[n++] = 0;				/* End of List */
	return n;
}

/* A Hop-by-Hop or Destination Options header of 8 or 16 bytes. */
static size_t ipv6_tlv_header(struct gen *g, struct pkt *p, uint8_t *h,
			      bool hop)
{
	struct rng *r = &g->r;
	size_t len = chance(r, 70) ? 8 : 16, n = 2;

	h[1] = (uint8_t)(len / 8 - 1);
	while (n < len) {
		size_t left = len - n;
		unsigned int k = rnd(r, 10);

		if (left >= 4 && k < 3) {
			h[n++] = 5;			/* Router Alert */
			h[n++] = 2;
			h[n++] = 0;
			h[n++] = (uint8_t)rnd(r, 3);
		} else if (left >= 4 && k < 6) {
			/* unknown, skipped by any receiver (action 00) */
			size_t olen = rrange(r, 0, (unsigned int)left - 2);

			h[n++] = (uint8_t)rrange(r, 0x0a, 0x1e);
			h[n++] = (uint8_t)olen;
			rfill(r, h + n, olen);
			n += olen;
		} else if (left >= 4 && k == 6 && chance(r, 20)) {
			/* unknown, and the receiver must drop it */
			h[n++] = (uint8_t)(rrange(r, 1, 3) << 6 | 0x1e);
			h[n++] = 0;
			describe(p, " %s", hop ? "hbh-discard" : "dst-discard");
		} else {
			/* padding: Pad1, or PadN to the end */
			if (left == 1) {
				h[n++] = 0;
			} else {
				size_t pad = left < 7 ? left : 7;

				h[n++] = 1, h[n++] = (uint8_t)(pad - 2);
				memset(h + n, 0, pad - 2), n += pad - 2;
			}
		}
	}
	return len;
}

/* A Routing header of type 0, 2 or 4 (SRH); sets *left to segments left. */
static size_t ipv6_routing(struct gen *g, uint8_t *h, unsigned int *left)
{
	struct rng *r = &g->r;
	unsigned int type = rnd(r, 3) == 0 ? 0 : (chance(r, 50) ? 2 : 4);
	unsigned int naddr = type == 2 ? 1 : rrange(r, 1, 3);
	size_t len = 8 + naddr * 16;

	rfill(r, h, len);
	h[1] = (uint8_t)(naddr * 2);
	h[2] = (uint8_t)type;
	if (type == 4) {
		*left = chance(r, 50) ? 0 : rrange(r, 1, naddr);
		h[4] = (uint8_t)(naddr - 1);		/* last entry */
	} else {
		*left = chance(r, 50) ? 0 : rrange(r, 1, naddr);
		memset(h + 4, 0, 4);
	}
	h[3] = (uint8_t)*left;
	return len;
}

/*
 * Which piece of @dlen bytes of fragmentable part a fragment carries:
 * *off and *len, and whether more follow. Returns false if the datagram is
 * too short to be split.
 */
static bool pick_fragment(struct gen *g, struct pkt *p, uint8_t proto,
			  size_t dlen, size_t *off, size_t *len, bool *more)
{
	struct rng *r = &g->r;
	bool csum_late = proto == 6 || (proto == 89 && g->family == 6);
	unsigned int kind = rnd(r, 3);
	size_t units = (dlen - 1) / 8;	/* a later fragment starts below */

	if (dlen <= 8)
		return false;
	if (kind == 0) {
		/* first: short ones keep the TCP checksum for a later one */
		if (csum_late && chance(r, 50))
			*len = chance(r, 50) || dlen <= 16 ? 8 : 16;
		else
			*len = 8 * rrange(r, 1, (unsigned int)units);
		*off = 0;
		*more = true;
		describe(p, " %s", "frag=first");
	} else {
		if (csum_late && chance(r, 50))
			*off = dlen > 16 && chance(r, 50) ? 16 : 8;
		else
			*off = 8 * rrange(r, 1, (unsigned int)units);
		if (kind == 1 && *off + 8 < dlen) {
			*len = 8 * rrange(r, 1, (unsigned int)((dlen - *off - 1) / 8));
			*more = true;
			describe(p, " %s", "frag=middle");
		} else {
			*len = dlen - *off;
			*more = false;
			describe(p, " %s", "frag=last");
		}
	}
	if (*off + *len > dlen)
		*len = dlen - *off;
	describe(p, "@%lu", (unsigned long)*off);
	describe(p, "+%lu", (unsigned long)*len);
	return true;
}

/* Offload hands over the pseudo-header sum, to be completed downstream. */
static void make_offload(struct gen *g, struct pkt *p, size_t thoff,
			 uint8_t proto, size_t l4len)
{
	uint8_t *l4 = p->b + thoff;

	if (g->mutated || g->csum_at < 0 || !g->pseudo || proto == 33 ||
	    proto == 135 ||
	    proto == 89 || proto == 103 || proto == 112 ||
	    (size_t)g->csum_at + 2 > l4len)
		return;
	if (proto == 17 && !rd16(l4 + 6))
		return;
	wr16(l4 + g->csum_at,
	     fold(pseudo_sum(g->family, g->src, g->dst, proto,
			     (uint32_t)l4len)));
	p->offload = true;
	p->csum_start = (uint16_t)thoff;
	p->csum_off = (uint16_t)g->csum_at;
	describe(p, " %s", "offload");
}

static void gen_ipv4(struct gen *g, struct pkt *p)
{
	struct rng *r = &g->r;
	uint8_t *ip = p->b, l4[IP_MAX];
	size_t hlen = 20, l4len, off = 0, flen;
	uint8_t proto = pick_proto(g);
	bool frag = false, more = false;
	uint8_t tos;

	g->mutated = false;

	describe(p, " %s", proto_name(proto, 4));
	memset(ip, 0, 60);
	if (chance(r, 15)) {
		hlen += ipv4_options(g, p, ip + 20, 40);
		describe(p, " opts=%lu", (unsigned long)(hlen - 20));
	}
	l4len = build_l4(g, p, proto, l4, IP_MAX - hlen);
	flen = l4len;
	if (chance(r, 15) &&
	    pick_fragment(g, p, proto, l4len, &off, &flen, &more))
		frag = true;
	memcpy(ip + hlen, l4 + off, flen);

	ip[0] = (uint8_t)(0x40 | hlen / 4);
	tos = (uint8_t)(chance(r, 75) ? MAPPED_DSCP << 2 :
			rnd(r, 64) << 2) | (uint8_t)rnd(r, 4);
	ip[1] = tos;
	wr16(ip + 2, (uint16_t)(hlen + flen));
	rfill(r, ip + 4, 2);
	wr16(ip + 6, (uint16_t)((chance(r, 30) ? 0x4000 : 0) |
				(more ? 0x2000 : 0) | off / 8));
	ip[8] = chance(r, 4) ? (uint8_t)rnd(r, 2) : (uint8_t)rrange(r, 2, 255);
	ip[9] = proto;
	memcpy(ip + 12, g->src, 4);
	memcpy(ip + 16, g->dst, 4);
	p->len = hlen + flen;

	if (!frag && chance(r, 8)) {
		/* a transport header cut short, the IP length agreeing */
		size_t keep = rnd(r, 24);

		if (keep < flen) {
			p->len = hlen + keep;
			wr16(ip + 2, (uint16_t)p->len);
			describe(p, " cut=%lu", (unsigned long)keep);
			g->mutated = true;
		}
	}
	if (chance(r, 3)) {
		/* a total length that lies: shorter cuts, longer is dropped */
		int d = chance(r, 60) ? -(int)rrange(r, 1, 30) :
			(int)rrange(r, 1, 30);
		int tot = (int)rd16(ip + 2) + d;

		if (tot >= 0) {
			wr16(ip + 2, (uint16_t)tot);
			describe(p, " totlen=%lu", (unsigned long)tot);
			g->mutated = true;
		}
	}
	if (!frag && chance(r, 10))
		make_offload(g, p, hlen, proto, p->len - hlen);
	ipv4_set_check(ip);
	if (chance(r, 1)) {
		ip[0] = (uint8_t)(0x40 | rnd(r, 16));
		describe(p, " %s", "ihl-lies");
		ipv4_set_check(ip);
	}
	if (chance(r, 1)) {
		ip[10] ^= 0x5a;
		describe(p, " %s", "bad-ipcsum");
	}
}

static void gen_ipv6(struct gen *g, struct pkt *p)
{
	struct rng *r = &g->r;
	uint8_t *ip = p->b, l4[IP_MAX], frag_part[IP_MAX];
	uint8_t proto = pick_proto(g);
	uint8_t *next = ip + 6;
	size_t off = 40, l4len, dlen, foff = 0, flen;
	bool frag = false, more = false, frag_dst = false, atomic = false;
	unsigned int tc, left;

	g->mutated = false;
	describe(p, " %s", proto_name(proto, 6));
	memset(ip, 0, 40);
	tc = (chance(r, 75) ? MAPPED_DSCP << 2 : rnd(r, 64) << 2) | rnd(r, 4);
	wr32(ip, 6U << 28 | tc << 20 | (uint32_t)rnd(r, 1 << 20));
	ip[7] = chance(r, 4) ? (uint8_t)rnd(r, 2) : (uint8_t)rrange(r, 2, 255);
	memcpy(ip + 8, g->src, 16);
	memcpy(ip + 24, g->dst, 16);

	/* the unfragmentable part */
	if (chance(r, 10)) {
		*next = 0;
		next = ip + off;
		off += ipv6_tlv_header(g, p, ip + off, true);
		describe(p, " %s", "+hbh");
	}
	if (chance(r, 10)) {
		*next = 60;
		next = ip + off;
		off += ipv6_tlv_header(g, p, ip + off, false);
		describe(p, " %s", "+dst");
	}
	if (chance(r, 12)) {
		*next = 43;
		next = ip + off;
		off += ipv6_routing(g, ip + off, &left);
		describe(p, " +rh(sl=%u)", left);
	}
	if (chance(r, 3)) {
		/* AH around the rest */
		*next = 51;
		next = ip + off;
		rfill(r, ip + off, 24);
		ip[off + 1] = 4;
		off += 24;
		describe(p, " %s", "+ah");
	}
	if (chance(r, 15)) {
		*next = 44;
		next = ip + off;
		frag = true;
		off += 8;
	}

	/* the fragmentable part: maybe a Destination Options header first */
	dlen = 0;
	if (frag && chance(r, 15)) {
		frag_part[0] = proto;
		dlen = ipv6_tlv_header(g, p, frag_part, false);
		frag_dst = true;
		describe(p, " %s", "+dst-after-frag");
	}
	l4len = build_l4(g, p, proto, l4, IP_MAX - off - dlen);
	if (frag_dst && g->csum_at >= 0)
		g->csum_at += (int)dlen;
	memcpy(frag_part + dlen, l4, l4len);
	dlen += l4len;
	flen = dlen;
	if (frag) {
		uint8_t *fh = next;

		*next = frag_dst ? 60 : proto;
		/* an atomic fragment (RFC 6946) is a whole datagram */
		if (chance(r, 20) ||
		    !pick_fragment(g, p, frag_dst ? 0 : proto, dlen, &foff,
				   &flen, &more)) {
			foff = 0;
			flen = dlen;
			more = false;
			atomic = true;
			describe(p, " %s", "frag=atomic");
		}
		fh[1] = 0;
		wr16(fh + 2, (uint16_t)(foff | more));
		rfill(r, fh + 4, 4);
		/* *next now points at the fragment header's next header */
		next = fh;
		next[0] = frag_dst ? 60 : proto;
	} else {
		*next = proto;
	}
	memcpy(ip + off, frag_part + foff, flen);
	p->len = off + flen;
	wr16(ip + 4, (uint16_t)(p->len - 40));

	if ((!frag || atomic) && chance(r, 8)) {
		/* cut short, the payload length agreeing */
		size_t keep = 40 + rnd(r, (unsigned int)(p->len - 40 + 1));

		if (keep < p->len) {
			p->len = keep;
			wr16(ip + 4, (uint16_t)(p->len - 40));
			describe(p, " cut-at=%lu", (unsigned long)keep);
			g->mutated = true;
		}
	}
	if (off > 40 && ip[6] != 44 && chance(r, 4)) {
		/* an extension header longer than the packet */
		uint8_t *h = ip + 40;

		h[1] = ip[6] == 51 ? 0xff : (uint8_t)(h[1] + rrange(r, 1, 40));
		describe(p, " %s", "exthdr-past-end");
		g->mutated = true;
	}
	if (chance(r, 3)) {
		int d = chance(r, 60) ? -(int)rrange(r, 1, 30) :
			(int)rrange(r, 1, 30);
		int plen = (int)rd16(ip + 4) + d;

		if (plen >= 0) {
			wr16(ip + 4, (uint16_t)plen);
			describe(p, " paylen=%lu", (unsigned long)plen);
			g->mutated = true;
		}
	}
	if (!frag && off == 40 && chance(r, 12))
		make_offload(g, p, off, proto, p->len - off);
}

static void gen_packet(uint64_t seed, uint64_t index, struct pkt *p)
{
	struct gen g;
	struct rng seeder = { seed ^ 0x6c33647372ULL };
	unsigned int k;

	memset(p, 0, sizeof(*p));
	rnext(&seeder);
	g.r.s = rnext(&seeder) ^ (index * 0xd1342543de82ef95ULL);
	rnext(&g.r);
	g.family = chance(&g.r, 50) ? 4 : 6;
	p->ethertype = g.family == 4 ? ETHERTYPE_IP : ETHERTYPE_IPV6;
	snprintf(p->desc, sizeof(p->desc), "v%d", g.family);
	id_src(g.family, (uint32_t)index + 1, g.src);
	pick_dst(&g, p);
	k = rnd(&g.r, 100);
	if (k < 3) {
		p->l2 = L2_BCAST;
		describe(p, " %s", "l2=broadcast");
	} else if (k < 6) {
		p->l2 = L2_MCAST;
		describe(p, " %s", "l2=multicast");
	}
	if (g.family == 4)
		gen_ipv4(&g, p);
	else
		gen_ipv6(&g, p);
	if ((pkt_tos(p->b, g.family) >> 2) != MAPPED_DSCP)
		describe(p, " dscp=%d", pkt_tos(p->b, g.family) >> 2);
	if (!p->offload && chance(&g.r, 4)) {
		size_t pad = rrange(&g.r, 1, 40);

		if (p->len + pad <= IP_MAX) {
			rfill(&g.r, p->b + p->len, pad);
			p->len += pad;
			describe(p, " pad=%lu", (unsigned long)pad);
		}
	}
}

/* ----------------------------------------- what reaches PREROUTING */

enum reach { REACH, DROPPED, UNSURE };

/* The packet as the hook sees it, after ip_rcv/ipv6_rcv trimmed it. */
struct view {
	enum reach reach;
	const char *why;	/* DROPPED: the stack's reason */
	int family;
	size_t len;
};

/* ip6_parse_tlv() for a Hop-by-Hop header, as ipv6_rcv() runs it. */
static bool hbh_ok(const uint8_t *b, size_t len)
{
	size_t hl, off, end;
	int count = 0, padlen = 0;

	if (len < 48)
		return false;
	hl = (size_t)(b[41] + 1) * 8;
	if (40 + hl > len)
		return false;
	off = 42;
	end = 40 + hl;
	while (off < end) {
		size_t optlen, i;

		if (b[off] == 0) {
			if (++padlen > 7)
				return false;
			off++;
			continue;
		}
		if (end - off < 2)
			return false;
		optlen = (size_t)b[off + 1] + 2;
		if (optlen > end - off)
			return false;
		if (b[off] == 1) {
			padlen += (int)optlen;
			if (padlen > 7)
				return false;
			for (i = 2; i < optlen; i++)
				if (b[off + i])
					return false;
		} else {
			if (++count > 8)
				return false;
			switch (b[off]) {
			case 5:
				if (b[off + 1] != 2)
					return false;
				break;
			case 7: case 0x31: case 0xc2:
				return false;	/* not generated: drop, to be safe */
			default:
				if (b[off] >> 6)
					return false;
			}
			padlen = 0;
		}
		off += optlen;
	}
	return true;
}

static bool addr_is(const uint8_t *a, const uint8_t *b, size_t n)
{
	return !memcmp(a, b, n);
}

static void hook_view(const struct pkt *p, struct view *v)
{
	const uint8_t *b = p->b;

	v->reach = DROPPED;
	v->why = NULL;
	v->family = pkt_family(p);
	v->len = p->len;
	if (p->ethertype == ETHERTYPE_IP) {
		size_t ihl, tot;

		if (p->len < 20 || (b[0] >> 4) != 4) {
			v->why = "IpInHdrErrors";
			return;
		}
		ihl = (b[0] & 0xf) * 4;
		if (ihl < 20 || ihl > p->len) {
			v->why = "IpInHdrErrors";
			return;
		}
		if (fold(sum16(0, b, ihl)) != 0xffff) {
			v->why = "IpInCsumErrors";
			return;
		}
		tot = rd16(b + 2);
		if (tot > p->len) {
			v->why = "IpExtInTruncatedPkts";
			return;
		}
		if (tot < ihl) {
			v->why = "IpInHdrErrors";
			return;
		}
		v->len = tot;
		v->reach = REACH;
		return;
	}
	if (p->ethertype == ETHERTYPE_IPV6) {
		static const uint8_t loop6[16] = { [15] = 1 };
		size_t plen;

		if (p->len < 40 || (b[0] >> 4) != 6) {
			v->why = "Ip6InHdrErrors";
			return;
		}
		if (b[8] == 0xff || addr_is(b + 8, loop6, 16) ||
		    addr_is(b + 24, loop6, 16)) {
			v->why = "Ip6InHdrErrors";
			return;
		}
		plen = rd16(b + 4);
		if (plen || b[6] != 0) {
			if (plen + 40 > p->len) {
				v->why = "Ip6InTruncatedPkts";
				return;
			}
			v->len = plen + 40;
		} else {
			v->reach = UNSURE;	/* a jumbogram, or not */
		}
		if (b[6] == 0 && !hbh_ok(b, v->len)) {
			v->why = "Ip6InHdrErrors";
			return;
		}
		if (v->reach != UNSURE)
			v->reach = REACH;
		return;
	}
	v->why = "not IP";
}

static bool is_local(int family, const uint8_t *a)
{
	if (family == 4)
		return addr_is(a, rip4, 4) || addr_is(a, local4, 4) ||
		       addr_is(a, anyip4, 3);
	return addr_is(a, rip6, 16) || addr_is(a, local6, 16) ||
	       addr_is(a, anyip6, 8) || addr_is(a, vip6, 16);
}

/* ---------------------------------------------- the l3dsr contract */

enum counter {
	ST_REWRITTEN, ST_FRAGMENTS, ST_NOT_HOST, ST_MALFORMED, ST_ROUTING,
	ST_NOT_LOCAL, ST_PROTOCOL, ST_UNWRITABLE, ST_COUNT
};

static const char *const stat_names[ST_COUNT] = {
	"rewritten", "rewritten_fragments", "skipped_not_host",
	"skipped_malformed", "skipped_routing_header", "skipped_not_local",
	"skipped_protocol", "dropped_unwritable",
};

#define SK(s)		(1U << (s))
#define SK_ALL		(SK(ST_NOT_HOST) | SK(ST_MALFORMED) | SK(ST_ROUTING) | \
			 SK(ST_NOT_LOCAL) | SK(ST_PROTOCOL))

/*
 * Why the twins may differ. The first ones are the same in both; the rest
 * name a difference the contract (or nft's own code) explains.
 */
enum reason {
	R_SAME_REWRITTEN, R_SAME_UNMAPPED, R_SAME_LEFT, R_SAME_DROPPED,
	R_NONE,			/* a rewrite nft does just the same */
	R_NOT_LOCAL, R_NOT_HOST, R_ROUTING, R_AH, R_VRRP4, R_UNKNOWN_PROTO,
	R_PROTO_READING, R_PSEUDO, R_MALFORMED, R_TRUNC_ZONE, R_UDP4_ZERO,
	R_UDP6_ZERO, R_SHORT_FIRST, R_LATER_CSUM, R_FRAG_EXTHDR,
	R_SRR_UNCLEAR, R_CSUM_SPELLING,
	/* --twin backend: l3dsrctl's nftables backend against the module */
	R_B_NONE,		/* the chain does as the module does */
	R_B_FRAGMENT, R_B_ATOMIC, R_B_PROTOCOL, R_B_ROUTE, R_B_CUT,
	R_B_OPTIONS, R_B_GIVES_UP, R_COUNT
};

static const struct {
	const char *name, *what;
} reasons[R_COUNT] = {
	[R_SAME_REWRITTEN] = { "same_rewritten", "both twins rewrote it alike" },
	[R_SAME_UNMAPPED] = { "same_unmapped", "DSCP not mapped: both left it" },
	[R_SAME_LEFT] = { "same_left", "mapped, and both left it alone" },
	[R_SAME_DROPPED] = { "dropped_by_stack", "neither reached the hook (the stack dropped it first)" },
	[R_NONE] = { "as_nft", "rewritten as nft does it (a difference here fails)" },
	[R_NOT_LOCAL] = { "not_local", "not for this host: l3dsr leaves it (skipped_not_local), nft rewrites" },
	[R_NOT_HOST] = { "not_host", "link-layer broadcast/multicast: l3dsr leaves it (skipped_not_host)" },
	[R_ROUTING] = { "routing_header", "a Routing header with segments left, an IPv4 source route with hops left: l3dsr leaves it" },
	[R_AH] = { "protocol_ah", "AH authenticates the destination: l3dsr leaves it (skipped_protocol)" },
	[R_VRRP4] = { "protocol_vrrp4", "VRRP over IPv4, v2 or v3 unknown: l3dsr leaves it (skipped_protocol)" },
	[R_UNKNOWN_PROTO] = { "protocol_unknown", "an unknown protocol: l3dsr leaves it (skipped_protocol)" },
	[R_PROTO_READING] = { "protocol_list_reading", "GRE/ESP/SCTP/IP-in-IP/ICMP/IGMP over IPv6, IPv6-in-IP: the header's list reads either way" },
	[R_PSEUDO] = { "pseudo_csum_nft_skips", "DCCP, MH, OSPFv3, PIM, VRRP over IPv6: l3dsr adjusts the pseudo-header checksum, nft does not" },
	[R_MALFORMED] = { "malformed", "a truncated header or extension header: l3dsr leaves it (skipped_malformed)" },
	[R_TRUNC_ZONE] = { "truncated_after_csum", "a header cut between its checksum and its full size: either outcome" },
	[R_UDP4_ZERO] = { "udp4_csum_zero", "IPv4 UDP checksum 0: stays 0" },
	[R_UDP6_ZERO] = { "udp6_csum_zero", "IPv6 UDP checksum 0 (invalid): adjusted or left" },
	[R_SHORT_FIRST] = { "short_first_fragment", "a first fragment too short for the checksum: l3dsr rewrites, nft gives up" },
	[R_LATER_CSUM] = { "csum_in_later_fragment", "a later fragment carries the checksum: l3dsr adjusts it there, nft never does" },
	[R_FRAG_EXTHDR] = { "fragment_behind_exthdr", "an IPv6 fragment whose datagram's fragmentable part starts with an extension header: l3dsr leaves every fragment (skipped_protocol)" },
	[R_SRR_UNCLEAR] = { "ipv4_options_unclear", "IPv4 options that lie about their length: whether a source route is in them reads either way" },
	[R_CSUM_SPELLING] = { "csum_zero_spelling", "a checksum of zero: 0x0000 from l3dsr, 0xffff from nft, both right" },
	[R_B_NONE] = { "as_module", "the backend's chain does as the module does (a difference here fails)" },
	[R_B_FRAGMENT] = { "backend_fragment", "a fragment, no conntrack to reassemble it: the backend leaves every fragment alone" },
	[R_B_ATOMIC] = { "backend_atomic_fragment", "an IPv6 atomic fragment: the backend leaves it alone" },
	[R_B_PROTOCOL] = { "backend_protocol", "DCCP; over IPv6 MH, OSPFv3, PIM, VRRP, No Next Header: the backend leaves them alone" },
	[R_B_ROUTE] = { "backend_routing_header", "an IPv6 Routing header (no segments left too), an IPv4 source route at its first address: the backend leaves it alone" },
	[R_B_CUT] = { "backend_header_cut", "a UDP header cut short, a TCP or ICMPv6 header cut after its checksum: the backend rewrites it, the module leaves it (skipped_malformed)" },
	[R_B_OPTIONS] = { "backend_ipv4_options", "IPv4 options nftables reads as if set locally: a source route whose pointer has moved, or options it refuses, read as none: rewritten" },
	[R_B_GIVES_UP] = { "backend_rewrite_gives_up", "a TCP, UDP-Lite or ICMPv6 header cut before its checksum: both leave it, the backend's mapping counts it" },
};

/*
 * Where the module's contract leaves the choice open, the hand-written
 * rule's twin may differ either way; the backend's differences are all
 * its own (backend_documented()).
 */
static bool module_latitude(enum reason r)
{
	return r == R_PROTO_READING || r == R_TRUNC_ZONE || r == R_UDP6_ZERO ||
	       r == R_SRR_UNCLEAR || r == R_FRAG_EXTHDR;
}

/* A difference between the twins the backend's documentation names. */
static bool backend_documented(enum reason r)
{
	return r == R_B_FRAGMENT || r == R_B_ATOMIC || r == R_B_PROTOCOL ||
	       r == R_B_ROUTE || r == R_B_CUT || r == R_B_OPTIONS;
}

/* One outcome of a twin's PREROUTING. */
struct outcome {
	bool rewrite;		/* the destination became the VIP */
	int csum;		/* the transport checksum adjusted, -1: none */
	bool zero_none;		/* UDP: a 0 there stays 0 */
	bool udp;		/* UDP: never becomes 0 */
	unsigned int skips;	/* left alone: the counters that may count it */
	bool later;		/* a non-first fragment */
	bool gave_up;		/* backend: the mapping counted, no rewrite */
	enum reason reason;	/* why nft may make something else of it */
	const char *note;
};

struct expect {
	int n;
	struct outcome o[4];
};

static void expect_add(struct expect *e, struct outcome o)
{
	if (e->n < (int)(sizeof(e->o) / sizeof(e->o[0])))
		e->o[e->n++] = o;
}

static struct outcome left_alone(unsigned int skips, enum reason reason,
				 const char *note)
{
	struct outcome o = { .csum = -1, .skips = skips, .reason = reason,
			     .note = note };

	return o;
}

static struct outcome rewritten(int csum, bool later, enum reason reason,
				const char *note)
{
	struct outcome o = { .rewrite = true, .csum = csum, .later = later,
			     .reason = reason, .note = note };

	return o;
}

enum pclass { P_SKIP, P_PLAIN, P_ADJUST, P_EITHER };

struct pinfo {
	enum pclass cls;
	int csum;		/* ADJUST: where the checksum is */
	int sure;		/* ADJUST: from this length the header is whole */
	enum reason reason;	/* ADJUST: R_PSEUDO where nft does not sum */
};

/*
 * The protocol list of "Which packets a mapping rewrites". Where it reads
 * two ways (is "for IPv4" said of PIM alone or of the whole list? is
 * IPv6-in-IP "IP-in-IP"?), both outcomes are allowed. Where a header is
 * cut between its checksum and its full size, the contract does not say
 * which length "the rewrite needs": both are allowed there too.
 */
static struct pinfo proto_info(uint8_t proto, int family)
{
	struct pinfo none = { P_SKIP, -1, 0, R_UNKNOWN_PROTO };
	struct pinfo pi = none;

	switch (proto) {
	case 6:
		pi = (struct pinfo){ P_ADJUST, 16, 20, R_NONE };
		break;
	case 17:
		pi = (struct pinfo){ P_ADJUST, 6, 8, R_NONE };
		break;
	case 136:
		pi = (struct pinfo){ P_ADJUST, 6, 8, R_NONE };
		break;
	case 33:
		pi = (struct pinfo){ P_ADJUST, 6, 16, R_PSEUDO };
		break;
	case 51:
		pi.reason = R_AH;
		break;
	}
	if (pi.cls != P_SKIP || proto == 51)
		return pi;
	if (family == 4) {
		switch (proto) {
		case 1: case 2: case 4: case 47: case 50: case 132:
		case 89: case 103:
			pi.cls = P_PLAIN;
			break;
		case 41:
			pi.cls = P_EITHER;
			pi.reason = R_PROTO_READING;
			break;
		case 112:
			pi.reason = R_VRRP4;
			break;
		}
		return pi;
	}
	switch (proto) {
	case 58:
		pi = (struct pinfo){ P_ADJUST, 2, 8, R_NONE };
		break;
	case 135:
		pi = (struct pinfo){ P_ADJUST, 4, 8, R_PSEUDO };
		break;
	case 89:
		pi = (struct pinfo){ P_ADJUST, 12, 16, R_PSEUDO };
		break;
	case 103:
		pi = (struct pinfo){ P_ADJUST, 2, 8, R_PSEUDO };
		break;
	case 112:
		pi = (struct pinfo){ P_ADJUST, 6, 8, R_PSEUDO };
		break;
	case 59:
		pi.cls = P_PLAIN;
		break;
	case 1: case 2: case 4: case 41: case 47: case 50: case 132:
		pi.cls = P_EITHER;
		pi.reason = R_PROTO_READING;
		break;
	}
	return pi;
}

/*
 * The transport's part of the decision: @thoff where its header starts in
 * this packet, @foff where this packet's piece starts in the datagram's
 * fragmentable part, @first a first fragment, @later a non-first one.
 */
static void l3dsr_transport(const uint8_t *b, size_t len, int family,
			    uint8_t proto, size_t thoff, size_t foff,
			    bool first, bool later, bool offload,
			    struct expect *e)
{
	struct pinfo pi = proto_info(proto, family);
	size_t plen = len - thoff, at;
	struct outcome o;

	switch (pi.cls) {
	case P_SKIP:
		expect_add(e, left_alone(SK(ST_PROTOCOL), pi.reason,
					 "left alone: protocol"));
		return;
	case P_PLAIN:
		expect_add(e, rewritten(-1, later, R_NONE,
					"rewritten, nothing to adjust"));
		return;
	case P_EITHER:
		expect_add(e, rewritten(-1, later, R_PROTO_READING,
					"rewritten, nothing to adjust"));
		expect_add(e, left_alone(SK(ST_PROTOCOL), R_PROTO_READING,
					 "left alone: protocol"));
		return;
	case P_ADJUST:
		break;
	}
	at = (size_t)pi.csum;
	if (later) {
		if (foff <= at && at + 2 <= foff + plen)
			expect_add(e, rewritten((int)(thoff + at - foff), true,
						R_LATER_CSUM,
						"rewritten, checksum adjusted in this later fragment"));
		else
			expect_add(e, rewritten(-1, true, R_NONE,
						"rewritten, no checksum in this fragment"));
		return;
	}
	if (first && plen < at + 2) {
		expect_add(e, rewritten(-1, false, R_SHORT_FIRST,
					"rewritten, the checksum is in a later fragment"));
		return;
	}
	if (!first && plen < at + 2) {
		expect_add(e, left_alone(SK(ST_MALFORMED), R_MALFORMED,
					 "left alone: truncated header"));
		return;
	}
	o = rewritten((int)(thoff + at), false, pi.reason,
		      "rewritten, checksum adjusted");
	if (proto == 17) {
		o.udp = true;
		o.zero_none = true;
		if (!offload && !rd16(b + thoff + at))
			o.reason = family == 4 ? R_UDP4_ZERO : R_UDP6_ZERO;
	}
	expect_add(e, o);
	if (proto == 17 && family == 6 && !offload && !rd16(b + thoff + at)) {
		o.zero_none = false;
		o.note = "rewritten, the zero checksum adjusted";
		expect_add(e, o);
	}
	if (!first && plen < (size_t)pi.sure) {
		e->o[e->n - 1].reason = R_TRUNC_ZONE;
		expect_add(e, left_alone(SK(ST_MALFORMED), R_TRUNC_ZONE,
					 "left alone: truncated header"));
	}
}

/*
 * What the Fragment header of a fragment may name for its datagram to be
 * rewritten: a transport. An extension header there (AH too, which is
 * left alone anyway) may put the transport header in any fragment or in
 * none, so the whole datagram is left alone.
 */
static bool frag_exthdr(uint8_t next)
{
	return next == 0 || next == 43 || next == 44 || next == 51 ||
	       next == 60;
}

/* Walks the IPv6 extension headers as the contract says: README, SHAPES. */
static void l3dsr_ipv6(const uint8_t *b, size_t len, bool offload,
		       struct expect *e)
{
	size_t off = 40, foff = 0;
	uint8_t next = b[6];
	bool first = false;

	for (;;) {
		size_t hl;
		unsigned int skips = 0;

		switch (next) {
		case 0:
		case 43:
		case 60:
			if (off + 2 > len || (next == 43 && off + 4 > len)) {
				expect_add(e, left_alone(SK(ST_MALFORMED),
							 R_MALFORMED,
							 "left alone: extension header past the end"));
				return;
			}
			hl = (size_t)(b[off + 1] + 1) * 8;
			if (next == 43 && b[off + 3])
				skips |= SK(ST_ROUTING);
			if (off + hl > len)
				skips |= SK(ST_MALFORMED);
			if (skips) {
				bool rh = skips & SK(ST_ROUTING);

				expect_add(e, left_alone(skips, rh ? R_ROUTING :
							 R_MALFORMED, rh ?
							 "left alone: segments left" :
							 "left alone: extension header past the end"));
				return;
			}
			next = b[off];
			off += hl;
			continue;
		case 44:
			if (off + 8 > len) {
				expect_add(e, left_alone(SK(ST_MALFORMED),
							 R_MALFORMED,
							 "left alone: fragment header past the end"));
				return;
			}
			foff = rd16(b + off + 2) & 0xfff8;
			next = b[off];
			/*
			 * A fragment: every fragment of the datagram carries
			 * this next header, and one decision holds for all.
			 */
			/*
			 * No Next Header: a transport that carries nothing
			 * of the destination, or an extension header as
			 * ipv6_ext_hdr() counts it; the contract reads
			 * either way.
			 */
			if ((foff || (b[off + 3] & 1)) && next == 59) {
				expect_add(e, rewritten(-1, foff != 0,
							R_FRAG_EXTHDR,
							"rewritten, nothing to adjust"));
				expect_add(e, left_alone(SK(ST_PROTOCOL),
							 R_FRAG_EXTHDR,
							 "left alone: no next header, read as an extension header"));
				return;
			}
			if ((foff || (b[off + 3] & 1)) && frag_exthdr(next)) {
				expect_add(e, left_alone(SK(ST_PROTOCOL) |
							 (next == 43 ?
							  SK(ST_ROUTING) : 0),
							 R_FRAG_EXTHDR,
							 "left alone: the fragmentable part starts with an extension header"));
				return;
			}
			if (foff) {
				off += 8;
				goto later;
			}
			if (b[off + 3] & 1)
				first = true;
			off += 8;
			continue;
		case 51:
			expect_add(e, left_alone(SK(ST_PROTOCOL), R_AH,
						 "left alone: AH"));
			return;
		default:
			l3dsr_transport(b, len, 6, next, off, 0, first, false,
					offload, e);
			return;
		}
	}
later:
	l3dsr_transport(b, len, 6, next, off, foff, false, true, offload, e);
}

/*
 * Whether the IPv4 options in b[20..@ihl) hold a loose or strict source
 * route with route data left (its pointer not past its end): 1, with
 * none or only spent ones: 0; -1 where an option lies about its length
 * before a source route with hops left is found, so that the options read
 * either way (the stack drops them).
 */
static int ipv4_srr_left(const uint8_t *b, size_t ihl)
{
	size_t off = 20, optlen;

	while (off < ihl) {
		if (b[off] == 0)
			return 0;
		if (b[off] == 1) {
			off++;
			continue;
		}
		if (off + 2 > ihl)
			return -1;
		optlen = b[off + 1];
		if (optlen < 2 || off + optlen > ihl)
			return -1;
		if (b[off] == 0x83 || b[off] == 0x89) {
			if (optlen < 3)
				return -1;
			if (b[off + 2] <= optlen)
				return 1;
		}
		off += optlen;
	}
	return 0;
}

/* Starts E; true when the DSCP is not mapped, which no twin rewrites. */
static bool expect_unmapped(const uint8_t *b, int family, struct expect *e)
{
	e->n = 0;
	if ((pkt_tos(b, family) >> 2) == MAPPED_DSCP)
		return false;
	expect_add(e, left_alone(0, R_SAME_UNMAPPED,
				 "left alone: DSCP not mapped"));
	return true;
}

static void l3dsr_expect(const struct pkt *p, const struct view *v,
			 struct expect *e)
{
	const uint8_t *b = p->b;
	int family = v->family;
	unsigned int skips = 0;
	enum reason reason = R_NONE;
	int i;

	if (expect_unmapped(b, family, e))
		return;
	if (p->l2 != L2_HOST) {
		skips |= SK(ST_NOT_HOST);
		reason = R_NOT_HOST;
	}
	if (!is_local(family, pkt_dst(b, family))) {
		skips |= SK(ST_NOT_LOCAL);
		if (reason == R_NONE)
			reason = R_NOT_LOCAL;
	}
	if (family == 4) {
		size_t ihl = (b[0] & 0xf) * 4;
		size_t foff = (rd16(b + 6) & 0x1fff) * 8;
		bool more = b[6] & 0x20;

		int srr = ipv4_srr_left(b, ihl);

		if (srr > 0)
			expect_add(e, left_alone(SK(ST_ROUTING), R_ROUTING,
						 "left alone: a source route with hops left"));
		else
			l3dsr_transport(b, v->len, 4, b[9], ihl, foff,
					!foff && more, foff != 0, p->offload,
					e);
		if (srr < 0) {
			for (i = 0; i < e->n; i++)
				e->o[i].reason = R_SRR_UNCLEAR;
			expect_add(e, left_alone(SK(ST_ROUTING) |
						 SK(ST_MALFORMED),
						 R_SRR_UNCLEAR,
						 "left alone: options read as a source route"));
		}
	} else {
		l3dsr_ipv6(b, v->len, p->offload, e);
	}
	if (!skips)
		return;
	/* not for this host: left alone whatever the rest says */
	for (i = 0; i < e->n; i++)
		skips |= e->o[i].skips;
	e->n = 0;
	expect_add(e, left_alone(skips, reason,
				 reason == R_NOT_HOST ?
				 "left alone: not addressed to this host (link layer)" :
				 "left alone: not for this host"));
}

/* -------------------------------------------------------- nft's rule */

static bool nft_ext_hdr(uint8_t n)
{
	return n == 0 || n == 43 || n == 44 || n == 51 || n == 59 || n == 60;
}

/* ipv6_find_hdr(skb, &thoff, -1, &fragoff, IP6_FH_F_AUTH); -1: failed */
static int nft_find_hdr(const uint8_t *b, size_t len, size_t *thoff,
			size_t *fragoff)
{
	size_t start = 40, hdrlen;
	uint8_t nexthdr = b[6];

	*fragoff = 0;
	*thoff = 0;
	for (;;) {
		if (!nft_ext_hdr(nexthdr) || nexthdr == 59) {
			*thoff = start;
			return nexthdr;
		}
		if (start + 2 > len)
			return -1;
		if (nexthdr == 43 && start + 4 > len)
			return -1;
		if (nexthdr == 44) {
			size_t fo;

			if (start + 4 > len)
				return -1;
			fo = rd16(b + start + 2) & ~7U;
			if (fo) {
				if (!nft_ext_hdr(b[start]) || b[start] == 59) {
					*fragoff = fo;
					return b[start];
				}
				return -1;
			}
			hdrlen = 8;
		} else if (nexthdr != 51) {
			hdrlen = (size_t)(b[start + 1] + 1) * 8;
		} else {
			*thoff = start;
			return 51;
		}
		if (len - start < hdrlen)
			return -1;
		nexthdr = b[start];
		start += hdrlen;
	}
}

/*
 * nft_payload_set_eval() for `ip[6] daddr set VIP` with its checksum
 * flags: the IPv4 header checksum first, then the L4 one, then the
 * address. *broken: it gave up after the IPv4 header checksum (the TCP
 * checksum is past the end), which leaves the address as it was.
 */
static struct outcome nft_expect(const struct pkt *p, const struct view *v,
				 bool *broken)
{
	const uint8_t *b = p->b;
	struct outcome o = { .rewrite = true, .csum = -1 };
	size_t thoff, fragoff, len = v->len;
	int tprot;

	*broken = false;
	if ((pkt_tos(b, v->family) >> 2) != MAPPED_DSCP) {
		o.rewrite = false;
		return o;
	}
	if (v->family == 4) {
		tprot = b[9];
		thoff = (b[0] & 0xf) * 4;
		fragoff = rd16(b + 6) & 0x1fff;
	} else {
		tprot = nft_find_hdr(b, len, &thoff, &fragoff);
		if (tprot < 0) {
			tprot = 0;
			thoff = 0;
			fragoff = 0;
		}
	}
	if (fragoff)
		return o;
	switch (tprot) {
	case 6:
		if (thoff + 18 > len)
			goto broken;
		o.csum = (int)(thoff + 16);
		break;
	case 17:
		if (thoff + 8 > len || !rd16(b + thoff + 6))
			break;
		o.csum = (int)(thoff + 6);
		o.udp = true;
		break;
	case 136:
		if (thoff + 8 > len)
			goto broken;
		o.csum = (int)(thoff + 6);
		break;
	case 58:
		if (thoff + 4 > len)
			goto broken;
		o.csum = (int)(thoff + 2);
		break;
	}
	return o;
broken:
	*broken = true;
	o.rewrite = false;
	return o;
}

/* ------------------------------------- l3dsrctl's nftables backend */

/*
 * The backend's chain (tools/nft.c), in table inet l3dsr at -310, for a
 * mapping that is up, not nonlocal, not clear-dscp:
 *
 *   ip dscp / @nh,0,16 & 0x0fc0 vmap      the DSCP mapped, else nothing
 *   meta pkttype host, meta iifkind != "vrf"
 *   IPv4: ip frag-off & 0x3fff == 0, ip option lsrr/ssrr missing,
 *         meta l4proto { 1 2 4 6 17 41 47 50 89 103 132 136 }
 *   IPv6: exthdr frag missing, exthdr rt missing,
 *         meta l4proto { 4 6 17 41 47 50 58 132 136 }
 *   fib daddr . mark type local, or fib daddr . mark . iif type local;
 *         else counted (skipped_not_local)
 *   daddr set (the map's element counted first), counted (rewritten)
 *
 * No conntrack is loaded in the twin, so fragments reach it as they are.
 */

/*
 * Whether "ip option lsrr/ssrr" finds a source route: nft_exthdr.c's
 * ipv4_find_option() runs __ip_options_compile() without the packet, which
 * checks the options as if this host had set them (a source route's pointer
 * must be 4, its length 3 + 4n): 1 found, 0 missing (none, or options it
 * refuses), -1 either (CIPSO, which it checks further).
 */
static int nft_ipv4_srr(const uint8_t *b, size_t ihl)
{
	const uint8_t *o = b + 20;
	size_t l = ihl > 20 ? ihl - 20 : 0, optlen;
	bool srr = false, rr = false, ts = false, cipso = false;

	while (l > 0) {
		if (o[0] == 0)
			break;
		if (o[0] == 1) {
			l--;
			o++;
			continue;
		}
		if (l < 2)
			return 0;
		optlen = o[1];
		if (optlen < 2 || optlen > l)
			return 0;
		switch (o[0]) {
		case 0x83:
		case 0x89:
			if (optlen < 3 || o[2] < 4 || srr || o[2] != 4 ||
			    optlen < 7 || ((optlen - 3) & 3))
				return 0;
			srr = true;
			break;
		case 0x07:
			if (rr || optlen < 3 || o[2] < 4 ||
			    (o[2] <= optlen && (size_t)o[2] + 3 > optlen))
				return 0;
			rr = true;
			break;
		case 0x44:
			if (ts || optlen < 4 || o[2] < 5)
				return 0;
			if (o[2] <= optlen) {
				if ((size_t)o[2] + 3 > optlen)
					return 0;
				if (((o[3] & 0xf) == 1 || (o[3] & 0xf) == 3) &&
				    (size_t)o[2] + 7 > optlen)
					return 0;
			} else if ((o[3] & 0xf) != 3 && (o[3] >> 4) == 15) {
				return 0;
			}
			ts = true;
			break;
		case 0x94:
			if (optlen < 4)
				return 0;
			break;
		case 0x86:
			if (cipso)
				return 0;
			cipso = true;
			break;
		}
		l -= optlen;
		o += optlen;
	}
	if (!srr)
		return 0;
	return cipso ? -1 : 1;
}

/*
 * ipv6_find_hdr(skb, &offset, target, NULL, NULL), as "exthdr frag" and
 * "exthdr rt" run it: where the header is, or -1 if it is missing.
 */
static long nft_has_hdr(const uint8_t *b, size_t len, uint8_t target)
{
	size_t start = 40, hdrlen;
	uint8_t nexthdr = b[6];

	for (;;) {
		bool found = nexthdr == target;

		if (!nft_ext_hdr(nexthdr) || nexthdr == 59)
			return -1;
		if (start + 2 > len)
			return -1;
		if (nexthdr == 43 && start + 4 > len)
			return -1;
		if (nexthdr == 44) {
			if (start + 4 > len)
				return -1;
			if (rd16(b + start + 2) & ~7U) {
				if (!found)
					return -1;
				return (long)start;
			}
			hdrlen = 8;
		} else if (nexthdr == 51) {
			hdrlen = (size_t)(b[start + 1] + 2) * 4;
		} else {
			hdrlen = (size_t)(b[start + 1] + 1) * 8;
		}
		if (found)
			return (long)start;
		nexthdr = b[start];
		start += hdrlen;
	}
}

static bool backend_proto(int family, int proto)
{
	static const uint8_t v4[] = { 1, 2, 4, 6, 17, 41, 47, 50, 89, 103,
				      132, 136 };
	static const uint8_t v6[] = { 4, 6, 17, 41, 47, 50, 58, 132, 136 };
	const uint8_t *set = family == 4 ? v4 : v6;
	size_t n = family == 4 ? sizeof(v4) : sizeof(v6), i;

	for (i = 0; i < n; i++)
		if (set[i] == proto)
			return true;
	return false;
}

/* What the module rewrites and the backend's protocol list leaves out. */
static bool backend_proto_documented(int family, int proto)
{
	return proto == 33 || (family == 6 && (proto == 135 || proto == 89 ||
					       proto == 103 || proto == 112 ||
					       proto == 59));
}

/*
 * What the backend's chain makes of a packet. An outcome left alone with
 * SK(ST_NOT_LOCAL) in skips is one the chain counts as not local.
 */
static void backend_expect(const struct pkt *p, const struct view *v,
			   struct expect *e)
{
	const uint8_t *b = p->b;
	int family = v->family, proto;
	enum reason reason = R_B_NONE;
	struct outcome o;
	bool broken;

	if (expect_unmapped(b, family, e))
		return;
	if (p->l2 != L2_HOST) {
		expect_add(e, left_alone(0, R_B_NONE,
					 "left alone: meta pkttype not host"));
		return;
	}
	if (family == 4) {
		size_t ihl = (b[0] & 0xf) * 4;
		int srr = nft_ipv4_srr(b, ihl);

		if (rd16(b + 6) & 0x3fff) {
			expect_add(e, left_alone(0, R_B_FRAGMENT,
						 "left alone: a fragment"));
			return;
		}
		if (srr > 0) {
			expect_add(e, left_alone(0, R_B_ROUTE,
						 "left alone: a source route"));
			return;
		}
		if (srr < 0)
			expect_add(e, left_alone(0, R_B_OPTIONS,
						 "left alone: options read as a source route"));
		if (ipv4_srr_left(b, ihl))
			reason = R_B_OPTIONS;
		proto = b[9];
	} else {
		long fh = nft_has_hdr(b, v->len, 44);
		size_t thoff, fragoff;

		if (fh >= 0) {
			bool atomic = !(rd16(b + fh + 2) & 0xfff9);

			expect_add(e, left_alone(0, atomic ? R_B_ATOMIC :
						 R_B_FRAGMENT, atomic ?
						 "left alone: an atomic fragment" :
						 "left alone: a fragment"));
			return;
		}
		if (nft_has_hdr(b, v->len, 43) >= 0) {
			expect_add(e, left_alone(0, R_B_ROUTE,
						 "left alone: a Routing header"));
			return;
		}
		proto = nft_find_hdr(b, v->len, &thoff, &fragoff);
	}
	if (!backend_proto(family, proto)) {
		expect_add(e, left_alone(0, backend_proto_documented(family,
								     proto) ?
					 R_B_PROTOCOL : R_B_NONE,
					 "left alone: meta l4proto"));
		return;
	}
	if (!is_local(family, pkt_dst(b, family))) {
		expect_add(e, left_alone(SK(ST_NOT_LOCAL), R_B_NONE,
					 "left alone: fib says not local"));
		return;
	}
	o = nft_expect(p, v, &broken);
	if (broken) {
		o = left_alone(0, R_B_GIVES_UP,
			       "left alone: the rewrite gives up (its checksum is past the end)");
		o.gave_up = true;
		expect_add(e, o);
		return;
	}
	o.reason = reason;
	o.note = "rewritten";
	if (proto == 17 || proto == 6 || proto == 58) {
		size_t thoff = (size_t)(b[0] & 0xf) * 4, fragoff;

		if (family == 6)
			nft_find_hdr(b, v->len, &thoff, &fragoff);
		/* the module needs the whole header: 20 bytes for TCP */
		if (thoff + (proto == 6 ? 20 : 8) > v->len) {
			o.reason = R_B_CUT;
			o.note = "rewritten, its header cut short";
		}
	}
	expect_add(e, o);
}

/* ------------------------------------ applying and copying an outcome */

/* The bytes a twin's PREROUTING leaves, from the packet the hook saw. */
static void apply(const struct pkt *p, const struct view *v,
		  const struct outcome *o, uint8_t *out)
{
	int family = v->family;
	size_t n = alen(family);
	uint8_t *dst = out + (family == 4 ? 16 : 24);
	uint16_t from, to;

	memcpy(out, p->b, v->len);
	if (!o->rewrite)
		return;
	from = fold(sum16(0, dst, n));
	to = fold(sum16(0, vip_of(family), n));
	memcpy(dst, vip_of(family), n);
	if (family == 4)
		ipv4_set_check(out);
	if (o->csum >= 0 && (size_t)o->csum + 2 <= v->len) {
		uint16_t c = rd16(out + o->csum);

		/*
		 * CHECKSUM_PARTIAL: the field holds the pseudo-header sum,
		 * whatever the header says of where the checksum is
		 */
		if (p->offload) {
			c = oc_add(c, oc_sub(to, from));
		} else if (!(o->zero_none && !c)) {
			c = oc_add(c, oc_sub(from, to));
			if (o->udp && !c)
				c = 0xffff;
		}
		wr16(out + o->csum, c);
	}
}

/*
 * What nf_dup makes of it on its way to the observer: TTL or hop limit
 * minus one, IPv4 DF set and its header checksum computed anew
 * (ip_local_out); a checksum left to offload is completed by the observer
 * device, whose tx offload is off (skb_checksum_help).
 */
static void dup_copy(const struct pkt *p, const struct view *v, uint8_t *b)
{
	if (v->family == 4) {
		b[8]--;
		b[6] |= 0x40;
		ipv4_set_check(b);
	} else {
		b[7]--;
		wr16(b + 4, v->len - 40 <= 0xffff ? (uint16_t)(v->len - 40) : 0);
	}
	if (p->offload) {
		size_t start = p->csum_start, at = start + p->csum_off;

		if (at + 2 <= v->len)
			wr16(b + at, csum_field(sum16(0, b + start,
						      v->len - start)));
	}
}

/*
 * 0: @a and @b are one packet; 1: they differ only in how a checksum of
 * zero is spelled, at @at1 or @at2 (0x0000 and 0xffff, both right, but for
 * UDP where 0 means none); -1: they differ.
 */
static int compare(const uint8_t *a, size_t alen_, const uint8_t *b,
		   size_t blen, int at1, int at2, bool udp)
{
	int ats[2] = { at1, at2 }, i, spelled = 0;

	if (alen_ != blen)
		return -1;
	if (!memcmp(a, b, alen_))
		return 0;
	for (i = 0; i < 2; i++) {
		size_t at = (size_t)ats[i];
		uint16_t x, y;

		if (ats[i] < 0 || at + 2 > alen_)
			continue;
		x = rd16(a + at);
		y = rd16(b + at);
		if (x == y || udp)
			continue;
		if ((x == 0 && y == 0xffff) || (x == 0xffff && y == 0)) {
			if (memcmp(a, b, at) ||
			    memcmp(a + at + 2, b + at + 2, alen_ - at - 2))
				return -1;
			spelled = 1;
		}
	}
	return spelled ? 1 : -1;
}

/* ------------------------------------------------------ network io */

enum { CAP_L_DUP, CAP_L_FWD, CAP_N_DUP, CAP_N_FWD, CAP_COUNT };

static const char *const cap_names[CAP_COUNT] = {
	"l3dsr twin dup", "l3dsr twin forward", "nft twin dup",
	"nft twin forward",
};

struct capture {
	uint8_t b[PKT_MAX];
	size_t len;
	int count;
	bool csum_not_ready;
};

struct io {
	int tx, tx_vnet;
	int in_ifindex[2];
	uint8_t in_mac[2][6];
	int rx[CAP_COUNT];
};

static int ifindex_of(const char *name)
{
	unsigned int i = if_nametoindex(name);

	if (!i) {
		fprintf(stderr, "%s: no device %s\n", progname, name);
		exit(1);
	}
	return (int)i;
}

static void io_open(struct io *io, char **devs)
{
	int one = 1, t, i, rcvbuf = 64 << 20;

	io->tx = socket(AF_PACKET, SOCK_RAW, 0);
	io->tx_vnet = socket(AF_PACKET, SOCK_RAW, 0);
	if (io->tx < 0 || io->tx_vnet < 0)
		die("AF_PACKET socket");
	setsockopt(io->tx, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	setsockopt(io->tx_vnet, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
		   sizeof(one));
	if (setsockopt(io->tx_vnet, SOL_PACKET, PACKET_VNET_HDR, &one,
		       sizeof(one)))
		die("PACKET_VNET_HDR");
	for (t = 0; t < 2; t++) {
		struct ifreq ifr;

		io->in_ifindex[t] = ifindex_of(devs[t * 3]);
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", devs[t * 3]);
		if (ioctl(io->tx, SIOCGIFHWADDR, &ifr))
			die(devs[t * 3]);
		memcpy(io->in_mac[t], ifr.ifr_hwaddr.sa_data, 6);
	}
	for (i = 0; i < CAP_COUNT; i++) {
		static const int dev_of[CAP_COUNT] = { 1, 2, 4, 5 };
		struct sockaddr_ll sll;
		int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));

		if (fd < 0)
			die("AF_PACKET socket");
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
			       sizeof(rcvbuf)))
			die("SO_RCVBUFFORCE");
		if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one,
			       sizeof(one)))
			die("PACKET_AUXDATA");
		memset(&sll, 0, sizeof(sll));
		sll.sll_family = AF_PACKET;
		sll.sll_protocol = htons(ETH_P_ALL);
		sll.sll_ifindex = ifindex_of(devs[dev_of[i]]);
		if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
			die("bind");
		if (fcntl(fd, F_SETFL, O_NONBLOCK))
			die("O_NONBLOCK");
		io->rx[i] = fd;
	}
}

/* Writes @p into twin @t; false if the kernel refused it. */
static bool io_send(struct io *io, int t, const struct pkt *p)
{
	uint8_t frame[sizeof(struct virtio_net_hdr) + 14 + PKT_MAX];
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)frame;
	size_t hl = p->offload ? sizeof(*vh) : 0, len;
	uint8_t *eth = frame + hl;
	struct sockaddr_ll sll;
	const uint8_t *mac = twin_mac;

	if (p->l2 == L2_BCAST)
		mac = bcast_mac;
	else if (p->l2 == L2_MCAST)
		mac = pkt_family(p) == 6 ? mcast6_mac : mcast4_mac;
	memcpy(eth, mac, 6);
	memcpy(eth + 6, io->in_mac[t], 6);
	wr16(eth + 12, p->ethertype);
	memcpy(eth + 14, p->b, p->len);
	len = hl + 14 + p->len;
	if (p->offload) {
		memset(vh, 0, sizeof(*vh));
		vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh->gso_type = VIRTIO_NET_HDR_GSO_NONE;
		vh->csum_start = htole16((uint16_t)(14 + p->csum_start));
		vh->csum_offset = htole16(p->csum_off);
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = io->in_ifindex[t];
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, mac, 6);
	return sendto(p->offload ? io->tx_vnet : io->tx, frame, len, 0,
		      (struct sockaddr *)&sll, sizeof(sll)) == (ssize_t)len;
}

/* ------------------------------------------------------------ the run */

struct slot {
	struct pkt p;
	uint64_t index;
	const char *origin;	/* corpus "FILE:LINE", or NULL: random */
	bool sent;
	struct capture cap[CAP_COUNT];
};

struct group {
	char sig[200];
	unsigned long count;
	uint64_t first_index;
	const char *origin;
};

struct bounds {
	unsigned long lo, hi;
};

struct run {
	uint64_t seed;
	bool verbose;
	struct io io;
	struct pkt sentinel;
	unsigned long sent, failures, details, noise, late, model_gaps;
	unsigned long fwd_checked;
	unsigned long reason_count[R_COUNT];	/* the twins differed */
	unsigned long reason_seen[R_COUNT];	/* a rule that applied */
	struct group groups[MAX_GROUPS];
	int ngroups;
	/* the l3dsr twin's counters, as the packets account for them */
	struct bounds stat[ST_COUNT];
	unsigned long marked;
	struct bounds map_packets[2], map_bytes[2];
	/* --twin backend: the second twin is l3dsrctl's nftables backend */
	bool backend;
	struct bounds b_rewritten, b_not_local;
	struct bounds b_map_packets[2], b_map_bytes[2];
};

static void build_sentinel(struct pkt *p)
{
	struct gen g = { .family = 4 };
	uint8_t *ip = p->b, *udp = p->b + 20;
	static const char text[] = "l3dsr_pktfuzz sentinel";

	memset(p, 0, sizeof(*p));
	p->ethertype = ETHERTYPE_IP;
	id_src(4, SENTINEL_ID, g.src);
	memcpy(g.dst, rip4, 4);
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)(20 + 8 + sizeof(text)));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, g.src, 4);
	memcpy(ip + 16, g.dst, 4);
	ipv4_set_check(ip);
	wr16(udp, 9);
	wr16(udp + 2, 9);
	wr16(udp + 4, (uint16_t)(8 + sizeof(text)));
	memcpy(udp + 8, text, sizeof(text));
	set_pseudo_csum(&g, udp, 8 + sizeof(text), 17, 6, 8 + sizeof(text));
	p->len = 20 + 8 + sizeof(text);
	snprintf(p->desc, sizeof(p->desc), "sentinel");
}

static bool is_noise(const uint8_t *ip, size_t len, uint16_t et)
{
	if (et != ETHERTYPE_IP && et != ETHERTYPE_IPV6)
		return true;
	/* the twins' own IPv6: link-local or unspecified sources, ND, MLD */
	if (et == ETHERTYPE_IPV6 && len >= 40 &&
	    ((ip[8] == 0xfe && (ip[9] & 0xc0) == 0x80) ||
	     (!ip[8] && !ip[9] && !ip[10] && !ip[11]) || ip[24] == 0xff))
		return true;
	return false;
}

/* Reads what has arrived; sets *sentinels bits 1 (l3dsr) and 2 (nft). */
static void drain(struct run *run, struct slot *slots, int n, bool by_id,
		  uint64_t first_index, unsigned int *sentinels)
{
	static uint8_t frame[65536];
	int c;

	for (c = 0; c < CAP_COUNT; c++) {
		for (;;) {
			uint8_t cbuf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
			struct sockaddr_ll sll;
			struct iovec iov = { frame, sizeof(frame) };
			struct msghdr msg = {
				.msg_name = &sll, .msg_namelen = sizeof(sll),
				.msg_iov = &iov, .msg_iovlen = 1,
				.msg_control = cbuf,
				.msg_controllen = sizeof(cbuf),
			};
			struct cmsghdr *cm;
			bool not_ready = false;
			ssize_t got = recvmsg(run->io.rx[c], &msg, 0);
			const uint8_t *ip = frame + 14;
			size_t len;
			uint32_t id;
			int s;

			if (got < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN)
					break;
				die("recvmsg");
			}
			if (sll.sll_pkttype == PACKET_OUTGOING || got < 14)
				continue;
			for (cm = CMSG_FIRSTHDR(&msg); cm;
			     cm = CMSG_NXTHDR(&msg, cm)) {
				struct tpacket_auxdata aux;

				if (cm->cmsg_level != SOL_PACKET ||
				    cm->cmsg_type != PACKET_AUXDATA)
					continue;
				memcpy(&aux, CMSG_DATA(cm), sizeof(aux));
				not_ready = aux.tp_status &
					    TP_STATUS_CSUMNOTREADY;
			}
			len = (size_t)got - 14;
			if (is_noise(ip, len, rd16(frame + 12))) {
				run->noise++;
				continue;
			}
			id = id_of(ip, len);
			if (id == SENTINEL_ID && (ip[0] >> 4) == 4) {
				if (c == CAP_L_DUP)
					*sentinels |= 1;
				else if (c == CAP_N_DUP)
					*sentinels |= 2;
				continue;
			}
			if (by_id) {
				if (!id || id - 1 < first_index ||
				    id - 1 >= first_index + (uint64_t)n) {
					if (id)
						run->late++;
					else
						run->noise++;
					continue;
				}
				s = (int)(id - 1 - first_index);
			} else {
				s = 0;
			}
			if (len > PKT_MAX)
				len = PKT_MAX;
			if (!slots[s].cap[c].count++) {
				memcpy(slots[s].cap[c].b, ip, len);
				slots[s].cap[c].len = len;
				slots[s].cap[c].csum_not_ready = not_ready;
			}
		}
	}
}

/* Sends the batch, then a sentinel to each twin, and collects the copies. */
static void exchange(struct run *run, struct slot *slots, int n, bool by_id,
		     uint64_t first_index)
{
	unsigned int sentinels = 0;
	double deadline;
	int i, t;

	for (i = 0; i < n; i++) {
		memset(slots[i].cap, 0, sizeof(slots[i].cap));
		slots[i].sent = io_send(&run->io, 0, &slots[i].p) &&
				io_send(&run->io, 1, &slots[i].p);
		if (!slots[i].sent) {
			printf("# FAIL packet %llu (%s): the kernel refused to send it: %s\n",
			       (unsigned long long)slots[i].index,
			       slots[i].p.desc, strerror(errno));
			run->failures++;
		}
		run->sent++;
	}
	for (t = 0; t < 2; t++)
		if (!io_send(&run->io, t, &run->sentinel))
			die("sending the sentinel");
	deadline = now() + SENTINEL_WAIT_MS / 1000.0;
	while (sentinels != 3) {
		struct pollfd pfd[CAP_COUNT];
		int c;

		drain(run, slots, n, by_id, first_index, &sentinels);
		if (sentinels == 3)
			break;
		if (now() > deadline) {
			fprintf(stderr, "%s: the sentinel did not come back from the %s twin: the capture path is broken\n",
				progname, sentinels & 1 ? "nft" : "l3dsr");
			exit(1);
		}
		for (c = 0; c < CAP_COUNT; c++) {
			pfd[c].fd = run->io.rx[c];
			pfd[c].events = POLLIN;
		}
		poll(pfd, CAP_COUNT, 100);
	}
	drain(run, slots, n, by_id, first_index, &sentinels);
}

static void print_hex_line(const char *label, const uint8_t *b, size_t len)
{
	printf("#     %s: ", label);
	if (!b)
		printf("nothing");
	else
		hex_out(stdout, b, len);
	printf("\n");
}

static const char *observed_kind(const struct view *v, const struct capture *c,
				 const struct pkt *p)
{
	static char buf[96];
	uint8_t plain[PKT_MAX];
	struct outcome none = { .csum = -1 };
	size_t dpos = v->family == 4 ? 16 : 24, n = alen(v->family), i;
	bool dst_vip;

	if (!c->count)
		return "nothing (dropped)";
	apply(p, v, &none, plain);
	dup_copy(p, v, plain);
	if (c->len == v->len && !memcmp(plain, c->b, v->len))
		return "left alone";
	dst_vip = c->len >= dpos + n && !memcmp(c->b + dpos, vip_of(v->family), n);
	for (i = 0; i < c->len && i < v->len; i++) {
		if (i >= dpos && i < dpos + n)
			continue;
		if (v->family == 4 && (i == 10 || i == 11))
			continue;
		if (plain[i] != c->b[i])
			break;
	}
	if (c->len != v->len)
		snprintf(buf, sizeof(buf), "%s, length %zu", dst_vip ?
			 "rewritten" : "destination kept", c->len);
	else if (i >= c->len)
		snprintf(buf, sizeof(buf), "%s, nothing else changed",
			 dst_vip ? "rewritten" : "destination kept");
	else
		snprintf(buf, sizeof(buf), "%s, bytes changed from offset %zu",
			 dst_vip ? "rewritten" : "destination kept", i);
	return buf;
}

static void replay_hint(const struct run *run, const struct slot *s)
{
	printf("#     replay: FUZZ_REPLAY=");
	token_out(stdout, &s->p);
	if (!s->origin)
		printf("  (or FUZZ_SEED=%llu FUZZ_INDEX=%llu)",
		       (unsigned long long)run->seed,
		       (unsigned long long)s->index);
	printf("\n");
}

/* Offsets and lengths in a failure's kind become N, so that kinds group. */
static void sig_normalize(char *sig)
{
	char *r = sig, *w = sig;

	while (*r) {
		if (*r >= '0' && *r <= '9' && r > sig && r[-1] == ' ') {
			while (*r >= '0' && *r <= '9')
				r++;
			*w++ = 'N';
			continue;
		}
		*w++ = *r++;
	}
	*w = 0;
}

/*
 * Fails a packet. @got says what was wrong with it, or NULL: what the copy
 * @c shows (left alone, rewritten, ...).
 */
static void fail_packet(struct run *run, const struct slot *s,
			const struct view *v, const char *what,
			const char *expected, const uint8_t *exp_b,
			const struct capture *c, const char *got)
{
	struct group *g = NULL;
	char sig[200];
	int i;

	run->failures++;
	snprintf(sig, sizeof(sig), "v%d %s: %s; expected %s, got %s",
		 v->family, proto_name(v->family == 4 ? s->p.b[9] : s->p.b[6],
				       v->family),
		 what, expected, got ? got : observed_kind(v, c, &s->p));
	sig_normalize(sig);
	for (i = 0; i < run->ngroups; i++)
		if (!strcmp(run->groups[i].sig, sig))
			g = &run->groups[i];
	if (!g && run->ngroups < MAX_GROUPS) {
		g = &run->groups[run->ngroups++];
		snprintf(g->sig, sizeof(g->sig), "%s", sig);
		g->first_index = s->index;
		g->origin = s->origin;
	}
	if (g && g->count++ >= 2 && !run->verbose)
		return;
	if (run->details++ >= MAX_DETAILS && !run->verbose)
		return;
	printf("# FAIL %s packet %llu: %s\n", s->origin ? s->origin : "random",
	       (unsigned long long)s->index, what);
	printf("#     packet: %s\n", s->p.desc);
	replay_hint(run, s);
	printf("#     expected: %s\n", expected);
	print_hex_line("expected", exp_b, v->len);
	print_hex_line("observed", c->count ? c->b : NULL, c->len);
}

static void bound_add(struct bounds *b, unsigned long lo, unsigned long hi)
{
	b->lo += lo;
	b->hi += hi;
}

/*
 * The l3dsr twin's counters: what one packet that reached the hook adds,
 * given the outcomes its copy matched (@n of them, 0: none did). A rewrite
 * to the address a packet already had leaves it as it was: its copy
 * matches both outcomes, and only the counters tell them apart.
 */
static void account(struct run *run, const struct slot *s,
		    const struct view *v, const struct outcome *const *o,
		    int n)
{
	int fam = v->family == 4 ? 0 : 1, st, i, rewrites = 0;
	unsigned int skips = 0;
	bool later = false;

	if ((pkt_tos(s->p.b, v->family) >> 2) != MAPPED_DSCP)
		return;
	run->marked++;
	for (i = 0; i < n; i++) {
		if (o[i]->rewrite) {
			rewrites++;
			later |= o[i]->later;
		} else {
			skips |= o[i]->skips;
		}
	}
	if (!n) {
		/* no outcome matched: a rewrite or any skip */
		rewrites = 1;
		later = true;
		skips = SK_ALL | SK(ST_UNWRITABLE);
	}
	if (rewrites) {
		unsigned long sure = rewrites == n;

		bound_add(&run->stat[ST_REWRITTEN], sure, 1);
		if (later)
			bound_add(&run->stat[ST_FRAGMENTS], sure, 1);
		bound_add(&run->map_packets[fam], sure, 1);
		bound_add(&run->map_bytes[fam], sure ? v->len : 0, v->len);
	}
	for (st = ST_NOT_HOST; st < ST_COUNT; st++) {
		if (!(skips & SK(st)))
			continue;
		bound_add(&run->stat[st], !rewrites && skips == SK(st), 1);
	}
}

/*
 * The backend twin's counters: rewritten, skipped_not_local, and the
 * mapping's, which its element counts at the lookup, before the rewrite
 * (that may give up). @n outcomes matched, 0: none did.
 */
static void account_backend(struct run *run, const struct view *v,
			    const struct outcome *const *o, int n)
{
	int fam = v->family == 4 ? 0 : 1, i, rewrites = 0, looked = 0;
	int not_local = 0;

	for (i = 0; i < n; i++) {
		rewrites += o[i]->rewrite;
		looked += o[i]->rewrite || o[i]->gave_up;
		not_local += !!(o[i]->skips & SK(ST_NOT_LOCAL));
	}
	if (!n) {
		bound_add(&run->b_rewritten, 0, 1);
		bound_add(&run->b_not_local, 0, 1);
		bound_add(&run->b_map_packets[fam], 0, 1);
		bound_add(&run->b_map_bytes[fam], 0, v->len);
		return;
	}
	if (rewrites)
		bound_add(&run->b_rewritten, rewrites == n, 1);
	if (not_local)
		bound_add(&run->b_not_local, not_local == n, 1);
	if (looked) {
		bound_add(&run->b_map_packets[fam], looked == n, 1);
		bound_add(&run->b_map_bytes[fam], looked == n ? v->len : 0,
			  v->len);
	}
}

static void describe_outcome(const struct outcome *o, char *buf, size_t len)
{
	if (o->rewrite && o->csum >= 0)
		snprintf(buf, len, "%s (checksum at %d)", o->note, o->csum);
	else
		snprintf(buf, len, "%s", o->note);
}

/*
 * Whether a forwarded copy carries the dup copy's bytes after @ihl. When
 * the header's length lies, forwarding may change what it takes for
 * options (ip_options_compile() clears all after an End of List), and a
 * checksum left to offload that starts there then comes out otherwise.
 */
static bool same_payload(const struct pkt *p, const struct capture *d,
			 const struct capture *f, size_t ihl)
{
	size_t at = (size_t)p->csum_start + p->csum_off, i;

	for (i = ihl; i < f->len; i++) {
		if (p->offload && p->csum_start < ihl &&
		    (i == at || i == at + 1))
			continue;
		if (d->b[i] != f->b[i])
			return false;
	}
	return true;
}

/*
 * The outcomes of @e whose copy is what @c holds, into @all in @e's order
 * (the first is the one a packet is judged by); how many.
 */
static int match_outcomes(const struct pkt *p, const struct view *v,
			  const struct expect *e, const struct capture *c,
			  int offload_at, const struct outcome **all)
{
	uint8_t exp[PKT_MAX];
	int i, n = 0;

	for (i = 0; i < e->n && c->count; i++) {
		apply(p, v, &e->o[i], exp);
		dup_copy(p, v, exp);
		if (compare(c->b, c->len, exp, v->len, e->o[i].csum, offload_at,
			    e->o[i].udp) >= 0)
			all[n++] = &e->o[i];
	}
	return n;
}

/* Fails @s, whose copy @c is none of @e's outcomes: @what, and each one. */
static void fail_unmatched(struct run *run, const struct slot *s,
			   const struct view *v, const char *what,
			   const struct expect *e, const struct capture *c)
{
	uint8_t exp[PKT_MAX];
	char want[400];
	size_t used = 0;
	int i;

	for (i = 0; i < e->n; i++) {
		char one[120];

		describe_outcome(&e->o[i], one, sizeof(one));
		used += (size_t)snprintf(want + used, sizeof(want) - used,
					 "%s%s", i ? " or " : "", one);
		if (used >= sizeof(want))
			break;
	}
	apply(&s->p, v, &e->o[0], exp);
	dup_copy(&s->p, v, exp);
	fail_packet(run, s, v, what, want, exp, c, NULL);
}

/*
 * The backend twin's copy against what its chain does: the outcome it
 * matched (the first of those in @be), its counters accounted; or NULL,
 * the packet failed.
 */
static const struct outcome *judge_backend(struct run *run, struct slot *s,
					   const struct view *v, int offload_at,
					   struct expect *be)
{
	struct capture *cn = &s->cap[CAP_N_DUP];
	const struct outcome *all[4];
	int n;

	backend_expect(&s->p, v, be);
	n = match_outcomes(&s->p, v, be, cn, offload_at, all);
	if ((pkt_tos(s->p.b, v->family) >> 2) == MAPPED_DSCP)
		account_backend(run, v, all, n);
	if (!n) {
		fail_unmatched(run, s, v, "the backend twin did not do what its chain does",
			       be, cn);
		return NULL;
	}
	return all[0];
}

/* Judges one packet by both models; counts its reason, or fails it. */
static void judge(struct run *run, struct slot *s)
{
	uint8_t exp_n[PKT_MAX];
	struct capture *cl = &s->cap[CAP_L_DUP], *cn = &s->cap[CAP_N_DUP];
	const struct outcome *all[4], *matched, *bmatched;
	struct outcome on;
	int nmatched;
	struct expect e, be;
	struct view v;
	bool broken;
	int i, cmp_n, cmp_ln, offload_at = -1;
	char what[200];

	hook_view(&s->p, &v);
	if (!s->sent)
		return;
	for (i = 0; i < CAP_COUNT; i++) {
		if (s->cap[i].count > 1) {
			snprintf(what, sizeof(what), "%d copies from the %s",
				 s->cap[i].count, cap_names[i]);
			fail_packet(run, s, &v, what, "one", NULL, &s->cap[i],
				    "more");
			return;
		}
		if (s->cap[i].count && s->cap[i].csum_not_ready) {
			fail_packet(run, s, &v, "a copy still waits for its checksum (tx offload on an observer device?)",
				    "completed checksums", NULL, &s->cap[i],
				    "CHECKSUM_PARTIAL");
			return;
		}
	}
	if (!cl->count && !cn->count) {
		if (v.reach == REACH) {
			fail_packet(run, s, &v, "neither twin passed it on, yet the stack takes it",
				    "a copy from each twin", NULL, cl, NULL);
			return;
		}
		run->reason_count[R_SAME_DROPPED]++;
		return;
	}
	if (v.reach == DROPPED) {
		/* the stack took what the model says it drops */
		run->model_gaps++;
		if (run->verbose)
			printf("# note: packet %llu passed, though the model of the stack says %s\n",
			       (unsigned long long)s->index, v.why);
		v.len = cl->count ? cl->len : cn->len;
	}
	if (v.len > s->p.len)
		v.len = s->p.len;
	if (s->p.offload)
		offload_at = s->p.csum_start + s->p.csum_off;

	l3dsr_expect(&s->p, &v, &e);
	nmatched = match_outcomes(&s->p, &v, &e, cl, offload_at, all);
	account(run, s, &v, all, nmatched);
	if (!nmatched) {
		fail_unmatched(run, s, &v, "l3dsr did not do what the contract says",
			       &e, cl);
		return;
	}
	matched = all[0];

	if (run->backend) {
		bmatched = judge_backend(run, s, &v, offload_at, &be);
		if (!bmatched)
			return;
		on = *bmatched;
		run->reason_seen[bmatched->reason]++;
	} else {
		on = nft_expect(&s->p, &v, &broken);
		apply(&s->p, &v, &on, exp_n);
		dup_copy(&s->p, &v, exp_n);
		cmp_n = cn->count ? compare(cn->b, cn->len, exp_n, v.len,
					    on.csum, offload_at, on.udp) : -1;
		if (cmp_n < 0) {
			fail_packet(run, s, &v, "the nft twin did not do what nft_payload.c does",
				    on.rewrite ? "rewritten" : (broken ?
				    "left alone (the rule gives up)" : "left alone"),
				    exp_n, cn, NULL);
			return;
		}
	}

	run->reason_seen[matched->reason]++;

	/*
	 * The forwarded IPv4 copies must carry a right header checksum, but
	 * where a checksum left to offload lies in the header (its length
	 * lies): completed on the way out, after the header's.
	 */
	for (i = CAP_L_FWD; i < CAP_COUNT; i += 2) {
		struct capture *f = &s->cap[i], *d = &s->cap[i - 1];
		const char *bad = NULL;
		size_t ihl;

		if (!f->count)
			continue;
		ihl = f->len >= 20 ? (size_t)(f->b[0] & 0xf) * 4 : 0;
		if (f->len < 20 || (f->b[0] >> 4) != 4 || ihl < 20 ||
		    ihl > f->len)
			bad = "not an IPv4 packet";
		else if (fold(sum16(0, f->b, ihl)) != 0xffff &&
			 !(offload_at >= 0 && (size_t)offload_at < ihl))
			bad = "a wrong IPv4 header checksum";
		else if (memcmp(f->b + 16, vip4, 4))
			bad = "a destination other than the VIP";
		else if (!d->count || d->len != f->len ||
			 !same_payload(&s->p, d, f, ihl))
			bad = "a payload other than the dup copy's";
		if (bad) {
			fail_packet(run, s, &v, i == CAP_L_FWD ?
				    "the l3dsr twin forwarded a wrong copy" :
				    "the nft twin forwarded a wrong copy",
				    "the VIP, a right IPv4 header and the dup copy's payload",
				    d->count ? d->b : NULL, f, bad);
			return;
		}
		run->fwd_checked++;
	}

	cmp_ln = compare(cl->b, cl->len, cn->b, cn->len, matched->csum,
			 on.csum >= 0 ? on.csum : offload_at, matched->udp);
	if (cmp_ln == 0) {
		if (s->cap[CAP_L_FWD].count != s->cap[CAP_N_FWD].count) {
			fail_packet(run, s, &v, "one twin forwarded it and the other did not",
				    "both or neither", NULL,
				    &s->cap[CAP_L_FWD], s->cap[CAP_L_FWD].count ?
				    "only the l3dsr twin" : "only the nft twin");
			return;
		}
		if (matched->reason == R_SAME_UNMAPPED)
			run->reason_count[R_SAME_UNMAPPED]++;
		else if (matched->rewrite)
			run->reason_count[R_SAME_REWRITTEN]++;
		else
			run->reason_count[R_SAME_LEFT]++;
		return;
	}
	if (cmp_ln > 0) {
		run->reason_count[R_CSUM_SPELLING]++;
		return;
	}
	if (run->backend) {
		/* rewritten by both: byte for byte */
		if (matched->rewrite && on.rewrite) {
			fail_packet(run, s, &v, "both twins rewrote it, and not alike",
				    "the backend twin's packet", cn->b, cl,
				    NULL);
			return;
		}
		if (backend_documented(on.reason)) {
			run->reason_count[on.reason]++;
			return;
		}
		snprintf(what, sizeof(what), "the twins differ, and no documented difference says why (module: %s; backend: %s)",
			 matched->note, on.note);
		fail_packet(run, s, &v, what, "the backend twin's packet",
			    cn->b, cl, NULL);
		return;
	}
	if (matched->reason <= R_NONE) {
		snprintf(what, sizeof(what), "the twins differ, and no rule says why (l3dsr: %s)",
			 matched->note);
		fail_packet(run, s, &v, what, "the nft twin's packet", cn->b,
			    cl, NULL);
		return;
	}
	run->reason_count[matched->reason]++;
}

static void run_batch(struct run *run, struct slot *slots, int n, bool by_id,
		      uint64_t first_index)
{
	int i;

	exchange(run, slots, n, by_id, first_index);
	for (i = 0; i < n; i++)
		judge(run, &slots[i]);
}

/* Replays one corpus file: one packet per batch, matched by position. */
static void run_corpus(struct run *run, struct slot *slot, const char *path)
{
	static char origin[4096][64];
	static int norigins;
	char line[8192];
	unsigned long lineno = 0, n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f)) {
		char *t = line;
		const char *base = strrchr(path, '/');

		lineno++;
		while (*t == ' ' || *t == '\t')
			t++;
		if (*t == '#' || *t == '\n' || !*t)
			continue;
		if (!token_parse(t, &slot->p)) {
			fprintf(stderr, "%s: %s:%lu: not a replay token\n",
				progname, path, lineno);
			exit(2);
		}
		if (strchr(t, '#'))
			snprintf(slot->p.desc, sizeof(slot->p.desc), "%s",
				 strchr(t, '#') + 1);
		slot->p.desc[strcspn(slot->p.desc, "\n")] = 0;
		if (norigins < 4096) {
			snprintf(origin[norigins], sizeof(origin[0]), "%s:%lu",
				 base ? base + 1 : path, lineno);
			slot->origin = origin[norigins++];
		} else {
			slot->origin = "corpus";
		}
		slot->index = lineno;
		run_batch(run, slot, 1, false, 0);
		n++;
	}
	fclose(f);
	printf("# corpus %s: %lu packets\n", path, n);
}

static void report(struct run *run, unsigned long random_count,
		   double seconds)
{
	int i;

	printf("# seed %llu: %lu packets sent to each twin, %lu random, in %.1f s (%.0f packets/s)\n",
	       (unsigned long long)run->seed, run->sent, random_count,
	       seconds, seconds > 0 ? run->sent / seconds : 0.0);
	printf("# %-30s %8s %8s  %s\n", "outcome", "seen", "differed",
	       "why");
	for (i = 0; i < R_COUNT; i++) {
		unsigned long seen = i < R_NONE ? run->reason_count[i] :
				     run->reason_seen[i];
		char differed[24] = "-";

		/* each mode its own rows; the module's latitude seen in both */
		if (run->backend ? i >= R_NONE && i != R_CSUM_SPELLING &&
				   i < R_B_NONE && !module_latitude(i) :
				   i >= R_B_NONE)
			continue;
		if (i == R_CSUM_SPELLING && run->backend)
			seen = run->reason_count[i];

		if (i >= R_NONE)
			snprintf(differed, sizeof(differed), "%lu",
				 run->reason_count[i]);
		printf("# %-30s %8lu %8s  %s\n", reasons[i].name, seen,
		       differed, reasons[i].what);
	}
	printf("# %-30s %8lu %8s  %s\n", "failed", run->failures, "-",
	       "not what a model says (details above)");
	printf("# forwarded IPv4 copies checked: %lu; observer noise ignored: %lu; late copies: %lu; stack model gaps: %lu\n",
	       run->fwd_checked, run->noise, run->late, run->model_gaps);
	if (run->ngroups) {
		printf("# failures by kind:\n");
		for (i = 0; i < run->ngroups; i++) {
			printf("#   %6lu x %s (first: %s %llu)\n",
			       run->groups[i].count, run->groups[i].sig,
			       run->groups[i].origin ? run->groups[i].origin :
			       "index", (unsigned long long)run->groups[i].first_index);
		}
	}
	/* for the script: the l3dsr twin's counters */
	printf("expect marked %lu %lu\n", run->marked, run->marked);
	for (i = 0; i < ST_COUNT; i++)
		printf("expect %s %lu %lu\n", stat_names[i], run->stat[i].lo,
		       run->stat[i].hi);
	for (i = 0; i < 2; i++)
		printf("expect mapping_%s %lu %lu %lu %lu\n",
		       i ? "inet6" : "inet", run->map_packets[i].lo,
		       run->map_packets[i].hi, run->map_bytes[i].lo,
		       run->map_bytes[i].hi);
	if (!run->backend)
		return;
	/* and the backend twin's */
	printf("expect backend_rewritten %lu %lu\n", run->b_rewritten.lo,
	       run->b_rewritten.hi);
	printf("expect backend_skipped_not_local %lu %lu\n",
	       run->b_not_local.lo, run->b_not_local.hi);
	for (i = 0; i < 2; i++)
		printf("expect backend_mapping_%s %lu %lu %lu %lu\n",
		       i ? "inet6" : "inet", run->b_map_packets[i].lo,
		       run->b_map_packets[i].hi, run->b_map_bytes[i].lo,
		       run->b_map_bytes[i].hi);
}

static void check_drops(struct run *run)
{
	int c;

	for (c = 0; c < CAP_COUNT; c++) {
		struct tpacket_stats st;
		socklen_t l = sizeof(st);

		if (getsockopt(run->io.rx[c], SOL_PACKET, PACKET_STATISTICS,
			       &st, &l))
			die("PACKET_STATISTICS");
		if (st.tp_drops) {
			printf("# FAIL the %s capture lost %u copies\n",
			       cap_names[c], st.tp_drops);
			run->failures++;
		}
	}
}

static void show(const struct pkt *p, bool backend)
{
	uint8_t b[PKT_MAX];
	struct outcome on;
	struct expect e;
	struct view v;
	bool broken;
	int i;

	token_out(stdout, p);
	printf("\n# %s\n", p->desc);
	hook_view(p, &v);
	if (v.reach == DROPPED) {
		printf("# the stack drops it before PREROUTING (%s)\n", v.why);
		return;
	}
	printf("# the hook sees %zu bytes%s\n", v.len,
	       v.reach == UNSURE ? " (if the stack takes it)" : "");
	l3dsr_expect(p, &v, &e);
	for (i = 0; i < e.n; i++) {
		char d[160];

		describe_outcome(&e.o[i], d, sizeof(d));
		printf("# l3dsr%s: %s [%s]\n", e.n > 1 ? " may" : "", d,
		       reasons[e.o[i].reason].name);
		apply(p, &v, &e.o[i], b);
		dup_copy(p, &v, b);
		print_hex_line("dup copy", b, v.len);
	}
	if (backend) {
		backend_expect(p, &v, &e);
		for (i = 0; i < e.n; i++) {
			char d[160];

			describe_outcome(&e.o[i], d, sizeof(d));
			printf("# backend%s: %s [%s]\n", e.n > 1 ? " may" : "",
			       d, reasons[e.o[i].reason].name);
			apply(p, &v, &e.o[i], b);
			dup_copy(p, &v, b);
			print_hex_line("dup copy", b, v.len);
		}
		return;
	}
	on = nft_expect(p, &v, &broken);
	printf("# nft: %s%s\n", on.rewrite ? "rewritten" : "left alone",
	       broken ? " (the rule gives up: its checksum is past the end)" :
	       "");
	apply(p, &v, &on, b);
	dup_copy(p, &v, b);
	print_hex_line("dup copy", b, v.len);
}

static const struct option long_options[] = {
	{ "seed", required_argument, NULL, 's' },
	{ "count", required_argument, NULL, 'n' },
	{ "corpus", required_argument, NULL, 'c' },
	{ "index", required_argument, NULL, 'i' },
	{ "replay", required_argument, NULL, 'r' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "twin", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	const char *corpus[64], *token = NULL, *mode;
	uint64_t seed = 1, index = 0, count = 1000;
	bool index_given = false, count_given = false, verbose = false;
	bool backend = false;
	int ncorpus = 0, opt;

	if (argc < 2)
		usage();
	mode = argv[1];
	if (!strcmp(mode, "env")) {
		print_env();
		return 0;
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "s:n:c:i:r:vt:", long_options,
				  NULL)) != -1) {
		switch (opt) {
		case 's':
			seed = parse_u64(optarg, "seed", UINT64_MAX);
			break;
		case 'n':
			count = parse_u64(optarg, "count", MAX_COUNT);
			count_given = true;
			break;
		case 'c':
			if (ncorpus >= 64)
				usage();
			corpus[ncorpus++] = optarg;
			break;
		case 'i':
			index = parse_u64(optarg, "index", MAX_COUNT - 1);
			index_given = true;
			break;
		case 'r':
			token = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 't':
			if (!strcmp(optarg, "backend")) {
				backend = true;
			} else if (strcmp(optarg, "rule")) {
				fprintf(stderr, "%s: --twin is rule or backend, not \"%s\"\n",
					progname, optarg);
				return 2;
			}
			break;
		default:
			usage();
		}
	}

	if (!strcmp(mode, "show") || !strcmp(mode, "list")) {
		struct pkt p;
		uint64_t i;

		if (!strcmp(mode, "list")) {
			if (!count_given || optind != argc)
				usage();
			for (i = index; i < index + count; i++) {
				gen_packet(seed, i, &p);
				printf("%llu ", (unsigned long long)i);
				token_out(stdout, &p);
				printf(" # %s\n", p.desc);
			}
			return 0;
		}
		if (optind != argc || (!token && !index_given))
			usage();
		if (token) {
			if (!token_parse(token, &p)) {
				fprintf(stderr, "%s: not a replay token\n",
					progname);
				return 2;
			}
		} else {
			gen_packet(seed, index, &p);
		}
		show(&p, backend);
		return 0;
	}

	if (strcmp(mode, "run") || argc - optind != 6)
		usage();
	{
		static struct slot slots[BATCH];
		static struct run run;
		unsigned long random_count = 0;
		cpu_set_t cpus;
		double start;
		int c, cpu;

		run.seed = seed;
		run.verbose = verbose;
		run.backend = backend;
		/* one CPU: every copy queues behind the ones before it */
		cpu = sched_getcpu();
		CPU_ZERO(&cpus);
		CPU_SET(cpu < 0 ? 0 : cpu, &cpus);
		sched_setaffinity(0, sizeof(cpus), &cpus);
		io_open(&run.io, argv + optind);
		build_sentinel(&run.sentinel);
		start = now();
		setvbuf(stdout, NULL, _IOLBF, 0);
		for (c = 0; c < ncorpus; c++)
			run_corpus(&run, &slots[0], corpus[c]);
		if (token) {
			if (!token_parse(token, &slots[0].p)) {
				fprintf(stderr, "%s: not a replay token\n",
					progname);
				return 2;
			}
			slots[0].origin = "replay";
			slots[0].index = 0;
			run_batch(&run, slots, 1, false, 0);
		} else if (index_given) {
			gen_packet(seed, index, &slots[0].p);
			slots[0].origin = NULL;
			slots[0].index = index;
			run_batch(&run, slots, 1, false, 0);
			random_count = 1;
		} else {
			uint64_t first;

			for (first = 0; first < count; first += BATCH) {
				int n = count - first < BATCH ?
					(int)(count - first) : BATCH, i;

				for (i = 0; i < n; i++) {
					gen_packet(seed, first + i, &slots[i].p);
					slots[i].origin = NULL;
					slots[i].index = first + i;
				}
				run_batch(&run, slots, n, true, first);
				random_count += n;
			}
		}
		check_drops(&run);
		report(&run, random_count, now() - start);
		return run.failures ? 1 : 0;
	}
}
