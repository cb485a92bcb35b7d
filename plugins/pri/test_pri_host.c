/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pri tests' stand-in host: see test_pri_host.h. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_pri_host.h"

#define MAX_TIMERS 256
#define MAX_IOS 64
#define MAX_COUNTERS 32

struct tnd_timer {
	int used;
	int active;
	uint64_t due_ms;
	tnd_timer_cb cb;
	void *arg;
};

struct tnd_io {
	int used;
	int fd;
	int events;
	tnd_io_cb cb;
	void *arg;
};

struct tnd_counter {
	const char *name;
	uint64_t value;
};

static struct tnd_timer timers[MAX_TIMERS];
static struct tnd_io ios[MAX_IOS];
static struct tnd_counter counters[MAX_COUNTERS];
static FILE *trace_file;
static int errors;
static int verbose = -1;

struct tnd_plugin th_self = { .name = "pri" };

static uint64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- Logs and the trace ----------------------------------------------------
 */

void th_trace_to(FILE *trace)
{
	trace_file = trace;
}

void th_trace_note(const char *fmt, ...)
{
	va_list ap;

	if (!trace_file)
		return;
	va_start(ap, fmt);
	vfprintf(trace_file, fmt, ap);
	va_end(ap);
	fputc('\n', trace_file);
}

int th_errors(void)
{
	return errors;
}

static int is_transition(const char *line)
{
	if (!strstr(line, " -> "))
		return 0;
	return strncmp(line, "call ", 5) == 0 ||
	       (strncmp(line, "span ", 5) == 0 && strstr(line, " bchan "));
}

static void th_vlog(const char *category, enum tnd_log_level level,
		    const char *file, int line, const char *fmt, va_list ap)
{
	char text[1024];

	vsnprintf(text, sizeof(text), fmt, ap);
	if (verbose < 0)
		verbose = getenv("PRI_TEST_VERBOSE") != NULL;
	if (level == TND_LOG_ERROR) {
		errors++;
		fprintf(stderr, "# ERROR %s:%d %s: %s\n", file, line, category,
			text);
	} else if (verbose || level <= TND_LOG_NOTICE) {
		fprintf(stderr, "# %s: %s\n", category, text);
	}
	if (trace_file && is_transition(text))
		fprintf(trace_file, "%s\n", text);
}

static void th_log(const char *category, enum tnd_log_level level,
		   const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	th_vlog(category, level, file, line, fmt, ap);
	va_end(ap);
}

static int th_log_enabled(const char *category, enum tnd_log_level level)
{
	(void)category, (void)level;
	return 1;
}

static const char *th_node_name(void)
{
	return "test";
}

/* ---- Timers ----------------------------------------------------------------
 */

static struct tnd_timer *th_timer_new(struct tnd_plugin *self, tnd_timer_cb cb,
				      void *arg)
{
	(void)self;
	for (int i = 0; i < MAX_TIMERS; i++) {
		if (!timers[i].used) {
			timers[i] = (struct tnd_timer){ .used = 1,
							.cb = cb,
							.arg = arg };
			return &timers[i];
		}
	}
	return NULL;
}

static int th_timer_start(struct tnd_timer *t, uint64_t timeout_ms,
			  uint64_t repeat_ms)
{
	(void)repeat_ms; /* the pri code uses one-shots only */
	t->active = 1;
	t->due_ms = clock_ms() + timeout_ms;
	return 0;
}

static void th_timer_stop(struct tnd_timer *t)
{
	if (t)
		t->active = 0;
}

static void th_timer_free(struct tnd_timer *t)
{
	if (t)
		memset(t, 0, sizeof(*t));
}

/* ---- fd watches -------------------------------------------------------------
 */

static struct tnd_io *th_io_new(struct tnd_plugin *self, int fd, tnd_io_cb cb,
				void *arg)
{
	(void)self;
	for (int i = 0; i < MAX_IOS; i++) {
		if (!ios[i].used) {
			ios[i] = (struct tnd_io){
				.used = 1, .fd = fd, .cb = cb, .arg = arg
			};
			return &ios[i];
		}
	}
	return NULL;
}

static int th_io_start(struct tnd_io *io, int events)
{
	io->events = events;
	return 0;
}

static void th_io_stop(struct tnd_io *io)
{
	io->events = 0;
}

static void th_io_free(struct tnd_io *io)
{
	if (io)
		memset(io, 0, sizeof(*io));
}

/* ---- Services, counters, the rest -------------------------------------------
 */

static int th_service_register(struct tnd_plugin *self, const char *name,
			       unsigned version, const void *table)
{
	(void)self, (void)name, (void)version, (void)table;
	return 0;
}

static const void *th_service_get(const char *name, unsigned min_version)
{
	(void)name, (void)min_version;
	return NULL;
}

static struct tnd_counter *th_counter_new(struct tnd_plugin *self,
					  const char *name, const char *help)
{
	(void)self, (void)help;
	for (int i = 0; i < MAX_COUNTERS; i++) {
		if (!counters[i].name || strcmp(counters[i].name, name) == 0) {
			counters[i].name = name;
			return &counters[i];
		}
	}
	return NULL;
}

static void th_counter_add(struct tnd_counter *c, uint64_t n)
{
	c->value += n;
}

static uint64_t th_counter_get(const struct tnd_counter *c)
{
	return c->value;
}

uint64_t th_counter(const char *name)
{
	for (int i = 0; i < MAX_COUNTERS && counters[i].name; i++)
		if (strcmp(counters[i].name, name) == 0)
			return counters[i].value;
	return 0;
}

static const char *th_where(const char *section, const char *key)
{
	(void)key;
	return section;
}

const struct tnd_host_api th_api = {
	.size = sizeof(struct tnd_host_api),
	.abi_major = TND_ABI_MAJOR,
	.abi_minor = TND_ABI_MINOR,
	.log = th_log,
	.vlog = th_vlog,
	.log_enabled = th_log_enabled,
	.node_name = th_node_name,
	.where = th_where,
	.timer_new = th_timer_new,
	.timer_start = th_timer_start,
	.timer_stop = th_timer_stop,
	.timer_free = th_timer_free,
	.now_ms = clock_ms,
	.io_new = th_io_new,
	.io_start = th_io_start,
	.io_stop = th_io_stop,
	.io_free = th_io_free,
	.service_register = th_service_register,
	.service_get = th_service_get,
	.counter_new = th_counter_new,
	.counter_add = th_counter_add,
	.counter_get = th_counter_get,
};

/* ---- The loop
 * ------------------------------------------------------------------ */

static int poll_timeout(uint64_t now)
{
	int64_t best = 20;

	for (int i = 0; i < MAX_TIMERS; i++) {
		if (!timers[i].used || !timers[i].active)
			continue;
		if ((int64_t)(timers[i].due_ms - now) < best)
			best = (int64_t)(timers[i].due_ms - now);
	}
	return best < 0 ? 0 : (int)best;
}

static void run_ios(void)
{
	struct pollfd fds[MAX_IOS];
	struct tnd_io *who[MAX_IOS];
	int n = 0;

	for (int i = 0; i < MAX_IOS; i++) {
		if (!ios[i].used || !(ios[i].events & TND_IO_READ))
			continue;
		fds[n] = (struct pollfd){ .fd = ios[i].fd, .events = POLLIN };
		who[n++] = &ios[i];
	}
	if (poll(fds, (nfds_t)n, poll_timeout(clock_ms())) <= 0)
		return;
	for (int i = 0; i < n; i++) {
		/* A callback may have freed or reused a later watch. */
		if (!fds[i].revents || !who[i]->used || who[i]->fd != fds[i].fd)
			continue;
		who[i]->cb(who[i], fds[i].fd,
			   fds[i].revents & (POLLERR | POLLNVAL) ? -EIO
								 : TND_IO_READ,
			   who[i]->arg);
	}
}

static void run_timers(void)
{
	uint64_t now = clock_ms();

	for (int i = 0; i < MAX_TIMERS; i++) {
		if (timers[i].used && timers[i].active &&
		    timers[i].due_ms <= now) {
			timers[i].active = 0;
			timers[i].cb(&timers[i], timers[i].arg);
		}
	}
}

int th_run_until(int (*done)(void *arg), void *arg, int max_ms)
{
	uint64_t end = clock_ms() + (uint64_t)max_ms;

	while (!done || !done(arg)) {
		if (clock_ms() > end)
			return done ? -1 : 0;
		run_ios();
		run_timers();
	}
	return 0;
}

void th_turn(void)
{
	run_ios();
	run_timers();
}

uint64_t th_now_ms(void)
{
	return clock_ms();
}

void th_run_for(int ms)
{
	th_run_until(NULL, NULL, ms);
}
