/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hss_milenage.h - the Milenage algorithm set (3GPP TS 35.206) and the
 * UMTS/IMS AKA helpers built on it (3GPP TS 33.102 6.3).
 *
 * Ownership and sizes
 *   Every buffer is owned by the caller and has the fixed size given by
 *   the HSS_*_LEN constants below (bytes, network order, as in the specs).
 *   No function allocates memory that outlives the call, keeps a pointer,
 *   or has global state: all functions are reentrant and thread-safe.
 *   Output buffers must not overlap input buffers.  An output pointer that
 *   is documented as optional may be NULL, in which case that value is not
 *   computed.  Secret intermediate values are wiped before returning.
 *
 * Errors
 *   0 on success or a negative errno-style code:
 *   -EINVAL   a required pointer is NULL, or a hex string has a non-hex
 *             character;
 *   -ERANGE   a hex string does not have exactly 2 * len digits;
 *   -ENOSPC   a text buffer is too small;
 *   -ENOMEM   libcrypto could not allocate its cipher context;
 *   -EBADMSG  an AUTS whose MAC-S does not verify (re-synchronisation
 *             refused, TS 33.102 6.3.5);
 *   -EIO      libcrypto failed to run AES.
 *   Nothing is printed: callers log with the context they have.
 */
#ifndef TANDEM_HSS_MILENAGE_H
#define TANDEM_HSS_MILENAGE_H

#include <stddef.h>
#include <stdint.h>

#define HSS_K_LEN 16	/* subscriber key K */
#define HSS_OP_LEN 16	/* operator variant OP, and OPc */
#define HSS_RAND_LEN 16 /* random challenge RAND */
#define HSS_SQN_LEN 6	/* sequence number SQN */
#define HSS_AMF_LEN 2	/* authentication management field AMF */
#define HSS_MAC_LEN 8	/* MAC-A (f1) and MAC-S (f1*) */
#define HSS_RES_LEN 8	/* RES / XRES (f2), full 64-bit form */
#define HSS_CK_LEN 16	/* cipher key CK (f3) */
#define HSS_IK_LEN 16	/* integrity key IK (f4) */
#define HSS_AK_LEN 6	/* anonymity keys AK (f5) and AK* (f5*) */
#define HSS_AUTN_LEN 16 /* SQN ^ AK || AMF || MAC-A */
#define HSS_AUTS_LEN 14 /* SQN_MS ^ AK* || MAC-S */

/* One authentication vector, TS 33.102 6.3.2 (the quintet). */
struct hss_aka_vector {
	uint8_t rand[HSS_RAND_LEN];
	uint8_t xres[HSS_RES_LEN];
	uint8_t ck[HSS_CK_LEN];
	uint8_t ik[HSS_IK_LEN];
	uint8_t autn[HSS_AUTN_LEN];
};

/* OPc = OP ^ E_K(OP), TS 35.206 4.1. */
int hss_milenage_opc(const uint8_t *k, const uint8_t *op, uint8_t *opc);

/*
 * f1 and f1*, TS 35.206 4.1: MAC-A (network authentication) and MAC-S
 * (re-synchronisation) over SQN, RAND and AMF.  mac_a and mac_s are each
 * optional, HSS_MAC_LEN bytes.
 */
int hss_milenage_f1(const uint8_t *k, const uint8_t *opc, const uint8_t *rand,
		    const uint8_t *sqn, const uint8_t *amf, uint8_t *mac_a,
		    uint8_t *mac_s);

/*
 * f2, f3, f4 and f5, TS 35.206 4.1: RES, CK, IK and AK from RAND.  Every
 * output is optional.
 */
int hss_milenage_f2345(const uint8_t *k, const uint8_t *opc,
		       const uint8_t *rand, uint8_t *res, uint8_t *ck,
		       uint8_t *ik, uint8_t *ak);

/* f5*, TS 35.206 4.1: AK* (the anonymity key of re-synchronisation). */
int hss_milenage_f5star(const uint8_t *k, const uint8_t *opc,
			const uint8_t *rand, uint8_t *ak_s);

/* AUTN = (SQN ^ AK) || AMF || MAC-A, TS 33.102 6.3.2. */
int hss_milenage_autn(const uint8_t *k, const uint8_t *opc, const uint8_t *rand,
		      const uint8_t *sqn, const uint8_t *amf, uint8_t *autn);

/*
 * A full authentication vector for RAND (copied into vec->rand), SQN and
 * AMF, TS 33.102 6.3.2.  The caller chooses RAND (RAND_bytes in
 * production, fixed values in tests) and keeps SQN per subscriber.
 */
int hss_milenage_vector(const uint8_t *k, const uint8_t *opc,
			const uint8_t *rand, const uint8_t *sqn,
			const uint8_t *amf, struct hss_aka_vector *vec);

/*
 * AUTS = (SQN_MS ^ AK*) || MAC-S, as the USIM builds it, TS 33.102 6.3.3.
 * MAC-S is f1* over SQN_MS, RAND and AMF = 0x0000 (the AMF is a dummy of
 * all zeros so that it never travels in clear).  Used by tests and by a
 * simulated UE.
 */
int hss_milenage_auts(const uint8_t *k, const uint8_t *opc, const uint8_t *rand,
		      const uint8_t *sqn_ms, uint8_t *auts);

/*
 * Checks a re-synchronisation token, TS 33.102 6.3.5: recovers SQN_MS with
 * f5* and verifies MAC-S with f1* (AMF = 0x0000).  sqn_ms is written even
 * when MAC-S does not match, so that the caller can log it; it must not be
 * used then.  xmac_s (optional) receives the expected MAC-S.
 * Returns 0 when MAC-S matches, -EBADMSG when it does not.
 */
int hss_milenage_auts_check(const uint8_t *k, const uint8_t *opc,
			    const uint8_t *rand, const uint8_t *auts,
			    uint8_t *sqn_ms, uint8_t *xmac_s);

/*
 * Strict hex to bytes: hex must have exactly 2 * len hex digits (either
 * case), nothing else: no "0x", no spaces.  out (len bytes) is left
 * untouched on error.
 */
int hss_hex_parse(const char *hex, uint8_t *out, size_t len);

/*
 * Bytes to lower-case hex with a terminating NUL; text_size must be at
 * least 2 * len + 1.
 */
int hss_hex_format(const uint8_t *in, size_t len, char *text, size_t text_size);

#endif /* TANDEM_HSS_MILENAGE_H */
