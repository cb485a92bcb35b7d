/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pbxsim_cable: a span's link to the gateway.
 *
 * A cable is hw/sim's span cable (hw/sim/README.md): a unix SOCK_SEQPACKET
 * socket carrying one message per 1 ms tick each way, 8 frames of every
 * timeslot and the line signals, after a hello that names the span type.
 * We are the far span: timeslot 16 (24 on a T1) carries the D-channel as
 * HDLC bits (hw/tdm_hdlc.c), the others carry A-law or u-law samples. The
 * far end plays our frames out of an elastic buffer, so our tick only
 * needs to keep the average rate, which the 1 ms timer does.
 *
 * A bare D-channel (`dchan = unix:PATH`) is the pri plugin's socket
 * transport: one Q.921 frame and its two FCS octets per packet; libpri
 * reads and writes that socket itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "pbxsim.h"

/* The cable's message, as hw/sim/sim.h defines struct sim_cable_msg. */
struct cable_msg {
	uint32_t magic;
	uint8_t kind;	  /* CABLE_HELLO or CABLE_FRAME */
	uint8_t signals;  /* CABLE_SIG_* (frame) or span type (hello) */
	uint16_t timeslots;
	uint32_t seq;
	uint8_t ts[PBX_TIMESLOTS][PBX_TICK_FRAMES];
};

_Static_assert(sizeof(struct cable_msg) == 268, "hw/sim's cable message");

#define CABLE_MAGIC 0x54444d43u /* "TDMC" */
#define CABLE_HELLO 1
#define CABLE_FRAME 2
#define CABLE_SIG_RAI 1u
#define SPAN_TYPE_E1 1 /* enum tdm_span_type */
#define SPAN_TYPE_T1 2
/* Nothing heard for this long: we send RAI (G.704), as hw/sim's LOS. */
#define LOS_MS 250

/* ---- libpri's I/O on a cable: frames through our HDLC ---------------------- */

/* libpri reads one frame and its two FCS octets. */
static int cable_read(struct pri *pri, void *buf, int buflen)
{
	struct pbx_span *s = pri_get_userdata(pri);
	struct pbx_frame *f;
	int n;

	if (!s->rx_count) {
		errno = EAGAIN;
		return -1;
	}
	f = &s->rxq[s->rx_head];
	n = (int)f->len < buflen ? (int)f->len : buflen;
	memcpy(buf, f->data, (size_t)n);
	s->rx_head = (s->rx_head + 1) % PBX_FRAMEQ;
	s->rx_count--;
	return n;
}

/* libpri writes one frame followed by two octets of room for the FCS. */
static int cable_write(struct pri *pri, void *buf, int buflen)
{
	struct pbx_span *s = pri_get_userdata(pri);
	struct pbx_frame *f;

	if (buflen <= HDLC_FCS_LEN || buflen > HDLC_MAX_FRAME + HDLC_FCS_LEN)
		return buflen;
	if (s->tx_count == PBX_FRAMEQ) {
		pbx_say("error span %d: D-channel queue full", s->no);
		return buflen;
	}
	f = &s->txq[(s->tx_head + s->tx_count) % PBX_FRAMEQ];
	f->len = (size_t)buflen - HDLC_FCS_LEN;
	memcpy(f->data, buf, f->len);
	s->tx_count++;
	return buflen;
}

/* A Q.921 I-frame carrying a Q.931 SETUP (message type 5). */
static bool is_setup(const uint8_t *f, size_t len)
{
	size_t crlen;

	if (len < 8 || (f[2] & 1) || f[4] != 0x08)
		return false;
	crlen = f[5] & 0x0f;
	return len > 6 + crlen && f[6 + crlen] == 0x05;
}

static void on_hdlc(enum hdlc_rx_event ev, const uint8_t *frame, size_t len,
		    void *arg)
{
	struct pbx_span *s = arg;
	struct pbx_frame *f;

	if (ev != HDLC_RX_FRAME || s->rx_count == PBX_FRAMEQ)
		return;
	if (is_setup(frame, len))
		pbx_glare_setup_seen(s);
	f = &s->rxq[(s->rx_head + s->rx_count) % PBX_FRAMEQ];
	f->len = len;
	memcpy(f->data, frame, len);
	s->rx_count++;
}

/* ---- Sockets ------------------------------------------------------------- */

static void send_hello(struct pbx_span *s)
{
	struct cable_msg m = { .magic = CABLE_MAGIC, .kind = CABLE_HELLO };

	m.signals = s->t1 ? SPAN_TYPE_T1 : SPAN_TYPE_E1;
	m.timeslots = (uint16_t)s->timeslots;
	send(s->fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL);
}

static int make_addr(const struct pbx_span *s, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, s->path, strlen(s->path) + 1);
	return 0;
}

static void connected(struct pbx_span *s, int fd)
{
	fcntl(fd, F_SETFL, O_NONBLOCK);
	s->fd = fd;
	s->hello_seen = false;
	s->last_rx_ms = pbx_now_ms();
	hdlc_tx_init(&s->htx);
	hdlc_rx_init(&s->hrx);
	s->tx_count = s->rx_count = 0;
	if (s->cable)
		send_hello(s);
}

static struct pri *new_pri(struct pbx_span *s)
{
	struct pri *pri;

	if (s->cable)
		pri = pri_new_cb(-1, s->side, s->switchtype, cable_read,
				 cable_write, s);
	else
		pri = pri_new(s->fd, s->side, s->switchtype);
	if (pri) {
		pri_hangup_fix_enable(pri, 1);
		pri_set_overlapdial(pri, 1); /* overlap sending and receiving */
	}
	return pri;
}

/* Connect (retrying for 5 s) or listen; a listener accepts later. */
int pbx_span_open(struct pbx_span *s)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	make_addr(s, &a);
	if (s->listen) {
		unlink(s->path);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
		    listen(fd, 1)) {
			close(fd);
			return -1;
		}
		s->lfd = fd;
	} else {
		int i;

		for (i = 0; i < 100; i++) {
			if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
				break;
			usleep(50000);
		}
		if (i == 100) {
			close(fd);
			return -1;
		}
		connected(s, fd);
	}
	/* a cable's libpri never touches a descriptor; a bare D-channel's
	 * is made once the socket is connected */
	if (s->cable || s->fd >= 0) {
		s->pri = new_pri(s);
		if (!s->pri)
			return -1;
	}
	return 0;
}

void pbx_span_close(struct pbx_span *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->listen)
		unlink(s->path);
	s->fd = s->lfd = -1;
}

int pbx_span_pollfd(const struct pbx_span *s)
{
	return s->fd >= 0 ? s->fd : s->lfd;
}

static void accept_one(struct pbx_span *s)
{
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	connected(s, fd);
	if (!s->pri)
		s->pri = new_pri(s);
}

/* The far end is gone: a listener waits for the next, else we stop. */
static void link_lost(struct pbx_span *s)
{
	close(s->fd);
	s->fd = -1;
	if (s->up)
		pbx_say("down %d", s->no);
	s->up = false;
	pbx_span_lost(s);
}

static void run_pri(struct pbx_span *s)
{
	pri_event *ev;

	while (s->rx_count) {
		ev = pri_check_event(s->pri);
		if (ev)
			pbx_event(s, ev);
	}
}

/*
 * The far end's remote alarm (RAI: it does not hear us) is a layer 1
 * failure as a PBX sees it: its calls are gone and, when the line is
 * back, the D-channel starts again from SABME (Q.921 5.5), as a card's
 * driver restarts it after an alarm. libpri has no reset: a new
 * controller takes over (the old one's memory stays).
 */
static void far_alarm(struct pbx_span *s, bool rai)
{
	if (rai == s->far_rai)
		return;
	s->far_rai = rai;
	pbx_say("alarm %d %s", s->no, rai ? "rai" : "clear");
	if (rai) {
		if (s->up)
			pbx_say("down %d", s->no);
		s->up = false;
		pbx_span_lost(s);
		return;
	}
	hdlc_tx_init(&s->htx);
	hdlc_rx_init(&s->hrx);
	s->tx_count = s->rx_count = 0;
	s->pri = new_pri(s);
}

static void receive_frame(struct pbx_span *s, const struct cable_msg *m)
{
	far_alarm(s, m->signals & CABLE_SIG_RAI);
	for (unsigned ts = 1; ts <= s->timeslots; ts++) {
		struct pbx_chan *c = &s->chan[ts];

		if (ts == s->dchan_ts) {
			for (int i = 0; i < PBX_TICK_FRAMES; i++)
				hdlc_rx_octet(&s->hrx, m->ts[ts][i], on_hdlc,
					      s);
			continue;
		}
		memcpy(c->rx + c->rx_fill, m->ts[ts], PBX_TICK_FRAMES);
		c->rx_fill += PBX_TICK_FRAMES;
		if (c->rx_fill == PBX_BLOCK) {
			c->rx_fill = 0;
			c->blocks_rx++;
			pbx_block_rx(s, ts, c->rx);
		}
	}
}

static void cable_input(struct pbx_span *s)
{
	struct cable_msg m;

	for (int n = 0; n < 256 && s->fd >= 0; n++) {
		ssize_t len = recv(s->fd, &m, sizeof(m), MSG_DONTWAIT);

		if (len < 0 && errno == EAGAIN)
			break;
		if (len <= 0) {
			link_lost(s);
			return;
		}
		if ((size_t)len != sizeof(m) || m.magic != CABLE_MAGIC)
			continue;
		if (m.kind == CABLE_HELLO) {
			s->hello_seen = m.timeslots == s->timeslots;
			if (!s->hello_seen)
				pbx_say("error span %d: the far span has %u "
					"timeslots, this one %u", s->no,
					m.timeslots, s->timeslots);
			continue;
		}
		if (m.kind != CABLE_FRAME || !s->hello_seen)
			continue;
		s->last_rx_ms = pbx_now_ms();
		s->rx_msgs++;
		receive_frame(s, &m);
	}
	run_pri(s);
}

void pbx_span_input(struct pbx_span *s)
{
	pri_event *ev;
	char probe;

	if (s->fd < 0) {
		accept_one(s);
		return;
	}
	if (s->cable) {
		cable_input(s);
		return;
	}
	if (recv(s->fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
		link_lost(s);
		return;
	}
	ev = pri_check_event(s->pri);
	if (ev)
		pbx_event(s, ev);
}

/* ---- The tick ------------------------------------------------------------ */

static void dchan_octets(struct pbx_span *s, uint8_t *out)
{
	for (int i = 0; i < PBX_TICK_FRAMES; i++) {
		if (hdlc_tx_ready(&s->htx) && s->tx_count) {
			struct pbx_frame *f = &s->txq[s->tx_head];

			hdlc_tx_load(&s->htx, f->data, f->len);
			s->tx_head = (s->tx_head + 1) % PBX_FRAMEQ;
			s->tx_count--;
		}
		out[i] = hdlc_tx_octet(&s->htx);
	}
}

static void bearer_octets(struct pbx_span *s, unsigned ts, uint8_t *out)
{
	struct pbx_chan *c = &s->chan[ts];

	if (c->tx_pos == PBX_BLOCK || c->blocks_tx == 0) {
		pbx_block_tx(s, ts, c->tx);
		c->tx_pos = 0;
		c->blocks_tx++;
	}
	memcpy(out, c->tx + c->tx_pos, PBX_TICK_FRAMES);
	c->tx_pos += PBX_TICK_FRAMES;
}

void pbx_span_tick(struct pbx_span *s)
{
	struct cable_msg m = { .magic = CABLE_MAGIC, .kind = CABLE_FRAME };
	uint64_t now;

	if (!s->cable || s->fd < 0 || !s->hello_seen)
		return;
	now = pbx_now_ms();
	if (s->mute) {
		s->last_rx_ms = now; /* we are the broken end, not them */
		return;
	}
	m.timeslots = (uint16_t)s->timeslots;
	m.seq = s->tx_seq++;
	m.signals = now - s->last_rx_ms > LOS_MS ? CABLE_SIG_RAI : 0;
	for (unsigned ts = 1; ts < PBX_TIMESLOTS; ts++) {
		if (ts > s->timeslots)
			memset(m.ts[ts], 0xff, PBX_TICK_FRAMES);
		else if (ts == s->dchan_ts)
			dchan_octets(s, m.ts[ts]);
		else
			bearer_octets(s, ts, m.ts[ts]);
	}
	if (send(s->fd, &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (errno != EAGAIN)
			link_lost(s);
		return;
	}
	s->tx_msgs++;
}

void pbx_span_schedule(struct pbx_span *s)
{
	struct timeval *tv;
	pri_event *ev;

	if (!s->pri)
		return;
	tv = pri_schedule_next(s->pri);
	if (!tv || pbx_span_next_ms(s, 1) > 0)
		return;
	ev = pri_schedule_run(s->pri);
	if (ev)
		pbx_event(s, ev);
	if (s->cable)
		run_pri(s);
}

int pbx_span_next_ms(struct pbx_span *s, int max)
{
	struct timeval *tv = s->pri ? pri_schedule_next(s->pri) : NULL;
	struct timeval now;
	int64_t ms;

	if (!tv)
		return max;
	gettimeofday(&now, NULL);
	ms = (int64_t)(tv->tv_sec - now.tv_sec) * 1000 +
	     (tv->tv_usec - now.tv_usec + 999) / 1000;
	if (ms < 0)
		return 0;
	return ms < max ? (int)ms : max;
}
