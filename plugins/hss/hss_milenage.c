// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hss_milenage.c - Milenage (3GPP TS 35.206) on libcrypto's AES-128.
 *
 * TS 35.206 4.1, with E_K the AES-128 (Rijndael) encryption under K:
 *   TEMP = E_K(RAND ^ OPc)
 *   OUT1 = E_K(TEMP ^ rot(IN1 ^ OPc, r1) ^ c1) ^ OPc, IN1 = SQN||AMF||SQN||AMF
 *   OUTi = E_K(rot(TEMP ^ OPc, ri) ^ ci) ^ OPc,       i = 2..5
 * and the functions are slices of these blocks:
 *   f1 = OUT1[0..63]    f1* = OUT1[64..127]
 *   f5 = OUT2[0..47]    f2  = OUT2[64..127]
 *   f3 = OUT3           f4  = OUT4            f5* = OUT5[0..47]
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hss_milenage.h"

#define BLOCK_LEN 16

/*
 * The rotations r1..r5 and the constants c1..c5 of TS 35.206 4.1.  Every
 * rotation is a whole number of bytes and every constant is zero but for
 * its last byte, so a byte count and a byte are enough.
 */
/* clang-format off */
static const struct {
	unsigned int rot_bytes;
	uint8_t c_last;
} out_const[6] = {
	[1] = { 64 / 8, 0x00 },
	[2] = {  0 / 8, 0x01 },
	[3] = { 32 / 8, 0x02 },
	[4] = { 64 / 8, 0x04 },
	[5] = { 96 / 8, 0x08 },
};
/* clang-format on */

/* State shared by the functions computed for one K, OPc and RAND. */
struct milenage {
	EVP_CIPHER_CTX *aes; /* E_K */
	uint8_t opc[BLOCK_LEN];
	uint8_t temp[BLOCK_LEN]; /* TEMP = E_K(RAND ^ OPc) */
};

static const uint8_t amf_resync[HSS_AMF_LEN]; /* TS 33.102 6.3.3 */

static void xor_bytes(uint8_t *dst, const uint8_t *a, const uint8_t *b,
		      size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		dst[i] = a[i] ^ b[i];
}

/* rot(x, r): cyclic rotation towards the most significant bit. */
static void rotate(uint8_t *dst, const uint8_t *src, unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < BLOCK_LEN; i++)
		dst[i] = src[(i + bytes) % BLOCK_LEN];
}

static int aes_start(EVP_CIPHER_CTX **aes, const uint8_t *k)
{
	EVP_CIPHER_CTX *ctx;

	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	/* One block at a time with no padding: ECB is exactly E_K. */
	if (EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return -EIO;
	}
	*aes = ctx;
	return 0;
}

static int aes_block(EVP_CIPHER_CTX *aes, const uint8_t *in, uint8_t *out)
{
	int out_len = 0;

	if (EVP_EncryptUpdate(aes, out, &out_len, in, BLOCK_LEN) != 1 ||
	    out_len != BLOCK_LEN)
		return -EIO;
	return 0;
}

static void milenage_end(struct milenage *m)
{
	EVP_CIPHER_CTX_free(m->aes);
	m->aes = NULL;
	OPENSSL_cleanse(m->opc, sizeof(m->opc));
	OPENSSL_cleanse(m->temp, sizeof(m->temp));
}

static int milenage_start(struct milenage *m, const uint8_t *k,
			  const uint8_t *opc, const uint8_t *rand)
{
	uint8_t in[BLOCK_LEN];
	int rc;

	m->aes = NULL;
	rc = aes_start(&m->aes, k);
	if (rc)
		return rc;
	memcpy(m->opc, opc, BLOCK_LEN);
	xor_bytes(in, rand, opc, BLOCK_LEN);
	rc = aes_block(m->aes, in, m->temp);
	OPENSSL_cleanse(in, sizeof(in));
	if (rc)
		milenage_end(m);
	return rc;
}

/* OUTi for i = 1..5; in1 is IN1 for i = 1 and ignored otherwise. */
static int milenage_out(struct milenage *m, int i, const uint8_t *in1,
			uint8_t *out)
{
	uint8_t x[BLOCK_LEN], y[BLOCK_LEN];
	int rc;

	xor_bytes(x, i == 1 ? in1 : m->temp, m->opc, BLOCK_LEN);
	rotate(y, x, out_const[i].rot_bytes);
	y[BLOCK_LEN - 1] ^= out_const[i].c_last;
	if (i == 1)
		xor_bytes(y, y, m->temp, BLOCK_LEN);
	rc = aes_block(m->aes, y, x);
	if (!rc)
		xor_bytes(out, x, m->opc, BLOCK_LEN);
	OPENSSL_cleanse(x, sizeof(x));
	OPENSSL_cleanse(y, sizeof(y));
	return rc;
}

/* OUT1 for SQN and AMF: MAC-A in its first half, MAC-S in its second. */
static int milenage_out1(struct milenage *m, const uint8_t *sqn,
			 const uint8_t *amf, uint8_t *out1)
{
	uint8_t in1[BLOCK_LEN];

	memcpy(in1, sqn, HSS_SQN_LEN);
	memcpy(in1 + HSS_SQN_LEN, amf, HSS_AMF_LEN);
	memcpy(in1 + 8, in1, 8);
	return milenage_out(m, 1, in1, out1);
}

int hss_milenage_opc(const uint8_t *k, const uint8_t *op, uint8_t *opc)
{
	EVP_CIPHER_CTX *aes;
	uint8_t enc[BLOCK_LEN];
	int rc;

	if (!k || !op || !opc)
		return -EINVAL;
	rc = aes_start(&aes, k);
	if (rc)
		return rc;
	rc = aes_block(aes, op, enc);
	if (!rc)
		xor_bytes(opc, enc, op, HSS_OP_LEN);
	EVP_CIPHER_CTX_free(aes);
	OPENSSL_cleanse(enc, sizeof(enc));
	return rc;
}

int hss_milenage_f1(const uint8_t *k, const uint8_t *opc, const uint8_t *rand,
		    const uint8_t *sqn, const uint8_t *amf, uint8_t *mac_a,
		    uint8_t *mac_s)
{
	struct milenage m;
	uint8_t out1[BLOCK_LEN];
	int rc;

	if (!k || !opc || !rand || !sqn || !amf)
		return -EINVAL;
	rc = milenage_start(&m, k, opc, rand);
	if (rc)
		return rc;
	rc = milenage_out1(&m, sqn, amf, out1);
	if (!rc && mac_a)
		memcpy(mac_a, out1, HSS_MAC_LEN);
	if (!rc && mac_s)
		memcpy(mac_s, out1 + 8, HSS_MAC_LEN);
	OPENSSL_cleanse(out1, sizeof(out1));
	milenage_end(&m);
	return rc;
}

/* f2..f5 of a started computation; each output is optional. */
static int milenage_f2345(struct milenage *m, uint8_t *res, uint8_t *ck,
			  uint8_t *ik, uint8_t *ak)
{
	uint8_t out[BLOCK_LEN];
	int rc = 0;

	if (res || ak) {
		rc = milenage_out(m, 2, NULL, out);
		if (!rc && res)
			memcpy(res, out + 8, HSS_RES_LEN);
		if (!rc && ak)
			memcpy(ak, out, HSS_AK_LEN);
	}
	if (!rc && ck)
		rc = milenage_out(m, 3, NULL, ck);
	if (!rc && ik)
		rc = milenage_out(m, 4, NULL, ik);
	OPENSSL_cleanse(out, sizeof(out));
	return rc;
}

int hss_milenage_f2345(const uint8_t *k, const uint8_t *opc,
		       const uint8_t *rand, uint8_t *res, uint8_t *ck,
		       uint8_t *ik, uint8_t *ak)
{
	struct milenage m;
	int rc;

	if (!k || !opc || !rand)
		return -EINVAL;
	rc = milenage_start(&m, k, opc, rand);
	if (rc)
		return rc;
	rc = milenage_f2345(&m, res, ck, ik, ak);
	milenage_end(&m);
	return rc;
}

static int milenage_f5star(struct milenage *m, uint8_t *ak_s)
{
	uint8_t out5[BLOCK_LEN];
	int rc;

	rc = milenage_out(m, 5, NULL, out5);
	if (!rc)
		memcpy(ak_s, out5, HSS_AK_LEN);
	OPENSSL_cleanse(out5, sizeof(out5));
	return rc;
}

int hss_milenage_f5star(const uint8_t *k, const uint8_t *opc,
			const uint8_t *rand, uint8_t *ak_s)
{
	struct milenage m;
	int rc;

	if (!k || !opc || !rand || !ak_s)
		return -EINVAL;
	rc = milenage_start(&m, k, opc, rand);
	if (rc)
		return rc;
	rc = milenage_f5star(&m, ak_s);
	milenage_end(&m);
	return rc;
}

/* AUTN = SQN ^ AK || AMF || MAC-A, TS 33.102 6.3.2. */
static int milenage_autn(struct milenage *m, const uint8_t *sqn,
			 const uint8_t *amf, const uint8_t *ak, uint8_t *autn)
{
	uint8_t out1[BLOCK_LEN];
	int rc;

	rc = milenage_out1(m, sqn, amf, out1);
	if (!rc) {
		xor_bytes(autn, sqn, ak, HSS_SQN_LEN);
		memcpy(autn + HSS_SQN_LEN, amf, HSS_AMF_LEN);
		memcpy(autn + HSS_SQN_LEN + HSS_AMF_LEN, out1, HSS_MAC_LEN);
	}
	OPENSSL_cleanse(out1, sizeof(out1));
	return rc;
}

int hss_milenage_autn(const uint8_t *k, const uint8_t *opc, const uint8_t *rand,
		      const uint8_t *sqn, const uint8_t *amf, uint8_t *autn)
{
	struct milenage m;
	uint8_t ak[HSS_AK_LEN];
	int rc;

	if (!k || !opc || !rand || !sqn || !amf || !autn)
		return -EINVAL;
	rc = milenage_start(&m, k, opc, rand);
	if (rc)
		return rc;
	rc = milenage_f2345(&m, NULL, NULL, NULL, ak);
	if (!rc)
		rc = milenage_autn(&m, sqn, amf, ak, autn);
	OPENSSL_cleanse(ak, sizeof(ak));
	milenage_end(&m);
	return rc;
}

int hss_milenage_vector(const uint8_t *k, const uint8_t *opc,
			const uint8_t *rand, const uint8_t *sqn,
			const uint8_t *amf, struct hss_aka_vector *vec)
{
	struct milenage m;
	uint8_t ak[HSS_AK_LEN];
	int rc;

	if (!k || !opc || !rand || !sqn || !amf || !vec)
		return -EINVAL;
	rc = milenage_start(&m, k, opc, rand);
	if (rc)
		return rc;
	memcpy(vec->rand, rand, HSS_RAND_LEN);
	rc = milenage_f2345(&m, vec->xres, vec->ck, vec->ik, ak);
	if (!rc)
		rc = milenage_autn(&m, sqn, amf, ak, vec->autn);
	OPENSSL_cleanse(ak, sizeof(ak));
	milenage_end(&m);
	return rc;
}

int hss_milenage_auts(const uint8_t *k, const uint8_t *opc, const uint8_t *rand,
		      const uint8_t *sqn_ms, uint8_t *auts)
{
	struct milenage m;
	uint8_t ak_s[HSS_AK_LEN], out1[BLOCK_LEN];
	int rc;

	if (!k || !opc || !rand || !sqn_ms || !auts)
		return -EINVAL;
	rc = milenage_start(&m, k, opc, rand);
	if (rc)
		return rc;
	rc = milenage_f5star(&m, ak_s);
	if (!rc)
		rc = milenage_out1(&m, sqn_ms, amf_resync, out1);
	if (!rc) {
		xor_bytes(auts, sqn_ms, ak_s, HSS_SQN_LEN);
		memcpy(auts + HSS_SQN_LEN, out1 + 8, HSS_MAC_LEN);
	}
	OPENSSL_cleanse(ak_s, sizeof(ak_s));
	OPENSSL_cleanse(out1, sizeof(out1));
	milenage_end(&m);
	return rc;
}

int hss_milenage_auts_check(const uint8_t *k, const uint8_t *opc,
			    const uint8_t *rand, const uint8_t *auts,
			    uint8_t *sqn_ms, uint8_t *xmac_s)
{
	struct milenage m;
	uint8_t ak_s[HSS_AK_LEN], out1[BLOCK_LEN];
	int rc;

	if (!k || !opc || !rand || !auts || !sqn_ms)
		return -EINVAL;
	rc = milenage_start(&m, k, opc, rand);
	if (rc)
		return rc;
	/* TS 33.102 6.3.5: SQN_MS from Conc(SQN_MS) and AK*, then MAC-S. */
	rc = milenage_f5star(&m, ak_s);
	if (!rc) {
		xor_bytes(sqn_ms, auts, ak_s, HSS_SQN_LEN);
		rc = milenage_out1(&m, sqn_ms, amf_resync, out1);
	}
	if (!rc && xmac_s)
		memcpy(xmac_s, out1 + 8, HSS_MAC_LEN);
	/* Constant time: a timing oracle on MAC-S would help forge AUTS. */
	if (!rc && CRYPTO_memcmp(out1 + 8, auts + HSS_SQN_LEN, HSS_MAC_LEN))
		rc = -EBADMSG;
	OPENSSL_cleanse(ak_s, sizeof(ak_s));
	OPENSSL_cleanse(out1, sizeof(out1));
	milenage_end(&m);
	return rc;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hss_hex_parse(const char *hex, uint8_t *out, size_t len)
{
	size_t i, n;

	if (!hex || (!out && len))
		return -EINVAL;
	n = strlen(hex);
	for (i = 0; i < n; i++)
		if (hex_digit(hex[i]) < 0)
			return -EINVAL;
	if (n != 2 * len)
		return -ERANGE;
	for (i = 0; i < len; i++)
		out[i] = (uint8_t)(hex_digit(hex[2 * i]) << 4 |
				   hex_digit(hex[2 * i + 1]));
	return 0;
}

int hss_hex_format(const uint8_t *in, size_t len, char *text, size_t text_size)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if ((!in && len) || !text)
		return -EINVAL;
	if (text_size < 2 * len + 1)
		return -ENOSPC;
	for (i = 0; i < len; i++) {
		text[2 * i] = digits[in[i] >> 4];
		text[2 * i + 1] = digits[in[i] & 0x0f];
	}
	text[2 * len] = '\0';
	return 0;
}
