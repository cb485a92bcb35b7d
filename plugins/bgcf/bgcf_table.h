/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bgcf_table: the BGCF's route table, host independent. Routes are read
 * from INI text ([route NAME] sections, the same form in the node's config
 * and in the reloadable routes file), looked up by longest matching prefix
 * among the routes whose time of day applies, and chained by `overflow`.
 */
#ifndef BGCF_TABLE_H
#define BGCF_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "bgcf.h"

#define BGCF_PREFIX_MAX 24
#define BGCF_CHAIN_MAX 8

/* When a route applies: days of the week and a time span (local time). */
struct bgcf_when {
	unsigned days;	       /* bit 0 Sunday .. bit 6 Saturday; 0x7f all */
	unsigned from_min;     /* minutes after midnight */
	unsigned to_min;       /* from == to: all day; to < from: overnight */
};

struct bgcf_route {
	char name[BGCF_NAME_MAX];
	char prefix[BGCF_PREFIX_MAX]; /* "+44207946", "+", "00" */
	struct bgcf_target target;
	char overflow[BGCF_NAME_MAX]; /* the route tried next; "" none */
	struct bgcf_when when;
	int priority;		      /* among equal prefixes, lower first */
	char where[160];	      /* "file:line" of its section */
};

struct bgcf_table {
	struct bgcf_route *routes;
	unsigned n, cap;
};

/* Error reports: "file:line: message". */
typedef void (*bgcf_error_cb)(const char *where, const char *msg, void *arg);

/*
 * Add the routes of INI text (`origin` names it in errors). Returns the
 * number of errors (each reported); a route with an error is not added.
 */
int bgcf_table_parse(struct bgcf_table *t, const char *text, size_t len,
		     const char *origin, bgcf_error_cb err, void *arg);
/* One [route NAME] from key/value pairs (the node's config sections). */
int bgcf_route_set(struct bgcf_route *r, const char *key, const char *value,
		   char *why, size_t size);
int bgcf_table_add(struct bgcf_table *t, const struct bgcf_route *r);
/* Every overflow names a route; errors reported, their count returned. */
int bgcf_table_check(const struct bgcf_table *t, bgcf_error_cb err, void *arg);
void bgcf_table_free(struct bgcf_table *t);

/* Targets for `number` at `now` (local time), best first. */
int bgcf_table_route(const struct bgcf_table *t, const char *number,
		     const struct tm *now, struct bgcf_target *out,
		     unsigned max);
/* "trunk:pbx", "sip:host:port", "bgcf:sip:host" */
const char *bgcf_target_text(const struct bgcf_target *t, char *buf,
			     size_t size);
/* "mon-fri 08:00-18:00" (for show). */
const char *bgcf_when_text(const struct bgcf_when *w, char *buf, size_t size);

#endif /* BGCF_TABLE_H */
