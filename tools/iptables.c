// SPDX-License-Identifier: GPL-2.0
/*
 * import-iptables: read iptables-save output and write, for each rule
 *   -A CHAIN [-i IF] [-d RIP/32] -m dscp --dscp N -j DADDR --set-daddr VIP
 * the configuration line of the l3dsr mapping that does the same. Whatever
 * such a rule says that a mapping cannot (other matches, negations,
 * prefixes, wildcards) is reported rather than silently dropped.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
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

/*
 * Every -A line of every table, DADDR or not: what following the tables
 * from PREROUTING needs to know of it.
 */
struct ipt_rule {
	char table[32];
	char chain[32];
	char target[32];	/* "" if the rule has none */
	bool is_goto;
	char cond[96];		/* its matches; "" if it matches every packet */
	unsigned int line;
	long daddr;		/* index in daddr_rules, or -1 */
	char path[224];		/* if PREROUTING runs it for some packets only: why */
	bool everyone;		/* PREROUTING runs it for every packet, somewhere */
};

/* A chain declared by ":NAME POLICY [counters]". */
struct ipt_chain {
	char table[32];
	char name[32];
};

struct ipt_tables {
	struct ipt_rule *rules;
	size_t count, capacity;
	struct ipt_chain *chains;
	size_t chain_count, chain_capacity;
	unsigned int visits;	/* DADDR rules run so far by the walk */
	unsigned long steps;	/* rules looked at by walk and foreign_entry */
	bool gave_up;		/* too deep or too many steps: not judged */
};

/*
 * Nested user chains deeper than this, or tables whose jumps make more
 * steps than this to follow, are not judged: a DSR server's tables are far
 * smaller, and a crafted file must not keep the tool busy for ever.
 */
#define MAX_CHAIN_DEPTH 64
#define MAX_STEPS 4000000UL

static void *grow(void *items, size_t *capacity, size_t count, size_t size)
{
	size_t wanted;
	void *grown;

	if (count < *capacity)
		return items;
	wanted = *capacity ? 2 * *capacity : 16;
	grown = reallocarray(items, wanted, size);
	if (grown)
		*capacity = wanted;
	return grown;
}

static struct daddr_rule *new_rule(struct daddr_rules *rules)
{
	struct daddr_rule *grown;

	grown = grow(rules->items, &rules->capacity, rules->count,
		     sizeof(*grown));
	if (!grown)
		return NULL;
	rules->items = grown;
	memset(&rules->items[rules->count], 0, sizeof(*rules->items));
	return &rules->items[rules->count++];
}

static struct ipt_rule *new_ipt_rule(struct ipt_tables *t)
{
	struct ipt_rule *grown;

	grown = grow(t->rules, &t->capacity, t->count, sizeof(*grown));
	if (!grown)
		return NULL;
	t->rules = grown;
	memset(&t->rules[t->count], 0, sizeof(*t->rules));
	t->rules[t->count].daddr = -1;
	return &t->rules[t->count++];
}

static int declare_chain(struct ipt_tables *t, const char *table,
			 const char *text)
{
	struct ipt_chain *grown;
	size_t length = strcspn(text, " \t");

	grown = grow(t->chains, &t->chain_capacity, t->chain_count,
		     sizeof(*grown));
	if (!grown)
		return -1;
	t->chains = grown;
	snprintf(t->chains[t->chain_count].table,
		 sizeof(t->chains->table), "%s", table);
	snprintf(t->chains[t->chain_count].name, sizeof(t->chains->name),
		 "%.*s", (int)(length < 31 ? length : 31), text);
	t->chain_count++;
	return 0;
}

static bool is_builtin_chain(const char *name)
{
	return !strcmp(name, "PREROUTING") || !strcmp(name, "INPUT") ||
	       !strcmp(name, "FORWARD") || !strcmp(name, "OUTPUT") ||
	       !strcmp(name, "POSTROUTING");
}

static bool is_user_chain(const struct ipt_tables *t, const char *table,
			  const char *name)
{
	size_t i;

	if (is_builtin_chain(name))
		return false;
	for (i = 0; i < t->chain_count; i++)
		if (!strcmp(t->chains[i].table, table) &&
		    !strcmp(t->chains[i].name, name))
			return true;
	/* A file written by hand may not declare the chains it fills. */
	for (i = 0; i < t->count; i++)
		if (!strcmp(t->rules[i].table, table) &&
		    !strcmp(t->rules[i].chain, name))
			return true;
	return false;
}

/*
 * What any rule says about the packets it takes: its target and the matches
 * before it (the -m comment aside). Target options come after the target in
 * iptables-save's output and are no condition.
 */
static void scan_rule(char *tokens[], int count, struct ipt_rule *r)
{
	size_t used = 0;
	int i;

	for (i = 2; i < count; i++) {
		const char *t = tokens[i];

		if (!strcmp(t, "-j") || !strcmp(t, "--jump") ||
		    !strcmp(t, "-g") || !strcmp(t, "--goto")) {
			r->is_goto = t[1] == 'g' || !strcmp(t, "--goto");
			if (i + 1 < count)
				snprintf(r->target, sizeof(r->target), "%s",
					 tokens[i + 1]);
			return;
		}
		if ((!strcmp(t, "-m") || !strcmp(t, "--match")) &&
		    i + 1 < count && !strcmp(tokens[i + 1], "comment")) {
			i++;
			continue;
		}
		if (!strcmp(t, "--comment")) {
			i++;
			continue;
		}
		if (!strcmp(t, "-4") || !strcmp(t, "--ipv4") ||
		    !strcmp(t, "-6") || !strcmp(t, "--ipv6"))
			continue;
		if (used < sizeof(r->cond))
			used += snprintf(r->cond + used, sizeof(r->cond) - used,
					 "%s%s", used ? " " : "", t);
	}
}

static int read_line(char *text, unsigned int line, const char *table,
		     struct daddr_rules *rules, struct ipt_tables *t)
{
	char *tokens[MAX_TOKENS];
	struct rule_parts parts, *p = &parts;
	struct daddr_rule *rule;
	struct ipt_rule *r;
	char *copy;
	int count, first = 0;

	copy = strdup(text);
	if (!copy)
		return -1;
	memset(p, 0, sizeof(*p));
	count = tokenize(text, tokens, MAX_TOKENS);
	if (count < 0) {
		/* Too long to judge: only worth a word if it is ours. */
		if (!strstr(copy, "DADDR"))
			goto not_ours;
		rule = new_rule(rules);
		if (!rule)
			goto nomem;
		rule->line = line;
		rule->text = copy;
		snprintf(rule->why, sizeof(rule->why), "more than %d words",
			 MAX_TOKENS);
		return 0;
	}
	/* iptables-save -c puts [packets:bytes] first. */
	if (count && tokens[0][0] == '[')
		first = 1;
	if (count - first < 2 || (strcmp(tokens[first], "-A") &&
				  strcmp(tokens[first], "--append")))
		goto not_ours;

	r = new_ipt_rule(t);
	if (!r)
		goto nomem;
	snprintf(r->table, sizeof(r->table), "%s", table);
	snprintf(r->chain, sizeof(r->chain), "%s", tokens[first + 1]);
	r->line = line;
	scan_rule(tokens + first, count - first, r);

	parse_rule(tokens + first, count - first, p);
	if (!p->is_daddr)
		goto not_ours;
	rule = new_rule(rules);
	if (!rule)
		goto nomem;
	r->daddr = rule - rules->items;
	rule->line = line;
	rule->text = copy;
	snprintf(rule->where, sizeof(rule->where), "%s %s", table,
		 tokens[first + 1]);
	convert(p, rule);
	if (!rule->converted)
		snprintf(rule->why, sizeof(rule->why), "%s", p->why);
	return 0;

not_ours:
	free(copy);
	return 0;
nomem:
	free(copy);
	return -1;
}

/* Which packets reach the rules of a chain: all, or only some. */
struct walk_path {
	unsigned int line;	/* 0: every packet the chain is entered with */
	char why[224];
};

static bool is_leaving_verdict(const char *target)
{
	return !strcmp(target, "ACCEPT") || !strcmp(target, "RETURN") ||
	       !strcmp(target, "QUEUE") || !strcmp(target, "NFQUEUE");
}

static bool is_verdict(const char *target)
{
	return is_leaving_verdict(target) || !strcmp(target, "DROP") ||
	       !strcmp(target, "REJECT");
}

/*
 * Run the rules of chain as the kernel does, into the user chains they jump
 * to, noting for each DADDR rule when it runs and whether every packet it
 * matches gets there. Dropped packets are not followed: whether they were
 * rewritten makes no difference.
 */
static void walk(struct ipt_tables *t, struct daddr_rules *rules,
		 const char *table, const char *chain,
		 const struct walk_path *entered, int depth)
{
	struct walk_path here = *entered;
	size_t i;

	if (depth > MAX_CHAIN_DEPTH) {
		t->gave_up = true;
		return;
	}
	for (i = 0; i < t->count && !t->gave_up; i++) {
		struct ipt_rule *r = &t->rules[i];

		if (++t->steps > MAX_STEPS)
			t->gave_up = true;
		if (strcmp(r->table, table) || strcmp(r->chain, chain))
			continue;
		if (r->daddr >= 0) {
			rules->items[r->daddr].order = ++t->visits;
			if (!here.line)
				r->everyone = true;
			else if (!r->path[0])
				snprintf(r->path, sizeof(r->path), "%s",
					 here.why);
			continue;
		}
		if (is_user_chain(t, table, r->target)) {
			struct walk_path inside = here;

			if (r->cond[0] && !here.line) {
				inside.line = r->line;
				snprintf(inside.why, sizeof(inside.why),
					 "chain %s is entered only through line %u, for packets matching \"%s\", which a mapping cannot express",
					 r->target, r->line, r->cond);
			}
			walk(t, rules, table, r->target, &inside, depth + 1);
			if (!r->is_goto)
				continue;
		} else if (!is_verdict(r->target)) {
			continue;
		}
		/* A verdict or a goto: the rest of the chain is not run. */
		if (!r->cond[0])
			return;
		if ((r->is_goto || is_leaving_verdict(r->target)) &&
		    !here.line) {
			here.line = r->line;
			snprintf(here.why, sizeof(here.why),
				 "packets matching \"%s\" leave %s at line %u (-%c %s) before this rule, and a mapping would rewrite them too",
				 r->cond, chain, r->line,
				 r->is_goto ? 'g' : 'j', r->target);
		}
	}
}

/* The first jump into chain from a built-in chain other than PREROUTING. */
static const struct ipt_rule *foreign_entry(struct ipt_tables *t,
					    const char *table,
					    const char *chain, int depth)
{
	const struct ipt_rule *found;
	size_t i;

	if (depth > MAX_CHAIN_DEPTH) {
		t->gave_up = true;
		return NULL;
	}
	for (i = 0; i < t->count && !t->gave_up; i++) {
		const struct ipt_rule *r = &t->rules[i];

		if (++t->steps > MAX_STEPS)
			t->gave_up = true;
		if (strcmp(r->table, table) || strcmp(r->target, chain))
			continue;
		if (is_builtin_chain(r->chain)) {
			if (strcmp(r->chain, "PREROUTING"))
				return r;
		} else {
			found = foreign_entry(t, table, r->chain, depth + 1);
			if (found)
				return found;
		}
	}
	return NULL;
}

static bool is_jumped_to(const struct ipt_tables *t, const char *table,
			 const char *chain)
{
	size_t i;

	for (i = 0; i < t->count; i++)
		if (!strcmp(t->rules[i].table, table) &&
		    !strcmp(t->rules[i].target, chain))
			return true;
	return false;
}

/* What DADDR did in a chain other than PREROUTING, for the message. */
static const char *chain_effect(const char *chain)
{
	if (!strcmp(chain, "OUTPUT"))
		return "packets this host sends";
	if (!strcmp(chain, "POSTROUTING"))
		return "packets leaving this host, sent or forwarded";
	if (!strcmp(chain, "FORWARD"))
		return "packets routed through this host";
	return "packets already routed to this host, so the VIP played no part in routing them";
}

/*
 * Why PREROUTING does not run a DADDR rule for all it matches, if so: this
 * reason, and not what its matches say, is the one worth reading first.
 */
static void judge_place(struct ipt_tables *t, const struct ipt_rule *r,
			struct daddr_rule *d)
{
	if (strcmp(r->table, "raw") && strcmp(r->table, "mangle")) {
		snprintf(d->why, sizeof(d->why),
			 "the %s table: DADDR runs only in raw or mangle",
			 r->table);
		return;
	}
	if (is_builtin_chain(r->chain) && strcmp(r->chain, "PREROUTING")) {
		snprintf(d->why, sizeof(d->why),
			 "%s %s: DADDR there rewrote %s; l3dsr rewrites only received packets, before routing (PREROUTING)",
			 r->table, r->chain, chain_effect(r->chain));
		return;
	}
	if (!is_builtin_chain(r->chain)) {
		const struct ipt_rule *entry;

		entry = foreign_entry(t, r->table, r->chain, 0);
		if (entry) {
			snprintf(d->why, sizeof(d->why),
				 "chain %s is reached from %s (line %u): DADDR there rewrote %s; l3dsr rewrites only received packets, before routing (PREROUTING)",
				 r->chain, entry->chain, entry->line,
				 chain_effect(entry->chain));
			return;
		}
		if (!is_jumped_to(t, r->table, r->chain)) {
			snprintf(d->why, sizeof(d->why),
				 "no rule jumps to chain %s, so this rule never runs",
				 r->chain);
			return;
		}
	}
	if (!d->order)
		snprintf(d->why, sizeof(d->why),
			 "it never runs: every packet leaves PREROUTING before it (an ACCEPT, RETURN, DROP or goto matching everything)");
	else if (!r->everyone)
		snprintf(d->why, sizeof(d->why), "%s", r->path);
}

static bool same_slot(const struct daddr_rule *a, const struct daddr_rule *b)
{
	return a->spec.m.family == b->spec.m.family &&
	       a->spec.m.dscp == b->spec.m.dscp;
}

static int compare_runs(const void *left, const void *right)
{
	const struct daddr_rule *a = *(const struct daddr_rule *const *)left;
	const struct daddr_rule *b = *(const struct daddr_rule *const *)right;

	if (a->spec.m.family != b->spec.m.family)
		return a->spec.m.family < b->spec.m.family ? -1 : 1;
	if (a->spec.m.dscp != b->spec.m.dscp)
		return a->spec.m.dscp < b->spec.m.dscp ? -1 : 1;
	return (a->order > b->order) - (a->order < b->order);
}

static const char *vip_text(const struct daddr_rule *d, char *buf)
{
	return inet_ntop(d->spec.m.family, d->spec.m.vip, buf,
			 INET6_ADDRSTRLEN);
}

/*
 * DADDR returns XT_CONTINUE: a packet goes on through the chain, and a later
 * rule for its DSCP rewrites it again. Of the rules for one DSCP, in the
 * order they run, a rule matching every packet of the DSCP (no -d; no -i, or
 * the same -i as the ones before) overrides those before it. A rule with -d
 * after one that rewrote every packet to another address never matches.
 * What is left with more than one rule rewrote different packets to
 * different VIPs, which one mapping cannot do.
 */
static void settle_run(struct daddr_rule **run, size_t count)
{
	char vip[INET6_ADDRSTRLEN], other[INET6_ADDRSTRLEN];
	char lines[96];
	size_t i, j, live = 0, used;

	for (i = 0; i < count; i++) {
		struct daddr_rule *r = run[i];
		bool covers = !r->spec.m.has_rip;

		for (j = 0; j < live && covers; j++)
			if (r->spec.dev[0] &&
			    strcmp(run[j]->spec.dev, r->spec.dev))
				covers = false;
		if (live && covers) {
			for (j = 0; j < live; j++) {
				run[j]->converted = false;
				snprintf(run[j]->why, sizeof(run[j]->why),
					 "DSCP %u (%s) is rewritten again by line %u (%s), which runs after this rule and matches every packet it rewrote: DADDR does not end the chain, so line %u's VIP %s was in effect and is the one converted",
					 r->spec.m.dscp,
					 family_name(r->spec.m.family),
					 r->line, r->where, r->line,
					 vip_text(r, vip));
			}
			live = 0;
		} else if (live == 1 && r->spec.m.has_rip &&
			   !run[0]->spec.m.has_rip &&
			   (!run[0]->spec.dev[0] ||
			    !strcmp(run[0]->spec.dev, r->spec.dev)) &&
			   memcmp(run[0]->spec.m.vip, r->spec.m.rip,
				  address_length(r->spec.m.family))) {
			r->converted = false;
			inet_ntop(r->spec.m.family, r->spec.m.rip, other,
				  sizeof(other));
			snprintf(r->why, sizeof(r->why),
				 "it never matches: line %u (%s) ran first and rewrote every DSCP %u packet it sees to %s, so -d %s no longer matches; line %u is in effect and converted",
				 run[0]->line, run[0]->where, r->spec.m.dscp,
				 vip_text(run[0], vip), other, run[0]->line);
			continue;
		}
		run[live++] = r;
	}
	if (live < 2)
		return;
	for (i = 0, used = 0; i < live && used < sizeof(lines); i++)
		used += snprintf(lines + used, sizeof(lines) - used, "%s%u",
				 !i ? "" : i + 1 < live ? ", " : " and ",
				 run[i]->line);
	for (i = 0; i < live; i++) {
		run[i]->converted = false;
		snprintf(run[i]->why, sizeof(run[i]->why),
			 "lines %s rewrite DSCP %u (%s) for different packets (their -i or -d differ), to different VIPs: one mapping per DSCP cannot do both; keep one",
			 lines, run[i]->spec.m.dscp,
			 family_name(run[i]->spec.m.family));
	}
}

static int settle_slots(struct daddr_rules *rules)
{
	struct daddr_rule **sorted;
	size_t i, count = 0, start;

	sorted = calloc(rules->count ? rules->count : 1, sizeof(*sorted));
	if (!sorted)
		return -1;
	for (i = 0; i < rules->count; i++)
		if (rules->items[i].converted)
			sorted[count++] = &rules->items[i];
	qsort(sorted, count, sizeof(*sorted), compare_runs);
	for (start = 0; start < count; start = i) {
		for (i = start + 1; i < count; i++)
			if (!same_slot(sorted[start], sorted[i]))
				break;
		settle_run(sorted + start, i - start);
	}
	free(sorted);
	return 0;
}

static int analyse(struct ipt_tables *t, struct daddr_rules *rules)
{
	static const struct walk_path everything = { 0 };
	size_t i;

	/* raw's PREROUTING hook runs before mangle's. */
	walk(t, rules, "raw", "PREROUTING", &everything, 0);
	walk(t, rules, "mangle", "PREROUTING", &everything, 0);

	for (i = 0; i < t->count; i++) {
		const struct ipt_rule *r = &t->rules[i];
		struct daddr_rule *d;

		if (r->daddr < 0)
			continue;
		d = &rules->items[r->daddr];
		judge_place(t, r, d);
		if (t->gave_up)
			snprintf(d->why, sizeof(d->why),
				 "the chains nest deeper than %d, or jump to each other more often than can be followed here: check the rule by hand",
				 MAX_CHAIN_DEPTH);
		if (d->why[0])
			d->converted = false;
	}
	return settle_slots(rules);
}

int daddr_rules_read(FILE *in, const char *name, struct daddr_rules *rules,
		     FILE *report, const char *prefix)
{
	struct ipt_tables tables = { 0 };
	char table[32] = "filter";
	unsigned int line = 0;
	size_t size = 0, i;
	char *text = NULL;
	ssize_t length;
	int ret = 0;

	errno = 0;
	while ((length = getline(&text, &size, in)) >= 0) {
		line++;
		if (length && text[length - 1] == '\n')
			text[--length] = '\0';
		if (text[0] == '*') {
			snprintf(table, sizeof(table), "%s", text + 1);
			continue;
		}
		if (text[0] == ':') {
			if (declare_chain(&tables, table, text + 1) < 0) {
				ret = -1;
				break;
			}
			continue;
		}
		if (read_line(text, line, table, rules, &tables) < 0) {
			ret = -1;
			break;
		}
	}
	if (!ret && ferror(in)) {
		if (report)
			fprintf(report, "%s%s: cannot read: %s\n", prefix,
				name, strerror(errno));
		ret = -1;
	} else if (ret < 0 || analyse(&tables, rules) < 0) {
		if (report)
			fprintf(report, "%s%s\n", prefix, strerror(ENOMEM));
		ret = -1;
	}
	for (i = 0; !ret && i < rules->count; i++) {
		const struct daddr_rule *d = &rules->items[i];

		if (d->converted)
			continue;
		rules->unconvertible++;
		if (report)
			fprintf(report, "%s%s:%u: not converted: %s: %s\n",
				prefix, name, d->line, d->why, d->text);
	}
	free(tables.rules);
	free(tables.chains);
	free(text);
	return ret;
}

void daddr_rules_free(struct daddr_rules *rules)
{
	size_t i;

	for (i = 0; i < rules->count; i++)
		free(rules->items[i].text);
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
