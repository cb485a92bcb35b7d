/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_service: the "sip" service table of tandem/sip.h, and the hooks the
 * core calls to give other plugins' handlers their requests.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sip_int.h"
#include "sip_sdp.h"
#include "sip_service_int.h"
#include "tandem/sip.h"

struct handler {
	char *method; /* NULL: all */
	unsigned flags;
	char *option_tags;
	sip_request_cb cb;
	void *arg;
};

static struct handler *handlers;
static size_t nhandlers;
static bool shutting_down;

/* ---- Handlers ------------------------------------------------------------- */

static bool method_matches(const struct handler *h, const struct sip_msg *m)
{
	if (!h->method)
		return true;
	return strlen(h->method) == m->scan->method.len &&
	       memcmp(h->method, m->raw + m->scan->method.off,
		      m->scan->method.len) == 0;
}

static int handler_add(const char *method, unsigned flags,
		       const char *option_tags, sip_request_cb cb, void *arg)
{
	struct handler *h = realloc(handlers, (nhandlers + 1) * sizeof(*h));

	if (!h || !cb)
		return h ? -EINVAL : -ENOMEM;
	handlers = h;
	h = &handlers[nhandlers];
	memset(h, 0, sizeof(*h));
	h->flags = flags;
	h->cb = cb;
	h->arg = arg;
	if ((method && !(h->method = strdup(method))) ||
	    (option_tags && !(h->option_tags = strdup(option_tags)))) {
		free(h->method);
		return -ENOMEM;
	}
	nhandlers++;
	return 0;
}

static void handler_remove(sip_request_cb cb, void *arg)
{
	for (size_t i = 0; i < nhandlers;) {
		if (handlers[i].cb == cb && handlers[i].arg == arg) {
			free(handlers[i].method);
			free(handlers[i].option_tags);
			memmove(&handlers[i], &handlers[i + 1],
				(nhandlers - i - 1) * sizeof(*handlers));
			nhandlers--;
		} else {
			i++;
		}
	}
}

bool sip_service_supports(const char *tag, size_t len)
{
	for (size_t i = 0; i < nhandlers; i++) {
		const char *p = handlers[i].option_tags;

		while (p && *p) {
			size_t n;

			p += strspn(p, " ,\t");
			n = strcspn(p, " ,\t");
			if (n && n == len && strncasecmp(p, tag, n) == 0)
				return true;
			p += n;
		}
	}
	return false;
}

void sip_service_allow(struct sip_buf *b)
{
	static const char *const base[] = { "INVITE", "ACK", "BYE", "CANCEL",
					    "OPTIONS" };

	for (size_t i = 0; i < nhandlers; i++) {
		bool dup = !handlers[i].method;

		for (size_t k = 0; !dup && k < SIP_ARRAY_SIZE(base); k++)
			dup = strcmp(base[k], handlers[i].method) == 0;
		for (size_t k = 0; !dup && k < i; k++)
			dup = handlers[k].method &&
			      strcmp(handlers[k].method,
				     handlers[i].method) == 0;
		if (!dup)
			sip_buf_printf(b, ", %s", handlers[i].method);
	}
}

void sip_service_supported(struct sip_buf *b)
{
	bool any = false;

	for (size_t i = 0; i < nhandlers; i++) {
		if (!handlers[i].option_tags || !*handlers[i].option_tags)
			continue;
		sip_buf_str(b, any ? ", " : "Supported: ");
		sip_buf_str(b, handlers[i].option_tags);
		any = true;
	}
	if (any)
		sip_buf_str(b, "\r\n");
}

bool sip_service_claims(const struct sip_msg *m)
{
	for (size_t i = 0; i < nhandlers; i++)
		if ((handlers[i].flags & SIP_HANDLER_CLAIM) &&
		    method_matches(&handlers[i], m))
			return true;
	return false;
}

/* ---- Requests ---------------------------------------------------------------- */

static void on_request_end(struct sip_txn *t, void *arg)
{
	struct sip_request *req = arg;

	(void)t;
	req->t = NULL;
}

static const struct sip_txn_ops kept_ops = {
	.terminated = on_request_end,
};

static void request_free(struct sip_request *req)
{
	if (req->reinvite_of)
		sip_dialog_reinvite_gone(req);
	if (req->t && req->t->ops == &kept_ops)
		sip_txn_detach(req->t);
	free(req->raw);
	free(req->scan);
	free(req);
}

struct sip_request *sip_request_new(struct sip_msg *m, struct sip_txn *t)
{
	struct sip_request *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	req->m = m;
	req->view.m = m;
	req->t = t;
	req->in_callback = true;
	t->ops = &kept_ops;
	t->arg = req;
	return req;
}

bool sip_request_done(struct sip_request *req)
{
	bool ended = !req->t;

	req->in_callback = false;
	if (!req->kept)
		request_free(req);
	return ended;
}

bool sip_service_request(struct sip_msg *m, struct sip_txn *t)
{
	for (size_t i = 0; i < nhandlers; i++) {
		struct sip_request *req;
		enum sip_verdict v;
		bool ended;

		if (!method_matches(&handlers[i], m))
			continue;
		req = calloc(1, sizeof(*req));
		if (!req)
			return false;
		req->m = m;
		req->view.m = m;
		req->t = t;
		req->in_callback = true;
		/* a final answer may end the transaction in the callback:
		 * the request hears of it */
		t->ops = &kept_ops;
		t->arg = req;
		v = handlers[i].cb(req, handlers[i].arg);
		req->in_callback = false;
		ended = !req->t;
		if (!req->kept)
			request_free(req);
		if (v == SIP_TAKEN || ended)
			return true;
	}
	return false;
}

bool sip_service_ack(struct sip_msg *m)
{
	if (sip_dialog_ack(m))
		return true;
	for (size_t i = 0; i < nhandlers; i++) {
		struct sip_request req = { .view.m = m, .m = m,
					   .in_callback = true };

		if (!handlers[i].method ||
		    strcmp(handlers[i].method, "ACK") != 0)
			continue;
		/* an ACK has no transaction: reply() refuses it */
		if (handlers[i].cb(&req, handlers[i].arg) == SIP_TAKEN)
			return true;
	}
	return false;
}

bool sip_service_cancel(struct sip_txn *ist, struct sip_msg *cancel)
{
	struct sip_message view = { .m = cancel };
	struct sip_request *req;
	sip_cancel_cb cb;

	if (ist->ops != &kept_ops)
		return false;
	req = ist->arg;
	req->cancelled = true;
	/* RFC 3261 9.2: the INVITE ends with 487 */
	sip_txn_respond(ist, 487, NULL, NULL, NULL, NULL, 0);
	/* the 487 may have ended the transaction: `req` lives on until
	 * release(), so the user can still be told */
	cb = req->cancel_cb;
	req->cancel_cb = NULL;
	if (cb)
		cb(req, &view, req->cancel_arg);
	return true;
}

int sip_request_on_cancel(struct sip_request *req, sip_cancel_cb cb,
			  void *arg)
{
	if (!req || (!req->kept && !req->in_callback) ||
	    req->view.m->method != SIP_M_INVITE)
		return -EINVAL;
	if (cb && (req->cancelled || !req->t || sip_txn_is_final(req->t)))
		return -EALREADY;
	req->cancel_cb = cb;
	req->cancel_arg = arg;
	return 0;
}

bool sip_service_stray_response(struct sip_msg *m)
{
	return sip_dialog_stray(m);
}

int sip_request_reply(struct sip_request *req, int status, const char *reason,
		 const char *headers, const char *body_type, const void *body,
		 size_t body_len)
{
	if (status < 100 || status > 699)
		return -EINVAL;
	if (!req->t || req->cancelled)
		return -EALREADY;
	if (req->reinvite_of && status >= 200 && status < 300)
		return sip_dialog_reinvite_ok(req, status, reason, headers,
					      body_type, body, body_len);
	return sip_txn_respond(req->t, status, reason, headers, body_type,
			       body, body_len);
}

struct sip_request *sip_request_keep(struct sip_request *req)
{
	struct sip_msg *m = req->m;

	if (req->kept || !req->in_callback || !req->t)
		return req->kept ? req : NULL;
	req->raw = malloc(m->len + 1);
	req->scan = malloc(sizeof(*req->scan));
	if (!req->raw || !req->scan) {
		free(req->raw);
		free(req->scan);
		req->raw = NULL;
		req->scan = NULL;
		return NULL;
	}
	memcpy(req->raw, m->raw, m->len);
	req->raw[m->len] = '\0';
	*req->scan = *m->scan;
	req->scan->buf = req->raw;
	req->copy = *m;
	req->copy.raw = req->raw;
	req->copy.scan = req->scan;
	req->copy.osip = NULL;
	req->view.m = &req->copy;
	req->kept = true;
	req->t->ops = &kept_ops;
	req->t->arg = req;
	return req;
}

void sip_request_release(struct sip_request *req)
{
	if (req && req->kept && !req->in_callback)
		request_free(req);
	else if (req)
		req->kept = false; /* freed when the callback returns */
}

static int proxy(struct sip_request *req, const char *target)
{
	struct sip_txn *t = req->t;

	if (!req->in_callback || !t)
		return -EINVAL;
	/* the proxy owns the transaction from now on */
	sip_txn_detach(t);
	req->t = NULL;
	if (req->kept) {
		req->kept = false;
		req->view.m = req->m;
	}
	return sip_proxy_route(req->m, t, target);
}

static int proxy_fork(struct sip_request *req, const char *const *targets,
		      unsigned ntargets, unsigned flags)
{
	struct sip_txn *t = req->t;

	if (!req->in_callback || !t || !targets || !ntargets ||
	    ntargets > SIP_FORK_MAX || req->m->method == SIP_M_ACK ||
	    req->m->method == SIP_M_CANCEL)
		return -EINVAL;
	/* the proxy owns the transaction from now on */
	sip_txn_detach(t);
	req->t = NULL;
	if (req->kept) {
		req->kept = false;
		req->view.m = req->m;
	}
	return sip_proxy_fork(req->m, t, targets, ntargets, flags);
}

static const struct sip_message *request_message(const struct sip_request *req)
{
	return &req->view;
}

/* ---- Reading messages -------------------------------------------------------- */

static int msg_status(const struct sip_message *msg)
{
	return msg->m->scan->request ? 0 : msg->m->scan->status;
}

static struct sip_text span_text(const struct sip_msg *m, struct sip_span sp)
{
	return (struct sip_text){ m->raw + sp.off, sp.len };
}

static struct sip_text msg_method(const struct sip_message *msg)
{
	const struct sip_msg *m = msg->m;
	const struct sip_hdr *cseq;
	const char *p;
	size_t n;

	if (m->scan->request)
		return span_text(m, m->scan->method);
	/* a response's method is its CSeq's */
	cseq = sip_scan_hdr(m->scan, SIP_H_CSEQ, 0);
	if (!cseq)
		return (struct sip_text){ "", 0 };
	p = m->raw + cseq->value.off;
	n = cseq->value.len;
	while (n && !strchr(" \t", p[n - 1]))
		n--;
	return (struct sip_text){ p + n, cseq->value.len - n };
}

static struct sip_text msg_request_uri(const struct sip_message *msg)
{
	return span_text(msg->m, msg->m->scan->ruri);
}

static int msg_header(const struct sip_message *msg, const char *name,
		      unsigned index, struct sip_text *value)
{
	const struct sip_scan *s = msg->m->scan;
	enum sip_hdr_id id = sip_hdr_lookup(name, strlen(name));
	const struct sip_hdr *h = NULL;

	if (id != SIP_H_OTHER) {
		h = sip_scan_hdr(s, id, index);
	} else {
		for (unsigned i = 0; i < s->nhdrs && !h; i++)
			if (s->hdrs[i].id == SIP_H_OTHER &&
			    sip_span_eq(s, s->hdrs[i].name, name) &&
			    index-- == 0)
				h = &s->hdrs[i];
	}
	if (!h)
		return -ENOENT;
	*value = span_text(msg->m, h->value);
	return 0;
}

static struct sip_text msg_body(const struct sip_message *msg)
{
	const struct sip_scan *s = msg->m->scan;

	return (struct sip_text){ msg->m->raw + s->body_off, s->body_len };
}

static int msg_source(const struct sip_message *msg, char *buf, size_t size)
{
	char addr[64];
	int n;

	sip_addr_str(&msg->m->src.addr, addr, sizeof(addr));
	n = snprintf(buf, size, "%s %s", sip_proto_name(msg->m->src.proto),
		     addr);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

static int msg_local(const struct sip_message *msg, char *buf, size_t size)
{
	const struct sip_listener *l = msg->m->src.listener;
	char addr[64];
	int n;

	if (!l)
		return -ENOENT;
	sip_addr_str(&l->local, addr, sizeof(addr));
	n = snprintf(buf, size, "%s %s", sip_proto_name(l->proto), addr);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

static int msg_tls_peer_is(const struct sip_message *msg, const char *name)
{
	if (!name || !*name)
		return -ENOENT;
	return sip_conn_tls_peer_is(msg->m->src.conn_id, name);
}

static const void *msg_osip(const struct sip_message *msg)
{
	return msg->m->osip;
}

static int msg_max_forwards(const struct sip_message *msg)
{
	int mf;

	if (!msg)
		return -EINVAL;
	mf = sip_msg_max_forwards(msg->m);
	return mf < 0 ? -ENOENT : mf;
}

/* ---- Route sets (RFC 3261 12.1, 3327 Path, 3608 Service-Route) ---- */

/*
 * The next name-addr entry of a header value in [p, end): "<uri>;params"
 * up to the comma that ends it. Sets *entry and *len (spaces trimmed) and
 * returns where the next one starts, or NULL when the entry is not a
 * name-addr (a bare URI cannot be told from its parameters).
 */
static bool is_list_sep(char c)
{
	return c == ' ' || c == '\t' || c == ',';
}

static const char *next_entry(const char *p, const char *end,
			      const char **entry, size_t *len)
{
	const char *q;
	bool quoted = false, in_angle = false;

	while (p < end && is_list_sep(*p))
		p++;
	*entry = p;
	for (q = p; q < end; q++) {
		if (quoted && *q == '\\' && q + 1 < end)
			q++; /* a quoted-pair (RFC 3261 25.1) */
		else if (*q == '"' && !in_angle)
			quoted = !quoted;
		else if (*q == '<' && !quoted)
			in_angle = true;
		else if (*q == '>' && !quoted)
			in_angle = false;
		else if (*q == ',' && !quoted && !in_angle)
			break;
	}
	*len = (size_t)(q - p);
	while (*len && (p[*len - 1] == ' ' || p[*len - 1] == '\t'))
		(*len)--;
	if (!*len || quoted || in_angle || !memchr(p, '<', *len))
		return NULL;
	return q;
}

struct route_entry {
	const char *ptr;
	size_t len;
};

#define ROUTE_SET_MAX 32

/* Append the entries of the list [p, end) to e[*n..max). */
static int split_entries(const char *p, const char *end, struct route_entry *e,
			 unsigned max, unsigned *n)
{
	while (p < end) {
		const char *q = p;

		while (q < end && is_list_sep(*q))
			q++;
		if (q == end)
			break;
		if (*n == max)
			return -ENOSPC;
		p = next_entry(q, end, &e[*n].ptr, &e[*n].len);
		if (!p)
			return -EINVAL;
		(*n)++;
	}
	return 0;
}

/* Every entry of every line of header `name`. */
static int collect_routes(const struct sip_message *msg, const char *name,
			  struct route_entry *e, unsigned max)
{
	struct sip_text v;
	unsigned n = 0;
	int rc = 0;

	for (unsigned line = 0;
	     rc == 0 && msg_header(msg, name, line, &v) == 0; line++)
		rc = split_entries(v.ptr, v.ptr + v.len, e, max, &n);
	return rc < 0 ? rc : (int)n;
}

static int route_set(const struct sip_message *msg, const char *name,
		     unsigned flags, char *out, size_t size)
{
	struct route_entry e[ROUTE_SET_MAX];
	size_t at = 0;
	int n;

	if (!msg || !name || !out || !size)
		return -EINVAL;
	out[0] = '\0';
	n = collect_routes(msg, name, e, ROUTE_SET_MAX);
	for (int i = 0; i < n; i++) {
		const struct route_entry *r =
			&e[flags & SIP_ROUTES_REVERSE ? n - 1 - i : i];

		if (at + r->len + 3 > size) {
			out[0] = '\0';
			return -ENOSPC;
		}
		if (i) {
			memcpy(out + at, ", ", 2);
			at += 2;
		}
		memcpy(out + at, r->ptr, r->len);
		at += r->len;
		out[at] = '\0';
	}
	return n;
}

static int local_route(const char *proto, const char *user, char *out,
		       size_t size)
{
	static const char *const transport[] = {
		[SIP_UDP] = "", [SIP_TCP] = ";transport=tcp",
		[SIP_TLS] = ";transport=tls",
	};
	const struct sip_listener *l;
	int n;

	for (l = sip_listeners; l; l = l->next)
		if (l->fd >= 0 && (!proto || strcasecmp(proto,
						sip_proto_name(l->proto)) == 0))
			break;
	if (!l)
		return -ENOENT;
	n = snprintf(out, size, "<sip:%s%s%s:%d%s;lr>", user ? user : "",
		     user && *user ? "@" : "", l->host, l->port,
		     transport[l->proto]);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/* ---- Sending requests --------------------------------------------------------- */

static void client_free(struct sip_client *c)
{
	if (c->t)
		sip_txn_detach(c->t);
	sip_dns_cancel(c->query);
	free(c->alts);
	free(c->copy);
	free(c);
}

/* Keep the next hops after the first for failover (RFC 3263 4.3). */
static void keep_alternatives(struct sip_client *c,
			      const struct sip_peer *peers, unsigned n)
{
	if (n < 2 || c->alts)
		return;
	c->alts = malloc((n - 1) * sizeof(*peers));
	if (!c->alts)
		return;
	memcpy(c->alts, peers + 1, (n - 1) * sizeof(*peers));
	c->nalts = n - 1;
}

static int launch(struct sip_client *c);

/*
 * RFC 3263 4.3: after a 503 or a timeout, the same request in a new
 * transaction (new branch) to the next hop of the list. True when one
 * left; the old transaction ends on its own.
 */
static bool fail_over(struct sip_client *c)
{
	char token[17];

	if (c->provisional || c->cancel_pending || shutting_down)
		return false;
	while (c->next_alt < c->nalts) {
		if (c->t)
			sip_txn_detach(c->t);
		c->t = NULL;
		c->to = c->alts[c->next_alt++];
		sip_random_token(token, sizeof(token));
		snprintf(c->branch, sizeof(c->branch), "z9hG4bK%s", token);
		tnd_info("%s to %s: trying the next server (%u of %u)",
			 c->spec.method, c->spec.request_uri, c->next_alt + 1,
			 c->nalts + 1);
		if (launch(c) == 0)
			return true;
	}
	return false;
}

/* RFC 3261 13.2.2.4: the UAC core ACKs a 2xx itself, to the Contact,
 * along the route set the Record-Route gives (reversed). */
static void ack_2xx(struct sip_client *c, struct sip_msg *m)
{
	const osip_message_t *rsp = m->osip;
	osip_contact_t *contact = osip_list_get(&rsp->contacts, 0);
	struct sip_buf b = { 0 };
	struct sip_peer to = c->to;
	struct sip_listener *l;
	char branch[24], *uri = NULL, *s;
	int nrr = osip_list_size(&rsp->record_routes);

	if (!contact || !contact->url ||
	    osip_uri_to_str(contact->url, &uri) != 0)
		return;
	l = sip_listener_out(to.proto, &to.addr);
	if (!l)
		goto out;
	sip_random_token(branch, sizeof(branch));
	sip_buf_printf(&b, "ACK %s SIP/2.0\r\nVia: SIP/2.0/%s %s:%d;"
		       "branch=z9hG4bK%s\r\nMax-Forwards: 70\r\n", uri,
		       sip_proto_name(to.proto), l->host, l->port, branch);
	for (int i = nrr - 1; i >= 0; i--) {
		osip_record_route_t *rr = osip_list_get(&rsp->record_routes, i);

		if (osip_record_route_to_str(rr, &s) == 0) {
			sip_buf_printf(&b, "Route: %s\r\n", s);
			osip_free(s);
		}
	}
	if (osip_from_to_str(rsp->from, &s) == 0) {
		sip_buf_printf(&b, "From: %s\r\n", s);
		osip_free(s);
	}
	if (osip_to_to_str(rsp->to, &s) == 0) {
		sip_buf_printf(&b, "To: %s\r\n", s);
		osip_free(s);
	}
	sip_buf_printf(&b, "Call-ID: %s%s%s\r\nCSeq: %s ACK\r\n"
		       "Content-Length: 0\r\n\r\n", rsp->call_id->number,
		       rsp->call_id->host ? "@" : "",
		       rsp->call_id->host ? rsp->call_id->host : "",
		       rsp->cseq->number);
	/* without a route set the ACK goes where the INVITE went; a
	 * route set's first hop is the proxy the INVITE went through */
	if (!b.failed && sip_send(&to, b.data, b.len) == 0)
		sip_count(sip_stats.tx_req[SIP_M_ACK]);
out:
	osip_free(uri);
	sip_buf_free(&b);
}

static void on_client_response(struct sip_txn *t, osip_message_t *rsp,
			       struct sip_msg *m, void *arg)
{
	struct sip_client *c = arg;
	struct sip_msg parsed = *m;
	struct sip_message view = { .m = &parsed };
	int status = rsp->status_code;

	(void)t;
	/* the transaction keeps the parsed response; the view shows it */
	parsed.osip = rsp;
	parsed.osip_borrowed = true;
	if (status < 200) {
		c->provisional = true;
		if (c->cancel_pending) {
			c->cancel_pending = false;
			c->cancel_sent = true;
			sip_send_cancel(c->t, &c->to);
		}
	}
	if (status >= 200 && status < 300 && c->invite && !c->dialog)
		ack_2xx(c, &parsed);
	if (status == 503 && fail_over(c))
		return;
	c->cb(c, status, &view, c->arg);
	if (status >= 200)
		client_free(c);
}

static void on_client_timeout(struct sip_txn *t, void *arg)
{
	struct sip_client *c = arg;

	(void)t;
	if (fail_over(c))
		return;
	c->cb(c, 408, NULL, c->arg);
	client_free(c);
}

static void on_client_end(struct sip_txn *t, void *arg)
{
	struct sip_client *c = arg;

	(void)t;
	c->t = NULL;
	if (!shutting_down)
		c->cb(c, 408, NULL, c->arg);
	free(c->alts);
	free(c->copy);
	free(c);
}

static const struct sip_txn_ops client_ops = {
	.response = on_client_response,
	.timeout = on_client_timeout,
	.terminated = on_client_end,
};

/* The URI inside an entry's angle brackets. */
static struct route_entry entry_uri(struct route_entry e)
{
	const char *lt = memchr(e.ptr, '<', e.len);
	const char *gt = lt ? memchr(lt, '>', e.len - (size_t)(lt - e.ptr)) :
			      NULL;

	if (!gt)
		return e;
	return (struct route_entry){ lt + 1, (size_t)(gt - lt - 1) };
}

static bool entry_is_loose(struct route_entry e)
{
	struct route_entry u = entry_uri(e);

	for (size_t i = 0; i + 3 <= u.len; i++)
		if (u.ptr[i] == ';' &&
		    strncasecmp(u.ptr + i + 1, "lr", 2) == 0 &&
		    (i + 3 == u.len || strchr(";=>", u.ptr[i + 3])))
			return true;
	return false;
}

/* A route set string ("<uri>, <uri>") split into its entries. */
static int split_route_set(const char *set, struct route_entry *e,
			   unsigned max)
{
	unsigned n = 0;
	int rc = split_entries(set, set + strlen(set), e, max, &n);

	return rc < 0 ? rc : (int)n;
}

/*
 * Request-URI and Route lines of a request (RFC 3261 12.2.1.1): with a
 * loose first hop (or none) the remote target is the Request-URI and the
 * route set the Route lines; with a strict one, its URI is the
 * Request-URI and the remote target goes last.
 */
static int put_request_line(struct sip_buf *b, const struct sip_request_spec *s,
			    struct sip_buf *routes)
{
	struct route_entry e[ROUTE_SET_MAX];
	int n = s->route_set ? split_route_set(s->route_set, e, ROUTE_SET_MAX) :
			       0;
	int first = 0;

	if (n < 0)
		return n;
	if (n > 0 && !entry_is_loose(e[0])) {
		struct route_entry u = entry_uri(e[0]);

		sip_buf_printf(b, "%s %.*s SIP/2.0\r\n", s->method, (int)u.len,
			       u.ptr);
		first = 1;
	} else {
		sip_buf_printf(b, "%s %s SIP/2.0\r\n", s->method,
			       s->request_uri);
	}
	for (int i = first; i < n; i++)
		sip_buf_printf(routes, "Route: %.*s\r\n", (int)e[i].len,
			       e[i].ptr);
	if (first)
		sip_buf_printf(routes, "Route: <%s>\r\n", s->request_uri);
	return 0;
}

static int build_request(struct sip_buf *b, const struct sip_request_spec *s,
			 const struct sip_listener *l, const char *branch,
			 bool contact, int max_forwards)
{
	struct sip_buf routes = { 0 };
	char tag[17], callid[33];
	int rc;

	sip_random_token(tag, sizeof(tag));
	sip_random_token(callid, sizeof(callid));
	rc = put_request_line(b, s, &routes);
	if (rc < 0) {
		sip_buf_free(&routes);
		return rc;
	}
	sip_buf_printf(b, "Via: SIP/2.0/%s %s:%d;branch=%s\r\n"
		       "Max-Forwards: %d\r\n", sip_proto_name(l->proto),
		       l->host, l->port, branch, max_forwards);
	if (routes.len)
		sip_buf_add(b, routes.data, routes.len);
	sip_buf_free(&routes);
	sip_buf_printf(b, "From: %s", s->from);
	/* a dialog's requests carry its tag already */
	if (s->local_tag)
		sip_buf_printf(b, ";tag=%s", s->local_tag);
	else if (!strstr(s->from, ";tag="))
		sip_buf_printf(b, ";tag=%s", tag);
	sip_buf_printf(b, "\r\nTo: %s", s->to);
	if (s->remote_tag)
		sip_buf_printf(b, ";tag=%s", s->remote_tag);
	sip_buf_printf(b, "\r\nCall-ID: %s\r\nCSeq: %u %s\r\n",
		       s->call_id ? s->call_id : callid,
		       s->cseq ? s->cseq : 1, s->method);
	if (contact)
		sip_buf_printf(b, "Contact: <sip:%s:%d%s>\r\n", l->host,
			       l->port, l->proto == SIP_TCP ? ";transport=tcp" :
			       l->proto == SIP_TLS ? ";transport=tls" : "");
	if (s->headers)
		sip_buf_str(b, s->headers);
	if (s->body_len && s->body_type)
		sip_buf_printf(b, "Content-Type: %s\r\n", s->body_type);
	sip_buf_printf(b, "Content-Length: %zu\r\n\r\n", s->body_len);
	if (s->body_len)
		sip_buf_add(b, s->body, s->body_len);
	return b->failed ? -ENOMEM : 0;
}

/* Keep the spec (strings and body) in the client while it waits. */
static int copy_spec(struct sip_client *c, const struct sip_request_spec *s)
{
	const char *strs[] = { s->method,     s->request_uri, s->from,
			       s->to,	      s->call_id,     s->headers,
			       s->body_type,  s->local_tag,   s->remote_tag,
			       s->route_set };
	const char **dst[] = { &c->spec.method,	    &c->spec.request_uri,
			       &c->spec.from,	    &c->spec.to,
			       &c->spec.call_id,    &c->spec.headers,
			       &c->spec.body_type,  &c->spec.local_tag,
			       &c->spec.remote_tag, &c->spec.route_set };
	size_t len = s->body_len, at = 0;
	char *p;

	for (size_t i = 0; i < SIP_ARRAY_SIZE(strs); i++)
		len += strs[i] ? strlen(strs[i]) + 1 : 0;
	c->copy = p = malloc(len + 1);
	if (!p)
		return -ENOMEM;
	c->spec = *s;
	c->spec.next_hop = NULL; /* used already */
	c->spec.forward_of = NULL; /* valid during the call only */
	for (size_t i = 0; i < SIP_ARRAY_SIZE(strs); i++) {
		if (!strs[i]) {
			*dst[i] = NULL;
			continue;
		}
		*dst[i] = p + at;
		memcpy(p + at, strs[i], strlen(strs[i]) + 1);
		at += strlen(strs[i]) + 1;
	}
	if (s->body_len) {
		memcpy(p + at, s->body, s->body_len);
		c->spec.body = p + at;
	}
	return 0;
}

/* Build the request for the known next hop and start its transaction. */
static int launch(struct sip_client *c)
{
	struct sip_listener *l = sip_listener_out(c->to.proto, &c->to.addr);
	struct sip_buf b = { 0 };
	osip_message_t *req = NULL;
	int rc;

	if (!l)
		return -EHOSTUNREACH;
	rc = build_request(&b, &c->spec, l, c->branch, c->dialog,
			   c->max_forwards);
	if (rc == 0 && (osip_message_init(&req) != 0 ||
			osip_message_parse(req, b.data, b.len) != 0)) {
		if (req)
			osip_message_free(req);
		rc = -EINVAL;
	}
	if (rc == 0) {
		c->to.listener = l;
		c->t = sip_txn_client_new(req, b.data, b.len, c->branch,
					  &c->to, &client_ops, c);
		if (!c->t)
			rc = -ECONNREFUSED;
	}
	sip_buf_free(&b);
	return rc;
}

static void on_located(void *arg, int rc, const struct sip_peer *peers,
		       unsigned n)
{
	struct sip_client *c = arg;

	c->query = NULL;
	if (rc == 0) {
		c->to = peers[0];
		keep_alternatives(c, peers, n);
		rc = launch(c);
	}
	if (rc < 0) {
		/* no next hop (RFC 3263) or no way to it */
		c->cb(c, 503, NULL, c->arg);
		client_free(c);
	}
}

/* The spec as this version knows it: members a 1.0 caller's struct has
 * not are zero (it did not ask for them). */
static int full_spec(const struct sip_request_spec *in,
		     struct sip_request_spec *s)
{
	if (!in || in->size < offsetof(struct sip_request_spec, local_tag))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	memcpy(s, in, in->size < sizeof(*s) ? in->size : sizeof(*s));
	s->size = sizeof(*s);
	if (!s->method || !s->request_uri || !s->from || !s->to ||
	    strcmp(s->method, "ACK") == 0 || strcmp(s->method, "CANCEL") == 0)
		return -EINVAL;
	if ((s->local_tag && strstr(s->from, ";tag=")) ||
	    (s->remote_tag && strstr(s->to, ";tag=")))
		return -EINVAL;
	return 0;
}

static bool strict_first_hop(const struct sip_request_spec *s)
{
	struct route_entry e[ROUTE_SET_MAX];

	return s->route_set &&
	       split_route_set(s->route_set, e, ROUTE_SET_MAX) > 0 &&
	       !entry_is_loose(e[0]);
}

/* RFC 3261 16.6 step 3, for a B2BUA: one less than what came in. */
static int spec_max_forwards(const struct sip_request_spec *s)
{
	int in;

	if (!s->forward_of)
		return s->max_forwards ? (int)s->max_forwards : 70;
	in = msg_max_forwards(s->forward_of);
	if (in == 0)
		return -ELOOP;
	return in < 0 ? 70 : in - 1;
}

int sip_send_request(const struct sip_request_spec *in, sip_response_cb cb,
		     void *arg, struct sip_client **out, bool dialog)
{
	struct sip_request_spec full, *spec = &full;
	struct sip_buf b = { 0 };
	struct sip_client *c;
	osip_message_t *probe = NULL;
	osip_route_t *route;
	char token[17];
	int rc, mf;

	rc = full_spec(in, &full);
	if (rc < 0 || !cb || !sip_listeners)
		return -EINVAL;
	mf = spec_max_forwards(spec);
	if (mf < 0) {
		tnd_info("%s to %s not sent: Max-Forwards of the request "
			 "it continues is 0", spec->method, spec->request_uri);
		return mf;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	sip_random_token(token, sizeof(token));
	snprintf(c->branch, sizeof(c->branch), "z9hG4bK%s", token);
	c->cb = cb;
	c->arg = arg;
	c->invite = strcmp(spec->method, "INVITE") == 0;
	c->dialog = dialog;
	c->max_forwards = mf;
	rc = copy_spec(c, spec);
	/* the Route / Request-URI as libosip2 reads them tell the next hop */
	if (rc == 0)
		rc = build_request(&b, spec, sip_listeners, c->branch, false,
				   mf);
	if (rc == 0 && (osip_message_init(&probe) != 0 ||
			osip_message_parse(probe, b.data, b.len) != 0))
		rc = -EINVAL;
	sip_buf_free(&b);
	if (rc == 0 && spec->next_hop) {
		rc = sip_peer_parse(spec->next_hop, &c->to);
	} else if (rc == 0) {
		/* RFC 3261 8.1.2: a strict first hop is the Request-URI */
		route = strict_first_hop(spec) ? NULL :
					       osip_list_get(&probe->routes, 0);
		rc = sip_resolve_uri(route ? route->url : probe->req_uri,
				     &c->to, on_located, c, &c->query);
		if (rc == 0) {
			struct sip_peer peers[8];

			keep_alternatives(c, peers,
					  sip_dns_alternatives(peers, 8));
		}
	}
	if (probe)
		osip_message_free(probe);
	if (rc == 0)
		rc = launch(c);
	if (rc < 0 && rc != -EINPROGRESS) {
		free(c->alts);
		free(c->copy);
		free(c);
		return rc;
	}
	if (out)
		*out = c;
	return 0;
}

static int send_request(const struct sip_request_spec *spec,
			sip_response_cb cb, void *arg, struct sip_client **out)
{
	return sip_send_request(spec, cb, arg, out, false);
}

int sip_client_cancel(struct sip_client *c)
{
	if (!c->invite || (!c->t && !c->query))
		return -EINVAL;
	if (c->cancel_pending || c->cancel_sent)
		return 0; /* cancelled already: the 487 is on its way */
	if (!c->provisional) {
		c->cancel_pending = true; /* RFC 3261 9.1: after a 1xx */
		return 0;
	}
	c->cancel_sent = true;
	return sip_send_cancel(c->t, &c->to);
}

void sip_client_forget(struct sip_client *c)
{
	client_free(c);
}

const struct sip_service sip_service_table = {
	.size = sizeof(struct sip_service),
	.handler_add = handler_add,
	.handler_remove = handler_remove,
	.reply = sip_request_reply,
	.keep = sip_request_keep,
	.release = sip_request_release,
	.proxy = proxy,
	.request_message = request_message,
	.status = msg_status,
	.method = msg_method,
	.request_uri = msg_request_uri,
	.header = msg_header,
	.body = msg_body,
	.source = msg_source,
	.osip_message = msg_osip,
	.send_request = send_request,
	.cancel = sip_client_cancel,
	.forget = sip_client_forget,
	.sdp_media = sip_sdp_media,
	.sdp_answer = sip_sdp_answer,
	.dialog_accept = sip_dialog_accept,
	.dialog_reply = sip_dialog_reply,
	.dialog_invite = sip_dialog_invite,
	.dialog_request = sip_dialog_request,
	.dialog_end = sip_dialog_end,
	.dialog_release = sip_dialog_release,
	.dialog_info = sip_dialog_info,
	.dialog_replaced = sip_dialog_replaced,
	.max_forwards = msg_max_forwards,
	.on_cancel = sip_request_on_cancel,
	.route_set = route_set,
	.local_route = local_route,
	.proxy_fork = proxy_fork,
	.local = msg_local,
	.tls_peer_is = msg_tls_peer_is,
	.dialog_set_next_hop = sip_dialog_set_next_hop,
};

void sip_service_fini(void)
{
	shutting_down = true;
	sip_dialog_fini();
	for (size_t i = 0; i < nhandlers; i++) {
		free(handlers[i].method);
		free(handlers[i].option_tags);
	}
	free(handlers);
	handlers = NULL;
	nhandlers = 0;
}
