/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hss_xml.c - the User-Data XML the HSS downloads to the S-CSCF: one
 * IMSSubscription (TS 29.228 Annex E, the XML schema of Annex D) with a
 * ServiceProfile per service profile of the identities concerned, each
 * with its PublicIdentity elements and the profile's stored
 * InitialFilterCriteria (already validated when provisioned).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hss_int.h"

/* ---- A growing text buffer ---------------------------------------------- */

void hss_buf_add(struct hss_buf *b, const char *text, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *data = realloc(b->data, cap);

		if (!data) {
			b->failed = true;
			return;
		}
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, text, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void hss_buf_str(struct hss_buf *b, const char *text)
{
	hss_buf_add(b, text, strlen(text));
}

void hss_buf_printf(struct hss_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		hss_buf_add(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);

	if (!big) {
		b->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	hss_buf_add(b, big, (size_t)n);
	free(big);
}

void hss_buf_xml(struct hss_buf *b, const char *text)
{
	for (const char *p = text; *p; p++) {
		switch (*p) {
		case '<': hss_buf_str(b, "&lt;"); break;
		case '>': hss_buf_str(b, "&gt;"); break;
		case '&': hss_buf_str(b, "&amp;"); break;
		case '"': hss_buf_str(b, "&quot;"); break;
		case '\'': hss_buf_str(b, "&apos;"); break;
		default: hss_buf_add(b, p, 1);
		}
	}
}

void hss_buf_free(struct hss_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* ---- IMSSubscription ---------------------------------------------------- */

#define MAX_IDS 64

struct ids {
	struct hss_impu impu[MAX_IDS];
	size_t n;
	int irs;
};

static int collect(const struct hss_impu *impu, void *arg)
{
	struct ids *ids = arg;

	if ((ids->irs == 0 || impu->irs == ids->irs) && ids->n < MAX_IDS)
		ids->impu[ids->n++] = *impu;
	return 0;
}

static void public_identity(struct hss_buf *b, const struct hss_impu *u)
{
	hss_buf_str(b, "<PublicIdentity>");
	if (u->barred)
		hss_buf_str(b, "<BarringIndication>1</BarringIndication>");
	hss_buf_str(b, "<Identity>");
	hss_buf_xml(b, u->identity);
	hss_buf_str(b, "</Identity>");
	/* Release 6+ extension: IdentityType, WildcardedPSI (Annex E). */
	hss_buf_printf(b, "<Extension><IdentityType>%d</IdentityType>",
		       u->type);
	if (u->type == HSS_WILDCARDED_PSI) {
		hss_buf_str(b, "<WildcardedPSI>");
		hss_buf_xml(b, u->identity);
		hss_buf_str(b, "</WildcardedPSI>");
	}
	hss_buf_str(b, "</Extension></PublicIdentity>");
}

static void service_profile(struct hss_buf *b, const struct ids *ids,
			    const char *profile)
{
	char *ifc = NULL;

	hss_buf_str(b, "<ServiceProfile>");
	for (size_t i = 0; i < ids->n; i++)
		if (strcmp(ids->impu[i].profile, profile) == 0)
			public_identity(b, &ids->impu[i]);
	if (profile[0] && hss_profile_get(hss_db, profile, &ifc) == 0)
		hss_buf_str(b, ifc);
	free(ifc);
	hss_buf_str(b, "</ServiceProfile>");
}

static bool profile_seen(const struct ids *ids, size_t upto)
{
	for (size_t i = 0; i < upto; i++)
		if (strcmp(ids->impu[i].profile, ids->impu[upto].profile) == 0)
			return true;
	return false;
}

int hss_user_data(const struct hss_impi *impi, int irs, struct hss_buf *b)
{
	struct ids *ids = malloc(sizeof(*ids)); /* 22 KB: not zeroed */
	int rc;

	if (!ids)
		return -ENOMEM;
	ids->n = 0;
	ids->irs = irs;
	rc = hss_impus_each(hss_db, impi->subscription_id, collect, ids);
	if (rc == 0) {
		hss_buf_str(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
			       "<IMSSubscription><PrivateID>");
		hss_buf_xml(b, impi->name);
		hss_buf_str(b, "</PrivateID>");
		for (size_t i = 0; i < ids->n; i++)
			if (!profile_seen(ids, i))
				service_profile(b, ids, ids->impu[i].profile);
		hss_buf_str(b, "</IMSSubscription>");
	}
	free(ids);
	if (rc == 0 && b->failed)
		rc = -ENOMEM;
	return rc;
}
