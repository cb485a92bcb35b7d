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
 * A response to a request we sent. `status` is its code, or 408 with
 * `rsp` NULL when no final response came (Timer B/F) or the transport
 * failed. Provisional responses come first; the last call has
 * status >= 200, after which `c` is gone.
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
	 * responses. `*out` (may be NULL) gets the handle. Returns 0,
	 * -EINVAL (spec), -EHOSTUNREACH (no next hop), -ENOMEM.
	 */
	int (*send_request)(const struct sip_request_spec *spec,
			    sip_response_cb cb, void *arg,
			    struct sip_client **out);
	/* RFC 3261 9.1: CANCEL a pending INVITE. */
	int (*cancel)(struct sip_client *c);
	/* No more callbacks; the transaction runs to its end alone. */
	void (*forget)(struct sip_client *c);
};

#ifdef __cplusplus
}
#endif

#endif /* TANDEM_SIP_H */
