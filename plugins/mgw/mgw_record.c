/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgw_record: the per-call record (times, codec, packets, loss, jitter,
 * MOS, cause), kept in a ring for `mgw show records`, logged in one line
 * and appended to [mgw] cdr_file as CSV; and the control commands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgw_int.h"

int mgw_records_init(void)
{
	mgw.nrecords = 0;
	mgw.record_head = 0;
	if (!mgw.cfg->records)
		return 0;
	mgw.records = calloc(mgw.cfg->records, sizeof(*mgw.records));
	return mgw.records ? 0 : -ENOMEM;
}

void mgw_records_fini(void)
{
	free(mgw.records);
	mgw.records = NULL;
}

static double seconds(uint64_t from, uint64_t to)
{
	return from && to >= from ? (double)(to - from) / 1000.0 : 0;
}

static void fill(struct mgw_record *r, const struct mgw_ctx *ctx,
		 const struct media_leg_stats *rtp,
		 const struct media_leg_stats *tdm)
{
	memset(r, 0, sizeof(*r));
	r->id = ctx->id;
	snprintf(r->label, sizeof(r->label), "%s", ctx->label);
	snprintf(r->calling, sizeof(r->calling), "%s", ctx->calling);
	snprintf(r->called, sizeof(r->called), "%s", ctx->called);
	r->incoming = ctx->incoming;
	r->span = ctx->span;
	r->ts = ctx->ts;
	r->start = ctx->wall_start;
	r->answer_s = ctx->t_both_ms ? seconds(ctx->t_new_ms, ctx->t_both_ms)
				     : -1;
	r->duration_s = seconds(ctx->t_both_ms, ctx->t_end_ms);
	r->cause = ctx->cause;
	if (ctx->agreed_ok) {
		snprintf(r->codec, sizeof(r->codec), "%s", ctx->agreed.codec);
		r->ptime_ms = ctx->agreed.ptime ? ctx->agreed.ptime :
						  (unsigned)mgw.cfg->ptime_ms;
	}
	if (rtp && ctx->media_started) {
		r->rtp_rx = rtp->packets_rx;
		r->rtp_tx = rtp->packets_tx;
		r->lost = rtp->lost;
		r->late = rtp->late;
		r->jitter_ms = rtp->jitter_ms;
		r->mos = rtp->mos;
		r->r_factor = rtp->r_factor;
		r->late_frames = rtp->late_frames;
		r->dtmf = rtp->dtmf_rx + rtp->dtmf_tx;
	}
	if (tdm && ctx->media_started) {
		r->late_frames += tdm->late_frames;
		r->erle_db = tdm->erle_db;
	}
}

static void append_cdr(const struct mgw_record *r)
{
	FILE *f;
	char when[32];

	if (!mgw.cfg->cdr_file[0])
		return;
	f = fopen(mgw.cfg->cdr_file, "a");
	if (!f) {
		tnd_error("cdr_file %s: %s", mgw.cfg->cdr_file,
			  strerror(errno));
		return;
	}
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&r->start));
	fprintf(f, "%u,%s,%s,%s,%u/%u,%s,%s,%.3f,%.3f,%s,%u,%llu,%llu,%llu,"
		   "%llu,%.2f,%.2f,%llu,%d\n",
		r->id, when, r->label, r->incoming ? "in" : "out", r->span,
		r->ts, r->calling, r->called, r->answer_s, r->duration_s,
		r->codec, r->ptime_ms, (unsigned long long)r->rtp_rx,
		(unsigned long long)r->rtp_tx, (unsigned long long)r->lost,
		(unsigned long long)r->late, r->jitter_ms, r->mos,
		(unsigned long long)r->late_frames, r->cause);
	fclose(f);
}

void mgw_record_write(const struct mgw_ctx *ctx,
		      const struct media_leg_stats *rtp,
		      const struct media_leg_stats *tdm)
{
	struct mgw_record r;

	fill(&r, ctx, rtp, tdm);
	mgw.host->counter_add(mgw.c_late_frames, r.late_frames);
	tnd_info("%s: record: %u/%u %s %s -> %s, %s, %.1f s, rtp rx %llu tx "
		 "%llu lost %llu, jitter %.1f ms, MOS %.2f, late frames %llu, "
		 "cause %d",
		 r.label, r.span, r.ts, r.incoming ? "in" : "out",
		 r.calling[0] ? r.calling : "-", r.called[0] ? r.called : "-",
		 r.codec[0] ? r.codec : "no media", r.duration_s,
		 (unsigned long long)r.rtp_rx, (unsigned long long)r.rtp_tx,
		 (unsigned long long)r.lost, r.jitter_ms, r.mos,
		 (unsigned long long)r.late_frames, r.cause);
	append_cdr(&r);
	if (!mgw.records)
		return;
	mgw.records[mgw.record_head] = r;
	mgw.record_head = (mgw.record_head + 1) % (unsigned)mgw.cfg->records;
	if (mgw.nrecords < mgw.cfg->records)
		mgw.nrecords++;
}

/* ---- Commands ------------------------------------------------------------------ */

static int cmd_calls(struct tnd_reply *r, int argc, char **argv)
{
	uint64_t now = mgw.host->now_ms();

	(void)argv;
	if (argc)
		return mgw.host->reply_error(r, "usage: mgw show calls");
	for (struct mgw_ctx *c = mgw.ctxs; c; c = c->next) {
		mgw.host->reply_record(r);
		mgw.host->reply_field_num(r, "id", c->id);
		mgw.host->reply_field(r, "call", "%s", c->label);
		mgw.host->reply_field(r, "circuit", "%u/%u", c->span, c->ts);
		mgw.host->reply_field(r, "dir", "%s",
				      c->incoming ? "in" : "out");
		mgw.host->reply_field(r, "codec", "%s",
				      c->agreed_ok ? c->agreed.codec : "-");
		mgw.host->reply_field(r, "rtp", "%s:%u", c->local.addr,
				      c->local.port);
		mgw.host->reply_field(r, "remote", "%s:%u",
				      c->agreed_ok ? c->agreed.addr : "-",
				      c->agreed_ok ? c->agreed.port : 0);
		mgw.host->reply_field(r, "through", "%s",
				      mgw_through_name(c->through));
		mgw.host->reply_field(r, "tone", "%s", mgw_tone_name(c->tone));
		mgw.host->reply_field_num(r, "age_ms",
					  (long long)(now - c->t_new_ms));
	}
	return 0;
}

static void record_fields(struct tnd_reply *r, const struct mgw_record *rec)
{
	char when[32];

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
		 gmtime(&rec->start));
	mgw.host->reply_record(r);
	mgw.host->reply_field_num(r, "id", rec->id);
	mgw.host->reply_field(r, "start", "%s", when);
	mgw.host->reply_field(r, "call", "%s", rec->label);
	mgw.host->reply_field(r, "dir", "%s", rec->incoming ? "in" : "out");
	mgw.host->reply_field(r, "circuit", "%u/%u", rec->span, rec->ts);
	mgw.host->reply_field(r, "calling", "%s", rec->calling);
	mgw.host->reply_field(r, "called", "%s", rec->called);
	mgw.host->reply_field(r, "answer_s", "%.3f", rec->answer_s);
	mgw.host->reply_field(r, "duration_s", "%.3f", rec->duration_s);
	mgw.host->reply_field(r, "codec", "%s", rec->codec[0] ? rec->codec :
							     "-");
	mgw.host->reply_field_num(r, "rtp_rx", (long long)rec->rtp_rx);
	mgw.host->reply_field_num(r, "rtp_tx", (long long)rec->rtp_tx);
	mgw.host->reply_field_num(r, "lost", (long long)rec->lost);
	mgw.host->reply_field(r, "jitter_ms", "%.2f", rec->jitter_ms);
	mgw.host->reply_field(r, "mos", "%.2f", rec->mos);
	mgw.host->reply_field_num(r, "late_frames",
				  (long long)rec->late_frames);
	mgw.host->reply_field(r, "erle_db", "%.1f", rec->erle_db);
	mgw.host->reply_field_num(r, "cause", rec->cause);
}

static int cmd_records(struct tnd_reply *r, int argc, char **argv)
{
	unsigned want = mgw.nrecords, cap = (unsigned)mgw.cfg->records;

	if (argc > 1)
		return mgw.host->reply_error(r, "usage: mgw show records [N]");
	if (argc == 1)
		want = (unsigned)strtoul(argv[0], NULL, 10);
	if (want > mgw.nrecords)
		want = mgw.nrecords;
	/* oldest of the `want` newest first */
	for (unsigned i = want; i > 0; i--)
		record_fields(r, &mgw.records[(mgw.record_head + cap - i) %
					      cap]);
	return 0;
}

static int cmd_stats(struct tnd_reply *r, int argc, char **argv)
{
	double mos_sum = 0;
	unsigned mos_n = 0;

	(void)argv;
	if (argc)
		return mgw.host->reply_error(r, "usage: mgw show stats");
	for (unsigned i = 0; i < mgw.nrecords; i++)
		if (mgw.records[i].mos > 0) {
			mos_sum += mgw.records[i].mos;
			mos_n++;
		}
	mgw.host->reply_field_num(r, "active", mgw.nctxs);
	mgw.host->reply_field_num(r, "contexts",
				  (long long)mgw.host->counter_get(
					  mgw.c_contexts));
	mgw.host->reply_field_num(r, "tones", (long long)mgw.host->counter_get(
						      mgw.c_tones));
	mgw.host->reply_field_num(r, "no_codec",
				  (long long)mgw.host->counter_get(
					  mgw.c_no_codec));
	mgw.host->reply_field_num(r, "late_frames",
				  (long long)mgw.host->counter_get(
					  mgw.c_late_frames));
	mgw.host->reply_field_num(r, "records", mgw.nrecords);
	mgw.host->reply_field(r, "mean_mos", "%.2f",
			      mos_n ? mos_sum / mos_n : 0.0);
	mgw.host->reply_field(r, "tones_plan", "%s", mgw.plan->country);
	return 0;
}

static int cmd_tones(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return mgw.host->reply_error(r, "usage: mgw show tones");
	for (int t = MGW_TONE_DIAL; t < MGW_TONE_COUNT; t++) {
		const struct mgw_tone_def *d = &mgw.plan->tone[t];
		char hz[24];

		if (d->f2)
			snprintf(hz, sizeof(hz), "%u+%u", d->f1, d->f2);
		else
			snprintf(hz, sizeof(hz), "%u", d->f1);
		mgw.host->reply_record(r);
		mgw.host->reply_field(r, "tone", "%s",
				      mgw_tone_name((enum mgw_tone)t));
		mgw.host->reply_field(r, "hz", "%s", hz);
		mgw.host->reply_field_num(r, "dbm0", d->level_dbm0);
		mgw.host->reply_field(r, "cadence_ms", "%u %u %u %u",
				      d->cadence_ms[0], d->cadence_ms[1],
				      d->cadence_ms[2], d->cadence_ms[3]);
	}
	return 0;
}

const struct tnd_command mgw_commands[] = {
	{ "mgw show calls", NULL,
	  "media contexts: circuit, codec, RTP, through-connection, tone",
	  cmd_calls },
	{ "mgw show records", "[N]",
	  "the last N call records: times, codec, packets, loss, jitter, "
	  "MOS, cause", cmd_records },
	{ "mgw show stats", NULL, "contexts, tones, late frames, mean MOS",
	  cmd_stats },
	{ "mgw show tones", NULL, "the tone plan in use", cmd_tones },
	TND_COMMAND_END
};
