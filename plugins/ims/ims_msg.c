/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ims_msg.c - an editable copy of a SIP message (see ims_msg.h).
 *
 * The sip service reads one header by name; libosip2's parsed message
 * tells which names a message has. Each name's lines are then copied as
 * received through the service, so nothing is re-serialised.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/osip_parser.h>

#include "ims_msg.h"

/* Canonical spelling of names libosip2 keeps in lower case, and the
 * compact forms of RFC 3261 7.3.3 and later RFCs. */
static const char *const canonical_names[] = {
	"Accept-Contact",
	"Allow-Events",
	"Call-ID",
	"CSeq",
	"Event",
	"Expires",
	"Min-Expires",
	"Path",
	"Privacy",
	"Reason",
	"Require",
	"Service-Route",
	"Supported",
	"Unsupported",
	"Subscription-State",
	"P-Asserted-Identity",
	"P-Preferred-Identity",
	"P-Associated-URI",
	"P-Called-Party-ID",
	"P-Charging-Vector",
	"P-Charging-Function-Addresses",
	"P-Visited-Network-ID",
	"P-Access-Network-Info",
	"P-Served-User",
	"P-Profile-Key",
	"Security-Client",
	"Security-Server",
	"Security-Verify",
	"Session-Expires",
	"Min-SE",
	"User-Agent",
	"Server",
	"RSeq",
	"RAck",
	"Refer-To",
	"Referred-By",
	"Replaces",
	"Request-Disposition",
	"Reject-Contact",
	"Feature-Caps",
	"Geolocation",
	"Geolocation-Routing",
	"Identity",
	"Date",
	"Timestamp",
	"Organization",
	"Priority",
	"Subject",
	"Warning",
	"Retry-After",
	"In-Reply-To",
	"Max-Forwards",
	"Content-Disposition",
	"Content-Language",
	"MIME-Version",
	"Record-Route",
	"Route",
	"Contact",
	"Via",
	"From",
	"To",
	"Authorization",
	"Proxy-Authorization",
	"WWW-Authenticate",
	"Proxy-Authenticate",
	"Authentication-Info",
	"Accept",
	"Accept-Encoding",
	"Accept-Language",
	"Alert-Info",
	"Allow",
	"Call-Info",
	"Content-Encoding",
	"Error-Info",
	"Content-Type",
	"Content-Length",
	"Recv-Info",
	"Info-Package",
	"SIP-ETag",
	"SIP-If-Match",
	"History-Info",
	"Diversion",
	"Max-Breadth",
};

static const struct {
	char compact;
	const char *name;
} compact_names[] = {
	{ 'a', "Accept-Contact" },
	{ 'b', "Referred-By" },
	{ 'c', "Content-Type" },
	{ 'd', "Request-Disposition" },
	{ 'e', "Content-Encoding" },
	{ 'f', "From" },
	{ 'i', "Call-ID" },
	{ 'j', "Reject-Contact" },
	{ 'k', "Supported" },
	{ 'l', "Content-Length" },
	{ 'm', "Contact" },
	{ 'o', "Event" },
	{ 'r', "Refer-To" },
	{ 's', "Subject" },
	{ 't', "To" },
	{ 'u', "Allow-Events" },
	{ 'v', "Via" },
	{ 'x', "Session-Expires" },
	{ 'y', "Identity" },
};

/* The table's spelling of `name` (a compact form expanded), or NULL for
 * a name the table does not have. Every header of every relayed message
 * passes here: the first letter is compared before the whole name. */
static const char *known_name(const char *name)
{
	int first = tolower((unsigned char)name[0]);
	size_t i;

	if (name[0] && !name[1]) {
		for (i = 0; i < IMS_ARRAY_SIZE(compact_names); i++)
			if (first == compact_names[i].compact)
				return compact_names[i].name;
	}
	for (i = 0; i < IMS_ARRAY_SIZE(canonical_names); i++)
		if (tolower((unsigned char)canonical_names[i][0]) == first &&
		    strcasecmp(name, canonical_names[i]) == 0)
			return canonical_names[i];
	return NULL;
}

/* The canonical name of `name`, written into out. */
static void canonical(const char *name, char *out, size_t size)
{
	const char *known = known_name(name);
	bool up = true;
	size_t i;

	if (known) {
		ims_fmt(out, size, "%s", known);
		return;
	}
	/* unknown: Title-Case-Words */
	for (i = 0; name[i] && i + 1 < size; i++) {
		out[i] = (char)(up ? toupper((unsigned char)name[i])
				   : tolower((unsigned char)name[i]));
		up = name[i] == '-';
	}
	if (size)
		out[i < size ? i : size - 1] = '\0';
}

/* ---- Lines --------------------------------------------------------------- */

static void hdr_free(struct ims_hdr *h)
{
	if (h->own_name)
		free((char *)h->name);
	free(h->value);
}

/* Insert a line at `at`: `name` canonical (`known`: the table's own
 * string, else NULL), `value` of `len` bytes. */
static int push_n(struct ims_msg *m, size_t at, const char *name,
		  const char *known, const char *value, size_t len)
{
	struct ims_hdr h;

	if (m->nhdrs == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 24;
		struct ims_hdr *p = realloc(m->hdrs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		m->hdrs = p;
		m->cap = cap;
	}
	h.own_name = !known;
	h.name = known ? known : strdup(name);
	h.value = malloc(len + 1);
	if (!h.name || !h.value) {
		hdr_free(&h);
		return -ENOMEM;
	}
	memcpy(h.value, value, len);
	h.value[len] = '\0';
	memmove(&m->hdrs[at + 1], &m->hdrs[at],
		(m->nhdrs - at) * sizeof(*m->hdrs));
	m->hdrs[at] = h;
	m->nhdrs++;
	return 0;
}

static int push(struct ims_msg *m, size_t at, const char *name,
		const char *value)
{
	return push_n(m, at, name, known_name(name), value, strlen(value));
}

static bool have_name(const struct ims_msg *m, const char *name)
{
	for (size_t i = 0; i < m->nhdrs; i++)
		if (strcasecmp(m->hdrs[i].name, name) == 0)
			return true;
	return false;
}

/* Every line of header `name` of the received message. */
static int take_lines(const struct sip_service *sip,
		      const struct sip_message *src, struct ims_msg *m,
		      const char *osip_name)
{
	const char *known = known_name(osip_name);
	char buf[64];
	const char *name = known ? known : buf;
	struct sip_text v;

	if (!known)
		canonical(osip_name, buf, sizeof(buf));
	if (have_name(m, name))
		return 0;
	for (unsigned k = 0; sip->header(src, name, k, &v) == 0; k++) {
		int rc = push_n(m, m->nhdrs, name, known, v.ptr, v.len);

		if (rc)
			return rc;
	}
	return 0;
}

/* The names of headers libosip2 parsed into members of its message. */
static void known_names(const osip_message_t *o, const char **names, size_t *n)
{
	const struct {
		const osip_list_t *list;
		const char *name;
	} lists[] = {
		{ &o->vias, "Via" },
		{ &o->record_routes, "Record-Route" },
		{ &o->routes, "Route" },
		{ &o->contacts, "Contact" },
		{ &o->authorizations, "Authorization" },
		{ &o->proxy_authorizations, "Proxy-Authorization" },
		{ &o->www_authenticates, "WWW-Authenticate" },
		{ &o->proxy_authenticates, "Proxy-Authenticate" },
		{ &o->authentication_infos, "Authentication-Info" },
		{ &o->proxy_authentication_infos, "Proxy-Authentication-Info" },
		{ &o->accepts, "Accept" },
		{ &o->accept_encodings, "Accept-Encoding" },
		{ &o->accept_languages, "Accept-Language" },
		{ &o->alert_infos, "Alert-Info" },
		{ &o->allows, "Allow" },
		{ &o->call_infos, "Call-Info" },
		{ &o->content_encodings, "Content-Encoding" },
		{ &o->error_infos, "Error-Info" },
	};

	names[(*n)++] = "From";
	names[(*n)++] = "To";
	names[(*n)++] = "Call-ID";
	names[(*n)++] = "CSeq";
	for (size_t i = 0; i < IMS_ARRAY_SIZE(lists); i++)
		if (osip_list_size(lists[i].list) > 0)
			names[(*n)++] = lists[i].name;
	if (o->content_type)
		names[(*n)++] = "Content-Type";
	if (o->mime_version)
		names[(*n)++] = "MIME-Version";
}

static int take_headers(const struct sip_service *sip,
			const struct sip_message *src, struct ims_msg *m,
			const osip_message_t *o)
{
	const char *names[32];
	size_t n = 0;
	int rc = 0;

	known_names(o, names, &n);
	for (size_t i = 0; i < n && !rc; i++)
		rc = take_lines(sip, src, m, names[i]);
	for (int i = 0; !rc && i < osip_list_size(&o->headers); i++) {
		osip_header_t *h = osip_list_get(&o->headers, i);

		if (h && h->hname)
			rc = take_lines(sip, src, m, h->hname);
	}
	return rc;
}

/*
 * Without libosip2's message (the sip service gives none with the
 * responses of client transactions) the names are not known: every name
 * we know of is asked for. Headers of other names are not copied.
 */
static int probe_headers(const struct sip_service *sip,
			 const struct sip_message *src, struct ims_msg *m)
{
	int rc = 0;

	for (size_t i = 0; i < IMS_ARRAY_SIZE(canonical_names) && !rc; i++)
		rc = take_lines(sip, src, m, canonical_names[i]);
	return rc;
}

int ims_msg_take(const struct sip_service *sip, const struct sip_message *src,
		 struct ims_msg *m)
{
	const osip_message_t *o = sip->osip_message(src);
	struct sip_text body;
	int rc;

	memset(m, 0, sizeof(*m));
	m->status = sip->status(src);
	m->method = ims_text_dup(sip->method(src));
	if (!m->status)
		m->ruri = ims_text_dup(sip->request_uri(src));
	else
		m->reason =
			strdup(o && o->reason_phrase ? o->reason_phrase : "");
	sip->source(src, m->source, sizeof(m->source));
	rc = !m->method || (m->status ? !m->reason : !m->ruri) ? -ENOMEM : 0;
	if (!rc)
		rc = o ? take_headers(sip, src, m, o)
		       : probe_headers(sip, src, m);
	body = sip->body(src);
	if (!rc && body.len)
		rc = ims_msg_set_body(m, body.ptr, body.len);
	if (rc)
		ims_msg_free(m);
	return rc;
}

void ims_msg_free(struct ims_msg *m)
{
	for (size_t i = 0; i < m->nhdrs; i++)
		hdr_free(&m->hdrs[i]);
	free(m->hdrs);
	free(m->method);
	free(m->ruri);
	free(m->reason);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

const char *ims_msg_get(const struct ims_msg *m, const char *name, unsigned idx)
{
	for (size_t i = 0; i < m->nhdrs; i++)
		if (strcasecmp(m->hdrs[i].name, name) == 0 && idx-- == 0)
			return m->hdrs[i].value;
	return NULL;
}

unsigned ims_msg_count(const struct ims_msg *m, const char *name)
{
	unsigned n = 0;

	for (size_t i = 0; i < m->nhdrs; i++)
		n += strcasecmp(m->hdrs[i].name, name) == 0;
	return n;
}

void ims_msg_del(struct ims_msg *m, const char *name)
{
	size_t j = 0;

	for (size_t i = 0; i < m->nhdrs; i++) {
		if (strcasecmp(m->hdrs[i].name, name) == 0) {
			hdr_free(&m->hdrs[i]);
		} else {
			m->hdrs[j++] = m->hdrs[i];
		}
	}
	m->nhdrs = j;
}

void ims_msg_del_first(struct ims_msg *m, const char *name)
{
	for (size_t i = 0; i < m->nhdrs; i++) {
		if (strcasecmp(m->hdrs[i].name, name) == 0) {
			hdr_free(&m->hdrs[i]);
			memmove(&m->hdrs[i], &m->hdrs[i + 1],
				(m->nhdrs - i - 1) * sizeof(*m->hdrs));
			m->nhdrs--;
			return;
		}
	}
}

int ims_msg_add(struct ims_msg *m, const char *name, const char *value,
		bool first)
{
	char canon[64];
	size_t at = m->nhdrs;

	canonical(name, canon, sizeof(canon));
	if (first)
		for (size_t i = 0; i < m->nhdrs; i++)
			if (strcasecmp(m->hdrs[i].name, canon) == 0) {
				at = i;
				break;
			}
	return push(m, at, canon, value);
}

int ims_msg_set(struct ims_msg *m, const char *name, const char *value)
{
	ims_msg_del(m, name);
	return ims_msg_add(m, name, value, false);
}

int ims_msg_replace(struct ims_msg *m, const char *name, unsigned idx,
		    const char *value)
{
	for (size_t i = 0; i < m->nhdrs; i++) {
		if (strcasecmp(m->hdrs[i].name, name) == 0 && idx-- == 0) {
			char *v = strdup(value);

			if (!v)
				return -ENOMEM;
			free(m->hdrs[i].value);
			m->hdrs[i].value = v;
			return 0;
		}
	}
	return -ENOENT;
}

int ims_msg_set_body(struct ims_msg *m, const void *body, size_t len)
{
	char *copy = NULL;

	if (len) {
		copy = malloc(len + 1);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, body, len);
		copy[len] = '\0';
	}
	free(m->body);
	m->body = copy;
	m->body_len = len;
	return 0;
}

static bool skipped(const char *name, const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (strcasecmp(name, *skip) == 0)
			return true;
	return false;
}

void ims_msg_headers(const struct ims_msg *m, const char *const *skip,
		     struct ims_buf *b)
{
	for (size_t i = 0; i < m->nhdrs; i++) {
		if (skipped(m->hdrs[i].name, skip))
			continue;
		ims_buf_str(b, m->hdrs[i].name);
		ims_buf_add(b, ": ", 2);
		ims_buf_str(b, m->hdrs[i].value);
		ims_buf_add(b, "\r\n", 2);
	}
}

int ims_msg_from_uri(const struct ims_msg *m, char *uri, size_t size)
{
	const char *v = ims_msg_get(m, "From", 0);

	return v ? ims_uri_of(v, uri, size) : -ENOENT;
}

int ims_msg_to_uri(const struct ims_msg *m, char *uri, size_t size)
{
	const char *v = ims_msg_get(m, "To", 0);

	return v ? ims_uri_of(v, uri, size) : -ENOENT;
}

int ims_msg_tag(const struct ims_msg *m, const char *name, char *tag,
		size_t size)
{
	const char *v = ims_msg_get(m, name, 0);

	if (size)
		tag[0] = '\0';
	if (!v)
		return -ENOENT;
	if (ims_hparam(v, "tag", tag, size) < 0 && size)
		tag[0] = '\0';
	return 0;
}

uint32_t ims_msg_cseq(const struct ims_msg *m)
{
	const char *v = ims_msg_get(m, "CSeq", 0);

	return v ? (uint32_t)strtoul(v, NULL, 10) : 0;
}

const char *ims_msg_content_type(const struct ims_msg *m)
{
	return ims_msg_get(m, "Content-Type", 0);
}
