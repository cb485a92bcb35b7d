/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hss: the home subscriber server. Subscribers live in SQLite
 * (hss_store.c); the Cx server (hss_cx.c) and the Sh server (hss_sh.c)
 * answer over the node's Diameter identity (the diameter plugin);
 * tandemctl provisions (hss_prov.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hss_int.h"

const struct tnd_host_api *hss_host;
const struct diameter_service *dia;
struct hss_cfg *hss_cfg;
struct hss_store *hss_db;
struct hss_counters hss_cnt;

static const struct tnd_param hss_params[] = {
	TND_PARAM("db_path", TND_STR, struct hss_cfg, db_path,
		  "/var/lib/tandem/hss.db",
		  "SQLite file of the subscriber store (made and migrated on "
		  "start)"),
	TND_PARAM("home_networks", TND_STR, struct hss_cfg, home_networks, "",
		  "Visited-Network-Identifiers that are home (empty: the "
		  "Diameter realm); others need roaming=yes"),
	TND_PARAM("scscf_names", TND_STR, struct hss_cfg, scscf_names, "",
		  "S-CSCF SIP URIs offered in Server-Capabilities when none "
		  "is assigned (space separated)"),
	TND_PARAM("digest_realm", TND_STR, struct hss_cfg, digest_realm, "",
		  "realm of SIP Digest HA1 (empty: the Diameter realm)"),
	TND_PARAM("max_vectors", TND_UINT, struct hss_cfg, max_vectors, "5",
		  "most AKA vectors in one MAA", .min = 1, .max = 32),
	TND_PARAM("sqn_step", TND_UINT, struct hss_cfg, sqn_step, "32",
		  "SQN increment per vector: 2^IND, TS 33.102 C.1.1 (IND of "
		  "5 bits)",
		  .min = 1, .max = 65536),
	TND_PARAM("rtr_on_delete", TND_BOOL, struct hss_cfg, rtr_on_delete,
		  "yes", "send an RTR when a registered subscriber is deleted"),
	TND_PARAM("res_without_nul", TND_BOOL, struct hss_cfg, res_without_nul,
		  "yes",
		  "draw another RAND when XRES would hold a zero byte (peers "
		  "that treat RES as a C string fail on it)"),
	TND_PARAM("charging_ccf", TND_STR, struct hss_cfg, charging_ccf, "",
		  "Charging-Information in SAA: primary and secondary "
		  "Charging Collection Function (DiameterURIs, space "
		  "separated; empty: none)"),
	TND_PARAM("charging_ecf", TND_STR, struct hss_cfg, charging_ecf, "",
		  "Charging-Information in SAA: primary and secondary Event "
		  "Charging Function (DiameterURIs, space separated)"),
	TND_PARAM_END
};

static int make_counters(void)
{
	struct {
		struct tnd_counter **c;
		const char *name, *help;
	} list[] = {
		{ &hss_cnt.uar, "uar", "Cx User-Authorization requests" },
		{ &hss_cnt.mar, "mar", "Cx Multimedia-Auth requests" },
		{ &hss_cnt.sar, "sar", "Cx Server-Assignment requests" },
		{ &hss_cnt.lir, "lir", "Cx Location-Info requests" },
		{ &hss_cnt.udr, "udr", "Sh User-Data requests" },
		{ &hss_cnt.pur, "pur", "Sh Profile-Update requests" },
		{ &hss_cnt.snr, "snr", "Sh Subscribe-Notifications requests" },
		{ &hss_cnt.vectors, "vectors", "AKA vectors made" },
		{ &hss_cnt.resyncs, "resyncs", "AUTS re-synchronisations" },
		{ &hss_cnt.errors, "errors",
		  "requests answered with an error" },
		{ &hss_cnt.rtr, "rtr",
		  "Registration-Termination requests sent" },
		{ &hss_cnt.ppr, "ppr", "Push-Profile requests sent" },
		{ &hss_cnt.pnr, "pnr", "Push-Notification requests sent" },
		{ &hss_cnt.commits, "group_commits",
		  "transactions that grouped the changes of a loop turn" },
	};

	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		*list[i].c = hss_host->counter_new(HSS_SELF, list[i].name,
						   list[i].help);
		if (!*list[i].c)
			return -ENOMEM;
	}
	return 0;
}

static int hss_init(const struct tnd_host_api *api, void *config)
{
	hss_host = api;
	hss_cfg = config;
	dia = hss_host->service_get("diameter", DIAMETER_SERVICE_VERSION);
	if (!dia) {
		tnd_error("the diameter service is missing: load the diameter "
			  "plugin");
		return -ENOENT;
	}
	if (make_counters())
		return -ENOMEM;
	/* Handlers now: the applications are announced when the Diameter
	 * core starts, after every plugin's init. */
	if (hss_cx_register() || hss_sh_register()) {
		tnd_error("cannot register the Cx and Sh handlers");
		return -EINVAL;
	}
	return 0;
}

static int hss_start(void)
{
	int rc = hss_store_open(hss_cfg->db_path, &hss_db);
	long impis = 0, impus = 0, regs = 0;

	if (rc) {
		tnd_error("%s: cannot open the subscriber store %s (%d)",
			  hss_host->where("hss", "db_path"), hss_cfg->db_path,
			  rc);
		return rc;
	}
	rc = hss_batch_start();
	if (rc)
		return rc;
	hss_store_counts(hss_db, &impis, &impus, &regs);
	tnd_notice("store %s, schema %d: %ld IMPIs, %ld IMPUs, %ld registered",
		   hss_cfg->db_path, hss_store_version(hss_db), impis, impus,
		   regs);
	return 0;
}

static int hss_stop(void)
{
	hss_batch_stop(); /* commits and answers what the last turn kept */
	return 0;
}

static void hss_fini(void)
{
	hss_sh_fini();
	hss_store_close(hss_db);
	hss_db = NULL;
}

static const struct tnd_service_ref hss_requires[] = {
	{ "diameter", DIAMETER_SERVICE_VERSION }, TND_SERVICE_END
};

TND_PLUGIN_DEFINE(hss) = {
	TND_PLUGIN_HEADER,
	.name = "hss",
	.version = "1.0",
	.description = "home subscriber server: Cx and Sh over Diameter, "
		       "SQLite subscribers, Milenage AKA",
	.requires = hss_requires,
	.params = hss_params,
	.cfg_size = sizeof(struct hss_cfg),
	.commands = hss_commands,
	.init = hss_init,
	.start = hss_start,
	.stop = hss_stop,
	.fini = hss_fini,
};
