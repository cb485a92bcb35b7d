/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcscf_rx.c - the Rx hooks (TS 29.214 4.4, TS 24.229 5.2.7): when a
 * call through this P-CSCF is set up, the resources of its media are
 * asked for (AAR) through the "rx" service (tandem/rx.h); when it ends
 * they are given back (STR). A session the PCRF refuses, or aborts
 * later (ASR), is released with a BYE on both legs. With no provider
 * loaded every call proceeds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcscf_int.h"

/* What the P-CSCF keeps of a call it relays. */
struct pcscf_call {
	struct rx_session *rx;
	char call_id[128];
	bool refused;
};

static void call_free(void *p)
{
	struct pcscf_call *c = p;

	if (c->rx && rx) {
		rx->session_end(c->rx, c->refused ? "refused" : "ended");
		pcscf_host->counter_add(pcscf_cnt.rx_str, 1);
	}
	free(c);
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

void pcscf_rx_init(void)
{
	if (rx && rx->on_abort)
		rx->on_abort(on_abort, NULL);
}

void pcscf_rx_dialog_ops(struct ims_dlg_ops *ops)
{
	ops->established = established;
	ops->terminated = terminated;
}
