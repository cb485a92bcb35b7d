/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_media.h - shared helpers of the media unit tests: TAP output, a
 * deterministic speech-like test signal, and signal measurements.
 * Header-only; each test program includes it once.
 */
#ifndef TANDEM_TEST_MEDIA_H
#define TANDEM_TEST_MEDIA_H

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- TAP (the plan is printed last, which TAP allows) ------------------ */

static int tap_count;
static int tap_failed;

static inline void __attribute__((format(printf, 2, 3)))
ok(int pass, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", pass ? "" : "not ", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass)
		tap_failed++;
}

static inline void __attribute__((format(printf, 1, 2)))
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

/* ---- deterministic noise ---------------------------------------------- */

struct test_rng {
	uint32_t state;
};

static inline uint32_t test_rng_next(struct test_rng *r)
{
	uint32_t x = r->state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	r->state = x;
	return x;
}

/* Uniform in [-1, 1). */
static inline double test_rng_uniform(struct test_rng *r)
{
	return (double)test_rng_next(r) / 2147483648.0 - 1.0;
}

/* Approximately Gaussian, unit variance (sum of 4 uniforms). */
static inline double test_rng_gauss(struct test_rng *r)
{
	double s = 0.0;
	int i;

	for (i = 0; i < 4; i++)
		s += test_rng_uniform(r);
	return s * 0.8660254;	/* sqrt(3 / 4) */
}

/* ---- speech-like signal at 8 kHz --------------------------------------
 * Voiced "syllables" (a glottal pulse train at 90..180 Hz, jittered) and
 * unvoiced ones (noise) through three formant resonators picked from a
 * vowel table, under a raised-cosine syllable envelope, with pauses of
 * 100..400 ms between talkspurts.  Not speech, but coloured, non-stationary
 * and talkspurt-shaped, which is what the DSP under test cares about.
 */
struct test_speech {
	struct test_rng rng;
	double level;			/* rms of active speech, linear */
	int seg_left;			/* samples left in this segment */
	int seg_len;
	int voiced;
	int silent;
	double pitch_phase;
	double pitch_hz;
	double glottal;			/* low-passed excitation */
	double res_a1[3], res_a2[3], res_g[3];
	double res_y1[3], res_y2[3];
};

static const double test_vowels[][3] = {
	{ 730, 1090, 2440 }, { 270, 2290, 3010 }, { 300, 870, 2240 },
	{ 530, 1840, 2480 }, { 660, 1720, 2410 }, { 570, 840, 2410 },
	{ 440, 1020, 2240 }, { 490, 1350, 1690 },
};

static inline void test_speech_set_formants(struct test_speech *s)
{
	const double *f = test_vowels[test_rng_next(&s->rng) % 8];
	static const double bw[3] = { 90, 110, 170 };
	int k;

	for (k = 0; k < 3; k++) {
		double r = exp(-M_PI * bw[k] / 8000.0);
		double w = 2.0 * M_PI * f[k] / 8000.0;

		s->res_a1[k] = 2.0 * r * cos(w);
		s->res_a2[k] = -r * r;
		s->res_g[k] = (1.0 - r);
	}
}

static inline void test_speech_next_segment(struct test_speech *s)
{
	if (!s->silent && test_rng_next(&s->rng) % 4 == 0) {
		s->silent = 1;
		s->seg_len = 800 + test_rng_next(&s->rng) % 2400;
	} else {
		s->silent = 0;
		s->voiced = test_rng_next(&s->rng) % 5 != 0;
		s->seg_len = 1000 + test_rng_next(&s->rng) % 1400;
		s->pitch_hz = 90 + test_rng_next(&s->rng) % 90;
		test_speech_set_formants(s);
	}
	s->seg_left = s->seg_len;
}

static inline void test_speech_init(struct test_speech *s, uint32_t seed,
				    double rms)
{
	memset(s, 0, sizeof(*s));
	s->rng.state = seed ? seed : 1;
	s->level = rms;
	test_speech_next_segment(s);
}

/* Voiced: a jittered pulse train through a one-pole low-pass, which gives
 * the falling spectral tilt of a glottal source; unvoiced: noise. */
static inline double test_speech_excitation(struct test_speech *s)
{
	double e = 0.02 * test_rng_gauss(&s->rng);

	if (!s->voiced)
		return 0.35 * test_rng_gauss(&s->rng);
	s->pitch_phase += (s->pitch_hz + 3.0 * test_rng_uniform(&s->rng)) /
			  8000.0;
	if (s->pitch_phase >= 1.0) {
		s->pitch_phase -= 1.0;
		e += 1.0;
	}
	s->glottal = 0.85 * s->glottal + 0.15 * e;
	return 4.0 * s->glottal;
}

static inline double test_speech_formants(struct test_speech *s, double e)
{
	double out = 0.0;
	int k;

	for (k = 0; k < 3; k++) {
		double y = s->res_g[k] * e + s->res_a1[k] * s->res_y1[k] +
			   s->res_a2[k] * s->res_y2[k];

		s->res_y2[k] = s->res_y1[k];
		s->res_y1[k] = y;
		out += y / (k + 1);
	}
	return out;
}

/* Empirical gain taking the generator's raw output to unit rms. */
#define TEST_SPEECH_NORM 14.3

static inline void test_speech_fill(struct test_speech *s, int16_t *out,
				    int n)
{
	int i;

	for (i = 0; i < n; i++) {
		double env, v;

		if (s->seg_left-- <= 0)
			test_speech_next_segment(s);
		env = s->silent ? 0.0 :
		      sin(M_PI * (s->seg_len - s->seg_left) / s->seg_len);
		v = test_speech_formants(s, test_speech_excitation(s));
		v *= env * s->level * TEST_SPEECH_NORM;
		if (v > 32767)
			v = 32767;
		if (v < -32768)
			v = -32768;
		out[i] = (int16_t)lrint(v);
	}
}

/* ---- measurements ------------------------------------------------------ */

static inline double test_energy(const int16_t *x, int n)
{
	double e = 0.0;
	int i;

	for (i = 0; i < n; i++)
		e += (double)x[i] * x[i];
	return e;
}

static inline double test_rms(const int16_t *x, int n)
{
	return n > 0 ? sqrt(test_energy(x, n) / n) : 0.0;
}

static inline double test_db(double ratio)
{
	return 10.0 * log10(ratio > 1e-30 ? ratio : 1e-30);
}

/* SNR of out against ref over ref[start .. start + n), out delayed by lag. */
static inline double test_snr_at(const int16_t *ref, const int16_t *out,
				 int start, int n, int lag)
{
	double sig = 0.0, err = 0.0;
	int i;

	for (i = start; i < start + n; i++) {
		double d = (double)ref[i] - out[i + lag];

		sig += (double)ref[i] * ref[i];
		err += d * d;
	}
	return test_db(sig / (err > 0.0 ? err : 1e-9));
}

/* Best SNR over lags 0..max_lag (codec and filter delays); *lag_out set. */
static inline double test_snr_best(const int16_t *ref, const int16_t *out,
				   int start, int n, int max_lag, int *lag_out)
{
	double best = -1e9;
	int lag;

	for (lag = 0; lag <= max_lag; lag++) {
		double snr = test_snr_at(ref, out, start, n, lag);

		if (snr > best) {
			best = snr;
			if (lag_out)
				*lag_out = lag;
		}
	}
	return best;
}

#endif /* TANDEM_TEST_MEDIA_H */
