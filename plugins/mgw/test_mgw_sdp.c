/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_mgw_sdp: SDP parsing, offer/answer choices (RFC 3264) and the tone
 * generator, without a host.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mgw_sdp.h"
#include "mgw_tone.h"
#include "tap.h"

/* An array as a pointer, for ok_contains(). */
static const char *str(const char *s)
{
	return s;
}

static const struct mgw_codec_pref prefs[] = {
	{ "PCMA", 8000, 8 }, { "PCMU", 8000, 0 }, { "G722", 8000, 9 },
};

static const char offer_text[] =
	"v=0\r\n"
	"o=alice 2890844526 2890844527 IN IP4 192.0.2.10\r\n"
	"s=-\r\n"
	"c=IN IP4 192.0.2.10\r\n"
	"t=0 0\r\n"
	"m=audio 49170 RTP/AVP 18 9 0 101\r\n"
	"a=rtpmap:18 G729/8000\r\n"
	"a=fmtp:18 annexb=no\r\n"
	"a=rtpmap:9 G722/8000\r\n"
	"a=rtpmap:101 telephone-event/8000\r\n"
	"a=fmtp:101 0-16\r\n"
	"a=ptime:30\r\n"
	"a=rtcp:49200\r\n"
	"m=video 51372 RTP/AVP 99\r\n"
	"a=rtpmap:99 H264/90000\r\n";

static void test_parse(void)
{
	struct mgw_sdp s;

	ok(mgw_sdp_parse(offer_text, strlen(offer_text), &s) == 0,
	   "an offer with audio and video parses");
	ok(s.nm == 2 && strcmp(s.m[0].type, "audio") == 0 &&
		   s.m[0].port == 49170 && s.m[0].nfmts == 4,
	   "two m-lines, audio on 49170 with four formats");
	ok(s.m[0].fmts[2].pt == 0 && strcmp(s.m[0].fmts[2].name, "PCMU") == 0,
	   "a static payload type without rtpmap is named (PCMU)");
	ok(strcmp(s.m[0].fmts[0].fmtp, "annexb=no") == 0 &&
		   s.m[0].ptime == 30 && s.m[0].rtcp_port == 49200,
	   "fmtp, ptime and rtcp attributes");
	ok(strcmp(s.addr, "192.0.2.10") == 0 && s.sess_version == 2890844527ULL,
	   "session c= and o= version");
	ok(mgw_sdp_parse("hello", 5, &s) == -EINVAL,
	   "text that is not SDP is refused");
	ok(mgw_sdp_parse("v=0\r\nm=audio x RTP/AVP 0\r\n", 26, &s) == -EINVAL,
	   "a broken m= line is refused");
}

static void test_choose(void)
{
	struct mgw_sdp s;
	struct mgw_sdp_agreed a;
	char buf[1024];
	struct mgw_sdp_local l = { .addr = "127.0.0.1", .port = 20000,
				   .sess_id = 1, .sess_version = 1,
				   .ptime = 20, .dtmf_pt = 101 };
	int n;

	mgw_sdp_parse(offer_text, strlen(offer_text), &s);
	ok(mgw_sdp_choose(&s, prefs, 3, &a) == 0 &&
		   strcmp(a.codec, "G722") == 0 && a.pt == 9,
	   "the offerer's order wins: G722 before PCMU (RFC 3264 6.1)");
	ok(a.dtmf_pt == 101 && a.port == 49170 &&
		   strcmp(a.addr, "192.0.2.10") == 0 && a.ptime == 30,
	   "telephone-event, address, port and ptime are taken");
	ok(a.dir == MGW_SDP_SENDRECV && !a.hold, "sendrecv, not held");
	l.dir = a.dir;
	n = mgw_sdp_write_answer(buf, sizeof(buf), &l, &s, &a);
	ok(n > 0, "an answer is written");
	ok_contains(str(buf), "m=audio 20000 RTP/AVP 9 101\r\n",
		    "the answer has the chosen codec and telephone-event");
	ok_contains(str(buf), "m=video 0 RTP/AVP 99\r\n",
		    "video is refused with port 0 (RFC 3264 6)");
	ok_contains(str(buf), "a=rtpmap:9 G722/8000\r\n", "its rtpmap");
	ok(mgw_sdp_write_answer(buf, 40, &l, &s, &a) == -ENOSPC,
	   "a buffer too small is -ENOSPC");
}

static void test_refusals(void)
{
	static const char only_g729[] = "v=0\r\nc=IN IP4 10.0.0.1\r\n"
					 "m=audio 4000 RTP/AVP 18\r\n";
	static const char savp[] = "v=0\r\nc=IN IP4 10.0.0.1\r\n"
				   "m=audio 4000 RTP/SAVP 0\r\n";
	static const char hold[] = "v=0\r\nc=IN IP4 10.0.0.1\r\n"
				   "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
	static const char old_hold[] = "v=0\r\nc=IN IP4 0.0.0.0\r\n"
				       "m=audio 4000 RTP/AVP 8\r\n";
	static const char fax[] = "v=0\r\nc=IN IP4 10.0.0.1\r\n"
				  "m=audio 4000 RTP/AVP 8\r\n"
				  "m=image 4002 udptl t38\r\n";
	struct mgw_sdp s;
	struct mgw_sdp_agreed a;

	mgw_sdp_parse(only_g729, strlen(only_g729), &s);
	ok(mgw_sdp_choose(&s, prefs, 3, &a) == -ENOTSUP,
	   "no codec in common: -ENOTSUP (488)");
	mgw_sdp_parse(savp, strlen(savp), &s);
	ok(mgw_sdp_choose(&s, prefs, 3, &a) == -EPROTONOSUPPORT,
	   "RTP/SAVP: -EPROTONOSUPPORT");
	mgw_sdp_parse(hold, strlen(hold), &s);
	ok(mgw_sdp_choose(&s, prefs, 3, &a) == 0 && a.hold &&
		   a.dir == MGW_SDP_RECVONLY,
	   "a=sendonly is a hold: we answer recvonly");
	mgw_sdp_parse(old_hold, strlen(old_hold), &s);
	ok(mgw_sdp_choose(&s, prefs, 3, &a) == 0 && a.hold,
	   "c=0.0.0.0 is a hold (RFC 2543)");
	mgw_sdp_parse(fax, strlen(fax), &s);
	ok(mgw_sdp_choose(&s, prefs, 3, &a) == 0 && a.t38,
	   "an image/udptl stream is seen as T.38");
}

static void test_offer_answer(void)
{
	static const char answer[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"
				     "c=IN IP4 127.0.0.1\r\n"
				     "m=audio 30000 RTP/AVP 0 101\r\n"
				     "a=rtpmap:101 telephone-event/8000\r\n";
	struct mgw_sdp_local l = { .addr = "127.0.0.1", .port = 20002,
				   .sess_id = 7, .sess_version = 3,
				   .ptime = 20, .dtmf_pt = 101,
				   .dir = MGW_SDP_SENDRECV };
	struct mgw_sdp s;
	struct mgw_sdp_agreed a;
	char buf[1024];

	ok(mgw_sdp_write_offer(buf, sizeof(buf), &l, prefs, 3) > 0,
	   "an offer is written");
	ok_contains(str(buf), "m=audio 20002 RTP/AVP 8 0 9 101\r\n",
		    "it offers our codecs in order and telephone-event");
	ok_contains(str(buf), "a=sendrecv\r\n", "sendrecv");
	ok(mgw_sdp_parse(buf, strlen(buf), &s) == 0, "our offer parses");
	mgw_sdp_parse(answer, strlen(answer), &s);
	ok(mgw_sdp_accept(&s, prefs, 3, 101, &a) == 0 &&
		   strcmp(a.codec, "PCMU") == 0 && a.dtmf_pt == 101 &&
		   a.port == 30000,
	   "the answer's PCMU and telephone-event are accepted");
}

static void test_t38(void)
{
	static const char reinvite[] = "v=0\r\nc=IN IP4 10.0.0.1\r\n"
				       "m=audio 0 RTP/AVP 8\r\n"
				       "m=image 4002 udptl t38\r\n"
				       "a=T38FaxVersion:0\r\n";
	struct mgw_sdp_local l = { .addr = "127.0.0.1", .port = 20004,
				   .sess_id = 9, .sess_version = 4 };
	struct mgw_sdp s;
	struct mgw_sdp_agreed a;
	char buf[1024];

	mgw_sdp_parse(reinvite, strlen(reinvite), &s);
	ok(mgw_sdp_choose_t38(&s, &a) == 0 && strcmp(a.codec, "t38") == 0 &&
		   a.port == 4002 && a.media == 1,
	   "a T.38 re-offer is chosen as codec t38 on the image stream");
	ok(mgw_sdp_write_answer(buf, sizeof(buf), &l, &s, &a) > 0 &&
		   strstr(buf, "m=audio 0 RTP/AVP 8\r\n") &&
		   strstr(buf, "m=image 20004 udptl t38\r\n") &&
		   strstr(buf, "a=T38FaxUdpEC:t38UDPRedundancy\r\n"),
	   "the answer: audio refused, image accepted with T.38 attributes");
	ok(mgw_sdp_write_offer_t38(buf, sizeof(buf), &l) > 0 &&
		   mgw_sdp_parse(buf, strlen(buf), &s) == 0 &&
		   mgw_sdp_choose_t38(&s, &a) == 0,
	   "our T.38 offer parses back as T.38");
}

/* Zero crossings of a block: 2 per cycle. */
static int crossings(const uint8_t *b)
{
	int n = 0;

	for (int i = 1; i < MGW_TONE_BLOCK; i++)
		n += (b[i] ^ 0x55) >> 7 != (b[i - 1] ^ 0x55) >> 7;
	return n;
}

static void test_tones(void)
{
	const struct mgw_tone_plan *eu = mgw_tone_plan_find("eu");
	const struct mgw_tone_plan *us = mgw_tone_plan_find("us");
	struct mgw_tonegen g;
	uint8_t b[MGW_TONE_BLOCK];
	int on = 0, off = 0, n;

	mgw_tone_init();
	ok(eu && us && !mgw_tone_plan_find("xx"), "tone plans by country");
	mgw_tonegen_start(&g, &eu->tone[MGW_TONE_RINGBACK]);
	mgw_tonegen_block(&g, false, b);
	n = crossings(b);
	ok(n >= 16 && n <= 18, "EU ringback is 425 Hz (%d crossings)", n);
	/* 5 s of ringback: 1 s on, 4 s off */
	mgw_tonegen_start(&g, &eu->tone[MGW_TONE_RINGBACK]);
	for (int i = 0; i < 250; i++) {
		mgw_tonegen_block(&g, false, b);
		if (b[0] == 0xd5 && b[80] == 0xd5 && b[159] == 0xd5)
			off++;
		else
			on++;
	}
	ok(on == 50 && off == 200, "its cadence is 1 s on, 4 s off (%d/%d)",
	   on, off);
	mgw_tonegen_start(&g, &eu->tone[MGW_TONE_BUSY]);
	for (int i = 0; i < 25; i++)
		mgw_tonegen_block(&g, false, b);
	ok(b[0] == 0xd5, "EU busy is off after 0.5 s");
	mgw_tonegen_start(&g, NULL);
	mgw_tonegen_block(&g, true, b);
	ok(b[0] == 0xff && b[159] == 0xff, "no tone is u-law silence");
	ok(mgw_alaw_encode(0) == 0xd5 && mgw_ulaw_encode(0) == 0xff &&
		   mgw_alaw_encode(32767) == 0xaa &&
		   mgw_ulaw_encode(32767) == 0x80,
	   "G.711 codes of silence and full scale");
}

int main(void)
{
	tap_plan(34);
	test_parse();
	test_choose();
	test_refusals();
	test_offer_answer();
	test_t38();
	test_tones();
	return tap_done();
}
