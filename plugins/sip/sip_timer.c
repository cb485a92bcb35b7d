/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_timer: every deadline of the plugin (transaction timers, connection
 * idle and message timeouts) in one binary min-heap, driven by a single
 * host timer armed for the earliest one. A node holds tens of thousands
 * of transactions at a few thousand calls per second; one loop handle
 * each would cost more than the heap.
 *
 * Deadlines are on CLOCK_MONOTONIC, the clock libosip2's timers use.
 */
#include <errno.h>
#include <stdlib.h>

#include "sip_int.h"

#define NO_INDEX ((size_t)-1)

static struct sip_tnode **heap;
static size_t heap_len, heap_cap;
static struct tnd_timer *host_timer;
static uint64_t armed_for; /* due time the host timer is set for, or 0 */
static bool running_due;

uint64_t sip_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void sip_tnode_init(struct sip_tnode *node, sip_tnode_cb cb)
{
	node->due_ms = 0;
	node->idx = NO_INDEX;
	node->cb = cb;
}

static void place(size_t i, struct sip_tnode *node)
{
	heap[i] = node;
	node->idx = i;
}

static void sift_up(size_t i)
{
	struct sip_tnode *node = heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (heap[parent]->due_ms <= node->due_ms)
			break;
		place(i, heap[parent]);
		i = parent;
	}
	place(i, node);
}

static void sift_down(size_t i)
{
	struct sip_tnode *node = heap[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= heap_len)
			break;
		if (child + 1 < heap_len &&
		    heap[child + 1]->due_ms < heap[child]->due_ms)
			child++;
		if (heap[child]->due_ms >= node->due_ms)
			break;
		place(i, heap[child]);
		i = child;
	}
	place(i, node);
}

static void heap_remove(struct sip_tnode *node)
{
	size_t i = node->idx;
	struct sip_tnode *last = heap[--heap_len];

	node->idx = NO_INDEX;
	if (i == heap_len)
		return;
	place(i, last);
	if (i > 0 && heap[(i - 1) / 2]->due_ms > last->due_ms)
		sift_up(i);
	else
		sift_down(i);
}

/* Arm the host timer for the earliest deadline when it changed. */
static void rearm(void)
{
	uint64_t now, due;

	if (running_due || !host_timer)
		return;
	if (heap_len == 0) {
		if (armed_for)
			sip_host->timer_stop(host_timer);
		armed_for = 0;
		return;
	}
	due = heap[0]->due_ms;
	if (armed_for == due)
		return;
	now = sip_now_ms();
	armed_for = due;
	sip_host->timer_start(host_timer, due > now ? due - now : 0, 0);
}

void sip_timer_at(struct sip_tnode *node, uint64_t due_ms)
{
	if (node->idx != NO_INDEX) {
		uint64_t old = node->due_ms;

		node->due_ms = due_ms;
		if (due_ms < old)
			sift_up(node->idx);
		else
			sift_down(node->idx);
		rearm();
		return;
	}
	if (heap_len == heap_cap) {
		size_t cap = heap_cap ? heap_cap * 2 : 1024;
		struct sip_tnode **h = realloc(heap, cap * sizeof(*h));

		if (!h) {
			tnd_error("out of memory for timers");
			return;
		}
		heap = h;
		heap_cap = cap;
	}
	node->due_ms = due_ms;
	place(heap_len++, node);
	sift_up(heap_len - 1);
	rearm();
}

void sip_timer_cancel(struct sip_tnode *node)
{
	if (node->idx == NO_INDEX)
		return;
	heap_remove(node);
	rearm();
}

static void on_host_timer(struct tnd_timer *timer, void *arg)
{
	uint64_t now = sip_now_ms();
	unsigned budget = 100000; /* bounded work per wake-up */

	(void)timer, (void)arg;
	armed_for = 0;
	running_due = true;
	/* libuv may fire up to a millisecond early against this clock */
	while (heap_len && heap[0]->due_ms <= now + 1 && budget--) {
		struct sip_tnode *node = heap[0];

		heap_remove(node);
		node->cb(node);
	}
	running_due = false;
	rearm();
}

int sip_timers_start(void)
{
	host_timer = sip_host->timer_new(SIP_SELF, on_host_timer, NULL);
	return host_timer ? 0 : -ENOMEM;
}

void sip_timers_stop(void)
{
	while (heap_len)
		heap_remove(heap[0]);
	free(heap);
	heap = NULL;
	heap_len = heap_cap = 0;
	if (host_timer)
		sip_host->timer_free(host_timer);
	host_timer = NULL;
	armed_for = 0;
}

size_t sip_timers_count(void)
{
	return heap_len;
}
