/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * media_ec: line echo canceller for 8 kHz TDM channels (ITU-T G.168).
 *
 * Terms are G.168's: Rin is the far-end signal about to be sent to the
 * line (the canceller's reference), Sin what comes back from the line
 * (near-end speech plus the hybrid's echo of Rin), Sout the cleaned send
 * signal.  Rin passes to Rout unchanged, so only Sout is produced here.
 *
 * Design (see media_ec.c for the details and README.md for measurements):
 *  - two-path NLMS: a background FIR over the whole tail (32..128 ms,
 *    256..1024 taps) adapts on pre-whitened signals; a foreground copy,
 *    updated only when the background proves better, cancels.  Float,
 *    vectorised kernels, one fused update+filter pass per sample;
 *  - Geigel double-talk detector (G.168 assumes >= 6 dB ERL) with a
 *    hangover, freezing adaptation while the near end talks;
 *  - a non-linear processor: when the far end talks alone and the linear
 *    stage has taken most of the echo out, the residual is replaced by
 *    comfort noise matched to the near end's background level;
 *  - a tone disabler: a 2100 Hz answer tone (ITU-T V.25 ANS, with or
 *    without phase reversals, as used by modems and fax) on either path
 *    for 300 ms bypasses the canceller, until both paths have been quiet
 *    for 250 ms (ITU-T G.164 / G.165 disabler behaviour).
 *
 * Ownership: media_ec_new() allocates one canceller per channel; free it
 * with media_ec_free().  Not thread-safe: one channel, one worker thread.
 */
#ifndef TANDEM_MEDIA_EC_H
#define TANDEM_MEDIA_EC_H

#include <stdbool.h>
#include <stdint.h>

#define MEDIA_EC_MIN_TAIL_MS	32
#define MEDIA_EC_MAX_TAIL_MS	128

struct media_ec_config {
	unsigned tail_ms;	/* echo path length covered, 32..128 */
	bool nlp;		/* residual suppression + comfort noise */
	bool tone_disable;	/* bypass on a 2100 Hz answer tone */
	bool adapt;		/* false freezes the coefficients */
};

struct media_ec_stats {
	bool bypassed;		/* the tone disabler holds the canceller off */
	bool double_talk;	/* Geigel detector (or its hangover) active */
	bool nlp_active;	/* Sout is comfort noise right now */
	float erle_db;		/* smoothed Sin / residual, single talk */
	uint64_t samples;	/* processed */
	uint64_t adapt_samples;	/* of which the filter adapted on */
	uint64_t double_talk_samples;
	unsigned tone_disables;	/* times the tone disabler fired */
	unsigned transfers;	/* background -> foreground copies */
	unsigned restores;	/* diverged background reset to foreground */
};

struct media_ec;

/* Defaults: 128 ms tail, NLP on, tone disabler on, adaptation on. */
void media_ec_config_default(struct media_ec_config *cfg);

/* Returns 0, -EINVAL (tail out of range) or -ENOMEM. */
int media_ec_new(const struct media_ec_config *cfg, struct media_ec **out);
void media_ec_free(struct media_ec *ec);

/* Forget the echo path and all detector state (e.g. a new call). */
void media_ec_reset(struct media_ec *ec);

/*
 * Cancel echo in one block: rin[i] is the far-end sample sent to the line
 * at the same instant sin[i] was received from it.  Writes sout; sout may
 * alias sin.  Any block length works; 160 (20 ms) is the design point.
 * Returns 0 or -EINVAL.
 */
int media_ec_process(struct media_ec *ec, const int16_t *rin,
		     const int16_t *sin, int16_t *sout, int samples);

void media_ec_get_stats(const struct media_ec *ec, struct media_ec_stats *st);

/* Change the NLP / adaptation switches on a running canceller. */
void media_ec_set_nlp(struct media_ec *ec, bool on);
void media_ec_set_adapt(struct media_ec *ec, bool on);

#endif /* TANDEM_MEDIA_EC_H */
