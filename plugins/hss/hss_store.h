/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hss_store.h - the HSS subscriber store on SQLite: IMS subscriptions,
 * private identities (IMPI) with their AKA keys and SQN, public
 * identities (IMPU), implicit registration sets, service profiles (iFC
 * XML), S-CSCF capabilities and the S-CSCF assigned.
 *
 * Ownership: a struct hss_store is owned by its opener and freed by
 * hss_store_close(). Records are filled into caller-owned structs. Every
 * function runs on the caller's thread (the node's loop); the store is not
 * thread-safe.
 *
 * Errors: 0, -ENOENT (no such record), -EEXIST (an identity already
 * provisioned), -EINVAL (bad value), -EIO (SQLite failed: logged).
 */
#ifndef TANDEM_HSS_STORE_H
#define TANDEM_HSS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HSS_ID_LEN 256 /* an identity, NUL included */

/* Registration state of a public identity (TS 29.228 6.3, state). */
enum hss_reg_state {
	HSS_NOT_REGISTERED = 0,
	HSS_REGISTERED = 1,
	HSS_UNREGISTERED = 2, /* S-CSCF assigned for unregistered services */
};

/* Identity-Type of TS 29.228 7.x / IdentityType of the User-Data XML. */
enum hss_impu_type {
	HSS_PUBLIC_USER_IDENTITY = 0,
	HSS_DISTINCT_PSI = 1,
	HSS_WILDCARDED_PSI = 2,
};

struct hss_subscription {
	int64_t id;
	char imsi[32];
	char scscf_name[HSS_ID_LEN]; /* SIP URI of the S-CSCF, or "" */
	char scscf_host[HSS_ID_LEN]; /* its Diameter identity, or "" */
	int roaming_allowed;
	char mandatory_caps[128]; /* "1,2": S-CSCF capabilities */
	char optional_caps[128];
};

struct hss_impi {
	int64_t id;
	int64_t subscription_id;
	char name[HSS_ID_LEN];
	char scheme[24];		     /* "aka", "digest" */
	char k[33], op[33], opc[33], amf[5]; /* hex, "" when unset */
	uint64_t sqn;
	char password[128]; /* for SIP Digest; "" when unset */
};

struct hss_impu {
	int64_t id;
	int64_t subscription_id;
	char identity[HSS_ID_LEN];
	int type; /* enum hss_impu_type */
	int barred;
	int irs; /* implicit registration set, within the subscription */
	char profile[64]; /* service profile name, or "" */
	int reg_state;	  /* enum hss_reg_state */
	int can_register;
};

struct hss_store;

int hss_store_open(const char *path, struct hss_store **out);
void hss_store_close(struct hss_store *st);
/* Schema version after migrations. */
int hss_store_version(struct hss_store *st);

/* Group several changes into one transaction (-EBUSY when one is
 * already open). An open group commit (below) is committed first. */
int hss_store_begin(struct hss_store *st);
int hss_store_commit(struct hss_store *st);
void hss_store_rollback(struct hss_store *st);

/*
 * Group commit, for the Cx and Sh servers: while batching is on, a change
 * made outside hss_store_begin() joins one open transaction instead of
 * committing by itself, and hss_store_batch_end() commits it (once per
 * loop turn). A change made while batching is off (provisioning) first
 * commits the open group, so it never belongs to one.
 */
void hss_store_batching(struct hss_store *st, bool on);
/* True when changes wait for hss_store_batch_end(). */
bool hss_store_batch_pending(struct hss_store *st);
/* Commits the group: 0, or -EIO when it failed (rolled back: none of its
 * changes were made), here or when a change outside it committed it. */
int hss_store_batch_end(struct hss_store *st);

int hss_subscription_get(struct hss_store *st, int64_t id,
			 struct hss_subscription *sub);
int hss_impi_get(struct hss_store *st, const char *name, struct hss_impi *impi);
/* Exact match first, then the wildcarded PSIs (TS 23.003 13.5). */
int hss_impu_get(struct hss_store *st, const char *identity,
		 struct hss_impu *impu);
int hss_impi_set_sqn(struct hss_store *st, int64_t impi_id, uint64_t sqn);
int hss_subscription_assign(struct hss_store *st, int64_t id,
			    const char *scscf_name, const char *scscf_host);
/* Sets the state of every identity of an implicit registration set. */
int hss_irs_set_state(struct hss_store *st, int64_t subscription_id, int irs,
		      int state);

typedef int (*hss_impu_cb)(const struct hss_impu *impu, void *arg);
typedef int (*hss_impi_cb)(const struct hss_impi *impi, void *arg);
/* Calls cb for each; a non-zero return stops and is returned. */
int hss_impus_each(struct hss_store *st, int64_t subscription_id,
		   hss_impu_cb cb, void *arg);
int hss_impis_each(struct hss_store *st, int64_t subscription_id,
		   hss_impi_cb cb, void *arg);
/* Every IMPI of the store, ordered by name. */
int hss_impis_all(struct hss_store *st, hss_impi_cb cb, void *arg);

/* Service profiles: a name and its iFC XML (InitialFilterCriteria
 * elements). *xml is malloc'd, the caller frees it. */
int hss_profile_get(struct hss_store *st, const char *name, char **xml);
int hss_profile_put(struct hss_store *st, const char *name, const char *xml);
int hss_profile_delete(struct hss_store *st, const char *name);
typedef int (*hss_profile_cb)(const char *name, const char *xml, void *arg);
int hss_profiles_each(struct hss_store *st, hss_profile_cb cb, void *arg);

/* ---- Provisioning ---- */

/* A subscriber as the operator gives it: one IMPI, its IMPUs. */
struct hss_subscriber {
	struct hss_subscription sub;
	struct hss_impi impi;
	struct hss_impu impus[16];
	size_t nimpus;
};

/* Adds the subscription, its IMPI and its IMPUs, all or nothing. */
int hss_subscriber_add(struct hss_store *st, struct hss_subscriber *s);
/* Removes the subscription of an IMPI, with all its identities. */
int hss_subscriber_delete(struct hss_store *st, const char *impi);
/* Updates the subscription and IMPI rows from s (ids taken from s). */
int hss_subscriber_update(struct hss_store *st, const struct hss_subscriber *s);
/* Loads the subscriber of an IMPI. */
int hss_subscriber_load(struct hss_store *st, const char *impi,
			struct hss_subscriber *s);
int hss_impu_add(struct hss_store *st, int64_t subscription_id,
		 struct hss_impu *impu);
int hss_impu_update(struct hss_store *st, const struct hss_impu *impu);
int hss_impu_delete(struct hss_store *st, const char *identity);
/* Number of IMPIs, IMPUs and registered IMPUs. */
int hss_store_counts(struct hss_store *st, long *impis, long *impus,
		     long *registered);

/* ---- Sh (TS 29.328): repository data, subscriptions ---- */

/* Transparent data of an AS for an identity; *data is malloc'd. */
int hss_repo_get(struct hss_store *st, const char *impu, const char *si,
		 uint32_t *sequence, char **data, size_t *len);
int hss_repo_put(struct hss_store *st, const char *impu, const char *si,
		 uint32_t sequence, const char *data, size_t len);
int hss_repo_delete(struct hss_store *st, const char *impu, const char *si);
/* An AS (its Diameter identity) subscribes to, or leaves, changes of a
 * Data-Reference of an identity. */
int hss_shsub_set(struct hss_store *st, const char *impu, int data_ref,
		  const char *si, const char *as_host, bool subscribe);
/* False when no AS has ever subscribed: nothing to notify (cheap). */
bool hss_shsub_any(struct hss_store *st);
typedef int (*hss_shsub_cb)(int data_ref, const char *si, const char *as_host,
			    void *arg);
int hss_shsub_each(struct hss_store *st, const char *impu, hss_shsub_cb cb,
		   void *arg);

/* ---- S-CSCF restoration (TS 29.228 6.1.2, TS 23.380 4.3) ---- */

/* One registered contact of an IMPI, as the S-CSCF gave it in
 * SCSCF-Restoration-Info / Restoration-Info (TS 29.229 6.3.46-47). */
struct hss_restoration {
	char impi[HSS_ID_LEN];
	char contact[512];
	char path[1024];
	char call_id[256];
	int64_t cseq;	  /* Initial-CSeq-Sequence-Number, -1 when absent */
	uint32_t timeout; /* Registration-Time-Out (NTP seconds), 0: absent */
	char scheme[64];  /* SIP-Authentication-Scheme, "" when absent */
};

/* Adds or replaces (same IMPI and contact). */
int hss_restoration_put(struct hss_store *st, const struct hss_restoration *r);
/* Forgets every contact of an IMPI. */
int hss_restoration_clear(struct hss_store *st, const char *impi);
typedef int (*hss_restoration_cb)(const struct hss_restoration *r, void *arg);
int hss_restoration_each(struct hss_store *st, const char *impi,
			 hss_restoration_cb cb, void *arg);

#endif /* TANDEM_HSS_STORE_H */
