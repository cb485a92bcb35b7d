/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgw: private declarations shared by the plugin's files.
 */
#ifndef MGW_INT_H
#define MGW_INT_H

#include <stdint.h>
#include <time.h>

#include "mgw.h"
#include "mgw_sdp.h"
#include "mgw_tone.h"
#include "tandem/media.h"
#include "tandem/plugin.h"
#include "tandem/tdm.h"

#define TND_LOG_HOST mgw.host
#define TND_LOG_CATEGORY "mgw"

#define MGW_CODECS_MAX 8
#define MGW_LABEL_MAX 48
#define MGW_NUMBER_MAX 33
/* media start on a B-channel still closing: retried this often, this
 * many times (a second) */
#define MGW_START_RETRY_MS 20
#define MGW_START_RETRIES 50

TND_PLUGIN_DECLARE(mgw);
#define MGW_SELF (&TND_PLUGIN_SYMBOL(mgw))

struct mgw_cfg {
	char *codecs;
	long long telephone_event_pt;
	unsigned long long ptime_ms;
	char *tones;
	char *echo_cancel;
	unsigned long long ec_tail_ms;
	unsigned long long records;
	char *cdr_file;
	int t38;
};

struct mgw_ctx {
	unsigned id;
	char label[MGW_LABEL_MAX];
	char calling[MGW_NUMBER_MAX], called[MGW_NUMBER_MAX];
	bool incoming;
	unsigned span, ts;
	bool ulaw; /* the span's companding */
	mgw_event_cb on_event;
	void *arg;

	struct media_chan *chan;
	struct media_rtp_local local;
	bool media_started;
	struct tnd_timer *start_retry; /* the B-channel was still busy */
	unsigned start_retries;
	bool sdp_given; /* our SDP (with our port) has left */

	/* offer/answer */
	bool offered;	/* our offer waits for its answer */
	bool t38_offered; /* ... and it is a T.38 one */
	bool agreed_ok;
	struct mgw_sdp_agreed agreed;
	unsigned long long sess_id, sess_version;

	enum mgw_through through;

	/* the tone toward the circuit: the driver's thread runs `gen` while
	 * tone_bchan is open; the loop changes it only with it closed */
	enum mgw_tone tone;
	struct tdm_bchan *tone_bchan;
	struct mgw_tonegen gen;

	/* for the record */
	time_t wall_start;
	uint64_t t_new_ms, t_media_ms, t_both_ms, t_end_ms;
	int cause;
	bool releasing;

	struct mgw_ctx *next;
};

/* One finished call, as `mgw show records` and cdr_file show it. */
struct mgw_record {
	unsigned id;
	char label[MGW_LABEL_MAX];
	char calling[MGW_NUMBER_MAX], called[MGW_NUMBER_MAX];
	bool incoming;
	unsigned span, ts;
	time_t start;
	double answer_s;   /* from the context to media both ways; -1 never */
	double duration_s; /* both ways to the end; 0 never connected */
	char codec[24];
	unsigned ptime_ms;
	uint64_t rtp_rx, rtp_tx, lost, late, late_frames, dtmf;
	double jitter_ms, mos, r_factor, erle_db;
	int cause;
};

struct mgw_state {
	const struct tnd_host_api *host;
	struct mgw_cfg *cfg;
	const struct media_service *media;
	const struct tdm_service *tdm;
	const struct mgw_tone_plan *plan;
	struct mgw_codec_pref codecs[MGW_CODECS_MAX];
	unsigned ncodecs;
	int dtmf_pt;

	struct mgw_ctx *ctxs;
	unsigned nctxs;
	unsigned last_id;
	bool stopping;

	struct mgw_record *records; /* a ring of cfg->records */
	unsigned nrecords, record_head;

	struct tnd_counter *c_contexts, *c_released, *c_tones, *c_no_codec,
		*c_late_frames, *c_rtp_timeouts, *c_fax;
};

extern struct mgw_state mgw;
extern const struct mgw_service mgw_service;

/* mgw_ctx.c */
int mgw_ctx_parse_codecs(const char *list);
void mgw_ctx_release_all(int cause);
const char *mgw_through_name(enum mgw_through t);

/* mgw_record.c */
int mgw_records_init(void);
void mgw_records_fini(void);
void mgw_record_write(const struct mgw_ctx *ctx,
		      const struct media_leg_stats *rtp,
		      const struct media_leg_stats *tdm);
extern const struct tnd_command mgw_commands[];

#endif /* MGW_INT_H */
