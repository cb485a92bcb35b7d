/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The span layer every driver shares (see tdm_span.h): [span N] sections,
 * their checks, channel states, events, the "tdm" service and the "span"
 * control commands.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tdm_hdlc.h"
#include "tdm_span.h"

/* One driver per module: the service and the commands have no context
 * argument, so they find it here. */
static struct tdm_driver *the_drv;

#define TND_LOG_HOST the_drv->host
#define TND_LOG_CATEGORY the_drv->name

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DCHAN_RX_QUEUE_MAX 256

static const struct tnd_param common_params[] = {
	TND_PARAM("type", TND_ENUM, struct tdm_span_cfg, type, "e1",
		  "line type", .choices = "e1|t1|j1"),
	TND_PARAM("framing", TND_ENUM, struct tdm_span_cfg, framing, "auto",
		  "E1: ccs or cas; T1/J1: esf or d4 (auto: ccs on E1, esf "
		  "on T1/J1)", .choices = "auto|ccs|cas|esf|d4"),
	TND_PARAM("coding", TND_ENUM, struct tdm_span_cfg, coding, "auto",
		  "line code (auto: hdb3 on E1, b8zs on T1/J1)",
		  .choices = "auto|hdb3|ami|b8zs"),
	TND_PARAM("crc4", TND_ENUM, struct tdm_span_cfg, crc4, "auto",
		  "E1 CRC-4 multiframe (auto: yes on E1, no on T1/J1)",
		  .choices = "auto|yes|no"),
	TND_PARAM("timing", TND_UINT, struct tdm_span_cfg, timing, "0",
		  "timing source priority: 1 first, 2 next...; 0 never",
		  .min = 0, .max = TDM_MAX_SPANS),
	TND_PARAM("lbo", TND_UINT, struct tdm_span_cfg, lbo, "0",
		  "line build-out, 0 (0 dB, or 0-133 ft on T1) to 7",
		  .min = 0, .max = 7),
	TND_PARAM("bchan", TND_STR, struct tdm_span_cfg, bchan, "auto",
		  "bearer timeslots, e.g. 1-15,17-31 (auto: every timeslot "
		  "but the D-channel's)"),
	TND_PARAM("dchan", TND_STR, struct tdm_span_cfg, dchan, "auto",
		  "D-channel timeslot (auto: 16 on an E1 CCS span, 24 on "
		  "T1/J1; none: no D-channel)"),
	TND_PARAM("law", TND_ENUM, struct tdm_span_cfg, law, "auto",
		  "companding (auto: alaw on E1, ulaw on T1/J1)",
		  .choices = "auto|alaw|ulaw"),
	TND_PARAM("echocancel", TND_UINT, struct tdm_span_cfg, echocancel, "0",
		  "echo canceller taps, 8 per ms (0: off, else 32 to 1024)",
		  .min = 0, .max = 1024),
};

/* ---- Small helpers ------------------------------------------------------- */

uint8_t tdm_idle_code(enum tdm_law law)
{
	return law == TDM_LAW_ULAW ? 0xff : 0xd5; /* G.711 zero */
}

const char *tdm_state_name(enum tdm_chan_state state)
{
	static const char *const names[] = { "in-service", "out-of-service",
					     "maintenance", "blocked" };

	return (unsigned)state < ARRAY_SIZE(names) ? names[state] : "?";
}

const char *tdm_alarm_text(unsigned alarms, char *buf, size_t size)
{
	static const char *const names[] = { "LOS", "LOF", "AIS", "RAI",
					     "LOOPBACK", "NOTOPEN" };
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(alarms & (1u << i)) || used >= size)
			continue;
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 used ? " " : "", names[i]);
	}
	if (!alarms)
		snprintf(buf, size, "none");
	return buf;
}

static const char *type_name(enum tdm_span_type type)
{
	return type == TDM_SPAN_E1 ? "e1" : type == TDM_SPAN_T1 ? "t1" : "j1";
}

/* "1-15,17-31" from a bit set of timeslots. */
static const char *mask_text(uint32_t mask, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned ts = 0; ts < TDM_TIMESLOTS && used < size; ts++) {
		unsigned end = ts;

		if (!(mask & (1u << ts)))
			continue;
		while (end + 1 < TDM_TIMESLOTS && (mask & (1u << (end + 1))))
			end++;
		used += (size_t)snprintf(buf + used, size - used,
					 end > ts ? "%s%u-%u" : "%s%u",
					 used ? "," : "", ts, end);
		ts = end;
	}
	if (!mask)
		snprintf(buf, size, "-");
	return buf;
}

/* Parse "1-15,17-31" into a bit set; timeslots 1..max. 0 or -EINVAL with
 * the reason in why. */
static int parse_ranges(const char *text, unsigned max, uint32_t *mask,
			char *why, size_t why_size)
{
	const char *p = text;

	*mask = 0;
	while (*p) {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (end == p)
			goto syntax;
		p = end;
		if (*p == '-') {
			p++;
			hi = strtoul(p, &end, 10);
			if (end == p)
				goto syntax;
			p = end;
		}
		if (lo < 1 || hi > max || lo > hi) {
			snprintf(why, why_size, "timeslot %lu%s%.0lu out of "
				 "range 1..%u", lo, hi != lo ? "-" : "",
				 hi != lo ? hi : 0, max);
			return -EINVAL;
		}
		for (unsigned long ts = lo; ts <= hi; ts++)
			*mask |= 1u << ts;
		while (*p == ' ')
			p++;
		if (*p == ',')
			p++;
		else if (*p)
			goto syntax;
		while (*p == ' ')
			p++;
	}
	return 0;
syntax:
	snprintf(why, why_size, "expected timeslots like 1-15,17-31");
	return -EINVAL;
}

/* ---- Loading and checking [span N] --------------------------------------- */

/* "file:line: [span N] message" at error level. */
static void span_error(const struct tdm_span *span, const char *key,
		       const char *fmt, ...) TND_PRINTF(3, 4);

static void span_error(const struct tdm_span *span, const char *key,
		       const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	the_drv->host->config_error(span->section, key, "[%s] %s",
				    span->section, msg);
}

struct collect {
	struct tdm_driver *drv;
	int errors;
};

static int parse_number(const char *section, unsigned *no)
{
	const char *p = section + strlen("span");
	char *end;
	unsigned long n;

	while (*p == ' ')
		p++;
	n = strtoul(p, &end, 10);
	if (end == p || *end || n < 1 || n > TDM_MAX_SPANS)
		return -EINVAL;
	*no = (unsigned)n;
	return 0;
}

static int collect_span(const char *section, void *arg)
{
	struct collect *c = arg;
	struct tdm_driver *drv = c->drv;
	struct tdm_span *span;
	unsigned no;

	if (parse_number(section, &no) < 0) {
		drv->host->config_error(section, NULL, "[%s]: a span section "
					"is [span N], N from 1 to %d", section,
					TDM_MAX_SPANS);
		c->errors++;
		return 0;
	}
	span = &drv->spans[drv->nspans++];
	span->no = no;
	span->drv = drv;
	snprintf(span->section, sizeof(span->section), "%s", section);
	if (drv->host->parse_section(section, drv->params, &span->cfg) < 0) {
		memset(span, 0, sizeof(*span)); /* logged; check no further */
		drv->nspans--;
		c->errors++;
	}
	return 0;
}

static int resolve_type(struct tdm_span *span)
{
	const char *t = span->cfg.type;

	span->type = strcmp(t, "t1") == 0   ? TDM_SPAN_T1
		     : strcmp(t, "j1") == 0 ? TDM_SPAN_J1
					    : TDM_SPAN_E1;
	span->timeslots = span->type == TDM_SPAN_E1 ? 31 : 24;
	return 0;
}

static int resolve_framing(struct tdm_span *span)
{
	bool e1 = span->type == TDM_SPAN_E1;
	const char *f = span->cfg.framing;

	if (strcmp(f, "auto") == 0) {
		span->framing = e1 ? "ccs" : "esf";
		return 0;
	}
	span->framing = strcmp(f, "ccs") == 0	? "ccs"
			: strcmp(f, "cas") == 0 ? "cas"
			: strcmp(f, "esf") == 0 ? "esf"
						: "d4";
	if (e1 != (strcmp(f, "ccs") == 0 || strcmp(f, "cas") == 0)) {
		span_error(span, "framing", "framing = %s is %s; %s takes %s",
			   f, e1 ? "a T1 framing" : "an E1 framing",
			   e1 ? "an E1" : "a T1/J1",
			   e1 ? "ccs or cas" : "esf or d4");
		return -EINVAL;
	}
	return 0;
}

static int resolve_coding(struct tdm_span *span)
{
	bool e1 = span->type == TDM_SPAN_E1;
	const char *c = span->cfg.coding;

	if (strcmp(c, "auto") == 0) {
		span->coding = e1 ? "hdb3" : "b8zs";
		return 0;
	}
	span->coding = strcmp(c, "hdb3") == 0	? "hdb3"
		       : strcmp(c, "b8zs") == 0 ? "b8zs"
						: "ami";
	if ((e1 && strcmp(c, "b8zs") == 0) || (!e1 && strcmp(c, "hdb3") == 0)) {
		span_error(span, "coding", "coding = %s is for %s lines; %s "
			   "takes %s", c, e1 ? "T1/J1" : "E1",
			   e1 ? "an E1" : "a T1/J1",
			   e1 ? "hdb3 or ami" : "b8zs or ami");
		return -EINVAL;
	}
	return 0;
}

static int resolve_crc4_law(struct tdm_span *span)
{
	bool e1 = span->type == TDM_SPAN_E1;

	if (strcmp(span->cfg.crc4, "yes") == 0 && !e1) {
		span_error(span, "crc4", "crc4 = yes: CRC-4 is an E1 "
			   "multiframe; T1/J1 checks ESF frames with CRC-6 "
			   "(framing = esf)");
		return -EINVAL;
	}
	span->crc4 = e1 && strcmp(span->cfg.crc4, "no") != 0;
	if (strcmp(span->cfg.law, "auto") == 0)
		span->law = e1 ? TDM_LAW_ALAW : TDM_LAW_ULAW;
	else
		span->law = strcmp(span->cfg.law, "ulaw") == 0 ? TDM_LAW_ULAW
							       : TDM_LAW_ALAW;
	span->idle = tdm_idle_code(span->law);
	return 0;
}

static int resolve_dchan(struct tdm_span *span)
{
	bool cas = strcmp(span->framing, "cas") == 0;
	const char *d = span->cfg.dchan;
	char *end;
	unsigned long ts;

	if (strcmp(d, "auto") == 0) {
		span->dchan_ts = cas ? 0 : span->type == TDM_SPAN_E1 ? 16 : 24;
		return 0;
	}
	if (strcmp(d, "none") == 0 || strcmp(d, "0") == 0) {
		span->dchan_ts = 0;
		return 0;
	}
	ts = strtoul(d, &end, 10);
	if (end == d || *end) {
		span_error(span, "dchan", "dchan = '%s': a timeslot number "
			   "or none", d);
		return -EINVAL;
	}
	if (ts < 1 || ts > span->timeslots) {
		span_error(span, "dchan", "dchan = %lu: timeslot out of range "
			   "1..%u of %s", ts, span->timeslots,
			   span->type == TDM_SPAN_E1 ? "an E1" : "a T1/J1");
		return -EINVAL;
	}
	if (cas) {
		span_error(span, "dchan", "dchan = %lu: a CAS E1 carries its "
			   "signalling in timeslot 16 and has no D-channel "
			   "(use framing = ccs, or dchan = none)", ts);
		return -EINVAL;
	}
	span->dchan_ts = (unsigned)ts;
	return 0;
}

static int resolve_bchan(struct tdm_span *span)
{
	bool cas = strcmp(span->framing, "cas") == 0;
	uint32_t all = ((1u << span->timeslots) - 1) << 1;
	uint32_t reserved = (span->dchan_ts ? 1u << span->dchan_ts : 0) |
			    (cas ? 1u << 16 : 0);
	char why[128], text[96];

	if (strcmp(span->cfg.bchan, "auto") == 0) {
		span->bmask = all & ~reserved;
	} else if (parse_ranges(span->cfg.bchan, span->timeslots,
				&span->bmask, why, sizeof(why)) < 0) {
		span_error(span, "bchan", "bchan = %s: %s (%s has timeslots "
			   "1..%u)", span->cfg.bchan, why,
			   span->type == TDM_SPAN_E1 ? "an E1" : "a T1/J1",
			   span->timeslots);
		return -EINVAL;
	}
	if (span->dchan_ts && (span->bmask & (1u << span->dchan_ts))) {
		span_error(span, "dchan", "dchan = %u is inside bchan = %s: a "
			   "timeslot is a bearer or the D-channel, not both",
			   span->dchan_ts,
			   mask_text(span->bmask, text, sizeof(text)));
		return -EINVAL;
	}
	if (cas && (span->bmask & (1u << 16))) {
		span_error(span, "bchan", "bchan = %s includes timeslot 16, "
			   "which carries the CAS signalling of an E1",
			   span->cfg.bchan);
		return -EINVAL;
	}
	for (unsigned ts = 1; ts <= span->timeslots; ts++)
		span->nbchans += (span->bmask >> ts) & 1;
	return 0;
}

static int resolve_echocancel(struct tdm_span *span)
{
	unsigned long long taps = span->cfg.echocancel;

	if (taps != 0 && (taps < 32 || taps > 1024)) {
		span_error(span, "echocancel", "echocancel = %llu: 0 (off) or "
			   "32 to 1024 taps (8 per ms of tail)", taps);
		return -EINVAL;
	}
	return 0;
}

static int resolve_span(struct tdm_span *span)
{
	int rc = resolve_type(span);

	if (rc == 0)
		rc = resolve_framing(span);
	if (rc == 0)
		rc = resolve_coding(span);
	if (rc == 0)
		rc = resolve_crc4_law(span);
	if (rc == 0)
		rc = resolve_dchan(span);
	if (rc == 0)
		rc = resolve_bchan(span);
	if (rc == 0)
		rc = resolve_echocancel(span);
	return rc;
}

/* Two spans cannot both be the first (or n-th) choice of clock. */
static int check_timing(struct tdm_driver *drv)
{
	int errors = 0;

	for (size_t i = 0; i < drv->nspans; i++) {
		struct tdm_span *s = &drv->spans[i];

		for (size_t k = 0; s->cfg.timing && k < i; k++) {
			struct tdm_span *o = &drv->spans[k];
			char first[512];

			if (o->cfg.timing != s->cfg.timing)
				continue;
			snprintf(first, sizeof(first), "%s",
				 drv->host->where(o->section, "timing"));
			span_error(s, "timing", "timing = %llu: span %u "
				   "already claims timing priority %llu (%s); "
				   "give each span its own priority, or 0",
				   s->cfg.timing, o->no, o->cfg.timing, first);
			errors++;
			break;
		}
	}
	return errors ? -EINVAL : 0;
}

static int by_number(const void *a, const void *b)
{
	const struct tdm_span *x = a, *y = b;

	return (x->no > y->no) - (x->no < y->no);
}

static void init_channels(struct tdm_span *span)
{
	snprintf(span->name, sizeof(span->name), "%s/%u", span->drv->name,
		 span->no);
	span->alarms = TDM_ALARM_NOTOPEN;
	for (unsigned ts = 0; ts < TDM_TIMESLOTS; ts++) {
		struct tdm_chan_pub *c = &span->chan[ts];

		span->bchan[ts].span = span;
		span->bchan[ts].ts = ts;
		c->kind = (span->bmask & (1u << ts)) ? TDM_CHAN_BEARER
			  : (ts && ts == span->dchan_ts) ? TDM_CHAN_DCHAN
							: TDM_CHAN_UNUSED;
		c->state = TDM_CHAN_OUT_OF_SERVICE;
	}
	span->dchan.span = span;
	span->dchan.fd = span->dchan.our_fd = -1;
	pthread_mutex_init(&span->dchan.rx_lock, NULL);
	span->dchan.rx_tail = &span->dchan.rx_head;
}

static int build_params(struct tdm_driver *drv)
{
	size_t extra = 0, n = ARRAY_SIZE(common_params);

	while (drv->ops->span_params && drv->ops->span_params[extra].name)
		extra++;
	drv->params = calloc(n + extra + 1, sizeof(*drv->params));
	if (!drv->params)
		return -ENOMEM;
	memcpy(drv->params, common_params, sizeof(common_params));
	if (extra)
		memcpy(drv->params + n, drv->ops->span_params,
		       extra * sizeof(*drv->params));
	return 0;
}

int tdm_spans_load(struct tdm_driver *drv)
{
	struct collect c = { .drv = drv };
	int errors = 0;

	the_drv = drv;
	atomic_store(&drv->alive, true);
	pthread_mutex_init(&drv->media_lock, NULL);
	if (build_params(drv) < 0)
		return -ENOMEM;
	drv->spans = calloc(TDM_MAX_SPANS, sizeof(*drv->spans));
	if (!drv->spans)
		return -ENOMEM;
	drv->host->for_each_section("span", collect_span, &c);
	qsort(drv->spans, drv->nspans, sizeof(*drv->spans), by_number);
	for (size_t i = 0; i < drv->nspans; i++) {
		if (resolve_span(&drv->spans[i]) < 0)
			errors++;
		else
			init_channels(&drv->spans[i]);
	}
	if (c.errors || errors)
		return -EINVAL;
	if (check_timing(drv) < 0)
		return -EINVAL;
	if (drv->ops->check && drv->ops->check(drv) < 0)
		return -EINVAL;
	return 0;
}

struct tdm_span *tdm_span_find(struct tdm_driver *drv, unsigned no)
{
	for (size_t i = 0; drv && i < drv->nspans; i++)
		if (drv->spans[i].no == no)
			return &drv->spans[i];
	return NULL;
}

static void dchan_drop_queue(struct tdm_dchan *d)
{
	pthread_mutex_lock(&d->rx_lock);
	while (d->rx_head) {
		struct tdm_frame *f = d->rx_head;

		d->rx_head = f->next;
		free(f);
	}
	d->rx_tail = &d->rx_head;
	d->rx_count = 0;
	pthread_mutex_unlock(&d->rx_lock);
}

void tdm_spans_free(struct tdm_driver *drv)
{
	atomic_store(&drv->alive, false);
	for (size_t i = 0; drv->spans && i < drv->nspans; i++) {
		struct tdm_dchan *d = &drv->spans[i].dchan;

		if (d->span) {
			dchan_drop_queue(d);
			pthread_mutex_destroy(&d->rx_lock);
		}
	}
	while (drv->watches) {
		struct tdm_watch *w = drv->watches;

		drv->watches = w->next;
		free(w);
	}
	while (drv->tickers) {
		struct tdm_ticker *t = drv->tickers;

		drv->tickers = t->next;
		free(t);
	}
	free(drv->spans);
	free(drv->params);
	drv->spans = NULL;
	drv->params = NULL;
	drv->nspans = 0;
}

/* ---- Events and states (loop) -------------------------------------------- */

static void emit(const struct tdm_event *ev)
{
	struct tdm_watch *w = the_drv->watches, *next;

	for (; w; w = next) {
		next = w->next; /* a watcher may unwatch itself */
		w->cb(ev, w->arg);
	}
}

static enum tdm_chan_state derive_state(const struct tdm_span *span,
					const struct tdm_chan_pub *c)
{
	if (c->blocked)
		return TDM_CHAN_BLOCKED;
	if (span->loopback || (span->alarms & TDM_ALARM_LOOPBACK))
		return TDM_CHAN_MAINTENANCE;
	if (span->alarms & TDM_ALARM_SERVICE_AFFECTING)
		return TDM_CHAN_OUT_OF_SERVICE;
	return TDM_CHAN_IN_SERVICE;
}

static void update_states(struct tdm_span *span)
{
	unsigned changed = 0;
	enum tdm_chan_state last = TDM_CHAN_IN_SERVICE;

	for (unsigned ts = 1; ts < TDM_TIMESLOTS; ts++) {
		struct tdm_chan_pub *c = &span->chan[ts];
		enum tdm_chan_state state;
		struct tdm_event ev = { .type = TDM_EVENT_CHAN_STATE };

		if (c->kind == TDM_CHAN_UNUSED)
			continue;
		state = derive_state(span, c);
		if (state == c->state)
			continue;
		tnd_debug("span %u channel %u: %s -> %s", span->no, ts,
			  tdm_state_name(c->state), tdm_state_name(state));
		c->state = last = state;
		changed++;
		ev.span = span->no;
		ev.ts = ts;
		ev.state = state;
		emit(&ev);
	}
	if (changed > 1)
		tnd_info("span %u: %u channels now %s", span->no, changed,
			 tdm_state_name(last));
}

static unsigned default_clock_span(struct tdm_driver *drv)
{
	const struct tdm_span *best = NULL;
	unsigned bad = TDM_ALARM_LOS | TDM_ALARM_LOF | TDM_ALARM_AIS |
		       TDM_ALARM_NOTOPEN;

	for (size_t i = 0; i < drv->nspans; i++) {
		const struct tdm_span *s = &drv->spans[i];

		if (!s->cfg.timing || (s->alarms & bad))
			continue;
		if (!best || s->cfg.timing < best->cfg.timing)
			best = s;
	}
	return best ? best->no : 0;
}

void tdm_clock_update(struct tdm_driver *drv)
{
	unsigned now = drv->ops->clock_span ? drv->ops->clock_span(drv)
					    : default_clock_span(drv);
	struct tdm_event ev = { .type = TDM_EVENT_CLOCK, .clock_span = now };

	if (now == drv->clock_span)
		return;
	if (now)
		tnd_notice("clock source: span %u", now);
	else
		tnd_notice("clock source: free run (no span can time the "
			   "node)");
	drv->clock_span = now;
	emit(&ev);
}

void tdm_span_set_alarms(struct tdm_span *span, unsigned alarms)
{
	struct tdm_event ev = { .type = TDM_EVENT_ALARM, .span = span->no,
				.alarms = alarms };
	char text[64];

	if (alarms == span->alarms)
		return;
	span->alarms = alarms;
	tdm_alarm_text(alarms, text, sizeof(text));
	if (alarms == TDM_ALARM_NOTOPEN)
		tnd_info("span %u: stopped", span->no);
	else if (alarms)
		tnd_notice("span %u: alarms %s", span->no, text);
	else
		tnd_notice("span %u: alarms cleared", span->no);
	emit(&ev);
	update_states(span);
	tdm_clock_update(span->drv);
}

/* ---- D-channel delivery (worker -> loop) --------------------------------- */

static void deliver_dchan(struct tdm_span *span);

/* On the loop: everything the worker queued since the last call. */
static void on_posted(void *arg)
{
	struct tdm_driver *drv = arg;

	if (!atomic_load(&drv->alive))
		return; /* queued before the driver's fini */
	atomic_store(&drv->posted, false);
	for (size_t i = 0; i < drv->nspans; i++)
		deliver_dchan(&drv->spans[i]);
	if (drv->ops->on_loop)
		drv->ops->on_loop(drv);
}

void tdm_post(struct tdm_driver *drv)
{
	if (atomic_exchange(&drv->posted, true))
		return;
	if (drv->host->call_on_loop(on_posted, drv) < 0)
		atomic_store(&drv->posted, false); /* shutting down */
}

void tdm_dchan_rx(struct tdm_span *span, const uint8_t *frame, size_t len)
{
	struct tdm_dchan *d = &span->dchan;
	struct tdm_frame *f;

	if (len > TDM_DCHAN_MAX_FRAME) {
		tdm_dchan_error(span, TDM_DCHAN_OVERRUN);
		return;
	}
	atomic_fetch_add(&span->counters.rx_frames, 1);
	pthread_mutex_lock(&d->rx_lock);
	if (!d->open || d->rx_count >= DCHAN_RX_QUEUE_MAX ||
	    !(f = malloc(sizeof(*f) + len))) {
		pthread_mutex_unlock(&d->rx_lock);
		atomic_fetch_add(&span->counters.rx_dropped, 1);
		return;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->data, frame, len);
	*d->rx_tail = f;
	d->rx_tail = &f->next;
	d->rx_count++;
	pthread_mutex_unlock(&d->rx_lock);
	tdm_post(span->drv);
}

void tdm_dchan_error(struct tdm_span *span, enum tdm_dchan_error err)
{
	struct tdm_dchan *d = &span->dchan;

	if (err == TDM_DCHAN_BAD_FCS)
		atomic_fetch_add(&span->counters.bad_fcs, 1);
	else if (err == TDM_DCHAN_ABORT)
		atomic_fetch_add(&span->counters.hdlc_aborts, 1);
	pthread_mutex_lock(&d->rx_lock);
	if ((unsigned)err < ARRAY_SIZE(d->rx_errors))
		d->rx_errors[err]++;
	pthread_mutex_unlock(&d->rx_lock);
	tdm_post(span->drv);
}

/* The file descriptor form: a frame and its FCS, as DAHDI reads it. */
static void dchan_to_fd(struct tdm_span *span, const struct tdm_frame *f)
{
	uint8_t buf[TDM_DCHAN_MAX_FRAME + TDM_FCS_LEN];

	memcpy(buf, f->data, f->len);
	hdlc_fcs_append(f->data, f->len, buf + f->len);
	if (send(span->dchan.our_fd, buf, f->len + TDM_FCS_LEN,
		 MSG_DONTWAIT) < 0)
		atomic_fetch_add(&span->counters.rx_dropped, 1);
}

static void deliver_errors(struct tdm_span *span, const unsigned *counts)
{
	for (unsigned e = 1; e <= TDM_DCHAN_OVERRUN; e++) {
		struct tdm_event ev = { .type = TDM_EVENT_DCHAN_ERROR,
					.span = span->no,
					.error = (enum tdm_dchan_error)e };

		for (unsigned n = 0; n < counts[e]; n++)
			emit(&ev);
		if (counts[e])
			tnd_info("span %u: %u D-channel frame(s) lost (%s)",
				 span->no, counts[e],
				 e == TDM_DCHAN_BAD_FCS ? "bad FCS"
				 : e == TDM_DCHAN_ABORT ? "abort"
							: "overrun");
	}
}

static void deliver_dchan(struct tdm_span *span)
{
	struct tdm_dchan *d = &span->dchan;
	unsigned errors[ARRAY_SIZE(d->rx_errors)];
	struct tdm_frame *list;

	if (!span->dchan_ts)
		return;
	pthread_mutex_lock(&d->rx_lock);
	list = d->rx_head;
	d->rx_head = NULL;
	d->rx_tail = &d->rx_head;
	d->rx_count = 0;
	memcpy(errors, d->rx_errors, sizeof(errors));
	memset(d->rx_errors, 0, sizeof(d->rx_errors));
	pthread_mutex_unlock(&d->rx_lock);
	while (list) {
		struct tdm_frame *f = list;

		list = f->next;
		if (d->open && d->our_fd >= 0)
			dchan_to_fd(span, f);
		else if (d->open && d->rx_cb)
			d->rx_cb(d, f->data, f->len, d->rx_arg);
		free(f);
	}
	deliver_errors(span, errors);
}

/* ---- The media worker ---------------------------------------------------- */

static bool on_worker(const struct tdm_driver *drv)
{
	return drv->worker_running &&
	       pthread_equal(pthread_self(), drv->worker);
}

void tdm_media_lock(struct tdm_driver *drv)
{
	if (!on_worker(drv))
		pthread_mutex_lock(&drv->media_lock);
}

void tdm_media_unlock(struct tdm_driver *drv)
{
	if (!on_worker(drv))
		pthread_mutex_unlock(&drv->media_lock);
}

void tdm_bchan_deliver(struct tdm_bchan *ch, const uint8_t *block)
{
	if (ch->open && ch->rx_cb)
		ch->rx_cb(ch, block, ch->rx_arg);
}

void tdm_clock_advance(struct tdm_driver *drv, unsigned samples)
{
	uint64_t now = atomic_fetch_add(&drv->samples, samples) + samples;

	drv->tick_samples += samples;
	while (drv->tick_samples >= TDM_BLOCK_SAMPLES) {
		drv->tick_samples -= TDM_BLOCK_SAMPLES;
		for (struct tdm_ticker *t = drv->tickers; t; t = t->next)
			t->cb(now, t->arg);
	}
}

/* ---- The service --------------------------------------------------------- */

static unsigned svc_span_next(unsigned after)
{
	for (size_t i = 0; i < the_drv->nspans; i++)
		if (the_drv->spans[i].no > after)
			return the_drv->spans[i].no;
	return 0;
}

static void fill_info(const struct tdm_span *s, struct tdm_span_info *i)
{
	i->span = s->no;
	i->driver = s->drv->name;
	i->name = s->name;
	i->type = s->type;
	i->law = s->law;
	i->framing = s->framing;
	i->coding = s->coding;
	i->crc4 = s->crc4;
	i->timing = (unsigned)s->cfg.timing;
	i->lbo = (unsigned)s->cfg.lbo;
	i->alarms = s->alarms;
	i->clock_source = s->no == s->drv->clock_span;
	i->timeslots = s->timeslots;
	i->dchan = s->dchan_ts;
	i->nbchans = s->nbchans;
	i->echocancel = (unsigned)s->cfg.echocancel;
}

static int svc_span_info(unsigned no, struct tdm_span_info *info)
{
	struct tdm_span *s = tdm_span_find(the_drv, no);
	struct tdm_span_info full = { .size = sizeof(full) };
	size_t size;

	if (!s)
		return -ENOENT;
	if (!info || info->size < sizeof(size_t))
		return -EINVAL;
	if (the_drv->ops->refresh)
		the_drv->ops->refresh(s);
	fill_info(s, &full);
	size = info->size < sizeof(full) ? info->size : sizeof(full);
	memcpy((char *)info + sizeof(size_t), (char *)&full + sizeof(size_t),
	       size - sizeof(size_t));
	return 0;
}

static void fill_stats(struct tdm_span *s, struct tdm_span_stats *st)
{
	struct tdm_counters *c = &s->counters;

	if (s->drv->ops->line_stats)
		s->drv->ops->line_stats(s, st);
	st->hdlc_aborts += atomic_load(&c->hdlc_aborts);
	st->bad_fcs += atomic_load(&c->bad_fcs);
	st->rx_frames += atomic_load(&c->rx_frames);
	st->tx_frames += atomic_load(&c->tx_frames);
	st->tx_underruns += atomic_load(&c->tx_underruns);
	st->tx_overruns += atomic_load(&c->tx_overruns);
}

static int svc_span_stats(unsigned no, struct tdm_span_stats *stats)
{
	struct tdm_span *s = tdm_span_find(the_drv, no);
	struct tdm_span_stats full = { .size = sizeof(full) };
	size_t size;

	if (!s)
		return -ENOENT;
	if (!stats || stats->size < sizeof(size_t))
		return -EINVAL;
	if (the_drv->ops->refresh)
		the_drv->ops->refresh(s);
	fill_stats(s, &full);
	size = stats->size < sizeof(full) ? stats->size : sizeof(full);
	memcpy((char *)stats + sizeof(size_t),
	       (char *)&full + sizeof(size_t), size - sizeof(size_t));
	return 0;
}

static int svc_chan_info(unsigned no, unsigned ts, enum tdm_chan_kind *kind,
			 enum tdm_chan_state *state)
{
	struct tdm_span *s = tdm_span_find(the_drv, no);

	if (!s || ts < 1 || ts > s->timeslots)
		return -ENOENT;
	if (kind)
		*kind = s->chan[ts].kind;
	if (state)
		*state = s->chan[ts].state;
	return 0;
}

static int svc_watch(tdm_event_cb cb, void *arg)
{
	struct tdm_watch *w;

	if (!cb)
		return -EINVAL;
	for (w = the_drv->watches; w; w = w->next)
		if (w->cb == cb && w->arg == arg)
			return -EEXIST;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->cb = cb;
	w->arg = arg;
	w->next = the_drv->watches;
	the_drv->watches = w;
	return 0;
}

static void svc_unwatch(tdm_event_cb cb, void *arg)
{
	for (struct tdm_watch **pp = &the_drv->watches; *pp;
	     pp = &(*pp)->next) {
		struct tdm_watch *w = *pp;

		if (w->cb == cb && w->arg == arg) {
			*pp = w->next;
			free(w);
			return;
		}
	}
}

static int svc_bchan_open(unsigned no, unsigned ts, tdm_bchan_rx_cb cb,
			  void *arg, struct tdm_bchan **out)
{
	struct tdm_span *s = tdm_span_find(the_drv, no);
	struct tdm_bchan *ch;
	int rc = 0;

	if (!s || ts < 1 || ts > s->timeslots)
		return -ENOENT;
	if (s->chan[ts].kind != TDM_CHAN_BEARER || !cb || !out)
		return -EINVAL;
	ch = &s->bchan[ts];
	tdm_media_lock(the_drv);
	if (ch->open) {
		rc = -EBUSY;
	} else {
		ch->rx_cb = cb;
		ch->rx_arg = arg;
		ch->open = true;
	}
	tdm_media_unlock(the_drv);
	if (rc == 0)
		*out = ch;
	return rc;
}

static int svc_bchan_write(struct tdm_bchan *ch, const uint8_t *block,
			   size_t len)
{
	if (!ch || !block || len != TDM_BLOCK_SAMPLES)
		return -EINVAL;
	return the_drv->ops->bchan_write(ch, block);
}

static void svc_bchan_close(struct tdm_bchan *ch)
{
	if (!ch)
		return;
	tdm_media_lock(the_drv);
	ch->open = false;
	ch->rx_cb = NULL;
	ch->rx_arg = NULL;
	tdm_media_unlock(the_drv);
}

static int svc_dchan_open(unsigned no, tdm_dchan_rx_cb cb, void *arg,
			  struct tdm_dchan **out)
{
	struct tdm_span *s = tdm_span_find(the_drv, no);
	struct tdm_dchan *d;

	if (!s)
		return -ENOENT;
	if (!s->dchan_ts || !out)
		return -EINVAL;
	d = &s->dchan;
	if (d->open)
		return -EBUSY;
	dchan_drop_queue(d);
	pthread_mutex_lock(&d->rx_lock);
	d->rx_cb = cb;
	d->rx_arg = arg;
	d->open = true;
	pthread_mutex_unlock(&d->rx_lock);
	*out = d;
	return 0;
}

static int svc_dchan_send(struct tdm_dchan *d, const uint8_t *frame,
			  size_t len)
{
	int rc;

	if (!d || !d->open || !frame || len == 0 || len > TDM_DCHAN_MAX_FRAME)
		return -EINVAL;
	if (d->span->alarms & TDM_ALARM_NOTOPEN)
		return -ENETDOWN;
	rc = the_drv->ops->dchan_send(d->span, frame, len);
	if (rc == 0)
		atomic_fetch_add(&d->span->counters.tx_frames, 1);
	return rc;
}

/* A frame the user wrote on the descriptor: the last two octets are room
 * for the FCS. */
static void dchan_fd_readable(struct tnd_io *io, int fd, int events,
			      void *arg)
{
	struct tdm_dchan *d = arg;
	uint8_t buf[TDM_DCHAN_MAX_FRAME + TDM_FCS_LEN + 1];

	(void)io;
	if (events < 0)
		return;
	for (int n = 0; n < 64; n++) {
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (len < 0)
			break;
		if (len == 0) { /* the user closed its end */
			the_drv->host->io_stop(d->io);
			break;
		}
		if (len <= TDM_FCS_LEN ||
		    len > TDM_DCHAN_MAX_FRAME + TDM_FCS_LEN) {
			tnd_info("span %u: dropped a D-channel write of %zd "
				 "octets (a frame and 2 FCS octets)",
				 d->span->no, len);
			continue;
		}
		if (svc_dchan_send(d, buf, (size_t)len - TDM_FCS_LEN) < 0)
			atomic_fetch_add(&d->span->counters.tx_overruns, 1);
	}
}

static int svc_dchan_fd(struct tdm_dchan *d)
{
	int sv[2];

	if (!d || !d->open)
		return -EINVAL;
	if (d->fd >= 0)
		return d->fd;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0, sv) < 0)
		return -errno;
	d->io = the_drv->host->io_new(the_drv->self, sv[1], dchan_fd_readable,
				      d);
	if (!d->io || the_drv->host->io_start(d->io, TND_IO_READ) < 0) {
		the_drv->host->io_free(d->io);
		d->io = NULL;
		close(sv[0]);
		close(sv[1]);
		return -ENOMEM;
	}
	d->fd = sv[0];
	d->our_fd = sv[1];
	return d->fd;
}

static void svc_dchan_close(struct tdm_dchan *d)
{
	if (!d || !d->open)
		return;
	pthread_mutex_lock(&d->rx_lock);
	d->open = false;
	d->rx_cb = NULL;
	pthread_mutex_unlock(&d->rx_lock);
	dchan_drop_queue(d);
	if (d->io)
		the_drv->host->io_free(d->io);
	d->io = NULL;
	if (d->fd >= 0)
		close(d->fd);
	if (d->our_fd >= 0)
		close(d->our_fd);
	d->fd = d->our_fd = -1;
}

static uint64_t svc_clock_samples(void)
{
	return atomic_load(&the_drv->samples);
}

static int svc_ticker_open(tdm_tick_cb cb, void *arg, struct tdm_ticker **out)
{
	struct tdm_ticker *t;

	if (!cb || !out)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cb = cb;
	t->arg = arg;
	tdm_media_lock(the_drv);
	t->next = the_drv->tickers;
	the_drv->tickers = t;
	tdm_media_unlock(the_drv);
	*out = t;
	return 0;
}

static void svc_ticker_close(struct tdm_ticker *t)
{
	struct tdm_ticker **pp;

	if (!t)
		return;
	tdm_media_lock(the_drv);
	for (pp = &the_drv->tickers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	tdm_media_unlock(the_drv);
	free(t);
}

static int svc_chan_block(unsigned no, unsigned ts, int blocked)
{
	struct tdm_span *s = tdm_span_find(the_drv, no);

	if (!s || ts < 1 || ts > s->timeslots)
		return -ENOENT;
	if (s->chan[ts].kind != TDM_CHAN_BEARER)
		return -EINVAL;
	if (s->chan[ts].blocked != !!blocked)
		tnd_info("span %u channel %u %s", no, ts,
			 blocked ? "blocked" : "unblocked");
	s->chan[ts].blocked = !!blocked;
	update_states(s);
	return 0;
}

static int svc_span_loopback(unsigned no, int on)
{
	struct tdm_span *s = tdm_span_find(the_drv, no);
	int rc;

	if (!s)
		return -ENOENT;
	rc = the_drv->ops->loopback(s, !!on);
	if (rc < 0)
		return rc;
	if (s->loopback != !!on)
		tnd_notice("span %u: loopback %s", no, on ? "on" : "off");
	s->loopback = !!on;
	update_states(s);
	return 0;
}

static const struct tdm_service tdm_service = {
	.size = sizeof(struct tdm_service),
	.span_next = svc_span_next,
	.span_info = svc_span_info,
	.span_stats = svc_span_stats,
	.chan_info = svc_chan_info,
	.watch = svc_watch,
	.unwatch = svc_unwatch,
	.bchan_open = svc_bchan_open,
	.bchan_write = svc_bchan_write,
	.bchan_close = svc_bchan_close,
	.dchan_open = svc_dchan_open,
	.dchan_send = svc_dchan_send,
	.dchan_fd = svc_dchan_fd,
	.dchan_close = svc_dchan_close,
	.clock_samples = svc_clock_samples,
	.ticker_open = svc_ticker_open,
	.ticker_close = svc_ticker_close,
	.chan_block = svc_chan_block,
	.span_loopback = svc_span_loopback,
};

int tdm_register(struct tdm_driver *drv)
{
	int rc = drv->host->service_register(drv->self, TDM_SERVICE,
					     TDM_SERVICE_VERSION, &tdm_service);

	if (rc == -EEXIST)
		tnd_error("another span driver already provides the tdm "
			  "service: load one span driver per node");
	return rc;
}

/* Close what users left open and stop delivering. Loop thread, after the
 * worker has stopped. */
void tdm_stop(struct tdm_driver *drv)
{
	for (size_t i = 0; i < drv->nspans; i++) {
		struct tdm_span *s = &drv->spans[i];

		svc_dchan_close(&s->dchan);
		for (unsigned ts = 0; ts < TDM_TIMESLOTS; ts++)
			svc_bchan_close(&s->bchan[ts]);
	}
	drv->running = false;
}

/* ---- Control commands ---------------------------------------------------- */

struct tdm_span *tdm_cmd_span(struct tnd_reply *r, const char *text)
{
	char *end;
	unsigned long no = strtoul(text, &end, 10);
	struct tdm_span *s = NULL;

	if (end != text && !*end)
		s = tdm_span_find(the_drv, (unsigned)no);
	if (!s)
		the_drv->host->reply_error(r, "no span '%s' (span show lists "
					   "them)", text);
	return s;
}

static void show_summary(struct tnd_reply *r, struct tdm_span *s)
{
	const struct tnd_host_api *h = the_drv->host;
	char text[64];
	unsigned in_service = 0;

	for (unsigned ts = 1; ts <= s->timeslots; ts++)
		in_service += s->chan[ts].kind == TDM_CHAN_BEARER &&
			      s->chan[ts].state == TDM_CHAN_IN_SERVICE;
	h->reply_record(r);
	h->reply_field_num(r, "span", s->no);
	h->reply_field(r, "name", "%s", s->name);
	h->reply_field(r, "type", "%s", type_name(s->type));
	h->reply_field(r, "framing", "%s", s->framing);
	h->reply_field(r, "coding", "%s", s->coding);
	h->reply_field(r, "alarms", "%s",
		       tdm_alarm_text(s->alarms, text, sizeof(text)));
	h->reply_field_num(r, "timing", (long long)s->cfg.timing);
	h->reply_field(r, "clock", "%s",
		       s->no == the_drv->clock_span ? "source" : "-");
	h->reply_field_num(r, "bchans", s->nbchans);
	h->reply_field_num(r, "in_service", in_service);
	h->reply_field(r, "dchan", "%s",
		       s->dchan_ts ? tdm_state_name(s->chan[s->dchan_ts].state)
				   : "-");
}

static uint32_t state_mask(const struct tdm_span *s, enum tdm_chan_state st)
{
	uint32_t mask = 0;

	for (unsigned ts = 1; ts <= s->timeslots; ts++)
		if (s->chan[ts].kind == TDM_CHAN_BEARER &&
		    s->chan[ts].state == st)
			mask |= 1u << ts;
	return mask;
}

static void show_counters(struct tnd_reply *r, struct tdm_span *s)
{
	const struct tnd_host_api *h = the_drv->host;
	struct tdm_span_stats st = { .size = sizeof(st) };

	fill_stats(s, &st);
	h->reply_field_num(r, "slips", (long long)st.slips);
	h->reply_field_num(r, "crc_errors", (long long)st.crc_errors);
	h->reply_field_num(r, "fas_errors", (long long)st.fas_errors);
	h->reply_field_num(r, "bpv", (long long)st.bpv);
	h->reply_field_num(r, "hdlc_aborts", (long long)st.hdlc_aborts);
	h->reply_field_num(r, "bad_fcs", (long long)st.bad_fcs);
	h->reply_field_num(r, "rx_frames", (long long)st.rx_frames);
	h->reply_field_num(r, "tx_frames", (long long)st.tx_frames);
	h->reply_field_num(r, "alarm_count", (long long)st.alarm_count);
	h->reply_field_num(r, "tx_underruns", (long long)st.tx_underruns);
	h->reply_field_num(r, "tx_overruns", (long long)st.tx_overruns);
}

static void show_detail(struct tnd_reply *r, struct tdm_span *s)
{
	const struct tnd_host_api *h = the_drv->host;
	char text[128];

	h->reply_field_num(r, "span", s->no);
	h->reply_field(r, "name", "%s", s->name);
	h->reply_field(r, "type", "%s", type_name(s->type));
	h->reply_field(r, "framing", "%s", s->framing);
	h->reply_field(r, "coding", "%s", s->coding);
	h->reply_field(r, "crc4", "%s", s->crc4 ? "yes" : "no");
	h->reply_field(r, "law", "%s",
		       s->law == TDM_LAW_ALAW ? "alaw" : "ulaw");
	h->reply_field_num(r, "lbo", (long long)s->cfg.lbo);
	h->reply_field_num(r, "echocancel", (long long)s->cfg.echocancel);
	h->reply_field(r, "alarms", "%s",
		       tdm_alarm_text(s->alarms, text, sizeof(text)));
	h->reply_field(r, "loopback", "%s", s->loopback ? "on" : "off");
	h->reply_field_num(r, "timing", (long long)s->cfg.timing);
	if (the_drv->clock_span)
		h->reply_field(r, "clock_source", "span %u",
			       the_drv->clock_span);
	else
		h->reply_field(r, "clock_source", "free run");
	h->reply_field(r, "bchan", "%s",
		       mask_text(s->bmask, text, sizeof(text)));
	if (s->dchan_ts)
		h->reply_field(r, "dchan", "%u %s", s->dchan_ts,
			       tdm_state_name(s->chan[s->dchan_ts].state));
	else
		h->reply_field(r, "dchan", "-");
	for (int st = TDM_CHAN_IN_SERVICE; st <= TDM_CHAN_BLOCKED; st++) {
		char key[32];

		snprintf(key, sizeof(key), "%s",
			 tdm_state_name((enum tdm_chan_state)st));
		for (char *p = key; *p; p++)
			*p = *p == '-' ? '_' : *p;
		h->reply_field(r, key, "%s",
			       mask_text(state_mask(s,
						    (enum tdm_chan_state)st),
					 text, sizeof(text)));
	}
	show_counters(r, s);
}

int tdm_cmd_show(struct tnd_reply *r, int argc, char **argv)
{
	struct tdm_span *s;

	if (argc > 1)
		return the_drv->host->reply_error(r, "usage: span show [N]");
	if (argc == 0) {
		for (size_t i = 0; i < the_drv->nspans; i++) {
			if (the_drv->ops->refresh)
				the_drv->ops->refresh(&the_drv->spans[i]);
			show_summary(r, &the_drv->spans[i]);
		}
		if (!the_drv->nspans)
			the_drv->host->reply_text(r, "no spans configured\n");
		return 0;
	}
	s = tdm_cmd_span(r, argv[0]);
	if (!s)
		return -ENOENT;
	if (the_drv->ops->refresh)
		the_drv->ops->refresh(s);
	show_detail(r, s);
	return 0;
}

int tdm_cmd_loopback(struct tnd_reply *r, int argc, char **argv)
{
	struct tdm_span *s;
	int rc;

	if (argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off")))
		return the_drv->host->reply_error(r, "usage: span loopback N "
						  "on|off");
	s = tdm_cmd_span(r, argv[0]);
	if (!s)
		return -ENOENT;
	rc = svc_span_loopback(s->no, strcmp(argv[1], "on") == 0);
	if (rc < 0)
		return the_drv->host->reply_error(r, "span %u: loopback "
						  "failed: %s", s->no,
						  strerror(-rc));
	the_drv->host->reply_field_num(r, "span", s->no);
	the_drv->host->reply_field(r, "loopback", "%s", argv[1]);
	return 0;
}

static int block_cmd(struct tnd_reply *r, int argc, char **argv, int blocked)
{
	const char *usage = blocked ? "usage: span block N CHAN"
				    : "usage: span unblock N CHAN";
	struct tdm_span *s;
	uint32_t mask;
	char why[128], text[96];

	if (argc != 2)
		return the_drv->host->reply_error(r, "%s", usage);
	s = tdm_cmd_span(r, argv[0]);
	if (!s)
		return -ENOENT;
	if (parse_ranges(argv[1], s->timeslots, &mask, why, sizeof(why)) < 0)
		return the_drv->host->reply_error(r, "%s: %s", argv[1], why);
	if (mask & ~s->bmask)
		return the_drv->host->reply_error(r, "span %u: %s %s not a "
			"bearer channel (bchan %s)", s->no,
			mask_text(mask & ~s->bmask, text, sizeof(text)),
			(mask & ~s->bmask) & ((mask & ~s->bmask) - 1) ? "are"
								     : "is",
			mask_text(s->bmask, why, sizeof(why)));
	for (unsigned ts = 1; ts <= s->timeslots; ts++)
		if (mask & (1u << ts))
			svc_chan_block(s->no, ts, blocked);
	tnd_notice("span %u: channels %s %s by the operator", s->no,
		   mask_text(mask, text, sizeof(text)),
		   blocked ? "blocked" : "unblocked");
	the_drv->host->reply_field_num(r, "span", s->no);
	the_drv->host->reply_field(r, blocked ? "blocked" : "unblocked", "%s",
				   mask_text(mask, text, sizeof(text)));
	return 0;
}

int tdm_cmd_block(struct tnd_reply *r, int argc, char **argv)
{
	return block_cmd(r, argc, argv, 1);
}

int tdm_cmd_unblock(struct tnd_reply *r, int argc, char **argv)
{
	return block_cmd(r, argc, argv, 0);
}
