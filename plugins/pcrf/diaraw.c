/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diaraw: sends hand-written Rx and Gx requests through the diameter
 * service, for the PCRF's error and robustness tests (missing AVPs,
 * wrong values, unknown sessions). Built for `make check` only.
 *
 *   diaraw send rx|gx AAR|STR|CCR|RAR|ASR [ITEM...]
 *   diaraw last [AVP]     result of the last answer; with AVP: whether
 *                         the Failed-AVP names it
 *
 * ITEM is NAME=TEXT (a string AVP), NAME#=NUMBER (Unsigned32/Enumerated),
 * NAME%=HEX (octets), -sid=SESSION (reuse a Session-Id). NAME may be a
 * path G.C (C inside the last G made, made when none) or G+.C (a new G).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tandem/diameter.h"
#include "tandem/plugin.h"

#define TND_LOG_HOST host
#define TND_LOG_CATEGORY "diaraw"

TND_PLUGIN_DECLARE(diaraw);
#define SELF (&TND_PLUGIN_SYMBOL(diaraw))

static const struct tnd_host_api *host;
static const struct diameter_service *dia;
static char last[256] = "none";

/* What a Failed-AVP may hold in the tests (the service finds by name). */
static const char *const failed_names[] = {
	"Framed-IP-Address",
	"Framed-IPv6-Prefix",
	"Media-Component-Number",
	"Media-Component-Description",
	"Media-Type",
	"Flow-Description",
	"Flow-Status",
	"CC-Request-Type",
	"CC-Request-Number",
};

static const struct {
	const char *name;
	uint32_t code;
} cmds[] = { { "AAR", DIA_CMD_AAR },
	     { "STR", DIA_CMD_STR },
	     { "CCR", DIA_CMD_CCR },
	     { "RAR", DIA_CMD_RAR },
	     { "ASR", DIA_CMD_ASR } };

/* The last group named `name` directly under parent. */
static struct dia_avp *last_group(struct dia_avp *parent, const char *name)
{
	struct dia_avp *g = dia->find(parent, name), *n;

	while (g && (n = dia->find_next(g)))
		g = n;
	return g;
}

/* The parent of the last path element; *leaf gets its name. */
static struct dia_avp *walk(struct dia_avp *root, char *path, char **leaf)
{
	char *dot;

	while ((dot = strchr(path, '.'))) {
		size_t n = (size_t)(dot - path);
		bool fresh = n && path[n - 1] == '+';
		struct dia_avp *g;

		path[fresh ? n - 1 : n] = '\0';
		g = fresh ? NULL : last_group(root, path);
		if (!g)
			g = dia->add_group(root, path);
		if (!g)
			return NULL;
		root = g;
		path = dot + 1;
	}
	*leaf = path;
	return root;
}

static int hex_octets(const char *hex, uint8_t *out, size_t size, size_t *n)
{
	*n = 0;
	while (hex[0] && hex[1] && *n < size) {
		unsigned v;

		if (sscanf(hex, "%2x", &v) != 1)
			return -EINVAL;
		out[(*n)++] = (uint8_t)v;
		hex += 2;
	}
	return hex[0] ? -EINVAL : 0;
}

static int add_item(struct dia_msg *req, const char *item)
{
	char buf[512], *eq, *leaf;
	struct dia_avp *parent;
	char kind = 's';
	uint8_t oct[256];
	size_t n;

	snprintf(buf, sizeof(buf), "%s", item);
	eq = strchr(buf, '=');
	if (!eq || eq == buf)
		return -EINVAL;
	*eq = '\0';
	if (eq[-1] == '#' || eq[-1] == '%') {
		kind = eq[-1];
		eq[-1] = '\0';
	}
	parent = walk(dia->root(req), buf, &leaf);
	if (!parent)
		return -ENOMEM;
	if (kind == '#')
		return dia->add_u32(parent, leaf,
				    (uint32_t)strtoul(eq + 1, NULL, 0));
	if (kind == '%') {
		if (hex_octets(eq + 1, oct, sizeof(oct), &n))
			return -EINVAL;
		return dia->add_str(parent, leaf, oct, n);
	}
	return dia->add_str(parent, leaf, eq + 1, (size_t)-1);
}

static void on_answer(struct dia_msg *ans, int status, void *arg)
{
	uint32_t vendor = 0, code = 0;
	struct dia_avp *er, *failed;

	(void)arg;
	if (!ans) {
		snprintf(last, sizeof(last), "status=%d", status);
		return;
	}
	dia->result(ans, &vendor, &code);
	er = dia->find(dia->root(ans), "Experimental-Result");
	if (er && dia->find_u32(er, "Experimental-Result-Code", &code) == 0)
		vendor = DIA_VENDOR_3GPP;
	snprintf(last, sizeof(last), "vendor=%u code=%u", vendor, code);
	failed = dia->find(dia->root(ans), "Failed-AVP");

	for (size_t i = 0;
	     failed && i < sizeof(failed_names) / sizeof(failed_names[0]);
	     i++) {
		if (dia->find(failed, failed_names[i])) {
			size_t n = strlen(last);

			snprintf(last + n, sizeof(last) - n, " failed=%s",
				 failed_names[i]);
			break;
		}
	}
	tnd_info("answer: %s", last);
}

static int cmd_send(struct tnd_reply *r, int argc, char **argv)
{
	uint32_t app, code = 0;
	const char *sid = NULL;
	struct dia_msg *req;

	if (argc < 2)
		return host->reply_error(r, "usage: diaraw send rx|gx CMD "
					    "[ITEM...]");
	app = strcmp(argv[0], "gx") == 0 ? DIA_APP_GX : DIA_APP_RX;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			code = cmds[i].code;
	for (int i = 2; i < argc; i++)
		if (strncmp(argv[i], "-sid=", 5) == 0)
			sid = argv[i] + 5;
	if (!code)
		return host->reply_error(r, "unknown command %s", argv[1]);
	req = dia->request_new(app, code, sid, NULL, "pcrf.ims.lab");
	if (!req)
		return host->reply_error(r, "cannot make the request");
	for (int i = 2; i < argc; i++) {
		if (strncmp(argv[i], "-sid=", 5) && add_item(req, argv[i])) {
			dia->msg_free(req);
			return host->reply_error(r, "bad item %s", argv[i]);
		}
	}
	snprintf(last, sizeof(last), "pending");
	if (dia->send(req, 3000, on_answer, NULL))
		return host->reply_error(r, "send failed");
	host->reply_text(r, "sent\n");
	return 0;
}

static int cmd_last(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	host->reply_field(r, "last", "%s", last);
	return 0;
}

static const struct tnd_command diaraw_commands[] = {
	{ "diaraw send", "rx|gx CMD [ITEM...]", "send a request", cmd_send },
	{ "diaraw last", NULL, "the last answer's result", cmd_last },
	TND_COMMAND_END
};

static int diaraw_init(const struct tnd_host_api *api, void *config)
{
	(void)config;
	host = api;
	dia = host->service_get("diameter", DIAMETER_SERVICE_VERSION);
	if (!dia)
		return -ENOENT;
	if (dia->use_app(DIA_APP_GX))
		return -EINVAL;
	return dia->use_app(DIA_APP_RX);
}

static int diaraw_start(void)
{
	return 0;
}

static int diaraw_stop(void)
{
	return 0;
}

static void diaraw_fini(void)
{
}

static const struct tnd_service_ref diaraw_requires[] = {
	{ "diameter", DIAMETER_SERVICE_VERSION }, TND_SERVICE_END
};

TND_PLUGIN_DEFINE(diaraw) = {
	TND_PLUGIN_HEADER,
	.name = "diaraw",
	.version = "1.0",
	.description = "test sender of hand-written Rx/Gx requests",
	.requires = diaraw_requires,
	.commands = diaraw_commands,
	.init = diaraw_init,
	.start = diaraw_start,
	.stop = diaraw_stop,
	.fini = diaraw_fini,
};
