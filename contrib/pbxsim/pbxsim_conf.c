/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pbxsim_conf: the PBX's INI file. [pbx] sets the defaults and, with
 * `dchan` or `cable`, span 1; [span N] adds spans (N as the far node's
 * span number, for the logs only); [ext NUMBER] are the extensions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbxsim.h"

struct pbx_conf pbx;

static struct pbx_span defaults = {
	.switchtype = PRI_SWITCH_EUROISDN_E1,
	.side = PRI_CPE,
};

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int parse_switch(const char *val, int *type)
{
	static const struct {
		const char *name;
		int type;
	} sw[] = {
		{ "euroisdn_e1", PRI_SWITCH_EUROISDN_E1 },
		{ "euroisdn_t1", PRI_SWITCH_EUROISDN_T1 },
		{ "ni2", PRI_SWITCH_NI2 },
		{ "ni1", PRI_SWITCH_NI1 },
		{ "dms100", PRI_SWITCH_DMS100 },
		{ "4ess", PRI_SWITCH_ATT4ESS },
		{ "5ess", PRI_SWITCH_LUCENT5E },
		{ "qsig", PRI_SWITCH_QSIG },
	};

	for (size_t i = 0; i < sizeof(sw) / sizeof(sw[0]); i++)
		if (strcmp(sw[i].name, val) == 0) {
			*type = sw[i].type;
			return 0;
		}
	return -1;
}

static int yes(const char *val)
{
	return strcmp(val, "yes") == 0 || strcmp(val, "1") == 0 ||
	       strcmp(val, "on") == 0 || strcmp(val, "true") == 0;
}

/* A key of [pbx] or [span N]. */
static int set_span(struct pbx_span *s, const char *key, const char *val)
{
	if (strcmp(key, "dchan") == 0 || strcmp(key, "cable") == 0) {
		bool cable = key[0] == 'c';
		const char *path = val;

		if (!cable) {
			s->listen = strncmp(val, "listen:", 7) == 0;
			if (!s->listen && strncmp(val, "unix:", 5))
				return -1;
			path = val + (s->listen ? 7 : 5);
		}
		if (strlen(path) >= sizeof(s->path))
			return -1;
		snprintf(s->path, sizeof(s->path), "%s", path);
		s->cable = cable;
		return 0;
	}
	if (strcmp(key, "cable_listen") == 0) {
		s->listen = yes(val);
		return 0;
	}
	if (strcmp(key, "side") == 0) {
		s->side = strcmp(val, "network") == 0 ? PRI_NETWORK : PRI_CPE;
		return 0;
	}
	if (strcmp(key, "type") == 0) {
		if (strcmp(val, "e1") && strcmp(val, "t1"))
			return -1;
		s->t1 = val[0] == 't';
		s->ulaw = s->t1;
		return 0;
	}
	if (strcmp(key, "law") == 0) {
		s->ulaw = strcmp(val, "ulaw") == 0;
		return 0;
	}
	if (strcmp(key, "switchtype") == 0)
		return parse_switch(val, &s->switchtype);
	return -1;
}

static int set_action(struct pbx_ext *e, const char *val)
{
	static const char *const names[] = { "answer", "tone", "echo",
					     "ring", "busy", "reject", "fax" };

	for (int i = 0; i < 7; i++)
		if (strcmp(names[i], val) == 0) {
			e->action = (enum pbx_action)i;
			return 0;
		}
	return -1;
}

static int set_ext(struct pbx_ext *e, const char *key, const char *val)
{
	if (strcmp(key, "action") == 0)
		return set_action(e, val);
	if (strcmp(key, "tone_hz") == 0) {
		e->tone_hz = atoi(val);
		return e->tone_hz > 0 && e->tone_hz < 4000 ? 0 : -1;
	}
	if (strcmp(key, "answer_ms") == 0) {
		e->answer_ms = atoi(val);
		return e->answer_ms >= 0 ? 0 : -1;
	}
	if (strcmp(key, "hangup_ms") == 0) {
		e->hangup_ms = atoi(val);
		return e->hangup_ms >= 0 ? 0 : -1;
	}
	if (strcmp(key, "cause") == 0) {
		e->cause = strcmp(val, "digits") == 0 ? 0 : atoi(val);
		return e->cause >= 0 && e->cause < 128 ? 0 : -1;
	}
	if (strcmp(key, "inband") == 0) {
		e->inband = yes(val);
		return 0;
	}
	if (strcmp(key, "early") == 0) {
		e->early_tone = strcmp(val, "tone") == 0;
		return e->early_tone || strcmp(val, "ringback") == 0 ? 0 : -1;
	}
	if (strcmp(key, "progress") == 0) {
		e->progress = yes(val);
		return 0;
	}
	if (strcmp(key, "match") == 0) {
		e->prefix = strcmp(val, "prefix") == 0;
		return e->prefix || strcmp(val, "exact") == 0 ? 0 : -1;
	}
	return -1;
}

static struct pbx_span *new_span(int no)
{
	struct pbx_span *s;

	if (pbx.nspans == PBX_MAX_SPANS)
		return NULL;
	s = &pbx.spans[pbx.nspans++];
	*s = defaults;
	s->no = no;
	s->fd = s->lfd = -1;
	return s;
}

static struct pbx_ext *new_ext(const char *header)
{
	struct pbx_ext *e;

	if (pbx.next == PBX_MAX_EXT)
		return NULL;
	e = &pbx.ext[pbx.next++];
	memset(e, 0, sizeof(*e));
	snprintf(e->number, sizeof(e->number), "%.*s",
		 (int)strcspn(header, "]"), header);
	e->tone_hz = 425;
	e->cause = 17;
	return e;
}

/* [pbx] keys are the defaults of every span, and span 1's when it names
 * a link; a link-less [pbx] is only defaults. */
static int finish(const char *path)
{
	struct pbx_span *first;

	if (defaults.path[0]) {
		if (pbx.nspans == PBX_MAX_SPANS)
			return -1;
		memmove(&pbx.spans[1], &pbx.spans[0],
			sizeof(pbx.spans[0]) * (size_t)pbx.nspans);
		pbx.nspans++;
		first = &pbx.spans[0];
		*first = defaults;
		first->no = 1;
		first->fd = first->lfd = -1;
	}
	if (!pbx.nspans) {
		fprintf(stderr, "pbxsim: %s: no span: set [pbx] dchan or cable, "
			"or add a [span N]\n", path);
		return -1;
	}
	for (int i = 0; i < pbx.nspans; i++) {
		struct pbx_span *s = &pbx.spans[i];

		if (!s->path[0]) {
			fprintf(stderr, "pbxsim: %s: [span %d] has no cable\n",
				path, s->no);
			return -1;
		}
		s->timeslots = s->t1 ? 24 : 31;
		s->dchan_ts = s->t1 ? 24 : 16;
	}
	return 0;
}

int pbx_conf_load(const char *path)
{
	char line[256], *l, *eq;
	struct pbx_span *span = NULL;
	struct pbx_ext *e = NULL;
	int n = 0, in_pbx = 0, rc = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "pbxsim: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		n++;
		l = trim(line);
		if (!*l || *l == ';' || *l == '#')
			continue;
		if (*l == '[') {
			in_pbx = strcmp(l, "[pbx]") == 0;
			span = strncmp(l, "[span ", 6) == 0 ?
				       new_span(atoi(l + 6)) : NULL;
			e = strncmp(l, "[ext ", 5) == 0 ? new_ext(l + 5) : NULL;
			if (in_pbx || span || e)
				continue;
		} else if ((eq = strchr(l, '='))) {
			*eq = '\0';
			if ((in_pbx && !set_span(&defaults, trim(l),
						 trim(eq + 1))) ||
			    (span && !set_span(span, trim(l), trim(eq + 1))) ||
			    (e && !set_ext(e, trim(l), trim(eq + 1))))
				continue;
		}
		fprintf(stderr, "pbxsim: %s:%d: not understood\n", path, n);
		rc = -1;
	}
	fclose(f);
	return rc ? rc : finish(path);
}

const struct pbx_ext *pbx_ext_find(const char *number)
{
	const struct pbx_ext *best = NULL;

	for (int i = 0; i < pbx.next; i++) {
		const struct pbx_ext *e = &pbx.ext[i];

		if (strcmp(e->number, number) == 0)
			return e;
		if (e->prefix &&
		    strncmp(e->number, number, strlen(e->number)) == 0 &&
		    (!best || strlen(e->number) > strlen(best->number)))
			best = e;
	}
	return best;
}
