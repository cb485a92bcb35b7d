/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgw_tone: call progress tones per country and G.711 coding. See
 * mgw_tone.h.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "mgw_tone.h"

/* 0 dBm0 as a sine's peak in 16-bit linear: A-law overloads at +3.14 dBm0
 * (G.711), 32768 / 10^(3.14/20). */
#define DBM0_PEAK 22803.0

/*
 * ITU-T E.180 Supplement 2 values. Dial tone is continuous; the others
 * are on/off cadences in milliseconds, repeated.
 */
static const struct mgw_tone_plan plans[] = {
	{ "eu", "CEPT / ETSI TR 101 041",
	  { [MGW_TONE_DIAL] = { 425, 0, -13, { 0 } },
	    [MGW_TONE_RINGBACK] = { 425, 0, -13, { 1000, 4000 } },
	    [MGW_TONE_BUSY] = { 425, 0, -13, { 500, 500 } },
	    [MGW_TONE_CONGESTION] = { 425, 0, -13, { 250, 250 } } } },
	{ "us", "North America (ANSI T1.401 precise tones)",
	  { [MGW_TONE_DIAL] = { 350, 440, -13, { 0 } },
	    [MGW_TONE_RINGBACK] = { 440, 480, -19, { 2000, 4000 } },
	    [MGW_TONE_BUSY] = { 480, 620, -24, { 500, 500 } },
	    [MGW_TONE_CONGESTION] = { 480, 620, -24, { 250, 250 } } } },
	{ "uk", "United Kingdom",
	  { [MGW_TONE_DIAL] = { 350, 440, -13, { 0 } },
	    [MGW_TONE_RINGBACK] = { 400, 450, -19, { 400, 200, 400, 2000 } },
	    [MGW_TONE_BUSY] = { 400, 0, -13, { 375, 375 } },
	    [MGW_TONE_CONGESTION] = { 400, 0, -13,
				      { 400, 350, 225, 525 } } } },
	{ "de", "Germany",
	  { [MGW_TONE_DIAL] = { 425, 0, -13, { 0 } },
	    [MGW_TONE_RINGBACK] = { 425, 0, -13, { 1000, 4000 } },
	    [MGW_TONE_BUSY] = { 425, 0, -13, { 480, 480 } },
	    [MGW_TONE_CONGESTION] = { 425, 0, -13, { 240, 240 } } } },
	{ "fr", "France",
	  { [MGW_TONE_DIAL] = { 440, 0, -13, { 0 } },
	    [MGW_TONE_RINGBACK] = { 440, 0, -13, { 1500, 3500 } },
	    [MGW_TONE_BUSY] = { 440, 0, -13, { 500, 500 } },
	    [MGW_TONE_CONGESTION] = { 440, 0, -13, { 250, 250 } } } },
	{ "jp", "Japan",
	  { [MGW_TONE_DIAL] = { 400, 0, -13, { 0 } },
	    [MGW_TONE_RINGBACK] = { 400, 0, -13, { 1000, 2000 } },
	    [MGW_TONE_BUSY] = { 400, 0, -13, { 500, 500 } },
	    [MGW_TONE_CONGESTION] = { 400, 0, -13, { 500, 500 } } } },
};

static const char *const tone_names[MGW_TONE_COUNT] = {
	"none", "dial", "ringback", "busy", "congestion",
};

const struct mgw_tone_plan *mgw_tone_plan_find(const char *country)
{
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++)
		if (strcmp(plans[i].country, country) == 0)
			return &plans[i];
	return NULL;
}

const char *mgw_tone_plan_names(void)
{
	return "eu|us|uk|de|fr|jp";
}

const char *mgw_tone_name(enum mgw_tone tone)
{
	return tone < MGW_TONE_COUNT ? tone_names[tone] : "?";
}

/* ---- G.711 ------------------------------------------------------------------ */

uint8_t mgw_alaw_encode(int16_t pcm)
{
	int sign = pcm >= 0 ? 0x80 : 0;
	int mag = pcm >= 0 ? pcm : -(int)pcm - 1;
	int seg = 0, mant;

	mag >>= 3; /* G.711 A-law works on 13 bits */
	if (mag > 0xfff)
		mag = 0xfff;
	while (seg < 7 && mag >= (32 << seg))
		seg++;
	mant = seg ? (mag >> seg) & 0xf : (mag >> 1) & 0xf;
	return (uint8_t)((sign | (seg << 4) | mant) ^ 0x55);
}

uint8_t mgw_ulaw_encode(int16_t pcm)
{
	int sign = pcm < 0 ? 0x80 : 0;
	int mag = pcm < 0 ? -(int)pcm : pcm;
	int seg = 0;

	mag = (mag >> 2) + 33; /* 14 bits and the bias of 33 */
	if (mag > 0x1fff)
		mag = 0x1fff;
	while (seg < 7 && mag >= (64 << seg))
		seg++;
	return (uint8_t)~(sign | (seg << 4) | ((mag >> (seg + 1)) & 0xf));
}

/* ---- The generator ------------------------------------------------------------ */

/* One cycle of a sine, 8000 points: sample n of f Hz is sine[n * f % 8000]. */
static int16_t sine[8000];

static void sine_init(void)
{
	if (sine[2000])
		return;
	for (int i = 0; i < 8000; i++)
		sine[i] = (int16_t)lround(32767.0 * sin(2 * M_PI * i / 8000.0));
}

static int amplitude(int dbm0)
{
	return (int)lround(DBM0_PEAK * pow(10.0, dbm0 / 20.0));
}

void mgw_tone_init(void)
{
	sine_init();
}

void mgw_tonegen_start(struct mgw_tonegen *g, const struct mgw_tone_def *def)
{
	sine_init();
	memset(g, 0, sizeof(*g));
	g->def = def && def->f1 ? def : NULL;
	if (g->def) {
		g->amp1 = amplitude(def->level_dbm0);
		g->amp2 = def->f2 ? g->amp1 : 0;
	}
}

static uint32_t cycle_samples(const struct mgw_tone_def *d)
{
	uint32_t ms = 0;

	for (int i = 0; i < MGW_CADENCE_MAX; i++)
		ms += d->cadence_ms[i];
	return ms * 8;
}

/* Whether the tone sounds at sample `n` of its cycle. */
static bool sounding(const struct mgw_tone_def *d, uint32_t n)
{
	uint32_t at = 0;

	if (!d->cadence_ms[0])
		return true;
	for (int i = 0; i < MGW_CADENCE_MAX; i++) {
		at += d->cadence_ms[i] * 8;
		if (n < at)
			return i % 2 == 0;
	}
	return false;
}

void mgw_tonegen_block(struct mgw_tonegen *g, bool ulaw,
		       uint8_t out[MGW_TONE_BLOCK])
{
	const struct mgw_tone_def *d = g->def;
	uint32_t cycle = d ? cycle_samples(d) : 0;

	for (int i = 0; i < MGW_TONE_BLOCK; i++) {
		int32_t v = 0;

		if (d && sounding(d, g->sample)) {
			v = g->amp1 * sine[g->phase1 * d->f1 % 8000] / 32767;
			if (d->f2)
				v += g->amp2 * sine[g->phase1 * d->f2 % 8000] /
				     32767;
		}
		if (d) {
			g->phase1 = (g->phase1 + 1) % 8000;
			g->sample = cycle ? (g->sample + 1) % cycle : 0;
		}
		out[i] = ulaw ? mgw_ulaw_encode((int16_t)v) :
				mgw_alaw_encode((int16_t)v);
	}
}
