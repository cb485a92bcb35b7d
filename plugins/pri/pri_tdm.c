/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pri: the D-channel transport over the tdm service (tandem/tdm.h), for
 * spans a span driver (hw/sim, hw/dahdi) runs: frames through
 * dchan_open()/dchan_send(), layer 1 alarms through watch().
 *
 * The tdm service hands over frames without their FCS and adds it on
 * sending; libpri's I/O carries two FCS octets after each frame, so two
 * octets are added here on receive and dropped on send.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pri_int.h"
#include "tandem/tdm.h"

#define RETRY_MS 1000

struct dchan_tdm {
	struct pri_dchan base;
	const struct tdm_service *tdm;
	struct tdm_dchan *ch;
	unsigned span;
	struct tnd_timer *retry;
	int watching;
	uint8_t buf[TDM_DCHAN_MAX_FRAME + TDM_FCS_LEN];
};

static void tdm_rx(struct tdm_dchan *ch, const uint8_t *frame, size_t len,
		   void *arg)
{
	struct dchan_tdm *dt = arg;

	(void)ch;
	if (len > TDM_DCHAN_MAX_FRAME || !dt->base.span)
		return;
	memcpy(dt->buf, frame, len);
	memset(dt->buf + len, 0, TDM_FCS_LEN);
	pri_span_frame_in(dt->base.span, dt->buf, len + TDM_FCS_LEN);
}

static int tdm_send(struct pri_dchan *dc, const uint8_t *frame, size_t len)
{
	struct dchan_tdm *dt = (struct dchan_tdm *)dc;

	if (!dt->ch || len <= TDM_FCS_LEN)
		return -ENOTCONN;
	return dt->tdm->dchan_send(dt->ch, frame, len - TDM_FCS_LEN);
}

static void tdm_event(const struct tdm_event *ev, void *arg)
{
	struct dchan_tdm *dt = arg;

	if (ev->type != TDM_EVENT_ALARM || ev->span != dt->span ||
	    !dt->base.span)
		return;
	pri_span_alarm(dt->base.span,
		       (ev->alarms & TDM_ALARM_SERVICE_AFFECTING) != 0);
}

/* The span may not run yet when we start: try again until it does. */
static void tdm_try_open(struct tnd_timer *timer, void *arg)
{
	struct dchan_tdm *dt = arg;
	int rc;

	(void)timer;
	rc = dt->tdm->dchan_open(dt->span, tdm_rx, dt, &dt->ch);
	if (rc == 0) {
		tnd_info("span %u: D-channel on the tdm service", dt->span);
		return;
	}
	dt->ch = NULL;
	if (rc != -ENETDOWN)
		tnd_error("span %u: tdm D-channel: %s", dt->span,
			  strerror(-rc));
	pri_host->timer_start(dt->retry, RETRY_MS, 0);
}

static void tdm_close(struct pri_dchan *dc)
{
	struct dchan_tdm *dt = (struct dchan_tdm *)dc;

	if (dt->ch)
		dt->tdm->dchan_close(dt->ch);
	if (dt->watching)
		dt->tdm->unwatch(tdm_event, dt);
	if (dt->retry)
		pri_host->timer_free(dt->retry);
	free(dt);
}

struct pri_dchan *pri_dchan_tdm(unsigned span)
{
	const struct tdm_service *tdm =
		pri_host->service_get(TDM_SERVICE, TDM_SERVICE_VERSION);
	struct dchan_tdm *dt;

	if (!tdm)
		return NULL;
	dt = calloc(1, sizeof(*dt));
	if (!dt)
		return NULL;
	dt->base.kind = "tdm";
	dt->base.send = tdm_send;
	dt->base.close = tdm_close;
	dt->tdm = tdm;
	dt->span = span;
	dt->watching = tdm->watch(tdm_event, dt) == 0;
	dt->retry = pri_host->timer_new(pri_self, tdm_try_open, dt);
	if (!dt->retry) {
		tdm_close(&dt->base);
		return NULL;
	}
	pri_host->timer_start(dt->retry, 0, 0);
	return &dt->base;
}
