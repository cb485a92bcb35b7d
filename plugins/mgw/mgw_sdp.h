/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgw_sdp: SDP (RFC 4566) as a media gateway needs it, and the offer/answer
 * rules of RFC 3264 for one audio stream. No host, no allocation: the
 * parser fills a struct, the writers fill a caller's buffer, so the unit
 * test drives it alone.
 *
 * Only the first audio m-line is negotiated; other m-lines of an offer are
 * refused in the answer with port 0 (RFC 3264 6), and an image/udptl
 * (T.38) m-line is reported so the caller can tell a fax offer.
 */
#ifndef MGW_SDP_H
#define MGW_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MGW_SDP_MEDIA_MAX 4
#define MGW_SDP_FMT_MAX 16
#define MGW_SDP_ADDR_MAX 64
#define MGW_SDP_CRYPTO_MAX 3
#define MGW_SDP_LINE_MAX 160

/* RFC 3264 6.1 / RFC 4566 6: the direction attributes. */
enum mgw_sdp_dir {
	MGW_SDP_SENDRECV = 0,
	MGW_SDP_SENDONLY,
	MGW_SDP_RECVONLY,
	MGW_SDP_INACTIVE,
};

struct mgw_sdp_fmt {
	int pt;
	char name[24];	 /* rtpmap encoding name, or the static one */
	unsigned clock;	 /* rtpmap clock rate */
	char fmtp[96];	 /* a=fmtp parameters, "" when none */
};

struct mgw_sdp_media {
	char type[16];	 /* audio, video, image, ... */
	unsigned port;	 /* 0: refused / disabled */
	char proto[24];	 /* RTP/AVP, RTP/SAVP, udptl, ... */
	char fmt_list[MGW_SDP_LINE_MAX]; /* the formats as sent */
	struct mgw_sdp_fmt fmts[MGW_SDP_FMT_MAX];
	unsigned nfmts;
	char addr[MGW_SDP_ADDR_MAX]; /* media-level c=, "" when none */
	unsigned ptime;		      /* a=ptime, 0 when absent */
	bool has_dir;
	enum mgw_sdp_dir dir;
	unsigned rtcp_port;	      /* a=rtcp (RFC 3605), 0 when absent */
	bool rtcp_mux;		      /* a=rtcp-mux (RFC 5761) */
	char crypto[MGW_SDP_CRYPTO_MAX][MGW_SDP_LINE_MAX];
	unsigned ncrypto;
};

struct mgw_sdp {
	unsigned long long sess_id, sess_version;
	char addr[MGW_SDP_ADDR_MAX]; /* session-level c= */
	bool ipv6;
	bool has_dir;
	enum mgw_sdp_dir dir;	     /* session-level direction */
	struct mgw_sdp_media m[MGW_SDP_MEDIA_MAX];
	unsigned nm;
};

/* A codec we may use, in our order of preference. */
struct mgw_codec_pref {
	char name[24];
	unsigned clock;
	int static_pt; /* -1: dynamic */
};

/* What one side of a call agreed on for the audio stream. */
struct mgw_sdp_agreed {
	int media;		     /* index of the audio m-line */
	char codec[24];
	unsigned clock;
	int pt;
	int dtmf_pt;		     /* telephone-event, -1 none */
	unsigned ptime;		     /* 0: the default */
	char addr[MGW_SDP_ADDR_MAX]; /* where to send */
	unsigned port;
	unsigned rtcp_port;	     /* 0: port + 1 */
	bool rtcp_mux;
	enum mgw_sdp_dir dir;	     /* OUR direction (as in our SDP) */
	bool hold;		     /* the peer holds us (sendonly/inactive/0.0.0.0) */
	bool t38;		     /* an image/udptl stream was offered */
};

/* What we put in our own SDP. */
struct mgw_sdp_local {
	const char *addr;
	bool ipv6;
	unsigned port;
	unsigned long long sess_id, sess_version;
	unsigned ptime;		   /* 0: no a=ptime */
	int dtmf_pt;		   /* -1: no telephone-event */
	enum mgw_sdp_dir dir;
};

/* 0, or -EINVAL (not SDP, no v= line, broken m= or c=), -E2BIG. */
int mgw_sdp_parse(const char *text, size_t len, struct mgw_sdp *out);

/*
 * Choose what to answer an offer with: the first of the offer's formats
 * (its order is its preference, RFC 3264 6.1) that is in `prefs`, and
 * telephone-event at 8000 when offered. -ENOTSUP: no audio stream or no
 * common codec (SIP 488), -EPROTONOSUPPORT: a secure profile with no
 * usable a=crypto (the caller decides).
 */
int mgw_sdp_choose(const struct mgw_sdp *offer,
		   const struct mgw_codec_pref *prefs, unsigned nprefs,
		   struct mgw_sdp_agreed *out);

/*
 * The peer's answer to our offer: the first format of its audio m-line
 * that we offered. -ENOTSUP when it refused the stream (port 0) or chose
 * nothing we offered.
 */
int mgw_sdp_accept(const struct mgw_sdp *answer,
		   const struct mgw_codec_pref *offered, unsigned noffered,
		   int our_dtmf_pt, struct mgw_sdp_agreed *out);

/*
 * T.38 (ITU-T T.38 Annex D, RFC 3362): an image/udptl/t38 stream with a
 * port, in an offer or in the answer to our T.38 offer. Fills `out` with
 * codec "t38" (the media plugin's name for it); -ENOTSUP when none.
 */
int mgw_sdp_choose_t38(const struct mgw_sdp *sdp, struct mgw_sdp_agreed *out);

/* Our T.38 offer (a re-INVITE on a fax tone): one image stream. */
int mgw_sdp_write_offer_t38(char *buf, size_t size,
			    const struct mgw_sdp_local *local);

/* Our offer: every codec of `prefs` and telephone-event. Returns the
 * length written or -ENOSPC. */
int mgw_sdp_write_offer(char *buf, size_t size,
			const struct mgw_sdp_local *local,
			const struct mgw_codec_pref *prefs, unsigned nprefs);

/* Our answer to `offer`: the agreed codec on its m-line (audio, or
 * image for "t38"), the other m-lines refused. Returns the length
 * written or -ENOSPC. */
int mgw_sdp_write_answer(char *buf, size_t size,
			 const struct mgw_sdp_local *local,
			 const struct mgw_sdp *offer,
			 const struct mgw_sdp_agreed *agreed);

/* RFC 3264 6.1: our direction for the peer's. */
enum mgw_sdp_dir mgw_sdp_dir_answer(enum mgw_sdp_dir offered);
const char *mgw_sdp_dir_name(enum mgw_sdp_dir dir);

#endif /* MGW_SDP_H */
