/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbc_sdp: what the SBC needs of a session description (the audio stream
 * it anchors) and the rewrite that makes a description point at the SBC
 * (RFC 4566 o=, c=, m=; RFC 3605 a=rtcp; RFC 8839 ICE attributes).
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
	snprintf(out->address, sizeof(out->address), "%s", audio->address);
	out->port = audio->port;
	out->dir = audio->dir;
	out->secure = strstr(audio->proto, "SAVP") != NULL;
	out->pt = -1;
	for (unsigned f = 0; f < audio->nformats; f++) {
		const char *enc = audio->formats[f].encoding;

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

/* "m=audio 4000 RTP/AVP 0 8" with its port replaced. */
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

int sbc_sdp_rewrite(const char *in, size_t len, const char *addr,
		    unsigned port, char *out, size_t size)
{
	struct out_buf o = { .p = out, .size = size };
	const char *ipv = strchr(addr, ':') ? "IP6" : "IP4";
	const char *end = in + len;
	bool anchored = false;

	if (size)
		out[0] = '\0';
	for (const char *line = in; line < end && !o.full;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *next = nl ? nl + 1 : end;
		size_t n = (size_t)((nl ? nl : end) - line);

		if (n && line[n - 1] == '\r')
			n--;
		if (n == 0 || dropped(line, n)) {
			/* empty or leaking lines go */
		} else if (strncmp(line, "o=", 2) == 0) {
			put_origin(&o, line, n, ipv, addr);
		} else if (strncmp(line, "c=", 2) == 0) {
			put(&o, "c=IN %s %s\r\n", ipv, addr);
		} else if (strncmp(line, "m=audio ", 8) == 0 && !anchored) {
			put_media(&o, line, n, port);
			anchored = true;
		} else if (strncmp(line, "m=", 2) == 0) {
			put_media(&o, line, n, 0); /* not anchored: refused */
		} else {
			put(&o, "%.*s\r\n", (int)n, line);
		}
		line = next;
	}
	return o.full ? -ENOSPC : (int)o.len;
}
