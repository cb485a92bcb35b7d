/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A cable between two nodes: a unix SOCK_SEQPACKET socket carrying one
 * message per 1 ms tick each way (8 frames of every timeslot and the line
 * signals). One node listens, the other connects and reconnects.
 *
 * The two nodes tick from the same CLOCK_MONOTONIC, so only scheduling
 * jitter separates them. The receiver plays frames out of an elastic
 * buffer: it waits until `target` frames are buffered, plays one per
 * tick, two while it holds more than twice the target, and pauses
 * (a "late" tick) when the buffer runs dry, the way a receiver slaved to
 * the line clock would. Nothing arriving for SIM_CABLE_LOS_MS is a loss
 * of signal; a buffer overflowing drops the oldest frame (a slip).
 *
 * The loop owns the listening socket and the reconnect timer; the clock
 * thread owns the connected socket's traffic. `lock` guards the handover.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim.h"

#define TND_LOG_HOST sim.drv.host
#define TND_LOG_CATEGORY "sim"

#define SELF sim.drv.self

int sim_cable_check(struct sim *s, struct sim_span *ss)
{
	struct tdm_span *span = ss->span;
	struct sockaddr_un sun;

	(void)s;
	if (strlen(span->cfg.cable) >= sizeof(sun.sun_path)) {
		return sim.drv.host->config_error(
			span->section, "cable", "[%s] cable = %s: a unix socket "
			"path is at most %zu characters", span->section,
			span->cfg.cable, sizeof(sun.sun_path) - 1);
	}
	return 0;
}

static int make_addr(const struct sim_cable *c, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", c->path);
	return 0;
}

static void send_hello(struct sim_cable *c, int fd)
{
	struct sim_cable_msg m = { .magic = SIM_MSG_MAGIC,
				   .kind = SIM_MSG_HELLO };

	m.signals = (uint8_t)c->ss->span->type;
	m.timeslots = (uint16_t)c->ss->span->timeslots;
	if (send(fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		tnd_info("span %u: cable hello: %s", c->ss->span->no,
			 strerror(errno));
}

/* Loop: a new connection becomes the cable, unless one is up. */
static void attach(struct sim_cable *c, int fd)
{
	pthread_mutex_lock(&c->lock);
	if (c->fd >= 0) {
		pthread_mutex_unlock(&c->lock);
		tnd_info("span %u: cable %s already connected; refusing a "
			 "second one", c->ss->span->no, c->path);
		close(fd);
		return;
	}
	c->fd = fd;
	c->hello_seen = false;
	c->refused = false;
	atomic_store(&c->dropped, false);
	send_hello(c, fd);
	pthread_mutex_unlock(&c->lock);
	atomic_fetch_add(&c->connects, 1);
	tnd_notice("span %u: cable %s connected", c->ss->span->no, c->path);
}

static void on_accept(struct tnd_io *io, int fd, int events, void *arg)
{
	struct sim_cable *c = arg;
	int conn;

	(void)io;
	if (events < 0)
		return;
	conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (conn >= 0)
		attach(c, conn);
}

static void try_connect(struct tnd_timer *t, void *arg)
{
	struct sim_cable *c = arg;
	struct sockaddr_un sun;
	int fd;
	bool up;

	(void)t;
	pthread_mutex_lock(&c->lock);
	up = c->fd >= 0;
	pthread_mutex_unlock(&c->lock);
	if (up)
		return;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	make_addr(c, &sun);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd); /* the far node is not there yet: retry */
		return;
	}
	attach(c, fd);
}

static int start_listening(struct sim_cable *c)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);

	if (fd < 0)
		return -errno;
	make_addr(c, &sun);
	unlink(c->path); /* a stale socket of a previous run */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(fd, 2) < 0) {
		int rc = -errno;

		tnd_error("span %u: cannot listen on cable %s: %s",
			  c->ss->span->no, c->path, strerror(errno));
		close(fd);
		return rc;
	}
	c->listen_fd = fd;
	c->listen_io = sim.drv.host->io_new(SELF, fd, on_accept, c);
	if (!c->listen_io)
		return -ENOMEM;
	return sim.drv.host->io_start(c->listen_io, TND_IO_READ);
}

int sim_cable_start(struct sim *s, struct sim_span *ss)
{
	struct sim_cable *c = ss->cable;

	c->listen_fd = -1;
	if (c->listen)
		return start_listening(c);
	c->retry = s->drv.host->timer_new(SELF, try_connect, c);
	if (!c->retry)
		return -ENOMEM;
	try_connect(c->retry, c);
	return s->drv.host->timer_start(c->retry, s->cfg->cable_retry_ms,
					s->cfg->cable_retry_ms);
}

/* Loop, after the clock thread has stopped. */
void sim_cable_stop(struct sim *s, struct sim_span *ss)
{
	struct sim_cable *c = ss->cable;

	s->drv.host->timer_free(c->retry);
	c->retry = NULL;
	s->drv.host->io_free(c->listen_io);
	c->listen_io = NULL;
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		unlink(c->path);
	}
	c->listen_fd = -1;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* ---- Clock thread -------------------------------------------------------- */

static void drop_connection(struct sim_cable *c, const char *why)
{
	close(c->fd);
	c->fd = -1;
	atomic_store(&c->dropped, true);
	/* Logging is thread-safe; the line alarms follow by themselves. */
	tnd_notice("span %u: cable %s disconnected (%s)", c->ss->span->no,
		   c->path, why);
}

static void send_frame(struct sim_cable *c)
{
	struct sim_span *ss = c->ss;
	struct sim_cable_msg m = { .magic = SIM_MSG_MAGIC,
				   .kind = SIM_MSG_FRAME };

	m.signals = ss->tx.signals;
	m.timeslots = (uint16_t)ss->span->timeslots;
	m.seq = c->tx_seq++;
	memcpy(m.ts, ss->tx.ts, sizeof(m.ts));
	if (send(c->fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
	    errno != EAGAIN)
		drop_connection(c, strerror(errno));
}

static bool hello_matches(struct sim_cable *c, const struct sim_cable_msg *m)
{
	const struct tdm_span *span = c->ss->span;

	if (m->signals == span->type && m->timeslots == span->timeslots)
		return true;
	if (!c->refused)
		tnd_error("span %u: cable %s: the far span is %s with %u "
			  "timeslots, this one %s with %u: not connecting",
			  span->no, c->path, m->signals == TDM_SPAN_E1 ? "E1"
					     : "T1/J1", m->timeslots,
			  span->type == TDM_SPAN_E1 ? "E1" : "T1/J1",
			  span->timeslots);
	c->refused = true;
	return false;
}

static void store(struct sim_cable *c, const struct sim_cable_msg *m)
{
	if (c->count == SIM_CABLE_RING) { /* far too much: slip a frame */
		c->head = (c->head + 1) % SIM_CABLE_RING;
		c->count--;
		atomic_fetch_add(&c->overflows, 1);
		atomic_fetch_add(&c->ss->line.stats.slips, 1);
	}
	c->ring[(c->head + c->count) % SIM_CABLE_RING] = *m;
	c->count++;
}

static void read_frames(struct sim_cable *c, bool cut)
{
	struct sim_cable_msg m;

	for (int n = 0; n < SIM_CABLE_RING && c->fd >= 0; n++) {
		ssize_t len = recv(c->fd, &m, sizeof(m), MSG_DONTWAIT);

		if (len < 0) {
			if (errno != EAGAIN)
				drop_connection(c, strerror(errno));
			return;
		}
		if (len == 0) {
			drop_connection(c, "the far node closed it");
			return;
		}
		if ((size_t)len != sizeof(m) || m.magic != SIM_MSG_MAGIC)
			continue;
		if (m.kind == SIM_MSG_HELLO)
			c->hello_seen = hello_matches(c, &m);
		else if (m.kind == SIM_MSG_FRAME && c->hello_seen && !cut)
			store(c, &m);
	}
}

void sim_cable_exchange(struct sim_span *ss)
{
	struct sim_cable *c = ss->cable;
	bool cut = atomic_load(&ss->line.faults) & LINE_FAULT_CUT;

	/* trylock: the loop holds it only for a moment; never wait. */
	if (pthread_mutex_trylock(&c->lock) != 0)
		return;
	if (c->fd >= 0 && !cut && c->hello_seen)
		send_frame(c);
	if (c->fd >= 0)
		read_frames(c, cut);
	pthread_mutex_unlock(&c->lock);
}

unsigned sim_cable_due(struct sim_span *ss, bool *los)
{
	struct sim_cable *c = ss->cable;

	*los = false;
	if (c->count == 0) {
		c->primed = false;
		if (c->starved_ms < SIM_CABLE_LOS_MS) {
			c->starved_ms++;
			atomic_fetch_add(&c->late_ticks, 1);
			return 0;
		}
		*los = true;
		return 0;
	}
	c->starved_ms = 0;
	if (!c->primed && c->count < c->target)
		return 0;
	c->primed = true;
	return c->count > 2 * c->target ? 2 : 1;
}

const struct line_frame *sim_cable_take(struct sim_span *ss,
					struct line_frame *out)
{
	struct sim_cable *c = ss->cable;
	const struct sim_cable_msg *m = &c->ring[c->head];

	out->signals = m->signals;
	memcpy(out->ts, m->ts, sizeof(out->ts));
	c->head = (c->head + 1) % SIM_CABLE_RING;
	c->count--;
	return out;
}
