/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_transport: listeners (UDP and TCP, IPv4 and IPv6, several per node)
 * and stream connections, on fd watches of the node's loop.
 *
 * Streams are framed by Content-Length (RFC 3261 18.3). Each connection has
 * an input limit (max_message_size), an output limit (conn_buffer_max), an
 * idle timeout and a message timeout: a peer that starts a message and
 * does not finish it in time (slow loris) is disconnected. The number of
 * connections is limited per node and per peer address, so one peer
 * cannot take every file descriptor. Everything that is refused is
 * counted and logged.
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sip_int.h"

struct sip_listener *sip_listeners;

/* ---- Addresses ------------------------------------------------------------ */

static const char *const proto_names[SIP_PROTO__COUNT] = {
	[SIP_UDP] = "UDP", [SIP_TCP] = "TCP", [SIP_TLS] = "TLS",
};

const char *sip_proto_name(enum sip_proto p)
{
	return p < SIP_PROTO__COUNT ? proto_names[p] : "?";
}

int sip_proto_parse(const char *text, size_t len, enum sip_proto *p)
{
	for (int i = 0; i < SIP_PROTO__COUNT; i++) {
		if (strlen(proto_names[i]) == len &&
		    strncasecmp(proto_names[i], text, len) == 0) {
			*p = (enum sip_proto)i;
			return 0;
		}
	}
	return -EPROTONOSUPPORT;
}

/* IPv4 without inet_ntop's sprintf: done for every message received. */
static void ipv4_text(uint32_t ip, char *buf, size_t size)
{
	char tmp[16];
	int n = 0;

	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned o = (ip >> shift) & 0xff;

		if (o >= 100)
			tmp[n++] = (char)('0' + o / 100);
		if (o >= 10)
			tmp[n++] = (char)('0' + o / 10 % 10);
		tmp[n++] = (char)('0' + o % 10);
		if (shift)
			tmp[n++] = '.';
	}
	if ((size_t)n >= size)
		n = (int)size - 1;
	memcpy(buf, tmp, (size_t)n);
	buf[n] = '\0';
}

void sip_addr_ip(const struct sip_addr *a, char *buf, size_t size)
{
	const void *src;

	if (a->u.sa.sa_family == AF_INET) {
		ipv4_text(ntohl(a->u.sin.sin_addr.s_addr), buf, size);
		return;
	}
	src = a->u.sa.sa_family == AF_INET6 ?
		(const void *)&a->u.sin6.sin6_addr :
		(const void *)&a->u.sin.sin_addr;

	if (!inet_ntop(a->u.sa.sa_family, src, buf, (socklen_t)size))
		snprintf(buf, size, "?");
}

int sip_addr_port(const struct sip_addr *a)
{
	return ntohs(a->u.sa.sa_family == AF_INET6 ? a->u.sin6.sin6_port :
						      a->u.sin.sin_port);
}

void sip_addr_str(const struct sip_addr *a, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	sip_addr_ip(a, ip, sizeof(ip));
	if (a->u.sa.sa_family == AF_INET6)
		snprintf(buf, size, "[%s]:%d", ip, sip_addr_port(a));
	else
		snprintf(buf, size, "%s:%d", ip, sip_addr_port(a));
}

bool sip_addr_eq(const struct sip_addr *a, const struct sip_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET6)
		return a->u.sin6.sin6_port == b->u.sin6.sin6_port &&
		       memcmp(&a->u.sin6.sin6_addr, &b->u.sin6.sin6_addr,
			      16) == 0;
	return a->u.sin.sin_port == b->u.sin.sin_port &&
	       a->u.sin.sin_addr.s_addr == b->u.sin.sin_addr.s_addr;
}

static bool addr_same_ip(const struct sip_addr *a, const struct sip_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET6)
		return memcmp(&a->u.sin6.sin6_addr, &b->u.sin6.sin6_addr,
			      16) == 0;
	return a->u.sin.sin_addr.s_addr == b->u.sin.sin_addr.s_addr;
}

int sip_addr_from(struct sip_addr *a, const char *host, size_t host_len,
		  int port)
{
	char ip[INET6_ADDRSTRLEN + 2];

	if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']')
		host++, host_len -= 2;
	if (host_len == 0 || host_len >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, host, host_len);
	ip[host_len] = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, ip, &a->u.sin.sin_addr) == 1) {
		a->u.sin.sin_family = AF_INET;
		a->u.sin.sin_port = htons((uint16_t)port);
		a->len = sizeof(a->u.sin);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &a->u.sin6.sin6_addr) == 1) {
		a->u.sin6.sin6_family = AF_INET6;
		a->u.sin6.sin6_port = htons((uint16_t)port);
		a->len = sizeof(a->u.sin6);
		return 0;
	}
	return -EINVAL;
}

/*
 * Never send to broadcast, multicast or unspecified addresses: a forged
 * Via or Route must not turn the node into an amplifier (RFC 4475 3.3.10).
 */
static bool addr_refused(const struct sip_addr *a)
{
	if (sip_addr_port(a) == 0)
		return true;
	if (a->u.sa.sa_family == AF_INET) {
		uint32_t ip = ntohl(a->u.sin.sin_addr.s_addr);

		return ip == 0 || ip == 0xffffffffU || (ip >> 28) == 0xe;
	}
	if (a->u.sa.sa_family == AF_INET6)
		return IN6_IS_ADDR_MULTICAST(&a->u.sin6.sin6_addr) ||
		       IN6_IS_ADDR_UNSPECIFIED(&a->u.sin6.sin6_addr);
	return true;
}

/* ---- Connections ------------------------------------------------------------ */

#define CONN_BUCKETS 1024

struct sip_conn {
	struct sip_conn *next, *prev;	/* all connections */
	struct sip_conn *id_next;	/* bucket by id */
	struct sip_conn *addr_next;	/* bucket by peer address */
	unsigned id;
	enum sip_proto proto;
	int fd;
	struct tnd_io *io;
	struct sip_addr peer, local;
	struct sip_listener *listener;
	bool outbound, connecting, dead, busy;
	bool close_when_sent;	/* framing lost: answer, then close */
	SSL *ssl;		/* TLS connections */
	bool handshaking;
	char *in;
	size_t in_len, in_cap;
	char *out;
	size_t out_off, out_len, out_cap;
	struct sip_tnode timer;
	uint64_t created_ms, last_ms, msg_start_ms;
	uint64_t rx_msgs, tx_msgs, rx_bytes, tx_bytes;
	int events; /* io events watched */
};

static struct sip_conn *conns;
static size_t nconns;
static unsigned next_conn_id = 1;
static struct sip_conn *by_id[CONN_BUCKETS];
static struct sip_conn *by_addr[CONN_BUCKETS];
static char *udp_buf; /* UDP_VLEN buffers of udp_buf_size + 1 */
static size_t udp_buf_size;
static uint64_t refused_logged_ms;

static unsigned addr_bucket(const struct sip_addr *a)
{
	uint32_t h = 2166136261U;
	const unsigned char *p;
	size_t n;

	if (a->u.sa.sa_family == AF_INET6) {
		p = (const unsigned char *)&a->u.sin6.sin6_addr;
		n = 16;
	} else {
		p = (const unsigned char *)&a->u.sin.sin_addr;
		n = 4;
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619U;
	h ^= (uint32_t)sip_addr_port(a);
	return (h * 16777619U) % CONN_BUCKETS;
}

static struct sip_conn *conn_by_id(unsigned id)
{
	for (struct sip_conn *c = by_id[id % CONN_BUCKETS]; c; c = c->id_next)
		if (c->id == id)
			return c->dead ? NULL : c;
	return NULL;
}

static struct sip_conn *conn_by_addr(enum sip_proto proto,
				     const struct sip_addr *a)
{
	for (struct sip_conn *c = by_addr[addr_bucket(a)]; c;
	     c = c->addr_next)
		if (!c->dead && c->proto == proto && sip_addr_eq(&c->peer, a))
			return c;
	return NULL;
}

static void unlink_bucket(struct sip_conn **head, struct sip_conn *c,
			  size_t next_off)
{
	for (struct sip_conn **pp = head; *pp;
	     pp = (struct sip_conn **)((char *)*pp + next_off)) {
		if (*pp == c) {
			*pp = *(struct sip_conn **)((char *)c + next_off);
			return;
		}
	}
}

static void conn_free(struct sip_conn *c)
{
	unlink_bucket(&by_id[c->id % CONN_BUCKETS], c,
		      offsetof(struct sip_conn, id_next));
	unlink_bucket(&by_addr[addr_bucket(&c->peer)], c,
		      offsetof(struct sip_conn, addr_next));
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	nconns--;
	sip_timer_cancel(&c->timer);
	sip_host->io_free(c->io);
	if (c->ssl)
		sip_tls_free(c->ssl);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

/* Close now, or when the callback working on it returns. */
static void conn_close(struct sip_conn *c, const char *why)
{
	char peer[64];

	if (c->dead)
		return;
	sip_addr_str(&c->peer, peer, sizeof(peer));
	if (why)
		tnd_info("%s connection %u with %s closed: %s",
			 sip_proto_name(c->proto), c->id, peer, why);
	else
		tnd_debug("%s connection %u with %s closed",
			  sip_proto_name(c->proto), c->id, peer);
	c->dead = true;
	if (!c->busy)
		conn_free(c);
}

static void conn_schedule(struct sip_conn *c)
{
	uint64_t due = c->last_ms + sip_cfg->idle_timeout_ms;

	if (c->msg_start_ms &&
	    c->msg_start_ms + sip_cfg->message_timeout_ms < due)
		due = c->msg_start_ms + sip_cfg->message_timeout_ms;
	if ((c->connecting || c->handshaking) &&
	    c->created_ms + sip_cfg->message_timeout_ms < due)
		due = c->created_ms + sip_cfg->message_timeout_ms;
	if (!sip_timer_armed(&c->timer) || c->timer.due_ms != due)
		sip_timer_at(&c->timer, due);
}

static void on_conn_timer(struct sip_tnode *node)
{
	struct sip_conn *c = (struct sip_conn *)((char *)node -
						 offsetof(struct sip_conn, timer));
	uint64_t now = sip_now_ms();

	if (c->connecting &&
	    now >= c->created_ms + sip_cfg->message_timeout_ms) {
		conn_close(c, "connect timed out");
		return;
	}
	if (c->handshaking &&
	    now >= c->created_ms + sip_cfg->message_timeout_ms) {
		/* a half-open handshake holds a descriptor: no longer than
		 * a message may take */
		sip_count(sip_stats.conn_closed_limit);
		conn_close(c, "TLS handshake not completed in "
			      "message_timeout_ms");
		return;
	}
	if (c->msg_start_ms &&
	    now >= c->msg_start_ms + sip_cfg->message_timeout_ms) {
		sip_count(sip_stats.conn_closed_limit);
		conn_close(c, "message not completed in message_timeout_ms");
		return;
	}
	if (now >= c->last_ms + sip_cfg->idle_timeout_ms) {
		conn_close(c, "idle");
		return;
	}
	conn_schedule(c);
}

/* Returns -1 when the connection was closed (and maybe freed). */
static int conn_watch(struct sip_conn *c, int events)
{
	if (c->events == events)
		return 0;
	c->events = events;
	if (sip_host->io_start(c->io, events) < 0) {
		conn_close(c, "cannot watch the socket");
		return -1;
	}
	return 0;
}

static void on_conn_io(struct tnd_io *io, int fd, int events, void *arg);

static struct sip_conn *conn_new(int fd, enum sip_proto proto,
				 const struct sip_addr *peer,
				 struct sip_listener *l, bool outbound)
{
	struct sip_conn *c = calloc(1, sizeof(*c));
	unsigned b;

	if (!c)
		return NULL;
	c->fd = fd;
	c->proto = proto;
	c->peer = *peer;
	c->listener = l;
	c->outbound = outbound;
	c->io = sip_host->io_new(SIP_SELF, fd, on_conn_io, c);
	if (!c->io) {
		free(c);
		return NULL;
	}
	do
		c->id = next_conn_id++;
	while (c->id == 0 || conn_by_id(c->id));
	c->local.len = sizeof(c->local.u);
	getsockname(fd, &c->local.u.sa, &c->local.len);
	c->created_ms = c->last_ms = sip_now_ms();
	sip_tnode_init(&c->timer, on_conn_timer);
	c->id_next = by_id[c->id % CONN_BUCKETS];
	by_id[c->id % CONN_BUCKETS] = c;
	b = addr_bucket(peer);
	c->addr_next = by_addr[b];
	by_addr[b] = c;
	c->next = conns;
	if (conns)
		conns->prev = c;
	conns = c;
	nconns++;
	conn_schedule(c);
	return c;
}

size_t sip_conn_count(void)
{
	return nconns;
}

/* One send of plain or TLS bytes: >= 0 written, -2 would block (with
 * *want for TLS), -1 failed (the connection is closed). */
static long conn_send(struct sip_conn *c, const char *buf, size_t len,
		      int *want)
{
	char why[256];
	long n;

	*want = TND_IO_WRITE;
	if (c->ssl) {
		n = sip_tls_write(c->ssl, buf, len, want, why, sizeof(why));
		if (n == -1)
			conn_close(c, why);
		return n;
	}
	for (;;) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -2;
		if (errno != EINTR) {
			conn_close(c, strerror(errno));
			return -1;
		}
	}
}

/* Write what is queued; returns -1 when the connection was closed. */
static int conn_flush(struct sip_conn *c)
{
	int want = 0;

	while (c->out_len) {
		long n = conn_send(c, c->out + c->out_off, c->out_len, &want);

		if (n == -1)
			return -1;
		if (n == -2)
			break;
		c->tx_bytes += (uint64_t)n;
		c->out_off += (size_t)n;
		c->out_len -= (size_t)n;
	}
	if (!c->out_len) {
		c->out_off = 0;
		want = 0;
		if (c->close_when_sent) {
			conn_close(c, "framing lost (no Content-Length)");
			return -1;
		}
	}
	return conn_watch(c, TND_IO_READ | want);
}

static int conn_queue(struct sip_conn *c, const char *buf, size_t len)
{
	if (c->out_len + len > sip_cfg->conn_buffer_max) {
		sip_count(sip_stats.conn_closed_limit);
		conn_close(c, "peer does not read: output over "
			      "conn_buffer_max");
		return -ENOBUFS;
	}
	if (c->out_off + c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *p;

		if (c->out_off) {
			memmove(c->out, c->out + c->out_off, c->out_len);
			c->out_off = 0;
		}
		while (cap < c->out_len + len)
			cap *= 2;
		if (cap != c->out_cap) {
			p = realloc(c->out, cap);
			if (!p)
				return -ENOMEM;
			c->out = p;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_off + c->out_len, buf, len);
	c->out_len += len;
	return 0;
}

static int conn_write(struct sip_conn *c, const char *buf, size_t len)
{
	int rc, want = 0;

	c->tx_msgs++;
	c->last_ms = sip_now_ms();
	if (!c->out_len && !c->connecting && !c->handshaking) {
		long n = conn_send(c, buf, len, &want);

		if (n == -1)
			return -EPIPE;
		if (n > 0) {
			c->tx_bytes += (uint64_t)n;
			buf += n;
			len -= (size_t)n;
		}
		if (!len)
			return 0;
	}
	rc = conn_queue(c, buf, len);
	if (rc == 0 && !c->connecting && !c->handshaking &&
	    conn_watch(c, TND_IO_READ | (want ? want : TND_IO_WRITE)) < 0)
		rc = -EPIPE;
	return rc;
}

static int set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static struct sip_conn *conn_connect(enum sip_proto proto,
				     const struct sip_addr *to)
{
	struct sip_listener *l = sip_listener_for(proto, to);
	int fd = socket(to->u.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sip_conn *c;

	if (fd < 0)
		return NULL;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (set_nonblock(fd) < 0 ||
	    (connect(fd, &to->u.sa, to->len) < 0 && errno != EINPROGRESS)) {
		int err = errno;

		close(fd);
		errno = err;
		return NULL;
	}
	c = conn_new(fd, proto, to, l, true);
	if (!c) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	c->connecting = true;
	if (conn_watch(c, TND_IO_WRITE) < 0)
		return NULL;
	return c;
}

static void conn_read(struct sip_conn *c);

/* One step of a TLS handshake; when it is done, what waited goes. */
static void tls_step(struct sip_conn *c)
{
	char why[256], desc[300], peer[64];
	int want = 0, rc;

	rc = sip_tls_handshake(c->ssl, &want, why, sizeof(why));
	if (rc < 0) {
		char msg[300];

		snprintf(msg, sizeof(msg), "TLS handshake: %s", why);
		conn_close(c, msg);
		return;
	}
	if (rc == 0) {
		conn_watch(c, want);
		return;
	}
	c->handshaking = false;
	sip_tls_describe(c->ssl, desc, sizeof(desc));
	sip_addr_str(&c->peer, peer, sizeof(peer));
	tnd_info("TLS connection %u with %s: %s", c->id, peer, desc);
	conn_schedule(c);
	if (conn_flush(c) == 0)
		conn_read(c); /* records may have come with the handshake */
}

static void conn_connected(struct sip_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		conn_close(c, strerror(err));
		return;
	}
	c->connecting = false;
	c->local.len = sizeof(c->local.u);
	getsockname(c->fd, &c->local.u.sa, &c->local.len);
	if (c->proto == SIP_TLS) {
		c->ssl = sip_tls_new(c->fd, false, &c->peer);
		if (!c->ssl) {
			conn_close(c, "no TLS context");
			return;
		}
		c->handshaking = true;
		conn_schedule(c);
		tls_step(c);
		return;
	}
	conn_schedule(c);
	conn_flush(c);
}

/* RFC 5626 3.5.1: a CRLFCRLF ping gets a CRLF pong. */
static size_t skip_keepalives(struct sip_conn *c, size_t i)
{
	while (i < c->in_len && (c->in[i] == '\r' || c->in[i] == '\n')) {
		size_t left = c->in_len - i;

		if (left >= 4 && memcmp(c->in + i, "\r\n\r\n", 4) == 0) {
			if (conn_write(c, "\r\n", 2) < 0)
				return c->in_len;
			i += 4;
			continue;
		}
		if (left < 4 && memcmp(c->in + i, "\r\n\r\n", left) == 0)
			break; /* maybe a ping cut short: wait */
		i++;
	}
	return i;
}

/* Deliver every complete message in the input buffer. */
static void conn_parse(struct sip_conn *c)
{
	struct sip_peer src = {
		.proto = c->proto, .addr = c->peer, .listener = c->listener,
		.conn_id = c->id,
	};
	size_t off = 0;

	while (!c->dead && !c->close_when_sent) {
		const char *why = NULL;
		unsigned frame = 0, flags = 0;
		long n;

		off = skip_keepalives(c, off);
		if (c->dead || off >= c->in_len)
			break;
		n = sip_frame(c->in + off, c->in_len - off,
			      sip_cfg->max_message_size, &why, &frame);
		if (n < 0) {
			sip_count(sip_stats.rx_oversize);
			conn_close(c, why);
			return;
		}
		if (n == 0)
			break;
		c->rx_msgs++;
		if (c->listener)
			c->listener->rx_msgs++;
		if ((frame & SIP_FRAME_BAD_LENGTH) ||
		    ((frame & SIP_FRAME_NO_LENGTH) &&
		     c->in_len - off > (size_t)n)) {
			/* what follows may be its body: the stream can no
			 * longer be framed; answer, then close */
			flags |= SIP_IN_NO_LENGTH;
			c->close_when_sent = true;
		}
		sip_core_input(c->in + off, (size_t)n, &src, flags);
		off += (size_t)n;
	}
	if (c->dead)
		return;
	if (c->close_when_sent) {
		c->in_len = 0;
		conn_flush(c);
		return;
	}
	if (off) {
		c->in_len -= off;
		memmove(c->in, c->in + off, c->in_len);
	}
	if (c->in_len == 0)
		c->msg_start_ms = 0;
	else if (!c->msg_start_ms)
		c->msg_start_ms = sip_now_ms();
	conn_schedule(c);
}

/* Plain or TLS bytes into the input buffer: > 0, 0 closed, -1 failed
 * (closed), -2 nothing more for now. */
static long conn_recv(struct sip_conn *c, size_t room)
{
	char why[256];
	int want = 0;
	long n;

	if (c->ssl) {
		n = sip_tls_read(c->ssl, c->in + c->in_len, room, &want, why,
				 sizeof(why));
		if (n == -1)
			conn_close(c, why);
		else if (n == -2 && want == TND_IO_WRITE)
			conn_watch(c, TND_IO_READ | TND_IO_WRITE);
		return n;
	}
	for (;;) {
		n = recv(c->fd, c->in + c->in_len, room, 0);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -2;
		if (errno != EINTR) {
			conn_close(c, strerror(errno));
			return -1;
		}
	}
}

static void conn_read(struct sip_conn *c)
{
	/* Bounded: a fast peer cannot hold the loop. */
	for (int round = 0; round < 16 && !c->dead; round++) {
		size_t room;
		long n;

		if (c->in_cap - c->in_len < 2048) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
			size_t max = sip_cfg->max_message_size + 4096;
			char *p;

			if (cap > max)
				cap = max;
			if (cap <= c->in_len) {
				sip_count(sip_stats.rx_oversize);
				conn_close(c, "input over max_message_size");
				return;
			}
			p = realloc(c->in, cap);
			if (!p) {
				conn_close(c, "out of memory");
				return;
			}
			c->in = p;
			c->in_cap = cap;
		}
		room = c->in_cap - c->in_len;
		n = conn_recv(c, room);
		if (n == 0) {
			conn_close(c, c->in_len ?
				   "peer closed inside a message" : NULL);
			return;
		}
		if (n < 0)
			return;
		c->rx_bytes += (uint64_t)n;
		c->in_len += (size_t)n;
		c->last_ms = sip_now_ms();
		conn_parse(c);
		if ((size_t)n < room && !(c->ssl && sip_tls_pending(c->ssl)))
			return;
	}
}

static void on_conn_io(struct tnd_io *io, int fd, int events, void *arg)
{
	struct sip_conn *c = arg;

	(void)io, (void)fd;
	c->busy = true;
	if (events < 0)
		conn_close(c, "socket error");
	else if (c->connecting && (events & TND_IO_WRITE))
		conn_connected(c);
	else if (c->handshaking)
		tls_step(c);
	else {
		if (events & TND_IO_WRITE)
			conn_flush(c);
		if (!c->dead && (events & TND_IO_READ))
			conn_read(c);
	}
	c->busy = false;
	if (c->dead)
		conn_free(c);
}

/* ---- Listeners ------------------------------------------------------------ */

static unsigned conns_from(const struct sip_addr *a)
{
	unsigned n = 0;

	for (struct sip_conn *c = conns; c; c = c->next)
		if (!c->dead && !c->outbound && addr_same_ip(&c->peer, a))
			n++;
	return n;
}

static void refuse_conn(int fd, const struct sip_addr *peer, const char *why)
{
	uint64_t now = sip_now_ms();
	char addr[64];

	close(fd);
	sip_count(sip_stats.conn_refused);
	if (now - refused_logged_ms >= 1000) { /* at most one line a second */
		refused_logged_ms = now;
		sip_addr_str(peer, addr, sizeof(addr));
		tnd_notice("refused a connection from %s: %s", addr, why);
	}
}

static void on_accept(struct sip_listener *l)
{
	for (int round = 0; round < 64; round++) {
		struct sip_addr peer = { .len = sizeof(peer.u) };
		struct sip_conn *c;
		int one = 1;
		int fd = accept4(l->fd, &peer.u.sa, &peer.len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				tnd_notice("accept on %s:%d: %s", l->host,
					   l->port, strerror(errno));
			return;
		}
		if (nconns >= sip_cfg->max_connections) {
			refuse_conn(fd, &peer, "max_connections reached");
			continue;
		}
		if (conns_from(&peer) >= sip_cfg->max_connections_per_ip) {
			refuse_conn(fd, &peer, "max_connections_per_ip "
					       "reached");
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = conn_new(fd, l->proto, &peer, l, false);
		if (!c) {
			close(fd);
			continue;
		}
		if (l->proto == SIP_TLS) {
			c->ssl = sip_tls_new(fd, true, &peer);
			c->handshaking = true;
			if (!c->ssl) {
				conn_close(c, "no TLS context");
				continue;
			}
			conn_schedule(c);
		}
		conn_watch(c, TND_IO_READ);
	}
}

#define UDP_VLEN 16

static struct mmsghdr udp_msgs[UDP_VLEN];
static struct iovec udp_iov[UDP_VLEN];
static struct sip_addr udp_src[UDP_VLEN];

static void udp_one(struct sip_listener *l, unsigned i)
{
	struct sip_peer src = {
		.proto = SIP_UDP, .listener = l, .addr = udp_src[i],
	};
	char *buf = udp_iov[i].iov_base;
	size_t n = udp_msgs[i].msg_len;

	src.addr.len = udp_msgs[i].msg_hdr.msg_namelen;
	if (n > sip_cfg->max_message_size ||
	    (udp_msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) {
		char addr[64];

		sip_count(sip_stats.rx_oversize);
		sip_addr_str(&src.addr, addr, sizeof(addr));
		tnd_info("dropped a datagram from %s: over max_message_size",
			 addr);
		return;
	}
	/* RFC 5626 4.4.1 keepalives and stray CRLFs: nothing to do */
	if (n <= 4 && strspn(buf, "\r\n") >= n)
		return;
	l->rx_msgs++;
	buf[n] = '\0';
	sip_core_input(buf, n, &src, 0);
}

/* Read what is queued, up to udp_batch datagrams, 16 per system call. */
static void on_udp(struct sip_listener *l)
{
	unsigned long long done = 0;

	while (done < sip_cfg->udp_batch) {
		int n;

		for (unsigned i = 0; i < UDP_VLEN; i++) {
			udp_iov[i].iov_len = udp_buf_size;
			udp_msgs[i].msg_hdr.msg_name = &udp_src[i].u;
			udp_msgs[i].msg_hdr.msg_namelen = sizeof(udp_src[i].u);
			udp_msgs[i].msg_hdr.msg_iov = &udp_iov[i];
			udp_msgs[i].msg_hdr.msg_iovlen = 1;
			udp_msgs[i].msg_hdr.msg_flags = 0;
		}
		n = recvmmsg(l->fd, udp_msgs, UDP_VLEN, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				tnd_debug("recvmmsg on %s:%d: %s", l->host,
					  l->port, strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++)
			udp_one(l, (unsigned)i);
		done += (unsigned long long)n;
		if (n < UDP_VLEN)
			return; /* drained: no extra call to learn it */
	}
}

static void on_listener_io(struct tnd_io *io, int fd, int events, void *arg)
{
	struct sip_listener *l = arg;

	(void)io, (void)fd;
	if (events < 0) {
		tnd_error("listener %s %s:%d failed", sip_proto_name(l->proto),
			  l->host, l->port);
		return;
	}
	if (l->proto == SIP_UDP)
		on_udp(l);
	else
		on_accept(l);
}

/* The source address the kernel's routes pick to reach `to`. */
static int route_source(const struct sip_addr *to, struct sip_addr *src)
{
	int fd = socket(to->u.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	src->len = sizeof(src->u);
	if (fd >= 0 && connect(fd, &to->u.sa, to->len) == 0 &&
	    getsockname(fd, &src->u.sa, &src->len) == 0)
		rc = 0;
	if (fd >= 0)
		close(fd);
	return rc;
}

static bool same_ip(const struct sip_addr *a, const struct sip_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.sin.sin_addr.s_addr == b->u.sin.sin_addr.s_addr;
	return memcmp(&a->u.sin6.sin6_addr, &b->u.sin6.sin6_addr,
		      sizeof(a->u.sin6.sin6_addr)) == 0;
}

/*
 * The route's source per destination, asked of the kernel at most every
 * ROUTE_TTL_MS: a node with several listeners of a transport (an SBC's
 * realms) would otherwise pay three system calls per new request.
 */
#define ROUTE_CACHE 16
#define ROUTE_TTL_MS 10000
static struct {
	struct sip_addr dst, src;
	uint64_t expires_ms;
} route_cache[ROUTE_CACHE];
static unsigned route_next;

static int cached_route_source(const struct sip_addr *to, struct sip_addr *src)
{
	uint64_t now = sip_now_ms();
	unsigned slot;

	for (unsigned i = 0; i < ROUTE_CACHE; i++)
		if (route_cache[i].expires_ms > now &&
		    same_ip(&route_cache[i].dst, to)) {
			*src = route_cache[i].src;
			return 0;
		}
	if (route_source(to, src))
		return -1;
	slot = route_next++ % ROUTE_CACHE;
	route_cache[slot].dst = *to;
	route_cache[slot].src = *src;
	route_cache[slot].expires_ms = now + ROUTE_TTL_MS;
	return 0;
}

/*
 * The listener a message to `addr` leaves from: the only one of its
 * transport and family, or, with several (an SBC's inside and outside),
 * the one on the address the routes use toward `addr`, so that Via and
 * Contact name the side the message goes out on. Else the first.
 */
struct sip_listener *sip_listener_for(enum sip_proto proto,
				      const struct sip_addr *addr)
{
	struct sip_listener *first = NULL;
	struct sip_addr src;
	unsigned n = 0;

	for (struct sip_listener *l = sip_listeners; l; l = l->next)
		if (l->proto == proto &&
		    l->local.u.sa.sa_family == addr->u.sa.sa_family) {
			first = first ? first : l;
			n++;
		}
	if (n < 2 || cached_route_source(addr, &src))
		return first;
	for (struct sip_listener *l = sip_listeners; l; l = l->next)
		if (l->proto == proto && same_ip(&l->local, &src))
			return l;
	return first;
}

/* Client-only transports: streams we open without listening on them. */
static struct sip_listener *client_sides;

static void listener_lines(struct sip_listener *l);

struct sip_listener *sip_listener_out(enum sip_proto proto,
				      const struct sip_addr *addr)
{
	struct sip_listener *l = sip_listener_for(proto, addr), *any;

	if (l || proto == SIP_UDP)
		return l;
	for (l = client_sides; l; l = l->next)
		if (l->proto == proto &&
		    l->local.u.sa.sa_family == addr->u.sa.sa_family)
			return l;
	/* RFC 3261 18.2.2: responses come back on the connection; the
	 * Via names our host and the transport's default port */
	for (any = sip_listeners; any; any = any->next)
		if (any->local.u.sa.sa_family == addr->u.sa.sa_family)
			break;
	if (!any)
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->proto = proto;
	l->fd = -1;
	l->local = any->local;
	memcpy(l->host, any->host, sizeof(l->host));
	l->port = proto == SIP_TLS ? 5061 : 5060;
	listener_lines(l);
	l->next = client_sides;
	client_sides = l;
	return l;
}

static int open_socket(struct sip_listener *l)
{
	int type = l->proto == SIP_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int fd = socket(l->local.u.sa.sa_family, type | SOCK_CLOEXEC, 0);
	int one = 1, size = 4 << 20;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (l->local.u.sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (l->proto == SIP_UDP) {
		/* bursts of retransmissions and load tests need room */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	if (set_nonblock(fd) < 0 || bind(fd, &l->local.u.sa, l->local.len) < 0 ||
	    (l->proto != SIP_UDP && listen(fd, 511) < 0)) {
		int err = errno;

		close(fd);
		return -err;
	}
	l->fd = fd;
	return 0;
}

/* The port the kernel gave when the config said 0. */
static void learn_port(struct sip_listener *l)
{
	struct sip_addr a = { .len = sizeof(a.u) };

	if (getsockname(l->fd, &a.u.sa, &a.len) == 0) {
		if (l->port == 0)
			l->port = sip_addr_port(&a);
		l->local = a;
	}
}

static int listener_start(struct sip_listener *l)
{
	int rc = open_socket(l);

	if (rc < 0) {
		tnd_error("cannot listen on %s %s:%d: %s",
			  sip_proto_name(l->proto), l->host, l->port,
			  strerror(-rc));
		return rc;
	}
	learn_port(l);
	l->io = sip_host->io_new(SIP_SELF, l->fd, on_listener_io, l);
	if (!l->io || sip_host->io_start(l->io, TND_IO_READ) < 0)
		return -ENOMEM;
	tnd_info("listening on %s %s:%d", sip_proto_name(l->proto), l->host,
		 l->port);
	return 0;
}

/* One "proto:host:port" word of the `listen` parameter. */
static int listener_parse(const char *word, struct sip_listener *l)
{
	const char *colon = strchr(word, ':'), *host, *port_sep;
	char *end;
	long port;
	size_t host_len;

	if (!colon || sip_proto_parse(word, (size_t)(colon - word),
				      &l->proto) < 0)
		return -EINVAL;
	host = colon + 1;
	if (*host == '[') {
		const char *close = strchr(host, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		port_sep = close + 1;
	} else {
		port_sep = strrchr(host, ':');
		if (!port_sep)
			return -EINVAL;
	}
	host_len = (size_t)(port_sep - host);
	port = strtol(port_sep + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || host_len >= sizeof(l->host))
		return -EINVAL;
	if (sip_addr_from(&l->local, host, host_len, (int)port) < 0)
		return -EINVAL;
	memcpy(l->host, host, host_len);
	l->host[host_len] = '\0';
	if (l->local.u.sa.sa_family == AF_INET6 && host[0] != '[')
		snprintf(l->host, sizeof(l->host), "[%.*s]", (int)host_len,
			 host);
	l->port = (int)port;
	l->fd = -1;
	return 0;
}

/* The Via and Record-Route lines a proxy puts for this listener. */
static void listener_lines(struct sip_listener *l)
{
	static const char *const rr_transport[SIP_PROTO__COUNT] = {
		[SIP_UDP] = "", [SIP_TCP] = ";transport=tcp",
		[SIP_TLS] = ";transport=tls",
	};

	snprintf(l->via, sizeof(l->via), "Via: SIP/2.0/%s %s:%d;branch=",
		 sip_proto_name(l->proto), l->host, l->port);
	snprintf(l->rr, sizeof(l->rr), "Record-Route: <sip:%s:%d%s;lr>\r\n",
		 l->host, l->port, rr_transport[l->proto]);
}

static int apply_advertise(void)
{
	const char *adv = sip_cfg->advertise;

	if (!adv || !*adv)
		return 0;
	if (strlen(adv) >= sizeof(sip_listeners->host))
		return -EINVAL;
	for (struct sip_listener *l = sip_listeners; l; l = l->next)
		snprintf(l->host, sizeof(l->host), "%s", adv);
	return 0;
}

int sip_transport_start(void)
{
	char *spec = strdup(sip_cfg->listen), *save = NULL, *word;
	struct sip_listener **tail = &sip_listeners;
	int rc;

	if (!spec)
		return -ENOMEM;
	rc = sip_tls_init(strstr(spec, "tls:") || strstr(spec, "TLS:"));
	if (rc < 0) {
		free(spec);
		return rc;
	}
	/* one byte more than the limit shows what is over it */
	udp_buf_size = sip_cfg->max_message_size + 1;
	udp_buf = malloc(UDP_VLEN * (udp_buf_size + 1));
	if (!udp_buf) {
		free(spec);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < UDP_VLEN; i++)
		udp_iov[i].iov_base = udp_buf + i * (udp_buf_size + 1);
	for (word = strtok_r(spec, " ,\t", &save); word && rc == 0;
	     word = strtok_r(NULL, " ,\t", &save)) {
		struct sip_listener *l = calloc(1, sizeof(*l));

		if (!l) {
			rc = -ENOMEM;
			break;
		}
		if (listener_parse(word, l) < 0) {
			tnd_error("%s: listen: bad listener '%s' (want "
				  "udp|tcp:HOST:PORT, IPv6 in [])",
				  sip_host->where("sip", "listen"), word);
			free(l);
			rc = -EINVAL;
			break;
		}
		*tail = l;
		tail = &l->next;
		rc = listener_start(l);
	}
	free(spec);
	if (rc == 0 && !sip_listeners) {
		tnd_error("no listeners: set listen in [sip]");
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = apply_advertise();
	for (struct sip_listener *l = sip_listeners; l && rc == 0; l = l->next)
		listener_lines(l);
	return rc;
}

void sip_transport_stop(void)
{
	while (conns)
		conn_free(conns);
	while (sip_listeners) {
		struct sip_listener *l = sip_listeners;

		sip_listeners = l->next;
		if (l->io)
			sip_host->io_free(l->io);
		if (l->fd >= 0)
			close(l->fd);
		free(l);
	}
	free(udp_buf);
	udp_buf = NULL;
	while (client_sides) {
		struct sip_listener *l = client_sides;

		client_sides = l->next;
		free(l);
	}
	sip_tls_fini();
}

int sip_peer_parse(const char *text, struct sip_peer *p)
{
	const char *colon = strchr(text, ':'), *port_sep = strrchr(text, ':');
	char *end;
	long port;

	memset(p, 0, sizeof(*p));
	if (!colon || colon == port_sep ||
	    sip_proto_parse(text, (size_t)(colon - text), &p->proto) < 0)
		return -EINVAL;
	port = strtol(port_sep + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -EINVAL;
	return sip_addr_from(&p->addr, colon + 1,
			     (size_t)(port_sep - colon - 1), (int)port);
}

/* ---- Sending -------------------------------------------------------------- */

static int send_udp(struct sip_peer *dst, const char *buf, size_t len)
{
	struct sip_listener *l = dst->listener;

	if (!l || l->proto != SIP_UDP ||
	    l->local.u.sa.sa_family != dst->addr.u.sa.sa_family)
		l = sip_listener_for(SIP_UDP, &dst->addr);
	if (!l)
		return -EAFNOSUPPORT;
	for (;;) {
		ssize_t n = sendto(l->fd, buf, len, 0, &dst->addr.u.sa,
				   dst->addr.len);

		if (n >= 0) {
			l->tx_msgs++;
			return 0;
		}
		if (errno != EINTR)
			return -errno;
	}
}

int sip_conn_tls_peer_is(unsigned conn_id, const char *name)
{
	struct sip_conn *c = conn_id ? conn_by_id(conn_id) : NULL;

	if (!c || c->dead || !c->ssl || c->handshaking)
		return -ENOENT;
	return sip_tls_peer_is(c->ssl, name);
}

int sip_send(struct sip_peer *dst, const char *buf, size_t len)
{
	struct sip_conn *c = NULL;

	if (addr_refused(&dst->addr))
		return -EADDRNOTAVAIL;
	if (dst->proto == SIP_UDP)
		return send_udp(dst, buf, len);
	if (dst->conn_id)
		c = conn_by_id(dst->conn_id);
	/* RFC 3261 18.2.2: reuse the connection, or one to the same place
	 * (RFC 5923 aliases are connections reused this way). */
	if (!c)
		c = conn_by_addr(dst->proto, &dst->addr);
	if (!c) {
		if (nconns >= sip_cfg->max_connections)
			return -EMFILE;
		c = conn_connect(dst->proto, &dst->addr);
		if (!c)
			return errno ? -errno : -ECONNREFUSED;
	}
	dst->conn_id = c->id;
	return conn_write(c, buf, len);
}

bool sip_is_local(const char *host, size_t host_len, int port)
{
	const char *aliases = sip_cfg->aliases;

	for (struct sip_listener *l = sip_listeners; l; l = l->next) {
		if (port && port != l->port)
			continue;
		if (strlen(l->host) == host_len &&
		    strncasecmp(l->host, host, host_len) == 0)
			return true;
		/* "[::1]" also matches "::1" */
		if (l->host[0] == '[' && strlen(l->host) == host_len + 2 &&
		    strncasecmp(l->host + 1, host, host_len) == 0)
			return true;
	}
	while (aliases && *aliases) {
		size_t n = strcspn(aliases, " ,");

		if (n == host_len && strncasecmp(aliases, host, n) == 0)
			return true;
		aliases += n;
		aliases += strspn(aliases, " ,");
	}
	return false;
}

/* ---- Control commands ------------------------------------------------------- */

void sip_show_listeners(struct tnd_reply *r)
{
	for (struct sip_listener *l = sip_listeners; l; l = l->next) {
		sip_host->reply_record(r);
		sip_host->reply_field(r, "transport", "%s",
				      sip_proto_name(l->proto));
		sip_host->reply_field(r, "address", "%s", l->host);
		sip_host->reply_field_num(r, "port", l->port);
		sip_host->reply_field_num(r, "rx_msgs", (long long)l->rx_msgs);
		sip_host->reply_field_num(r, "tx_msgs", (long long)l->tx_msgs);
	}
}

void sip_show_connections(struct tnd_reply *r)
{
	uint64_t now = sip_now_ms();
	char local[64], peer[64];

	for (struct sip_conn *c = conns; c; c = c->next) {
		if (c->dead)
			continue;
		sip_addr_str(&c->local, local, sizeof(local));
		sip_addr_str(&c->peer, peer, sizeof(peer));
		sip_host->reply_record(r);
		sip_host->reply_field_num(r, "id", c->id);
		sip_host->reply_field(r, "transport", "%s",
				      sip_proto_name(c->proto));
		sip_host->reply_field(r, "direction", "%s",
				      c->outbound ? "out" : "in");
		sip_host->reply_field(r, "local", "%s", local);
		sip_host->reply_field(r, "remote", "%s", peer);
		sip_host->reply_field(r, "state", "%s",
				      c->connecting	? "connecting" :
				      c->handshaking	? "handshake" :
							  "open");
		sip_host->reply_field_num(r, "age_ms",
					  (long long)(now - c->created_ms));
		sip_host->reply_field_num(r, "idle_ms",
					  (long long)(now - c->last_ms));
		sip_host->reply_field_num(r, "rx_msgs", (long long)c->rx_msgs);
		sip_host->reply_field_num(r, "tx_msgs", (long long)c->tx_msgs);
		sip_host->reply_field_num(r, "queued", (long long)c->out_len);
		sip_host->reply_field_num(r, "buffered",
					  (long long)c->in_len);
	}
}
