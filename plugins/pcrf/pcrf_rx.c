/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcrf_rx.c - the Rx server (TS 29.214): AAR/AAA (initial and
 * modification), STR/STA, and toward the AF: ASR when the session's
 * bearers are gone, RAR for the events it subscribed to (Specific-Action).
 *
 * An AAR with Media-Component-Descriptions makes one PCC rule per media
 * component (QCI, ARP and bit rates from the policies, pcrf_policy.c)
 * and installs them at the PCEF with a Gx RAR; the AAA waits for the RAA,
 * so a 2001 means the rules are in place (TS 29.213 4.3.1.1 allows both
 * orders; waiting lets the AF hear of a failure). Errors:
 * - no Framed-IP-Address nor Framed-IPv6-Prefix: 5005 + Failed-AVP;
 * - no IP-CAN session for the address: 5065 IP-CAN_SESSION_NOT_AVAILABLE;
 * - a media component without Media-Component-Number: 5005 + Failed-AVP;
 * - service information the PCRF cannot use (a malformed Flow-Description,
 *   an unknown Media-Type, no policy, too many components): 5061
 *   INVALID_SERVICE_INFORMATION + Failed-AVP;
 * - STR for an unknown Session-Id: 5002 DIAMETER_UNKNOWN_SESSION_ID;
 * - the PCEF refused the rules: 5063 REQUESTED_SERVICE_NOT_AUTHORIZED.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcrf_int.h"

static int missing(struct dia_msg *ans, const char *name)
{
	dia->set_failed_missing(ans, name);
	pcrf_host->counter_add(pcrf_cnt.errors, 1);
	tnd_info("Rx request without %s: answering 5005", name);
	return DIA_MISSING_AVP;
}

/* An Experimental-Result alone, as TS 29.214 has it (the diameter
 * plugin relaxes RFC 7155's Result-Code rule for AAA). */
static void set_refusal(struct dia_msg *ans, uint32_t code)
{
	dia->set_experimental(ans, DIA_VENDOR_3GPP, code);
}

static int experimental(struct dia_msg *ans, uint32_t code)
{
	set_refusal(ans, code);
	pcrf_host->counter_add(pcrf_cnt.errors, 1);
	return (int)code; /* the result is set */
}

static int invalid_service(struct dia_msg *ans, struct dia_avp *avp,
			   const char *why)
{
	tnd_info("Rx AAR: %s: answering 5061", why);
	if (avp)
		dia->set_failed_avp(ans, avp);
	return experimental(ans, RX_INVALID_SERVICE_INFORMATION);
}

/* ---- Media-Component-Description -> PCC rule -------------------------- */

/* "permit in|out PROTO from ADDR [PORT] to ADDR [PORT]" (TS 29.214
 * 5.3.8, IPFilterRule of RFC 6733 4.3.1 restricted as 29.214 says). */
static bool flow_ok(const char *f)
{
	const char *from, *to;

	if (strncmp(f, "permit in ", 10) && strncmp(f, "permit out ", 11))
		return false;
	from = strstr(f, " from ");
	to = from ? strstr(from + 6, " to ") : NULL;
	return from && to && to[4] != '\0';
}

/* The first codec a Codec-Data names (TS 29.214 5.3.7: direction, offer
 * or answer, then the SDP lines of the media). */
static void codec_of(struct dia_avp *mcd, char *codec, size_t size)
{
	struct dia_avp *cd = dia->find(mcd, "Codec-Data");
	static const struct {
		int pt;
		const char *name;
	} statics[] = { { 0, "PCMU" },
			{ 8, "PCMA" },
			{ 9, "G722" },
			{ 18, "G729" },
			{ 3, "GSM" } };
	const uint8_t *v;
	size_t len;
	char text[512];
	const char *p;

	codec[0] = '\0';
	if (!cd || dia->get_str(cd, &v, &len))
		return;
	snprintf(text, sizeof(text), "%.*s", (int)len, v);
	p = strstr(text, "a=rtpmap:");
	if (p && (p = strchr(p, ' '))) {
		snprintf(codec, size, "%.*s", (int)strcspn(p + 1, "/\r\n"),
			 p + 1);
		return;
	}
	p = strstr(text, "m=");
	if (p) { /* m=audio PORT PROTO PT ...: a static payload type */
		int pt = -1;

		if (sscanf(p, "m=%*s %*s %*s %d", &pt) == 1)
			for (size_t i = 0;
			     i < sizeof(statics) / sizeof(statics[0]); i++)
				if (statics[i].pt == pt)
					snprintf(codec, size, "%s",
						 statics[i].name);
	}
}

static uint32_t clamp_bw(uint32_t want, const struct pcrf_policy *p)
{
	uint32_t max = (uint32_t)(p->max_kbps * 1000u);

	return want > max ? max : want;
}

struct mcd_facts {
	uint32_t number, media_type, flow_status, mrb_ul, mrb_dl;
	bool has_mrb_ul, has_mrb_dl, signalling;
	char codec[32];
};

/* The flows of the Media-Sub-Components: 0, or the result to answer. */
static int sub_components(struct dia_avp *mcd, struct dia_msg *ans,
			  struct pcrf_rule *r, struct mcd_facts *m)
{
	for (struct dia_avp *sub = dia->find(mcd, "Media-Sub-Component"); sub;
	     sub = dia->find_next(sub)) {
		uint32_t usage = RX_FLOW_NO_INFORMATION;

		if (dia->find_u32(sub, "Flow-Usage", &usage) == 0 &&
		    usage == RX_FLOW_AF_SIGNALLING)
			m->signalling = true;
		for (struct dia_avp *fd = dia->find(sub, "Flow-Description");
		     fd; fd = dia->find_next(fd)) {
			const uint8_t *v;
			size_t len;

			if (dia->get_str(fd, &v, &len) ||
			    len >= PCRF_FLOW_MAX || r->nflows == PCRF_MAX_FLOWS)
				return invalid_service(ans, fd,
						       "Flow-Description too "
						       "long or too many");
			snprintf(r->flows[r->nflows], PCRF_FLOW_MAX, "%.*s",
				 (int)len, v);
			if (!flow_ok(r->flows[r->nflows]))
				return invalid_service(ans, fd,
						       "malformed "
						       "Flow-Description");
			r->nflows++;
		}
	}
	return 0;
}

static void mcd_read(struct dia_avp *mcd, struct mcd_facts *m)
{
	m->media_type = RX_MEDIA_OTHER;
	m->flow_status = RX_FLOW_ENABLED;
	dia->find_u32(mcd, "Media-Type", &m->media_type);
	dia->find_u32(mcd, "Flow-Status", &m->flow_status);
	m->has_mrb_ul = dia->find_u32(mcd, "Max-Requested-Bandwidth-UL",
				      &m->mrb_ul) == 0;
	m->has_mrb_dl = dia->find_u32(mcd, "Max-Requested-Bandwidth-DL",
				      &m->mrb_dl) == 0;
	codec_of(mcd, m->codec, sizeof(m->codec));
}

/* Bit rates: what the AF asked for, else the codec's, else the
 * policy's default; never above the policy's ceiling. */
static void rule_qos(struct pcrf_rule *r, const struct mcd_facts *m,
		     const struct pcrf_policy *p)
{
	uint32_t codec_bps = m->codec[0] ? pcrf_codec_bps(m->codec) : 0;
	uint32_t fallback =
		codec_bps ? codec_bps : (uint32_t)(p->default_kbps * 1000u);

	r->qci = (uint32_t)p->qci;
	r->arp = (uint32_t)p->arp;
	r->preempt_cap = p->preempt_cap;
	r->preempt_vuln = p->preempt_vuln;
	r->mbr_ul = clamp_bw(m->has_mrb_ul ? m->mrb_ul : fallback, p);
	r->mbr_dl = clamp_bw(m->has_mrb_dl ? m->mrb_dl : fallback, p);
	r->gbr_ul = p->gbr ? r->mbr_ul : 0;
	r->gbr_dl = p->gbr ? r->mbr_dl : 0;
}

/* One media component's rule: 0, 1 (no rule: removed), or a result. */
static int mcd_rule(struct dia_avp *mcd, struct dia_msg *ans,
		    const struct pcrf_rx *rx, struct pcrf_rule *r)
{
	struct mcd_facts m = { 0 };
	const struct pcrf_policy *p;
	int rc;

	memset(r, 0, sizeof(*r));
	if (dia->find_u32(mcd, "Media-Component-Number", &m.number))
		return missing(ans, "Media-Component-Number");
	mcd_read(mcd, &m);
	if (m.media_type > RX_MEDIA_MESSAGE && m.media_type != RX_MEDIA_OTHER)
		return invalid_service(ans, dia->find(mcd, "Media-Type"),
				       "unknown Media-Type");
	if (m.flow_status > RX_FLOW_REMOVED)
		return invalid_service(ans, dia->find(mcd, "Flow-Status"),
				       "unknown Flow-Status");
	if (m.flow_status == RX_FLOW_REMOVED)
		return 1;
	if ((rc = sub_components(mcd, ans, r, &m)))
		return rc;
	p = pcrf_policy_for(m.media_type, m.signalling, rx->subscriber,
			    m.codec);
	if (!p)
		return invalid_service(ans, mcd, "no policy for this media");
	snprintf(r->name, sizeof(r->name), "r%llu-%u",
		 (unsigned long long)rx->seq, m.number);
	r->mc_number = m.number;
	r->media_type = m.media_type;
	r->flow_status = m.flow_status;
	rule_qos(r, &m, p);
	return 0;
}

/* The rules of every Media-Component-Description: 0 or a result. */
static int build_rules(struct dia_msg *req, struct dia_msg *ans,
		       const struct pcrf_rx *rx, struct pcrf_rule *rules,
		       unsigned *nrules)
{
	*nrules = 0;
	for (struct dia_avp *mcd =
		     dia->find(dia->root(req), "Media-Component-Description");
	     mcd; mcd = dia->find_next(mcd)) {
		int rc;

		if (*nrules == PCRF_MAX_RULES)
			return invalid_service(ans, mcd,
					       "too many media components");
		rc = mcd_rule(mcd, ans, rx, &rules[*nrules]);
		if (rc < 0 || rc > 1)
			return rc;
		if (rc == 0)
			(*nrules)++;
	}
	return 0;
}

/* ---- AAR ------------------------------------------------------------- */

static bool has_renew(void)
{
	return dia->size >= offsetof(struct diameter_service, answer_renew) +
				    sizeof(dia->answer_renew) &&
	       dia->answer_renew;
}

static void send_rar(struct pcrf_rx *rx, uint32_t action, bool only_lost);
static void remove_rules(struct pcrf_rx *rx);

/* The RAA of the rules an AAR asked for came back: answer the AAR, and
 * tell an AF that subscribed that the resources are there (TS 29.214
 * 4.4.6.7, INDICATION_OF_SUCCESSFUL_RESOURCES_ALLOCATION). */
static void aar_done(const char *rx_sid, int result, void *arg)
{
	struct dia_msg *ans = arg;
	struct pcrf_rx *rx;

	if (result == 0) {
		dia->set_result(ans, DIA_SUCCESS);
		dia->answer_send(ans);
		rx = pcrf_rx_find(rx_sid);
		if (rx &&
		    rx->actions & (1u << RX_SA_SUCCESSFUL_RESOURCES_ALLOCATION))
			send_rar(rx, RX_SA_SUCCESSFUL_RESOURCES_ALLOCATION,
				 false);
		return;
	}
	tnd_notice("Rx %s: the PCEF did not install the rules (%d): 5063",
		   rx_sid, result);
	rx = pcrf_rx_find(rx_sid);
	if (rx) { /* the AF session was not set up: forget it */
		/* a PCEF that was only slow may install them yet: the
		 * removal follows the install on the same connection */
		remove_rules(rx);
		pcrf_store_rx_del(rx->sid);
		pcrf_rx_remove(rx);
	}
	if (!has_renew()) { /* no fresh answer: the kept one says it */
		set_refusal(ans, RX_REQUESTED_SERVICE_NOT_AUTHORIZED);
		dia->answer_send(ans);
		return;
	}
	ans = dia->answer_renew(ans);
	if (ans) {
		pcrf_answer_app(ans);
		set_refusal(ans, RX_REQUESTED_SERVICE_NOT_AUTHORIZED);
		pcrf_host->counter_add(pcrf_cnt.errors, 1);
		dia->answer_send(ans);
	}
}

static void read_af(struct dia_msg *req, struct pcrf_rx *rx)
{
	struct dia_avp *root = dia->root(req), *sub;

	dia->find_str(root, "Origin-Host", rx->af_host, sizeof(rx->af_host));
	dia->find_str(root, "Origin-Realm", rx->af_realm, sizeof(rx->af_realm));
	dia->find_str(root, "AF-Charging-Identifier", rx->icid,
		      sizeof(rx->icid));
	sub = dia->find(root, "Subscription-Id");
	if (sub)
		dia->find_str(sub, "Subscription-Id-Data", rx->subscriber,
			      sizeof(rx->subscriber));
}

static uint32_t read_actions(struct dia_msg *req)
{
	uint32_t actions = 0, a;

	for (struct dia_avp *sa = dia->find(dia->root(req), "Specific-Action");
	     sa; sa = dia->find_next(sa))
		if (dia->get_u32(sa, &a) == 0 && a < 32)
			actions |= 1u << a;
	return actions;
}

static int ue_address(struct dia_msg *req, struct dia_msg *ans, char *ipv4,
		      size_t size4, char *ipv6, size_t size6)
{
	struct dia_avp *v4 = dia->find(dia->root(req), "Framed-IP-Address");
	struct dia_avp *v6 = dia->find(dia->root(req), "Framed-IPv6-Prefix");
	const uint8_t *v;
	size_t len;

	ipv4[0] = ipv6[0] = '\0';
	if (!v4 && !v6)
		return missing(ans, "Framed-IP-Address");
	if (v4 && (dia->get_str(v4, &v, &len) ||
		   pcrf_ipv4_text(v, len, ipv4, size4))) {
		dia->set_failed_avp(ans, v4);
		pcrf_host->counter_add(pcrf_cnt.errors, 1);
		return DIA_INVALID_AVP_VALUE;
	}
	if (v6 && (dia->get_str(v6, &v, &len) ||
		   pcrf_ipv6_text(v, len, ipv6, size6))) {
		dia->set_failed_avp(ans, v6);
		pcrf_host->counter_add(pcrf_cnt.errors, 1);
		return DIA_INVALID_AVP_VALUE;
	}
	return 0;
}

static int install(struct pcrf_rx *rx, struct dia_msg *ans,
		   const char *const *remove, unsigned nremove)
{
	struct pcrf_gx *gx = pcrf_gx_find(rx->gx_sid);

	if (!gx)
		return experimental(ans, RX_IP_CAN_SESSION_NOT_AVAILABLE);
	if (pcrf_gx_push(gx, rx, rx->rules, rx->nrules, remove, nremove,
			 aar_done, ans))
		return DIA_UNABLE_TO_COMPLY;
	return DIA_DEFER;
}

static int aar_initial(struct dia_msg *req, struct dia_msg *ans,
		       const char *sid)
{
	char ipv4[16], ipv6[48];
	struct pcrf_rule rules[PCRF_MAX_RULES];
	unsigned nrules;
	struct pcrf_gx *gx;
	struct pcrf_rx *rx;
	int rc = ue_address(req, ans, ipv4, sizeof(ipv4), ipv6, sizeof(ipv6));

	if (rc)
		return rc;
	gx = pcrf_gx_by_ue(ipv4, ipv6);
	if (!gx) {
		tnd_info("Rx AAR %s: no IP-CAN session for UE %s%s: 5065", sid,
			 ipv4, ipv6);
		return experimental(ans, RX_IP_CAN_SESSION_NOT_AVAILABLE);
	}
	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return DIA_UNABLE_TO_COMPLY;
	snprintf(rx->sid, sizeof(rx->sid), "%s", sid);
	snprintf(rx->gx_sid, sizeof(rx->gx_sid), "%s", gx->sid);
	read_af(req, rx);
	rx->actions = read_actions(req);
	rx->seq = pcrf_next_seq();
	rx->created_s = (uint64_t)time(NULL);
	rc = build_rules(req, ans, rx, rules, &nrules);
	if (rc || pcrf_rx_set_rules(rx, rules, nrules) || pcrf_rx_add(rx)) {
		free(rx->rules);
		free(rx);
		return rc ? rc : DIA_UNABLE_TO_COMPLY;
	}
	pcrf_store_rx_put(rx);
	tnd_info("Rx %s for %s (UE %s%s) bound to Gx %s: %u rules", sid,
		 rx->subscriber[0] ? rx->subscriber : "-", ipv4, ipv6, gx->sid,
		 rx->nrules);
	if (rx->nrules == 0) /* signalling session: subscriptions only */
		return DIA_SUCCESS;
	return install(rx, ans, NULL, 0);
}

/* AAR on an existing session (TS 29.214 4.4.2): the new components
 * replace the old; rules of components that are gone are removed. */
static int aar_modify(struct dia_msg *req, struct dia_msg *ans,
		      struct pcrf_rx *rx)
{
	struct pcrf_rule rules[PCRF_MAX_RULES];
	const char *remove[PCRF_MAX_RULES];
	char names[PCRF_MAX_RULES][48];
	unsigned nrules, nremove = 0;
	uint32_t actions = read_actions(req);
	int rc;

	if (actions)
		rx->actions = actions;
	if (!dia->find(dia->root(req), "Media-Component-Description")) {
		pcrf_store_rx_put(rx);
		return DIA_SUCCESS;
	}
	rc = build_rules(req, ans, rx, rules, &nrules);
	if (rc)
		return rc;
	for (unsigned i = 0; i < rx->nrules; i++) {
		bool kept = false;

		for (unsigned j = 0; j < nrules; j++)
			kept |= strcmp(rx->rules[i].name, rules[j].name) == 0;
		if (!kept) {
			snprintf(names[nremove], sizeof(names[0]), "%s",
				 rx->rules[i].name);
			remove[nremove] = names[nremove];
			nremove++;
		}
	}
	if (pcrf_rx_set_rules(rx, rules, nrules))
		return DIA_UNABLE_TO_COMPLY;
	pcrf_store_rx_put(rx);
	tnd_info("Rx %s modified: %u rules, %u removed", rx->sid, nrules,
		 nremove);
	if (!nrules && !nremove)
		return DIA_SUCCESS;
	return install(rx, ans, remove, nremove);
}

static int on_aar(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	char sid[PCRF_SID_MAX];
	struct pcrf_rx *rx;

	(void)arg;
	pcrf_answer_app(ans);
	pcrf_host->counter_add(pcrf_cnt.aar, 1);
	pcrf_msg_sid(req, sid, sizeof(sid));
	rx = pcrf_rx_find(sid);
	return rx ? aar_modify(req, ans, rx) : aar_initial(req, ans, sid);
}

/* ---- STR -------------------------------------------------------------- */

static void remove_rules(struct pcrf_rx *rx)
{
	struct pcrf_gx *gx = pcrf_gx_find(rx->gx_sid);
	const char *names[PCRF_MAX_RULES];
	unsigned n = 0;

	for (unsigned i = 0; i < rx->nrules; i++)
		if (!rx->rules[i].lost)
			names[n++] = rx->rules[i].name;
	if (gx && n)
		pcrf_gx_push(gx, rx, NULL, 0, names, n, NULL, NULL);
}

static int on_str(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	char sid[PCRF_SID_MAX];
	struct pcrf_rx *rx;

	(void)arg;
	pcrf_answer_app(ans);
	pcrf_host->counter_add(pcrf_cnt.str, 1);
	pcrf_msg_sid(req, sid, sizeof(sid));
	rx = pcrf_rx_find(sid);
	if (!rx) {
		tnd_info("Rx STR for unknown session %s: 5002", sid);
		pcrf_host->counter_add(pcrf_cnt.errors, 1);
		return DIA_UNKNOWN_SESSION_ID;
	}
	remove_rules(rx);
	tnd_info("Rx %s ended: %u rules removed", sid, rx->nrules);
	pcrf_store_rx_del(rx->sid);
	pcrf_rx_remove(rx);
	return DIA_SUCCESS;
}

int pcrf_rx_register(void)
{
	if (dia->handle(PCRF_SELF, DIA_APP_RX, DIA_CMD_AAR, on_aar, NULL) ||
	    dia->handle(PCRF_SELF, DIA_APP_RX, DIA_CMD_STR, on_str, NULL))
		return -EINVAL;
	return 0;
}

/* ---- Toward the AF: ASR, RAR ------------------------------------------ */

static void on_af_answer(struct dia_msg *ans, int status, void *arg)
{
	uint32_t vendor = 0, code = 0;
	char *what = arg;

	if (ans)
		dia->result(ans, &vendor, &code);
	tnd_info("Rx %s answered: %u (status %d)", what, code, status);
	free(what);
}

static void send_to_af(struct dia_msg *req, const char *what,
		       const struct pcrf_rx *rx)
{
	char *tag = malloc(strlen(what) + strlen(rx->sid) + 2);

	if (!tag) {
		dia->msg_free(req);
		return;
	}
	sprintf(tag, "%s %s", what, rx->sid);
	if (dia->send(req, (uint32_t)pcrf_cfg->rar_timeout_ms, on_af_answer,
		      tag))
		free(tag);
}

static struct dia_msg *af_request(const struct pcrf_rx *rx, uint32_t cmd)
{
	return dia->request_new(DIA_APP_RX, cmd, rx->sid,
				rx->af_realm[0] ? rx->af_realm : NULL,
				rx->af_host[0] ? rx->af_host : NULL);
}

void pcrf_rx_send_asr(struct pcrf_rx *rx, uint32_t cause)
{
	struct dia_msg *req;

	if (rx->aborting)
		return;
	req = af_request(rx, DIA_CMD_ASR);
	if (!req)
		return;
	rx->aborting = true;
	rx->aborted_s = (uint64_t)time(NULL);
	dia->add_u32(dia->root(req), "Abort-Cause", cause);
	pcrf_host->counter_add(pcrf_cnt.asr, 1);
	tnd_notice("Rx %s: ASR to %s (Abort-Cause %u)", rx->sid, rx->af_host,
		   cause);
	send_to_af(req, "ASA", rx);
}

/* RAR with a Specific-Action, and the media components it concerns
 * (Flows) when only_lost: the rules reported lost. */
static void send_rar(struct pcrf_rx *rx, uint32_t action, bool only_lost)
{
	struct dia_msg *req = af_request(rx, DIA_CMD_RAR);
	struct dia_avp *root;

	if (!req)
		return;
	root = dia->root(req);
	dia->add_u32(root, "Re-Auth-Request-Type", 0);
	dia->add_u32(root, "Specific-Action", action);
	for (unsigned i = 0; only_lost && i < rx->nrules; i++) {
		struct dia_avp *flows;

		if (!rx->rules[i].lost)
			continue;
		flows = dia->add_group(root, "Flows");
		if (flows)
			dia->add_u32(flows, "Media-Component-Number",
				     rx->rules[i].mc_number);
	}
	pcrf_host->counter_add(pcrf_cnt.rar_rx, 1);
	tnd_info("Rx %s: RAR to %s (Specific-Action %u)", rx->sid, rx->af_host,
		 action);
	send_to_af(req, "RAA", rx);
}

void pcrf_rx_rules_lost(struct pcrf_rx *rx, unsigned nlost)
{
	unsigned left = 0;

	(void)nlost;
	for (unsigned i = 0; i < rx->nrules; i++)
		left += !rx->rules[i].lost;
	/* TS 29.214 4.4.6.x: every flow of the AF session is gone: the
	 * session is over (ASR); some are: tell the AF if it asked. */
	if (left == 0)
		pcrf_rx_send_asr(rx, RX_ABORT_BEARER_RELEASED);
	else if (rx->actions & (1u << RX_SA_LOSS_OF_BEARER))
		send_rar(rx, RX_SA_LOSS_OF_BEARER, true);
}

struct gx_walk {
	const char *gx_sid;
	struct pcrf_rx *found[64];
	unsigned n;
};

static void collect_bound(const char *key, void *value, void *arg)
{
	struct gx_walk *w = arg;
	struct pcrf_rx *rx = value;

	(void)key;
	if (strcmp(rx->gx_sid, w->gx_sid) == 0 &&
	    w->n < sizeof(w->found) / sizeof(w->found[0]))
		w->found[w->n++] = rx;
}

void pcrf_rx_ipcan_gone(struct pcrf_gx *gx)
{
	struct gx_walk w = { .gx_sid = gx->sid, .n = 0 };

	ims_hash_each(&pcrf_rx_by_sid, collect_bound, &w);
	for (unsigned i = 0; i < w.n; i++) {
		for (unsigned r = 0; r < w.found[i]->nrules; r++)
			w.found[i]->rules[r].lost = true;
		pcrf_store_rx_put(w.found[i]);
		pcrf_rx_send_asr(w.found[i], RX_ABORT_BEARER_RELEASED);
	}
}

void pcrf_rx_notify(struct pcrf_gx *gx, uint32_t specific_action)
{
	struct gx_walk w = { .gx_sid = gx->sid, .n = 0 };

	ims_hash_each(&pcrf_rx_by_sid, collect_bound, &w);
	for (unsigned i = 0; i < w.n; i++)
		if (w.found[i]->actions & (1u << specific_action))
			send_rar(w.found[i], specific_action, false);
}
