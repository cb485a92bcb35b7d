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

/* ---- Outbound: answering a peer's challenge to our INVITE --------------- */

/* Whether the comma-separated `list` ("auth,auth-int") has `token`. */
static bool list_has(const char *list, const char *token)
{
	size_t n = strlen(token);

	for (const char *p = list; *p;) {
		p += strspn(p, " ,\t");
		if (strncasecmp(p, token, n) == 0 &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

int sbc_auth_answer(const struct sip_message *rsp, const char *method,
		    const char *uri, const char *user, const char *password,
		    char *hdr, size_t size)
{
	bool proxy = sbc_sip->status(rsp) == 407;
	char line[1024], realm[128], nonce[256], opaque[256], qop[64];
	char algorithm[32], cnonce[17], ha1[33], ha2[33], response[33];
	char text[1024], opaque_param[300] = "";
	struct sip_text v;
	int n;

	if (sbc_sip->header(rsp, proxy ? "Proxy-Authenticate" :
					 "WWW-Authenticate", 0, &v) < 0)
		return -ENOENT;
	snprintf(line, sizeof(line), "%.*s", (int)v.len, v.ptr);
	if (strncasecmp(line, "Digest", 6) != 0)
		return -ENOTSUP;
	param(line, "realm", realm, sizeof(realm));
	param(line, "nonce", nonce, sizeof(nonce));
	param(line, "opaque", opaque, sizeof(opaque));
	param(line, "qop", qop, sizeof(qop));
	param(line, "algorithm", algorithm, sizeof(algorithm));
	if (!nonce[0] || (algorithm[0] && strcasecmp(algorithm, "MD5") != 0) ||
	    (qop[0] && !list_has(qop, "auth")))
		return -ENOTSUP;
	snprintf(text, sizeof(text), "%s:%s:%s", user, realm, password);
	md5_hex(text, ha1);
	snprintf(text, sizeof(text), "%s:%s", method, uri);
	md5_hex(text, ha2);
	/* RFC 2617 3.2.2: with qop, the client's nonce and count enter */
	snprintf(cnonce, sizeof(cnonce), "%08lx%08lx", random(), random());
	if (qop[0])
		snprintf(text, sizeof(text), "%s:%s:00000001:%s:auth:%s", ha1,
			 nonce, cnonce, ha2);
	else
		snprintf(text, sizeof(text), "%s:%s:%s", ha1, nonce, ha2);
	md5_hex(text, response);
	if (opaque[0])
		snprintf(opaque_param, sizeof(opaque_param),
			 ", opaque=\"%s\"", opaque);
	if (qop[0])
		n = snprintf(hdr, size,
			     "%s: Digest username=\"%s\", realm=\"%s\", "
			     "nonce=\"%s\", uri=\"%s\", response=\"%s\", "
			     "algorithm=MD5, qop=auth, nc=00000001, "
			     "cnonce=\"%s\"%s\r\n",
			     proxy ? "Proxy-Authorization" : "Authorization",
			     user, realm, nonce, uri, response, cnonce,
			     opaque_param);
	else
		n = snprintf(hdr, size,
			     "%s: Digest username=\"%s\", realm=\"%s\", "
			     "nonce=\"%s\", uri=\"%s\", response=\"%s\", "
			     "algorithm=MD5%s\r\n",
			     proxy ? "Proxy-Authorization" : "Authorization",
			     user, realm, nonce, uri, response, opaque_param);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}
