/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * icscf: the interrogating CSCF, front door of the home network
 * (TS 24.229 5.3). REGISTER: UAR to the HSS, then on to the S-CSCF the
 * HSS names, or one chosen from the capabilities it lists and our own
 * S-CSCF list (TS 29.228 6.1.1, 8.1). A request to a home user: LIR,
 * then on to the serving S-CSCF, or to one for the services of the
 * unregistered state; 404 for an unknown user, 480 for one not
 * registered (TS 29.228 6.1.4).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tandem/diameter.h"
#include "tandem/plugin.h"
#include "tandem/sip.h"

#include "ims.h"

#define TND_LOG_HOST host
#define TND_LOG_CATEGORY "icscf"

TND_PLUGIN_DECLARE(icscf);
#define SELF (&TND_PLUGIN_SYMBOL(icscf))

#define MAX_SCSCF 16
#define MAX_CAPS 16

struct icscf_cfg {
	char *name;
	char *realm;
	char *scscfs;
	unsigned long long dialog_max_s;
};

/* One S-CSCF we may choose, with its capabilities (TS 29.228 8.1.3). */
struct scscf_entry {
	char uri[IMS_URI_MAX];
	unsigned caps[MAX_CAPS];
	size_t ncaps;
};

static const struct tnd_host_api *host;
static const struct diameter_service *dia;
static struct icscf_cfg *cfg;
static struct scscf_entry scscfs[MAX_SCSCF];
static size_t nscscfs;

static struct {
	struct tnd_counter *register_rx, *uar, *lir, *forwarded, *refused;
	struct tnd_counter *scscf_failover, *hss_errors;
} cnt;

static const struct tnd_param icscf_params[] = {
	TND_PARAM("name", TND_STR, struct icscf_cfg, name,
		  "sip:icscf.ims.lab:4060",
		  "SIP URI of this I-CSCF (the sip plugin must listen there)"),
	TND_PARAM("realm", TND_STR, struct icscf_cfg, realm, "ims.lab",
		  "home network domain"),
	TND_PARAM("scscfs", TND_STR, struct icscf_cfg, scscfs, "",
		  "S-CSCFs to choose from when the HSS lists capabilities: "
		  "URI or URI=CAP,CAP..., space separated, in preference "
		  "order"),
	TND_PARAM("dialog_max_s", TND_UINT, struct icscf_cfg, dialog_max_s,
		  "43200", "relayed dialogs older than this are ended, seconds",
		  .min = 60, .max = 604800),
	TND_PARAM_END
};

/* ---- S-CSCF selection (TS 29.228 8.1.3) ---------------------------------- */

static int parse_scscfs(void)
{
	char *copy = strdup(cfg->scscfs), *save = NULL, *w;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (w = strtok_r(copy, " \t", &save); w && !rc;
	     w = strtok_r(NULL, " \t", &save)) {
		struct scscf_entry *e = &scscfs[nscscfs];
		char *eq = strchr(w, '='), *c, *csave = NULL;

		if (nscscfs == MAX_SCSCF || strncasecmp(w, "sip:", 4)) {
			rc = host->config_error("icscf", "scscfs",
						"'%s': want sip:URI[=CAP,...]",
						w);
			break;
		}
		if (eq)
			*eq = '\0';
		ims_fmt(e->uri, sizeof(e->uri), "%s", w);
		for (c = eq ? strtok_r(eq + 1, ",", &csave) : NULL;
		     c && e->ncaps < MAX_CAPS; c = strtok_r(NULL, ",", &csave))
			e->caps[e->ncaps++] = (unsigned)strtoul(c, NULL, 10);
		nscscfs++;
	}
	free(copy);
	return rc;
}

struct caps {
	unsigned mandatory[MAX_CAPS], optional[MAX_CAPS];
	size_t nmandatory, noptional;
	char names[MAX_SCSCF][IMS_URI_MAX]; /* Server-Name in the caps */
	size_t nnames;
};

static bool has_cap(const struct scscf_entry *e, unsigned cap)
{
	for (size_t i = 0; i < e->ncaps; i++)
		if (e->caps[i] == cap)
			return true;
	return false;
}

/*
 * The configured S-CSCF with every mandatory capability and the most
 * optional ones, not `avoid`; else the HSS's own Server-Name list.
 */
static const char *select_scscf(const struct caps *c, const char *avoid)
{
	const struct scscf_entry *best = NULL;
	size_t best_score = 0;

	for (size_t i = 0; i < nscscfs; i++) {
		const struct scscf_entry *e = &scscfs[i];
		bool all = true;
		size_t score = 1;

		if (avoid && strcasecmp(e->uri, avoid) == 0)
			continue;
		for (size_t k = 0; k < c->nmandatory; k++)
			all &= has_cap(e, c->mandatory[k]);
		if (!all)
			continue;
		for (size_t k = 0; k < c->noptional; k++)
			score += has_cap(e, c->optional[k]);
		if (score > best_score) {
			best = e;
			best_score = score;
		}
	}
	if (best)
		return best->uri;
	for (size_t i = 0; i < c->nnames; i++)
		if (!avoid || strcasecmp(c->names[i], avoid) != 0)
			return c->names[i];
	return NULL;
}

static void read_caps(struct dia_msg *ans, struct caps *c)
{
	struct dia_avp *g = dia->find(dia->root(ans), "Server-Capabilities");
	struct dia_avp *a;

	memset(c, 0, sizeof(*c));
	if (!g)
		return;
	for (a = dia->find(g, "Mandatory-Capability");
	     a && c->nmandatory < MAX_CAPS; a = dia->find_next(a))
		dia->get_u32(a, &c->mandatory[c->nmandatory++]);
	for (a = dia->find(g, "Optional-Capability");
	     a && c->noptional < MAX_CAPS; a = dia->find_next(a))
		dia->get_u32(a, &c->optional[c->noptional++]);
	for (a = dia->find(g, "Server-Name"); a && c->nnames < MAX_SCSCF;
	     a = dia->find_next(a)) {
		const uint8_t *data;
		size_t len;

		if (dia->get_str(a, &data, &len) == 0 &&
		    len < sizeof(c->names[0])) {
			memcpy(c->names[c->nnames], data, len);
			c->names[c->nnames++][len] = '\0';
		}
	}
}

/* ---- Requests passed on -------------------------------------------------- */

/* One request being routed. */
struct job {
	struct ims_fwd *f;
	char impu[IMS_URI_MAX], impi[IMS_URI_MAX], visited[128];
	char scscf[IMS_URI_MAX]; /* where it went */
	bool reg, dereg, retried;
};

static void job_free(void *p)
{
	free(p);
}

static enum ims_fwd_verdict on_scscf_answer(struct ims_fwd *f, int status,
					    struct ims_msg *rsp, void *arg);
static int send_uar(struct job *job, uint32_t type);

static void forward(struct job *job, const char *scscf)
{
	struct ims_msg *msg = ims_fwd_msg(job->f);
	struct ims_fwd_target t = { 0 };
	int rc;

	ims_fmt(job->scscf, sizeof(job->scscf), "%s", scscf);
	/* TS 24.229 5.3.1.2 / 5.3.2.1: on to the S-CSCF, Request-URI as
	 * it is; our own Route entries are spent */
	ims_msg_del(msg, "Route");
	if (ims_route_first(msg, scscf)) {
		ims_fwd_reply(job->f, 500, NULL, NULL);
		return;
	}
	t.dialog = !job->reg && (strcmp(msg->method, "INVITE") == 0 ||
				 strcmp(msg->method, "SUBSCRIBE") == 0);
	rc = ims_fwd_send(job->f, &t, on_scscf_answer, job);
	if (rc) {
		tnd_info("%s: cannot reach S-CSCF %s (%d)", job->impu, scscf,
			 rc);
		ims_fwd_fail(job->f, rc, 500, "S-CSCF unreachable");
		return;
	}
	host->counter_add(cnt.forwarded, 1);
	tnd_debug("%s %s -> %s", msg->method, job->impu, scscf);
}

/*
 * TS 24.229 5.3.1.2: an S-CSCF that does not answer a REGISTER is
 * replaced: UAR REGISTRATION_AND_CAPABILITIES, another S-CSCF.
 */
static enum ims_fwd_verdict on_scscf_answer(struct ims_fwd *f, int status,
					    struct ims_msg *rsp, void *arg)
{
	struct job *job = arg;

	(void)f;
	if (!job->reg || job->retried || rsp || status != 408)
		return IMS_FWD_RELAY;
	job->retried = true;
	host->counter_add(cnt.scscf_failover, 1);
	tnd_notice("%s: S-CSCF %s did not answer: choosing another", job->impu,
		   job->scscf);
	if (send_uar(job, 2))
		return IMS_FWD_RELAY;
	return IMS_FWD_HANDLED;
}

/* A SIP answer for a UAA/LIA failure. */
static int refusal(uint32_t vendor, uint32_t code, bool reg)
{
	if (vendor == DIA_VENDOR_3GPP) {
		switch (code) {
		case DIA_ERROR_USER_UNKNOWN: return reg ? 403 : 404;
		case DIA_ERROR_IDENTITY_NOT_REGISTERED: return reg ? 403 : 480;
		case DIA_ERROR_IDENTITIES_DONT_MATCH:
		case DIA_ERROR_ROAMING_NOT_ALLOWED: return 403;
		default: return 500;
		}
	}
	if (code == DIA_AUTHORIZATION_REJECTED)
		return 403;
	return code == DIA_UNABLE_TO_DELIVER ? 480 : 500;
}

static void on_answer(struct dia_msg *ans, int status, void *arg)
{
	struct job *job = ims_fwd_data(arg);
	uint32_t vendor = 0, code = 0;
	char server[IMS_URI_MAX] = "";
	struct caps caps;
	const char *target;

	if (!ans) {
		tnd_notice("%s %s not answered by the HSS (%d)",
			   job->reg ? "UAR" : "LIR", job->impu, status);
		host->counter_add(cnt.hss_errors, 1);
		ims_fwd_reply(job->f, 480, "HSS not reachable", NULL);
		return;
	}
	dia->result(ans, &vendor, &code);
	if (!(vendor == 0 && code == DIA_SUCCESS) &&
	    !(vendor == DIA_VENDOR_3GPP && code >= 2001 && code <= 2004)) {
		int st = refusal(vendor, code, job->reg);

		tnd_info("%s %s: HSS result %u%s: %d", job->reg ? "UAR" : "LIR",
			 job->impu, code, vendor ? " (3GPP)" : "", st);
		host->counter_add(cnt.refused, 1);
		ims_fwd_reply(job->f, st, NULL, NULL);
		return;
	}
	read_caps(ans, &caps);
	dia->find_str(dia->root(ans), "Server-Name", server, sizeof(server));
	target =
		server[0] && !(job->retried &&
			       strcasecmp(server, job->scscf) == 0)
			? server
			: select_scscf(&caps, job->retried ? job->scscf : NULL);
	if (!target) {
		tnd_notice("%s: no S-CSCF has the capabilities asked",
			   job->impu);
		ims_fwd_reply(job->f, 600, "No S-CSCF available", NULL);
		return;
	}
	forward(job, target);
}

static struct dia_msg *cx_request(uint32_t cmd, const char *impu)
{
	struct dia_msg *req =
		dia->request_new(DIA_APP_CX, cmd, NULL, NULL, NULL);

	if (req &&
	    dia->add_str(dia->root(req), "Public-Identity", impu, (size_t)-1)) {
		dia->msg_free(req);
		return NULL;
	}
	return req;
}

/* TS 29.229 6.1.1: UAR. type 0 REGISTRATION, 1 DE_REGISTRATION,
 * 2 REGISTRATION_AND_CAPABILITIES. */
static int send_uar(struct job *job, uint32_t type)
{
	struct dia_msg *req = cx_request(DIA_CMD_UAR, job->impu);

	if (!req ||
	    dia->add_str(dia->root(req), "User-Name", job->impi, (size_t)-1) ||
	    dia->add_str(dia->root(req), "Visited-Network-Identifier",
			 job->visited, (size_t)-1) ||
	    dia->add_u32(dia->root(req), "User-Authorization-Type", type)) {
		if (req)
			dia->msg_free(req);
		return -ENOMEM;
	}
	host->counter_add(cnt.uar, 1);
	return dia->send(req, 0, on_answer, job->f);
}

static int send_lir(struct job *job)
{
	struct dia_msg *req = cx_request(DIA_CMD_LIR, job->impu);

	if (!req)
		return -ENOMEM;
	host->counter_add(cnt.lir, 1);
	return dia->send(req, 0, on_answer, job->f);
}

/* ---- REGISTER and terminating requests ----------------------------------- */

static bool all_zero_expires(const struct ims_msg *msg)
{
	const char *exp = ims_msg_get(msg, "Expires", 0), *line;
	char elem[IMS_HDR_MAX], v[32];
	bool any = false;

	for (unsigned i = 0; (line = ims_msg_get(msg, "Contact", i)); i++) {
		const char *p = line;

		while (ims_list_next(&p, elem, sizeof(elem))) {
			any = true;
			if (strcmp(elem, "*") == 0)
				continue;
			if (ims_hparam(elem, "expires", v, sizeof(v)) == 0
				    ? atoi(v) != 0
				    : !exp || atoi(exp) != 0)
				return false;
		}
	}
	return any;
}

static int start_register(struct job *job)
{
	const struct ims_msg *msg = ims_fwd_msg(job->f);
	const char *authz = ims_msg_get(msg, "Authorization", 0);
	const char *pvni = ims_msg_get(msg, "P-Visited-Network-ID", 0);
	char to[IMS_URI_MAX];

	host->counter_add(cnt.register_rx, 1);
	job->reg = true;
	if (ims_msg_to_uri(msg, to, sizeof(to)) ||
	    ims_aor(to, job->impu, sizeof(job->impu)))
		return ims_fwd_reply(job->f, 400, "Bad To", NULL);
	/* TS 23.003 13.3: no Authorization, the IMPI is derived */
	if (!authz ||
	    ims_auth_param(authz, "username", job->impi, sizeof(job->impi)) ||
	    !job->impi[0])
		ims_fmt(job->impi, sizeof(job->impi), "%s",
			strchr(job->impu, ':') + 1);
	/* the first network named, without quotes */
	if (pvni) {
		const char *p = pvni;
		char elem[128];

		if (ims_list_next(&p, elem, sizeof(elem))) {
			char *q = elem[0] == '"' ? elem + 1 : elem;

			q[strcspn(q, "\";")] = '\0';
			ims_fmt(job->visited, sizeof(job->visited), "%s", q);
		}
	}
	if (!job->visited[0])
		ims_fmt(job->visited, sizeof(job->visited), "%s", cfg->realm);
	job->dereg = all_zero_expires(msg);
	if (send_uar(job, job->dereg ? 1 : 0))
		return ims_fwd_reply(job->f, 500, "UAR failed", NULL);
	return 0;
}

static int start_terminating(struct job *job)
{
	const struct ims_msg *msg = ims_fwd_msg(job->f);
	char param[16], user[IMS_URI_MAX];

	if (ims_aor(msg->ruri, job->impu, sizeof(job->impu)))
		return ims_fwd_reply(job->f, 416, NULL, NULL);
	/* TS 24.229 5.3.2.1: a number in a SIP URI (user=phone) is asked
	 * for in its tel: form */
	if (ims_uparam(msg->ruri, "user", param, sizeof(param)) == 0 &&
	    strcasecmp(param, "phone") == 0 &&
	    ims_uri_user(msg->ruri, user, sizeof(user)) == 0 && user[0] == '+')
		ims_fmt(job->impu, sizeof(job->impu), "tel:%s", user);
	if (send_lir(job))
		return ims_fwd_reply(job->f, 500, "LIR failed", NULL);
	return 0;
}

static enum sip_verdict on_request(struct sip_request *req, void *arg)
{
	const struct sip_message *m = ims.sip->request_message(req);
	struct sip_text method = ims.sip->method(m);
	struct job *job;

	(void)arg;
	if (ims_dlg_handle(req, m))
		return SIP_TAKEN;
	job = calloc(1, sizeof(*job));
	if (!job || !(job->f = ims_fwd_new(req, m))) {
		free(job);
		ims.sip->reply(req, 500, NULL, NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	ims_fwd_set_data(job->f, job, job_free);
	if (method.len == 8 && memcmp(method.ptr, "REGISTER", 8) == 0)
		start_register(job);
	else
		start_terminating(job);
	return SIP_TAKEN;
}

/* ---- Control and lifecycle ----------------------------------------------- */

static int cmd_show(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return host->reply_error(r, "icscf show takes no arguments");
	host->reply_field(r, "name", "%s", cfg->name);
	host->reply_field(r, "realm", "%s", cfg->realm);
	host->reply_field_num(r, "dialogs", (long long)ims_dlg_count());
	host->reply_field_num(r, "relays", (long long)ims_fwd_count());
	for (size_t i = 0; i < nscscfs; i++) {
		host->reply_record(r);
		host->reply_field(r, "scscf", "%s", scscfs[i].uri);
		host->reply_field_num(r, "capabilities",
				      (long long)scscfs[i].ncaps);
	}
	return 0;
}

static const struct tnd_command icscf_commands[] = {
	{ "icscf show", NULL, "settings and the S-CSCF list", cmd_show },
	TND_COMMAND_END
};

static int make_counters(void)
{
	struct {
		struct tnd_counter **c;
		const char *name, *help;
	} list[] = {
		{ &cnt.register_rx, "register", "REGISTER requests" },
		{ &cnt.uar, "uar", "UAR sent" },
		{ &cnt.lir, "lir", "LIR sent" },
		{ &cnt.forwarded, "forwarded", "requests sent to an S-CSCF" },
		{ &cnt.refused, "refused", "requests refused after UAA/LIA" },
		{ &cnt.scscf_failover, "scscf_failover",
		  "S-CSCFs replaced after no answer" },
		{ &cnt.hss_errors, "hss_errors", "UAR/LIR not answered" },
	};

	for (size_t i = 0; i < IMS_ARRAY_SIZE(list); i++)
		if (!(*list[i].c = host->counter_new(SELF, list[i].name,
						     list[i].help)))
			return -ENOMEM;
	return 0;
}

static int icscf_init(const struct tnd_host_api *api, void *config)
{
	int rc;

	host = api;
	cfg = config;
	if (strncasecmp(cfg->name, "sip:", 4))
		return host->config_error("icscf", "name",
					  "name must be a sip: URI");
	if ((rc = parse_scscfs()))
		return rc;
	dia = host->service_get("diameter", DIAMETER_SERVICE_VERSION);
	if (!dia) {
		tnd_error("the diameter service is missing");
		return -ENOENT;
	}
	if ((rc = ims_init(api, SELF, "icscf", cfg->name)))
		return rc;
	ims.dialog_max_s = cfg->dialog_max_s;
	if ((rc = make_counters()))
		return rc;
	return dia->use_app(DIA_APP_CX);
}

static int icscf_start(void)
{
	int rc = ims_start();

	if (!rc)
		rc = ims.sip->handler_add(NULL, SIP_HANDLER_CLAIM, "path",
					  on_request, NULL);
	if (!rc)
		rc = ims.sip->handler_add("ACK", 0, NULL, on_request, NULL);
	if (!rc)
		tnd_notice("I-CSCF %s for %s, %zu S-CSCF(s) configured",
			   cfg->name, cfg->realm, nscscfs);
	return rc;
}

static int icscf_stop(void)
{
	ims.sip->handler_remove(on_request, NULL);
	return 0;
}

static void icscf_fini(void)
{
	ims_fini();
	nscscfs = 0;
}

static const struct tnd_service_ref icscf_requires[] = {
	{ SIP_SERVICE_NAME, SIP_SERVICE_VERSION },
	{ "diameter", DIAMETER_SERVICE_VERSION },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(icscf) = {
	TND_PLUGIN_HEADER,
	.name = "icscf",
	.version = "0.1",
	.description = "IMS I-CSCF: UAR/LIR routing to the S-CSCF",
	.requires = icscf_requires,
	.params = icscf_params,
	.cfg_size = sizeof(struct icscf_cfg),
	.commands = icscf_commands,
	.init = icscf_init,
	.start = icscf_start,
	.stop = icscf_stop,
	.fini = icscf_fini,
};
