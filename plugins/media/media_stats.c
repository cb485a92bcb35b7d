// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_stats.c - the derived statistics of an RTP leg: addresses, loss,
 * jitter, the jitter buffer, and an E-model MOS of what it receives.
 */
#include <stdio.h>

#include "media_emodel.h"
#include "media_int.h"

/* One-way delay we cannot see: packetisation at the far end, its codec
 * and our own processing, a few ms. */
#define PROCESSING_MS	5.0

static double one_way_delay_ms(const struct media_leg *leg, double jb_ms)
{
	double ta = leg->rp.ptime_ms + jb_ms + PROCESSING_MS;

	if (leg->rtt_ms >= 0.0)
		ta += leg->rtt_ms / 2.0;
	return ta;
}

static void estimate_mos(const struct media_leg *leg,
			 struct media_leg_stats *st)
{
	struct media_emodel_codec codec;
	uint32_t expected = media_rtp_source_expected(&leg->src);
	double loss_pct = 0.0;

	if (expected)
		loss_pct = 100.0 * (double)(st->lost + st->late) / expected;
	media_emodel_codec(st->codec, &codec);
	st->r_factor = media_emodel_r(one_way_delay_ms(leg, st->jb_delay_ms),
				      &codec, loss_pct);
	st->mos = media_emodel_mos(st->r_factor);
}

void media_leg_rtp_stats(struct media_leg *leg, struct media_leg_stats *st)
{
	unsigned clock = leg->rp.codec ? leg->rp.codec->rtp_clock_hz :
					 MEDIA_RATE;
	int64_t lost = leg->have_src ? media_rtp_source_lost(&leg->src) : 0;
	bool clocked = leg->ch->mode == MODE_CLOCKED;

	st->type = MEDIA_LEG_RTP;
	st->codec = leg->rp.codec ? leg->rp.codec->encoding_name : NULL;
	st->pt = leg->rp.codec ? leg->rp.pt : -1;
	media_net_format(&leg->local, st->local, sizeof(st->local));
	media_net_format(&leg->remote, st->remote, sizeof(st->remote));
	st->latched = leg->latched;
	st->srtp = leg->rp.srtp ? media_srtp_suite_name(leg->rp.suite) : NULL;
	st->dtls = !leg->rp.dtls ? NULL :
		   leg->rp.dtls_failed ? "failed" :
		   media_dtls_done(leg->rp.dtls) ? "established" : "handshake";
	st->ssrc_rx = leg->have_src ? leg->src.ssrc : 0;
	st->ssrc_tx = leg->ssrc_tx;
	st->lost = lost > 0 ? (uint64_t)lost : 0;
	st->late = leg->jb.stats.late;
	st->duplicates = leg->jb.stats.duplicates;
	st->jitter_ms = leg->src.jitter * 1000.0 / clock;
	st->jb_delay_ms = clocked ? media_jb_delay_ms(&leg->jb) : 0.0;
	st->jb_target_ms = clocked ? media_jb_target_ms(&leg->jb) : 0.0;
	st->jb_inserts = leg->jb.stats.inserts;
	st->jb_drops = leg->jb.stats.drops;
	st->remote_loss_pct = leg->remote_loss_pct;
	st->remote_jitter_ms = leg->remote_jitter_ms;
	st->rtt_ms = leg->rtt_ms;
	if (leg->rp.t38)
		media_fax_stats(leg, st);
	else if (st->codec && leg->have_src)
		estimate_mos(leg, st);
}
