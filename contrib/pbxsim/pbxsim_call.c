/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pbxsim_call: calls and extensions. An incoming SETUP is offered to the
 * extension its called number names; the extension answers (silent, a
 * tone, an echo), rings, is busy or rejects with a cause. A call we place
 * ("dial") plays what its calling extension plays once it is answered.
 * Events go to stdout, one a line, for scripts (README.md lists them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbxsim.h"

static struct pbx_call *calls;
static struct pbx_call *last_dialled;
static int last_call_id;
static uint64_t n_in, n_out, n_answered, n_released, n_failed;

/* A channel number from libpri's form (span << 8 | channel, 0xff: any). */
static int chan_of(int c)
{
	return c < 0 ? 0 : (c & 0xff) == 0xff ? 0 : c & 0xff;
}

static struct pbx_call *find_call(struct pbx_span *s, q931_call *q)
{
	for (struct pbx_call *c = calls; c; c = c->next)
		if (c->span == s && c->q == q)
			return c;
	return NULL;
}

static const char *action_name(enum pbx_action a)
{
	static const char *const names[] = { "answer", "tone", "echo",
					     "ring", "busy", "reject", "fax" };

	return names[a];
}

static struct pbx_call *call_new(struct pbx_span *s, q931_call *q, bool out)
{
	struct pbx_call *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->id = ++last_call_id;
	c->span = s;
	c->q = q;
	c->out = out;
	c->started_ms = pbx_now_ms();
	c->next = calls;
	calls = c;
	return c;
}

/* The call's B-channel, once known: its audio and detector start fresh. */
static void call_bind(struct pbx_call *c, int chan)
{
	struct pbx_chan *ch;

	if (!chan || chan == c->chan || chan >= PBX_TIMESLOTS)
		return;
	if (c->chan && c->span->chan[c->chan].call == c)
		c->span->chan[c->chan].call = NULL;
	c->chan = chan;
	ch = &c->span->chan[chan];
	ch->call = c;
	ch->echo_count = 0;
	pbx_detect_reset(&ch->det);
}

static void call_free(struct pbx_call *c)
{
	struct pbx_call **p;

	if (c->chan && c->span->chan[c->chan].call == c)
		c->span->chan[c->chan].call = NULL;
	for (p = &calls; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	if (last_dialled == c)
		last_dialled = NULL;
	free(c);
}

static void released(struct pbx_call *c, int cause)
{
	pbx_say("released %d %d %d", cause, c->chan, c->span->no);
	n_released++;
	if (!c->up)
		n_failed++;
	call_free(c);
}

static void answered(struct pbx_call *c)
{
	c->up = true;
	c->ringback = false;
	n_answered++;
	if (pbx_hold_ms >= 0)
		c->hangup_at = pbx_now_ms() + (uint64_t)pbx_hold_ms;
	if (c->ext && c->ext->hangup_ms)
		c->hangup_at = pbx_now_ms() + (uint64_t)c->ext->hangup_ms;
}

/* ---- Incoming calls -------------------------------------------------------- */

static int reject_cause(const struct pbx_ext *e, const char *number)
{
	size_t n = strlen(number);

	if (e->action == ACT_BUSY)
		return PRI_CAUSE_USER_BUSY;
	if (e->cause)
		return e->cause;
	return atoi(number + (n > 3 ? n - 3 : 0)); /* cause = digits */
}

static void answer_now(struct pbx_call *c)
{
	pri_answer(c->span->pri, c->q, c->chan, 0);
	answered(c);
	pbx_say("answered %d %s %d", c->chan, action_name(c->ext->action),
		c->span->no);
}

/* The called number is complete and names extension `e`. */
static void offer(struct pbx_call *c, const struct pbx_ext *e)
{
	struct pri *pri = c->span->pri;

	c->ext = e;
	pri_proceeding(pri, c->q, c->chan, 0);
	if (e->action == ACT_BUSY || e->action == ACT_REJECT) {
		pri_hangup(pri, c->q, reject_cause(e, c->called));
		return;
	}
	if (e->progress) {
		pri_progress(pri, c->q, c->chan, 1);
		c->ringback = true;
	}
	pri_acknowledge(pri, c->q, c->chan, e->inband);
	c->ringback = c->ringback || e->inband;
	if (e->action == ACT_RING)
		return;
	if (e->answer_ms)
		c->answer_at = pbx_now_ms() + (uint64_t)e->answer_ms;
	else
		answer_now(c);
}

static void on_ring(struct pbx_span *s, pri_event_ring *r)
{
	const struct pbx_ext *e = pbx_ext_find(r->callednum);
	int chan = chan_of(r->channel);
	struct pbx_call *c;

	pbx_say("ring %s %s %d %d pres=%d", r->callednum,
		r->callingnum[0] ? r->callingnum : "-", chan, s->no,
		(r->callingpres >> 5) & 3);
	n_in++;
	c = call_new(s, r->call, false);
	if (!c) {
		pri_hangup(s->pri, r->call, PRI_CAUSE_SWITCH_CONGESTION);
		return;
	}
	call_bind(c, chan);
	snprintf(c->called, sizeof(c->called), "%.32s", r->callednum);
	snprintf(c->calling, sizeof(c->calling), "%.32s", r->callingnum);
	if (e && (!e->prefix || r->complete)) {
		offer(c, e);
		return;
	}
	if (!r->complete && (!e || e->prefix)) {
		/* overlap receiving: ask for the rest (Q.931 5.2.4) */
		pri_need_more_info(s->pri, r->call, chan, 0);
		return;
	}
	pri_proceeding(s->pri, r->call, chan, 0);
	pri_hangup(s->pri, r->call, PRI_CAUSE_UNALLOCATED);
}

static void on_digits(struct pbx_span *s, pri_event_ring *r)
{
	struct pbx_call *c = find_call(s, r->call);
	const struct pbx_ext *e;
	size_t n;

	pbx_say("digits %s", r->callednum);
	if (!c || c->ext || c->out)
		return;
	n = strlen(c->called);
	snprintf(c->called + n, sizeof(c->called) - n, "%s", r->callednum);
	e = pbx_ext_find(c->called);
	if (e && (!e->prefix || r->complete ||
		  strlen(c->called) >= strlen(e->number) + 3))
		offer(c, e);
}

/* ---- Events ------------------------------------------------------------------ */

static void on_hangup(struct pbx_span *s, q931_call *q, int cause, bool ack)
{
	struct pbx_call *c = find_call(s, q);

	if (!ack)
		pri_hangup(s->pri, q, cause);
	if (c)
		released(c, cause);
}

static void on_call_event(struct pbx_span *s, pri_event *ev)
{
	struct pbx_call *c;

	switch (ev->e) {
	case PRI_EVENT_PROCEEDING:
		c = find_call(s, ev->proceeding.call);
		if (c)
			call_bind(c, chan_of(ev->proceeding.channel));
		pbx_say("proceeding %d %d", c ? c->chan : 0, s->no);
		break;
	case PRI_EVENT_SETUP_ACK:
		c = find_call(s, ev->setup_ack.call);
		if (c)
			call_bind(c, chan_of(ev->setup_ack.channel));
		pbx_say("setup_ack %d %d", c ? c->chan : 0, s->no);
		break;
	case PRI_EVENT_RINGING:
		c = find_call(s, ev->ringing.call);
		if (c)
			call_bind(c, chan_of(ev->ringing.channel));
		pbx_say("alerting %d %s %d", c ? c->chan : 0,
			ev->ringing.progressmask & PRI_PROG_INBAND_AVAILABLE ?
				"inband" : "-", s->no);
		break;
	case PRI_EVENT_PROGRESS:
		c = find_call(s, ev->proceeding.call);
		pbx_say("progress %d %d", c ? c->chan : 0, s->no);
		break;
	case PRI_EVENT_ANSWER:
		c = find_call(s, ev->answer.call);
		if (!c)
			break;
		call_bind(c, chan_of(ev->answer.channel));
		answered(c);
		pbx_say("answered %d %d", c->chan, s->no);
		break;
	}
}

void pbx_event(struct pbx_span *s, pri_event *ev)
{
	switch (ev->e) {
	case PRI_EVENT_DCHAN_UP:
		s->up = true;
		pbx_say("up %d", s->no);
		break;
	case PRI_EVENT_DCHAN_DOWN:
		s->up = false;
		pbx_say("down %d", s->no);
		break;
	case PRI_EVENT_RING:
		on_ring(s, &ev->ring);
		break;
	case PRI_EVENT_INFO_RECEIVED:
		on_digits(s, &ev->ring);
		break;
	case PRI_EVENT_HANGUP_REQ:
	case PRI_EVENT_HANGUP:
		on_hangup(s, ev->hangup.call, ev->hangup.cause, false);
		break;
	case PRI_EVENT_HANGUP_ACK:
		on_hangup(s, ev->hangup.call, ev->hangup.cause, true);
		break;
	case PRI_EVENT_RESTART:
		pbx_say("restart %d %d", chan_of(ev->restart.channel), s->no);
		break;
	default:
		on_call_event(s, ev);
		break;
	}
}

/* The link went away: libpri's calls on it are gone with it. */
void pbx_span_lost(struct pbx_span *s)
{
	struct pbx_call *c = calls, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->span == s)
			released(c, PRI_CAUSE_NETWORK_OUT_OF_ORDER);
	}
}

/* ---- Bearer audio -------------------------------------------------------------- */

void pbx_block_rx(struct pbx_span *s, unsigned ts, const uint8_t *block)
{
	struct pbx_chan *ch = &s->chan[ts];
	struct pbx_call *c = ch->call;
	double dbm0 = 0;
	int hz;

	if (!c)
		return;
	if (c->up && c->ext && c->ext->action == ACT_ECHO &&
	    ch->echo_count < PBX_ECHO_BLOCKS) {
		memcpy(ch->echo[(ch->echo_head + ch->echo_count) %
				PBX_ECHO_BLOCKS],
		       block, PBX_BLOCK);
		ch->echo_count++;
	}
	if (c->up) {
		char digit = pbx_dtmf_detect(&ch->dtmf, block, s->ulaw);

		if (digit)
			pbx_say("dtmf %u %c %d", ts, digit, s->no);
	}
	hz = pbx_detect_block(&ch->det, block, s->ulaw, &dbm0);
	if (hz > 0 && abs(hz - ch->det.reported_hz) > 15) {
		ch->det.reported_hz = hz;
		pbx_say("tone %u %d %.0f %d", ts, hz, dbm0, s->no);
	} else if (hz < 0) {
		ch->det.reported_hz = 0;
	}
}

void pbx_block_tx(struct pbx_span *s, unsigned ts, uint8_t *block)
{
	struct pbx_chan *ch = &s->chan[ts];
	struct pbx_call *c = ch->call;
	uint8_t idle = s->ulaw ? 0xff : 0xd5;

	if (c && c->ringback && !c->up) {
		if (c->ext && c->ext->early_tone)
			pbx_tone_block(c->ext->tone_hz, &c->phase, s->ulaw,
				       block);
		else
			pbx_ringback_block(&c->phase, s->ulaw, block);
		return;
	}
	if (c && c->up && ch->dtmf_out[0]) {
		/* Q.24: 100 ms of the digit, 100 ms of silence */
		pbx_dtmf_block(ch->dtmf_blocks < 5 ? ch->dtmf_out[0] : 0,
			       &ch->dtmf_phase, s->ulaw, block);
		if (++ch->dtmf_blocks == 10) {
			ch->dtmf_blocks = 0;
			memmove(ch->dtmf_out, ch->dtmf_out + 1,
				strlen(ch->dtmf_out));
		}
		return;
	}
	if (!c || !c->up || !c->ext) {
		memset(block, idle, PBX_BLOCK);
		return;
	}
	if (c->ext->action == ACT_FAX) {
		/* T.30 CNG: 1100 Hz, 0.5 s on, 3 s off */
		if (c->phase % 28000 < 4000)
			pbx_tone_block(1100, &c->phase, s->ulaw, block);
		else {
			memset(block, idle, PBX_BLOCK);
			c->phase += PBX_BLOCK;
		}
	} else if (c->ext->action == ACT_TONE) {
		pbx_tone_block(c->ext->tone_hz, &c->phase, s->ulaw, block);
	} else if (c->ext->action == ACT_ECHO && ch->echo_count) {
		memcpy(block, ch->echo[ch->echo_head], PBX_BLOCK);
		ch->echo_head = (ch->echo_head + 1) % PBX_ECHO_BLOCKS;
		ch->echo_count--;
	} else {
		memset(block, idle, PBX_BLOCK);
	}
}

/* ---- Timers and commands --------------------------------------------------------- */

void pbx_calls_timers(uint64_t now)
{
	struct pbx_call *c = calls, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->answer_at && now >= c->answer_at) {
			c->answer_at = 0;
			answer_now(c);
		}
		if (c->hangup_at && now >= c->hangup_at) {
			c->hangup_at = 0;
			pri_hangup(c->span->pri, c->q,
				   PRI_CAUSE_NORMAL_CLEARING);
		}
	}
}

static struct pbx_span *span_for_dial(int span_no)
{
	for (int i = 0; i < pbx.nspans; i++) {
		struct pbx_span *s = &pbx.spans[i];

		if ((span_no && s->no == span_no) || (!span_no && s->up))
			return s;
	}
	return NULL;
}

int pbx_dial(const char *called, const char *calling, int span_no, int chan,
	     bool overlap, bool restricted)
{
	struct pbx_span *s = span_for_dial(span_no);
	struct pri_sr *sr;
	struct pbx_call *c;
	q931_call *q;
	int rc;

	if (!s || !s->pri || !s->up) {
		pbx_say("error no span up");
		return -1;
	}
	q = pri_new_call(s->pri);
	c = q ? call_new(s, q, true) : NULL;
	if (!c) {
		pbx_say("error no call");
		return -1;
	}
	snprintf(c->called, sizeof(c->called), "%s", called);
	snprintf(c->calling, sizeof(c->calling), "%s", calling);
	c->ext = pbx_ext_find(calling);
	call_bind(c, chan);
	sr = pri_sr_new();
	pri_sr_set_channel(sr, chan, chan ? 1 : 0, 0);
	pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH,
			  s->ulaw ? PRI_LAYER_1_ULAW : PRI_LAYER_1_ALAW);
	pri_sr_set_called(sr, (char *)called, PRI_UNKNOWN, overlap ? 0 : 1);
	pri_sr_set_caller(sr, (char *)calling, NULL, PRI_UNKNOWN,
			  restricted ? PRES_PROHIB_USER_NUMBER_NOT_SCREENED :
				       PRES_ALLOWED_USER_NUMBER_NOT_SCREENED);
	rc = pri_setup(s->pri, q, sr);
	pri_sr_free(sr);
	if (rc) {
		pbx_say("error setup");
		call_free(c);
		return -1;
	}
	n_out++;
	last_dialled = c;
	return 0;
}

static struct pbx_call *call_on(int chan)
{
	for (struct pbx_call *c = calls; c; c = c->next)
		if (!chan || c->chan == chan)
			return c;
	return NULL;
}

static void hangup(char *arg, char *cause_arg)
{
	int cause = cause_arg ? atoi(cause_arg) : PRI_CAUSE_NORMAL_CLEARING;
	struct pbx_call *c, *next;

	if (arg && strcmp(arg, "all") == 0) {
		for (c = calls; c; c = next) {
			next = c->next;
			pri_hangup(c->span->pri, c->q, cause);
		}
		return;
	}
	c = call_on(arg ? atoi(arg) : 0);
	if (c)
		pri_hangup(c->span->pri, c->q, cause);
	else
		pbx_say("error no call");
}

static void show(void)
{
	int n = 0;

	for (struct pbx_call *c = calls; c; c = c->next, n++)
		pbx_say("call %d span %d chan %d %s %s %s %s", c->id,
			c->span->no, c->chan, c->out ? "out" : "in",
			c->up ? "up" : "-", c->called,
			c->calling[0] ? c->calling : "-");
	pbx_say("calls %d in %llu out %llu answered %llu released %llu "
		"failed %llu", n, (unsigned long long)n_in,
		(unsigned long long)n_out, (unsigned long long)n_answered,
		(unsigned long long)n_released, (unsigned long long)n_failed);
}

static void set_alarm(char *span_arg, char *on)
{
	struct pbx_span *s = span_for_dial(span_arg ? atoi(span_arg) : 1);

	if (!s || !on) {
		pbx_say("error usage: alarm SPAN on|off");
		return;
	}
	s->mute = strcmp(on, "on") == 0;
	pbx_say("alarm %d %s", s->no, s->mute ? "on" : "off");
}

/* A call armed by "glare": placed when the next SETUP comes in, before
 * libpri reads it, so the two SETUPs cross on the line (Q.931 5.7). */
static struct {
	bool armed;
	char called[33], calling[33];
	int chan;
} glare;

/* "dial CALLED [CALLING] [span=N] [chan=N] [overlap] [restricted]" and
 * "glare CALLED CALLING CHAN" */
static void dial_command(char *called, bool arm)
{
	char *calling = NULL, *w;
	int span_no = 0, chan = 0;
	bool overlap = false, restricted = false;

	while ((w = strtok(NULL, " \t\r\n"))) {
		if (strncmp(w, "span=", 5) == 0)
			span_no = atoi(w + 5);
		else if (strncmp(w, "chan=", 5) == 0)
			chan = atoi(w + 5);
		else if (strcmp(w, "overlap") == 0)
			overlap = true;
		else if (strcmp(w, "restricted") == 0)
			restricted = true;
		else if (!calling)
			calling = w;
	}
	if (arm) {
		glare.armed = true;
		glare.chan = chan ? chan : 1;
		snprintf(glare.called, sizeof(glare.called), "%s", called);
		snprintf(glare.calling, sizeof(glare.calling), "%s",
			 calling ? calling : "1000");
		pbx_say("glare armed chan %d", glare.chan);
		return;
	}
	pbx_dial(called, calling ? calling : "1000", span_no, chan, overlap,
		 restricted);
}

void pbx_glare_setup_seen(struct pbx_span *s)
{
	if (!glare.armed)
		return;
	glare.armed = false;
	pbx_say("glare: our SETUP on chan %d crosses theirs", glare.chan);
	pbx_dial(glare.called, glare.calling, s->no, glare.chan, false, false);
}

static void info_command(char *digits)
{
	struct pbx_call *c = last_dialled;

	if (!c || !digits) {
		pbx_say("error no call to send digits on");
		return;
	}
	for (const char *d = digits; *d; d++)
		pri_information(c->span->pri, c->q, *d);
}

/* "dtmf DIGITS [CHAN]": play digits in band on an answered call. */
static void dtmf_command(char *digits, char *chan_arg)
{
	struct pbx_call *c = call_on(chan_arg ? atoi(chan_arg) : 0);

	while (c && !c->up)
		c = c->next;
	if (!c || !digits || !c->chan) {
		pbx_say("error no answered call for digits");
		return;
	}
	snprintf(c->span->chan[c->chan].dtmf_out,
		 sizeof(c->span->chan[c->chan].dtmf_out), "%s", digits);
	c->span->chan[c->chan].dtmf_blocks = 0;
}

static void restart_command(char *span_arg, char *chan_arg)
{
	struct pbx_span *s = span_for_dial(span_arg ? atoi(span_arg) : 1);

	if (!s || !s->pri) {
		pbx_say("error no such span");
		return;
	}
	if (chan_arg)
		pri_reset(s->pri, atoi(chan_arg));
	else
		pri_restart(s->pri);
}

void pbx_command(char *line)
{
	char *w = strtok(line, " \t\r\n"), *a, *b;

	if (!w)
		return;
	a = strcmp(w, "dial") == 0 || strcmp(w, "glare") == 0 ?
		    NULL :
		    strtok(NULL, " \t\r\n");
	b = a ? strtok(NULL, " \t\r\n") : NULL;
	if (strcmp(w, "dial") == 0 && (a = strtok(NULL, " \t\r\n")))
		dial_command(a, false);
	else if (strcmp(w, "glare") == 0 && (a = strtok(NULL, " \t\r\n")))
		dial_command(a, true);
	else if (strcmp(w, "hangup") == 0)
		hangup(a, b);
	else if (strcmp(w, "show") == 0)
		show();
	else if (strcmp(w, "alarm") == 0)
		set_alarm(a, b);
	else if (strcmp(w, "info") == 0)
		info_command(a);
	else if (strcmp(w, "dtmf") == 0)
		dtmf_command(a, b);
	else if (strcmp(w, "restart") == 0)
		restart_command(a, b);
	else if (strcmp(w, "quit") == 0)
		exit(0);
	else
		pbx_say("error unknown command");
}
