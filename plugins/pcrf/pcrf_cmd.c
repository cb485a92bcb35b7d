/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcrf_cmd.c - control commands: `pcrf show sessions`, `pcrf show rules
 * SESSION` (an Rx or a Gx Session-Id), `pcrf show policies`.
 */
#include <stdio.h>
#include <string.h>

#include "pcrf_int.h"

struct walk {
	struct tnd_reply *reply;
	const char *gx_sid; /* rules: only the Rx sessions bound to it */
	unsigned n;
};

static void show_gx(const char *key, void *value, void *arg)
{
	const struct pcrf_gx *gx = value;
	struct walk *w = arg;

	(void)key;
	pcrf_host->reply_record(w->reply);
	pcrf_host->reply_field(w->reply, "session", "%s", gx->sid);
	pcrf_host->reply_field(w->reply, "type", "gx");
	pcrf_host->reply_field(w->reply, "peer", "%s", gx->pcef_host);
	pcrf_host->reply_field(w->reply, "ue", "%s%s%s", gx->ipv4,
			       gx->ipv4[0] && gx->ipv6[0] ? " " : "", gx->ipv6);
	pcrf_host->reply_field(w->reply, "binding", "apn=%s",
			       gx->apn[0] ? gx->apn : "-");
	pcrf_host->reply_field_num(w->reply, "count", gx->nrx); /* AF */
	pcrf_host->reply_field(w->reply, "state", "open");
	w->n++;
}

static void show_rx(const char *key, void *value, void *arg)
{
	const struct pcrf_rx *rx = value;
	struct walk *w = arg;

	(void)key;
	pcrf_host->reply_record(w->reply);
	pcrf_host->reply_field(w->reply, "session", "%s", rx->sid);
	pcrf_host->reply_field(w->reply, "type", "rx");
	pcrf_host->reply_field(w->reply, "peer", "%s", rx->af_host);
	pcrf_host->reply_field(w->reply, "ue", "%s",
			       rx->subscriber[0] ? rx->subscriber : "-");
	pcrf_host->reply_field(w->reply, "binding", "gx=%s", rx->gx_sid);
	pcrf_host->reply_field_num(w->reply, "count", rx->nrules); /* rules */
	pcrf_host->reply_field(w->reply, "state", "%s",
			       rx->aborting ? "aborted" : "active");
	w->n++;
}

static int cmd_sessions(struct tnd_reply *r, int argc, char **argv)
{
	struct walk w = { .reply = r };

	(void)argc, (void)argv;
	ims_hash_each(&pcrf_gx_by_sid, show_gx, &w);
	ims_hash_each(&pcrf_rx_by_sid, show_rx, &w);
	if (!w.n)
		pcrf_host->reply_text(r, "no sessions\n");
	return 0;
}

static void rule_records(struct tnd_reply *r, const struct pcrf_rx *rx)
{
	for (unsigned i = 0; i < rx->nrules; i++) {
		const struct pcrf_rule *ru = &rx->rules[i];

		pcrf_host->reply_record(r);
		pcrf_host->reply_field(r, "rule", "%s", ru->name);
		pcrf_host->reply_field(r, "session", "%s", rx->sid);
		pcrf_host->reply_field_num(r, "component", ru->mc_number);
		pcrf_host->reply_field_num(r, "qci", ru->qci);
		pcrf_host->reply_field_num(r, "arp", ru->arp);
		pcrf_host->reply_field_num(r, "mbr_ul", ru->mbr_ul);
		pcrf_host->reply_field_num(r, "mbr_dl", ru->mbr_dl);
		pcrf_host->reply_field_num(r, "gbr_ul", ru->gbr_ul);
		pcrf_host->reply_field_num(r, "gbr_dl", ru->gbr_dl);
		pcrf_host->reply_field_num(r, "flow_status", ru->flow_status);
		pcrf_host->reply_field(r, "state", "%s",
				       ru->lost ? "lost" : "installed");
		for (unsigned f = 0; f < ru->nflows; f++)
			pcrf_host->reply_field(r, "flow", "%s", ru->flows[f]);
	}
}

static void rules_of_gx(const char *key, void *value, void *arg)
{
	const struct pcrf_rx *rx = value;
	struct walk *w = arg;

	(void)key;
	if (strcmp(rx->gx_sid, w->gx_sid) == 0) {
		rule_records(w->reply, rx);
		w->n += rx->nrules;
	}
}

static int cmd_rules(struct tnd_reply *r, int argc, char **argv)
{
	const struct pcrf_rx *rx;
	struct walk w = { .reply = r };

	if (argc != 1)
		return pcrf_host->reply_error(r,
					      "usage: pcrf show rules SESSION");
	rx = pcrf_rx_find(argv[0]);
	if (rx) {
		rule_records(r, rx);
		if (!rx->nrules)
			pcrf_host->reply_text(r, "no rules\n");
		return 0;
	}
	if (!pcrf_gx_find(argv[0]))
		return pcrf_host->reply_error(r, "no session %s", argv[0]);
	w.gx_sid = argv[0];
	ims_hash_each(&pcrf_rx_by_sid, rules_of_gx, &w);
	if (!w.n)
		pcrf_host->reply_text(r, "no rules\n");
	return 0;
}

static int cmd_policies(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	for (unsigned i = 0; i < pcrf_policy_count(); i++) {
		const struct pcrf_policy *p = pcrf_policy_at(i);

		pcrf_host->reply_record(r);
		pcrf_host->reply_field(r, "policy", "%s", p->name);
		pcrf_host->reply_field(r, "media", "%s", p->media);
		pcrf_host->reply_field(r, "subscribers", "%s", p->subscribers);
		pcrf_host->reply_field(r, "codecs", "%s",
				       p->codecs && p->codecs[0] ? p->codecs
								 : "*");
		pcrf_host->reply_field_num(r, "qci", (long long)p->qci);
		pcrf_host->reply_field_num(r, "arp", (long long)p->arp);
		pcrf_host->reply_field(r, "gbr", "%s", p->gbr ? "yes" : "no");
		pcrf_host->reply_field_num(r, "max_kbps",
					   (long long)p->max_kbps);
	}
	return 0;
}

const struct tnd_command pcrf_commands[] = {
	{ "pcrf show sessions", NULL,
	  "IP-CAN (gx) and AF (rx) sessions: peer, UE (address or "
	  "subscriber), binding (APN, or the Gx session), count (AF "
	  "sessions bound, or rules)",
	  cmd_sessions },
	{ "pcrf show rules", "SESSION",
	  "PCC rules of an Rx session, or of every Rx session bound to a "
	  "Gx session",
	  cmd_rules },
	{ "pcrf show policies", NULL, "the policies in force", cmd_policies },
	TND_COMMAND_END
};
