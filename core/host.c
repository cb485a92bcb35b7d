/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host API table handed to plugins: timers and fd watches on the node's
 * libuv loop, work handed to the loop from other threads, the service
 * registry, counters and control replies. Every handle remembers the plugin
 * that opened it so the host can close what a plugin forgot.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define LOG_CAT "host"

static struct node *host_node;
static uv_loop_t *host_loop;

static struct plugin_inst *owner_of(struct tnd_plugin *self)
{
	return host_node ? loader_find_desc(&host_node->loader, self) : NULL;
}

static void handle_link(struct handle_base *h, struct tnd_plugin *self,
			void (*close)(struct handle_base *))
{
	h->owner = owner_of(self);
	h->close = close;
	if (h->owner) {
		h->next = h->owner->handles;
		h->owner->handles = h;
	}
}

static void handle_unlink(struct handle_base *h)
{
	struct handle_base **pp;

	if (!h->owner)
		return;
	for (pp = &h->owner->handles; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	h->owner = NULL;
}

void host_close_handles(struct plugin_inst *inst)
{
	while (inst->handles) {
		struct handle_base *h = inst->handles;

		core_notice(LOG_CAT, "plugin %s left a handle open; closing it",
			    inst->desc->name);
		h->close(h);
	}
}

/* ---- Timers ---------------------------------------------------------- */

struct tnd_timer {
	struct handle_base base;
	uv_timer_t uv;
	tnd_timer_cb cb;
	void *arg;
};

static void timer_fired(uv_timer_t *uv)
{
	struct tnd_timer *t = uv->data;

	t->cb(t, t->arg);
}

static void free_on_close(uv_handle_t *uv)
{
	free(uv->data);
}

static void timer_close(struct handle_base *h)
{
	struct tnd_timer *t = (struct tnd_timer *)h;

	handle_unlink(h);
	uv_close((uv_handle_t *)&t->uv, free_on_close);
}

static struct tnd_timer *timer_new(struct tnd_plugin *self, tnd_timer_cb cb,
				   void *arg)
{
	struct tnd_timer *t = calloc(1, sizeof(*t));

	if (!t || !cb) {
		free(t);
		return NULL;
	}
	uv_timer_init(host_loop, &t->uv);
	t->uv.data = t;
	t->cb = cb;
	t->arg = arg;
	handle_link(&t->base, self, timer_close);
	return t;
}

static int timer_start(struct tnd_timer *t, uint64_t timeout_ms,
		       uint64_t repeat_ms)
{
	return uv_timer_start(&t->uv, timer_fired, timeout_ms, repeat_ms);
}

static void timer_stop(struct tnd_timer *t)
{
	uv_timer_stop(&t->uv);
}

static void timer_free(struct tnd_timer *t)
{
	if (t)
		timer_close(&t->base);
}

static uint64_t now_ms(void)
{
	return uv_now(host_loop);
}

/* ---- fd watches ------------------------------------------------------- */

struct tnd_io {
	struct handle_base base;
	uv_poll_t uv;
	int fd;
	tnd_io_cb cb;
	void *arg;
};

static void io_ready(uv_poll_t *uv, int status, int uv_events)
{
	struct tnd_io *io = uv->data;
	int events = 0;

	if (status < 0) {
		io->cb(io, io->fd, status, io->arg);
		return;
	}
	if (uv_events & UV_READABLE)
		events |= TND_IO_READ;
	if (uv_events & UV_WRITABLE)
		events |= TND_IO_WRITE;
	if (uv_events & UV_PRIORITIZED)
		events |= TND_IO_PRIORITY;
	io->cb(io, io->fd, events, io->arg);
}

static void io_close(struct handle_base *h)
{
	struct tnd_io *io = (struct tnd_io *)h;

	handle_unlink(h);
	uv_close((uv_handle_t *)&io->uv, free_on_close);
}

static struct tnd_io *io_new(struct tnd_plugin *self, int fd, tnd_io_cb cb,
			     void *arg)
{
	struct tnd_io *io = calloc(1, sizeof(*io));
	int rc;

	if (!io || !cb) {
		free(io);
		return NULL;
	}
	rc = uv_poll_init(host_loop, &io->uv, fd);
	if (rc < 0) {
		core_error(LOG_CAT, "cannot watch fd %d: %s", fd,
			   uv_strerror(rc));
		free(io);
		return NULL;
	}
	io->uv.data = io;
	io->fd = fd;
	io->cb = cb;
	io->arg = arg;
	handle_link(&io->base, self, io_close);
	return io;
}

static int io_start(struct tnd_io *io, int events)
{
	int uv_events = 0;

	if (events & TND_IO_READ)
		uv_events |= UV_READABLE;
	if (events & TND_IO_WRITE)
		uv_events |= UV_WRITABLE;
	if (events & TND_IO_PRIORITY)
		uv_events |= UV_PRIORITIZED;
	return uv_poll_start(&io->uv, uv_events, io_ready);
}

static void io_stop(struct tnd_io *io)
{
	uv_poll_stop(&io->uv);
}

static void io_free(struct tnd_io *io)
{
	if (io)
		io_close(&io->base);
}

/* ---- Once per loop turn ----------------------------------------------- */

struct tnd_turn {
	struct handle_base base;
	uv_check_t uv;
	tnd_turn_cb cb;
	void *arg;
};

static void turn_run(uv_check_t *uv)
{
	struct tnd_turn *t = uv->data;

	t->cb(t, t->arg);
}

static void turn_close(struct handle_base *h)
{
	struct tnd_turn *t = (struct tnd_turn *)h;

	handle_unlink(h);
	uv_close((uv_handle_t *)&t->uv, free_on_close);
}

static struct tnd_turn *turn_new(struct tnd_plugin *self, tnd_turn_cb cb,
				 void *arg)
{
	struct tnd_turn *t = calloc(1, sizeof(*t));

	if (!t || !cb) {
		free(t);
		return NULL;
	}
	uv_check_init(host_loop, &t->uv);
	t->uv.data = t;
	t->cb = cb;
	t->arg = arg;
	uv_check_start(&t->uv, turn_run);
	/* A check handle alone must not keep the loop alive. */
	uv_unref((uv_handle_t *)&t->uv);
	handle_link(&t->base, self, turn_close);
	return t;
}

static void turn_free(struct tnd_turn *t)
{
	if (t)
		turn_close(&t->base);
}

/* ---- Work handed to the loop from other threads ------------------------ */

struct loop_call {
	struct loop_call *next;
	tnd_call_cb cb;
	void *arg;
};

static uv_async_t call_async;
static bool call_async_open;
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;
static struct loop_call *call_head, **call_tail = &call_head;
static bool calls_closed = true;

static void run_calls(uv_async_t *async)
{
	struct loop_call *list;

	(void)async;
	pthread_mutex_lock(&call_lock);
	list = call_head;
	call_head = NULL;
	call_tail = &call_head;
	pthread_mutex_unlock(&call_lock);
	while (list) {
		struct loop_call *c = list;

		list = c->next;
		c->cb(c->arg);
		free(c);
	}
}

static int call_on_loop(tnd_call_cb cb, void *arg)
{
	struct loop_call *c = malloc(sizeof(*c));
	int cancel_state;

	if (!c)
		return -ENOMEM;
	c->next = NULL;
	c->cb = cb;
	c->arg = arg;
	/* uv_async_send() writes, a cancellation point: a caller's thread
	 * cancelled under call_lock would block the loop for good. */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	pthread_mutex_lock(&call_lock);
	if (calls_closed) {
		pthread_mutex_unlock(&call_lock);
		pthread_setcancelstate(cancel_state, NULL);
		free(c);
		return -ESHUTDOWN;
	}
	*call_tail = c;
	call_tail = &c->next;
	/* uv_async_send under the lock: host_async_close cannot close the
	 * handle between the check above and the send. */
	uv_async_send(&call_async);
	pthread_mutex_unlock(&call_lock);
	pthread_setcancelstate(cancel_state, NULL);
	return 0;
}

int host_async_open(uv_loop_t *loop)
{
	int rc = uv_async_init(loop, &call_async, run_calls);

	if (rc < 0)
		return rc;
	call_async_open = true;
	pthread_mutex_lock(&call_lock);
	calls_closed = false;
	pthread_mutex_unlock(&call_lock);
	return 0;
}

void host_async_close(void)
{
	pthread_mutex_lock(&call_lock);
	calls_closed = true;
	pthread_mutex_unlock(&call_lock);
	if (!call_async_open)
		return;
	run_calls(&call_async); /* what was queued still runs, once */
	uv_close((uv_handle_t *)&call_async, NULL);
	call_async_open = false;
}

/* ---- Services ---------------------------------------------------------- */

struct service {
	struct service *next;
	char *name;
	unsigned version;
	const void *table;
	const struct tnd_plugin *owner;
};

static struct service *services;

static bool declares(const struct tnd_plugin *self, const char *name,
		     unsigned version)
{
	for (const struct tnd_service_ref *p = self->provides; p && p->name;
	     p++)
		if (strcmp(p->name, name) == 0 && p->version == version)
			return true;
	return false;
}

static int service_register(struct tnd_plugin *self, const char *name,
			    unsigned version, const void *table)
{
	struct service *s;

	if (!self || !name || !table)
		return -EINVAL;
	if (!declares(self, name, version)) {
		core_error(LOG_CAT, "plugin %s registers service '%s' version "
			   "%u that its descriptor does not provide",
			   self->name, name, version);
		return -EINVAL;
	}
	for (s = services; s; s = s->next) {
		if (strcmp(s->name, name) == 0 && s->version == version) {
			core_error(LOG_CAT, "service '%s' version %u is already "
				   "registered by %s", name, version,
				   s->owner->name);
			return -EEXIST;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name))) {
		free(s);
		return -ENOMEM;
	}
	s->version = version;
	s->table = table;
	s->owner = self;
	s->next = services;
	services = s;
	return 0;
}

static const void *service_get(const char *name, unsigned min_version)
{
	const struct service *best = NULL;

	for (const struct service *s = services; s; s = s->next)
		if (strcmp(s->name, name) == 0 && s->version >= min_version &&
		    (!best || s->version > best->version))
			best = s;
	return best ? best->table : NULL;
}

void host_forget_services(void)
{
	while (services) {
		struct service *s = services;

		services = s->next;
		free(s->name);
		free(s);
	}
}

/* ---- Counters ---------------------------------------------------------- */

struct tnd_counter {
	struct tnd_counter *next;
	char *name;
	char *help;
	atomic_uint_fast64_t value;
};

static struct tnd_counter *counters, **counters_tail = &counters;

static struct tnd_counter *counter_new(struct tnd_plugin *self,
				       const char *name, const char *help)
{
	struct tnd_counter *c = calloc(1, sizeof(*c));
	char full[128];

	if (!c)
		return NULL;
	snprintf(full, sizeof(full), "%s.%s", self ? self->name : "core",
		 name);
	c->name = strdup(full);
	c->help = strdup(help ? help : "");
	if (!c->name || !c->help) {
		free(c->name);
		free(c->help);
		free(c);
		return NULL;
	}
	*counters_tail = c; /* listed in the order they were made */
	counters_tail = &c->next;
	return c;
}

static void counter_add(struct tnd_counter *c, uint64_t n)
{
	if (c)
		atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

static uint64_t counter_get(const struct tnd_counter *c)
{
	return c ? atomic_load_explicit(&c->value, memory_order_relaxed) : 0;
}

void host_each_counter(void (*cb)(const char *name, const char *help,
				  uint64_t value, void *arg),
		       void *arg)
{
	for (struct tnd_counter *c = counters; c; c = c->next)
		cb(c->name, c->help, counter_get(c), arg);
}

void host_free_counters(void)
{
	while (counters) {
		struct tnd_counter *c = counters;

		counters = c->next;
		free(c->name);
		free(c->help);
		free(c);
	}
	counters_tail = &counters;
}

/* ---- Replies, node, stop ---------------------------------------------- */

static void api_reply_field(struct tnd_reply *r, const char *key,
			    const char *fmt, ...)
{
	char value[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	reply_field_str(r, key, value, false);
}

static void api_reply_field_num(struct tnd_reply *r, const char *key,
				long long v)
{
	char value[32];

	snprintf(value, sizeof(value), "%lld", v);
	reply_field_str(r, key, value, true);
}

static void api_reply_text(struct tnd_reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_vtext(r, fmt, ap);
	va_end(ap);
}

static const char *node_name(void)
{
	return host_node && host_node->cfg.name ? host_node->cfg.name : "tandem";
}

static int for_each_section(const char *prefix, tnd_section_cb cb, void *arg)
{
	struct tnd_config *cfg = host_node ? host_node->config : NULL;
	size_t n = strlen(prefix);

	for (size_t i = 0; cfg && i < cfg->nsections; i++) {
		const char *name = cfg->sections[i].name;

		if (strncmp(name, prefix, n) == 0 &&
		    (name[n] == ' ' || name[n] == '\0')) {
			cfg->sections[i].claimed = true;
			if (cb(name, arg))
				return 1;
		}
	}
	return 0;
}

static int parse_section(const char *section, const struct tnd_param *params,
			 void *out)
{
	struct tnd_config *cfg = host_node ? host_node->config : NULL;

	if (!cfg)
		return -EINVAL;
	return config_apply_params(cfg, config_section(cfg, section), section,
				   params, out) ? -EINVAL : 0;
}

static const char *where(const char *section, const char *key)
{
	static _Thread_local char buf[512];
	struct tnd_config *cfg = host_node ? host_node->config : NULL;
	struct cfg_section *sec = cfg ? config_section(cfg, section) : NULL;
	struct cfg_key *k = key ? config_key(sec, key) : NULL;

	if (!sec)
		return cfg ? cfg->path : "(no config)";
	snprintf(buf, sizeof(buf), "%s:%d", cfg->path, k ? k->line : sec->line);
	return buf;
}

static int plugin_config_error(const char *section, const char *key,
			       const char *fmt, ...)
{
	struct tnd_config *cfg = host_node ? host_node->config : NULL;
	struct cfg_section *sec = cfg ? config_section(cfg, section) : NULL;
	struct cfg_key *k = key ? config_key(sec, key) : NULL;
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cfg)
		config_error(cfg, k ? k->line : sec ? sec->line : 0, "%s", msg);
	else
		core_error(LOG_CAT, "%s", msg);
	return -EINVAL;
}

static void stopped(struct tnd_plugin *self)
{
	struct plugin_inst *inst = owner_of(self);

	if (inst)
		node_plugin_stopped(inst);
}

const struct tnd_host_api host_api = {
	.size = sizeof(struct tnd_host_api),
	.abi_major = TND_ABI_MAJOR,
	.abi_minor = TND_ABI_MINOR,
	.log = tnd_core_log,
	.vlog = tnd_core_vlog,
	.log_enabled = tnd_core_log_enabled,
	.node_name = node_name,
	.for_each_section = for_each_section,
	.parse_section = parse_section,
	.where = where,
	.timer_new = timer_new,
	.timer_start = timer_start,
	.timer_stop = timer_stop,
	.timer_free = timer_free,
	.now_ms = now_ms,
	.io_new = io_new,
	.io_start = io_start,
	.io_stop = io_stop,
	.io_free = io_free,
	.call_on_loop = call_on_loop,
	.service_register = service_register,
	.service_get = service_get,
	.reply_record = reply_record,
	.reply_field = api_reply_field,
	.reply_field_num = api_reply_field_num,
	.reply_text = api_reply_text,
	.reply_error = reply_error,
	.counter_new = counter_new,
	.counter_add = counter_add,
	.counter_get = counter_get,
	.stopped = stopped,
	.config_error = plugin_config_error,
	.turn_new = turn_new,
	.turn_free = turn_free,
};

void host_setup(struct node *node, uv_loop_t *loop)
{
	host_node = node;
	host_loop = loop;
}
