/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ims_util.c - text helpers shared by the CSCF plugins.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ims_util.h"

/* ---- Buffer -------------------------------------------------------------- */

void ims_buf_add(struct ims_buf *b, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *p = realloc(b->data, cap < 256 ? 256 : cap);

		if (!p) {
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap < 256 ? 256 : cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void ims_buf_str(struct ims_buf *b, const char *s)
{
	ims_buf_add(b, s, strlen(s));
}

void ims_buf_printf(struct ims_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	char *big;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		ims_buf_add(b, small, (size_t)n);
		return;
	}
	big = malloc((size_t)n + 1);
	if (!big) {
		b->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ims_buf_add(b, big, (size_t)n);
	free(big);
}

const char *ims_buf_cstr(const struct ims_buf *b)
{
	return b->data ? b->data : "";
}

void ims_buf_free(struct ims_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* ---- Strings ------------------------------------------------------------- */

char *ims_text_dup(struct sip_text t)
{
	char *s = malloc(t.len + 1);

	if (!s)
		return NULL;
	memcpy(s, t.ptr, t.len);
	s[t.len] = '\0';
	return s;
}

int ims_text_copy(struct sip_text t, char *buf, size_t size)
{
	if (t.len >= size)
		return -ENOSPC;
	memcpy(buf, t.ptr, t.len);
	buf[t.len] = '\0';
	return 0;
}

int ims_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

bool ims_prefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

char *ims_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ---- Header values ------------------------------------------------------- */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

/* End of the element at p: a comma outside <> and "", or the end. */
static const char *element_end(const char *p)
{
	bool quoted = false;
	int angle = 0;

	for (; *p; p++) {
		if (quoted) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (*p == '"') {
			quoted = true;
		} else if (*p == '<') {
			angle++;
		} else if (*p == '>' && angle) {
			angle--;
		} else if (*p == ',' && !angle) {
			break;
		}
	}
	return p;
}

bool ims_list_next(const char **pp, char *elem, size_t size)
{
	const char *p = *pp, *end;
	size_t n;

	while (*p) {
		p = skip_ws(p);
		end = element_end(p);
		n = (size_t)(end - p);
		while (n && strchr(" \t\r\n", p[n - 1]))
			n--;
		*pp = *end ? end + 1 : end;
		if (!n) {
			p = *pp;
			continue;
		}
		if (n >= size)
			n = size - 1;
		memcpy(elem, p, n);
		elem[n] = '\0';
		return true;
	}
	*pp = p;
	return false;
}

/* Where the URI of a name-addr/addr-spec starts and its length; `rest`
 * gets what follows it (the header parameters). */
static int uri_span(const char *v, const char **start, size_t *len,
		    const char **rest)
{
	const char *p = skip_ws(v), *lt = NULL, *q;
	bool quoted = false;

	for (q = p; *q; q++) {
		if (quoted) {
			if (*q == '\\' && q[1])
				q++;
			else if (*q == '"')
				quoted = false;
		} else if (*q == '"') {
			quoted = true;
		} else if (*q == '<') {
			lt = q;
			break;
		}
	}
	if (lt) {
		const char *gt = strchr(lt, '>');

		if (!gt)
			return -EINVAL;
		*start = lt + 1;
		*len = (size_t)(gt - lt - 1);
		*rest = gt + 1;
		return 0;
	}
	/* addr-spec: header parameters start at the first ';' (RFC 3261
	 * 20: URI parameters need the <> form) */
	q = p;
	while (*q && *q != ';' && *q != ' ' && *q != '\t' && *q != ',')
		q++;
	*start = p;
	*len = (size_t)(q - p);
	*rest = q;
	return *len ? 0 : -EINVAL;
}

int ims_uri_of(const char *value, char *uri, size_t size)
{
	const char *start, *rest;
	size_t len;

	if (uri_span(value, &start, &len, &rest))
		return -EINVAL;
	if (len >= size)
		return -ENOSPC;
	memcpy(uri, start, len);
	uri[len] = '\0';
	return 0;
}

/* Find ;name[=value] in a parameter list that ends at NUL, ',' or '?'
 * (for URIs) and copy the value. */
static int param_in(const char *p, const char *name, char *out, size_t size,
		    const char *stop)
{
	size_t nlen = strlen(name);

	while ((p = strchr(p, ';'))) {
		const char *v, *e;

		p = skip_ws(p + 1);
		if (strncasecmp(p, name, nlen) != 0 ||
		    (p[nlen] && !strchr("=; \t>,?", p[nlen])))
			continue;
		v = skip_ws(p + nlen);
		if (*v != '=') {
			if (size)
				out[0] = '\0';
			return 0;
		}
		v = skip_ws(v + 1);
		if (*v == '"') {
			e = strchr(v + 1, '"');
			if (!e)
				return -EINVAL;
			v++;
		} else {
			e = v + strcspn(v, stop);
		}
		if ((size_t)(e - v) >= size)
			return -ENOSPC;
		memcpy(out, v, (size_t)(e - v));
		out[e - v] = '\0';
		return 0;
	}
	return -ENOENT;
}

int ims_hparam(const char *value, const char *name, char *out, size_t size)
{
	const char *start, *rest;
	size_t len;

	if (uri_span(value, &start, &len, &rest))
		return -EINVAL;
	return param_in(rest, name, out, size, "; \t,");
}

int ims_uparam(const char *uri, const char *name, char *out, size_t size)
{
	char copy[IMS_HDR_MAX];
	char *q;

	if (ims_fmt(copy, sizeof(copy), "%s", uri))
		return -ENOSPC;
	q = strchr(copy, '?'); /* headers are not parameters */
	if (q)
		*q = '\0';
	return param_in(copy, name, out, size, "; \t>?");
}

int ims_strip_tag(const char *value, char *out, size_t size)
{
	const char *start, *rest, *p;
	struct ims_buf b = { 0 };
	size_t len;
	int rc = 0;

	if (uri_span(value, &start, &len, &rest))
		return -EINVAL;
	ims_buf_add(&b, value, (size_t)(rest - value));
	for (p = rest; (p = strchr(p, ';'));) {
		const char *e = strchr(p + 1, ';');
		const char *name = skip_ws(p + 1);

		if (!e)
			e = p + strlen(p);
		if (!(strncasecmp(name, "tag", 3) == 0 &&
		      strchr("= \t", name[3])))
			ims_buf_add(&b, p, (size_t)(e - p));
		p = e;
	}
	if (b.failed || b.len >= size)
		rc = b.failed ? -ENOMEM : -ENOSPC;
	else
		memcpy(out, ims_buf_cstr(&b), b.len + 1);
	ims_buf_free(&b);
	return rc;
}

int ims_aor(const char *uri, char *out, size_t size)
{
	const char *p = skip_ws(uri), *bound, *at, *host;
	size_t userlen = 0, hostlen;
	char *h;
	int rc;

	if (ims_prefix(p, "tel:")) {
		bound = p + 4 + strcspn(p + 4, ";?> \t");
		return ims_fmt(out, size, "tel:%.*s", (int)(bound - p - 4),
			       p + 4);
	}
	if (ims_prefix(p, "sip:"))
		p += 4;
	else if (ims_prefix(p, "sips:"))
		p += 5;
	else
		return -EINVAL;
	/* a user part may hold ';' (user parameters): find '@' first */
	bound = p + strcspn(p, "?> \t");
	at = memchr(p, '@', (size_t)(bound - p));
	host = at ? at + 1 : p;
	if (at)
		userlen = (size_t)(at - p);
	if (*host == '[') {
		const char *rb = memchr(host, ']', (size_t)(bound - host));

		hostlen = rb ? (size_t)(rb - host + 1) : 0;
	} else {
		hostlen = strcspn(host, ":;?> \t");
	}
	if (!hostlen)
		return -EINVAL;
	rc = ims_fmt(out, size, "sip:%.*s%s%.*s", (int)userlen, p,
		     at ? "@" : "", (int)hostlen, host);
	if (rc)
		return rc;
	for (h = out + 4 + userlen + (at ? 1 : 0); *h; h++)
		*h = (char)tolower((unsigned char)*h);
	return 0;
}

int ims_uri_host(const char *uri, char *out, size_t size)
{
	char aor[IMS_URI_MAX];
	const char *h;
	int rc = ims_aor(uri, aor, sizeof(aor));

	if (rc)
		return rc;
	if (ims_prefix(aor, "tel:"))
		return -EINVAL;
	h = strchr(aor, '@');
	return ims_fmt(out, size, "%s", h ? h + 1 : aor + 4);
}

int ims_uri_user(const char *uri, char *out, size_t size)
{
	const char *p = skip_ws(uri), *at, *s;

	if (ims_prefix(p, "sips:"))
		p += 5;
	else if (ims_prefix(p, "sip:"))
		p += 4;
	else
		return -EINVAL;
	at = strchr(p, '@');
	s = p + strcspn(p, "?> \t");
	if (!at || at > s)
		return -ENOENT;
	/* a user part may carry ;user parameters of its own (tel form) */
	s = p + strcspn(p, ";@");
	return ims_fmt(out, size, "%.*s", (int)(s - p), p);
}

int ims_uri_hop(const char *uri, char *out, size_t size)
{
	char transport[16] = "udp", hostport[IMS_URI_MAX];
	const char *p = skip_ws(uri), *at, *e;

	if (ims_prefix(p, "sip:"))
		p += 4;
	else
		return -EINVAL;
	ims_uparam(uri, "transport", transport, sizeof(transport));
	for (char *t = transport; *t; t++)
		*t = (char)tolower((unsigned char)*t);
	at = strchr(p, '@');
	e = p + strcspn(p, ";?> \t");
	if (at && at < e)
		p = at + 1;
	if (ims_fmt(hostport, sizeof(hostport), "%.*s", (int)(e - p), p))
		return -ENOSPC;
	/* no port: 5060 (RFC 3263 SRV look-ups are not done here) */
	if ((hostport[0] == '[' && !strstr(hostport, "]:")) ||
	    (hostport[0] != '[' && !strchr(hostport, ':')))
		return ims_fmt(out, size, "%s:%s:5060", transport, hostport);
	return ims_fmt(out, size, "%s:%s", transport, hostport);
}

int ims_auth_param(const char *value, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);
	const char *p = skip_ws(value);

	/* skip the scheme ("Digest") */
	if (strncasecmp(p, "Digest", 6) == 0 && strchr(" \t", p[6]))
		p += 6;
	while (*p) {
		const char *v, *e;
		bool match;

		p = skip_ws(p);
		match = strncasecmp(p, name, nlen) == 0 &&
			strchr(" \t=", p[nlen]);
		v = p + strcspn(p, "=,");
		if (*v != '=') {
			p = *v ? v + 1 : v;
			continue;
		}
		v = skip_ws(v + 1);
		if (*v == '"') {
			e = v + 1;
			while (*e && *e != '"')
				e += *e == '\\' && e[1] ? 2 : 1;
			if (!*e)
				return -EINVAL;
			v++;
		} else {
			e = v + strcspn(v, ", \t");
		}
		if (match) {
			if ((size_t)(e - v) >= size)
				return -ENOSPC;
			memcpy(out, v, (size_t)(e - v));
			out[e - v] = '\0';
			return 0;
		}
		p = e + (*e == '"');
		p += strcspn(p, ",");
		if (*p)
			p++;
	}
	return -ENOENT;
}

int ims_auth_param_del(const char *value, const char *name, char *out,
		       size_t size)
{
	const char *p = skip_ws(value);
	size_t nlen = strlen(name), used = 0;
	char elem[IMS_HDR_MAX];
	bool first = true;
	int n;

	/* the scheme, then the parameters split at commas outside "" */
	n = (int)strcspn(p, " \t");
	if (ims_fmt(out, size, "%.*s", n, p))
		return -ENOSPC;
	used = (size_t)n;
	p += n;
	while (ims_list_next(&p, elem, sizeof(elem))) {
		if (strncasecmp(elem, name, nlen) == 0 &&
		    strchr(" \t=", elem[nlen]))
			continue;
		if (ims_fmt(out + used, size - used, "%s%s", first ? " " : ", ",
			    elem))
			return -ENOSPC;
		used += strlen(out + used);
		first = false;
	}
	return 0;
}

/* ---- Encodings ----------------------------------------------------------- */

int ims_b64_encode(const uint8_t *in, size_t len, char *out, size_t size)
{
	if (((len + 2) / 3) * 4 + 1 > size)
		return -ENOSPC;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return 0;
}

int ims_b64_decode(const char *in, uint8_t *out, size_t size)
{
	size_t len = strlen(in), pad = 0;
	uint8_t *tmp;
	int n;

	if (len % 4)
		return -EINVAL;
	if (len && in[len - 1] == '=')
		pad++;
	if (len > 1 && in[len - 2] == '=')
		pad++;
	tmp = malloc(len / 4 * 3 + 1);
	if (!tmp)
		return -ENOMEM;
	n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(tmp);
		return -EINVAL;
	}
	n -= (int)pad;
	if ((size_t)n > size) {
		free(tmp);
		return -ENOSPC;
	}
	memcpy(out, tmp, (size_t)n);
	free(tmp);
	return n;
}

int ims_hex(const uint8_t *in, size_t len, char *out, size_t size)
{
	static const char digits[] = "0123456789abcdef";

	if (2 * len + 1 > size)
		return -ENOSPC;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
	return 0;
}

void ims_md5_hex(char out[33], const void *first, size_t first_len, ...)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	const void *piece = first;
	size_t len = first_len;
	va_list ap;

	out[0] = '\0';
	if (!ctx)
		return;
	va_start(ap, first_len);
	if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1) {
		while (piece) {
			EVP_DigestUpdate(ctx, piece, len);
			piece = va_arg(ap, const void *);
			if (piece)
				len = va_arg(ap, size_t);
		}
		if (EVP_DigestFinal_ex(ctx, md, &n) == 1 && n == 16)
			ims_hex(md, 16, out, 33);
	}
	va_end(ap);
	EVP_MD_CTX_free(ctx);
}

/*
 * Random bytes from OpenSSL's DRBG, drawn a block at a time: each
 * RAND_bytes() call costs about as much for 8 bytes as for 1 KB (its
 * locks and cipher set-up), and every relayed request wants tokens
 * (tags, Call-IDs, ICIDs): 3 % of a P-CSCF's time under load went there.
 * The loop thread only, like the rest of the library.
 */
static int random_bytes(unsigned char *out, size_t n)
{
	static unsigned char pool[1024];
	static size_t left;

	if (n > sizeof(pool))
		return RAND_bytes(out, (int)n) == 1 ? 0 : -EIO;
	if (left < n) {
		if (RAND_bytes(pool, (int)sizeof(pool)) != 1)
			return -EIO;
		left = sizeof(pool);
	}
	memcpy(out, pool + sizeof(pool) - left, n);
	/* what was handed out is not kept */
	OPENSSL_cleanse(pool + sizeof(pool) - left, n);
	left -= n;
	return 0;
}

void ims_token(char *out, size_t size)
{
	static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[64];
	size_t n = size ? size - 1 : 0;

	if (n > sizeof(rnd))
		n = sizeof(rnd);
	if (random_bytes(rnd, n))
		for (size_t i = 0; i < n; i++)
			rnd[i] = (unsigned char)rand();
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[rnd[i] % 36];
	if (size)
		out[n] = '\0';
}

int64_t ims_now_s(void)
{
	return (int64_t)time(NULL);
}
