/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * skel: the smallest complete tandem plugin, to copy when writing a new one.
 * It has parameters, provides a service ("skel" version 1), answers control
 * commands and runs a timer that counts ticks. docs/plugin-guide.md walks
 * through it.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "tandem/plugin.h"
#include "tandem/skel.h"

/* The logging shorthands of plugin.h use these two names. */
#define TND_LOG_HOST host
#define TND_LOG_CATEGORY "skel"

TND_PLUGIN_DECLARE(skel);
#define SELF (&TND_PLUGIN_SYMBOL(skel))

struct skel_cfg {
	char *greeting;
	unsigned long long interval_ms;
	int enabled;
};

static const struct tnd_host_api *host;
static struct skel_cfg *cfg;
static struct tnd_timer *tick_timer;
static struct tnd_counter *ticks;

static const struct tnd_param skel_params[] = {
	TND_PARAM("greeting", TND_STR, struct skel_cfg, greeting, "hello",
		  "what 'skel greet' says before the name",
		  .flags = TND_PARAM_RELOADABLE),
	TND_PARAM("interval_ms", TND_UINT, struct skel_cfg, interval_ms, "1000",
		  "period of the tick timer, milliseconds", .min = 10,
		  .max = 3600000, .flags = TND_PARAM_RELOADABLE),
	TND_PARAM("enabled", TND_BOOL, struct skel_cfg, enabled, "yes",
		  "run the tick timer"),
	TND_PARAM_END
};

/* ---- The service other plugins call ------------------------------------ */

static int greet(const char *name, char *out, size_t size)
{
	int n = snprintf(out, size, "%s, %s", cfg->greeting, name);

	return n < 0 || (size_t)n >= size ? -1 : n;
}

static uint64_t tick_count(void)
{
	return host->counter_get(ticks);
}

static const struct skel_service skel_service = {
	.size = sizeof(struct skel_service),
	.greet = greet,
	.ticks = tick_count,
};

/* ---- Control commands ------------------------------------------------- */

static int cmd_show(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return host->reply_error(r, "skel show takes no arguments");
	host->reply_field(r, "greeting", "%s", cfg->greeting);
	host->reply_field_num(r, "interval_ms", (long long)cfg->interval_ms);
	host->reply_field(r, "enabled", "%s", cfg->enabled ? "yes" : "no");
	host->reply_field_num(r, "ticks", (long long)tick_count());
	return 0;
}

static int cmd_greet(struct tnd_reply *r, int argc, char **argv)
{
	char text[256];

	if (argc != 1)
		return host->reply_error(r, "usage: skel greet NAME");
	if (greet(argv[0], text, sizeof(text)) < 0)
		return host->reply_error(r, "name too long");
	host->reply_field(r, "greeting", "%s", text);
	return 0;
}

static const struct tnd_command skel_commands[] = {
	{ "skel show", NULL, "the plugin's settings and tick count", cmd_show },
	{ "skel greet", "NAME", "greet NAME with the configured greeting",
	  cmd_greet },
	TND_COMMAND_END
};

/* ---- Lifecycle ---------------------------------------------------------- */

static void on_tick(struct tnd_timer *timer, void *arg)
{
	(void)timer, (void)arg;
	host->counter_add(ticks, 1);
	tnd_debug("tick %llu", (unsigned long long)tick_count());
}

static int skel_init(const struct tnd_host_api *api, void *config)
{
	host = api;
	cfg = config;
	ticks = host->counter_new(SELF, "ticks",
				  "timer ticks since start");
	if (!ticks)
		return -1;
	return host->service_register(SELF, "skel", 1,
				      &skel_service);
}

static int skel_start(void)
{
	if (!cfg->enabled) {
		tnd_info("tick timer disabled");
		return 0;
	}
	tick_timer = host->timer_new(SELF, on_tick, NULL);
	if (!tick_timer)
		return -1;
	tnd_info("ticking every %llu ms", cfg->interval_ms);
	return host->timer_start(tick_timer, cfg->interval_ms, cfg->interval_ms);
}

static int skel_stop(void)
{
	if (tick_timer)
		host->timer_stop(tick_timer);
	return 0;
}

static void skel_fini(void)
{
	host->timer_free(tick_timer);
	tick_timer = NULL;
}

static void skel_reload(const char *const *changed)
{
	for (const char *const *p = changed; *p; p++) {
		if (strcmp(*p, "interval_ms") == 0 && tick_timer)
			host->timer_start(tick_timer, cfg->interval_ms,
					  cfg->interval_ms);
		tnd_notice("%s changed", *p);
	}
}

static const struct tnd_service_ref skel_provides[] = {
	{ "skel", 1 },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(skel) = {
	TND_PLUGIN_HEADER,
	.name = "skel",
	.version = "1.0",
	.description = "template plugin: a parameter, a service, a command, "
		       "a timer",
	.provides = skel_provides,
	.params = skel_params,
	.cfg_size = sizeof(struct skel_cfg),
	.commands = skel_commands,
	.init = skel_init,
	.start = skel_start,
	.stop = skel_stop,
	.fini = skel_fini,
	.reload = skel_reload,
};
