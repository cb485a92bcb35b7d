/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_sip_scan: the byte-level scanner of the sip plugin. Framing on
 * streams, the strict request-line and header rules, Via parsing, and the
 * whole torture corpus through the scanner and libosip2's parser (what
 * each file must get comes from torture-expect.tsv).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "sip_scan.h"
#include "tap.h"

static struct sip_scan scan;

static int scan_str(const char *text, bool datagram)
{
	return sip_scan(&scan, text, strlen(text), datagram);
}

#define OPTS_HEAD "OPTIONS sip:a@b.example SIP/2.0\r\n"
#define HDRS                                                                  \
	"Via: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKx1;rport\r\n"          \
	"From: <sip:c@d.example>;tag=1\r\nTo: <sip:a@b.example>\r\n"          \
	"Call-ID: t1@x\r\nCSeq: 7 OPTIONS\r\nMax-Forwards: 70\r\n"

static void test_frame(void)
{
	const char *msg = OPTS_HEAD HDRS "Content-Length: 4\r\n\r\nbodyNEXT";
	const char *why = NULL;
	unsigned flags;
	size_t full = strlen(msg) - 4;

	ok(sip_frame(msg, full, 65535, &why, &flags) == (long)full && !flags,
	   "a stream message is framed by its Content-Length");
	ok(sip_frame(msg, full - 1, 65535, &why, &flags) == 0,
	   "a body cut short waits for more bytes");
	ok(sip_frame(msg, 40, 65535, &why, &flags) == 0,
	   "headers cut short wait for more bytes");
	long n = sip_frame(msg, strlen(msg), 64, &why, &flags);

	ok(n == -1 && why, "headers beyond the size limit are refused (%s)",
	   why ? why : "-");
	msg = OPTS_HEAD HDRS "\r\n";
	ok(sip_frame(msg, strlen(msg), 65535, &why, &flags) ==
		   (long)strlen(msg) && flags == SIP_FRAME_NO_LENGTH,
	   "no Content-Length on a stream is flagged");
	msg = OPTS_HEAD HDRS "l: 1\r\nContent-Length: 2\r\n\r\nab";
	ok(sip_frame(msg, strlen(msg), 65535, &why, &flags) ==
		   (long)strlen(msg) - 2 && flags == SIP_FRAME_BAD_LENGTH,
	   "two Content-Length headers: framed to the headers, flagged");
}

static void test_start_line(void)
{
	ok(scan_str(OPTS_HEAD HDRS "\r\n", true) == 0 && scan.request &&
		   scan.nhdrs == 6,
	   "a plain request scans, 6 headers");
	ok(scan_str("OPTIONS  sip:a@b SIP/2.0\r\n" HDRS "\r\n", true) < 0 &&
		   scan.reject == 400,
	   "two SP in the request line: 400");
	ok(scan_str("OPTIONS sip:a@b SIP/2.0 \r\n" HDRS "\r\n", true) < 0 &&
		   scan.reject == 400,
	   "trailing SP: 400");
	ok(scan_str("OPTIONS sip:a@b SIP/3.0\r\n" HDRS "\r\n", true) < 0 &&
		   scan.reject == 505,
	   "SIP/3.0: 505");
	ok(scan_str("SIP/2.0 1000 No\r\n" HDRS "\r\n", true) < 0,
	   "a 4-digit status code is refused");
	ok(scan_str("SIP/2.0 180 \r\n" HDRS "\r\n", true) == 0 &&
		   scan.status == 180 && scan.reason.len == 0,
	   "an empty reason phrase is fine");
	ok(scan_str("SIP/2.0 099 Low\r\n" HDRS "\r\n", true) < 0,
	   "status below 100 is refused");
}

static void test_checks(void)
{
	ok(scan_str(OPTS_HEAD HDRS "Content-Length: 9\r\n\r\nab", true) < 0 &&
		   scan.reject == 400,
	   "Content-Length beyond a datagram: 400");
	ok(scan_str(OPTS_HEAD HDRS "Content-Length: 2\r\n\r\nabcd", true) ==
			   0 && scan.body_len == 2,
	   "bytes after Content-Length in a datagram are ignored");
	ok(scan_str(OPTS_HEAD HDRS "\r\n", true) == 0 &&
		   sip_scan_check(&scan, true) == 0,
	   "the checks pass a good request");
	int rc = scan_str("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;"
			  "branch=z9hG4bKa\r\nCSeq: 1 OPTIONS\r\n\r\n", true);

	rc = rc == 0 ? sip_scan_check(&scan, true) : 0;
	ok(rc < 0 && scan.reject == 400, "missing From: 400 (%s)",
	   scan.why ? scan.why : "-");
	ok(scan_str("INVITE sip:a@b SIP/2.0\r\n" HDRS "\r\n", true) == 0 &&
		   sip_scan_check(&scan, true) < 0 && scan.reject == 400,
	   "CSeq method differs from a known method: 400");
	ok(scan_str("FOO sip:a@b SIP/2.0\r\n" HDRS "\r\n", true) == 0 &&
		   sip_scan_check(&scan, false) < 0 && scan.reject == 501,
	   "CSeq method differs from an unknown method: 501");
	ok(scan_str("OPTIONS foo:bar SIP/2.0\r\n" HDRS "\r\n", true) == 0 &&
		   sip_scan_check(&scan, true) < 0 && scan.reject == 416,
	   "unknown Request-URI scheme: 416");
	ok(scan_str("OPTIONS sip:2001:db8::1 SIP/2.0\r\n" HDRS "\r\n", true) ==
			   0 && sip_scan_check(&scan, true) < 0 &&
		   scan.reject == 400,
	   "IPv6 without brackets: 400");
	ok(scan_str("OPTIONS sip:[2001:db8::1]:5070;lr SIP/2.0\r\n" HDRS
		    "\r\n", true) == 0 && sip_scan_check(&scan, true) == 0,
	   "bracketed IPv6 with a port passes");
	ok(scan_str(OPTS_HEAD HDRS "Max-Forwards: 70\r\n\r\n", true) == 0 &&
		   sip_scan_check(&scan, true) < 0,
	   "two Max-Forwards: 400");
}

static void test_via(void)
{
	const char *msg = OPTS_HEAD
		"Via: SIP / 2.0 / TCP [2001:db8::1] : 5070 ; branch = z9hG4bKq"
		" ;received=192.0.2.9;rport=1234 , SIP/2.0/UDP h2\r\n"
		"From: <sip:c@d>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: v\r\n"
		"CSeq: 1 OPTIONS\r\n\r\n";
	const struct sip_hdr *h;
	struct sip_via v;

	ok(scan_str(msg, true) == 0, "a request with a spaced Via scans");
	h = sip_scan_hdr(&scan, SIP_H_VIA, 0);
	ok(h && sip_via_parse(&scan, h->value.off, h->value.off + h->value.len,
			      &v) == 0,
	   "the first via-parm parses");
	ok(sip_span_eq(&scan, v.transport, "TCP") && v.port == 5070 &&
		   sip_span_eq(&scan, v.host, "2001:db8::1"),
	   "transport TCP, host 2001:db8::1, port 5070");
	ok(sip_span_eq(&scan, v.branch, "z9hG4bKq") && v.rport &&
		   v.rport_port == 1234 &&
		   sip_span_eq(&scan, v.received, "192.0.2.9"),
	   "branch, received and rport=1234");
	ok(v.more && sip_via_parse(&scan, v.end + 1,
				   h->value.off + h->value.len, &v) == 0 &&
		   sip_span_eq(&scan, v.host, "h2") && v.port == 0 && !v.more,
	   "the second via-parm of the line parses");
}

/* ---- The corpus ------------------------------------------------------------ */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(70000);
	*len = buf ? fread(buf, 1, 70000, f) : 0;
	fclose(f);
	return buf;
}

/* The status our scan + libosip2 gives: 0 accepted, or the reject. */
static int corpus_verdict(char *buf, size_t len)
{
	static const char *const known[] = { "INVITE", "ACK", "BYE", "CANCEL",
					     "OPTIONS", "REGISTER", "MESSAGE",
					     NULL };
	osip_message_t *msg;
	bool kn = false;
	int rc;

	if (sip_scan(&scan, buf, len, true) < 0)
		return scan.reject ? scan.reject : 400;
	for (int i = 0; scan.request && known[i]; i++)
		kn |= scan.method.len == strlen(known[i]) &&
		      !memcmp(buf, known[i], scan.method.len);
	if (sip_scan_check(&scan, kn) < 0)
		return scan.reject;
	sip_osip_fix(&scan, buf); /* as the plugin does */
	osip_message_init(&msg);
	rc = osip_message_parse(msg, buf, scan.len);
	osip_message_free(msg);
	return rc ? 400 : 0;
}

static void test_corpus(void)
{
	const char *dir = getenv("SIP_CORPUS"), *src = getenv("SIP_SRCDIR");
	char path[1024], line[1024];
	FILE *tsv;
	int n = 0, good = 0;

	if (!dir || !src) {
		ok(1, "# SKIP no SIP_CORPUS / SIP_SRCDIR");
		return;
	}
	snprintf(path, sizeof(path), "%s/torture-expect.tsv", src);
	tsv = fopen(path, "r");
	if (!tsv) {
		ok(0, "cannot read %s", path);
		return;
	}
	while (fgets(line, sizeof(line), tsv)) {
		char *file = strtok(line, "\t"), *want = strtok(NULL, "\t");
		size_t len;
		char *buf;
		int got;

		if (!file || file[0] == '#' || !want)
			continue;
		snprintf(path, sizeof(path), "%s/rfc4475/%s", dir, file);
		buf = read_file(path, &len);
		if (!buf) {
			snprintf(path, sizeof(path), "%s/rfc5118/%s", dir, file);
			buf = read_file(path, &len);
		}
		n++;
		if (!buf) {
			printf("# cannot read %s\n", file);
			continue;
		}
		got = corpus_verdict(buf, len);
		/* A refused request must be refused with its code; what the
		 * scan lets through gets its answer later (UAS, handler). */
		if ((!strcmp(want, "400") || !strcmp(want, "505") ||
		     !strcmp(want, "416")) && got != atoi(want))
			printf("# %s: want %s from the scan, got %d\n", file,
			       want, got);
		else if (strncmp(want, "40", 2) && strcmp(want, "505") &&
			 strcmp(want, "416") && strcmp(want, "501") &&
			 strcmp(want, "none") && got)
			printf("# %s: want it accepted (%s), got %d\n", file,
			       want, got);
		else
			good++;
		free(buf);
	}
	fclose(tsv);
	ok(n > 60 && good == n, "corpus: %d of %d files get the scan's verdict",
	   good, n);
}

static void quiet(const char *file, int line, osip_trace_level_t level,
		  const char *fmt, va_list ap)
{
	(void)file, (void)line, (void)level, (void)fmt, (void)ap;
}

int main(void)
{
	tap_plan(6 + 7 + 10 + 5 + 1);
	parser_init();
	osip_trace_initialize_func(OSIP_FATAL, quiet);
	test_frame();
	test_start_line();
	test_checks();
	test_via();
	test_corpus();
	return tap_done();
}
