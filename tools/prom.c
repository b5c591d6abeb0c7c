// SPDX-License-Identifier: GPL-2.0
/* Counter names, and the Prometheus text exposition format. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <sys/socket.h>

#include "stats.h"
#include "words.h"

const char *const stat_names[L3DSR_STAT_MAX + 1] = {
	[L3DSR_STAT_REWRITTEN] = "rewritten",
	[L3DSR_STAT_REWRITTEN_FRAGMENTS] = "rewritten_fragments",
	[L3DSR_STAT_SKIPPED_SCOPE] = "skipped_scope",
	[L3DSR_STAT_SKIPPED_NOT_HOST] = "skipped_not_host",
	[L3DSR_STAT_SKIPPED_MALFORMED] = "skipped_malformed",
	[L3DSR_STAT_SKIPPED_ROUTING_HEADER] = "skipped_routing_header",
	[L3DSR_STAT_DROPPED_UNWRITABLE] = "dropped_unwritable",
	[L3DSR_STAT_SKIPPED_DOWN] = "skipped_down",
	[L3DSR_STAT_SKIPPED_NOT_LOCAL] = "skipped_not_local",
	[L3DSR_STAT_SKIPPED_BRIDGED] = "skipped_bridged",
	[L3DSR_STAT_SKIPPED_PROTOCOL] = "skipped_protocol",
};

const char *const stat_help[L3DSR_STAT_MAX + 1] = {
	[L3DSR_STAT_REWRITTEN] =
		"Packets whose destination l3dsr rewrote to a VIP.",
	[L3DSR_STAT_REWRITTEN_FRAGMENTS] =
		"Rewritten packets that were IP fragments other than the first.",
	[L3DSR_STAT_SKIPPED_SCOPE] =
		"Marked packets left alone: the mapping's dev or rip did not match.",
	[L3DSR_STAT_SKIPPED_NOT_HOST] =
		"Marked packets left alone: link-layer broadcast or multicast.",
	[L3DSR_STAT_SKIPPED_MALFORMED] =
		"Marked packets left alone: a header the rewrite needs was truncated.",
	[L3DSR_STAT_SKIPPED_ROUTING_HEADER] =
		"Marked IPv6 packets left alone: a Routing header with segments left.",
	[L3DSR_STAT_DROPPED_UNWRITABLE] =
		"Marked packets dropped: no memory to make the headers writable.",
	[L3DSR_STAT_SKIPPED_DOWN] =
		"Marked packets left alone: their mapping is down (drained).",
	[L3DSR_STAT_SKIPPED_NOT_LOCAL] =
		"Marked packets left alone: not addressed to this host, which would forward them.",
	[L3DSR_STAT_SKIPPED_BRIDGED] =
		"Marked packets left alone: frames a bridge switches to another host.",
	[L3DSR_STAT_SKIPPED_PROTOCOL] =
		"Marked packets left alone: a protocol whose checksum or authentication a rewrite would break.",
};

/* A label value: backslash, double quote and newline are escaped. */
static void write_label_value(FILE *out, const char *value)
{
	for (; *value; value++) {
		switch (*value) {
		case '\\':
			fputs("\\\\", out);
			break;
		case '"':
			fputs("\\\"", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		default:
			fputc(*value, out);
		}
	}
}

static void write_header(FILE *out, const char *name, const char *type,
			 const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void write_netns_label(FILE *out, const char *netns, bool more)
{
	if (!netns)
		return;
	fputs("netns=\"", out);
	write_label_value(out, netns);
	fputs(more ? "\"," : "\"", out);
}

static void write_mapping_sample(FILE *out, const char *name,
				 const struct mapping *m, const char *netns,
				 uint64_t value)
{
	char vip[INET6_ADDRSTRLEN];

	inet_ntop(m->family, m->vip, vip, sizeof(vip));
	fprintf(out, "%s{", name);
	write_netns_label(out, netns, true);
	fprintf(out, "family=\"%s\",dscp=\"%u\",vip=\"%s\"} %" PRIu64 "\n",
		family_name(m->family), m->dscp, vip, value);
}

void prometheus_write(FILE *out, const struct stats *stats,
		      const struct mapping_list *list, const char *netns)
{
	char name[64];
	unsigned int i;
	size_t j;

	for (i = 0; i <= L3DSR_STAT_MAX; i++) {
		if (!stat_names[i] || !stats->present[i])
			continue;
		snprintf(name, sizeof(name), "l3dsr_%s_total", stat_names[i]);
		write_header(out, name, "counter", stat_help[i]);
		fputs(name, out);
		if (netns) {
			fputc('{', out);
			write_netns_label(out, netns, false);
			fputc('}', out);
		}
		fprintf(out, " %" PRIu64 "\n", stats->values[i]);
	}

	write_header(out, "l3dsr_mapping_packets_total", "counter",
		     "Packets the mapping rewrote.");
	for (j = 0; j < list->count; j++)
		write_mapping_sample(out, "l3dsr_mapping_packets_total",
				     &list->items[j], netns,
				     list->items[j].packets);
	write_header(out, "l3dsr_mapping_bytes_total", "counter",
		     "Bytes, from the IP header on, of the packets the mapping rewrote.");
	for (j = 0; j < list->count; j++)
		write_mapping_sample(out, "l3dsr_mapping_bytes_total",
				     &list->items[j], netns,
				     list->items[j].bytes);
	write_header(out, "l3dsr_mapping_down", "gauge",
		     "1 if the mapping is down (drained), 0 if it rewrites.");
	for (j = 0; j < list->count; j++)
		write_mapping_sample(out, "l3dsr_mapping_down",
				     &list->items[j], netns,
				     !!(list->items[j].flags & L3DSR_F_DOWN));
}
