/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbc: a session border controller between an access realm (outside) and
 * a core realm (inside): a back-to-back user agent on the sip service's
 * dialog layer, with the media anchored through the media service. This
 * file is the plugin: parameters, the source guard in front of every
 * request, control commands and the life cycle. The calls are in
 * sbc_call.c, the SDP rewrite in sbc_sdp.c, the guard in sbc_guard.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sbc_int.h"

const struct tnd_host_api *sbc_host;
struct sbc_cfg *sbc_cfg;
const struct sip_service *sbc_sip;
const struct media_service *sbc_media;

static const struct tnd_param sbc_params[] = {
	TND_PARAM("core_next_hop", TND_STR, struct sbc_cfg, core_next_hop,
		  "udp:127.0.0.1:5070",
		  "where calls from the access realm go (proto:host:port)"),
	TND_PARAM("core_domain", TND_STR, struct sbc_cfg, core_domain,
		  "127.0.0.1:5070",
		  "host part of the Request-URI, From and To on the core side"),
	TND_PARAM("core_listen", TND_STR, struct sbc_cfg, core_listen, "",
		  "listeners of the core realm: new requests arriving on them "
		  "come from the core (\"udp:10.20.0.1:5060 tcp:10.20.0.1:5060\")"),
	TND_PARAM("core_sources", TND_STR, struct sbc_cfg, core_sources, "",
		  "addresses and prefixes of the core realm: new requests from "
		  "them come from the core (\"10.20.0.0/24\"); with neither "
		  "key only core_next_hop's address and port are the core"),
	TND_PARAM("access_domain", TND_STR, struct sbc_cfg, access_domain,
		  "", "host[:port] of From on the access side (calls from the "
		  "core); empty: the host of access_media_address, else the "
		  "SIP listener's"),
	TND_PARAM("failover_s", TND_UINT, struct sbc_cfg, failover_s, "4",
		  "a peer's destination that sent no provisional response "
		  "within this many seconds is given up for the next one",
		  .min = 1, .max = 60),
	TND_PARAM("nat_fixup", TND_ENUM, struct sbc_cfg, nat_fixup, "auto",
		  "requests in an access dialog go to the caller's source "
		  "address: auto (when its Contact names another), always, "
		  "off", .choices = "auto|always|off"),
	TND_PARAM("nat_expires", TND_UINT, struct sbc_cfg, nat_expires, "60",
		  "registration expiry given to devices, seconds (their "
		  "refreshes keep the NAT open)", .min = 10, .max = 86400),
	TND_PARAM("nat_ping_s", TND_UINT, struct sbc_cfg, nat_ping_s, "30",
		  "OPTIONS keep-alive to each registered device every so "
		  "many seconds; 0: none", .max = 86400),
	TND_PARAM("nat_ping_fails", TND_UINT, struct sbc_cfg, nat_ping_fails,
		  "3", "keep-alives unanswered in a row that drop a device",
		  .min = 1, .max = 100),
	TND_PARAM("max_registrations", TND_UINT, struct sbc_cfg,
		  max_registrations, "10000",
		  "device bindings held at most (503 beyond)", .min = 1,
		  .max = 1000000),
	TND_PARAM("core_contact", TND_STR, struct sbc_cfg, core_contact, "",
		  "HOST:PORT of our Contact in REGISTERs to the core; empty: "
		  "the listener of core_next_hop's transport"),
	TND_PARAM("access_media_address", TND_STR, struct sbc_cfg,
		  access_media_address, "",
		  "c= address of our SDP on the access side; empty: the "
		  "media service's sdp_address"),
	TND_PARAM("core_media_address", TND_STR, struct sbc_cfg,
		  core_media_address, "",
		  "c= address of our SDP on the core side; empty: the media "
		  "service's sdp_address"),
	TND_PARAM("access_srtp", TND_ENUM, struct sbc_cfg, access_srtp,
		  "optional", "media security asked of the access side: "
		  "optional (as offered; our offers plain), off (RTP only), "
		  "sdes or dtls (SRTP required; our offers SDES or DTLS-SRTP)",
		  .choices = "optional|off|sdes|dtls"),
	TND_PARAM("transcode", TND_BOOL, struct sbc_cfg, transcode, "yes",
		  "offers also carry the codecs the media service can "
		  "transcode to, so that sides with no codec in common talk"),
	TND_PARAM("rate_per_s", TND_UINT, struct sbc_cfg, rate_per_s, "200",
		  "requests per second allowed from one source address",
		  .min = 1, .max = 1000000),
	TND_PARAM("burst", TND_UINT, struct sbc_cfg, burst, "400",
		  "token bucket depth per source address", .min = 1,
		  .max = 1000000),
	TND_PARAM("max_calls", TND_UINT, struct sbc_cfg, max_calls, "10000",
		  "concurrent calls admitted", .min = 1, .max = 1000000),
	TND_PARAM("block_after", TND_UINT, struct sbc_cfg, block_after, "50",
		  "offences (requests over the rate) within a minute that "
		  "block a source", .min = 1, .max = 1000000),
	TND_PARAM("block_s", TND_UINT, struct sbc_cfg, block_s, "300",
		  "how long a source stays blocked, seconds", .min = 1,
		  .max = 86400),
	TND_PARAM("max_blocked", TND_UINT, struct sbc_cfg, max_blocked,
		  "1024", "sources held blocked at most (the block ending "
		  "first makes room)", .min = 1, .max = 1000000),
	TND_PARAM("auth_realm", TND_STR, struct sbc_cfg, auth_realm,
		  "sbc.tandem", "digest realm of the peers' authentication"),
	TND_PARAM("access_rules", TND_STR, struct sbc_cfg, access_rules, "",
		  "[sbc-rules NAME] of access peers that name none; empty: "
		  "untrusted, numbers untouched"),
	TND_PARAM("core_rules", TND_STR, struct sbc_cfg, core_rules, "",
		  "[sbc-rules NAME] of the core side (always trusted)"),
	TND_PARAM("blocked_destinations", TND_STR, struct sbc_cfg,
		  blocked_destinations, "",
		  "numbers no access caller may call (prefixes of the number "
		  "as it goes to the core): \"+882 +883 +979\"; 403"),
	TND_PARAM("home_country_code", TND_STR, struct sbc_cfg,
		  home_country_code, "",
		  "numbers not +CC... are international calls (counted, and "
		  "limited by a peer's intl_calls_per_min); empty: none are"),
	TND_PARAM_END
};

/* ---- The guard, in front of every new request -------------------------- */

static enum sip_verdict on_any_request(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sbc_sip->request_message(req);
	struct sip_text method = sbc_sip->method(m);
	char src[64];

	(void)arg;
	if (method.len == 3 && memcmp(method.ptr, "ACK", 3) == 0)
		return SIP_DECLINED; /* no transaction to answer */
	if (sbc_from_core(m))
		return SIP_DECLINED; /* the core's proxies carry all its users */
	sbc_source_addr(m, src, sizeof(src));
	switch (sbc_guard_check(src)) {
	case GUARD_PASS:
		return SIP_DECLINED;
	case GUARD_RATE:
		sbc_host->counter_add(sbc_count.limited, 1);
		sbc_guard_offence(src, "request rate");
		tnd_debug("%s over its rate, 503", src);
		sbc_sip->reply(req, 503, "Rate Limited", "Retry-After: 5\r\n",
			       NULL, NULL, 0);
		return SIP_TAKEN;
	case GUARD_BLOCKED:
		sbc_host->counter_add(sbc_count.refused, 1);
		sbc_sip->reply(req, 403, "Source Blocked", NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	return SIP_DECLINED;
}

/* ---- Control commands -------------------------------------------------- */

static const struct tnd_command sbc_commands[] = {
	{ "sbc show calls", NULL, "calls crossing the SBC",
	  sbc_cmd_show_calls },
	{ "sbc show peers", NULL, "access peers: ACL, limits, calls now",
	  sbc_cmd_show_peers },
	{ "sbc show devices", NULL,
	  "devices registered through the SBC: AoR, Contact, real source",
	  sbc_cmd_show_devices },
	{ "sbc show blocked", NULL, "sources blocked now, why and how long",
	  sbc_cmd_show_blocked },
	{ "sbc show rules", NULL, "normalisation rule sets: trust, numbers, "
	  "actions", sbc_cmd_show_rules },
	{ "sbc unblock", "ADDR", "lift the block of a source address",
	  sbc_cmd_unblock },
	{ "sbc show registrations", NULL,
	  "registrations with providers: state, expiry, last status",
	  sbc_cmd_show_registrations },
	TND_COMMAND_END
};

/* ---- Life cycle --------------------------------------------------------- */

static int sbc_init(const struct tnd_host_api *api, void *config)
{
	struct {
		struct tnd_counter **c;
		const char *name, *help;
	} counters[] = {
		{ &sbc_count.calls, "calls", "calls admitted" },
		{ &sbc_count.limited, "rate_limited",
		  "requests refused by the source rate" },
		{ &sbc_count.failed, "calls_failed",
		  "calls the core side refused" },
		{ &sbc_count.blocked, "sources_blocked",
		  "sources blocked automatically" },
		{ &sbc_count.refused, "requests_refused",
		  "requests refused (blocked source, no media, bad SDP)" },
		{ &sbc_count.media_timeouts, "media_timeouts",
		  "calls ended because RTP stopped" },
		{ &sbc_count.relayed, "relayed_packets",
		  "RTP packets sent by ended calls' media channels" },
		{ &sbc_count.calls_out, "calls_to_access",
		  "calls from the core admitted towards an access peer" },
		{ &sbc_count.failovers, "failovers",
		  "calls moved on to a peer's next destination" },
		{ &sbc_count.dest_blocked, "destinations_blocked",
		  "access calls refused for a blocked destination" },
		{ &sbc_count.calls_intl, "calls_international",
		  "access calls admitted to international numbers" },
		{ &sbc_count.fraud_alarms, "fraud_alarms",
		  "access calls refused over a peer's intl_calls_per_min" },
	};

	sbc_host = api;
	sbc_cfg = config;
	/* core Call-IDs must not repeat across restarts (RFC 3261 8.1.1.4) */
	srandom((unsigned)time(NULL) ^ ((unsigned)getpid() << 16));
	sbc_auth_init();
	if (sbc_reg_init() < 0)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		*counters[i].c = sbc_host->counter_new(SBC_SELF,
						       counters[i].name,
						       counters[i].help);
		if (!*counters[i].c)
			return -ENOMEM;
	}
	if (sbc_norm_load() < 0 || sbc_peers_load() < 0)
		return -EINVAL;
	if (sbc_route_init() < 0)
		return -EINVAL;
	return sbc_trunk_init();
}

static int sbc_start(void)
{
	sbc_sip = sbc_host->service_get(SIP_SERVICE_NAME, SIP_SERVICE_VERSION);
	sbc_media = sbc_host->service_get(MEDIA_SERVICE, MEDIA_SERVICE_VERSION);
	if (!sbc_sip || !sbc_media) {
		tnd_error("the sip and media services are needed");
		return -ENOENT;
	}
	if (sbc_sip->handler_add(NULL, SIP_HANDLER_CLAIM, NULL, on_any_request,
				 NULL) < 0)
		return -ENOMEM;
	if (sbc_route_start() < 0)
		return -ENOTSUP;
	if (sbc_reg_start() < 0)
		return -ENOMEM;
	if (sbc_call_start() < 0)
		return -ENOMEM;
	if (sbc_trunk_start() < 0)
		return -EINVAL;
	tnd_info("access calls go to %s", sbc_cfg->core_next_hop);
	return 0;
}

static int sbc_stop(void)
{
	if (sbc_sip) {
		sbc_sip->handler_remove(on_any_request, NULL);
		sbc_call_stop();
		sbc_reg_stop();
	}
	sbc_guard_reset();
	return sbc_trunk_stop();
}

static void sbc_fini(void)
{
	sbc_route_fini();
	sbc_peers_unload();
	sbc_norm_unload();
}

static const char *const sbc_sections[] = { "sbc-peer", "sbc-rules", NULL };

static const struct tnd_service_ref sbc_requires[] = {
	{ "sip", 1 }, { "media", 1 }, TND_SERVICE_END
};

TND_PLUGIN_DEFINE(sbc) = {
	TND_PLUGIN_HEADER,
	.name = "sbc",
	.version = "0.2",
	.description = "session border controller: a B2BUA that hides the "
		       "core's topology, anchors media and guards sources",
	.requires = sbc_requires,
	.params = sbc_params,
	.cfg_size = sizeof(struct sbc_cfg),
	.commands = sbc_commands,
	.sections = sbc_sections,
	.init = sbc_init,
	.start = sbc_start,
	.stop = sbc_stop,
	.fini = sbc_fini,
};
