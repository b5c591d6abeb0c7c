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

/* More words than any valid line has, so a long line is still named. */
#define CONFIG_MAX_WORDS 32

void config_init(struct config *c, const char *prefix, FILE *errors)
{
	memset(c, 0, sizeof(*c));
	c->prefix = prefix;
	c->errors = errors;
}

void config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < c->name_count; i++)
		free(c->names[i]);
	free(c->names);
	free(c->entries);
	c->names = NULL;
	c->entries = NULL;
	c->count = c->capacity = c->name_count = 0;
}

static void config_error(struct config *c, const char *file,
			 unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void config_error(struct config *c, const char *file,
			 unsigned int line, const char *fmt, ...)
{
	va_list ap;

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

static const struct config_entry *find_slot(const struct config *c,
					    int family, unsigned int dscp)
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

	other = find_slot(c, spec->m.family, spec->m.dscp);
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

static int parse_line(struct config *c, char *text, const char *file,
		      unsigned int line)
{
	char err[WORDS_ERROR_SIZE];
	char *words[CONFIG_MAX_WORDS];
	struct mapping_spec spec;
	int count, first = 0;

	count = words_split(text, words, CONFIG_MAX_WORDS);
	if (count < 0) {
		config_error(c, file, line, "too many words (a mapping has at most %d)",
			     CONFIG_MAX_WORDS);
		return 0;
	}
	if (!count)
		return 0;
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
