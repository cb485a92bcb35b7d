/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scscf: the serving CSCF (TS 24.229 5.4): registrar with Digest-AKAv1-MD5
 * and SIP Digest over Cx (scscf_register.c, scscf_auth.c, scscf_cx.c),
 * registrations kept in SQLite (scscf_reg.c, scscf_store.c), the user
 * profile and its initial filter criteria (scscf_profile.c, scscf_ifc.c),
 * originating and terminating routing with application servers
 * (scscf_route.c), and the reg event package (scscf_regevent.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scscf_int.h"

const struct tnd_host_api *scscf_host;
const struct sip_service *sip;
const struct diameter_service *dia;
struct scscf_cfg *scscf_cfg;
struct scscf_counters scscf_cnt;

static struct tnd_timer *sweep_timer;

static const struct tnd_param scscf_params[] = {
	TND_PARAM("name", TND_STR, struct scscf_cfg, name,
		  "sip:scscf.ims.lab:6060",
		  "SIP URI of this S-CSCF: its Server-Name at the HSS, "
		  "Service-Route and Contact (the sip plugin must listen "
		  "there)"),
	TND_PARAM("realm", TND_STR, struct scscf_cfg, realm, "ims.lab",
		  "home network domain: Digest realm, the domain of the "
		  "users served"),
	TND_PARAM("db_path", TND_STR, struct scscf_cfg, db_path,
		  "/var/lib/tandem/scscf.db",
		  "SQLite file of the registrations (made and migrated on "
		  "start)"),
	TND_PARAM("default_expires", TND_UINT, struct scscf_cfg,
		  default_expires, "600",
		  "registration lifetime when the REGISTER names none, "
		  "seconds",
		  .min = 1, .max = 604800),
	TND_PARAM("min_expires", TND_UINT, struct scscf_cfg, min_expires, "60",
		  "shortest registration accepted (else 423), seconds",
		  .min = 1, .max = 604800),
	TND_PARAM("max_expires", TND_UINT, struct scscf_cfg, max_expires,
		  "3600", "longest registration granted, seconds", .min = 1,
		  .max = 604800),
	TND_PARAM("auth_timeout_s", TND_UINT, struct scscf_cfg, auth_timeout_s,
		  "30",
		  "reg-await-auth: how long a challenge waits for its "
		  "answer, seconds",
		  .min = 1, .max = 600),
	TND_PARAM("max_contacts", TND_UINT, struct scscf_cfg, max_contacts,
		  "10", "bindings per registered identity", .min = 1,
		  .max = 16),
	TND_PARAM("reauth_protected", TND_BOOL, struct scscf_cfg,
		  reauth_protected, "yes",
		  "challenge re-registrations the P-CSCF marks as "
		  "integrity protected too (TS 24.229 5.4.1.2.1 allows "
		  "skipping it)"),
	TND_PARAM("icscf", TND_STR, struct scscf_cfg, icscf, "",
		  "SIP URI of the I-CSCF requests to home users go to "
		  "(empty: served here when registered here, else 404)"),
	TND_PARAM("bgcf", TND_STR, struct scscf_cfg, bgcf, "",
		  "SIP URI of the BGCF for tel: URIs and numbers that are "
		  "not ours (empty: 404)"),
	TND_PARAM("enum_prefixes", TND_STR, struct scscf_cfg, enum_prefixes, "",
		  "E.164 prefixes of our own numbers (space separated, "
		  "e.g. +1555): tel:+1555... becomes sip:+1555...@domain"),
	TND_PARAM("enum_domain", TND_STR, struct scscf_cfg, enum_domain, "",
		  "domain of translated numbers (empty: realm)"),
	TND_PARAM("as_timeout_ms", TND_UINT, struct scscf_cfg, as_timeout_ms,
		  "4000",
		  "an application server that sends no final answer in "
		  "this time gets its iFC's default handling",
		  .min = 100, .max = 64000),
	TND_PARAM("vectors", TND_UINT, struct scscf_cfg, vectors, "1",
		  "AKA vectors asked per MAR; the spare ones serve the same "
		  "private identity's next challenges (at most 4, 300 s)",
		  .min = 1, .max = 5),
	TND_PARAM("reg_event_expires", TND_UINT, struct scscf_cfg,
		  reg_event_expires, "3600",
		  "longest reg event subscription granted, seconds", .min = 1,
		  .max = 604800),
	TND_PARAM("dialog_max_s", TND_UINT, struct scscf_cfg, dialog_max_s,
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
		{ &scscf_cnt.register_rx, "register", "REGISTER requests" },
		{ &scscf_cnt.challenges, "challenges", "401 challenges sent" },
		{ &scscf_cnt.auth_ok, "auth_ok", "authentications passed" },
		{ &scscf_cnt.auth_failed, "auth_failed",
		  "wrong answers (403)" },
		{ &scscf_cnt.resyncs, "resyncs", "AUTS re-synchronisations" },
		{ &scscf_cnt.stale, "stale",
		  "answers to an unknown or used nonce" },
		{ &scscf_cnt.registered, "registered",
		  "registrations and re-registrations" },
		{ &scscf_cnt.deregistered, "deregistered", "de-registrations" },
		{ &scscf_cnt.expired, "expired", "registrations expired" },
		{ &scscf_cnt.mar, "mar", "MAR sent" },
		{ &scscf_cnt.sar, "sar", "SAR sent" },
		{ &scscf_cnt.cx_errors, "cx_errors",
		  "Cx requests not answered or unusable" },
		{ &scscf_cnt.rtr, "rtr", "RTR received" },
		{ &scscf_cnt.ppr, "ppr", "PPR received" },
		{ &scscf_cnt.orig, "orig", "originating requests" },
		{ &scscf_cnt.term, "term", "terminating requests" },
		{ &scscf_cnt.as_routed, "as_routed",
		  "requests sent to an application server" },
		{ &scscf_cnt.as_failed, "as_failed",
		  "application servers that did not answer" },
		{ &scscf_cnt.bgcf, "bgcf", "requests sent to the BGCF" },
		{ &scscf_cnt.notify, "notify", "reg event NOTIFYs sent" },
		{ &scscf_cnt.third_party, "third_party",
		  "third-party REGISTERs sent" },
		{ &scscf_cnt.spare_vectors, "spare_vectors",
		  "challenges made with a spare AKA vector (no MAR)" },
	};

	for (size_t i = 0; i < IMS_ARRAY_SIZE(list); i++) {
		*list[i].c = scscf_host->counter_new(SCSCF_SELF, list[i].name,
						     list[i].help);
		if (!*list[i].c)
			return -ENOMEM;
	}
	return 0;
}

/* ---- SIP ----------------------------------------------------------------- */

static bool is_method(const struct sip_message *m, const char *name)
{
	struct sip_text t = sip->method(m);

	return t.len == strlen(name) && memcmp(t.ptr, name, t.len) == 0;
}

static bool is_reg_event(const struct sip_message *m)
{
	struct sip_text v;

	return sip->header(m, "Event", 0, &v) == 0 && v.len >= 3 &&
	       strncasecmp(v.ptr, "reg", 3) == 0 &&
	       (v.len == 3 || v.ptr[3] == ';' || v.ptr[3] == ' ');
}

static enum sip_verdict on_request(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sip->request_message(req);

	(void)arg;
	/* reg event subscriptions end here, refreshes included */
	if (is_method(m, "SUBSCRIBE") && is_reg_event(m)) {
		if (scscf_regevent_subscribe(req, m))
			sip->reply(req, 500, NULL, NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	if (ims_dlg_handle(req, m))
		return SIP_TAKEN;
	if (is_method(m, "REGISTER")) {
		if (scscf_register(req, m))
			sip->reply(req, 500, NULL, NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	return scscf_route_request(req, m);
}

/* ---- Control commands ---------------------------------------------------- */

static int cmd_show(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return scscf_host->reply_error(r, "scscf show takes no "
						  "arguments");
	scscf_host->reply_field(r, "name", "%s", scscf_cfg->name);
	scscf_host->reply_field(r, "realm", "%s", scscf_cfg->realm);
	scscf_host->reply_field(r, "store", "%s", scscf_cfg->db_path);
	scscf_host->reply_field_num(r, "registrations",
				    (long long)scscf_reg_count());
	scscf_host->reply_field_num(r, "challenges",
				    (long long)scscf_auth_count());
	scscf_host->reply_field_num(r, "dialogs", (long long)ims_dlg_count());
	scscf_host->reply_field_num(r, "relays", (long long)ims_fwd_count());
	return 0;
}

struct list_ctx {
	struct tnd_reply *r;
	int64_t now;
};

static void list_one(struct scscf_reg *reg, void *arg)
{
	struct list_ctx *l = arg;
	int64_t first = 0;

	for (const struct scscf_contact *c = reg->contacts; c; c = c->next)
		if (!first || c->expires_at < first)
			first = c->expires_at;
	scscf_host->reply_record(l->r);
	scscf_host->reply_field(l->r, "impu", "%s", reg->impu);
	scscf_host->reply_field(l->r, "impi", "%s", reg->impi);
	scscf_host->reply_field(l->r, "state", "%s",
				reg->state == REG_REGISTERED ? "registered"
				: reg->state == REG_UNREGISTERED
					? "unregistered"
					: "not-registered");
	scscf_host->reply_field_num(l->r, "contacts",
				    (long long)scscf_reg_contacts(reg));
	scscf_host->reply_field_num(l->r, "expires_in",
				    first > l->now ? first - l->now : 0);
	scscf_host->reply_field_num(
		l->r, "ifcs",
		reg->profile ? (long long)reg->profile->nifcs : 0);
}

static int cmd_list(struct tnd_reply *r, int argc, char **argv)
{
	struct list_ctx l = { r, ims_now_s() };

	(void)argv;
	if (argc)
		return scscf_host->reply_error(r, "usage: scscf "
						  "registrations");
	scscf_reg_each(list_one, &l);
	return 0;
}

static int cmd_reg(struct tnd_reply *r, int argc, char **argv)
{
	struct scscf_reg *reg;
	char aor[IMS_URI_MAX];
	int64_t now = ims_now_s();

	if (argc != 1)
		return scscf_host->reply_error(r, "usage: scscf registration "
						  "IMPU");
	if (ims_aor(argv[0], aor, sizeof(aor)) || !(reg = scscf_reg_find(aor)))
		return scscf_host->reply_error(r, "%s is not registered here",
					       argv[0]);
	scscf_host->reply_field(r, "impu", "%s", reg->impu);
	scscf_host->reply_field(r, "impi", "%s", reg->impi);
	for (size_t i = 0; reg->profile && i < reg->profile->nimpus; i++)
		scscf_host->reply_field(
			r, "implicit", "%s%s", reg->profile->impus[i],
			reg->profile->barred[i] ? " (barred)" : "");
	for (size_t i = 0; reg->profile && i < reg->profile->nifcs; i++)
		scscf_host->reply_field(r, "ifc", "%d %s",
					reg->profile->ifcs[i].priority,
					reg->profile->ifcs[i].as_uri);
	for (const struct scscf_contact *c = reg->contacts; c; c = c->next) {
		scscf_host->reply_record(r);
		scscf_host->reply_field(r, "contact", "%s", c->uri);
		scscf_host->reply_field_num(
			r, "expires_in",
			c->expires_at > now ? c->expires_at - now : 0);
		scscf_host->reply_field(r, "path", "%s",
					c->path ? c->path : "");
	}
	return 0;
}

static int cmd_deregister(struct tnd_reply *r, int argc, char **argv)
{
	struct scscf_reg *reg;
	char aor[IMS_URI_MAX];

	if (argc != 1)
		return scscf_host->reply_error(r, "usage: scscf deregister "
						  "IMPU");
	if (ims_aor(argv[0], aor, sizeof(aor)) || !(reg = scscf_reg_find(aor)))
		return scscf_host->reply_error(r, "%s is not registered here",
					       argv[0]);
	scscf_reg_terminate(reg, SAR_ADMINISTRATIVE_DEREGISTRATION,
			    "deactivated", "administrative de-registration");
	scscf_host->reply_text(r, "de-registered\n");
	return 0;
}

static const struct tnd_command scscf_commands[] = {
	{ "scscf show", NULL, "settings and counts", cmd_show },
	{ "scscf registrations", NULL, "every registration served here",
	  cmd_list },
	{ "scscf registration", "IMPU",
	  "one registration: implicit set, iFCs, contacts", cmd_reg },
	{ "scscf deregister", "IMPU",
	  "network-initiated de-registration (SAR, reg event)",
	  cmd_deregister },
	TND_COMMAND_END
};

/* ---- Lifecycle ----------------------------------------------------------- */

static int check_config(void)
{
	if (strncasecmp(scscf_cfg->name, "sip:", 4) != 0)
		return scscf_host->config_error("scscf", "name",
						"name must be a sip: URI");
	if (scscf_cfg->min_expires > scscf_cfg->max_expires)
		return scscf_host->config_error("scscf", "min_expires",
						"min_expires is above "
						"max_expires");
	if (scscf_cfg->icscf[0] && strncasecmp(scscf_cfg->icscf, "sip:", 4))
		return scscf_host->config_error("scscf", "icscf",
						"icscf must be a sip: URI");
	if (scscf_cfg->bgcf[0] && strncasecmp(scscf_cfg->bgcf, "sip:", 4))
		return scscf_host->config_error("scscf", "bgcf",
						"bgcf must be a sip: URI");
	return 0;
}

static int scscf_init(const struct tnd_host_api *api, void *config)
{
	int rc;

	scscf_host = api;
	scscf_cfg = config;
	if ((rc = check_config()))
		return rc;
	dia = api->service_get("diameter", DIAMETER_SERVICE_VERSION);
	if (!dia) {
		tnd_error("the diameter service is missing");
		return -ENOENT;
	}
	rc = ims_init(api, SCSCF_SELF, "scscf", scscf_cfg->name);
	if (rc)
		return rc;
	sip = ims.sip;
	ims.dialog_max_s = scscf_cfg->dialog_max_s;
	if ((rc = make_counters()) || (rc = scscf_cx_init()) ||
	    (rc = scscf_auth_init()) || (rc = scscf_reg_init()) ||
	    (rc = scscf_route_init()))
		return rc;
	return 0;
}

static void on_sweep(struct tnd_timer *t, void *arg)
{
	(void)t, (void)arg;
	scscf_auth_sweep();
}

static int scscf_start(void)
{
	int rc = scscf_store_open(scscf_cfg->db_path);

	if (rc)
		return rc;
	if ((rc = scscf_reg_load()) || (rc = scscf_regevent_restore()) ||
	    (rc = ims_start()))
		return rc;
	sweep_timer = scscf_host->timer_new(SCSCF_SELF, on_sweep, NULL);
	if (!sweep_timer)
		return -ENOMEM;
	scscf_host->timer_start(sweep_timer, 1000, 1000);
	rc = sip->handler_add(NULL, SIP_HANDLER_CLAIM, "path, sec-agree",
			      on_request, NULL);
	if (!rc)
		rc = sip->handler_add("ACK", 0, NULL, on_request, NULL);
	if (!rc)
		tnd_notice("S-CSCF %s serving %s", scscf_cfg->name,
			   scscf_cfg->realm);
	return rc;
}

static int scscf_stop(void)
{
	sip->handler_remove(on_request, NULL);
	if (sweep_timer)
		scscf_host->timer_stop(sweep_timer);
	return 0;
}

static void scscf_fini(void)
{
	ims_fini();
	scscf_route_fini();
	scscf_auth_fini();
	scscf_reg_fini();
	scscf_store_close();
	if (sweep_timer)
		scscf_host->timer_free(sweep_timer);
	sweep_timer = NULL;
}

static const struct tnd_service_ref scscf_requires[] = {
	{ SIP_SERVICE_NAME, SIP_SERVICE_VERSION },
	{ "diameter", DIAMETER_SERVICE_VERSION },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(scscf) = {
	TND_PLUGIN_HEADER,
	.name = "scscf",
	.version = "0.1",
	.description = "IMS S-CSCF: registrar with AKA, iFC service "
		       "triggering, session routing",
	.requires = scscf_requires,
	.params = scscf_params,
	.cfg_size = sizeof(struct scscf_cfg),
	.commands = scscf_commands,
	.init = scscf_init,
	.start = scscf_start,
	.stop = scscf_stop,
	.fini = scscf_fini,
};
