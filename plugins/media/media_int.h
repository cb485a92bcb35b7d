/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * media_int.h - the media plugin's internal structures, shared by its
 * files (never installed).
 *
 * Ownership and threads:
 * - The loop thread creates channels, prepares every allocation they need
 *   (sockets, codec states, SRTP sessions) and hands them to a worker.
 * - From chan_start() to the worker's "stopped" hand-back, a channel's
 *   media state (struct media_leg's runtime part, the chan's frame state)
 *   belongs to its worker alone. The loop talks to it through `lock`:
 *   it posts updates (pending), digits and a stop request; the worker
 *   publishes statistics (pub) every few frames.
 * - A TDM bearer callback (the span driver's thread) only pushes blocks
 *   into the leg's ring and wakes the worker.
 */
#ifndef TANDEM_MEDIA_INT_H
#define TANDEM_MEDIA_INT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <spandsp.h>

#include "tandem/media.h"
#include "tandem/plugin.h"
#include "tandem/tdm.h"

#include "media_codec.h"
#include "media_dtls.h"
#include "media_dtmf.h"
#include "media_ec.h"
#include "media_jb.h"
#include "media_rtp.h"
#include "media_srtp.h"
#include "media_udptl.h"

#define TND_LOG_HOST (mp.host)
#define TND_LOG_CATEGORY "media"

#define MEDIA_TICK_MS		20
#define MEDIA_TICK_NS		(MEDIA_TICK_MS * 1000000LL)
#define MEDIA_RATE		8000	/* the clocked path's linear audio */
#define MEDIA_FRAME		160	/* samples per tick at MEDIA_RATE */
#define MEDIA_PKT_MAX		1500
#define MEDIA_PKT_ROOM		(MEDIA_PKT_MAX + MEDIA_SRTP_HEADROOM)
#define MEDIA_FIFO_MAX		(MEDIA_MAX_PACKET_MS * MEDIA_RATE / 1000 + \
				 2 * MEDIA_FRAME)
#define MEDIA_TDM_RING		4	/* bearer blocks queued per leg */
#define MEDIA_DTMF_QUEUE	16
#define MEDIA_HIST_BUCKETS	2048	/* frame times, see media_worker.c */

/* ---- configuration ([media]) -------------------------------------------- */

struct media_cfg {
	unsigned long long workers;
	int pin_workers;
	char *rtp_address;
	char *sdp_address;
	unsigned long long rtp_port_min, rtp_port_max;
	unsigned long long ptime_ms;
	unsigned long long jb_min_ms, jb_max_ms;
	char *rtp_bridge;		/* relay | jitter */
	int ec;
	unsigned long long ec_tail_ms;
	int ec_nlp;
	int latch;
	unsigned long long rtp_timeout_s;
	unsigned long long rtcp_interval_ms;
	unsigned long long dtmf_pt;
	unsigned long long dscp;
	unsigned long long max_channels;
	char *srtp_suites;
};

/* ---- legs ---------------------------------------------------------------- */

/* The negotiated parameters of an RTP leg, prepared by the loop. */
struct media_rtp_params {
	bool set;			/* rtp_set_remote() was called */
	const struct media_codec *codec;
	uint8_t pt;
	int dtmf_pt;			/* -1: in band */
	unsigned ptime_ms;
	bool rtcp_mux;
	enum media_dir dir;
	struct sockaddr_storage remote;	/* from SDP; port 0: unknown */
	struct sockaddr_storage remote_rtcp;
	struct media_srtp *srtp;	/* NULL: plain RTP */
	bool keep_srtp;			/* same keys: keep the running session */
	enum media_srtp_suite suite;
	struct media_srtp_crypto remote_key;
	/* DTLS-SRTP: the handshake; srtp is made by the worker from it */
	struct media_dtls *dtls;
	bool dtls_client;
	bool keep_dtls;			/* same peer: keep the running one */
	bool dtls_failed;
	/* T.38 over UDPTL instead of RTP (codec "t38") */
	bool t38;
	struct media_fax *fax;
	/* codec states for the clocked path, made by the loop */
	struct media_codec_state *codec_st;
	struct media_resampler *up, *down;  /* 8k <-> codec rate, or NULL */
};

/* An update posted to a running leg: its new parameters and the relay
 * transcoders of both directions for the new codec pair. */
struct media_leg_update {
	struct media_rtp_params params;
	struct media_transcoder *tc_in;	   /* other leg's codec -> this */
	struct media_transcoder *tc_out;   /* this leg's codec -> other */
};

enum dtmf_out_state { DTMF_IDLE, DTMF_PLAYING, DTMF_ENDING, DTMF_GAP };

/* Digits going out of a leg: RFC 4733 packets or a tone in band. */
struct media_dtmf_out {
	struct {
		char digit;
		unsigned duration_ms;	/* 0: until dtmf_out_end() */
	} queue[MEDIA_DTMF_QUEUE];
	unsigned head, count;
	enum dtmf_out_state state;
	char digit;
	unsigned duration_ms;		/* 0: open-ended */
	unsigned elapsed;		/* samples played */
	unsigned ends_sent;		/* RFC 4733 end packets (3) */
	unsigned gap;			/* samples of gap left */
	uint32_t event_ts;		/* RFC 4733: the event's timestamp */
	bool first;			/* marker on the first event packet */
	struct media_dtmf_tone tone;
};

/* RFC 4733 events arriving on a leg. */
struct media_dtmf_in {
	bool active;
	uint32_t ts;			/* of the current or last event */
	bool have_ts;
	uint8_t event;
	bool ended;
	unsigned duration;		/* samples */
	int64_t last_ns;		/* when its last packet came */
};

struct media_tdm_block {
	uint8_t data[TDM_BLOCK_SAMPLES];
	int64_t arrival_ns;		/* CLOCK_MONOTONIC */
};

struct media_chan;

struct media_leg {
	struct media_chan *ch;
	unsigned index;
	struct media_leg_config cfg;

	/* ---- RTP: loop side ---- */
	int fd_rtp, fd_rtcp;
	unsigned port;
	struct sockaddr_storage local;
	struct media_srtp_crypto keys[MEDIA_SRTP_SUITE_COUNT];
	bool have_keys;
	struct media_leg_update *pending;	/* under ch->lock */

	char cname[64];			/* RTCP SDES CNAME */
	const struct media_codec *codec_loop;	/* last set, loop's view */
	bool srtp_loop;			/* the loop's view of the keys */
	struct media_srtp_crypto remote_key_loop;
	char fingerprint_loop[MEDIA_FINGERPRINT_MAX];	/* the peer's */
	int dtls_role_loop;		/* 0 none, 1 client, 2 server */

	/* ---- RTP: worker side ---- */
	struct media_rtp_params rp;
	struct sockaddr_storage remote;	/* where we send: SDP or latched */
	struct sockaddr_storage remote_rtcp;
	int64_t last_send_wall_ns;
	uint32_t rng;			/* xorshift state for RTCP intervals */
	unsigned quiet_frames;		/* consecutive frames concealed */
	bool latched, rtcp_latched;
	int64_t last_rx_wall_ns;	/* arrival of the last packet */
	bool timeout_sent;
	bool have_src;
	struct media_rtp_source src;
	uint32_t ssrc_tx;
	uint16_t seq_tx;
	uint32_t ts_tx;			/* timestamp of the next frame we make */
	bool sent_since_report;
	uint32_t packets_tx32, octets_tx32;
	/* relay: timestamp mapping of the stream we forward from */
	bool relay_map;
	uint32_t relay_in_ssrc;
	uint32_t relay_ts_offset;
	uint32_t last_ts_out;
	bool marker_next;
	/* clocked receive */
	struct media_jb jb;
	plc_state_t *plc;
	int16_t fifo[MEDIA_FIFO_MAX];
	unsigned fifo_len;
	/* clocked send: frames accumulated toward ptime */
	uint8_t out_payload[MEDIA_JB_MAX_PAYLOAD];
	size_t out_len;
	unsigned out_frames;
	uint32_t out_ts;
	/* relay transcoding toward this leg (from the other leg's codec) */
	struct media_transcoder *tc;
	/* RTCP */
	int64_t next_rtcp_ns;
	uint32_t lsr;			/* their last SR, middle 32 bits */
	int64_t lsr_at_ns;
	double rtt_ms;
	double remote_loss_pct, remote_jitter_ms;
	/* DTMF */
	struct media_dtmf_out dtmf_out;
	struct media_dtmf_in dtmf_in;
	struct media_dtmf_detector *det;
	bool det_active;		/* an in-band digit is on */
	char det_digit;
	/* fax tones in band */
	modem_connect_tones_rx_state_t *cng, *ced;
	bool cng_seen, ced_seen;

	/* ---- TDM ---- */
	struct tdm_bchan *bchan;
	enum tdm_law law;
	struct media_tdm_block ring[MEDIA_TDM_RING];
	atomic_uint ring_head, ring_tail;	/* producer: driver thread */
	atomic_ulong ring_overruns;
	struct media_ec *ec;
	bool ec_on;
	atomic_int ec_request;		/* -1 none, 0 off, 1 on: from loop */

	/* ---- LOOP ---- */
	int16_t loop_pcm[MEDIA_FRAME];	/* what was sent to it last */

	/* ---- statistics (worker) ---- */
	struct media_leg_stats st;
};

/* ---- channels ----------------------------------------------------------- */

enum media_chan_state {
	CHAN_NEW,	/* created, loop-owned */
	CHAN_RUNNING,	/* on its worker */
	CHAN_STOPPING,	/* stop requested, waiting for the worker */
	CHAN_STOPPED,	/* back on the loop */
};

enum media_chan_mode {
	MODE_RELAY,	/* RTP <-> RTP packet by packet, or an echo */
	MODE_CLOCKED,	/* 20 ms frames through jitter buffers and DSP */
};

struct media_worker;

struct media_chan {
	unsigned id;
	char label[MEDIA_LABEL_MAX];
	struct media_chan *next;	/* the loop's list */
	enum media_chan_state state;	/* loop's view */
	bool freeing;			/* chan_free() while stopping */
	bool by_command;		/* `media echo` made it */
	media_event_cb on_event;
	void *arg;
	struct media_worker *worker;
	struct media_leg leg[2];

	/* worker side */
	enum media_chan_mode mode;
	bool tdm_clocked;		/* ticks come from leg blocks */
	bool fax;			/* a leg is T.38: gateway, no canceller */
	bool rtp_watched, rtcp_watched;
	unsigned worker_slot;		/* index in the worker's set */
	atomic_bool poked;		/* in the worker's pokes */
	unsigned publish_countdown;
	int64_t started_ns;

	/* shared, under lock */
	pthread_mutex_t lock;
	bool stop_req;
	struct {
		unsigned leg;
		char digit;
		unsigned duration_ms;
	} digits[MEDIA_DTMF_QUEUE];
	unsigned ndigits;
	struct media_leg_stats pub[2];
};

/* ---- workers ------------------------------------------------------------- */

struct media_chanset {
	struct media_chan **chans;
	unsigned n, cap;
};

struct media_worker {
	unsigned index;
	unsigned assigned;		/* channels given to it (loop) */
	pthread_t thread;
	bool thread_started;
	int epfd, timerfd, eventfd;
	atomic_bool wake_pending;
	atomic_bool quit;
	pthread_mutex_t lock;		/* the mailbox: */
	struct media_chanset adds;	/* channels to take */
	struct media_chanset pokes;	/* channels the loop posted to */
	/* worker-owned */
	struct media_chanset timed;	/* ticked by the timer */
	struct media_chanset tdm;	/* clocked by their TDM blocks */
	int64_t deadline_ns;		/* of the current timer tick */
	uint8_t *rx_buf;		/* scratch for received packets */
	/* statistics: written by the worker alone (media_count), read by
	 * the loop */
	atomic_uint nchannels;
	atomic_ullong frames, late_frames, ticks, missed_ticks, wakeups;
	atomic_ullong rtp_rx, rtp_tx;
	atomic_ullong codec_frames[MEDIA_CODEC_COUNT];
	uint64_t pushed[4];		/* last added to the host counters */
	atomic_ullong busy_ns, wall_ns;
	atomic_uint load_permille;	/* over the last second */
	atomic_uint hist[MEDIA_HIST_BUCKETS];
	/* late frame logging, worker-owned */
	int64_t late_log_ns;
	uint64_t late_since_log;
	int64_t worst_late_ns;
	unsigned worst_chan;
	int64_t load_window_ns;
	uint64_t load_busy_ns;
};

/* ---- the plugin --------------------------------------------------------- */

struct media_plugin {
	const struct tnd_host_api *host;
	struct media_cfg *cfg;
	const struct tdm_service *tdm;
	struct media_worker *workers;
	unsigned nworkers;
	unsigned next_worker;
	struct media_chan *chans;	/* loop-owned list */
	unsigned nchans;
	unsigned next_id;
	unsigned next_port;
	struct sockaddr_storage bind_addr;
	socklen_t bind_len;
	char sdp_addr[MEDIA_ADDR_MAX];
	bool relay_default;		/* rtp_bridge = relay */
	enum media_srtp_suite offer[MEDIA_SRTP_SUITE_COUNT];
	unsigned noffer;
	struct media_dtls_ctx *dtls_ctx;	/* made for the first DTLS leg */
	bool alive;			/* between init and fini */
	bool running;			/* between start and stop */
	bool stop_pending;		/* stop() waits for workers */
	/* counters */
	struct tnd_counter *c_channels, *c_frames, *c_late, *c_rtp_rx,
		*c_rtp_tx, *c_srtp_fail, *c_dtmf;
	atomic_uint codec_legs[MEDIA_CODEC_COUNT];
};

/* A counter with one writer (its worker): no locked instruction. */
static inline void media_count(atomic_ullong *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

extern struct media_plugin mp;
TND_PLUGIN_DECLARE(media);
#define MEDIA_SELF (&TND_PLUGIN_SYMBOL(media))

/* ---- media_net.c ---------------------------------------------------------- */

int media_net_setup(void);
/* Bind an RTP/RTCP pair of sockets for a leg. */
int media_net_open(struct media_leg *leg);
/* The same on a given even port (an operator's echo line). */
int media_net_open_at(struct media_leg *leg, unsigned port);
void media_net_close(struct media_leg *leg);
int media_net_parse_addr(const char *addr, unsigned port,
			 struct sockaddr_storage *out);
void media_net_format(const struct sockaddr_storage *ss, char *buf,
		      size_t size);
void media_net_set_port(struct sockaddr_storage *ss, unsigned port);

/* Per packet, so inline. */
static inline unsigned media_net_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

static inline bool media_net_same(const struct sockaddr_storage *a,
				  const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a;
		const struct sockaddr_in *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr,
			       sizeof(x->sin6_addr));
	}
	return false;
}
int media_net_send(int fd, const struct sockaddr_storage *to,
		   const uint8_t *buf, size_t len);

struct media_rx {
	uint8_t *data;
	size_t len;
	struct sockaddr_storage from;
	int64_t arrival_ns;	/* CLOCK_REALTIME, the kernel's */
};

#define MEDIA_RX_BATCH 8
/* Receive up to MEDIA_RX_BATCH datagrams; returns the count (0: none). */
int media_net_recv(int fd, uint8_t *bufs, struct media_rx *rx);

/* ---- media_time ----------------------------------------------------------- */

int64_t media_now_ns(void);	/* CLOCK_MONOTONIC */
int64_t media_wall_ns(void);	/* CLOCK_REALTIME */

/* ---- media_rtp_leg.c ------------------------------------------------------ */

int media_leg_rtp_prepare(struct media_leg *leg,
			  const struct media_rtp_remote *r,
			  struct media_rtp_params *out);
void media_rtp_params_free(struct media_rtp_params *p);
/* Our SDES keys, one per suite (loop). */
int media_leg_rtp_make_keys(struct media_leg *leg);
/* Worker: adopt new parameters (old ones are freed). */
void media_leg_rtp_apply(struct media_leg *leg, struct media_rtp_params *p);
void media_leg_rtp_init(struct media_leg *leg);
void media_leg_rtp_fini(struct media_leg *leg);
/* Drain the sockets: relay forwards, clocked stores in the jitter buffer. */
void media_leg_rtp_drain(struct media_leg *leg, uint8_t *scratch);
void media_leg_rtp_drain_rtcp(struct media_leg *leg, uint8_t *scratch);
/* 20 ms of received audio at MEDIA_RATE. */
void media_leg_rtp_pull(struct media_leg *leg, int64_t wall_ns, int16_t *pcm);
/* 20 ms to send; `suppressed`: a digit goes out as events instead. */
void media_leg_rtp_push(struct media_leg *leg, const int16_t *pcm,
			bool suppressed);
/* The timestamp of "now" on the stream we send. */
uint32_t media_leg_rtp_now_ts(const struct media_leg *leg);
void media_leg_rtp_send_event(struct media_leg *leg, bool marker,
			      uint32_t ts, const uint8_t *payload, size_t len);
/* Per tick: RTCP, timeouts. */
void media_leg_rtp_housekeeping(struct media_leg *leg, int64_t now_ns,
				int64_t wall_ns);
void media_leg_rtp_bye(struct media_leg *leg);
void media_leg_rtp_stats(struct media_leg *leg, struct media_leg_stats *st);
/* Relay: send a packet's payload out of `out` with our header. */
void media_leg_rtp_relay_out(struct media_leg *out,
			     const struct media_leg *in,
			     const struct media_rtp_header *h);

/* ---- media_dtmf_io.c ------------------------------------------------------ */

void media_dtmf_out_queue(struct media_leg *leg, char digit,
			  unsigned duration_ms);
void media_dtmf_out_end(struct media_leg *leg);
/* Clocked: fill pcm with a tone or send RFC 4733; true when it did
 * (audio is not sent this frame). */
bool media_dtmf_out_tick(struct media_leg *leg, int16_t *pcm);
void media_dtmf_rfc4733_in(struct media_leg *leg,
			   const struct media_rtp_header *h);
void media_dtmf_in_tick(struct media_leg *leg, int64_t now_ns);
int media_leg_dtmf_setup(struct media_leg *leg);
void media_leg_dtmf_detect(struct media_leg *leg, const int16_t *pcm);

/* ---- media_tone.c ---------------------------------------------------------- */

int media_leg_tones_setup(struct media_leg *leg);
void media_leg_tones_free(struct media_leg *leg);
void media_leg_tones_detect(struct media_leg *leg, const int16_t *pcm);

/* ---- media_fax.c ----------------------------------------------------------- */

struct media_fax;
/* Loop: a T.38 gateway with its UDPTL (redundancy 0..4). */
int media_fax_new(unsigned redundancy, struct media_fax **out);
void media_fax_free(struct media_fax *fax);
/* Worker: the leg whose socket it sends on. */
void media_fax_bind(struct media_fax *fax, struct media_leg *leg);
/* Worker: UDPTL in -> the gateway -> 20 ms of fax audio out, and back. */
void media_fax_pull(struct media_leg *leg, uint8_t *scratch, int16_t *pcm);
void media_fax_push(struct media_leg *leg, const int16_t *pcm);
void media_fax_stats(struct media_leg *leg, struct media_leg_stats *st);

/* ---- media_tdm_leg.c ------------------------------------------------------ */

int media_leg_tdm_open(struct media_leg *leg);
void media_leg_tdm_close(struct media_leg *leg);
bool media_leg_tdm_ready(struct media_leg *leg);
/* Take one block: linear audio and its arrival time. */
void media_leg_tdm_pull(struct media_leg *leg, int16_t *pcm,
			int64_t *arrival_ns);
void media_leg_tdm_push(struct media_leg *leg, const int16_t *pcm);
/* Echo canceller: sin from the line, rin what we send to it now. */
void media_leg_tdm_cancel(struct media_leg *leg, const int16_t *rin,
			  int16_t *sin);
void media_leg_tdm_apply_ec(struct media_leg *leg);
void media_leg_tdm_stats(struct media_leg *leg, struct media_leg_stats *st);

/* ---- media_chan.c --------------------------------------------------------- */

struct media_leg *media_chan_other(struct media_leg *leg);
/* Worker: one 20 ms frame of a clocked channel. */
void media_chan_frame(struct media_chan *ch, int64_t now_ns,
		      int64_t deadline_ns);
/* Worker: a watched socket is readable (RTCP; RTP of relay channels). */
void media_chan_socket_input(struct media_chan *ch, unsigned leg,
			     bool rtcp);
/* Worker: a relay channel's per-tick work (RTCP, digits, statistics). */
void media_chan_relay_tick(struct media_chan *ch, int64_t now_ns);
/* Worker: apply what the loop posted; true when it is to stop (BYE sent,
 * final statistics published): the worker lets go of it and posts
 * media_chan_stopped_on_loop. */
bool media_chan_poked(struct media_chan *ch);
void media_chan_choose_mode(struct media_chan *ch);
void media_chan_publish(struct media_chan *ch);
/* Post an event to the loop (from the worker). */
void media_chan_event(struct media_chan *ch, const struct media_event *ev);

/* ---- media_worker.c ------------------------------------------------------- */

int media_workers_start(void);
void media_workers_stop(void);
void media_worker_add(struct media_chan *ch);
/* Loop: the channel has something posted (under its lock). */
void media_worker_poke(struct media_chan *ch);
void media_worker_wake(struct media_worker *w);
/* Count one frame's time and lateness. */
void media_worker_account(struct media_worker *w, struct media_chan *ch,
			  int64_t start_ns, int64_t end_ns,
			  int64_t deadline_ns);
unsigned media_worker_percentile_us(struct media_worker *w, double q);
/* Relay channels have their RTP sockets watched; every channel its RTCP. */
void media_worker_watch_rtp(struct media_worker *w, struct media_chan *ch,
			    bool on);

/* ---- media_service.c ------------------------------------------------------ */

extern const struct media_service media_service_table;
/* chan_new() with leg A's RTP on a given port (0: from the range). */
int media_chan_new_at(const struct media_chan_config *cfg, unsigned port,
		      struct media_chan **out);
struct media_chan *media_chan_find(unsigned id);
void media_chans_free_all(void);
/* From the worker, on the loop: the channel has left its worker. */
void media_chan_stopped_on_loop(void *arg);

/* ---- media_cmd.c ---------------------------------------------------------- */

extern const struct tnd_command media_commands[];

#endif /* TANDEM_MEDIA_INT_H */
