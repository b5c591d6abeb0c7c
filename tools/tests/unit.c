// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the parts of l3dsrctl that need no kernel: DSCP names
 * and numbers, the JSON writer's output and escaping, the words of a
 * mapping, configuration files, the Prometheus exposition, how replies
 * to a dump are read, and the nftables backend's transactions and how it
 * reads a table's JSON listing.
 *
 * usage: tests/unit [PROM_FILE]: PROM_FILE receives a sample exposition
 * for an outside checker (promtool).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "l3dsr.h"
#include "config.h"
#include "dscp.h"
#include "family.h"
#include "json.h"
#include "netlink.h"
#include "nft.h"
#include "stats.h"
#include "words.h"

static int failures, checks;

#define CHECK(cond, ...)						\
	do {								\
		checks++;						\
		if (!(cond)) {						\
			failures++;					\
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
		}							\
	} while (0)

/*
 * The value a class name stands for, from the RFCs' rules rather than from
 * the table under test: CSx is x << 3 (RFC 2474), AFxy is x << 3 | y << 1
 * (RFC 2597), EF is 101110 (RFC 3246).
 */
static int value_by_rule(const char *name)
{
	if (!strcasecmp(name, "EF"))
		return 0x2e;
	if (!strncasecmp(name, "CS", 2) && strlen(name) == 3)
		return (name[2] - '0') << 3;
	if (!strncasecmp(name, "AF", 2) && strlen(name) == 4)
		return (name[2] - '0') << 3 | (name[3] - '0') << 1;
	return -1;
}

static void test_class_names(void)
{
	static const char *const expected[] = {
		"CS1", "CS2", "CS3", "CS4", "CS5", "CS6", "CS7",
		"AF11", "AF12", "AF13", "AF21", "AF22", "AF23",
		"AF31", "AF32", "AF33", "AF41", "AF42", "AF43", "EF",
	};
	char lower[8];
	unsigned int value;
	size_t i, j;

	CHECK(dscp_class_count == sizeof(expected) / sizeof(expected[0]),
	      "%zu class names, expected %zu", dscp_class_count,
	      sizeof(expected) / sizeof(expected[0]));

	for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		value = 0;
		CHECK(dscp_parse(expected[i], &value) == DSCP_VALID,
		      "%s is not accepted", expected[i]);
		CHECK((int)value == value_by_rule(expected[i]),
		      "%s parsed as %u, the RFC says %d", expected[i], value,
		      value_by_rule(expected[i]));
		CHECK(dscp_class_name(value) &&
		      !strcmp(dscp_class_name(value), expected[i]),
		      "DSCP %u is named %s, expected %s", value,
		      dscp_class_name(value) ? dscp_class_name(value) : "NULL",
		      expected[i]);

		for (j = 0; expected[i][j] && j < sizeof(lower) - 1; j++)
			lower[j] = expected[i][j] | 0x20;
		lower[j] = '\0';
		CHECK(dscp_parse(lower, &value) == DSCP_VALID &&
		      (int)value == value_by_rule(expected[i]),
		      "lower-case %s is not DSCP %d", lower,
		      value_by_rule(expected[i]));
	}
	CHECK(dscp_parse("aF4" "1", &value) == DSCP_VALID && value == 34,
	      "mixed-case aF41 is not 34");
	CHECK(dscp_class_name(1) == NULL, "DSCP 1 has a class name");
	CHECK(dscp_class_name(0) == NULL, "DSCP 0 has a mappable name");
}

static void test_numbers(void)
{
	static const char *const zero[] = {
		"0", "00", "CS0", "cs0", "DF", "be",
	};
	static const char *const too_big[] = {
		"64", "100", "255", "256", "4294967296",
		"99999999999999999999999999",
	};
	static const char *const unknown[] = {
		"", "-1", "+1", " 1", "1 ", "1a", "0x1", "1.0", "AF14", "AF51",
		"CS8", "EF1", "E", "AF", "CS", "bogus",
	};
	unsigned int value, n;
	char word[8];
	size_t i;

	for (n = 1; n <= 63; n++) {
		snprintf(word, sizeof(word), "%u", n);
		value = 0;
		CHECK(dscp_parse(word, &value) == DSCP_VALID && value == n,
		      "\"%s\" is not DSCP %u", word, n);
	}
	CHECK(dscp_parse("010", &value) == DSCP_VALID && value == 10,
	      "\"010\" is not decimal 10");
	for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		CHECK(dscp_parse(zero[i], &value) == DSCP_IS_ZERO,
		      "\"%s\" is not recognised as DSCP 0", zero[i]);
	for (i = 0; i < sizeof(too_big) / sizeof(too_big[0]); i++)
		CHECK(dscp_parse(too_big[i], &value) == DSCP_OUT_OF_RANGE,
		      "\"%s\" is not out of range", too_big[i]);
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		CHECK(dscp_parse(unknown[i], &value) == DSCP_UNKNOWN,
		      "\"%s\" is not rejected as unknown", unknown[i]);
}

/* What writer(json) produces, as a string the caller frees. */
static char *render(void (*writer)(struct json *json, const void *arg),
		    const void *arg)
{
	struct json json;
	size_t size;
	char *text;
	FILE *out;

	out = open_memstream(&text, &size);
	if (!out) {
		perror("open_memstream");
		exit(1);
	}
	json_init(&json, out);
	writer(&json, arg);
	fclose(out);
	return text;
}

static void write_string(struct json *json, const void *arg)
{
	json_string(json, arg);
}

static void check_string(const char *input, const char *expected)
{
	char *text = render(write_string, input);

	CHECK(!strcmp(text, expected), "string written as %s, expected %s",
	      text, expected);
	free(text);
}

static void test_json_strings(void)
{
	check_string("eth0", "\"eth0\"");
	check_string("", "\"\"");
	check_string("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	check_string("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	check_string("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	/* Well-formed UTF-8 of 2, 3 and 4 bytes passes through. */
	check_string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
		     "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* Ill-formed bytes become U+FFFD, one per byte not taken. */
	check_string("a\x80z", "\"a\\ufffdz\"");
	/* Overlong forms, a surrogate, beyond U+10FFFF, cut short. */
	check_string("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	check_string("\xe0\x80\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	check_string("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	check_string("\xf4\x90\x80\x80",
		     "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	check_string("\xf5", "\"\\ufffd\"");
	check_string("\xe2\x82", "\"\\ufffd\\ufffd\"");
	check_string("\xe2\x82z", "\"\\ufffd\\ufffdz\"");
}

static void write_document(struct json *json, const void *arg)
{
	(void)arg;
	json_array_begin(json);
	json_object_begin(json);
	json_member_string(json, "family", "inet");
	json_member_u64(json, "dscp", 10);
	json_member_string(json, "rip", NULL);
	json_member_bool(json, "clear_dscp", false);
	json_member_u64(json, "bytes", 18446744073709551615ULL);
	json_key(json, "list");
	json_array_begin(json);
	json_u64(json, 1);
	json_bool(json, true);
	json_null(json);
	json_array_end(json);
	json_key(json, "empty");
	json_object_begin(json);
	json_object_end(json);
	json_object_end(json);
	json_object_begin(json);
	json_object_end(json);
	json_array_end(json);
}

static void write_empty_array(struct json *json, const void *arg)
{
	(void)arg;
	json_array_begin(json);
	json_array_end(json);
}

static void test_json_structure(void)
{
	char *text;

	text = render(write_document, NULL);
	CHECK(!strcmp(text,
		      "[{\"family\":\"inet\",\"dscp\":10,\"rip\":null,"
		      "\"clear_dscp\":false,\"bytes\":18446744073709551615,"
		      "\"list\":[1,true,null],\"empty\":{}},{}]"),
	      "document written as %s", text);
	free(text);

	text = render(write_empty_array, NULL);
	CHECK(!strcmp(text, "[]"), "empty array written as %s", text);
	free(text);
}

static void test_split(void)
{
	char line[] = "  dscp\t10  vip 1.2.3.4 # a comment\n";
	char hash[] = "dev eth#0 #x";
	char many[] = "a b c d";
	char *words[8];
	int count;

	count = words_split(line, words, 8);
	CHECK(count == 4, "split into %d words, expected 4", count);
	CHECK(count == 4 && !strcmp(words[0], "dscp") &&
	      !strcmp(words[1], "10") && !strcmp(words[2], "vip") &&
	      !strcmp(words[3], "1.2.3.4"), "words are not dscp 10 vip ADDR");
	count = words_split(hash, words, 8);
	CHECK(count == 2 && !strcmp(words[1], "eth#0"),
	      "a # inside a word is part of it");
	CHECK(words_split(many, words, 3) == -1, "too many words not refused");
}

/* words_mapping on a line of text; err gets the message if it fails. */
static int parse_text(const char *text, struct mapping_spec *spec,
		      char err[WORDS_ERROR_SIZE])
{
	char copy[256], *words[32];
	int count;

	snprintf(copy, sizeof(copy), "%s", text);
	count = words_split(copy, words, 32);
	err[0] = '\0';
	return words_mapping(count, words, KW_CONFIG_LINE, spec, err);
}

static void test_mapping_words(void)
{
	static const struct {
		const char *text;
		const char *named;	/* what the error must quote */
	} bad[] = {
		{ "dscp 10", "\"vip ADDR\"" },
		{ "vip 1.2.3.4", "dscp DSCP" },
		{ "dscp 0 vip 1.2.3.4", "\"0\"" },
		{ "dscp 64 vip 1.2.3.4", "\"64\"" },
		{ "dscp AF14 vip 1.2.3.4", "\"AF14\"" },
		{ "dscp 10 vip 1.2.3", "\"1.2.3\"" },
		{ "dscp 10 vip 1.2.3.4/32", "\"1.2.3.4/32\"" },
		{ "dscp 10 vip 1.2.3.4 rip ::1", "::1" },
		{ "dscp 10 vip 1.2.3.4 dev", "\"dev\"" },
		{ "dscp 10 vip 1.2.3.4 dev 0123456789abcdef", "0123456789abcdef" },
		{ "dscp 10 vip 1.2.3.4 down down", "\"down\" given twice" },
		{ "dscp 10 vip 1.2.3.4 up", "\"up\"" },
		{ "dscp 10 vip 1.2.3.4 frob", "\"frob\"" },
		{ "dscp 10 vip 1.2.3.4 nonlocal nonlocal",
		  "\"nonlocal\" given twice" },
		{ "dscp 10 vip 1.2.3.4 nonlocal on", "\"on\"" },
	};
	char err[WORDS_ERROR_SIZE], addr[INET6_ADDRSTRLEN];
	struct mapping_spec spec;
	size_t i;

	CHECK(parse_text("down clear-dscp nonlocal dev eth0 rip 2001:db8::2 vip 2001:db8::1 dscp ef",
			 &spec, err) == 0, "a full line refused: %s", err);
	CHECK(spec.m.family == AF_INET6 && spec.m.dscp == 46 &&
	      spec.m.has_rip && !strcmp(spec.dev, "eth0") &&
	      spec.m.flags == (L3DSR_F_DOWN | L3DSR_F_CLEAR_DSCP |
			       L3DSR_F_NONLOCAL),
	      "a full line parsed wrong");
	CHECK(!strcmp(inet_ntop(AF_INET6, spec.m.rip, addr, sizeof(addr)),
		      "2001:db8::2"), "rip parsed as %s", addr);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(parse_text(bad[i].text, &spec, err) < 0,
		      "\"%s\" accepted", bad[i].text);
		CHECK(strstr(err, bad[i].named),
		      "\"%s\": the message \"%s\" does not name %s",
		      bad[i].text, err, bad[i].named);
	}
}

static void write_flags(struct json *json, const void *arg)
{
	json_object_begin(json);
	flags_json(json, *(const uint32_t *)arg, __L3DSR_F_ALL);
	json_object_end(json);
}

/* A mapping of a module that knows clear-dscp and down only. */
static void write_flags_of_version_1(struct json *json, const void *arg)
{
	json_object_begin(json);
	flags_json(json, *(const uint32_t *)arg,
		   L3DSR_F_CLEAR_DSCP | L3DSR_F_DOWN);
	json_object_end(json);
}

/* flags in the three forms: configuration words, JSON, the FLAGS cell. */
static void check_flags(uint32_t flags, const char *words, const char *json,
			const char *cell)
{
	char *text, buf[64];
	size_t size;
	FILE *out;

	out = open_memstream(&text, &size);
	flags_describe(flags, out);
	fclose(out);
	CHECK(!strcmp(text, words), "flags %#x described as \"%s\", expected \"%s\"",
	      flags, text, words);
	free(text);

	text = render(write_flags, &flags);
	CHECK(!strcmp(text, json), "flags %#x written as %s, expected %s",
	      flags, text, json);
	free(text);

	flags_format(flags, buf, sizeof(buf));
	CHECK(!strcmp(buf, cell), "flags %#x shown as \"%s\", expected \"%s\"",
	      flags, buf, cell);
}

static void test_flags(void)
{
	char small[8], *text;
	uint32_t flags;

	check_flags(0, "",
		    "{\"clear_dscp\":false,\"nonlocal\":false,\"down\":false}",
		    "-");
	check_flags(L3DSR_F_CLEAR_DSCP, " clear-dscp",
		    "{\"clear_dscp\":true,\"nonlocal\":false,\"down\":false}",
		    "clear-dscp");
	check_flags(L3DSR_F_DOWN | L3DSR_F_CLEAR_DSCP, " clear-dscp down",
		    "{\"clear_dscp\":true,\"nonlocal\":false,\"down\":true}",
		    "down,clear-dscp");
	check_flags(L3DSR_F_NONLOCAL, " nonlocal",
		    "{\"clear_dscp\":false,\"nonlocal\":true,\"down\":false}",
		    "nonlocal");
	check_flags(L3DSR_F_DOWN | L3DSR_F_CLEAR_DSCP | L3DSR_F_NONLOCAL,
		    " clear-dscp nonlocal down",
		    "{\"clear_dscp\":true,\"nonlocal\":true,\"down\":true}",
		    "down,clear-dscp,nonlocal");
	check_flags(L3DSR_F_DOWN | 1U << 31, " down",
		    "{\"clear_dscp\":false,\"nonlocal\":false,\"down\":true}",
		    "down,0x80000000");

	/* What the module does not know it cannot say: null, not false. */
	flags = L3DSR_F_DOWN;
	text = render(write_flags_of_version_1, &flags);
	CHECK(!strcmp(text, "{\"clear_dscp\":false,\"nonlocal\":null,\"down\":true}"),
	      "the flags of a version 1 module written as %s", text);
	free(text);

	/* A cell too small is cut, never overrun. */
	flags_format(L3DSR_F_DOWN | L3DSR_F_CLEAR_DSCP, small, sizeof(small));
	CHECK(!strcmp(small, "down,cl"), "a small cell holds \"%s\"", small);
}

static void test_switch(void)
{
	static const char *const bad[] = {
		"", "ON", "Off", "yes", "no", "1", "0", "true", "on ", "of",
	};
	char err[WORDS_ERROR_SIZE];
	bool on = false;
	size_t i;

	CHECK(words_switch("nonlocal", "on", &on, err) == 0 && on,
	      "\"on\" is not on");
	CHECK(words_switch("nonlocal", "off", &on, err) == 0 && !on,
	      "\"off\" is not off");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK(words_switch("nonlocal", bad[i], &on, err) < 0,
		      "\"%s\" accepted as on or off", bad[i]);
		CHECK(strstr(err, "\"nonlocal\"") && strstr(err, bad[i]),
		      "\"%s\": the message \"%s\" names neither it nor nonlocal",
		      bad[i], err);
	}
}

/* Read text as a config file named name into c; the errors in *errors. */
static void read_config(struct config *c, const char *name, const char *text,
			char **errors, size_t *errors_size, FILE **sink)
{
	FILE *in = fmemopen((void *)text, strlen(text), "r");

	if (!*sink) {
		*sink = open_memstream(errors, errors_size);
		config_init(c, "x: ", *sink);
	}
	config_read_stream(c, in, name);
	fclose(in);
}

static void test_config(void)
{
	char *errors = NULL;
	size_t errors_size;
	FILE *sink = NULL;
	struct config c;

	read_config(&c, "a.conf",
		    "# comment\n\n"
		    "dscp 10 vip 211.115.115.100\n"
		    "add-mapping dscp 12 vip 2001:db8::1 down # note\n"
		    "  \t\n"
		    "dscp 12 vip 211.115.115.101 clear-dscp nonlocal\n",
		    &errors, &errors_size, &sink);
	read_config(&c, "b.conf",
		    "dscp 11 vip 1.2.3.4\n"
		    "dscp 10 vip 1.2.3.5\n"
		    "dscp 13 vip 1.2.3\n"
		    "replace-mapping dscp 14 vip 1.2.3.4\n"
		    "dscp 12 vip 2001:db8::2\n",
		    &errors, &errors_size, &sink);
	fclose(sink);

	CHECK(c.count == 4, "%zu entries kept, expected 4", c.count);
	CHECK(c.error_count == 4, "%u errors, expected 4", c.error_count);
	CHECK(!strcmp(errors,
		      "x: b.conf:2: DSCP 10 (inet) is mapped twice: also at a.conf:3\n"
		      "x: b.conf:3: invalid vip \"1.2.3\": not an IPv4 or IPv6 address\n"
		      "x: b.conf:4: unknown keyword \"replace-mapping\"\n"
		      "x: b.conf:5: DSCP 12 (inet6) is mapped twice: also at a.conf:4\n"),
	      "errors were:\n%s", errors);
	config_sort(&c);
	CHECK(c.count == 4 && c.entries[0].spec.m.dscp == 10 &&
	      c.entries[1].spec.m.dscp == 11 &&
	      c.entries[2].spec.m.dscp == 12 &&
	      c.entries[2].spec.m.family == AF_INET &&
	      c.entries[3].spec.m.family == AF_INET6,
	      "entries are not ordered inet first, then by DSCP");
	CHECK(c.count == 4 && c.entries[3].line == 4 &&
	      !strcmp(c.entries[3].file, "a.conf") &&
	      c.entries[3].spec.m.flags == L3DSR_F_DOWN,
	      "the inet6 entry lost its origin or its down flag");
	CHECK(c.count == 4 && c.entries[2].spec.m.flags ==
	      (L3DSR_F_CLEAR_DSCP | L3DSR_F_NONLOCAL),
	      "the inet DSCP 12 entry lost clear-dscp or nonlocal");
	config_free(&c);
	free(errors);
}

/* The lines that are not mappings, a byte order mark, and the limit. */
static void test_config_directives(void)
{
	char *errors = NULL, line[64];
	size_t errors_size, i;
	FILE *sink = NULL;
	struct config c;
	char *many;

	read_config(&c, "d.conf",
		    "\xef\xbb\xbf# written by an editor that marks UTF-8\n"
		    "vip-device dummy0\n"
		    "vips unmanaged\n"
		    "sysctls managed\n"
		    "vip 2001:db8::7\n"
		    "vip 2001:db8::7\n"
		    "flush\n"
		    "vip 239.1.1.1\n"
		    "sysctls off\n"
		    "vip-device a/b\n"
		    "vip 10.1.1.1 dscp 10\n",
		    &errors, &errors_size, &sink);
	fclose(sink);
	CHECK(!strcmp(c.vip_device, "dummy0") && c.vips_unmanaged &&
	      !c.sysctls_unmanaged && c.flush,
	      "directives not taken: vip-device %s, vips %d, sysctls %d, flush %d",
	      c.vip_device, c.vips_unmanaged, c.sysctls_unmanaged, c.flush);
	CHECK(c.vip_count == 1 && c.vips[0].family == AF_INET6 &&
	      c.vips[0].line == 5, "the vip line was not kept once");
	/* "vip ADDR dscp N" is a mapping, its keywords in any order. */
	CHECK(c.count == 1 && c.entries[0].spec.m.dscp == 10,
	      "a mapping starting with vip was not read as one");
	CHECK(!strcmp(errors,
		      "x: d.conf:6: vip 2001:db8::7 is given twice: also at d.conf:5\n"
		      "x: d.conf:8: vip 239.1.1.1 is a multicast address: a VIP is unicast\n"
		      "x: d.conf:9: \"sysctls\" takes one word: \"managed\" or \"unmanaged\"\n"
		      "x: d.conf:10: invalid device name \"a/b\": 1 to 15 characters, no \"/\"\n"),
	      "errors were:\n%s", errors);
	config_free(&c);
	free(errors);
	errors = NULL;
	sink = NULL;

	/* 1000 bad lines: CONFIG_ERROR_LIMIT printed, all counted. */
	many = calloc(1000, 32);
	if (!many) {
		CHECK(0, "no memory");
		return;
	}
	for (i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "dscp %zu vip x\n", i % 63 + 1);
		strcat(many, line);
	}
	read_config(&c, "m.conf", many, &errors, &errors_size, &sink);
	CHECK(c.error_count == 1000, "%u errors counted, not 1000",
	      c.error_count);
	CHECK(config_finish(&c) == 1000, "config_finish() does not say 1000");
	fclose(sink);
	CHECK(strstr(errors, "m.conf:20: ") && !strstr(errors, "m.conf:21: ") &&
	      strstr(errors, "x: ... and 980 more errors\n"),
	      "not the first 20 errors then a count:\n%s", errors);
	config_free(&c);
	free(errors);
	free(many);
}

static void test_default_paths(void)
{
	char dir[] = "/tmp/l3dsr-unit-XXXXXX", path[128], sub[128];
	char err[WORDS_ERROR_SIZE];
	char **paths;
	FILE *f;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/l3dsr.conf", dir);
	snprintf(sub, sizeof(sub), "%s/l3dsr.d", dir);

	paths = config_default_paths(path, sub, err);
	CHECK(!paths && strstr(err, "no configuration"),
	      "no files: not refused (%s)", err);

	mkdir(sub, 0700);
	snprintf(path, sizeof(path), "%s/l3dsr.d/20-b.conf", dir);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/l3dsr.d/10-a.conf", dir);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/l3dsr.d/30-c.conf.dpkg-old", dir);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/l3dsr.d/.hidden.conf", dir);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/l3dsr.conf", dir);
	f = fopen(path, "w");
	fclose(f);

	paths = config_default_paths(path, sub, err);
	CHECK(paths && paths[0] && paths[1] && paths[2] && !paths[3] &&
	      !strcmp(paths[0], path) && strstr(paths[1], "/10-a.conf") &&
	      strstr(paths[2], "/20-b.conf"),
	      "default files wrong or out of order");
	config_free_paths(paths);

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0, "cannot remove %s", dir);
}

static void sample_exposition(FILE *out)
{
	struct mapping items[2] = {
		{ .family = AF_INET, .dscp = 10, .packets = 5, .bytes = 460 },
		{ .family = AF_INET6, .dscp = 46, .flags = L3DSR_F_DOWN,
		  .packets = 18446744073709551615ULL },
	};
	struct mapping_list list = { .items = items, .count = 2 };
	struct stats stats = { .received = true };
	unsigned int i;

	for (i = 0; i <= L3DSR_STAT_MAX; i++)
		stats.present[i] = stat_names[i] != NULL;

	inet_pton(AF_INET, "211.115.115.100", items[0].vip);
	inet_pton(AF_INET6, "2001:db8::1", items[1].vip);
	stats.values[L3DSR_STAT_REWRITTEN] = 7;
	stats.values[L3DSR_STAT_SKIPPED_DOWN] = 3;
	stats.values[L3DSR_STAT_SKIPPED_NOT_LOCAL] = 11;
	stats.values[L3DSR_STAT_SKIPPED_BRIDGED] = 12;
	stats.values[L3DSR_STAT_SKIPPED_PROTOCOL] = 13;
	prometheus_write(out, &stats, &list, "web\"1\\");
}

/*
 * Every counter of the contract has its name, as stats, stats -j and the
 * module's sysfs files spell it, and a HELP text.
 */
static void test_stat_names(void)
{
	static const struct {
		unsigned int stat;
		const char *name;
	} names[] = {
		{ L3DSR_STAT_REWRITTEN, "rewritten" },
		{ L3DSR_STAT_REWRITTEN_FRAGMENTS, "rewritten_fragments" },
		{ L3DSR_STAT_SKIPPED_SCOPE, "skipped_scope" },
		{ L3DSR_STAT_SKIPPED_NOT_HOST, "skipped_not_host" },
		{ L3DSR_STAT_SKIPPED_MALFORMED, "skipped_malformed" },
		{ L3DSR_STAT_SKIPPED_ROUTING_HEADER, "skipped_routing_header" },
		{ L3DSR_STAT_DROPPED_UNWRITABLE, "dropped_unwritable" },
		{ L3DSR_STAT_SKIPPED_DOWN, "skipped_down" },
		{ L3DSR_STAT_SKIPPED_NOT_LOCAL, "skipped_not_local" },
		{ L3DSR_STAT_SKIPPED_BRIDGED, "skipped_bridged" },
		{ L3DSR_STAT_SKIPPED_PROTOCOL, "skipped_protocol" },
	};
	unsigned int i;

	CHECK(sizeof(names) / sizeof(names[0]) ==
	      L3DSR_STAT_MAX - L3DSR_STAT_REWRITTEN + 1,
	      "the contract has counters this test does not know");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK(stat_names[names[i].stat] &&
		      !strcmp(stat_names[names[i].stat], names[i].name),
		      "counter %u is named %s, expected %s", names[i].stat,
		      stat_names[names[i].stat] ? stat_names[names[i].stat] :
						  "NULL", names[i].name);
	for (i = L3DSR_STAT_REWRITTEN; i <= L3DSR_STAT_MAX; i++)
		CHECK(stat_help[i] && stat_help[i][0],
		      "counter %u has no HELP text", i);
	CHECK(!stat_names[L3DSR_STAT_UNSPEC] && !stat_names[L3DSR_STAT_PAD],
	      "UNSPEC or PAD is named as a counter");
}

static void test_prometheus(const char *file)
{
	static const char *const new_counters[] = {
		"# HELP l3dsr_skipped_not_local_total Marked packets left alone: not addressed to this host",
		"# TYPE l3dsr_skipped_not_local_total counter\n"
		"l3dsr_skipped_not_local_total{netns=\"web\\\"1\\\\\"} 11\n",
		"# HELP l3dsr_skipped_bridged_total Marked packets left alone: frames a bridge switches",
		"# TYPE l3dsr_skipped_bridged_total counter\n"
		"l3dsr_skipped_bridged_total{netns=\"web\\\"1\\\\\"} 12\n",
		"# HELP l3dsr_skipped_protocol_total Marked packets left alone: a protocol",
		"# TYPE l3dsr_skipped_protocol_total counter\n"
		"l3dsr_skipped_protocol_total{netns=\"web\\\"1\\\\\"} 13\n",
	};
	char *text;
	size_t size, i;
	FILE *out = open_memstream(&text, &size);

	sample_exposition(out);
	fclose(out);
	for (i = 0; i < sizeof(new_counters) / sizeof(new_counters[0]); i++)
		CHECK(strstr(text, new_counters[i]), "missing: %s\nin:\n%s",
		      new_counters[i], text);
	CHECK(strstr(text, "# TYPE l3dsr_rewritten_total counter\n"
			   "l3dsr_rewritten_total{netns=\"web\\\"1\\\\\"} 7\n"),
	      "the rewritten counter is not as expected:\n%s", text);
	CHECK(strstr(text, "l3dsr_skipped_down_total{netns=\"web\\\"1\\\\\"} 3\n"),
	      "skipped_down is missing");
	CHECK(strstr(text, "l3dsr_mapping_packets_total{netns=\"web\\\"1\\\\\",family=\"inet6\",dscp=\"46\",vip=\"2001:db8::1\"} 18446744073709551615\n"),
	      "the inet6 mapping's packets are missing");
	CHECK(strstr(text, "l3dsr_mapping_down{netns=\"web\\\"1\\\\\",family=\"inet\",dscp=\"10\",vip=\"211.115.115.100\"} 0\n"),
	      "the inet mapping's down gauge is missing");
	free(text);

	if (file) {
		out = fopen(file, "w");
		if (!out) {
			CHECK(0, "cannot write %s", file);
			return;
		}
		sample_exposition(out);
		fclose(out);
	}
}

/*
 * A module of version 1 sends neither of the three counters version 2
 * added: they have no sample at all, which a monitor tells from 0.
 */
static void test_prometheus_absent(void)
{
	struct mapping_list list = { .count = 0 };
	struct stats stats = { .received = true };
	char *text;
	size_t size;
	unsigned int i;
	FILE *out = open_memstream(&text, &size);

	for (i = L3DSR_STAT_REWRITTEN; i <= L3DSR_STAT_SKIPPED_DOWN; i++)
		stats.present[i] = true;
	stats.values[L3DSR_STAT_REWRITTEN] = 7;
	prometheus_write(out, &stats, &list, NULL);
	fclose(out);
	CHECK(strstr(text, "\nl3dsr_rewritten_total 7\n"),
	      "rewritten is missing:\n%s", text);
	CHECK(strstr(text, "\nl3dsr_skipped_down_total 0\n"),
	      "skipped_down is missing:\n%s", text);
	CHECK(!strstr(text, "skipped_not_local") &&
	      !strstr(text, "skipped_bridged") &&
	      !strstr(text, "skipped_protocol"),
	      "absent counters have samples:\n%s", text);
	free(text);
}

/* What each version of the family has, as the tool asks it. */
static void test_family_versions(void)
{
	struct l3dsr_nl nl = { .version = 1 };
	const char *names[8];
	size_t count;

	CHECK(module_flags(&nl) == (L3DSR_F_CLEAR_DSCP | L3DSR_F_DOWN),
	      "version 1 knows flags %#x", module_flags(&nl));
	nl.version = 2;
	CHECK(module_flags(&nl) == __L3DSR_F_ALL,
	      "version 2 knows flags %#x", module_flags(&nl));
	/* A module that does not say is left to judge for itself. */
	nl.version = 0;
	CHECK(module_flags(&nl) == __L3DSR_F_ALL,
	      "a module of no version knows flags %#x", module_flags(&nl));
	nl.version = L3DSR_GENL_VERSION + 1;
	CHECK(module_flags(&nl) == __L3DSR_F_ALL,
	      "a newer module knows flags %#x", module_flags(&nl));

	count = missing_features(1, names, 8);
	CHECK(count == 4 && !strcmp(names[0], "nonlocal") &&
	      !strcmp(names[1], "skipped_not_local") &&
	      !strcmp(names[2], "skipped_bridged") &&
	      !strcmp(names[3], "skipped_protocol"),
	      "version 1 lacks %zu features, first %s", count,
	      count ? names[0] : "none");
	CHECK(missing_features(L3DSR_GENL_VERSION, names, 8) == 0,
	      "the tool's own version lacks something");
	CHECK(missing_features(0, names, 8) == 0,
	      "a module of no version is said to lack something");
	CHECK(missing_features(1, names, 2) == 2,
	      "more names than room were written");
}

#define TEST_FAMILY_ID 0x20
#define TEST_PORTID 4242
#define TEST_SEQ 7

/* Append a reply to the test request to buf, used bytes so far. */
static struct nlmsghdr *put_reply(char *buf, size_t *used, uint16_t type,
				  uint16_t flags, size_t payload)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + *used);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = TEST_SEQ;
	nlh->nlmsg_pid = TEST_PORTID;
	mnl_nlmsg_put_extra_header(nlh, payload);
	*used += NLMSG_ALIGN(nlh->nlmsg_len);
	return nlh;
}

static int count_reply(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	++*(int *)data;
	return MNL_CB_OK;
}

/*
 * A dump of one mapping and its NLMSG_DONE, NLM_F_DUMP_INTR on neither,
 * on the mapping or on the DONE: the mapping reaches the callback, the
 * dump ends, and it counts as interrupted when either carries the flag.
 */
static void check_dump(uint16_t data_flags, uint16_t done_flags,
		       bool interrupted)
{
	static char buf[512] __attribute__((aligned(8)));
	struct l3dsr_nl nl = {
		.cmd = "show", .portid = TEST_PORTID,
		.family_id = TEST_FAMILY_ID,
	};
	struct nlmsghdr req = {
		.nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = TEST_FAMILY_ID,
		.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		.nlmsg_seq = TEST_SEQ,
	};
	struct nl_status st;
	size_t used = 0;
	int calls = 0, ret;

	memset(buf, 0, sizeof(buf));
	memset(&st, 0, sizeof(st));
	put_reply(buf, &used, TEST_FAMILY_ID, NLM_F_MULTI | data_flags,
		  GENL_HDRLEN);
	put_reply(buf, &used, NLMSG_DONE, NLM_F_MULTI | done_flags,
		  sizeof(int));
	ret = nl_run_replies(&nl, &req, count_reply, &calls, &st, buf, used);
	CHECK(ret == MNL_CB_STOP && !st.error,
	      "dump (flags %#x, %#x) did not end cleanly: %d, error %d",
	      data_flags, done_flags, ret, st.error);
	CHECK(calls == 1, "dump (flags %#x, %#x): %d mappings handed on",
	      data_flags, done_flags, calls);
	CHECK(st.interrupted == interrupted,
	      "dump (flags %#x, %#x) %s as interrupted", data_flags,
	      done_flags, st.interrupted ? "counts" : "does not count");
}

static void test_dump_replies(void)
{
	check_dump(0, 0, false);
	check_dump(NLM_F_DUMP_INTR, 0, true);
	check_dump(0, NLM_F_DUMP_INTR, true);
}

static struct mapping nft_mapping(int family, unsigned int dscp,
				  const char *vip, uint32_t flags)
{
	struct mapping m = { .family = family, .dscp = dscp, .flags = flags };

	inet_pton(family, vip, m.vip);
	return m;
}

static void nft_put(struct nft_table *t, const struct mapping *m)
{
	int f = m->family == AF_INET6;

	t->exists = true;
	t->slot[f][m->dscp] = *m;
	t->present[f][m->dscp] = true;
}

/* The text of the transaction from -> to, "" when out of memory. */
static char *nft_text(const struct nft_table *from, const struct nft_table *to)
{
	char *text = nft_transaction(from, to);

	return text ? text : strdup("");
}

static void test_nft_transaction(void)
{
	static const char head[] =
		"table inet l3dsr {\n\tcomment \"" NFT_TABLE_MARKER "\"\n";
	static struct nft_table empty, one, down, both;
	struct mapping m4 = nft_mapping(AF_INET, 10, "192.0.2.1", 0);
	struct mapping m6 = nft_mapping(AF_INET6, 11, "2001:db8::1",
					L3DSR_F_NONLOCAL | L3DSR_F_CLEAR_DSCP);
	char *text;

	nft_put(&one, &m4);
	text = nft_text(&empty, &one);
	CHECK(!strncmp(text, head, sizeof(head) - 1),
	      "a first change makes the table, marked: %.80s", text);
	CHECK(strstr(text, "priority -310;"),
	      "the chain sits at the module's priority");
	CHECK(strstr(text, "}\nadd element inet l3dsr vip4 { 10 counter packets 0 bytes 0 : 192.0.2.1 }\n"
			   "add element inet l3dsr go4 { 10 : goto local4 }\n"),
	      "the mapping's two elements follow: %s", text);
	free(text);

	text = nft_text(&one, &one);
	CHECK(!strcmp(text, ""), "no change, no transaction: %s", text);
	free(text);

	/* Down: out of the vmap, back in the DSCP map with its counters. */
	one.slot[0][10].packets = 5;
	one.slot[0][10].bytes = 50;
	down = one;
	down.slot[0][10].flags |= L3DSR_F_DOWN;
	text = nft_text(&one, &down);
	CHECK(!strcmp(text,
		      "delete element inet l3dsr go4 { 10 }\n"
		      "delete element inet l3dsr vip4 { 10 }\n"
		      "add element inet l3dsr vip4 { 10 counter packets 5 bytes 50 comment \"down\" : 192.0.2.1 }\n"),
	      "down moves the element, counters and all: %s", text);
	free(text);

	/* IPv6 keys are the DSCP where the header has it: 11 << 6. */
	both = one;
	nft_put(&both, &m6);
	text = nft_text(&one, &both);
	CHECK(!strcmp(text,
		      "add element inet l3dsr vip6 { 704 counter packets 0 bytes 0 comment \"nonlocal clear-dscp\" : 2001:db8::1 }\n"
		      "add element inet l3dsr go6 { 704 : goto any6c }\n"),
	      "an IPv6 mapping, nonlocal and clear-dscp: %s", text);
	free(text);

	text = nft_text(&both, &empty);
	CHECK(strstr(text, "delete element inet l3dsr go6 { 704 }\n") &&
	      strstr(text, "delete element inet l3dsr vip4 { 10 }\n") &&
	      !strstr(text, "table inet"),
	      "emptying deletes elements, never the table: %s", text);
	free(text);
}

static void test_nft_listing(void)
{
	static const char listing[] =
		"{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}},"
		" {\"table\": {\"family\": \"inet\", \"name\": \"l3dsr\"}},"
		" {\"map\": {\"family\": \"inet\", \"name\": \"vip4\", \"table\": \"l3dsr\", \"type\": \"dscp\", \"map\": \"ipv4_addr\","
		"  \"elem\": [[{\"elem\": {\"val\": 10, \"counter\": {\"packets\": 3, \"bytes\": 300}}}, \"192.0.2.1\"],"
		"            [{\"elem\": {\"val\": 63, \"comment\": \"down clear-dscp\", \"counter\": {\"packets\": 0, \"bytes\": 0}}}, \"192.0.2.2\"]]}},"
		" {\"map\": {\"family\": \"inet\", \"name\": \"vip6\", \"table\": \"l3dsr\", \"type\": \"integer\", \"map\": \"ipv6_addr\","
		"  \"elem\": [[{\"elem\": {\"val\": 704, \"counter\": {\"packets\": 1, \"bytes\": 148}}}, \"2001:db8::1\"]]}},"
		" {\"rule\": {\"family\": \"inet\", \"table\": \"l3dsr\", \"chain\": \"rw_local4\", \"expr\": [{\"fib\": {}}, {\"counter\": {\"packets\": 3, \"bytes\": 300}}]}},"
		" {\"rule\": {\"family\": \"inet\", \"table\": \"l3dsr\", \"chain\": \"rw_local4\", \"expr\": [{\"counter\": {\"packets\": 2, \"bytes\": 200}}]}},"
		" {\"rule\": {\"family\": \"inet\", \"table\": \"l3dsr\", \"chain\": \"rw_any6\", \"expr\": [{\"mangle\": {}}, {\"counter\": {\"packets\": 1, \"bytes\": 148}}]}},"
		" {\"rule\": {\"family\": \"inet\", \"table\": \"l3dsr\", \"chain\": \"prerouting\", \"expr\": [{\"counter\": {\"packets\": 99, \"bytes\": 9900}}]}}]}";
	static struct nft_table t;
	char why[128], other[sizeof(listing) + 16], *at;
	struct in_addr a;

	CHECK(nft_parse_listing(listing, &t, why, sizeof(why)) == 0,
	      "a listing of our table parses: %s", why);
	inet_pton(AF_INET, "192.0.2.1", &a);
	CHECK(t.exists && t.present[0][10] && t.slot[0][10].packets == 3 &&
	      t.slot[0][10].bytes == 300 && !t.slot[0][10].flags &&
	      !memcmp(t.slot[0][10].vip, &a, 4),
	      "inet DSCP 10: its VIP and counters");
	CHECK(t.present[0][63] &&
	      t.slot[0][63].flags == (L3DSR_F_DOWN | L3DSR_F_CLEAR_DSCP),
	      "inet DSCP 63: its flags from the comment");
	CHECK(t.present[1][11] && !t.present[1][10] &&
	      t.slot[1][11].packets == 1,
	      "inet6: key 704 is DSCP 11");
	CHECK(t.rewritten == 4 && t.not_local == 2,
	      "rewritten: the rewriting rules' counters (4, not %llu); not local: the fall-through's (2, not %llu)",
	      (unsigned long long)t.rewritten,
	      (unsigned long long)t.not_local);

	strcpy(other, listing);
	at = strstr(other, "\"val\": 704");
	memcpy(at, "\"val\": 705", 10);
	CHECK(nft_parse_listing(other, &t, why, sizeof(why)) < 0 &&
	      strstr(why, "vip6"), "an IPv6 key that is no DSCP is refused");
	strcpy(other, listing);
	at = strstr(other, "down clear-dscp");
	memcpy(at, "down clear-dsct", 15);
	CHECK(nft_parse_listing(other, &t, why, sizeof(why)) < 0,
	      "a comment word that is no flag is refused");
	CHECK(nft_parse_listing("{\"nftables\": 3}", &t, why, sizeof(why)) < 0 &&
	      nft_parse_listing("[", &t, why, sizeof(why)) < 0,
	      "what is not a listing is refused");
	CHECK(!strcmp(nft_chain_of(&(struct mapping){ .family = AF_INET6 }),
		      "local6"),
	      "a plain IPv6 mapping goes to local6");
}

int main(int argc, char *argv[])
{
	test_class_names();
	test_numbers();
	test_json_strings();
	test_json_structure();
	test_split();
	test_mapping_words();
	test_switch();
	test_flags();
	test_config();
	test_config_directives();
	test_default_paths();
	test_stat_names();
	test_prometheus_absent();
	test_family_versions();
	test_prometheus(argc > 1 ? argv[1] : NULL);
	test_dump_replies();
	test_nft_transaction();
	test_nft_listing();
	printf("unit: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
