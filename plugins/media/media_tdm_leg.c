// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_tdm_leg.c - a TDM leg: a bearer channel of the "tdm" service. Its
 * blocks (160 samples, 20 ms) arrive on the span driver's thread; they are
 * queued in a small single-producer ring and the channel's own worker
 * does the media work, so that channels spread over all workers whatever
 * the driver's threading. The block's arrival starts its 20 ms deadline.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "media_int.h"

/* Driver thread: queue the block, wake the worker. Never blocks. */
static void on_block(struct tdm_bchan *bchan, const uint8_t *block, void *arg)
{
	struct media_leg *leg = arg;
	unsigned head = atomic_load_explicit(&leg->ring_head,
					     memory_order_relaxed);
	unsigned tail = atomic_load_explicit(&leg->ring_tail,
					     memory_order_acquire);
	struct media_tdm_block *b;

	(void)bchan;
	if (head - tail >= MEDIA_TDM_RING) {
		/* the worker is behind: counted, logged by the worker */
		atomic_fetch_add(&leg->ring_overruns, 1);
		return;
	}
	b = &leg->ring[head % MEDIA_TDM_RING];
	memcpy(b->data, block, TDM_BLOCK_SAMPLES);
	b->arrival_ns = media_now_ns();
	atomic_store_explicit(&leg->ring_head, head + 1, memory_order_release);
	media_worker_wake(leg->ch->worker);
}

static const struct tdm_service *tdm_service(void)
{
	if (!mp.tdm)
		mp.tdm = mp.host->service_get(TDM_SERVICE, 1);
	return mp.tdm;
}

static int make_ec(struct media_leg *leg)
{
	struct media_ec_config ec;

	media_ec_config_default(&ec);
	ec.tail_ms = leg->cfg.ec_tail_ms ? leg->cfg.ec_tail_ms :
					   (unsigned)mp.cfg->ec_tail_ms;
	ec.nlp = mp.cfg->ec_nlp;
	leg->ec_on = leg->cfg.ec < 0 ? mp.cfg->ec : leg->cfg.ec;
	return media_ec_new(&ec, &leg->ec);
}

int media_leg_tdm_open(struct media_leg *leg)
{
	const struct tdm_service *tdm = tdm_service();
	struct tdm_span_info info = { .size = sizeof(info) };
	int rc;

	if (!tdm)
		return -ENODEV;
	rc = tdm->span_info(leg->cfg.span, &info);
	if (rc < 0)
		return rc;
	leg->law = info.law;
	if (!leg->ec) {
		rc = make_ec(leg);
		if (rc < 0)
			return rc;
	}
	atomic_store(&leg->ring_head, 0);
	atomic_store(&leg->ring_tail, 0);
	atomic_store(&leg->ec_request, -1);
	return tdm->bchan_open(leg->cfg.span, leg->cfg.ts, on_block, leg,
			       &leg->bchan);
}

void media_leg_tdm_close(struct media_leg *leg)
{
	if (leg->bchan && mp.tdm)
		mp.tdm->bchan_close(leg->bchan);
	leg->bchan = NULL;
}

bool media_leg_tdm_ready(struct media_leg *leg)
{
	return atomic_load_explicit(&leg->ring_head, memory_order_acquire) !=
	       atomic_load_explicit(&leg->ring_tail, memory_order_relaxed);
}

void media_leg_tdm_pull(struct media_leg *leg, int16_t *pcm,
			int64_t *arrival_ns)
{
	unsigned tail = atomic_load_explicit(&leg->ring_tail,
					     memory_order_relaxed);
	const struct media_tdm_block *b = &leg->ring[tail % MEDIA_TDM_RING];
	int i;

	if (leg->law == TDM_LAW_ULAW)
		for (i = 0; i < MEDIA_FRAME; i++)
			pcm[i] = ulaw_to_linear(b->data[i]);
	else
		for (i = 0; i < MEDIA_FRAME; i++)
			pcm[i] = alaw_to_linear(b->data[i]);
	*arrival_ns = b->arrival_ns;
	leg->st.packets_rx++;
	atomic_store_explicit(&leg->ring_tail, tail + 1, memory_order_release);
}

void media_leg_tdm_push(struct media_leg *leg, const int16_t *pcm)
{
	uint8_t block[TDM_BLOCK_SAMPLES];
	int i;

	if (leg->law == TDM_LAW_ULAW)
		for (i = 0; i < MEDIA_FRAME; i++)
			block[i] = linear_to_ulaw(pcm[i]);
	else
		for (i = 0; i < MEDIA_FRAME; i++)
			block[i] = linear_to_alaw(pcm[i]);
	if (leg->bchan && mp.tdm)
		mp.tdm->bchan_write(leg->bchan, block, sizeof(block));
	leg->st.packets_tx++;
}

void media_leg_tdm_apply_ec(struct media_leg *leg)
{
	int req;

	if (atomic_load_explicit(&leg->ec_request, memory_order_relaxed) < 0)
		return;
	req = atomic_exchange(&leg->ec_request, -1);
	if (req < 0 || !leg->ec || leg->ec_on == (req > 0))
		return;
	leg->ec_on = req > 0;
	media_ec_reset(leg->ec);
}

void media_leg_tdm_cancel(struct media_leg *leg, const int16_t *rin,
			  int16_t *sin)
{
	if (leg->ec && leg->ec_on)
		media_ec_process(leg->ec, rin, sin, sin, MEDIA_FRAME);
}

void media_leg_tdm_stats(struct media_leg *leg, struct media_leg_stats *st)
{
	struct media_ec_stats ec = { 0 };

	st->type = MEDIA_LEG_TDM;
	snprintf(st->local, sizeof(st->local), "%u/%u", leg->cfg.span,
		 leg->cfg.ts);
	st->codec = leg->law == TDM_LAW_ULAW ? "PCMU" : "PCMA";
	st->ec_on = leg->ec_on;
	if (leg->ec) {
		media_ec_get_stats(leg->ec, &ec);
		st->ec_tail_ms = leg->cfg.ec_tail_ms ?
					 leg->cfg.ec_tail_ms :
					 (unsigned)mp.cfg->ec_tail_ms;
	}
	st->erle_db = ec.erle_db;
	st->ec_bypassed = ec.bypassed;
	st->late = atomic_load(&leg->ring_overruns);
}
