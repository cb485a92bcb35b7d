/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A test plugin compiled several times with different descriptors (see
 * tests/Makefile.am): good ones that depend on each other, and broken ones
 * the loader must refuse. Each appends its lifecycle events to the file
 * named by $TP_TRACE so tests can check the order.
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "tandem/plugin.h"

#ifndef TP_ABI_MAJOR
#define TP_ABI_MAJOR TND_ABI_MAJOR
#endif
#ifndef TP_ABI_MINOR
#define TP_ABI_MINOR TND_ABI_MINOR
#endif
#ifndef TP_SIZE
#define TP_SIZE sizeof(struct tnd_plugin)
#endif
#define STR_(x) #x
#define STR(x) STR_(x)
#define SELF (&TND_PLUGIN_SYMBOL(TP_NAME))
TND_PLUGIN_DECLARE(TP_NAME);

struct tp_cfg {
	unsigned long long stop_after_ms;
	int pending;
	int fail_start;
	int reject;
};

static const struct tnd_host_api *host;
static struct tp_cfg *cfg;
static struct tnd_timer *timer;
static struct tnd_turn *turn;
static unsigned long turns;

static const struct tnd_param tp_params[] = {
	TND_PARAM("stop_after_ms", TND_UINT, struct tp_cfg, stop_after_ms, "0",
		  "raise SIGTERM this long after start (0: never)"),
	TND_PARAM("pending", TND_BOOL, struct tp_cfg, pending, "no",
		  "finish stopping 20 ms after stop() is called"),
	TND_PARAM("fail_start", TND_BOOL, struct tp_cfg, fail_start, "no",
		  "make start() fail"),
	TND_PARAM("reject", TND_BOOL, struct tp_cfg, reject, "no",
		  "init() reports this key as a config error"),
	TND_PARAM_END
};

static void trace(const char *event)
{
	const char *path = getenv("TP_TRACE");
	FILE *f = path ? fopen(path, "a") : NULL;

	if (!f)
		return;
	fprintf(f, "%s %s\n", STR(TP_NAME), event);
	fclose(f);
}

static void on_timer(struct tnd_timer *t, void *arg)
{
	(void)t, (void)arg;
	if (cfg->pending && timer) {
		trace("stopped");
		host->stopped(SELF);
		return;
	}
	raise(SIGTERM);
}

static int tp_init(const struct tnd_host_api *api, void *config)
{
	host = api;
	cfg = config;
	turns = 0; /* the module may stay loaded between nodes of one test */
	trace("init");
	if (cfg->reject)
		return host->config_error(STR(TP_NAME), "reject",
					  "[%s] reject: refused by the plugin",
					  STR(TP_NAME));
#ifdef TP_PROVIDES
	return host->service_register(SELF, TP_PROVIDES, 1, &tp_params);
#else
	return 0;
#endif
}

static void on_turn(struct tnd_turn *t, void *arg)
{
	(void)t, (void)arg;
	turns++;
}

static int tp_start(void)
{
	trace("start");
	turn = host->turn_new(SELF, on_turn, NULL);
	if (cfg->fail_start)
		return -1;
	timer = host->timer_new(SELF, on_timer, NULL);
	if (cfg->stop_after_ms)
		host->timer_start(timer, cfg->stop_after_ms, 0);
	return 0;
}

static int tp_stop(void)
{
	trace(turns > 0 ? "stop after loop turns" : "stop");
	if (!cfg->pending)
		return 0;
	host->timer_start(timer, 20, 0);
	return TND_STOP_PENDING;
}

static void tp_fini(void)
{
	trace("fini");
	host->turn_free(turn);
	turn = NULL;
	/* The timer is left open on purpose: the host must close it. */
	timer = NULL;
}

#ifdef TP_PROVIDES
static const struct tnd_service_ref tp_provides[] = {
	{ TP_PROVIDES, 1 },
	TND_SERVICE_END
};
#else
#define tp_provides NULL
#endif

#ifdef TP_REQUIRES
static const struct tnd_service_ref tp_requires[] = {
	{ TP_REQUIRES, TP_REQUIRES_VERSION },
	TND_SERVICE_END
};
#else
#define tp_requires NULL
#endif

#ifdef TP_SECTION
static const char *const tp_sections[] = { TP_SECTION, NULL };
#else
#define tp_sections NULL
#endif

#ifdef TP_USES
static const struct tnd_service_ref tp_uses[] = {
	{ TP_USES, 1 },
	TND_SERVICE_END
};
#else
#define tp_uses NULL
#endif

TND_PLUGIN_DEFINE(TP_NAME) = {
	.abi_major = TP_ABI_MAJOR,
	.abi_minor = TP_ABI_MINOR,
	.size = TP_SIZE,
	.name = STR(TP_NAME),
	.version = "0",
	.description = "test plugin",
	.provides = tp_provides,
	.requires = tp_requires,
	.params = tp_params,
	.cfg_size = sizeof(struct tp_cfg),
	.init = tp_init,
	.start = tp_start,
	.stop = tp_stop,
	.fini = tp_fini,
	.sections = tp_sections,
	.uses = tp_uses,
};
