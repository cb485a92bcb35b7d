/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcscf: the proxy CSCF, first hop of UEs, PBXs and SBCs (TS 24.229 5.2):
 * REGISTER to the home network with Path (pcscf_register.c), the
 * registration cache (pcscf_reg.c), asserted identity, Service-Route and
 * emergency routing (pcscf_route.c), security agreement
 * (pcscf_secagree.c), the reg event subscription (pcscf_regevent.c) and
 * the Rx hooks (pcscf_rx.c, service "rx" of tandem/rx.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pcscf_int.h"

const struct tnd_host_api *pcscf_host;
const struct sip_service *sip;
struct pcscf_cfg *pcscf_cfg;
struct pcscf_counters pcscf_cnt;
const struct rx_service *rx;

static const struct tnd_param pcscf_params[] = {
	TND_PARAM("name", TND_STR, struct pcscf_cfg, name,
		  "sip:pcscf.ims.lab:5060",
		  "SIP URI of this P-CSCF: its Path, and Contact with "
		  "ue_contact = name (the sip plugin must listen there)"),
	TND_PARAM("icscf", TND_STR, struct pcscf_cfg, icscf,
		  "sip:icscf.ims.lab:4060",
		  "entry point of the home network REGISTERs go to"),
	TND_PARAM("visited_network_id", TND_STR, struct pcscf_cfg,
		  visited_network_id, "ims.lab",
		  "P-Visited-Network-ID of this P-CSCF's network"),
	TND_PARAM("emergency_route", TND_STR, struct pcscf_cfg, emergency_route,
		  "",
		  "SIP URI emergency requests (urn:service:sos) go to "
		  "(empty: 503)"),
	TND_PARAM("emergency_numbers", TND_STR, struct pcscf_cfg,
		  emergency_numbers, "112 911",
		  "numbers that are emergency calls besides urn:service:sos "
		  "and sip:sos@ (space separated)"),
	TND_PARAM("emergency_unregistered", TND_BOOL, struct pcscf_cfg,
		  emergency_unregistered, "yes",
		  "route emergency requests of UEs that are not registered "
		  "(TS 24.229 5.2.10)"),
	TND_PARAM("subscribe_reg_event", TND_BOOL, struct pcscf_cfg,
		  subscribe_reg_event, "yes",
		  "subscribe to the reg event of every UE registered "
		  "(RFC 3680, TS 24.229 5.2.3)"),
	TND_PARAM("reg_event_expires", TND_UINT, struct pcscf_cfg,
		  reg_event_expires, "3600",
		  "reg event subscription lifetime asked, seconds", .min = 60,
		  .max = 604800),
	TND_PARAM("sec_mechanisms", TND_STR, struct pcscf_cfg, sec_mechanisms,
		  "",
		  "security mechanisms offered to UEs (RFC 3329): tls "
		  "(needs a tls: listener); ipsec-3gpp is never offered "
		  "(no SA set-up; docs/ims.md)"),
	TND_PARAM("keepalive_s", TND_UINT, struct pcscf_cfg, keepalive_s, "0",
		  "send a CRLF keep-alive on each UE's flow this often "
		  "(RFC 5626 3.5.1), seconds; 0: none",
		  .max = 3600),
	TND_PARAM("ue_contact", TND_STR, struct pcscf_cfg, ue_contact,
		  "listener",
		  "Contact and Record-Route of the dialogs relayed: "
		  "\"listener\" (the address of the first SIP listener, which "
		  "UEs reach without DNS), or \"name\" (the name URI)"),
	TND_PARAM("dialog_max_s", TND_UINT, struct pcscf_cfg, dialog_max_s,
		  "43200", "relayed dialogs older than this are ended, seconds",
		  .min = 60, .max = 604800),
	TND_PARAM_END
};

static int make_counters(void)
{
	struct {
		struct tnd_counter **c;
		const char *name, *help;
	} list[] = {
		{ &pcscf_cnt.register_rx, "register", "REGISTER requests" },
		{ &pcscf_cnt.registered, "registered",
		  "registrations cached (200 OK)" },
		{ &pcscf_cnt.deregistered, "deregistered", "de-registrations" },
		{ &pcscf_cnt.orig, "orig", "originating requests" },
		{ &pcscf_cnt.term, "term", "terminating requests" },
		{ &pcscf_cnt.refused, "refused",
		  "requests of UEs not registered" },
		{ &pcscf_cnt.emergency, "emergency", "emergency requests" },
		{ &pcscf_cnt.reg_event_terminated, "reg_event_terminated",
		  "registrations ended by a reg event NOTIFY" },
		{ &pcscf_cnt.rx_aar, "rx_aar", "Rx sessions asked" },
		{ &pcscf_cnt.rx_str, "rx_str", "Rx sessions ended" },
	};

	for (size_t i = 0; i < IMS_ARRAY_SIZE(list); i++)
		if (!(*list[i].c = pcscf_host->counter_new(
			      PCSCF_SELF, list[i].name, list[i].help)))
			return -ENOMEM;
	return 0;
}

/* ---- SIP ----------------------------------------------------------------- */

static bool is_method(const struct sip_message *m, const char *name)
{
	struct sip_text t = sip->method(m);

	return t.len == strlen(name) && memcmp(t.ptr, name, t.len) == 0;
}

static enum sip_verdict on_request(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sip->request_message(req);

	(void)arg;
	if (is_method(m, "NOTIFY") && pcscf_regevent_notify(req, m))
		return SIP_TAKEN;
	pcscf_rx_in_dialog(m); /* an SDP offer inside a call: AAR */
	if (ims_dlg_handle(req, m))
		return SIP_TAKEN;
	if (is_method(m, "REGISTER")) {
		if (pcscf_register(req, m))
			sip->reply(req, 500, NULL, NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	return pcscf_route_request(req, m);
}

/* ---- Control commands ---------------------------------------------------- */

static int cmd_show(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return pcscf_host->reply_error(r, "pcscf show takes no "
						  "arguments");
	pcscf_host->reply_field(r, "name", "%s", pcscf_cfg->name);
	pcscf_host->reply_field(r, "icscf", "%s", pcscf_cfg->icscf);
	pcscf_host->reply_field_num(r, "registered",
				    (long long)pcscf_ue_count());
	pcscf_host->reply_field_num(r, "dialogs", (long long)ims_dlg_count());
	pcscf_host->reply_field_num(r, "relays", (long long)ims_fwd_count());
	pcscf_host->reply_field(
		r, "rx", "%s", rx ? "provider loaded" : "none (calls proceed)");
	return 0;
}

static void list_one(struct pcscf_ue *ue, void *arg)
{
	struct tnd_reply *r = arg;
	int64_t left = ue->expires_at - ims_now_s();

	pcscf_host->reply_record(r);
	pcscf_host->reply_field(r, "impu", "%s", ue->aor);
	pcscf_host->reply_field(r, "contact", "%s", ue->contact);
	pcscf_host->reply_field(r, "flow", "%s", ue->flow ? ue->flow : "");
	pcscf_host->reply_field(r, "asserted", "%s", ue->impus[0]);
	pcscf_host->reply_field_num(r, "identities", (long long)ue->nimpus);
	pcscf_host->reply_field_num(r, "expires_in", left > 0 ? left : 0);
	pcscf_host->reply_field(r, "reg_event", "%s",
				pcscf_regevent_active(ue) ? "subscribed" : "-");
}

static int cmd_list(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return pcscf_host->reply_error(r, "usage: pcscf "
						  "registrations");
	pcscf_ue_each(list_one, r);
	return 0;
}

static const struct tnd_command pcscf_commands[] = {
	{ "pcscf show", NULL, "settings and counts", cmd_show },
	{ "pcscf registrations", NULL,
	  "the registration cache: UEs, flows, asserted identities", cmd_list },
	TND_COMMAND_END
};

/* ---- Lifecycle ----------------------------------------------------------- */

static int check_config(void)
{
	if (strncasecmp(pcscf_cfg->name, "sip:", 4))
		return pcscf_host->config_error("pcscf", "name",
						"name must be a sip: URI");
	if (strncasecmp(pcscf_cfg->icscf, "sip:", 4))
		return pcscf_host->config_error("pcscf", "icscf",
						"icscf must be a sip: URI");
	if (pcscf_cfg->emergency_route[0] &&
	    strncasecmp(pcscf_cfg->emergency_route, "sip:", 4))
		return pcscf_host->config_error("pcscf", "emergency_route",
						"emergency_route must be a "
						"sip: URI");
	if (strcmp(pcscf_cfg->ue_contact, "listener") &&
	    strcmp(pcscf_cfg->ue_contact, "name"))
		return pcscf_host->config_error("pcscf", "ue_contact",
						"ue_contact is \"listener\" or "
						"\"name\"");
	return 0;
}

static struct ims_dlg_ops dlg_ops;
static struct tnd_timer *keepalive_timer;

static void on_ping_answer(struct sip_client *c, int status,
			   const struct sip_message *rsp, void *arg)
{
	(void)c, (void)status, (void)rsp, (void)arg;
}

/* The sip service sends no bare CRLF (RFC 5626 3.5.1): an OPTIONS over
 * the UE's flow keeps a NAT's binding as well. */
static void ping_ue(struct pcscf_ue *ue, void *arg)
{
	struct sip_request_spec spec = { .size = sizeof(spec) };
	char from[IMS_URI_MAX + 4], to[IMS_URI_MAX + 4];

	(void)arg;
	if (!ue->flow)
		return;
	ims_fmt(from, sizeof(from), "<%s>", pcscf_cfg->name);
	ims_fmt(to, sizeof(to), "<%s>", ue->contact);
	spec.method = "OPTIONS";
	spec.request_uri = ue->contact;
	spec.from = from;
	spec.to = to;
	spec.next_hop = ue->flow;
	sip->send_request(&spec, on_ping_answer, NULL, NULL);
}

static void on_keepalive(struct tnd_timer *t, void *arg)
{
	(void)t, (void)arg;
	pcscf_ue_each(ping_ue, NULL);
}

static int pcscf_init(const struct tnd_host_api *api, void *config)
{
	int rc;

	pcscf_host = api;
	pcscf_cfg = config;
	if ((rc = check_config()))
		return rc;
	if ((rc = ims_init(api, PCSCF_SELF, "pcscf", pcscf_cfg->name)))
		return rc;
	sip = ims.sip;
	ims.dialog_max_s = pcscf_cfg->dialog_max_s;
	rx = api->service_get(RX_SERVICE_NAME, RX_SERVICE_VERSION);
	if ((rc = make_counters()) || (rc = pcscf_reg_init()) ||
	    (rc = pcscf_route_init()) || (rc = pcscf_secagree_init()))
		return rc;
	pcscf_rx_init();
	pcscf_rx_dialog_ops(&dlg_ops);
	ims_dlg_set_ops(&dlg_ops);
	return 0;
}

static int pcscf_start(void)
{
	int rc = ims_start();

	/* TS 24.229 5.2.6.3.3, 5.2.7.2: the UE's route set names us */
	ims.record_route = true;
	if (strcmp(pcscf_cfg->ue_contact, "listener") == 0)
		ims_contact_from_listener();

	if (!rc)
		rc = sip->handler_add(NULL, SIP_HANDLER_CLAIM,
				      "path, sec-agree", on_request, NULL);
	if (!rc)
		rc = sip->handler_add("ACK", 0, NULL, on_request, NULL);
	if (!rc && pcscf_cfg->keepalive_s) {
		keepalive_timer =
			pcscf_host->timer_new(PCSCF_SELF, on_keepalive, NULL);
		rc = keepalive_timer ? pcscf_host->timer_start(
					       keepalive_timer,
					       pcscf_cfg->keepalive_s * 1000,
					       pcscf_cfg->keepalive_s * 1000)
				     : -ENOMEM;
	}
	if (!rc)
		tnd_notice("P-CSCF %s, home network entry %s%s",
			   pcscf_cfg->name, pcscf_cfg->icscf,
			   rx ? ", Rx provider loaded" : "");
	return rc;
}

static int pcscf_stop(void)
{
	sip->handler_remove(on_request, NULL);
	return 0;
}

static void pcscf_fini(void)
{
	if (keepalive_timer)
		pcscf_host->timer_free(keepalive_timer);
	keepalive_timer = NULL;
	ims_fini();
	pcscf_rx_fini();
	pcscf_reg_fini();
	pcscf_regevent_fini();
}

static const struct tnd_service_ref pcscf_requires[] = {
	{ SIP_SERVICE_NAME, SIP_SERVICE_VERSION }, TND_SERVICE_END
};

static const struct tnd_service_ref pcscf_uses[] = {
	{ RX_SERVICE_NAME, RX_SERVICE_VERSION }, TND_SERVICE_END
};

TND_PLUGIN_DEFINE(pcscf) = {
	TND_PLUGIN_HEADER,
	.name = "pcscf",
	.version = "0.1",
	.description = "IMS P-CSCF: Path, Service-Route, asserted identity, "
		       "registration cache",
	.requires = pcscf_requires,
	.params = pcscf_params,
	.cfg_size = sizeof(struct pcscf_cfg),
	.commands = pcscf_commands,
	.init = pcscf_init,
	.start = pcscf_start,
	.stop = pcscf_stop,
	.fini = pcscf_fini,
	.uses = pcscf_uses,
};
