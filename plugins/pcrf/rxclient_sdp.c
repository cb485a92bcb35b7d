/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rxclient_sdp.c - the SDP facts (RFC 4566) that the Rx client turns into
 * Media-Component-Descriptions: per m= line its type, port, RTCP port
 * (RFC 3605 a=rtcp, RFC 5761 rtcp-mux), connection address, b=AS,
 * direction, and its lines for Codec-Data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rxclient.h"

static void media_line(struct rxc_sdp *sdp, const char *line,
		       const char *session_addr, enum rxc_dir session_dir)
{
	struct rxc_media *m;

	if (sdp->n == RXC_MAX_MEDIA)
		return;
	m = &sdp->m[sdp->n++];
	memset(m, 0, sizeof(*m));
	if (sscanf(line, "m=%15s %u", m->type, &m->port) < 1)
		m->type[0] = '\0';
	m->rtcp_port = m->port ? m->port + 1 : 0;
	snprintf(m->addr, sizeof(m->addr), "%s", session_addr);
	m->dir = session_dir;
}

static bool dir_attr(const char *line, enum rxc_dir *dir)
{
	static const struct {
		const char *attr;
		enum rxc_dir dir;
	} dirs[] = { { "a=sendrecv", RXC_SENDRECV },
		     { "a=sendonly", RXC_SENDONLY },
		     { "a=recvonly", RXC_RECVONLY },
		     { "a=inactive", RXC_INACTIVE } };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (strcmp(line, dirs[i].attr) == 0) {
			*dir = dirs[i].dir;
			return true;
		}
	}
	return false;
}

/* A line inside an m= section. */
static void media_attr(struct rxc_media *m, const char *line)
{
	char addr[64];
	unsigned v;

	if (sscanf(line, "c=IN IP%*1[46] %63[^/ ]", addr) == 1)
		snprintf(m->addr, sizeof(m->addr), "%s", addr);
	else if (sscanf(line, "b=AS:%u", &v) == 1)
		m->as_kbps = v;
	else if (sscanf(line, "a=rtcp:%u", &v) == 1)
		m->rtcp_port = v;
	else if (strcmp(line, "a=rtcp-mux") == 0)
		m->rtcp_port = m->port;
	else
		dir_attr(line, &m->dir);
	if ((line[0] == 'm' || line[0] == 'a') &&
	    strlen(m->lines) + strlen(line) + 2 < sizeof(m->lines)) {
		strcat(m->lines, line);
		strcat(m->lines, "\n");
	}
}

int rxc_sdp_parse(const char *body, size_t len, struct rxc_sdp *out)
{
	char session_addr[64] = "", line[512];
	enum rxc_dir session_dir = RXC_SENDRECV;
	const char *p = body, *end = body + len;

	out->n = 0;
	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (n && p[n - 1] == '\r')
			n--;
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p = eol ? eol + 1 : NULL;
		if (strncmp(line, "m=", 2) == 0) {
			media_line(out, line, session_addr, session_dir);
			media_attr(&out->m[out->n - 1], line);
		} else if (out->n) {
			media_attr(&out->m[out->n - 1], line);
		} else if (sscanf(line, "c=IN IP%*1[46] %63[^/ ]",
				  session_addr) == 1) {
			continue;
		} else {
			dir_attr(line, &session_dir);
		}
	}
	return out->n ? 0 : -EINVAL;
}
