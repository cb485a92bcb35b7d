/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Service "tdm" version 1: E1/T1 spans, their channels, alarms and clock.
 * Provided by a span driver (hw/sim for simulated spans, hw/dahdi for real
 * cards); the MGW, the PRI plugin and the lab reach circuits only through
 * it.
 *
 *   const struct tdm_service *tdm = host->service_get(TDM_SERVICE, 1);
 *
 * Numbering: spans by the N of their "[span N]" section; channels by
 * timeslot inside their span, 1..31 on an E1 (16 is the D-channel of a
 * CCS span), 1..24 on a T1/J1 (24 is the D-channel). Timeslot 0 of an E1
 * carries framing and is never a channel.
 *
 * Threads and ownership:
 * - Every function is called from the loop thread, except bchan_write()
 *   and clock_samples() (any thread) and bchan_close() (also allowed
 *   inside the channel's own rx callback).
 * - Bearer blocks are delivered on the driver's media worker thread, one
 *   call per 160-sample (20 ms) block. The callback must not block: it
 *   does its media work and returns well inside the 20 ms.
 * - D-channel frames, events and tickers: frames and events on the loop
 *   thread; tickers on the media worker.
 * - The table and the spans are owned by the driver and live until its
 *   fini(). Handles (struct tdm_bchan, tdm_dchan, tdm_ticker) are owned by
 *   the driver too; they stay valid until the driver's fini(), and a
 *   closed handle may be opened again.
 * - A user closes what it opened (channels, tickers, watches) at the
 *   latest in its own stop(): the driver stops after its users, so their
 *   callbacks can run until then. After bchan_close() or ticker_close()
 *   returns, the callback is not running and will not run again.
 * - Buffers passed to callbacks are valid only during the call; buffers
 *   passed to the service are copied before the function returns.
 *
 * Errors: 0 or a negative errno. -ENOENT no such span or timeslot,
 * -EINVAL wrong kind of channel or bad length, -EBUSY already open,
 * -ENOBUFS a transmit queue is full (the data is dropped and counted),
 * -ENETDOWN the span is not running.
 *
 * Compatibility: the tables only grow at their end. Check `size` before
 * using a member added after version 1.
 */
#ifndef TANDEM_TDM_H
#define TANDEM_TDM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TDM_SERVICE "tdm"
#define TDM_SERVICE_VERSION 1

/* DAHDI's chunking: a bearer block is 20 ms of 8 kHz samples. */
#define TDM_BLOCK_SAMPLES 160
#define TDM_SAMPLE_RATE 8000
/* Largest D-channel frame, address to information field, without FCS. */
#define TDM_DCHAN_MAX_FRAME 1024
/* The two FCS octets of the file descriptor form (see dchan_fd). */
#define TDM_FCS_LEN 2

enum tdm_span_type {
	TDM_SPAN_E1 = 1, /* 2048 kbit/s, G.704 31 timeslots */
	TDM_SPAN_T1,	 /* 1544 kbit/s, 24 timeslots */
	TDM_SPAN_J1,	 /* T1 as Japan uses it */
};

enum tdm_law {
	TDM_LAW_ALAW = 1, /* G.711 A-law, idle 0xd5 */
	TDM_LAW_ULAW,	  /* G.711 u-law, idle 0xff */
};

/* Span alarms, a bit set (the names of G.775 and DAHDI). */
#define TDM_ALARM_LOS (1u << 0)	     /* loss of signal: red */
#define TDM_ALARM_LOF (1u << 1)	     /* loss of frame alignment: red */
#define TDM_ALARM_AIS (1u << 2)	     /* alarm indication signal: blue */
#define TDM_ALARM_RAI (1u << 3)	     /* remote alarm indication: yellow */
#define TDM_ALARM_LOOPBACK (1u << 4) /* span looped for maintenance */
#define TDM_ALARM_NOTOPEN (1u << 5)  /* span not running */
/* Alarms that take a span's channels out of service. */
#define TDM_ALARM_SERVICE_AFFECTING                                           \
	(TDM_ALARM_LOS | TDM_ALARM_LOF | TDM_ALARM_AIS | TDM_ALARM_RAI |      \
	 TDM_ALARM_NOTOPEN)

enum tdm_chan_kind {
	TDM_CHAN_UNUSED = 0, /* not configured */
	TDM_CHAN_BEARER,     /* bchan: 64 kbit/s of A-law or u-law */
	TDM_CHAN_DCHAN,	     /* dchan: HDLC frames (Q.921) */
};

/*
 * A channel's state, derived by the driver in this order of precedence:
 * blocked (by the operator), maintenance (span looped), out of service
 * (span in a service-affecting alarm), in service.
 */
enum tdm_chan_state {
	TDM_CHAN_IN_SERVICE = 0,
	TDM_CHAN_OUT_OF_SERVICE,
	TDM_CHAN_MAINTENANCE,
	TDM_CHAN_BLOCKED,
};

struct tdm_span_info {
	size_t size;	      /* set by the caller to sizeof(*info) */
	unsigned span;	      /* N of [span N] */
	const char *driver;   /* "sim", "dahdi" */
	const char *name;     /* the driver's name for it */
	enum tdm_span_type type;
	enum tdm_law law;
	const char *framing;  /* "ccs", "cas", "esf", "d4" */
	const char *coding;   /* "hdb3", "ami", "b8zs" */
	int crc4;	      /* E1 CRC-4 multiframe (G.704 2.3.3) */
	unsigned timing;      /* timing priority; 0: never the clock source */
	unsigned lbo;	      /* line build-out, 0..7 */
	unsigned alarms;      /* TDM_ALARM_* now */
	int clock_source;     /* non-zero: this span times the node now */
	unsigned timeslots;   /* 31 (E1) or 24 (T1/J1) */
	unsigned dchan;	      /* timeslot of the D-channel, 0 when none */
	unsigned nbchans;     /* bearer channels configured */
	unsigned echocancel;  /* echo canceller taps, 0 when off */
};

/* Counters since the driver started; they only grow. */
struct tdm_span_stats {
	size_t size;	       /* set by the caller to sizeof(*stats) */
	uint64_t slips;	       /* controlled slips (G.822) */
	uint64_t crc_errors;   /* CRC-4 (E1) or ESF CRC-6 errors */
	uint64_t fas_errors;   /* frame alignment signal errors */
	uint64_t bpv;	       /* bipolar (line code) violations */
	uint64_t hdlc_aborts;  /* D-channel frames aborted (7 ones) */
	uint64_t bad_fcs;      /* D-channel frames with a bad FCS */
	uint64_t rx_frames;    /* D-channel frames received intact */
	uint64_t tx_frames;    /* D-channel frames sent */
	uint64_t alarm_count;  /* times the span went into a red/blue alarm */
	uint64_t tx_underruns; /* bearer blocks the writer did not fill */
	uint64_t tx_overruns;  /* bearer blocks dropped: queue full */
};

enum tdm_event_type {
	TDM_EVENT_ALARM = 1,	   /* a span's alarms changed */
	TDM_EVENT_CHAN_STATE,	   /* a channel's state changed */
	TDM_EVENT_CLOCK,	   /* the node's clock source changed */
	TDM_EVENT_DCHAN_ERROR,	   /* a D-channel frame was lost */
};

enum tdm_dchan_error {
	TDM_DCHAN_BAD_FCS = 1, /* DAHDI_EVENT_BADFCS */
	TDM_DCHAN_ABORT,       /* DAHDI_EVENT_ABORT */
	TDM_DCHAN_OVERRUN,     /* DAHDI_EVENT_OVERRUN: too long or no room */
};

struct tdm_event {
	enum tdm_event_type type;
	unsigned span;
	unsigned ts;		   /* CHAN_STATE */
	unsigned alarms;	   /* ALARM: the alarms now */
	enum tdm_chan_state state; /* CHAN_STATE: the state now */
	unsigned clock_span;	   /* CLOCK: the source now, 0 free run */
	enum tdm_dchan_error error; /* DCHAN_ERROR */
};

struct tdm_bchan;
struct tdm_dchan;
struct tdm_ticker;

/* Events, on the loop thread. */
typedef void (*tdm_event_cb)(const struct tdm_event *ev, void *arg);
/* One block of TDM_BLOCK_SAMPLES received samples, on the media worker. */
typedef void (*tdm_bchan_rx_cb)(struct tdm_bchan *ch, const uint8_t *block,
				void *arg);
/* One intact frame (FCS checked and removed), on the loop thread. */
typedef void (*tdm_dchan_rx_cb)(struct tdm_dchan *ch, const uint8_t *frame,
				size_t len, void *arg);
/* Every 20 ms of the span clock, on the media worker. */
typedef void (*tdm_tick_cb)(uint64_t samples, void *arg);

struct tdm_service {
	size_t size; /* sizeof(struct tdm_service) of the driver */

	/* ---- Spans and channels (loop thread) ---- */

	/* The lowest span number greater than `after`, or 0 when none:
	 *   for (s = tdm->span_next(0); s; s = tdm->span_next(s)) */
	unsigned (*span_next)(unsigned after);
	int (*span_info)(unsigned span, struct tdm_span_info *info);
	int (*span_stats)(unsigned span, struct tdm_span_stats *stats);
	/* Kind and state of one timeslot (either pointer may be NULL). */
	int (*chan_info)(unsigned span, unsigned ts, enum tdm_chan_kind *kind,
			 enum tdm_chan_state *state);

	/*
	 * Alarm, channel state, clock and D-channel error events, for
	 * every span. Several watchers may register; the same cb/arg pair
	 * once. unwatch() removes it.
	 */
	int (*watch)(tdm_event_cb cb, void *arg);
	void (*unwatch)(tdm_event_cb cb, void *arg);

	/* ---- Bearer channels ---- */

	/*
	 * Attach to a bearer channel: `cb` receives every block from now on,
	 * whatever the channel's state (during an alarm it carries what the
	 * line carries, usually idle). One user per channel (-EBUSY).
	 */
	int (*bchan_open)(unsigned span, unsigned ts, tdm_bchan_rx_cb cb,
			  void *arg, struct tdm_bchan **out);
	/*
	 * Queue one block of exactly TDM_BLOCK_SAMPLES samples for sending
	 * (any thread). Write one block per received block, normally from
	 * the rx callback: the driver sends idle when the queue runs dry
	 * and drops blocks beyond a few (-ENOBUFS).
	 */
	int (*bchan_write)(struct tdm_bchan *ch, const uint8_t *block,
			   size_t len);
	void (*bchan_close)(struct tdm_bchan *ch);

	/* ---- The D-channel ---- */

	/*
	 * Attach to a span's D-channel. Received frames go to `cb` (loop
	 * thread) until dchan_fd() is called.
	 */
	int (*dchan_open)(unsigned span, tdm_dchan_rx_cb cb, void *arg,
			  struct tdm_dchan **out);
	/* Send one frame, without FCS (the driver adds it). */
	int (*dchan_send)(struct tdm_dchan *ch, const uint8_t *frame,
			  size_t len);
	/*
	 * Switch the channel to a file descriptor that behaves like a DAHDI
	 * channel in HDLC-FCS mode, so libpri can drive it with pri_new()
	 * or with read/write callbacks for pri_new_cb(): every read returns
	 * one frame followed by its TDM_FCS_LEN FCS octets; every write is
	 * one frame followed by TDM_FCS_LEN octets of room, which the driver
	 * fills. It is non-blocking; frames that find the reader too slow
	 * are dropped and counted. The driver owns the descriptor and closes
	 * it in dchan_close(). Returns the descriptor or a negative errno.
	 */
	int (*dchan_fd)(struct tdm_dchan *ch);
	void (*dchan_close)(struct tdm_dchan *ch);

	/* ---- Clock ---- */

	/* Samples (1/8000 s) of the span clock since the driver started. */
	uint64_t (*clock_samples)(void);
	/* A callback every TDM_BLOCK_SAMPLES of the span clock, on the media
	 * worker: media without a circuit (RTP only) can run on it. */
	int (*ticker_open)(tdm_tick_cb cb, void *arg, struct tdm_ticker **out);
	void (*ticker_close)(struct tdm_ticker *t);

	/* ---- Maintenance (the control commands use these too) ---- */

	/* Block (non-zero) or unblock one channel. */
	int (*chan_block)(unsigned span, unsigned ts, int blocked);
	/* Loop the span locally (its transmit returns to its receive). */
	int (*span_loopback)(unsigned span, int on);
};

#ifdef __cplusplus
}
#endif

#endif /* TANDEM_TDM_H */
