/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scscf_profile.c - the user profile the HSS downloads in SAA/PPR: the
 * IMSSubscription XML of TS 29.228 Annex E (schema in Annex D). What the
 * S-CSCF keeps of it: every public identity (the implicit registration
 * set, P-Associated-URI) and the initial filter criteria of the service
 * profile of the registered identity, sorted by Priority (Annex B.2.2).
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "scscf_int.h"

static bool named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(const xmlNode *parent, const char *name)
{
	for (xmlNode *n = parent->children; n; n = n->next)
		if (named(n, name))
			return n;
	return NULL;
}

/* The trimmed text of an element (malloc'd), or NULL. */
static char *text_of(const xmlNode *n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	char *s, *start, *end;

	if (!t)
		return NULL;
	start = (char *)t;
	while (*start == ' ' || *start == '\t' || *start == '\n' ||
	       *start == '\r')
		start++;
	end = start + strlen(start);
	while (end > start && strchr(" \t\r\n", end[-1]))
		end--;
	s = strndup(start, (size_t)(end - start));
	xmlFree(t);
	return s;
}

static int int_of(const xmlNode *n, int def)
{
	char *t = text_of(n);
	int v = t && *t ? atoi(t) : def;

	free(t);
	return v;
}

/* ---- Identities ---------------------------------------------------------- */

static int add_identity(struct scscf_profile *p, const xmlNode *pi)
{
	char *id = text_of(child(pi, "Identity"));
	char aor[IMS_URI_MAX];
	char **impus;
	bool *barred;

	if (!id)
		return 0;
	if (ims_aor(id, aor, sizeof(aor))) {
		free(id);
		return 0; /* a wildcarded PSI or another form: not indexed */
	}
	free(id);
	for (size_t i = 0; i < p->nimpus; i++)
		if (strcmp(p->impus[i], aor) == 0)
			return 0;
	impus = realloc(p->impus, (p->nimpus + 1) * sizeof(*impus));
	if (!impus)
		return -ENOMEM;
	p->impus = impus;
	barred = realloc(p->barred, (p->nimpus + 1) * sizeof(*barred));
	if (!barred)
		return -ENOMEM;
	p->barred = barred;
	p->impus[p->nimpus] = strdup(aor);
	if (!p->impus[p->nimpus])
		return -ENOMEM;
	p->barred[p->nimpus] = int_of(child(pi, "BarringIndication"), 0) == 1;
	p->nimpus++;
	return 0;
}

static bool profile_has(const xmlNode *sp, const char *impu)
{
	char aor[IMS_URI_MAX];

	for (xmlNode *pi = sp->children; pi; pi = pi->next) {
		char *id;
		bool same;

		if (!named(pi, "PublicIdentity"))
			continue;
		id = text_of(child(pi, "Identity"));
		same = id && ims_aor(id, aor, sizeof(aor)) == 0 &&
		       strcmp(aor, impu) == 0;
		free(id);
		if (same)
			return true;
	}
	return false;
}

/* ---- Initial filter criteria --------------------------------------------- */

static int add_group(struct scscf_spt *spt, int g)
{
	int *groups = realloc(spt->groups, (spt->ngroups + 1) * sizeof(int));

	if (!groups)
		return -ENOMEM;
	spt->groups = groups;
	spt->groups[spt->ngroups++] = g;
	return 0;
}

static int compile(struct scscf_spt *spt, char *why, size_t why_size)
{
	regex_t *re;

	if (!spt->content)
		return 0;
	re = calloc(1, sizeof(*re));
	if (!re)
		return -ENOMEM;
	if (regcomp(re, spt->content, REG_EXTENDED | REG_NOSUB)) {
		ims_fmt(why, why_size,
			"SPT content '%s' is not a regular "
			"expression",
			spt->content);
		free(re);
		return -EINVAL;
	}
	spt->regex = re;
	return 0;
}

static int reg_types_of(const xmlNode *spt)
{
	xmlNode *ext = child(spt, "Extension");
	int bits = 0;

	if (!ext)
		return 0;
	for (xmlNode *n = ext->children; n; n = n->next)
		if (named(n, "RegistrationType")) {
			int v = int_of(n, -1);

			if (v >= 0 && v <= 2)
				bits |= 1 << v;
		}
	return bits;
}

static int parse_spt(const xmlNode *n, struct scscf_spt *spt, char *why,
		     size_t why_size)
{
	xmlNode *x;

	spt->negated = int_of(child(n, "ConditionNegated"), 0) == 1;
	for (x = n->children; x; x = x->next)
		if (named(x, "Group") && add_group(spt, int_of(x, 0)))
			return -ENOMEM;
	if (!spt->ngroups && add_group(spt, 0))
		return -ENOMEM;
	spt->reg_types = reg_types_of(n);
	if ((x = child(n, "RequestURI"))) {
		spt->kind = SPT_REQUEST_URI;
		spt->content = text_of(x);
	} else if ((x = child(n, "Method"))) {
		spt->kind = SPT_METHOD;
		spt->name = text_of(x);
	} else if ((x = child(n, "SIPHeader"))) {
		spt->kind = SPT_HEADER;
		spt->name = text_of(child(x, "Header"));
		spt->content = text_of(child(x, "Content"));
	} else if ((x = child(n, "SessionCase"))) {
		spt->kind = SPT_SESSION_CASE;
		spt->session_case = int_of(x, -1);
	} else if ((x = child(n, "SessionDescription"))) {
		spt->kind = SPT_SDP_LINE;
		spt->name = text_of(child(x, "Line"));
		spt->content = text_of(child(x, "Content"));
	} else {
		ims_fmt(why, why_size, "an SPT without a condition");
		return -EINVAL;
	}
	if ((spt->kind == SPT_METHOD || spt->kind == SPT_HEADER ||
	     spt->kind == SPT_SDP_LINE) &&
	    !spt->name) {
		ims_fmt(why, why_size, "an SPT without its name");
		return -EINVAL;
	}
	return compile(spt, why, why_size);
}

static int parse_trigger(const xmlNode *tp, struct scscf_ifc *ifc, char *why,
			 size_t why_size)
{
	size_t n = 0;
	int rc;

	ifc->has_trigger = true;
	ifc->cnf = int_of(child(tp, "ConditionTypeCNF"), 0) == 1;
	for (xmlNode *x = tp->children; x; x = x->next)
		n += named(x, "SPT");
	ifc->spts = calloc(n ? n : 1, sizeof(*ifc->spts));
	if (!ifc->spts)
		return -ENOMEM;
	for (xmlNode *x = tp->children; x; x = x->next) {
		if (!named(x, "SPT"))
			continue;
		rc = parse_spt(x, &ifc->spts[ifc->nspts++], why, why_size);
		if (rc)
			return rc;
	}
	return 0;
}

static int parse_as(const xmlNode *as, struct scscf_ifc *ifc, char *why,
		    size_t why_size)
{
	xmlNode *ext = child(as, "Extension");

	ifc->as_uri = text_of(child(as, "ServerName"));
	if (!ifc->as_uri || strncasecmp(ifc->as_uri, "sip:", 4) != 0) {
		ims_fmt(why, why_size,
			"an ApplicationServer without a SIP "
			"ServerName");
		return -EINVAL;
	}
	ifc->default_handling = int_of(child(as, "DefaultHandling"), 0);
	ifc->service_info = text_of(child(as, "ServiceInfo"));
	if (ext) {
		ifc->include_register_request =
			child(ext, "IncludeRegisterRequest") != NULL;
		ifc->include_register_response =
			child(ext, "IncludeRegisterResponse") != NULL;
	}
	return 0;
}

static int parse_ifc(const xmlNode *n, struct scscf_ifc *ifc, char *why,
		     size_t why_size)
{
	xmlNode *tp = child(n, "TriggerPoint"),
		*as = child(n, "ApplicationServer");
	xmlNode *ppi = child(n, "ProfilePartIndicator");
	int rc;

	ifc->priority = int_of(child(n, "Priority"), 0);
	ifc->profile_part = ppi ? int_of(ppi, -1) : -1;
	if (!as) {
		ims_fmt(why, why_size, "an iFC without ApplicationServer");
		return -EINVAL;
	}
	if (tp && (rc = parse_trigger(tp, ifc, why, why_size)))
		return rc;
	return parse_as(as, ifc, why, why_size);
}

static int by_priority(const void *a, const void *b)
{
	const struct scscf_ifc *x = a, *y = b;

	return (x->priority > y->priority) - (x->priority < y->priority);
}

static int parse_ifcs(const xmlNode *sp, struct scscf_profile *p, char *why,
		      size_t why_size)
{
	size_t n = 0;
	int rc;

	for (xmlNode *x = sp->children; x; x = x->next)
		n += named(x, "InitialFilterCriteria");
	if (!n)
		return 0;
	p->ifcs = calloc(n, sizeof(*p->ifcs));
	if (!p->ifcs)
		return -ENOMEM;
	for (xmlNode *x = sp->children; x; x = x->next) {
		if (!named(x, "InitialFilterCriteria"))
			continue;
		rc = parse_ifc(x, &p->ifcs[p->nifcs++], why, why_size);
		if (rc)
			return rc;
	}
	/* Annex B.2.2: a lower Priority value is evaluated first */
	qsort(p->ifcs, p->nifcs, sizeof(*p->ifcs), by_priority);
	return 0;
}

/* ---- Whole document ------------------------------------------------------ */

static int parse_doc(xmlNode *root, const char *impu, struct scscf_profile *p,
		     char *why, size_t why_size)
{
	xmlNode *mine = NULL, *first = NULL;
	int rc;

	if (!named(root, "IMSSubscription")) {
		ims_fmt(why, why_size, "User-Data is not an IMSSubscription");
		return -EINVAL;
	}
	for (xmlNode *sp = root->children; sp; sp = sp->next) {
		if (!named(sp, "ServiceProfile"))
			continue;
		if (!first)
			first = sp;
		if (!mine && impu && profile_has(sp, impu))
			mine = sp;
		for (xmlNode *pi = sp->children; pi; pi = pi->next)
			if (named(pi, "PublicIdentity") &&
			    (rc = add_identity(p, pi)))
				return rc;
	}
	if (!mine)
		mine = first;
	if (!mine) {
		ims_fmt(why, why_size,
			"IMSSubscription without a "
			"ServiceProfile");
		return -EINVAL;
	}
	return parse_ifcs(mine, p, why, why_size);
}

int scscf_profile_parse(const char *xml, size_t len, const char *impu,
			struct scscf_profile **out, char *why, size_t why_size)
{
	struct scscf_profile *p = calloc(1, sizeof(*p));
	xmlDoc *doc;
	int rc;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	doc = xmlReadMemory(xml, (int)len, "user-data.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);
	if (!doc) {
		ims_fmt(why, why_size, "User-Data is not well-formed XML");
		free(p);
		return -EINVAL;
	}
	rc = parse_doc(xmlDocGetRootElement(doc), impu, p, why, why_size);
	xmlFreeDoc(doc);
	if (rc) {
		scscf_profile_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

static void spt_free(struct scscf_spt *spt)
{
	free(spt->groups);
	free(spt->name);
	free(spt->content);
	if (spt->regex) {
		regfree(spt->regex);
		free(spt->regex);
	}
}

void scscf_profile_free(struct scscf_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nimpus; i++)
		free(p->impus[i]);
	free(p->impus);
	free(p->barred);
	for (size_t i = 0; i < p->nifcs; i++) {
		struct scscf_ifc *ifc = &p->ifcs[i];

		for (size_t k = 0; k < ifc->nspts; k++)
			spt_free(&ifc->spts[k]);
		free(ifc->spts);
		free(ifc->as_uri);
		free(ifc->service_info);
	}
	free(p->ifcs);
	free(p);
}
