// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_dtmf_io.c - digits through a channel: RFC 4733 events received
 * (de-duplicated, ended by their E bit or by silence) and sent (one
 * packet per 20 ms, the end packet three times, audio suppressed
 * meanwhile), tones in band detected (SpanDSP) and generated, and the
 * interworking between the two kinds of legs.
 */
#include <errno.h>
#include <string.h>

#include "media_int.h"

#define EVENT_VOLUME	10	/* -dBm0 we announce (RFC 4733 2.3.4) */
#define END_PACKETS	3	/* RFC 4733 2.5.1.4: send the end thrice */
#define MIN_TONE_MS	40	/* Q.24: shortest digit receivers accept */
#define GAP_MS		50	/* between two digits played in band */
/* An event whose packets stopped coming (its end lost) ends after this. */
#define EVENT_SILENCE_NS (300 * 1000000LL)

static bool sends_events(const struct media_leg *leg)
{
	return leg->cfg.type == MEDIA_LEG_RTP && leg->rp.set &&
	       leg->rp.dtmf_pt >= 0;
}

static void user_event(struct media_leg *leg, char digit, bool end,
		       unsigned duration_ms)
{
	struct media_event ev = {
		.type = MEDIA_EV_DTMF,
		.leg = leg->index,
		.digit = digit,
		.end = end,
		.duration_ms = duration_ms,
	};

	if (end)
		tnd_info("channel %u leg %c: digit %c, %u ms", leg->ch->id,
			 'A' + leg->index, digit, duration_ms);
	media_chan_event(leg->ch, &ev);
}

/* ---- going out ---------------------------------------------------------- */

void media_dtmf_out_queue(struct media_leg *leg, char digit,
			  unsigned duration_ms)
{
	struct media_dtmf_out *o = &leg->dtmf_out;
	unsigned i;

	if (o->count == MEDIA_DTMF_QUEUE)
		return;
	i = (o->head + o->count++) % MEDIA_DTMF_QUEUE;
	o->queue[i].digit = digit;
	o->queue[i].duration_ms = duration_ms;
}

/* The open-ended digit (playing, or the last queued) ends now. */
void media_dtmf_out_end(struct media_leg *leg)
{
	struct media_dtmf_out *o = &leg->dtmf_out;
	unsigned i;

	for (i = o->count; i-- > 0;) {
		unsigned k = (o->head + i) % MEDIA_DTMF_QUEUE;

		if (!o->queue[k].duration_ms) {
			o->queue[k].duration_ms = MIN_TONE_MS * 2;
			return;
		}
	}
	if (o->state == DTMF_PLAYING && !o->duration_ms) {
		o->duration_ms = o->elapsed / (MEDIA_RATE / 1000);
		if (o->duration_ms < MIN_TONE_MS)
			o->duration_ms = MIN_TONE_MS;
	}
}

static bool start_next(struct media_leg *leg)
{
	struct media_dtmf_out *o = &leg->dtmf_out;

	if (!o->count)
		return false;
	o->digit = o->queue[o->head].digit;
	o->duration_ms = o->queue[o->head].duration_ms;
	o->head = (o->head + 1) % MEDIA_DTMF_QUEUE;
	o->count--;
	o->elapsed = 0;
	o->ends_sent = 0;
	o->first = true;
	o->state = DTMF_PLAYING;
	if (sends_events(leg))
		o->event_ts = media_leg_rtp_now_ts(leg);
	else
		media_dtmf_tone_start(&o->tone, o->digit);
	leg->st.dtmf_tx++;
	mp.host->counter_add(mp.c_dtmf, 1);
	return true;
}

static bool over(const struct media_dtmf_out *o)
{
	return o->duration_ms &&
	       o->elapsed >= o->duration_ms * (MEDIA_RATE / 1000);
}

static void send_event(struct media_leg *leg, bool end)
{
	struct media_dtmf_out *o = &leg->dtmf_out;
	struct media_dtmf_event ev = {
		.event = (uint8_t)media_dtmf_digit_to_event(o->digit),
		.end = end,
		.volume = EVENT_VOLUME,
		.duration = o->elapsed > 0xffff ? 0xffff : (uint16_t)o->elapsed,
	};
	uint8_t payload[MEDIA_DTMF_EVENT_LEN];

	media_dtmf_event_encode(&ev, payload, sizeof(payload));
	media_leg_rtp_send_event(leg, o->first, o->event_ts, payload,
				 sizeof(payload));
	o->first = false;
}

/* RFC 4733: one packet per frame while the digit lasts, then the end. */
static bool events_tick(struct media_leg *leg)
{
	struct media_dtmf_out *o = &leg->dtmf_out;

	if (o->state == DTMF_ENDING) {
		send_event(leg, true);
		if (++o->ends_sent >= END_PACKETS)
			o->state = DTMF_IDLE;
		return true;
	}
	o->elapsed += MEDIA_FRAME;
	if (over(o)) {
		o->state = DTMF_ENDING;
		o->ends_sent = 1;
	}
	send_event(leg, o->state == DTMF_ENDING);
	return true;
}

/* In band: the tone replaces the frame, then a gap of silence. */
static bool tone_tick(struct media_leg *leg, int16_t *pcm)
{
	struct media_dtmf_out *o = &leg->dtmf_out;

	if (o->state == DTMF_GAP) {
		memset(pcm, 0, MEDIA_FRAME * sizeof(*pcm));
		if (o->gap <= MEDIA_FRAME)
			o->state = DTMF_IDLE;
		else
			o->gap -= MEDIA_FRAME;
		return false;
	}
	media_dtmf_tone_fill(&o->tone, pcm, MEDIA_FRAME);
	o->elapsed += MEDIA_FRAME;
	if (over(o)) {
		media_dtmf_tone_stop(&o->tone);
		o->state = DTMF_GAP;
		o->gap = GAP_MS * (MEDIA_RATE / 1000);
	}
	return false;
}

bool media_dtmf_out_tick(struct media_leg *leg, int16_t *pcm)
{
	struct media_dtmf_out *o = &leg->dtmf_out;

	if (o->state == DTMF_IDLE && !start_next(leg))
		return false;
	if (sends_events(leg))
		return events_tick(leg);
	if (!pcm) {			/* relay mode has no audio to replace */
		o->state = DTMF_IDLE;
		return false;
	}
	return tone_tick(leg, pcm);
}

/* ---- coming in: RFC 4733 ------------------------------------------------- */

static void in_end(struct media_leg *leg)
{
	struct media_dtmf_in *in = &leg->dtmf_in;
	char digit = (char)media_dtmf_event_to_digit(in->event);

	in->active = false;
	in->ended = true;
	user_event(leg, digit, true, in->duration / (MEDIA_RATE / 1000));
	if (leg->ch->mode == MODE_CLOCKED)
		media_dtmf_out_end(media_chan_other(leg));
}

static void in_begin(struct media_leg *leg, uint32_t ts,
		     const struct media_dtmf_event *ev)
{
	struct media_dtmf_in *in = &leg->dtmf_in;
	char digit = (char)media_dtmf_event_to_digit(ev->event);

	if (in->active)
		in_end(leg);	/* its end packets were lost */
	in->active = true;
	in->ended = false;
	in->have_ts = true;
	in->ts = ts;
	in->event = ev->event;
	in->duration = ev->duration;
	leg->st.dtmf_rx++;
	user_event(leg, digit, false, 0);
	if (leg->ch->mode == MODE_CLOCKED)
		media_dtmf_out_queue(media_chan_other(leg), digit, 0);
}

void media_dtmf_rfc4733_in(struct media_leg *leg,
			   const struct media_rtp_header *h)
{
	struct media_dtmf_in *in = &leg->dtmf_in;
	struct media_dtmf_event ev;

	if (media_dtmf_event_decode(h->payload, h->payload_len, &ev) < 0 ||
	    ev.event > 15)
		return;		/* not a DTMF event (e.g. 16, flash) */
	/* RFC 4733 2.5.2.1: a new timestamp is a new event */
	if (!in->have_ts || h->ts != in->ts)
		in_begin(leg, h->ts, &ev);
	else if (in->ended)
		return;		/* a repeated end packet */
	in->last_ns = media_now_ns();
	if (ev.duration > in->duration)
		in->duration = ev.duration;
	if (ev.end)
		in_end(leg);
}

void media_dtmf_in_tick(struct media_leg *leg, int64_t now_ns)
{
	struct media_dtmf_in *in = &leg->dtmf_in;

	if (in->active && now_ns - in->last_ns > EVENT_SILENCE_NS)
		in_end(leg);
}

/* ---- coming in: tones ---------------------------------------------------- */

static void on_inband(void *user, char digit, bool end, uint32_t duration,
		      uint64_t at_sample)
{
	struct media_leg *leg = user;
	struct media_leg *other = media_chan_other(leg);

	(void)at_sample;
	if (!end) {
		leg->det_active = true;
		leg->det_digit = digit;
		leg->st.dtmf_rx++;
		user_event(leg, digit, false, 0);
		if (sends_events(other))
			media_dtmf_out_queue(other, digit, 0);
		return;
	}
	leg->det_active = false;
	user_event(leg, digit, true, duration / (MEDIA_RATE / 1000));
	if (sends_events(other))
		media_dtmf_out_end(other);
}

/* Detect in band on legs whose digits are tones: TDM, and RTP legs with
 * no telephone-event, when someone wants them (the other leg sends
 * events, or the channel's owner listens). */
int media_leg_dtmf_setup(struct media_leg *leg)
{
	if (leg->det)
		return 0;
	return media_dtmf_detector_new(on_inband, leg, &leg->det);
}

void media_leg_dtmf_detect(struct media_leg *leg, const int16_t *pcm)
{
	struct media_leg *other = media_chan_other(leg);

	if (!leg->det || sends_events(leg))
		return;
	if (!sends_events(other) && !leg->ch->on_event)
		return;
	media_dtmf_detect(leg->det, pcm, MEDIA_FRAME);
}
