// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>

#include "json.h"

void json_init(struct json *json, FILE *out)
{
	json->out = out;
	json->depth = 0;
	json->after_key = false;
	json->has_members[0] = false;
}

/* Writes the comma a new value needs, unless it follows its key. */
static void separate(struct json *json)
{
	if (json->after_key) {
		json->after_key = false;
		return;
	}
	if (json->has_members[json->depth])
		fputc(',', json->out);
	json->has_members[json->depth] = true;
}

static void open_container(struct json *json, char bracket)
{
	separate(json);
	fputc(bracket, json->out);
	/* Our documents nest two levels; deeper is a programming error. */
	if (json->depth + 1 < JSON_MAX_DEPTH)
		json->depth++;
	json->has_members[json->depth] = false;
}

static void close_container(struct json *json, char bracket)
{
	if (json->depth > 0)
		json->depth--;
	fputc(bracket, json->out);
}

void json_object_begin(struct json *json)
{
	open_container(json, '{');
}

void json_object_end(struct json *json)
{
	close_container(json, '}');
}

void json_array_begin(struct json *json)
{
	open_container(json, '[');
}

void json_array_end(struct json *json)
{
	close_container(json, ']');
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 if it is not one.
 */
static size_t utf8_sequence_length(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t length, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		length = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		length = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		length = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}

	/* A NUL terminator fails the range test, so we never read past it. */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < length; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return length;
}

static void write_escaped(FILE *out, const char *value)
{
	const unsigned char *s = (const unsigned char *)value;
	size_t length;

	fputc('"', out);
	while (*s) {
		switch (*s) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				fprintf(out, "\\u%04x", *s);
			} else if (*s < 0x80) {
				fputc(*s, out);
			} else {
				length = utf8_sequence_length(s);
				if (!length) {
					/* Not text: keep the document valid. */
					fputs("\\ufffd", out);
					break;
				}
				fwrite(s, 1, length, out);
				s += length;
				continue;
			}
		}
		s++;
	}
	fputc('"', out);
}

void json_key(struct json *json, const char *key)
{
	separate(json);
	write_escaped(json->out, key);
	fputc(':', json->out);
	json->after_key = true;
}

void json_string(struct json *json, const char *value)
{
	if (!value) {
		json_null(json);
		return;
	}
	separate(json);
	write_escaped(json->out, value);
}

void json_u64(struct json *json, uint64_t value)
{
	separate(json);
	fprintf(json->out, "%" PRIu64, value);
}

void json_bool(struct json *json, bool value)
{
	separate(json);
	fputs(value ? "true" : "false", json->out);
}

void json_null(struct json *json)
{
	separate(json);
	fputs("null", json->out);
}

void json_member_string(struct json *json, const char *key, const char *value)
{
	json_key(json, key);
	json_string(json, value);
}

void json_member_u64(struct json *json, const char *key, uint64_t value)
{
	json_key(json, key);
	json_u64(json, value);
}

void json_member_bool(struct json *json, const char *key, bool value)
{
	json_key(json, key);
	json_bool(json, value);
}
