/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * media_jb: an adaptive jitter buffer for one received RTP stream, played
 * out 20 ms at a time by a local clock (a TDM span's or the monotonic
 * clock of a media worker).
 *
 * Times are in RTP timestamp units: `arrival` of each packet and `now` of
 * each playout tick must come from one clock, converted (the kernel's
 * receive timestamp and the tick's wall-clock time).
 *
 * How it adapts. transit = arrival - ts. Over a sliding window (8 s, in
 * 1 s buckets) the smallest transit is the path's base delay and the
 * largest minus the smallest its spread. The playout delay of the
 * fastest packets, D = now - play_ts - base, is steered towards
 * target = spread + margin, within [min_ms, max_ms]:
 *  - D below target - frame/2 (packets came late or would): insert one
 *    frame (the caller conceals it) at once;
 *  - D above target + 1.5 frames: drop one frame, at once when there is a
 *    gap to drop, else after one second of being too deep.
 * Clock drift between the sender and the local clock shows as a slow move
 * of base, and is absorbed by the same inserts and drops (one frame per
 * 20 ms of accumulated drift).
 *
 * Ownership: the struct belongs to the caller; one stream, one thread.
 */
#ifndef TANDEM_MEDIA_JB_H
#define TANDEM_MEDIA_JB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_JB_SLOTS		32	/* packets held at most */
#define MEDIA_JB_MAX_PAYLOAD	640	/* octets: 40 ms of G.711 at 16 kHz */
#define MEDIA_JB_WINDOW		8	/* buckets of one second */

struct media_jb_packet {
	int64_t ext;		/* ts unwrapped */
	uint32_t ts;
	uint16_t seq;
	bool marker;
	uint32_t samples;	/* duration in timestamp units */
	int64_t arrival;
	size_t len;
	uint8_t payload[MEDIA_JB_MAX_PAYLOAD];
};

struct media_jb_config {
	unsigned clock_hz;	/* RTP timestamp rate */
	unsigned frame;		/* timestamp units per playout tick (20 ms) */
	unsigned min_ms, max_ms;/* bounds of the target delay */
};

struct media_jb_stats {
	uint64_t late;		/* arrived after their playout time */
	uint64_t duplicates;
	uint64_t overflows;	/* dropped: buffer full */
	uint64_t inserts;	/* frames added to grow the delay */
	uint64_t drops;		/* frames dropped to shrink it */
	uint64_t resyncs;	/* timestamp jumps that restarted playout */
};

enum media_jb_result {
	MEDIA_JB_WAIT,		/* not playing yet: play silence */
	MEDIA_JB_PACKET,	/* play `pkt`, from sample `skip` on */
	MEDIA_JB_MISSING,	/* conceal one frame (lost, late or a gap) */
	MEDIA_JB_INSERT,	/* conceal one frame: the buffer grows */
};

struct media_jb_bucket {
	int64_t start;		/* window time of the bucket */
	int64_t min_transit, max_transit;
	bool used;
};

struct media_jb {
	struct media_jb_config cfg;
	struct media_jb_packet slot[MEDIA_JB_SLOTS];
	uint8_t order[MEDIA_JB_SLOTS];	/* slot numbers sorted by ts */
	unsigned count;
	bool playing;
	int64_t play_ext;	/* next timestamp to play, unwrapped */
	int64_t ref_ext;	/* unwrapping reference: the newest packet */
	bool have_ref;
	struct media_jb_bucket win[MEDIA_JB_WINDOW];
	int64_t base, spread;	/* from the window */
	int64_t target;		/* timestamp units */
	int64_t delay;		/* D at the last tick */
	unsigned deep_ticks;	/* ticks spent too deep */
	struct media_jb_stats stats;
};

int media_jb_init(struct media_jb *jb, const struct media_jb_config *cfg);
/* Forget all packets and the window (new source, new codec). */
void media_jb_reset(struct media_jb *jb);

/*
 * Store a packet. Returns 0; -ETIME when it came after its playout time
 * (counted late, dropped); -EEXIST for a duplicate; -EMSGSIZE when the
 * payload is too long; -ENOBUFS when the buffer is full (the oldest is
 * dropped to make room, counted as an overflow, and the packet stored).
 */
int media_jb_put(struct media_jb *jb, uint32_t ts, uint16_t seq, bool marker,
		 const uint8_t *payload, size_t len, uint32_t samples,
		 int64_t arrival);

/*
 * Once per tick, before get(): decide inserts and drops. `buffered` is
 * what the caller still holds of earlier packets (timestamp units), so
 * that the delay counts from what is actually heard. Returns the
 * result of get() when it is INSERT (the caller conceals a frame and
 * does not call get() this tick), else MEDIA_JB_WAIT meaning "go on".
 */
enum media_jb_result media_jb_tick(struct media_jb *jb, int64_t now,
				   uint32_t buffered);

/*
 * The next thing to play: a packet starting at (or just before) the
 * playout point, or a frame to conceal. *pkt is valid until the next call.
 */
enum media_jb_result media_jb_get(struct media_jb *jb, int64_t now,
				  const struct media_jb_packet **pkt,
				  uint32_t *skip);

/* Current playout delay D (as of the last tick) and target, in ms. */
double media_jb_delay_ms(const struct media_jb *jb);
double media_jb_target_ms(const struct media_jb *jb);

#endif /* TANDEM_MEDIA_JB_H */
