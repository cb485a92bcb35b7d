// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_jb.c - adaptive jitter buffer: a sorted set of packets, a window
 * of transit times, and the playout point steered by them.
 */
#include <errno.h>
#include <string.h>

#include "media_jb.h"

/* Ticks spent too deep before a frame of audio is dropped (1 s). */
#define DEEP_TICKS_MAX	50

static int64_t ms_to_ts(const struct media_jb *jb, unsigned ms)
{
	return (int64_t)jb->cfg.clock_hz * ms / 1000;
}

/* order[] is a permutation of the slots: the stored ones first, sorted
 * by timestamp, then the free ones. */
static void init_order(struct media_jb *jb)
{
	unsigned i;

	for (i = 0; i < MEDIA_JB_SLOTS; i++)
		jb->order[i] = (uint8_t)i;
}

int media_jb_init(struct media_jb *jb, const struct media_jb_config *cfg)
{
	if (!cfg->clock_hz || !cfg->frame || cfg->min_ms > cfg->max_ms ||
	    cfg->max_ms > 5000)
		return -EINVAL;
	memset(jb, 0, sizeof(*jb));
	jb->cfg = *cfg;
	init_order(jb);
	media_jb_reset(jb);
	return 0;
}

void media_jb_reset(struct media_jb *jb)
{
	jb->count = 0;
	jb->playing = false;
	jb->have_ref = false;
	jb->deep_ticks = 0;
	jb->delay = 0;
	memset(jb->win, 0, sizeof(jb->win));
	jb->base = 0;
	jb->spread = 0;
	jb->target = ms_to_ts(jb, jb->cfg.min_ms);
}

/* ---- the transit window ----------------------------------------------- */

static int64_t second_of(const struct media_jb *jb, int64_t t)
{
	return t >= 0 ? t / jb->cfg.clock_hz :
			-((-t + jb->cfg.clock_hz - 1) / jb->cfg.clock_hz);
}

static void window_add(struct media_jb *jb, int64_t arrival, int64_t transit)
{
	int64_t sec = second_of(jb, arrival);
	struct media_jb_bucket *b = &jb->win[(uint64_t)sec % MEDIA_JB_WINDOW];

	if (!b->used || b->start != sec) {
		b->used = true;
		b->start = sec;
		b->min_transit = transit;
		b->max_transit = transit;
		return;
	}
	if (transit < b->min_transit)
		b->min_transit = transit;
	if (transit > b->max_transit)
		b->max_transit = transit;
}

/* Recompute base, spread and target from the buckets still in the window. */
static void window_update(struct media_jb *jb, int64_t now)
{
	int64_t sec = second_of(jb, now);
	int64_t lo = 0, hi = 0, target;
	bool any = false;
	unsigned i;

	for (i = 0; i < MEDIA_JB_WINDOW; i++) {
		const struct media_jb_bucket *b = &jb->win[i];

		if (!b->used || b->start <= sec - MEDIA_JB_WINDOW)
			continue;
		if (!any || b->min_transit < lo)
			lo = b->min_transit;
		if (!any || b->max_transit > hi)
			hi = b->max_transit;
		any = true;
	}
	if (!any)
		return;		/* nothing recent: keep what we had */
	jb->base = lo;
	jb->spread = hi - lo;
	/* a margin of 5 ms for the tick's own lateness */
	target = jb->spread + ms_to_ts(jb, 5);
	if (target < ms_to_ts(jb, jb->cfg.min_ms))
		target = ms_to_ts(jb, jb->cfg.min_ms);
	if (target > ms_to_ts(jb, jb->cfg.max_ms))
		target = ms_to_ts(jb, jb->cfg.max_ms);
	jb->target = target;
}

/* ---- the packet set --------------------------------------------------- */

static struct media_jb_packet *nth(struct media_jb *jb, unsigned i)
{
	return &jb->slot[jb->order[i]];
}

static void remove_first(struct media_jb *jb)
{
	uint8_t s = jb->order[0];

	memmove(jb->order, jb->order + 1, jb->count - 1);
	jb->order[--jb->count] = s;	/* keep the free slot numbers */
}

/* Put a packet's slot (the first free one) in its sorted place. */
static unsigned insert_at(struct media_jb *jb, int64_t ext)
{
	unsigned pos = jb->count;
	uint8_t s = jb->order[jb->count];

	while (pos > 0 && nth(jb, pos - 1)->ext > ext)
		pos--;
	memmove(jb->order + pos + 1, jb->order + pos, jb->count - pos);
	jb->order[pos] = s;
	jb->count++;
	return pos;
}

static bool have_ts(struct media_jb *jb, int64_t ext)
{
	unsigned i;

	for (i = 0; i < jb->count; i++)
		if (nth(jb, i)->ext == ext)
			return true;
	return false;
}

static int64_t unwrap(struct media_jb *jb, uint32_t ts)
{
	if (!jb->have_ref)
		return ts;
	return jb->ref_ext + (int32_t)(ts - (uint32_t)jb->ref_ext);
}

/* A jump far outside what the window can explain: start over. */
static bool is_jump(const struct media_jb *jb, int64_t transit)
{
	int64_t limit = 2 * ms_to_ts(jb, jb->cfg.max_ms) + jb->cfg.clock_hz;
	int64_t d = transit - jb->base;

	return jb->have_ref && (d > limit || d < -limit);
}

static void store(struct media_jb *jb, int64_t ext, uint32_t ts, uint16_t seq,
		  bool marker, const uint8_t *payload, size_t len,
		  uint32_t samples, int64_t arrival)
{
	struct media_jb_packet *p = nth(jb, insert_at(jb, ext));

	p->ext = ext;
	p->ts = ts;
	p->seq = seq;
	p->marker = marker;
	p->samples = samples;
	p->arrival = arrival;
	p->len = len;
	memcpy(p->payload, payload, len);
}

int media_jb_put(struct media_jb *jb, uint32_t ts, uint16_t seq, bool marker,
		 const uint8_t *payload, size_t len, uint32_t samples,
		 int64_t arrival)
{
	int64_t ext, transit;
	int rc = 0;

	if (len > MEDIA_JB_MAX_PAYLOAD)
		return -EMSGSIZE;
	ext = unwrap(jb, ts);
	transit = arrival - ext;
	if (is_jump(jb, transit)) {
		jb->stats.resyncs++;
		media_jb_reset(jb);
		ext = ts;
		transit = arrival - ext;
	}
	if (!jb->have_ref || ext > jb->ref_ext)
		jb->ref_ext = ext;
	if (!jb->have_ref)
		jb->base = transit;
	jb->have_ref = true;
	window_add(jb, arrival, transit);
	if (jb->playing && ext + samples <= jb->play_ext) {
		jb->stats.late++;
		return -ETIME;
	}
	if (have_ts(jb, ext)) {
		jb->stats.duplicates++;
		return -EEXIST;
	}
	if (jb->count == MEDIA_JB_SLOTS) {
		remove_first(jb);
		jb->stats.overflows++;
		rc = -ENOBUFS;
	}
	store(jb, ext, ts, seq, marker, payload, len, samples, arrival);
	return rc;
}

/* ---- playout ---------------------------------------------------------- */

/* Start when the oldest packet has waited for the target delay. */
static void try_start(struct media_jb *jb, int64_t now)
{
	const struct media_jb_packet *first;

	if (!jb->count)
		return;
	first = nth(jb, 0);
	if (now - first->ext - jb->base < jb->target)
		return;
	jb->playing = true;
	jb->play_ext = first->ext;
	jb->deep_ticks = 0;
}

/* Nothing stored at the playout point: a frame dropped there loses no
 * audio. */
static bool gap_at_play(struct media_jb *jb)
{
	return !jb->count || nth(jb, 0)->ext > jb->play_ext;
}

static void drop_frame(struct media_jb *jb)
{
	jb->play_ext += jb->cfg.frame;
	jb->stats.drops++;
	jb->deep_ticks = 0;
	while (jb->count &&
	       nth(jb, 0)->ext + nth(jb, 0)->samples <= jb->play_ext)
		remove_first(jb);
}

enum media_jb_result media_jb_tick(struct media_jb *jb, int64_t now,
				   uint32_t buffered)
{
	int64_t half = jb->cfg.frame / 2;

	window_update(jb, now);
	if (!jb->playing) {
		try_start(jb, now);
		jb->delay = jb->playing ? now - jb->play_ext - jb->base : 0;
		return MEDIA_JB_WAIT;
	}
	jb->delay = now - (jb->play_ext - buffered) - jb->base;
	if (jb->delay < jb->target - half) {
		jb->stats.inserts++;
		jb->deep_ticks = 0;
		return MEDIA_JB_INSERT;
	}
	if (jb->delay <= jb->target + jb->cfg.frame + half) {
		jb->deep_ticks = 0;
		return MEDIA_JB_WAIT;
	}
	if (gap_at_play(jb) || ++jb->deep_ticks >= DEEP_TICKS_MAX)
		drop_frame(jb);
	return MEDIA_JB_WAIT;
}

enum media_jb_result media_jb_get(struct media_jb *jb, int64_t now,
				  const struct media_jb_packet **pkt,
				  uint32_t *skip)
{
	struct media_jb_packet *p;

	(void)now;
	if (!jb->playing)
		return MEDIA_JB_WAIT;
	/* what lies wholly behind the playout point is gone */
	while (jb->count &&
	       nth(jb, 0)->ext + nth(jb, 0)->samples <= jb->play_ext)
		remove_first(jb);
	p = jb->count ? nth(jb, 0) : NULL;
	/* a sender whose timestamps are a little off the frame grid */
	if (p && p->ext > jb->play_ext && p->ext - jb->play_ext < jb->cfg.frame / 4)
		jb->play_ext = p->ext;
	if (!p || p->ext > jb->play_ext) {
		jb->play_ext += jb->cfg.frame;
		return MEDIA_JB_MISSING;
	}
	*skip = (uint32_t)(jb->play_ext - p->ext);
	jb->play_ext = p->ext + p->samples;
	remove_first(jb);
	/* the slot stays intact until the next put */
	*pkt = &jb->slot[jb->order[jb->count]];
	return MEDIA_JB_PACKET;
}

double media_jb_delay_ms(const struct media_jb *jb)
{
	return jb->delay * 1000.0 / jb->cfg.clock_hz;
}

double media_jb_target_ms(const struct media_jb *jb)
{
	return jb->target * 1000.0 / jb->cfg.clock_hz;
}
