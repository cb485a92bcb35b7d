/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ims_hash.h - a string-keyed hash table (registrations by IMPU,
 * dialogs by Call-ID and tag, pending challenges by nonce).
 *
 * Ownership: the table copies keys; values are the caller's (the table
 * never frees them). Not thread-safe: the loop thread only.
 */
#ifndef TANDEM_IMS_HASH_H
#define TANDEM_IMS_HASH_H

#include <stddef.h>

struct ims_hash_node {
	struct ims_hash_node *next;
	void *value;
	char key[]; /* NUL-terminated */
};

struct ims_hash {
	struct ims_hash_node **slots;
	size_t nslots, count;
};

/* The value under key, or NULL. */
void *ims_hash_get(const struct ims_hash *h, const char *key);
/* Add or replace; 0 or -ENOMEM. */
int ims_hash_put(struct ims_hash *h, const char *key, void *value);
/* Remove key; returns its value or NULL. */
void *ims_hash_del(struct ims_hash *h, const char *key);
/* Call fn for every entry; fn may not change the table. */
void ims_hash_each(const struct ims_hash *h,
		   void (*fn)(const char *key, void *value, void *arg),
		   void *arg);
/* Drop every entry (values untouched) and the slots. */
void ims_hash_clear(struct ims_hash *h);

#endif /* TANDEM_IMS_HASH_H */
