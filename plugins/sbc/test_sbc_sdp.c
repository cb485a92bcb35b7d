/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_sbc_sdp: the SDP rewrite that anchors a call's media on the SBC
 * (sbc_sdp_rewrite, sbc_sdp_build) and what it reads of a stream's media
 * security (sbc_sdp_read_security). Prints TAP.
 */
#include <errno.h>
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

static const char ip6_offer[] =
	"v=0\r\n"
	"o=bob 1 1 IN IP6 2001:db8::7\r\n"
	"s=-\r\n"
	"c=IN IP6 2001:db8::7\r\n"
	"t=0 0\r\n"
	"m=audio 5004 RTP/AVP 0\r\n";

static const char sdes_offer[] =
	"v=0\r\n"
	"o=pbx 7 7 IN IP4 192.0.2.5\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.5\r\n"
	"t=0 0\r\n"
	"m=audio 6000 RTP/SAVP 0 101\r\n"
	"a=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
	"inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\r\n"
	"a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
	"inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj\r\n";

static const char dtls_offer[] =
	"v=0\r\n"
	"o=pbx 7 7 IN IP4 192.0.2.5\r\n"
	"s=-\r\n"
	"a=fingerprint:sha-256 AB:CD:EF\r\n"
	"c=IN IP4 192.0.2.5\r\n"
	"t=0 0\r\n"
	"m=audio 6000 UDP/TLS/RTP/SAVPF 8\r\n"
	"a=setup:active\r\n"
	"a=tls-id:abc\r\n"
	"m=video 6002 UDP/TLS/RTP/SAVPF 96\r\n"
	"a=setup:passive\r\n";

static void security_checks(void)
{
	struct sbc_sdp s;

	ok(sbc_sdp_read_security(sdes_offer, strlen(sdes_offer), &s) == 0 &&
		   s.sec == SBC_SEC_SDES && !strcmp(s.proto, "RTP/SAVP") &&
		   s.ncrypto == 2 && s.crypto_pick == -1,
	   "RTP/SAVP with two a=crypto lines is SDES");
	ok(!strncmp(s.crypto[0], "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNf", 46) &&
		   strstr(s.crypto[0], "|2^20|1:4") && !strchr(s.crypto[1], '\r'),
	   "the crypto lines are kept whole (lifetime, MKI), without CR LF");
	ok(sbc_sdp_read_security(dtls_offer, strlen(dtls_offer), &s) == 0 &&
		   s.sec == SBC_SEC_DTLS && !strcmp(s.proto, "UDP/TLS/RTP/SAVPF") &&
		   !strcmp(s.fingerprint, "sha-256 AB:CD:EF") &&
		   s.setup == MEDIA_SETUP_ACTIVE,
	   "UDP/TLS/RTP/SAVPF: DTLS, session a=fingerprint, the stream's a=setup");
	ok(sbc_sdp_read_security("v=0\r\nm=audio 1 RTP/SAVP 0\r\n", 26, &s) ==
		   -EBADMSG,
	   "RTP/SAVP without a=crypto is refused");
	ok(sbc_sdp_read_security("v=0\r\nm=audio 1 UDP/TLS/RTP/SAVP 0\r\n", 34,
				 &s) == -EBADMSG,
	   "UDP/TLS/RTP/SAVP without a=fingerprint is refused");
	ok(sbc_sdp_read_security("v=0\r\nm=audio 1 RTP/AVP 0\r\n"
				 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n",
				 70, &s) == 0 && s.sec == SBC_SEC_PLAIN &&
		   s.ncrypto == 0,
	   "RTP/AVP with a=crypto (best effort SRTP) is plain RTP");
	ok(sbc_sdp_read_security("v=0\r\nm=audio 1 RTP/SAVP 0\r\n"
				 "a=fingerprint:sha-256 AB\r\n"
				 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n",
				 98, &s) == 0 && s.sec == SBC_SEC_SDES,
	   "both a=crypto and a=fingerprint on RTP/SAVP: the proto says SDES");
	ok(sbc_sdp_read_security("v=0\r\nm=audio 1 UDP/TLS/RTP/SAVP 0\r\n"
				 "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n"
				 "a=fingerprint:sha-256 AB\r\n",
				 106, &s) == 0 && s.sec == SBC_SEC_DTLS,
	   "both on UDP/TLS/RTP/SAVP: the proto says DTLS");
	ok(sbc_sdp_read_security("v=0\r\nm=video 1 RTP/AVP 96\r\n", 27, &s) ==
		   -ENOENT,
	   "no audio stream: -ENOENT");
	ok(sbc_sdp_read_security("v=0\r\nm=video 1 RTP/SAVP 96\r\n"
				 "a=crypto:1 X inline:y\r\n"
				 "m=audio 2 RTP/AVP 0\r\n", 71, &s) == 0 &&
		   s.sec == SBC_SEC_PLAIN && s.ncrypto == 0,
	   "the crypto of another stream is not the audio stream's");
}

static void build_checks(void)
{
	static const struct sbc_sdp_fmt extra[] = {
		{ .pt = 8, .pt_in = -1, .name = "PCMA", .clock = 8000 },
		{ .pt = 9, .pt_in = -1, .name = "G722", .clock = 8000 },
	};
	struct sbc_sdp_target t = { .addr = "10.20.0.1", .port = 30000,
				    .proto = "RTP/AVP", .nfmt = 2, .fmt = extra };
	char out[2048];
	int len;

	len = sbc_sdp_build(sdes_offer, strlen(sdes_offer), &t, out, sizeof(out));
	ok(len > 0 && strstr(out, "m=audio 30000 RTP/AVP 0 101 8 9\r\n"),
	   "towards the core: RTP/AVP, the offer's formats, then the added ones");
	ok(!strstr(out, "crypto") && !strstr(out, "SAVP"),
	   "no a=crypto and no SAVP reach the core side");
	ok(strstr(out, "a=rtpmap:8 PCMA/8000\r\na=rtpmap:9 G722/8000\r\n") &&
		   strstr(out, "a=rtpmap:0 PCMU/8000\r\n"),
	   "added formats get their a=rtpmap, the offer's stay");

	t = (struct sbc_sdp_target){ .addr = "203.0.113.1", .port = 20000,
				     .proto = "RTP/SAVP",
				     .attrs = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:OURS\r\n" };
	len = sbc_sdp_build(offer, strlen(offer), &t, out, sizeof(out));
	ok(len > 0 && strstr(out, "m=audio 20000 RTP/SAVP 8 101\r\n"),
	   "towards the access side: RTP/SAVP on the anchored stream");
	ok(strstr(out, "a=sendonly\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 "
		       "inline:OURS\r\nm=video 0 RTP/AVP 96\r\n") != NULL,
	   "our a=crypto ends the anchored stream, before the next m=");

	t = (struct sbc_sdp_target){ .addr = "203.0.113.1", .port = 20000 };
	len = sbc_sdp_build(dtls_offer, strlen(dtls_offer), &t, out, sizeof(out));
	ok(len > 0 && !strstr(out, "fingerprint") && !strstr(out, "setup") &&
		   !strstr(out, "tls-id"),
	   "a=fingerprint, a=setup, a=tls-id of the other side never cross");
	t.attrs = "a=fingerprint:sha-256 01:02\r\na=setup:passive\r\n";
	len = sbc_sdp_build(dtls_offer, strlen(dtls_offer), &t, out, sizeof(out));
	ok(len > 0 && strstr(out, "m=audio 20000 UDP/TLS/RTP/SAVPF 8\r\n"
				  "a=fingerprint:sha-256 01:02\r\na=setup:passive\r\n"
				  "m=video 0 ") != NULL,
	   "our a=fingerprint and a=setup go in the anchored stream");
	len = sbc_sdp_build("v=0\r\nm=audio 0 RTP/SAVP 0\r\n", 26, &t, out,
			    sizeof(out));
	ok(len > 0 && !strstr(out, "fingerprint") &&
		   strstr(out, "m=audio 0 RTP/SAVP 0\r\n"),
	   "a disabled stream gets no security lines and no new formats");
	t.proto = "UDP/TLS/RTP/SAVP";
	len = sbc_sdp_build("v=0\r\nm=audio 0 RTP/AVP 0\r\n", 25, &t, out,
			    sizeof(out));
	ok(len > 0 && strstr(out, "m=audio 0 UDP/TLS/RTP/SAVP 0\r\n"),
	   "a stream declined in the answer carries the offer's proto");
}

static void answer_checks(void)
{
	static const char answer[] =
		"v=0\r\n"
		"o=core 1 2 IN IP4 10.20.0.9\r\n"
		"s=-\r\n"
		"c=IN IP4 10.20.0.9\r\n"
		"t=0 0\r\n"
		"m=audio 7000 RTP/AVP 8 9 96\r\n"
		"a=rtpmap:8 PCMA/8000\r\n"
		"a=rtpmap:9 G722/8000\r\n"
		"a=rtpmap:96 telephone-event/8000\r\n"
		"a=fmtp:96 0-15\r\n"
		"a=ptime:20\r\n";
	/* the caller offered PCMA 8 and telephone-event 101 */
	static const struct sbc_sdp_fmt mapped[] = {
		{ .pt = 8, .pt_in = 8, .name = "PCMA", .clock = 8000 },
		{ .pt = 101, .pt_in = 96, .name = "telephone-event", .clock = 8000 },
	};
	/* the caller offered PCMU only: the core answered G722 */
	static const struct sbc_sdp_fmt transcoded[] = {
		{ .pt = 0, .pt_in = -1, .name = "PCMU", .clock = 8000 },
	};
	struct sbc_sdp_target t = { .addr = "203.0.113.1", .port = 20000,
				    .replace = true, .nfmt = 2, .fmt = mapped };
	char out[2048];
	int len;

	len = sbc_sdp_build(answer, strlen(answer), &t, out, sizeof(out));
	ok(len > 0 && strstr(out, "m=audio 20000 RTP/AVP 8 101\r\n"),
	   "an answer keeps only the offerer's formats, in its payload types");
	ok(!strstr(out, "G722") && !strstr(out, ":9 ") &&
		   strstr(out, "a=rtpmap:101 telephone-event/8000\r\n") &&
		   strstr(out, "a=fmtp:101 0-15\r\n") &&
		   !strstr(out, ":96"),
	   "a=rtpmap and a=fmtp follow the payload types; others are dropped");
	ok(strstr(out, "a=ptime:20\r\n") != NULL, "other attributes stay");
	t.fmt = transcoded;
	t.nfmt = 1;
	len = sbc_sdp_build(answer, strlen(answer), &t, out, sizeof(out));
	ok(len > 0 && strstr(out, "m=audio 20000 RTP/AVP 0\r\n") &&
		   strstr(out, "a=rtpmap:0 PCMU/8000\r\n") &&
		   !strstr(out, "PCMA") && !strstr(out, "telephone-event"),
	   "transcoding: the answer names the offerer's codec alone");
}

int main(void)
{
	char out[2048], small[64];
	int len;

	printf("1..37\n");
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
	len = sbc_sdp_rewrite(offer, strlen(offer), "2001:db8::1", 20000, out,
			      sizeof(out));
	ok(len > 0 && strstr(out, "c=IN IP6 2001:db8::1\r\n") &&
		   strstr(out, "o=sbc 2890844526 2890844527 IN IP6 2001:db8::1\r\n"),
	   "IPv4 in, IPv6 out: o= and c= say IN IP6");
	len = sbc_sdp_rewrite(ip6_offer, strlen(ip6_offer), "203.0.113.1",
			      20000, out, sizeof(out));
	ok(len > 0 && !strstr(out, "IP6") && !strstr(out, "2001:db8") &&
		   strstr(out, "c=IN IP4 203.0.113.1\r\n"),
	   "IPv6 in, IPv4 out: nothing of IP6 remains");
	security_checks();
	build_checks();
	answer_checks();
	return failed ? 1 : 0;
}
