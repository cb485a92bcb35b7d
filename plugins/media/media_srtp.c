// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_srtp.c - SDES a=crypto lines (RFC 4568) and SRTP / SRTCP sessions
 * on libsrtp2 (RFC 3711, RFC 7714).
 */
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <srtp2/srtp.h>

#include "media_srtp.h"

#define TAG_MAX_DIGITS		9	/* RFC 4568 9.1: tag = 1*9DIGIT */
#define MKI_LEN_MAX_RFC		128	/* RFC 4568 9.1: 1..128 */
#define LIFETIME_LOG2_MAX	48	/* RFC 4568 6.2.1, RFC 7714 14.2 */

struct suite_info {
	const char *name;
	size_t key_salt_len;
};

static const struct suite_info suites[MEDIA_SRTP_SUITE_COUNT] = {
	[MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80] = {
		"AES_CM_128_HMAC_SHA1_80", 30 },
	[MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32] = {
		"AES_CM_128_HMAC_SHA1_32", 30 },
	[MEDIA_SRTP_AEAD_AES_128_GCM] = { "AEAD_AES_128_GCM", 28 },
};

const char *media_srtp_suite_name(enum media_srtp_suite suite)
{
	return (unsigned)suite < MEDIA_SRTP_SUITE_COUNT ? suites[suite].name :
							   NULL;
}

size_t media_srtp_suite_key_salt_len(enum media_srtp_suite suite)
{
	return (unsigned)suite < MEDIA_SRTP_SUITE_COUNT ?
		       suites[suite].key_salt_len : 0;
}

/* ---- base64 (RFC 4648 section 4, the alphabet RFC 4568 6.1 uses) ------- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;

	return p ? (int)(p - b64_alphabet) : -1;
}

/* Decode len characters; '=' padding is optional but only at the end.
 * Returns the octets written, or -1. */
static int b64_decode(const char *in, size_t len, uint8_t *out, size_t max)
{
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0;

	while (len > 0 && in[len - 1] == '=')
		len--;
	for (i = 0; i < len; i++) {
		int v = b64_value(in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == max)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* leftover bits must be zero padding of a whole final group */
	if (bits >= 6 || (acc & ((1u << bits) - 1)))
		return -1;
	return (int)n;
}

static size_t b64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i, n = 0;

	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[n++] = b64_alphabet[(v >> 18) & 63];
		out[n++] = b64_alphabet[(v >> 12) & 63];
		out[n++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[n++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	out[n] = '\0';
	return n;
}

/* ---- a=crypto parsing (RFC 4568 9.1) ----------------------------------- */

struct cursor {
	const char *p;
	const char *end;
};

static bool at_end(const struct cursor *c)
{
	return c->p >= c->end;
}

static bool skip_space(struct cursor *c)
{
	const char *start = c->p;

	while (!at_end(c) && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
	return c->p != start;
}

/* The next run of non-blank characters. */
static size_t take_token(struct cursor *c, const char **token)
{
	*token = c->p;
	while (!at_end(c) && *c->p != ' ' && *c->p != '\t')
		c->p++;
	return (size_t)(c->p - *token);
}

/* Decimal digits of [s, s + len) into *value; -EINVAL if not all digits,
 * -ERANGE if over max. */
static int parse_decimal(const char *s, size_t len, uint64_t max,
			 uint64_t *value)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*value = v;
	return 0;
}

static int parse_tag(struct cursor *c, uint32_t *tag)
{
	const char *start = c->p;
	uint64_t v = 0;
	int rc;

	while (!at_end(c) && isdigit((unsigned char)*c->p))
		c->p++;
	if (c->p == start || (!at_end(c) && *c->p != ' ' && *c->p != '\t'))
		return -EINVAL;
	if (c->p - start > TAG_MAX_DIGITS)
		return -ERANGE;
	rc = parse_decimal(start, (size_t)(c->p - start), 999999999, &v);
	*tag = (uint32_t)v;
	return rc;
}

static int parse_suite(const char *name, size_t len,
		       enum media_srtp_suite *suite)
{
	int i;

	for (i = 0; i < MEDIA_SRTP_SUITE_COUNT; i++) {
		if (strlen(suites[i].name) == len &&
		    !memcmp(suites[i].name, name, len)) {
			*suite = (enum media_srtp_suite)i;
			return 0;
		}
	}
	return -EPROTONOSUPPORT;
}

/* lifetime = ["2^"] 1*(DIGIT) */
static int parse_lifetime(const char *s, size_t len, uint64_t *lifetime)
{
	uint64_t v = 0;
	int rc;

	if (len > 2 && s[0] == '2' && s[1] == '^') {
		rc = parse_decimal(s + 2, len - 2, 63, &v);
		if (rc < 0)
			return rc;
		if (v > LIFETIME_LOG2_MAX)
			return -ERANGE;
		*lifetime = (uint64_t)1 << v;
		return 0;
	}
	rc = parse_decimal(s, len, (uint64_t)1 << LIFETIME_LOG2_MAX, &v);
	if (rc < 0)
		return rc;
	if (v == 0)
		return -ERANGE;
	*lifetime = v;
	return 0;
}

/* mki = mki-value ":" mki-length */
static int parse_mki(const char *s, size_t len, uint64_t *value,
		     unsigned *mki_len)
{
	const char *colon = memchr(s, ':', len);
	uint64_t v = 0, l = 0;
	int rc;

	if (!colon)
		return -EINVAL;
	rc = parse_decimal(colon + 1, len - (size_t)(colon + 1 - s), 999, &l);
	if (rc < 0)
		return -EINVAL;
	if (l < 1 || l > MKI_LEN_MAX_RFC)
		return -ERANGE;
	if (l > MEDIA_SRTP_MAX_MKI_LEN)
		return -ENOTSUP;
	rc = parse_decimal(s, (size_t)(colon - s), UINT64_MAX, &v);
	if (rc < 0)
		return rc;
	if (l < 8 && v >> (8 * l))
		return -ERANGE;
	*value = v;
	*mki_len = (unsigned)l;
	return 0;
}

/* key-info = key-salt ["|" lifetime] ["|" mki] */
static int parse_key_info(const char *s, size_t len,
			  struct media_srtp_crypto *out)
{
	const char *end = s + len, *field = s;
	size_t want = suites[out->suite].key_salt_len;
	int index = 0, rc = 0;

	while (field <= end && rc == 0) {
		const char *bar = memchr(field, '|', (size_t)(end - field));
		size_t flen = (size_t)((bar ? bar : end) - field);

		if (index == 0) {
			int n = b64_decode(field, flen, out->key_salt,
					   sizeof(out->key_salt));

			if (n < 0 || (size_t)n != want)
				return -EKEYREJECTED;
			out->key_salt_len = (size_t)n;
		} else if (memchr(field, ':', flen)) {
			if (out->mki_len)
				return -EINVAL;
			rc = parse_mki(field, flen, &out->mki_value,
				       &out->mki_len);
		} else {
			/* a lifetime must come first, and only once */
			if (out->lifetime || out->mki_len)
				return -EINVAL;
			rc = parse_lifetime(field, flen, &out->lifetime);
		}
		if (!bar)
			break;
		field = bar + 1;
		index++;
	}
	return rc;
}

/* key-params = key-param *(";" key-param); key-param = "inline:" key-info */
static int parse_key_params(const char *s, size_t len,
			    struct media_srtp_crypto *out)
{
	static const char method[] = "inline:";
	const size_t mlen = sizeof(method) - 1;

	if (memchr(s, ';', len))
		return -ENOTSUP;	/* several keys (RFC 4568 6.1) */
	if (len <= mlen || memcmp(s, method, mlen)) {
		/* another key method is valid syntax we don't do */
		return memchr(s, ':', len) ? -ENOTSUP : -EINVAL;
	}
	return parse_key_info(s + mlen, len - mlen, out);
}

static void skip_prefix(struct cursor *c, const char *prefix)
{
	size_t n = strlen(prefix);

	if ((size_t)(c->end - c->p) >= n && !strncasecmp(c->p, prefix, n))
		c->p += n;
}

int media_srtp_crypto_parse(const char *line, struct media_srtp_crypto *out)
{
	struct cursor c = { line, line + strlen(line) };
	const char *tok;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	while (c.end > c.p && (c.end[-1] == '\r' || c.end[-1] == '\n' ||
			       c.end[-1] == ' ' || c.end[-1] == '\t'))
		c.end--;
	skip_prefix(&c, "a=");
	skip_prefix(&c, "crypto:");

	rc = parse_tag(&c, &out->tag);
	if (rc < 0)
		return rc;
	if (!skip_space(&c))
		return -EINVAL;
	len = take_token(&c, &tok);
	rc = parse_suite(tok, len, &out->suite);
	if (rc < 0)
		return rc;
	if (!skip_space(&c))
		return -EINVAL;
	len = take_token(&c, &tok);
	rc = parse_key_params(tok, len, out);
	if (rc < 0)
		return rc;
	skip_space(&c);
	/* session parameters (RFC 4568 6.3: KDR, UNENCRYPTED_SRTP, ...) */
	return at_end(&c) ? 0 : -ENOTSUP;
}

/* ---- a=crypto generation ----------------------------------------------- */

static int format_lifetime(uint64_t lifetime, char *buf, size_t size)
{
	int log2;

	if (!lifetime)
		return 0;
	if (!(lifetime & (lifetime - 1))) {
		for (log2 = 0; ((uint64_t)1 << log2) != lifetime; log2++)
			;
		return snprintf(buf, size, "|2^%d", log2);
	}
	return snprintf(buf, size, "|%llu", (unsigned long long)lifetime);
}

int media_srtp_crypto_format(const struct media_srtp_crypto *crypto,
			     char *buf, size_t size)
{
	char key[64], life[32] = "", mki[32] = "";
	int n;

	if ((unsigned)crypto->suite >= MEDIA_SRTP_SUITE_COUNT ||
	    crypto->key_salt_len != suites[crypto->suite].key_salt_len ||
	    crypto->tag > 999999999 ||
	    crypto->mki_len > MEDIA_SRTP_MAX_MKI_LEN)
		return -EINVAL;
	b64_encode(crypto->key_salt, crypto->key_salt_len, key);
	format_lifetime(crypto->lifetime, life, sizeof(life));
	if (crypto->mki_len)
		snprintf(mki, sizeof(mki), "|%llu:%u",
			 (unsigned long long)crypto->mki_value,
			 crypto->mki_len);
	n = snprintf(buf, size, "a=crypto:%u %s inline:%s%s%s", crypto->tag,
		     suites[crypto->suite].name, key, life, mki);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

int media_srtp_crypto_generate(uint32_t tag, enum media_srtp_suite suite,
			       struct media_srtp_crypto *out)
{
	size_t len = media_srtp_suite_key_salt_len(suite);

	if (!len || tag > 999999999)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->tag = tag;
	out->suite = suite;
	out->key_salt_len = len;
	if (getrandom(out->key_salt, len, 0) != (ssize_t)len)
		return -EIO;
	return 0;
}

/* ---- sessions ---------------------------------------------------------- */

struct direction {
	srtp_t ctx;		/* NULL: this direction is not keyed */
	bool use_mki;
	uint64_t lifetime;	/* 0: the suite's own limit (libsrtp's) */
	uint64_t rtp_packets;
	uint64_t rtcp_packets;
};

struct media_srtp {
	struct direction tx;
	struct direction rx;
};

/*
 * libsrtp is initialised on first use. srtp_init() fails with bad_param
 * when someone else in the process (another plugin, a test's peer) has
 * done it: the library is usable then, but not ours to shut down.
 */
static pthread_mutex_t library_lock = PTHREAD_MUTEX_INITIALIZER;
static bool library_ready;
static bool library_ours;

/* libsrtp's messages would go to its default sink; drop them until the
 * plugin routes them to the host log. */
static void drop_log(srtp_log_level_t level, const char *msg, void *data)
{
	(void)level;
	(void)msg;
	(void)data;
}

static int library_init(void)
{
	srtp_err_status_t st;
	int rc = 0;

	pthread_mutex_lock(&library_lock);
	if (!library_ready) {
		st = srtp_init();
		library_ours = st == srtp_err_status_ok;
		library_ready = library_ours || st == srtp_err_status_bad_param;
		if (library_ours)
			srtp_install_log_handler(drop_log, NULL);
	}
	if (!library_ready)
		rc = -EIO;
	pthread_mutex_unlock(&library_lock);
	return rc;
}

void media_srtp_library_fini(void)
{
	pthread_mutex_lock(&library_lock);
	if (library_ours)
		srtp_shutdown();
	library_ready = false;
	library_ours = false;
	pthread_mutex_unlock(&library_lock);
}

static void set_crypto_policy(enum media_srtp_suite suite,
			      srtp_policy_t *policy)
{
	switch (suite) {
	case MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_rtp_default(&policy->rtp);
		srtp_crypto_policy_set_rtcp_default(&policy->rtcp);
		break;
	case MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32:
		/* RFC 4568 6.2.2: SRTCP keeps the 80-bit tag */
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy->rtp);
		srtp_crypto_policy_set_rtcp_default(&policy->rtcp);
		break;
	default:
		/* RFC 7714 14.2: 16-octet tag for both */
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy->rtcp);
		break;
	}
}

static int create_direction(const struct media_srtp_crypto *crypto,
			    srtp_ssrc_type_t ssrc_type, struct direction *dir)
{
	uint8_t key[SRTP_MAX_KEY_LEN] = { 0 }, mki[MEDIA_SRTP_MAX_MKI_LEN];
	srtp_master_key_t master = { key, mki, crypto->mki_len };
	srtp_master_key_t *keys[1] = { &master };
	srtp_policy_t policy;
	unsigned i;
	int rc;

	if ((unsigned)crypto->suite >= MEDIA_SRTP_SUITE_COUNT ||
	    crypto->key_salt_len != suites[crypto->suite].key_salt_len ||
	    crypto->mki_len > MEDIA_SRTP_MAX_MKI_LEN)
		return -EINVAL;
	memset(&policy, 0, sizeof(policy));
	set_crypto_policy(crypto->suite, &policy);
	policy.ssrc.type = ssrc_type;
	policy.window_size = 128;
	memcpy(key, crypto->key_salt, crypto->key_salt_len);
	if (crypto->mki_len) {
		/* the MKI travels in network byte order (RFC 3711 3.1) */
		for (i = 0; i < crypto->mki_len; i++)
			mki[i] = (uint8_t)(crypto->mki_value >>
					   (8 * (crypto->mki_len - 1 - i)));
		policy.keys = keys;
		policy.num_master_keys = 1;
	} else {
		policy.key = key;
	}
	rc = srtp_create(&dir->ctx, &policy) == srtp_err_status_ok ? 0 : -EIO;
	explicit_bzero(key, sizeof(key));
	dir->use_mki = crypto->mki_len != 0;
	dir->lifetime = crypto->lifetime;
	return rc;
}

int media_srtp_new(const struct media_srtp_crypto *local,
		   const struct media_srtp_crypto *remote,
		   struct media_srtp **out)
{
	struct media_srtp *s;
	int rc = 0;

	rc = library_init();
	if (rc < 0)
		return rc;
	if (!local && !remote)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (local)
		rc = create_direction(local, ssrc_any_outbound, &s->tx);
	if (rc == 0 && remote)
		rc = create_direction(remote, ssrc_any_inbound, &s->rx);
	if (rc < 0) {
		media_srtp_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void media_srtp_free(struct media_srtp *srtp)
{
	if (!srtp)
		return;
	if (srtp->tx.ctx)
		srtp_dealloc(srtp->tx.ctx);
	if (srtp->rx.ctx)
		srtp_dealloc(srtp->rx.ctx);
	free(srtp);
}

static int map_status(srtp_err_status_t st)
{
	switch (st) {
	case srtp_err_status_ok:
		return 0;
	case srtp_err_status_auth_fail:
		return MEDIA_SRTP_ERR_AUTH;
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return MEDIA_SRTP_ERR_REPLAY;
	case srtp_err_status_key_expired:
		return -EKEYEXPIRED;
	case srtp_err_status_bad_mki:
	case srtp_err_status_bad_param:
	case srtp_err_status_parse_err:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* Common checks; on success *n is the length as libsrtp wants it. */
static int check_packet(const struct direction *dir, uint64_t count,
			size_t len, size_t min_len, int *n)
{
	if (!dir->ctx || len < min_len || len > INT_MAX - MEDIA_SRTP_HEADROOM)
		return -EINVAL;
	if (dir->lifetime && count >= dir->lifetime)
		return -EKEYEXPIRED;
	*n = (int)len;
	return 0;
}

#define RTP_HEADER_MIN	12	/* RFC 3550 5.1 */
#define RTCP_HEADER_MIN	8	/* RFC 3550 6.4.1, sender SSRC included */

int media_srtp_protect_rtp(struct media_srtp *srtp, uint8_t *pkt,
			   size_t *len, size_t cap)
{
	struct direction *dir = &srtp->tx;
	int n, rc;

	rc = check_packet(dir, dir->rtp_packets, *len, RTP_HEADER_MIN, &n);
	if (rc < 0)
		return rc;
	if (cap < *len + MEDIA_SRTP_HEADROOM)
		return -ENOSPC;
	rc = map_status(srtp_protect_mki(dir->ctx, pkt, &n, dir->use_mki, 0));
	if (rc < 0)
		return rc;
	dir->rtp_packets++;
	*len = (size_t)n;
	return 0;
}

int media_srtp_unprotect_rtp(struct media_srtp *srtp, uint8_t *pkt,
			     size_t *len)
{
	struct direction *dir = &srtp->rx;
	int n, rc;

	rc = check_packet(dir, dir->rtp_packets, *len, RTP_HEADER_MIN, &n);
	if (rc < 0)
		return rc;
	rc = map_status(srtp_unprotect_mki(dir->ctx, pkt, &n, dir->use_mki));
	if (rc < 0)
		return rc;
	dir->rtp_packets++;
	*len = (size_t)n;
	return 0;
}

int media_srtp_protect_rtcp(struct media_srtp *srtp, uint8_t *pkt,
			    size_t *len, size_t cap)
{
	struct direction *dir = &srtp->tx;
	int n, rc;

	rc = check_packet(dir, dir->rtcp_packets, *len, RTCP_HEADER_MIN, &n);
	if (rc < 0)
		return rc;
	if (cap < *len + MEDIA_SRTP_HEADROOM)
		return -ENOSPC;
	rc = map_status(srtp_protect_rtcp_mki(dir->ctx, pkt, &n, dir->use_mki,
					      0));
	if (rc < 0)
		return rc;
	dir->rtcp_packets++;
	*len = (size_t)n;
	return 0;
}

int media_srtp_unprotect_rtcp(struct media_srtp *srtp, uint8_t *pkt,
			      size_t *len)
{
	struct direction *dir = &srtp->rx;
	int n, rc;

	rc = check_packet(dir, dir->rtcp_packets, *len, RTCP_HEADER_MIN, &n);
	if (rc < 0)
		return rc;
	rc = map_status(srtp_unprotect_rtcp_mki(dir->ctx, pkt, &n,
						dir->use_mki));
	if (rc < 0)
		return rc;
	dir->rtcp_packets++;
	*len = (size_t)n;
	return 0;
}
