// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_ec.c - two-path NLMS line echo canceller (ITU-T G.168 terms: Rin,
 * Sin, Sout).
 *
 * Linear stage.  An N-tap FIR models the echo path; its estimate of the
 * echo is subtracted from Sin.  There are two such filters (the "two-path"
 * structure of Ochiai et al., 1977):
 *
 *  - the background filter b adapts (IPNLMS, below) whenever the far end
 *    talks and the double-talk detector is quiet;
 *  - the foreground filter f never adapts; it makes Sout.  It takes a copy
 *    of b when b has cancelled clearly better than f (1 dB and more, and
 *    at least 3 dB of echo return loss enhancement) over 4 consecutive
 *    2 ms blocks in which b adapted on every sample; and b is reset to f
 *    when it makes the echo 6 dB worse than no cancelling over 4 blocks.
 *
 * So double talk that slips past the detector can spoil b for a moment,
 * never the output: a diverged b is never copied, and is restored.
 *
 * Pre-whitening.  Speech is strongly low-pass, which spreads the
 * eigenvalues of its correlation and slows LMS.  b adapts on first-order
 * pre-emphasised signals (u(n) = Rin(n) - 0.9 Rin(n-1), and the same filter
 * on the error, which by linearity is the error of the pre-emphasised
 * Sin), the usual fixed whitening of echo cancellers; in NLMS form
 *
 *	e(n)  = Sin(n) - sum_k b_k Rin(n - k)
 *	ew(n) = e(n) - 0.9 e(n - 1)
 *	b_k  += mu ew(n) u(n - k) / (sum_k u(n - k)^2 + delta)
 *
 * and background() makes the step proportionate (IPNLMS).
 *
 * The update by ew(n-1) and the filter for sample n both walk all N taps,
 * so they are done in one pass (update b_k, then multiply it into the
 * output): the arithmetic is exactly NLMS, the memory traffic halved.
 * Coefficients are stored oldest tap first so that they and the far-end
 * history run in the same direction; the kernels use 8-float vectors (GCC
 * vector extensions: two SSE operations on baseline x86-64, one AVX/FMA
 * operation in the arch=haswell clone picked at load time).
 *
 * Adaptation runs only while the far end is active (power over the tail
 * above about -48 dBm0) and no double talk is detected.
 *
 * Double talk: Geigel detector, |Sin(n)| >= 0.5 max|Rin| over the tail;
 * 0.5 is G.168's assumption of at least 6 dB echo return loss.  The max is
 * kept per 16-sample block, so the window is the tail plus up to 15
 * samples.  A detection holds for 60 ms (hangover).
 *
 * NLP: when the far end talks alone (no double talk) and the residual is
 * at least 6 dB below Sin (the linear stage is doing its job), what is left
 * is residual echo: Sout becomes comfort noise at the near end's
 * background level (tracked as the floor of Sin while the far end is
 * silent), with a 2 ms cross-fade each way.
 *
 * Tone disabler: a Goertzel filter at 2100 Hz on Rin and on Sin over 10 ms
 * blocks; a block "has the tone" when the bin holds 60 % of the block's
 * energy at -35 dBm0 or more.  30 such blocks (300 ms), allowing two
 * missed blocks in a row for V.25 phase reversals, bypass the canceller;
 * 250 ms with both paths below -36 dBm0 end the bypass (G.164 release).
 *
 * Levels: 0 dBm0 is taken as 16000 rms on the 16-bit linear scale (G.711:
 * a 0 dBm0 sine peaks 3.14 dB below full scale).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "media_ec.h"

#define RATE_PER_MS		8
#define LANES			8	/* floats per vector */
#define TAP_MULTIPLE		(2 * LANES)	/* kernels do two vectors */
#define BLOCK			160	/* samples per internal pass */

#define NLMS_MU			0.5f
#define IPNLMS_ALPHA		0.5f	/* 3/4 proportionate, 1/4 uniform */
#define PREWHITEN		0.9f
/* Regularisation: as if each tap always saw -60 dBm0 of signal. */
#define NLMS_DELTA_PER_TAP	(16.0f * 16.0f)
/* Far end counts as active above -40 dBm0 mean power over the tail. */
#define FAR_ACTIVE_POWER	25600.0f
/* Echo is assumed at least 6 dB under Rin (the Geigel assumption); Sin
 * louder than that scales the step down in proportion. */
#define ERL_MIN_RATIO		4.0f

#define GEIGEL_BLOCK		16
#define GEIGEL_RATIO		0.5f
#define DT_HANGOVER		(60 * RATE_PER_MS)
#define ROLLBACK_ERLE		10.0f	/* 10 dB */

/* Two-path transfer logic, on blocks of 2 ms. */
#define PATH_BLOCK		16
#define PATH_BETTER		0.8f	/* b under f by 1 dB ... */
#define PATH_ERLE_MIN		0.25f	/* ... and under Sin by 6 dB */
#define PATH_WORSE		4.0f	/* b over Sin by 6 dB: diverged */
#define PATH_BLOCKS		4

/* One-pole smoothing of powers: ~8 ms for decisions, ~128 ms for ERLE. */
#define SHORT_ALPHA		(1.0f / 64.0f)
#define LONG_ALPHA		(1.0f / 1024.0f)
#define NLP_RESIDUAL_RATIO	4.0f	/* residual 6 dB under Sin */
#define NLP_FADE_STEP		(1.0f / 16.0f)
#define NOISE_RISE		1.0002f	/* floor tracker: +1.4 dB/s up */
#define NOISE_INITIAL		16.0f	/* -72 dBm0 */

#define TONE_BLOCK		80	/* 10 ms */
#define TONE_HZ			2100.0
#define TONE_FRACTION		0.6f
#define TONE_MIN_POWER		81000.0f	/* -35 dBm0 */
#define TONE_DETECT_BLOCKS	30		/* 300 ms */
#define TONE_MISS_ALLOWED	2
#define QUIET_POWER		64000.0f	/* -36 dBm0 */
#define QUIET_RELEASE_BLOCKS	25		/* 250 ms */

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
	__GNUC__ >= 8 && !defined(MEDIA_EC_NO_CLONES)
#define EC_KERNEL __attribute__((target_clones("fma", "default")))
#else
#define EC_KERNEL
#endif

struct tone_detector {
	float s1, s2;		/* Goertzel state */
	float energy;		/* of the current block */
	int n;			/* samples in the current block */
	int hits;		/* blocks with the tone, this run */
	int misses;		/* consecutive blocks without it */
	bool present;		/* last completed block had it */
	bool quiet;		/* last completed block below QUIET_POWER */
};

/* Far-end history, plain and pre-whitened, in one layout: [0] is the
 * sample that left the window of the first sample of the block, [1..taps]
 * the previous taps samples, then the block. */
struct far_history {
	float *x;
	float *u;
};

struct media_ec {
	struct media_ec_config cfg;
	int taps;

	/* linear stage */
	float *fg;		/* foreground coefficients, oldest tap first */
	float *bg;		/* background (adapting) coefficients */
	struct far_history far;
	float pending_step;	/* c of the update left for the next sample */
	float pending_gain_b;	/* its proportionate gain factor b */
	float pending_dot;	/* sum g_k u_k x_k of that sample's window */
	float bg_err_prev;	/* e_b(n-1), for the error pre-whitening */
	float gain_a;		/* the uniform part of the IPNLMS gains */
	int64_t far_power;	/* exact sum of Rin^2 over the window */
	double far_power_w;	/* sum of u^2 over the window */
	double far_cross;	/* sum of u x over the window */
	float delta;

	/* two-path transfer */
	float blk_sin, blk_fg, blk_bg;
	int blk_n, blk_adapted;
	int better_blocks, worse_blocks;

	/* Geigel */
	uint16_t *block_max;	/* |Rin| max per GEIGEL_BLOCK, ring */
	int nblocks, block_pos, block_fill;
	uint16_t cur_max, window_max;
	int dt_hangover;

	/* levels and NLP */
	float sin_power, res_power;		/* short term */
	float sin_power_lt, res_power_lt;	/* long term, single talk */
	float noise_power;
	float nlp_mix;		/* 1: linear output, 0: comfort noise */
	uint32_t cng_seed;

	/* tone disabler */
	struct tone_detector tone_rin, tone_sin;
	float goertzel_coeff;
	bool bypassed;
	int quiet_blocks;

	struct media_ec_stats stats;
};

/* ---- vector kernels ----------------------------------------------------
 * GCC/Clang vector extensions: 8 floats per vector, lowered to two SSE
 * operations on plain x86-64 and to one AVX operation (with FMA) in the
 * arch=haswell clone.  Loads are unaligned (the window slides by one
 * sample per call).
 */
typedef float v8sf __attribute__((vector_size(32)));
typedef float v8sf_u __attribute__((vector_size(32), aligned(4), may_alias));

/* Macros, not functions: passing 32-byte vectors by value would depend
 * on the AVX ABI (-Wpsabi). */
#define load8(p)	(*(const v8sf_u *)(p))
#define store8(p, v)	(*(v8sf_u *)(p) = (v))
#define hsum8(v)	(((v)[0] + (v)[4]) + ((v)[1] + (v)[5]) + \
			 ((v)[2] + (v)[6]) + ((v)[3] + (v)[7]))

/* sum w[k] x[k], k < n, n a multiple of TAP_MULTIPLE. */
EC_KERNEL
static float fir_kernel(const float *w, const float *x, int n)
{
	v8sf acc0 = { 0 }, acc1 = { 0 };
	int k;

	for (k = 0; k < n; k += 2 * LANES) {
		acc0 += load8(w + k) * load8(x + k);
		acc1 += load8(w + k + LANES) * load8(x + k + LANES);
	}
	acc0 += acc1;
	return hsum8(acc0);
}

/* What one background pass returns besides the updated coefficients. */
struct bg_sums {
	float y;	/* sum b_k x_k: the echo estimate */
	float l1;	/* sum |b_k|, for the next gains */
	float s1;	/* sum |b_k| u_k^2, for the next normaliser */
	float s2;	/* sum |b_k| u_k x_k, for the next error correction */
};

typedef int32_t v8si __attribute__((vector_size(32)));

/* One group of 8 taps of the IPNLMS pass (see ipnlms_kernel()). */
#define IPNLMS_STEP(k, y, l1, s1, s2)					\
	do {								\
		v8sf wk_ = load8(w + (k)), xk_, uk_, mag_;		\
									\
		mag_ = (v8sf)((v8si)wk_ & abs_mask);			\
		wk_ += vc * (va + vb * mag_) * load8(u_prev + (k));	\
		store8(w + (k), wk_);					\
		xk_ = load8(x + (k));					\
		uk_ = load8(u_prev + (k) + 1);				\
		mag_ = (v8sf)((v8si)wk_ & abs_mask);			\
		y += wk_ * xk_;						\
		l1 += mag_;						\
		mag_ *= uk_;						\
		s1 += mag_ * uk_;					\
		s2 += mag_ * xk_;					\
	} while (0)

/*
 * One IPNLMS pass: apply the update left by the previous sample,
 *	b_k += c (a + b |b_k|) u'_k		(u' = that sample's window)
 * then accumulate the sums of struct bg_sums over this sample's window
 * (x, and u = u' shifted by one).  Two sets of accumulators, so that the
 * loop is bound by throughput, not by the latency of one add chain.
 */
EC_KERNEL
static void ipnlms_kernel(float *w, const float *u_prev, const float *x,
			  float c, float a, float b, int n, struct bg_sums *out)
{
	const v8si abs_mask = (v8si){ 0 } + 0x7fffffff;
	v8sf vc = (v8sf){ 0 } + c, va = (v8sf){ 0 } + a, vb = (v8sf){ 0 } + b;
	v8sf y0 = { 0 }, l10 = { 0 }, s10 = { 0 }, s20 = { 0 };
	v8sf y1 = { 0 }, l11 = { 0 }, s11 = { 0 }, s21 = { 0 };
	int k;

	for (k = 0; k < n; k += 2 * LANES) {
		IPNLMS_STEP(k, y0, l10, s10, s20);
		IPNLMS_STEP(k + LANES, y1, l11, s11, s21);
	}
	y0 += y1;
	l10 += l11;
	s10 += s11;
	s20 += s21;
	out->y = hsum8(y0);
	out->l1 = hsum8(l10);
	out->s1 = hsum8(s10);
	out->s2 = hsum8(s20);
}

/* ---- set-up ------------------------------------------------------------ */

void media_ec_config_default(struct media_ec_config *cfg)
{
	cfg->tail_ms = MEDIA_EC_MAX_TAIL_MS;
	cfg->nlp = true;
	cfg->tone_disable = true;
	cfg->adapt = true;
}

static size_t history_len(const struct media_ec *ec)
{
	return ec->taps + BLOCK + 1;
}

void media_ec_reset(struct media_ec *ec)
{
	memset(ec->fg, 0, ec->taps * sizeof(float));
	memset(ec->bg, 0, ec->taps * sizeof(float));
	memset(ec->far.x, 0, history_len(ec) * sizeof(float));
	memset(ec->far.u, 0, history_len(ec) * sizeof(float));
	memset(ec->block_max, 0, ec->nblocks * sizeof(uint16_t));
	ec->pending_step = ec->pending_gain_b = ec->pending_dot = 0.0f;
	ec->bg_err_prev = 0.0f;
	ec->far_power = 0;
	ec->far_power_w = ec->far_cross = 0.0;
	ec->blk_sin = ec->blk_fg = ec->blk_bg = 0.0f;
	ec->blk_n = ec->blk_adapted = 0;
	ec->better_blocks = ec->worse_blocks = 0;
	ec->block_pos = ec->block_fill = 0;
	ec->cur_max = ec->window_max = 0;
	ec->dt_hangover = 0;
	ec->sin_power = ec->res_power = 0.0f;
	ec->sin_power_lt = ec->res_power_lt = 0.0f;
	ec->noise_power = NOISE_INITIAL;
	ec->nlp_mix = 1.0f;
	ec->cng_seed = 0x1234567u;
	memset(&ec->tone_rin, 0, sizeof(ec->tone_rin));
	memset(&ec->tone_sin, 0, sizeof(ec->tone_sin));
	ec->bypassed = false;
	ec->quiet_blocks = 0;
	memset(&ec->stats, 0, sizeof(ec->stats));
}

static float *alloc_floats(size_t n)
{
	size_t bytes = (n * sizeof(float) + 63) / 64 * 64;

	return aligned_alloc(64, bytes);
}

int media_ec_new(const struct media_ec_config *cfg, struct media_ec **out)
{
	struct media_ec *ec;

	if (cfg->tail_ms < MEDIA_EC_MIN_TAIL_MS ||
	    cfg->tail_ms > MEDIA_EC_MAX_TAIL_MS)
		return -EINVAL;
	ec = calloc(1, sizeof(*ec));
	if (!ec)
		return -ENOMEM;
	ec->cfg = *cfg;
	ec->taps = (cfg->tail_ms * RATE_PER_MS + TAP_MULTIPLE - 1) /
		   TAP_MULTIPLE * TAP_MULTIPLE;
	ec->nblocks = ec->taps / GEIGEL_BLOCK;
	ec->delta = NLMS_DELTA_PER_TAP * ec->taps;
	ec->gain_a = (1.0f - IPNLMS_ALPHA) / (2.0f * ec->taps);
	ec->goertzel_coeff = (float)(2.0 * cos(2.0 * M_PI * TONE_HZ /
					       (RATE_PER_MS * 1000)));
	ec->fg = alloc_floats(ec->taps);
	ec->bg = alloc_floats(ec->taps);
	ec->far.x = alloc_floats(history_len(ec));
	ec->far.u = alloc_floats(history_len(ec));
	ec->block_max = calloc(ec->nblocks, sizeof(uint16_t));
	if (!ec->fg || !ec->bg || !ec->far.x || !ec->far.u ||
	    !ec->block_max) {
		media_ec_free(ec);
		return -ENOMEM;
	}
	media_ec_reset(ec);
	*out = ec;
	return 0;
}

void media_ec_free(struct media_ec *ec)
{
	if (!ec)
		return;
	free(ec->fg);
	free(ec->bg);
	free(ec->far.x);
	free(ec->far.u);
	free(ec->block_max);
	free(ec);
}

void media_ec_set_nlp(struct media_ec *ec, bool on)
{
	ec->cfg.nlp = on;
}

void media_ec_set_adapt(struct media_ec *ec, bool on)
{
	ec->cfg.adapt = on;
}

void media_ec_get_stats(const struct media_ec *ec, struct media_ec_stats *st)
{
	*st = ec->stats;
	st->bypassed = ec->bypassed;
	st->double_talk = ec->dt_hangover > 0;
	st->nlp_active = ec->nlp_mix < 0.5f;
	st->erle_db = ec->res_power_lt > 0.0f ?
		      10.0f * log10f((ec->sin_power_lt + 1e-3f) /
				     ec->res_power_lt) : 0.0f;
}

/* ---- tone disabler ----------------------------------------------------- */

static void tone_feed(struct tone_detector *td, float coeff, float x)
{
	float s0 = x + coeff * td->s1 - td->s2;

	td->s2 = td->s1;
	td->s1 = s0;
	td->energy += x * x;
	td->n++;
}

/* Goertzel: |X(2100)|^2 = s1^2 + s2^2 - coeff s1 s2 */
static void tone_evaluate(struct tone_detector *td, float coeff)
{
	float bin = td->s1 * td->s1 + td->s2 * td->s2 - coeff * td->s1 * td->s2;
	float power = td->energy / TONE_BLOCK;

	td->present = power >= TONE_MIN_POWER &&
		      2.0f * bin >= TONE_FRACTION * TONE_BLOCK * td->energy;
	td->quiet = power < QUIET_POWER;
	if (td->present) {
		td->hits++;
		td->misses = 0;
	} else if (++td->misses > TONE_MISS_ALLOWED) {
		td->hits = 0;
	}
	td->s1 = td->s2 = td->energy = 0.0f;
	td->n = 0;
}

static bool tone_detected(const struct tone_detector *td)
{
	return td->hits >= TONE_DETECT_BLOCKS;
}

/* Called at each 10 ms boundary: decide bypass on / off. */
static void tone_disabler_step(struct media_ec *ec)
{
	if (!ec->bypassed) {
		if (tone_detected(&ec->tone_rin) ||
		    tone_detected(&ec->tone_sin)) {
			ec->bypassed = true;
			ec->quiet_blocks = 0;
			ec->pending_step = 0.0f;
			ec->stats.tone_disables++;
		}
		return;
	}
	if (ec->tone_rin.quiet && ec->tone_sin.quiet)
		ec->quiet_blocks++;
	else
		ec->quiet_blocks = 0;
	if (ec->quiet_blocks >= QUIET_RELEASE_BLOCKS) {
		ec->bypassed = false;
		ec->tone_rin.hits = ec->tone_sin.hits = 0;
	}
}

static void tone_run(struct media_ec *ec, const int16_t *rin,
		     const int16_t *sin, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		tone_feed(&ec->tone_rin, ec->goertzel_coeff, rin[i]);
		tone_feed(&ec->tone_sin, ec->goertzel_coeff, sin[i]);
		if (ec->tone_rin.n == TONE_BLOCK) {
			tone_evaluate(&ec->tone_rin, ec->goertzel_coeff);
			tone_evaluate(&ec->tone_sin, ec->goertzel_coeff);
			tone_disabler_step(ec);
		}
	}
}

/* ---- far-end bookkeeping ----------------------------------------------- */

static void geigel_push(struct media_ec *ec, int16_t x)
{
	uint16_t a = (uint16_t)(x < 0 ? -(int32_t)x : x);
	int i;

	if (a > ec->cur_max)
		ec->cur_max = a;
	if (++ec->block_fill < GEIGEL_BLOCK)
		return;
	ec->block_max[ec->block_pos] = ec->cur_max;
	ec->block_pos = (ec->block_pos + 1) % ec->nblocks;
	ec->block_fill = 0;
	ec->cur_max = 0;
	ec->window_max = 0;
	for (i = 0; i < ec->nblocks; i++)
		if (ec->block_max[i] > ec->window_max)
			ec->window_max = ec->block_max[i];
}

static float far_max(const struct media_ec *ec)
{
	return ec->cur_max > ec->window_max ? ec->cur_max : ec->window_max;
}

/* ---- NLP and comfort noise --------------------------------------------- */

static float comfort_noise(struct media_ec *ec)
{
	/* uniform in [-1, 1) has power 1/3 */
	float u;

	ec->cng_seed = ec->cng_seed * 1664525u + 1013904223u;
	u = (float)(int32_t)ec->cng_seed * (1.0f / 2147483648.0f);
	return u * sqrtf(3.0f * ec->noise_power);
}

static void track_noise_floor(struct media_ec *ec, bool far_active)
{
	if (ec->sin_power < ec->noise_power)
		ec->noise_power = ec->sin_power;
	else if (!far_active)
		ec->noise_power *= NOISE_RISE;
}

static float nlp_output(struct media_ec *ec, float e, bool far_active,
			bool double_talk)
{
	bool suppress = ec->cfg.nlp && far_active && !double_talk &&
			ec->res_power * NLP_RESIDUAL_RATIO < ec->sin_power;

	if (suppress && ec->nlp_mix > 0.0f)
		ec->nlp_mix = fmaxf(0.0f, ec->nlp_mix - NLP_FADE_STEP);
	else if (!suppress && ec->nlp_mix < 1.0f)
		ec->nlp_mix = fminf(1.0f, ec->nlp_mix + NLP_FADE_STEP);
	if (ec->nlp_mix >= 1.0f)
		return e;
	return ec->nlp_mix * e + (1.0f - ec->nlp_mix) * comfort_noise(ec);
}

/* ---- two-path transfer ------------------------------------------------- */

/* Account one sample; every PATH_BLOCK samples decide whether f takes b,
 * or b is reset to f. */
static void two_path_step(struct media_ec *ec, float s, float e_fg,
			  float e_bg, bool bg_valid)
{
	ec->blk_sin += s * s;
	ec->blk_fg += e_fg * e_fg;
	ec->blk_bg += e_bg * e_bg;
	ec->blk_adapted += bg_valid;
	if (++ec->blk_n < PATH_BLOCK)
		return;
	if (ec->blk_adapted == PATH_BLOCK) {
		bool better = ec->blk_bg < PATH_BETTER * ec->blk_fg &&
			      ec->blk_bg < PATH_ERLE_MIN * ec->blk_sin;
		bool worse = ec->blk_bg > PATH_WORSE * ec->blk_sin;

		ec->better_blocks = better ? ec->better_blocks + 1 : 0;
		ec->worse_blocks = worse ? ec->worse_blocks + 1 : 0;
	}
	if (ec->better_blocks >= PATH_BLOCKS) {
		memcpy(ec->fg, ec->bg, ec->taps * sizeof(float));
		ec->better_blocks = 0;
		ec->stats.transfers++;
	} else if (ec->worse_blocks >= PATH_BLOCKS) {
		memcpy(ec->bg, ec->fg, ec->taps * sizeof(float));
		ec->pending_step = 0.0f;
		ec->worse_blocks = 0;
		ec->stats.restores++;
	}
	ec->blk_sin = ec->blk_fg = ec->blk_bg = 0.0f;
	ec->blk_n = ec->blk_adapted = 0;
}

/* ---- the per-sample path ----------------------------------------------- */

static inline int16_t to_s16(float v)
{
	v += v >= 0.0f ? 0.5f : -0.5f;
	if (v > 32767.0f)
		return 32767;
	if (v < -32768.0f)
		return -32768;
	return (int16_t)v;
}

static void update_levels(struct media_ec *ec, float s, float e,
			  bool single_talk)
{
	ec->res_power += SHORT_ALPHA * (e * e - ec->res_power);
	if (!single_talk)
		return;
	ec->sin_power_lt += LONG_ALPHA * (s * s - ec->sin_power_lt);
	ec->res_power_lt += LONG_ALPHA * (e * e - ec->res_power_lt);
}

/* Slide the far-end window by one sample: x[taps - 1] is Rin(n) and x[-1]
 * the sample that just left (likewise u). */
static void far_step(struct media_ec *ec, const float *x, const float *u)
{
	int16_t in = (int16_t)x[ec->taps - 1], out = (int16_t)x[-1];

	ec->far_power += (int32_t)in * in - (int32_t)out * out;
	ec->far_power_w += (double)u[ec->taps - 1] * u[ec->taps - 1] -
			   (double)u[-1] * u[-1];
	ec->far_cross += (double)u[ec->taps - 1] * in - (double)u[-1] * out;
	geigel_push(ec, in);
}

/*
 * Geigel on Sin, and the same test on the foreground residual scaled by
 * the foreground's long-term ERLE (with 6 dB of margin): once the echo is
 * cancelled, near-end speech stands out of the residual by the ERLE, so it
 * is caught far below the level plain Geigel needs.  On a new detection
 * the background is rolled back to the foreground, undoing what it may
 * have learnt from the first samples of near-end speech (once the
 * foreground is worth rolling back to).
 */
static bool detect_double_talk(struct media_ec *ec, float s, float e_fg,
			       bool far_active)
{
	float limit = GEIGEL_RATIO * far_max(ec);
	float res_gain = 2.0f * sqrtf((ec->res_power_lt + 1.0f) /
				      (ec->sin_power_lt + 1.0f));
	bool hit;

	hit = far_active && (fabsf(s) >= limit ||
			     fabsf(e_fg) >= limit * fminf(res_gain, 1.0f));
	/* roll back only a foreground worth having (ERLE >= 10 dB): early
	 * on, a false detection would throw the background's progress away */
	if (hit && ec->dt_hangover == 0 &&
	    ec->res_power_lt * ROLLBACK_ERLE < ec->sin_power_lt) {
		memcpy(ec->bg, ec->fg, ec->taps * sizeof(float));
		ec->pending_step = 0.0f;
		ec->bg_err_prev = 0.0f;
	}
	if (hit)
		ec->dt_hangover = DT_HANGOVER;
	else if (ec->dt_hangover > 0)
		ec->dt_hangover--;
	return ec->dt_hangover > 0;
}

/* 1 while Sin is no louder than an echo of Rin can be, less beyond. */
static float step_scale(const struct media_ec *ec)
{
	float far_mean = (float)ec->far_power / ec->taps;
	float echo_max = far_mean / ERL_MIN_RATIO;

	return ec->sin_power <= echo_max ? 1.0f : echo_max / ec->sin_power;
}

/*
 * Run the background filter for this sample (applying the update left by
 * the previous one) and leave the update for the next.  Returns e_b(n).
 *
 * IPNLMS (Benesty and Gay, ICASSP 2002), on the pre-whitened signals:
 *	g_k  = a + b |b_k|,  a = (1 - alpha) / 2N,  b = (1 + alpha) / 2|b|_1
 *	b_k += mu ew(n) g_k u_k(n) / (sum_k g_k u_k(n)^2 + a delta)
 * A line echo path is sparse in a 64..128 ms window (a bulk delay, then a
 * few ms of hybrid response): taps that matter get most of the step.
 *
 * The whitened error must be that of the coefficients b(n) just updated:
 *	ew(n) = [Sin(n) - b(n).x(n)] - 0.9 [Sin(n-1) - b(n).x(n-1)]
 * e(n-1) was computed with b(n-1) = b(n) - c g u(n-1), so the second
 * bracket is e(n-1) - c sum g_k u_k(n-1) x_k(n-1), the sum kept from the
 * previous pass.  (Using the stale e(n-1) instead feeds the update back on
 * itself and diverges on strongly low-pass input.)
 */
static float background(struct media_ec *ec, const float *x, const float *u,
			float s, bool adapt)
{
	struct bg_sums sum;
	float e, ew, e_prev, gain_b, norm;

	e_prev = ec->bg_err_prev - ec->pending_step * ec->pending_dot;
	ipnlms_kernel(ec->bg, u - 1, x, ec->pending_step, ec->gain_a,
		      ec->pending_gain_b, ec->taps, &sum);
	e = s - sum.y;
	ew = e - PREWHITEN * e_prev;
	ec->bg_err_prev = e;

	gain_b = (1.0f + IPNLMS_ALPHA) / (2.0f * sum.l1 + 1e-6f);
	norm = ec->gain_a * ((float)ec->far_power_w + ec->delta) +
	       gain_b * sum.s1;
	ec->pending_step = adapt ? NLMS_MU * step_scale(ec) * ew / norm : 0.0f;
	ec->pending_gain_b = gain_b;
	ec->pending_dot = ec->gain_a * (float)ec->far_cross + gain_b * sum.s2;
	return e;
}

static int16_t cancel_sample(struct media_ec *ec, const float *x,
			     const float *u, int16_t sin)
{
	float s = sin, e, e_bg = 0.0f;
	bool far_active, double_talk, adapt, bg_valid;

	far_step(ec, x, u);
	far_active = (float)ec->far_power > FAR_ACTIVE_POWER * ec->taps;
	e = s - fir_kernel(ec->fg, x, ec->taps);
	ec->sin_power += SHORT_ALPHA * (s * s - ec->sin_power);
	double_talk = detect_double_talk(ec, s, e, far_active);
	adapt = ec->cfg.adapt && far_active && !double_talk;

	bg_valid = adapt || ec->pending_step != 0.0f;
	if (bg_valid)
		e_bg = background(ec, x, u, s, adapt);
	else
		ec->bg_err_prev = 0.0f;
	two_path_step(ec, s, e, e_bg, adapt);

	ec->stats.adapt_samples += adapt;
	ec->stats.double_talk_samples += double_talk;
	update_levels(ec, s, e, adapt);
	track_noise_floor(ec, far_active);
	return to_s16(nlp_output(ec, e, far_active, double_talk));
}

/* Append a block of Rin to the histories, plain and pre-whitened. */
static void far_append(struct media_ec *ec, const int16_t *rin, int n)
{
	float *x = ec->far.x + 1 + ec->taps, *u = ec->far.u + 1 + ec->taps;
	float prev = x[-1];
	int i;

	for (i = 0; i < n; i++) {
		x[i] = rin[i];
		u[i] = x[i] - PREWHITEN * prev;
		prev = x[i];
	}
}

static void far_slide(struct media_ec *ec, int n)
{
	size_t keep = (ec->taps + 1) * sizeof(float);

	memmove(ec->far.x, ec->far.x + n, keep);
	memmove(ec->far.u, ec->far.u + n, keep);
}

static void process_block(struct media_ec *ec, const int16_t *rin,
			  const int16_t *sin, int16_t *sout, int n)
{
	int i;

	far_append(ec, rin, n);
	if (ec->cfg.tone_disable)
		tone_run(ec, rin, sin, n);
	for (i = 0; i < n; i++) {
		/* the window of sample i: taps samples ending at rin[i] */
		const float *x = ec->far.x + 2 + i, *u = ec->far.u + 2 + i;

		if (ec->bypassed) {
			far_step(ec, x, u);
			sout[i] = sin[i];
		} else {
			sout[i] = cancel_sample(ec, x, u, sin[i]);
		}
	}
	far_slide(ec, n);
	ec->stats.samples += n;
}

int media_ec_process(struct media_ec *ec, const int16_t *rin,
		     const int16_t *sin, int16_t *sout, int samples)
{
	int done;

	if (samples < 0 || !rin || !sin || !sout)
		return -EINVAL;
	for (done = 0; done < samples; done += BLOCK) {
		int n = samples - done < BLOCK ? samples - done : BLOCK;

		process_block(ec, rin + done, sin + done, sout + done, n);
	}
	return 0;
}
