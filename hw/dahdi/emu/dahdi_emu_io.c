/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dahdi_emu: the libc calls it wraps (LD_PRELOAD). Paths under /dev/dahdi/
 * open emulated devices; every other file, and every descriptor that is
 * not one of ours, goes straight to libc.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "dahdi_emu.h"

#define DEV_PREFIX "/dev/dahdi/"

static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_close)(int);
static int (*real_ioctl)(int, unsigned long, ...);
static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

static struct emu_file *_Atomic files[EMU_MAX_FDS];

static void resolve_all(void)
{
	real_read = (ssize_t(*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT,
								  "write");
	real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT,
							     "ioctl");
	real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT,
								  "openat");
	real_poll = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT,
								 "poll");
}

static void resolve(void)
{
	pthread_once(&resolve_once, resolve_all);
}

static struct emu_file *lookup(int fd)
{
	return fd >= 0 && fd < EMU_MAX_FDS ? atomic_load(&files[fd]) : NULL;
}

ssize_t emu_real_read(int fd, void *buf, size_t count)
{
	resolve();
	return real_read(fd, buf, count);
}

ssize_t emu_real_write(int fd, const void *buf, size_t count)
{
	resolve();
	return real_write(fd, buf, count);
}

int emu_real_close(int fd)
{
	resolve();
	return real_close(fd);
}

/* Under emu_lock. */
void emu_doorbell(struct emu_file *f)
{
	bool ready;
	uint64_t v = 1;

	if (!f)
		return;
	ready = emu_revents(f, POLLIN | POLLPRI) != 0;
	if (ready && !f->armed && emu_real_write(f->fd, &v, sizeof(v)) == 8)
		f->armed = true;
	else if (!ready && f->armed &&
		 emu_real_read(f->fd, &v, sizeof(v)) == 8)
		f->armed = false;
}

static int open_emulated(const char *path, int flags)
{
	struct emu_file *f;
	int err = 0;

	resolve();
	emu_setup();
	pthread_mutex_lock(&emu_lock);
	f = emu_open(path, flags, &err);
	if (f) {
		atomic_store(&files[f->fd], f);
		emu_doorbell(f);
	}
	pthread_mutex_unlock(&emu_lock);
	if (!f) {
		errno = err;
		return -1;
	}
	return f->fd;
}

static bool is_dahdi(const char *path)
{
	return path && strncmp(path, DEV_PREFIX, strlen(DEV_PREFIX)) == 0;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (is_dahdi(path))
		return open_emulated(path, flags);
	resolve();
	return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (is_dahdi(path))
		return open_emulated(path, flags);
	resolve();
	return real_open(path, flags | O_LARGEFILE, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if (is_dahdi(path))
		return open_emulated(path, flags);
	resolve();
	return real_openat(dirfd, path, flags, mode);
}

/* The fortified forms (_FORTIFY_SOURCE). */
int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

int __open64_2(const char *path, int flags);
int __open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

int close(int fd)
{
	struct emu_file *f = lookup(fd);

	resolve();
	if (f) {
		pthread_mutex_lock(&emu_lock);
		atomic_store(&files[fd], NULL);
		emu_close(f);
		pthread_mutex_unlock(&emu_lock);
	}
	return real_close(fd);
}

ssize_t read(int fd, void *buf, size_t count)
{
	struct emu_file *f = lookup(fd);
	ssize_t n;
	int err;

	if (!f) {
		resolve();
		return real_read(fd, buf, count);
	}
	pthread_mutex_lock(&emu_lock);
	n = emu_read(f, buf, count);
	err = errno;
	pthread_mutex_unlock(&emu_lock);
	errno = err;
	return n;
}

ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen);
ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen)
{
	if (count > buflen)
		abort();
	return read(fd, buf, count);
}

ssize_t write(int fd, const void *buf, size_t count)
{
	struct emu_file *f = lookup(fd);
	ssize_t n;
	int err;

	if (!f) {
		resolve();
		return real_write(fd, buf, count);
	}
	pthread_mutex_lock(&emu_lock);
	n = emu_write(f, buf, count);
	err = errno;
	pthread_mutex_unlock(&emu_lock);
	errno = err;
	return n;
}

int ioctl(int fd, unsigned long req, ...)
{
	struct emu_file *f = lookup(fd);
	va_list ap;
	void *arg;
	int rc, err;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!f) {
		resolve();
		return real_ioctl(fd, req, arg);
	}
	pthread_mutex_lock(&emu_lock);
	rc = emu_ioctl(f, req, arg);
	err = errno;
	pthread_mutex_unlock(&emu_lock);
	errno = err;
	return rc;
}

/* ---- poll ---------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* revents of every emulated entry from the emulator's state; the others
 * from what the real poll said. Returns how many are ready. */
static int merge(struct pollfd *fds, const struct pollfd *copy, nfds_t n)
{
	int ready = 0;

	pthread_mutex_lock(&emu_lock);
	for (nfds_t i = 0; i < n; i++) {
		struct emu_file *f = lookup(fds[i].fd);

		fds[i].revents = f ? emu_revents(f, fds[i].events)
				   : copy ? copy[i].revents : 0;
		ready += fds[i].revents != 0;
	}
	pthread_mutex_unlock(&emu_lock);
	return ready;
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct pollfd *copy;
	int64_t deadline = timeout > 0 ? now_ms() + timeout : 0;
	bool ours = false;
	int rc;

	resolve();
	for (nfds_t i = 0; i < n && !ours; i++)
		ours = lookup(fds[i].fd) != NULL;
	if (!ours)
		return real_poll(fds, n, timeout);
	copy = calloc(n, sizeof(*copy));
	if (!copy) {
		errno = ENOMEM;
		return -1;
	}
	for (;;) {
		int wait = timeout;

		/* The eventfd of an emulated entry is readable while it has
		 * something to read or an event. */
		for (nfds_t i = 0; i < n; i++) {
			copy[i] = fds[i];
			if (lookup(fds[i].fd))
				copy[i].events = POLLIN;
		}
		if (merge(fds, NULL, n) > 0)
			wait = 0;
		else if (timeout > 0)
			wait = (int)(deadline > now_ms() ? deadline - now_ms()
							 : 0);
		rc = real_poll(copy, n, wait);
		if (rc < 0)
			break;
		rc = merge(fds, copy, n);
		if (rc > 0 || timeout == 0 ||
		    (timeout > 0 && now_ms() >= deadline))
			break;
	}
	free(copy);
	return rc;
}
