/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Service "media" version 1: media channels that move audio between RTP
 * streams and TDM bearer channels, transcoding on the way. Provided by the
 * media plugin (plugins/media); the MGW binds TDM circuits to RTP, the SBC
 * anchors RTP to RTP (SRTP <-> RTP included).
 *
 *   const struct media_service *media = host->service_get(MEDIA_SERVICE, 1);
 *
 * The service speaks SDP-level facts and nothing of SIP: codecs by rtpmap
 * name and payload type, RTP address and port, a=crypto lines (RFC 4568),
 * telephone-event payload types (RFC 4733). A SIP-side plugin puts them in
 * its SDP and hands the peer's back.
 *
 * A channel has two legs, A (0) and B (1). A leg is an RTP stream, a TDM
 * bearer channel (through the "tdm" service), or a loop (what the channel
 * sends to it comes straight back: an echo line for tests and loopback
 * calls). Audio goes A -> B and B -> A.
 *
 * Life of a channel, all on the loop thread:
 *   chan_new()          RTP sockets bound (local port known), SRTP keys made
 *   rtp_local()         what to put in our SDP (offer or answer)
 *   rtp_set_remote()    the peer's SDP: address, codec, PTs, crypto; again
 *                       on every re-INVITE, also while running
 *   chan_start()        media flows; a TDM leg opens its bearer channel
 *   chan_stop()         media stops; MEDIA_EV_STOPPED brings final stats
 *   chan_free()         everything released; no event after it returns
 *
 * Threads and ownership:
 * - Every function is called on the loop thread.
 * - Events are delivered on the loop thread (the plugin hands them over
 *   with host->call_on_loop), never after chan_free() has returned.
 * - A channel handle is owned by its creator and valid until chan_free().
 *   Strings in configs passed to the service are copied before the
 *   function returns; strings in structs the service fills (stats, local)
 *   are either arrays inside the struct or static (codec names).
 *
 * Errors: 0 or a negative errno. -EINVAL bad argument, -ENOENT unknown
 * codec, -EPROTONOSUPPORT unsupported crypto suite, -EADDRINUSE no free
 * RTP port, -ENODEV no "tdm" service for a TDM leg, -EBUSY wrong state
 * (e.g. chan_start twice), -ENOMEM.
 *
 * Compatibility: the table and the structs only grow at their end; each
 * struct a caller passes starts with `size` (set it to sizeof). Check the
 * table's `size` before using a member added after version 1.
 */
#ifndef TANDEM_MEDIA_H
#define TANDEM_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MEDIA_SERVICE "media"
#define MEDIA_SERVICE_VERSION 1

#define MEDIA_LEG_A 0
#define MEDIA_LEG_B 1

#define MEDIA_ADDR_MAX 46	    /* INET6_ADDRSTRLEN */
#define MEDIA_CRYPTO_LINE_MAX 128   /* one "a=crypto:..." line, with NUL */
#define MEDIA_CRYPTO_OFFER_MAX 3    /* lines rtp_local() offers */
#define MEDIA_LABEL_MAX 64
#define MEDIA_FINGERPRINT_MAX 104  /* "sha-256 " + 32 hex pairs, with NUL */

/* ---- Codecs ------------------------------------------------------------ */

/* One codec of the registry, as SDP names it (RFC 3551 4.5, RFC 4566). */
struct media_codec_info {
	const char *name;	/* rtpmap encoding name: "PCMA", "G722" */
	unsigned clock_hz;	/* rtpmap clock rate (G722: 8000, RFC 3551) */
	int static_pt;		/* static payload type, -1 when dynamic */
	unsigned ptime_ms;	/* default packetisation */
	unsigned audio_hz;	/* rate of the audio itself: 8000 or 16000 */
};

/* ---- Channels ---------------------------------------------------------- */

enum media_leg_type {
	MEDIA_LEG_NONE = 0,
	MEDIA_LEG_RTP,	/* an RTP/RTCP stream over UDP, SRTP optional */
	MEDIA_LEG_TDM,	/* a bearer channel of a span ("tdm" service) */
	MEDIA_LEG_LOOP, /* echo: what goes to this leg comes back */
};

/* The peer's a=setup (RFC 4145, RFC 5763 5). */
enum media_setup {
	MEDIA_SETUP_ACTPASS = 0, /* the peer offered: we answer active */
	MEDIA_SETUP_ACTIVE,	 /* the peer connects: we are the server */
	MEDIA_SETUP_PASSIVE,	 /* the peer waits: we connect */
};

enum media_dir {
	MEDIA_SENDRECV = 0, /* a=sendrecv (RFC 4566 6), the default */
	MEDIA_SENDONLY,	    /* we send, we drop what arrives */
	MEDIA_RECVONLY,	    /* we receive, we send nothing */
	MEDIA_INACTIVE,
};

struct media_leg_config {
	enum media_leg_type type;
	/* MEDIA_LEG_RTP: make SDES keys, so rtp_local() offers a=crypto. */
	bool srtp;
	/* MEDIA_LEG_RTP: DTLS-SRTP (RFC 5764): rtp_local() gives our
	 * a=fingerprint and a=setup; keys come from the handshake. */
	bool dtls;
	/* MEDIA_LEG_TDM: the circuit, by span number and timeslot. */
	unsigned span;
	unsigned ts;
	int ec;		     /* line echo canceller: -1 [media] ec, 0 off, 1 on */
	unsigned ec_tail_ms; /* 32..128; 0: [media] ec_tail_ms */
};

struct media_event;
struct media_chan;

/* On the loop thread; `ev` and what it points to are valid during the call. */
typedef void (*media_event_cb)(struct media_chan *ch,
			       const struct media_event *ev, void *arg);

struct media_chan_config {
	size_t size;	       /* sizeof(struct media_chan_config) */
	const char *label;     /* logs and `media show`: a call id; may be NULL */
	struct media_leg_config leg[2];
	media_event_cb on_event; /* may be NULL */
	void *arg;
};

/* What our SDP says for an RTP leg. */
struct media_rtp_local {
	size_t size;		   /* sizeof(struct media_rtp_local) */
	char addr[MEDIA_ADDR_MAX]; /* c= address ([media] sdp_address) */
	int ipv6;		   /* c=IN IP6 rather than IP4 */
	unsigned port;		   /* m= port: even (RFC 3550 11) */
	unsigned rtcp_port;	   /* port + 1 */
	/* SDES lines to offer, best first (tags 1..n), when the leg has
	 * srtp; answer with crypto_answer() instead. */
	unsigned ncrypto;
	char crypto[MEDIA_CRYPTO_OFFER_MAX][MEDIA_CRYPTO_LINE_MAX];
	/* DTLS-SRTP legs: a=fingerprint value ("sha-256 AB:CD:...", RFC
	 * 8122) and a=setup: "actpass" until the peer's is known, then our
	 * role ("active" or "passive", RFC 5763 5). */
	char fingerprint[MEDIA_FINGERPRINT_MAX];
	char setup[8];
};

/* The negotiated parameters of an RTP leg: the peer's SDP and ours. */
struct media_rtp_remote {
	size_t size;	      /* sizeof(struct media_rtp_remote) */
	const char *addr;     /* c= address; NULL: unknown, wait to latch */
	unsigned port;	      /* m= port; 0: unknown, wait to latch */
	unsigned rtcp_port;   /* a=rtcp (RFC 3605); 0: port + 1 */
	bool rtcp_mux;	      /* a=rtcp-mux agreed (RFC 5761) */
	const char *codec;    /* rtpmap encoding name */
	unsigned clock_hz;    /* rtpmap clock; 0: the codec's */
	int pt;		      /* payload type both ways; -1: the static one */
	unsigned ptime_ms;    /* a=ptime; 0: [media] ptime_ms */
	int dtmf_pt;	      /* telephone-event PT; -1: DTMF goes in band */
	const char *crypto;   /* the peer's a=crypto line; NULL: plain RTP */
	enum media_dir dir;   /* our direction, as in our SDP */
	/* codec "t38" (m=image udptl t38, RFC 3362): the leg carries T.38
	 * over UDPTL and the channel becomes a T.38 gateway for the other
	 * leg's audio. Secondary IFPs per packet (T38FaxUdpEC redundancy);
	 * 0: 3. */
	unsigned t38_redundancy;
	/* DTLS-SRTP legs: the peer's a=fingerprint value and a=setup. */
	const char *fingerprint;
	enum media_setup setup;
};

/* ---- Statistics -------------------------------------------------------- */

/* One leg, updated by the media worker every few frames and at stop. */
struct media_leg_stats {
	size_t size; /* set by the caller to sizeof(*stats) */
	enum media_leg_type type;
	const char *codec;	     /* static; NULL before rtp_set_remote */
	int pt;
	char local[MEDIA_ADDR_MAX + 8];	 /* "addr:port" (RTP) or "span/ts" */
	char remote[MEDIA_ADDR_MAX + 8]; /* where we send, "" unknown */
	bool latched;		     /* remote taken from arriving packets */
	const char *srtp;	     /* suite in use, NULL: plain RTP */
	uint32_t ssrc_rx, ssrc_tx;

	uint64_t packets_rx, octets_rx, packets_tx, octets_tx;
	uint64_t lost;		/* RFC 3550 A.3 cumulative, ours */
	uint64_t late;		/* arrived after their playout time */
	uint64_t duplicates;
	uint64_t malformed;	/* not RTP, wrong PT, failed sequence checks */
	uint64_t foreign;	/* from an address we do not take media from */
	uint64_t srtp_auth_fail, srtp_replay;
	uint64_t ssrc_changes;
	double jitter_ms;	/* RFC 3550 6.4.1 interarrival jitter */
	double jb_delay_ms;	/* jitter buffer: current playout delay */
	double jb_target_ms;
	uint64_t plc_frames;	/* 20 ms frames concealed */
	uint64_t jb_inserts, jb_drops; /* frames added / dropped to adapt */

	/* From the peer's RTCP reports about our stream. */
	double remote_loss_pct; /* fraction lost of their last report */
	double remote_jitter_ms;
	double rtt_ms; /* RFC 3550 6.4.1; negative: not known yet */

	/* ITU-T G.107 E-model of what we receive on this leg. */
	double r_factor;
	double mos;

	uint64_t frames;      /* 20 ms frames processed */
	uint64_t late_frames; /* finished after their deadline */
	uint64_t dtmf_rx, dtmf_tx;

	/* MEDIA_LEG_TDM */
	bool ec_on;
	unsigned ec_tail_ms;
	double erle_db;	  /* canceller's echo return loss enhancement */
	bool ec_bypassed; /* the 2100 Hz tone disabler holds it off */

	/* T.38 (codec "t38"): IFP packets rebuilt from UDPTL redundancy;
	 * `lost` counts those beyond it, `duplicates` old packets. */
	uint64_t ifp_recovered;

	/* DTLS-SRTP: "handshake", "established", "failed"; NULL: none. */
	const char *dtls;
};

/* ---- Events ------------------------------------------------------------ */

enum media_event_type {
	MEDIA_EV_DTMF = 1,   /* a digit arrived on `leg` (RFC 4733 or in band) */
	MEDIA_EV_LATCHED,    /* `leg` now sends to where its peer sends from */
	MEDIA_EV_RTP_TIMEOUT, /* no RTP on `leg` for [media] rtp_timeout_s */
	MEDIA_EV_TONE,	     /* fax/modem tone on `leg`: `tone` */
	MEDIA_EV_STOPPED,    /* after chan_stop(): final stats of both legs */
};

enum media_tone {
	MEDIA_TONE_CNG = 1, /* T.30 calling tone, 1100 Hz: a fax calls */
	MEDIA_TONE_CED,	    /* T.30 / V.25 2100 Hz answer tone */
};

struct media_event {
	enum media_event_type type;
	unsigned chan_id;
	unsigned leg;
	/* MEDIA_EV_DTMF: the digit, at its start (end false) and at its end
	 * (end true, duration_ms set). */
	char digit;
	bool end;
	unsigned duration_ms;
	/* MEDIA_EV_LATCHED: the new remote address. */
	const char *addr;
	unsigned port;
	/* MEDIA_EV_TONE */
	enum media_tone tone;
	/* MEDIA_EV_STOPPED: both legs, for the call record. */
	const struct media_leg_stats *stats[2];
};

/* ---- The service ------------------------------------------------------- */

struct media_service {
	size_t size; /* sizeof(struct media_service) of the provider */

	/* The codec registry: iterate with prev NULL first; find by rtpmap
	 * name (case-insensitive) and clock (0: any). NULL at the end or when
	 * unknown. The entries are static. */
	const struct media_codec_info *(*codec_next)(
		const struct media_codec_info *prev);
	const struct media_codec_info *(*codec_find)(const char *name,
						     unsigned clock_hz);

	/* A new channel, not started. */
	int (*chan_new)(const struct media_chan_config *cfg,
			struct media_chan **out);
	/* The number `media show channel ID` knows it by. */
	unsigned (*chan_id)(const struct media_chan *ch);

	/* Our SDP facts for an RTP leg. */
	int (*rtp_local)(struct media_chan *ch, unsigned leg,
			 struct media_rtp_local *out);
	/* Our a=crypto line answering the peer's `offer` line: same tag and
	 * suite, our key (RFC 4568 7.1.2). Needs srtp on the leg. */
	int (*crypto_answer)(struct media_chan *ch, unsigned leg,
			     const char *offer, char *line, size_t size);
	/* The negotiated parameters (again after every offer/answer). */
	int (*rtp_set_remote)(struct media_chan *ch, unsigned leg,
			      const struct media_rtp_remote *remote);

	int (*chan_start)(struct media_chan *ch);
	/* Stop media; MEDIA_EV_STOPPED follows with the final statistics. */
	int (*chan_stop)(struct media_chan *ch);
	/* Stop if needed and release everything. */
	void (*chan_free)(struct media_chan *ch);

	/* Send a digit toward `leg`: RFC 4733 events when that leg has a
	 * telephone-event PT, tones in band otherwise (SIP INFO relay). */
	int (*chan_dtmf)(struct media_chan *ch, unsigned leg, char digit,
			 unsigned duration_ms);
	/* Line echo canceller of a TDM leg on or off. */
	int (*chan_set_ec)(struct media_chan *ch, unsigned leg, bool on);

	/* A snapshot (at most a few frames old). */
	int (*chan_stats)(struct media_chan *ch, unsigned leg,
			  struct media_leg_stats *out);
};

#ifdef __cplusplus
}
#endif

#endif /* TANDEM_MEDIA_H */
