/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcscf_rx.c - the Rx hooks (TS 29.214 4.4, TS 24.229 5.2.7): when a
 * call through this P-CSCF is set up, the resources of its media are
 * asked for (AAR) through the "rx" service (tandem/rx.h); when it ends
 * they are given back (STR). A session the PCRF refuses, or aborts
 * later (ASR), is released with a BYE on both legs. With no provider
 * loaded every call proceeds.
 *
 * Inside a call, a re-INVITE or UPDATE with an SDP offer changes its
 * media (hold, video added): AAR again with the new offer in place of
 * that side's earlier SDP (TS 29.213 6.2 lets the AF give the service
 * information of an offer). The answer to it travels inside the ims
 * library's dialog relay, which has no hook for responses yet (see
 * docs/pcrf.md): the AAR of the completed offer/answer waits for one.
 *
 * A UE that registers gets its AF signalling session (TS 29.214 4.4.1.1)
 * when the provider offers them; it ends with the registration.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pcscf_int.h"

/* What the P-CSCF keeps of a call it relays. */
struct pcscf_call {
	struct rx_session *rx;
	char call_id[128];	/* leg 0, toward the caller */
	char call_id_down[128]; /* leg 1, toward the callee */
	bool refused;
	/* what an AAR of a changed SDP repeats */
	bool originating;
	char subscriber[IMS_URI_MAX], ue_address[64], icid[64];
	/* the last SDP each side sent (malloc'd, NUL-terminated) */
	char *ue_sdp, *remote_sdp;
};

/* Calls with an Rx session, by both their Call-IDs. */
static struct ims_hash calls;

static void call_free(void *p)
{
	struct pcscf_call *c = p;

	if (ims_hash_get(&calls, c->call_id) == c)
		ims_hash_del(&calls, c->call_id);
	if (c->call_id_down[0] && ims_hash_get(&calls, c->call_id_down) == c)
		ims_hash_del(&calls, c->call_id_down);
	if (c->rx && rx) {
		rx->session_end(c->rx, c->refused ? "refused" : "ended");
		pcscf_host->counter_add(pcscf_cnt.rx_str, 1);
	}
	free(c->ue_sdp);
	free(c->remote_sdp);
	free(c);
}

static char *body_dup(const char *body, size_t len)
{
	return body && len ? strndup(body, len) : NULL;
}

/* Fill info from what c keeps: the UE's SDP stands where it was in the
 * first offer/answer (the offer when the UE called). */
static void call_info(const struct pcscf_call *c, struct rx_session_info *info)
{
	const char *offer = c->originating ? c->ue_sdp : c->remote_sdp;
	const char *answer = c->originating ? c->remote_sdp : c->ue_sdp;

	info->call_id = c->call_id;
	info->icid = c->icid;
	info->subscriber = c->subscriber;
	info->ue_address = c->ue_address;
	info->originating = c->originating;
	info->sdp_offer = offer;
	info->sdp_offer_len = offer ? strlen(offer) : 0;
	info->sdp_answer = answer;
	info->sdp_answer_len = answer ? strlen(answer) : 0;
}

static bool is_call(struct ims_dlg *d, void *arg)
{
	return ims_dlg_data(d) == arg;
}

static void on_rx_result(struct rx_session *s, int result, void *arg)
{
	struct ims_dlg *d = arg;
	struct pcscf_call *c = ims_dlg_data(d);

	(void)s;
	if (!result || !c)
		return;
	tnd_notice("Rx: resources for %s refused (%d): releasing the call",
		   c->call_id, result);
	c->refused = true;
	ims_dlg_release(is_call, c, "Rx refused");
}

/* The UE's address: the host of the flow it uses ("udp:IP:PORT"). */
static void ue_address(const struct pcscf_ue *ue, char *out, size_t size)
{
	const char *p = ue && ue->flow ? strchr(ue->flow, ':') : NULL;
	const char *e = p ? strrchr(p + 1, ':') : NULL;

	out[0] = '\0';
	if (p && e)
		ims_fmt(out, size, "%.*s", (int)(e - p - 1), p + 1);
}

/* What a later AAR (the SDP changed) needs; without it none is sent. */
static void keep_for_update(struct pcscf_call *c,
			    const struct rx_session_info *info,
			    const struct ims_msg *invite,
			    const struct ims_msg *ok)
{
	const struct ims_msg *ue_msg = info->originating ? invite : ok;
	const struct ims_msg *remote_msg = info->originating ? ok : invite;

	c->originating = info->originating != 0;
	ims_fmt(c->subscriber, sizeof(c->subscriber), "%s", info->subscriber);
	ims_fmt(c->ue_address, sizeof(c->ue_address), "%s", info->ue_address);
	ims_fmt(c->icid, sizeof(c->icid), "%s", info->icid);
	c->ue_sdp = body_dup(ue_msg->body, ue_msg->body_len);
	c->remote_sdp = body_dup(remote_msg->body, remote_msg->body_len);
	if (c->ue_sdp && c->remote_sdp &&
	    ims_hash_put(&calls, c->call_id, c) == 0 &&
	    (!c->call_id_down[0] ||
	     ims_hash_put(&calls, c->call_id_down, c) == 0))
		return;
	tnd_info("Rx: %s: its SDP changes will not be reported", c->call_id);
}

static void established(struct ims_dlg *d, const struct ims_msg *invite,
			const struct ims_msg *ok)
{
	struct rx_session_info info = { .size = sizeof(info) };
	struct pcscf_call *c;
	struct pcscf_ue *ue;
	char flow[96] = "", addr[64], subscriber[IMS_URI_MAX] = "";
	const char *pcv = ims_msg_get(invite, "P-Charging-Vector", 0);
	char icid[64] = "";

	if (!rx)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	ims_fmt(c->call_id, sizeof(c->call_id), "%s", ims_dlg_call_id(d));
	if (ims_msg_get(ok, "Call-ID", 0))
		ims_fmt(c->call_id_down, sizeof(c->call_id_down), "%s",
			ims_msg_get(ok, "Call-ID", 0));
	ims_dlg_set_data(d, c, call_free);
	/* the UE is the caller when the INVITE came over its flow */
	if (strchr(invite->source, ' '))
		ims_fmt(flow, sizeof(flow), "udp:%s",
			strchr(invite->source, ' ') + 1);
	ue = pcscf_ue_by_flow(flow);
	info.originating = ue != NULL;
	if (!ue)
		ue = pcscf_ue_by_contact(invite->ruri);
	if (ue)
		ims_fmt(subscriber, sizeof(subscriber), "%s", ue->impus[0]);
	ue_address(ue, addr, sizeof(addr));
	if (pcv && ims_prefix(pcv, "icid-value="))
		ims_fmt(icid, sizeof(icid), "%.*s", (int)strcspn(pcv + 11, ";"),
			pcv + 11);
	info.call_id = c->call_id;
	info.icid = icid;
	info.subscriber = subscriber;
	info.ue_address = addr;
	info.sdp_offer = invite->body;
	info.sdp_offer_len = invite->body_len;
	info.sdp_answer = ok->body;
	info.sdp_answer_len = ok->body_len;
	keep_for_update(c, &info, invite, ok);
	pcscf_host->counter_add(pcscf_cnt.rx_aar, 1);
	if (rx->session_start(&info, on_rx_result, d, &c->rx)) {
		tnd_info("Rx: no session for %s: the call proceeds",
			 c->call_id);
		c->rx = NULL;
	}
}

static void terminated(struct ims_dlg *d, const char *why)
{
	(void)d, (void)why;
	/* the session ends in call_free, when the dialog is freed */
}

static void on_abort(const char *call_id, void *arg)
{
	(void)arg;
	tnd_notice("Rx: the PCRF aborted %s: releasing the call", call_id);
	/* dialogs are found by their upstream Call-ID */
	ims_dlg_release_call(call_id, "Rx session aborted");
}

/* ---- The SDP changes inside a call --------------------------------------- */

static bool has_sdp(const struct sip_message *m)
{
	struct sip_text ct, body = sip->body(m);

	return body.len && sip->header(m, "Content-Type", 0, &ct) == 0 &&
	       ct.len >= 15 && strncasecmp(ct.ptr, "application/sdp", 15) == 0;
}

/* A request inside a dialog: its To has a tag. */
static bool has_to_tag(const struct sip_message *m)
{
	struct sip_text v;
	char to[IMS_HDR_MAX], tag[128];

	return sip->header(m, "To", 0, &v) == 0 &&
	       ims_text_copy(v, to, sizeof(to)) == 0 &&
	       ims_hparam(to, "tag", tag, sizeof(tag)) == 0 && tag[0];
}

static bool offers_sdp(const struct sip_message *m)
{
	struct sip_text method = sip->method(m);

	return ((method.len == 6 && memcmp(method.ptr, "INVITE", 6) == 0) ||
		(method.len == 6 && memcmp(method.ptr, "UPDATE", 6) == 0)) &&
	       has_sdp(m) && has_to_tag(m);
}

void pcscf_rx_in_dialog(const struct sip_message *m)
{
	struct rx_session_info info = { .size = sizeof(info) };
	struct sip_text v, body;
	struct pcscf_call *c;
	char call_id[128], *sdp;
	bool from_ue;

	if (!rx || !rx->session_update || !offers_sdp(m) ||
	    sip->header(m, "Call-ID", 0, &v) ||
	    ims_text_copy(v, call_id, sizeof(call_id)) ||
	    !(c = ims_hash_get(&calls, call_id)) || !c->rx)
		return;
	body = sip->body(m);
	if (!(sdp = strndup(body.ptr, body.len)))
		return;
	/* leg 0 is the caller's: the UE's own when it called */
	from_ue = (strcmp(call_id, c->call_id) == 0) == c->originating;
	if (from_ue) {
		free(c->ue_sdp);
		c->ue_sdp = sdp;
	} else {
		free(c->remote_sdp);
		c->remote_sdp = sdp;
	}
	call_info(c, &info);
	pcscf_host->counter_add(pcscf_cnt.rx_aar, 1);
	if (rx->session_update(c->rx, &info))
		tnd_info("Rx: no AAR for the new SDP of %s", c->call_id);
	else
		tnd_info("Rx: %s: new SDP offer from the %s side, AAR again",
			 c->call_id, from_ue ? "UE's" : "remote");
}

/* ---- The UE's signalling session ----------------------------------------- */

static bool has_signalling(void)
{
	return rx &&
	       rx->size >= offsetof(struct rx_service, signalling_start) +
				   sizeof(rx->signalling_start) &&
	       rx->signalling_start;
}

/* "udp:HOST:PORT" -> its parts; -EINVAL when it is not one. */
static int split_hop(const char *hop, char *proto, size_t proto_size,
		     char *host, size_t host_size, unsigned *port)
{
	const char *colon = hop ? strchr(hop, ':') : NULL;
	const char *last = colon ? strrchr(colon + 1, ':') : NULL;
	char *end;
	unsigned long v;

	if (!last)
		return -EINVAL;
	v = strtoul(last + 1, &end, 10);
	if (*end || !v || v > 65535 ||
	    ims_fmt(proto, proto_size, "%.*s", (int)(colon - hop), hop) ||
	    ims_fmt(host, host_size, "%.*s", (int)(last - colon - 1),
		    colon + 1))
		return -EINVAL;
	*port = (unsigned)v;
	return 0;
}

void pcscf_rx_signalling_start(struct pcscf_ue *ue)
{
	struct rx_signalling_info info = { .size = sizeof(info) };
	char ue_proto[8], ue_addr[64], p_proto[8], p_addr[64];
	char hop[IMS_URI_MAX];

	if (!has_signalling() || ue->rx_signalling)
		return;
	if (split_hop(ue->flow, ue_proto, sizeof(ue_proto), ue_addr,
		      sizeof(ue_addr), &info.ue_port) ||
	    ims_uri_hop(ims.contact_uri, hop, sizeof(hop)) ||
	    split_hop(hop, p_proto, sizeof(p_proto), p_addr, sizeof(p_addr),
		      &info.pcscf_port)) {
		tnd_info("Rx: no signalling session for %s: flow %s, contact "
			 "%s",
			 ue->aor, ue->flow ? ue->flow : "-", ims.contact_uri);
		return;
	}
	info.subscriber = ue->impus[0];
	info.ue_address = ue_addr;
	info.pcscf_address = p_addr;
	info.proto = ue_proto;
	pcscf_host->counter_add(pcscf_cnt.rx_aar, 1);
	if (rx->signalling_start(&info, &ue->rx_signalling)) {
		ue->rx_signalling = NULL;
		tnd_info("Rx: no signalling session for %s", ue->aor);
		return;
	}
	tnd_info("Rx: signalling session for %s (%s)", ue->aor, ue->flow);
}

void pcscf_rx_signalling_end(struct pcscf_ue *ue, const char *why)
{
	if (!ue->rx_signalling)
		return;
	if (rx)
		rx->session_end(ue->rx_signalling, why);
	ue->rx_signalling = NULL;
	pcscf_host->counter_add(pcscf_cnt.rx_str, 1);
}

void pcscf_rx_init(void)
{
	if (rx && rx->on_abort)
		rx->on_abort(on_abort, NULL);
}

void pcscf_rx_fini(void)
{
	ims_hash_clear(&calls); /* the dialogs (ims_fini) emptied it */
}

void pcscf_rx_dialog_ops(struct ims_dlg_ops *ops)
{
	ops->established = established;
	ops->terminated = terminated;
}
