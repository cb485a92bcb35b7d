/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * media_rtp: RTP packets (RFC 3550 5.1) and the receiver's view of one
 * source: sequence validation, loss and interarrival jitter (RFC 3550
 * 6.4.1 and appendix A.1, A.3, A.8).
 *
 * Host-independent and allocation-free: the structs belong to the caller,
 * one per stream, used from one thread.
 */
#ifndef TANDEM_MEDIA_RTP_H
#define TANDEM_MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_RTP_HEADER_LEN	12
#define MEDIA_RTP_VERSION	2

struct media_rtp_header {
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	const uint8_t *payload;	/* after CSRCs and extension */
	size_t payload_len;	/* padding removed */
};

/*
 * Parse an RTP packet. Returns 0, or -EINVAL when it is not version 2,
 * too short for its CSRC list / extension, or its padding count is wrong.
 */
int media_rtp_parse(const uint8_t *pkt, size_t len,
		    struct media_rtp_header *out);

/* Write the fixed 12-octet header (no CSRC, no extension). Returns 12. */
size_t media_rtp_write_header(uint8_t *buf, bool marker, uint8_t pt,
			      uint16_t seq, uint32_t ts, uint32_t ssrc);

/* RFC 5761 4: RTCP packet types 192..223 in the second octet. */
bool media_rtp_is_rtcp(const uint8_t *pkt, size_t len);

/* ---- one source, as received ------------------------------------------ */

enum media_rtp_seq {
	MEDIA_RTP_SEQ_VALID,	 /* in sequence (or acceptably out of it) */
	MEDIA_RTP_SEQ_PROBATION, /* new source, not yet validated (A.1) */
	MEDIA_RTP_SEQ_BAD,	 /* a large jump: dropped unless it repeats */
	MEDIA_RTP_SEQ_RESTARTED, /* the jump repeated: the source restarted */
};

struct media_rtp_source {
	uint32_t ssrc;
	bool active;		/* has a validated ssrc */
	uint16_t max_seq;
	uint32_t cycles;	/* seq wraps, shifted: count << 16 */
	uint32_t base_seq;
	uint32_t bad_seq;	/* the seq after a large jump, + 1 */
	unsigned probation;
	uint64_t received;	/* validated packets */
	uint32_t expected_prior, received_prior; /* at the last report */
	/* RFC 3550 6.4.1: jitter in timestamp units, as a double (the
	 * integer form of A.8 only avoids floating point). */
	bool have_transit;
	int64_t transit;
	double jitter;
};

/* Start tracking a (new) source from its first packet (A.1 init_seq plus
 * probation). */
void media_rtp_source_init(struct media_rtp_source *src, uint32_t ssrc,
			   uint16_t seq);

/* A.1 update_seq: validate one packet's sequence number. */
enum media_rtp_seq media_rtp_source_seq(struct media_rtp_source *src,
					uint16_t seq);

/*
 * 6.4.1: update the jitter with a packet's RTP timestamp and its arrival
 * time, both in timestamp units (arrival: any clock, converted).
 */
void media_rtp_source_jitter(struct media_rtp_source *src, uint32_t rtp_ts,
			     int64_t arrival);

/* A.3: extended highest sequence number received. */
uint32_t media_rtp_source_ext_max(const struct media_rtp_source *src);
/* A.3: expected and cumulative lost (may be negative with duplicates). */
uint32_t media_rtp_source_expected(const struct media_rtp_source *src);
int64_t media_rtp_source_lost(const struct media_rtp_source *src);

/*
 * A.3: the fraction lost since the last call, as RTCP carries it (8-bit
 * fixed point); moves the "prior" marks.
 */
uint8_t media_rtp_source_fraction(struct media_rtp_source *src);

#endif /* TANDEM_MEDIA_RTP_H */
