/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgw_tone: call progress tones the MGW plays toward a circuit when the
 * far end offers none (a SIP 180 without early media), per country, and
 * the G.711 coding of what it plays. Host-independent; the generator runs
 * on the span driver's thread, one 160-sample block at a time.
 *
 * Frequencies and cadences: ITU-T E.180 and its Supplement 2 (tones used
 * in national networks), ETSI TR 101 041 for the European values.
 */
#ifndef MGW_TONE_H
#define MGW_TONE_H

#include <stdbool.h>
#include <stdint.h>

#define MGW_TONE_BLOCK 160 /* 20 ms at 8 kHz */
#define MGW_CADENCE_MAX 4  /* on, off, on, off (ms) */

/* Which tone; MGW_TONE_NONE is silence. Shared with the service. */
enum mgw_tone {
	MGW_TONE_NONE = 0,
	MGW_TONE_DIAL,
	MGW_TONE_RINGBACK,
	MGW_TONE_BUSY,
	MGW_TONE_CONGESTION,
	MGW_TONE_COUNT
};

struct mgw_tone_def {
	unsigned f1, f2;	     /* Hz; f2 0 for a single tone */
	int level_dbm0;		     /* of each component */
	unsigned cadence_ms[MGW_CADENCE_MAX]; /* all 0: continuous */
};

struct mgw_tone_plan {
	const char *country;	/* "eu", "us", "uk", "de", "fr", "jp" */
	const char *name;
	struct mgw_tone_def tone[MGW_TONE_COUNT];
};

/* NULL when unknown. */
const struct mgw_tone_plan *mgw_tone_plan_find(const char *country);
/* "eu us uk ..." for the parameter's help. */
const char *mgw_tone_plan_names(void);
const char *mgw_tone_name(enum mgw_tone tone);

struct mgw_tonegen {
	const struct mgw_tone_def *def; /* NULL: silence */
	uint32_t sample;		/* in the cadence cycle */
	uint32_t phase1;		/* in samples mod 8000 */
	int amp1, amp2;
};

/* The sine table; once, on the loop thread, before any generator runs. */
void mgw_tone_init(void);
void mgw_tonegen_start(struct mgw_tonegen *g, const struct mgw_tone_def *def);
/* One block of the tone, coded as `ulaw` says (else A-law). */
void mgw_tonegen_block(struct mgw_tonegen *g, bool ulaw,
		       uint8_t out[MGW_TONE_BLOCK]);

uint8_t mgw_alaw_encode(int16_t pcm);
uint8_t mgw_ulaw_encode(int16_t pcm);

#endif /* MGW_TONE_H */
