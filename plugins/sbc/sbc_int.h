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
	/* far-end devices behind NAT (sbc_reg.c) */
	char *nat_fixup;
	unsigned long long nat_expires;
	unsigned long long nat_ping_s;
	unsigned long long nat_ping_fails;
	unsigned long long max_registrations;
	char *core_contact;
	char *access_media_address;
	char *core_media_address;
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

/* ---- Far-end devices behind NAT (sbc_reg.c) ---- */

int sbc_reg_init(void);  /* in init: counters */
int sbc_reg_start(void); /* REGISTER relay, keep-alives, core -> device */
void sbc_reg_stop(void);
/* Contact fix-up of an access dialog just accepted from request `m`
 * (`nat_fixup`): its requests go to m's source (sip 1.2
 * dialog_set_next_hop) when the Contact names another address (auto) or
 * always. 0, or as dialog_set_next_hop. */
int sbc_nat_fixup(struct sip_dialog *d, const struct sip_message *m);
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
	bool secure; /* RTP/SAVP: not anchored (refused) */
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
