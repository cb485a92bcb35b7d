/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcscf_route.c - requests other than REGISTER (TS 24.229 5.2.6, 5.2.7):
 *
 * - from a registered UE (originating): its P-Preferred-Identity or
 *   P-Asserted-Identity is replaced by the identity the network asserts
 *   (RFC 3325 9.1), a P-Charging-Vector added, and the request follows
 *   the Service-Route of its registration, whatever Route it carried
 *   (RFC 3608: the P-CSCF enforces it);
 * - coming back along our Path (terminating): to the UE's Contact over
 *   the flow it registered from (rport, a NAT), charging headers out;
 * - emergency (urn:service:sos, RFC 5031), also from a UE that is not
 *   registered (TS 24.229 5.2.10): to the configured emergency route.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pcscf_int.h"

int pcscf_route_init(void)
{
	return 0;
}

static bool dialog_method(const char *method)
{
	return strcmp(method, "INVITE") == 0 ||
	       strcmp(method, "SUBSCRIBE") == 0 || strcmp(method, "REFER") == 0;
}

static void flow_of(const char *source, char *out, size_t size)
{
	const char *sp = strchr(source, ' ');
	size_t n = sp ? (size_t)(sp - source) : 0;

	out[0] = '\0';
	if (!sp || n > 8 ||
	    ims_fmt(out, size, "%.*s:%s", (int)n, source, sp + 1))
		return;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(out[i] | 0x20);
}

static enum ims_fwd_verdict on_core_answer(struct ims_fwd *f, int status,
					   struct ims_msg *rsp, void *arg)
{
	(void)f, (void)status, (void)arg;
	/* RFC 7315 4.6: charging headers do not reach the UE */
	if (rsp) {
		ims_msg_del(rsp, "P-Charging-Vector");
		ims_msg_del(rsp, "P-Charging-Function-Addresses");
	}
	return IMS_FWD_RELAY;
}

/* RFC 3325 9.1 and TS 24.229 5.2.6.3.1: the identity we assert for the
 * UE: the preferred one when it is one of its own, else its default. */
static void assert_identity(struct ims_msg *msg, const struct pcscf_ue *ue)
{
	const char *ppi = ims_msg_get(msg, "P-Preferred-Identity", 0);
	const char *asserted = ue->impus[0];
	char uri[IMS_URI_MAX], aor[IMS_URI_MAX], value[IMS_URI_MAX + 4];

	if (ppi && ims_uri_of(ppi, uri, sizeof(uri)) == 0 &&
	    ims_aor(uri, aor, sizeof(aor)) == 0 && pcscf_ue_has(ue, aor))
		asserted = aor;
	ims_msg_del(msg, "P-Preferred-Identity");
	ims_msg_del(msg, "P-Asserted-Identity");
	ims_fmt(value, sizeof(value), "<%s>", asserted);
	ims_msg_add(msg, "P-Asserted-Identity", value, false);
}

static void originating(struct ims_fwd *f, struct pcscf_ue *ue)
{
	struct ims_msg *msg = ims_fwd_msg(f);
	struct ims_fwd_target t = { 0 };
	int rc;
	int status = pcscf_secagree_verify(ue, msg);

	if (status) {
		ims_fwd_reply(f, status, NULL, "Require: sec-agree\r\n");
		return;
	}
	if (!ue->service_route) {
		ims_fwd_reply(f, 403, "No Service-Route", NULL);
		return;
	}
	pcscf_host->counter_add(pcscf_cnt.orig, 1);
	/* RFC 3608 / TS 24.229 5.2.6.3.2: the stored route, not the UE's */
	ims_msg_del(msg, "Route");
	ims_msg_add(msg, "Route", ue->service_route, false);
	ims_msg_del(msg, "Security-Verify");
	assert_identity(msg, ue);
	pcscf_charging_vector(msg);
	t.dialog = dialog_method(msg->method);
	rc = ims_fwd_send(f, &t, on_core_answer, NULL);
	if (rc)
		ims_fwd_fail(f, rc, 500, "S-CSCF unreachable");
}

static void terminating(struct ims_fwd *f, struct pcscf_ue *ue)
{
	struct ims_msg *msg = ims_fwd_msg(f);
	struct ims_fwd_target t = { 0 };
	int rc;
	const char *privacy = ims_msg_get(msg, "Privacy", 0);

	pcscf_host->counter_add(pcscf_cnt.term, 1);
	ims_msg_del(msg, "Route");
	ims_msg_del(msg, "P-Charging-Vector");
	ims_msg_del(msg, "P-Charging-Function-Addresses");
	/* RFC 3325 9.1 / RFC 3323: the UE is outside the trust domain of
	 * the asserted identity when the caller asked for privacy */
	if (privacy && strstr(privacy, "id"))
		ims_msg_del(msg, "P-Asserted-Identity");
	t.next_hop = ue->flow;
	t.sticky_hop = true;
	t.dialog = dialog_method(msg->method);
	rc = ims_fwd_send(f, &t, NULL, NULL);
	if (rc)
		ims_fwd_fail(f, rc, 480, "UE unreachable");
}

/*
 * RFC 5031: urn:service:sos and its sub-services; and what UEs and PBXs
 * dial instead: a sip: URI of the user "sos", or an emergency number
 * (emergency_numbers) as a tel: URI or a SIP URI's user part.
 */
static bool is_emergency(const char *ruri)
{
	char user[64], list[128], *save = NULL, *w;

	if (ims_prefix(ruri, "urn:service:sos"))
		return true;
	if (ims_prefix(ruri, "tel:"))
		ims_fmt(user, sizeof(user), "%.*s", (int)strcspn(ruri + 4, ";"),
			ruri + 4);
	else if (ims_uri_user(ruri, user, sizeof(user)))
		return false;
	if (strcasecmp(user, "sos") == 0)
		return true;
	ims_fmt(list, sizeof(list), "%s", pcscf_cfg->emergency_numbers);
	for (w = strtok_r(list, " ,\t", &save); w;
	     w = strtok_r(NULL, " ,\t", &save))
		if (strcmp(user, w) == 0)
			return true;
	return false;
}

static void emergency(struct ims_fwd *f, struct pcscf_ue *ue)
{
	struct ims_msg *msg = ims_fwd_msg(f);
	struct ims_fwd_target t = { 0 };
	int rc;

	pcscf_host->counter_add(pcscf_cnt.emergency, 1);
	if (!pcscf_cfg->emergency_route[0]) {
		ims_fwd_reply(f, 503, "No emergency route", NULL);
		return;
	}
	ims_msg_del(msg, "Route");
	if (ue)
		assert_identity(msg, ue);
	else
		ims_msg_del(msg, "P-Asserted-Identity");
	pcscf_charging_vector(msg);
	tnd_notice("emergency %s from %s%s to %s", msg->method, msg->source,
		   ue ? "" : " (not registered)", pcscf_cfg->emergency_route);
	ims_route_first(msg, pcscf_cfg->emergency_route);
	t.dialog = dialog_method(msg->method);
	rc = ims_fwd_send(f, &t, on_core_answer, NULL);
	if (rc)
		ims_fwd_fail(f, rc, 503, "Emergency route unreachable");
}

/* A request that came back along our Path: its first Route is ours,
 * with the "term" user (pcscf_register.c). */
static bool along_path(const struct ims_msg *msg)
{
	const char *r = ims_msg_get(msg, "Route", 0), *p = r;
	char elem[IMS_HDR_MAX], uri[IMS_URI_MAX], user[32];

	return r && ims_list_next(&p, elem, sizeof(elem)) &&
	       ims_uri_of(elem, uri, sizeof(uri)) == 0 && ims_is_self(uri) &&
	       ims_uri_user(uri, user, sizeof(user)) == 0 &&
	       strcmp(user, "term") == 0;
}

enum sip_verdict pcscf_route_request(struct sip_request *req,
				     const struct sip_message *m)
{
	struct ims_fwd *f = ims_fwd_new(req, m);
	struct ims_msg *msg;
	struct pcscf_ue *ue;
	char flow[96];

	if (!f) {
		sip->reply(req, 500, NULL, NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	msg = ims_fwd_msg(f);
	flow_of(msg->source, flow, sizeof(flow));
	if (along_path(msg)) {
		ue = pcscf_ue_by_contact(msg->ruri);
		if (ue)
			terminating(f, ue);
		else
			ims_fwd_reply(f, 480, "Not registered here", NULL);
		return SIP_TAKEN;
	}
	ue = pcscf_ue_by_flow(flow);
	if (is_emergency(msg->ruri) &&
	    (ue || pcscf_cfg->emergency_unregistered)) {
		emergency(f, ue);
		return SIP_TAKEN;
	}
	if (ue) {
		originating(f, ue);
		return SIP_TAKEN;
	}
	/* a request to a contact of ours without the Path mark */
	ue = pcscf_ue_by_contact(msg->ruri);
	if (ue) {
		terminating(f, ue);
		return SIP_TAKEN;
	}
	pcscf_host->counter_add(pcscf_cnt.refused, 1);
	tnd_info("%s from %s: not registered here: 403", msg->method, flow);
	ims_fwd_reply(f, 403, "Forbidden - Not registered", NULL);
	return SIP_TAKEN;
}
