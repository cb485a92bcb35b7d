/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbc_guard: protection per source address, in bounded tables.
 * - A token bucket per source (rate_per_s, depth burst): a request beyond
 *   it is answered 503 with Retry-After (RFC 3261 21.5.4) and counts as
 *   an offence.
 * - A source with block_after offences within OFFENCE_WINDOW_MS is
 *   blocked for block_s: its requests get 403 until then or until
 *   `sbc unblock ADDR`. At most max_blocked sources are held; a new one
 *   replaces the one whose block ends first.
 * The bucket table is a fixed array indexed by hash: two sources sharing
 * a slot only make the limit stricter for both, never looser.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbc_int.h"

#define SBC_SOURCES 1024
#define OFFENCE_WINDOW_MS 60000

struct source {
	char addr[64];
	double tokens;
	uint64_t last_ms;
	unsigned offences;
	uint64_t first_offence_ms;
};

struct blocked {
	char addr[64];
	uint64_t since_ms, until_ms;
	char why[32];
	uint64_t refused; /* requests refused while blocked */
};

static struct source sources[SBC_SOURCES];
static struct blocked *blocked;
static unsigned nblocked;

static struct source *slot(const char *addr)
{
	unsigned h = 5381;

	for (const char *p = addr; *p; p++)
		h = h * 33 + (unsigned char)*p;
	return &sources[h % SBC_SOURCES];
}

static struct source *source_of(const char *addr, uint64_t now)
{
	struct source *s = slot(addr);

	if (strcmp(s->addr, addr) != 0) {
		memset(s, 0, sizeof(*s));
		snprintf(s->addr, sizeof(s->addr), "%s", addr);
		s->tokens = (double)sbc_cfg->burst;
		s->last_ms = now;
	}
	return s;
}

static struct blocked *blocked_find(const char *addr, uint64_t now)
{
	for (unsigned i = 0; i < nblocked; i++) {
		if (blocked[i].until_ms <= now) { /* expired: drop it */
			blocked[i] = blocked[--nblocked];
			i--;
			continue;
		}
		if (strcmp(blocked[i].addr, addr) == 0)
			return &blocked[i];
	}
	return NULL;
}

static void block(const char *addr, const char *why, uint64_t now)
{
	struct blocked *b;

	if (!blocked) {
		blocked = calloc(sbc_cfg->max_blocked, sizeof(*blocked));
		if (!blocked)
			return;
	}
	if (nblocked < sbc_cfg->max_blocked) {
		b = &blocked[nblocked++];
	} else { /* full: the block ending first makes room */
		b = &blocked[0];
		for (unsigned i = 1; i < nblocked; i++)
			if (blocked[i].until_ms < b->until_ms)
				b = &blocked[i];
	}
	memset(b, 0, sizeof(*b));
	snprintf(b->addr, sizeof(b->addr), "%s", addr);
	snprintf(b->why, sizeof(b->why), "%s", why);
	b->since_ms = now;
	b->until_ms = now + sbc_cfg->block_s * 1000;
	sbc_host->counter_add(sbc_count.blocked, 1);
	tnd_notice("%s blocked for %llu s (%s)", addr, sbc_cfg->block_s, why);
}

void sbc_guard_offence(const char *addr, const char *why)
{
	uint64_t now = sbc_host->now_ms();
	struct source *s = source_of(addr, now);

	if (!s->offences || now - s->first_offence_ms > OFFENCE_WINDOW_MS) {
		s->offences = 0;
		s->first_offence_ms = now;
	}
	if (++s->offences >= sbc_cfg->block_after &&
	    !blocked_find(addr, now)) {
		block(addr, why, now);
		s->offences = 0;
	}
}

enum sbc_guard_verdict sbc_guard_check(const char *addr)
{
	uint64_t now = sbc_host->now_ms();
	struct blocked *b = blocked_find(addr, now);
	struct source *s;

	if (b) {
		b->refused++;
		return GUARD_BLOCKED;
	}
	s = source_of(addr, now);
	s->tokens += (double)(now - s->last_ms) * (double)sbc_cfg->rate_per_s /
		     1000.0;
	if (s->tokens > (double)sbc_cfg->burst)
		s->tokens = (double)sbc_cfg->burst;
	s->last_ms = now;
	if (s->tokens < 1.0)
		return GUARD_RATE;
	s->tokens -= 1.0;
	return GUARD_PASS;
}

void sbc_source_addr(const struct sip_message *m, char *out, size_t size)
{
	char buf[96];
	char *sp, *colon;

	out[0] = '\0';
	if (sbc_sip->source(m, buf, sizeof(buf)) < 0)
		return;
	sp = strchr(buf, ' ');
	sp = sp ? sp + 1 : buf;
	colon = strrchr(sp, ':');
	if (colon)
		*colon = '\0';
	if (sp[0] == '[') { /* [::1] */
		sp++;
		sp[strcspn(sp, "]")] = '\0';
	}
	snprintf(out, size, "%s", sp);
}

int sbc_cmd_show_blocked(struct tnd_reply *r, int argc, char **argv)
{
	uint64_t now = sbc_host->now_ms();

	(void)argv;
	if (argc)
		return sbc_host->reply_error(r, "sbc show blocked takes no "
						"arguments");
	blocked_find("", now); /* drops the expired */
	for (unsigned i = 0; i < nblocked; i++) {
		sbc_host->reply_record(r);
		sbc_host->reply_field(r, "address", "%s", blocked[i].addr);
		sbc_host->reply_field(r, "reason", "%s", blocked[i].why);
		sbc_host->reply_field_num(r, "seconds_left",
					  (blocked[i].until_ms - now + 999) /
						  1000);
		sbc_host->reply_field_num(r, "refused", blocked[i].refused);
	}
	return 0;
}

int sbc_cmd_unblock(struct tnd_reply *r, int argc, char **argv)
{
	uint64_t now = sbc_host->now_ms();
	struct blocked *b;

	if (argc != 1)
		return sbc_host->reply_error(r, "usage: sbc unblock ADDR");
	b = blocked_find(argv[0], now);
	if (!b)
		return sbc_host->reply_error(r, "%s is not blocked", argv[0]);
	tnd_notice("%s unblocked by the operator", argv[0]);
	*b = blocked[--nblocked];
	sbc_host->reply_text(r, "%s unblocked", argv[0]);
	return 0;
}

void sbc_guard_reset(void)
{
	free(blocked);
	blocked = NULL;
	nblocked = 0;
	memset(sources, 0, sizeof(sources));
}
