/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * DAHDI channels and the media worker: opening each channel the way
 * DAHDI wants it (DAHDI_SPECIFY first, then block size and buffers), and
 * one thread that poll()s them all.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <dahdi/user.h>

#include "dahdi.h"

#define TND_LOG_HOST dahdi.drv.host
#define TND_LOG_CATEGORY "dahdi"

/* Enough buffers for the D-channel to absorb a burst of I-frames. */
#define DCHAN_BUFS 16

const char *dahdi_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", dahdi.cfg->device_dir, name);
	return buf;
}

/* ---- Opening ------------------------------------------------------------- */

static int chan_ioctl(struct dahdi_chan *c, unsigned long req, void *arg,
		      const char *what)
{
	if (ioctl(c->fd, req, arg) == 0)
		return 0;
	tnd_error("span %u timeslot %u (DAHDI channel %u): %s: %s",
		  c->span ? c->span->no : 0, c->ts, c->channo, what,
		  strerror(errno));
	return -errno;
}

/* DAHDI's channel numbers are global: check that ours is where the
 * config says, so a wrong basechan never drives another span. */
static int check_params(struct dahdi_chan *c)
{
	struct dahdi_params p;
	int want = c->dchan ? DAHDI_SIG_HDLCFCS : DAHDI_SIG_CLEAR;

	memset(&p, 0, sizeof(p));
	if (chan_ioctl(c, DAHDI_GET_PARAMS, &p, "DAHDI_GET_PARAMS") < 0)
		return -EIO;
	if (p.spanno != (int)c->span->no || p.chanpos != (int)c->ts) {
		tnd_error("DAHDI channel %u is span %d position %d, not span "
			  "%u timeslot %u: set basechan in [span %u] (see "
			  "docs/spans.md)", c->channo, p.spanno, p.chanpos,
			  c->span->no, c->ts, c->span->no);
		return -EINVAL;
	}
	if ((p.sigtype & want) != want) {
		tnd_error("DAHDI channel %u (span %u timeslot %u) has "
			  "signalling 0x%x, not %s: configure it as %s in "
			  "/etc/dahdi/system.conf, or set configure_spans = "
			  "yes in [dahdi]", c->channo, c->span->no, c->ts,
			  p.sigtype, c->dchan ? "HDLC-FCS" : "clear",
			  c->dchan ? "dchan" : "bchan");
		return -EINVAL;
	}
	return 0;
}

static int set_buffers(struct dahdi_chan *c, int size, int count)
{
	struct dahdi_bufferinfo bi;

	memset(&bi, 0, sizeof(bi));
	bi.txbufpolicy = DAHDI_POLICY_IMMEDIATE;
	bi.rxbufpolicy = DAHDI_POLICY_IMMEDIATE;
	bi.numbufs = count;
	bi.bufsize = size;
	return chan_ioctl(c, DAHDI_SET_BUFINFO, &bi, "DAHDI_SET_BUFINFO");
}

/* A hardware echo canceller, where the card has one, takes these. */
static int set_echocancel(struct dahdi_chan *c, unsigned taps)
{
	struct dahdi_echocanparams ecp;

	memset(&ecp, 0, sizeof(ecp));
	ecp.tap_length = taps;
	if (ioctl(c->fd, DAHDI_ECHOCANCEL_PARAMS, &ecp) == 0)
		return 0;
	/* Not fatal: the media plugin can cancel echo itself. */
	tnd_notice("span %u timeslot %u: no echo canceller of %u taps "
		   "(DAHDI_ECHOCANCEL_PARAMS: %s)", c->span->no, c->ts, taps,
		   strerror(errno));
	return 0;
}

static int open_chan(struct dahdi_chan *c)
{
	char path[256];
	int channo = (int)c->channo, rc = 0;
	int blocksize = TDM_BLOCK_SAMPLES;

	c->fd = open(dahdi_path("channel", path, sizeof(path)),
		     O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (c->fd < 0) {
		tnd_error("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (ioctl(c->fd, DAHDI_SPECIFY, &channo) < 0) {
		rc = -errno;
		if (errno == ENXIO)
			tnd_error("span %u timeslot %u: DAHDI channel %u is "
				  "not configured: run dahdi_cfg, or set "
				  "configure_spans = yes in [dahdi]",
				  c->span->no, c->ts, c->channo);
		else
			tnd_error("span %u timeslot %u: DAHDI_SPECIFY %u: %s",
				  c->span->no, c->ts, c->channo,
				  strerror(errno));
		return rc;
	}
	if (rc == 0)
		rc = check_params(c);
	if (rc == 0 && c->dchan)
		rc = set_buffers(c, TDM_DCHAN_MAX_FRAME + TDM_FCS_LEN,
				 DCHAN_BUFS);
	if (rc == 0 && !c->dchan)
		rc = chan_ioctl(c, DAHDI_SET_BLOCKSIZE, &blocksize,
				"DAHDI_SET_BLOCKSIZE");
	if (rc == 0 && !c->dchan)
		rc = set_buffers(c, TDM_BLOCK_SAMPLES, (int)dahdi.cfg->bufs);
	if (rc == 0 && !c->dchan && c->span->cfg.echocancel)
		rc = set_echocancel(c, (unsigned)c->span->cfg.echocancel);
	return rc;
}

/* The worker's clock: a pseudo channel reading 160 octets per 20 ms of
 * DAHDI's timing (its master span, or its own timer without one). */
static int open_pseudo(struct dahdi_chan *c)
{
	char path[256];
	int blocksize = TDM_BLOCK_SAMPLES;

	c->ts = 0;
	c->fd = open(dahdi_path("pseudo", path, sizeof(path)),
		     O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (c->fd < 0) {
		tnd_error("cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (chan_ioctl(c, DAHDI_SET_BLOCKSIZE, &blocksize,
		       "DAHDI_SET_BLOCKSIZE") < 0)
		return -EIO;
	return set_buffers(c, TDM_BLOCK_SAMPLES, 4);
}

int dahdi_open_channels(struct dahdi_drv *d)
{
	int rc = open_pseudo(&d->pseudo);

	for (size_t i = 0; rc == 0 && i < d->drv.nspans; i++) {
		struct dahdi_span *ds = &d->spans[i];
		struct tdm_span *span = ds->span;

		for (unsigned ts = 1; rc == 0 && ts <= span->timeslots; ts++) {
			struct dahdi_chan *c = &ds->chans[ts];

			if (!(span->bmask & (1u << ts)) && ts != span->dchan_ts)
				continue;
			c->span = span;
			c->ts = ts;
			c->channo = ds->basechan + ts - 1;
			c->dchan = ts == span->dchan_ts;
			span->bchan[ts].drv = c;
			rc = open_chan(c);
		}
	}
	return rc;
}

static void close_chan(struct dahdi_chan *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void dahdi_close_channels(struct dahdi_drv *d)
{
	close_chan(&d->pseudo);
	for (size_t i = 0; d->spans && i < d->drv.nspans; i++)
		for (unsigned ts = 0; ts < TDM_TIMESLOTS; ts++)
			close_chan(&d->spans[i].chans[ts]);
}

/* ---- Writers (any thread) ------------------------------------------------ */

int dahdi_bchan_write(struct tdm_bchan *ch, const uint8_t *block)
{
	struct dahdi_chan *c = ch->drv;
	ssize_t n;

	if (!c || c->fd < 0)
		return -ENETDOWN;
	n = write(c->fd, block, TDM_BLOCK_SAMPLES);
	if (n == TDM_BLOCK_SAMPLES)
		return 0;
	/* EAGAIN: DAHDI's buffers are full; ELAST: an event waits for the
	 * worker. Either way this block is not sent. */
	atomic_fetch_add(&ch->span->counters.tx_overruns, 1);
	return -ENOBUFS;
}

/* DAHDI computes the FCS into the last two octets of what we write. */
static int write_frame(struct dahdi_chan *c, const uint8_t *buf, size_t len)
{
	ssize_t n = write(c->fd, buf, len);

	if (n == (ssize_t)len)
		return 0;
	return n < 0 && (errno == EAGAIN || errno == ELAST) ? -EAGAIN : -EIO;
}

static int queue_frame(struct dahdi_chan *c, const uint8_t *buf, size_t len)
{
	struct dahdi_frame *f;

	if (c->pend_count >= DAHDI_PENDING_MAX)
		return -ENOBUFS;
	f = malloc(sizeof(*f) + len);
	if (!f)
		return -ENOMEM;
	f->next = NULL;
	f->len = len;
	memcpy(f->data, buf, len);
	*c->pend_tail = f;
	c->pend_tail = &f->next;
	c->pend_count++;
	atomic_store(&c->pending, true);
	return 0;
}

static void wake_worker(void)
{
	if (dahdi.wake[1] >= 0 && write(dahdi.wake[1], "w", 1) < 0 &&
	    errno != EAGAIN)
		tnd_debug("wake: %s", strerror(errno));
}

/* Frames that found DAHDI's buffers full wait here, in order, until the
 * worker sees room (POLLOUT). */
int dahdi_dchan_send(struct tdm_span *span, const uint8_t *frame, size_t len)
{
	struct dahdi_chan *c = span->bchan[span->dchan_ts].drv;
	uint8_t buf[TDM_DCHAN_MAX_FRAME + TDM_FCS_LEN];
	int rc;

	if (!c || c->fd < 0)
		return -ENETDOWN;
	memcpy(buf, frame, len);
	buf[len] = buf[len + 1] = 0;
	pthread_mutex_lock(&c->pend_lock);
	rc = c->pend_head ? -EAGAIN : write_frame(c, buf, len + TDM_FCS_LEN);
	if (rc == -EAGAIN)
		rc = queue_frame(c, buf, len + TDM_FCS_LEN);
	pthread_mutex_unlock(&c->pend_lock);
	if (rc == 0 && atomic_load(&c->pending))
		wake_worker();
	return rc == -EIO ? -EIO : rc;
}

/* Worker: send what waits, as long as DAHDI takes it. */
static void flush_pending(struct dahdi_chan *c)
{
	pthread_mutex_lock(&c->pend_lock);
	while (c->pend_head && write_frame(c, c->pend_head->data,
					   c->pend_head->len) != -EAGAIN) {
		struct dahdi_frame *f = c->pend_head;

		c->pend_head = f->next;
		if (!c->pend_head)
			c->pend_tail = &c->pend_head;
		c->pend_count--;
		free(f);
	}
	atomic_store(&c->pending, c->pend_head != NULL);
	pthread_mutex_unlock(&c->pend_lock);
}

void dahdi_chan_init(struct dahdi_chan *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	pthread_mutex_init(&c->pend_lock, NULL);
	c->pend_tail = &c->pend_head;
}

void dahdi_chan_fini(struct dahdi_chan *c)
{
	while (c->pend_head) {
		struct dahdi_frame *f = c->pend_head;

		c->pend_head = f->next;
		free(f);
	}
	c->pend_tail = &c->pend_head;
	c->pend_count = 0;
	pthread_mutex_destroy(&c->pend_lock);
}

/* ---- The worker ---------------------------------------------------------- */

struct poll_set {
	struct pollfd *pfd;
	struct dahdi_chan **chan;
	size_t n;
};

static int build_poll_set(struct dahdi_drv *d, struct poll_set *ps)
{
	size_t max = 2 + d->drv.nspans * TDM_TIMESLOTS;

	ps->pfd = calloc(max, sizeof(*ps->pfd));
	ps->chan = calloc(max, sizeof(*ps->chan));
	if (!ps->pfd || !ps->chan)
		return -ENOMEM;
	ps->pfd[0] = (struct pollfd){ .fd = d->wake[0], .events = POLLIN };
	ps->pfd[1] = (struct pollfd){ .fd = d->pseudo.fd,
				      .events = POLLIN | POLLPRI };
	ps->chan[1] = &d->pseudo;
	ps->n = 2;
	for (size_t i = 0; i < d->drv.nspans; i++) {
		for (unsigned ts = 1; ts < TDM_TIMESLOTS; ts++) {
			struct dahdi_chan *c = &d->spans[i].chans[ts];

			if (c->fd < 0)
				continue;
			ps->pfd[ps->n] = (struct pollfd){
				.fd = c->fd, .events = POLLIN | POLLPRI };
			ps->chan[ps->n++] = c;
		}
	}
	return 0;
}

static struct dahdi_span *span_of(struct dahdi_chan *c)
{
	return c->span ? c->span->priv : NULL;
}

/* DAHDI queues events per channel; read() says ELAST until they are
 * taken with DAHDI_GETEVENT. */
static void take_events(struct dahdi_chan *c)
{
	struct dahdi_span *ds = span_of(c);
	int ev;

	for (int guard = 0; guard < 64; guard++) {
		ev = 0;
		if (ioctl(c->fd, DAHDI_GETEVENT, &ev) < 0 || ev == 0)
			return;
		atomic_fetch_add(&dahdi.events, 1);
		switch (ev) {
		case DAHDI_EVENT_ALARM:
		case DAHDI_EVENT_NOALARM:
			if (ds) {
				atomic_store(&ds->alarm_event, true);
				tdm_post(&dahdi.drv);
			}
			break;
		case DAHDI_EVENT_BADFCS:
			tdm_dchan_error(c->span, TDM_DCHAN_BAD_FCS);
			break;
		case DAHDI_EVENT_ABORT:
			tdm_dchan_error(c->span, TDM_DCHAN_ABORT);
			break;
		case DAHDI_EVENT_OVERRUN:
			tdm_dchan_error(c->span, TDM_DCHAN_OVERRUN);
			break;
		default:
			break;
		}
	}
}

static void read_bearer(struct dahdi_drv *d, struct dahdi_chan *c)
{
	uint8_t block[TDM_BLOCK_SAMPLES];
	ssize_t n = read(c->fd, block, sizeof(block));

	if (n == TDM_BLOCK_SAMPLES) {
		atomic_fetch_add(&d->blocks, 1);
		if (c == &d->pseudo)
			tdm_clock_advance(&d->drv, TDM_BLOCK_SAMPLES);
		else
			tdm_bchan_deliver(&c->span->bchan[c->ts], block);
	} else if (n < 0 && errno == ELAST) {
		take_events(c);
	} else if (n >= 0 || errno != EAGAIN) {
		atomic_fetch_add(&d->read_errors, 1);
	}
}

/* One frame per read, its two FCS octets last. */
static void read_dchan(struct dahdi_drv *d, struct dahdi_chan *c)
{
	uint8_t frame[TDM_DCHAN_MAX_FRAME + TDM_FCS_LEN];
	ssize_t n = read(c->fd, frame, sizeof(frame));

	if (n > TDM_FCS_LEN)
		tdm_dchan_rx(c->span, frame, (size_t)n - TDM_FCS_LEN);
	else if (n < 0 && errno == ELAST)
		take_events(c);
	else if (n >= 0 || errno != EAGAIN)
		atomic_fetch_add(&d->read_errors, 1);
}

static void serve(struct dahdi_drv *d, struct poll_set *ps)
{
	pthread_mutex_lock(&d->drv.media_lock);
	for (size_t i = 1; i < ps->n; i++) {
		struct dahdi_chan *c = ps->chan[i];
		short re = ps->pfd[i].revents;

		if (re & POLLPRI)
			take_events(c);
		if (c->dchan && atomic_load(&c->pending))
			flush_pending(c);
		if (!(re & POLLIN))
			continue;
		if (c->dchan)
			read_dchan(d, c);
		else
			read_bearer(d, c);
	}
	pthread_mutex_unlock(&d->drv.media_lock);
}

/* Ask DAHDI for room where D-channel frames wait. */
static void want_room(struct poll_set *ps)
{
	for (size_t i = 1; i < ps->n; i++) {
		struct dahdi_chan *c = ps->chan[i];

		ps->pfd[i].events = POLLIN | POLLPRI;
		if (c->dchan && atomic_load(&c->pending))
			ps->pfd[i].events |= POLLOUT;
	}
}

static void drain_wake(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void *worker_main(void *arg)
{
	struct dahdi_drv *d = arg;
	struct poll_set ps = { 0 };

	while (!atomic_load(&d->go) && !atomic_load(&d->stop))
		sched_yield();
	if (build_poll_set(d, &ps) < 0) {
		tnd_error("media worker: out of memory");
		goto out;
	}
	while (!atomic_load(&d->stop)) {
		int n;

		want_room(&ps);
		n = poll(ps.pfd, ps.n, 1000);
		if (n < 0 && errno != EINTR) {
			tnd_error("media worker: poll: %s", strerror(errno));
			break;
		}
		if (n > 0 && (ps.pfd[0].revents & POLLIN))
			drain_wake(d->wake[0]);
		if (n > 0 && !atomic_load(&d->stop))
			serve(d, &ps);
	}
out:
	free(ps.pfd);
	free(ps.chan);
	return NULL;
}

int dahdi_worker_start(struct dahdi_drv *d)
{
	int rc;

	if (pipe2(d->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	atomic_store(&d->stop, false);
	atomic_store(&d->go, false);
	rc = pthread_create(&d->thread, NULL, worker_main, d);
	if (rc != 0) {
		tnd_error("cannot start the media worker: %s", strerror(rc));
		return -rc;
	}
	d->drv.worker = d->thread;
	d->drv.worker_running = true;
	atomic_store(&d->go, true);
	return 0;
}

void dahdi_worker_stop(struct dahdi_drv *d)
{
	if (!d->drv.worker_running)
		return;
	atomic_store(&d->stop, true);
	if (write(d->wake[1], "x", 1) < 0)
		tnd_debug("wake: %s", strerror(errno));
	pthread_join(d->thread, NULL);
	d->drv.worker_running = false;
	close(d->wake[0]);
	close(d->wake[1]);
	d->wake[0] = d->wake[1] = -1;
}
