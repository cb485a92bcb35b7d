/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scscf_register.c - the S-CSCF as registrar, TS 24.229 5.4.1:
 *
 *   REGISTER without credentials -> MAR -> 401 (challenge)
 *   REGISTER with the answer      -> check -> SAR -> 200 (bindings,
 *                                    Service-Route, Path, P-Associated-URI)
 *   answer wrong                  -> 403 (SAR AUTHENTICATION_FAILURE for a
 *                                    user not registered)
 *   auts in the answer            -> MAR with RAND || AUTS -> 401
 *   unknown or used nonce         -> 401 with stale=true
 *   Expires 0                     -> SAR USER_DEREGISTRATION -> 200
 *
 * A re-registration the P-CSCF marks as integrity protected may skip the
 * challenge (5.4.1.2.1) unless reauth_protected says otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "scscf_int.h"

#define MAX_BINDINGS 16

struct binding {
	char uri[IMS_URI_MAX];
	char instance[IMS_URI_MAX];
	int64_t expires;
};

/* One REGISTER being worked on. */
struct reg_job {
	struct ims_fwd *f;
	char impu[IMS_URI_MAX]; /* To, AoR form */
	char impi[IMS_URI_MAX];
	struct binding b[MAX_BINDINGS];
	size_t nb;
	bool wildcard;
	int reg_type; /* 0 initial, 1 re-registration, 2 de-registration */
	int expires;  /* longest binding granted, for third-party REGISTER */
};

static void job_free(void *p)
{
	free(p);
}

static int answer(struct reg_job *job, int status, const char *reason,
		  const char *headers)
{
	return ims_fwd_reply(job->f, status, reason, headers);
}

/* ---- Reading the request ------------------------------------------------- */

/* TS 23.003 13.3: without an Authorization, the private identity is the
 * public one without its scheme. */
static void derive_impi(struct reg_job *job, const char *authz)
{
	if (authz &&
	    ims_auth_param(authz, "username", job->impi, sizeof(job->impi)) ==
		    0 &&
	    job->impi[0])
		return;
	ims_fmt(job->impi, sizeof(job->impi), "%s",
		strchr(job->impu, ':') ? strchr(job->impu, ':') + 1
				       : job->impu);
}

static int64_t clamp_expires(int64_t e)
{
	if (e > (int64_t)scscf_cfg->max_expires)
		return (int64_t)scscf_cfg->max_expires;
	return e < 0 ? 0 : e;
}

/* RFC 3261 10.3 step 6: every Contact with its expiry (its parameter,
 * else Expires, else our default). Returns a status to answer or 0. */
static int read_bindings(struct reg_job *job, const struct ims_msg *msg)
{
	const char *exp_hdr = ims_msg_get(msg, "Expires", 0);
	int64_t def =
		exp_hdr ? atoll(exp_hdr) : (int64_t)scscf_cfg->default_expires;
	const char *line;
	char elem[IMS_HDR_MAX], param[32];

	for (unsigned i = 0; (line = ims_msg_get(msg, "Contact", i)); i++) {
		const char *p = line;

		while (ims_list_next(&p, elem, sizeof(elem))) {
			struct binding *b;

			if (strcmp(elem, "*") == 0) {
				job->wildcard = true;
				continue;
			}
			if (job->nb == MAX_BINDINGS)
				return 403;
			b = &job->b[job->nb];
			if (ims_uri_of(elem, b->uri, sizeof(b->uri)))
				return 400;
			b->expires = ims_hparam(elem, "expires", param,
						sizeof(param)) == 0
					     ? atoll(param)
					     : def;
			if (ims_hparam(elem, "+sip.instance", b->instance,
				       sizeof(b->instance)))
				b->instance[0] = '\0';
			b->expires = clamp_expires(b->expires);
			job->nb++;
		}
	}
	/* RFC 3261 10.3 step 6: "*" only with Expires: 0, alone */
	if (job->wildcard && (job->nb || def != 0))
		return 400;
	for (size_t i = 0; i < job->nb; i++)
		if (job->b[i].expires > 0 &&
		    job->b[i].expires < (int64_t)scscf_cfg->min_expires)
			return 423;
	return 0;
}

/* ---- The 200 OK ---------------------------------------------------------- */

static void service_route(struct ims_buf *h)
{
	char hostport[IMS_URI_MAX];
	const char *p = scscf_cfg->name + 4; /* after "sip:" */
	const char *at = strchr(p, '@');

	ims_fmt(hostport, sizeof(hostport), "%s", at ? at + 1 : p);
	/* TS 24.229 5.4.1.2.2: a Service-Route the originating requests
	 * follow; "orig" marks them as such (5.4.3.2) */
	ims_buf_printf(h, "Service-Route: <sip:orig@%s;lr>\r\n", hostport);
}

static void associated_uris(const struct scscf_reg *reg, struct ims_buf *h)
{
	const struct scscf_profile *p = reg->profile;

	ims_buf_printf(h, "P-Associated-URI: <%s>", reg->impu);
	for (size_t i = 0; p && i < p->nimpus; i++)
		if (!p->barred[i] && strcmp(p->impus[i], reg->impu) != 0)
			ims_buf_printf(h, ", <%s>", p->impus[i]);
	ims_buf_str(h, "\r\n");
}

/* A binding in the 200. The instance goes back with it: a UE doing
 * outbound or GRUU (RFC 5626 6, RFC 5627 5) finds its own binding by it,
 * and some softphones call the registration failed without it. */
static void contact_line(struct ims_buf *h, const struct scscf_contact *c,
			 int64_t now)
{
	ims_buf_printf(
		h, "Contact: <%s>;expires=%lld", c->uri,
		(long long)(c->expires_at > now ? c->expires_at - now : 0));
	if (c->instance)
		ims_buf_printf(h, ";+sip.instance=\"%s\"", c->instance);
	ims_buf_str(h, "\r\n");
}

static void answer_ok(struct reg_job *job, struct scscf_reg *reg)
{
	struct ims_msg *msg = ims_fwd_msg(job->f);
	struct ims_buf h = { 0 };
	int64_t now = ims_now_s();
	const char *path;

	for (const struct scscf_contact *c = reg ? reg->contacts : NULL; c;
	     c = c->next)
		contact_line(&h, c, now);
	/* RFC 3327 5.3: the registrar echoes the Path it stored */
	for (unsigned i = 0; (path = ims_msg_get(msg, "Path", i)); i++)
		ims_buf_printf(&h, "Path: %s\r\n", path);
	if (reg && reg->contacts) {
		service_route(&h);
		associated_uris(reg, &h);
	}
	answer(job, 200, NULL, h.failed ? NULL : ims_buf_cstr(&h));
	ims_buf_free(&h);
}

/* ---- After SAR ----------------------------------------------------------- */

/* The Path a terminating request to these bindings follows. */
static char *path_of(const struct ims_msg *msg)
{
	struct ims_buf b = { 0 };
	const char *v;
	char *s;

	for (unsigned i = 0; (v = ims_msg_get(msg, "Path", i)); i++)
		ims_buf_printf(&b, "%s%s", i ? ", " : "", v);
	s = b.len && !b.failed ? strdup(ims_buf_cstr(&b)) : NULL;
	ims_buf_free(&b);
	return s;
}

static int apply_bindings(struct reg_job *job, struct scscf_reg *reg)
{
	const struct ims_msg *msg = ims_fwd_msg(job->f);
	const char *cid = ims_msg_get(msg, "Call-ID", 0);
	uint32_t cseq = ims_msg_cseq(msg);
	char *path = path_of(msg);
	char received[96] = "";
	int rc = 0;

	if (job->wildcard)
		scscf_reg_unbind_all(reg);
	ims_fmt(received, sizeof(received), "%s", msg->source);
	for (size_t i = 0; i < job->nb && !rc; i++) {
		rc = scscf_reg_bind(reg, job->b[i].uri, job->b[i].expires, path,
				    cid, cseq, received,
				    job->b[i].instance[0] ? job->b[i].instance
							  : NULL);
		if (job->b[i].expires > job->expires)
			job->expires = (int)job->b[i].expires;
	}
	free(path);
	return rc;
}

static void finish_deregistration(struct reg_job *job, struct scscf_reg *reg)
{
	tnd_info("%s de-registered by %s", job->impu, job->impi);
	scscf_host->counter_add(scscf_cnt.deregistered, 1);
	reg->state = REG_NOT_REGISTERED;
	scscf_regevent_notify(reg, "unregistered");
	scscf_third_party_register(reg, ims_fwd_msg(job->f), NULL, 2, 0);
	answer_ok(job, NULL);
	scscf_reg_drop(reg, "de-registered by the user");
}

static void sar_done(int status, const char *user_data, size_t len, void *arg)
{
	struct reg_job *job = ims_fwd_data(arg);
	struct scscf_reg *reg = scscf_reg_find(job->impu);
	bool created = false;

	if (status) {
		answer(job, status, NULL, NULL);
		return;
	}
	if (!reg) {
		reg = scscf_reg_new(job->impu, job->impi);
		created = true;
	}
	if (!reg ||
	    (user_data && len && scscf_reg_set_user_data(reg, user_data, len) &&
	     !reg->profile)) {
		if (reg && created)
			scscf_reg_drop(reg, "no usable profile");
		answer(job, 500, "Profile not usable", NULL);
		return;
	}
	if (apply_bindings(job, reg)) {
		answer(job, 500, NULL, NULL);
		return;
	}
	if (!reg->contacts) {
		finish_deregistration(job, reg);
		return;
	}
	reg->state = REG_REGISTERED;
	if (scscf_reg_commit(reg)) {
		answer(job, 500, "Store failed", NULL);
		return;
	}
	scscf_reg_rearm(reg);
	scscf_host->counter_add(scscf_cnt.registered, 1);
	tnd_info("%s registered by %s, %zu contact(s)", job->impu, job->impi,
		 scscf_reg_contacts(reg));
	scscf_regevent_notify(reg,
			      job->reg_type == 0 ? "registered" : "refreshed");
	/* the registration is on disk before the 200 goes */
	scscf_store_batch_end();
	/* sent before the 200 frees the request it copies */
	scscf_third_party_register(reg, ims_fwd_msg(job->f), NULL,
				   job->reg_type, job->expires);
	answer_ok(job, reg);
}

static void on_sar_done(int status, uint32_t code, const char *user_data,
			size_t len, void *arg)
{
	(void)code;
	scscf_store_batch_begin();
	sar_done(status, user_data, len, arg);
	scscf_store_batch_end();
}

/* Bindings that would remain after this request. */
static size_t remaining(const struct reg_job *job, const struct scscf_reg *reg)
{
	size_t n = 0;

	for (const struct scscf_contact *c =
		     reg && !job->wildcard ? reg->contacts : NULL;
	     c; c = c->next) {
		bool removed = false;

		for (size_t i = 0; i < job->nb; i++)
			removed |= job->b[i].expires == 0 &&
				   strcmp(job->b[i].uri, c->uri) == 0;
		n += !removed;
	}
	for (size_t i = 0; i < job->nb; i++) {
		bool known = false;

		for (const struct scscf_contact *c = reg ? reg->contacts : NULL;
		     c && !job->wildcard; c = c->next)
			known |= strcmp(job->b[i].uri, c->uri) == 0;
		n += job->b[i].expires > 0 && !known;
	}
	return n;
}

static void authorized(struct reg_job *job)
{
	const struct ims_msg *msg = ims_fwd_msg(job->f);
	struct scscf_reg *reg = scscf_reg_find(job->impu);
	int status = read_bindings(job, msg);
	int type;
	char hdr[64];

	scscf_host->counter_add(scscf_cnt.auth_ok, 1);
	if (status == 423) {
		snprintf(hdr, sizeof(hdr), "Min-Expires: %llu\r\n",
			 scscf_cfg->min_expires);
		answer(job, 423, NULL, hdr);
		return;
	}
	if (status) {
		answer(job, status, NULL, NULL);
		return;
	}
	if (!job->nb && !job->wildcard) {
		/* RFC 3261 10.3 step 8: a query of the bindings */
		answer_ok(job, reg);
		return;
	}
	if (!remaining(job, reg)) {
		if (!reg) {
			answer_ok(job, NULL);
			return;
		}
		job->reg_type = 2;
		type = SAR_USER_DEREGISTRATION;
	} else if (!reg || reg->state != REG_REGISTERED) {
		job->reg_type = 0;
		type = SAR_REGISTRATION;
	} else {
		job->reg_type = 1;
		type = SAR_RE_REGISTRATION;
	}
	if (scscf_cx_sar(job->impi, job->impu, type,
			 type == SAR_RE_REGISTRATION && reg && reg->user_data,
			 on_sar_done, job->f))
		answer(job, 500, "SAR failed", NULL);
}

/* ---- Challenges ---------------------------------------------------------- */

struct chal_ctx {
	struct ims_fwd *f;
	bool stale;
};

static void on_mar_done(const struct scscf_mar_result *r, void *arg)
{
	struct chal_ctx *ctx = arg;
	struct reg_job *job = ims_fwd_data(ctx->f);
	struct scscf_chal *c;
	struct ims_buf h = { 0 };

	if (r->status) {
		answer(job, r->status, NULL, NULL);
		free(ctx);
		return;
	}
	c = scscf_auth_add(job->impi, job->impu, &r->vectors[0]);
	if (r->nvectors > 1)
		scscf_auth_spares_put(job->impi, r->vectors + 1,
				      r->nvectors - 1);
	if (!c) {
		answer(job, 500, NULL, NULL);
		free(ctx);
		return;
	}
	scscf_auth_www(c, ctx->stale, &h);
	scscf_host->counter_add(scscf_cnt.challenges, 1);
	answer(job, 401, "Unauthorized - Challenging the UE",
	       h.failed ? NULL : ims_buf_cstr(&h));
	ims_buf_free(&h);
	free(ctx);
}

/* MAR, then 401. `resync` is RAND || AUTS (TS 29.229 6.3.14). */
static void challenge(struct reg_job *job, bool stale, const uint8_t *resync,
		      size_t resync_len)
{
	struct chal_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx) {
		answer(job, 500, NULL, NULL);
		return;
	}
	ctx->f = job->f;
	ctx->stale = stale;
	if (stale)
		scscf_host->counter_add(scscf_cnt.stale, 1);
	if (!resync) {
		struct scscf_vector v;
		struct scscf_mar_result r = { .vectors = &v, .nvectors = 1 };

		if (scscf_auth_spare_take(job->impi, &v)) {
			scscf_host->counter_add(scscf_cnt.spare_vectors, 1);
			on_mar_done(&r, ctx);
			OPENSSL_cleanse(&v, sizeof(v));
			return;
		}
	} else {
		scscf_auth_spares_drop(job->impi);
	}
	/* "Unknown": the HSS answers with the subscriber's own scheme */
	if (scscf_cx_mar(job->impi, job->impu,
			 resync ? "Digest-AKAv1-MD5" : "Unknown", resync,
			 resync_len, (unsigned)scscf_cfg->vectors, on_mar_done,
			 ctx)) {
		free(ctx);
		answer(job, 500, "MAR failed", NULL);
	}
}

/* TS 33.102 6.3.5 via RFC 3310 3.4: the UE's SQN is out of range. */
static void resynchronise(struct reg_job *job, struct scscf_chal *c,
			  const char *auts_b64)
{
	uint8_t blob[16 + 14];
	int n = ims_b64_decode(auts_b64, blob + 16, 14);

	scscf_host->counter_add(scscf_cnt.resyncs, 1);
	if (n != 14 || !c->v.aka) {
		scscf_auth_del(c);
		answer(job, 400, "Bad auts", NULL);
		return;
	}
	memcpy(blob, c->v.rand, 16);
	tnd_info("%s: AUTS received, re-synchronising with the HSS", job->impi);
	scscf_auth_del(c);
	challenge(job, false, blob, sizeof(blob));
}

static void refuse(struct reg_job *job, struct scscf_chal *c)
{
	struct scscf_reg *reg = scscf_reg_find(job->impu);

	tnd_info("%s: wrong authentication response for %s", job->impi,
		 job->impu);
	scscf_host->counter_add(scscf_cnt.auth_failed, 1);
	scscf_auth_del(c);
	scscf_auth_spares_drop(job->impi);
	/* TS 24.229 5.4.1.2.3 / TS 29.228 6.1.2: a user not registered
	 * loses its S-CSCF assignment at the HSS */
	if (!reg || reg->state != REG_REGISTERED)
		scscf_cx_sar(job->impi, job->impu, SAR_AUTHENTICATION_FAILURE,
			     false, NULL, NULL);
	answer(job, 403, "Forbidden - Authentication failed", NULL);
}

static void check_answer(struct reg_job *job, const char *authz,
			 const char *nonce)
{
	struct scscf_chal *c = scscf_auth_find(nonce);
	char auts[64];

	if (!c || strcmp(c->impi, job->impi) != 0) {
		/* used, expired or never ours: a new challenge */
		tnd_info("%s: nonce unknown or used: new challenge (stale)",
			 job->impi);
		challenge(job, true, NULL, 0);
		return;
	}
	if (ims_auth_param(authz, "auts", auts, sizeof(auts)) == 0 && auts[0]) {
		resynchronise(job, c, auts);
		return;
	}
	if (scscf_auth_check(c, authz, "REGISTER")) {
		refuse(job, c);
		return;
	}
	scscf_auth_del(c);
	authorized(job);
}

/* TS 24.229 5.2.2 / 5.4.1.2.1: what the P-CSCF says of the path. */
static bool integrity_protected(const char *authz)
{
	char v[32];

	if (!authz ||
	    ims_auth_param(authz, "integrity-protected", v, sizeof(v)))
		return false;
	return strcasecmp(v, "yes") == 0 || strcasecmp(v, "tls-yes") == 0 ||
	       strcasecmp(v, "ip-assoc-yes") == 0;
}

static void start(struct reg_job *job)
{
	const struct ims_msg *msg = ims_fwd_msg(job->f);
	const char *authz = ims_msg_get(msg, "Authorization", 0);
	char nonce[128] = "";
	struct scscf_reg *reg;

	derive_impi(job, authz);
	if (authz)
		ims_auth_param(authz, "nonce", nonce, sizeof(nonce));
	if (nonce[0]) {
		check_answer(job, authz, nonce);
		return;
	}
	reg = scscf_reg_find(job->impu);
	if (!scscf_cfg->reauth_protected && integrity_protected(authz) && reg &&
	    reg->state == REG_REGISTERED && strcmp(reg->impi, job->impi) == 0) {
		authorized(job);
		return;
	}
	challenge(job, false, NULL, 0);
}

int scscf_register(struct sip_request *req, const struct sip_message *m)
{
	struct reg_job *job = calloc(1, sizeof(*job));
	char to[IMS_URI_MAX];

	scscf_host->counter_add(scscf_cnt.register_rx, 1);
	if (!job)
		return -ENOMEM;
	job->f = ims_fwd_new(req, m);
	if (!job->f) {
		free(job);
		return -ENOMEM;
	}
	ims_fwd_set_data(job->f, job, job_free);
	if (ims_msg_to_uri(ims_fwd_msg(job->f), to, sizeof(to)) ||
	    ims_aor(to, job->impu, sizeof(job->impu))) {
		answer(job, 400, "Bad To", NULL);
		return 0;
	}
	start(job);
	return 0;
}
