// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_cmd.c - control commands: media show channels | stats | channel
 * ID, and an echo line for operators and tests (media echo, media close,
 * media dtmf).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "media_int.h"

#define H (mp.host)

static const char *const leg_types[] = {
	[MEDIA_LEG_NONE] = "none",
	[MEDIA_LEG_RTP] = "rtp",
	[MEDIA_LEG_TDM] = "tdm",
	[MEDIA_LEG_LOOP] = "loop",
};

static const char *const states[] = {
	[CHAN_NEW] = "new",
	[CHAN_RUNNING] = "running",
	[CHAN_STOPPING] = "stopping",
	[CHAN_STOPPED] = "stopped",
};

static int parse_id(const char *text, unsigned *id)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);

	if (!*text || *end || v == 0 || v > 0xffffffffu)
		return -EINVAL;
	*id = (unsigned)v;
	return 0;
}

static void snapshot(struct media_chan *ch, unsigned leg,
		     struct media_leg_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	media_service_table.chan_stats(ch, leg, st);
}

/* "rtp PCMA 127.0.0.1:16384 > 127.0.0.1:6000 srtp" */
static void leg_summary(struct tnd_reply *r, const char *key,
			struct media_chan *ch, unsigned legi)
{
	struct media_leg *leg = &ch->leg[legi];
	struct media_leg_stats st;

	snapshot(ch, legi, &st);
	switch (leg->cfg.type) {
	case MEDIA_LEG_RTP:
		H->reply_field(r, key, "rtp %s %s > %s%s",
			       st.codec ? st.codec : "-", st.local,
			       st.remote[0] ? st.remote : "?",
			       st.srtp ? " srtp" : "");
		break;
	case MEDIA_LEG_TDM:
		H->reply_field(r, key, "tdm %u/%u%s", leg->cfg.span,
			       leg->cfg.ts, st.ec_on ? " ec" : "");
		break;
	default:
		H->reply_field(r, key, "%s", leg_types[leg->cfg.type]);
		break;
	}
}

static int cmd_channels(struct tnd_reply *r, int argc, char **argv)
{
	struct media_chan *ch;

	(void)argv;
	if (argc)
		return H->reply_error(r, "usage: media show channels");
	for (ch = mp.chans; ch; ch = ch->next) {
		H->reply_record(r);
		H->reply_field_num(r, "id", ch->id);
		H->reply_field(r, "label", "%s", ch->label[0] ? ch->label : "-");
		H->reply_field(r, "state", "%s", states[ch->state]);
		H->reply_field_num(r, "worker", ch->worker->index);
		leg_summary(r, "leg_a", ch, 0);
		leg_summary(r, "leg_b", ch, 1);
	}
	if (!mp.chans)
		H->reply_text(r, "no media channels");
	return 0;
}

static void worker_record(struct tnd_reply *r, struct media_worker *w)
{
	H->reply_record(r);
	H->reply_field(r, "what", "worker %u", w->index);
	H->reply_field_num(r, "channels", atomic_load(&w->nchannels));
	H->reply_field(r, "load", "%.1f%%",
		       atomic_load(&w->load_permille) / 10.0);
	H->reply_field_num(r, "frames", (long long)atomic_load(&w->frames));
	H->reply_field_num(r, "late_frames",
			   (long long)atomic_load(&w->late_frames));
	H->reply_field_num(r, "missed_ticks",
			   (long long)atomic_load(&w->missed_ticks));
	H->reply_field_num(r, "wakeups", (long long)atomic_load(&w->wakeups));
	H->reply_field_num(r, "p50_frame_us",
			   media_worker_percentile_us(w, 0.5));
	H->reply_field_num(r, "p99_frame_us",
			   media_worker_percentile_us(w, 0.99));
	H->reply_field_num(r, "p999_frame_us",
			   media_worker_percentile_us(w, 0.999));
}

static int cmd_stats(struct tnd_reply *r, int argc, char **argv)
{
	unsigned i;

	(void)argv;
	if (argc)
		return H->reply_error(r, "usage: media show stats");
	for (i = 0; i < mp.nworkers; i++)
		worker_record(r, &mp.workers[i]);
	for (i = 0; i < MEDIA_CODEC_COUNT; i++) {
		unsigned long long frames = 0, w;

		for (w = 0; w < mp.nworkers; w++)
			frames += atomic_load(&mp.workers[w].codec_frames[i]);
		H->reply_record(r);
		H->reply_field(r, "what", "codec %s",
			       media_codec_get(i)->encoding_name);
		H->reply_field_num(r, "channels",
				   atomic_load(&mp.codec_legs[i]));
		H->reply_field_num(r, "frames", (long long)frames);
	}
	return 0;
}

static void leg_record(struct tnd_reply *r, struct media_chan *ch,
		       unsigned legi)
{
	struct media_leg_stats st;

	snapshot(ch, legi, &st);
	H->reply_record(r);
	H->reply_field(r, "leg", "%c", 'A' + legi);
	H->reply_field(r, "type", "%s", leg_types[ch->leg[legi].cfg.type]);
	H->reply_field(r, "codec", "%s", st.codec ? st.codec : "-");
	if (st.type == MEDIA_LEG_TDM) {
		H->reply_field(r, "circuit", "%s", st.local);
		H->reply_field(r, "ec", "%s%s", st.ec_on ? "on" : "off",
			       st.ec_bypassed ? " (tone bypass)" : "");
		H->reply_field_num(r, "ec_tail_ms", st.ec_tail_ms);
		H->reply_field(r, "erle_db", "%.1f", st.erle_db);
		H->reply_field_num(r, "blocks_rx", (long long)st.packets_rx);
		H->reply_field_num(r, "blocks_tx", (long long)st.packets_tx);
		H->reply_field_num(r, "overruns", (long long)st.late);
	}
	if (st.type != MEDIA_LEG_RTP)
		return;
	H->reply_field_num(r, "pt", st.pt);
	H->reply_field(r, "local", "%s", st.local);
	H->reply_field(r, "remote", "%s%s", st.remote[0] ? st.remote : "-",
		       st.latched ? " (latched)" : "");
	H->reply_field(r, "srtp", "%s", st.srtp ? st.srtp : "off");
	if (st.dtls)
		H->reply_field(r, "dtls", "%s", st.dtls);
	H->reply_field(r, "ssrc_rx", "%08x", st.ssrc_rx);
	H->reply_field(r, "ssrc_tx", "%08x", st.ssrc_tx);
	H->reply_field_num(r, "packets_rx", (long long)st.packets_rx);
	H->reply_field_num(r, "packets_tx", (long long)st.packets_tx);
	H->reply_field_num(r, "lost", (long long)st.lost);
	H->reply_field_num(r, "late", (long long)st.late);
	H->reply_field_num(r, "duplicates", (long long)st.duplicates);
	H->reply_field_num(r, "malformed", (long long)st.malformed);
	H->reply_field_num(r, "foreign", (long long)st.foreign);
	H->reply_field_num(r, "srtp_auth_fail", (long long)st.srtp_auth_fail);
	H->reply_field_num(r, "srtp_replay", (long long)st.srtp_replay);
	H->reply_field(r, "jitter_ms", "%.2f", st.jitter_ms);
	H->reply_field(r, "jb_delay_ms", "%.1f", st.jb_delay_ms);
	H->reply_field(r, "jb_target_ms", "%.1f", st.jb_target_ms);
	H->reply_field_num(r, "plc_frames", (long long)st.plc_frames);
	H->reply_field(r, "rtt_ms", "%.1f", st.rtt_ms);
	H->reply_field(r, "remote_loss_pct", "%.1f", st.remote_loss_pct);
	H->reply_field(r, "remote_jitter_ms", "%.2f", st.remote_jitter_ms);
	H->reply_field(r, "mos", "%.2f", st.mos);
	H->reply_field_num(r, "dtmf_rx", (long long)st.dtmf_rx);
	H->reply_field_num(r, "dtmf_tx", (long long)st.dtmf_tx);
	H->reply_field_num(r, "late_frames", (long long)st.late_frames);
	if (st.codec && !strcmp(st.codec, "t38"))
		H->reply_field_num(r, "ifp_recovered",
				   (long long)st.ifp_recovered);
}

static int cmd_channel(struct tnd_reply *r, int argc, char **argv)
{
	struct media_chan *ch;
	unsigned id;

	if (argc != 1 || parse_id(argv[0], &id) < 0)
		return H->reply_error(r, "usage: media show channel ID");
	ch = media_chan_find(id);
	if (!ch)
		return H->reply_error(r, "no media channel %u", id);
	leg_record(r, ch, 0);
	leg_record(r, ch, 1);
	return 0;
}

/* ---- the echo line --------------------------------------------------------- */

static int echo_args(int argc, char **argv, unsigned *port,
		     const struct media_codec_info **codec)
{
	int i;

	*port = 0;
	*codec = media_service_table.codec_find("PCMA", 0);
	for (i = 0; i < argc; i++) {
		if (parse_id(argv[i], port) == 0)
			continue;
		*codec = media_service_table.codec_find(argv[i], 0);
		if (!*codec)
			return -ENOENT;
	}
	return 0;
}

static int echo_start(struct media_chan *ch,
		      const struct media_codec_info *codec)
{
	struct media_rtp_remote remote = {
		.size = sizeof(remote),
		.codec = codec->name,
		.pt = codec->static_pt >= 0 ? codec->static_pt : 96,
		.dtmf_pt = (int)mp.cfg->dtmf_pt,
	};
	int rc = media_service_table.rtp_set_remote(ch, MEDIA_LEG_A, &remote);

	return rc < 0 ? rc : media_service_table.chan_start(ch);
}

static int cmd_echo(struct tnd_reply *r, int argc, char **argv)
{
	struct media_chan_config cfg = {
		.size = sizeof(cfg),
		.label = "echo",
		.leg = { { .type = MEDIA_LEG_RTP }, { .type = MEDIA_LEG_LOOP } },
	};
	const struct media_codec_info *codec;
	struct media_rtp_local local = { .size = sizeof(local) };
	struct media_chan *ch;
	unsigned port;
	int rc;

	if (argc > 2 || echo_args(argc, argv, &port, &codec) < 0)
		return H->reply_error(r, "usage: media echo [PORT] [CODEC]");
	rc = media_chan_new_at(&cfg, port, &ch);
	if (rc < 0)
		return H->reply_error(r, "cannot open an echo channel: %s",
				      strerror(-rc));
	ch->by_command = true;
	rc = echo_start(ch, codec);
	if (rc < 0) {
		media_service_table.chan_free(ch);
		return H->reply_error(r, "cannot start the echo: %s",
				      strerror(-rc));
	}
	media_service_table.rtp_local(ch, MEDIA_LEG_A, &local);
	H->reply_field_num(r, "id", ch->id);
	H->reply_field(r, "address", "%s", local.addr);
	H->reply_field_num(r, "port", local.port);
	H->reply_field(r, "codec", "%s", codec->name);
	tnd_info("channel %u: echo on port %u, %s", ch->id, local.port,
		 codec->name);
	return 0;
}

static int cmd_close(struct tnd_reply *r, int argc, char **argv)
{
	struct media_chan *ch;
	unsigned id;

	if (argc != 1 || parse_id(argv[0], &id) < 0)
		return H->reply_error(r, "usage: media close ID");
	ch = media_chan_find(id);
	if (!ch || ch->freeing)
		return H->reply_error(r, "no media channel %u", id);
	if (!ch->by_command)
		return H->reply_error(r, "channel %u belongs to a call, not "
				      "to the control socket", id);
	media_service_table.chan_free(ch);
	H->reply_field_num(r, "closed", id);
	return 0;
}

static int cmd_dtmf(struct tnd_reply *r, int argc, char **argv)
{
	struct media_chan *ch;
	unsigned id, leg, ms = 100;
	const char *d;

	if (argc < 3 || argc > 4 || parse_id(argv[0], &id) < 0 ||
	    (strcmp(argv[1], "A") && strcmp(argv[1], "B")) ||
	    (argc == 4 && parse_id(argv[3], &ms) < 0))
		return H->reply_error(r, "usage: media dtmf ID A|B DIGITS [MS]");
	ch = media_chan_find(id);
	if (!ch)
		return H->reply_error(r, "no media channel %u", id);
	leg = argv[1][0] == 'B';
	for (d = argv[2]; *d; d++) {
		int rc = media_service_table.chan_dtmf(ch, leg, *d, ms);

		if (rc < 0)
			return H->reply_error(r, "digit '%c': %s", *d,
					      strerror(-rc));
	}
	H->reply_field_num(r, "queued", (long long)strlen(argv[2]));
	return 0;
}

const struct tnd_command media_commands[] = {
	{ "media show channels", NULL, "media channels and their legs",
	  cmd_channels },
	{ "media show stats", NULL,
	  "per worker: load, frames, late frames, frame times; per codec",
	  cmd_stats },
	{ "media show channel", "ID",
	  "one channel: jitter, loss, MOS, codec, SRTP, echo canceller",
	  cmd_channel },
	{ "media echo", "[PORT] [CODEC]",
	  "open an echo line: RTP that arrives goes back to its sender",
	  cmd_echo },
	{ "media close", "ID", "close a channel opened by media echo",
	  cmd_close },
	{ "media dtmf", "ID A|B DIGITS [MS]",
	  "send digits toward a leg (RFC 4733 or in band)", cmd_dtmf },
	TND_COMMAND_END
};
