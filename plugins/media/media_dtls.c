// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_dtls.c - DTLS-SRTP (RFC 5764) on OpenSSL 3: our certificate, the
 * handshake over memory BIOs, the fingerprint check, the key export.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "media_dtls.h"

/* configure accepts OpenSSL 1.1.1; these two came with 3.0 */
#if OPENSSL_VERSION_NUMBER < 0x30000000L
#include <openssl/ec.h>
#define SSL_get1_peer_certificate SSL_get_peer_certificate

static EVP_PKEY *EVP_EC_gen(const char *curve)
{
	EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	EVP_PKEY *key = EVP_PKEY_new();

	(void)curve;
	if (!ec || !key || !EC_KEY_generate_key(ec) ||
	    !EVP_PKEY_assign_EC_KEY(key, ec)) {
		EC_KEY_free(ec);
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}
#endif

#define MTU		1200	/* datagrams we send, RTP path safe */
#define RECORD_HEADER	13	/* DTLS record header (RFC 6347 4.1) */
#define CERT_DAYS	30
#define EXPORTER_LABEL	"EXTRACTOR-dtls_srtp"	/* RFC 5764 4.2 */

/* Ours first: GCM, then the AES-CM suites (RFC 5764 4.1.2, RFC 7714 14.2). */
#define SRTP_PROFILES \
	"SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32"

struct media_dtls_ctx {
	SSL_CTX *ssl_ctx;
	char fingerprint[MEDIA_DTLS_FINGERPRINT_MAX];
};

struct media_dtls {
	SSL *ssl;
	BIO *rbio, *wbio;		/* owned by ssl */
	bool client;
	bool done, failed;
	uint8_t want[32];		/* the peer's certificate digest */
};

/* ---- the context ------------------------------------------------------- */

static void format_fingerprint(const uint8_t *md, unsigned n, char *out,
			       size_t size)
{
	size_t off = (size_t)snprintf(out, size, "sha-256 ");
	unsigned i;

	for (i = 0; i < n && off + 3 < size; i++)
		off += (size_t)snprintf(out + off, size - off, "%s%02X",
					i ? ":" : "", md[i]);
}

static X509 *self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;
	uint64_t serial = 0;

	if (!x)
		return NULL;
	RAND_bytes((unsigned char *)&serial, sizeof(serial));
	X509_set_version(x, 2);
	ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial >> 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * CERT_DAYS);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"tandem", -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (!X509_sign(x, key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Self-signed certificates are the rule here: the SDP fingerprint, checked
 * after the handshake, is what authenticates the peer (RFC 5763 5). */
static int accept_any(int ok, X509_STORE_CTX *store)
{
	(void)ok, (void)store;
	return 1;
}

static int setup_ctx(struct media_dtls_ctx *c, EVP_PKEY *key, X509 *cert)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	c->ssl_ctx = SSL_CTX_new(DTLS_method());
	if (!c->ssl_ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(c->ssl_ctx, DTLS1_2_VERSION);
	if (SSL_CTX_use_certificate(c->ssl_ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(c->ssl_ctx, key) != 1 ||
	    SSL_CTX_set_tlsext_use_srtp(c->ssl_ctx, SRTP_PROFILES) != 0 ||
	    !X509_digest(cert, EVP_sha256(), md, &n))
		return -EIO;
	SSL_CTX_set_verify(c->ssl_ctx,
			   SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   accept_any);
	format_fingerprint(md, n, c->fingerprint, sizeof(c->fingerprint));
	return 0;
}

int media_dtls_ctx_new(struct media_dtls_ctx **out)
{
	struct media_dtls_ctx *c = calloc(1, sizeof(*c));
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key ? self_signed(key) : NULL;
	int rc = c && cert ? setup_ctx(c, key, cert) : -ENOMEM;

	X509_free(cert);
	EVP_PKEY_free(key);
	if (rc < 0) {
		media_dtls_ctx_free(c);
		ERR_clear_error();
		return rc;
	}
	*out = c;
	return 0;
}

void media_dtls_ctx_free(struct media_dtls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

const char *media_dtls_fingerprint(const struct media_dtls_ctx *ctx)
{
	return ctx->fingerprint;
}

bool media_dtls_is_dtls(const uint8_t *pkt, size_t len)
{
	return len >= RECORD_HEADER && pkt[0] >= 20 && pkt[0] <= 63;
}

/* ---- one handshake ------------------------------------------------------ */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "sha-256 AB:CD:..." -> 32 octets */
static int parse_fingerprint(const char *text, uint8_t *md)
{
	const char *p = text;
	unsigned i;

	if (strncasecmp(p, "sha-256", 7))
		return -EINVAL;
	p += 7;
	while (*p == ' ')
		p++;
	for (i = 0; i < 32; i++) {
		int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);

		if (lo < 0)
			return -EINVAL;
		md[i] = (uint8_t)(hi << 4 | lo);
		p += 2;
		if (i < 31 && *p++ != ':')
			return -EINVAL;
	}
	return *p && *p != '\r' && *p != '\n' && *p != ' ' ? -EINVAL : 0;
}

static void step(struct media_dtls *d)
{
	int rc, err;

	if (d->done || d->failed)
		return;
	rc = SSL_do_handshake(d->ssl);
	if (rc == 1)
		return;
	err = SSL_get_error(d->ssl, rc);
	if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
		d->failed = true;
	ERR_clear_error();
}

int media_dtls_new(struct media_dtls_ctx *ctx, bool client,
		   const char *fingerprint, struct media_dtls **out)
{
	struct media_dtls *d;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (!fingerprint || parse_fingerprint(fingerprint, d->want) < 0) {
		free(d);
		return -EINVAL;
	}
	d->client = client;
	d->ssl = SSL_new(ctx->ssl_ctx);
	d->rbio = BIO_new(BIO_s_mem());
	d->wbio = BIO_new(BIO_s_mem());
	if (!d->ssl || !d->rbio || !d->wbio) {
		BIO_free(d->rbio);
		BIO_free(d->wbio);
		SSL_free(d->ssl);
		free(d);
		return -ENOMEM;
	}
	BIO_set_mem_eof_return(d->rbio, -1);
	SSL_set_bio(d->ssl, d->rbio, d->wbio);
	SSL_set_options(d->ssl, SSL_OP_NO_QUERY_MTU);
	DTLS_set_link_mtu(d->ssl, MTU);
	if (client)
		SSL_set_connect_state(d->ssl);
	else
		SSL_set_accept_state(d->ssl);
	step(d);		/* the client's first flight */
	*out = d;
	return 0;
}

void media_dtls_free(struct media_dtls *d)
{
	if (!d)
		return;
	SSL_free(d->ssl);
	free(d);
}

static bool right_peer(struct media_dtls *d)
{
	X509 *peer = SSL_get1_peer_certificate(d->ssl);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	bool ok;

	ok = peer && X509_digest(peer, EVP_sha256(), md, &n) && n == 32 &&
	     !memcmp(md, d->want, 32);
	X509_free(peer);
	return ok;
}

int media_dtls_input(struct media_dtls *d, const uint8_t *pkt, size_t len)
{
	if (d->failed)
		return -EPROTO;
	if (d->done)
		return 0;	/* a retransmitted final flight: nothing to do */
	BIO_write(d->rbio, pkt, (int)len);
	step(d);
	if (d->failed)
		return -EPROTO;
	if (!SSL_is_init_finished(d->ssl))
		return 0;
	if (!right_peer(d)) {
		d->failed = true;
		return -EPROTO;
	}
	d->done = true;
	return 1;
}

void media_dtls_tick(struct media_dtls *d)
{
	if (!d->done && !d->failed && DTLSv1_handle_timeout(d->ssl) < 0)
		d->failed = true;
}

/*
 * What OpenSSL wrote, cut at record boundaries into datagrams of at most
 * MTU octets (a memory BIO keeps no datagram boundaries; DTLS allows
 * several records in one datagram, RFC 6347 4.1.1).
 */
int media_dtls_output(struct media_dtls *d, uint8_t *buf, size_t size)
{
	char *data;
	long avail = BIO_get_mem_data(d->wbio, &data);
	size_t take = 0;

	while (avail > 0 && take + RECORD_HEADER <= (size_t)avail) {
		size_t rec = RECORD_HEADER +
			     ((size_t)(uint8_t)data[take + 11] << 8 |
			      (uint8_t)data[take + 12]);

		if (take + rec > (size_t)avail ||
		    (take && take + rec > MTU) || take + rec > size)
			break;
		take += rec;
	}
	if (!take)
		return 0;
	BIO_read(d->wbio, buf, (int)take);
	return (int)take;
}

bool media_dtls_done(const struct media_dtls *d)
{
	return d->done;
}

static int suite_of(unsigned long id, enum media_srtp_suite *suite)
{
	switch (id) {
	case SRTP_AES128_CM_SHA1_80:
		*suite = MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80;
		return 0;
	case SRTP_AES128_CM_SHA1_32:
		*suite = MEDIA_SRTP_AES_CM_128_HMAC_SHA1_32;
		return 0;
	case SRTP_AEAD_AES_128_GCM:
		*suite = MEDIA_SRTP_AEAD_AES_128_GCM;
		return 0;
	default:
		return -EPROTO;
	}
}

/* RFC 5764 4.2: client key | server key | client salt | server salt. */
int media_dtls_keys(struct media_dtls *d, struct media_srtp_crypto *local,
		    struct media_srtp_crypto *remote)
{
	SRTP_PROTECTION_PROFILE *p = d->done ?
		SSL_get_selected_srtp_profile(d->ssl) : NULL;
	enum media_srtp_suite suite;
	uint8_t km[2 * MEDIA_SRTP_MAX_KEY_SALT];
	size_t total, key = 16, salt;
	struct media_srtp_crypto *client = d->client ? local : remote;
	struct media_srtp_crypto *server = d->client ? remote : local;

	if (!p || suite_of(p->id, &suite) < 0)
		return -EPROTO;
	total = media_srtp_suite_key_salt_len(suite);
	salt = total - key;
	if (SSL_export_keying_material(d->ssl, km, 2 * total, EXPORTER_LABEL,
				       strlen(EXPORTER_LABEL), NULL, 0, 0) != 1)
		return -EPROTO;
	memset(local, 0, sizeof(*local));
	memset(remote, 0, sizeof(*remote));
	client->suite = server->suite = suite;
	client->tag = server->tag = 1;
	client->key_salt_len = server->key_salt_len = total;
	memcpy(client->key_salt, km, key);
	memcpy(server->key_salt, km + key, key);
	memcpy(client->key_salt + key, km + 2 * key, salt);
	memcpy(server->key_salt + key, km + 2 * key + salt, salt);
	return 0;
}
