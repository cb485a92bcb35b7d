/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_service_int: how the core asks the handlers other plugins registered
 * through the "sip" service (tandem/sip.h). Every hook returns false when
 * no handler is interested, so the core goes on with its own behaviour.
 */
#ifndef SIP_SERVICE_INT_H
#define SIP_SERVICE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sip_int.h"
#include "tandem/sip.h"

struct sip_message {
	const struct sip_msg *m;
};

struct sip_request {
	struct sip_message view;
	struct sip_msg *m;	/* the message; during the callback only */
	struct sip_txn *t;	/* NULL once the transaction ended */
	bool in_callback, kept, cancelled;
	/* on_cancel(): told when a CANCEL ends the INVITE */
	sip_cancel_cb cancel_cb;
	void *cancel_arg;
	/* a re-INVITE in this dialog: its 2xx is resent until the ACK */
	struct sip_dialog *reinvite_of;
	/* a kept request's own copy of the bytes */
	char *raw;
	struct sip_scan *scan;
	struct sip_msg copy;
};

struct sip_client {
	struct sip_txn *t;
	sip_response_cb cb;
	void *arg;
	struct sip_peer to;
	bool provisional, cancel_pending, invite;
	bool cancel_sent; /* RFC 3261 9.1: one CANCEL per INVITE */
	bool dialog;	/* a dialog's: it ACKs 2xx; Contact added */
	/* while the next hop is located (RFC 3263): the request to send */
	struct sip_dns_query *query;
	struct sip_request_spec spec;
	char *copy;
	char branch[32];
	int max_forwards; /* what the request carries */
	/* RFC 3263 4.3: the next hops after `to`, tried on 503 / timeout */
	struct sip_peer *alts;
	unsigned nalts, next_alt;
};

extern const struct sip_service sip_service_table;

/* An option tag (RFC 3261 19.2) a handler declared it supports. */
bool sip_service_supports(const char *tag, size_t len);
/* Append ", METHOD" for each method with a handler. */
void sip_service_allow(struct sip_buf *b);
/* Append a Supported header line with the declared option tags. */
void sip_service_supported(struct sip_buf *b);
/* In proxy mode: does a handler want this request instead of the proxy? */
bool sip_service_claims(const struct sip_msg *m);
/* A new request in its server transaction: true when a handler took it. */
bool sip_service_request(struct sip_msg *m, struct sip_txn *t);
/* An ACK that matched no transaction (the ACK of a 2xx). */
bool sip_service_ack(struct sip_msg *m);
/* A CANCEL (`cancel`) for a server INVITE transaction a handler owns. */
bool sip_service_cancel(struct sip_txn *ist, struct sip_msg *cancel);
/* A response that matched no client transaction (2xx retransmissions). */
bool sip_service_stray_response(struct sip_msg *m);
void sip_service_fini(void);

/* What the dialog layer (sip_dialog.c) uses of the service. */
struct sip_request *sip_request_new(struct sip_msg *m, struct sip_txn *t);
/* After a callback: frees the request unless kept; true if it ended. */
bool sip_request_done(struct sip_request *req);
struct sip_request *sip_request_keep(struct sip_request *req);
void sip_request_release(struct sip_request *req);
int sip_request_reply(struct sip_request *req, int status,
		      const char *reason, const char *headers,
		      const char *body_type, const void *body,
		      size_t body_len);
/* send_request for a dialog (no automatic ACK; a Contact is added). */
int sip_send_request(const struct sip_request_spec *spec, sip_response_cb cb,
		     void *arg, struct sip_client **out, bool dialog);
int sip_client_cancel(struct sip_client *c);
/* on_cancel() of the service, for the dialog layer too. */
int sip_request_on_cancel(struct sip_request *req, sip_cancel_cb cb,
			  void *arg);
void sip_client_forget(struct sip_client *c);

/* ---- Dialogs (sip_dialog.c) ---- */

/* An ACK of a 2xx: ends a UAS dialog's 2xx retransmissions. */
bool sip_dialog_ack(struct sip_msg *m);
/* A request with a To tag: handled when it names one of our dialogs. */
bool sip_dialog_input(struct sip_msg *m);
/* A 2xx retransmission: the dialog sends its ACK again. */
bool sip_dialog_stray(struct sip_msg *m);
void sip_dialog_fini(void);
/* The 2xx to a re-INVITE (RFC 3261 14.2, 13.3.1.4): Contact added, resent
 * until the ACK. */
int sip_dialog_reinvite_ok(struct sip_request *req, int status,
			   const char *reason, const char *headers,
			   const char *body_type, const void *body,
			   size_t body_len);
/* A re-INVITE's request is freed: the dialog forgets it. */
void sip_dialog_reinvite_gone(struct sip_request *req);
struct sip_dialog *sip_dialog_accept(struct sip_request *req,
				     const struct sip_dialog_ops *ops,
				     void *arg);
int sip_dialog_reply(struct sip_dialog *d, int status, const char *reason,
		     const char *headers, const char *body_type,
		     const void *body, size_t body_len, unsigned flags);
int sip_dialog_invite(const struct sip_request_spec *spec,
		      const struct sip_dialog_ops *ops, void *arg,
		      struct sip_dialog **out);
int sip_dialog_request(struct sip_dialog *d, const char *method,
		       const char *headers, const char *body_type,
		       const void *body, size_t body_len, sip_response_cb cb,
		       void *arg);
int sip_dialog_end(struct sip_dialog *d);
void sip_dialog_release(struct sip_dialog *d);
int sip_dialog_info(const struct sip_dialog *d, struct sip_dialog_info *info);
struct sip_dialog *sip_dialog_replaced(const struct sip_message *invite);
int sip_dialog_set_next_hop(struct sip_dialog *d, const char *next_hop);

#endif /* SIP_SERVICE_INT_H */
