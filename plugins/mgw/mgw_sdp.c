/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgw_sdp: parse SDP (RFC 4566), choose an answer (RFC 3264), write offers
 * and answers. See mgw_sdp.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mgw_sdp.h"

/* RFC 3551 table 4: the static audio payload types a gateway meets. */
static const struct {
	int pt;
	const char *name;
	unsigned clock;
} static_pts[] = {
	{ 0, "PCMU", 8000 }, { 3, "GSM", 8000 },   { 4, "G723", 8000 },
	{ 8, "PCMA", 8000 }, { 9, "G722", 8000 },  { 13, "CN", 8000 },
	{ 18, "G729", 8000 },
};

static const char *const dir_names[] = { "sendrecv", "sendonly",
					 "recvonly", "inactive" };

const char *mgw_sdp_dir_name(enum mgw_sdp_dir dir)
{
	return dir <= MGW_SDP_INACTIVE ? dir_names[dir] : "sendrecv";
}

enum mgw_sdp_dir mgw_sdp_dir_answer(enum mgw_sdp_dir offered)
{
	switch (offered) {
	case MGW_SDP_SENDONLY: return MGW_SDP_RECVONLY;
	case MGW_SDP_RECVONLY: return MGW_SDP_SENDONLY;
	case MGW_SDP_INACTIVE: return MGW_SDP_INACTIVE;
	default: return MGW_SDP_SENDRECV;
	}
}

/* ---- Parsing --------------------------------------------------------------- */

static void copy_field(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* "IN IP4 192.0.2.1" */
static int parse_conn(const char *v, char *addr, bool *ipv6)
{
	char net[8], type[8], a[MGW_SDP_ADDR_MAX];

	if (sscanf(v, "%7s %7s %63s", net, type, a) != 3 ||
	    strcmp(net, "IN") != 0 ||
	    (strcmp(type, "IP4") != 0 && strcmp(type, "IP6") != 0))
		return -EINVAL;
	a[strcspn(a, "/")] = '\0'; /* a multicast TTL */
	snprintf(addr, MGW_SDP_ADDR_MAX, "%s", a);
	if (ipv6)
		*ipv6 = type[2] == '6';
	return 0;
}

static struct mgw_sdp_fmt *find_fmt(struct mgw_sdp_media *m, int pt)
{
	for (unsigned i = 0; i < m->nfmts; i++)
		if (m->fmts[i].pt == pt)
			return &m->fmts[i];
	return NULL;
}

static void static_name(struct mgw_sdp_fmt *f)
{
	for (size_t i = 0; i < sizeof(static_pts) / sizeof(static_pts[0]); i++)
		if (static_pts[i].pt == f->pt) {
			snprintf(f->name, sizeof(f->name), "%s",
				 static_pts[i].name);
			f->clock = static_pts[i].clock;
		}
}

/* "audio 49170 RTP/AVP 0 8 101" */
static int parse_media(const char *v, struct mgw_sdp_media *m)
{
	char type[16], proto[24];
	unsigned port;
	int off = 0;
	const char *p;

	if (sscanf(v, "%15s %u%*[/0-9] %23s %n", type, &port, proto, &off) <
		    3 &&
	    sscanf(v, "%15s %u %23s %n", type, &port, proto, &off) < 3)
		return -EINVAL;
	if (port > 65535)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	snprintf(m->type, sizeof(m->type), "%s", type);
	snprintf(m->proto, sizeof(m->proto), "%s", proto);
	m->port = port;
	p = v + off;
	snprintf(m->fmt_list, sizeof(m->fmt_list), "%s", p);
	while (*p && m->nfmts < MGW_SDP_FMT_MAX) {
		char *end;
		long pt = strtol(p, &end, 10);

		if (end == p)
			break; /* not RTP (udptl "t38"): kept in fmt_list */
		if (pt >= 0 && pt <= 127) {
			struct mgw_sdp_fmt *f = &m->fmts[m->nfmts++];

			memset(f, 0, sizeof(*f));
			f->pt = (int)pt;
			static_name(f);
		}
		p = end + strspn(end, " ");
	}
	return 0;
}

static int parse_dir(const char *a, enum mgw_sdp_dir *dir)
{
	for (int i = 0; i <= MGW_SDP_INACTIVE; i++)
		if (strcmp(a, dir_names[i]) == 0) {
			*dir = (enum mgw_sdp_dir)i;
			return 1;
		}
	return 0;
}

/* "rtpmap:0 PCMU/8000", "fmtp:101 0-15" */
static void parse_fmt_attr(struct mgw_sdp_media *m, const char *a, bool map)
{
	char *end;
	long pt = strtol(a, &end, 10);
	struct mgw_sdp_fmt *f = find_fmt(m, (int)pt);
	const char *v = end + strspn(end, " ");

	if (!f || end == a)
		return;
	if (!map) {
		snprintf(f->fmtp, sizeof(f->fmtp), "%s", v);
		return;
	}
	copy_field(f->name, sizeof(f->name), v, strcspn(v, "/"));
	f->clock = v[strcspn(v, "/")] ? (unsigned)atoi(v + strcspn(v, "/") +
						       1) : 0;
}

static void parse_attr(struct mgw_sdp *s, struct mgw_sdp_media *m,
		       const char *a)
{
	enum mgw_sdp_dir dir;

	if (parse_dir(a, &dir)) {
		if (m) {
			m->has_dir = true;
			m->dir = dir;
		} else {
			s->has_dir = true;
			s->dir = dir;
		}
		return;
	}
	if (!m)
		return;
	if (strncmp(a, "rtpmap:", 7) == 0)
		parse_fmt_attr(m, a + 7, true);
	else if (strncmp(a, "fmtp:", 5) == 0)
		parse_fmt_attr(m, a + 5, false);
	else if (strncmp(a, "ptime:", 6) == 0)
		m->ptime = (unsigned)atoi(a + 6);
	else if (strncmp(a, "rtcp:", 5) == 0)
		m->rtcp_port = (unsigned)atoi(a + 5);
	else if (strcmp(a, "rtcp-mux") == 0)
		m->rtcp_mux = true;
	else if (strncmp(a, "crypto:", 7) == 0 &&
		 m->ncrypto < MGW_SDP_CRYPTO_MAX)
		copy_field(m->crypto[m->ncrypto++], MGW_SDP_LINE_MAX, a,
			   strlen(a));
}

static int parse_line(struct mgw_sdp *s, char type, const char *v)
{
	struct mgw_sdp_media *m = s->nm ? &s->m[s->nm - 1] : NULL;

	switch (type) {
	case 'o':
		if (sscanf(v, "%*s %llu %llu", &s->sess_id,
			   &s->sess_version) != 2)
			return -EINVAL;
		return 0;
	case 'c':
		return parse_conn(v, m ? m->addr : s->addr, m ? NULL : &s->ipv6);
	case 'm':
		if (s->nm == MGW_SDP_MEDIA_MAX)
			return -E2BIG;
		return parse_media(v, &s->m[s->nm++]);
	case 'a':
		parse_attr(s, m, v);
		return 0;
	default:
		return 0;
	}
}

int mgw_sdp_parse(const char *text, size_t len, struct mgw_sdp *out)
{
	const char *p = text, *end = text + len;
	char line[512];
	bool first = true;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
		int rc;

		if (n && p[n - 1] == '\r')
			n--;
		copy_field(line, sizeof(line), p, n);
		p = eol ? eol + 1 : end;
		if (n == 0)
			continue;
		if (n < 2 || line[1] != '=')
			return -EINVAL;
		if (first && strcmp(line, "v=0") != 0)
			return -EINVAL;
		first = false;
		rc = parse_line(out, line[0], line + 2);
		if (rc < 0)
			return rc;
	}
	return first ? -EINVAL : 0;
}

/* ---- Offer / answer ------------------------------------------------------------ */

static bool fmt_is(const struct mgw_sdp_fmt *f, const char *name,
		   unsigned clock)
{
	return strcasecmp(f->name, name) == 0 && (!clock || !f->clock ||
						  f->clock == clock);
}

static const struct mgw_codec_pref *pref_for(const struct mgw_sdp_fmt *f,
					     const struct mgw_codec_pref *prefs,
					     unsigned nprefs)
{
	for (unsigned i = 0; i < nprefs; i++)
		if (fmt_is(f, prefs[i].name, prefs[i].clock))
			return &prefs[i];
	return NULL;
}

static int dtmf_pt_of(const struct mgw_sdp_media *m)
{
	for (unsigned i = 0; i < m->nfmts; i++)
		if (fmt_is(&m->fmts[i], "telephone-event", 8000))
			return m->fmts[i].pt;
	return -1;
}

static int audio_index(const struct mgw_sdp *s, bool *t38)
{
	int audio = -1;

	*t38 = false;
	for (unsigned i = 0; i < s->nm; i++) {
		if (strcmp(s->m[i].type, "image") == 0 &&
		    strcasecmp(s->m[i].proto, "udptl") == 0 && s->m[i].port)
			*t38 = true;
		if (audio < 0 && strcmp(s->m[i].type, "audio") == 0)
			audio = (int)i;
	}
	return audio;
}

/* Where the peer receives and which way it wants media. */
static void peer_side(const struct mgw_sdp *s, const struct mgw_sdp_media *m,
		      struct mgw_sdp_agreed *out)
{
	enum mgw_sdp_dir theirs = m->has_dir ? m->dir :
				  s->has_dir ? s->dir : MGW_SDP_SENDRECV;

	snprintf(out->addr, sizeof(out->addr), "%s",
		 m->addr[0] ? m->addr : s->addr);
	out->port = m->port;
	out->rtcp_port = m->rtcp_port;
	out->rtcp_mux = m->rtcp_mux;
	out->ptime = m->ptime;
	/* RFC 3264 8.4: c=0.0.0.0 is RFC 2543's hold */
	if (strcmp(out->addr, "0.0.0.0") == 0 && theirs == MGW_SDP_SENDRECV)
		theirs = MGW_SDP_SENDONLY;
	out->dir = mgw_sdp_dir_answer(theirs);
	out->hold = theirs == MGW_SDP_SENDONLY || theirs == MGW_SDP_INACTIVE;
}

int mgw_sdp_choose(const struct mgw_sdp *offer,
		   const struct mgw_codec_pref *prefs, unsigned nprefs,
		   struct mgw_sdp_agreed *out)
{
	const struct mgw_sdp_media *m;
	bool t38;
	int i = audio_index(offer, &t38);

	memset(out, 0, sizeof(*out));
	out->t38 = t38;
	out->media = i;
	if (i < 0 || offer->m[i].port == 0)
		return -ENOTSUP;
	m = &offer->m[i];
	if (strcmp(m->proto, "RTP/AVP") != 0)
		return strcmp(m->proto, "RTP/SAVP") == 0 ? -EPROTONOSUPPORT :
							   -ENOTSUP;
	for (unsigned k = 0; k < m->nfmts; k++) {
		const struct mgw_codec_pref *p = pref_for(&m->fmts[k], prefs,
							  nprefs);

		if (!p)
			continue;
		snprintf(out->codec, sizeof(out->codec), "%s", p->name);
		out->clock = m->fmts[k].clock ? m->fmts[k].clock : p->clock;
		out->pt = m->fmts[k].pt;
		out->dtmf_pt = dtmf_pt_of(m);
		peer_side(offer, m, out);
		return 0;
	}
	return -ENOTSUP;
}

int mgw_sdp_accept(const struct mgw_sdp *answer,
		   const struct mgw_codec_pref *offered, unsigned noffered,
		   int our_dtmf_pt, struct mgw_sdp_agreed *out)
{
	const struct mgw_sdp_media *m;
	bool t38;
	int i = audio_index(answer, &t38);

	memset(out, 0, sizeof(*out));
	out->media = i;
	if (i < 0 || answer->m[i].port == 0)
		return -ENOTSUP;
	m = &answer->m[i];
	for (unsigned k = 0; k < m->nfmts; k++) {
		const struct mgw_codec_pref *p = pref_for(&m->fmts[k], offered,
							  noffered);

		if (!p)
			continue;
		snprintf(out->codec, sizeof(out->codec), "%s", p->name);
		out->clock = m->fmts[k].clock ? m->fmts[k].clock : p->clock;
		out->pt = m->fmts[k].pt;
		out->dtmf_pt = our_dtmf_pt >= 0 ? dtmf_pt_of(m) : -1;
		peer_side(answer, m, out);
		return 0;
	}
	return -ENOTSUP;
}

int mgw_sdp_choose_t38(const struct mgw_sdp *sdp, struct mgw_sdp_agreed *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < sdp->nm; i++) {
		const struct mgw_sdp_media *m = &sdp->m[i];

		if (strcmp(m->type, "image") != 0 ||
		    strcasecmp(m->proto, "udptl") != 0 || !m->port ||
		    !strstr(m->fmt_list, "t38"))
			continue;
		out->media = (int)i;
		snprintf(out->codec, sizeof(out->codec), "t38");
		out->pt = -1;
		out->dtmf_pt = -1;
		out->t38 = true;
		peer_side(sdp, m, out);
		return 0;
	}
	return -ENOTSUP;
}

/* ---- Writing --------------------------------------------------------------------- */

struct out {
	char *buf;
	size_t size, len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

static void put_session(struct out *o, const struct mgw_sdp_local *l)
{
	const char *ip = l->ipv6 ? "IP6" : "IP4";

	put(o, "v=0\r\no=tandem %llu %llu IN %s %s\r\ns=tandem\r\n"
	       "c=IN %s %s\r\nt=0 0\r\n",
	    l->sess_id, l->sess_version, ip, l->addr, ip, l->addr);
}

static void put_tail(struct out *o, const struct mgw_sdp_local *l, int dtmf)
{
	if (dtmf >= 0)
		put(o, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-15\r\n",
		    dtmf, dtmf);
	if (l->ptime)
		put(o, "a=ptime:%u\r\n", l->ptime);
	put(o, "a=%s\r\n", mgw_sdp_dir_name(l->dir));
}

static int finish(struct out *o)
{
	return o->full ? -ENOSPC : (int)o->len;
}

/* Dynamic payload types for codecs without a static one: 96 up. */
static int pt_of(const struct mgw_codec_pref *p, int *next_dynamic)
{
	return p->static_pt >= 0 ? p->static_pt : (*next_dynamic)++;
}

int mgw_sdp_write_offer(char *buf, size_t size,
			const struct mgw_sdp_local *local,
			const struct mgw_codec_pref *prefs, unsigned nprefs)
{
	struct out o = { buf, size, 0, false };
	int dyn = 96;

	put_session(&o, local);
	put(&o, "m=audio %u RTP/AVP", local->port);
	for (unsigned i = 0; i < nprefs; i++)
		put(&o, " %d", pt_of(&prefs[i], &dyn));
	if (local->dtmf_pt >= 0)
		put(&o, " %d", local->dtmf_pt);
	put(&o, "\r\n");
	dyn = 96;
	for (unsigned i = 0; i < nprefs; i++)
		put(&o, "a=rtpmap:%d %s/%u\r\n", pt_of(&prefs[i], &dyn),
		    prefs[i].name, prefs[i].clock);
	put_tail(&o, local, local->dtmf_pt);
	return finish(&o);
}

/* T.38 Annex D.2.3: what our gateway (SpanDSP's t38_gateway through the
 * media plugin) does: version 0, 14400 bit/s, TCF transferred, UDPTL
 * with redundancy. */
static void put_t38(struct out *o, const struct mgw_sdp_local *l)
{
	put(o, "a=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\n"
	       "a=T38FaxRateManagement:transferredTCF\r\n"
	       "a=T38FaxMaxBuffer:2000\r\na=T38FaxMaxDatagram:400\r\n"
	       "a=T38FaxUdpEC:t38UDPRedundancy\r\n");
	put(o, "a=%s\r\n", mgw_sdp_dir_name(l->dir));
}

int mgw_sdp_write_offer_t38(char *buf, size_t size,
			    const struct mgw_sdp_local *local)
{
	struct out o = { buf, size, 0, false };

	put_session(&o, local);
	put(&o, "m=image %u udptl t38\r\n", local->port);
	put_t38(&o, local);
	return finish(&o);
}

int mgw_sdp_write_answer(char *buf, size_t size,
			 const struct mgw_sdp_local *local,
			 const struct mgw_sdp *offer,
			 const struct mgw_sdp_agreed *agreed)
{
	struct out o = { buf, size, 0, false };
	const struct mgw_sdp_media *am;
	const struct mgw_sdp_fmt *f = NULL;

	if (agreed->media < 0 || (unsigned)agreed->media >= offer->nm)
		return -EINVAL;
	am = &offer->m[agreed->media];
	for (unsigned i = 0; i < am->nfmts && !f; i++)
		if (am->fmts[i].pt == agreed->pt)
			f = &am->fmts[i];
	put_session(&o, local);
	for (unsigned i = 0; i < offer->nm; i++) {
		const struct mgw_sdp_media *m = &offer->m[i];

		if ((int)i != agreed->media) {
			/* RFC 3264 6: every m-line answered; refused ones
			 * with port 0 */
			put(&o, "m=%s 0 %s %s\r\n", m->type, m->proto,
			    m->fmt_list);
			continue;
		}
		if (agreed->t38 && strcmp(agreed->codec, "t38") == 0) {
			put(&o, "m=image %u udptl t38\r\n", local->port);
			put_t38(&o, local);
			continue;
		}
		put(&o, "m=audio %u RTP/AVP %d", local->port, agreed->pt);
		if (agreed->dtmf_pt >= 0)
			put(&o, " %d", agreed->dtmf_pt);
		put(&o, "\r\na=rtpmap:%d %s/%u\r\n", agreed->pt,
		    f && f->name[0] ? f->name : agreed->codec, agreed->clock);
		if (f && f->fmtp[0])
			put(&o, "a=fmtp:%d %s\r\n", agreed->pt, f->fmtp);
		put_tail(&o, local, agreed->dtmf_pt);
	}
	return finish(&o);
}
