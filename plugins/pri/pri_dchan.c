/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pri: D-channel transports over sockets that keep frame boundaries
 * (SOCK_SEQPACKET): one Q.921 frame (with its two FCS octets) per packet.
 *   fd           a socket handed over (the tests' socketpairs)
 *   unix:PATH    connect to PATH, retrying every second (pbxsim listens)
 *   listen:PATH  listen on PATH and take one peer at a time
 * Losing the peer is a layer 1 alarm for the span, as losing the line is.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pri_int.h"

#define RECONNECT_MS 1000

struct dchan_sock {
	struct pri_dchan base;
	int fd;
	int listen_fd;
	int connect; /* reconnect to path when the peer goes */
	struct tnd_io *io;
	struct tnd_io *listen_io;
	struct tnd_timer *retry;
	struct sockaddr_un addr;
	uint8_t buf[PRI_FRAME_MAX];
};

static void peer_gone(struct dchan_sock *ds);

static int sock_send(struct pri_dchan *dc, const uint8_t *frame, size_t len)
{
	struct dchan_sock *ds = (struct dchan_sock *)dc;

	if (ds->fd < 0)
		return -ENOTCONN;
	if (send(ds->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

static void sock_readable(struct tnd_io *io, int fd, int events, void *arg)
{
	struct dchan_sock *ds = arg;
	ssize_t n;

	(void)io;
	if (events < 0) {
		peer_gone(ds);
		return;
	}
	/* Bounded: the loop comes back for the rest. */
	for (int i = 0; i < 64; i++) {
		n = recv(fd, ds->buf, sizeof(ds->buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			peer_gone(ds);
			return;
		}
		if (ds->base.span)
			pri_span_frame_in(ds->base.span, ds->buf, (size_t)n);
		if (ds->fd != fd)
			return; /* the span closed us meanwhile */
	}
}

static int attach(struct dchan_sock *ds, int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ds->fd = fd;
	ds->io = pri_host->io_new(pri_self, fd, sock_readable, ds);
	if (!ds->io || pri_host->io_start(ds->io, TND_IO_READ)) {
		close(fd);
		ds->fd = -1;
		return -ENOMEM;
	}
	if (ds->base.span && ds->base.span->alarm)
		pri_span_alarm(ds->base.span, 0);
	return 0;
}

static void detach(struct dchan_sock *ds)
{
	if (ds->io)
		pri_host->io_free(ds->io);
	ds->io = NULL;
	if (ds->fd >= 0)
		close(ds->fd);
	ds->fd = -1;
}

static void peer_gone(struct dchan_sock *ds)
{
	tnd_notice("span %d: D-channel peer gone",
		   ds->base.span ? ds->base.span->number : 0);
	detach(ds);
	if (ds->base.span)
		pri_span_alarm(ds->base.span, 1);
	if (ds->connect && ds->retry)
		pri_host->timer_start(ds->retry, RECONNECT_MS, 0);
}

static void try_connect(struct tnd_timer *timer, void *arg)
{
	struct dchan_sock *ds = arg;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	(void)timer;
	if (fd >= 0 &&
	    connect(fd, (struct sockaddr *)&ds->addr, sizeof(ds->addr)) == 0) {
		tnd_info("D-channel connected to %s", ds->addr.sun_path);
		attach(ds, fd);
		return;
	}
	if (fd >= 0)
		close(fd);
	pri_host->timer_start(ds->retry, RECONNECT_MS, 0);
}

static void on_accept(struct tnd_io *io, int fd, int events, void *arg)
{
	struct dchan_sock *ds = arg;
	int peer;

	(void)io;
	if (events < 0)
		return;
	peer = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (peer < 0)
		return;
	if (ds->fd >= 0) {
		/* One D-channel, one peer: the newcomer is refused. */
		close(peer);
		return;
	}
	tnd_info("D-channel peer connected on %s", ds->addr.sun_path);
	attach(ds, peer);
}

static void sock_close(struct pri_dchan *dc)
{
	struct dchan_sock *ds = (struct dchan_sock *)dc;

	detach(ds);
	if (ds->listen_io)
		pri_host->io_free(ds->listen_io);
	if (ds->listen_fd >= 0) {
		close(ds->listen_fd);
		unlink(ds->addr.sun_path);
	}
	if (ds->retry)
		pri_host->timer_free(ds->retry);
	free(ds);
}

static struct dchan_sock *sock_new(const char *kind)
{
	struct dchan_sock *ds = calloc(1, sizeof(*ds));

	if (!ds)
		return NULL;
	ds->base.kind = kind;
	ds->base.send = sock_send;
	ds->base.close = sock_close;
	ds->fd = -1;
	ds->listen_fd = -1;
	return ds;
}

struct pri_dchan *pri_dchan_fd(int fd)
{
	struct dchan_sock *ds = sock_new("fd");

	if (!ds) {
		close(fd);
		return NULL;
	}
	if (attach(ds, fd)) {
		free(ds);
		return NULL;
	}
	return &ds->base;
}

static int set_path(struct dchan_sock *ds, const char *path)
{
	ds->addr.sun_family = AF_UNIX;
	if (!*path || strlen(path) >= sizeof(ds->addr.sun_path))
		return -EINVAL;
	memcpy(ds->addr.sun_path, path, strlen(path) + 1);
	return 0;
}

static int open_listen(struct dchan_sock *ds)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	unlink(ds->addr.sun_path);
	if (bind(fd, (struct sockaddr *)&ds->addr, sizeof(ds->addr)) ||
	    listen(fd, 1)) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ds->listen_fd = fd;
	ds->listen_io = pri_host->io_new(pri_self, fd, on_accept, ds);
	if (!ds->listen_io)
		return -ENOMEM;
	return pri_host->io_start(ds->listen_io, TND_IO_READ);
}

struct pri_dchan *pri_dchan_open(const char *spec)
{
	int listening = strncmp(spec, "listen:", 7) == 0;
	struct dchan_sock *ds;
	int rc;

	if (!listening && strncmp(spec, "unix:", 5) != 0)
		return NULL;
	ds = sock_new(listening ? "listen" : "unix");
	if (!ds)
		return NULL;
	if (set_path(ds, spec + (listening ? 7 : 5))) {
		free(ds);
		return NULL;
	}
	if (listening) {
		rc = open_listen(ds);
	} else {
		ds->connect = 1;
		ds->retry = pri_host->timer_new(pri_self, try_connect, ds);
		rc = ds->retry ? pri_host->timer_start(ds->retry, 0, 0)
			       : -ENOMEM;
	}
	if (rc) {
		tnd_error("D-channel %s: %s", spec, strerror(-rc));
		sock_close(&ds->base);
		return NULL;
	}
	return &ds->base;
}
