/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Control replies (text and JSON) and command dispatch. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../core/core.h"
#include "tap.h"

static const struct tnd_host_api *api = &host_api;
static const char *last_args;

static int cmd_show(struct tnd_reply *r, int argc, char **argv)
{
	last_args = argc ? argv[0] : "";
	api->reply_field(r, "what", "show");
	return 0;
}

static int cmd_show_more(struct tnd_reply *r, int argc, char **argv)
{
	last_args = argc ? argv[0] : "";
	api->reply_field(r, "what", "show more");
	return 0;
}

static int cmd_fail(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	return api->reply_error(r, "it broke");
}

static const struct tnd_command cmds[] = {
	{ "x show", "[ARG]", "show", cmd_show },
	{ "x show more", NULL, "show more", cmd_show_more },
	{ "x fail", NULL, "fails", cmd_fail },
	TND_COMMAND_END
};

static char *run(bool json, int argc, char **argv)
{
	struct tnd_reply r;
	char *out;

	reply_init(&r);
	ctl_dispatch(&r, argc, argv);
	out = reply_render(&r, json);
	reply_free(&r);
	return out;
}

static void test_render(void)
{
	struct tnd_reply r;
	char *text;

	reply_init(&r);
	api->reply_record(&r);
	api->reply_field(&r, "name", "a");
	api->reply_field_num(&r, "count", 10);
	api->reply_record(&r);
	api->reply_field(&r, "name", "longer");
	api->reply_field_num(&r, "count", 2);
	text = reply_render(&r, false);
	ok(strcmp(text, "name    count\na       10\nlonger  2\n") == 0,
	   "records with the same keys render as an aligned table");
	free(text);
	text = reply_render(&r, true);
	ok(strcmp(text, "{\"ok\":true,\"records\":[{\"name\":\"a\",\"count\":10},"
			"{\"name\":\"longer\",\"count\":2}]}\n") == 0,
	   "and as JSON with numbers unquoted");
	free(text);
	reply_free(&r);

	reply_init(&r);
	api->reply_field(&r, "quote", "say \"hi\"\n\\");
	api->reply_text(&r, "tail %d", 1);
	text = reply_render(&r, true);
	ok(strcmp(text, "{\"ok\":true,\"records\":[{\"quote\":\"say \\\"hi\\\""
			"\\u000a\\\\\"}],\"text\":\"tail 1\"}\n") == 0,
	   "JSON escapes quotes, backslashes and control characters");
	free(text);
	text = reply_render(&r, false);
	ok(strcmp(text, "quote: say \"hi\"\n\\\ntail 1\n") == 0,
	   "a single record renders as key: value lines, then the text");
	free(text);
	reply_free(&r);
}

static void test_dispatch(void)
{
	char *a1[] = { "x", "show", "arg" };
	char *a2[] = { "x", "show", "more" };
	char *a3[] = { "x", "nothing" };
	char *a4[] = { "x", "fail" };
	char *a5[] = { "help", "x", "show" };
	char *out;

	ctl_add_commands(cmds, "test");
	out = run(false, 3, a1);
	ok(strcmp(out, "what: show\n") == 0 && strcmp(last_args, "arg") == 0,
	   "a command gets the words after its name");
	free(out);
	out = run(false, 3, a2);
	ok(strcmp(out, "what: show more\n") == 0,
	   "the longest matching command wins");
	free(out);
	out = run(false, 2, a3);
	ok(strcmp(out, "error: unknown command 'x nothing'; 'help' lists the "
		       "commands\n") == 0, "an unknown command is a clear error");
	free(out);
	out = run(true, 2, a3);
	ok_contains(out, "{\"ok\":false,\"error\":\"unknown command",
		    "also in JSON");
	free(out);
	out = run(false, 2, a4);
	ok(strcmp(out, "error: it broke\n") == 0, "a command's error is shown");
	free(out);
	out = run(false, 3, a5);
	ok(strstr(out, "x show more") && strstr(out, "x show ") &&
	   !strstr(out, "x fail"), "help filters by the words given");
	free(out);
	ctl_remove_commands("test");
	out = run(false, 3, a1);
	ok_contains(out, "unknown command", "removed commands are gone");
	free(out);
	ctl_remove_all();
}

int main(void)
{
	tap_plan(11);
	test_render();
	test_dispatch();
	return tap_done();
}
