/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Service "mgw" version 1, provided by the mgw plugin: the media gateway
 * function of a PSTN gateway node. The MGCF asks it, per call, to join a
 * B-channel (span, timeslot of the "tdm" service) to an RTP stream of the
 * "media" service, speaking SDP for it (RFC 3264 offer/answer), and to
 * play call progress tones toward the circuit when the far end offers
 * none. It keeps a record of every call (times, codec, packets, loss,
 * jitter, MOS, cause).
 *
 *   const struct mgw_service *mgw = host->service_get(MGW_SERVICE, 1);
 *
 * Life of a context, on the loop thread:
 *   ctx_new()          the circuit and an RTP port are reserved
 *   sdp_offer() / sdp_answer() / sdp_answered()   the SDP of both sides
 *   tone()             a tone toward the circuit while media is cut
 *   through()          media flows one way (early media) or both ways
 *   ctx_release()      media stops, the record is written, no event after
 *
 * Ownership and threads: every function is for the loop thread, and
 * events arrive on it. A context is owned by its creator until
 * ctx_release(), which frees it (the record outlives it). SDP bodies
 * passed in are read during the call; strings in configs are copied.
 *
 * Errors: 0 or a negative errno: -EINVAL bad argument, -ENOTSUP no codec
 * in common (SIP 488), -EPROTONOSUPPORT a profile we do not speak
 * (RTP/SAVP), -ENOSPC buffer too small, -EBUSY wrong state, -ENODEV no
 * media or tdm service, -ENOMEM.
 *
 * This header lives with the plugin (plugins/mgw); only the MGCF uses it.
 */
#ifndef TANDEM_MGW_H
#define TANDEM_MGW_H

#include <stdbool.h>
#include <stddef.h>

#include "mgw_tone.h" /* enum mgw_tone */

#define MGW_SERVICE "mgw"
#define MGW_SERVICE_VERSION 1
#define MGW_SDP_MAX 2048 /* our SDP bodies fit in this */

struct mgw_ctx;

/* Which way media passes (TS 29.163 7.3.3: through-connection). */
enum mgw_through {
	MGW_THROUGH_NONE = 0,	/* cut: tones may play toward the circuit */
	MGW_THROUGH_TO_IP,	/* circuit -> RTP only (early media to SIP) */
	MGW_THROUGH_TO_CIRCUIT, /* RTP -> circuit only (early media to PSTN) */
	MGW_THROUGH_BOTH,
};

enum mgw_event_type {
	MGW_EV_DTMF = 1,    /* a digit from the circuit (in band) or RTP */
	MGW_EV_FAX,	    /* a fax tone (T.30 CNG or CED) on the circuit */
	MGW_EV_RTP_TIMEOUT, /* no RTP for [media] rtp_timeout_s */
};

struct mgw_event {
	enum mgw_event_type type;
	char digit;	      /* DTMF: at its end */
	unsigned duration_ms; /* DTMF */
	bool from_circuit;    /* DTMF: heard on the circuit (else RTP) */
	const char *tone;     /* FAX: "CNG" or "CED" */
};

typedef void (*mgw_event_cb)(struct mgw_ctx *ctx, const struct mgw_event *ev,
			     void *arg);

struct mgw_ctx_config {
	size_t size;	     /* sizeof(struct mgw_ctx_config) */
	const char *label;   /* the call, for logs and the record */
	unsigned span, ts;   /* the circuit */
	bool incoming;	     /* the call came from the circuit */
	const char *calling; /* for the record; may be NULL */
	const char *called;
	mgw_event_cb on_event; /* may be NULL */
	void *arg;
};

/* A snapshot of a context, for logs and the MGCF's commands. */
struct mgw_ctx_info {
	unsigned id;
	unsigned span, ts;
	const char *codec; /* NULL until negotiated */
	enum mgw_through through;
	enum mgw_tone tone;
	double mos;	   /* of what we receive on RTP; 0 unknown */
};

struct mgw_service {
	size_t size; /* sizeof(struct mgw_service) of the provider */

	int (*ctx_new)(const struct mgw_ctx_config *cfg, struct mgw_ctx **out);
	/* The far end chose another B-channel before media flowed (Q.931
	 * 5.7 glare): the context follows. -EBUSY once media has started. */
	int (*ctx_move)(struct mgw_ctx *ctx, unsigned span, unsigned ts);

	/* Our offer; returns its length. */
	int (*sdp_offer)(struct mgw_ctx *ctx, char *buf, size_t size);
	/* Take the peer's offer (again on a re-INVITE/UPDATE: hold, resume,
	 * codec change) and write our answer; returns its length. */
	int (*sdp_answer)(struct mgw_ctx *ctx, const char *offer, size_t len,
			  char *buf, size_t size);
	/* The peer's answer to our offer. */
	int (*sdp_answered)(struct mgw_ctx *ctx, const char *answer,
			    size_t len);
	/* Without a context: could we answer this offer? (0, -ENOTSUP, ...) */
	int (*sdp_check)(const char *offer, size_t len);

	int (*through)(struct mgw_ctx *ctx, enum mgw_through mode);
	/* A tone toward the circuit, while media is cut (MGW_TONE_NONE
	 * stops it). The node's tone plan ([mgw] tones) gives its sound. */
	int (*tone)(struct mgw_ctx *ctx, enum mgw_tone tone);
	/* A digit toward the circuit, in band (SIP INFO relay). */
	int (*dtmf)(struct mgw_ctx *ctx, char digit, unsigned duration_ms);

	/* The call is over with this Q.850 cause: the context is gone. */
	void (*ctx_release)(struct mgw_ctx *ctx, int cause);
	int (*ctx_info)(struct mgw_ctx *ctx, struct mgw_ctx_info *out);

	/* A T.38 offer (m=image udptl t38) for a re-INVITE when a fax tone
	 * is heard; its answer goes to sdp_answered(), which switches the
	 * stream to T.38 (or refuses, -ENOTSUP, and the call stays in
	 * G.711). -ENOTSUP when [mgw] t38 = no. */
	int (*sdp_offer_t38)(struct mgw_ctx *ctx, char *buf, size_t size);
};

#endif /* TANDEM_MGW_H */
