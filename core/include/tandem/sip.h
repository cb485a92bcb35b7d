/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Service "sip" version 1, provided by the sip plugin: the SIP layer the
 * P/I/S-CSCF, the SBC and the MGCF are built on.
 *
 *   const struct sip_service *sip = host->service_get(SIP_SERVICE_NAME,
 *                                                     SIP_SERVICE_VERSION);
 *
 * A plugin that uses it lists { "sip", 1 } in its `requires`, so the sip
 * plugin's init() has run (and registered the table) before its own.
 *
 * What it offers:
 * - handlers for incoming requests, per method or for all; a handler
 *   answers, forwards through the proxy core, or keeps the request to
 *   answer later;
 * - requests sent in a client transaction, responses back by callback;
 * - accessors for the messages seen in callbacks (header values, body,
 *   and the libosip2 message for full structure).
 *
 * Threads: every function is for the loop thread only, and callbacks run
 * on it.
 *
 * Ownership, in one place:
 * - The table is owned by the sip plugin and valid until its fini().
 * - A `struct sip_request *` given to a handler is valid until the
 *   handler returns, unless the handler calls keep(); a kept request is
 *   valid until release(), and the handler must reply() to it (or see it
 *   end by a CANCEL, after which reply() returns -EALREADY) and then
 *   release() it.
 * - A `const struct sip_message *` is valid during the callback that
 *   received it, or for a kept request as long as the request. Text views
 *   (struct sip_text) point into it and share its lifetime; they are not
 *   NUL-terminated.
 * - A `struct sip_client *` from send_request() is valid until its
 *   callback has reported a final response (status >= 200) or a failure,
 *   or until forget(); the sip plugin frees it.
 * - Strings passed in are copied before the call returns.
 *
 * Errors are negative errno values; SIP statuses are plain ints.
 * The table only grows at its end: check `size` before using a member
 * added after the version you were built against.
 */
#ifndef TANDEM_SIP_H
#define TANDEM_SIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIP_SERVICE_NAME "sip"
#define SIP_SERVICE_VERSION 1

struct sip_request; /* a received request and its server transaction */
struct sip_message; /* a received request or response, read-only */
struct sip_client;  /* a request sent in a client transaction */
struct sip_dialog;  /* an INVITE dialog (RFC 3261 12) */

/* A piece of a message; not NUL-terminated. */
struct sip_text {
	const char *ptr;
	size_t len;
};

/* What a request handler returns. */
enum sip_verdict {
	SIP_DECLINED = 0, /* not mine: the next handler or the default */
	SIP_TAKEN = 1,	  /* answered, forwarded or kept */
};

enum sip_handler_flags {
	/* In proxy mode, take matching requests before the proxy core
	 * routes them (a registrar inside a proxy, say). Without it a
	 * handler sees only requests addressed to this node. */
	SIP_HANDLER_CLAIM = 1 << 0,
};

typedef enum sip_verdict (*sip_request_cb)(struct sip_request *req,
					   void *arg);

/*
 * A response to a request we sent. `status` is its code; with `rsp` NULL
 * it is 408 when no final response came (Timer B/F) or the transport
 * failed, 503 when no next hop was found (RFC 3263). Provisional responses
 * come first; the last call has status >= 200, after which `c` is gone.
 */
typedef void (*sip_response_cb)(struct sip_client *c, int status,
				const struct sip_message *rsp, void *arg);

/* A request to send (RFC 3261 8.1.1). */
struct sip_request_spec {
	size_t size;		 /* sizeof(struct sip_request_spec) */
	const char *method;	 /* "OPTIONS", "INVITE", ... */
	const char *request_uri; /* "sip:bob@ims.lab" */
	const char *from;	 /* "<sip:alice@ims.lab>"; a tag is added */
	const char *to;		 /* "<sip:bob@ims.lab>" */
	const char *call_id;	 /* NULL: a new one */
	uint32_t cseq;		 /* 0: 1 */
	const char *headers;	 /* extra lines, each ending CRLF, or NULL */
	const char *body_type;	 /* "application/sdp" or NULL */
	const void *body;
	size_t body_len;
	const char *next_hop;	 /* "udp:127.0.0.1:5060"; NULL: by the
				  * first Route, else the Request-URI */
};

/* ---- SDP (RFC 4566) and offer/answer (RFC 3264) ---- */

#define SIP_SDP_MAX_FORMATS 16

enum sip_sdp_dir {
	SIP_SDP_SENDRECV = 0,
	SIP_SDP_SENDONLY,
	SIP_SDP_RECVONLY,
	SIP_SDP_INACTIVE,
};

/* One m= line of a session description, what media plugins need of it. */
struct sip_sdp_media {
	char type[16];	  /* "audio", "video", ... */
	unsigned port;	  /* 0: a rejected or disabled stream */
	char proto[24];	  /* "RTP/AVP", "RTP/SAVP", ... */
	char address[64]; /* connection address: the m= line's, else the
			   * session's; "" when neither gives one */
	enum sip_sdp_dir dir; /* a=sendonly... of the stream, else session */
	unsigned nformats;
	struct {
		int pt;		   /* payload type; -1 for a non-RTP format */
		char encoding[32]; /* from a=rtpmap, or the static name */
		unsigned clock;	   /* clock rate, 0 when unknown */
	} formats[SIP_SDP_MAX_FORMATS];
};

/* What we answer with (RFC 3264 6). */
struct sip_sdp_local {
	const char *address;	   /* our media address (IPv4 or IPv6) */
	unsigned port;		   /* first stream's port; +2 per stream */
	const char *const *codecs; /* ours in preference order, NULL-ended:
				    * "PCMU/8000", "telephone-event/8000" */
	const char *user;	   /* o= user name; NULL: "tandem" */
	unsigned long long session_id, version;
};

/* ---- Dialogs ---- */

enum sip_dialog_state {
	SIP_DIALOG_EARLY = 1, /* a provisional response with a tag */
	SIP_DIALOG_CONFIRMED, /* 2xx: answered (UAC) or acknowledged (UAS) */
	SIP_DIALOG_ENDED,     /* BYE, a final failure, a timeout, expiry */
};

/* sip->dialog_reply() flags */
enum sip_reply_flags {
	SIP_REPLY_RELIABLE = 1 << 0, /* 1xx sent reliably (RFC 3262) when the
				      * peer supports 100rel */
};

struct sip_dialog_ops {
	/*
	 * The dialog changed state. `status`: the response that did it
	 * (EARLY, CONFIRMED, or ENDED by a final failure), or why it ended:
	 * 200 a BYE (either side), 408 no answer or no ACK, 481 the peer
	 * forgot it, 503 no next hop, 0 released. `msg` (may be NULL) is
	 * the message that caused it, valid during the call. After ENDED
	 * no more callbacks come; the user still calls dialog_release().
	 */
	void (*state)(struct sip_dialog *d, enum sip_dialog_state state,
		      int status, const struct sip_message *msg, void *arg);
	/* A request in the dialog other than ACK, BYE and PRACK (which the
	 * layer answers): re-INVITE, UPDATE, INFO, NOTIFY... Answer it with
	 * reply(); return as a handler does (SIP_DECLINED: 501). */
	enum sip_verdict (*request)(struct sip_dialog *d,
				    struct sip_request *req, void *arg);
};

struct sip_dialog_info {
	enum sip_dialog_state state; /* 0 before the first tagged response */
	int uac;		     /* 1 when we sent the INVITE */
	char call_id[128];
	char local_tag[64], remote_tag[64];
	unsigned session_expires;    /* RFC 4028 interval, 0 when none */
	int refresher;		     /* 1 when we refresh the session */
	unsigned refreshes;	     /* session refreshes seen or sent */
};

struct sip_service {
	size_t size; /* sizeof(struct sip_service) of the provider */

	/* ---- Handlers ---- */

	/*
	 * Call `cb` for new requests of `method` ("INVITE"; NULL: all)
	 * that reach this node. `option_tags` (NULL or "100rel, timer")
	 * are what the handler supports: the core then accepts them in
	 * Require and lists them in Supported. Handlers are asked in the
	 * order they were added. Returns 0 or -ENOMEM.
	 */
	int (*handler_add)(const char *method, unsigned flags,
			   const char *option_tags, sip_request_cb cb,
			   void *arg);
	void (*handler_remove)(sip_request_cb cb, void *arg);

	/* ---- A received request ---- */

	/*
	 * Answer. `headers`: extra lines, each ending CRLF (Contact,
	 * Service-Route, WWW-Authenticate...). 100-199 may be sent several
	 * times before one final response. Returns 0, -EALREADY when a
	 * final response went already (or a CANCEL ended it), -ENOMEM.
	 */
	int (*reply)(struct sip_request *req, int status, const char *reason,
		     const char *headers, const char *body_type,
		     const void *body, size_t body_len);
	/* Keep the request beyond the callback (to answer later). */
	struct sip_request *(*keep)(struct sip_request *req);
	void (*release)(struct sip_request *req);
	/*
	 * Only inside the handler: forward the request statefully through
	 * the proxy core (RFC 3261 16), to `target` ("sip:bob@127.0.0.1:5070"
	 * becomes the Request-URI) or, NULL, by Route / next_hop / the
	 * Request-URI. Responses go back to the sender by themselves.
	 */
	int (*proxy)(struct sip_request *req, const char *target);
	const struct sip_message *(*request_message)(
		const struct sip_request *req);

	/* ---- Reading messages ---- */

	/* 0 for a request. */
	int (*status)(const struct sip_message *msg);
	struct sip_text (*method)(const struct sip_message *msg);
	struct sip_text (*request_uri)(const struct sip_message *msg);
	/* The `index`-th value line of header `name` (compact forms and
	 * case-insensitive). Returns 0 or -ENOENT. */
	int (*header)(const struct sip_message *msg, const char *name,
		      unsigned index, struct sip_text *value);
	struct sip_text (*body)(const struct sip_message *msg);
	/* "UDP 127.0.0.1:5060"; returns the length written or -ENOSPC. */
	int (*source)(const struct sip_message *msg, char *buf, size_t size);
	/* The parsed libosip2 osip_message_t (const; NULL if none). */
	const void *(*osip_message)(const struct sip_message *msg);

	/* ---- Sending requests ---- */

	/*
	 * Send `spec` in a new client transaction; `cb` hears the
	 * responses. A next hop that is a name is located first (RFC
	 * 3263; the request leaves when it is found). `*out` (may be NULL)
	 * gets the handle. Returns 0, -EINVAL (spec), -EHOSTUNREACH (no
	 * next hop), -ENOMEM.
	 */
	int (*send_request)(const struct sip_request_spec *spec,
			    sip_response_cb cb, void *arg,
			    struct sip_client **out);
	/* RFC 3261 9.1: CANCEL a pending INVITE. */
	int (*cancel)(struct sip_client *c);
	/* No more callbacks; the transaction runs to its end alone. */
	void (*forget)(struct sip_client *c);

	/* ---- SDP ---- */

	/*
	 * Parse a session description (a message body, not NUL-terminated)
	 * into at most `max` streams. Returns the number of m= lines (which
	 * may exceed `max`), or -EINVAL when it is not valid SDP.
	 */
	int (*sdp_media)(const char *body, size_t len,
			 struct sip_sdp_media *media, unsigned max);
	/*
	 * The answer to `offer` (RFC 3264 6): each stream of a type we have
	 * a codec for is accepted with the codecs both sides have, in the
	 * offer's payload numbers, our address and port, and the direction
	 * mirrored; the others are rejected with port 0. Writes it to `out`
	 * (NUL-terminated); returns its length, -EINVAL (offer), -ENOSPC.
	 */
	int (*sdp_answer)(const char *offer, size_t len,
			  const struct sip_sdp_local *local, char *out,
			  size_t size);

	/* ---- Dialogs: RFC 3261 12-15, 100rel (RFC 3262), UPDATE (RFC
	 * 3311), session timers (RFC 4028), Replaces (RFC 3891) ---- */

	/*
	 * In an INVITE handler: make the UAS side of a dialog. The request
	 * is kept by the dialog; answer with dialog_reply(). A Session-
	 * Expires below the node's min_se is answered 422 here (NULL).
	 */
	struct sip_dialog *(*dialog_accept)(struct sip_request *req,
					    const struct sip_dialog_ops *ops,
					    void *arg);
	/*
	 * Answer the dialog's INVITE. 1xx (> 100) create the early dialog
	 * (reliably with SIP_REPLY_RELIABLE when the peer supports 100rel:
	 * resent until its PRACK); a 2xx is resent until the ACK (RFC 3261
	 * 13.3.1.4); >= 300 ends it. Contact, Record-Route, Session-Expires
	 * and Require are added. Returns 0, -EALREADY, -ENOMEM.
	 */
	int (*dialog_reply)(struct sip_dialog *d, int status,
			    const char *reason, const char *headers,
			    const char *body_type, const void *body,
			    size_t body_len, unsigned flags);
	/*
	 * The UAC side: send an INVITE (spec as for send_request; Contact,
	 * Supported: 100rel, timer and the node's Session-Expires are
	 * added). Reliable provisional responses are PRACKed and 2xx
	 * ACKed by the layer. Returns 0 or as send_request.
	 */
	int (*dialog_invite)(const struct sip_request_spec *spec,
			     const struct sip_dialog_ops *ops, void *arg,
			     struct sip_dialog **out);
	/*
	 * A request in the dialog (re-INVITE, UPDATE, INFO, BYE...): route
	 * set, remote target, tags and CSeq are the dialog's. `cb` (may be
	 * NULL) hears the responses; a 2xx to a re-INVITE is ACKed.
	 */
	int (*dialog_request)(struct sip_dialog *d, const char *method,
			      const char *headers, const char *body_type,
			      const void *body, size_t body_len,
			      sip_response_cb cb, void *arg);
	/* BYE (or CANCEL / a final failure before the dialog exists). */
	int (*dialog_end)(struct sip_dialog *d);
	/* No more callbacks; freed once ended (ends it first if needed). */
	void (*dialog_release)(struct sip_dialog *d);
	int (*dialog_info)(const struct sip_dialog *d,
			   struct sip_dialog_info *info);
	/* RFC 3891: the dialog an INVITE's Replaces header names, or NULL. */
	struct sip_dialog *(*dialog_replaced)(const struct sip_message *invite);
};

#ifdef __cplusplus
}
#endif

#endif /* TANDEM_SIP_H */
