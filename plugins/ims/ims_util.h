/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ims_util.h - text helpers the P-, I- and S-CSCF share: a growing
 * buffer, SIP header and URI pieces, Digest parameters, base64, MD5 and
 * random tokens. Never installed; linked into each CSCF plugin.
 *
 * Ownership: every function writes into buffers the caller owns and
 * sizes; none keeps a pointer past its return. Results are 0 or a
 * negative errno (-ENOENT: not there, -ENOSPC: does not fit, -EINVAL:
 * malformed).
 */
#ifndef TANDEM_IMS_UTIL_H
#define TANDEM_IMS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/plugin.h"
#include "tandem/sip.h"

#define IMS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Sizes of the fixed buffers used for identities and header values. */
#define IMS_URI_MAX 256
#define IMS_HDR_MAX 1024

/* ---- A growing text buffer, always NUL-terminated once written ----------- */

struct ims_buf {
	char *data;
	size_t len, cap;
	bool failed; /* an allocation failed: the content is incomplete */
};

void ims_buf_add(struct ims_buf *b, const void *data, size_t len);
void ims_buf_str(struct ims_buf *b, const char *s);
void ims_buf_printf(struct ims_buf *b, const char *fmt, ...) TND_PRINTF(2, 3);
/* The text so far ("" when nothing was written). */
const char *ims_buf_cstr(const struct ims_buf *b);
void ims_buf_free(struct ims_buf *b);

/* ---- Strings ------------------------------------------------------------- */

/* A NUL-terminated copy of a text view; NULL when out of memory. */
char *ims_text_dup(struct sip_text t);
/* Copy a view into buf: 0 or -ENOSPC. */
int ims_text_copy(struct sip_text t, char *buf, size_t size);
/* snprintf that reports truncation: 0 or -ENOSPC. */
int ims_fmt(char *buf, size_t size, const char *fmt, ...) TND_PRINTF(3, 4);
/* Case-insensitive prefix test. */
bool ims_prefix(const char *s, const char *prefix);
/* The free()-able copy of s (NULL for NULL); sets *failed on ENOMEM. */
char *ims_strdup(const char *s);

/* ---- SIP header values --------------------------------------------------- */

/*
 * The next element of a comma-separated header value starting at *p
 * (commas inside <> and "" do not split), trimmed, into elem. Returns
 * false at the end of the list; *p moves past the element.
 */
bool ims_list_next(const char **p, char *elem, size_t size);

/* The URI of a name-addr or addr-spec ("Bob" <sip:b@x>;tag=1 gives
 * sip:b@x; sip:b@x;tag=1 gives sip:b@x). */
int ims_uri_of(const char *value, char *uri, size_t size);
/* A header parameter after the URI part (";tag=", ";expires="); an
 * empty value for a parameter without one. */
int ims_hparam(const char *value, const char *name, char *out, size_t size);
/* A URI parameter (sip:x@y;lr;odi=42 -> odi gives 42). */
int ims_uparam(const char *uri, const char *name, char *out, size_t size);
/* The value without its ";tag=..." parameter (From/To for a new leg). */
int ims_strip_tag(const char *value, char *out, size_t size);

/*
 * The address-of-record form of a SIP or tel URI, to compare identities:
 * scheme, user and host, host lower-cased, port, parameters and headers
 * dropped (sip:Alice@IMS.Lab:5060;transport=udp -> sip:Alice@ims.lab);
 * tel URIs keep their number only. -EINVAL when not a sip/sips/tel URI.
 */
int ims_aor(const char *uri, char *out, size_t size);
/* The host part of a sip URI (no port), lower case. */
int ims_uri_host(const char *uri, char *out, size_t size);
/* The user part of a sip URI; -ENOENT without one. */
int ims_uri_user(const char *uri, char *out, size_t size);
/* "udp:HOST:PORT" next hop for a sip URI (its transport parameter, host
 * and port, 5060 by default), for the sip service's next_hop. */
int ims_uri_hop(const char *uri, char *out, size_t size);

/* A Digest parameter of an Authorization or WWW-Authenticate value
 * (name=token or name="quoted"), unquoted. */
int ims_auth_param(const char *value, const char *name, char *out, size_t size);

/* The Authorization/WWW-Authenticate value without parameter `name`
 * (P-CSCF: ck and ik out of a 401, a UE's integrity-protected out). */
int ims_auth_param_del(const char *value, const char *name, char *out,
		       size_t size);

/* ---- Encodings and digests ----------------------------------------------- */

/* base64 of len bytes into out (NUL-terminated): 0 or -ENOSPC. */
int ims_b64_encode(const uint8_t *in, size_t len, char *out, size_t size);
/* Decoded length, or -EINVAL / -ENOSPC. */
int ims_b64_decode(const char *in, uint8_t *out, size_t size);
/* Lower-case hex of len bytes: 0 or -ENOSPC. */
int ims_hex(const uint8_t *in, size_t len, char *out, size_t size);
/* MD5 of the concatenated pieces (NULL-ended list), as 32 hex digits. */
void ims_md5_hex(char out[33], const void *first, size_t first_len, ...);
/* A random token of size-1 characters [0-9a-z] (RFC 3261 tags). */
void ims_token(char *out, size_t size);

/* ---- Time ---------------------------------------------------------------- */

/* Wall-clock seconds (registrations are stored with absolute expiry). */
int64_t ims_now_s(void);

#endif /* TANDEM_IMS_UTIL_H */
