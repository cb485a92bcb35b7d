/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_media_host.h - a minimal host for running the media plugin inside
 * a test or benchmark program: logging to stderr, counters, services,
 * call_on_loop (run by the program's own loop), and the parameter
 * defaults of a plugin's table. Header-only; one program includes it once.
 * What the media plugin does not use (timers, fd watches, replies) is a
 * stub.
 */
#ifndef TANDEM_TEST_MEDIA_HOST_H
#define TANDEM_TEST_MEDIA_HOST_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tandem/plugin.h"

struct tnd_counter {
	atomic_ullong value;
};

struct fh_call {
	struct fh_call *next;
	tnd_call_cb cb;
	void *arg;
};

#define FH_SERVICES 4

static struct {
	pthread_mutex_t lock;
	struct fh_call *head, **tail;
	enum tnd_log_level level;
	struct {
		const char *name;
		const void *table;
	} services[FH_SERVICES];
	unsigned nservices;
	struct tnd_counter counters[32];
	unsigned ncounters;
} fh = { .lock = PTHREAD_MUTEX_INITIALIZER, .level = TND_LOG_NOTICE };

static void fh_vlog(const char *category, enum tnd_log_level level,
		    const char *file, int line, const char *fmt, va_list ap)
{
	(void)file, (void)line;
	if (level > fh.level)
		return;
	fprintf(stderr, "%s: ", category);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void fh_log(const char *category, enum tnd_log_level level,
		   const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fh_vlog(category, level, file, line, fmt, ap);
	va_end(ap);
}

static int fh_log_enabled(const char *category, enum tnd_log_level level)
{
	(void)category;
	return level <= fh.level;
}

static const char *fh_node_name(void)
{
	return "bench";
}

static const char *fh_where(const char *section, const char *key)
{
	(void)section, (void)key;
	return "(test)";
}

static uint64_t fh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int fh_call_on_loop(tnd_call_cb cb, void *arg)
{
	struct fh_call *c = malloc(sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->next = NULL;
	c->cb = cb;
	c->arg = arg;
	pthread_mutex_lock(&fh.lock);
	if (!fh.tail)
		fh.tail = &fh.head;
	*fh.tail = c;
	fh.tail = &c->next;
	pthread_mutex_unlock(&fh.lock);
	return 0;
}

/* The program's loop: run what other threads handed over. */
static unsigned fh_run_calls(void)
{
	struct fh_call *list;
	unsigned n = 0;

	pthread_mutex_lock(&fh.lock);
	list = fh.head;
	fh.head = NULL;
	fh.tail = &fh.head;
	pthread_mutex_unlock(&fh.lock);
	while (list) {
		struct fh_call *c = list;

		list = c->next;
		c->cb(c->arg);
		free(c);
		n++;
	}
	return n;
}

static int fh_service_register(struct tnd_plugin *self, const char *name,
			       unsigned version, const void *table)
{
	(void)self, (void)version;
	if (fh.nservices == FH_SERVICES)
		return -ENOSPC;
	fh.services[fh.nservices].name = name;
	fh.services[fh.nservices++].table = table;
	return 0;
}

static const void *fh_service_get(const char *name, unsigned min_version)
{
	unsigned i;

	(void)min_version;
	for (i = 0; i < fh.nservices; i++)
		if (!strcmp(fh.services[i].name, name))
			return fh.services[i].table;
	return NULL;
}

static void fh_forget_services(void)
{
	fh.nservices = 0;
}

static struct tnd_counter *fh_counter_new(struct tnd_plugin *self,
					  const char *name, const char *help)
{
	(void)self, (void)name, (void)help;
	if (fh.ncounters == sizeof(fh.counters) / sizeof(fh.counters[0]))
		fh.ncounters = 0;
	return &fh.counters[fh.ncounters++];
}

static void fh_counter_add(struct tnd_counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

static uint64_t fh_counter_get(const struct tnd_counter *c)
{
	return atomic_load((atomic_ullong *)&c->value);
}

static void fh_stopped(struct tnd_plugin *self)
{
	(void)self;
}

static const struct tnd_host_api fh_api = {
	.size = sizeof(struct tnd_host_api),
	.abi_major = TND_ABI_MAJOR,
	.abi_minor = TND_ABI_MINOR,
	.log = fh_log,
	.vlog = fh_vlog,
	.log_enabled = fh_log_enabled,
	.node_name = fh_node_name,
	.where = fh_where,
	.now_ms = fh_now_ms,
	.call_on_loop = fh_call_on_loop,
	.service_register = fh_service_register,
	.service_get = fh_service_get,
	.counter_new = fh_counter_new,
	.counter_add = fh_counter_add,
	.counter_get = fh_counter_get,
	.stopped = fh_stopped,
};

/* Fill a plugin's configuration struct from its parameter defaults. */
static int fh_defaults(const struct tnd_param *params, void *cfg)
{
	const struct tnd_param *p;

	for (p = params; p && p->name; p++) {
		char *dst = (char *)cfg + p->offset;

		switch (p->type) {
		case TND_STR:
		case TND_ENUM:
			*(const char **)dst = p->def ? p->def : "";
			break;
		case TND_INT:
			*(long long *)dst = strtoll(p->def, NULL, 0);
			break;
		case TND_UINT:
			*(unsigned long long *)dst = strtoull(p->def, NULL, 0);
			break;
		case TND_BOOL:
			*(int *)dst = !strcasecmp(p->def, "yes") ||
				      !strcasecmp(p->def, "true") ||
				      !strcasecmp(p->def, "on") ||
				      !strcmp(p->def, "1");
			break;
		case TND_DOUBLE:
			*(double *)dst = strtod(p->def, NULL);
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

#endif /* TANDEM_TEST_MEDIA_HOST_H */
