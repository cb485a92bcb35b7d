// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_media_dtmf - RFC 4733 payloads, and the loop a gateway runs:
 * all 16 digits generated in band -> detected -> RFC 4733 events (encoded
 * and decoded) -> regenerated in band with the events' durations ->
 * detected again.  Also: speech does not talk the detector off.
 */
#include <errno.h>
#include <stdlib.h>

#include "media_dtmf.h"
#include "test_media.h"

#define RATE		8000
#define FRAME		160
#define DIGITS		"0123456789*#ABCD"
#define ON_MS		80
#define OFF_MS		80
/* a report is late or early by up to a detector block (102 samples in
 * SpanDSP 0.0.6) plus a granule, at each end */
#define DURATION_SLACK	(2 * (102 + MEDIA_DTMF_REPORT_GRANULE))

struct capture {
	char digits[64];
	uint16_t duration[64];
	int starts, ends;
};

static void on_report(void *user, char digit, bool end, uint32_t duration,
		      uint64_t at_sample)
{
	struct capture *cap = user;

	(void)at_sample;
	if (!end) {
		cap->starts++;
		return;
	}
	if (cap->ends < 63) {
		cap->digits[cap->ends] = digit;
		cap->duration[cap->ends] = (uint16_t)duration;
		cap->digits[++cap->ends] = '\0';
	}
}

static void test_rfc4733(void)
{
	struct media_dtmf_event ev = { 5, true, 10, 800 }, back;
	uint8_t buf[8];
	static const uint8_t r_bit_set[] = { 11, 0x40 | 0x3f, 0x01, 0x40 };

	ok(media_dtmf_event_encode(&ev, buf, sizeof(buf)) == 4 &&
	   !memcmp(buf, "\x05\x8a\x03\x20", 4),
	   "event 5, end, volume 10, duration 800 -> 05 8a 03 20");
	ok(media_dtmf_event_decode(buf, 4, &back) == 0 && back.event == 5 &&
	   back.end && back.volume == 10 && back.duration == 800,
	   "and back");
	ok(media_dtmf_event_decode(r_bit_set, 4, &back) == 0 &&
	   back.event == 11 && !back.end && back.volume == 63 &&
	   back.duration == 320, "R bit ignored on receive (RFC 4733 2.3.3)");
	ev.volume = 64;
	ok(media_dtmf_event_encode(&ev, buf, sizeof(buf)) == -EINVAL,
	   "volume 64 refused");
	ok(media_dtmf_event_decode(buf, 3, &back) == -EINVAL,
	   "a 3-octet payload refused");
	ok(media_dtmf_digit_to_event('*') == 10 &&
	   media_dtmf_digit_to_event('#') == 11 &&
	   media_dtmf_digit_to_event('a') == 12 &&
	   media_dtmf_digit_to_event('D') == 15 &&
	   media_dtmf_digit_to_event('E') == -EINVAL &&
	   media_dtmf_event_to_digit(16) == -EINVAL,
	   "event codes of RFC 4733 3.2 table 3");
}

/* Generate whatever is queued (plus a tail of silence) and detect it. */
static void play_and_detect(struct media_dtmf_generator *gen,
			    struct capture *cap)
{
	struct media_dtmf_detector *det;
	int16_t pcm[FRAME];
	int tail = 20;

	memset(cap, 0, sizeof(*cap));
	media_dtmf_detector_new(on_report, cap, &det);
	while (media_dtmf_generator_busy(gen) || tail-- > 0) {
		media_dtmf_generate(gen, pcm, FRAME);
		media_dtmf_detect(det, pcm, FRAME);
	}
	media_dtmf_detector_free(det);
}

static int durations_within(const struct capture *cap, int expect,
			    int slack)
{
	int i;

	for (i = 0; i < cap->ends; i++)
		if (abs((int)cap->duration[i] - expect) > slack)
			return 0;
	return 1;
}

static void test_loop(void)
{
	struct media_dtmf_generator *gen;
	struct capture first, second;
	uint8_t wire[16][MEDIA_DTMF_EVENT_LEN];
	int i, min = 1 << 30, max = 0;

	media_dtmf_generator_new(&gen);
	for (i = 0; DIGITS[i]; i++)
		media_dtmf_generator_play(gen, DIGITS[i], ON_MS, OFF_MS);
	play_and_detect(gen, &first);
	for (i = 0; i < first.ends; i++) {
		min = first.duration[i] < min ? first.duration[i] : min;
		max = first.duration[i] > max ? first.duration[i] : max;
	}
	diag("first pass: \"%s\", durations %d..%d samples (tone %d)",
	     first.digits, min, max, ON_MS * 8);
	ok(!strcmp(first.digits, DIGITS) && first.starts == 16,
	   "all 16 digits generated in band are detected, in order");
	ok(durations_within(&first, ON_MS * 8, DURATION_SLACK),
	   "detected durations within %d samples of %d ms", DURATION_SLACK,
	   ON_MS);

	/* to RFC 4733 end packets and back */
	for (i = 0; i < first.ends; i++) {
		struct media_dtmf_event ev = {
			(uint8_t)media_dtmf_digit_to_event(first.digits[i]),
			true, 10, first.duration[i]
		};

		media_dtmf_event_encode(&ev, wire[i], sizeof(wire[i]));
	}
	for (i = 0; i < first.ends; i++) {
		struct media_dtmf_event ev;

		media_dtmf_event_decode(wire[i], sizeof(wire[i]), &ev);
		media_dtmf_generator_play(gen,
					  (char)media_dtmf_event_to_digit(ev.event),
					  (ev.duration + 4) / 8, 60);
	}
	play_and_detect(gen, &second);
	diag("second pass: \"%s\"", second.digits);
	ok(!strcmp(second.digits, DIGITS),
	   "regenerated from RFC 4733 events, all 16 detected again");
	for (i = 0; i < second.ends && i < first.ends; i++)
		if (abs((int)second.duration[i] - first.duration[i]) >
		    DURATION_SLACK)
			break;
	ok(i == 16, "second-pass durations track the first within %d samples",
	   DURATION_SLACK);
	media_dtmf_generator_free(gen);
}

static void test_talk_off(void)
{
	static int16_t speech[RATE * 10];
	struct test_speech gen;
	struct media_dtmf_detector *det;
	struct capture cap;
	int i;

	memset(&cap, 0, sizeof(cap));
	test_speech_init(&gen, 4242, 3000.0);
	test_speech_fill(&gen, speech, RATE * 10);
	media_dtmf_detector_new(on_report, &cap, &det);
	for (i = 0; i < RATE * 10; i += FRAME)
		media_dtmf_detect(det, speech + i, FRAME);
	media_dtmf_detector_free(det);
	ok(cap.starts == 0, "10 s of speech-like signal: no digit detected");
}

static void test_generator_errors(void)
{
	struct media_dtmf_generator *gen;
	int i, rc = 0;

	media_dtmf_generator_new(&gen);
	ok(media_dtmf_generator_play(gen, 'X', 50, 50) == -EINVAL &&
	   media_dtmf_generator_play(gen, '1', 0, 50) == -EINVAL,
	   "generator refuses a non-digit and a zero on-time");
	for (i = 0; i < 40 && rc == 0; i++)
		rc = media_dtmf_generator_play(gen, '1', 50, 50);
	ok(rc == -ENOBUFS, "generator queue is bounded");
	media_dtmf_generator_free(gen);
}

int main(void)
{
	test_rfc4733();
	test_loop();
	test_talk_off();
	test_generator_errors();
	return tap_done();
}
