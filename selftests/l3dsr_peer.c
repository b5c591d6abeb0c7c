// SPDX-License-Identifier: GPL-2.0
/*
 * l3dsr_peer: the client and server ends the selftests need, with nothing
 * guessed: exact datagram counts, a chosen DSCP on the wire, the addresses a
 * connection really used, and a hard deadline so a broken path fails fast
 * instead of hanging the suite.
 *
 *   l3dsr_peer [-w SECONDS] tcp-recv ADDR PORT
 *	Accept one TCP connection on ADDR:PORT, copy what it carries to
 *	stdout until the peer closes, print "local ADDR peer ADDR" of that
 *	connection on stderr.
 *   l3dsr_peer [-w SECONDS] [-t TOS] tcp-send ADDR PORT
 *	Connect to ADDR:PORT, send stdin, half-close, wait for the server to
 *	close.
 *   l3dsr_peer udp-echo ADDR PORT
 *	Answer every datagram on ADDR:PORT with the same payload, forever.
 *   l3dsr_peer [-w SECONDS] [-n COUNT] [-r MS] udp-recv ADDR PORT
 *	Count datagrams arriving on ADDR:PORT until COUNT have come or none
 *	came for MS milliseconds (default 2000). Prints "datagrams N";
 *	succeeds only if N is COUNT.
 *   l3dsr_peer [-w SECONDS] [-t TOS] [-n COUNT] [-s SIZE] [-r MS]
 *		udp-send ADDR PORT
 *	Send exactly COUNT datagrams of SIZE bytes one at a time, each waiting
 *	up to MS milliseconds (default 2000) for its echo from ADDR (a
 *	connected socket drops answers from anywhere else). Every datagram is
 *	sent even when earlier ones got no answer, so counters on the path see
 *	exactly COUNT. Prints "replies N"; succeeds only if every datagram came
 *	back intact.
 *
 * -t sets the whole traffic class byte (IP_TOS / IPV6_TCLASS): DSCP 10 is
 * 0x28. -x hop|dst|both (IPv6, tcp-send and udp-send) puts a Hop-by-Hop
 * and/or a Destination Options header of 16 bytes before the
 * transport header of every packet sent. -w bounds the whole run (default 30 s, plus the longest udp-send
 * could wait for its replies). Exit 0 on success, 1 on
 * failure, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_DATAGRAM	65507
#define COPY_CHUNK	65536

/* Which IPv6 extension headers -x asks for. */
#define EXT_HOP		(1 << 0)
#define EXT_DST		(1 << 1)

static const char *progname = "l3dsr_peer";

struct endpoint {
	struct sockaddr_storage ss;
	socklen_t len;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: %s [-w SECONDS] [-t TOS] [-n COUNT] [-s SIZE] [-r MS]"
		" [-x hop|dst|both] MODE ADDR PORT\n"
		"modes: tcp-recv tcp-send udp-echo udp-send udp-recv\n",
		progname);
	exit(2);
}

static void on_deadline(int sig)
{
	static const char msg[] = "l3dsr_peer: timed out\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static void die(const char *what)
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

static const char *format_address(const struct sockaddr_storage *ss,
				  char *buf, size_t size)
{
	const void *addr;

	if (ss->ss_family == AF_INET)
		addr = &((const struct sockaddr_in *)ss)->sin_addr;
	else
		addr = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (!inet_ntop(ss->ss_family, addr, buf, size))
		return "?";
	return buf;
}

/*
 * An options header of 16 bytes holding one option of the type RFC 4727
 * sets aside for experiments, whose top bits tell a node that does not know
 * it to skip it (PadN of more than 7 bytes is refused by Linux). Longer than
 * the 8 bytes a header has at least, so a walker that does not read the
 * length field lands in the wrong place.
 */
static void set_ext_headers(int fd, int ext)
{
	static const unsigned char opts[16] = {
		0, 1,		/* next header (the kernel's), (1 + 1) * 8 bytes */
		0x1e, 12,	/* experiment, skip if unknown; 12 bytes of data */
	};

	if ((ext & EXT_HOP) &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, opts, sizeof(opts)))
		die("IPV6_HOPOPTS");
	if ((ext & EXT_DST) &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_DSTOPTS, opts, sizeof(opts)))
		die("IPV6_DSTOPTS");
}

static int open_socket(const struct endpoint *ep, int type, int tos, int ext)
{
	int one = 1;
	int fd;

	fd = socket(ep->ss.ss_family, type, 0);
	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die("SO_REUSEADDR");
	if (ext) {
		if (ep->ss.ss_family != AF_INET6) {
			fprintf(stderr, "%s: -x needs an IPv6 address\n",
				progname);
			exit(2);
		}
		set_ext_headers(fd, ext);
	}
	if (tos < 0)
		return fd;
	if (ep->ss.ss_family == AF_INET) {
		if (setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)))
			die("IP_TOS");
	} else {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos,
			       sizeof(tos)))
			die("IPV6_TCLASS");
	}
	return fd;
}

static void write_all(int fd, const char *buf, size_t len, const char *what)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die(what);
		}
		buf += n;
		len -= n;
	}
}

/* Copy until end of file on @from; returns the number of bytes copied. */
static unsigned long long copy_stream(int from, int to, const char *what)
{
	static char buf[COPY_CHUNK];
	unsigned long long total = 0;

	for (;;) {
		ssize_t n = read(from, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die(what);
		}
		if (n == 0)
			return total;
		write_all(to, buf, n, what);
		total += n;
	}
}

static int tcp_recv(const struct endpoint *ep)
{
	char local_text[INET6_ADDRSTRLEN], peer_text[INET6_ADDRSTRLEN];
	struct sockaddr_storage local, peer;
	socklen_t local_len = sizeof(local);
	socklen_t peer_len = sizeof(peer);
	int listener, conn;

	listener = open_socket(ep, SOCK_STREAM, -1, 0);
	if (bind(listener, (const struct sockaddr *)&ep->ss, ep->len))
		die("bind");
	if (listen(listener, 1))
		die("listen");
	conn = accept(listener, (struct sockaddr *)&peer, &peer_len);
	if (conn < 0)
		die("accept");
	close(listener);
	if (getsockname(conn, (struct sockaddr *)&local, &local_len))
		die("getsockname");
	fprintf(stderr, "local %s peer %s\n",
		format_address(&local, local_text, sizeof(local_text)),
		format_address(&peer, peer_text, sizeof(peer_text)));
	copy_stream(conn, STDOUT_FILENO, "receive");
	close(conn);
	return 0;
}

static int tcp_send(const struct endpoint *ep, int tos, int ext)
{
	char drain[256];
	int fd;

	fd = open_socket(ep, SOCK_STREAM, tos, ext);
	if (connect(fd, (const struct sockaddr *)&ep->ss, ep->len))
		die("connect");
	copy_stream(STDIN_FILENO, fd, "send");
	if (shutdown(fd, SHUT_WR))
		die("shutdown");
	/* The server closing proves it read everything we sent. */
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	close(fd);
	return 0;
}

static void __attribute__((noreturn)) udp_echo(const struct endpoint *ep)
{
	static char buf[MAX_DATAGRAM];
	struct sockaddr_storage peer;
	socklen_t peer_len;
	ssize_t n;
	int fd;

	fd = open_socket(ep, SOCK_DGRAM, -1, 0);
	if (bind(fd, (const struct sockaddr *)&ep->ss, ep->len))
		die("bind");
	for (;;) {
		peer_len = sizeof(peer);
		n = recvfrom(fd, buf, sizeof(buf), 0,
			     (struct sockaddr *)&peer, &peer_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recvfrom");
		}
		if (sendto(fd, buf, n, 0, (struct sockaddr *)&peer,
			   peer_len) < 0)
			die("sendto");
	}
}

static int udp_recv(const struct endpoint *ep, unsigned long count,
		    int idle_ms)
{
	static char buf[MAX_DATAGRAM];
	unsigned long got = 0;
	int fd;

	fd = open_socket(ep, SOCK_DGRAM, -1, 0);
	if (bind(fd, (const struct sockaddr *)&ep->ss, ep->len))
		die("bind");
	while (got < count) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ready = poll(&pfd, 1, idle_ms);

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			die("poll");
		if (!ready)
			break;
		if (recv(fd, buf, sizeof(buf), 0) < 0)
			die("recv");
		got++;
	}
	printf("datagrams %lu\n", got);
	return got == count ? 0 : 1;
}

static int udp_send(const struct endpoint *ep, int tos, int ext,
		    unsigned long count, size_t size, int reply_wait_ms)
{
	static char request[MAX_DATAGRAM], reply[MAX_DATAGRAM];
	unsigned long replies = 0, i;
	size_t j;
	int fd;

	fd = open_socket(ep, SOCK_DGRAM, tos, ext);
	if (connect(fd, (const struct sockaddr *)&ep->ss, ep->len))
		die("connect");
	for (i = 0; i < count; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		/* A distinct payload per datagram: a stale echo cannot pass. */
		for (j = 0; j < size; j++)
			request[j] = (char)(i * 31 + j);
		if (send(fd, request, size, 0) != (ssize_t)size)
			die("send");
		if (poll(&pfd, 1, reply_wait_ms) <= 0)
			continue;
		n = recv(fd, reply, sizeof(reply), 0);
		if (n == (ssize_t)size && !memcmp(request, reply, size))
			replies++;
	}
	printf("replies %lu\n", replies);
	return replies == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	unsigned long count = 1, deadline = 0;
	size_t size = 64;
	struct endpoint ep;
	const char *mode;
	int reply_wait_ms = 2000;
	int tos = -1;
	int ext = 0;
	int opt;

	while ((opt = getopt(argc, argv, "w:t:n:s:r:x:")) != -1) {
		switch (opt) {
		case 'w':
			deadline = parse_number(optarg, "deadline", 3600);
			break;
		case 't':
			tos = parse_number(optarg, "traffic class", 255);
			break;
		case 'n':
			count = parse_number(optarg, "count", 1000000);
			break;
		case 's':
			size = parse_number(optarg, "size", MAX_DATAGRAM);
			break;
		case 'r':
			reply_wait_ms = parse_number(optarg, "reply wait",
						     60000);
			break;
		case 'x':
			if (!strcmp(optarg, "hop"))
				ext = EXT_HOP;
			else if (!strcmp(optarg, "dst"))
				ext = EXT_DST;
			else if (!strcmp(optarg, "both"))
				ext = EXT_HOP | EXT_DST;
			else
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 3)
		usage();
	mode = argv[optind];
	parse_endpoint(argv[optind + 1], argv[optind + 2], &ep);

	if (!deadline)
		deadline = 30 + count * reply_wait_ms / 1000;
	if (strcmp(mode, "udp-echo")) {
		signal(SIGALRM, on_deadline);
		alarm(deadline);
	}
	if (!strcmp(mode, "tcp-recv"))
		return tcp_recv(&ep);
	if (!strcmp(mode, "tcp-send"))
		return tcp_send(&ep, tos, ext);
	if (!strcmp(mode, "udp-echo"))
		udp_echo(&ep);
	if (!strcmp(mode, "udp-send"))
		return udp_send(&ep, tos, ext, count, size, reply_wait_ms);
	if (!strcmp(mode, "udp-recv"))
		return udp_recv(&ep, count, reply_wait_ms);
	fprintf(stderr, "%s: unknown mode \"%s\"\n", progname, mode);
	return 2;
}
