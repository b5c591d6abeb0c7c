// SPDX-License-Identifier: GPL-2.0
/*
 * import-iptables: read iptables-save output and write, for each rule
 *   -A CHAIN [-i IF] [-d RIP/32] -m dscp --dscp N -j DADDR --set-daddr VIP
 * the configuration line of the l3dsr mapping that does the same. Whatever
 * such a rule says that a mapping cannot (other matches, negations,
 * prefixes, wildcards) is reported rather than silently dropped.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "l3dsr.h"
#include "dscp.h"
#include "iptables.h"
#include "l3dsrctl.h"

#define MAX_TOKENS 128

/*
 * Split an iptables-save line into tokens in place. Arguments holding
 * blanks come quoted ("..."), with \" and \\ inside. Returns the count, or
 * -1 if the line has more than max.
 */
static int tokenize(char *line, char *tokens[], int max)
{
	char *read = line, *write;
	int count = 0;
	char end;

	for (;;) {
		bool quoted = false;

		while (isspace((unsigned char)*read))
			read++;
		if (!*read)
			return count;
		if (count == max)
			return -1;
		write = read;
		tokens[count++] = write;
		while (*read && (quoted || !isspace((unsigned char)*read))) {
			if (*read == '"') {
				quoted = !quoted;
				read++;
				continue;
			}
			if (quoted && *read == '\\' && read[1])
				read++;
			*write++ = *read++;
		}
		/* write never passes read: the blank is saved, then cut. */
		end = *read;
		*write = '\0';
		if (!end)
			return count;
		read++;
	}
}

/* iptables takes the DSCP in decimal or, as iptables-save writes it, hex. */
static bool parse_iptables_dscp(const char *word, unsigned int *dscp)
{
	unsigned long value;
	char *end;

	if (!isdigit((unsigned char)word[0]))
		return false;
	errno = 0;
	value = strtoul(word, &end, 0);
	if (errno || *end || value > L3DSR_DSCP_MAX)
		return false;
	*dscp = value;
	return true;
}

/* "ADDR" or "ADDR/32" ("/128"): the host address; false otherwise. */
static int parse_host(const char *word, unsigned char *addr, char *why,
		      size_t why_size)
{
	char copy[INET6_ADDRSTRLEN + 8];
	char *slash;
	int family;

	if (strlen(word) >= sizeof(copy) || strchr(word, ',')) {
		snprintf(why, why_size, "\"%s\" is not one address", word);
		return AF_UNSPEC;
	}
	strcpy(copy, word);
	slash = strchr(copy, '/');
	if (slash)
		*slash++ = '\0';
	family = parse_address(copy, addr);
	if (family == AF_UNSPEC) {
		snprintf(why, why_size, "\"%s\" is not an address", word);
		return AF_UNSPEC;
	}
	if (slash && strcmp(slash, family == AF_INET ? "32" : "128") &&
	    !(family == AF_INET && !strcmp(slash, "255.255.255.255"))) {
		snprintf(why, why_size,
			 "\"%s\" is a prefix: a mapping's rip is one address",
			 word);
		return AF_UNSPEC;
	}
	return family;
}

/* What one DADDR rule said, before it becomes a mapping. */
struct rule_parts {
	bool is_daddr;
	const char *dscp;
	bool dscp_is_class;
	const char *daddr;
	const char *in;
	const char *dst;
	const char *comment;
	char why[256];		/* the first thing a mapping cannot say */
};

static void cannot(struct rule_parts *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void cannot(struct rule_parts *p, const char *fmt, ...)
{
	va_list ap;

	if (p->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(p->why, sizeof(p->why), fmt, ap);
	va_end(ap);
}

/* The tokens of an option up to the next one, for a message. */
static void option_text(char *tokens[], int count, int i, char *out,
			size_t size)
{
	size_t used = 0;
	int j;

	out[0] = '\0';
	for (j = i; j < count && used < size; j++) {
		if (j > i && tokens[j][0] == '-' && tokens[j][1])
			break;
		if (j > i && !strcmp(tokens[j], "!"))
			break;
		used += snprintf(out + used, size - used, "%s%s",
				 j > i ? " " : "", tokens[j]);
	}
}

/* The value after option i, or NULL (noted in p) if the line ends. */
static const char *value_of(char *tokens[], int count, int i,
			    struct rule_parts *p)
{
	if (i + 1 < count)
		return tokens[i + 1];
	cannot(p, "%s has no value", tokens[i]);
	return NULL;
}

static void parse_rule(char *tokens[], int count, struct rule_parts *p)
{
	const char *match = "";
	bool negated = false;
	char text[128];
	int i;

	/* tokens[0] is -A, tokens[1] the chain. */
	for (i = 2; i < count; i++) {
		const char *t = tokens[i];

		if (!strcmp(t, "!")) {
			negated = true;
			continue;
		}
		if (negated && strcmp(t, "-m") && strcmp(t, "--match")) {
			option_text(tokens, count, i, text, sizeof(text));
			cannot(p, "\"! %s\" is a negation, which a mapping cannot express",
			       text);
		}
		negated = false;

		if (!strcmp(t, "-j") || !strcmp(t, "--jump")) {
			const char *target = value_of(tokens, count, i, p);

			p->is_daddr = target && !strcmp(target, "DADDR");
			if (!p->is_daddr)
				return;
			match = "DADDR";
			i++;
		} else if (!strcmp(t, "-m") || !strcmp(t, "--match")) {
			match = value_of(tokens, count, i, p);
			if (!match)
				return;
			i++;
			if (strcmp(match, "dscp") && strcmp(match, "comment")) {
				option_text(tokens, count, i - 1, text,
					    sizeof(text));
				cannot(p, "\"%s\" matches more than a mapping can",
				       text);
			}
		} else if (!strncmp(t, "--set-daddr=", 12) &&
			   !strcmp(match, "DADDR")) {
			p->daddr = t + 12;
		} else if (!strcmp(t, "--set-daddr") &&
			   !strcmp(match, "DADDR")) {
			p->daddr = value_of(tokens, count, i, p);
			i++;
		} else if (!strcmp(t, "--dscp") && !strcmp(match, "dscp")) {
			p->dscp = value_of(tokens, count, i, p);
			p->dscp_is_class = false;
			i++;
		} else if (!strcmp(t, "--dscp-class") &&
			   !strcmp(match, "dscp")) {
			p->dscp = value_of(tokens, count, i, p);
			p->dscp_is_class = true;
			i++;
		} else if (!strcmp(t, "--comment") &&
			   !strcmp(match, "comment")) {
			p->comment = value_of(tokens, count, i, p);
			i++;
		} else if (!strcmp(t, "-i") || !strcmp(t, "--in-interface")) {
			p->in = value_of(tokens, count, i, p);
			i++;
		} else if (!strcmp(t, "-d") || !strcmp(t, "--destination") ||
			   !strcmp(t, "--dst")) {
			p->dst = value_of(tokens, count, i, p);
			i++;
		} else if (!strcmp(t, "-4") || !strcmp(t, "--ipv4") ||
			   !strcmp(t, "-6") || !strcmp(t, "--ipv6")) {
			/* iptables-restore's family filter: the VIP says it. */
		} else if (t[0] == '-') {
			option_text(tokens, count, i, text, sizeof(text));
			cannot(p, "\"%s\" matches more than a mapping can",
			       text);
		} else if (!strcmp(match, "DADDR")) {
			cannot(p, "DADDR option \"%s\" is unknown", t);
		}
	}
}

static void convert(struct rule_parts *p, struct daddr_rule *rule)
{
	struct mapping *m = &rule->spec.m;
	char why[128];

	if (p->comment)
		snprintf(rule->comment, sizeof(rule->comment), "%s",
			 p->comment);
	if (!p->daddr) {
		cannot(p, "no --set-daddr");
		return;
	}
	m->family = parse_host(p->daddr, m->vip, why, sizeof(why));
	if (m->family == AF_UNSPEC) {
		cannot(p, "--set-daddr %s", why);
		return;
	}
	if (!p->dscp) {
		cannot(p, "no -m dscp --dscp: the rule rewrites every packet, which l3dsr never does");
		return;
	}
	if (p->dscp_is_class ? dscp_parse(p->dscp, &m->dscp) != DSCP_VALID :
			       !parse_iptables_dscp(p->dscp, &m->dscp)) {
		cannot(p, "DSCP \"%s\" cannot be mapped (1..63 or a class name other than CS0/BE)",
		       p->dscp);
		return;
	}
	if (!m->dscp) {
		cannot(p, "DSCP 0 is every unmarked packet and cannot be mapped");
		return;
	}
	if (p->in) {
		if (strchr(p->in, '+')) {
			cannot(p, "-i %s is a wildcard: dev names one device",
			       p->in);
			return;
		}
		if (!p->in[0] || strlen(p->in) >= IF_NAMESIZE) {
			cannot(p, "-i %s is no device name", p->in);
			return;
		}
		strcpy(rule->spec.dev, p->in);
	}
	if (p->dst) {
		int family = parse_host(p->dst, m->rip, why, sizeof(why));

		if (family == AF_UNSPEC) {
			cannot(p, "-d %s", why);
			return;
		}
		if (family != m->family) {
			cannot(p, "-d %s and --set-daddr %s are of different families",
			       p->dst, p->daddr);
			return;
		}
		m->has_rip = true;
	}
	if (!p->why[0])
		rule->converted = true;
}

static struct daddr_rule *new_rule(struct daddr_rules *rules)
{
	if (rules->count == rules->capacity) {
		size_t capacity = rules->capacity ? 2 * rules->capacity : 16;
		struct daddr_rule *grown;

		grown = reallocarray(rules->items, capacity, sizeof(*grown));
		if (!grown)
			return NULL;
		rules->items = grown;
		rules->capacity = capacity;
	}
	memset(&rules->items[rules->count], 0, sizeof(*rules->items));
	return &rules->items[rules->count++];
}

static const struct daddr_rule *converted_slot(const struct daddr_rules *rules,
					       const struct daddr_rule *rule)
{
	size_t i;

	for (i = 0; i < rules->count; i++) {
		const struct daddr_rule *other = &rules->items[i];

		if (other != rule && other->converted &&
		    other->spec.m.family == rule->spec.m.family &&
		    other->spec.m.dscp == rule->spec.m.dscp)
			return other;
	}
	return NULL;
}

static int read_line(char *text, unsigned int line, const char *table,
		     struct daddr_rules *rules, struct rule_parts *p)
{
	char *tokens[MAX_TOKENS];
	const struct daddr_rule *other;
	struct daddr_rule *rule;
	int count, first = 0;

	memset(p, 0, sizeof(*p));
	count = tokenize(text, tokens, MAX_TOKENS);
	if (count < 0) {
		/* Too long to judge: only worth a word if it is ours. */
		if (!strstr(text, "DADDR"))
			return 0;
		rule = new_rule(rules);
		if (!rule)
			return -1;
		rule->line = line;
		cannot(p, "more than %d words", MAX_TOKENS);
		return 1;
	}
	/* iptables-save -c puts [packets:bytes] first. */
	if (count && tokens[0][0] == '[')
		first = 1;
	if (count - first < 2 || (strcmp(tokens[first], "-A") &&
				  strcmp(tokens[first], "--append")))
		return 0;
	parse_rule(tokens + first, count - first, p);
	if (!p->is_daddr)
		return 0;

	rule = new_rule(rules);
	if (!rule)
		return -1;
	rule->line = line;
	snprintf(rule->where, sizeof(rule->where), "%s %s", table,
		 tokens[first + 1]);
	convert(p, rule);
	if (!rule->converted)
		return 1;
	other = converted_slot(rules, rule);
	if (other) {
		rule->converted = false;
		cannot(p, "DSCP %u (%s) is converted already, from line %u: a mapping per DSCP",
		       rule->spec.m.dscp, family_name(rule->spec.m.family),
		       other->line);
		return 1;
	}
	return 0;
}

int daddr_rules_read(FILE *in, const char *name, struct daddr_rules *rules,
		     FILE *report, const char *prefix)
{
	char table[32] = "filter";
	struct rule_parts parts;
	unsigned int line = 0;
	size_t size = 0;
	char *text = NULL, *copy;
	ssize_t length;
	int ret = 0, bad;

	errno = 0;
	while ((length = getline(&text, &size, in)) >= 0) {
		line++;
		if (length && text[length - 1] == '\n')
			text[--length] = '\0';
		if (text[0] == '*') {
			snprintf(table, sizeof(table), "%s", text + 1);
			continue;
		}
		/* Kept whole for the message; tokenizing cuts it up. */
		copy = strdup(text);
		if (!copy) {
			ret = -1;
			break;
		}
		bad = read_line(text, line, table, rules, &parts);
		if (bad < 0) {
			free(copy);
			ret = -1;
			break;
		}
		if (bad) {
			rules->unconvertible++;
			if (report)
				fprintf(report, "%s%s:%u: not converted: %s: %s\n",
					prefix, name, line, parts.why, copy);
		}
		free(copy);
	}
	if (ret < 0 && report)
		fprintf(report, "%s%s\n", prefix, strerror(ENOMEM));
	else if (ferror(in)) {
		if (report)
			fprintf(report, "%s%s: cannot read: %s\n", prefix,
				name, strerror(errno));
		ret = -1;
	}
	free(text);
	return ret;
}

void daddr_rules_free(struct daddr_rules *rules)
{
	free(rules->items);
	memset(rules, 0, sizeof(*rules));
}

/* A comment's text, on one line and without what would end it early. */
static void print_comment(const char *text)
{
	for (; *text; text++)
		putchar(*text == '\n' || *text == '\r' ? ' ' : *text);
}

int cmd_import_iptables(const struct ctl *ctl, int argc, char *argv[])
{
	struct daddr_rules rules = { 0 };
	const char *path = "-", *name;
	char prefix[64];
	size_t i, converted = 0;
	FILE *in = stdin;
	int status = EXIT_OK;

	if (argc > 1)
		return usage_error(ctl, "unexpected argument \"%s\"", argv[1]);
	if (argc == 1)
		path = argv[0];
	if (ctl->json)
		return usage_error(ctl,
				   "-j does not apply: the output is a configuration file");
	if (ctl->family != AF_UNSPEC)
		return usage_error(ctl,
				   "-4 and -6 do not apply: each rule's --set-daddr says its family");

	name = strcmp(path, "-") ? path : "<stdin>";
	if (strcmp(path, "-")) {
		in = fopen(path, "re");
		if (!in)
			return fail(ctl, "cannot open %s: %s", path,
				    strerror(errno));
	}
	snprintf(prefix, sizeof(prefix), PROG_NAME ": %s: ", ctl->cmd->name);
	if (daddr_rules_read(in, name, &rules, stderr, prefix) < 0)
		status = EXIT_FAILED;
	if (in != stdin)
		fclose(in);
	if (status)
		goto out;

	printf("# l3dsr mappings converted by `%s import-iptables` from the DADDR\n"
	       "# rules of %s. Check them, then: %s apply -f FILE\n",
	       PROG_NAME, name, PROG_NAME);
	for (i = 0; i < rules.count; i++) {
		const struct daddr_rule *rule = &rules.items[i];

		if (!rule->converted)
			continue;
		converted++;
		spec_describe(&rule->spec, stdout);
		printf("  # line %u, %s", rule->line, rule->where);
		if (rule->comment[0]) {
			fputs(": ", stdout);
			print_comment(rule->comment);
		}
		putchar('\n');
	}
	if (!rules.count)
		fprintf(stderr, PROG_NAME ": %s: %s: no DADDR rules found\n",
			ctl->cmd->name, name);
	if (rules.unconvertible) {
		fprintf(stderr, PROG_NAME ": %s: %zu of %zu DADDR rules converted; the others need a decision\n",
			ctl->cmd->name, converted, rules.count);
		status = EXIT_FAILED;
	}
out:
	daddr_rules_free(&rules);
	return status;
}
