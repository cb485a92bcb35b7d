/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_sip_sdp: the SDP helpers of the sip service. Streams of an offer
 * (addresses, ports, formats, directions) and RFC 3264 answers (common
 * codecs in the offer's payload numbers, mirrored direction, rejected
 * streams with port 0).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <osipparser2/osip_parser.h>

#include "sip_sdp.h"
#include "tap.h"

static const char offer[] =
	"v=0\r\n"
	"o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.10\r\n"
	"t=0 0\r\n"
	"a=sendonly\r\n"
	"m=audio 49170 RTP/AVP 8 0 101\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-15\r\n"
	"m=video 51372 RTP/AVP 96\r\n"
	"c=IN IP6 2001:db8::2\r\n"
	"a=rtpmap:96 H264/90000\r\n"
	"a=recvonly\r\n";

static void test_media(void)
{
	struct sip_sdp_media m[4];
	int n = sip_sdp_media(offer, sizeof(offer) - 1, m, 4);

	ok(n == 2, "two streams (%d)", n);
	ok(!strcmp(m[0].type, "audio") && m[0].port == 49170 &&
		   !strcmp(m[0].proto, "RTP/AVP"),
	   "audio 49170 RTP/AVP");
	ok(!strcmp(m[0].address, "192.0.2.10"),
	   "the session's c= for the audio stream");
	ok(m[0].nformats == 3 && m[0].formats[0].pt == 8 &&
		   !strcmp(m[0].formats[0].encoding, "PCMA") &&
		   m[0].formats[0].clock == 8000,
	   "static PT 8 is PCMA/8000");
	ok(m[0].formats[2].pt == 101 &&
		   !strcmp(m[0].formats[2].encoding, "telephone-event"),
	   "dynamic PT 101 from rtpmap");
	ok(m[0].dir == SIP_SDP_SENDONLY, "session-level sendonly");
	ok(!strcmp(m[1].address, "2001:db8::2") && m[1].dir == SIP_SDP_RECVONLY,
	   "video: its own IPv6 c= and recvonly");
	ok(sip_sdp_media("v=0\r\nnonsense", 14, m, 4) < 0 ||
		   sip_sdp_media("garbage", 7, m, 4) < 0,
	   "garbage is refused");
	ok(sip_sdp_media(offer, sizeof(offer) - 1, m, 1) == 2,
	   "more streams than room: counted");
}

static void test_answer(void)
{
	static const char *const codecs[] = { "PCMU/8000", "telephone-event/8000",
					      NULL };
	struct sip_sdp_local local = {
		.address = "127.0.0.1", .port = 40000, .codecs = codecs,
		.session_id = 1, .version = 1,
	};
	char out[1024];
	const char *ans = out;
	int n = sip_sdp_answer(offer, sizeof(offer) - 1, &local, out,
			       sizeof(out));

	ok(n > 0, "an answer is made (%d bytes)", n);
	ok_contains(ans, "c=IN IP4 127.0.0.1\r\n", "our address");
	ok_contains(ans, "m=audio 40000 RTP/AVP 0 101\r\n",
		    "audio accepted: our preference, the offer's numbers");
	ok_contains(ans, "a=fmtp:101 0-15\r\n", "the fmtp of an accepted PT");
	ok_contains(ans, "a=recvonly\r\n", "sendonly offered: recvonly answered");
	ok_contains(ans, "m=video 0 RTP/AVP 96\r\n",
		    "video without a common codec: rejected with port 0");
	ok(sip_sdp_answer(offer, sizeof(offer) - 1, &local, out, 64) ==
		   -ENOSPC,
	   "a buffer too small says so");
	ok(sip_sdp_answer("x", 1, &local, out, sizeof(out)) == -EINVAL,
	   "a bad offer says so");
}

static void quiet(const char *file, int line, osip_trace_level_t level,
		  const char *fmt, va_list ap)
{
	(void)file, (void)line, (void)level, (void)fmt, (void)ap;
}

int main(void)
{
	tap_plan(9 + 8);
	parser_init();
	osip_trace_initialize_func(OSIP_FATAL, quiet);
	test_media();
	test_answer();
	return tap_done();
}
