/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgw_ctx: the "mgw" service. A context joins a circuit (span, timeslot)
 * to an RTP stream through one media channel: leg A is the RTP stream,
 * leg B the circuit. Before media flows the context may play a tone toward
 * the circuit itself, holding the B-channel through the tdm service; media
 * takes the B-channel over when it starts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mgw_int.h"

#define LEG_RTP MEDIA_LEG_A
#define LEG_TDM MEDIA_LEG_B

static const char *const through_names[] = { "none", "to-ip", "to-circuit",
					     "both" };

/* ---- Configuration: our codecs -------------------------------------------- */

/* "PCMA PCMU G722": each must be in the media plugin's registry. */
int mgw_ctx_parse_codecs(const char *list)
{
	char copy[256], *save = NULL, *w;

	snprintf(copy, sizeof(copy), "%s", list);
	mgw.ncodecs = 0;
	for (w = strtok_r(copy, " ,", &save); w;
	     w = strtok_r(NULL, " ,", &save)) {
		const struct media_codec_info *c =
			mgw.media->codec_find(w, 0);
		struct mgw_codec_pref *p;

		if (!c) {
			tnd_error("codecs: %s is not a codec of the media "
				  "plugin", w);
			return -EINVAL;
		}
		if (mgw.ncodecs == MGW_CODECS_MAX)
			return -E2BIG;
		p = &mgw.codecs[mgw.ncodecs++];
		snprintf(p->name, sizeof(p->name), "%s", c->name);
		p->clock = c->clock_hz;
		p->static_pt = c->static_pt;
	}
	return mgw.ncodecs ? 0 : -EINVAL;
}

/* ---- Media events ---------------------------------------------------------------- */

static void ctx_free(struct mgw_ctx *ctx)
{
	struct mgw_ctx **p;

	for (p = &mgw.ctxs; *p; p = &(*p)->next)
		if (*p == ctx) {
			*p = ctx->next;
			mgw.nctxs--;
			break;
		}
	if (ctx->start_retry)
		mgw.host->timer_free(ctx->start_retry);
	free(ctx);
	if (mgw.stopping && !mgw.ctxs)
		mgw.host->stopped(MGW_SELF);
}

static void emit(struct mgw_ctx *ctx, const struct mgw_event *ev)
{
	if (ctx->on_event && !ctx->releasing)
		ctx->on_event(ctx, ev, ctx->arg);
}

static void on_media_event(struct media_chan *ch, const struct media_event *ev,
			   void *arg)
{
	struct mgw_ctx *ctx = arg;
	struct mgw_event out = { 0 };

	switch (ev->type) {
	case MEDIA_EV_STOPPED:
		mgw_record_write(ctx, ev->stats[LEG_RTP], ev->stats[LEG_TDM]);
		mgw.media->chan_free(ch);
		ctx_free(ctx);
		return;
	case MEDIA_EV_DTMF:
		if (!ev->end)
			return;
		out.type = MGW_EV_DTMF;
		out.digit = ev->digit;
		out.duration_ms = ev->duration_ms;
		out.from_circuit = ev->leg == LEG_TDM;
		break;
	case MEDIA_EV_RTP_TIMEOUT:
		mgw.host->counter_add(mgw.c_rtp_timeouts, 1);
		out.type = MGW_EV_RTP_TIMEOUT;
		break;
	case MEDIA_EV_TONE:
		mgw.host->counter_add(mgw.c_fax, 1);
		out.type = MGW_EV_FAX;
		out.tone = ev->tone == MEDIA_TONE_CNG ? "CNG" : "CED";
		tnd_info("%s: fax tone %s on %u/%u", ctx->label, out.tone,
			 ctx->span, ctx->ts);
		break;
	default:
		return;
	}
	emit(ctx, &out);
}

/* ---- Contexts ------------------------------------------------------------------------- */

static int make_chan(struct mgw_ctx *ctx)
{
	struct media_chan_config cfg = {
		.size = sizeof(cfg),
		.label = ctx->label,
		.on_event = on_media_event,
		.arg = ctx,
	};
	const char *ec = mgw.cfg->echo_cancel;
	int rc;

	cfg.leg[LEG_RTP].type = MEDIA_LEG_RTP;
	cfg.leg[LEG_TDM].type = MEDIA_LEG_TDM;
	cfg.leg[LEG_TDM].span = ctx->span;
	cfg.leg[LEG_TDM].ts = ctx->ts;
	cfg.leg[LEG_TDM].ec = strcmp(ec, "on") == 0	 ? 1
			      : strcmp(ec, "off") == 0 ? 0
						       : -1;
	cfg.leg[LEG_TDM].ec_tail_ms = (unsigned)mgw.cfg->ec_tail_ms;
	rc = mgw.media->chan_new(&cfg, &ctx->chan);
	if (rc < 0)
		return rc;
	ctx->local.size = sizeof(ctx->local);
	return mgw.media->rtp_local(ctx->chan, LEG_RTP, &ctx->local);
}

static bool span_is_ulaw(unsigned span)
{
	struct tdm_span_info info = { .size = sizeof(info) };

	return mgw.tdm && mgw.tdm->span_info(span, &info) == 0 &&
	       info.law == TDM_LAW_ULAW;
}

static int ctx_new(const struct mgw_ctx_config *cfg, struct mgw_ctx **out)
{
	struct mgw_ctx *ctx;
	int rc;

	if (!cfg || cfg->size < sizeof(*cfg) || !cfg->span || !cfg->ts || !out)
		return -EINVAL;
	if (mgw.stopping)
		return -ESHUTDOWN;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->id = ++mgw.last_id;
	snprintf(ctx->label, sizeof(ctx->label), "%s",
		 cfg->label ? cfg->label : "");
	snprintf(ctx->calling, sizeof(ctx->calling), "%s",
		 cfg->calling ? cfg->calling : "");
	snprintf(ctx->called, sizeof(ctx->called), "%s",
		 cfg->called ? cfg->called : "");
	ctx->incoming = cfg->incoming;
	ctx->span = cfg->span;
	ctx->ts = cfg->ts;
	ctx->ulaw = span_is_ulaw(cfg->span);
	ctx->on_event = cfg->on_event;
	ctx->arg = cfg->arg;
	ctx->sess_id = (unsigned long long)time(NULL) * 1000 + ctx->id;
	ctx->wall_start = time(NULL);
	ctx->t_new_ms = mgw.host->now_ms();
	rc = make_chan(ctx);
	if (rc < 0) {
		tnd_error("%s: no media channel for %u/%u: %s", ctx->label,
			  cfg->span, cfg->ts, strerror(-rc));
		if (ctx->chan)
			mgw.media->chan_free(ctx->chan);
		free(ctx);
		return rc;
	}
	ctx->next = mgw.ctxs;
	mgw.ctxs = ctx;
	mgw.nctxs++;
	mgw.host->counter_add(mgw.c_contexts, 1);
	tnd_debug("%s: context %u on %u/%u, RTP %s:%u", ctx->label, ctx->id,
		  ctx->span, ctx->ts, ctx->local.addr, ctx->local.port);
	*out = ctx;
	return 0;
}

static void tone_stop(struct mgw_ctx *ctx)
{
	if (ctx->tone_bchan)
		mgw.tdm->bchan_close(ctx->tone_bchan);
	ctx->tone_bchan = NULL;
	ctx->tone = MGW_TONE_NONE;
}

static int ctx_move(struct mgw_ctx *ctx, unsigned span, unsigned ts)
{
	struct media_chan *old = ctx->chan;
	int rc;

	if (!ctx || !span || !ts)
		return -EINVAL;
	if (span == ctx->span && ts == ctx->ts)
		return 0;
	if (ctx->media_started || ctx->sdp_given)
		return -EBUSY;
	tone_stop(ctx);
	ctx->span = span;
	ctx->ts = ts;
	ctx->ulaw = span_is_ulaw(span);
	rc = make_chan(ctx);
	if (rc < 0) {
		ctx->chan = old;
		return rc;
	}
	mgw.media->chan_free(old);
	tnd_info("%s: moved to %u/%u", ctx->label, span, ts);
	return 0;
}

/* ---- SDP ----------------------------------------------------------------------------- */

static void local_sdp(struct mgw_ctx *ctx, struct mgw_sdp_local *l,
		      enum mgw_sdp_dir dir)
{
	l->addr = ctx->local.addr;
	l->ipv6 = ctx->local.ipv6;
	l->port = ctx->local.port;
	l->sess_id = ctx->sess_id;
	l->sess_version = ctx->sess_version++;
	l->ptime = (unsigned)mgw.cfg->ptime_ms;
	l->dtmf_pt = mgw.dtmf_pt;
	l->dir = dir;
}

static int sdp_offer(struct mgw_ctx *ctx, char *buf, size_t size)
{
	struct mgw_sdp_local l;
	int n;

	if (!ctx || !buf)
		return -EINVAL;
	local_sdp(ctx, &l, MGW_SDP_SENDRECV);
	n = mgw_sdp_write_offer(buf, size, &l, mgw.codecs, mgw.ncodecs);
	if (n > 0) {
		ctx->offered = true;
		ctx->sdp_given = true;
	}
	return n;
}

static int apply(struct mgw_ctx *ctx);

static int sdp_answer(struct mgw_ctx *ctx, const char *offer, size_t len,
		      char *buf, size_t size)
{
	struct mgw_sdp sdp;
	struct mgw_sdp_agreed agreed;
	struct mgw_sdp_local l;
	int rc;

	if (!ctx || !offer || !buf)
		return -EINVAL;
	rc = mgw_sdp_parse(offer, len, &sdp);
	/* a T.38 stream offered means a fax wants it (T.38 Annex D) */
	if (rc == 0 && !(mgw.cfg->t38 && mgw_sdp_choose_t38(&sdp, &agreed) == 0))
		rc = mgw_sdp_choose(&sdp, mgw.codecs, mgw.ncodecs, &agreed);
	if (rc < 0) {
		mgw.host->counter_add(mgw.c_no_codec, 1);
		tnd_info("%s: offer refused: %s", ctx->label,
			 rc == -ENOTSUP ? "no codec in common" :
			 rc == -EPROTONOSUPPORT ? "secure RTP not offered" :
						  "malformed SDP");
		return rc;
	}
	if (mgw.dtmf_pt < 0)
		agreed.dtmf_pt = -1;
	local_sdp(ctx, &l, agreed.dir);
	rc = mgw_sdp_write_answer(buf, size, &l, &sdp, &agreed);
	if (rc < 0)
		return rc;
	ctx->agreed = agreed;
	ctx->agreed_ok = true;
	ctx->offered = false;
	ctx->sdp_given = true;
	if (ctx->through != MGW_THROUGH_NONE)
		apply(ctx);
	return rc;
}

static int sdp_answered(struct mgw_ctx *ctx, const char *answer, size_t len)
{
	struct mgw_sdp sdp;
	struct mgw_sdp_agreed agreed;
	int rc;

	if (!ctx || !answer)
		return -EINVAL;
	if (!ctx->offered)
		return -EBUSY;
	rc = mgw_sdp_parse(answer, len, &sdp);
	if (rc == 0 && ctx->t38_offered)
		rc = mgw_sdp_choose_t38(&sdp, &agreed);
	else if (rc == 0)
		rc = mgw_sdp_accept(&sdp, mgw.codecs, mgw.ncodecs,
				    mgw.dtmf_pt, &agreed);
	if (rc < 0) {
		tnd_info("%s: answer refused: %s", ctx->label,
			 rc == -ENOTSUP ? "no codec we offered" :
					  "malformed SDP");
		ctx->offered = ctx->t38_offered = false;
		return rc;
	}
	if (ctx->t38_offered)
		tnd_info("%s: fax now in T.38 on %u/%u", ctx->label, ctx->span,
			 ctx->ts);
	ctx->t38_offered = false;
	ctx->agreed = agreed;
	ctx->agreed_ok = true;
	ctx->offered = false;
	if (ctx->through != MGW_THROUGH_NONE)
		apply(ctx);
	return 0;
}

/* A T.38 re-offer for a fax on the circuit (T.38 Annex D.2.2). */
static int sdp_offer_t38(struct mgw_ctx *ctx, char *buf, size_t size)
{
	struct mgw_sdp_local l;
	int n;

	if (!ctx || !buf)
		return -EINVAL;
	if (!mgw.cfg->t38)
		return -ENOTSUP;
	local_sdp(ctx, &l, MGW_SDP_SENDRECV);
	n = mgw_sdp_write_offer_t38(buf, size, &l);
	if (n > 0)
		ctx->offered = ctx->t38_offered = true;
	return n;
}

static int sdp_check(const char *offer, size_t len)
{
	struct mgw_sdp sdp;
	struct mgw_sdp_agreed agreed;
	int rc;

	if (!offer)
		return -EINVAL;
	rc = mgw_sdp_parse(offer, len, &sdp);
	if (rc == 0 && mgw.cfg->t38 && mgw_sdp_choose_t38(&sdp, &agreed) == 0)
		return 0;
	return rc < 0 ? rc :
			mgw_sdp_choose(&sdp, mgw.codecs, mgw.ncodecs, &agreed);
}

/* ---- Media through ------------------------------------------------------------------- */

/* What flows, from the SDP direction we agreed and the through mode. */
static enum media_dir media_dir_of(const struct mgw_ctx *ctx)
{
	enum mgw_sdp_dir d = ctx->agreed.dir;
	bool send = (d == MGW_SDP_SENDRECV || d == MGW_SDP_SENDONLY) &&
		    (ctx->through == MGW_THROUGH_TO_IP ||
		     ctx->through == MGW_THROUGH_BOTH);
	bool recv = (d == MGW_SDP_SENDRECV || d == MGW_SDP_RECVONLY) &&
		    (ctx->through == MGW_THROUGH_TO_CIRCUIT ||
		     ctx->through == MGW_THROUGH_BOTH);

	return send && recv ? MEDIA_SENDRECV
	       : send	    ? MEDIA_SENDONLY
	       : recv	    ? MEDIA_RECVONLY
			    : MEDIA_INACTIVE;
}

static int set_remote(struct mgw_ctx *ctx)
{
	const struct mgw_sdp_agreed *a = &ctx->agreed;
	bool t38 = strcmp(a->codec, "t38") == 0;
	struct media_rtp_remote r = {
		.size = sizeof(r),
		.addr = a->addr[0] ? a->addr : NULL,
		.port = a->port,
		.rtcp_port = a->rtcp_port,
		.rtcp_mux = a->rtcp_mux,
		.codec = a->codec,
		.clock_hz = a->clock,
		.pt = t38 ? -1 : a->pt,
		.ptime_ms = t38 ? 0 : a->ptime,
		.dtmf_pt = t38 ? -1 : a->dtmf_pt,
		.dir = media_dir_of(ctx),
	};

	return mgw.media->rtp_set_remote(ctx->chan, LEG_RTP, &r);
}

static void on_start_retry(struct tnd_timer *t, void *arg)
{
	struct mgw_ctx *ctx = arg;

	(void)t;
	if (!ctx->releasing && !ctx->media_started)
		apply(ctx);
}

/*
 * The timeslot is still open for the call before this one: the pri
 * plugin frees a B-channel at RELEASE COMPLETE, and the media plugin
 * closes the old call's TDM leg on its worker a tick or two later (more
 * on a loaded machine). A new call that got the B-channel meanwhile
 * tries again shortly. False when it has tried long enough.
 */
static bool start_later(struct mgw_ctx *ctx)
{
	if (ctx->start_retries >= MGW_START_RETRIES)
		return false;
	if (!ctx->start_retry)
		ctx->start_retry = mgw.host->timer_new(MGW_SELF,
						       on_start_retry, ctx);
	if (!ctx->start_retry)
		return false;
	if (!ctx->start_retries++)
		tnd_info("%s: %u/%u still closing for the call before: "
			 "media starts when it is free", ctx->label,
			 ctx->span, ctx->ts);
	mgw.host->timer_start(ctx->start_retry, MGW_START_RETRY_MS, 0);
	return true;
}

/* Media as the SDP and the through mode say: the tone gives way. */
static int apply(struct mgw_ctx *ctx)
{
	int rc;

	if (!ctx->agreed_ok)
		return 0; /* again once the SDP is agreed */
	tone_stop(ctx);
	rc = set_remote(ctx);
	if (rc == 0 && !ctx->media_started &&
	    ctx->through != MGW_THROUGH_NONE) {
		rc = mgw.media->chan_start(ctx->chan);
		if (rc == -EBUSY && start_later(ctx))
			return 0;
		ctx->media_started = rc == 0;
		ctx->t_media_ms = mgw.host->now_ms();
	}
	if (rc < 0)
		tnd_error("%s: media on %u/%u: %s", ctx->label, ctx->span,
			  ctx->ts, strerror(-rc));
	return rc;
}

static int through(struct mgw_ctx *ctx, enum mgw_through mode)
{
	if (!ctx || mode > MGW_THROUGH_BOTH)
		return -EINVAL;
	if (mode == ctx->through)
		return 0;
	tnd_debug("%s: through %s -> %s", ctx->label,
		  through_names[ctx->through], through_names[mode]);
	ctx->through = mode;
	if (mode == MGW_THROUGH_BOTH && !ctx->t_both_ms)
		ctx->t_both_ms = mgw.host->now_ms();
	return apply(ctx);
}

/* ---- Tones toward the circuit --------------------------------------------------------- */

/* The driver's thread: one tone block per received block (tdm.h). */
static void on_tone_block(struct tdm_bchan *ch, const uint8_t *block,
			  void *arg)
{
	struct mgw_ctx *ctx = arg;
	uint8_t out[TDM_BLOCK_SAMPLES];

	(void)block;
	mgw_tonegen_block(&ctx->gen, ctx->ulaw, out);
	mgw.tdm->bchan_write(ch, out, sizeof(out));
}

static int tone(struct mgw_ctx *ctx, enum mgw_tone which)
{
	int rc;

	if (!ctx || which >= MGW_TONE_COUNT)
		return -EINVAL;
	if (!mgw.tdm)
		return -ENODEV;
	if (ctx->media_started)
		return -EBUSY;
	if (which == ctx->tone)
		return 0;
	tone_stop(ctx);
	if (which == MGW_TONE_NONE)
		return 0;
	mgw_tonegen_start(&ctx->gen, &mgw.plan->tone[which]);
	rc = mgw.tdm->bchan_open(ctx->span, ctx->ts, on_tone_block, ctx,
				 &ctx->tone_bchan);
	if (rc < 0) {
		ctx->tone_bchan = NULL;
		tnd_info("%s: no %s tone on %u/%u: %s", ctx->label,
			 mgw_tone_name(which), ctx->span, ctx->ts,
			 strerror(-rc));
		return rc;
	}
	ctx->tone = which;
	mgw.host->counter_add(mgw.c_tones, 1);
	tnd_debug("%s: %s tone (%s) toward %u/%u", ctx->label,
		  mgw_tone_name(which), mgw.plan->country, ctx->span, ctx->ts);
	return 0;
}

static int dtmf(struct mgw_ctx *ctx, char digit, unsigned duration_ms)
{
	if (!ctx || !ctx->media_started)
		return -EBUSY;
	return mgw.media->chan_dtmf(ctx->chan, LEG_TDM, digit, duration_ms);
}

/* ---- The end --------------------------------------------------------------------------- */

static void ctx_release(struct mgw_ctx *ctx, int cause)
{
	if (!ctx || ctx->releasing)
		return;
	ctx->releasing = true;
	ctx->cause = cause;
	ctx->t_end_ms = mgw.host->now_ms();
	if (ctx->start_retry)
		mgw.host->timer_stop(ctx->start_retry);
	tone_stop(ctx);
	mgw.host->counter_add(mgw.c_released, 1);
	/* the record waits for the final statistics (MEDIA_EV_STOPPED) */
	if (mgw.media->chan_stop(ctx->chan) < 0) {
		mgw_record_write(ctx, NULL, NULL);
		mgw.media->chan_free(ctx->chan);
		ctx_free(ctx);
	}
}

void mgw_ctx_release_all(int cause)
{
	struct mgw_ctx *ctx = mgw.ctxs, *next;

	for (; ctx; ctx = next) {
		next = ctx->next;
		ctx_release(ctx, cause);
	}
}

static int ctx_info(struct mgw_ctx *ctx, struct mgw_ctx_info *out)
{
	struct media_leg_stats st = { .size = sizeof(st) };

	if (!ctx || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->id = ctx->id;
	out->span = ctx->span;
	out->ts = ctx->ts;
	out->codec = ctx->agreed_ok ? ctx->agreed.codec : NULL;
	out->through = ctx->through;
	out->tone = ctx->tone;
	if (ctx->media_started &&
	    mgw.media->chan_stats(ctx->chan, LEG_RTP, &st) == 0)
		out->mos = st.mos;
	return 0;
}

const struct mgw_service mgw_service = {
	.size = sizeof(struct mgw_service),
	.ctx_new = ctx_new,
	.ctx_move = ctx_move,
	.sdp_offer = sdp_offer,
	.sdp_answer = sdp_answer,
	.sdp_answered = sdp_answered,
	.sdp_check = sdp_check,
	.through = through,
	.tone = tone,
	.dtmf = dtmf,
	.ctx_release = ctx_release,
	.ctx_info = ctx_info,
	.sdp_offer_t38 = sdp_offer_t38,
};

const char *mgw_through_name(enum mgw_through t)
{
	return t <= MGW_THROUGH_BOTH ? through_names[t] : "?";
}
