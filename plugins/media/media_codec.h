/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * media_codec: the audio codecs a gateway channel speaks, and a transcoder
 * between any two of them.
 *
 * Codecs (RFC 3551 section 4.5, SDP rtpmap names per RFC 4566 / RFC 4856):
 *
 *   name          PT  RTP clock  audio    octets / 20 ms
 *   PCMU           0    8000     8 kHz    160   G.711 u-law
 *   PCMA           8    8000     8 kHz    160   G.711 A-law
 *   G722           9    8000    16 kHz    160   G.722 64 kbit/s (RFC 3551
 *                                               4.5.2: clock 8000 "for
 *                                               historical reasons")
 *   G726-32       dyn   8000     8 kHz     80   G.726 32 kbit/s, RFC 3551
 *                                               4.5.4 packing (LSB first)
 *   AAL2-G726-32  dyn   8000     8 kHz     80   same codec, ITU-T I.366.2
 *                                               Annex E packing (MSB first)
 *   GSM            3    8000     8 kHz     33   GSM 06.10 full rate
 *
 * Static payload type 2, once used for G726-32, is deprecated by RFC 3551
 * 4.5.4 because of the two packings; G.726 always takes a dynamic type.
 *
 * The DSP is SpanDSP 0.0.6.  The registry entries are static and const;
 * codec states and transcoders are allocated by the *_new() functions and
 * freed by the matching *_free().  One state serves one direction of one
 * channel from one thread.
 */
#ifndef TANDEM_MEDIA_CODEC_H
#define TANDEM_MEDIA_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define MEDIA_FRAME_MS		20
/* The longest packet a transcoder takes at once (RFC 3551 4.5: 60 ms is a
 * common upper bound of ptime for these codecs). */
#define MEDIA_MAX_PACKET_MS	60
#define MEDIA_MAX_RATE_HZ	16000
#define MEDIA_MAX_PACKET_SAMPLES \
	(MEDIA_MAX_RATE_HZ / 1000 * MEDIA_MAX_PACKET_MS)

enum media_codec_id {
	MEDIA_CODEC_PCMU,
	MEDIA_CODEC_PCMA,
	MEDIA_CODEC_G722,
	MEDIA_CODEC_G726_32,
	MEDIA_CODEC_AAL2_G726_32,
	MEDIA_CODEC_GSM,
	MEDIA_CODEC_COUNT
};

struct media_codec_ops;

struct media_codec {
	enum media_codec_id id;
	const char *encoding_name;	/* SDP rtpmap encoding name */
	int payload_type;		/* static RTP PT, -1: dynamic */
	unsigned rtp_clock_hz;		/* RTP timestamp rate */
	unsigned sample_rate_hz;	/* rate of the linear audio */
	unsigned frame_ms;		/* packetisation we send by default */
	unsigned frame_samples;		/* linear samples per frame_ms */
	unsigned frame_bytes;		/* payload octets per frame_ms */
	/* The codec's indivisible unit: encode() takes a multiple of
	 * block_samples, decode() a multiple of block_bytes. */
	unsigned block_samples;
	unsigned block_bytes;
	const struct media_codec_ops *ops;
};

/* An encoder and a decoder of one codec (both directions of a channel). */
struct media_codec_state;

/* A decoder of one codec, an encoder of another, and what lies between. */
struct media_transcoder;

/*
 * Look a codec up by SDP encoding name (case-insensitive, RFC 4855 3) and
 * RTP clock rate; clock 0 matches any.  NULL when unknown.
 */
const struct media_codec *media_codec_find(const char *encoding_name,
					   unsigned rtp_clock_hz);

/* Look a codec up by static payload type; NULL when none. */
const struct media_codec *media_codec_find_static_pt(int payload_type);

const struct media_codec *media_codec_get(enum media_codec_id id);

/* Payload octets for a number of samples, and the reverse; -EINVAL when
 * the count is not a whole number of codec blocks. */
int media_codec_bytes_for(const struct media_codec *codec, int samples);
int media_codec_samples_for(const struct media_codec *codec, size_t bytes);

/* Returns 0, -EINVAL or -ENOMEM. */
int media_codec_new(const struct media_codec *codec,
		    struct media_codec_state **out);
void media_codec_free(struct media_codec_state *state);
const struct media_codec *media_codec_of(const struct media_codec_state *st);

/*
 * Encode samples of linear audio at codec->sample_rate_hz into out.
 * Returns the octets written, -EINVAL (not whole blocks) or -ENOSPC.
 */
int media_codec_encode(struct media_codec_state *state, const int16_t *pcm,
		       int samples, uint8_t *out, size_t out_size);

/*
 * Decode bytes of payload into pcm.  Returns the samples written,
 * -EINVAL (not whole blocks) or -ENOSPC (max_samples too small).
 */
int media_codec_decode(struct media_codec_state *state,
		       const uint8_t *payload, size_t bytes, int16_t *pcm,
		       int max_samples);

/*
 * Transcoder from one codec to another.  The path is codec -> linear PCM
 * -> (8k <-> 16k resampler when the audio rates differ) -> codec, except
 * PCMA <-> PCMU, which maps octets through the G.711 conversion tables
 * without leaving the companded domain, and identical codecs, which copy.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int media_transcoder_new(const struct media_codec *from,
			 const struct media_codec *to,
			 struct media_transcoder **out);
void media_transcoder_free(struct media_transcoder *tc);

/*
 * Convert one packet (up to MEDIA_MAX_PACKET_MS of audio, whole codec
 * blocks on both sides) of `from` payload into `to` payload.
 * Returns the octets written, -EINVAL or -ENOSPC.
 */
int media_transcode(struct media_transcoder *tc, const uint8_t *in,
		    size_t in_bytes, uint8_t *out, size_t out_size);

#endif /* TANDEM_MEDIA_CODEC_H */
