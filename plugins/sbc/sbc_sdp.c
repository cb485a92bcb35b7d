/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbc_sdp: what the SBC needs of a session description (the audio stream
 * it anchors, its media security: RFC 4568 a=crypto, RFC 5763/8122
 * a=fingerprint, RFC 4145 a=setup) and the rewrite that makes a
 * description point at the SBC (RFC 4566 o=, c=, m=; RFC 3605 a=rtcp;
 * RFC 8839 ICE attributes) with our proto, security lines and formats.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sbc_int.h"

#define SBC_SDP_STREAMS 8

static const struct media_codec_info *relayable(const char *name,
						unsigned clock)
{
	return sbc_media->codec_find(name, clock);
}

int sbc_sdp_read(const char *body, size_t len, struct sbc_sdp *out)
{
	struct sip_sdp_media streams[SBC_SDP_STREAMS];
	const struct sip_sdp_media *audio = NULL;
	int n;

	memset(out, 0, sizeof(*out));
	out->dtmf_pt = -1;
	n = sbc_sip->sdp_media(body, len, streams, SBC_SDP_STREAMS);
	if (n < 0)
		return -EINVAL;
	for (int i = 0; i < n && i < SBC_SDP_STREAMS && !audio; i++)
		if (strcmp(streams[i].type, "audio") == 0)
			audio = &streams[i];
	if (!audio)
		return -ENOENT;
	if (sbc_sdp_read_security(body, len, out) < 0)
		return -EPROTONOSUPPORT;
	out->secure = out->sec != SBC_SEC_PLAIN;
	snprintf(out->address, sizeof(out->address), "%s", audio->address);
	out->port = audio->port;
	out->dir = audio->dir;
	out->pt = -1;
	for (unsigned f = 0; f < audio->nformats; f++) {
		const char *enc = audio->formats[f].encoding;

		if (out->nfmt < SBC_SDP_FORMATS) {
			struct sbc_sdp_fmt *ff = &out->fmt[out->nfmt++];

			ff->pt = ff->pt_in = audio->formats[f].pt;
			snprintf(ff->name, sizeof(ff->name), "%s", enc);
			ff->clock = audio->formats[f].clock;
		}

		if (strcasecmp(enc, "telephone-event") == 0) {
			if (out->dtmf_pt < 0)
				out->dtmf_pt = audio->formats[f].pt;
		} else if (out->pt < 0 &&
			   relayable(enc, audio->formats[f].clock)) {
			snprintf(out->codec, sizeof(out->codec), "%s", enc);
			out->clock_hz = audio->formats[f].clock;
			out->pt = audio->formats[f].pt;
		}
	}
	/* a held or disabled stream (port 0) still needs no codec */
	if (out->pt < 0 && audio->port)
		return -EPROTONOSUPPORT;
	out->valid = true;
	return 0;
}

/* The lines that would leak addresses of the side they came from. */
static bool dropped(const char *line, size_t n)
{
	static const char *const prefixes[] = {
		"a=rtcp:", "a=rtcp-mux", "a=candidate", "a=remote-candidates",
		"a=end-of-candidates", "a=ice-", "e=", "p=", NULL
	};

	for (const char *const *p = prefixes; *p; p++)
		if (n >= strlen(*p) && strncmp(line, *p, strlen(*p)) == 0)
			return true;
	return false;
}

struct out_buf {
	char *p;
	size_t len, size;
	bool full;
};

static void put(struct out_buf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out_buf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

/* "o=user sess version IN IP4 addr": the user and address are ours. */
static void put_origin(struct out_buf *o, const char *line, size_t n,
		       const char *ipv, const char *addr)
{
	char sess[32] = "0", version[32] = "0";
	char copy[256];

	snprintf(copy, sizeof(copy), "%.*s", (int)n, line);
	if (sscanf(copy, "o=%*s %31s %31s", sess, version) < 2)
		snprintf(version, sizeof(version), "0");
	put(o, "o=sbc %s %s IN %s %s\r\n", sess, version, ipv, addr);
}

/* "m=video 4000 RTP/AVP 96" with its port replaced. */
static void put_media(struct out_buf *o, const char *line, size_t n,
		      unsigned port)
{
	const char *sp1 = memchr(line, ' ', n);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line)) : NULL;

	if (!sp1 || !sp2) {
		put(o, "%.*s\r\n", (int)n, line);
		return;
	}
	if (strtoul(sp1 + 1, NULL, 10) == 0)
		port = 0; /* a disabled stream stays disabled (RFC 3264 8.2) */
	put(o, "%.*s %u%.*s\r\n", (int)(sp1 - line), line, port,
	    (int)(n - (size_t)(sp2 - line)), sp2);
}

/* ---- Lines --------------------------------------------------------------- */

struct sdp_line {
	const char *p;
	size_t n; /* without CR LF */
};

static bool next_line(const char **cur, const char *end, struct sdp_line *l)
{
	const char *nl;

	if (*cur >= end)
		return false;
	nl = memchr(*cur, '\n', (size_t)(end - *cur));
	l->p = *cur;
	l->n = (size_t)((nl ? nl : end) - *cur);
	*cur = nl ? nl + 1 : end;
	if (l->n && l->p[l->n - 1] == '\r')
		l->n--;
	return true;
}

static bool starts(const struct sdp_line *l, const char *prefix)
{
	size_t k = strlen(prefix);

	return l->n >= k && strncmp(l->p, prefix, k) == 0;
}

/* The n-th (0-based) space-separated word of a line into `out`. */
static bool word(const struct sdp_line *l, unsigned n, char *out, size_t size)
{
	const char *p = l->p, *end = l->p + l->n;

	for (;;) {
		const char *w;

		while (p < end && *p == ' ')
			p++;
		w = p;
		while (p < end && *p != ' ')
			p++;
		if (w == p)
			return false;
		if (n-- == 0) {
			snprintf(out, size, "%.*s", (int)(p - w), w);
			return true;
		}
	}
}

/* ---- Security of the anchored stream ------------------------------------- */

static enum media_setup setup_of(const struct sdp_line *l)
{
	const char *v = l->p + strlen("a=setup:");
	size_t n = l->n - strlen("a=setup:");

	if (n == 6 && !strncasecmp(v, "active", 6))
		return MEDIA_SETUP_ACTIVE;
	if (n == 7 && !strncasecmp(v, "passive", 7))
		return MEDIA_SETUP_PASSIVE;
	return MEDIA_SETUP_ACTPASS; /* actpass, holdconn, unknown */
}

/* a=crypto of the stream, a=fingerprint and a=setup of the stream or,
 * when it has none, of the session (RFC 8122 5, RFC 4145 4). */
static void take_security(struct sbc_sdp *out, const struct sdp_line *l,
			  bool media_level, bool *media_fp, bool *media_setup)
{
	if (starts(l, "a=crypto:") && media_level &&
	    out->ncrypto < SBC_SDP_CRYPTO && l->n < MEDIA_CRYPTO_LINE_MAX) {
		snprintf(out->crypto[out->ncrypto++], MEDIA_CRYPTO_LINE_MAX,
			 "%.*s", (int)l->n, l->p);
	} else if (starts(l, "a=fingerprint:") && (media_level || !*media_fp) &&
		   l->n - 14 < sizeof(out->fingerprint)) {
		snprintf(out->fingerprint, sizeof(out->fingerprint), "%.*s",
			 (int)(l->n - 14), l->p + 14);
		*media_fp = media_level;
	} else if (starts(l, "a=setup:") && (media_level || !*media_setup)) {
		out->setup = setup_of(l);
		*media_setup = media_level;
	}
}

int sbc_sdp_read_security(const char *body, size_t len, struct sbc_sdp *out)
{
	const char *cur = body, *end = body + len;
	bool media_fp = false, media_setup = false;
	bool session = true, audio = false; /* where the line is */
	struct sdp_line l;

	out->sec = SBC_SEC_PLAIN;
	out->proto[0] = '\0';
	out->ncrypto = 0;
	out->crypto_pick = -1;
	out->fingerprint[0] = '\0';
	out->setup = MEDIA_SETUP_ACTPASS;
	while (next_line(&cur, end, &l)) {
		if (starts(&l, "m=")) {
			if (audio)
				break; /* only the first audio stream */
			session = false;
			audio = starts(&l, "m=audio ");
			if (audio)
				word(&l, 2, out->proto, sizeof(out->proto));
			continue;
		}
		if (audio || session)
			take_security(out, &l, audio, &media_fp, &media_setup);
	}
	if (!audio)
		return -ENOENT;
	if (strstr(out->proto, "TLS")) { /* UDP/TLS/RTP/SAVP[F], RFC 5764 8 */
		out->sec = SBC_SEC_DTLS;
		return out->fingerprint[0] ? 0 : -EBADMSG;
	}
	if (strstr(out->proto, "SAVP")) { /* RTP/SAVP[F], RFC 4568 */
		out->sec = SBC_SEC_SDES;
		return out->ncrypto ? 0 : -EBADMSG;
	}
	/* a=crypto is defined for RTP/SAVP only (RFC 4568 5.1) */
	out->ncrypto = 0;
	return 0;
}

/* ---- The rewrite --------------------------------------------------------- */

/* Media security ends at the SBC: the other side's lines never cross. */
static bool security_line(const struct sdp_line *l)
{
	return starts(l, "a=crypto:") || starts(l, "a=fingerprint:") ||
	       starts(l, "a=setup:") || starts(l, "a=tls-id:");
}

struct build {
	struct out_buf o;
	const struct sbc_sdp_target *t;
	const char *ipv;
	bool in_anchored, anchored, live; /* live: the stream's port is not 0 */
};

static const struct sbc_sdp_fmt *fmt_by_input_pt(const struct sbc_sdp_target *t,
						 int pt_in)
{
	for (unsigned i = 0; i < t->nfmt; i++)
		if (t->fmt[i].pt_in == pt_in)
			return &t->fmt[i];
	return NULL;
}

/* What follows the first `n` words of a line (" 0 8" of "m=audio 4000
 * RTP/AVP 0 8" for n = 3). */
static const char *after_words(const struct sdp_line *l, unsigned n)
{
	const char *p = l->p, *end = l->p + l->n;

	while (n--) {
		while (p < end && *p == ' ')
			p++;
		while (p < end && *p != ' ')
			p++;
	}
	return p;
}

/* "m=audio 4000 RTP/AVP 0 8": our port, proto and formats. */
static void put_anchored_media(struct build *b, const struct sdp_line *l)
{
	const struct sbc_sdp_target *t = b->t;
	const char *fmts = after_words(l, 3), *end = l->p + l->n;
	char port[16], proto[32];

	if (!word(l, 1, port, sizeof(port)) ||
	    !word(l, 2, proto, sizeof(proto))) {
		put(&b->o, "%.*s\r\n", (int)l->n, l->p);
		return;
	}
	b->live = strtoul(port, NULL, 10) != 0;
	if (!b->live) { /* a disabled stream stays disabled (RFC 3264 8.2),
			 * with the proto of the offer it answers (6) */
		put(&b->o, "m=audio 0 %s%.*s\r\n", t->proto ? t->proto : proto,
		    (int)(end - fmts), fmts);
		return;
	}
	put(&b->o, "m=audio %u %s", t->port, t->proto ? t->proto : proto);
	if (!t->replace)
		put(&b->o, "%.*s", (int)(end - fmts), fmts);
	for (unsigned i = 0; i < t->nfmt; i++)
		put(&b->o, " %d", t->fmt[i].pt);
	put(&b->o, "\r\n");
}

/* a=rtpmap:PT / a=fmtp:PT of the anchored stream, as the formats say. */
static void put_format_attr(struct build *b, const struct sdp_line *l,
			    size_t prefix)
{
	const char *p = l->p + prefix;
	char *num_end;
	long pt = strtol(p, &num_end, 10);
	const struct sbc_sdp_fmt *f;

	if (!b->t->replace || num_end == p) {
		put(&b->o, "%.*s\r\n", (int)l->n, l->p);
		return;
	}
	f = fmt_by_input_pt(b->t, (int)pt);
	if (f) /* else: a format the answer no longer lists */
		put(&b->o, "%.*s%d%.*s\r\n", (int)prefix, l->p, f->pt,
		    (int)(l->p + l->n - num_end), num_end);
}

/* The end of the anchored stream: rtpmaps of new formats, our lines. */
static void end_anchored(struct build *b)
{
	b->in_anchored = false;
	if (!b->live)
		return;
	for (unsigned i = 0; i < b->t->nfmt; i++)
		if (b->t->fmt[i].pt_in < 0)
			put(&b->o, "a=rtpmap:%d %s/%u\r\n", b->t->fmt[i].pt,
			    b->t->fmt[i].name, b->t->fmt[i].clock);
	if (b->t->attrs)
		put(&b->o, "%s", b->t->attrs);
}

static void build_line(struct build *b, const struct sdp_line *l)
{
	if (b->in_anchored && starts(l, "m="))
		end_anchored(b);
	if (l->n == 0 || dropped(l->p, l->n) || security_line(l)) {
		/* empty, leaking or hop-by-hop lines go */
	} else if (starts(l, "o=")) {
		put_origin(&b->o, l->p, l->n, b->ipv, b->t->addr);
	} else if (starts(l, "c=")) {
		put(&b->o, "c=IN %s %s\r\n", b->ipv, b->t->addr);
	} else if (starts(l, "m=audio ") && !b->anchored) {
		put_anchored_media(b, l);
		b->anchored = b->in_anchored = true;
	} else if (starts(l, "m=")) {
		put_media(&b->o, l->p, l->n, 0); /* not anchored: refused */
	} else if (b->in_anchored && b->live && starts(l, "a=rtpmap:")) {
		put_format_attr(b, l, strlen("a=rtpmap:"));
	} else if (b->in_anchored && b->live && starts(l, "a=fmtp:")) {
		put_format_attr(b, l, strlen("a=fmtp:"));
	} else {
		put(&b->o, "%.*s\r\n", (int)l->n, l->p);
	}
}

int sbc_sdp_build(const char *in, size_t len, const struct sbc_sdp_target *t,
		  char *out, size_t size)
{
	struct build b = { .o = { .p = out, .size = size }, .t = t };
	const char *cur = in, *end = in + len;
	struct sdp_line l;

	b.ipv = strchr(t->addr, ':') ? "IP6" : "IP4";
	if (size)
		out[0] = '\0';
	while (!b.o.full && next_line(&cur, end, &l))
		build_line(&b, &l);
	if (b.in_anchored)
		end_anchored(&b);
	return b.o.full ? -ENOSPC : (int)b.o.len;
}

int sbc_sdp_rewrite(const char *in, size_t len, const char *addr,
		    unsigned port, char *out, size_t size)
{
	struct sbc_sdp_target t = { .addr = addr, .port = port };

	return sbc_sdp_build(in, len, &t, out, size);
}
