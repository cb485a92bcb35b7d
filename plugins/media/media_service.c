// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_service.c - the "media" service (tandem/media.h) on the loop
 * thread: channels are made here, with every allocation they will need,
 * handed to a worker at chan_start(), and freed here when the worker has
 * let go of them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media_int.h"

/* ---- the codec registry, as SDP sees it ---------------------------------- */

static struct media_codec_info codec_infos[MEDIA_CODEC_COUNT];

static void fill_codec_infos(void)
{
	unsigned i;

	for (i = 0; i < MEDIA_CODEC_COUNT; i++) {
		const struct media_codec *c = media_codec_get(i);

		codec_infos[i] = (struct media_codec_info){
			.name = c->encoding_name,
			.clock_hz = c->rtp_clock_hz,
			.static_pt = c->payload_type,
			.ptime_ms = c->frame_ms,
			.audio_hz = c->sample_rate_hz,
		};
	}
}

static const struct media_codec_info *
codec_next(const struct media_codec_info *prev)
{
	size_t i = prev ? (size_t)(prev - codec_infos) + 1 : 0;

	if (!codec_infos[0].name)
		fill_codec_infos();
	return i < MEDIA_CODEC_COUNT ? &codec_infos[i] : NULL;
}

static const struct media_codec_info *codec_find(const char *name,
						 unsigned clock_hz)
{
	const struct media_codec *c = media_codec_find(name, clock_hz);

	if (!codec_infos[0].name)
		fill_codec_infos();
	return c ? &codec_infos[c->id] : NULL;
}

/* ---- channels ------------------------------------------------------------ */

struct media_chan *media_chan_find(unsigned id)
{
	struct media_chan *ch;

	for (ch = mp.chans; ch; ch = ch->next)
		if (ch->id == id)
			return ch;
	return NULL;
}

static void free_update(struct media_leg_update *u)
{
	if (!u)
		return;
	media_rtp_params_free(&u->params);
	media_transcoder_free(u->tc_in);
	media_transcoder_free(u->tc_out);
	free(u);
}

static void free_chan(struct media_chan *ch)
{
	struct media_chan **pp;
	unsigned i;

	for (pp = &mp.chans; *pp; pp = &(*pp)->next)
		if (*pp == ch) {
			*pp = ch->next;
			mp.nchans--;
			break;
		}
	for (i = 0; i < 2; i++) {
		struct media_leg *leg = &ch->leg[i];

		free_update(leg->pending);
		if (leg->cfg.type == MEDIA_LEG_RTP)
			media_leg_rtp_fini(leg);
		if (leg->cfg.type == MEDIA_LEG_TDM)
			media_leg_tdm_close(leg);
		media_ec_free(leg->ec);
		media_dtmf_detector_free(leg->det);
		media_leg_tones_free(leg);
	}
	if (ch->worker)
		ch->worker->assigned--;
	pthread_mutex_destroy(&ch->lock);
	free(ch);
}

void media_chans_free_all(void)
{
	while (mp.chans)
		free_chan(mp.chans);
}

static bool leg_config_ok(const struct media_leg_config *l)
{
	switch (l->type) {
	case MEDIA_LEG_RTP:
	case MEDIA_LEG_LOOP:
		return true;
	case MEDIA_LEG_TDM:
		return l->span && l->ts && l->ec >= -1 && l->ec <= 1 &&
		       (!l->ec_tail_ms ||
			(l->ec_tail_ms >= MEDIA_EC_MIN_TAIL_MS &&
			 l->ec_tail_ms <= MEDIA_EC_MAX_TAIL_MS));
	default:
		return false;
	}
}

static int leg_open(struct media_leg *leg, unsigned port)
{
	int rc = 0;

	leg->fd_rtp = leg->fd_rtcp = -1;
	if (leg->cfg.type == MEDIA_LEG_RTP) {
		rc = port ? media_net_open_at(leg, port) : media_net_open(leg);
		if (rc < 0)
			return rc;
		media_leg_rtp_init(leg);
		if (leg->cfg.srtp)
			rc = media_leg_rtp_make_keys(leg);
	}
	if (rc == 0 && leg->cfg.type != MEDIA_LEG_LOOP)
		rc = media_leg_dtmf_setup(leg);
	if (rc == 0 && leg->cfg.type != MEDIA_LEG_LOOP)
		rc = media_leg_tones_setup(leg);
	return rc;
}

static struct media_worker *least_loaded(void)
{
	struct media_worker *best = &mp.workers[0];
	unsigned i;

	for (i = 1; i < mp.nworkers; i++)
		if (mp.workers[i].assigned < best->assigned)
			best = &mp.workers[i];
	return best;
}

int media_chan_new_at(const struct media_chan_config *cfg, unsigned port,
		      struct media_chan **out)
{
	struct media_chan *ch;
	unsigned i;
	int rc = 0;

	if (!mp.running)
		return -ESHUTDOWN;
	if (!cfg || cfg->size < sizeof(*cfg) || !leg_config_ok(&cfg->leg[0]) ||
	    !leg_config_ok(&cfg->leg[1]))
		return -EINVAL;
	if (mp.nchans >= mp.cfg->max_channels)
		return -ENOBUFS;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	ch->id = ++mp.next_id;
	snprintf(ch->label, sizeof(ch->label), "%s", cfg->label ? cfg->label : "");
	ch->on_event = cfg->on_event;
	ch->arg = cfg->arg;
	pthread_mutex_init(&ch->lock, NULL);
	ch->next = mp.chans;
	mp.chans = ch;
	mp.nchans++;
	for (i = 0; i < 2; i++) {
		ch->leg[i].ch = ch;
		ch->leg[i].index = i;
		ch->leg[i].cfg = cfg->leg[i];
	}
	for (i = 0; i < 2 && rc == 0; i++)
		rc = leg_open(&ch->leg[i], i == 0 ? port : 0);
	if (rc < 0) {
		free_chan(ch);
		return rc;
	}
	ch->worker = least_loaded();
	ch->worker->assigned++;
	media_chan_choose_mode(ch);
	media_chan_publish(ch);
	mp.host->counter_add(mp.c_channels, 1);
	tnd_debug("channel %u created%s%s", ch->id, ch->label[0] ? " for " : "",
		  ch->label);
	*out = ch;
	return 0;
}

static int chan_new(const struct media_chan_config *cfg,
		    struct media_chan **out)
{
	return media_chan_new_at(cfg, 0, out);
}

static unsigned chan_id(const struct media_chan *ch)
{
	return ch->id;
}

static struct media_leg *rtp_leg(struct media_chan *ch, unsigned leg)
{
	if (!ch || leg > 1 || ch->leg[leg].cfg.type != MEDIA_LEG_RTP)
		return NULL;
	return &ch->leg[leg];
}

static int rtp_local(struct media_chan *ch, unsigned legi,
		     struct media_rtp_local *out)
{
	struct media_leg *leg = rtp_leg(ch, legi);
	unsigned i;

	if (!leg || !out || out->size < sizeof(*out))
		return -EINVAL;
	snprintf(out->addr, sizeof(out->addr), "%s", mp.sdp_addr);
	out->ipv6 = mp.bind_addr.ss_family == AF_INET6;
	out->port = leg->port;
	out->rtcp_port = leg->port + 1;
	out->ncrypto = 0;
	out->fingerprint[0] = '\0';
	snprintf(out->setup, sizeof(out->setup), "%s",
		 leg->dtls_role_loop == 1 ? "active" :
		 leg->dtls_role_loop == 2 ? "passive" : "actpass");
	if (leg->cfg.dtls) {
		int rc = mp.dtls_ctx ? 0 : media_dtls_ctx_new(&mp.dtls_ctx);

		if (rc < 0)
			return rc;
		snprintf(out->fingerprint, sizeof(out->fingerprint), "%s",
			 media_dtls_fingerprint(mp.dtls_ctx));
	}
	if (!leg->cfg.srtp)
		return 0;
	for (i = 0; i < mp.noffer && i < MEDIA_CRYPTO_OFFER_MAX; i++) {
		struct media_srtp_crypto key = leg->keys[mp.offer[i]];

		key.tag = i + 1;
		if (media_srtp_crypto_format(&key, out->crypto[i],
					     sizeof(out->crypto[i])) < 0)
			return -EINVAL;
		out->ncrypto++;
	}
	return 0;
}

static int crypto_answer(struct media_chan *ch, unsigned legi,
			 const char *offer, char *line, size_t size)
{
	struct media_leg *leg = rtp_leg(ch, legi);
	struct media_srtp_crypto theirs, ours;
	int rc;

	if (!leg || !offer || !line)
		return -EINVAL;
	rc = media_srtp_crypto_parse(offer, &theirs);
	if (rc < 0)
		return rc;
	rc = media_leg_rtp_make_keys(leg);
	if (rc < 0)
		return rc;
	ours = leg->keys[theirs.suite];
	ours.tag = theirs.tag;
	rc = media_srtp_crypto_format(&ours, line, size);
	return rc < 0 ? rc : 0;
}

/* The relay transcoders of both directions for a new codec on `leg`. */
static int make_transcoders(struct media_leg *leg, struct media_leg_update *u)
{
	const struct media_codec *mine = u->params.codec;
	const struct media_codec *theirs = media_chan_other(leg)->codec_loop;
	int rc;

	if (!theirs || !mine)		/* not known yet, or T.38 */
		return 0;
	rc = media_transcoder_new(theirs, mine, &u->tc_in);
	if (rc == 0)
		rc = media_transcoder_new(mine, theirs, &u->tc_out);
	return rc;
}

/* Before the worker has it: the loop applies the update itself. */
static void apply_now(struct media_leg *leg, struct media_leg_update *u)
{
	struct media_leg *other = media_chan_other(leg);

	media_leg_rtp_apply(leg, &u->params);
	media_transcoder_free(leg->tc);
	leg->tc = u->tc_in;
	media_transcoder_free(other->tc);
	other->tc = u->tc_out;
	free(u);
	media_chan_choose_mode(leg->ch);
	media_chan_publish(leg->ch);
}

static void post_update(struct media_leg *leg, struct media_leg_update *u)
{
	struct media_chan *ch = leg->ch;
	struct media_leg_update *old;

	pthread_mutex_lock(&ch->lock);
	old = leg->pending;
	/* a replaced update's new session is the one the next must keep */
	if (old && u->params.keep_srtp && old->params.srtp) {
		u->params.srtp = old->params.srtp;
		old->params.srtp = NULL;
		u->params.keep_srtp = false;
	}
	leg->pending = u;
	pthread_mutex_unlock(&ch->lock);
	media_worker_poke(ch);
	free_update(old);
}

static int rtp_set_remote(struct media_chan *ch, unsigned legi,
			  const struct media_rtp_remote *remote)
{
	struct media_leg *leg = rtp_leg(ch, legi);
	struct media_leg_update *u;
	int rc;

	if (!leg || !remote || remote->size < sizeof(*remote))
		return -EINVAL;
	if (ch->state == CHAN_STOPPING || ch->state == CHAN_STOPPED)
		return -EBUSY;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	rc = media_leg_rtp_prepare(leg, remote, &u->params);
	if (rc == 0)
		rc = make_transcoders(leg, u);
	if (rc < 0) {
		free_update(u);
		return rc;
	}
	if (ch->state == CHAN_NEW)
		apply_now(leg, u);
	else
		post_update(leg, u);
	return 0;
}

static int chan_start(struct media_chan *ch)
{
	unsigned i;
	int rc;

	if (!ch || ch->state != CHAN_NEW)
		return -EBUSY;
	for (i = 0; i < 2; i++) {
		if (ch->leg[i].cfg.type != MEDIA_LEG_TDM)
			continue;
		rc = media_leg_tdm_open(&ch->leg[i]);
		if (rc < 0) {
			media_leg_tdm_close(&ch->leg[0]);
			media_leg_tdm_close(&ch->leg[1]);
			return rc;
		}
	}
	media_chan_choose_mode(ch);
	ch->state = CHAN_RUNNING;
	media_worker_add(ch);
	return 0;
}

static int chan_stop(struct media_chan *ch)
{
	if (!ch)
		return -EINVAL;
	switch (ch->state) {
	case CHAN_NEW:
		ch->state = CHAN_STOPPING;
		return mp.host->call_on_loop(media_chan_stopped_on_loop,
					     (void *)(uintptr_t)ch->id);
	case CHAN_RUNNING:
		pthread_mutex_lock(&ch->lock);
		ch->stop_req = true;
		pthread_mutex_unlock(&ch->lock);
		media_worker_poke(ch);
		ch->state = CHAN_STOPPING;
		return 0;
	default:
		return -EBUSY;
	}
}

static void maybe_done_stopping(void)
{
	if (!mp.running && mp.stop_pending && !mp.nchans) {
		mp.stop_pending = false;
		mp.host->stopped(MEDIA_SELF);
	}
}

static void chan_free(struct media_chan *ch)
{
	if (!ch)
		return;
	if (ch->state == CHAN_NEW || ch->state == CHAN_STOPPED) {
		free_chan(ch);
		maybe_done_stopping();
		return;
	}
	ch->freeing = true;
	if (ch->state == CHAN_RUNNING)
		chan_stop(ch);
}

void media_chan_stopped_on_loop(void *arg)
{
	struct media_chan *ch = mp.alive ? media_chan_find((uintptr_t)arg) :
					   NULL;
	struct media_event ev = { .type = MEDIA_EV_STOPPED };

	if (!ch)
		return;
	media_leg_tdm_close(&ch->leg[0]);
	media_leg_tdm_close(&ch->leg[1]);
	ch->state = CHAN_STOPPED;
	if (ch->freeing || !ch->on_event) {
		if (ch->freeing)
			free_chan(ch);
		maybe_done_stopping();
		return;
	}
	ev.chan_id = ch->id;
	ev.stats[0] = &ch->pub[0];
	ev.stats[1] = &ch->pub[1];
	/* the owner may free the channel in here: nothing after */
	ch->on_event(ch, &ev, ch->arg);
}

static int chan_dtmf(struct media_chan *ch, unsigned legi, char digit,
		     unsigned duration_ms)
{
	struct media_leg *leg;

	if (!ch || legi > 1 || media_dtmf_digit_to_event(digit) < 0)
		return -EINVAL;
	leg = &ch->leg[legi];
	if (leg->cfg.type != MEDIA_LEG_RTP && leg->cfg.type != MEDIA_LEG_TDM)
		return -EINVAL;
	if (!duration_ms)
		duration_ms = 100;
	if (duration_ms < 40 || duration_ms > 8000)
		return -EINVAL;
	if (ch->state == CHAN_NEW) {
		media_dtmf_out_queue(leg, digit, duration_ms);
		return 0;
	}
	if (ch->state != CHAN_RUNNING)
		return -EBUSY;
	pthread_mutex_lock(&ch->lock);
	if (ch->ndigits == MEDIA_DTMF_QUEUE) {
		pthread_mutex_unlock(&ch->lock);
		return -ENOBUFS;
	}
	ch->digits[ch->ndigits].leg = legi;
	ch->digits[ch->ndigits].digit = digit;
	ch->digits[ch->ndigits].duration_ms = duration_ms;
	ch->ndigits++;
	pthread_mutex_unlock(&ch->lock);
	media_worker_poke(ch);
	return 0;
}

static int chan_set_ec(struct media_chan *ch, unsigned legi, bool on)
{
	struct media_leg *leg;

	if (!ch || legi > 1 || ch->leg[legi].cfg.type != MEDIA_LEG_TDM)
		return -EINVAL;
	leg = &ch->leg[legi];
	if (ch->state == CHAN_NEW) {
		leg->cfg.ec = on;
		return 0;
	}
	if (ch->state != CHAN_RUNNING)
		return -EBUSY;
	atomic_store(&leg->ec_request, on ? 1 : 0);
	media_worker_poke(ch);
	return 0;
}

static int chan_stats(struct media_chan *ch, unsigned legi,
		      struct media_leg_stats *out)
{
	size_t size;

	if (!ch || legi > 1 || !out || out->size < sizeof(size_t))
		return -EINVAL;
	size = out->size < sizeof(*out) ? out->size : sizeof(*out);
	pthread_mutex_lock(&ch->lock);
	memcpy(out, &ch->pub[legi], size);
	pthread_mutex_unlock(&ch->lock);
	out->size = size;
	return 0;
}

const struct media_service media_service_table = {
	.size = sizeof(struct media_service),
	.codec_next = codec_next,
	.codec_find = codec_find,
	.chan_new = chan_new,
	.chan_id = chan_id,
	.rtp_local = rtp_local,
	.crypto_answer = crypto_answer,
	.rtp_set_remote = rtp_set_remote,
	.chan_start = chan_start,
	.chan_stop = chan_stop,
	.chan_free = chan_free,
	.chan_dtmf = chan_dtmf,
	.chan_set_ec = chan_set_ec,
	.chan_stats = chan_stats,
};
