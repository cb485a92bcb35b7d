/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pri: the call state machine. Each state lists the events it accepts and
 * the states it may go to (Osmocom style); every transition is logged as
 *   call 7 (span 1 bchan 3): OUT_SETUP -> OUT_PROCEEDING on PROCEED_IND
 * which the tests diff against expected traces. The states follow the
 * Q.931 call states (ITU-T Q.931 2.1) seen from the application: libpri
 * keeps the protocol states, this machine keeps what the MGCF may do next.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pri_int.h"

#define S(x) (1u << PRI_CS_##x)
#define E(x) (1u << PRI_CE_##x)

/* Every live state can be cleared, from either end or by maintenance. */
#define E_CLEAR                                                                \
	(E(DISCONNECT_IND) | E(RELEASE_IND) | E(HANGUP_REQ) | E(RESTART_IND) | \
	 E(SPAN_DOWN) | E(NOTIFY_IND))
#define S_CLEAR (S(RELEASING) | S(RELEASED))

struct fsm_state {
	const char *name;
	uint32_t in_events;
	uint32_t out_states;
};

static const struct fsm_state states[PRI_CS_COUNT] = {
	[PRI_CS_NULL] = { "NULL", E(PLACE) | E(SETUP_IND),
			  S(OUT_SETUP) | S(IN_SETUP) | S(IN_OVERLAP) |
				  S_CLEAR },
	[PRI_CS_OUT_SETUP] = { "OUT_SETUP",
			       E_CLEAR | E(SETUP_ACK_IND) | E(INFO_REQ) |
				       E(PROCEED_IND) | E(ALERT_IND) |
				       E(PROGRESS_IND) | E(CONNECT_IND),
			       S(OUT_OVERLAP) | S(OUT_PROCEEDING) |
				       S(OUT_ALERTING) | S(ACTIVE) | S_CLEAR },
	[PRI_CS_OUT_OVERLAP] = { "OUT_OVERLAP",
				 E_CLEAR | E(INFO_REQ) | E(PROCEED_IND) |
					 E(ALERT_IND) | E(PROGRESS_IND) |
					 E(CONNECT_IND),
				 S(OUT_PROCEEDING) | S(OUT_ALERTING) |
					 S(ACTIVE) | S_CLEAR },
	[PRI_CS_OUT_PROCEEDING] = { "OUT_PROCEEDING",
				    E_CLEAR | E(ALERT_IND) | E(PROGRESS_IND) |
					    E(CONNECT_IND),
				    S(OUT_ALERTING) | S(ACTIVE) | S_CLEAR },
	[PRI_CS_OUT_ALERTING] = { "OUT_ALERTING",
				  E_CLEAR | E(PROGRESS_IND) | E(CONNECT_IND) |
					  E(NOANSWER),
				  S(ACTIVE) | S_CLEAR },
	[PRI_CS_IN_SETUP] = { "IN_SETUP",
			      E_CLEAR | E(SETUP_ACK_REQ) | E(PROCEED_REQ) |
				      E(ALERT_REQ) | E(PROGRESS_REQ) |
				      E(ANSWER_REQ) | E(INFO_IND),
			      S(IN_OVERLAP) | S(IN_PROCEEDING) |
				      S(IN_ALERTING) | S(ACTIVE) | S_CLEAR },
	[PRI_CS_IN_OVERLAP] = { "IN_OVERLAP",
				E_CLEAR | E(INFO_IND) | E(PROCEED_REQ) |
					E(ALERT_REQ) | E(PROGRESS_REQ) |
					E(ANSWER_REQ),
				S(IN_PROCEEDING) | S(IN_ALERTING) | S(ACTIVE) |
					S_CLEAR },
	[PRI_CS_IN_PROCEEDING] = { "IN_PROCEEDING",
				   E_CLEAR | E(ALERT_REQ) | E(PROGRESS_REQ) |
					   E(ANSWER_REQ),
				   S(IN_ALERTING) | S(ACTIVE) | S_CLEAR },
	[PRI_CS_IN_ALERTING] = { "IN_ALERTING",
				 E_CLEAR | E(PROGRESS_REQ) | E(ANSWER_REQ),
				 S(ACTIVE) | S_CLEAR },
	[PRI_CS_ACTIVE] = { "ACTIVE", E_CLEAR | E(INFO_IND), S_CLEAR },
	[PRI_CS_RELEASING] = { "RELEASING",
			       E(DISCONNECT_IND) | E(RELEASE_IND) |
				       E(HANGUP_REQ) | E(HANGUP_DONE) |
				       E(RESTART_IND) | E(SPAN_DOWN),
			       S(RELEASED) },
	[PRI_CS_RELEASED] = { "RELEASED", 0, 0 },
};

static const char *const event_names[PRI_CE_COUNT] = {
	[PRI_CE_PLACE] = "PLACE",
	[PRI_CE_SETUP_IND] = "SETUP_IND",
	[PRI_CE_SETUP_ACK_REQ] = "SETUP_ACK_REQ",
	[PRI_CE_SETUP_ACK_IND] = "SETUP_ACK_IND",
	[PRI_CE_INFO_REQ] = "INFO_REQ",
	[PRI_CE_INFO_IND] = "INFO_IND",
	[PRI_CE_PROCEED_REQ] = "PROCEED_REQ",
	[PRI_CE_PROCEED_IND] = "PROCEED_IND",
	[PRI_CE_ALERT_REQ] = "ALERT_REQ",
	[PRI_CE_ALERT_IND] = "ALERT_IND",
	[PRI_CE_PROGRESS_REQ] = "PROGRESS_REQ",
	[PRI_CE_PROGRESS_IND] = "PROGRESS_IND",
	[PRI_CE_ANSWER_REQ] = "ANSWER_REQ",
	[PRI_CE_CONNECT_IND] = "CONNECT_IND",
	[PRI_CE_NOTIFY_IND] = "NOTIFY_IND",
	[PRI_CE_DISCONNECT_IND] = "DISCONNECT_IND",
	[PRI_CE_RELEASE_IND] = "RELEASE_IND",
	[PRI_CE_HANGUP_REQ] = "HANGUP_REQ",
	[PRI_CE_HANGUP_DONE] = "HANGUP_DONE",
	[PRI_CE_RESTART_IND] = "RESTART_IND",
	[PRI_CE_SPAN_DOWN] = "SPAN_DOWN",
	[PRI_CE_NOANSWER] = "NOANSWER",
};

const char *pri_call_state_name(enum pri_call_state state)
{
	return state < PRI_CS_COUNT ? states[state].name : "?";
}

const char *pri_call_event_name(enum pri_call_event event)
{
	return event < PRI_CE_COUNT ? event_names[event] : "?";
}

int pri_call_may_go(enum pri_call_state from, enum pri_call_state to)
{
	return from < PRI_CS_COUNT && to < PRI_CS_COUNT &&
	       (states[from].out_states & (1u << to)) != 0;
}

static void set_state(struct pri_call *call, enum pri_call_state to,
		      enum pri_call_event why)
{
	if (!pri_call_may_go(call->state, to))
		tnd_error("call %u: %s -> %s is not in the state table",
			  call->id, pri_call_state_name(call->state),
			  pri_call_state_name(to));
	tnd_debug("call %u (span %d bchan %d): %s -> %s on %s", call->id,
		  call->span->number, call->bchan,
		  pri_call_state_name(call->state), pri_call_state_name(to),
		  pri_call_event_name(why));
	call->state = to;
}

/* ---- Helpers ------------------------------------------------------------ */

/* A channel named by the far end in a response: take it if it moved. */
static int take_bchan(struct pri_call *call, int bchan)
{
	struct pri_span *span = call->span;

	if (!bchan || bchan == call->bchan)
		return 0;
	if (bchan > PRI_MAX_BCHAN ||
	    (span->bchan[bchan].state != TND_PRI_BCHAN_IDLE &&
	     span->bchan[bchan].call != call))
		return -EBUSY;
	if (call->bchan && span->bchan[call->bchan].call == call)
		pri_bchan_set(span, call->bchan, TND_PRI_BCHAN_IDLE, NULL);
	call->bchan = bchan;
	pri_bchan_set(span, bchan, TND_PRI_BCHAN_BUSY, call);
	return 0;
}

static void noanswer_fired(struct tnd_timer *timer, void *arg)
{
	struct pri_call *call = arg;

	(void)timer;
	pri_call_fsm(call, PRI_CE_NOANSWER, NULL);
}

static void noanswer_start(struct pri_call *call)
{
	uint64_t ms = call->span->noanswer_ms;

	if (!ms)
		return;
	if (!call->noanswer_timer)
		call->noanswer_timer =
			pri_host->timer_new(pri_self, noanswer_fired, call);
	if (call->noanswer_timer)
		pri_host->timer_start(call->noanswer_timer, ms, 0);
}

static void noanswer_stop(struct pri_call *call)
{
	if (call->noanswer_timer)
		pri_host->timer_stop(call->noanswer_timer);
}

/* The call is gone: RELEASE to the application, then free it. */
static void finish(struct pri_call *call, enum pri_call_event why, int cause)
{
	struct pri_call_input in = { .cause = call->cause ? call->cause
							  : cause };

	set_state(call, PRI_CS_RELEASED, why);
	if (!in.cause)
		in.cause = PRI_CAUSE_NORMAL_CLEARING;
	call->cause = in.cause;
	pri_emit_call(call, TND_PRI_EV_RELEASE, &in);
	pri_call_destroy(call);
}

/* ---- Outgoing ----------------------------------------------------------- */

static int transfer_capability(enum tnd_pri_bearer bearer)
{
	switch (bearer) {
	case TND_PRI_BEARER_AUDIO_3K1: return PRI_TRANS_CAP_3_1K_AUDIO;
	case TND_PRI_BEARER_DIGITAL: return PRI_TRANS_CAP_DIGITAL;
	default: return PRI_TRANS_CAP_SPEECH;
	}
}

/* Q.931 4.5.5 octet 5: A-law in Europe (E1), mu-law in North America. */
static int layer1_of(int switchtype)
{
	switch (switchtype) {
	case PRI_SWITCH_EUROISDN_E1:
	case PRI_SWITCH_QSIG: return PRI_LAYER_1_ALAW;
	default: return PRI_LAYER_1_ULAW;
	}
}

static int plan_of(const struct tnd_pri_number *num)
{
	return ((num->ton & 0x7) << 4) | (num->npi & 0xf);
}

static int pres_of(const struct tnd_pri_number *num)
{
	return ((num->pres & 0x3) << 5) | (num->screen & 0x3);
}

static int act_place(struct pri_call *call, const struct pri_call_input *in)
{
	struct pri_span *span = call->span;
	struct tnd_pri_setup *s = &call->setup;
	struct pri_sr *sr;
	int rc;

	call->q931 = pri_new_call(span->ctrl);
	sr = pri_sr_new();
	if (!call->q931 || !sr) {
		pri_sr_free(sr);
		return -ENOMEM;
	}
	call->bchan = in->bchan;
	pri_sr_set_channel(sr, in->bchan, s->exclusive, 0);
	pri_sr_set_bearer(sr, transfer_capability(s->bearer),
			  layer1_of(span->switchtype));
	pri_sr_set_called(sr, s->called.digits, plan_of(&s->called),
			  !s->overlap);
	pri_sr_set_caller(sr, s->calling.digits[0] ? s->calling.digits : NULL,
			  s->calling_name[0] ? s->calling_name : NULL,
			  plan_of(&s->calling), pres_of(&s->calling));
	rc = pri_setup(span->ctrl, call->q931, sr);
	pri_sr_free(sr);
	if (rc) {
		pri_destroycall(span->ctrl, call->q931);
		call->q931 = NULL;
		return -EIO;
	}
	call->sent_digits = strlen(s->called.digits);
	pri_bchan_set(span, call->bchan, TND_PRI_BCHAN_BUSY, call);
	pri_count(PRI_CNT_CALLS_OUT);
	set_state(call, PRI_CS_OUT_SETUP, PRI_CE_PLACE);
	return 0;
}

static int send_digits(struct pri_call *call, const char *digits)
{
	for (const char *d = digits; *d; d++)
		if (pri_information(call->span->ctrl, call->q931, *d))
			return -EIO;
	return 0;
}

/* Digits before SETUP ACK wait in the called number; after it they go out
 * one INFORMATION each (Q.931 5.1.3). */
static int act_info_req(struct pri_call *call, const struct pri_call_input *in)
{
	struct tnd_pri_number *called = &call->setup.called;
	size_t have = strlen(called->digits);

	if (!in || !in->digits || !*in->digits)
		return -EINVAL;
	if (!call->setup.overlap)
		return -EPERM; /* en bloc: the number was complete */
	if (have + strlen(in->digits) > TND_PRI_DIGITS_MAX)
		return -EINVAL;
	if (call->state == PRI_CS_OUT_SETUP) {
		call->pending_digits = 1;
		snprintf(called->digits + have, sizeof(called->digits) - have,
			 "%s", in->digits);
		return 0;
	}
	snprintf(called->digits + have, sizeof(called->digits) - have, "%s",
		 in->digits);
	call->sent_digits = strlen(called->digits);
	return send_digits(call, in->digits);
}

static int act_progress_ind(struct pri_call *call, enum pri_call_event event,
			    const struct pri_call_input *in)
{
	static const struct {
		enum pri_call_state to;
		enum tnd_pri_event_type type;
	} next[PRI_CE_COUNT] = {
		[PRI_CE_SETUP_ACK_IND] = { PRI_CS_OUT_OVERLAP,
					   TND_PRI_EV_SETUP_ACK },
		[PRI_CE_PROCEED_IND] = { PRI_CS_OUT_PROCEEDING,
					 TND_PRI_EV_PROCEEDING },
		[PRI_CE_ALERT_IND] = { PRI_CS_OUT_ALERTING,
				       TND_PRI_EV_ALERTING },
		[PRI_CE_PROGRESS_IND] = { PRI_CS_NULL, TND_PRI_EV_PROGRESS },
		[PRI_CE_CONNECT_IND] = { PRI_CS_ACTIVE, TND_PRI_EV_CONNECT },
	};
	const char *early = NULL;

	if (take_bchan(call, in->bchan)) {
		struct pri_call_input out = {
			.cause = PRI_CAUSE_REQUESTED_CHAN_UNAVAIL
		};
		tnd_info("call %u: far end chose busy B-channel %d", call->id,
			 in->bchan);
		return pri_call_fsm(call, PRI_CE_HANGUP_REQ, &out);
	}
	if (next[event].to != PRI_CS_NULL && next[event].to != call->state)
		set_state(call, next[event].to, event);
	if (event == PRI_CE_SETUP_ACK_IND && call->pending_digits) {
		/* The digits dialled while the SETUP was on its way. */
		call->pending_digits = 0;
		early = call->setup.called.digits + call->sent_digits;
	}
	if (event == PRI_CE_ALERT_IND)
		noanswer_start(call);
	if (event == PRI_CE_CONNECT_IND) {
		noanswer_stop(call);
		pri_count(PRI_CNT_ANSWERED);
	}
	if (early && send_digits(call, early))
		tnd_info("call %u: overlap digits not sent", call->id);
	call->sent_digits = strlen(call->setup.called.digits);
	pri_emit_call(call, next[event].type, in);
	return 0;
}

/* ---- Incoming ------------------------------------------------------------ */

static int act_setup_ind(struct pri_call *call, const struct pri_call_input *in)
{
	struct pri_span *span = call->span;
	struct pri_call_input reject = { .cause = PRI_CAUSE_CALL_REJECTED };

	call->bchan = in->bchan;
	pri_bchan_set(span, call->bchan, TND_PRI_BCHAN_BUSY, call);
	if (call->setup.overlap) {
		/* Q.931 5.2.4: overlap receiving starts with SETUP ACK. */
		set_state(call, PRI_CS_IN_OVERLAP, PRI_CE_SETUP_IND);
		pri_setup_ack(span->ctrl, call->q931, call->bchan, 0, 0);
	} else {
		set_state(call, PRI_CS_IN_SETUP, PRI_CE_SETUP_IND);
	}
	if (!pri_has_subscriber()) {
		tnd_info("call %u: no call control user: rejected", call->id);
		return pri_call_fsm(call, PRI_CE_HANGUP_REQ, &reject);
	}
	pri_emit_call(call, TND_PRI_EV_SETUP, in);
	return 0;
}

static int act_answer_side(struct pri_call *call, enum pri_call_event event,
			   const struct pri_call_input *in)
{
	struct pri *ctrl = call->span->ctrl;
	int inband = in ? in->inband : 0;
	int rc = 0;

	switch (event) {
	case PRI_CE_SETUP_ACK_REQ:
		rc = pri_setup_ack(ctrl, call->q931, call->bchan, 0, inband);
		set_state(call, PRI_CS_IN_OVERLAP, event);
		break;
	case PRI_CE_PROCEED_REQ:
		rc = pri_proceeding(ctrl, call->q931, call->bchan, 0);
		set_state(call, PRI_CS_IN_PROCEEDING, event);
		break;
	case PRI_CE_ALERT_REQ:
		rc = pri_acknowledge(ctrl, call->q931, call->bchan, inband);
		set_state(call, PRI_CS_IN_ALERTING, event);
		break;
	case PRI_CE_PROGRESS_REQ:
		rc = pri_progress(ctrl, call->q931, call->bchan, inband);
		break;
	case PRI_CE_ANSWER_REQ:
		rc = pri_answer(ctrl, call->q931, call->bchan, 0);
		set_state(call, PRI_CS_ACTIVE, event);
		pri_count(PRI_CNT_ANSWERED);
		break;
	default: break;
	}
	return rc ? -EIO : 0;
}

/* ---- Clearing ------------------------------------------------------------ */

/* Causes libpri sends in RELEASE COMPLETE, clearing the call at once. */
static int clears_at_once(int cause)
{
	return cause == PRI_CAUSE_UNALLOCATED ||
	       cause == PRI_CAUSE_NORMAL_CIRCUIT_CONGESTION ||
	       cause == PRI_CAUSE_REQUESTED_CHAN_UNAVAIL ||
	       cause == PRI_CAUSE_INVALID_CALL_REFERENCE ||
	       cause == PRI_CAUSE_IDENTIFIED_CHANNEL_NOTEXIST;
}

static int act_hangup_req(struct pri_call *call,
			  const struct pri_call_input *in)
{
	struct pri *ctrl = call->span->ctrl;
	int cause = in && in->cause ? in->cause : PRI_CAUSE_NORMAL_CLEARING;

	if (call->state == PRI_CS_RELEASING)
		return 0; /* already on its way */
	noanswer_stop(call);
	call->cause = cause;
	if (call->state == PRI_CS_IN_SETUP && clears_at_once(cause)) {
		pri_hangup(ctrl, call->q931, cause);
		finish(call, PRI_CE_HANGUP_REQ, cause);
		return 0;
	}
	/*
	 * libpri 1.6 sends nothing when a call still in Call Present state
	 * is hung up with a DISCONNECT cause (busy, rejected, ...): answer
	 * it with CALL PROCEEDING first, so the DISCONNECT goes out.
	 */
	if (call->state == PRI_CS_IN_SETUP)
		pri_proceeding(ctrl, call->q931, call->bchan, 0);
	set_state(call, PRI_CS_RELEASING, PRI_CE_HANGUP_REQ);
	pri_hangup(ctrl, call->q931, cause);
	return 0;
}

static int act_disconnect_ind(struct pri_call *call,
			      const struct pri_call_input *in)
{
	noanswer_stop(call);
	if (!call->cause)
		call->cause = in->cause;
	if (call->state != PRI_CS_RELEASING)
		set_state(call, PRI_CS_RELEASING, PRI_CE_DISCONNECT_IND);
	/* Q.931 5.3.4: answer DISCONNECT with RELEASE. */
	pri_hangup(call->span->ctrl, call->q931, call->cause);
	pri_emit_call(call, TND_PRI_EV_DISCONNECT, in);
	return 0;
}

static int act_release_ind(struct pri_call *call,
			   const struct pri_call_input *in)
{
	/* RELEASE or RELEASE COMPLETE received: libpri completes and frees
	 * its call record when told to hang up. */
	pri_hangup(call->span->ctrl, call->q931, in->cause);
	finish(call, PRI_CE_RELEASE_IND, in->cause);
	return 0;
}

/* Restart or alarm: the call is cleared locally, without signalling. */
static int act_local_clear(struct pri_call *call, enum pri_call_event event,
			   const struct pri_call_input *in)
{
	if (call->q931)
		pri_destroycall(call->span->ctrl, call->q931);
	call->q931 = NULL;
	finish(call, event,
	       in ? in->cause : PRI_CAUSE_NORMAL_TEMPORARY_FAILURE);
	return 0;
}

static int act_noanswer(struct pri_call *call)
{
	struct pri_call_input in = { .cause = PRI_CAUSE_NO_ANSWER };

	tnd_info("call %u: no answer after %llu ms", call->id,
		 (unsigned long long)call->span->noanswer_ms);
	return act_hangup_req(call, &in);
}

/* ---- The dispatcher ---------------------------------------------------- */

static int act(struct pri_call *call, enum pri_call_event event,
	       const struct pri_call_input *in)
{
	switch (event) {
	case PRI_CE_PLACE: return act_place(call, in);
	case PRI_CE_SETUP_IND: return act_setup_ind(call, in);
	case PRI_CE_INFO_REQ: return act_info_req(call, in);
	case PRI_CE_SETUP_ACK_IND:
	case PRI_CE_PROCEED_IND:
	case PRI_CE_ALERT_IND:
	case PRI_CE_PROGRESS_IND:
	case PRI_CE_CONNECT_IND: return act_progress_ind(call, event, in);
	case PRI_CE_INFO_IND:
		if (call->state == PRI_CS_IN_OVERLAP && in->digits)
			strncat(call->setup.called.digits, in->digits,
				TND_PRI_DIGITS_MAX -
					strlen(call->setup.called.digits));
		pri_emit_call(call, TND_PRI_EV_INFO, in);
		return 0;
	case PRI_CE_NOTIFY_IND:
		pri_emit_call(call, TND_PRI_EV_NOTIFY, in);
		return 0;
	case PRI_CE_SETUP_ACK_REQ:
	case PRI_CE_PROCEED_REQ:
	case PRI_CE_ALERT_REQ:
	case PRI_CE_PROGRESS_REQ:
	case PRI_CE_ANSWER_REQ: return act_answer_side(call, event, in);
	case PRI_CE_HANGUP_REQ: return act_hangup_req(call, in);
	case PRI_CE_DISCONNECT_IND: return act_disconnect_ind(call, in);
	case PRI_CE_RELEASE_IND: return act_release_ind(call, in);
	case PRI_CE_HANGUP_DONE:
		finish(call, event, in ? in->cause : 0);
		return 0;
	case PRI_CE_RESTART_IND:
	case PRI_CE_SPAN_DOWN: return act_local_clear(call, event, in);
	case PRI_CE_NOANSWER: return act_noanswer(call);
	case PRI_CE_COUNT: break;
	}
	return -EINVAL;
}

int pri_call_fsm(struct pri_call *call, enum pri_call_event event,
		 const struct pri_call_input *in)
{
	struct pri_span *span = call->span;
	static const struct pri_call_input none;
	int rc;

	if (event >= PRI_CE_COUNT ||
	    !(states[call->state].in_events & (1u << event))) {
		tnd_info("call %u: %s not allowed in state %s", call->id,
			 pri_call_event_name(event),
			 pri_call_state_name(call->state));
		return -EPERM;
	}
	rc = act(call, event, in ? in : &none);
	/* `call` may be gone now; the span is not. */
	pri_span_sched(span);
	return rc;
}
