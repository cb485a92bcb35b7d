/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rxtest: a stand-in for the PCRF client, built for `make check` only. It
 * provides the "rx" service (tandem/rx.h) as a provider built before its
 * signalling_start member would, authorises (or, with refuse = yes,
 * refuses) every session, and `rxtest show` counts them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tandem/plugin.h"
#include "tandem/rx.h"

#define TND_LOG_HOST host
#define TND_LOG_CATEGORY "rxtest"

TND_PLUGIN_DECLARE(rxtest);
#define SELF (&TND_PLUGIN_SYMBOL(rxtest))

struct rxtest_cfg {
	int refuse;
};

struct rx_session {
	char call_id[128];
	struct tnd_timer *timer;
	rx_result_cb cb;
	void *arg;
};

static const struct tnd_host_api *host;
static struct rxtest_cfg *cfg;
static unsigned started, ended, active, with_sdp;
static char last_subscriber[256] = "-";

static const struct tnd_param rxtest_params[] = {
	TND_PARAM("refuse", TND_BOOL, struct rxtest_cfg, refuse, "no",
		  "refuse every session (as a PCRF without resources)"),
	TND_PARAM_END
};

/* The verdict comes a moment later, as a PCRF's answer would. */
static void on_answer(struct tnd_timer *t, void *arg)
{
	struct rx_session *s = arg;

	(void)t;
	s->cb(s, cfg->refuse ? -EACCES : 0, s->arg);
}

static int session_start(const struct rx_session_info *info, rx_result_cb cb,
			 void *arg, struct rx_session **out)
{
	struct rx_session *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	snprintf(s->call_id, sizeof(s->call_id), "%s", info->call_id);
	snprintf(last_subscriber, sizeof(last_subscriber), "%s",
		 info->subscriber ? info->subscriber : "");
	s->cb = cb;
	s->arg = arg;
	s->timer = host->timer_new(SELF, on_answer, s);
	if (!s->timer) {
		free(s);
		return -ENOMEM;
	}
	host->timer_start(s->timer, 10, 0);
	started++;
	active++;
	with_sdp += info->sdp_offer_len && info->sdp_answer_len;
	tnd_info("AAR for %s (%s)", s->call_id, last_subscriber);
	*out = s;
	return 0;
}

static int session_update(struct rx_session *s,
			  const struct rx_session_info *info)
{
	(void)s, (void)info;
	return 0;
}

static void session_end(struct rx_session *s, const char *reason)
{
	tnd_info("STR for %s (%s)", s->call_id, reason);
	host->timer_free(s->timer);
	free(s);
	ended++;
	active--;
}

static int on_abort(rx_abort_cb cb, void *arg)
{
	(void)cb, (void)arg;
	return 0;
}

/* Never to be called: the table below says it is not there. */
static unsigned beyond_size;

static int signalling_start(const struct rx_signalling_info *info,
			    struct rx_session **out)
{
	(void)info, (void)out;
	beyond_size++;
	return -ENOSYS;
}

/*
 * A provider built before signalling_start: its size ends before that
 * member. The pointer is set anyway, so a P-CSCF that tested the
 * pointer and not `size` would call it and `rxtest show` would count it.
 */
static const struct rx_service rx_table = {
	.size = offsetof(struct rx_service, signalling_start),
	.session_start = session_start,
	.session_update = session_update,
	.session_end = session_end,
	.on_abort = on_abort,
	.signalling_start = signalling_start,
};

static int cmd_show(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	host->reply_field_num(r, "started", started);
	host->reply_field_num(r, "ended", ended);
	host->reply_field_num(r, "active", active);
	host->reply_field_num(r, "with_sdp", with_sdp);
	host->reply_field(r, "subscriber", "%s", last_subscriber);
	host->reply_field_num(r, "beyond_size", beyond_size);
	return 0;
}

static int cmd_refuse(struct tnd_reply *r, int argc, char **argv)
{
	if (argc != 1 || (strcmp(argv[0], "yes") && strcmp(argv[0], "no")))
		return host->reply_error(r, "usage: rxtest refuse yes|no");
	cfg->refuse = strcmp(argv[0], "yes") == 0;
	host->reply_text(r, "refuse %s\n", argv[0]);
	return 0;
}

static const struct tnd_command rxtest_commands[] = {
	{ "rxtest show", NULL, "Rx sessions seen", cmd_show },
	{ "rxtest refuse", "yes|no", "refuse the next sessions or not",
	  cmd_refuse },
	TND_COMMAND_END
};

static int rxtest_init(const struct tnd_host_api *api, void *config)
{
	host = api;
	cfg = config;
	return host->service_register(SELF, RX_SERVICE_NAME, RX_SERVICE_VERSION,
				      &rx_table);
}

static int rxtest_start(void)
{
	return 0;
}

static int rxtest_stop(void)
{
	return 0;
}

static void rxtest_fini(void)
{
}

static const struct tnd_service_ref rxtest_provides[] = {
	{ RX_SERVICE_NAME, RX_SERVICE_VERSION }, TND_SERVICE_END
};

TND_PLUGIN_DEFINE(rxtest) = {
	TND_PLUGIN_HEADER,
	.name = "rxtest",
	.version = "1.0",
	.description = "test provider of the rx service",
	.provides = rxtest_provides,
	.params = rxtest_params,
	.cfg_size = sizeof(struct rxtest_cfg),
	.commands = rxtest_commands,
	.init = rxtest_init,
	.start = rxtest_start,
	.stop = rxtest_stop,
	.fini = rxtest_fini,
};
