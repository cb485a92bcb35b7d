// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench_media_chan - the media plugin under load, beside the raw cost of
 * the same DSP and SRTP calls, in one run.
 *
 * The plugin runs in this process on a minimal host (test_media_host.h)
 * with its real workers; a simulated TDM driver delivers a 160-sample
 * block of speech to every bearer channel every 20 ms from its own thread
 * (as a span driver does) and takes the blocks written back. Each channel
 * joins a TDM circuit to an RTP leg; channels are paired so that each
 * one's RTP goes to its partner over loopback: every channel is full
 * duplex, decoding what its partner encoded.
 *
 * The anchor ("raw") does the same per channel frame in one flat loop:
 * the G.711 block to linear, the canceller when on, SpanDSP's DTMF
 * detector, the SpanDSP encoder (G.722 at 16 kHz with our resampler, as
 * the plugin does), libsrtp protect when on, sendto to the partner, recv,
 * libsrtp unprotect, the SpanDSP decoder, SpanDSP's PLC history, linear to
 * G.711. No jitter buffer, no statistics, no threads, no clocks.
 *
 * For each pipeline it prints
 *   pipeline=NAME channels_per_core=N ratio_vs_raw=R late_frames=L
 *   p999_frame_us=T raw_us=U plugin_us=P
 * channels_per_core = 20 ms / the workers' CPU time per channel frame;
 * ratio_vs_raw = that CPU time / the raw loop's; late frames and the
 * 99.9th percentile frame time are over the measured seconds with
 * CHANNELS channels on WORKERS workers.
 *
 *   bench_media_chan [-c CHANNELS] [-w WORKERS] [-s SECONDS] [-p PART]
 *                    [-P (the plugin only) | -R (the raw loop only)]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <srtp2/srtp.h>

#include "media_int.h"
#include "media_resample.h"
#include "test_media.h"
#include "test_media_host.h"

#define MAX_CHANNELS	960
#define SPAN_CHANNELS	30

/* ---- the simulated span driver --------------------------------------- */

/* One cache line each: channels on different workers share none. */
struct sim_bchan {
	tdm_bchan_rx_cb cb;
	void *arg;
	bool open;
	atomic_ullong written;
} __attribute__((aligned(64)));

static struct {
	enum tdm_law law;
	struct sim_bchan chan[MAX_CHANNELS];
	uint8_t blocks[250][TDM_BLOCK_SAMPLES]; /* 5 s of speech, looped */
	pthread_t thread;
	atomic_bool quit;
	pthread_mutex_t lock;
} sim = { .lock = PTHREAD_MUTEX_INITIALIZER };

static unsigned sim_index(unsigned span, unsigned ts)
{
	return (span - 1) * SPAN_CHANNELS + (ts - 1);
}

static int sim_span_info(unsigned span, struct tdm_span_info *info)
{
	if (span < 1 || span > MAX_CHANNELS / SPAN_CHANNELS)
		return -ENOENT;
	info->span = span;
	info->law = sim.law;
	info->type = TDM_SPAN_E1;
	return 0;
}

static int sim_bchan_open(unsigned span, unsigned ts, tdm_bchan_rx_cb cb,
			  void *arg, struct tdm_bchan **out)
{
	unsigned i = sim_index(span, ts);

	if (ts < 1 || ts > SPAN_CHANNELS || i >= MAX_CHANNELS)
		return -ENOENT;
	pthread_mutex_lock(&sim.lock);
	sim.chan[i].cb = cb;
	sim.chan[i].arg = arg;
	sim.chan[i].open = true;
	pthread_mutex_unlock(&sim.lock);
	*out = (struct tdm_bchan *)&sim.chan[i];
	return 0;
}

static int sim_bchan_write(struct tdm_bchan *ch, const uint8_t *block,
			   size_t len)
{
	(void)block;
	if (len != TDM_BLOCK_SAMPLES)
		return -EINVAL;
	atomic_fetch_add(&((struct sim_bchan *)ch)->written, 1);
	return 0;
}

static void sim_bchan_close(struct tdm_bchan *ch)
{
	pthread_mutex_lock(&sim.lock);
	((struct sim_bchan *)ch)->open = false;
	pthread_mutex_unlock(&sim.lock);
}

static const struct tdm_service sim_tdm = {
	.size = sizeof(struct tdm_service),
	.span_info = sim_span_info,
	.bchan_open = sim_bchan_open,
	.bchan_write = sim_bchan_write,
	.bchan_close = sim_bchan_close,
};

/*
 * The block channel i hears at tick t. Partners (i, i ^ 1) are 37 blocks
 * (740 ms) apart in the speech, far beyond the canceller's tail: what one
 * sends is no echo of what the other hears, as on real calls.
 */
static unsigned block_of(unsigned tick, unsigned i)
{
	return (tick + i * 37) % 250;
}

/* Every 20 ms of CLOCK_MONOTONIC, a block to every open channel. */
static void *sim_clock(void *arg)
{
	struct timespec next;
	unsigned tick = 0, i;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&sim.quit)) {
		next.tv_nsec += MEDIA_TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		pthread_mutex_lock(&sim.lock);
		for (i = 0; i < MAX_CHANNELS; i++)
			if (sim.chan[i].open)
				sim.chan[i].cb((struct tdm_bchan *)&sim.chan[i],
					       sim.blocks[block_of(tick, i)],
					       sim.chan[i].arg);
		pthread_mutex_unlock(&sim.lock);
		tick++;
	}
	return NULL;
}

static void sim_make_speech(void)
{
	struct test_speech sp;
	int16_t pcm[TDM_BLOCK_SAMPLES];
	unsigned b, i;

	test_speech_init(&sp, 4242, 2000.0);
	for (b = 0; b < 250; b++) {
		test_speech_fill(&sp, pcm, TDM_BLOCK_SAMPLES);
		for (i = 0; i < TDM_BLOCK_SAMPLES; i++)
			sim.blocks[b][i] = sim.law == TDM_LAW_ULAW ?
						   linear_to_ulaw(pcm[i]) :
						   linear_to_alaw(pcm[i]);
	}
}

/* ---- pipelines -------------------------------------------------------- */

struct pipeline {
	const char *name;
	enum tdm_law law;
	const char *codec;
	int pt;
	bool ec, srtp;
};

static double thread_cpu_ns(pthread_t t)
{
	clockid_t cid;
	struct timespec ts;

	if (pthread_getcpuclockid(t, &cid) || clock_gettime(cid, &ts))
		return 0.0;
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double self_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void run_loop_for(double seconds)
{
	struct timespec pause = { 0, 10 * 1000000L };
	unsigned n = (unsigned)(seconds * 100);

	while (n--) {
		fh_run_calls();
		nanosleep(&pause, NULL);
	}
	fh_run_calls();
}

/* ---- the plugin side ---------------------------------------------------- */

struct snapshot {
	double cpu_ns;
	uint64_t frames, late, wakeups;
	uint64_t hist[MEDIA_HIST_BUCKETS];
};

static void take_snapshot(struct snapshot *s)
{
	unsigned w, b;

	memset(s, 0, sizeof(*s));
	for (w = 0; w < mp.nworkers; w++) {
		struct media_worker *wk = &mp.workers[w];

		s->cpu_ns += thread_cpu_ns(wk->thread);
		s->frames += atomic_load(&wk->frames);
		s->late += atomic_load(&wk->late_frames);
		s->wakeups += atomic_load(&wk->wakeups);
		for (b = 0; b < MEDIA_HIST_BUCKETS; b++)
			s->hist[b] += atomic_load(&wk->hist[b]);
	}
}

static unsigned hist_percentile(const struct snapshot *a,
				const struct snapshot *b, double q)
{
	uint64_t total = 0, seen = 0;
	unsigned i;

	for (i = 0; i < MEDIA_HIST_BUCKETS; i++)
		total += b->hist[i] - a->hist[i];
	for (i = 0; i < MEDIA_HIST_BUCKETS; i++) {
		seen += b->hist[i] - a->hist[i];
		if (total && seen > (uint64_t)(q * (double)total))
			return i < 1024 ? i + 1 : 1024 + (i - 1024) * 32 + 32;
	}
	return 0;
}

static struct media_cfg bench_cfg;
static const struct media_service *media;

static int plugin_up(unsigned workers)
{
	struct tnd_plugin *d = MEDIA_SELF;
	int rc;

	memset(&bench_cfg, 0, sizeof(bench_cfg));
	fh_defaults(d->params, &bench_cfg);
	bench_cfg.workers = workers;
	bench_cfg.rtp_port_min = 30000;
	bench_cfg.rtp_port_max = 39999;
	bench_cfg.rtp_timeout_s = 0;
	fh_forget_services();
	fh_service_register(NULL, TDM_SERVICE, 1, &sim_tdm);
	rc = d->init(&fh_api, &bench_cfg);
	if (rc == 0)
		rc = d->start();
	media = fh_service_get(MEDIA_SERVICE, 1);
	return rc;
}

static void plugin_down(void)
{
	struct tnd_plugin *d = MEDIA_SELF;

	if (d->stop() == TND_STOP_PENDING) {
		unsigned n = 500;

		while (mp.nchans && n--)
			run_loop_for(0.01);
	}
	d->fini();
	fh_run_calls();
}

static int open_channels(const struct pipeline *p, unsigned n,
			 struct media_chan **ch)
{
	struct media_chan_config cfg = { .size = sizeof(cfg) };
	unsigned i;
	int rc;

	for (i = 0; i < n; i++) {
		cfg.leg[0] = (struct media_leg_config){
			.type = MEDIA_LEG_TDM, .span = 1 + i / SPAN_CHANNELS,
			.ts = 1 + i % SPAN_CHANNELS, .ec = p->ec,
			.ec_tail_ms = 64,
		};
		cfg.leg[1] = (struct media_leg_config){
			.type = MEDIA_LEG_RTP, .srtp = p->srtp,
		};
		rc = media->chan_new(&cfg, &ch[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Channel i sends to channel i ^ 1 and takes its key. */
static int pair_channels(const struct pipeline *p, unsigned n,
			 struct media_chan **ch)
{
	unsigned i;
	int rc;

	for (i = 0; i < n; i++) {
		struct media_rtp_local peer = { .size = sizeof(peer) };
		struct media_rtp_remote r = {
			.size = sizeof(r), .addr = "127.0.0.1",
			.codec = p->codec, .pt = p->pt, .dtmf_pt = 101,
		};

		rc = media->rtp_local(ch[i ^ 1], MEDIA_LEG_B, &peer);
		if (rc < 0)
			return rc;
		r.port = peer.port;
		r.crypto = p->srtp ? peer.crypto[0] : NULL;
		rc = media->rtp_set_remote(ch[i], MEDIA_LEG_B, &r);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < n; i++) {
		rc = media->chan_start(ch[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

struct plugin_result {
	double us_per_frame;
	double wakeups_per_tick;
	uint64_t late;
	unsigned p999;
	uint64_t frames;
};

static int run_plugin(const struct pipeline *p, unsigned n, unsigned workers,
		      double seconds, struct plugin_result *res)
{
	static struct media_chan *ch[MAX_CHANNELS];
	static struct snapshot a, b;
	unsigned i;
	int rc;

	sim.law = p->law;
	sim_make_speech();
	rc = plugin_up(workers);
	if (rc == 0)
		rc = open_channels(p, n, ch);
	if (rc == 0)
		rc = pair_channels(p, n, ch);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", p->name, strerror(-rc));
		plugin_down();
		return rc;
	}
	run_loop_for(2.0);		/* jitter buffers settle */
	take_snapshot(&a);
	run_loop_for(seconds);
	take_snapshot(&b);
	for (i = 0; i < n; i++)
		media->chan_free(ch[i]);
	plugin_down();
	res->frames = b.frames - a.frames;
	res->us_per_frame = res->frames ?
		(b.cpu_ns - a.cpu_ns) / 1000.0 / (double)res->frames : 0.0;
	res->late = b.late - a.late;
	res->wakeups_per_tick = (double)(b.wakeups - a.wakeups) /
				(seconds * 50.0 * workers);
	res->p999 = hist_percentile(&a, &b, 0.999);
	return 0;
}

/* ---- the raw anchor -------------------------------------------------------- */

struct raw_chan {
	int fd;
	unsigned port;
	struct media_ec *ec;
	dtmf_rx_state_t *dtmf;
	plc_state_t *plc;
	struct media_codec_state *codec;	/* our thin SpanDSP wrapper */
	struct media_resampler *up, *down;
	srtp_t tx, rx;
	uint16_t seq;
	uint32_t ts;
};

static void raw_dtmf_cb(void *user, const char *digits, int len)
{
	(void)user, (void)digits, (void)len;
}

static int raw_socket(unsigned *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

static srtp_t raw_srtp(const uint8_t *key, bool inbound)
{
	srtp_policy_t policy;
	srtp_t s = NULL;

	memset(&policy, 0, sizeof(policy));
	srtp_crypto_policy_set_rtp_default(&policy.rtp);
	srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
	policy.key = (uint8_t *)key;
	policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	policy.window_size = 128;
	srtp_create(&s, &policy);
	return s;
}

static int raw_open(const struct pipeline *p, struct raw_chan *c,
		    const uint8_t *key)
{
	const struct media_codec *codec = media_codec_find(p->codec, 0);
	struct media_ec_config ec;

	memset(c, 0, sizeof(*c));
	c->fd = raw_socket(&c->port);
	media_ec_config_default(&ec);
	ec.tail_ms = 64;
	if (p->ec && media_ec_new(&ec, &c->ec) < 0)
		return -1;
	c->dtmf = dtmf_rx_init(NULL, raw_dtmf_cb, NULL);
	c->plc = plc_init(NULL);
	if (media_codec_new(codec, &c->codec) < 0)
		return -1;
	if (codec->sample_rate_hz != 8000 &&
	    (media_resampler_new(8000, 16000, &c->up) < 0 ||
	     media_resampler_new(16000, 8000, &c->down) < 0))
		return -1;
	if (p->srtp) {
		c->tx = raw_srtp(key, false);
		c->rx = raw_srtp(key, true);
	}
	return c->fd < 0 || !c->dtmf || !c->plc ? -1 : 0;
}

static void raw_close(struct raw_chan *c)
{
	close(c->fd);
	media_ec_free(c->ec);
	dtmf_rx_free(c->dtmf);
	plc_free(c->plc);
	media_codec_free(c->codec);
	media_resampler_free(c->up);
	media_resampler_free(c->down);
	if (c->tx)
		srtp_dealloc(c->tx);
	if (c->rx)
		srtp_dealloc(c->rx);
}

static void raw_to_line(const struct pipeline *p, const int16_t *pcm,
			uint8_t *block)
{
	int i;

	for (i = 0; i < TDM_BLOCK_SAMPLES; i++)
		block[i] = p->law == TDM_LAW_ULAW ? linear_to_ulaw(pcm[i]) :
						     linear_to_alaw(pcm[i]);
}

/* Line block in -> RTP out. */
static void raw_send(const struct pipeline *p, struct raw_chan *c,
		     const uint8_t *block, const int16_t *rin, unsigned to)
{
	uint8_t pkt[MEDIA_PKT_ROOM];
	int16_t pcm[TDM_BLOCK_SAMPLES], wide[2 * TDM_BLOCK_SAMPLES];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const int16_t *src = pcm;
	int i, n = TDM_BLOCK_SAMPLES, len;

	for (i = 0; i < TDM_BLOCK_SAMPLES; i++)
		pcm[i] = p->law == TDM_LAW_ULAW ? ulaw_to_linear(block[i]) :
						   alaw_to_linear(block[i]);
	if (c->ec)
		media_ec_process(c->ec, rin, pcm, pcm, TDM_BLOCK_SAMPLES);
	dtmf_rx(c->dtmf, pcm, TDM_BLOCK_SAMPLES);
	if (c->up) {
		n = media_resample(c->up, pcm, n, wide, 2 * TDM_BLOCK_SAMPLES);
		src = wide;
	}
	media_rtp_write_header(pkt, false, (uint8_t)p->pt, c->seq++, c->ts, 1);
	c->ts += TDM_BLOCK_SAMPLES;
	len = 12 + media_codec_encode(c->codec, src, n, pkt + 12, 1400);
	if (c->tx)
		srtp_protect(c->tx, pkt, &len);
	sin.sin_port = htons((uint16_t)to);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sendto(c->fd, pkt, (size_t)len, 0, (struct sockaddr *)&sin,
	       sizeof(sin));
}

/* RTP in -> line block out. */
static void raw_receive(const struct pipeline *p, struct raw_chan *c,
			int16_t *rin)
{
	uint8_t pkt[MEDIA_PKT_ROOM], block[TDM_BLOCK_SAMPLES];
	int16_t wide[MEDIA_MAX_PACKET_SAMPLES];
	int len = (int)recv(c->fd, pkt, sizeof(pkt), 0), n;

	if (len < 12 || (c->rx && srtp_unprotect(c->rx, pkt, &len)))
		return;
	n = media_codec_decode(c->codec, pkt + 12, (size_t)len - 12, wide,
			       MEDIA_MAX_PACKET_SAMPLES);
	if (c->down)
		n = media_resample(c->down, wide, n, rin, TDM_BLOCK_SAMPLES);
	else
		memcpy(rin, wide, TDM_BLOCK_SAMPLES * sizeof(*rin));
	plc_rx(c->plc, rin, TDM_BLOCK_SAMPLES);
	raw_to_line(p, rin, block);
}

static double run_raw(const struct pipeline *p, unsigned n, unsigned frames)
{
	static struct raw_chan c[MAX_CHANNELS];
	static int16_t rin[MAX_CHANNELS][TDM_BLOCK_SAMPLES];
	uint8_t key[30];
	unsigned f, i;
	double t0 = 0.0;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 37 + 1);
	srtp_init();
	for (i = 0; i < n; i++)
		if (raw_open(p, &c[i], key) < 0)
			return -1.0;
	memset(rin, 0, sizeof(rin));
	for (f = 0; f < frames + 50; f++) {
		if (f == 50)		/* the first second warms up */
			t0 = self_cpu_ns();
		for (i = 0; i < n; i++)
			raw_send(p, &c[i], sim.blocks[block_of(f, i)], rin[i],
				 c[i ^ 1].port);
		for (i = 0; i < n; i++)
			raw_receive(p, &c[i], rin[i]);
	}
	t0 = self_cpu_ns() - t0;
	for (i = 0; i < n; i++)
		raw_close(&c[i]);
	return t0 / 1000.0 / ((double)frames * n);
}

/* ---- main ----------------------------------------------------------------- */

static const struct pipeline pipelines[] = {
	{ "PCMA-PCMU", TDM_LAW_ALAW, "PCMU", 0, false, false },
	{ "PCMA-PCMU+ec64", TDM_LAW_ALAW, "PCMU", 0, true, false },
	{ "PCMA-PCMU+ec64+srtp", TDM_LAW_ALAW, "PCMU", 0, true, true },
	{ "PCMU-G722", TDM_LAW_ULAW, "G722", 9, false, false },
	{ "PCMU-G722+ec64", TDM_LAW_ULAW, "G722", 9, true, false },
	{ "PCMU-G722+ec64+srtp", TDM_LAW_ULAW, "G722", 9, true, true },
	{ "PCMA-G726-32", TDM_LAW_ALAW, "G726-32", 96, false, false },
	{ "PCMA-G726-32+ec64", TDM_LAW_ALAW, "G726-32", 96, true, false },
	{ "PCMA-G726-32+ec64+srtp", TDM_LAW_ALAW, "G726-32", 96, true, true },
	{ "PCMA-GSM", TDM_LAW_ALAW, "GSM", 3, false, false },
	{ "PCMA-GSM+ec64", TDM_LAW_ALAW, "GSM", 3, true, false },
	{ "PCMA-GSM+ec64+srtp", TDM_LAW_ALAW, "GSM", 3, true, true },
};

int main(int argc, char **argv)
{
	unsigned channels = 480, workers = 2, i;
	double seconds = 5.0;
	const char *only = NULL;
	int opt, what = 3;	/* 1: plugin only, 2: raw only (profiling) */

	while ((opt = getopt(argc, argv, "c:w:s:p:PR")) != -1) {
		if (opt == 'c')
			channels = (unsigned)atoi(optarg) & ~1u;
		else if (opt == 'w')
			workers = (unsigned)atoi(optarg);
		else if (opt == 's')
			seconds = atof(optarg);
		else if (opt == 'p')
			only = optarg;
		else if (opt == 'P')
			what = 1;
		else if (opt == 'R')
			what = 2;
		else
			return 2;
	}
	if (channels < 2 || channels > MAX_CHANNELS)
		return 2;
	pthread_create(&sim.thread, NULL, sim_clock, NULL);
	printf("channels=%u\nworkers=%u\nseconds=%.1f\n", channels, workers,
	       seconds);
	for (i = 0; i < sizeof(pipelines) / sizeof(pipelines[0]); i++) {
		const struct pipeline *p = &pipelines[i];
		struct plugin_result r = { 0 };
		double raw = 0.0;

		if (only && !strstr(p->name, only))
			continue;
		if ((what & 1) && run_plugin(p, channels, workers, seconds, &r) < 0)
			continue;
		if (what & 2) {
			sim.law = p->law;
			sim_make_speech();
			raw = run_raw(p, channels, (unsigned)(seconds * 50));
		}
		printf("pipeline=%s channels_per_core=%.0f ratio_vs_raw=%.2f "
		       "late_frames=%llu p999_frame_us=%u raw_us=%.2f "
		       "plugin_us=%.2f wakeups_per_tick=%.1f\n",
		       p->name, r.us_per_frame > 0 ? 20000.0 / r.us_per_frame : 0,
		       raw > 0 ? r.us_per_frame / raw : 0.0,
		       (unsigned long long)r.late, r.p999, raw, r.us_per_frame,
		       r.wakeups_per_tick);
		fflush(stdout);
	}
	atomic_store(&sim.quit, true);
	pthread_join(sim.thread, NULL);
	return 0;
}
