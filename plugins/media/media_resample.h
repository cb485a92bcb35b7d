/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * media_resample: 8 kHz <-> 16 kHz sample-rate conversion for bridging
 * narrowband (G.711, G.726, GSM) and wideband (G.722) channels.
 *
 * The filter is one linear-phase half-band FIR (71 taps, Kaiser window,
 * beta 8.0), run as a two-phase polyphase structure so that the zero taps
 * of the half-band design cost nothing:
 *
 *   passband  0 .. 3400 Hz    flat within 0.001 dB
 *   stopband  4600 .. 8000 Hz attenuated by 80 dB or more
 *   delay     35 samples at 16 kHz (2.1875 ms), constant (linear phase)
 *
 * (test_media_codec measures these figures and asserts them.)  The
 * band edges are those of the telephone channel (ITU-T G.712): anything a
 * narrowband codec can carry passes untouched, and what would alias into
 * it when decimating is attenuated below the G.711 quantisation noise.
 *
 * Ownership: media_resampler_new() allocates; the caller frees with
 * media_resampler_free().  A resampler holds the history of one stream
 * and must not be shared between streams or threads.
 */
#ifndef TANDEM_MEDIA_RESAMPLE_H
#define TANDEM_MEDIA_RESAMPLE_H

#include <stdint.h>

struct media_resampler;

/*
 * Create a resampler from from_hz to to_hz.  Supported pairs: 8000->16000
 * and 16000->8000.  Returns 0, -ENOTSUP for another pair, -ENOMEM.
 */
int media_resampler_new(unsigned from_hz, unsigned to_hz,
			struct media_resampler **out);

void media_resampler_free(struct media_resampler *rs);

/*
 * Convert in_samples samples (an even count when decimating) into out,
 * which must hold at least media_resampler_out_samples() samples.
 * Returns the number of samples written, or -EINVAL.
 */
int media_resample(struct media_resampler *rs, const int16_t *in,
		   int in_samples, int16_t *out, int out_max);

/* The number of output samples media_resample() makes of in_samples. */
int media_resampler_out_samples(const struct media_resampler *rs,
				int in_samples);

/* Group delay of the filter in samples at 16 kHz (35, either direction). */
unsigned media_resampler_delay(const struct media_resampler *rs);

/* Forget the history, e.g. after a stream restarts. */
void media_resampler_reset(struct media_resampler *rs);

#endif /* TANDEM_MEDIA_RESAMPLE_H */
