/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private header shared by the files of core/ (never installed). Plugins see
 * only core/include/tandem/.
 */
#ifndef TANDEM_CORE_H
#define TANDEM_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "tandem/plugin.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- log.c ----------------------------------------------------------- */

enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

void log_setup(enum log_target target, enum tnd_log_level default_level,
	       const char *ident);
void log_set_default_level(enum tnd_log_level level);
/* Level of one category, or of every category when name is "all". */
int log_set_level(const char *category, enum tnd_log_level level);
int log_level_parse(const char *text, enum tnd_log_level *level);
const char *log_level_name(enum tnd_log_level level);
/* Calls cb for every category seen so far. */
void log_each_category(void (*cb)(const char *name, enum tnd_log_level level,
				  void *arg),
		       void *arg);
void tnd_core_log(const char *category, enum tnd_log_level level,
		  const char *file, int line, const char *fmt, ...)
	TND_PRINTF(5, 6);
void tnd_core_vlog(const char *category, enum tnd_log_level level,
		   const char *file, int line, const char *fmt, va_list ap);
int tnd_core_log_enabled(const char *category, enum tnd_log_level level);

#define core_log(cat, level, ...)                                             \
	tnd_core_log(cat, level, __FILE__, __LINE__, __VA_ARGS__)
#define core_error(cat, ...) core_log(cat, TND_LOG_ERROR, __VA_ARGS__)
#define core_notice(cat, ...) core_log(cat, TND_LOG_NOTICE, __VA_ARGS__)
#define core_info(cat, ...) core_log(cat, TND_LOG_INFO, __VA_ARGS__)
#define core_debug(cat, ...) core_log(cat, TND_LOG_DEBUG, __VA_ARGS__)

/* ---- config.c -------------------------------------------------------- */

struct cfg_key {
	char *name;
	char *value;
	int line;
};

struct cfg_section {
	char *name;
	int line;
	bool claimed; /* some table or plugin owns it */
	struct cfg_key *keys;
	size_t nkeys;
};

struct tnd_config {
	char *path;
	struct cfg_section *sections;
	size_t nsections;
	int nerrors;
};

/* Parse an INI file. Syntax errors are logged (file:line) and counted in
 * nerrors; NULL only when the file cannot be read (logged). */
struct tnd_config *config_load(const char *path);
/* The same from a string, `name` standing for the file in messages. */
struct tnd_config *config_load_string(const char *name, const char *text);
void config_free(struct tnd_config *cfg);
struct cfg_section *config_section(struct tnd_config *cfg, const char *name);
struct cfg_key *config_key(struct cfg_section *sec, const char *name);
/* Log "path:line: message" at error level and count it. */
void config_error(struct tnd_config *cfg, int line, const char *fmt, ...)
	TND_PRINTF(3, 4);
/*
 * Fill `out` from `params`, taking values from `sec` (may be NULL: all
 * defaults). `owner` names the section in messages. Unknown keys, bad
 * values and missing required ones are config errors. Returns the number
 * of errors.
 */
int config_apply_params(struct tnd_config *cfg, struct cfg_section *sec,
			const char *owner, const struct tnd_param *params,
			void *out);
/* Parse one value into `dst`; on failure write the reason to `why`. */
int param_parse(const struct tnd_param *param, const char *text, void *dst,
		char *why, size_t why_size);
/* Render the value stored for `param` in `cfg_struct` as config text. */
void param_format(const struct tnd_param *param, const void *cfg_struct,
		  char *buf, size_t size);
bool param_equal(const struct tnd_param *param, const void *a, const void *b);
/* Copy one parameter's value from src to dst (strings are shared). */
void param_copy(const struct tnd_param *param, void *dst, const void *src);
const char *param_type_name(const struct tnd_param *param);
/* Strings stored into config structs live here until strings_free(). */
char *strings_keep(const char *text);
void strings_free(void);
/* Split a space/comma separated list; returns count, fills words. */
size_t split_words(char *text, char **words, size_t max);

/* ---- loader.c -------------------------------------------------------- */

struct handle_base;

struct plugin_inst {
	struct tnd_plugin *desc;
	void *module; /* lt_dlhandle */
	void *cfg;
	int load_line; /* line of [plugins] load */
	enum { PLUGIN_LOADED, PLUGIN_INITED, PLUGIN_STARTED, PLUGIN_STOPPING,
	       PLUGIN_STOPPED } state;
	struct handle_base *handles; /* open host handles it owns */
};

struct loader {
	struct plugin_inst *plugins; /* in start order once sorted */
	size_t nplugins;
};

/* Prepare libltdl with the search path (colon-separated; may be NULL). */
int loader_init(const char *search_path);
void loader_exit(void);
/* Load and check one module; errors are logged as one line each. */
int loader_load(struct loader *ld, const char *name, int line);
/* Order plugins so each comes after the providers of what it requires. */
int loader_sort(struct loader *ld);
void loader_unload_all(struct loader *ld);
struct plugin_inst *loader_find(struct loader *ld, const char *name);
struct plugin_inst *loader_find_desc(struct loader *ld,
				     const struct tnd_plugin *desc);

/* ---- host.c ---------------------------------------------------------- */

struct handle_base {
	struct handle_base *next;
	struct plugin_inst *owner;
	void (*close)(struct handle_base *h);
};

struct node;
extern const struct tnd_host_api host_api;
void host_setup(struct node *node, uv_loop_t *loop);
int host_async_open(uv_loop_t *loop);
void host_async_close(void);
/* Close what a plugin left open after its fini(). */
void host_close_handles(struct plugin_inst *inst);
void host_forget_services(void);
/* Calls cb for every counter. */
void host_each_counter(void (*cb)(const char *name, const char *help,
				  uint64_t value, void *arg),
		       void *arg);
void host_free_counters(void);

/* ---- ctl.c: control socket and replies -------------------------------- */

struct ctl_field {
	char *key;
	char *value;
	bool number;
};

struct ctl_record {
	struct ctl_field *fields;
	size_t nfields;
};

struct tnd_reply {
	struct ctl_record *records;
	size_t nrecords;
	char *text;
	size_t text_len;
	char *error;
};

struct ctl_server;

void reply_init(struct tnd_reply *r);
void reply_free(struct tnd_reply *r);
void reply_record(struct tnd_reply *r);
void reply_field_str(struct tnd_reply *r, const char *key, const char *value,
		     bool number);
void reply_vtext(struct tnd_reply *r, const char *fmt, va_list ap);
int reply_verror(struct tnd_reply *r, const char *fmt, va_list ap);
int reply_error(struct tnd_reply *r, const char *fmt, ...) TND_PRINTF(2, 3);
/* Render for people or as JSON into a malloc'd string. */
char *reply_render(const struct tnd_reply *r, bool json);

/* Register a NULL-ended command table (plugin or built-in). */
int ctl_add_commands(const struct tnd_command *cmds, const char *owner);
void ctl_remove_commands(const char *owner);
void ctl_remove_all(void);
/* Run one command line (argv) into `reply`. */
void ctl_dispatch(struct tnd_reply *reply, int argc, char **argv);
struct ctl_server *ctl_listen(uv_loop_t *loop, const char *path,
			      const char *user);
void ctl_close(struct ctl_server *srv);

/* ---- node.c ---------------------------------------------------------- */

struct node_cfg {
	char *name;
	char *log_level;
	char *log_target;
	char *control_socket;
	char *user;
	unsigned long long stop_timeout_ms;
};

struct plugins_cfg {
	char *load;
	char *path;
};

extern const struct tnd_param node_params[];
extern const struct tnd_param plugins_params[];

struct node {
	const char *config_path;
	struct tnd_config *config;
	struct node_cfg cfg;
	struct plugins_cfg plugins_cfg;
	struct loader loader;
	uv_loop_t *loop;
	struct ctl_server *ctl;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t stop_timer;
	bool stopping;
	/* a plugin did not finish its stop in stop_timeout_ms: its threads
	 * may still run, so the process ends without exit()'s clean-ups */
	bool abandoned;
	int exit_code;
};

extern struct node *the_node;

/* Load the config and plugins, parse every section. 0 or -EINVAL. */
int node_configure(struct node *node, const char *config_path,
		   const char *extra_plugin_path);
/* --check: init and fini every plugin without starting anything. */
int node_check(struct node *node);
/* Run until stopped; returns the exit code. */
int node_run(struct node *node);
void node_free(struct node *node);
/* Re-read the config; report what changed into `reply` (may be NULL). */
int node_reload(struct node *node, struct tnd_reply *reply);
void node_begin_stop(struct node *node);
void node_plugin_stopped(struct plugin_inst *inst);
/* ---- commands.c ------------------------------------------------------- */

/* Built-in control commands. */
extern const struct tnd_command node_commands[];
/* One record per parameter; `values` (may be NULL) adds current values. */
void params_reply(struct tnd_reply *r, const char *owner,
		  const struct tnd_param *params, const void *values);

#endif /* TANDEM_CORE_H */
