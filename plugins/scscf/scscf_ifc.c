/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scscf_ifc.c - initial filter criteria evaluation, TS 29.228 Annex B:
 * the criteria in Priority order (scscf_profile.c sorted them), each
 * trigger point a Conjunctive (ConditionTypeCNF = 1: groups ANDed, the
 * SPTs of a group ORed) or Disjunctive (0: groups ORed, the SPTs of a
 * group ANDed) Normal Form over its service point triggers; an SPT may
 * belong to several groups and may be negated (ConditionNegated).
 *
 * SPTs: RequestURI, Method (with RegistrationType for REGISTER, Annex E
 * extension), SIPHeader (present, or a line matching Content),
 * SessionCase (0 originating, 1 terminating registered, 2 terminating
 * unregistered, 3 originating unregistered, 4 originating CDIV) and
 * SessionDescription (an SDP line of type Line matching Content).
 * Contents are POSIX extended regular expressions, searched in the value.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scscf_int.h"

static bool search(const struct scscf_spt *spt, const char *text)
{
	if (!spt->regex)
		return true;
	return regexec(spt->regex, text, 0, NULL, 0) == 0;
}

static bool header_matches(const struct scscf_spt *spt, const struct ims_msg *m)
{
	const char *v;

	for (unsigned i = 0; (v = ims_msg_get(m, spt->name, i)); i++)
		if (search(spt, v))
			return true;
	return false;
}

static bool sdp_matches(const struct scscf_spt *spt, const struct ims_msg *m)
{
	const char *ct = ims_msg_content_type(m), *p, *end;
	size_t nlen = strlen(spt->name);
	char line[1024];

	if (!m->body || !ct || !ims_prefix(ct, "application/sdp"))
		return false;
	for (p = m->body; p < m->body + m->body_len; p = end + 1) {
		size_t n;

		end = memchr(p, '\n', (size_t)(m->body + m->body_len - p));
		if (!end)
			end = m->body + m->body_len;
		n = (size_t)(end - p);
		if (n && p[n - 1] == '\r')
			n--;
		if (n <= nlen || strncasecmp(p, spt->name, nlen) != 0 ||
		    p[nlen] != '=')
			continue;
		n -= nlen + 1;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p + nlen + 1, n);
		line[n] = '\0';
		if (search(spt, line))
			return true;
	}
	return false;
}

static bool spt_matches(const struct scscf_spt *spt,
			const struct scscf_ifc_req *r)
{
	const struct ims_msg *m = r->msg;

	switch (spt->kind) {
	case SPT_METHOD:
		if (strcasecmp(m->method, spt->name) != 0)
			return false;
		/* RegistrationType narrows a REGISTER SPT (Annex E) */
		return strcasecmp(m->method, "REGISTER") != 0 ||
		       !spt->reg_types || (spt->reg_types & (1 << r->reg_type));
	case SPT_REQUEST_URI: return m->ruri && search(spt, m->ruri);
	case SPT_HEADER: return header_matches(spt, m);
	case SPT_SESSION_CASE: return spt->session_case == r->session_case;
	case SPT_SDP_LINE: return sdp_matches(spt, m);
	}
	return false;
}

static bool in_group(const struct scscf_spt *spt, int g)
{
	for (size_t i = 0; i < spt->ngroups; i++)
		if (spt->groups[i] == g)
			return true;
	return false;
}

/* One group's value: ORed SPTs for CNF, ANDed for DNF. */
static bool group_value(const struct scscf_ifc *ifc, int g, const bool *v)
{
	bool any = false, all = true;

	for (size_t i = 0; i < ifc->nspts; i++) {
		if (!in_group(&ifc->spts[i], g))
			continue;
		any |= v[i];
		all &= v[i];
	}
	return ifc->cnf ? any : all;
}

bool scscf_ifc_match(const struct scscf_ifc *ifc, const struct scscf_ifc_req *r)
{
	bool v[64], result;
	int seen[64];
	size_t nseen = 0, n = ifc->nspts;

	/* Annex B: an iFC without a trigger point always applies */
	if (!ifc->has_trigger || !n)
		return true;
	if (n > IMS_ARRAY_SIZE(v))
		n = IMS_ARRAY_SIZE(v);
	for (size_t i = 0; i < n; i++)
		v[i] = spt_matches(&ifc->spts[i], r) != ifc->spts[i].negated;
	result = ifc->cnf; /* CNF: AND starts true; DNF: OR starts false */
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < ifc->spts[i].ngroups; k++) {
			int g = ifc->spts[i].groups[k];
			bool dup = false, gv;

			for (size_t s = 0; s < nseen; s++)
				dup |= seen[s] == g;
			if (dup || nseen == IMS_ARRAY_SIZE(seen))
				continue;
			seen[nseen++] = g;
			gv = group_value(ifc, g, v);
			result = ifc->cnf ? result && gv : result || gv;
		}
	}
	return result;
}

int scscf_ifc_next(const struct scscf_profile *p, size_t from,
		   const struct scscf_ifc_req *r)
{
	bool unregistered = r->session_case == CASE_TERMINATING_UNREGISTERED ||
			    r->session_case == CASE_ORIGINATING_UNREGISTERED;

	if (!p)
		return -1;
	for (size_t i = from; i < p->nifcs; i++) {
		const struct scscf_ifc *ifc = &p->ifcs[i];

		/* ProfilePartIndicator: 0 registered, 1 unregistered */
		if ((ifc->profile_part == 0 && unregistered) ||
		    (ifc->profile_part == 1 && !unregistered))
			continue;
		if (scscf_ifc_match(ifc, r))
			return (int)i;
	}
	return -1;
}
