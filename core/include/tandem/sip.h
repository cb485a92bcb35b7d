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
/* Members added at the end of the table and of sip_request_spec since
 * 1.0; a user checks `size` before using them. */
#define SIP_SERVICE_MINOR 2

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

/* A CANCEL came for a kept INVITE (sip->on_cancel(), since 1.1). */
typedef void (*sip_cancel_cb)(struct sip_request *req,
			      const struct sip_message *cancel, void *arg);

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

	/* ---- Since 1.1: the service reads these only when `size` covers
	 * them, so callers built against 1.0 keep their behaviour. ---- */

	/*
	 * A request inside a dialog the caller keeps itself (a B2BUA leg,
	 * RFC 3261 12.2.1.1). `from` and `to` are then the URIs without
	 * tags; `request_uri` is the remote target; `cseq` the dialog's
	 * next local CSeq (ACK and CANCEL are not sent this way).
	 * local_tag: the From tag (NULL: a new one, unless `from` has one).
	 * remote_tag: the To tag (NULL: none, unless `to` has one).
	 * route_set: the dialog's route set, "<uri>, <uri>" in the order
	 * the request takes it (NULL: none); each entry becomes a Route
	 * line. A first entry without ";lr" is a strict router (12.2.1.1):
	 * it becomes the Request-URI and the remote target the last Route.
	 * -EINVAL when a tag is given both here and in from / to.
	 */
	const char *local_tag;
	const char *remote_tag;
	const char *route_set;
	/*
	 * Max-Forwards (RFC 3261 8.1.1.6, 16.6 step 3). forward_of: the
	 * request that made a B2BUA send this one (valid during the call):
	 * the new request carries its Max-Forwards less one (70 when it had
	 * none); when that value is already 0, send_request() sends nothing
	 * and returns -ELOOP, and the caller answers 483 (max_forwards()
	 * tells it beforehand). max_forwards: without forward_of, the value
	 * to send (0: 70).
	 */
	const struct sip_message *forward_of;
	unsigned max_forwards;
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
	SIP_DIALOG_EARLY = 1, /* a provisional response with a tag (UAC: each) */
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

	/* ---- Since 1.1 (SIP_SERVICE_MINOR 1): check `size` first, e.g.
	 * size >= offsetof(struct sip_service, max_forwards) +
	 * sizeof(sip->max_forwards) ---- */

	/*
	 * A message's Max-Forwards value (0-255), or -ENOENT when it has
	 * none. A B2BUA that would send a request on because of one that
	 * has 0 answers 483 instead (RFC 3261 16.3 step 2; send_request()
	 * with forward_of refuses with -ELOOP).
	 */
	int (*max_forwards)(const struct sip_message *msg);
	/*
	 * Hear of a CANCEL for a kept INVITE (RFC 3261 9.2), to CANCEL the
	 * B2BUA's or proxy's own outgoing leg. When `cb` runs the layer has
	 * answered the CANCEL 200 and the INVITE 487 (so reply() returns
	 * -EALREADY); `cancel` is the CANCEL (its Reason header, RFC 3326),
	 * valid during the call. `req` stays valid until release(), which
	 * the handler still calls, inside cb or later. Set it on a kept
	 * request (or in the handler, before or after keep()); cb NULL
	 * removes it. Returns 0, -EINVAL (not an INVITE, or not kept once
	 * the handler returned), -EALREADY (answered or cancelled already).
	 */
	int (*on_cancel)(struct sip_request *req, sip_cancel_cb cb, void *arg);
	/*
	 * A route set from the values of header `name` of `msg`, all its
	 * lines and comma-separated entries: "Path" (RFC 3327: what an
	 * S-CSCF uses to reach the UE), "Service-Route" (RFC 3608: what a
	 * P-CSCF puts first in the UE's requests), "Record-Route" (a UAC
	 * reverses it, flag SIP_ROUTES_REVERSE). Written to `out` as
	 * "<uri>, <uri>" (NUL-terminated; the form spec.route_set takes).
	 * Returns the number of entries (0: the header is absent, `out`
	 * is ""), -ENOSPC, -EINVAL (an entry is not a name-addr).
	 */
	int (*route_set)(const struct sip_message *msg, const char *name,
			 unsigned flags, char *out, size_t size);
	/*
	 * This node's URI for a Path, Service-Route or Record-Route entry
	 * that must lead back here: "<sip:USER@HOST:PORT;transport=tcp;lr>"
	 * for the listener of `proto` ("udp", "tcp", "tls"; NULL: the
	 * first listener), with `user` (NULL: none) marking what the entry
	 * is for (a P-CSCF's "term"...). Returns its length, -ENOENT (no
	 * such listener), -ENOSPC.
	 */
	int (*local_route)(const char *proto, const char *user, char *out,
			   size_t size);
	/*
	 * Only inside the handler, as proxy(): forward the request
	 * statefully to several targets (RFC 3261 16.5-16.7), each becoming
	 * the Request-URI of its branch (a Route left after ours still
	 * leads). In parallel by default: the best final response goes
	 * back (16.7 step 6: 6xx first, else the lowest class); a 2xx is
	 * passed on at once and the other INVITE branches are cancelled
	 * (16.7 step 10); a 6xx cancels the others and stops the search.
	 * SIP_FORK_SERIAL: one target at a time, in the order given, the
	 * next when one fails (non-2xx, non-6xx, timeout, Timer C).
	 * SIP_FORK_RECURSE (or `recurse_3xx = yes`): a 3xx's Contacts join
	 * the target set instead of the 3xx competing (16.7 step 5). At
	 * most 16 targets in all, each tried once. Returns 0 (forwarded or
	 * answered: Max-Forwards, loops...), -EINVAL (not in the handler,
	 * no targets or more than 16, ACK or CANCEL).
	 */
	int (*proxy_fork)(struct sip_request *req, const char *const *targets,
			  unsigned ntargets, unsigned flags);

	/* ---- Since 1.2 (SIP_SERVICE_MINOR 2): check `size` first ---- */

	/*
	 * The listener a message arrived on, "UDP 10.20.0.1:5060" (as
	 * source() names the sender): how a node with a listener per realm
	 * (an SBC's access and core sides) tells where a request came in.
	 * Returns the length written, -ENOENT (a message we sent), -ENOSPC.
	 */
	int (*local)(const struct sip_message *msg, char *buf, size_t size);
	/*
	 * Whether the TLS connection that carried `msg` showed a verified
	 * client (or server) certificate for `name`: a DNS subjectAltName,
	 * else the subject's CN, matched as RFC 6125 says (wildcards in the
	 * left-most label). 1 yes, 0 another name, -ENOENT not TLS, no
	 * certificate, not verified (tls_verify_client off and the peer's
	 * chain failed), or the connection has gone.
	 */
	int (*tls_peer_is)(const struct sip_message *msg, const char *name);
	/*
	 * Send the dialog's requests (BYE, re-INVITE, UPDATE, INFO, PRACK,
	 * the ACK of a 2xx) to `next_hop` ("udp:198.51.100.9:40123",
	 * "tcp:[2001:db8::5]:50123"; NULL: back to the route set / remote
	 * target) instead of the first Route or the remote target; the
	 * Request-URI and Route lines stay what the dialog says. For a UA
	 * behind a NAT whose Contact names a private address: its requests'
	 * source is where it can be reached (RFC 3581; over TCP/TLS the
	 * connection it opened is reused while it is up, RFC 5626 5.3).
	 * Returns 0, -EINVAL (not PROTO:IP:PORT, or the dialog ended),
	 * -ENOMEM.
	 */
	int (*dialog_set_next_hop)(struct sip_dialog *d, const char *next_hop);
};

/* sip->proxy_fork(): targets of one request, 3xx recursion included */
#define SIP_FORK_MAX 16

/* sip->proxy_fork() flags */
enum sip_fork_flags {
	SIP_FORK_SERIAL = 1 << 0,  /* one branch at a time, in order */
	SIP_FORK_RECURSE = 1 << 1, /* try the Contacts of 3xx responses */
};

/* sip->route_set() flags */
enum sip_route_flags {
	SIP_ROUTES_REVERSE = 1 << 0, /* last entry first (a UAC's
				      * Record-Route, RFC 3261 12.1.2) */
};

#ifdef __cplusplus
}
#endif

#endif /* TANDEM_SIP_H */
