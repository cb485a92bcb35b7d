// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_media_codec - codec registry, frame sizes, the 8k <-> 16k resampler
 * and transcoding round trips on a speech-like signal.
 *
 * SNR is measured against the linear input (so it includes the G.711
 * quantisation at both ends) over 7.5 s of the speech-like signal of
 * test_media.h, seed fixed, so the numbers are reproducible.  Measured
 * with SpanDSP 0.0.6, then each threshold set a safe margin below:
 *   PCMU -> G722 -> PCMU          32.4 dB   asserted >= 29 dB
 *   PCMA -> G726-32 -> PCMA       22.3 dB   asserted >= 19 dB
 *   PCMA -> AAL2-G726-32 -> PCMA  22.3 dB   asserted >= 19 dB
 *   PCMA -> GSM -> PCMA            5.1 dB   asserted >=  4 dB
 *   PCMU -> PCMA -> PCMU          37.3 dB   asserted >= 34 dB
 * GSM 06.10 (RPE-LTP) keeps the spectral envelope and pitch, not the
 * waveform, so its waveform SNR is low by nature; the test guards against
 * a broken path (wrong packing or frame alignment gives < 0 dB).
 */
#include <errno.h>
#include <stdlib.h>

#include <spandsp.h>

#include "media_codec.h"
#include "media_resample.h"
#include "test_media.h"

#define RATE		8000
#define SECONDS		8
#define SAMPLES		(RATE * SECONDS)
#define FRAME		160
#define MAX_LAG		400

static int16_t speech[SAMPLES];

static const struct media_codec *codec(enum media_codec_id id)
{
	return media_codec_get(id);
}

static void test_registry(void)
{
	const struct media_codec *c;

	c = media_codec_find("pcmu", 8000);
	ok(c && c->payload_type == 0 && c->frame_bytes == 160,
	   "PCMU found case-insensitively, PT 0, 160 octets / 20 ms");
	c = media_codec_find("PCMA", 0);
	ok(c && c->payload_type == 8, "PCMA PT 8");
	c = media_codec_find("G722", 8000);
	ok(c && c->payload_type == 9 && c->rtp_clock_hz == 8000 &&
	   c->sample_rate_hz == 16000 && c->frame_samples == 320 &&
	   c->frame_bytes == 160,
	   "G722: PT 9, RTP clock 8000 (RFC 3551 4.5.2), 16 kHz audio");
	ok(!media_codec_find("G722", 16000),
	   "G722/16000 is not the registered clock rate");
	c = media_codec_find("G726-32", 8000);
	ok(c && c->payload_type == -1 && c->frame_bytes == 80,
	   "G726-32 dynamic PT (RFC 3551 4.5.4), 80 octets / 20 ms");
	c = media_codec_find("AAL2-G726-32", 8000);
	ok(c && c->id == MEDIA_CODEC_AAL2_G726_32, "AAL2-G726-32 found");
	c = media_codec_find("GSM", 8000);
	ok(c && c->payload_type == 3 && c->frame_bytes == 33,
	   "GSM PT 3, 33 octets / 20 ms");
	ok(media_codec_find_static_pt(9) == codec(MEDIA_CODEC_G722) &&
	   !media_codec_find_static_pt(2) && !media_codec_find("OPUS", 0),
	   "static PT lookup; PT 2 and unknown names give NULL");
}

static void test_frame_sizes(void)
{
	int16_t pcm[MEDIA_MAX_PACKET_SAMPLES] = { 0 };
	uint8_t out[512];
	int id, good = 1;

	for (id = 0; id < MEDIA_CODEC_COUNT; id++) {
		const struct media_codec *c = codec(id);
		struct media_codec_state *st;
		int n, m;

		if (media_codec_new(c, &st) < 0) {
			good = 0;
			continue;
		}
		n = media_codec_encode(st, pcm, c->frame_samples, out,
				       sizeof(out));
		m = media_codec_decode(st, out, n, pcm, MEDIA_MAX_PACKET_SAMPLES);
		if (n != (int)c->frame_bytes || m != (int)c->frame_samples) {
			diag("%s: %d octets, %d samples", c->encoding_name, n, m);
			good = 0;
		}
		media_codec_free(st);
	}
	ok(good, "every codec encodes 20 ms to frame_bytes and back");
}

static void test_bad_sizes(void)
{
	struct media_codec_state *gsm, *g722;
	struct media_transcoder *tc;
	int16_t pcm[MEDIA_MAX_PACKET_SAMPLES] = { 0 };
	uint8_t out[2048] = { 0 };

	media_codec_new(codec(MEDIA_CODEC_GSM), &gsm);
	media_codec_new(codec(MEDIA_CODEC_G722), &g722);
	ok(media_codec_encode(gsm, pcm, 100, out, sizeof(out)) == -EINVAL,
	   "GSM refuses a partial 160-sample block");
	ok(media_codec_decode(gsm, out, 32, pcm, 960) == -EINVAL,
	   "GSM refuses a partial 33-octet frame");
	ok(media_codec_encode(g722, pcm, 319, out, sizeof(out)) == -EINVAL,
	   "G722 refuses an odd sample count");
	ok(media_codec_encode(g722, pcm, 320, out, 100) == -ENOSPC,
	   "encode reports -ENOSPC for a short buffer");
	ok(media_codec_decode(g722, out, 160, pcm, 100) == -ENOSPC,
	   "decode reports -ENOSPC for a short buffer");
	media_transcoder_new(codec(MEDIA_CODEC_PCMA), codec(MEDIA_CODEC_GSM),
			     &tc);
	ok(media_transcode(tc, out, 80, out + 1024, 1024) == -EINVAL,
	   "PCMA 10 ms cannot become GSM (20 ms frames)");
	ok(media_transcode(tc, out, 560, out + 1024, 1024) == -EINVAL,
	   "a 70 ms packet is over MEDIA_MAX_PACKET_MS");
	media_transcoder_free(tc);
	media_codec_free(gsm);
	media_codec_free(g722);
}

/* Amplitude of frequency f_hz in x (rate_hz), by projection on sin/cos. */
static double tone_amplitude(const int16_t *x, int n, double f_hz,
			     double rate_hz)
{
	double re = 0.0, im = 0.0;
	int i;

	for (i = 0; i < n; i++) {
		re += x[i] * cos(2.0 * M_PI * f_hz * i / rate_hz);
		im += x[i] * sin(2.0 * M_PI * f_hz * i / rate_hz);
	}
	return 2.0 * sqrt(re * re + im * im) / n;
}

static void make_tone(int16_t *x, int n, double f_hz, double rate_hz,
		      double amp)
{
	int i;

	for (i = 0; i < n; i++)
		x[i] = (int16_t)lrint(amp * sin(2.0 * M_PI * f_hz * i / rate_hz));
}

/* Gain (dB) of a tone through the resampler, measured on what comes out
 * at out_hz at frequency measure_hz, after the filter has settled. */
static double resampler_gain(unsigned in_hz, unsigned out_hz, double f_hz,
			     double measure_hz)
{
	static int16_t in[16000], out[32000];
	struct media_resampler *rs;
	int n_in = (int)in_hz, n_out;
	double a;

	media_resampler_new(in_hz, out_hz, &rs);
	make_tone(in, n_in, f_hz, in_hz, 10000.0);
	n_out = media_resample(rs, in, n_in, out, 32000);
	/* skip the first 100 ms, measure over a whole number of ms */
	a = tone_amplitude(out + n_out / 10, n_out * 8 / 10, measure_hz,
			   out_hz);
	media_resampler_free(rs);
	return 20.0 * log10(a / 10000.0 + 1e-12);
}

static void test_resampler(void)
{
	double ripple = 0.0, stop_down = -1000.0, stop_up = -1000.0;
	struct media_resampler *rs;
	double f;

	ok(media_resampler_new(8000, 11025, &rs) == -ENOTSUP,
	   "resampler refuses 8000 -> 11025");
	for (f = 200.0; f <= 3400.0; f += 100.0) {
		double g1 = resampler_gain(16000, 8000, f, f);
		double g2 = resampler_gain(8000, 16000, f, f);

		ripple = fmax(ripple, fmax(fabs(g1), fabs(g2)));
	}
	/* decimating: 16k tone at f aliases to 8000 - f */
	for (f = 4600.0; f <= 7800.0; f += 100.0)
		stop_down = fmax(stop_down,
				 resampler_gain(16000, 8000, f, 8000.0 - f));
	/* interpolating: an 8k tone at f leaves an image at 8000 - f */
	for (f = 200.0; f <= 3400.0; f += 100.0)
		stop_up = fmax(stop_up,
			       resampler_gain(8000, 16000, f, 8000.0 - f));
	diag("resampler: passband 200..3400 Hz max |gain| %.4f dB, alias "
	     "%.1f dB, image %.1f dB", ripple, stop_down, stop_up);
	ok(ripple < 0.01, "resampler passband ripple < 0.01 dB");
	ok(stop_down < -75.0, "decimation aliases from >= 4.6 kHz < -75 dB");
	ok(stop_up < -75.0, "interpolation images < -75 dB");
}

static void upsample(const int16_t *in, int n, int16_t *out)
{
	struct media_resampler *rs;

	media_resampler_new(8000, 16000, &rs);
	media_resample(rs, in, n, out, 2 * n);
	media_resampler_free(rs);
}

/*
 * SNR of out against ref allowing for any delay in half-sample steps: a
 * path through G.722 and the resampler may delay by an odd number of
 * 16 kHz samples, which no whole 8 kHz lag can align.  Both signals are
 * interpolated to 16 kHz by the same (linear, flat to 3.4 kHz) filter and
 * compared there; the better of that and the plain 8 kHz SNR is kept.
 */
static double snr_any_delay(const int16_t *ref, const int16_t *out, int *lag)
{
	static int16_t ref16[2 * SAMPLES], out16[2 * (SAMPLES + MAX_LAG)];
	int start = RATE / 2, n = SAMPLES - RATE / 2 - MAX_LAG, lag16 = 0;
	double snr8, snr16;

	snr8 = test_snr_best(ref, out, start, n, MAX_LAG, lag);
	upsample(ref, SAMPLES, ref16);
	upsample(out, SAMPLES + MAX_LAG, out16);
	snr16 = test_snr_best(ref16, out16, 2 * start, 2 * n, 2 * MAX_LAG,
			      &lag16);
	if (snr16 <= snr8)
		return snr8;
	*lag = lag16;	/* reported in 16 kHz samples when it wins */
	return snr16;
}

/* Runs speech through PCM -> a -> b -> a -> PCM, 20 ms at a time, and
 * returns the SNR of the result against the linear input. */
static double round_trip_snr(enum media_codec_id a, enum media_codec_id b,
			     int *lag)
{
	static int16_t result[SAMPLES + MAX_LAG];
	struct media_codec_state *ca;
	struct media_transcoder *ab, *ba;
	int i;

	media_codec_new(codec(a), &ca);
	media_transcoder_new(codec(a), codec(b), &ab);
	media_transcoder_new(codec(b), codec(a), &ba);
	for (i = 0; i + FRAME <= SAMPLES; i += FRAME) {
		uint8_t pa[512], pb[512], pa2[512];
		int na, nb, na2;

		na = media_codec_encode(ca, speech + i, FRAME, pa, sizeof(pa));
		nb = media_transcode(ab, pa, na, pb, sizeof(pb));
		na2 = media_transcode(ba, pb, nb, pa2, sizeof(pa2));
		if (na2 < 0 || media_codec_decode(ca, pa2, na2, result + i,
						  FRAME) != FRAME)
			memset(result + i, 0, FRAME * sizeof(int16_t));
	}
	media_transcoder_free(ab);
	media_transcoder_free(ba);
	media_codec_free(ca);
	return snr_any_delay(speech, result, lag);
}

static void test_round_trips(void)
{
	static const struct {
		enum media_codec_id a, b;
		double min_snr_db;
	} trip[] = {
		{ MEDIA_CODEC_PCMU, MEDIA_CODEC_G722, 29.0 },
		{ MEDIA_CODEC_PCMA, MEDIA_CODEC_G726_32, 19.0 },
		{ MEDIA_CODEC_PCMA, MEDIA_CODEC_AAL2_G726_32, 19.0 },
		{ MEDIA_CODEC_PCMA, MEDIA_CODEC_GSM, 4.0 },
		{ MEDIA_CODEC_PCMU, MEDIA_CODEC_PCMA, 34.0 },
		{ MEDIA_CODEC_PCMA, MEDIA_CODEC_PCMU, 34.0 },
	};
	unsigned i;

	for (i = 0; i < sizeof(trip) / sizeof(trip[0]); i++) {
		const char *na = codec(trip[i].a)->encoding_name;
		const char *nb = codec(trip[i].b)->encoding_name;
		int lag = 0;
		double snr = round_trip_snr(trip[i].a, trip[i].b, &lag);

		diag("%s -> %s -> %s: SNR %.2f dB (delay %d)", na, nb,
		     na, snr, lag);
		ok(snr >= trip[i].min_snr_db, "%s -> %s -> %s SNR >= %.0f dB",
		   na, nb, na, trip[i].min_snr_db);
	}
}

/* RFC 3551 4.5.4 vs I.366.2 Annex E: the same codewords, nibbles swapped. */
static void test_g726_packing(void)
{
	struct media_codec_state *rfc, *aal2;
	uint8_t a[80], b[80];
	int i, n, swapped = 1;

	media_codec_new(codec(MEDIA_CODEC_G726_32), &rfc);
	media_codec_new(codec(MEDIA_CODEC_AAL2_G726_32), &aal2);
	n = media_codec_encode(rfc, speech + 4000, 160, a, sizeof(a));
	media_codec_encode(aal2, speech + 4000, 160, b, sizeof(b));
	for (i = 0; i < n; i++)
		if (a[i] != (uint8_t)((b[i] << 4) | (b[i] >> 4)))
			swapped = 0;
	ok(n == 80 && swapped,
	   "G726-32 and AAL2-G726-32 carry the same codewords, nibbles swapped");
	media_codec_free(rfc);
	media_codec_free(aal2);
}

/* Position of an A-law octet in the ordered list of A-law values. */
static int alaw_rank(uint8_t code)
{
	int v = alaw_to_linear(code), rank = 0, i;

	for (i = 0; i < 256; i++)
		if (alaw_to_linear((uint8_t)i) < v)
			rank++;
	return rank;
}

/* G.711 tables 3 and 4: A -> u -> A is not transparent for every octet,
 * but never moves a value by more than one A-law quantisation step. */
static void test_g711_map(void)
{
	struct media_transcoder *au, *ua;
	uint8_t in[256], mid[256], out[256];
	int i, moved = 0, worst = 0;

	media_transcoder_new(codec(MEDIA_CODEC_PCMA), codec(MEDIA_CODEC_PCMU),
			     &au);
	media_transcoder_new(codec(MEDIA_CODEC_PCMU), codec(MEDIA_CODEC_PCMA),
			     &ua);
	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	media_transcode(au, in, 256, mid, sizeof(mid));
	media_transcode(ua, mid, 256, out, sizeof(out));
	for (i = 0; i < 256; i++) {
		int step = abs(alaw_rank(out[i]) - alaw_rank(in[i]));

		moved += step != 0;
		worst = step > worst ? step : worst;
	}
	diag("PCMA -> PCMU -> PCMA: %d of 256 octets move, by at most %d step",
	     moved, worst);
	ok(worst <= 1, "PCMA -> PCMU -> PCMA moves no value by more than one "
	   "A-law step");
	media_transcoder_free(au);
	media_transcoder_free(ua);
}

int main(void)
{
	struct test_speech gen;

	test_speech_init(&gen, 20240501, 3000.0);
	test_speech_fill(&gen, speech, SAMPLES);

	test_registry();
	test_frame_sizes();
	test_bad_sizes();
	test_resampler();
	test_g726_packing();
	test_g711_map();
	test_round_trips();
	return tap_done();
}
