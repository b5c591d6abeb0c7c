// SPDX-License-Identifier: GPL-2.0
/*
 * kmodule: why l3dsr is not loaded, in words an operator can act on, and
 * what `check` says of signatures. What modprobe would load is found in
 * modules.dep; the file's .modinfo strings and signature trailer are read
 * as bytes, which is all that telling "built for another kernel" and
 * "not signed" takes. Whether a signature is trusted only the kernel can
 * tell: kmodule_modprobe() asks it through modprobe, which also keeps to
 * whatever the operator's modprobe.d says of l3dsr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>

#include "kmodule.h"
#include "spawn.h"

#define MODULE_NAME "l3dsr.ko"
/* what scripts/sign-file appends after the signature */
#define SIGNATURE_MARKER "~Module signature appended~\n"
/* far above any l3dsr.ko, debug info and KASAN included */
#define MODULE_MAX_SIZE (64 << 20)

#define SECURE_BOOT_VAR \
	"/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e398b9aec1e2"

/* Up to len - 1 bytes of a file, NUL-terminated: how many, or -1. */
static ssize_t read_small_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* The line of modules.dep for l3dsr.ko, compressed or not. */
static void find_installed(struct kmodule *km)
{
	char dep[PATH_MAX], *line = NULL, *base;
	size_t cap = 0;
	FILE *f;

	snprintf(dep, sizeof(dep), "/lib/modules/%s/modules.dep", km->release);
	f = fopen(dep, "re");
	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		base = strrchr(line, '/');
		base = base ? base + 1 : line;
		if (strncmp(base, MODULE_NAME, strlen(MODULE_NAME)) ||
		    (base[strlen(MODULE_NAME)] &&
		     base[strlen(MODULE_NAME)] != '.'))
			continue;
		if (line[0] == '/')
			snprintf(km->path, sizeof(km->path), "%s", line);
		else
			snprintf(km->path, sizeof(km->path), "/lib/modules/%s/%s",
				 km->release, line);
		km->compressed = base[strlen(MODULE_NAME)] == '.';
		break;
	}
	free(line);
	fclose(f);
}

/* The value of a .modinfo string "KEY=value", "" if absent. */
static void modinfo_value(const char *image, size_t size, const char *key,
			  char *value, size_t len)
{
	char needle[32];
	const char *p, *end;
	size_t n;

	value[0] = '\0';
	n = (size_t)snprintf(needle, sizeof(needle), "%c%s=", '\0', key);
	p = memmem(image, size, needle, n);
	if (!p)
		return;
	p += n;
	end = memchr(p, '\0', size - (size_t)(p - image));
	if (!end)
		return;
	n = (size_t)(end - p) < len - 1 ? (size_t)(end - p) : len - 1;
	memcpy(value, p, n);
	value[n] = '\0';
}

static void inspect_file(struct kmodule *km)
{
	const size_t marker = strlen(SIGNATURE_MARKER);
	char *image = NULL, *space;
	size_t size = 0, want;
	struct stat st;
	ssize_t got;
	int fd;

	fd = open(km->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    st.st_size <= MODULE_MAX_SIZE)
		image = malloc((size_t)st.st_size);
	if (!image) {
		close(fd);
		return;
	}
	want = (size_t)st.st_size;
	while (size < want && (got = read(fd, image + size, want - size)) > 0)
		size += (size_t)got;
	close(fd);

	modinfo_value(image, size, "vermagic", km->built_for,
		      sizeof(km->built_for));
	space = strchr(km->built_for, ' ');
	if (space)
		*space = '\0';
	km->file_signed = size > marker &&
			  !memcmp(image + size - marker, SIGNATURE_MARKER, marker) ?
			  TS_YES : TS_NO;
	free(image);
}

/*
 * CONFIG_MODULE_SIG_FORCE and module.sig_enforce=1 show in sig_enforce;
 * Secure Boot's lockdown requires signatures without changing it.
 */
static void inspect_kernel(struct kmodule *km)
{
	char buf[256];

	km->enforcing = TS_NO;
	if (read_small_file("/sys/module/module/parameters/sig_enforce", buf,
			    sizeof(buf)) > 0 && buf[0] == 'Y') {
		km->enforcing = TS_YES;
		km->enforced_by = "module.sig_enforce or CONFIG_MODULE_SIG_FORCE";
	} else if (read_small_file("/sys/kernel/security/lockdown", buf,
				   sizeof(buf)) > 0 &&
		   (strstr(buf, "[integrity]") ||
		    strstr(buf, "[confidentiality]"))) {
		km->enforcing = TS_YES;
		km->enforced_by = "the kernel is locked down, as under Secure Boot";
	}

	/* 4 bytes of attributes, then the value */
	km->secure_boot = TS_UNKNOWN;
	if (read_small_file(SECURE_BOOT_VAR, buf, sizeof(buf)) == 5)
		km->secure_boot = buf[4] == 1 ? TS_YES : TS_NO;
	else if (access("/sys/firmware/efi", F_OK) == 0)
		km->secure_boot = TS_NO;

	km->loaded = access("/sys/module/l3dsr/initstate", F_OK) == 0;
	km->loaded_verified = TS_UNKNOWN;
	/* a kernel that checks signatures taints itself E for an unsigned one */
	if (km->loaded &&
	    access("/sys/module/module/parameters/sig_enforce", F_OK) == 0 &&
	    read_small_file("/sys/module/l3dsr/taint", buf, sizeof(buf)) >= 0)
		km->loaded_verified = strchr(buf, 'E') ? TS_NO : TS_YES;
}

void kmodule_inspect(struct kmodule *km)
{
	struct utsname u;

	memset(km, 0, sizeof(*km));
	km->file_signed = TS_UNKNOWN;
	if (uname(&u) == 0)
		snprintf(km->release, sizeof(km->release), "%s", u.release);
	find_installed(km);
	if (km->path[0] && !km->compressed)
		inspect_file(km);
	inspect_kernel(km);
}

void kmodule_why_absent(const struct kmodule *km, char *why, size_t len)
{
	if (!km->path[0])
		snprintf(why, len,
			 "it is not installed for the running kernel %s (modules.dep names no %s): install it for this kernel (dkms autoinstall -k %s)",
			 km->release, MODULE_NAME, km->release);
	else if (km->built_for[0] && strcmp(km->built_for, km->release))
		snprintf(why, len,
			 "%s was built for kernel %s, and this is %s: rebuild it for this kernel (dkms autoinstall)",
			 km->path, km->built_for, km->release);
	else if (km->enforcing == TS_YES && km->file_signed == TS_NO)
		snprintf(why, len,
			 "%s is not signed, and this kernel loads only signed modules (%s): let DKMS sign it and enrol DKMS's key (README: Secure Boot)",
			 km->path, km->enforced_by);
	else
		snprintf(why, len,
			 "%s is installed but not loaded: modprobe l3dsr, and its error and the kernel log say why it is refused",
			 km->path);
}

/* modprobe's message ("modprobe: ERROR: could not insert 'l3dsr': ...") */
static int run_modprobe(char *out, size_t len)
{
	static char *const argv[] = { "modprobe", "l3dsr", NULL };
	char path[64];
	size_t used;
	FILE *err;
	pid_t pid;

	/* root's, whatever $PATH the caller has */
	if (!spawn_find("modprobe", "/usr/sbin:/sbin:/usr/bin:/bin", path,
			sizeof(path)))
		return -1;
	err = spawn_read(path, argv, STDERR_FILENO, &pid);
	if (!err)
		return -1;
	used = fread(out, 1, len - 1, err);
	out[used] = '\0';
	return spawn_wait(err, pid);
}

/* The errno behind modprobe's message, of those worth explaining. */
static int modprobe_errno(const char *out)
{
	static const int known[] = { ENOKEY, EKEYREJECTED, EBADMSG, ENOEXEC,
				     EPERM };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strstr(out, strerror(known[i])))
			return known[i];
	return -1;
}

/*
 * What the kernel said while refusing it: a kernel that enforces
 * signatures refuses both an unsigned module and one signed with an
 * unknown key with EKEYREJECTED, telling them apart only in its log.
 */
enum refusal { REFUSED_OTHER, REFUSED_UNSIGNED, REFUSED_UNKNOWN_KEY };

static enum refusal kernel_refusal(int kmsg)
{
	enum refusal r = REFUSED_OTHER;
	char record[1024];
	ssize_t n;

	if (kmsg < 0)
		return r;
	/* one record per read, until none is left (EAGAIN) */
	while ((n = read(kmsg, record, sizeof(record) - 1)) != 0) {
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten while we read: skip */
		if (n < 0)
			break;
		record[n] = '\0';
		if (strstr(record, "Loading of unsigned module is rejected"))
			r = REFUSED_UNSIGNED;
		else if (strstr(record, "Loading of module with unavailable key is rejected"))
			r = REFUSED_UNKNOWN_KEY;
	}
	return r;
}

int kmodule_modprobe(const struct kmodule *km, char *why, size_t len)
{
	enum refusal refusal;
	char out[512], *nl;
	int err, kmsg;

	if (!km->path[0] || geteuid())
		return -1;
	/* only what is logged from now on */
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg >= 0 && lseek(kmsg, 0, SEEK_END) < 0) {
		close(kmsg);
		kmsg = -1;
	}
	if (run_modprobe(out, sizeof(out)) == 0) {
		if (kmsg >= 0)
			close(kmsg);
		return 0;
	}
	refusal = kernel_refusal(kmsg);
	if (kmsg >= 0)
		close(kmsg);
	nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';

	err = modprobe_errno(out);
	/* no trusted signature, as the log or the file tells */
	if (refusal != REFUSED_OTHER ||
	    (err == EKEYREJECTED && km->file_signed == TS_NO))
		err = ENOKEY;
	switch (err) {
	case ENOKEY:
		if (km->file_signed == TS_YES)
			snprintf(why, len,
				 "%s is signed, but not by a key this kernel trusts: enrol the key it was signed with (DKMS's: mokutil --import /var/lib/dkms/mok.pub, reboot, confirm; README: Secure Boot)",
				 km->path);
		else
			snprintf(why, len,
				 "%s is not signed, and this kernel loads only signed modules: let DKMS sign it and enrol DKMS's key (README: Secure Boot)",
				 km->path);
		break;
	case EKEYREJECTED:
	case EBADMSG:
		snprintf(why, len,
			 "the kernel rejects the signature of %s: it was signed by a key the kernel does not trust, or changed after it was signed (enrol the key, or reinstall it; README: Secure Boot)",
			 km->path);
		break;
	case ENOEXEC:
		if (km->built_for[0] && strcmp(km->built_for, km->release)) {
			kmodule_why_absent(km, why, len);
			break;
		}
		snprintf(why, len,
			 "the kernel refuses %s as not made for it (version magic or format): rebuild it for kernel %s (dkms autoinstall)",
			 km->path, km->release);
		break;
	case EPERM:
		snprintf(why, len,
			 "this kernel allows no module to be loaded (kernel.modules_disabled, or no CAP_SYS_MODULE here)");
		break;
	default:
		if (out[0])
			snprintf(why, len, "modprobe l3dsr fails: %s", out);
		break;
	}
	return err;
}
