// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_media_srtp_interop - media_srtp against a peer written with nothing
 * but libsrtp2's own API (the way another SRTP implementation would use
 * it): tandem protects -> plain libsrtp unprotects, and the reverse, for
 * every suite, RTP and RTCP.  The peer side below deliberately shares no
 * code with media_srtp.c: its policies are set up from the RFC 4568 suite
 * definitions directly.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <srtp2/srtp.h>

#include "media_srtp.h"
#include "test_media.h"

/* ---- the plain libsrtp2 peer ------------------------------------------- */

static void peer_policy(enum media_srtp_suite suite, srtp_policy_t *p)
{
	memset(p, 0, sizeof(*p));
	if (suite == MEDIA_SRTP_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
	} else if (suite == MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
	} else {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
	}
}

static srtp_t peer_new(enum media_srtp_suite suite, uint8_t *key,
		       srtp_ssrc_type_t type)
{
	srtp_policy_t p;
	srtp_t s = NULL;

	peer_policy(suite, &p);
	p.ssrc.type = type;
	p.key = key;
	p.window_size = 128;
	if (srtp_create(&s, &p) != srtp_err_status_ok)
		return NULL;
	return s;
}

/* ---- packets ------------------------------------------------------------ */

static size_t rtp_packet(uint8_t *pkt, uint16_t seq)
{
	size_t i;

	pkt[0] = 0x80;
	pkt[1] = 0x08;			/* PT 8, PCMA */
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	memset(pkt + 4, 0, 4);
	memcpy(pkt + 8, "\xde\xad\xbe\xef", 4);
	for (i = 12; i < 12 + 160; i++)
		pkt[i] = (uint8_t)(0xd5 ^ (i + seq));
	return 12 + 160;
}

static size_t rtcp_packet(uint8_t *pkt)
{
	/* an RR with one report block (RFC 3550 6.4.2) */
	static const uint8_t rr[] = {
		0x81, 0xc9, 0x00, 0x07, 0xde, 0xad, 0xbe, 0xef,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24,
	};

	memcpy(pkt, rr, sizeof(rr));
	return sizeof(rr);
}

/* ---- one suite, both directions --------------------------------------- */

static void tandem_to_peer(enum media_srtp_suite suite)
{
	const char *name = media_srtp_suite_name(suite);
	struct media_srtp_crypto c;
	struct media_srtp *tx = NULL;
	uint8_t key[64] = { 0 }, pkt[512], plain[512];
	srtp_t peer;
	size_t len, plen;
	int i, n, good = 1;

	media_srtp_crypto_generate(1, suite, &c);
	memcpy(key, c.key_salt, c.key_salt_len);
	media_srtp_new(&c, NULL, &tx);
	peer = peer_new(suite, key, ssrc_any_inbound);
	for (i = 0; i < 20; i++) {
		plen = rtp_packet(plain, (uint16_t)(65530 + i));	/* wraps */
		memcpy(pkt, plain, plen);
		len = plen;
		n = 0;
		if (media_srtp_protect_rtp(tx, pkt, &len, sizeof(pkt)) == 0) {
			n = (int)len;
			if (srtp_unprotect(peer, pkt, &n) != srtp_err_status_ok)
				n = -1;
		}
		if (n != (int)plen || memcmp(pkt, plain, plen))
			good = 0;
	}
	ok(tx && peer && good,
	   "%s: tandem protects 20 RTP (seq wraps), plain libsrtp2 reads them",
	   name);
	plen = rtcp_packet(plain);
	memcpy(pkt, plain, plen);
	len = plen;
	n = -1;
	if (media_srtp_protect_rtcp(tx, pkt, &len, sizeof(pkt)) == 0) {
		n = (int)len;
		if (srtp_unprotect_rtcp(peer, pkt, &n) != srtp_err_status_ok)
			n = -1;
	}
	ok(n == (int)plen && !memcmp(pkt, plain, plen),
	   "%s: tandem protects RTCP, plain libsrtp2 reads it", name);
	media_srtp_free(tx);
	if (peer)
		srtp_dealloc(peer);
}

static void peer_to_tandem(enum media_srtp_suite suite)
{
	const char *name = media_srtp_suite_name(suite);
	struct media_srtp_crypto c;
	struct media_srtp *rx = NULL;
	uint8_t key[64] = { 0 }, pkt[512], plain[512];
	srtp_t peer;
	size_t len, plen;
	int i, n, good = 1;

	media_srtp_crypto_generate(2, suite, &c);
	memcpy(key, c.key_salt, c.key_salt_len);
	media_srtp_new(NULL, &c, &rx);
	peer = peer_new(suite, key, ssrc_any_outbound);
	for (i = 0; i < 20; i++) {
		plen = rtp_packet(plain, (uint16_t)(100 + i));
		memcpy(pkt, plain, plen);
		n = (int)plen;
		len = 0;
		if (srtp_protect(peer, pkt, &n) == srtp_err_status_ok) {
			len = (size_t)n;
			if (media_srtp_unprotect_rtp(rx, pkt, &len) < 0)
				len = 0;
		}
		if (len != plen || memcmp(pkt, plain, plen))
			good = 0;
	}
	ok(rx && peer && good,
	   "%s: plain libsrtp2 protects 20 RTP, tandem reads them", name);
	plen = rtcp_packet(plain);
	memcpy(pkt, plain, plen);
	n = (int)plen;
	len = 0;
	if (srtp_protect_rtcp(peer, pkt, &n) == srtp_err_status_ok) {
		len = (size_t)n;
		if (media_srtp_unprotect_rtcp(rx, pkt, &len) < 0)
			len = 0;
	}
	ok(len == plen && !memcmp(pkt, plain, plen),
	   "%s: plain libsrtp2 protects RTCP, tandem reads it", name);
	media_srtp_free(rx);
	if (peer)
		srtp_dealloc(peer);
}

int main(void)
{
	struct media_srtp_crypto c;
	struct media_srtp *s;
	int suite;

	/* media_srtp initialises libsrtp on first use; the peer relies on it
	 * having been done, as two users in one process would */
	media_srtp_crypto_generate(1, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80, &c);
	media_srtp_new(&c, NULL, &s);
	media_srtp_free(s);
	for (suite = 0; suite < MEDIA_SRTP_SUITE_COUNT; suite++) {
		tandem_to_peer(suite);
		peer_to_tandem(suite);
	}
	return tap_done();
}
