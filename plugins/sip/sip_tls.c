/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_tls: SIP over TLS (RFC 3261 26.2, RFC 5630) with OpenSSL, TLS 1.2 or
 * 1.3 only. One server context for TLS listeners (certificate and key,
 * optionally requiring client certificates from tls_ca: mutual TLS) and
 * one client context for connections we open (the server's chain checked
 * against tls_ca, and its certificate against the address we connected
 * to; our certificate offered when the server asks).
 *
 * The transport drives handshakes and I/O on non-blocking sockets; what
 * OpenSSL wants next (read or write readiness) is passed back to it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sip_int.h"

static SSL_CTX *server_ctx, *client_ctx;

static void ssl_why(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, size);
	else
		snprintf(buf, size, "%s", errno ? strerror(errno) : "closed");
	ERR_clear_error();
}

static int min_version(void)
{
	return strcmp(sip_cfg->tls_min_version, "1.3") == 0 ? TLS1_3_VERSION :
							      TLS1_2_VERSION;
}

static SSL_CTX *ctx_new(bool server)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() :
					    TLS_client_method());
	const char *ca = sip_cfg->tls_ca;
	char why[256];

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, min_version());
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (*sip_cfg->tls_cert &&
	    (SSL_CTX_use_certificate_chain_file(ctx, sip_cfg->tls_cert) != 1 ||
	     SSL_CTX_use_PrivateKey_file(ctx, sip_cfg->tls_key,
					 SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_check_private_key(ctx) != 1)) {
		ssl_why(why, sizeof(why));
		tnd_error("%s: tls_cert/tls_key: %s",
			  sip_host->where("sip", "tls_cert"), why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if ((*ca && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) ||
	    (!*ca && SSL_CTX_set_default_verify_paths(ctx) != 1)) {
		ssl_why(why, sizeof(why));
		tnd_error("%s: tls_ca: %s", sip_host->where("sip", "tls_ca"),
			  why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (server && sip_cfg->tls_verify_client)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
					SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	if (!server && sip_cfg->tls_verify_server)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

int sip_tls_init(bool listening)
{
	if (listening && (!*sip_cfg->tls_cert || !*sip_cfg->tls_key)) {
		tnd_error("%s: a TLS listener needs tls_cert and tls_key",
			  sip_host->where("sip", "listen"));
		return -EINVAL;
	}
	if (listening) {
		server_ctx = ctx_new(true);
		if (!server_ctx)
			return -EINVAL;
	}
	client_ctx = ctx_new(false);
	return client_ctx ? 0 : -EINVAL;
}

void sip_tls_fini(void)
{
	SSL_CTX_free(server_ctx);
	SSL_CTX_free(client_ctx);
	server_ctx = client_ctx = NULL;
}

SSL *sip_tls_new(int fd, bool server, const struct sip_addr *peer)
{
	SSL_CTX *ctx = server ? server_ctx : client_ctx;
	char ip[INET6_ADDRSTRLEN];
	SSL *ssl;

	if (!ctx)
		return NULL;
	ssl = SSL_new(ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	if (server) {
		SSL_set_accept_state(ssl);
	} else {
		/* RFC 5922 7.2: the identity is what we connected to */
		sip_addr_ip(peer, ip, sizeof(ip));
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip);
		SSL_set_connect_state(ssl);
	}
	return ssl;
}

void sip_tls_free(SSL *ssl)
{
	SSL_free(ssl);
}

/* What OpenSSL waits for, as io events; or -1 for a real failure. */
static int wants(SSL *ssl, int rc, char *why, size_t size)
{
	int e = SSL_get_error(ssl, rc);

	if (e == SSL_ERROR_WANT_READ)
		return TND_IO_READ;
	if (e == SSL_ERROR_WANT_WRITE)
		return TND_IO_WRITE;
	if (e == SSL_ERROR_ZERO_RETURN)
		snprintf(why, size, "closed by the peer");
	else if (e == SSL_ERROR_SSL &&
		 SSL_get_verify_result(ssl) != X509_V_OK)
		snprintf(why, size, "certificate: %s",
			 X509_verify_cert_error_string(
				 SSL_get_verify_result(ssl)));
	else
		ssl_why(why, size);
	ERR_clear_error();
	return -1;
}

int sip_tls_handshake(SSL *ssl, int *want, char *why, size_t size)
{
	int rc = SSL_do_handshake(ssl);

	if (rc == 1)
		return 1;
	*want = wants(ssl, rc, why, size);
	return *want < 0 ? -1 : 0;
}

long sip_tls_read(SSL *ssl, void *buf, size_t len, int *want, char *why,
		  size_t size)
{
	int rc = SSL_read(ssl, buf, len > 0x7fffffff ? 0x7fffffff : (int)len);

	if (rc > 0)
		return rc;
	*want = wants(ssl, rc, why, size);
	if (*want < 0)
		return SSL_get_error(ssl, rc) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
	return -2;
}

long sip_tls_write(SSL *ssl, const void *buf, size_t len, int *want,
		   char *why, size_t size)
{
	int rc = SSL_write(ssl, buf, len > 0x7fffffff ? 0x7fffffff : (int)len);

	if (rc > 0)
		return rc;
	*want = wants(ssl, rc, why, size);
	return *want < 0 ? -1 : -2;
}

bool sip_tls_pending(SSL *ssl)
{
	return SSL_pending(ssl) > 0;
}

/* "TLSv1.3, CN=..." of an established connection, for the log. */
void sip_tls_describe(SSL *ssl, char *buf, size_t size)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	char subject[256] = "no certificate";

	if (cert) {
		X509_NAME_oneline(X509_get_subject_name(cert), subject,
				  sizeof(subject));
		X509_free(cert);
	}
	snprintf(buf, size, "%s, %s", SSL_get_version(ssl), subject);
}

/* 1 when the verified certificate of `ssl` names `name` (a DNS
 * subjectAltName, else the CN: X509_check_host, RFC 6125), 0 when it does
 * not, -ENOENT when the peer showed no certificate that was verified. */
int sip_tls_peer_is(SSL *ssl, const char *name)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	int rc;

	if (!cert)
		return -ENOENT;
	if (SSL_get_verify_result(ssl) != X509_V_OK) {
		X509_free(cert);
		return -ENOENT;
	}
	rc = X509_check_host(cert, name, strlen(name), 0, NULL);
	X509_free(cert);
	return rc == 1;
}
