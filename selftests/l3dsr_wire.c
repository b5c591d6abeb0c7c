// SPDX-License-Identifier: GPL-2.0
/*
 * l3dsr_wire: put exact frames on a link and look at what a link carried,
 * below the IP stack, for the packet-shape selftests.
 *
 *   l3dsr_wire [-t TOS] [-n COUNT] send DEV DSTMAC SHAPE SRC DST PORT
 *	Write COUNT (default 1) Ethernet frames of the given SHAPE from SRC
 *	to DST (both IPv4 or both IPv6) on DEV through an AF_PACKET socket,
 *	to the station DSTMAC. Every byte is ours: the IP header, its
 *	extension headers and the transport header, checksums computed for
 *	DST as a balancer would leave them. TOS is the whole traffic class
 *	byte (default 0x28, DSCP 10). Shapes (see shape_table below):
 *	  udp tcp-short udp-short udp-len-long       (either family)
 *	  ip-short ihl-small ihl-past-end totlen-long ip-options  (IPv4)
 *	  ip-short paylen-long dstopts-short rthdr-sl0 rthdr-sl1  (IPv6)
 *
 *   l3dsr_wire capture DEV ADDR_A ADDR_B
 *	Open an AF_PACKET socket on DEV, say "ready" on stdout, and let
 *	frames queue up unread until SIGUSR1; then read them all and print
 *	"ADDR_A N ADDR_B M bad K": how many incoming TCP and UDP packets were
 *	addressed to each, and how many of those had a wrong transport
 *	checksum. The frames are read only after the stack has handled its own
 *	copy, so a hook that wrote into data it shares with the capture
 *	shows up here as the address it wrote.
 *
 * Exit 0 on success, 1 on failure, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define FRAME_MAX	2048
#define PAYLOAD_LEN	32
#define CAPTURE_RCVBUF	(32 << 20)

static const char *progname = "l3dsr_wire";

static void usage(void)
{
	fprintf(stderr,
		"usage: %s [-t TOS] [-n COUNT] send DEV DSTMAC SHAPE SRC DST PORT\n"
		"       %s capture DEV ADDR_A ADDR_B\n", progname, progname);
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", progname, what, strerror(errno));
	exit(1);
}

static void bad(const char *what, const char *text)
{
	fprintf(stderr, "%s: bad %s \"%s\"\n", progname, what, text);
	exit(2);
}

static unsigned long parse_number(const char *text, const char *what,
				  unsigned long max)
{
	unsigned long value;
	char *end;

	errno = 0;
	value = strtoul(text, &end, 0);
	if (errno || end == text || *end || value > max)
		bad(what, text);
	return value;
}

/* An address of either family, kept in network byte order. */
struct address {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

static void parse_address(const char *text, struct address *addr)
{
	if (inet_pton(AF_INET, text, &addr->v4) == 1)
		addr->family = AF_INET;
	else if (inet_pton(AF_INET6, text, &addr->v6) == 1)
		addr->family = AF_INET6;
	else
		bad("address", text);
}

/* ------------------------------------------------------------ checksums */

static uint32_t sum16(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* The transport checksum over a pseudo-header and @len bytes at @l4. */
static uint16_t l4_checksum(const struct address *src,
			    const struct address *dst, uint8_t proto,
			    const void *l4, size_t len)
{
	uint32_t sum = 0;

	if (src->family == AF_INET) {
		sum = sum16(sum, &src->v4, 4);
		sum = sum16(sum, &dst->v4, 4);
	} else {
		sum = sum16(sum, &src->v6, 16);
		sum = sum16(sum, &dst->v6, 16);
	}
	sum += proto + (uint32_t)len;
	return fold(sum16(sum, l4, len));
}

/* ---------------------------------------------------------- frame shapes */

/*
 * What a shape changes of an otherwise well-formed packet. The IP header
 * fields and the transport header are built from these; a shape is a short
 * list of lies.
 */
struct shape {
	const char *name;
	int family;		/* AF_UNSPEC: either */
	uint8_t proto;		/* IPPROTO_UDP or IPPROTO_TCP */
	int l4_keep;		/* bytes of the transport part to send; -1 all */
	int udp_len_extra;	/* added to the UDP length field */
	int ip_keep;		/* bytes of the IP packet to send; -1 all */
	int ihl;		/* IPv4 IHL in words; 0: 5, or 6 with options */
	bool ip_options;	/* IPv4: a Router Alert option */
	int len_extra;		/* added to the IP total/payload length */
	/* IPv6 routing header type 0: segments left, -1 for none */
	int rthdr_left;
	/* IPv6: a Destination Options header longer than the packet */
	bool dstopts_short;
};

static const struct shape shape_table[] = {
	{ .name = "udp", .l4_keep = -1, .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "tcp-short", .proto = IPPROTO_TCP, .l4_keep = 10,
	  .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "udp-short", .l4_keep = 4, .ip_keep = -1,
	  .rthdr_left = -1 },
	{ .name = "udp-len-long", .l4_keep = -1, .udp_len_extra = 100,
	  .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "ip-short", .l4_keep = -1, .ip_keep = 12,
	  .rthdr_left = -1 },
	{ .name = "ihl-small", .family = AF_INET, .l4_keep = -1,
	  .ip_keep = -1, .ihl = 4, .rthdr_left = -1 },
	{ .name = "ihl-past-end", .family = AF_INET, .l4_keep = 8,
	  .ip_keep = -1, .ihl = 15, .rthdr_left = -1 },
	{ .name = "totlen-long", .family = AF_INET, .l4_keep = -1,
	  .ip_keep = -1, .len_extra = 100, .rthdr_left = -1 },
	{ .name = "ip-options", .family = AF_INET, .l4_keep = -1,
	  .ip_keep = -1, .ip_options = true, .rthdr_left = -1 },
	{ .name = "paylen-long", .family = AF_INET6, .l4_keep = -1,
	  .ip_keep = -1, .len_extra = 100, .rthdr_left = -1 },
	{ .name = "dstopts-short", .family = AF_INET6, .l4_keep = -1,
	  .ip_keep = -1, .dstopts_short = true, .rthdr_left = -1 },
	{ .name = "rthdr-sl0", .family = AF_INET6, .l4_keep = -1,
	  .ip_keep = -1, .rthdr_left = 0 },
	{ .name = "rthdr-sl1", .family = AF_INET6, .l4_keep = -1,
	  .ip_keep = -1, .rthdr_left = 1 },
};

static const struct shape *find_shape(const char *name, int family)
{
	size_t i;

	for (i = 0; i < sizeof(shape_table) / sizeof(shape_table[0]); i++) {
		const struct shape *s = &shape_table[i];

		if (strcmp(s->name, name))
			continue;
		if (s->family != AF_UNSPEC && s->family != family) {
			fprintf(stderr, "%s: shape %s is %s only\n", progname,
				name, s->family == AF_INET ? "IPv4" : "IPv6");
			exit(2);
		}
		return s;
	}
	bad("shape", name);
	return NULL;
}

/*
 * The transport part: a UDP datagram or a TCP SYN, whole and with a right
 * checksum for SRC -> DST. Returns its length.
 */
static size_t build_l4(uint8_t *p, const struct shape *s,
		       const struct address *src, const struct address *dst,
		       uint16_t port, unsigned long seq)
{
	uint8_t proto = s->proto ? s->proto : IPPROTO_UDP;
	size_t len, i;

	if (proto == IPPROTO_UDP) {
		struct udphdr *uh = (struct udphdr *)p;

		len = sizeof(*uh) + PAYLOAD_LEN;
		memset(uh, 0, sizeof(*uh));
		uh->source = htons(40000);
		uh->dest = htons(port);
		uh->len = htons(len + s->udp_len_extra);
		for (i = 0; i < PAYLOAD_LEN; i++)
			p[sizeof(*uh) + i] = (uint8_t)(seq * 7 + i);
		uh->check = l4_checksum(src, dst, proto, p, len);
		if (!uh->check)
			uh->check = 0xffff;
	} else {
		struct tcphdr *th = (struct tcphdr *)p;

		len = sizeof(*th);
		memset(th, 0, sizeof(*th));
		th->source = htons(40000);
		th->dest = htons(port);
		th->seq = htonl(seq);
		th->doff = sizeof(*th) / 4;
		th->syn = 1;
		th->window = htons(65535);
		th->check = l4_checksum(src, dst, proto, p, len);
	}
	return len;
}

static size_t build_ipv4(uint8_t *pkt, const struct shape *s, uint8_t tos,
			 const struct address *src, const struct address *dst,
			 uint16_t port, unsigned long seq)
{
	struct iphdr *iph = (struct iphdr *)pkt;
	size_t hlen = s->ip_options ? 24 : 20;
	size_t l4len;

	memset(iph, 0, hlen);
	l4len = build_l4(pkt + hlen, s, src, dst, port, seq);
	if (s->l4_keep >= 0)
		l4len = s->l4_keep;
	iph->version = 4;
	iph->ihl = s->ihl ? (size_t)s->ihl : hlen / 4;
	iph->tos = tos;
	iph->tot_len = htons(hlen + l4len + s->len_extra);
	iph->id = htons((uint16_t)seq);
	iph->ttl = 64;
	iph->protocol = s->proto ? s->proto : IPPROTO_UDP;
	iph->saddr = src->v4.s_addr;
	iph->daddr = dst->v4.s_addr;
	if (s->ip_options) {
		/* Router Alert: harmless to a host, real to parse. */
		pkt[20] = 0x94;
		pkt[21] = 4;
	}
	iph->check = fold(sum16(0, iph, hlen));
	return hlen + l4len;
}

static size_t build_ipv6(uint8_t *pkt, const struct shape *s, uint8_t tclass,
			 const struct address *src, const struct address *dst,
			 uint16_t port, unsigned long seq)
{
	struct ip6_hdr *ip6 = (struct ip6_hdr *)pkt;
	uint8_t proto = s->proto ? s->proto : IPPROTO_UDP;
	uint8_t *next = &ip6->ip6_nxt;
	size_t off = sizeof(*ip6);
	size_t l4len;

	memset(ip6, 0, sizeof(*ip6));
	ip6->ip6_flow = htonl(6U << 28 | (uint32_t)tclass << 20);
	ip6->ip6_hlim = 64;
	ip6->ip6_src = src->v6;
	ip6->ip6_dst = dst->v6;

	if (s->rthdr_left >= 0) {
		/*
		 * Type 0 with one address: the next waypoint when segments
		 * are left, a spent route otherwise. The upper-layer
		 * checksum uses the final destination, which for a spent
		 * route is the one in the IPv6 header.
		 */
		uint8_t *rh = pkt + off;

		*next = IPPROTO_ROUTING;
		memset(rh, 0, 24);
		rh[1] = 2;		/* (2 + 1) * 8 = 24 bytes */
		rh[2] = 0;		/* type 0 */
		rh[3] = s->rthdr_left;
		memcpy(rh + 8, &src->v6, 16);
		next = &rh[0];
		off += 24;
	}
	if (s->dstopts_short) {
		/* Says 88 bytes; the packet ends 8 bytes in. */
		uint8_t *dh = pkt + off;

		*next = IPPROTO_DSTOPTS;
		memset(dh, 0, 8);
		dh[1] = 10;
		dh[2] = 1;		/* PadN over the rest */
		dh[3] = 4;
		next = &dh[0];
		off += 8;
	}
	*next = proto;
	l4len = build_l4(pkt + off, s, src, dst, port, seq);
	if (s->l4_keep >= 0)
		l4len = s->l4_keep;
	if (s->dstopts_short)
		l4len = 0;
	ip6->ip6_plen = htons(off - sizeof(*ip6) + l4len + s->len_extra);
	return off + l4len;
}

static void parse_mac(const char *text, uint8_t *mac)
{
	unsigned int b[ETH_ALEN];
	int i;

	if (sscanf(text, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5]) != ETH_ALEN)
		bad("MAC address", text);
	for (i = 0; i < ETH_ALEN; i++) {
		if (b[i] > 0xff)
			bad("MAC address", text);
		mac[i] = b[i];
	}
}

static int send_frames(int argc, char **argv, uint8_t tos,
		       unsigned long count)
{
	static uint8_t frame[FRAME_MAX];
	struct ether_header *eth = (struct ether_header *)frame;
	struct address src, dst;
	const struct shape *s;
	struct sockaddr_ll sll;
	struct ifreq ifr;
	unsigned long i;
	uint16_t port;
	int fd;

	if (argc != 6)
		usage();
	if (strlen(argv[0]) >= IFNAMSIZ)
		bad("device", argv[0]);
	parse_mac(argv[1], eth->ether_dhost);
	parse_address(argv[3], &src);
	parse_address(argv[4], &dst);
	if (src.family != dst.family) {
		fprintf(stderr, "%s: %s and %s are not of one family\n",
			progname, argv[3], argv[4]);
		exit(2);
	}
	s = find_shape(argv[2], src.family);
	port = parse_number(argv[5], "port", 65535);

	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		die("AF_PACKET socket");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, argv[0]);
	if (ioctl(fd, SIOCGIFINDEX, &ifr))
		die(argv[0]);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifr.ifr_ifindex;
	sll.sll_halen = ETH_ALEN;
	memcpy(sll.sll_addr, eth->ether_dhost, ETH_ALEN);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		die(argv[0]);
	memcpy(eth->ether_shost, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	eth->ether_type = htons(src.family == AF_INET ? ETHERTYPE_IP :
				ETHERTYPE_IPV6);

	for (i = 0; i < count; i++) {
		uint8_t *pkt = frame + sizeof(*eth);
		size_t len;

		if (src.family == AF_INET)
			len = build_ipv4(pkt, s, tos, &src, &dst, port, i);
		else
			len = build_ipv6(pkt, s, tos, &src, &dst, port, i);
		if (s->ip_keep >= 0)
			len = s->ip_keep;
		len += sizeof(*eth);
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll,
			   sizeof(sll)) != (ssize_t)len)
			die("send");
	}
	close(fd);
	return 0;
}

/* ------------------------------------------------------------- capture */

static volatile sig_atomic_t drain_now;

static void on_usr1(int sig)
{
	(void)sig;
	drain_now = 1;
}

/* An IPv4 or IPv6 packet carrying TCP or UDP (no extension headers). */
static bool is_transport(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

static bool is_destination(const uint8_t *pkt, size_t len, uint16_t proto,
			   const struct address *addr)
{
	if (proto == ETHERTYPE_IP && addr->family == AF_INET)
		return len >= sizeof(struct iphdr) &&
		       is_transport(pkt[offsetof(struct iphdr, protocol)]) &&
		       !memcmp(pkt + offsetof(struct iphdr, daddr),
			       &addr->v4, 4);
	if (proto == ETHERTYPE_IPV6 && addr->family == AF_INET6)
		return len >= sizeof(struct ip6_hdr) &&
		       is_transport(pkt[offsetof(struct ip6_hdr, ip6_nxt)]) &&
		       !memcmp(pkt + offsetof(struct ip6_hdr, ip6_dst),
			       &addr->v6, 16);
	return false;
}

/*
 * Whether the TCP or UDP checksum of a whole, unfragmented packet is right
 * (is_destination has checked the protocol). A packet cut short by the
 * capture or a fragment cannot be judged and counts as right.
 */
static bool transport_checksum_ok(const uint8_t *pkt, size_t len,
				  uint16_t proto)
{
	struct address src, dst;
	size_t hlen, total;
	uint8_t l4proto;
	const uint8_t *l4;

	if (proto == ETHERTYPE_IP) {
		const struct iphdr *iph = (const struct iphdr *)pkt;

		hlen = iph->ihl * 4;
		total = ntohs(iph->tot_len);
		if (total > len || hlen < sizeof(*iph) || total < hlen ||
		    (iph->frag_off & htons(IP_MF | IP_OFFMASK)))
			return true;
		src.family = dst.family = AF_INET;
		memcpy(&src.v4, &iph->saddr, 4);
		memcpy(&dst.v4, &iph->daddr, 4);
		l4proto = iph->protocol;
	} else {
		const struct ip6_hdr *ip6 = (const struct ip6_hdr *)pkt;

		hlen = sizeof(*ip6);
		total = hlen + ntohs(ip6->ip6_plen);
		if (total > len)
			return true;
		src.family = dst.family = AF_INET6;
		src.v6 = ip6->ip6_src;
		dst.v6 = ip6->ip6_dst;
		l4proto = ip6->ip6_nxt;
	}
	l4 = pkt + hlen;
	/* An IPv4 UDP checksum of 0 means none was computed. */
	if (l4proto == IPPROTO_UDP && proto == ETHERTYPE_IP &&
	    total - hlen >= sizeof(struct udphdr) &&
	    !((const struct udphdr *)l4)->check)
		return true;
	/* Summed with its own checksum, a right packet folds to 0. */
	return l4_checksum(&src, &dst, l4proto, l4, total - hlen) == 0;
}

static int capture(int argc, char **argv)
{
	static uint8_t pkt[65536];
	unsigned long count_a = 0, count_b = 0, bad = 0;
	struct address a, b;
	struct sockaddr_ll sll;
	int rcvbuf = CAPTURE_RCVBUF;
	sigset_t block, old;
	unsigned int ifindex;
	int fd;

	if (argc != 3)
		usage();
	ifindex = if_nametoindex(argv[0]);
	if (!ifindex)
		die(argv[0]);
	parse_address(argv[1], &a);
	parse_address(argv[2], &b);

	/* Cooked: each read starts at the network header. */
	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
	if (fd < 0)
		die("AF_PACKET socket");
	/* Nothing is read until the end, so the queue must hold it all. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)))
		die("SO_RCVBUFFORCE");
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		die("bind");

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	signal(SIGUSR1, on_usr1);
	printf("ready\n");
	fflush(stdout);
	while (!drain_now)
		sigsuspend(&old);

	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		die("O_NONBLOCK");
	for (;;) {
		socklen_t slen = sizeof(sll);
		bool to_a, to_b;
		uint16_t proto;
		ssize_t n = recvfrom(fd, pkt, sizeof(pkt), 0,
				     (struct sockaddr *)&sll, &slen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			die("recvfrom");
		}
		if (sll.sll_pkttype == PACKET_OUTGOING)
			continue;
		proto = ntohs(sll.sll_protocol);
		to_a = is_destination(pkt, n, proto, &a);
		to_b = is_destination(pkt, n, proto, &b);
		count_a += to_a;
		count_b += to_b;
		if ((to_a || to_b) && !transport_checksum_ok(pkt, n, proto))
			bad++;
	}
	printf("%s %lu %s %lu bad %lu\n", argv[1], count_a, argv[2], count_b,
	       bad);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long count = 1;
	uint8_t tos = 0x28;
	int opt;

	while ((opt = getopt(argc, argv, "t:n:")) != -1) {
		switch (opt) {
		case 't':
			tos = parse_number(optarg, "traffic class", 255);
			break;
		case 'n':
			count = parse_number(optarg, "count", 1000000);
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 1)
		usage();
	if (!strcmp(argv[optind], "send"))
		return send_frames(argc - optind - 1, argv + optind + 1, tos,
				   count);
	if (!strcmp(argv[optind], "capture"))
		return capture(argc - optind - 1, argv + optind + 1);
	fprintf(stderr, "%s: unknown mode \"%s\"\n", progname, argv[optind]);
	return 2;
}
