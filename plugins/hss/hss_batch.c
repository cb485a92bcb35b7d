/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hss_batch.c - group commit. The changes the Cx and Sh handlers make
 * during one loop turn (SQN, S-CSCF assignment, registration state, Sh
 * data) go into one SQLite transaction, committed right after the turn's
 * I/O (the host's turn callback); the answers that follow those changes
 * are kept until that commit and leave only after it.
 *
 * What an answer promises is durable before it leaves, as with a commit
 * per request: an SQN handed out in a MAA is in the WAL file (written, so
 * safe from a crash of the node; synchronous=NORMAL, see hss_store.c)
 * before the MAA is given to freeDiameter. When the commit fails none of
 * the turn's changes were made: every answer kept is replaced by a 5012
 * DIAMETER_UNABLE_TO_COMPLY without the data it carried.
 *
 * An answer the loop gave out earlier in the turn, before the first
 * change, saw only committed data. One given after it (any handler, once
 * the group is open) is kept too, so that no answer reflects a change that
 * may yet be rolled back.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "hss_int.h"

#define MAX_HANDLERS 16

struct batched {
	dia_request_cb cb;
};

static struct batched handlers[MAX_HANDLERS];
static size_t nhandlers;
static struct dia_msg **held;
static size_t nheld, held_cap;
static struct tnd_turn *turn;
static bool enabled;

static bool host_has_turns(void)
{
	return hss_host->size >= offsetof(struct tnd_host_api, turn_free) +
					 sizeof(hss_host->turn_free) &&
	       hss_host->turn_new;
}

static bool service_has_renew(void)
{
	return dia->size >= offsetof(struct diameter_service, answer_renew) +
				    sizeof(dia->answer_renew) &&
	       dia->answer_renew;
}

/* The failed commit took the answer's data with it: a 5012 instead. */
static struct dia_msg *answer_failed(struct dia_msg *ans)
{
	ans = dia->answer_renew(ans);
	if (ans)
		dia->set_result(ans, DIA_UNABLE_TO_COMPLY);
	hss_host->counter_add(hss_cnt.errors, 1);
	return ans;
}

/* Commits the group and sends what was kept: 0, or -EIO when the commit
 * failed (the kept answers became 5012). */
static int flush(void)
{
	size_t n = nheld;
	int rc;

	if (!hss_db || (!n && !hss_store_batch_pending(hss_db)))
		return 0;
	rc = hss_store_batch_end(hss_db);
	nheld = 0;
	hss_host->counter_add(hss_cnt.commits, 1);
	if (rc)
		tnd_error("the group commit failed: %zu answers become 5012 "
			  "UNABLE_TO_COMPLY",
			  n);
	for (size_t i = 0; i < n; i++) {
		struct dia_msg *ans = rc ? answer_failed(held[i]) : held[i];

		if (ans)
			dia->answer_send(ans);
	}
	return rc;
}

void hss_batch_flush(void)
{
	flush();
}

static void on_turn(struct tnd_turn *t, void *arg)
{
	(void)t, (void)arg;
	hss_batch_flush();
}

static int hold(struct dia_msg *ans)
{
	if (nheld == held_cap) {
		size_t cap = held_cap ? 2 * held_cap : 64;
		struct dia_msg **a = realloc(held, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		held = a;
		held_cap = cap;
	}
	held[nheld++] = ans;
	return 0;
}

/* Sets the result the service would have set for rc. */
static void settle_result(struct dia_msg *ans, int rc)
{
	uint32_t vendor, code;

	if (dia->result(ans, &vendor, &code) == 0)
		return;
	dia->set_result(ans, rc >= 1000 ? (uint32_t)rc : DIA_UNABLE_TO_COMPLY);
}

static int run_batched(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	const struct batched *h = arg;
	int rc;

	if (!enabled || !hss_db)
		return h->cb(req, ans, NULL);
	hss_store_batching(hss_db, true);
	rc = h->cb(req, ans, NULL);
	hss_store_batching(hss_db, false);
	if (rc == DIA_DEFER || !hss_store_batch_pending(hss_db))
		return rc;
	settle_result(ans, rc);
	if (hold(ans) == 0)
		return DIA_DEFER;
	/* Out of memory to keep it: commit the group now, then answer. */
	if (flush() == 0)
		return rc;
	ans = answer_failed(ans);
	if (ans)
		dia->answer_send(ans);
	return DIA_DEFER;
}

int hss_batch_handle(uint32_t app_id, uint32_t cmd_code, dia_request_cb cb)
{
	struct batched *h;

	if (nhandlers == MAX_HANDLERS)
		return -ENOSPC;
	h = &handlers[nhandlers++];
	h->cb = cb;
	return dia->handle(HSS_SELF, app_id, cmd_code, run_batched, h);
}

int hss_batch_start(void)
{
	if (!host_has_turns() || !service_has_renew()) {
		tnd_notice("no group commit: the host or the diameter service "
			   "is too old; one commit per change");
		return 0;
	}
	turn = hss_host->turn_new(HSS_SELF, on_turn, NULL);
	if (!turn)
		return -ENOMEM;
	enabled = true;
	return 0;
}

void hss_batch_stop(void)
{
	hss_batch_flush();
	enabled = false;
	if (turn)
		hss_host->turn_free(turn);
	turn = NULL;
	free(held);
	held = NULL;
	held_cap = 0;
}
