/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbc_norm: normalisation of the messages crossing the SBC, declared in
 * [sbc-rules NAME] sections and chosen per peer (`rules = NAME`) or per
 * realm ([sbc] access_rules, core_rules).
 *
 * A message crosses in two steps (sbc_int.h): FROM the side that sent it,
 * then TO the side it goes to. Each step of a set does, in this order:
 *
 *   FROM  trust (RFC 3325 4: keep the P-Asserted-Identity of a trusted
 *         side, replace an untrusted one's by its asserted_identity or
 *         drop it), numbers into E.164, CLI screening (an untrusted
 *         peer's From in allowed_numbers becomes its asserted
 *         identity), then the set's `in` actions
 *         (and the numbers of the PAI / Diversion lines they copied);
 *         from an untrusted peer no header internal to the IMS enters;
 *   TO    the set's `out` actions, numbers from E.164 into the side's
 *         format, then, towards an access peer, the trust boundary:
 *         P-Asserted-Identity only to a trusted peer, the From of a
 *         Privacy: id/header request anonymised towards an untrusted one
 *         (RFC 3323 4.1.1), and no header internal to the IMS.
 *
 * The SBC copies no header of one side to the other by itself: `out`
 * starts empty, and holds only what trust passes (P-Asserted-Identity,
 * Privacy) and what actions add or copy. Actions (one a line, applied in
 * the order of their keys in1..in16, out1..out16):
 *
 *   add NAME: VALUE          a header line
 *   copy PATTERN             the received headers named PATTERN ("X-*")
 *   remove PATTERN           headers of `out`; or a URI parameter
 *   set TARGET VALUE         a header (replaced) or a URI part
 *   rewrite TARGET /RE/REPL/ POSIX extended regex, \0-\9 in REPL; i: icase
 *
 * TARGET: a header name, or URI.user, URI.host, URI.param.NAME with URI
 * one of ruri, from, to, pai. Regexes are compiled once, at load.
 *
 * The same sets adapt the sides' extensions (sbc_norm_reply_flags,
 * sbc_norm_adapt): 100rel per peer, session refreshes kept on their leg,
 * UPDATE as re-INVITE for a peer without UPDATE.
 */
#define _GNU_SOURCE /* FNM_CASEFOLD */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sbc_int.h"

#define SETS_MAX 64
#define E164_DIGITS 15 /* ITU-T E.164 6.1 */
#define PAI "P-Asserted-Identity"
#define ANONYMOUS_URI "sip:anonymous@anonymous.invalid" /* RFC 3323 4.1.1.3 */

enum act_kind { ACT_ADD, ACT_COPY, ACT_REMOVE, ACT_SET, ACT_REWRITE };
enum uri_which { URI_RURI, URI_FROM, URI_TO, URI_PAI, URI_NONE };
enum uri_part { PART_USER, PART_HOST, PART_PARAM };
enum number_format { FMT_E164, FMT_INTERNATIONAL, FMT_NATIONAL, FMT_LOCAL };
/* key "100rel": provisional responses towards the peer */
enum rel100_mode { REL_AS_CORE, REL_NEVER, REL_ALWAYS };

struct target {
	enum uri_which uri; /* URI_NONE: a header */
	enum uri_part part;
	char name[64]; /* header name or pattern, or URI parameter name */
};

struct action {
	enum act_kind kind;
	struct target t;
	char *value; /* add, set: the value; rewrite: the replacement */
	regex_t re;
	bool has_re;
};

struct numbering {
	char cc[4], national[8], international[8], area[8];
	unsigned local_len; /* digits of a local number; 0: any */
	enum number_format format;
	bool on; /* a country code is configured */
};

struct rule_set {
	char name[48];
	struct numbering num;
	bool trusted, update;
	enum rel100_mode rel100;
	char *identity;
	regex_t allowed; /* the From numbers the peer may present */
	bool has_allowed;
	struct action in[SBC_NORM_ACTIONS], out[SBC_NORM_ACTIONS];
	unsigned nin, nout;
};

static struct rule_set *sets[SETS_MAX];
static unsigned nsets;

/* Headers only the dialog layer writes: copy never takes them. */
static const char *const layer_headers[] = {
	"Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards",
	"Content-Type", "Content-Length", "Route", "Record-Route", "Require",
	"Supported", "Session-Expires", "Min-SE", "RSeq", "RAck",
	"Authorization", "Proxy-Authorization", "WWW-Authenticate",
	"Proxy-Authenticate", PAI, "Privacy", NULL
};

/* What the IMS keeps inside its trust domain (TS 24.229 4.4, RFC 3325,
 * RFC 3327, RFC 3608): never towards an access peer. */
static const char *const internal_headers[] = {
	"P-*", "Path", "Service-Route", "Record-Route", "Route", "Via",
	"History-Info", NULL
};

static bool name_in(const char *name, const char *const *patterns)
{
	for (unsigned i = 0; patterns[i]; i++)
		if (fnmatch(patterns[i], name, FNM_CASEFOLD) == 0)
			return true;
	return false;
}

static struct rule_set *set_find(const char *name)
{
	if (!name || !name[0])
		return NULL;
	for (unsigned i = 0; i < nsets; i++)
		if (strcmp(sets[i]->name, name) == 0)
			return sets[i];
	return NULL;
}

bool sbc_norm_set_exists(const char *name)
{
	return set_find(name) != NULL;
}

/* ---- URIs: "sip:user@host:port;params?headers", "tel:+44...;params" -- */

struct uri_span {
	size_t user, user_len, host, host_len, params, params_len;
};

static int uri_split(const char *uri, struct uri_span *s)
{
	const char *colon = strchr(uri, ':'), *at, *p;
	size_t end;

	if (!colon || colon == uri)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	p = colon + 1;
	end = strcspn(p, "?") + (size_t)(p - uri);
	at = memchr(p, '@', end - (size_t)(p - uri));
	if (strncasecmp(uri, "tel:", 4) == 0) { /* RFC 3966: no host */
		s->user = (size_t)(p - uri);
		s->user_len = strcspn(p, ";?");
		s->host = s->user + s->user_len;
	} else {
		if (at) {
			s->user = (size_t)(p - uri);
			s->user_len = (size_t)(at - p);
			p = at + 1;
		} else {
			s->user = (size_t)(p - uri);
		}
		s->host = (size_t)(p - uri);
		s->host_len = strcspn(p, ";?");
	}
	s->params = s->host + s->host_len;
	s->params_len = end - s->params;
	return 0;
}

/* Replace uri[off, off+len) with `text`. */
static int splice(char *uri, size_t size, size_t off, size_t len,
		  const char *text)
{
	size_t tail = strlen(uri + off + len), n = strlen(text);

	if (off + n + tail + 1 > size)
		return -ENOSPC;
	memmove(uri + off + n, uri + off + len, tail + 1);
	memcpy(uri + off, text, n);
	return 0;
}

/* The parameter `name` in the params span: its offset and length (the
 * ";name[=value]"), or -ENOENT. */
static int param_find(const char *uri, const struct uri_span *s,
		      const char *name, size_t *off, size_t *len)
{
	size_t n = strlen(name), i = s->params, end = s->params + s->params_len;

	while (i < end && uri[i] == ';') {
		size_t l = 1 + strcspn(uri + i + 1, ";?");

		if (i + l > end)
			l = end - i;
		if (l > n && strncasecmp(uri + i + 1, name, n) == 0 &&
		    (l == n + 1 || uri[i + 1 + n] == '=')) {
			*off = i;
			*len = l;
			return 0;
		}
		i += l;
	}
	return -ENOENT;
}

/* Copy part `part` of `uri` (a parameter's value) into out. */
static int uri_get(const char *uri, enum uri_part part, const char *param,
		   char *out, size_t size)
{
	struct uri_span s;
	size_t off, len;

	if (uri_split(uri, &s) < 0)
		return -EINVAL;
	if (part == PART_USER) {
		off = s.user, len = s.user_len;
	} else if (part == PART_HOST) {
		off = s.host, len = s.host_len;
	} else {
		const char *eq;

		if (param_find(uri, &s, param, &off, &len) < 0)
			return -ENOENT;
		eq = memchr(uri + off, '=', len);
		len = eq ? len - (size_t)(eq + 1 - (uri + off)) : 0;
		off = eq ? (size_t)(eq + 1 - uri) : off;
	}
	if (len + 1 > size)
		return -ENOSPC;
	memcpy(out, uri + off, len);
	out[len] = '\0';
	return 0;
}

/* Set part `part` of `uri`; a parameter is added when absent, `value`
 * NULL removes it. A user part needs an '@' after it (sip URIs). */
static int uri_set(char *uri, size_t size, enum uri_part part,
		   const char *param, const char *value)
{
	struct uri_span s;
	size_t off, len;
	char text[SBC_NORM_URI];

	if (uri_split(uri, &s) < 0)
		return -EINVAL;
	if (part == PART_USER) {
		bool tel = strncasecmp(uri, "tel:", 4) == 0;

		if (!tel && !s.user_len && value && value[0]) {
			if (snprintf(text, sizeof(text), "%s@", value) >=
			    (int)sizeof(text))
				return -ENOSPC;
			return splice(uri, size, s.user, 0, text);
		}
		if (!tel && s.user_len && (!value || !value[0]))
			return splice(uri, size, s.user, s.user_len + 1, "");
		return splice(uri, size, s.user, s.user_len,
			      value ? value : "");
	}
	if (part == PART_HOST)
		return strncasecmp(uri, "tel:", 4) == 0 ?
			       -EINVAL :
			       splice(uri, size, s.host, s.host_len,
				      value ? value : "");
	text[0] = '\0';
	if (value && snprintf(text, sizeof(text), ";%s%s%s", param,
			      value[0] ? "=" : "", value) >= (int)sizeof(text))
		return -ENOSPC;
	if (param_find(uri, &s, param, &off, &len) == 0)
		return splice(uri, size, off, len, text);
	return value ? splice(uri, size, s.params + s.params_len, 0, text) : 0;
}

/* ---- E.164 --------------------------------------------------------------- */

/* RFC 3966 5.1.1 visual separators out; digits only (a leading + kept).
 * 1 a number, 0 not one (letters: a name, "*31#": a service code),
 * -EINVAL digits with something else in them, or too long. */
static int number_clean(const char *in, char *out, size_t size)
{
	size_t n = 0, digits = 0;
	bool plus = in[0] == '+';

	for (const char *p = in + plus; *p; p++) {
		if (strchr("-.() ", *p))
			continue;
		if (!isdigit((unsigned char)*p))
			return digits || plus ? -EINVAL : 0;
		if (n + 2 >= size || ++digits > E164_DIGITS + 4)
			return -EINVAL;
		out[n++] = *p;
	}
	out[n] = '\0';
	if (!digits)
		return plus ? -EINVAL : 0;
	if (plus) {
		memmove(out + 1, out, n + 1);
		out[0] = '+';
	}
	return 1;
}

static bool starts(const char *s, const char *prefix)
{
	return prefix[0] && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int e164_done(const char *digits, char *out, size_t size)
{
	size_t n = strlen(digits);

	if (n < 2 || n > E164_DIGITS || digits[0] == '0')
		return -EINVAL;
	if (n + 2 > size)
		return -ENOSPC;
	snprintf(out, size, "+%s", digits);
	return 1;
}

static int to_e164(const struct numbering *nb, const char *number, char *out,
		   size_t size)
{
	char clean[32], digits[48];
	int rc = number_clean(number, clean, sizeof(clean));

	if (rc <= 0)
		return rc;
	if (clean[0] == '+')
		return e164_done(clean + 1, out, size);
	if (!nb->on)
		return 0; /* no plan: a national number stays as it is */
	if (starts(clean, nb->international))
		return e164_done(clean + strlen(nb->international), out, size);
	if (starts(clean, nb->national)) {
		snprintf(digits, sizeof(digits), "%s%s", nb->cc,
			 clean + strlen(nb->national));
		return clean[strlen(nb->national)] ?
			       e164_done(digits, out, size) : -EINVAL;
	}
	if (!nb->area[0] || (nb->local_len && strlen(clean) != nb->local_len))
		return 0; /* a short code or an extension, not a subscriber */
	snprintf(digits, sizeof(digits), "%s%s%s", nb->cc, nb->area, clean);
	return e164_done(digits, out, size);
}

static int from_e164(const struct numbering *nb, const char *number,
		     char *out, size_t size)
{
	char clean[32];
	const char *rest;
	int rc = number_clean(number, clean, sizeof(clean));

	if (rc <= 0 || clean[0] != '+')
		return rc < 0 ? rc : 0; /* not E.164: left to the peer */
	if (strlen(clean + 1) > E164_DIGITS)
		return -EINVAL;
	if (!nb->on || nb->format == FMT_E164)
		return snprintf(out, size, "%s", clean) < (int)size ? 1 :
								       -ENOSPC;
	rest = clean + 1 + strlen(nb->cc);
	if (starts(clean + 1, nb->cc) && !*rest)
		return -EINVAL; /* a country code alone */
	if (nb->format == FMT_INTERNATIONAL || !starts(clean + 1, nb->cc))
		rc = snprintf(out, size, "%s%s", nb->international, clean + 1);
	else if (nb->format == FMT_LOCAL && starts(rest, nb->area) &&
		 rest[strlen(nb->area)] &&
		 (!nb->local_len ||
		  strlen(rest + strlen(nb->area)) == nb->local_len))
		/* same area: the subscriber number */
		rc = snprintf(out, size, "%s", rest + strlen(nb->area));
	else
		rc = snprintf(out, size, "%s%s", nb->national, rest);
	return rc < (int)size ? 1 : -ENOSPC;
}

/* The user part of `uri` through `conv`; counts malformed numbers. */
static void uri_number(struct sbc_norm_msg *msg, const struct numbering *nb,
		       bool inward, char *uri, size_t size)
{
	char user[64], conv[64];
	int rc;

	if (!uri[0] || uri_get(uri, PART_USER, NULL, user, sizeof(user)) < 0)
		return;
	rc = inward ? to_e164(nb, user, conv, sizeof(conv)) :
		      from_e164(nb, user, conv, sizeof(conv));
	if (rc < 0)
		msg->bad_numbers++;
	else if (rc > 0 && uri_set(uri, size, PART_USER, NULL, conv) < 0)
		msg->bad_numbers++;
}

/* ---- Header values holding a URI (P-Asserted-Identity) ------------------- */

/* The URI of a name-addr / addr-spec value: its span in `value`. */
static int value_uri(const char *value, size_t *off, size_t *len)
{
	const char *lt = strchr(value, '<'), *gt;

	if (lt) {
		gt = strchr(lt, '>');
		if (!gt)
			return -EINVAL;
		*off = (size_t)(lt + 1 - value);
		*len = (size_t)(gt - lt - 1);
	} else {
		*off = strspn(value, " ");
		*len = strcspn(value + *off, " ;,");
	}
	return *len ? 0 : -EINVAL;
}

/* Edit the URI inside line `idx` of header `name` of `out` with `edit`. */
static int header_uri_edit(struct ims_msg *out, const char *name,
			   unsigned idx,
			   int (*edit)(char *uri, size_t size, void *arg),
			   void *arg)
{
	const char *value = ims_msg_get(out, name, idx);
	char uri[SBC_NORM_URI], line[IMS_HDR_MAX];
	size_t off, len;
	int rc;

	if (!value || value_uri(value, &off, &len) < 0 || len >= sizeof(uri))
		return -EINVAL;
	memcpy(uri, value + off, len);
	uri[len] = '\0';
	rc = edit(uri, sizeof(uri), arg);
	if (rc < 0)
		return rc;
	if (snprintf(line, sizeof(line), "%.*s%s%s", (int)off, value, uri,
		     value + off + len) >= (int)sizeof(line))
		return -ENOSPC;
	return ims_msg_replace(out, name, idx, line);
}

struct number_edit {
	struct sbc_norm_msg *msg;
	const struct numbering *nb;
	bool inward;
};

static int edit_number(char *uri, size_t size, void *arg)
{
	struct number_edit *e = arg;

	uri_number(e->msg, e->nb, e->inward, uri, size);
	return 0;
}

/* The numbers of the header lines to send that name a party. */
static void header_numbers(struct sbc_norm_msg *msg,
			   const struct numbering *nb, bool inward)
{
	struct number_edit e = { msg, nb, inward };

	for (unsigned i = 0; i < ims_msg_count(&msg->out, PAI); i++)
		header_uri_edit(&msg->out, PAI, i, edit_number, &e);
	/* RFC 5806: the numbers a call was diverted from, when copied */
	for (unsigned i = 0; i < ims_msg_count(&msg->out, "Diversion"); i++)
		header_uri_edit(&msg->out, "Diversion", i, edit_number, &e);
}

static void numbers(struct sbc_norm_msg *msg, const struct numbering *nb,
		    bool inward)
{
	uri_number(msg, nb, inward, msg->ruri, sizeof(msg->ruri));
	uri_number(msg, nb, inward, msg->from, sizeof(msg->from));
	uri_number(msg, nb, inward, msg->to, sizeof(msg->to));
	header_numbers(msg, nb, inward);
}

/* ---- Actions ------------------------------------------------------------- */

static char *uri_of_msg(struct sbc_norm_msg *msg, enum uri_which w)
{
	return w == URI_RURI ? msg->ruri : w == URI_FROM ? msg->from :
	       w == URI_TO   ? msg->to :
			       NULL;
}

/* `in` with the first match of `re` replaced by `repl` (\0-\9). */
static int regex_sub(const regex_t *re, const char *repl, const char *in,
		     char *out, size_t size)
{
	regmatch_t m[10];
	size_t n = 0;

#define PUT(p, l)                                                              \
	do {                                                                   \
		if (n + (l) + 1 > size)                                        \
			return -ENOSPC;                                        \
		memcpy(out + n, (p), (l));                                     \
		n += (l);                                                      \
	} while (0)
	if (regexec(re, in, 10, m, 0) != 0) {
		PUT(in, strlen(in));
		out[n] = '\0';
		return 0; /* no match: unchanged */
	}
	PUT(in, (size_t)m[0].rm_so);
	for (const char *r = repl; *r; r++) {
		if (r[0] == '\\' && isdigit((unsigned char)r[1])) {
			const regmatch_t *g = &m[r[1] - '0'];

			if (g->rm_so >= 0)
				PUT(in + g->rm_so,
				    (size_t)(g->rm_eo - g->rm_so));
			r++;
		} else {
			if (r[0] == '\\' && r[1])
				r++;
			PUT(r, 1);
		}
	}
	PUT(in + m[0].rm_eo, strlen(in + m[0].rm_eo));
#undef PUT
	out[n] = '\0';
	return 1;
}

struct uri_action {
	const struct action *a;
};

/* Apply a set / rewrite / remove action to one URI. */
static int edit_uri(char *uri, size_t size, void *arg)
{
	const struct action *a = ((struct uri_action *)arg)->a;
	char part[SBC_NORM_URI], result[SBC_NORM_URI];
	int rc;

	if (a->kind == ACT_SET)
		return uri_set(uri, size, a->t.part, a->t.name, a->value);
	if (a->kind == ACT_REMOVE)
		return uri_set(uri, size, PART_PARAM, a->t.name, NULL);
	rc = uri_get(uri, a->t.part, a->t.name, part, sizeof(part));
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	rc = regex_sub(&a->re, a->value, part, result, sizeof(result));
	return rc > 0 ? uri_set(uri, size, a->t.part, a->t.name, result) : rc;
}

static int header_rewrite(struct ims_msg *out, const struct action *a)
{
	char result[IMS_HDR_MAX];

	for (unsigned i = 0; i < ims_msg_count(out, a->t.name); i++) {
		const char *v = ims_msg_get(out, a->t.name, i);
		int rc = regex_sub(&a->re, a->value, v, result, sizeof(result));

		if (rc > 0 && ims_msg_replace(out, a->t.name, i, result) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void remove_matching(struct ims_msg *out, const char *pattern,
			    const char *const *keep)
{
	for (size_t i = 0; i < out->nhdrs;) {
		const char *name = out->hdrs[i].name;

		if (fnmatch(pattern, name, FNM_CASEFOLD) == 0 &&
		    !(keep && name_in(name, keep))) {
			/* every line of that name goes, none of them before
			 * i (they matched as well): i is the next one now */
			char *copy = strdup(name);

			if (!copy)
				return;
			ims_msg_del(out, copy);
			free(copy);
		} else {
			i++;
		}
	}
}

static bool has_line(const struct ims_msg *m, const char *name,
		     const char *value)
{
	const char *v;

	for (unsigned i = 0; (v = ims_msg_get(m, name, i)); i++)
		if (strcmp(v, value) == 0)
			return true;
	return false;
}

static int copy_matching(struct sbc_norm_msg *msg, const char *pattern)
{
	for (size_t i = 0; i < msg->in.nhdrs; i++) {
		const struct ims_hdr *h = &msg->in.hdrs[i];

		if (fnmatch(pattern, h->name, FNM_CASEFOLD) != 0 ||
		    name_in(h->name, layer_headers) ||
		    has_line(&msg->out, h->name, h->value))
			continue; /* the dialog's, or copied already */
		if (ims_msg_add(&msg->out, h->name, h->value, false) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int act_header(struct sbc_norm_msg *msg, const struct action *a)
{
	switch (a->kind) {
	case ACT_ADD:
		return ims_msg_add(&msg->out, a->t.name, a->value, false);
	case ACT_COPY:
		return copy_matching(msg, a->t.name);
	case ACT_REMOVE:
		remove_matching(&msg->out, a->t.name, NULL);
		return 0;
	case ACT_SET:
		return ims_msg_set(&msg->out, a->t.name, a->value);
	case ACT_REWRITE:
		return header_rewrite(&msg->out, a);
	}
	return 0;
}

static int act_run(struct sbc_norm_msg *msg, const struct action *a)
{
	struct uri_action ua = { a };
	char *uri;
	int rc;

	if (a->t.uri == URI_NONE)
		return act_header(msg, a);
	if (a->t.uri == URI_PAI) {
		if (!ims_msg_count(&msg->out, PAI))
			return 0;
		rc = header_uri_edit(&msg->out, PAI, 0, edit_uri, &ua);
		return rc == -ENOMEM ? rc : 0;
	}
	uri = uri_of_msg(msg, a->t.uri);
	if (!uri[0])
		return 0; /* a response: no such URI */
	rc = edit_uri(uri, SBC_NORM_URI, &ua);
	return rc == -ENOMEM ? rc : 0;
}

/* ---- The two steps ------------------------------------------------------- */

/* RFC 3323 4.2: Privacy is a list of values separated by ';'. */
static bool privacy_asks(const struct ims_msg *m)
{
	const char *v;

	for (unsigned i = 0; (v = ims_msg_get(m, "Privacy", i)); i++) {
		while (*v) {
			size_t n;

			v += strspn(v, " \t;,");
			n = strcspn(v, " \t;,");
			if ((n == 2 && strncasecmp(v, "id", 2) == 0) ||
			    (n == 6 && strncasecmp(v, "header", 6) == 0))
				return true;
			v += n;
		}
	}
	return false;
}

/* Names actions give one by one (no wildcard): an operator's explicit
 * choice passes the trust boundary, PAI excepted (trust decides it). */
static unsigned explicit_names(const struct action *acts, unsigned nacts,
			       const char **names, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nacts && n + 2 < max; i++) {
		const struct action *a = &acts[i];

		if (a->t.uri == URI_NONE && a->kind != ACT_REMOVE &&
		    !strpbrk(a->t.name, "*?[") &&
		    strcasecmp(a->t.name, PAI) != 0)
			names[n++] = a->t.name;
	}
	names[n] = NULL;
	return n;
}

/* What the IMS keeps to itself leaves `out`, but for `keep`. */
static void strip_internal(struct ims_msg *out, const char *const *keep)
{
	for (unsigned i = 0; internal_headers[i]; i++)
		remove_matching(out, internal_headers[i], keep);
}

/* RFC 3325 4 and 5: what may pass from a side, and what may reach one. */
static int trust_from(const struct rule_set *set, bool trusted,
		      struct sbc_norm_msg *msg)
{
	const char *v;

	for (unsigned i = 0; (v = ims_msg_get(&msg->in, "Privacy", i)); i++)
		if (ims_msg_add(&msg->out, "Privacy", v, false) < 0)
			return -ENOMEM;
	if (trusted) {
		for (unsigned i = 0; (v = ims_msg_get(&msg->in, PAI, i)); i++)
			if (ims_msg_add(&msg->out, PAI, v, false) < 0)
				return -ENOMEM;
	}
	/* ours replaces an untrusted side's, completes a trusted one's */
	if (set && set->identity && set->identity[0] &&
	    !(trusted && ims_msg_count(&msg->out, PAI))) {
		char line[SBC_NORM_URI + 2];

		snprintf(line, sizeof(line), "<%s>", set->identity);
		return ims_msg_set(&msg->out, PAI, line);
	}
	return 0;
}

static void trust_to_peer(const struct rule_set *set,
			  struct sbc_norm_msg *msg)
{
	const char *keep[SBC_NORM_ACTIONS + 2];
	unsigned n = explicit_names(set ? set->out : NULL, set ? set->nout : 0,
				    keep, SBC_NORM_ACTIONS + 2);

	if (set && set->trusted) {
		keep[n++] = PAI;
		keep[n] = NULL;
	} else {
		if (msg->from[0] && (privacy_asks(&msg->out) ||
				     privacy_asks(&msg->in)))
			snprintf(msg->from, sizeof(msg->from), "%s",
				 ANONYMOUS_URI);
		ims_msg_del(&msg->out, PAI);
	}
	strip_internal(&msg->out, keep);
}

/* An untrusted peer cannot bring in what the core takes on trust
 * (P-Charging-Vector, P-Served-User...), even through `copy *`. */
static void trust_from_peer(const struct rule_set *set,
			    struct sbc_norm_msg *msg)
{
	const char *keep[SBC_NORM_ACTIONS + 2];
	unsigned n = explicit_names(set ? set->in : NULL, set ? set->nin : 0,
				    keep, SBC_NORM_ACTIONS + 2);

	keep[n++] = PAI; /* ours, from asserted_identity */
	keep[n] = NULL;
	strip_internal(&msg->out, keep);
}

/*
 * CLI screening: an untrusted peer's From number (E.164 by now) that
 * allowed_numbers matches becomes the asserted identity (its user part
 * in asserted_identity's URI, else a tel URI); any other keeps the
 * peer's asserted_identity (a main number), as network-provided CLI.
 */
static int screen_from(const struct rule_set *set, struct sbc_norm_msg *msg)
{
	char user[64], uri[SBC_NORM_URI], line[SBC_NORM_URI + 2];

	if (!msg->from[0] ||
	    uri_get(msg->from, PART_USER, NULL, user, sizeof(user)) < 0 ||
	    regexec(&set->allowed, user, 0, NULL, 0) != 0)
		return 0;
	if (set->identity && set->identity[0]) {
		snprintf(uri, sizeof(uri), "%s", set->identity);
		if (uri_set(uri, sizeof(uri), PART_USER, NULL, user) < 0)
			return 0;
	} else if (snprintf(uri, sizeof(uri), "tel:%s", user) >=
		   (int)sizeof(uri)) {
		return 0;
	}
	snprintf(line, sizeof(line), "<%s>", uri);
	return ims_msg_set(&msg->out, PAI, line);
}

int sbc_norm_apply(const char *rules, enum sbc_norm_dir dir,
		   struct sbc_norm_msg *msg)
{
	const struct rule_set *set = set_find(rules);
	bool from = dir == SBC_NORM_FROM_PEER || dir == SBC_NORM_FROM_CORE;
	bool core = dir == SBC_NORM_FROM_CORE || dir == SBC_NORM_TO_CORE;
	int rc;

	if (rules && rules[0] && !set)
		return -ENOENT;
	if (from) {
		rc = trust_from(set, core || (set && set->trusted), msg);
		if (rc < 0)
			return rc;
		if (set)
			numbers(msg, &set->num, true);
		if (!core && set && !set->trusted && set->has_allowed &&
		    screen_from(set, msg) < 0)
			return -ENOMEM;
		for (unsigned i = 0; set && i < set->nin; i++)
			if (act_run(msg, &set->in[i]) == -ENOMEM)
				return -ENOMEM;
		if (set) /* lines the actions copied (E.164 stays E.164) */
			header_numbers(msg, &set->num, true);
		if (!core && !(set && set->trusted))
			trust_from_peer(set, msg);
		return 0;
	}
	for (unsigned i = 0; set && i < set->nout; i++)
		if (act_run(msg, &set->out[i]) == -ENOMEM)
			return -ENOMEM;
	if (set)
		numbers(msg, &set->num, false);
	if (!core)
		trust_to_peer(set, msg);
	return 0;
}

void sbc_norm_msg_free(struct sbc_norm_msg *msg)
{
	ims_msg_free(&msg->in);
	ims_msg_free(&msg->out);
	memset(&msg->in, 0, sizeof(msg->in));
	memset(&msg->out, 0, sizeof(msg->out));
}

char *sbc_norm_headers(const struct sbc_norm_msg *msg)
{
	struct ims_buf b = { 0 };

	if (!msg->out.nhdrs)
		return NULL;
	ims_msg_headers(&msg->out, NULL, &b);
	if (b.failed) {
		ims_buf_free(&b);
		return NULL;
	}
	return b.data;
}

unsigned sbc_norm_reply_flags(const char *rules, int status, unsigned flags)
{
	const struct rule_set *set = set_find(rules);

	if (!set || status <= 100 || status >= 200)
		return flags;
	if (set->rel100 == REL_NEVER)
		return flags & ~(unsigned)SIP_REPLY_RELIABLE;
	if (set->rel100 == REL_ALWAYS) /* the layer checks the peer's support */
		return flags | SIP_REPLY_RELIABLE;
	return flags;
}

int sbc_norm_user_of(struct sip_text value, char *out, size_t size)
{
	char text[IMS_HDR_MAX], uri[SBC_NORM_URI];
	size_t off, len;

	if (value.len >= sizeof(text))
		return -ENOSPC;
	memcpy(text, value.ptr, value.len);
	text[value.len] = '\0';
	if (value_uri(text, &off, &len) < 0 || len >= sizeof(uri))
		return -EINVAL;
	memcpy(uri, text + off, len);
	uri[len] = '\0';
	if (strncasecmp(uri, "sip:", 4) != 0 &&
	    strncasecmp(uri, "sips:", 5) != 0 &&
	    strncasecmp(uri, "tel:", 4) != 0)
		return -EINVAL;
	if (uri_get(uri, PART_USER, NULL, out, size) < 0)
		return -ENOSPC;
	return out[0] ? 0 : -ENOENT;
}

int sbc_norm_to_e164(const char *rules, const char *number, char *out,
		     size_t size)
{
	const struct rule_set *set = set_find(rules);
	struct numbering none = { .on = false };

	return to_e164(set ? &set->num : &none, number, out, size);
}

int sbc_norm_from_e164(const char *rules, const char *number, char *out,
		       size_t size)
{
	const struct rule_set *set = set_find(rules);
	struct numbering none = { .on = false };

	return from_e164(set ? &set->num : &none, number, out, size);
}

/* ---- Parsing a set ------------------------------------------------------- */

static int fail(char *err, size_t size, const char *fmt, ...)
	TND_PRINTF(3, 4);

static int fail(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool header_name_ok(const char *s, bool pattern)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.!%+`'~", *s) &&
		    !(pattern && strchr("*?[]", *s)))
			return false;
	return true;
}

static int target_parse(const char *text, bool pattern, struct target *t,
			char *err, size_t size)
{
	static const char *const uris[] = { "ruri", "from", "to", "pai" };
	const char *dot = strchr(text, '.');

	memset(t, 0, sizeof(*t));
	t->uri = URI_NONE;
	for (unsigned i = 0; dot && i < 4; i++) {
		if (strlen(uris[i]) != (size_t)(dot - text) ||
		    strncasecmp(text, uris[i], strlen(uris[i])) != 0)
			continue;
		t->uri = (enum uri_which)i;
		if (strcasecmp(dot + 1, "user") == 0) {
			t->part = PART_USER;
		} else if (strcasecmp(dot + 1, "host") == 0) {
			t->part = PART_HOST;
		} else if (strncasecmp(dot + 1, "param.", 6) == 0 &&
			   header_name_ok(dot + 7, false)) {
			t->part = PART_PARAM;
			snprintf(t->name, sizeof(t->name), "%s", dot + 7);
		} else {
			return fail(err, size, "'%s': a URI part is user, "
				    "host or param.NAME", text);
		}
		return 0;
	}
	if (strlen(text) >= sizeof(t->name) || !header_name_ok(text, pattern))
		return fail(err, size, "'%s' is not a header name%s nor "
			    "ruri|from|to|pai.user|host|param.NAME", text,
			    pattern ? " (pattern)" : "");
	snprintf(t->name, sizeof(t->name), "%s", text);
	return 0;
}

/* "/RE/REPL/[i]" with any delimiter: compiles RE, keeps REPL. */
static int rewrite_parse(const char *text, struct action *a, char *err,
			 size_t size)
{
	char delim = text[0], re[256];
	const char *mid, *end;
	int rc, flags = REG_EXTENDED;

	if (!delim || isalnum((unsigned char)delim) || delim == '\\' ||
	    !(mid = strchr(text + 1, delim)) || !(end = strchr(mid + 1, delim)))
		return fail(err, size, "rewrite needs /REGEX/REPLACEMENT/");
	if (strcmp(end + 1, "i") == 0)
		flags |= REG_ICASE;
	else if (end[1])
		return fail(err, size, "'%s' after the rewrite: only 'i' "
			    "(ignore case) may follow", end + 1);
	if ((size_t)(mid - text - 1) >= sizeof(re))
		return fail(err, size, "regex too long");
	snprintf(re, sizeof(re), "%.*s", (int)(mid - text - 1), text + 1);
	rc = regcomp(&a->re, re, flags);
	if (rc) {
		char why[128];

		regerror(rc, &a->re, why, sizeof(why));
		return fail(err, size, "regex '%s': %s", re, why);
	}
	a->has_re = true;
	a->value = strndup(mid + 1, (size_t)(end - mid - 1));
	return a->value ? 0 : -ENOMEM;
}

static int action_parse(const char *line, struct action *a, char *err,
			size_t size)
{
	static const char *const kinds[] = { "add", "copy", "remove", "set",
					     "rewrite" };
	char verb[16], target[128];
	const char *rest;
	int n = 0;

	memset(a, 0, sizeof(*a));
	if (sscanf(line, "%15s %127s %n", verb, target, &n) < 2 || !n)
		return fail(err, size, "'%s': an action is VERB TARGET ...",
			    line);
	rest = line + n;
	for (a->kind = ACT_ADD; a->kind <= ACT_REWRITE; a->kind++)
		if (strcasecmp(verb, kinds[a->kind]) == 0)
			break;
	if (a->kind > ACT_REWRITE)
		return fail(err, size, "unknown action '%s' (add, copy, "
			    "remove, set, rewrite)", verb);
	if (a->kind == ACT_ADD) { /* add NAME: VALUE */
		char *colon = strchr(target, ':');

		if (!colon || colon[1])
			return fail(err, size, "add needs 'NAME: VALUE'");
		*colon = '\0';
		if (!header_name_ok(target, false) || !*rest)
			return fail(err, size, "add needs 'NAME: VALUE'");
		if (strlen(target) >= sizeof(a->t.name))
			return fail(err, size, "add: header name '%s' longer "
				    "than %zu", target, sizeof(a->t.name) - 1);
		memcpy(a->t.name, target, strlen(target) + 1);
		a->t.uri = URI_NONE;
		a->value = strdup(rest);
		return a->value ? 0 : -ENOMEM;
	}
	if (target_parse(target, a->kind == ACT_COPY || a->kind == ACT_REMOVE,
			 &a->t, err, size) < 0)
		return -EINVAL;
	if (a->kind == ACT_COPY && a->t.uri != URI_NONE)
		return fail(err, size, "copy takes header names");
	if (a->kind == ACT_REMOVE && a->t.uri != URI_NONE &&
	    a->t.part != PART_PARAM)
		return fail(err, size, "remove takes header names or "
			    "URI.param.NAME");
	if ((a->kind == ACT_COPY || a->kind == ACT_REMOVE) && *rest)
		return fail(err, size, "'%s': %s takes one name", rest, verb);
	if (a->kind == ACT_REWRITE)
		return rewrite_parse(rest, a, err, size);
	if (a->kind == ACT_SET) {
		if (!*rest && a->t.part != PART_PARAM)
			return fail(err, size, "set needs a value");
		a->value = strdup(rest);
		return a->value ? 0 : -ENOMEM;
	}
	return 0;
}

static void action_free(struct action *a)
{
	if (a->has_re)
		regfree(&a->re);
	free(a->value);
	memset(a, 0, sizeof(*a));
}

static void set_free(struct rule_set *s)
{
	for (unsigned i = 0; i < s->nin; i++)
		action_free(&s->in[i]);
	for (unsigned i = 0; i < s->nout; i++)
		action_free(&s->out[i]);
	free(s->identity);
	if (s->has_allowed)
		regfree(&s->allowed);
	free(s);
}

static int digits_key(const char *value, char *out, size_t size,
		      const char *key, const char **bad_key, char *err,
		      size_t err_size)
{
	const char *v = value ? value : "";

	if (strspn(v, "0123456789") != strlen(v) || strlen(v) >= size) {
		*bad_key = key;
		return fail(err, err_size, "%s = '%s': digits only, at most "
			    "%zu", key, v, size - 1);
	}
	snprintf(out, size, "%s", v);
	return 0;
}

static int numbering_parse(const struct sbc_norm_set_cfg *cfg,
			   struct numbering *nb, const char **bad_key,
			   char *err, size_t size)
{
	static const char *const formats[] = { "e164", "international",
					       "national", "local" };
	const char *fmt = cfg->number_format ? cfg->number_format : "national";

	if (digits_key(cfg->country_code, nb->cc, sizeof(nb->cc),
		       "country_code", bad_key, err, size) < 0 ||
	    digits_key(cfg->national_prefix, nb->national,
		       sizeof(nb->national), "national_prefix", bad_key, err,
		       size) < 0 ||
	    digits_key(cfg->international_prefix, nb->international,
		       sizeof(nb->international), "international_prefix",
		       bad_key, err, size) < 0 ||
	    digits_key(cfg->area_code, nb->area, sizeof(nb->area),
		       "area_code", bad_key, err, size) < 0)
		return -EINVAL;
	nb->on = nb->cc[0] != '\0';
	if (cfg->local_length > E164_DIGITS) {
		*bad_key = "local_length";
		return fail(err, size, "local_length = %llu: at most %d",
			    cfg->local_length, E164_DIGITS);
	}
	nb->local_len = (unsigned)cfg->local_length;
	if (nb->on && (!nb->national[0] || !nb->international[0])) {
		*bad_key = "country_code";
		return fail(err, size, "country_code needs national_prefix "
			    "and international_prefix");
	}
	for (unsigned i = 0; i < 4; i++)
		if (strcasecmp(fmt, formats[i]) == 0) {
			nb->format = (enum number_format)i;
			return 0;
		}
	*bad_key = "number_format";
	return fail(err, size, "number_format = '%s': e164, international, "
		    "national or local", fmt);
}

static int actions_parse(char *const *lines, const char *prefix,
			 struct action *acts, unsigned *n,
			 const char **bad_key, char *err, size_t size)
{
	static char keys[2][SBC_NORM_ACTIONS][8];
	unsigned which = strcmp(prefix, "in") != 0;

	for (unsigned i = 0; i < SBC_NORM_ACTIONS; i++) {
		int rc;

		if (!lines[i] || !lines[i][0])
			continue;
		snprintf(keys[which][i], sizeof(keys[which][i]), "%s%u",
			 prefix, i + 1);
		rc = action_parse(lines[i], &acts[*n], err, size);
		if (rc < 0) {
			action_free(&acts[*n]);
			*bad_key = keys[which][i];
			return rc;
		}
		(*n)++;
	}
	return 0;
}

static int allowed_parse(const char *re, struct rule_set *s,
			 const char **bad_key, char *err, size_t size)
{
	int rc = regcomp(&s->allowed, re, REG_EXTENDED | REG_NOSUB);

	if (rc) {
		char why[128];

		regerror(rc, &s->allowed, why, sizeof(why));
		*bad_key = "allowed_numbers";
		return fail(err, size, "allowed_numbers '%s': %s", re, why);
	}
	s->has_allowed = true;
	return 0;
}

int sbc_norm_set_add(const char *name, const struct sbc_norm_set_cfg *cfg,
		     const char **bad_key, char *err, size_t err_size)
{
	struct rule_set *s;
	int rc;

	*bad_key = NULL;
	if (set_find(name))
		return -EEXIST;
	if (nsets == SETS_MAX || strlen(name) >= sizeof(s->name) || !name[0])
		return fail(err, err_size, "at most %d sets, names of at most "
			    "47 characters", SETS_MAX);
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->trusted = cfg->trusted;
	s->update = cfg->update;
	if (!cfg->rel100 || strcmp(cfg->rel100, "yes") == 0) {
		s->rel100 = REL_AS_CORE;
	} else if (strcmp(cfg->rel100, "no") == 0) {
		s->rel100 = REL_NEVER;
	} else if (strcmp(cfg->rel100, "always") == 0) {
		s->rel100 = REL_ALWAYS;
	} else {
		*bad_key = "100rel";
		set_free(s);
		return fail(err, err_size, "100rel = '%s': yes, no or always",
			    cfg->rel100);
	}
	if (cfg->asserted_identity && cfg->asserted_identity[0]) {
		struct uri_span sp;

		if (uri_split(cfg->asserted_identity, &sp) < 0 ||
		    strlen(cfg->asserted_identity) >= SBC_NORM_URI) {
			*bad_key = "asserted_identity";
			set_free(s);
			return fail(err, err_size, "asserted_identity '%s' is "
				    "not a URI (sip:+44...@host, tel:+44...)",
				    cfg->asserted_identity);
		}
		s->identity = strdup(cfg->asserted_identity);
	}
	rc = numbering_parse(cfg, &s->num, bad_key, err, err_size);
	if (!rc && cfg->allowed_numbers && cfg->allowed_numbers[0])
		rc = allowed_parse(cfg->allowed_numbers, s, bad_key, err,
				   err_size);
	if (!rc)
		rc = actions_parse(cfg->in, "in", s->in, &s->nin, bad_key, err,
				   err_size);
	if (!rc)
		rc = actions_parse(cfg->out, "out", s->out, &s->nout, bad_key,
				   err, err_size);
	if (rc) {
		set_free(s);
		return rc;
	}
	sets[nsets++] = s;
	return 0;
}

void sbc_norm_unload(void)
{
	while (nsets)
		set_free(sets[--nsets]);
}

/* ---- Configuration: [sbc-rules NAME] ------------------------------------- */

#define ACTION_PARAM(dir, i)                                                   \
	TND_PARAM(#dir #i, TND_STR, struct sbc_norm_set_cfg, dir[i - 1], "",  \
		  "action " #i " on messages " #dir " (see README)")

static const struct tnd_param set_params[] = {
	TND_PARAM("country_code", TND_STR, struct sbc_norm_set_cfg,
		  country_code, "",
		  "the peer's country code (44); empty: numbers untouched"),
	TND_PARAM("national_prefix", TND_STR, struct sbc_norm_set_cfg,
		  national_prefix, "0", "trunk prefix of national numbers"),
	TND_PARAM("international_prefix", TND_STR, struct sbc_norm_set_cfg,
		  international_prefix, "00",
		  "prefix of international numbers"),
	TND_PARAM("area_code", TND_STR, struct sbc_norm_set_cfg, area_code,
		  "", "area of local numbers (no prefix); empty: none"),
	TND_PARAM("local_length", TND_UINT, struct sbc_norm_set_cfg,
		  local_length, "0",
		  "digits of a local number (8 in London); others without a "
		  "prefix (extensions) are left alone; 0: any", .max = 15),
	TND_PARAM("number_format", TND_ENUM, struct sbc_norm_set_cfg,
		  number_format, "national",
		  "how numbers reach the peer: e164, international, national "
		  "or local", .choices = "e164|international|national|local"),
	TND_PARAM("trusted", TND_BOOL, struct sbc_norm_set_cfg, trusted, "no",
		  "the peer is inside the trust domain (RFC 3325)"),
	TND_PARAM("asserted_identity", TND_STR, struct sbc_norm_set_cfg,
		  asserted_identity, "",
		  "P-Asserted-Identity given to an untrusted peer's calls"),
	TND_PARAM("allowed_numbers", TND_STR, struct sbc_norm_set_cfg,
		  allowed_numbers, "",
		  "regex of the E.164 From numbers an untrusted peer may "
		  "present: such a From becomes its P-Asserted-Identity"),
	TND_PARAM("100rel", TND_ENUM, struct sbc_norm_set_cfg, rel100, "yes",
		  "provisional responses to the peer (RFC 3262): yes, "
		  "reliable as the core sent them; no, never; always, every "
		  "one reliable when the peer supports 100rel",
		  .choices = "yes|no|always"),
	TND_PARAM("update", TND_BOOL, struct sbc_norm_set_cfg, update, "yes",
		  "the peer takes UPDATE (RFC 3311); no: an offer in UPDATE "
		  "from the core reaches it as a re-INVITE"),
	ACTION_PARAM(in, 1), ACTION_PARAM(in, 2), ACTION_PARAM(in, 3),
	ACTION_PARAM(in, 4), ACTION_PARAM(in, 5), ACTION_PARAM(in, 6),
	ACTION_PARAM(in, 7), ACTION_PARAM(in, 8), ACTION_PARAM(in, 9),
	ACTION_PARAM(in, 10), ACTION_PARAM(in, 11), ACTION_PARAM(in, 12),
	ACTION_PARAM(in, 13), ACTION_PARAM(in, 14), ACTION_PARAM(in, 15),
	ACTION_PARAM(in, 16),
	ACTION_PARAM(out, 1), ACTION_PARAM(out, 2), ACTION_PARAM(out, 3),
	ACTION_PARAM(out, 4), ACTION_PARAM(out, 5), ACTION_PARAM(out, 6),
	ACTION_PARAM(out, 7), ACTION_PARAM(out, 8), ACTION_PARAM(out, 9),
	ACTION_PARAM(out, 10), ACTION_PARAM(out, 11), ACTION_PARAM(out, 12),
	ACTION_PARAM(out, 13), ACTION_PARAM(out, 14), ACTION_PARAM(out, 15),
	ACTION_PARAM(out, 16),
	TND_PARAM_END
};

static int parse_set(const char *section, void *arg)
{
	int *errors = arg;
	const char *name = section + strlen("sbc-rules"), *bad_key;
	struct sbc_norm_set_cfg cfg;
	char err[256];
	int rc;

	name += strspn(name, " ");
	if (!*name) {
		sbc_host->config_error(section, NULL, "[%s]: a rule set is "
				       "[sbc-rules NAME]", section);
		(*errors)++;
		return 0;
	}
	memset(&cfg, 0, sizeof(cfg));
	if (sbc_host->parse_section(section, set_params, &cfg) < 0) {
		(*errors)++;
		return 0;
	}
	rc = sbc_norm_set_add(name, &cfg, &bad_key, err, sizeof(err));
	if (rc == -EEXIST)
		snprintf(err, sizeof(err), "a set of that name exists");
	else if (rc == -ENOMEM)
		snprintf(err, sizeof(err), "out of memory");
	if (rc < 0) {
		sbc_host->config_error(section, bad_key, "[%s] %s", section,
				       err);
		(*errors)++;
	}
	return 0;
}

/* [sbc] access_rules / core_rules must name sets that exist. */
static int realm_set_check(const char *key, const char *name)
{
	if (!name || !name[0] || set_find(name))
		return 0;
	return sbc_host->config_error("sbc", key, "[sbc] %s = '%s': no "
				      "[sbc-rules %s]", key, name, name);
}

int sbc_norm_load(void)
{
	int errors = 0;

	sbc_norm_unload();
	sbc_host->for_each_section("sbc-rules", parse_set, &errors);
	if (realm_set_check("access_rules", sbc_cfg->access_rules) < 0 ||
	    realm_set_check("core_rules", sbc_cfg->core_rules) < 0)
		errors++;
	return errors ? -EINVAL : 0;
}

const char *sbc_norm_peer_rules(const struct sbc_peer *p)
{
	const char *r = p ? sbc_peer_rules(p) : "";

	if (r[0])
		return r;
	return sbc_cfg && sbc_cfg->access_rules ? sbc_cfg->access_rules : "";
}

int sbc_cmd_show_rules(struct tnd_reply *r, int argc, char **argv)
{
	static const char *const formats[] = { "e164", "international",
					       "national", "local" };
	static const char *const rel[] = { "yes", "no", "always" };

	(void)argv;
	if (argc)
		return sbc_host->reply_error(r, "sbc show rules takes no "
						"arguments");
	for (unsigned i = 0; i < nsets; i++) {
		const struct rule_set *set = sets[i];

		sbc_host->reply_record(r);
		sbc_host->reply_field(r, "name", "%s", set->name);
		sbc_host->reply_field(r, "trusted", "%s",
				      set->trusted ? "yes" : "no");
		sbc_host->reply_field(r, "country_code", "%s",
				      set->num.on ? set->num.cc : "-");
		sbc_host->reply_field(r, "area_code", "%s",
				      set->num.area[0] ? set->num.area : "-");
		sbc_host->reply_field(r, "number_format", "%s",
				      formats[set->num.format]);
		sbc_host->reply_field(r, "identity", "%s",
				      set->identity ? set->identity : "-");
		sbc_host->reply_field(r, "100rel", "%s", rel[set->rel100]);
		sbc_host->reply_field(r, "update", "%s",
				      set->update ? "yes" : "no");
		sbc_host->reply_field_num(r, "in_actions", set->nin);
		sbc_host->reply_field_num(r, "out_actions", set->nout);
	}
	return 0;
}

/* ---- Messages of the sip service ----------------------------------------- */

/* One header line's name: lines that continue a value or are no header
 * give "". */
static void line_name(const char *line, size_t len, char *name, size_t size)
{
	size_t n = 0;

	if (len && line[0] != ' ' && line[0] != '\t')
		while (n < len && n + 1 < size && line[n] != ':' &&
		       line[n] != ' ' && line[n] != '\t')
			n++;
	if (n >= len || (line[n] != ':' && line[n] != ' ' && line[n] != '\t'))
		n = 0;
	memcpy(name, line, n);
	name[n] = '\0';
}

/*
 * A kept request (the INVITE a dialog holds) has no libosip2 message, so
 * ims_msg_take() found only the names it knows of. The request line and
 * the header lines lie between the method and the body (text views of
 * one buffer, sip.h): their names are read there, each value through the
 * service as for any header.
 */
static int take_other_names(const struct sip_message *m, struct ims_msg *in)
{
	struct sip_text method = sbc_sip->method(m), body = sbc_sip->body(m);
	const char *p, *end = body.ptr;
	char name[64];

	if (!method.ptr || !end || end < method.ptr ||
	    end - method.ptr > 65536)
		return 0;
	p = memchr(method.ptr, '\n', (size_t)(end - method.ptr));
	while (p && ++p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		struct sip_text v;

		line_name(p, len, name, sizeof(name));
		/* compact forms (one letter) are names ims_msg knows */
		if (strlen(name) < 2 || ims_msg_count(in, name))
			name[0] = '\0';
		for (unsigned k = 0;
		     name[0] && sbc_sip->header(m, name, k, &v) == 0; k++) {
			char *value = strndup(v.ptr, v.len);
			int rc = value ? ims_msg_add(in, name, value, false) :
					 -ENOMEM;

			free(value);
			if (rc < 0)
				return rc;
		}
		p = nl;
	}
	return 0;
}

int sbc_norm_cross(const char *from_rules, enum sbc_norm_dir from,
		   const char *to_rules, enum sbc_norm_dir to,
		   const struct sip_message *m, struct sbc_norm_msg *msg)
{
	int rc = ims_msg_take(sbc_sip, m, &msg->in);

	if (rc == 0 && !sbc_sip->osip_message(m) && !sbc_sip->status(m))
		rc = take_other_names(m, &msg->in);
	if (rc < 0)
		return rc;
	rc = sbc_norm_apply(from_rules, from, msg);
	if (rc == 0)
		rc = sbc_norm_apply(to_rules, to, msg);
	if (msg->bad_numbers)
		tnd_info("%u number(s) not in a dialling format of rules "
			 "'%s' left as they were", msg->bad_numbers,
			 from_rules ? from_rules : "");
	return rc;
}

/* Without a set on either side only Privacy crosses (an access peer is
 * then untrusted: no P-Asserted-Identity either way). The common case
 * of a node without rules costs no copy of the message. */
static char *privacy_only(const struct sip_message *m)
{
	struct ims_buf b = { 0 };
	struct sip_text v;

	for (unsigned i = 0; sbc_sip->header(m, "Privacy", i, &v) == 0; i++)
		ims_buf_printf(&b, "Privacy: %.*s\r\n", (int)v.len, v.ptr);
	if (b.failed) {
		ims_buf_free(&b);
		return NULL;
	}
	return b.data;
}

char *sbc_norm_relay(const struct sbc_peer *peer, unsigned from_side,
		     const struct sip_message *m, unsigned *flags)
{
	const char *access = sbc_norm_peer_rules(peer);
	const char *core = sbc_cfg->core_rules ? sbc_cfg->core_rules : "";
	struct sbc_norm_msg msg;
	char *headers = NULL;
	int rc;

	if (!set_find(access) && !set_find(core))
		return privacy_only(m);
	memset(&msg, 0, sizeof(msg));
	if (from_side == SIDE_CORE) {
		if (flags)
			*flags = sbc_norm_reply_flags(
				access, sbc_sip->status(m), *flags);
		rc = sbc_norm_cross(core, SBC_NORM_FROM_CORE, access,
				    SBC_NORM_TO_PEER, m, &msg);
	} else {
		rc = sbc_norm_cross(access, SBC_NORM_FROM_PEER, core,
				    SBC_NORM_TO_CORE, m, &msg);
	}
	if (rc == 0)
		headers = sbc_norm_headers(&msg);
	else
		tnd_notice("rules '%s' / '%s' not applied: %d", access, core,
			   rc);
	sbc_norm_msg_free(&msg);
	return headers;
}

/*
 * RFC 4028 across a B2BUA: each leg's session timer is its own dialog's
 * (the sip service restarts it when the peer refreshes, and answers an
 * UPDATE without a body with 200 and Session-Expires when its user
 * declines it). Relaying such a refresh to the other side would make a
 * side that has no UPDATE (or no timer) answer 501 for the first one.
 * An UPDATE with an offer from the core towards a peer whose set says
 * `update = no` goes as a re-INVITE once the call is confirmed (RFC 3311
 * 5.1: both carry an offer; only UPDATE may come early).
 */
enum sbc_norm_adapt sbc_norm_adapt(const struct sbc_peer *peer,
				   unsigned from_side,
				   const struct sip_message *m, bool confirmed)
{
	struct sip_text method = sbc_sip->method(m);
	const struct rule_set *set;

	if (method.len != 6 || memcmp(method.ptr, "UPDATE", 6) != 0)
		return SBC_NORM_RELAY;
	if (sbc_sip->body(m).len == 0)
		return SBC_NORM_LOCAL;
	set = set_find(sbc_norm_peer_rules(peer));
	if (from_side == SIDE_CORE && confirmed && set && !set->update)
		return SBC_NORM_REINVITE;
	return SBC_NORM_RELAY;
}
