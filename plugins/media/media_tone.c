// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_tone.c - fax tones in band (SpanDSP's modem connect tone
 * detectors): T.30 CNG (1100 Hz, a fax calls) and CED (the 2100 Hz answer
 * tone) or the V.21 preamble of a fax answering. Each is reported once to
 * the channel's owner (MEDIA_EV_TONE), which typically re-INVITEs to T.38.
 */
#include "media_int.h"

static void report(struct media_leg *leg, enum media_tone tone)
{
	struct media_event ev = { .type = MEDIA_EV_TONE, .leg = leg->index,
				  .tone = tone };

	tnd_info("channel %u leg %c: fax %s", leg->ch->id, 'A' + leg->index,
		 tone == MEDIA_TONE_CNG ? "calling tone (CNG)" :
					  "answer tone (CED)");
	media_chan_event(leg->ch, &ev);
}

static void on_cng(void *user, int code, int level, int delay)
{
	struct media_leg *leg = user;

	(void)level, (void)delay;
	if (code == MODEM_CONNECT_TONES_FAX_CNG && !leg->cng_seen) {
		leg->cng_seen = true;
		report(leg, MEDIA_TONE_CNG);
	}
}

static void on_ced(void *user, int code, int level, int delay)
{
	struct media_leg *leg = user;

	(void)level, (void)delay;
	if ((code == MODEM_CONNECT_TONES_FAX_CED ||
	     code == MODEM_CONNECT_TONES_FAX_PREAMBLE) && !leg->ced_seen) {
		leg->ced_seen = true;
		report(leg, MEDIA_TONE_CED);
	}
}

int media_leg_tones_setup(struct media_leg *leg)
{
	leg->cng = modem_connect_tones_rx_init(NULL,
					       MODEM_CONNECT_TONES_FAX_CNG,
					       on_cng, leg);
	leg->ced = modem_connect_tones_rx_init(
		NULL, MODEM_CONNECT_TONES_FAX_CED_OR_PREAMBLE, on_ced, leg);
	return leg->cng && leg->ced ? 0 : -ENOMEM;
}

void media_leg_tones_free(struct media_leg *leg)
{
	if (leg->cng)
		modem_connect_tones_rx_free(leg->cng);
	if (leg->ced)
		modem_connect_tones_rx_free(leg->ced);
	leg->cng = leg->ced = NULL;
}

/* Only when the owner listens, and until both were heard. */
void media_leg_tones_detect(struct media_leg *leg, const int16_t *pcm)
{
	if (!leg->cng || !leg->ch->on_event)
		return;
	if (!leg->cng_seen)
		modem_connect_tones_rx(leg->cng, pcm, MEDIA_FRAME);
	if (!leg->ced_seen)
		modem_connect_tones_rx(leg->ced, pcm, MEDIA_FRAME);
}
