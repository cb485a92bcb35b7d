/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HDLC on a 64 kbit/s timeslot, bit by bit as a framer chip does it: flags
 * (0x7e) between frames, zero-bit insertion after five ones, a 16-bit FCS,
 * aborts (seven ones). ISO/IEC 13239 and ITU-T Q.921 2.2, 2.6-2.9.
 *
 * Octets go onto the line least significant bit first (Q.921 2.8); the
 * first bit sent of a timeslot octet is its most significant bit (G.704).
 * Used by the simulated spans and by the DAHDI emulator; no allocation,
 * no threads, no global state.
 */
#ifndef TDM_HDLC_H
#define TDM_HDLC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A frame without FCS is at most this long (DAHDI's D-channel buffer). */
#define HDLC_MAX_FRAME 1024
#define HDLC_FCS_LEN 2
/* FCS computed over a frame and its own FCS (ISO/IEC 13239 4.2.5.2). */
#define HDLC_GOOD_FCS 0xf0b8

uint16_t hdlc_fcs_update(uint16_t fcs, const uint8_t *p, size_t n);
/* The two FCS octets for a frame, in the order they are sent. */
void hdlc_fcs_append(const uint8_t *frame, size_t len, uint8_t fcs[2]);
/* True when the last two octets of `p` are the right FCS of the rest. */
bool hdlc_fcs_good(const uint8_t *p, size_t len_with_fcs);

struct hdlc_tx {
	uint8_t frame[HDLC_MAX_FRAME + HDLC_FCS_LEN];
	size_t len;	/* octets of the loaded frame, FCS included */
	size_t bitpos;	/* next bit of the frame to send */
	unsigned ones;	/* consecutive ones sent, for zero insertion */
	bool busy;	/* a frame is loaded */
	bool closing;	/* its closing flag is due */
	uint32_t queue; /* line bits waiting, oldest highest */
	unsigned queued;
};

void hdlc_tx_init(struct hdlc_tx *tx);
/* True when a new frame may be loaded. */
bool hdlc_tx_ready(const struct hdlc_tx *tx);
/* Load one frame (FCS added here); -EBUSY or -EMSGSIZE. */
int hdlc_tx_load(struct hdlc_tx *tx, const uint8_t *frame, size_t len);
/* The next octet for the timeslot: frame bits or idle flags. */
uint8_t hdlc_tx_octet(struct hdlc_tx *tx);

enum hdlc_rx_event {
	HDLC_RX_FRAME = 1, /* an intact frame; the FCS octets included */
	HDLC_RX_BAD_FCS,
	HDLC_RX_ABORT,
	HDLC_RX_OVERRUN, /* longer than HDLC_MAX_FRAME + FCS */
};

typedef void (*hdlc_rx_cb)(enum hdlc_rx_event ev, const uint8_t *frame,
			   size_t len, void *arg);

struct hdlc_rx {
	uint8_t buf[HDLC_MAX_FRAME + HDLC_FCS_LEN + 1];
	size_t bits;	/* data bits collected since the opening flag */
	unsigned ones;	/* consecutive ones received */
	bool hunting;	/* no opening flag seen since start or abort */
	bool corrupt;	/* clear the next one bit inside a frame */
};

void hdlc_rx_init(struct hdlc_rx *rx);
/* Feed one timeslot octet; `cb` runs for each frame or error found. */
void hdlc_rx_octet(struct hdlc_rx *rx, uint8_t octet, hdlc_rx_cb cb,
		   void *arg);
/*
 * Fault injection: turn the next one bit received inside a frame into a
 * zero. A one turned to zero can make neither a flag nor an abort, so
 * the frame is lost to its FCS (or to a length that is not whole
 * octets), as a bit error on the line would do.
 */
void hdlc_rx_corrupt_next(struct hdlc_rx *rx);

#endif /* TDM_HDLC_H */
