/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A simulated E1/T1 line end: what a framer does with what arrives on the
 * wire, one 1 ms tick (8 frames of 125 us) at a time, as DAHDI's drivers
 * see it from their interrupt. It derives the alarms of G.775 (LOS, LOF,
 * AIS, RAI) from what the far end sends and from injected faults, sends
 * RAI back while it is in a red or blue alarm (G.704 2.3.2 / 3.1.3.1.1),
 * loops back, and performs controlled slips (G.822).
 *
 * Used by hw/sim and by the DAHDI emulator. One thread (the one that owns
 * the clock) calls line_transmit/line_receive; faults and requests may be
 * set from any thread.
 */
#ifndef TDM_LINE_H
#define TDM_LINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define LINE_TIMESLOTS 32   /* E1 timeslots 0..31; a T1 uses 1..24 */
#define LINE_TICK_FRAMES 8  /* frames, so samples per timeslot, per tick */
#define LINE_ALL_ONES 0xff

/* What a transmitter signals besides its timeslots. */
#define LINE_SIG_RAI 1u /* remote alarm indication: "I do not hear you" */
#define LINE_SIG_AIS 2u /* all ones: nothing to send on (upstream failed) */

struct line_frame {
	uint8_t signals;
	uint8_t ts[LINE_TIMESLOTS][LINE_TICK_FRAMES];
};

/* Faults held until cleared. */
#define LINE_FAULT_LOS (1u << 0) /* the receiver hears nothing */
#define LINE_FAULT_LOF (1u << 1) /* it hears a signal but no framing */
#define LINE_FAULT_AIS (1u << 2) /* it hears all ones */
#define LINE_FAULT_RAI (1u << 3) /* it hears the far end report an alarm */
#define LINE_FAULT_CUT (1u << 4) /* the cable is cut: both ends deaf */

/* One-shot requests, taken by the next tick. */
#define LINE_SHOT_SLIP (1u << 0)  /* one controlled slip */
#define LINE_SHOT_DCHAN (1u << 1) /* a bit error in the next D-channel frame */
#define LINE_SHOT_CRC (1u << 2)	  /* one CRC-4 / CRC-6 error */
#define LINE_SHOT_BPV (1u << 3)	  /* one bipolar violation */

struct line_stats {
	atomic_uint_fast64_t slips, crc_errors, fas_errors, bpv, alarm_count;
};

struct line_end {
	unsigned timeslots; /* 31 or 24 */
	atomic_uint faults;
	atomic_uint shots;
	atomic_bool loopback; /* local loop: our transmit is our receive */
	atomic_uint alarms;   /* TDM_ALARM_* after the last tick */
	bool delayed;	      /* a slip left one frame of delay */
	uint8_t carry[LINE_TIMESLOTS];
	uint8_t last[LINE_TIMESLOTS];
	struct line_stats stats;
};

void line_init(struct line_end *e, unsigned timeslots);
/* Set the signals of what this end sends in this tick. */
void line_transmit(struct line_end *e, struct line_frame *tx);
/*
 * What this end receives in this tick. `remote` is what the far end sent,
 * or NULL when nothing arrives; `own_tx` what this end sent (for the
 * loopback). Fills `rx`, updates the alarms, and returns the one-shot
 * requests it took that the caller must apply (LINE_SHOT_DCHAN).
 */
unsigned line_receive(struct line_end *e, const struct line_frame *own_tx,
		      const struct line_frame *remote, struct line_frame *rx);
/* Parse a fault name (los, lof, ais, rai, cut) or a one-shot (slip,
 * dchan-error, crc, bpv); -EINVAL when unknown. */
int line_fault_parse(const char *name, unsigned *fault, unsigned *shot);
/* Apply a fault by name, or "clear" every held fault. */
int line_inject(struct line_end *e, const char *name);

#endif /* TDM_LINE_H */
