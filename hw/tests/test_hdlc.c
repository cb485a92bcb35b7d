/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The timeslot HDLC framer: frames through an octet stream intact, FCS,
 * zero insertion, aborts, idle, injected bit errors. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tdm_hdlc.h"

struct got {
	int frames, bad_fcs, aborts, overruns;
	uint8_t last[HDLC_MAX_FRAME + 2];
	size_t last_len;
};

static void on_rx(enum hdlc_rx_event ev, const uint8_t *frame, size_t len,
		  void *arg)
{
	struct got *g = arg;

	switch (ev) {
	case HDLC_RX_FRAME:
		g->frames++;
		memcpy(g->last, frame, len);
		g->last_len = len;
		break;
	case HDLC_RX_BAD_FCS: g->bad_fcs++; break;
	case HDLC_RX_ABORT: g->aborts++; break;
	case HDLC_RX_OVERRUN: g->overruns++; break;
	}
}

/* Push octets from tx to rx until tx is idle again, plus some flags. */
static void run(struct hdlc_tx *tx, struct hdlc_rx *rx, struct got *g,
		int extra)
{
	int guard = 0;

	while (!hdlc_tx_ready(tx) && guard++ < 10000)
		hdlc_rx_octet(rx, hdlc_tx_octet(tx), on_rx, g);
	for (int i = 0; i < extra; i++)
		hdlc_rx_octet(rx, hdlc_tx_octet(tx), on_rx, g);
}

static int send_one(const uint8_t *f, size_t len, struct got *g)
{
	struct hdlc_tx tx;
	struct hdlc_rx rx;

	hdlc_tx_init(&tx);
	hdlc_rx_init(&rx);
	memset(g, 0, sizeof(*g));
	for (int i = 0; i < 3; i++) /* idle flags first */
		hdlc_rx_octet(&rx, hdlc_tx_octet(&tx), on_rx, g);
	if (hdlc_tx_load(&tx, f, len) < 0)
		return -1;
	run(&tx, &rx, g, 3);
	return 0;
}

int main(void)
{
	static const uint8_t sabme[] = { 0x00, 0x01, 0x7f };
	uint8_t fcs[2], big[HDLC_MAX_FRAME], ones[64];
	struct hdlc_tx tx;
	struct hdlc_rx rx;
	struct got g;
	int all_ok = 1;

	tap_plan(13);

	/* ISO/IEC 13239 check value: CRC of "123456789" is 0x906e. */
	hdlc_fcs_append((const uint8_t *)"123456789", 9, fcs);
	ok(fcs[0] == 0x6e && fcs[1] == 0x90, "FCS of 123456789 is 0x906e, "
	   "low octet first (%02x %02x)", fcs[0], fcs[1]);
	{
		uint8_t f[11];

		memcpy(f, "123456789", 9);
		memcpy(f + 9, fcs, 2);
		ok(hdlc_fcs_good(f, 11), "a frame with its FCS leaves the good "
		   "residue 0xf0b8");
	}

	send_one(sabme, sizeof(sabme), &g);
	ok(g.frames == 1 && g.last_len == 5 && memcmp(g.last, sabme, 3) == 0,
	   "a SABME crosses intact, FCS appended (%d frame, %zu octets)",
	   g.frames, g.last_len);

	memset(ones, 0xff, sizeof(ones));
	send_one(ones, sizeof(ones), &g);
	ok(g.frames == 1 && memcmp(g.last, ones, sizeof(ones)) == 0,
	   "64 octets of 0xff survive zero insertion");
	{
		uint8_t flags[32];

		memset(flags, 0x7e, sizeof(flags));
		send_one(flags, sizeof(flags), &g);
		ok(g.frames == 1 && memcmp(g.last, flags, sizeof(flags)) == 0,
		   "octets equal to the flag survive");
	}

	for (size_t len = 1; len <= 300; len++) {
		for (size_t i = 0; i < len; i++)
			big[i] = (uint8_t)(rand() & 0xff);
		send_one(big, len, &g);
		if (g.frames != 1 || g.last_len != len + 2 ||
		    memcmp(g.last, big, len) != 0 || g.bad_fcs || g.aborts)
			all_ok = 0;
	}
	ok(all_ok, "random frames of 1 to 300 octets all cross intact");

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	send_one(big, sizeof(big), &g);
	ok(g.frames == 1 && g.last_len == sizeof(big) + 2,
	   "a frame of the largest size (%zu) crosses", sizeof(big));
	hdlc_tx_init(&tx);
	ok(hdlc_tx_load(&tx, big, sizeof(big) + 1) < 0,
	   "a longer frame is refused");

	/* Back-to-back frames, no idle between. */
	hdlc_tx_init(&tx);
	hdlc_rx_init(&rx);
	memset(&g, 0, sizeof(g));
	for (int n = 0; n < 50; n++) {
		hdlc_tx_load(&tx, sabme, sizeof(sabme));
		run(&tx, &rx, &g, 0);
	}
	run(&tx, &rx, &g, 2);
	ok(g.frames == 50 && !g.bad_fcs && !g.aborts,
	   "50 frames back to back: 50 received (%d)", g.frames);

	/* An injected bit error loses the frame to its FCS, not silently. */
	hdlc_tx_init(&tx);
	hdlc_rx_init(&rx);
	memset(&g, 0, sizeof(g));
	for (int n = 0; n < 20; n++) {
		hdlc_tx_load(&tx, ones, 20);
		if (n == 5)
			hdlc_rx_corrupt_next(&rx);
		run(&tx, &rx, &g, 1);
	}
	run(&tx, &rx, &g, 2);
	ok(g.frames == 19 && g.bad_fcs + g.aborts == 1,
	   "a bit error costs exactly one frame (%d ok, %d bad FCS, %d "
	   "aborts)", g.frames, g.bad_fcs, g.aborts);

	/* Seven ones inside a frame abort it. */
	hdlc_tx_init(&tx);
	hdlc_rx_init(&rx);
	memset(&g, 0, sizeof(g));
	hdlc_tx_load(&tx, big, 100);
	for (int i = 0; i < 20; i++)
		hdlc_rx_octet(&rx, hdlc_tx_octet(&tx), on_rx, &g);
	for (int i = 0; i < 4; i++)
		hdlc_rx_octet(&rx, 0xff, on_rx, &g);
	ok(g.aborts == 1 && g.frames == 0, "all ones inside a frame: one "
	   "abort (%d)", g.aborts);
	for (int i = 0; i < 1000; i++)
		hdlc_rx_octet(&rx, 0xff, on_rx, &g);
	ok(g.aborts == 1, "a line of all ones (AIS) reports no more aborts");
	run(&tx, &rx, &g, 0);
	hdlc_tx_load(&tx, sabme, sizeof(sabme));
	run(&tx, &rx, &g, 2);
	ok(g.frames == 1, "the receiver recovers at the next flag");
	return tap_done();
}
