/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf_pri: the circuit side of the MGCF, on the pri service. Calls from
 * IMS are placed on a trunk group's spans (hunting sequential, round
 * robin or least used); calls from the circuit are numbered in E.164 by
 * the trunk's rules, their digits collected when they come one by one
 * (overlap, Q.931 5.1.3 / 5.2.4), and sent on as SIP INVITEs.
 *
 * Q.931 -> SIP, per RFC 3398 and TS 29.163 7.2.3:
 *   ALERTING         -> 180, or 183 with SDP when in-band info (PI 8)
 *   PROGRESS (PI 8)  -> 183 with SDP, media through backward
 *   CONNECT          -> 200 with SDP, media both ways
 *   DISCONNECT/RELEASE -> a final response, CANCEL or BYE, with Reason
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgcf_int.h"

/* ---- Hunting ------------------------------------------------------------ */

static int span_free(int span)
{
	struct tnd_pri_span_info info;
	int n = mgcf.pri->span_count();

	for (int i = 0; i < n; i++)
		if (mgcf.pri->span_info(i, &info) == 0 && info.span == span)
			return info.up && !info.alarm ? info.bchans_free : -1;
	return -1;
}

/* The trunk's spans in the order its hunting says to try them. */
static unsigned hunt_order(struct mgcf_trunk *t, int *order)
{
	unsigned n = t->nspans;

	for (unsigned i = 0; i < n; i++)
		order[i] = t->spans[(i + (t->hunt == HUNT_ROUNDROBIN ?
						  t->next_span : 0)) % n];
	if (t->hunt == HUNT_LEAST) {
		int free_of[MGCF_TRUNK_SPANS];

		for (unsigned i = 0; i < n; i++)
			free_of[i] = span_free(order[i]);
		/* insertion sort, most free B-channels first */
		for (unsigned i = 1; i < n; i++)
			for (unsigned k = i; k > 0 &&
					     free_of[k] > free_of[k - 1];
			     k--) {
				int s = order[k], f = free_of[k];

				order[k] = order[k - 1];
				free_of[k] = free_of[k - 1];
				order[k - 1] = s;
				free_of[k - 1] = f;
			}
	}
	return n;
}

static int bchan_of(int span, uint32_t id)
{
	struct tnd_pri_chan_info ci;

	for (int b = 1; b <= 31; b++)
		if (mgcf.pri->chan_info(span, b, &ci) == 0 && ci.call == id)
			return b;
	return 0;
}

static int fill_number(struct tnd_pri_number *n, const struct mgcf_numplan *p,
		       const char *number, enum mgcf_numfmt fmt)
{
	int ton, npi, rc;

	rc = mgcf_number_to_circuit(p, number, fmt, n->digits,
				    sizeof(n->digits), &ton, &npi);
	n->ton = (uint8_t)ton;
	n->npi = (uint8_t)npi;
	return rc;
}

int mgcf_pri_place(struct mgcf_call *call, const char *calling,
		   bool restricted, bool screened)
{
	struct mgcf_trunk *t = call->trunk;
	struct tnd_pri_setup s = { .bearer = TND_PRI_BEARER_SPEECH };
	int order[MGCF_TRUNK_SPANS], busy = 0, down = 0;
	unsigned n;
	uint32_t id;

	if (fill_number(&s.called, &t->plan, call->called,
			t->plan.called_format) < 0)
		return Q850_ADDRESS_INCOMPLETE;
	if (calling && *calling &&
	    fill_number(&s.calling, &t->plan, calling,
			t->plan.calling_format) == 0) {
		/* Q.931 4.5.10: presentation and screening indicators */
		s.calling.pres = restricted ? 1 : 0;
		s.calling.screen = screened ? 3 : 0;
	} else {
		s.calling.pres = 2; /* not available */
	}
	n = hunt_order(t, order);
	for (unsigned i = 0; i < n; i++) {
		int rc;

		s.span = order[i];
		rc = mgcf.pri->call(&s, &id);
		if (rc == 0) {
			mgcf_ladder(call, "<pri", "SETUP %s (ton %d) span %d",
				    s.called.digits, s.called.ton, order[i]);
			call->pri_call = id;
			call->span = order[i];
			call->bchan = bchan_of(order[i], id);
			t->next_span = (t->next_span + 1) % t->nspans;
			t->calls_out++;
			return 0;
		}
		if (rc == -EBUSY)
			busy++;
		else
			down++;
		tnd_debug("call %u: span %d: %s", call->id, order[i],
			  strerror(-rc));
	}
	t->rejected++;
	mgcf.host->counter_add(mgcf.c_no_circuit, 1);
	return busy ? Q850_NO_CIRCUIT : down ? Q850_NETWORK_OUT_OF_ORDER :
					    Q850_NO_ROUTE;
}

void mgcf_pri_clear(struct mgcf_call *call, int cause)
{
	if (!call->pri_call || call->pri_releasing)
		return;
	call->pri_releasing = true;
	mgcf_ladder(call, "<pri", "DISCONNECT (cause %d)", cause);
	if (mgcf.pri->release(call->pri_call, cause) == -ENOENT)
		call->pri_call = 0; /* already gone */
}

/* ---- Calls from the circuit ----------------------------------------------- */

/* The called number is complete: number it and send the INVITE. */
void mgcf_pri_digits_done(struct mgcf_call *call)
{
	struct mgcf_numplan *plan = &call->trunk->plan;
	size_t n = strlen(call->raw_called);
	int cause;

	mgcf_call_timer_stop(call);
	if (n && call->raw_called[n - 1] == '#')
		call->raw_called[n - 1] = '\0'; /* end of dialling */
	if (mgcf_number_to_e164(plan, call->raw_called, call->raw_ton,
				call->raw_npi, call->called,
				sizeof(call->called)) < 0 ||
	    !call->called[0]) {
		mgcf_call_release(call, Q850_ADDRESS_INCOMPLETE, EV_LOCAL);
		return;
	}
	mgcf_ladder(call, "<pri", "CALL PROCEEDING");
	mgcf.pri->proceeding(call->pri_call);
	cause = mgcf_sip_invite(call);
	if (cause)
		mgcf_call_release(call, cause, EV_LOCAL);
}

static bool digits_complete(const struct mgcf_call *call, int complete)
{
	size_t n = strlen(call->raw_called);
	unsigned want = (unsigned)call->trunk->cfg.called_digits;

	return complete || (n && call->raw_called[n - 1] == '#') ||
	       (want && n >= want);
}

static void on_setup(const struct tnd_pri_event *ev)
{
	const struct tnd_pri_setup *s = ev->setup;
	struct mgcf_trunk *t = mgcf_trunk_of_span(ev->span);
	struct mgcf_call *call;

	if (!t) {
		tnd_notice("span %d: no [trunk] has it: call rejected",
			   ev->span);
		mgcf.pri->release(ev->call, Q850_CALL_REJECTED);
		return;
	}
	call = mgcf_call_new(MGCF_FROM_PSTN);
	if (!call) {
		mgcf.pri->release(ev->call, Q850_CONGESTION);
		return;
	}
	mgcf.host->counter_add(mgcf.c_from_pstn, 1);
	t->calls_in++;
	call->trunk = t;
	call->pri_call = ev->call;
	call->span = ev->span;
	call->bchan = ev->bchan;
	call->t_start_us = mgcf_now_us();
	snprintf(call->raw_called, sizeof(call->raw_called), "%s",
		 s->called.digits);
	call->raw_ton = s->called.ton;
	call->raw_npi = s->called.npi;
	call->pres = s->calling.pres;
	if (s->calling.digits[0] &&
	    mgcf_number_to_e164(&t->plan, s->calling.digits, s->calling.ton,
				s->calling.npi, call->calling,
				sizeof(call->calling)) < 0)
		call->calling[0] = '\0';
	mgcf_call_hold(call);
	mgcf_ladder(call, "pri>", "SETUP %s (ton %d)%s", s->called.digits,
		    s->called.ton, s->overlap ? " overlap" : "");
	tnd_info("call %u from span %d bchan %d: %s (ton %d) -> %s (ton %d)%s",
		 call->id, ev->span, ev->bchan,
		 s->calling.digits[0] ? s->calling.digits : "-",
		 s->calling.ton, s->called.digits, s->called.ton,
		 s->overlap ? ", overlap" : "");
	if (s->overlap && !digits_complete(call, 0)) {
		mgcf_fsm_go(call, ST_I_OVERLAP, EV_PRI_SETUP);
		mgcf_call_timer(call, mgcf.cfg->overlap_timeout_ms, 0);
	} else {
		mgcf_pri_digits_done(call);
	}
	mgcf_call_put(call);
}

static void on_info(struct mgcf_call *call, const struct tnd_pri_event *ev)
{
	size_t n = strlen(call->raw_called);

	if (call->state != ST_I_OVERLAP)
		return;
	snprintf(call->raw_called + n, sizeof(call->raw_called) - n, "%s",
		 ev->digits ? ev->digits : "");
	if (digits_complete(call, ev->complete)) {
		mgcf_pri_digits_done(call);
		return;
	}
	mgcf_call_timer(call, mgcf.cfg->overlap_timeout_ms, 0);
}

/* ---- Calls to the circuit: its answers -------------------------------------- */

static void moved(struct mgcf_call *call, const struct tnd_pri_event *ev)
{
	if (!ev->bchan || ev->bchan == call->bchan)
		return;
	tnd_info("call %u: span %d took bchan %d instead of %d", call->id,
		 ev->span, ev->bchan, call->bchan);
	call->bchan = ev->bchan;
	if (call->mgw)
		mgcf.mgw->ctx_move(call->mgw, (unsigned)ev->span,
				   (unsigned)ev->bchan);
}

static void on_alerting(struct mgcf_call *call, const struct tnd_pri_event *ev)
{
	bool media = ev->inband && mgcf.cfg->early_media;
	uint64_t t0 = mgcf_now_us();

	if (mgcf_fsm_go(call, ST_O_ALERTING, EV_PRI_ALERTING) < 0)
		return;
	mgcf_sip_progress(call, media ? 183 : 180, media);
	mgcf_latency(LAT_ALERT_180, t0);
}

static void on_progress(struct mgcf_call *call, const struct tnd_pri_event *ev)
{
	uint64_t t0 = mgcf_now_us();

	if (!ev->inband || !mgcf.cfg->early_media)
		return; /* nothing a SIP caller would hear */
	if (call->state == ST_O_ALERTING) {
		/* in-band info after a plain 180: the 183 brings it */
		mgcf_sip_progress(call, 183, true);
		return;
	}
	if (mgcf_fsm_go(call, ST_O_PROGRESS, EV_PRI_PROGRESS) == 0)
		mgcf_sip_progress(call, 183, true);
	mgcf_latency(LAT_ALERT_180, t0);
}

static void on_connect(struct mgcf_call *call)
{
	uint64_t t0 = mgcf_now_us();

	if (mgcf_fsm_go(call, ST_O_ANSWERED, EV_PRI_CONNECT) < 0)
		return;
	call->confirmed = true;
	mgcf.host->counter_add(mgcf.c_answered, 1);
	mgcf_sip_answer(call);
	mgcf_latency(LAT_CONNECT_200, t0);
}

static void ladder_event(struct mgcf_call *call,
			 const struct tnd_pri_event *ev)
{
	static const char *const names[] = {
		[TND_PRI_EV_SETUP_ACK] = "SETUP ACKNOWLEDGE",
		[TND_PRI_EV_INFO] = "INFORMATION",
		[TND_PRI_EV_PROCEEDING] = "CALL PROCEEDING",
		[TND_PRI_EV_ALERTING] = "ALERTING",
		[TND_PRI_EV_PROGRESS] = "PROGRESS",
		[TND_PRI_EV_CONNECT] = "CONNECT",
		[TND_PRI_EV_DISCONNECT] = "DISCONNECT",
		[TND_PRI_EV_RELEASE] = "RELEASE",
		[TND_PRI_EV_NOTIFY] = "NOTIFY",
	};
	const char *name = ev->type < sizeof(names) / sizeof(names[0]) ?
				   names[ev->type] : NULL;

	if (!name)
		return;
	/* after the far end's DISCONNECT, our RELEASE went out and the end
	 * of the call is its RELEASE COMPLETE (Q.931 5.3.4) */
	if (ev->type == TND_PRI_EV_RELEASE && call->far_disconnected)
		name = "REL COMPLETE"; /* short: it fits the ladder */
	if (ev->type == TND_PRI_EV_DISCONNECT)
		call->far_disconnected = true;
	if (ev->type == TND_PRI_EV_DISCONNECT || ev->type == TND_PRI_EV_RELEASE)
		mgcf_ladder(call, "pri>", "%s (cause %d)", name, ev->cause);
	else if (ev->type == TND_PRI_EV_INFO)
		mgcf_ladder(call, "pri>", "%s %s", name,
			    ev->digits ? ev->digits : "");
	else
		mgcf_ladder(call, "pri>", "%s%s", name,
			    ev->inband ? " (PI 8)" : "");
}

static void on_call_event(struct mgcf_call *call,
			  const struct tnd_pri_event *ev)
{
	ladder_event(call, ev);
	switch (ev->type) {
	case TND_PRI_EV_INFO:
		on_info(call, ev);
		break;
	case TND_PRI_EV_PROCEEDING:
		moved(call, ev);
		mgcf_fsm_go(call, ST_O_PROCEEDING, EV_PRI_PROCEEDING);
		break;
	case TND_PRI_EV_ALERTING:
		moved(call, ev);
		if (call->dir == MGCF_FROM_IMS)
			on_alerting(call, ev);
		break;
	case TND_PRI_EV_PROGRESS:
		moved(call, ev);
		if (call->dir == MGCF_FROM_IMS)
			on_progress(call, ev);
		break;
	case TND_PRI_EV_CONNECT:
		moved(call, ev);
		if (call->dir == MGCF_FROM_IMS)
			on_connect(call);
		break;
	case TND_PRI_EV_DISCONNECT:
		/* the pri plugin answers it (RELEASE) itself */
		call->pri_releasing = true;
		mgcf_call_release(call, ev->cause ? ev->cause :
				  Q850_NORMAL_CLEARING, EV_PRI_DISCONNECT);
		break;
	case TND_PRI_EV_RELEASE:
		call->pri_call = 0;
		mgcf_call_release(call, ev->cause ? ev->cause :
				  Q850_NORMAL_CLEARING, EV_PRI_RELEASE);
		break;
	case TND_PRI_EV_NOTIFY:
		tnd_info("call %u: NOTIFY %#x from the circuit", call->id,
			 (unsigned)ev->notify);
		break;
	default:
		break;
	}
}

static void on_pri_event(const struct tnd_pri_event *ev, void *arg)
{
	struct mgcf_call *call;

	(void)arg;
	switch (ev->type) {
	case TND_PRI_EV_SETUP:
		on_setup(ev);
		return;
	case TND_PRI_EV_SPAN_UP:
		tnd_info("span %d: D-channel up", ev->span);
		return;
	case TND_PRI_EV_SPAN_DOWN:
		tnd_notice("span %d: D-channel down: its calls are cleared "
			   "(cause 38), new calls go to the trunk's other spans",
			   ev->span);
		return;
	case TND_PRI_EV_RESTART:
		tnd_info("span %d: RESTART of %s from the far end", ev->span,
			 ev->bchan ? "a B-channel" : "the interface");
		return;
	default:
		break;
	}
	call = mgcf_call_by_pri(ev->call);
	if (!call)
		return;
	mgcf_call_hold(call);
	on_call_event(call, ev);
	mgcf_call_put(call);
}

int mgcf_pri_start(void)
{
	int rc = mgcf.pri->subscribe(on_pri_event, NULL);

	if (rc < 0)
		tnd_error("cannot subscribe to the pri service: %s "
			  "(another call control user?)", strerror(-rc));
	return rc;
}

void mgcf_pri_stop(void)
{
	mgcf.pri->unsubscribe(on_pri_event, NULL);
}
