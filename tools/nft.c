// SPDX-License-Identifier: GPL-2.0
/*
 * nft: the table in nftables, for hosts where the module cannot be loaded.
 *
 * The layout (nft_ruleset below):
 *   - map vip4 / vip6: DSCP -> VIP, every mapping, up or down, each element
 *     with its counter and a comment holding its flags ("down", "nonlocal",
 *     "clear-dscp"); the counters are those `show` reports. A down mapping
 *     stays here, counter and all, so `up` brings it back as it was.
 *   - map go4 / go6: DSCP -> the chain for the mappings that are up:
 *     local4 (fib must say the destination is ours), any4 (nonlocal), and
 *     the same with "c" for clear-dscp.
 *   - chain prerouting at the module's priority, -310 (NF_IP_PRI_RAW - 10):
 *     the go4/go6 lookup alone, so an unmapped DSCP costs one lookup. The
 *     chain it sends to checks what the module checks and nftables can
 *     express, then jumps to rw_<chain>, which looks the VIP up in
 *     vip4/vip6 (counting the element), rewrites and counts in its rule.
 *
 * nftables fixes the IPv4 header checksum and the transport checksum of
 * TCP, UDP, UDP-Lite and ICMPv6 (those over a pseudo-header) when the
 * destination changes, and nothing else: so only those protocols and the
 * ones whose checksums do not cover the destination are let through.
 * Fragments are left alone, all of them: nftables' l4proto of a later
 * IPv6 fragment is its Fragment header's next header, of the first the
 * transport past every extension header, so the two could be judged apart
 * and the datagram rewritten in part, which never reassembles. With
 * nf_defrag loaded (by conntrack) at -400, the reassembled datagram is
 * what the chain sees, and it is rewritten whole.
 *
 * Changes are written in nft's own language, not its JSON: libnftables
 * 1.0.6 ignores a table's comment and an element's counter values in JSON
 * input, and both are needed (the marker; counters that survive a move).
 * One buffer is one transaction. The table is read back as JSON.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/genetlink.h>
#include <nftables/libnftables.h>
/*
 * jansson and json.h (the tool's JSON writer) both name functions
 * json_string and json_null; nothing here writes JSON, so json.h stays out.
 */
#include <jansson.h>
#define L3DSRCTL_JSON_H
struct json;

#include "l3dsrctl.h"
#include "family.h"
#include "mapping.h"
#include "nft.h"

struct nft_backend {
	struct nft_ctx *ctx;
	const char *cmd;
};

/* The protocols whose checksums nftables keeps right, per family. */
#define PROTOCOLS_IPV4 "{ 1, 2, 4, 6, 17, 41, 47, 50, 89, 103, 132, 136 }"
#define PROTOCOLS_IPV6 "{ 4, 6, 17, 41, 47, 50, 58, 132, 136 }"

/*
 * The IPv6 maps are keyed by the DSCP where it sits in the header's first
 * 16 bits (DSCP << 6): nft 1.0.6 stores a named map's "ip6 dscp" keys in
 * one byte, while the lookup hands it the two the field spans, so no key
 * would ever match. A raw, masked field has one size on both sides.
 */
#define DSCP6 "@nh,0,16 & 0x0fc0"
#define DSCP6_SHIFT 6

/*
 * What the module checks before a lookup that nftables can express, per
 * family: addressed to this host at the link layer, not the second pass a
 * VRF makes on its own device (judged once, on the first), not a
 * fragment, no source route, a protocol whose checksum stays right.
 */
#define FILTER4 "meta pkttype host meta iifkind != \"vrf\" " \
	"ip frag-off & 0x3fff == 0 ip option lsrr missing ip option ssrr missing " \
	"meta l4proto " PROTOCOLS_IPV4
#define FILTER6 "meta pkttype host meta iifkind != \"vrf\" " \
	"exthdr frag missing exthdr rt missing meta l4proto " PROTOCOLS_IPV6

/* A chain the vmap sends to: the checks, then the rewrite. */
#define ENTRY(name, filter) \
	"\tchain " name " {\n\t\t" filter " goto rw_" name "\n\t}\n"
/* The rewrite, counted. */
#define REWRITE_ANY(name, rewrite) \
	"\tchain rw_" name " {\n\t\t" rewrite " counter\n\t}\n"
/*
 * For this host, then the rewrite of the chain without the test; what
 * failed the test is counted, by a rule a packet sent on never reaches
 * (nor one whose rewrite gives up, which goto does not return from).
 * "fib daddr . mark type local" is the local table (IPv4) or a route
 * (IPv6) saying local, whatever device holds the address; with ". iif"
 * the address must be on the ingress device, but the table is its VRF's:
 * either will do.
 */
#define REWRITE_LOCAL(name, any) \
	"\tchain rw_" name " {\n" \
	"\t\tfib daddr . mark type local goto rw_" any "\n" \
	"\t\tfib daddr . mark . iif type local goto rw_" any "\n" \
	"\t\tcounter\n\t}\n"

#define SET4 "ip daddr set ip dscp map @vip4"
#define SET6 "ip6 daddr set " DSCP6 " map @vip6"
#define CLEAR4 " ip dscp set cs0"
#define CLEAR6 " ip6 dscp set cs0"

/*
 * The prerouting chain does one lookup, so that a packet whose DSCP is
 * not mapped (most of a host's traffic) costs that alone; the checks run
 * for mapped DSCPs only.
 */
static const char nft_ruleset[] =
	"table inet " NFT_TABLE_NAME " {\n"
	"\tcomment \"" NFT_TABLE_MARKER "\"\n"
	"\tmap vip4 { type dscp : ipv4_addr; counter; }\n"
	"\tmap vip6 { typeof @nh,0,16 : ip6 daddr; counter; }\n"
	"\tmap go4 { type dscp : verdict; }\n"
	"\tmap go6 { typeof @nh,0,16 : verdict; }\n"
	REWRITE_ANY("any4", SET4)
	REWRITE_ANY("any4c", SET4 CLEAR4)
	REWRITE_LOCAL("local4", "any4")
	REWRITE_LOCAL("local4c", "any4c")
	REWRITE_ANY("any6", SET6)
	REWRITE_ANY("any6c", SET6 CLEAR6)
	REWRITE_LOCAL("local6", "any6")
	REWRITE_LOCAL("local6c", "any6c")
	ENTRY("local4", FILTER4)
	ENTRY("local4c", FILTER4)
	ENTRY("any4", FILTER4)
	ENTRY("any4c", FILTER4)
	ENTRY("local6", FILTER6)
	ENTRY("local6c", FILTER6)
	ENTRY("any6", FILTER6)
	ENTRY("any6c", FILTER6)
	"\tchain prerouting {\n"
	"\t\ttype filter hook prerouting priority -310; policy accept;\n"
	"\t\tip dscp vmap @go4\n"
	"\t\tmeta nfproto ipv6 " DSCP6 " vmap @go6\n"
	"\t}\n"
	"}\n";

static int family_index(int family)
{
	return family == AF_INET6;
}

static char family_digit(int family)
{
	return family == AF_INET6 ? '6' : '4';
}

/* A DSCP as the family's maps key it. */
static unsigned int map_key(int family, unsigned int dscp)
{
	return family == AF_INET6 ? dscp << DSCP6_SHIFT : dscp;
}

const char *nft_chain_of(const struct mapping *m)
{
	static const char *const chains[2][2][2] = {
		{ { "local4", "local4c" }, { "any4", "any4c" } },
		{ { "local6", "local6c" }, { "any6", "any6c" } },
	};

	return chains[family_index(m->family)]
		     [!!(m->flags & L3DSR_F_NONLOCAL)]
		     [!!(m->flags & L3DSR_F_CLEAR_DSCP)];
}

/* --------------------------------------------------------- the writing */

struct text {
	char *buf;
	size_t len, size;
	bool failed;
};

static void text_add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;

	if (t->failed)
		return;
	for (;;) {
		int n;

		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL,
			      t->buf ? t->size - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if (t->buf && t->len + n < t->size) {
			t->len += n;
			return;
		}
		t->size = 2 * (t->size + n + 1);
		t->buf = realloc(t->buf, t->size);
		if (!t->buf) {
			t->failed = true;
			return;
		}
	}
}

/* The flags a comment keeps: every one, "down" included. */
static void flag_words(uint32_t flags, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s",
		 flags & L3DSR_F_DOWN ? " down" : "",
		 flags & L3DSR_F_NONLOCAL ? " nonlocal" : "",
		 flags & L3DSR_F_CLEAR_DSCP ? " clear-dscp" : "");
}

static void add_element(struct text *t, const struct mapping *m)
{
	char vip[INET6_ADDRSTRLEN], words[64];

	inet_ntop(m->family, m->vip, vip, sizeof(vip));
	flag_words(m->flags, words, sizeof(words));
	text_add(t, "add element inet " NFT_TABLE_NAME " vip%c { %u counter packets %" PRIu64
		 " bytes %" PRIu64, family_digit(m->family),
		 map_key(m->family, m->dscp), m->packets, m->bytes);
	if (words[0])
		text_add(t, " comment \"%s\"", words + 1);
	text_add(t, " : %s }\n", vip);
	if (!(m->flags & L3DSR_F_DOWN))
		text_add(t, "add element inet " NFT_TABLE_NAME " go%c { %u : goto %s }\n",
			 family_digit(m->family), map_key(m->family, m->dscp),
			 nft_chain_of(m));
}

static void delete_element(struct text *t, const struct mapping *m)
{
	/* What sends packets there goes first. */
	if (!(m->flags & L3DSR_F_DOWN))
		text_add(t, "delete element inet " NFT_TABLE_NAME " go%c { %u }\n",
			 family_digit(m->family), map_key(m->family, m->dscp));
	text_add(t, "delete element inet " NFT_TABLE_NAME " vip%c { %u }\n",
		 family_digit(m->family), map_key(m->family, m->dscp));
}

static bool same_mapping(const struct mapping *a, const struct mapping *b)
{
	return a->flags == b->flags &&
	       !memcmp(a->vip, b->vip, address_length(a->family));
}

char *nft_transaction(const struct nft_table *from, const struct nft_table *to)
{
	struct text t = { 0 };
	int f, d;

	text_add(&t, "%s", "");
	if (!from->exists)
		text_add(&t, "%s", nft_ruleset);
	for (f = 0; f < 2; f++) {
		for (d = L3DSR_DSCP_MIN; d <= L3DSR_DSCP_MAX; d++) {
			const struct mapping *old = &from->slot[f][d];
			const struct mapping *new = &to->slot[f][d];
			bool had = from->exists && from->present[f][d];

			if (had && to->present[f][d] && same_mapping(old, new))
				continue;
			if (had)
				delete_element(&t, old);
			if (to->present[f][d])
				add_element(&t, new);
		}
	}
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}

/* ----------------------------------------------------- libnftables */

struct nft_backend *nft_open(const char *cmd)
{
	struct nft_backend *nft = calloc(1, sizeof(*nft));

	if (!nft) {
		fprintf(stderr, PROG_NAME ": %s: %s\n", cmd, strerror(ENOMEM));
		return NULL;
	}
	nft->cmd = cmd;
	nft->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft->ctx || nft_ctx_buffer_output(nft->ctx) ||
	    nft_ctx_buffer_error(nft->ctx)) {
		fprintf(stderr, PROG_NAME ": %s: cannot set up libnftables\n",
			cmd);
		nft_close(nft);
		return NULL;
	}
	return nft;
}

void nft_close(struct nft_backend *nft)
{
	if (!nft)
		return;
	if (nft->ctx)
		nft_ctx_free(nft->ctx);
	free(nft);
}

/* nft's message for a failure, its first line, and the errno it names. */
static void take_error(struct nft_backend *nft, struct nl_status *st)
{
	static const struct {
		const char *text;
		int error;
	} known[] = {
		{ "Operation not permitted", EPERM },
		{ "No such file or directory", ENOENT },
		{ "File exists", EEXIST },
		{ "Device or resource busy", EBUSY },
		{ "Cannot allocate memory", ENOMEM },
		{ "Operation not supported", EOPNOTSUPP },
		{ "Protocol not supported", EPROTONOSUPPORT },
	};
	const char *err = nft_ctx_get_error_buffer(nft->ctx);
	size_t i, n;

	memset(st, 0, sizeof(*st));
	st->error = EIO;
	if (!err)
		err = "";
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strstr(err, known[i].text)) {
			st->error = known[i].error;
			break;
		}
	n = strcspn(err, "\n");
	if (n >= sizeof(st->message))
		n = sizeof(st->message) - 1;
	snprintf(st->message, sizeof(st->message), "nftables: %.*s", (int)n,
		 err);
}

int nft_run(struct nft_backend *nft, const char *text, struct nl_status *st)
{
	memset(st, 0, sizeof(*st));
	nft_ctx_output_set_flags(nft->ctx, 0);
	if (nft_run_cmd_from_buffer(nft->ctx, text)) {
		take_error(nft, st);
		return -1;
	}
	return 0;
}

int nft_table_state(struct nft_backend *nft, enum nft_table_state *state,
		    bool quiet)
{
	static const char marker[] =
		"table inet " NFT_TABLE_NAME " {\n\tcomment \"" NFT_TABLE_MARKER "\"\n";
	struct nl_status st;
	const char *out;

	if (nft_run(nft, "list table inet " NFT_TABLE_NAME, &st) < 0) {
		if (st.error == ENOENT) {
			*state = NFT_TABLE_ABSENT;
			return 0;
		}
		if (quiet)
			return -1;
		fprintf(stderr, PROG_NAME ": %s: cannot read nftables: %s%s\n",
			nft->cmd, strerror(st.error),
			st.error == EPERM ? " (needs CAP_NET_ADMIN)" : "");
		return -1;
	}
	out = nft_ctx_get_output_buffer(nft->ctx);
	*state = out && !strncmp(out, marker, sizeof(marker) - 1) ?
		 NFT_TABLE_OURS : NFT_TABLE_FOREIGN;
	return 0;
}

/* ------------------------------------------------------- the reading */

static int parse_flags(const char *comment, uint32_t *flags)
{
	char buf[128], *word, *save = NULL;

	*flags = 0;
	if (!comment)
		return 0;
	snprintf(buf, sizeof(buf), "%s", comment);
	for (word = strtok_r(buf, " ", &save); word;
	     word = strtok_r(NULL, " ", &save)) {
		if (!strcmp(word, "down"))
			*flags |= L3DSR_F_DOWN;
		else if (!strcmp(word, "nonlocal"))
			*flags |= L3DSR_F_NONLOCAL;
		else if (!strcmp(word, "clear-dscp"))
			*flags |= L3DSR_F_CLEAR_DSCP;
		else
			return -1;
	}
	return 0;
}

static int parse_vip_element(json_t *pair, int family, struct nft_table *t)
{
	json_t *key, *val;
	const char *addr, *comment = NULL;
	struct mapping m = { .family = family };
	json_int_t dscp;

	if (!json_is_array(pair) || json_array_size(pair) != 2)
		return -1;
	key = json_array_get(pair, 0);
	addr = json_string_value(json_array_get(pair, 1));
	if (json_is_object(key)) {
		json_t *elem = json_object_get(key, "elem"), *counter;

		val = json_object_get(elem, "val");
		comment = json_string_value(json_object_get(elem, "comment"));
		counter = json_object_get(elem, "counter");
		if (counter) {
			m.packets = json_integer_value(
				json_object_get(counter, "packets"));
			m.bytes = json_integer_value(
				json_object_get(counter, "bytes"));
		}
	} else {
		val = key;
	}
	if (!json_is_integer(val) || !addr)
		return -1;
	dscp = json_integer_value(val);
	if (family == AF_INET6) {
		if (dscp & ((1 << DSCP6_SHIFT) - 1))
			return -1;
		dscp >>= DSCP6_SHIFT;
	}
	if (dscp < L3DSR_DSCP_MIN || dscp > L3DSR_DSCP_MAX ||
	    inet_pton(family, addr, m.vip) != 1 ||
	    parse_flags(comment, &m.flags) < 0)
		return -1;
	m.dscp = dscp;
	t->slot[family_index(family)][dscp] = m;
	t->present[family_index(family)][dscp] = true;
	return 0;
}

/*
 * The counter of a rewriting chain's rule: a rewrite, or (alone in its
 * rule) a packet the fib test found not local.
 */
static void rule_counter(json_t *rule, struct nft_table *t)
{
	json_t *expr = json_object_get(rule, "expr"), *counter = NULL;
	const char *chain = json_string_value(json_object_get(rule, "chain"));
	uint64_t packets;
	size_t i;

	if (!chain || !json_is_array(expr) || !json_array_size(expr) ||
	    strncmp(chain, "rw_", 3))
		return;
	for (i = 0; i < json_array_size(expr) && !counter; i++)
		counter = json_object_get(json_array_get(expr, i), "counter");
	if (!counter)
		return;
	packets = json_integer_value(json_object_get(counter, "packets"));
	if (json_array_size(expr) == 1)
		t->not_local += packets;
	else
		t->rewritten += packets;
}

int nft_parse_listing(const char *text, struct nft_table *t, char *why,
		      size_t len)
{
	json_error_t error;
	json_t *root, *items, *item;
	size_t i, j;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	root = json_loads(text, 0, &error);
	if (!root) {
		snprintf(why, len, "unreadable JSON: %s", error.text);
		return -1;
	}
	items = json_object_get(root, "nftables");
	if (!json_is_array(items)) {
		snprintf(why, len, "no \"nftables\" array");
		ret = -1;
		goto out;
	}
	json_array_foreach(items, i, item) {
		json_t *obj, *elems, *pair;
		const char *name;
		int family;

		if (json_object_get(item, "table")) {
			t->exists = true;
			continue;
		}
		obj = json_object_get(item, "rule");
		if (obj) {
			rule_counter(obj, t);
			continue;
		}
		obj = json_object_get(item, "map");
		name = json_string_value(json_object_get(obj, "name"));
		if (!name || (strcmp(name, "vip4") && strcmp(name, "vip6")))
			continue;
		family = name[3] == '6' ? AF_INET6 : AF_INET;
		elems = json_object_get(obj, "elem");
		json_array_foreach(elems, j, pair) {
			if (parse_vip_element(pair, family, t) < 0) {
				snprintf(why, len, "an element of map %s is not l3dsr's",
					 name);
				ret = -1;
				goto out;
			}
		}
	}
out:
	json_decref(root);
	return ret;
}

int nft_table_read(struct nft_backend *nft, struct nft_table *t,
		   struct nl_status *st)
{
	char why[128];

	memset(t, 0, sizeof(*t));
	nft_ctx_output_set_flags(nft->ctx, NFT_CTX_OUTPUT_JSON |
				 NFT_CTX_OUTPUT_NUMERIC_SYMBOL);
	if (nft_run_cmd_from_buffer(nft->ctx,
				    "list table inet " NFT_TABLE_NAME)) {
		take_error(nft, st);
		nft_ctx_output_set_flags(nft->ctx, 0);
		if (st->error == ENOENT) {
			memset(st, 0, sizeof(*st));
			return 0;
		}
		return -1;
	}
	nft_ctx_output_set_flags(nft->ctx, 0);
	if (nft_parse_listing(nft_ctx_get_output_buffer(nft->ctx), t, why,
			      sizeof(why)) < 0) {
		memset(st, 0, sizeof(*st));
		st->error = EBADMSG;
		snprintf(st->message, sizeof(st->message),
			 "table inet " NFT_TABLE_NAME ": %s", why);
		return -1;
	}
	return 0;
}

int nft_table_delete(struct nft_backend *nft, struct nl_status *st)
{
	if (nft_run(nft, "delete table inet " NFT_TABLE_NAME, st) < 0) {
		if (st->error == ENOENT) {
			memset(st, 0, sizeof(*st));
			return 0;
		}
		return -1;
	}
	return 0;
}

/* ------------------------------------- the l3dsr family's requests */

static void say(struct nl_status *st, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct nl_status *st, int error, const char *fmt, ...)
{
	va_list ap;

	memset(st, 0, sizeof(*st));
	st->error = error;
	va_start(ap, fmt);
	vsnprintf(st->message, sizeof(st->message), fmt, ap);
	va_end(ap);
}

/* A mapping's attributes, from a request or a SET_TABLE nest. */
struct request {
	struct mapping m;
	bool has_family, has_dscp, has_vip, has_flags;
	uint32_t request_flags, mask;
	const struct nlattr *mappings;
};

static int parse_attr(const struct nlattr *attr, struct request *r,
		      struct nl_status *st)
{
	size_t length;

	switch (mnl_attr_get_type(attr)) {
	case L3DSR_A_FAMILY:
		r->m.family = mnl_attr_get_u8(attr);
		r->has_family = r->m.family == AF_INET ||
				r->m.family == AF_INET6;
		break;
	case L3DSR_A_DSCP:
		r->m.dscp = mnl_attr_get_u8(attr);
		r->has_dscp = r->m.dscp >= L3DSR_DSCP_MIN &&
			      r->m.dscp <= L3DSR_DSCP_MAX;
		break;
	case L3DSR_A_VIP:
	case L3DSR_A_RIP:
		length = mnl_attr_get_payload_len(attr);
		if (length != 4 && length != 16) {
			say(st, EINVAL, "an address of %zu bytes", length);
			return -1;
		}
		if (mnl_attr_get_type(attr) == L3DSR_A_RIP) {
			say(st, EOPNOTSUPP,
			    "the nftables backend has no rip scope: it needs the module");
			return -1;
		}
		memcpy(r->m.vip, mnl_attr_get_payload(attr), length);
		r->has_vip = true;
		break;
	case L3DSR_A_IFINDEX:
		say(st, EOPNOTSUPP,
		    "the nftables backend has no dev scope: it needs the module");
		return -1;
	case L3DSR_A_FLAGS:
		r->m.flags = mnl_attr_get_u32(attr);
		r->has_flags = true;
		break;
	case L3DSR_A_FLAGS_MASK:
		r->mask = mnl_attr_get_u32(attr);
		break;
	case L3DSR_A_REQUEST_FLAGS:
		r->request_flags = mnl_attr_get_u32(attr);
		break;
	case L3DSR_A_MAPPINGS:
		r->mappings = attr;
		break;
	}
	return 0;
}

static int check_key(const struct request *r, struct nl_status *st)
{
	if (!r->has_family || !r->has_dscp) {
		say(st, EINVAL, "a mapping needs a family and a DSCP %d..%d",
		    L3DSR_DSCP_MIN, L3DSR_DSCP_MAX);
		return -1;
	}
	return 0;
}

/* The family's index of the table's mapping @r names, or -1 (ENOENT). */
static int find_mapping(const struct nft_table *t, const struct request *r,
			struct nl_status *st)
{
	int f;

	if (check_key(r, st) < 0)
		return -1;
	f = family_index(r->m.family);
	if (!t->present[f][r->m.dscp]) {
		st->error = ENOENT;
		return -1;
	}
	return f;
}

static int check_mapping(const struct request *r, struct nl_status *st)
{
	if (check_key(r, st) < 0)
		return -1;
	if (!r->has_vip) {
		say(st, EINVAL, "a mapping needs a VIP");
		return -1;
	}
	if (r->m.flags & ~(uint32_t)__L3DSR_F_ALL) {
		say(st, EINVAL, "unknown flags 0x%x",
		    r->m.flags & ~(uint32_t)__L3DSR_F_ALL);
		return -1;
	}
	return 0;
}

struct stats_reply {
	uint64_t rewritten, not_local;
};

/* The reply the module gives for m, or with stats, handed to cb. */
static int reply(struct l3dsr_nl *nl, uint8_t cmd, const struct mapping *m,
		 const struct stats_reply *stats, mnl_cb_t cb, void *data)
{
	char buf[NL_REQUEST_SIZE] __attribute__((aligned(8))) = { 0 };
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;

	if (!cb)
		return 0;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = nl->family_id;
	nlh->nlmsg_seq = nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = L3DSR_GENL_VERSION;
	if (m) {
		/* What mapping_put() sends; no rip or device here. */
		mnl_attr_put_u8(nlh, L3DSR_A_FAMILY, m->family);
		mnl_attr_put_u8(nlh, L3DSR_A_DSCP, m->dscp);
		mnl_attr_put(nlh, L3DSR_A_VIP, address_length(m->family),
			     m->vip);
		mnl_attr_put_u32(nlh, L3DSR_A_FLAGS, m->flags);
		mnl_attr_put_u64(nlh, L3DSR_A_PACKETS, m->packets);
		mnl_attr_put_u64(nlh, L3DSR_A_BYTES, m->bytes);
	}
	if (stats) {
		struct nlattr *nest = mnl_attr_nest_start(nlh, L3DSR_A_STATS);

		/* What nftables cannot count is not sent: absent, not 0. */
		mnl_attr_put_u64(nlh, L3DSR_STAT_REWRITTEN, stats->rewritten);
		mnl_attr_put_u64(nlh, L3DSR_STAT_SKIPPED_NOT_LOCAL,
				 stats->not_local);
		mnl_attr_nest_end(nlh, nest);
	}
	return cb(nlh, data) < MNL_CB_OK ? -1 : 0;
}

/* Put new in its slot of t, its counters those of the mapping it replaces. */
static void put_slot(struct nft_table *t, const struct mapping *new)
{
	int f = family_index(new->family);
	struct mapping *slot = &t->slot[f][new->dscp];
	uint64_t packets = 0, bytes = 0;

	if (t->present[f][new->dscp]) {
		packets = slot->packets;
		bytes = slot->bytes;
	}
	*slot = *new;
	slot->packets = packets;
	slot->bytes = bytes;
	t->present[f][new->dscp] = true;
}

static int commit(struct nft_backend *nft, const struct nft_table *from,
		  const struct nft_table *to, struct nl_status *st)
{
	char *text = nft_transaction(from, to);
	int ret;

	if (!text) {
		say(st, ENOMEM, "building the nftables transaction");
		return -1;
	}
	ret = text[0] ? nft_run(nft, text, st) : 0;
	free(text);
	return ret;
}

static int new_mapping(struct nft_backend *nft, struct nft_table *t,
		       struct request *r, struct nl_status *st)
{
	struct nft_table to = *t;
	int f = family_index(r->m.family);
	const struct mapping *old = &t->slot[f][r->m.dscp];
	uint32_t req = r->request_flags;

	if (check_mapping(r, st) < 0)
		return -1;
	if ((req & L3DSR_REQUEST_F_EXCL) && (req & L3DSR_REQUEST_F_REPLACE)) {
		say(st, EINVAL, "EXCL and REPLACE contradict each other");
		return -1;
	}
	if (r->m.flags & L3DSR_F_DOWN) {
		say(st, EINVAL,
		    "a mapping is taken down with SET_MAPPING, not made down");
		return -1;
	}
	if (t->present[f][r->m.dscp]) {
		if (req & L3DSR_REQUEST_F_EXCL) {
			say(st, EEXIST, "DSCP is already mapped");
			return -1;
		}
		/* being down is state, not configuration: it carries over */
		r->m.flags |= old->flags & L3DSR_F_DOWN;
		if (same_mapping(old, &r->m))
			return 0;
		if (!(req & L3DSR_REQUEST_F_REPLACE)) {
			say(st, EEXIST, "DSCP is already mapped");
			return -1;
		}
	}
	put_slot(&to, &r->m);
	return commit(nft, t, &to, st);
}

static int set_table(struct nft_backend *nft, struct nft_table *t,
		     const struct request *r, struct nl_status *st)
{
	struct nft_table to = *t;
	const struct nlattr *nest, *attr;

	if (!r->mappings) {
		say(st, EINVAL, "SET_TABLE needs the mappings");
		return -1;
	}
	memset(to.present, 0, sizeof(to.present));
	mnl_attr_for_each_nested(nest, r->mappings) {
		struct request one = { 0 };
		int f;

		mnl_attr_for_each_nested(attr, nest)
			if (parse_attr(attr, &one, st) < 0)
				return -1;
		if (check_mapping(&one, st) < 0)
			return -1;
		f = family_index(one.m.family);
		if (to.present[f][one.m.dscp]) {
			say(st, EINVAL, "DSCP %u (%s) is mapped twice",
			    one.m.dscp, family_name(one.m.family));
			return -1;
		}
		to.slot[f][one.m.dscp] = one.m;
		if (t->present[f][one.m.dscp]) {
			to.slot[f][one.m.dscp].packets =
				t->slot[f][one.m.dscp].packets;
			to.slot[f][one.m.dscp].bytes =
				t->slot[f][one.m.dscp].bytes;
		}
		to.present[f][one.m.dscp] = true;
	}
	return commit(nft, t, &to, st);
}

int nft_transact(struct l3dsr_nl *nl, const struct nlmsghdr *req,
		 mnl_cb_t cb, void *data, struct nl_status *st)
{
	const struct genlmsghdr *genl = mnl_nlmsg_get_payload(req);
	struct nft_table t, to;
	struct request r = { 0 };
	const struct nlattr *attr;
	struct stats_reply stats;
	int f;

	memset(st, 0, sizeof(*st));
	nl_for_each_attr(attr, req)
		if (parse_attr(attr, &r, st) < 0)
			return -1;
	if (nft_table_read(nl->nft, &t, st) < 0)
		return -1;

	switch (genl->cmd) {
	case L3DSR_CMD_GET_MAPPING:
		if (req->nlmsg_flags & NLM_F_DUMP) {
			int d;

			for (f = 0; f < 2; f++)
				for (d = L3DSR_DSCP_MIN; d <= L3DSR_DSCP_MAX; d++)
					if (t.present[f][d] &&
					    reply(nl, genl->cmd, &t.slot[f][d],
						  NULL, cb, data) < 0) {
						st->error = EBADMSG;
						return -1;
					}
			return 0;
		}
		f = find_mapping(&t, &r, st);
		if (f < 0)
			return -1;
		return reply(nl, genl->cmd, &t.slot[f][r.m.dscp], NULL, cb,
			     data);
	case L3DSR_CMD_NEW_MAPPING:
		return new_mapping(nl->nft, &t, &r, st);
	case L3DSR_CMD_DEL_MAPPING:
	case L3DSR_CMD_SET_MAPPING:
		f = find_mapping(&t, &r, st);
		if (f < 0)
			return -1;
		to = t;
		if (genl->cmd == L3DSR_CMD_DEL_MAPPING) {
			to.present[f][r.m.dscp] = false;
		} else {
			struct mapping *m = &to.slot[f][r.m.dscp];

			if (r.mask & ~(uint32_t)__L3DSR_F_ALL) {
				say(st, EINVAL, "unknown flags in the mask");
				return -1;
			}
			m->flags = (m->flags & ~r.mask) | (r.m.flags & r.mask);
		}
		return commit(nl->nft, &t, &to, st);
	case L3DSR_CMD_FLUSH_MAPPINGS:
		to = t;
		for (f = 0; f < 2; f++)
			if (!r.has_family || f == family_index(r.m.family))
				memset(to.present[f], 0, sizeof(to.present[f]));
		/* An empty namespace stays without a table. */
		if (!t.exists)
			return 0;
		return commit(nl->nft, &t, &to, st);
	case L3DSR_CMD_GET_STATS:
		stats.rewritten = t.rewritten;
		stats.not_local = t.not_local;
		return reply(nl, genl->cmd, NULL, &stats, cb, data);
	case L3DSR_CMD_SET_TABLE:
		return set_table(nl->nft, &t, &r, st);
	}
	say(st, EOPNOTSUPP, "the nftables backend has no command %u",
	    genl->cmd);
	return -1;
}
