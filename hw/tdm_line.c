/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A simulated E1/T1 line end (see tdm_line.h).
 */
#include <errno.h>
#include <string.h>

#include "tandem/tdm.h"
#include "tdm_line.h"

#define RED_OR_BLUE (TDM_ALARM_LOS | TDM_ALARM_LOF | TDM_ALARM_AIS)

void line_init(struct line_end *e, unsigned timeslots)
{
	memset(e, 0, sizeof(*e));
	e->timeslots = timeslots;
	atomic_init(&e->alarms, 0); /* the first tick says */
	memset(e->last, LINE_ALL_ONES, sizeof(e->last));
}

void line_transmit(struct line_end *e, struct line_frame *tx)
{
	unsigned alarms = atomic_load(&e->alarms);

	tx->signals = (alarms & RED_OR_BLUE) ? LINE_SIG_RAI : 0;
}

static void all_ones(struct line_frame *rx)
{
	memset(rx->ts, LINE_ALL_ONES, sizeof(rx->ts));
}

/*
 * A controlled slip repeats or deletes one frame: every timeslot gains or
 * loses one sample. We alternate, so the delay stays 0 or 1 frame: the
 * first slip repeats the last frame, the next deletes one.
 */
static void slip(struct line_end *e, struct line_frame *rx)
{
	for (unsigned ts = 0; ts < LINE_TIMESLOTS; ts++) {
		uint8_t *s = rx->ts[ts];

		if (!e->delayed) {
			uint8_t newest = s[LINE_TICK_FRAMES - 1];

			memmove(s + 1, s, LINE_TICK_FRAMES - 1);
			s[0] = e->last[ts]; /* repeated */
			e->carry[ts] = newest;
		}
		/* when delayed, dropping the carry deletes a frame */
	}
	e->delayed = !e->delayed;
	atomic_fetch_add(&e->stats.slips, 1);
}

/* Keep the one-frame delay a past slip left. */
static void delay(struct line_end *e, struct line_frame *rx)
{
	for (unsigned ts = 0; ts < LINE_TIMESLOTS; ts++) {
		uint8_t *s = rx->ts[ts];
		uint8_t newest = s[LINE_TICK_FRAMES - 1];

		memmove(s + 1, s, LINE_TICK_FRAMES - 1);
		s[0] = e->carry[ts];
		e->carry[ts] = newest;
	}
}

static unsigned receive_alarms(unsigned faults,
			       const struct line_frame *remote,
			       struct line_frame *rx)
{
	if (!remote || (faults & (LINE_FAULT_LOS | LINE_FAULT_CUT))) {
		all_ones(rx);
		return TDM_ALARM_LOS;
	}
	if (faults & LINE_FAULT_LOF) {
		all_ones(rx);
		return TDM_ALARM_LOF;
	}
	if ((faults & LINE_FAULT_AIS) || (remote->signals & LINE_SIG_AIS)) {
		all_ones(rx);
		return TDM_ALARM_AIS;
	}
	memcpy(rx->ts, remote->ts, sizeof(rx->ts));
	return ((faults & LINE_FAULT_RAI) || (remote->signals & LINE_SIG_RAI))
		       ? TDM_ALARM_RAI
		       : 0;
}

static void count_errors(struct line_end *e, unsigned shots)
{
	if (shots & LINE_SHOT_CRC)
		atomic_fetch_add(&e->stats.crc_errors, 1);
	if (shots & LINE_SHOT_BPV)
		atomic_fetch_add(&e->stats.bpv, 1);
}

unsigned line_receive(struct line_end *e, const struct line_frame *own_tx,
		      const struct line_frame *remote, struct line_frame *rx)
{
	unsigned faults = atomic_load(&e->faults);
	unsigned shots = atomic_exchange(&e->shots, 0);
	unsigned before = atomic_load(&e->alarms);
	unsigned alarms;

	if (atomic_load(&e->loopback)) {
		memcpy(rx->ts, own_tx->ts, sizeof(rx->ts));
		alarms = TDM_ALARM_LOOPBACK;
	} else {
		alarms = receive_alarms(faults, remote, rx);
	}
	rx->signals = 0;
	if (!(alarms & RED_OR_BLUE)) {
		if (shots & LINE_SHOT_SLIP)
			slip(e, rx);
		else if (e->delayed)
			delay(e, rx);
		count_errors(e, shots);
	}
	for (unsigned ts = 0; ts < LINE_TIMESLOTS; ts++)
		e->last[ts] = rx->ts[ts][LINE_TICK_FRAMES - 1];
	if ((alarms & RED_OR_BLUE) && !(before & RED_OR_BLUE))
		atomic_fetch_add(&e->stats.alarm_count, 1);
	atomic_store(&e->alarms, alarms);
	/* A bit error only matters where data flows. */
	return (alarms & RED_OR_BLUE) ? 0 : (shots & LINE_SHOT_DCHAN);
}

int line_fault_parse(const char *name, unsigned *fault, unsigned *shot)
{
	static const struct {
		const char *name;
		unsigned fault, shot;
	} names[] = {
		{ "los", LINE_FAULT_LOS, 0 },
		{ "lof", LINE_FAULT_LOF, 0 },
		{ "ais", LINE_FAULT_AIS, 0 },
		{ "rai", LINE_FAULT_RAI, 0 },
		{ "cut", LINE_FAULT_CUT, 0 },
		{ "slip", 0, LINE_SHOT_SLIP },
		{ "dchan-error", 0, LINE_SHOT_DCHAN },
		{ "crc", 0, LINE_SHOT_CRC },
		{ "bpv", 0, LINE_SHOT_BPV },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i].name) == 0) {
			*fault = names[i].fault;
			*shot = names[i].shot;
			return 0;
		}
	}
	return -EINVAL;
}

int line_inject(struct line_end *e, const char *name)
{
	unsigned fault, shot;

	if (strcmp(name, "clear") == 0) {
		atomic_store(&e->faults, 0);
		return 0;
	}
	if (line_fault_parse(name, &fault, &shot) < 0)
		return -EINVAL;
	atomic_fetch_or(&e->faults, fault);
	atomic_fetch_or(&e->shots, shot);
	return 0;
}
