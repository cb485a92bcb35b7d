/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scscf_reg.c - the registrations this S-CSCF serves: one per registered
 * identity, indexed by every identity of its implicit registration set
 * (TS 23.228 5.2.1a), with its bindings (Contact, Path, expiry), the
 * downloaded profile and an expiry timer. Every change is written to the
 * store first, so a restart finds the same state (scscf_reg_load).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scscf_int.h"

static struct ims_hash by_impu; /* every IMPU of a set -> its reg */
static struct ims_hash regs;	/* registered IMPU -> reg (owner) */

static void on_expiry(struct tnd_timer *t, void *arg);

int scscf_reg_init(void)
{
	return 0;
}

size_t scscf_reg_count(void)
{
	return regs.count;
}

struct scscf_reg *scscf_reg_find(const char *impu)
{
	struct scscf_reg *r = ims_hash_get(&by_impu, impu);

	return r ? r : ims_hash_get(&regs, impu);
}

struct scscf_reg *scscf_reg_new(const char *impu, const char *impi)
{
	struct scscf_reg *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return NULL;
	reg->impu = strdup(impu);
	reg->impi = strdup(impi);
	reg->timer = scscf_host->timer_new(SCSCF_SELF, on_expiry, reg);
	if (!reg->impu || !reg->impi || !reg->timer ||
	    ims_hash_put(&regs, reg->impu, reg)) {
		if (reg->timer)
			scscf_host->timer_free(reg->timer);
		free(reg->impu);
		free(reg->impi);
		free(reg);
		return NULL;
	}
	return reg;
}

static void contact_free(struct scscf_contact *c)
{
	free(c->uri);
	free(c->path);
	free(c->call_id);
	free(c->received);
	free(c->instance);
	free(c);
}

static void unindex(struct scscf_reg *reg)
{
	if (!reg->profile)
		return;
	for (size_t i = 0; i < reg->profile->nimpus; i++)
		if (ims_hash_get(&by_impu, reg->profile->impus[i]) == reg)
			ims_hash_del(&by_impu, reg->profile->impus[i]);
}

static void reg_free(struct scscf_reg *reg)
{
	struct scscf_contact *c, *next;

	unindex(reg);
	if (ims_hash_get(&regs, reg->impu) == reg)
		ims_hash_del(&regs, reg->impu);
	for (c = reg->contacts; c; c = next) {
		next = c->next;
		contact_free(c);
	}
	scscf_regevent_drop(reg);
	scscf_profile_free(reg->profile);
	if (reg->timer)
		scscf_host->timer_free(reg->timer);
	free(reg->impu);
	free(reg->impi);
	free(reg->user_data);
	free(reg);
}

int scscf_reg_set_user_data(struct scscf_reg *reg, const char *xml, size_t len)
{
	struct scscf_profile *p;
	char why[160] = "";
	char *copy;
	int rc = scscf_profile_parse(xml, len, reg->impu, &p, why, sizeof(why));

	if (rc) {
		tnd_notice("%s: profile refused: %s", reg->impu, why);
		return rc;
	}
	copy = strndup(xml, len);
	if (!copy) {
		scscf_profile_free(p);
		return -ENOMEM;
	}
	unindex(reg);
	scscf_profile_free(reg->profile);
	free(reg->user_data);
	reg->profile = p;
	reg->user_data = copy;
	return 0;
}

int scscf_reg_commit(struct scscf_reg *reg)
{
	if (reg->profile)
		for (size_t i = 0; i < reg->profile->nimpus; i++)
			if (ims_hash_put(&by_impu, reg->profile->impus[i], reg))
				return -ENOMEM;
	return scscf_store_save_reg(reg);
}

void scscf_reg_drop(struct scscf_reg *reg, const char *why)
{
	tnd_info("%s: registration dropped (%s)", reg->impu, why);
	scscf_store_delete_reg(reg->impu);
	reg_free(reg);
}

size_t scscf_reg_contacts(const struct scscf_reg *reg)
{
	size_t n = 0;

	for (const struct scscf_contact *c = reg->contacts; c; c = c->next)
		n++;
	return n;
}

static int set_str(char **dst, const char *src)
{
	char *copy = src ? strdup(src) : NULL;

	if (src && !copy)
		return -ENOMEM;
	free(*dst);
	*dst = copy;
	return 0;
}

static void unlink_contact(struct scscf_reg *reg, struct scscf_contact *c)
{
	struct scscf_contact **pp;

	for (pp = &reg->contacts; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	scscf_store_delete_contact(reg->impu, c->uri);
	contact_free(c);
}

int scscf_reg_bind(struct scscf_reg *reg, const char *uri, int64_t expires,
		   const char *path, const char *call_id, uint32_t cseq,
		   const char *received, const char *instance)
{
	struct scscf_contact *c;

	for (c = reg->contacts; c; c = c->next)
		if (strcmp(c->uri, uri) == 0 ||
		    (instance && c->instance &&
		     strcmp(c->instance, instance) == 0))
			break;
	if (!expires) {
		if (c)
			unlink_contact(reg, c);
		return 0;
	}
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->next = reg->contacts;
		reg->contacts = c;
	}
	if (set_str(&c->uri, uri) || set_str(&c->path, path) ||
	    set_str(&c->call_id, call_id) || set_str(&c->received, received) ||
	    set_str(&c->instance, instance))
		return -ENOMEM;
	c->expires_at = ims_now_s() + expires;
	c->cseq = cseq;
	return scscf_store_save_contact(reg->impu, c);
}

void scscf_reg_unbind_all(struct scscf_reg *reg)
{
	while (reg->contacts)
		unlink_contact(reg, reg->contacts);
}

void scscf_reg_rearm(struct scscf_reg *reg)
{
	int64_t now = ims_now_s(), first = 0;

	for (struct scscf_contact *c = reg->contacts; c; c = c->next)
		if (!first || c->expires_at < first)
			first = c->expires_at;
	scscf_host->timer_stop(reg->timer);
	if (first)
		scscf_host->timer_start(
			reg->timer,
			first > now ? (uint64_t)(first - now) * 1000 + 50 : 0,
			0);
}

void scscf_reg_terminate(struct scscf_reg *reg, int sar_type, const char *event,
			 const char *why)
{
	tnd_notice("%s: de-registered by the network (%s)", reg->impu, why);
	reg->state = REG_NOT_REGISTERED;
	if (sar_type >= 0)
		scscf_cx_sar(reg->impi, reg->impu, sar_type, true, NULL, NULL);
	/* RFC 3680 / TS 24.229 5.4.1.5: every binding "terminated" */
	scscf_regevent_notify(reg, event);
	scscf_host->counter_add(scscf_cnt.deregistered, 1);
	scscf_reg_unbind_all(reg);
	scscf_reg_drop(reg, why);
}

/* RFC 3261 10.3: a binding lives until its expiry; the last one gone,
 * the registration ends with SAR TIMEOUT_DEREGISTRATION (TS 24.229
 * 5.4.1.6). */
static void on_expiry(struct tnd_timer *t, void *arg)
{
	struct scscf_reg *reg = arg;
	int64_t now = ims_now_s();
	struct scscf_contact *c, *next;
	bool gone = false;

	(void)t;
	for (c = reg->contacts; c; c = next) {
		next = c->next;
		if (c->expires_at <= now) {
			tnd_info("%s: contact %s expired", reg->impu, c->uri);
			unlink_contact(reg, c);
			gone = true;
		}
	}
	if (!reg->contacts) {
		scscf_host->counter_add(scscf_cnt.expired, 1);
		scscf_reg_terminate(reg, SAR_TIMEOUT_DEREGISTRATION, "expired",
				    "registration expired");
		return;
	}
	if (gone)
		scscf_regevent_notify(reg, "expired");
	scscf_reg_rearm(reg);
}

struct each_ctx {
	void (*fn)(struct scscf_reg *reg, void *arg);
	void *arg;
};

static void each_one(const char *key, void *value, void *arg)
{
	struct each_ctx *e = arg;

	(void)key;
	e->fn(value, e->arg);
}

void scscf_reg_each(void (*fn)(struct scscf_reg *reg, void *arg), void *arg)
{
	struct each_ctx e = { fn, arg };

	ims_hash_each(&regs, each_one, &e);
}

/* ---- Restart: what the store holds --------------------------------------- */

static int load_reg(const char *impu, const char *impi, int state,
		    const char *user_data, void *arg)
{
	struct scscf_reg *reg = scscf_reg_new(impu, impi ? impi : "");

	(void)arg;
	if (!reg)
		return -ENOMEM;
	reg->state = state;
	if (user_data)
		scscf_reg_set_user_data(reg, user_data, strlen(user_data));
	if (reg->profile)
		for (size_t i = 0; i < reg->profile->nimpus; i++)
			ims_hash_put(&by_impu, reg->profile->impus[i], reg);
	return 0;
}

static int load_contact(const char *impu, const struct scscf_contact *c,
			void *arg)
{
	struct scscf_reg *reg = ims_hash_get(&regs, impu);
	struct scscf_contact *copy;

	(void)arg;
	if (!reg)
		return 0;
	copy = calloc(1, sizeof(*copy));
	if (!copy || set_str(&copy->uri, c->uri) ||
	    set_str(&copy->path, c->path) ||
	    set_str(&copy->call_id, c->call_id) ||
	    set_str(&copy->received, c->received) ||
	    set_str(&copy->instance, c->instance)) {
		if (copy)
			contact_free(copy);
		return -ENOMEM;
	}
	copy->expires_at = c->expires_at;
	copy->cseq = c->cseq;
	copy->next = reg->contacts;
	reg->contacts = copy;
	return 0;
}

static void rearm_one(struct scscf_reg *reg, void *arg)
{
	(void)arg;
	scscf_reg_rearm(reg);
}

int scscf_reg_load(void)
{
	int rc = scscf_store_load(load_reg, load_contact, NULL);

	if (rc)
		return rc;
	/* expired while we were down: the timers fire at once */
	scscf_reg_each(rearm_one, NULL);
	if (regs.count)
		tnd_notice("%zu registration(s) restored from the store",
			   regs.count);
	return 0;
}

static void free_one(const char *key, void *value, void *arg)
{
	struct scscf_reg ***list = arg;

	(void)key;
	*(*list)++ = value;
}

void scscf_reg_fini(void)
{
	struct scscf_reg **all = calloc(regs.count + 1, sizeof(*all));
	struct scscf_reg **p = all;

	if (all) {
		ims_hash_each(&regs, free_one, &p);
		for (struct scscf_reg **r = all; r < p; r++)
			reg_free(*r);
		free(all);
	}
	ims_hash_clear(&regs);
	ims_hash_clear(&by_impu);
}
