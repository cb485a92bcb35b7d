/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pri: internal header shared by the files of the pri plugin (its call
 * logic library, libpricall.la, is also linked by the tests).
 *
 * One span = one D-channel = one libpri controller, driven from the node
 * loop: frames come in from a D-channel transport (struct pri_dchan) and go
 * out through it; libpri's scheduler runs on one host timer per span. Calls
 * are explicit state machines (pri_fsm.c) whose transitions are logged.
 */
#ifndef PRI_INT_H
#define PRI_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libpri.h>

#include "tandem/plugin.h"
#include "tandem/pri.h"

#define PRI_MAX_BCHAN 31 /* E1: timeslots 1..31 */
#define PRI_FRAME_MAX 1024

extern const struct tnd_host_api *pri_host;
extern struct tnd_plugin *pri_self;

#define TND_LOG_HOST pri_host
#define TND_LOG_CATEGORY "pri"

/* ---- D-channel transport --------------------------------------------- */

struct pri_span;

/*
 * How a span's D-channel frames travel. A frame is a Q.921 frame followed
 * by two FCS octets (libpri's convention; a real HDLC driver computes
 * them). The transport calls pri_span_frame_in() for each frame received.
 */
struct pri_dchan {
	const char *kind; /* "fd", "unix", "listen", "tdm" */
	int (*send)(struct pri_dchan *dc, const uint8_t *frame, size_t len);
	void (*close)(struct pri_dchan *dc);
	struct pri_span *span;
};

/* A SOCK_SEQPACKET (or any frame-preserving) fd, one frame per packet; the
 * transport takes ownership of fd. */
struct pri_dchan *pri_dchan_fd(int fd);
/* "unix:PATH" connects, "listen:PATH" listens and takes one peer. */
struct pri_dchan *pri_dchan_open(const char *spec);
/* The span's D-channel on the tdm service (pri_tdm.c); NULL when no span
 * driver provides it. */
struct pri_dchan *pri_dchan_tdm(unsigned span);

/* ---- Spans ----------------------------------------------------------- */

enum pri_side { PRI_SIDE_NETWORK, PRI_SIDE_USER };

struct pri_span_cfg {
	char *switchtype;
	char *side;
	char *bchans;
	char *dchan;
	int overlap;
	unsigned long long noanswer_ms;
	int debug;
	int service_messages;
	int restart_on_up; /* from [pri] */
};

struct pri_bchan {
	enum tnd_pri_bchan_state state;
	struct pri_call *call;
};

struct pri_span {
	int number;
	int switchtype; /* PRI_SWITCH_* */
	const char *switch_name;
	enum pri_side side;
	int overlap;
	int debug;
	int restart_on_up;
	uint64_t noanswer_ms;
	uint32_t bchan_mask; /* bit n: timeslot n is a configured B-channel */
	struct pri_bchan bchan[PRI_MAX_BCHAN + 1];
	struct pri *ctrl;
	struct pri_dchan *dchan;
	struct tnd_timer *sched_timer;
	int up;
	int alarm;
	struct pri_call *calls;
	/* the frame pri_span_frame_in() hands to libpri's read callback */
	const uint8_t *rx_frame;
	size_t rx_len;
	struct pri_span *next;
};

int pri_switch_parse(const char *name, int *switchtype);
const char *pri_switch_name(int switchtype);
/* "1-15,17-31" -> mask; -EINVAL on a bad list or a channel > 31. */
int pri_bchans_parse(const char *text, uint32_t *mask);
const char *pri_bchans_default(int switchtype);

/* Create a span and its libpri controller over `dchan` (owned from now). */
int pri_span_new(int number, const struct pri_span_cfg *cfg,
		 struct pri_dchan *dchan, struct pri_span **out);
void pri_span_free(struct pri_span *span);
void pri_spans_free_all(void);
struct pri_span *pri_span_find(int number);
struct pri_span *pri_span_first(void);
int pri_span_count(void);
void pri_span_frame_in(struct pri_span *span, const uint8_t *frame, size_t len);
void pri_span_set_debug(struct pri_span *span, int on);
/* Route libpri's process-wide message and error output to our log. */
void pri_span_hooks(void);
/* One libpri event of a span (pri_event.c). */
void pri_event_handle(struct pri_span *span, pri_event *ev);
/* Layer 1 alarm from the span driver: clears every call (cause 38). */
void pri_span_alarm(struct pri_span *span, int on);
/* Send RESTART for one B-channel (0: every configured one). */
int pri_span_restart(struct pri_span *span, int bchan);
/* Re-arm the span's scheduler timer after anything touched libpri. */
void pri_span_sched(struct pri_span *span);
int pri_span_free_bchans(const struct pri_span *span);
/* Pick a B-channel: `want` if free (or any free one unless exclusive). */
int pri_span_pick_bchan(struct pri_span *span, int want, int exclusive);
void pri_bchan_set(struct pri_span *span, int bchan,
		   enum tnd_pri_bchan_state state, struct pri_call *call);
const char *pri_bchan_state_name(enum tnd_pri_bchan_state state);

/* ---- Calls and their state machine ------------------------------------- */

enum pri_call_state {
	PRI_CS_NULL = 0,
	PRI_CS_OUT_SETUP,
	PRI_CS_OUT_OVERLAP,
	PRI_CS_OUT_PROCEEDING,
	PRI_CS_OUT_ALERTING,
	PRI_CS_IN_SETUP,
	PRI_CS_IN_OVERLAP,
	PRI_CS_IN_PROCEEDING,
	PRI_CS_IN_ALERTING,
	PRI_CS_ACTIVE,
	PRI_CS_RELEASING,
	PRI_CS_RELEASED,
	PRI_CS_COUNT
};

enum pri_call_event {
	PRI_CE_PLACE = 0,     /* app: call() */
	PRI_CE_SETUP_IND,     /* SETUP received */
	PRI_CE_SETUP_ACK_REQ, /* send SETUP ACKNOWLEDGE */
	PRI_CE_SETUP_ACK_IND,
	PRI_CE_INFO_REQ,
	PRI_CE_INFO_IND,
	PRI_CE_PROCEED_REQ,
	PRI_CE_PROCEED_IND,
	PRI_CE_ALERT_REQ,
	PRI_CE_ALERT_IND,
	PRI_CE_PROGRESS_REQ,
	PRI_CE_PROGRESS_IND,
	PRI_CE_ANSWER_REQ,
	PRI_CE_CONNECT_IND,
	PRI_CE_NOTIFY_IND,
	PRI_CE_DISCONNECT_IND, /* DISCONNECT received */
	PRI_CE_RELEASE_IND,    /* RELEASE / RELEASE COMPLETE received */
	PRI_CE_HANGUP_REQ,     /* app: release() */
	PRI_CE_HANGUP_DONE,    /* libpri finished our clearing */
	PRI_CE_RESTART_IND,    /* the far end restarted the B-channel */
	PRI_CE_SPAN_DOWN,      /* alarm or D-channel lost */
	PRI_CE_NOANSWER,       /* no-answer timer */
	PRI_CE_COUNT
};

struct pri_call {
	uint32_t id;
	struct pri_span *span;
	q931_call *q931;
	enum pri_call_state state;
	int outgoing;
	int bchan;
	int cause;
	struct tnd_pri_setup setup;
	/* overlap sending: called digits already sent, and whether some
	 * wait for SETUP ACK */
	size_t sent_digits;
	int pending_digits;
	struct tnd_timer *noanswer_timer;
	struct pri_call *next;
};

/* The data an event carries into the FSM. */
struct pri_call_input {
	int cause;
	int inband;
	int bchan;
	int complete;
	int notify;
	const char *digits;
};

const char *pri_call_state_name(enum pri_call_state state);
const char *pri_call_event_name(enum pri_call_event event);
/*
 * Feed one event to a call's state machine. Returns 0, -EPERM when the
 * state does not accept the event (logged), or the action's error. The
 * call may be freed when this returns (after RELEASED): callers must not
 * touch it again.
 */
int pri_call_fsm(struct pri_call *call, enum pri_call_event event,
		 const struct pri_call_input *in);
/* The state table, for the tests: may `from` go to `to`? */
int pri_call_may_go(enum pri_call_state from, enum pri_call_state to);

struct pri_call *pri_call_new(struct pri_span *span, int outgoing);
struct pri_call *pri_call_find(uint32_t id);
struct pri_call *pri_call_by_q931(struct pri_span *span, const q931_call *q931);
void pri_call_destroy(struct pri_call *call);

/* ---- Events to the subscriber, counters -------------------------------- */

void pri_emit(const struct tnd_pri_event *ev);
void pri_emit_call(struct pri_call *call, enum tnd_pri_event_type type,
		   const struct pri_call_input *in);
void pri_emit_span(struct pri_span *span, enum tnd_pri_event_type type,
		   int bchan);
int pri_has_subscriber(void);

enum pri_counter {
	PRI_CNT_CALLS_IN,
	PRI_CNT_CALLS_OUT,
	PRI_CNT_ANSWERED,
	PRI_CNT_REJECTED_NOCHAN,
	PRI_CNT_FRAMES_RX,
	PRI_CNT_FRAMES_TX,
	PRI_CNT_RESTARTS_RX,
	PRI_CNT_DCHAN_DOWN,
	PRI_CNT_COUNT
};
void pri_count(enum pri_counter which);

/*
 * Set up the call logic: host API, self, counters, libpri's log hooks.
 * pri_core_fini() frees every span and call.
 */
int pri_core_init(const struct tnd_host_api *host, struct tnd_plugin *self);
void pri_core_fini(void);

extern const struct tnd_pri_service pri_service;

#endif /* PRI_INT_H */
