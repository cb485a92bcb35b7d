/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_scan: framing, line splitting and the strict byte-level checks that
 * libosip2 leaves out (see sip_scan.h). The grammar is RFC 3261 section 25;
 * the cases are those of RFC 4475 and RFC 5118.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sip_scan.h"

#define CSEQ_MAX 2147483647UL	 /* RFC 3261 8.1.1.5: less than 2^31 */
#define DELTA_MAX 4294967295UL	 /* RFC 3261 25.1 delta-seconds: 2^32-1 */
#define MAX_FORWARDS_MAX 255UL	 /* RFC 3261 20.22 */

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* RFC 3261 25.1 token characters */
static const bool token_chars[256] = {
	['-'] = 1, ['.'] = 1, ['!'] = 1, ['%'] = 1, ['*'] = 1, ['_'] = 1,
	['+'] = 1, ['`'] = 1, ['\''] = 1, ['~'] = 1,
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

bool sip_is_token_char(unsigned char c)
{
	return token_chars[c];
}

bool sip_span_eq(const struct sip_scan *s, struct sip_span sp,
		 const char *text)
{
	size_t n = strlen(text);

	return sp.len == n && strncasecmp(s->buf + sp.off, text, n) == 0;
}

/* ---- Header names -------------------------------------------------------- */

static const struct {
	const char *name;
	char compact;
	enum sip_hdr_id id;
} hdr_names[] = {
	{ "via", 'v', SIP_H_VIA },
	{ "from", 'f', SIP_H_FROM },
	{ "to", 't', SIP_H_TO },
	{ "call-id", 'i', SIP_H_CALL_ID },
	{ "cseq", 0, SIP_H_CSEQ },
	{ "max-forwards", 0, SIP_H_MAX_FORWARDS },
	{ "content-length", 'l', SIP_H_CONTENT_LENGTH },
	{ "content-type", 'c', SIP_H_CONTENT_TYPE },
	{ "route", 0, SIP_H_ROUTE },
	{ "record-route", 0, SIP_H_RECORD_ROUTE },
	{ "contact", 'm', SIP_H_CONTACT },
	{ "require", 0, SIP_H_REQUIRE },
	{ "proxy-require", 0, SIP_H_PROXY_REQUIRE },
	{ "supported", 'k', SIP_H_SUPPORTED },
	{ "expires", 0, SIP_H_EXPIRES },
	{ "accept", 0, SIP_H_ACCEPT },
	{ "date", 0, SIP_H_DATE },
	{ "retry-after", 0, SIP_H_RETRY_AFTER },
	{ "warning", 0, SIP_H_WARNING },
	{ "rseq", 0, SIP_H_RSEQ },
	{ "rack", 0, SIP_H_RACK },
	{ "path", 0, SIP_H_PATH },
	{ "service-route", 0, SIP_H_SERVICE_ROUTE },
	{ "session-expires", 'x', SIP_H_SESSION_EXPIRES },
	{ "min-se", 0, SIP_H_MIN_SE },
	{ "allow", 0, SIP_H_ALLOW },
};

enum sip_hdr_id sip_hdr_lookup(const char *name, size_t len)
{
	size_t i;

	if (len == 1) {
		for (i = 0; i < sizeof(hdr_names) / sizeof(hdr_names[0]); i++)
			if (hdr_names[i].compact == (name[0] | 0x20))
				return hdr_names[i].id;
		return SIP_H_OTHER;
	}
	for (i = 0; i < sizeof(hdr_names) / sizeof(hdr_names[0]); i++)
		if (strlen(hdr_names[i].name) == len &&
		    strncasecmp(hdr_names[i].name, name, len) == 0)
			return hdr_names[i].id;
	return SIP_H_OTHER;
}

const struct sip_hdr *sip_scan_hdr(const struct sip_scan *s,
				   enum sip_hdr_id id, unsigned n)
{
	int i = s->first[id];

	if (i < 0)
		return NULL;
	for (; i < s->nhdrs; i++)
		if (s->hdrs[i].id == id && n-- == 0)
			return &s->hdrs[i];
	return NULL;
}

const struct sip_hdr *sip_scan_find(const struct sip_scan *s,
				    const char *name)
{
	size_t n = strlen(name);
	enum sip_hdr_id id = sip_hdr_lookup(name, n);

	if (id != SIP_H_OTHER)
		return sip_scan_hdr(s, id, 0);
	for (unsigned i = 0; i < s->nhdrs; i++)
		if (s->hdrs[i].id == SIP_H_OTHER &&
		    sip_span_eq(s, s->hdrs[i].name, name))
			return &s->hdrs[i];
	return NULL;
}

/* ---- What libosip2 gets ------------------------------------------------- */

static const struct sip_hdr *multipart_type(const struct sip_scan *s)
{
	const struct sip_hdr *h = sip_scan_hdr(s, SIP_H_CONTENT_TYPE, 0);

	return h && h->value.len >= 9 &&
			       strncasecmp(s->buf + h->value.off, "multipart",
					   9) == 0 ?
		       h :
		       NULL;
}

bool sip_osip_needs_copy(const struct sip_scan *s)
{
	return memchr(s->buf, '\0', s->body_off) || multipart_type(s);
}

void sip_osip_fix(const struct sip_scan *s, char *copy)
{
	const struct sip_hdr *mp = multipart_type(s);

	for (size_t i = 0; i < s->body_off; i++)
		if (!copy[i])
			copy[i] = ' ';
	if (mp)
		copy[mp->value.off] = 'x';
}

/* ---- Framing ------------------------------------------------------------- */

/* Offset of the empty line that ends the headers, or -1. */
static long find_head_end(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		p++;
		if (p < end && *p == '\n')
			return p - buf;
		if (p + 1 < end && p[0] == '\r' && p[1] == '\n')
			return p - buf;
	}
	return -1;
}

/* Offset just after the empty line at `head_end`. */
static size_t after_empty_line(const char *buf, size_t head_end)
{
	return head_end + (buf[head_end] == '\r' ? 2 : 1);
}

/* Parse 1*DIGIT (nothing else) into *value; false on overflow of `max`. */
static bool parse_ulong(const char *p, size_t n, unsigned long max,
			unsigned long *value)
{
	unsigned long v = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)p[i]))
			return false;
		if (v > (max - (unsigned long)(p[i] - '0')) / 10)
			return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	*value = v;
	return true;
}

/* Trim LWS (folding included) at both ends of [*p, *p + *n). */
static void trim(const char **p, size_t *n)
{
	while (*n && (is_ws((unsigned char)**p) || **p == '\r' || **p == '\n'))
		(*p)++, (*n)--;
	while (*n && (is_ws((unsigned char)(*p)[*n - 1]) ||
		      (*p)[*n - 1] == '\r' || (*p)[*n - 1] == '\n'))
		(*n)--;
}

/*
 * The Content-Length of a header block, for framing: -1 absent, -2 bad.
 * Only line starts are looked at (continuation lines begin with WSP).
 */
static long frame_content_length(const char *buf, size_t head_end)
{
	const char *p = buf, *end = buf + head_end;
	long found = -1;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *name = p, *colon;
		size_t n;

		if (!eol)
			eol = end;
		colon = memchr(name, ':', (size_t)(eol - name));
		if (colon && !is_ws((unsigned char)*name)) {
			n = (size_t)(colon - name);
			while (n && is_ws((unsigned char)name[n - 1]))
				n--;
			if (sip_hdr_lookup(name, n) == SIP_H_CONTENT_LENGTH) {
				const char *v = colon + 1;
				size_t vn = (size_t)(eol - v);
				unsigned long cl;

				trim(&v, &vn);
				if (found >= 0 ||
				    !parse_ulong(v, vn, 0x7fffffffUL, &cl))
					return -2;
				found = (long)cl;
			}
		}
		p = eol + 1;
	}
	return found;
}

long sip_frame(const char *buf, size_t len, size_t max, const char **why,
	       unsigned *flags)
{
	long head_end = find_head_end(buf, len < max ? len : max);
	long cl;
	size_t total;

	if (head_end < 0) {
		if (len >= max) {
			*why = "headers longer than the message size limit";
			return -1;
		}
		return 0;
	}
	*flags = 0;
	cl = frame_content_length(buf, (size_t)head_end);
	if (cl == -2) {
		/* the headers still get their 400 (RFC 4475 3.3.9) */
		*flags = SIP_FRAME_BAD_LENGTH;
		return (long)after_empty_line(buf, (size_t)head_end);
	}
	/* RFC 3261 18.3: mandatory on streams; absent is taken as 0. */
	if (cl < 0)
		*flags = SIP_FRAME_NO_LENGTH;
	total = after_empty_line(buf, (size_t)head_end) +
		(size_t)(cl < 0 ? 0 : cl);
	if (total > max) {
		*why = "message larger than the message size limit";
		return -1;
	}
	return len < total ? 0 : (long)total;
}

/* ---- Start line --------------------------------------------------------- */

static int reject(struct sip_scan *s, int code, const char *why)
{
	s->reject = code;
	s->why = why;
	return -1;
}

/* "SIP/" 1*DIGIT "." 1*DIGIT; 1 when it is SIP/2.0, 0 other, -1 bad. */
static int check_version(const char *p, size_t n)
{
	size_t i = 4;

	if (n < 7 || strncasecmp(p, "SIP/", 4) != 0)
		return -1;
	while (i < n && is_digit((unsigned char)p[i]))
		i++;
	if (i == 4 || i >= n || p[i] != '.')
		return -1;
	if (++i == n)
		return -1;
	while (i < n && is_digit((unsigned char)p[i]))
		i++;
	if (i != n)
		return -1;
	return n == 7 && memcmp(p + 4, "2.0", 3) == 0;
}

static int scan_status_line(struct sip_scan *s, const char *p, size_t n)
{
	const char *sp = memchr(p, ' ', n);
	size_t vlen = sp ? (size_t)(sp - p) : n;

	s->request = false;
	s->version = (struct sip_span){ 0, (uint32_t)vlen };
	if (check_version(p, vlen) != 1)
		return reject(s, 400, "response with a bad SIP version");
	/* RFC 3261 25.1: Status-Code is exactly 3 digits (RFC 4475
	 * 3.1.2.18: "bigcode" must not wrap around). */
	if (!sp || n < vlen + 4 || !is_digit((unsigned char)sp[1]) ||
	    !is_digit((unsigned char)sp[2]) || !is_digit((unsigned char)sp[3]))
		return reject(s, 400, "response without a 3-digit status code");
	if (n > vlen + 4 && sp[4] != ' ')
		return reject(s, 400, "response without a 3-digit status code");
	s->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
	if (s->status < 100 || s->status > 699)
		return reject(s, 400, "response status code out of range");
	if (n > vlen + 5)
		s->reason = (struct sip_span){ (uint32_t)(vlen + 5),
					       (uint32_t)(n - vlen - 5) };
	return 0;
}

static int scan_request_line(struct sip_scan *s, const char *p, size_t n)
{
	size_t i = 0, uri_off, ver_off;
	int v;

	s->request = true;
	while (i < n && sip_is_token_char((unsigned char)p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ' ')
		return reject(s, 400, "malformed request line");
	s->method = (struct sip_span){ 0, (uint32_t)i };
	uri_off = ++i;
	/* RFC 3261 25.1: exactly one SP between the elements (RFC 4475
	 * 3.1.2.7, 3.1.2.8), no LWS inside the Request-URI. */
	while (i < n && p[i] != ' ' && (unsigned char)p[i] > 0x20 &&
	       p[i] != 0x7f)
		i++;
	if (i == uri_off || i >= n || p[i] != ' ')
		return reject(s, 400, "malformed request line");
	s->ruri = (struct sip_span){ (uint32_t)uri_off,
				     (uint32_t)(i - uri_off) };
	ver_off = ++i;
	s->version = (struct sip_span){ (uint32_t)ver_off,
					(uint32_t)(n - ver_off) };
	v = check_version(p + ver_off, n - ver_off);
	if (v < 0)
		return reject(s, 400, "malformed request line");
	/* RFC 4475 3.1.2.6: a Request-URI in <> is not a Request-URI. */
	if (p[uri_off] == '<')
		return reject(s, 400, "Request-URI enclosed in <>");
	if (v == 0)
		return reject(s, 505, "SIP version not supported");
	return 0;
}

/* ---- Header lines -------------------------------------------------------- */

static int add_header(struct sip_scan *s, size_t name_off, size_t name_len,
		      size_t value_off, size_t line_off)
{
	struct sip_hdr *h;

	if (s->nhdrs == SIP_SCAN_MAX_HDRS)
		return reject(s, 400, "too many header lines");
	h = &s->hdrs[s->nhdrs];
	h->name = (struct sip_span){ (uint32_t)name_off, (uint32_t)name_len };
	h->value = (struct sip_span){ (uint32_t)value_off, 0 };
	h->line = (struct sip_span){ (uint32_t)line_off, 0 };
	h->id = (uint8_t)sip_hdr_lookup(s->buf + name_off, name_len);
	if (s->first[h->id] < 0)
		s->first[h->id] = (int16_t)s->nhdrs;
	s->count[h->id]++;
	s->nhdrs++;
	return 0;
}

/* Close the value and line spans of the last header at `eol`/`next`. */
static void end_header(struct sip_scan *s, size_t eol, size_t next)
{
	struct sip_hdr *h = &s->hdrs[s->nhdrs - 1];
	size_t v = h->value.off;

	while (eol > v && (is_ws((unsigned char)s->buf[eol - 1]) ||
			   s->buf[eol - 1] == '\r' || s->buf[eol - 1] == '\n'))
		eol--;
	h->value.len = (uint32_t)(eol > v ? eol - v : 0);
	h->line.len = (uint32_t)(next - h->line.off);
}

static int scan_header_line(struct sip_scan *s, size_t off, size_t eol)
{
	const char *p = s->buf;
	size_t i = off, name_end;

	while (i < eol && sip_is_token_char((unsigned char)p[i]))
		i++;
	name_end = i;
	while (i < eol && is_ws((unsigned char)p[i]))
		i++;
	if (name_end == off || i >= eol || p[i] != ':')
		return reject(s, 400, "malformed header line");
	i++;
	while (i < eol && is_ws((unsigned char)p[i]))
		i++;
	return add_header(s, off, name_end - off, i, off);
}

static void scan_init(struct sip_scan *s, const char *buf, size_t len)
{
	s->buf = buf;
	s->len = len;
	s->request = false;
	s->method = s->ruri = s->reason = s->version = (struct sip_span){ 0 };
	s->status = 0;
	s->nhdrs = 0;
	s->content_length = -1;
	s->reject = 0;
	s->why = NULL;
	memset(s->count, 0, sizeof(s->count));
	memset(s->first, 0xff, sizeof(s->first));
}

static int scan_headers(struct sip_scan *s, size_t off, size_t len)
{
	const char *p = s->buf;

	for (;;) {
		const char *nl = memchr(p + off, '\n', len - off);
		size_t eol, next;

		if (!nl)
			return reject(s, 400, "headers not terminated");
		eol = (size_t)(nl - p);
		next = eol + 1;
		if (eol > off && p[eol - 1] == '\r')
			eol--;
		if (eol == off) { /* the empty line */
			s->head_end = (uint32_t)off;
			s->body_off = (uint32_t)next;
			return 0;
		}
		if (is_ws((unsigned char)p[off])) {
			/* RFC 3261 7.3.1: a folded continuation line. */
			if (!s->nhdrs)
				return reject(s, 400, "folded first header");
		} else if (scan_header_line(s, off, eol) < 0) {
			return -1;
		}
		/* provisional end; the next line may continue it */
		end_header(s, eol, next);
		off = next;
	}
}

static int scan_body(struct sip_scan *s, bool datagram)
{
	const struct sip_hdr *h = sip_scan_hdr(s, SIP_H_CONTENT_LENGTH, 0);
	size_t rest = s->len - s->body_off;
	unsigned long cl;

	if (!h) {
		s->body_len = (uint32_t)(datagram ? rest : 0);
		return 0;
	}
	/* RFC 4475 3.3.9: one Content-Length only; 3.1.2.3: no sign. */
	if (s->count[SIP_H_CONTENT_LENGTH] > 1)
		return reject(s, 400, "several Content-Length headers");
	if (!parse_ulong(s->buf + h->value.off, h->value.len, 0x7fffffffUL,
			 &cl))
		return reject(s, 400, "bad Content-Length");
	s->content_length = (long)cl;
	if (cl > rest)
		/* RFC 3261 18.3 (RFC 4475 3.1.2.2): larger than the datagram */
		return reject(s, 400, "Content-Length larger than the body");
	/* RFC 3261 18.3: bytes after Content-Length are ignored (dblreq). */
	s->body_len = (uint32_t)cl;
	s->len = s->body_off + cl;
	return 0;
}

int sip_scan(struct sip_scan *s, const char *buf, size_t len, bool datagram)
{
	const char *nl;
	size_t eol;
	int rc;

	scan_init(s, buf, len);
	if (len > 0xfffffff0UL)
		return reject(s, 0, "message too large");
	nl = memchr(buf, '\n', len);
	if (!nl)
		return reject(s, 0, "no start line");
	eol = (size_t)(nl - buf);
	if (eol > 0 && buf[eol - 1] == '\r')
		eol--;
	s->start_line = (struct sip_span){ 0, (uint32_t)eol };
	if (len >= 4 && strncasecmp(buf, "SIP/", 4) == 0)
		rc = scan_status_line(s, buf, eol);
	else
		rc = scan_request_line(s, buf, eol);
	/* Headers are scanned even after a bad start line, so that an
	 * error response can still be built from them. */
	if (scan_headers(s, (size_t)(nl - buf) + 1, len) < 0)
		return -1;
	if (rc < 0)
		return -1;
	return scan_body(s, datagram);
}

/* ---- Semantic checks ----------------------------------------------------- */

static const char *const required_names[] = {
	[SIP_H_VIA] = "Via", [SIP_H_FROM] = "From", [SIP_H_TO] = "To",
	[SIP_H_CALL_ID] = "Call-ID", [SIP_H_CSEQ] = "CSeq",
	[SIP_H_MAX_FORWARDS] = "Max-Forwards",
	[SIP_H_CONTENT_TYPE] = "Content-Type", [SIP_H_EXPIRES] = "Expires",
};

static int check_required(struct sip_scan *s)
{
	static const enum sip_hdr_id required[] = {
		SIP_H_VIA, SIP_H_FROM, SIP_H_TO, SIP_H_CALL_ID, SIP_H_CSEQ,
	};
	static const enum sip_hdr_id single[] = {
		SIP_H_FROM, SIP_H_TO, SIP_H_CALL_ID, SIP_H_CSEQ,
		SIP_H_MAX_FORWARDS, SIP_H_CONTENT_TYPE, SIP_H_EXPIRES,
	};
	static char why[64];

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!s->count[required[i]]) {
			/* RFC 3261 8.1.1 (RFC 4475 3.3.1) */
			snprintf(why, sizeof(why), "missing %s header",
				 required_names[required[i]]);
			return reject(s, 400, why);
		}
	}
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
		if (s->count[single[i]] > 1) {
			/* RFC 4475 3.3.8 */
			snprintf(why, sizeof(why), "several %s headers",
				 required_names[single[i]]);
			return reject(s, 400, why);
		}
	}
	return 0;
}

static bool value_of(const struct sip_scan *s, enum sip_hdr_id id,
		     const char **p, size_t *n)
{
	const struct sip_hdr *h = sip_scan_hdr(s, id, 0);

	if (!h)
		return false;
	*p = s->buf + h->value.off;
	*n = h->value.len;
	return true;
}

static int check_cseq(struct sip_scan *s, bool known_method)
{
	const char *p, *m;
	size_t n, i = 0, mlen;
	unsigned long num;

	if (!value_of(s, SIP_H_CSEQ, &p, &n))
		return reject(s, 400, "missing CSeq header");
	while (i < n && is_digit((unsigned char)p[i]))
		i++;
	if (!parse_ulong(p, i, CSEQ_MAX, &num))
		return reject(s, 400, "CSeq number missing or out of range");
	m = p + i;
	mlen = n - i;
	trim(&m, &mlen);
	if (!mlen || m == p + i)
		return reject(s, 400, "malformed CSeq");
	for (i = 0; i < mlen; i++)
		if (!sip_is_token_char((unsigned char)m[i]))
			return reject(s, 400, "malformed CSeq");
	if (!s->request)
		return 0;
	/* RFC 3261 8.1.1.5, RFC 4475 3.1.2.16 and 3.1.2.17 */
	if (mlen != s->method.len || memcmp(m, s->buf + s->method.off, mlen))
		return known_method ?
			reject(s, 400, "CSeq method differs from the request") :
			reject(s, 501, "method not implemented");
	return 0;
}

static int check_scalar(struct sip_scan *s, enum sip_hdr_id id,
			unsigned long max, const char *why)
{
	const char *p;
	size_t n, i = 0;
	unsigned long v;

	if (!value_of(s, id, &p, &n))
		return 0;
	/* Retry-After may carry a comment and parameters after the number */
	if (id == SIP_H_RETRY_AFTER)
		while (i < n && is_digit((unsigned char)p[i]))
			i++;
	else
		i = n;
	if (!parse_ulong(p, i, max, &v))
		return reject(s, 400, why);
	return 0;
}

static int check_warning(struct sip_scan *s)
{
	for (unsigned k = 0; k < s->count[SIP_H_WARNING]; k++) {
		const struct sip_hdr *h = sip_scan_hdr(s, SIP_H_WARNING, k);
		const char *p = s->buf + h->value.off;

		/* RFC 3261 20.43: warn-code is 3DIGIT */
		if (h->value.len < 4 || !is_digit((unsigned char)p[0]) ||
		    !is_digit((unsigned char)p[1]) ||
		    !is_digit((unsigned char)p[2]) || !is_ws((unsigned char)p[3]))
			return reject(s, 400, "malformed Warning code");
	}
	return 0;
}

static int check_date(struct sip_scan *s)
{
	const char *p;
	size_t n;

	if (!value_of(s, SIP_H_DATE, &p, &n))
		return 0;
	/* RFC 3261 20.17: SIP-date is RFC 1123 date in GMT only */
	if (n < 3 || strncmp(p + n - 3, "GMT", 3) != 0)
		return reject(s, 400, "Date is not in GMT");
	return 0;
}

/* hostport of a SIP URI: host [":" port], RFC 3261 25.1. */
static bool check_hostport(const char *p, size_t n)
{
	size_t i = 0;
	unsigned long port;

	if (n && p[0] == '[') {
		const char *close = memchr(p, ']', n);
		char ip6[INET6_ADDRSTRLEN];
		struct in6_addr a;

		/* RFC 5118 4.10: a malformed reference is refused */
		if (!close || close == p + 1 ||
		    (size_t)(close - p - 1) >= sizeof(ip6))
			return false;
		memcpy(ip6, p + 1, (size_t)(close - p - 1));
		ip6[close - p - 1] = '\0';
		if (inet_pton(AF_INET6, ip6, &a) != 1)
			return false;
		i = (size_t)(close - p) + 1;
	} else {
		while (i < n && (is_alpha((unsigned char)p[i]) ||
				 is_digit((unsigned char)p[i]) || p[i] == '.' ||
				 p[i] == '-' || p[i] == '_'))
			i++;
		if (i == 0)
			return false;
	}
	if (i == n)
		return true;
	if (p[i] != ':')
		return false;
	return parse_ulong(p + i + 1, n - i - 1, 65535, &port);
}

static int check_sip_uri(struct sip_scan *s, const char *p, size_t n)
{
	const char *at = memchr(p, '@', n), *host = at ? at + 1 : p;
	const char *end = p + n, *hp_end = host;

	while (hp_end < end && *hp_end != ';' && *hp_end != '?')
		hp_end++;
	if (!check_hostport(host, (size_t)(hp_end - host)))
		return reject(s, 400, "malformed host in the Request-URI");
	/* RFC 3261 19.1.5: no headers in a Request-URI (RFC 4475 3.1.2.10) */
	if (memchr(hp_end, '?', (size_t)(end - hp_end)))
		return reject(s, 400, "Request-URI carries headers");
	return 0;
}

static int check_request_uri(struct sip_scan *s)
{
	const char *p = s->buf + s->ruri.off;
	size_t n = s->ruri.len, i = 0;

	while (i < n && (is_alpha((unsigned char)p[i]) ||
			 (i && (is_digit((unsigned char)p[i]) || p[i] == '+' ||
				p[i] == '-' || p[i] == '.'))))
		i++;
	if (i == 0 || i >= n || p[i] != ':')
		return reject(s, 400, "malformed Request-URI");
	if ((i == 3 && strncasecmp(p, "sip", 3) == 0) ||
	    (i == 4 && strncasecmp(p, "sips", 4) == 0))
		return check_sip_uri(s, p + i + 1, n - i - 1);
	if (i == 3 && strncasecmp(p, "tel", 3) == 0)
		return 0;
	/* RFC 3261 8.2.2.1 (RFC 4475 3.3.2, 3.3.3) */
	return reject(s, 416, "unsupported URI scheme");
}

/* RFC 3261 20.10: an addr-spec with '?' or ',' must be in <>. */
static int check_addr_spec(struct sip_scan *s, enum sip_hdr_id id)
{
	for (unsigned k = 0; k < s->count[id]; k++) {
		const struct sip_hdr *h = sip_scan_hdr(s, id, k);
		const char *p = s->buf + h->value.off;

		if (memchr(p, '<', h->value.len) || memchr(p, '"', h->value.len))
			continue;
		if (memchr(p, '?', h->value.len))
			return reject(s, 400, "URI with '?' outside <>");
	}
	return 0;
}

static int check_via(struct sip_scan *s)
{
	const struct sip_hdr *h = sip_scan_hdr(s, SIP_H_VIA, 0);
	struct sip_via via;

	if (sip_via_parse(s, h->value.off, h->value.off + h->value.len,
			  &via) < 0)
		return reject(s, 400, "malformed Via");
	return 0;
}

int sip_scan_check(struct sip_scan *s, bool known_method)
{
	if (check_required(s) < 0 || check_via(s) < 0 ||
	    check_cseq(s, known_method) < 0)
		return -1;
	if (check_scalar(s, SIP_H_MAX_FORWARDS, MAX_FORWARDS_MAX,
			 "Max-Forwards out of range") < 0 ||
	    check_scalar(s, SIP_H_EXPIRES, DELTA_MAX,
			 "Expires out of range") < 0 ||
	    check_scalar(s, SIP_H_RETRY_AFTER, DELTA_MAX,
			 "Retry-After out of range") < 0 ||
	    check_warning(s) < 0)
		return -1;
	if (!s->request)
		return 0;
	if (check_date(s) < 0 || check_addr_spec(s, SIP_H_CONTACT) < 0 ||
	    check_addr_spec(s, SIP_H_FROM) < 0 ||
	    check_addr_spec(s, SIP_H_TO) < 0)
		return -1;
	return check_request_uri(s);
}

/* ---- Via ------------------------------------------------------------------ */

/* Skip LWS, folding included (RFC 3261 25.1 LWS and SWS). */
static uint32_t skip_lws(const char *p, uint32_t i, uint32_t end)
{
	for (;;) {
		while (i < end && is_ws((unsigned char)p[i]))
			i++;
		if (i + 2 < end && p[i] == '\r' && p[i + 1] == '\n' &&
		    is_ws((unsigned char)p[i + 2]))
			i += 2;
		else if (i + 1 < end && p[i] == '\n' &&
			 is_ws((unsigned char)p[i + 1]))
			i += 1;
		else
			return i;
	}
}

static uint32_t token_end(const char *p, uint32_t i, uint32_t end)
{
	while (i < end && sip_is_token_char((unsigned char)p[i]))
		i++;
	return i;
}

static int via_protocol(const char *p, uint32_t *i, uint32_t end,
			struct sip_via *via)
{
	uint32_t j = token_end(p, *i, end);

	if (j - *i != 3 || strncasecmp(p + *i, "SIP", 3) != 0)
		return -1;
	j = skip_lws(p, j, end);
	if (j >= end || p[j] != '/')
		return -1;
	j = skip_lws(p, j + 1, end);
	*i = token_end(p, j, end);
	if (*i == j)
		return -1;
	j = skip_lws(p, *i, end);
	if (j >= end || p[j] != '/')
		return -1;
	j = skip_lws(p, j + 1, end);
	*i = token_end(p, j, end);
	if (*i == j)
		return -1;
	via->transport = (struct sip_span){ j, *i - j };
	return 0;
}

static int via_sent_by(const char *p, uint32_t *i, uint32_t end,
		       struct sip_via *via)
{
	uint32_t j = *i, h;
	unsigned long port;

	if (j < end && p[j] == '[') {
		h = j + 1;
		while (j < end && p[j] != ']')
			j++;
		if (j >= end || j == h)
			return -1;
		via->host = (struct sip_span){ h, j - h };
		j++;
	} else {
		h = j;
		while (j < end && (is_alpha((unsigned char)p[j]) ||
				   is_digit((unsigned char)p[j]) ||
				   p[j] == '.' || p[j] == '-' || p[j] == '_'))
			j++;
		if (j == h)
			return -1;
		via->host = (struct sip_span){ h, j - h };
	}
	j = skip_lws(p, j, end);
	if (j < end && p[j] == ':') {
		uint32_t d = skip_lws(p, j + 1, end), e = d;

		while (e < end && is_digit((unsigned char)p[e]))
			e++;
		if (!parse_ulong(p + d, e - d, 65535, &port))
			return -1;
		via->port = (int)port;
		j = e;
	}
	*i = j;
	return 0;
}

/* One ;name[=value] of a via-parm; value is a token, host or quoted. */
static int via_param(const char *p, uint32_t *i, uint32_t end,
		     struct sip_via *via)
{
	uint32_t n0 = skip_lws(p, *i, end), n1 = token_end(p, n0, end);
	uint32_t v0 = 0, v1 = 0, j;

	if (n1 == n0)
		return -1;
	j = skip_lws(p, n1, end);
	if (j < end && p[j] == '=') {
		v0 = skip_lws(p, j + 1, end);
		if (v0 < end && p[v0] == '"') {
			v1 = v0 + 1;
			while (v1 < end && p[v1] != '"')
				v1 += p[v1] == '\\' ? 2 : 1;
			if (v1 >= end)
				return -1;
			v1++;
		} else if (v0 < end && p[v0] == '[') {
			v1 = v0;
			while (v1 < end && p[v1] != ']')
				v1++;
			if (v1 >= end)
				return -1;
			v1++;
		} else {
			v1 = v0;
			while (v1 < end && (sip_is_token_char((unsigned char)p[v1]) ||
					    p[v1] == ':'))
				v1++;
			if (v1 == v0)
				return -1;
		}
		j = v1;
	}
	if (n1 - n0 == 6 && strncasecmp(p + n0, "branch", 6) == 0)
		via->branch = (struct sip_span){ v0, v1 - v0 };
	else if (n1 - n0 == 8 && strncasecmp(p + n0, "received", 8) == 0)
		via->received = (struct sip_span){ v0, v1 - v0 };
	else if (n1 - n0 == 5 && strncasecmp(p + n0, "rport", 5) == 0) {
		via->rport = true;
		via->rport_value = v1 > v0;
		via->rport_end = n1;
		if (v1 > v0) {
			unsigned long port;

			if (!parse_ulong(p + v0, v1 - v0, 65535, &port))
				return -1;
			via->rport_port = (int)port;
		}
	} else if (n1 - n0 == 5 && strncasecmp(p + n0, "maddr", 5) == 0)
		via->maddr = (struct sip_span){ v0, v1 - v0 };
	else if (n1 - n0 == 5 && strncasecmp(p + n0, "alias", 5) == 0)
		via->alias = true;
	*i = j;
	return 0;
}

int sip_via_parse(const struct sip_scan *s, uint32_t off, uint32_t end,
		  struct sip_via *via)
{
	const char *p = s->buf;
	uint32_t i = skip_lws(p, off, end);

	memset(via, 0, sizeof(*via));
	if (via_protocol(p, &i, end, via) < 0)
		return -1;
	i = skip_lws(p, i, end);
	if (via_sent_by(p, &i, end, via) < 0)
		return -1;
	for (;;) {
		i = skip_lws(p, i, end);
		if (i >= end) {
			via->end = end;
			return 0;
		}
		if (p[i] == ',') {
			via->end = i;
			via->more = true;
			return 0;
		}
		if (p[i] != ';')
			return -1;
		i++;
		if (via_param(p, &i, end, via) < 0)
			return -1;
	}
}
