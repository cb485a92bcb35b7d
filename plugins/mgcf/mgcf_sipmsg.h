/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf_sipmsg: reading the header values a B2BUA keeps from a dialog's
 * messages (RFC 3261 20): tags, name-addrs, URIs, lists, option tags, and
 * the body of SIP INFO digits. Host independent: pieces of text in, NUL
 * terminated copies out.
 */
#ifndef MGCF_SIPMSG_H
#define MGCF_SIPMSG_H

#include <stdbool.h>
#include <stddef.h>

/* The tag parameter of a From/To value (outside <>): 0 or -ENOENT. */
int mgcf_hdr_tag(const char *v, size_t len, char *out, size_t size);
/* The From/To value without its tag parameter. */
int mgcf_hdr_without_tag(const char *v, size_t len, char *out, size_t size);
/* The URI of a name-addr or addr-spec (inside <>, or up to ';'). */
int mgcf_hdr_uri(const char *v, size_t len, char *out, size_t size);

/*
 * The `index`-th element of a comma separated header value (Record-Route,
 * Supported), commas inside <> and quotes not counting. Sets *elem and
 * *elen; 0 or -ENOENT.
 */
int mgcf_hdr_element(const char *v, size_t len, unsigned index,
		     const char **elem, size_t *elen);
/* An option tag ("100rel") in a Supported/Require value. */
bool mgcf_hdr_has_tag(const char *v, size_t len, const char *tag);

/* Who refreshes a session (RFC 4028 4: the refresher parameter). */
enum mgcf_refresher {
	MGCF_REFRESHER_NONE = 0, /* not said: the UAS chooses */
	MGCF_REFRESHER_UAC,
	MGCF_REFRESHER_UAS,
};

/*
 * A Session-Expires value (RFC 4028 4): "1800;refresher=uac". 0 with
 * *secs and *refresher set, or -EINVAL (no delta-seconds, or one that is
 * 0 or too large).
 */
int mgcf_session_expires(const char *v, size_t len, unsigned *secs,
			 enum mgcf_refresher *refresher);

/*
 * application/dtmf-relay (the common SIP INFO body): "Signal=5\r\n
 * Duration=160". 0 with *digit and *duration_ms set, or -EINVAL.
 */
int mgcf_dtmf_relay(const char *body, size_t len, char *digit,
		    unsigned *duration_ms);

#endif /* MGCF_SIPMSG_H */
