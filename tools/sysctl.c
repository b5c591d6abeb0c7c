// SPDX-License-Identifier: GPL-2.0
/* The sysctls of a DSR server: read, planned and written. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "sysctl.h"
#include "words.h"

/* A device name in a sysctl path: "eth0.10" is the directory "eth0/10". */
static void conf_dir(const char *dev, char *buf, size_t size)
{
	size_t i;

	snprintf(buf, size, "%s", dev);
	for (i = 0; buf[i]; i++)
		if (buf[i] == '.')
			buf[i] = '/';
}

void setting_name(const struct setting *s, char *buf, size_t size)
{
	char dir[IF_NAMESIZE];

	conf_dir(s->dev, dir, sizeof(dir));
	snprintf(buf, size, "net.ipv4.conf.%s.%s", dir, s->key);
}

static void conf_path(const char *dev, const char *key, char *buf,
		      size_t size)
{
	char dir[IF_NAMESIZE];

	conf_dir(dev, dir, sizeof(dir));
	snprintf(buf, size, "/proc/sys/net/ipv4/conf/%s/%s", dir, key);
}

int sysctl_read(const char *dev, const char *key)
{
	char path[128];
	FILE *in;
	int value;

	conf_path(dev, key, path, sizeof(path));
	in = fopen(path, "re");
	if (!in)
		return -1;
	if (fscanf(in, "%d", &value) != 1) {
		errno = EINVAL;
		value = -1;
	}
	fclose(in);
	return value;
}

int sysctl_write(const char *dev, const char *key, int value)
{
	char path[128];
	FILE *out;
	int ret = 0;

	conf_path(dev, key, path, sizeof(path));
	out = fopen(path, "we");
	if (!out)
		return -1;
	if (fprintf(out, "%d\n", value) < 0)
		ret = -1;
	if (fclose(out) == EOF)
		ret = -1;
	return ret;
}

static bool is_loopback(const char *dev)
{
	struct ifreq ifr = { 0 };
	bool loopback = false;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		loopback = ifr.ifr_flags & IFF_LOOPBACK;
	close(fd);
	return loopback;
}

static void add_wire(struct settings *s, const char *dev)
{
	size_t i;

	if (is_loopback(dev))
		return;
	for (i = 0; i < s->wire_count; i++)
		if (!strcmp(s->wire[i], dev))
			return;
	if (s->wire_count < sizeof(s->wire) / sizeof(s->wire[0]))
		snprintf(s->wire[s->wire_count++], IF_NAMESIZE, "%s", dev);
}

/*
 * The interfaces an IPv4 mapping's requests arrive on: its dev; else the
 * one holding its rip; else (a mapping for any RIP, on any interface)
 * every interface with an IPv4 address.
 */
static void collect_wire(const struct config *c, const struct addr_list *addrs,
			 struct settings *s)
{
	const struct local_addr *a;
	char name[IF_NAMESIZE];
	bool any = false;
	size_t i;

	for (i = 0; i < c->count; i++) {
		const struct mapping_spec *spec = &c->entries[i].spec;

		if (spec->m.family != AF_INET)
			continue;
		if (spec->dev[0]) {
			add_wire(s, spec->dev);
			continue;
		}
		a = spec->m.has_rip ? addr_find(addrs, AF_INET, spec->m.rip) :
				      NULL;
		if (a && if_indextoname(a->ifindex, name))
			add_wire(s, name);
		else
			any = true;
	}
	if (!any)
		return;
	/* Not the VIPs' own: the device l3dsr puts them on, its marks. */
	for (i = 0; i < addrs->count; i++)
		if (addrs->items[i].family == AF_INET &&
		    addrs->items[i].proto != L3DSR_ADDR_PROTO &&
		    addrs->items[i].ifindex != c->vip_ifindex &&
		    if_indextoname(addrs->items[i].ifindex, name))
			add_wire(s, name);
}

/* Whether dev carries an IPv4 default route of the main table. */
static bool default_route_on(const char *dev)
{
	char line[256], iface[IF_NAMESIZE + 1], dest[16], mask[16];
	bool found = false;
	FILE *in;

	in = fopen("/proc/net/route", "re");
	if (!in)
		return true;	/* cannot tell: leave rp_filter alone */
	while (fgets(line, sizeof(line), in))
		if (sscanf(line, "%16s %15s %*s %*s %*s %*s %*s %15s", iface,
			   dest, mask) == 3 &&
		    !strcmp(dest, "00000000") && !strcmp(mask, "00000000") &&
		    !strcmp(iface, dev))
			found = true;
	fclose(in);
	return found;
}

static int want(struct settings *s, const char *dev, const char *key,
		int value, int before)
{
	struct setting *set;

	if (before < 0)
		return -1;
	if (before >= value)
		return 0;
	if (s->count == sizeof(s->items) / sizeof(s->items[0]))
		return 0;
	set = &s->items[s->count++];
	snprintf(set->dev, sizeof(set->dev), "%s", dev);
	set->key = key;
	set->before = before;
	set->after = value;
	return 0;
}

int settings_plan(const struct config *c, const struct addr_list *addrs,
		  struct settings *s)
{
	size_t i;
	int all_rp;

	memset(s, 0, sizeof(*s));
	collect_wire(c, addrs, s);
	if (!s->wire_count)
		return 0;
	if (want(s, "all", "arp_ignore", 1, sysctl_read("all", "arp_ignore")) ||
	    want(s, "all", "arp_announce", 2,
		 sysctl_read("all", "arp_announce")))
		return -1;
	all_rp = sysctl_read("all", "rp_filter");
	for (i = 0; i < s->wire_count; i++) {
		const char *dev = s->wire[i];
		int rp;

		if (want(s, dev, "arp_ignore", 1,
			 sysctl_read(dev, "arp_ignore")) ||
		    want(s, dev, "arp_announce", 2,
			 sysctl_read(dev, "arp_announce")))
			return -1;
		rp = sysctl_read(dev, "rp_filter");
		if (rp < 0 || all_rp < 0)
			return -1;
		/* The kernel applies the larger of "all" and the device's. */
		if ((rp > all_rp ? rp : all_rp) == 1 && !default_route_on(dev))
			want(s, dev, "rp_filter", 2, rp);
	}
	return 0;
}
