/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf: the media gateway control function of a PSTN gateway node, a
 * B2BUA between SIP (the sip service) and ISDN PRI (the pri service),
 * with the mgw service for the media and, when loaded, the bgcf service
 * for routing. 3GPP TS 29.163 and RFC 3398 describe the interworking;
 * docs/pstn.md the call flows, the cause table and the numbering rules.
 *
 * [mgcf] holds the SIP side's settings; [trunk NAME] sections group spans
 * into trunk groups, each with its hunting and numbering rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgcf_int.h"

struct mgcf_globals mgcf;

static const struct tnd_param mgcf_params[] = {
	TND_PARAM("domain", TND_STR, struct mgcf_cfg, domain, "ims.lab",
		  "host part of the URIs made for numbers "
		  "(sip:+E164@domain;user=phone) and of our Call-IDs"),
	TND_PARAM("contact", TND_STR, struct mgcf_cfg, contact,
		  "sip:mgcf@127.0.0.1:5060",
		  "our Contact URI: where the dialog's requests come"),
	TND_PARAM("sip_next_hop", TND_STR, struct mgcf_cfg, sip_next_hop, "",
		  "where calls from the circuit go, PROTO:IP:PORT (the "
		  "I-CSCF or S-CSCF); a [trunk] may name its own"),
	TND_PARAM("uri_form", TND_ENUM, struct mgcf_cfg, uri_form, "sip",
		  "Request-URI of calls from the circuit: "
		  "sip:+E164@domain;user=phone or tel:+E164",
		  .choices = "sip|tel"),
	TND_PARAM("trunk", TND_STR, struct mgcf_cfg, trunk, "",
		  "the [trunk] of calls from IMS when no bgcf plugin routes "
		  "them"),
	TND_PARAM("prack", TND_ENUM, struct mgcf_cfg, prack, "supported",
		  "reliable provisional responses (RFC 3262): no, supported "
		  "(used when the peer allows), required in our INVITEs",
		  .choices = "no|supported|required"),
	TND_PARAM("early_media", TND_BOOL, struct mgcf_cfg, early_media,
		  "yes",
		  "in-band information on the circuit (progress indicator "
		  "8) becomes a 183 with SDP and media toward IMS"),
	TND_PARAM("early_through", TND_ENUM, struct mgcf_cfg, early_through,
		  "to-ip",
		  "media before the answer: from the circuit only, or both "
		  "ways (in-band menus that want digits)",
		  .choices = "to-ip|both"),
	TND_PARAM("cancel_poll_ms", TND_UINT, struct mgcf_cfg, cancel_poll_ms,
		  "250",
		  "with a sip service older than 1.1 (no CANCEL event): "
		  "while a call from IMS rings, repeat its last provisional "
		  "this often to learn of a CANCEL",
		  .min = 20, .max = 10000),
	TND_PARAM("overlap_timeout_ms", TND_UINT, struct mgcf_cfg,
		  overlap_timeout_ms, "4000",
		  "overlap receiving: the called number is complete when no "
		  "digit came for this long",
		  .min = 100, .max = 60000),
	TND_PARAM("max_calls", TND_UINT, struct mgcf_cfg, max_calls, "4096",
		  "calls at once; beyond, 503 / cause 42", .min = 1,
		  .max = 1000000),
	TND_PARAM("trust_domain", TND_BOOL, struct mgcf_cfg, trust_domain,
		  "yes",
		  "we and our SIP peers are a trust domain (RFC 3325): "
		  "P-Asserted-Identity is sent and believed"),
	TND_PARAM("ack_timeout_ms", TND_UINT, struct mgcf_cfg, ack_timeout_ms,
		  "32000",
		  "a 200 without ACK for this long ends the call (64*T1)",
		  .min = 1000, .max = 120000),
	TND_PARAM("min_se_s", TND_UINT, struct mgcf_cfg, min_se_s, "90",
		  "session timers (RFC 4028): the shortest Session-Expires "
		  "accepted from IMS (our Min-SE); shorter ones get 422",
		  .min = 1, .max = 86400),
	TND_PARAM("t38", TND_BOOL, struct mgcf_cfg, t38, "yes",
		  "a fax tone on an answered call re-INVITEs IMS to T.38 "
		  "(T.38 Annex D); the mgw's t38 must allow it"),
	TND_PARAM_END
};

static const struct tnd_param trunk_params[] = {
	TND_PARAM("spans", TND_STR, struct mgcf_trunk_cfg, spans, NULL,
		  "the spans of the group, e.g. 1,2 or 1-4",
		  .flags = TND_PARAM_REQUIRED),
	TND_PARAM("hunt", TND_ENUM, struct mgcf_trunk_cfg, hunt, "sequential",
		  "which span a call to the group tries first",
		  .choices = "sequential|roundrobin|least"),
	TND_PARAM("country_code", TND_STR, struct mgcf_trunk_cfg,
		  country_code, "", "E.164 country code of the trunk, e.g. 44"),
	TND_PARAM("national_prefix", TND_STR, struct mgcf_trunk_cfg,
		  national_prefix, "0", "trunk prefix of national numbers"),
	TND_PARAM("international_prefix", TND_STR, struct mgcf_trunk_cfg,
		  international_prefix, "00",
		  "prefix of international numbers"),
	TND_PARAM("area_code", TND_STR, struct mgcf_trunk_cfg, area_code, "",
		  "area code of subscriber numbers"),
	TND_PARAM("ddi_prefix", TND_STR, struct mgcf_trunk_cfg, ddi_prefix, "",
		  "+E.164 prefix of a PBX's direct dialling-in range, e.g. "
		  "+44207946"),
	TND_PARAM("ddi_digits", TND_UINT, struct mgcf_trunk_cfg, ddi_digits,
		  "0", "digits of an extension in the DDI range; 0: none",
		  .min = 0, .max = 8),
	TND_PARAM("called_format", TND_ENUM, struct mgcf_trunk_cfg,
		  called_format, "national",
		  "how called numbers are sent on the trunk",
		  .choices = "unknown|international|national|subscriber|ddi"),
	TND_PARAM("calling_format", TND_ENUM, struct mgcf_trunk_cfg,
		  calling_format, "national",
		  "how calling numbers are sent on the trunk",
		  .choices = "unknown|international|national|subscriber|ddi"),
	TND_PARAM("sip_next_hop", TND_STR, struct mgcf_trunk_cfg,
		  sip_next_hop, "",
		  "where this trunk's calls go in IMS; empty: [mgcf]'s"),
	TND_PARAM("called_digits", TND_UINT, struct mgcf_trunk_cfg,
		  called_digits, "0",
		  "overlap receiving: a called number of this many digits "
		  "is complete; 0: wait for sending complete or the timer",
		  .min = 0, .max = 32),
	TND_PARAM_END
};

/* ---- Trunks ---------------------------------------------------------------- */

struct mgcf_trunk *mgcf_trunk_by_name(const char *name)
{
	for (unsigned i = 0; i < mgcf.ntrunks; i++)
		if (strcmp(mgcf.trunks[i].name, name) == 0)
			return &mgcf.trunks[i];
	return NULL;
}

struct mgcf_trunk *mgcf_trunk_of_span(int span)
{
	for (unsigned i = 0; i < mgcf.ntrunks; i++)
		for (unsigned k = 0; k < mgcf.trunks[i].nspans; k++)
			if (mgcf.trunks[i].spans[k] == span)
				return &mgcf.trunks[i];
	return NULL;
}

/* "1,2" or "1-4,7": span numbers. */
static int parse_spans(struct mgcf_trunk *t)
{
	char copy[128], *save = NULL, *w;

	snprintf(copy, sizeof(copy), "%s", t->cfg.spans);
	t->nspans = 0;
	for (w = strtok_r(copy, ", ", &save); w;
	     w = strtok_r(NULL, ", ", &save)) {
		char *end;
		long a = strtol(w, &end, 10), b = a;

		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		if (*end || a < 1 || b < a || b > 255)
			return -EINVAL;
		for (long s = a; s <= b; s++) {
			if (t->nspans == MGCF_TRUNK_SPANS ||
			    mgcf_trunk_of_span((int)s))
				return -EINVAL;
			t->spans[t->nspans++] = (int)s;
		}
	}
	return t->nspans ? 0 : -EINVAL;
}

static void fill_plan(struct mgcf_trunk *t)
{
	struct mgcf_numplan *p = &t->plan;
	const struct mgcf_trunk_cfg *c = &t->cfg;

	snprintf(p->country_code, sizeof(p->country_code), "%s",
		 c->country_code);
	snprintf(p->national_prefix, sizeof(p->national_prefix), "%s",
		 c->national_prefix);
	snprintf(p->international_prefix, sizeof(p->international_prefix),
		 "%s", c->international_prefix);
	snprintf(p->area_code, sizeof(p->area_code), "%s", c->area_code);
	snprintf(p->ddi_prefix, sizeof(p->ddi_prefix), "%s", c->ddi_prefix);
	p->ddi_digits = (unsigned)c->ddi_digits;
	p->called_format = (enum mgcf_numfmt)mgcf_numfmt_parse(
		c->called_format);
	p->calling_format = (enum mgcf_numfmt)mgcf_numfmt_parse(
		c->calling_format);
	t->hunt = strcmp(c->hunt, "roundrobin") == 0 ? HUNT_ROUNDROBIN
		  : strcmp(c->hunt, "least") == 0    ? HUNT_LEAST
						     : HUNT_SEQUENTIAL;
}

static int parse_trunk(const char *section, void *arg)
{
	int *errors = arg;
	struct mgcf_trunk *t;
	const char *name = section + strlen("trunk");

	name += strspn(name, " ");
	if (strcmp(section, "trunk") == 0 || !*name) {
		mgcf.host->config_error(section, NULL, "[%s]: a trunk group is "
					"[trunk NAME]", section);
		(*errors)++;
		return 0;
	}
	if (mgcf.ntrunks == MGCF_TRUNKS_MAX) {
		mgcf.host->config_error(section, NULL, "more than %d trunks",
					MGCF_TRUNKS_MAX);
		(*errors)++;
		return 1;
	}
	t = &mgcf.trunks[mgcf.ntrunks];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->section, sizeof(t->section), "%s", section);
	if (mgcf.host->parse_section(section, trunk_params, &t->cfg)) {
		(*errors)++;
		return 0;
	}
	if (parse_spans(t) < 0) {
		mgcf.host->config_error(section, "spans", "[%s] spans = %s: "
					"span numbers 1..255 like 1,2 or 1-4, "
					"each in one trunk only", section,
					t->cfg.spans);
		(*errors)++;
		return 0;
	}
	fill_plan(t);
	mgcf.ntrunks++;
	return 0;
}

/* ---- Lifecycle -------------------------------------------------------------------- */

static int mgcf_init(const struct tnd_host_api *api, void *config)
{
	int errors = 0;

	mgcf.host = api;
	mgcf.cfg = config;
	mgcf.ntrunks = 0;
	api->for_each_section("trunk", parse_trunk, &errors);
	if (errors)
		return -EINVAL;
	if (mgcf.cfg->trunk[0]) {
		mgcf.default_trunk = mgcf_trunk_by_name(mgcf.cfg->trunk);
		if (!mgcf.default_trunk)
			return api->config_error("mgcf", "trunk", "trunk = %s: "
						 "no [trunk %s]",
						 mgcf.cfg->trunk,
						 mgcf.cfg->trunk);
	} else if (mgcf.ntrunks == 1) {
		mgcf.default_trunk = &mgcf.trunks[0];
	}
	mgcf.c_from_ims = api->counter_new(MGCF_SELF, "calls_from_ims",
					   "calls from IMS (INVITE)");
	mgcf.c_from_pstn = api->counter_new(MGCF_SELF, "calls_from_pstn",
					    "calls from the circuit (SETUP)");
	mgcf.c_answered = api->counter_new(MGCF_SELF, "answered",
					   "calls answered");
	mgcf.c_failed = api->counter_new(MGCF_SELF, "failed",
					 "calls cleared before an answer");
	mgcf.c_no_circuit = api->counter_new(MGCF_SELF, "no_circuit",
					     "calls from IMS with no free "
					     "B-channel on their trunks");
	mgcf.c_cancelled = api->counter_new(MGCF_SELF, "cancelled",
					    "calls from IMS cancelled");
	mgcf.c_proxied = api->counter_new(MGCF_SELF, "proxied",
					  "INVITEs the bgcf sent to a SIP "
					  "peer or another BGCF");
	return mgcf_latency_init();
}

static int mgcf_start(void)
{
	int rc;

	mgcf.sip = mgcf.host->service_get(SIP_SERVICE_NAME,
					  SIP_SERVICE_VERSION);
	mgcf.pri = mgcf.host->service_get(TND_PRI_SERVICE,
					  TND_PRI_SERVICE_VERSION);
	mgcf.mgw = mgcf.host->service_get(MGW_SERVICE, MGW_SERVICE_VERSION);
	mgcf.bgcf = mgcf.host->service_get(BGCF_SERVICE, BGCF_SERVICE_VERSION);
	if (!mgcf.sip || !mgcf.pri || !mgcf.mgw)
		return -ENODEV;
	for (unsigned i = 0; i < mgcf.ntrunks; i++)
		tnd_info("trunk %s: spans %s, hunt %s, +%s, called %s, "
			 "calling %s", mgcf.trunks[i].name,
			 mgcf.trunks[i].cfg.spans, mgcf.trunks[i].cfg.hunt,
			 mgcf.trunks[i].cfg.country_code,
			 mgcf.trunks[i].cfg.called_format,
			 mgcf.trunks[i].cfg.calling_format);
	if (!mgcf.bgcf && !mgcf.default_trunk)
		tnd_notice("no bgcf plugin and no [mgcf] trunk: calls from "
			   "IMS have nowhere to go");
	rc = mgcf_pri_start();
	if (rc == 0)
		rc = mgcf_sip_start();
	return rc;
}

/* Calls still up are cleared (cause 41); the node waits for them. */
static int mgcf_stop(void)
{
	mgcf_sip_stop();
	mgcf.stopping = true;
	mgcf_call_release_all(Q850_TEMPORARY_FAILURE);
	return mgcf.calls ? TND_STOP_PENDING : 0;
}

static void mgcf_fini(void)
{
	struct mgcf_call *c = mgcf.calls, *next;

	if (mgcf.pri)
		mgcf_pri_stop();
	for (; c; c = next) { /* what the stop timeout left behind */
		next = c->next;
		free(c);
	}
	mgcf_latency_fini();
	memset(&mgcf, 0, sizeof(mgcf));
}

static const char *const mgcf_sections[] = { "trunk", NULL };

static const struct tnd_service_ref mgcf_requires[] = {
	{ SIP_SERVICE_NAME, SIP_SERVICE_VERSION },
	{ TND_PRI_SERVICE, TND_PRI_SERVICE_VERSION },
	{ MGW_SERVICE, MGW_SERVICE_VERSION },
	TND_SERVICE_END
};

static const struct tnd_service_ref mgcf_uses[] = {
	{ BGCF_SERVICE, BGCF_SERVICE_VERSION },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(mgcf) = {
	TND_PLUGIN_HEADER,
	.name = "mgcf",
	.version = "1.0",
	.description = "MGCF: SIP <-> ISDN PRI call control (TS 29.163, RFC "
		       "3398), trunk groups and numbering",
	.requires = mgcf_requires,
	.params = mgcf_params,
	.cfg_size = sizeof(struct mgcf_cfg),
	.commands = mgcf_commands,
	.sections = mgcf_sections,
	.init = mgcf_init,
	.start = mgcf_start,
	.stop = mgcf_stop,
	.fini = mgcf_fini,
	.uses = mgcf_uses,
};
