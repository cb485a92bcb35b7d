/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scscf_regevent.c - the reg event package notifier (RFC 3680, TS 24.229
 * 5.4.2.1): P-CSCFs and UEs subscribe to a registered identity; every
 * change of the registration is notified as a full reginfo document
 * listing each identity of the implicit set and its bindings. A
 * registration the network ends (RTR, expiry, administrative) is
 * notified with every binding "terminated" (event deactivated, rejected,
 * expired) and the subscriptions end with it (TS 24.229 5.4.1.5).
 *
 * A subscription lives with its registration; refreshes (a SUBSCRIBE
 * with the same Call-ID) renew it, Expires 0 ends it. Subscriptions are
 * stored with the registrations (scscf_store.c), CSeq and reginfo
 * version included, so a restarted S-CSCF notifies the same subscribers
 * in the same dialogs, with CSeq and version still increasing. A
 * subscription not refreshed in time ends with a last NOTIFY
 * (terminated;reason=timeout, RFC 6665 4.2.2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scscf_int.h"

struct scscf_sub {
	char *call_id;
	char *subscriber; /* From of the SUBSCRIBE, with its tag */
	char *target;	  /* its Contact */
	char *route;	  /* its Record-Route, as our route set, or NULL */
	char tag[20];	  /* ours */
	uint32_t cseq;
	int64_t expires_at;
	struct tnd_timer *timer; /* its expiry */
	struct scscf_reg *reg;	 /* the registration it watches */
	struct scscf_sub *next;
};

static void sub_save(const struct scscf_reg *reg, const struct scscf_sub *s)
{
	struct scscf_sub_row row = {
		.impu = reg->impu,
		.call_id = s->call_id,
		.subscriber = s->subscriber,
		.target = s->target,
		.route = s->route,
		.tag = s->tag,
		.cseq = s->cseq,
		.version = reg->version,
		.expires_at = s->expires_at,
	};

	if (scscf_store_save_sub(&row))
		tnd_error("%s: reg event subscription %s not stored", reg->impu,
			  s->call_id);
}

static void sub_free(struct scscf_sub *s)
{
	if (s->timer)
		scscf_host->timer_free(s->timer);
	free(s->call_id);
	free(s->subscriber);
	free(s->target);
	free(s->route);
	free(s);
}

void scscf_regevent_drop(struct scscf_reg *reg)
{
	while (reg->subs) {
		struct scscf_sub *s = reg->subs;

		reg->subs = s->next;
		sub_free(s);
	}
}

/* ---- The reginfo document (RFC 3680 5)
 * --------------------------------------- */

static bool ending_event(const char *event)
{
	return strcmp(event, "deactivated") == 0 ||
	       strcmp(event, "rejected") == 0 ||
	       strcmp(event, "expired") == 0 ||
	       strcmp(event, "unregistered") == 0 ||
	       strcmp(event, "probation") == 0;
}

static void contacts_xml(const struct scscf_reg *reg, const char *event,
			 bool ended, struct ims_buf *b)
{
	int64_t now = ims_now_s();
	int n = 0;

	for (const struct scscf_contact *c = reg->contacts; c; c = c->next) {
		ims_buf_printf(b,
			       "<contact id=\"c%d\" state=\"%s\" "
			       "event=\"%s\" expires=\"%lld\"><uri>",
			       ++n, ended ? "terminated" : "active", event,
			       ended || c->expires_at <= now
				       ? 0LL
				       : (long long)(c->expires_at - now));
		ims_buf_str(b, c->uri); /* a URI holds no XML specials */
		ims_buf_str(b, "</uri></contact>");
	}
}

static void reginfo(const struct scscf_reg *reg, const char *event,
		    struct ims_buf *b)
{
	bool ended = ending_event(event) || reg->state != REG_REGISTERED;
	const struct scscf_profile *p = reg->profile;
	size_t n = p && p->nimpus ? p->nimpus : 1;

	ims_buf_printf(b,
		       "<?xml version=\"1.0\"?>\r\n<reginfo xmlns=\"urn:"
		       "ietf:params:xml:ns:reginfo\" version=\"%u\" "
		       "state=\"full\">",
		       reg->version);
	/* TS 24.229 5.4.2.1.2: every identity of the implicit set */
	for (size_t i = 0; i < n; i++) {
		const char *aor = p && p->nimpus ? p->impus[i] : reg->impu;

		if (p && p->nimpus && p->barred[i])
			continue;
		ims_buf_printf(b,
			       "<registration aor=\"%s\" id=\"r%zu\" "
			       "state=\"%s\">",
			       aor, i + 1, ended ? "terminated" : "active");
		contacts_xml(reg, event, ended, b);
		ims_buf_str(b, "</registration>");
	}
	ims_buf_str(b, "</reginfo>\r\n");
}

/* ---- NOTIFY
 * ---------------------------------------------------------------------- */

static void on_notify_answer(struct sip_client *c, int status,
			     const struct sip_message *rsp, void *arg)
{
	(void)c, (void)rsp, (void)arg;
	if (status >= 300)
		tnd_info("reg event NOTIFY answered %d", status);
}

static int send_notify(struct scscf_reg *reg, struct scscf_sub *s,
		       const char *event, bool last, const char *reason)
{
	struct sip_request_spec spec = { .size = sizeof(spec) };
	struct ims_buf h = { 0 }, body = { 0 };
	char from[IMS_URI_MAX + 32];
	int64_t left = s->expires_at - ims_now_s();
	int rc;

	reginfo(reg, event, &body);
	if (IMS_SIP_HAS(on_cancel)) {
		/* sip 1.1: our tag, and no other */
		ims_fmt(from, sizeof(from), "<%s>", reg->impu);
		spec.local_tag = s->tag;
	} else {
		/* our tag first (the service adds one more; parsers take
		 * the first); RFC 6665 4.1.2.4 lets a subscriber take a
		 * NOTIFY whose tag differs from the 2xx */
		ims_fmt(from, sizeof(from), "<%s>;tag=%s", reg->impu, s->tag);
	}
	ims_buf_str(&h, "Event: reg\r\n");
	if (last || left <= 0)
		ims_buf_printf(&h,
			       "Subscription-State: terminated;reason=%s\r\n",
			       reason ? reason : "noresource");
	else
		ims_buf_printf(&h,
			       "Subscription-State: active;expires=%lld\r\n",
			       (long long)left);
	ims_buf_printf(&h, "Contact: <%s>\r\n", scscf_cfg->name);
	if (s->route)
		ims_buf_printf(&h, "Route: %s\r\n", s->route);
	spec.method = "NOTIFY";
	spec.request_uri = s->target;
	spec.from = from;
	spec.to = s->subscriber;
	spec.call_id = s->call_id;
	spec.cseq = ++s->cseq;
	spec.headers = ims_buf_cstr(&h);
	spec.body_type = "application/reginfo+xml";
	spec.body = body.data;
	spec.body_len = body.len;
	rc = h.failed || body.failed
		     ? -ENOMEM
		     : sip->send_request(&spec, on_notify_answer, NULL, NULL);
	if (rc == 0)
		scscf_host->counter_add(scscf_cnt.notify, 1);
	else
		tnd_info("reg event NOTIFY for %s not sent (%d)", reg->impu,
			 rc);
	ims_buf_free(&h);
	ims_buf_free(&body);
	return rc;
}

void scscf_regevent_notify(struct scscf_reg *reg, const char *event)
{
	bool last = ending_event(event) && reg->state != REG_REGISTERED;

	if (!reg->subs)
		return;
	reg->version++;
	for (struct scscf_sub *s = reg->subs; s; s = s->next) {
		send_notify(reg, s, event, last, NULL);
		if (last)
			scscf_store_delete_sub(reg->impu, s->call_id);
		else
			sub_save(reg, s);
	}
	if (last)
		scscf_regevent_drop(reg);
}

/* ---- SUBSCRIBE
 * --------------------------------------------------------------------- */

static struct scscf_sub *find_sub(struct scscf_reg *reg, const char *call_id)
{
	for (struct scscf_sub *s = reg->subs; s; s = s->next)
		if (strcmp(s->call_id, call_id) == 0)
			return s;
	return NULL;
}

static void unlink_sub(struct scscf_reg *reg, struct scscf_sub *sub)
{
	for (struct scscf_sub **pp = &reg->subs; *pp; pp = &(*pp)->next)
		if (*pp == sub) {
			*pp = sub->next;
			return;
		}
}

/* RFC 6665 4.2.2: not refreshed in time: a last NOTIFY, and it ends. */
static void on_sub_expiry(struct tnd_timer *t, void *arg)
{
	struct scscf_sub *s = arg;
	struct scscf_reg *reg = s->reg;

	(void)t;
	tnd_info("%s: reg event subscription %s expired", reg->impu,
		 s->call_id);
	reg->version++;
	send_notify(reg, s, "registered", true, "timeout");
	scscf_store_delete_sub(reg->impu, s->call_id);
	unlink_sub(reg, s);
	sub_free(s);
}

/* (Re)arm the subscription's expiry; a second of grace for a refresh
 * in flight. 0 or -ENOMEM. */
static int arm_sub(struct scscf_reg *reg, struct scscf_sub *s)
{
	int64_t left = s->expires_at - ims_now_s();

	s->reg = reg;
	if (!s->timer)
		s->timer = scscf_host->timer_new(SCSCF_SELF, on_sub_expiry, s);
	if (!s->timer)
		return -ENOMEM;
	return scscf_host->timer_start(
		s->timer, (uint64_t)(left > 0 ? left : 0) * 1000 + 1000, 0);
}

static struct scscf_sub *new_sub(struct scscf_reg *reg,
				 const struct ims_msg *msg)
{
	struct scscf_sub *s = calloc(1, sizeof(*s));
	const char *from = ims_msg_get(msg, "From", 0);
	const char *cid = ims_msg_get(msg, "Call-ID", 0);
	const char *contact = ims_msg_get(msg, "Contact", 0);
	char uri[IMS_URI_MAX];

	if (!s || !from || !cid || !contact ||
	    ims_uri_of(contact, uri, sizeof(uri))) {
		free(s);
		return NULL;
	}
	s->call_id = strdup(cid);
	s->subscriber = strdup(from);
	s->target = strdup(uri);
	if (ims_msg_get(msg, "Record-Route", 0))
		s->route = strdup(ims_msg_get(msg, "Record-Route", 0));
	ims_token(s->tag, sizeof(s->tag));
	if (!s->call_id || !s->subscriber || !s->target) {
		sub_free(s);
		return NULL;
	}
	s->next = reg->subs;
	reg->subs = s;
	return s;
}

int scscf_regevent_subscribe(struct sip_request *req,
			     const struct sip_message *m)
{
	struct ims_msg msg;
	struct scscf_reg *reg;
	struct scscf_sub *sub;
	const char *exp;
	char aor[IMS_URI_MAX], hdr[256];
	long long expires;
	int rc = ims_msg_take(sip, m, &msg);

	if (rc)
		return rc;
	exp = ims_msg_get(&msg, "Expires", 0);
	expires = exp ? atoll(exp) : (long long)scscf_cfg->reg_event_expires;
	if (expires > (long long)scscf_cfg->reg_event_expires)
		expires = (long long)scscf_cfg->reg_event_expires;
	if (ims_aor(msg.ruri, aor, sizeof(aor)) ||
	    !(reg = scscf_reg_find(aor)) || reg->state != REG_REGISTERED) {
		/* RFC 3680 4: we know of no such registration here */
		sip->reply(req, 404, NULL, NULL, NULL, NULL, 0);
		ims_msg_free(&msg);
		return 0;
	}
	sub = find_sub(reg, ims_msg_get(&msg, "Call-ID", 0)
				    ? ims_msg_get(&msg, "Call-ID", 0)
				    : "");
	if (!sub && !(sub = new_sub(reg, &msg))) {
		sip->reply(req, 400, "Bad subscription", NULL, NULL, NULL, 0);
		ims_msg_free(&msg);
		return 0;
	}
	sub->expires_at = ims_now_s() + expires;
	ims_fmt(hdr, sizeof(hdr), "Expires: %lld\r\nContact: <%s>\r\n", expires,
		scscf_cfg->name);
	/* RFC 6665 4.2.1.1: 200 for a subscription accepted at once */
	sip->reply(req, 200, NULL, hdr, NULL, NULL, 0);
	tnd_info("%s: reg event subscription from %s (%lld s)", reg->impu,
		 msg.source, expires);
	/* RFC 6665 4.2.1.2: a NOTIFY with the state at once, also the last
	 * one when this was an unsubscription */
	reg->version++;
	send_notify(reg, sub, "registered", expires == 0, NULL);
	if (expires == 0) {
		scscf_store_delete_sub(reg->impu, sub->call_id);
		unlink_sub(reg, sub);
		sub_free(sub);
	} else {
		sub_save(reg, sub);
		if (arm_sub(reg, sub))
			tnd_error("%s: no expiry timer for reg event "
				  "subscription %s",
				  reg->impu, sub->call_id);
	}
	ims_msg_free(&msg);
	return 0;
}

/* ---- Restart
 * ----------------------------------------------------------------------- */

static int restore_one(const struct scscf_sub_row *row, void *arg)
{
	struct scscf_reg *reg = scscf_reg_find(row->impu);
	struct scscf_sub *s;
	size_t *n = arg;

	if (!reg || reg->state != REG_REGISTERED)
		return 0; /* its registration ended at start: dropped with it */
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->call_id = strdup(row->call_id);
	s->subscriber = strdup(row->subscriber);
	s->target = strdup(row->target);
	s->route = row->route ? strdup(row->route) : NULL;
	ims_fmt(s->tag, sizeof(s->tag), "%s", row->tag);
	s->cseq = row->cseq;
	s->expires_at = row->expires_at;
	if (!s->call_id || !s->subscriber || !s->target ||
	    (row->route && !s->route)) {
		sub_free(s);
		return -ENOMEM;
	}
	s->next = reg->subs;
	reg->subs = s;
	if (arm_sub(reg, s))
		return -ENOMEM;
	/* RFC 3680 4.1: versions keep increasing across the restart */
	if (row->version > reg->version)
		reg->version = row->version;
	(*n)++;
	return 0;
}

int scscf_regevent_restore(void)
{
	size_t n = 0;
	int rc = scscf_store_load_subs(ims_now_s(), restore_one, &n);

	if (rc)
		tnd_error("reg event subscriptions not restored (%d)", rc);
	else if (n)
		tnd_notice("%zu reg event subscription(s) restored", n);
	return rc;
}
