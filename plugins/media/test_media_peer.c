// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_media_peer - the far end of the media integration tests, written
 * against the system's libraries only (sockets, libsrtp2, SpanDSP), none
 * of the plugin's code, so that it checks the plugin from outside:
 *
 *   test_media_peer pcap FILE
 *       the RTP packets of a capture: packets=, payload_bytes=, payload_fnv=
 *   test_media_peer sink PORT COUNT TIMEOUT_MS
 *       receive RTP on 127.0.0.1:PORT until COUNT packets or the timeout;
 *       the same keys, plus seq_gaps= (sequence numbers not consecutive)
 *   test_media_peer srtp LOCAL_A CHAN_A LOCAL_B CHAN_B COUNT TX_KEY RX_KEY
 *       plain RTP on A, SRTP on B (KEY: SUITE:BASE64, libsrtp2 does the
 *       crypto): COUNT packets each way, payloads checked in order; then
 *       one tampered and one replayed packet into B
 *   test_media_peer dtls-cert DIR
 *       an ECDSA key and a self-signed certificate in DIR: fingerprint=
 *   test_media_peer dtls LOCAL_A CHAN_A LOCAL_B CHAN_B COUNT DIR FP
 *       as srtp, but leg B's keys come from a DTLS-SRTP handshake (we are
 *       the client, OpenSSL) whose server must show certificate FP
 *       (SHA-256, AB:CD:...): dtls=, suite=, then srtp's keys
 *   test_media_peer dtmf LOCAL_A CHAN_A LOCAL_B CHAN_B DIGITS EVENT_PT
 *       tones in band (PCMU) into A, 100 ms each, 300 ms apart; the RFC
 *       4733 events that come out of B are decoded and sent back into B
 *       150 ms later (so that the tones they become fall in the gaps of
 *       ours, as a far end's would); the tones that come out of A are
 *       detected: inband_to_events=, events_to_inband=, leak_b=
 *   test_media_peer fax LOCAL_A CHAN_A LOCAL_B CHAN_B TIFF_IN TIFF_OUT
 *       a SpanDSP fax terminal sends TIFF_IN (made first: one page at
 *       fine resolution) as G.711 A-law RTP into A; a SpanDSP T.38
 *       terminal answers on B over UDPTL (our own codec of it, with
 *       redundancy) and writes TIFF_OUT: tx_result=, rx_result=,
 *       pages_rx=, x_res=, y_res=, bad_rows=, bit_rate=; then the two
 *       pages compared row by row: rows=, rows_differ=
 *
 * Prints key=value lines; exits 0 when it ran (the test script judges
 * the numbers), 2 on a usage or system error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spandsp.h>
#include <srtp2/srtp.h>

#define FNV_OFFSET	0x811c9dc5u
#define FNV_PRIME	0x01000193u

struct tally {
	unsigned packets;
	unsigned long payload_bytes;
	uint32_t fnv;
	unsigned seq_gaps;
	int have_seq;
	uint16_t last_seq;
};

static void tally_init(struct tally *t)
{
	memset(t, 0, sizeof(*t));
	t->fnv = FNV_OFFSET;
}

/* Count one RTP packet (fixed header only, as the tests send). */
static void tally_rtp(struct tally *t, const uint8_t *p, size_t len)
{
	uint16_t seq;
	size_t i, off;

	if (len < 12 || p[0] >> 6 != 2)
		return;
	off = 12 + 4u * (p[0] & 0x0f);
	if (off > len)
		return;
	seq = (uint16_t)(p[2] << 8 | p[3]);
	if (t->have_seq && seq != (uint16_t)(t->last_seq + 1))
		t->seq_gaps++;
	t->have_seq = 1;
	t->last_seq = seq;
	t->packets++;
	t->payload_bytes += len - off;
	for (i = off; i < len; i++)
		t->fnv = (t->fnv ^ p[i]) * FNV_PRIME;
}

static void tally_print(const struct tally *t)
{
	printf("packets=%u\npayload_bytes=%lu\npayload_fnv=%08x\nseq_gaps=%u\n",
	       t->packets, t->payload_bytes, t->fnv, t->seq_gaps);
}

/* ---- pcap: the RTP in a capture (Ethernet or Linux cooked, IPv4, UDP) -- */

static uint32_t rd32(const uint8_t *p, int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

static int link_header_len(uint32_t linktype)
{
	switch (linktype) {
	case 1:
		return 14;	/* Ethernet */
	case 113:
		return 16;	/* Linux cooked capture */
	case 101:
		return 0;	/* raw IP */
	default:
		return -1;
	}
}

static void pcap_packet(struct tally *t, const uint8_t *p, size_t len,
			int link_len)
{
	size_t ihl;

	if (len < (size_t)link_len + 28)
		return;
	p += link_len;
	len -= (size_t)link_len;
	ihl = 4u * (p[0] & 0x0f);
	if (p[0] >> 4 != 4 || p[9] != IPPROTO_UDP || len < ihl + 8)
		return;
	tally_rtp(t, p + ihl + 8, len - ihl - 8);
}

static int cmd_pcap(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t hdr[24], rec[16];
	static uint8_t pkt[65536];
	struct tally t;
	int swap, link_len;

	if (!f || fread(hdr, 1, 24, f) != 24)
		return 2;
	swap = rd32(hdr, 0) == 0xd4c3b2a1u;
	link_len = link_header_len(rd32(hdr + 20, swap));
	if (link_len < 0)
		return 2;
	tally_init(&t);
	while (fread(rec, 1, 16, f) == 16) {
		uint32_t incl = rd32(rec + 8, swap);

		if (incl > sizeof(pkt) || fread(pkt, 1, incl, f) != incl)
			break;
		pcap_packet(&t, pkt, incl, link_len);
	}
	fclose(f);
	tally_print(&t);
	return 0;
}

/* ---- sink --------------------------------------------------------------- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int udp_socket(unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "bind 127.0.0.1:%u: %s\n", port,
			strerror(errno));
		return -1;
	}
	return fd;
}

static int cmd_sink(unsigned port, unsigned count, long long timeout_ms)
{
	int fd = udp_socket(port);
	long long end = now_ms() + timeout_ms;
	uint8_t buf[2048];
	struct tally t;

	if (fd < 0)
		return 2;
	printf("listening=%u\n", port);
	fflush(stdout);
	tally_init(&t);
	while (t.packets < count && now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0)
			tally_rtp(&t, buf, (size_t)n);
	}
	close(fd);
	tally_print(&t);
	return 0;
}

/* ---- shared by the two-leg modes ----------------------------------------- */

static int send_to(int fd, unsigned port, const void *buf, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return (int)sendto(fd, buf, len, 0, (struct sockaddr *)&sin,
			   sizeof(sin));
}

static void rtp_header(uint8_t *p, int marker, int pt, uint16_t seq,
		       uint32_t ts, uint32_t ssrc)
{
	p[0] = 0x80;
	p[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = (uint8_t)(ts >> 24);
	p[5] = (uint8_t)(ts >> 16);
	p[6] = (uint8_t)(ts >> 8);
	p[7] = (uint8_t)ts;
	p[8] = (uint8_t)(ssrc >> 24);
	p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8);
	p[11] = (uint8_t)ssrc;
}

static void sleep_until(long long *next_us, long long step_us)
{
	struct timespec ts;

	*next_us += step_us;
	ts.tv_sec = *next_us / 1000000;
	ts.tv_nsec = (*next_us % 1000000) * 1000;
	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* ---- srtp ------------------------------------------------------------------ */

static int b64_decode(const char *in, uint8_t *out, size_t max)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned acc = 0, bits = 0;
	size_t n = 0;

	for (; *in && *in != '='; in++) {
		const char *p = strchr(abc, *in);

		if (!p)
			return -1;
		acc = acc << 6 | (unsigned)(p - abc);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == max)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return (int)n;
}

/* A libsrtp session, inbound or outbound, any SSRC, from the suite's name
 * and its master key || salt. */
static srtp_t srtp_session_raw(const char *suite, size_t n, const uint8_t *key,
			       int inbound)
{
	srtp_policy_t policy;
	srtp_t session;

	memset(&policy, 0, sizeof(policy));
	if (!strncmp(suite, "AES_CM_128_HMAC_SHA1_80", n)) {
		srtp_crypto_policy_set_rtp_default(&policy.rtp);
		srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
	} else if (!strncmp(suite, "AES_CM_128_HMAC_SHA1_32", n)) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
		srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
	} else if (!strncmp(suite, "AEAD_AES_128_GCM", n)) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
	} else {
		return NULL;
	}
	policy.key = (uint8_t *)key;
	policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	policy.window_size = 128;
	if (srtp_create(&session, &policy) != srtp_err_status_ok)
		return NULL;
	return session;
}

/* "SUITE:KEY" (base64) -> a session. */
static srtp_t srtp_session(const char *arg, int inbound)
{
	static uint8_t key[64];
	const char *colon = strchr(arg, ':');

	if (!colon || b64_decode(colon + 1, key, sizeof(key)) < 28)
		return NULL;
	return srtp_session_raw(arg, (size_t)(colon - arg), key, inbound);
}

struct flow {
	unsigned sent, ok, bad;
	uint32_t ssrc;
	uint16_t seq;
};

static void fill_payload(uint8_t *p, unsigned idx, unsigned dir)
{
	unsigned j;

	for (j = 0; j < 160; j++)
		p[j] = (uint8_t)(idx * 7 + j * 3 + dir * 101);
}

/* The flow's next packet, protected when tx is set; its length. */
static int build_flow(struct flow *f, srtp_t tx, unsigned dir, uint8_t *pkt)
{
	int len = 12 + 160;

	rtp_header(pkt, f->sent == 0, 0, f->seq++, f->sent * 160u, f->ssrc);
	fill_payload(pkt + 12, f->sent, dir);
	f->sent++;
	if (tx && srtp_protect(tx, pkt, &len) != srtp_err_status_ok)
		return -1;
	return len;
}

static void send_flow(int fd, unsigned port, struct flow *f, srtp_t tx,
		      unsigned dir, uint8_t *keep, int *keep_len)
{
	uint8_t pkt[256];
	int len = build_flow(f, tx, dir, pkt);

	if (len < 0)
		return;
	if (keep) {
		memcpy(keep, pkt, (size_t)len);
		*keep_len = len;
	}
	send_to(fd, port, pkt, (size_t)len);
}

static void recv_flow(int fd, struct flow *f, srtp_t rx, unsigned dir)
{
	uint8_t pkt[2048], want[160];
	ssize_t n;

	while ((n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT)) > 0) {
		int len = (int)n;

		if (rx && srtp_unprotect(rx, pkt, &len) != srtp_err_status_ok) {
			f->bad++;
			continue;
		}
		fill_payload(want, f->ok, dir);
		if (len == 12 + 160 && !memcmp(pkt + 12, want, 160))
			f->ok++;
		else
			f->bad++;
	}
}

/* COUNT packets each way: plain on A, SRTP on B; then a replayed and a
 * tampered packet into B. Prints the tallies. */
static void run_flows(int fa, unsigned chan_a, int fb, unsigned chan_b,
		      unsigned count, srtp_t tx, srtp_t rx)
{
	struct flow ab = { .ssrc = 0x0a0a0a0a }, ba = { .ssrc = 0x0b0b0b0b };
	uint8_t replay[256];
	int replay_len = 0;
	long long next = now_us(), end, idle;
	unsigned i;

	for (i = 0; i < count; i++) {
		send_flow(fa, chan_a, &ab, NULL, 0, NULL, NULL);
		send_flow(fb, chan_b, &ba, tx, 1, i == count / 2 ? replay : NULL,
			  &replay_len);
		recv_flow(fb, &ab, rx, 0);
		recv_flow(fa, &ba, NULL, 1);
		sleep_until(&next, 2000);
	}
	/* the last packets may be slow to come back (a sanitizer build on a
	 * busy machine): wait while they still arrive, 3 s after the last
	 * one at most, 10 s in all; none of it once all are in */
	end = now_us() + 10000000;
	for (idle = now_us() + 3000000; now_us() < end && now_us() < idle &&
	     (ab.ok + ab.bad < count || ba.ok + ba.bad < count);) {
		unsigned before = ab.ok + ab.bad + ba.ok + ba.bad;

		sleep_until(&next, 10000);
		recv_flow(fb, &ab, rx, 0);
		recv_flow(fa, &ba, NULL, 1);
		if (ab.ok + ab.bad + ba.ok + ba.bad != before)
			idle = now_us() + 3000000;
	}
	/* a replayed packet, and a new one with a payload bit flipped */
	send_to(fb, chan_b, replay, (size_t)replay_len);
	replay_len = build_flow(&ba, tx, 1, replay);
	replay[20] ^= 0x01;
	if (replay_len > 0)
		send_to(fb, chan_b, replay, (size_t)replay_len);
	printf("a_to_b_sent=%u\na_to_b_ok=%u\na_to_b_bad=%u\n"
	       "b_to_a_sent=%u\nb_to_a_ok=%u\nb_to_a_bad=%u\n",
	       ab.sent, ab.ok, ab.bad, count, ba.ok, ba.bad);
}

static int cmd_srtp(char **argv)
{
	int fa = udp_socket((unsigned)atoi(argv[0]));
	int fb = udp_socket((unsigned)atoi(argv[2]));
	srtp_t tx, rx;

	srtp_init();
	tx = srtp_session(argv[5], 0);
	rx = srtp_session(argv[6], 1);
	if (fa < 0 || fb < 0 || !tx || !rx)
		return 2;
	run_flows(fa, (unsigned)atoi(argv[1]), fb, (unsigned)atoi(argv[3]),
		  (unsigned)atoi(argv[4]), tx, rx);
	srtp_dealloc(tx);
	srtp_dealloc(rx);
	srtp_shutdown();
	close(fa);
	close(fb);
	return 0;
}

/* ---- dtls ------------------------------------------------------------------ */

static void hex_digest(X509 *x, char *out, size_t size)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned n = 0, i;
	size_t off = 0;

	out[0] = '\0';
	if (!x || !X509_digest(x, EVP_sha256(), md, &n))
		return;
	for (i = 0; i < n && off + 4 < size; i++)
		off += (size_t)snprintf(out + off, size - off, "%s%02X",
					i ? ":" : "", md[i]);
}

static int cmd_dtls_cert(const char *dir)
{
	char path[512], fp[128];
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	FILE *f;

	if (!key || !x)
		return 2;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"peer", -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (!X509_sign(x, key, EVP_sha256()))
		return 2;
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	f = fopen(path, "w");
	if (!f || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL))
		return 2;
	fclose(f);
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	f = fopen(path, "w");
	if (!f || !PEM_write_X509(f, x))
		return 2;
	fclose(f);
	hex_digest(x, fp, sizeof(fp));
	printf("fingerprint=%s\n", fp);
	X509_free(x);
	EVP_PKEY_free(key);
	return 0;
}

static int accept_any(int ok, X509_STORE_CTX *store)
{
	(void)ok, (void)store;
	return 1;
}

/* SSL_connect until done, for at most 10 s: each 200 ms read timeout
 * (SO_RCVTIMEO) is a WANT_READ, after which the flight is resent when
 * DTLS's own timer says so. A slow far end (a sanitizer build on a busy
 * machine) is waited for, not failed. */
static int dtls_handshake(SSL *ssl)
{
	long long end = now_ms() + 10000;
	int rc;

	while ((rc = SSL_connect(ssl)) != 1 && now_ms() < end) {
		if (SSL_get_error(ssl, rc) != SSL_ERROR_WANT_READ)
			break;
		DTLSv1_handle_timeout(ssl);
	}
	return rc;
}

static SSL *dtls_connect(int fd, unsigned port, const char *dir)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { 0, 200000 };
	char path[512];
	SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
	SSL *ssl;
	BIO *bio;

	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	if (!ctx || SSL_CTX_use_certificate_file(ctx, path, SSL_FILETYPE_PEM) != 1)
		return NULL;
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	if (SSL_CTX_use_PrivateKey_file(ctx, path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AES128_CM_SHA1_80") != 0)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssl = SSL_new(ctx);
	bio = BIO_new_dgram(fd, BIO_NOCLOSE);
	BIO_ctrl(bio, BIO_CTRL_DGRAM_SET_CONNECTED, 0, &sin);
	SSL_set_bio(ssl, bio, bio);
	SSL_CTX_free(ctx);	/* the SSL keeps its reference */
	if (dtls_handshake(ssl) != 1) {
		ERR_print_errors_fp(stderr);
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

/* RFC 5764 4.2: we are the client: we write with the client's key. */
static int dtls_sessions(SSL *ssl, srtp_t *tx, srtp_t *rx)
{
	uint8_t km[60], c[30], s[30];
	static const char label[] = "EXTRACTOR-dtls_srtp";

	if (SSL_export_keying_material(ssl, km, sizeof(km), label,
				       strlen(label), NULL, 0, 0) != 1)
		return -1;
	memcpy(c, km, 16);
	memcpy(s, km + 16, 16);
	memcpy(c + 16, km + 32, 14);
	memcpy(s + 16, km + 46, 14);
	*tx = srtp_session_raw("AES_CM_128_HMAC_SHA1_80", 23, c, 0);
	*rx = srtp_session_raw("AES_CM_128_HMAC_SHA1_80", 23, s, 1);
	return *tx && *rx ? 0 : -1;
}

static int cmd_dtls(char **argv)
{
	int fa = udp_socket((unsigned)atoi(argv[0]));
	int fb = udp_socket((unsigned)atoi(argv[2]));
	SSL *ssl;
	X509 *server;
	char fp[128];
	srtp_t tx, rx;
	struct timeval none = { 0, 0 };

	srtp_init();
	if (fa < 0 || fb < 0)
		return 2;
	ssl = dtls_connect(fb, (unsigned)atoi(argv[3]), argv[5]);
	printf("dtls=%s\n", ssl ? "ok" : "failed");
	if (!ssl)
		return 0;
	server = SSL_get1_peer_certificate(ssl);
	hex_digest(server, fp, sizeof(fp));
	X509_free(server);
	printf("server_fingerprint_ok=%s\nsuite=%s\n",
	       strcasecmp(fp, argv[6]) ? "no" : "yes",
	       SSL_get_selected_srtp_profile(ssl) ?
		       SSL_get_selected_srtp_profile(ssl)->name : "none");
	if (dtls_sessions(ssl, &tx, &rx) < 0)
		return 2;
	setsockopt(fb, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	run_flows(fa, (unsigned)atoi(argv[1]), fb, (unsigned)atoi(argv[3]),
		  (unsigned)atoi(argv[4]), tx, rx);
	srtp_dealloc(tx);
	srtp_dealloc(rx);
	SSL_free(ssl);
	close(fa);
	close(fb);
	return 0;
}

/* ---- dtmf ------------------------------------------------------------------ */

struct detected {
	char digits[64];
	size_t n;
};

static void on_digits(void *user, const char *digits, int len)
{
	struct detected *d = user;
	int i;

	for (i = 0; i < len && d->n + 1 < sizeof(d->digits); i++)
		d->digits[d->n++] = digits[i];
	d->digits[d->n] = '\0';
}

struct events_in {
	struct detected got;
	int have_ts;
	uint32_t ts;
	int ended;
};

static const char dtmf_chars[] = "0123456789*#ABCD";

/* RFC 4733 events out of B: note each digit once, at its end. */
static void take_event(struct events_in *e, const uint8_t *pkt, size_t len)
{
	uint32_t ts = (uint32_t)pkt[4] << 24 | (uint32_t)pkt[5] << 16 |
		      (uint32_t)pkt[6] << 8 | pkt[7];
	const uint8_t *ev = pkt + 12;

	if (len < 16 || ev[0] > 15)
		return;
	if (!e->have_ts || ts != e->ts) {
		e->have_ts = 1;
		e->ts = ts;
		e->ended = 0;
	}
	if ((ev[1] & 0x80) && !e->ended) {
		e->ended = 1;
		on_digits(&e->got, &dtmf_chars[ev[0]], 1);
	}
}

#define HOLD_US		150000
#define HOLD_MAX	256

/* Event packets waiting to go back into B. */
struct held {
	long long due_us;
	size_t len;
	uint8_t pkt[64];
};

struct dtmf_run {
	struct held held[HOLD_MAX];
	unsigned held_head, held_count;
	int fa, fb;
	unsigned chan_a, chan_b;
	int event_pt;
	dtmf_rx_state_t *rx_a, *rx_b;
	struct detected got_a, leak_b;
	struct events_in ev_b;
	uint16_t seq_b;
};

static void pcmu_to_rx(dtmf_rx_state_t *rx, const uint8_t *p, size_t n)
{
	int16_t pcm[480];
	size_t i;

	for (i = 0; i < n && i < 480; i++)
		pcm[i] = ulaw_to_linear(p[i]);
	dtmf_rx(rx, pcm, (int)i);
}

static void hold(struct dtmf_run *r, const uint8_t *pkt, size_t len);

static void drain_dtmf(struct dtmf_run *r)
{
	uint8_t pkt[2048];
	ssize_t n;

	while ((n = recv(r->fa, pkt, sizeof(pkt), MSG_DONTWAIT)) > 12)
		if ((pkt[1] & 0x7f) == 0)
			pcmu_to_rx(r->rx_a, pkt + 12, (size_t)n - 12);
	while ((n = recv(r->fb, pkt, sizeof(pkt), MSG_DONTWAIT)) > 12) {
		if ((pkt[1] & 0x7f) == 0) {
			pcmu_to_rx(r->rx_b, pkt + 12, (size_t)n - 12);
			continue;
		}
		if ((pkt[1] & 0x7f) != r->event_pt)
			continue;
		take_event(&r->ev_b, pkt, (size_t)n);
		hold(r, pkt, (size_t)n);
	}
}

static void hold(struct dtmf_run *r, const uint8_t *pkt, size_t len)
{
	struct held *h;

	if (r->held_count == HOLD_MAX || len > sizeof(h->pkt))
		return;
	h = &r->held[(r->held_head + r->held_count++) % HOLD_MAX];
	h->due_us = now_us() + HOLD_US;
	h->len = len;
	memcpy(h->pkt, pkt, len);
}

/* Back into B, as our own stream, once their time has come. */
static void release_held(struct dtmf_run *r)
{
	while (r->held_count) {
		struct held *h = &r->held[r->held_head];

		if (h->due_us > now_us())
			return;
		h->pkt[2] = (uint8_t)(r->seq_b >> 8);
		h->pkt[3] = (uint8_t)r->seq_b++;
		memset(h->pkt + 8, 0x5b, 4);
		send_to(r->fb, r->chan_b, h->pkt, h->len);
		r->held_head = (r->held_head + 1) % HOLD_MAX;
		r->held_count--;
	}
}

static int cmd_dtmf(char **argv)
{
	static struct dtmf_run r;
	const char *digits = argv[4];
	size_t ndigits = strlen(digits);
	unsigned frames = (unsigned)ndigits * 20 + 100, i, k;
	dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
	long long next = now_us();
	uint8_t pkt[12 + 160];

	r.fa = udp_socket((unsigned)atoi(argv[0]));
	r.chan_a = (unsigned)atoi(argv[1]);
	r.fb = udp_socket((unsigned)atoi(argv[2]));
	r.chan_b = (unsigned)atoi(argv[3]);
	r.event_pt = atoi(argv[5]);
	r.rx_a = dtmf_rx_init(NULL, on_digits, &r.got_a);
	r.rx_b = dtmf_rx_init(NULL, on_digits, &r.leak_b);
	if (r.fa < 0 || r.fb < 0 || !tx || !r.rx_a || !r.rx_b)
		return 2;
	/* 100 ms of tone, 300 ms of silence per digit */
	dtmf_tx_set_timing(tx, 100, 300);
	dtmf_tx_put(tx, digits, -1);
	/* 2 s of silence after the last digit, up to 5 s more while digits
	 * are still on their way back (a slow build, a busy machine) */
	for (i = 0; i < frames || (i < frames + 250 &&
				   (r.ev_b.got.n < ndigits || r.got_a.n < ndigits));
	     i++) {
		int16_t pcm[160];
		int n = dtmf_tx(tx, pcm, 160);

		for (k = (unsigned)(n > 0 ? n : 0); k < 160; k++)
			pcm[k] = 0;
		rtp_header(pkt, i == 0, 0, (uint16_t)i, i * 160, 0x0a0a0a0a);
		for (k = 0; k < 160; k++)
			pkt[12 + k] = linear_to_ulaw(pcm[k]);
		send_to(r.fa, r.chan_a, pkt, sizeof(pkt));
		drain_dtmf(&r);
		release_held(&r);
		sleep_until(&next, 20000);
	}
	drain_dtmf(&r);
	printf("inband_to_events=%s\nevents_to_inband=%s\nleak_b=%s\n",
	       r.ev_b.got.digits, r.got_a.digits, r.leak_b.digits);
	dtmf_tx_free(tx);
	dtmf_rx_free(r.rx_a);
	dtmf_rx_free(r.rx_b);
	close(r.fa);
	close(r.fb);
	return 0;
}

/* ---- fax ------------------------------------------------------------------- */

#define PAGE_WIDTH	1728
#define PAGE_ROWS	400

/* One page, 204 x 196 dpi (fine), G3: stripes and a frame. */
static int make_page(const char *path)
{
	TIFF *t = TIFFOpen(path, "w");
	uint8_t row[PAGE_WIDTH / 8];
	unsigned r;

	if (!t)
		return -1;
	TIFFSetField(t, TIFFTAG_IMAGEWIDTH, PAGE_WIDTH);
	TIFFSetField(t, TIFFTAG_IMAGELENGTH, PAGE_ROWS);
	TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
	TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX3);
	TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
	TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB);
	TIFFSetField(t, TIFFTAG_XRESOLUTION, 204.0);
	TIFFSetField(t, TIFFTAG_YRESOLUTION, 196.0);
	TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
	TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, PAGE_ROWS);
	TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(t, TIFFTAG_PAGENUMBER, 0, 1);
	for (r = 0; r < PAGE_ROWS; r++) {
		memset(row, (r / 16) % 2 ? 0x0f : 0x00, sizeof(row));
		row[0] |= 0x80;
		row[sizeof(row) - 1] |= 0x01;
		if (r < 4 || r >= PAGE_ROWS - 4)
			memset(row, 0xff, sizeof(row));
		if (TIFFWriteScanline(t, row, r, 0) < 0) {
			TIFFClose(t);
			return -1;
		}
	}
	TIFFWriteDirectory(t);
	TIFFClose(t);
	return 0;
}

/* UDPTL (T.38 9.1), written here apart from the plugin's: 3 secondaries. */
#define PEER_REDUNDANCY 3

struct peer_udptl {
	uint16_t seq;
	uint8_t hist[PEER_REDUNDANCY][400];
	int hist_len[PEER_REDUNDANCY];
	int started;
	uint16_t next;
};

static size_t put_len(uint8_t *p, size_t len)
{
	if (len < 128) {
		p[0] = (uint8_t)len;
		return 1;
	}
	p[0] = (uint8_t)(0x80 | len >> 8);
	p[1] = (uint8_t)len;
	return 2;
}

static int udptl_pack(struct peer_udptl *u, const uint8_t *ifp, int len,
		      uint8_t *out)
{
	size_t off = 0;
	int i, n = u->seq < PEER_REDUNDANCY ? u->seq : PEER_REDUNDANCY;

	if (len < 0 || len > 400)
		return -1;
	out[off++] = (uint8_t)(u->seq >> 8);
	out[off++] = (uint8_t)u->seq;
	off += put_len(out + off, (size_t)len);
	memcpy(out + off, ifp, (size_t)len);
	off += (size_t)len;
	out[off++] = 0;
	out[off++] = (uint8_t)n;
	for (i = 0; i < n; i++) {
		int k = (u->seq - 1 - i) % PEER_REDUNDANCY;

		off += put_len(out + off, (size_t)u->hist_len[k]);
		memcpy(out + off, u->hist[k], (size_t)u->hist_len[k]);
		off += (size_t)u->hist_len[k];
	}
	memcpy(u->hist[u->seq % PEER_REDUNDANCY], ifp, (size_t)len);
	u->hist_len[u->seq % PEER_REDUNDANCY] = len;
	u->seq++;
	return (int)off;
}

static const uint8_t *get_open(const uint8_t **p, const uint8_t *end,
			       size_t *len)
{
	const uint8_t *d;

	if (*p >= end)
		return NULL;
	if (**p & 0x80) {
		if (end - *p < 2)
			return NULL;
		*len = (size_t)(**p & 0x3f) << 8 | (*p)[1];
		*p += 2;
	} else {
		*len = **p;
		*p += 1;
	}
	if ((size_t)(end - *p) < *len)
		return NULL;
	d = *p;
	*p += *len;
	return d;
}

/* Primary and secondaries to the T.38 core, in order, gaps filled. */
static void udptl_unpack(struct peer_udptl *u, const uint8_t *pkt, size_t n,
			 t38_core_state_t *core)
{
	const uint8_t *p = pkt + 2, *end = pkt + n, *prim, *sec[8];
	size_t plen, slen[8], count = 0, i;
	uint16_t seq, gap;

	if (n < 4)
		return;
	seq = (uint16_t)(pkt[0] << 8 | pkt[1]);
	prim = get_open(&p, end, &plen);
	if (!prim || p >= end)
		return;
	if (!(*p++ & 0x80) && p < end) {
		size_t want = *p++;

		for (i = 0; i < want && count < 8; i++) {
			sec[count] = get_open(&p, end, &slen[count]);
			if (!sec[count])
				break;
			count++;
		}
	}
	if (!u->started) {
		u->started = 1;
		u->next = seq;
	}
	gap = (uint16_t)(seq - u->next);
	if (gap >= 0x8000)
		return;
	for (i = gap; i > 0; i--)
		if (i - 1 < count)
			t38_core_rx_ifp_packet(core, sec[i - 1], (int)slen[i - 1],
					       (uint16_t)(seq - i));
	t38_core_rx_ifp_packet(core, prim, (int)plen, seq);
	u->next = (uint16_t)(seq + 1);
}

/* Rows of the received page, and how many differ from the sent one. */
static void compare_pages(const char *sent, const char *got, int *rows,
			  int *differ)
{
	TIFF *a = TIFFOpen(sent, "r"), *b = TIFFOpen(got, "r");
	uint8_t ra[PAGE_WIDTH / 8], rb[PAGE_WIDTH / 8];
	uint32_t w = 0, h = 0, r;

	*rows = 0;
	*differ = -1;
	if (a && b && TIFFGetField(b, TIFFTAG_IMAGEWIDTH, &w) &&
	    TIFFGetField(b, TIFFTAG_IMAGELENGTH, &h) && w == PAGE_WIDTH) {
		*rows = (int)h;
		*differ = 0;
		for (r = 0; r < h && r < PAGE_ROWS; r++)
			if (TIFFReadScanline(a, ra, r, 0) < 0 ||
			    TIFFReadScanline(b, rb, r, 0) < 0 ||
			    memcmp(ra, rb, sizeof(ra)))
				(*differ)++;
	}
	if (a)
		TIFFClose(a);
	if (b)
		TIFFClose(b);
}

struct fax_run {
	int fa, fb;
	unsigned chan_a, chan_b;
	struct peer_udptl udptl;
	int tx_done, rx_done;
	int tx_result, rx_result;
};

static int t38_send(t38_core_state_t *core, void *user, const uint8_t *ifp,
		    int len, int count)
{
	struct fax_run *r = user;
	uint8_t pkt[2048];
	int n = udptl_pack(&r->udptl, ifp, len, pkt);

	(void)core, (void)count;
	if (n > 0)
		send_to(r->fb, r->chan_b, pkt, (size_t)n);
	return 0;
}

static void tx_ended(t30_state_t *s, void *user, int code)
{
	struct fax_run *r = user;

	(void)s;
	r->tx_done = 1;
	r->tx_result = code;
}

static void rx_ended(t30_state_t *s, void *user, int code)
{
	struct fax_run *r = user;

	(void)s;
	r->rx_done = 1;
	r->rx_result = code;
}

static void fax_audio_in(struct fax_run *r, fax_state_t *fax)
{
	uint8_t pkt[2048];
	int16_t pcm[480];
	ssize_t n;
	size_t i;

	while ((n = recv(r->fa, pkt, sizeof(pkt), MSG_DONTWAIT)) > 12) {
		for (i = 0; i < (size_t)n - 12 && i < 480; i++)
			pcm[i] = alaw_to_linear(pkt[12 + i]);
		fax_rx(fax, pcm, (int)i);
	}
}

static void fax_t38_in(struct fax_run *r, t38_core_state_t *core)
{
	uint8_t pkt[2048];
	ssize_t n;

	while ((n = recv(r->fb, pkt, sizeof(pkt), MSG_DONTWAIT)) > 0)
		udptl_unpack(&r->udptl, pkt, (size_t)n, core);
}

static void fax_audio_out(struct fax_run *r, fax_state_t *fax, unsigned i)
{
	uint8_t pkt[12 + 160];
	int16_t pcm[160];
	int k, got = fax_tx(fax, pcm, 160);

	for (k = got > 0 ? got : 0; k < 160; k++)
		pcm[k] = 0;
	rtp_header(pkt, i == 0, 8, (uint16_t)i, i * 160, 0x0fa0fa00);
	for (k = 0; k < 160; k++)
		pkt[12 + k] = linear_to_alaw(pcm[k]);
	send_to(r->fa, r->chan_a, pkt, sizeof(pkt));
}

static fax_state_t *fax_sender(struct fax_run *r, const char *tiff)
{
	fax_state_t *fax = fax_init(NULL, 1);
	t30_state_t *t30 = fax ? fax_get_t30_state(fax) : NULL;

	if (!t30)
		return NULL;
	fax_set_transmit_on_idle(fax, 1);
	t30_set_tx_ident(t30, "tandem sender");
	t30_set_tx_file(t30, tiff, -1, -1);
	t30_set_supported_modems(t30, T30_SUPPORT_V27TER | T30_SUPPORT_V29 |
					      T30_SUPPORT_V17);
	t30_set_ecm_capability(t30, 1);
	t30_set_phase_e_handler(t30, tx_ended, r);
	return fax;
}

static t38_terminal_state_t *t38_receiver(struct fax_run *r, const char *tiff)
{
	t38_terminal_state_t *t38 = t38_terminal_init(NULL, 0, t38_send, r);
	t30_state_t *t30 = t38 ? t38_terminal_get_t30_state(t38) : NULL;
	t38_core_state_t *core;

	if (!t30)
		return NULL;
	core = t38_terminal_get_t38_core_state(t38);
	t38_set_t38_version(core, 0);
	t38_set_data_rate_management_method(core, 1);
	t30_set_tx_ident(t30, "tandem receiver");
	t30_set_rx_file(t30, tiff, -1);
	t30_set_supported_modems(t30, T30_SUPPORT_V27TER | T30_SUPPORT_V29 |
					      T30_SUPPORT_V17);
	t30_set_ecm_capability(t30, 1);
	t30_set_phase_e_handler(t30, rx_ended, r);
	return t38;
}

static int cmd_fax(char **argv)
{
	static struct fax_run r;
	fax_state_t *fax;
	t38_terminal_state_t *t38;
	t30_stats_t st;
	long long next = now_us();
	unsigned i, max = 90 * 50;	/* 90 s at most */
	int rows, differ;

	r.fa = udp_socket((unsigned)atoi(argv[0]));
	r.chan_a = (unsigned)atoi(argv[1]);
	r.fb = udp_socket((unsigned)atoi(argv[2]));
	r.chan_b = (unsigned)atoi(argv[3]);
	if (r.fa < 0 || r.fb < 0 || make_page(argv[4]) < 0)
		return 2;
	fax = fax_sender(&r, argv[4]);
	t38 = t38_receiver(&r, argv[5]);
	if (!fax || !t38)
		return 2;
	for (i = 0; i < max && !(r.tx_done && r.rx_done); i++) {
		fax_audio_out(&r, fax, i);
		fax_audio_in(&r, fax);
		fax_t38_in(&r, t38_terminal_get_t38_core_state(t38));
		t38_terminal_send_timeout(t38, 160);
		sleep_until(&next, 20000);
	}
	t30_get_transfer_statistics(t38_terminal_get_t30_state(t38), &st);
	printf("seconds=%.1f\ntx_result=%s\nrx_result=%s\npages_rx=%d\n"
	       "x_res=%d\ny_res=%d\nwidth=%d\nlength=%d\nbad_rows=%d\n"
	       "bit_rate=%d\necm=%d\n", i / 50.0,
	       r.tx_done ? t30_completion_code_to_str(r.tx_result) : "none",
	       r.rx_done ? t30_completion_code_to_str(r.rx_result) : "none",
	       st.pages_rx, st.x_resolution, st.y_resolution, st.width,
	       st.length, st.bad_rows, st.bit_rate, st.error_correcting_mode);
	fax_free(fax);
	t38_terminal_free(t38);	/* closes the received file */
	compare_pages(argv[4], argv[5], &rows, &differ);
	printf("rows=%d\nrows_differ=%d\n", rows, differ);
	close(r.fa);
	close(r.fb);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: test_media_peer pcap FILE\n"
			"       test_media_peer sink PORT COUNT TIMEOUT_MS\n"
			"       test_media_peer srtp LOCAL_A CHAN_A LOCAL_B "
			"CHAN_B COUNT TX_KEY RX_KEY\n"
			"       test_media_peer dtls-cert DIR\n"
			"       test_media_peer dtls LOCAL_A CHAN_A LOCAL_B "
			"CHAN_B COUNT DIR FINGERPRINT\n"
			"       test_media_peer dtmf LOCAL_A CHAN_A LOCAL_B "
			"CHAN_B DIGITS EVENT_PT\n"
			"       test_media_peer fax LOCAL_A CHAN_A LOCAL_B "
			"CHAN_B TIFF_IN TIFF_OUT\n");
	return 2;
}

static int run(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "pcap"))
		return cmd_pcap(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "sink"))
		return cmd_sink((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]),
				atoll(argv[4]));
	if (argc == 9 && !strcmp(argv[1], "srtp"))
		return cmd_srtp(argv + 2);
	if (argc == 8 && !strcmp(argv[1], "dtmf"))
		return cmd_dtmf(argv + 2);
	if (argc == 3 && !strcmp(argv[1], "dtls-cert"))
		return cmd_dtls_cert(argv[2]);
	if (argc == 9 && !strcmp(argv[1], "dtls"))
		return cmd_dtls(argv + 2);
	if (argc == 8 && !strcmp(argv[1], "fax"))
		return cmd_fax(argv + 2);
	return usage();
}

/* stdout is flushed before a sanitizer's exit-time report could cut it */
int main(int argc, char **argv)
{
	int rc = run(argc, argv);

	fflush(stdout);
	return rc;
}
