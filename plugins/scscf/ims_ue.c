/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ims-ue: a small IMS UE for the tests, with what sipp lacks: a USIM that
 * checks SQN and answers a challenge it finds stale with AUTS (TS 33.102
 * 6.3.3, RFC 3310 3.4). It registers one identity over UDP:
 *
 *   ims-ue -p LOCAL_PORT -u USER -k K -o OP [--sqn-ahead N]
 *          [-r REMOTE_PORT] [-d DOMAIN]
 *
 * With --sqn-ahead N the USIM believes it has seen SQN N*32, so the
 * network's first challenge is out of range: the UE sends AUTS, and must
 * get a second challenge above its SQN, which it answers. It prints one
 * line per step ("challenge: 401 sqn=...", "resync: 401 after AUTS
 * sqn=...", "registered: 200") and exits 0 when registered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hss_milenage.h"
#include "ims_util.h"

struct ue {
	int fd;
	int local_port, remote_port;
	const char *user, *domain;
	uint8_t k[16], opc[16];
	uint64_t sqn_ms;
	unsigned cseq;
	char call_id[32], tag[16];
	char rsp[8192];
};

static uint64_t sqn_of(const uint8_t b[6])
{
	uint64_t v = 0;

	for (int i = 0; i < 6; i++)
		v = v << 8 | b[i];
	return v;
}

static void sqn_bytes(uint64_t v, uint8_t b[6])
{
	for (int i = 5; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

static int open_socket(struct ue *ue)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	ue->fd = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_port = htons((uint16_t)ue->local_port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return ue->fd < 0 || bind(ue->fd, (struct sockaddr *)&a, sizeof(a))
		       ? -errno
		       : 0;
}

static int send_register(struct ue *ue, const char *authz)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	char msg[4096], branch[20];
	int n;

	ims_token(branch, sizeof(branch));
	n = snprintf(msg, sizeof(msg),
		     "REGISTER sip:%s SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
		     "Max-Forwards: 70\r\n"
		     "From: <sip:%s@%s>;tag=%s\r\n"
		     "To: <sip:%s@%s>\r\n"
		     "Call-ID: %s\r\n"
		     "CSeq: %u REGISTER\r\n"
		     "Contact: <sip:%s@127.0.0.1:%d>\r\n"
		     "Authorization: %s\r\n"
		     "Expires: 600\r\n"
		     "Content-Length: 0\r\n\r\n",
		     ue->domain, ue->local_port, branch, ue->user, ue->domain,
		     ue->tag, ue->user, ue->domain, ue->call_id, ++ue->cseq,
		     ue->user, ue->local_port, authz);
	to.sin_port = htons((uint16_t)ue->remote_port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sendto(ue->fd, msg, (size_t)n, 0, (struct sockaddr *)&to,
		      sizeof(to)) == n
		       ? 0
		       : -EIO;
}

/* The next final response (100s skipped); its status, or -1. */
static int final_response(struct ue *ue)
{
	for (int tries = 0; tries < 20; tries++) {
		struct pollfd p = { .fd = ue->fd, .events = POLLIN };
		ssize_t n;
		int status;

		if (poll(&p, 1, 5000) <= 0)
			return -1;
		n = recv(ue->fd, ue->rsp, sizeof(ue->rsp) - 1, 0);
		if (n <= 0)
			return -1;
		ue->rsp[n] = '\0';
		if (sscanf(ue->rsp, "SIP/2.0 %d", &status) == 1 &&
		    status >= 200)
			return status;
	}
	return -1;
}

/* The value of a header line of the last response. */
static int header(const struct ue *ue, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);

	for (const char *p = strstr(ue->rsp, "\r\n"); p;
	     p = strstr(p, "\r\n")) {
		p += 2;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1, *e = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			return ims_fmt(out, size, "%.*s", (int)(e - v), v);
		}
	}
	return -ENOENT;
}

struct challenge {
	char nonce[128];
	uint8_t rand[16], autn[16];
	uint64_t sqn;
	uint8_t ak[6];
};

static int read_challenge(struct ue *ue, struct challenge *c)
{
	char www[1024];
	uint8_t blob[32];

	if (header(ue, "WWW-Authenticate", www, sizeof(www)) ||
	    ims_auth_param(www, "nonce", c->nonce, sizeof(c->nonce)) ||
	    ims_b64_decode(c->nonce, blob, sizeof(blob)) != 32)
		return -EINVAL;
	memcpy(c->rand, blob, 16);
	memcpy(c->autn, blob + 16, 16);
	if (hss_milenage_f2345(ue->k, ue->opc, c->rand, NULL, NULL, NULL,
			       c->ak))
		return -EIO;
	for (int i = 0; i < 6; i++)
		blob[i] = c->autn[i] ^ c->ak[i];
	c->sqn = sqn_of(blob);
	return 0;
}

/* The Digest answer with RES as the password (RFC 3310 3.3). */
static void answer(struct ue *ue, const struct challenge *c, char *out,
		   size_t size)
{
	uint8_t res[8];
	char ha1[33], ha2[33], rsp[33], uri[128], user[128];

	hss_milenage_f2345(ue->k, ue->opc, c->rand, res, NULL, NULL, NULL);
	snprintf(user, sizeof(user), "%s@%s", ue->user, ue->domain);
	snprintf(uri, sizeof(uri), "sip:%s", ue->domain);
	ims_md5_hex(ha1, user, strlen(user), ":", (size_t)1, ue->domain,
		    strlen(ue->domain), ":", (size_t)1, res, sizeof(res), NULL);
	ims_md5_hex(ha2, "REGISTER:", (size_t)9, uri, strlen(uri), NULL);
	ims_md5_hex(rsp, ha1, (size_t)32, ":", (size_t)1, c->nonce,
		    strlen(c->nonce), ":00000001:0a4f113b:auth:", (size_t)24,
		    ha2, (size_t)32, NULL);
	snprintf(out, size,
		 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
		 "uri=\"%s\", response=\"%s\", algorithm=AKAv1-MD5, "
		 "qop=auth, nc=00000001, cnonce=\"0a4f113b\"",
		 user, ue->domain, c->nonce, uri, rsp);
}

/* RFC 3310 3.4: AUTS, and a response made with an empty password. */
static void resync(struct ue *ue, const struct challenge *c, char *out,
		   size_t size)
{
	uint8_t sqn[6], auts[14];
	char b64[32], user[128];

	sqn_bytes(ue->sqn_ms, sqn);
	hss_milenage_auts(ue->k, ue->opc, c->rand, sqn, auts);
	ims_b64_encode(auts, sizeof(auts), b64, sizeof(b64));
	snprintf(user, sizeof(user), "%s@%s", ue->user, ue->domain);
	snprintf(out, size,
		 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
		 "uri=\"sip:%s\", response=\"\", algorithm=AKAv1-MD5, "
		 "auts=\"%s\"",
		 user, ue->domain, c->nonce, ue->domain, b64);
}

static int run(struct ue *ue)
{
	char authz[1024];
	struct challenge c;
	int status;

	snprintf(authz, sizeof(authz),
		 "Digest username=\"%s@%s\", realm=\"%s\", nonce=\"\", "
		 "uri=\"sip:%s\", response=\"\"",
		 ue->user, ue->domain, ue->domain, ue->domain);
	if (send_register(ue, authz) || (status = final_response(ue)) != 401 ||
	    read_challenge(ue, &c)) {
		printf("error: no AKA challenge\n");
		return 1;
	}
	printf("challenge: 401 sqn=%llu\n", (unsigned long long)c.sqn);
	if (c.sqn <= ue->sqn_ms) {
		/* TS 33.102 6.3.3: not in the USIM's range */
		resync(ue, &c, authz, sizeof(authz));
		if (send_register(ue, authz) ||
		    (status = final_response(ue)) != 401 ||
		    read_challenge(ue, &c)) {
			printf("error: no challenge after AUTS\n");
			return 1;
		}
		printf("resync: 401 after AUTS sqn=%llu\n",
		       (unsigned long long)c.sqn);
		if (c.sqn <= ue->sqn_ms) {
			printf("error: SQN still not above %llu\n",
			       (unsigned long long)ue->sqn_ms);
			return 1;
		}
	}
	answer(ue, &c, authz, sizeof(authz));
	if (send_register(ue, authz) || (status = final_response(ue)) < 0) {
		printf("error: no answer to the registration\n");
		return 1;
	}
	printf("%s: %d\n", status == 200 ? "registered" : "refused", status);
	return status == 200 ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: ims-ue -p LOCAL_PORT -u USER -k K -o OP "
			"[--sqn-ahead N] [-r REMOTE_PORT] [-d DOMAIN]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sqn-ahead", required_argument, NULL, 'a' },
		{ 0 },
	};
	struct ue ue = { .remote_port = 5060, .domain = "ims.lab" };
	uint8_t op[16];
	const char *k = NULL, *o = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "p:u:k:o:r:d:", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'p': ue.local_port = atoi(optarg); break;
		case 'u': ue.user = optarg; break;
		case 'k': k = optarg; break;
		case 'o': o = optarg; break;
		case 'r': ue.remote_port = atoi(optarg); break;
		case 'd': ue.domain = optarg; break;
		case 'a': ue.sqn_ms = strtoull(optarg, NULL, 10) * 32; break;
		default: usage();
		}
	}
	if (!ue.local_port || !ue.user || !k || !o ||
	    hss_hex_parse(k, ue.k, 16) || hss_hex_parse(o, op, 16) ||
	    hss_milenage_opc(ue.k, op, ue.opc))
		usage();
	ims_token(ue.call_id, sizeof(ue.call_id));
	ims_token(ue.tag, sizeof(ue.tag));
	if (open_socket(&ue)) {
		perror("ims-ue: socket");
		return 1;
	}
	c = run(&ue);
	close(ue.fd);
	return c;
}
