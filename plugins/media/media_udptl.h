/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * media_udptl: UDPTL, the transport of T.38 IFP packets over UDP (ITU-T
 * T.38 clause 9.1), in its ASN.1 aligned PER form:
 *
 *   seq-number (2 octets) | primary IFP (length, octets) |
 *   error-recovery: 0x00 = secondary IFPs (count, then length + octets
 *   each, newest first) or 0x80 = FEC (parsed, not used)
 *
 * We send each IFP with the `redundancy` IFPs before it as secondaries;
 * on receipt, a gap in the sequence is filled from the secondaries of
 * the packet after it, and the IFPs are handed over in order.
 *
 * Host-independent and allocation-free: the struct belongs to the caller,
 * one per stream and thread.
 */
#ifndef TANDEM_MEDIA_UDPTL_H
#define TANDEM_MEDIA_UDPTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_UDPTL_MAX_IFP	300	/* octets of one IFP we handle */
#define MEDIA_UDPTL_MAX_REDUNDANCY 4
#define MEDIA_UDPTL_MAX_PACKET	\
	(2 + 3 * (MEDIA_UDPTL_MAX_REDUNDANCY + 1) + 2 + \
	 MEDIA_UDPTL_MAX_IFP * (MEDIA_UDPTL_MAX_REDUNDANCY + 1))

struct media_udptl_stats {
	uint64_t sent, received;
	uint64_t recovered;	/* lost IFPs rebuilt from secondaries */
	uint64_t lost;		/* lost beyond what redundancy carried */
	uint64_t old;		/* duplicates and packets behind */
	uint64_t malformed;
};

struct media_udptl {
	unsigned redundancy;
	uint16_t tx_seq;
	struct {
		uint16_t len;
		uint8_t data[MEDIA_UDPTL_MAX_IFP];
	} tx_hist[MEDIA_UDPTL_MAX_REDUNDANCY + 1];
	bool rx_started;
	uint16_t rx_next;	/* the sequence number we want next */
	struct media_udptl_stats stats;
};

/* One IFP received, in order; `seq` its sequence number. */
typedef void (*media_udptl_ifp_fn)(void *user, const uint8_t *ifp,
				   size_t len, uint16_t seq);

/* redundancy: 0..MEDIA_UDPTL_MAX_REDUNDANCY. Returns 0 or -EINVAL. */
int media_udptl_init(struct media_udptl *u, unsigned redundancy);

/* Make the packet carrying `ifp`. Returns its length, -EMSGSIZE (IFP too
 * long) or -ENOSPC. */
int media_udptl_encode(struct media_udptl *u, const uint8_t *ifp,
		       size_t len, uint8_t *out, size_t size);

/*
 * Take a received packet: the IFPs recovered for a gap, then its primary,
 * go to `fn` in sequence order. Returns 0, or -EINVAL (malformed: counted,
 * nothing delivered).
 */
int media_udptl_decode(struct media_udptl *u, const uint8_t *pkt,
		       size_t len, media_udptl_ifp_fn fn, void *user);

#endif /* TANDEM_MEDIA_UDPTL_H */
