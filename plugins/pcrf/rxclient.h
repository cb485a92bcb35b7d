/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rxclient.h - what the files of the rxclient plugin share: the SDP facts
 * a Media-Component-Description is made of (TS 29.214 Annex B).
 */
#ifndef TANDEM_RXCLIENT_H
#define TANDEM_RXCLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define RXC_MAX_MEDIA 8

enum rxc_dir { RXC_SENDRECV, RXC_SENDONLY, RXC_RECVONLY, RXC_INACTIVE };

/* One m= line. */
struct rxc_media {
	char type[16];	    /* audio, video, text, application, message */
	unsigned port;	    /* 0: rejected / removed */
	unsigned rtcp_port; /* a=rtcp, else port + 1; equal with rtcp-mux */
	char addr[64];	    /* c= of the media, else of the session */
	unsigned as_kbps;   /* b=AS, 0 when absent */
	enum rxc_dir dir;
	char lines[600]; /* the m= line and its a= lines, for Codec-Data */
};

struct rxc_sdp {
	unsigned n;
	struct rxc_media m[RXC_MAX_MEDIA];
};

/* 0, or -EINVAL when the body holds no m= line. */
int rxc_sdp_parse(const char *body, size_t len, struct rxc_sdp *out);

#endif /* TANDEM_RXCLIENT_H */
