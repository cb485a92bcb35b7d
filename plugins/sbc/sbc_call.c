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
	if (call->dlg[SIDE_ACCESS] && status >= 300)
		sbc_sip->dialog_reply(call->dlg[SIDE_ACCESS], status, NULL,
				      NULL, NULL, NULL, 0, 0);
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

static void media_stopped(unsigned id, const struct media_event *ev)
{
	struct sbc_call *call = call_by_id(id);

	if (!call)
		call = dead_by_id(id);
	for (unsigned leg = 0; leg < 2; leg++)
		if (ev->stats[leg])
			sbc_host->counter_add(sbc_count.relayed,
					      ev->stats[leg]->packets_tx);
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

static int media_open(struct sbc_call *call)
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
	mc.leg[SIDE_CORE].type = MEDIA_LEG_RTP;
	return sbc_media->chan_new(&mc, &call->chan);
}

/* Both sides have described the stream: `answer` names the codec. */
static int media_apply(struct sbc_call *call, const struct sbc_sdp *answer)
{
	int rc;

	for (unsigned leg = 0; leg < 2; leg++) {
		const struct sbc_sdp *peer = &call->sdp[leg];
		struct media_rtp_remote r = {
			.size = sizeof(r),
			.addr = peer->address[0] ? peer->address : NULL,
			.port = peer->port,
			.codec = answer->codec,
			.clock_hz = answer->clock_hz,
			.pt = answer->pt,
			.dtmf_pt = answer->dtmf_pt,
			/* what we said on this leg is the other side's word */
			.dir = (enum media_dir)call->sdp[other(leg)].dir,
		};

		if (!peer->port || !answer->codec[0])
			continue; /* a disabled stream: nothing to send */
		rc = sbc_media->rtp_set_remote(call->chan, leg, &r);
		if (rc < 0) {
			tnd_notice("call %u: media leg %s refused %s: %d",
				   call->id, side_name(leg), answer->codec, rc);
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

/*
 * The SDP of `msg` from `side`, remembered and rewritten for the other
 * side into `out`. Returns its length, 0 when the message has none, or
 * -EPROTONOSUPPORT (not SDP, SRTP, no codec we can relay).
 */
static int sdp_cross(struct sbc_call *call, unsigned side,
		     const struct sip_message *msg, bool answer, char *out,
		     size_t size)
{
	struct sip_text body = sbc_sip->body(msg);
	struct media_rtp_local loc = { .size = sizeof(loc) };
	unsigned to = other(side);
	const char *addr;
	struct sbc_sdp sdp;
	int rc;

	if (!body.len)
		return 0;
	if (!header_has(msg, "Content-Type", "application/sdp") ||
	    sbc_sdp_read(body.ptr, body.len, &sdp) < 0 || sdp.secure)
		return -EPROTONOSUPPORT;
	call->sdp[side] = sdp;
	if (sbc_media->rtp_local(call->chan, to, &loc) < 0)
		return -EIO;
	addr = to == SIDE_ACCESS ? sbc_cfg->access_media_address :
				   sbc_cfg->core_media_address;
	if (!addr || !addr[0])
		addr = loc.addr;
	rc = sbc_sdp_rewrite(body.ptr, body.len, addr, loc.port, out, size);
	if (rc >= 0 && answer && media_apply(call, &sdp) < 0)
		return -EPROTONOSUPPORT;
	return rc;
}

/* ---- The core leg: responses to our INVITE ------------------------------ */

static void relay_response(struct sbc_call *call, int status,
			   const struct sip_message *msg)
{
	char sdp[SBC_SDP_MAX];
	unsigned flags = 0;
	int len, rc;

	len = sdp_cross(call, SIDE_CORE, msg, true, sdp, sizeof(sdp));
	if (len < 0) {
		call_hangup(call, 488, "the core's answer cannot be anchored");
		return;
	}
	if (status < 200 && header_has(msg, "Require", "100rel"))
		flags = SIP_REPLY_RELIABLE; /* RFC 3262: as the core sent it */
	rc = sbc_sip->dialog_reply(call->dlg[SIDE_ACCESS], status, NULL, NULL,
				   len > 0 ? "application/sdp" : NULL, sdp,
				   (size_t)len, flags);
	if (rc == -EAGAIN) /* a reliable one still unacknowledged */
		rc = sbc_sip->dialog_reply(call->dlg[SIDE_ACCESS], status, NULL,
					   NULL, len > 0 ? "application/sdp" :
					   NULL, sdp, (size_t)len, 0);
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

	(void)d, (void)msg;
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
	char *meth = text_dup(method), *ctype = NULL;
	char sdp[SBC_SDP_MAX];
	const void *out = NULL;
	size_t out_len = 0;
	int len, rc;

	if (!meth)
		return SIP_DECLINED;
	if (call->pending || call->state == CALL_ENDING) {
		sbc_sip->reply(req, 491, NULL, NULL, NULL, NULL, 0);
		free(meth);
		return SIP_TAKEN;
	}
	len = sdp_cross(call, side, m, false, sdp, sizeof(sdp));
	if (len < 0) {
		sbc_sip->reply(req, 488, NULL, NULL, NULL, NULL, 0);
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
	rc = sbc_sip->dialog_request(call->dlg[other(side)], meth, NULL, ctype,
				     out, out_len, on_relayed,
				     (void *)(uintptr_t)call->id);
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

static int core_invite(struct sbc_call *call, const struct sip_message *m,
		       const char *sdp, size_t sdp_len)
{
	struct sip_request_spec spec = { .size = sizeof(spec) };
	char user[128], fuser[128] = "anonymous", from[256], to[300];
	char callid[64];
	struct sip_text a_from;

	uri_user(sbc_sip->request_uri(m), user, sizeof(user));
	/* the caller's identity crosses, its address does not */
	if (sbc_sip->header(m, "From", 0, &a_from) == 0)
		uri_user(a_from, fuser, sizeof(fuser));
	snprintf(call->ruri, sizeof(call->ruri), "sip:%s@%s", user,
		 sbc_cfg->core_domain);
	snprintf(from, sizeof(from), "<sip:%s@%s>", fuser,
		 sbc_cfg->core_domain);
	snprintf(to, sizeof(to), "<%s>", call->ruri);
	snprintf(callid, sizeof(callid), "sbc%u-%08x%08x", call->id,
		 (unsigned)random(), (unsigned)random());
	spec.method = "INVITE";
	spec.request_uri = call->ruri;
	spec.from = from;
	spec.to = to;
	spec.call_id = callid;
	spec.body_type = "application/sdp";
	spec.body = sdp;
	spec.body_len = sdp_len;
	spec.next_hop = sbc_cfg->core_next_hop;
	spec.forward_of = m; /* RFC 3261 16.6 step 3, as a proxy would */
	return sbc_sip->dialog_invite(&spec, &core_ops, call,
				      &call->dlg[SIDE_CORE]);
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
	if (len <= 0) /* no offer (RFC 3261 13.2.1 late offer) or not ours */
		return 488;
	if (core_invite(call, m, sdp, (size_t)len) < 0)
		return 503;
	return 0;
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
	sbc_source_addr(m, src, sizeof(src));
	peer = sbc_peer_of(src);
	if (!peer && sbc_peers_configured()) {
		sbc_host->counter_add(sbc_count.refused, 1);
		sbc_guard_offence(src, "not a peer");
		tnd_info("INVITE from %s: no peer has this address, 403", src);
		return refuse(req, 403, "Not A Peer", NULL);
	}
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
		    sbc_sip->dialog_reply(c->dlg[SIDE_ACCESS], 100, NULL, NULL,
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
	if (!cancel_poll ||
	    sbc_host->timer_start(cancel_poll, 1000, 1000) < 0 ||
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
	sbc_sip->handler_remove(on_invite, NULL);
	while (calls)
		call_hangup(calls, 503, "the SBC stops");
	reap_all(true);
}
