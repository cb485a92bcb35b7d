// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_media_udptl - UDPTL packets (T.38 9.1): the wire form against a
 * packet written by hand, round trips, recovery of lost packets from the
 * redundancy, duplicates, long IFPs (two-octet lengths), FEC packets and
 * malformed ones.
 */
#include <errno.h>
#include <string.h>

#include "media_udptl.h"
#include "test_media.h"

struct got {
	unsigned n;
	uint16_t seq[64];
	size_t len[64];
	uint8_t first[64];
};

static void take(void *user, const uint8_t *ifp, size_t len, uint16_t seq)
{
	struct got *g = user;

	if (g->n < 64) {
		g->seq[g->n] = seq;
		g->len[g->n] = len;
		g->first[g->n++] = len ? ifp[0] : 0;
	}
}

static void test_wire(void)
{
	struct media_udptl u;
	uint8_t ifp1[] = { 0x00, 0x11 }, ifp2[] = { 0x22 };
	uint8_t pkt[64];
	/* seq 1, primary 1 octet, secondaries: 1 of 2 octets */
	static const uint8_t want[] = { 0x00, 0x01, 0x01, 0x22, 0x00, 0x01,
					0x02, 0x00, 0x11 };
	int n;

	media_udptl_init(&u, 3);
	n = media_udptl_encode(&u, ifp1, sizeof(ifp1), pkt, sizeof(pkt));
	ok(n == 7 && pkt[0] == 0 && pkt[1] == 0 && pkt[2] == 2 &&
	   pkt[5] == 0 && pkt[6] == 0,
	   "the first packet has no secondary (%d octets)", n);
	n = media_udptl_encode(&u, ifp2, sizeof(ifp2), pkt, sizeof(pkt));
	ok(n == (int)sizeof(want) && !memcmp(pkt, want, sizeof(want)),
	   "the second carries the first as its secondary (aligned PER)");
}

static void test_recovery(void)
{
	struct media_udptl tx, rx;
	uint8_t ifp[8], pkt[16][MEDIA_UDPTL_MAX_PACKET];
	int len[16];
	struct got g = { 0 };
	unsigned i;
	bool order = true;

	media_udptl_init(&tx, 3);
	media_udptl_init(&rx, 3);
	for (i = 0; i < 16; i++) {
		memset(ifp, (int)i, sizeof(ifp));
		len[i] = media_udptl_encode(&tx, ifp, sizeof(ifp), pkt[i],
					    sizeof(pkt[i]));
	}
	/* lose 3, 4 and 5 (three in a row: all recovered), and 9..12 (four:
	 * one beyond the redundancy) */
	for (i = 0; i < 16; i++)
		if (!(i >= 3 && i <= 5) && !(i >= 9 && i <= 12))
			media_udptl_decode(&rx, pkt[i], (size_t)len[i], take, &g);
	for (i = 1; i < g.n; i++)
		order = order && g.seq[i] == (uint16_t)(g.seq[i - 1] + 1 +
							 (g.seq[i - 1] == 8));
	ok(g.n == 15 && rx.stats.recovered == 6 && rx.stats.lost == 1,
	   "3 lost in a row come back from the next packet, 4 lose one "
	   "(%u delivered, %llu recovered, %llu lost)", g.n,
	   (unsigned long long)rx.stats.recovered,
	   (unsigned long long)rx.stats.lost);
	ok(order && g.first[3] == 3 && g.first[5] == 5,
	   "and they are handed over in sequence, with their content");
	g.n = 0;
	media_udptl_decode(&rx, pkt[14], (size_t)len[14], take, &g);
	ok(g.n == 0 && rx.stats.old == 1, "a duplicate is dropped, counted");
}

static void test_long_and_bad(void)
{
	struct media_udptl tx, rx;
	static uint8_t ifp[MEDIA_UDPTL_MAX_IFP + 1];
	uint8_t pkt[MEDIA_UDPTL_MAX_PACKET];
	static const uint8_t fec[] = { 0x00, 0x07, 0x01, 0x42, 0x80, 0x01,
				       0x02, 0x00 };
	struct got g = { 0 };
	int n;

	media_udptl_init(&tx, 1);
	media_udptl_init(&rx, 1);
	n = media_udptl_encode(&tx, ifp, 200, pkt, sizeof(pkt));
	ok(n > 0 && pkt[2] == (0x80 | (200 >> 8)) && pkt[3] == 200 % 256 &&
	   media_udptl_decode(&rx, pkt, (size_t)n, take, &g) == 0 &&
	   g.n == 1 && g.len[0] == 200,
	   "a 200-octet IFP takes a two-octet length");
	ok(media_udptl_encode(&tx, ifp, sizeof(ifp), pkt, sizeof(pkt)) ==
		   -EMSGSIZE, "an IFP over the limit is refused");
	g.n = 0;
	ok(media_udptl_decode(&rx, fec, sizeof(fec), take, &g) == 0 &&
	   g.n == 1 && g.first[0] == 0x42,
	   "an FEC packet gives its primary");
	ok(media_udptl_decode(&rx, fec, 3, take, &g) == -EINVAL &&
	   rx.stats.malformed == 1, "a truncated packet is malformed");
	ok(media_udptl_init(&tx, MEDIA_UDPTL_MAX_REDUNDANCY + 1) == -EINVAL,
	   "redundancy beyond the limit is refused");
}

int main(void)
{
	test_wire();
	test_recovery();
	test_long_and_bad();
	return tap_done();
}
