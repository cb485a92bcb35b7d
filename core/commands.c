/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Built-in control commands: show plugins, params, stats and log levels;
 * set a log level; reload; stop.
 */
#include "config.h"

#include <string.h>

#include "core.h"

static const struct tnd_host_api *const api = &host_api;

static const char *state_name(const struct plugin_inst *inst)
{
	static const char *const names[] = { "loaded", "initialised",
					     "running", "stopping",
					     "stopped" };

	return names[inst->state];
}

static void service_list(const struct tnd_service_ref *refs, char *buf,
			 size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const struct tnd_service_ref *r = refs; r && r->name; r++) {
		int n = snprintf(buf + used, size - used, "%s%s/%u",
				 used ? " " : "", r->name, r->version);

		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
}

static int show_plugins(struct tnd_reply *r, int argc, char **argv)
{
	struct loader *ld = &the_node->loader;
	char provides[256], requires[256];

	(void)argc, (void)argv;
	for (size_t i = 0; i < ld->nplugins; i++) {
		const struct tnd_plugin *d = ld->plugins[i].desc;

		service_list(d->provides, provides, sizeof(provides));
		service_list(d->requires, requires, sizeof(requires));
		api->reply_record(r);
		api->reply_field(r, "plugin", "%s", d->name);
		api->reply_field(r, "version", "%s", d->version ? d->version : "");
		api->reply_field(r, "state", "%s", state_name(&ld->plugins[i]));
		api->reply_field(r, "provides", "%s", provides);
		api->reply_field(r, "requires", "%s", requires);
		api->reply_field(r, "description", "%s",
				 d->description ? d->description : "");
	}
	if (ld->nplugins == 0)
		api->reply_text(r, "no plugins loaded\n");
	return 0;
}

void params_reply(struct tnd_reply *r, const char *owner,
		  const struct tnd_param *params, const void *values)
{
	char value[512], range[96];

	for (const struct tnd_param *p = params; p && p->name; p++) {
		api->reply_record(r);
		api->reply_field(r, "section", "%s", owner);
		api->reply_field(r, "param", "%s", p->name);
		api->reply_field(r, "type", "%s", param_type_name(p));
		if (values) {
			param_format(p, values, value, sizeof(value));
			api->reply_field(r, "value", "%s", value);
		}
		api->reply_field(r, "default", "%s",
				 p->def ? p->def : "(required)");
		if (p->type == TND_ENUM)
			snprintf(range, sizeof(range), "%s", p->choices);
		else if (p->min != 0 || p->max != 0)
			snprintf(range, sizeof(range), "%.15g..%.15g", p->min,
				 p->max);
		else
			range[0] = '\0';
		api->reply_field(r, "range", "%s", range);
		api->reply_field(r, "reload", "%s",
				 p->flags & TND_PARAM_RELOADABLE ? "yes" : "no");
		api->reply_field(r, "help", "%s", p->help ? p->help : "");
	}
}

static int show_params(struct tnd_reply *r, int argc, char **argv)
{
	struct loader *ld = &the_node->loader;
	bool all = argc == 0;

	if (all || strcmp(argv[0], "node") == 0)
		params_reply(r, "node", node_params, &the_node->cfg);
	if (all || strcmp(argv[0], "plugins") == 0)
		params_reply(r, "plugins", plugins_params,
			     &the_node->plugins_cfg);
	for (size_t i = 0; i < ld->nplugins; i++) {
		const struct tnd_plugin *d = ld->plugins[i].desc;

		if (all || strcmp(argv[0], d->name) == 0)
			params_reply(r, d->name, d->params, ld->plugins[i].cfg);
	}
	if (r->nrecords == 0 && !all)
		return api->reply_error(r, "no section or plugin '%s'", argv[0]);
	return 0;
}

static void counter_row(const char *name, const char *help, uint64_t value,
			void *arg)
{
	struct tnd_reply *r = arg;

	api->reply_record(r);
	api->reply_field(r, "counter", "%s", name);
	api->reply_field_num(r, "value", (long long)value);
	api->reply_field(r, "help", "%s", help);
}

static int show_stats(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc > 0)
		return api->reply_error(r, "show stats takes no arguments");
	host_each_counter(counter_row, r);
	if (r->nrecords == 0)
		api->reply_text(r, "no counters\n");
	return 0;
}

static void category_row(const char *name, enum tnd_log_level level,
			 void *arg)
{
	struct tnd_reply *r = arg;

	api->reply_record(r);
	api->reply_field(r, "category", "%s", name);
	api->reply_field(r, "level", "%s", log_level_name(level));
}

static int show_log(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	log_each_category(category_row, r);
	return 0;
}

static int log_level(struct tnd_reply *r, int argc, char **argv)
{
	enum tnd_log_level level;

	if (argc != 2)
		return api->reply_error(r, "usage: log level CATEGORY|all "
					"error|notice|info|debug");
	if (log_level_parse(argv[1], &level) < 0)
		return api->reply_error(r, "unknown level '%s' (error, notice, "
					"info, debug)", argv[1]);
	if (log_set_level(argv[0], level) < 0)
		return api->reply_error(r, "too many log categories");
	api->reply_text(r, "log level of %s is now %s\n", argv[0], argv[1]);
	return 0;
}

static int reload(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	return node_reload(the_node, r);
}

static int stop(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	api->reply_text(r, "node %s stopping\n", the_node->cfg.name);
	node_begin_stop(the_node);
	return 0;
}

const struct tnd_command node_commands[] = {
	{ "show plugins", NULL, "loaded plugins, their state and services",
	  show_plugins },
	{ "show params", "[SECTION]",
	  "parameters with their current values", show_params },
	{ "show stats", NULL, "every counter of the node", show_stats },
	{ "show log", NULL, "log categories and their levels", show_log },
	{ "log level", "CATEGORY|all LEVEL", "set a log level", log_level },
	{ "reload", NULL, "re-read the config (as SIGHUP does)", reload },
	{ "stop", NULL, "stop the node gracefully (as SIGTERM does)", stop },
	TND_COMMAND_END
};
