/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Control socket: a unix stream socket (mode 0660) that takes one command
 * per connection and answers it.
 *
 * Wire format (docs/control-protocol.md): the client sends the output
 * form ("text" or "json") and then the command words, each terminated by a
 * NUL byte, and one more NUL to end the request. The node answers with a
 * first line "ok" or "error", then the rendered reply, and closes.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core.h"

#define LOG_CAT "ctl"
#define MAX_REQUEST_BYTES 65536
#define MAX_ARGS 64
#define CLIENT_TIMEOUT_MS 5000
#define MAX_CLIENTS 32

/* ---- Replies ----------------------------------------------------------- */

static void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size);

	if (!q && size)
		abort();
	return q;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d)
		abort();
	return d;
}

void reply_init(struct tnd_reply *r)
{
	memset(r, 0, sizeof(*r));
}

void reply_free(struct tnd_reply *r)
{
	for (size_t i = 0; i < r->nrecords; i++) {
		for (size_t k = 0; k < r->records[i].nfields; k++) {
			free(r->records[i].fields[k].key);
			free(r->records[i].fields[k].value);
		}
		free(r->records[i].fields);
	}
	free(r->records);
	free(r->text);
	free(r->error);
	reply_init(r);
}

void reply_record(struct tnd_reply *r)
{
	r->records = xrealloc(r->records,
			      (r->nrecords + 1) * sizeof(*r->records));
	memset(&r->records[r->nrecords++], 0, sizeof(*r->records));
}

void reply_field_str(struct tnd_reply *r, const char *key, const char *value,
		     bool number)
{
	struct ctl_record *rec;
	struct ctl_field *f;

	if (r->nrecords == 0)
		reply_record(r);
	rec = &r->records[r->nrecords - 1];
	rec->fields = xrealloc(rec->fields,
			       (rec->nfields + 1) * sizeof(*rec->fields));
	f = &rec->fields[rec->nfields++];
	f->key = xstrdup(key);
	f->value = xstrdup(value);
	f->number = number;
}

void reply_vtext(struct tnd_reply *r, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	r->text = xrealloc(r->text, r->text_len + (size_t)n + 1);
	vsnprintf(r->text + r->text_len, (size_t)n + 1, fmt, ap);
	r->text_len += (size_t)n;
}

int reply_verror(struct tnd_reply *r, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	free(r->error);
	r->error = xstrdup(msg);
	return -EINVAL;
}

int reply_error(struct tnd_reply *r, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = reply_verror(r, fmt, ap);
	va_end(ap);
	return rc;
}

/* A growing output string. */
struct out {
	char *buf;
	size_t len, cap;
};

static void out_add(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->buf = xrealloc(o->buf, o->cap);
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void out_str(struct out *o, const char *s)
{
	out_add(o, s, strlen(s));
}

static void out_pad(struct out *o, const char *s, size_t width)
{
	size_t n = strlen(s);

	out_str(o, s);
	while (n++ < width)
		out_add(o, " ", 1);
}

static void out_json_string(struct out *o, const char *s)
{
	out_add(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			out_add(o, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			out_str(o, esc);
		} else {
			out_add(o, (const char *)&c, 1);
		}
	}
	out_add(o, "\"", 1);
}

static void render_json(const struct tnd_reply *r, struct out *o)
{
	out_str(o, r->error ? "{\"ok\":false" : "{\"ok\":true");
	if (r->error) {
		out_str(o, ",\"error\":");
		out_json_string(o, r->error);
	}
	out_str(o, ",\"records\":[");
	for (size_t i = 0; i < r->nrecords; i++) {
		const struct ctl_record *rec = &r->records[i];

		out_str(o, i ? ",{" : "{");
		for (size_t k = 0; k < rec->nfields; k++) {
			if (k)
				out_add(o, ",", 1);
			out_json_string(o, rec->fields[k].key);
			out_add(o, ":", 1);
			if (rec->fields[k].number)
				out_str(o, rec->fields[k].value);
			else
				out_json_string(o, rec->fields[k].value);
		}
		out_add(o, "}", 1);
	}
	out_str(o, "]");
	if (r->text) {
		out_str(o, ",\"text\":");
		out_json_string(o, r->text);
	}
	out_str(o, "}\n");
}

static bool same_keys(const struct ctl_record *a, const struct ctl_record *b)
{
	if (a->nfields != b->nfields)
		return false;
	for (size_t k = 0; k < a->nfields; k++)
		if (strcmp(a->fields[k].key, b->fields[k].key) != 0)
			return false;
	return true;
}

/* Records with the same keys read best as a table, one row each. */
static void render_table(const struct tnd_reply *r, struct out *o)
{
	const struct ctl_record *first = &r->records[0];
	size_t width[64] = { 0 };
	size_t ncols = first->nfields < 64 ? first->nfields : 64;

	for (size_t k = 0; k < ncols; k++)
		width[k] = strlen(first->fields[k].key);
	for (size_t i = 0; i < r->nrecords; i++)
		for (size_t k = 0; k < ncols; k++) {
			size_t n = strlen(r->records[i].fields[k].value);

			if (n > width[k])
				width[k] = n;
		}
	for (size_t k = 0; k < ncols; k++)
		out_pad(o, first->fields[k].key, k + 1 < ncols ? width[k] + 2 : 0);
	out_str(o, "\n");
	for (size_t i = 0; i < r->nrecords; i++) {
		for (size_t k = 0; k < ncols; k++)
			out_pad(o, r->records[i].fields[k].value,
				k + 1 < ncols ? width[k] + 2 : 0);
		out_str(o, "\n");
	}
}

static void render_blocks(const struct tnd_reply *r, struct out *o)
{
	for (size_t i = 0; i < r->nrecords; i++) {
		const struct ctl_record *rec = &r->records[i];
		size_t width = 0;

		for (size_t k = 0; k < rec->nfields; k++)
			if (strlen(rec->fields[k].key) > width)
				width = strlen(rec->fields[k].key);
		if (i)
			out_str(o, "\n");
		for (size_t k = 0; k < rec->nfields; k++) {
			out_str(o, rec->fields[k].key);
			out_str(o, ":");
			out_pad(o, "", width - strlen(rec->fields[k].key) + 1);
			out_str(o, rec->fields[k].value);
			out_str(o, "\n");
		}
	}
}

static void render_text(const struct tnd_reply *r, struct out *o)
{
	bool table = r->nrecords > 1;

	if (r->error) {
		out_str(o, "error: ");
		out_str(o, r->error);
		out_str(o, "\n");
		return;
	}
	for (size_t i = 1; table && i < r->nrecords; i++)
		table = same_keys(&r->records[0], &r->records[i]);
	if (table)
		render_table(r, o);
	else
		render_blocks(r, o);
	if (r->text) {
		out_str(o, r->text);
		if (r->text_len && r->text[r->text_len - 1] != '\n')
			out_str(o, "\n");
	}
}

char *reply_render(const struct tnd_reply *r, bool json)
{
	struct out o = { 0 };

	if (json)
		render_json(r, &o);
	else
		render_text(r, &o);
	if (!o.buf)
		out_str(&o, "");
	return o.buf;
}

/* ---- Command registry ------------------------------------------------- */

struct cmd_entry {
	const struct tnd_command *cmd;
	char *owner;
	char *words[8];
	size_t nwords;
	char *words_buf;
};

static struct cmd_entry *cmds;
static size_t ncmds;

int ctl_add_commands(const struct tnd_command *table, const char *owner)
{
	for (const struct tnd_command *c = table; c && c->words; c++) {
		struct cmd_entry *e;

		cmds = xrealloc(cmds, (ncmds + 1) * sizeof(*cmds));
		e = &cmds[ncmds++];
		memset(e, 0, sizeof(*e));
		e->cmd = c;
		e->owner = xstrdup(owner);
		e->words_buf = xstrdup(c->words);
		e->nwords = split_words(e->words_buf, e->words,
					ARRAY_SIZE(e->words));
	}
	return 0;
}

static void entry_free(struct cmd_entry *e)
{
	free(e->owner);
	free(e->words_buf);
}

void ctl_remove_commands(const char *owner)
{
	size_t kept = 0;

	for (size_t i = 0; i < ncmds; i++) {
		if (strcmp(cmds[i].owner, owner) == 0)
			entry_free(&cmds[i]);
		else
			cmds[kept++] = cmds[i];
	}
	ncmds = kept;
}

void ctl_remove_all(void)
{
	for (size_t i = 0; i < ncmds; i++)
		entry_free(&cmds[i]);
	free(cmds);
	cmds = NULL;
	ncmds = 0;
}

static bool entry_matches(const struct cmd_entry *e, int argc, char **argv)
{
	if ((size_t)argc < e->nwords)
		return false;
	for (size_t k = 0; k < e->nwords; k++)
		if (strcmp(e->words[k], argv[k]) != 0)
			return false;
	return true;
}

static void help(struct tnd_reply *r, int argc, char **argv)
{
	for (size_t i = 0; i < ncmds; i++) {
		const struct tnd_command *c = cmds[i].cmd;
		bool wanted = true;

		/* "help show" lists the commands starting with "show". */
		for (int k = 0; k < argc && wanted; k++)
			wanted = (size_t)k < cmds[i].nwords &&
				 strcmp(cmds[i].words[k], argv[k]) == 0;
		if (!wanted)
			continue;
		reply_record(r);
		reply_field_str(r, "command", c->words, false);
		reply_field_str(r, "args", c->args ? c->args : "", false);
		reply_field_str(r, "owner", cmds[i].owner, false);
		reply_field_str(r, "help", c->help ? c->help : "", false);
	}
}

void ctl_dispatch(struct tnd_reply *r, int argc, char **argv)
{
	struct cmd_entry *best = NULL;

	if (argc == 0 || strcmp(argv[0], "help") == 0) {
		help(r, argc ? argc - 1 : 0, argv + 1);
		return;
	}
	/* The longest match wins: "skel show" before "skel". */
	for (size_t i = 0; i < ncmds; i++)
		if (entry_matches(&cmds[i], argc, argv) &&
		    (!best || cmds[i].nwords > best->nwords))
			best = &cmds[i];
	if (!best) {
		char line[256] = "";
		size_t used = 0;

		for (int k = 0; k < argc && used < sizeof(line) - 2; k++)
			used += (size_t)snprintf(line + used,
						 sizeof(line) - used, "%s%s",
						 k ? " " : "", argv[k]);
		reply_error(r, "unknown command '%s'; 'help' lists the "
			    "commands", line);
		return;
	}
	argc -= (int)best->nwords;
	argv += best->nwords;
	if (best->cmd->run(r, argc, argv) < 0 && !r->error)
		reply_error(r, "%s failed", best->cmd->words);
}

/* ---- The socket ------------------------------------------------------- */

struct ctl_server {
	uv_pipe_t pipe;
	char *path;
	size_t nclients;
};

struct ctl_client {
	uv_pipe_t pipe;
	uv_timer_t timer;
	struct ctl_server *srv;
	char buf[MAX_REQUEST_BYTES];
	size_t len;
	bool answered;
	int open_handles;
	uv_write_t write;
	char *answer;
};

static void client_handle_closed(uv_handle_t *h)
{
	struct ctl_client *c = h->data;

	if (--c->open_handles == 0) {
		c->srv->nclients--;
		free(c->answer);
		free(c);
	}
}

static void client_close(struct ctl_client *c)
{
	if (uv_is_closing((uv_handle_t *)&c->pipe))
		return;
	uv_read_stop((uv_stream_t *)&c->pipe);
	uv_close((uv_handle_t *)&c->timer, client_handle_closed);
	uv_close((uv_handle_t *)&c->pipe, client_handle_closed);
}

static void written(uv_write_t *w, int status)
{
	(void)status;
	client_close(w->data);
}

static void client_send(struct ctl_client *c, bool ok, const char *body)
{
	size_t n = strlen(body);
	uv_buf_t buf;

	c->answered = true;
	c->answer = malloc(n + 8);
	if (!c->answer) {
		client_close(c);
		return;
	}
	n = (size_t)sprintf(c->answer, "%s\n%s", ok ? "ok" : "error", body);
	buf = uv_buf_init(c->answer, (unsigned)n);
	c->write.data = c;
	uv_read_stop((uv_stream_t *)&c->pipe);
	if (uv_write(&c->write, (uv_stream_t *)&c->pipe, &buf, 1, written) < 0)
		client_close(c);
}

/* Split "form\0word\0word\0\0"; returns argc or -1 while incomplete. */
static int split_request(char *buf, size_t len, char **argv, int max)
{
	int argc = 0;
	size_t pos = 0;

	while (pos < len) {
		char *end = memchr(buf + pos, '\0', len - pos);

		if (!end)
			return -1;
		if (end == buf + pos)
			return argc; /* the empty word ends the request */
		if (argc == max)
			return -2;
		argv[argc++] = buf + pos;
		pos = (size_t)(end - buf) + 1;
	}
	return -1;
}

static void client_run(struct ctl_client *c, int argc, char **argv)
{
	struct tnd_reply reply;
	bool json = strcmp(argv[0], "json") == 0;
	char *body;

	reply_init(&reply);
	if (!json && strcmp(argv[0], "text") != 0)
		reply_error(&reply, "bad request form '%s'", argv[0]);
	else
		ctl_dispatch(&reply, argc - 1, argv + 1);
	body = reply_render(&reply, json);
	client_send(c, reply.error == NULL, body);
	free(body);
	reply_free(&reply);
}

static void client_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct ctl_client *c = h->data;

	(void)hint;
	*buf = uv_buf_init(c->buf + c->len,
			   (unsigned)(sizeof(c->buf) - c->len));
}

static void client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct ctl_client *c = s->data;
	char *argv[MAX_ARGS + 1];
	int argc;

	(void)b;
	if (nread < 0 || c->answered) {
		if (!c->answered)
			client_close(c);
		return;
	}
	c->len += (size_t)nread;
	argc = split_request(c->buf, c->len, argv, MAX_ARGS + 1);
	if (argc >= 1) {
		client_run(c, argc, argv);
		return;
	}
	if (argc == -2 || argc == 0 || c->len == sizeof(c->buf)) {
		client_send(c, false, argc == 0 ? "error: empty request\n"
						: "error: request too large\n");
		core_info(LOG_CAT, "control request refused: %s",
			  argc == 0 ? "empty" : "too large");
	}
}

static void client_timeout(uv_timer_t *t)
{
	struct ctl_client *c = t->data;

	core_info(LOG_CAT, "control client sent no complete request in %d ms",
		  CLIENT_TIMEOUT_MS);
	client_close(c);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct ctl_server *srv = server->data;
	struct ctl_client *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->srv = srv;
	uv_pipe_init(server->loop, &c->pipe, 0);
	uv_timer_init(server->loop, &c->timer);
	c->pipe.data = c->timer.data = c;
	c->open_handles = 2;
	srv->nclients++;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
		client_close(c);
		return;
	}
	if (srv->nclients > MAX_CLIENTS) {
		core_notice(LOG_CAT, "too many control clients; refusing one");
		client_close(c);
		return;
	}
	uv_timer_start(&c->timer, client_timeout, CLIENT_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&c->pipe, client_alloc, client_read);
}

static int socket_owner(const char *path, const char *user)
{
	struct passwd *pw;

	if (!user || !*user)
		return 0;
	pw = getpwnam(user);
	if (!pw) {
		core_error(LOG_CAT, "user '%s' does not exist", user);
		return -ENOENT;
	}
	if (chown(path, pw->pw_uid, pw->pw_gid) < 0) {
		core_error(LOG_CAT, "chown %s to %s: %s", path, user,
			   strerror(errno));
		return -errno;
	}
	return 0;
}

/* The run directory may not exist yet on a fresh install (systemd's
 * RuntimeDirectory makes it; by hand nobody does). One level only. */
static void make_parent_dir(const char *path)
{
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0750) == 0)
		core_info(LOG_CAT, "created %s", dir);
}

static bool socket_in_use(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;
	bool live;

	if (strlen(path) >= sizeof(addr.sun_path))
		return false;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	live = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	close(fd);
	return live;
}

static void server_closed(uv_handle_t *h)
{
	struct ctl_server *srv = h->data;

	free(srv->path);
	free(srv);
}

struct ctl_server *ctl_listen(uv_loop_t *loop, const char *path,
			      const char *user)
{
	struct ctl_server *srv = calloc(1, sizeof(*srv));
	int rc;

	if (!srv)
		return NULL;
	srv->path = xstrdup(path);
	uv_pipe_init(loop, &srv->pipe, 0);
	srv->pipe.data = srv;
	make_parent_dir(path);
	if (socket_in_use(path)) {
		core_error(LOG_CAT, "control socket %s: another node is "
			   "listening on it", path);
		uv_close((uv_handle_t *)&srv->pipe, server_closed);
		return NULL;
	}
	/* A socket left by a node that died is stale: replace it. */
	unlink(path);
	rc = uv_pipe_bind(&srv->pipe, path);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->pipe, 16, on_connection);
	if (rc < 0) {
		core_error(LOG_CAT, "control socket %s: %s", path,
			   uv_strerror(rc));
		uv_close((uv_handle_t *)&srv->pipe, server_closed);
		return NULL;
	}
	if (chmod(path, 0660) < 0) {
		core_error(LOG_CAT, "control socket %s: chmod: %s", path,
			   strerror(errno));
		ctl_close(srv);
		return NULL;
	}
	if (socket_owner(path, user) < 0) {
		ctl_close(srv);
		return NULL;
	}
	core_info(LOG_CAT, "control socket listening on %s", path);
	return srv;
}

void ctl_close(struct ctl_server *srv)
{
	if (!srv)
		return;
	unlink(srv->path);
	uv_close((uv_handle_t *)&srv->pipe, server_closed);
}
