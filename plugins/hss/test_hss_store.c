/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_hss_store: the SQLite subscriber store on its own: schema made by
 * the migrations, provisioning all or nothing, look-ups (wildcarded PSI
 * too), SQN and S-CSCF updates, and that a re-opened file keeps all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hss_store.h"
#include "tap.h"

static void subscriber(struct hss_subscriber *s, const char *impi,
		       const char *impu1, const char *impu2)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->impi.name, sizeof(s->impi.name), "%s", impi);
	snprintf(s->impi.scheme, sizeof(s->impi.scheme), "aka");
	snprintf(s->impi.k, sizeof(s->impi.k), "%s",
		 "465b5ce8b199b49faa5f0a2ee238a6bc");
	snprintf(s->impi.opc, sizeof(s->impi.opc), "%s",
		 "cd63cb71954a9f4e48a5994e37a02baf");
	snprintf(s->impi.amf, sizeof(s->impi.amf), "8000");
	for (const char *u = impu1; u; u = u == impu1 ? impu2 : NULL) {
		struct hss_impu *x = &s->impus[s->nimpus++];

		snprintf(x->identity, sizeof(x->identity), "%s", u);
		x->irs = 1;
		x->can_register = 1;
		x->type = strchr(u, '!') ? HSS_WILDCARDED_PSI
					 : HSS_PUBLIC_USER_IDENTITY;
	}
}

static int count_impus(const struct hss_impu *u, void *arg)
{
	(void)u;
	(*(int *)arg)++;
	return 0;
}

/* Group commit: changes made while batching wait for batch_end, and a
 * change outside the group commits it first. */
static void group_commit(struct hss_store *st, int64_t impi_id)
{
	struct hss_impi impi;

	hss_store_batching(st, true);
	hss_impi_set_sqn(st, impi_id, 0x1000);
	hss_impi_set_sqn(st, impi_id, 0x2000);
	hss_store_batching(st, false);
	ok(hss_store_batch_pending(st) &&
		   hss_impi_get(st, "alice@ims.lab", &impi) == 0 &&
		   impi.sqn == 0x2000,
	   "changes while batching wait in one group, visible to reads");
	ok(hss_store_batch_end(st) == 0 && !hss_store_batch_pending(st),
	   "batch_end commits the group");
	hss_store_batching(st, true);
	hss_impi_set_sqn(st, impi_id, 0x3000);
	hss_store_batching(st, false);
	ok(hss_profile_put(st, "p", "") == 0 && !hss_store_batch_pending(st),
	   "a change outside the group commits the group first");
	hss_store_batching(st, true);
	hss_impi_set_sqn(st, impi_id, 0x4000);
	hss_store_batching(st, false);
	ok(hss_store_begin(st) == 0 && hss_store_commit(st) == 0 &&
		   !hss_store_batch_pending(st),
	   "so does an explicit transaction");
	hss_store_batching(st, true);
	hss_impi_set_sqn(st, impi_id, 0x5000);
	hss_store_batching(st, false); /* left open: close commits it */
}

int main(void)
{
	char path[] = "/tmp/test_hss_store.XXXXXX";
	struct hss_store *st = NULL;
	struct hss_subscriber s, t;
	struct hss_impi impi;
	struct hss_impu impu;
	struct hss_subscription sub;
	uint32_t seq = 0;
	char *data = NULL;
	size_t len = 0;
	int fd = mkstemp(path), n = 0;

	tap_plan(21);
	close(fd);
	ok(hss_store_open(path, &st) == 0, "a new store opens");
	ok(hss_store_version(st) == 3,
	   "migrations bring it to schema 3 (got %d)", hss_store_version(st));
	subscriber(&s, "alice@ims.lab", "sip:alice@ims.lab", "tel:+15551234");
	ok(hss_subscriber_add(st, &s) == 0, "a subscriber is added");
	subscriber(&t, "bob@ims.lab", "sip:bob@ims.lab", "sip:alice@ims.lab");
	ok(hss_subscriber_add(st, &t) == -EEXIST,
	   "a duplicate IMPU is refused with -EEXIST");
	ok(hss_impi_get(st, "bob@ims.lab", &impi) == -ENOENT,
	   "and nothing of the refused subscriber stays");
	ok(hss_impu_get(st, "tel:+15551234", &impu) == 0 &&
		   impu.subscription_id == s.sub.id,
	   "an IMPU is found with its subscription");
	subscriber(&t, "psi@ims.lab", "sip:chat-!.*!@ims.lab", NULL);
	hss_subscriber_add(st, &t);
	ok(hss_impu_get(st, "sip:chat-42@ims.lab", &impu) == 0 &&
		   impu.type == HSS_WILDCARDED_PSI,
	   "a wildcarded PSI matches an identity of its range");
	ok(hss_impu_get(st, "sip:chat-42@other.lab", &impu) == -ENOENT,
	   "and not one outside it");
	ok(hss_impi_get(st, "alice@ims.lab", &impi) == 0 &&
		   hss_impi_set_sqn(st, impi.id, 0x123456789aULL) == 0,
	   "SQN is stored");
	ok(hss_subscription_assign(st, impi.subscription_id,
				   "sip:scscf.ims.lab:6060",
				   "scscf.ims.lab") == 0 &&
		   hss_irs_set_state(st, impi.subscription_id, 1,
				     HSS_REGISTERED) == 0,
	   "an S-CSCF is assigned and the IRS registered");
	ok(hss_repo_put(st, "sip:alice@ims.lab", "svc", 0, "<x/>", 4) == 0,
	   "Sh repository data is stored");
	group_commit(st, impi.id);
	hss_store_close(st);

	st = NULL;
	ok(hss_store_open(path, &st) == 0, "the file opens again");
	ok(hss_impi_get(st, "alice@ims.lab", &impi) == 0 && impi.sqn == 0x5000,
	   "SQN survived the restart (the last group's)");
	ok(hss_subscription_get(st, impi.subscription_id, &sub) == 0 &&
		   !strcmp(sub.scscf_name, "sip:scscf.ims.lab:6060"),
	   "the assigned S-CSCF survived");
	hss_impus_each(st, impi.subscription_id, count_impus, &n);
	ok(n == 2 && hss_impu_get(st, "sip:alice@ims.lab", &impu) == 0 &&
		   impu.reg_state == HSS_REGISTERED,
	   "identities and registration state survived");
	ok(hss_repo_get(st, "sip:alice@ims.lab", "svc", &seq, &data, &len) ==
			   0 &&
		   len == 4 && !memcmp(data, "<x/>", 4),
	   "repository data survived");
	free(data);
	ok(hss_subscriber_delete(st, "alice@ims.lab") == 0 &&
		   hss_impu_get(st, "tel:+15551234", &impu) == -ENOENT,
	   "deleting a subscriber removes its identities");
	hss_store_close(st);
	unlink(path);
	for (const char *const *ext =
		     (const char *const[]){ "-wal", "-shm", NULL };
	     *ext; ext++) {
		char aside[sizeof(path) + 8];

		snprintf(aside, sizeof(aside), "%s%s", path, *ext);
		unlink(aside);
	}
	return tap_done();
}
