/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The loader and the node lifecycle with real modules (tests/unit/tp_*):
 * every refusal is one clear line; plugins start in dependency order and
 * stop in reverse, waiting for one that finishes its work late.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/core.h"
#include "capture.h"
#include "tap.h"

static char conf_path[] = "/tmp/tandem-test-loader-XXXXXX";
static char trace_path[] = "/tmp/tandem-test-trace-XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static int count_lines(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Configure a node from `text`; returns the log, *rc the result. */
static const char *configure(const char *text, int *rc)
{
	struct node node = { 0 };
	const char *log;

	write_file(conf_path, text);
	capture_begin();
	*rc = node_configure(&node, conf_path, getenv("TP_DIR"));
	node_free(&node);
	log = capture_end();
	return log;
}

static void refused(const char *conf, const char *expect, const char *what)
{
	int rc;
	const char *log = configure(conf, &rc);

	ok(rc != 0 && strstr(log, expect) && count_lines(log, " error ") == 1,
	   "%s: refused with one line", what);
	if (!strstr(log, expect) || count_lines(log, " error ") != 1)
		printf("# expected one error line with: %s\n# got: %s", expect,
		       log);
}

static void test_refusals(void)
{
	int rc;

	configure("[plugins]\nload = tp_c tp_b tp_a\n", &rc);
	ok(rc == 0, "good plugins with dependencies load");
	configure("[plugins]\nload = tp_v10 tp_user\n", &rc);
	ok(rc == 0, "an ABI 1.0 plugin loads, and a used service may be absent");
	refused("[plugins]\nload = tp_abi\n",
		"plugin 'tp_abi': built for plugin ABI 99.1, this tandemd has "
		"ABI 1.1", "ABI major mismatch");
	refused("[plugins]\nload = tp_small\n",
		"plugin 'tp_small': descriptor is 8 bytes", "struct too small");
	refused("[plugins]\nload = tp_needy\n",
		"plugin 'tp_needy' requires service 'missing' version 1, which "
		"no loaded plugin provides", "missing dependency");
	refused("[plugins]\nload = tp_a tp_old\n",
		"plugin 'tp_old' requires service 'a' version 2, but the "
		"loaded provider has only version 1", "dependency too old");
	refused("[plugins]\nload = tp_cyc_x tp_cyc_y\n",
		"plugin dependency cycle: tp_cyc_x -> tp_cyc_y -> tp_cyc_x",
		"dependency cycle");
	refused("[plugins]\nload = tp_a tp_a\n", "plugin 'tp_a' is listed twice",
		"duplicate plugin");
	refused("[plugins]\nload = nosuchplugin\n",
		"cannot load plugin 'nosuchplugin'", "missing plugin module");
	refused("[plugins]\nload = tp_a\n[tp_a]\nstop_after = 5\n",
		":4: [tp_a] unknown key 'stop_after'", "unknown key");
	refused("[plugins]\nload = tp_a\n[tp_a]\npending = perhaps\n",
		":4: [tp_a] pending = 'perhaps': not a boolean",
		"bad value type");
	refused("[plugins]\nload = tp_a\n[node]\nstop_timeout_ms = 9999999\n",
		":4: [node] stop_timeout_ms = '9999999': out of range",
		"value out of range");
	refused("[plugins]\nload = tp_a\n[sip]\nport = 5060\n",
		":3: unknown section [sip]", "unknown section");
	refused("[nodes]\nname = x\n", ":1: unknown section [nodes]",
		"misspelt host section");
}

static char *read_trace(void)
{
	static char buf[4096];
	FILE *f = fopen(trace_path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

/* A plugin's own config check: one line with the key's place. */
static void test_plugin_config_error(void)
{
	struct node node = { 0 };
	const char *log;
	int rc;

	write_file(conf_path, "[plugins]\nload = tp_a\n[tp_a]\n\nreject = yes\n");
	capture_begin();
	rc = node_configure(&node, conf_path, getenv("TP_DIR"));
	if (rc == 0)
		rc = node_check(&node);
	node_free(&node);
	log = capture_end();
	ok(rc != 0 && strstr(log, ":5: [tp_a] reject: refused by the plugin") &&
	   count_lines(log, " error ") == 1,
	   "a plugin's config error names file:line, in one line");
	if (count_lines(log, " error ") != 1)
		printf("# %s", log);
}

/* Sections owned by prefix are read at init: a change needs a restart. */
static void test_reload_sections(void)
{
	struct node node = { 0 };
	struct tnd_reply reply;
	char *text;
	int rc;

	write_file(conf_path, "[plugins]\nload = tp_a\n[tpx 1]\nk = 1\n"
			      "[tpx 2]\nk = 1\n");
	capture_begin();
	rc = node_configure(&node, conf_path, getenv("TP_DIR"));
	write_file(conf_path, "[plugins]\nload = tp_a\n[tpx 1]\nk = 2\n"
			      "[tpx 3]\nk = 1\n[tp_a]\npending = yes\n");
	reply_init(&reply);
	if (rc == 0)
		rc = node_reload(&node, &reply);
	text = reply_render(&reply, false);
	node_free(&node);
	capture_end();
	ok(rc == 0 && strstr(text, "need_restart: tp_a.pending, [tpx 1], "
			     "[tpx 3], [tpx 2]"),
	   "a reload names changed, added and removed owned sections");
	if (!strstr(text, "[tpx 1]"))
		printf("# %s", text);
	free(text);
	reply_free(&reply);
}

static void test_uses_order(void)
{
	struct node node = { 0 };
	int rc;

	write_file(trace_path, "");
	write_file(conf_path, "[plugins]\nload = tp_user tp_a\n");
	capture_begin();
	rc = node_configure(&node, conf_path, getenv("TP_DIR"));
	if (rc == 0)
		rc = node_check(&node);
	node_free(&node);
	capture_end();
	ok(rc == 0 && strcmp(read_trace(), "tp_a init\ntp_user init\n"
			     "tp_user fini\ntp_a fini\n") == 0,
	   "a used service's provider is initialised first (got: %s)",
	   read_trace());
}

static void test_lifecycle(void)
{
	struct node node = { 0 };
	const char *log;
	int rc;

	write_file(trace_path, "");
	write_file(conf_path, "[node]\ncontrol_socket = /tmp/tandem-test-"
			      "loader.sock\nstop_timeout_ms = 2000\n"
			      "[plugins]\nload = tp_c tp_b tp_a\n"
			      "[tp_c]\nstop_after_ms = 30\n"
			      "[tp_b]\npending = yes\n");
	capture_begin();
	rc = node_configure(&node, conf_path, getenv("TP_DIR"));
	if (rc == 0)
		rc = node_run(&node);
	node_free(&node);
	log = capture_end();
	ok(rc == 0, "the node runs and stops on SIGTERM with exit code 0");
	ok(strcmp(read_trace(),
		  "tp_a init\ntp_b init\ntp_c init\n"
		  "tp_a start\ntp_b start\ntp_c start\n"
		  "tp_c stop after loop turns\ntp_b stop after loop turns\n"
		  "tp_b stopped\ntp_a stop after loop turns\n"
		  "tp_c fini\ntp_b fini\ntp_a fini\n") == 0,
	   "init/start follow the requires graph, stop/fini go in reverse and "
	   "wait for a pending stop");
	printf("# trace:\n# %s", read_trace());
	ok_contains(log, "left a handle open; closing it",
		    "handles a plugin forgot are closed by the host");

	write_file(trace_path, "");
	write_file(conf_path, "[node]\ncontrol_socket = /tmp/tandem-test-"
			      "loader.sock\n[plugins]\nload = tp_a tp_b\n"
			      "[tp_b]\nfail_start = yes\n");
	memset(&node, 0, sizeof(node));
	capture_begin();
	rc = node_configure(&node, conf_path, getenv("TP_DIR"));
	if (rc == 0)
		rc = node_run(&node);
	node_free(&node);
	log = capture_end();
	ok(rc == 1, "a plugin that fails to start makes the node exit 1");
	ok_contains(log, "plugin tp_b failed to start", "and says which");
	ok(strcmp(read_trace(), "tp_a init\ntp_b init\ntp_a start\ntp_b start\n"
				"tp_a stop\ntp_b fini\ntp_a fini\n") == 0,
	   "what started is stopped, everything initialised is finalised");
	printf("# trace:\n# %s", read_trace());
}

int main(void)
{
	int fd1 = mkstemp(conf_path), fd2 = mkstemp(trace_path);

	close(fd1);
	close(fd2);
	setenv("TP_TRACE", trace_path, 1);
	tap_plan(23);
	test_refusals();
	test_uses_order();
	test_reload_sections();
	test_plugin_config_error();
	test_lifecycle();
	unlink(conf_path);
	unlink(trace_path);
	return tap_done();
}
