/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulated line end: alarms from faults and from the far end, RAI
 * sent back, loopback, controlled slips. */
#include <string.h>

#include "tandem/tdm.h"
#include "tap.h"
#include "tdm_line.h"

static struct line_end a, b;
static struct line_frame atx, btx, arx, brx;

/* One tick of a back-to-back pair. */
static void tick(int cut)
{
	line_transmit(&a, &atx);
	line_transmit(&b, &btx);
	line_receive(&a, &atx, cut ? NULL : &btx, &arx);
	line_receive(&b, &btx, cut ? NULL : &atx, &brx);
}

static void fill(struct line_frame *f, uint8_t start)
{
	for (int ts = 0; ts < LINE_TIMESLOTS; ts++)
		for (int i = 0; i < LINE_TICK_FRAMES; i++)
			f->ts[ts][i] = (uint8_t)(start + i);
}

int main(void)
{
	int in_order = 1;
	uint64_t count;

	tap_plan(11);
	line_init(&a, 31);
	line_init(&b, 31);
	line_transmit(&a, &atx);
	line_receive(&a, &atx, NULL, &arx);
	ok(atomic_load(&a.alarms) == TDM_ALARM_LOS && arx.ts[3][0] == 0xff,
	   "nothing plugged in: LOS, all ones received");
	tick(0);
	tick(0);
	ok(atomic_load(&a.alarms) == 0 && atomic_load(&b.alarms) == 0,
	   "wired back to back, both ends clear");

	count = atomic_load(&a.stats.alarm_count);
	line_inject(&a, "los");
	tick(0);
	tick(0);
	ok(atomic_load(&a.alarms) == TDM_ALARM_LOS &&
	   atomic_load(&b.alarms) == TDM_ALARM_RAI,
	   "LOS at one end: red there, RAI (yellow) at the other");
	ok(atomic_load(&a.stats.alarm_count) == count + 1,
	   "the red alarm is counted once");
	line_inject(&a, "clear");
	tick(0);
	tick(0);
	ok(atomic_load(&a.alarms) == 0 && atomic_load(&b.alarms) == 0,
	   "clearing it clears both ends");

	line_inject(&b, "ais");
	tick(0);
	tick(0);
	ok(atomic_load(&b.alarms) == TDM_ALARM_AIS && brx.ts[1][0] == 0xff &&
	   atomic_load(&a.alarms) == TDM_ALARM_RAI,
	   "AIS: blue, all ones received, RAI sent back");
	line_inject(&b, "clear");
	tick(1);
	ok(atomic_load(&a.alarms) == TDM_ALARM_LOS &&
	   atomic_load(&b.alarms) == TDM_ALARM_LOS, "a cut cable: LOS at both");
	tick(0);
	tick(0);

	atomic_store(&a.loopback, true);
	fill(&atx, 10);
	line_receive(&a, &atx, &btx, &arx);
	ok(atomic_load(&a.alarms) == TDM_ALARM_LOOPBACK &&
	   memcmp(arx.ts, atx.ts, sizeof(arx.ts)) == 0,
	   "local loopback: what a sends, a receives");
	atomic_store(&a.loopback, false);

	/* Slips: a counting stream through b repeats one frame, then
	 * loses one, and otherwise stays in order. */
	{
		uint8_t stream[4 * LINE_TICK_FRAMES], n = 0;
		int k = 0, repeats = 0, gaps = 0;

		for (int t = 0; t < 4; t++) {
			fill(&atx, (uint8_t)(t * LINE_TICK_FRAMES));
			if (t == 1 || t == 3)
				line_inject(&b, "slip");
			line_transmit(&b, &btx);
			line_receive(&b, &btx, &atx, &brx);
			memcpy(stream + k, brx.ts[5], LINE_TICK_FRAMES);
			k += LINE_TICK_FRAMES;
		}
		for (int i = 1; i < k; i++) {
			n = (uint8_t)(stream[i] - stream[i - 1]);
			repeats += n == 0;
			gaps += n == 2;
			in_order &= n <= 2;
		}
		ok(repeats == 1 && gaps == 1 && in_order,
		   "two slips: one frame repeated, one deleted (%d, %d)",
		   repeats, gaps);
		ok(atomic_load(&b.stats.slips) == 2, "slips are counted");
	}
	{
		unsigned fault, shot;

		ok(line_fault_parse("bogus", &fault, &shot) < 0,
		   "an unknown fault is refused");
	}
	return tap_done();
}
