/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_scan: a fast, strict look at a SIP message as bytes, before and
 * beside libosip2's parser.
 *
 * It frames messages on streams (RFC 3261 18.3: by Content-Length), finds
 * the start line and every header line with their offsets in the buffer,
 * and applies the syntax rules libosip2 is lenient about (RFC 4475): one SP
 * between request-line elements, a 3-digit status code, scalar ranges,
 * duplicated single-value headers, Content-Length. A rejected message
 * carries the status a request gets (400, 505, 416) and a reason for the
 * log. The offsets let the proxy forward the received bytes with targeted
 * edits and let the core answer messages libosip2 could not parse.
 *
 * Nothing here allocates; spans point into the caller's buffer.
 */
#ifndef SIP_SCAN_H
#define SIP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Headers the core looks at by id; the rest are SIP_H_OTHER. */
enum sip_hdr_id {
	SIP_H_OTHER = 0,
	SIP_H_VIA,
	SIP_H_FROM,
	SIP_H_TO,
	SIP_H_CALL_ID,
	SIP_H_CSEQ,
	SIP_H_MAX_FORWARDS,
	SIP_H_CONTENT_LENGTH,
	SIP_H_CONTENT_TYPE,
	SIP_H_ROUTE,
	SIP_H_RECORD_ROUTE,
	SIP_H_CONTACT,
	SIP_H_REQUIRE,
	SIP_H_PROXY_REQUIRE,
	SIP_H_SUPPORTED,
	SIP_H_EXPIRES,
	SIP_H_ACCEPT,
	SIP_H_DATE,
	SIP_H_RETRY_AFTER,
	SIP_H_WARNING,
	SIP_H_RSEQ,
	SIP_H_RACK,
	SIP_H_PATH,
	SIP_H_SERVICE_ROUTE,
	SIP_H_SESSION_EXPIRES,
	SIP_H_MIN_SE,
	SIP_H_ALLOW,
	SIP_H__COUNT
};

struct sip_span {
	uint32_t off;
	uint32_t len;
};

struct sip_hdr {
	struct sip_span name;
	struct sip_span value; /* trimmed; may contain folded CRLF SP */
	struct sip_span line;  /* from the name to after its last CRLF */
	uint8_t id;	       /* enum sip_hdr_id */
};

/* Header lines kept per message; more is a 400 (RFC 3261 21.4.1). */
#define SIP_SCAN_MAX_HDRS 160

struct sip_scan {
	const char *buf; /* the message; not owned */
	size_t len;      /* whole message as framed, body included */
	bool request;
	/* request line */
	struct sip_span method, ruri;
	/* status line */
	int status;
	struct sip_span reason;
	struct sip_span version;
	struct sip_span start_line; /* without its CRLF */
	uint32_t head_end;  /* offset of the empty line ending the headers */
	uint32_t body_off;
	uint32_t body_len;
	long content_length; /* -1 when absent */
	uint16_t nhdrs;
	uint16_t count[SIP_H__COUNT]; /* header lines per id */
	int16_t first[SIP_H__COUNT];  /* index of the first line, or -1 */
	struct sip_hdr hdrs[SIP_SCAN_MAX_HDRS];
	/* set when sip_scan()/sip_scan_check() reject */
	int reject;	    /* status for a request: 400, 505, 416; 0 */
	const char *why;    /* static text for the log and the reason */
};

enum sip_frame_flags {
	SIP_FRAME_NO_LENGTH = 1 << 0,  /* no Content-Length: body taken empty */
	SIP_FRAME_BAD_LENGTH = 1 << 1, /* Content-Length unusable: the length
					* returned covers the headers only */
};

/*
 * Frame one message at the start of a stream buffer. Returns its length
 * (headers and body), 0 when more bytes are needed, or -1 when the bytes
 * cannot be a message within `max` bytes (*why says why). *flags gets
 * enum sip_frame_flags.
 */
long sip_frame(const char *buf, size_t len, size_t max, const char **why,
	       unsigned *flags);

/*
 * Scan one message. `datagram`: the body is what follows the headers and
 * a Content-Length beyond it is an error (RFC 3261 18.3); bytes after the
 * Content-Length are ignored. Returns 0, or -1 with s->reject / s->why
 * set (s->reject is 0 when not even a response could be built).
 */
int sip_scan(struct sip_scan *s, const char *buf, size_t len, bool datagram);

/*
 * The semantic checks of RFC 3261 and RFC 4475 that need only the bytes:
 * required and single-value headers, scalar ranges, CSeq method, Date,
 * Request-URI scheme and form. Returns 0 or -1 with reject/why set.
 * `known_method` tells whether the request method is one we implement
 * (an unknown one with a mismatched CSeq gets 501, RFC 4475 3.1.2.17).
 */
int sip_scan_check(struct sip_scan *s, bool known_method);

/*
 * What libosip2 may parse differs from the bytes in two ways: NUL bytes in
 * the headers become spaces (libosip2 stops at them; RFC 4475 3.1.1.1
 * quotes one), and a multipart Content-Type is renamed so libosip2 keeps
 * the body whole (its MIME parser leaks on malformed parts, found by
 * fuzz_sip_msg). sip_osip_needs_copy() says whether a copy is needed;
 * sip_osip_fix() edits a writable copy of s->buf in place.
 */
bool sip_osip_needs_copy(const struct sip_scan *s);
void sip_osip_fix(const struct sip_scan *s, char *copy);

/* Header lookup by id: the n-th line of that header, or NULL. */
const struct sip_hdr *sip_scan_hdr(const struct sip_scan *s,
				   enum sip_hdr_id id, unsigned n);
/* By name (case-insensitive, compact forms too): the first line or NULL. */
const struct sip_hdr *sip_scan_find(const struct sip_scan *s,
				    const char *name);

static inline const char *sip_span_ptr(const struct sip_scan *s,
				       struct sip_span sp)
{
	return s->buf + sp.off;
}

/* Case-insensitive comparison of a span with a C string. */
bool sip_span_eq(const struct sip_scan *s, struct sip_span sp,
		 const char *text);

/* enum sip_hdr_id of a header name (full or compact form). */
enum sip_hdr_id sip_hdr_lookup(const char *name, size_t len);

/* The parts of a Via value (RFC 3261 20.42) the transport layer needs. */
struct sip_via {
	struct sip_span transport; /* "UDP", "TCP", ... */
	struct sip_span host;	   /* without brackets for IPv6 */
	int port;		   /* 0 when absent */
	struct sip_span branch;	   /* empty when absent */
	struct sip_span received;
	bool rport;		   /* rport present (with or without value) */
	bool rport_value;	   /* rport=N */
	int rport_port;		   /* N, or 0 */
	uint32_t rport_end;	   /* offset after the name "rport" */
	struct sip_span maddr;
	bool alias;		   /* RFC 5923 */
	uint32_t end;		   /* offset after this via-parm */
	bool more;		   /* another via-parm follows a comma */
};

/*
 * Parse the via-parm starting at `off` (the start of a Via value or just
 * after a comma). Returns 0 or -1 when it is not a valid via-parm.
 */
int sip_via_parse(const struct sip_scan *s, uint32_t off, uint32_t end,
		  struct sip_via *via);

/* Is `c` a token character (RFC 3261 25.1)? */
bool sip_is_token_char(unsigned char c);

#endif /* SIP_SCAN_H */
