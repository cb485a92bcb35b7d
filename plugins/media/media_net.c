// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_net.c - UDP sockets of RTP legs: the port pair (RTP on an even
 * port, RTCP on the next, RFC 3550 11), kernel receive timestamps, DSCP.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "media_int.h"

int64_t media_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t media_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int media_net_parse_addr(const char *addr, unsigned port,
			 struct sockaddr_storage *out)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

	memset(out, 0, sizeof(*out));
	if (port > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -EINVAL;
}

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					   sizeof(struct sockaddr_in);
}

void media_net_format(const struct sockaddr_storage *ss, char *buf,
		      size_t size)
{
	char host[MEDIA_ADDR_MAX];
	const void *a;

	if (ss->ss_family == AF_INET)
		a = &((const struct sockaddr_in *)ss)->sin_addr;
	else if (ss->ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	else {
		snprintf(buf, size, "%s", "");
		return;
	}
	inet_ntop(ss->ss_family, a, host, sizeof(host));
	if (ss->ss_family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", host, media_net_port(ss));
	else
		snprintf(buf, size, "%s:%u", host, media_net_port(ss));
}

void media_net_set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

/* ---- the pair of sockets ---------------------------------------------- */

int media_net_setup(void)
{
	const struct media_cfg *cfg = mp.cfg;
	int rc;

	rc = media_net_parse_addr(cfg->rtp_address, 0, &mp.bind_addr);
	if (rc < 0) {
		tnd_error("%s: rtp_address '%s' is not a numeric IPv4 or IPv6 "
			  "address", mp.host->where("media", "rtp_address"),
			  cfg->rtp_address);
		return rc;
	}
	mp.bind_len = addr_len(&mp.bind_addr);
	snprintf(mp.sdp_addr, sizeof(mp.sdp_addr), "%s",
		 cfg->sdp_address[0] ? cfg->sdp_address : cfg->rtp_address);
	mp.next_port = (unsigned)cfg->rtp_port_min;
	return 0;
}

static int open_socket(unsigned port)
{
	struct sockaddr_storage ss = mp.bind_addr;
	int one = 1, tos = (int)(mp.cfg->dscp << 2);
	int fd;

	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	media_net_set_port(&ss, port);
	if (bind(fd, (struct sockaddr *)&ss, mp.bind_len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	/* arrival times for the jitter statistics and buffer */
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	else
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	return fd;
}

/* The next even port of the range, wrapping. */
static unsigned next_even_port(void)
{
	unsigned lo = (unsigned)mp.cfg->rtp_port_min & ~1u;
	unsigned hi = (unsigned)mp.cfg->rtp_port_max;
	unsigned port = mp.next_port & ~1u;

	if (port < lo || port + 1 > hi)
		port = lo;
	mp.next_port = port + 2;
	return port;
}

static int open_pair(struct media_leg *leg, unsigned port)
{
	int fd = open_socket(port);

	if (fd < 0)
		return fd;
	leg->fd_rtcp = open_socket(port + 1);
	if (leg->fd_rtcp < 0) {
		int rc = leg->fd_rtcp;

		close(fd);
		return rc;
	}
	leg->fd_rtp = fd;
	leg->port = port;
	leg->local = mp.bind_addr;
	media_net_set_port(&leg->local, port);
	return 0;
}

int media_net_open_at(struct media_leg *leg, unsigned port)
{
	int rc;

	if (port & 1 || port < 1024 || port > 65534)
		return -EINVAL;
	rc = open_pair(leg, port);
	if (rc < 0)
		leg->fd_rtp = leg->fd_rtcp = -1;
	return rc;
}

int media_net_open(struct media_leg *leg)
{
	unsigned tries = (unsigned)(mp.cfg->rtp_port_max -
				    mp.cfg->rtp_port_min + 1) / 2;
	int rc = -EADDRINUSE;

	while (tries--) {
		rc = open_pair(leg, next_even_port());
		if (rc == 0)
			return 0;
	}
	leg->fd_rtp = leg->fd_rtcp = -1;
	return rc == -EADDRINUSE || rc == -EACCES ? -EADDRINUSE : rc;
}

void media_net_close(struct media_leg *leg)
{
	if (leg->fd_rtp >= 0)
		close(leg->fd_rtp);
	if (leg->fd_rtcp >= 0)
		close(leg->fd_rtcp);
	leg->fd_rtp = leg->fd_rtcp = -1;
}

int media_net_send(int fd, const struct sockaddr_storage *to,
		   const uint8_t *buf, size_t len)
{
	ssize_t n;

	if (to->ss_family == AF_UNSPEC || !media_net_port(to))
		return -ENOTCONN;
	n = sendto(fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)to,
		   addr_len(to));
	return n < 0 ? -errno : 0;
}

int media_net_recv(int fd, uint8_t *bufs, struct media_rx *rx)
{
	struct mmsghdr msgs[MEDIA_RX_BATCH];
	struct iovec iov[MEDIA_RX_BATCH];
	char ctrl[MEDIA_RX_BATCH][CMSG_SPACE(sizeof(struct timespec))];
	int n, i;

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < MEDIA_RX_BATCH; i++) {
		iov[i].iov_base = bufs + (size_t)i * MEDIA_PKT_ROOM;
		iov[i].iov_len = MEDIA_PKT_MAX;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &rx[i].from;
		msgs[i].msg_hdr.msg_namelen = sizeof(rx[i].from);
		msgs[i].msg_hdr.msg_control = ctrl[i];
		msgs[i].msg_hdr.msg_controllen = sizeof(ctrl[i]);
	}
	n = recvmmsg(fd, msgs, MEDIA_RX_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		struct msghdr *mh = &msgs[i].msg_hdr;
		struct cmsghdr *c;

		rx[i].data = iov[i].iov_base;
		rx[i].len = msgs[i].msg_len;
		rx[i].arrival_ns = 0;
		for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
			struct timespec ts;

			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_TIMESTAMPNS)
				continue;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			rx[i].arrival_ns = (int64_t)ts.tv_sec * 1000000000LL +
					   ts.tv_nsec;
		}
		if (!rx[i].arrival_ns)
			rx[i].arrival_ns = media_wall_ns();
		if (mh->msg_flags & MSG_TRUNC)
			rx[i].len = 0;	/* too big for RTP here: ignored */
	}
	return n;
}
