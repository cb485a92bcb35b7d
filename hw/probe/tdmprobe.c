/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tdmprobe: a test plugin that uses the "tdm" service the way the MGW and
 * the PRI plugin will, and reports what it saw. It opens every bearer
 * channel and the D-channel of the spans it is told to, sends a counting
 * pattern on each bearer and numbered frames on each D-channel, checks
 * what comes back from the far end (order, blocking, content), follows
 * alarm and channel-state events, and measures the span clock against a
 * plain monotonic timer (the span-clock benchmark).
 *
 * Not installed: `make check` builds it for the integration tests.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libpri.h>

#include "tandem/plugin.h"
#include "tandem/tdm.h"

/* libpri has no call that frees a struct pri: under LeakSanitizer, say
 * that the ones we drop are meant to stay. */
#if defined(__SANITIZE_ADDRESS__) && defined(__has_include)
#if __has_include(<sanitizer/lsan_interface.h>)
#include <sanitizer/lsan_interface.h>
#define KEEP_FOREVER(p) __lsan_ignore_object(p)
#endif
#endif
#ifndef KEEP_FOREVER
#define KEEP_FOREVER(p) ((void)(p))
#endif

#define TND_LOG_HOST host
#define TND_LOG_CATEGORY "tdmprobe"

TND_PLUGIN_DECLARE(tdmprobe);
#define SELF (&TND_PLUGIN_SYMBOL(tdmprobe))

#define MAX_SPANS 8
#define TIMESLOTS 32
#define PASS_BLOCKS (TDM_SAMPLE_RATE / TDM_BLOCK_SAMPLES) /* 1 s */
#define PROBE_LEAD_BLOCKS 4

struct probe_bchan {
	struct probe_span *ps;
	unsigned ts;
	struct tdm_bchan *ch;
	/* worker thread only */
	uint8_t tx_next;
	bool synced;
	bool primed;
	uint8_t rx_last;
	int have_last;
	uint64_t last_samples;
};

/* libpri's Q.921 on the D-channel descriptor, as the PRI plugin will. */
struct probe_pri {
	struct pri *pri;
	struct tnd_io *io;
	struct tnd_timer *timer;
	bool up;
	uint64_t ups, downs;
};

struct probe_span {
	unsigned no;
	bool used;
	struct probe_bchan b[TIMESLOTS];
	struct tdm_dchan *dchan;
	int dchan_fd;
	struct tnd_io *fd_io;
	uint32_t tx_seq;
	uint16_t rx_expect;
	/* written by the worker, read by the loop */
	atomic_uint_fast64_t blocks, blocking_ok, blocking_off, synced,
		seq_errors, samples_ok;
	/* loop */
	uint64_t frames_sent, frames_ok, frames_bad, frames_missing,
		send_errors, dchan_errors;
	uint64_t alarm_events, state_events;
	unsigned alarms;
	enum tdm_chan_state state[TIMESLOTS];
	enum tdm_chan_kind kind[TIMESLOTS];
	struct probe_pri q;
};

static const struct tnd_host_api *host;
static const struct tdm_service *tdm;
static struct probe_span spans[MAX_SPANS];
static bool watching;
static uint64_t clock_events;

/* ---- Clock measurement (span clock vs a plain monotonic timer) ----------- */

struct pass_stats {
	uint64_t passes;
	double worst, sum, best; /* accuracy in percent */
	double first_t, last_t;	 /* first and last pass boundary, s */
};

static struct tdm_ticker *ticker;
static pthread_mutex_t clock_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pass_stats span_clock, anchor_clock;
static struct timespec pass_start;
static unsigned pass_blocks;
static pthread_t anchor_thread;
static atomic_bool anchor_stop;
static bool anchor_running;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* As dahdi_test counts it: 100 % minus the relative error of the time a
 * second's worth of samples took. */
static void add_pass(struct pass_stats *p, double seconds, double now)
{
	double err = seconds > 1.0 ? seconds - 1.0 : 1.0 - seconds;
	double acc = 100.0 - err * 100.0;

	pthread_mutex_lock(&clock_lock);
	if (!p->passes)
		p->first_t = now - seconds;
	p->last_t = now;
	if (!p->passes || acc < p->worst)
		p->worst = acc;
	if (!p->passes || acc > p->best)
		p->best = acc;
	p->sum += acc;
	p->passes++;
	pthread_mutex_unlock(&clock_lock);
}

static void on_tick(uint64_t samples, void *arg)
{
	static double start;

	(void)samples, (void)arg;
	if (pass_blocks == 0)
		start = now_s();
	if (++pass_blocks > PASS_BLOCKS) {
		double t = now_s();

		add_pass(&span_clock, t - start, t);
		start = t;
		pass_blocks = 1;
	}
}

/* The anchor: what a user-space 1 ms timer with absolute deadlines
 * achieves on this machine, measured the same way. */
static void *anchor_main(void *arg)
{
	struct timespec next;
	double start = now_s();
	unsigned ms = 0;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&anchor_stop)) {
		next.tv_nsec += 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		if (++ms == 1000) {
			double t = now_s();

			add_pass(&anchor_clock, t - start, t);
			start = t;
			ms = 0;
		}
	}
	return NULL;
}

static void clock_stop(void)
{
	if (ticker)
		tdm->ticker_close(ticker);
	ticker = NULL;
	if (anchor_running) {
		atomic_store(&anchor_stop, true);
		pthread_join(anchor_thread, NULL);
	}
	anchor_running = false;
}

static int clock_start(void)
{
	int rc;

	clock_stop();
	memset(&span_clock, 0, sizeof(span_clock));
	memset(&anchor_clock, 0, sizeof(anchor_clock));
	pass_blocks = 0;
	clock_gettime(CLOCK_MONOTONIC, &pass_start);
	rc = tdm->ticker_open(on_tick, NULL, &ticker);
	if (rc < 0)
		return rc;
	atomic_store(&anchor_stop, false);
	rc = pthread_create(&anchor_thread, NULL, anchor_main, NULL);
	anchor_running = rc == 0;
	return -rc;
}

/* ---- Bearer channels (media worker) -------------------------------------- */

static void check_block(struct probe_bchan *b, const uint8_t *block)
{
	struct probe_span *ps = b->ps;
	uint64_t ok = 0, errors = 0;

	for (int i = 0; i < TDM_BLOCK_SAMPLES; i++) {
		uint8_t s = block[i];

		if (b->synced) {
			if (s == (uint8_t)(b->rx_last + 1))
				ok++;
			else
				errors++; /* then follow the new value */
		} else if (b->have_last && s == (uint8_t)(b->rx_last + 1) &&
			   s != (uint8_t)(b->rx_last)) {
			b->synced = true; /* two in a row: the far counter */
			atomic_fetch_add(&ps->synced, 1);
		}
		b->rx_last = s;
		b->have_last = 1;
	}
	atomic_fetch_add(&ps->samples_ok, ok);
	atomic_fetch_add(&ps->seq_errors, errors);
}

static void write_block(struct probe_bchan *b)
{
	uint8_t block[TDM_BLOCK_SAMPLES];

	for (int i = 0; i < TDM_BLOCK_SAMPLES; i++)
		block[i] = b->tx_next++;
	tdm->bchan_write(b->ch, block, sizeof(block));
}

static void on_block(struct tdm_bchan *ch, const uint8_t *block, void *arg)
{
	struct probe_bchan *b = arg;
	struct probe_span *ps = b->ps;
	uint64_t now = tdm->clock_samples();

	(void)ch;
	atomic_fetch_add(&ps->blocks, 1);
	if (b->last_samples) {
		if (now - b->last_samples == TDM_BLOCK_SAMPLES)
			atomic_fetch_add(&ps->blocking_ok, 1);
		else
			atomic_fetch_add(&ps->blocking_off, 1);
	}
	b->last_samples = now;
	check_block(b, block);
	if (!b->primed) { /* blocks ahead absorb the worker's jitter */
		for (int i = 0; i < PROBE_LEAD_BLOCKS; i++)
			write_block(b);
		b->primed = true;
	}
	write_block(b);
}

/* ---- The D-channel (loop) ------------------------------------------------ */

/* Frame n: two octets of n, then 1 + n % 250 octets of n + i. */
static size_t make_frame(uint16_t n, uint8_t *buf)
{
	size_t len = 3 + n % 250;

	buf[0] = (uint8_t)(n >> 8);
	buf[1] = (uint8_t)n;
	for (size_t i = 2; i < len; i++)
		buf[i] = (uint8_t)(n + i);
	return len;
}

static void check_frame(struct probe_span *ps, const uint8_t *f, size_t len)
{
	uint8_t want[TDM_DCHAN_MAX_FRAME];
	uint16_t n, gap;

	if (len < 3) {
		ps->frames_bad++;
		return;
	}
	n = (uint16_t)(f[0] << 8 | f[1]);
	if (make_frame(n, want) != len || memcmp(want, f, len) != 0) {
		ps->frames_bad++;
		return;
	}
	/* Forward gaps are lost frames; going back is a sender that
	 * started over. */
	gap = (uint16_t)(n - ps->rx_expect);
	if (gap < 0x8000)
		ps->frames_missing += gap;
	ps->rx_expect = (uint16_t)(n + 1);
	ps->frames_ok++;
}

static void on_frame(struct tdm_dchan *d, const uint8_t *frame, size_t len,
		     void *arg)
{
	(void)d;
	check_frame(arg, frame, len);
}

/* The descriptor form: read frames with their FCS, as libpri would. */
static void on_fd(struct tnd_io *io, int fd, int events, void *arg)
{
	struct probe_span *ps = arg;
	uint8_t buf[TDM_DCHAN_MAX_FRAME + TDM_FCS_LEN];

	(void)io;
	if (events < 0)
		return;
	for (int i = 0; i < 64; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		if (n <= TDM_FCS_LEN)
			ps->frames_bad++;
		else
			check_frame(ps, buf, (size_t)n - TDM_FCS_LEN);
	}
}

static int send_frames(struct probe_span *ps, unsigned count)
{
	uint8_t buf[TDM_DCHAN_MAX_FRAME + TDM_FCS_LEN];

	for (unsigned i = 0; i < count; i++) {
		size_t len = make_frame((uint16_t)ps->tx_seq, buf);
		int rc;

		buf[len] = buf[len + 1] = 0; /* room for the FCS */

		if (ps->dchan_fd >= 0)
			rc = write(ps->dchan_fd, buf, len + TDM_FCS_LEN) ==
					     (ssize_t)(len + TDM_FCS_LEN)
				     ? 0
				     : -errno;
		else
			rc = tdm->dchan_send(ps->dchan, buf, len);
		if (rc < 0) {
			ps->send_errors++;
			return rc;
		}
		ps->tx_seq++;
		ps->frames_sent++;
	}
	return 0;
}

/* ---- libpri on the descriptor (loop) ------------------------------------- */

static void pri_say(struct pri *pri, char *msg)
{
	size_t n = strlen(msg);

	(void)pri;
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	tnd_debug("libpri: %s", msg);
}

static void pri_seen(struct probe_pri *q, const pri_event *e)
{
	if (!e)
		return;
	if (e->e == PRI_EVENT_DCHAN_UP) {
		q->up = true;
		q->ups++;
	} else if (e->e == PRI_EVENT_DCHAN_DOWN) {
		q->up = false;
		q->downs++;
	}
}

/* libpri says when it next needs to run (its Q.921/Q.931 timers). */
static void pri_rearm(struct probe_pri *q)
{
	struct timeval *next = pri_schedule_next(q->pri), now;
	long long ms;

	if (!next) {
		host->timer_stop(q->timer);
		return;
	}
	gettimeofday(&now, NULL);
	ms = (long long)(next->tv_sec - now.tv_sec) * 1000 +
	     (next->tv_usec - now.tv_usec) / 1000;
	host->timer_start(q->timer, ms > 0 ? (uint64_t)ms : 0, 0);
}

static void on_pri_fd(struct tnd_io *io, int fd, int events, void *arg)
{
	struct probe_pri *q = arg;

	(void)io, (void)fd;
	if (events < 0)
		return;
	pri_seen(q, pri_check_event(q->pri));
	pri_rearm(q);
}

static void on_pri_timer(struct tnd_timer *t, void *arg)
{
	struct probe_pri *q = arg;

	(void)t;
	pri_seen(q, pri_schedule_run(q->pri));
	pri_rearm(q);
}

static void pri_stop(struct probe_pri *q)
{
	host->io_free(q->io);
	host->timer_free(q->timer);
	if (q->pri)
		KEEP_FOREVER(q->pri);
	memset(q, 0, sizeof(*q));
}

/* The D-channel as a descriptor, straight into pri_new(). */
static int pri_start(struct probe_span *ps, int nodetype)
{
	struct probe_pri *q = &ps->q;
	int fd;

	pri_stop(q);
	if (ps->fd_io)
		host->io_free(ps->fd_io);
	ps->fd_io = NULL;
	if (ps->dchan)
		tdm->dchan_close(ps->dchan);
	ps->dchan = NULL;
	if (tdm->dchan_open(ps->no, NULL, NULL, &ps->dchan) < 0)
		return -EINVAL;
	fd = tdm->dchan_fd(ps->dchan);
	if (fd < 0)
		return fd;
	ps->dchan_fd = fd;
	q->pri = pri_new(fd, nodetype, PRI_SWITCH_EUROISDN_E1);
	if (!q->pri)
		return -ENOMEM;
	q->io = host->io_new(SELF, fd, on_pri_fd, q);
	q->timer = host->timer_new(SELF, on_pri_timer, q);
	if (!q->io || !q->timer)
		return -ENOMEM;
	pri_rearm(q);
	return host->io_start(q->io, TND_IO_READ);
}

/* ---- Events (loop) ------------------------------------------------------- */

static struct probe_span *find(unsigned no)
{
	for (int i = 0; i < MAX_SPANS; i++)
		if (spans[i].used && spans[i].no == no)
			return &spans[i];
	return NULL;
}

static void on_event(const struct tdm_event *ev, void *arg)
{
	struct probe_span *ps = find(ev->span);

	(void)arg;
	if (ev->type == TDM_EVENT_CLOCK)
		clock_events++;
	if (!ps)
		return;
	switch (ev->type) {
	case TDM_EVENT_ALARM:
		ps->alarm_events++;
		ps->alarms = ev->alarms;
		break;
	case TDM_EVENT_CHAN_STATE:
		ps->state_events++;
		if (ev->ts < TIMESLOTS)
			ps->state[ev->ts] = ev->state;
		break;
	case TDM_EVENT_DCHAN_ERROR:
		ps->dchan_errors++;
		break;
	default:
		break;
	}
}

/* ---- Opening and closing a span ------------------------------------------ */

static void close_span(struct probe_span *ps)
{
	pri_stop(&ps->q);
	for (unsigned ts = 0; ts < TIMESLOTS; ts++)
		if (ps->b[ts].ch)
			tdm->bchan_close(ps->b[ts].ch);
	if (ps->fd_io)
		host->io_free(ps->fd_io);
	if (ps->dchan)
		tdm->dchan_close(ps->dchan);
	memset(ps, 0, sizeof(*ps));
}

static int open_bchans(struct probe_span *ps)
{
	for (unsigned ts = 1; ts < TIMESLOTS; ts++) {
		struct probe_bchan *b = &ps->b[ts];
		enum tdm_chan_kind kind;
		int rc;

		if (tdm->chan_info(ps->no, ts, &kind, &ps->state[ts]) < 0)
			break;
		ps->kind[ts] = kind;
		if (kind != TDM_CHAN_BEARER)
			continue;
		b->ps = ps;
		b->ts = ts;
		b->tx_next = (uint8_t)(ts * 8);
		rc = tdm->bchan_open(ps->no, ts, on_block, b, &b->ch);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int open_dchan(struct probe_span *ps, bool use_fd)
{
	struct tdm_span_info info = { .size = sizeof(info) };
	int rc = tdm->span_info(ps->no, &info);

	ps->dchan_fd = -1;
	if (rc < 0 || !info.dchan)
		return rc;
	ps->alarms = info.alarms;
	rc = tdm->dchan_open(ps->no, on_frame, ps, &ps->dchan);
	if (rc < 0 || !use_fd)
		return rc;
	ps->dchan_fd = tdm->dchan_fd(ps->dchan);
	if (ps->dchan_fd < 0)
		return ps->dchan_fd;
	ps->fd_io = host->io_new(SELF, ps->dchan_fd, on_fd, ps);
	return ps->fd_io ? host->io_start(ps->fd_io, TND_IO_READ) : -ENOMEM;
}

static int open_span(unsigned no, bool use_fd)
{
	struct probe_span *ps = find(no);
	int rc;

	if (ps)
		close_span(ps);
	for (int i = 0; !ps && i < MAX_SPANS; i++)
		if (!spans[i].used)
			ps = &spans[i];
	if (!ps)
		return -ENOSPC;
	ps->used = true;
	ps->no = no;
	rc = open_bchans(ps);
	if (rc == 0)
		rc = open_dchan(ps, use_fd);
	if (rc < 0)
		close_span(ps);
	return rc;
}

/* ---- Control commands ---------------------------------------------------- */

static int parse_span(struct tnd_reply *r, const char *text, unsigned *no)
{
	char *end;
	unsigned long n = strtoul(text, &end, 10);
	struct tdm_span_info info = { .size = sizeof(info) };

	if (end == text || *end || tdm->span_info((unsigned)n, &info) < 0)
		return host->reply_error(r, "no span '%s'", text);
	*no = (unsigned)n;
	return 0;
}

static int cmd_start(struct tnd_reply *r, int argc, char **argv)
{
	bool use_fd = argc > 0 && strcmp(argv[0], "fd") == 0;

	if (use_fd)
		argc--, argv++;
	if (argc < 1)
		return host->reply_error(r, "usage: tdmprobe start [fd] "
					 "SPAN...");
	if (!watching && tdm->watch(on_event, NULL) == 0)
		watching = true;
	for (int i = 0; i < argc; i++) {
		unsigned no;
		int rc;

		if (parse_span(r, argv[i], &no) < 0)
			return -EINVAL;
		rc = open_span(no, use_fd);
		if (rc < 0)
			return host->reply_error(r, "span %u: %s", no,
						 strerror(-rc));
		host->reply_record(r);
		host->reply_field_num(r, "span", no);
		host->reply_field(r, "dchan", "%s", use_fd ? "fd" : "callback");
	}
	return 0;
}

static int cmd_send(struct tnd_reply *r, int argc, char **argv)
{
	struct probe_span *ps;
	unsigned no;
	long count;
	int rc;

	if (argc != 2 || (count = strtol(argv[1], NULL, 10)) < 1 ||
	    count > 100000)
		return host->reply_error(r, "usage: tdmprobe send SPAN COUNT");
	if (parse_span(r, argv[0], &no) < 0)
		return -EINVAL;
	ps = find(no);
	if (!ps || (!ps->dchan && ps->dchan_fd < 0))
		return host->reply_error(r, "span %u: not started or no "
					 "D-channel", no);
	rc = send_frames(ps, (unsigned)count);
	host->reply_field_num(r, "span", no);
	host->reply_field_num(r, "sent", (long long)ps->frames_sent);
	if (rc < 0)
		host->reply_field(r, "error", "%s", strerror(-rc));
	return 0;
}

static unsigned count_state(const struct probe_span *ps,
			    enum tdm_chan_state st)
{
	unsigned n = 0;

	for (unsigned ts = 1; ts < TIMESLOTS; ts++)
		n += ps->kind[ts] != TDM_CHAN_UNUSED && ps->state[ts] == st;
	return n;
}

static int cmd_pri(struct tnd_reply *r, int argc, char **argv)
{
	struct probe_span *ps;
	unsigned no;
	int rc;

	if (argc != 2 || (strcmp(argv[1], "net") && strcmp(argv[1], "cpe")))
		return host->reply_error(r, "usage: tdmprobe pri SPAN net|cpe");
	if (parse_span(r, argv[0], &no) < 0)
		return -EINVAL;
	ps = find(no);
	if (!ps)
		return host->reply_error(r, "span %u: tdmprobe start it first",
					 no);
	rc = pri_start(ps, strcmp(argv[1], "net") == 0 ? PRI_NETWORK
						       : PRI_CPE);
	if (rc < 0)
		return host->reply_error(r, "span %u: %s", no, strerror(-rc));
	host->reply_field_num(r, "span", no);
	host->reply_field(r, "pri", "%s", argv[1]);
	return 0;
}

static void report_span(struct tnd_reply *r, struct probe_span *ps)
{
	char alarms[16];

	snprintf(alarms, sizeof(alarms), "0x%x", ps->alarms);
	host->reply_record(r);
	host->reply_field_num(r, "span", ps->no);
	host->reply_field_num(r, "blocks", (long long)atomic_load(&ps->blocks));
	host->reply_field_num(r, "blocking_ok",
			      (long long)atomic_load(&ps->blocking_ok));
	host->reply_field_num(r, "blocking_off",
			      (long long)atomic_load(&ps->blocking_off));
	host->reply_field_num(r, "synced", (long long)atomic_load(&ps->synced));
	host->reply_field_num(r, "samples_ok",
			      (long long)atomic_load(&ps->samples_ok));
	host->reply_field_num(r, "seq_errors",
			      (long long)atomic_load(&ps->seq_errors));
	host->reply_field_num(r, "frames_sent", (long long)ps->frames_sent);
	host->reply_field_num(r, "frames_ok", (long long)ps->frames_ok);
	host->reply_field_num(r, "frames_bad", (long long)ps->frames_bad);
	host->reply_field_num(r, "frames_missing",
			      (long long)ps->frames_missing);
	host->reply_field_num(r, "dchan_errors", (long long)ps->dchan_errors);
	host->reply_field(r, "alarms", "%s", alarms);
	host->reply_field_num(r, "alarm_events", (long long)ps->alarm_events);
	host->reply_field_num(r, "state_events", (long long)ps->state_events);
	host->reply_field_num(r, "in_service",
			      count_state(ps, TDM_CHAN_IN_SERVICE));
	host->reply_field_num(r, "out_of_service",
			      count_state(ps, TDM_CHAN_OUT_OF_SERVICE));
	host->reply_field_num(r, "maintenance",
			      count_state(ps, TDM_CHAN_MAINTENANCE));
	host->reply_field_num(r, "blocked", count_state(ps, TDM_CHAN_BLOCKED));
	host->reply_field(r, "pri", "%s", !ps->q.pri ? "-"
					  : ps->q.up ? "up"
						     : "down");
}

static int cmd_stats(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return host->reply_error(r, "usage: tdmprobe stats");
	for (int i = 0; i < MAX_SPANS; i++)
		if (spans[i].used)
			report_span(r, &spans[i]);
	host->reply_record(r);
	host->reply_field(r, "span", "clock");
	host->reply_field_num(r, "samples", (long long)tdm->clock_samples());
	host->reply_field_num(r, "clock_events", (long long)clock_events);
	return 0;
}

static void report_pass(struct tnd_reply *r, const char *name,
			const struct pass_stats *p)
{
	host->reply_record(r);
	host->reply_field(r, "clock", "%s", name);
	host->reply_field_num(r, "passes", (long long)p->passes);
	host->reply_field(r, "worst_pct", "%.4f", p->passes ? p->worst : 0);
	host->reply_field(r, "avg_pct", "%.4f",
			  p->passes ? p->sum / (double)p->passes : 0);
	host->reply_field(r, "best_pct", "%.4f", p->passes ? p->best : 0);
	/* Over the whole run: seconds of samples against seconds of time. */
	host->reply_field(r, "drift_ppm", "%.2f",
			  p->passes ? ((double)p->passes -
				       (p->last_t - p->first_t)) /
					      (p->last_t - p->first_t) * 1e6
				    : 0);
}

static int cmd_clock(struct tnd_reply *r, int argc, char **argv)
{
	struct pass_stats s, a;

	if (argc == 1 && strcmp(argv[0], "start") == 0) {
		int rc = clock_start();

		if (rc < 0)
			return host->reply_error(r, "%s", strerror(-rc));
		host->reply_field(r, "clock", "measuring");
		return 0;
	}
	if (argc != 0)
		return host->reply_error(r, "usage: tdmprobe clock [start]");
	pthread_mutex_lock(&clock_lock);
	s = span_clock;
	a = anchor_clock;
	pthread_mutex_unlock(&clock_lock);
	report_pass(r, "span", &s);
	report_pass(r, "monotonic", &a);
	return 0;
}

static void stop_all(void)
{
	clock_stop();
	for (int i = 0; i < MAX_SPANS; i++)
		if (spans[i].used)
			close_span(&spans[i]);
	if (watching)
		tdm->unwatch(on_event, NULL);
	watching = false;
}

static int cmd_stop(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	stop_all();
	host->reply_text(r, "stopped\n");
	return 0;
}

static const struct tnd_command probe_commands[] = {
	{ "tdmprobe start", "[fd] SPAN...", "open every channel of the spans "
	  "and start the patterns (fd: D-channel through dchan_fd)",
	  cmd_start },
	{ "tdmprobe send", "SPAN COUNT", "send COUNT numbered D-channel frames",
	  cmd_send },
	{ "tdmprobe pri", "SPAN net|cpe", "run libpri's Q.921 on the span's "
	  "D-channel descriptor (stats: pri up/down)", cmd_pri },
	{ "tdmprobe stats", NULL, "what the probe has seen", cmd_stats },
	{ "tdmprobe clock", "[start]", "span clock accuracy against a plain "
	  "monotonic timer (start: begin measuring)", cmd_clock },
	{ "tdmprobe stop", NULL, "close everything", cmd_stop },
	TND_COMMAND_END
};

/* ---- Lifecycle ----------------------------------------------------------- */

static int probe_init(const struct tnd_host_api *api, void *cfg)
{
	(void)cfg;
	host = api;
	pri_set_error(pri_say);
	pri_set_message(pri_say);
	tdm = host->service_get(TDM_SERVICE, TDM_SERVICE_VERSION);
	if (!tdm || tdm->size < sizeof(*tdm)) {
		tnd_error("no tdm service: load a span driver (sim, dahdi)");
		return -ENOENT;
	}
	return 0;
}

static int probe_stop(void)
{
	stop_all(); /* the driver stops after us */
	return 0;
}

static void probe_fini(void)
{
	stop_all();
}

static const struct tnd_service_ref probe_requires[] = {
	{ TDM_SERVICE, TDM_SERVICE_VERSION },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(tdmprobe) = {
	TND_PLUGIN_HEADER,
	.name = "tdmprobe",
	.version = "1.0",
	.description = "test user of the tdm service: patterns, frames, "
		       "events, clock",
	.requires = probe_requires,
	.commands = probe_commands,
	.init = probe_init,
	.stop = probe_stop,
	.fini = probe_fini,
};
