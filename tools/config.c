// SPDX-License-Identifier: GPL-2.0
/* Configuration files: parsing, duplicate detection and the default set. */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "config.h"
#include "words.h"

/* More words than any valid line has, so a long line is still named. */
#define CONFIG_MAX_WORDS 32

void config_init(struct config *c, const char *prefix, FILE *errors)
{
	memset(c, 0, sizeof(*c));
	c->prefix = prefix;
	c->errors = errors;
	c->error_limit = CONFIG_ERROR_LIMIT;
	strcpy(c->vip_device, "lo");
}

unsigned int config_finish(struct config *c)
{
	if (c->error_limit && c->error_count > c->error_limit)
		fprintf(c->errors, "%s... and %u more error%s\n", c->prefix,
			c->error_count - c->error_limit,
			c->error_count - c->error_limit == 1 ? "" : "s");
	return c->error_count;
}

void config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < c->name_count; i++)
		free(c->names[i]);
	free(c->names);
	free(c->entries);
	free(c->vips);
	c->names = NULL;
	c->entries = NULL;
	c->vips = NULL;
	c->count = c->capacity = c->name_count = 0;
	c->vip_count = c->vip_capacity = 0;
}

void config_error(struct config *c, const char *file, unsigned int line,
		  const char *fmt, ...)
{
	va_list ap;

	if (c->error_limit && c->error_count >= c->error_limit) {
		c->error_count++;
		return;
	}
	if (line)
		fprintf(c->errors, "%s%s:%u: ", c->prefix, file, line);
	else
		fprintf(c->errors, "%s%s: ", c->prefix, file);
	va_start(ap, fmt);
	vfprintf(c->errors, fmt, ap);
	va_end(ap);
	fputc('\n', c->errors);
	c->error_count++;
}

static const char *remember_name(struct config *c, const char *name)
{
	char **grown, *copy;

	copy = strdup(name);
	if (!copy)
		return NULL;
	grown = reallocarray(c->names, c->name_count + 1, sizeof(*grown));
	if (!grown) {
		free(copy);
		return NULL;
	}
	c->names = grown;
	c->names[c->name_count++] = copy;
	return copy;
}

const struct config_entry *config_find(const struct config *c, int family,
				       unsigned int dscp)
{
	size_t i;

	for (i = 0; i < c->count; i++)
		if (c->entries[i].spec.m.family == family &&
		    c->entries[i].spec.m.dscp == dscp)
			return &c->entries[i];
	return NULL;
}

static int add_entry(struct config *c, const struct mapping_spec *spec,
		     const char *file, unsigned int line)
{
	const struct config_entry *other;
	struct config_entry *entry;

	other = config_find(c, spec->m.family, spec->m.dscp);
	if (other) {
		config_error(c, file, line,
			     "DSCP %u (%s) is mapped twice: also at %s:%u",
			     spec->m.dscp, family_name(spec->m.family),
			     other->file, other->line);
		return 0;
	}
	if (c->count == c->capacity) {
		size_t capacity = c->capacity ? 2 * c->capacity : 16;
		struct config_entry *grown;

		grown = reallocarray(c->entries, capacity, sizeof(*grown));
		if (!grown)
			return -1;
		c->entries = grown;
		c->capacity = capacity;
	}
	entry = &c->entries[c->count++];
	entry->spec = *spec;
	entry->file = file;
	entry->line = line;
	return 0;
}

/* A directive given once: a second time is an error naming the first. */
static bool first_time(struct config *c, struct config_origin *at,
		       const char *word, const char *file, unsigned int line)
{
	if (at->file) {
		config_error(c, file, line, "\"%s\" given twice: also at %s:%u",
			     word, at->file, at->line);
		return false;
	}
	at->file = file;
	at->line = line;
	return true;
}

/* "managed" or "unmanaged" after word; *unmanaged says which. */
static int managed_word(struct config *c, int count, char *words[],
			const char *file, unsigned int line, bool *unmanaged)
{
	if (count != 2 || (strcmp(words[1], "managed") &&
			   strcmp(words[1], "unmanaged"))) {
		config_error(c, file, line,
			     "\"%s\" takes one word: \"managed\" or \"unmanaged\"",
			     words[0]);
		return -1;
	}
	*unmanaged = words[1][0] == 'u';
	return 0;
}

static int add_vip(struct config *c, const char *word, const char *file,
		   unsigned int line)
{
	struct config_vip *v;
	unsigned char addr[16];
	int family;
	size_t i;

	family = parse_address(word, addr);
	if (family == AF_UNSPEC) {
		config_error(c, file, line,
			     "invalid vip \"%s\": not an IPv4 or IPv6 address",
			     word);
		return 0;
	}
	if (address_not_unicast(family, addr)) {
		config_error(c, file, line, "vip %s is %s: a VIP is unicast",
			     word, address_not_unicast(family, addr));
		return 0;
	}
	for (i = 0; i < c->vip_count; i++)
		if (c->vips[i].family == family &&
		    !memcmp(c->vips[i].addr, addr, address_length(family))) {
			config_error(c, file, line,
				     "vip %s is given twice: also at %s:%u",
				     word, c->vips[i].file, c->vips[i].line);
			return 0;
		}
	if (c->vip_count == c->vip_capacity) {
		size_t capacity = c->vip_capacity ? 2 * c->vip_capacity : 8;
		struct config_vip *grown;

		grown = reallocarray(c->vips, capacity, sizeof(*grown));
		if (!grown)
			return -1;
		c->vips = grown;
		c->vip_capacity = capacity;
	}
	v = &c->vips[c->vip_count++];
	v->family = family;
	memcpy(v->addr, addr, sizeof(addr));
	v->file = file;
	v->line = line;
	return 0;
}

/*
 * The lines that are not mappings. Returns 1 if words were one (handled,
 * errors reported), 0 if they are to be read as a mapping, -1 when out of
 * memory.
 */
static int parse_directive(struct config *c, int count, char *words[],
			   const char *file, unsigned int line)
{
	bool unmanaged;

	if (!strcmp(words[0], "flush")) {
		if (count != 1)
			config_error(c, file, line,
				     "\"flush\" stands alone on its line");
		else if (first_time(c, &c->flush_at, words[0], file, line))
			c->flush = true;
		return 1;
	}
	if (!strcmp(words[0], "vip-device")) {
		char err[WORDS_ERROR_SIZE], name[IF_NAMESIZE];

		if (count != 2) {
			config_error(c, file, line,
				     "\"vip-device\" takes one device name");
		} else if (words_device(words[1], name, err) < 0) {
			config_error(c, file, line, "%s", err);
		} else if (first_time(c, &c->vip_device_at, words[0], file,
				      line)) {
			strcpy(c->vip_device, words[1]);
		}
		return 1;
	}
	if (!strcmp(words[0], "vips") || !strcmp(words[0], "sysctls")) {
		bool vips = words[0][0] == 'v';

		if (managed_word(c, count, words, file, line, &unmanaged) < 0)
			return 1;
		if (!first_time(c, vips ? &c->vips_at : &c->sysctls_at,
				words[0], file, line))
			return 1;
		if (vips)
			c->vips_unmanaged = unmanaged;
		else
			c->sysctls_unmanaged = unmanaged;
		return 1;
	}
	/* Who keeps the table, unless --backend says otherwise. */
	if (!strcmp(words[0], "backend")) {
		if (count != 2 || (strcmp(words[1], "module") &&
				   strcmp(words[1], "nft") &&
				   strcmp(words[1], "auto")))
			config_error(c, file, line,
				     "\"backend\" takes one word: \"module\", \"nft\" or \"auto\"");
		else if (first_time(c, &c->backend_at, words[0], file, line))
			strcpy(c->backend, words[1]);
		return 1;
	}
	/* "vip ADDR" alone: a VIP to hold without a mapping. */
	if (count == 2 && !strcmp(words[0], "vip"))
		return add_vip(c, words[1], file, line) < 0 ? -1 : 1;
	return 0;
}

static int parse_line(struct config *c, char *text, const char *file,
		      unsigned int line)
{
	char err[WORDS_ERROR_SIZE];
	char *words[CONFIG_MAX_WORDS];
	struct mapping_spec spec;
	int count, first = 0, ret;

	count = words_split(text, words, CONFIG_MAX_WORDS);
	if (count < 0) {
		config_error(c, file, line, "too many words (a mapping has at most %d)",
			     CONFIG_MAX_WORDS);
		return 0;
	}
	if (!count)
		return 0;
	ret = parse_directive(c, count, words, file, line);
	if (ret)
		return ret < 0 ? -1 : 0;
	/* Lines pasted from `l3dsrctl add-mapping ...` scripts are welcome. */
	if (!strcmp(words[0], "add-mapping"))
		first = 1;
	if (words_mapping(count - first, words + first, KW_CONFIG_LINE, &spec,
			  err) < 0) {
		config_error(c, file, line, "%s", err);
		return 0;
	}
	return add_entry(c, &spec, file, line);
}

int config_read_stream(struct config *c, FILE *in, const char *name)
{
	const char *file = remember_name(c, name);
	unsigned int line = 0;
	size_t size = 0;
	char *text = NULL;
	ssize_t length;
	int ret = 0;

	if (!file)
		goto nomem;
	errno = 0;
	while ((length = getline(&text, &size, in)) >= 0) {
		line++;
		/* A UTF-8 byte order mark, as some editors write, is no word. */
		if (line == 1 && length >= 3 &&
		    !memcmp(text, "\xef\xbb\xbf", 3)) {
			memmove(text, text + 3, length - 2);
			length -= 3;
		}
		if (memchr(text, '\0', length)) {
			config_error(c, file, line,
				     "a NUL byte: this is not a text file");
			break;
		}
		if (parse_line(c, text, file, line) < 0)
			goto nomem;
	}
	if (ferror(in)) {
		config_error(c, file, 0, "cannot read: %s", strerror(errno));
		ret = -1;
	}
	free(text);
	return ret;

nomem:
	free(text);
	config_error(c, name, 0, "%s", strerror(ENOMEM));
	return -1;
}

int config_read_file(struct config *c, const char *path)
{
	struct stat st;
	FILE *in;
	int ret;

	if (!strcmp(path, "-"))
		return config_read_stream(c, stdin, "<stdin>");
	in = fopen(path, "re");
	if (!in) {
		config_error(c, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	/* Reading a directory "succeeds" with nothing in it: refuse it. */
	if (fstat(fileno(in), &st) == 0 && S_ISDIR(st.st_mode)) {
		config_error(c, path, 0, "is a directory");
		fclose(in);
		return -1;
	}
	ret = config_read_stream(c, in, path);
	fclose(in);
	return ret;
}

char **config_default_paths(const char *main_file, const char *dir,
			    char err[WORDS_ERROR_SIZE])
{
	char pattern[4096];
	struct stat st;
	glob_t found;
	char **paths;
	size_t i, count = 0;
	int ret;

	snprintf(pattern, sizeof(pattern), "%s/*.conf", dir);
	/* GLOB_ERR would fail on a missing directory; it may well be. */
	ret = glob(pattern, 0, NULL, &found);
	if (ret == GLOB_NOMATCH) {
		found.gl_pathc = 0;
	} else if (ret) {
		snprintf(err, WORDS_ERROR_SIZE, "cannot list %s: %s", dir,
			 ret == GLOB_NOSPACE ? strerror(ENOMEM) :
					       "read error");
		return NULL;
	}

	paths = calloc(found.gl_pathc + 2, sizeof(*paths));
	if (!paths)
		goto nomem;
	if (stat(main_file, &st) == 0 || errno != ENOENT) {
		paths[count] = strdup(main_file);
		if (!paths[count++])
			goto nomem;
	}
	for (i = 0; i < found.gl_pathc; i++) {
		paths[count] = strdup(found.gl_pathv[i]);
		if (!paths[count++])
			goto nomem;
	}
	if (ret == 0)
		globfree(&found);
	if (!count) {
		snprintf(err, WORDS_ERROR_SIZE,
			 "no configuration: neither %s nor %s/*.conf exists",
			 main_file, dir);
		config_free_paths(paths);
		return NULL;
	}
	return paths;

nomem:
	if (ret == 0)
		globfree(&found);
	config_free_paths(paths);
	snprintf(err, WORDS_ERROR_SIZE, "%s", strerror(ENOMEM));
	return NULL;
}

void config_resolve_devices(struct config *c)
{
	size_t i;

	for (i = 0; i < c->count; i++) {
		struct config_entry *e = &c->entries[i];

		if (!e->spec.dev[0])
			continue;
		e->spec.m.ifindex = if_nametoindex(e->spec.dev);
		if (!e->spec.m.ifindex)
			config_error(c, e->file, e->line, "no such device: %s",
				     e->spec.dev);
	}
	c->vip_ifindex = if_nametoindex(c->vip_device);
	if (c->vip_ifindex || c->vips_unmanaged)
		return;
	if (c->vip_device_at.file)
		config_error(c, c->vip_device_at.file, c->vip_device_at.line,
			     "no such device: %s", c->vip_device);
	else
		config_error(c, "vip-device", 0, "no such device: %s",
			     c->vip_device);
}

void config_free_paths(char **paths)
{
	size_t i;

	if (!paths)
		return;
	for (i = 0; paths[i]; i++)
		free(paths[i]);
	free(paths);
}

static int compare_entries(const void *left, const void *right)
{
	const struct mapping *a = &((const struct config_entry *)left)->spec.m;
	const struct mapping *b = &((const struct config_entry *)right)->spec.m;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return (a->dscp > b->dscp) - (a->dscp < b->dscp);
}

void config_sort(struct config *c)
{
	if (c->count)
		qsort(c->entries, c->count, sizeof(*c->entries),
		      compare_entries);
}
