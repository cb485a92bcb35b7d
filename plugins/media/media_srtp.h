/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * media_srtp: SRTP / SRTCP (RFC 3711) over libsrtp2, keyed by SDP Security
 * Descriptions (SDES, RFC 4568).
 *
 * Crypto suites:
 *   AES_CM_128_HMAC_SHA1_80  RFC 4568 6.2.1   key 16 + salt 14, tag 10
 *   AES_CM_128_HMAC_SHA1_32  RFC 4568 6.2.2   key 16 + salt 14, tag 4
 *                            (SRTCP keeps the 10-octet tag, RFC 4568 6.2.2)
 *   AEAD_AES_128_GCM         RFC 7714 14.2    key 16 + salt 12, tag 16
 *
 * A session holds two libsrtp contexts: one keyed by our a=crypto line
 * (protects what we send, any SSRC) and one keyed by the peer's (checks
 * what we receive, any SSRC).  Replay protection is libsrtp's (a 128
 * packet window per SSRC); the master key lifetime of the a=crypto line
 * is enforced here, per direction, for SRTP and SRTCP separately.
 *
 * Ownership: media_srtp_new() allocates and media_srtp_free() frees.  A
 * session may be used by one thread at a time.  libsrtp is initialised
 * once per process, on first use.
 */
#ifndef TANDEM_MEDIA_SRTP_H
#define TANDEM_MEDIA_SRTP_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

enum media_srtp_suite {
	MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80,
	MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32,
	MEDIA_SRTP_AEAD_AES_128_GCM,
	MEDIA_SRTP_SUITE_COUNT
};

#define MEDIA_SRTP_MAX_KEY_SALT	30	/* octets of master key || salt */
#define MEDIA_SRTP_MAX_MKI_LEN	8	/* octets; RFC 4568 allows 128 */
/* Room past the end of a packet that protect needs (libsrtp writes up to
 * SRTP_MAX_TRAILER_LEN, plus the SRTCP index). */
#define MEDIA_SRTP_HEADROOM	(16 + 128 + 4)
/* Longest a=crypto line media_srtp_crypto_format() writes, with NUL. */
#define MEDIA_SRTP_CRYPTO_LINE_MAX 128

/*
 * Error codes.  Parsing an a=crypto line:
 *   -EINVAL           not the RFC 4568 9.1 syntax
 *   -ERANGE           tag over 9 digits, lifetime over the suite's limit,
 *                     MKI length outside 1..128 or value too big for it
 *   -EPROTONOSUPPORT  unknown crypto suite
 *   -EKEYREJECTED     key||salt not base64, or not the suite's length
 *   -ENOTSUP          valid but not supported here: a key method other
 *                     than inline, several keys, session parameters, an
 *                     MKI over MEDIA_SRTP_MAX_MKI_LEN octets
 * Protecting and unprotecting:
 *   MEDIA_SRTP_ERR_AUTH    authentication failed (tampered, wrong key)
 *   MEDIA_SRTP_ERR_REPLAY  replayed or too old for the replay window
 *   -EKEYEXPIRED           the master key lifetime is used up
 *   -ENOSPC                not MEDIA_SRTP_HEADROOM free after the packet
 *   -EINVAL                not an RTP / RTCP packet, or a bad MKI
 *   -EIO                   any other libsrtp failure
 */
#define MEDIA_SRTP_ERR_AUTH	(-EBADMSG)
#define MEDIA_SRTP_ERR_REPLAY	(-EALREADY)

/* One a=crypto attribute (RFC 4568 9.1) with one inline key. */
struct media_srtp_crypto {
	uint32_t tag;			/* 0..999999999 */
	enum media_srtp_suite suite;
	uint8_t key_salt[MEDIA_SRTP_MAX_KEY_SALT];
	size_t key_salt_len;
	uint64_t lifetime;		/* packets; 0: not given (suite max) */
	uint64_t mki_value;
	unsigned mki_len;		/* octets; 0: no MKI */
};

const char *media_srtp_suite_name(enum media_srtp_suite suite);
/* Octets of master key || salt the suite needs. */
size_t media_srtp_suite_key_salt_len(enum media_srtp_suite suite);

/*
 * Parse an a=crypto attribute: "a=crypto:<value>", "crypto:<value>" or
 * just the value ("1 AES_CM_128_HMAC_SHA1_80 inline:...|2^31|1:1"), with
 * or without a trailing CRLF.  Returns 0 or an error code above.
 */
int media_srtp_crypto_parse(const char *line, struct media_srtp_crypto *out);

/*
 * Write "a=crypto:<tag> <suite> inline:<key||salt>[|<lifetime>][|<mki>]"
 * (no CRLF) into buf.  A lifetime that is a power of two is written
 * "2^n".  Returns the length written, -EINVAL or -ENOSPC.
 */
int media_srtp_crypto_format(const struct media_srtp_crypto *crypto,
			     char *buf, size_t size);

/* Fill *out with a fresh random key for the suite (getrandom(2)), no
 * lifetime, no MKI.  Returns 0, -EINVAL or -EIO. */
int media_srtp_crypto_generate(uint32_t tag, enum media_srtp_suite suite,
			       struct media_srtp_crypto *out);

struct media_srtp;

/*
 * A session: `local` protects what we send, `remote` (the peer's line)
 * unprotects what we receive.  Either may be NULL for a one-way session.
 * Returns 0, -EINVAL, -ENOMEM or -EIO (libsrtp refused the policy).
 */
int media_srtp_new(const struct media_srtp_crypto *local,
		   const struct media_srtp_crypto *remote,
		   struct media_srtp **out);
void media_srtp_free(struct media_srtp *srtp);

/*
 * In place: *len is the packet length in and out; cap the buffer size
 * (protect needs MEDIA_SRTP_HEADROOM past the packet).
 * Return 0 or an error code above.
 */
int media_srtp_protect_rtp(struct media_srtp *srtp, uint8_t *pkt,
			   size_t *len, size_t cap);
int media_srtp_unprotect_rtp(struct media_srtp *srtp, uint8_t *pkt,
			     size_t *len);
int media_srtp_protect_rtcp(struct media_srtp *srtp, uint8_t *pkt,
			    size_t *len, size_t cap);
int media_srtp_unprotect_rtcp(struct media_srtp *srtp, uint8_t *pkt,
			      size_t *len);

/* Release libsrtp's global state (its crypto back end's too), once, when
 * the last session is gone: the plugin's fini. */
void media_srtp_library_fini(void);

#endif /* TANDEM_MEDIA_SRTP_H */
