/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcef: a packet gateway on Gx (TS 29.212), for the lab and the tests. It
 * opens IP-CAN sessions for UE addresses (CCR-I), keeps the PCC rules the
 * PCRF installs and removes (RAR -> RAA) and logs each, reports the loss
 * of a bearer (CCR-U with a Charging-Rule-Report) and closes sessions
 * (CCR-T). No packet is forwarded: it only plays the signalling.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tandem/diameter.h"
#include "tandem/plugin.h"

#include "ims_hash.h"

#define TND_LOG_HOST host
#define TND_LOG_CATEGORY "pcef"

TND_PLUGIN_DECLARE(pcef);
#define SELF (&TND_PLUGIN_SYMBOL(pcef))

#define PCEF_MAX_RULES 16
#define RULE_STATUS_INACTIVE 1
#define RULE_FAILURE_RESOURCE_ALLOCATION 10 /* TS 29.212 5.3.38 */

struct pcef_cfg {
	char *pcrf_host;
	char *pcrf_realm;
	char *apn;
	int refuse_rules;
};

struct pcef_rule {
	char name[64];
	uint32_t qci, arp, mbr_ul, mbr_dl, gbr_ul, gbr_dl, flow_status;
	unsigned nflows;
	char flow[160]; /* the first Flow-Description */
};

enum ue_state { UE_OPENING, UE_OPEN, UE_FAILED, UE_CLOSING };

struct pcef_ue {
	char addr[48];
	char sid[256];
	enum ue_state state;
	uint32_t default_qci, result, ccr_number;
	unsigned nrules;
	struct pcef_rule rules[PCEF_MAX_RULES];
};

static const struct tnd_host_api *host;
static const struct diameter_service *dia;
static struct pcef_cfg *cfg;
static struct ims_hash by_addr, by_sid;
static struct {
	unsigned long opened, failed, rar, installed, removed, reports;
} stats;

static const struct tnd_param pcef_params[] = {
	TND_PARAM("pcrf_host", TND_STR, struct pcef_cfg, pcrf_host, "",
		  "Destination-Host of the CCRs (empty: route by realm)"),
	TND_PARAM("pcrf_realm", TND_STR, struct pcef_cfg, pcrf_realm, "",
		  "Destination-Realm (empty: this node's realm)"),
	TND_PARAM("apn", TND_STR, struct pcef_cfg, apn, "ims",
		  "Called-Station-Id (APN) of the IP-CAN sessions"),
	TND_PARAM("refuse_rules", TND_BOOL, struct pcef_cfg, refuse_rules, "no",
		  "report every rule to install as failed (Charging-Rule-"
		  "Report in the RAA), as a gateway out of resources"),
	TND_PARAM_END
};

static struct dia_msg *ccr(const struct pcef_ue *ue, uint32_t type,
			   uint32_t number)
{
	struct dia_msg *req = dia->request_new(
		DIA_APP_GX, DIA_CMD_CCR, ue->sid[0] ? ue->sid : NULL,
		cfg->pcrf_realm[0] ? cfg->pcrf_realm : NULL,
		cfg->pcrf_host[0] ? cfg->pcrf_host : NULL);

	if (!req)
		return NULL;
	dia->add_u32(dia->root(req), "CC-Request-Type", type);
	dia->add_u32(dia->root(req), "CC-Request-Number", number);
	return req;
}

static void on_cca(struct dia_msg *ans, int status, void *arg)
{
	struct pcef_ue *ue = arg;
	uint32_t vendor = 0, code = 0;
	struct dia_avp *q;

	if (ans)
		dia->result(ans, &vendor, &code);
	ue->result = code;
	if (ue->state == UE_CLOSING) {
		tnd_info("IP-CAN session of %s closed (%u)", ue->addr, code);
		ims_hash_del(&by_sid, ue->sid);
		ims_hash_del(&by_addr, ue->addr);
		free(ue);
		return;
	}
	if (!ans || code != DIA_SUCCESS) {
		ue->state = UE_FAILED;
		stats.failed++;
		tnd_notice("CCA-I for %s: %u (status %d)", ue->addr, code,
			   status);
		return;
	}
	q = dia->find(dia->root(ans), "Default-EPS-Bearer-QoS");
	if (q)
		dia->find_u32(q, "QoS-Class-Identifier", &ue->default_qci);
	ue->state = UE_OPEN;
	stats.opened++;
	tnd_info("IP-CAN session %s open for UE %s, default bearer QCI %u",
		 ue->sid, ue->addr, ue->default_qci);
}

static int add_address(struct dia_msg *req, const char *addr)
{
	struct in_addr v4;
	uint8_t v6[18] = { 0, 64 };

	if (inet_pton(AF_INET, addr, &v4) == 1)
		return dia->add_str(dia->root(req), "Framed-IP-Address", &v4,
				    4);
	if (inet_pton(AF_INET6, addr, v6 + 2) == 1)
		return dia->add_str(dia->root(req), "Framed-IPv6-Prefix", v6,
				    10);
	return -EINVAL;
}

static int open_one(const char *addr)
{
	struct pcef_ue *ue;
	struct dia_msg *req;
	struct dia_msg_info mi;

	if (ims_hash_get(&by_addr, addr))
		return -EEXIST;
	ue = calloc(1, sizeof(*ue));
	if (!ue)
		return -ENOMEM;
	snprintf(ue->addr, sizeof(ue->addr), "%s", addr);
	req = ccr(ue, 1, 0);
	if (!req || add_address(req, addr)) {
		if (req)
			dia->msg_free(req);
		free(ue);
		return -EINVAL;
	}
	dia->add_str(dia->root(req), "Called-Station-Id", cfg->apn, (size_t)-1);
	dia->msg_info(req, &mi);
	snprintf(ue->sid, sizeof(ue->sid), "%.*s", (int)mi.session_id_len,
		 (const char *)mi.session_id);
	if (ims_hash_put(&by_addr, ue->addr, ue) ||
	    ims_hash_put(&by_sid, ue->sid, ue)) {
		ims_hash_del(&by_addr, ue->addr);
		dia->msg_free(req);
		free(ue);
		return -ENOMEM;
	}
	if (dia->send(req, 0, on_cca, ue)) {
		ims_hash_del(&by_addr, ue->addr);
		ims_hash_del(&by_sid, ue->sid);
		free(ue);
		return -EIO;
	}
	return 0;
}

/* ---- RAR from the PCRF -------------------------------------------------- */

static struct pcef_rule *rule_find(struct pcef_ue *ue, const char *name)
{
	for (unsigned i = 0; i < ue->nrules; i++)
		if (strcmp(ue->rules[i].name, name) == 0)
			return &ue->rules[i];
	return NULL;
}

static void rule_remove(struct pcef_ue *ue, const char *name)
{
	struct pcef_rule *r = rule_find(ue, name);

	if (!r)
		return;
	*r = ue->rules[--ue->nrules];
	stats.removed++;
	tnd_info("UE %s: rule %s removed", ue->addr, name);
}

static void read_qos(struct dia_avp *def, struct pcef_rule *r)
{
	struct dia_avp *q = dia->find(def, "QoS-Information"), *arp;

	if (!q)
		return;
	dia->find_u32(q, "QoS-Class-Identifier", &r->qci);
	dia->find_u32(q, "Max-Requested-Bandwidth-UL", &r->mbr_ul);
	dia->find_u32(q, "Max-Requested-Bandwidth-DL", &r->mbr_dl);
	dia->find_u32(q, "Guaranteed-Bitrate-UL", &r->gbr_ul);
	dia->find_u32(q, "Guaranteed-Bitrate-DL", &r->gbr_dl);
	arp = dia->find(q, "Allocation-Retention-Priority");
	if (arp)
		dia->find_u32(arp, "Priority-Level", &r->arp);
}

static void read_flows(struct dia_avp *def, struct pcef_rule *r)
{
	for (struct dia_avp *fi = dia->find(def, "Flow-Information"); fi;
	     fi = dia->find_next(fi)) {
		if (r->nflows++ == 0)
			dia->find_str(fi, "Flow-Description", r->flow,
				      sizeof(r->flow));
	}
}

/* One Charging-Rule-Definition: 0, or -ENOENT without a name. */
static int rule_install(struct pcef_ue *ue, struct dia_avp *def)
{
	struct pcef_rule r = { .flow_status = 2 }, *slot;

	if (dia->find_str(def, "Charging-Rule-Name", r.name, sizeof(r.name)))
		return -ENOENT;
	dia->find_u32(def, "Flow-Status", &r.flow_status);
	read_qos(def, &r);
	read_flows(def, &r);
	slot = rule_find(ue, r.name);
	if (!slot && ue->nrules == PCEF_MAX_RULES)
		return -ENOSPC;
	if (!slot)
		slot = &ue->rules[ue->nrules++];
	*slot = r;
	stats.installed++;
	tnd_info("UE %s: rule %s installed: QCI %u ARP %u MBR %u/%u GBR "
		 "%u/%u flow-status %u, %u flows (%s)",
		 ue->addr, r.name, r.qci, r.arp, r.mbr_ul, r.mbr_dl, r.gbr_ul,
		 r.gbr_dl, r.flow_status, r.nflows, r.flow);
	return 0;
}

static void report_failed(struct dia_msg *ans, struct dia_avp *install)
{
	struct dia_avp *rep =
		dia->add_group(dia->root(ans), "Charging-Rule-Report");

	if (!rep)
		return;
	for (struct dia_avp *def =
		     dia->find(install, "Charging-Rule-Definition");
	     def; def = dia->find_next(def)) {
		char name[64];

		if (dia->find_str(def, "Charging-Rule-Name", name,
				  sizeof(name)) == 0)
			dia->add_str(rep, "Charging-Rule-Name", name,
				     (size_t)-1);
	}
	dia->add_u32(rep, "PCC-Rule-Status", RULE_STATUS_INACTIVE);
	dia->add_u32(rep, "Rule-Failure-Code",
		     RULE_FAILURE_RESOURCE_ALLOCATION);
}

static int on_rar(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	struct dia_msg_info mi;
	struct pcef_ue *ue;
	char sid[256];
	struct dia_avp *avp;

	(void)arg;
	stats.rar++;
	dia->msg_info(req, &mi);
	snprintf(sid, sizeof(sid), "%.*s", (int)mi.session_id_len,
		 mi.session_id ? (const char *)mi.session_id : "");
	ue = ims_hash_get(&by_sid, sid);
	if (!ue)
		return 5002; /* DIAMETER_UNKNOWN_SESSION_ID */
	for (avp = dia->find(dia->root(req), "Charging-Rule-Remove"); avp;
	     avp = dia->find_next(avp))
		for (struct dia_avp *n = dia->find(avp, "Charging-Rule-Name");
		     n; n = dia->find_next(n)) {
			char name[64];
			const uint8_t *v;
			size_t len;

			if (dia->get_str(n, &v, &len) == 0 &&
			    len < sizeof(name)) {
				snprintf(name, sizeof(name), "%.*s", (int)len,
					 v);
				rule_remove(ue, name);
			}
		}
	for (avp = dia->find(dia->root(req), "Charging-Rule-Install"); avp;
	     avp = dia->find_next(avp)) {
		if (cfg->refuse_rules) {
			report_failed(ans, avp);
			tnd_notice("UE %s: rules refused", ue->addr);
			continue;
		}
		for (struct dia_avp *def =
			     dia->find(avp, "Charging-Rule-Definition");
		     def; def = dia->find_next(def))
			rule_install(ue, def);
	}
	return DIA_SUCCESS;
}

/* ---- Control commands --------------------------------------------------- */

/* ADDR, and COUNT-1 following IPv4 addresses. */
static int cmd_open(struct tnd_reply *r, int argc, char **argv)
{
	struct in_addr a;
	unsigned long count = argc > 1 ? strtoul(argv[1], NULL, 10) : 1;
	unsigned ok = 0;

	if (argc < 1 || argc > 2 || count == 0 || count > 100000)
		return host->reply_error(r, "usage: pcef open ADDR [COUNT]");
	if (inet_pton(AF_INET, argv[0], &a) != 1) {
		if (open_one(argv[0]))
			return host->reply_error(r, "cannot open %s", argv[0]);
		host->reply_text(r, "opening 1\n");
		return 0;
	}
	for (unsigned long i = 0; i < count; i++) {
		char addr[16];
		struct in_addr n = { htonl(ntohl(a.s_addr) + (uint32_t)i) };

		inet_ntop(AF_INET, &n, addr, sizeof(addr));
		ok += open_one(addr) == 0;
	}
	host->reply_text(r, "opening %u\n", ok);
	return 0;
}

static struct pcef_ue *ue_arg(struct tnd_reply *r, const char *addr)
{
	struct pcef_ue *ue = ims_hash_get(&by_addr, addr);

	if (!ue || ue->state != UE_OPEN) {
		host->reply_error(r, "no open IP-CAN session for %s", addr);
		return NULL;
	}
	return ue;
}

static uint32_t next_number(struct pcef_ue *ue)
{
	return ++ue->ccr_number;
}

static int cmd_close(struct tnd_reply *r, int argc, char **argv)
{
	struct pcef_ue *ue;
	struct dia_msg *req;

	if (argc != 1)
		return host->reply_error(r, "usage: pcef close ADDR");
	if (!(ue = ue_arg(r, argv[0])))
		return -ENOENT;
	req = ccr(ue, 3, next_number(ue));
	if (!req)
		return host->reply_error(r, "out of memory");
	dia->add_u32(dia->root(req), "Termination-Cause", 1);
	ue->state = UE_CLOSING;
	if (dia->send(req, 0, on_cca, ue))
		return host->reply_error(r, "cannot send the CCR-T");
	host->reply_text(r, "closing %s\n", ue->addr);
	return 0;
}

static void on_ccau(struct dia_msg *ans, int status, void *arg)
{
	uint32_t vendor = 0, code = 0;

	(void)arg;
	if (ans)
		dia->result(ans, &vendor, &code);
	tnd_info("CCA-U: %u (status %d)", code, status);
}

/* The bearer of RULE (or of every dedicated rule) is lost. */
static int cmd_lose(struct tnd_reply *r, int argc, char **argv)
{
	struct pcef_ue *ue;
	struct dia_msg *req;
	struct dia_avp *rep;
	unsigned n = 0;

	if (argc < 1 || argc > 2)
		return host->reply_error(r, "usage: pcef lose ADDR [RULE]");
	if (!(ue = ue_arg(r, argv[0])))
		return -ENOENT;
	req = ccr(ue, 2, next_number(ue));
	rep = req ? dia->add_group(dia->root(req), "Charging-Rule-Report")
		  : NULL;
	if (!rep) {
		if (req)
			dia->msg_free(req);
		return host->reply_error(r, "out of memory");
	}
	for (unsigned i = ue->nrules; i-- > 0;) {
		if (argc == 2 && strcmp(ue->rules[i].name, argv[1]))
			continue;
		dia->add_str(rep, "Charging-Rule-Name", ue->rules[i].name,
			     (size_t)-1);
		tnd_notice("UE %s: bearer of rule %s lost", ue->addr,
			   ue->rules[i].name);
		ue->rules[i] = ue->rules[--ue->nrules];
		n++;
	}
	dia->add_u32(rep, "PCC-Rule-Status", RULE_STATUS_INACTIVE);
	dia->add_u32(rep, "Rule-Failure-Code",
		     RULE_FAILURE_RESOURCE_ALLOCATION);
	stats.reports++;
	if (dia->send(req, 0, on_ccau, NULL))
		return host->reply_error(r, "cannot send the CCR-U");
	host->reply_text(r, "reported %u rules lost\n", n);
	return 0;
}

/* An event of the IP-CAN session (TS 29.212 5.3.7 Event-Trigger). */
static int cmd_event(struct tnd_reply *r, int argc, char **argv)
{
	struct pcef_ue *ue;
	struct dia_msg *req;

	if (argc != 2)
		return host->reply_error(r, "usage: pcef event ADDR TRIGGER");
	if (!(ue = ue_arg(r, argv[0])))
		return -ENOENT;
	req = ccr(ue, 2, next_number(ue));
	if (!req)
		return host->reply_error(r, "out of memory");
	dia->add_u32(dia->root(req), "Event-Trigger",
		     (uint32_t)strtoul(argv[1], NULL, 10));
	if (dia->send(req, 0, on_ccau, NULL))
		return host->reply_error(r, "cannot send the CCR-U");
	host->reply_text(r, "reported event %s\n", argv[1]);
	return 0;
}

static void show_ue(const char *key, void *value, void *arg)
{
	const struct pcef_ue *ue = value;
	static const char *const states[] = { "opening", "open", "failed",
					      "closing" };

	(void)key;
	host->reply_record(arg);
	host->reply_field(arg, "ue", "%s", ue->addr);
	host->reply_field(arg, "state", "%s", states[ue->state]);
	host->reply_field_num(arg, "default_qci", ue->default_qci);
	host->reply_field_num(arg, "rules", ue->nrules);
	host->reply_field(arg, "session", "%s", ue->sid);
}

static int cmd_show(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	if (by_addr.count > 50) { /* the benchmark's thousands: counts */
		host->reply_field_num(r, "sessions", (long long)by_addr.count);
	} else {
		ims_hash_each(&by_addr, show_ue, r);
	}
	return 0;
}

static int cmd_stats(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	host->reply_field_num(r, "sessions", (long long)by_addr.count);
	host->reply_field_num(r, "opened", (long long)stats.opened);
	host->reply_field_num(r, "failed", (long long)stats.failed);
	host->reply_field_num(r, "rar", (long long)stats.rar);
	host->reply_field_num(r, "installed", (long long)stats.installed);
	host->reply_field_num(r, "removed", (long long)stats.removed);
	host->reply_field_num(r, "reports", (long long)stats.reports);
	return 0;
}

static int cmd_rules(struct tnd_reply *r, int argc, char **argv)
{
	struct pcef_ue *ue;

	if (argc != 1)
		return host->reply_error(r, "usage: pcef show rules ADDR");
	if (!(ue = ue_arg(r, argv[0])))
		return -ENOENT;
	for (unsigned i = 0; i < ue->nrules; i++) {
		const struct pcef_rule *ru = &ue->rules[i];

		host->reply_record(r);
		host->reply_field(r, "rule", "%s", ru->name);
		host->reply_field_num(r, "qci", ru->qci);
		host->reply_field_num(r, "arp", ru->arp);
		host->reply_field_num(r, "mbr_ul", ru->mbr_ul);
		host->reply_field_num(r, "mbr_dl", ru->mbr_dl);
		host->reply_field_num(r, "gbr_ul", ru->gbr_ul);
		host->reply_field_num(r, "gbr_dl", ru->gbr_dl);
		host->reply_field_num(r, "flows", ru->nflows);
		host->reply_field(r, "flow", "%s", ru->flow);
	}
	if (!ue->nrules)
		host->reply_text(r, "no rules\n");
	return 0;
}

static int cmd_refuse(struct tnd_reply *r, int argc, char **argv)
{
	if (argc != 1 || (strcmp(argv[0], "yes") && strcmp(argv[0], "no")))
		return host->reply_error(r, "usage: pcef refuse yes|no");
	cfg->refuse_rules = strcmp(argv[0], "yes") == 0;
	host->reply_text(r, "refuse %s\n", argv[0]);
	return 0;
}

static const struct tnd_command pcef_commands[] = {
	{ "pcef open", "ADDR [COUNT]",
	  "open IP-CAN sessions (CCR-I) for ADDR and the COUNT-1 next",
	  cmd_open },
	{ "pcef close", "ADDR", "close the IP-CAN session (CCR-T)", cmd_close },
	{ "pcef lose", "ADDR [RULE]",
	  "report the bearer of RULE (default: all rules) lost (CCR-U)",
	  cmd_lose },
	{ "pcef event", "ADDR TRIGGER",
	  "report an Event-Trigger (2 RAT change, 7 IP-CAN change) in a "
	  "CCR-U",
	  cmd_event },
	{ "pcef show rules", "ADDR", "the rules installed for a UE",
	  cmd_rules },
	{ "pcef show", NULL, "IP-CAN sessions", cmd_show },
	{ "pcef stats", NULL, "message and rule counts", cmd_stats },
	{ "pcef refuse", "yes|no", "refuse the rules of the next RARs",
	  cmd_refuse },
	TND_COMMAND_END
};

static int pcef_init(const struct tnd_host_api *api, void *config)
{
	host = api;
	cfg = config;
	dia = host->service_get("diameter", DIAMETER_SERVICE_VERSION);
	if (!dia) {
		tnd_error("the diameter service is missing");
		return -ENOENT;
	}
	return dia->handle(SELF, DIA_APP_GX, DIA_CMD_RAR, on_rar, NULL);
}

static int pcef_start(void)
{
	return 0;
}

static int pcef_stop(void)
{
	return 0;
}

static void free_ue(const char *key, void *value, void *arg)
{
	(void)key, (void)arg;
	free(value);
}

static void pcef_fini(void)
{
	ims_hash_each(&by_addr, free_ue, NULL);
	ims_hash_clear(&by_addr);
	ims_hash_clear(&by_sid);
}

static const struct tnd_service_ref pcef_requires[] = {
	{ "diameter", DIAMETER_SERVICE_VERSION }, TND_SERVICE_END
};

TND_PLUGIN_DEFINE(pcef) = {
	TND_PLUGIN_HEADER,
	.name = "pcef",
	.version = "1.0",
	.description = "a packet gateway on Gx for the lab and tests: IP-CAN "
		       "sessions, rules received, bearer loss",
	.requires = pcef_requires,
	.params = pcef_params,
	.cfg_size = sizeof(struct pcef_cfg),
	.commands = pcef_commands,
	.init = pcef_init,
	.start = pcef_start,
	.stop = pcef_stop,
	.fini = pcef_fini,
};
