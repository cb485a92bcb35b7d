/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The config parser: every class of malformed input names file and line. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "../core/core.h"
#include "capture.h"
#include "tap.h"

struct sample_cfg {
	char *name;
	long long level;
	unsigned long long count;
	int flag;
	double ratio;
	char *mode;
	char *must;
};

static const struct tnd_param sample_params[] = {
	TND_PARAM("name", TND_STR, struct sample_cfg, name, "anon", "a name"),
	TND_PARAM("level", TND_INT, struct sample_cfg, level, "0", "level",
		  .min = -10, .max = 10),
	TND_PARAM("count", TND_UINT, struct sample_cfg, count, "5", "count",
		  .min = 1, .max = 100),
	TND_PARAM("flag", TND_BOOL, struct sample_cfg, flag, "no", "flag"),
	TND_PARAM("ratio", TND_DOUBLE, struct sample_cfg, ratio, "0.5", "ratio",
		  .min = 0, .max = 1),
	TND_PARAM("mode", TND_ENUM, struct sample_cfg, mode, "udp", "mode",
		  .choices = "udp|tcp|tls"),
	TND_PARAM_END
};

static const struct tnd_param required_params[] = {
	TND_PARAM("must", TND_STR, struct sample_cfg, must, NULL,
		  "a value with no default", .flags = TND_PARAM_REQUIRED),
	TND_PARAM_END
};

/* Parse `text`; return the log and the error count. */
static const char *parse(const char *text, int *nerrors)
{
	struct tnd_config *cfg;
	const char *log;

	capture_begin();
	cfg = config_load_string("t.conf", text);
	log = capture_end();
	*nerrors = cfg->nerrors;
	config_free(cfg);
	return log;
}

/* Parse `text` and apply sample_params to its [s] section. */
static const char *apply(const char *text, struct sample_cfg *out,
			 int *nerrors)
{
	struct tnd_config *cfg = config_load_string("t.conf", text);
	const char *log;

	memset(out, 0, sizeof(*out));
	capture_begin();
	config_apply_params(cfg, config_section(cfg, "s"), "s", sample_params,
			    out);
	log = capture_end();
	*nerrors = cfg->nerrors;
	config_free(cfg);
	return log;
}

static void test_good(void)
{
	struct tnd_config *cfg = config_load_string(
		"t.conf", "; comment\n[node]\nname = a\n\n[span   1]\n"
			  "type = e1 ; inline comment\n# another\n");
	struct cfg_section *span = config_section(cfg, "span 1");
	struct cfg_key *type = config_key(span, "type");

	ok(cfg->nerrors == 0, "a good file parses without errors");
	ok(span && span->line == 5, "section names fold inner spaces and "
	   "keep their line");
	ok(type && strcmp(type->value, "e1") == 0 && type->line == 6,
	   "inline comments are stripped and keys keep their line");
	ok(config_key(config_section(cfg, "node"), "name") != NULL,
	   "keys are found by section and name");
	config_free(cfg);
}

static void test_syntax(void)
{
	int n;
	const char *log;

	log = parse("[node\nname = a\n", &n);
	ok_contains(log, "t.conf:1: section header without ']'",
		    "an unclosed section header is refused with its line");
	log = parse("name = a\n", &n);
	ok_contains(log, "t.conf:1: key outside any section",
		    "a key before any section is refused");
	log = parse("[node]\nthis line has no equals sign\n", &n);
	ok_contains(log, "t.conf:2: expected 'key = value' or '[section]'",
		    "a line that is neither key nor section is refused");
	log = parse("[node]\n= value\n", &n);
	ok_contains(log, "t.conf:2: key name missing",
		    "a value without a key is refused");
	log = parse("[]\n", &n);
	ok_contains(log, "t.conf:1: empty section name",
		    "an empty section name is refused");
	log = parse("[node]\nname = a\nname = b\n", &n);
	ok_contains(log, "t.conf:3: [node] key 'name' set twice (first at "
		    "line 2)", "a duplicate key names both lines");
	log = parse("[node]\n[x]\n[node]\n", &n);
	ok_contains(log, "t.conf:3: section [node] appears twice (first at "
		    "line 1)", "a duplicate section names both lines");
	ok(n == 1, "exactly one error for one duplicate section");
}

static void test_bytes(void)
{
	char longline[6000];
	int n;
	const char *log;

	log = parse("[node]\nname = caf\xff\n", &n);
	ok_contains(log, "t.conf:2: invalid UTF-8 byte 0xff at column 11",
		    "a non-UTF-8 byte is refused with line and column");
	log = parse("[node]\nname = \xc0\xaf\n", &n);
	ok_contains(log, "t.conf:2: invalid UTF-8",
		    "an overlong UTF-8 sequence is refused");
	log = parse("[node]\nname = caf\xc3\xa9\n", &n);
	ok(n == 0, "valid UTF-8 is accepted");
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	memcpy(longline, "[node]\nk = ", 11);
	log = parse(longline, &n);
	ok_contains(log, "t.conf:2: line longer than",
		    "an overlong line is refused");
}

static void test_missing_file(void)
{
	struct tnd_config *cfg;
	const char *log;

	capture_begin();
	cfg = config_load("/nonexistent/tandem.conf");
	log = capture_end();
	ok(cfg == NULL, "a missing file gives no config");
	ok_contains(log, "/nonexistent/tandem.conf: cannot read: No such file",
		    "a missing file is named with the reason");
}

static void test_values(void)
{
	struct sample_cfg v;
	int n;
	const char *log;

	log = apply("[s]\nlevel = -3\ncount = 0x10\nflag = On\nratio = 0.25\n"
		    "mode = tls\nname = x y\n", &v, &n);
	ok(n == 0 && v.level == -3 && v.count == 16 && v.flag == 1 &&
	   v.ratio == 0.25 && strcmp(v.mode, "tls") == 0 &&
	   strcmp(v.name, "x y") == 0, "every type parses its good values");
	log = apply("[s]\n", &v, &n);
	ok(n == 0 && v.count == 5 && strcmp(v.name, "anon") == 0,
	   "absent keys take their defaults");
	log = apply("[s]\nbogus = 1\n", &v, &n);
	ok_contains(log, "t.conf:2: [s] unknown key 'bogus' (known: name, "
		    "level, count, flag, ratio, mode)",
		    "an unknown key is refused, listing the known ones");
	log = apply("[s]\nlevel = abc\n", &v, &n);
	ok_contains(log, "t.conf:2: [s] level = 'abc': not an integer",
		    "a wrong type is refused");
	log = apply("[s]\nlevel = 11\n", &v, &n);
	ok_contains(log, "t.conf:2: [s] level = '11': out of range -10..10",
		    "an out-of-range integer is refused");
	log = apply("[s]\ncount = -1\n", &v, &n);
	ok_contains(log, "not an unsigned integer",
		    "a negative unsigned is refused");
	log = apply("[s]\ncount = 99999999999999999999999\n", &v, &n);
	ok_contains(log, "too large", "an integer overflow is refused");
	log = apply("[s]\nflag = maybe\n", &v, &n);
	ok_contains(log, "not a boolean", "a bad boolean is refused");
	log = apply("[s]\nratio = 1.5\n", &v, &n);
	ok_contains(log, "out of range 0..1", "an out-of-range number is "
		    "refused");
	log = apply("[s]\nratio = nan\n", &v, &n);
	ok_contains(log, "not a number", "NaN is refused");
	log = apply("[s]\nmode = sctp\n", &v, &n);
	ok_contains(log, "[s] mode = 'sctp': not one of udp|tcp|tls",
		    "a value outside an enum is refused");
}

static void test_required(void)
{
	struct tnd_config *cfg = config_load_string("t.conf", "[s]\n");
	struct sample_cfg v = { 0 };
	const char *log;

	capture_begin();
	config_apply_params(cfg, config_section(cfg, "s"), "s",
			    required_params, &v);
	log = capture_end();
	ok_contains(log, "t.conf:1: [s] must is required",
		    "a missing required key is refused");
	config_free(cfg);
}

static void test_format(void)
{
	struct sample_cfg a = { 0 }, b = { 0 };
	char buf[64], why[64];

	param_parse(&sample_params[1], "-7", &a.level, why, sizeof(why));
	param_format(&sample_params[1], &a, buf, sizeof(buf));
	ok(strcmp(buf, "-7") == 0, "an integer formats back as written");
	param_parse(&sample_params[3], "true", &a.flag, why, sizeof(why));
	param_format(&sample_params[3], &a, buf, sizeof(buf));
	ok(strcmp(buf, "yes") == 0, "a boolean formats as yes/no");
	ok(!param_equal(&sample_params[1], &a, &b), "different values differ");
	param_copy(&sample_params[1], &b, &a);
	ok(param_equal(&sample_params[1], &a, &b), "a copied value is equal");
}

int main(void)
{
	tap_plan(34);
	test_good();
	test_syntax();
	test_bytes();
	test_missing_file();
	test_values();
	test_required();
	test_format();
	strings_free();
	return tap_done();
}
