/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcrf: the policy and charging rules function. Rx toward the P-CSCF
 * (pcrf_rx.c), Gx toward the PCEF (pcrf_gx.c), the Rx-Gx binding by UE
 * address (pcrf_sess.c), policies from the config (pcrf_policy.c), the
 * sessions in SQLite (pcrf_store.c), control commands (pcrf_cmd.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pcrf_int.h"

const struct tnd_host_api *pcrf_host;
const struct diameter_service *dia;
struct pcrf_cfg *pcrf_cfg;
struct pcrf_counters pcrf_cnt;

static struct tnd_turn *turn;
static struct tnd_timer *audit_timer;

static const struct tnd_param pcrf_params[] = {
	TND_PARAM("db_path", TND_STR, struct pcrf_cfg, db_path,
		  "/var/lib/tandem/pcrf.db",
		  "SQLite file of the sessions (made on start; a restart "
		  "keeps them)"),
	TND_PARAM("default_qci", TND_UINT, struct pcrf_cfg, default_qci, "5",
		  "QCI of the default bearer in CCA-I (5: IMS signalling; 9 "
		  "for an internet APN)",
		  .min = 1, .max = 255),
	TND_PARAM("default_arp", TND_UINT, struct pcrf_cfg, default_arp, "1",
		  "ARP Priority-Level of the default bearer", .min = 1,
		  .max = 15),
	TND_PARAM("apn_ambr_ul", TND_UINT, struct pcrf_cfg, apn_ambr_ul,
		  "50000000", "APN-AMBR uplink in CCA-I, bit/s", .min = 1,
		  .max = 4294967295.0),
	TND_PARAM("apn_ambr_dl", TND_UINT, struct pcrf_cfg, apn_ambr_dl,
		  "100000000", "APN-AMBR downlink in CCA-I, bit/s", .min = 1,
		  .max = 4294967295.0),
	TND_PARAM("codec_bitrates", TND_STR, struct pcrf_cfg, codec_bitrates,
		  "PCMU:80 PCMA:80 G722:80 G729:24 GSM:29 AMR:41 AMR-WB:49 "
		  "EVS:41 iLBC:31 opus:62 telephone-event:0 H264:384 VP8:384",
		  "bandwidth per codec with IP/UDP/RTP overhead, kbit/s, "
		  "when the AF gives no Max-Requested-Bandwidth"),
	TND_PARAM("rar_timeout_ms", TND_UINT, struct pcrf_cfg, rar_timeout_ms,
		  "3000", "time to wait for an RAA (PCEF or AF)", .min = 10,
		  .max = 600000),
	TND_PARAM("audit_interval_s", TND_UINT, struct pcrf_cfg,
		  audit_interval_s, "60",
		  "period of the audit of stale AF sessions (aborted, or "
		  "bound to no IP-CAN session)",
		  .min = 1, .max = 86400),
	TND_PARAM_END
};

static int make_counters(void)
{
	struct {
		struct tnd_counter **c;
		const char *name, *help;
	} list[] = {
		{ &pcrf_cnt.ccr_i, "ccr_initial", "Gx CCR-I (IP-CAN opened)" },
		{ &pcrf_cnt.ccr_u, "ccr_update", "Gx CCR-U" },
		{ &pcrf_cnt.ccr_t, "ccr_termination", "Gx CCR-T" },
		{ &pcrf_cnt.aar, "aar", "Rx AA requests" },
		{ &pcrf_cnt.str, "str", "Rx Session-Termination requests" },
		{ &pcrf_cnt.rar_gx, "rar_gx", "Gx RAR sent to the PCEF" },
		{ &pcrf_cnt.rar_rx, "rar_rx", "Rx RAR sent to the AF" },
		{ &pcrf_cnt.asr, "asr", "Rx ASR sent to the AF" },
		{ &pcrf_cnt.errors, "errors",
		  "requests answered with an error" },
		{ &pcrf_cnt.rule_failures, "rule_failures",
		  "PCC rules the PCEF reported failed or lost" },
		{ &pcrf_cnt.audited, "audited",
		  "stale AF sessions removed by the audit" },
	};

	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		*list[i].c = pcrf_host->counter_new(PCRF_SELF, list[i].name,
						    list[i].help);
		if (!*list[i].c)
			return -ENOMEM;
	}
	return 0;
}

static int pcrf_init(const struct tnd_host_api *api, void *config)
{
	pcrf_host = api;
	pcrf_cfg = config;
	dia = pcrf_host->service_get("diameter", DIAMETER_SERVICE_VERSION);
	if (!dia) {
		tnd_error("the diameter service is missing: load the diameter "
			  "plugin");
		return -ENOENT;
	}
	if (make_counters() || pcrf_policy_load())
		return -EINVAL;
	/* Handlers now: the applications are announced when the Diameter
	 * core starts, after every plugin's init. */
	if (pcrf_gx_register() || pcrf_rx_register()) {
		tnd_error("cannot register the Rx and Gx handlers");
		return -EINVAL;
	}
	return 0;
}

static void on_turn(struct tnd_turn *t, void *arg)
{
	(void)t, (void)arg;
	pcrf_store_flush();
}

/* ---- Audit of stale AF sessions ----------------------------------------- */

struct stale {
	struct pcrf_rx *rx[64];
	unsigned n;
};

static void find_stale(const char *key, void *value, void *arg)
{
	struct pcrf_rx *rx = value;
	struct stale *s = arg;
	uint64_t now = (uint64_t)time(NULL);

	(void)key;
	if (s->n == sizeof(s->rx) / sizeof(s->rx[0]))
		return;
	/* an ASR the AF never followed with an STR, or a session whose
	 * IP-CAN session is gone (e.g. closed while the PCRF was down) */
	if ((rx->aborting &&
	     now - rx->aborted_s >= pcrf_cfg->audit_interval_s) ||
	    !pcrf_gx_find(rx->gx_sid))
		s->rx[s->n++] = rx;
}

static void on_audit(struct tnd_timer *t, void *arg)
{
	struct stale s = { .n = 0 };

	(void)t, (void)arg;
	ims_hash_each(&pcrf_rx_by_sid, find_stale, &s);
	for (unsigned i = 0; i < s.n; i++) {
		struct pcrf_rx *rx = s.rx[i];

		if (!rx->aborting) { /* tell the AF first, drop it next time */
			pcrf_rx_send_asr(rx, RX_ABORT_BEARER_RELEASED);
			continue;
		}
		tnd_notice("audit: AF session %s removed (no STR after ASR)",
			   rx->sid);
		pcrf_host->counter_add(pcrf_cnt.audited, 1);
		pcrf_store_rx_del(rx->sid);
		pcrf_rx_remove(rx);
	}
}

static int pcrf_start(void)
{
	int rc = pcrf_store_open(pcrf_cfg->db_path);

	if (rc) {
		tnd_error("%s: cannot open the session store %s",
			  pcrf_host->where("pcrf", "db_path"),
			  pcrf_cfg->db_path);
		return rc;
	}
	rc = pcrf_store_load();
	if (rc) {
		tnd_error("cannot load the sessions of %s (%d)",
			  pcrf_cfg->db_path, rc);
		return rc;
	}
	turn = pcrf_host->turn_new(PCRF_SELF, on_turn, NULL);
	audit_timer = pcrf_host->timer_new(PCRF_SELF, on_audit, NULL);
	if (!turn || !audit_timer)
		return -ENOMEM;
	pcrf_host->timer_start(audit_timer, pcrf_cfg->audit_interval_s * 1000,
			       pcrf_cfg->audit_interval_s * 1000);
	tnd_notice("store %s: %zu IP-CAN sessions, %zu AF sessions, %u "
		   "policies",
		   pcrf_cfg->db_path, pcrf_gx_by_sid.count,
		   pcrf_rx_by_sid.count, pcrf_policy_count());
	return 0;
}

static int pcrf_stop(void)
{
	if (audit_timer)
		pcrf_host->timer_stop(audit_timer);
	pcrf_store_flush();
	return 0;
}

static void pcrf_fini(void)
{
	if (turn)
		pcrf_host->turn_free(turn);
	if (audit_timer)
		pcrf_host->timer_free(audit_timer);
	turn = NULL;
	audit_timer = NULL;
	pcrf_store_close();
	pcrf_sess_clear();
	pcrf_policy_free();
}

static const struct tnd_service_ref pcrf_requires[] = {
	{ "diameter", DIAMETER_SERVICE_VERSION }, TND_SERVICE_END
};

static const char *const pcrf_sections[] = { "policy", NULL };

TND_PLUGIN_DEFINE(pcrf) = {
	TND_PLUGIN_HEADER,
	.name = "pcrf",
	.version = "1.0",
	.description = "policy and charging rules function: Rx and Gx over "
		       "Diameter, QoS rules per media, SQLite sessions",
	.requires = pcrf_requires,
	.params = pcrf_params,
	.cfg_size = sizeof(struct pcrf_cfg),
	.commands = pcrf_commands,
	.sections = pcrf_sections,
	.init = pcrf_init,
	.start = pcrf_start,
	.stop = pcrf_stop,
	.fini = pcrf_fini,
};
