/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pri: the plugin. ISDN PRI call control on libpri: one [pri N] section per
 * span that runs PRI, the "pri" service (tandem/pri.h) for the MGCF, and
 * the `pri ...` control commands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pri_int.h"
#include "tandem/tdm.h"

TND_PLUGIN_DECLARE(pri);
#define SELF (&TND_PLUGIN_SYMBOL(pri))

#define MAX_SPANS 64

struct pri_cfg {
	int restart_on_up;
};

struct span_conf {
	int number;
	char section[32];
	struct pri_span_cfg cfg;
};

static struct pri_cfg *cfg;
static struct span_conf span_confs[MAX_SPANS];
static int nspan_confs;

static const struct tnd_param pri_params[] = {
	TND_PARAM("restart_on_up", TND_BOOL, struct pri_cfg, restart_on_up,
		  "no",
		  "send RESTART for every B-channel when a D-channel comes up "
		  "(network side practice after an outage, Q.931 5.5)"),
	TND_PARAM_END
};

static const struct tnd_param span_params[] = {
	TND_PARAM("switchtype", TND_ENUM, struct pri_span_cfg, switchtype,
		  "euroisdn_e1", "Q.931 variant spoken on this span",
		  .choices = "euroisdn_e1|euroisdn_t1|ni2|ni1|dms100|4ess|5ess|"
			     "qsig"),
	TND_PARAM("side", TND_ENUM, struct pri_span_cfg, side, "network",
		  "which end of the link we are: network (NT) or user (TE)",
		  .choices = "network|user"),
	TND_PARAM("bchans", TND_STR, struct pri_span_cfg, bchans, "",
		  "B-channels (timeslots), e.g. 1-15,17-31; empty: all of the "
		  "span (E1 1-15,17-31, T1 1-23)"),
	TND_PARAM("dchan", TND_STR, struct pri_span_cfg, dchan, "tdm",
		  "D-channel transport: tdm (the span driver), "
		  "unix:PATH or listen:PATH (a SOCK_SEQPACKET socket)"),
	TND_PARAM("overlap", TND_BOOL, struct pri_span_cfg, overlap, "no",
		  "overlap sending and receiving (SETUP ACK, INFORMATION)"),
	TND_PARAM("noanswer_ms", TND_UINT, struct pri_span_cfg, noanswer_ms,
		  "0",
		  "clear an alerting outgoing call with cause 19 after this "
		  "long; 0: never",
		  .min = 0, .max = 3600000),
	TND_PARAM("debug", TND_BOOL, struct pri_span_cfg, debug, "no",
		  "log Q.921/Q.931 decodes of this span at info level"),
	TND_PARAM("service_messages", TND_BOOL, struct pri_span_cfg,
		  service_messages, "no",
		  "accept SERVICE maintenance messages (ni2, 4ess, 5ess, "
		  "dms100)"),
	TND_PARAM_END
};

/* ---- Configuration --------------------------------------------------------
 */

static int parse_span_section(const char *section, void *arg)
{
	int *errors = arg;
	struct span_conf *sc;
	char *end;
	long n;
	int type;

	if (strcmp(section, "pri") == 0)
		return 0;
	n = strtol(section + 4, &end, 10);
	if (*end || n < 1 || n > 255) {
		tnd_error("%s: [%s]: expected [pri N], N a span number 1..255",
			  pri_host->where(section, NULL), section);
		(*errors)++;
		return 0;
	}
	if (nspan_confs == MAX_SPANS) {
		tnd_error("%s: more than %d PRI spans",
			  pri_host->where(section, NULL), MAX_SPANS);
		(*errors)++;
		return 1;
	}
	sc = &span_confs[nspan_confs];
	memset(sc, 0, sizeof(*sc));
	sc->number = (int)n;
	snprintf(sc->section, sizeof(sc->section), "%s", section);
	if (pri_host->parse_section(section, span_params, &sc->cfg)) {
		(*errors)++;
		return 0;
	}
	pri_switch_parse(sc->cfg.switchtype, &type);
	if (*sc->cfg.bchans) {
		uint32_t mask;

		if (pri_bchans_parse(sc->cfg.bchans, &mask)) {
			tnd_error("%s: bchans: expected channels 1..31 like "
				  "1-15,17-31",
				  pri_host->where(section, "bchans"));
			(*errors)++;
		}
	}
	if (strcmp(sc->cfg.dchan, "tdm") != 0 &&
	    strncmp(sc->cfg.dchan, "unix:", 5) != 0 &&
	    strncmp(sc->cfg.dchan, "listen:", 7) != 0) {
		tnd_error("%s: dchan: expected tdm, unix:PATH or listen:PATH",
			  pri_host->where(section, "dchan"));
		(*errors)++;
	}
	nspan_confs++;
	return 0;
}

static int pri_init(const struct tnd_host_api *api, void *config)
{
	int errors = 0;

	cfg = config;
	nspan_confs = 0;
	if (pri_core_init(api, SELF))
		return -ENOMEM;
	pri_host->for_each_section("pri", parse_span_section, &errors);
	if (errors)
		return -EINVAL;
	if (!nspan_confs)
		tnd_notice("no [pri N] section: no span runs PRI");
	return pri_host->service_register(
		SELF, TND_PRI_SERVICE, TND_PRI_SERVICE_VERSION, &pri_service);
}

/* ---- Running ----------------------------------------------------------------
 */

static struct pri_dchan *open_dchan(const struct span_conf *sc)
{
	if (strcmp(sc->cfg.dchan, "tdm") == 0) {
		struct pri_dchan *dc = pri_dchan_tdm((unsigned)sc->number);

		if (!dc)
			tnd_error("%s: dchan = tdm, but no span driver "
				  "provides the tdm service (load sim or "
				  "dahdi), or use unix:PATH / listen:PATH",
				  pri_host->where(sc->section, "dchan"));
		return dc;
	}
	return pri_dchan_open(sc->cfg.dchan);
}

static int pri_start(void)
{
	for (int i = 0; i < nspan_confs; i++) {
		struct span_conf *sc = &span_confs[i];
		struct pri_dchan *dc = open_dchan(sc);
		struct pri_span *span;

		sc->cfg.restart_on_up = cfg->restart_on_up;
		if (!dc)
			return -EINVAL;
		if (pri_span_new(sc->number, &sc->cfg, dc, &span)) {
			dc->close(dc);
			return -EINVAL;
		}
	}
	return 0;
}

static int pri_stop(void)
{
	return 0;
}

static void pri_fini(void)
{
	pri_core_fini();
}

/* ---- Control commands -------------------------------------------------------
 */

static int parse_int(const char *text, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (*end || end == text || v < lo || v > hi)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int cmd_show_spans(struct tnd_reply *r, int argc, char **argv)
{
	struct tnd_pri_span_info si;

	(void)argv;
	if (argc)
		return pri_host->reply_error(r, "usage: pri show spans");
	for (int i = 0; pri_service.span_info(i, &si) == 0; i++) {
		struct pri_span *s = pri_span_find(si.span);

		pri_host->reply_record(r);
		pri_host->reply_field_num(r, "span", si.span);
		pri_host->reply_field(r, "switchtype", "%s", si.switchtype);
		pri_host->reply_field(r, "side", "%s", si.side);
		pri_host->reply_field(r, "dchan", "%s",
				      si.alarm ? "alarm"
				      : si.up  ? "up"
					       : "down");
		pri_host->reply_field(r, "transport", "%s",
				      s && s->dchan ? s->dchan->kind : "-");
		pri_host->reply_field_num(r, "bchans", si.bchans);
		pri_host->reply_field_num(r, "free", si.bchans_free);
		pri_host->reply_field_num(r, "calls", si.calls);
		pri_host->reply_field(r, "overlap", "%s",
				      s && s->overlap ? "yes" : "no");
		pri_host->reply_field(r, "debug", "%s",
				      s && s->debug ? "on" : "off");
	}
	return 0;
}

static void reply_call(struct tnd_reply *r, const struct pri_call *c)
{
	pri_host->reply_record(r);
	pri_host->reply_field_num(r, "call", c->id);
	pri_host->reply_field_num(r, "span", c->span->number);
	pri_host->reply_field_num(r, "bchan", c->bchan);
	pri_host->reply_field(r, "dir", "%s", c->outgoing ? "out" : "in");
	pri_host->reply_field(r, "state", "%s", pri_call_state_name(c->state));
	pri_host->reply_field(r, "called", "%s", c->setup.called.digits);
	pri_host->reply_field(r, "calling", "%s", c->setup.calling.digits);
}

static int cmd_show_calls(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return pri_host->reply_error(r, "usage: pri show calls");
	for (struct pri_span *s = pri_span_first(); s; s = s->next)
		for (struct pri_call *c = s->calls; c; c = c->next)
			reply_call(r, c);
	return 0;
}

static int cmd_show_channels(struct tnd_reply *r, int argc, char **argv)
{
	struct tnd_pri_chan_info ci;
	int span;

	if (argc != 1 || parse_int(argv[0], 1, 255, &span))
		return pri_host->reply_error(r,
					     "usage: pri show channels SPAN");
	if (!pri_span_find(span))
		return pri_host->reply_error(r, "no PRI span %d", span);
	for (int c = 1; c <= PRI_MAX_BCHAN; c++) {
		if (pri_service.chan_info(span, c, &ci))
			continue;
		pri_host->reply_record(r);
		pri_host->reply_field_num(r, "bchan", c);
		pri_host->reply_field(r, "state", "%s", ci.state_name);
		pri_host->reply_field_num(r, "call", ci.call);
	}
	return 0;
}

static int cmd_debug(struct tnd_reply *r, int argc, char **argv)
{
	struct pri_span *s;
	int span, on;

	if (argc != 2 || parse_int(argv[0], 1, 255, &span) ||
	    (strcmp(argv[1], "on") && strcmp(argv[1], "off")))
		return pri_host->reply_error(r, "usage: pri debug SPAN on|off");
	s = pri_span_find(span);
	if (!s)
		return pri_host->reply_error(r, "no PRI span %d", span);
	on = strcmp(argv[1], "on") == 0;
	pri_span_set_debug(s, on);
	pri_host->reply_field_num(r, "span", span);
	pri_host->reply_field(r, "debug", "%s", on ? "on" : "off");
	return 0;
}

static int cmd_restart(struct tnd_reply *r, int argc, char **argv)
{
	struct pri_span *s;
	int span, bchan = 0, rc;

	if (argc < 1 || argc > 2 || parse_int(argv[0], 1, 255, &span) ||
	    (argc == 2 && parse_int(argv[1], 1, PRI_MAX_BCHAN, &bchan)))
		return pri_host->reply_error(r,
					     "usage: pri restart SPAN [BCHAN]");
	s = pri_span_find(span);
	if (!s)
		return pri_host->reply_error(r, "no PRI span %d", span);
	rc = pri_span_restart(s, bchan);
	if (rc)
		return pri_host->reply_error(r, "restart failed: %s",
					     strerror(-rc));
	pri_host->reply_field_num(r, "span", span);
	pri_host->reply_field_num(r, "restarted", bchan);
	return 0;
}

static int cmd_call(struct tnd_reply *r, int argc, char **argv)
{
	struct tnd_pri_setup setup = { 0 };
	uint32_t id;
	int span, rc;

	if (argc < 2 || argc > 3 || parse_int(argv[0], 0, 255, &span) ||
	    strlen(argv[1]) > TND_PRI_DIGITS_MAX ||
	    (argc == 3 && strlen(argv[2]) > TND_PRI_DIGITS_MAX))
		return pri_host->reply_error(
			r, "usage: pri call SPAN CALLED [CALLING]");
	setup.span = span;
	snprintf(setup.called.digits, sizeof(setup.called.digits), "%s",
		 argv[1]);
	if (argc == 3)
		snprintf(setup.calling.digits, sizeof(setup.calling.digits),
			 "%s", argv[2]);
	setup.called.npi = 1;
	setup.calling.npi = 1;
	rc = pri_service.call(&setup, &id);
	if (rc)
		return pri_host->reply_error(r, "call failed: %s",
					     strerror(-rc));
	pri_host->reply_field_num(r, "call", id);
	return 0;
}

static int cmd_hangup(struct tnd_reply *r, int argc, char **argv)
{
	int id, cause = PRI_CAUSE_NORMAL_CLEARING, rc;

	if (argc < 1 || argc > 2 || parse_int(argv[0], 1, 0x7fffffff, &id) ||
	    (argc == 2 && parse_int(argv[1], 1, 127, &cause)))
		return pri_host->reply_error(r,
					     "usage: pri hangup CALL [CAUSE]");
	rc = pri_service.release((uint32_t)id, cause);
	if (rc)
		return pri_host->reply_error(r, "hangup failed: %s",
					     strerror(-rc));
	pri_host->reply_field_num(r, "call", id);
	pri_host->reply_field_num(r, "cause", cause);
	return 0;
}

static const struct tnd_command pri_commands[] = {
	{ "pri show spans", NULL,
	  "PRI spans: switch type, side, D-channel, B-channels, calls",
	  cmd_show_spans },
	{ "pri show calls", NULL, "calls in progress and their states",
	  cmd_show_calls },
	{ "pri show channels", "SPAN", "the B-channels of a span",
	  cmd_show_channels },
	{ "pri debug", "SPAN on|off", "log Q.921/Q.931 decodes of a span",
	  cmd_debug },
	{ "pri restart", "SPAN [BCHAN]",
	  "send RESTART for one B-channel or all of them", cmd_restart },
	{ "pri call", "SPAN CALLED [CALLING]",
	  "place a test call (SPAN 0: any span)", cmd_call },
	{ "pri hangup", "CALL [CAUSE]", "clear a call with a Q.850 cause",
	  cmd_hangup },
	TND_COMMAND_END
};

static const struct tnd_service_ref pri_provides[] = {
	{ TND_PRI_SERVICE, TND_PRI_SERVICE_VERSION }, TND_SERVICE_END
};

static const char *const pri_sections[] = { "pri", NULL };

/* A span driver, when loaded, starts first: its D-channels exist by the
 * time ours open (pri_tdm.c still retries, for a span that comes later). */
static const struct tnd_service_ref pri_uses[] = {
	{ TDM_SERVICE, TDM_SERVICE_VERSION },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(pri) = {
	TND_PLUGIN_HEADER,
	.name = "pri",
	.version = "1.0",
	.description = "ISDN PRI call control (Q.931/Q.921 through libpri)",
	.provides = pri_provides,
	.params = pri_params,
	.cfg_size = sizeof(struct pri_cfg),
	.commands = pri_commands,
	.sections = pri_sections,
	.init = pri_init,
	.start = pri_start,
	.stop = pri_stop,
	.fini = pri_fini,
	.uses = pri_uses,
};
