/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging: one category per plugin or core subsystem, each with its own
 * level; lines go to stderr or syslog. Thread-safe: media workers log too.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "core.h"

#define MAX_CATEGORIES 256
#define CATEGORY_NAME_MAX 32

struct category {
	char name[CATEGORY_NAME_MAX];
	atomic_int level;
};

static struct category categories[MAX_CATEGORIES];
static atomic_size_t ncategories;
static pthread_mutex_t categories_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t output_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int default_level = TND_LOG_NOTICE;
static enum log_target target = LOG_TO_STDERR;

static const char *const level_names[] = { "error", "notice", "info",
					   "debug" };

const char *log_level_name(enum tnd_log_level level)
{
	if ((unsigned)level < ARRAY_SIZE(level_names))
		return level_names[level];
	return "?";
}

int log_level_parse(const char *text, enum tnd_log_level *level)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*level = (enum tnd_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static struct category *category_find(const char *name)
{
	size_t n = atomic_load(&ncategories);

	for (size_t i = 0; i < n; i++)
		if (strcmp(categories[i].name, name) == 0)
			return &categories[i];
	return NULL;
}

/* Categories appear the first time something logs under them. */
static struct category *category_get(const char *name)
{
	struct category *cat = category_find(name);

	if (cat)
		return cat;
	pthread_mutex_lock(&categories_lock);
	cat = category_find(name);
	if (!cat && atomic_load(&ncategories) < MAX_CATEGORIES) {
		size_t n = atomic_load(&ncategories);

		cat = &categories[n];
		snprintf(cat->name, sizeof(cat->name), "%s", name);
		atomic_store(&cat->level, atomic_load(&default_level));
		atomic_store(&ncategories, n + 1);
	}
	pthread_mutex_unlock(&categories_lock);
	return cat;
}

void log_setup(enum log_target to, enum tnd_log_level level,
	       const char *ident)
{
	target = to;
	log_set_default_level(level);
	if (to == LOG_TO_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_default_level(enum tnd_log_level level)
{
	size_t n = atomic_load(&ncategories);

	atomic_store(&default_level, level);
	for (size_t i = 0; i < n; i++)
		atomic_store(&categories[i].level, level);
}

int log_set_level(const char *name, enum tnd_log_level level)
{
	struct category *cat;

	if (strcmp(name, "all") == 0) {
		log_set_default_level(level);
		return 0;
	}
	cat = category_get(name);
	if (!cat)
		return -ENOSPC;
	atomic_store(&cat->level, level);
	return 0;
}

void log_each_category(void (*cb)(const char *name, enum tnd_log_level level,
				  void *arg),
		       void *arg)
{
	size_t n = atomic_load(&ncategories);

	for (size_t i = 0; i < n; i++)
		cb(categories[i].name, atomic_load(&categories[i].level), arg);
}

int tnd_core_log_enabled(const char *name, enum tnd_log_level level)
{
	struct category *cat = category_get(name);
	int limit = cat ? atomic_load(&cat->level) : atomic_load(&default_level);

	return (int)level <= limit;
}

static void write_stderr(const char *name, enum tnd_log_level level,
			 const char *file, int line, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	int cancel_state;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	/* fprintf() is a cancellation point, and libraries cancel their
	 * threads (freeDiameter does at peer and node shutdown): a thread
	 * cancelled here would keep output_lock, and every later log line,
	 * the loop's among them, would wait for it forever. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	pthread_mutex_lock(&output_lock);
	if (level == TND_LOG_DEBUG && file)
		fprintf(stderr, "%s.%03ld %s %s: %s (%s:%d)\n", stamp,
			ts.tv_nsec / 1000000, level_names[level], name, msg,
			file, line);
	else
		fprintf(stderr, "%s.%03ld %s %s: %s\n", stamp,
			ts.tv_nsec / 1000000, level_names[level], name, msg);
	pthread_mutex_unlock(&output_lock);
	pthread_setcancelstate(cancel_state, NULL);
}

static void write_syslog(const char *name, enum tnd_log_level level,
			 const char *file, int line, const char *msg)
{
	static const int priority[] = { LOG_ERR, LOG_NOTICE, LOG_INFO,
					LOG_DEBUG };

	if (level == TND_LOG_DEBUG && file)
		syslog(priority[level], "%s: %s (%s:%d)", name, msg, file,
		       line);
	else
		syslog(priority[level], "%s: %s", name, msg);
}

void tnd_core_vlog(const char *name, enum tnd_log_level level,
		   const char *file, int line, const char *fmt, va_list ap)
{
	char msg[1024];

	if ((unsigned)level > TND_LOG_DEBUG)
		level = TND_LOG_DEBUG;
	if (!tnd_core_log_enabled(name, level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (target == LOG_TO_SYSLOG)
		write_syslog(name, level, file, line, msg);
	else
		write_stderr(name, level, file, line, msg);
}

void tnd_core_log(const char *name, enum tnd_log_level level,
		  const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tnd_core_vlog(name, level, file, line, fmt, ap);
	va_end(ap);
}
