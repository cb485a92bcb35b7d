/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tandem plugin ABI: the descriptor a plugin exports and the host API table
 * the host hands it.
 *
 * A plugin is a libltdl module. It exports exactly one descriptor with
 * TND_PLUGIN_DEFINE(name, ...); the host finds it as `<name>_LTX_tnd_plugin`
 * (so several plugins can be preloaded into one test binary) and checks its
 * ABI version and size before touching anything else in it.
 *
 * Ownership, in one place:
 * - The descriptor and every table it points to are owned by the plugin and
 *   must stay valid and unchanged while the module is loaded.
 * - The configuration struct (cfg_size bytes) is allocated, filled from the
 *   parameter table and freed by the host. String members (TND_STR,
 *   TND_ENUM) point into host-owned memory valid until fini() returns, or
 *   until the next reload() for reloadable parameters.
 * - Handles returned by the host API (timers, fd watches, counters, services)
 *   are owned by the plugin that created them; whatever a plugin has not
 *   freed by the time its fini() returns is closed and freed by the host.
 * - The host API table is owned by the host and valid for the life of the
 *   process. Only the loop thread may call it, except where a function says
 *   it is thread-safe.
 *
 * Compatibility: the host API and the descriptor only grow at their end.
 * A plugin built against ABI minor N runs on a host of the same major and
 * any minor >= N; a plugin reads `host->size` before using a member added
 * after its own minor.
 */
#ifndef TANDEM_PLUGIN_H
#define TANDEM_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TND_ABI_MAJOR 1
#define TND_ABI_MINOR 1

#if defined(__GNUC__)
#define TND_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TND_PRINTF(fmt, args)
#endif

/* ---- Parameters ------------------------------------------------------ */

enum tnd_param_type {
	TND_STR = 1, /* char *; any text */
	TND_INT,     /* long long; decimal or 0x hex, checked against min/max */
	TND_UINT,    /* unsigned long long; as TND_INT, no sign */
	TND_BOOL,    /* int; yes/no, true/false, on/off, 1/0 */
	TND_DOUBLE,  /* double; checked against min/max */
	TND_ENUM,    /* char *; one of the '|'-separated words in `choices` */
};

enum tnd_param_flags {
	TND_PARAM_RELOADABLE = 1 << 0, /* SIGHUP may change it while running */
	TND_PARAM_REQUIRED = 1 << 1,   /* no default: the config must set it */
};

/*
 * One configuration parameter. The host parses the value (from the config
 * file, or `def` when absent), checks type and range, and stores it at
 * `offset` in the plugin's configuration struct. min == max == 0 means no
 * range check.
 */
struct tnd_param {
	const char *name;
	enum tnd_param_type type;
	size_t offset;
	const char *def; /* default as config text; NULL only when REQUIRED */
	const char *help;
	double min, max;
	const char *choices; /* TND_ENUM only: "udp|tcp|tls" */
	unsigned flags;
};

/*
 * One table entry, every member designated (so -Wextra stays quiet), e.g.
 *   TND_PARAM("interval_ms", TND_UINT, struct skel_cfg, interval_ms, "1000",
 *             "tick period, milliseconds", .min = 10, .max = 3600000,
 *             .flags = TND_PARAM_RELOADABLE)
 */
#define TND_PARAM(pname, ptype, cfg_type, member, pdef, phelp, ...)          \
	{ .name = (pname), .type = (ptype),                                   \
	  .offset = offsetof(cfg_type, member), .def = (pdef),                \
	  .help = (phelp), __VA_ARGS__ }

#define TND_PARAM_END { 0 }

/* ---- Services -------------------------------------------------------- */

/* A service a plugin provides, or requires at least `version` of. */
struct tnd_service_ref {
	const char *name;
	unsigned version;
};

#define TND_SERVICE_END { 0 }

/* ---- Control commands ------------------------------------------------ */

/*
 * A reply to a control command is a list of records of ordered key/value
 * fields, plus optional free text. The host renders it as an aligned table
 * for people and as JSON for scripts (`tandemctl --json`), so a command is
 * written once for both.
 */
struct tnd_reply;

struct tnd_command {
	const char *words; /* "skel show", matched word by word */
	const char *args;  /* usage of the arguments after the words, or NULL */
	const char *help;
	/* Return 0, or a negative code after tnd_host_api.reply_error(). */
	int (*run)(struct tnd_reply *reply, int argc, char **argv);
};

#define TND_COMMAND_END { 0 }

/* ---- Host API -------------------------------------------------------- */

enum tnd_log_level {
	TND_LOG_ERROR = 0,
	TND_LOG_NOTICE,
	TND_LOG_INFO,
	TND_LOG_DEBUG,
};

enum tnd_io_events {
	TND_IO_READ = 1,
	TND_IO_WRITE = 2,
	TND_IO_PRIORITY = 4, /* out-of-band data, POLLPRI (DAHDI events) */
};

struct tnd_plugin;
struct tnd_timer;
struct tnd_io;
struct tnd_counter;
struct tnd_config;
struct tnd_turn;

typedef void (*tnd_timer_cb)(struct tnd_timer *timer, void *arg);
/* `events` is what is ready, or negative -errno when the watch failed. */
typedef void (*tnd_io_cb)(struct tnd_io *io, int fd, int events, void *arg);
typedef void (*tnd_call_cb)(void *arg);
typedef void (*tnd_turn_cb)(struct tnd_turn *turn, void *arg);
/* Called once per matching config section; return non-zero to stop. */
typedef int (*tnd_section_cb)(const char *section, void *arg);

/*
 * The functions the host offers a plugin. `self` is the plugin's own
 * descriptor (the one it exported); the host uses it to attribute logs,
 * handles and counters.
 */
struct tnd_host_api {
	size_t size;	      /* sizeof(struct tnd_host_api) of the host */
	unsigned abi_major;   /* TND_ABI_MAJOR of the host */
	unsigned abi_minor;   /* TND_ABI_MINOR of the host */

	/* Logging. Thread-safe. `category` is normally the plugin's name. */
	void (*log)(const char *category, enum tnd_log_level level,
		    const char *file, int line, const char *fmt, ...)
		TND_PRINTF(5, 6);
	void (*vlog)(const char *category, enum tnd_log_level level,
		     const char *file, int line, const char *fmt, va_list ap);
	int (*log_enabled)(const char *category, enum tnd_log_level level);

	/* Node identity, from [node] name. */
	const char *(*node_name)(void);

	/*
	 * Raw access to config sections the plugin owns (its `sections`
	 * prefixes, e.g. every "[span N]"). for_each_section calls `cb` for
	 * every section whose name starts with `prefix` followed by a space
	 * or the end. parse_section fills `cfg` from `params` for one such
	 * section and logs every error with file:line; it returns 0 or
	 * -EINVAL. Strings it stores live until the host frees the config.
	 */
	int (*for_each_section)(const char *prefix, tnd_section_cb cb,
				void *arg);
	int (*parse_section)(const char *section,
			     const struct tnd_param *params, void *cfg);
	/* "file:line" of a section or key, for a plugin's own checks. */
	const char *(*where)(const char *section, const char *key);

	/* Timers on the loop: one-shot when repeat_ms is 0. */
	struct tnd_timer *(*timer_new)(struct tnd_plugin *self,
				       tnd_timer_cb cb, void *arg);
	int (*timer_start)(struct tnd_timer *timer, uint64_t timeout_ms,
			   uint64_t repeat_ms);
	void (*timer_stop)(struct tnd_timer *timer);
	void (*timer_free)(struct tnd_timer *timer);
	uint64_t (*now_ms)(void); /* the loop's monotonic time */

	/* File descriptor watches on the loop. The plugin owns the fd. */
	struct tnd_io *(*io_new)(struct tnd_plugin *self, int fd,
				 tnd_io_cb cb, void *arg);
	int (*io_start)(struct tnd_io *io, int events);
	void (*io_stop)(struct tnd_io *io);
	void (*io_free)(struct tnd_io *io);

	/*
	 * Hand work to the loop thread from any thread (thread-safe): `cb`
	 * runs once, on the loop, soon. Returns 0 or -ENOMEM / -ESHUTDOWN.
	 */
	int (*call_on_loop)(tnd_call_cb cb, void *arg);

	/* Services: a versioned struct of functions, looked up by name. */
	int (*service_register)(struct tnd_plugin *self, const char *name,
				unsigned version, const void *table);
	/* NULL when absent or older than min_version. */
	const void *(*service_get)(const char *name, unsigned min_version);

	/* Control replies (only inside a tnd_command's run()). */
	void (*reply_record)(struct tnd_reply *reply);
	void (*reply_field)(struct tnd_reply *reply, const char *key,
			    const char *fmt, ...) TND_PRINTF(3, 4);
	void (*reply_field_num)(struct tnd_reply *reply, const char *key,
				long long value);
	void (*reply_text)(struct tnd_reply *reply, const char *fmt, ...)
		TND_PRINTF(2, 3);
	int (*reply_error)(struct tnd_reply *reply, const char *fmt, ...)
		TND_PRINTF(2, 3);

	/*
	 * Counters: 64-bit, thread-safe to add to. Named "<plugin>.<name>";
	 * `tandemctl show stats` lists them.
	 */
	struct tnd_counter *(*counter_new)(struct tnd_plugin *self,
					   const char *name, const char *help);
	void (*counter_add)(struct tnd_counter *counter, uint64_t n);
	uint64_t (*counter_get)(const struct tnd_counter *counter);

	/*
	 * A plugin whose stop() returned TND_STOP_PENDING calls this when
	 * its in-flight work is done (or the host gives up after the node's
	 * stop_timeout_ms).
	 */
	void (*stopped)(struct tnd_plugin *self);

	/* ---- ABI 1.1 ---- */
	/*
	 * Report a mistake in the config the plugin found itself (in init(),
	 * for a section it owns): logged as "file:line: message" with the
	 * line of `key` in `section` (of the section when key is NULL or
	 * absent) and counted, so start-up and `tandemd --check` fail with
	 * that one line. Returns -EINVAL for the plugin to pass on.
	 */
	int (*config_error)(const char *section, const char *key,
			    const char *fmt, ...) TND_PRINTF(3, 4);

	/*
	 * Run `cb` once per loop turn, right after the loop has handled the
	 * I/O of that turn: the place to flush work batched during it (group
	 * database commits, answers queued to another thread). Owned by the
	 * plugin like a timer.
	 */
	struct tnd_turn *(*turn_new)(struct tnd_plugin *self, tnd_turn_cb cb,
				     void *arg);
	void (*turn_free)(struct tnd_turn *turn);
};

/* ---- The descriptor -------------------------------------------------- */

#define TND_STOP_PENDING 1

struct tnd_plugin {
	uint16_t abi_major;  /* TND_ABI_MAJOR the plugin was built against */
	uint16_t abi_minor;  /* TND_ABI_MINOR the plugin was built against */
	uint32_t size;	     /* sizeof(struct tnd_plugin) at build time */
	const char *name;    /* also its config section and log category */
	const char *version;
	const char *description; /* one line */

	const struct tnd_service_ref *provides; /* TND_SERVICE_END ends */
	const struct tnd_service_ref *requires;
	const struct tnd_param *params;		/* TND_PARAM_END ends */
	size_t cfg_size;			/* size of the config struct */
	const struct tnd_command *commands;	/* TND_COMMAND_END ends */
	const char *const *sections; /* extra section prefixes, NULL-ended */

	/*
	 * init: config parsed and checked, services of required plugins
	 * registered (their init ran), no I/O yet. Register services here.
	 * start: loop running; open sockets, start timers.
	 * stop: stop taking new work; return 0 when done or
	 *   TND_STOP_PENDING and call host->stopped() later.
	 * fini: free everything. init/start return 0 or a negative code
	 *   after logging why.
	 * reload (optional): reloadable parameters in `cfg` have changed;
	 *   `changed` lists their names, NULL-ended.
	 */
	int (*init)(const struct tnd_host_api *host, void *cfg);
	int (*start)(void);
	int (*stop)(void);
	void (*fini)(void);
	void (*reload)(const char *const *changed);

	/* ---- ABI 1.1 ---- */
	/*
	 * Services used when present: a loaded provider starts before this
	 * plugin (as with `requires`), but a missing one is no error. The
	 * plugin checks with service_get() in init() or start().
	 */
	const struct tnd_service_ref *uses;
};

#define TND_PLUGIN_CONCAT_(a, b) a##_LTX_##b
#define TND_PLUGIN_SYMBOL(name) TND_PLUGIN_CONCAT_(name, tnd_plugin)

/* Declare the descriptor early, to pass it as `self` to the host API. */
#define TND_PLUGIN_DECLARE(name) extern struct tnd_plugin TND_PLUGIN_SYMBOL(name)

/* Define the plugin's exported descriptor; its initialiser follows. */
#define TND_PLUGIN_DEFINE(name)                                               \
	TND_PLUGIN_DECLARE(name);                                             \
	struct tnd_plugin TND_PLUGIN_SYMBOL(name)

#define TND_PLUGIN_HEADER                                                     \
	.abi_major = TND_ABI_MAJOR, .abi_minor = TND_ABI_MINOR,               \
	.size = sizeof(struct tnd_plugin)

/* Logging shorthands: a plugin defines TND_LOG_HOST (its host pointer)
 * and TND_LOG_CATEGORY (its name) before using them. */
#define tnd_log_at(level, ...)                                                \
	TND_LOG_HOST->log(TND_LOG_CATEGORY, level, __FILE__, __LINE__,        \
			  __VA_ARGS__)
#define tnd_error(...) tnd_log_at(TND_LOG_ERROR, __VA_ARGS__)
#define tnd_notice(...) tnd_log_at(TND_LOG_NOTICE, __VA_ARGS__)
#define tnd_info(...) tnd_log_at(TND_LOG_INFO, __VA_ARGS__)
#define tnd_debug(...) tnd_log_at(TND_LOG_DEBUG, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif /* TANDEM_PLUGIN_H */
