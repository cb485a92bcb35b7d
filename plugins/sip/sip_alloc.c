/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_alloc: size-class free lists under libosip2's allocator hooks.
 *
 * libosip2 allocates every string, URI parameter and header of a message
 * separately, and every transaction is a 15 KB struct (it embeds a DNS SRV
 * record). With glibc's allocator that was about a third of the proxy's
 * user time: small-bin churn, malloc_consolidate on each transaction, and
 * the heap top trimmed and grown again (brk and page faults) many times a
 * second. Freed blocks here go to a per-thread list of their size class
 * and are handed out again; each list keeps at most about 1 MB. Blocks
 * larger than the largest class go to malloc directly.
 *
 * Every block starts with a header naming its class and a magic word, so
 * free() of a block libosip2 got before the hooks were set is passed to
 * the C library. Sanitizer builds keep glibc's allocator, so ASan still
 * sees every use after free.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip_int.h"

#if defined(__SANITIZE_ADDRESS__)
#define SIP_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIP_POOL 0
#endif
#endif
#ifndef SIP_POOL
#define SIP_POOL 1
#endif

#define MAGIC 0x5a1b5e55c0ffee01ULL
#define BIG 0xffffffffU
#define POOL_BYTES (1u << 20) /* kept per class and thread */

static const uint32_t class_size[] = {
	32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072,
	4096, 8192, 16384, 24576,
};
#define NCLASSES (sizeof(class_size) / sizeof(class_size[0]))

struct block {
	uint64_t magic;
	uint32_t cls;
	uint32_t pad;
	/* the user's bytes follow, 16-byte aligned */
};

struct free_block {
	struct free_block *next;
};

struct pool {
	struct free_block *head[NCLASSES];
	uint32_t count[NCLASSES];
};

static _Thread_local struct pool pool;

static uint32_t class_of(size_t size)
{
	uint32_t lo = 0, hi = NCLASSES;

	if (size > class_size[NCLASSES - 1])
		return BIG;
	while (lo < hi) { /* the first class that fits */
		uint32_t mid = (lo + hi) / 2;

		if (class_size[mid] < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void *pool_malloc(size_t size)
{
	uint32_t cls = class_of(size);
	struct block *b;

	if (cls != BIG && pool.head[cls]) {
		b = (struct block *)pool.head[cls];
		pool.head[cls] = pool.head[cls]->next;
		pool.count[cls]--;
	} else {
		b = malloc(sizeof(*b) + (cls == BIG ? size : class_size[cls]));
		if (!b)
			return NULL;
	}
	b->magic = MAGIC;
	b->cls = cls;
	return b + 1;
}

static void pool_free(void *p)
{
	struct block *b;
	uint32_t cls;

	if (!p)
		return;
	b = (struct block *)p - 1;
	if (b->magic != MAGIC) {
		free(p); /* allocated before the hooks were set */
		return;
	}
	cls = b->cls;
	b->magic = 0;
	if (cls == BIG || pool.count[cls] >= POOL_BYTES / class_size[cls]) {
		free(b);
		return;
	}
	((struct free_block *)b)->next = pool.head[cls];
	pool.head[cls] = (struct free_block *)b;
	pool.count[cls]++;
}

static void *pool_realloc(void *p, size_t size)
{
	struct block *b;
	size_t have;
	void *n;

	if (!p)
		return pool_malloc(size);
	b = (struct block *)p - 1;
	if (b->magic != MAGIC)
		return realloc(p, size);
	if (b->cls != BIG && size <= class_size[b->cls])
		return p;
	n = pool_malloc(size);
	if (!n)
		return NULL;
	have = b->cls == BIG ? size : class_size[b->cls];
	memcpy(n, p, have < size ? have : size);
	pool_free(p);
	return n;
}

void sip_alloc_install(void)
{
	if (SIP_POOL)
		osip_set_allocators(pool_malloc, pool_realloc, pool_free);
}

/* After everything libosip2 gave us is freed: the C library again, and
 * the lists of this thread back to it. */
void sip_alloc_uninstall(void)
{
	if (!SIP_POOL)
		return;
	osip_set_allocators(NULL, NULL, NULL);
	for (uint32_t c = 0; c < NCLASSES; c++) {
		while (pool.head[c]) {
			struct free_block *f = pool.head[c];

			pool.head[c] = f->next;
			free(f);
		}
		pool.count[c] = 0;
	}
}
