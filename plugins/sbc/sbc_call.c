/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbc_call: the B2BUA. A call is two INVITE dialogs of the sip service's
 * dialog layer, the access one (we are its UAS) and the core one (its
 * UAC), and one media channel whose leg A faces the access realm and leg
 * B the core realm. Each side's SDP is rewritten to the channel's ports
 * on the other side, so RTP crosses the SBC both ways (anchoring); the
 * media service latches to where RTP really comes from (symmetric RTP)
 * and reports a leg that went silent, which ends the call.
 *
 * Life of a call:
 *   TRYING     INVITE from the access side accepted, INVITE to the core
 *   EARLY      a provisional response relayed back (reliably when the
 *              core sent it reliably and the caller supports 100rel)
 *   CONFIRMED  the 2xx relayed; re-INVITE, UPDATE, INFO... relayed either
 *              way, one at a time (491 to a second, RFC 3261 14.1)
 *   ENDING     one side ended (BYE, CANCEL, failure, media timeout); the
 *              other is ended, the call waits on the dead list until the
 *              loop has returned from the callbacks that still use it
 *
 * Dialog and channel callbacks carry the call's number, not its pointer,
 * where they may outlive it (responses to relayed requests).
 */
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sbc_int.h"

#define SBC_SDP_MAX 4096

enum call_state {
	CALL_TRYING,
	CALL_EARLY,
	CALL_CONFIRMED,
	CALL_ENDING,
};

static const char *const state_names[] = { "trying", "early", "confirmed",
					   "ending" };

struct sbc_call {
	struct sbc_call *next;
	unsigned id;
	enum call_state state;
	struct sip_dialog *dlg[2]; /* [SIDE_ACCESS] UAS, [SIDE_CORE] UAC */
	bool dlg_ended[2];	   /* its state callback said ENDED */
	struct media_chan *chan;
	bool media_started, media_stopped; /* stopped: final stats came */
	struct sbc_sdp sdp[2];	     /* the last description of each side */
	struct sip_request *pending; /* an in-dialog request being relayed */
	unsigned pending_side;
	char src[64];
	struct sbc_peer *peer; /* NULL: open access (no peers configured) */
	char ruri[256];
	uint64_t started_ms;
	char warning[160]; /* "Warning: ..." of a 488 (media refused), or "" */
	unsigned caller; /* the side whose INVITE made the call */
	struct sbc_out *out; /* a call from the core: its INVITEs to the peer */
	/* RFC 3261 13.2.1 late offer: the caller's INVITE had no SDP, we
	 * offered to the core; our offer to the caller (from the core's
	 * answer) goes in the 200, its answer comes in the ACK */
	bool late;
	bool late_ack;	  /* the 200 with our offer sent, the ACK awaited */
	char *late_offer; /* our offer towards the caller, NUL-terminated */
};

struct sbc_counters sbc_count;

static struct sbc_call *calls, *dead;
static unsigned ncalls, next_call_id;
static bool reaper_queued;
static struct tnd_timer *cancel_poll;

static const struct sip_dialog_ops access_ops, core_ops;

static unsigned other(unsigned side)
{
	return side == SIDE_ACCESS ? SIDE_CORE : SIDE_ACCESS;
}

static const char *side_name(unsigned side)
{
	return side == SIDE_ACCESS ? "access" : "core";
}

static struct sbc_call *call_by_id(unsigned id)
{
	for (struct sbc_call *c = calls; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static char *text_dup(struct sip_text t)
{
	char *s = malloc(t.len + 1);

	if (s) {
		memcpy(s, t.ptr, t.len);
		s[t.len] = '\0';
	}
	return s;
}

static bool header_has(const struct sip_message *m, const char *name,
		       const char *token)
{
	struct sip_text v;

	for (unsigned i = 0; sbc_sip->header(m, name, i, &v) == 0; i++) {
		char buf[256];

		snprintf(buf, sizeof(buf), "%.*s", (int)v.len, v.ptr);
		if (strcasestr(buf, token))
			return true;
	}
	return false;
}

/* The user part of a SIP URI ("sip:bob@host" -> "bob"), into `out`. */
static void uri_user(struct sip_text uri, char *out, size_t size)
{
	const char *p = memchr(uri.ptr, ':', uri.len);
	const char *end = uri.ptr + uri.len;
	size_t n = 0;

	p = p ? p + 1 : uri.ptr;
	while (p < end && *p != '@' && *p != ';' && *p != '>' && n + 1 < size)
		out[n++] = *p++;
	if (p >= end || *p != '@')
		n = 0; /* no user part */
	out[n] = '\0';
	if (!n)
		snprintf(out, size, "anonymous");
}

struct sbc_out;
static void sbc_out_free(struct sbc_out *o);

/* RFC 3261 19.1.1: a number in a SIP URI is marked user=phone. */
static const char *user_param(const char *user)
{
	return user[0] == '+' ? ";user=phone" : "";
}

/* ---- Ending a call ------------------------------------------------------ */

/* A dialog is released only once it has ended: releasing one that still
 * waits for the 487 to our CANCEL would make the layer cancel again. */
static bool reap_one(struct sbc_call *call, bool force)
{
	for (unsigned s = 0; s < 2; s++)
		if (call->dlg[s] && (call->dlg_ended[s] || force)) {
			sbc_sip->dialog_release(call->dlg[s]);
			call->dlg[s] = NULL;
		}
	if (call->dlg[SIDE_ACCESS] || call->dlg[SIDE_CORE])
		return false;
	if (call->media_started && !call->media_stopped && !force)
		return false; /* MEDIA_EV_STOPPED brings the final counts */
	if (call->chan)
		sbc_media->chan_free(call->chan);
	sbc_out_free(call->out);
	free(call->late_offer);
	free(call);
	return true;
}

static void reap_all(bool force)
{
	for (struct sbc_call **pp = &dead; *pp;) {
		struct sbc_call *call = *pp, *next = call->next;

		if (reap_one(call, force))
			*pp = next;
		else
			pp = &call->next;
	}
}

static void reap(void *arg)
{
	(void)arg;
	reaper_queued = false;
	reap_all(false);
}

static void reap_soon(void)
{
	if (!reaper_queued && sbc_host->call_on_loop(reap, NULL) == 0)
		reaper_queued = true;
}

/* Moves the call to the dead list: its dialogs and channel are released
 * once the callbacks that may still hold them have returned. */
static void call_bury(struct sbc_call *call)
{
	for (struct sbc_call **pp = &calls; *pp; pp = &(*pp)->next)
		if (*pp == call) {
			*pp = call->next;
			ncalls--;
			sbc_peer_release(call->peer);
			break;
		}
	call->next = dead;
	dead = call;
	reap_soon();
}

/* End both sides (BYE, CANCEL, or `status` to an unanswered caller). */
static void call_hangup(struct sbc_call *call, int status, const char *why)
{
	if (call->state == CALL_ENDING)
		return;
	tnd_info("call %u: %s", call->id, why);
	call->state = CALL_ENDING;
	if (call->pending) {
		sbc_sip->reply(call->pending, 487, NULL, NULL, NULL, NULL, 0);
		sbc_sip->release(call->pending);
		call->pending = NULL;
	}
	if (call->dlg[call->caller] && status >= 300)
		sbc_sip->dialog_reply(call->dlg[call->caller], status, NULL,
				      call->warning[0] ? call->warning : NULL,
				      NULL, NULL, 0, 0);
	for (unsigned s = 0; s < 2; s++)
		if (call->dlg[s])
			sbc_sip->dialog_end(call->dlg[s]);
	if (call->chan && call->media_started &&
	    sbc_media->chan_stop(call->chan) < 0)
		call->media_stopped = true; /* no event will come */
	call_bury(call);
}

/* ---- Media -------------------------------------------------------------- */

static struct sbc_call *dead_by_id(unsigned id)
{
	for (struct sbc_call *c = dead; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

/* Tampered or replayed SRTP of the access side: an attack or a broken
 * peer; the log says so once per call, with the counts. */
static void srtp_report(unsigned id, const struct media_leg_stats *a)
{
	if (a && a->srtp && (a->srtp_auth_fail || a->srtp_replay))
		tnd_notice("call %u: access side %s refused %llu packets "
			   "(authentication) and %llu (replay)",
			   id, a->srtp, (unsigned long long)a->srtp_auth_fail,
			   (unsigned long long)a->srtp_replay);
}

static void media_stopped(unsigned id, const struct media_event *ev)
{
	struct sbc_call *call = call_by_id(id);

	if (!call)
		call = dead_by_id(id);
	for (unsigned leg = 0; leg < 2; leg++)
		if (ev->stats[leg])
			sbc_host->counter_add(sbc_count.relayed,
					      ev->stats[leg]->packets_tx);
	srtp_report(id, ev->stats[SIDE_ACCESS]);
	if (call) {
		call->media_stopped = true;
		reap_soon();
	}
}

static void on_media_event(struct media_chan *ch, const struct media_event *ev,
			   void *arg)
{
	struct sbc_call *call = call_by_id((unsigned)(uintptr_t)arg);

	(void)ch;
	if (ev->type == MEDIA_EV_STOPPED) {
		media_stopped((unsigned)(uintptr_t)arg, ev);
		return;
	}
	if (!call)
		return;
	if (ev->type == MEDIA_EV_LATCHED)
		tnd_debug("call %u: %s media latched to %s:%u", call->id,
			  side_name(ev->leg), ev->addr, ev->port);
	if (ev->type == MEDIA_EV_RTP_TIMEOUT) {
		sbc_host->counter_add(sbc_count.media_timeouts, 1);
		call_hangup(call, 408, ev->leg == SIDE_ACCESS ?
				       "no RTP from the access side, ending" :
				       "no RTP from the core side, ending");
	}
}

/* [sbc] access_srtp: the media security asked of the access side. */
enum access_policy {
	POLICY_OPTIONAL, /* mirror the offer; our offers are plain */
	POLICY_OFF,	 /* plain RTP only */
	POLICY_SDES,	 /* SRTP required; our offers carry a=crypto */
	POLICY_DTLS,	 /* SRTP required; our offers are DTLS-SRTP */
};

static enum access_policy access_policy(void)
{
	const char *p = sbc_cfg->access_srtp;

	if (!p || !strcmp(p, "optional"))
		return POLICY_OPTIONAL;
	if (!strcmp(p, "off"))
		return POLICY_OFF;
	return !strcmp(p, "dtls") ? POLICY_DTLS : POLICY_SDES;
}

/* Leg A (access) does DTLS-SRTP or SDES/plain RTP: the media service
 * fixes that when the channel is made. */
static int media_open_as(struct sbc_call *call, bool dtls)
{
	char label[32];
	struct media_chan_config mc = {
		.size = sizeof(mc),
		.label = label,
		.on_event = on_media_event,
		.arg = (void *)(uintptr_t)call->id,
	};

	snprintf(label, sizeof(label), "sbc%u", call->id);
	mc.leg[SIDE_ACCESS].type = MEDIA_LEG_RTP;
	mc.leg[SIDE_ACCESS].srtp = access_policy() == POLICY_SDES;
	mc.leg[SIDE_ACCESS].dtls = dtls;
	mc.leg[SIDE_CORE].type = MEDIA_LEG_RTP;
	return sbc_media->chan_new(&mc, &call->chan);
}

static int media_open(struct sbc_call *call)
{
	return media_open_as(call, access_policy() == POLICY_DTLS);
}

static bool access_leg_dtls(struct sbc_call *call)
{
	struct media_rtp_local loc = { .size = sizeof(loc) };

	return sbc_media->rtp_local(call->chan, SIDE_ACCESS, &loc) == 0 &&
	       loc.fingerprint[0];
}

/* The peer's c= address as the media sockets reach it: an IPv4 peer of
 * a media service bound to IPv6 ("::", both families) as ::ffff:a.b.c.d
 * (RFC 4291 2.5.5.2), so that one side may be IPv4 and the other IPv6. */
static const char *media_peer_addr(struct sbc_call *call, unsigned leg,
				   char *buf, size_t size)
{
	const char *addr = call->sdp[leg].address;
	struct media_rtp_local loc = { .size = sizeof(loc) };

	if (!addr[0])
		return NULL; /* unknown: latch */
	if (strchr(addr, ':') ||
	    sbc_media->rtp_local(call->chan, leg, &loc) < 0 || !loc.ipv6)
		return addr;
	snprintf(buf, size, "::ffff:%s", addr);
	return buf;
}

/* Both sides have described the stream, each hop's codec is known
 * (sdp_cross): the legs get their peer's address, codec and keys. */
static int media_apply(struct sbc_call *call)
{
	char mapped[MEDIA_ADDR_MAX + 8];
	int rc;

	for (unsigned leg = 0; leg < 2; leg++) {
		const struct sbc_sdp *peer = &call->sdp[leg];
		struct media_rtp_remote r = {
			.size = sizeof(r),
			.addr = media_peer_addr(call, leg, mapped,
						sizeof(mapped)),
			.port = peer->port,
			.codec = peer->codec,
			.clock_hz = peer->clock_hz,
			.pt = peer->pt,
			.dtmf_pt = peer->dtmf_pt,
			/* what we said on this leg is the other side's word */
			.dir = (enum media_dir)call->sdp[other(leg)].dir,
		};

		if (!peer->port || !peer->codec[0])
			continue; /* a disabled stream: nothing to send */
		if (peer->sec == SBC_SEC_SDES && peer->crypto_pick >= 0)
			r.crypto = peer->crypto[peer->crypto_pick];
		if (peer->sec == SBC_SEC_DTLS) {
			r.fingerprint = peer->fingerprint;
			r.setup = peer->setup;
		}
		rc = sbc_media->rtp_set_remote(call->chan, leg, &r);
		if (rc < 0) {
			tnd_notice("call %u: media leg %s refused %s: %d",
				   call->id, side_name(leg), peer->codec, rc);
			return rc;
		}
	}
	if (!call->media_started) {
		rc = sbc_media->chan_start(call->chan);
		if (rc < 0)
			return rc;
		call->media_started = true;
	}
	return 0;
}

/* A description we do not take: 488 with this Warning (RFC 3261 20.43). */
static int refuse_media(struct sbc_call *call, unsigned side, int code,
			const char *why)
{
	snprintf(call->warning, sizeof(call->warning),
		 "Warning: %d tandem-sbc \"%s\"\r\n", code, why);
	tnd_info("call %u: SDP of the %s side refused: %s", call->id,
		 side_name(side), why);
	return -EPROTONOSUPPORT;
}

/* The first a=crypto line of `sdp` whose suite the media service has
 * (RFC 4568 7.1.2: the answerer takes one it supports). */
static int pick_crypto(struct sbc_call *call, struct sbc_sdp *sdp)
{
	char line[MEDIA_CRYPTO_LINE_MAX];

	for (unsigned i = 0; i < sdp->ncrypto; i++)
		if (sbc_media->crypto_answer(call->chan, SIDE_ACCESS,
					     sdp->crypto[i], line,
					     sizeof(line)) == 0) {
			sdp->crypto_pick = (int)i;
			return 0;
		}
	return refuse_media(call, SIDE_ACCESS, 306,
			    "no a=crypto suite we support");
}

/* An access description under [sbc] access_srtp. Leg A is remade for
 * the first offer when it must speak DTLS and does not, or the reverse. */
static int access_sec_check(struct sbc_call *call, struct sbc_sdp *sdp,
			    bool answer)
{
	enum access_policy pol = access_policy();
	bool dtls = sdp->sec == SBC_SEC_DTLS;

	if (sdp->sec == SBC_SEC_PLAIN &&
	    (pol == POLICY_SDES || pol == POLICY_DTLS))
		return refuse_media(
			call, SIDE_ACCESS, 302,
			"SRTP required (RTP/SAVP or UDP/TLS/RTP/SAVP)");
	if (sdp->sec != SBC_SEC_PLAIN && pol == POLICY_OFF)
		return refuse_media(call, SIDE_ACCESS, 302,
				    "SRTP is off here: RTP/AVP only");
	if (dtls != access_leg_dtls(call)) {
		if (answer || call->media_started)
			return refuse_media(call, SIDE_ACCESS, 302,
					    "the media security cannot change");
		sbc_media->chan_free(call->chan);
		call->chan = NULL;
		if (media_open_as(call, dtls) < 0)
			return -EIO;
	}
	return sdp->sec == SBC_SEC_SDES ? pick_crypto(call, sdp) : 0;
}

/* What our description towards a side carries (sbc_sdp_build). */
struct cross {
	struct sbc_sdp_target t;
	struct sbc_sdp_fmt fmt[SBC_SDP_FORMATS];
	char attrs[MEDIA_CRYPTO_OFFER_MAX * (MEDIA_CRYPTO_LINE_MAX + 2) +
		   MEDIA_FINGERPRINT_MAX + 64];
};

static const struct sbc_sdp_fmt *fmt_named(const struct sbc_sdp *sdp,
					   const char *name, unsigned clock)
{
	for (unsigned i = 0; i < sdp->nfmt; i++)
		if (!strcasecmp(sdp->fmt[i].name, name) &&
		    (!clock || !sdp->fmt[i].clock ||
		     sdp->fmt[i].clock == clock))
			return &sdp->fmt[i];
	return NULL;
}

static bool pt_used(const struct sbc_sdp *sdp, const struct cross *x, int pt)
{
	for (unsigned i = 0; i < sdp->nfmt; i++)
		if (sdp->fmt[i].pt == pt)
			return true;
	for (unsigned i = 0; i < x->t.nfmt; i++)
		if (x->fmt[i].pt == pt)
			return true;
	return false;
}

/* Codec `c` added to `x` (an offer's formats), on its static payload
 * type or a dynamic one neither the offer nor `x` uses. False when there
 * is no room or no payload type left. */
static bool add_format(const struct sbc_sdp *offer, struct cross *x,
		       const struct media_codec_info *c)
{
	struct sbc_sdp_fmt *f = &x->fmt[x->t.nfmt];
	int pt = c->static_pt;

	if (x->t.nfmt >= SBC_SDP_FORMATS ||
	    offer->nfmt + x->t.nfmt >= SBC_SDP_FORMATS)
		return false;
	for (int d = 96; (pt < 0 || pt_used(offer, x, pt)) && d < 128; d++)
		pt = d;
	if (pt_used(offer, x, pt))
		return false;
	*f = (struct sbc_sdp_fmt){ .pt = pt, .pt_in = -1, .clock = c->clock_hz };
	snprintf(f->name, sizeof(f->name), "%s", c->name);
	x->t.nfmt++;
	return true;
}

/* An offer: after the offerer's codecs, the others the media service
 * can transcode them to, so that a side sharing none still answers. */
static void offer_formats(const struct sbc_sdp *offer, struct cross *x)
{
	const struct media_codec_info *c = NULL;

	x->t.fmt = x->fmt;
	if (!sbc_cfg->transcode || !offer->port || !offer->codec[0])
		return;
	while ((c = sbc_media->codec_next(c)))
		if (!fmt_named(offer, c->name, c->clock_hz) &&
		    strcasecmp(c->name, "t38") && !add_format(offer, x, c))
			break;
}

static bool is_dtmf(const struct sbc_sdp_fmt *f)
{
	return !strcasecmp(f->name, "telephone-event");
}

/* The codec the offerer's hop uses: the first of `x` the media service
 * has, and the telephone-event payload type. */
static void hop_codec(struct sbc_sdp *offer, const struct cross *x)
{
	offer->pt = offer->dtmf_pt = -1;
	offer->codec[0] = '\0';
	for (unsigned i = 0; i < x->t.nfmt; i++) {
		const struct sbc_sdp_fmt *f = &x->fmt[i];

		if (is_dtmf(f)) {
			if (offer->dtmf_pt < 0)
				offer->dtmf_pt = f->pt;
		} else if (offer->pt < 0 &&
			   sbc_media->codec_find(f->name, f->clock)) {
			snprintf(offer->codec, sizeof(offer->codec), "%s",
				 f->name);
			offer->clock_hz = f->clock;
			offer->pt = f->pt;
		}
	}
}

static bool relayable_fmt(const struct sbc_sdp_fmt *f)
{
	return !is_dtmf(f) && sbc_media->codec_find(f->name, f->clock);
}

/* `x` says exactly what the answer says (no rewrite of formats needed). */
static bool same_formats(const struct sbc_sdp *ans, const struct cross *x)
{
	if (ans->nfmt != x->t.nfmt)
		return false;
	for (unsigned i = 0; i < x->t.nfmt; i++)
		if (ans->fmt[i].pt != x->fmt[i].pt ||
		    x->fmt[i].pt_in != x->fmt[i].pt)
			return false;
	return true;
}

/*
 * An answer towards the offerer names one codec and telephone-event, in
 * the offerer's payload types (RFC 3264 6.1): the answerer's first codec
 * the offerer offered, so that the offerer sends the one codec its leg
 * takes. When there is none (the answerer took a codec we added), the
 * offerer's first codec: the media service transcodes between the legs.
 */
static void answer_formats(const struct sbc_sdp *ans, struct sbc_sdp *offer,
			   struct cross *x)
{
	struct sbc_sdp_fmt codec = { .pt = -1 }, dtmf = { .pt = -1 };

	x->t.fmt = x->fmt;
	if (!ans->port)
		return;
	for (unsigned i = 0; i < ans->nfmt; i++) {
		const struct sbc_sdp_fmt *o =
			fmt_named(offer, ans->fmt[i].name, ans->fmt[i].clock);

		if (o && is_dtmf(o) && dtmf.pt < 0) {
			dtmf = *o;
			dtmf.pt_in = ans->fmt[i].pt;
		} else if (o && codec.pt < 0 && relayable_fmt(o)) {
			codec = *o;
			codec.pt_in = ans->fmt[i].pt;
		}
	}
	for (unsigned i = 0; codec.pt < 0 && i < offer->nfmt; i++)
		if (relayable_fmt(&offer->fmt[i])) {
			codec = offer->fmt[i];
			codec.pt_in = -1;
		}
	if (codec.pt >= 0)
		x->fmt[x->t.nfmt++] = codec;
	if (dtmf.pt >= 0)
		x->fmt[x->t.nfmt++] = dtmf;
	hop_codec(offer, x);
	x->t.replace = true;
	if (same_formats(ans, x)) {
		x->t.replace = false;
		x->t.nfmt = 0;
	}
}

/* ---- The access peer's codec policy ([sbc-peer] codecs) ---- */

static bool policy_on(const struct sbc_call *call)
{
	return sbc_peer_codec(call->peer, 0) != NULL;
}

/* The codecs of `sdp` the policy allows, in the peer's order of
 * preference, as the whole list of `x` (telephone-event: policy_dtmf). */
static void policy_formats(const struct sbc_call *call,
			   const struct sbc_sdp *sdp, struct cross *x)
{
	const char *name;

	x->t.fmt = x->fmt;
	x->t.replace = true;
	x->t.nfmt = 0;
	for (unsigned r = 0; (name = sbc_peer_codec(call->peer, r)); r++)
		for (unsigned i = 0; i < sdp->nfmt; i++)
			if (!strcasecmp(sdp->fmt[i].name, name) &&
			    x->t.nfmt < SBC_SDP_FORMATS)
				x->fmt[x->t.nfmt++] = sdp->fmt[i];
}

/* ...then the telephone-event formats of `sdp`, which every policy
 * keeps. */
static void policy_dtmf(const struct sbc_sdp *sdp, struct cross *x)
{
	for (unsigned i = 0; i < sdp->nfmt; i++)
		if (is_dtmf(&sdp->fmt[i]) && x->t.nfmt < SBC_SDP_FORMATS)
			x->fmt[x->t.nfmt++] = sdp->fmt[i];
}

/* The peer's own description as the SBC may use it: the formats its
 * policy leaves out are forgotten, so that answers to it and the codec
 * of its hop come from the others. False when no codec is left. */
static bool policy_keep(const struct sbc_call *call, struct sbc_sdp *sdp)
{
	struct cross x;

	policy_formats(call, sdp, &x);
	policy_dtmf(sdp, &x);
	memcpy(sdp->fmt, x.fmt, x.t.nfmt * sizeof(x.fmt[0]));
	sdp->nfmt = x.t.nfmt;
	hop_codec(sdp, &x);
	return sdp->codec[0] != '\0';
}

/*
 * An offer crossing to or from a peer with a codec policy. From the peer
 * (its description already kept to the policy): its codecs, then those
 * the core may get by transcoding, as any offer. To the peer: the
 * offerer's codecs the policy allows, in the peer's order (what needs
 * no transcoding first), then with [sbc] transcode the peer's other
 * codecs, then telephone-event. False when the peer would be offered no
 * codec.
 */
static bool policy_offer(const struct sbc_call *call, unsigned side,
			 struct cross *x)
{
	const struct sbc_sdp *offer = &call->sdp[side];
	const char *name;

	policy_formats(call, offer, x);
	if (side == SIDE_ACCESS) {
		policy_dtmf(offer, x);
		offer_formats(offer, x);
		return true;
	}
	for (unsigned r = 0; sbc_cfg->transcode && offer->port &&
			     offer->codec[0] &&
			     (name = sbc_peer_codec(call->peer, r));
	     r++) {
		const struct media_codec_info *c = sbc_media->codec_find(name, 0);

		if (c && !fmt_named(offer, c->name, c->clock_hz) &&
		    !add_format(offer, x, c))
			break;
	}
	policy_dtmf(offer, x);
	for (unsigned i = 0; i < x->t.nfmt; i++)
		if (relayable_fmt(&x->fmt[i]))
			return true;
	return !offer->port;
}

static const char *setup_answer(enum media_setup peer)
{
	/* RFC 5763 5: the answerer to actpass is active (media.h) */
	return peer == MEDIA_SETUP_ACTIVE ? "passive" : "active";
}

/* Our a=crypto towards the access side: the answer to the line we took,
 * or, offering again on a hop that has keys, the same key and tag. */
static int sdes_attrs(struct sbc_call *call, const struct sbc_sdp *acc,
		      const struct media_rtp_local *loc, struct cross *x)
{
	char line[MEDIA_CRYPTO_LINE_MAX];
	size_t n = 0;

	if (acc->valid && acc->crypto_pick >= 0) {
		if (sbc_media->crypto_answer(call->chan, SIDE_ACCESS,
					     acc->crypto[acc->crypto_pick],
					     line, sizeof(line)) < 0)
			return -EIO;
		snprintf(x->attrs, sizeof(x->attrs), "%s\r\n", line);
		return 0;
	}
	x->attrs[0] = '\0';
	for (unsigned i = 0; i < loc->ncrypto && n < sizeof(x->attrs); i++)
		n += (size_t)snprintf(x->attrs + n, sizeof(x->attrs) - n,
				      "%s\r\n", loc->crypto[i]);
	return loc->ncrypto ? 0 : -EIO;
}

/* Proto and security lines of our description towards the access side:
 * as its offer did (an answer), as the hop does (a new offer on a call),
 * or as the policy says (the first offer of a call from the core). */
static int access_security(struct sbc_call *call, bool answer,
			   const struct media_rtp_local *loc, struct cross *x)
{
	const struct sbc_sdp *acc = &call->sdp[SIDE_ACCESS];
	enum access_policy pol = access_policy();
	enum sbc_sec sec = acc->valid		? acc->sec
			   : pol == POLICY_SDES ? SBC_SEC_SDES
			   : pol == POLICY_DTLS ? SBC_SEC_DTLS
						: SBC_SEC_PLAIN;

	x->t.attrs = x->attrs;
	switch (sec) {
	case SBC_SEC_SDES:
		x->t.proto = acc->valid ? acc->proto : "RTP/SAVP";
		return sdes_attrs(call, acc, loc, x);
	case SBC_SEC_DTLS:
		x->t.proto = acc->valid ? acc->proto : "UDP/TLS/RTP/SAVP";
		snprintf(x->attrs, sizeof(x->attrs),
			 "a=fingerprint:%s\r\na=setup:%s\r\n", loc->fingerprint,
			 answer ? setup_answer(acc->setup) : loc->setup);
		return loc->fingerprint[0] ? 0 : -EIO;
	default: /* the core's plain RTP/AVP as it is */
		x->t.attrs = NULL;
		return 0;
	}
}

/* The SDP's body, read; a Warning names what makes it unusable. */
static int sdp_take(struct sbc_call *call, unsigned side,
		    const struct sip_message *msg, struct sip_text body,
		    struct sbc_sdp *sdp)
{
	if (!header_has(msg, "Content-Type", "application/sdp"))
		return refuse_media(call, side, 399, "not application/sdp");
	if (sbc_sdp_read(body.ptr, body.len, sdp) == 0)
		return 0;
	if (sbc_sdp_read_security(body.ptr, body.len, sdp) == -EBADMSG)
		return refuse_media(call, side, 306,
				    "SRTP without a=crypto or a=fingerprint");
	return refuse_media(call, side, 305, "no audio codec we can relay");
}

/*
 * The SDP of `msg` from `side`, remembered and rewritten for the other
 * side into `out`: the access side's media security (SDES, DTLS-SRTP or
 * none, [sbc] access_srtp) ends at leg A, the core side is plain RTP;
 * offers gain the codecs we can transcode to, answers keep only what the
 * offerer offered. Returns its length, 0 when the message has none, or
 * -EPROTONOSUPPORT (not SDP, security refused, no codec we can relay:
 * call->warning says why).
 */
static int sdp_cross(struct sbc_call *call, unsigned side,
		     const struct sip_message *msg, bool answer, char *out,
		     size_t size)
{
	struct sip_text body = sbc_sip->body(msg);
	struct media_rtp_local loc = { .size = sizeof(loc) };
	unsigned to = other(side);
	struct cross x = { .t.fmt = NULL };
	struct sbc_sdp sdp;
	int rc;

	call->warning[0] = '\0';
	if (!body.len)
		return 0;
	rc = sdp_take(call, side, msg, body, &sdp);
	if (rc == 0 && side == SIDE_ACCESS)
		rc = access_sec_check(call, &sdp, answer);
	else if (rc == 0 && sdp.sec != SBC_SEC_PLAIN)
		rc = refuse_media(call, side, 302,
				  "the core side is plain RTP/AVP");
	if (rc < 0)
		return rc;
	call->sdp[side] = sdp;
	if (side == SIDE_ACCESS && policy_on(call) && sdp.port &&
	    !policy_keep(call, &call->sdp[side]))
		return refuse_media(call, side, 305,
				    "no codec the peer's policy allows");
	if (sbc_media->rtp_local(call->chan, to, &loc) < 0)
		return -EIO;
	x.t.addr = to == SIDE_ACCESS ? sbc_cfg->access_media_address
				     : sbc_cfg->core_media_address;
	if (!x.t.addr || !x.t.addr[0])
		x.t.addr = loc.addr;
	x.t.port = loc.port;
	if (answer)
		answer_formats(&call->sdp[side], &call->sdp[to], &x);
	else if (!policy_on(call))
		offer_formats(&call->sdp[side], &x);
	else if (!policy_offer(call, side, &x))
		return refuse_media(call, side, 305,
				    "no codec the peer's policy allows");
	if (to == SIDE_ACCESS && access_security(call, answer, &loc, &x) < 0)
		return -EIO;
	if (to == SIDE_CORE && sdp.sec != SBC_SEC_PLAIN)
		x.t.proto = sdp.proto[strlen(sdp.proto) - 1] == 'F' ? "RTP/AVPF"
								    : "RTP/AVP";
	rc = sbc_sdp_build(body.ptr, body.len, &x.t, out, size);
	if (rc >= 0 && answer && media_apply(call) < 0)
		return refuse_media(call, side, 305,
				    "the media service refused the codecs");
	return rc;
}

int sbc_sdp_offer_access(struct sbc_call *call, const struct sip_message *m,
			 char *out, size_t size)
{
	return sdp_cross(call, SIDE_CORE, m, false, out, size);
}

/* ---- Late offer (RFC 3261 13.2.1, RFC 3264) ----------------------------- */

/* "m=audio PORT RTP/AVP PT..." and its rtpmaps: every codec the media
 * service has, then telephone-event. */
static int late_formats(char *pts, size_t pts_size, char *maps,
			size_t maps_size)
{
	const struct media_codec_info *c = NULL;
	size_t np = 0, nm = 0;
	int dyn = 96, n;

	pts[0] = maps[0] = '\0';
	while ((c = sbc_media->codec_next(c))) {
		int pt;

		if (!strcasecmp(c->name, "t38") ||
		    !strcasecmp(c->name, "telephone-event"))
			continue;
		pt = c->static_pt >= 0 ? c->static_pt : dyn++;
		n = snprintf(pts + np, pts_size - np, " %d", pt);
		if (n < 0 || (size_t)n >= pts_size - np)
			return -ENOSPC;
		np += (size_t)n;
		n = snprintf(maps + nm, maps_size - nm, "a=rtpmap:%d %s/%u\r\n",
			     pt, c->name, c->clock_hz);
		if (n < 0 || (size_t)n >= maps_size - nm)
			return -ENOSPC;
		nm += (size_t)n;
	}
	return np ? dyn : -ENOENT; /* the telephone-event payload type */
}

/* An INVITE without SDP: our own offer towards the core, leg B's address
 * and port, the media service's codecs and telephone-event. */
static int late_offer_core(struct sbc_call *call, char *out, size_t size)
{
	struct media_rtp_local loc = { .size = sizeof(loc) };
	char pts[256], maps[1024];
	const char *addr = sbc_cfg->core_media_address, *ipv;
	int dtmf, n;

	if (sbc_media->rtp_local(call->chan, SIDE_CORE, &loc) < 0)
		return -EIO;
	if (!addr || !addr[0])
		addr = loc.addr;
	ipv = strchr(addr, ':') ? "IP6" : "IP4";
	dtmf = late_formats(pts, sizeof(pts), maps, sizeof(maps));
	if (dtmf < 0)
		return dtmf;
	n = snprintf(out, size,
		     "v=0\r\no=sbc %u 1 IN %s %s\r\ns=-\r\nc=IN %s %s\r\n"
		     "t=0 0\r\nm=audio %u RTP/AVP%s %d\r\n%s"
		     "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n"
		     "a=sendrecv\r\n",
		     call->id, ipv, addr, ipv, addr, loc.port, pts, dtmf, maps,
		     dtmf, dtmf);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/* The core's SDP (an answer to our offer, in a 18x or the 200) as our
 * offer to the caller: leg A's port, the core's codec first, then those
 * we can transcode to (sdp_cross of an offer). Kept for the 200. */
static int late_offer_keep(struct sbc_call *call,
			   const struct sip_message *msg)
{
	char sdp[SBC_SDP_MAX];
	int len = sdp_cross(call, SIDE_CORE, msg, false, sdp, sizeof(sdp));

	if (len <= 0)
		return len;
	free(call->late_offer);
	call->late_offer = strdup(sdp);
	return call->late_offer ? len : -ENOMEM;
}

/* Late offer: 1xx reach the caller without SDP; the 200 carries our
 * offer, its answer comes in the ACK (late_answer). */
static void relay_late(struct sbc_call *call, int status,
		       const struct sip_message *msg)
{
	const char *body;
	unsigned flags = 0;
	char *extra;
	int rc;

	if (late_offer_keep(call, msg) < 0) {
		call_hangup(call, 488, "late offer: the core's SDP cannot be "
				       "anchored");
		return;
	}
	body = status >= 200 ? call->late_offer : NULL;
	if (status >= 200 && !body) {
		call_hangup(call, 500, "late offer: the core answered without "
				       "SDP");
		return;
	}
	extra = sbc_norm_relay(call->peer, SIDE_CORE, msg, &flags);
	rc = sbc_sip->dialog_reply(call->dlg[SIDE_ACCESS], status, NULL, extra,
				   body ? "application/sdp" : NULL, body,
				   body ? strlen(body) : 0, 0);
	free(extra);
	if (rc < 0) {
		call_hangup(call, 0, "the caller has gone (cancelled)");
		return;
	}
	if (status < 200) {
		call->state = CALL_EARLY;
		return;
	}
	call->state = CALL_CONFIRMED;
	call->late_ack = true;
	tnd_info("call %u: answered, our offer in the 200 (late offer)",
		 call->id);
}

/* The caller's ACK to the 200 that carried our offer: its answer keys
 * leg A (and fixes leg B's codec). RFC 3264 leaves an offer without a
 * usable answer to the offerer: we end the call. */
static void late_answer(struct sbc_call *call, const struct sip_message *ack)
{
	char sdp[SBC_SDP_MAX];

	call->late_ack = false;
	if (!ack || !sbc_sip->body(ack).len) {
		tnd_notice("call %u: late offer: the caller's ACK carries no "
			   "SDP answer", call->id);
		call_hangup(call, 0, "no answer to our offer, ending both sides");
		return;
	}
	if (sdp_cross(call, SIDE_ACCESS, ack, true, sdp, sizeof(sdp)) < 0) {
		tnd_notice("call %u: late offer: the caller's answer in the "
			   "ACK is unusable", call->id);
		call_hangup(call, 0, "unusable answer to our offer, ending "
				     "both sides");
		return;
	}
	tnd_info("call %u: the caller answered in the ACK (late offer)",
		 call->id);
}

/* ---- The core leg: responses to our INVITE ------------------------------ */

static void relay_response(struct sbc_call *call, int status,
			   const struct sip_message *msg)
{
	char sdp[SBC_SDP_MAX], *extra;
	unsigned flags = 0;
	int len, rc;

	if (call->late) {
		relay_late(call, status, msg);
		return;
	}
	len = sdp_cross(call, SIDE_CORE, msg, true, sdp, sizeof(sdp));
	if (len < 0) {
		call_hangup(call, 488, "the core's answer cannot be anchored");
		return;
	}
	if (status < 200 && header_has(msg, "Require", "100rel"))
		flags = SIP_REPLY_RELIABLE; /* RFC 3262: as the core sent it */
	/* the peer's rules: headers it may see, 100rel it accepts */
	extra = sbc_norm_relay(call->peer, SIDE_CORE, msg, &flags);
	rc = sbc_sip->dialog_reply(call->dlg[SIDE_ACCESS], status, NULL, extra,
				   len > 0 ? "application/sdp" : NULL, sdp,
				   (size_t)len, flags);
	if (rc == -EAGAIN) /* a reliable one still unacknowledged */
		rc = sbc_sip->dialog_reply(call->dlg[SIDE_ACCESS], status, NULL,
					   extra, len > 0 ? "application/sdp" :
					   NULL, sdp, (size_t)len, 0);
	free(extra);
	if (rc < 0) {
		call_hangup(call, 0, "the caller has gone (cancelled)");
		return;
	}
	if (status >= 200) {
		call->state = CALL_CONFIRMED;
		tnd_info("call %u: answered", call->id);
	} else {
		call->state = CALL_EARLY;
	}
}

static void core_ended(struct sbc_call *call, int status)
{
	char why[64];

	if (call->state == CALL_CONFIRMED) {
		call_hangup(call, 0, status == 200 ? "ended by the core side" :
				     "the core side's dialog ended");
		return;
	}
	sbc_host->counter_add(sbc_count.failed, 1);
	snprintf(why, sizeof(why), "the core side answered %d", status);
	call_hangup(call, status >= 300 ? status : status ? 408 : 500, why);
}

static void on_core_state(struct sip_dialog *d, enum sip_dialog_state state,
			  int status, const struct sip_message *msg, void *arg)
{
	struct sbc_call *call = arg;

	(void)d;
	if (state == SIP_DIALOG_ENDED)
		call->dlg_ended[SIDE_CORE] = true;
	if (call->state == CALL_ENDING) {
		if (state == SIP_DIALOG_ENDED)
			reap_soon();
		return;
	}
	if (state == SIP_DIALOG_ENDED)
		core_ended(call, status);
	else if (msg)
		relay_response(call, status, msg);
}

/* ---- The access leg ----------------------------------------------------- */

static void on_access_state(struct sip_dialog *d, enum sip_dialog_state state,
			    int status, const struct sip_message *msg,
			    void *arg)
{
	struct sbc_call *call = arg;

	(void)d;
	if (state == SIP_DIALOG_CONFIRMED && call->late_ack &&
	    call->state == CALL_CONFIRMED) {
		late_answer(call, msg);
		return;
	}
	if (state != SIP_DIALOG_ENDED)
		return;
	call->dlg_ended[SIDE_ACCESS] = true;
	if (call->state == CALL_ENDING) {
		reap_soon();
		return;
	}
	call_hangup(call, 0, status == 200 ? "ended by the access side" :
			     status == 487 ? "cancelled by the caller" :
			     "the access side's dialog ended");
}

/* ---- Requests inside the call, relayed to the other side ---------------- */

/* Our offer of the media as it is on `side`'s leg: its address and port,
 * the codec and telephone-event that leg uses, in its payload types. */
static int current_offer(struct sbc_call *call, unsigned side, char *out,
			 size_t size)
{
	const struct sbc_sdp *s = &call->sdp[side];
	struct media_rtp_local loc = { .size = sizeof(loc) };
	const char *addr = side == SIDE_ACCESS ? sbc_cfg->access_media_address
					       : sbc_cfg->core_media_address;
	const char *ipv;
	char dtmf[96] = "", dtmf_fmt[16] = "";
	int n;

	if (!s->valid || !s->codec[0] || s->pt < 0 ||
	    sbc_media->rtp_local(call->chan, side, &loc) < 0)
		return -ENOENT;
	if (!addr || !addr[0])
		addr = loc.addr;
	ipv = strchr(addr, ':') ? "IP6" : "IP4";
	if (s->dtmf_pt >= 0) {
		snprintf(dtmf_fmt, sizeof(dtmf_fmt), " %d", s->dtmf_pt);
		snprintf(dtmf, sizeof(dtmf),
			 "a=rtpmap:%d telephone-event/8000\r\n", s->dtmf_pt);
	}
	n = snprintf(out, size,
		     "v=0\r\no=sbc %u %u IN %s %s\r\ns=-\r\nc=IN %s %s\r\n"
		     "t=0 0\r\nm=audio %u RTP/AVP %d%s\r\n"
		     "a=rtpmap:%d %s/%u\r\n%sa=sendrecv\r\n",
		     call->id, (unsigned)sbc_host->now_ms(), ipv, addr, ipv, addr,
		     loc.port, s->pt, dtmf_fmt, s->pt, s->codec, s->clock_hz,
		     dtmf);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

/*
 * A re-INVITE without SDP (RFC 3261 14.2: the 2xx must offer, the ACK
 * answers) is answered here, not relayed: our offer is the media as it
 * is on the requester's leg (plain RTP), so that nothing changes on the
 * other side. The sip service keeps the ACK of a re-INVITE to itself, so
 * the answer is not read: the leg keeps its codec and latches to where
 * the RTP comes from.
 */
static bool reinvite_without_offer(struct sbc_call *call, unsigned side,
				   struct sip_request *req)
{
	const struct sip_message *m = sbc_sip->request_message(req);
	struct sip_text method = sbc_sip->method(m), ruri;
	char sdp[SBC_SDP_MAX], contact[300];
	int len;

	if (method.len != 6 || strncmp(method.ptr, "INVITE", 6) ||
	    sbc_sip->body(m).len || call->state != CALL_CONFIRMED ||
	    call->pending)
		return false;
	if (call->sdp[side].sec != SBC_SEC_PLAIN) {
		sbc_sip->reply(req, 488, NULL,
			       "Warning: 302 tandem-sbc \"an SRTP leg needs "
			       "an offer in the re-INVITE\"\r\n",
			       NULL, NULL, 0);
		return true;
	}
	len = current_offer(call, side, sdp, sizeof(sdp));
	if (len < 0) {
		sbc_sip->reply(req, 500, NULL, NULL, NULL, NULL, 0);
		return true;
	}
	ruri = sbc_sip->request_uri(m);
	snprintf(contact, sizeof(contact), "Contact: <%.*s>\r\n",
		 (int)ruri.len, ruri.ptr);
	sbc_sip->reply(req, 200, NULL, contact, "application/sdp", sdp,
		       (size_t)len);
	tnd_info("call %u: re-INVITE without SDP from the %s side answered "
		 "with the current media", call->id, side_name(side));
	return true;
}

static void on_relayed(struct sip_client *c, int status,
		       const struct sip_message *rsp, void *arg)
{
	struct sbc_call *call = call_by_id((unsigned)(uintptr_t)arg);
	struct sip_request *req;
	char sdp[SBC_SDP_MAX], contact[300];
	struct sip_text ruri;
	int len = 0;

	(void)c;
	if (!call || !call->pending || status < 200)
		return;
	req = call->pending;
	call->pending = NULL;
	if (rsp && status < 300) {
		len = sdp_cross(call, other(call->pending_side), rsp, true,
				sdp, sizeof(sdp));
		if (len < 0) {
			status = 488;
			len = 0;
		}
	}
	/* RFC 3261 12.1.1: a 2xx to a target refresh carries our Contact,
	 * the one the peer reached us at */
	ruri = sbc_sip->request_uri(sbc_sip->request_message(req));
	snprintf(contact, sizeof(contact), "Contact: <%.*s>\r\n",
		 (int)ruri.len, ruri.ptr);
	sbc_sip->reply(req, status, NULL, status < 300 ? contact : NULL,
		       len > 0 ? "application/sdp" : NULL, sdp, (size_t)len);
	sbc_sip->release(req);
}

static enum sip_verdict relay_request(struct sbc_call *call, unsigned side,
				      struct sip_request *req)
{
	const struct sip_message *m = sbc_sip->request_message(req);
	struct sip_text method = sbc_sip->method(m), body;
	/* the peer's rules: a refresh stays on its leg, UPDATE may become
	 * a re-INVITE for a peer without it */
	enum sbc_norm_adapt adapt = sbc_norm_adapt(
		call->peer, side, m, call->state == CALL_CONFIRMED);
	char *meth = adapt == SBC_NORM_REINVITE ? strdup("INVITE") :
						  text_dup(method);
	char *ctype = NULL, *extra;
	char sdp[SBC_SDP_MAX];
	const void *out = NULL;
	size_t out_len = 0;
	int len, rc;

	if (adapt == SBC_NORM_LOCAL) { /* the sip service answers it */
		free(meth);
		return SIP_DECLINED;
	}
	if (reinvite_without_offer(call, side, req)) {
		free(meth);
		return SIP_TAKEN;
	}
	if (!meth)
		return SIP_DECLINED;
	if (call->pending || call->state == CALL_ENDING) {
		sbc_sip->reply(req, 491, NULL, NULL, NULL, NULL, 0);
		free(meth);
		return SIP_TAKEN;
	}
	len = sdp_cross(call, side, m, false, sdp, sizeof(sdp));
	if (len < 0) {
		sbc_sip->reply(req, 488, NULL,
			       call->warning[0] ? call->warning : NULL, NULL,
			       NULL, 0);
		free(meth);
		return SIP_TAKEN;
	}
	body = sbc_sip->body(m);
	if (len > 0) {
		ctype = strdup("application/sdp");
		out = sdp;
		out_len = (size_t)len;
	} else if (body.len) { /* INFO dtmf-relay and the like */
		struct sip_text ct;

		if (sbc_sip->header(m, "Content-Type", 0, &ct) == 0)
			ctype = text_dup(ct);
		out = body.ptr;
		out_len = body.len;
	}
	extra = sbc_norm_relay(call->peer, side, m, NULL); /* rules' headers */
	rc = sbc_sip->dialog_request(call->dlg[other(side)], meth, extra, ctype,
				     out, out_len, on_relayed,
				     (void *)(uintptr_t)call->id);
	free(extra);
	if (rc < 0) {
		sbc_sip->reply(req, 500, NULL, NULL, NULL, NULL, 0);
	} else {
		call->pending = sbc_sip->keep(req);
		call->pending_side = side;
		tnd_info("call %u: %s from the %s side relayed", call->id,
			 meth, side_name(side));
	}
	free(meth);
	free(ctype);
	return SIP_TAKEN;
}

static enum sip_verdict on_access_request(struct sip_dialog *d,
					  struct sip_request *req, void *arg)
{
	(void)d;
	return relay_request(arg, SIDE_ACCESS, req);
}

static enum sip_verdict on_core_request(struct sip_dialog *d,
					struct sip_request *req, void *arg)
{
	(void)d;
	return relay_request(arg, SIDE_CORE, req);
}

static const struct sip_dialog_ops access_ops = {
	.state = on_access_state,
	.request = on_access_request,
};

static const struct sip_dialog_ops core_ops = {
	.state = on_core_state,
	.request = on_core_request,
};

/* ---- A new call --------------------------------------------------------- */

/* The R-URI, From and To keep the caller's user parts (the peer's rules
 * normalise them, E.164 by default towards the core), the hosts are
 * core_domain; the extra headers are what the rules let cross. */
/* Toll fraud: the number the call goes to, as the core will see it
 * (sbc_peer_dest_check). 0, or -EACCES / -EDQUOT with call->warning. */
static int fraud_check(struct sbc_call *call)
{
	char number[128], host[128];
	int rc;

	if (sbc_route_number((struct sip_text){ call->ruri,
						strlen(call->ruri) },
			     number, sizeof(number), host, sizeof(host)) < 0)
		return 0;
	rc = sbc_peer_dest_check(call->peer, number);
	if (rc < 0) {
		snprintf(call->warning, sizeof(call->warning),
			 "Warning: 399 tandem-sbc \"%s\"\r\n",
			 rc == -EACCES ? "destination blocked" :
					 "international call limit");
		tnd_info("call %u from peer %s to %s: %s", call->id,
			 sbc_peer_name(call->peer), number,
			 rc == -EACCES ? "destination blocked" :
					 "over intl_calls_per_min");
	}
	return rc;
}

static int core_invite(struct sbc_call *call, const struct sip_message *m,
		       const char *sdp, size_t sdp_len)
{
	struct sip_request_spec spec = { .size = sizeof(spec) };
	char user[128], fuser[128] = "anonymous", tuser[128];
	char from[SBC_NORM_URI + 2], to[SBC_NORM_URI + 2], callid[64];
	struct sip_text hdr;
	struct sbc_norm_msg nm;
	char *headers;
	int rc;

	memset(&nm, 0, sizeof(nm));
	/* sip, sips and tel URIs: a PBX may call from tel:02079460001 */
	if (sbc_norm_user_of(sbc_sip->request_uri(m), user, sizeof(user)) < 0)
		uri_user(sbc_sip->request_uri(m), user, sizeof(user));
	snprintf(tuser, sizeof(tuser), "%s", user);
	/* the caller's identity crosses, its address does not */
	if (sbc_sip->header(m, "From", 0, &hdr) == 0 &&
	    sbc_norm_user_of(hdr, fuser, sizeof(fuser)) < 0)
		uri_user(hdr, fuser, sizeof(fuser));
	if (sbc_sip->header(m, "To", 0, &hdr) == 0 &&
	    sbc_norm_user_of(hdr, tuser, sizeof(tuser)) < 0)
		snprintf(tuser, sizeof(tuser), "%s", user);
	snprintf(nm.ruri, sizeof(nm.ruri), "sip:%s@%s%s", user,
		 sbc_cfg->core_domain, user_param(user));
	snprintf(nm.from, sizeof(nm.from), "sip:%s@%s%s", fuser,
		 sbc_cfg->core_domain, user_param(fuser));
	snprintf(nm.to, sizeof(nm.to), "sip:%s@%s%s", tuser,
		 sbc_cfg->core_domain, user_param(tuser));
	rc = sbc_norm_cross(sbc_norm_peer_rules(call->peer),
			    SBC_NORM_FROM_PEER, sbc_cfg->core_rules,
			    SBC_NORM_TO_CORE, m, &nm);
	if (rc < 0) {
		tnd_notice("call %u: rules not applied: %d", call->id, rc);
		sbc_norm_msg_free(&nm);
		return rc;
	}
	snprintf(call->ruri, sizeof(call->ruri), "%s", nm.ruri);
	rc = fraud_check(call);
	if (rc < 0) {
		sbc_norm_msg_free(&nm);
		return rc;
	}
	snprintf(from, sizeof(from), "<%s>", nm.from);
	snprintf(to, sizeof(to), "<%s>", nm.to);
	headers = sbc_norm_headers(&nm);
	sbc_norm_msg_free(&nm);
	snprintf(callid, sizeof(callid), "sbc%u-%08x%08x", call->id,
		 (unsigned)random(), (unsigned)random());
	spec.method = "INVITE";
	spec.request_uri = call->ruri;
	spec.from = from;
	spec.to = to;
	spec.call_id = callid;
	spec.headers = headers;
	spec.body_type = "application/sdp";
	spec.body = sdp;
	spec.body_len = sdp_len;
	spec.next_hop = sbc_cfg->core_next_hop;
	spec.forward_of = m; /* RFC 3261 16.6 step 3, as a proxy would */
	rc = sbc_sip->dialog_invite(&spec, &core_ops, call,
				    &call->dlg[SIDE_CORE]);
	free(headers);
	return rc;
}

static struct sbc_call *call_new(const char *src, struct sbc_peer *peer)
{
	struct sbc_call *call = calloc(1, sizeof(*call));

	if (!call)
		return NULL;
	call->id = ++next_call_id;
	call->started_ms = sbc_host->now_ms();
	snprintf(call->src, sizeof(call->src), "%s", src);
	call->peer = peer;
	call->next = calls;
	calls = call;
	ncalls++;
	return call;
}

/* The sip service 1.1 reads Max-Forwards (older ones ignore forward_of). */
static bool sip_has_max_forwards(void)
{
	return sbc_sip->size >= offsetof(struct sip_service, max_forwards) +
				       sizeof(sbc_sip->max_forwards);
}

/* Refuse before any dialog exists: the request is still ours. */
static enum sip_verdict refuse(struct sip_request *req, int status,
			       const char *reason, const char *headers)
{
	sbc_sip->reply(req, status, reason, headers, NULL, NULL, 0);
	return SIP_TAKEN;
}

/* The part of a new call that may fail after the dialog exists. */
static int call_setup(struct sbc_call *call, const struct sip_message *m)
{
	char sdp[SBC_SDP_MAX];
	int len;

	if (media_open(call) < 0)
		return 503;
	len = sdp_cross(call, SIDE_ACCESS, m, false, sdp, sizeof(sdp));
	if (len == 0 && !sbc_sip->body(m).len) { /* RFC 3261 13.2.1 */
		len = late_offer_core(call, sdp, sizeof(sdp));
		call->late = len > 0;
	}
	if (len <= 0) /* not an offer we can take */
		return 488;
	len = core_invite(call, m, sdp, (size_t)len);
	if (len == -EACCES || len == -EDQUOT)
		return 403; /* toll fraud (fraud_check) */
	return len < 0 ? 503 : 0;
}

/* RFC 3261 22.3: a peer with credentials proves it; false when the
 * request was answered (407, or 403 counted as an offence). */
static bool peer_authenticated(struct sip_request *req, struct sbc_peer *peer,
			       const char *src)
{
	const struct sip_message *m = sbc_sip->request_message(req);
	const char *user, *password;
	char hdr[256];
	int rc;

	if (!sbc_peer_auth(peer, &user, &password))
		return true;
	rc = sbc_auth_check(m, user, password);
	if (rc == 0)
		return true;
	if (rc == -EACCES || rc == -ESTALE) {
		sbc_auth_challenge(hdr, sizeof(hdr), rc == -ESTALE);
		refuse(req, 407, NULL, hdr);
		return false;
	}
	sbc_host->counter_add(sbc_count.refused, 1);
	sbc_guard_offence(src, "digest failure");
	tnd_info("INVITE from %s: wrong credentials for peer %s, 403", src,
		 sbc_peer_name(peer));
	refuse(req, 403, "Wrong Credentials", NULL);
	return false;
}

/* ---- Calls from the core to the access side ----------------------------- */

/*
 * The mirror of an access call: the core's INVITE is the UAS dialog
 * (dlg[SIDE_CORE], call->caller = SIDE_CORE), the INVITE to the peer the
 * UAC one (dlg[SIDE_ACCESS]); the media channel and the in-dialog relay
 * are the same. The peer's destinations are tried in order: one that
 * fails before any provisional response (408, 503, no response, nothing
 * within failover_s) gives way to the next live one; a 401 / 407 is
 * answered once with the peer's out_user credentials.
 */

/*
 * One INVITE to a peer's destination: the arg of its dialog, so that an
 * attempt given up (failover) outlives its call safely: it is ended
 * (CANCEL, or BYE should it still answer 2xx) and released on its own.
 */
struct peer_leg {
	struct peer_leg *next; /* in `spent` once given up */
	unsigned call_id;
	struct sip_dialog *d;
	bool spent;
};

struct sbc_out {
	struct peer_leg *leg; /* the current attempt */
	char hop[96];	      /* "udp:HOST:PORT" of this attempt */
	char ruri[256];	      /* the Request-URI towards the peer */
	char user[128];	      /* its user part (a number, mostly) */
	char domain[128];     /* host it was routed by (`domains`), or "" */
	char from[300], to[300];
	char callid[64];
	uint32_t cseq;
	unsigned attempt;     /* sbc_peer_next_hop(peer, attempt) */
	unsigned max_forwards;
	bool auth_sent;	      /* this destination's challenge answered */
	bool device;	      /* to a device registered through us (sbc_reg.c):
			       * ruri is its Contact, hop where it really is */
	uint64_t attempt_ms;  /* when this attempt's INVITE left */
	size_t offer_len;
	char offer[SBC_SDP_MAX]; /* our SDP offer to the access side */
	char *headers;		 /* the rules' extra lines (sbc_norm.c) */
};

static struct tnd_timer *failover_poll;
static struct peer_leg *spent; /* attempts given up, not ended yet */
static const struct sip_dialog_ops out_core_ops, out_access_ops;

/* Called by reap_one() once the call's dialogs are released. */
static void sbc_out_free(struct sbc_out *o)
{
	if (o) {
		free(o->leg);
		free(o->headers);
	}
	free(o);
}

/* A leg whose dialog ended, released once the loop has left the
 * callback that reported its end (the layer still holds it there). */
static void release_leg(void *arg)
{
	struct peer_leg *leg = arg;

	sbc_sip->dialog_release(leg->d);
	free(leg);
}

static void release_leg_soon(struct peer_leg *leg)
{
	if (sbc_host->call_on_loop(release_leg, leg) < 0)
		tnd_notice("call %u: a spent dialog is kept", leg->call_id);
}

static void unlink_spent(struct peer_leg *leg)
{
	for (struct peer_leg **pp = &spent; *pp; pp = &(*pp)->next)
		if (*pp == leg) {
			*pp = leg->next;
			return;
		}
}

/* A given-up attempt: a late 2xx is ended by BYE (RFC 3261 15), and
 * the leg goes once its dialog has ended. */
static void spent_state(struct peer_leg *leg, enum sip_dialog_state state)
{
	if (state == SIP_DIALOG_CONFIRMED) {
		tnd_info("call %u: a destination given up answered late, BYE",
			 leg->call_id);
		sbc_sip->dialog_end(leg->d);
	} else if (state == SIP_DIALOG_ENDED) {
		unlink_spent(leg);
		release_leg_soon(leg);
	}
}

static void retire_attempt(struct sbc_call *call, bool ended)
{
	struct peer_leg *leg = call->out->leg;

	call->out->leg = NULL;
	call->dlg[SIDE_ACCESS] = NULL;
	call->dlg_ended[SIDE_ACCESS] = false;
	if (!leg)
		return;
	if (ended) {
		release_leg_soon(leg);
		return;
	}
	leg->spent = true;
	leg->next = spent;
	spent = leg;
	sbc_sip->dialog_end(leg->d); /* CANCEL, once it has a 1xx */
}

static void release_spent(void)
{
	while (spent) {
		struct peer_leg *leg = spent;

		spent = leg->next;
		sbc_sip->dialog_release(leg->d);
		free(leg);
	}
}

/* The Request-URI towards the peer: the number at the destination's
 * address (routed by prefix) or at the peer's domain (routed by it). */
static void out_parties(struct sbc_call *call)
{
	struct sbc_out *o = call->out;
	char host[128];

	if (o->device)
		return; /* its Contact, whatever the hop */
	if (o->domain[0])
		snprintf(host, sizeof(host), "%s", o->domain);
	else
		sbc_hop_hostport(o->hop, host, sizeof(host));
	snprintf(o->ruri, sizeof(o->ruri), "sip:%.100s@%.100s%s", o->user,
		 host, user_param(o->user));
	snprintf(o->to, sizeof(o->to), "<%s>", o->ruri);
}

static int access_invite(struct sbc_call *call, const struct sip_message *m,
			 const char *auth)
{
	struct sip_request_spec spec = { .size = sizeof(spec) };
	struct sbc_out *o = call->out;
	struct peer_leg *leg = calloc(1, sizeof(*leg));
	char *both = NULL;
	int rc;

	if (!leg)
		return -ENOMEM;
	leg->call_id = call->id;
	spec.method = "INVITE";
	spec.request_uri = o->ruri;
	spec.from = o->from;
	spec.to = o->to;
	spec.call_id = o->callid;
	spec.cseq = ++o->cseq;
	if (auth && o->headers) {
		both = malloc(strlen(o->headers) + strlen(auth) + 1);
		if (!both) {
			free(leg);
			return -ENOMEM;
		}
		strcpy(stpcpy(both, o->headers), auth);
	}
	spec.headers = both ? both : auth ? auth : o->headers;
	spec.body_type = "application/sdp";
	spec.body = o->offer;
	spec.body_len = o->offer_len;
	spec.next_hop = o->hop;
	spec.forward_of = m; /* the first attempt; then the value it gave */
	spec.max_forwards = o->max_forwards;
	o->attempt_ms = sbc_host->now_ms();
	rc = sbc_sip->dialog_invite(&spec, &out_access_ops, leg, &leg->d);
	free(both);
	if (rc < 0) {
		free(leg);
		return rc;
	}
	o->leg = leg;
	call->dlg[SIDE_ACCESS] = leg->d;
	/* a device behind NAT: its BYE and re-INVITEs go where it is, not
	 * to the private address its 2xx's Contact will name */
	if (o->device)
		sbc_nat_fixup_to(leg->d, o->hop);
	return 0;
}

/* RFC 3261 22.2: the INVITE again with our credentials, once. */
static int retry_with_auth(struct sbc_call *call, int status,
			   const struct sip_message *rsp)
{
	struct sbc_out *o = call->out;
	const char *user, *password;
	char hdr[1024];
	int rc;

	if (o->auth_sent || !sbc_peer_out_auth(call->peer, &user, &password))
		return -EPERM;
	rc = sbc_auth_answer(rsp, "INVITE", o->ruri, user, password, hdr,
			     sizeof(hdr));
	if (rc < 0) {
		tnd_notice("call %u: cannot answer the %d of peer %s: %d",
			   call->id, status, sbc_peer_name(call->peer), rc);
		return rc;
	}
	retire_attempt(call, true);
	o->auth_sent = true;
	tnd_info("call %u: %d from %s, INVITE again as %s", call->id, status,
		 o->hop, user);
	return access_invite(call, NULL, hdr);
}

/* The next live destination of the peer, after `o->hop` failed. */
static int next_destination(struct sbc_call *call, bool ended,
			    const char *why)
{
	struct sbc_out *o = call->out;
	const char *hop = sbc_peer_next_hop(call->peer, o->attempt + 1);

	if (!hop)
		return -ENOENT;
	tnd_info("call %u: %s %s, trying %s", call->id, o->hop, why, hop);
	retire_attempt(call, ended);
	o->attempt++;
	o->auth_sent = false;
	snprintf(o->hop, sizeof(o->hop), "%s", hop);
	out_parties(call);
	sbc_host->counter_add(sbc_count.failovers, 1);
	return access_invite(call, NULL, NULL);
}

/* Before any provisional: the destination did not take the call. */
static bool worth_failover(int status, const struct sip_message *rsp)
{
	return !rsp || status == 408 || status == 503;
}

/* The peer's INVITE failed or its dialog ended. */
static void peer_ended(struct sbc_call *call, int status,
		       const struct sip_message *rsp)
{
	char why[64];

	if (call->state == CALL_CONFIRMED) {
		call_hangup(call, 0, status == 200 ? "ended by the access side" :
				     "the access side's dialog ended");
		return;
	}
	if ((status == 401 || status == 407) && rsp &&
	    retry_with_auth(call, status, rsp) == 0)
		return;
	snprintf(why, sizeof(why), "answered %d", status);
	if (call->state == CALL_TRYING && worth_failover(status, rsp) &&
	    next_destination(call, true, rsp ? why : "did not answer") == 0)
		return;
	sbc_host->counter_add(sbc_count.failed, 1);
	snprintf(why, sizeof(why), "the access side answered %d", status);
	/* the core cannot answer our peer's challenge: refused */
	if (status == 401 || status == 407)
		status = 403;
	call_hangup(call, status >= 300 ? status : status ? 408 : 500, why);
}

/* A response of the peer to our INVITE, towards the core: as
 * relay_response() does for the other direction. */
static void relay_answer(struct sbc_call *call, int status,
			 const struct sip_message *msg)
{
	char sdp[SBC_SDP_MAX];
	unsigned flags = 0;
	int len, rc;

	len = sdp_cross(call, SIDE_ACCESS, msg, true, sdp, sizeof(sdp));
	if (len < 0) {
		call_hangup(call, 488, "the peer's answer cannot be anchored");
		return;
	}
	if (status < 200 && header_has(msg, "Require", "100rel"))
		flags = SIP_REPLY_RELIABLE;
	rc = sbc_sip->dialog_reply(call->dlg[SIDE_CORE], status, NULL, NULL,
				   len > 0 ? "application/sdp" : NULL, sdp,
				   (size_t)len, flags);
	if (rc == -EAGAIN)
		rc = sbc_sip->dialog_reply(call->dlg[SIDE_CORE], status, NULL,
					   NULL, len > 0 ? "application/sdp" :
					   NULL, sdp, (size_t)len, 0);
	if (rc < 0) {
		call_hangup(call, 0, "the core caller has gone (cancelled)");
		return;
	}
	call->state = status >= 200 ? CALL_CONFIRMED : CALL_EARLY;
	if (status >= 200)
		tnd_info("call %u: answered by %s", call->id, call->out->hop);
}

/* The call of a leg that is still its current attempt, else NULL. */
static struct sbc_call *leg_call(struct peer_leg *leg)
{
	struct sbc_call *call;

	if (leg->spent)
		return NULL;
	call = call_by_id(leg->call_id);
	if (!call)
		call = dead_by_id(leg->call_id);
	return call && call->dlg[SIDE_ACCESS] == leg->d ? call : NULL;
}

static void on_peer_state(struct sip_dialog *d, enum sip_dialog_state state,
			  int status, const struct sip_message *msg, void *arg)
{
	struct sbc_call *call = leg_call(arg);

	(void)d;
	if (!call) {
		spent_state(arg, state);
		return;
	}
	if (state == SIP_DIALOG_ENDED)
		call->dlg_ended[SIDE_ACCESS] = true;
	if (call->state == CALL_ENDING) {
		if (state == SIP_DIALOG_ENDED)
			reap_soon();
		return;
	}
	if (state == SIP_DIALOG_ENDED)
		peer_ended(call, status, msg);
	else if (msg)
		relay_answer(call, status, msg);
}

static void on_core_caller_state(struct sip_dialog *d,
				 enum sip_dialog_state state, int status,
				 const struct sip_message *msg, void *arg)
{
	struct sbc_call *call = arg;

	(void)d, (void)msg;
	if (state != SIP_DIALOG_ENDED)
		return;
	call->dlg_ended[SIDE_CORE] = true;
	if (call->state == CALL_ENDING) {
		reap_soon();
		return;
	}
	call_hangup(call, 0, status == 200 ? "ended by the core side" :
			     status == 487 ? "cancelled by the core" :
			     "the core side's dialog ended");
}

static const struct sip_dialog_ops out_core_ops = {
	.state = on_core_caller_state,
	.request = on_core_request,
};

static enum sip_verdict on_peer_request(struct sip_dialog *d,
					struct sip_request *req, void *arg)
{
	struct sbc_call *call = leg_call(arg);

	(void)d;
	if (!call) {
		sbc_sip->reply(req, 481, NULL, NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	return relay_request(call, SIDE_ACCESS, req);
}

static const struct sip_dialog_ops out_access_ops = {
	.state = on_peer_state,
	.request = on_peer_request,
};

/* A destination that sent nothing within failover_s is given up. */
static void on_failover_poll(struct tnd_timer *t, void *arg)
{
	uint64_t now = sbc_host->now_ms(), limit = sbc_cfg->failover_s * 1000;

	(void)t, (void)arg;
	for (struct sbc_call *c = calls, *next; c; c = next) {
		next = c->next;
		if (!c->out || c->state != CALL_TRYING ||
		    now - c->out->attempt_ms < limit)
			continue;
		if (next_destination(c, false, "sent nothing") == 0)
			continue;
		sbc_host->counter_add(sbc_count.failed, 1);
		call_hangup(c, 408, "no destination of the peer answered");
	}
}

/* The caller's number as the peer sees it: the one the core asserted
 * (P-Asserted-Identity, RFC 3325: a trunk to the PSTN needs the number,
 * not the IMS name) else From's user; "anonymous" when Privacy asks
 * (RFC 3323). Nothing else of the core's identity headers crosses. */
static void out_caller(const struct sip_message *m, char *out, size_t size)
{
	char host[128];
	struct sip_text v;

	if (header_has(m, "Privacy", "id") || header_has(m, "Privacy", "user") ||
	    header_has(m, "Privacy", "header")) {
		snprintf(out, size, "anonymous");
		return;
	}
	for (unsigned i = 0; sbc_sip->header(m, "P-Asserted-Identity", i,
					     &v) == 0; i++) {
		const char *end = v.ptr + v.len, *lt = v.ptr;

		/* "<sip:alice@ims.lab>, <tel:+15550001>": each entry */
		while ((lt = memchr(lt, '<', (size_t)(end - lt))) != NULL) {
			const char *gt = memchr(lt + 1, '>', (size_t)(end - lt - 1));
			struct sip_text uri = {
				lt + 1, gt ? (size_t)(gt - lt - 1) :
					     (size_t)(end - lt - 1)
			};

			lt++;

			if (sbc_route_number(uri, out, size, host,
					     sizeof(host)) == 0 &&
			    out[0] == '+')
				return;
		}
	}
	out[0] = '\0';
	if (sbc_sip->header(m, "From", 0, &v) == 0)
		uri_user(v, out, size);
	if (!out[0])
		snprintf(out, size, "anonymous");
}

/* Our host on the access side: access_domain, else the access media
 * address, else the address of the sip service's first listener. */
static void access_host(char *out, size_t size)
{
	char route[160];
	const char *p;

	if (sbc_cfg->access_domain[0]) {
		snprintf(out, size, "%s", sbc_cfg->access_domain);
	} else if (sbc_cfg->access_media_address[0]) {
		snprintf(out, size, "%s", sbc_cfg->access_media_address);
	} else if (sbc_sip->local_route(NULL, NULL, route, sizeof(route)) > 0 &&
		   (p = strstr(route, "sip:")) != NULL) {
		snprintf(out, size, "%.*s", (int)strcspn(p + 4, ";>"), p + 4);
	} else {
		snprintf(out, size, "invalid");
	}
}

/* "<uri>" -> "uri" */
static void uri_of(const char *name_addr, char *out, size_t size)
{
	const char *lt = strchr(name_addr, '<');

	lt = lt ? lt + 1 : name_addr;
	snprintf(out, size, "%.*s", (int)strcspn(lt, ">"), lt);
}

/* RFC 3966 5.1.4: only a global number ("+...") stands alone; a number
 * the rules put in a peer's national or local format is no longer
 * marked user=phone. */
static void drop_user_phone(char *uri)
{
	char user[128], *p = strstr(uri, ";user=phone");
	struct sip_text t = { uri, strlen(uri) };

	uri_user(t, user, sizeof(user));
	if (!p || user[0] == '+')
		return;
	memmove(p, p + strlen(";user=phone"),
		strlen(p + strlen(";user=phone")) + 1);
}

/* The peer's rule set (and the core's) on the INVITE towards the peer,
 * as core_invite() does the other way: numbers in the peer's dialling
 * format, the trust boundary's headers, the rules' actions. */
static int out_normalise(struct sbc_call *call, const struct sip_message *m)
{
	struct sbc_out *o = call->out;
	struct sbc_norm_msg nm;
	struct sip_text ruri;
	int rc;

	memset(&nm, 0, sizeof(nm));
	snprintf(nm.ruri, sizeof(nm.ruri), "%s", o->ruri);
	uri_of(o->from, nm.from, sizeof(nm.from));
	uri_of(o->to, nm.to, sizeof(nm.to));
	rc = sbc_norm_cross(sbc_cfg->core_rules, SBC_NORM_FROM_CORE,
			    sbc_norm_peer_rules(call->peer), SBC_NORM_TO_PEER,
			    m, &nm);
	if (rc == 0) {
		drop_user_phone(nm.ruri);
		drop_user_phone(nm.from);
		drop_user_phone(nm.to);
		snprintf(o->ruri, sizeof(o->ruri), "%s", nm.ruri);
		snprintf(o->from, sizeof(o->from), "<%s>", nm.from);
		snprintf(o->to, sizeof(o->to), "<%s>", nm.to);
		/* a failover rebuilds the URIs from the user part */
		ruri = (struct sip_text){ nm.ruri, strlen(nm.ruri) };
		uri_user(ruri, o->user, sizeof(o->user));
		o->headers = sbc_norm_headers(&nm);
	} else {
		tnd_notice("call %u: rules not applied: %d", call->id, rc);
	}
	sbc_norm_msg_free(&nm);
	return rc;
}

/* The outgoing parties and offer of a call from the core; a status when
 * the call cannot go on. */
static int out_setup(struct sbc_call *call, const struct sip_message *m,
		     const char *number, const char *domain, const char *hop,
		     const char *device_ruri)
{
	struct sbc_out *o = calloc(1, sizeof(*o));
	char caller[128], host[128];
	int len, mf;

	if (!o)
		return 500;
	call->out = o;
	snprintf(o->user, sizeof(o->user), "%s", number);
	snprintf(o->domain, sizeof(o->domain), "%s", domain);
	snprintf(o->hop, sizeof(o->hop), "%s", hop);
	if (device_ruri) {
		o->device = true;
		snprintf(o->ruri, sizeof(o->ruri), "%s", device_ruri);
		snprintf(o->to, sizeof(o->to), "<%s>", device_ruri);
	}
	out_parties(call);
	out_caller(m, caller, sizeof(caller));
	access_host(host, sizeof(host));
	snprintf(o->from, sizeof(o->from), "<sip:%s@%s%s>", caller, host,
		 user_param(caller));
	if (out_normalise(call, m) < 0)
		return 500;
	snprintf(o->callid, sizeof(o->callid), "sbc%u-%08x%08x", call->id,
		 (unsigned)random(), (unsigned)random());
	mf = sip_has_max_forwards() ? sbc_sip->max_forwards(m) : -ENOENT;
	o->max_forwards = mf > 1 ? (unsigned)mf - 1 : mf == 1 ? 1 : 70;
	if (media_open(call) < 0)
		return 503;
	len = sdp_cross(call, SIDE_CORE, m, false, o->offer, sizeof(o->offer));
	if (len <= 0)
		return 488;
	o->offer_len = (size_t)len;
	return access_invite(call, m, NULL) < 0 ? 503 : 0;
}

/*
 * Where a call from the core goes: the peer its Request-URI routes to.
 * (A device registered through the SBC, once the REGISTER relay keeps
 * them, is looked up here first: its contact would be the one hop.)
 */
static struct sbc_peer *route_from_core(const struct sip_message *m,
					char *number, size_t nsize,
					char *domain, size_t dsize)
{
	struct sbc_peer *peer;
	char host[128];

	if (sbc_route_number(sbc_sip->request_uri(m), number, nsize, host,
			     sizeof(host)) < 0)
		return NULL;
	peer = sbc_peer_route(number[0] ? number : NULL, host[0] ? host : NULL);
	domain[0] = '\0';
	/* routed by its domain, not a prefix: the URI keeps that domain */
	if (peer && host[0] && sbc_peer_route(number, NULL) != peer)
		snprintf(domain, dsize, "%s", host);
	return peer;
}

/* The part of a call from the core shared by peers and devices: the
 * core's dialog, then the INVITE to `hop`. */
static enum sip_verdict core_call(struct sip_request *req,
				  const struct sip_message *m, const char *src,
				  struct sbc_peer *peer, const char *number,
				  const char *domain, const char *hop,
				  const char *device_ruri)
{
	struct sbc_call *call = call_new(src, peer);
	int status;

	if (!call) {
		sbc_peer_release(peer);
		return refuse(req, 500, NULL, NULL);
	}
	call->caller = SIDE_CORE;
	snprintf(call->ruri, sizeof(call->ruri), "%.*s",
		 (int)sbc_sip->request_uri(m).len, sbc_sip->request_uri(m).ptr);
	call->dlg[SIDE_CORE] = sbc_sip->dialog_accept(req, &out_core_ops, call);
	if (!call->dlg[SIDE_CORE]) {
		call->state = CALL_ENDING;
		call_bury(call);
		return SIP_TAKEN;
	}
	status = out_setup(call, m, number, domain, hop, device_ruri);
	if (status) {
		sbc_host->counter_add(sbc_count.refused, 1);
		call_hangup(call, status, "refused before the access side");
		return SIP_TAKEN;
	}
	sbc_host->counter_add(sbc_count.calls, 1);
	sbc_host->counter_add(sbc_count.calls_out, 1);
	tnd_info("call %u: from the core (%s) to %s %s: %s via %s", call->id,
		 src, device_ruri ? "device" : "peer",
		 device_ruri ? "" : sbc_peer_name(peer), call->out->ruri, hop);
	return SIP_TAKEN;
}

/* To a device registered through the SBC (its Contact token, sbc_reg.c):
 * no peer, no failover; the device's number is its Contact's user. */
static enum sip_verdict core_to_device(struct sip_request *req,
				       const struct sip_message *m,
				       const char *src, const char *ruri,
				       const char *hop)
{
	char user[128];

	uri_user((struct sip_text){ ruri, strlen(ruri) }, user, sizeof(user));
	return core_call(req, m, src, NULL, user, "", hop, ruri);
}

static enum sip_verdict on_core_invite(struct sip_request *req,
				       const struct sip_message *m)
{
	char number[128], domain[128], src[64];
	char dev_ruri[256], dev_hop[96];
	struct sbc_peer *peer;
	const char *hop;

	sbc_source_addr(m, src, sizeof(src));
	if (sbc_reg_target(m, dev_ruri, sizeof(dev_ruri), dev_hop,
			   sizeof(dev_hop)) == 0)
		return core_to_device(req, m, src, dev_ruri, dev_hop);
	peer = route_from_core(m, number, sizeof(number), domain,
			       sizeof(domain));
	if (!peer) {
		sbc_host->counter_add(sbc_count.refused, 1);
		tnd_info("INVITE from the core (%s): no peer for %s@%s, 404",
			 src, number, domain);
		return refuse(req, 404, "No Route", NULL);
	}
	hop = sbc_peer_next_hop(peer, 0);
	if (!hop || sbc_peer_admit(peer) < 0) {
		sbc_host->counter_add(sbc_count.refused, 1);
		tnd_info("INVITE from the core for %s: peer %s %s, 503",
			 number, sbc_peer_name(peer),
			 hop ? "over its limits" : "has no destination up");
		return refuse(req, 503, hop ? "Peer Limit" : "Peer Unreachable",
			      "Retry-After: 5\r\n");
	}
	return core_call(req, m, src, peer, number, domain, hop, NULL);
}

static enum sip_verdict on_invite(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sbc_sip->request_message(req);
	struct sbc_peer *peer;
	struct sbc_call *call;
	char src[64];
	int status;

	(void)arg;
	if (header_has(m, "To", "tag="))
		return refuse(req, 481, NULL, NULL); /* no such dialog */
	if (sip_has_max_forwards() && sbc_sip->max_forwards(m) == 0)
		return refuse(req, 483, NULL, NULL); /* RFC 3261 16.3 */
	if (ncalls >= sbc_cfg->max_calls)
		return refuse(req, 503, "Too Many Calls", "Retry-After: 5\r\n");
	if (sbc_from_core(m))
		return on_core_invite(req, m);
	sbc_source_addr(m, src, sizeof(src));
	peer = sbc_peer_of(src);
	if (!peer && sbc_peers_configured()) {
		sbc_host->counter_add(sbc_count.refused, 1);
		sbc_guard_offence(src, "not a peer");
		tnd_info("INVITE from %s: no peer has this address, 403", src);
		return refuse(req, 403, "Not A Peer", NULL);
	}
	if (peer && !sbc_trunk_tls_ok(req, peer, src))
		return SIP_TAKEN;
	if (peer && !peer_authenticated(req, peer, src))
		return SIP_TAKEN;
	if (peer && sbc_peer_admit(peer) < 0) {
		sbc_host->counter_add(sbc_count.refused, 1);
		tnd_info("INVITE from peer %s over its limits, 503",
			 sbc_peer_name(peer));
		return refuse(req, 503, "Peer Limit", "Retry-After: 2\r\n");
	}
	call = call_new(src, peer);
	if (!call) {
		sbc_peer_release(peer);
		return refuse(req, 500, NULL, NULL);
	}
	call->dlg[SIDE_ACCESS] = sbc_sip->dialog_accept(req, &access_ops, call);
	if (!call->dlg[SIDE_ACCESS]) { /* answered (400, 422) already */
		call->state = CALL_ENDING;
		call_bury(call);
		return SIP_TAKEN;
	}
	sbc_nat_fixup(call->dlg[SIDE_ACCESS], m); /* behind a NAT */
	status = call_setup(call, m);
	if (status) {
		sbc_host->counter_add(sbc_count.refused, 1);
		call_hangup(call, status, "refused before the core");
		return SIP_TAKEN;
	}
	sbc_host->counter_add(sbc_count.calls, 1);
	tnd_info("call %u: from %s towards %s", call->id, src, call->ruri);
	return SIP_TAKEN;
}

/*
 * The sip service answers a CANCEL of the caller with 487 by itself and
 * tells no one; a 100 Trying to a cancelled INVITE fails, which is how
 * the calls still ringing find out (at most a second late) and cancel
 * their core leg (RFC 3261 9.2).
 */
static void on_cancel_poll(struct tnd_timer *t, void *arg)
{
	(void)t, (void)arg;
	for (struct sbc_call *c = calls, *next; c; c = next) {
		next = c->next;
		if ((c->state == CALL_TRYING || c->state == CALL_EARLY) &&
		    sbc_sip->dialog_reply(c->dlg[c->caller], 100, NULL, NULL,
					  NULL, NULL, 0, 0) == -EALREADY)
			call_hangup(c, 0, "cancelled by the caller");
	}
}

/* ---- Control ------------------------------------------------------------ */

int sbc_cmd_show_calls(struct tnd_reply *r, int argc, char **argv)
{
	uint64_t now = sbc_host->now_ms();

	(void)argv;
	if (argc)
		return sbc_host->reply_error(r,
					     "sbc show calls takes no arguments");
	for (struct sbc_call *c = calls; c; c = c->next) {
		struct sip_dialog_info info;

		sbc_host->reply_record(r);
		sbc_host->reply_field_num(r, "id", c->id);
		sbc_host->reply_field(r, "state", "%s", state_names[c->state]);
		sbc_host->reply_field(r, "direction", "%s",
				      c->caller == SIDE_CORE ? "core->access" :
							       "access->core");
		if (c->out)
			sbc_host->reply_field(r, "destination", "%s %s",
					      c->out->hop, c->out->ruri);
		sbc_host->reply_field(r, "source", "%s", c->src);
		sbc_host->reply_field(r, "peer", "%s", sbc_peer_name(c->peer));
		if (c->dlg[SIDE_CORE] &&
		    sbc_sip->dialog_info(c->dlg[SIDE_CORE], &info) == 0)
			sbc_host->reply_field(r, "core_call_id", "%s",
					      info.call_id);
		sbc_host->reply_field(r, "core_uri", "%s", c->ruri);
		sbc_host->reply_field_num(r, "media_channel",
					  c->chan ? sbc_media->chan_id(c->chan) :
						    0);
		sbc_host->reply_field_num(r, "seconds",
					  (now - c->started_ms) / 1000);
	}
	return 0;
}

/* ---- Start and stop ----------------------------------------------------- */

int sbc_call_start(void)
{
	cancel_poll = sbc_host->timer_new(SBC_SELF, on_cancel_poll, NULL);
	failover_poll = sbc_host->timer_new(SBC_SELF, on_failover_poll, NULL);
	if (!cancel_poll || !failover_poll ||
	    sbc_host->timer_start(cancel_poll, 1000, 1000) < 0 ||
	    sbc_host->timer_start(failover_poll, 250, 250) < 0 ||
	    sbc_sip->handler_add("INVITE", SIP_HANDLER_CLAIM, "100rel, timer",
				 on_invite, NULL) < 0)
		return -ENOMEM;
	return 0;
}

void sbc_call_stop(void)
{
	if (cancel_poll) {
		sbc_host->timer_free(cancel_poll);
		cancel_poll = NULL;
	}
	if (failover_poll) {
		sbc_host->timer_free(failover_poll);
		failover_poll = NULL;
	}
	sbc_sip->handler_remove(on_invite, NULL);
	while (calls)
		call_hangup(calls, 503, "the SBC stops");
	reap_all(true);
	release_spent();
}
