/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_WORDS_H
#define L3DSRCTL_WORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>

#include "json.h"
#include "mapping.h"

/*
 * The words mappings are written in, on the command line and in
 * configuration files alike. Nothing here talks to the kernel, so the
 * parsers can be tested anywhere.
 */

/* Room for any message the parsers write. */
#define WORDS_ERROR_SIZE 256

enum keyword {
	KW_DSCP,
	KW_VIP,
	KW_RIP,
	KW_DEV,
	KW_CLEAR_DSCP,
	KW_NONLOCAL,
	KW_DOWN,
	KW_UP,
	/* set-mapping's "nonlocal on|off": the same word, with a value */
	KW_NONLOCAL_SWITCH,
	/* add-mapping and del-mapping: the VIP's address too */
	KW_ADD_VIP,
	KW_VIP_DEVICE,
	KW_DEL_VIP,
	KW_COUNT
};

#define KW_BIT(kw) (1U << (kw))
/* What add-mapping and replace-mapping take. */
#define KW_MAPPING (KW_BIT(KW_DSCP) | KW_BIT(KW_VIP) | KW_BIT(KW_RIP) | \
		    KW_BIT(KW_DEV) | KW_BIT(KW_CLEAR_DSCP) | \
		    KW_BIT(KW_NONLOCAL))
/* A configuration line may say a mapping is down, too. */
#define KW_CONFIG_LINE (KW_MAPPING | KW_BIT(KW_DOWN))

/* A mapping as the words describe it, its device not yet resolved. */
struct mapping_spec {
	struct mapping m;
	char dev[IF_NAMESIZE];	/* "" for packets from any device */
	bool add_vip;		/* add-vip or vip-device was given */
	char vip_dev[IF_NAMESIZE]; /* vip-device's name, "" for lo */
};

const char *family_name(int family);
/* "IPv4" or "IPv6", for messages. */
const char *family_label(int family);
size_t address_length(int family);

/* The family of the address in word, stored in addr; AF_UNSPEC if none. */
int parse_address(const char *word, unsigned char *addr);

/*
 * Why the kernel refuses addr as a mapping's VIP or RIP ("a multicast
 * address", ...), or NULL if it takes it. Setting L3DSRCTL_SKIP_CHECKS=1
 * makes words_mapping() leave this check to the kernel, for testing that
 * the two agree.
 */
const char *address_not_unicast(int family, const unsigned char *addr);

/*
 * Collect "keyword [value]" pairs, in any order, each at most once, among
 * the allowed ones. values[k] is left NULL for keywords not given, and
 * points at the keyword itself for those that take no value. Returns 0, or
 * -1 with err saying which word is wrong.
 */
int words_keywords(int argc, char *argv[], unsigned int allowed,
		   const char *values[KW_COUNT], char err[WORDS_ERROR_SIZE]);

/* A device name, copied to name; -1 with err if it cannot be one. */
int words_device(const char *word, char name[IF_NAMESIZE],
		 char err[WORDS_ERROR_SIZE]);

/* A DSCP given by number or class name; -1 with err if not mappable. */
int words_dscp(const char *word, unsigned int *dscp,
	       char err[WORDS_ERROR_SIZE]);

/*
 * "on" or "off", the value keyword was given: *on says which. Returns 0,
 * or -1 with err naming the value and the keyword.
 */
int words_switch(const char *keyword, const char *value, bool *on,
		 char err[WORDS_ERROR_SIZE]);

/*
 * "dscp DSCP vip ADDR [dev IFNAME] [rip ADDR] [clear-dscp] [nonlocal]
 * [down]", the keywords limited to allowed. Returns 0, or -1 with err
 * naming the word.
 */
int words_mapping(int argc, char *argv[], unsigned int allowed,
		  struct mapping_spec *spec, char err[WORDS_ERROR_SIZE]);

/* "dscp 10 vip ADDR [rip ADDR] [dev IFNAME] [clear-dscp] [nonlocal] [down]" */
void spec_describe(const struct mapping_spec *spec, FILE *out);

/*
 * A mapping's flags in each of the forms the tool writes them: the words
 * of a configuration line, each after a blank (" clear-dscp nonlocal
 * down"); the boolean members of a JSON object ("clear_dscp", "nonlocal",
 * "down"), null for those not in known (the flags whoever describes the
 * mapping knows of: a module older than the tool lacks some); and the
 * FLAGS cell of `show`, comma-separated with down first, "-" for none, and
 * bits this tool has no name for in hex.
 */
void flags_describe(uint32_t flags, FILE *out);
void flags_json(struct json *json, uint32_t flags, uint32_t known);
void flags_format(uint32_t flags, char *cell, size_t size);

/*
 * Split line into blank-separated words, in place, up to a "#" that starts
 * a word (the rest of the line is a comment). Returns the number of words
 * stored in words (at most max), or -1 if there are more than max.
 */
int words_split(char *line, char *words[], int max);

#endif
