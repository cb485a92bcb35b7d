/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf_uac: INVITE client transactions of the MGCF's own (RFC 3261 17.1.1
 * over UDP), for calls from the circuit toward IMS.
 *
 * Why: the sip service v1 crashes on the 2xx of an INVITE sent with
 * send_request() (its ack_2xx() reads the response's libosip2 message
 * after sip_txn_input() gave it to the state machine). Until that is
 * fixed, our INVITEs leave from a UDP socket of ours ([mgcf]
 * uac_address); everything else of the dialog (PRACK, BYE, the requests
 * IMS sends us at our Contact) still goes through the sip service.
 *
 * A transaction retransmits its INVITE (Timer A) until a response, gives
 * up after 64*T1 without one (Timer B), ACKs a 2xx to the Contact along
 * the route set (RFC 3261 13.2.2.4) and a failure within the transaction
 * (17.1.1.3), sends CANCEL after a provisional (9.1), and lingers 32 s
 * after its final response to ACK retransmissions (Timer D).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mgcf_int.h"

#define T1_MS 500
#define LINGER_MS 32000
#define MSG_MAX 8192

struct mgcf_uac {
	mgcf_uac_cb cb;
	void *arg;
	char branch[40];
	char via[160];
	char request_uri[MGCF_URI_MAX];
	char from[MGCF_URI_MAX + MGCF_TAG_MAX + 8];
	char to[MGCF_URI_MAX];
	char call_id[MGCF_CALLID_MAX];
	struct sockaddr_storage peer;
	socklen_t peer_len;
	char *invite;
	size_t invite_len;
	char *ack;
	size_t ack_len;
	struct sockaddr_storage ack_to;
	socklen_t ack_to_len;
	struct tnd_timer *timer;
	unsigned tries;
	bool provisional, final, cancel_wanted, cancel_sent, cancel_done;
	struct mgcf_uac *next;
};

static struct {
	int fd;
	struct tnd_io *io;
	char addr[64]; /* "127.0.0.1:port" for the Via */
	struct mgcf_uac *list;
} uac;

/* ---- Addresses ---------------------------------------------------------- */

/* "udp:IP:PORT", "IP:PORT", "[v6]:PORT" */
static int parse_hostport(const char *s, size_t len,
			  struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[64], port_s[8];
	const char *colon;
	size_t hl;

	if (len > 4 && strncasecmp(s, "udp:", 4) == 0)
		s += 4, len -= 4;
	if (len && s[0] == '[') {
		const char *rb = memchr(s, ']', len);

		if (!rb)
			return -EINVAL;
		hl = (size_t)(rb - s - 1);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl);
		colon = rb + 1 < s + len && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(s, ':', len);
		hl = colon ? (size_t)(colon - s) : len;
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
	}
	host[hl] = '\0';
	snprintf(port_s, sizeof(port_s), "%.*s",
		 colon ? (int)(s + len - colon - 1) : 0, colon ? colon + 1 : "");
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr)) {
		ss->ss_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port =
			htons((uint16_t)(port_s[0] ? atoi(port_s) : 5060));
		*sl = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr)) {
		ss->ss_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port =
			htons((uint16_t)(port_s[0] ? atoi(port_s) : 5060));
		*sl = sizeof(struct sockaddr_in6);
		return 0;
	}
	return -EHOSTUNREACH; /* names are not resolved here */
}

/* The host:port of a SIP URI ("sip:user@127.0.0.1:5062;transport=udp"). */
static int uri_hostport(const char *uri, size_t len,
			struct sockaddr_storage *ss, socklen_t *sl)
{
	const char *p = uri, *end = uri + len, *at;
	size_t n;

	if (len > 4 && strncasecmp(p, "sip:", 4) == 0)
		p += 4;
	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	n = strcspn(p, ";?>");
	if (n > (size_t)(end - p))
		n = (size_t)(end - p);
	return parse_hostport(p, n, ss, sl);
}

/* ---- Sending ---------------------------------------------------------------- */

static void send_to(const char *data, size_t len,
		    const struct sockaddr_storage *to, socklen_t tl)
{
	if (sendto(uac.fd, data, len, 0, (const struct sockaddr *)to, tl) < 0)
		tnd_debug("uac: send: %s", strerror(errno));
}

static void random_branch(char *out, size_t size)
{
	static unsigned long long state;
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = strlen("z9hG4bK");

	if (!state)
		state = mgcf_now_us() ^ ((unsigned long long)getpid() << 20);
	memcpy(out, "z9hG4bK", n);
	for (; n + 1 < size && n < 7 + 20; n++) {
		state = state * 6364136223846793005ULL + 1442695040888963407ULL;
		out[n] = alphabet[(state >> 33) % (sizeof(alphabet) - 1)];
	}
	out[n] = '\0';
}

static void uac_free(struct mgcf_uac *u)
{
	struct mgcf_uac **p;

	for (p = &uac.list; *p; p = &(*p)->next)
		if (*p == u) {
			*p = u->next;
			break;
		}
	if (u->timer)
		mgcf.host->timer_free(u->timer);
	free(u->invite);
	free(u->ack);
	free(u);
}

static void send_cancel(struct mgcf_uac *u)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf),
			 "CANCEL %s SIP/2.0\r\n%s\r\nMax-Forwards: 70\r\n"
			 "From: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
			 "CSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n",
			 u->request_uri, u->via, u->from, u->to, u->call_id);

	if (n > 0 && (size_t)n < sizeof(buf))
		send_to(buf, (size_t)n, &u->peer, u->peer_len);
	u->cancel_sent = true;
}

/* Timer A/B before a response; CANCEL again (Timer E) after one; Timer D
 * after the final response. */
static void on_timer(struct tnd_timer *t, void *arg)
{
	struct mgcf_uac *u = arg;

	(void)t;
	if (u->final) {
		uac_free(u);
		return;
	}
	if (u->provisional) {
		if (u->cancel_sent && !u->cancel_done && u->tries++ < 6) {
			send_cancel(u);
			mgcf.host->timer_start(u->timer, T1_MS << 1, 0);
		}
		return;
	}
	if (++u->tries > 6) { /* 64*T1 without an answer */
		u->final = true;
		mgcf.host->timer_start(u->timer, LINGER_MS, 0);
		if (u->cb)
			u->cb(u, 408, NULL, u->arg);
		return;
	}
	send_to(u->invite, u->invite_len, &u->peer, u->peer_len);
	mgcf.host->timer_start(u->timer, (uint64_t)T1_MS << u->tries, 0);
}

int mgcf_uac_invite(const struct mgcf_uac_req *r, mgcf_uac_cb cb, void *arg,
		    struct mgcf_uac **out)
{
	struct mgcf_uac *u;
	int rc, n;

	if (uac.fd < 0)
		return -ENOTCONN;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	rc = r->next_hop && r->next_hop[0] ?
		     parse_hostport(r->next_hop, strlen(r->next_hop), &u->peer,
				    &u->peer_len) :
		     uri_hostport(r->request_uri, strlen(r->request_uri),
				  &u->peer, &u->peer_len);
	if (rc < 0) {
		free(u);
		return rc;
	}
	random_branch(u->branch, sizeof(u->branch));
	snprintf(u->via, sizeof(u->via),
		 "Via: SIP/2.0/UDP %s;branch=%s;rport", uac.addr, u->branch);
	snprintf(u->request_uri, sizeof(u->request_uri), "%s", r->request_uri);
	snprintf(u->from, sizeof(u->from), "%s;tag=%s", r->from, r->from_tag);
	snprintf(u->to, sizeof(u->to), "%s", r->to);
	snprintf(u->call_id, sizeof(u->call_id), "%s", r->call_id);
	u->invite = malloc(MSG_MAX);
	if (!u->invite) {
		free(u);
		return -ENOMEM;
	}
	n = snprintf(u->invite, MSG_MAX,
		     "INVITE %s SIP/2.0\r\n%s\r\nMax-Forwards: 70\r\n"
		     "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
		     "%sContent-Type: %s\r\nContent-Length: %zu\r\n\r\n",
		     u->request_uri, u->via, u->from, u->to, u->call_id,
		     r->headers ? r->headers : "", r->body_type, r->body_len);
	if (n < 0 || (size_t)n + r->body_len >= MSG_MAX) {
		free(u->invite);
		free(u);
		return -E2BIG;
	}
	memcpy(u->invite + n, r->body, r->body_len);
	u->invite_len = (size_t)n + r->body_len;
	u->timer = mgcf.host->timer_new(MGCF_SELF, on_timer, u);
	if (!u->timer) {
		free(u->invite);
		free(u);
		return -ENOMEM;
	}
	u->cb = cb;
	u->arg = arg;
	u->next = uac.list;
	uac.list = u;
	send_to(u->invite, u->invite_len, &u->peer, u->peer_len);
	mgcf.host->timer_start(u->timer, T1_MS, 0);
	*out = u;
	return 0;
}

int mgcf_uac_cancel(struct mgcf_uac *u)
{
	if (u->final || u->cancel_wanted)
		return 0;
	u->cancel_wanted = true;
	if (u->provisional) { /* RFC 3261 9.1: not before a provisional */
		u->tries = 0;
		send_cancel(u);
		mgcf.host->timer_start(u->timer, T1_MS, 0);
	}
	return 0; /* else at the first provisional */
}

void mgcf_uac_forget(struct mgcf_uac *u)
{
	u->cb = NULL;
	u->arg = NULL;
}

/* ---- Responses ------------------------------------------------------------- */

/* RFC 3261 13.2.2.4: ACK a 2xx to the remote target along the route set
 * (the Record-Route reversed). */
static void ack_2xx(struct mgcf_uac *u, const struct mgcf_msg *m)
{
	const char *to, *contact, *rr[16];
	size_t to_len, contact_len, rr_len[16], nrr = 0, n = 0;
	char uri[MGCF_URI_MAX], routes[MGCF_ROUTE_MAX] = "", branch[40];
	const char *v;
	size_t vl;

	if (u->ack) { /* a retransmitted 2xx: the same ACK */
		send_to(u->ack, u->ack_len, &u->ack_to, u->ack_to_len);
		return;
	}
	if (mgcf_msg_header(m, "To", 0, &to, &to_len) < 0 ||
	    mgcf_msg_header(m, "Contact", 0, &contact, &contact_len) < 0 ||
	    mgcf_hdr_uri(contact, contact_len, uri, sizeof(uri)) < 0)
		return;
	for (unsigned i = 0; mgcf_msg_header(m, "Record-Route", i, &v, &vl) ==
			     0;
	     i++)
		for (unsigned k = 0; nrr < 16 && mgcf_hdr_element(
							 v, vl, k, &rr[nrr],
							 &rr_len[nrr]) == 0;
		     k++)
			nrr++;
	for (size_t i = nrr; i > 0; i--)
		n += (size_t)snprintf(routes + n, sizeof(routes) - n,
				      "Route: %.*s\r\n", (int)rr_len[i - 1],
				      rr[i - 1]);
	if (nrr) {
		char first[MGCF_URI_MAX];

		if (mgcf_hdr_uri(rr[nrr - 1], rr_len[nrr - 1], first,
				 sizeof(first)) < 0 ||
		    uri_hostport(first, strlen(first), &u->ack_to,
				 &u->ack_to_len) < 0)
			return;
	} else if (uri_hostport(uri, strlen(uri), &u->ack_to,
				&u->ack_to_len) < 0) {
		return;
	}
	random_branch(branch, sizeof(branch));
	u->ack = malloc(MSG_MAX);
	if (!u->ack)
		return;
	u->ack_len = (size_t)snprintf(
		u->ack, MSG_MAX,
		"ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\n"
		"%sMax-Forwards: 70\r\nFrom: %s\r\nTo: %.*s\r\nCall-ID: %s\r\n"
		"CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
		uri, uac.addr, branch, routes, u->from, (int)to_len, to,
		u->call_id);
	send_to(u->ack, u->ack_len, &u->ack_to, u->ack_to_len);
}

/* RFC 3261 17.1.1.3: a failure is ACKed in the INVITE's transaction. */
static void ack_failure(struct mgcf_uac *u, const struct mgcf_msg *m)
{
	const char *to;
	size_t to_len;

	if (!u->ack) {
		if (mgcf_msg_header(m, "To", 0, &to, &to_len) < 0)
			return;
		u->ack = malloc(MSG_MAX);
		if (!u->ack)
			return;
		u->ack_len = (size_t)snprintf(
			u->ack, MSG_MAX,
			"ACK %s SIP/2.0\r\n%s\r\nMax-Forwards: 70\r\nFrom: %s\r\n"
			"To: %.*s\r\nCall-ID: %s\r\nCSeq: 1 ACK\r\n"
			"Content-Length: 0\r\n\r\n",
			u->request_uri, u->via, u->from, (int)to_len, to,
			u->call_id);
		u->ack_to = u->peer;
		u->ack_to_len = u->peer_len;
	}
	send_to(u->ack, u->ack_len, &u->ack_to, u->ack_to_len);
}

static void cancel_now(struct mgcf_uac *u)
{
	u->tries = 0;
	send_cancel(u);
	mgcf.host->timer_start(u->timer, T1_MS, 0);
}

static struct mgcf_uac *by_branch(const struct mgcf_msg *m)
{
	const char *via;
	size_t vl;
	char branch[64];

	if (mgcf_msg_header(m, "Via", 0, &via, &vl) < 0 ||
	    mgcf_hdr_param(via, vl, "branch", branch, sizeof(branch)) < 0)
		return NULL;
	for (struct mgcf_uac *u = uac.list; u; u = u->next)
		if (strcmp(u->branch, branch) == 0)
			return u;
	return NULL;
}

static void on_response(struct mgcf_uac *u, const struct mgcf_msg *m)
{
	const char *cseq;
	size_t cl;
	bool first_final = !u->final;

	if (mgcf_msg_header(m, "CSeq", 0, &cseq, &cl) == 0 &&
	    cl > 6 && strncasecmp(cseq + cl - 6, "CANCEL", 6) == 0) {
		u->cancel_done = m->status >= 200;
		return;
	}
	if (m->status < 200) {
		if (u->final)
			return;
		if (!u->provisional) {
			u->provisional = true;
			u->tries = 0;
			mgcf.host->timer_stop(u->timer);
			if (u->cancel_wanted)
				cancel_now(u);
		}
		if (u->cb)
			u->cb(u, m->status, m, u->arg);
		return;
	}
	if (m->status < 300)
		ack_2xx(u, m);
	else
		ack_failure(u, m);
	if (!first_final)
		return;
	u->final = true;
	mgcf.host->timer_start(u->timer, LINGER_MS, 0);
	if (u->cb)
		u->cb(u, m->status, m, u->arg);
	u->cb = NULL;
}

static void on_readable(struct tnd_io *io, int fd, int events, void *arg)
{
	char buf[MSG_MAX];

	(void)io, (void)arg;
	if (events < 0)
		return;
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		struct mgcf_msg m;
		struct mgcf_uac *u;

		if (n <= 0)
			return;
		buf[n] = '\0';
		if (mgcf_msg_parse(buf, (size_t)n, &m) < 0 || !m.status)
			continue;
		u = by_branch(&m);
		if (u)
			on_response(u, &m);
	}
}

int mgcf_uac_start(void)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char host[48];
	int rc = parse_hostport(mgcf.cfg->uac_address,
				strlen(mgcf.cfg->uac_address), &ss, &sl);

	uac.fd = -1;
	if (rc < 0) {
		tnd_error("uac_address = %s: IP:PORT expected",
			  mgcf.cfg->uac_address);
		return rc;
	}
	uac.fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	if (uac.fd < 0 || bind(uac.fd, (struct sockaddr *)&ss, sl) < 0 ||
	    getsockname(uac.fd, (struct sockaddr *)&ss, &sl) < 0) {
		tnd_error("uac_address %s: %s", mgcf.cfg->uac_address,
			  strerror(errno));
		return -errno;
	}
	if (ss.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr,
			  host, sizeof(host));
		snprintf(uac.addr, sizeof(uac.addr), "[%s]:%u", host,
			 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host,
			  sizeof(host));
		snprintf(uac.addr, sizeof(uac.addr), "%s:%u", host,
			 ntohs(((struct sockaddr_in *)&ss)->sin_port));
	}
	uac.io = mgcf.host->io_new(MGCF_SELF, uac.fd, on_readable, NULL);
	if (!uac.io)
		return -ENOMEM;
	tnd_info("INVITEs toward IMS leave from UDP %s", uac.addr);
	return mgcf.host->io_start(uac.io, TND_IO_READ);
}

void mgcf_uac_stop(void)
{
	while (uac.list)
		uac_free(uac.list);
	if (uac.io)
		mgcf.host->io_free(uac.io);
	uac.io = NULL;
	if (uac.fd >= 0)
		close(uac.fd);
	uac.fd = -1;
}
