/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_CONFIG_H
#define L3DSRCTL_CONFIG_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>

#include "words.h"

/*
 * The configuration files apply reads: one mapping per line in the words of
 * add-mapping (which may lead the line), plus "down"; "#" starts a comment.
 * Other lines say what goes with the mappings (l3dsr.conf(5)):
 *   vip ADDR                      a VIP held without a mapping
 *   vip-device IFNAME             where the VIPs go (lo)
 *   vips managed|unmanaged        whether apply holds the VIPs (managed)
 *   sysctls managed|unmanaged     whether apply sets ARP and rp_filter
 *   flush                         an empty table is meant
 */

#define CONFIG_MAIN_FILE	"/etc/l3dsr.conf"
#define CONFIG_DIR		"/etc/l3dsr.d"

/* One mapping and the place it was written. */
struct config_entry {
	struct mapping_spec spec;
	const char *file;	/* as the user named it; points into config */
	unsigned int line;
};

/* A VIP held without a mapping ("vip ADDR" alone on a line). */
struct config_vip {
	int family;
	unsigned char addr[16];
	const char *file;
	unsigned int line;
};

/* Where a directive was written, to name both places of a conflict. */
struct config_origin {
	const char *file;	/* NULL: not written, the default holds */
	unsigned int line;
};

/* Errors printed before the rest are only counted. */
#define CONFIG_ERROR_LIMIT 20

struct config {
	struct config_entry *entries;
	size_t count;
	size_t capacity;
	struct config_vip *vips;
	size_t vip_count;
	size_t vip_capacity;
	char vip_device[IF_NAMESIZE];	/* "lo" unless vip-device said */
	uint32_t vip_ifindex;		/* set by config_resolve_devices() */
	bool vips_unmanaged;
	bool sysctls_unmanaged;
	bool flush;			/* a "flush" line: empty is meant */
	/* "backend module|nft|auto": its word, "" if no line said it */
	char backend[8];
	struct config_origin vip_device_at, vips_at, sysctls_at, flush_at;
	struct config_origin backend_at;
	char **names;		/* the files read, owned */
	size_t name_count;
	const char *prefix;	/* what error lines start with */
	FILE *errors;		/* where they go */
	unsigned int error_count;
	unsigned int error_limit;	/* print at most this many; 0: all */
};

/*
 * Errors are written to errors as "PREFIXFILE:LINE: message", the first
 * CONFIG_ERROR_LIMIT of them; config_finish() says how many more there were.
 */
void config_init(struct config *c, const char *prefix, FILE *errors);
/*
 * Report an error found later about the line at file:line (line 0: the
 * file as a whole), counted and limited as the parser's own are.
 */
void config_error(struct config *c, const char *file, unsigned int line,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "... and N more errors" when the limit hid some; 0 if there were none. */
unsigned int config_finish(struct config *c);
/*
 * Look up every device the files name (dev, vip-device) in the current
 * network namespace, reporting each missing one at its line.
 */
void config_resolve_devices(struct config *c);
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
/* The entry of (family, dscp), or NULL. */
const struct config_entry *config_find(const struct config *c, int family,
				       unsigned int dscp);

#endif
