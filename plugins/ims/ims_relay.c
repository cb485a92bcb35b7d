/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ims_relay.c - the plugin context and relayed transactions (ims.h):
 * a request kept upstream, its edited copy sent downstream in a client
 * transaction, the responses copied back.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ims_int.h"

struct ims_ctx ims;

static struct ims_fwd *pending; /* every relay alive (INVITEs watched) */
static struct tnd_timer *watch_timer;

/* Headers a relayed request never carries over: the sip service writes
 * the first ones itself; Record-Route and Via belong to each leg. */
const char *const ims_skip_request[] = {
	"Via",
	"From",
	"To",
	"Call-ID",
	"CSeq",
	"Max-Forwards",
	"Content-Length",
	"Content-Type",
	"Record-Route",
	NULL,
};

static const char *const skip_with_contact[] = {
	"Via",
	"From",
	"To",
	"Call-ID",
	"CSeq",
	"Max-Forwards",
	"Content-Length",
	"Content-Type",
	"Record-Route",
	"Contact",
	NULL,
};

const char *const ims_skip_response[] = {
	"Via",		"From",		"To",
	"Call-ID",	"CSeq",		"Content-Length",
	"Content-Type", "Record-Route", NULL,
};

/* ---- Context ------------------------------------------------------------- */

int ims_init(const struct tnd_host_api *host, struct tnd_plugin *self,
	     const char *category, const char *self_uri)
{
	ims.host = host;
	ims.self = self;
	ims.category = category;
	ims.sip = host->service_get(SIP_SERVICE_NAME, SIP_SERVICE_VERSION);
	if (!ims.sip) {
		host->log(category, TND_LOG_ERROR, __FILE__, __LINE__,
			  "the sip service is missing");
		return -ENOENT;
	}
	if (ims_fmt(ims.self_uri, sizeof(ims.self_uri), "%s", self_uri) ||
	    ims_fmt(ims.contact_uri, sizeof(ims.contact_uri), "%s", self_uri))
		return -ENOSPC;
	if (!ims.dialog_max_s)
		ims.dialog_max_s = 12 * 3600;
	return 0;
}

static void on_watch(struct tnd_timer *t, void *arg);

int ims_start(void)
{
	watch_timer = ims.host->timer_new(ims.self, on_watch, NULL);
	if (!watch_timer)
		return -ENOMEM;
	return ims.host->timer_start(watch_timer, 1000, 1000);
}

static bool same_hostport(const char *a, const char *b_uri)
{
	char b[IMS_URI_MAX];

	if (ims_uri_hop(b_uri, b, sizeof(b)))
		return false;
	/* the transport does not matter: compare host:port */
	return strcasecmp(strchr(a, ':'), strchr(b, ':')) == 0;
}

bool ims_is_self(const char *uri)
{
	char a[IMS_URI_MAX];

	if (ims_uri_hop(uri, a, sizeof(a)))
		return false;
	return same_hostport(a, ims.self_uri) ||
	       same_hostport(a, ims.contact_uri);
}

void ims_contact_from_listener(void)
{
	char route[IMS_URI_MAX], host[IMS_URI_MAX], uri[IMS_URI_MAX];

	if (!IMS_SIP_HAS(local_route) ||
	    ims.sip->local_route(NULL, NULL, route, sizeof(route)) < 0 ||
	    ims_uri_of(route, uri, sizeof(uri)) ||
	    ims_uri_host(uri, host, sizeof(host)))
		return;
	if (strcmp(host, "0.0.0.0") == 0 || strchr(host, ':'))
		return; /* a wildcard (or IPv6) listener: keep the name */
	/* "sip:HOST:PORT;transport=tcp;lr" -> without ;lr */
	if (strstr(uri, ";lr"))
		*strstr(uri, ";lr") = '\0';
	ims_fmt(ims.contact_uri, sizeof(ims.contact_uri), "%s", uri);
	ims_log(TND_LOG_INFO, "relayed legs get Contact %s", uri);
}

int ims_route_first(struct ims_msg *m, const char *uri)
{
	char lr[8], value[IMS_URI_MAX + 8];

	if (ims_fmt(value, sizeof(value), "<%s%s>", uri,
		    ims_uparam(uri, "lr", lr, sizeof(lr)) == 0 ? "" : ";lr"))
		return -ENOSPC;
	return ims_msg_add(m, "Route", value, true);
}

void ims_route_pop_self(struct ims_msg *m)
{
	const char *line;

	while ((line = ims_msg_get(m, "Route", 0))) {
		const char *p = line;
		char elem[IMS_HDR_MAX], uri[IMS_URI_MAX];
		struct ims_buf rest = { 0 };

		if (!ims_list_next(&p, elem, sizeof(elem)) ||
		    ims_uri_of(elem, uri, sizeof(uri)) || !ims_is_self(uri))
			return;
		/* the rest of the line stays, as its own line */
		while (ims_list_next(&p, elem, sizeof(elem)))
			ims_buf_printf(&rest, "%s%s", rest.len ? ", " : "",
				       elem);
		if (rest.len && !rest.failed)
			ims_msg_replace(m, "Route", 0, ims_buf_cstr(&rest));
		else
			ims_msg_del_first(m, "Route");
		ims_buf_free(&rest);
	}
}

/* ---- Relay --------------------------------------------------------------- */

static size_t pending_count;

size_t ims_fwd_count(void)
{
	return pending_count;
}

static void pending_add(struct ims_fwd *f)
{
	if (f->prev || pending == f)
		return;
	f->next = pending;
	if (pending)
		pending->prev = f;
	pending = f;
	pending_count++;
}

static void pending_del(struct ims_fwd *f)
{
	if (!f->prev && pending != f)
		return; /* not in the list */
	pending_count--;
	if (f->prev)
		f->prev->next = f->next;
	else if (pending == f)
		pending = f->next;
	if (f->next)
		f->next->prev = f->prev;
	f->prev = f->next = NULL;
}

static void target_free(struct ims_fwd *f)
{
	free(f->ruri);
	free(f->next_hop);
	free(f->from);
	free(f->to);
	free(f->call_id);
	free(f->local_tag);
	free(f->remote_tag);
	f->ruri = f->next_hop = f->from = f->to = f->call_id = NULL;
	f->local_tag = f->remote_tag = NULL;
}

static void fwd_free(struct ims_fwd *f)
{
	pending_del(f);
	if (f->client)
		ims.sip->forget(f->client);
	if (f->req)
		ims.sip->release(f->req);
	if (f->free_fn)
		f->free_fn(f->data);
	ims_msg_free(&f->msg);
	target_free(f);
	free(f);
}

/* Free once answered upstream and nothing is in flight, and not from
 * inside a callback that still uses f. */
static void maybe_free(struct ims_fwd *f)
{
	if (f->final_sent && !f->client && !f->in_cb)
		fwd_free(f);
}

/* RFC 3261 16.10: the caller cancelled; the sip service answered it
 * (200, and 487 to the INVITE). Cancel what we sent; when nothing is in
 * flight yet (a Diameter query first), ims_fwd_send() refuses. */
static void on_cancel(struct sip_request *req, const struct sip_message *cancel,
		      void *arg)
{
	struct ims_fwd *f = arg;

	(void)req, (void)cancel;
	if (f->cancelled)
		return;
	f->cancelled = true;
	ims_log(TND_LOG_INFO, "%s %s cancelled upstream%s", f->msg.method,
		f->ruri ? f->ruri : f->msg.ruri,
		f->client ? ": cancelling downstream" : "");
	if (f->client)
		ims.sip->cancel(f->client);
}

struct ims_fwd *ims_fwd_new(struct sip_request *req,
			    const struct sip_message *m)
{
	struct ims_fwd *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	if (ims_msg_take(ims.sip, m, &f->msg)) {
		free(f);
		return NULL;
	}
	f->req = ims.sip->keep(req);
	if (!f->req) {
		ims_msg_free(&f->msg);
		free(f);
		return NULL;
	}
	f->invite = strcmp(f->msg.method, "INVITE") == 0;
	pending_add(f);
	if (f->invite) {
		/* RFC 3261 16.2 / 8.2.6.1: stop the caller's retransmissions */
		ims.sip->reply(f->req, 100, NULL, NULL, NULL, NULL, 0);
		if (IMS_SIP_HAS(on_cancel))
			f->cancel_notified =
				ims.sip->on_cancel(f->req, on_cancel, f) == 0;
	}
	return f;
}

struct ims_msg *ims_fwd_msg(struct ims_fwd *f)
{
	return &f->msg;
}

void ims_fwd_abandon(struct ims_fwd *f)
{
	if (f->client) {
		if (f->invite)
			ims.sip->cancel(f->client);
		ims.sip->forget(f->client);
		f->client = NULL;
	}
}

void ims_fwd_set_data(struct ims_fwd *f, void *data, void (*free_fn)(void *))
{
	f->data = data;
	f->free_fn = free_fn;
}

void *ims_fwd_data(struct ims_fwd *f)
{
	return f->data;
}

struct ims_dlg *ims_fwd_dialog(struct ims_fwd *f)
{
	return f->dlg;
}

int ims_fwd_reply_body(struct ims_fwd *f, int status, const char *reason,
		       const char *headers, const char *body_type,
		       const void *body, size_t body_len)
{
	int rc = 0;

	if (f->final_sent)
		return -EALREADY;
	if (f->req)
		rc = ims.sip->reply(f->req, status, reason, headers, body_type,
				    body, body_len);
	if (status < 200)
		return rc;
	f->final_sent = true;
	if (f->client && !f->in_cb) {
		ims.sip->forget(f->client);
		f->client = NULL;
	}
	maybe_free(f);
	return rc == -EALREADY ? 0 : rc;
}

int ims_fwd_reply(struct ims_fwd *f, int status, const char *reason,
		  const char *headers)
{
	return ims_fwd_reply_body(f, status, reason, headers, NULL, NULL, 0);
}

/* Copy a response upstream: the headers it carries, our Contact for a
 * dialog, and the request's Record-Route (RFC 3261 12.1.1). */
static void relay_response(struct ims_fwd *f, int status, struct ims_msg *r)
{
	struct ims_buf h = { 0 };
	const char *ct = NULL;
	const void *body = NULL;
	size_t body_len = 0;

	if (r) {
		bool dialog_rsp = (f->dialog || f->own_contact) &&
				  status > 100 && status < 300;

		if (dialog_rsp) {
			ims_msg_del(r, "Contact");
			ims_buf_printf(&h, "Contact: <%s>\r\n",
				       ims.contact_uri);
			/* ours first: the caller reverses the list, we are
			 * its last hop (RFC 3261 12.1.2) */
			if (ims.record_route)
				ims_buf_printf(&h, "Record-Route: <%s;lr>\r\n",
					       ims.contact_uri);
			for (unsigned i = 0;
			     ims_msg_get(&f->msg, "Record-Route", i); i++)
				ims_buf_printf(&h, "Record-Route: %s\r\n",
					       ims_msg_get(&f->msg,
							   "Record-Route", i));
			/* reliable provisionals end at this hop */
			ims_msg_del(r, "RSeq");
		}
		ims_msg_headers(r, ims_skip_response, &h);
		ct = ims_msg_content_type(r);
		body = r->body;
		body_len = r->body_len;
	}
	ims_fwd_reply_body(f, status, r && r->reason[0] ? r->reason : NULL,
			   h.failed ? NULL : ims_buf_cstr(&h), ct, body,
			   body_len);
	ims_buf_free(&h);
}

static void on_response(struct sip_client *c, int status,
			const struct sip_message *rsp, void *arg)
{
	struct ims_fwd *f = arg;
	enum ims_fwd_verdict v = IMS_FWD_RELAY;
	struct ims_msg r;
	bool have = false;

	(void)c;
	if (status >= 200)
		f->client = NULL;
	if (status == 100)
		return; /* hop by hop: we sent our own */
	if (rsp && ims_msg_take(ims.sip, rsp, &r) == 0)
		have = true;
	f->in_cb = true;
	if (f->dialog && status >= 200 && status < 300 && have &&
	    !f->final_sent)
		f->dlg = ims_dlg_create(f, &r);
	if (f->cb)
		v = f->cb(f, status, have ? &r : NULL, f->cb_arg);
	if (v == IMS_FWD_RELAY && !f->final_sent)
		relay_response(f, status, have ? &r : NULL);
	f->in_cb = false;
	if (have)
		ims_msg_free(&r);
	if (f->final_sent && f->client && status >= 200) {
		/* answered upstream while a new send was made: let it go */
		ims.sip->forget(f->client);
		f->client = NULL;
	}
	maybe_free(f);
}

static int keep_target(struct ims_fwd *f, const struct ims_fwd_target *t)
{
	char from[IMS_HDR_MAX], token[24];
	const char *v = ims_msg_get(&f->msg, "From", 0);

	target_free(f);
	f->dialog = t->dialog;
	f->sticky_hop = t->sticky_hop;
	f->own_contact = t->own_contact || t->dialog;
	f->cseq = t->cseq ? t->cseq : ims_msg_cseq(&f->msg);
	if (t->from)
		f->from = strdup(t->from);
	else if (v && ims_strip_tag(v, from, sizeof(from)) == 0)
		f->from = strdup(from);
	f->to = strdup(t->to ? t->to
		       : ims_msg_get(&f->msg, "To", 0)
			       ? ims_msg_get(&f->msg, "To", 0)
			       : "");
	f->ruri = strdup(t->ruri ? t->ruri : f->msg.ruri);
	if (t->next_hop)
		f->next_hop = strdup(t->next_hop);
	if (t->local_tag)
		f->local_tag = strdup(t->local_tag);
	if (t->remote_tag)
		f->remote_tag = strdup(t->remote_tag);
	if (t->call_id) {
		f->call_id = strdup(t->call_id);
	} else if (t->dialog) {
		/* a leg of its own: no Call-ID shared with the caller */
		ims_token(token, 21);
		f->call_id = strdup(token);
	} else {
		v = ims_msg_get(&f->msg, "Call-ID", 0);
		f->call_id = v ? strdup(v) : NULL;
	}
	if (!f->from || !f->to || !f->ruri || !f->call_id ||
	    (t->next_hop && !f->next_hop) || (t->local_tag && !f->local_tag) ||
	    (t->remote_tag && !f->remote_tag))
		return -ENOMEM;
	return 0;
}

static char *tagged(const char *nameaddr, const char *tag)
{
	size_t n = strlen(nameaddr) + strlen(tag) + 6;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s;tag=%s", nameaddr, tag);
	return s;
}

/* The tags of an in-dialog request: as spec members where the service
 * takes them, else written into From and To as before 1.1 (the service
 * then adds a second From tag; parsers take the first). */
static int set_tags(struct ims_fwd *f, struct sip_request_spec *spec,
		    char **from, char **to)
{
	*from = *to = NULL;
	if (IMS_SIP_HAS(on_cancel)) {
		spec->local_tag = f->local_tag;
		spec->remote_tag = f->remote_tag;
		return 0;
	}
	if (f->local_tag && !(*from = tagged(f->from, f->local_tag)))
		return -ENOMEM;
	if (f->remote_tag && !(*to = tagged(f->to, f->remote_tag))) {
		free(*from);
		*from = NULL;
		return -ENOMEM;
	}
	return 0;
}

int ims_fwd_fail(struct ims_fwd *f, int rc, int status, const char *reason)
{
	if (rc == -ELOOP)
		return ims_fwd_reply(f, 483, NULL, NULL);
	return ims_fwd_reply(f, status, reason, NULL);
}

int ims_fwd_send(struct ims_fwd *f, const struct ims_fwd_target *t,
		 ims_fwd_cb cb, void *arg)
{
	struct ims_buf h = { 0 };
	struct sip_request_spec spec = { .size = sizeof(spec) };
	char *tagged_from, *tagged_to;
	int rc;

	if (f->final_sent || f->client)
		return -EALREADY;
	if (f->cancelled)
		return -ECANCELED;
	rc = keep_target(f, t);
	if (!rc)
		rc = set_tags(f, &spec, &tagged_from, &tagged_to);
	if (rc)
		return rc;
	if (f->own_contact &&
	    (t->dialog || ims_msg_get(&f->msg, "Contact", 0))) {
		/* ours downstream; the caller's stays in the copy (leg 0's
		 * remote target) */
		ims_buf_printf(&h, "Contact: <%s>\r\n", ims.contact_uri);
		if (ims.record_route && t->dialog)
			ims_buf_printf(&h, "Record-Route: <%s;lr>\r\n",
				       ims.contact_uri);
		ims_msg_headers(&f->msg, skip_with_contact, &h);
	} else {
		ims_msg_headers(&f->msg, ims_skip_request, &h);
	}
	if (h.failed) {
		ims_buf_free(&h);
		free(tagged_from);
		free(tagged_to);
		return -ENOMEM;
	}
	spec.method = f->msg.method;
	spec.request_uri = f->ruri;
	spec.from = tagged_from ? tagged_from : f->from;
	spec.to = tagged_to ? tagged_to : f->to;
	spec.call_id = f->call_id;
	spec.cseq = f->cseq;
	spec.headers = h.len ? ims_buf_cstr(&h) : NULL;
	spec.body_type = ims_msg_content_type(&f->msg);
	spec.body = f->msg.body;
	spec.body_len = f->msg.body_len;
	spec.next_hop = f->next_hop;
	/* RFC 3261 16.6 step 3, across every relay of the core */
	if (f->req && IMS_SIP_HAS(on_cancel))
		spec.forward_of = ims.sip->request_message(f->req);
	f->cb = cb;
	f->cb_arg = arg;
	rc = ims.sip->send_request(&spec, on_response, f, &f->client);
	ims_buf_free(&h);
	free(tagged_from);
	free(tagged_to);
	if (rc)
		f->client = NULL;
	if (rc == -ELOOP)
		ims_log(TND_LOG_INFO, "%s %s: Max-Forwards exhausted: 483",
			f->msg.method, f->ruri);
	return rc;
}

/* ---- CANCEL watch -------------------------------------------------------- */

/*
 * With a sip service older than 1.1 (no on_cancel), the service answers
 * a CANCEL itself and tells the handler nothing; a reply() after it
 * returns -EALREADY. Then once a second a 100 is offered to every INVITE
 * still waiting: one that is refused was cancelled, and its downstream
 * leg is cancelled too.
 */
static void on_watch(struct tnd_timer *t, void *arg)
{
	struct ims_fwd *f, *next;

	(void)t, (void)arg;
	for (f = pending; f; f = next) {
		next = f->next;
		if (!f->invite || f->cancelled || f->final_sent || !f->client ||
		    !f->req || f->cancel_notified)
			continue;
		if (ims.sip->reply(f->req, 100, NULL, NULL, NULL, NULL, 0) ==
		    -EALREADY) {
			f->cancelled = true;
			ims_log(TND_LOG_INFO,
				"%s %s cancelled upstream: "
				"cancelling downstream",
				f->msg.method, f->ruri ? f->ruri : "");
			ims.sip->cancel(f->client);
		}
	}
	ims_dlg_sweep();
}

void ims_fini(void)
{
	while (pending) {
		struct ims_fwd *f = pending;

		pending_del(f);
		f->final_sent = true;
		fwd_free(f);
	}
	ims_dlg_fini();
	if (watch_timer)
		ims.host->timer_free(watch_timer);
	watch_timer = NULL;
}
