/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_DSRTOOLS_H
#define L3DSRCTL_DSRTOOLS_H

#include <stdbool.h>

#include "words.h"

/*
 * The lines of dsrtools' configuration (dsr.conf(5), read by its dsrctl):
 *
 *	VIP=DSCP	an L3DSR VIP, rewritten to from packets marked DSCP
 *	VIP		an L2DSR VIP, which the balancer sends to unchanged
 *
 * with blanks allowed around each part, "#" starting a comment anywhere
 * after the VIP (or at the start of the line), and blank lines. A VIP is
 * dotted-quad IPv4, an IPv6 address of hex digits and colons alone (no
 * embedded IPv4 part), or a host name of letters, digits, dots and hyphens,
 * which dsrctl took for its IPv4 address. The DSCP is 0..63 in decimal,
 * octal with a leading 0 (041) or hex with 0x (0x21). A line whose VIP word
 * starts with "Version" is dsrctl's own version line.
 */

#define DSRTOOLS_DIR "/etc/dsr.d"

enum dsr_kind {
	DSR_NOTHING,		/* blank or comment */
	DSR_VERSION,		/* dsrctl's "Version=..." line */
	DSR_L3,
	DSR_L2,
};

enum dsr_vip_kind {
	DSR_VIP_IPV4,		/* dotted quad */
	DSR_VIP_IPV6,		/* hex digits and colons */
	DSR_VIP_NAME,		/* letters, digits, dots, hyphens */
};

/* One line, split in place: the words point into it. */
struct dsr_line {
	enum dsr_kind kind;
	enum dsr_vip_kind vip_kind;
	const char *vip;
	const char *dscp;	/* NULL for L2DSR */
	const char *comment;	/* after "#", blanks trimmed; NULL if none */
};

/*
 * Split text (one line, its newline removed) the way dsrctl reads it.
 * Returns 0, or -1 with why saying what dsrctl would refuse.
 */
int dsr_split_line(char *text, struct dsr_line *line,
		   char why[WORDS_ERROR_SIZE]);

/*
 * dsrctl's DSCP: decimal, 0-prefixed octal or 0x hex, at most 63. DSCP 0,
 * which dsrctl took, is refused too: l3dsr never maps it.
 */
int dsr_parse_dscp(const char *word, unsigned int *dscp,
		   char why[WORDS_ERROR_SIZE]);

#endif
