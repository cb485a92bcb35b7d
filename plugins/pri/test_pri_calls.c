/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pri call logic against a second libpri instance (the peer) over a
 * SOCK_SEQPACKET socketpair, driven by a stand-in host loop. The "app" is
 * what the MGCF will be: the subscriber of the pri service. Every switch
 * type sets up and clears calls both ways, on both sides; then overlap,
 * busy, no answer, all channels busy, RESTART, glare, alarm. The logged
 * state machine transitions are diffed against test_pri_calls.ok
 * (PRI_TRACE_WRITE=path rewrites it: `make pri-ok`).
 *
 * No assertion depends on time: waits are bounded (5 s) loops on a
 * condition.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "pri_int.h"
#include "tap.h"
#include "test_pri_host.h"

#define WAIT_MS 5000
#define WAIT(cond)                                                             \
	({                                                                     \
		uint64_t end_ = th_now_ms() + WAIT_MS;                         \
		while (!(cond) && th_now_ms() < end_)                          \
			th_turn();                                             \
		(cond);                                                        \
	})

/* ---- The peer: plain libpri, the far end of the span ----------------------
 */

enum peer_policy { PEER_NONE, PEER_ANSWER, PEER_REJECT44, PEER_ACCEPT_OVERLAP };

struct peer {
	struct pri *ctrl;
	int fd;
	struct tnd_io *io;
	struct tnd_timer *timer;
	enum peer_policy policy;
	int up;
	q931_call *call;
	int ring_chan, ring_complete;
	int rings, answers, alerts, proceedings, progresses, setup_acks;
	int hangup_reqs, hangups, hangup_acks, restart_acks;
	int cause;
	char digits[64];
};

static struct peer peer;

static void copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void append_cut(char *dst, size_t size, const char *src)
{
	size_t have = strlen(dst);

	copy_cut(dst + have, size - have, src);
}

static void peer_sched(void)
{
	struct timeval *next = pri_schedule_next(peer.ctrl), now;
	int64_t ms;

	if (!next) {
		th_api.timer_stop(peer.timer);
		return;
	}
	gettimeofday(&now, NULL);
	ms = (int64_t)(next->tv_sec - now.tv_sec) * 1000 +
	     (next->tv_usec - now.tv_usec + 999) / 1000;
	th_api.timer_start(peer.timer, ms > 0 ? (uint64_t)ms : 0, 0);
}

static int chan_of(int channel)
{
	return channel < 0 ? 0 : (channel & 0xff) == 0xff ? 0 : channel & 0xff;
}

static void peer_ring(const pri_event_ring *ring)
{
	peer.rings++;
	peer.call = ring->call;
	peer.ring_chan = chan_of(ring->channel);
	peer.ring_complete = ring->complete;
	copy_cut(peer.digits, sizeof(peer.digits), ring->callednum);
	switch (peer.policy) {
	case PEER_ANSWER:
		pri_proceeding(peer.ctrl, ring->call, peer.ring_chan, 0);
		pri_acknowledge(peer.ctrl, ring->call, peer.ring_chan, 0);
		pri_answer(peer.ctrl, ring->call, peer.ring_chan, 0);
		break;
	case PEER_REJECT44:
		pri_hangup(peer.ctrl, ring->call,
			   PRI_CAUSE_REQUESTED_CHAN_UNAVAIL);
		break;
	case PEER_ACCEPT_OVERLAP:
		pri_setup_ack(peer.ctrl, ring->call, peer.ring_chan, 0, 0);
		break;
	case PEER_NONE: break;
	}
}

static void peer_event(pri_event *ev)
{
	switch (ev->e) {
	case PRI_EVENT_DCHAN_UP: peer.up = 1; break;
	case PRI_EVENT_DCHAN_DOWN: peer.up = 0; break;
	case PRI_EVENT_RING: peer_ring(&ev->ring); break;
	case PRI_EVENT_INFO_RECEIVED:
		append_cut(peer.digits, sizeof(peer.digits),
			   ev->ring.callednum);
		peer.ring_complete = ev->ring.complete;
		break;
	case PRI_EVENT_ANSWER: peer.answers++; break;
	case PRI_EVENT_RINGING: peer.alerts++; break;
	case PRI_EVENT_PROCEEDING: peer.proceedings++; break;
	case PRI_EVENT_PROGRESS: peer.progresses++; break;
	case PRI_EVENT_SETUP_ACK: peer.setup_acks++; break;
	case PRI_EVENT_HANGUP_REQ:
		peer.hangup_reqs++;
		peer.cause = ev->hangup.cause;
		pri_hangup(peer.ctrl, ev->hangup.call, ev->hangup.cause);
		break;
	case PRI_EVENT_HANGUP:
		peer.hangups++;
		peer.cause = ev->hangup.cause;
		pri_hangup(peer.ctrl, ev->hangup.call, ev->hangup.cause);
		break;
	case PRI_EVENT_HANGUP_ACK: peer.hangup_acks++; break;
	case PRI_EVENT_RESTART_ACK: peer.restart_acks++; break;
	}
}

static void peer_readable(struct tnd_io *io, int fd, int events, void *arg)
{
	pri_event *ev;

	(void)io, (void)fd, (void)events, (void)arg;
	ev = pri_check_event(peer.ctrl);
	if (ev)
		peer_event(ev);
	peer_sched();
}

static void peer_timer(struct tnd_timer *t, void *arg)
{
	pri_event *ev;

	(void)t, (void)arg;
	for (int i = 0; i < 16 && (ev = pri_schedule_run(peer.ctrl)); i++)
		peer_event(ev);
	peer_sched();
}

/* The peer places a call. */
static q931_call *peer_call(const char *called, int chan, int exclusive,
			    int complete)
{
	q931_call *c = pri_new_call(peer.ctrl);
	struct pri_sr *sr = pri_sr_new();

	pri_sr_set_channel(sr, chan, exclusive, 0);
	pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH, PRI_LAYER_1_ALAW);
	pri_sr_set_called(sr, (char *)called, 0x21, complete);
	pri_sr_set_caller(sr, "5551000", "Alice", 0x21, 0);
	if (pri_setup(peer.ctrl, c, sr))
		c = NULL;
	pri_sr_free(sr);
	peer_sched();
	return c;
}

/* ---- The app: the pri service's subscriber (the MGCF to be)
 * ------------------ */

enum app_policy { APP_NONE, APP_ANSWER, APP_BUSY, APP_ANSWER_AT_4 };

struct app {
	enum app_policy policy;
	uint32_t call;
	int setups, setup_acks, infos, proceedings, alerts, progresses;
	int connects, disconnects, releases, restarts, span_ups, span_downs;
	int cause, inband, bchan, overlap, restart_bchan;
	char digits[64];
};

static struct app app;

static void app_answer(uint32_t id)
{
	pri_service.alert(id, 0);
	pri_service.answer(id);
}

static void app_setup(const struct tnd_pri_event *ev)
{
	app.setups++;
	app.call = ev->call;
	app.bchan = ev->bchan;
	app.overlap = ev->setup->overlap;
	snprintf(app.digits, sizeof(app.digits), "%s",
		 ev->setup->called.digits);
	if (app.policy == APP_ANSWER)
		app_answer(ev->call);
	else if (app.policy == APP_BUSY)
		pri_service.release(ev->call, PRI_CAUSE_USER_BUSY);
	else if (app.policy == APP_ANSWER_AT_4 && strlen(app.digits) >= 4)
		app_answer(ev->call);
}

static void app_event(const struct tnd_pri_event *ev, void *arg)
{
	(void)arg;
	switch (ev->type) {
	case TND_PRI_EV_SETUP: app_setup(ev); break;
	case TND_PRI_EV_INFO:
		app.infos++;
		append_cut(app.digits, sizeof(app.digits), ev->digits);
		if (app.policy == APP_ANSWER_AT_4 && strlen(app.digits) >= 4)
			app_answer(ev->call);
		break;
	case TND_PRI_EV_SETUP_ACK: app.setup_acks++; break;
	case TND_PRI_EV_PROCEEDING: app.proceedings++; break;
	case TND_PRI_EV_ALERTING:
		app.alerts++;
		app.inband = ev->inband;
		break;
	case TND_PRI_EV_PROGRESS:
		app.progresses++;
		app.inband = ev->inband;
		break;
	case TND_PRI_EV_CONNECT:
		app.connects++;
		app.bchan = ev->bchan;
		break;
	case TND_PRI_EV_DISCONNECT:
		app.disconnects++;
		app.cause = ev->cause;
		break;
	case TND_PRI_EV_RELEASE:
		app.releases++;
		app.cause = ev->cause;
		break;
	case TND_PRI_EV_RESTART:
		app.restarts++;
		app.restart_bchan = ev->bchan;
		break;
	case TND_PRI_EV_SPAN_UP: app.span_ups++; break;
	case TND_PRI_EV_SPAN_DOWN: app.span_downs++; break;
	default: break;
	}
}

/* ---- The lab: one span and its peer ----------------------------------------
 */

static struct pri_span *span;

struct lab_opts {
	const char *switchtype;
	const char *side;
	int overlap;
	const char *bchans;
	unsigned noanswer_ms;
};

static int lab_open(const struct lab_opts *o)
{
	char sw[32], side[16], bchans[32], dchan[] = "fd";
	struct pri_span_cfg cfg = { 0 };
	struct pri_dchan *dc;
	int sv[2], type;

	snprintf(sw, sizeof(sw), "%s", o->switchtype);
	snprintf(side, sizeof(side), "%s", o->side);
	snprintf(bchans, sizeof(bchans), "%s", o->bchans ? o->bchans : "");
	cfg.switchtype = sw;
	cfg.side = side;
	cfg.bchans = bchans;
	cfg.dchan = dchan;
	cfg.overlap = o->overlap;
	cfg.noanswer_ms = o->noanswer_ms;
	memset(&peer, 0, sizeof(peer));
	memset(&app, 0, sizeof(app));
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		return -1;
	dc = pri_dchan_fd(sv[0]);
	if (!dc || pri_span_new(1, &cfg, dc, &span))
		return -1;
	pri_switch_parse(sw, &type);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	peer.fd = sv[1];
	peer.ctrl = pri_new(
		sv[1], strcmp(side, "network") == 0 ? PRI_CPE : PRI_NETWORK,
		type);
	pri_set_overlapdial(peer.ctrl, o->overlap);
	pri_hangup_fix_enable(peer.ctrl, 1);
	peer.io = th_api.io_new(&th_self, sv[1], peer_readable, NULL);
	th_api.io_start(peer.io, TND_IO_READ);
	peer.timer = th_api.timer_new(&th_self, peer_timer, NULL);
	peer_sched();
	return WAIT(span->up && peer.up) ? 0 : -1;
}

static void lab_close(void)
{
	if (span)
		pri_span_free(span);
	span = NULL;
	th_api.io_free(peer.io);
	th_api.timer_free(peer.timer);
	close(peer.fd);
}

static int span_idle(void)
{
	return span->calls == NULL &&
	       pri_span_free_bchans(span) ==
		       __builtin_popcount(span->bchan_mask);
}

/* ---- Calls for every switch type
 * ---------------------------------------------- */

static const char *const switch_names[] = {
	"euroisdn_e1", "euroisdn_t1", "ni2",  "ni1",
	"dms100",      "4ess",	      "5ess", "qsig",
};

/* We call the peer; it answers; we clear. */
static void call_out(const char *what)
{
	struct tnd_pri_setup s = { .span = 1 };
	uint32_t id = 0;
	int rc;

	snprintf(s.called.digits, sizeof(s.called.digits), "2000");
	snprintf(s.calling.digits, sizeof(s.calling.digits), "5551234");
	s.called.npi = s.calling.npi = 1;
	peer.policy = PEER_ANSWER;
	rc = pri_service.call(&s, &id);
	ok(rc == 0 && WAIT(app.connects == 1) && peer.rings == 1 &&
		   strcmp(peer.digits, "2000") == 0,
	   "%s: outgoing call answered (rc %d)", what, rc);
	pri_service.release(id, PRI_CAUSE_NORMAL_CLEARING);
	ok(WAIT(app.releases == 1 && span_idle() && peer.hangup_reqs == 1) &&
		   app.cause == 16 && peer.cause == 16,
	   "%s: and cleared by us, cause 16", what);
}

/* The peer calls us; we answer; it clears. */
static void call_in(const char *what)
{
	q931_call *c;

	app.policy = APP_ANSWER;
	c = peer_call("3000", 0, 0, 1);
	ok(c && WAIT(peer.answers == 1) && app.setups == 1 &&
		   strcmp(app.digits, "3000") == 0,
	   "%s: incoming call answered", what);
	pri_hangup(peer.ctrl, c, PRI_CAUSE_NORMAL_CLEARING);
	peer_sched();
	ok(WAIT(app.releases == 1 && span_idle() && peer.hangups == 1) &&
		   app.disconnects == 1 && app.cause == 16,
	   "%s: and cleared by the peer, cause 16", what);
}

static void reset_counts(void)
{
	memset(&app, 0, sizeof(app));
	peer.rings = peer.answers = peer.alerts = peer.proceedings = 0;
	peer.progresses = peer.setup_acks = peer.hangup_reqs = 0;
	peer.hangups = peer.hangup_acks = peer.restart_acks = 0;
	peer.cause = 0;
	peer.policy = PEER_NONE;
}

static void switch_types(void)
{
	for (size_t i = 0; i < sizeof(switch_names) / sizeof(*switch_names);
	     i++) {
		for (int user = 0; user < 2; user++) {
			struct lab_opts o = { .switchtype = switch_names[i],
					      .side = user ? "user"
							   : "network" };
			char what[64];

			snprintf(what, sizeof(what), "%s %s", o.switchtype,
				 o.side);
			th_trace_note("# %s", what);
			if (!ok(lab_open(&o) == 0, "%s: D-channel up", what)) {
				lab_close();
				continue;
			}
			call_out(what);
			reset_counts();
			call_in(what);
			lab_close();
		}
	}
}

/* ---- Scenarios on EuroISDN E1
 * ------------------------------------------------ */

static int open_e1(const char *title, const char *side, int overlap,
		   const char *bchans, unsigned noanswer_ms)
{
	struct lab_opts o = { .switchtype = "euroisdn_e1",
			      .side = side,
			      .overlap = overlap,
			      .bchans = bchans,
			      .noanswer_ms = noanswer_ms };

	th_trace_note("# %s", title);
	reset_counts();
	if (!ok(lab_open(&o) == 0, "%s: D-channel up", title)) {
		lab_close();
		return -1;
	}
	return 0;
}

static uint32_t place(const char *digits, int bchan, int exclusive, int overlap,
		      int *rc)
{
	struct tnd_pri_setup s = { .span = 1,
				   .bchan = bchan,
				   .exclusive = exclusive,
				   .overlap = overlap };
	uint32_t id = 0;

	snprintf(s.called.digits, sizeof(s.called.digits), "%s", digits);
	snprintf(s.calling.digits, sizeof(s.calling.digits), "5551234");
	*rc = pri_service.call(&s, &id);
	return id;
}

/* Q.931 5.1.3 overlap sending: SETUP without Sending Complete, SETUP ACK,
 * then one INFORMATION per digit; digits given before the SETUP ACK wait. */
static void overlap_out(void)
{
	uint32_t id;
	int rc;

	if (open_e1("overlap sending", "user", 1, NULL, 0))
		return;
	peer.policy = PEER_ACCEPT_OVERLAP;
	id = place("12", 0, 0, 1, &rc);
	pri_service.info(id, "3");
	ok(rc == 0 && WAIT(app.setup_acks == 1) && peer.ring_complete == 0,
	   "overlap sending: SETUP without Sending Complete, SETUP ACK back");
	pri_service.info(id, "4");
	ok(WAIT(strcmp(peer.digits, "1234") == 0),
	   "overlap sending: the peer has 1234 (%s)", peer.digits);
	pri_answer(peer.ctrl, peer.call, peer.ring_chan, 0);
	peer_sched();
	ok(WAIT(app.connects == 1), "overlap sending: answered");
	pri_service.release(id, PRI_CAUSE_NORMAL_CLEARING);
	ok(WAIT(app.releases == 1 && span_idle()), "overlap sending: cleared");
	lab_close();
}

/* Q.931 5.2.4 overlap receiving: we SETUP ACK, digits come as INFO. */
static void overlap_in(void)
{
	q931_call *c;

	if (open_e1("overlap receiving", "network", 1, NULL, 0))
		return;
	app.policy = APP_ANSWER_AT_4;
	c = peer_call("12", 0, 0, 0);
	ok(WAIT(peer.setup_acks == 1) && app.setups == 1 && app.overlap,
	   "overlap receiving: SETUP ACK sent, SETUP offered as overlap");
	pri_information(peer.ctrl, c, '3');
	pri_information(peer.ctrl, c, '4');
	peer_sched();
	ok(WAIT(peer.answers == 1) && app.infos == 2 &&
		   strcmp(app.digits, "1234") == 0,
	   "overlap receiving: two INFO events, 1234, answered (%s)",
	   app.digits);
	pri_hangup(peer.ctrl, c, PRI_CAUSE_NORMAL_CLEARING);
	peer_sched();
	ok(WAIT(app.releases == 1 && span_idle()),
	   "overlap receiving: cleared");
	lab_close();
}

static void busy(void)
{
	uint32_t id;
	int rc;

	if (open_e1("busy", "network", 0, NULL, 0))
		return;
	id = place("2000", 0, 0, 0, &rc);
	ok(rc == 0 && WAIT(peer.rings == 1), "busy out: the peer is offered");
	pri_proceeding(peer.ctrl, peer.call, peer.ring_chan, 0);
	pri_hangup(peer.ctrl, peer.call, PRI_CAUSE_USER_BUSY);
	peer_sched();
	ok(WAIT(app.releases == 1 && span_idle()) && app.disconnects == 1 &&
		   app.cause == PRI_CAUSE_USER_BUSY,
	   "busy out: DISCONNECT then RELEASE, cause 17 (%d)", app.cause);
	(void)id;
	reset_counts();
	app.policy = APP_BUSY;
	peer_call("3000", 0, 0, 1);
	ok(WAIT(peer.hangup_reqs == 1 && span_idle()) &&
		   peer.cause == PRI_CAUSE_USER_BUSY && app.releases == 1,
	   "busy in: we reject with cause 17, the peer sees 17 (%d)",
	   peer.cause);
	lab_close();
}

static void no_answer(void)
{
	uint32_t id;
	int rc;

	if (open_e1("no answer", "network", 0, NULL, 50))
		return;
	id = place("2000", 0, 0, 0, &rc);
	ok(rc == 0 && WAIT(peer.rings == 1), "no answer: the peer is offered");
	pri_acknowledge(peer.ctrl, peer.call, peer.ring_chan, 1);
	peer_sched();
	ok(WAIT(app.alerts == 1) && app.inband == 1,
	   "no answer: ALERTING with in-band ringback");
	ok(WAIT(app.releases == 1 && span_idle() && peer.hangup_reqs == 1) &&
		   app.cause == PRI_CAUSE_NO_ANSWER &&
		   peer.cause == PRI_CAUSE_NO_ANSWER,
	   "no answer: cleared with cause 19 (%d, peer %d)", app.cause,
	   peer.cause);
	(void)id;
	lab_close();
}

static void all_busy(void)
{
	q931_call *c[3];
	uint32_t id;
	int rc;

	if (open_e1("all B-channels busy", "network", 0, "1-2", 0))
		return;
	app.policy = APP_ANSWER;
	for (int i = 0; i < 3; i++)
		c[i] = peer_call("3000", 0, 0, 1);
	ok(WAIT(peer.answers == 2 && peer.hangups == 1) &&
		   peer.cause == PRI_CAUSE_NORMAL_CIRCUIT_CONGESTION,
	   "all busy: two calls answered, the third cleared with cause 34 "
	   "(%d)",
	   peer.cause);
	id = place("2000", 0, 0, 0, &rc);
	ok(rc == -EBUSY && id == 0, "all busy: our call() says -EBUSY");
	ok(th_counter("rejected_nochan") >= 1, "all busy: counted");
	for (int i = 0; i < 2; i++)
		pri_hangup(peer.ctrl, c[i], PRI_CAUSE_NORMAL_CLEARING);
	peer_sched();
	ok(WAIT(app.releases == 2 && span_idle()), "all busy: both cleared");
	lab_close();
}

static void restart_from_peer(void)
{
	int rc;

	if (open_e1("RESTART from the far end", "network", 0, NULL, 0))
		return;
	peer.policy = PEER_ANSWER;
	place("2000", 5, 1, 0, &rc);
	ok(rc == 0 && WAIT(app.connects == 1) && peer.ring_chan == 5,
	   "restart: a call on B-channel 5");
	pri_reset(peer.ctrl, 5);
	peer_sched();
	ok(WAIT(peer.restart_acks == 1 && app.releases == 1) &&
		   app.restarts == 1 && app.restart_bchan == 5 && span_idle(),
	   "restart: RESTART ACK sent, the call released, channel idle");
	lab_close();
}

/* Q.931 5.7: both ends seize B-channel 1 at once; the network wins. */
static void glare(const char *side)
{
	char title[64];
	q931_call *c;
	int rc;

	snprintf(title, sizeof(title), "glare, we are the %s side", side);
	if (open_e1(title, side, 0, NULL, 0))
		return;
	app.policy = APP_ANSWER;
	peer.policy =
		strcmp(side, "network") == 0 ? PEER_ANSWER : PEER_REJECT44;
	place("2000", 1, 1, 0, &rc);
	c = peer_call("3000", 1, 1, 1);
	if (strcmp(side, "network") == 0) {
		ok(rc == 0 && c &&
			   WAIT(app.connects == 1 && peer.hangups == 1) &&
			   peer.cause == PRI_CAUSE_REQUESTED_CHAN_UNAVAIL,
		   "%s: our call wins, the peer's gets cause 44 (%d)", title,
		   peer.cause);
	} else {
		ok(rc == 0 && c &&
			   WAIT(peer.answers == 1 && app.releases == 1) &&
			   app.cause == PRI_CAUSE_REQUESTED_CHAN_UNAVAIL &&
			   app.bchan == 1,
		   "%s: the network's call takes channel 1, ours gets 44 (%d)",
		   title, app.cause);
	}
	lab_close();
}

static void alarm_mid_call(void)
{
	int rc;

	if (open_e1("span alarm mid-call", "network", 0, NULL, 0))
		return;
	peer.policy = PEER_ANSWER;
	place("2000", 0, 0, 0, &rc);
	ok(rc == 0 && WAIT(app.connects == 1), "alarm: a call is up");
	pri_span_alarm(span, 1);
	ok(app.releases == 1 && app.cause == PRI_CAUSE_NETWORK_OUT_OF_ORDER &&
		   app.span_downs == 1 && span_idle(),
	   "alarm: the call is released with cause 38, span down");
	place("2000", 0, 0, 0, &rc);
	ok(rc == -ENETDOWN, "alarm: no call while the span is down");
	app.span_ups = 0;
	pri_span_alarm(span, 0);
	ok(app.span_ups == 1, "alarm cleared: the span is up again");
	place("2000", 0, 0, 0, &rc);
	ok(rc == 0 && WAIT(app.connects == 2), "alarm cleared: calls again");
	lab_close();
}

static void progress_and_rules(void)
{
	uint32_t id;
	int rc;

	if (open_e1("progress, and what the state table refuses", "network", 0,
		    NULL, 0))
		return;
	id = place("2000", 0, 0, 0, &rc);
	ok(rc == 0 && WAIT(peer.rings == 1), "progress: the peer is offered");
	ok(pri_service.answer(id) == -EPERM,
	   "rules: answer() on our own outgoing call is refused");
	ok(pri_service.info(id, "5") == -EPERM,
	   "rules: info() on an en bloc call is refused");
	pri_proceeding(peer.ctrl, peer.call, peer.ring_chan, 0);
	pri_progress(peer.ctrl, peer.call, peer.ring_chan, 1);
	peer_sched();
	ok(WAIT(app.progresses == 1) && app.inband == 1,
	   "progress: PROGRESS with in-band information");
	ok(pri_service.release(id, 0) == -EINVAL,
	   "rules: cause 0 is not a Q.850 cause");
	ok(pri_service.release(id, PRI_CAUSE_NORMAL_CLEARING) == 0 &&
		   WAIT(app.releases == 1 && span_idle()),
	   "progress: cleared");
	ok(pri_service.release(id, 16) == -ENOENT,
	   "rules: a released call's id is stale");
	lab_close();
}

static void fsm_table(void)
{
	ok(pri_call_may_go(PRI_CS_NULL, PRI_CS_OUT_SETUP) &&
		   !pri_call_may_go(PRI_CS_NULL, PRI_CS_ACTIVE) &&
		   !pri_call_may_go(PRI_CS_RELEASED, PRI_CS_NULL) &&
		   pri_call_may_go(PRI_CS_RELEASING, PRI_CS_RELEASED),
	   "fsm: the state table allows what Q.931 allows");
}

/* The trace of every transition, against the expected one. */
static void check_trace(FILE *trace)
{
	const char *ok_path = getenv("PRI_TRACE_OK");
	const char *write_path = getenv("PRI_TRACE_WRITE");
	static char got[1 << 18], want[1 << 18];
	size_t ngot, nwant = 0;
	FILE *f;

	rewind(trace);
	ngot = fread(got, 1, sizeof(got) - 1, trace);
	got[ngot] = '\0';
	if (write_path && (f = fopen(write_path, "w"))) {
		fwrite(got, 1, ngot, f);
		fclose(f);
	}
	if (ok_path && (f = fopen(ok_path, "r"))) {
		nwant = fread(want, 1, sizeof(want) - 1, f);
		fclose(f);
	}
	want[nwant] = '\0';
	if (!ok(nwant && strcmp(got, want) == 0,
		"fsm: the transition trace matches test_pri_calls.ok")) {
		FILE *out = fopen("test_pri_calls.trace", "w");

		if (out) {
			fwrite(got, 1, ngot, out);
			fclose(out);
		}
		printf("# got a different trace: see test_pri_calls.trace "
		       "(diff it; `make pri-ok` accepts it)\n");
	}
}

int main(void)
{
	FILE *trace = tmpfile();

	if (pri_core_init(&th_api, &th_self))
		return 1;
	pri_service.subscribe(app_event, &app);
	th_trace_to(trace);
	switch_types();
	overlap_out();
	overlap_in();
	busy();
	no_answer();
	all_busy();
	restart_from_peer();
	glare("network");
	glare("user");
	alarm_mid_call();
	progress_and_rules();
	fsm_table();
	check_trace(trace);
	ok(th_errors() == 0, "no errors logged (%d)", th_errors());
	pri_core_fini();
	fclose(trace);
	tap_plan(tap_count);
	return tap_done();
}
