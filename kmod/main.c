// SPDX-License-Identifier: GPL-2.0
/*
 * l3dsr: the server side of layer-3 Direct Server Return. A packet whose
 * DSCP is mapped has its destination rewritten to the mapped VIP before
 * routing, so the local service receives it on the VIP and answers the
 * client from the VIP directly.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/genetlink.h>

#include "l3dsr.h"

static int __init l3dsr_init(void)
{
	int err;

	l3dsr_debugfs_init();
	err = l3dsr_pernet_init();
	if (err) {
		pr_err("cannot set up the namespaces' state: %d\n", err);
		goto err_debugfs;
	}
	err = l3dsr_sysfs_init();
	if (err) {
		pr_err("cannot create /sys/kernel/l3dsr: %d\n", err);
		goto err_pernet;
	}
	/* last: from here on userspace can change the tables */
	err = l3dsr_genl_init();
	if (err) {
		pr_err("cannot register the netlink family: %d\n", err);
		goto err_sysfs;
	}

	pr_info("version %s loaded\n", L3DSR_VERSION);
	return 0;

err_sysfs:
	l3dsr_sysfs_exit();
err_pernet:
	l3dsr_pernet_exit();
err_debugfs:
	l3dsr_debugfs_exit();
	return err;
}

/*
 * Commands first, then the sysfs readers, then the namespaces' state that
 * both read.
 */
static void __exit l3dsr_exit(void)
{
	l3dsr_genl_exit();
	l3dsr_sysfs_exit();
	l3dsr_pernet_exit();
	l3dsr_debugfs_exit();
}

module_init(l3dsr_init);
module_exit(l3dsr_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Layer-3 Direct Server Return: DSCP to VIP destination rewrite");
MODULE_VERSION(L3DSR_VERSION);
MODULE_ALIAS_GENL_FAMILY(L3DSR_GENL_NAME);
