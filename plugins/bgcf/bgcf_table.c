/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bgcf_table: the route table. See bgcf_table.h and plugins/bgcf/README.md
 * for the keys of a [route NAME] section.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bgcf_table.h"

static const char *const day_names[7] = { "sun", "mon", "tue", "wed",
					  "thu", "fri", "sat" };

/* ---- Keys ----------------------------------------------------------------- */

static int parse_target(struct bgcf_target *t, const char *v)
{
	memset(t, 0, sizeof(*t));
	if (strncmp(v, "trunk:", 6) == 0 && v[6]) {
		t->kind = BGCF_TRUNK;
		snprintf(t->trunk, sizeof(t->trunk), "%s", v + 6);
		return strlen(v + 6) < sizeof(t->trunk) ? 0 : -EINVAL;
	}
	if (strncmp(v, "bgcf:", 5) == 0) {
		t->kind = BGCF_BGCF;
		v += 5;
	} else {
		t->kind = BGCF_SIP_PEER;
	}
	if (strncmp(v, "sip:", 4) != 0 && strncmp(v, "sips:", 5) != 0)
		return -EINVAL;
	snprintf(t->uri, sizeof(t->uri), "%s", v);
	return strlen(v) < sizeof(t->uri) ? 0 : -EINVAL;
}

static int day_of(const char *s, size_t n)
{
	for (int d = 0; d < 7; d++)
		if (n == 3 && strncasecmp(s, day_names[d], 3) == 0)
			return d;
	return -1;
}

/* "mon-fri", "sat,sun", "mon,wed-fri" */
static int parse_days(const char *s, size_t len, unsigned *days)
{
	*days = 0;
	while (len) {
		size_t n = strcspn(s, ",");
		const char *dash = memchr(s, '-', n < len ? n : len);
		int a, b;

		if (n > len)
			n = len;
		if (dash) {
			a = day_of(s, (size_t)(dash - s));
			b = day_of(dash + 1, (size_t)(s + n - dash - 1));
		} else {
			a = b = day_of(s, n);
		}
		if (a < 0 || b < 0)
			return -EINVAL;
		for (int d = a;; d = (d + 1) % 7) { /* fri-mon wraps */
			*days |= 1u << d;
			if (d == b)
				break;
		}
		s += n;
		len -= n;
		if (len) {
			s++;
			len--;
		}
	}
	return 0;
}

static int parse_hhmm(const char *s, unsigned *min)
{
	unsigned h, m;
	char tail;

	if (sscanf(s, "%2u:%2u%c", &h, &m, &tail) < 2 || h > 24 || m > 59 ||
	    (h == 24 && m))
		return -EINVAL;
	*min = h * 60 + m;
	return 0;
}

/* "mon-fri 08:00-18:00", "sat,sun", "22:00-06:00", "always" */
static int parse_when(struct bgcf_when *w, const char *v)
{
	char days[64] = "", span[32] = "";
	int n = sscanf(v, "%63s %31s", days, span);

	w->days = 0x7f;
	w->from_min = w->to_min = 0;
	if (n < 1 || strcmp(v, "always") == 0)
		return n < 1 ? -EINVAL : 0;
	if (isdigit((unsigned char)days[0])) {
		if (n == 2)
			return -EINVAL;
		memcpy(span, days, sizeof(span) - 1);
		span[sizeof(span) - 1] = '\0';
		days[0] = '\0';
	} else if (parse_days(days, strlen(days), &w->days) < 0) {
		return -EINVAL;
	}
	if (span[0]) {
		char *dash = strchr(span, '-');

		if (!dash)
			return -EINVAL;
		*dash = '\0';
		if (parse_hhmm(span, &w->from_min) < 0 ||
		    parse_hhmm(dash + 1, &w->to_min) < 0)
			return -EINVAL;
	}
	return 0;
}

static bool valid_prefix(const char *p)
{
	if (*p == '+')
		p++;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

int bgcf_route_set(struct bgcf_route *r, const char *key, const char *value,
		   char *why, size_t size)
{
	if (strcmp(key, "prefix") == 0) {
		if (!valid_prefix(value) || strlen(value) >= sizeof(r->prefix)) {
			snprintf(why, size, "prefix = %s: digits, with a "
				 "leading + for E.164", value);
			return -EINVAL;
		}
		snprintf(r->prefix, sizeof(r->prefix), "%s", value);
	} else if (strcmp(key, "target") == 0) {
		if (parse_target(&r->target, value) < 0) {
			snprintf(why, size, "target = %s: trunk:NAME, "
				 "sip:URI (a SIP peer) or bgcf:sip:URI",
				 value);
			return -EINVAL;
		}
	} else if (strcmp(key, "overflow") == 0) {
		snprintf(r->overflow, sizeof(r->overflow), "%s", value);
	} else if (strcmp(key, "time") == 0) {
		if (parse_when(&r->when, value) < 0) {
			snprintf(why, size, "time = %s: like \"mon-fri "
				 "08:00-18:00\", \"sat,sun\", \"22:00-06:00\"",
				 value);
			return -EINVAL;
		}
	} else if (strcmp(key, "priority") == 0) {
		r->priority = atoi(value);
	} else {
		snprintf(why, size, "unknown key %s (prefix, target, overflow, "
			 "time, priority)", key);
		return -EINVAL;
	}
	return 0;
}

int bgcf_table_add(struct bgcf_table *t, const struct bgcf_route *r)
{
	if (t->n == t->cap) {
		unsigned cap = t->cap ? t->cap * 2 : 32;
		struct bgcf_route *more = realloc(t->routes,
						  cap * sizeof(*more));

		if (!more)
			return -ENOMEM;
		t->routes = more;
		t->cap = cap;
	}
	t->routes[t->n++] = *r;
	return 0;
}

void bgcf_table_free(struct bgcf_table *t)
{
	free(t->routes);
	memset(t, 0, sizeof(*t));
}

/* ---- The INI text --------------------------------------------------------------- */

struct parser {
	struct bgcf_table *t;
	const char *origin;
	bgcf_error_cb err;
	void *arg;
	struct bgcf_route cur;
	bool in_route, cur_bad;
	int errors;
};

static void report(struct parser *p, int line, const char *msg)
{
	char where[160];

	snprintf(where, sizeof(where), "%s:%d", p->origin, line);
	if (p->err)
		p->err(where, msg, p->arg);
	p->errors++;
}

static void close_route(struct parser *p, int line)
{
	if (!p->in_route || p->cur_bad)
		return;
	if (!p->cur.prefix[0] || !p->cur.target.kind) {
		report(p, line, "a [route] needs prefix and target");
		return;
	}
	if (bgcf_table_add(p->t, &p->cur) < 0)
		report(p, line, "out of memory");
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static void open_route(struct parser *p, char *l, int line)
{
	char *name = trim(l + 6);

	name[strcspn(name, "]")] = '\0';
	name = trim(name);
	memset(&p->cur, 0, sizeof(p->cur));
	p->cur.when.days = 0x7f;
	snprintf(p->cur.name, sizeof(p->cur.name), "%s", name);
	snprintf(p->cur.where, sizeof(p->cur.where), "%s:%d", p->origin,
		 line);
	p->in_route = true;
	p->cur_bad = false;
	if (!*name) {
		report(p, line, "a route is [route NAME]");
		p->cur_bad = true;
	}
	for (unsigned i = 0; i < p->t->n && !p->cur_bad; i++)
		if (strcmp(p->t->routes[i].name, name) == 0) {
			report(p, line, "a second route of this name");
			p->cur_bad = true;
		}
}

static void parse_line(struct parser *p, char *l, int line)
{
	char why[160], *eq;

	if (!*l || *l == ';' || *l == '#')
		return;
	if (*l == '[') {
		close_route(p, line);
		p->in_route = false;
		if (strncmp(l, "[route ", 7) == 0 || strncmp(l, "[route]", 7) == 0)
			open_route(p, l, line);
		else
			report(p, line, "only [route NAME] sections here");
		return;
	}
	eq = strchr(l, '=');
	if (!eq || !p->in_route) {
		report(p, line, eq ? "a key outside a [route]" : "KEY = VALUE "
				    "expected");
		return;
	}
	*eq = '\0';
	if (bgcf_route_set(&p->cur, trim(l), trim(eq + 1), why,
			   sizeof(why)) < 0) {
		report(p, line, why);
		p->cur_bad = true;
	}
}

int bgcf_table_parse(struct bgcf_table *t, const char *text, size_t len,
		     const char *origin, bgcf_error_cb err, void *arg)
{
	struct parser p = { .t = t, .origin = origin, .err = err, .arg = arg };
	const char *s = text, *end = text + len;
	int line = 0;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		char buf[512];

		line++;
		snprintf(buf, sizeof(buf), "%.*s", (int)n, s);
		parse_line(&p, trim(buf), line);
		s = nl ? nl + 1 : end;
	}
	close_route(&p, line);
	return p.errors;
}

static const struct bgcf_route *by_name(const struct bgcf_table *t,
					const char *name)
{
	for (unsigned i = 0; i < t->n; i++)
		if (strcmp(t->routes[i].name, name) == 0)
			return &t->routes[i];
	return NULL;
}

int bgcf_table_check(const struct bgcf_table *t, bgcf_error_cb err, void *arg)
{
	int errors = 0;

	for (unsigned i = 0; i < t->n; i++) {
		char msg[160];

		if (!t->routes[i].overflow[0] ||
		    by_name(t, t->routes[i].overflow))
			continue;
		snprintf(msg, sizeof(msg), "[route %s] overflow = %s: no such "
			 "route", t->routes[i].name, t->routes[i].overflow);
		if (err)
			err(t->routes[i].where, msg, arg);
		errors++;
	}
	return errors;
}

/* ---- Lookup ------------------------------------------------------------------------ */

static bool applies(const struct bgcf_when *w, const struct tm *now)
{
	unsigned min = (unsigned)(now->tm_hour * 60 + now->tm_min);
	int day = now->tm_wday;

	if (w->from_min != w->to_min && w->to_min < w->from_min &&
	    min < w->to_min)
		day = (day + 6) % 7; /* the overnight span began yesterday */
	if (!(w->days & (1u << day)))
		return false;
	if (w->from_min == w->to_min)
		return true;
	if (w->from_min < w->to_min)
		return min >= w->from_min && min < w->to_min;
	return min >= w->from_min || min < w->to_min;
}

static bool timed(const struct bgcf_when *w)
{
	return w->days != 0x7f || w->from_min != w->to_min;
}

/* Longest prefix; then lower priority; then a route of certain times
 * before one of all times (the night route over the day's default). */
static bool better(const struct bgcf_route *a, const struct bgcf_route *b)
{
	size_t la = strlen(a->prefix), lb = strlen(b->prefix);

	if (la != lb)
		return la > lb;
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return timed(&a->when) && !timed(&b->when);
}

static const struct bgcf_route *best(const struct bgcf_table *t,
				     const char *number, const struct tm *now)
{
	const struct bgcf_route *b = NULL;

	for (unsigned i = 0; i < t->n; i++) {
		const struct bgcf_route *r = &t->routes[i];

		if (strncmp(number, r->prefix, strlen(r->prefix)) == 0 &&
		    applies(&r->when, now) && (!b || better(r, b)))
			b = r;
	}
	return b;
}

int bgcf_table_route(const struct bgcf_table *t, const char *number,
		     const struct tm *now, struct bgcf_target *out,
		     unsigned max)
{
	const struct bgcf_route *r = best(t, number, now);
	unsigned n = 0;

	while (r && n < max && n < BGCF_CHAIN_MAX) {
		bool seen = false;

		for (unsigned i = 0; i < n; i++)
			seen |= strcmp(out[i].route, r->name) == 0;
		if (seen)
			break; /* an overflow loop */
		out[n] = r->target;
		snprintf(out[n].route, sizeof(out[n].route), "%s", r->name);
		n++;
		r = r->overflow[0] ? by_name(t, r->overflow) : NULL;
	}
	return (int)n;
}

const char *bgcf_target_text(const struct bgcf_target *t, char *buf,
			     size_t size)
{
	switch (t->kind) {
	case BGCF_TRUNK: snprintf(buf, size, "trunk:%s", t->trunk); break;
	case BGCF_BGCF: snprintf(buf, size, "bgcf:%s", t->uri); break;
	default: snprintf(buf, size, "%s", t->uri); break;
	}
	return buf;
}

const char *bgcf_when_text(const struct bgcf_when *w, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	if (w->days != 0x7f)
		for (int d = 0; d < 7; d++)
			if (w->days & (1u << d))
				n += (size_t)snprintf(buf + n, size - n, "%s%s",
						      n ? "," : "",
						      day_names[d]);
	if (w->from_min != w->to_min)
		snprintf(buf + n, size - n, "%s%02u:%02u-%02u:%02u",
			 n ? " " : "", w->from_min / 60, w->from_min % 60,
			 w->to_min / 60, w->to_min % 60);
	if (!buf[0])
		snprintf(buf, size, "always");
	return buf;
}
