/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_mgw_rtp: the SIP side's audio in the gateway tests. It plays a tone
 * as RTP (PCMU, PCMA or G.722, through SpanDSP for G.722) and tells what
 * it hears: the steady tone in the RTP it receives, RFC 4733 digits.
 * Written on sockets and SpanDSP only, none of tandem's code.
 *
 *   test_mgw_rtp -p LOCAL_PORT [-r HOST:PORT] [-c PCMU|PCMA|G722]
 *                [-t HZ] [-d DIGITS] [-e EVENT_PT] [-m MS] [-w TIMEOUT_MS]
 *
 * Without -r it waits for the first packet and answers where it came from
 * (symmetric RTP). It sends for MS milliseconds (default 3000) from then,
 * digits as RFC 4733 events after the first second, and stops after MS or
 * the timeout. Prints key=value lines:
 *   rx_packets=N rx_pt=P tone_hz=F tone_windows=N tone_dbm0=L
 *   rx_digits=D seq_gaps=N tx_packets=N
 * tone_hz is the steady tone heard in most half-second windows (0: none).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <spandsp.h>

#define FRAME 160
#define WINDOW_FRAMES 25
#define MAX_WINDOWS 256
#define DBM0_RMS 16124.0

struct codec {
	const char *name;
	int pt;
};

static const struct codec codecs[] = {
	{ "PCMU", 0 }, { "PCMA", 8 }, { "G722", 9 },
};

static struct {
	int port;
	struct sockaddr_in remote;
	bool have_remote;
	const struct codec *codec;
	int tone_hz;
	const char *digits;
	int event_pt;
	int ms;
	int timeout_ms;
} opt = { .codec = &codecs[0], .event_pt = 101, .ms = 3000,
	  .timeout_ms = 10000 };

static g722_encode_state_t *g722_enc;
static g722_decode_state_t *g722_dec;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- What we hear: a steady tone per half second ----------------------------- */

static struct {
	unsigned crossings, samples;
	double energy, tone, coeff, est_hz;
	int last_sign;
	int found[MAX_WINDOWS];
	double level[MAX_WINDOWS];
	unsigned nwindows;
} det;

static void window_end(void)
{
	double hz = det.crossings * 8000.0 / (2.0 * det.samples);
	double rms = sqrt(det.energy / det.samples);
	double purity = det.energy > 0 ? det.tone / (FRAME / 2.0 * det.energy)
				       : 0;
	int found = 0;

	if (rms > DBM0_RMS * 0.005 && det.est_hz > 0 &&
	    fabs(det.est_hz - hz) < 10 && purity > 0.7)
		found = (int)lround(hz);
	if (det.nwindows < MAX_WINDOWS) {
		det.level[det.nwindows] = rms > 0 ? 20 * log10(rms / DBM0_RMS)
						  : -99;
		det.found[det.nwindows++] = found;
	}
	det.est_hz = hz;
	det.coeff = 2 * cos(2 * M_PI * hz / 8000.0);
	det.crossings = det.samples = 0;
	det.energy = det.tone = 0;
}

static void hear(const int16_t *pcm, int n)
{
	double s1 = 0, s2 = 0;

	for (int i = 0; i < n; i++) {
		double x = pcm[i], s0 = x + det.coeff * s1 - s2;
		int sign = x >= 0 ? 1 : -1;

		s2 = s1;
		s1 = s0;
		if (det.last_sign && sign != det.last_sign)
			det.crossings++;
		det.last_sign = sign;
		det.energy += x * x;
	}
	det.tone += s1 * s1 + s2 * s2 - det.coeff * s1 * s2;
	det.samples += (unsigned)n;
	if (det.samples >= WINDOW_FRAMES * FRAME)
		window_end();
}

/* The tone heard in most windows, and in how many. */
static int heard(unsigned *windows, double *level)
{
	int best = 0;
	unsigned best_n = 0;

	for (unsigned i = 0; i < det.nwindows; i++) {
		unsigned n = 0;

		if (!det.found[i])
			continue;
		for (unsigned k = 0; k < det.nwindows; k++)
			n += abs(det.found[k] - det.found[i]) <= 10;
		if (n > best_n) {
			best_n = n;
			best = det.found[i];
			*level = det.level[i];
		}
	}
	*windows = best_n;
	return best;
}

/* ---- RTP -------------------------------------------------------------------------- */

static int decode(int pt, const uint8_t *p, int len, int16_t *pcm)
{
	if (pt == 0)
		for (int i = 0; i < len; i++)
			pcm[i] = ulaw_to_linear(p[i]);
	else if (pt == 8)
		for (int i = 0; i < len; i++)
			pcm[i] = alaw_to_linear(p[i]);
	else if (pt == 9)
		return g722_decode(g722_dec, pcm, p, len);
	else
		return 0;
	return len;
}

static int encode(const int16_t *pcm, uint8_t *out)
{
	if (opt.codec->pt == 0)
		for (int i = 0; i < FRAME; i++)
			out[i] = linear_to_ulaw(pcm[i]);
	else if (opt.codec->pt == 8)
		for (int i = 0; i < FRAME; i++)
			out[i] = linear_to_alaw(pcm[i]);
	else
		return g722_encode(g722_enc, out, pcm, FRAME);
	return FRAME;
}

struct tx {
	uint16_t seq;
	uint32_t ts, ssrc;
	uint64_t sample;
	unsigned packets;
	const char *digit;	/* the next digit to send */
	int64_t digit_at;	/* when it starts */
	unsigned event_sent;	/* packets of the current event */
};

static void put_header(uint8_t *p, int pt, bool marker, struct tx *t)
{
	p[0] = 0x80;
	p[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
	p[2] = (uint8_t)(t->seq >> 8);
	p[3] = (uint8_t)t->seq;
	p[4] = (uint8_t)(t->ts >> 24);
	p[5] = (uint8_t)(t->ts >> 16);
	p[6] = (uint8_t)(t->ts >> 8);
	p[7] = (uint8_t)t->ts;
	p[8] = (uint8_t)(t->ssrc >> 24);
	p[9] = (uint8_t)(t->ssrc >> 16);
	p[10] = (uint8_t)(t->ssrc >> 8);
	p[11] = (uint8_t)t->ssrc;
	t->seq++;
}

static int event_code(char d)
{
	const char *s = strchr("0123456789*#ABCD", d);

	return s && d ? (int)(s - "0123456789*#ABCD") : -1;
}

/* RFC 4733 2.5: an event of 100 ms in 20 ms packets, its end three times,
 * all with the timestamp of its start. */
static bool send_event(int fd, struct tx *t, int64_t now)
{
	uint8_t p[16];
	unsigned dur;

	if (!t->digit || !*t->digit || now < t->digit_at)
		return false;
	dur = (t->event_sent + 1) * FRAME;
	put_header(p, opt.event_pt, t->event_sent == 0, t);
	p[12] = (uint8_t)event_code(*t->digit);
	p[13] = (uint8_t)((t->event_sent >= 4 ? 0x80 : 0) | 10);
	if (dur > 5 * FRAME)
		dur = 5 * FRAME;
	p[14] = (uint8_t)(dur >> 8);
	p[15] = (uint8_t)dur;
	send(fd, p, sizeof(p), 0);
	if (++t->event_sent == 7) {
		t->event_sent = 0;
		t->ts += 8 * FRAME; /* the event and a pause */
		t->digit++;
		t->digit_at = now + 200;
	}
	return true;
}

static void send_frame(int fd, struct tx *t, int64_t now)
{
	int16_t pcm[FRAME];
	uint8_t p[12 + FRAME];
	int n;

	t->packets++;
	if (send_event(fd, t, now))
		return;
	for (int i = 0; i < FRAME; i++, t->sample++)
		pcm[i] = opt.tone_hz ?
				 (int16_t)(7210.0 * sin(2 * M_PI * opt.tone_hz *
							(double)(t->sample %
								 8000) /
							8000.0)) :
				 0;
	put_header(p, opt.codec->pt, t->packets == 1, t);
	n = encode(pcm, p + 12);
	t->ts += FRAME;
	send(fd, p, (size_t)(12 + n), 0);
}

struct rx {
	unsigned packets, seq_gaps;
	int pt;
	bool have_seq;
	uint16_t last_seq;
	char digits[64];
	uint32_t last_event_ts;
	bool event_done;
};

static void on_event_packet(struct rx *r, const uint8_t *p, int len)
{
	uint32_t ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
		      (uint32_t)p[6] << 8 | p[7];
	size_t n = strlen(r->digits);

	if (len < 16 || !(p[13] & 0x80) || p[12] > 15)
		return;
	if (r->event_done && ts == r->last_event_ts)
		return; /* the end's repetitions */
	r->event_done = true;
	r->last_event_ts = ts;
	if (n + 1 < sizeof(r->digits))
		r->digits[n] = "0123456789*#ABCD"[p[12]];
}

static void on_packet(struct rx *r, const uint8_t *p, int len)
{
	int16_t pcm[2 * FRAME];
	int pt, off, n;
	uint16_t seq;

	if (len < 12 || p[0] >> 6 != 2)
		return;
	pt = p[1] & 0x7f;
	off = 12 + 4 * (p[0] & 0x0f);
	seq = (uint16_t)(p[2] << 8 | p[3]);
	if (r->have_seq && seq != (uint16_t)(r->last_seq + 1))
		r->seq_gaps++;
	r->have_seq = true;
	r->last_seq = seq;
	r->packets++;
	if (pt == opt.event_pt) {
		on_event_packet(r, p, len);
		return;
	}
	r->pt = pt;
	if (off >= len || len - off > FRAME)
		return;
	n = decode(pt, p + off, len - off, pcm);
	if (n > 0)
		hear(pcm, n);
}

/* ---- Main --------------------------------------------------------------------------- */

static int open_socket(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)opt.port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "test_mgw_rtp: port %d: %s\n", opt.port,
			strerror(errno));
		exit(2);
	}
	if (opt.have_remote)
		connect(fd, (struct sockaddr *)&opt.remote, sizeof(opt.remote));
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: test_mgw_rtp -p PORT [-r HOST:PORT] "
			"[-c PCMU|PCMA|G722] [-t HZ] [-d DIGITS] [-e PT] "
			"[-m MS] [-w TIMEOUT_MS]\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "p:r:c:t:d:e:m:w:")) != -1) {
		switch (c) {
		case 'p': opt.port = atoi(optarg); break;
		case 'r': {
			char *colon = strrchr(optarg, ':');

			if (!colon)
				usage();
			*colon = '\0';
			opt.remote.sin_family = AF_INET;
			opt.remote.sin_port = htons((uint16_t)atoi(colon + 1));
			inet_pton(AF_INET, optarg, &opt.remote.sin_addr);
			opt.have_remote = true;
			break;
		}
		case 'c':
			opt.codec = NULL;
			for (size_t i = 0; i < 3; i++)
				if (strcasecmp(optarg, codecs[i].name) == 0)
					opt.codec = &codecs[i];
			if (!opt.codec)
				usage();
			break;
		case 't': opt.tone_hz = atoi(optarg); break;
		case 'd': opt.digits = optarg; break;
		case 'e': opt.event_pt = atoi(optarg); break;
		case 'm': opt.ms = atoi(optarg); break;
		case 'w': opt.timeout_ms = atoi(optarg); break;
		default: usage();
		}
	}
	if (opt.port <= 0)
		usage();
}

int main(int argc, char **argv)
{
	struct tx t = { .ssrc = 0x5eed0000u | (uint32_t)getpid() };
	struct rx r = { .pt = -1 };
	int64_t start, begun = 0, next_tx = 0, now;
	unsigned windows;
	double level = -99;
	int fd, hz;

	parse_args(argc, argv);
	g722_enc = g722_encode_init(NULL, 64000, G722_SAMPLE_RATE_8000);
	g722_dec = g722_decode_init(NULL, 64000, G722_SAMPLE_RATE_8000);
	fd = open_socket();
	start = now_ms();
	if (opt.have_remote)
		begun = next_tx = start;
	t.digit = opt.digits;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint8_t buf[1500];
		int wait;

		now = now_ms();
		if (now - start > opt.timeout_ms ||
		    (begun && now - begun >= opt.ms))
			break;
		wait = begun ? (int)(next_tx > now ? next_tx - now : 0) : 20;
		if (poll(&p, 1, wait) > 0) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
					     (struct sockaddr *)&from, &fl);

			if (n > 0 && !begun) {
				connect(fd, (struct sockaddr *)&from, fl);
				begun = next_tx = now_ms();
				t.digit_at = begun + 1000;
			}
			if (n > 0)
				on_packet(&r, buf, (int)n);
		}
		now = now_ms();
		while (begun && now >= next_tx) {
			send_frame(fd, &t, now);
			next_tx += 20;
		}
		if (opt.have_remote && !t.digit_at)
			t.digit_at = begun + 1000;
	}
	hz = heard(&windows, &level);
	printf("rx_packets=%u\nrx_pt=%d\ntone_hz=%d\ntone_windows=%u\n"
	       "tone_dbm0=%.1f\nrx_digits=%s\nseq_gaps=%u\ntx_packets=%u\n",
	       r.packets, r.pt, hz, windows, level,
	       r.digits[0] ? r.digits : "-", r.seq_gaps, t.packets);
	close(fd);
	g722_encode_free(g722_enc);
	g722_decode_free(g722_dec);
	return 0;
}
