/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scscf_cx.c - the S-CSCF's side of Cx (TS 29.228 / 29.229): MAR for
 * authentication vectors, SAR on registration changes, and the HSS's own
 * requests: RTR (network-initiated de-registration, 6.1.3) and PPR (a new
 * profile, 6.2.2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scscf_int.h"

/* ---- Helpers ------------------------------------------------------------- */

/* A SIP status for a Cx failure (TS 24.229 5.4.1.2.1: the registration
 * is refused with 403 when the HSS refuses the user). */
static int sip_status_of(uint32_t vendor, uint32_t code)
{
	if (vendor == 0 && code == DIA_SUCCESS)
		return 0;
	if (vendor == DIA_VENDOR_3GPP && (code == DIA_FIRST_REGISTRATION ||
					  code == DIA_SUBSEQUENT_REGISTRATION))
		return 0;
	if (vendor == DIA_VENDOR_3GPP)
		return code == DIA_ERROR_USER_UNKNOWN ||
				       code == DIA_ERROR_IDENTITIES_DONT_MATCH ||
				       code == DIA_ERROR_AUTH_SCHEME_NOT_SUPPORTED ||
				       code == DIA_ERROR_ROAMING_NOT_ALLOWED
			       ? 403
			       : 500;
	if (code == DIA_AUTHORIZATION_REJECTED ||
	    code == DIA_AUTHENTICATION_REJECTED)
		return 403;
	return code == DIA_UNABLE_TO_DELIVER ? 480 : 500;
}

static struct dia_msg *cx_request(uint32_t cmd, const char *impi,
				  const char *impu)
{
	struct dia_msg *req =
		dia->request_new(DIA_APP_CX, cmd, NULL, NULL, NULL);

	if (!req)
		return NULL;
	if ((impi &&
	     dia->add_str(dia->root(req), "User-Name", impi, (size_t)-1)) ||
	    dia->add_str(dia->root(req), "Public-Identity", impu, (size_t)-1) ||
	    dia->add_str(dia->root(req), "Server-Name", scscf_cfg->name,
			 (size_t)-1)) {
		dia->msg_free(req);
		return NULL;
	}
	return req;
}

/* ---- MAR (TS 29.228 6.3) ------------------------------------------------- */

struct mar_ctx {
	scscf_mar_cb cb;
	void *arg;
};

static int hex_of_avp(struct dia_avp *parent, const char *name, char *out,
		      size_t size)
{
	struct dia_avp *a = dia->find(parent, name);
	const uint8_t *data;
	size_t len;

	if (!a || dia->get_str(a, &data, &len))
		return -ENOENT;
	return ims_hex(data, len, out, size);
}

static int read_aka(struct dia_avp *item, struct scscf_vector *v)
{
	struct dia_avp *a = dia->find(item, "SIP-Authenticate");
	const uint8_t *data;
	size_t len;

	v->aka = true;
	if (!a || dia->get_str(a, &data, &len) || len != 32)
		return -EINVAL;
	memcpy(v->rand, data, 16);
	memcpy(v->autn, data + 16, 16);
	a = dia->find(item, "SIP-Authorization");
	if (!a || dia->get_str(a, &data, &len) || len < 4 ||
	    len > sizeof(v->xres))
		return -EINVAL;
	memcpy(v->xres, data, len);
	v->xres_len = len;
	hex_of_avp(item, "Confidentiality-Key", v->ck, sizeof(v->ck));
	hex_of_avp(item, "Integrity-Key", v->ik, sizeof(v->ik));
	return 0;
}

static int read_digest(struct dia_avp *item, struct scscf_vector *v)
{
	struct dia_avp *g = dia->find(item, "SIP-Digest-Authenticate");

	v->aka = false;
	if (!g || dia->find_str(g, "Digest-HA1", v->ha1, sizeof(v->ha1)))
		return -EINVAL;
	if (dia->find_str(g, "Digest-Realm", v->realm, sizeof(v->realm)))
		ims_fmt(v->realm, sizeof(v->realm), "%s", scscf_cfg->realm);
	if (dia->find_str(g, "Digest-Algorithm", v->algorithm,
			  sizeof(v->algorithm)))
		ims_fmt(v->algorithm, sizeof(v->algorithm), "MD5");
	if (dia->find_str(g, "Digest-QoP", v->qop, sizeof(v->qop)))
		ims_fmt(v->qop, sizeof(v->qop), "auth");
	return 0;
}

static int read_vectors(struct dia_msg *ans, struct scscf_mar_result *r)
{
	struct dia_avp *item = dia->find(dia->root(ans), "SIP-Auth-Data-Item");
	size_t n = 0;

	for (struct dia_avp *i = item; i; i = dia->find_next(i))
		n++;
	if (!n)
		return -ENOENT;
	r->vectors = calloc(n, sizeof(*r->vectors));
	if (!r->vectors)
		return -ENOMEM;
	for (; item; item = dia->find_next(item)) {
		struct scscf_vector *v = &r->vectors[r->nvectors];

		dia->find_str(item, "SIP-Authentication-Scheme", v->scheme,
			      sizeof(v->scheme));
		if (strncasecmp(v->scheme, "Digest-AKA", 10) == 0
			    ? read_aka(item, v)
			    : read_digest(item, v))
			continue;
		r->nvectors++;
	}
	return r->nvectors ? 0 : -EINVAL;
}

static void on_maa(struct dia_msg *ans, int status, void *arg)
{
	struct mar_ctx *ctx = arg;
	struct scscf_mar_result r = { 0 };
	uint32_t vendor = 0;

	if (!ans) {
		tnd_notice("MAR not answered (%d)", status);
		scscf_host->counter_add(scscf_cnt.cx_errors, 1);
		r.status = 480;
	} else if (dia->result(ans, &vendor, &r.code) ||
		   (r.status = sip_status_of(vendor, r.code))) {
		if (!r.status)
			r.status = 500;
		tnd_info("MAA result %u%s: answering %d", r.code,
			 vendor ? " (3GPP)" : "", r.status);
	} else if (read_vectors(ans, &r)) {
		tnd_notice("MAA without a usable SIP-Auth-Data-Item");
		scscf_host->counter_add(scscf_cnt.cx_errors, 1);
		r.status = 500;
	}
	ctx->cb(&r, ctx->arg);
	free(r.vectors);
	free(ctx);
}

int scscf_cx_mar(const char *impi, const char *impu, const char *scheme,
		 const uint8_t *authz, size_t authz_len, unsigned count,
		 scscf_mar_cb cb, void *arg)
{
	struct dia_msg *req = cx_request(DIA_CMD_MAR, impi, impu);
	struct mar_ctx *ctx = calloc(1, sizeof(*ctx));
	struct dia_avp *item;

	if (!req || !ctx)
		goto fail;
	item = dia->add_group(dia->root(req), "SIP-Auth-Data-Item");
	if (!item ||
	    dia->add_u32(dia->root(req), "SIP-Number-Auth-Items", count) ||
	    dia->add_str(item, "SIP-Authentication-Scheme", scheme,
			 (size_t)-1) ||
	    (authz &&
	     dia->add_str(item, "SIP-Authorization", authz, authz_len)))
		goto fail;
	ctx->cb = cb;
	ctx->arg = arg;
	scscf_host->counter_add(scscf_cnt.mar, 1);
	/* send() takes the request even when it fails */
	if (dia->send(req, 0, on_maa, ctx)) {
		free(ctx);
		return -EIO;
	}
	return 0;
fail:
	if (req)
		dia->msg_free(req);
	free(ctx);
	return -ENOMEM;
}

/* ---- SAR (TS 29.228 6.1.2) ----------------------------------------------- */

struct sar_ctx {
	scscf_sar_cb cb;
	void *arg;
	int type;
	char impu[IMS_URI_MAX];
};

static void on_saa(struct dia_msg *ans, int status, void *arg)
{
	struct sar_ctx *ctx = arg;
	uint32_t vendor = 0, code = 0;
	const uint8_t *data = NULL;
	size_t len = 0;
	int sip_status;

	if (!ans) {
		tnd_notice("SAR type %d for %s not answered (%d)", ctx->type,
			   ctx->impu, status);
		scscf_host->counter_add(scscf_cnt.cx_errors, 1);
		sip_status = 480;
	} else if (dia->result(ans, &vendor, &code)) {
		sip_status = 500;
	} else {
		struct dia_avp *ud = dia->find(dia->root(ans), "User-Data");

		sip_status = sip_status_of(vendor, code);
		if (ud)
			dia->get_str(ud, &data, &len);
		if (sip_status)
			tnd_info("SAA type %d for %s: result %u%s", ctx->type,
				 ctx->impu, code, vendor ? " (3GPP)" : "");
	}
	if (ctx->cb)
		ctx->cb(sip_status, code, (const char *)data, len, ctx->arg);
	free(ctx);
}

int scscf_cx_sar(const char *impi, const char *impu, int type, bool have_data,
		 scscf_sar_cb cb, void *arg)
{
	struct dia_msg *req = cx_request(DIA_CMD_SAR, impi, impu);
	struct sar_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!req || !ctx ||
	    dia->add_u32(dia->root(req), "Server-Assignment-Type",
			 (uint32_t)type) ||
	    dia->add_u32(dia->root(req), "User-Data-Already-Available",
			 have_data ? 1 : 0)) {
		if (req)
			dia->msg_free(req);
		free(ctx);
		return -ENOMEM;
	}
	ctx->cb = cb;
	ctx->arg = arg;
	ctx->type = type;
	ims_fmt(ctx->impu, sizeof(ctx->impu), "%s", impu);
	scscf_host->counter_add(scscf_cnt.sar, 1);
	if (dia->send(req, 0, on_saa, ctx)) {
		free(ctx);
		return -EIO;
	}
	return 0;
}

/* ---- RTR and PPR: the HSS asks ------------------------------------------- */

struct by_impi {
	const char *impi;
	struct scscf_reg *found[64];
	size_t n;
};

static void collect_impi(struct scscf_reg *reg, void *arg)
{
	struct by_impi *b = arg;

	if (b->n < IMS_ARRAY_SIZE(b->found) && reg->impi &&
	    strcmp(reg->impi, b->impi) == 0)
		b->found[b->n++] = reg;
}

/* The registrations an RTR or PPR names: its Public-Identity AVPs, or
 * every registration of its User-Name. */
static void named_regs(struct dia_msg *req, const char *impi, struct by_impi *b)
{
	struct dia_avp *pi = dia->find(dia->root(req), "Public-Identity");
	char impu[IMS_URI_MAX], aor[IMS_URI_MAX];

	b->impi = impi;
	b->n = 0;
	if (!pi) {
		scscf_reg_each(collect_impi, b);
		return;
	}
	for (; pi && b->n < IMS_ARRAY_SIZE(b->found); pi = dia->find_next(pi)) {
		const uint8_t *data;
		size_t len;
		struct scscf_reg *reg;
		bool seen = false;

		if (dia->get_str(pi, &data, &len) || len >= sizeof(impu))
			continue;
		memcpy(impu, data, len);
		impu[len] = '\0';
		if (ims_aor(impu, aor, sizeof(aor)) ||
		    !(reg = scscf_reg_find(aor)))
			continue;
		for (size_t i = 0; i < b->n; i++)
			seen |= b->found[i] == reg;
		if (!seen)
			b->found[b->n++] = reg;
	}
}

/* TS 29.229 6.3.17 Reason-Code: only PERMANENT_TERMINATION (0) keeps the
 * UE from registering again (RFC 3680 "rejected"); the others ask it to
 * (RFC 3680 "deactivated"). */
static const char *event_of_reason(uint32_t reason)
{
	return reason == 0 ? "rejected" : "deactivated";
}

static int on_rtr(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	char impi[IMS_URI_MAX] = "";
	struct dia_avp *why =
		dia->find(dia->root(req), "Deregistration-Reason");
	uint32_t reason = 0;
	struct by_impi b;

	(void)arg;
	scscf_host->counter_add(scscf_cnt.rtr, 1);
	if (dia->find_str(dia->root(req), "User-Name", impi, sizeof(impi))) {
		dia->set_failed_missing(ans, "User-Name");
		return DIA_MISSING_AVP;
	}
	if (why)
		dia->find_u32(why, "Reason-Code", &reason);
	named_regs(req, impi, &b);
	tnd_notice("RTR for %s (reason %u): %zu registration(s) terminated",
		   impi, reason, b.n);
	for (size_t i = 0; i < b.n; i++)
		scscf_reg_terminate(b.found[i], -1, event_of_reason(reason),
				    "RTR from the HSS");
	return DIA_SUCCESS;
}

static int on_ppr(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	char impi[IMS_URI_MAX] = "";
	struct dia_avp *ud = dia->find(dia->root(req), "User-Data");
	const uint8_t *data = NULL;
	size_t len = 0;
	struct by_impi b;

	(void)arg;
	scscf_host->counter_add(scscf_cnt.ppr, 1);
	if (dia->find_str(dia->root(req), "User-Name", impi, sizeof(impi))) {
		dia->set_failed_missing(ans, "User-Name");
		return DIA_MISSING_AVP;
	}
	if (ud)
		dia->get_str(ud, &data, &len);
	named_regs(req, impi, &b);
	for (size_t i = 0; i < b.n && data; i++) {
		if (scscf_reg_set_user_data(b.found[i], (const char *)data,
					    len) == 0)
			scscf_reg_commit(b.found[i]);
	}
	tnd_info("PPR for %s: %zu registration(s) updated", impi, b.n);
	return DIA_SUCCESS;
}

int scscf_cx_init(void)
{
	if (dia->handle(SCSCF_SELF, DIA_APP_CX, DIA_CMD_RTR, on_rtr, NULL) ||
	    dia->handle(SCSCF_SELF, DIA_APP_CX, DIA_CMD_PPR, on_ppr, NULL))
		return -EINVAL;
	return 0;
}
