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
 *	Other transports, each well formed, its checksum (if any) right for
 *	DST, every one addressed to PORT where it has ports:
 *	  dccp     a DCCP-Request with 32 bytes of data  (either family)
 *	  mh       an IPv6 Mobility Header, a Binding Refresh Request (IPv6)
 *	  ospf     an OSPFv3 Hello                       (IPv6)
 *	  pim      a PIM Hello                           (either family)
 *	  vrrp     a VRRPv3 advertisement                (either family)
 *	  gre      GRE (no checksum) around 32 bytes     (either family)
 *	  sctp     an SCTP DATA chunk, CRC32c right      (either family)
 *	  ah       AH (as IPsec transport mode) before a UDP datagram
 *	  p253     32 bytes of protocol 253, set aside for experiments
 *	IPv4 datagrams sent in fragments whose first is too short to hold
 *	the transport header (each datagram's IP ID is its own):
 *	  tcp-frag8      a TCP segment with 32 bytes of data in two
 *	                 fragments, 8 bytes and the rest: the checksum is in
 *	                 the second
 *	  tcp-frag8x2    the same in three, 8, 8 and the rest: the checksum
 *	                 is in the third
 *	  tcp-frag8-rev  as tcp-frag8, the last fragment sent first
 *	  udp-frag8      a UDP datagram, 8 bytes (its header) and the rest
 *	IPv4 source routes, one address of route data, UDP behind them:
 *	  lsrr-left ssrr-left    the pointer at the address: a hop is left
 *	  lsrr-spent ssrr-spent  the pointer past the end: the route is done
 *	IPv6 datagrams sent in two fragments (each datagram's identification
 *	is its own); the first fragment holds the first 16 or 24 bytes of the
 *	fragmentable part, the second the rest:
 *	  frag6-udp          a UDP datagram, its header in the first
 *	  frag6-dst-udp      Destination Options (8 bytes), then UDP
 *	  frag6-dst-ah       Destination Options, then AH and a UDP datagram
 *	  frag6-dst-p253     Destination Options, then protocol 253
 *	  frag6-dstlong-udp  Destination Options of 24 bytes, then UDP: the
 *	                     first fragment ends with the options, the UDP
 *	                     header is in the second
 *
 *   l3dsr_wire [-n COUNT] [-r MS] recv SHAPE ADDR_A ADDR_B
 *	Open a raw socket for SHAPE's protocol (ADDR_A's family), say
 *	"ready" on stdout, and take what the stack delivers locally until
 *	COUNT (default 1) packets addressed to ADDR_A or ADDR_B have come or
 *	none came for MS milliseconds (default 2000); then print "ADDR_A N
 *	ADDR_B M bad K": how many were addressed to each, and how many of
 *	those fail the shape's own integrity check, computed here over the
 *	bytes received: the transport checksum over the pseudo-header with
 *	the addresses the packet arrived with, where the protocol has one
 *	(TCP, UDP, DCCP, VRRPv3; for IPv6 also MH, OSPFv3 and PIM), PIM's
 *	own checksum for IPv4, SCTP's CRC32c, the checksum of the UDP
 *	datagram behind AH; GRE and p253 carry none. Datagrams sent in
 *	fragments arrive here reassembled.
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
#define _GNU_SOURCE		/* struct in6_pktinfo */
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
#include <poll.h>
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
		"       %s [-n COUNT] [-r MS] recv SHAPE ADDR_A ADDR_B\n"
		"       %s capture DEV ADDR_A ADDR_B\n", progname, progname,
		progname);
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

/* SCTP's CRC32c (Castagnoli, reflected), bit by bit: a few packets only. */
static uint32_t crc32c(const uint8_t *p, size_t len)
{
	uint32_t crc = ~0U;
	int bit;

	while (len--) {
		crc ^= *p++;
		for (bit = 0; bit < 8; bit++)
			crc = crc >> 1 ^ (crc & 1 ? 0x82f63b78U : 0);
	}
	return ~crc;
}

/* ---------------------------------------------------------- frame shapes */

/* Protocol numbers the C library may not name. */
#define PROTO_OSPF		89
#define PROTO_VRRP		112
#define PROTO_EXPERIMENT	253

/*
 * What a shape changes of an otherwise well-formed packet. The IP header
 * fields and the transport header are built from these; a shape is a short
 * list of lies.
 */
struct shape {
	const char *name;
	int family;		/* AF_UNSPEC: either */
	uint8_t proto;		/* 0 is IPPROTO_UDP; TCP or another transport */
	bool data;		/* TCP: PAYLOAD_LEN bytes of data, PSH ACK */
	int frag8;		/* IPv4: this many 8-byte fragments, then the rest */
	bool frag_reverse;	/* and the last of them sent first */
	uint16_t ip_id;		/* IPv4: added to the sequence for the IP ID */
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
	/* IPv6: a well-formed Destination Options header of this many bytes */
	int dstopts_len;
	/*
	 * IPv6: sent in two fragments, this many bytes of the fragmentable
	 * part (a multiple of 8) in the first, the rest in the second
	 */
	int frag6;
	/* IPv4: a source route option (LSRR or SSRR) of one address */
	uint8_t srr;
	bool srr_spent;		/* and its pointer past its end */
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
	{ .name = "dccp", .proto = IPPROTO_DCCP, .l4_keep = -1,
	  .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "mh", .family = AF_INET6, .proto = IPPROTO_MH, .l4_keep = -1,
	  .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "ospf", .family = AF_INET6, .proto = PROTO_OSPF,
	  .l4_keep = -1, .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "pim", .proto = IPPROTO_PIM, .l4_keep = -1, .ip_keep = -1,
	  .rthdr_left = -1 },
	{ .name = "vrrp", .proto = PROTO_VRRP, .l4_keep = -1, .ip_keep = -1,
	  .rthdr_left = -1 },
	{ .name = "gre", .proto = IPPROTO_GRE, .l4_keep = -1, .ip_keep = -1,
	  .rthdr_left = -1 },
	{ .name = "sctp", .proto = IPPROTO_SCTP, .l4_keep = -1, .ip_keep = -1,
	  .rthdr_left = -1 },
	{ .name = "ah", .proto = IPPROTO_AH, .l4_keep = -1, .ip_keep = -1,
	  .rthdr_left = -1 },
	{ .name = "p253", .proto = PROTO_EXPERIMENT, .l4_keep = -1,
	  .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "tcp-frag8", .family = AF_INET, .proto = IPPROTO_TCP,
	  .data = true, .frag8 = 1, .ip_id = 0x1000, .l4_keep = -1,
	  .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "tcp-frag8x2", .family = AF_INET, .proto = IPPROTO_TCP,
	  .data = true, .frag8 = 2, .ip_id = 0x2000, .l4_keep = -1,
	  .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "tcp-frag8-rev", .family = AF_INET, .proto = IPPROTO_TCP,
	  .data = true, .frag8 = 1, .frag_reverse = true, .ip_id = 0x3000,
	  .l4_keep = -1, .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "udp-frag8", .family = AF_INET, .frag8 = 1, .ip_id = 0x4000,
	  .l4_keep = -1, .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "lsrr-left", .family = AF_INET, .srr = IPOPT_LSRR,
	  .l4_keep = -1, .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "lsrr-spent", .family = AF_INET, .srr = IPOPT_LSRR,
	  .srr_spent = true, .l4_keep = -1, .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "ssrr-left", .family = AF_INET, .srr = IPOPT_SSRR,
	  .l4_keep = -1, .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "ssrr-spent", .family = AF_INET, .srr = IPOPT_SSRR,
	  .srr_spent = true, .l4_keep = -1, .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "frag6-udp", .family = AF_INET6, .frag6 = 16,
	  .ip_id = 0x5000, .l4_keep = -1, .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "frag6-dst-udp", .family = AF_INET6, .dstopts_len = 8,
	  .frag6 = 24, .ip_id = 0x6000, .l4_keep = -1, .ip_keep = -1,
	  .rthdr_left = -1 },
	{ .name = "frag6-dst-ah", .family = AF_INET6, .proto = IPPROTO_AH,
	  .dstopts_len = 8, .frag6 = 16, .ip_id = 0x7000, .l4_keep = -1,
	  .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "frag6-dst-p253", .family = AF_INET6,
	  .proto = PROTO_EXPERIMENT, .dstopts_len = 8, .frag6 = 16,
	  .ip_id = 0x8000, .l4_keep = -1, .ip_keep = -1, .rthdr_left = -1 },
	{ .name = "frag6-dstlong-udp", .family = AF_INET6, .dstopts_len = 24,
	  .frag6 = 24, .ip_id = 0x9000, .l4_keep = -1, .ip_keep = -1,
	  .rthdr_left = -1 },
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

static void put16(uint8_t *p, uint16_t value)
{
	p[0] = value >> 8;
	p[1] = value;
}

static void fill_payload(uint8_t *p, size_t len, unsigned long seq)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seq * 7 + i);
}

static size_t build_udp(uint8_t *p, const struct shape *s,
			const struct address *src, const struct address *dst,
			uint16_t port, unsigned long seq)
{
	struct udphdr *uh = (struct udphdr *)p;
	size_t len = sizeof(*uh) + PAYLOAD_LEN;

	memset(uh, 0, sizeof(*uh));
	uh->source = htons(40000);
	uh->dest = htons(port);
	uh->len = htons(len + s->udp_len_extra);
	fill_payload(p + sizeof(*uh), PAYLOAD_LEN, seq);
	uh->check = l4_checksum(src, dst, IPPROTO_UDP, p, len);
	if (!uh->check)
		uh->check = 0xffff;
	return len;
}

/*
 * The transports beyond TCP and UDP, each a well-formed message of its
 * kind. Those whose checksum covers the pseudo-header get it for DST.
 */
static size_t build_other(uint8_t *p, const struct shape *s,
			  const struct address *src, const struct address *dst,
			  uint16_t port, unsigned long seq)
{
	bool ipv6 = src->family == AF_INET6;
	size_t len, alen = ipv6 ? 16 : 4;
	uint16_t sum;
	uint32_t crc;

	switch (s->proto) {
	case IPPROTO_DCCP:
		/* generic header with 48-bit sequence numbers, a Request */
		len = 20 + PAYLOAD_LEN;
		memset(p, 0, 20);
		put16(p, 40000);
		put16(p + 2, port);
		p[4] = 20 / 4;		/* data offset; CCVal, CsCov 0: all */
		p[8] = 0 << 1 | 1;	/* type Request, X */
		put16(p + 12, seq >> 16);
		put16(p + 14, seq);
		memcpy(p + 16, "l3ds", 4);	/* service code */
		fill_payload(p + 20, PAYLOAD_LEN, seq);
		sum = l4_checksum(src, dst, s->proto, p, len);
		memcpy(p + 6, &sum, 2);
		return len;
	case IPPROTO_MH:
		/* Binding Refresh Request, padded to 16 bytes (PadN) */
		len = 16;
		memset(p, 0, len);
		p[0] = IPPROTO_NONE;
		p[1] = len / 8 - 1;
		p[8] = 1;
		p[9] = 6;
		sum = l4_checksum(src, dst, s->proto, p, len);
		memcpy(p + 4, &sum, 2);
		return len;
	case PROTO_OSPF:
		/* OSPFv3 Hello: 16-byte header, 20-byte body */
		len = 36;
		memset(p, 0, len);
		p[0] = 3;
		p[1] = 1;
		put16(p + 2, len);
		p[4] = p[5] = p[6] = p[7] = 1;	/* router ID 1.1.1.1 */
		p[19] = 1;			/* interface ID */
		p[20] = 1;			/* priority */
		put16(p + 24, 10);		/* hello interval */
		put16(p + 26, 40);		/* dead interval */
		sum = l4_checksum(src, dst, s->proto, p, len);
		memcpy(p + 12, &sum, 2);
		return len;
	case IPPROTO_PIM:
		/* Hello with a Holdtime option; IPv4 sums the message alone */
		len = 10;
		memset(p, 0, len);
		p[0] = 2 << 4 | 0;
		put16(p + 4, 1);
		put16(p + 6, 2);
		put16(p + 8, 105);
		if (ipv6)
			sum = l4_checksum(src, dst, s->proto, p, len);
		else
			sum = fold(sum16(0, p, len));
		memcpy(p + 2, &sum, 2);
		return len;
	case PROTO_VRRP:
		/* version 3: the pseudo-header is summed in both families */
		len = 8 + alen;
		memset(p, 0, len);
		p[0] = 3 << 4 | 1;	/* advertisement */
		p[1] = 1;		/* VRID */
		p[2] = 100;		/* priority */
		p[3] = 1;		/* one address */
		put16(p + 4, 100);	/* centiseconds */
		memcpy(p + 8, ipv6 ? (const void *)&src->v6 :
				     (const void *)&src->v4, alen);
		sum = l4_checksum(src, dst, s->proto, p, len);
		memcpy(p + 6, &sum, 2);
		return len;
	case IPPROTO_GRE:
		/* no checksum, a protocol type set aside for experiments */
		len = 4 + PAYLOAD_LEN;
		memset(p, 0, 4);
		put16(p + 2, 0x88b5);
		fill_payload(p + 4, PAYLOAD_LEN, seq);
		return len;
	case IPPROTO_SCTP:
		/* common header and one DATA chunk; CRC32c without addresses */
		len = 12 + 16 + PAYLOAD_LEN;
		memset(p, 0, 28);
		put16(p, 40000);
		put16(p + 2, port);
		put16(p + 4, 0x1122);	/* verification tag */
		put16(p + 6, 0x3344);
		p[12] = 0;		/* DATA */
		p[13] = 3;		/* first and last piece */
		put16(p + 14, 16 + PAYLOAD_LEN);
		put16(p + 18, seq);	/* TSN */
		fill_payload(p + 28, PAYLOAD_LEN, seq);
		crc = crc32c(p, len);
		/* the CRC goes out least significant byte first */
		p[8] = crc;
		p[9] = crc >> 8;
		p[10] = crc >> 16;
		p[11] = crc >> 24;
		return len;
	case IPPROTO_AH:
		/* 24 bytes of AH (a 96-bit ICV), then a UDP datagram */
		memset(p, 0, 24);
		p[0] = IPPROTO_UDP;
		p[1] = 24 / 4 - 2;
		p[7] = 1;		/* SPI */
		put16(p + 10, seq + 1);
		memset(p + 12, 0xa5, 12);
		return 24 + build_udp(p + 24, s, src, dst, port, seq);
	default:
		len = PAYLOAD_LEN;
		fill_payload(p, len, seq);
		return len;
	}
}

/*
 * The transport part: a UDP datagram, a TCP SYN (or a segment of data), or
 * another transport's message, whole and with a right checksum for SRC ->
 * DST. Returns its length.
 */
static size_t build_l4(uint8_t *p, const struct shape *s,
		       const struct address *src, const struct address *dst,
		       uint16_t port, unsigned long seq)
{
	uint8_t proto = s->proto ? s->proto : IPPROTO_UDP;
	struct tcphdr *th = (struct tcphdr *)p;
	size_t len;

	if (proto == IPPROTO_UDP)
		return build_udp(p, s, src, dst, port, seq);
	if (proto != IPPROTO_TCP)
		return build_other(p, s, src, dst, port, seq);

	len = sizeof(*th);
	memset(th, 0, sizeof(*th));
	th->source = htons(40000);
	th->dest = htons(port);
	th->seq = htonl(seq);
	th->doff = sizeof(*th) / 4;
	th->window = htons(65535);
	if (s->data) {
		th->ack_seq = htonl(1);
		th->ack = 1;
		th->psh = 1;
		fill_payload(p + len, PAYLOAD_LEN, seq);
		len += PAYLOAD_LEN;
	} else {
		th->syn = 1;
	}
	th->check = l4_checksum(src, dst, proto, p, len);
	return len;
}

static size_t build_ipv4(uint8_t *pkt, const struct shape *s, uint8_t tos,
			 const struct address *src, const struct address *dst,
			 uint16_t port, unsigned long seq)
{
	struct iphdr *iph = (struct iphdr *)pkt;
	size_t hlen = s->srr ? 28 : s->ip_options ? 24 : 20;
	size_t l4len;

	memset(iph, 0, hlen);
	l4len = build_l4(pkt + hlen, s, src, dst, port, seq);
	if (s->l4_keep >= 0)
		l4len = s->l4_keep;
	iph->version = 4;
	iph->ihl = s->ihl ? (size_t)s->ihl : hlen / 4;
	iph->tos = tos;
	iph->tot_len = htons(hlen + l4len + s->len_extra);
	iph->id = htons((uint16_t)(s->ip_id + seq));
	iph->ttl = 64;
	iph->protocol = s->proto ? s->proto : IPPROTO_UDP;
	iph->saddr = src->v4.s_addr;
	iph->daddr = dst->v4.s_addr;
	if (s->ip_options) {
		/* Router Alert: harmless to a host, real to parse. */
		pkt[20] = 0x94;
		pkt[21] = 4;
	}
	if (s->srr) {
		/*
		 * One address of route data, the source's own, then End of
		 * Options List. The pointer (at 4, counted from 1) is at the
		 * address while the route has a hop left; past the option's
		 * 7 bytes once it has been walked.
		 */
		pkt[20] = s->srr;
		pkt[21] = 7;
		pkt[22] = s->srr_spent ? 8 : 4;
		memcpy(pkt + 23, &src->v4, 4);
		pkt[27] = IPOPT_END;
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
	if (s->dstopts_len) {
		/* PadN over all but the first two bytes */
		uint8_t *dh = pkt + off;

		*next = IPPROTO_DSTOPTS;
		memset(dh, 0, s->dstopts_len);
		dh[1] = s->dstopts_len / 8 - 1;
		dh[2] = 1;
		dh[3] = s->dstopts_len - 4;
		next = &dh[0];
		off += s->dstopts_len;
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

static void send_frame(int fd, const struct sockaddr_ll *sll,
		       const uint8_t *frame, size_t len)
{
	if (sendto(fd, frame, len, 0, (const struct sockaddr *)sll,
		   sizeof(*sll)) != (ssize_t)len)
		die("send");
}

/*
 * The IPv4 packet in @frame, sent in fragments: s->frag8 of 8 bytes of
 * its transport part, then one with the rest; with s->frag_reverse that
 * last one goes first.
 */
static void send_fragments(int fd, const struct sockaddr_ll *sll,
			   const uint8_t *frame, size_t len,
			   const struct shape *s)
{
	static uint8_t piece[FRAME_MAX];
	const size_t eth_len = sizeof(struct ether_header);
	const struct iphdr *whole = (const struct iphdr *)(frame + eth_len);
	size_t hlen = whole->ihl * 4, data = len - eth_len - hlen;
	int count = s->frag8 + 1, k, n;

	for (n = 0; n < count; n++) {
		struct iphdr *iph = (struct iphdr *)(piece + eth_len);
		size_t off, size;

		k = s->frag_reverse ? (n + count - 1) % count : n;
		off = 8 * k;
		size = k < s->frag8 ? 8 : data - off;
		memcpy(piece, frame, eth_len + hlen);
		memcpy(piece + eth_len + hlen, frame + eth_len + hlen + off,
		       size);
		iph->tot_len = htons(hlen + size);
		iph->frag_off = htons(off / 8 | (k < s->frag8 ? IP_MF : 0));
		iph->check = 0;
		iph->check = fold(sum16(0, iph, hlen));
		send_frame(fd, sll, piece, eth_len + hlen + size);
	}
}

/*
 * The IPv6 packet in @frame (no extension header before its fragmentable
 * part), sent in two fragments: s->frag6 bytes of that part, then the
 * rest. Each carries a Fragment header whose next header is the packet's,
 * as RFC 8200 has it; the datagram's identification is its own.
 */
static void send_fragments6(int fd, const struct sockaddr_ll *sll,
			    const uint8_t *frame, size_t len,
			    const struct shape *s, unsigned long seq)
{
	static uint8_t piece[FRAME_MAX];
	const size_t eth_len = sizeof(struct ether_header);
	const size_t hlen = sizeof(struct ip6_hdr);
	const struct ip6_hdr *whole = (const struct ip6_hdr *)(frame + eth_len);
	size_t data = len - eth_len - hlen;
	int k;

	for (k = 0; k < 2; k++) {
		struct ip6_hdr *ip6 = (struct ip6_hdr *)(piece + eth_len);
		struct ip6_frag *fh = (struct ip6_frag *)(ip6 + 1);
		size_t off = k ? (size_t)s->frag6 : 0;
		size_t size = k ? data - off : (size_t)s->frag6;

		memcpy(piece, frame, eth_len + hlen);
		ip6->ip6_nxt = IPPROTO_FRAGMENT;
		ip6->ip6_plen = htons(sizeof(*fh) + size);
		memset(fh, 0, sizeof(*fh));
		fh->ip6f_nxt = whole->ip6_nxt;
		fh->ip6f_offlg = htons(off | (k ? 0 : 1));
		fh->ip6f_ident = htonl(s->ip_id + seq);
		memcpy(fh + 1, frame + eth_len + hlen + off, size);
		send_frame(fd, sll, piece, eth_len + hlen + sizeof(*fh) + size);
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
		if (s->frag8)
			send_fragments(fd, &sll, frame, len, s);
		else if (s->frag6)
			send_fragments6(fd, &sll, frame, len, s, i);
		else
			send_frame(fd, &sll, frame, len);
	}
	close(fd);
	return 0;
}

/* ---------------------------------------------------------------- recv */

/*
 * Whether a packet of shape @s that arrived from @src to @dst passes the
 * integrity check the shape has (see the top), over @len bytes of it from
 * its transport header on.
 */
static bool integrity_ok(const struct shape *s, const struct address *src,
			 const struct address *dst, const uint8_t *l4,
			 size_t len)
{
	static uint8_t copy[65536];
	uint8_t proto = s->proto ? s->proto : IPPROTO_UDP;
	bool ipv6 = src->family == AF_INET6;
	uint32_t crc;

	switch (proto) {
	case IPPROTO_UDP:
		if (len < sizeof(struct udphdr))
			return false;
		/* An IPv4 UDP checksum of 0 means none was computed. */
		if (!ipv6 && !((const struct udphdr *)l4)->check)
			return true;
		return l4_checksum(src, dst, proto, l4, len) == 0;
	case IPPROTO_TCP:
	case IPPROTO_DCCP:
	case IPPROTO_MH:
	case PROTO_OSPF:
	case PROTO_VRRP:
		/* Summed with its own checksum, a right packet folds to 0. */
		return l4_checksum(src, dst, proto, l4, len) == 0;
	case IPPROTO_PIM:
		if (ipv6)
			return l4_checksum(src, dst, proto, l4, len) == 0;
		return fold(sum16(0, l4, len)) == 0;
	case IPPROTO_SCTP:
		if (len < 12 || len > sizeof(copy))
			return false;
		memcpy(copy, l4, len);
		memset(copy + 8, 0, 4);
		crc = crc32c(copy, len);
		return l4[8] == (uint8_t)crc && l4[9] == (uint8_t)(crc >> 8) &&
		       l4[10] == (uint8_t)(crc >> 16) &&
		       l4[11] == (uint8_t)(crc >> 24);
	case IPPROTO_AH:
		if (len < 24 + sizeof(struct udphdr))
			return false;
		return l4_checksum(src, dst, IPPROTO_UDP, l4 + 24,
				   len - 24) == 0;
	default:
		return true;
	}
}

static bool same_address(const struct address *a, const struct address *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4.s_addr == b->v4.s_addr;
	return !memcmp(&a->v6, &b->v6, sizeof(a->v6));
}

/*
 * One packet from the raw socket: its addresses and where its transport
 * part starts. IPv4 raw sockets return the IP header; IPv6 ones start at
 * the transport header, the destination coming as IPV6_PKTINFO. Returns
 * the transport part's length, or -1 when there is nothing to judge.
 */
static ssize_t receive_one(int fd, int family, uint8_t *buf, size_t size,
			   struct address *src, struct address *dst,
			   const uint8_t **l4)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} control;
	struct sockaddr_in6 from;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	bool have_dst = false;
	ssize_t n;

	n = recvmsg(fd, &msg, 0);
	if (n < 0) {
		if (errno == EINTR)
			return -1;
		die("recvmsg");
	}
	if (family == AF_INET) {
		const struct iphdr *iph = (const struct iphdr *)buf;
		size_t hlen, total;

		if ((size_t)n < sizeof(*iph))
			return -1;
		hlen = iph->ihl * 4;
		total = ntohs(iph->tot_len);
		if (hlen < sizeof(*iph) || total < hlen || total > (size_t)n)
			return -1;
		src->family = dst->family = AF_INET;
		src->v4.s_addr = iph->saddr;
		dst->v4.s_addr = iph->daddr;
		*l4 = buf + hlen;
		return total - hlen;
	}
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level == IPPROTO_IPV6 &&
		    cmsg->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo info;

			memcpy(&info, CMSG_DATA(cmsg), sizeof(info));
			dst->v6 = info.ipi6_addr;
			have_dst = true;
		}
	}
	if (!have_dst)
		return -1;
	src->family = dst->family = AF_INET6;
	src->v6 = from.sin6_addr;
	*l4 = buf;
	return n;
}

static int recv_packets(int argc, char **argv, unsigned long count,
			int idle_ms)
{
	static uint8_t buf[65536];
	unsigned long count_a = 0, count_b = 0, bad = 0;
	const struct shape *s;
	struct address a, b;
	int one = 1, fd;

	if (argc != 3)
		usage();
	parse_address(argv[1], &a);
	parse_address(argv[2], &b);
	if (a.family != b.family) {
		fprintf(stderr, "%s: %s and %s are not of one family\n",
			progname, argv[1], argv[2]);
		exit(2);
	}
	s = find_shape(argv[0], a.family);

	fd = socket(a.family, SOCK_RAW, s->proto ? s->proto : IPPROTO_UDP);
	if (fd < 0)
		die("raw socket");
	if (a.family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)))
		die("IPV6_RECVPKTINFO");
	printf("ready\n");
	fflush(stdout);

	while (count_a + count_b < count) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct address src, dst;
		const uint8_t *l4;
		int ready = poll(&pfd, 1, idle_ms);
		bool to_a, to_b;
		ssize_t len;

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			die("poll");
		if (!ready)
			break;
		len = receive_one(fd, a.family, buf, sizeof(buf), &src, &dst,
				  &l4);
		if (len < 0)
			continue;
		to_a = same_address(&dst, &a);
		to_b = same_address(&dst, &b);
		count_a += to_a;
		count_b += to_b;
		if ((to_a || to_b) && !integrity_ok(s, &src, &dst, l4, len))
			bad++;
	}
	printf("%s %lu %s %lu bad %lu\n", argv[1], count_a, argv[2], count_b,
	       bad);
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
	int idle_ms = 2000;
	uint8_t tos = 0x28;
	int opt;

	while ((opt = getopt(argc, argv, "t:n:r:")) != -1) {
		switch (opt) {
		case 't':
			tos = parse_number(optarg, "traffic class", 255);
			break;
		case 'n':
			count = parse_number(optarg, "count", 1000000);
			break;
		case 'r':
			idle_ms = parse_number(optarg, "idle time", 60000);
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
	if (!strcmp(argv[optind], "recv"))
		return recv_packets(argc - optind - 1, argv + optind + 1,
				    count, idle_ms);
	fprintf(stderr, "%s: unknown mode \"%s\"\n", progname, argv[optind]);
	return 2;
}
