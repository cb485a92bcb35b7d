/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hss_int.h - what the files of the hss plugin share. Never installed.
 */
#ifndef TANDEM_HSS_INT_H
#define TANDEM_HSS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/diameter.h"
#include "tandem/plugin.h"

#include "hss_milenage.h"
#include "hss_store.h"

#define TND_LOG_HOST hss_host
#define TND_LOG_CATEGORY "hss"

TND_PLUGIN_DECLARE(hss);
#define HSS_SELF (&TND_PLUGIN_SYMBOL(hss))

struct hss_cfg {
	char *db_path;
	char *home_networks;
	char *scscf_names;
	char *digest_realm;
	unsigned long long max_vectors;
	unsigned long long sqn_step;
	int rtr_on_delete;
	int res_without_nul;
	char *charging_ccf;
	char *charging_ecf;
};

extern const struct tnd_host_api *hss_host;
extern const struct diameter_service *dia;
extern struct hss_cfg *hss_cfg;
extern struct hss_store *hss_db;

struct hss_counters {
	struct tnd_counter *uar, *mar, *sar, *lir, *udr, *pur, *snr;
	struct tnd_counter *vectors, *resyncs, *errors, *rtr, *ppr, *pnr;
	struct tnd_counter *commits;
};
extern struct hss_counters hss_cnt;

/* hss_cx.c */
int hss_cx_register(void);
/* HSS-initiated Cx requests to the S-CSCF a subscription is assigned to:
 * Registration-Termination (TS 29.228 6.1.3), Push-Profile (6.2.2). */
int hss_cx_send_rtr(const struct hss_subscriber *s, uint32_t reason_code,
		    const char *reason_info);
int hss_cx_send_ppr(const struct hss_subscriber *s);

/* hss_batch.c: group commit once per loop turn (see there). */
/* Registers cb for a Cx or Sh command, its changes in the group. */
int hss_batch_handle(uint32_t app_id, uint32_t cmd_code, dia_request_cb cb);
int hss_batch_start(void);
/* Commits the group now and sends the answers it kept. */
void hss_batch_flush(void);
void hss_batch_stop(void);

/* hss_sh.c */
int hss_sh_register(void);
/* Data of an identity changed: PNR to the ASs subscribed to it
 * (TS 29.328 6.1.4), but not to except_host (the AS that changed it). */
void hss_sh_notify(const char *impu, int data_ref, const char *si,
		   const char *except_host);
void hss_sh_fini(void);

/* hss_xml.c: a growing text buffer, XML escaping, the User-Data XML. */
struct hss_buf {
	char *data;
	size_t len, cap;
	bool failed; /* out of memory once: the text is incomplete */
};
void hss_buf_add(struct hss_buf *b, const char *text, size_t len);
void hss_buf_str(struct hss_buf *b, const char *text);
void hss_buf_printf(struct hss_buf *b, const char *fmt, ...) TND_PRINTF(2, 3);
void hss_buf_xml(struct hss_buf *b, const char *text); /* escaped */
void hss_buf_free(struct hss_buf *b);
/*
 * The IMSSubscription XML of TS 29.228 Annex E for the subscription of
 * `impi`: the service profiles of the implicit registration set `irs`
 * (0: every identity). Returns 0 or -ENOMEM/-EIO; the caller frees b.
 */
int hss_user_data(const struct hss_impi *impi, int irs, struct hss_buf *b);

/* hss_ifc.c: initial filter criteria (TS 29.228 Annex B/E). */
/* 0 when `xml` is a valid list of InitialFilterCriteria; else -EINVAL
 * with the reason in why. */
int hss_ifc_validate(const char *xml, char *why, size_t why_size);

/* hss_prov.c: provisioning commands. */
extern const struct tnd_command hss_commands[];
int hss_import_file(const char *path, long *added, char *why, size_t size);
int hss_export_file(const char *path, const char *format, long *written);

#endif /* TANDEM_HSS_INT_H */
