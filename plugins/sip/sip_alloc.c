/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_alloc: size-class free lists under libosip2's allocator hooks.
 *
 * libosip2 allocates every string, URI parameter and header of a message
 * separately, and every transaction is a 15 KB struct (it embeds a DNS SRV
 * record). With glibc's allocator that was about a third of the proxy's
 * user time: small-bin churn, malloc_consolidate on each transaction, and
 * the heap top trimmed and grown again (brk and page faults) many times a
 * second. Freed blocks here go to a list of their size class and are
 * handed out again; each list keeps at most about 1 MB. Blocks larger
 * than the largest class go to malloc directly.
 *
 * The lists belong to the thread that installed the hooks (the node's
 * loop thread, the only one that drives SIP). Other threads get plain
 * malloc'd blocks and free to the C library. This replaced per-thread
 * lists: in a dlopen'ed module every _Thread_local access is a call to
 * __tls_get_addr, measured at 2% of the proxy's user time
 * (contrib/bench/sip-proxy-profile), for lists only one thread used.
 *
 * Every block starts with a header naming its class and a magic word, so
 * free() of a block libosip2 got before the hooks were set is passed to
 * the C library. Sanitizer builds keep glibc's allocator, so ASan still
 * sees every use after free.
 */
#include <pthread.h>
#include <stdbool.h>
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

/* Free blocks of each class on a stack of pointers: handing one out
 * reads the stack's top (hot), not the block (cold: a linked list of
 * free blocks stalled on that load, most of pool_malloc's time). */
struct pool {
	struct block **stack[NCLASSES];
	uint32_t count[NCLASSES];
	uint32_t cap[NCLASSES];
};

static struct pool pool;
static pthread_t owner;

/* Class of each size up to SMALL_MAX, by 16-byte steps: most of
 * libosip2's blocks, found without a search. */
#define SMALL_MAX 1024
static uint8_t small_class[SMALL_MAX / 16 + 1];

static uint32_t class_search(size_t size)
{
	uint32_t lo = 0, hi = NCLASSES;

	while (lo < hi) { /* the first class that fits */
		uint32_t mid = (lo + hi) / 2;

		if (class_size[mid] < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint32_t class_of(size_t size)
{
	if (size <= SMALL_MAX)
		return small_class[(size + 15) / 16];
	if (size > class_size[NCLASSES - 1])
		return BIG;
	return class_search(size);
}

static bool is_owner(void)
{
	return pthread_equal(pthread_self(), owner);
}

static void *pool_malloc(size_t size)
{
	uint32_t cls = is_owner() ? class_of(size) : BIG;
	struct block *b;

	if (cls != BIG && pool.count[cls]) {
		b = pool.stack[cls][--pool.count[cls]];
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
	if (cls == BIG || !is_owner() || pool.count[cls] >= pool.cap[cls]) {
		free(b);
		return;
	}
	pool.stack[cls][pool.count[cls]++] = b;
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
	if (!SIP_POOL)
		return;
	for (size_t i = 0; i < sizeof(small_class); i++)
		small_class[i] = (uint8_t)class_search(i * 16);
	for (uint32_t c = 0; c < NCLASSES; c++) {
		uint32_t cap = POOL_BYTES / class_size[c];

		pool.stack[c] = malloc(cap * sizeof(*pool.stack[c]));
		pool.cap[c] = pool.stack[c] ? cap : 0; /* no stack: no pool */
	}
	owner = pthread_self();
	osip_set_allocators(pool_malloc, pool_realloc, pool_free);
}

/* After everything libosip2 gave us is freed: the C library again, and
 * the lists back to it (on the thread that installed the hooks). */
void sip_alloc_uninstall(void)
{
	if (!SIP_POOL)
		return;
	osip_set_allocators(NULL, NULL, NULL);
	for (uint32_t c = 0; c < NCLASSES; c++) {
		while (pool.count[c])
			free(pool.stack[c][--pool.count[c]]);
		free(pool.stack[c]);
		pool.stack[c] = NULL;
		pool.cap[c] = 0;
	}
}
