/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scscf_auth.c - challenges and their answers. Digest-AKAv1-MD5
 * (RFC 3310, TS 33.203 6.1, TS 24.229 5.4.1.2): the nonce is
 * base64(RAND || AUTN), the Digest password is RES as octets; the 401 to
 * the P-CSCF carries CK and IK (the P-CSCF takes them out). SIP Digest
 * MD5 (RFC 2617) for PBX trunks that register as a UE, with the HA1 the
 * HSS gives (TS 29.229 6.3.36).
 *
 * A nonce answers once: the challenge is gone after its first answer,
 * right or wrong, so a replayed REGISTER meets a fresh challenge with
 * stale=true. Unanswered challenges end after reg-await-auth
 * (auth_timeout_s).
 *
 * Spare AKA vectors: a MAR may ask for several (`vectors`, TS 29.229
 * 6.3.8 SIP-Number-Auth-Items); the first challenges at once, the
 * others wait per private identity and serve its next challenges, in
 * the order the HSS made them (their SQNs increase), so most
 * registrations cost no MAR. They are dropped on a re-synchronisation
 * (the HSS restarts the UE's SQN) or a failed answer, and after
 * SPARE_MAX_AGE_S (TS 33.102 6.3.2 lets the serving node keep vectors;
 * an old one only risks an AUTS round trip).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "scscf_int.h"

static struct ims_hash by_nonce;
static struct scscf_chal *oldest, *newest; /* in order of expiry */

#define SPARE_MAX 4
#define SPARE_MAX_AGE_S 300

struct spare_vectors {
	struct scscf_vector v[SPARE_MAX];
	size_t first, count;
	int64_t got_s;
};

static struct ims_hash spares; /* IMPI -> struct spare_vectors */

int scscf_auth_init(void)
{
	return 0;
}

size_t scscf_auth_count(void)
{
	return by_nonce.count;
}

struct scscf_chal *scscf_auth_find(const char *nonce)
{
	return ims_hash_get(&by_nonce, nonce);
}

static int make_nonce(struct scscf_chal *c)
{
	uint8_t buf[32];

	if (c->v.aka) {
		memcpy(buf, c->v.rand, 16);
		memcpy(buf + 16, c->v.autn, 16);
	} else if (RAND_bytes(buf, sizeof(buf)) != 1) {
		return -EIO;
	}
	return ims_b64_encode(buf, sizeof(buf), c->nonce, sizeof(c->nonce));
}

struct scscf_chal *scscf_auth_add(const char *impi, const char *impu,
				  const struct scscf_vector *v)
{
	struct scscf_chal *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->v = *v;
	if (ims_fmt(c->impi, sizeof(c->impi), "%s", impi) ||
	    ims_fmt(c->impu, sizeof(c->impu), "%s", impu) || make_nonce(c) ||
	    ims_hash_get(&by_nonce, c->nonce) ||
	    ims_hash_put(&by_nonce, c->nonce, c)) {
		OPENSSL_cleanse(c, sizeof(*c));
		free(c);
		return NULL;
	}
	c->expires_ms = scscf_host->now_ms() + scscf_cfg->auth_timeout_s * 1000;
	c->prev = newest;
	if (newest)
		newest->next = c;
	else
		oldest = c;
	newest = c;
	return c;
}

void scscf_auth_del(struct scscf_chal *c)
{
	ims_hash_del(&by_nonce, c->nonce);
	if (c->prev)
		c->prev->next = c->next;
	else
		oldest = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		newest = c->prev;
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

void scscf_auth_sweep(void)
{
	uint64_t now = scscf_host->now_ms();

	while (oldest && oldest->expires_ms <= now) {
		struct scscf_chal *c = oldest;
		struct scscf_reg *reg = scscf_reg_find(c->impu);

		tnd_info("%s: challenge not answered in %llu s", c->impi,
			 scscf_cfg->auth_timeout_s);
		if (!reg || reg->state != REG_REGISTERED)
			scscf_cx_sar(c->impi, c->impu,
				     SAR_AUTHENTICATION_TIMEOUT, false, NULL,
				     NULL);
		scscf_auth_del(c);
	}
}

static void free_spare(const char *key, void *value, void *arg)
{
	(void)key, (void)arg;
	OPENSSL_cleanse(value, sizeof(struct spare_vectors));
	free(value);
}

void scscf_auth_fini(void)
{
	while (oldest)
		scscf_auth_del(oldest);
	ims_hash_clear(&by_nonce);
	ims_hash_each(&spares, free_spare, NULL);
	ims_hash_clear(&spares);
}

/* ---- Spare vectors ------------------------------------------------------- */

void scscf_auth_spares_drop(const char *impi)
{
	struct spare_vectors *sv = ims_hash_del(&spares, impi);

	if (sv)
		free_spare(impi, sv, NULL);
}

void scscf_auth_spares_put(const char *impi, const struct scscf_vector *v,
			   size_t n)
{
	struct spare_vectors *sv = ims_hash_get(&spares, impi);

	if (!n || !v[0].aka)
		return; /* SIP Digest: a fresh nonce needs no vector */
	if (!sv) {
		sv = calloc(1, sizeof(*sv));
		if (!sv || ims_hash_put(&spares, impi, sv)) {
			free(sv);
			return;
		}
	}
	/* after the ones kept (several challenges of one IMPI may be in
	 * flight: the HSS made these later, their SQNs are higher); when
	 * full, the oldest go */
	for (size_t i = 0; i < n; i++) {
		if (sv->count == SPARE_MAX) {
			OPENSSL_cleanse(&sv->v[sv->first], sizeof(sv->v[0]));
			sv->first = (sv->first + 1) % SPARE_MAX;
			sv->count--;
		}
		sv->v[(sv->first + sv->count) % SPARE_MAX] = v[i];
		sv->count++;
	}
	sv->got_s = ims_now_s();
}

bool scscf_auth_spare_take(const char *impi, struct scscf_vector *out)
{
	struct spare_vectors *sv = ims_hash_get(&spares, impi);

	if (!sv)
		return false;
	if (ims_now_s() - sv->got_s > SPARE_MAX_AGE_S) {
		scscf_auth_spares_drop(impi);
		return false;
	}
	*out = sv->v[sv->first];
	OPENSSL_cleanse(&sv->v[sv->first], sizeof(sv->v[0]));
	sv->first = (sv->first + 1) % SPARE_MAX;
	if (--sv->count == 0)
		scscf_auth_spares_drop(impi);
	return true;
}

/* ---- Answers ------------------------------------------------------------- */

/* HA1 of RFC 2617 3.2.2.2; for AKAv1-MD5 the password is RES (RFC 3310
 * 3.3). */
static void ha1_of(const struct scscf_chal *c, const char *user,
		   const char *realm, char out[33])
{
	if (!c->v.aka) {
		memcpy(out, c->v.ha1, 33);
		return;
	}
	ims_md5_hex(out, user, strlen(user), ":", (size_t)1, realm,
		    strlen(realm), ":", (size_t)1, c->v.xres, c->v.xres_len,
		    NULL);
}

int scscf_auth_check(const struct scscf_chal *c, const char *authz,
		     const char *method)
{
	char user[IMS_URI_MAX], realm[128], uri[IMS_URI_MAX], rsp[64];
	char nc[16] = "", cnonce[128] = "", qop[16] = "";
	char ha1[33], ha2[33], expect[33];

	if (ims_auth_param(authz, "username", user, sizeof(user)) ||
	    ims_auth_param(authz, "realm", realm, sizeof(realm)) ||
	    ims_auth_param(authz, "uri", uri, sizeof(uri)) ||
	    ims_auth_param(authz, "response", rsp, sizeof(rsp)))
		return -EINVAL;
	if (!c->v.aka && strcmp(realm, c->v.realm) != 0)
		return -EACCES;
	ims_auth_param(authz, "qop", qop, sizeof(qop));
	ims_auth_param(authz, "nc", nc, sizeof(nc));
	ims_auth_param(authz, "cnonce", cnonce, sizeof(cnonce));
	ha1_of(c, user, realm, ha1);
	ims_md5_hex(ha2, method, strlen(method), ":", (size_t)1, uri,
		    strlen(uri), NULL);
	if (qop[0])
		ims_md5_hex(expect, ha1, (size_t)32, ":", (size_t)1, c->nonce,
			    strlen(c->nonce), ":", (size_t)1, nc, strlen(nc),
			    ":", (size_t)1, cnonce, strlen(cnonce), ":",
			    (size_t)1, qop, strlen(qop), ":", (size_t)1, ha2,
			    (size_t)32, NULL);
	else /* RFC 2069 compatibility, RFC 2617 3.2.2.1 */
		ims_md5_hex(expect, ha1, (size_t)32, ":", (size_t)1, c->nonce,
			    strlen(c->nonce), ":", (size_t)1, ha2, (size_t)32,
			    NULL);
	if (strlen(rsp) != 32 || CRYPTO_memcmp(expect, rsp, 32) != 0) {
		/* hex digits either case */
		for (char *p = rsp; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = (char)(*p + 32);
		if (strlen(rsp) != 32 || CRYPTO_memcmp(expect, rsp, 32) != 0)
			return -EACCES;
	}
	return 0;
}

void scscf_auth_www(const struct scscf_chal *c, bool stale, struct ims_buf *b)
{
	if (c->v.aka) {
		ims_buf_printf(b,
			       "WWW-Authenticate: Digest realm=\"%s\", "
			       "nonce=\"%s\", algorithm=AKAv1-MD5, "
			       "qop=\"auth\"",
			       scscf_cfg->realm, c->nonce);
		/* TS 33.203 7.2 / TS 24.229 5.4.1.2.1: the keys ride to the
		 * P-CSCF, which removes them before the UE */
		if (c->v.ck[0] && c->v.ik[0])
			ims_buf_printf(b, ", ck=\"%s\", ik=\"%s\"", c->v.ck,
				       c->v.ik);
	} else {
		ims_buf_printf(b,
			       "WWW-Authenticate: Digest realm=\"%s\", "
			       "nonce=\"%s\", algorithm=%s, qop=\"%s\"",
			       c->v.realm, c->nonce, c->v.algorithm, c->v.qop);
	}
	if (stale)
		ims_buf_str(b, ", stale=true");
	ims_buf_str(b, "\r\n");
}
