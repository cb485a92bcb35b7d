// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_media_srtp - a=crypto parsing and generation (RFC 4568), and SRTP
 * through media_srtp checked against known answers.
 *
 * The known answers come from an independent model of RFC 3711 written
 * here on OpenSSL's AES and HMAC: the model is first checked against the
 * RFC's own vectors (Appendix B.2 AES-CM keystream, B.3 key derivation),
 * then the packets media_srtp protects with the B.3 master key must equal
 * the model's, byte for byte.  That ties libsrtp's key derivation and
 * packet transform, through our policy set-up, to the RFC.  The AES-CM
 * packets are also compared with the fixed vector libsrtp's own test
 * driver uses (same key, SSRC 0xcafebabe, sequence 0x1234).  AEAD_AES_128_GCM
 * is checked against a model of RFC 7714 (8.1 and 11) the same way, and
 * against libsrtp's GCM vectors (key 00..0f, salt a0..ab).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "media_srtp.h"
#include "test_media.h"

/* ---- hex helpers -------------------------------------------------------- */

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		sscanf(hex, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static bool same(const uint8_t *a, const char *hex)
{
	uint8_t b[256];
	size_t n = unhex(hex, b);

	return memcmp(a, b, n) == 0;
}

/* ---- the reference model (RFC 3711 4.1.1, 4.2, 4.3; RFC 7714) ----------- */

static void aes_ecb(const uint8_t key[16], const uint8_t in[16],
		    uint8_t out[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n;

	EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	EVP_EncryptUpdate(ctx, out, &n, in, 16);
	EVP_CIPHER_CTX_free(ctx);
}

/* AES in counter mode, RFC 3711 4.1.1: block j is E(k, IV + j). */
static void aes_cm(const uint8_t key[16], const uint8_t iv[16], uint8_t *buf,
		   size_t len)
{
	uint8_t ctr[16], ks[16];
	size_t i;

	memcpy(ctr, iv, 16);
	for (i = 0; i < len; i++) {
		if (i % 16 == 0) {
			int b;

			aes_ecb(key, ctr, ks);
			for (b = 15; b >= 0 && ++ctr[b] == 0; b--)
				;
		}
		buf[i] ^= ks[i % 16];
	}
}

/* RFC 3711 4.3.1, key derivation rate 0: x = (label << 48) XOR salt, the
 * 112-bit salt; the PRF is AES-CM keyed with the master key, IV x * 2^16.
 * salt_len 12 (RFC 7714 11) is zero-extended to 112 bits. */
static void kdf(const uint8_t *master_key, const uint8_t *salt,
		size_t salt_len, uint8_t label, uint8_t *out, size_t len)
{
	uint8_t iv[16] = { 0 };

	memcpy(iv, salt, salt_len);
	iv[7] ^= label;
	memset(out, 0, len);
	aes_cm(master_key, iv, out, len);
}

struct session_keys {
	uint8_t enc[16];
	uint8_t salt[14];
	uint8_t auth[20];
};

static void derive(const uint8_t *key_salt, size_t salt_len, bool rtcp,
		   struct session_keys *k)
{
	uint8_t base = rtcp ? 3 : 0;

	kdf(key_salt, key_salt + 16, salt_len, base, k->enc, 16);
	kdf(key_salt, key_salt + 16, salt_len, base + 1, k->auth, 20);
	kdf(key_salt, key_salt + 16, salt_len, base + 2, k->salt, salt_len);
}

static void hmac_tag(const uint8_t auth[20], const uint8_t *msg, size_t len,
		     const uint8_t *extra, size_t extra_len, uint8_t out[20])
{
	uint8_t buf[512];
	unsigned n;

	memcpy(buf, msg, len);
	if (extra_len)
		memcpy(buf + len, extra, extra_len);
	HMAC(EVP_sha1(), auth, 20, buf, len + extra_len, out, &n);
}

/* SRTP with AES-CM + HMAC-SHA1, ROC 0, 12-octet header (RFC 3711 4.1.1,
 * 4.2).  Returns the protected length. */
static size_t ref_srtp(const uint8_t *key_salt, const uint8_t *pkt,
		       size_t len, size_t tag_len, uint8_t *out)
{
	struct session_keys k;
	uint8_t iv[16] = { 0 }, roc[4] = { 0 }, tag[20];
	int i;

	derive(key_salt, 14, false, &k);
	memcpy(out, pkt, len);
	memcpy(iv, k.salt, 14);
	for (i = 0; i < 4; i++)
		iv[4 + i] ^= pkt[8 + i];	/* SSRC */
	iv[12] ^= pkt[2];			/* index = ROC || SEQ */
	iv[13] ^= pkt[3];
	aes_cm(k.enc, iv, out + 12, len - 12);
	hmac_tag(k.auth, out, len, roc, 4, tag);
	memcpy(out + len, tag, tag_len);
	return len + tag_len;
}

/* SRTCP, AES-CM + HMAC-SHA1-80, E = 1 (RFC 3711 3.4, 4.1.1). */
static size_t ref_srtcp(const uint8_t *key_salt, const uint8_t *pkt,
			size_t len, uint32_t index, uint8_t *out)
{
	struct session_keys k;
	uint8_t iv[16] = { 0 }, tag[20];
	int i;

	derive(key_salt, 14, true, &k);
	memcpy(out, pkt, len);
	memcpy(iv, k.salt, 14);
	for (i = 0; i < 4; i++) {
		iv[4 + i] ^= pkt[4 + i];	/* SSRC */
		iv[10 + i] ^= (uint8_t)(index >> (24 - 8 * i));
	}
	aes_cm(k.enc, iv, out + 8, len - 8);
	index |= 0x80000000u;
	for (i = 0; i < 4; i++)
		out[len + i] = (uint8_t)(index >> (24 - 8 * i));
	hmac_tag(k.auth, out, len + 4, NULL, 0, tag);
	memcpy(out + len + 4, tag, 10);
	return len + 14;
}

static void gcm_seal(const uint8_t key[16], const uint8_t iv[12],
		     const uint8_t *aad, size_t aad_len, uint8_t *buf,
		     size_t len, uint8_t tag[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n;

	EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL, NULL);
	EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL);
	EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv);
	EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len);
	EVP_EncryptUpdate(ctx, buf, &n, buf, (int)len);
	EVP_EncryptFinal_ex(ctx, buf + n, &n);
	EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag);
	EVP_CIPHER_CTX_free(ctx);
}

/* SRTP with AEAD_AES_128_GCM, ROC 0 (RFC 7714 8.1: IV = (0^16 || SSRC ||
 * ROC || SEQ) XOR salt; AAD = the header). */
static size_t ref_srtp_gcm(const uint8_t *key_salt, const uint8_t *pkt,
			   size_t len, uint8_t *out)
{
	struct session_keys k;
	uint8_t iv[12];
	int i;

	derive(key_salt, 12, false, &k);
	memcpy(iv, k.salt, 12);
	for (i = 0; i < 4; i++)
		iv[2 + i] ^= pkt[8 + i];
	iv[10] ^= pkt[2];
	iv[11] ^= pkt[3];
	memcpy(out, pkt, len);
	gcm_seal(k.enc, iv, pkt, 12, out + 12, len - 12, out + len);
	return len + 16;
}

/* ---- RFC 3711 Appendix B: the model against the RFC --------------------- */

static void test_rfc3711_vectors(void)
{
	static uint8_t ks[0x10000 * 16 + 48];
	uint8_t key[16], iv[16], mk[30];
	struct session_keys k;

	/* B.2: session key, salt F0..FD, SSRC 0, index 0 */
	unhex("2B7E151628AED2A6ABF7158809CF4F3C", key);
	unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000", iv);
	memset(ks, 0, sizeof(ks));
	aes_cm(key, iv, ks, 0xff02 * 16);
	ok(same(ks, "E03EAD0935C95E80E166B16DD92B4EB4"
		    "D23513162B02D0F72A43A2FE4A5F97AB"
		    "41E95B3BB0A2E8DD477901E4FCA894C0") &&
	   same(ks + 0xfeff * 16, "EC8CDF7398607CB0F2D21675EA9EA1E4"
				  "362B7C3C6773516318A077D7FC5073AE"
				  "6A2CC3787889374FBEB4C81B17BA6C44"),
	   "model: RFC 3711 B.2 AES-CM keystream, counters 0..2 and FEFF..FF01");

	/* B.3: master key and salt -> session keys */
	unhex("E1F97A0D3E018BE0D64FA32C06DE4139"
	      "0EC675AD498AFEEBB6960B3AABE6", mk);
	derive(mk, 14, false, &k);
	ok(same(k.enc, "C61E7A93744F39EE10734AFE3FF7A087") &&
	   same(k.salt, "30CBBC08863D8C85D49DB34A9AE1") &&
	   same(k.auth, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"),
	   "model: RFC 3711 B.3 key derivation (cipher key, salt, auth key)");
}

/* ---- a=crypto ------------------------------------------------------------ */

#define B3_KEY_B64 "4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm"

static void test_parse(void)
{
	struct media_srtp_crypto c;
	char line[MEDIA_SRTP_CRYPTO_LINE_MAX];
	const char *brief = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
			    B3_KEY_B64 "|2^31|1:1";
	int rc;

	rc = media_srtp_crypto_parse(brief, &c);
	ok(rc == 0 && c.tag == 1 && c.suite == MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80 &&
	   c.key_salt_len == 30 && same(c.key_salt, "E1F97A0D3E018BE0D64FA32C") &&
	   c.lifetime == (1ull << 31) && c.mki_value == 1 && c.mki_len == 1,
	   "parse: tag, suite, key||salt, lifetime 2^31, MKI 1:1");
	ok(media_srtp_crypto_format(&c, line, sizeof(line)) > 0 &&
	   !strcmp(line, brief), "format gives the same line back");

	rc = media_srtp_crypto_parse("crypto:7 AES_CM_128_HMAC_SHA1_32 inline:"
				     B3_KEY_B64 "|1048576\r\n", &c);
	ok(rc == 0 && c.tag == 7 && c.suite == MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32 &&
	   c.lifetime == 1048576 && c.mki_len == 0,
	   "parse: _32 suite, decimal lifetime, CRLF, no MKI");
	rc = media_srtp_crypto_parse("2 AEAD_AES_128_GCM inline:"
				     "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw==", &c);
	ok(rc == 0 && c.suite == MEDIA_SRTP_AEAD_AES_128_GCM &&
	   c.key_salt_len == 28 && c.key_salt[27] == 27,
	   "parse: AEAD_AES_128_GCM, 28-octet key||salt with padding");
	rc = media_srtp_crypto_parse("1 AES_CM_128_HMAC_SHA1_80 inline:"
				     B3_KEY_B64 "|258:2", &c);
	ok(rc == 0 && c.lifetime == 0 && c.mki_value == 258 && c.mki_len == 2,
	   "parse: MKI without lifetime");
	media_srtp_crypto_format(&c, line, sizeof(line));
	ok(!strcmp(line, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"
			 B3_KEY_B64 "|258:2"), "format: MKI without lifetime");
}

static void test_parse_errors(void)
{
	static const struct {
		const char *line;
		int rc;
		const char *why;
	} bad[] = {
		{ "x AES_CM_128_HMAC_SHA1_80 inline:" B3_KEY_B64, -EINVAL,
		  "tag not a number" },
		{ "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" B3_KEY_B64,
		  -ERANGE, "tag of 10 digits" },
		{ "1 AES_CM_128_HMAC_SHA1_81 inline:" B3_KEY_B64,
		  -EPROTONOSUPPORT, "unknown suite" },
		{ "1 F8_128_HMAC_SHA1_80 inline:" B3_KEY_B64, -EPROTONOSUPPORT,
		  "F8 suite (not supported)" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6MsBt5BOQ7G",
		  -EKEYREJECTED, "key||salt too short" },
		{ "1 AEAD_AES_128_GCM inline:" B3_KEY_B64, -EKEYREJECTED,
		  "30 octets for a 28-octet suite" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:4fl6DT4Bi+DWT6Ms!t5BOQ7Gda1Jiv7rtpYLOqvm",
		  -EKEYREJECTED, "not base64" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" B3_KEY_B64 "|2^49",
		  -ERANGE, "lifetime over 2^48" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" B3_KEY_B64 "|1:0", -ERANGE,
		  "MKI length 0" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" B3_KEY_B64 "|1:129",
		  -ERANGE, "MKI length 129" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" B3_KEY_B64 "|256:1",
		  -ERANGE, "MKI value 256 in one octet" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" B3_KEY_B64 "|1:16",
		  -ENOTSUP, "MKI of 16 octets" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" B3_KEY_B64 "|1:1|2^20",
		  -EINVAL, "lifetime after MKI" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" B3_KEY_B64 " KDR=1",
		  -ENOTSUP, "session parameter" },
		{ "1 AES_CM_128_HMAC_SHA1_80 inline:" B3_KEY_B64 ";inline:"
		  B3_KEY_B64, -ENOTSUP, "two keys" },
		{ "1 AES_CM_128_HMAC_SHA1_80 uri:http://key", -ENOTSUP,
		  "another key method" },
		{ "1 AES_CM_128_HMAC_SHA1_80", -EINVAL, "no key" },
		{ "1  ", -EINVAL, "no suite" },
	};
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct media_srtp_crypto c;
		int rc = media_srtp_crypto_parse(bad[i].line, &c);

		ok(rc == bad[i].rc, "reject %s: %s (got %d)", bad[i].why,
		   strerror(-bad[i].rc), rc);
	}
}

static void test_generate(void)
{
	struct media_srtp_crypto a, b;
	char line[MEDIA_SRTP_CRYPTO_LINE_MAX];
	int good = 1, s;

	for (s = 0; s < MEDIA_SRTP_SUITE_COUNT; s++) {
		if (media_srtp_crypto_generate(5, s, &a) < 0 ||
		    media_srtp_crypto_format(&a, line, sizeof(line)) < 0 ||
		    media_srtp_crypto_parse(line, &b) < 0 ||
		    memcmp(&a, &b, sizeof(a)))
			good = 0;
	}
	ok(good, "generate -> format -> parse round trip for all suites");
}

/* ---- packets ------------------------------------------------------------- */

/* libsrtp's srtp_driver plaintexts: SSRC 0xcafebabe, SEQ 0x1234. */
#define RTP_PLAIN "800f1234decafbadcafebabe" \
		  "abababababababababababababababab"
#define RTCP_PLAIN "81c8000bcafebabe" \
		   "abababababababababababababababab"

static struct media_srtp *sender(enum media_srtp_suite suite,
				 const char *key_hex)
{
	struct media_srtp_crypto c = { .suite = suite };
	struct media_srtp *s = NULL;

	c.key_salt_len = unhex(key_hex, c.key_salt);
	media_srtp_new(&c, NULL, &s);
	return s;
}

static void test_known_answers(void)
{
	const char *key = "E1F97A0D3E018BE0D64FA32C06DE4139"
			  "0EC675AD498AFEEBB6960B3AABE6";
	const char *gcm_key = "000102030405060708090a0b0c0d0e0f"
			      "a0a1a2a3a4a5a6a7a8a9aaab";
	uint8_t mk[30], pkt[256], ref[256];
	struct media_srtp *s;
	size_t len, rlen;

	unhex(key, mk);
	s = sender(MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80, key);
	len = unhex(RTP_PLAIN, pkt);
	rlen = ref_srtp(mk, pkt, len, 10, ref);
	ok(s && media_srtp_protect_rtp(s, pkt, &len, sizeof(pkt)) == 0 &&
	   len == rlen && !memcmp(pkt, ref, len) &&
	   same(pkt, "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402"
		     "b78d6acc99ea179b8dbb"),
	   "AES_CM_128_HMAC_SHA1_80 RTP: equals the RFC 3711 model and "
	   "libsrtp's vector");
	len = unhex(RTCP_PLAIN, pkt);
	rlen = ref_srtcp(mk, pkt, len, 1, ref);
	ok(s && media_srtp_protect_rtcp(s, pkt, &len, sizeof(pkt)) == 0 &&
	   len == rlen && !memcmp(pkt, ref, len) &&
	   same(pkt, "81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001"
		     "993e08cd54d6c1230798"),
	   "AES_CM_128_HMAC_SHA1_80 RTCP (index 1): equals the model and "
	   "libsrtp's vector");
	media_srtp_free(s);

	s = sender(MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32, key);
	len = unhex(RTP_PLAIN, pkt);
	rlen = ref_srtp(mk, pkt, len, 4, ref);
	ok(s && media_srtp_protect_rtp(s, pkt, &len, sizeof(pkt)) == 0 &&
	   len == 32 && len == rlen && !memcmp(pkt, ref, len),
	   "AES_CM_128_HMAC_SHA1_32 RTP: 4-octet tag, equals the model");
	len = unhex(RTCP_PLAIN, pkt);
	rlen = ref_srtcp(mk, pkt, len, 1, ref);
	ok(s && media_srtp_protect_rtcp(s, pkt, &len, sizeof(pkt)) == 0 &&
	   len == rlen && !memcmp(pkt, ref, len),
	   "AES_CM_128_HMAC_SHA1_32 RTCP keeps the 10-octet tag (RFC 4568 "
	   "6.2.2)");
	media_srtp_free(s);

	unhex(gcm_key, mk);
	s = sender(MEDIA_SRTP_AEAD_AES_128_GCM, gcm_key);
	len = unhex(RTP_PLAIN, pkt);
	rlen = ref_srtp_gcm(mk, pkt, len, ref);
	ok(s && media_srtp_protect_rtp(s, pkt, &len, sizeof(pkt)) == 0 &&
	   len == rlen && !memcmp(pkt, ref, len) &&
	   same(pkt, "800f1234decafbadcafebabec5002ede04cfdd2eb91159e0880aa06e"
		     "d2976826f796b201df3131a127e8a392"),
	   "AEAD_AES_128_GCM RTP: equals the RFC 7714 model and libsrtp's "
	   "vector");
	len = unhex(RTCP_PLAIN, pkt);
	ok(s && media_srtp_protect_rtcp(s, pkt, &len, sizeof(pkt)) == 0 &&
	   len == 44 &&
	   same(pkt, "81c8000bcafebabec98b8b5df0392a55852b6c21ac8e7025c52c6fbe"
		     "a2b3b446ea31123ba88ce61e80000001"),
	   "AEAD_AES_128_GCM RTCP: equals libsrtp's vector");
	media_srtp_free(s);
}

/* A sender and a receiver sharing one a=crypto line. */
static void pair(const struct media_srtp_crypto *c, struct media_srtp **tx,
		 struct media_srtp **rx)
{
	media_srtp_new(c, NULL, tx);
	media_srtp_new(NULL, c, rx);
}

static size_t make_rtp(uint8_t *pkt, uint16_t seq)
{
	size_t i;

	pkt[0] = 0x80;
	pkt[1] = 0x00;
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	memset(pkt + 4, 0, 4);
	memcpy(pkt + 8, "\x11\x22\x33\x44", 4);
	for (i = 12; i < 172; i++)
		pkt[i] = (uint8_t)(i * 7 + seq);
	return 172;
}

static void test_round_trip(enum media_srtp_suite suite)
{
	const char *name = media_srtp_suite_name(suite);
	struct media_srtp_crypto c;
	struct media_srtp *tx, *rx;
	uint8_t pkt[512], plain[512], copy[512];
	size_t len, plen, clen;
	int i, good = 1;

	media_srtp_crypto_generate(1, suite, &c);
	pair(&c, &tx, &rx);
	for (i = 0; i < 50; i++) {
		plen = make_rtp(plain, (uint16_t)(1000 + i));
		memcpy(pkt, plain, plen);
		len = plen;
		if (media_srtp_protect_rtp(tx, pkt, &len, sizeof(pkt)) ||
		    media_srtp_unprotect_rtp(rx, pkt, &len) || len != plen ||
		    memcmp(pkt, plain, plen))
			good = 0;
	}
	ok(good, "%s: 50 RTP packets protect -> unprotect", name);

	plen = make_rtp(plain, 2000);
	memcpy(pkt, plain, plen);
	len = plen;
	media_srtp_protect_rtp(tx, pkt, &len, sizeof(pkt));
	memcpy(copy, pkt, len);
	clen = len;
	pkt[40] ^= 0x01;
	ok(media_srtp_unprotect_rtp(rx, pkt, &len) == MEDIA_SRTP_ERR_AUTH,
	   "%s: a flipped payload bit fails authentication", name);
	len = clen;
	ok(media_srtp_unprotect_rtp(rx, copy, &len) == 0,
	   "%s: the untouched packet then passes", name);
	media_srtp_free(tx);
	media_srtp_free(rx);
}

static void test_replay(enum media_srtp_suite suite)
{
	const char *name = media_srtp_suite_name(suite);
	struct media_srtp_crypto c;
	struct media_srtp *tx, *rx;
	uint8_t pkt[512], saved[512];
	size_t len, slen;
	int i, rc;

	media_srtp_crypto_generate(9, suite, &c);
	pair(&c, &tx, &rx);
	len = make_rtp(pkt, 500);
	media_srtp_protect_rtp(tx, pkt, &len, sizeof(pkt));
	memcpy(saved, pkt, len);
	slen = len;
	rc = media_srtp_unprotect_rtp(rx, pkt, &len);
	memcpy(pkt, saved, slen);
	len = slen;
	ok(rc == 0 && media_srtp_unprotect_rtp(rx, pkt, &len) ==
			      MEDIA_SRTP_ERR_REPLAY,
	   "%s: a replayed RTP packet is refused", name);

	/* RTCP too */
	len = unhex(RTCP_PLAIN, pkt);
	media_srtp_protect_rtcp(tx, pkt, &len, sizeof(pkt));
	memcpy(saved, pkt, len);
	slen = len;
	rc = media_srtp_unprotect_rtcp(rx, pkt, &len);
	ok(rc == 0 && len == 24 && same(pkt, RTCP_PLAIN),
	   "%s: RTCP protect -> unprotect", name);
	memcpy(pkt, saved, slen);
	len = slen;
	ok(media_srtp_unprotect_rtcp(rx, pkt, &len) == MEDIA_SRTP_ERR_REPLAY,
	   "%s: a replayed RTCP packet is refused", name);

	/* far older than the 128-packet window */
	for (i = 0; i < 200; i++) {
		len = make_rtp(pkt, (uint16_t)(600 + i));
		media_srtp_protect_rtp(tx, pkt, &len, sizeof(pkt));
		if (i == 0) {
			memcpy(saved, pkt, len);
			slen = len;
			continue;
		}
		media_srtp_unprotect_rtp(rx, pkt, &len);
	}
	ok(media_srtp_unprotect_rtp(rx, saved, &slen) == MEDIA_SRTP_ERR_REPLAY,
	   "%s: a packet behind the replay window is refused", name);
	media_srtp_free(tx);
	media_srtp_free(rx);
}

static void test_mki_and_lifetime(void)
{
	struct media_srtp_crypto c;
	struct media_srtp *tx, *rx;
	uint8_t pkt[512];
	size_t len;
	int i, rc = 0;

	media_srtp_crypto_parse("1 AES_CM_128_HMAC_SHA1_80 inline:" B3_KEY_B64
				"|2^2|513:2", &c);
	pair(&c, &tx, &rx);
	len = make_rtp(pkt, 1);
	media_srtp_protect_rtp(tx, pkt, &len, sizeof(pkt));
	ok(len == 172 + 2 + 10 && pkt[172] == 0x02 && pkt[173] == 0x01,
	   "MKI 513:2 travels as 02 01 before the tag (RFC 3711 3.1)");
	ok(media_srtp_unprotect_rtp(rx, pkt, &len) == 0 && len == 172,
	   "MKI packet unprotects");
	len = make_rtp(pkt, 9);
	ok(media_srtp_protect_rtp(tx, pkt, &len, 180) == -ENOSPC,
	   "protect wants MEDIA_SRTP_HEADROOM past the packet");
	for (i = 2; i <= 5 && rc == 0; i++) {
		len = make_rtp(pkt, (uint16_t)i);
		rc = media_srtp_protect_rtp(tx, pkt, &len, sizeof(pkt));
	}
	ok(rc == -EKEYEXPIRED && i == 6,
	   "lifetime 2^2: the fifth packet gets -EKEYEXPIRED");
	len = 8;
	ok(media_srtp_unprotect_rtp(rx, pkt, &len) == -EINVAL,
	   "8 octets are not an RTP packet");
	media_srtp_free(tx);
	media_srtp_free(rx);
}

int main(void)
{
	int s;

	test_rfc3711_vectors();
	test_parse();
	test_parse_errors();
	test_generate();
	test_known_answers();
	for (s = 0; s < MEDIA_SRTP_SUITE_COUNT; s++) {
		test_round_trip(s);
		test_replay(s);
	}
	test_mki_and_lifetime();
	return tap_done();
}
