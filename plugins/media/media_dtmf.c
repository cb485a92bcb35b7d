// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_dtmf.c - RFC 4733 telephone-event payloads, and in-band DTMF on
 * SpanDSP's dtmf_rx / dtmf_tx.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#include "media_dtmf.h"

/* RFC 4733 3.2, table 3: events 0..15 are the DTMF digits in this order. */
static const char dtmf_digits[] = "0123456789*#ABCD";

int media_dtmf_digit_to_event(char digit)
{
	const char *p;

	if (digit >= 'a' && digit <= 'd')
		digit = (char)(digit - 'a' + 'A');
	p = digit ? strchr(dtmf_digits, digit) : NULL;
	return p ? (int)(p - dtmf_digits) : -EINVAL;
}

int media_dtmf_event_to_digit(unsigned event)
{
	return event < 16 ? dtmf_digits[event] : -EINVAL;
}

/*
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |     event     |E|R| volume    |          duration             |
 * (RFC 4733 2.3, figure 1)
 */
int media_dtmf_event_encode(const struct media_dtmf_event *ev, uint8_t *out,
			    size_t size)
{
	if (ev->volume > MEDIA_DTMF_VOLUME_MAX)
		return -EINVAL;
	if (size < MEDIA_DTMF_EVENT_LEN)
		return -ENOSPC;
	out[0] = ev->event;
	out[1] = (uint8_t)((ev->end ? 0x80 : 0) | ev->volume);
	out[2] = (uint8_t)(ev->duration >> 8);
	out[3] = (uint8_t)ev->duration;
	return MEDIA_DTMF_EVENT_LEN;
}

int media_dtmf_event_decode(const uint8_t *payload, size_t len,
			    struct media_dtmf_event *ev)
{
	if (len < MEDIA_DTMF_EVENT_LEN)
		return -EINVAL;
	ev->event = payload[0];
	ev->end = payload[1] & 0x80;
	ev->volume = payload[1] & 0x3f;
	ev->duration = (uint16_t)(payload[2] << 8 | payload[3]);
	return 0;
}

/* ---- detection ---------------------------------------------------------- */

struct media_dtmf_detector {
	dtmf_rx_state_t *rx;
	media_dtmf_report_fn report;
	void *user;
	uint64_t position;	/* samples fed, up to the current granule */
	uint64_t started_at;
	char current;		/* digit being received, or 0 */
};

/* SpanDSP's realtime callback: code is the digit, or 0 when it stops. */
static void on_tone(void *user, int code, int level, int delay)
{
	struct media_dtmf_detector *det = user;

	(void)level;
	(void)delay;
	if (code && !det->current) {
		det->current = (char)code;
		det->started_at = det->position;
		det->report(det->user, det->current, false, 0, det->position);
	} else if (!code && det->current) {
		det->report(det->user, det->current, true,
			    (uint32_t)(det->position - det->started_at),
			    det->position);
		det->current = 0;
	}
}

int media_dtmf_detector_new(media_dtmf_report_fn report, void *user,
			    struct media_dtmf_detector **out)
{
	struct media_dtmf_detector *det;

	if (!report)
		return -EINVAL;
	det = calloc(1, sizeof(*det));
	if (!det)
		return -ENOMEM;
	det->rx = dtmf_rx_init(NULL, NULL, NULL);
	if (!det->rx) {
		free(det);
		return -ENOMEM;
	}
	dtmf_rx_set_realtime_callback(det->rx, on_tone, det);
	det->report = report;
	det->user = user;
	*out = det;
	return 0;
}

void media_dtmf_detector_free(struct media_dtmf_detector *det)
{
	if (!det)
		return;
	dtmf_rx_free(det->rx);
	free(det);
}

int media_dtmf_detect(struct media_dtmf_detector *det, const int16_t *pcm,
		      int samples)
{
	int done, n;

	if (samples < 0 || (samples && !pcm))
		return -EINVAL;
	/* in granules, so that a report knows its time to a granule */
	for (done = 0; done < samples; done += n) {
		n = samples - done;
		if (n > MEDIA_DTMF_REPORT_GRANULE)
			n = MEDIA_DTMF_REPORT_GRANULE;
		det->position += (uint64_t)n;
		dtmf_rx(det->rx, pcm + done, n);
	}
	return 0;
}

/* ---- generation --------------------------------------------------------- */

#define QUEUE_LEN	32

struct queued_digit {
	char digit;
	unsigned on_ms;
	unsigned off_ms;
};

struct media_dtmf_generator {
	dtmf_tx_state_t *tx;
	struct queued_digit queue[QUEUE_LEN];
	unsigned head, count;
	bool playing;		/* SpanDSP still has a digit (or its gap) */
};

int media_dtmf_generator_new(struct media_dtmf_generator **out)
{
	struct media_dtmf_generator *gen = calloc(1, sizeof(*gen));

	if (!gen)
		return -ENOMEM;
	gen->tx = dtmf_tx_init(NULL);
	if (!gen->tx) {
		free(gen);
		return -ENOMEM;
	}
	*out = gen;
	return 0;
}

void media_dtmf_generator_free(struct media_dtmf_generator *gen)
{
	if (!gen)
		return;
	dtmf_tx_free(gen->tx);
	free(gen);
}

int media_dtmf_generator_play(struct media_dtmf_generator *gen, char digit,
			      unsigned on_ms, unsigned off_ms)
{
	struct queued_digit *q;
	int event = media_dtmf_digit_to_event(digit);

	if (event < 0 || on_ms == 0 || on_ms > 60000 || off_ms > 60000)
		return -EINVAL;
	if (gen->count == QUEUE_LEN)
		return -ENOBUFS;
	q = &gen->queue[(gen->head + gen->count++) % QUEUE_LEN];
	q->digit = dtmf_digits[event];
	q->on_ms = on_ms;
	q->off_ms = off_ms;
	return 0;
}

/* Hand the next queued digit to SpanDSP, with its own timing. */
static bool start_next(struct media_dtmf_generator *gen)
{
	struct queued_digit *q;

	if (!gen->count)
		return false;
	q = &gen->queue[gen->head];
	gen->head = (gen->head + 1) % QUEUE_LEN;
	gen->count--;
	dtmf_tx_set_timing(gen->tx, (int)q->on_ms, (int)q->off_ms);
	dtmf_tx_put(gen->tx, &q->digit, 1);
	gen->playing = true;
	return true;
}

int media_dtmf_generate(struct media_dtmf_generator *gen, int16_t *pcm,
			int samples)
{
	int done = 0;

	if (samples < 0 || (samples && !pcm))
		return -EINVAL;
	while (done < samples) {
		int n;

		if (!gen->playing && !start_next(gen))
			break;
		n = dtmf_tx(gen->tx, pcm + done, samples - done);
		done += n;
		if (done < samples)
			gen->playing = false;	/* digit and gap are over */
	}
	memset(pcm + done, 0, (size_t)(samples - done) * sizeof(int16_t));
	return samples;
}

bool media_dtmf_generator_busy(const struct media_dtmf_generator *gen)
{
	return gen->playing || gen->count;
}

/* ---- tone of open-ended length ------------------------------------------ */

/* Q.23 figure 1: rows 697, 770, 852, 941 Hz; columns 1209, 1336, 1477,
 * 1633 Hz. */
static const char keypad[4][5] = { "123A", "456B", "789C", "*0#D" };
static const float row_hz[4] = { 697.0f, 770.0f, 852.0f, 941.0f };
static const float col_hz[4] = { 1209.0f, 1336.0f, 1477.0f, 1633.0f };

int media_dtmf_tone_start(struct media_dtmf_tone *tone, char digit)
{
	int event = media_dtmf_digit_to_event(digit);
	int r, c;

	if (event < 0)
		return -EINVAL;
	digit = dtmf_digits[event];
	for (r = 0; r < 4; r++) {
		const char *p = strchr(keypad[r], digit);

		if (!p)
			continue;
		c = (int)(p - keypad[r]);
		tone->rate[0] = dds_phase_ratef(row_hz[r]);
		tone->rate[1] = dds_phase_ratef(col_hz[c]);
		tone->phase[0] = 0;
		tone->phase[1] = 0;
		tone->scale = dds_scaling_dbm0f(-10.0f);
		tone->on = true;
		return 0;
	}
	return -EINVAL;
}

void media_dtmf_tone_stop(struct media_dtmf_tone *tone)
{
	tone->on = false;
}

void media_dtmf_tone_fill(struct media_dtmf_tone *tone, int16_t *pcm,
			  int samples)
{
	int i;

	if (!tone->on) {
		memset(pcm, 0, (size_t)samples * sizeof(*pcm));
		return;
	}
	for (i = 0; i < samples; i++) {
		float v = dds_modf(&tone->phase[0], tone->rate[0], tone->scale,
				   0) +
			  dds_modf(&tone->phase[1], tone->rate[1], tone->scale,
				   0);

		pcm[i] = (int16_t)lrintf(v);
	}
}
