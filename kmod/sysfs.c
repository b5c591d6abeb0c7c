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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/sysfs.h>

#include "l3dsr.h"

struct l3dsr_stat_attr {
	struct kobj_attribute attr;
	enum l3dsr_stat stat;
};

struct l3dsr_sysfs_slot {
	struct kobject kobj;
	u8 family;
	u8 dscp;
};

static struct kobject *l3dsr_root_kobj;
static struct kobject *l3dsr_mappings_kobj;
static struct kobject *l3dsr_family_kobj[2];
static struct l3dsr_sysfs_slot *l3dsr_slots[2][L3DSR_NR_SLOTS];

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
	u64 sum[__L3DSR_STAT_LAST];

	l3dsr_stats_sum(l3dsr_pernet(&init_net), sum);
	return sysfs_emit(buf, "%llu\n", sum[sa->stat]);
}

enum l3dsr_slot_field { L3DSR_SLOT_VIP, L3DSR_SLOT_PACKETS, L3DSR_SLOT_BYTES };

static ssize_t l3dsr_slot_show(struct kobject *kobj, char *buf,
			       enum l3dsr_slot_field field)
{
	struct l3dsr_sysfs_slot *slot = container_of(kobj,
						     struct l3dsr_sysfs_slot,
						     kobj);
	struct l3dsr_table *table;
	struct l3dsr_mapping *m;
	u64 packets, bytes;
	ssize_t ret;

	table = l3dsr_table(l3dsr_pernet(&init_net), slot->family);
	rcu_read_lock();
	m = rcu_dereference(*l3dsr_slot(table, slot->dscp));
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
ATTRIBUTE_GROUPS(l3dsr_slot);

static void l3dsr_slot_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct l3dsr_sysfs_slot, kobj));
}

static const struct kobj_type l3dsr_slot_ktype = {
	.release = l3dsr_slot_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = l3dsr_slot_groups,
};

/*
 * The directory is a view: failing to make one leaves the mapping working,
 * so it is reported rather than undoing the change.
 */
void l3dsr_sysfs_mapping_added(struct l3dsr_net *ln,
			       const struct l3dsr_mapping *m)
{
	unsigned int fi = l3dsr_family_index(m->family);
	struct l3dsr_sysfs_slot *slot;

	if (!net_eq(ln->net, &init_net) || !l3dsr_family_kobj[fi])
		return;

	slot = kzalloc(sizeof(*slot), GFP_KERNEL);
	if (!slot)
		goto fail;
	slot->family = m->family;
	slot->dscp = m->dscp;
	if (kobject_init_and_add(&slot->kobj, &l3dsr_slot_ktype,
				 l3dsr_family_kobj[fi], "%u", m->dscp)) {
		kobject_put(&slot->kobj);
		goto fail;
	}
	l3dsr_slots[fi][m->dscp] = slot;
	return;
fail:
	pr_warn("no sysfs directory for DSCP %u: out of memory\n", m->dscp);
}

void l3dsr_sysfs_mapping_removed(struct l3dsr_net *ln,
				 const struct l3dsr_mapping *m)
{
	unsigned int fi = l3dsr_family_index(m->family);
	struct l3dsr_sysfs_slot *slot = l3dsr_slots[fi][m->dscp];

	if (!net_eq(ln->net, &init_net) || !slot)
		return;
	l3dsr_slots[fi][m->dscp] = NULL;
	kobject_put(&slot->kobj);
}

int __init l3dsr_sysfs_init(void)
{
	static const char *const family_dirs[] = { "ipv4", "ipv6" };
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
		goto err_group;
	for (i = 0; i < ARRAY_SIZE(family_dirs); i++) {
		l3dsr_family_kobj[i] = kobject_create_and_add(family_dirs[i],
							      l3dsr_mappings_kobj);
		if (!l3dsr_family_kobj[i])
			goto err_families;
	}
	return 0;

err_families:
	while (--i >= 0) {
		kobject_put(l3dsr_family_kobj[i]);
		l3dsr_family_kobj[i] = NULL;
	}
	kobject_put(l3dsr_mappings_kobj);
err_group:
	sysfs_remove_group(l3dsr_root_kobj, &l3dsr_stats_group);
err_root:
	kobject_put(l3dsr_root_kobj);
	return err;
}

/*
 * Runs once netlink is gone, so no mapping can come or go but through a
 * namespace's exit, which leaves the initial namespace's slots alone.
 */
void l3dsr_sysfs_exit(void)
{
	int i, dscp;

	mutex_lock(&l3dsr_config_lock);
	for (i = 0; i < ARRAY_SIZE(l3dsr_family_kobj); i++) {
		for (dscp = 0; dscp < L3DSR_NR_SLOTS; dscp++) {
			if (!l3dsr_slots[i][dscp])
				continue;
			kobject_put(&l3dsr_slots[i][dscp]->kobj);
			l3dsr_slots[i][dscp] = NULL;
		}
	}
	mutex_unlock(&l3dsr_config_lock);

	for (i = 0; i < ARRAY_SIZE(l3dsr_family_kobj); i++) {
		kobject_put(l3dsr_family_kobj[i]);
		l3dsr_family_kobj[i] = NULL;
	}
	kobject_put(l3dsr_mappings_kobj);
	sysfs_remove_group(l3dsr_root_kobj, &l3dsr_stats_group);
	kobject_put(l3dsr_root_kobj);
}
