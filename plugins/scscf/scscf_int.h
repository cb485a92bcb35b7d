/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scscf_int.h - what the files of the scscf plugin share. Never installed.
 */
#ifndef TANDEM_SCSCF_INT_H
#define TANDEM_SCSCF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/diameter.h"
#include "tandem/plugin.h"
#include "tandem/sip.h"

#include "ims.h"

#define TND_LOG_HOST scscf_host
#define TND_LOG_CATEGORY "scscf"

TND_PLUGIN_DECLARE(scscf);
#define SCSCF_SELF (&TND_PLUGIN_SYMBOL(scscf))

struct scscf_cfg {
	char *name;
	char *realm;
	char *db_path;
	unsigned long long default_expires;
	unsigned long long min_expires;
	unsigned long long max_expires;
	unsigned long long auth_timeout_s;
	unsigned long long max_contacts;
	int reauth_protected;
	char *icscf;
	char *bgcf;
	char *enum_prefixes;
	char *enum_domain;
	unsigned long long as_timeout_ms;
	unsigned long long vectors;
	unsigned long long reg_event_expires;
	unsigned long long dialog_max_s;
};

extern const struct tnd_host_api *scscf_host;
extern const struct sip_service *sip;
extern const struct diameter_service *dia;
extern struct scscf_cfg *scscf_cfg;

struct scscf_counters {
	struct tnd_counter *register_rx, *challenges, *auth_ok, *auth_failed;
	struct tnd_counter *resyncs, *stale, *registered, *deregistered;
	struct tnd_counter *expired, *mar, *sar, *cx_errors, *rtr, *ppr;
	struct tnd_counter *orig, *term, *as_routed, *as_failed, *bgcf;
	struct tnd_counter *notify, *third_party, *spare_vectors;
};
extern struct scscf_counters scscf_cnt;

/* TS 29.229 6.3.15 Server-Assignment-Type. */
enum scscf_sar_type {
	SAR_NO_ASSIGNMENT = 0,
	SAR_REGISTRATION = 1,
	SAR_RE_REGISTRATION = 2,
	SAR_UNREGISTERED_USER = 3,
	SAR_TIMEOUT_DEREGISTRATION = 4,
	SAR_USER_DEREGISTRATION = 5,
	SAR_ADMINISTRATIVE_DEREGISTRATION = 8,
	SAR_AUTHENTICATION_FAILURE = 9,
	SAR_AUTHENTICATION_TIMEOUT = 10,
};

/* ---- Service profile (scscf_profile.c, scscf_ifc.c) ---------------------- */

enum scscf_spt_kind {
	SPT_REQUEST_URI,
	SPT_METHOD,
	SPT_HEADER,
	SPT_SESSION_CASE,
	SPT_SDP_LINE,
};

/* TS 29.228 Annex B.2.2: SessionCase values. */
enum scscf_session_case {
	CASE_ORIGINATING = 0,
	CASE_TERMINATING_REGISTERED = 1,
	CASE_TERMINATING_UNREGISTERED = 2,
	CASE_ORIGINATING_UNREGISTERED = 3,
	CASE_ORIGINATING_CDIV = 4,
};

struct scscf_spt {
	enum scscf_spt_kind kind;
	bool negated;
	int *groups;
	size_t ngroups;
	char *name;    /* Header or SDP line; Method; RequestURI */
	char *content; /* regular expression (Header/SDP), or NULL */
	int session_case;
	/* RFC 3261 REGISTER Extension of Annex E: RegistrationType */
	int reg_types; /* bit 0 initial, 1 re-registration, 2 de-registration;
			* 0: any */
	void *regex;   /* compiled content (regex_t *), or NULL */
};

struct scscf_ifc {
	int priority;
	bool has_trigger;
	bool cnf; /* ConditionTypeCNF: 1 = CNF, 0 = DNF */
	struct scscf_spt *spts;
	size_t nspts;
	char *as_uri;
	int default_handling; /* 0 SESSION_CONTINUED, 1 SESSION_TERMINATED */
	char *service_info;
	bool include_register_request, include_register_response;
	int profile_part; /* -1 none, 0 registered, 1 unregistered */
};

struct scscf_profile {
	char **impus; /* every public identity of the User-Data */
	bool *barred;
	size_t nimpus;
	struct scscf_ifc *ifcs; /* sorted by priority */
	size_t nifcs;
};

int scscf_profile_parse(const char *xml, size_t len, const char *impu,
			struct scscf_profile **out, char *why, size_t why_size);
void scscf_profile_free(struct scscf_profile *p);

/* What an SPT is matched against. */
struct scscf_ifc_req {
	const struct ims_msg *msg;
	int session_case;
	int reg_type; /* 0 initial, 1 re-registration, 2 de-registration */
};

/* Index of the first iFC at or after `from` that matches, or -1. */
int scscf_ifc_next(const struct scscf_profile *p, size_t from,
		   const struct scscf_ifc_req *r);
/* Does one iFC's trigger point match? */
bool scscf_ifc_match(const struct scscf_ifc *ifc,
		     const struct scscf_ifc_req *r);

/* ---- Registrations (scscf_reg.c) ----------------------------------------- */

enum scscf_reg_state {
	REG_NOT_REGISTERED = 0,
	REG_REGISTERED = 1,
	REG_UNREGISTERED = 2, /* services of the unregistered state */
};

struct scscf_contact {
	char *uri;
	int64_t expires_at; /* wall clock, seconds */
	char *path;	    /* Path value to reach it, or NULL */
	char *call_id;
	uint32_t cseq;
	char *received; /* "udp:IP:PORT" the REGISTER came from */
	char *instance; /* +sip.instance, or NULL */
	struct scscf_contact *next;
};

struct scscf_sub; /* a reg event subscription */

struct scscf_reg {
	char *impu; /* the identity registered (AoR form) */
	char *impi;
	enum scscf_reg_state state;
	char *user_data; /* IMSSubscription XML as downloaded */
	struct scscf_profile *profile;
	struct scscf_contact *contacts;
	struct scscf_sub *subs;
	uint32_t version; /* reg-info version (RFC 3680) */
	struct tnd_timer *timer;
	bool sar_pending;
};

int scscf_reg_init(void);
void scscf_reg_fini(void);
/* The registration an identity belongs to (any IMPU of its implicit
 * set), or NULL. */
struct scscf_reg *scscf_reg_find(const char *impu);
/* New registration (not stored yet); NULL on ENOMEM. */
struct scscf_reg *scscf_reg_new(const char *impu, const char *impi);
/* Index every IMPU of its profile; store it. */
int scscf_reg_commit(struct scscf_reg *reg);
/* Forget it (after de-registration), freeing it. */
void scscf_reg_drop(struct scscf_reg *reg, const char *why);
/* Replace the profile from User-Data XML. */
int scscf_reg_set_user_data(struct scscf_reg *reg, const char *xml, size_t len);
/* Add or refresh a binding; expires 0 removes it. */
int scscf_reg_bind(struct scscf_reg *reg, const char *uri, int64_t expires,
		   const char *path, const char *call_id, uint32_t cseq,
		   const char *received, const char *instance);
/* Remove every binding. */
void scscf_reg_unbind_all(struct scscf_reg *reg);
size_t scscf_reg_contacts(const struct scscf_reg *reg);
/* Re-arm the expiry timer after bindings changed. */
void scscf_reg_rearm(struct scscf_reg *reg);
/* The registered identities, for the control command. */
void scscf_reg_each(void (*fn)(struct scscf_reg *reg, void *arg), void *arg);
size_t scscf_reg_count(void);
/* Load what the store holds (start). */
int scscf_reg_load(void);
/* Network-initiated de-registration (RTR, expiry, admin): SAR if asked,
 * reg event "terminated", dialogs released, state dropped. */
void scscf_reg_terminate(struct scscf_reg *reg, int sar_type, const char *event,
			 const char *why);

/* ---- Store (scscf_store.c) ----------------------------------------------- */

int scscf_store_open(const char *path);
void scscf_store_close(void);
int scscf_store_save_reg(const struct scscf_reg *reg);
int scscf_store_delete_reg(const char *impu);
int scscf_store_save_contact(const char *impu, const struct scscf_contact *c);
int scscf_store_delete_contact(const char *impu, const char *uri);
/* The writes between these two are one transaction. */
void scscf_store_batch_begin(void);
void scscf_store_batch_end(void);
/* Calls fn for each stored registration, then contact_fn for each of
 * its contacts. */
int scscf_store_load(int (*reg_fn)(const char *impu, const char *impi,
				   int state, const char *user_data, void *arg),
		     int (*contact_fn)(const char *impu,
				       const struct scscf_contact *c,
				       void *arg),
		     void *arg);

/* A reg event subscription as stored: it lives as long as its
 * registration, so a restarted S-CSCF still notifies its subscribers. */
struct scscf_sub_row {
	const char *impu; /* the registration's (scscf_reg.impu) */
	const char *call_id, *subscriber, *target, *route, *tag;
	uint32_t cseq, version;
	int64_t expires_at;
};
int scscf_store_save_sub(const struct scscf_sub_row *row);
int scscf_store_delete_sub(const char *impu, const char *call_id);
/* Drops the subscriptions that expired before `now` or whose
 * registration is gone, then calls fn for each of the others. */
int scscf_store_load_subs(int64_t now,
			  int (*fn)(const struct scscf_sub_row *row, void *arg),
			  void *arg);

/* ---- Cx (scscf_cx.c) ----------------------------------------------------- */

struct scscf_vector {
	bool aka;
	uint8_t rand[16], autn[16];
	uint8_t xres[16];
	size_t xres_len;
	char ck[33], ik[33];
	/* SIP Digest */
	char realm[128], ha1[33], algorithm[16], qop[16];
	char scheme[32];
};

struct scscf_mar_result {
	int status; /* 0, or a SIP status to answer */
	uint32_t code;
	struct scscf_vector *vectors;
	size_t nvectors;
};

typedef void (*scscf_mar_cb)(const struct scscf_mar_result *r, void *arg);
typedef void (*scscf_sar_cb)(int status, uint32_t code, const char *user_data,
			     size_t user_data_len, void *arg);

int scscf_cx_init(void);
int scscf_cx_mar(const char *impi, const char *impu, const char *scheme,
		 const uint8_t *authz, size_t authz_len, unsigned count,
		 scscf_mar_cb cb, void *arg);
int scscf_cx_sar(const char *impi, const char *impu, int type, bool have_data,
		 scscf_sar_cb cb, void *arg);

/* ---- Registrar (scscf_register.c, scscf_auth.c) -------------------------- */

int scscf_register(struct sip_request *req, const struct sip_message *m);

/* A challenge sent, waiting for its answer (reg-await-auth). */
struct scscf_chal {
	char nonce[64];
	char impi[IMS_URI_MAX], impu[IMS_URI_MAX];
	struct scscf_vector v;
	uint64_t expires_ms;
	struct scscf_chal *prev, *next;
};

int scscf_auth_init(void);
void scscf_auth_fini(void);
/* Challenges past reg-await-auth: dropped (SAR AUTHENTICATION_TIMEOUT
 * for a user not registered, TS 24.229 5.4.1.2.1). */
void scscf_auth_sweep(void);
struct scscf_chal *scscf_auth_find(const char *nonce);
struct scscf_chal *scscf_auth_add(const char *impi, const char *impu,
				  const struct scscf_vector *v);
void scscf_auth_del(struct scscf_chal *c);
size_t scscf_auth_count(void);
/* Spare AKA vectors of a MAR, per IMPI, for its next challenges. */
void scscf_auth_spares_put(const char *impi, const struct scscf_vector *v,
			   size_t n);
/* The oldest spare vector of impi into *out; false when none is left. */
bool scscf_auth_spare_take(const char *impi, struct scscf_vector *out);
/* Forget impi's spares (re-synchronisation, a wrong answer). */
void scscf_auth_spares_drop(const char *impi);
/* 0 when the Authorization value answers the challenge (RFC 2617 3.2.2,
 * RFC 3310 3.3 for AKA), -EACCES when not, -EINVAL when unreadable. */
int scscf_auth_check(const struct scscf_chal *c, const char *authz,
		     const char *method);
/* The WWW-Authenticate line (CRLF ended) for the challenge. */
void scscf_auth_www(const struct scscf_chal *c, bool stale, struct ims_buf *b);

/* ---- Routing (scscf_route.c) and the reg event (scscf_regevent.c) -------- */

int scscf_route_init(void);
void scscf_route_fini(void);
enum sip_verdict scscf_route_request(struct sip_request *req,
				     const struct sip_message *m);
void scscf_third_party_register(struct scscf_reg *reg,
				const struct ims_msg *reg_req,
				const struct ims_msg *reg_rsp, int reg_type,
				int expires);

int scscf_regevent_subscribe(struct sip_request *req,
			     const struct sip_message *m);
void scscf_regevent_notify(struct scscf_reg *reg, const char *event);
void scscf_regevent_drop(struct scscf_reg *reg);
/* Subscriptions of the restored registrations, from the store (start,
 * after scscf_reg_load). */
int scscf_regevent_restore(void);

#endif /* TANDEM_SCSCF_INT_H */
