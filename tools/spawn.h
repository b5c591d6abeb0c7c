/* SPDX-License-Identifier: GPL-2.0 */
#ifndef L3DSRCTL_SPAWN_H
#define L3DSRCTL_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * Other programs the tool asks (iptables-save for `check`, modprobe when
 * the family is missing): looked up first, so that no child is forked for
 * a program this host does not have, then run with one of their output
 * streams read back and everything else on /dev/null.
 */

/*
 * The path of program in one of dirs (':'-separated; NULL for $PATH), in
 * path, or false if there is none.
 */
bool spawn_find(const char *program, const char *dirs, char *path,
		size_t size);

/*
 * Runs path with argv, its stream (STDOUT_FILENO or STDERR_FILENO) to be
 * read from what is returned; NULL if it cannot be run.
 */
FILE *spawn_read(const char *path, char *const argv[], int stream,
		 pid_t *pid);

/* Closes in and waits for pid: its exit status, or -1. */
int spawn_wait(FILE *in, pid_t pid);

#endif
