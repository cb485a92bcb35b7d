/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf_cause: the Q.850 <-> SIP tables. See mgcf_cause.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mgcf_cause.h"

struct cause_row {
	int cause;
	int status; /* toward SIP when the call fails before the answer */
	const char *text;
};

/*
 * Q.850 cause -> SIP status: RFC 3398 7.2.4.1 (ISUP to SIP), which TS
 * 29.163 table 7.2.3.1.x repeats. 16 "normal clearing" maps to BYE or
 * CANCEL; when a final response is still owed it gets 480, as 31 does.
 */
static const struct cause_row causes[] = {
	{ 1, 404, "unallocated number" },
	{ 2, 404, "no route to specified transit network" },
	{ 3, 404, "no route to destination" },
	{ 6, 503, "channel unacceptable" },
	{ 16, 480, "normal call clearing" },
	{ 17, 486, "user busy" },
	{ 18, 408, "no user responding" },
	{ 19, 480, "no answer from user" },
	{ 20, 480, "subscriber absent" },
	{ 21, 403, "call rejected" },
	{ 22, 410, "number changed" },
	{ 23, 410, "redirection to new destination" },
	{ 25, 483, "exchange routing error" },
	{ 26, 404, "non-selected user clearing" },
	{ 27, 502, "destination out of order" },
	{ 28, 484, "invalid number format" },
	{ 29, 501, "facility rejected" },
	{ 31, 480, "normal, unspecified" },
	{ 34, 503, "no circuit/channel available" },
	{ 38, 503, "network out of order" },
	{ 41, 503, "temporary failure" },
	{ 42, 503, "switching equipment congestion" },
	{ 44, 503, "requested circuit/channel not available" },
	{ 47, 503, "resource unavailable, unspecified" },
	{ 55, 403, "incoming calls barred within CUG" },
	{ 57, 403, "bearer capability not authorized" },
	{ 58, 503, "bearer capability not presently available" },
	{ 63, 503, "service or option not available" },
	{ 65, 488, "bearer capability not implemented" },
	{ 69, 501, "requested facility not implemented" },
	{ 70, 488, "only restricted digital information bearer capability "
		   "is available" },
	{ 79, 501, "service or option not implemented" },
	{ 87, 403, "user not member of CUG" },
	{ 88, 503, "incompatible destination" },
	{ 102, 504, "recovery on timer expiry" },
	{ 111, 500, "protocol error, unspecified" },
	{ 127, 500, "interworking, unspecified" },
};

struct status_row {
	int status;
	int cause;
	const char *text;
};

/*
 * SIP status -> Q.850 cause: RFC 3398 8.2.6.1 (SIP to ISUP), as TS 29.163
 * table 7.2.3.1.x. A Reason header with a Q.850 cause overrides it.
 */
static const struct status_row statuses[] = {
	{ 400, 41, "Bad Request" },
	{ 401, 21, "Unauthorized" },
	{ 402, 21, "Payment Required" },
	{ 403, 21, "Forbidden" },
	{ 404, 1, "Not Found" },
	{ 405, 63, "Method Not Allowed" },
	{ 406, 79, "Not Acceptable" },
	{ 407, 21, "Proxy Authentication Required" },
	{ 408, 102, "Request Timeout" },
	{ 410, 22, "Gone" },
	{ 413, 127, "Request Entity Too Large" },
	{ 414, 127, "Request-URI Too Long" },
	{ 415, 79, "Unsupported Media Type" },
	{ 416, 127, "Unsupported URI Scheme" },
	{ 420, 127, "Bad Extension" },
	{ 421, 127, "Extension Required" },
	{ 423, 127, "Interval Too Brief" },
	{ 480, 18, "Temporarily Unavailable" },
	{ 481, 41, "Call/Transaction Does Not Exist" },
	{ 482, 25, "Loop Detected" },
	{ 483, 25, "Too Many Hops" },
	{ 484, 28, "Address Incomplete" },
	{ 485, 1, "Ambiguous" },
	{ 486, 17, "Busy Here" },
	{ 487, 127, "Request Terminated" },
	{ 488, 65, "Not Acceptable Here" },
	{ 500, 41, "Server Internal Error" },
	{ 501, 79, "Not Implemented" },
	{ 502, 38, "Bad Gateway" },
	{ 503, 41, "Service Unavailable" },
	{ 504, 102, "Server Time-out" },
	{ 505, 127, "Version Not Supported" },
	{ 513, 127, "Message Too Large" },
	{ 600, 17, "Busy Everywhere" },
	{ 603, 21, "Decline" },
	{ 604, 1, "Does Not Exist Anywhere" },
	{ 606, 65, "Not Acceptable" },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct cause_row *cause_row(int cause)
{
	for (size_t i = 0; i < COUNT(causes); i++)
		if (causes[i].cause == cause)
			return &causes[i];
	return NULL;
}

static const struct status_row *status_row(int status)
{
	for (size_t i = 0; i < COUNT(statuses); i++)
		if (statuses[i].status == status)
			return &statuses[i];
	return NULL;
}

/* Q.850 2.2.7.1: the class (the three high bits of the value) of a cause
 * not in the table decides. */
int mgcf_cause_to_status(int cause)
{
	const struct cause_row *r = cause_row(cause);

	if (r)
		return r->status;
	if (cause < 32)
		return 480; /* normal event */
	if (cause < 48)
		return 503; /* resource unavailable */
	if (cause < 64)
		return 503; /* service or option not available */
	if (cause < 80)
		return 501; /* service or option not implemented */
	return 500;	    /* invalid message, protocol error, interworking */
}

/* RFC 3398 8.2.6.1: a status not in the table maps by its class. */
int mgcf_status_to_cause(int status)
{
	const struct status_row *r = status_row(status);

	if (r)
		return r->cause;
	if (status >= 600)
		return Q850_NORMAL_UNSPECIFIED;
	if (status >= 500)
		return Q850_TEMPORARY_FAILURE;
	return Q850_INTERWORKING;
}

const char *mgcf_cause_text(int cause)
{
	const struct cause_row *r = cause_row(cause);

	return r ? r->text : "unspecified";
}

const char *mgcf_status_text(int status)
{
	const struct status_row *r = status_row(status);

	if (r)
		return r->text;
	switch (status) {
	case 100: return "Trying";
	case 180: return "Ringing";
	case 181: return "Call Is Being Forwarded";
	case 182: return "Queued";
	case 183: return "Session Progress";
	case 200: return "OK";
	default: return status < 300 ? "OK" : "Failure";
	}
}

/* RFC 3326 2: reason-value = protocol *(SEMI reason-params); the list is
 * comma separated. */
int mgcf_reason_cause(const char *value, size_t len)
{
	char buf[512], *save = NULL, *item;

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, value, len);
	buf[len] = '\0';
	for (item = strtok_r(buf, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		char *p = item + strspn(item, " \t"), *c;

		if (strncasecmp(p, "Q.850", 5) != 0 ||
		    (p[5] != ';' && p[5] != ' ' && p[5] != '\t'))
			continue;
		for (c = p + 5; (c = strchr(c, ';'));) {
			c++;
			c += strspn(c, " \t");
			if (strncasecmp(c, "cause", 5) == 0) {
				c += 5 + strspn(c + 5, " \t");
				if (*c != '=')
					break;
				c++;
				int cause = atoi(c);

				return cause > 0 && cause < 128 ? cause : -1;
			}
		}
	}
	return -1;
}

int mgcf_reason_header(char *buf, size_t size, int cause)
{
	int n = snprintf(buf, size, "Reason: Q.850;cause=%d;text=\"%s\"\r\n",
			 cause, mgcf_cause_text(cause));

	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}
