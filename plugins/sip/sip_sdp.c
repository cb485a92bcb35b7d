/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_sdp: session descriptions for media-aware plugins, on libosip2's
 * sdp_message parser: the streams of an SDP body (RFC 4566) and the answer
 * to an offer (RFC 3264 6). Pure functions: no host, no state.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_port.h>
#include <osipparser2/sdp_message.h>

#include "sip_sdp.h"

/* RFC 3551 static payload types with a fixed encoding. */
static const struct {
	int pt;
	const char *encoding;
	unsigned clock;
} static_pts[] = {
	{ 0, "PCMU", 8000 }, { 3, "GSM", 8000 }, { 4, "G723", 8000 },
	{ 8, "PCMA", 8000 }, { 9, "G722", 8000 }, { 13, "CN", 8000 },
	{ 18, "G729", 8000 },
};

/* Fields of a line (space-separated), at most `max` looked at. */
static unsigned fields(const char *p, const char *end)
{
	unsigned n = 0;

	while (p < end) {
		while (p < end && *p == ' ')
			p++;
		if (p < end)
			n++;
		while (p < end && *p != ' ')
			p++;
	}
	return n;
}

/*
 * RFC 4566 5: type=value lines, v= first, and the fields the lines that
 * libosip2 splits must have. libosip2 5.3 reads past the end of the
 * buffer on some truncated lines (an m= line without a format, found by
 * fuzz_sdp), so only well-formed lines reach it.
 */
static bool sdp_lines_ok(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	if (len < 3 || strncmp(text, "v=", 2) != 0)
		return false;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		unsigned need = 0;

		if (le > p && le[-1] == '\r')
			le--;
		if (le - p < 2 || p[0] < 'a' || p[0] > 'z' || p[1] != '=')
			return false;
		for (const char *c = p + 2; c < le; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return false;
		switch (p[0]) {
		case 'm': need = 4; break;
		case 'o': need = 6; break;
		case 'c': need = 3; break;
		case 't': need = 2; break;
		case 'r': need = 3; break;
		case 'b': need = 1; break;
		default: break;
		}
		/* fields split by exactly one SP (RFC 4566 9) */
		if (need && (fields(p + 2, le) < need || p[2] == ' ' ||
			     le[-1] == ' ' ||
			     memmem(p, (size_t)(le - p), "  ", 2)))
			return false;
		p = eol ? eol + 1 : end;
	}
	return true;
}

static sdp_message_t *parse(const char *body, size_t len)
{
	sdp_message_t *sdp = NULL;
	char *text;

	if (!sdp_lines_ok(body, len))
		return NULL;
	/* libosip2 wants the last line ended */
	text = malloc(len + 3);
	if (!text)
		return NULL;
	memcpy(text, body, len);
	if (len && body[len - 1] != '\n')
		memcpy(text + len, "\r\n", 2), len += 2;
	text[len] = '\0';
	if (sdp_message_init(&sdp) != 0 || sdp_message_parse(sdp, text) != 0 ||
	    !sdp_message_v_version_get(sdp)) {
		sdp_message_free(sdp);
		sdp = NULL;
	}
	free(text);
	return sdp;
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* a=sendrecv/sendonly/recvonly/inactive at one level (-1: session). */
static int direction(sdp_message_t *sdp, int pos, enum sip_sdp_dir *dir)
{
	static const char *const names[] = { "sendrecv", "sendonly",
					     "recvonly", "inactive" };
	char *field;

	for (int k = 0; (field = sdp_message_a_att_field_get(sdp, pos, k));
	     k++)
		for (int d = 0; d < 4; d++)
			if (strcasecmp(field, names[d]) == 0) {
				*dir = (enum sip_sdp_dir)d;
				return 1;
			}
	return 0;
}

/* a=rtpmap:<pt> <encoding>/<clock>[/<channels>] of one stream. */
static void rtpmap(sdp_message_t *sdp, int pos, int pt, char *enc,
		   size_t size, unsigned *clock)
{
	char *field, *value;

	for (int k = 0; (field = sdp_message_a_att_field_get(sdp, pos, k));
	     k++) {
		char *end, *slash;
		long v;

		if (strcasecmp(field, "rtpmap") != 0)
			continue;
		value = sdp_message_a_att_value_get(sdp, pos, k);
		if (!value)
			continue;
		v = strtol(value, &end, 10);
		if (end == value || v != pt || (*end != ' ' && *end != '\t'))
			continue;
		while (*end == ' ' || *end == '\t')
			end++;
		slash = strchr(end, '/');
		snprintf(enc, size, "%.*s",
			 (int)(slash ? (size_t)(slash - end) : strlen(end)), end);
		*clock = slash ? (unsigned)strtoul(slash + 1, NULL, 10) : 0;
		return;
	}
	for (size_t i = 0; i < sizeof(static_pts) / sizeof(static_pts[0]); i++)
		if (static_pts[i].pt == pt) {
			snprintf(enc, size, "%s", static_pts[i].encoding);
			*clock = static_pts[i].clock;
		}
}

static void one_stream(sdp_message_t *sdp, int pos, const char *session_addr,
		       enum sip_sdp_dir session_dir, struct sip_sdp_media *m)
{
	const char *addr = sdp_message_c_addr_get(sdp, pos, 0);
	const char *fmt;

	memset(m, 0, sizeof(*m));
	copy(m->type, sizeof(m->type), sdp_message_m_media_get(sdp, pos));
	copy(m->proto, sizeof(m->proto), sdp_message_m_proto_get(sdp, pos));
	m->port = (unsigned)strtoul(sdp_message_m_port_get(sdp, pos) ?
					    sdp_message_m_port_get(sdp, pos) :
					    "0",
				    NULL, 10);
	copy(m->address, sizeof(m->address), addr ? addr : session_addr);
	m->dir = session_dir;
	direction(sdp, pos, &m->dir);
	for (int k = 0; (fmt = sdp_message_m_payload_get(sdp, pos, k)) &&
			m->nformats < SIP_SDP_MAX_FORMATS;
	     k++) {
		char *end;
		long pt = strtol(fmt, &end, 10);

		m->formats[m->nformats].pt =
			*end || end == fmt || pt < 0 || pt > 127 ? -1 : (int)pt;
		if (m->formats[m->nformats].pt >= 0)
			rtpmap(sdp, pos, (int)pt,
			       m->formats[m->nformats].encoding,
			       sizeof(m->formats[0].encoding),
			       &m->formats[m->nformats].clock);
		else
			copy(m->formats[m->nformats].encoding,
			     sizeof(m->formats[0].encoding), fmt);
		m->nformats++;
	}
}

int sip_sdp_media(const char *body, size_t len, struct sip_sdp_media *media,
		  unsigned max)
{
	sdp_message_t *sdp = parse(body, len);
	enum sip_sdp_dir dir = SIP_SDP_SENDRECV;
	const char *session_addr;
	int n = 0;

	if (!sdp)
		return -EINVAL;
	session_addr = sdp_message_c_addr_get(sdp, -1, 0);
	direction(sdp, -1, &dir);
	for (; sdp_message_m_media_get(sdp, n); n++)
		if ((unsigned)n < max)
			one_stream(sdp, n, session_addr ? session_addr : "", dir,
				   &media[n]);
	sdp_message_free(sdp);
	return n;
}

/* ---- The answer ----------------------------------------------------------- */

struct out {
	char *p;
	size_t len, size;
	bool full;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
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

/* Does our codec "NAME/CLOCK" match this offered format? */
static bool same_codec(const char *ours, const char *enc, unsigned clock)
{
	const char *slash = strchr(ours, '/');
	size_t n = slash ? (size_t)(slash - ours) : strlen(ours);

	if (strlen(enc) != n || strncasecmp(ours, enc, n) != 0)
		return false;
	return !slash || !clock || strtoul(slash + 1, NULL, 10) == clock;
}

static const enum sip_sdp_dir mirror[] = {
	[SIP_SDP_SENDRECV] = SIP_SDP_SENDRECV,
	[SIP_SDP_SENDONLY] = SIP_SDP_RECVONLY,
	[SIP_SDP_RECVONLY] = SIP_SDP_SENDONLY,
	[SIP_SDP_INACTIVE] = SIP_SDP_INACTIVE,
};

static const char *const dir_names[] = { "sendrecv", "sendonly", "recvonly",
					 "inactive" };

/* a=fmtp:<pt> ... of the offer, kept for the formats we accept. */
static void copy_fmtp(struct out *o, sdp_message_t *sdp, int pos, int pt)
{
	char *field, *value;

	for (int k = 0; (field = sdp_message_a_att_field_get(sdp, pos, k));
	     k++) {
		value = sdp_message_a_att_value_get(sdp, pos, k);
		if (strcasecmp(field, "fmtp") == 0 && value &&
		    atoi(value) == pt)
			put(o, "a=fmtp:%s\r\n", value);
	}
}

/* One m= line of the answer; returns whether the stream was accepted. */
static bool answer_stream(struct out *o, sdp_message_t *sdp, int pos,
			  const struct sip_sdp_media *m,
			  const struct sip_sdp_local *local, unsigned port)
{
	int chosen[SIP_SDP_MAX_FORMATS];
	unsigned n = 0;

	for (const char *const *c = local->codecs; c && *c; c++)
		for (unsigned k = 0; k < m->nformats; k++)
			if (m->formats[k].pt >= 0 &&
			    same_codec(*c, m->formats[k].encoding,
				       m->formats[k].clock)) {
				bool dup = false;

				for (unsigned j = 0; j < n; j++)
					dup |= chosen[j] == (int)k;
				if (!dup && n < SIP_SDP_MAX_FORMATS)
					chosen[n++] = (int)k;
			}
	if (!m->port || !n) {
		/* RFC 3264 6: a rejected stream keeps its line, port 0 */
		put(o, "m=%s 0 %s %s\r\n", m->type, m->proto,
		    sdp_message_m_payload_get(sdp, pos, 0) ?
			    sdp_message_m_payload_get(sdp, pos, 0) :
			    "0");
		return false;
	}
	put(o, "m=%s %u %s", m->type, port, m->proto);
	for (unsigned j = 0; j < n; j++)
		put(o, " %d", m->formats[chosen[j]].pt);
	put(o, "\r\n");
	for (unsigned j = 0; j < n; j++) {
		const typeof(m->formats[0]) *f = &m->formats[chosen[j]];

		put(o, "a=rtpmap:%d %s/%u\r\n", f->pt, f->encoding, f->clock);
		copy_fmtp(o, sdp, pos, f->pt);
	}
	put(o, "a=%s\r\n", dir_names[mirror[m->dir]]);
	return true;
}

int sip_sdp_answer(const char *offer, size_t len,
		   const struct sip_sdp_local *local, char *out, size_t size)
{
	struct sip_sdp_media m;
	sdp_message_t *sdp = parse(offer, len);
	const char *session_addr, *ipv = "IP4";
	enum sip_sdp_dir dir = SIP_SDP_SENDRECV;
	struct out o = { .p = out, .size = size };
	unsigned port;

	if (!sdp)
		return -EINVAL;
	if (!local || !local->address || size == 0) {
		sdp_message_free(sdp);
		return -EINVAL;
	}
	if (strchr(local->address, ':'))
		ipv = "IP6";
	session_addr = sdp_message_c_addr_get(sdp, -1, 0);
	direction(sdp, -1, &dir);
	put(&o, "v=0\r\no=%s %llu %llu IN %s %s\r\ns=-\r\nc=IN %s %s\r\n"
		"t=0 0\r\n",
	    local->user ? local->user : "tandem", local->session_id,
	    local->version, ipv, local->address, ipv, local->address);
	port = local->port;
	for (int pos = 0; sdp_message_m_media_get(sdp, pos); pos++) {
		one_stream(sdp, pos, session_addr ? session_addr : "", dir, &m);
		if (answer_stream(&o, sdp, pos, &m, local, port))
			port += 2;
	}
	sdp_message_free(sdp);
	if (o.full) {
		out[0] = '\0';
		return -ENOSPC;
	}
	return (int)o.len;
}
