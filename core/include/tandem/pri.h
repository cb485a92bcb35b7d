/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Service "pri" version 1, provided by the pri plugin: ISDN PRI call control
 * (Q.931 over Q.921, through libpri) on the spans the pri plugin runs. The
 * MGCF uses it to place and take calls on the PSTN side.
 *
 *   const struct tnd_pri_service *pri = host->service_get("pri", 1);
 *   pri->subscribe(on_pri_event, my_state);
 *   pri->call(&setup, &call_id);
 *
 * Ownership and threads:
 * - The table is owned by the pri plugin and valid until its fini(). Call
 *   it from the loop thread only; events are delivered on the loop thread.
 * - A call is named by a 32-bit id, never reused while the plugin runs. The
 *   id is valid from the SETUP event (incoming) or the successful call()
 *   (outgoing) until the TND_PRI_EV_RELEASE event for it, which is always
 *   the last event of a call and is always delivered, whoever cleared it.
 *   Functions given a stale id return -ENOENT.
 * - An event struct and every string it points to are owned by the plugin
 *   and valid only during the callback. A callback may call the service
 *   (answer from inside SETUP, release from inside ALERTING, ...).
 * - Functions return 0 or a negative -errno: -ENOENT unknown call or span,
 *   -EPERM not allowed in the call's state, -EBUSY no B-channel (map it to
 *   Q.850 cause 34), -ENETDOWN D-channel down, -EINVAL bad argument.
 *
 * Numbers use the Q.931 (ITU-T Q.931 4.5.8, 4.5.10) codings: `ton` is the
 * type of number (0 unknown, 1 international, 2 national, 3 network
 * specific, 4 subscriber, 6 abbreviated), `npi` the numbering plan (0
 * unknown, 1 ISDN/E.164, 9 private), `pres` the presentation indicator (0
 * allowed, 1 restricted, 2 not available) and `screen` the screening
 * indicator (0 user provided not screened, 1 passed, 2 failed, 3 network
 * provided). Causes are Q.850 values (16 normal clearing, 17 user busy,
 * 19 no answer, 34 no circuit available, ...).
 */
#ifndef TANDEM_PRI_H
#define TANDEM_PRI_H

#include <stddef.h>
#include <stdint.h>

#define TND_PRI_SERVICE "pri"
#define TND_PRI_SERVICE_VERSION 1

#define TND_PRI_DIGITS_MAX 32 /* longest number, digits */
#define TND_PRI_NAME_MAX 48   /* longest display name, bytes */

/* Q.931 4.5.5 bearer capability: information transfer capability. */
enum tnd_pri_bearer {
	TND_PRI_BEARER_SPEECH = 0,
	TND_PRI_BEARER_AUDIO_3K1, /* 3.1 kHz audio (fax, modems) */
	TND_PRI_BEARER_DIGITAL,	  /* 64 kbit/s unrestricted */
};

struct tnd_pri_number {
	char digits[TND_PRI_DIGITS_MAX + 1];
	uint8_t ton;
	uint8_t npi;
	uint8_t pres;
	uint8_t screen;
};

/* What an outgoing call asks for, and what an incoming SETUP carried. */
struct tnd_pri_setup {
	int span;      /* call(): 0 = the first span up with a free B-channel */
	int bchan;     /* 0 = any; else the B-channel (timeslot) wanted */
	int exclusive; /* bchan is the only one acceptable (Q.931 4.5.13) */
	/*
	 * Overlap sending (Q.931 5.1.3): called.digits is only the start;
	 * the rest follows with info(). An incoming SETUP has overlap set
	 * when it did not carry Sending Complete and the span answered it
	 * with SETUP ACKNOWLEDGE.
	 */
	int overlap;
	enum tnd_pri_bearer bearer;
	struct tnd_pri_number called;
	struct tnd_pri_number calling;
	char calling_name[TND_PRI_NAME_MAX + 1];
};

enum tnd_pri_event_type {
	TND_PRI_EV_SETUP = 1,  /* incoming SETUP: `setup` */
	TND_PRI_EV_SETUP_ACK,  /* the far end wants more digits (overlap) */
	TND_PRI_EV_INFO,       /* digits: `digits`, `complete` */
	TND_PRI_EV_PROCEEDING, /* CALL PROCEEDING */
	TND_PRI_EV_ALERTING, /* ALERTING; `inband`: ringback on the B-channel */
	TND_PRI_EV_PROGRESS, /* PROGRESS; `inband`: tones or announcement */
	TND_PRI_EV_CONNECT,  /* CONNECT (answered) */
	TND_PRI_EV_DISCONNECT, /* the far end cleared: `cause`; RELEASE follows
				*/
	TND_PRI_EV_RELEASE,    /* the call is gone: `cause`; last event */
	TND_PRI_EV_NOTIFY,  /* NOTIFY: `notify` (Q.931 4.5.22, e.g. 0x79 remote
			       hold) */
	TND_PRI_EV_DISPLAY, /* display text received: `text` */
	TND_PRI_EV_RESTART, /* the far end restarted `bchan` (0: the interface)
			     */
	TND_PRI_EV_SPAN_UP, /* D-channel (Q.921 multiple frame) established */
	TND_PRI_EV_SPAN_DOWN, /* D-channel lost */
};

struct tnd_pri_event {
	enum tnd_pri_event_type type;
	int span;
	uint32_t call; /* 0 for span events (RESTART, SPAN_UP, SPAN_DOWN) */
	int bchan;     /* the call's B-channel, 0 while none is known */
	int cause;     /* DISCONNECT, RELEASE: Q.850 cause */
	int inband;    /* ALERTING, PROGRESS, DISCONNECT: in-band info (PI 8) */
	int complete;  /* INFO: Sending Complete received */
	int notify;    /* NOTIFY: notification description */
	const char *digits;		   /* INFO */
	const char *text;		   /* DISPLAY */
	const struct tnd_pri_setup *setup; /* SETUP */
};

typedef void (*tnd_pri_event_cb)(const struct tnd_pri_event *ev, void *arg);

struct tnd_pri_span_info {
	int span;
	const char *switchtype; /* "euroisdn_e1", "ni2", ... */
	const char *side;	/* "network" or "user" */
	int up;			/* D-channel established */
	int alarm;		/* layer 1 alarm reported by the span driver */
	int bchans;		/* configured B-channels */
	int bchans_free;	/* idle and in service */
	int calls;		/* calls present */
};

enum tnd_pri_bchan_state {
	TND_PRI_BCHAN_IDLE = 0,
	TND_PRI_BCHAN_BUSY,	   /* carries or is reserved for a call */
	TND_PRI_BCHAN_RESTARTING,  /* RESTART sent, waiting for the ACK */
	TND_PRI_BCHAN_MAINTENANCE, /* out of service (SERVICE message) */
};

struct tnd_pri_chan_info {
	int span;
	int bchan;
	enum tnd_pri_bchan_state state;
	const char *state_name;
	uint32_t call; /* 0 when none */
};

struct tnd_pri_service {
	size_t size; /* grows at its end; check before using new members */

	/*
	 * The call control user (the MGCF): every event of every span.
	 * One subscriber at a time (-EBUSY otherwise). With none, incoming
	 * calls are rejected with cause 21 (call rejected).
	 */
	int (*subscribe)(tnd_pri_event_cb cb, void *arg);
	void (*unsubscribe)(tnd_pri_event_cb cb, void *arg);

	/* Spans: index 0..span_count()-1; B-channels by number. */
	int (*span_count)(void);
	int (*span_info)(int index, struct tnd_pri_span_info *out);
	int (*chan_info)(int span, int bchan, struct tnd_pri_chan_info *out);

	/* Place a call (SETUP); *call_id is set on success. */
	int (*call)(const struct tnd_pri_setup *setup, uint32_t *call_id);
	/* More called digits (overlap sending: INFORMATION). */
	int (*info)(uint32_t call_id, const char *digits);

	/* Incoming calls: the answers a called side gives. */
	int (*setup_ack)(uint32_t call_id,
			 int inband); /* ask for more digits */
	int (*proceeding)(uint32_t call_id);
	int (*alert)(uint32_t call_id, int inband);
	int (*progress)(uint32_t call_id, int inband);
	int (*answer)(uint32_t call_id);

	/*
	 * Clear a call in any state with a Q.850 cause (DISCONNECT, or
	 * RELEASE COMPLETE before the call was answered or proceeded). The
	 * RELEASE event follows when the clearing is complete.
	 */
	int (*release)(uint32_t call_id, int cause);
};

#endif /* TANDEM_PRI_H */
