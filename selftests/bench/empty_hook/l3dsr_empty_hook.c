// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of any netfilter design, for the benchmark only: a PREROUTING
 * hook per address family, at l3dsr's priority, that accepts every packet.
 * What it costs is what the hook machinery costs; what l3dsr adds on top of
 * it is what l3dsr's own code costs.
 *
 * Like l3dsr it registers its hooks per network namespace.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <net/net_namespace.h>

/* l3dsr's priority (kmod/hook.c): after defrag, before raw and conntrack. */
#define EMPTY_HOOK_PRIORITY	(NF_IP_PRI_RAW - 10)

static unsigned int empty_hook(void *priv, struct sk_buff *skb,
			       const struct nf_hook_state *state)
{
	return NF_ACCEPT;
}

static const struct nf_hook_ops empty_hook_ops[] = {
	{
		.hook		= empty_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= EMPTY_HOOK_PRIORITY,
	},
	{
		.hook		= empty_hook,
		.pf		= NFPROTO_IPV6,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= EMPTY_HOOK_PRIORITY,
	},
};

static int __net_init empty_hook_net_init(struct net *net)
{
	return nf_register_net_hooks(net, empty_hook_ops,
				     ARRAY_SIZE(empty_hook_ops));
}

static void __net_exit empty_hook_net_exit(struct net *net)
{
	nf_unregister_net_hooks(net, empty_hook_ops,
				ARRAY_SIZE(empty_hook_ops));
}

static struct pernet_operations empty_hook_net_ops = {
	.init = empty_hook_net_init,
	.exit = empty_hook_net_exit,
};

static int __init empty_hook_init(void)
{
	return register_pernet_subsys(&empty_hook_net_ops);
}

static void __exit empty_hook_exit(void)
{
	unregister_pernet_subsys(&empty_hook_net_ops);
}

module_init(empty_hook_init);
module_exit(empty_hook_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("l3dsr benchmark: an empty netfilter PREROUTING hook");
