/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip-send: a test tool that sends one message file, byte for byte, to a
 * node over UDP or TCP, reports the responses that carry its Call-ID, then
 * checks that the node still answers a fresh OPTIONS (the "probe").
 *
 *   sip-send [-t udp|tcp|tls] [-6] [-w MS] [-c] [-k] [-n] [-H NAME]
 *            [-A CA] [-C CERT -K KEY] -p PORT FILE
 *   sip-send -L N [-6] [-w MS] -p PORT
 *
 *   -c  TCP: half-close after sending and wait for the node to close
 *   -k  TCP: keep the connection open after sending (a slow peer) and
 *       wait for the node to close it (prints eof=yes|no)
 *   -n  no probe
 *   -H  print the value of header NAME of the final response (header=)
 *   -A  TLS: CA file the node's certificate is checked against
 *   -C, -K  TLS: our certificate and key (for mutual TLS)
 *   -L  open N TCP connections at once, then send an OPTIONS on each;
 *       prints answered=A closed=C (connection limits)
 * Prints key=value lines: statuses=100,480 (responses to FILE, in order,
 * or "none"), final=480|none, eof=yes|no (-c), probe=200|timeout,
 * stray=N (responses to FILE that arrived while waiting for the probe
 * although FILE was a response or had its final answer already).
 *
 * Over UDP it binds the port of FILE's top Via (5060 when absent), so the
 * answers a node sends to the Via (RFC 3261 18.2.2) come back to it.
 * Every wait is bounded by -w (default 3000 ms).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static bool use_tcp, use_tls, use_v6, half_close, no_probe, keep_open;
static const char *tls_ca, *tls_cert, *tls_key;
static SSL_CTX *tls_ctx;
static SSL *tls; /* the TLS session of the open connection */
static const char *show_header;
static char shown[1024];
static int node_port, wait_ms = 3000;
static char *msg;
static size_t msg_len;
static char callid[256];
static bool msg_is_response;
static char buf[131072];
static size_t buf_len;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int read_file(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (!f)
		return -1;
	msg = malloc(70000);
	msg_len = fread(msg, 1, 70000, f);
	fclose(f);
	return msg_len || keep_open ? 0 : -1; /* -k may send nothing */
}

/* The value of the first header `name` (or compact `c`), unfolded. */
static int header(const char *m, size_t len, const char *name, char c,
		  char *out, size_t size)
{
	const char *p = m, *end = m + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *colon;
		size_t n;

		if (!eol)
			eol = end;
		if (eol == p || (eol == p + 1 && *p == '\r'))
			return -1; /* end of headers */
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon && !isspace((unsigned char)*p)) {
			n = (size_t)(colon - p);
			while (n && isspace((unsigned char)p[n - 1]))
				n--;
			if ((n == strlen(name) && !strncasecmp(p, name, n)) ||
			    (n == 1 && tolower((unsigned char)*p) == c)) {
				size_t k = 0;
				const char *v = colon + 1;

				/* join continuation lines */
				for (;;) {
					while (v < eol && k + 1 < size)
						out[k++] = *v == '\r' ? ' ' : *v,
						v++;
					if (eol + 1 < end &&
					    (eol[1] == ' ' || eol[1] == '\t')) {
						v = eol + 1;
						eol = memchr(v, '\n',
							     (size_t)(end - v));
						if (!eol)
							eol = end;
						continue;
					}
					break;
				}
				out[k] = '\0';
				return 0;
			}
		}
		p = eol + 1;
	}
	return -1;
}

static void trim(char *s)
{
	char *p = s;
	size_t n;

	while (isspace((unsigned char)*p))
		p++;
	memmove(s, p, strlen(p) + 1);
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* Port of the top Via's sent-by, 5060 when absent or unreadable. */
static int via_port(void)
{
	char v[1024], *p;
	int slashes = 0;

	if (header(msg, msg_len, "via", 'v', v, sizeof(v)) < 0)
		return 5060;
	for (p = v; *p && slashes < 2; p++)
		if (*p == '/')
			slashes++;
	while (*p && isspace((unsigned char)*p))
		p++;
	while (*p && !isspace((unsigned char)*p))
		p++; /* transport */
	while (*p && isspace((unsigned char)*p))
		p++;
	if (*p == '[') {
		p = strchr(p, ']');
		if (!p)
			return 5060;
		p++;
	} else {
		while (*p && (isalnum((unsigned char)*p) || *p == '.' ||
			      *p == '-' || *p == '_'))
			p++;
	}
	while (*p && isspace((unsigned char)*p))
		p++;
	if (*p == ':') {
		int port = atoi(p + 1);

		return port > 0 && port < 65536 ? port : 5060;
	}
	return 5060;
}

static void addr_of(struct sockaddr_storage *ss, socklen_t *len, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (use_v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		a->sin6_addr = in6addr_loopback;
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*a);
	}
}

static int open_udp(int local_port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	int fd = socket(use_v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	addr_of(&ss, &len, local_port);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		addr_of(&ss, &len, 0);
		bind(fd, (struct sockaddr *)&ss, len);
	}
	addr_of(&ss, &len, node_port);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A TLS session on fd, verified against -A, bounded by -w. */
static int start_tls(int fd)
{
	struct timeval tv = { .tv_sec = wait_ms / 1000,
			      .tv_usec = (wait_ms % 1000) * 1000 };

	if (!tls_ctx) {
		tls_ctx = SSL_CTX_new(TLS_client_method());
		if (!tls_ctx)
			return -1;
		if (tls_ca) {
			SSL_CTX_load_verify_locations(tls_ctx, tls_ca, NULL);
			SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER, NULL);
		}
		if (tls_cert &&
		    (SSL_CTX_use_certificate_chain_file(tls_ctx, tls_cert) != 1 ||
		     SSL_CTX_use_PrivateKey_file(tls_ctx, tls_key,
						 SSL_FILETYPE_PEM) != 1))
			return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	SSL_free(tls);
	tls = SSL_new(tls_ctx);
	if (!tls || SSL_set_fd(tls, fd) != 1 || SSL_connect(tls) != 1) {
		printf("tls=failed\n");
		ERR_clear_error();
		return -1;
	}
	printf("tls=%s\n", SSL_get_version(tls));
	return 0;
}

static int open_tcp(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(use_v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	addr_of(&ss, &len, node_port);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (use_tls && start_tls(fd) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	getsockname(fd, (struct sockaddr *)&ss, &len);
	return ntohs(ss.ss_family == AF_INET6 ?
			     ((struct sockaddr_in6 *)&ss)->sin6_port :
			     ((struct sockaddr_in *)&ss)->sin_port);
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = tls ? SSL_write(tls, p, (int)n) :
				  send(fd, p, n, MSG_NOSIGNAL);

		if (k < 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* One response from the socket, or 0 on timeout, -1 on EOF/error. */
static int next_message(int fd, long deadline, char *out, size_t size)
{
	for (;;) {
		if (use_tcp && buf_len) {
			char *end = memmem(buf, buf_len, "\r\n\r\n", 4);
			char cl[32];
			size_t total;

			if (end) {
				size_t head = (size_t)(end - buf) + 4;

				total = head;
				if (header(buf, head, "content-length", 'l', cl,
					   sizeof(cl)) == 0)
					total += (size_t)atol(cl);
				if (total <= buf_len) {
					size_t n = total < size ? total : size - 1;

					memcpy(out, buf, n);
					out[n] = '\0';
					memmove(buf, buf + total, buf_len - total);
					buf_len -= total;
					return 1;
				}
			}
		}
		long left = deadline - now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (!(tls && SSL_pending(tls)) &&
		    (left <= 0 || poll(&pfd, 1, (int)left) <= 0))
			return 0;
		if (use_tcp) {
			ssize_t n = tls ? SSL_read(tls, buf + buf_len,
						   (int)(sizeof(buf) - buf_len)) :
					  recv(fd, buf + buf_len,
					       sizeof(buf) - buf_len, 0);

			if (n <= 0)
				return -1;
			buf_len += (size_t)n;
		} else {
			ssize_t n = recv(fd, out, size - 1, 0);

			if (n < 0)
				return errno == ECONNREFUSED ? 0 : -1;
			out[n] = '\0';
			return 1;
		}
	}
}

static bool has_callid(const char *m, const char *id)
{
	char v[256];

	if (header(m, strlen(m), "call-id", 'i', v, sizeof(v)) < 0)
		return !*id;
	trim(v);
	return strcmp(v, id) == 0;
}

static int status_of(const char *m)
{
	return strncmp(m, "SIP/2.0 ", 8) == 0 ? atoi(m + 8) : 0;
}

static int probe(int fd, int *stray)
{
	static char rsp[70000];
	char probe_msg[1024], id[96], branch[64];
	long deadline;
	int n;

	snprintf(branch, sizeof(branch), "probe-%ld-%d", now_ms(), getpid());
	snprintf(id, sizeof(id), "%s@127.0.0.1", branch);
	n = snprintf(probe_msg, sizeof(probe_msg),
		     "OPTIONS sip:probe@%s:%d SIP/2.0\r\n"
		     "Via: SIP/2.0/%s %s:%d;branch=z9hG4bK-%s\r\n"
		     "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p1\r\n"
		     "To: <sip:probe@127.0.0.1>\r\nCall-ID: %s\r\n"
		     "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		     use_v6 ? "[::1]" : "127.0.0.1", node_port,
		     use_tcp ? "TCP" : "UDP", use_v6 ? "[::1]" : "127.0.0.1",
		     local_port(fd), branch, id);
	if (send_all(fd, probe_msg, (size_t)n) < 0)
		return -1;
	deadline = now_ms() + wait_ms;
	for (;;) {
		int rc = next_message(fd, deadline, rsp, sizeof(rsp));

		if (rc <= 0)
			return -1;
		if (has_callid(rsp, id) && status_of(rsp) >= 200)
			return status_of(rsp);
		if (callid[0] && has_callid(rsp, callid))
			(*stray)++;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: sip-send [-t udp|tcp] [-6] [-w MS] [-c] [-k] "
			"[-n] -p PORT FILE\n       sip-send -L N [-6] [-w MS] "
			"-p PORT\n");
	exit(2);
}

/* -L: how many of `n` simultaneous connections the node serves. */
static int connection_limit(int n)
{
	int *fds = calloc((size_t)n, sizeof(*fds)), answered = 0, closed = 0;
	int stray = 0;

	use_tcp = true;
	for (int i = 0; i < n; i++)
		fds[i] = open_tcp();
	for (int i = 0; i < n; i++) {
		buf_len = 0;
		if (fds[i] >= 0 && probe(fds[i], &stray) == 200)
			answered++;
		else
			closed++;
	}
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	printf("answered=%d\nclosed=%d\n", answered, closed);
	return 0;
}

int main(int argc, char **argv)
{
	static char rsp[70000];
	char statuses[256] = "";
	int opt, fd, final = 0, stray = 0, p = -1;
	bool eof = false;
	long deadline;
	int limit = 0;

	while ((opt = getopt(argc, argv, "t:6w:cknp:L:H:A:C:K:")) != -1) {
		switch (opt) {
		case 't':
			use_tls = strcmp(optarg, "tls") == 0;
			use_tcp = use_tls || strcmp(optarg, "tcp") == 0;
			break;
		case 'A': tls_ca = optarg; break;
		case 'C': tls_cert = optarg; break;
		case 'K': tls_key = optarg; break;
		case '6': use_v6 = true; break;
		case 'w': wait_ms = atoi(optarg); break;
		case 'c': half_close = true; break;
		case 'k': keep_open = true; break;
		case 'L': limit = atoi(optarg); break;
		case 'H': show_header = optarg; break;
		case 'n': no_probe = true; break;
		case 'p': node_port = atoi(optarg); break;
		default: usage();
		}
	}
	if (limit > 0 && node_port > 0)
		return connection_limit(limit);
	if (optind != argc - 1 || node_port <= 0 || read_file(argv[optind]))
		usage();
	msg_is_response = msg_len > 4 && strncmp(msg, "SIP/", 4) == 0;
	if (header(msg, msg_len, "call-id", 'i', callid, sizeof(callid)) == 0)
		trim(callid);
	fd = use_tcp ? open_tcp() : open_udp(via_port());
	if (fd < 0 || (msg_len && send_all(fd, msg, msg_len) < 0)) {
		printf("error=%s\n", strerror(errno));
		return 2;
	}
	if (half_close)
		shutdown(fd, SHUT_WR);
	deadline = now_ms() + wait_ms;
	if (keep_open) {
		/* a slow peer: say nothing more, see if the node hangs up */
		while (next_message(fd, deadline, rsp, sizeof(rsp)) > 0)
			;
		eof = next_message(fd, now_ms() + 1, rsp, sizeof(rsp)) < 0;
		printf("eof=%s\n", eof ? "yes" : "no");
		close(fd);
		return 0;
	}
	while (!msg_is_response && !final) {
		int rc = next_message(fd, deadline, rsp, sizeof(rsp));

		if (rc < 0)
			eof = true;
		if (rc <= 0)
			break;
		/* a request without Call-ID gets a response without one */
		if (callid[0] ? !has_callid(rsp, callid) :
				!has_callid(rsp, ""))
			continue;
		snprintf(statuses + strlen(statuses),
			 sizeof(statuses) - strlen(statuses), "%s%d",
			 statuses[0] ? "," : "", status_of(rsp));
		if (status_of(rsp) >= 200) {
			final = status_of(rsp);
			if (show_header &&
			    header(rsp, strlen(rsp), show_header, 0, shown,
				   sizeof(shown)) == 0)
				trim(shown);
		}
	}
	if (half_close && !eof) {
		/* wait (bounded) for the node to close its side */
		while (next_message(fd, deadline, rsp, sizeof(rsp)) > 0)
			;
		eof = next_message(fd, now_ms() + 1, rsp, sizeof(rsp)) < 0;
	}
	printf("statuses=%s\n", statuses[0] ? statuses : "none");
	printf("final=%s\n", final ? (snprintf(rsp, 16, "%d", final), rsp) :
				     "none");
	if (half_close)
		printf("eof=%s\n", eof ? "yes" : "no");
	if (show_header)
		printf("header=%s\n", shown);
	if (!no_probe) {
		if (use_tcp) {
			/* a fresh connection: the node may close the old one
			 * when its framing was lost */
			close(fd);
			buf_len = 0;
			fd = open_tcp();
		}
		if (fd < 0)
			stray = 0;
		if (fd >= 0)
			p = probe(fd, &stray);
		if (p > 0)
			printf("probe=%d\n", p);
		else
			printf("probe=timeout\n");
		printf("stray=%d\n", stray);
	}
	close(fd);
	free(msg);
	return 0;
}
