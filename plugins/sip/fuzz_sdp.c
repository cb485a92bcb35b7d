/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_sdp: libFuzzer target for the SDP helpers of the sip service: the
 * streams of a body and the RFC 3264 answer to it, on libosip2's SDP
 * parser. Seeds: fuzz-sdp/.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include <osipparser2/osip_parser.h>

#include "sip_sdp.h"

static void quiet(const char *file, int line, osip_trace_level_t level,
		  const char *fmt, va_list ap)
{
	(void)file, (void)line, (void)level, (void)fmt, (void)ap;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const codecs[] = { "PCMU/8000", "PCMA/8000",
					      "telephone-event/8000", NULL };
	static const struct sip_sdp_local local = {
		.address = "2001:db8::1", .port = 30000, .codecs = codecs,
	};
	static struct sip_sdp_media media[8];
	static char answer[4096];
	static int ready;

	if (!ready) {
		parser_init();
		osip_trace_initialize_func(OSIP_FATAL, quiet);
		ready = 1;
	}
	if (size > 16384)
		return 0;
	sip_sdp_media((const char *)data, size, media, 8);
	sip_sdp_answer((const char *)data, size, &local, answer,
		       sizeof(answer));
	return 0;
}
