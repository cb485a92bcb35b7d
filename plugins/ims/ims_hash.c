/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ims_hash.c - string-keyed chained hash table, FNV-1a, doubled when the
 * load passes one entry per slot.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ims_hash.h"

static size_t hash_of(const char *key, size_t nslots)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h % nslots);
}

static int grow(struct ims_hash *h)
{
	size_t n = h->nslots ? h->nslots * 2 : 64;
	struct ims_hash_node **slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < h->nslots; i++) {
		struct ims_hash_node *e = h->slots[i], *next;

		for (; e; e = next) {
			size_t k = hash_of(e->key, n);

			next = e->next;
			e->next = slots[k];
			slots[k] = e;
		}
	}
	free(h->slots);
	h->slots = slots;
	h->nslots = n;
	return 0;
}

void *ims_hash_get(const struct ims_hash *h, const char *key)
{
	struct ims_hash_node *e;

	if (!h->nslots)
		return NULL;
	for (e = h->slots[hash_of(key, h->nslots)]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e->value;
	return NULL;
}

int ims_hash_put(struct ims_hash *h, const char *key, void *value)
{
	struct ims_hash_node *e;
	size_t k, len = strlen(key);

	if ((h->count >= h->nslots) && grow(h))
		return -ENOMEM;
	k = hash_of(key, h->nslots);
	for (e = h->slots[k]; e; e = e->next) {
		if (strcmp(e->key, key) == 0) {
			e->value = value;
			return 0;
		}
	}
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->key, key, len + 1);
	e->value = value;
	e->next = h->slots[k];
	h->slots[k] = e;
	h->count++;
	return 0;
}

void *ims_hash_del(struct ims_hash *h, const char *key)
{
	struct ims_hash_node **pp, *e;
	void *value;

	if (!h->nslots)
		return NULL;
	for (pp = &h->slots[hash_of(key, h->nslots)]; (e = *pp);
	     pp = &e->next) {
		if (strcmp(e->key, key) == 0) {
			*pp = e->next;
			value = e->value;
			free(e);
			h->count--;
			return value;
		}
	}
	return NULL;
}

void ims_hash_each(const struct ims_hash *h,
		   void (*fn)(const char *key, void *value, void *arg),
		   void *arg)
{
	for (size_t i = 0; i < h->nslots; i++)
		for (struct ims_hash_node *e = h->slots[i]; e; e = e->next)
			fn(e->key, e->value, arg);
}

void ims_hash_clear(struct ims_hash *h)
{
	for (size_t i = 0; i < h->nslots; i++) {
		struct ims_hash_node *e = h->slots[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(h->slots);
	memset(h, 0, sizeof(*h));
}
