/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * media_dtls: DTLS-SRTP (RFC 5764) on OpenSSL: the handshake on an RTP
 * leg's 5-tuple, the peer's certificate checked against the SDP
 * fingerprint (RFC 8122), the SRTP master keys exported from it.
 *
 * One context per process holds our key (ECDSA P-256), a self-signed
 * certificate and its SHA-256 fingerprint for a=fingerprint. One
 * media_dtls per leg runs the handshake over memory BIOs: the caller
 * feeds received datagrams and sends what comes out.
 *
 * Ownership: *_new() allocates, *_free() frees. A context may be shared
 * by threads once made; a media_dtls is used by one thread at a time.
 */
#ifndef TANDEM_MEDIA_DTLS_H
#define TANDEM_MEDIA_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media_srtp.h"

/* "sha-256 " and 32 octets as hex pairs joined by ':' */
#define MEDIA_DTLS_FINGERPRINT_MAX	(8 + 32 * 3)

struct media_dtls_ctx;
struct media_dtls;

/* Our key and certificate (valid 30 days from now). 0, -ENOMEM or -EIO. */
int media_dtls_ctx_new(struct media_dtls_ctx **out);
void media_dtls_ctx_free(struct media_dtls_ctx *ctx);
/* "sha-256 AB:CD:..." (RFC 8122 5), valid while the context lives. */
const char *media_dtls_fingerprint(const struct media_dtls_ctx *ctx);

/* RFC 7983: a datagram on an RTP port whose first octet is 20..63 is DTLS. */
bool media_dtls_is_dtls(const uint8_t *pkt, size_t len);

/*
 * A handshake: `client` (a=setup:active) sends the first flight at once.
 * `fingerprint` is the peer's a=fingerprint value ("sha-256 AB:..."),
 * copied. Returns 0, -EINVAL (not a SHA-256 fingerprint), -ENOMEM.
 */
int media_dtls_new(struct media_dtls_ctx *ctx, bool client,
		   const char *fingerprint, struct media_dtls **out);
void media_dtls_free(struct media_dtls *d);

/* A datagram from the peer. Returns 1 when the handshake has just
 * completed with the right certificate, 0 while it goes on, -EPROTO when
 * it failed (a wrong fingerprint included). */
int media_dtls_input(struct media_dtls *d, const uint8_t *pkt, size_t len);
/* Retransmission timers (RFC 6347 4.2.4): call every tick. */
void media_dtls_tick(struct media_dtls *d);
/* The next datagram to send, or 0 when none. */
int media_dtls_output(struct media_dtls *d, uint8_t *buf, size_t size);
bool media_dtls_done(const struct media_dtls *d);

/* After completion: our master key (to protect) and the peer's (to
 * unprotect), as a=crypto would carry them. 0 or -EPROTO. */
int media_dtls_keys(struct media_dtls *d, struct media_srtp_crypto *local,
		    struct media_srtp_crypto *remote);

#endif /* TANDEM_MEDIA_DTLS_H */
