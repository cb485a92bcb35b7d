/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The clock thread of the simulated spans. Every 1 ms (an absolute
 * CLOCK_MONOTONIC deadline, so errors never accumulate) it runs one tick:
 * each span builds the 8 frames it sends, then each span receives what
 * its far end sent, delivers full 20 ms blocks to bearer users and feeds
 * its D-channel octets to the HDLC receiver. Like DAHDI's interrupt, a
 * late wake-up runs the missed ticks back to back; beyond max_lag_ms the
 * clock gives up on them (counted) rather than bursting.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define TND_LOG_HOST sim.drv.host
#define TND_LOG_CATEGORY "sim"

#define TICK_NS 1000000L

/* ---- Writers (any thread) ------------------------------------------------ */

int sim_bchan_write(struct tdm_bchan *ch, const uint8_t *block)
{
	struct sim_bchan *b = ch->drv;
	size_t cap = sizeof(b->txq);
	int rc = 0;

	pthread_mutex_lock(&b->lock);
	if (b->tx_count + TDM_BLOCK_SAMPLES > cap) {
		rc = -ENOBUFS;
	} else {
		size_t tail = (b->tx_head + b->tx_count) % cap;
		size_t first = cap - tail < TDM_BLOCK_SAMPLES
				       ? cap - tail
				       : TDM_BLOCK_SAMPLES;

		memcpy(b->txq + tail, block, first);
		memcpy(b->txq, block + first, TDM_BLOCK_SAMPLES - first);
		b->tx_count += TDM_BLOCK_SAMPLES;
	}
	pthread_mutex_unlock(&b->lock);
	if (rc < 0)
		atomic_fetch_add(&ch->span->counters.tx_overruns, 1);
	return rc;
}

int sim_dchan_send(struct tdm_span *span, const uint8_t *frame, size_t len)
{
	struct sim_span *ss = span->priv;
	struct sim_frame *f;

	if (len > HDLC_MAX_FRAME)
		return -EINVAL;
	f = malloc(sizeof(*f) + len);
	if (!f)
		return -ENOMEM;
	f->next = NULL;
	f->len = len;
	memcpy(f->data, frame, len);
	pthread_mutex_lock(&ss->dchan_lock);
	if (ss->dq_count >= SIM_DCHAN_TXQ) {
		pthread_mutex_unlock(&ss->dchan_lock);
		free(f);
		return -ENOBUFS;
	}
	*ss->dq_tail = f;
	ss->dq_tail = &f->next;
	ss->dq_count++;
	pthread_mutex_unlock(&ss->dchan_lock);
	return 0;
}

/* ---- Transmit ------------------------------------------------------------ */

/* 8 samples of a bearer channel's queue, idle when it runs dry. */
static void take_samples(struct tdm_span *span, struct sim_bchan *b,
			 uint8_t *out)
{
	size_t cap = sizeof(b->txq), n;

	pthread_mutex_lock(&b->lock);
	n = b->tx_count < LINE_TICK_FRAMES ? b->tx_count : LINE_TICK_FRAMES;
	for (size_t i = 0; i < n; i++)
		out[i] = b->txq[(b->tx_head + i) % cap];
	b->tx_head = (b->tx_head + n) % cap;
	b->tx_count -= n;
	if (n < LINE_TICK_FRAMES && b->tx_flowing)
		atomic_fetch_add(&span->counters.tx_underruns, 1);
	b->tx_flowing = n == LINE_TICK_FRAMES;
	pthread_mutex_unlock(&b->lock);
	memset(out + n, span->idle, LINE_TICK_FRAMES - n);
}

static void load_next_frame(struct sim_span *ss)
{
	struct sim_frame *f;

	pthread_mutex_lock(&ss->dchan_lock);
	f = ss->dq_head;
	if (f) {
		ss->dq_head = f->next;
		if (!ss->dq_head)
			ss->dq_tail = &ss->dq_head;
		ss->dq_count--;
	}
	pthread_mutex_unlock(&ss->dchan_lock);
	if (f) {
		hdlc_tx_load(&ss->htx, f->data, f->len);
		free(f);
	}
}

static void build_tx(struct sim_span *ss)
{
	struct tdm_span *span = ss->span;

	memset(ss->tx.ts[0], 0, LINE_TICK_FRAMES); /* framing */
	for (unsigned ts = 1; ts < LINE_TIMESLOTS; ts++) {
		uint8_t *out = ss->tx.ts[ts];

		if (ts > span->timeslots) {
			memset(out, LINE_ALL_ONES, LINE_TICK_FRAMES);
		} else if (span->bmask & (1u << ts)) {
			take_samples(span, &ss->b[ts], out);
		} else if (ts == span->dchan_ts) {
			for (int i = 0; i < LINE_TICK_FRAMES; i++) {
				if (hdlc_tx_ready(&ss->htx))
					load_next_frame(ss);
				out[i] = hdlc_tx_octet(&ss->htx);
			}
		} else {
			memset(out, span->idle, LINE_TICK_FRAMES);
		}
	}
	line_transmit(&ss->line, &ss->tx);
}

/* ---- Receive ------------------------------------------------------------- */

static void on_hdlc(enum hdlc_rx_event ev, const uint8_t *frame, size_t len,
		    void *arg)
{
	struct sim_span *ss = arg;
	unsigned alarms = atomic_load(&ss->line.alarms);

	if (ev == HDLC_RX_FRAME) {
		tdm_dchan_rx(ss->span, frame, len - HDLC_FCS_LEN);
		return;
	}
	/* DAHDI reports no frame errors while the span is in alarm. */
	if (alarms & TDM_ALARM_SERVICE_AFFECTING & ~TDM_ALARM_RAI)
		return;
	tdm_dchan_error(ss->span, ev == HDLC_RX_BAD_FCS ? TDM_DCHAN_BAD_FCS
				  : ev == HDLC_RX_ABORT ? TDM_DCHAN_ABORT
							: TDM_DCHAN_OVERRUN);
}

static void deliver_rx(struct sim_span *ss)
{
	struct tdm_span *span = ss->span;

	for (unsigned ts = 1; ts <= span->timeslots; ts++) {
		struct sim_bchan *b = &ss->b[ts];

		if (span->bmask & (1u << ts)) {
			memcpy(b->rx + b->rx_fill, ss->rx.ts[ts],
			       LINE_TICK_FRAMES);
			b->rx_fill += LINE_TICK_FRAMES;
			if (b->rx_fill == TDM_BLOCK_SAMPLES) {
				b->rx_fill = 0;
				tdm_bchan_deliver(&span->bchan[ts], b->rx);
			}
		} else if (ts == span->dchan_ts) {
			for (int i = 0; i < LINE_TICK_FRAMES; i++)
				hdlc_rx_octet(&ss->hrx, ss->rx.ts[ts][i],
					      on_hdlc, ss);
		}
	}
}

static void receive_one(struct sim_span *ss, const struct line_frame *remote)
{
	unsigned shots = line_receive(&ss->line, &ss->tx, remote, &ss->rx);
	unsigned alarms = atomic_load(&ss->line.alarms);

	if (shots & LINE_SHOT_DCHAN)
		hdlc_rx_corrupt_next(&ss->hrx);
	if (alarms != ss->seen_alarms) {
		ss->seen_alarms = alarms;
		tdm_post(&sim.drv);
	}
	deliver_rx(ss);
}

static void receive(struct sim_span *ss)
{
	struct line_frame frame;
	unsigned due;
	bool los = false;

	if (ss->peer) {
		unsigned far = atomic_load(&ss->peer->line.faults);

		receive_one(ss, (far & LINE_FAULT_CUT) ? NULL : &ss->peer->tx);
		return;
	}
	if (!ss->cable) {
		receive_one(ss, NULL); /* nothing plugged in */
		return;
	}
	due = sim_cable_due(ss, &los);
	if (los)
		receive_one(ss, NULL);
	while (due--)
		receive_one(ss, sim_cable_take(ss, &frame));
}

static void tick(struct sim *s)
{
	size_t n = s->drv.nspans;

	pthread_mutex_lock(&s->drv.media_lock);
	for (size_t i = 0; i < n; i++)
		build_tx(&s->spans[i]);
	for (size_t i = 0; i < n; i++)
		if (s->spans[i].cable)
			sim_cable_exchange(&s->spans[i]);
	for (size_t i = 0; i < n; i++)
		receive(&s->spans[i]);
	tdm_clock_advance(&s->drv, LINE_TICK_FRAMES);
	pthread_mutex_unlock(&s->drv.media_lock);
	atomic_fetch_add(&s->ticks, 1);
}

/* ---- The thread ---------------------------------------------------------- */

static void add_ns(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

static int64_t diff_ns(const struct timespec *a, const struct timespec *b)
{
	return (int64_t)(a->tv_sec - b->tv_sec) * 1000000000LL +
	       (a->tv_nsec - b->tv_nsec);
}

static void *clock_main(void *arg)
{
	struct sim *s = arg;
	struct timespec next, now;
	int64_t max_lag = (int64_t)s->cfg->max_lag_ms * 1000000LL;

	/* sim_clock_start() names this thread the worker first. */
	while (!atomic_load(&s->go) && !atomic_load(&s->stop))
		sched_yield();
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&s->stop)) {
		add_ns(&next, TICK_NS);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (diff_ns(&now, &next) > max_lag) {
			/* Stopped too long (a debugger, a loaded host):
			 * resume from now instead of bursting. */
			atomic_fetch_add(&s->skipped_ms,
					 (uint64_t)(diff_ns(&now, &next) /
						    TICK_NS));
			next = now;
		} else if (diff_ns(&now, &next) > TICK_NS) {
			atomic_fetch_add(&s->late_ms, 1);
		}
		tick(s);
	}
	return NULL;
}

int sim_clock_start(struct sim *s)
{
	int rc;

	atomic_store(&s->stop, false);
	atomic_store(&s->go, false);
	rc = pthread_create(&s->thread, NULL, clock_main, s);
	if (rc != 0) {
		tnd_error("cannot start the clock thread: %s", strerror(rc));
		return -rc;
	}
	s->drv.worker = s->thread;
	s->drv.worker_running = true;
	atomic_store(&s->go, true);
	return 0;
}

void sim_clock_stop(struct sim *s)
{
	if (!s->drv.worker_running)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	s->drv.worker_running = false;
}
