/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_CONFIG_H
#define L3DSRCTL_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "words.h"

/*
 * The configuration files apply reads: one mapping per line in the words of
 * add-mapping (which may lead the line), plus "down"; "#" starts a comment.
 */

#define CONFIG_MAIN_FILE	"/etc/l3dsr.conf"
#define CONFIG_DIR		"/etc/l3dsr.d"

/* One mapping and the place it was written. */
struct config_entry {
	struct mapping_spec spec;
	const char *file;	/* as the user named it; points into config */
	unsigned int line;
};

struct config {
	struct config_entry *entries;
	size_t count;
	size_t capacity;
	char **names;		/* the files read, owned */
	size_t name_count;
	const char *prefix;	/* what error lines start with */
	FILE *errors;		/* where they go */
	unsigned int error_count;
};

/* Errors are written to errors as "PREFIXFILE:LINE: message". */
void config_init(struct config *c, const char *prefix, FILE *errors);
void config_free(struct config *c);

/*
 * Read the mappings of in, named name in messages, adding them to c. Every
 * bad line is reported and counted in c->error_count. Returns -1 only when
 * reading itself failed or memory ran out (reported too).
 */
int config_read_stream(struct config *c, FILE *in, const char *name);

/* The same for a file path, "-" being standard input. */
int config_read_file(struct config *c, const char *path);

/*
 * The default files: CONFIG_MAIN_FILE if it exists, then CONFIG_DIR's
 * *.conf in byte order. Stores a NULL-terminated array the caller frees
 * with config_free_paths(), or NULL with a message if there are none.
 */
char **config_default_paths(const char *main_file, const char *dir,
			    char err[WORDS_ERROR_SIZE]);
void config_free_paths(char **paths);

/* Order entries as the kernel lists mappings: inet first, then by DSCP. */
void config_sort(struct config *c);

#endif
