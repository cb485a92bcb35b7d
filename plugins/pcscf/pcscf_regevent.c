/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcscf_regevent.c - the P-CSCF subscribes to the reg event of every UE
 * it registers (TS 24.229 5.2.3, RFC 3680): a SUBSCRIBE along the
 * Service-Route to the S-CSCF, with our own identity asserted. When a
 * NOTIFY says the registration or the UE's binding ended (the network
 * de-registered it: RTR, administrative, expiry), the UE's state here is
 * dropped at once (TS 24.229 5.2.3 last step): its next request meets
 * 403, not a stale Service-Route.
 *
 * The subscription is refreshed in its dialog (same Call-ID and From tag,
 * CSeq up) by a re-registration that comes after half its lifetime:
 * registrations outlive reg_event_expires, and a lapsed subscription
 * would leave network de-registrations unheard.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "pcscf_int.h"

/* Call-ID of a subscription -> the Contact of its UE (a copy). */
static struct ims_hash subs;

static void index_del(const char *call_id)
{
	free(ims_hash_del(&subs, call_id));
}

/* RFC 6665 4.1.2.1: the 2xx's Expires is the lifetime granted, which
 * may be shorter than the one asked: the refresh is timed by it. */
static void granted(const char *call_id, const struct sip_message *rsp)
{
	const char *contact = ims_hash_get(&subs, call_id);
	struct pcscf_ue *ue = contact ? pcscf_ue_by_contact(contact) : NULL;
	struct sip_text v;
	char value[16];

	if (!ue || !rsp || sip->header(rsp, "Expires", 0, &v) ||
	    ims_text_copy(v, value, sizeof(value)))
		return;
	ue->sub_expires_at = ims_now_s() + atoll(value);
}

static void on_subscribe_answer(struct sip_client *c, int status,
				const struct sip_message *rsp, void *arg)
{
	char *call_id = arg;

	(void)c;
	if (status < 200)
		return;
	if (status >= 300) {
		tnd_info("reg event SUBSCRIBE %s answered %d", call_id, status);
		index_del(call_id);
	} else {
		granted(call_id, rsp);
	}
	free(call_id);
}

bool pcscf_regevent_active(const struct pcscf_ue *ue)
{
	return ue->sub_call_id && ims_hash_get(&subs, ue->sub_call_id);
}

bool pcscf_regevent_due(const struct pcscf_ue *ue)
{
	/* half the lifetime asked, or what the 2xx left of it */
	int64_t half = (int64_t)pcscf_cfg->reg_event_expires / 2;

	return !pcscf_regevent_active(ue) ||
	       ims_now_s() >= ue->sub_expires_at - half;
}

void pcscf_regevent_subscribe(struct pcscf_ue *ue)
{
	struct sip_request_spec spec = { .size = sizeof(spec) };
	char from[IMS_URI_MAX + 4], to[IMS_URI_MAX + 4], call_id[32];
	struct ims_buf h = { 0 };
	bool refresh = pcscf_regevent_active(ue);
	char *arg, *key = NULL;

	if (!ue->service_route)
		return;
	if (refresh) {
		ims_fmt(call_id, sizeof(call_id), "%s", ue->sub_call_id);
	} else {
		ims_token(call_id, sizeof(call_id));
		ue->sub_cseq = 0;
		free(ue->sub_tag);
		ue->sub_tag = NULL;
	}
	if (!ue->sub_tag && IMS_SIP_HAS(on_cancel)) {
		char tag[20];

		ims_token(tag, sizeof(tag));
		ue->sub_tag = strdup(tag);
	}
	spec.local_tag = ue->sub_tag; /* sip 1.1: one tag for the dialog */
	spec.cseq = ++ue->sub_cseq;
	ims_fmt(from, sizeof(from), "<%s>", pcscf_cfg->name);
	ims_fmt(to, sizeof(to), "<%s>", ue->impus[0]);
	ims_buf_printf(&h,
		       "Route: %s\r\nEvent: reg\r\nExpires: %llu\r\n"
		       "Accept: application/reginfo+xml\r\n"
		       "Contact: <%s>\r\nP-Asserted-Identity: <%s>\r\n",
		       ue->service_route, pcscf_cfg->reg_event_expires,
		       pcscf_cfg->name, pcscf_cfg->name);
	spec.method = "SUBSCRIBE";
	spec.request_uri = ue->impus[0];
	spec.from = from;
	spec.to = to;
	spec.call_id = call_id;
	spec.headers = ims_buf_cstr(&h);
	arg = strdup(call_id);
	if (!refresh)
		key = strdup(ue->contact);
	if (!arg || (!refresh && !key) || h.failed ||
	    (!refresh && ims_hash_put(&subs, call_id, key)) ||
	    sip->send_request(&spec, on_subscribe_answer, arg, NULL)) {
		tnd_info("%s: reg event SUBSCRIBE not sent", ue->aor);
		if (key && ims_hash_get(&subs, call_id) == key)
			ims_hash_del(&subs, call_id);
		free(arg);
		free(key);
	} else {
		if (!refresh) {
			free(ue->sub_call_id);
			ue->sub_call_id = strdup(call_id);
		}
		ue->sub_expires_at =
			ims_now_s() + (int64_t)pcscf_cfg->reg_event_expires;
	}
	ims_buf_free(&h);
}

void pcscf_regevent_unsubscribe(struct pcscf_ue *ue)
{
	/* the S-CSCF ends the subscription with the registration */
	if (ue->sub_call_id)
		index_del(ue->sub_call_id);
}

/* ---- NOTIFY
 * ------------------------------------------------------------------ */

static bool named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)n->name, name) == 0;
}

static bool attr_is(const xmlNode *n, const char *attr, const char *value)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)attr);
	bool same = v && strcmp((const char *)v, value) == 0;

	xmlFree(v);
	return same;
}

/* Did this registration element end our UE's binding? */
static bool registration_ends(const xmlNode *reg, const struct pcscf_ue *ue)
{
	if (attr_is(reg, "state", "terminated"))
		return true;
	for (xmlNode *c = reg->children; c; c = c->next) {
		xmlNode *uri;
		xmlChar *text;
		bool ours;

		if (!named(c, "contact") || !attr_is(c, "state", "terminated"))
			continue;
		for (uri = c->children; uri && !named(uri, "uri");
		     uri = uri->next)
			;
		text = uri ? xmlNodeGetContent(uri) : NULL;
		ours = text && strcmp((const char *)text, ue->contact) == 0;
		xmlFree(text);
		if (ours)
			return true;
	}
	return false;
}

/* RFC 3680 5: does the reginfo say the UE's registration is over? */
static bool reginfo_ends(const char *body, size_t len,
			 const struct pcscf_ue *ue)
{
	xmlDoc *doc = xmlReadMemory(body, (int)len, "reginfo.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR |
					    XML_PARSE_NOWARNING);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	char aor[IMS_URI_MAX];
	bool ends = false;

	for (xmlNode *r = root ? root->children : NULL; r && !ends;
	     r = r->next) {
		xmlChar *a;

		if (!named(r, "registration"))
			continue;
		a = xmlGetProp(r, (const xmlChar *)"aor");
		if (a && ims_aor((const char *)a, aor, sizeof(aor)) == 0 &&
		    pcscf_ue_has(ue, aor))
			ends = registration_ends(r, ue);
		xmlFree(a);
	}
	xmlFreeDoc(doc);
	return ends;
}

bool pcscf_regevent_notify(struct sip_request *req, const struct sip_message *m)
{
	struct sip_text v, body;
	char call_id[128], state[64] = "";
	const char *contact;
	struct pcscf_ue *ue;

	if (sip->header(m, "Call-ID", 0, &v) ||
	    ims_text_copy(v, call_id, sizeof(call_id)) ||
	    !(contact = ims_hash_get(&subs, call_id)))
		return false;
	if (sip->header(m, "Subscription-State", 0, &v) == 0)
		ims_text_copy(v, state, sizeof(state));
	sip->reply(req, 200, NULL, NULL, NULL, NULL, 0);
	ue = pcscf_ue_by_contact(contact);
	body = sip->body(m);
	if (ue && body.len && reginfo_ends(body.ptr, body.len, ue)) {
		pcscf_host->counter_add(pcscf_cnt.reg_event_terminated, 1);
		tnd_notice("%s: registration ended by the network (reg "
			   "event)",
			   ue->aor);
		pcscf_ue_drop(ue, "reg event: terminated"); /* frees contact */
		return true;
	}
	if (ims_prefix(state, "terminated"))
		index_del(call_id);
	return true;
}

static void free_value(const char *key, void *value, void *arg)
{
	(void)key, (void)arg;
	free(value);
}

void pcscf_regevent_fini(void)
{
	ims_hash_each(&subs, free_value, NULL);
	ims_hash_clear(&subs);
}
