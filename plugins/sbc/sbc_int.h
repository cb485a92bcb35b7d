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

#include "ims_msg.h"

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
	char *core_listen;   /* realms by listener (sbc_route.c) */
	char *core_sources;  /* realms by source address */
	char *access_domain; /* our host in From on the access side */
	unsigned long long failover_s;
	/* far-end devices behind NAT (sbc_reg.c) */
	char *nat_fixup;
	unsigned long long nat_expires;
	unsigned long long nat_ping_s;
	unsigned long long nat_ping_fails;
	unsigned long long max_registrations;
	char *core_contact;
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
	char *access_rules; /* [sbc-rules] of peers that name none */
	char *core_rules;   /* [sbc-rules] of the core side */
	/* toll fraud (sbc_peer.c) */
	char *blocked_destinations;
	char *home_country_code;
};

extern const struct tnd_host_api *sbc_host;
extern struct sbc_cfg *sbc_cfg;
extern const struct sip_service *sbc_sip;
extern const struct media_service *sbc_media;

/* ---- Calls (sbc_call.c) ---- */

struct sbc_counters {
	struct tnd_counter *calls, *limited, *failed, *blocked, *refused,
		*media_timeouts, *relayed;
	struct tnd_counter *calls_out, *failovers; /* core -> access */
	struct tnd_counter *dest_blocked, *calls_intl, *fraud_alarms;
};
extern struct sbc_counters sbc_count;

int sbc_call_start(void);
void sbc_call_stop(void);
int sbc_cmd_show_calls(struct tnd_reply *r, int argc, char **argv);

/* ---- Far-end devices behind NAT (sbc_reg.c) ---- */

int sbc_reg_init(void);  /* in init: counters */
int sbc_reg_start(void); /* REGISTER relay, keep-alives, core -> device */
void sbc_reg_stop(void);
/* Contact fix-up of an access dialog just accepted from request `m`
 * (`nat_fixup`): its requests go to m's source (sip 1.2
 * dialog_set_next_hop) when the Contact names another address (auto) or
 * always. 0, or as dialog_set_next_hop. */
int sbc_nat_fixup(struct sip_dialog *d, const struct sip_message *m);
/* The same for a dialog we made towards a device (a call from the core,
 * sbc_reg_target()): its requests go to `hop`, whatever its Contact. */
int sbc_nat_fixup_to(struct sip_dialog *d, const char *hop);
/*
 * For a call from the core: when `invite`'s Request-URI is the Contact
 * the SBC registered at the core for a device (user part "nat-..."),
 * the device's Contact (the Request-URI to send it) and where it really
 * is ("udp:203.0.113.9:40123": the spec's next_hop, and after
 * dialog_invite() the dialog's dialog_set_next_hop(), so that its BYE
 * and re-INVITEs reach the device too). Returns 0 or -ENOENT (not a
 * registered device's token). The strings are copied (truncated to the
 * sizes).
 */
int sbc_reg_target(const struct sip_message *invite, char *ruri,
		   size_t ruri_size, char *next_hop, size_t hop_size);
int sbc_cmd_show_devices(struct tnd_reply *r, int argc, char **argv);

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
void sbc_peers_unload(void);
unsigned sbc_peer_count(void);
struct sbc_peer *sbc_peer_at(unsigned i); /* 0..count-1, else NULL */
/* The peer a call from the core goes to: the longest of the peers'
 * `prefixes` that starts `user` (the Request-URI's user part), else the
 * first peer whose `domains` has `host`; NULL when none. */
struct sbc_peer *sbc_peer_route(const char *user, const char *host);
/* A peer's destinations ("udp:HOST:PORT"), in configured order, and
 * whether each is up (all are until something marks one down, e.g. an
 * OPTIONS keep-alive that goes unanswered). */
unsigned sbc_peer_ndest(const struct sbc_peer *p);
const char *sbc_peer_dest(const struct sbc_peer *p, unsigned i);
bool sbc_peer_dest_up(const struct sbc_peer *p, unsigned i);
void sbc_peer_dest_set(struct sbc_peer *p, unsigned i, bool up);
/* The next hop of a call to `p`: its `skip`-th destination that is up
 * (skip 0: the best; 1: the one to fail over to...), NULL when none. */
const char *sbc_peer_next_hop(const struct sbc_peer *p, unsigned skip);
/* The credentials a peer must give (digest), false when none. */
bool sbc_peer_auth(const struct sbc_peer *p, const char **user,
		   const char **password);
/* Its codec policy (`codecs`): the name of rank 0, 1... (NULL past the
 * last, or when the peer has none); the rank of `name`, -1 when the
 * policy leaves it out, 0 for every name when there is no policy. */
const char *sbc_peer_codec(const struct sbc_peer *p, unsigned rank);
int sbc_peer_codec_rank(const struct sbc_peer *p, const char *name);
/*
 * Toll-fraud checks of a call from the access side (peer `p`, NULL for
 * open access) to `number`, the Request-URI's user as it goes to the core
 * (E.164 when the rules normalise): -EACCES when it starts with one of
 * [sbc] blocked_destinations or the peer's, -EDQUOT when it is an
 * international call (not +home_country_code) beyond the peer's
 * intl_calls_per_min in the last minute (a fraud alarm, logged), else 0
 * (counted when international).
 */
int sbc_peer_dest_check(struct sbc_peer *p, const char *number);
/* Its rule set (`rules = NAME`), "" when none. */
const char *sbc_peer_rules(const struct sbc_peer *p);

/* ---- Digest authentication of peers (sbc_auth.c) ---- */

void sbc_auth_init(void);
/* 0 good, -EACCES no credentials, -ESTALE old nonce, -EPERM wrong. */
int sbc_auth_check(const struct sip_message *m, const char *user,
		   const char *password);
/* "Proxy-Authenticate: Digest ...\r\n" with a fresh nonce. */
void sbc_auth_challenge(char *hdr, size_t size, bool stale);
int sbc_cmd_show_peers(struct tnd_reply *r, int argc, char **argv);

/* ---- Normalisation (sbc_norm.c) ---- */

/*
 * Rule sets [sbc-rules NAME]: number normalisation to and from E.164,
 * the trust domain (RFC 3325) and header / URI actions, for messages
 * crossing between the realms. A message crosses in two steps: FROM the
 * side that sent it (its set's `in` actions; into E.164), then TO the
 * side it goes to (its set's `out` actions; into that side's format).
 * The core is always trusted. NULL or "" names no set (an untrusted
 * peer with no actions, numbers untouched).
 */
enum sbc_norm_dir {
	SBC_NORM_FROM_PEER, /* sent by an access peer */
	SBC_NORM_TO_PEER,   /* going to an access peer */
	SBC_NORM_FROM_CORE, /* sent by the core */
	SBC_NORM_TO_CORE,   /* going to the core */
};

#define SBC_NORM_URI 256

/* One message crossing. The caller fills ruri / from / to (bare URIs,
 * "" for a response) and `in`; sbc_norm_apply() edits them and builds
 * `out`, the extra header lines to send. sbc_norm_msg_free() frees both
 * lists (the ims_msg own their strings). */
struct sbc_norm_msg {
	char ruri[SBC_NORM_URI], from[SBC_NORM_URI], to[SBC_NORM_URI];
	struct ims_msg in;  /* the received message's headers */
	struct ims_msg out; /* lines to add to the message sent */
	unsigned bad_numbers; /* numbers left as they were (malformed) */
};

/* One rule set as configured (sbc_norm_set_add() copies what it keeps). */
#define SBC_NORM_ACTIONS 16
struct sbc_norm_set_cfg {
	char *country_code, *national_prefix, *international_prefix;
	char *area_code, *number_format; /* e164|international|national|local */
	unsigned long long local_length; /* 0: any */
	int trusted, update;
	char *asserted_identity;
	char *allowed_numbers; /* regex: From numbers it may present */
	char *rel100; /* key "100rel": yes (as the core sent), no, always */
	char *in[SBC_NORM_ACTIONS], *out[SBC_NORM_ACTIONS];
};

/* [sbc-rules NAME] sections, in init: errors are file:line. */
int sbc_norm_load(void);
/* Define a set (the loader and the unit test): 0, or -EINVAL with the
 * reason in `err` and the key at fault in *bad_key; -EEXIST, -ENOMEM. */
int sbc_norm_set_add(const char *name, const struct sbc_norm_set_cfg *cfg,
		     const char **bad_key, char *err, size_t err_size);
bool sbc_norm_set_exists(const char *name);
void sbc_norm_unload(void);

/* Apply set `rules` to `msg` for one step. 0, -ENOENT (no such set:
 * nothing done), -ENOMEM. */
int sbc_norm_apply(const char *rules, enum sbc_norm_dir dir,
		   struct sbc_norm_msg *msg);
/*
 * Both steps for a received message `m`: `in` is taken from it. A call
 * from the core to a peer, say: fill ruri / from / to with what the
 * core sent (E.164, the hosts the peer expects), then
 *   sbc_norm_cross(sbc_cfg->core_rules, SBC_NORM_FROM_CORE,
 *                  sbc_norm_peer_rules(peer), SBC_NORM_TO_PEER, m, &nm);
 * and send nm.ruri, nm.from, nm.to with sbc_norm_headers(&nm) as the
 * extra lines; sbc_norm_msg_free(&nm) after (also after an error).
 * Returns 0, -ENOENT, -ENOMEM; logs the malformed numbers it left.
 */
int sbc_norm_cross(const char *from_rules, enum sbc_norm_dir from,
		   const char *to_rules, enum sbc_norm_dir to,
		   const struct sip_message *m, struct sbc_norm_msg *msg);
/* The `out` lines as "Name: value\r\n..." (malloc'd; NULL when none). */
char *sbc_norm_headers(const struct sbc_norm_msg *msg);
void sbc_norm_msg_free(struct sbc_norm_msg *msg);

/* The user part of a sip/sips URI or the number of a tel URI in a
 * Request-URI or a From / To value ("Bob" <tel:+44...>;tag=1): 0,
 * -ENOENT (none), -EINVAL (not such a URI), -ENOSPC. */
int sbc_norm_user_of(struct sip_text value, char *out, size_t size);
/* `sbc show rules`: each set's trust, numbering and action counts. */
int sbc_cmd_show_rules(struct tnd_reply *r, int argc, char **argv);
/* The set of a peer: its `rules`, else [sbc] access_rules ("" none). */
const char *sbc_norm_peer_rules(const struct sbc_peer *p);
/* E.164 <-> a set's dialling format, for one number (the unit test):
 * 1 converted, 0 not a number (left as it was), -EINVAL malformed. */
int sbc_norm_to_e164(const char *rules, const char *number, char *out,
		     size_t size);
int sbc_norm_from_e164(const char *rules, const char *number, char *out,
		       size_t size);
/*
 * A response or in-dialog request `m` crossing from `from_side` of a call
 * of `peer`: the extra header lines for the other side (malloc'd, NULL
 * none), and *flags (may be NULL) as sbc_norm_reply_flags() says for
 * the access peer's set.
 */
char *sbc_norm_relay(const struct sbc_peer *peer, unsigned from_side,
		     const struct sip_message *m, unsigned *flags);
/* The dialog_reply() flags of a provisional `status` towards a peer of
 * set `rules`: SIP_REPLY_RELIABLE cleared (100rel = no) or set (always). */
unsigned sbc_norm_reply_flags(const char *rules, int status, unsigned flags);
/* What to do with an in-dialog request `m` from `from_side` of a call
 * of `peer` (`confirmed`: the 2xx has gone): relay it; leave it to the
 * sip service (an UPDATE without an offer: a refresh of that leg's
 * session timer, RFC 4028); or send it on as a re-INVITE (an UPDATE
 * with an offer for a peer whose set says `update = no`). */
enum sbc_norm_adapt {
	SBC_NORM_RELAY,
	SBC_NORM_LOCAL,
	SBC_NORM_REINVITE,
};
enum sbc_norm_adapt sbc_norm_adapt(const struct sbc_peer *peer,
				   unsigned from_side,
				   const struct sip_message *m, bool confirmed);
/*
 * The client side of digest (RFC 2617, RFC 7616 / RFC 8760: MD5, SHA-256
 * and their -sess forms; qop "auth" or none): the answer to the first
 * challenge of a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate)
 * `challenge` we can answer, for a request `method` to `uri` (the
 * Request-URI it will carry) with user/password. Writes the whole line,
 * "Authorization: Digest ...\r\n" or "Proxy-Authorization: ...\r\n", to
 * `hdr` (NUL-terminated), ready for a request's extra headers. Returns
 * its length, -ENOENT (no Digest challenge), -ENOTSUP (no algorithm or
 * qop we have), -ENOSPC. A fresh cnonce each call, nc 00000001.
 */
int sbc_auth_answer(const struct sip_message *challenge, const char *method,
		    const char *uri, const char *user, const char *password,
		    char *hdr, size_t size);
/* Whether that challenge says stale=true (RFC 2617 3.2.1: the nonce was
 * old, the credentials good: answering again is worth it). */
bool sbc_auth_stale(const struct sip_message *challenge);

/* ---- Trunks: keep-alive, registration, TLS identity (sbc_trunk.c) ---- */

/* What a peer's [sbc-peer] section says of its trunk (strings owned by
 * the configuration; "" when unset). */
struct sbc_peer_trunk {
	unsigned options_interval_s; /* 0: no OPTIONS keep-alive */
	unsigned options_down_after; /* misses in a row that mark down */
	const char *register_uri;    /* "": no registration */
	const char *register_user, *register_password;
	const char *register_aor;     /* "": sip:USER@registrar host */
	const char *register_contact; /* "": our listener's address */
	unsigned register_expires;    /* asked for, seconds */
	unsigned register_retry_s;    /* first wait after a failure */
	const char *tls_name;	      /* "": calls need no certificate */
};
void sbc_peer_trunk(const struct sbc_peer *p, struct sbc_peer_trunk *out);

/* init: check the peers' trunk keys ("file:line: message"), counters */
int sbc_trunk_init(void);
/* start: keep-alive probes and registrations begin */
int sbc_trunk_start(void);
/* stop: probes end, registrations are removed (REGISTER expires 0);
 * returns TND_STOP_PENDING while those are answered, then calls
 * sbc_host->stopped(), else 0 */
int sbc_trunk_stop(void);
/*
 * In on_invite, for a request from peer `p` (source `src`): when the
 * peer has a tls_name, the request must have come over TLS with a
 * verified certificate naming it, else it is answered 403 "Certificate
 * Required" here, counted as an offence, and false is returned.
 */
bool sbc_trunk_tls_ok(struct sip_request *req, const struct sbc_peer *p,
		      const char *src);
/* Adds the keep-alive fields of destination `i` of `p` to a record of
 * `sbc show peers` (nothing when the peer has no keep-alive). */
void sbc_trunk_show_dest(struct tnd_reply *r, const struct sbc_peer *p,
			 unsigned i);
int sbc_cmd_show_registrations(struct tnd_reply *r, int argc, char **argv);

/* "UDP 127.0.0.1:5061" of a message -> "127.0.0.1" */
void sbc_source_addr(const struct sip_message *m, char *out, size_t size);

/* ---- Calls from the core to the access side (sbc_route.c) ---- */

int sbc_route_init(void); /* in init: core_listen, core_sources */
void sbc_route_fini(void);
int sbc_route_start(void); /* the sip service is there: check local() */
/* Whether a new request arrived from the core realm: on a listener of
 * core_listen, from an address of core_sources, or (neither set) from
 * core_next_hop's own address and port. */
bool sbc_from_core(const struct sip_message *m);
/* The number or user of a Request-URI from the core, for routing:
 * "tel:+44-20-7946-2001;phone-context=..." and
 * "sip:+442079462001@host;user=phone" both give "+442079462001" (visual
 * separators dropped); `host` gets the SIP URI's host ("" for tel:).
 * Returns 0, or -EINVAL when it is neither a sip:, sips: nor tel: URI. */
int sbc_route_number(struct sip_text ruri, char *user, size_t usize,
		     char *host, size_t hsize);
/* "udp:HOST:PORT" -> "HOST:PORT" (into out). */
void sbc_hop_hostport(const char *hop, char *out, size_t size);

/* Address lists of [sbc] keys (core_sources), parsed once. */
struct sbc_nets;
/* NULL and `bad` set to the faulty word when the text is not a list of
 * IPv4/IPv6 addresses and prefixes (at most 16); empty text: an empty
 * list. */
struct sbc_nets *sbc_nets_parse(const char *text, char *bad, size_t size);
bool sbc_nets_match(const struct sbc_nets *nets, const char *addr);
unsigned sbc_nets_count(const struct sbc_nets *nets);
void sbc_nets_free(struct sbc_nets *nets);
/* The credentials we answer a peer's 401 / 407 with, false when none. */
bool sbc_peer_out_auth(const struct sbc_peer *p, const char **user,
		       const char **password);


#endif /* SBC_INT_H */
