// SPDX-License-Identifier: GPL-2.0
/* spawn: running another program and reading what it says. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "spawn.h"

bool spawn_find(const char *program, const char *dirs, char *path,
		size_t size)
{
	const char *end;

	if (!dirs)
		dirs = getenv("PATH");
	if (!dirs)
		dirs = "/usr/sbin:/usr/bin:/sbin:/bin";
	for (; *dirs; dirs = *end ? end + 1 : end) {
		end = strchrnul(dirs, ':');
		if (end == dirs)
			continue;
		snprintf(path, size, "%.*s/%s", (int)(end - dirs), dirs,
			 program);
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
}

FILE *spawn_read(const char *path, char *const argv[], int stream,
		 pid_t *pid)
{
	int fds[2];
	FILE *in;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return NULL;
	*pid = fork();
	if (*pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (*pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		dup2(fds[1], stream);
		execv(path, argv);
		_exit(127);
	}
	close(fds[1]);
	in = fdopen(fds[0], "re");
	if (!in) {
		close(fds[0]);
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	return in;
}

int spawn_wait(FILE *in, pid_t pid)
{
	int status;

	fclose(in);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
