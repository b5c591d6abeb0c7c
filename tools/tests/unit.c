// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the parts of l3dsrctl that need no kernel: DSCP names
 * and numbers, and the JSON writer's output and escaping.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dscp.h"
#include "json.h"

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

int main(void)
{
	test_class_names();
	test_numbers();
	test_json_strings();
	test_json_structure();
	printf("unit: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
