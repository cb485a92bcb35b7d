/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pri: spans. One libpri controller per span, fed with the frames of its
 * D-channel transport; libpri's scheduler runs on one host timer per span;
 * the span keeps the state of its B-channels.
 */
#include <errno.h>
#include <libpri.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "pri_int.h"

static struct pri_span *spans;

static const struct {
	const char *name;
	int type;
	const char *bchans; /* E1: timeslot 16 is the D-channel; T1: 24 */
} switch_types[] = {
	{ "euroisdn_e1", PRI_SWITCH_EUROISDN_E1, "1-15,17-31" },
	{ "euroisdn_t1", PRI_SWITCH_EUROISDN_T1, "1-23" },
	{ "ni2", PRI_SWITCH_NI2, "1-23" },
	{ "ni1", PRI_SWITCH_NI1, "1-23" },
	{ "dms100", PRI_SWITCH_DMS100, "1-23" },
	{ "4ess", PRI_SWITCH_ATT4ESS, "1-23" },
	{ "5ess", PRI_SWITCH_LUCENT5E, "1-23" },
	{ "qsig", PRI_SWITCH_QSIG, "1-15,17-31" },
};

#define NSWITCH (sizeof(switch_types) / sizeof(switch_types[0]))

int pri_switch_parse(const char *name, int *switchtype)
{
	for (size_t i = 0; i < NSWITCH; i++) {
		if (strcmp(switch_types[i].name, name) == 0) {
			*switchtype = switch_types[i].type;
			return 0;
		}
	}
	return -EINVAL;
}

const char *pri_switch_name(int switchtype)
{
	for (size_t i = 0; i < NSWITCH; i++)
		if (switch_types[i].type == switchtype)
			return switch_types[i].name;
	return "unknown";
}

const char *pri_bchans_default(int switchtype)
{
	for (size_t i = 0; i < NSWITCH; i++)
		if (switch_types[i].type == switchtype)
			return switch_types[i].bchans;
	return "1-23";
}

static int parse_range(const char *text, char **end, unsigned *lo, unsigned *hi)
{
	unsigned long a, b;

	a = strtoul(text, end, 10);
	if (*end == text)
		return -EINVAL;
	b = a;
	if (**end == '-') {
		text = *end + 1;
		b = strtoul(text, end, 10);
		if (*end == text)
			return -EINVAL;
	}
	if (a < 1 || b > PRI_MAX_BCHAN || a > b)
		return -EINVAL;
	*lo = a;
	*hi = b;
	return 0;
}

int pri_bchans_parse(const char *text, uint32_t *mask)
{
	char *end;
	unsigned lo, hi;

	*mask = 0;
	while (*text) {
		while (*text == ' ' || *text == ',')
			text++;
		if (!*text)
			break;
		if (parse_range(text, &end, &lo, &hi))
			return -EINVAL;
		for (unsigned c = lo; c <= hi; c++)
			*mask |= 1u << c;
		text = end;
		if (*text && *text != ',' && *text != ' ')
			return -EINVAL;
	}
	return *mask ? 0 : -EINVAL;
}

/* ---- libpri I/O and log hooks ------------------------------------------ */

/* libpri reads one frame; we hand it the one the transport delivered. */
static int dchan_read(struct pri *ctrl, void *buf, int buflen)
{
	struct pri_span *span = pri_get_userdata(ctrl);
	size_t n;

	if (!span || !span->rx_frame)
		return 0;
	n = span->rx_len < (size_t)buflen ? span->rx_len : (size_t)buflen;
	memcpy(buf, span->rx_frame, n);
	span->rx_frame = NULL;
	return (int)n;
}

/*
 * libpri counts a short write as an error and retransmits on its own
 * timers, so a frame lost on a dead line is reported as written: that is
 * what a real line does to it too.
 */
static int dchan_write(struct pri *ctrl, void *buf, int buflen)
{
	struct pri_span *span = pri_get_userdata(ctrl);

	if (!span || !span->dchan || span->alarm)
		return buflen;
	pri_count(PRI_CNT_FRAMES_TX);
	span->dchan->send(span->dchan, buf, (size_t)buflen);
	return buflen;
}

static struct pri_span *span_of_ctrl(struct pri *ctrl)
{
	for (struct pri_span *s = spans; s; s = s->next)
		if (s->ctrl == ctrl)
			return s;
	return NULL;
}

/*
 * libpri's message and error hooks are process-wide; they reach us with
 * the controller, so a line is attributed to its span. Lines from a
 * controller that is not ours (a test's peer) are logged as such.
 */
static void libpri_line(struct pri *ctrl, char *text, int is_error)
{
	struct pri_span *span = span_of_ctrl(ctrl);
	size_t n = strlen(text);
	enum tnd_log_level level;

	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	if (!n)
		return;
	if (span && span->debug)
		level = TND_LOG_INFO;
	else
		level = is_error ? TND_LOG_INFO : TND_LOG_DEBUG;
	if (!pri_host->log_enabled(TND_LOG_CATEGORY, level))
		return;
	if (span)
		tnd_log_at(level, "span %d: libpri: %.*s", span->number, (int)n,
			   text);
	else
		tnd_log_at(level, "libpri: %.*s", (int)n, text);
}

static void libpri_message(struct pri *ctrl, char *text)
{
	libpri_line(ctrl, text, 0);
}

static void libpri_error(struct pri *ctrl, char *text)
{
	libpri_line(ctrl, text, 1);
}

void pri_span_hooks(void)
{
	pri_set_message(libpri_message);
	pri_set_error(libpri_error);
}

/* ---- The scheduler ------------------------------------------------------ */

void pri_span_sched(struct pri_span *span)
{
	struct timeval *next, now;
	int64_t ms;

	if (!span->ctrl || !span->sched_timer)
		return;
	next = pri_schedule_next(span->ctrl);
	if (!next) {
		pri_host->timer_stop(span->sched_timer);
		return;
	}
	gettimeofday(&now, NULL);
	/* Round up: libpri compares against gettimeofday() itself. */
	ms = (int64_t)(next->tv_sec - now.tv_sec) * 1000 +
	     (next->tv_usec - now.tv_usec + 999) / 1000;
	pri_host->timer_start(span->sched_timer, ms > 0 ? (uint64_t)ms : 0, 0);
}

static void sched_fired(struct tnd_timer *timer, void *arg)
{
	struct pri_span *span = arg;
	pri_event *ev;

	(void)timer;
	/* Bounded: each run returns at most one event. */
	for (int i = 0; i < 64; i++) {
		ev = pri_schedule_run(span->ctrl);
		if (!ev)
			break;
		pri_event_handle(span, ev);
	}
	pri_span_sched(span);
}

/* ---- Frames in ------------------------------------------------------------
 */

void pri_span_frame_in(struct pri_span *span, const uint8_t *frame, size_t len)
{
	pri_event *ev;

	if (!span->ctrl || span->alarm)
		return;
	pri_count(PRI_CNT_FRAMES_RX);
	span->rx_frame = frame;
	span->rx_len = len;
	ev = pri_check_event(span->ctrl);
	span->rx_frame = NULL;
	if (ev)
		pri_event_handle(span, ev);
	pri_span_sched(span);
}

/* ---- B-channels -----------------------------------------------------------
 */

const char *pri_bchan_state_name(enum tnd_pri_bchan_state state)
{
	switch (state) {
	case TND_PRI_BCHAN_IDLE: return "idle";
	case TND_PRI_BCHAN_BUSY: return "busy";
	case TND_PRI_BCHAN_RESTARTING: return "restarting";
	case TND_PRI_BCHAN_MAINTENANCE: return "maintenance";
	}
	return "?";
}

static int bchan_configured(const struct pri_span *span, int bchan)
{
	return bchan >= 1 && bchan <= PRI_MAX_BCHAN &&
	       (span->bchan_mask & (1u << bchan));
}

void pri_bchan_set(struct pri_span *span, int bchan,
		   enum tnd_pri_bchan_state state, struct pri_call *call)
{
	struct pri_bchan *b;

	if (!bchan_configured(span, bchan))
		return;
	b = &span->bchan[bchan];
	if (b->state != state)
		tnd_debug("span %d bchan %d: %s -> %s", span->number, bchan,
			  pri_bchan_state_name(b->state),
			  pri_bchan_state_name(state));
	b->state = state;
	b->call = call;
}

int pri_span_free_bchans(const struct pri_span *span)
{
	int n = 0;

	for (int c = 1; c <= PRI_MAX_BCHAN; c++)
		if (bchan_configured(span, c) &&
		    span->bchan[c].state == TND_PRI_BCHAN_IDLE)
			n++;
	return n;
}

/*
 * The network side hunts upwards from the lowest channel and the user
 * side downwards from the highest, so that both ends seldom pick the same
 * idle channel at once (fewer glares, Q.931 5.7).
 */
int pri_span_pick_bchan(struct pri_span *span, int want, int exclusive)
{
	int step = span->side == PRI_SIDE_NETWORK ? 1 : -1;
	int c = step > 0 ? 1 : PRI_MAX_BCHAN;

	if (want && bchan_configured(span, want) &&
	    span->bchan[want].state == TND_PRI_BCHAN_IDLE)
		return want;
	if (want && exclusive)
		return -EBUSY;
	for (; c >= 1 && c <= PRI_MAX_BCHAN; c += step)
		if (bchan_configured(span, c) &&
		    span->bchan[c].state == TND_PRI_BCHAN_IDLE)
			return c;
	return -EBUSY;
}

/* ---- Lifecycle ------------------------------------------------------------
 */

static int span_configure(struct pri_span *span, const struct pri_span_cfg *cfg)
{
	if (pri_switch_parse(cfg->switchtype, &span->switchtype)) {
		tnd_error("span %d: unknown switchtype '%s'", span->number,
			  cfg->switchtype);
		return -EINVAL;
	}
	span->switch_name = pri_switch_name(span->switchtype);
	span->side = strcmp(cfg->side, "user") == 0 ? PRI_SIDE_USER
						    : PRI_SIDE_NETWORK;
	if (pri_bchans_parse(cfg->bchans && *cfg->bchans
				     ? cfg->bchans
				     : pri_bchans_default(span->switchtype),
			     &span->bchan_mask)) {
		tnd_error("span %d: bad B-channel list '%s'", span->number,
			  cfg->bchans);
		return -EINVAL;
	}
	span->overlap = cfg->overlap;
	span->debug = cfg->debug;
	span->noanswer_ms = cfg->noanswer_ms;
	span->restart_on_up = cfg->restart_on_up;
	return 0;
}

static void ctrl_options(struct pri_span *span, const struct pri_span_cfg *cfg)
{
	struct pri *ctrl = span->ctrl;

	/* Q.931 5.3.2 clearing instead of libpri's legacy shortcuts. */
	pri_hangup_fix_enable(ctrl, 1);
	pri_set_overlapdial(ctrl, span->overlap);
	pri_set_inbanddisconnect(ctrl, 1);
	pri_facility_enable(ctrl);
	pri_display_options_receive(ctrl,
				    PRI_DISPLAY_OPTION_TEXT |
					    PRI_DISPLAY_OPTION_NAME_INITIAL);
	if (cfg->service_messages)
		pri_set_service_message_support(ctrl, 1);
	pri_span_set_debug(span, span->debug);
}

int pri_span_new(int number, const struct pri_span_cfg *cfg,
		 struct pri_dchan *dchan, struct pri_span **out)
{
	struct pri_span *span = calloc(1, sizeof(*span));
	int rc;

	if (!span)
		return -ENOMEM;
	span->number = number;
	rc = span_configure(span, cfg);
	if (rc)
		goto fail;
	span->sched_timer = pri_host->timer_new(pri_self, sched_fired, span);
	if (!span->sched_timer) {
		rc = -ENOMEM;
		goto fail;
	}
	span->dchan = dchan;
	dchan->span = span;
	span->next = spans;
	spans = span;
	/* libpri sends its first SABME from inside pri_new_cb(). */
	span->ctrl = pri_new_cb(
		-1, span->side == PRI_SIDE_NETWORK ? PRI_NETWORK : PRI_CPE,
		span->switchtype, dchan_read, dchan_write, span);
	if (!span->ctrl) {
		spans = span->next;
		rc = -ENOMEM;
		goto fail;
	}
	ctrl_options(span, cfg);
	pri_span_sched(span);
	tnd_info("span %d: %s, %s side, B-channels %d, D-channel %s", number,
		 span->switch_name,
		 span->side == PRI_SIDE_NETWORK ? "network" : "user",
		 pri_span_free_bchans(span), dchan->kind);
	*out = span;
	return 0;
fail:
	if (span->sched_timer)
		pri_host->timer_free(span->sched_timer);
	free(span);
	return rc;
}

static void span_unlink(struct pri_span *span)
{
	for (struct pri_span **p = &spans; *p; p = &(*p)->next) {
		if (*p == span) {
			*p = span->next;
			return;
		}
	}
}

/*
 * libpri has no destructor for a controller (1.6 exports none): its memory
 * stays with the process. We stop feeding it and forget it.
 */
void pri_span_free(struct pri_span *span)
{
	while (span->calls)
		pri_call_destroy(span->calls);
	if (span->dchan)
		span->dchan->close(span->dchan);
	span->dchan = NULL;
	pri_host->timer_free(span->sched_timer);
	span_unlink(span);
	if (span->ctrl)
		pri_set_userdata(span->ctrl, NULL);
	free(span);
}

void pri_spans_free_all(void)
{
	while (spans)
		pri_span_free(spans);
}

struct pri_span *pri_span_find(int number)
{
	for (struct pri_span *s = spans; s; s = s->next)
		if (s->number == number)
			return s;
	return NULL;
}

struct pri_span *pri_span_first(void)
{
	return spans;
}

int pri_span_count(void)
{
	int n = 0;

	for (struct pri_span *s = spans; s; s = s->next)
		n++;
	return n;
}

void pri_span_set_debug(struct pri_span *span, int on)
{
	span->debug = on;
	pri_set_debug(span->ctrl, on ? PRI_DEBUG_Q931_DUMP |
						  PRI_DEBUG_Q931_STATE |
						  PRI_DEBUG_Q921_STATE |
						  PRI_DEBUG_Q931_ANOMALY
				     : 0);
}

int pri_span_restart(struct pri_span *span, int bchan)
{
	int rc = 0;

	if (!span->up)
		return -ENETDOWN;
	for (int c = 1; c <= PRI_MAX_BCHAN; c++) {
		if (!bchan_configured(span, c) || (bchan && c != bchan))
			continue;
		if (span->bchan[c].call)
			pri_call_fsm(span->bchan[c].call, PRI_CE_RESTART_IND,
				     NULL);
		if (pri_reset(span->ctrl, c))
			rc = -EIO;
		else
			pri_bchan_set(span, c, TND_PRI_BCHAN_RESTARTING, NULL);
	}
	pri_span_sched(span);
	return rc;
}

void pri_span_alarm(struct pri_span *span, int on)
{
	struct pri_call_input in = { .cause = PRI_CAUSE_NETWORK_OUT_OF_ORDER };

	if (span->alarm == !!on)
		return;
	span->alarm = !!on;
	tnd_notice("span %d: layer 1 %s", span->number,
		   on ? "alarm: clearing every call" : "alarm cleared");
	/*
	 * span->up stays libpri's view of the D-channel: a short alarm may
	 * end before Q.921 notices the loss, and then no DCHAN_UP follows.
	 * Users see the span go down with the alarm and come back with its
	 * clearing when the link is (still) up, or with DCHAN_UP later.
	 */
	if (!on) {
		if (span->up) {
			if (span->restart_on_up)
				pri_span_restart(span, 0);
			pri_emit_span(span, TND_PRI_EV_SPAN_UP, 0);
		}
		return;
	}
	while (span->calls)
		pri_call_fsm(span->calls, PRI_CE_SPAN_DOWN, &in);
	if (span->up) {
		pri_count(PRI_CNT_DCHAN_DOWN);
		pri_emit_span(span, TND_PRI_EV_SPAN_DOWN, 0);
	}
}
