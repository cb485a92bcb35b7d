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

struct sip_msg;
struct sip_txn;
struct sip_buf;

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
/* A CANCEL for a server INVITE transaction a handler owns. */
bool sip_service_cancel(struct sip_txn *ist);
/* A response that matched no client transaction (2xx retransmissions). */
bool sip_service_stray_response(struct sip_msg *m);
void sip_service_fini(void);

#endif /* SIP_SERVICE_INT_H */
