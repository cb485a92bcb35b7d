// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_media_jb - the adaptive jitter buffer against simulated networks:
 * a clean path, jitter, loss, reordering, clock drift both ways over a
 * long call, a timestamp wrap and a jump, 40 ms packets. A consumer plays
 * it out 20 ms at a time the way a media leg does (a FIFO of decoded
 * samples; PLC when a frame is missing).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "media_jb.h"
#include "test_media.h"

#define CLOCK	8000
#define FRAME	160

struct net {
	unsigned ptime_samples;	/* per packet */
	double drift_ppm;	/* sender clock slower (+) than ours */
	double base_ms;
	double jitter_ms;	/* uniform extra delay */
	double loss;		/* probability */
	int reorder;		/* swap every 10th pair */
	uint32_t ts0;
	uint32_t jump_at, jump_by;	/* packet index, ts offset */
	struct test_rng rng;
};

struct pkt {
	double arrival;		/* seconds, our clock */
	uint32_t ts;
	uint16_t seq;
};

struct result {
	unsigned ticks_playing;
	unsigned missing, inserts_seen, packets_played, lost_sent;
	double max_delay_ms, sum_delay_ms;
	unsigned delay_samples;
};

static int by_arrival(const void *a, const void *b)
{
	const struct pkt *x = a, *y = b;

	return (x->arrival > y->arrival) - (x->arrival < y->arrival);
}

/* Packets of `seconds` of audio as they arrive. */
static struct pkt *make_stream(struct net *n, double seconds, unsigned *count,
			       unsigned *lost)
{
	unsigned total = (unsigned)(seconds * CLOCK / n->ptime_samples), i, k;
	struct pkt *p = calloc(total, sizeof(*p));
	double period = n->ptime_samples / (double)CLOCK *
			(1.0 + n->drift_ppm * 1e-6);

	*lost = 0;
	for (i = 0, k = 0; i < total; i++) {
		double extra = n->jitter_ms * (test_rng_uniform(&n->rng) + 1) / 2;

		if (n->loss > 0 && (test_rng_uniform(&n->rng) + 1) / 2 < n->loss) {
			(*lost)++;
			continue;
		}
		p[k].ts = n->ts0 + i * n->ptime_samples +
			  (n->jump_at && i >= n->jump_at ? n->jump_by : 0);
		p[k].seq = (uint16_t)i;
		p[k].arrival = 0.1 + i * period + (n->base_ms + extra) / 1000.0;
		k++;
	}
	if (n->reorder)
		for (i = 0; i + 1 < k; i += 20) {	/* 1 in 20 overtaken */
			double t = p[i].arrival;

			p[i].arrival = p[i + 1].arrival + 0.0005;
			(void)t;
		}
	qsort(p, k, sizeof(*p), by_arrival);
	*count = k;
	return p;
}

static int64_t to_ts(double s)
{
	return (int64_t)llround(s * CLOCK);
}

static void setup(struct media_jb *jb, unsigned min_ms, unsigned max_ms)
{
	struct media_jb_config c = { CLOCK, FRAME, min_ms, max_ms };

	media_jb_init(jb, &c);
}

static struct net net_default(uint32_t seed)
{
	struct net n = { .ptime_samples = FRAME, .base_ms = 30.0,
			 .ts0 = 1000, .rng = { seed } };

	return n;
}

/* Samples per packet of the stream being played (its payload length too,
 * as for G.711). */
static unsigned ptime_override;

static int put_packet(struct media_jb *jb, const struct pkt *p, int64_t at)
{
	static const uint8_t payload[MEDIA_JB_MAX_PAYLOAD];

	return media_jb_put(jb, p->ts, p->seq, false, payload,
			    ptime_override, ptime_override, at);
}

/* Play out `seconds` of ticks; the consumer holds a FIFO like a leg. */
static void play(struct media_jb *jb, const struct pkt *p, unsigned count,
		 double seconds, struct result *r, double measure_from,
		 double measure_to)
{
	unsigned next = 0, fifo = 0;
	double t;

	memset(r, 0, sizeof(*r));
	for (t = 0.0; t < seconds; t += 0.020) {
		int64_t now = to_ts(t);
		const struct media_jb_packet *pkt;
		uint32_t skip;
		bool measuring = t >= measure_from && t < measure_to;

		for (; next < count && p[next].arrival <= t; next++)
			put_packet(jb, &p[next], to_ts(p[next].arrival));
		if (media_jb_tick(jb, now, fifo) == MEDIA_JB_INSERT) {
			r->inserts_seen += measuring;
			continue;
		}
		while (fifo < FRAME) {
			enum media_jb_result g = media_jb_get(jb, now, &pkt,
							      &skip);

			if (g == MEDIA_JB_PACKET) {
				fifo += pkt->samples - skip;
				r->packets_played += measuring;
				continue;
			}
			r->missing += g == MEDIA_JB_MISSING && measuring;
			fifo += FRAME;
		}
		fifo -= FRAME;
		if (!jb->playing || !measuring)
			continue;
		r->ticks_playing++;
		r->sum_delay_ms += media_jb_delay_ms(jb);
		r->delay_samples++;
		if (media_jb_delay_ms(jb) > r->max_delay_ms)
			r->max_delay_ms = media_jb_delay_ms(jb);
	}
}

static struct media_jb jb;

static void run(struct net *n, double seconds, unsigned min_ms,
		unsigned max_ms, struct result *r, unsigned *lost)
{
	unsigned count;
	struct pkt *p = make_stream(n, seconds, &count, lost);

	ptime_override = n->ptime_samples;
	setup(&jb, min_ms, max_ms);
	/* measured from 2 s in until the stream's end has played out */
	play(&jb, p, count, seconds + 1.0, r, 2.0, seconds - 0.3);
	free(p);
}

static void test_clean(void)
{
	struct net n = net_default(1);
	struct result r;
	unsigned lost;

	run(&n, 20.0, 20, 200, &r, &lost);
	ok(r.missing == 0 && jb.stats.late == 0 && jb.stats.inserts == 0 &&
	   jb.stats.drops == 0,
	   "clean path: nothing missing, late, inserted or dropped "
	   "(%u, %llu, %llu, %llu)", r.missing,
	   (unsigned long long)jb.stats.late,
	   (unsigned long long)jb.stats.inserts,
	   (unsigned long long)jb.stats.drops);
	ok(r.max_delay_ms <= 45.0,
	   "and the delay stays near the minimum (max %.1f ms)",
	   r.max_delay_ms);
}

static void test_jitter(void)
{
	struct net n = net_default(2);
	struct result r;
	unsigned lost;
	double late_pct;

	n.jitter_ms = 60.0;
	run(&n, 30.0, 20, 200, &r, &lost);
	late_pct = 100.0 * (double)jb.stats.late / (30.0 * 50);
	ok(late_pct < 1.0, "0..60 ms jitter: %.2f%% late (< 1%%)", late_pct);
	ok(media_jb_target_ms(&jb) >= 60.0 && media_jb_target_ms(&jb) <= 75.0,
	   "target follows the spread: %.1f ms", media_jb_target_ms(&jb));
	ok(r.max_delay_ms <= 200.0 + 30.0,
	   "delay within bounds (max %.1f ms)", r.max_delay_ms);
	n = net_default(3);
	n.jitter_ms = 400.0;
	run(&n, 20.0, 20, 120, &r, &lost);
	ok(media_jb_target_ms(&jb) <= 120.0 && r.max_delay_ms <= 120.0 + 45.0,
	   "400 ms jitter: target capped at jb_max (%.1f ms, delay max %.1f)",
	   media_jb_target_ms(&jb), r.max_delay_ms);
}

static void test_loss_reorder(void)
{
	struct net n = net_default(4);
	struct result r;
	unsigned lost;

	n.loss = 0.05;
	run(&n, 30.0, 20, 200, &r, &lost);
	ok(lost > 40 && r.missing <= lost && r.missing + 8 >= lost &&
	   jb.stats.late == 0,
	   "5%% loss: %u sent lost, %u concealed, none late", lost, r.missing);
	n = net_default(5);
	n.reorder = 1;
	run(&n, 20.0, 20, 200, &r, &lost);
	ok(r.missing == 0 && jb.stats.late == 0,
	   "1 packet in 20 overtaken: put back in order, nothing missing");
}

static void test_drift(void)
{
	struct net n = net_default(6);
	struct result r;
	unsigned lost;

	/* sender 100 ppm fast: 1000 s bring 100 ms more than we play */
	n.drift_ppm = -100.0;
	n.jitter_ms = 10.0;
	run(&n, 1000.0, 20, 200, &r, &lost);
	ok(jb.stats.drops >= 4 && jb.stats.drops <= 6 && jb.stats.inserts <= 1 &&
	   jb.stats.late == 0,
	   "sender +100 ppm for 1000 s: %llu frames dropped (5 expected), "
	   "%llu inserted, none late",
	   (unsigned long long)jb.stats.drops,
	   (unsigned long long)jb.stats.inserts);
	ok(r.max_delay_ms < 80.0, "the delay stays bounded (max %.1f ms)",
	   r.max_delay_ms);
	n = net_default(7);
	n.drift_ppm = 100.0;
	n.jitter_ms = 10.0;
	run(&n, 1000.0, 20, 200, &r, &lost);
	ok(jb.stats.inserts >= 4 && jb.stats.inserts <= 7 && jb.stats.drops <= 1,
	   "sender -100 ppm for 1000 s: %llu frames inserted (5 expected), "
	   "%llu dropped",
	   (unsigned long long)jb.stats.inserts,
	   (unsigned long long)jb.stats.drops);
}

static void test_wrap_jump_ptime(void)
{
	struct net n = net_default(8);
	struct result r;
	unsigned lost;

	n.ts0 = 0xffffffffu - 160 * 100;
	run(&n, 10.0, 20, 200, &r, &lost);
	ok(r.missing == 0 && jb.stats.resyncs == 0,
	   "a timestamp wrap 2 s in: nothing missing, no resync");
	n = net_default(9);
	n.jump_at = 250;
	n.jump_by = 8000 * 60;
	run(&n, 10.0, 20, 200, &r, &lost);
	ok(jb.stats.resyncs == 1 && r.missing <= 3,
	   "a 60 s timestamp jump: one resync, %u frames concealed",
	   r.missing);
	n = net_default(10);
	n.ptime_samples = 320;
	n.jitter_ms = 20.0;
	run(&n, 20.0, 20, 200, &r, &lost);
	ok(r.missing == 0 && jb.stats.late == 0 && jb.stats.inserts == 0,
	   "40 ms packets played 20 ms at a time: nothing missing");
}

static void test_put_errors(void)
{
	static const uint8_t big[MEDIA_JB_MAX_PAYLOAD + 1];
	unsigned i;

	setup(&jb, 20, 200);
	ok(media_jb_put(&jb, 0, 0, false, big, sizeof(big), 160, 0) ==
		   -EMSGSIZE, "an oversized payload is refused");
	ok(media_jb_put(&jb, 160, 1, false, big, 160, 160, 100) == 0 &&
	   media_jb_put(&jb, 160, 1, false, big, 160, 160, 101) == -EEXIST &&
	   jb.stats.duplicates == 1, "a duplicate is counted and dropped");
	for (i = 2; i < MEDIA_JB_SLOTS + 5; i++)
		media_jb_put(&jb, i * 160, (uint16_t)i, false, big, 160, 160,
			     100 + i);
	ok(jb.count == MEDIA_JB_SLOTS && jb.stats.overflows == 4,
	   "a full buffer drops its oldest (%llu overflows)",
	   (unsigned long long)jb.stats.overflows);
}

int main(void)
{
	test_clean();
	test_jitter();
	test_loss_reorder();
	test_drift();
	test_wrap_jump_ptime();
	test_put_errors();
	return tap_done();
}
