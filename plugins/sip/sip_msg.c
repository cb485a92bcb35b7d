/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_msg: a received message from bytes to a checked libosip2 message,
 * and responses built from the request's own header lines.
 *
 * Building responses from the received lines (RFC 3261 8.2.6.2: Via,
 * From, To, Call-ID, CSeq are copied) is both faster than a libosip2
 * rebuild and the only way to answer a request libosip2 cannot parse:
 * RFC 4475 wants those answered with a 400, not dropped.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/random.h>

#include "sip_int.h"

/* ---- Methods --------------------------------------------------------------- */

static const char *const method_names[SIP_M__COUNT] = {
	[SIP_M_INVITE] = "INVITE", [SIP_M_ACK] = "ACK", [SIP_M_BYE] = "BYE",
	[SIP_M_CANCEL] = "CANCEL", [SIP_M_OPTIONS] = "OPTIONS",
	[SIP_M_REGISTER] = "REGISTER", [SIP_M_PRACK] = "PRACK",
	[SIP_M_UPDATE] = "UPDATE", [SIP_M_INFO] = "INFO",
	[SIP_M_MESSAGE] = "MESSAGE", [SIP_M_SUBSCRIBE] = "SUBSCRIBE",
	[SIP_M_NOTIFY] = "NOTIFY", [SIP_M_REFER] = "REFER",
	[SIP_M_PUBLISH] = "PUBLISH", [SIP_M_OTHER] = "other",
};

const char *sip_method_name(enum sip_method_id m)
{
	return m < SIP_M__COUNT ? method_names[m] : "other";
}

/* Methods are case-sensitive (RFC 3261 7.1). */
enum sip_method_id sip_method_lookup(const char *name, size_t len)
{
	for (int i = 0; i < SIP_M_OTHER; i++)
		if (strlen(method_names[i]) == len &&
		    memcmp(method_names[i], name, len) == 0)
			return (enum sip_method_id)i;
	return SIP_M_OTHER;
}

bool sip_method_known(const char *method, size_t len)
{
	return sip_method_lookup(method, len) != SIP_M_OTHER;
}

/* ---- Output buffers ---------------------------------------------------------- */

static bool buf_room(struct sip_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 512;
	while (cap < b->len + n + 1)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}

void sip_buf_add(struct sip_buf *b, const void *data, size_t n)
{
	if (!buf_room(b, n))
		return;
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void sip_buf_str(struct sip_buf *b, const char *text)
{
	sip_buf_add(b, text, strlen(text));
}

void sip_buf_printf(struct sip_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!buf_room(b, 64))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (!buf_room(b, (size_t)n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void sip_buf_num(struct sip_buf *b, unsigned long v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do
		tmp[--i] = (char)('0' + v % 10);
	while (v /= 10);
	sip_buf_add(b, tmp + i, sizeof(tmp) - (size_t)i);
}

void sip_buf_free(struct sip_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}

/* ---- Random tokens ------------------------------------------------------------ */

static uint64_t rng_state[2];

/* xorshift128+ seeded from the kernel: tags and branches need to be
 * unique and unguessable enough (RFC 3261 19.3: 32 random bits). */
static uint64_t rng_next(void)
{
	uint64_t s1 = rng_state[0];
	const uint64_t s0 = rng_state[1];

	if (!rng_state[0] && !rng_state[1]) {
		if (getrandom(rng_state, sizeof(rng_state), 0) !=
		    sizeof(rng_state))
			rng_state[0] = sip_now_ms() | 1;
		s1 = rng_state[0];
	}
	rng_state[0] = s0;
	s1 ^= s1 << 23;
	rng_state[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return rng_state[1] + s0;
}

void sip_random_token(char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t r = 0;
	size_t i;

	for (i = 0; i + 1 < size; i++) {
		if (i % 16 == 0)
			r = rng_next();
		buf[i] = hex[r & 15];
		r >>= 4;
	}
	if (size)
		buf[i] = '\0';
}

/* ---- Reason phrases ------------------------------------------------------------ */

static const struct {
	int code;
	const char *text;
} reasons[] = {
	{ 100, "Trying" }, { 180, "Ringing" }, { 181, "Call Is Being Forwarded" },
	{ 182, "Queued" }, { 183, "Session Progress" }, { 200, "OK" },
	{ 202, "Accepted" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
	{ 403, "Forbidden" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
	{ 407, "Proxy Authentication Required" }, { 408, "Request Timeout" },
	{ 415, "Unsupported Media Type" }, { 416, "Unsupported URI Scheme" },
	{ 420, "Bad Extension" }, { 421, "Extension Required" },
	{ 422, "Session Interval Too Small" },
	{ 480, "Temporarily Unavailable" },
	{ 481, "Call/Transaction Does Not Exist" }, { 482, "Loop Detected" },
	{ 483, "Too Many Hops" }, { 486, "Busy Here" },
	{ 487, "Request Terminated" }, { 488, "Not Acceptable Here" },
	{ 491, "Request Pending" }, { 500, "Server Internal Error" },
	{ 501, "Not Implemented" }, { 502, "Bad Gateway" },
	{ 503, "Service Unavailable" }, { 504, "Server Time-out" },
	{ 505, "Version Not Supported" }, { 513, "Message Too Large" },
	{ 603, "Decline" },
};

const char *sip_reason(int code)
{
	for (size_t i = 0; i < SIP_ARRAY_SIZE(reasons); i++)
		if (reasons[i].code == code)
			return reasons[i].text;
	return code < 200 ? "Progress" : code < 300 ? "OK" : "Error";
}

/* ---- Responses from the request's lines -------------------------------------------- */

/* A header line without its line end(s). */
static size_t line_len_no_eol(const char *raw, const struct sip_hdr *h)
{
	size_t n = h->line.len;

	while (n && (raw[h->line.off + n - 1] == '\n' ||
		     raw[h->line.off + n - 1] == '\r'))
		n--;
	return n;
}

/* Does a From/To value carry a tag parameter (outside the <> part)? */
static bool has_tag(const char *p, size_t n)
{
	const char *gt = NULL;
	bool quoted = false;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' && (i == 0 || p[i - 1] != '\\'))
			quoted = !quoted;
		else if (!quoted && p[i] == '>')
			gt = p + i;
	}
	if (gt) {
		n -= (size_t)(gt - p);
		p = gt;
	}
	for (size_t i = 0; i + 4 <= n; i++) {
		if (p[i] != ';')
			continue;
		size_t j = i + 1;

		while (j < n && (p[j] == ' ' || p[j] == '\t'))
			j++;
		if (j + 3 <= n && strncasecmp(p + j, "tag", 3) == 0) {
			j += 3;
			while (j < n && (p[j] == ' ' || p[j] == '\t'))
				j++;
			if (j < n && p[j] == '=')
				return true;
		}
	}
	return false;
}

/* The top Via line with received= and rport= set (RFC 3261 18.2.1, RFC
 * 3581 4). Other lines are copied as they are. */
void sip_msg_put_top_via(struct sip_buf *b, const struct sip_msg *req,
			 const struct sip_hdr *h)
{
	const char *p = req->raw;
	uint32_t start = h->line.off, end = h->line.off + h->line.len;
	uint32_t at = req->via.end;

	if (!req->via_ok || (!req->add_received && !req->via.rport)) {
		sip_buf_add(b, p + start, end - start);
		return;
	}
	if (req->via.rport && !req->via.rport_value) {
		sip_buf_add(b, p + start, req->via.rport_end - start);
		sip_buf_add(b, "=", 1);
		sip_buf_num(b, (unsigned long)sip_addr_port(&req->src.addr));
		start = req->via.rport_end;
	}
	sip_buf_add(b, p + start, at - start);
	if (!req->via.received.len) {
		sip_buf_str(b, ";received=");
		sip_buf_str(b, req->received);
	}
	sip_buf_add(b, p + at, end - at);
}

int sip_rsp_base_build(struct sip_rsp_base *rb, const struct sip_msg *req)
{
	const struct sip_scan *s = req->scan;
	struct sip_buf b = { 0 };
	bool first_via = true;
	const struct sip_hdr *to = sip_scan_hdr(s, SIP_H_TO, 0);

	memset(rb, 0, sizeof(*rb));
	for (unsigned i = 0; i < s->nhdrs; i++) {
		const struct sip_hdr *h = &s->hdrs[i];

		switch (h->id) {
		case SIP_H_VIA:
			if (first_via)
				sip_msg_put_top_via(&b, req, h);
			else
				sip_buf_add(&b, req->raw + h->line.off,
					    h->line.len);
			first_via = false;
			break;
		case SIP_H_FROM:
		case SIP_H_CALL_ID:
		case SIP_H_CSEQ:
			sip_buf_add(&b, req->raw + h->line.off, h->line.len);
			break;
		default:
			break;
		}
	}
	if (to) {
		size_t n = line_len_no_eol(req->raw, to);

		rb->to = malloc(n + 1);
		if (rb->to) {
			memcpy(rb->to, req->raw + to->line.off, n);
			rb->to[n] = '\0';
			rb->to_len = n;
		}
		rb->to_tag = has_tag(req->raw + to->value.off, to->value.len);
	}
	if (b.failed || (to && !rb->to)) {
		sip_buf_free(&b);
		free(rb->to);
		rb->to = NULL;
		return -ENOMEM;
	}
	rb->hdrs = b.data;
	rb->hdrs_len = b.len;
	return 0;
}

void sip_rsp_base_free(struct sip_rsp_base *rb)
{
	free(rb->hdrs);
	free(rb->to);
	memset(rb, 0, sizeof(*rb));
}

int sip_rsp_build(struct sip_buf *out, const struct sip_rsp_base *rb,
		  int code, const char *reason, const char *tag,
		  const char *extra_hdrs, const char *body_type,
		  const char *body, size_t body_len)
{
	sip_buf_add(out, "SIP/2.0 ", 8);
	sip_buf_num(out, (unsigned long)code);
	sip_buf_add(out, " ", 1);
	sip_buf_str(out, reason ? reason : sip_reason(code));
	sip_buf_add(out, "\r\n", 2);
	sip_buf_add(out, rb->hdrs, rb->hdrs_len);
	if (rb->to) {
		sip_buf_add(out, rb->to, rb->to_len);
		/* RFC 3261 8.2.6.2: a tag unless the To has one; 100 may omit */
		if (code > 100 && !rb->to_tag && tag && *tag) {
			sip_buf_add(out, ";tag=", 5);
			sip_buf_str(out, tag);
		}
		sip_buf_add(out, "\r\n", 2);
	}
	if (extra_hdrs)
		sip_buf_str(out, extra_hdrs);
	if (body_len && body_type) {
		sip_buf_str(out, "Content-Type: ");
		sip_buf_str(out, body_type);
		sip_buf_add(out, "\r\n", 2);
	}
	sip_buf_str(out, "Content-Length: ");
	sip_buf_num(out, body_len);
	sip_buf_add(out, "\r\n\r\n", 4);
	if (body_len)
		sip_buf_add(out, body, body_len);
	return out->failed ? -ENOMEM : 0;
}

void sip_msg_reply_peer(const struct sip_msg *m, struct sip_peer *dst)
{
	int port;

	*dst = m->src;
	if (!m->via_ok || m->via.rport)
		return;	/* RFC 3581 4: back to the source port */
	/* RFC 3261 18.2.2: the received address and the sent-by port. A
	 * Via naming another transport than the one used is answered where
	 * the request came from. */
	if (m->src.proto == SIP_UDP &&
	    !sip_span_eq(m->scan, m->via.transport, "UDP"))
		return;
	port = m->via.port ? m->via.port :
	       (m->src.proto == SIP_TLS ? 5061 : 5060);

	if (dst->addr.u.sa.sa_family == AF_INET6)
		dst->addr.u.sin6.sin6_port = htons((uint16_t)port);
	else
		dst->addr.u.sin.sin_port = htons((uint16_t)port);
}

void sip_reply_stateless(const struct sip_msg *req, int code,
			 const char *reason, const char *extra_hdrs)
{
	struct sip_rsp_base rb;
	struct sip_buf out = { 0 };
	struct sip_peer dst;
	char tag[17];
	int rc;

	/* A response copies what the request has (RFC 3261 8.2.6.2);
	 * without a Via it could not find its way back. */
	if (!req->scan->count[SIP_H_VIA]) {
		tnd_info("cannot answer %d to a request without Via: dropped",
			 code);
		sip_count(sip_stats.rx_dropped);
		return;
	}
	if (sip_rsp_base_build(&rb, req) < 0)
		return;
	sip_random_token(tag, sizeof(tag));
	rc = sip_rsp_build(&out, &rb, code, reason, tag, extra_hdrs, NULL,
			   NULL, 0);
	sip_rsp_base_free(&rb);
	if (rc == 0) {
		sip_msg_reply_peer(req, &dst);
		rc = sip_send(&dst, out.data, out.len);
		if (rc == 0)
			sip_count(sip_stats.tx_rsp[code / 100]);
		else
			sip_count(sip_stats.tx_errors);
	}
	sip_buf_free(&out);
}

/* ---- Parsing ---------------------------------------------------------------- */

/*
 * Refuse a message the checks found bad: a request is answered (RFC 4475:
 * invalid requests get their 4xx/5xx, never silence), a response is
 * discarded. Both are logged with the reason.
 */
static void refuse(struct sip_msg *m, int code, const char *why)
{
	char addr[64];
	const struct sip_scan *s = m->scan;

	sip_addr_str(&m->src.addr, addr, sizeof(addr));
	if (!s->request) {
		sip_count(sip_stats.rx_bad_rsp);
		tnd_info("discarded a response from %s %s: %s",
			 sip_proto_name(m->src.proto), addr, why);
		return;
	}
	if (!code) {
		sip_count(sip_stats.rx_dropped);
		tnd_info("dropped bytes from %s %s: %s",
			 sip_proto_name(m->src.proto), addr, why);
		return;
	}
	sip_count(sip_stats.rx_bad_req);
	tnd_info("answered %d to a request from %s %s: %s", code,
		 sip_proto_name(m->src.proto), addr, why);
	if (m->method == SIP_M_ACK)
		return; /* RFC 3261 17.2.3: never answer an ACK */
	sip_reply_stateless(m, code, NULL, NULL);
}

static void note_received(struct sip_msg *m)
{
	const struct sip_via *v = &m->via;

	sip_addr_ip(&m->src.addr, m->received, sizeof(m->received));
	/* RFC 3261 18.2.1: received= when sent-by differs from the source;
	 * RFC 3581 4: always when rport is present. */
	m->add_received = v->rport ||
		strlen(m->received) != v->host.len ||
		strncasecmp(m->received, m->raw + v->host.off, v->host.len);
}

/* The bytes libosip2 parses (see sip_osip_fix): mostly the message
 * itself, a fixed copy when it has NULs in headers or a multipart body. */
static const char *osip_view(const struct sip_msg *m, char **copy)
{
	*copy = NULL;
	if (!sip_osip_needs_copy(m->scan))
		return m->raw;
	*copy = malloc(m->len + 1);
	if (!*copy)
		return NULL;
	memcpy(*copy, m->raw, m->len);
	(*copy)[m->len] = '\0';
	sip_osip_fix(m->scan, *copy);
	return *copy;
}

static int parse_osip(struct sip_msg *m)
{
	char *copy;
	const char *text = osip_view(m, &copy);
	int rc;

	if (!text || osip_message_init(&m->osip) != 0) {
		free(copy);
		m->osip = NULL;
		return -ENOMEM;
	}
	rc = osip_message_parse(m->osip, text, m->scan->len);
	free(copy);
	if (rc != 0 || !m->osip->call_id || !m->osip->cseq ||
	    !m->osip->from || !m->osip->to ||
	    osip_list_size(&m->osip->vias) < 1 ||
	    (m->scan->request && !m->osip->req_uri)) {
		osip_message_free(m->osip);
		m->osip = NULL;
		return -EINVAL;
	}
	return 0;
}

int sip_msg_parse(struct sip_msg *m, unsigned flags)
{
	struct sip_scan *s = m->scan;
	const struct sip_hdr *via;

	m->osip = NULL;
	m->osip_borrowed = false;
	m->via_ok = false;
	m->add_received = false;
	m->method = SIP_M_OTHER;
	if (sip_scan(s, m->raw, m->len, m->src.proto == SIP_UDP) == 0) {
		if (s->request)
			m->method = sip_method_lookup(m->raw + s->method.off,
						      s->method.len);
		sip_scan_check(s, m->method != SIP_M_OTHER);
	} else if (s->request) {
		m->method = sip_method_lookup(m->raw + s->method.off,
					      s->method.len);
	}
	m->len = s->len;
	via = sip_scan_hdr(s, SIP_H_VIA, 0);
	if (via && sip_via_parse(s, via->value.off,
				 via->value.off + via->value.len,
				 &m->via) == 0) {
		m->via_ok = true;
		note_received(m);
	}
	if (!s->why && (flags & SIP_IN_NO_LENGTH))
		/* RFC 3261 18.3: streams are framed by Content-Length; with
		 * bytes after the headers the framing is lost */
		s->why = "no Content-Length on a stream", s->reject = 400;
	if (s->why) {
		refuse(m, s->reject, s->why);
		return -1;
	}
	if (parse_osip(m) < 0) {
		refuse(m, 400, "libosip2 cannot parse it");
		return -1;
	}
	return 0;
}

void sip_msg_release(struct sip_msg *m)
{
	if (m->osip && !m->osip_borrowed)
		osip_message_free(m->osip);
	m->osip = NULL;
}
