/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_sbc_sdp: the SDP rewrite that anchors a call's media on the SBC
 * (sbc_sdp_rewrite). Prints TAP.
 */
#include <stdio.h>
#include <string.h>

#include "sbc_int.h"

/* sbc_sdp.c reads these in sbc_sdp_read(), which is not tested here */
const struct sip_service *sbc_sip;
const struct media_service *sbc_media;

static int n, failed;

static void ok(int cond, const char *what)
{
	n++;
	if (!cond)
		failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, what);
}

static const char offer[] =
	"v=0\r\n"
	"o=alice 2890844526 2890844527 IN IP4 10.20.0.2\r\n"
	"s=call\r\n"
	"c=IN IP4 10.20.0.2\r\n"
	"t=0 0\r\n"
	"m=audio 40000 RTP/AVP 8 101\r\n"
	"a=rtpmap:8 PCMA/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=rtcp:40001 IN IP4 10.20.0.2\r\n"
	"a=rtcp-mux\r\n"
	"a=candidate:1 1 UDP 2130706431 10.20.0.2 40000 typ host\r\n"
	"a=ice-ufrag:abcd\r\n"
	"a=sendonly\r\n"
	"m=video 40010 RTP/AVP 96\r\n"
	"c=IN IP4 10.20.0.3\r\n"
	"a=rtpmap:96 H264/90000\r\n";

int main(void)
{
	char out[2048], small[64];
	int len;

	printf("1..12\n");
	len = sbc_sdp_rewrite(offer, strlen(offer), "203.0.113.1", 20000, out,
			      sizeof(out));
	ok(len > 0 && (size_t)len == strlen(out), "an offer is rewritten");
	ok(strstr(out, "10.20.0.") == NULL, "no address of the other side remains");
	ok(strstr(out, "o=sbc 2890844526 2890844527 IN IP4 203.0.113.1\r\n") != NULL,
	   "o= keeps session id and version, user and address are ours");
	ok(strstr(out, "alice") == NULL, "the o= user name is not passed");
	ok(strstr(out, "c=IN IP4 203.0.113.1\r\n") != NULL, "c= is ours");
	ok(strstr(out, "m=audio 20000 RTP/AVP 8 101\r\n") != NULL,
	   "the audio m= line carries our port and the formats");
	ok(strstr(out, "m=video 0 RTP/AVP 96\r\n") != NULL,
	   "a stream not anchored is refused with port 0");
	ok(!strstr(out, "a=rtcp") && !strstr(out, "candidate") &&
		   !strstr(out, "ice-"),
	   "a=rtcp, a=rtcp-mux and ICE lines are dropped");
	ok(strstr(out, "a=sendonly\r\n") && strstr(out, "a=rtpmap:8 PCMA/8000\r\n"),
	   "direction and codecs pass");

	len = sbc_sdp_rewrite("v=0\nm=audio 0 RTP/AVP 0\n", 23, "2001:db8::1",
			      20002, out, sizeof(out));
	ok(len > 0 && strstr(out, "m=audio 0 RTP/AVP 0\r\n"),
	   "a disabled stream stays disabled (LF lines read too)");
	len = sbc_sdp_rewrite("v=0\nc=IN IP4 1.2.3.4\n", 21, "2001:db8::1",
			      20002, out, sizeof(out));
	ok(len > 0 && strstr(out, "c=IN IP6 2001:db8::1\r\n"),
	   "an IPv6 address makes c=IN IP6");
	ok(sbc_sdp_rewrite(offer, strlen(offer), "203.0.113.1", 20000, small,
			   sizeof(small)) < 0,
	   "a description too long for the buffer is an error");
	return failed ? 1 : 0;
}
