// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_codec.c - codec registry, per-channel codec states on SpanDSP,
 * and the any-to-any transcoder.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spandsp.h>

#include "media_codec.h"
#include "media_resample.h"

struct media_codec_ops {
	int (*init)(struct media_codec_state *st);
	void (*fini)(struct media_codec_state *st);
	/* Whole blocks only; sizes were checked by the caller. */
	int (*encode)(struct media_codec_state *st, const int16_t *pcm,
		      int samples, uint8_t *out);
	int (*decode)(struct media_codec_state *st, const uint8_t *in,
		      int bytes, int16_t *pcm);
};

struct media_codec_state {
	const struct media_codec *codec;
	union {
		g722_encode_state_t *g722;
		g726_state_t *g726;
		gsm0610_state_t *gsm;
	} enc;
	union {
		g722_decode_state_t *g722;
		g726_state_t *g726;
		gsm0610_state_t *gsm;
	} dec;
};

/* ---- G.711 (ITU-T G.711; RFC 3551 4.5.14) ------------------------------ */

static int g711_stateless_init(struct media_codec_state *st)
{
	(void)st;
	return 0;
}

static void g711_stateless_fini(struct media_codec_state *st)
{
	(void)st;
}

static int ulaw_encode(struct media_codec_state *st, const int16_t *pcm,
		       int samples, uint8_t *out)
{
	int i;

	(void)st;
	for (i = 0; i < samples; i++)
		out[i] = linear_to_ulaw(pcm[i]);
	return samples;
}

static int ulaw_decode(struct media_codec_state *st, const uint8_t *in,
		       int bytes, int16_t *pcm)
{
	int i;

	(void)st;
	for (i = 0; i < bytes; i++)
		pcm[i] = ulaw_to_linear(in[i]);
	return bytes;
}

static int alaw_encode(struct media_codec_state *st, const int16_t *pcm,
		       int samples, uint8_t *out)
{
	int i;

	(void)st;
	for (i = 0; i < samples; i++)
		out[i] = linear_to_alaw(pcm[i]);
	return samples;
}

static int alaw_decode(struct media_codec_state *st, const uint8_t *in,
		       int bytes, int16_t *pcm)
{
	int i;

	(void)st;
	for (i = 0; i < bytes; i++)
		pcm[i] = alaw_to_linear(in[i]);
	return bytes;
}

/* ---- G.722 at 64 kbit/s, 16 kHz audio (RFC 3551 4.5.2) ----------------- */

static int g722_init(struct media_codec_state *st)
{
	st->enc.g722 = g722_encode_init(NULL, 64000, 0);
	st->dec.g722 = g722_decode_init(NULL, 64000, 0);
	return st->enc.g722 && st->dec.g722 ? 0 : -ENOMEM;
}

static void g722_fini(struct media_codec_state *st)
{
	if (st->enc.g722)
		g722_encode_free(st->enc.g722);
	if (st->dec.g722)
		g722_decode_free(st->dec.g722);
}

static int g722_enc(struct media_codec_state *st, const int16_t *pcm,
		    int samples, uint8_t *out)
{
	return g722_encode(st->enc.g722, out, pcm, samples);
}

static int g722_dec(struct media_codec_state *st, const uint8_t *in,
		    int bytes, int16_t *pcm)
{
	return g722_decode(st->dec.g722, pcm, in, bytes);
}

/* ---- G.726 at 32 kbit/s ------------------------------------------------
 * RFC 3551 4.5.4 packs the first 4-bit codeword into the least significant
 * bits of an octet (SpanDSP G726_PACKING_RIGHT); ITU-T I.366.2 Annex E
 * (AAL2-G726-32, RFC 4856) into the most significant (G726_PACKING_LEFT).
 * The encoder and decoder each keep their own adaptive predictor, so they
 * get separate SpanDSP states.
 */

static int g726_init_packing(struct media_codec_state *st, int packing)
{
	st->enc.g726 = g726_init(NULL, 32000, G726_ENCODING_LINEAR, packing);
	st->dec.g726 = g726_init(NULL, 32000, G726_ENCODING_LINEAR, packing);
	return st->enc.g726 && st->dec.g726 ? 0 : -ENOMEM;
}

static int g726_rfc3551_init(struct media_codec_state *st)
{
	return g726_init_packing(st, G726_PACKING_RIGHT);
}

static int g726_aal2_init(struct media_codec_state *st)
{
	return g726_init_packing(st, G726_PACKING_LEFT);
}

static void g726_fini(struct media_codec_state *st)
{
	if (st->enc.g726)
		g726_free(st->enc.g726);
	if (st->dec.g726)
		g726_free(st->dec.g726);
}

static int g726_enc(struct media_codec_state *st, const int16_t *pcm,
		    int samples, uint8_t *out)
{
	return g726_encode(st->enc.g726, out, pcm, samples);
}

static int g726_dec(struct media_codec_state *st, const uint8_t *in,
		    int bytes, int16_t *pcm)
{
	return g726_decode(st->dec.g726, pcm, in, bytes);
}

/* ---- GSM 06.10 full rate, 33-octet frames (RFC 3551 4.5.8) ------------- */

static int gsm_init(struct media_codec_state *st)
{
	st->enc.gsm = gsm0610_init(NULL, GSM0610_PACKING_VOIP);
	st->dec.gsm = gsm0610_init(NULL, GSM0610_PACKING_VOIP);
	return st->enc.gsm && st->dec.gsm ? 0 : -ENOMEM;
}

static void gsm_fini(struct media_codec_state *st)
{
	if (st->enc.gsm)
		gsm0610_free(st->enc.gsm);
	if (st->dec.gsm)
		gsm0610_free(st->dec.gsm);
}

static int gsm_enc(struct media_codec_state *st, const int16_t *pcm,
		   int samples, uint8_t *out)
{
	return gsm0610_encode(st->enc.gsm, out, pcm, samples);
}

static int gsm_dec(struct media_codec_state *st, const uint8_t *in,
		   int bytes, int16_t *pcm)
{
	return gsm0610_decode(st->dec.gsm, pcm, in, bytes);
}

/* ---- registry ---------------------------------------------------------- */

static const struct media_codec_ops ulaw_ops = {
	g711_stateless_init, g711_stateless_fini, ulaw_encode, ulaw_decode
};
static const struct media_codec_ops alaw_ops = {
	g711_stateless_init, g711_stateless_fini, alaw_encode, alaw_decode
};
static const struct media_codec_ops g722_ops = {
	g722_init, g722_fini, g722_enc, g722_dec
};
static const struct media_codec_ops g726_rfc3551_ops = {
	g726_rfc3551_init, g726_fini, g726_enc, g726_dec
};
static const struct media_codec_ops g726_aal2_ops = {
	g726_aal2_init, g726_fini, g726_enc, g726_dec
};
static const struct media_codec_ops gsm_ops = {
	gsm_init, gsm_fini, gsm_enc, gsm_dec
};

static const struct media_codec codecs[MEDIA_CODEC_COUNT] = {
	[MEDIA_CODEC_PCMU] = {
		MEDIA_CODEC_PCMU, "PCMU", 0, 8000, 8000, 20, 160, 160,
		1, 1, &ulaw_ops },
	[MEDIA_CODEC_PCMA] = {
		MEDIA_CODEC_PCMA, "PCMA", 8, 8000, 8000, 20, 160, 160,
		1, 1, &alaw_ops },
	[MEDIA_CODEC_G722] = {
		MEDIA_CODEC_G722, "G722", 9, 8000, 16000, 20, 320, 160,
		2, 1, &g722_ops },
	[MEDIA_CODEC_G726_32] = {
		MEDIA_CODEC_G726_32, "G726-32", -1, 8000, 8000, 20, 160, 80,
		2, 1, &g726_rfc3551_ops },
	[MEDIA_CODEC_AAL2_G726_32] = {
		MEDIA_CODEC_AAL2_G726_32, "AAL2-G726-32", -1, 8000, 8000, 20,
		160, 80, 2, 1, &g726_aal2_ops },
	[MEDIA_CODEC_GSM] = {
		MEDIA_CODEC_GSM, "GSM", 3, 8000, 8000, 20, 160, 33,
		160, 33, &gsm_ops },
};

const struct media_codec *media_codec_get(enum media_codec_id id)
{
	if ((unsigned)id >= MEDIA_CODEC_COUNT)
		return NULL;
	return &codecs[id];
}

const struct media_codec *media_codec_find(const char *encoding_name,
					   unsigned rtp_clock_hz)
{
	int i;

	for (i = 0; i < MEDIA_CODEC_COUNT; i++) {
		if (strcasecmp(codecs[i].encoding_name, encoding_name))
			continue;
		if (rtp_clock_hz && rtp_clock_hz != codecs[i].rtp_clock_hz)
			continue;
		return &codecs[i];
	}
	return NULL;
}

const struct media_codec *media_codec_find_static_pt(int payload_type)
{
	int i;

	for (i = 0; i < MEDIA_CODEC_COUNT; i++)
		if (payload_type >= 0 && codecs[i].payload_type == payload_type)
			return &codecs[i];
	return NULL;
}

int media_codec_bytes_for(const struct media_codec *codec, int samples)
{
	if (samples < 0 || samples % codec->block_samples)
		return -EINVAL;
	return samples / codec->block_samples * codec->block_bytes;
}

int media_codec_samples_for(const struct media_codec *codec, size_t bytes)
{
	if (bytes % codec->block_bytes || bytes > (1u << 20))
		return -EINVAL;
	return bytes / codec->block_bytes * codec->block_samples;
}

/* ---- codec states ------------------------------------------------------ */

int media_codec_new(const struct media_codec *codec,
		    struct media_codec_state **out)
{
	struct media_codec_state *st;
	int rc;

	if (!codec || !codec->ops)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->codec = codec;
	rc = codec->ops->init(st);
	if (rc < 0) {
		media_codec_free(st);
		return rc;
	}
	*out = st;
	return 0;
}

void media_codec_free(struct media_codec_state *state)
{
	if (!state)
		return;
	state->codec->ops->fini(state);
	free(state);
}

const struct media_codec *media_codec_of(const struct media_codec_state *st)
{
	return st->codec;
}

int media_codec_encode(struct media_codec_state *state, const int16_t *pcm,
		       int samples, uint8_t *out, size_t out_size)
{
	int bytes = media_codec_bytes_for(state->codec, samples);

	if (bytes < 0)
		return bytes;
	if ((size_t)bytes > out_size)
		return -ENOSPC;
	return state->codec->ops->encode(state, pcm, samples, out);
}

int media_codec_decode(struct media_codec_state *state,
		       const uint8_t *payload, size_t bytes, int16_t *pcm,
		       int max_samples)
{
	int samples = media_codec_samples_for(state->codec, bytes);

	if (samples < 0)
		return samples;
	if (samples > max_samples)
		return -ENOSPC;
	return state->codec->ops->decode(state, payload, (int)bytes, pcm);
}

/* ---- transcoder -------------------------------------------------------- */

enum transcode_path {
	PATH_COPY,		/* same codec: payload passes unchanged */
	PATH_G711_MAP,		/* PCMA <-> PCMU, G.711 octet tables */
	PATH_LINEAR,		/* decode, resample if needed, encode */
};

struct media_transcoder {
	const struct media_codec *from;
	const struct media_codec *to;
	enum transcode_path path;
	uint8_t g711_map[256];
	struct media_codec_state *dec;
	struct media_codec_state *enc;
	struct media_resampler *rs;	/* NULL when audio rates match */
	int16_t pcm[MEDIA_MAX_PACKET_SAMPLES];
	int16_t pcm_rs[MEDIA_MAX_PACKET_SAMPLES];
};

static bool is_g711(const struct media_codec *c)
{
	return c->id == MEDIA_CODEC_PCMU || c->id == MEDIA_CODEC_PCMA;
}

/* G.711 clause 3 tables 3 and 4 give the A-law <-> u-law conversion. */
static void build_g711_map(struct media_transcoder *tc)
{
	bool to_ulaw = tc->to->id == MEDIA_CODEC_PCMU;
	int i;

	for (i = 0; i < 256; i++)
		tc->g711_map[i] = to_ulaw ? alaw_to_ulaw((uint8_t)i) :
					    ulaw_to_alaw((uint8_t)i);
}

static int setup_linear_path(struct media_transcoder *tc)
{
	int rc;

	rc = media_codec_new(tc->from, &tc->dec);
	if (rc < 0)
		return rc;
	rc = media_codec_new(tc->to, &tc->enc);
	if (rc < 0)
		return rc;
	if (tc->from->sample_rate_hz == tc->to->sample_rate_hz)
		return 0;
	return media_resampler_new(tc->from->sample_rate_hz,
				   tc->to->sample_rate_hz, &tc->rs);
}

int media_transcoder_new(const struct media_codec *from,
			 const struct media_codec *to,
			 struct media_transcoder **out)
{
	struct media_transcoder *tc;
	int rc = 0;

	if (!from || !to)
		return -EINVAL;
	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return -ENOMEM;
	tc->from = from;
	tc->to = to;
	if (from == to) {
		tc->path = PATH_COPY;
	} else if (is_g711(from) && is_g711(to)) {
		tc->path = PATH_G711_MAP;
		build_g711_map(tc);
	} else {
		tc->path = PATH_LINEAR;
		rc = setup_linear_path(tc);
	}
	if (rc < 0) {
		media_transcoder_free(tc);
		return rc;
	}
	*out = tc;
	return 0;
}

void media_transcoder_free(struct media_transcoder *tc)
{
	if (!tc)
		return;
	media_codec_free(tc->dec);
	media_codec_free(tc->enc);
	media_resampler_free(tc->rs);
	free(tc);
}

static int transcode_linear(struct media_transcoder *tc, const uint8_t *in,
			    size_t in_bytes, uint8_t *out, size_t out_size)
{
	int16_t *pcm = tc->pcm;
	int samples;

	samples = media_codec_decode(tc->dec, in, in_bytes, tc->pcm,
				     MEDIA_MAX_PACKET_SAMPLES);
	if (samples < 0)
		return samples;
	if (tc->rs) {
		samples = media_resample(tc->rs, tc->pcm, samples, tc->pcm_rs,
					 MEDIA_MAX_PACKET_SAMPLES);
		if (samples < 0)
			return samples;
		pcm = tc->pcm_rs;
	}
	return media_codec_encode(tc->enc, pcm, samples, out, out_size);
}

int media_transcode(struct media_transcoder *tc, const uint8_t *in,
		    size_t in_bytes, uint8_t *out, size_t out_size)
{
	int max = tc->from->sample_rate_hz / 1000 * MEDIA_MAX_PACKET_MS;
	int samples = media_codec_samples_for(tc->from, in_bytes);
	size_t i;

	if (samples < 0 || samples > max)
		return -EINVAL;
	if (tc->path == PATH_LINEAR)
		return transcode_linear(tc, in, in_bytes, out, out_size);
	if (in_bytes > out_size)
		return -ENOSPC;
	if (tc->path == PATH_COPY) {
		memcpy(out, in, in_bytes);
		return (int)in_bytes;
	}
	for (i = 0; i < in_bytes; i++)
		out[i] = tc->g711_map[in[i]];
	return (int)in_bytes;
}
