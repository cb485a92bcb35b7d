// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_worker.c - media worker threads, one per core by default, each
 * pinned to its core and owning a set of channels:
 *  - a timerfd on CLOCK_MONOTONIC fires every 20 ms at absolute
 *    deadlines; each expiry is one frame of every clocked RTP channel and
 *    the housekeeping of all (missed expiries are caught up, counted);
 *  - an eventfd wakes it for new channels and for TDM blocks, which clock
 *    the channels bound to a span;
 *  - the sockets of relay channels are in its epoll set.
 * Every frame's processing time goes into a histogram; a frame that ends
 * after its due time plus 20 ms is late: counted per channel and worker,
 * logged once a second with the worst case.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "media_int.h"

#define TAG_TIMER	1u
#define TAG_EVENT	2u
#define MAX_EVENTS	64
#define MAX_CATCH_UP	50	/* ticks caught up at once (1 s) */
#define SECOND_NS	1000000000LL

/* ---- frame accounting ---------------------------------------------------- */

static unsigned bucket_of(int64_t ns)
{
	int64_t us = ns / 1000;

	if (us < 0)
		us = 0;
	if (us < 1024)
		return (unsigned)us;
	us = 1024 + (us - 1024) / 32;
	return us >= MEDIA_HIST_BUCKETS ? MEDIA_HIST_BUCKETS - 1 : (unsigned)us;
}

static unsigned bucket_us(unsigned b)
{
	return b < 1024 ? b : 1024 + (b - 1024) * 32;
}

void media_worker_account(struct media_worker *w, struct media_chan *ch,
			  int64_t start_ns, int64_t end_ns, int64_t due_ns)
{
	int64_t late = end_ns - (due_ns + MEDIA_TICK_NS);

	atomic_uint *h = &w->hist[bucket_of(end_ns - start_ns)];

	atomic_store_explicit(h, atomic_load_explicit(h, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	media_count(&w->frames, 1);
	if (late <= 0)
		return;
	media_count(&w->late_frames, 1);
	ch->leg[0].st.late_frames++;
	ch->leg[1].st.late_frames++;
	w->late_since_log++;
	if (late > w->worst_late_ns) {
		w->worst_late_ns = late;
		w->worst_chan = ch->id;
	}
}

unsigned media_worker_percentile_us(struct media_worker *w, double q)
{
	uint64_t total = 0, seen = 0, want;
	unsigned b;

	for (b = 0; b < MEDIA_HIST_BUCKETS; b++)
		total += atomic_load_explicit(&w->hist[b],
					      memory_order_relaxed);
	if (!total)
		return 0;
	want = (uint64_t)(q * (double)total);
	for (b = 0; b < MEDIA_HIST_BUCKETS; b++) {
		seen += atomic_load_explicit(&w->hist[b], memory_order_relaxed);
		if (seen > want)
			return bucket_us(b) + 1;
	}
	return bucket_us(MEDIA_HIST_BUCKETS - 1);
}

/* The host's counters are shared by the workers: add to them once a
 * second, not per packet. */
static void push_counters(struct media_worker *w)
{
	atomic_ullong *mine[4] = { &w->frames, &w->late_frames, &w->rtp_rx,
				   &w->rtp_tx };
	struct tnd_counter *host[4] = { mp.c_frames, mp.c_late, mp.c_rtp_rx,
					mp.c_rtp_tx };
	unsigned i;

	for (i = 0; i < 4; i++) {
		uint64_t now = atomic_load_explicit(mine[i],
						    memory_order_relaxed);

		mp.host->counter_add(host[i], now - w->pushed[i]);
		w->pushed[i] = now;
	}
}

static void log_once_a_second(struct media_worker *w, int64_t now)
{
	int64_t span = now - w->late_log_ns;

	if (span < SECOND_NS)
		return;
	push_counters(w);
	if (w->late_since_log)
		tnd_notice("worker %u: %llu late frames in the last %.1f s, "
			   "worst %.1f ms past its deadline (channel %u)",
			   w->index, (unsigned long long)w->late_since_log,
			   span / 1e9, w->worst_late_ns / 1e6, w->worst_chan);
	w->late_since_log = 0;
	w->worst_late_ns = 0;
	w->late_log_ns = now;
	atomic_store(&w->load_permille,
		     (unsigned)(w->load_busy_ns * 1000 / (uint64_t)span));
	w->load_busy_ns = 0;
}

/* ---- channels on the worker ---------------------------------------------- */

static int watch_fd(struct media_worker *w, int fd, uint64_t tag, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	if (fd < 0)
		return 0;
	if (epoll_ctl(w->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, &ev) < 0)
		return -errno;
	return 0;
}

static void watch_legs(struct media_worker *w, struct media_chan *ch,
		       bool rtcp, bool on)
{
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct media_leg *leg = &ch->leg[i];

		if (leg->cfg.type != MEDIA_LEG_RTP)
			continue;
		if (rtcp)
			watch_fd(w, leg->fd_rtcp, (uintptr_t)leg | 1, on);
		else
			watch_fd(w, leg->fd_rtp, (uintptr_t)leg, on);
	}
}

void media_worker_watch_rtp(struct media_worker *w, struct media_chan *ch,
			    bool on)
{
	if (ch->rtp_watched == on)
		return;
	watch_legs(w, ch, false, on);
	ch->rtp_watched = on;
}

static void watch_rtcp(struct media_worker *w, struct media_chan *ch, bool on)
{
	if (ch->rtcp_watched == on)
		return;
	watch_legs(w, ch, true, on);
	ch->rtcp_watched = on;
}

/* Append `ch` to a list of channels (a mailbox: adds, pokes). */
static int list_push(struct media_chanset *list, struct media_chan *ch)
{
	if (list->n == list->cap) {
		unsigned cap = list->cap ? 2 * list->cap : 64;
		struct media_chan **p = realloc(list->chans, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		list->chans = p;
		list->cap = cap;
	}
	list->chans[list->n++] = ch;
	return 0;
}

/* A set of channels owned by the worker; a channel knows its slot (in
 * this set only: a mailbox list must not touch worker_slot, or a stop
 * would remove another channel from the set). */
static int set_add(struct media_chanset *set, struct media_chan *ch)
{
	if (list_push(set, ch) < 0)
		return -ENOMEM;
	ch->worker_slot = set->n - 1;
	return 0;
}

static void set_remove(struct media_chanset *set, struct media_chan *ch)
{
	unsigned slot = ch->worker_slot;

	set->chans[slot] = set->chans[--set->n];
	set->chans[slot]->worker_slot = slot;
}

/* TDM-clocked channels run on their blocks; the others on the timer. */
static struct media_chanset *set_of(struct media_worker *w,
				    struct media_chan *ch)
{
	return ch->tdm_clocked ? &w->tdm : &w->timed;
}

static void count_channels(struct media_worker *w)
{
	atomic_store(&w->nchannels, w->timed.n + w->tdm.n);
}

static void take(struct media_worker *w, struct media_chan *ch)
{
	if (set_add(set_of(w, ch), ch) < 0) {
		tnd_error("worker %u: out of memory, channel %u stopped",
			  w->index, ch->id);
		mp.host->call_on_loop(media_chan_stopped_on_loop,
				      (void *)(uintptr_t)ch->id);
		return;
	}
	ch->started_ns = media_now_ns();
	watch_rtcp(w, ch, true);
	if (ch->mode == MODE_RELAY && !ch->tdm_clocked)
		media_worker_watch_rtp(w, ch, true);
	count_channels(w);
}

static void release(struct media_worker *w, struct media_chan *ch)
{
	media_worker_watch_rtp(w, ch, false);
	watch_rtcp(w, ch, false);
	set_remove(set_of(w, ch), ch);
	count_channels(w);
	/* the loop may free it from now on: touch nothing after this */
	mp.host->call_on_loop(media_chan_stopped_on_loop,
			      (void *)(uintptr_t)ch->id);
}

/* Take up to `max` entries off a mailbox list, under the worker's lock. */
static unsigned take_list(struct media_worker *w, struct media_chanset *list,
			  struct media_chan **out, unsigned max)
{
	unsigned n;

	pthread_mutex_lock(&w->lock);
	n = list->n < max ? list->n : max;
	if (n) {
		memcpy(out, list->chans, n * sizeof(out[0]));
		memmove(list->chans, list->chans + n,
			(list->n - n) * sizeof(out[0]));
		list->n -= n;
	}
	pthread_mutex_unlock(&w->lock);
	return n;
}

static void take_adds(struct media_worker *w)
{
	struct media_chan *batch[64];
	unsigned n, i;

	while ((n = take_list(w, &w->adds, batch, 64)) > 0)
		for (i = 0; i < n; i++)
			take(w, batch[i]);
}

/*
 * New channels, then what the loop posted to channels (updates, digits,
 * the canceller, stop). A channel is posted to only after it was added:
 * taking the adds after a batch of pokes has them all on the worker.
 */
static void take_mailbox(struct media_worker *w)
{
	struct media_chan *batch[64];
	unsigned n, i;

	take_adds(w);
	while ((n = take_list(w, &w->pokes, batch, 64)) > 0) {
		take_adds(w);
		for (i = 0; i < n; i++) {
			atomic_store(&batch[i]->poked, false);
			if (media_chan_poked(batch[i]))
				release(w, batch[i]);
		}
	}
}

static void post(struct media_worker *w, struct media_chanset *list,
		 struct media_chan *ch)
{
	pthread_mutex_lock(&w->lock);
	if (list_push(list, ch) < 0) {
		pthread_mutex_unlock(&w->lock);
		tnd_error("worker %u: out of memory posting to channel %u",
			  w->index, ch->id);
		return;
	}
	pthread_mutex_unlock(&w->lock);
	media_worker_wake(w);
}

void media_worker_add(struct media_chan *ch)
{
	post(ch->worker, &ch->worker->adds, ch);
}

void media_worker_poke(struct media_chan *ch)
{
	if (!atomic_exchange(&ch->poked, true))
		post(ch->worker, &ch->worker->pokes, ch);
}

void media_worker_wake(struct media_worker *w)
{
	uint64_t one = 1;

	/* one wake-up for a burst of blocks (a span delivers them together) */
	if (atomic_exchange(&w->wake_pending, true))
		return;
	if (write(w->eventfd, &one, sizeof(one)) < 0)
		atomic_store(&w->wake_pending, false);
}

/* ---- ticks ----------------------------------------------------------------- */

static struct media_leg *clock_leg(struct media_chan *ch)
{
	return ch->leg[0].cfg.type == MEDIA_LEG_TDM ? &ch->leg[0] : &ch->leg[1];
}

/* TDM-clocked channels: one frame per block that arrived. */
static void run_tdm(struct media_worker *w)
{
	unsigned i, k;

	for (i = 0; i < w->tdm.n; i++) {
		struct media_chan *ch = w->tdm.chans[i];
		struct media_leg *leg = clock_leg(ch);

		for (k = 0; k < MEDIA_TDM_RING && media_leg_tdm_ready(leg);
		     k++) {
			unsigned tail = atomic_load(&leg->ring_tail);
			int64_t due = leg->ring[tail % MEDIA_TDM_RING].arrival_ns;

			media_chan_frame(ch, media_now_ns(), due);
		}
	}
}

/* One timer tick: a frame of each clocked RTP channel, the relay
 * channels' housekeeping. */
static void tick(struct media_worker *w, int64_t due)
{
	unsigned i;

	media_count(&w->ticks, 1);
	for (i = 0; i < w->timed.n; i++) {
		struct media_chan *ch = w->timed.chans[i];

		if (ch->mode == MODE_CLOCKED)
			media_chan_frame(ch, media_now_ns(), due);
		else
			media_chan_relay_tick(ch, media_now_ns());
	}
}

static void on_timer(struct media_worker *w)
{
	uint64_t expiries = 0, n;

	if (read(w->timerfd, &expiries, sizeof(expiries)) != sizeof(expiries))
		return;
	if (expiries > 1)
		media_count(&w->missed_ticks, expiries - 1);
	if (expiries > MAX_CATCH_UP) {
		tnd_notice("worker %u: %llu ticks behind, skipping %llu of "
			   "them", w->index, (unsigned long long)expiries,
			   (unsigned long long)(expiries - MAX_CATCH_UP));
		w->deadline_ns += (int64_t)(expiries - MAX_CATCH_UP) *
				  MEDIA_TICK_NS;
		expiries = MAX_CATCH_UP;
	}
	for (n = 0; n < expiries; n++) {
		tick(w, w->deadline_ns);
		w->deadline_ns += MEDIA_TICK_NS;
	}
	log_once_a_second(w, media_now_ns());
}

static void on_event(struct media_worker *w)
{
	uint64_t v;

	if (read(w->eventfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	atomic_store(&w->wake_pending, false);
	media_count(&w->wakeups, 1);
	take_mailbox(w);
	run_tdm(w);
}

static void on_socket(uint64_t tag)
{
	struct media_leg *leg = (struct media_leg *)(uintptr_t)(tag & ~1ull);
	bool rtcp = tag & 1;

	if (!rtcp && leg->ch->mode != MODE_RELAY)
		return;
	media_chan_socket_input(leg->ch, leg->index, rtcp);
}

static void *worker_main(void *arg)
{
	struct media_worker *w = arg;
	struct epoll_event evs[MAX_EVENTS];
	int n, i;

	while (!atomic_load(&w->quit)) {
		int64_t t0;

		n = epoll_wait(w->epfd, evs, MAX_EVENTS, -1);
		t0 = media_now_ns();
		/* sockets first: channels stop only in the pass after */
		for (i = 0; i < n; i++)
			if (evs[i].data.u64 > TAG_EVENT)
				on_socket(evs[i].data.u64);
		for (i = 0; i < n; i++) {
			if (evs[i].data.u64 == TAG_EVENT)
				on_event(w);
			else if (evs[i].data.u64 == TAG_TIMER)
				on_timer(w);
		}
		w->load_busy_ns += (uint64_t)(media_now_ns() - t0);
	}
	return NULL;
}

/* ---- start and stop ---------------------------------------------------------- */

static unsigned count_cpus(cpu_set_t *set)
{
	int n;

	if (sched_getaffinity(0, sizeof(*set), set) < 0)
		return 1;
	n = CPU_COUNT(set);
	return n > 0 ? (unsigned)n : 1;
}

/* The idx-th CPU this process may run on. */
static int nth_cpu(const cpu_set_t *set, unsigned idx)
{
	unsigned seen = 0;
	int cpu;

	for (cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, set) && seen++ == idx)
			return cpu;
	return -1;
}

static int start_timer(struct media_worker *w)
{
	int64_t now = media_now_ns();
	int64_t first = (now / MEDIA_TICK_NS + 1) * MEDIA_TICK_NS;
	struct itimerspec its = {
		.it_interval = { 0, MEDIA_TICK_NS },
		.it_value = { first / SECOND_NS, first % SECOND_NS },
	};

	w->deadline_ns = first;
	w->late_log_ns = now;
	return timerfd_settime(w->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static int worker_open(struct media_worker *w, unsigned index)
{
	w->index = index;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->timerfd = timerfd_create(CLOCK_MONOTONIC,
				    TFD_NONBLOCK | TFD_CLOEXEC);
	w->eventfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->rx_buf = malloc((size_t)MEDIA_RX_BATCH * MEDIA_PKT_ROOM);
	pthread_mutex_init(&w->lock, NULL);
	if (w->epfd < 0 || w->timerfd < 0 || w->eventfd < 0 || !w->rx_buf)
		return -ENOMEM;
	if (watch_fd(w, w->timerfd, TAG_TIMER, true) < 0 ||
	    watch_fd(w, w->eventfd, TAG_EVENT, true) < 0)
		return -errno;
	return start_timer(w) < 0 ? -errno : 0;
}

/* "media-w0": what top -H and perf show */
static void name_thread(struct media_worker *w)
{
	char name[16];

	snprintf(name, sizeof(name), "media-w%u", w->index);
	pthread_setname_np(w->thread, name);
}

static void pin(struct media_worker *w, const cpu_set_t *allowed)
{
	int cpu = nth_cpu(allowed, w->index % (unsigned)CPU_COUNT(allowed));
	cpu_set_t one;

	if (cpu < 0)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (pthread_setaffinity_np(w->thread, sizeof(one), &one) == 0)
		tnd_debug("worker %u pinned to CPU %d", w->index, cpu);
}

int media_workers_start(void)
{
	cpu_set_t allowed;
	unsigned ncpu = count_cpus(&allowed), i;
	int rc;

	mp.nworkers = mp.cfg->workers ? (unsigned)mp.cfg->workers : ncpu;
	mp.workers = calloc(mp.nworkers, sizeof(*mp.workers));
	if (!mp.workers)
		return -ENOMEM;
	for (i = 0; i < mp.nworkers; i++) {
		struct media_worker *w = &mp.workers[i];

		w->epfd = w->timerfd = w->eventfd = -1;
		rc = worker_open(w, i);
		if (rc == 0)
			rc = -pthread_create(&w->thread, NULL, worker_main, w);
		if (rc < 0) {
			tnd_error("cannot start media worker %u: %s", i,
				  strerror(-rc));
			return rc;
		}
		w->thread_started = true;
		name_thread(w);
		if (mp.cfg->pin_workers)
			pin(w, &allowed);
	}
	tnd_info("%u media workers, 20 ms ticks on CLOCK_MONOTONIC",
		 mp.nworkers);
	return 0;
}

static void worker_close(struct media_worker *w)
{
	if (w->thread_started) {
		atomic_store(&w->quit, true);
		atomic_store(&w->wake_pending, false);
		media_worker_wake(w);
		pthread_join(w->thread, NULL);
		w->thread_started = false;
	}
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->timerfd >= 0)
		close(w->timerfd);
	if (w->eventfd >= 0)
		close(w->eventfd);
	pthread_mutex_destroy(&w->lock);
	free(w->rx_buf);
	free(w->adds.chans);
	free(w->pokes.chans);
	free(w->timed.chans);
	free(w->tdm.chans);
}

void media_workers_stop(void)
{
	unsigned i;

	for (i = 0; i < mp.nworkers; i++)
		worker_close(&mp.workers[i]);
	free(mp.workers);
	mp.workers = NULL;
	mp.nworkers = 0;
}
