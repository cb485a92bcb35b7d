// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_chan.c - a channel on its worker: the 20 ms frame of the clocked
 * path (pull both legs, cancel echo, detect and play digits, push both
 * legs), the relay path's socket input, and the per-tick housekeeping
 * that applies what the loop posted and stops the channel.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media_int.h"

/* Statistics are published every PUBLISH_FRAMES frames (0.5 s). */
#define PUBLISH_FRAMES	25

struct media_leg *media_chan_other(struct media_leg *leg)
{
	return &leg->ch->leg[!leg->index];
}

static bool has_events(const struct media_leg *leg)
{
	return leg->cfg.type == MEDIA_LEG_RTP && leg->rp.dtmf_pt >= 0;
}

static bool is_t38(const struct media_leg *leg)
{
	return leg->cfg.type == MEDIA_LEG_RTP && leg->rp.t38;
}

void media_chan_choose_mode(struct media_chan *ch)
{
	enum media_leg_type a = ch->leg[0].cfg.type, b = ch->leg[1].cfg.type;

	ch->tdm_clocked = a == MEDIA_LEG_TDM || b == MEDIA_LEG_TDM;
	ch->fax = is_t38(&ch->leg[0]) || is_t38(&ch->leg[1]);
	if (ch->tdm_clocked || ch->fax)
		ch->mode = MODE_CLOCKED;
	else if (a == MEDIA_LEG_LOOP || b == MEDIA_LEG_LOOP)
		ch->mode = MODE_RELAY;
	else if (!mp.relay_default)
		ch->mode = MODE_CLOCKED;
	else	/* digits must change form: only the clocked path can */
		ch->mode = has_events(&ch->leg[0]) != has_events(&ch->leg[1]) ?
				   MODE_CLOCKED : MODE_RELAY;
}

/* ---- what the loop posted ------------------------------------------------ */

static void swap_transcoder(struct media_transcoder **slot,
			    struct media_transcoder **fresh)
{
	struct media_transcoder *old = *slot;

	*slot = *fresh;
	*fresh = NULL;
	media_transcoder_free(old);
}

static void apply_update(struct media_leg *leg, struct media_leg_update *u)
{
	media_leg_rtp_apply(leg, &u->params);
	swap_transcoder(&leg->tc, &u->tc_in);
	swap_transcoder(&media_chan_other(leg)->tc, &u->tc_out);
	free(u);
}

struct posted {
	struct media_leg_update *update[2];
	unsigned ndigits;
	struct {
		unsigned leg;
		char digit;
		unsigned duration_ms;
	} digits[MEDIA_DTMF_QUEUE];
	bool stop;
};

static void take_posted(struct media_chan *ch, struct posted *p)
{
	unsigned i;

	pthread_mutex_lock(&ch->lock);
	for (i = 0; i < 2; i++) {
		p->update[i] = ch->leg[i].pending;
		ch->leg[i].pending = NULL;
	}
	p->ndigits = ch->ndigits;
	memcpy(p->digits, ch->digits, sizeof(ch->digits[0]) * ch->ndigits);
	ch->ndigits = 0;
	p->stop = ch->stop_req;
	pthread_mutex_unlock(&ch->lock);
}

/* Returns true when a stop was requested. */
static bool apply_pending(struct media_chan *ch)
{
	enum media_chan_mode mode = ch->mode;
	struct posted p;
	unsigned i;

	for (i = 0; i < 2; i++)
		if (ch->leg[i].cfg.type == MEDIA_LEG_TDM)
			media_leg_tdm_apply_ec(&ch->leg[i]);
	take_posted(ch, &p);
	for (i = 0; i < 2; i++)
		if (p.update[i])
			apply_update(&ch->leg[i], p.update[i]);
	for (i = 0; i < p.ndigits; i++)
		media_dtmf_out_queue(&ch->leg[p.digits[i].leg],
				     p.digits[i].digit,
				     p.digits[i].duration_ms);
	media_chan_choose_mode(ch);
	if (mode != ch->mode && !ch->tdm_clocked)
		media_worker_watch_rtp(ch->worker, ch, ch->mode == MODE_RELAY);
	return p.stop;
}

/* ---- statistics and events ------------------------------------------------ */

void media_chan_publish(struct media_chan *ch)
{
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct media_leg *leg = &ch->leg[i];

		if (leg->cfg.type == MEDIA_LEG_RTP)
			media_leg_rtp_stats(leg, &leg->st);
		else if (leg->cfg.type == MEDIA_LEG_TDM)
			media_leg_tdm_stats(leg, &leg->st);
		leg->st.type = leg->cfg.type;
	}
	pthread_mutex_lock(&ch->lock);
	ch->pub[0] = ch->leg[0].st;
	ch->pub[1] = ch->leg[1].st;
	pthread_mutex_unlock(&ch->lock);
}

static void maybe_publish(struct media_chan *ch)
{
	if (ch->publish_countdown--)
		return;
	ch->publish_countdown = PUBLISH_FRAMES - 1;
	media_chan_publish(ch);
}

struct posted_event {
	unsigned chan_id;
	struct media_event ev;
	char addr[MEDIA_ADDR_MAX + 8];
	struct media_leg_stats stats[2];
};

static void deliver_event(void *arg)
{
	struct posted_event *pe = arg;
	struct media_chan *ch = mp.running ? media_chan_find(pe->chan_id) :
					     NULL;

	if (ch && !ch->freeing && ch->on_event)
		ch->on_event(ch, &pe->ev, ch->arg);
	free(pe);
}

void media_chan_event(struct media_chan *ch, const struct media_event *ev)
{
	struct posted_event *pe = malloc(sizeof(*pe));

	if (!pe)
		return;
	pe->chan_id = ch->id;
	pe->ev = *ev;
	pe->ev.chan_id = ch->id;
	if (ev->addr) {
		snprintf(pe->addr, sizeof(pe->addr), "%s", ev->addr);
		pe->ev.addr = pe->addr;
	}
	if (ev->type == MEDIA_EV_STOPPED) {
		pe->stats[0] = ch->leg[0].st;
		pe->stats[1] = ch->leg[1].st;
		pe->ev.stats[0] = &pe->stats[0];
		pe->ev.stats[1] = &pe->stats[1];
	}
	if (mp.host->call_on_loop(deliver_event, pe) < 0)
		free(pe);
}

/* ---- the clocked frame ----------------------------------------------------- */

static void pull(struct media_leg *leg, int64_t wall_ns, uint8_t *scratch,
		 int16_t *pcm)
{
	int64_t arrival;

	switch (leg->cfg.type) {
	case MEDIA_LEG_RTP:
		if (leg->rp.t38) {
			media_fax_pull(leg, scratch, pcm);
			break;
		}
		media_leg_rtp_drain(leg, scratch);
		media_leg_rtp_pull(leg, wall_ns, pcm);
		break;
	case MEDIA_LEG_TDM:
		if (media_leg_tdm_ready(leg)) {
			media_leg_tdm_pull(leg, pcm, &arrival);
			break;
		}
		memset(pcm, 0, MEDIA_FRAME * sizeof(*pcm));
		break;
	case MEDIA_LEG_LOOP:
		memcpy(pcm, leg->loop_pcm, MEDIA_FRAME * sizeof(*pcm));
		break;
	default:
		memset(pcm, 0, MEDIA_FRAME * sizeof(*pcm));
		break;
	}
}

static void push(struct media_leg *leg, int16_t *pcm)
{
	bool suppressed;

	if (is_t38(leg)) {
		media_fax_push(leg, pcm);
		return;
	}
	suppressed = media_dtmf_out_tick(leg, pcm);
	switch (leg->cfg.type) {
	case MEDIA_LEG_RTP:
		media_leg_rtp_push(leg, pcm, suppressed);
		break;
	case MEDIA_LEG_TDM:
		media_leg_tdm_push(leg, pcm);
		break;
	case MEDIA_LEG_LOOP:
		memcpy(leg->loop_pcm, pcm, MEDIA_FRAME * sizeof(*pcm));
		break;
	default:
		break;
	}
}

void media_chan_frame(struct media_chan *ch, int64_t now_ns,
		      int64_t deadline_ns)
{
	int16_t in[2][MEDIA_FRAME], out[2][MEDIA_FRAME];
	int64_t wall = media_wall_ns();
	unsigned i;

	for (i = 0; i < 2; i++)
		pull(&ch->leg[i], wall, ch->worker->rx_buf, in[i]);
	/* G.168: Sin from the line, Rin what we send to it in this frame;
	 * no canceller nor digit detector on fax modems (T.38 gateway) */
	for (i = 0; i < 2; i++)
		if (ch->leg[i].cfg.type == MEDIA_LEG_TDM && !ch->fax)
			media_leg_tdm_cancel(&ch->leg[i], in[!i], in[i]);
	for (i = 0; i < 2; i++) {
		if (!ch->fax) {
			media_leg_dtmf_detect(&ch->leg[i], in[i]);
			media_leg_tones_detect(&ch->leg[i], in[i]);
		}
		memcpy(out[i], in[!i], sizeof(out[i]));
	}
	for (i = 0; i < 2; i++) {
		struct media_leg *leg = &ch->leg[i];

		push(leg, out[i]);
		leg->st.frames++;
		if (leg->cfg.type == MEDIA_LEG_RTP)
			media_leg_rtp_housekeeping(leg, now_ns, wall);
	}
	maybe_publish(ch);
	media_worker_account(ch->worker, ch, now_ns, media_now_ns(),
			     deadline_ns);
}

/* ---- relay ----------------------------------------------------------------- */

void media_chan_socket_input(struct media_chan *ch, unsigned leg, bool rtcp)
{
	if (rtcp)
		media_leg_rtp_drain_rtcp(&ch->leg[leg], ch->worker->rx_buf);
	else
		media_leg_rtp_drain(&ch->leg[leg], ch->worker->rx_buf);
}

void media_chan_relay_tick(struct media_chan *ch, int64_t now_ns)
{
	int64_t wall = media_wall_ns();
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct media_leg *leg = &ch->leg[i];

		if (leg->cfg.type != MEDIA_LEG_RTP)
			continue;
		media_dtmf_out_tick(leg, NULL);
		media_leg_rtp_housekeeping(leg, now_ns, wall);
	}
	maybe_publish(ch);
}

/* ---- stopping -------------------------------------------------------------- */

/* RTCP BYE and the final statistics; the worker then lets go of it. */
static void finish(struct media_chan *ch)
{
	unsigned i;

	for (i = 0; i < 2; i++)
		if (ch->leg[i].cfg.type == MEDIA_LEG_RTP)
			media_leg_rtp_bye(&ch->leg[i]);
	media_chan_publish(ch);
}

bool media_chan_poked(struct media_chan *ch)
{
	if (!apply_pending(ch))
		return false;
	finish(ch);
	return true;
}
