/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_bgcf_table: the BGCF's route table without a host: parsing with
 * file:line errors, longest prefix, time of day (overnight too),
 * priority, overflow chains and their loops.
 */
#include <string.h>

#include "bgcf_table.h"
#include "tap.h"

static const char routes[] =
	"; lab routes\n"
	"[route pbx]\n"
	"prefix = +44207946\n"
	"target = trunk:pbx\n"
	"overflow = uk\n"
	"\n"
	"[route uk]\n"
	"prefix = +44\n"
	"target = sip:gw2.carrier.example:5060\n"
	"overflow = world\n"
	"\n"
	"[route uk-night]\n"
	"prefix = +44\n"
	"target = trunk:night\n"
	"time = 22:00-06:00\n"
	"\n"
	"[route uk-weekend]\n"
	"prefix = +44\n"
	"target = trunk:weekend\n"
	"time = sat,sun\n"
	"priority = -1\n"
	"\n"
	"[route world]\n"
	"prefix = +\n"
	"target = bgcf:sip:bgcf.other.example\n";

static char last_error[256];
static int nerrors;

static void on_error(const char *where, const char *msg, void *arg)
{
	(void)arg;
	snprintf(last_error, sizeof(last_error), "%s: %s", where, msg);
	nerrors++;
}

static struct tm at(int wday, int hour, int min)
{
	struct tm tm = { .tm_wday = wday, .tm_hour = hour, .tm_min = min };

	return tm;
}

static const char *route_of(const struct bgcf_table *t, const char *number,
			    struct tm tm, int *n)
{
	static struct bgcf_target out[BGCF_TARGETS_MAX];

	*n = bgcf_table_route(t, number, &tm, out, BGCF_TARGETS_MAX);
	return *n > 0 ? out[0].route : "";
}

int main(void)
{
	struct bgcf_table t = { 0 };
	struct bgcf_target out[BGCF_TARGETS_MAX];
	struct tm tue_noon = at(2, 12, 0);
	int n;

	tap_plan(16);
	ok(bgcf_table_parse(&t, routes, strlen(routes), "routes.conf",
			    on_error, NULL) == 0 && t.n == 5,
	   "five routes parse");
	ok(bgcf_table_check(&t, on_error, NULL) == 0, "every overflow exists");
	n = bgcf_table_route(&t, "+442079462001", &tue_noon, out,
			     BGCF_TARGETS_MAX);
	ok(n == 3 && out[0].kind == BGCF_TRUNK &&
		   strcmp(out[0].trunk, "pbx") == 0,
	   "the longest prefix wins: the PBX's trunk");
	ok(out[1].kind == BGCF_SIP_PEER &&
		   strcmp(out[1].uri, "sip:gw2.carrier.example:5060") == 0 &&
		   out[2].kind == BGCF_BGCF,
	   "then its overflow chain: a SIP peer, another BGCF");
	ok(strcmp(route_of(&t, "+441234", tue_noon, &n), "uk") == 0 && n == 2,
	   "a UK number by day: the carrier");
	ok(strcmp(route_of(&t, "+441234", at(2, 23, 30), &n), "uk-night") ==
		   0,
	   "at 23:30: the night route");
	ok(strcmp(route_of(&t, "+441234", at(3, 5, 59), &n), "uk-night") == 0,
	   "at 05:59 the next day still");
	ok(strcmp(route_of(&t, "+441234", at(3, 6, 0), &n), "uk") == 0,
	   "at 06:00 the day route again");
	ok(strcmp(route_of(&t, "+441234", at(6, 12, 0), &n), "uk-weekend") ==
		   0,
	   "on Saturday the weekend route (its priority beats uk's)");
	ok(strcmp(route_of(&t, "+33123", tue_noon, &n), "world") == 0,
	   "elsewhere: the default route");
	ok(bgcf_table_route(&t, "0800", &tue_noon, out, BGCF_TARGETS_MAX) == 0,
	   "a number without a route: none");
	n = bgcf_table_route(&t, "+442079462001", &tue_noon, out, 1);
	ok(n == 1, "max limits the answer");
	bgcf_table_free(&t);

	ok(bgcf_table_parse(&t, "[route a]\nprefix = +1\ntarget = ftp:x\n",
			    37, "bad.conf", on_error, NULL) == 1 &&
		   strstr(last_error, "bad.conf:3: target = ftp:x") &&
		   t.n == 0,
	   "a bad target is reported with file:line (%s)", last_error);
	ok(bgcf_table_parse(&t, "[route a]\nprefix = +1\ntarget = trunk:x\n"
			    "time = mon-fri 8am\n",
			    58, "bad.conf", on_error, NULL) == 1,
	   "a bad time is reported");
	bgcf_table_free(&t);
	bgcf_table_parse(&t, "[route a]\nprefix = +1\ntarget = trunk:x\n"
			 "overflow = b\n[route b]\nprefix = +2\n"
			 "target = trunk:y\noverflow = a\n",
			 104, "loop.conf", on_error, NULL);
	n = bgcf_table_route(&t, "+1555", &tue_noon, out, BGCF_TARGETS_MAX);
	ok(n == 2, "an overflow loop stops (%d targets)", n);
	bgcf_table_free(&t);
	nerrors = 0;
	bgcf_table_parse(&t, "[route a]\nprefix = +1\ntarget = trunk:x\n"
			 "overflow = nowhere\n", 58, "o.conf", on_error, NULL);
	ok(bgcf_table_check(&t, on_error, NULL) == 1 &&
		   strstr(last_error, "o.conf:1"),
	   "an overflow to no route is an error (%s)", last_error);
	bgcf_table_free(&t);
	return tap_done();
}
