/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tandemd: one process, one network node; its config names the plugins. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

#define DEFAULT_CONFIG TANDEM_SYSCONFDIR "/tandem.conf"

struct options {
	const char *config;
	const char *plugin_path;
	bool check;
	bool daemon;
	bool list_params;
	bool markdown;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tandemd [-c FILE] [--check] [--daemon] "
		"[--plugin-path DIR]\n"
		"       tandemd --list-params [--markdown] [PLUGIN...]\n"
		"       tandemd --version | --help\n"
		"\n"
		"  -c, --config FILE    node configuration (default %s)\n"
		"  -t, --check          validate the configuration and exit\n"
		"  -d, --daemon         detach (default: run in the "
		"foreground)\n"
		"  -p, --plugin-path D  search D for plugins first "
		"(colon-separated)\n"
		"  -l, --list-params    print the parameters of [node], "
		"[plugins] or PLUGINs\n"
		"      --markdown       with --list-params: a Markdown table\n",
		DEFAULT_CONFIG);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 't' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "plugin-path", required_argument, NULL, 'p' },
		{ "list-params", no_argument, NULL, 'l' },
		{ "markdown", no_argument, NULL, 'm' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	o->config = DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, "c:tdp:lVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 't': o->check = true; break;
		case 'd': o->daemon = true; break;
		case 'p': o->plugin_path = optarg; break;
		case 'l': o->list_params = true; break;
		case 'm': o->markdown = true; break;
		case 'V':
			printf("tandemd %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
			       TND_ABI_MAJOR, TND_ABI_MINOR);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc && !o->list_params) {
		fprintf(stderr, "tandemd: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static void markdown_escape(const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", stdout);
		else
			putchar(*s);
	}
}

static const char *field(const struct ctl_record *rec, const char *key)
{
	for (size_t k = 0; k < rec->nfields; k++)
		if (strcmp(rec->fields[k].key, key) == 0)
			return rec->fields[k].value;
	return "";
}

/* The configuration reference for docs/ (contrib/gen-config-ref.sh): a
 * heading and a table per section. */
static void print_markdown(const struct tnd_reply *r)
{
	static const char *const cols[] = { "param", "type", "default",
					    "range", "reload", "help" };
	const char *section = NULL;

	for (size_t i = 0; i < r->nrecords; i++) {
		const struct ctl_record *rec = &r->records[i];

		if (!section || strcmp(section, field(rec, "section")) != 0) {
			section = field(rec, "section");
			printf("%s## [%s]\n\n| parameter | type | default | "
			       "range | reloadable | meaning |\n"
			       "|---|---|---|---|---|---|\n",
			       i ? "\n" : "", section);
		}
		for (size_t c = 0; c < ARRAY_SIZE(cols); c++) {
			fputs(c ? " | " : "| ", stdout);
			markdown_escape(field(rec, cols[c]));
		}
		fputs(" |\n", stdout);
	}
}

static int list_params(const struct options *o, int argc, char **argv)
{
	struct loader ld = { 0 };
	struct tnd_reply r;
	char path[4096];
	int rc = 0;

	snprintf(path, sizeof(path), "%s%s%s",
		 o->plugin_path ? o->plugin_path : "",
		 o->plugin_path ? ":" : "", TANDEM_PLUGINDIR);
	reply_init(&r);
	if (optind == argc) {
		params_reply(&r, "node", node_params, NULL);
		params_reply(&r, "plugins", plugins_params, NULL);
	}
	if (loader_init(path) != 0)
		return 1;
	for (int i = optind; i < argc && rc == 0; i++) {
		rc = loader_load(&ld, argv[i], 0);
		if (rc == 0)
			params_reply(&r, argv[i],
				     ld.plugins[ld.nplugins - 1].desc->params,
				     NULL);
	}
	if (rc == 0 && o->markdown) {
		print_markdown(&r);
	} else if (rc == 0) {
		char *text = reply_render(&r, false);

		fputs(text, stdout);
		free(text);
	}
	reply_free(&r);
	loader_unload_all(&ld);
	loader_exit();
	strings_free();
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct node node = { 0 };
	int rc;

	if (parse_options(argc, argv, &o) != 0)
		return 2;
	if (o.list_params)
		return list_params(&o, argc, argv);
	rc = node_configure(&node, o.config, o.plugin_path);
	if (rc == 0 && o.check)
		rc = node_check(&node);
	if (o.check) {
		if (rc == 0)
			printf("%s: configuration OK (%zu plugins)\n", o.config,
			       node.loader.nplugins);
		node_free(&node);
		return rc == 0 ? 0 : 1;
	}
	if (rc == 0 && o.daemon && daemon(0, 0) < 0) {
		fprintf(stderr, "tandemd: daemon: %s\n", strerror(errno));
		rc = -errno;
	}
	if (rc == 0)
		rc = node_run(&node);
	else
		rc = 1;
	if (node.abandoned) {
		/* Threads of a plugin that did not stop in time may hold locks
		 * that exit()'s handlers and library destructors would wait
		 * for: the node would hang instead of stopping. The log
		 * goes to unbuffered stderr or syslog: nothing to flush. */
		_exit(rc);
	}
	node_free(&node);
	return rc;
}
