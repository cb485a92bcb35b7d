/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbc_auth: inbound digest authentication of an access peer's INVITEs
 * (RFC 3261 22.3 proxy-to-user: 407 with Proxy-Authenticate, the request
 * again with Proxy-Authorization; RFC 2617 3.2.2 responses, MD5, qop
 * "auth" or none). Nonces are stateless: "<seconds>.<MD5 of a secret of
 * this run and the seconds>", valid NONCE_LIFE_S; an older one is
 * answered 407 stale=true (RFC 2617 3.2.1). Nothing is stored per
 * client, so a flood of attempts costs no memory.
 */
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "sbc_int.h"

#define NONCE_LIFE_S 300

static char secret[33];

static void md5_hex(const char *text, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	EVP_Digest(text, strlen(text), md, &len, EVP_md5(), NULL);
	for (unsigned i = 0; i < 16 && i < len; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[32] = '\0';
}

void sbc_auth_init(void)
{
	snprintf(secret, sizeof(secret), "%08lx%08lx%08lx%08lx", random(),
		 random(), random(), random());
}

static void nonce_for(unsigned long long seconds, char *out, size_t size)
{
	char text[96], md[33];

	snprintf(text, sizeof(text), "%s:%llx", secret, seconds);
	md5_hex(text, md);
	snprintf(out, size, "%llx.%.16s", seconds, md);
}

/* 0 valid, -ESTALE expired, -EINVAL not ours */
static int nonce_check(const char *nonce)
{
	unsigned long long seconds = strtoull(nonce, NULL, 16);
	uint64_t now = sbc_host->now_ms() / 1000;
	char expect[64];

	nonce_for(seconds, expect, sizeof(expect));
	if (strcmp(expect, nonce) != 0)
		return -EINVAL;
	return now - seconds > NONCE_LIFE_S ? -ESTALE : 0;
}

/* The value of parameter `name` in a Digest credentials line. */
static void param(const char *line, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);
	const char *p = line;

	out[0] = '\0';
	while ((p = strcasestr(p, name)) != NULL) {
		const char *v = p + n;
		bool boundary = p == line || p[-1] == ' ' || p[-1] == ',' ||
				p[-1] == '\t';

		p = v;
		while (*v == ' ')
			v++;
		if (!boundary || *v != '=')
			continue;
		v++;
		while (*v == ' ')
			v++;
		if (*v == '"') {
			const char *end = strchr(++v, '"');

			n = end ? (size_t)(end - v) : strlen(v);
		} else {
			n = strcspn(v, ", \t");
		}
		snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), v);
		return;
	}
}

int sbc_auth_check(const struct sip_message *m, const char *user,
		   const char *password)
{
	char line[1024], username[128], realm[128], nonce[96], uri[256];
	char response[64], qop[16], nc[16], cnonce[128];
	char ha1[33], ha2[33], expect[33], text[1024];
	struct sip_text v;
	int rc;

	if (sbc_sip->header(m, "Proxy-Authorization", 0, &v) < 0)
		return -EACCES;
	snprintf(line, sizeof(line), "%.*s", (int)v.len, v.ptr);
	if (strncasecmp(line, "Digest", 6) != 0)
		return -EACCES;
	param(line, "username", username, sizeof(username));
	param(line, "realm", realm, sizeof(realm));
	param(line, "nonce", nonce, sizeof(nonce));
	param(line, "uri", uri, sizeof(uri));
	param(line, "response", response, sizeof(response));
	param(line, "qop", qop, sizeof(qop));
	param(line, "nc", nc, sizeof(nc));
	param(line, "cnonce", cnonce, sizeof(cnonce));
	rc = nonce_check(nonce);
	if (rc == -ESTALE)
		return -ESTALE;
	if (rc < 0 || strcmp(username, user) != 0 ||
	    strcmp(realm, sbc_cfg->auth_realm) != 0)
		return -EPERM;
	snprintf(text, sizeof(text), "%s:%s:%s", user, realm, password);
	md5_hex(text, ha1);
	snprintf(text, sizeof(text), "INVITE:%s", uri);
	md5_hex(text, ha2);
	if (qop[0])
		snprintf(text, sizeof(text), "%s:%s:%s:%s:%s:%s", ha1, nonce,
			 nc, cnonce, qop, ha2);
	else
		snprintf(text, sizeof(text), "%s:%s:%s", ha1, nonce, ha2);
	md5_hex(text, expect);
	return strcasecmp(expect, response) == 0 ? 0 : -EPERM;
}

void sbc_auth_challenge(char *hdr, size_t size, bool stale)
{
	char nonce[64];

	nonce_for(sbc_host->now_ms() / 1000, nonce, sizeof(nonce));
	snprintf(hdr, size,
		 "Proxy-Authenticate: Digest realm=\"%s\", nonce=\"%s\", "
		 "algorithm=MD5, qop=\"auth\"%s\r\n",
		 sbc_cfg->auth_realm, nonce, stale ? ", stale=true" : "");
}

/* ---- The client side: answering a registrar's or a proxy's challenge ---- */

/* The hash of a digest algorithm (RFC 7616 3.2, RFC 8760: MD5 and SHA-256,
 * each also "-sess"), NULL for one we do not have. */
static const EVP_MD *digest_md(const char *algorithm, bool *sess)
{
	*sess = false;
	if (!algorithm[0] || strcasecmp(algorithm, "MD5") == 0)
		return EVP_md5();
	if (strcasecmp(algorithm, "SHA-256") == 0)
		return EVP_sha256();
	*sess = true;
	if (strcasecmp(algorithm, "MD5-sess") == 0)
		return EVP_md5();
	if (strcasecmp(algorithm, "SHA-256-sess") == 0)
		return EVP_sha256();
	return NULL;
}

static void digest_hex(const EVP_MD *md, const char *text, char out[65])
{
	unsigned char bin[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	EVP_Digest(text, strlen(text), bin, &len, md, NULL);
	for (unsigned i = 0; i < len && i < 32; i++)
		sprintf(out + 2 * i, "%02x", bin[i]);
	out[2 * (len < 32 ? len : 32)] = '\0';
}

/* Whether a challenge's qop list ("auth,auth-int") offers "auth". */
static bool qop_has_auth(const char *list)
{
	char copy[64], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", list);
	for (char *tok = strtok_r(copy, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save))
		if (strcasecmp(tok, "auth") == 0)
			return true;
	return false;
}

/* The challenge line of `m` we can answer: its 401 or 407 header whose
 * scheme is Digest with an algorithm we have. */
static int challenge_line(const struct sip_message *m, char *line,
			  size_t size)
{
	const char *name = sbc_sip->status(m) == 407 ? "Proxy-Authenticate" :
						      "WWW-Authenticate";
	struct sip_text v;
	char algorithm[32], qop[64];
	bool sess;
	int found = -ENOENT;

	for (unsigned i = 0; sbc_sip->header(m, name, i, &v) == 0; i++) {
		snprintf(line, size, "%.*s", (int)v.len, v.ptr);
		if (strncasecmp(line, "Digest", 6) != 0)
			continue;
		found = -ENOTSUP;
		param(line + 6, "algorithm", algorithm, sizeof(algorithm));
		param(line + 6, "qop", qop, sizeof(qop));
		if (digest_md(algorithm, &sess) && (!qop[0] || qop_has_auth(qop)))
			return 0;
	}
	return found;
}

bool sbc_auth_stale(const struct sip_message *challenge)
{
	char line[1024], stale[16];

	if (challenge_line(challenge, line, sizeof(line)) < 0)
		return false;
	param(line + 6, "stale", stale, sizeof(stale));
	return strcasecmp(stale, "true") == 0;
}

int sbc_auth_answer(const struct sip_message *challenge, const char *method,
		    const char *uri, const char *user, const char *password,
		    char *hdr, size_t size)
{
	char line[1024], realm[128], nonce[256], opaque[128], algorithm[32];
	char qop[64], cnonce[17], ha1[65], ha2[65], response[65], text[1024];
	char extra[320];
	const EVP_MD *md;
	bool sess;
	int rc, n;

	rc = challenge_line(challenge, line, sizeof(line));
	if (rc < 0)
		return rc;
	param(line + 6, "realm", realm, sizeof(realm));
	param(line + 6, "nonce", nonce, sizeof(nonce));
	param(line + 6, "opaque", opaque, sizeof(opaque));
	param(line + 6, "algorithm", algorithm, sizeof(algorithm));
	param(line + 6, "qop", qop, sizeof(qop));
	md = digest_md(algorithm, &sess);
	snprintf(cnonce, sizeof(cnonce), "%08lx%08lx", random(), random());
	/* RFC 2617 3.2.2.2: A1, then A2 for qop "auth" or none */
	snprintf(text, sizeof(text), "%s:%s:%s", user, realm, password);
	digest_hex(md, text, ha1);
	if (sess) {
		snprintf(text, sizeof(text), "%s:%s:%s", ha1, nonce, cnonce);
		digest_hex(md, text, ha1);
	}
	snprintf(text, sizeof(text), "%s:%s", method, uri);
	digest_hex(md, text, ha2);
	if (qop[0])
		snprintf(text, sizeof(text), "%s:%s:00000001:%s:auth:%s", ha1,
			 nonce, cnonce, ha2);
	else
		snprintf(text, sizeof(text), "%s:%s:%s", ha1, nonce, ha2);
	digest_hex(md, text, response);
	/* nonce before cnonce: some parsers take the first "nonce" */
	n = snprintf(extra, sizeof(extra), "%s%s%s%s%s", algorithm[0] ?
		     ", algorithm=" : "", algorithm, opaque[0] ?
		     ", opaque=\"" : "", opaque, opaque[0] ? "\"" : "");
	if (n < 0 || (size_t)n >= sizeof(extra))
		return -ENOSPC;
	if (qop[0])
		snprintf(qop, sizeof(qop), ", qop=auth, nc=00000001, "
			 "cnonce=\"%s\"", cnonce);
	n = snprintf(hdr, size,
		     "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
		     "uri=\"%s\", response=\"%s\"%s%s\r\n",
		     sbc_sip->status(challenge) == 407 ? "Proxy-Authorization" :
							 "Authorization",
		     user, realm, nonce, uri, response, extra, qop);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}
