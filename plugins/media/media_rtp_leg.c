// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_rtp_leg.c - an RTP leg: negotiated parameters, what arrives
 * (checks, SRTP, latching, RFC 3550 A.1 bookkeeping), relaying packet by
 * packet, and the clocked path (jitter buffer, PLC, encoding, ptime).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "media_int.h"
#include "media_resample.h"
#include "media_rtcp.h"

/* A latched source silent this long may be replaced (NAT rebinding). */
#define RELATCH_QUIET_NS	(2 * 1000000000LL)

static __thread uint8_t tx_buf[MEDIA_PKT_ROOM];

static uint32_t random32(void)
{
	uint32_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint32_t)media_now_ns() * 2654435761u;
	return v;
}

static unsigned frame_ts(const struct media_leg *leg)
{
	const struct media_codec *c = leg->rp.codec;

	return c ? c->rtp_clock_hz * MEDIA_TICK_MS / 1000 : MEDIA_FRAME;
}

static bool can_send(const struct media_leg *leg)
{
	return leg->rp.dir == MEDIA_SENDRECV || leg->rp.dir == MEDIA_SENDONLY;
}

static bool can_receive(const struct media_leg *leg)
{
	return leg->rp.dir == MEDIA_SENDRECV || leg->rp.dir == MEDIA_RECVONLY;
}

/* ---- parameters (loop thread) ------------------------------------------ */

/* m=image udptl t38 (RFC 3362): a T.38 gateway, no RTP codec. */
static int prepare_t38(const struct media_rtp_remote *r,
		       struct media_rtp_params *p)
{
	unsigned redundancy = r->t38_redundancy ? r->t38_redundancy : 3;

	p->t38 = true;
	p->dtmf_pt = -1;
	p->ptime_ms = MEDIA_TICK_MS;
	if (redundancy > MEDIA_UDPTL_MAX_REDUNDANCY)
		redundancy = MEDIA_UDPTL_MAX_REDUNDANCY;
	return media_fax_new(redundancy, &p->fax);
}

static bool is_t38(const struct media_rtp_remote *r)
{
	return r->codec && !strcasecmp(r->codec, "t38");
}

static int prepare_codec(const struct media_rtp_remote *r,
			 struct media_rtp_params *p)
{
	unsigned ptime = r->ptime_ms ? r->ptime_ms : (unsigned)mp.cfg->ptime_ms;

	if (is_t38(r))
		return prepare_t38(r, p);
	p->codec = r->codec ? media_codec_find(r->codec, r->clock_hz) : NULL;
	if (!p->codec)
		return -ENOENT;
	if (r->pt < 0 && p->codec->payload_type < 0)
		return -EINVAL;		/* a dynamic codec needs its PT */
	if (r->pt > 127 || r->dtmf_pt > 127 || r->pt == r->dtmf_pt)
		return -EINVAL;
	p->pt = (uint8_t)(r->pt < 0 ? p->codec->payload_type : r->pt);
	p->dtmf_pt = r->dtmf_pt < 0 ? -1 : r->dtmf_pt;
	/* we send whole 20 ms frames: 20, 40 or 60 ms */
	ptime = (ptime + MEDIA_TICK_MS / 2) / MEDIA_TICK_MS * MEDIA_TICK_MS;
	if (ptime < MEDIA_TICK_MS)
		ptime = MEDIA_TICK_MS;
	if (ptime > MEDIA_MAX_PACKET_MS)
		ptime = MEDIA_MAX_PACKET_MS;
	p->ptime_ms = ptime;
	return 0;
}

static int prepare_addresses(const struct media_rtp_remote *r,
			     struct media_rtp_params *p)
{
	unsigned rtcp_port;
	int rc;

	memset(&p->remote, 0, sizeof(p->remote));
	memset(&p->remote_rtcp, 0, sizeof(p->remote_rtcp));
	p->rtcp_mux = r->rtcp_mux;
	if (!r->addr || !r->addr[0])
		return 0;
	rc = media_net_parse_addr(r->addr, r->port, &p->remote);
	if (rc < 0)
		return rc;
	if (p->remote.ss_family != mp.bind_addr.ss_family)
		return -EAFNOSUPPORT;
	rtcp_port = r->rtcp_port ? r->rtcp_port : r->port ? r->port + 1 : 0;
	p->remote_rtcp = p->remote;
	media_net_set_port(&p->remote_rtcp, p->rtcp_mux ? r->port : rtcp_port);
	return 0;
}

static bool same_key(const struct media_srtp_crypto *a,
		     const struct media_srtp_crypto *b)
{
	return a->suite == b->suite && a->key_salt_len == b->key_salt_len &&
	       !memcmp(a->key_salt, b->key_salt, a->key_salt_len);
}

int media_leg_rtp_make_keys(struct media_leg *leg)
{
	unsigned s;
	int rc;

	if (leg->have_keys)
		return 0;
	for (s = 0; s < MEDIA_SRTP_SUITE_COUNT; s++) {
		rc = media_srtp_crypto_generate(s + 1, s, &leg->keys[s]);
		if (rc < 0)
			return rc;
	}
	leg->have_keys = true;
	return 0;
}

static int prepare_crypto(struct media_leg *leg, const char *line,
			  struct media_rtp_params *p)
{
	struct media_srtp_crypto ours;
	int rc;

	if (!line || !line[0])
		return 0;
	rc = media_srtp_crypto_parse(line, &p->remote_key);
	if (rc < 0)
		return rc;
	rc = media_leg_rtp_make_keys(leg);
	if (rc < 0)
		return rc;
	p->suite = p->remote_key.suite;
	/* a re-offer with the same keys keeps the session (its rollover
	 * counter and replay window, RFC 3711 3.3.1) */
	if (leg->srtp_loop && same_key(&leg->remote_key_loop, &p->remote_key)) {
		p->keep_srtp = true;
		return 0;
	}
	ours = leg->keys[p->suite];
	ours.tag = p->remote_key.tag;
	return media_srtp_new(&ours, &p->remote_key, &p->srtp);
}

/* RFC 5763 5: the answerer to an actpass offer is active; we connect to
 * a passive peer and accept an active one. */
static int prepare_dtls(struct media_leg *leg, const struct media_rtp_remote *r,
			struct media_rtp_params *p)
{
	bool client = r->setup != MEDIA_SETUP_ACTIVE;
	int rc;

	if (!r->fingerprint || !r->fingerprint[0])
		return 0;		/* not negotiated yet */
	if (!mp.dtls_ctx) {
		rc = media_dtls_ctx_new(&mp.dtls_ctx);
		if (rc < 0)
			return rc;
	}
	p->dtls_client = client;
	if (leg->dtls_role_loop == (client ? 1 : 2) &&
	    !strcasecmp(leg->fingerprint_loop, r->fingerprint)) {
		p->keep_dtls = true;	/* a re-offer: the session goes on */
		return 0;
	}
	rc = media_dtls_new(mp.dtls_ctx, client, r->fingerprint, &p->dtls);
	if (rc < 0)
		return rc;
	snprintf(leg->fingerprint_loop, sizeof(leg->fingerprint_loop), "%s",
		 r->fingerprint);
	leg->dtls_role_loop = client ? 1 : 2;
	return 0;
}

static int prepare_dsp(struct media_rtp_params *p)
{
	unsigned rate = p->codec->sample_rate_hz;
	int rc;

	rc = media_codec_new(p->codec, &p->codec_st);
	if (rc < 0 || rate == MEDIA_RATE)
		return rc;
	rc = media_resampler_new(MEDIA_RATE, rate, &p->up);
	if (rc < 0)
		return rc;
	return media_resampler_new(rate, MEDIA_RATE, &p->down);
}

int media_leg_rtp_prepare(struct media_leg *leg,
			  const struct media_rtp_remote *r,
			  struct media_rtp_params *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->set = true;
	out->dir = r->dir;
	if ((unsigned)r->dir > MEDIA_INACTIVE)
		return -EINVAL;
	rc = prepare_codec(r, out);
	if (rc == 0)
		rc = prepare_addresses(r, out);
	if (rc == 0 && leg->cfg.dtls && !out->t38)
		rc = prepare_dtls(leg, r, out);
	else if (rc == 0 && !out->t38)	/* UDPTL is not SRTP's to protect */
		rc = prepare_crypto(leg, r->crypto, out);
	if (rc == 0 && !out->t38)
		rc = prepare_dsp(out);
	if (rc < 0) {
		media_rtp_params_free(out);
		return rc;
	}
	leg->srtp_loop = r->crypto && r->crypto[0] && !out->t38 &&
			 !leg->cfg.dtls;
	leg->remote_key_loop = out->remote_key;
	leg->codec_loop = out->codec;
	return 0;
}

void media_rtp_params_free(struct media_rtp_params *p)
{
	media_fax_free(p->fax);
	p->fax = NULL;
	media_dtls_free(p->dtls);
	p->dtls = NULL;
	media_srtp_free(p->srtp);
	media_codec_free(p->codec_st);
	media_resampler_free(p->up);
	media_resampler_free(p->down);
	p->srtp = NULL;
	p->codec_st = NULL;
	p->up = p->down = NULL;
}

/* ---- the leg's life ----------------------------------------------------- */

static void jb_setup(struct media_leg *leg)
{
	struct media_jb_config jc = {
		.clock_hz = leg->rp.codec ? leg->rp.codec->rtp_clock_hz :
					    MEDIA_RATE,
		.frame = frame_ts(leg),
		.min_ms = (unsigned)mp.cfg->jb_min_ms,
		.max_ms = (unsigned)mp.cfg->jb_max_ms,
	};

	media_jb_init(&leg->jb, &jc);
}

void media_leg_rtp_init(struct media_leg *leg)
{
	leg->ssrc_tx = random32();
	leg->seq_tx = (uint16_t)random32();
	leg->ts_tx = random32();
	leg->last_ts_out = leg->ts_tx;
	leg->rng = leg->ssrc_tx | 1;
	leg->rtt_ms = -1.0;
	leg->plc = plc_init(NULL);
	jb_setup(leg);
	snprintf(leg->cname, sizeof(leg->cname), "media%u.%u@%s",
		 leg->ch->id, leg->index, mp.host->node_name());
}

void media_leg_rtp_fini(struct media_leg *leg)
{
	if (leg->rp.codec)
		atomic_fetch_sub(&mp.codec_legs[leg->rp.codec->id], 1);
	media_rtp_params_free(&leg->rp);
	media_transcoder_free(leg->tc);
	leg->tc = NULL;
	if (leg->plc)
		plc_free(leg->plc);
	leg->plc = NULL;
	media_dtmf_detector_free(leg->det);
	leg->det = NULL;
	media_net_close(leg);
}

static void adopt_remote(struct media_leg *leg, const struct media_rtp_params *old)
{
	if (media_net_same(&old->remote, &leg->rp.remote) &&
	    old->rtcp_mux == leg->rp.rtcp_mux && leg->remote.ss_family)
		return;		/* same SDP address: keep what we latched */
	leg->remote = leg->rp.remote;
	leg->remote_rtcp = leg->rp.remote_rtcp;
	leg->latched = false;
	leg->rtcp_latched = false;
}

static void adopt_codec(struct media_leg *leg, const struct media_codec *old)
{
	if (old == leg->rp.codec)
		return;
	if (old)
		atomic_fetch_sub(&mp.codec_legs[old->id], 1);
	if (leg->rp.codec)
		atomic_fetch_add(&mp.codec_legs[leg->rp.codec->id], 1);
	jb_setup(leg);
	leg->fifo_len = 0;
	leg->out_len = 0;
	leg->out_frames = 0;
}

void media_leg_rtp_apply(struct media_leg *leg, struct media_rtp_params *p)
{
	struct media_rtp_params old = leg->rp;

	if (p->keep_srtp || p->keep_dtls) {
		p->srtp = old.srtp;
		old.srtp = NULL;
	}
	if (p->keep_dtls) {
		p->dtls = old.dtls;
		p->dtls_failed = old.dtls_failed;
		p->suite = old.suite;
		old.dtls = NULL;
	}
	leg->rp = *p;
	memset(p, 0, sizeof(*p));
	adopt_remote(leg, &old);
	adopt_codec(leg, old.codec);
	media_fax_bind(leg->rp.fax, leg);
	media_rtp_params_free(&old);
}

/* ---- sending ------------------------------------------------------------ */

static void rtp_send(struct media_leg *leg, bool marker, uint8_t pt,
		     uint32_t ts, const uint8_t *payload, size_t len)
{
	size_t total = MEDIA_RTP_HEADER_LEN + len;

	if (total > MEDIA_PKT_MAX || (leg->cfg.dtls && !leg->rp.srtp))
		return;		/* DTLS-SRTP: nothing in clear, ever */
	media_rtp_write_header(tx_buf, marker, pt, leg->seq_tx++, ts,
			       leg->ssrc_tx);
	memcpy(tx_buf + MEDIA_RTP_HEADER_LEN, payload, len);
	if (leg->rp.srtp &&
	    media_srtp_protect_rtp(leg->rp.srtp, tx_buf, &total,
				   MEDIA_PKT_ROOM) < 0)
		return;
	if (media_net_send(leg->fd_rtp, &leg->remote, tx_buf, total) < 0)
		return;
	leg->st.packets_tx++;
	leg->st.octets_tx += len;
	leg->packets_tx32++;
	leg->octets_tx32 += (uint32_t)len;
	leg->sent_since_report = true;
	leg->last_ts_out = ts;
	/* the relay's clock for events and SR timestamps (clocked legs
	 * count samples instead) */
	if (leg->ch->mode == MODE_RELAY)
		leg->last_send_wall_ns = media_wall_ns();
	media_count(&leg->ch->worker->rtp_tx, 1);
}

uint32_t media_leg_rtp_now_ts(const struct media_leg *leg)
{
	unsigned clock = leg->rp.codec ? leg->rp.codec->rtp_clock_hz :
					 MEDIA_RATE;
	int64_t since;

	if (leg->ch->mode == MODE_CLOCKED || !leg->last_send_wall_ns)
		return leg->ts_tx;
	since = media_wall_ns() - leg->last_send_wall_ns;
	return leg->last_ts_out + (uint32_t)(since / 1000 * clock / 1000000);
}

void media_leg_rtp_send_event(struct media_leg *leg, bool marker,
			      uint32_t ts, const uint8_t *payload, size_t len)
{
	if (!leg->rp.set || leg->rp.dtmf_pt < 0 || !can_send(leg))
		return;
	rtp_send(leg, marker, (uint8_t)leg->rp.dtmf_pt, ts, payload, len);
}

/* ---- receiving ---------------------------------------------------------- */

/* May media come from `from`? *latch: it would move our remote there. */
static bool source_ok(struct media_leg *leg, const struct sockaddr_storage *from,
		      bool *latch)
{
	*latch = false;
	if (!media_net_port(&leg->remote)) {
		*latch = true;		/* nowhere to send yet: learn it */
		return true;
	}
	if (media_net_same(from, &leg->remote))
		return true;
	if (!mp.cfg->latch)
		return false;
	if (!leg->latched ||
	    media_wall_ns() - leg->last_rx_wall_ns > RELATCH_QUIET_NS) {
		*latch = true;
		return true;
	}
	return false;
}

static void do_latch(struct media_leg *leg, const struct sockaddr_storage *from)
{
	struct media_event ev = { .type = MEDIA_EV_LATCHED, .leg = leg->index };
	char text[MEDIA_ADDR_MAX + 8];

	leg->remote = *from;
	if (!leg->rtcp_latched) {
		leg->remote_rtcp = *from;
		if (!leg->rp.rtcp_mux)
			media_net_set_port(&leg->remote_rtcp,
					   media_net_port(from) + 1);
	}
	leg->latched = true;
	media_net_format(from, text, sizeof(text));
	tnd_info("channel %u leg %c: latched to %s", leg->ch->id,
		 'A' + leg->index, text);
	ev.addr = text;
	ev.port = media_net_port(from);
	media_chan_event(leg->ch, &ev);
}

/* SSRC and sequence checks; false: drop the packet. */
static bool track_source(struct media_leg *leg,
			 const struct media_rtp_header *h)
{
	if (!leg->have_src || h->ssrc != leg->src.ssrc) {
		if (leg->have_src) {
			leg->st.ssrc_changes++;
			media_jb_reset(&leg->jb);
			leg->dtmf_in.have_ts = false;
		}
		media_rtp_source_init(&leg->src, h->ssrc, h->seq);
		leg->have_src = true;
	}
	switch (media_rtp_source_seq(&leg->src, h->seq)) {
	case MEDIA_RTP_SEQ_BAD:
		leg->st.malformed++;
		return false;
	case MEDIA_RTP_SEQ_RESTARTED:
		media_jb_reset(&leg->jb);
		return true;
	default:
		return true;
	}
}

static int64_t wall_to_ts(int64_t ns, unsigned clock)
{
	return ns / 1000000000LL * clock + ns % 1000000000LL * clock /
						   1000000000LL;
}

static int srtp_in(struct media_leg *leg, uint8_t *pkt, size_t *len)
{
	int rc = media_srtp_unprotect_rtp(leg->rp.srtp, pkt, len);

	if (rc == MEDIA_SRTP_ERR_REPLAY)
		leg->st.srtp_replay++;
	else if (rc < 0)
		leg->st.srtp_auth_fail++;
	if (rc < 0)
		mp.host->counter_add(mp.c_srtp_fail, 1);
	return rc;
}

static void store_audio(struct media_leg *leg, const struct media_rtp_header *h,
			int64_t arrival_ns)
{
	int samples = media_codec_samples_for(leg->rp.codec, h->payload_len);
	unsigned clock = leg->rp.codec->rtp_clock_hz;

	if (samples <= 0) {
		leg->st.malformed++;
		return;
	}
	/* decoded samples -> timestamp units (G.722: 16 kHz, clock 8000) */
	samples = (int)((int64_t)samples * clock /
			leg->rp.codec->sample_rate_hz);
	media_jb_put(&leg->jb, h->ts, h->seq, h->marker, h->payload,
		     h->payload_len, (uint32_t)samples,
		     wall_to_ts(arrival_ns, clock));
}

static void relay_forward(struct media_leg *in, const struct media_rtp_header *h)
{
	struct media_leg *out = media_chan_other(in);

	if (out->cfg.type == MEDIA_LEG_LOOP)
		out = in;
	else if (out->cfg.type != MEDIA_LEG_RTP)
		return;
	media_leg_rtp_relay_out(out, in, h);
}

static void dispatch(struct media_leg *leg, const struct media_rtp_header *h,
		     int64_t arrival_ns)
{
	bool clocked = leg->ch->mode == MODE_CLOCKED;

	if (leg->rp.dtmf_pt >= 0 && h->pt == leg->rp.dtmf_pt) {
		media_dtmf_rfc4733_in(leg, h);
		if (!clocked)
			relay_forward(leg, h);
	} else if (h->pt == leg->rp.pt) {
		if (clocked)
			store_audio(leg, h, arrival_ns);
		else
			relay_forward(leg, h);
	}
	/* else comfort noise (RFC 3389): a gap, played as silence */
}

static bool pt_known(const struct media_leg *leg, uint8_t pt)
{
	return pt == leg->rp.pt || pt == 13 ||
	       (leg->rp.dtmf_pt >= 0 && pt == leg->rp.dtmf_pt);
}

static void rtcp_input(struct media_leg *leg, struct media_rx *rx);

static void dtls_flush(struct media_leg *leg)
{
	uint8_t out[MEDIA_PKT_MAX];
	int n;

	while (leg->rp.dtls &&
	       (n = media_dtls_output(leg->rp.dtls, out, sizeof(out))) > 0)
		media_net_send(leg->fd_rtp, &leg->remote, out, (size_t)n);
}

/* The handshake is done: the SRTP session from its keys. */
static void dtls_established(struct media_leg *leg)
{
	struct media_srtp_crypto local, remote;

	if (media_dtls_keys(leg->rp.dtls, &local, &remote) < 0 ||
	    media_srtp_new(&local, &remote, &leg->rp.srtp) < 0) {
		leg->rp.dtls_failed = true;
		tnd_notice("channel %u leg %c: DTLS-SRTP keys refused",
			   leg->ch->id, 'A' + leg->index);
		return;
	}
	leg->rp.suite = local.suite;
	tnd_info("channel %u leg %c: DTLS-SRTP established, %s", leg->ch->id,
		 'A' + leg->index, media_srtp_suite_name(local.suite));
}

static void dtls_input(struct media_leg *leg, struct media_rx *rx)
{
	bool latch;
	int rc;

	if (!leg->rp.dtls || leg->rp.dtls_failed ||
	    !source_ok(leg, &rx->from, &latch)) {
		leg->st.foreign++;
		return;
	}
	if (latch)
		do_latch(leg, &rx->from);
	rc = media_dtls_input(leg->rp.dtls, rx->data, rx->len);
	dtls_flush(leg);
	if (rc > 0)
		dtls_established(leg);
	else if (rc < 0) {
		leg->rp.dtls_failed = true;
		tnd_notice("channel %u leg %c: DTLS handshake failed (wrong "
			   "fingerprint or protocol error)", leg->ch->id,
			   'A' + leg->index);
	}
}

static void rtp_input(struct media_leg *leg, struct media_rx *rx)
{
	struct media_rtp_header h;
	bool latch;

	if (leg->cfg.dtls && media_dtls_is_dtls(rx->data, rx->len)) {
		dtls_input(leg, rx);	/* RFC 7983 demultiplexing */
		return;
	}
	if (rx->len < MEDIA_RTP_HEADER_LEN) {
		leg->st.malformed++;
		return;
	}
	if (media_rtp_is_rtcp(rx->data, rx->len)) {
		if (leg->rp.rtcp_mux)
			rtcp_input(leg, rx);
		else
			leg->st.malformed++;
		return;
	}
	if (!source_ok(leg, &rx->from, &latch)) {
		leg->st.foreign++;
		return;
	}
	if (leg->cfg.dtls && !leg->rp.srtp) {
		leg->st.srtp_auth_fail++;	/* before the keys: refused */
		return;
	}
	if (leg->rp.srtp && srtp_in(leg, rx->data, &rx->len) < 0)
		return;
	if (media_rtp_parse(rx->data, rx->len, &h) < 0 || !leg->rp.set ||
	    !pt_known(leg, h.pt)) {
		leg->st.malformed++;
		return;
	}
	if (latch)
		do_latch(leg, &rx->from);
	if (!track_source(leg, &h))
		return;
	leg->st.packets_rx++;
	leg->st.octets_rx += h.payload_len;
	leg->last_rx_wall_ns = rx->arrival_ns;
	leg->timeout_sent = false;
	media_count(&leg->ch->worker->rtp_rx, 1);
	media_rtp_source_jitter(&leg->src, h.ts,
				wall_to_ts(rx->arrival_ns,
					   leg->rp.codec->rtp_clock_hz));
	if (can_receive(leg))
		dispatch(leg, &h, rx->arrival_ns);
}

void media_leg_rtp_drain(struct media_leg *leg, uint8_t *scratch)
{
	struct media_rx rx[MEDIA_RX_BATCH];
	int n, i, rounds = 8;

	while (rounds-- && (n = media_net_recv(leg->fd_rtp, scratch, rx)) > 0) {
		for (i = 0; i < n; i++)
			rtp_input(leg, &rx[i]);
		if (n < MEDIA_RX_BATCH)
			break;
	}
}

/* ---- relaying ------------------------------------------------------------ */

static uint8_t relay_pt(const struct media_leg *out, const struct media_leg *in,
			const struct media_rtp_header *h, bool *is_dtmf)
{
	*is_dtmf = in->rp.dtmf_pt >= 0 && h->pt == in->rp.dtmf_pt;
	if (out == in || !out->rp.set)
		return h->pt;
	return *is_dtmf ? (uint8_t)out->rp.dtmf_pt : out->rp.pt;
}

void media_leg_rtp_relay_out(struct media_leg *out, const struct media_leg *in,
			     const struct media_rtp_header *h)
{
	static __thread uint8_t payload[MEDIA_PKT_MAX];
	const uint8_t *data = h->payload;
	int len = (int)h->payload_len;
	bool is_dtmf, marker = h->marker;
	uint8_t pt = relay_pt(out, in, h, &is_dtmf);

	if (!can_send(out))
		return;
	if (is_dtmf && out != in && out->rp.dtmf_pt < 0)
		return;		/* no telephone-event there (clocked does it) */
	if (!is_dtmf && out->dtmf_out.state != DTMF_IDLE)
		return;		/* our own digit is going out as events */
	if (!is_dtmf && out != in && out->tc) {
		len = media_transcode(out->tc, h->payload, h->payload_len,
				      payload, sizeof(payload));
		if (len < 0)
			return;
		data = payload;
	}
	/* our own timestamps: continuous across the sender's changes */
	if (!out->relay_map || out->relay_in_ssrc != h->ssrc) {
		out->relay_ts_offset = out->last_ts_out + MEDIA_FRAME - h->ts;
		out->relay_in_ssrc = h->ssrc;
		out->relay_map = true;
		marker = true;
	}
	rtp_send(out, marker, pt, h->ts + out->relay_ts_offset, data,
		 (size_t)len);
}

/* ---- the clocked path ---------------------------------------------------- */

static void fifo_append(struct media_leg *leg, const int16_t *pcm, unsigned n)
{
	if (n > MEDIA_FIFO_MAX - leg->fifo_len)
		n = MEDIA_FIFO_MAX - leg->fifo_len;
	memcpy(leg->fifo + leg->fifo_len, pcm, n * sizeof(*pcm));
	leg->fifo_len += n;
}

static int decode_packet(struct media_leg *leg,
			 const struct media_jb_packet *pkt, uint32_t skip)
{
	int16_t pcm[MEDIA_MAX_PACKET_SAMPLES], narrow[MEDIA_MAX_PACKET_SAMPLES];
	const int16_t *out = pcm;
	int n;

	n = media_codec_decode(leg->rp.codec_st, pkt->payload, pkt->len, pcm,
			       MEDIA_MAX_PACKET_SAMPLES);
	if (n < 0)
		return n;
	media_count(&leg->ch->worker->codec_frames[leg->rp.codec->id],
		    pkt->samples / frame_ts(leg));
	if (leg->rp.down) {
		n = media_resample(leg->rp.down, pcm, n, narrow,
				   MEDIA_MAX_PACKET_SAMPLES);
		if (n < 0)
			return n;
		out = narrow;
	}
	plc_rx(leg->plc, (int16_t *)out, n);
	skip = (uint32_t)((uint64_t)skip * MEDIA_RATE /
			  leg->rp.codec->rtp_clock_hz);
	if ((int)skip < n)
		fifo_append(leg, out + skip, (unsigned)n - skip);
	leg->quiet_frames = 0;
	return 0;
}

/* SpanDSP's PLC fades its fill-in to silence within 50 ms; past that we
 * write the silence ourselves (its fill-in, run for long, also copies
 * between overlapping buffers, which ASan rightly refuses). */
#define PLC_FRAMES	4

static void conceal(struct media_leg *leg, int16_t *pcm)
{
	if (leg->quiet_frames < PLC_FRAMES)
		plc_fillin(leg->plc, pcm, MEDIA_FRAME);
	else
		memset(pcm, 0, MEDIA_FRAME * sizeof(*pcm));
	/* a lost packet, not the silence after the stream paused */
	if (leg->quiet_frames++ < 3)
		leg->st.plc_frames++;
}

static void refill(struct media_leg *leg, int64_t now)
{
	const struct media_jb_packet *pkt;
	int16_t frame[MEDIA_FRAME];
	uint32_t skip = 0;

	while (leg->fifo_len < MEDIA_FRAME) {
		enum media_jb_result r = media_jb_get(&leg->jb, now, &pkt,
						      &skip);

		if (r == MEDIA_JB_PACKET) {
			if (decode_packet(leg, pkt, skip) == 0)
				continue;
			leg->st.malformed++;	/* conceal what won't decode */
			r = MEDIA_JB_MISSING;
		}
		if (r == MEDIA_JB_MISSING)
			conceal(leg, frame);
		else
			memset(frame, 0, sizeof(frame));
		fifo_append(leg, frame, MEDIA_FRAME);
	}
}

void media_leg_rtp_pull(struct media_leg *leg, int64_t wall_ns, int16_t *pcm)
{
	unsigned clock;
	int64_t now;
	uint32_t buffered;

	if (!leg->rp.set || !leg->rp.codec_st || !can_receive(leg)) {
		memset(pcm, 0, MEDIA_FRAME * sizeof(*pcm));
		return;
	}
	clock = leg->rp.codec->rtp_clock_hz;
	now = wall_to_ts(wall_ns, clock);
	buffered = (uint32_t)((uint64_t)leg->fifo_len * clock / MEDIA_RATE);
	if (media_jb_tick(&leg->jb, now, buffered) == MEDIA_JB_INSERT) {
		conceal(leg, pcm);
		return;
	}
	refill(leg, now);
	memcpy(pcm, leg->fifo, MEDIA_FRAME * sizeof(*pcm));
	leg->fifo_len -= MEDIA_FRAME;
	memmove(leg->fifo, leg->fifo + MEDIA_FRAME,
		leg->fifo_len * sizeof(*pcm));
}

static void flush_out(struct media_leg *leg)
{
	if (!leg->out_frames)
		return;
	rtp_send(leg, leg->marker_next, leg->rp.pt, leg->out_ts,
		 leg->out_payload, leg->out_len);
	leg->marker_next = false;
	leg->out_len = 0;
	leg->out_frames = 0;
}

static int encode_frame(struct media_leg *leg, const int16_t *pcm)
{
	int16_t wide[2 * MEDIA_FRAME];
	int n = MEDIA_FRAME;
	int bytes;

	if (leg->rp.up) {
		n = media_resample(leg->rp.up, pcm, MEDIA_FRAME, wide,
				   2 * MEDIA_FRAME);
		if (n < 0)
			return n;
		pcm = wide;
	}
	bytes = media_codec_encode(leg->rp.codec_st, pcm, n,
				   leg->out_payload + leg->out_len,
				   sizeof(leg->out_payload) - leg->out_len);
	if (bytes < 0)
		return bytes;
	leg->out_len += (size_t)bytes;
	media_count(&leg->ch->worker->codec_frames[leg->rp.codec->id], 1);
	return 0;
}

void media_leg_rtp_push(struct media_leg *leg, const int16_t *pcm,
			bool suppressed)
{
	uint32_t ts = leg->ts_tx;

	leg->ts_tx += frame_ts(leg);
	if (!leg->rp.set || !leg->rp.codec_st || !can_send(leg)) {
		leg->out_len = 0;
		leg->out_frames = 0;
		return;
	}
	if (suppressed) {
		flush_out(leg);
		leg->marker_next = true;	/* audio resumes: new talkspurt */
		return;
	}
	if (!leg->out_frames)
		leg->out_ts = ts;
	if (encode_frame(leg, pcm) < 0)
		return;
	if (++leg->out_frames * MEDIA_TICK_MS >= leg->rp.ptime_ms)
		flush_out(leg);
}

/* ---- RTCP in ------------------------------------------------------------- */

static bool rtcp_source_ok(struct media_leg *leg,
			   const struct sockaddr_storage *from)
{
	if (media_net_same(from, &leg->remote_rtcp))
		return true;
	if (media_net_port(&leg->remote_rtcp) &&
	    (!mp.cfg->latch || leg->rtcp_latched))
		return false;
	leg->remote_rtcp = *from;
	leg->rtcp_latched = true;
	return true;
}

static uint64_t wall_to_ntp(int64_t ns)
{
	uint64_t sec = (uint64_t)(ns / 1000000000LL) + 2208988800ull;
	uint64_t frac = ((uint64_t)(ns % 1000000000LL) << 32) / 1000000000ull;

	return sec << 32 | frac;
}

static void rtcp_input(struct media_leg *leg, struct media_rx *rx)
{
	struct media_rtcp_info info;
	unsigned clock = leg->rp.codec ? leg->rp.codec->rtp_clock_hz :
					 MEDIA_RATE;
	double rtt;

	if (!rtcp_source_ok(leg, &rx->from)) {
		leg->st.foreign++;
		return;
	}
	if (leg->rp.srtp &&
	    media_srtp_unprotect_rtcp(leg->rp.srtp, rx->data, &rx->len) < 0) {
		leg->st.srtp_auth_fail++;
		return;
	}
	if (media_rtcp_parse(rx->data, rx->len, leg->ssrc_tx, &info) < 0) {
		leg->st.malformed++;
		return;
	}
	if (info.have_sr) {
		leg->lsr = media_rtcp_ntp_mid(info.ntp);
		leg->lsr_at_ns = media_now_ns();
	}
	if (!info.have_block)
		return;
	leg->remote_loss_pct = info.block.fraction_lost * 100.0 / 256.0;
	leg->remote_jitter_ms = info.block.jitter * 1000.0 / clock;
	rtt = media_rtcp_rtt(&info.block, wall_to_ntp(rx->arrival_ns));
	if (rtt >= 0.0)
		leg->rtt_ms = rtt * 1000.0;
}

void media_leg_rtp_drain_rtcp(struct media_leg *leg, uint8_t *scratch)
{
	struct media_rx rx[MEDIA_RX_BATCH];
	int n, i;

	n = media_net_recv(leg->fd_rtcp, scratch, rx);
	for (i = 0; i < n; i++)
		rtcp_input(leg, &rx[i]);
}

/* ---- RTCP out ------------------------------------------------------------ */

static void fill_block(struct media_leg *leg, int64_t now_ns,
		       struct media_rtcp_block *b)
{
	int64_t lost = media_rtp_source_lost(&leg->src);

	if (lost > 0x7fffff)
		lost = 0x7fffff;
	if (lost < -0x800000)
		lost = -0x800000;
	b->ssrc = leg->src.ssrc;
	b->fraction_lost = media_rtp_source_fraction(&leg->src);
	b->cumulative_lost = (int32_t)lost;
	b->ext_max_seq = media_rtp_source_ext_max(&leg->src);
	b->jitter = (uint32_t)leg->src.jitter;
	b->lsr = leg->lsr;
	b->dlsr = leg->lsr ? (uint32_t)((now_ns - leg->lsr_at_ns) * 65536 /
					1000000000LL) : 0;
}

static void rtcp_send(struct media_leg *leg, int64_t now_ns, int64_t wall_ns,
		      bool bye)
{
	struct media_rtcp_report rep = {
		.ssrc = leg->ssrc_tx,
		.cname = leg->cname,
		.sender = leg->sent_since_report,
	};
	const struct sockaddr_storage *to = leg->rp.rtcp_mux ? &leg->remote :
							       &leg->remote_rtcp;
	int fd = leg->rp.rtcp_mux ? leg->fd_rtp : leg->fd_rtcp;
	size_t len;
	int n;

	if (rep.sender) {
		rep.ntp = wall_to_ntp(wall_ns);
		rep.rtp_ts = media_leg_rtp_now_ts(leg);
		rep.packets = leg->packets_tx32;
		rep.octets = leg->octets_tx32;
	}
	if (leg->have_src && !leg->src.probation) {
		rep.have_block = true;
		fill_block(leg, now_ns, &rep.block);
	}
	n = bye ? media_rtcp_build_bye(leg->ssrc_tx, leg->cname, tx_buf,
				       MEDIA_PKT_MAX) :
		  media_rtcp_build(&rep, tx_buf, MEDIA_PKT_MAX);
	if (n < 0)
		return;
	len = (size_t)n;
	if (leg->rp.srtp &&
	    media_srtp_protect_rtcp(leg->rp.srtp, tx_buf, &len,
				    MEDIA_PKT_ROOM) < 0)
		return;
	media_net_send(fd, to, tx_buf, len);
	leg->sent_since_report = false;
}

static double next_random(struct media_leg *leg)
{
	uint32_t x = leg->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	leg->rng = x;
	return (double)x / 4294967296.0;
}

static void check_timeout(struct media_leg *leg, int64_t now_ns,
			  int64_t wall_ns)
{
	int64_t quiet = leg->last_rx_wall_ns ? wall_ns - leg->last_rx_wall_ns :
					       now_ns - leg->ch->started_ns;
	struct media_event ev = { .type = MEDIA_EV_RTP_TIMEOUT,
				  .leg = leg->index };

	if (!mp.cfg->rtp_timeout_s || leg->timeout_sent || !can_receive(leg) ||
	    quiet < (int64_t)mp.cfg->rtp_timeout_s * 1000000000LL)
		return;
	leg->timeout_sent = true;
	tnd_info("channel %u leg %c: no RTP for %llu s", leg->ch->id,
		 'A' + leg->index, mp.cfg->rtp_timeout_s);
	media_chan_event(leg->ch, &ev);
}

void media_leg_rtp_housekeeping(struct media_leg *leg, int64_t now_ns,
				int64_t wall_ns)
{
	bool initial = !leg->next_rtcp_ns;

	if (!leg->rp.set)
		return;
	if (leg->rp.dtls && !media_dtls_done(leg->rp.dtls) &&
	    !leg->rp.dtls_failed) {
		media_dtls_tick(leg->rp.dtls);
		dtls_flush(leg);
	}
	if (leg->rp.t38) {		/* UDPTL has no RTCP */
		check_timeout(leg, now_ns, wall_ns);
		return;
	}
	if (now_ns >= leg->next_rtcp_ns) {
		if (!initial)
			rtcp_send(leg, now_ns, wall_ns, false);
		leg->next_rtcp_ns = now_ns + 1000000LL *
			media_rtcp_interval_ms((unsigned)mp.cfg->rtcp_interval_ms,
					       initial, next_random(leg));
	}
	check_timeout(leg, now_ns, wall_ns);
	media_dtmf_in_tick(leg, now_ns);
}

void media_leg_rtp_bye(struct media_leg *leg)
{
	if (leg->rp.set && !leg->rp.t38)
		rtcp_send(leg, media_now_ns(), media_wall_ns(), true);
}
