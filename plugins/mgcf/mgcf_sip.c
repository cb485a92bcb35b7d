/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf_sip: the SIP side of the MGCF, a B2BUA dialog per call on the sip
 * service (handlers, replies, client transactions). RFC 3261 12-15 for the
 * dialog, RFC 3262 for reliable provisionals, RFC 3326 for Reason, RFC
 * 3325 for P-Asserted-Identity and Privacy; the mapping to Q.931 follows
 * RFC 3398 and 3GPP TS 29.163 7.2.3.
 *
 * The dialogs are the MGCF's own, on the sip service's plain requests
 * (its dialog layer came later; moving onto it is in NOTES.md). What
 * that means:
 * - a CANCEL of a kept INVITE comes through the service's on_cancel()
 *   (sip service 1.1). With an older service nothing tells of it: while
 *   the circuit rings, the MGCF repeats its last provisional every
 *   cancel_poll_ms, and a reply() refused with -EALREADY is the CANCEL;
 * - our To tag in a 2xx is the transaction's: we learn it from the ACK
 *   (or any later request), and a BYE waits for the ACK (RFC 3261 15).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mgcf_int.h"

#define ALLOW "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, PRACK, INFO, UPDATE\r\n"
#define HDRS_MAX 2048

static const struct sip_service *sip(void)
{
	return mgcf.sip;
}

/* A message the dialog code reads (a request to us, a response to our
 * INVITE). */
struct view {
	const struct sip_message *sip;
};

static int view_header(const struct view *m, const char *name, unsigned i,
		       struct sip_text *v)
{
	return sip()->header(m->sip, name, i, v);
}

static struct sip_text view_body(const struct view *m)
{
	return sip()->body(m->sip);
}

/* A header's value as a C string ("" when absent). */
static void header_str(const struct view *m, const char *name, char *out,
		       size_t size)
{
	struct sip_text v;
	size_t n;

	out[0] = '\0';
	if (view_header(m, name, 0, &v) < 0)
		return;
	n = v.len < size - 1 ? v.len : size - 1;
	memcpy(out, v.ptr, n);
	out[n] = '\0';
}

static void random_token(char *out, size_t size)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	static unsigned long long state;

	if (!state)
		state = mgcf_now_us() ^ ((unsigned long long)getpid() << 32);
	for (size_t i = 0; i + 1 < size; i++) {
		state = state * 6364136223846793005ULL + 1442695040888963407ULL;
		out[i] = alphabet[(state >> 33) % (sizeof(alphabet) - 1)];
	}
	out[size - 1] = '\0';
}

/* "Contact: <sip:mgcf@host:port>\r\n" */
static int contact_header(char *buf, size_t size)
{
	return snprintf(buf, size, "Contact: <%s>\r\n", mgcf.cfg->contact);
}

/* ---- Dialog state from messages --------------------------------------------- */

static void learn_tag(char *tag, size_t size, const struct view *m,
		      const char *header)
{
	struct sip_text v;

	if (tag[0] || view_header(m, header, 0, &v) < 0)
		return;
	mgcf_hdr_tag(v.ptr, v.len, tag, size);
}

/* Route set from Record-Route (RFC 3261 12.1.1 / 12.1.2), as Route
 * header lines; `reverse` for the UAC. */
static void learn_route(struct mgcf_call *call, const struct view *m,
			bool reverse)
{
	const char *elems[16];
	size_t lens[16], n = 0, used = 0;
	struct sip_text v;

	for (unsigned i = 0; view_header(m, "Record-Route", i, &v) == 0; i++) {
		const char *e;
		size_t el;

		for (unsigned k = 0; n < 16 &&
				     mgcf_hdr_element(v.ptr, v.len, k, &e,
						      &el) == 0;
		     k++) {
			elems[n] = e;
			lens[n++] = el;
		}
	}
	call->route_set[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t k = reverse ? n - 1 - i : i;
		int w = snprintf(call->route_set + used,
				 sizeof(call->route_set) - used,
				 "Route: %.*s\r\n", (int)lens[k], elems[k]);

		if (w < 0 || (size_t)w >= sizeof(call->route_set) - used)
			break;
		used += (size_t)w;
	}
}

static void learn_target(struct mgcf_call *call, const struct view *m)
{
	struct sip_text v;

	if (view_header(m, "Contact", 0, &v) == 0)
		mgcf_hdr_uri(v.ptr, v.len, call->remote_target,
			     sizeof(call->remote_target));
}

static struct mgcf_call *call_of(const struct view *m)
{
	struct sip_text id;

	if (view_header(m, "Call-ID", 0, &id) < 0)
		return NULL;
	return mgcf_call_by_callid(id.ptr, id.len);
}

/* The Q.850 cause of a message's Reason header, else `otherwise`. */
static int reason_cause(const struct view *m, int otherwise)
{
	struct sip_text v;

	for (unsigned i = 0; m && view_header(m, "Reason", i, &v) == 0; i++) {
		int cause = mgcf_reason_cause(v.ptr, v.len);

		if (cause > 0)
			return cause;
	}
	return otherwise;
}

/* ---- Requests inside a dialog ---------------------------------------------------- */

static void on_bye_response(struct sip_client *c, int status,
			    const struct sip_message *rsp, void *arg)
{
	struct mgcf_call *call = arg;

	(void)c, (void)rsp;
	if (status < 200)
		return;
	call->bye = NULL; /* the service frees it after this callback */
	mgcf_ladder(call, "ims>", "%d (BYE)", status);
	call->sip_done = true;
	mgcf_call_maybe_free(call);
}

static void on_prack_response(struct sip_client *c, int status,
			      const struct sip_message *rsp, void *arg)
{
	(void)c, (void)status, (void)rsp, (void)arg;
}

/*
 * A request in the call's dialog (RFC 3261 12.2.1.1): Request-URI the
 * remote target, Route the route set, our tag in From (the sip service
 * keeps a tag it is given).
 */
static int dialog_request_body(struct mgcf_call *call, const char *method,
			       const char *extra, const char *body_type,
			       const char *body, size_t body_len,
			       sip_response_cb cb, struct sip_client **out)
{
	char from[MGCF_URI_MAX + MGCF_TAG_MAX + 8];
	char to[MGCF_URI_MAX + MGCF_TAG_MAX + 8], headers[HDRS_MAX];
	struct sip_request_spec spec = { .size = sizeof(spec) };

	snprintf(from, sizeof(from), "%s;tag=%s", call->local_uri,
		 call->local_tag);
	snprintf(to, sizeof(to), "%s;tag=%s", call->remote_uri,
		 call->remote_tag);
	snprintf(headers, sizeof(headers), "%s%s", call->route_set,
		 extra ? extra : "");
	spec.method = method;
	spec.request_uri = call->remote_target[0] ? call->remote_target :
						    call->request_uri;
	spec.from = from;
	spec.to = to;
	spec.call_id = call->call_id;
	spec.cseq = ++call->local_cseq;
	spec.headers = headers;
	spec.body_type = body_type;
	spec.body = body;
	spec.body_len = body_len;
	return sip()->send_request(&spec, cb, call, out);
}

static int dialog_request(struct mgcf_call *call, const char *method,
			  const char *extra, sip_response_cb cb,
			  struct sip_client **out)
{
	return dialog_request_body(call, method, extra, NULL, NULL, 0, cb,
				   out);
}

static void send_bye(struct mgcf_call *call, int cause)
{
	char reason[160];

	if (call->bye_sent)
		return;
	call->bye_sent = true;
	if (mgcf_reason_header(reason, sizeof(reason), cause) < 0)
		reason[0] = '\0';
	mgcf_ladder(call, "<ims", "BYE (Reason cause %d)", cause);
	/* the BYE's client is kept: a call freed before its answer (the
	 * far end's BYE crossed ours) forgets it, so no callback comes */
	if (dialog_request(call, "BYE", reason, on_bye_response,
			   &call->bye) < 0) {
		tnd_notice("call %u: BYE could not be sent", call->id);
		call->sip_done = true;
	}
}

/* ---- Session timers (RFC 4028), calls from IMS ------------------------------------ */

static bool supports(const struct view *m, const char *option)
{
	struct sip_text v;

	for (unsigned i = 0; view_header(m, "Supported", i, &v) == 0; i++)
		if (mgcf_hdr_has_tag(v.ptr, v.len, option))
			return true;
	for (unsigned i = 0; view_header(m, "Require", i, &v) == 0; i++)
		if (mgcf_hdr_has_tag(v.ptr, v.len, option))
			return true;
	return false;
}

/* The session interval a request asks for: 0 none (or its sender has no
 * timer support: RFC 4028 9 would make us the refresher unasked, which
 * the MGCF does not do), -EINVAL a bad value, else the seconds; *who is
 * the refresher it asks for. */
static int session_interval(const struct view *m, enum mgcf_refresher *who)
{
	struct sip_text v;
	unsigned secs;

	*who = MGCF_REFRESHER_NONE;
	if (view_header(m, "Session-Expires", 0, &v) < 0 &&
	    view_header(m, "x", 0, &v) < 0)
		return 0;
	if (!supports(m, "timer"))
		return 0;
	if (mgcf_session_expires(v.ptr, v.len, &secs, who) < 0)
		return -EINVAL;
	return (int)secs;
}

/* "Require: timer" and "Session-Expires" for a 2xx: the refresher IMS
 * asked for, else IMS (the UAS chooses when the UAC supports timers,
 * RFC 4028 9). Empty without a session timer. */
static void session_headers(const struct mgcf_call *call, char *buf,
			    size_t size)
{
	size_t n = strlen(buf);

	if (call->se_s)
		snprintf(buf + n, size - n,
			 "Require: timer\r\nSession-Expires: %u;"
			 "refresher=%s\r\n", call->se_s,
			 call->se_we_refresh ? "uas" : "uac");
}

/* RFC 4028 10: a refresh that times out or gets 408 or 481 ends the
 * session. The client is the call's until its final response (a call
 * freed before forgets it). */
static void on_refresh_response(struct sip_client *c, int status,
				const struct sip_message *rsp, void *arg)
{
	struct mgcf_call *call = arg;

	(void)c, (void)rsp;
	if (status < 200)
		return;
	call->refresh = NULL;
	if (status != 408 && status != 481)
		return;
	mgcf_call_hold(call);
	tnd_notice("call %u: our session refresh got %d: cleared", call->id,
		   status);
	mgcf_call_release(call, Q850_RECOVERY_ON_TIMER, EV_TIMEOUT);
	mgcf_call_put(call);
}

/* Our refresh (RFC 4028 7.4): an UPDATE without a body, which changes
 * nothing else (RFC 3311 5.1). Its refresher parameter names the roles
 * of this transaction: we send it and keep refreshing, so "uac". */
static void session_refresh_send(struct mgcf_call *call)
{
	char hdr[160];

	snprintf(hdr, sizeof(hdr),
		 "Supported: timer\r\nSession-Expires: %u;refresher=uac\r\n",
		 call->se_s);
	if (call->refresh)
		return; /* the last one is still on its way */
	mgcf_ladder(call, "<ims", "UPDATE (session refresh)");
	if (dialog_request(call, "UPDATE", hdr, on_refresh_response,
			   &call->refresh) < 0)
		tnd_notice("call %u: session refresh could not be sent",
			   call->id);
}

static void session_arm(struct mgcf_call *call);

static void on_session_timer(struct tnd_timer *t, void *arg)
{
	struct mgcf_call *call = arg;

	(void)t;
	mgcf_call_hold(call);
	if (call->se_we_refresh) {
		session_refresh_send(call);
		session_arm(call);
	} else {
		tnd_notice("call %u: no session refresh from IMS in %u s: "
			   "cleared (RFC 4028 10)", call->id, call->se_s);
		mgcf_ladder(call, "<ims", "session expired");
		mgcf_call_release(call, Q850_RECOVERY_ON_TIMER, EV_TIMEOUT);
	}
	mgcf_call_put(call);
}

/* (Re)arm the session timer: our refresh at half the interval (RFC 4028
 * 7.4), or the end of a session IMS did not refresh, at the interval
 * less min(32, interval/3) s (RFC 4028 10). */
static void session_arm(struct mgcf_call *call)
{
	unsigned margin = call->se_s / 3 < 32 ? call->se_s / 3 : 32;
	unsigned wait_s = call->se_we_refresh ? call->se_s / 2 :
						call->se_s - margin;

	if (!call->se_s || call->state == ST_RELEASING)
		return;
	if (!call->se_timer)
		call->se_timer = mgcf.host->timer_new(MGCF_SELF,
						      on_session_timer, call);
	if (call->se_timer)
		mgcf.host->timer_start(call->se_timer,
				       (uint64_t)(wait_s ? wait_s : 1) * 1000,
				       0);
}

static void session_refreshed(struct mgcf_call *call)
{
	session_arm(call);
}

/* A refresh (re-INVITE or UPDATE) from IMS may ask for another interval
 * and refresher. */
static void session_refresh_request(struct mgcf_call *call,
				    const struct view *m)
{
	enum mgcf_refresher who;
	int se = session_interval(m, &who);

	if (!call->se_s)
		return;
	if (se >= (int)mgcf.cfg->min_se_s) {
		call->se_s = (unsigned)se;
		call->se_we_refresh = who == MGCF_REFRESHER_UAS;
	}
	session_arm(call);
}

/* ---- Calls from IMS: the INVITE ----------------------------------------------- */

static void reply_with_cause(struct sip_request *req, int status, int cause)
{
	char hdr[192];

	if (mgcf_reason_header(hdr, sizeof(hdr), cause) < 0)
		hdr[0] = '\0';
	sip()->reply(req, status, mgcf_status_text(status), hdr, NULL, NULL,
		     0);
}

/* Calling identity (RFC 3325): the asserted one in a trust domain, else
 * From; Privacy: id (or user/header) hides it. */
static void calling_of(const struct sip_message *m, char *number, size_t size,
		       bool *restricted, bool *screened)
{
	struct sip_text v;
	char privacy[128];

	struct view view = { .sip = m };

	number[0] = '\0';
	*screened = false;
	if (mgcf.cfg->trust_domain &&
	    sip()->header(m, "P-Asserted-Identity", 0, &v) == 0 &&
	    mgcf_number_from_uri(v.ptr, v.len, number, size) == 0)
		*screened = true;
	else if (sip()->header(m, "From", 0, &v) == 0 &&
		 mgcf_number_from_uri(v.ptr, v.len, number, size) < 0)
		number[0] = '\0';
	header_str(&view, "Privacy", privacy, sizeof(privacy));
	*restricted = strstr(privacy, "id") || strstr(privacy, "user") ||
		      strstr(privacy, "header");
}

static bool dialog_from_invite(struct mgcf_call *call,
			       const struct sip_message *m)
{
	struct view view = { .sip = m };
	struct sip_text v;

	if (sip()->header(m, "Call-ID", 0, &v) < 0 ||
	    v.len >= sizeof(call->call_id))
		return false;
	memcpy(call->call_id, v.ptr, v.len);
	call->call_id[v.len] = '\0';
	if (sip()->header(m, "From", 0, &v) < 0 ||
	    mgcf_hdr_tag(v.ptr, v.len, call->remote_tag,
			 sizeof(call->remote_tag)) < 0 ||
	    mgcf_hdr_without_tag(v.ptr, v.len, call->remote_uri,
				 sizeof(call->remote_uri)) < 0)
		return false;
	if (sip()->header(m, "To", 0, &v) < 0 ||
	    mgcf_hdr_without_tag(v.ptr, v.len, call->local_uri,
				 sizeof(call->local_uri)) < 0)
		return false;
	learn_target(call, &view);
	learn_route(call, &view, false);
	if (sip()->header(m, "Supported", 0, &v) == 0 &&
	    mgcf_hdr_has_tag(v.ptr, v.len, "100rel"))
		call->peer_100rel = true;
	if (sip()->header(m, "Require", 0, &v) == 0 &&
	    mgcf_hdr_has_tag(v.ptr, v.len, "100rel"))
		call->peer_100rel = true;
	return true;
}

/* The circuit's media: a context on the call's B-channel, our answer. */
static int media_answer(struct mgcf_call *call, const struct sip_text *offer)
{
	char label[48];
	struct mgw_ctx_config cfg = {
		.size = sizeof(cfg), .label = label,
		.span = (unsigned)call->span, .ts = (unsigned)call->bchan,
		.incoming = call->dir == MGCF_FROM_PSTN,
		.calling = call->calling, .called = call->called,
		.on_event = mgcf_media_event, .arg = call,
	};
	int rc;

	snprintf(label, sizeof(label), "call %u", call->id);
	rc = mgcf.mgw->ctx_new(&cfg, &call->mgw);
	if (rc < 0)
		return Q850_TEMPORARY_FAILURE;
	if (!offer)
		return 0;
	rc = mgcf.mgw->sdp_answer(call->mgw, offer->ptr, offer->len,
				  call->sdp, sizeof(call->sdp));
	if (rc < 0)
		return Q850_BEARER_NOT_IMPLEMENTED;
	call->sdp_len = rc;
	return 0;
}

/* Where the number goes: the bgcf's targets, or our default trunk. */
static int targets_for(const char *number, struct bgcf_target *t,
		       unsigned max)
{
	if (mgcf.bgcf)
		return mgcf.bgcf->route(number, t, max);
	if (!mgcf.default_trunk)
		return 0;
	memset(t, 0, sizeof(*t));
	t->kind = BGCF_TRUNK;
	snprintf(t->trunk, sizeof(t->trunk), "%s", mgcf.default_trunk->name);
	return 1;
}

/* Try the targets in order; congestion moves to the next (overflow).
 * Returns 0 (placed or proxied) or the Q.850 cause of the last failure. */
static int place(struct mgcf_call *call, struct sip_request *req,
		 const struct sip_message *m, bool *proxied)
{
	struct bgcf_target targets[BGCF_TARGETS_MAX];
	char calling[MGCF_NUM_MAX];
	bool restricted, screened;
	int n = targets_for(call->called, targets, BGCF_TARGETS_MAX);
	int cause = Q850_NO_ROUTE;

	calling_of(m, calling, sizeof(calling), &restricted, &screened);
	snprintf(call->calling, sizeof(call->calling), "%s", calling);
	call->pres = restricted;
	for (int i = 0; i < n; i++) {
		if (targets[i].kind != BGCF_TRUNK) {
			/* a SIP peer or another BGCF takes it from here */
			if (sip()->proxy(req, targets[i].uri) == 0) {
				mgcf.host->counter_add(mgcf.c_proxied, 1);
				*proxied = true;
				return 0;
			}
			continue;
		}
		call->trunk = mgcf_trunk_by_name(targets[i].trunk);
		if (!call->trunk) {
			tnd_notice("route %s names trunk %s, which this node "
				   "has not", targets[i].route,
				   targets[i].trunk);
			continue;
		}
		cause = mgcf_pri_place(call, calling, restricted, screened);
		if (!cause)
			return 0;
		if (cause != Q850_NO_CIRCUIT && cause != Q850_CONGESTION &&
		    cause != Q850_NETWORK_OUT_OF_ORDER)
			break;
	}
	return cause;
}

/* Q.850 cause, or 0 with the call placed and its answer made. */
static int new_invite_call(struct mgcf_call *call, struct sip_request *req,
			   const struct sip_message *m, bool *proxied)
{
	struct sip_text ruri = sip()->request_uri(m), body = sip()->body(m);
	struct sip_text to;
	int cause;

	if (mgcf_number_from_uri(ruri.ptr, ruri.len, call->called,
				 sizeof(call->called)) < 0 &&
	    (sip()->header(m, "To", 0, &to) < 0 ||
	     mgcf_number_from_uri(to.ptr, to.len, call->called,
				  sizeof(call->called)) < 0))
		return Q850_UNALLOCATED;
	if (!body.len)
		return Q850_BEARER_NOT_IMPLEMENTED; /* no late offer yet */
	if (mgcf.mgw->sdp_check(body.ptr, body.len) < 0)
		return Q850_BEARER_NOT_IMPLEMENTED;
	if (!dialog_from_invite(call, m))
		return Q850_INTERWORKING;
	cause = place(call, req, m, proxied);
	if (cause || *proxied)
		return cause;
	return media_answer(call, &body);
}

static void new_invite_placed(struct mgcf_call *call, struct sip_request *req,
			      const struct sip_message *m, uint64_t t0);
static void watch_cancel(struct mgcf_call *call);

/* RFC 4028 6: an interval below our Min-SE is refused with 422 (and a
 * bad one with 400); true when the INVITE may go on. */
static bool session_acceptable(struct sip_request *req,
			       const struct sip_message *m, int *se,
			       bool *we_refresh)
{
	struct view view = { .sip = m };
	enum mgcf_refresher who;
	char hdr[64];

	*se = session_interval(&view, &who);
	*we_refresh = who == MGCF_REFRESHER_UAS;
	if (*se < 0) {
		sip()->reply(req, 400, "Bad Session-Expires", NULL, NULL, NULL,
			     0);
		return false;
	}
	if (*se && (unsigned)*se < mgcf.cfg->min_se_s) {
		snprintf(hdr, sizeof(hdr), "Min-SE: %llu\r\n",
			 (unsigned long long)mgcf.cfg->min_se_s);
		sip()->reply(req, 422, "Session Interval Too Small", hdr, NULL,
			     NULL, 0);
		return false;
	}
	return true;
}

static void new_invite(struct sip_request *req, const struct sip_message *m)
{
	uint64_t t0 = mgcf_now_us();
	struct mgcf_call *call;
	bool we_refresh;
	int se;

	if (!session_acceptable(req, m, &se, &we_refresh))
		return;
	call = mgcf_call_new(MGCF_FROM_IMS);
	if (!call) {
		reply_with_cause(req, 503, Q850_CONGESTION);
		return;
	}
	mgcf.host->counter_add(mgcf.c_from_ims, 1);
	call->t_start_us = t0;
	call->se_s = (unsigned)se;
	call->se_we_refresh = we_refresh;
	mgcf_ladder(call, "ims>", "INVITE +SDP");
	mgcf_call_hold(call);
	new_invite_placed(call, req, m, t0);
	mgcf_call_put(call);
}

/* The rest of new_invite(), with the call held. */
static void new_invite_placed(struct mgcf_call *call, struct sip_request *req,
			      const struct sip_message *m, uint64_t t0)
{
	bool proxied = false;
	int cause;

	cause = new_invite_call(call, req, m, &proxied);
	if (proxied) {
		call->sip_done = true;
		call->state = ST_RELEASING; /* put() frees it */
		return;
	}
	mgcf_fsm_go(call, ST_O_SETUP, EV_SIP_INVITE);
	call->invite = sip()->keep(req);
	if (cause || !call->invite) {
		tnd_info("call %u to %s refused: cause %d (%s)", call->id,
			 call->called[0] ? call->called : "?", cause,
			 mgcf_cause_text(cause));
		if (!call->invite)
			reply_with_cause(req, mgcf_cause_to_status(cause),
					 cause);
		call->final_sent = !call->invite;
		call->sip_done = !call->invite;
		mgcf_call_release(call, cause ? cause : Q850_TEMPORARY_FAILURE,
				  EV_LOCAL);
		return;
	}
	mgcf_latency(LAT_INVITE_SETUP, t0);
	tnd_info("call %u from IMS: %s -> %s on span %d bchan %d", call->id,
		 call->calling[0] ? call->calling : "-", call->called,
		 call->span, call->bchan);
	sip()->reply(req, 100, "Trying", NULL, NULL, NULL, 0);
	mgcf_ladder(call, "<ims", "100 Trying");
	call->last_prov = 100;
	watch_cancel(call);
}

/* ---- Re-INVITE and UPDATE: hold, resume, codec change, T.38 ------------------------ */

/* An offer inside the call (re-INVITE, RFC 3261 14; UPDATE, RFC 3311):
 * the mgw answers it; no body asks for our offer (re-INVITE only). */
static void reinvite(struct sip_request *req, const struct sip_message *m)
{
	struct view view = { .sip = m };
	struct mgcf_call *call = call_of(&view);
	struct sip_text body = sip()->body(m);
	char hdr[HDRS_MAX], sdp[MGW_SDP_MAX];
	int n;

	if (!call || !call->mgw || !mgcf_fsm_takes(call, EV_SIP_REINVITE)) {
		sip()->reply(req, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	learn_tag(call->local_tag, sizeof(call->local_tag), &view, "To");
	n = body.len ? mgcf.mgw->sdp_answer(call->mgw, body.ptr, body.len, sdp,
					    sizeof(sdp)) :
		       mgcf.mgw->sdp_offer(call->mgw, sdp, sizeof(sdp));
	if (n < 0) {
		sip()->reply(req, 488, NULL, NULL, NULL, NULL, 0);
		return;
	}
	learn_target(call, &view);
	contact_header(hdr, sizeof(hdr));
	session_refresh_request(call, &view);
	session_headers(call, hdr, sizeof(hdr));
	sip()->reply(req, 200, "OK", hdr, "application/sdp", sdp, (size_t)n);
	mgcf_ladder(call, "ims>", "%.*s +SDP", (int)sip()->method(m).len,
		    sip()->method(m).ptr);
	mgcf_ladder(call, "<ims", "200 OK +SDP");
	tnd_info("call %u: %.*s answered", call->id, (int)sip()->method(m).len,
		 sip()->method(m).ptr);
}

static enum sip_verdict on_update(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sip()->request_message(req);
	struct view view = { .sip = m };
	struct mgcf_call *call = call_of(&view);

	(void)arg;
	if (!call)
		return SIP_DECLINED;
	if (!sip()->body(m).len) {
		/* RFC 3311 5.2: an UPDATE without an offer changes nothing
		 * but the session timer (RFC 4028 7.4: a refresh) */
		char hdr[160] = "";

		session_refresh_request(call, &view);
		session_headers(call, hdr, sizeof(hdr));
		sip()->reply(req, 200, "OK", hdr[0] ? hdr : NULL, NULL, NULL,
			     0);
		return SIP_TAKEN;
	}
	reinvite(req, m);
	return SIP_TAKEN;
}

static enum sip_verdict on_invite(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sip()->request_message(req);
	struct sip_text to;
	char tag[MGCF_TAG_MAX];

	(void)arg;
	if (sip()->header(m, "To", 0, &to) == 0 &&
	    mgcf_hdr_tag(to.ptr, to.len, tag, sizeof(tag)) == 0) {
		reinvite(req, m);
		return SIP_TAKEN;
	}
	if (mgcf.stopping) {
		reply_with_cause(req, 503, Q850_TEMPORARY_FAILURE);
		return SIP_TAKEN;
	}
	new_invite(req, m);
	return SIP_TAKEN;
}

/* ---- Responses toward IMS ------------------------------------------------------------ */

static void rel_retransmit(struct tnd_timer *t, void *arg);
static void invite_cancelled(struct mgcf_call *call, int cause);

static void through(struct mgcf_call *call, enum mgw_through mode)
{
	if (call->mgw)
		mgcf.mgw->through(call->mgw, mode);
}

/* 180 or 183 for the circuit's ALERTING / PROGRESS. */
void mgcf_sip_progress(struct mgcf_call *call, int status, bool with_sdp)
{
	bool reliable = call->peer_100rel && strcmp(mgcf.cfg->prack, "no") &&
			!call->prack_wait;
	char hdr[HDRS_MAX];
	int n;

	if (!call->invite || call->final_sent)
		return;
	n = contact_header(hdr, sizeof(hdr));
	if (reliable)
		snprintf(hdr + n, sizeof(hdr) - (size_t)n,
			 "Require: 100rel\r\nRSeq: %u\r\n", ++call->rseq);
	if (sip()->reply(call->invite, status, mgcf_status_text(status), hdr,
			 with_sdp ? "application/sdp" : NULL,
			 with_sdp ? call->sdp : NULL,
			 with_sdp ? (size_t)call->sdp_len : 0) == -EALREADY) {
		mgcf_sip_poll(call);
		return;
	}
	mgcf_ladder(call, "<ims", "%d %s%s%s", status, mgcf_status_text(status),
		    with_sdp ? " +SDP" : "", reliable ? " (100rel)" : "");
	call->last_prov = status;
	call->last_prov_sdp = with_sdp;
	call->last_prov_rseq = reliable ? call->rseq : 0;
	if (with_sdp) {
		call->sdp_sent = true;
		through(call, strcmp(mgcf.cfg->early_through, "both") == 0 ?
				      MGW_THROUGH_BOTH :
				      MGW_THROUGH_TO_IP);
	}
	if (reliable) {
		/* RFC 3262 3: retransmit until the PRACK, T1 doubling */
		call->prack_wait = true;
		call->rel_status = status;
		call->rel_tries = 0;
		if (!call->rel_timer)
			call->rel_timer = mgcf.host->timer_new(
				MGCF_SELF, rel_retransmit, call);
		if (call->rel_timer)
			mgcf.host->timer_start(call->rel_timer, 500, 0);
	}
}

static void send_200(struct mgcf_call *call)
{
	char hdr[HDRS_MAX];

	contact_header(hdr, sizeof(hdr));
	snprintf(hdr + strlen(hdr), sizeof(hdr) - strlen(hdr), "%s", ALLOW);
	session_headers(call, hdr, sizeof(hdr));
	if (sip()->reply(call->invite, 200, "OK", hdr, "application/sdp",
			 call->sdp, (size_t)call->sdp_len) == -EALREADY) {
		/* cancelled while the circuit answered */
		invite_cancelled(call, Q850_NORMAL_CLEARING);
		return;
	}
	mgcf_ladder(call, "<ims", "200 OK +SDP");
	call->final_sent = true;
	sip()->release(call->invite);
	call->invite = NULL;
	through(call, MGW_THROUGH_BOTH);
	mgcf_call_timer(call, mgcf.cfg->ack_timeout_ms, 0);
	session_refreshed(call);
}

void mgcf_sip_answer(struct mgcf_call *call)
{
	if (!call->invite || call->final_sent)
		return;
	if (call->prack_wait) {
		/* RFC 3262 3: not before the reliable 18x is PRACKed */
		call->held_final = 200;
		return;
	}
	send_200(call);
}

static void rel_retransmit(struct tnd_timer *t, void *arg)
{
	struct mgcf_call *call = arg;
	char hdr[HDRS_MAX];
	int n;

	(void)t;
	if (!call->prack_wait || !call->invite)
		return;
	if (++call->rel_tries > 6) { /* release() holds and frees it */ /* 64*T1 with doubling from T1 */
		tnd_notice("call %u: no PRACK for our %d", call->id,
			   call->rel_status);
		call->prack_wait = false;
		mgcf_call_release(call, Q850_RECOVERY_ON_TIMER, EV_TIMEOUT);
		return;
	}
	n = contact_header(hdr, sizeof(hdr));
	snprintf(hdr + n, sizeof(hdr) - (size_t)n,
		 "Require: 100rel\r\nRSeq: %u\r\n", call->rseq);
	sip()->reply(call->invite, call->rel_status,
		     mgcf_status_text(call->rel_status), hdr,
		     call->sdp_sent ? "application/sdp" : NULL,
		     call->sdp_sent ? call->sdp : NULL,
		     call->sdp_sent ? (size_t)call->sdp_len : 0);
	mgcf.host->timer_start(call->rel_timer,
			       500ull << (call->rel_tries < 3 ? call->rel_tries
							      : 3),
			       0);
}

/* IMS cancelled the INVITE (the layer has answered the CANCEL 200 and
 * the INVITE 487): the circuit is cleared with normal clearing (RFC 3398
 * 7.2.3), or the Q.850 cause of the CANCEL's Reason header (RFC 3326;
 * TS 29.163 carries it through). */
static void invite_cancelled(struct mgcf_call *call, int cause)
{
	mgcf_call_timer_stop(call);
	call->final_sent = true;
	call->sip_done = true;
	sip()->release(call->invite);
	call->invite = NULL;
	mgcf.host->counter_add(mgcf.c_cancelled, 1);
	mgcf_ladder(call, "ims>", "CANCEL");
	mgcf_ladder(call, "<ims", "487 Request Terminated");
	tnd_info("call %u: cancelled by IMS, cause %d", call->id, cause);
	mgcf_call_release(call, cause, EV_SIP_CANCEL);
}

/* The sip service's word of a CANCEL (on_cancel, sip service 1.1). The
 * call is found by the CANCEL's Call-ID, not by a pointer kept in the
 * service, so a call already gone is never touched. */
static void on_invite_cancel(struct sip_request *req,
			     const struct sip_message *cancel, void *arg)
{
	struct view view = { .sip = cancel };
	struct mgcf_call *call = call_of(&view);

	(void)arg;
	if (!call || call->invite != req)
		return; /* not ours to release: its owner does */
	mgcf_call_hold(call);
	invite_cancelled(call, reason_cause(&view, Q850_NORMAL_CLEARING));
	mgcf_call_put(call);
}

/* Watch for the CANCEL of a kept INVITE: through the service when it
 * can tell (then the timer only refreshes the provisional, RFC 3261
 * 13.3.1.1: once a minute), else by the cancel poll. */
static void watch_cancel(struct mgcf_call *call)
{
	if (mgcf.sip_on_cancel &&
	    sip()->on_cancel(call->invite, on_invite_cancel, NULL) == 0) {
		call->cancel_told = true;
		mgcf_call_timer(call, MGCF_PROV_REFRESH_MS,
				MGCF_PROV_REFRESH_MS);
		return;
	}
	mgcf_call_timer(call, mgcf.cfg->cancel_poll_ms,
			mgcf.cfg->cancel_poll_ms);
}

/* The call's timer while the circuit rings: a reply refused with
 * -EALREADY means a CANCEL (or the transaction's end) took the INVITE
 * (see the file's comment). The reply repeats the last provisional byte
 * for byte, so the caller sees a retransmission of what it has (RFC 3261
 * 13.3.1.1 even asks for one a minute). */
void mgcf_sip_poll(struct mgcf_call *call)
{
	char hdr[HDRS_MAX];
	int rc, n;

	if (!call->invite || call->final_sent)
		return;
	if (call->cancel_told && call->last_prov == 100)
		return; /* nothing to refresh: the service tells of CANCEL */
	n = call->last_prov > 100 ? contact_header(hdr, sizeof(hdr)) : 0;
	hdr[n] = '\0';
	if (call->last_prov_rseq)
		snprintf(hdr + n, sizeof(hdr) - (size_t)n,
			 "Require: 100rel\r\nRSeq: %u\r\n",
			 call->last_prov_rseq);
	rc = sip()->reply(call->invite, call->last_prov,
			  mgcf_status_text(call->last_prov), n ? hdr : NULL,
			  call->last_prov_sdp ? "application/sdp" : NULL,
			  call->last_prov_sdp ? call->sdp : NULL,
			  call->last_prov_sdp ? (size_t)call->sdp_len : 0);
	if (rc != -EALREADY)
		return;
	invite_cancelled(call, Q850_NORMAL_CLEARING);
}

/* ---- Calls from the circuit: our INVITE ----------------------------------------------- */

static void uac_learn_dialog(struct mgcf_call *call, const struct view *rsp,
			     bool final)
{
	/* the sip service made our From tag */
	learn_tag(call->local_tag, sizeof(call->local_tag), rsp, "From");
	if (final) /* the 2xx's To tag is the dialog's */
		call->remote_tag[0] = '\0';
	learn_tag(call->remote_tag, sizeof(call->remote_tag), rsp, "To");
	learn_target(call, rsp);
	learn_route(call, rsp, true);
}

/* RFC 3262 4: PRACK a reliable 18x. */
static void prack(struct mgcf_call *call, const struct view *rsp)
{
	struct sip_text v;
	char rack[64], rseq[16];

	if (view_header(rsp, "Require", 0, &v) < 0 ||
	    !mgcf_hdr_has_tag(v.ptr, v.len, "100rel"))
		return;
	header_str(rsp, "RSeq", rseq, sizeof(rseq));
	snprintf(rack, sizeof(rack), "RAck: %u 1 INVITE\r\n",
		 (unsigned)strtoul(rseq, NULL, 10));
	mgcf_ladder(call, "<ims", "PRACK");
	dialog_request(call, "PRACK", rack, on_prack_response, NULL);
}

static void uac_provisional(struct mgcf_call *call, int status,
			    const struct view *rsp)
{
	struct sip_text body = view_body(rsp);
	uint64_t t0 = mgcf_now_us();
	bool media;

	if (status == 100)
		return;
	mgcf_ladder(call, "ims>", "%d %s%s", status, mgcf_status_text(status),
		    body.len ? " +SDP" : "");
	uac_learn_dialog(call, rsp, false);
	prack(call, rsp);
	if (body.len && !call->sdp_applied && call->mgw &&
	    mgcf.mgw->sdp_answered(call->mgw, body.ptr, body.len) == 0) {
		call->sdp_applied = true;
		through(call, MGW_THROUGH_TO_CIRCUIT);
	}
	media = call->sdp_applied;
	mgcf_fsm_go(call, ST_I_EARLY, EV_SIP_1XX);
	if (status != 180 && !(status == 183 && media))
		return;
	if (status == 180 && !media && call->mgw)
		/* the far end offers no ringback: we play it */
		mgcf.mgw->tone(call->mgw, MGW_TONE_RINGBACK);
	mgcf_ladder(call, "<pri", "%s (PI 8)",
		    status == 180 ? "ALERTING" : "PROGRESS");
	if (status == 180)
		mgcf.pri->alert(call->pri_call, 1);
	else
		mgcf.pri->progress(call->pri_call, 1);
	mgcf_latency(LAT_180_ALERT, t0);
}

/* Our INVITE says Supported: timer; a 2xx with Session-Expires starts
 * the session timer (RFC 4028 7.2), refreshed by us when it names the
 * UAC (or nobody), by IMS when it names the UAS. */
static void session_from_answer(struct mgcf_call *call,
				const struct view *rsp)
{
	enum mgcf_refresher who;
	struct sip_text v;
	unsigned secs;

	if (view_header(rsp, "Session-Expires", 0, &v) < 0 &&
	    view_header(rsp, "x", 0, &v) < 0)
		return;
	if (mgcf_session_expires(v.ptr, v.len, &secs, &who) < 0)
		return;
	call->se_s = secs;
	call->se_we_refresh = who != MGCF_REFRESHER_UAS;
	session_arm(call);
}

static void uac_answered(struct mgcf_call *call, const struct view *rsp)
{
	struct sip_text body = view_body(rsp);
	uint64_t t0 = mgcf_now_us();

	mgcf_ladder(call, "ims>", "200 OK%s", body.len ? " +SDP" : "");
	mgcf_ladder(call, "<ims", "ACK");
	uac_learn_dialog(call, rsp, true);
	call->confirmed = true;
	if (call->state == ST_RELEASING) {
		/* answered while we cancelled: end it (RFC 3261 9.1) */
		send_bye(call, call->cause);
		return;
	}
	if (body.len && !call->sdp_applied && call->mgw)
		call->sdp_applied = mgcf.mgw->sdp_answered(call->mgw, body.ptr,
							   body.len) == 0;
	if (!call->sdp_applied) {
		mgcf_call_release(call, Q850_BEARER_NOT_IMPLEMENTED,
				  EV_SIP_2XX);
		return;
	}
	through(call, MGW_THROUGH_BOTH);
	mgcf_fsm_go(call, ST_ACTIVE, EV_SIP_2XX);
	session_from_answer(call, rsp);
	mgcf.host->counter_add(mgcf.c_answered, 1);
	mgcf_ladder(call, "<pri", "CONNECT");
	mgcf.pri->answer(call->pri_call);
	mgcf_latency(LAT_200_CONNECT, t0);
}

static void uac_response(struct mgcf_call *call, int status,
			 const struct sip_message *msg)
{
	struct view rsp = { .sip = msg };
	int cause;

	if (status < 200) {
		if (msg && call->state != ST_RELEASING)
			uac_provisional(call, status, &rsp);
		return;
	}
	call->uac = NULL;
	if (status < 300 && msg) {
		uac_answered(call, &rsp);
		return;
	}
	mgcf_ladder(call, "ims>", "%d %s", status, mgcf_status_text(status));
	call->sip_done = true;
	if (call->state == ST_RELEASING)
		return;
	cause = msg ? reason_cause(&rsp, mgcf_status_to_cause(status)) :
		      Q850_RECOVERY_ON_TIMER;
	tnd_info("call %u: IMS answered %d: cause %d (%s)", call->id, status,
		 cause, mgcf_cause_text(cause));
	mgcf_call_release(call, cause, EV_SIP_FAILURE);
}

static void on_uac_response(struct sip_client *u, int status,
			    const struct sip_message *msg, void *arg)
{
	struct mgcf_call *call = arg;

	(void)u;
	mgcf_call_hold(call);
	uac_response(call, status, msg);
	mgcf_call_put(call);
}

/* Request-URI, From and identity headers for a call from the circuit
 * (TS 24.229 / TS 29.163 7.2.3.2: +E.164 in tel: or sip:;user=phone). */
static void uri_of(const char *number, char *out, size_t size)
{
	if (number[0] == '+' && strcmp(mgcf.cfg->uri_form, "tel") == 0)
		snprintf(out, size, "tel:%s", number);
	else if (number[0] == '+')
		snprintf(out, size, "sip:%s@%s;user=phone", number,
			 mgcf.cfg->domain);
	else
		snprintf(out, size, "sip:%s@%s", number, mgcf.cfg->domain);
}

static void identity_headers(struct mgcf_call *call, char *hdr, size_t size)
{
	char uri[MGCF_URI_MAX];
	size_t n = strlen(hdr);

	if (!call->calling[0] || !mgcf.cfg->trust_domain)
		return;
	uri_of(call->calling, uri, sizeof(uri));
	snprintf(hdr + n, size - n, "P-Asserted-Identity: <%s>\r\n%s", uri,
		 call->pres == 1 ? "Privacy: id\r\n" : "");
}

static void invite_parties(struct mgcf_call *call)
{
	char token[17], from[MGCF_URI_MAX];

	random_token(token, sizeof(token));
	snprintf(call->call_id, sizeof(call->call_id), "%s@%s", token,
		 mgcf.cfg->domain);
	random_token(call->local_tag, 13);
	uri_of(call->called, call->request_uri, sizeof(call->request_uri));
	snprintf(call->remote_uri, sizeof(call->remote_uri), "<%.*s>",
		 MGCF_URI_MAX - 3, call->request_uri);
	if (call->pres == 1 || !call->calling[0]) {
		snprintf(call->local_uri, sizeof(call->local_uri),
			 "\"Anonymous\" <sip:anonymous@anonymous.invalid>");
	} else {
		uri_of(call->calling, from, sizeof(from));
		snprintf(call->local_uri, sizeof(call->local_uri), "<%.*s>",
			 MGCF_URI_MAX - 3, from);
	}
}

/* Where a call from the circuit goes: a SIP peer or BGCF the bgcf routes
 * the number to (transit), else the trunk's or [mgcf]'s next hop (the
 * I-CSCF, TS 29.163 7.2.3.2). */
static const char *next_hop_for(struct mgcf_call *call,
				struct bgcf_target *t)
{
	if (mgcf.bgcf && mgcf.bgcf->route(call->called, t, 1) == 1 &&
	    t->kind != BGCF_TRUNK) {
		tnd_info("call %u: route %s sends it to %s", call->id,
			 t->route, t->uri);
		return t->uri;
	}
	return call->trunk->cfg.sip_next_hop[0] ? call->trunk->cfg.sip_next_hop
						: mgcf.cfg->sip_next_hop;
}

/* "udp:HOST:PORT" of a next hop given as a SIP URI (a bgcf target). */
static const char *hop_of(const char *hop, char *buf, size_t size)
{
	const char *p = hop, *at;
	size_t n;

	if (strncasecmp(hop, "sip:", 4) != 0)
		return hop;
	p += 4;
	at = strchr(p, '@');
	if (at)
		p = at + 1;
	n = strcspn(p, ";>?");
	snprintf(buf, size, "udp:%.*s", (int)n, p);
	return buf;
}

int mgcf_sip_invite(struct mgcf_call *call)
{
	struct sip_request_spec spec = { .size = sizeof(spec) };
	struct bgcf_target target;
	const char *next_hop = next_hop_for(call, &target);
	char hdr[HDRS_MAX], hop[MGCF_URI_MAX];
	uint64_t t0 = call->t_start_us;
	int cause, n, rc;

	cause = media_answer(call, NULL);
	if (cause)
		return cause;
	call->sdp_len = mgcf.mgw->sdp_offer(call->mgw, call->sdp,
					    sizeof(call->sdp));
	if (call->sdp_len < 0)
		return Q850_TEMPORARY_FAILURE;
	invite_parties(call);
	call->local_tag[0] = '\0'; /* the sip service makes it */
	n = contact_header(hdr, sizeof(hdr));
	/* timer: IMS may ask for a session timer in its 2xx (RFC 4028) */
	snprintf(hdr + n, sizeof(hdr) - (size_t)n, "%s%s", ALLOW,
		 strcmp(mgcf.cfg->prack, "required") == 0 ?
			 "Require: 100rel\r\nSupported: timer\r\n" :
		 strcmp(mgcf.cfg->prack, "supported") == 0 ?
			 "Supported: 100rel, timer\r\n" :
			 "Supported: timer\r\n");
	identity_headers(call, hdr, sizeof(hdr));
	spec.method = "INVITE";
	spec.request_uri = call->request_uri;
	spec.from = call->local_uri;
	spec.to = call->remote_uri;
	spec.call_id = call->call_id;
	spec.cseq = call->local_cseq = 1;
	spec.headers = hdr;
	spec.body_type = "application/sdp";
	spec.body = call->sdp;
	spec.body_len = (size_t)call->sdp_len;
	spec.next_hop = next_hop[0] ? hop_of(next_hop, hop, sizeof(hop)) : NULL;
	mgcf_ladder(call, "<ims", "INVITE %s +SDP", call->request_uri);
	rc = sip()->send_request(&spec, on_uac_response, call, &call->uac);
	if (rc < 0) {
		tnd_notice("call %u: INVITE to %s not sent: %s", call->id,
			   call->request_uri, strerror(-rc));
		call->sip_done = true;
		return Q850_NETWORK_OUT_OF_ORDER;
	}
	mgcf_fsm_go(call, ST_I_INVITE,
		    call->state == ST_I_OVERLAP ? EV_DIGITS_DONE :
						  EV_PRI_SETUP);
	mgcf_latency(LAT_SETUP_INVITE, t0);
	tnd_info("call %u from the circuit: %s -> %s", call->id,
		 call->calling[0] ? call->calling : "-", call->request_uri);
	return 0;
}

/* ---- Clearing the SIP side ---------------------------------------------------------------- */

void mgcf_sip_clear(struct mgcf_call *call, int cause)
{
	if (call->sip_done)
		return;
	if (call->dir == MGCF_FROM_IMS) {
		if (call->invite && !call->final_sent) {
			int status = mgcf_cause_to_status(cause);

			mgcf_call_timer_stop(call);
			mgcf_ladder(call, "<ims", "%d %s (Reason cause %d)",
				    status, mgcf_status_text(status), cause);
			reply_with_cause(call->invite, status, cause);
			call->final_sent = true;
			sip()->release(call->invite);
			call->invite = NULL;
			call->sip_done = true;
			return;
		}
		if (!call->acked && mgcf.stopping) {
			/* no ACK, so no tag of ours to end it with */
			call->sip_done = true;
			return;
		}
		if (!call->acked) {
			call->bye_pending = true; /* RFC 3261 15 */
			return;
		}
		send_bye(call, cause);
		return;
	}
	if (call->uac) {
		if (!call->cancel_sent) {
			call->cancel_sent = true;
			mgcf_ladder(call, "<ims", "CANCEL");
			sip()->cancel(call->uac); /* the 487 ends it */
		}
		return;
	}
	if (!call->confirmed) {
		call->sip_done = true;
		return;
	}
	send_bye(call, cause);
}

/* ---- T.38: a fax on the circuit ------------------------------------------------------- */

static void on_reinvite_response(struct sip_client *c, int status,
				 const struct sip_message *rsp, void *arg)
{
	struct mgcf_call *call = arg;
	struct sip_text body = rsp ? sip()->body(rsp) : (struct sip_text){ 0 };

	(void)c;
	if (status < 200)
		return;
	call->reinvite = NULL;
	mgcf_ladder(call, "ims>", "%d %s%s", status, mgcf_status_text(status),
		    body.len ? " +SDP" : "");
	if (status >= 300 || !call->mgw ||
	    mgcf.mgw->sdp_answered(call->mgw, body.ptr, body.len) < 0) {
		/* the offer is over: the fax stays in G.711 */
		if (call->mgw && status >= 300)
			mgcf.mgw->sdp_answered(call->mgw, "", 0);
		tnd_info("call %u: T.38 refused (%d): the fax stays in G.711",
			 call->id, status);
		return;
	}
	mgcf_ladder(call, "<ims", "ACK");
	tnd_info("call %u: T.38", call->id);
}

/* T.38 Annex D.2.2: a fax tone on the circuit, the call answered: offer
 * IMS the fax as T.38 in a re-INVITE. */
void mgcf_sip_t38(struct mgcf_call *call)
{
	char sdp[MGW_SDP_MAX], hdr[HDRS_MAX];
	int n;

	if (call->t38_sent || call->reinvite || !call->mgw ||
	    !call->local_tag[0] || !call->remote_tag[0])
		return;
	n = mgcf.mgw->sdp_offer_t38(call->mgw, sdp, sizeof(sdp));
	if (n < 0)
		return;
	call->t38_sent = true;
	contact_header(hdr, sizeof(hdr));
	mgcf_ladder(call, "<ims", "INVITE +SDP (T.38)");
	if (dialog_request_body(call, "INVITE", hdr, "application/sdp", sdp,
				(size_t)n, on_reinvite_response,
				&call->reinvite) < 0) {
		mgcf.mgw->sdp_answered(call->mgw, "", 0);
		call->reinvite = NULL;
	}
}

/* ---- Requests from IMS inside a call ---------------------------------------------------------- */

static enum sip_verdict on_ack(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sip()->request_message(req);
	struct view view = { .sip = m };
	struct mgcf_call *call = call_of(&view);

	(void)arg;
	if (!call)
		return SIP_DECLINED;
	learn_tag(call->local_tag, sizeof(call->local_tag), &view, "To");
	if (call->acked)
		return SIP_TAKEN; /* a re-INVITE's ACK, or a retransmission */
	call->acked = true;
	mgcf_ladder(call, "ims>", "ACK");
	mgcf_call_timer_stop(call);
	if (call->state == ST_O_ANSWERED)
		mgcf_fsm_go(call, ST_ACTIVE, EV_SIP_ACK);
	if (call->bye_pending)
		send_bye(call, call->cause);
	mgcf_call_hold(call);
	mgcf_call_put(call); /* frees it when that was all */
	return SIP_TAKEN;
}

static enum sip_verdict on_bye(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sip()->request_message(req);
	struct view view = { .sip = m };
	struct mgcf_call *call = call_of(&view);
	int cause;

	(void)arg;
	if (!call)
		return SIP_DECLINED; /* 481 from the default UAS */
	sip()->reply(req, 200, "OK", NULL, NULL, NULL, 0);
	cause = reason_cause(&view, Q850_NORMAL_CLEARING);
	mgcf_ladder(call, "ims>", "BYE");
	mgcf_ladder(call, "<ims", "200 OK (BYE)");
	if (call->invite && !call->final_sent) {
		/* RFC 3261 15.1.2: a BYE in an early dialog ends the INVITE
		 * with 487 */
		mgcf_call_timer_stop(call);
		sip()->reply(call->invite, 487, "Request Terminated", NULL,
			     NULL, NULL, 0);
		call->final_sent = true;
		sip()->release(call->invite);
		call->invite = NULL;
	}
	call->acked = true;
	call->sip_done = true;
	tnd_info("call %u: BYE from IMS, cause %d", call->id, cause);
	mgcf_call_release(call, cause, EV_SIP_BYE);
	return SIP_TAKEN;
}

static enum sip_verdict on_prack(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sip()->request_message(req);
	struct view view = { .sip = m };
	struct mgcf_call *call = call_of(&view);
	char rack[64];

	(void)arg;
	if (!call)
		return SIP_DECLINED;
	header_str(&view, "RAck", rack, sizeof(rack));
	if (!call->prack_wait || strtoul(rack, NULL, 10) != call->rseq) {
		sip()->reply(req, 481, NULL, NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	learn_tag(call->local_tag, sizeof(call->local_tag), &view, "To");
	sip()->reply(req, 200, "OK", NULL, NULL, NULL, 0);
	mgcf_ladder(call, "ims>", "PRACK");
	mgcf_ladder(call, "<ims", "200 OK (PRACK)");
	call->prack_wait = false;
	if (call->rel_timer)
		mgcf.host->timer_stop(call->rel_timer);
	mgcf_call_hold(call);
	if (call->held_final == 200) {
		call->held_final = 0;
		send_200(call);
	}
	mgcf_call_put(call);
	return SIP_TAKEN;
}

/* SIP INFO with application/dtmf-relay: the digit goes in band. */
static enum sip_verdict on_info(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sip()->request_message(req);
	struct view view = { .sip = m };
	struct mgcf_call *call = call_of(&view);
	struct sip_text body = sip()->body(m);
	unsigned duration_ms;
	char type[64], digit;

	(void)arg;
	if (!call)
		return SIP_DECLINED;
	header_str(&view, "Content-Type", type, sizeof(type));
	if (strncasecmp(type, "application/dtmf-relay", 22) != 0 ||
	    mgcf_dtmf_relay(body.ptr, body.len, &digit, &duration_ms) < 0) {
		sip()->reply(req, 415, NULL,
			     "Accept: application/dtmf-relay\r\n", NULL, NULL,
			     0);
		return SIP_TAKEN;
	}
	sip()->reply(req, 200, "OK", NULL, NULL, NULL, 0);
	if (call->mgw)
		mgcf.mgw->dtmf(call->mgw, digit, duration_ms);
	tnd_debug("call %u: INFO digit %c, %u ms", call->id, digit,
		  duration_ms);
	return SIP_TAKEN;
}

/* The handlers claim their requests: our dialogs are ours, not the sip
 * service's (which answers 481 to in-dialog requests it does not know
 * unless a handler claims them). */
int mgcf_sip_start(void)
{
	const unsigned f = SIP_HANDLER_CLAIM;
	const struct sip_service *s = sip();
	int rc;

	mgcf.sip_on_cancel =
		s->size >= offsetof(struct sip_service, on_cancel) +
				   sizeof(s->on_cancel) &&
		s->on_cancel;
	if (!mgcf.sip_on_cancel)
		tnd_notice("the sip service cannot tell of CANCELs: polling "
			   "every %llu ms",
			   (unsigned long long)mgcf.cfg->cancel_poll_ms);
	rc = sip()->handler_add("INVITE", f, "100rel, timer", on_invite,
				NULL);
	if (!rc)
		rc = sip()->handler_add("ACK", f, NULL, on_ack, NULL);
	if (!rc)
		rc = sip()->handler_add("BYE", f, NULL, on_bye, NULL);
	if (!rc)
		rc = sip()->handler_add("PRACK", f, NULL, on_prack, NULL);
	if (!rc)
		rc = sip()->handler_add("INFO", f, NULL, on_info, NULL);
	if (!rc)
		rc = sip()->handler_add("UPDATE", f, NULL, on_update, NULL);
	return rc;
}

void mgcf_sip_stop(void)
{
	sip()->handler_remove(on_invite, NULL);
	sip()->handler_remove(on_ack, NULL);
	sip()->handler_remove(on_bye, NULL);
	sip()->handler_remove(on_prack, NULL);
	sip()->handler_remove(on_info, NULL);
	sip()->handler_remove(on_update, NULL);
}
