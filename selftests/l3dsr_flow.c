// SPDX-License-Identifier: GPL-2.0
/*
 * l3dsr_flow: long-running flows for the stress tests, whose every datagram
 * can be verified on arrival and whose every loss can be dated.
 *
 *   l3dsr_flow [-t TOS] [-n COUNT] [-i MICROSECONDS] [-s SIZE] [-f FLOW]
 *		[-l LOG] udp-send ADDR PORT [ADDR PORT...]
 *	Send COUNT datagrams to each destination in turn, one round every
 *	MICROSECONDS (default 0: at once), from an unconnected socket (an
 *	ICMP error never stops it). Each datagram carries its flow number
 *	(FLOW, then FLOW+1 for the next destination), its sequence number,
 *	its send time (CLOCK_REALTIME, microseconds), SIZE bytes of payload
 *	derived from flow and sequence number, and a 64-bit FNV-1a hash of
 *	all of it. LOG gets one line "FLOW SEQ MICROSECONDS" per datagram.
 *	Prints "sent N".
 *   l3dsr_flow [-w SECONDS] [-r IDLE_MS] [-l LOG] udp-sink ADDR PORT
 *	Receive until SIGTERM or SIGINT, until IDLE_MS passed without a
 *	datagram, or for SECONDS; verify each datagram (length, hash, the
 *	payload its flow and sequence number make). LOG gets one line
 *	"FLOW SEQ" per good datagram. Prints "received N bad M duplicates D";
 *	exit 1 if a datagram was bad.
 *   l3dsr_flow [-t TOS] [-b BYTES_PER_SECOND] [-w SECONDS] tcp-send ADDR PORT
 *	Connect, send standard input paced to the rate (default: at once),
 *	half-close, wait for the server to close. Prints "sent N".
 *
 * -t sets the traffic class byte (IP_TOS / IPV6_TCLASS). -w bounds the
 * whole run (default 600 s). Exit 0 on success, 1 on failure, 2 on a usage
 * error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC		0x6c336473U	/* "l3ds" */
#define MAX_DATAGRAM	65507
#define MAX_DESTS	32
#define MAX_FLOWS	1024
#define CHUNK		4096

static const char *progname = "l3dsr_flow";

struct endpoint {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* What leads every datagram, in network byte order where it matters. */
struct header {
	uint32_t magic;
	uint32_t flow;
	uint64_t seq;
	uint64_t usec;
	uint32_t size;
	uint32_t pad;
	uint64_t hash;
};

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_deadline(int sig)
{
	static const char msg[] = "l3dsr_flow: timed out\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: %s [-t TOS] [-n COUNT] [-i USEC] [-s SIZE] [-f FLOW] [-l LOG] udp-send ADDR PORT...\n"
		"       %s [-w SECONDS] [-r IDLE_MS] [-l LOG] udp-sink ADDR PORT\n"
		"       %s [-t TOS] [-b RATE] [-w SECONDS] tcp-send ADDR PORT\n",
		progname, progname, progname);
	exit(2);
}

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", progname, what, strerror(errno));
	exit(1);
}

static unsigned long parse_number(const char *text, const char *what,
				  unsigned long max)
{
	unsigned long value;
	char *end;

	errno = 0;
	value = strtoul(text, &end, 0);
	if (errno || end == text || *end || value > max) {
		fprintf(stderr, "%s: bad %s \"%s\"\n", progname, what, text);
		exit(2);
	}
	return value;
}

static void parse_endpoint(const char *addr, const char *port,
			   struct endpoint *ep)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ep->ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ep->ss;
	unsigned short p = parse_number(port, "port", 65535);

	memset(ep, 0, sizeof(*ep));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(p);
		ep->len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p);
		ep->len = sizeof(*sin6);
	} else {
		fprintf(stderr, "%s: bad address \"%s\"\n", progname, addr);
		exit(2);
	}
}

static int open_socket(int family, int type, int tos)
{
	int one = 1, fd;

	fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_REUSEADDR");
	if (tos < 0)
		return fd;
	if (family == AF_INET) {
		if (setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)))
			die("IP_TOS");
	} else if (setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos,
			      sizeof(tos))) {
		die("IPV6_TCLASS");
	}
	return fd;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t fnv1a(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The payload a flow's datagram carries: the same on both ends. */
static void fill_payload(unsigned char *p, size_t size, uint32_t flow,
			 uint64_t seq)
{
	uint64_t x = ((uint64_t)flow << 40) ^ seq ^ 0x5bd1e995ULL;
	size_t i;

	for (i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

static uint64_t datagram_hash(const struct header *h,
			      const unsigned char *payload, size_t size)
{
	struct header copy = *h;

	copy.hash = 0;
	return fnv1a(payload, size,
		     fnv1a(&copy, sizeof(copy), 0xcbf29ce484222325ULL));
}

/* --------------------------------------------------------------- send */

static int udp_send(struct endpoint *dests, int ndests, int tos,
		    unsigned long count, unsigned long interval,
		    size_t size, uint32_t flow, FILE *log)
{
	static unsigned char buf[MAX_DATAGRAM];
	struct header *h = (struct header *)buf;
	unsigned long sent = 0, i;
	int fds[MAX_DESTS], d;

	for (d = 0; d < ndests; d++)
		fds[d] = open_socket(dests[d].ss.ss_family, SOCK_DGRAM, tos);
	for (i = 0; i < count && !stop; i++) {
		uint64_t round_start = now_usec();

		for (d = 0; d < ndests; d++) {
			memset(h, 0, sizeof(*h));
			h->magic = htonl(MAGIC);
			h->flow = flow + d;
			h->seq = i;
			h->size = size;
			h->usec = now_usec();
			fill_payload(buf + sizeof(*h), size, h->flow, i);
			h->hash = datagram_hash(h, buf + sizeof(*h), size);
			/* refused (ICMP, no route) is lost like any other */
			if (sendto(fds[d], buf, sizeof(*h) + size, 0,
				   (struct sockaddr *)&dests[d].ss,
				   dests[d].len) >= 0)
				sent++;
			if (log)
				fprintf(log, "%u %lu %llu\n", h->flow, i,
					(unsigned long long)h->usec);
		}
		if (interval) {
			uint64_t spent = now_usec() - round_start;

			if (spent < interval)
				usleep(interval - spent);
		}
	}
	printf("sent %lu\n", sent);
	return 0;
}

/* --------------------------------------------------------------- sink */

/* Which sequence numbers of a flow came: a growing bitmap. */
struct seen {
	uint32_t flow;
	unsigned char *bits;
	size_t size;
};

static int mark_seen(struct seen *flows, int *nflows, uint32_t flow,
		     uint64_t seq)
{
	struct seen *s = NULL;
	int i;

	for (i = 0; i < *nflows; i++)
		if (flows[i].flow == flow)
			s = &flows[i];
	if (!s) {
		if (*nflows == MAX_FLOWS)
			return -1;
		s = &flows[(*nflows)++];
		memset(s, 0, sizeof(*s));
		s->flow = flow;
	}
	if (seq / 8 >= s->size) {
		size_t size = (seq / 8 + 1) * 2;
		unsigned char *bits = realloc(s->bits, size);

		if (!bits)
			die("realloc");
		memset(bits + s->size, 0, size - s->size);
		s->bits = bits;
		s->size = size;
	}
	if (s->bits[seq / 8] & (1 << (seq % 8)))
		return 1;
	s->bits[seq / 8] |= 1 << (seq % 8);
	return 0;
}

struct sink {
	struct seen flows[MAX_FLOWS];
	int nflows;
	unsigned long good, bad, dups;
	FILE *log;
};

/* Judge one datagram of @n bytes in @buf. */
static void sink_one(struct sink *k, const unsigned char *buf, ssize_t n)
{
	static unsigned char expect[MAX_DATAGRAM];
	const struct header *h = (const struct header *)buf;

	if ((size_t)n < sizeof(*h) || ntohl(h->magic) != MAGIC ||
	    h->size != n - sizeof(*h) ||
	    h->hash != datagram_hash(h, buf + sizeof(*h), h->size)) {
		k->bad++;
		return;
	}
	fill_payload(expect, h->size, h->flow, h->seq);
	if (memcmp(expect, buf + sizeof(*h), h->size)) {
		k->bad++;
		return;
	}
	switch (mark_seen(k->flows, &k->nflows, h->flow, h->seq)) {
	case 1:
		k->dups++;
		return;
	case -1:
		k->bad++;
		return;
	}
	k->good++;
	if (k->log)
		fprintf(k->log, "%u %llu\n", h->flow,
			(unsigned long long)h->seq);
}

static int udp_sink(const struct endpoint *ep, int idle_ms, FILE *log)
{
	static unsigned char buf[MAX_DATAGRAM + 1];
	static struct sink k;
	int rcvbuf = 4 << 20, fd;
	ssize_t n;

	k.log = log;
	fd = open_socket(ep->ss.ss_family, SOCK_DGRAM, -1);
	/*
	 * SO_RCVBUF stops at net.core.rmem_max (about 200 KB): a guest slowed
	 * by its neighbours would drop datagrams here, far from any mapping
	 * change, and the loss be blamed on l3dsr.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (const struct sockaddr *)&ep->ss, ep->len))
		die("bind");
	while (!stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ready = poll(&pfd, 1, k.good || k.bad ? idle_ms : -1);

		if (ready < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (!ready)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recv");
		}
		sink_one(&k, buf, n);
	}
	/* told to stop: what is queued still counts */
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0)
		sink_one(&k, buf, n);
	printf("received %lu bad %lu duplicates %lu\n", k.good, k.bad,
	       k.dups);
	return k.bad ? 1 : 0;
}

/* ----------------------------------------------------------- tcp-send */

static int tcp_send(const struct endpoint *ep, int tos, unsigned long rate)
{
	static char buf[CHUNK];
	unsigned long long total = 0;
	uint64_t t0;
	int fd;

	fd = open_socket(ep->ss.ss_family, SOCK_STREAM, tos);
	if (connect(fd, (const struct sockaddr *)&ep->ss, ep->len))
		die("connect");
	t0 = now_usec();
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf)), off = 0;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (n == 0)
			break;
		while (off < n) {
			ssize_t w = write(fd, buf + off, n - off);

			if (w < 0) {
				if (errno == EINTR)
					continue;
				die("send");
			}
			off += w;
		}
		total += n;
		if (rate) {
			uint64_t due = t0 + total * 1000000ULL / rate;
			uint64_t t = now_usec();

			if (due > t)
				usleep(due - t);
		}
	}
	if (shutdown(fd, SHUT_WR))
		die("shutdown");
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	printf("sent %llu\n", total);
	return 0;
}

int main(int argc, char **argv)
{
	struct endpoint dests[MAX_DESTS];
	unsigned long count = 1, interval = 0, rate = 0, deadline = 600;
	const char *mode, *logname = NULL;
	size_t size = 64;
	uint32_t flow = 0;
	int idle_ms = -1, tos = -1, ndests, opt, i;
	FILE *log = NULL;

	while ((opt = getopt(argc, argv, "t:n:i:s:f:l:w:r:b:")) != -1) {
		switch (opt) {
		case 't':
			tos = parse_number(optarg, "traffic class", 255);
			break;
		case 'n':
			count = parse_number(optarg, "count", 100000000);
			break;
		case 'i':
			interval = parse_number(optarg, "interval", 60000000);
			break;
		case 's':
			size = parse_number(optarg, "size",
					    MAX_DATAGRAM - sizeof(struct header));
			break;
		case 'f':
			flow = parse_number(optarg, "flow", 1000000);
			break;
		case 'l':
			logname = optarg;
			break;
		case 'w':
			deadline = parse_number(optarg, "deadline", 86400);
			break;
		case 'r':
			idle_ms = parse_number(optarg, "idle time", 3600000);
			break;
		case 'b':
			rate = parse_number(optarg, "rate", 1UL << 32);
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 3 || (argc - optind) % 2 == 0)
		usage();
	mode = argv[optind++];
	ndests = (argc - optind) / 2;
	if (ndests > MAX_DESTS)
		usage();
	for (i = 0; i < ndests; i++)
		parse_endpoint(argv[optind + 2 * i], argv[optind + 2 * i + 1],
			       &dests[i]);
	if (logname) {
		log = fopen(logname, "w");
		if (!log)
			die(logname);
	}
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGALRM, on_deadline);
	alarm(deadline);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(mode, "udp-send"))
		i = udp_send(dests, ndests, tos, count, interval, size, flow,
			     log);
	else if (!strcmp(mode, "udp-sink") && ndests == 1)
		i = udp_sink(&dests[0], idle_ms, log);
	else if (!strcmp(mode, "tcp-send") && ndests == 1)
		i = tcp_send(&dests[0], tos, rate);
	else
		usage();
	if (log && fclose(log))
		die(logname);
	return i;
}
