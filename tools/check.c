// SPDX-License-Identifier: GPL-2.0
/*
 * check: what a real server needs for l3dsr to work, looked at the way an
 * operator would, one finding per line: OK, WARN (works, but watch it) or
 * FAIL (packets will not reach the service).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "l3dsr.h"
#include "family.h"
#include "iptables.h"
#include "json.h"
#include "kmodule.h"
#include "l3dsrctl.h"
#include "mapping.h"
#include "netlink.h"
#include "nft.h"
#include "spawn.h"

enum level { LEVEL_OK, LEVEL_WARN, LEVEL_FAIL };

static const char *const level_names[] = { "ok", "warn", "fail" };
static const char *const level_labels[] = { "OK", "WARN", "FAIL" };

struct finding {
	enum level level;
	const char *check;
	char subject[64];
	char message[384];
};

struct report {
	struct finding *items;
	size_t count;
	size_t capacity;
	unsigned int levels[3];
	bool out_of_memory;
	const char *backend;	/* who holds the table; NULL: nobody */
};

static void add(struct report *r, enum level severity, const char *check,
		const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void add(struct report *r, enum level severity, const char *check,
		const char *subject, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	if (r->count == r->capacity) {
		size_t capacity = r->capacity ? 2 * r->capacity : 32;
		struct finding *grown;

		grown = reallocarray(r->items, capacity, sizeof(*grown));
		if (!grown) {
			r->out_of_memory = true;
			return;
		}
		r->items = grown;
		r->capacity = capacity;
	}
	f = &r->items[r->count++];
	f->level = severity;
	f->check = check;
	snprintf(f->subject, sizeof(f->subject), "%s", subject);
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	r->levels[severity]++;
}

/* ------------------------------------------------ local addresses */

struct local_address {
	int family;
	unsigned char addr[sizeof(struct in6_addr)];
	unsigned int prefix;
	char dev[IF_NAMESIZE];
	bool loopback;
};

struct addresses {
	struct local_address *items;
	size_t count;
};

static unsigned int mask_length(const struct sockaddr *mask)
{
	const unsigned char *bytes;
	unsigned int length = 0;
	size_t i, size;

	if (!mask)
		return 0;
	if (mask->sa_family == AF_INET) {
		bytes = (const void *)&((const struct sockaddr_in *)mask)->sin_addr;
		size = 4;
	} else {
		bytes = (const void *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		size = 16;
	}
	for (i = 0; i < size; i++)
		length += __builtin_popcount(bytes[i]);
	return length;
}

static int read_addresses(struct addresses *list)
{
	struct ifaddrs *all, *ifa;
	size_t count = 0;

	list->items = NULL;
	list->count = 0;
	if (getifaddrs(&all) < 0)
		return -1;
	for (ifa = all; ifa; ifa = ifa->ifa_next)
		count++;
	list->items = calloc(count ? count : 1, sizeof(*list->items));
	if (!list->items) {
		freeifaddrs(all);
		return -1;
	}
	for (ifa = all; ifa; ifa = ifa->ifa_next) {
		struct local_address *a = &list->items[list->count];
		int family;

		if (!ifa->ifa_addr)
			continue;
		family = ifa->ifa_addr->sa_family;
		if (family == AF_INET)
			memcpy(a->addr,
			       &((struct sockaddr_in *)ifa->ifa_addr)->sin_addr, 4);
		else if (family == AF_INET6)
			memcpy(a->addr,
			       &((struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr,
			       16);
		else
			continue;
		a->family = family;
		a->prefix = mask_length(ifa->ifa_netmask);
		snprintf(a->dev, sizeof(a->dev), "%s", ifa->ifa_name);
		a->loopback = ifa->ifa_flags & IFF_LOOPBACK;
		list->count++;
	}
	freeifaddrs(all);
	return 0;
}

static const struct local_address *find_address(const struct addresses *list,
						int family, const void *addr)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		if (list->items[i].family == family &&
		    !memcmp(list->items[i].addr, addr, address_length(family)))
			return &list->items[i];
	return NULL;
}

/* ------------------------------------------------------- sysctls */

/* A value under /proc/sys/net/ipv4/conf/DEV/, or -1 if unreadable. */
static int read_conf(const char *dev, const char *name)
{
	char path[128];
	FILE *in;
	int value;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/%s", dev,
		 name);
	in = fopen(path, "re");
	if (!in)
		return -1;
	if (fscanf(in, "%d", &value) != 1)
		value = -1;
	fclose(in);
	return value;
}

/* The kernel uses the larger of "all" and the device's own value. */
static int effective_conf(const char *dev, const char *name)
{
	int all = read_conf("all", name), own = read_conf(dev, name);

	return all > own ? all : own;
}

/* ------------------------------------------------------ listeners */

/* A socket address as /proc/net/{tcp,udp}[6] prints it: hex words. */
static bool parse_proc_address(const char *hex, int family,
			       unsigned char *addr)
{
	size_t words = family == AF_INET ? 1 : 4, i;
	char word[9];
	uint32_t value;

	if (strlen(hex) < words * 8)
		return false;
	for (i = 0; i < words; i++) {
		memcpy(word, hex + 8 * i, 8);
		word[8] = '\0';
		/* Each word is the in-memory u32, printed in host order. */
		value = strtoul(word, NULL, 16);
		memcpy(addr + 4 * i, &value, 4);
	}
	return true;
}

static bool is_any_or(const unsigned char *addr, int family,
		      const unsigned char *vip, int vip_family)
{
	static const unsigned char zero[16];
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (!memcmp(addr, zero, address_length(family)))
		return true;	/* a wildcard; [::] takes IPv4 too, usually */
	if (family == vip_family)
		return !memcmp(addr, vip, address_length(family));
	/* An IPv4 VIP bound on an IPv6 socket as ::ffff:a.b.c.d. */
	return vip_family == AF_INET && family == AF_INET6 &&
	       !memcmp(addr, mapped, 12) && !memcmp(addr + 12, vip, 4);
}

/*
 * Ports listening on the VIP or a wildcard address, appended to ports as
 * "tcp/80 udp/53 ...". Returns how many were found.
 */
static unsigned int scan_listeners(const char *file, const char *proto,
				   int family, const char *listen_state,
				   const struct mapping *m, char *ports,
				   size_t size)
{
	char line[512], local[64], state[8];
	unsigned char addr[16];
	unsigned int port, found = 0;
	size_t used = strlen(ports);
	FILE *in;

	in = fopen(file, "re");
	if (!in)
		return 0;
	if (!fgets(line, sizeof(line), in)) {	/* the header */
		fclose(in);
		return 0;
	}
	while (fgets(line, sizeof(line), in)) {
		char *colon;

		if (sscanf(line, " %*s %63s %*s %7s", local, state) != 2 ||
		    strcmp(state, listen_state))
			continue;
		colon = strchr(local, ':');
		if (!colon)
			continue;
		*colon = '\0';
		port = strtoul(colon + 1, NULL, 16);
		if (!parse_proc_address(local, family, addr) ||
		    !is_any_or(addr, family, m->vip, m->family))
			continue;
		found++;
		/* The first ones name the sockets; the count says the rest. */
		if (used < size)
			used += snprintf(ports + used, size - used, "%s%s/%u",
					 used ? " " : "", proto, port);
	}
	fclose(in);
	return found;
}

static void check_listeners(struct report *r, const struct mapping *m,
			    const char *subject)
{
	char vip[INET6_ADDRSTRLEN], ports[160] = "";
	unsigned int found = 0;

	format_address(m->family, m->vip, vip);
	/* TCP listens in state 0A; a bound UDP socket rests in 07. */
	if (m->family == AF_INET) {
		found += scan_listeners("/proc/net/tcp", "tcp", AF_INET, "0A",
					m, ports, sizeof(ports));
		found += scan_listeners("/proc/net/udp", "udp", AF_INET, "07",
					m, ports, sizeof(ports));
	}
	found += scan_listeners("/proc/net/tcp6", "tcp", AF_INET6, "0A", m,
				ports, sizeof(ports));
	found += scan_listeners("/proc/net/udp6", "udp", AF_INET6, "07", m,
				ports, sizeof(ports));
	if (found)
		add(r, LEVEL_OK, "listener", subject,
		    "%u socket%s listen on %s or a wildcard address: %s",
		    found, found == 1 ? "" : "s", vip, ports);
	else
		add(r, LEVEL_WARN, "listener", subject,
		    "no TCP or UDP socket listens on %s or a wildcard address: rewritten requests will be refused",
		    vip);
}

/* ---------------------------------------------------------- checks */

static void check_vip(struct report *r, const struct addresses *local,
		      const struct mapping *m, const char *subject)
{
	unsigned int host = m->family == AF_INET ? 32 : 128;
	const struct local_address *a;
	char vip[INET6_ADDRSTRLEN];

	format_address(m->family, m->vip, vip);
	a = find_address(local, m->family, m->vip);
	if (!a) {
		add(r, LEVEL_FAIL, "vip_address", subject,
		    "%s is on no interface: rewritten packets are not for this host (%s apply puts the VIPs on lo; by hand: ip addr add %s/%u dev lo)",
		    vip, PROG_NAME, vip, host);
		return;
	}
	if (a->prefix != host) {
		add(r, LEVEL_WARN, "vip_address", subject,
		    "%s is on %s as /%u: a VIP belongs on lo as /%u, or the server claims the whole prefix",
		    vip, a->dev, a->prefix, host);
		return;
	}
	if (!a->loopback) {
		add(r, LEVEL_WARN, "vip_address", subject,
		    "%s is on %s, not on lo: the server may answer ARP or neighbour discovery for it on the wire",
		    vip, a->dev);
		return;
	}
	add(r, LEVEL_OK, "vip_address", subject, "%s is on %s as /%u", vip,
	    a->dev, host);
}

static void check_rip(struct report *r, const struct addresses *local,
		      const struct mapping *m, const char *subject)
{
	char rip[INET6_ADDRSTRLEN];

	if (!m->has_rip)
		return;
	format_address(m->family, m->rip, rip);
	if (find_address(local, m->family, m->rip))
		add(r, LEVEL_OK, "rip_address", subject,
		    "rip %s is a local address", rip);
	else if (m->flags & L3DSR_F_NONLOCAL)
		/* Taking over another host's address is what it is for. */
		add(r, LEVEL_OK, "rip_address", subject,
		    "rip %s is not a local address: nonlocal rewrites the packets this host would forward to it",
		    rip);
	else
		add(r, LEVEL_FAIL, "rip_address", subject,
		    "rip %s is on no interface: packets to it are not for this host and are left alone (skipped_not_local)",
		    rip);
}

/* Interfaces an IPv4 mapping's requests arrive on, for the sysctls. */
struct wire_devices {
	char names[64][IF_NAMESIZE];
	size_t count;
};

static void add_device(struct wire_devices *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->count; i++)
		if (!strcmp(w->names[i], name))
			return;
	if (w->count < sizeof(w->names) / sizeof(w->names[0]))
		snprintf(w->names[w->count++], IF_NAMESIZE, "%s", name);
}

static void collect_wire_devices(const struct mapping_list *list,
				 const struct addresses *local,
				 struct wire_devices *w)
{
	const struct local_address *a;
	char name[IF_NAMESIZE];
	bool any_scope = false;
	size_t i;

	for (i = 0; i < list->count; i++) {
		const struct mapping *m = &list->items[i];

		if (m->family != AF_INET)
			continue;
		if (m->ifindex && if_indextoname(m->ifindex, name)) {
			add_device(w, name);
			continue;
		}
		a = m->has_rip ? find_address(local, AF_INET, m->rip) : NULL;
		if (a)
			add_device(w, a->dev);
		else
			any_scope = true;
	}
	if (!any_scope)
		return;
	/* Unscoped mappings take requests on any interface with an address. */
	for (i = 0; i < local->count; i++)
		if (local->items[i].family == AF_INET &&
		    !local->items[i].loopback)
			add_device(w, local->items[i].dev);
}

static void check_sysctls(struct report *r, const struct wire_devices *w)
{
	size_t i;

	for (i = 0; i < w->count; i++) {
		const char *dev = w->names[i];
		int value;

		value = effective_conf(dev, "arp_ignore");
		if (value < 0)
			add(r, LEVEL_WARN, "arp_ignore", dev,
			    "cannot read net.ipv4.conf.%s.arp_ignore", dev);
		else if (value == 0)
			add(r, LEVEL_WARN, "arp_ignore", dev,
			    "%s answers ARP for the VIPs on lo, stealing them from the balancer: set net.ipv4.conf.all.arp_ignore=1 (%s apply does, unless the files say sysctls unmanaged)",
			    dev, PROG_NAME);
		else
			add(r, LEVEL_OK, "arp_ignore", dev,
			    "%s answers ARP only for its own addresses (arp_ignore %d)",
			    dev, value);

		value = effective_conf(dev, "arp_announce");
		if (value < 0)
			add(r, LEVEL_WARN, "arp_announce", dev,
			    "cannot read net.ipv4.conf.%s.arp_announce", dev);
		else if (value < 2)
			add(r, LEVEL_WARN, "arp_announce", dev,
			    "%s may announce a VIP as the source of its ARP requests: set net.ipv4.conf.all.arp_announce=2 (%s apply does, unless the files say sysctls unmanaged)",
			    dev, PROG_NAME);
		else
			add(r, LEVEL_OK, "arp_announce", dev,
			    "%s announces only its own addresses (arp_announce %d)",
			    dev, value);

		value = effective_conf(dev, "rp_filter");
		if (value == 1)
			add(r, LEVEL_WARN, "rp_filter", dev,
			    "strict reverse-path filtering on %s drops requests from clients not routed back through %s, as on a multi-homed server whose default route is elsewhere: loose mode (2) is safer with DSR (%s apply sets it where the default route is not on %s)",
			    dev, dev, PROG_NAME, dev);
		else if (value >= 0)
			add(r, LEVEL_OK, "rp_filter", dev,
			    "reverse-path filtering on %s is %s", dev,
			    value ? "loose" : "off");
	}
}

/* The output of a program on $PATH, or NULL if it cannot be run. */
static FILE *run_program(const char *program, pid_t *pid)
{
	char *const argv[] = { (char *)program, NULL };
	char path[4096];

	if (!spawn_find(program, NULL, path, sizeof(path)))
		return NULL;
	return spawn_read(path, argv, STDOUT_FILENO, pid);
}

static bool target_loaded(const char *file)
{
	char name[64];
	bool found = false;
	FILE *in = fopen(file, "re");

	if (!in)
		return false;
	while (fscanf(in, "%63s", name) == 1)
		found |= !strcmp(name, "DADDR");
	fclose(in);
	return found;
}

static const struct mapping *find_mapping(const struct mapping_list *list,
					  int family, unsigned int dscp)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		if (list->items[i].family == family &&
		    list->items[i].dscp == dscp)
			return &list->items[i];
	return NULL;
}

static void judge_daddr_rule(struct report *r, const char *program,
			     const struct daddr_rule *rule,
			     const struct mapping_list *list)
{
	const struct mapping *m = &rule->spec.m, *ours;
	char subject[64], vip[INET6_ADDRSTRLEN], our_vip[INET6_ADDRSTRLEN];

	snprintf(subject, sizeof(subject), "%s line %u", program, rule->line);
	if (!rule->converted) {
		add(r, LEVEL_WARN, "daddr_rules", subject,
		    "a DADDR rule (%s) still rewrites packets, and no mapping can say the same: see %s import-iptables",
		    rule->where, PROG_NAME);
		return;
	}
	format_address(m->family, m->vip, vip);
	ours = find_mapping(list, m->family, m->dscp);
	if (!ours) {
		add(r, LEVEL_WARN, "daddr_rules", subject,
		    "a DADDR rule (%s) rewrites DSCP %u to %s, which l3dsr does not map: migrate it with %s import-iptables",
		    rule->where, m->dscp, vip, PROG_NAME);
		return;
	}
	format_address(ours->family, ours->vip, our_vip);
	if (memcmp(ours->vip, m->vip, address_length(m->family))) {
		add(r, LEVEL_FAIL, "daddr_rules", subject,
		    "a DADDR rule (%s) rewrites DSCP %u to %s, but l3dsr maps it to %s: remove one",
		    rule->where, m->dscp, vip, our_vip);
		return;
	}
	add(r, LEVEL_WARN, "daddr_rules", subject,
	    "a DADDR rule (%s) rewrites DSCP %u to %s as l3dsr already does: remove it",
	    rule->where, m->dscp, vip);
}

static void check_daddr(struct report *r, const struct mapping_list *list)
{
	static const struct {
		const char *program;
		const char *targets;
	} sources[] = {
		{ "iptables-save", "/proc/net/ip_tables_targets" },
		{ "ip6tables-save", "/proc/net/ip6_tables_targets" },
	};
	bool any = false;
	size_t i, j;

	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		struct daddr_rules rules = { 0 };
		bool ran = false;
		pid_t pid;
		FILE *in;

		in = run_program(sources[i].program, &pid);
		if (in) {
			int ret = daddr_rules_read(in, sources[i].program,
						   &rules, NULL, "");

			ran = spawn_wait(in, pid) == 0 && ret == 0;
		}
		if (ran) {
			for (j = 0; j < rules.count; j++)
				judge_daddr_rule(r, sources[i].program,
						 &rules.items[j], list);
			any |= rules.count > 0;
		} else if (target_loaded(sources[i].targets)) {
			add(r, LEVEL_WARN, "daddr_rules", sources[i].targets,
			    "the DADDR target is loaded, so old rules may still rewrite packets; %s could not be run to list them",
			    sources[i].program);
			any = true;
		}
		daddr_rules_free(&rules);
	}
	if (!any)
		add(r, LEVEL_OK, "daddr_rules", "iptables",
		    "no DADDR rules");
}

/* ---------------------------------------------------------- output */

static void print_report(const struct ctl *ctl, const struct report *r)
{
	struct json json;
	size_t i;

	if (!ctl->json) {
		for (i = 0; i < r->count; i++) {
			const struct finding *f = &r->items[i];

			printf("%-4s %s %s: %s\n", level_labels[f->level],
			       f->check, f->subject, f->message);
		}
		printf("%u ok, %u warn, %u fail\n", r->levels[LEVEL_OK],
		       r->levels[LEVEL_WARN], r->levels[LEVEL_FAIL]);
		return;
	}
	json_init(&json, stdout);
	json_object_begin(&json);
	json_member_bool(&json, "ok", !r->levels[LEVEL_FAIL]);
	json_member_u64(&json, "ok_count", r->levels[LEVEL_OK]);
	json_member_u64(&json, "warn_count", r->levels[LEVEL_WARN]);
	json_member_u64(&json, "fail_count", r->levels[LEVEL_FAIL]);
	json_member_string(&json, "backend", r->backend);
	json_key(&json, "checks");
	json_array_begin(&json);
	for (i = 0; i < r->count; i++) {
		const struct finding *f = &r->items[i];

		json_object_begin(&json);
		json_member_string(&json, "level", level_names[f->level]);
		json_member_string(&json, "check", f->check);
		json_member_string(&json, "subject", f->subject);
		json_member_string(&json, "message", f->message);
		json_object_end(&json);
	}
	json_array_end(&json);
	json_object_end(&json);
	putchar('\n');
}

static void check_mappings(struct report *r, const struct mapping_list *list)
{
	struct wire_devices wire = { .count = 0 };
	struct addresses local;
	char subject[64], vip[INET6_ADDRSTRLEN];
	size_t i;

	if (!list->count) {
		add(r, LEVEL_WARN, "mappings", "table",
		    "no mappings: nothing is rewritten (see %s apply)",
		    PROG_NAME);
		return;
	}
	add(r, LEVEL_OK, "mappings", "table", "%zu mapping%s", list->count,
	    list->count == 1 ? "" : "s");
	if (read_addresses(&local) < 0) {
		add(r, LEVEL_FAIL, "vip_address", "interfaces",
		    "cannot list the local addresses: %s", strerror(errno));
		return;
	}
	for (i = 0; i < list->count; i++) {
		const struct mapping *m = &list->items[i];

		snprintf(subject, sizeof(subject), "dscp %u %s", m->dscp,
			 format_address(m->family, m->vip, vip));
		if (m->flags & L3DSR_F_DOWN)
			add(r, LEVEL_WARN, "mappings", subject,
			    "down (drained): marked packets pass unrewritten (%s set-mapping dscp %u up)",
			    PROG_NAME, m->dscp);
		if (m->flags & L3DSR_F_NONLOCAL)
			add(r, LEVEL_WARN, "mappings", subject,
			    "nonlocal: marked packets are rewritten whatever their destination, so this host takes over traffic meant for other hosts that it would forward (%s set-mapping dscp %u nonlocal off)",
			    PROG_NAME, m->dscp);
		check_vip(r, &local, m, subject);
		check_rip(r, &local, m, subject);
		check_listeners(r, m, subject);
	}
	collect_wire_devices(list, &local, &wire);
	check_sysctls(r, &wire);
	free(local.items);
}

/* The table, whichever backend holds it, and what check_mappings() says. */
static void read_mappings(struct report *r, struct l3dsr_nl *nl,
			  struct mapping_list *list)
{
	if (mappings_read(nl, list) < 0)
		add(r, LEVEL_FAIL, "mappings", "table",
		    "cannot read the mappings");
	else
		check_mappings(r, list);
}

/*
 * Whether the module will load after the next reboot or upgrade: Secure
 * Boot, the kernel's rule for signatures, and the two modules that matter,
 * the loaded one and the file modprobe would load.
 */
static void check_signatures(struct report *r, const struct kmodule *km)
{
	if (km->secure_boot == TS_YES)
		add(r, LEVEL_OK, "module", "secure_boot", "Secure Boot is on");
	else if (km->secure_boot == TS_NO)
		add(r, LEVEL_OK, "module", "secure_boot", "Secure Boot is off");
	else
		add(r, LEVEL_OK, "module", "secure_boot",
		    "not booted through EFI: no Secure Boot");

	if (km->enforcing == TS_YES)
		add(r, LEVEL_OK, "module", "signatures",
		    "the kernel loads only modules signed by a key it trusts (%s)",
		    km->enforced_by);
	else
		add(r, LEVEL_OK, "module", "signatures",
		    "the kernel loads unsigned modules too");

	if (km->loaded && km->loaded_verified == TS_YES)
		add(r, LEVEL_OK, "module", "loaded",
		    "the loaded module's signature was verified by the kernel");
	else if (km->loaded && km->loaded_verified == TS_NO)
		/* only a kernel that does not enforce signatures loads one */
		add(r, LEVEL_OK, "module", "loaded",
		    "the loaded module is not signed (the kernel is tainted E): under Secure Boot it would be refused");

	if (!km->path[0]) {
		if (km->loaded)
			add(r, LEVEL_WARN, "module", "installed",
			    "no l3dsr.ko is installed for kernel %s: the loaded one came from elsewhere, and after a reboot there will be none",
			    km->release);
		return;
	}
	if (km->compressed) {
		add(r, LEVEL_OK, "module", "installed",
		    "%s (compressed: its signature and kernel not inspected)",
		    km->path);
	} else if (km->built_for[0] && strcmp(km->built_for, km->release)) {
		add(r, LEVEL_FAIL, "module", "installed",
		    "%s was built for kernel %s, not %s: rebuild it (dkms autoinstall)",
		    km->path, km->built_for, km->release);
	} else if (km->file_signed == TS_NO && km->enforcing == TS_YES) {
		add(r, LEVEL_FAIL, "module", "installed",
		    "%s is not signed, and this kernel will refuse it (README: Secure Boot)",
		    km->path);
	} else {
		add(r, LEVEL_OK, "module", "installed", "%s, %s", km->path,
		    km->file_signed == TS_YES ? "signed" :
		    "not signed (Secure Boot would refuse it)");
	}
}

/* After an upgrade without a reload, tool and module are of two versions. */
static void check_version(struct report *r, const struct l3dsr_nl *nl)
{
	const char *missing[16];
	char names[256] = "";
	size_t count, i, used = 0;

	if (!nl->version || nl->version == L3DSR_GENL_VERSION)
		return;
	if (nl->version > L3DSR_GENL_VERSION) {
		add(r, LEVEL_WARN, "module", "version",
		    "the loaded module is newer than %s (netlink family version %u, not %d): what it added cannot be used from this %s",
		    PROG_NAME, nl->version, L3DSR_GENL_VERSION, PROG_NAME);
		return;
	}
	count = missing_features(nl->version, missing, 16);
	for (i = 0; i < count && used < sizeof(names); i++)
		used += snprintf(names + used, sizeof(names) - used, "%s%s",
				 i ? ", " : "", missing[i]);
	add(r, LEVEL_WARN, "module", "version",
	    "the loaded module is older than %s (netlink family version %u, not %d): it lacks %s; load the new one (%s(8), UPGRADING)",
	    PROG_NAME, nl->version, L3DSR_GENL_VERSION, names, PROG_NAME);
}

int cmd_check(const struct ctl *ctl, int argc, char *argv[])
{
	struct mapping_list list = { .family = ctl->family };
	struct report r = { 0 };
	struct l3dsr_nl nl;
	enum backend chosen;
	struct kmodule km;
	int status;

	status = expect_no_arguments(ctl, argc, argv);
	if (status)
		return status;
	if (ctl->netns && netns_enter(ctl->netns) < 0)
		return EXIT_FAILED;

	/* Looked at, not loaded: a check changes nothing. */
	kmodule_inspect(&km);
	if (ctl->backend != BACKEND_MODULE &&
	    backend_find(ctl, &nl, &chosen) > 0 && chosen == BACKEND_NFT) {
		/* The fallback works as documented: a warning, not a failure. */
		r.backend = "nft";
		if (km.loaded) {
			add(&r, LEVEL_WARN, "module", "l3dsr",
			    "the module is loaded, but the table is still in nftables: apply moves it into the module");
		} else {
			char why[640];

			kmodule_why_absent(&km, why, sizeof(why));
			add(&r, LEVEL_WARN, "module", "l3dsr",
			    "the l3dsr module is not loaded: %s", why);
		}
		add(&r, LEVEL_OK, "backend", "nft",
		    "the table is in nftables (table inet " NFT_TABLE_NAME
		    "), which rewrites without the module; l3dsr(7) lists what differs");
		read_mappings(&r, &nl, &list);
		nl_close(&nl);
	} else if (!km.loaded) {
		char why[640];

		kmodule_why_absent(&km, why, sizeof(why));
		add(&r, LEVEL_FAIL, "module", "l3dsr",
		    "the l3dsr module is not loaded: %s", why);
	} else {
		add(&r, LEVEL_OK, "module", "l3dsr", "the module is loaded");
		r.backend = "module";
		if (nl_open(&nl, ctl->cmd->name) < 0) {
			add(&r, LEVEL_FAIL, "mappings", "table",
			    "cannot reach the l3dsr netlink family");
		} else {
			check_version(&r, &nl);
			read_mappings(&r, &nl, &list);
			nl_close(&nl);
		}
	}
	check_signatures(&r, &km);
	check_daddr(&r, &list);

	if (r.out_of_memory) {
		status = fail(ctl, "%s", strerror(ENOMEM));
	} else {
		print_report(ctl, &r);
		status = r.levels[LEVEL_FAIL] ? EXIT_FAILED : EXIT_OK;
	}
	free(r.items);
	free(list.items);
	return status;
}
