/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_dialog: INVITE dialogs for user agents and B2BUAs (the SBC, the
 * MGCF): RFC 3261 12 (creation, route set, remote target, CSeq), 13 (2xx
 * resent until its ACK; ACK of a 2xx), 14 (re-INVITE), 15 (BYE); RFC 3262
 * (reliable provisional responses and PRACK, both sides); RFC 3311
 * (UPDATE); RFC 4028 (session timers: the refresher sends UPDATE at half
 * the interval, the other side ends the dialog when no refresh comes);
 * RFC 3891 (finding the dialog a Replaces names).
 *
 * A dialog is found by Call-ID, local tag and remote tag. Requests in it
 * reach the core with a To tag and come here before anything else.
 */
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sip_int.h"
#include "sip_service_int.h"

struct sip_dialog {
	struct sip_dialog *hnext;
	struct sip_dialog *next, *prev; /* every dialog, for fini */
	uint32_t hash;
	char key[300];
	bool in_table, uac, ended, released;
	enum sip_dialog_state state;
	const struct sip_dialog_ops *ops;
	void *arg;
	unsigned busy; /* clients in flight that point here */
	char call_id[128], local_tag[64], remote_tag[64];
	char *local_uri, *remote_uri; /* "<sip:...>" without tags */
	char *remote_target;
	char *routes;		      /* "Route: <...>\r\n" lines, in order */
	char *next_hop;		      /* where requests go, NULL: by Route /
				       * target (dialog_set_next_hop) */
	uint32_t local_cseq, remote_cseq, invite_cseq;
	/* UAS */
	struct sip_request *invite;
	struct sip_request *reinvite; /* a re-INVITE the user holds */
	bool peer_100rel, peer_timer;
	char *ok_wire, *rel_wire;
	size_t ok_len, rel_len;
	struct sip_peer ok_to;
	unsigned ok_interval, rel_interval;
	uint64_t ok_giveup, rel_giveup;
	struct sip_tnode ok_timer, rel_timer;
	uint32_t rseq;
	bool rel_pending;
	/* UAC */
	struct sip_client *inv;
	char *ack_wire;
	size_t ack_len;
	struct sip_peer ack_to;
	/* RFC 4028 */
	unsigned se, refreshes;
	bool refresher;
	struct sip_tnode se_timer;
};

#define BUCKETS 1024

static struct sip_dialog *table[BUCKETS];
static struct sip_dialog *all;

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261U;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619U;
	return h;
}

static void make_key(char *key, size_t size, const char *call_id,
		     const char *local, const char *remote)
{
	snprintf(key, size, "%s|%s|%s", call_id, local, remote);
}

static struct sip_dialog *find(const char *call_id, const char *local,
			       const char *remote)
{
	char key[300];
	uint32_t h;

	make_key(key, sizeof(key), call_id, local, remote);
	h = hash_str(key);
	for (struct sip_dialog *d = table[h % BUCKETS]; d; d = d->hnext)
		if (d->hash == h && strcmp(d->key, key) == 0)
			return d;
	return NULL;
}

static void table_add(struct sip_dialog *d)
{
	make_key(d->key, sizeof(d->key), d->call_id, d->local_tag,
		 d->remote_tag);
	d->hash = hash_str(d->key);
	d->hnext = table[d->hash % BUCKETS];
	table[d->hash % BUCKETS] = d;
	d->in_table = true;
}

static void table_del(struct sip_dialog *d)
{
	if (!d->in_table)
		return;
	for (struct sip_dialog **pp = &table[d->hash % BUCKETS]; *pp;
	     pp = &(*pp)->hnext) {
		if (*pp == d) {
			*pp = d->hnext;
			break;
		}
	}
	d->in_table = false;
}

static void dialog_free(struct sip_dialog *d)
{
	table_del(d);
	if (d->prev)
		d->prev->next = d->next;
	else
		all = d->next;
	if (d->next)
		d->next->prev = d->prev;
	sip_timer_cancel(&d->ok_timer);
	sip_timer_cancel(&d->rel_timer);
	sip_timer_cancel(&d->se_timer);
	if (d->invite)
		sip_request_release(d->invite);
	if (d->reinvite)
		d->reinvite->reinvite_of = NULL;
	if (d->inv)
		sip_client_forget(d->inv);
	free(d->local_uri);
	free(d->remote_uri);
	free(d->remote_target);
	free(d->routes);
	free(d->next_hop);
	free(d->ok_wire);
	free(d->rel_wire);
	free(d->ack_wire);
	free(d);
}

/* Free when the user let go and nothing in flight points here. */
static void maybe_free(struct sip_dialog *d)
{
	if (d->released && d->ended && !d->busy)
		dialog_free(d);
}

static void notify(struct sip_dialog *d, enum sip_dialog_state state,
		   int status, const struct sip_msg *m)
{
	struct sip_message view = { .m = m };

	if (d->state == state && state != SIP_DIALOG_ENDED)
		return;
	d->state = state;
	if (!d->released && d->ops && d->ops->state)
		d->ops->state(d, state, status, m ? &view : NULL, d->arg);
}

/* UAC: every provisional response with a tag reaches the user (a 183
 * with SDP after a 180 carries the early media), not only the first. */
static void notify_provisional(struct sip_dialog *d, int status,
			       const struct sip_msg *m)
{
	if (d->state == SIP_DIALOG_EARLY)
		d->state = 0; /* not a state users see: lets notify() pass */
	notify(d, SIP_DIALOG_EARLY, status, m);
}

static void end(struct sip_dialog *d, int status, const struct sip_msg *m)
{
	if (d->ended)
		return;
	d->ended = true;
	table_del(d);
	sip_timer_cancel(&d->ok_timer);
	sip_timer_cancel(&d->rel_timer);
	sip_timer_cancel(&d->se_timer);
	notify(d, SIP_DIALOG_ENDED, status, m);
	maybe_free(d);
}

/* ---- Reading messages ----------------------------------------------------- */

static void copy_tag(char *dst, size_t size, const osip_from_t *f)
{
	osip_generic_param_t *tag = NULL;

	osip_from_get_tag((osip_from_t *)f, &tag);
	snprintf(dst, size, "%s", tag && tag->gvalue ? tag->gvalue : "");
}

static char *uri_of(const osip_from_t *f)
{
	char *s = NULL, *out = NULL;

	if (f && f->url && osip_uri_to_str(f->url, &s) == 0) {
		size_t n = strlen(s) + 3;

		out = malloc(n);
		if (out)
			snprintf(out, n, "<%s>", s);
		osip_free(s);
	}
	return out;
}

static char *contact_of(const osip_message_t *msg)
{
	osip_contact_t *c = osip_list_get(&msg->contacts, 0);
	char *s = NULL, *out = NULL;

	if (c && c->url && osip_uri_to_str(c->url, &s) == 0) {
		out = strdup(s);
		osip_free(s);
	}
	return out;
}

/* A Contact, when the message has one, becomes the remote target. */
static void set_target(struct sip_dialog *d, const osip_message_t *msg)
{
	char *target = contact_of(msg);

	if (target) {
		free(d->remote_target);
		d->remote_target = target;
	}
}

/* The route set: Record-Route in order (UAS) or reversed (UAC). */
static char *route_set(const osip_message_t *msg, bool reverse)
{
	int n = osip_list_size(&msg->record_routes);
	struct sip_buf b = { 0 };

	for (int i = 0; i < n; i++) {
		osip_record_route_t *rr = osip_list_get(&msg->record_routes,
						       reverse ? n - 1 - i : i);
		char *s;

		if (osip_record_route_to_str(rr, &s) == 0) {
			sip_buf_printf(&b, "Route: %s\r\n", s);
			osip_free(s);
		}
	}
	if (b.failed)
		sip_buf_free(&b);
	return b.data ? b.data : strdup("");
}

static void call_id_of(char *dst, size_t size, const osip_message_t *msg)
{
	const osip_call_id_t *c = msg->call_id;

	snprintf(dst, size, "%s%s%s", c->number ? c->number : "",
		 c->host ? "@" : "", c->host ? c->host : "");
}

/* Is option tag `tag` in a Supported or Require of the message? */
static bool has_option(const struct sip_msg *m, const char *tag)
{
	static const enum sip_hdr_id ids[] = { SIP_H_SUPPORTED, SIP_H_REQUIRE };
	size_t n = strlen(tag);

	for (size_t i = 0; i < SIP_ARRAY_SIZE(ids); i++) {
		for (unsigned k = 0; k < m->scan->count[ids[i]]; k++) {
			const struct sip_hdr *h = sip_scan_hdr(m->scan, ids[i], k);
			const char *p = m->raw + h->value.off;
			const char *e = p + h->value.len;

			while (p < e) {
				p += strspn(p, " \t,");
				if ((size_t)(e - p) >= n &&
				    strncasecmp(p, tag, n) == 0 &&
				    (p + n == e || strchr(" \t,", p[n])))
					return true;
				p += strcspn(p, ",");
			}
		}
	}
	return false;
}

/* Session-Expires: seconds and refresher ("uac"/"uas"/""). */
static unsigned session_expires(const struct sip_msg *m, char *refresher,
				size_t size)
{
	const struct sip_hdr *h = sip_scan_hdr(m->scan, SIP_H_SESSION_EXPIRES,
					       0);
	const char *p, *r;
	char value[128];

	refresher[0] = '\0';
	if (!h)
		return 0;
	snprintf(value, sizeof(value), "%.*s", (int)h->value.len,
		 m->raw + h->value.off);
	p = value;
	r = strstr(value, "refresher=");
	if (r)
		snprintf(refresher, size, "%.3s", r + 10);
	return (unsigned)strtoul(p, NULL, 10);
}

/* ---- Timers ----------------------------------------------------------------- */

#define OF(type, member, node)                                               \
	((type *)((char *)(node) - offsetof(type, member)))

static unsigned next_interval(unsigned interval)
{
	unsigned t2 = (unsigned)sip_cfg->t2_ms;

	return interval * 2 > t2 ? t2 : interval * 2;
}

/* RFC 3261 13.3.1.4: the UAS resends its 2xx until the ACK, 64*T1. */
static void on_ok_timer(struct sip_tnode *node)
{
	struct sip_dialog *d = OF(struct sip_dialog, ok_timer, node);

	if (sip_now_ms() >= d->ok_giveup) {
		tnd_info("dialog %s: no ACK for the 2xx: ended", d->call_id);
		sip_dialog_request(d, "BYE", NULL, NULL, NULL, 0, NULL, NULL);
		end(d, 408, NULL);
		return;
	}
	sip_count(sip_stats.retransmits);
	sip_send(&d->ok_to, d->ok_wire, d->ok_len);
	d->ok_interval = next_interval(d->ok_interval);
	sip_timer_at(&d->ok_timer, sip_now_ms() + d->ok_interval);
}

/* RFC 3262 3: a reliable provisional response is resent until PRACKed. */
static void on_rel_timer(struct sip_tnode *node)
{
	struct sip_dialog *d = OF(struct sip_dialog, rel_timer, node);

	if (sip_now_ms() >= d->rel_giveup) {
		tnd_info("dialog %s: no PRACK for the reliable %u", d->call_id,
			 d->rseq);
		d->rel_pending = false;
		return;
	}
	sip_count(sip_stats.retransmits);
	sip_send(&d->ok_to, d->rel_wire, d->rel_len);
	d->rel_interval *= 2;
	sip_timer_at(&d->rel_timer, sip_now_ms() + d->rel_interval);
}

static void on_refresh(struct sip_client *c, int status,
		       const struct sip_message *rsp, void *arg);

/* RFC 4028 10: refresh at half the interval; without a refresh from the
 * peer, end the dialog before the interval runs out. */
static void arm_session(struct sip_dialog *d)
{
	uint64_t ms = (uint64_t)d->se * 1000;
	uint64_t margin = d->se / 3 < 32 ? d->se / 3 : 32;

	if (!d->se || d->ended)
		return;
	sip_timer_at(&d->se_timer, sip_now_ms() +
			 (d->refresher ? ms / 2 : ms - margin * 1000));
}

static void on_se_timer(struct sip_tnode *node)
{
	struct sip_dialog *d = OF(struct sip_dialog, se_timer, node);
	char hdr[96];

	if (!d->refresher) {
		tnd_info("dialog %s: session not refreshed: ended", d->call_id);
		sip_dialog_request(d, "BYE", NULL, NULL, NULL, 0, NULL, NULL);
		end(d, 408, NULL);
		return;
	}
	snprintf(hdr, sizeof(hdr), "Session-Expires: %u;refresher=%s\r\n",
		 d->se, d->uac ? "uac" : "uas");
	d->busy++;
	if (sip_dialog_request(d, "UPDATE", hdr, NULL, NULL, 0, on_refresh, d) < 0)
		d->busy--;
}

static void on_refresh(struct sip_client *c, int status,
		       const struct sip_message *rsp, void *arg)
{
	struct sip_dialog *d = arg;

	(void)c, (void)rsp;
	if (status < 200)
		return;
	d->busy--;
	if (d->ended) {
		maybe_free(d);
		return;
	}
	if (status < 300) {
		d->refreshes++;
		arm_session(d);
	} else if (status == 481 || status == 408) {
		/* RFC 4028 10: the session is gone */
		end(d, status, NULL);
	} else {
		arm_session(d);
	}
}

static struct sip_dialog *dialog_new(const struct sip_dialog_ops *ops,
				     void *arg)
{
	struct sip_dialog *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->ops = ops;
	d->arg = arg;
	d->next = all;
	if (all)
		all->prev = d;
	all = d;
	sip_tnode_init(&d->ok_timer, on_ok_timer);
	sip_tnode_init(&d->rel_timer, on_rel_timer);
	sip_tnode_init(&d->se_timer, on_se_timer);
	return d;
}

/* ---- UAS ---------------------------------------------------------------------- */

/* RFC 3261 9.2: a CANCEL ended the INVITE (answered 487 already). */
static void on_invite_cancelled(struct sip_request *req,
				const struct sip_message *cancel, void *arg)
{
	struct sip_dialog *d = arg;

	(void)req;
	tnd_debug("dialog %s: INVITE cancelled", d->call_id);
	end(d, 487, cancel->m);
}

struct sip_dialog *sip_dialog_accept(struct sip_request *req,
				     const struct sip_dialog_ops *ops,
				     void *arg)
{
	const struct sip_msg *m = req->m;
	const osip_message_t *inv = m->osip;
	struct sip_dialog *d;
	char refresher[8], hdr[64];
	unsigned se;

	if (!req->in_callback || !req->t || m->method != SIP_M_INVITE || !inv)
		return NULL;
	se = session_expires(m, refresher, sizeof(refresher));
	if (se && se < sip_cfg->min_se) {
		/* RFC 4028 6: too small an interval */
		snprintf(hdr, sizeof(hdr), "Min-SE: %llu\r\n", sip_cfg->min_se);
		sip_request_reply(req, 422, NULL, hdr, NULL, NULL, 0);
		return NULL;
	}
	d = dialog_new(ops, arg);
	if (!d)
		return NULL;
	d->invite = sip_request_keep(req);
	if (!d->invite) {
		d->ended = d->released = true;
		dialog_free(d);
		return NULL;
	}
	call_id_of(d->call_id, sizeof(d->call_id), inv);
	copy_tag(d->remote_tag, sizeof(d->remote_tag), inv->from);
	snprintf(d->local_tag, sizeof(d->local_tag), "%s", req->t->to_tag);
	d->local_uri = uri_of(inv->to);
	d->remote_uri = uri_of(inv->from);
	d->remote_target = contact_of(inv);
	d->routes = route_set(inv, false);
	d->remote_cseq = d->invite_cseq =
		(uint32_t)strtoul(inv->cseq->number, NULL, 10);
	d->local_cseq = 1;
	d->peer_100rel = has_option(m, "100rel");
	d->peer_timer = has_option(m, "timer");
	d->ok_to = req->t->peer;
	if (se) {
		d->se = se;
		/* RFC 4028 9: the UAC refreshes when it said so or when it
		 * supports timers and left it to us to choose */
		d->refresher = strcmp(refresher, "uas") == 0 ||
			       (!refresher[0] && !d->peer_timer);
	}
	if (!d->local_uri || !d->remote_uri || !d->remote_target ||
	    !d->routes) {
		sip_request_reply(req, 400, "Missing Contact", NULL, NULL, NULL,
				  0);
		d->ended = d->released = true;
		dialog_free(d);
		return NULL;
	}
	table_add(d);
	sip_request_on_cancel(d->invite, on_invite_cancelled, d);
	return d;
}

/* Contact, Record-Route (RFC 3261 12.1.1) and the extensions in use. */
static void dialog_headers(struct sip_dialog *d, struct sip_buf *b,
			   int status, bool reliable)
{
	const struct sip_msg *m = &d->invite->copy;
	const struct sip_listener *l = m->src.listener;

	for (unsigned k = 0; k < m->scan->count[SIP_H_RECORD_ROUTE]; k++) {
		const struct sip_hdr *h =
			sip_scan_hdr(m->scan, SIP_H_RECORD_ROUTE, k);

		sip_buf_add(b, m->raw + h->line.off, h->line.len);
	}
	if (l)
		sip_buf_printf(b, "Contact: <sip:%s:%d%s>\r\n", l->host,
			       l->port, l->proto == SIP_TCP ? ";transport=tcp" :
			       l->proto == SIP_TLS ? ";transport=tls" : "");
	if (reliable)
		sip_buf_printf(b, "Require: 100rel\r\nRSeq: %u\r\n", d->rseq);
	if (status >= 200 && status < 300 && d->se) {
		sip_buf_printf(b, "Session-Expires: %u;refresher=%s\r\n", d->se,
			       d->refresher ? "uas" : "uac");
		if (d->peer_timer)
			sip_buf_str(b, "Require: timer\r\n");
	}
}

int sip_dialog_reply(struct sip_dialog *d, int status, const char *reason,
		     const char *headers, const char *body_type,
		     const void *body, size_t body_len, unsigned flags)
{
	struct sip_txn *t = d->invite ? d->invite->t : NULL;
	bool reliable = (flags & SIP_REPLY_RELIABLE) && status > 100 &&
			status < 200 && d->peer_100rel;
	struct sip_buf extra = { 0 }, wire = { 0 };
	osip_message_t *r;
	int rc;

	if (d->uac || d->ended || !t || t->last_status >= 200)
		return -EALREADY;
	if (reliable) {
		if (d->rel_pending) /* RFC 3262 3: one at a time */
			return -EAGAIN;
		d->rseq++;
	}
	if (status > 100)
		dialog_headers(d, &extra, status, reliable);
	if (headers)
		sip_buf_str(&extra, headers);
	rc = extra.failed ? -ENOMEM :
	     sip_rsp_build(&wire, &t->rsp, status, reason, t->to_tag,
			   extra.data, body_type, body, body_len);
	r = rc == 0 ? sip_txn_machine_response(t, status,
					       reason ? reason :
							sip_reason(status)) :
		      NULL;
	if (rc == 0 && !r)
		rc = -ENOMEM;
	if (rc == 0) {
		/* the bytes to resend outlive the transaction's */
		char **keep = status >= 200 ? &d->ok_wire : &d->rel_wire;
		size_t *len = status >= 200 ? &d->ok_len : &d->rel_len;

		if ((status >= 200 && status < 300) || reliable) {
			free(*keep);
			*keep = malloc(wire.len);
			if (*keep)
				memcpy(*keep, wire.data, wire.len);
			*len = *keep ? wire.len : 0;
		}
		rc = sip_txn_respond_msg(t, r, wire.data, wire.len);
	}
	sip_buf_free(&extra);
	sip_buf_free(&wire);
	if (rc < 0)
		return rc;
	if (status < 200) {
		if (status > 100)
			notify(d, SIP_DIALOG_EARLY, status, NULL);
		if (reliable && d->rel_wire) {
			d->rel_pending = true;
			d->rel_interval = (unsigned)sip_cfg->t1_ms;
			d->rel_giveup = sip_now_ms() + 64 * sip_cfg->t1_ms;
			if (!sip_proto_reliable(d->ok_to.proto))
				sip_timer_at(&d->rel_timer, sip_now_ms() +
							   d->rel_interval);
		}
	} else if (status < 300) {
		sip_timer_cancel(&d->rel_timer);
		d->rel_pending = false;
		if (d->ok_wire) {
			/* over streams too: the ACK is end to end */
			d->ok_interval = (unsigned)sip_cfg->t1_ms;
			d->ok_giveup = sip_now_ms() + 64 * sip_cfg->t1_ms;
			sip_timer_at(&d->ok_timer, sip_now_ms() + d->ok_interval);
		}
	} else {
		end(d, status, NULL);
	}
	return 0;
}

void sip_dialog_reinvite_gone(struct sip_request *req)
{
	struct sip_dialog *d = req->reinvite_of;

	if (d && d->reinvite == req)
		d->reinvite = NULL;
	req->reinvite_of = NULL;
}

/* Keep the 2xx's bytes and resend them (T1, doubling to T2) until the ACK
 * or 64*T1, over streams too: the ACK is end to end (RFC 3261 13.3.1.4). */
static void resend_ok_until_ack(struct sip_dialog *d, const char *wire,
				size_t len, const struct sip_peer *to)
{
	free(d->ok_wire);
	d->ok_wire = malloc(len);
	d->ok_len = d->ok_wire ? len : 0;
	if (!d->ok_wire)
		return;
	memcpy(d->ok_wire, wire, len);
	d->ok_to = *to;
	d->ok_interval = (unsigned)sip_cfg->t1_ms;
	d->ok_giveup = sip_now_ms() + 64 * sip_cfg->t1_ms;
	sip_timer_at(&d->ok_timer, sip_now_ms() + d->ok_interval);
}

int sip_dialog_reinvite_ok(struct sip_request *req, int status,
			   const char *reason, const char *headers,
			   const char *body_type, const void *body,
			   size_t body_len)
{
	struct sip_dialog *d = req->reinvite_of;
	struct sip_txn *t = req->t;
	const struct sip_listener *l = req->view.m->src.listener;
	struct sip_buf extra = { 0 }, wire = { 0 };
	osip_message_t *r;
	int rc;

	if (!reason)
		reason = sip_reason(status);
	/* RFC 3261 12.2.2: a target refresh's 2xx carries our Contact */
	if (l && !(headers && strcasestr(headers, "Contact:")))
		sip_buf_printf(&extra, "Contact: <sip:%s:%d%s>\r\n", l->host,
			       l->port, l->proto == SIP_TCP ? ";transport=tcp" :
			       l->proto == SIP_TLS ? ";transport=tls" : "");
	if (headers)
		sip_buf_str(&extra, headers);
	rc = extra.failed ? -ENOMEM :
	     sip_rsp_build(&wire, &t->rsp, status, reason, t->to_tag,
			   extra.data, body_type, body, body_len);
	r = rc == 0 ? sip_txn_machine_response(t, status, reason) : NULL;
	if (rc == 0 && !r)
		rc = -ENOMEM;
	if (rc == 0) {
		struct sip_peer to = t->peer;

		rc = sip_txn_respond_msg(t, r, wire.data, wire.len);
		if (rc == 0 && !d->ended)
			resend_ok_until_ack(d, wire.data, wire.len, &to);
	}
	sip_buf_free(&extra);
	sip_buf_free(&wire);
	return rc;
}

bool sip_dialog_ack(struct sip_msg *m)
{
	char from_tag[64], to_tag[64], call_id[128];
	struct sip_dialog *d;

	copy_tag(to_tag, sizeof(to_tag), m->osip->to);
	copy_tag(from_tag, sizeof(from_tag), m->osip->from);
	call_id_of(call_id, sizeof(call_id), m->osip);
	d = find(call_id, to_tag, from_tag);
	if (!d || d->uac)
		return false;
	/* RFC 3261 13.3.1.4: the ACK ends the 2xx retransmissions */
	sip_timer_cancel(&d->ok_timer);
	if (d->state != SIP_DIALOG_CONFIRMED) {
		notify(d, SIP_DIALOG_CONFIRMED, 200, m);
		if (d->invite) {
			sip_request_release(d->invite);
			d->invite = NULL;
		}
		arm_session(d);
	}
	return true;
}

/* ---- Requests in a dialog ------------------------------------------------------- */

static void reply_with_session(struct sip_dialog *d, struct sip_txn *t)
{
	char hdr[96];

	snprintf(hdr, sizeof(hdr), "Session-Expires: %u;refresher=%s\r\n",
		 d->se, d->refresher == d->uac ? "uac" : "uas");
	sip_txn_respond(t, 200, NULL, d->se ? hdr : NULL, NULL, NULL, 0);
}

/* RFC 3262 7.2: a PRACK matches the RSeq and the INVITE's CSeq. */
static void prack(struct sip_dialog *d, struct sip_msg *m, struct sip_txn *t)
{
	const struct sip_hdr *h = sip_scan_find(m->scan, "RAck");
	unsigned long rseq = 0, cseq = 0;
	char *end_ptr;

	if (h) {
		char v[96];

		snprintf(v, sizeof(v), "%.*s", (int)h->value.len,
			 m->raw + h->value.off);
		rseq = strtoul(v, &end_ptr, 10);
		cseq = strtoul(end_ptr, NULL, 10);
	}
	if (!d->rel_pending || rseq != d->rseq || cseq != d->invite_cseq) {
		sip_txn_respond(t, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	d->rel_pending = false;
	sip_timer_cancel(&d->rel_timer);
	sip_txn_respond(t, 200, NULL, NULL, NULL, NULL, 0);
}

static void to_user(struct sip_dialog *d, struct sip_msg *m, struct sip_txn *t)
{
	enum sip_verdict v = SIP_DECLINED;
	struct sip_request *req;
	bool ended;

	if (!d->released && d->ops && d->ops->request) {
		req = sip_request_new(m, t);
		if (!req) {
			sip_txn_respond(t, 500, NULL, NULL, NULL, NULL, 0);
			return;
		}
		if (m->method == SIP_M_INVITE) {
			if (d->reinvite)
				d->reinvite->reinvite_of = NULL;
			d->reinvite = req;
			req->reinvite_of = d;
		}
		v = d->ops->request(d, req, d->arg);
		ended = sip_request_done(req);
		if (v == SIP_TAKEN || ended)
			return;
		sip_txn_detach(t);
	}
	/* nobody wanted it: refreshes are answered, the rest refused */
	if (m->method == SIP_M_UPDATE && !m->scan->body_len)
		reply_with_session(d, t);
	else
		sip_txn_respond(t, m->method == SIP_M_INVITE ? 488 : 501, NULL,
				NULL, NULL, NULL, 0);
}

bool sip_dialog_input(struct sip_msg *m)
{
	char from_tag[64], to_tag[64], call_id[128];
	struct sip_dialog *d;
	struct sip_txn *t;
	uint32_t cseq;

	if (!all) /* no dialogs (a proxy): nothing to look up */
		return false;
	copy_tag(to_tag, sizeof(to_tag), m->osip->to);
	if (!to_tag[0])
		return false;
	copy_tag(from_tag, sizeof(from_tag), m->osip->from);
	call_id_of(call_id, sizeof(call_id), m->osip);
	d = find(call_id, to_tag, from_tag);
	if (!d || d->ended)
		return false;
	cseq = (uint32_t)strtoul(m->osip->cseq->number, NULL, 10);
	t = sip_txn_server_new(m, NULL, NULL);
	if (!t)
		return true;
	/* RFC 3261 12.2.2: CSeq numbers only go up (PRACK and UPDATE share
	 * the INVITE's space in the early dialog) */
	if (d->remote_cseq && cseq <= d->remote_cseq &&
	    m->method != SIP_M_PRACK) {
		sip_txn_respond(t, 500, "CSeq Out of Order", NULL, NULL, NULL, 0);
		return true;
	}
	if (cseq > d->remote_cseq)
		d->remote_cseq = cseq;
	switch (m->method) {
	case SIP_M_BYE:
		sip_txn_respond(t, 200, NULL, NULL, NULL, NULL, 0);
		end(d, 200, m);
		break;
	case SIP_M_PRACK:
		prack(d, m, t);
		break;
	case SIP_M_UPDATE:
	case SIP_M_INVITE:
		/* RFC 3261 12.2.2: a target refresh request's Contact is
		 * the new remote target */
		set_target(d, m->osip);
		/* RFC 4028: a refresh from the peer restarts the timer */
		if (d->se && !d->refresher) {
			d->refreshes++;
			arm_session(d);
		}
		to_user(d, m, t);
		break;
	default:
		to_user(d, m, t);
		break;
	}
	return true;
}

/* ---- UAC ---------------------------------------------------------------------- */

/* The dialog's identity from its first tagged response (RFC 3261 12.1.2). */
static void learn(struct sip_dialog *d, const osip_message_t *rsp)
{
	char *target = contact_of(rsp);

	if (!d->remote_tag[0]) {
		copy_tag(d->remote_tag, sizeof(d->remote_tag), rsp->to);
		if (d->remote_tag[0])
			table_add(d);
	}
	/* target and route set: from the 2xx, or the first 1xx for PRACK */
	if (target) {
		free(d->remote_target);
		d->remote_target = target;
	}
	if (!d->routes || osip_list_size(&rsp->record_routes)) {
		free(d->routes);
		d->routes = route_set(rsp, true);
	}
}

/* The ACK of a 2xx (RFC 3261 13.2.2.4): a transaction of its own, so
 * built and sent here, and kept for retransmitted 2xx. */
static void send_ack(struct sip_dialog *d, uint32_t cseq)
{
	struct sip_buf b = { 0 };
	osip_message_t *probe = NULL;
	struct sip_listener *l;
	struct sip_peer to;
	osip_route_t *route;
	char branch[24];
	int rc;

	/* the next hop: the first Route (loose routing) or the target */
	sip_buf_printf(&b, "ACK %s SIP/2.0\r\n%sFrom: %s;tag=%s\r\n"
		       "To: %s;tag=%s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\n"
		       "Content-Length: 0\r\n\r\n", d->remote_target,
		       d->routes, d->local_uri, d->local_tag, d->remote_uri,
		       d->remote_tag, d->call_id);
	if (b.failed || osip_message_init(&probe) != 0 ||
	    osip_message_parse(probe, b.data, b.len) != 0) {
		if (probe)
			osip_message_free(probe);
		sip_buf_free(&b);
		return;
	}
	route = osip_list_get(&probe->routes, 0);
	rc = d->next_hop ? sip_peer_parse(d->next_hop, &to) :
			   sip_resolve_uri(route ? route->url : probe->req_uri,
					   &to, NULL, NULL, NULL);
	osip_message_free(probe);
	l = rc == 0 ? sip_listener_out(to.proto, &to.addr) : NULL;
	b.len = 0;
	if (!l) {
		sip_buf_free(&b);
		return;
	}
	sip_random_token(branch, sizeof(branch));
	sip_buf_printf(&b, "ACK %s SIP/2.0\r\nVia: SIP/2.0/%s %s:%d;"
		       "branch=z9hG4bK%s\r\nMax-Forwards: 70\r\n%s"
		       "From: %s;tag=%s\r\nTo: %s;tag=%s\r\nCall-ID: %s\r\n"
		       "CSeq: %u ACK\r\nContent-Length: 0\r\n\r\n",
		       d->remote_target, sip_proto_name(to.proto), l->host,
		       l->port, branch, d->routes, d->local_uri, d->local_tag,
		       d->remote_uri, d->remote_tag, d->call_id, cseq);
	if (!b.failed) {
		free(d->ack_wire);
		d->ack_wire = b.data;
		d->ack_len = b.len;
		d->ack_to = to;
		b.data = NULL;
		if (sip_send(&d->ack_to, d->ack_wire, d->ack_len) == 0)
			sip_count(sip_stats.tx_req[SIP_M_ACK]);
	}
	sip_buf_free(&b);
}

static void send_prack(struct sip_dialog *d, const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_scan_find(m->scan, "RSeq");
	char hdr[96];

	if (!h)
		return;
	snprintf(hdr, sizeof(hdr), "RAck: %.*s %u INVITE\r\n",
		 (int)h->value.len, m->raw + h->value.off, d->invite_cseq);
	sip_dialog_request(d, "PRACK", hdr, NULL, NULL, 0, NULL, NULL);
}

static void on_invite_response(struct sip_client *c, int status,
			       const struct sip_message *rsp, void *arg)
{
	struct sip_dialog *d = arg;
	const struct sip_msg *m = rsp ? rsp->m : NULL;
	char refresher[8];

	(void)c;
	if (status >= 200)
		d->inv = NULL; /* the client is freed after this call */
	if (d->ended) {
		if (status >= 200) {
			d->busy--;
			maybe_free(d);
		}
		return;
	}
	if (status < 200) {
		if (!m || status == 100)
			return;
		learn(d, m->osip);
		if (!d->remote_tag[0])
			return;
		notify_provisional(d, status, m);
		/* RFC 3262 4: a reliable provisional response is PRACKed */
		if (has_option(m, "100rel") && sip_scan_find(m->scan, "RSeq"))
			send_prack(d, m);
		return;
	}
	d->busy--;
	if (status >= 300 || !m) {
		end(d, status, m);
		return;
	}
	learn(d, m->osip);
	send_ack(d, d->invite_cseq);
	d->se = session_expires(m, refresher, sizeof(refresher));
	d->refresher = d->se && strcmp(refresher, "uas") != 0;
	notify(d, SIP_DIALOG_CONFIRMED, status, m);
	arm_session(d);
}

int sip_dialog_invite(const struct sip_request_spec *spec,
		      const struct sip_dialog_ops *ops, void *arg,
		      struct sip_dialog **out)
{
	struct sip_request_spec s;
	struct sip_buf from = { 0 }, hdrs = { 0 };
	struct sip_dialog *d;
	char call_id[40];
	int rc;

	if (!spec || spec->size < sizeof(*spec) || !spec->from || !spec->to ||
	    !spec->request_uri)
		return -EINVAL;
	d = dialog_new(ops, arg);
	if (!d)
		return -ENOMEM;
	d->uac = true;
	sip_random_token(d->local_tag, 17);
	sip_random_token(call_id, 33);
	snprintf(d->call_id, sizeof(d->call_id), "%s",
		 spec->call_id ? spec->call_id : call_id);
	d->local_uri = strdup(spec->from);
	d->remote_uri = strdup(spec->to);
	d->remote_target = strdup(spec->request_uri);
	d->local_cseq = d->invite_cseq = spec->cseq ? spec->cseq : 1;
	sip_buf_printf(&from, "%s;tag=%s", spec->from, d->local_tag);
	sip_buf_str(&hdrs, "Supported: 100rel, timer\r\n");
	if (sip_cfg->session_expires &&
	    !(spec->headers && strcasestr(spec->headers, "Session-Expires")))
		sip_buf_printf(&hdrs, "Session-Expires: %llu\r\n",
			       sip_cfg->session_expires);
	if (spec->headers)
		sip_buf_str(&hdrs, spec->headers);
	s = *spec;
	s.method = "INVITE";
	s.from = from.data;
	s.call_id = d->call_id;
	s.cseq = d->invite_cseq;
	s.headers = hdrs.data;
	rc = from.failed || hdrs.failed || !d->local_uri || !d->remote_uri ||
			     !d->remote_target ?
		     -ENOMEM :
		     sip_send_request(&s, on_invite_response, d, &d->inv, true);
	sip_buf_free(&from);
	sip_buf_free(&hdrs);
	if (rc < 0) {
		d->inv = NULL;
		d->ended = d->released = true;
		dialog_free(d);
		return rc;
	}
	d->busy++;
	if (out)
		*out = d;
	return 0;
}

bool sip_dialog_stray(struct sip_msg *m)
{
	char from_tag[64], to_tag[64], call_id[128];
	struct sip_dialog *d;

	if (!all || m->scan->status < 200 || m->scan->status >= 300)
		return false;
	copy_tag(to_tag, sizeof(to_tag), m->osip->to);
	copy_tag(from_tag, sizeof(from_tag), m->osip->from);
	call_id_of(call_id, sizeof(call_id), m->osip);
	d = find(call_id, from_tag, to_tag);
	if (!d || !d->uac || !d->ack_wire)
		return false;
	/* RFC 3261 13.2.2.4: each retransmitted 2xx gets the ACK again */
	sip_count(sip_stats.retransmits);
	sip_send(&d->ack_to, d->ack_wire, d->ack_len);
	return true;
}

/* ---- Requests we send in a dialog ------------------------------------------------- */

struct in_dialog {
	struct sip_dialog *d;
	sip_response_cb cb;
	void *arg;
	uint32_t cseq;
	bool invite, refresh;
};

static void on_in_dialog(struct sip_client *c, int status,
			 const struct sip_message *rsp, void *arg)
{
	struct in_dialog *x = arg;
	struct sip_dialog *d = x->d;

	/* RFC 3261 12.2.1.2: the Contact of a 2xx to a target refresh is
	 * the new remote target; a 2xx to a re-INVITE is ACKed */
	if (x->refresh && status >= 200 && status < 300 && rsp && !d->ended)
		set_target(d, rsp->m->osip);
	if (x->invite && status >= 200 && status < 300 && !d->ended)
		send_ack(d, x->cseq);
	if (x->cb)
		x->cb(c, status, rsp, x->arg);
	if (status >= 200) {
		/* RFC 3261 12.2.1.2: the peer lost the dialog */
		if ((status == 481 || status == 408) && !d->ended &&
		    !x->invite)
			end(d, status, rsp ? rsp->m : NULL);
		d->busy--;
		free(x);
		maybe_free(d);
	}
}

int sip_dialog_request(struct sip_dialog *d, const char *method,
		       const char *headers, const char *body_type,
		       const void *body, size_t body_len, sip_response_cb cb,
		       void *arg)
{
	struct sip_request_spec s = { .size = sizeof(s) };
	struct sip_buf from = { 0 }, to = { 0 }, hdrs = { 0 };
	struct in_dialog *x;
	int rc;

	if (!d->remote_tag[0] || !d->remote_target || !method ||
	    !strcmp(method, "ACK") || !strcmp(method, "CANCEL"))
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->d = d;
	x->cb = cb;
	x->arg = arg;
	x->invite = strcmp(method, "INVITE") == 0;
	x->refresh = x->invite || strcmp(method, "UPDATE") == 0;
	/* RFC 3262 7.1: PRACK takes the next number too */
	x->cseq = ++d->local_cseq;
	sip_buf_printf(&from, "%s;tag=%s", d->local_uri, d->local_tag);
	sip_buf_printf(&to, "%s;tag=%s", d->remote_uri, d->remote_tag);
	sip_buf_str(&hdrs, d->routes ? d->routes : "");
	if (headers)
		sip_buf_str(&hdrs, headers);
	s.method = method;
	s.request_uri = d->remote_target;
	s.next_hop = d->next_hop;
	s.from = from.data;
	s.to = to.data;
	s.call_id = d->call_id;
	s.cseq = x->cseq;
	s.headers = hdrs.data;
	s.body_type = body_type;
	s.body = body;
	s.body_len = body_len;
	rc = from.failed || to.failed || hdrs.failed ?
		     -ENOMEM :
		     sip_send_request(&s, on_in_dialog, x, NULL, true);
	sip_buf_free(&from);
	sip_buf_free(&to);
	sip_buf_free(&hdrs);
	if (rc < 0) {
		free(x);
		return rc;
	}
	d->busy++;
	return 0;
}

/* Where the dialog's requests go from now on, whatever the remote target
 * and route set say (they still fill the Request-URI and Route lines):
 * the address a UA behind a NAT really sends from (RFC 3581 spirit,
 * RFC 5626 5.3: back over the flow it used). */
int sip_dialog_set_next_hop(struct sip_dialog *d, const char *next_hop)
{
	struct sip_peer probe;
	char *copy = NULL;

	if (!d || d->ended)
		return -EINVAL;
	if (next_hop) {
		if (sip_peer_parse(next_hop, &probe) < 0)
			return -EINVAL;
		copy = strdup(next_hop);
		if (!copy)
			return -ENOMEM;
	}
	free(d->next_hop);
	d->next_hop = copy;
	return 0;
}

/* ---- Ending and the rest --------------------------------------------------------- */

int sip_dialog_end(struct sip_dialog *d)
{
	if (d->ended)
		return 0;
	if (d->state == SIP_DIALOG_CONFIRMED ||
	    (!d->uac && d->ok_wire)) {
		sip_dialog_request(d, "BYE", NULL, NULL, NULL, 0, NULL, NULL);
		end(d, 200, NULL);
		return 0;
	}
	if (d->uac) {
		/* RFC 3261 9.1: CANCEL; the 487 ends the dialog */
		return d->inv ? sip_client_cancel(d->inv) : 0;
	}
	sip_dialog_reply(d, 480, NULL, NULL, NULL, NULL, 0, 0);
	end(d, 0, NULL);
	return 0;
}

void sip_dialog_release(struct sip_dialog *d)
{
	if (!d)
		return;
	if (!d->ended)
		sip_dialog_end(d);
	d->released = true;
	d->ops = NULL;
	if (!d->ended && !d->uac)
		end(d, 0, NULL);
	maybe_free(d);
}

int sip_dialog_info(const struct sip_dialog *d, struct sip_dialog_info *info)
{
	memset(info, 0, sizeof(*info));
	info->state = d->state;
	info->uac = d->uac;
	snprintf(info->call_id, sizeof(info->call_id), "%s", d->call_id);
	snprintf(info->local_tag, sizeof(info->local_tag), "%s", d->local_tag);
	snprintf(info->remote_tag, sizeof(info->remote_tag), "%s",
		 d->remote_tag);
	info->session_expires = d->se;
	info->refresher = d->refresher;
	info->refreshes = d->refreshes;
	return 0;
}

/* RFC 3891 3: Replaces: call-id;to-tag=X;from-tag=Y names the dialog
 * whose local tag is X and remote tag Y, as the recipient sees it. */
struct sip_dialog *sip_dialog_replaced(const struct sip_message *invite)
{
	const struct sip_msg *m = invite->m;
	const struct sip_hdr *h = sip_scan_find(m->scan, "Replaces");
	char v[400], *semi, *to, *from, to_tag[64], from_tag[64];

	if (!h || h->value.len >= sizeof(v))
		return NULL;
	memcpy(v, m->raw + h->value.off, h->value.len);
	v[h->value.len] = '\0';
	semi = strchr(v, ';');
	to = strcasestr(v, "to-tag=");
	from = strcasestr(v, "from-tag=");
	if (!semi || !to || !from)
		return NULL;
	*semi = '\0';
	snprintf(to_tag, sizeof(to_tag), "%.*s", (int)strcspn(to + 7, "; \t"),
		 to + 7);
	snprintf(from_tag, sizeof(from_tag), "%.*s",
		 (int)strcspn(from + 9, "; \t"), from + 9);
	return find(v, to_tag, from_tag);
}

void sip_dialog_fini(void)
{
	while (all) {
		all->ops = NULL;
		dialog_free(all);
	}
}
