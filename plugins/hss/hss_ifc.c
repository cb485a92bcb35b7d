/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hss_ifc.c - checks initial filter criteria before they are stored, so
 * that an S-CSCF never downloads a profile it cannot read. The text is a
 * list of InitialFilterCriteria elements as TS 29.228 Annex E lays them
 * out (Annex B explains them):
 *
 *   InitialFilterCriteria: Priority, [TriggerPoint], ApplicationServer,
 *                          [ProfilePartIndicator]
 *   TriggerPoint: ConditionTypeCNF (1 = CNF, 0 = DNF), SPT+
 *   SPT: [ConditionNegated], Group+, and one of RequestURI, Method,
 *        SIPHeader (Header, [Content]), SessionCase (0..4),
 *        SessionDescription (Line, [Content])
 *   ApplicationServer: ServerName (a SIP URI), [DefaultHandling] (0 =
 *        SESSION_CONTINUED, 1 = SESSION_TERMINATED), [ServiceInfo]
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "hss_int.h"

struct check {
	char *why;
	size_t size;
	int failed;
};

TND_PRINTF(2, 3)
static int bad(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->failed) {
		va_start(ap, fmt);
		vsnprintf(c->why, c->size, fmt, ap);
		va_end(ap);
	}
	c->failed = 1;
	return -EINVAL;
}

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

/* The element's text as a whole number within [min, max]. */
static int number_in(struct check *c, const xmlNode *n, long min, long max)
{
	xmlChar *text = xmlNodeGetContent(n);
	char *end = NULL;
	long v = text ? strtol((const char *)text, &end, 10) : 0;
	int ok = text && end != (char *)text && *end == '\0' && v >= min &&
		 v <= max;

	xmlFree(text);
	if (!ok)
		return bad(c, "%s must be a number from %ld to %ld",
			   (const char *)n->name, min, max);
	return 0;
}

static int non_empty(struct check *c, const xmlNode *n)
{
	xmlChar *text = xmlNodeGetContent(n);
	int ok = text && text[0];

	xmlFree(text);
	return ok ? 0 : bad(c, "%s is empty", (const char *)n->name);
}

static int check_spt(struct check *c, const xmlNode *spt)
{
	static const char *const kinds[] = { "RequestURI", "Method",
					     "SIPHeader", "SessionCase",
					     "SessionDescription" };
	const xmlNode *kind = NULL, *n;
	int found = 0;

	if (!child(spt, "Group"))
		return bad(c, "SPT without Group");
	for (n = spt->children; n; n = n->next) {
		if (named(n, "Group") && number_in(c, n, 0, 1000000))
			return -EINVAL;
		if (named(n, "ConditionNegated") && number_in(c, n, 0, 1))
			return -EINVAL;
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (named(n, kinds[i])) {
				kind = n;
				found++;
			}
	}
	if (found != 1)
		return bad(c, "SPT needs exactly one of RequestURI, Method, "
			      "SIPHeader, SessionCase, SessionDescription");
	if (named(kind, "SessionCase"))
		return number_in(c, kind, 0, 4);
	if (named(kind, "SIPHeader"))
		return (n = child(kind, "Header"))
			       ? non_empty(c, n)
			       : bad(c, "SIPHeader without Header");
	if (named(kind, "SessionDescription"))
		return (n = child(kind, "Line"))
			       ? non_empty(c, n)
			       : bad(c, "SessionDescription without Line");
	return non_empty(c, kind);
}

static int check_trigger(struct check *c, const xmlNode *tp)
{
	const xmlNode *cnf = child(tp, "ConditionTypeCNF");
	int spts = 0;

	if (!cnf)
		return bad(c, "TriggerPoint without ConditionTypeCNF");
	if (number_in(c, cnf, 0, 1))
		return -EINVAL;
	for (const xmlNode *n = tp->children; n; n = n->next) {
		if (!named(n, "SPT"))
			continue;
		spts++;
		if (check_spt(c, n))
			return -EINVAL;
	}
	return spts ? 0 : bad(c, "TriggerPoint without SPT");
}

static int check_as(struct check *c, const xmlNode *as)
{
	const xmlNode *name = child(as, "ServerName");
	const xmlNode *dh = child(as, "DefaultHandling");
	xmlChar *uri;
	int ok;

	if (!name)
		return bad(c, "ApplicationServer without ServerName");
	uri = xmlNodeGetContent(name);
	ok = uri && (strncmp((const char *)uri, "sip:", 4) == 0 ||
		     strncmp((const char *)uri, "sips:", 5) == 0);
	xmlFree(uri);
	if (!ok)
		return bad(c, "ServerName must be a SIP URI");
	return dh ? number_in(c, dh, 0, 1) : 0;
}

static int check_ifc(struct check *c, const xmlNode *ifc)
{
	const xmlNode *prio = child(ifc, "Priority");
	const xmlNode *tp = child(ifc, "TriggerPoint");
	const xmlNode *as = child(ifc, "ApplicationServer");
	const xmlNode *ppi = child(ifc, "ProfilePartIndicator");

	if (!prio)
		return bad(c, "InitialFilterCriteria without Priority");
	if (number_in(c, prio, 0, 2147483647))
		return -EINVAL;
	if (!as)
		return bad(c, "InitialFilterCriteria without "
			      "ApplicationServer");
	if (tp && check_trigger(c, tp))
		return -EINVAL;
	if (ppi && number_in(c, ppi, 0, 1))
		return -EINVAL;
	return check_as(c, as);
}

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx, (void)msg;
}

int hss_ifc_validate(const char *xml, char *why, size_t why_size)
{
	static const char open[] = "<ifcs>", close[] = "</ifcs>";
	struct check c = { why, why_size, 0 };
	size_t n = strlen(xml);
	char *text = malloc(n + sizeof(open) + sizeof(close));
	xmlDoc *doc;
	int count = 0;

	if (!text)
		return -ENOMEM;
	/* A profile holds several InitialFilterCriteria: give them a root. */
	sprintf(text, "%s%s%s", open, xml, close);
	xmlSetGenericErrorFunc(NULL, quiet);
	doc = xmlReadMemory(text, (int)strlen(text), "ifc.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);
	free(text);
	if (!doc)
		return bad(&c, "not well-formed XML");
	for (xmlNode *e = xmlDocGetRootElement(doc)->children; e && !c.failed;
	     e = e->next) {
		if (e->type != XML_ELEMENT_NODE)
			continue;
		if (!named(e, "InitialFilterCriteria"))
			bad(&c, "unexpected element <%s>",
			    (const char *)e->name);
		else if (check_ifc(&c, e) == 0)
			count++;
	}
	xmlFreeDoc(doc);
	if (!c.failed && count == 0 && xml[strspn(xml, " \t\r\n")])
		bad(&c, "no InitialFilterCriteria");
	return c.failed ? -EINVAL : 0;
}
