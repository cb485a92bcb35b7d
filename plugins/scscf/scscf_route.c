/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scscf_route.c - session routing at the S-CSCF (TS 24.229 5.4.3):
 *
 * originating (the request came along our Service-Route, "orig"): the
 *   served user is its P-Asserted-Identity; iFCs of session case 0; then
 *   a home-domain target goes to the I-CSCF (or is served here), a tel:
 *   URI or E.164 number is translated (ENUM-style prefixes) or goes to
 *   the BGCF, any other domain by its Request-URI;
 * terminating (from the I-CSCF): the served user is the Request-URI;
 *   iFCs of case 1 (registered) or 2 (unregistered, profile fetched with
 *   SAR UNREGISTERED_USER); then the registered Contact, along its Path.
 *
 * An iFC that matches sends the request to its application server with
 * our URI and an original dialog identifier (odi) as the next Route
 * (TS 24.229 5.4.3.2 step 4, 5.4.3.3 step 3); when it comes back along
 * that Route, evaluation resumes after that iFC. An AS that sends nothing
 * within as_timeout_ms (or cannot be reached) gets its DefaultHandling:
 * SESSION_CONTINUED goes on without it, SESSION_TERMINATED ends the
 * request with 408 (5.4.3.2 step 4c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scscf_int.h"

#define ODI_TTL_MS 64000

/* Where an evaluation stands, kept while the request is at an AS. */
struct odi {
	char token[24];
	char served[IMS_URI_MAX];
	int session_case;
	size_t next; /* the iFC after the one that sent it to the AS */
	uint64_t expires_ms;
	bool returned;
	struct odi *next_odi;
};

/* A request this S-CSCF routes. */
struct route_job {
	struct ims_fwd *f;
	char served[IMS_URI_MAX];
	int session_case;
	size_t next_ifc;
	struct odi *at_as; /* the AS it is at, while there */
	int default_handling;
	struct tnd_timer *as_timer;
	bool as_answered;
};

static struct ims_hash odis;
static struct odi *odi_list;

int scscf_route_init(void)
{
	return 0;
}

/* ---- Original dialog identifiers ----------------------------------------- */

static struct odi *odi_new(const char *served, int session_case, size_t next)
{
	struct odi *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	ims_token(o->token, sizeof(o->token));
	ims_fmt(o->served, sizeof(o->served), "%s", served);
	o->session_case = session_case;
	o->next = next;
	o->expires_ms = scscf_host->now_ms() + ODI_TTL_MS;
	if (ims_hash_put(&odis, o->token, o)) {
		free(o);
		return NULL;
	}
	o->next_odi = odi_list;
	odi_list = o;
	return o;
}

/* Old identifiers go (a dialog through an AS lasts, its odi is needed
 * only while the initial request is there). */
static void odi_sweep(void)
{
	uint64_t now = scscf_host->now_ms();
	struct odi **pp = &odi_list, *o;

	while ((o = *pp)) {
		if (o->expires_ms <= now) {
			*pp = o->next_odi;
			ims_hash_del(&odis, o->token);
			free(o);
		} else {
			pp = &o->next_odi;
		}
	}
}

void scscf_route_fini(void)
{
	while (odi_list) {
		struct odi *o = odi_list;

		odi_list = o->next_odi;
		free(o);
	}
	ims_hash_clear(&odis);
}

/* ---- Jobs ---------------------------------------------------------------- */

static void job_free(void *p)
{
	struct route_job *job = p;

	if (job->as_timer)
		scscf_host->timer_free(job->as_timer);
	free(job);
}

static bool dialog_method(const char *m)
{
	return strcmp(m, "INVITE") == 0 || strcmp(m, "SUBSCRIBE") == 0 ||
	       strcmp(m, "REFER") == 0;
}

static void next_step(struct route_job *job);

static void send_on(struct route_job *job, const char *ruri, const char *route,
		    ims_fwd_cb cb)
{
	struct ims_msg *msg = ims_fwd_msg(job->f);
	struct ims_fwd_target t = { 0 };
	int rc;

	if (route && ims_route_first(msg, route)) {
		ims_fwd_reply(job->f, 500, NULL, NULL);
		return;
	}
	t.ruri = ruri;
	t.dialog = dialog_method(msg->method);
	rc = ims_fwd_send(job->f, &t, cb, job);
	if (rc) {
		tnd_info("%s %s: cannot send on (%d)", msg->method,
			 ruri ? ruri : msg->ruri, rc);
		ims_fwd_fail(job->f, rc, rc == -EHOSTUNREACH ? 404 : 500, NULL);
	}
}

/* ---- Application servers (ISC) ------------------------------------------- */

static void as_failed(struct route_job *job, const char *why)
{
	scscf_host->counter_add(scscf_cnt.as_failed, 1);
	tnd_notice("AS for %s %s: %s; default handling %s", job->served,
		   ims_fwd_msg(job->f)->method, why,
		   job->default_handling ? "SESSION_TERMINATED"
					 : "SESSION_CONTINUED");
	job->at_as = NULL;
	if (job->default_handling) {
		ims_fwd_reply(job->f, 408,
			      "Application server not "
			      "responding",
			      NULL);
		return;
	}
	/* TS 24.229 5.4.3.2 4c: as if the iFC had not matched */
	ims_msg_del(ims_fwd_msg(job->f), "Route");
	next_step(job);
}

static void on_as_timer(struct tnd_timer *t, void *arg)
{
	struct route_job *job = arg;

	(void)t;
	if (job->as_answered || !job->at_as || job->at_as->returned)
		return;
	ims_fwd_abandon(job->f);
	as_failed(job, "no answer in time");
}

static enum ims_fwd_verdict on_as_answer(struct ims_fwd *f, int status,
					 struct ims_msg *rsp, void *arg)
{
	struct route_job *job = arg;

	(void)f;
	if (rsp) {
		job->as_answered = true;
		return IMS_FWD_RELAY;
	}
	if (job->at_as && !job->at_as->returned && status == 408) {
		as_failed(job, "not reachable");
		return IMS_FWD_HANDLED;
	}
	return IMS_FWD_RELAY;
}

static void to_as(struct route_job *job, size_t i)
{
	const struct scscf_ifc *ifc;
	struct scscf_reg *reg = scscf_reg_find(job->served);
	char odi_route[IMS_URI_MAX];
	struct odi *o;

	ifc = &reg->profile->ifcs[i];
	o = odi_new(job->served, job->session_case, i + 1);
	if (!o || ims_fmt(odi_route, sizeof(odi_route), "%s;lr;odi=%s",
			  scscf_cfg->name, o->token)) {
		ims_fwd_reply(job->f, 500, NULL, NULL);
		return;
	}
	job->at_as = o;
	job->default_handling = ifc->default_handling;
	job->as_answered = false;
	scscf_host->counter_add(scscf_cnt.as_routed, 1);
	tnd_info("%s %s: iFC %d to %s", ims_fwd_msg(job->f)->method,
		 job->served, ifc->priority, ifc->as_uri);
	/* TS 24.229 5.4.3.2 step 4: the AS first, then back to us */
	if (ims_route_first(ims_fwd_msg(job->f), odi_route)) {
		ims_fwd_reply(job->f, 500, NULL, NULL);
		return;
	}
	if (!job->as_timer)
		job->as_timer =
			scscf_host->timer_new(SCSCF_SELF, on_as_timer, job);
	if (job->as_timer)
		scscf_host->timer_start(job->as_timer, scscf_cfg->as_timeout_ms,
					0);
	send_on(job, NULL, ifc->as_uri, on_as_answer);
}

/* ---- After the iFCs ------------------------------------------------------ */

static bool enum_number(const char *number)
{
	char copy[256], *save = NULL, *w;

	ims_fmt(copy, sizeof(copy), "%s", scscf_cfg->enum_prefixes);
	for (w = strtok_r(copy, " ,\t", &save); w;
	     w = strtok_r(NULL, " ,\t", &save))
		if (strncmp(number, w, strlen(w)) == 0)
			return true;
	return false;
}

/* The E.164 number of a tel: URI or a sip:+...;user=phone URI, or "". */
static void number_of(const char *ruri, char *out, size_t size)
{
	char user[IMS_URI_MAX], param[16];

	out[0] = '\0';
	if (ims_prefix(ruri, "tel:")) {
		ims_fmt(out, size, "%.*s", (int)strcspn(ruri + 4, ";"),
			ruri + 4);
		return;
	}
	if (ims_uparam(ruri, "user", param, sizeof(param)) == 0 &&
	    strcasecmp(param, "phone") == 0 &&
	    ims_uri_user(ruri, user, sizeof(user)) == 0 && user[0] == '+')
		ims_fmt(out, size, "%s", user);
}

static void deliver(struct route_job *job);

/*
 * The callee of a terminating request: the Request-URI's identity; a
 * number in a sip:...;user=phone URI is known by its tel: form too
 * (TS 23.003 13.4).
 */
static int served_by_uri(struct route_job *job)
{
	const char *ruri = ims_fwd_msg(job->f)->ruri;
	char number[64];

	if (ims_aor(ruri, job->served, sizeof(job->served)))
		return -EINVAL;
	if (scscf_reg_find(job->served))
		return 0;
	number_of(ruri, number, sizeof(number));
	if (number[0] && !ims_prefix(ruri, "tel:"))
		ims_fmt(job->served, sizeof(job->served), "tel:%s", number);
	return 0;
}

/* TS 24.229 5.4.3.2 step 9-10: where an originating request goes. */
static void route_originating(struct route_job *job)
{
	struct ims_msg *msg = ims_fwd_msg(job->f);
	char number[64], host[IMS_URI_MAX] = "", ruri[IMS_URI_MAX];
	bool home;

	number_of(msg->ruri, number, sizeof(number));
	if (number[0] && !enum_number(number)) {
		if (!scscf_cfg->bgcf[0]) {
			ims_fwd_reply(job->f, 404, "No route to number", NULL);
			return;
		}
		scscf_host->counter_add(scscf_cnt.bgcf, 1);
		tnd_info("%s: %s is not ours: to the BGCF", job->served,
			 number);
		send_on(job, NULL, scscf_cfg->bgcf, NULL);
		return;
	}
	if (number[0] && scscf_cfg->enum_domain[0]) {
		/* the ENUM-style translation hook: our number, as a SIP URI
		 * of the domain that serves it (RFC 6116 in spirit) */
		ims_fmt(ruri, sizeof(ruri), "sip:%s@%s;user=phone", number,
			scscf_cfg->enum_domain);
		free(msg->ruri);
		msg->ruri = strdup(ruri);
		if (!msg->ruri) {
			ims_fwd_reply(job->f, 500, NULL, NULL);
			return;
		}
	}
	/* a number of ours left as tel: is for the home network's HSS */
	home = number[0] != '\0';
	if (!home) {
		ims_uri_host(msg->ruri, host, sizeof(host));
		home = strcasecmp(host, scscf_cfg->realm) == 0 ||
		       (scscf_cfg->enum_domain[0] &&
			strcasecmp(host, scscf_cfg->enum_domain) == 0);
	}
	if (!home) {
		send_on(job, NULL, NULL, NULL); /* by the Request-URI */
		return;
	}
	if (scscf_cfg->icscf[0]) {
		send_on(job, NULL, scscf_cfg->icscf, NULL);
		return;
	}
	/* no I-CSCF: terminating here when the callee is ours */
	job->next_ifc = 0;
	scscf_host->counter_add(scscf_cnt.term, 1);
	if (served_by_uri(job)) {
		ims_fwd_reply(job->f, 416, NULL, NULL);
		return;
	}
	job->session_case = CASE_TERMINATING_REGISTERED;
	next_step(job);
}

/* The binding a terminating request goes to: the newest. */
static const struct scscf_contact *best_contact(const struct scscf_reg *reg)
{
	const struct scscf_contact *best = NULL;

	for (const struct scscf_contact *c = reg->contacts; c; c = c->next)
		if (!best || c->expires_at > best->expires_at)
			best = c;
	return best;
}

/* TS 24.229 5.4.3.3 step 9: to the registered Contact, along its Path. */
static void deliver(struct route_job *job)
{
	struct ims_msg *msg = ims_fwd_msg(job->f);
	struct scscf_reg *reg = scscf_reg_find(job->served);
	const struct scscf_contact *c = reg ? best_contact(reg) : NULL;
	char called[IMS_URI_MAX + 4];

	if (!c || reg->state != REG_REGISTERED) {
		ims_fwd_reply(job->f, 480, "Temporarily Unavailable", NULL);
		return;
	}
	/* RFC 3455 4.2: what was called, before the Contact replaces it */
	if (!ims_msg_get(msg, "P-Called-Party-ID", 0) &&
	    ims_fmt(called, sizeof(called), "<%s>", msg->ruri) == 0)
		ims_msg_add(msg, "P-Called-Party-ID", called, false);
	ims_msg_del(msg, "Route");
	if (c->path)
		ims_msg_add(msg, "Route", c->path, false);
	send_on(job, c->uri, NULL, NULL);
}

/* The next iFC, or the end of the evaluation. */
static void next_step(struct route_job *job)
{
	struct scscf_reg *reg = scscf_reg_find(job->served);
	struct scscf_ifc_req r = {
		.msg = ims_fwd_msg(job->f),
		.session_case = job->session_case,
	};
	int i = reg ? scscf_ifc_next(reg->profile, job->next_ifc, &r) : -1;

	if (i >= 0) {
		job->next_ifc = (size_t)i + 1;
		to_as(job, (size_t)i);
		return;
	}
	if (job->session_case == CASE_ORIGINATING ||
	    job->session_case == CASE_ORIGINATING_UNREGISTERED)
		route_originating(job);
	else if (job->session_case == CASE_TERMINATING_UNREGISTERED)
		ims_fwd_reply(job->f, 480, "Temporarily Unavailable", NULL);
	else
		deliver(job);
}

/* ---- Entry --------------------------------------------------------------- */

/* The first Route value if it names us: its user and odi parameter. */
static bool our_route(const struct ims_msg *msg, char *user, size_t ulen,
		      char *odi, size_t olen)
{
	const char *r = ims_msg_get(msg, "Route", 0), *p = r;
	char elem[IMS_HDR_MAX], uri[IMS_URI_MAX];

	user[0] = odi[0] = '\0';
	if (!r || !ims_list_next(&p, elem, sizeof(elem)) ||
	    ims_uri_of(elem, uri, sizeof(uri)) || !ims_is_self(uri))
		return false;
	ims_uri_user(uri, user, ulen);
	if (ims_uparam(uri, "odi", odi, olen))
		odi[0] = '\0';
	return true;
}

static int served_by_assertion(struct route_job *job)
{
	const char *pai =
		ims_msg_get(ims_fwd_msg(job->f), "P-Asserted-Identity", 0);
	const char *p = pai;
	char elem[IMS_HDR_MAX], uri[IMS_URI_MAX];

	/* the first sip: identity asserted (RFC 3325 allows a tel: too) */
	while (p && ims_list_next(&p, elem, sizeof(elem)))
		if (ims_uri_of(elem, uri, sizeof(uri)) == 0 &&
		    ims_aor(uri, job->served, sizeof(job->served)) == 0)
			return 0;
	return -ENOENT;
}

/* SAR UNREGISTERED_USER brought the profile of a user not registered. */
static void on_unregistered_profile(int status, uint32_t code,
				    const char *user_data, size_t len,
				    void *arg)
{
	struct route_job *job = ims_fwd_data(arg);
	struct scscf_reg *reg;

	(void)code;
	if (status || !user_data || !len) {
		ims_fwd_reply(job->f, status == 403 ? 404 : 480, NULL, NULL);
		return;
	}
	reg = scscf_reg_find(job->served);
	if (!reg)
		reg = scscf_reg_new(job->served, "");
	if (!reg || scscf_reg_set_user_data(reg, user_data, len)) {
		ims_fwd_reply(job->f, 500, NULL, NULL);
		return;
	}
	reg->state = REG_UNREGISTERED;
	scscf_reg_commit(reg);
	next_step(job);
}

static void start_terminating(struct route_job *job)
{
	struct scscf_reg *reg;

	scscf_host->counter_add(scscf_cnt.term, 1);
	if (served_by_uri(job)) {
		ims_fwd_reply(job->f, 416, NULL, NULL);
		return;
	}
	reg = scscf_reg_find(job->served);
	if (reg && reg->state == REG_REGISTERED) {
		job->session_case = CASE_TERMINATING_REGISTERED;
		next_step(job);
		return;
	}
	job->session_case = CASE_TERMINATING_UNREGISTERED;
	if (reg && reg->profile) {
		next_step(job);
		return;
	}
	/* TS 24.229 5.4.3.3 step 1: the profile of services of the
	 * unregistered state */
	if (scscf_cx_sar(NULL, job->served, SAR_UNREGISTERED_USER, false,
			 on_unregistered_profile, job->f))
		ims_fwd_reply(job->f, 500, NULL, NULL);
}

static void start_originating(struct route_job *job)
{
	struct scscf_reg *reg;

	scscf_host->counter_add(scscf_cnt.orig, 1);
	if (served_by_assertion(job)) {
		ims_fwd_reply(job->f, 403, "No asserted identity", NULL);
		return;
	}
	reg = scscf_reg_find(job->served);
	if (!reg || reg->state != REG_REGISTERED) {
		tnd_info("originating request of %s, not registered here",
			 job->served);
		ims_fwd_reply(job->f, 403, "Not registered", NULL);
		return;
	}
	/* the served user is the registered identity of the set */
	ims_fmt(job->served, sizeof(job->served), "%s", reg->impu);
	job->session_case = CASE_ORIGINATING;
	next_step(job);
}

static void resume(struct route_job *job, struct odi *o)
{
	o->returned = true;
	ims_fmt(job->served, sizeof(job->served), "%s", o->served);
	job->session_case = o->session_case;
	job->next_ifc = o->next;
	tnd_debug("%s back from the AS (odi %s)", job->served, o->token);
	next_step(job);
}

enum sip_verdict scscf_route_request(struct sip_request *req,
				     const struct sip_message *m)
{
	struct route_job *job = calloc(1, sizeof(*job));
	char user[32], odi[32];
	struct ims_msg *msg;
	bool ours;

	odi_sweep();
	if (!job || !(job->f = ims_fwd_new(req, m))) {
		free(job);
		sip->reply(req, 500, NULL, NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	ims_fwd_set_data(job->f, job, job_free);
	msg = ims_fwd_msg(job->f);
	ours = our_route(msg, user, sizeof(user), odi, sizeof(odi));
	ims_route_pop_self(msg);
	if (ours && odi[0]) {
		struct odi *o = ims_hash_get(&odis, odi);

		if (o)
			resume(job, o);
		else
			ims_fwd_reply(job->f, 404, "Unknown dialog identifier",
				      NULL);
	} else if (ours && strcmp(user, "orig") == 0) {
		start_originating(job);
	} else {
		start_terminating(job);
	}
	return SIP_TAKEN;
}

/* ---- Third-party registration (TS 24.229 5.4.1.7) ------------------------ */

struct third_party {
	char impu[IMS_URI_MAX];
	int default_handling;
};

static void on_third_party(struct sip_client *c, int status,
			   const struct sip_message *rsp, void *arg)
{
	struct third_party *tp = arg;
	struct scscf_reg *reg;

	(void)c, (void)rsp;
	if (status < 200)
		return;
	if (status >= 300) {
		tnd_notice("third-party REGISTER for %s answered %d", tp->impu,
			   status);
		/* 5.4.1.7: SESSION_TERMINATED de-registers the user */
		reg = status >= 300 && tp->default_handling
			      ? scscf_reg_find(tp->impu)
			      : NULL;
		if (reg)
			scscf_reg_terminate(
				reg, SAR_ADMINISTRATIVE_DEREGISTRATION,
				"rejected", "application server refused");
	}
	free(tp);
}

static void third_party_body(const struct scscf_ifc *ifc,
			     const struct ims_msg *reg_req, struct ims_buf *b,
			     const char **type)
{
	*type = NULL;
	if (ifc->include_register_request && reg_req) {
		/* TS 24.229 5.4.1.7: the REGISTER as a message/sip body */
		ims_buf_printf(b, "REGISTER %s SIP/2.0\r\n", reg_req->ruri);
		ims_msg_headers(reg_req, NULL, b);
		ims_buf_str(b, "\r\n");
		*type = "message/sip";
	} else if (ifc->service_info) {
		ims_buf_printf(b,
			       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
			       "<ims-3gpp version=\"1\"><service-info>"
			       "%s</service-info></ims-3gpp>",
			       ifc->service_info);
		*type = "application/3gpp-ims+xml";
	}
}

static void send_third_party(struct scscf_reg *reg, const struct scscf_ifc *ifc,
			     const struct ims_msg *reg_req, int expires)
{
	struct sip_request_spec spec = { .size = sizeof(spec) };
	struct third_party *tp = calloc(1, sizeof(*tp));
	struct ims_buf h = { 0 }, body = { 0 };
	char from[IMS_URI_MAX + 4], to[IMS_URI_MAX + 4];

	if (!tp)
		return;
	ims_fmt(tp->impu, sizeof(tp->impu), "%s", reg->impu);
	tp->default_handling = ifc->default_handling;
	ims_fmt(from, sizeof(from), "<%s>", scscf_cfg->name);
	ims_fmt(to, sizeof(to), "<%s>", reg->impu);
	ims_buf_printf(&h, "Contact: <%s>\r\nExpires: %d\r\n", scscf_cfg->name,
		       expires);
	ims_buf_printf(&h, "P-Charging-Vector: icid-value=%s\r\n",
		       ims_msg_get(reg_req, "Call-ID", 0)
			       ? ims_msg_get(reg_req, "Call-ID", 0)
			       : "none");
	third_party_body(ifc, reg_req, &body, &spec.body_type);
	spec.method = "REGISTER";
	spec.request_uri = ifc->as_uri;
	spec.from = from;
	spec.to = to;
	spec.headers = ims_buf_cstr(&h);
	spec.body = body.data;
	spec.body_len = body.len;
	scscf_host->counter_add(scscf_cnt.third_party, 1);
	if (ims.sip->send_request(&spec, on_third_party, tp, NULL)) {
		tnd_notice("third-party REGISTER for %s to %s not sent",
			   reg->impu, ifc->as_uri);
		free(tp);
	}
	ims_buf_free(&h);
	ims_buf_free(&body);
}

void scscf_third_party_register(struct scscf_reg *reg,
				const struct ims_msg *reg_req,
				const struct ims_msg *reg_rsp, int reg_type,
				int expires)
{
	struct scscf_ifc_req r = {
		.msg = reg_req,
		.session_case = CASE_ORIGINATING,
		.reg_type = reg_type,
	};

	(void)reg_rsp;
	if (!reg->profile)
		return;
	/* every iFC that matches the REGISTER, not only the first */
	for (int i = scscf_ifc_next(reg->profile, 0, &r); i >= 0;
	     i = scscf_ifc_next(reg->profile, (size_t)i + 1, &r))
		send_third_party(reg, &reg->profile->ifcs[i], reg_req,
				 reg_type == 2 ? 0 : expires);
}
