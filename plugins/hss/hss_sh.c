/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hss_sh.c - the Sh server of the HSS (3GPP TS 29.328 procedures, TS 29.329
 * messages): UDR reads user data, PUR writes an AS's repository data, SNR
 * subscribes an AS to changes, and the HSS sends PNR when they happen.
 * The data travels as Sh-Data XML (TS 29.328 Annex D).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "hss_int.h"

/* TS 29.328 7.6 Data-Reference. */
enum data_ref {
	DREF_REPOSITORY_DATA = 0,
	DREF_IMS_PUBLIC_IDENTITY = 10,
	DREF_IMS_USER_STATE = 11,
	DREF_SCSCF_NAME = 12,
	DREF_INITIAL_FILTER_CRITERIA = 13,
};

#define MAX_REFS 8
#define MAX_SI 8

struct sh_query {
	char impu[HSS_ID_LEN];
	uint32_t refs[MAX_REFS];
	size_t nrefs;
	char si[MAX_SI][128]; /* Service-Indication */
	size_t nsi;
};

static int missing(struct dia_msg *ans, const char *name)
{
	dia->set_failed_missing(ans, name);
	hss_host->counter_add(hss_cnt.errors, 1);
	return DIA_MISSING_AVP;
}

static int experimental(struct dia_msg *ans, uint32_t code)
{
	dia->set_experimental(ans, DIA_VENDOR_3GPP, code);
	hss_host->counter_add(hss_cnt.errors, 1);
	return (int)code;
}

/* MSISDN is TBCD (TS 29.329 6.3.2): digits in nibbles, low first. */
static void msisdn_to_tel(const uint8_t *data, size_t len, char *out,
			  size_t size)
{
	size_t n = (size_t)snprintf(out, size, "tel:+");

	for (size_t i = 0; i < len && n + 2 < size; i++) {
		uint8_t lo = data[i] & 0x0f, hi = data[i] >> 4;

		if (lo <= 9)
			out[n++] = (char)('0' + lo);
		if (hi <= 9)
			out[n++] = (char)('0' + hi);
	}
	out[n] = '\0';
}

/* User-Identity { Public-Identity | MSISDN } (TS 29.329 6.3.1). */
static int read_identity(struct dia_msg *req, struct dia_msg *ans, char *impu,
			 size_t size)
{
	struct dia_avp *uid = dia->find(dia->root(req), "User-Identity");
	struct dia_avp *msisdn;
	const uint8_t *data;
	size_t len;

	if (!uid)
		return missing(ans, "User-Identity");
	if (dia->find_str(uid, "Public-Identity", impu, size) == 0)
		return 0;
	msisdn = dia->find(uid, "MSISDN");
	if (msisdn && dia->get_str(msisdn, &data, &len) == 0 && len <= 16) {
		msisdn_to_tel(data, len, impu, size);
		return 0;
	}
	return missing(ans, "Public-Identity");
}

static int read_query(struct dia_msg *req, struct dia_msg *ans,
		      struct sh_query *q)
{
	struct dia_avp *a;
	int rc = read_identity(req, ans, q->impu, sizeof(q->impu));

	if (rc)
		return rc;
	for (a = dia->find(dia->root(req), "Data-Reference");
	     a && q->nrefs < MAX_REFS; a = dia->find_next(a))
		if (dia->get_u32(a, &q->refs[q->nrefs]) == 0)
			q->nrefs++;
	if (!q->nrefs)
		return missing(ans, "Data-Reference");
	for (a = dia->find(dia->root(req), "Service-Indication");
	     a && q->nsi < MAX_SI; a = dia->find_next(a)) {
		const uint8_t *data;
		size_t len;

		if (dia->get_str(a, &data, &len) == 0 &&
		    len < sizeof(q->si[0])) {
			memcpy(q->si[q->nsi], data, len);
			q->si[q->nsi++][len] = '\0';
		}
	}
	return 0;
}

/* ---- Sh-Data XML -------------------------------------------------------- */

struct sh_ctx {
	struct hss_buf *b;
};

static int public_id_xml(const struct hss_impu *u, void *arg)
{
	struct hss_buf *b = arg;

	hss_buf_str(b, "<IMSPublicIdentity>");
	hss_buf_xml(b, u->identity);
	hss_buf_str(b, "</IMSPublicIdentity>");
	return 0;
}

static void repository_xml(struct hss_buf *b, const char *impu, const char *si)
{
	uint32_t seq;
	char *data = NULL;
	size_t len;

	if (hss_repo_get(hss_db, impu, si, &seq, &data, &len))
		return;
	hss_buf_str(b, "<RepositoryData><ServiceIndication>");
	hss_buf_xml(b, si);
	hss_buf_printf(b,
		       "</ServiceIndication><SequenceNumber>%u"
		       "</SequenceNumber><ServiceData>",
		       seq);
	hss_buf_add(b, data, len); /* stored as the AS gave it */
	hss_buf_str(b, "</ServiceData></RepositoryData>");
	free(data);
}

/* TS 29.328 7.6.4 IMSUserState from the Cx registration state. */
static int ims_user_state(const struct hss_impu *u)
{
	return u->reg_state == HSS_REGISTERED	  ? 1
	       : u->reg_state == HSS_UNREGISTERED ? 2
						  : 0;
}

static bool wants(const struct sh_query *q, uint32_t ref)
{
	for (size_t i = 0; i < q->nrefs; i++)
		if (q->refs[i] == ref)
			return true;
	return false;
}

static int sh_data(const struct sh_query *q, const struct hss_impu *u,
		   struct hss_buf *b)
{
	struct hss_subscription sub;
	char *ifc = NULL;

	if (hss_subscription_get(hss_db, u->subscription_id, &sub))
		return -EIO;
	hss_buf_str(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Sh-Data>");
	if (wants(q, DREF_IMS_PUBLIC_IDENTITY)) {
		hss_buf_str(b, "<PublicIdentifiers>");
		hss_impus_each(hss_db, u->subscription_id, public_id_xml, b);
		hss_buf_str(b, "</PublicIdentifiers>");
	}
	if (wants(q, DREF_REPOSITORY_DATA))
		for (size_t i = 0; i < q->nsi; i++)
			repository_xml(b, q->impu, q->si[i]);
	if (wants(q, DREF_IMS_USER_STATE) || wants(q, DREF_SCSCF_NAME) ||
	    wants(q, DREF_INITIAL_FILTER_CRITERIA)) {
		hss_buf_str(b, "<Sh-IMS-Data>");
		if (wants(q, DREF_SCSCF_NAME) && sub.scscf_name[0]) {
			hss_buf_str(b, "<S-CSCFName>");
			hss_buf_xml(b, sub.scscf_name);
			hss_buf_str(b, "</S-CSCFName>");
		}
		if (wants(q, DREF_INITIAL_FILTER_CRITERIA) && u->profile[0] &&
		    hss_profile_get(hss_db, u->profile, &ifc) == 0) {
			hss_buf_str(b, "<IFCs>");
			hss_buf_str(b, ifc);
			hss_buf_str(b, "</IFCs>");
			free(ifc);
		}
		if (wants(q, DREF_IMS_USER_STATE))
			hss_buf_printf(b, "<IMSUserState>%d</IMSUserState>",
				       ims_user_state(u));
		hss_buf_str(b, "</Sh-IMS-Data>");
	}
	hss_buf_str(b, "</Sh-Data>");
	return b->failed ? -ENOMEM : 0;
}

static bool refs_supported(const struct sh_query *q)
{
	for (size_t i = 0; i < q->nrefs; i++)
		if (q->refs[i] != DREF_REPOSITORY_DATA &&
		    (q->refs[i] < DREF_IMS_PUBLIC_IDENTITY ||
		     q->refs[i] > DREF_INITIAL_FILTER_CRITERIA))
			return false;
	return true;
}

static int add_sh_data(struct dia_msg *msg, const struct sh_query *q,
		       const struct hss_impu *u)
{
	struct hss_buf xml = { 0 };
	int rc = sh_data(q, u, &xml);

	if (rc == 0)
		rc = dia->add_str(dia->root(msg), "Sh-User-Data", xml.data,
				  xml.len);
	hss_buf_free(&xml);
	return rc;
}

/* ---- UDR: TS 29.328 6.1.1 ----------------------------------------------- */

static int on_udr(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	struct sh_query q = { 0 };
	struct hss_impu u;
	int rc;

	(void)arg;
	hss_host->counter_add(hss_cnt.udr, 1);
	if ((rc = read_query(req, ans, &q)))
		return rc;
	if (hss_impu_get(hss_db, q.impu, &u))
		return experimental(ans, DIA_ERROR_USER_UNKNOWN);
	if (!refs_supported(&q))
		return experimental(ans, DIA_ERROR_USER_DATA_CANNOT_BE_READ);
	if (wants(&q, DREF_REPOSITORY_DATA) && !q.nsi)
		return missing(ans, "Service-Indication");
	if (add_sh_data(ans, &q, &u))
		return DIA_UNABLE_TO_COMPLY;
	return DIA_SUCCESS;
}

/* ---- PNR: TS 29.328 6.1.4 ----------------------------------------------- */

static void on_pna(struct dia_msg *ans, int status, void *arg)
{
	uint32_t vendor = 0, code = 0;

	(void)arg;
	if (ans)
		dia->result(ans, &vendor, &code);
	tnd_debug("PNA %u (status %d)", code, status);
}

struct notify_ctx {
	const struct hss_impu *u;
	int data_ref;
	const char *si;
	const char *except_host;
};

static int notify_one(int data_ref, const char *si, const char *as_host,
		      void *arg)
{
	struct notify_ctx *n = arg;
	struct sh_query q = { .nrefs = 1 };
	struct dia_msg *req;
	struct dia_avp *uid;

	if (data_ref != n->data_ref || strcmp(si, n->si) ||
	    (n->except_host && !strcasecmp(as_host, n->except_host)))
		return 0;
	snprintf(q.impu, sizeof(q.impu), "%s", n->u->identity);
	q.refs[0] = (uint32_t)data_ref;
	if (si[0]) {
		snprintf(q.si[0], sizeof(q.si[0]), "%s", si);
		q.nsi = 1;
	}
	req = dia->request_new(DIA_APP_SH, DIA_CMD_PNR, NULL, NULL, as_host);
	if (!req)
		return 0;
	uid = dia->add_group(dia->root(req), "User-Identity");
	if (!uid ||
	    dia->add_str(uid, "Public-Identity", n->u->identity, (size_t)-1) ||
	    add_sh_data(req, &q, n->u)) {
		dia->msg_free(req);
		return 0;
	}
	hss_host->counter_add(hss_cnt.pnr, 1);
	tnd_info("PNR for %s (data reference %d) to %s", n->u->identity,
		 data_ref, as_host);
	dia->send(req, 0, on_pna, NULL);
	return 0;
}

void hss_sh_notify(const char *impu, int data_ref, const char *si,
		   const char *except_host)
{
	struct hss_impu u;
	struct notify_ctx n = { &u, data_ref, si ? si : "", except_host };

	if (!hss_shsub_any(hss_db))
		return;
	if (hss_impu_get(hss_db, impu, &u) == 0)
		hss_shsub_each(hss_db, impu, notify_one, &n);
}

/* ---- PUR: TS 29.328 6.1.2 ----------------------------------------------- */

struct repo_update {
	char si[128];
	long sequence;
	char *data; /* NULL: delete the repository data */
	size_t len;
};

static char *node_text(xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *s = t ? strdup((const char *)t) : NULL;

	xmlFree(t);
	return s;
}

static xmlNode *child(xmlNode *parent, const char *name)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)n->name, name))
			return n;
	return NULL;
}

/* Sh-Data/RepositoryData from the User-Data of a PUR. */
static int parse_repository(const uint8_t *xml, size_t len,
			    struct repo_update *up)
{
	xmlDoc *doc = xmlReadMemory((const char *)xml, (int)len, "sh.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR |
					    XML_PARSE_NOWARNING);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNode *repo = root && !strcmp((const char *)root->name, "Sh-Data")
				? child(root, "RepositoryData")
				: NULL;
	xmlNode *si = child(repo, "ServiceIndication");
	xmlNode *seq = child(repo, "SequenceNumber");
	xmlNode *data = child(repo, "ServiceData");
	char *text = NULL, *end = NULL;
	int rc = -EINVAL;

	if (si && seq && (text = node_text(si)) && text[0] &&
	    strlen(text) < sizeof(up->si)) {
		snprintf(up->si, sizeof(up->si), "%s", text);
		free(text);
		text = node_text(seq);
		up->sequence = text ? strtol(text, &end, 10) : -1;
		if (text && *end == '\0' && up->sequence >= 0 &&
		    up->sequence <= 65535)
			rc = 0;
	}
	free(text);
	if (rc == 0 && data) {
		xmlBufferPtr buf = xmlBufferCreate();

		for (xmlNode *n = data->children; buf && n; n = n->next)
			xmlNodeDump(buf, doc, n, 0, 0);
		up->data = buf ? strdup((const char *)xmlBufferContent(buf))
			       : NULL;
		up->len = up->data ? strlen(up->data) : 0;
		if (!up->data)
			rc = -ENOMEM;
		xmlBufferFree(buf);
	}
	xmlFreeDoc(doc);
	return rc;
}

/* TS 29.328 7.6.1: SequenceNumber goes 0 (new) then 1..65535, wrapping
 * to 1; an update must carry the stored number plus one. */
static bool sequence_in_sync(bool exists, uint32_t stored, long next)
{
	if (!exists)
		return next == 0;
	return (uint32_t)next == (stored >= 65535 ? 1 : stored + 1);
}

static int apply_update(struct dia_msg *ans, const char *impu,
			struct repo_update *up)
{
	uint32_t stored = 0;
	char *old = NULL;
	size_t len;
	bool exists =
		hss_repo_get(hss_db, impu, up->si, &stored, &old, &len) == 0;

	free(old);
	if (!sequence_in_sync(exists, stored, up->sequence)) {
		tnd_info("PUR for %s/%s: sequence %ld, stored %u", impu, up->si,
			 up->sequence, stored);
		return experimental(ans,
				    DIA_ERROR_TRANSPARENT_DATA_OUT_OF_SYNC);
	}
	if (!up->data)
		return hss_repo_delete(hss_db, impu, up->si)
			       ? DIA_UNABLE_TO_COMPLY
			       : DIA_SUCCESS;
	if (hss_repo_put(hss_db, impu, up->si, (uint32_t)up->sequence, up->data,
			 up->len))
		return DIA_UNABLE_TO_COMPLY;
	return DIA_SUCCESS;
}

static int on_pur(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	struct sh_query q = { 0 };
	struct repo_update up = { 0 };
	struct dia_msg_info info;
	struct dia_avp *data;
	struct hss_impu u;
	char origin[HSS_ID_LEN] = "";
	const uint8_t *xml;
	size_t len;
	int rc;

	(void)arg;
	hss_host->counter_add(hss_cnt.pur, 1);
	if ((rc = read_query(req, ans, &q)))
		return rc;
	data = dia->find(dia->root(req), "Sh-User-Data");
	if (!data || dia->get_str(data, &xml, &len))
		return missing(ans, "Sh-User-Data");
	if (hss_impu_get(hss_db, q.impu, &u))
		return experimental(ans, DIA_ERROR_USER_UNKNOWN);
	if (q.nrefs != 1 || q.refs[0] != DREF_REPOSITORY_DATA)
		return experimental(ans,
				    DIA_ERROR_USER_DATA_CANNOT_BE_MODIFIED);
	if (parse_repository(xml, len, &up))
		return experimental(ans, DIA_ERROR_USER_DATA_NOT_RECOGNIZED);
	rc = apply_update(ans, q.impu, &up);
	free(up.data);
	if (rc == DIA_SUCCESS) {
		if (dia->msg_info(req, &info) == 0 && info.origin_host &&
		    info.origin_host_len < sizeof(origin)) {
			memcpy(origin, info.origin_host, info.origin_host_len);
			origin[info.origin_host_len] = '\0';
		}
		hss_sh_notify(q.impu, DREF_REPOSITORY_DATA, up.si, origin);
	}
	return rc;
}

/* ---- SNR: TS 29.328 6.1.3 ----------------------------------------------- */

static int on_snr(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	struct sh_query q = { 0 };
	struct dia_msg_info info;
	struct hss_impu u;
	char origin[HSS_ID_LEN];
	uint32_t type, send_data = 0;
	int rc;

	(void)arg;
	hss_host->counter_add(hss_cnt.snr, 1);
	if ((rc = read_query(req, ans, &q)))
		return rc;
	if (dia->find_u32(dia->root(req), "Subs-Req-Type", &type))
		return missing(ans, "Subs-Req-Type");
	if (hss_impu_get(hss_db, q.impu, &u))
		return experimental(ans, DIA_ERROR_USER_UNKNOWN);
	if (!refs_supported(&q))
		return experimental(ans, DIA_ERROR_USER_DATA_CANNOT_BE_READ);
	if (wants(&q, DREF_REPOSITORY_DATA) && !q.nsi)
		return missing(ans, "Service-Indication");
	if (dia->msg_info(req, &info) || !info.origin_host ||
	    info.origin_host_len >= sizeof(origin))
		return DIA_UNABLE_TO_COMPLY;
	memcpy(origin, info.origin_host, info.origin_host_len);
	origin[info.origin_host_len] = '\0';
	for (size_t i = 0; i < q.nrefs; i++) {
		size_t nsi = q.refs[i] == DREF_REPOSITORY_DATA ? q.nsi : 1;

		for (size_t k = 0; k < nsi; k++)
			if (hss_shsub_set(hss_db, q.impu, (int)q.refs[i],
					  q.refs[i] == DREF_REPOSITORY_DATA
						  ? q.si[k]
						  : "",
					  origin, type == 0))
				return DIA_UNABLE_TO_COMPLY;
	}
	tnd_info("%s %s to %s", origin,
		 type == 0 ? "subscribed" : "unsubscribed", q.impu);
	dia->find_u32(dia->root(req), "Send-Data-Indication", &send_data);
	if (type == 0 && send_data == 1 && add_sh_data(ans, &q, &u))
		return DIA_UNABLE_TO_COMPLY;
	return DIA_SUCCESS;
}

int hss_sh_register(void)
{
	static const struct {
		uint32_t cmd;
		dia_request_cb cb;
	} handlers[] = {
		{ DIA_CMD_UDR, on_udr },
		{ DIA_CMD_PUR, on_pur },
		{ DIA_CMD_SNR, on_snr },
	};

	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (hss_batch_handle(DIA_APP_SH, handlers[i].cmd,
				     handlers[i].cb))
			return -EINVAL;
	return 0;
}

void hss_sh_fini(void)
{
}
