/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_core: every framed message comes here. Requests are matched to
 * their server transaction (retransmissions, ACK, CANCEL) or start a new
 * one; responses go to their client transaction or, unmatched, to the
 * proxy's stateless path. New requests go to a handler another plugin
 * registered, to the proxy, or to the default UAS answers of RFC 3261
 * 8.2 (which is what the torture tests of RFC 4475 meet on a bare node).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sip_int.h"
#include "sip_service_int.h"

/* ---- Default UAS (RFC 3261 8.2) ------------------------------------------------ */

static const char *const local_methods =
	"INVITE, ACK, BYE, CANCEL, OPTIONS";

/* Comma-separated tokens of every line of a header; calls `fn` on each
 * and stops when it returns true. */
static bool each_token(const struct sip_msg *m, enum sip_hdr_id id,
		       bool (*fn)(const char *p, size_t n, void *arg),
		       void *arg)
{
	const struct sip_scan *s = m->scan;

	for (unsigned k = 0; k < s->count[id]; k++) {
		const struct sip_hdr *h = sip_scan_hdr(s, id, k);
		const char *p = m->raw + h->value.off;
		const char *end = p + h->value.len;

		while (p < end) {
			const char *comma = memchr(p, ',', (size_t)(end - p));
			const char *e = comma ? comma : end;
			const char *q = p;

			while (q < e && strchr(" \t\r\n", *q))
				q++;
			while (e > q && strchr(" \t\r\n", e[-1]))
				e--;
			if (e > q && fn(q, (size_t)(e - q), arg))
				return true;
			p = comma ? comma + 1 : end;
		}
	}
	return false;
}

static bool collect_tag(const char *p, size_t n, void *arg)
{
	struct sip_buf *b = arg;

	if (!sip_service_supports(p, n)) {
		if (b->len)
			sip_buf_str(b, ", ");
		sip_buf_add(b, p, n);
	}
	return false;
}

/* RFC 3261 8.2.2.3: 420 naming the option tags we do not support. */
static bool require_unsupported(struct sip_msg *m, struct sip_txn *t)
{
	struct sip_buf tags = { 0 }, hdr = { 0 };

	if (m->method == SIP_M_CANCEL || m->method == SIP_M_ACK)
		return false;
	each_token(m, SIP_H_REQUIRE, collect_tag, &tags);
	if (!tags.len) {
		sip_buf_free(&tags);
		return false;
	}
	sip_buf_printf(&hdr, "Unsupported: %s\r\n", tags.data);
	sip_txn_respond(t, 420, NULL, hdr.failed ? NULL : hdr.data, NULL,
			NULL, 0);
	sip_buf_free(&tags);
	sip_buf_free(&hdr);
	return true;
}

static bool media_is_sdp(const char *p, size_t n)
{
	size_t k = 0;

	while (k < n && p[k] != ';' && p[k] != ' ' && p[k] != '\t')
		k++;
	return k == 15 && strncasecmp(p, "application/sdp", 15) == 0;
}

static bool accepts_sdp(const char *p, size_t n, void *arg)
{
	size_t k = 0;

	(void)arg;
	while (k < n && p[k] != ';' && p[k] != ' ' && p[k] != '\t')
		k++;
	return media_is_sdp(p, n) ||
	       (k == 3 && strncmp(p, "*/*", 3) == 0) ||
	       (k == 13 && strncasecmp(p, "application/*", 13) == 0);
}

/* RFC 3261 8.2.3: a body we cannot read is a 415 listing what we can. */
static bool content_unsupported(struct sip_msg *m, struct sip_txn *t)
{
	const struct sip_hdr *ct = sip_scan_hdr(m->scan, SIP_H_CONTENT_TYPE,
						0);

	if (!m->scan->body_len)
		return false;
	if (ct && media_is_sdp(m->raw + ct->value.off, ct->value.len))
		return false;
	sip_txn_respond(t, 415, NULL, "Accept: application/sdp\r\n", NULL,
			NULL, 0);
	return true;
}

/* An INVITE whose Accept excludes SDP cannot get an answer it reads
 * (RFC 4475 3.3.15): 406. */
static bool answer_not_acceptable(struct sip_msg *m, struct sip_txn *t)
{
	if (m->method != SIP_M_INVITE || !m->scan->count[SIP_H_ACCEPT])
		return false;
	if (each_token(m, SIP_H_ACCEPT, accepts_sdp, NULL))
		return false;
	sip_txn_respond(t, 406, NULL, "Accept: application/sdp\r\n", NULL,
			NULL, 0);
	return true;
}

static void allow_header(struct sip_buf *b)
{
	sip_buf_printf(b, "Allow: %s", local_methods);
	sip_service_allow(b);
	sip_buf_str(b, "\r\n");
}

static void uas_default(struct sip_msg *m, struct sip_txn *t)
{
	struct sip_buf hdr = { 0 };

	switch (m->method) {
	case SIP_M_OTHER:
		/* RFC 3261 21.5.2: a method we do not recognise */
		allow_header(&hdr);
		sip_txn_respond(t, 501, NULL, hdr.data, NULL, NULL, 0);
		break;
	case SIP_M_INVITE:
	case SIP_M_OPTIONS:
	case SIP_M_BYE:
		if (require_unsupported(m, t) || content_unsupported(m, t) ||
		    answer_not_acceptable(m, t))
			break;
		if (m->method == SIP_M_OPTIONS) {
			/* RFC 3261 11.2 */
			allow_header(&hdr);
			sip_buf_str(&hdr, "Accept: application/sdp\r\n");
			sip_service_supported(&hdr);
			sip_txn_respond(t, 200, NULL, hdr.data, NULL, NULL, 0);
		} else if (m->method == SIP_M_INVITE) {
			/* nobody here takes calls */
			sip_txn_respond(t, 480, NULL, NULL, NULL, NULL, 0);
		} else {
			/* RFC 3261 15.1.2: BYE outside any dialog */
			sip_txn_respond(t, 481, NULL, NULL, NULL, NULL, 0);
		}
		break;
	default:
		/* RFC 3261 8.2.1: understood but not offered here */
		allow_header(&hdr);
		sip_txn_respond(t, 405, NULL, hdr.data, NULL, NULL, 0);
		break;
	}
	sip_buf_free(&hdr);
}

void sip_core_uas(struct sip_msg *m, struct sip_txn *t)
{
	if (!t) {
		t = sip_txn_server_new(m, NULL, NULL);
		if (!t)
			return;
	}
	if (sip_service_request(m, t))
		return;
	uas_default(m, t);
}

/* ---- Requests ---------------------------------------------------------------- */

static void ack_input(struct sip_msg *m)
{
	struct sip_txn *t = sip_txn_match_request(m);

	if (t) {
		/* the ACK of a non-2xx final response: RFC 3261 17.2.1 */
		sip_txn_input(t, m);
		return;
	}
	if (sip_txn_absorb(m))
		return;
	/* an ACK for a 2xx is a transaction of its own (RFC 3261 17.1.1.3) */
	if (sip_service_ack(m))
		return;
	if (sip_mode != SIP_MODE_ENDPOINT) {
		sip_proxy_request(m, NULL);
		return;
	}
	tnd_debug("ACK matches no transaction: absorbed");
}

static const struct sip_txn_ops cancel_ops; /* no callbacks needed */

/* RFC 3261 9.2: answer the CANCEL, then cancel the INVITE it names. */
static void cancel_input(struct sip_msg *m)
{
	struct sip_txn *ist = sip_txn_match_cancelled(m);
	struct sip_txn *t;

	if (!ist && sip_mode == SIP_MODE_PROXY) {
		/* RFC 3261 16.10: no context: forward it statefully */
		t = sip_txn_server_new(m, NULL, NULL);
		if (t)
			sip_proxy_request(m, t);
		return;
	}
	if (!ist && sip_mode == SIP_MODE_STATELESS) {
		sip_proxy_request(m, NULL);
		return;
	}
	t = sip_txn_server_new(m, &cancel_ops, NULL);
	if (!t)
		return;
	if (!ist || ist->kind != SIP_IST) {
		sip_txn_respond(t, 481, NULL, NULL, NULL, NULL, 0);
		return;
	}
	sip_txn_respond(t, 200, NULL, NULL, NULL, NULL, 0);
	if (sip_txn_is_final(ist))
		return;
	if (sip_service_cancel(ist, m) || sip_proxy_cancel(ist))
		return;
	sip_txn_respond(ist, 487, NULL, NULL, NULL, NULL, 0);
}

static bool has_to_tag(const struct sip_msg *m)
{
	osip_generic_param_t *tag = NULL;

	osip_to_get_tag(m->osip->to, &tag);
	return tag != NULL;
}

static void new_request(struct sip_msg *m)
{
	struct sip_txn *t;

	/* RFC 3261 12.2.2: a request in a dialog we do not have */
	if (sip_mode == SIP_MODE_ENDPOINT && has_to_tag(m) &&
	    !sip_service_claims(m)) {
		sip_reply_stateless(m, 481, NULL, NULL);
		return;
	}

	if (sip_mode == SIP_MODE_ENDPOINT || sip_service_claims(m)) {
		sip_core_uas(m, NULL);
		return;
	}
	if (sip_mode == SIP_MODE_STATELESS) {
		sip_proxy_request(m, NULL);
		return;
	}
	t = sip_txn_server_new(m, NULL, NULL);
	if (!t)
		return;
	/* RFC 3261 16.2: a proxy answers INVITE with 100 at once */
	if (m->method == SIP_M_INVITE)
		sip_txn_respond(t, 100, NULL, NULL, NULL, NULL, 0);
	sip_proxy_request(m, t);
}

static void request_input(struct sip_msg *m)
{
	struct sip_txn *t;

	sip_count(sip_stats.rx_req[m->method]);
	if (m->method == SIP_M_ACK) {
		ack_input(m);
		return;
	}
	t = sip_txn_match_request(m);
	if (t) {
		sip_txn_input(t, m); /* a retransmission */
		return;
	}
	if (sip_txn_absorb(m))
		return;
	if (m->method != SIP_M_CANCEL && sip_dialog_input(m))
		return;
	if (m->method == SIP_M_CANCEL) {
		cancel_input(m);
		return;
	}
	new_request(m);
}

/* ---- Responses -------------------------------------------------------------- */

static void response_input(struct sip_msg *m)
{
	int code = m->osip->status_code;
	struct sip_txn *t;

	sip_count(sip_stats.rx_rsp[code / 100]);
	t = sip_txn_match_response(m);
	if (t) {
		sip_txn_input(t, m);
		return;
	}
	if (sip_txn_absorb(m))
		return;
	sip_count(sip_stats.rx_stray_rsp);
	if (sip_service_stray_response(m))
		return;
	if (sip_mode != SIP_MODE_ENDPOINT) {
		sip_proxy_stray_response(m);
		return;
	}
	tnd_debug("a %d response matches no transaction: discarded", code);
}

void sip_core_input(const char *raw, size_t len, const struct sip_peer *src,
		    unsigned flags)
{
	static struct sip_scan scan; /* the loop processes one at a time */
	struct sip_msg m = {
		.raw = raw, .len = len, .scan = &scan, .src = *src,
	};

	if (sip_msg_parse(&m, flags) < 0)
		return;
	if (scan.request)
		request_input(&m);
	else
		response_input(&m);
	sip_msg_release(&m);
}
