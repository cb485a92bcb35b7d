/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbc internals shared by its files: configuration, the call (two
 * dialogs and one media channel), SDP rewriting and the source guard.
 * Everything runs on the loop thread.
 */
#ifndef SBC_INT_H
#define SBC_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "tandem/media.h"
#include "tandem/plugin.h"
#include "tandem/sip.h"

#define TND_LOG_HOST sbc_host
#define TND_LOG_CATEGORY "sbc"

TND_PLUGIN_DECLARE(sbc);
#define SBC_SELF (&TND_PLUGIN_SYMBOL(sbc))

/* The two sides of every call: leg A faces the access realm (outside),
 * leg B the core realm (inside). They index media legs as well. */
#define SIDE_ACCESS MEDIA_LEG_A
#define SIDE_CORE MEDIA_LEG_B

struct sbc_cfg {
	char *core_next_hop;
	char *core_domain;
	char *access_media_address;
	char *core_media_address;
	char *access_srtp; /* off | optional | sdes | dtls (sbc_call.c) */
	int transcode;	   /* offers carry the codecs we can transcode to */
	unsigned long long rate_per_s;
	unsigned long long burst;
	unsigned long long max_calls;
	unsigned long long block_after;
	unsigned long long block_s;
	unsigned long long max_blocked;
	char *auth_realm;
};

extern const struct tnd_host_api *sbc_host;
extern struct sbc_cfg *sbc_cfg;
extern const struct sip_service *sbc_sip;
extern const struct media_service *sbc_media;

/* ---- Calls (sbc_call.c) ---- */

struct sbc_counters {
	struct tnd_counter *calls, *limited, *failed, *blocked, *refused,
		*media_timeouts, *relayed;
};
extern struct sbc_counters sbc_count;

int sbc_call_start(void);
void sbc_call_stop(void);
int sbc_cmd_show_calls(struct tnd_reply *r, int argc, char **argv);

/* ---- SDP (sbc_sdp.c) ---- */

/* Media security of an audio stream (RFC 4568 SDES, RFC 5763 DTLS-SRTP). */
enum sbc_sec {
	SBC_SEC_PLAIN = 0, /* RTP/AVP: plain RTP (a=crypto lines ignored) */
	SBC_SEC_SDES,	   /* RTP/SAVP with a=crypto */
	SBC_SEC_DTLS,	   /* UDP/TLS/RTP/SAVP with a=fingerprint */
};

#define SBC_SDP_CRYPTO 4
#define SBC_SDP_FORMATS 16

/* One format of an m= line. `pt_in` is used by rewrites only: the
 * payload type the input calls it, -1 when it is not in the input (an
 * a=rtpmap line is then written for it). */
struct sbc_sdp_fmt {
	int pt;
	int pt_in;
	char name[32];	/* rtpmap encoding name */
	unsigned clock; /* rtpmap clock rate */
};

/* The one audio stream the SBC anchors, as one side described it. */
struct sbc_sdp {
	bool valid;
	char address[64];
	unsigned port;
	enum sip_sdp_dir dir;
	char codec[32]; /* the first format the media service knows */
	unsigned clock_hz;
	int pt;
	int dtmf_pt; /* telephone-event, -1 none */
	/* codec, clock_hz, pt, dtmf_pt of the offerer's description become
	 * what its hop uses once the answer crossed (sdp_cross: the answer's
	 * codec in the offerer's payload types, or its own first codec when
	 * the SBC transcodes). */
	bool secure; /* RTP/SAVP or UDP/TLS/RTP/SAVP (sec != SBC_SEC_PLAIN) */
	/* Media security of the stream (sbc_sdp_read_security). */
	enum sbc_sec sec;
	char proto[24]; /* the m= line's: "RTP/SAVP", "UDP/TLS/RTP/SAVPF"... */
	unsigned ncrypto;
	/* the a=crypto lines, as sent */
	char crypto[SBC_SDP_CRYPTO][MEDIA_CRYPTO_LINE_MAX];
	int crypto_pick; /* the line we use (the first we support), -1 none */
	char fingerprint[MEDIA_FINGERPRINT_MAX]; /* a=fingerprint value */
	enum media_setup setup; /* a=setup (actpass when absent) */
	/* The stream's formats in the order of its m= line. */
	unsigned nfmt;
	struct sbc_sdp_fmt fmt[SBC_SDP_FORMATS];
};

/* Read the first audio stream of `body`. Returns 0, -EINVAL (not SDP),
 * -ENOENT (no audio stream), -EPROTONOSUPPORT (no codec we can relay). */
int sbc_sdp_read(const char *body, size_t len, struct sbc_sdp *out);
/* `in` as seen from the other side: o= and c= carry `addr`, the first
 * audio m= line `port`, other m= lines port 0 (not anchored), and the
 * lines that name addresses (a=rtcp, ICE) are dropped. Returns the
 * length written (NUL-terminated) or -ENOSPC. */
int sbc_sdp_rewrite(const char *in, size_t len, const char *addr,
		    unsigned port, char *out, size_t size);

/* What our description towards one side says of the anchored stream,
 * beyond sbc_sdp_rewrite()'s address and port. */
struct sbc_sdp_target {
	const char *addr;
	unsigned port;
	const char *proto; /* the anchored m= line's proto; NULL: the input's */
	const char *attrs; /* lines added to the anchored stream (each ending
			    * in CRLF: our a=crypto, a=fingerprint...); NULL */
	/* Formats: appended to the input's (an offer: codecs we can
	 * transcode to), or, with `replace`, the whole list (an answer
	 * mapped to the offerer's payload types): the input's a=rtpmap and
	 * a=fmtp lines of formats not listed are dropped, the others carry
	 * the new payload type. */
	bool replace;
	unsigned nfmt;
	const struct sbc_sdp_fmt *fmt;
};

/* As sbc_sdp_rewrite(), with security and formats of `t`. a=crypto,
 * a=fingerprint, a=setup and a=tls-id of the input are always dropped:
 * media security ends at the SBC, each side has its own. */
int sbc_sdp_build(const char *in, size_t len, const struct sbc_sdp_target *t,
		  char *out, size_t size);
/* The security of the first audio stream of `body` into out->sec,
 * proto, crypto, fingerprint, setup (no sip service needed). Returns 0,
 * -ENOENT (no audio stream), -EBADMSG (RTP/SAVP without a=crypto,
 * UDP/TLS/RTP/SAVP without a=fingerprint). */
int sbc_sdp_read_security(const char *body, size_t len, struct sbc_sdp *out);

/* ---- Media security and transcoding (sbc_call.c) ---- */

struct sbc_call;
/*
 * For a call from the core towards the access side (after media_open):
 * the SDP offer of the core's INVITE `m` as the access side must see it,
 * under [sbc] access_srtp: "sdes" RTP/SAVP with our a=crypto lines (the
 * media service's rtp_local), "dtls" UDP/TLS/RTP/SAVP with our
 * a=fingerprint and a=setup:actpass, "optional" and "off" plain RTP/AVP;
 * with [sbc] transcode the codecs we can transcode to follow the core's.
 * The core's description is remembered for the answer: hand the access
 * side's answer (SRTP or not) to the same path as any answer (sdp_cross
 * with answer true on SIDE_ACCESS), which checks it against the policy,
 * keys leg A and writes the core's answer. Returns the length written to
 * `out`, 0 when `m` has no SDP, -EPROTONOSUPPORT (not acceptable: the
 * call's warning says why), -EIO.
 */
int sbc_sdp_offer_access(struct sbc_call *call, const struct sip_message *m,
			 char *out, size_t size);

/* ---- Protection (sbc_guard.c) ---- */

enum sbc_guard_verdict {
	GUARD_PASS = 0,
	GUARD_RATE,    /* over its token bucket: 503 */
	GUARD_BLOCKED, /* blocked: dropped silently after the first answer */
};

enum sbc_guard_verdict sbc_guard_check(const char *addr);
/* One more offence (over rate, failed authentication): at block_after
 * within the window the source is blocked for block_s. */
void sbc_guard_offence(const char *addr, const char *why);
int sbc_cmd_show_blocked(struct tnd_reply *r, int argc, char **argv);
int sbc_cmd_unblock(struct tnd_reply *r, int argc, char **argv);
void sbc_guard_reset(void);

/* ---- Access peers (sbc_peer.c) ---- */

struct sbc_peer;
int sbc_peers_load(void); /* from [sbc-peer NAME] sections, in init */
bool sbc_peers_configured(void);
struct sbc_peer *sbc_peer_of(const char *addr); /* by ACL, or NULL */
/* One more call of `p`: 0, -EBUSY (max_calls), -EAGAIN (cps). */
int sbc_peer_admit(struct sbc_peer *p);
void sbc_peer_release(struct sbc_peer *p);
const char *sbc_peer_name(const struct sbc_peer *p);
/* The credentials a peer must give (digest), false when none. */
bool sbc_peer_auth(const struct sbc_peer *p, const char **user,
		   const char **password);

/* ---- Digest authentication of peers (sbc_auth.c) ---- */

void sbc_auth_init(void);
/* 0 good, -EACCES no credentials, -ESTALE old nonce, -EPERM wrong. */
int sbc_auth_check(const struct sip_message *m, const char *user,
		   const char *password);
/* "Proxy-Authenticate: Digest ...\r\n" with a fresh nonce. */
void sbc_auth_challenge(char *hdr, size_t size, bool stale);
int sbc_cmd_show_peers(struct tnd_reply *r, int argc, char **argv);

/* "UDP 127.0.0.1:5061" of a message -> "127.0.0.1" */
void sbc_source_addr(const struct sip_message *m, char *out, size_t size);

#endif /* SBC_INT_H */
