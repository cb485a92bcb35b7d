/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_sip_msg: libFuzzer target for what a received message meets: the
 * stream framer, the scan and its checks, Via parsing, then libosip2's
 * parser and serialiser on what the scan lets through, with the fixes the
 * plugin makes for libosip2 (sip_osip_fix). Seeds: the torture corpus.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "sip_scan.h"

static void quiet(const char *file, int line, osip_trace_level_t level,
		  const char *fmt, va_list ap)
{
	(void)file, (void)line, (void)level, (void)fmt, (void)ap;
}

static void vias(const struct sip_scan *s)
{
	for (unsigned k = 0; k < s->count[SIP_H_VIA]; k++) {
		const struct sip_hdr *h = sip_scan_hdr(s, SIP_H_VIA, k);
		uint32_t off = h->value.off, end = off + h->value.len;
		struct sip_via v;

		while (off < end && sip_via_parse(s, off, end, &v) == 0 &&
		       v.more)
			off = v.end + 1;
	}
}

static void osip(char *buf, const struct sip_scan *s)
{
	osip_message_t *msg;
	char *text;
	size_t len;

	sip_osip_fix(s, buf);
	if (osip_message_init(&msg) != 0)
		return;
	if (osip_message_parse(msg, buf, s->len) == 0 &&
	    osip_message_to_str(msg, &text, &len) == 0)
		osip_free(text);
	osip_message_free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sip_scan scan;
	static int ready;
	const char *why;
	unsigned flags;
	char *buf;

	if (!ready) {
		parser_init();
		osip_trace_initialize_func(OSIP_FATAL, quiet);
		ready = 1;
	}
	if (size > 65535)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	sip_frame(buf, size, 65535, &why, &flags);
	if (sip_scan(&scan, buf, size, true) == 0) {
		sip_scan_check(&scan, true);
		vias(&scan);
		if (!scan.why)
			osip(buf, &scan);
	}
	free(buf);
	return 0;
}
