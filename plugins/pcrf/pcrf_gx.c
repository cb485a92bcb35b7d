/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcrf_gx.c - the Gx server (TS 29.212): CCR-I opens an IP-CAN session
 * (CCA with the default bearer's QoS), CCR-U reports events and rule
 * failures, CCR-T closes it; RAR installs and removes the PCC rules of
 * the AF sessions bound to it (Charging-Rule-Install/Remove).
 *
 * Every CCR must carry CC-Request-Type and CC-Request-Number (5005 with a
 * Failed-AVP otherwise, RFC 4006 8.3/8.2), a CCR-I the UE's address
 * (Framed-IP-Address or Framed-IPv6-Prefix); a CCR-U/T of an unknown
 * Session-Id is answered 5002 DIAMETER_UNKNOWN_SESSION_ID.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcrf_int.h"

/* TS 29.212 5.3.7 Event-Trigger values the PCRF acts on. */
#define GX_EVENT_RAT_CHANGE 2
#define GX_EVENT_IP_CAN_CHANGE 7

static int missing(struct dia_msg *ans, const char *name)
{
	dia->set_failed_missing(ans, name);
	pcrf_host->counter_add(pcrf_cnt.errors, 1);
	tnd_info("Gx request without %s: answering 5005", name);
	return DIA_MISSING_AVP;
}

/* The UE's address from a request: 0, -ENOENT (none), -EINVAL (bad). */
static int ue_address(struct dia_msg *req, char *ipv4, size_t size4, char *ipv6,
		      size_t size6)
{
	struct dia_avp *avp;
	const uint8_t *v;
	size_t len;

	ipv4[0] = ipv6[0] = '\0';
	avp = dia->find(dia->root(req), "Framed-IP-Address");
	if (avp && (dia->get_str(avp, &v, &len) ||
		    pcrf_ipv4_text(v, len, ipv4, size4)))
		return -EINVAL;
	avp = dia->find(dia->root(req), "Framed-IPv6-Prefix");
	if (avp && (dia->get_str(avp, &v, &len) ||
		    pcrf_ipv6_text(v, len, ipv6, size6)))
		return -EINVAL;
	return ipv4[0] || ipv6[0] ? 0 : -ENOENT;
}

static void add_arp(struct dia_avp *parent, uint32_t level, int cap, int vuln)
{
	struct dia_avp *arp =
		dia->add_group(parent, "Allocation-Retention-Priority");

	if (!arp)
		return;
	dia->add_u32(arp, "Priority-Level", level);
	/* TS 29.212 5.3.46/47: 0 ENABLED, 1 DISABLED */
	dia->add_u32(arp, "Pre-emption-Capability", cap ? 0 : 1);
	dia->add_u32(arp, "Pre-emption-Vulnerability", vuln ? 0 : 1);
}

/* ---- CCR-I ------------------------------------------------------------ */

static void add_default_qos(struct dia_msg *ans)
{
	struct dia_avp *root = dia->root(ans), *q;

	q = dia->add_group(root, "Default-EPS-Bearer-QoS");
	if (q) {
		dia->add_u32(q, "QoS-Class-Identifier",
			     (uint32_t)pcrf_cfg->default_qci);
		add_arp(q, (uint32_t)pcrf_cfg->default_arp, 0, 1);
	}
	q = dia->add_group(root, "QoS-Information");
	if (q) {
		dia->add_u32(q, "APN-Aggregate-Max-Bitrate-UL",
			     (uint32_t)pcrf_cfg->apn_ambr_ul);
		dia->add_u32(q, "APN-Aggregate-Max-Bitrate-DL",
			     (uint32_t)pcrf_cfg->apn_ambr_dl);
	}
}

static int ccr_initial(struct dia_msg *req, struct dia_msg *ans,
		       const char *sid)
{
	struct pcrf_gx *gx, *old = pcrf_gx_find(sid);
	int rc;

	pcrf_host->counter_add(pcrf_cnt.ccr_i, 1);
	gx = calloc(1, sizeof(*gx));
	if (!gx)
		return DIA_UNABLE_TO_COMPLY;
	snprintf(gx->sid, sizeof(gx->sid), "%s", sid);
	rc = ue_address(req, gx->ipv4, sizeof(gx->ipv4), gx->ipv6,
			sizeof(gx->ipv6));
	if (rc == -ENOENT) {
		free(gx);
		return missing(ans, "Framed-IP-Address");
	}
	if (rc) {
		free(gx);
		dia->set_failed_avp(
			ans, dia->find(dia->root(req), "Framed-IP-Address"));
		pcrf_host->counter_add(pcrf_cnt.errors, 1);
		return DIA_INVALID_AVP_VALUE;
	}
	dia->find_str(dia->root(req), "Origin-Host", gx->pcef_host,
		      sizeof(gx->pcef_host));
	dia->find_str(dia->root(req), "Origin-Realm", gx->pcef_realm,
		      sizeof(gx->pcef_realm));
	dia->find_str(dia->root(req), "Called-Station-Id", gx->apn,
		      sizeof(gx->apn));
	gx->created_s = (uint64_t)time(NULL);
	if (old) { /* a repeated CCR-I: the new one wins */
		gx->nrx = old->nrx;
		pcrf_gx_remove(old);
	}
	if (pcrf_gx_add(gx)) {
		free(gx);
		return DIA_UNABLE_TO_COMPLY;
	}
	pcrf_store_gx_put(gx);
	add_default_qos(ans);
	tnd_info("Gx %s opened by %s for UE %s%s%s apn %s", sid, gx->pcef_host,
		 gx->ipv4, gx->ipv6[0] ? " " : "", gx->ipv6,
		 gx->apn[0] ? gx->apn : "-");
	return DIA_SUCCESS;
}

/* ---- CCR-U ------------------------------------------------------------ */

#define MAX_AFFECTED 16

struct affected {
	struct pcrf_rx *rx[MAX_AFFECTED];
	unsigned nlost[MAX_AFFECTED];
	unsigned n;
};

static void note_lost(struct affected *a, struct pcrf_rx *rx)
{
	for (unsigned i = 0; i < a->n; i++) {
		if (a->rx[i] == rx) {
			a->nlost[i]++;
			return;
		}
	}
	if (a->n < MAX_AFFECTED) {
		a->rx[a->n] = rx;
		a->nlost[a->n++] = 1;
	}
}

/* A Charging-Rule-Report (TS 29.212 4.5.12): rules the PCEF could not
 * keep, e.g. after the loss of their bearer. */
static void rule_report(struct dia_avp *report, struct affected *a)
{
	uint32_t status = GX_RULE_ACTIVE, failure = 0;
	struct dia_avp *n;

	dia->find_u32(report, "PCC-Rule-Status", &status);
	dia->find_u32(report, "Rule-Failure-Code", &failure);
	if (status == GX_RULE_ACTIVE)
		return;
	for (n = dia->find(report, "Charging-Rule-Name"); n;
	     n = dia->find_next(n)) {
		const uint8_t *v;
		size_t len;
		char name[64];
		struct pcrf_rule *rule = NULL;
		struct pcrf_rx *rx;

		if (dia->get_str(n, &v, &len) || len >= sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)len, v);
		rx = pcrf_rule_owner(name, &rule);
		pcrf_host->counter_add(pcrf_cnt.rule_failures, 1);
		if (!rx || rule->lost) {
			tnd_info("Gx: report on unknown rule %s", name);
			continue;
		}
		rule->lost = true;
		tnd_notice("Gx: rule %s of %s inactive (failure code %u)", name,
			   rx->sid, failure);
		note_lost(a, rx);
	}
}

static int ccr_update(struct dia_msg *req, struct pcrf_gx *gx)
{
	struct affected a = { .n = 0 };
	struct dia_avp *avp;
	bool ipcan_change = false;

	pcrf_host->counter_add(pcrf_cnt.ccr_u, 1);
	for (avp = dia->find(dia->root(req), "Charging-Rule-Report"); avp;
	     avp = dia->find_next(avp))
		rule_report(avp, &a);
	for (avp = dia->find(dia->root(req), "Event-Trigger"); avp;
	     avp = dia->find_next(avp)) {
		uint32_t ev;

		if (dia->get_u32(avp, &ev) == 0 &&
		    (ev == GX_EVENT_RAT_CHANGE || ev == GX_EVENT_IP_CAN_CHANGE))
			ipcan_change = true;
	}
	for (unsigned i = 0; i < a.n; i++) {
		pcrf_store_rx_put(a.rx[i]);
		pcrf_rx_rules_lost(a.rx[i], a.nlost[i]);
	}
	if (ipcan_change)
		pcrf_rx_notify(gx, RX_SA_IP_CAN_CHANGE);
	return DIA_SUCCESS;
}

/* ---- CCR-T ------------------------------------------------------------ */

static int ccr_termination(struct pcrf_gx *gx)
{
	pcrf_host->counter_add(pcrf_cnt.ccr_t, 1);
	tnd_info("Gx %s closed by %s (UE %s%s)", gx->sid, gx->pcef_host,
		 gx->ipv4, gx->ipv6);
	pcrf_rx_ipcan_gone(gx);
	pcrf_store_gx_del(gx->sid);
	pcrf_gx_remove(gx);
	return DIA_SUCCESS;
}

static int on_ccr(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	struct dia_avp *root = dia->root(req);
	char sid[PCRF_SID_MAX];
	uint32_t type, number;
	struct pcrf_gx *gx;

	(void)arg;
	pcrf_answer_app(ans);
	if (dia->find_u32(root, "CC-Request-Type", &type))
		return missing(ans, "CC-Request-Type");
	if (dia->find_u32(root, "CC-Request-Number", &number))
		return missing(ans, "CC-Request-Number");
	dia->add_u32(dia->root(ans), "CC-Request-Type", type);
	dia->add_u32(dia->root(ans), "CC-Request-Number", number);
	if (type < GX_INITIAL || type > GX_EVENT) {
		dia->set_failed_avp(ans, dia->find(root, "CC-Request-Type"));
		pcrf_host->counter_add(pcrf_cnt.errors, 1);
		return DIA_INVALID_AVP_VALUE;
	}
	pcrf_msg_sid(req, sid, sizeof(sid));
	if (type == GX_INITIAL)
		return ccr_initial(req, ans, sid);
	gx = pcrf_gx_find(sid);
	if (!gx) {
		tnd_info("Gx CCR (type %u) for unknown session %s: 5002", type,
			 sid);
		pcrf_host->counter_add(pcrf_cnt.errors, 1);
		return DIA_UNKNOWN_SESSION_ID;
	}
	if (type == GX_TERMINATION)
		return ccr_termination(gx);
	return ccr_update(req, gx);
}

int pcrf_gx_register(void)
{
	return dia->handle(PCRF_SELF, DIA_APP_GX, DIA_CMD_CCR, on_ccr, NULL);
}

/* ---- RAR to the PCEF -------------------------------------------------- */

struct push {
	char rx_sid[PCRF_SID_MAX];
	pcrf_rar_done done;
	void *arg;
};

/*
 * An Rx Flow-Description names the direction from the UE's side ("in":
 * uplink, "out": downlink, TS 29.214 5.3.8); on Gx every filter is
 * written "permit out" with its Flow-Direction (TS 29.212 5.3.8, 5.3.65).
 */
static void add_flow(struct dia_avp *def, const char *rx_flow)
{
	struct dia_avp *fi = dia->add_group(def, "Flow-Information");
	char gx_flow[PCRF_FLOW_MAX];
	uint32_t dir = GX_DIR_DOWNLINK;

	if (!fi)
		return;
	if (strncmp(rx_flow, "permit in ", 10) == 0) {
		snprintf(gx_flow, sizeof(gx_flow), "permit out %s",
			 rx_flow + 10);
		dir = GX_DIR_UPLINK;
	} else {
		snprintf(gx_flow, sizeof(gx_flow), "%s", rx_flow);
	}
	dia->add_str(fi, "Flow-Description", gx_flow, (size_t)-1);
	dia->add_u32(fi, "Flow-Direction", dir);
}

static void add_rule(struct dia_avp *install, const struct pcrf_rx *rx,
		     const struct pcrf_rule *r)
{
	struct dia_avp *def =
		dia->add_group(install, "Charging-Rule-Definition");
	struct dia_avp *q, *flows;

	if (!def)
		return;
	dia->add_str(def, "Charging-Rule-Name", r->name, (size_t)-1);
	for (unsigned f = 0; f < r->nflows; f++)
		add_flow(def, r->flows[f]);
	dia->add_u32(def, "Flow-Status", r->flow_status);
	q = dia->add_group(def, "QoS-Information");
	if (q) {
		dia->add_u32(q, "QoS-Class-Identifier", r->qci);
		dia->add_u32(q, "Max-Requested-Bandwidth-UL", r->mbr_ul);
		dia->add_u32(q, "Max-Requested-Bandwidth-DL", r->mbr_dl);
		if (r->gbr_ul || r->gbr_dl) {
			dia->add_u32(q, "Guaranteed-Bitrate-UL", r->gbr_ul);
			dia->add_u32(q, "Guaranteed-Bitrate-DL", r->gbr_dl);
		}
		add_arp(q, r->arp, r->preempt_cap, r->preempt_vuln);
	}
	dia->add_u32(def, "Precedence", 100 + r->mc_number);
	if (rx->icid[0])
		dia->add_str(def, "AF-Charging-Identifier", rx->icid,
			     (size_t)-1);
	flows = dia->add_group(def, "Flows");
	if (flows)
		dia->add_u32(flows, "Media-Component-Number", r->mc_number);
}

/* Rules the PCEF says it could not install (TS 29.212 4.5.12). */
static unsigned raa_failed_rules(struct dia_msg *ans)
{
	unsigned n = 0;

	for (struct dia_avp *rep =
		     dia->find(dia->root(ans), "Charging-Rule-Report");
	     rep; rep = dia->find_next(rep)) {
		uint32_t status = GX_RULE_ACTIVE;

		dia->find_u32(rep, "PCC-Rule-Status", &status);
		if (status != GX_RULE_ACTIVE)
			n++;
	}
	return n;
}

static void on_raa(struct dia_msg *ans, int status, void *arg)
{
	struct push *p = arg;
	uint32_t vendor = 0, code = 0;
	int result = status ? status : -EIO;

	if (ans && dia->result(ans, &vendor, &code) == 0)
		result = code == DIA_SUCCESS ? 0 : (int)code;
	if (ans && result == 0 && raa_failed_rules(ans)) {
		pcrf_host->counter_add(pcrf_cnt.rule_failures, 1);
		result = DIA_UNABLE_TO_COMPLY;
	}
	if (result)
		tnd_notice("Gx RAA for %s: %d", p->rx_sid, result);
	if (p->done)
		p->done(p->rx_sid, result, p->arg);
	free(p);
}

int pcrf_gx_push(struct pcrf_gx *gx, const struct pcrf_rx *rx,
		 const struct pcrf_rule *install, unsigned ninstall,
		 const char *const *remove, unsigned nremove,
		 pcrf_rar_done done, void *arg)
{
	struct dia_msg *req;
	struct push *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	req = dia->request_new(DIA_APP_GX, DIA_CMD_RAR, gx->sid,
			       gx->pcef_realm[0] ? gx->pcef_realm : NULL,
			       gx->pcef_host[0] ? gx->pcef_host : NULL);
	if (!req) {
		free(p);
		return -ENOMEM;
	}
	snprintf(p->rx_sid, sizeof(p->rx_sid), "%s", rx->sid);
	p->done = done;
	p->arg = arg;
	dia->add_u32(dia->root(req), "Re-Auth-Request-Type", 0);
	if (nremove) {
		struct dia_avp *rm =
			dia->add_group(dia->root(req), "Charging-Rule-Remove");

		for (unsigned i = 0; rm && i < nremove; i++)
			dia->add_str(rm, "Charging-Rule-Name", remove[i],
				     (size_t)-1);
	}
	if (ninstall) {
		struct dia_avp *in =
			dia->add_group(dia->root(req), "Charging-Rule-Install");

		for (unsigned i = 0; in && i < ninstall; i++)
			add_rule(in, rx, &install[i]);
	}
	pcrf_host->counter_add(pcrf_cnt.rar_gx, 1);
	/* send() takes the request even when it fails; on_raa then never
	 * runs, so p is ours to free */
	if (dia->send(req, (uint32_t)pcrf_cfg->rar_timeout_ms, on_raa, p)) {
		free(p);
		return -EIO;
	}
	return 0;
}
