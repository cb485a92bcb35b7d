/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf_number: trunk number forms <-> +E.164. See mgcf_number.h and the
 * rules in docs/pstn.md.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mgcf_number.h"

static const char *const fmt_names[] = { "unknown", "international",
					 "national", "subscriber", "ddi" };

int mgcf_numfmt_parse(const char *name)
{
	for (int i = 0; i <= NUMFMT_DDI; i++)
		if (strcmp(fmt_names[i], name) == 0)
			return i;
	return -1;
}

const char *mgcf_numfmt_name(enum mgcf_numfmt fmt)
{
	return fmt <= NUMFMT_DDI ? fmt_names[fmt] : "?";
}

static bool starts(const char *s, const char *prefix)
{
	return *prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

static int join(char *out, size_t size, const char *a, const char *b,
		const char *c)
{
	int n = snprintf(out, size, "%s%s%s", a, b, c);

	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

/* The result of a join as 1 (E.164) or 0 (local), or its error. */
static int kind(int rc, int e164)
{
	return rc < 0 ? rc : e164;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && !strchr("*#", *s))
			return false;
	return true;
}

/* TON unknown: what the prefixes say (a dialled number). */
static int unknown_to_e164(const struct mgcf_numplan *p, const char *d,
			   char *out, size_t size)
{
	if (starts(d, p->international_prefix))
		return kind(join(out, size, "+", d + strlen(p->international_prefix),
			    ""), 1);
	if (starts(d, p->national_prefix) && p->country_code[0])
		return kind(join(out, size, "+", p->country_code,
			    d + strlen(p->national_prefix)), 1);
	if (p->ddi_prefix[0] && p->ddi_digits && strlen(d) == p->ddi_digits)
		return kind(join(out, size, p->ddi_prefix, d, ""), 1);
	return kind(join(out, size, d, "", ""), 0);
}

int mgcf_number_to_e164(const struct mgcf_numplan *p, const char *digits,
			int ton, int npi, char *out, size_t size)
{
	if (!all_digits(digits))
		return -EINVAL;
	if (npi == NPI_PRIVATE || ton == TON_ABBREVIATED) {
		if (p->ddi_prefix[0])
			return kind(join(out, size, p->ddi_prefix, digits, ""), 1);
		return kind(join(out, size, digits, "", ""), 0);
	}
	switch (ton) {
	case TON_INTERNATIONAL:
		return kind(join(out, size, "+", digits, ""), 1);
	case TON_NATIONAL:
		if (!p->country_code[0])
			break;
		return kind(join(out, size, "+", p->country_code, digits), 1);
	case TON_SUBSCRIBER:
		if (!p->country_code[0] || !p->area_code[0])
			break;
		if (join(out, size, "+", p->country_code, p->area_code))
			return -ENOSPC;
		return kind(join(out + strlen(out), size - strlen(out), digits, "",
			    ""), 1);
	case TON_UNKNOWN:
		return unknown_to_e164(p, digits, out, size);
	}
	return kind(join(out, size, digits, "", ""), 0);
}

/* The national significant number of an E.164 one of our country. */
static const char *national(const struct mgcf_numplan *p, const char *e164)
{
	if (p->country_code[0] && starts(e164 + 1, p->country_code))
		return e164 + 1 + strlen(p->country_code);
	return NULL;
}

int mgcf_number_to_circuit(const struct mgcf_numplan *p, const char *number,
			   enum mgcf_numfmt fmt, char *digits, size_t size,
			   int *ton, int *npi)
{
	const char *nsn;

	*ton = TON_UNKNOWN;
	*npi = NPI_E164;
	if (number[0] != '+') {
		/* a local number stays as it is */
		*npi = NPI_UNKNOWN;
		return join(digits, size, number, "", "");
	}
	nsn = national(p, number);
	if (fmt == NUMFMT_DDI && starts(number, p->ddi_prefix))
		return join(digits, size, number + strlen(p->ddi_prefix), "",
			    "");
	if (fmt == NUMFMT_SUBSCRIBER && nsn && starts(nsn, p->area_code)) {
		*ton = TON_SUBSCRIBER;
		return join(digits, size, nsn + strlen(p->area_code), "", "");
	}
	if (fmt == NUMFMT_UNKNOWN) {
		if (nsn)
			return join(digits, size, p->national_prefix, nsn, "");
		return join(digits, size, p->international_prefix, number + 1,
			    "");
	}
	if (fmt != NUMFMT_INTERNATIONAL && nsn) {
		*ton = TON_NATIONAL;
		return join(digits, size, nsn, "", "");
	}
	*ton = TON_INTERNATIONAL;
	return join(digits, size, number + 1, "", "");
}

/* ---- URIs ----------------------------------------------------------------------- */

/* The user part (or tel: number) of a URI, with its parameters cut. */
static int user_part(const char *uri, size_t len, const char **user,
		     size_t *ulen)
{
	const char *p = uri, *end = uri + len, *lt = memchr(uri, '<', len);

	if (lt) {
		const char *gt = memchr(lt, '>', (size_t)(end - lt));

		p = lt + 1;
		end = gt ? gt : end;
	}
	while (p < end && isspace((unsigned char)*p))
		p++;
	if ((size_t)(end - p) > 4 && strncasecmp(p, "tel:", 4) == 0) {
		p += 4;
		*user = p;
		*ulen = strcspn(p, ";>?") < (size_t)(end - p) ?
				strcspn(p, ";>?") :
				(size_t)(end - p);
		return 0;
	}
	if ((size_t)(end - p) > 4 && strncasecmp(p, "sip:", 4) == 0)
		p += 4;
	else if ((size_t)(end - p) > 5 && strncasecmp(p, "sips:", 5) == 0)
		p += 5;
	else
		return -EINVAL;
	if (!memchr(p, '@', (size_t)(end - p)))
		return -EINVAL; /* sip:host has no user */
	*user = p;
	*ulen = strcspn(p, "@;"); /* user parameters: sip:+44;isub=1@h */
	return 0;
}

int mgcf_number_from_uri(const char *uri, size_t len, char *out, size_t size)
{
	const char *user;
	size_t ulen, n = 0;

	if (user_part(uri, len, &user, &ulen) < 0 || !ulen)
		return -EINVAL;
	for (size_t i = 0; i < ulen; i++) {
		char c = user[i];

		if (strchr("-.() ", c))
			continue; /* RFC 3966 visual separators */
		if (!(isdigit((unsigned char)c) || (c == '+' && n == 0) ||
		      c == '*' || c == '#'))
			return -EINVAL;
		if (n + 1 >= size)
			return -ENOSPC;
		out[n++] = c;
	}
	out[n] = '\0';
	return n && strcmp(out, "+") ? 0 : -EINVAL;
}
