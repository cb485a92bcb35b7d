// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_rtcp.c - build and parse RTCP compounds (RFC 3550 6.4, 6.5, 6.6).
 */
#include <errno.h>
#include <string.h>

#include "media_rtcp.h"

#define RTCP_VERSION	2
#define SDES_CNAME	1

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

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The common header (6.4.1): V, P, count, PT, length in words - 1. */
static void put_header(uint8_t *p, unsigned count, uint8_t pt, size_t len)
{
	p[0] = (uint8_t)(RTCP_VERSION << 6 | (count & 0x1f));
	p[1] = pt;
	put16(p + 2, (uint16_t)(len / 4 - 1));
}

static size_t put_block(uint8_t *p, const struct media_rtcp_block *b)
{
	uint32_t lost = (uint32_t)b->cumulative_lost & 0xffffff;

	put32(p, b->ssrc);
	put32(p + 4, (uint32_t)b->fraction_lost << 24 | lost);
	put32(p + 8, b->ext_max_seq);
	put32(p + 12, b->jitter);
	put32(p + 16, b->lsr);
	put32(p + 20, b->dlsr);
	return 24;
}

/* 6.5: one chunk, CNAME item, null item(s) up to a 32-bit boundary. */
static int put_sdes(uint8_t *p, size_t room, uint32_t ssrc, const char *cname)
{
	size_t n = cname ? strlen(cname) : 0;
	size_t len;

	if (n > 255)
		n = 255;
	len = 4 + 4 + 2 + n;
	len = (len + 4) & ~(size_t)3;	/* at least one null octet */
	if (len > room)
		return -ENOSPC;
	memset(p, 0, len);
	put_header(p, 1, MEDIA_RTCP_SDES, len);
	put32(p + 4, ssrc);
	p[8] = SDES_CNAME;
	p[9] = (uint8_t)n;
	memcpy(p + 10, cname ? cname : "", n);
	return (int)len;
}

int media_rtcp_build(const struct media_rtcp_report *rep, uint8_t *buf,
		     size_t size)
{
	unsigned count = rep->have_block ? 1 : 0;
	size_t len = rep->sender ? 28 : 8;
	int sdes;

	len += 24 * count;
	if (len > size)
		return -ENOSPC;
	put_header(buf, count, rep->sender ? MEDIA_RTCP_SR : MEDIA_RTCP_RR,
		   len);
	put32(buf + 4, rep->ssrc);
	if (rep->sender) {
		put32(buf + 8, (uint32_t)(rep->ntp >> 32));
		put32(buf + 12, (uint32_t)rep->ntp);
		put32(buf + 16, rep->rtp_ts);
		put32(buf + 20, rep->packets);
		put32(buf + 24, rep->octets);
	}
	if (count)
		put_block(buf + len - 24, &rep->block);
	sdes = put_sdes(buf + len, size - len, rep->ssrc, rep->cname);
	if (sdes < 0)
		return sdes;
	return (int)len + sdes;
}

int media_rtcp_build_bye(uint32_t ssrc, const char *cname, uint8_t *buf,
			 size_t size)
{
	size_t len = 8;
	int sdes;

	if (size < len)
		return -ENOSPC;
	put_header(buf, 0, MEDIA_RTCP_RR, 8);
	put32(buf + 4, ssrc);
	sdes = put_sdes(buf + len, size - len, ssrc, cname);
	if (sdes < 0)
		return sdes;
	len += (size_t)sdes;
	if (len + 8 > size)
		return -ENOSPC;
	put_header(buf + len, 1, MEDIA_RTCP_BYE, 8);
	put32(buf + len + 4, ssrc);
	return (int)len + 8;
}

/* ---- parsing ---------------------------------------------------------- */

static void get_block(const uint8_t *p, struct media_rtcp_block *b)
{
	uint32_t w = get32(p + 4);
	int32_t lost = (int32_t)(w & 0xffffff);

	if (lost & 0x800000)	/* 24-bit two's complement */
		lost -= 0x1000000;
	b->ssrc = get32(p);
	b->fraction_lost = (uint8_t)(w >> 24);
	b->cumulative_lost = lost;
	b->ext_max_seq = get32(p + 8);
	b->jitter = get32(p + 12);
	b->lsr = get32(p + 16);
	b->dlsr = get32(p + 20);
}

/* Report blocks of an SR or RR, from `first` on; keeps the one on us. */
static void take_blocks(const uint8_t *p, size_t len, size_t first,
			unsigned count, uint32_t about,
			struct media_rtcp_info *out)
{
	unsigned i;

	for (i = 0; i < count && first + 24 * (i + 1) <= len; i++) {
		struct media_rtcp_block b;

		get_block(p + first + 24 * i, &b);
		if (b.ssrc != about)
			continue;
		out->block = b;
		out->have_block = true;
	}
}

static void take_sr(const uint8_t *p, size_t len, unsigned count,
		    uint32_t about, struct media_rtcp_info *out)
{
	if (len < 28)
		return;
	out->have_sr = true;
	out->ntp = (uint64_t)get32(p + 8) << 32 | get32(p + 12);
	out->rtp_ts = get32(p + 16);
	out->packets = get32(p + 20);
	out->octets = get32(p + 24);
	take_blocks(p, len, 28, count, about, out);
}

int media_rtcp_parse(const uint8_t *pkt, size_t len, uint32_t about,
		     struct media_rtcp_info *out)
{
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	/* 6.4.1 / A.2: a compound starts with SR or RR, no padding there */
	if (len < 8 || pkt[0] >> 6 != RTCP_VERSION || (pkt[0] & 0x20) ||
	    (pkt[1] != MEDIA_RTCP_SR && pkt[1] != MEDIA_RTCP_RR))
		return -EINVAL;
	out->ssrc = get32(pkt + 4);
	while (off + 4 <= len) {
		const uint8_t *p = pkt + off;
		size_t plen = 4 * ((size_t)get16(p + 2) + 1);
		unsigned count = p[0] & 0x1f;

		if (p[0] >> 6 != RTCP_VERSION || off + plen > len)
			return -EINVAL;
		if (p[1] == MEDIA_RTCP_SR)
			take_sr(p, plen, count, about, out);
		else if (p[1] == MEDIA_RTCP_RR && plen >= 8)
			take_blocks(p, plen, 8, count, about, out);
		else if (p[1] == MEDIA_RTCP_BYE)
			out->bye = true;
		off += plen;
	}
	return off == len ? 0 : -EINVAL;
}

uint32_t media_rtcp_ntp_mid(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

double media_rtcp_rtt(const struct media_rtcp_block *block,
		      uint64_t arrival_ntp)
{
	uint32_t a = media_rtcp_ntp_mid(arrival_ntp);
	uint32_t rtt;

	if (!block->lsr)
		return -1.0;
	/* A - LSR - DLSR, all in 1/65536 s, modulo 2^32 */
	rtt = a - block->lsr - block->dlsr;
	if (rtt > 0x80000000u)	/* clocks disagree: not meaningful */
		return -1.0;
	return rtt / 65536.0;
}

unsigned media_rtcp_interval_ms(unsigned min_ms, bool initial, double random)
{
	/* 6.3.1: T = Td * [0.5, 1.5] / (e - 3/2); 6.2: Tmin halved at
	 * first. With two members and RTCP at 5% of a voice stream, Td is
	 * the minimum. */
	double td = initial ? min_ms / 2.0 : min_ms;
	double t = td * (0.5 + random) / 1.21828;

	return (unsigned)t;
}
