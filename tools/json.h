/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_JSON_H
#define L3DSRCTL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 8

/*
 * A compact JSON writer: containers, keys and scalars are emitted in order
 * and the writer places the commas. Strings are escaped and always come out
 * as valid UTF-8.
 */
struct json {
	FILE *out;
	unsigned int depth;
	bool after_key;
	bool has_members[JSON_MAX_DEPTH];
};

void json_init(struct json *json, FILE *out);
void json_object_begin(struct json *json);
void json_object_end(struct json *json);
void json_array_begin(struct json *json);
void json_array_end(struct json *json);
void json_key(struct json *json, const char *key);
void json_string(struct json *json, const char *value);
void json_u64(struct json *json, uint64_t value);
void json_bool(struct json *json, bool value);
void json_null(struct json *json);

/* A member of the current object; a NULL string is written as null. */
void json_member_string(struct json *json, const char *key, const char *value);
void json_member_u64(struct json *json, const char *key, uint64_t value);
void json_member_bool(struct json *json, const char *key, bool value);

#endif
