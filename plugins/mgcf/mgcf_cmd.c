/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf_cmd: the `mgcf ...` control commands: calls, trunks, statistics
 * with the gateway's latency, the cause table and the numbering rules
 * (so a script can check what a call would do without placing it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgcf_int.h"

#define R mgcf.host

static int cmd_calls(struct tnd_reply *r, int argc, char **argv)
{
	uint64_t now = mgcf_now_us();

	(void)argv;
	if (argc)
		return R->reply_error(r, "usage: mgcf show calls");
	for (struct mgcf_call *c = mgcf.calls; c; c = c->next) {
		R->reply_record(r);
		R->reply_field_num(r, "call", c->id);
		R->reply_field(r, "from", "%s",
			       c->dir == MGCF_FROM_IMS ? "ims" : "pstn");
		R->reply_field(r, "state", "%s", mgcf_state_name(c->state));
		R->reply_field(r, "trunk", "%s", c->trunk ? c->trunk->name :
							    "-");
		R->reply_field(r, "circuit", "%d/%d", c->span, c->bchan);
		R->reply_field(r, "calling", "%s", c->calling[0] ? c->calling :
								   "-");
		R->reply_field(r, "called", "%s", c->called[0] ? c->called :
								 "-");
		R->reply_field(r, "call_id", "%s", c->call_id);
		R->reply_field_num(r, "age_ms",
				   (long long)((now - c->t_start_us) / 1000));
	}
	return 0;
}

static int cmd_trunks(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return R->reply_error(r, "usage: mgcf show trunks");
	for (unsigned i = 0; i < mgcf.ntrunks; i++) {
		const struct mgcf_trunk *t = &mgcf.trunks[i];

		R->reply_record(r);
		R->reply_field(r, "trunk", "%s", t->name);
		R->reply_field(r, "spans", "%s", t->cfg.spans);
		R->reply_field(r, "hunt", "%s", t->cfg.hunt);
		R->reply_field(r, "country", "%s", t->plan.country_code);
		R->reply_field(r, "ddi", "%s", t->plan.ddi_prefix);
		R->reply_field(r, "called", "%s", t->cfg.called_format);
		R->reply_field(r, "calling", "%s", t->cfg.calling_format);
		R->reply_field_num(r, "calls_in", (long long)t->calls_in);
		R->reply_field_num(r, "calls_out", (long long)t->calls_out);
		R->reply_field_num(r, "rejected", (long long)t->rejected);
	}
	return 0;
}

static int cmd_stats(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return R->reply_error(r, "usage: mgcf show stats");
	R->reply_field_num(r, "calls", mgcf.ncalls);
	R->reply_field_num(r, "peak_calls", mgcf.peak_calls);
	R->reply_field_num(r, "from_ims",
			   (long long)R->counter_get(mgcf.c_from_ims));
	R->reply_field_num(r, "from_pstn",
			   (long long)R->counter_get(mgcf.c_from_pstn));
	R->reply_field_num(r, "answered",
			   (long long)R->counter_get(mgcf.c_answered));
	R->reply_field_num(r, "failed",
			   (long long)R->counter_get(mgcf.c_failed));
	R->reply_field_num(r, "no_circuit",
			   (long long)R->counter_get(mgcf.c_no_circuit));
	R->reply_field_num(r, "cancelled",
			   (long long)R->counter_get(mgcf.c_cancelled));
	for (int k = 0; k < LAT_COUNT; k++) {
		char key[64];

		if (!mgcf.lat[k].count)
			continue;
		snprintf(key, sizeof(key), "%s_p50_us",
			 mgcf_latency_name((enum mgcf_lat_kind)k));
		R->reply_field_num(r, key,
				   mgcf_latency_pct((enum mgcf_lat_kind)k, 50));
		snprintf(key, sizeof(key), "%s_p99_us",
			 mgcf_latency_name((enum mgcf_lat_kind)k));
		R->reply_field_num(r, key,
				   mgcf_latency_pct((enum mgcf_lat_kind)k, 99));
		snprintf(key, sizeof(key), "%s_n",
			 mgcf_latency_name((enum mgcf_lat_kind)k));
		R->reply_field_num(r, key, (long long)mgcf.lat[k].count);
	}
	return 0;
}

/* "mgcf map cause 17" / "mgcf map status 486": the table, one entry. */
static int cmd_map(struct tnd_reply *r, int argc, char **argv)
{
	long v;

	if (argc != 2)
		return R->reply_error(r, "usage: mgcf map cause|status N");
	v = strtol(argv[1], NULL, 10);
	if (strcmp(argv[0], "cause") == 0 && v > 0 && v < 128) {
		int status = mgcf_cause_to_status((int)v);

		R->reply_field_num(r, "cause", v);
		R->reply_field(r, "text", "%s", mgcf_cause_text((int)v));
		R->reply_field_num(r, "status", status);
		R->reply_field(r, "reason", "%s", mgcf_status_text(status));
		return 0;
	}
	if (strcmp(argv[0], "status") == 0 && v >= 400 && v < 700) {
		int cause = mgcf_status_to_cause((int)v);

		R->reply_field_num(r, "status", v);
		R->reply_field(r, "reason", "%s", mgcf_status_text((int)v));
		R->reply_field_num(r, "cause", cause);
		R->reply_field(r, "text", "%s", mgcf_cause_text(cause));
		return 0;
	}
	return R->reply_error(r, "cause 1..127 or status 400..699");
}

/* "mgcf number TRUNK in DIGITS TON NPI" / "mgcf number TRUNK out NUMBER
 * FORMAT": the trunk's numbering rules on one number. */
static int cmd_number(struct tnd_reply *r, int argc, char **argv)
{
	struct mgcf_trunk *t = argc ? mgcf_trunk_by_name(argv[0]) : NULL;
	char out[MGCF_NUM_MAX];
	int ton, npi, rc;

	if (!t || argc < 3)
		return R->reply_error(r, "usage: mgcf number TRUNK in DIGITS "
				      "[TON NPI] | out NUMBER [FORMAT]");
	if (strcmp(argv[1], "in") == 0) {
		ton = argc > 3 ? atoi(argv[3]) : TON_UNKNOWN;
		npi = argc > 4 ? atoi(argv[4]) : NPI_E164;
		rc = mgcf_number_to_e164(&t->plan, argv[2], ton, npi, out,
					 sizeof(out));
		if (rc < 0)
			return R->reply_error(r, "not a number");
		R->reply_field(r, "number", "%s", out);
		R->reply_field(r, "e164", "%s", rc ? "yes" : "no");
		return 0;
	}
	rc = argc > 3 ? mgcf_numfmt_parse(argv[3]) :
			(int)t->plan.called_format;
	if (rc < 0 || mgcf_number_to_circuit(&t->plan, argv[2],
					     (enum mgcf_numfmt)rc, out,
					     sizeof(out), &ton, &npi) < 0)
		return R->reply_error(r, "cannot number %s", argv[2]);
	R->reply_field(r, "digits", "%s", out);
	R->reply_field_num(r, "ton", ton);
	R->reply_field_num(r, "npi", npi);
	return 0;
}

static int cmd_hangup(struct tnd_reply *r, int argc, char **argv)
{
	unsigned id = argc ? (unsigned)strtoul(argv[0], NULL, 10) : 0;
	int cause = argc > 1 ? atoi(argv[1]) : Q850_NORMAL_CLEARING;

	if (argc < 1 || argc > 2 || cause < 1 || cause > 127)
		return R->reply_error(r, "usage: mgcf hangup CALL [CAUSE]");
	for (struct mgcf_call *c = mgcf.calls; c; c = c->next)
		if (c->id == id) {
			mgcf_call_release(c, cause, EV_LOCAL);
			R->reply_field_num(r, "call", id);
			return 0;
		}
	return R->reply_error(r, "no call %u", id);
}

const struct tnd_command mgcf_commands[] = {
	{ "mgcf show calls", NULL,
	  "calls: direction, state, trunk, circuit, numbers, Call-ID",
	  cmd_calls },
	{ "mgcf show trunks", NULL,
	  "trunk groups: spans, hunting, numbering, calls", cmd_trunks },
	{ "mgcf show stats", NULL,
	  "call counts and the gateway's latency, p50/p99 microseconds",
	  cmd_stats },
	{ "mgcf map", "cause|status N",
	  "the Q.850 <-> SIP table for one cause or status", cmd_map },
	{ "mgcf number", "TRUNK in DIGITS [TON NPI] | out NUMBER [FORMAT]",
	  "a trunk's numbering rules on one number", cmd_number },
	{ "mgcf hangup", "CALL [CAUSE]", "clear a call", cmd_hangup },
	TND_COMMAND_END
};
