/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pbxsim: the lab's simulated legacy PBX, shared declarations.
 *
 * One process, one thread: a poll loop with a 1 ms timer (the span clock
 * of the cable), the spans' sockets and standard input. A span is either a
 * hw/sim span cable (D-channel and bearer audio, pbxsim_cable.c) or a bare
 * D-channel socket (signalling only, as the pri plugin's unix:/listen:
 * transports speak it).
 */
#ifndef PBXSIM_H
#define PBXSIM_H

#include <libpri.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../hw/tdm_hdlc.h"

#define PBX_MAX_SPANS 32
#define PBX_MAX_EXT 64
#define PBX_BLOCK 160	   /* samples per bearer block: 20 ms */
#define PBX_TIMESLOTS 32   /* E1 timeslots 0..31 (a T1 uses 1..24) */
#define PBX_TICK_FRAMES 8  /* frames per 1 ms tick of the cable */
#define PBX_ECHO_BLOCKS 8  /* echo queue: 160 ms */
#define PBX_FRAMEQ 64	   /* D-channel frames queued each way */

enum pbx_action {
	ACT_ANSWER = 0, /* answer and stay silent */
	ACT_TONE,	/* answer and play tone_hz */
	ACT_ECHO,	/* answer and send back what arrives */
	ACT_RING,	/* alert for ever */
	ACT_BUSY,	/* clear with cause 17 */
	ACT_REJECT,	/* clear with `cause` (or the number's last digits) */
	ACT_FAX,	/* answer (or, calling, once answered) send T.30 CNG */
};

struct pbx_ext {
	char number[33];
	bool prefix;	 /* match every number starting with `number` */
	enum pbx_action action;
	int tone_hz;
	int answer_ms;	 /* alert this long before answering */
	bool inband;	 /* alert with in-band ringback (progress 8) */
	bool progress;	 /* send PROGRESS (in band) before alerting */
	bool early_tone; /* in band before the answer: tone_hz, not ringback */
	int hangup_ms;	 /* clear this long after the answer; 0: never */
	int cause;	 /* busy / reject; 0: the number's last 3 digits */
};

/*
 * Tone detector: over a window of 25 blocks (0.5 s), the zero crossings
 * give the frequency, and a Goertzel filter at the previous window's
 * frequency, run block by block, how much of the energy is that tone.
 */
struct pbx_detect {
	int last_sign;
	unsigned crossings;
	unsigned intervals;  /* sample pairs the crossings were counted on */
	double energy;
	unsigned samples;
	double est_hz;	     /* the previous window's estimate */
	double coeff, s1, s2; /* Goertzel at est_hz, this block */
	double tone;	     /* its power, summed over the window */
	int reported_hz;     /* 0: nothing reported since silence */
	unsigned silent_blocks; /* in a row, left out of the window */
};

/* DTMF detector: Goertzel filters at the eight Q.23 frequencies on each
 * block; a digit counts once it holds for two blocks (40 ms). */
struct pbx_dtmf_det {
	char current;	/* the digit of the last block, 0 none */
	unsigned held;	/* blocks it has held */
	unsigned gap;	/* blocks without it since it was last heard */
	bool reported;
};

struct pbx_call;

/* One bearer channel of a cable span. */
struct pbx_chan {
	struct pbx_call *call;
	uint8_t rx[PBX_BLOCK];
	size_t rx_fill;
	uint8_t tx[PBX_BLOCK];
	size_t tx_pos; /* PBX_BLOCK: the next block is due */
	uint8_t echo[PBX_ECHO_BLOCKS][PBX_BLOCK];
	unsigned echo_head, echo_count;
	struct pbx_detect det;
	struct pbx_dtmf_det dtmf;
	char dtmf_out[33];	/* digits still to play (Q.23, in band) */
	unsigned dtmf_blocks;	/* blocks of the current one played */
	uint64_t dtmf_phase;
	uint64_t blocks_rx, blocks_tx;
};

struct pbx_frame {
	size_t len;
	uint8_t data[HDLC_MAX_FRAME + HDLC_FCS_LEN];
};

struct pbx_span {
	int no;
	bool cable;	  /* a span cable; else a bare D-channel socket */
	char path[108];
	bool listen;
	int switchtype;
	int side;
	bool t1;	  /* T1: 24 timeslots, D-channel 24, u-law */
	bool ulaw;
	unsigned timeslots, dchan_ts;
	struct pri *pri;
	int fd, lfd;
	bool up;
	bool mute;	  /* "alarm on": send nothing (the far end sees LOS) */
	bool hello_seen;
	bool far_rai;	  /* the far end reports it does not hear us */
	uint32_t tx_seq;
	uint64_t last_rx_ms;
	uint64_t rx_msgs, tx_msgs;
	struct hdlc_tx htx;
	struct hdlc_rx hrx;
	struct pbx_frame txq[PBX_FRAMEQ], rxq[PBX_FRAMEQ];
	unsigned tx_head, tx_count, rx_head, rx_count;
	struct pbx_chan chan[PBX_TIMESLOTS];
};

struct pbx_call {
	int id;
	struct pbx_span *span;
	q931_call *q;
	int chan;	/* B-channel = timeslot; 0 while unknown */
	bool out;	/* we placed it */
	bool up;	/* answered */
	bool ringback;	/* playing in-band ringback */
	const struct pbx_ext *ext; /* what the call does with its audio */
	char called[33], calling[33];
	uint64_t answer_at, hangup_at; /* ms, 0: none */
	uint64_t phase;
	uint64_t started_ms;
	struct pbx_call *next;
};

struct pbx_conf {
	struct pbx_span spans[PBX_MAX_SPANS];
	int nspans;
	struct pbx_ext ext[PBX_MAX_EXT];
	int next;
};

extern struct pbx_conf pbx;
extern int pbx_verbose;
extern int pbx_hold_ms; /* clear answered calls after this; -1: never */

/* pbxsim.c */
void pbx_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t pbx_now_ms(void);

/* pbxsim_conf.c */
int pbx_conf_load(const char *path);
const struct pbx_ext *pbx_ext_find(const char *number);

/* pbxsim_audio.c: G.711 and the bearer's sounds */
uint8_t pbx_alaw_encode(int16_t pcm);
int16_t pbx_alaw_decode(uint8_t a);
uint8_t pbx_ulaw_encode(int16_t pcm);
int16_t pbx_ulaw_decode(uint8_t u);
/* One block of a sine at hz, -10 dBm0; `sample` keeps the phase. */
void pbx_tone_block(int hz, uint64_t *sample, bool ulaw, uint8_t *out);
/* Ringback with its cadence (425 Hz, 1 s on, 4 s off: ETSI TR 101 041). */
void pbx_ringback_block(uint64_t *sample, bool ulaw, uint8_t *out);
void pbx_detect_reset(struct pbx_detect *d);
/* Feed a block; returns the frequency of a steady tone found at the end
 * of a window (and its level in *dbm0), 0 otherwise, -1 silence. */
int pbx_detect_block(struct pbx_detect *d, const uint8_t *block, bool ulaw,
		     double *dbm0);
/* DTMF (ITU-T Q.23/Q.24): one block of a digit (-10 dBm0 per tone), and
 * the detector; it returns a digit when one starts, else 0. */
void pbx_dtmf_block(char digit, uint64_t *sample, bool ulaw, uint8_t *out);
char pbx_dtmf_detect(struct pbx_dtmf_det *d, const uint8_t *block,
		     bool ulaw);
int pbx_selftest(void);

/* pbxsim_cable.c: the span's link */
int pbx_span_open(struct pbx_span *s);
void pbx_span_close(struct pbx_span *s);
/* The span's descriptor to poll (the listening one while unconnected). */
int pbx_span_pollfd(const struct pbx_span *s);
/* Readable: accept, or read what arrived and feed libpri. */
void pbx_span_input(struct pbx_span *s);
/* The 1 ms tick: send this tick's frames. */
void pbx_span_tick(struct pbx_span *s);
/* Run libpri's timers that are due. */
void pbx_span_schedule(struct pbx_span *s);
/* Milliseconds until libpri's next timer, capped at `max`. */
int pbx_span_next_ms(struct pbx_span *s, int max);

/* pbxsim_call.c: calls and extensions */
void pbx_event(struct pbx_span *s, pri_event *ev);
void pbx_block_rx(struct pbx_span *s, unsigned ts, const uint8_t *block);
void pbx_block_tx(struct pbx_span *s, unsigned ts, uint8_t *block);
void pbx_calls_timers(uint64_t now);
int pbx_dial(const char *called, const char *calling, int span_no, int chan,
	     bool overlap, bool restricted);
/* An incoming SETUP frame is about to reach libpri. */
void pbx_glare_setup_seen(struct pbx_span *s);
void pbx_command(char *line);
void pbx_span_lost(struct pbx_span *s);

#endif /* PBXSIM_H */
