/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcscf_reg.c - the registration cache of the P-CSCF (TS 24.229 5.2.2):
 * for every UE registered through here its Contact, the flow it came
 * from, its public identities (P-Associated-URI, the first being the
 * default one it is asserted as) and the Service-Route its requests must
 * follow. Indexed by Contact (terminating requests), by flow (originating
 * requests) and by identity.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcscf_int.h"

static struct ims_hash by_contact, by_flow, by_impu;

static void on_expiry(struct tnd_timer *t, void *arg);

int pcscf_reg_init(void)
{
	return 0;
}

size_t pcscf_ue_count(void)
{
	return by_contact.count;
}

struct pcscf_ue *pcscf_ue_by_flow(const char *flow)
{
	return ims_hash_get(&by_flow, flow);
}

struct pcscf_ue *pcscf_ue_by_contact(const char *contact)
{
	return ims_hash_get(&by_contact, contact);
}

struct pcscf_ue *pcscf_ue_by_impu(const char *impu)
{
	return ims_hash_get(&by_impu, impu);
}

bool pcscf_ue_has(const struct pcscf_ue *ue, const char *impu)
{
	for (size_t i = 0; i < ue->nimpus; i++)
		if (strcmp(ue->impus[i], impu) == 0)
			return true;
	return false;
}

static void ue_free(struct pcscf_ue *ue)
{
	if (ue->rx_signalling)
		pcscf_rx_signalling_end(ue, "registration ended");
	if (ims_hash_get(&by_contact, ue->contact) == ue)
		ims_hash_del(&by_contact, ue->contact);
	if (ue->flow && ims_hash_get(&by_flow, ue->flow) == ue)
		ims_hash_del(&by_flow, ue->flow);
	for (size_t i = 0; i < ue->nimpus; i++) {
		if (ims_hash_get(&by_impu, ue->impus[i]) == ue)
			ims_hash_del(&by_impu, ue->impus[i]);
		free(ue->impus[i]);
	}
	if (ue->timer)
		pcscf_host->timer_free(ue->timer);
	free(ue->impus);
	free(ue->aor);
	free(ue->contact);
	free(ue->flow);
	free(ue->service_route);
	free(ue->sec_mech);
	free(ue->sub_call_id);
	free(ue->sub_tag);
	free(ue);
}

void pcscf_ue_drop(struct pcscf_ue *ue, const char *why)
{
	tnd_info("%s (%s) dropped from the cache: %s", ue->aor, ue->contact,
		 why);
	pcscf_regevent_unsubscribe(ue);
	ue_free(ue);
}

static int add_impus(struct pcscf_ue *ue, const char *associated)
{
	const char *p = associated;
	char elem[IMS_HDR_MAX], uri[IMS_URI_MAX], aor[IMS_URI_MAX];

	/* the registered identity first: the default for an assertion
	 * unless the network lists another first (TS 24.229 5.2.2.2) */
	while (p && ims_list_next(&p, elem, sizeof(elem))) {
		char **impus;

		if (ims_uri_of(elem, uri, sizeof(uri)) ||
		    ims_aor(uri, aor, sizeof(aor)) || pcscf_ue_has(ue, aor))
			continue;
		impus = realloc(ue->impus, (ue->nimpus + 1) * sizeof(*impus));
		if (!impus || !(impus[ue->nimpus] = strdup(aor))) {
			if (impus)
				ue->impus = impus;
			return -ENOMEM;
		}
		ue->impus = impus;
		ue->nimpus++;
	}
	if (!ue->nimpus) {
		ue->impus = calloc(1, sizeof(*ue->impus));
		if (!ue->impus || !(ue->impus[0] = strdup(ue->aor)))
			return -ENOMEM;
		ue->nimpus = 1;
	}
	return 0;
}

static int index_ue(struct pcscf_ue *ue)
{
	if (ims_hash_put(&by_contact, ue->contact, ue) ||
	    (ue->flow && ims_hash_put(&by_flow, ue->flow, ue)))
		return -ENOMEM;
	for (size_t i = 0; i < ue->nimpus; i++)
		if (ims_hash_put(&by_impu, ue->impus[i], ue))
			return -ENOMEM;
	return 0;
}

/* Take the UE's identities and flow out of the indexes (its Contact
 * stays: a refresh keeps it). */
static void unindex_ue(struct pcscf_ue *ue)
{
	if (ue->flow && ims_hash_get(&by_flow, ue->flow) == ue)
		ims_hash_del(&by_flow, ue->flow);
	for (size_t i = 0; i < ue->nimpus; i++) {
		if (ims_hash_get(&by_impu, ue->impus[i]) == ue)
			ims_hash_del(&by_impu, ue->impus[i]);
		free(ue->impus[i]);
	}
	free(ue->impus);
	ue->impus = NULL;
	ue->nimpus = 0;
}

static int replace_str(char **field, const char *value)
{
	char *copy = value ? strdup(value) : NULL;

	if (value && !copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

/*
 * A re-registration of a Contact we have: the entry is updated where it
 * is, its timer restarted (re-registrations are most of a P-CSCF's
 * REGISTER traffic; making a new entry and timer each time cost 4 % of
 * its time under load). Its reg event subscription and security
 * mechanism carry on. NULL (and the entry dropped) when out of memory.
 */
static struct pcscf_ue *ue_refresh(struct pcscf_ue *ue, const char *aor,
				   const char *flow, int64_t expires,
				   const char *service_route,
				   const char *associated)
{
	/* its signalling session names the old flow: a new one follows */
	if (ue->rx_signalling && (!flow || !ue->flow || strcmp(flow, ue->flow)))
		pcscf_rx_signalling_end(ue, "the UE's flow changed");
	unindex_ue(ue);
	if (replace_str(&ue->aor, aor) || replace_str(&ue->flow, flow) ||
	    replace_str(&ue->service_route, service_route) ||
	    add_impus(ue, associated) || index_ue(ue)) {
		pcscf_ue_drop(ue, "out of memory");
		return NULL;
	}
	ue->expires_at = ims_now_s() + expires;
	pcscf_host->timer_start(ue->timer, (uint64_t)expires * 1000 + 2000, 0);
	return ue;
}

struct pcscf_ue *pcscf_ue_save(const char *aor, const char *contact,
			       const char *flow, int64_t expires,
			       const char *service_route,
			       const char *associated)
{
	struct pcscf_ue *old = pcscf_ue_by_contact(contact);
	struct pcscf_ue *ue;

	if (old && old->timer)
		return ue_refresh(old, aor, flow, expires, service_route,
				  associated);
	ue = calloc(1, sizeof(*ue));
	if (!ue)
		return NULL;
	ue->aor = strdup(aor);
	ue->contact = strdup(contact);
	ue->flow = flow ? strdup(flow) : NULL;
	ue->service_route = service_route ? strdup(service_route) : NULL;
	ue->expires_at = ims_now_s() + expires;
	ue->timer = pcscf_host->timer_new(PCSCF_SELF, on_expiry, ue);
	if (old) {
		/* a refresh: the subscription carries on */
		ue->sub_client = old->sub_client;
		ue->sub_call_id = old->sub_call_id;
		ue->sub_tag = old->sub_tag;
		ue->sub_cseq = old->sub_cseq;
		ue->sub_expires_at = old->sub_expires_at;
		ue->sec_mech = old->sec_mech;
		ue->rx_signalling = old->rx_signalling;
		old->rx_signalling = NULL;
		old->sub_client = NULL;
		old->sub_call_id = old->sub_tag = old->sec_mech = NULL;
		ue_free(old);
	}
	if (!ue->aor || !ue->contact || (flow && !ue->flow) || !ue->timer ||
	    (service_route && !ue->service_route) ||
	    add_impus(ue, associated) || index_ue(ue)) {
		ue_free(ue);
		return NULL;
	}
	/* a little after the S-CSCF's own expiry */
	pcscf_host->timer_start(ue->timer, (uint64_t)expires * 1000 + 2000, 0);
	return ue;
}

struct match_ctx {
	const char *aor;
	struct pcscf_ue *found[256];
	unsigned n;
};

static void match_aor(const char *key, void *value, void *arg)
{
	struct match_ctx *m = arg;

	(void)key;
	if (m->n < IMS_ARRAY_SIZE(m->found) && pcscf_ue_has(value, m->aor))
		m->found[m->n++] = value;
}

unsigned pcscf_ue_drop_aor(const char *aor, const char *why)
{
	struct match_ctx m = { .aor = aor };

	ims_hash_each(&by_contact, match_aor, &m);
	for (unsigned i = 0; i < m.n; i++)
		pcscf_ue_drop(m.found[i], why);
	return m.n;
}

static void on_expiry(struct tnd_timer *t, void *arg)
{
	(void)t;
	pcscf_ue_drop(arg, "registration expired");
}

struct each_ctx {
	void (*fn)(struct pcscf_ue *ue, void *arg);
	void *arg;
};

static void each_one(const char *key, void *value, void *arg)
{
	struct each_ctx *e = arg;

	(void)key;
	e->fn(value, e->arg);
}

void pcscf_ue_each(void (*fn)(struct pcscf_ue *ue, void *arg), void *arg)
{
	struct each_ctx e = { fn, arg };

	ims_hash_each(&by_contact, each_one, &e);
}

static void collect(const char *key, void *value, void *arg)
{
	struct pcscf_ue ***p = arg;

	(void)key;
	*(*p)++ = value;
}

void pcscf_reg_fini(void)
{
	struct pcscf_ue **all = calloc(by_contact.count + 1, sizeof(*all));
	struct pcscf_ue **p = all;

	if (all) {
		ims_hash_each(&by_contact, collect, &p);
		for (struct pcscf_ue **u = all; u < p; u++)
			ue_free(*u);
		free(all);
	}
	ims_hash_clear(&by_contact);
	ims_hash_clear(&by_flow);
	ims_hash_clear(&by_impu);
}
