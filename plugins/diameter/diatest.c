/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diatest: a test plugin that uses the "diameter" service from both ends.
 * It answers Cx LIR with Server-Name = its parameter (5001 for a user
 * named "unknown@...", 5012 through answer_renew for "renew@..."), and
 * `diatest lir USER` sends an LIR whose answer `diatest last` shows.
 * Built for `make check` only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tandem/diameter.h"
#include "tandem/plugin.h"

#define TND_LOG_HOST host
#define TND_LOG_CATEGORY "diatest"

TND_PLUGIN_DECLARE(diatest);
#define SELF (&TND_PLUGIN_SYMBOL(diatest))

struct diatest_cfg {
	char *server_name;
	int serve;
};

static const struct tnd_host_api *host;
static const struct diameter_service *dia;
static struct diatest_cfg *cfg;
static char last[512] = "none";
static unsigned peer_ups, peer_downs;

static const struct tnd_param diatest_params[] = {
	TND_PARAM("server_name", TND_STR, struct diatest_cfg, server_name,
		  "sip:scscf.test:6060", "Server-Name put in LIA"),
	TND_PARAM("serve", TND_BOOL, struct diatest_cfg, serve, "yes",
		  "answer LIR"),
	TND_PARAM_END
};

static int on_lir(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	char impu[256];

	(void)arg;
	if (dia->find_str(dia->root(req), "Public-Identity", impu,
			  sizeof(impu))) {
		dia->set_failed_missing(ans, "Public-Identity");
		return DIA_MISSING_AVP;
	}
	if (strncmp(impu, "sip:unknown@", 12) == 0) {
		dia->set_experimental(ans, DIA_VENDOR_3GPP,
				      DIA_ERROR_USER_UNKNOWN);
		return DIA_ERROR_USER_UNKNOWN; /* the result is set */
	}
	dia->add_str(dia->root(ans), "Server-Name", cfg->server_name,
		     (size_t)-1);
	if (strncmp(impu, "sip:renew@", 10) == 0) {
		/* Kept, then answered with an error after all. */
		ans = dia->answer_renew(ans);
		if (ans && dia->set_result(ans, DIA_UNABLE_TO_COMPLY) == 0)
			dia->answer_send(ans);
		return DIA_DEFER;
	}
	return DIA_SUCCESS;
}

static void on_lia(struct dia_msg *ans, int status, void *arg)
{
	uint32_t vendor = 0, code = 0;
	char server[256] = "-";

	(void)arg;
	if (!ans) {
		snprintf(last, sizeof(last), "status=%d", status);
		return;
	}
	dia->result(ans, &vendor, &code);
	dia->find_str(dia->root(ans), "Server-Name", server, sizeof(server));
	snprintf(last, sizeof(last), "vendor=%u code=%u server=%s", vendor,
		 code, server);
	tnd_info("LIA %s", last);
}

static int cmd_lir(struct tnd_reply *r, int argc, char **argv)
{
	struct dia_msg *req;
	char impu[300];

	if (argc != 1)
		return host->reply_error(r, "usage: diatest lir USER");
	snprintf(impu, sizeof(impu), "sip:%s", argv[0]);
	req = dia->request_new(DIA_APP_CX, DIA_CMD_LIR, NULL, NULL, NULL);
	if (!req)
		return host->reply_error(r, "cannot make an LIR");
	if (dia->add_str(dia->root(req), "Public-Identity", impu, (size_t)-1)) {
		dia->msg_free(req);
		return host->reply_error(r, "cannot add Public-Identity");
	}
	snprintf(last, sizeof(last), "pending");
	if (dia->send(req, 2000, on_lia, NULL))
		return host->reply_error(r, "send failed");
	host->reply_text(r, "sent\n");
	return 0;
}

static int cmd_last(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	host->reply_field(r, "last", "%s", last);
	host->reply_field_num(r, "peer_ups", peer_ups);
	host->reply_field_num(r, "peer_downs", peer_downs);
	return 0;
}

static const struct tnd_command diatest_commands[] = {
	{ "diatest lir", "USER", "send an LIR", cmd_lir },
	{ "diatest last", NULL, "the last LIA and peer events", cmd_last },
	TND_COMMAND_END
};

static void on_peer(const char *id, enum dia_peer_event ev, void *arg)
{
	(void)arg;
	if (ev == DIA_PEER_UP)
		peer_ups++;
	else
		peer_downs++;
	tnd_info("peer %s %s", id, ev == DIA_PEER_UP ? "up" : "down");
}

static int diatest_init(const struct tnd_host_api *api, void *config)
{
	host = api;
	cfg = config;
	dia = host->service_get("diameter", DIAMETER_SERVICE_VERSION);
	if (!dia)
		return -ENOENT;
	if (dia->on_peer(SELF, on_peer, NULL))
		return -EINVAL;
	if (cfg->serve)
		return dia->handle(SELF, DIA_APP_CX, DIA_CMD_LIR, on_lir, NULL);
	return dia->use_app(DIA_APP_CX);
}

static int diatest_start(void)
{
	return 0;
}

static int diatest_stop(void)
{
	return 0;
}

static void diatest_fini(void)
{
}

static const struct tnd_service_ref diatest_requires[] = {
	{ "diameter", DIAMETER_SERVICE_VERSION }, TND_SERVICE_END
};

TND_PLUGIN_DEFINE(diatest) = {
	TND_PLUGIN_HEADER,
	.name = "diatest",
	.version = "1.0",
	.description = "test user of the diameter service",
	.requires = diatest_requires,
	.params = diatest_params,
	.cfg_size = sizeof(struct diatest_cfg),
	.commands = diatest_commands,
	.init = diatest_init,
	.start = diatest_start,
	.stop = diatest_stop,
	.fini = diatest_fini,
};
