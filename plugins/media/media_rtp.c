// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_rtp.c - RTP header parsing and the receiver-side bookkeeping of
 * RFC 3550 appendix A (sequence validation, loss, jitter).
 */
#include <errno.h>
#include <string.h>

#include "media_rtp.h"

/* RFC 3550 A.1: thresholds of the sequence validation. */
#define MIN_SEQUENTIAL	2	/* packets in a row to validate a source */
#define MAX_DROPOUT	3000	/* forward jump still taken as loss */
#define MAX_MISORDER	100	/* backward jump still taken as reordering */
#define SEQ_MOD		(1u << 16)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int media_rtp_parse(const uint8_t *pkt, size_t len,
		    struct media_rtp_header *out)
{
	size_t off = MEDIA_RTP_HEADER_LEN;
	size_t pad = 0;

	if (len < MEDIA_RTP_HEADER_LEN || pkt[0] >> 6 != MEDIA_RTP_VERSION)
		return -EINVAL;
	off += 4u * (pkt[0] & 0x0f);		/* CSRC list */
	if (pkt[0] & 0x10) {			/* header extension, 5.3.1 */
		if (off + 4 > len)
			return -EINVAL;
		off += 4 + 4u * get16(pkt + off + 2);
	}
	if (pkt[0] & 0x20) {			/* padding: last octet counts */
		pad = pkt[len - 1];
		if (pad == 0)
			return -EINVAL;
	}
	if (off + pad > len)
		return -EINVAL;
	out->marker = pkt[1] & 0x80;
	out->pt = pkt[1] & 0x7f;
	out->seq = get16(pkt + 2);
	out->ts = get32(pkt + 4);
	out->ssrc = get32(pkt + 8);
	out->payload = pkt + off;
	out->payload_len = len - off - pad;
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t media_rtp_write_header(uint8_t *buf, bool marker, uint8_t pt,
			      uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	buf[0] = MEDIA_RTP_VERSION << 6;
	buf[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
	put16(buf + 2, seq);
	put32(buf + 4, ts);
	put32(buf + 8, ssrc);
	return MEDIA_RTP_HEADER_LEN;
}

bool media_rtp_is_rtcp(const uint8_t *pkt, size_t len)
{
	return len >= 2 && pkt[1] >= 192 && pkt[1] <= 223;
}

/* ---- source state ---------------------------------------------------- */

static void restart_seq(struct media_rtp_source *src, uint16_t seq)
{
	src->base_seq = seq;
	src->max_seq = seq;
	src->bad_seq = SEQ_MOD + 1;	/* matches no seq */
	src->cycles = 0;
	src->received = 0;
	src->expected_prior = 0;
	src->received_prior = 0;
}

void media_rtp_source_init(struct media_rtp_source *src, uint32_t ssrc,
			   uint16_t seq)
{
	memset(src, 0, sizeof(*src));
	src->ssrc = ssrc;
	src->active = true;
	restart_seq(src, seq);
	/* The first packet counts towards probation: the next must follow. */
	src->max_seq = (uint16_t)(seq - 1);
	src->probation = MIN_SEQUENTIAL;
}

/* Probation: MIN_SEQUENTIAL packets in a row validate the source. */
static enum media_rtp_seq on_probation(struct media_rtp_source *src,
				       uint16_t seq)
{
	if (seq != (uint16_t)(src->max_seq + 1)) {
		src->probation = MIN_SEQUENTIAL - 1;
		src->max_seq = seq;
		return MEDIA_RTP_SEQ_PROBATION;
	}
	src->max_seq = seq;
	if (--src->probation)
		return MEDIA_RTP_SEQ_PROBATION;
	restart_seq(src, seq);
	src->received = 1;
	return MEDIA_RTP_SEQ_VALID;
}

enum media_rtp_seq media_rtp_source_seq(struct media_rtp_source *src,
					uint16_t seq)
{
	uint16_t delta = (uint16_t)(seq - src->max_seq);

	if (src->probation)
		return on_probation(src, seq);
	if (delta < MAX_DROPOUT) {
		/* in order, with a permissible gap */
		if (seq < src->max_seq)
			src->cycles += SEQ_MOD;
		src->max_seq = seq;
	} else if (delta <= SEQ_MOD - MAX_MISORDER) {
		/* a very large jump: believe it only if it repeats */
		if (seq == src->bad_seq) {
			restart_seq(src, seq);
			src->received = 1;
			src->have_transit = false;
			return MEDIA_RTP_SEQ_RESTARTED;
		}
		src->bad_seq = (uint32_t)((seq + 1) & (SEQ_MOD - 1));
		return MEDIA_RTP_SEQ_BAD;
	}
	/* else a duplicate or a reordered packet: counted, kept */
	src->received++;
	return MEDIA_RTP_SEQ_VALID;
}

void media_rtp_source_jitter(struct media_rtp_source *src, uint32_t rtp_ts,
			     int64_t arrival)
{
	int64_t transit = arrival - (int64_t)rtp_ts;
	int64_t d;

	/* rtp_ts wraps at 2^32; bring the transit near the previous one */
	if (src->have_transit) {
		d = transit - src->transit;
		while (d > (int64_t)1 << 31) {
			transit -= (int64_t)1 << 32;
			d -= (int64_t)1 << 32;
		}
		while (d < -((int64_t)1 << 31)) {
			transit += (int64_t)1 << 32;
			d += (int64_t)1 << 32;
		}
		if (d < 0)
			d = -d;
		/* J(i) = J(i-1) + (|D(i-1,i)| - J(i-1)) / 16 */
		src->jitter += ((double)d - src->jitter) / 16.0;
	}
	src->transit = transit;
	src->have_transit = true;
}

uint32_t media_rtp_source_ext_max(const struct media_rtp_source *src)
{
	return src->cycles + src->max_seq;
}

uint32_t media_rtp_source_expected(const struct media_rtp_source *src)
{
	if (!src->active || src->probation)
		return 0;
	return media_rtp_source_ext_max(src) - src->base_seq + 1;
}

int64_t media_rtp_source_lost(const struct media_rtp_source *src)
{
	if (!src->active || src->probation)
		return 0;
	return (int64_t)media_rtp_source_expected(src) -
	       (int64_t)src->received;
}

uint8_t media_rtp_source_fraction(struct media_rtp_source *src)
{
	uint32_t expected = media_rtp_source_expected(src);
	uint32_t exp_int = expected - src->expected_prior;
	uint32_t rec_int = (uint32_t)src->received - src->received_prior;
	int64_t lost_int = (int64_t)exp_int - rec_int;

	src->expected_prior = expected;
	src->received_prior = (uint32_t)src->received;
	if (exp_int == 0 || lost_int <= 0)
		return 0;
	return (uint8_t)((lost_int << 8) / exp_int);
}
