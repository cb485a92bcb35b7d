/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ims_dlg.c - dialogs relayed leg to leg (ims.h). Leg 0 faces the caller
 * (we are its UAS), leg 1 the callee (we are its UAC). A request inside
 * the dialog arrives on one leg and is sent on the other with that leg's
 * Call-ID, tags, CSeq, remote target and route set (RFC 3261 12.2.1.1).
 *
 * Two things the sip service decides for us: the 2xx to an INVITE we
 * sent is ACKed by the service itself, so an ACK from upstream ends here;
 * and our own tag on leg 0 is the service's, learnt from the caller's
 * first request after the 2xx (its ACK).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ims_int.h"

struct ims_dlg_leg {
	char *call_id, *local_tag, *remote_tag;
	char *local_uri, *remote_uri; /* name-addr, no tag */
	char *remote_target;
	char *route;	/* one Route value, "<a>, <b>", or NULL */
	char *next_hop; /* the flow to the peer, or NULL */
	uint32_t local_cseq;
	char *key; /* Call-ID "|" remote tag */
};

struct ims_dlg {
	struct ims_dlg_leg leg[2];
	void *data;
	void (*free_fn)(void *);
	uint64_t born_ms;
	unsigned refs; /* relays in flight that point here */
	bool ended;
	bool subscription; /* made by a SUBSCRIBE (RFC 6665) */
	struct ims_dlg *prev, *next;
};

static const struct ims_dlg_ops *dlg_ops;
static struct ims_hash by_key;
static struct ims_hash by_call; /* subscriptions: leg 1 Call-ID -> d */
static struct ims_dlg *all;
static size_t count;

void ims_dlg_set_ops(const struct ims_dlg_ops *ops)
{
	dlg_ops = ops;
}

void ims_dlg_set_data(struct ims_dlg *d, void *data, void (*free_fn)(void *))
{
	d->data = data;
	d->free_fn = free_fn;
}

void *ims_dlg_data(struct ims_dlg *d)
{
	return d->data;
}

const char *ims_dlg_call_id(const struct ims_dlg *d)
{
	return d->leg[0].call_id;
}

size_t ims_dlg_count(void)
{
	return count;
}

/* ---- Life ---------------------------------------------------------------- */

static void leg_free(struct ims_dlg_leg *l)
{
	if (l->key)
		ims_hash_del(&by_key, l->key);
	free(l->call_id);
	free(l->local_tag);
	free(l->remote_tag);
	free(l->local_uri);
	free(l->remote_uri);
	free(l->remote_target);
	free(l->route);
	free(l->next_hop);
	free(l->key);
}

static void dlg_free(struct ims_dlg *d)
{
	if (d->subscription && d->leg[1].call_id &&
	    ims_hash_get(&by_call, d->leg[1].call_id) == d)
		ims_hash_del(&by_call, d->leg[1].call_id);
	if (d->prev)
		d->prev->next = d->next;
	else
		all = d->next;
	if (d->next)
		d->next->prev = d->prev;
	leg_free(&d->leg[0]);
	leg_free(&d->leg[1]);
	if (d->free_fn)
		d->free_fn(d->data);
	free(d);
	count--;
}

/* The dialog is over: tell the plugin once, free when no relay uses it. */
static void dlg_end(struct ims_dlg *d, const char *why)
{
	if (!d->ended) {
		d->ended = true;
		ims_hash_del(&by_key, d->leg[0].key);
		ims_hash_del(&by_key, d->leg[1].key);
		free(d->leg[0].key);
		free(d->leg[1].key);
		d->leg[0].key = d->leg[1].key = NULL;
		ims_log(TND_LOG_INFO, "dialog %s ended: %s", d->leg[0].call_id,
			why);
		if (dlg_ops && dlg_ops->terminated)
			dlg_ops->terminated(d, why);
	}
	if (!d->refs)
		dlg_free(d);
}

static void unref(struct ims_dlg *d)
{
	if (--d->refs == 0 && d->ended)
		dlg_free(d);
}

/* ---- Creation ------------------------------------------------------------ */

static char *dup_stripped(const char *v)
{
	char buf[IMS_HDR_MAX];

	if (!v || ims_strip_tag(v, buf, sizeof(buf)))
		return NULL;
	return strdup(buf);
}

static char *tag_of(const struct ims_msg *m, const char *name)
{
	char tag[128];

	if (ims_msg_tag(m, name, tag, sizeof(tag)) || !tag[0])
		return NULL;
	return strdup(tag);
}

static char *contact_uri(const struct ims_msg *m)
{
	char uri[IMS_URI_MAX];
	const char *v = ims_msg_get(m, "Contact", 0);

	if (!v || ims_uri_of(v, uri, sizeof(uri)))
		return NULL;
	return strdup(uri);
}

/* Record-Route entries of one line that are not this node (a UE or
 * a peer copies back the Record-Route we put in), appended to b. */
static void add_entries(struct ims_buf *b, const char *line, bool reverse)
{
	char elem[IMS_HDR_MAX], uri[IMS_URI_MAX];
	char *entries[16];
	size_t n = 0;
	const char *p = line;

	while (n < IMS_ARRAY_SIZE(entries) &&
	       ims_list_next(&p, elem, sizeof(elem))) {
		if (ims_uri_of(elem, uri, sizeof(uri)) == 0 && ims_is_self(uri))
			continue;
		if (!(entries[n] = strdup(elem))) {
			b->failed = true;
			break;
		}
		n++;
	}
	for (size_t i = 0; i < n; i++)
		ims_buf_printf(b, "%s%s", b->len ? ", " : "",
			       entries[reverse ? n - 1 - i : i]);
	for (size_t i = 0; i < n; i++)
		free(entries[i]);
}

/* The route set of Record-Route lines, in order or reversed, as one
 * Route value, this node left out; NULL when there is none. */
static char *route_set(const struct ims_msg *m, bool reverse)
{
	unsigned n = ims_msg_count(m, "Record-Route");
	struct ims_buf b = { 0 };
	char *s;

	for (unsigned i = 0; i < n; i++)
		add_entries(
			&b,
			ims_msg_get(m, "Record-Route", reverse ? n - 1 - i : i),
			reverse);
	s = b.len && !b.failed ? strdup(ims_buf_cstr(&b)) : NULL;
	ims_buf_free(&b);
	return s;
}

/* "UDP 127.0.0.1:5099" -> "udp:127.0.0.1:5099" */
static char *hop_of_source(const char *source)
{
	char hop[96], proto[8];
	const char *sp = strchr(source, ' ');
	size_t n;

	if (!sp || (n = (size_t)(sp - source)) >= sizeof(proto))
		return NULL;
	for (size_t i = 0; i < n; i++)
		proto[i] = (char)(source[i] | 0x20);
	proto[n] = '\0';
	if (ims_fmt(hop, sizeof(hop), "%s:%s", proto, sp + 1))
		return NULL;
	return strdup(hop);
}

static int leg_key(struct ims_dlg_leg *l, struct ims_dlg *d)
{
	size_t n = strlen(l->call_id) + strlen(l->remote_tag) + 2;

	l->key = malloc(n);
	if (!l->key)
		return -ENOMEM;
	snprintf(l->key, n, "%s|%s", l->call_id, l->remote_tag);
	return ims_hash_put(&by_key, l->key, d);
}

struct ims_dlg *ims_dlg_create(struct ims_fwd *f, const struct ims_msg *ok)
{
	struct ims_dlg *d = calloc(1, sizeof(*d));
	struct ims_dlg_leg *up, *down;
	const char *cid = ims_msg_get(&f->msg, "Call-ID", 0);

	if (!d)
		return NULL;
	up = &d->leg[0];
	down = &d->leg[1];
	d->born_ms = ims.host->now_ms();
	d->next = all;
	if (all)
		all->prev = d;
	all = d;
	count++;
	up->call_id = ims_strdup(cid);
	up->remote_tag = tag_of(&f->msg, "From");
	up->local_uri = dup_stripped(ims_msg_get(&f->msg, "To", 0));
	up->remote_uri = dup_stripped(ims_msg_get(&f->msg, "From", 0));
	up->remote_target = contact_uri(&f->msg);
	up->route = route_set(&f->msg, false);
	/* without a route set, requests to the caller go to where it sent
	 * from: its flow, through a NAT too (RFC 5626 spirit) */
	if (!up->route)
		up->next_hop = hop_of_source(f->msg.source);
	down->call_id = ims_strdup(f->call_id);
	down->local_tag = tag_of(ok, "From");
	down->remote_tag = tag_of(ok, "To");
	down->local_uri = ims_strdup(f->from);
	down->remote_uri = dup_stripped(ims_msg_get(ok, "To", 0));
	down->remote_target = contact_uri(ok);
	down->route = route_set(ok, true);
	down->next_hop = f->sticky_hop ? ims_strdup(f->next_hop) : NULL;
	down->local_cseq = f->cseq;
	if (!up->call_id || !up->remote_tag || !up->local_uri ||
	    !up->remote_uri || !up->remote_target || !down->call_id ||
	    !down->local_tag || !down->remote_tag || !down->local_uri ||
	    !down->remote_uri || !down->remote_target || leg_key(up, d) ||
	    leg_key(down, d)) {
		ims_log(TND_LOG_INFO,
			"dialog %s: 2xx without what a dialog "
			"needs (tags, Contact): not kept",
			cid ? cid : "?");
		d->ended = true;
		dlg_free(d);
		return NULL;
	}
	d->subscription = strcmp(f->msg.method, "SUBSCRIBE") == 0;
	if (d->subscription)
		ims_hash_put(&by_call, down->call_id, d);
	ims_log(TND_LOG_DEBUG, "dialog %s <-> %s up", up->call_id,
		down->call_id);
	if (dlg_ops && dlg_ops->established)
		dlg_ops->established(d, &f->msg, ok);
	return d;
}

/* ---- Requests inside a dialog -------------------------------------------- */

struct leg_ref {
	struct ims_dlg *d;
	int from_leg;
	bool bye;
};

static void ref_free(void *p)
{
	struct leg_ref *ref = p;

	unref(ref->d);
	free(ref);
}

static enum ims_fwd_verdict on_leg_response(struct ims_fwd *f, int status,
					    struct ims_msg *rsp, void *arg)
{
	struct leg_ref *ref = arg;
	struct ims_dlg_leg *out = &ref->d->leg[1 - ref->from_leg];

	(void)f;
	if (status < 200)
		return IMS_FWD_RELAY;
	if (ref->bye && !ref->d->ended)
		dlg_end(ref->d, "BYE");
	else if (status < 300 && rsp && !ref->d->ended &&
		 ims_msg_get(rsp, "Contact", 0)) {
		/* RFC 3261 12.2.1.2: a target refresh */
		char *t = contact_uri(rsp);

		if (t) {
			free(out->remote_target);
			out->remote_target = t;
		}
	} else if (status == 481 && !ref->d->ended) {
		dlg_end(ref->d, "481 from the other leg");
	}
	return IMS_FWD_RELAY;
}

static char *with_tag(const char *nameaddr, const char *tag)
{
	size_t n = strlen(nameaddr) + (tag ? strlen(tag) : 0) + 6;
	char *s = malloc(n);

	if (!s)
		return NULL;
	if (tag)
		snprintf(s, n, "%s;tag=%s", nameaddr, tag);
	else
		snprintf(s, n, "%s", nameaddr);
	return s;
}

static bool refreshes_target(const char *method)
{
	return strcmp(method, "INVITE") == 0 || strcmp(method, "UPDATE") == 0 ||
	       strcmp(method, "SUBSCRIBE") == 0 ||
	       strcmp(method, "NOTIFY") == 0 || strcmp(method, "REFER") == 0;
}

static int relay_in_dialog(struct ims_dlg *d, int in_leg,
			   struct sip_request *req, const struct sip_message *m)
{
	struct ims_dlg_leg *from = &d->leg[in_leg], *out = &d->leg[1 - in_leg];
	struct ims_fwd_target t = { 0 };
	struct leg_ref *ref;
	struct ims_fwd *f = ims_fwd_new(req, m);
	struct ims_msg *msg;
	int rc;

	if (!f)
		return -ENOMEM;
	msg = ims_fwd_msg(f);
	if (refreshes_target(msg->method) && ims_msg_get(msg, "Contact", 0)) {
		char *tgt = contact_uri(msg);

		if (tgt) {
			free(from->remote_target);
			from->remote_target = tgt;
		}
	}
	ims_msg_del(msg, "Route");
	if (out->route)
		ims_msg_add(msg, "Route", out->route, false);
	ref = calloc(1, sizeof(*ref));
	if (!ref) {
		ims_fwd_reply(f, 500, NULL, NULL);
		return -ENOMEM;
	}
	ref->d = d;
	ref->from_leg = in_leg;
	/* a BYE, or a NOTIFY that ends its subscription (RFC 6665 4.1.3),
	 * ends the relayed dialog once answered */
	ref->bye = strcmp(msg->method, "BYE") == 0 ||
		   (strcmp(msg->method, "NOTIFY") == 0 &&
		    ims_msg_get(msg, "Subscription-State", 0) &&
		    ims_prefix(ims_msg_get(msg, "Subscription-State", 0),
			       "terminated"));
	d->refs++;
	ims_fwd_set_data(f, ref, ref_free);
	t.ruri = out->remote_target;
	t.next_hop = out->next_hop;
	t.from = out->local_uri;
	t.to = out->remote_uri;
	t.local_tag = out->local_tag;
	t.remote_tag = out->remote_tag;
	t.call_id = out->call_id;
	t.cseq = ++out->local_cseq;
	t.own_contact = refreshes_target(msg->method);
	rc = ims_fwd_send(f, &t, on_leg_response, ref);
	if (rc) {
		ims_fwd_fail(f, rc, rc == -EHOSTUNREACH ? 404 : 500, NULL);
		if (ref->bye)
			dlg_end(d, "BYE not deliverable");
	}
	return 0;
}

static bool has_to_tag(const struct sip_message *m)
{
	struct sip_text v;
	char buf[IMS_HDR_MAX], tag[128];

	if (ims.sip->header(m, "To", 0, &v) ||
	    ims_text_copy(v, buf, sizeof(buf)))
		return false;
	return ims_hparam(buf, "tag", tag, sizeof(tag)) == 0 && tag[0];
}

static int header_param(const struct sip_message *m, const char *name,
			const char *param, char *out, size_t size)
{
	struct sip_text v;
	char buf[IMS_HDR_MAX];

	if (ims.sip->header(m, name, 0, &v) ||
	    ims_text_copy(v, buf, sizeof(buf)))
		return -ENOENT;
	if (!param)
		return ims_fmt(out, size, "%s", buf);
	return ims_hparam(buf, param, out, size);
}

/*
 * RFC 6665 4.1.2.4: a NOTIFY may come with another tag than the 2xx to
 * the SUBSCRIBE gave (a notifier that forked, or one whose 2xx tag was
 * chosen by its SIP layer): the subscription's leg takes that tag.
 */
static struct ims_dlg *renotify(const char *call_id, const char *tag,
				const char *key)
{
	struct ims_dlg *d = ims_hash_get(&by_call, call_id);
	struct ims_dlg_leg *l;
	char *t;

	if (!d || d->ended)
		return NULL;
	l = &d->leg[1];
	t = strdup(tag);
	if (!t)
		return NULL;
	ims_hash_del(&by_key, l->key);
	free(l->key);
	l->key = NULL;
	free(l->remote_tag);
	l->remote_tag = t;
	if (leg_key(l, d)) {
		dlg_end(d, "out of memory");
		return NULL;
	}
	(void)key;
	return d;
}

bool ims_dlg_handle(struct sip_request *req, const struct sip_message *m)
{
	struct sip_text method = ims.sip->method(m);
	bool ack = method.len == 3 && memcmp(method.ptr, "ACK", 3) == 0;
	char call_id[256], from_tag[128], to_tag[128], key[400];
	struct ims_dlg *d;
	int leg;

	if (!ack && !has_to_tag(m))
		return false;
	if (header_param(m, "Call-ID", NULL, call_id, sizeof(call_id)) ||
	    header_param(m, "From", "tag", from_tag, sizeof(from_tag)) ||
	    ims_fmt(key, sizeof(key), "%s|%s", call_id, from_tag)) {
		if (!ack)
			ims.sip->reply(req, 400, "Bad dialog identifiers", NULL,
				       NULL, NULL, 0);
		return true;
	}
	d = ims_hash_get(&by_key, key);
	if (!d && method.len == 6 && memcmp(method.ptr, "NOTIFY", 6) == 0)
		d = renotify(call_id, from_tag, key);
	ims_log(TND_LOG_DEBUG, "%.*s in dialog %s: %s", (int)method.len,
		method.ptr, key, d ? "found" : "none");
	if (!d) {
		/* RFC 3261 12.2.2: no such dialog (an ACK is just dropped) */
		if (!ack)
			ims.sip->reply(req, 481, NULL, NULL, NULL, NULL, 0);
		return true;
	}
	leg = strcmp(d->leg[0].key, key) == 0 ? 0 : 1;
	if (!d->leg[leg].local_tag &&
	    header_param(m, "To", "tag", to_tag, sizeof(to_tag)) == 0)
		d->leg[leg].local_tag = strdup(to_tag);
	if (ack)
		return true; /* the other leg's 2xx was ACKed already */
	if (relay_in_dialog(d, leg, req, m))
		ims.sip->reply(req, 500, NULL, NULL, NULL, NULL, 0);
	return true;
}

/* ---- Ending dialogs from here -------------------------------------------- */

static void on_bye_answer(struct sip_client *c, int status,
			  const struct sip_message *rsp, void *arg)
{
	(void)c, (void)rsp, (void)arg;
	if (status >= 200)
		ims_log(TND_LOG_DEBUG, "our BYE answered %d", status);
}

/* A BYE of our own on one leg (no upstream request behind it). */
static void send_bye(struct ims_dlg_leg *l, const char *why)
{
	struct sip_request_spec spec = { .size = sizeof(spec) };
	bool tags = IMS_SIP_HAS(on_cancel); /* spec tags since 1.1 */
	char *from = tags ? strdup(l->local_uri)
			  : with_tag(l->local_uri, l->local_tag);
	char *to = tags ? strdup(l->remote_uri)
			: with_tag(l->remote_uri, l->remote_tag);
	struct ims_buf h = { 0 };

	if (from && to) {
		if (l->route)
			ims_buf_printf(&h, "Route: %s\r\n", l->route);
		ims_buf_printf(&h, "Reason: SIP;cause=480;text=\"%s\"\r\n",
			       why);
		spec.method = "BYE";
		spec.request_uri = l->remote_target;
		spec.from = from;
		spec.to = to;
		if (tags) {
			spec.local_tag = l->local_tag;
			spec.remote_tag = l->remote_tag;
		}
		spec.call_id = l->call_id;
		spec.cseq = ++l->local_cseq;
		spec.headers = ims_buf_cstr(&h);
		spec.next_hop = l->next_hop;
		ims.sip->send_request(&spec, on_bye_answer, NULL, NULL);
	}
	free(from);
	free(to);
	ims_buf_free(&h);
}

unsigned ims_dlg_release(bool (*match)(struct ims_dlg *d, void *arg), void *arg,
			 const char *why)
{
	struct ims_dlg *d, *next;
	unsigned n = 0;

	for (d = all; d; d = next) {
		next = d->next;
		if (d->ended || !match(d, arg))
			continue;
		send_bye(&d->leg[0], why);
		send_bye(&d->leg[1], why);
		d->refs++; /* dlg_end must not free what `next` may be */
		dlg_end(d, why);
		next = d->next;
		unref(d);
		n++;
	}
	return n;
}

static bool same_call(struct ims_dlg *d, void *arg)
{
	return strcmp(d->leg[0].call_id, arg) == 0;
}

unsigned ims_dlg_release_call(const char *call_id, const char *why)
{
	return ims_dlg_release(same_call, (void *)call_id, why);
}

static bool too_old(struct ims_dlg *d, void *arg)
{
	uint64_t now = *(uint64_t *)arg;

	return ims.dialog_max_s && now - d->born_ms > ims.dialog_max_s * 1000;
}

void ims_dlg_sweep(void)
{
	uint64_t now = ims.host->now_ms();

	ims_dlg_release(too_old, &now, "dialog too old");
}

void ims_dlg_fini(void)
{
	ims_hash_clear(&by_call);
	while (all) {
		all->refs = 0;
		all->ended = true;
		dlg_free(all);
	}
	ims_hash_clear(&by_key);
}
