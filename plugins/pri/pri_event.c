/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pri: libpri's events, turned into span changes and call state machine
 * events.
 */
#include <errno.h>
#include <string.h>

#include "pri_int.h"

/* libpri's channel encoding: bits 0-7 the channel, 0xff or -1 "any". */
static int bchan_of(int channel)
{
	if (channel < 0)
		return 0;
	channel &= 0xff;
	return channel == 0xff ? 0 : channel;
}

static int inband_of(int progressmask)
{
	return (progressmask & PRI_PROG_INBAND_AVAILABLE) != 0;
}

/* Longer than our fields (libpri's are 256): cut, as the MGCF would. */
static void copy_digits(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

/* Q.931 4.5.8/4.5.10: octet 3 = ext | TON (3 bits) | NPI (4 bits). */
static void number_from_plan(struct tnd_pri_number *num, const char *digits,
			     int plan, int pres)
{
	copy_digits(num->digits, sizeof(num->digits), digits);
	if (plan >= 0) {
		num->ton = (plan >> 4) & 0x7;
		num->npi = plan & 0xf;
	}
	if (pres >= 0) {
		num->pres = (pres >> 5) & 0x3;
		num->screen = pres & 0x3;
	}
}

static enum tnd_pri_bearer bearer_of(int ctype)
{
	switch (ctype) {
	case PRI_TRANS_CAP_3_1K_AUDIO: return TND_PRI_BEARER_AUDIO_3K1;
	case PRI_TRANS_CAP_DIGITAL:
	case PRI_TRANS_CAP_RESTRICTED_DIGITAL: return TND_PRI_BEARER_DIGITAL;
	default: return TND_PRI_BEARER_SPEECH;
	}
}

/*
 * Q.931 5.7 (glare): the network gives priority to its own call. On the
 * user side, an incoming SETUP for a channel our unanswered outgoing SETUP
 * holds takes the channel; our call then gets another channel or is
 * cleared by the network.
 */
static void yield_to_network(struct pri_span *span, int bchan)
{
	struct pri_call *mine;

	if (span->side != PRI_SIDE_USER || !bchan || bchan > PRI_MAX_BCHAN)
		return;
	mine = span->bchan[bchan].call;
	if (!mine || !mine->outgoing || mine->state != PRI_CS_OUT_SETUP)
		return;
	tnd_info("span %d: glare on B-channel %d: call %u yields it to the "
		 "network's call (Q.931 5.7)",
		 span->number, bchan, mine->id);
	mine->bchan = 0;
	pri_bchan_set(span, bchan, TND_PRI_BCHAN_IDLE, NULL);
}

static void reject_ring(struct pri_span *span, const pri_event_ring *ring,
			int cause)
{
	tnd_info("span %d: incoming call to %s rejected, cause %d (%s)",
		 span->number, ring->callednum, cause, pri_cause2str(cause));
	if (cause == PRI_CAUSE_NORMAL_CIRCUIT_CONGESTION ||
	    cause == PRI_CAUSE_REQUESTED_CHAN_UNAVAIL)
		pri_count(PRI_CNT_REJECTED_NOCHAN);
	pri_hangup(span->ctrl, ring->call, cause);
}

static void on_ring(struct pri_span *span, const pri_event_ring *ring)
{
	int want = bchan_of(ring->channel);
	int exclusive = !ring->flexible;
	struct pri_call_input in = { 0 };
	struct pri_call *call;
	int bchan;

	pri_count(PRI_CNT_CALLS_IN);
	yield_to_network(span, want);
	bchan = pri_span_pick_bchan(span, want, exclusive);
	if (bchan < 0) {
		/* Q.931 5.2.3.1: 44 for an exclusive channel, else 34. */
		reject_ring(span, ring,
			    want && exclusive
				    ? PRI_CAUSE_REQUESTED_CHAN_UNAVAIL
				    : PRI_CAUSE_NORMAL_CIRCUIT_CONGESTION);
		return;
	}
	call = pri_call_new(span, 0);
	if (!call) {
		reject_ring(span, ring, PRI_CAUSE_SWITCH_CONGESTION);
		return;
	}
	call->q931 = ring->call;
	call->setup.span = span->number;
	call->setup.bchan = bchan;
	call->setup.exclusive = exclusive;
	call->setup.overlap = span->overlap && !ring->complete;
	call->setup.bearer = bearer_of(ring->ctype);
	number_from_plan(&call->setup.called, ring->callednum, ring->calledplan,
			 -1);
	number_from_plan(&call->setup.calling, ring->callingnum,
			 ring->callingplan, ring->callingpres);
	copy_digits(call->setup.calling_name, sizeof(call->setup.calling_name),
		    ring->callingname);
	in.bchan = bchan;
	in.complete = ring->complete;
	pri_call_fsm(call, PRI_CE_SETUP_IND, &in);
}

static void on_restart(struct pri_span *span, int channel)
{
	int bchan = bchan_of(channel);
	struct pri_call_input in = {
		.cause = PRI_CAUSE_NORMAL_TEMPORARY_FAILURE
	};

	pri_count(PRI_CNT_RESTARTS_RX);
	tnd_info("span %d: RESTART received for %s %d", span->number,
		 bchan ? "B-channel" : "interface", bchan);
	/* Q.931 5.5: the restarted channels return to idle, their calls are
	 * cleared without further signalling. */
	for (int c = 1; c <= PRI_MAX_BCHAN; c++) {
		if (bchan && c != bchan)
			continue;
		if (span->bchan[c].call)
			pri_call_fsm(span->bchan[c].call, PRI_CE_RESTART_IND,
				     &in);
		if (span->bchan[c].state != TND_PRI_BCHAN_MAINTENANCE)
			pri_bchan_set(span, c, TND_PRI_BCHAN_IDLE, NULL);
	}
	pri_emit_span(span, TND_PRI_EV_RESTART, bchan);
}

static void on_restart_ack(struct pri_span *span, int channel)
{
	int bchan = bchan_of(channel);

	for (int c = 1; c <= PRI_MAX_BCHAN; c++) {
		if (bchan && c != bchan)
			continue;
		if (span->bchan[c].state == TND_PRI_BCHAN_RESTARTING)
			pri_bchan_set(span, c, TND_PRI_BCHAN_IDLE, NULL);
	}
}

/* Q.931 Annex A / ANSI T1.607 SERVICE: 0 in service, 1 maintenance,
 * 2 out of service. */
static void on_service(struct pri_span *span, int channel, int status)
{
	int bchan = bchan_of(channel);

	if (!bchan || bchan > PRI_MAX_BCHAN)
		return;
	tnd_info("span %d: B-channel %d %s by SERVICE", span->number, bchan,
		 status ? "taken out of service" : "back in service");
	if (status)
		pri_bchan_set(span, bchan, TND_PRI_BCHAN_MAINTENANCE,
			      span->bchan[bchan].call);
	else if (span->bchan[bchan].state == TND_PRI_BCHAN_MAINTENANCE)
		pri_bchan_set(span, bchan, TND_PRI_BCHAN_IDLE, NULL);
}

static void on_dchan(struct pri_span *span, int up)
{
	if (span->up == up)
		return;
	span->up = up;
	if (span->alarm) { /* users heard of it with the alarm */
		tnd_notice("span %d: D-channel %s during the alarm",
			   span->number, up ? "up" : "down");
		return;
	}
	if (up) {
		tnd_notice("span %d: D-channel up", span->number);
		if (span->restart_on_up)
			pri_span_restart(span, 0);
		pri_emit_span(span, TND_PRI_EV_SPAN_UP, 0);
	} else {
		tnd_notice("span %d: D-channel down", span->number);
		pri_count(PRI_CNT_DCHAN_DOWN);
		pri_emit_span(span, TND_PRI_EV_SPAN_DOWN, 0);
	}
}

static void emit_display(struct pri_call *call,
			 const struct pri_subcommands *subcmds)
{
	struct tnd_pri_event ev;

	if (!subcmds)
		return;
	for (int i = 0; i < subcmds->counter_subcmd; i++) {
		if (subcmds->subcmd[i].cmd != PRI_SUBCMD_DISPLAY_TEXT)
			continue;
		memset(&ev, 0, sizeof(ev));
		ev.type = TND_PRI_EV_DISPLAY;
		ev.span = call->span->number;
		ev.call = call->id;
		ev.bchan = call->bchan;
		ev.text = subcmds->subcmd[i].u.display.text;
		pri_emit(&ev);
	}
}

/* Feed a call event for the call libpri names, if we know it. */
static void call_event(struct pri_span *span, const q931_call *q931,
		       enum pri_call_event event,
		       const struct pri_call_input *in)
{
	struct pri_call *call = pri_call_by_q931(span, q931);

	if (!call) {
		tnd_debug("span %d: %s for a call we do not know", span->number,
			  pri_call_event_name(event));
		return;
	}
	pri_call_fsm(call, event, in);
}

static void on_hangup(struct pri_span *span, const pri_event_hangup *h,
		      enum pri_call_event event)
{
	struct pri_call_input in = { .cause = h->cause,
				     .bchan = bchan_of(h->channel) };

	if (!pri_call_by_q931(span, h->call)) {
		/* Finish libpri's side of a call we already let go. */
		if (event == PRI_CE_RELEASE_IND ||
		    event == PRI_CE_DISCONNECT_IND)
			pri_hangup(span->ctrl, h->call, h->cause);
		return;
	}
	call_event(span, h->call, event, &in);
}

static void on_call_progress(struct pri_span *span, pri_event *ev)
{
	struct pri_call_input in = { 0 };

	switch (ev->e) {
	case PRI_EVENT_SETUP_ACK:
		in.bchan = bchan_of(ev->setup_ack.channel);
		in.inband = inband_of(ev->setup_ack.progressmask);
		call_event(span, ev->setup_ack.call, PRI_CE_SETUP_ACK_IND, &in);
		break;
	case PRI_EVENT_PROCEEDING:
		in.bchan = bchan_of(ev->proceeding.channel);
		call_event(span, ev->proceeding.call, PRI_CE_PROCEED_IND, &in);
		break;
	case PRI_EVENT_PROGRESS:
		in.bchan = bchan_of(ev->proceeding.channel);
		in.inband = inband_of(ev->proceeding.progressmask);
		in.cause = ev->proceeding.cause;
		call_event(span, ev->proceeding.call, PRI_CE_PROGRESS_IND, &in);
		break;
	case PRI_EVENT_RINGING:
		in.bchan = bchan_of(ev->ringing.channel);
		in.inband = inband_of(ev->ringing.progressmask);
		call_event(span, ev->ringing.call, PRI_CE_ALERT_IND, &in);
		break;
	case PRI_EVENT_ANSWER:
		in.bchan = bchan_of(ev->answer.channel);
		call_event(span, ev->answer.call, PRI_CE_CONNECT_IND, &in);
		break;
	}
}

static void on_info(struct pri_span *span, pri_event *ev)
{
	struct pri_call_input in = { 0 };

	if (ev->e == PRI_EVENT_INFO_RECEIVED) {
		in.digits = ev->ring.callednum;
		in.complete = ev->ring.complete;
		call_event(span, ev->ring.call, PRI_CE_INFO_IND, &in);
	} else {
		in.digits = ev->digit.digits;
		call_event(span, ev->digit.call, PRI_CE_INFO_IND, &in);
	}
}

static void on_notify(struct pri_span *span, const pri_event_notify *n)
{
	struct pri_call *call = pri_call_by_q931(span, n->call);
	struct pri_call_input in = { .notify = n->info };

	if (!call)
		return;
	emit_display(call, n->subcmds);
	pri_call_fsm(call, PRI_CE_NOTIFY_IND, &in);
}

static void on_facility(struct pri_span *span,
			const struct pri_event_facility *f)
{
	struct pri_call *call = pri_call_by_q931(span, f->call);

	if (call)
		emit_display(call, f->subcmds);
}

void pri_event_handle(struct pri_span *span, pri_event *ev)
{
	switch (ev->e) {
	case PRI_EVENT_DCHAN_UP:
	case PRI_EVENT_DCHAN_DOWN:
		on_dchan(span, ev->e == PRI_EVENT_DCHAN_UP);
		break;
	case PRI_EVENT_RING: on_ring(span, &ev->ring); break;
	case PRI_EVENT_SETUP_ACK:
	case PRI_EVENT_PROCEEDING:
	case PRI_EVENT_PROGRESS:
	case PRI_EVENT_RINGING:
	case PRI_EVENT_ANSWER: on_call_progress(span, ev); break;
	case PRI_EVENT_INFO_RECEIVED:
	case PRI_EVENT_KEYPAD_DIGIT: on_info(span, ev); break;
	case PRI_EVENT_HANGUP_REQ:
		on_hangup(span, &ev->hangup, PRI_CE_DISCONNECT_IND);
		break;
	case PRI_EVENT_HANGUP:
		on_hangup(span, &ev->hangup, PRI_CE_RELEASE_IND);
		break;
	case PRI_EVENT_HANGUP_ACK:
		on_hangup(span, &ev->hangup, PRI_CE_HANGUP_DONE);
		break;
	case PRI_EVENT_RESTART: on_restart(span, ev->restart.channel); break;
	case PRI_EVENT_RESTART_ACK:
		on_restart_ack(span, ev->restartack.channel);
		break;
	case PRI_EVENT_SERVICE:
		on_service(span, ev->service.channel, ev->service.changestatus);
		break;
	case PRI_EVENT_SERVICE_ACK:
		on_service(span, ev->service_ack.channel,
			   ev->service_ack.changestatus);
		break;
	case PRI_EVENT_NOTIFY: on_notify(span, &ev->notify); break;
	case PRI_EVENT_FACILITY: on_facility(span, &ev->facility); break;
	case PRI_EVENT_CONFIG_ERR:
		tnd_error("span %d: libpri: %s", span->number, ev->err.err);
		break;
	default:
		tnd_debug("span %d: libpri event %s not handled", span->number,
			  pri_event2str(ev->e));
		break;
	}
}
