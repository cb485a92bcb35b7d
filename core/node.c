/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The node: reads the config, loads and orders the plugins, runs them
 * through init -> start -> (reload) -> stop -> fini on the libuv loop, and
 * answers the built-in control commands.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

#define LOG_CAT "node"

struct node *the_node;

const struct tnd_param node_params[] = {
	TND_PARAM("name", TND_STR, struct node_cfg, name, "tandem",
		  "name of this node, used in logs and by tandemctl"),
	TND_PARAM("log_level", TND_ENUM, struct node_cfg, log_level, "notice",
		  "level of every log category unless set with 'tandemctl "
		  "log level'",
		  .choices = "error|notice|info|debug",
		  .flags = TND_PARAM_RELOADABLE),
	TND_PARAM("log_target", TND_ENUM, struct node_cfg, log_target,
		  "stderr", "where log lines go", .choices = "stderr|syslog"),
	TND_PARAM("control_socket", TND_STR, struct node_cfg, control_socket,
		  TANDEM_RUNDIR "/tandemd.sock",
		  "unix socket tandemctl talks to (mode 0660)"),
	TND_PARAM("user", TND_STR, struct node_cfg, user, "",
		  "user to run as after opening the control socket (empty: "
		  "stay)"),
	TND_PARAM("stop_timeout_ms", TND_UINT, struct node_cfg,
		  stop_timeout_ms, "5000",
		  "how long plugins may take to finish in-flight work on stop",
		  .min = 0, .max = 600000),
	TND_PARAM_END
};

const struct tnd_param plugins_params[] = {
	TND_PARAM("load", TND_STR, struct plugins_cfg, load, "",
		  "plugins to load, space or comma separated"),
	TND_PARAM("path", TND_STR, struct plugins_cfg, path, "",
		  "extra directories searched for plugins, colon separated, "
		  "before the installed ones"),
	TND_PARAM_END
};

/* ---- Configure ------------------------------------------------------- */

static char *search_path(const char *extra, const char *configured)
{
	size_t n = strlen(extra ? extra : "") + strlen(configured) +
		   strlen(TANDEM_PLUGINDIR) + 3;
	char *path = malloc(n);

	if (!path)
		return NULL;
	snprintf(path, n, "%s%s%s%s%s", extra ? extra : "",
		 extra && *extra ? ":" : "", configured,
		 *configured ? ":" : "", TANDEM_PLUGINDIR);
	return path;
}

static int load_plugins(struct node *node, const char *extra_path)
{
	struct cfg_section *sec = config_section(node->config, "plugins");
	struct cfg_key *key = config_key(sec, "load");
	char *list = strings_keep(node->plugins_cfg.load);
	char *names[128];
	size_t n = split_words(list, names, ARRAY_SIZE(names));
	char *path = search_path(extra_path, node->plugins_cfg.path);
	int rc = path ? loader_init(path) : -ENOMEM;

	free(path);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = loader_load(&node->loader, names[i], key ? key->line : 0);
	if (rc == 0)
		rc = loader_sort(&node->loader);
	return rc;
}

static bool owns_prefix(const struct tnd_plugin *d, const char *section)
{
	for (const char *const *p = d->sections; p && *p; p++) {
		size_t n = strlen(*p);

		if (strncmp(section, *p, n) == 0 &&
		    (section[n] == ' ' || section[n] == '\0'))
			return true;
	}
	return false;
}

/* Every section must belong to the host or to a loaded plugin. */
static void check_sections(struct node *node, struct tnd_config *cfg)
{
	for (size_t i = 0; i < cfg->nsections; i++) {
		struct cfg_section *sec = &cfg->sections[i];

		for (size_t k = 0; !sec->claimed && k < node->loader.nplugins;
		     k++)
			sec->claimed = owns_prefix(node->loader.plugins[k].desc,
						   sec->name);
		if (!sec->claimed)
			config_error(cfg, sec->line, "unknown section [%s]: no "
				     "loaded plugin uses it (is it missing "
				     "from [plugins] load?)", sec->name);
	}
}

static int parse_plugin_sections(struct node *node, struct tnd_config *cfg)
{
	int errors = 0;

	for (size_t i = 0; i < node->loader.nplugins; i++) {
		struct plugin_inst *inst = &node->loader.plugins[i];
		const struct tnd_plugin *d = inst->desc;

		inst->cfg = calloc(1, d->cfg_size ? d->cfg_size : 1);
		if (!inst->cfg)
			return -ENOMEM;
		errors += config_apply_params(cfg, config_section(cfg, d->name),
					      d->name, d->params, inst->cfg);
	}
	return errors ? -EINVAL : 0;
}

static int apply_log_settings(struct node *node)
{
	enum tnd_log_level level = TND_LOG_NOTICE;

	log_level_parse(node->cfg.log_level, &level);
	log_setup(strcmp(node->cfg.log_target, "syslog") == 0 ? LOG_TO_SYSLOG
							       : LOG_TO_STDERR,
		  level, "tandemd");
	return 0;
}

static void check_user(struct tnd_config *cfg, const char *user)
{
	struct cfg_key *key = config_key(config_section(cfg, "node"), "user");

	if (user && *user && !getpwnam(user))
		config_error(cfg, key ? key->line : 0,
			     "[node] user '%s' does not exist", user);
}

int node_configure(struct node *node, const char *config_path,
		   const char *extra_plugin_path)
{
	struct tnd_config *cfg;

	the_node = node;
	node->config_path = config_path;
	node->config = cfg = config_load(config_path);
	if (!cfg)
		return -ENOENT;
	config_apply_params(cfg, config_section(cfg, "node"), "node",
			    node_params, &node->cfg);
	config_apply_params(cfg, config_section(cfg, "plugins"), "plugins",
			    plugins_params, &node->plugins_cfg);
	check_user(cfg, node->cfg.user);
	if (cfg->nerrors)
		return -EINVAL;
	apply_log_settings(node);
	if (load_plugins(node, extra_plugin_path) != 0)
		return -EINVAL;
	parse_plugin_sections(node, cfg);
	check_sections(node, cfg);
	return cfg->nerrors ? -EINVAL : 0;
}

/* ---- Lifecycle ---------------------------------------------------------- */

static int init_plugins(struct node *node)
{
	for (size_t i = 0; i < node->loader.nplugins; i++) {
		struct plugin_inst *inst = &node->loader.plugins[i];
		int errors = node->config->nerrors;
		int rc = inst->desc->init(&host_api, inst->cfg);

		/* A plugin that reported its config errors said it all. */
		if (rc != 0 && node->config->nerrors == errors)
			core_error(LOG_CAT, "plugin %s failed to initialise "
				   "(%d)", inst->desc->name, rc);
		if (rc != 0)
			return rc < 0 ? rc : -EINVAL;
		inst->state = PLUGIN_INITED;
		if (node->config->nerrors) /* a plugin's own section check */
			return -EINVAL;
	}
	return 0;
}

static void fini_plugins(struct node *node)
{
	for (size_t i = node->loader.nplugins; i-- > 0;) {
		struct plugin_inst *inst = &node->loader.plugins[i];

		if (inst->state == PLUGIN_LOADED)
			continue;
		inst->desc->fini();
		inst->state = PLUGIN_LOADED;
		host_close_handles(inst);
		ctl_remove_commands(inst->desc->name);
	}
	host_forget_services();
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Run the loop until every handle has closed, then free it. */
static void loop_drain(uv_loop_t *loop)
{
	uv_walk(loop, close_walk, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
}

int node_check(struct node *node)
{
	uv_loop_t loop;
	int rc;

	uv_loop_init(&loop);
	host_setup(node, &loop);
	host_async_open(&loop);
	rc = init_plugins(node);
	fini_plugins(node);
	host_async_close();
	loop_drain(&loop);
	host_setup(node, NULL);
	return rc;
}

static void finish(struct node *node)
{
	fini_plugins(node);
	ctl_remove_all();
	host_async_close();
	uv_close((uv_handle_t *)&node->sig_term, NULL);
	uv_close((uv_handle_t *)&node->sig_int, NULL);
	uv_close((uv_handle_t *)&node->sig_hup, NULL);
	uv_close((uv_handle_t *)&node->stop_timer, NULL);
	core_notice(LOG_CAT, "node %s stopped", node->cfg.name);
}

static void stop_next(struct node *node)
{
	for (size_t i = node->loader.nplugins; i-- > 0;) {
		struct plugin_inst *inst = &node->loader.plugins[i];
		int rc;

		if (inst->state == PLUGIN_STOPPING)
			return; /* still finishing its work */
		if (inst->state != PLUGIN_STARTED)
			continue;
		rc = inst->desc->stop ? inst->desc->stop() : 0;
		if (rc == TND_STOP_PENDING) {
			inst->state = PLUGIN_STOPPING;
			core_info(LOG_CAT, "plugin %s is finishing its work",
				  inst->desc->name);
			return;
		}
		inst->state = PLUGIN_STOPPED;
	}
	uv_timer_stop(&node->stop_timer);
	finish(node);
}

void node_plugin_stopped(struct plugin_inst *inst)
{
	if (inst->state != PLUGIN_STOPPING)
		return;
	inst->state = PLUGIN_STOPPED;
	stop_next(the_node);
}

static void stop_timeout(uv_timer_t *t)
{
	struct node *node = t->data;

	for (size_t i = 0; i < node->loader.nplugins; i++) {
		struct plugin_inst *inst = &node->loader.plugins[i];

		if (inst->state == PLUGIN_STOPPING) {
			core_notice(LOG_CAT, "plugin %s did not finish in %llu "
				    "ms; stopping anyway", inst->desc->name,
				    node->cfg.stop_timeout_ms);
			inst->state = PLUGIN_STOPPED;
			node->abandoned = true;
		}
	}
	stop_next(node);
}

void node_begin_stop(struct node *node)
{
	if (node->stopping)
		return;
	node->stopping = true;
	core_notice(LOG_CAT, "node %s stopping", node->cfg.name);
	ctl_close(node->ctl);
	node->ctl = NULL;
	uv_timer_start(&node->stop_timer, stop_timeout,
		       node->cfg.stop_timeout_ms, 0);
	stop_next(node);
}

static void on_signal(uv_signal_t *sig, int signum)
{
	struct node *node = sig->data;

	if (signum == SIGHUP) {
		node_reload(node, NULL);
		return;
	}
	if (node->stopping) {
		core_notice(LOG_CAT, "second stop signal: exiting now");
		exit(1);
	}
	node_begin_stop(node);
}

static int drop_privileges(const char *user)
{
	struct passwd *pw;

	if (!user || !*user)
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		core_error(LOG_CAT, "[node] user '%s' does not exist", user);
		return -ENOENT;
	}
	if (geteuid() == pw->pw_uid)
		return 0;
	if (geteuid() != 0) {
		core_error(LOG_CAT, "[node] user '%s': only root can switch "
			   "user", user);
		return -EPERM;
	}
	if (initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		core_error(LOG_CAT, "cannot switch to user '%s': %s", user,
			   strerror(errno));
		return -errno;
	}
	core_info(LOG_CAT, "running as user %s", user);
	return 0;
}

static int start_plugins(struct node *node)
{
	for (size_t i = 0; i < node->loader.nplugins; i++) {
		struct plugin_inst *inst = &node->loader.plugins[i];
		int rc = inst->desc->start ? inst->desc->start() : 0;

		if (rc != 0) {
			core_error(LOG_CAT, "plugin %s failed to start (%d)",
				   inst->desc->name, rc);
			return rc < 0 ? rc : -EINVAL;
		}
		inst->state = PLUGIN_STARTED;
		ctl_add_commands(inst->desc->commands, inst->desc->name);
		core_info(LOG_CAT, "plugin %s started", inst->desc->name);
	}
	return 0;
}

static void open_signals(struct node *node)
{
	uv_signal_t *sigs[] = { &node->sig_term, &node->sig_int,
				&node->sig_hup };
	int nums[] = { SIGTERM, SIGINT, SIGHUP };

	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		uv_signal_init(node->loop, sigs[i]);
		sigs[i]->data = node;
		uv_signal_start(sigs[i], on_signal, nums[i]);
	}
	uv_timer_init(node->loop, &node->stop_timer);
	node->stop_timer.data = node;
}

int node_run(struct node *node)
{
	static uv_loop_t loop;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&loop);
	node->loop = &loop;
	host_setup(node, &loop);
	host_async_open(&loop);
	open_signals(node);
	ctl_add_commands(node_commands, "core");
	node->ctl = ctl_listen(&loop, node->cfg.control_socket,
			       node->cfg.user);
	rc = node->ctl ? drop_privileges(node->cfg.user) : -EIO;
	if (rc == 0)
		rc = init_plugins(node);
	if (rc == 0)
		rc = start_plugins(node);
	if (rc == 0)
		core_notice(LOG_CAT, "node %s running with %zu plugins",
			    node->cfg.name, node->loader.nplugins);
	node->exit_code = rc == 0 ? 0 : 1;
	node->stopping = false;
	if (rc != 0)
		node_begin_stop(node);
	uv_run(&loop, UV_RUN_DEFAULT);
	loop_drain(&loop);
	host_setup(node, NULL);
	return node->exit_code;
}

void node_free(struct node *node)
{
	loader_unload_all(&node->loader);
	loader_exit();
	config_free(node->config);
	node->config = NULL;
	host_free_counters();
	strings_free();
	the_node = NULL;
}

/* ---- Reload ----------------------------------------------------------- */

struct reload_report {
	char changed[1024];
	char restart[1024];
};

static void note(char *list, size_t size, const char *owner, const char *name)
{
	size_t used = strlen(list);

	snprintf(list + used, size - used, "%s%s.%s", used ? ", " : "", owner,
		 name);
}

/* Take the reloadable values that changed; note the others. */
static void reload_params(const char *owner, const struct tnd_param *params,
			  void *live, const void *fresh,
			  struct reload_report *rep, const char **changed,
			  size_t max_changed)
{
	size_t n = 0;

	for (const struct tnd_param *p = params; p && p->name; p++) {
		if (param_equal(p, live, fresh))
			continue;
		if (p->flags & TND_PARAM_RELOADABLE) {
			param_copy(p, live, fresh);
			note(rep->changed, sizeof(rep->changed), owner, p->name);
			if (n + 1 < max_changed)
				changed[n++] = p->name;
		} else {
			note(rep->restart, sizeof(rep->restart), owner,
			     p->name);
		}
	}
	changed[n] = NULL;
}

/* Parse each plugin's section of the new config (errors are counted in
 * fresh_cfg); NULL only when out of memory. */
static void **parse_fresh(struct node *node, struct tnd_config *fresh_cfg)
{
	void **cfgs = calloc(node->loader.nplugins + 1, sizeof(*cfgs));

	for (size_t i = 0; cfgs && i < node->loader.nplugins; i++) {
		const struct tnd_plugin *d = node->loader.plugins[i].desc;

		cfgs[i] = calloc(1, d->cfg_size ? d->cfg_size : 1);
		if (!cfgs[i])
			continue;
		config_apply_params(fresh_cfg,
				    config_section(fresh_cfg, d->name), d->name,
				    d->params, cfgs[i]);
	}
	return cfgs;
}

static void apply_fresh(struct node *node, void **cfgs,
			struct reload_report *rep)
{
	for (size_t i = 0; i < node->loader.nplugins; i++) {
		struct plugin_inst *inst = &node->loader.plugins[i];
		const char *changed[64];

		reload_params(inst->desc->name, inst->desc->params, inst->cfg,
			      cfgs[i], rep, changed, ARRAY_SIZE(changed));
		if (changed[0] && inst->desc->reload)
			inst->desc->reload(changed);
	}
}

static void free_fresh(struct node *node, void **cfgs)
{
	for (size_t i = 0; cfgs && i < node->loader.nplugins; i++)
		free(cfgs[i]);
	free(cfgs);
}

static bool same_keys_and_values(struct cfg_section *a, struct cfg_section *b)
{
	if (!a || !b || a->nkeys != b->nkeys)
		return false;
	for (size_t k = 0; k < a->nkeys; k++) {
		struct cfg_key *other = config_key(b, a->keys[k].name);

		if (!other || strcmp(other->value, a->keys[k].value) != 0)
			return false;
	}
	return true;
}

static bool owned_by_prefix(struct node *node, const char *section)
{
	for (size_t i = 0; i < node->loader.nplugins; i++)
		if (owns_prefix(node->loader.plugins[i].desc, section))
			return true;
	return false;
}

/* Sections a plugin owns by prefix ([span N]) are read in its init():
 * a change to them, or one added or removed, needs a restart. */
static void note_section_changes(struct node *node, struct tnd_config *old,
				 struct tnd_config *fresh,
				 struct reload_report *rep)
{
	struct tnd_config *cfgs[2] = { fresh, old };

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < cfgs[pass]->nsections; i++) {
			struct cfg_section *sec = &cfgs[pass]->sections[i];
			struct cfg_section *other =
				config_section(cfgs[!pass], sec->name);
			size_t used = strlen(rep->restart);

			if (!owned_by_prefix(node, sec->name) ||
			    (other && (pass == 1 ||
				       same_keys_and_values(sec, other))))
				continue;
			snprintf(rep->restart + used,
				 sizeof(rep->restart) - used, "%s[%s]",
				 used ? ", " : "", sec->name);
		}
	}
}

static int reload_refused(struct tnd_config *fresh, struct tnd_reply *reply)
{
	int errors = fresh ? fresh->nerrors : 1;

	core_error(LOG_CAT, "reload refused: %d error(s) in the config; the "
		   "running config stays", errors);
	if (reply)
		host_api.reply_error(reply, "reload refused: %d error(s) in "
				     "the config (see the node's log); the "
				     "running config stays", errors);
	config_free(fresh);
	return -EINVAL;
}

int node_reload(struct node *node, struct tnd_reply *reply)
{
	struct tnd_config *fresh = config_load(node->config_path);
	struct reload_report rep = { "", "" };
	struct node_cfg node_cfg = { 0 };
	struct plugins_cfg plugins_cfg = { 0 };
	const char *changed[16];
	void **cfgs;

	if (!fresh || fresh->nerrors)
		return reload_refused(fresh, reply);
	config_apply_params(fresh, config_section(fresh, "node"), "node",
			    node_params, &node_cfg);
	config_apply_params(fresh, config_section(fresh, "plugins"), "plugins",
			    plugins_params, &plugins_cfg);
	cfgs = parse_fresh(node, fresh);
	check_sections(node, fresh);
	/* Validate everything before changing anything. */
	if (!cfgs || fresh->nerrors) {
		free_fresh(node, cfgs);
		return reload_refused(fresh, reply);
	}
	reload_params("node", node_params, &node->cfg, &node_cfg, &rep, changed,
		      ARRAY_SIZE(changed));
	reload_params("plugins", plugins_params, &node->plugins_cfg,
		      &plugins_cfg, &rep, changed, ARRAY_SIZE(changed));
	apply_fresh(node, cfgs, &rep);
	note_section_changes(node, node->config, fresh, &rep);
	free_fresh(node, cfgs);
	if (strstr(rep.changed, "node.log_level"))
		apply_log_settings(node);
	config_free(node->config);
	node->config = fresh;
	core_notice(LOG_CAT, "reloaded %s: changed: %s; need a restart: %s",
		    node->config_path, rep.changed[0] ? rep.changed : "none",
		    rep.restart[0] ? rep.restart : "none");
	if (reply) {
		host_api.reply_field(reply, "changed", "%s",
				     rep.changed[0] ? rep.changed : "none");
		host_api.reply_field(reply, "need_restart", "%s",
				     rep.restart[0] ? rep.restart : "none");
	}
	return 0;
}
