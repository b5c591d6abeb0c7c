// SPDX-License-Identifier: GPL-2.0
/* The words of a mapping, shared by the command line and the config files. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "l3dsr.h"
#include "dscp.h"
#include "json.h"
#include "words.h"

static const struct {
	const char *name;
	bool takes_value;
} keywords[KW_COUNT] = {
	[KW_DSCP] = { "dscp", true },
	[KW_VIP] = { "vip", true },
	[KW_RIP] = { "rip", true },
	[KW_DEV] = { "dev", true },
	[KW_CLEAR_DSCP] = { "clear-dscp", false },
	[KW_NONLOCAL] = { "nonlocal", false },
	[KW_DOWN] = { "down", false },
	[KW_UP] = { "up", false },
	[KW_NONLOCAL_SWITCH] = { "nonlocal", true },
	[KW_ADD_VIP] = { "add-vip", false },
	[KW_VIP_DEVICE] = { "vip-device", true },
	[KW_DEL_VIP] = { "del-vip", false },
};

/* The flags a mapping's words can name, in the order they are written. */
static const struct {
	uint32_t flag;
	const char *word;
	const char *key;
} flag_words[] = {
	{ L3DSR_F_CLEAR_DSCP, "clear-dscp", "clear_dscp" },
	{ L3DSR_F_NONLOCAL, "nonlocal", "nonlocal" },
	{ L3DSR_F_DOWN, "down", "down" },
};

#define FLAG_WORD_COUNT (sizeof(flag_words) / sizeof(flag_words[0]))

const char *family_name(int family)
{
	switch (family) {
	case AF_INET:
		return "inet";
	case AF_INET6:
		return "inet6";
	}
	return "unknown";
}

const char *family_label(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

size_t address_length(int family)
{
	return family == AF_INET ? sizeof(struct in_addr) :
				   sizeof(struct in6_addr);
}

int parse_address(const char *word, unsigned char *addr)
{
	if (inet_pton(AF_INET, word, addr) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, word, addr) == 1)
		return AF_INET6;
	return AF_UNSPEC;
}

int words_keywords(int argc, char *argv[], unsigned int allowed,
		   const char *values[KW_COUNT], char err[WORDS_ERROR_SIZE])
{
	int i, k;

	for (i = 0; i < argc; i++) {
		for (k = 0; k < KW_COUNT; k++)
			if ((allowed & KW_BIT(k)) &&
			    !strcmp(argv[i], keywords[k].name))
				break;
		if (k == KW_COUNT) {
			snprintf(err, WORDS_ERROR_SIZE,
				 "unknown keyword \"%s\"", argv[i]);
			return -1;
		}
		if (values[k]) {
			snprintf(err, WORDS_ERROR_SIZE, "\"%s\" given twice",
				 argv[i]);
			return -1;
		}
		if (!keywords[k].takes_value) {
			values[k] = argv[i];
			continue;
		}
		if (i + 1 == argc) {
			snprintf(err, WORDS_ERROR_SIZE,
				 "missing value after \"%s\"", argv[i]);
			return -1;
		}
		values[k] = argv[++i];
	}
	return 0;
}

int words_device(const char *word, char name[IF_NAMESIZE],
		 char err[WORDS_ERROR_SIZE])
{
	if (!word[0] || strlen(word) >= IF_NAMESIZE || strchr(word, '/')) {
		snprintf(err, WORDS_ERROR_SIZE,
			 "invalid device name \"%s\": 1 to %d characters, no \"/\"",
			 word, IF_NAMESIZE - 1);
		return -1;
	}
	strcpy(name, word);
	return 0;
}

int words_dscp(const char *word, unsigned int *dscp,
	       char err[WORDS_ERROR_SIZE])
{
	switch (dscp_parse(word, dscp)) {
	case DSCP_VALID:
		return 0;
	case DSCP_IS_ZERO:
		snprintf(err, WORDS_ERROR_SIZE,
			 "DSCP \"%s\" cannot be mapped: DSCP 0 is every unmarked packet",
			 word);
		return -1;
	case DSCP_OUT_OF_RANGE:
		snprintf(err, WORDS_ERROR_SIZE,
			 "DSCP \"%s\" is out of range (%d..%d)", word,
			 L3DSR_DSCP_MIN, L3DSR_DSCP_MAX);
		return -1;
	case DSCP_UNKNOWN:
		break;
	}
	snprintf(err, WORDS_ERROR_SIZE,
		 "invalid DSCP \"%s\": expected a number %d..%d or a class name (CS1..CS7, AF11..AF43, EF)",
		 word, L3DSR_DSCP_MIN, L3DSR_DSCP_MAX);
	return -1;
}

int words_switch(const char *keyword, const char *value, bool *on,
		 char err[WORDS_ERROR_SIZE])
{
	if (!strcmp(value, "on") || !strcmp(value, "off")) {
		*on = value[1] == 'n';
		return 0;
	}
	snprintf(err, WORDS_ERROR_SIZE,
		 "invalid value \"%s\" after \"%s\": expected \"on\" or \"off\"",
		 value, keyword);
	return -1;
}

/*
 * What the kernel refuses as a VIP or RIP (kmod/netlink.c,
 * l3dsr_addr_is_unicast()), in the same words for every caller, or NULL.
 */
const char *address_not_unicast(int family, const unsigned char *addr)
{
	static const unsigned char loopback6[16] = { [15] = 1 };
	static const unsigned char any6[16];

	if (family == AF_INET) {
		if (addr[0] >= 224 && addr[0] <= 239)
			return "a multicast address";
		if (addr[0] == 255 && addr[1] == 255 && addr[2] == 255 &&
		    addr[3] == 255)
			return "the broadcast address";
		/* Only 0.0.0.0 itself: the rest of 0/8 is valid since 5.3. */
		if (!addr[0] && !addr[1] && !addr[2] && !addr[3])
			return "the unspecified address";
		if (addr[0] == 127)
			return "a loopback address";
		return NULL;
	}
	if (!memcmp(addr, any6, 16))
		return "the unspecified address";
	if (addr[0] == 0xff)
		return "a multicast address";
	if (!memcmp(addr, loopback6, 16))
		return "the loopback address";
	return NULL;
}

/* The kernel's check, unless L3DSRCTL_SKIP_CHECKS asks to leave it to it. */
static int check_unicast(const char *keyword, const char *word, int family,
			 const unsigned char *addr, char err[WORDS_ERROR_SIZE])
{
	const char *why = address_not_unicast(family, addr);
	const char *skip = getenv("L3DSRCTL_SKIP_CHECKS");

	if (!why || (skip && !strcmp(skip, "1")))
		return 0;
	snprintf(err, WORDS_ERROR_SIZE,
		 "%s %s is %s: a mapping needs a unicast address", keyword,
		 word, why);
	return -1;
}

int words_mapping(int argc, char *argv[], unsigned int allowed,
		  struct mapping_spec *spec, char err[WORDS_ERROR_SIZE])
{
	const char *values[KW_COUNT] = { NULL };
	const char *vip, *rip, *dev;
	struct mapping *m = &spec->m;

	memset(spec, 0, sizeof(*spec));
	if (words_keywords(argc, argv, allowed, values, err) < 0)
		return -1;
	if (!values[KW_DSCP]) {
		snprintf(err, WORDS_ERROR_SIZE, "missing \"dscp DSCP\"");
		return -1;
	}
	if (!values[KW_VIP]) {
		snprintf(err, WORDS_ERROR_SIZE, "missing \"vip ADDR\"");
		return -1;
	}
	if (words_dscp(values[KW_DSCP], &m->dscp, err) < 0)
		return -1;

	vip = values[KW_VIP];
	m->family = parse_address(vip, m->vip);
	if (m->family == AF_UNSPEC) {
		snprintf(err, WORDS_ERROR_SIZE,
			 "invalid vip \"%s\": not an IPv4 or IPv6 address",
			 vip);
		return -1;
	}
	if (check_unicast("vip", vip, m->family, m->vip, err) < 0)
		return -1;

	rip = values[KW_RIP];
	if (rip) {
		int rip_family = parse_address(rip, m->rip);

		if (rip_family == AF_UNSPEC) {
			snprintf(err, WORDS_ERROR_SIZE,
				 "invalid rip \"%s\": not an IPv4 or IPv6 address",
				 rip);
			return -1;
		}
		if (rip_family != m->family) {
			snprintf(err, WORDS_ERROR_SIZE,
				 "rip %s is %s but vip %s is %s: both must be of one family",
				 rip, family_label(rip_family), vip,
				 family_label(m->family));
			return -1;
		}
		if (check_unicast("rip", rip, m->family, m->rip, err) < 0)
			return -1;
		m->has_rip = true;
	}

	dev = values[KW_DEV];
	if (dev && words_device(dev, spec->dev, err) < 0)
		return -1;
	dev = values[KW_VIP_DEVICE];
	if (dev && words_device(dev, spec->vip_dev, err) < 0)
		return -1;
	spec->add_vip = values[KW_ADD_VIP] || dev;

	if (values[KW_CLEAR_DSCP])
		m->flags |= L3DSR_F_CLEAR_DSCP;
	if (values[KW_NONLOCAL])
		m->flags |= L3DSR_F_NONLOCAL;
	if (values[KW_DOWN])
		m->flags |= L3DSR_F_DOWN;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
	       c == '\v' || c == '\f';
}

int words_split(char *line, char *words[], int max)
{
	int count = 0;
	char *p = line;

	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p || *p == '#')
			return count;
		if (count == max)
			return -1;
		words[count++] = p;
		while (*p && !is_blank(*p))
			p++;
		if (!*p)
			return count;
		*p++ = '\0';
	}
}

void spec_describe(const struct mapping_spec *spec, FILE *out)
{
	const struct mapping *m = &spec->m;
	char addr[INET6_ADDRSTRLEN];

	fprintf(out, "dscp %u vip %s", m->dscp,
		inet_ntop(m->family, m->vip, addr, sizeof(addr)));
	if (m->has_rip)
		fprintf(out, " rip %s",
			inet_ntop(m->family, m->rip, addr, sizeof(addr)));
	if (spec->dev[0])
		fprintf(out, " dev %s", spec->dev);
	flags_describe(m->flags, out);
}

void flags_describe(uint32_t flags, FILE *out)
{
	size_t i;

	for (i = 0; i < FLAG_WORD_COUNT; i++)
		if (flags & flag_words[i].flag)
			fprintf(out, " %s", flag_words[i].word);
}

void flags_json(struct json *json, uint32_t flags, uint32_t known)
{
	size_t i;

	for (i = 0; i < FLAG_WORD_COUNT; i++) {
		json_key(json, flag_words[i].key);
		if (known & flag_words[i].flag)
			json_bool(json, flags & flag_words[i].flag);
		else
			json_null(json);
	}
}

/* Append word to cell, after a comma unless it is the first. */
static void append_flag(char *cell, size_t size, size_t *used,
			const char *word)
{
	int n;

	if (*used >= size)
		return;
	n = snprintf(cell + *used, size - *used, "%s%s", *used ? "," : "",
		     word);
	if (n > 0)
		*used += n;
}

void flags_format(uint32_t flags, char *cell, size_t size)
{
	uint32_t unknown = flags & ~(uint32_t)__L3DSR_F_ALL;
	size_t used = 0, i;

	if (!flags) {
		snprintf(cell, size, "-");
		return;
	}
	cell[0] = '\0';
	/* Whether it rewrites at all comes first. */
	if (flags & L3DSR_F_DOWN)
		append_flag(cell, size, &used, "down");
	for (i = 0; i < FLAG_WORD_COUNT; i++)
		if (flag_words[i].flag != L3DSR_F_DOWN &&
		    (flags & flag_words[i].flag))
			append_flag(cell, size, &used, flag_words[i].word);
	/* Flags a newer kernel knows of are shown rather than hidden. */
	if (unknown) {
		char hex[16];

		snprintf(hex, sizeof(hex), "0x%x", unknown);
		append_flag(cell, size, &used, hex);
	}
}
