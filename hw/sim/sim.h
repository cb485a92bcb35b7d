/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hw/sim: simulated spans, private to the plugin's files. Spans are wired
 * back to back inside the node (peer = N) or to another node through a
 * cable over a unix socket; one clock thread drives them all in 1 ms ticks
 * of 8 frames, paced by CLOCK_MONOTONIC with absolute deadlines.
 */
#ifndef SIM_H
#define SIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../tdm_hdlc.h"
#include "../tdm_line.h"
#include "../tdm_span.h"

#define SIM_TXQ_BLOCKS 8 /* 160 ms of transmit queue per bearer channel */
#define SIM_DCHAN_TXQ 64 /* frames waiting for the D-channel */
#define SIM_CABLE_RING 256
/* A cable that delivers nothing for this long is a loss of signal: far
 * longer than a framer takes (G.775: 10 to 255 bit times), to ride out
 * the scheduling stalls of a loaded host between two processes. */
#define SIM_CABLE_LOS_MS 250

struct sim_cfg {
	unsigned long long max_lag_ms;
	unsigned long long cable_retry_ms;
};

struct sim_bchan {
	pthread_mutex_t lock; /* the transmit queue: writers vs the clock */
	uint8_t txq[SIM_TXQ_BLOCKS * TDM_BLOCK_SAMPLES];
	size_t tx_head, tx_count;
	bool tx_flowing;
	uint8_t rx[TDM_BLOCK_SAMPLES]; /* clock thread only */
	size_t rx_fill;
};

struct sim_frame {
	struct sim_frame *next;
	size_t len;
	uint8_t data[];
};

/* What one tick carries over a cable (both ways). */
struct sim_cable_msg {
	uint32_t magic;
	uint8_t kind;	   /* SIM_MSG_HELLO or SIM_MSG_FRAME */
	uint8_t signals;   /* LINE_SIG_* (frame) or span type (hello) */
	uint16_t timeslots;
	uint32_t seq;
	uint8_t ts[LINE_TIMESLOTS][LINE_TICK_FRAMES];
};

#define SIM_MSG_MAGIC 0x54444d43u /* "TDMC" */
#define SIM_MSG_HELLO 1
#define SIM_MSG_FRAME 2

struct sim_cable {
	struct sim_span *ss;
	char path[108];
	bool listen;
	unsigned target; /* frames buffered before playing out */
	/* loop */
	int listen_fd;
	struct tnd_io *listen_io;
	struct tnd_timer *retry;
	/* shared: the connected socket */
	pthread_mutex_t lock;
	int fd;
	atomic_bool dropped; /* the clock thread closed it */
	bool hello_seen;
	bool refused; /* a hello that does not match: said once */
	/* clock thread: the elastic buffer */
	struct sim_cable_msg ring[SIM_CABLE_RING];
	unsigned head, count;
	bool primed;
	unsigned starved_ms;
	uint32_t tx_seq;
	atomic_uint_fast64_t late_ticks, overflows, connects;
};

struct sim_span {
	struct tdm_span *span;
	struct sim_span *peer; /* wired back to back in this node */
	struct sim_cable *cable;
	struct line_end line;
	struct line_frame tx, rx;
	struct hdlc_tx htx;
	struct hdlc_rx hrx;
	pthread_mutex_t dchan_lock; /* the D-channel transmit queue */
	struct sim_frame *dq_head, **dq_tail;
	size_t dq_count;
	unsigned seen_alarms; /* clock thread: last alarms posted */
	struct sim_bchan b[TDM_TIMESLOTS];
};

struct sim {
	struct tdm_driver drv;
	struct sim_cfg *cfg;
	struct sim_span *spans; /* parallel to drv.spans */
	pthread_t thread;
	atomic_bool stop;
	atomic_bool go;
	atomic_uint_fast64_t ticks, late_ms, skipped_ms;
};

extern struct sim sim;

/* sim_clock.c */
int sim_clock_start(struct sim *s);
void sim_clock_stop(struct sim *s);
int sim_bchan_write(struct tdm_bchan *ch, const uint8_t *block);
int sim_dchan_send(struct tdm_span *span, const uint8_t *frame, size_t len);

/* sim_cable.c */
int sim_cable_check(struct sim *s, struct sim_span *ss);
int sim_cable_start(struct sim *s, struct sim_span *ss);
void sim_cable_stop(struct sim *s, struct sim_span *ss);
/* Clock thread: send this tick's frame, read what arrived. */
void sim_cable_exchange(struct sim_span *ss);
/* Clock thread: how many received frames to play out this tick (0: late
 * or LOS, see *los), and take them one by one. */
unsigned sim_cable_due(struct sim_span *ss, bool *los);
const struct line_frame *sim_cable_take(struct sim_span *ss,
					struct line_frame *out);

#endif /* SIM_H */
