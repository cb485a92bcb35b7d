/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgw: the media gateway function of a PSTN gateway node. It joins
 * B-channels of the "tdm" service to RTP streams of the "media" service
 * for the MGCF, speaks SDP for them, plays call progress tones toward the
 * circuit when the far end offers none, and keeps a record of every call.
 * The "mgw" service (mgw.h) is what the MGCF calls.
 */
#include <errno.h>
#include <string.h>

#include "mgw_int.h"

struct mgw_state mgw;

static const struct tnd_param mgw_params[] = {
	TND_PARAM("codecs", TND_STR, struct mgw_cfg, codecs, "PCMA PCMU G722",
		  "codecs we offer and accept on the RTP side, best first "
		  "(names of the media plugin's registry)"),
	TND_PARAM("telephone_event_pt", TND_INT, struct mgw_cfg,
		  telephone_event_pt, "101",
		  "payload type of RFC 4733 telephone-event in our offers; "
		  "-1: digits stay in band", .min = -1, .max = 127),
	TND_PARAM("ptime_ms", TND_UINT, struct mgw_cfg, ptime_ms, "20",
		  "packetisation we ask for (a=ptime)", .min = 10, .max = 60),
	TND_PARAM("tones", TND_ENUM, struct mgw_cfg, tones, "eu",
		  "call progress tone plan (ITU-T E.180 Suppl. 2): ringback, "
		  "busy, congestion played toward the circuit",
		  .choices = "eu|us|uk|de|fr|jp"),
	TND_PARAM("echo_cancel", TND_ENUM, struct mgw_cfg, echo_cancel,
		  "default",
		  "line echo canceller on the circuit side: the media "
		  "plugin's default, on or off", .choices = "default|on|off"),
	TND_PARAM("ec_tail_ms", TND_UINT, struct mgw_cfg, ec_tail_ms, "0",
		  "echo canceller tail, 32..128 ms; 0: the media plugin's",
		  .min = 0, .max = 128),
	TND_PARAM("records", TND_UINT, struct mgw_cfg, records, "256",
		  "call records kept for `mgw show records`", .min = 0,
		  .max = 1000000),
	TND_PARAM("cdr_file", TND_STR, struct mgw_cfg, cdr_file, "",
		  "append each call record to this CSV file; empty: none",
		  .flags = TND_PARAM_RELOADABLE),
	TND_PARAM("t38", TND_BOOL, struct mgw_cfg, t38, "yes",
		  "fax as T.38 (UDPTL) when offered or when a fax tone calls "
		  "for it; no: fax stays in G.711"),
	TND_PARAM_END
};

static int mgw_init(const struct tnd_host_api *api, void *config)
{
	mgw.host = api;
	mgw.cfg = config;
	mgw.plan = mgw_tone_plan_find(mgw.cfg->tones);
	if (!mgw.plan)
		return -EINVAL;
	if (mgw.cfg->ec_tail_ms && mgw.cfg->ec_tail_ms < 32)
		return api->config_error("mgw", "ec_tail_ms",
					 "ec_tail_ms = %llu: 0 or 32..128",
					 mgw.cfg->ec_tail_ms);
	mgw.dtmf_pt = (int)mgw.cfg->telephone_event_pt;
	mgw.c_contexts = api->counter_new(MGW_SELF, "contexts",
					  "media contexts made");
	mgw.c_released = api->counter_new(MGW_SELF, "released",
					  "media contexts released");
	mgw.c_tones = api->counter_new(MGW_SELF, "tones",
				       "tones played toward a circuit");
	mgw.c_no_codec = api->counter_new(MGW_SELF, "no_codec",
					  "offers refused: no codec in common");
	mgw.c_late_frames = api->counter_new(MGW_SELF, "late_frames",
					     "media frames finished late");
	mgw.c_rtp_timeouts = api->counter_new(MGW_SELF, "rtp_timeouts",
					      "calls whose RTP stopped");
	mgw.c_fax = api->counter_new(MGW_SELF, "fax_tones",
				     "fax tones heard (CNG, CED)");
	mgw_tone_init();
	if (mgw_records_init() < 0)
		return -ENOMEM;
	return api->service_register(MGW_SELF, MGW_SERVICE,
				     MGW_SERVICE_VERSION, &mgw_service);
}

static int mgw_start(void)
{
	mgw.media = mgw.host->service_get(MEDIA_SERVICE,
					  MEDIA_SERVICE_VERSION);
	mgw.tdm = mgw.host->service_get(TDM_SERVICE, TDM_SERVICE_VERSION);
	if (!mgw.media) {
		tnd_error("no media service: load the media plugin");
		return -ENODEV;
	}
	if (!mgw.tdm)
		tnd_notice("no tdm service: no span driver loaded, so no "
			   "circuit to bind");
	if (mgw_ctx_parse_codecs(mgw.cfg->codecs) < 0)
		return -EINVAL;
	tnd_info("codecs %s, telephone-event %d, ptime %llu ms, tones %s "
		 "(%s)", mgw.cfg->codecs, mgw.dtmf_pt, mgw.cfg->ptime_ms,
		 mgw.plan->country, mgw.plan->name);
	return 0;
}

/* Contexts still open (the MGCF stops first and releases its calls):
 * their media must stop before the media plugin does. */
static int mgw_stop(void)
{
	mgw.stopping = true;
	if (!mgw.ctxs)
		return 0;
	mgw_ctx_release_all(41); /* Q.850 temporary failure */
	return mgw.ctxs ? TND_STOP_PENDING : 0;
}

static void mgw_fini(void)
{
	mgw_records_fini();
	memset(&mgw, 0, sizeof(mgw));
}

static void mgw_reload(const char *const *changed)
{
	for (const char *const *p = changed; *p; p++)
		tnd_notice("%s changed", *p);
}

static const struct tnd_service_ref mgw_provides[] = {
	{ MGW_SERVICE, MGW_SERVICE_VERSION },
	TND_SERVICE_END
};

static const struct tnd_service_ref mgw_requires[] = {
	{ MEDIA_SERVICE, MEDIA_SERVICE_VERSION },
	TND_SERVICE_END
};

static const struct tnd_service_ref mgw_uses[] = {
	{ TDM_SERVICE, TDM_SERVICE_VERSION },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(mgw) = {
	TND_PLUGIN_HEADER,
	.name = "mgw",
	.version = "1.0",
	.description = "media gateway: B-channels to RTP through the media "
		       "plugin, SDP, tones, call records",
	.provides = mgw_provides,
	.requires = mgw_requires,
	.params = mgw_params,
	.cfg_size = sizeof(struct mgw_cfg),
	.commands = mgw_commands,
	.init = mgw_init,
	.start = mgw_start,
	.stop = mgw_stop,
	.fini = mgw_fini,
	.reload = mgw_reload,
	.uses = mgw_uses,
};
