/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * media_rtcp: RTCP compound packets (RFC 3550 6): building our SR or RR
 * with one report block and an SDES CNAME, a BYE; parsing the peer's SR,
 * RR and BYE; round-trip time from LSR/DLSR (6.4.1); the report interval
 * (6.2, 6.3.1).
 *
 * Host-independent and allocation-free.
 */
#ifndef TANDEM_MEDIA_RTCP_H
#define TANDEM_MEDIA_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_RTCP_SR	200
#define MEDIA_RTCP_RR	201
#define MEDIA_RTCP_SDES	202
#define MEDIA_RTCP_BYE	203
#define MEDIA_RTCP_APP	204

/* Longest compound media_rtcp_build() writes: SR + 1 block + SDES. */
#define MEDIA_RTCP_MAX_LEN	(28 + 24 + 8 + 2 + 255 + 4)

/* 6.4.1: one reception report block. */
struct media_rtcp_block {
	uint32_t ssrc;		/* the source it reports on */
	uint8_t fraction_lost;	/* 8-bit fixed point */
	int32_t cumulative_lost; /* 24-bit signed */
	uint32_t ext_max_seq;
	uint32_t jitter;	/* timestamp units */
	uint32_t lsr;		/* middle 32 bits of the last SR's NTP time */
	uint32_t dlsr;		/* since then, 1/65536 s */
};

/* What we put in one compound. */
struct media_rtcp_report {
	uint32_t ssrc;		/* ours */
	bool sender;		/* SR when we sent RTP since the last one */
	uint64_t ntp;		/* SR: wall clock, NTP format (RFC 5905) */
	uint32_t rtp_ts;	/* SR: the same instant in RTP units */
	uint32_t packets, octets; /* SR: sender's counts */
	bool have_block;
	struct media_rtcp_block block;
	const char *cname;	/* SDES CNAME (6.5.1), at most 255 octets */
};

/* What we found in a received compound. */
struct media_rtcp_info {
	uint32_t ssrc;		/* sender of the first packet */
	bool have_sr;
	uint64_t ntp;		/* SR */
	uint32_t rtp_ts;
	uint32_t packets, octets;
	bool have_block;	/* a block about `about` (ours) was there */
	struct media_rtcp_block block;
	bool bye;
};

/* Write a compound into buf. Returns its length or -ENOSPC. */
int media_rtcp_build(const struct media_rtcp_report *rep, uint8_t *buf,
		     size_t size);

/* Write a compound RR (no block) + SDES + BYE. Returns length or -ENOSPC. */
int media_rtcp_build_bye(uint32_t ssrc, const char *cname, uint8_t *buf,
			 size_t size);

/*
 * Parse a compound (6.1 validity checks: version 2, first packet SR or
 * RR, lengths adding up). Report blocks about `about` are taken.
 * Returns 0 or -EINVAL.
 */
int media_rtcp_parse(const uint8_t *pkt, size_t len, uint32_t about,
		     struct media_rtcp_info *out);

/* The middle 32 bits of an NTP timestamp (LSR, 6.4.1). */
uint32_t media_rtcp_ntp_mid(uint64_t ntp);

/*
 * 6.4.1: round-trip time in seconds from a report block (lsr, dlsr) and
 * the NTP time it arrived at; negative when the block has no LSR yet.
 */
double media_rtcp_rtt(const struct media_rtcp_block *block,
		      uint64_t arrival_ntp);

/*
 * 6.3.1 / 6.2 for a two-party session: the deterministic interval (5 s
 * minimum, halved for the first report) times a random factor in
 * [0.5, 1.5], divided by e - 3/2 (6.3.1 "compensation"), in ms.
 * `random` in [0, 1).
 */
unsigned media_rtcp_interval_ms(unsigned min_ms, bool initial, double random);

#endif /* TANDEM_MEDIA_RTCP_H */
