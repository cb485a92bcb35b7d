/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ims_int.h - what ims_relay.c and ims_dlg.c share inside the library.
 */
#ifndef TANDEM_IMS_INT_H
#define TANDEM_IMS_INT_H

#include "ims.h"

struct ims_fwd {
	struct sip_request *req;   /* kept upstream request */
	struct sip_client *client; /* downstream, while in flight */
	struct ims_msg msg;	   /* the request's editable copy */
	ims_fwd_cb cb;
	void *cb_arg;
	/* what the last send used */
	char *ruri, *next_hop, *from, *to, *call_id, *local_tag, *remote_tag;
	uint32_t cseq;
	bool dialog, sticky_hop, own_contact;
	bool invite, final_sent, in_cb, cancelled;
	bool cancel_notified; /* sip->on_cancel() set: no polling */
	struct ims_dlg *dlg;  /* made by a 2xx */
	void *data;
	void (*free_fn)(void *);
	struct ims_fwd *prev, *next; /* pending INVITEs (CANCEL watch) */
};

/* ims_dlg.c: a 2xx to a relayed dialog-forming request. */
struct ims_dlg *ims_dlg_create(struct ims_fwd *f, const struct ims_msg *ok);
void ims_dlg_fini(void);
void ims_dlg_sweep(void);

/* ims_relay.c: headers never copied between legs. */
extern const char *const ims_skip_request[];
extern const char *const ims_skip_response[];

#endif /* TANDEM_IMS_INT_H */
