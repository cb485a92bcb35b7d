// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media: the media plane of the MGW and the SBC. Channels move audio
 * between RTP streams (RFC 3550, SRTP by SDES) and TDM bearer channels,
 * transcoding on SpanDSP, cancelling line echo, converting DTMF, on media
 * workers that keep a 20 ms deadline per frame. Other plugins use it
 * through the "media" service (tandem/media.h); README.md and
 * docs/media.md describe it.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "media_int.h"

struct media_plugin mp;

static const struct tnd_param media_params[] = {
	TND_PARAM("workers", TND_UINT, struct media_cfg, workers, "0",
		  "media worker threads; 0: one per CPU core", .max = 256),
	TND_PARAM("pin_workers", TND_BOOL, struct media_cfg, pin_workers,
		  "yes", "pin each worker to its own core"),
	TND_PARAM("rtp_address", TND_STR, struct media_cfg, rtp_address,
		  "127.0.0.1", "numeric IPv4 or IPv6 address RTP binds to"),
	TND_PARAM("sdp_address", TND_STR, struct media_cfg, sdp_address, "",
		  "address put in SDP (c=); empty: rtp_address"),
	TND_PARAM("rtp_port_min", TND_UINT, struct media_cfg, rtp_port_min,
		  "16384", "lowest RTP port (RTP even, RTCP the next)",
		  .min = 1024, .max = 65534),
	TND_PARAM("rtp_port_max", TND_UINT, struct media_cfg, rtp_port_max,
		  "32767", "highest RTP/RTCP port", .min = 1025, .max = 65535),
	TND_PARAM("ptime_ms", TND_UINT, struct media_cfg, ptime_ms, "20",
		  "packetisation we send when SDP gives no a=ptime",
		  .min = 20, .max = 60),
	TND_PARAM("jb_min_ms", TND_UINT, struct media_cfg, jb_min_ms, "20",
		  "least playout delay of the adaptive jitter buffer",
		  .max = 1000),
	TND_PARAM("jb_max_ms", TND_UINT, struct media_cfg, jb_max_ms, "200",
		  "most playout delay of the adaptive jitter buffer",
		  .min = 20, .max = 2000),
	TND_PARAM("rtp_bridge", TND_ENUM, struct media_cfg, rtp_bridge,
		  "relay", "RTP to RTP: relay packets as they come, or play "
		  "them out through jitter buffers", .choices = "relay|jitter"),
	TND_PARAM("ec", TND_BOOL, struct media_cfg, ec, "yes",
		  "line echo canceller on TDM legs by default"),
	TND_PARAM("ec_tail_ms", TND_UINT, struct media_cfg, ec_tail_ms, "64",
		  "echo canceller tail, milliseconds", .min = 32, .max = 128),
	TND_PARAM("ec_nlp", TND_BOOL, struct media_cfg, ec_nlp, "yes",
		  "echo canceller non-linear processor and comfort noise"),
	TND_PARAM("latch", TND_BOOL, struct media_cfg, latch, "yes",
		  "send RTP where the peer's RTP comes from (NAT)"),
	TND_PARAM("rtp_timeout_s", TND_UINT, struct media_cfg, rtp_timeout_s,
		  "30", "report a leg with no RTP for this long; 0: never",
		  .max = 3600),
	TND_PARAM("rtcp_interval_ms", TND_UINT, struct media_cfg,
		  rtcp_interval_ms, "5000",
		  "RTCP report interval before randomisation (RFC 3550 6.2)",
		  .min = 500, .max = 60000),
	TND_PARAM("dtmf_pt", TND_UINT, struct media_cfg, dtmf_pt, "101",
		  "telephone-event payload type of echo lines", .min = 96,
		  .max = 127),
	TND_PARAM("dscp", TND_UINT, struct media_cfg, dscp, "46",
		  "DiffServ code point of RTP and RTCP (46: EF)", .max = 63),
	TND_PARAM("max_channels", TND_UINT, struct media_cfg, max_channels,
		  "4096", "channels open at most", .min = 1, .max = 65536),
	TND_PARAM("srtp_suites", TND_STR, struct media_cfg, srtp_suites,
		  "AES_CM_128_HMAC_SHA1_80 AES_CM_128_HMAC_SHA1_32 "
		  "AEAD_AES_128_GCM",
		  "SDES crypto suites we offer, best first"),
	TND_PARAM_END
};

/* A mistake in [media] the tables could not catch: "file:line: ..." */
static int config_error(const char *key, const char *what)
{
	const struct tnd_host_api *h = mp.host;

	if (h->size > offsetof(struct tnd_host_api, config_error) &&
	    h->config_error)
		return h->config_error("media", key, "%s", what);
	tnd_error("%s: %s", h->where("media", key), what);
	return -EINVAL;
}

/* The suites to offer, from srtp_suites. */
static int parse_suites(void)
{
	char *list = mp.cfg->srtp_suites;
	const char *p = list;

	mp.noffer = 0;
	while (*p) {
		size_t n = strcspn(p, " ,");
		unsigned s;

		for (s = 0; s < MEDIA_SRTP_SUITE_COUNT; s++) {
			const char *name = media_srtp_suite_name(s);

			if (strlen(name) == n && !strncasecmp(p, name, n))
				break;
		}
		if (s == MEDIA_SRTP_SUITE_COUNT)
			return config_error("srtp_suites",
					    "unknown SRTP suite in srtp_suites");
		if (mp.noffer < MEDIA_SRTP_SUITE_COUNT)
			mp.offer[mp.noffer++] = s;
		p += n;
		p += strspn(p, " ,");
	}
	return 0;
}

static int check_config(void)
{
	struct media_cfg *cfg = mp.cfg;

	if (cfg->rtp_port_min >= cfg->rtp_port_max)
		return config_error("rtp_port_max",
				    "rtp_port_max must be above rtp_port_min");
	if (cfg->jb_min_ms > cfg->jb_max_ms)
		return config_error("jb_min_ms",
				    "jb_min_ms must not exceed jb_max_ms");
	mp.relay_default = !strcmp(cfg->rtp_bridge, "relay");
	return parse_suites();
}

static int make_counters(void)
{
	struct tnd_plugin *self = MEDIA_SELF;

	mp.c_channels = mp.host->counter_new(self, "channels",
					     "media channels created");
	mp.c_frames = mp.host->counter_new(self, "frames",
					   "20 ms frames processed");
	mp.c_late = mp.host->counter_new(self, "late_frames",
					 "frames finished after their deadline");
	mp.c_rtp_rx = mp.host->counter_new(self, "rtp_rx",
					   "RTP packets received and accepted");
	mp.c_rtp_tx = mp.host->counter_new(self, "rtp_tx", "RTP packets sent");
	mp.c_srtp_fail = mp.host->counter_new(self, "srtp_fail",
					      "SRTP packets refused (auth, "
					      "replay)");
	mp.c_dtmf = mp.host->counter_new(self, "dtmf_tx",
					 "digits sent (events or tones)");
	return mp.c_channels && mp.c_frames && mp.c_late && mp.c_rtp_rx &&
			       mp.c_rtp_tx && mp.c_srtp_fail && mp.c_dtmf ?
		       0 :
		       -ENOMEM;
}

static int media_init(const struct tnd_host_api *host, void *config)
{
	int rc;

	memset(&mp, 0, sizeof(mp));
	mp.host = host;
	mp.cfg = config;
	rc = check_config();
	if (rc == 0)
		rc = media_net_setup();
	if (rc == 0)
		rc = make_counters();
	if (rc < 0)
		return rc;
	mp.alive = true;
	return host->service_register(MEDIA_SELF, MEDIA_SERVICE,
				      MEDIA_SERVICE_VERSION,
				      &media_service_table);
}

static int media_start(void)
{
	int rc = media_workers_start();

	if (rc < 0)
		return rc;
	/* a span driver, when loaded, started first ('uses') */
	mp.tdm = mp.host->service_get(TDM_SERVICE, 1);
	mp.running = true;
	tnd_info("RTP on %s ports %llu-%llu, SDP address %s", mp.cfg->rtp_address,
		 mp.cfg->rtp_port_min, mp.cfg->rtp_port_max, mp.sdp_addr);
	return 0;
}

/* Channels still open now are ours (echo lines) or were forgotten by
 * their owner: they stop, and the node waits for their workers. */
static int media_stop(void)
{
	struct media_chan *ch, *next;

	mp.running = false;
	for (ch = mp.chans; ch; ch = next) {
		next = ch->next;
		if (!ch->by_command && !ch->freeing)
			tnd_notice("channel %u (%s) still open at stop: "
				   "closing it", ch->id, ch->label);
		media_service_table.chan_free(ch);
	}
	if (!mp.chans)
		return 0;
	mp.stop_pending = true;
	return TND_STOP_PENDING;
}

static void media_fini(void)
{
	media_workers_stop();
	media_chans_free_all();
	media_dtls_ctx_free(mp.dtls_ctx);
	mp.dtls_ctx = NULL;
	media_srtp_library_fini();
	mp.alive = false;
}

static const struct tnd_service_ref media_provides[] = {
	{ MEDIA_SERVICE, MEDIA_SERVICE_VERSION },
	TND_SERVICE_END
};

/* A span driver, when loaded, starts before us and stops after us, so
 * our TDM legs close their bearer channels while it still runs. */
static const struct tnd_service_ref media_uses[] = {
	{ TDM_SERVICE, TDM_SERVICE_VERSION },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(media) = {
	TND_PLUGIN_HEADER,
	.name = "media",
	.version = "1.0",
	.description = "media plane: RTP/SRTP <-> TDM channels, transcoding, "
		       "echo cancelling, DTMF",
	.provides = media_provides,
	.params = media_params,
	.cfg_size = sizeof(struct media_cfg),
	.commands = media_commands,
	.init = media_init,
	.start = media_start,
	.stop = media_stop,
	.fini = media_fini,
	.uses = media_uses,
};
