/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hss_cx.c - the Cx server of the HSS (3GPP TS 29.228 procedures, TS 29.229
 * messages): UAR, MAR, SAR and LIR answered; RTR and PPR sent.
 *
 * Every handler checks the AVPs the command requires (TS 29.229 6.1) and
 * answers a missing one with DIAMETER_MISSING_AVP (5005) and a Failed-AVP
 * naming it (RFC 6733 7.5), before touching the store.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "hss_int.h"

#define SQN_MAX ((1ULL << 48) - 1)

/* TS 29.229 6.3.15 Server-Assignment-Type. */
enum sar_type {
	SAR_NO_ASSIGNMENT = 0,
	SAR_REGISTRATION = 1,
	SAR_RE_REGISTRATION = 2,
	SAR_UNREGISTERED_USER = 3,
	SAR_TIMEOUT_DEREGISTRATION = 4,
	SAR_USER_DEREGISTRATION = 5,
	SAR_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME = 6,
	SAR_USER_DEREGISTRATION_STORE_SERVER_NAME = 7,
	SAR_ADMINISTRATIVE_DEREGISTRATION = 8,
	SAR_AUTHENTICATION_FAILURE = 9,
	SAR_AUTHENTICATION_TIMEOUT = 10,
	SAR_DEREGISTRATION_TOO_MUCH_DATA = 11,
	SAR_AAA_USER_DATA_REQUEST = 12,
	SAR_PGW_UPDATE = 13,
	SAR_RESTORATION = 14,
};

/* TS 29.229 6.3.24 User-Authorization-Type. */
enum uar_type {
	UAR_REGISTRATION = 0,
	UAR_DE_REGISTRATION = 1,
	UAR_REGISTRATION_AND_CAPABILITIES = 2,
};

/* ---- Small helpers ------------------------------------------------------ */

static int missing(struct dia_msg *ans, const char *name)
{
	dia->set_failed_missing(ans, name);
	hss_host->counter_add(hss_cnt.errors, 1);
	tnd_info("request without %s: answering 5005", name);
	return DIA_MISSING_AVP;
}

static int experimental(struct dia_msg *ans, uint32_t code)
{
	dia->set_experimental(ans, DIA_VENDOR_3GPP, code);
	if (code >= 3000)
		hss_host->counter_add(hss_cnt.errors, 1);
	return (int)code; /* the result is set: any code but DIA_DEFER */
}

/* A string AVP that must be there: 0, or the 5005 to return. */
static int need_str(struct dia_msg *req, struct dia_msg *ans, const char *name,
		    char *buf, size_t size)
{
	int rc = dia->find_str(dia->root(req), name, buf, size);

	if (rc == -ENOENT)
		return missing(ans, name);
	if (rc) { /* too long, or a NUL inside: not an identity of ours */
		dia->set_failed_avp(ans, dia->find(dia->root(req), name));
		hss_host->counter_add(hss_cnt.errors, 1);
		return DIA_INVALID_AVP_VALUE;
	}
	return 0;
}

static bool is_home_network(const char *visited)
{
	char buf[512], *save = NULL, *w;
	const char *list = hss_cfg->home_networks[0] ? hss_cfg->home_networks
						     : dia->realm();

	snprintf(buf, sizeof(buf), "%s", list);
	for (w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save))
		if (strcasecmp(w, visited) == 0)
			return true;
	return false;
}

/* Identities of one subscription (TS 29.228 6.1.1.1 step 1 and 2). */
static int lookup_pair(struct dia_msg *ans, const char *impi_name,
		       const char *impu_name, struct hss_impi *impi,
		       struct hss_impu *impu)
{
	if (hss_impi_get(hss_db, impi_name, impi) ||
	    hss_impu_get(hss_db, impu_name, impu)) {
		tnd_info("unknown user %s / %s", impi_name, impu_name);
		return experimental(ans, DIA_ERROR_USER_UNKNOWN);
	}
	if (impi->subscription_id != impu->subscription_id) {
		tnd_info("%s and %s are not of one subscription", impi_name,
			 impu_name);
		return experimental(ans, DIA_ERROR_IDENTITIES_DONT_MATCH);
	}
	return 0;
}

static void add_capabilities(struct dia_msg *ans,
			     const struct hss_subscription *sub)
{
	struct dia_avp *caps =
		dia->add_group(dia->root(ans), "Server-Capabilities");
	char buf[512], *save = NULL, *w;

	if (!caps)
		return;
	snprintf(buf, sizeof(buf), "%s", sub->mandatory_caps);
	for (w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save))
		dia->add_u32(caps, "Mandatory-Capability",
			     (uint32_t)strtoul(w, NULL, 10));
	snprintf(buf, sizeof(buf), "%s", sub->optional_caps);
	for (w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save))
		dia->add_u32(caps, "Optional-Capability",
			     (uint32_t)strtoul(w, NULL, 10));
	snprintf(buf, sizeof(buf), "%s", hss_cfg->scscf_names);
	for (w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save))
		dia->add_str(caps, "Server-Name", w, (size_t)-1);
}

/* ---- UAR: TS 29.228 6.1.1 ----------------------------------------------- */

static int uar_answer(struct dia_msg *ans, const struct hss_impu *impu,
		      const struct hss_subscription *sub, uint32_t type)
{
	bool assigned = sub->scscf_name[0] != '\0';

	if (type == UAR_DE_REGISTRATION) {
		if (!assigned)
			return experimental(ans,
					    DIA_ERROR_IDENTITY_NOT_REGISTERED);
		dia->add_str(dia->root(ans), "Server-Name", sub->scscf_name,
			     (size_t)-1);
		return DIA_SUCCESS;
	}
	if (type == UAR_REGISTRATION_AND_CAPABILITIES || !assigned) {
		add_capabilities(ans, sub);
		return experimental(ans, DIA_FIRST_REGISTRATION);
	}
	dia->add_str(dia->root(ans), "Server-Name", sub->scscf_name,
		     (size_t)-1);
	return experimental(ans, impu->reg_state == HSS_NOT_REGISTERED
					 ? DIA_FIRST_REGISTRATION
					 : DIA_SUBSEQUENT_REGISTRATION);
}

static int on_uar(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	char impi_name[HSS_ID_LEN], impu_name[HSS_ID_LEN], visited[256];
	struct hss_impi impi;
	struct hss_impu impu;
	struct hss_subscription sub;
	uint32_t type = UAR_REGISTRATION;
	int rc;

	(void)arg;
	hss_host->counter_add(hss_cnt.uar, 1);
	if ((rc = need_str(req, ans, "User-Name", impi_name,
			   sizeof(impi_name))) ||
	    (rc = need_str(req, ans, "Public-Identity", impu_name,
			   sizeof(impu_name))) ||
	    (rc = need_str(req, ans, "Visited-Network-Identifier", visited,
			   sizeof(visited))))
		return rc;
	dia->find_u32(dia->root(req), "User-Authorization-Type", &type);
	if ((rc = lookup_pair(ans, impi_name, impu_name, &impi, &impu)))
		return rc;
	if (hss_subscription_get(hss_db, impi.subscription_id, &sub))
		return DIA_UNABLE_TO_COMPLY;
	if (impu.barred && type != UAR_DE_REGISTRATION) {
		tnd_info("UAR for barred %s refused", impu_name);
		hss_host->counter_add(hss_cnt.errors, 1);
		return DIA_AUTHORIZATION_REJECTED;
	}
	if (!sub.roaming_allowed && !is_home_network(visited)) {
		tnd_info("%s may not roam into %s", impi_name, visited);
		return experimental(ans, DIA_ERROR_ROAMING_NOT_ALLOWED);
	}
	return uar_answer(ans, &impu, &sub, type);
}

/* ---- MAR: TS 29.228 6.3 ------------------------------------------------- */

static void sqn_bytes(uint64_t sqn, uint8_t out[HSS_SQN_LEN])
{
	for (int i = HSS_SQN_LEN - 1; i >= 0; i--, sqn >>= 8)
		out[i] = (uint8_t)sqn;
}

static uint64_t sqn_value(const uint8_t in[HSS_SQN_LEN])
{
	uint64_t v = 0;

	for (int i = 0; i < HSS_SQN_LEN; i++)
		v = v << 8 | in[i];
	return v;
}

struct aka_keys {
	uint8_t k[HSS_K_LEN], opc[HSS_OP_LEN], amf[HSS_AMF_LEN];
};

static int aka_keys_of(const struct hss_impi *impi, struct aka_keys *keys)
{
	uint8_t op[HSS_OP_LEN];

	if (hss_hex_parse(impi->k, keys->k, HSS_K_LEN) ||
	    hss_hex_parse(impi->amf[0] ? impi->amf : "8000", keys->amf,
			  HSS_AMF_LEN))
		return -EINVAL;
	if (impi->opc[0])
		return hss_hex_parse(impi->opc, keys->opc, HSS_OP_LEN);
	if (hss_hex_parse(impi->op, op, HSS_OP_LEN))
		return -EINVAL;
	return hss_milenage_opc(keys->k, op, keys->opc);
}

/*
 * TS 33.102 6.3.5: the UE sent RAND || AUTS (TS 29.229 6.3.14). A valid
 * AUTS gives SQN_MS, from which the HSS counts on (Annex C).
 */
static int resync(struct dia_msg *ans, struct hss_impi *impi,
		  const struct aka_keys *keys, struct dia_avp *authz)
{
	uint8_t sqn_ms[HSS_SQN_LEN];
	const uint8_t *data;
	size_t len;

	hss_host->counter_add(hss_cnt.resyncs, 1);
	if (dia->get_str(authz, &data, &len) ||
	    len != HSS_RAND_LEN + HSS_AUTS_LEN) {
		dia->set_failed_avp(ans, authz);
		return DIA_INVALID_AVP_VALUE;
	}
	if (hss_milenage_auts_check(keys->k, keys->opc, data,
				    data + HSS_RAND_LEN, sqn_ms, NULL)) {
		tnd_notice("%s: AUTS does not verify: re-synchronisation "
			   "refused",
			   impi->name);
		hss_host->counter_add(hss_cnt.errors, 1);
		return DIA_AUTHENTICATION_REJECTED;
	}
	tnd_info("%s: re-synchronised, SQN %llu -> %llu", impi->name,
		 (unsigned long long)impi->sqn,
		 (unsigned long long)sqn_value(sqn_ms));
	impi->sqn = sqn_value(sqn_ms);
	return 0;
}

static int add_aka_item(struct dia_msg *ans, const struct aka_keys *keys,
			uint64_t sqn, uint32_t number)
{
	struct hss_aka_vector v;
	uint8_t rand[HSS_RAND_LEN], sqn_b[HSS_SQN_LEN];
	uint8_t challenge[HSS_RAND_LEN + HSS_AUTN_LEN];
	struct dia_avp *item;

	sqn_bytes(sqn, sqn_b);
	/*
	 * Some S-CSCFs and UEs (sipp 3.6, Kamailio 5.6 in our interop test)
	 * treat RES as a C string: a RES with a zero byte then never
	 * matches. With res_without_nul a fresh RAND is drawn instead (at
	 * most a few times: 3 % of RANDs give such a RES).
	 */
	for (int tries = 0;; tries++) {
		if (RAND_bytes(rand, sizeof(rand)) != 1)
			return -EIO;
		if (hss_milenage_vector(keys->k, keys->opc, rand, sqn_b,
					keys->amf, &v))
			return -EIO;
		if (!hss_cfg->res_without_nul || tries == 15 ||
		    !memchr(v.xres, 0, sizeof(v.xres)))
			break;
	}
	memcpy(challenge, v.rand, HSS_RAND_LEN);
	memcpy(challenge + HSS_RAND_LEN, v.autn, HSS_AUTN_LEN);
	item = dia->add_group(dia->root(ans), "SIP-Auth-Data-Item");
	if (!item || dia->add_u32(item, "SIP-Item-Number", number) ||
	    dia->add_str(item, "SIP-Authentication-Scheme", "Digest-AKAv1-MD5",
			 (size_t)-1) ||
	    dia->add_str(item, "SIP-Authenticate", challenge,
			 sizeof(challenge)) ||
	    dia->add_str(item, "SIP-Authorization", v.xres, sizeof(v.xres)) ||
	    dia->add_str(item, "Confidentiality-Key", v.ck, sizeof(v.ck)) ||
	    dia->add_str(item, "Integrity-Key", v.ik, sizeof(v.ik)))
		return -ENOMEM;
	hss_host->counter_add(hss_cnt.vectors, 1);
	return 0;
}

static int mar_aka(struct dia_msg *ans, struct hss_impi *impi,
		   struct dia_avp *item, uint32_t count)
{
	struct dia_avp *authz = dia->find(item, "SIP-Authorization");
	struct aka_keys keys;
	uint64_t sqn;
	int rc;

	if (aka_keys_of(impi, &keys)) {
		tnd_notice("%s has no usable K and OP/OPc for AKA", impi->name);
		return experimental(ans, DIA_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
	}
	if (authz && (rc = resync(ans, impi, &keys, authz)))
		return rc;
	sqn = impi->sqn;
	for (uint32_t i = 0; i < count; i++) {
		/* TS 33.102 C.1.1.1: a fresh SEQ for every vector. */
		sqn = (sqn + hss_cfg->sqn_step) & SQN_MAX;
		if (add_aka_item(ans, &keys, sqn, i + 1))
			return DIA_UNABLE_TO_COMPLY;
	}
	if (hss_impi_set_sqn(hss_db, impi->id, sqn)) {
		tnd_error("%s: cannot store SQN", impi->name);
		return DIA_UNABLE_TO_COMPLY;
	}
	dia->add_u32(dia->root(ans), "SIP-Number-Auth-Items", count);
	return DIA_SUCCESS;
}

/* HA1 = MD5(username ":" realm ":" password), RFC 2617 3.2.2.2. */
static int digest_ha1(const char *user, const char *realm, const char *pw,
		      char hex[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) &&
		 EVP_DigestUpdate(ctx, user, strlen(user)) &&
		 EVP_DigestUpdate(ctx, ":", 1) &&
		 EVP_DigestUpdate(ctx, realm, strlen(realm)) &&
		 EVP_DigestUpdate(ctx, ":", 1) &&
		 EVP_DigestUpdate(ctx, pw, strlen(pw)) &&
		 EVP_DigestFinal_ex(ctx, md, &n);

	EVP_MD_CTX_free(ctx);
	return ok && n == 16 ? hss_hex_format(md, 16, hex, 33) : -EIO;
}

/* TS 29.229 6.3.36: SIP Digest, for PBX trunks registering as a UE. */
static int mar_digest(struct dia_msg *ans, const struct hss_impi *impi,
		      const char *scheme)
{
	const char *realm =
		hss_cfg->digest_realm[0] ? hss_cfg->digest_realm : dia->realm();
	struct dia_avp *item, *dig;
	char ha1[33];

	if (!impi->password[0] ||
	    digest_ha1(impi->name, realm, impi->password, ha1)) {
		tnd_notice("%s has no password for SIP Digest", impi->name);
		return experimental(ans, DIA_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
	}
	item = dia->add_group(dia->root(ans), "SIP-Auth-Data-Item");
	if (!item ||
	    dia->add_str(item, "SIP-Authentication-Scheme", scheme, (size_t)-1))
		return DIA_UNABLE_TO_COMPLY;
	dig = dia->add_group(item, "SIP-Digest-Authenticate");
	if (!dig || dia->add_str(dig, "Digest-Realm", realm, (size_t)-1) ||
	    dia->add_str(dig, "Digest-Algorithm", "MD5", (size_t)-1) ||
	    dia->add_str(dig, "Digest-QoP", "auth", (size_t)-1) ||
	    dia->add_str(dig, "Digest-HA1", ha1, (size_t)-1))
		return DIA_UNABLE_TO_COMPLY;
	dia->add_u32(dia->root(ans), "SIP-Number-Auth-Items", 1);
	return DIA_SUCCESS;
}

static bool scheme_is_aka(const char *s)
{
	return strncasecmp(s, "Digest-AKAv1", 12) == 0 ||
	       strncasecmp(s, "Digest-AKAv2", 12) == 0;
}

static bool scheme_is_digest(const char *s)
{
	return strcasecmp(s, "SIP Digest") == 0 ||
	       strcasecmp(s, "Digest-MD5") == 0 || strcasecmp(s, "MD5") == 0 ||
	       strcasecmp(s, "Digest") == 0;
}

static int on_mar(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	char impi_name[HSS_ID_LEN], impu_name[HSS_ID_LEN], server[HSS_ID_LEN];
	char scheme[64] = "Unknown";
	struct hss_impi impi;
	struct hss_impu impu;
	struct dia_avp *item;
	uint32_t count = 0;
	int rc;

	(void)arg;
	hss_host->counter_add(hss_cnt.mar, 1);
	if ((rc = need_str(req, ans, "User-Name", impi_name,
			   sizeof(impi_name))) ||
	    (rc = need_str(req, ans, "Public-Identity", impu_name,
			   sizeof(impu_name))) ||
	    (rc = need_str(req, ans, "Server-Name", server, sizeof(server))))
		return rc;
	if (dia->find_u32(dia->root(req), "SIP-Number-Auth-Items", &count))
		return missing(ans, "SIP-Number-Auth-Items");
	item = dia->find(dia->root(req), "SIP-Auth-Data-Item");
	if (!item)
		return missing(ans, "SIP-Auth-Data-Item");
	dia->find_str(item, "SIP-Authentication-Scheme", scheme,
		      sizeof(scheme));
	if ((rc = lookup_pair(ans, impi_name, impu_name, &impi, &impu)))
		return rc;
	dia->add_str(dia->root(ans), "User-Name", impi_name, (size_t)-1);
	dia->add_str(dia->root(ans), "Public-Identity", impu_name, (size_t)-1);
	if (strcasecmp(scheme, "Unknown") == 0)
		snprintf(scheme, sizeof(scheme), "%s",
			 strcmp(impi.scheme, "digest") == 0
				 ? "SIP Digest"
				 : "Digest-AKAv1-MD5");
	if (scheme_is_aka(scheme)) {
		count = count < 1 ? 1
			: count > hss_cfg->max_vectors
				? (uint32_t)hss_cfg->max_vectors
				: count;
		return mar_aka(ans, &impi, item, count);
	}
	if (scheme_is_digest(scheme))
		return mar_digest(ans, &impi, scheme);
	tnd_info("MAR for %s with scheme '%s' refused", impi_name, scheme);
	return experimental(ans, DIA_ERROR_AUTH_SCHEME_NOT_SUPPORTED);
}

/* ---- SAR: TS 29.228 6.1.2 ----------------------------------------------- */

/* "uri1 uri2": the primary and the secondary function name, if any. */
static void add_function_names(struct dia_avp *group, const char *list,
			       const char *primary, const char *secondary)
{
	char buf[512], *save = NULL, *w;

	snprintf(buf, sizeof(buf), "%s", list);
	w = strtok_r(buf, " ,", &save);
	if (w)
		dia->add_str(group, primary, w, (size_t)-1);
	w = w ? strtok_r(NULL, " ,", &save) : NULL;
	if (w)
		dia->add_str(group, secondary, w, (size_t)-1);
}

/* TS 29.228 6.1.2.1, TS 29.229 6.3.19: the charging functions travel
 * with the user profile. */
static void add_charging(struct dia_msg *ans)
{
	struct dia_avp *ci;

	if (!hss_cfg->charging_ccf[0] && !hss_cfg->charging_ecf[0])
		return;
	ci = dia->add_group(dia->root(ans), "Charging-Information");
	if (!ci)
		return;
	add_function_names(ci, hss_cfg->charging_ecf,
			   "Primary-Event-Charging-Function-Name",
			   "Secondary-Event-Charging-Function-Name");
	add_function_names(ci, hss_cfg->charging_ccf,
			   "Primary-Charging-Collection-Function-Name",
			   "Secondary-Charging-Collection-Function-Name");
}

static int add_user_data(struct dia_msg *ans, const struct hss_impi *impi,
			 int irs)
{
	struct hss_buf xml = { 0 };
	int rc = hss_user_data(impi, irs, &xml);

	if (rc == 0)
		rc = dia->add_str(dia->root(ans), "User-Data", xml.data,
				  xml.len);
	hss_buf_free(&xml);
	if (rc == 0)
		add_charging(ans);
	return rc;
}

/* ---- S-CSCF restoration (TS 29.228 6.1.2, TS 23.380 4.3) -------------- */

static void str_of(struct dia_avp *parent, const char *name, char *buf,
		   size_t size)
{
	if (dia->find_str(parent, name, buf, size))
		buf[0] = '\0';
}

static uint32_t time_of(struct dia_avp *parent, const char *name)
{
	struct dia_avp *avp = dia->find(parent, name);
	const uint8_t *v;
	size_t len;

	if (!avp || dia->get_str(avp, &v, &len) || len != 4)
		return 0;
	return (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
	       (uint32_t)v[2] << 8 | v[3];
}

/*
 * SCSCF-Restoration-Info in a SAR (TS 29.229 6.3.46): what the S-CSCF
 * knows of the contacts of one IMPI, kept to give to the S-CSCF that
 * takes over. It replaces what was kept for that IMPI. Subscription-Info
 * is not kept.
 */
static int restoration_store(struct dia_msg *req)
{
	struct dia_avp *sri =
		dia->find(dia->root(req), "SCSCF-Restoration-Info");
	struct hss_restoration r = { 0 };
	struct dia_avp *ri;
	uint32_t cseq;

	if (!sri || dia->find_str(sri, "User-Name", r.impi, sizeof(r.impi)))
		return 0;
	r.timeout = time_of(sri, "Registration-Time-Out");
	str_of(sri, "SIP-Authentication-Scheme", r.scheme, sizeof(r.scheme));
	if (hss_restoration_clear(hss_db, r.impi))
		return -EIO;
	for (ri = dia->find(sri, "Restoration-Info"); ri;
	     ri = dia->find_next(ri)) {
		str_of(ri, "Contact", r.contact, sizeof(r.contact));
		if (!r.contact[0])
			continue; /* Contact is mandatory: skip the item */
		str_of(ri, "Path", r.path, sizeof(r.path));
		str_of(ri, "Call-ID-SIP-Header", r.call_id, sizeof(r.call_id));
		r.cseq = -1;
		if (dia->find_u32(ri, "Initial-CSeq-Sequence-Number", &cseq) ==
		    0)
			r.cseq = cseq;
		if (hss_restoration_put(hss_db, &r))
			return -EIO;
	}
	return 0;
}

struct resto_ctx {
	struct dia_avp *sri; /* the SCSCF-Restoration-Info being built */
	struct dia_msg *ans;
	int added;
};

static int add_restoration_item(const struct hss_restoration *r, void *arg)
{
	struct resto_ctx *c = arg;
	struct dia_avp *ri;

	if (!c->sri) {
		c->sri = dia->add_group(dia->root(c->ans),
					"SCSCF-Restoration-Info");
		if (!c->sri ||
		    dia->add_str(c->sri, "User-Name", r->impi, (size_t)-1))
			return -ENOMEM;
	}
	ri = dia->add_group(c->sri, "Restoration-Info");
	if (!ri || dia->add_str(ri, "Path", r->path, (size_t)-1) ||
	    dia->add_str(ri, "Contact", r->contact, (size_t)-1))
		return -ENOMEM;
	if (r->cseq >= 0)
		dia->add_u32(ri, "Initial-CSeq-Sequence-Number",
			     (uint32_t)r->cseq);
	if (r->call_id[0])
		dia->add_str(ri, "Call-ID-SIP-Header", r->call_id, (size_t)-1);
	if (c->added++ == 0) { /* once per IMPI: its timer and scheme */
		uint8_t t[4] = { r->timeout >> 24, r->timeout >> 16,
				 r->timeout >> 8, r->timeout };

		if (r->timeout)
			dia->add_str(c->sri, "Registration-Time-Out", t, 4);
		if (r->scheme[0])
			dia->add_str(c->sri, "SIP-Authentication-Scheme",
				     r->scheme, (size_t)-1);
	}
	return 0;
}

/* One SCSCF-Restoration-Info per IMPI of the subscription that has
 * contacts kept. */
static int add_restoration_of(const struct hss_impi *impi, void *arg)
{
	struct resto_ctx c = { NULL, arg, 0 };

	return hss_restoration_each(hss_db, impi->name, add_restoration_item,
				    &c) < 0
		       ? -ENOMEM
		       : 0;
}

static int add_associated(const struct hss_impi *impi, void *arg)
{
	struct dia_avp *group = arg;

	dia->add_str(group, "User-Name", impi->name, (size_t)-1);
	return 0;
}

static int sar_register(struct dia_msg *req, struct dia_msg *ans,
			struct hss_impi *impi, struct hss_impu *impu,
			const char *server, uint32_t type, int state)
{
	struct hss_subscription sub;
	struct dia_msg_info info;
	char origin[HSS_ID_LEN] = "";
	uint32_t already = 0;

	if (dia->msg_info(req, &info) == 0 && info.origin_host &&
	    info.origin_host_len < sizeof(origin)) {
		memcpy(origin, info.origin_host, info.origin_host_len);
		origin[info.origin_host_len] = '\0';
	}
	/* A re-registration usually changes nothing: spare the writes. */
	if (hss_subscription_get(hss_db, impi->subscription_id, &sub) ||
	    strcmp(sub.scscf_name, server) || strcmp(sub.scscf_host, origin))
		if (hss_subscription_assign(hss_db, impi->subscription_id,
					    server, origin))
			return DIA_UNABLE_TO_COMPLY;
	if (impu->reg_state != state &&
	    hss_irs_set_state(hss_db, impi->subscription_id, impu->irs, state))
		return DIA_UNABLE_TO_COMPLY;
	if (restoration_store(req))
		return DIA_UNABLE_TO_COMPLY;
	dia->find_u32(dia->root(req), "User-Data-Already-Available", &already);
	if (type == SAR_RE_REGISTRATION && already == 1)
		return DIA_SUCCESS;
	if (add_user_data(ans, impi, impu->irs))
		return DIA_UNABLE_TO_COMPLY;
	return DIA_SUCCESS;
}

static int sar_deregister(struct hss_impi *impi, struct hss_impu *impu,
			  uint32_t type)
{
	bool keep_name = type == SAR_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME ||
			 type == SAR_USER_DEREGISTRATION_STORE_SERVER_NAME;

	if (hss_irs_set_state(hss_db, impi->subscription_id, impu->irs,
			      HSS_NOT_REGISTERED) ||
	    hss_restoration_clear(hss_db, impi->name))
		return DIA_UNABLE_TO_COMPLY;
	if (!keep_name &&
	    hss_subscription_assign(hss_db, impi->subscription_id, "", ""))
		return DIA_UNABLE_TO_COMPLY;
	return DIA_SUCCESS;
}

/*
 * RESTORATION (TS 29.228 6.1.2.1, TS 23.380 4.3): an S-CSCF lost what it
 * knew of a registered user (or takes over from one that failed). It gets
 * the profile and the restoration information kept; the HSS assigns the
 * user to it.
 */
static int sar_restoration(struct dia_msg *req, struct dia_msg *ans,
			   struct hss_impi *impi, struct hss_impu *impu,
			   const char *server)
{
	struct hss_subscription sub;
	struct dia_msg_info info;
	char origin[HSS_ID_LEN] = "";

	if (impu->reg_state == HSS_NOT_REGISTERED)
		return experimental(ans, DIA_ERROR_IDENTITY_NOT_REGISTERED);
	if (dia->msg_info(req, &info) == 0 && info.origin_host &&
	    info.origin_host_len < sizeof(origin)) {
		memcpy(origin, info.origin_host, info.origin_host_len);
		origin[info.origin_host_len] = '\0';
	}
	if (hss_subscription_get(hss_db, impi->subscription_id, &sub) ||
	    ((strcmp(sub.scscf_name, server) ||
	      strcmp(sub.scscf_host, origin)) &&
	     hss_subscription_assign(hss_db, impi->subscription_id, server,
				     origin)))
		return DIA_UNABLE_TO_COMPLY;
	if (restoration_store(req) || add_user_data(ans, impi, impu->irs) ||
	    hss_impis_each(hss_db, impi->subscription_id, add_restoration_of,
			   ans) < 0)
		return DIA_UNABLE_TO_COMPLY;
	tnd_info("%s restored at %s", impu->identity, server);
	return DIA_SUCCESS;
}

static int sar_dispatch(struct dia_msg *req, struct dia_msg *ans,
			struct hss_impi *impi, struct hss_impu *impu,
			const char *server, uint32_t type)
{
	struct hss_subscription sub;

	switch (type) {
	case SAR_RESTORATION:
		return sar_restoration(req, ans, impi, impu, server);
	case SAR_NO_ASSIGNMENT:
		if (hss_subscription_get(hss_db, impi->subscription_id, &sub) ||
		    strcmp(sub.scscf_name, server) != 0)
			return DIA_UNABLE_TO_COMPLY;
		return add_user_data(ans, impi, impu->irs)
			       ? DIA_UNABLE_TO_COMPLY
			       : DIA_SUCCESS;
	case SAR_REGISTRATION:
	case SAR_RE_REGISTRATION:
		return sar_register(req, ans, impi, impu, server, type,
				    HSS_REGISTERED);
	case SAR_UNREGISTERED_USER:
		return sar_register(req, ans, impi, impu, server, type,
				    HSS_UNREGISTERED);
	case SAR_TIMEOUT_DEREGISTRATION:
	case SAR_USER_DEREGISTRATION:
	case SAR_TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME:
	case SAR_USER_DEREGISTRATION_STORE_SERVER_NAME:
	case SAR_ADMINISTRATIVE_DEREGISTRATION:
	case SAR_DEREGISTRATION_TOO_MUCH_DATA:
		return sar_deregister(impi, impu, type);
	case SAR_AUTHENTICATION_FAILURE:
	case SAR_AUTHENTICATION_TIMEOUT:
		/* TS 29.228 6.1.2.1: an unregistered user loses the S-CSCF
		 * name; a registered one keeps it. */
		if (impu->reg_state == HSS_NOT_REGISTERED)
			hss_subscription_assign(hss_db, impi->subscription_id,
						"", "");
		return DIA_SUCCESS;
	default: return experimental(ans, DIA_ERROR_IN_ASSIGNMENT_TYPE);
	}
}

struct irs_ref {
	int irs;
};

static int notify_state(const struct hss_impu *u, void *arg)
{
	const struct irs_ref *ref = arg;

	if (u->irs == ref->irs) /* TS 29.328 7.6: IMSUserState (11) */
		hss_sh_notify(u->identity, 11, "", NULL);
	return 0;
}

/* The IMPI of a SAR without User-Name: the subscription's first. */
static int first_impi(const struct hss_impi *impi, void *arg)
{
	*(struct hss_impi *)arg = *impi;
	return 1;
}

static int on_sar(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	char impi_name[HSS_ID_LEN] = "", impu_name[HSS_ID_LEN];
	char server[HSS_ID_LEN];
	struct hss_impi impi;
	struct hss_impu impu;
	struct dia_avp *assoc;
	uint32_t type, already;
	int rc;

	(void)arg;
	hss_host->counter_add(hss_cnt.sar, 1);
	if ((rc = need_str(req, ans, "Public-Identity", impu_name,
			   sizeof(impu_name))) ||
	    (rc = need_str(req, ans, "Server-Name", server, sizeof(server))))
		return rc;
	if (dia->find_u32(dia->root(req), "Server-Assignment-Type", &type))
		return missing(ans, "Server-Assignment-Type");
	if (dia->find_u32(dia->root(req), "User-Data-Already-Available",
			  &already))
		return missing(ans, "User-Data-Already-Available");
	rc = dia->find_str(dia->root(req), "User-Name", impi_name,
			   sizeof(impi_name));
	if (rc == 0) {
		if ((rc = lookup_pair(ans, impi_name, impu_name, &impi, &impu)))
			return rc;
	} else if (hss_impu_get(hss_db, impu_name, &impu) ||
		   hss_impis_each(hss_db, impu.subscription_id, first_impi,
				  &impi) != 1) {
		return experimental(ans, DIA_ERROR_USER_UNKNOWN);
	}
	dia->add_str(dia->root(ans), "User-Name", impi.name, (size_t)-1);
	rc = sar_dispatch(req, ans, &impi, &impu, server, type);
	if (rc == DIA_SUCCESS && type != SAR_NO_ASSIGNMENT &&
	    hss_shsub_any(hss_db)) {
		struct irs_ref ref = { impu.irs };

		hss_impus_each(hss_db, impi.subscription_id, notify_state,
			       &ref);
	}
	assoc = dia->add_group(dia->root(ans), "Associated-Identities");
	if (assoc)
		hss_impis_each(hss_db, impi.subscription_id, add_associated,
			       assoc);
	tnd_debug("SAR %s type %u from %s: %d", impu_name, type, server, rc);
	return rc;
}

/* ---- LIR: TS 29.228 6.1.4 ----------------------------------------------- */

static int on_lir(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	char impu_name[HSS_ID_LEN];
	struct hss_impu impu;
	struct hss_subscription sub;
	int rc;

	(void)arg;
	hss_host->counter_add(hss_cnt.lir, 1);
	if ((rc = need_str(req, ans, "Public-Identity", impu_name,
			   sizeof(impu_name))))
		return rc;
	if (hss_impu_get(hss_db, impu_name, &impu) ||
	    hss_subscription_get(hss_db, impu.subscription_id, &sub))
		return experimental(ans, DIA_ERROR_USER_UNKNOWN);
	if (impu.type == HSS_WILDCARDED_PSI)
		dia->add_str(dia->root(ans), "Wildcarded-Public-Identity",
			     impu.identity, (size_t)-1);
	if (sub.scscf_name[0]) {
		dia->add_str(dia->root(ans), "Server-Name", sub.scscf_name,
			     (size_t)-1);
		return DIA_SUCCESS;
	}
	/* Not registered, no S-CSCF: one may be chosen for services of the
	 * unregistered state when the identity has a profile. */
	if (impu.profile[0]) {
		add_capabilities(ans, &sub);
		return experimental(ans, DIA_UNREGISTERED_SERVICE);
	}
	return experimental(ans, DIA_ERROR_IDENTITY_NOT_REGISTERED);
}

/* ---- RTR and PPR: the HSS asks the S-CSCF ---------------------------------
 */

static void on_hss_answer(struct dia_msg *ans, int status, void *arg)
{
	const char *what = arg;
	uint32_t vendor = 0, code = 0;

	if (!ans) {
		tnd_notice("%s not answered (%d)", what, status);
		return;
	}
	dia->result(ans, &vendor, &code);
	tnd_info("%s answered %u%s", what, code, vendor ? " (3GPP)" : "");
}

static struct dia_msg *request_to_scscf(const struct hss_subscriber *s,
					uint32_t cmd)
{
	struct dia_msg *req;

	if (!s->sub.scscf_host[0])
		return NULL;
	req = dia->request_new(DIA_APP_CX, cmd, NULL, NULL, s->sub.scscf_host);
	if (req && dia->add_str(dia->root(req), "User-Name", s->impi.name,
				(size_t)-1)) {
		dia->msg_free(req);
		return NULL;
	}
	return req;
}

int hss_cx_send_rtr(const struct hss_subscriber *s, uint32_t reason_code,
		    const char *reason_info)
{
	struct dia_msg *req = request_to_scscf(s, DIA_CMD_RTR);
	struct dia_avp *reason;

	if (!req)
		return -ENOENT;
	for (size_t i = 0; i < s->nimpus; i++)
		if (s->impus[i].reg_state != HSS_NOT_REGISTERED)
			dia->add_str(dia->root(req), "Public-Identity",
				     s->impus[i].identity, (size_t)-1);
	reason = dia->add_group(dia->root(req), "Deregistration-Reason");
	if (!reason || dia->add_u32(reason, "Reason-Code", reason_code) ||
	    (reason_info &&
	     dia->add_str(reason, "Reason-Info", reason_info, (size_t)-1))) {
		dia->msg_free(req);
		return -ENOMEM;
	}
	hss_host->counter_add(hss_cnt.rtr, 1);
	tnd_notice("RTR for %s to %s (reason %u)", s->impi.name,
		   s->sub.scscf_host, reason_code);
	return dia->send(req, 0, on_hss_answer, "RTR");
}

int hss_cx_send_ppr(const struct hss_subscriber *s)
{
	struct dia_msg *req = request_to_scscf(s, DIA_CMD_PPR);
	struct hss_buf xml = { 0 };
	int rc;

	if (!req)
		return -ENOENT;
	rc = hss_user_data(&s->impi, 0, &xml);
	if (rc == 0)
		rc = dia->add_str(dia->root(req), "User-Data", xml.data,
				  xml.len);
	hss_buf_free(&xml);
	if (rc) {
		dia->msg_free(req);
		return rc;
	}
	hss_host->counter_add(hss_cnt.ppr, 1);
	tnd_info("PPR for %s to %s", s->impi.name, s->sub.scscf_host);
	return dia->send(req, 0, on_hss_answer, "PPR");
}

int hss_cx_register(void)
{
	static const struct {
		uint32_t cmd;
		dia_request_cb cb;
	} handlers[] = {
		{ DIA_CMD_UAR, on_uar },
		{ DIA_CMD_MAR, on_mar },
		{ DIA_CMD_SAR, on_sar },
		{ DIA_CMD_LIR, on_lir },
	};

	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (hss_batch_handle(DIA_APP_CX, handlers[i].cmd,
				     handlers[i].cb))
			return -EINVAL;
	return 0;
}
