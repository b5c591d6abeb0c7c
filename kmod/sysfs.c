// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/l3dsr: counters of the initial network namespace for
 * monitoring agents, one value per file. sysfs is not namespace aware, so
 * other namespaces are read through netlink.
 *
 *   stats/<counter>                     namespace totals
 *   mappings/ipv4/<dscp>/{vip,packets,bytes}
 *   mappings/ipv6/<dscp>/{vip,packets,bytes}
 *
 * A mapping's directory exists while the mapping does. Its files read the
 * slot at the time of reading, so a replaced mapping shows its new VIP.
 * Reading takes no lock.
 *
 * Every directory is removed from sysfs before its last reference is
 * dropped, so its name is free at once even when the kernel releases
 * kobjects late (CONFIG_DEBUG_KOBJECT_RELEASE): a mapping deleted and made
 * again, or the module unloaded and loaded again, finds its name free. The
 * kobjects are the kernel's own, whose release lives in the kernel, not in
 * a module that may be gone by then.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/socket.h>
#include <linux/sysfs.h>

#include "l3dsr.h"

struct l3dsr_stat_attr {
	struct kobj_attribute attr;
	enum l3dsr_stat stat;
};

static const char *const l3dsr_family_dirs[L3DSR_NR_FAMILIES] = {
	"ipv4", "ipv6",
};

static struct kobject *l3dsr_root_kobj;
static struct kobject *l3dsr_mappings_kobj;
static struct kobject *l3dsr_family_kobj[L3DSR_NR_FAMILIES];
/* changed under the initial namespace's lock, or once no change can come */
static struct kobject *l3dsr_slots[L3DSR_NR_FAMILIES][L3DSR_NR_SLOTS];

static struct l3dsr_stat_attr l3dsr_stat_attrs[__L3DSR_STAT_LAST];
static struct attribute *l3dsr_stats_attrs[__L3DSR_STAT_LAST + 1];

static const struct attribute_group l3dsr_stats_group = {
	.name = "stats",
	.attrs = l3dsr_stats_attrs,
};

static ssize_t l3dsr_stat_show(struct kobject *kobj,
			       struct kobj_attribute *attr, char *buf)
{
	struct l3dsr_stat_attr *sa = container_of(attr, struct l3dsr_stat_attr,
						  attr);

	return sysfs_emit(buf, "%llu\n",
			  l3dsr_stat_read(l3dsr_net_find(&init_net),
					  sa->stat));
}

enum l3dsr_slot_field { L3DSR_SLOT_VIP, L3DSR_SLOT_PACKETS, L3DSR_SLOT_BYTES };

/* A mapping's directory is named after its DSCP, under its family's. */
static ssize_t l3dsr_slot_show(struct kobject *kobj, char *buf,
			       enum l3dsr_slot_field field)
{
	u8 family = kobj->parent == l3dsr_family_kobj[0] ? AF_INET : AF_INET6;
	struct l3dsr_net *ln = l3dsr_net_find(&init_net);
	struct l3dsr_mapping *m = NULL;
	u64 packets, bytes;
	ssize_t ret;
	u8 dscp;

	if (kstrtou8(kobject_name(kobj), 10, &dscp) || dscp > L3DSR_DSCP_MAX)
		return -ENOENT;

	rcu_read_lock();
	if (ln)
		m = l3dsr_net_mapping(ln, family, dscp);
	if (!m) {
		/* deleted while the file was open */
		ret = -ENOENT;
	} else if (field == L3DSR_SLOT_VIP) {
		ret = m->family == AF_INET ?
			sysfs_emit(buf, "%pI4\n", &m->vip.ip) :
			sysfs_emit(buf, "%pI6c\n", &m->vip.in6);
	} else {
		l3dsr_mapping_stats_sum(m, &packets, &bytes);
		ret = sysfs_emit(buf, "%llu\n",
				 field == L3DSR_SLOT_PACKETS ? packets : bytes);
	}
	rcu_read_unlock();
	return ret;
}

static ssize_t vip_show(struct kobject *kobj, struct kobj_attribute *attr,
			char *buf)
{
	return l3dsr_slot_show(kobj, buf, L3DSR_SLOT_VIP);
}

static ssize_t packets_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return l3dsr_slot_show(kobj, buf, L3DSR_SLOT_PACKETS);
}

static ssize_t bytes_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return l3dsr_slot_show(kobj, buf, L3DSR_SLOT_BYTES);
}

static struct kobj_attribute l3dsr_vip_attr = __ATTR_RO(vip);
static struct kobj_attribute l3dsr_packets_attr = __ATTR_RO(packets);
static struct kobj_attribute l3dsr_bytes_attr = __ATTR_RO(bytes);

static struct attribute *l3dsr_slot_attrs[] = {
	&l3dsr_vip_attr.attr,
	&l3dsr_packets_attr.attr,
	&l3dsr_bytes_attr.attr,
	NULL,
};

static const struct attribute_group l3dsr_slot_group = {
	.attrs = l3dsr_slot_attrs,
};

/* Out of sysfs now, freed whenever the kernel lets the last reference go. */
static void l3dsr_kobj_remove(struct kobject **kobj)
{
	if (!*kobj)
		return;
	kobject_del(*kobj);
	kobject_put(*kobj);
	*kobj = NULL;
}

/*
 * The directory is a view: failing to make one leaves the mapping working,
 * so it is reported rather than undoing the change.
 */
void l3dsr_sysfs_mapping_added(struct l3dsr_net *ln,
			       const struct l3dsr_mapping *m)
{
	unsigned int fi = l3dsr_family_index(m->family);
	struct kobject *kobj;
	char name[4];

	if (!net_eq(ln->net, &init_net) || !l3dsr_family_kobj[fi])
		return;

	snprintf(name, sizeof(name), "%u", m->dscp);
	kobj = kobject_create_and_add(name, l3dsr_family_kobj[fi]);
	if (!kobj)
		goto fail;
	if (sysfs_create_group(kobj, &l3dsr_slot_group)) {
		l3dsr_kobj_remove(&kobj);
		goto fail;
	}
	l3dsr_slots[fi][m->dscp] = kobj;
	return;
fail:
	pr_warn("no sysfs directory for DSCP %u\n", m->dscp);
}

void l3dsr_sysfs_mapping_removed(struct l3dsr_net *ln,
				 const struct l3dsr_mapping *m)
{
	if (!net_eq(ln->net, &init_net))
		return;
	l3dsr_kobj_remove(&l3dsr_slots[l3dsr_family_index(m->family)][m->dscp]);
}

/*
 * The previous module's directory, if the kernel has not let it go: the
 * one reason to fail here that kobject_create_and_add() cannot tell.
 */
static bool l3dsr_root_taken(void)
{
	struct kernfs_node *kn;

	kn = kernfs_find_and_get(kernel_kobj->sd, KBUILD_MODNAME);
	if (!kn)
		return false;
	kernfs_put(kn);
	return true;
}

int __init l3dsr_sysfs_init(void)
{
	int err = -ENOMEM;
	int i;

	for (i = L3DSR_STAT_REWRITTEN; i < __L3DSR_STAT_LAST; i++) {
		struct l3dsr_stat_attr *sa = &l3dsr_stat_attrs[i];

		sysfs_attr_init(&sa->attr.attr);
		sa->attr.attr.name = l3dsr_stat_names[i];
		sa->attr.attr.mode = 0444;
		sa->attr.show = l3dsr_stat_show;
		sa->stat = i;
		l3dsr_stats_attrs[i - L3DSR_STAT_REWRITTEN] = &sa->attr.attr;
	}

	if (l3dsr_root_taken()) {
		pr_err("/sys/kernel/%s exists already\n", KBUILD_MODNAME);
		return -EEXIST;
	}
	l3dsr_root_kobj = kobject_create_and_add(KBUILD_MODNAME, kernel_kobj);
	if (!l3dsr_root_kobj)
		return -ENOMEM;
	err = sysfs_create_group(l3dsr_root_kobj, &l3dsr_stats_group);
	if (err)
		goto err_root;

	err = -ENOMEM;
	l3dsr_mappings_kobj = kobject_create_and_add("mappings",
						     l3dsr_root_kobj);
	if (!l3dsr_mappings_kobj)
		goto err_dirs;
	for (i = 0; i < L3DSR_NR_FAMILIES; i++) {
		l3dsr_family_kobj[i] =
			kobject_create_and_add(l3dsr_family_dirs[i],
					       l3dsr_mappings_kobj);
		if (!l3dsr_family_kobj[i])
			goto err_dirs;
	}
	return 0;

err_dirs:
	for (i = 0; i < L3DSR_NR_FAMILIES; i++)
		l3dsr_kobj_remove(&l3dsr_family_kobj[i]);
	l3dsr_kobj_remove(&l3dsr_mappings_kobj);
err_root:
	l3dsr_kobj_remove(&l3dsr_root_kobj);
	return err;
}

/*
 * Runs once netlink is gone, so no mapping of the initial namespace can
 * come or go; the namespaces' exit, which follows, finds no directory.
 * Removing a directory waits for the reads in progress in it.
 */
void l3dsr_sysfs_exit(void)
{
	int fi, dscp;

	for (fi = 0; fi < L3DSR_NR_FAMILIES; fi++) {
		for (dscp = 0; dscp < L3DSR_NR_SLOTS; dscp++)
			l3dsr_kobj_remove(&l3dsr_slots[fi][dscp]);
		l3dsr_kobj_remove(&l3dsr_family_kobj[fi]);
	}
	l3dsr_kobj_remove(&l3dsr_mappings_kobj);
	sysfs_remove_group(l3dsr_root_kobj, &l3dsr_stats_group);
	l3dsr_kobj_remove(&l3dsr_root_kobj);
}
