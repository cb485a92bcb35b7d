// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_media_rtp - RTP header parsing, the RFC 3550 appendix A receiver
 * bookkeeping (probation, wrap, loss, fraction, jitter), RTCP compounds,
 * round-trip time, the report interval, and the G.107 E-model.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "media_emodel.h"
#include "media_rtcp.h"
#include "media_rtp.h"
#include "test_media.h"

static void test_parse(void)
{
	uint8_t pkt[64];
	struct media_rtp_header h;
	size_t n = media_rtp_write_header(pkt, true, 8, 0xfffe, 0x12345678,
					  0xcafebabe);

	memset(pkt + n, 0xd5, 20);
	ok(media_rtp_parse(pkt, n + 20, &h) == 0 && h.marker && h.pt == 8 &&
	   h.seq == 0xfffe && h.ts == 0x12345678 && h.ssrc == 0xcafebabe &&
	   h.payload_len == 20 && h.payload == pkt + 12,
	   "a packet we write parses back field by field");
	pkt[0] |= 0x20;			/* padding: 3 octets */
	pkt[n + 19] = 3;
	ok(media_rtp_parse(pkt, n + 20, &h) == 0 && h.payload_len == 17,
	   "padding is taken off the payload (RFC 3550 5.1)");
	pkt[n + 19] = 0;
	ok(media_rtp_parse(pkt, n + 20, &h) == -EINVAL,
	   "a zero padding count is refused");
	pkt[0] = 0x80 | 0x10 | 2;	/* 2 CSRCs and an extension */
	memset(pkt + 12, 0, 8);
	pkt[20] = 0xbe;
	pkt[21] = 0xde;
	pkt[22] = 0;
	pkt[23] = 1;			/* one extension word */
	ok(media_rtp_parse(pkt, 40, &h) == 0 && h.payload == pkt + 28 &&
	   h.payload_len == 12, "CSRC list and header extension skipped");
	ok(media_rtp_parse(pkt, 24, &h) == -EINVAL,
	   "an extension running past the end is refused");
	pkt[0] = 0x40;
	ok(media_rtp_parse(pkt, 40, &h) == -EINVAL, "version 1 is refused");
	pkt[1] = 200;
	ok(media_rtp_is_rtcp(pkt, 40) && !media_rtp_is_rtcp(pkt, 1),
	   "RTCP PT 200 is told from RTP (RFC 5761 4)");
}

static void test_sequence(void)
{
	struct media_rtp_source src;
	unsigned i, valid = 0;
	uint16_t seq = 65530;

	media_rtp_source_init(&src, 1, seq);
	ok(media_rtp_source_seq(&src, seq) == MEDIA_RTP_SEQ_PROBATION,
	   "a new source starts on probation (A.1)");
	for (i = 1; i <= 20; i++)
		valid += media_rtp_source_seq(&src, (uint16_t)(seq + i)) ==
			 MEDIA_RTP_SEQ_VALID;
	ok(valid == 20, "the next in sequence validates it; a wrap is fine");
	ok(media_rtp_source_ext_max(&src) == 65536 + 14 &&
	   media_rtp_source_lost(&src) == 0,
	   "extended highest seq counts the cycle, nothing lost");
	/* lose 5 of the next 101 */
	for (i = 21; i <= 121; i++)
		if (i % 20)
			media_rtp_source_seq(&src, (uint16_t)(seq + i));
	ok(media_rtp_source_lost(&src) == 5, "5 gaps are 5 lost (A.3)");
	ok(media_rtp_source_fraction(&src) == 5 * 256 / 121,
	   "fraction lost: 5 of 121 expected is 10/256");
	ok(media_rtp_source_seq(&src, (uint16_t)(seq + 20000)) ==
		   MEDIA_RTP_SEQ_BAD,
	   "a jump of 20000 is not believed at once");
	ok(media_rtp_source_seq(&src, (uint16_t)(seq + 20001)) ==
		   MEDIA_RTP_SEQ_RESTARTED,
	   "its follower restarts the source");
	ok(media_rtp_source_seq(&src, (uint16_t)(seq + 19990)) ==
		   MEDIA_RTP_SEQ_VALID,
	   "a packet 11 behind is reordering, kept");
}

static void test_fraction(void)
{
	struct media_rtp_source src;
	unsigned i;

	media_rtp_source_init(&src, 7, 100);
	media_rtp_source_seq(&src, 100);
	for (i = 101; i < 200; i++)
		if (i % 4)
			media_rtp_source_seq(&src, (uint16_t)i);
	media_rtp_source_fraction(&src);
	for (i = 200; i < 600; i++)
		if (i % 4)
			media_rtp_source_seq(&src, (uint16_t)i);
	ok(media_rtp_source_fraction(&src) == 64,
	   "a quarter lost is 64/256 (A.3)");
	ok(media_rtp_source_fraction(&src) == 0,
	   "and nothing in an empty interval");
}

static void test_jitter(void)
{
	struct media_rtp_source src;
	struct test_rng rng = { 12345 };
	int64_t arrival;
	unsigned i;

	media_rtp_source_init(&src, 9, 0);
	for (i = 0; i < 2000; i++) {
		arrival = (int64_t)i * 160 + 800;
		media_rtp_source_jitter(&src, 0xffffff00u + i * 160, arrival);
	}
	ok(src.jitter < 1e-9, "constant transit, across a ts wrap: no jitter");
	media_rtp_source_init(&src, 9, 0);
	for (i = 0; i < 20000; i++) {
		/* transit uniform in 0..80 samples: E|D| = 80/3 */
		arrival = (int64_t)i * 160 +
			  (int64_t)(40 + 40 * test_rng_uniform(&rng));
		media_rtp_source_jitter(&src, i * 160, arrival);
	}
	ok(fabs(src.jitter - 80.0 / 3.0) < 4.0,
	   "uniform 0..10 ms transit: jitter %.1f samples (expected 26.7)",
	   src.jitter);
}

static void test_rtcp(void)
{
	struct media_rtcp_report rep = {
		.ssrc = 0x11111111, .sender = true,
		.ntp = 0xe1234567abcd0000ull, .rtp_ts = 4242,
		.packets = 500, .octets = 80000, .have_block = true,
		.block = { .ssrc = 0x22222222, .fraction_lost = 13,
			   .cumulative_lost = -3, .ext_max_seq = 0x10005,
			   .jitter = 77, .lsr = 0x4567abcd, .dlsr = 0x8000 },
		.cname = "media1.0@gw",
	};
	struct media_rtcp_info info;
	uint8_t buf[MEDIA_RTCP_MAX_LEN];
	int n = media_rtcp_build(&rep, buf, sizeof(buf));

	ok(n > 0 && n % 4 == 0, "SR + SDES compound built (%d octets)", n);
	ok(media_rtcp_parse(buf, (size_t)n, 0x22222222, &info) == 0 &&
	   info.have_sr && info.ssrc == 0x11111111 && info.ntp == rep.ntp &&
	   info.rtp_ts == 4242 && info.packets == 500 && info.octets == 80000,
	   "it parses back: the sender info");
	ok(info.have_block && info.block.fraction_lost == 13 &&
	   info.block.cumulative_lost == -3 &&
	   info.block.ext_max_seq == 0x10005 && info.block.jitter == 77 &&
	   info.block.lsr == 0x4567abcd && info.block.dlsr == 0x8000,
	   "and the report block (negative cumulative loss, 24 bits)");
	ok(media_rtcp_parse(buf, (size_t)n, 0x33333333, &info) == 0 &&
	   !info.have_block, "a block about someone else is not ours");
	ok(media_rtcp_parse(buf, (size_t)n - 4, 0x22222222, &info) == -EINVAL,
	   "a truncated compound is refused");
	rep.sender = false;
	n = media_rtcp_build(&rep, buf, sizeof(buf));
	ok(n > 0 && buf[1] == MEDIA_RTCP_RR &&
	   media_rtcp_parse(buf, (size_t)n, 0x22222222, &info) == 0 &&
	   !info.have_sr && info.have_block, "an RR when we sent nothing");
	n = media_rtcp_build_bye(0x11111111, "x@y", buf, sizeof(buf));
	ok(n > 0 && media_rtcp_parse(buf, (size_t)n, 0, &info) == 0 &&
	   info.bye, "RR + SDES + BYE");
}

static void test_rtt(void)
{
	/* sent our SR at NTP t, peer held it 0.5 s, arrives at t + 0.62 s */
	uint64_t t = 0xe0001234ull << 32;
	struct media_rtcp_block b = { .lsr = media_rtcp_ntp_mid(t),
				      .dlsr = 32768 };
	uint64_t arrival = t + (uint64_t)(0.62 * 4294967296.0);
	double rtt = media_rtcp_rtt(&b, arrival);

	ok(fabs(rtt - 0.12) < 0.0001, "RTT = A - LSR - DLSR: %.4f s", rtt);
	b.lsr = 0;
	ok(media_rtcp_rtt(&b, arrival) < 0, "no LSR: no RTT yet");
}

static void test_interval(void)
{
	unsigned lo = media_rtcp_interval_ms(5000, false, 0.0);
	unsigned hi = media_rtcp_interval_ms(5000, false, 0.999999);
	unsigned first = media_rtcp_interval_ms(5000, true, 0.5);

	ok(lo >= 2000 && lo <= 2100 && hi >= 6100 && hi <= 6200,
	   "interval 5 s x [0.5, 1.5] / 1.218: %u..%u ms", lo, hi);
	ok(first >= 2000 && first <= 2100, "the first is halved: %u ms", first);
}

static void test_emodel(void)
{
	struct media_emodel_codec g711, gsm, g726;
	double r;

	media_emodel_codec("PCMA", &g711);
	media_emodel_codec("gsm", &gsm);
	media_emodel_codec("G726-32", &g726);
	r = media_emodel_r(0.0, &g711, 0.0);
	ok(fabs(r - 93.2) < 1e-9 && fabs(media_emodel_mos(r) - 4.41) < 0.01,
	   "G.711, no delay, no loss: R 93.2, MOS %.2f",
	   media_emodel_mos(r));
	/* by hand: X = 1 gives 25 (2^(1/6) - 3 (1 + 3^-6)^(1/6) + 2) */
	ok(media_emodel_idd(100.0) == 0.0 &&
	   fabs(media_emodel_idd(200.0) - 3.04) < 0.01 &&
	   fabs(media_emodel_idd(400.0) - 24.07) < 0.01,
	   "Idd: 0 at 100 ms, %.1f at 200 ms, %.1f at 400 ms (G.107 7.3)",
	   media_emodel_idd(200.0), media_emodel_idd(400.0));
	r = media_emodel_r(0.0, &g711, 2.0);
	ok(fabs(r - (93.2 - 95.0 * 2.0 / 27.1)) < 1e-9,
	   "2%% loss with PLC: Ie,eff %.1f", 93.2 - r);
	ok(media_emodel_r(0.0, &gsm, 0.0) < media_emodel_r(0.0, &g726, 0.0) &&
	   media_emodel_r(0.0, &g726, 0.0) < media_emodel_r(0.0, &g711, 0.0),
	   "GSM < G.726-32 < G.711 at no loss");
	ok(media_emodel_mos(-5) == 1.0 && media_emodel_mos(120) == 4.5,
	   "MOS is clamped to 1.0 .. 4.5");
}

int main(void)
{
	test_parse();
	test_sequence();
	test_fraction();
	test_jitter();
	test_rtcp();
	test_rtt();
	test_interval();
	test_emodel();
	return tap_done();
}
