// SPDX-License-Identifier: GPL-2.0
/*
 * import-dsrtools: read the /etc/dsr.d files of dsrtools' dsrctl and write
 * the l3dsr configuration that does the same: a mapping for every VIP=DSCP
 * line. What cannot be said in l3dsr's configuration is reported line by
 * line, never dropped in silence.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <locale.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "l3dsr.h"
#include "dsrtools.h"
#include "l3dsrctl.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	       c == '\v' || c == '\f';
}

/* Every character of word is one of set, or (if xdigits) a hex digit. */
static bool all_of(const char *word, const char *set, bool xdigits)
{
	if (!*word)
		return false;
	for (; *word; word++)
		if (!strchr(set, *word) &&
		    !(xdigits && isxdigit((unsigned char)*word)))
			return false;
	return true;
}

/* Four runs of digits joined by dots: what dsrctl takes for IPv4. */
static bool is_dotted_quad(const char *word)
{
	int parts = 0;

	while (parts < 4) {
		if (!isdigit((unsigned char)*word))
			return false;
		while (isdigit((unsigned char)*word))
			word++;
		parts++;
		if (parts < 4 && *word++ != '.')
			return false;
	}
	return !*word;
}

static bool is_name(const char *word)
{
	for (; *word; word++)
		if (!isalnum((unsigned char)*word) && *word != '.' &&
		    *word != '-')
			return false;
	return true;
}

int dsr_split_line(char *text, struct dsr_line *line,
		   char why[WORDS_ERROR_SIZE])
{
	char *p = text, *vip_end, *dscp = NULL, *dscp_end = NULL;
	char *comment = NULL;

	memset(line, 0, sizeof(*line));
	while (is_blank(*p))
		p++;
	if (!*p || *p == '#') {
		line->kind = DSR_NOTHING;
		return 0;
	}
	line->vip = p;
	while (*p && !is_blank(*p) && *p != '=' && *p != '#')
		p++;
	vip_end = p;
	while (is_blank(*p))
		p++;
	if (*p == '=') {
		p++;
		while (is_blank(*p))
			p++;
		dscp = p;
		while (*p && !is_blank(*p) && *p != '#')
			p++;
		dscp_end = p;
		if (dscp == dscp_end) {
			snprintf(why, WORDS_ERROR_SIZE,
				 "no DSCP after \"=\"");
			return -1;
		}
		while (is_blank(*p))
			p++;
	}
	if (*p && *p != '#') {
		snprintf(why, WORDS_ERROR_SIZE,
			 "\"%s\" after the %s: a line holds VIP=DSCP or a VIP alone",
			 p, dscp ? "DSCP" : "VIP");
		return -1;
	}
	if (*p == '#') {
		char *last;

		comment = p + 1;
		while (is_blank(*comment))
			comment++;
		last = comment + strlen(comment);
		while (last > comment && is_blank(last[-1]))
			last--;
		*last = '\0';
	}
	/* Cut the words only now: either end may be the "#". */
	*vip_end = '\0';
	if (dscp_end)
		*dscp_end = '\0';
	line->dscp = dscp;
	line->comment = comment && *comment ? comment : NULL;
	line->kind = dscp ? DSR_L3 : DSR_L2;

	if (!strncmp(line->vip, "Version", 7)) {
		line->kind = DSR_VERSION;
		return 0;
	}
	/* In dsrctl's order: a word of hex digits is IPv6, not a name. */
	if (is_dotted_quad(line->vip)) {
		line->vip_kind = DSR_VIP_IPV4;
		return 0;
	}
	if (all_of(line->vip, ":", true)) {
		line->vip_kind = DSR_VIP_IPV6;
		return 0;
	}
	if (is_name(line->vip)) {
		line->vip_kind = DSR_VIP_NAME;
		return 0;
	}
	if (strchr(line->vip, ':') && strchr(line->vip, '.'))
		snprintf(why, WORDS_ERROR_SIZE,
			 "\"%s\": dsrtools takes no IPv6 address with an IPv4 part; write it in hex",
			 line->vip);
	else
		snprintf(why, WORDS_ERROR_SIZE,
			 "\"%s\" is neither an address nor a host name (letters, digits, dots, hyphens)",
			 line->vip);
	return -1;
}

int dsr_parse_dscp(const char *word, unsigned int *dscp,
		   char why[WORDS_ERROR_SIZE])
{
	unsigned long value;
	bool number;
	char *end;

	if (word[0] == '0' && (word[1] == 'x' || word[1] == 'X'))
		number = all_of(word + 2, "", true);
	else if (word[0] == '0')
		number = !word[1] || all_of(word + 1, "01234567", false);
	else
		number = word[0] != '\0' && all_of(word, "0123456789", false);
	if (!number) {
		snprintf(why, WORDS_ERROR_SIZE,
			 "DSCP \"%s\" is not a number as dsrtools writes them: decimal (33), octal with a leading 0 (041) or hex with 0x (0x21)",
			 word);
		return -1;
	}
	/*
	 * iptables reads 041 as octal (33), as dsr.conf(5) says; dsrctl's own
	 * range check, in ksh arithmetic, read it as decimal 41, and refused
	 * 064..077 as above 63.
	 */
	if (word[0] == '0' && word[1] && word[1] != 'x' && word[1] != 'X' &&
	    strtoul(word, NULL, 10) > L3DSR_DSCP_MAX) {
		snprintf(why, WORDS_ERROR_SIZE,
			 "DSCP \"%s\" was refused by dsrctl, whose range check reads it as decimal %lu",
			 word, strtoul(word, NULL, 10));
		return -1;
	}
	errno = 0;
	value = strtoul(word, &end, 0);
	if (errno || *end || value > L3DSR_DSCP_MAX) {
		snprintf(why, WORDS_ERROR_SIZE,
			 "DSCP \"%s\" is out of range (%d..%d)", word,
			 L3DSR_DSCP_MIN, L3DSR_DSCP_MAX);
		return -1;
	}
	if (!value) {
		snprintf(why, WORDS_ERROR_SIZE,
			 "DSCP \"%s\" is 0, every unmarked packet: dsrtools let it through, l3dsr never maps it",
			 word);
		return -1;
	}
	*dscp = value;
	return 0;
}

/* What the kernel refuses as a VIP (l3dsr(7)), or NULL. */
static const char *vip_refusal(int family, const unsigned char *a)
{
	static const unsigned char broadcast[4] = { 255, 255, 255, 255 };
	const struct in6_addr *a6 = (const struct in6_addr *)a;

	if (family == AF_INET) {
		if (a[0] == 127)
			return "a loopback address";
		if (a[0] == 0)
			return "in 0.0.0.0/8, no host's address";
		if (a[0] >= 224 && a[0] < 240)
			return "a multicast address";
		if (!memcmp(a, broadcast, sizeof(broadcast)))
			return "the broadcast address";
		return NULL;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(a6))
		return "the unspecified address";
	if (IN6_IS_ADDR_LOOPBACK(a6))
		return "a loopback address";
	if (IN6_IS_ADDR_MULTICAST(a6))
		return "a multicast address";
	return NULL;
}

/* One VIP line of a file, and what became of it. */
struct dsr_rec {
	const char *file;	/* points into the file list */
	unsigned int line;
	enum dsr_kind kind;	/* DSR_L3 or DSR_L2 once read */
	int family;
	unsigned char vip[16];
	unsigned int dscp;	/* as iptables read it: 041 is 33 */
	unsigned long dsrctl_dscp;	/* as dsrctl's ksh read it: 041 is 41 */
	char dscp_word[24];	/* as written, for messages */
	char *text;		/* the line as read */
	char *comment;		/* its comment, or NULL */
	char note[200];		/* how a host name was resolved, or "" */
	char why[320];		/* why it is not converted, or "" */
	const struct dsr_rec *same;	/* the line this one repeats */
	bool unheld;		/* an L2DSR VIP no mapping holds */
};

struct dsr_import {
	struct dsr_rec *recs;
	size_t count, capacity;
	char **files;
	size_t file_count, file_capacity;
	bool names;		/* any VIP was a host name */
	const char *prefix;	/* what messages start with */
	bool failed;		/* listing or reading failed: nothing written */
};

/* nftw() takes no argument for its callback. */
static struct dsr_import *listing;

static int add_file(struct dsr_import *im, const char *path)
{
	char **grown;

	if (im->file_count == im->file_capacity) {
		size_t capacity = im->file_capacity ? 2 * im->file_capacity : 16;

		grown = reallocarray(im->files, capacity, sizeof(*grown));
		if (!grown)
			return -1;
		im->files = grown;
		im->file_capacity = capacity;
	}
	im->files[im->file_count] = strdup(path);
	if (!im->files[im->file_count])
		return -1;
	im->file_count++;
	return 0;
}

/*
 * dsrctl lists its files with `find -L DIR -type f -name '*.conf' | sort`:
 * every regular file whose name ends in ".conf", in subdirectories too,
 * through symbolic links, in the order of the locale's collation.
 */
static int collect(const char *path, const struct stat *st, int type,
		   struct FTW *ftw)
{
	const char *name = path + ftw->base;
	size_t length = strlen(name);

	if (type == FTW_DNR) {
		fprintf(stderr, "%scannot read directory %s: %s\n",
			listing->prefix, path, strerror(EACCES));
		listing->failed = true;
		return 0;
	}
	if (type != FTW_F || !S_ISREG(st->st_mode) || length < 5 ||
	    strcmp(name + length - 5, ".conf"))
		return 0;
	if (add_file(listing, path) < 0) {
		fprintf(stderr, "%s%s\n", listing->prefix, strerror(ENOMEM));
		listing->failed = true;
		return 1;
	}
	return 0;
}

static int compare_paths(const void *left, const void *right)
{
	return strcoll(*(char *const *)left, *(char *const *)right);
}

static int list_files(struct dsr_import *im, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "%scannot open %s: %s\n", im->prefix, path,
			strerror(errno));
		return -1;
	}
	/* A file named alone is read whatever its name, as dsrctl -f does. */
	if (!S_ISDIR(st.st_mode)) {
		if (add_file(im, path) < 0) {
			fprintf(stderr, "%s%s\n", im->prefix, strerror(ENOMEM));
			return -1;
		}
		return 0;
	}
	listing = im;
	if (nftw(path, collect, 16, 0) < 0 && !im->failed) {
		fprintf(stderr, "%scannot list %s: %s\n", im->prefix, path,
			strerror(errno));
		im->failed = true;
	}
	listing = NULL;
	if (im->failed)
		return -1;
	setlocale(LC_COLLATE, "");
	qsort(im->files, im->file_count, sizeof(*im->files), compare_paths);
	return 0;
}

static struct dsr_rec *new_rec(struct dsr_import *im, const char *file,
			       unsigned int line, const char *text)
{
	struct dsr_rec *grown, *rec;

	if (im->count == im->capacity) {
		size_t capacity = im->capacity ? 2 * im->capacity : 32;

		grown = reallocarray(im->recs, capacity, sizeof(*grown));
		if (!grown)
			return NULL;
		im->recs = grown;
		im->capacity = capacity;
	}
	rec = &im->recs[im->count];
	memset(rec, 0, sizeof(*rec));
	rec->text = strdup(text);
	if (!rec->text)
		return NULL;
	rec->file = file;
	rec->line = line;
	im->count++;
	return rec;
}

static void append(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

/*
 * dsrctl took a host name for its first IPv4 address (`getent ahostsv4`),
 * never for an IPv6 one. The note says what the name gave, family by
 * family.
 */
static int resolve(struct dsr_rec *rec, const char *name)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
	};
	char text[INET6_ADDRSTRLEN], others[160] = "";
	struct addrinfo *found, *ai;
	bool have_v4 = false;
	int ret;

	ret = getaddrinfo(name, NULL, &hints, &found);
	if (ret) {
		snprintf(rec->why, sizeof(rec->why),
			 "host name %s does not resolve: %s", name,
			 ret == EAI_SYSTEM ? strerror(errno) :
					     gai_strerror(ret));
		return -1;
	}
	for (ai = found; ai; ai = ai->ai_next) {
		const void *addr;

		if (ai->ai_family == AF_INET)
			addr = &((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		else if (ai->ai_family == AF_INET6)
			addr = &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		else
			continue;
		if (ai->ai_family == AF_INET && !have_v4) {
			have_v4 = true;
			memcpy(rec->vip, addr, 4);
			continue;
		}
		inet_ntop(ai->ai_family, addr, text, sizeof(text));
		append(others, sizeof(others), "%s%s %s",
		       others[0] ? ", " : "", family_label(ai->ai_family),
		       text);
	}
	freeaddrinfo(found);
	if (!have_v4) {
		snprintf(rec->why, sizeof(rec->why),
			 "host name %s has no IPv4 address (it gives %s), and dsrtools took a name for its IPv4 address only: write the address that is meant",
			 name, others);
		return -1;
	}
	rec->family = AF_INET;
	inet_ntop(AF_INET, rec->vip, text, sizeof(text));
	snprintf(rec->note, sizeof(rec->note), "%s is IPv4 %s", name, text);
	if (others[0])
		append(rec->note, sizeof(rec->note),
		       " (also %s, unused: dsrtools took the first IPv4 address)",
		       others);
	return 0;
}

/* Turn one split line into a record of what it asks for. */
static void read_vip(struct dsr_import *im, struct dsr_rec *rec,
		     const struct dsr_line *l)
{
	char why[WORDS_ERROR_SIZE];
	const char *refusal;

	rec->kind = l->kind;
	if (l->comment) {
		rec->comment = strdup(l->comment);
		if (!rec->comment) {
			snprintf(rec->why, sizeof(rec->why), "%s",
				 strerror(ENOMEM));
			return;
		}
	}
	if (l->dscp && dsr_parse_dscp(l->dscp, &rec->dscp, why) < 0) {
		snprintf(rec->why, sizeof(rec->why), "%s", why);
		return;
	}
	if (l->dscp) {
		snprintf(rec->dscp_word, sizeof(rec->dscp_word), "%s",
			 l->dscp);
		rec->dsrctl_dscp = strtoul(l->dscp, NULL,
					   l->dscp[0] == '0' &&
					   (l->dscp[1] == 'x' ||
					    l->dscp[1] == 'X') ? 16 : 10);
	}
	switch (l->vip_kind) {
	case DSR_VIP_IPV4:
		if (inet_pton(AF_INET, l->vip, rec->vip) != 1) {
			snprintf(rec->why, sizeof(rec->why),
				 "\"%s\" is not an IPv4 address", l->vip);
			return;
		}
		rec->family = AF_INET;
		break;
	case DSR_VIP_IPV6:
		if (inet_pton(AF_INET6, l->vip, rec->vip) != 1) {
			snprintf(rec->why, sizeof(rec->why),
				 "\"%s\" is not an IPv6 address (dsrtools reads a word of hex digits and colons as one, never as a host name)",
				 l->vip);
			return;
		}
		rec->family = AF_INET6;
		break;
	case DSR_VIP_NAME:
		im->names = true;
		if (resolve(rec, l->vip) < 0)
			return;
		break;
	}
	refusal = vip_refusal(rec->family, rec->vip);
	if (refusal) {
		char text[INET6_ADDRSTRLEN];

		inet_ntop(rec->family, rec->vip, text, sizeof(text));
		if (l->vip_kind == DSR_VIP_NAME)
			snprintf(rec->why, sizeof(rec->why),
				 "%s is %s %s, %s, which the kernel refuses as a VIP",
				 l->vip, family_label(rec->family), text,
				 refusal);
		else
			snprintf(rec->why, sizeof(rec->why),
				 "VIP %s is %s, which the kernel refuses",
				 text, refusal);
	}
}

static int read_file(struct dsr_import *im, const char *path)
{
	char why[WORDS_ERROR_SIZE];
	struct dsr_line l;
	unsigned int line = 0;
	size_t size = 0;
	char *text = NULL;
	ssize_t length;
	FILE *in;
	int ret = 0;

	in = fopen(path, "re");
	if (!in) {
		fprintf(stderr, "%scannot open %s: %s\n", im->prefix, path,
			strerror(errno));
		return -1;
	}
	errno = 0;
	while ((length = getline(&text, &size, in)) >= 0) {
		struct dsr_rec *rec;

		line++;
		if (length && text[length - 1] == '\n')
			text[--length] = '\0';
		/* dsrctl took a CR for a blank; messages need not show it. */
		if (length && text[length - 1] == '\r')
			text[--length] = '\0';
		rec = new_rec(im, path, line, text);
		if (!rec) {
			fprintf(stderr, "%s%s\n", im->prefix, strerror(ENOMEM));
			ret = -1;
			break;
		}
		if (memchr(text, '\0', length)) {
			snprintf(rec->why, sizeof(rec->why),
				 "a NUL byte: this is not a text file");
			break;
		}
		if (line == 1 && !strncmp(text, "\xef\xbb\xbf", 3)) {
			snprintf(rec->why, sizeof(rec->why),
				 "a UTF-8 byte order mark starts the file, which dsrctl read as part of the line: remove it");
			continue;
		}
		if (dsr_split_line(text, &l, why) < 0) {
			snprintf(rec->why, sizeof(rec->why), "%s", why);
			continue;
		}
		if (l.kind == DSR_NOTHING || l.kind == DSR_VERSION) {
			/* Kept out of the records: nothing to say of it. */
			free(rec->text);
			im->count--;
			continue;
		}
		read_vip(im, rec, &l);
	}
	if (!ret && ferror(in)) {
		fprintf(stderr, "%scannot read %s: %s\n", im->prefix, path,
			strerror(errno));
		ret = -1;
	}
	free(text);
	fclose(in);
	return ret;
}

static bool same_vip(const struct dsr_rec *a, const struct dsr_rec *b)
{
	return a->family == b->family &&
	       !memcmp(a->vip, b->vip, address_length(a->family));
}

static bool usable(const struct dsr_rec *rec)
{
	return !rec->why[0] && !rec->same;
}

/*
 * As dsrctl judged the lines, in order, comparing DSCPs as its ksh
 * arithmetic read them (041 as 41): the same VIP and DSCP again is a
 * duplicate it skipped; another VIP for a DSCP of the same family is a
 * conflict it refused. It appended a DADDR rule for each line it kept, and
 * iptables read the DSCPs itself (041 as 33): of the rules it made for one
 * DSCP, the last one rewrote last and is the one in effect. An L2DSR VIP
 * that a mapping holds already needs nothing more; any other becomes a
 * "vip ADDR" line, an address held on lo without a mapping.
 */
static void settle(struct dsr_import *im)
{
	char text[INET6_ADDRSTRLEN];
	size_t i, j;

	for (i = 0; i < im->count; i++) {
		struct dsr_rec *rec = &im->recs[i];

		if (rec->why[0] || rec->kind != DSR_L3)
			continue;
		for (j = 0; j < i; j++) {
			const struct dsr_rec *other = &im->recs[j];

			if (other->kind != DSR_L3 || other->why[0] ||
			    other->same || other->family != rec->family ||
			    other->dsrctl_dscp != rec->dsrctl_dscp)
				continue;
			if (same_vip(other, rec)) {
				rec->same = other;
				break;
			}
			inet_ntop(other->family, other->vip, text,
				  sizeof(text));
			snprintf(rec->why, sizeof(rec->why),
				 "DSCP %u (%s) is mapped already, to %s at %s:%u; dsrctl refused such a configuration (\"Conflicting DSRs\"): keep one",
				 rec->dscp, family_name(rec->family), text,
				 other->file, other->line);
			break;
		}
	}
	/* The rules dsrctl made: the last of each DSCP is in effect. */
	for (i = 0; i < im->count; i++) {
		struct dsr_rec *rec = &im->recs[i];

		if (rec->kind != DSR_L3 || !usable(rec))
			continue;
		for (j = i + 1; j < im->count; j++) {
			const struct dsr_rec *later = &im->recs[j];

			if (later->kind != DSR_L3 || !usable(later) ||
			    later->family != rec->family ||
			    later->dscp != rec->dscp)
				continue;
			if (same_vip(later, rec)) {
				rec->same = later;
				break;
			}
			inet_ntop(later->family, later->vip, text,
				  sizeof(text));
			snprintf(rec->why, sizeof(rec->why),
				 "DSCP %u (%s) is mapped again, to %s, at %s:%u: dsrctl read %s and %s as different numbers, missed the conflict and appended a DADDR rule for each, so the later one was in effect (unless dsrctl ran with -i) and is the one converted",
				 rec->dscp, family_name(rec->family), text,
				 later->file, later->line, rec->dscp_word,
				 later->dscp_word);
			break;
		}
	}
	for (i = 0; i < im->count; i++) {
		struct dsr_rec *rec = &im->recs[i];

		if (rec->why[0] || rec->kind != DSR_L2)
			continue;
		/* A mapping's VIP first, wherever it is; then an earlier L2. */
		for (j = 0; j < im->count && !rec->same; j++)
			if (im->recs[j].kind == DSR_L3 &&
			    usable(&im->recs[j]) && same_vip(&im->recs[j], rec))
				rec->same = &im->recs[j];
		for (j = 0; j < i && !rec->same; j++)
			if (im->recs[j].kind == DSR_L2 &&
			    (usable(&im->recs[j]) || im->recs[j].unheld) &&
			    same_vip(&im->recs[j], rec))
				rec->same = &im->recs[j];
		if (rec->same)
			continue;
		/* held on lo without a mapping: a "vip ADDR" line */
		rec->unheld = true;
	}
}

static void print_origin(FILE *out, const struct dsr_rec *rec)
{
	fprintf(out, "  # %s:%u", rec->file, rec->line);
	if (rec->note[0])
		fprintf(out, ": %s", rec->note);
	if (rec->comment)
		fprintf(out, ": %s", rec->comment);
	fputc('\n', out);
}

static void write_config(FILE *out, const struct dsr_import *im,
			 const char *source)
{
	char text[INET6_ADDRSTRLEN];
	size_t i;

	fprintf(out,
		"# l3dsr configuration converted by `%s import-dsrtools` from\n"
		"# dsrtools' %s.\n"
		"# Check it, then: %s apply -f FILE\n",
		PROG_NAME, source, PROG_NAME);
	if (im->names)
		fputs("# Host names were resolved when this file was written; it holds\n"
		      "# their addresses.\n", out);
	for (i = 0; i < im->count; i++) {
		const struct dsr_rec *rec = &im->recs[i];

		if (rec->same) {
			fprintf(out, "# %s:%u: %s at %s:%u\n", rec->file,
				rec->line,
				rec->kind == rec->same->kind ? "the same as" :
				"held already by the mapping", rec->same->file,
				rec->same->line);
			continue;
		}
		if (rec->kind == DSR_L3 && !rec->why[0]) {
			fprintf(out, "dscp %u vip %s", rec->dscp,
				inet_ntop(rec->family, rec->vip, text,
					  sizeof(text)));
			print_origin(out, rec);
		} else if (rec->unheld) {
			fprintf(out, "vip %s",
				inet_ntop(rec->family, rec->vip, text,
					  sizeof(text)));
			print_origin(out, rec);
		}
	}
}

/* Write the text to path through a temporary file renamed over it. */
static int write_atomically(const struct ctl *ctl, const char *path,
			    const char *text, size_t length)
{
	struct stat st;
	char *temp;
	mode_t mask;
	FILE *out;
	int fd;

	if (asprintf(&temp, "%s.XXXXXX", path) < 0)
		return fail(ctl, "%s", strerror(ENOMEM));
	fd = mkostemp(temp, O_CLOEXEC);
	if (fd < 0) {
		fail(ctl, "cannot create a file beside %s: %s", path,
		     strerror(errno));
		free(temp);
		return EXIT_FAILED;
	}
	/* The mode the file has, or the one a new file would get. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, stat(path, &st) == 0 ? st.st_mode & 07777 :
					      0666 & ~mask) < 0)
		goto fail_fd;
	out = fdopen(fd, "w");
	if (!out)
		goto fail_fd;
	if (fwrite(text, 1, length, out) != length || fflush(out) ||
	    fsync(fd) < 0) {
		int err = errno;

		fclose(out);
		errno = err;
		goto fail_file;
	}
	if (fclose(out) || rename(temp, path) < 0)
		goto fail_file;
	free(temp);
	return EXIT_OK;

fail_fd:
	close(fd);
fail_file:
	fail(ctl, "cannot write %s: %s", path, strerror(errno));
	unlink(temp);
	free(temp);
	return EXIT_FAILED;
}

int cmd_import_dsrtools(const struct ctl *ctl, int argc, char *argv[])
{
	struct dsr_import im = { 0 };
	const char *path = NULL, *output = NULL;
	size_t i, length = 0, found = 0, converted = 0;
	char prefix[64], source[4200];
	char *text = NULL;
	struct stat st;
	FILE *out;
	int status = EXIT_OK, n;

	for (n = 0; n < argc; n++) {
		if (!strcmp(argv[n], "-o")) {
			if (output)
				return usage_error(ctl, "-o given twice");
			if (++n == argc)
				return usage_error(ctl, "-o needs a file");
			output = argv[n];
		} else if (argv[n][0] == '-' && argv[n][1]) {
			return usage_error(ctl, "unknown option \"%s\"",
					   argv[n]);
		} else if (path) {
			return usage_error(ctl, "unexpected argument \"%s\"",
					   argv[n]);
		} else {
			path = argv[n];
		}
	}
	if (ctl->json)
		return usage_error(ctl,
				   "-j does not apply: the output is a configuration file");
	if (ctl->family != AF_UNSPEC)
		return usage_error(ctl,
				   "-4 and -6 do not apply: each VIP says its family");
	if (!path)
		path = DSRTOOLS_DIR;
	if (stat(path, &st) < 0)
		return fail(ctl, "cannot open %s: %s", path, strerror(errno));

	snprintf(prefix, sizeof(prefix), PROG_NAME ": %s: ", ctl->cmd->name);
	im.prefix = prefix;
	if (list_files(&im, path) < 0) {
		status = EXIT_FAILED;
		goto out;
	}
	for (i = 0; i < im.file_count; i++) {
		if (read_file(&im, im.files[i]) < 0) {
			status = EXIT_FAILED;
			goto out;
		}
	}
	settle(&im);

	for (i = 0; i < im.count; i++) {
		const struct dsr_rec *rec = &im.recs[i];

		if (rec->kind == DSR_L3 || rec->kind == DSR_L2)
			found++;
		if (!rec->why[0]) {
			converted++;
			continue;
		}
		fprintf(stderr, "%s%s:%u: not converted: %s: %s\n", prefix,
			rec->file, rec->line, rec->why, rec->text);
		status = EXIT_FAILED;
	}
	if (!im.file_count) {
		fprintf(stderr, "%s%s: no *.conf file: nothing to import\n",
			prefix, path);
		status = EXIT_FAILED;
		goto out;
	}
	if (!found && status == EXIT_OK) {
		fprintf(stderr, "%s%s: no VIP in %zu file%s: nothing to import\n",
			prefix, path, im.file_count,
			im.file_count == 1 ? "" : "s");
		status = EXIT_FAILED;
		goto out;
	}
	if (status) {
		fprintf(stderr, "%s%zu of %zu VIP lines converted; the others need a decision%s\n",
			prefix, converted, im.count,
			output ? ": nothing written" : "");
		if (output)
			goto out;
	}

	snprintf(source, sizeof(source), "%s%s", path,
		 S_ISDIR(st.st_mode) ? ": every *.conf under it, in locale order" :
				       "");
	out = output ? open_memstream(&text, &length) : stdout;
	if (!out) {
		status = fail(ctl, "%s", strerror(ENOMEM));
		goto out;
	}
	write_config(out, &im, source);
	if (output) {
		if (fclose(out)) {
			status = fail(ctl, "%s", strerror(ENOMEM));
			goto out;
		}
		status = write_atomically(ctl, output, text, length);
	}
out:
	for (i = 0; i < im.count; i++) {
		free(im.recs[i].text);
		free(im.recs[i].comment);
	}
	free(im.recs);
	for (i = 0; i < im.file_count; i++)
		free(im.files[i]);
	free(im.files);
	free(text);
	return status;
}
