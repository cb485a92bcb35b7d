/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bgcf: the breakout gateway control function (TS 23.228 5.5.x, TS 24.229
 * 5.6): where a number leaves IMS. Its route table maps the longest
 * matching E.164 prefix to a trunk group of this gateway node, a SIP peer,
 * or another BGCF, by time of day, with overflow routes tried on
 * congestion. The MGCF of a gateway node asks it through the "bgcf"
 * service (bgcf.h); a BGCF node of its own (`standalone = yes`) takes
 * INVITEs and proxies them to the route's SIP target.
 *
 * Routes come from [route NAME] sections of the node's config (read at
 * start) and from a routes file of the same form, re-read by `bgcf
 * reload`, SIGHUP (when `routes` changes) and when its modification time
 * moves: a new table replaces the old one only when it has no error, and
 * calls in progress keep what they were given.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bgcf_table.h"
#include "tandem/plugin.h"
#include "tandem/sip.h"

#define TND_LOG_HOST host
#define TND_LOG_CATEGORY "bgcf"

TND_PLUGIN_DECLARE(bgcf);
#define SELF (&TND_PLUGIN_SYMBOL(bgcf))

struct bgcf_cfg {
	char *routes;
	unsigned long long check_ms;
	int standalone;
};

/* A [route NAME] section of the node's config. */
struct route_cfg {
	char *prefix;
	char *target;
	char *overflow;
	char *time;
	long long priority;
};

static const struct tnd_host_api *host;
static struct bgcf_cfg *cfg;
static struct bgcf_table fixed;	/* from the node's config */
static struct bgcf_table table;	/* fixed + the routes file: in use */
static struct timespec file_mtime;
static struct tnd_timer *check_timer;
static const struct sip_service *sip;
static struct tnd_counter *c_lookups, *c_no_route, *c_reloads, *c_proxied;

static const struct tnd_param bgcf_params[] = {
	TND_PARAM("routes", TND_STR, struct bgcf_cfg, routes, "",
		  "a file of [route NAME] sections, re-read while running; "
		  "empty: only the node config's routes",
		  .flags = TND_PARAM_RELOADABLE),
	TND_PARAM("check_ms", TND_UINT, struct bgcf_cfg, check_ms, "1000",
		  "how often the routes file's time is looked at (a change "
		  "reloads it); 0: only `bgcf reload` and SIGHUP",
		  .max = 3600000, .flags = TND_PARAM_RELOADABLE),
	TND_PARAM("standalone", TND_BOOL, struct bgcf_cfg, standalone, "no",
		  "a BGCF node: take INVITEs and proxy them to the route's "
		  "SIP target (needs the sip plugin)"),
	TND_PARAM_END
};

static const struct tnd_param route_params[] = {
	TND_PARAM("prefix", TND_STR, struct route_cfg, prefix, NULL,
		  "numbers starting so: +44207946, +, 00",
		  .flags = TND_PARAM_REQUIRED),
	TND_PARAM("target", TND_STR, struct route_cfg, target, NULL,
		  "trunk:NAME, sip:URI (a SIP peer) or bgcf:sip:URI",
		  .flags = TND_PARAM_REQUIRED),
	TND_PARAM("overflow", TND_STR, struct route_cfg, overflow, "",
		  "route tried next when this one is congested"),
	TND_PARAM("time", TND_STR, struct route_cfg, time, "always",
		  "when it applies: \"mon-fri 08:00-18:00\", \"sat,sun\""),
	TND_PARAM("priority", TND_INT, struct route_cfg, priority, "0",
		  "among routes of one prefix, lower first",
		  .min = -1000, .max = 1000),
	TND_PARAM_END
};

/* ---- The table ---------------------------------------------------------- */

static void log_error(const char *where, const char *msg, void *arg)
{
	(void)arg;
	tnd_error("%s: %s", where, msg);
}

static int config_route(const char *section, void *arg)
{
	int *errors = arg;
	struct route_cfg rc = { 0 };
	struct bgcf_route r = { .when.days = 0x7f };
	const char *name = section + strlen("route");
	char why[160];

	name += strspn(name, " ");
	if (!*name || host->parse_section(section, route_params, &rc)) {
		if (!*name)
			host->config_error(section, NULL, "a route is [route "
					   "NAME]");
		(*errors)++;
		return 0;
	}
	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.where, sizeof(r.where), "%s", host->where(section, NULL));
	if (bgcf_route_set(&r, "prefix", rc.prefix, why, sizeof(why)) ||
	    bgcf_route_set(&r, "target", rc.target, why, sizeof(why)) ||
	    bgcf_route_set(&r, "time", rc.time, why, sizeof(why))) {
		host->config_error(section, NULL, "[%s] %s", section, why);
		(*errors)++;
		return 0;
	}
	snprintf(r.overflow, sizeof(r.overflow), "%s", rc.overflow);
	r.priority = (int)rc.priority;
	bgcf_table_add(&fixed, &r);
	return 0;
}

static char *read_file(const char *path, size_t *len, struct timespec *mtime)
{
	struct stat st;
	FILE *f = fopen(path, "r");
	char *text;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) < 0 || st.st_size > 4 * 1024 * 1024 ||
	    !(text = malloc((size_t)st.st_size + 1))) {
		fclose(f);
		return NULL;
	}
	*len = fread(text, 1, (size_t)st.st_size, f);
	text[*len] = '\0';
	*mtime = st.st_mtim;
	fclose(f);
	return text;
}

/* Build a new table: the config's routes and the file's. 0 when it
 * replaced the one in use, or the number of errors (logged). */
static int reload_table(void)
{
	struct bgcf_table fresh = { 0 };
	struct timespec mtime = { 0 };
	int errors = 0;

	for (unsigned i = 0; i < fixed.n; i++)
		bgcf_table_add(&fresh, &fixed.routes[i]);
	if (cfg->routes[0]) {
		size_t len = 0;
		char *text = read_file(cfg->routes, &len, &mtime);

		if (!text && errno == ENOENT) {
			/* not there yet: taken when it appears (check_ms) */
			tnd_notice("routes file %s: none yet", cfg->routes);
		} else if (!text) {
			tnd_error("routes file %s: %s", cfg->routes,
				  strerror(errno));
			bgcf_table_free(&fresh);
			return 1;
		}
		if (text)
			errors = bgcf_table_parse(&fresh, text, len,
						  cfg->routes, log_error, NULL);
		free(text);
	}
	errors += bgcf_table_check(&fresh, log_error, NULL);
	if (errors) {
		tnd_error("route table not loaded: %d error(s); the table in "
			  "use stays", errors);
		bgcf_table_free(&fresh);
		file_mtime = mtime; /* not again until it changes again */
		return errors;
	}
	bgcf_table_free(&table);
	table = fresh;
	file_mtime = mtime;
	host->counter_add(c_reloads, 1);
	tnd_info("route table: %u route(s)%s%s", table.n,
		 cfg->routes[0] ? " with " : "", cfg->routes);
	return 0;
}

static void on_check(struct tnd_timer *t, void *arg)
{
	struct stat st;

	(void)t, (void)arg;
	if (!cfg->routes[0] || stat(cfg->routes, &st) < 0)
		return;
	if (st.st_mtim.tv_sec != file_mtime.tv_sec ||
	    st.st_mtim.tv_nsec != file_mtime.tv_nsec) {
		tnd_notice("routes file %s changed: reloading", cfg->routes);
		reload_table();
	}
}

/* ---- The service ------------------------------------------------------------ */

static int route(const char *number, struct bgcf_target *out, unsigned max)
{
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (!number || !out)
		return -EINVAL;
	localtime_r(&now, &tm);
	host->counter_add(c_lookups, 1);
	n = bgcf_table_route(&table, number, &tm, out, max);
	if (!n) {
		host->counter_add(c_no_route, 1);
		tnd_info("no route for %s", number);
	}
	return n;
}

static const struct bgcf_service bgcf_service = {
	.size = sizeof(struct bgcf_service),
	.route = route,
};

/* ---- A BGCF node of its own --------------------------------------------------- */

/* The number of a Request-URI: its user part without visual separators. */
static int uri_number(struct sip_text uri, char *out, size_t size)
{
	const char *p = uri.ptr, *end = uri.ptr + uri.len;
	size_t n = 0;

	if (uri.len > 4 && strncmp(p, "tel:", 4) == 0)
		p += 4;
	else if (uri.len > 4 && strncmp(p, "sip:", 4) == 0)
		p += 4;
	else
		return -EINVAL;
	for (; p < end && *p != '@' && *p != ';' && n + 1 < size; p++)
		if (!strchr("-.()", *p))
			out[n++] = *p;
	out[n] = '\0';
	return n ? 0 : -EINVAL;
}

static enum sip_verdict on_invite(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sip->request_message(req);
	struct bgcf_target t[BGCF_TARGETS_MAX];
	char number[40];
	int n;

	(void)arg;
	if (uri_number(sip->request_uri(m), number, sizeof(number)) < 0 ||
	    (n = route(number, t, BGCF_TARGETS_MAX)) <= 0) {
		sip->reply(req, 404, "No Route",
			   "Reason: Q.850;cause=3;text=\"no route to "
			   "destination\"\r\n", NULL, NULL, 0);
		return SIP_TAKEN;
	}
	for (int i = 0; i < n; i++)
		if (t[i].kind != BGCF_TRUNK && sip->proxy(req, t[i].uri) == 0) {
			host->counter_add(c_proxied, 1);
			return SIP_TAKEN;
		}
	sip->reply(req, 503, NULL, "Reason: Q.850;cause=34\r\n", NULL, NULL, 0);
	return SIP_TAKEN;
}

/* ---- Commands ------------------------------------------------------------------- */

static int cmd_routes(struct tnd_reply *r, int argc, char **argv)
{
	char target[BGCF_URI_MAX + 8], when[64];

	(void)argv;
	if (argc)
		return host->reply_error(r, "usage: bgcf show routes");
	for (unsigned i = 0; i < table.n; i++) {
		const struct bgcf_route *rt = &table.routes[i];

		host->reply_record(r);
		host->reply_field(r, "route", "%s", rt->name);
		host->reply_field(r, "prefix", "%s", rt->prefix);
		host->reply_field(r, "target", "%s",
				  bgcf_target_text(&rt->target, target,
						   sizeof(target)));
		host->reply_field(r, "time", "%s",
				  bgcf_when_text(&rt->when, when, sizeof(when)));
		host->reply_field(r, "overflow", "%s",
				  rt->overflow[0] ? rt->overflow : "-");
		host->reply_field_num(r, "priority", rt->priority);
		host->reply_field(r, "from", "%s", rt->where);
	}
	return 0;
}

/* "bgcf route NUMBER [DAY HH:MM]": what a call would get. */
static int cmd_route(struct tnd_reply *r, int argc, char **argv)
{
	static const char *const days[] = { "sun", "mon", "tue", "wed",
					    "thu", "fri", "sat" };
	struct bgcf_target t[BGCF_TARGETS_MAX];
	char target[BGCF_URI_MAX + 8];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (argc != 1 && argc != 3)
		return host->reply_error(r, "usage: bgcf route NUMBER [DAY "
					 "HH:MM]");
	localtime_r(&now, &tm);
	if (argc == 3) {
		tm.tm_wday = -1;
		for (int d = 0; d < 7; d++)
			if (strcmp(argv[1], days[d]) == 0)
				tm.tm_wday = d;
		if (tm.tm_wday < 0 || sscanf(argv[2], "%d:%d", &tm.tm_hour,
					     &tm.tm_min) != 2)
			return host->reply_error(r, "DAY is sun..sat, HH:MM a "
						 "time");
	}
	n = bgcf_table_route(&table, argv[0], &tm, t, BGCF_TARGETS_MAX);
	if (n <= 0)
		return host->reply_error(r, "no route for %s", argv[0]);
	for (int i = 0; i < n; i++) {
		host->reply_record(r);
		host->reply_field_num(r, "order", i + 1);
		host->reply_field(r, "route", "%s", t[i].route);
		host->reply_field(r, "target", "%s",
				  bgcf_target_text(&t[i], target,
						   sizeof(target)));
	}
	return 0;
}

static int cmd_reload(struct tnd_reply *r, int argc, char **argv)
{
	int errors;

	(void)argv;
	if (argc)
		return host->reply_error(r, "usage: bgcf reload");
	errors = reload_table();
	if (errors)
		return host->reply_error(r, "%d error(s) (see the log): the "
					 "table in use stays", errors);
	host->reply_field_num(r, "routes", table.n);
	return 0;
}

static const struct tnd_command bgcf_commands[] = {
	{ "bgcf show routes", NULL,
	  "the route table: prefix, target, time, overflow, where from",
	  cmd_routes },
	{ "bgcf route", "NUMBER [DAY HH:MM]",
	  "the targets a number gets, now or at DAY HH:MM", cmd_route },
	{ "bgcf reload", NULL,
	  "re-read the routes file; a table with errors is not taken",
	  cmd_reload },
	TND_COMMAND_END
};

/* ---- Lifecycle --------------------------------------------------------------------- */

static int bgcf_init(const struct tnd_host_api *api, void *config)
{
	int errors = 0;

	host = api;
	cfg = config;
	host->for_each_section("route", config_route, &errors);
	if (errors)
		return -EINVAL;
	errors = bgcf_table_check(&fixed, log_error, NULL);
	if (errors)
		return -EINVAL;
	c_lookups = host->counter_new(SELF, "lookups", "numbers routed");
	c_no_route = host->counter_new(SELF, "no_route",
				       "numbers without a route");
	c_reloads = host->counter_new(SELF, "reloads", "route tables taken");
	c_proxied = host->counter_new(SELF, "proxied",
				      "INVITEs proxied (standalone)");
	if (reload_table())
		return -EINVAL;
	return host->service_register(SELF, BGCF_SERVICE, BGCF_SERVICE_VERSION,
				      &bgcf_service);
}

static int bgcf_start(void)
{
	if (cfg->standalone) {
		sip = host->service_get(SIP_SERVICE_NAME, SIP_SERVICE_VERSION);
		if (!sip) {
			tnd_error("standalone = yes needs the sip plugin");
			return -ENODEV;
		}
		if (sip->handler_add("INVITE", 0, NULL, on_invite, NULL) < 0)
			return -ENOMEM;
	}
	check_timer = host->timer_new(SELF, on_check, NULL);
	if (!check_timer)
		return -ENOMEM;
	if (cfg->check_ms)
		host->timer_start(check_timer, cfg->check_ms, cfg->check_ms);
	return 0;
}

static int bgcf_stop(void)
{
	if (sip)
		sip->handler_remove(on_invite, NULL);
	if (check_timer)
		host->timer_stop(check_timer);
	return 0;
}

static void bgcf_fini(void)
{
	host->timer_free(check_timer);
	check_timer = NULL;
	bgcf_table_free(&table);
	bgcf_table_free(&fixed);
	sip = NULL;
}

static void bgcf_reload(const char *const *changed)
{
	for (const char *const *p = changed; *p; p++)
		if (strcmp(*p, "routes") == 0)
			reload_table();
	if (check_timer) {
		host->timer_stop(check_timer);
		if (cfg->check_ms)
			host->timer_start(check_timer, cfg->check_ms,
					  cfg->check_ms);
	}
}

static const char *const bgcf_sections[] = { "route", NULL };

static const struct tnd_service_ref bgcf_provides[] = {
	{ BGCF_SERVICE, BGCF_SERVICE_VERSION },
	TND_SERVICE_END
};

static const struct tnd_service_ref bgcf_uses[] = {
	{ SIP_SERVICE_NAME, SIP_SERVICE_VERSION },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(bgcf) = {
	TND_PLUGIN_HEADER,
	.name = "bgcf",
	.version = "1.0",
	.description = "BGCF: E.164 route table (longest prefix, time of day, "
		       "overflow) to trunks, SIP peers or other BGCFs",
	.provides = bgcf_provides,
	.params = bgcf_params,
	.cfg_size = sizeof(struct bgcf_cfg),
	.commands = bgcf_commands,
	.sections = bgcf_sections,
	.init = bgcf_init,
	.start = bgcf_start,
	.stop = bgcf_stop,
	.fini = bgcf_fini,
	.reload = bgcf_reload,
	.uses = bgcf_uses,
};
