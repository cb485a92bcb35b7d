/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf_call: call objects, clearing from either side, media events, and
 * the gateway's own latency (what the MGCF adds between a message in on
 * one side and its mapping out on the other).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mgcf_int.h"

static const char *const lat_names[LAT_COUNT] = {
	[LAT_INVITE_SETUP] = "invite_to_setup",
	[LAT_ALERT_180] = "alerting_to_18x",
	[LAT_CONNECT_200] = "connect_to_200",
	[LAT_SETUP_INVITE] = "setup_to_invite",
	[LAT_180_ALERT] = "18x_to_alerting",
	[LAT_200_CONNECT] = "200_to_connect",
};

struct mgcf_call *mgcf_call_new(enum mgcf_dir dir)
{
	struct mgcf_call *call;

	if (mgcf.ncalls >= mgcf.cfg->max_calls || mgcf.stopping)
		return NULL;
	call = calloc(1, sizeof(*call));
	if (!call)
		return NULL;
	call->id = ++mgcf.last_id;
	call->dir = dir;
	call->state = ST_NULL;
	call->t_start_us = mgcf_now_us();
	call->next = mgcf.calls;
	mgcf.calls = call;
	if (++mgcf.ncalls > mgcf.peak_calls)
		mgcf.peak_calls = mgcf.ncalls;
	return call;
}

struct mgcf_call *mgcf_call_by_pri(uint32_t pri_call)
{
	for (struct mgcf_call *c = mgcf.calls; c && pri_call; c = c->next)
		if (c->pri_call == pri_call)
			return c;
	return NULL;
}

struct mgcf_call *mgcf_call_by_callid(const char *id, size_t len)
{
	for (struct mgcf_call *c = mgcf.calls; c; c = c->next)
		if (strlen(c->call_id) == len && memcmp(c->call_id, id, len) == 0)
			return c;
	return NULL;
}

static void call_free(struct mgcf_call *call)
{
	struct mgcf_call **p;

	for (p = &mgcf.calls; *p; p = &(*p)->next)
		if (*p == call) {
			*p = call->next;
			mgcf.ncalls--;
			break;
		}
	if (call->timer)
		mgcf.host->timer_free(call->timer);
	if (call->rel_timer)
		mgcf.host->timer_free(call->rel_timer);
	if (call->se_timer)
		mgcf.host->timer_free(call->se_timer);
	if (call->invite)
		mgcf.sip->release(call->invite);
	if (call->uac)
		mgcf.sip->forget(call->uac);
	if (call->reinvite)
		mgcf.sip->forget(call->reinvite);
	if (call->bye)
		mgcf.sip->forget(call->bye);
	if (call->refresh)
		mgcf.sip->forget(call->refresh);
	free(call);
	if (mgcf.stopping && !mgcf.calls)
		mgcf.host->stopped(MGCF_SELF);
}

void mgcf_call_hold(struct mgcf_call *call)
{
	call->refs++;
}

void mgcf_call_put(struct mgcf_call *call)
{
	if (--call->refs == 0)
		mgcf_call_maybe_free(call);
}

void mgcf_call_maybe_free(struct mgcf_call *call)
{
	if (call->refs)
		return; /* the outermost handler frees it */
	if (call->state != ST_RELEASING && call->state != ST_RELEASED)
		return;
	if (!call->sip_done || call->pri_call || call->mgw)
		return;
	mgcf_fsm_go(call, ST_RELEASED, EV_LOCAL);
	tnd_info("call %u released, cause %d (%s)", call->id, call->cause,
		 mgcf_cause_text(call->cause));
	call_free(call);
}

void mgcf_call_release(struct mgcf_call *call, int cause, enum mgcf_event ev)
{
	if (call->state == ST_RELEASED)
		return;
	mgcf_call_hold(call);
	if (call->se_timer)
		mgcf.host->timer_stop(call->se_timer);
	if (call->state != ST_RELEASING) {
		call->cause = cause;
		if (mgcf_fsm_go(call, ST_RELEASING, ev) < 0)
			call->state = ST_RELEASING; /* clearing always wins */
		if (!call->confirmed)
			mgcf.host->counter_add(mgcf.c_failed, 1);
	}
	if (call->mgw) {
		mgcf.mgw->ctx_release(call->mgw, call->cause);
		call->mgw = NULL;
	}
	mgcf_pri_clear(call, call->cause);
	mgcf_sip_clear(call, call->cause);
	mgcf_call_put(call);
}

void mgcf_call_release_all(int cause)
{
	struct mgcf_call *c = mgcf.calls, *next;

	for (; c; c = next) {
		next = c->next;
		mgcf_call_release(c, cause, EV_LOCAL);
	}
}

/* ---- The call's timer ------------------------------------------------------- */

static void on_timer(struct tnd_timer *t, void *arg)
{
	struct mgcf_call *call = arg;

	(void)t;
	mgcf_call_hold(call);
	switch (call->state) {
	case ST_I_OVERLAP:
		/* inter-digit time out: the number is what we have */
		mgcf_pri_digits_done(call);
		break;
	case ST_O_SETUP:
	case ST_O_PROCEEDING:
	case ST_O_ALERTING:
	case ST_O_PROGRESS:
		mgcf_sip_poll(call);
		break;
	case ST_O_ANSWERED:
	case ST_RELEASING:
		/* RFC 3261 13.3.1.4: no ACK within 64*T1 ends the dialog */
		if (!call->acked) {
			call->acked = true;
			tnd_notice("call %u: no ACK for our 200", call->id);
			if (call->state == ST_O_ANSWERED)
				mgcf_call_release(call, Q850_RECOVERY_ON_TIMER,
						  EV_TIMEOUT);
			else
				mgcf_sip_clear(call, call->cause);
		}
		break;
	default:
		break;
	}
	mgcf_call_put(call);
}

void mgcf_call_timer(struct mgcf_call *call, uint64_t ms, uint64_t repeat_ms)
{
	if (!call->timer)
		call->timer = mgcf.host->timer_new(MGCF_SELF, on_timer, call);
	if (call->timer)
		mgcf.host->timer_start(call->timer, ms, repeat_ms);
}

void mgcf_call_timer_stop(struct mgcf_call *call)
{
	if (call->timer)
		mgcf.host->timer_stop(call->timer);
}

/* ---- Media events ---------------------------------------------------------- */

void mgcf_media_event(struct mgw_ctx *ctx, const struct mgw_event *ev,
		      void *arg)
{
	struct mgcf_call *call = arg;

	(void)ctx;
	switch (ev->type) {
	case MGW_EV_RTP_TIMEOUT:
		if (call->state != ST_ACTIVE)
			return;
		tnd_notice("call %u: no RTP any more: cleared", call->id);
		mgcf_call_release(call, Q850_RECOVERY_ON_TIMER,
				  EV_MEDIA_TIMEOUT);
		return;
	case MGW_EV_DTMF:
		tnd_debug("call %u: digit %c (%u ms) from the %s", call->id,
			  ev->digit, ev->duration_ms,
			  ev->from_circuit ? "circuit" : "RTP side");
		break;
	case MGW_EV_FAX:
		tnd_info("call %u: fax (%s)", call->id, ev->tone);
		if (mgcf.cfg->t38 && call->state == ST_ACTIVE)
			mgcf_sip_t38(call);
		break;
	}
}

void mgcf_ladder(const struct mgcf_call *call, const char *arrow,
		 const char *fmt, ...)
{
	char text[160];
	va_list ap;

	if (!mgcf.host->log_enabled("mgcf", TND_LOG_DEBUG))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	tnd_debug("call %u ladder %s %s", call->id, arrow, text);
}

/* ---- Latency ---------------------------------------------------------------------- */

uint64_t mgcf_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int mgcf_latency_init(void)
{
	mgcf.lat = calloc(LAT_COUNT, sizeof(*mgcf.lat));
	if (!mgcf.lat)
		return -ENOMEM;
	for (int i = 0; i < LAT_COUNT; i++)
		mgcf.lat[i].name = lat_names[i];
	return 0;
}

void mgcf_latency_fini(void)
{
	free(mgcf.lat);
	mgcf.lat = NULL;
}

void mgcf_latency(enum mgcf_lat_kind kind, uint64_t since_us)
{
	struct mgcf_latency *l = &mgcf.lat[kind];
	uint64_t d = mgcf_now_us() - since_us;

	if (!since_us)
		return;
	l->samples[l->head] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
	l->head = (l->head + 1) % MGCF_LAT_SAMPLES;
	if (l->n < MGCF_LAT_SAMPLES)
		l->n++;
	l->count++;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t mgcf_latency_pct(enum mgcf_lat_kind kind, double p)
{
	struct mgcf_latency *l = &mgcf.lat[kind];
	uint32_t *sorted, v;
	size_t at;

	if (!l->n)
		return 0;
	sorted = malloc(l->n * sizeof(*sorted));
	if (!sorted)
		return 0;
	memcpy(sorted, l->samples, l->n * sizeof(*sorted));
	qsort(sorted, l->n, sizeof(*sorted), cmp_u32);
	at = (size_t)(p / 100.0 * (double)(l->n - 1) + 0.5);
	v = sorted[at < l->n ? at : l->n - 1];
	free(sorted);
	return v;
}

const char *mgcf_latency_name(enum mgcf_lat_kind kind)
{
	return kind < LAT_COUNT ? lat_names[kind] : "?";
}
