/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_mgcf_unit: the MGCF's host independent parts. The Q.850 <-> SIP
 * table both ways (RFC 3398 7.2.4.1 / 8.2.6.1), Reason (RFC 3326), the
 * numbering rules of a trunk, and the header values a B2BUA keeps.
 */
#include <errno.h>
#include <string.h>

#include "mgcf_cause.h"
#include "mgcf_number.h"
#include "mgcf_sipmsg.h"
#include "tap.h"

static const char *str(const char *s)
{
	return s;
}

static void test_causes(void)
{
	static const struct {
		int cause, status;
	} to_sip[] = {
		{ 1, 404 },  { 3, 404 },   { 16, 480 }, { 17, 486 },
		{ 18, 408 }, { 19, 480 },  { 20, 480 }, { 21, 403 },
		{ 22, 410 }, { 27, 502 },  { 28, 484 }, { 31, 480 },
		{ 34, 503 }, { 38, 503 },  { 41, 503 }, { 42, 503 },
		{ 47, 503 }, { 55, 403 },  { 57, 403 }, { 58, 503 },
		{ 65, 488 }, { 79, 501 },  { 88, 503 }, { 102, 504 },
		{ 111, 500 }, { 127, 500 },
	};
	static const struct {
		int status, cause;
	} to_q850[] = {
		{ 400, 41 }, { 401, 21 },  { 403, 21 }, { 404, 1 },
		{ 405, 63 }, { 408, 102 }, { 410, 22 }, { 415, 79 },
		{ 480, 18 }, { 484, 28 },  { 485, 1 },	{ 486, 17 },
		{ 488, 65 }, { 500, 41 },  { 502, 38 }, { 503, 41 },
		{ 504, 102 }, { 600, 17 }, { 603, 21 }, { 604, 1 },
	};
	char buf[128];
	unsigned bad = 0;

	for (size_t i = 0; i < sizeof(to_sip) / sizeof(to_sip[0]); i++)
		if (mgcf_cause_to_status(to_sip[i].cause) != to_sip[i].status) {
			printf("# cause %d -> %d, want %d\n", to_sip[i].cause,
			       mgcf_cause_to_status(to_sip[i].cause),
			       to_sip[i].status);
			bad++;
		}
	ok(!bad, "Q.850 -> SIP: %zu causes as RFC 3398 7.2.4.1 says",
	   sizeof(to_sip) / sizeof(to_sip[0]));
	bad = 0;
	for (size_t i = 0; i < sizeof(to_q850) / sizeof(to_q850[0]); i++)
		if (mgcf_status_to_cause(to_q850[i].status) !=
		    to_q850[i].cause) {
			printf("# status %d -> %d, want %d\n",
			       to_q850[i].status,
			       mgcf_status_to_cause(to_q850[i].status),
			       to_q850[i].cause);
			bad++;
		}
	ok(!bad, "SIP -> Q.850: %zu statuses as RFC 3398 8.2.6.1 says",
	   sizeof(to_q850) / sizeof(to_q850[0]));
	ok(mgcf_cause_to_status(45) == 503 && mgcf_cause_to_status(85) == 500 &&
		   mgcf_cause_to_status(9) == 480,
	   "causes outside the table map by their class");
	ok(mgcf_status_to_cause(499) == 127 && mgcf_status_to_cause(599) == 41 &&
		   mgcf_status_to_cause(699) == 31,
	   "statuses outside the table map by their class");
	ok(mgcf_reason_cause("Q.850;cause=17;text=\"busy\"", 25) == 17,
	   "Reason: Q.850;cause=17");
	ok(mgcf_reason_cause("SIP;cause=200;text=\"x\", Q.850 ; cause = 34",
			     43) == 34,
	   "the Q.850 entry of a Reason list, spaces allowed");
	ok(mgcf_reason_cause("SIP;cause=487", 13) == -1,
	   "no Q.850 reason: -1");
	ok(mgcf_reason_header(buf, sizeof(buf), 34) > 0, "a Reason header");
	ok_contains(str(buf),
		    "Reason: Q.850;cause=34;text=\"no circuit/channel "
		    "available\"\r\n",
		    "with the cause's Q.850 name");
	ok(strcmp(mgcf_status_text(486), "Busy Here") == 0,
	   "reason phrases");
}

static const struct mgcf_numplan uk = {
	.country_code = "44",
	.national_prefix = "0",
	.international_prefix = "00",
	.area_code = "20",
	.ddi_prefix = "+44207946",
	.ddi_digits = 4,
	.called_format = NUMFMT_DDI,
	.calling_format = NUMFMT_NATIONAL,
};

static int to_e164(const char *digits, int ton, int npi, char *out)
{
	return mgcf_number_to_e164(&uk, digits, ton, npi, out, 40);
}

static void test_numbers_in(void)
{
	char out[40];

	ok(to_e164("33123456789", TON_INTERNATIONAL, NPI_E164, out) == 1 &&
		   strcmp(out, "+33123456789") == 0,
	   "international -> +33123456789");
	ok(to_e164("2079460000", TON_NATIONAL, NPI_E164, out) == 1 &&
		   strcmp(out, "+442079460000") == 0,
	   "national -> +44...");
	ok(to_e164("79460000", TON_SUBSCRIBER, NPI_E164, out) == 1 &&
		   strcmp(out, "+442079460000") == 0,
	   "subscriber -> +44 20 ...");
	ok(to_e164("0033123456789", TON_UNKNOWN, NPI_E164, out) == 1 &&
		   strcmp(out, "+33123456789") == 0,
	   "unknown with 00 -> international");
	ok(to_e164("02079460000", TON_UNKNOWN, NPI_E164, out) == 1 &&
		   strcmp(out, "+442079460000") == 0,
	   "unknown with 0 -> national");
	ok(to_e164("2001", TON_UNKNOWN, NPI_E164, out) == 1 &&
		   strcmp(out, "+442079462001") == 0,
	   "an extension of the DDI range -> +44207946 2001");
	ok(to_e164("2001", TON_UNKNOWN, NPI_PRIVATE, out) == 1 &&
		   strcmp(out, "+442079462001") == 0,
	   "a private number -> the DDI range");
	ok(to_e164("123", TON_UNKNOWN, NPI_E164, out) == 0 &&
		   strcmp(out, "123") == 0,
	   "a short code stays local");
	ok(to_e164("12a", TON_UNKNOWN, NPI_E164, out) == -EINVAL,
	   "letters are not a number");
}

static void test_numbers_out(void)
{
	char d[40];
	int ton, npi;

	ok(mgcf_number_to_circuit(&uk, "+442079462001", NUMFMT_DDI, d,
				  sizeof(d), &ton, &npi) == 0 &&
		   strcmp(d, "2001") == 0,
	   "DDI: the extension");
	ok(mgcf_number_to_circuit(&uk, "+442079460000", NUMFMT_NATIONAL, d,
				  sizeof(d), &ton, &npi) == 0 &&
		   strcmp(d, "2079460000") == 0 && ton == TON_NATIONAL &&
		   npi == NPI_E164,
	   "national: without the country code, TON national");
	ok(mgcf_number_to_circuit(&uk, "+33123456789", NUMFMT_NATIONAL, d,
				  sizeof(d), &ton, &npi) == 0 &&
		   strcmp(d, "33123456789") == 0 && ton == TON_INTERNATIONAL,
	   "a foreign number in national format goes international");
	ok(mgcf_number_to_circuit(&uk, "+442079460000", NUMFMT_SUBSCRIBER, d,
				  sizeof(d), &ton, &npi) == 0 &&
		   strcmp(d, "79460000") == 0 && ton == TON_SUBSCRIBER,
	   "subscriber: without the area code");
	ok(mgcf_number_to_circuit(&uk, "+442079460000", NUMFMT_UNKNOWN, d,
				  sizeof(d), &ton, &npi) == 0 &&
		   strcmp(d, "02079460000") == 0 && ton == TON_UNKNOWN,
	   "unknown: dialled form with the national prefix");
	ok(mgcf_number_to_circuit(&uk, "+33123456789", NUMFMT_UNKNOWN, d,
				  sizeof(d), &ton, &npi) == 0 &&
		   strcmp(d, "0033123456789") == 0,
	   "unknown: dialled form with the international prefix");
	ok(mgcf_number_to_circuit(&uk, "+442079460000",
				  NUMFMT_INTERNATIONAL, d, sizeof(d), &ton,
				  &npi) == 0 &&
		   strcmp(d, "442079460000") == 0 && ton == TON_INTERNATIONAL,
	   "international");
	ok(mgcf_number_to_circuit(&uk, "2001", NUMFMT_NATIONAL, d, sizeof(d),
				  &ton, &npi) == 0 &&
		   strcmp(d, "2001") == 0 && ton == TON_UNKNOWN &&
		   npi == NPI_UNKNOWN,
	   "a local number goes as it is");
}

static void test_uris(void)
{
	char n[40];

	ok(mgcf_number_from_uri("tel:+44-20-7946-0000", 20, n, sizeof(n)) ==
			   0 &&
		   strcmp(n, "+442079460000") == 0,
	   "tel: URI with visual separators");
	ok(mgcf_number_from_uri("\"Bob\" <sip:+442079460000@ims.lab;"
				"user=phone>;tag=1",
				52, n, sizeof(n)) == 0 &&
		   strcmp(n, "+442079460000") == 0,
	   "sip: URI with user=phone in a name-addr");
	ok(mgcf_number_from_uri("sip:2001@127.0.0.1:5060", 23, n,
				sizeof(n)) == 0 &&
		   strcmp(n, "2001") == 0,
	   "sip: URI with digits");
	ok(mgcf_number_from_uri("sip:alice@ims.lab", 17, n, sizeof(n)) ==
		   -EINVAL,
	   "a name is not a number");
	ok(mgcf_number_from_uri("sip:ims.lab", 11, n, sizeof(n)) == -EINVAL,
	   "no user part");
}

static void test_headers(void)
{
	static const char from[] = "\"A, B\" <sip:a@h;lr>;tag=abc12;x=1";
	static const char rr[] = "<sip:p1@h;lr>, \"x,y\" <sip:p2@h;lr> ,"
				 "<sip:p3@h>";
	char out[128];
	const char *e;
	size_t n;
	char digit;
	unsigned ms;

	ok(mgcf_hdr_tag(from, strlen(from), out, sizeof(out)) == 0 &&
		   strcmp(out, "abc12") == 0,
	   "the tag of a From");
	ok(mgcf_hdr_without_tag(from, strlen(from), out, sizeof(out)) == 0 &&
		   strcmp(out, "\"A, B\" <sip:a@h;lr>;x=1") == 0,
	   "the From without its tag (%s)", out);
	ok(mgcf_hdr_tag("<sip:a@h>", 9, out, sizeof(out)) == -ENOENT,
	   "no tag");
	ok(mgcf_hdr_uri(from, strlen(from), out, sizeof(out)) == 0 &&
		   strcmp(out, "sip:a@h;lr") == 0,
	   "the URI of a name-addr");
	ok(mgcf_hdr_element(rr, strlen(rr), 1, &e, &n) == 0 &&
		   n == strlen("\"x,y\" <sip:p2@h;lr>") &&
		   strncmp(e, "\"x,y\" <sip:p2@h;lr>", n) == 0,
	   "list elements: commas in quotes do not count");
	ok(mgcf_hdr_element(rr, strlen(rr), 2, &e, &n) == 0 &&
		   strncmp(e, "<sip:p3@h>", n) == 0 &&
		   mgcf_hdr_element(rr, strlen(rr), 3, &e, &n) == -ENOENT,
	   "the last element, then none");
	ok(mgcf_hdr_has_tag("timer, 100rel", 13, "100rel") &&
		   !mgcf_hdr_has_tag("100relx", 7, "100rel"),
	   "option tags");
	ok(mgcf_dtmf_relay("Signal=5\r\nDuration=250\r\n", 24, &digit, &ms) ==
			   0 &&
		   digit == '5' && ms == 250,
	   "dtmf-relay: digit and duration");
	ok(mgcf_dtmf_relay("Signal= #\r\n", 11, &digit, &ms) == 0 &&
		   digit == '#' && ms == 160,
	   "dtmf-relay: # with the default duration");
	ok(mgcf_dtmf_relay("Duration=100", 12, &digit, &ms) == -EINVAL,
	   "dtmf-relay without a signal");
}

static void test_session_expires(void)
{
	enum mgcf_refresher who;
	unsigned secs;

	ok(mgcf_session_expires("1800;refresher=uac", 18, &secs, &who) == 0 &&
		   secs == 1800 && who == MGCF_REFRESHER_UAC,
	   "Session-Expires: 1800;refresher=uac");
	ok(mgcf_session_expires(" 90 ; x=1;Refresher=UAS", 23, &secs, &who) ==
			   0 &&
		   secs == 90 && who == MGCF_REFRESHER_UAS,
	   "Session-Expires: 90, other parameters, refresher=UAS");
	ok(mgcf_session_expires("600", 3, &secs, &who) == 0 && secs == 600 &&
		   who == MGCF_REFRESHER_NONE,
	   "Session-Expires without a refresher");
	ok(mgcf_session_expires("0", 1, &secs, &who) == -EINVAL &&
		   mgcf_session_expires(";refresher=uac", 14, &secs, &who) ==
			   -EINVAL,
	   "Session-Expires of 0 or without delta-seconds is refused");
}

int main(void)
{
	tap_plan(46);
	test_causes();
	test_numbers_in();
	test_numbers_out();
	test_uris();
	test_headers();
	test_session_expires();
	return tap_done();
}
