/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ims.h - what the P-, I- and S-CSCF plugins share: the plugin context
 * (host, sip service, this node's SIP URI), and the relay that passes a
 * request on with edited headers and brings its responses back.
 *
 * Why a relay and not sip.h's proxy(): the proxy core forwards a request
 * as received, and a CSCF must add and remove headers on the way (Path,
 * Route from Service-Route, P-Asserted-Identity, P-Charging-Vector) and
 * read the responses (Service-Route, the AKA keys of a 401, an AS that
 * does not answer). Until the sip service offers a proxy with edits and
 * a response hook, each CSCF passes requests on as a back-to-back user
 * agent: a kept server transaction upstream, a client transaction
 * downstream (send_request), responses copied back (reply). Dialogs are
 * relayed leg to leg (ims_dlg_*): every CSCF stays in the dialog with its
 * own Contact, ACKs for 2xx are hop by hop.
 *
 * Threads: the loop thread only. Each plugin links its own copy of this
 * library; `ims` is that plugin's context.
 */
#ifndef TANDEM_IMS_H
#define TANDEM_IMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/plugin.h"
#include "tandem/sip.h"

#include "ims_hash.h"
#include "ims_msg.h"
#include "ims_util.h"

struct ims_ctx {
	const struct tnd_host_api *host;
	const struct sip_service *sip;
	struct tnd_plugin *self;
	const char *category;
	/* sip:HOST:PORT of this node, by the name the core knows it */
	char self_uri[IMS_URI_MAX];
	/* Contact of the legs it relays: self_uri, or the address of its
	 * SIP listener (ims_contact_from_listener) for peers that cannot
	 * resolve the node's name, such as UEs */
	char contact_uri[IMS_URI_MAX];
	/* add <contact_uri;lr> as Record-Route to the dialogs it relays
	 * (the P-CSCF, TS 24.229 5.2.6.3.3 / 5.2.7.2), so a UE's route set
	 * names it */
	bool record_route;
	/* dialogs older than this are dropped (0: never), seconds */
	uint64_t dialog_max_s;
};

extern struct ims_ctx ims;

/* Members of the sip service since 1.1 (on_cancel, forward_of, the tags
 * of in-dialog requests): a provider built before them lacks them. */
#define IMS_SIP_HAS(member)                                                    \
	(ims.sip->size >=                                                      \
	 offsetof(struct sip_service, member) + sizeof(ims.sip->member))

#define ims_log(level, ...)                                                    \
	ims.host->log(ims.category, level, __FILE__, __LINE__, __VA_ARGS__)

/* Set the context; call from the plugin's init(). */
int ims_init(const struct tnd_host_api *host, struct tnd_plugin *self,
	     const char *category, const char *self_uri);
/* Timers; call from start(). */
int ims_start(void);
/* Drop pending relays and dialogs; call from fini(). */
void ims_fini(void);

/* Is `uri` this node (the host and port of its self_uri or its
 * contact_uri)? */
bool ims_is_self(const char *uri);
/*
 * Relayed legs get the address of the node's first SIP listener as
 * Contact (and Record-Route) instead of self_uri, unless that listener
 * is a wildcard address. Call from start() (the listeners are open).
 */
void ims_contact_from_listener(void);
/*
 * Put `uri` (made a loose route with ;lr) first in the Route set of m:
 * how a request goes to a node known by name (the sip service resolves
 * a Route's host through its `hosts`; next_hop takes addresses only).
 */
int ims_route_first(struct ims_msg *m, const char *uri);
/* Drop Route values that name this node from the top of m's Route set
 * (RFC 3261 16.4). */
void ims_route_pop_self(struct ims_msg *m);

/* ---- Relayed transactions ------------------------------------------------ */

struct ims_fwd; /* a request being passed on: kept upstream, sent downstream */

enum ims_fwd_verdict {
	IMS_FWD_RELAY = 0, /* pass the (edited) response upstream */
	IMS_FWD_HANDLED,   /* the callback replied or sent again itself */
};

/*
 * A response came for what ims_fwd_send() sent: `rsp` is its editable
 * copy, or NULL with status 408 when none came (timeout, transport
 * failure). For status >= 200 the callback may instead answer upstream
 * (ims_fwd_reply) or send again (ims_fwd_send, e.g. to another S-CSCF)
 * and return IMS_FWD_HANDLED.
 */
typedef enum ims_fwd_verdict (*ims_fwd_cb)(struct ims_fwd *f, int status,
					   struct ims_msg *rsp, void *arg);

/* Where and how to send. NULL members take the request's own. */
struct ims_fwd_target {
	const char *ruri;
	const char *next_hop; /* "udp:IP:PORT"; NULL: first Route / R-URI */
	const char *from;     /* a new leg's From, without tag */
	const char *to;
	const char *call_id; /* NULL: the request's (a new one for dialog) */
	uint32_t cseq;	     /* 0: the request's */
	/* our Contact instead of the request's, in it and in the responses
	 * (implied by dialog) */
	bool own_contact;
	/* relay a dialog: a new Call-ID and our Contact downstream; on a
	 * 2xx the dialog is kept and its requests relayed leg to leg */
	bool dialog;
	/* the downstream leg's later requests keep using next_hop (the
	 * flow to a UE) */
	bool sticky_hop;
	/* a request inside a relayed dialog: `from` and `to` carry no tag,
	 * these are the leg's From and To tags (sip.h 1.1: the service
	 * then adds no tag of its own) */
	const char *local_tag;
	const char *remote_tag;
};

/*
 * Take a request inside its handler: keep it and copy it. For INVITE a
 * 100 Trying goes at once. NULL when out of memory (then answer 500).
 */
struct ims_fwd *ims_fwd_new(struct sip_request *req,
			    const struct sip_message *m);
/* The request's editable copy (headers to change before sending). */
struct ims_msg *ims_fwd_msg(struct ims_fwd *f);
/*
 * Send the copy downstream; cb hears the responses. Max-Forwards is the
 * upstream request's less one (RFC 3261 16.6 step 3). 0 or -errno: then
 * answer with ims_fwd_fail(). -ELOOP: Max-Forwards was 0; -ECANCELED:
 * the caller cancelled while we were looking for the next hop.
 */
int ims_fwd_send(struct ims_fwd *f, const struct ims_fwd_target *t,
		 ims_fwd_cb cb, void *arg);
/* Answer upstream after ims_fwd_send() failed with `rc`: 483 for
 * -ELOOP (RFC 3261 16.3 step 3), else `status` and `reason`. */
int ims_fwd_fail(struct ims_fwd *f, int rc, int status, const char *reason);
/*
 * Answer upstream. `headers` are extra lines (CRLF each) or NULL. A final
 * status ends the relay: f is freed (unless a send is in flight, which
 * then ends quietly).
 */
int ims_fwd_reply(struct ims_fwd *f, int status, const char *reason,
		  const char *headers);
/* The same with a body. */
int ims_fwd_reply_body(struct ims_fwd *f, int status, const char *reason,
		       const char *headers, const char *body_type,
		       const void *body, size_t body_len);
/* Give up what was sent (no more callbacks from it): to send elsewhere
 * (an application server that does not answer). */
void ims_fwd_abandon(struct ims_fwd *f);
/* Attach the caller's state; `free_fn` runs when f is freed. */
void ims_fwd_set_data(struct ims_fwd *f, void *data, void (*free_fn)(void *));
void *ims_fwd_data(struct ims_fwd *f);
/* Requests being relayed now (kept upstream, not yet answered or still
 * waiting for their downstream transaction). */
size_t ims_fwd_count(void);
/* The dialog a 2xx created (in the response callback), or NULL. */
struct ims_dlg *ims_fwd_dialog(struct ims_fwd *f);

/* ---- Relayed dialogs ----------------------------------------------------- */

struct ims_dlg;

struct ims_dlg_ops {
	/* The dialog is up (2xx relayed); invite/ok are the two messages. */
	void (*established)(struct ims_dlg *d, const struct ims_msg *invite,
			    const struct ims_msg *ok);
	/* It ends (BYE, or dropped); d is freed after the call. */
	void (*terminated)(struct ims_dlg *d, const char *why);
};

/* Hooks for this plugin's dialogs (NULL: none). */
void ims_dlg_set_ops(const struct ims_dlg_ops *ops);
/*
 * In a request handler, first: a request inside a relayed dialog (or an
 * ACK) is relayed to the other leg, or answered 481. Returns true when it
 * took the request.
 */
bool ims_dlg_handle(struct sip_request *req, const struct sip_message *m);
void ims_dlg_set_data(struct ims_dlg *d, void *data, void (*free_fn)(void *));
void *ims_dlg_data(struct ims_dlg *d);
/* Call-ID of the upstream leg (as the caller knows it). */
const char *ims_dlg_call_id(const struct ims_dlg *d);
/* Dialogs now relayed. */
size_t ims_dlg_count(void);
/* End the dialog whose upstream Call-ID is call_id (BYE on both legs). */
unsigned ims_dlg_release_call(const char *call_id, const char *why);
/* End every dialog whose user data `match` accepts with BYE on both legs
 * (network de-registration). Returns how many. */
unsigned ims_dlg_release(bool (*match)(struct ims_dlg *d, void *arg), void *arg,
			 const char *why);

#endif /* TANDEM_IMS_H */
