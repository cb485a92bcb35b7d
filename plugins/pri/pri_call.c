/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pri: call objects, the "pri" service other plugins call, the events it
 * delivers to its subscriber, and the plugin's counters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pri_int.h"

const struct tnd_host_api *pri_host;
struct tnd_plugin *pri_self;

static uint32_t last_call_id;
static tnd_pri_event_cb subscriber;
static void *subscriber_arg;
static struct tnd_counter *counters[PRI_CNT_COUNT];

static const struct {
	const char *name;
	const char *help;
} counter_defs[PRI_CNT_COUNT] = {
	[PRI_CNT_CALLS_IN] = { "calls_in", "incoming SETUPs" },
	[PRI_CNT_CALLS_OUT] = { "calls_out", "outgoing SETUPs" },
	[PRI_CNT_ANSWERED] = { "answered", "calls answered, both directions" },
	[PRI_CNT_REJECTED_NOCHAN] = { "rejected_nochan",
				      "incoming calls rejected: no B-channel "
				      "(cause 34 or 44)" },
	[PRI_CNT_FRAMES_RX] = { "frames_rx", "D-channel frames received" },
	[PRI_CNT_FRAMES_TX] = { "frames_tx", "D-channel frames sent" },
	[PRI_CNT_RESTARTS_RX] = { "restarts_rx", "RESTARTs received" },
	[PRI_CNT_DCHAN_DOWN] = { "dchan_down", "D-channel losses" },
};

void pri_count(enum pri_counter which)
{
	if (which < PRI_CNT_COUNT && counters[which])
		pri_host->counter_add(counters[which], 1);
}

/* ---- Call objects ------------------------------------------------------- */

struct pri_call *pri_call_new(struct pri_span *span, int outgoing)
{
	struct pri_call *call = calloc(1, sizeof(*call));

	if (!call)
		return NULL;
	call->id = ++last_call_id;
	call->span = span;
	call->outgoing = outgoing;
	call->next = span->calls;
	span->calls = call;
	return call;
}

static void call_unlink(struct pri_call *call)
{
	for (struct pri_call **p = &call->span->calls; *p; p = &(*p)->next) {
		if (*p == call) {
			*p = call->next;
			return;
		}
	}
}

void pri_call_destroy(struct pri_call *call)
{
	struct pri_span *span = call->span;

	if (call->noanswer_timer)
		pri_host->timer_free(call->noanswer_timer);
	if (call->bchan && call->bchan <= PRI_MAX_BCHAN &&
	    span->bchan[call->bchan].call == call) {
		/* A channel under maintenance stays so. */
		if (span->bchan[call->bchan].state == TND_PRI_BCHAN_MAINTENANCE)
			span->bchan[call->bchan].call = NULL;
		else
			pri_bchan_set(span, call->bchan, TND_PRI_BCHAN_IDLE,
				      NULL);
	}
	call_unlink(call);
	free(call);
}

struct pri_call *pri_call_find(uint32_t id)
{
	for (struct pri_span *s = pri_span_first(); s; s = s->next)
		for (struct pri_call *c = s->calls; c; c = c->next)
			if (c->id == id)
				return c;
	return NULL;
}

struct pri_call *pri_call_by_q931(struct pri_span *span, const q931_call *q931)
{
	if (!q931)
		return NULL;
	for (struct pri_call *c = span->calls; c; c = c->next)
		if (c->q931 == q931)
			return c;
	return NULL;
}

/* ---- Events ----------------------------------------------------------- */

int pri_has_subscriber(void)
{
	return subscriber != NULL;
}

void pri_emit(const struct tnd_pri_event *ev)
{
	if (subscriber)
		subscriber(ev, subscriber_arg);
}

void pri_emit_call(struct pri_call *call, enum tnd_pri_event_type type,
		   const struct pri_call_input *in)
{
	struct tnd_pri_event ev = {
		.type = type,
		.span = call->span->number,
		.call = call->id,
		.bchan = call->bchan,
	};

	if (in) {
		ev.cause = in->cause;
		ev.inband = in->inband;
		ev.complete = in->complete;
		ev.notify = in->notify;
		ev.digits = in->digits;
	}
	if (type == TND_PRI_EV_SETUP)
		ev.setup = &call->setup;
	pri_emit(&ev);
}

void pri_emit_span(struct pri_span *span, enum tnd_pri_event_type type,
		   int bchan)
{
	struct tnd_pri_event ev = {
		.type = type,
		.span = span->number,
		.bchan = bchan,
	};

	pri_emit(&ev);
}

/* ---- The service ------------------------------------------------------ */

static int svc_subscribe(tnd_pri_event_cb cb, void *arg)
{
	if (!cb)
		return -EINVAL;
	if (subscriber && (subscriber != cb || subscriber_arg != arg))
		return -EBUSY;
	subscriber = cb;
	subscriber_arg = arg;
	return 0;
}

static void svc_unsubscribe(tnd_pri_event_cb cb, void *arg)
{
	if (subscriber == cb && subscriber_arg == arg) {
		subscriber = NULL;
		subscriber_arg = NULL;
	}
}

static struct pri_span *span_at(int index)
{
	struct pri_span *s = pri_span_first();

	while (s && index-- > 0)
		s = s->next;
	return s;
}

static int svc_span_info(int index, struct tnd_pri_span_info *out)
{
	struct pri_span *s = span_at(index);
	int n = 0;

	if (!s || index < 0)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->span = s->number;
	out->switchtype = s->switch_name;
	out->side = s->side == PRI_SIDE_NETWORK ? "network" : "user";
	out->up = s->up;
	out->alarm = s->alarm;
	for (int c = 1; c <= PRI_MAX_BCHAN; c++)
		if (s->bchan_mask & (1u << c))
			out->bchans++;
	out->bchans_free = pri_span_free_bchans(s);
	for (struct pri_call *c = s->calls; c; c = c->next)
		n++;
	out->calls = n;
	return 0;
}

static int svc_chan_info(int span_no, int bchan, struct tnd_pri_chan_info *out)
{
	struct pri_span *s = pri_span_find(span_no);

	if (!s || bchan < 1 || bchan > PRI_MAX_BCHAN ||
	    !(s->bchan_mask & (1u << bchan)))
		return -ENOENT;
	out->span = span_no;
	out->bchan = bchan;
	out->state = s->bchan[bchan].state;
	out->state_name = pri_bchan_state_name(out->state);
	out->call = s->bchan[bchan].call ? s->bchan[bchan].call->id : 0;
	return 0;
}

/* span 0: the first span up with a free B-channel. */
static struct pri_span *span_for_call(int number)
{
	if (number)
		return pri_span_find(number);
	for (struct pri_span *s = pri_span_first(); s; s = s->next)
		if (s->up && !s->alarm && pri_span_free_bchans(s))
			return s;
	return pri_span_first();
}

static int svc_call(const struct tnd_pri_setup *setup, uint32_t *call_id)
{
	struct pri_span *span;
	struct pri_call_input in = { 0 };
	struct pri_call *call;
	int bchan, rc;

	if (!setup || !call_id)
		return -EINVAL;
	span = span_for_call(setup->span);
	if (!span)
		return -ENOENT;
	if (!span->up || span->alarm)
		return -ENETDOWN;
	if (setup->overlap && !span->overlap)
		return -EINVAL;
	bchan = pri_span_pick_bchan(span, setup->bchan, setup->exclusive);
	if (bchan < 0)
		return -EBUSY;
	call = pri_call_new(span, 1);
	if (!call)
		return -ENOMEM;
	call->setup = *setup;
	call->setup.span = span->number;
	call->setup.bchan = bchan;
	in.bchan = bchan;
	rc = pri_call_fsm(call, PRI_CE_PLACE, &in);
	if (rc) {
		pri_call_destroy(call);
		return rc;
	}
	*call_id = call->id;
	return 0;
}

static int call_do(uint32_t call_id, enum pri_call_event event,
		   const struct pri_call_input *in)
{
	struct pri_call *call = pri_call_find(call_id);

	if (!call)
		return -ENOENT;
	return pri_call_fsm(call, event, in);
}

static int svc_info(uint32_t call_id, const char *digits)
{
	struct pri_call_input in = { .digits = digits };

	return call_do(call_id, PRI_CE_INFO_REQ, &in);
}

static int svc_setup_ack(uint32_t call_id, int inband)
{
	struct pri_call_input in = { .inband = inband };

	return call_do(call_id, PRI_CE_SETUP_ACK_REQ, &in);
}

static int svc_proceeding(uint32_t call_id)
{
	return call_do(call_id, PRI_CE_PROCEED_REQ, NULL);
}

static int svc_alert(uint32_t call_id, int inband)
{
	struct pri_call_input in = { .inband = inband };

	return call_do(call_id, PRI_CE_ALERT_REQ, &in);
}

static int svc_progress(uint32_t call_id, int inband)
{
	struct pri_call_input in = { .inband = inband };

	return call_do(call_id, PRI_CE_PROGRESS_REQ, &in);
}

static int svc_answer(uint32_t call_id)
{
	return call_do(call_id, PRI_CE_ANSWER_REQ, NULL);
}

static int svc_release(uint32_t call_id, int cause)
{
	struct pri_call_input in = { .cause = cause };

	if (cause < 1 || cause > 127)
		return -EINVAL;
	return call_do(call_id, PRI_CE_HANGUP_REQ, &in);
}

const struct tnd_pri_service pri_service = {
	.size = sizeof(struct tnd_pri_service),
	.subscribe = svc_subscribe,
	.unsubscribe = svc_unsubscribe,
	.span_count = pri_span_count,
	.span_info = svc_span_info,
	.chan_info = svc_chan_info,
	.call = svc_call,
	.info = svc_info,
	.setup_ack = svc_setup_ack,
	.proceeding = svc_proceeding,
	.alert = svc_alert,
	.progress = svc_progress,
	.answer = svc_answer,
	.release = svc_release,
};

/* ---- Set-up ----------------------------------------------------------- */

int pri_core_init(const struct tnd_host_api *host, struct tnd_plugin *self)
{
	pri_host = host;
	pri_self = self;
	for (int i = 0; i < PRI_CNT_COUNT; i++) {
		counters[i] = host->counter_new(self, counter_defs[i].name,
						counter_defs[i].help);
		if (!counters[i])
			return -ENOMEM;
	}
	pri_span_hooks();
	return 0;
}

void pri_core_fini(void)
{
	pri_spans_free_all();
	subscriber = NULL;
	subscriber_arg = NULL;
	for (int i = 0; i < PRI_CNT_COUNT; i++)
		counters[i] = NULL;
}
