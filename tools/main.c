// SPDX-License-Identifier: GPL-2.0
/*
 * l3dsrctl: configure the l3dsr kernel module, which rewrites the
 * destination of DSCP-marked packets from the real server's address back to
 * the virtual address the load balancer stands for.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "l3dsr.h"
#include "config.h"
#include "dscp.h"
#include "l3dsrctl.h"

#ifndef L3DSR_VERSION
#define L3DSR_VERSION "0.1.0"
#endif

static int cmd_help(const struct ctl *ctl, int argc, char *argv[]);

#define MAPPING_ARGS \
	"dscp DSCP vip ADDR [dev IFNAME] [rip ADDR] [clear-dscp] [nonlocal]"
/* The VIP's address too: on lo, or on vip-device's IFNAME. */
#define VIP_ARGS " [add-vip] [vip-device IFNAME]"

static const struct subcommand subcommands[] = {
	{ "add-mapping", cmd_add_mapping, MAPPING_ARGS VIP_ARGS,
	  "map DSCP to VIP; an identical mapping already there is success" },
	{ "replace-mapping", cmd_replace_mapping, MAPPING_ARGS VIP_ARGS,
	  "create or overwrite the mapping of DSCP; its counters go on" },
	{ "del-mapping", cmd_del_mapping, "dscp DSCP [del-vip]",
	  "delete the mappings of DSCP (-4/-6: of one family only)" },
	{ "set-mapping", cmd_set_mapping,
	  "dscp DSCP [down|up] [nonlocal on|off]",
	  "drain (down), restore (up) or set nonlocal of DSCP's mappings" },
	{ "show", cmd_show, "[dscp DSCP]",
	  "list mappings with their packet and byte counters" },
	{ "flush", cmd_flush, "",
	  "delete every mapping and the VIPs l3dsr added (-4/-6: one family)" },
	{ "apply", cmd_apply, "[-f FILE]... [--dry-run] [--allow-empty]",
	  "make the table, VIPs and sysctls what the files say, all or nothing" },
	{ "save", cmd_save, "[-o FILE]",
	  "write the table as a configuration file apply accepts" },
	{ "import-iptables", cmd_import_iptables, "[FILE|-]",
	  "turn iptables-save's DADDR rules into configuration" },
	{ "import-dsrtools", cmd_import_dsrtools, "[-o FILE] [DIR|FILE]",
	  "turn dsrtools' /etc/dsr.d files into configuration" },
	{ "check", cmd_check, "",
	  "check this host's l3dsr setup: OK, WARN, FAIL" },
	{ "stats", cmd_stats, "[--prometheus]",
	  "show the namespace's packet counters" },
	{ "monitor", cmd_monitor, "",
	  "print mapping changes as they happen, until killed" },
	{ "help", cmd_help, "[COMMAND]",
	  "show this help, or the usage of COMMAND" },
	{ "version", cmd_version, "",
	  "show the versions of l3dsrctl and of the loaded module" },
};

#define SUBCOMMAND_COUNT (sizeof(subcommands) / sizeof(subcommands[0]))

static const char global_usage[] =
	"usage: " PROG_NAME " [-j] [-n NETNS] [-4|-6] [--backend module|nft|auto] COMMAND [ARGS]\n";

static const struct subcommand *find_subcommand(const char *name)
{
	size_t i;

	for (i = 0; i < SUBCOMMAND_COUNT; i++)
		if (!strcmp(name, subcommands[i].name))
			return &subcommands[i];
	return NULL;
}

static void print_command_usage(FILE *out, const struct subcommand *cmd)
{
	fprintf(out, "usage: " PROG_NAME " %s%s%s\n", cmd->name,
		cmd->args[0] ? " " : "", cmd->args);
}

static void print_help(FILE *out)
{
	size_t i, on_line;

	fputs(global_usage, out);
	fputs("\n"
	      "Configure l3dsr, which rewrites the destination of packets marked with a\n"
	      "mapped DSCP to that mapping's virtual address (VIP).\n"
	      "\n"
	      "Options:\n"
	      "  -j, --json         print JSON\n"
	      "  -n, --netns NETNS  act in the network namespace /run/netns/NETNS\n"
	      "  -4, -6             only IPv4 or only IPv6 mappings\n"
	      "      --backend B    the table in the module, in nftables (nft), or\n"
	      "                     auto: the module if it loads, else nftables\n"
	      "  -h, --help         show this help\n"
	      "      --version      show the version\n"
	      "\n"
	      "Commands:\n", out);
	for (i = 0; i < SUBCOMMAND_COUNT; i++) {
		if (subcommands[i].args[0])
			fprintf(out, "  %-16s %s\n", subcommands[i].name,
				subcommands[i].args);
		else
			fprintf(out, "  %s\n", subcommands[i].name);
		fprintf(out, "  %-16s %s\n", "", subcommands[i].summary);
	}
	fprintf(out, "\n"
		"DSCP is a number %d..%d or a class name (case does not matter):",
		L3DSR_DSCP_MIN, L3DSR_DSCP_MAX);
	/* A line per kind of class (CS, AF, EF), of at most seven names. */
	for (i = 0, on_line = 0; i < dscp_class_count; i++, on_line++) {
		if (!i || on_line == 7 ||
		    strncmp(dscp_classes[i].name, dscp_classes[i - 1].name, 2)) {
			fputs("\n ", out);
			on_line = 0;
		}
		fprintf(out, " %s=%u", dscp_classes[i].name,
			dscp_classes[i].value);
	}
	fputs("\n"
	      "DSCP 0 (CS0) is every unmarked packet and can never be mapped.\n"
	      "\n"
	      "apply reads " CONFIG_MAIN_FILE " and " CONFIG_DIR "/*.conf unless -f is given\n"
	      "(\"-f -\": standard input); see l3dsr.conf(5).\n"
	      "\n"
	      "Exit status: 0 done, 1 the request failed, 2 bad command line;\n"
	      "apply --dry-run: 0 nothing to change, 3 changes to make.\n",
	      out);
}

int usage_error(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG_NAME ": %s: ", ctl->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	print_command_usage(stderr, ctl->cmd);
	return EXIT_USAGE;
}

int fail(const struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG_NAME ": %s: ", ctl->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FAILED;
}

int expect_no_arguments(const struct ctl *ctl, int argc, char *argv[])
{
	if (argc > 0)
		return usage_error(ctl, "unexpected argument \"%s\"", argv[0]);
	return EXIT_OK;
}

int ctl_open(const struct ctl *ctl, struct l3dsr_nl *nl)
{
	enum backend chosen;

	if (ctl->netns && netns_enter(ctl->netns) < 0)
		return EXIT_FAILED;
	return backend_open(ctl, nl, &chosen);
}

static int cmd_help(const struct ctl *ctl, int argc, char *argv[])
{
	const struct subcommand *cmd;

	if (argc == 0) {
		print_help(stdout);
		return EXIT_OK;
	}
	if (argc > 1)
		return usage_error(ctl, "unexpected argument \"%s\"", argv[1]);
	cmd = find_subcommand(argv[0]);
	if (!cmd)
		return usage_error(ctl, "unknown command \"%s\"", argv[0]);
	print_command_usage(stdout, cmd);
	printf("%s\n", cmd->summary);
	return EXIT_OK;
}

/* Names are single path components under /run/netns, as `ip netns` makes. */
static bool valid_netns_name(const char *name)
{
	return name[0] && strlen(name) <= NAME_MAX && !strchr(name, '/') &&
	       strcmp(name, ".") && strcmp(name, "..");
}

static int global_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int global_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG_NAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(global_usage, stderr);
	fputs("Try '" PROG_NAME " help' for the commands.\n", stderr);
	return EXIT_USAGE;
}

/* A failed write must not pass for success: scripts trust exit 0. */
static int finish_output(const char *cmd, int status)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, PROG_NAME ": %s: cannot write output: %s\n",
			cmd, strerror(errno));
		return EXIT_FAILED;
	}
	return status;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "netns", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "backend", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl ctl = { .family = AF_UNSPEC };
	int opt, family;

	opterr = 0;
	/* "+": options end at the command, whose arguments are its own. */
	while ((opt = getopt_long(argc, argv, "+:jn:46h", options,
				  NULL)) != -1) {
		switch (opt) {
		case 'j':
			ctl.json = true;
			break;
		case 'n':
			if (ctl.netns)
				return global_usage_error("-n given twice");
			if (!valid_netns_name(optarg))
				return global_usage_error("invalid network namespace name \"%s\"",
							  optarg);
			ctl.netns = optarg;
			break;
		case 'B':
			if (backend_parse(optarg, &ctl.backend) < 0)
				return global_usage_error("unknown backend \"%s\": say module, nft or auto",
							  optarg);
			break;
		case '4':
		case '6':
			family = opt == '4' ? AF_INET : AF_INET6;
			if (ctl.family != AF_UNSPEC && ctl.family != family)
				return global_usage_error("-4 and -6 exclude each other");
			ctl.family = family;
			break;
		case 'h':
			print_help(stdout);
			return finish_output("help", EXIT_OK);
		case 'V':
			/* What the version command says, whatever follows. */
			ctl.cmd = find_subcommand("version");
			return finish_output(ctl.cmd->name,
					     ctl.cmd->handler(&ctl, 0, NULL));
		case ':':
			return global_usage_error("option \"%s\" needs a value",
						  argv[optind - 1]);
		default:
			if (optopt)
				return global_usage_error("unknown option \"-%c\"",
							  optopt);
			return global_usage_error("unknown option \"%s\"",
						  argv[optind - 1]);
		}
	}

	if (optind == argc)
		return global_usage_error("no command given");
	ctl.cmd = find_subcommand(argv[optind]);
	if (!ctl.cmd)
		return global_usage_error("unknown command \"%s\"",
					  argv[optind]);
	argc -= optind + 1;
	argv += optind + 1;

	if (argc == 1 &&
	    (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) {
		print_command_usage(stdout, ctl.cmd);
		printf("%s\n", ctl.cmd->summary);
		return finish_output(ctl.cmd->name, EXIT_OK);
	}
	return finish_output(ctl.cmd->name, ctl.cmd->handler(&ctl, argc, argv));
}
