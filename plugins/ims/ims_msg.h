/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ims_msg.h - an editable copy of a SIP message: its start line, every
 * header line as received (name, value), and its body. The CSCFs take one
 * of each request they pass on and of each response they relay, change
 * headers (Path, Route, P-Asserted-Identity...) and hand it to the sip
 * service again (send_request / reply).
 *
 * The sip service forwards messages as received (sip.h's proxy()) but
 * cannot add or remove headers on the way; this copy is how the CSCFs
 * edit them. Header values are the received text (Authorization keeps
 * parameters libosip2 would drop, such as auts and integrity-protected).
 *
 * Ownership: an ims_msg owns all its strings; ims_msg_free() releases
 * them. Pointers returned by ims_msg_get() are valid until the header is
 * removed or the message freed.
 */
#ifndef TANDEM_IMS_MSG_H
#define TANDEM_IMS_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "tandem/sip.h"

#include "ims_util.h"

struct ims_hdr {
	/* canonical form: "P-Asserted-Identity"; a name of the library's
	 * table is not copied (own_name false) */
	const char *name;
	char *value; /* one header line's value, as received */
	bool own_name;
};

struct ims_msg {
	char *method; /* request method; for a response its CSeq method */
	char *ruri;   /* requests only */
	int status;   /* responses only; 0 for a request */
	char *reason; /* responses only */
	struct ims_hdr *hdrs;
	size_t nhdrs, cap;
	char *body;
	size_t body_len;
	char source[80]; /* "UDP 127.0.0.1:5060" */
};

/*
 * Copy `m` (a request handed to a handler, or a response in a response
 * callback: the libosip2 message must be there). Returns 0 or -ENOMEM /
 * -EINVAL.
 */
int ims_msg_take(const struct sip_service *sip, const struct sip_message *m,
		 struct ims_msg *out);
void ims_msg_free(struct ims_msg *m);

/* The idx-th line of header `name` (case-insensitive), or NULL. */
const char *ims_msg_get(const struct ims_msg *m, const char *name,
			unsigned idx);
/* Count of lines of header `name`. */
unsigned ims_msg_count(const struct ims_msg *m, const char *name);
/* Remove every line of header `name`. */
void ims_msg_del(struct ims_msg *m, const char *name);
/* Append a line (after the others); or, with `first`, put it before the
 * other lines of that name (a Route to go first). 0 or -ENOMEM. */
int ims_msg_add(struct ims_msg *m, const char *name, const char *value,
		bool first);
/* Remove the first line of header `name`. */
void ims_msg_del_first(struct ims_msg *m, const char *name);
/* Replace every line of `name` by one line `value`. */
int ims_msg_set(struct ims_msg *m, const char *name, const char *value);
/* Replace the idx-th line's value. */
int ims_msg_replace(struct ims_msg *m, const char *name, unsigned idx,
		    const char *value);
/* Replace the body (NULL, 0: none). */
int ims_msg_set_body(struct ims_msg *m, const void *body, size_t len);

/*
 * Render "Name: value\r\n" for every header line except those named in
 * `skip` (NULL-ended, case-insensitive), in order, into b.
 */
void ims_msg_headers(const struct ims_msg *m, const char *const *skip,
		     struct ims_buf *b);

/* The URI of the first From / To value, and their tags ("" without). */
int ims_msg_from_uri(const struct ims_msg *m, char *uri, size_t size);
int ims_msg_to_uri(const struct ims_msg *m, char *uri, size_t size);
int ims_msg_tag(const struct ims_msg *m, const char *name, char *tag,
		size_t size);
/* The CSeq number (0 when missing). */
uint32_t ims_msg_cseq(const struct ims_msg *m);
/* The Content-Type value or NULL. */
const char *ims_msg_content_type(const struct ims_msg *m);

#endif /* TANDEM_IMS_MSG_H */
