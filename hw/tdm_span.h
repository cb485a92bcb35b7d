/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every span driver shares: the [span N] configuration and its
 * checks, the span and channel objects, channel states derived from
 * alarms, events to watchers, the "tdm" service table and the "span"
 * control commands. A driver (hw/sim, hw/dahdi) brings the data path
 * through struct tdm_driver_ops and one media worker thread.
 *
 * Compiled into each driver module; one driver per node provides the
 * service (the host refuses a second "tdm" provider).
 *
 * Threads: the loop owns the published state (alarms, channel states,
 * blocking, watchers, D-channel users). The media worker owns the data
 * path and holds media_lock while it runs a tick or a channel callback;
 * the loop takes media_lock to attach or detach a bearer user or a
 * ticker. The worker hands work to the loop with tdm_post().
 */
#ifndef TDM_SPAN_H
#define TDM_SPAN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "tandem/plugin.h"
#include "tandem/tdm.h"

#define TDM_MAX_SPANS 128
#define TDM_TIMESLOTS 32 /* index by timeslot number; E1 uses 1..31 */

/* [span N] keys; one struct for every driver, each takes what it needs. */
struct tdm_span_cfg {
	char *type;
	char *framing;
	char *coding;
	char *crc4;
	unsigned long long timing;
	unsigned long long lbo;
	char *bchan;
	char *dchan;
	char *law;
	unsigned long long echocancel;
	/* hw/sim */
	unsigned long long peer;
	char *cable;
	int cable_listen;
	unsigned long long cable_buffer_ms;
	/* hw/dahdi */
	unsigned long long basechan;
};

struct tdm_span;
struct tdm_driver;

struct tdm_bchan {
	struct tdm_span *span;
	unsigned ts;
	/* the user, changed under media_lock */
	tdm_bchan_rx_cb rx_cb;
	void *rx_arg;
	bool open;
	void *drv; /* the driver's channel */
};

/* A received D-channel frame on its way to the loop. */
struct tdm_frame {
	struct tdm_frame *next;
	size_t len;
	uint8_t data[];
};

struct tdm_dchan {
	struct tdm_span *span;
	bool open;
	tdm_dchan_rx_cb rx_cb;
	void *rx_arg;
	int fd;		     /* the user's end of the socketpair, or -1 */
	int our_fd;	     /* ours */
	struct tnd_io *io;   /* watches our_fd on the loop */
	/* frames from the worker, under rx_lock */
	pthread_mutex_t rx_lock;
	struct tdm_frame *rx_head, **rx_tail;
	size_t rx_count;
	unsigned rx_errors[TDM_DCHAN_OVERRUN + 1];
};

struct tdm_chan_pub {
	enum tdm_chan_kind kind;
	enum tdm_chan_state state;
	bool blocked;
};

/* Counters the drivers add to from any thread. */
struct tdm_counters {
	atomic_uint_fast64_t hdlc_aborts, bad_fcs, rx_frames, tx_frames,
		tx_underruns, tx_overruns, rx_dropped;
};

struct tdm_span {
	unsigned no;
	char section[32];
	char name[32];
	struct tdm_span_cfg cfg;
	struct tdm_driver *drv;
	/* resolved configuration */
	enum tdm_span_type type;
	enum tdm_law law;
	const char *framing, *coding;
	bool crc4;
	unsigned timeslots;
	uint32_t bmask; /* bit ts: a bearer channel */
	unsigned dchan_ts;
	unsigned nbchans;
	uint8_t idle; /* the law's idle code */
	/* published state (loop) */
	unsigned alarms;
	bool loopback;
	struct tdm_chan_pub chan[TDM_TIMESLOTS];
	/* channels */
	struct tdm_bchan bchan[TDM_TIMESLOTS];
	struct tdm_dchan dchan;
	struct tdm_counters counters;
	void *priv; /* the driver's span */
};

struct tdm_ticker {
	struct tdm_ticker *next;
	tdm_tick_cb cb;
	void *arg;
};

struct tdm_watch {
	struct tdm_watch *next;
	tdm_event_cb cb;
	void *arg;
};

struct tdm_driver_ops {
	/* extra [span N] keys of this driver (TND_PARAM_END ends) */
	const struct tnd_param *span_params;
	/* the driver's own checks of all spans; log with where() */
	int (*check)(struct tdm_driver *drv);
	int (*bchan_write)(struct tdm_bchan *ch, const uint8_t *block);
	int (*dchan_send)(struct tdm_span *span, const uint8_t *frame,
			  size_t len);
	int (*loopback)(struct tdm_span *span, bool on);
	/* refresh alarms and counters before a report (may be NULL) */
	void (*refresh)(struct tdm_span *span);
	/* line counters into stats (slips, crc, fas, bpv, alarm_count) */
	void (*line_stats)(struct tdm_span *span, struct tdm_span_stats *st);
	/* on the loop after tdm_post() */
	void (*on_loop)(struct tdm_driver *drv);
	/* the span currently timing the node (0: free run) */
	unsigned (*clock_span)(struct tdm_driver *drv);
};

struct tdm_driver {
	const char *name; /* "sim", "dahdi" */
	const struct tnd_host_api *host;
	struct tnd_plugin *self;
	const struct tdm_driver_ops *ops;
	struct tdm_span *spans; /* sorted by number */
	size_t nspans;
	struct tnd_param *params; /* common + driver keys */
	/* media worker */
	pthread_mutex_t media_lock;
	pthread_t worker;
	bool worker_running;
	atomic_uint_fast64_t samples;
	unsigned tick_samples; /* toward the next ticker call */
	struct tdm_ticker *tickers;
	/* loop */
	atomic_bool posted;
	atomic_bool alive;
	struct tdm_watch *watches;
	unsigned clock_span;
	bool running;
};

/* ---- tdm_span.c ---------------------------------------------------------- */

/* Read and check every [span N]; logs each mistake with file:line.
 * Returns 0 or -EINVAL. No I/O. */
int tdm_spans_load(struct tdm_driver *drv);
int tdm_register(struct tdm_driver *drv);
void tdm_spans_free(struct tdm_driver *drv);
struct tdm_span *tdm_span_find(struct tdm_driver *drv, unsigned no);

/* Worker side. */
void tdm_media_lock(struct tdm_driver *drv);
void tdm_media_unlock(struct tdm_driver *drv);
/* Hand a bearer block to its user; the caller holds media_lock. */
void tdm_bchan_deliver(struct tdm_bchan *ch, const uint8_t *block);
/* Advance the clock; runs tickers every block. Holds media_lock. */
void tdm_clock_advance(struct tdm_driver *drv, unsigned samples);
/* Queue a received frame (FCS removed) or an error for the loop. */
void tdm_dchan_rx(struct tdm_span *span, const uint8_t *frame, size_t len);
void tdm_dchan_error(struct tdm_span *span, enum tdm_dchan_error err);
/* Ask for ops->on_loop on the loop thread (any thread). */
void tdm_post(struct tdm_driver *drv);

/* Loop side. */
void tdm_span_set_alarms(struct tdm_span *span, unsigned alarms);
void tdm_clock_update(struct tdm_driver *drv);
void tdm_stop(struct tdm_driver *drv);

/* The "span" control commands (each driver lists them in its table). */
int tdm_cmd_show(struct tnd_reply *r, int argc, char **argv);
int tdm_cmd_loopback(struct tnd_reply *r, int argc, char **argv);
int tdm_cmd_block(struct tnd_reply *r, int argc, char **argv);
int tdm_cmd_unblock(struct tnd_reply *r, int argc, char **argv);
/* Parse "N" into a configured span, or reply an error (NULL). */
struct tdm_span *tdm_cmd_span(struct tnd_reply *r, const char *text);

#define TDM_COMMANDS                                                          \
	{ "span show", "[N]", "spans; with N one span's alarms, counters, "  \
	  "clock and channel states", tdm_cmd_show },                         \
	{ "span loopback", "N on|off",                                        \
	  "loop span N locally (its channels go to maintenance)",             \
	  tdm_cmd_loopback },                                                 \
	{ "span block", "N CHAN", "block a channel (no new calls)",          \
	  tdm_cmd_block },                                                    \
	{ "span unblock", "N CHAN", "unblock a channel", tdm_cmd_unblock }

const char *tdm_alarm_text(unsigned alarms, char *buf, size_t size);
const char *tdm_state_name(enum tdm_chan_state state);
uint8_t tdm_idle_code(enum tdm_law law);

#endif /* TDM_SPAN_H */
