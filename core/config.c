/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * INI configuration: libinih does the syntax; this file keeps every section
 * and key with its line, so each later complaint (unknown key, bad value,
 * unclaimed section) can name file and line, and parses values against the
 * parameter tables of the host and of each plugin.
 */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define LOG_CAT "config"
#define MAX_LINE_BYTES 4096
#define MAX_FILE_BYTES (16 * 1024 * 1024)

/* What the libinih reader and handler share while one file is parsed. */
struct parse_state {
	struct tnd_config *cfg;
	const char *text;
	size_t pos, len;
	int line; /* physical line last handed to libinih */
	struct cfg_section *current;
};

static void *xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size);

	if (!q && size) {
		fprintf(stderr, "tandemd: out of memory\n");
		abort();
	}
	return q;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		fprintf(stderr, "tandemd: out of memory\n");
		abort();
	}
	return d;
}

void config_error(struct tnd_config *cfg, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg->nerrors++;
	if (line > 0)
		core_error(LOG_CAT, "%s:%d: %s", cfg->path, line, msg);
	else
		core_error(LOG_CAT, "%s: %s", cfg->path, msg);
}

/* RFC 3629 well-formed UTF-8 (no overlongs, no surrogates). */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned min;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1, min = 0x80, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, min = 0x800, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, min = 0x10000, cp = c & 0x07;
		} else {
			return i;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return (size_t)-1;
}

static const char *skip_space(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	return s;
}

static struct cfg_section *section_add(struct tnd_config *cfg,
				       const char *name, int line)
{
	struct cfg_section *sec = config_section(cfg, name);

	if (sec) {
		config_error(cfg, line, "section [%s] appears twice (first at "
			     "line %d)", name, sec->line);
		return sec;
	}
	cfg->sections = xrealloc(cfg->sections, (cfg->nsections + 1) *
						       sizeof(*cfg->sections));
	sec = &cfg->sections[cfg->nsections++];
	memset(sec, 0, sizeof(*sec));
	sec->name = xstrdup(name);
	sec->line = line;
	return sec;
}

/* "[ name ]" with inner spaces folded to one: "[span  1]" is "[span 1]". */
static void section_header(struct parse_state *st, const char *s,
			   const char *end)
{
	const char *close = memchr(s, ']', (size_t)(end - s));
	char name[256];
	size_t n = 0;
	bool space = false;

	if (!close) {
		config_error(st->cfg, st->line, "section header without ']'");
		return;
	}
	for (const char *p = s + 1; p < close && n + 2 < sizeof(name); p++) {
		if (*p == ' ' || *p == '\t') {
			space = n > 0;
			continue;
		}
		if (space)
			name[n++] = ' ';
		space = false;
		name[n++] = *p;
	}
	name[n] = '\0';
	if (n == 0) {
		config_error(st->cfg, st->line, "empty section name");
		return;
	}
	st->current = section_add(st->cfg, name, st->line);
}

/*
 * Our own look at each physical line before libinih sees it: line numbers,
 * UTF-8, length, section headers (libinih does not report empty sections)
 * and lines that are neither a comment, a section nor a key.
 */
static void check_line(struct parse_state *st, const char *s, const char *end)
{
	size_t bad = utf8_invalid_at((const unsigned char *)s,
				     (size_t)(end - s));

	if (bad != (size_t)-1) {
		config_error(st->cfg, st->line,
			     "invalid UTF-8 byte 0x%02x at column %zu",
			     (unsigned char)s[bad], bad + 1);
		return;
	}
	if (end - s > MAX_LINE_BYTES - 3) {
		config_error(st->cfg, st->line, "line longer than %d bytes",
			     MAX_LINE_BYTES - 3);
		return;
	}
	if (st->line == 1 && end - s >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	s = skip_space(s, end);
	if (s == end || *s == ';' || *s == '#')
		return;
	if (*s == '[') {
		section_header(st, s, end);
		return;
	}
	if (!memchr(s, '=', (size_t)(end - s)) &&
	    !memchr(s, ':', (size_t)(end - s)))
		config_error(st->cfg, st->line,
			     "expected 'key = value' or '[section]'");
	else if (*s == '=' || *s == ':')
		config_error(st->cfg, st->line, "key name missing before '%c'",
			     *s);
	else if (!st->current)
		config_error(st->cfg, st->line,
			     "key outside any section (add a [section] above)");
}

/* libinih's ini_reader: one physical line per call, like fgets(). */
static char *read_line(char *buf, int size, void *stream)
{
	struct parse_state *st = stream;
	const char *start = st->text + st->pos;
	const char *nl;
	size_t line_len, copy;

	if (st->pos >= st->len)
		return NULL;
	nl = memchr(start, '\n', st->len - st->pos);
	line_len = nl ? (size_t)(nl - start) : st->len - st->pos;
	st->pos += line_len + (nl ? 1 : 0);
	st->line++;
	check_line(st, start, start + line_len);
	/* A NUL inside a line would end it early for libinih: the UTF-8
	 * check accepts U+0000, so refuse it here. */
	if (memchr(start, '\0', line_len))
		config_error(st->cfg, st->line, "NUL byte in line");
	copy = line_len < (size_t)size - 2 ? line_len : (size_t)size - 2;
	memcpy(buf, start, copy);
	buf[copy] = '\n';
	buf[copy + 1] = '\0';
	return buf;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct parse_state *st = user;
	struct cfg_section *sec = st->current;
	struct cfg_key *key;

	(void)section; /* ours, with folded spaces, is st->current */
	if (!sec || !name || !value)
		return 1;
	key = config_key(sec, name);
	if (key) {
		config_error(st->cfg, st->line, "[%s] key '%s' set twice "
			     "(first at line %d)", sec->name, name, key->line);
		return 1;
	}
	sec->keys = xrealloc(sec->keys, (sec->nkeys + 1) * sizeof(*sec->keys));
	key = &sec->keys[sec->nkeys++];
	key->name = xstrdup(name);
	key->value = xstrdup(value);
	key->line = st->line;
	return 1;
}

static void ini_settings(void)
{
	/* Debian's libinih exposes its compile-time options as variables. A
	 * continuation line would look like a duplicate key: refuse it. */
	ini_allow_multiline = false;
	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_max_line = MAX_LINE_BYTES;
	ini_stop_on_first_error = false;
}

static struct tnd_config *parse_text(const char *name, const char *text,
				     size_t len)
{
	struct tnd_config *cfg = calloc(1, sizeof(*cfg));
	struct parse_state st = { 0 };

	if (!cfg)
		return NULL;
	cfg->path = xstrdup(name);
	st.cfg = cfg;
	st.text = text;
	st.len = len;
	ini_settings();
	if (ini_parse_stream(read_line, &st, on_key, &st) < 0)
		config_error(cfg, 0, "cannot parse (out of memory)");
	return cfg;
}

struct tnd_config *config_load_string(const char *name, const char *text)
{
	return parse_text(name, text, strlen(text));
}

/* Read the whole file: lines are checked before libinih sees them. */
static char *read_file(const char *path, size_t *len_out, int *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		*err = errno;
		return NULL;
	}
	for (;;) {
		size_t got;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = xrealloc(buf, cap + 1);
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
		if (len > MAX_FILE_BYTES) {
			fclose(f);
			free(buf);
			*err = EFBIG;
			return NULL;
		}
	}
	*err = ferror(f) ? EIO : 0;
	fclose(f);
	if (*err) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	*len_out = len;
	return buf;
}

struct tnd_config *config_load(const char *path)
{
	struct tnd_config *cfg;
	size_t len = 0;
	int err = 0;
	char *text = read_file(path, &len, &err);

	if (!text) {
		core_error(LOG_CAT, "%s: cannot read: %s", path, strerror(err));
		return NULL;
	}
	cfg = parse_text(path, text, len);
	free(text);
	return cfg;
}

void config_free(struct tnd_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nsections; i++) {
		struct cfg_section *sec = &cfg->sections[i];

		for (size_t k = 0; k < sec->nkeys; k++) {
			free(sec->keys[k].name);
			free(sec->keys[k].value);
		}
		free(sec->keys);
		free(sec->name);
	}
	free(cfg->sections);
	free(cfg->path);
	free(cfg);
}

struct cfg_section *config_section(struct tnd_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsections; i++)
		if (strcmp(cfg->sections[i].name, name) == 0)
			return &cfg->sections[i];
	return NULL;
}

struct cfg_key *config_key(struct cfg_section *sec, const char *name)
{
	for (size_t i = 0; sec && i < sec->nkeys; i++)
		if (strcmp(sec->keys[i].name, name) == 0)
			return &sec->keys[i];
	return NULL;
}

/* ---- Strings handed to config structs -------------------------------- */

static char **kept;
static size_t nkept;

char *strings_keep(const char *text)
{
	kept = xrealloc(kept, (nkept + 1) * sizeof(*kept));
	kept[nkept] = xstrdup(text);
	return kept[nkept++];
}

void strings_free(void)
{
	for (size_t i = 0; i < nkept; i++)
		free(kept[i]);
	free(kept);
	kept = NULL;
	nkept = 0;
}

size_t split_words(char *text, char **words, size_t max)
{
	size_t n = 0;

	for (char *tok = strtok(text, " \t,"); tok && n < max;
	     tok = strtok(NULL, " \t,"))
		words[n++] = tok;
	return n;
}

/* ---- Parameter values ------------------------------------------------ */

const char *param_type_name(const struct tnd_param *param)
{
	switch (param->type) {
	case TND_STR: return "string";
	case TND_INT: return "integer";
	case TND_UINT: return "unsigned";
	case TND_BOOL: return "boolean";
	case TND_DOUBLE: return "number";
	case TND_ENUM: return "enum";
	}
	return "?";
}

static bool has_range(const struct tnd_param *param)
{
	return param->min != 0 || param->max != 0;
}

static int check_range(const struct tnd_param *param, double v, char *why,
		       size_t why_size)
{
	if (has_range(param) && (v < param->min || v > param->max)) {
		snprintf(why, why_size, "out of range %.15g..%.15g",
			 param->min, param->max);
		return -ERANGE;
	}
	return 0;
}

/* After strto(u)ll: the whole text must be the number, and fit. */
static int number_done(const char *text, const char *end, const char *what,
		       char *why, size_t why_size)
{
	if (end == text || *end != '\0') {
		snprintf(why, why_size, "not %s", what);
		return -EINVAL;
	}
	if (errno == ERANGE) {
		snprintf(why, why_size, "too large");
		return -ERANGE;
	}
	return 0;
}

static int parse_int(const struct tnd_param *param, const char *text,
		     void *dst, char *why, size_t why_size)
{
	char *end;
	long long v;
	int rc;

	errno = 0;
	v = strtoll(text, &end, 0);
	rc = number_done(text, end, "an integer", why, why_size);
	if (rc == 0 && check_range(param, (double)v, why, why_size))
		rc = -ERANGE;
	if (rc == 0)
		*(long long *)dst = v;
	return rc;
}

static int parse_uint(const struct tnd_param *param, const char *text,
		      void *dst, char *why, size_t why_size)
{
	char *end = (char *)text;
	unsigned long long v = 0;
	int rc;

	errno = 0;
	/* strtoull accepts "-1" as a huge number: refuse any sign. */
	if (text[0] != '-' && text[0] != '+')
		v = strtoull(text, &end, 0);
	rc = number_done(text, end, "an unsigned integer", why, why_size);
	if (rc == 0 && check_range(param, (double)v, why, why_size))
		rc = -ERANGE;
	if (rc == 0)
		*(unsigned long long *)dst = v;
	return rc;
}

static int parse_bool(const char *text, void *dst, char *why, size_t why_size)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*(int *)dst = 1;
			return 0;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*(int *)dst = 0;
			return 0;
		}
	}
	snprintf(why, why_size, "not a boolean (yes/no, true/false, on/off, "
		 "1/0)");
	return -EINVAL;
}

static int parse_double(const struct tnd_param *param, const char *text,
			void *dst, char *why, size_t why_size)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || *end != '\0' || !isfinite(v)) {
		snprintf(why, why_size, "not a number");
		return -EINVAL;
	}
	if (check_range(param, v, why, why_size))
		return -ERANGE;
	*(double *)dst = v;
	return 0;
}

static bool enum_has(const char *choices, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = choices; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

int param_parse(const struct tnd_param *param, const char *text, void *dst,
		char *why, size_t why_size)
{
	switch (param->type) {
	case TND_STR:
		*(char **)dst = strings_keep(text);
		return 0;
	case TND_ENUM:
		if (!enum_has(param->choices, text)) {
			snprintf(why, why_size, "not one of %s",
				 param->choices ? param->choices : "(none)");
			return -EINVAL;
		}
		*(char **)dst = strings_keep(text);
		return 0;
	case TND_INT:
		return parse_int(param, text, dst, why, why_size);
	case TND_UINT:
		return parse_uint(param, text, dst, why, why_size);
	case TND_BOOL:
		return parse_bool(text, dst, why, why_size);
	case TND_DOUBLE:
		return parse_double(param, text, dst, why, why_size);
	}
	snprintf(why, why_size, "parameter has an unknown type %d",
		 (int)param->type);
	return -EINVAL;
}

void param_format(const struct tnd_param *param, const void *cfg_struct,
		  char *buf, size_t size)
{
	const char *p = (const char *)cfg_struct + param->offset;

	switch (param->type) {
	case TND_STR:
	case TND_ENUM:
		snprintf(buf, size, "%s",
			 *(char *const *)p ? *(char *const *)p : "");
		return;
	case TND_INT:
		snprintf(buf, size, "%lld", *(const long long *)p);
		return;
	case TND_UINT:
		snprintf(buf, size, "%llu", *(const unsigned long long *)p);
		return;
	case TND_BOOL:
		snprintf(buf, size, "%s", *(const int *)p ? "yes" : "no");
		return;
	case TND_DOUBLE:
		snprintf(buf, size, "%.15g", *(const double *)p);
		return;
	}
	snprintf(buf, size, "?");
}

static size_t param_value_size(const struct tnd_param *param)
{
	switch (param->type) {
	case TND_STR:
	case TND_ENUM: return sizeof(char *);
	case TND_INT: return sizeof(long long);
	case TND_UINT: return sizeof(unsigned long long);
	case TND_BOOL: return sizeof(int);
	case TND_DOUBLE: return sizeof(double);
	}
	return 0;
}

bool param_equal(const struct tnd_param *param, const void *a, const void *b)
{
	const char *pa = (const char *)a + param->offset;
	const char *pb = (const char *)b + param->offset;

	if (param->type == TND_STR || param->type == TND_ENUM) {
		const char *sa = *(char *const *)pa, *sb = *(char *const *)pb;

		return (!sa && !sb) || (sa && sb && strcmp(sa, sb) == 0);
	}
	return memcmp(pa, pb, param_value_size(param)) == 0;
}

void param_copy(const struct tnd_param *param, void *dst, const void *src)
{
	memcpy((char *)dst + param->offset,
	       (const char *)src + param->offset, param_value_size(param));
}

static const struct tnd_param *param_find(const struct tnd_param *params,
					  const char *name)
{
	for (const struct tnd_param *p = params; p && p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static void unknown_key(struct tnd_config *cfg, const char *owner,
			const struct cfg_key *key,
			const struct tnd_param *params)
{
	char known[512] = "";
	size_t used = 0;

	for (const struct tnd_param *p = params; p && p->name; p++) {
		int n = snprintf(known + used, sizeof(known) - used, "%s%s",
				 used ? ", " : "", p->name);

		if (n < 0 || (size_t)n >= sizeof(known) - used)
			break;
		used += (size_t)n;
	}
	config_error(cfg, key->line, "[%s] unknown key '%s' (known: %s)",
		     owner, key->name, used ? known : "none");
}

int config_apply_params(struct tnd_config *cfg, struct cfg_section *sec,
			const char *owner, const struct tnd_param *params,
			void *out)
{
	int before = cfg->nerrors;
	char why[256];

	if (sec)
		sec->claimed = true;
	for (size_t i = 0; sec && i < sec->nkeys; i++)
		if (!param_find(params, sec->keys[i].name))
			unknown_key(cfg, owner, &sec->keys[i], params);
	for (const struct tnd_param *p = params; p && p->name; p++) {
		struct cfg_key *key = config_key(sec, p->name);
		const char *text = key ? key->value : p->def;
		void *dst = (char *)out + p->offset;

		if (!text) {
			config_error(cfg, sec ? sec->line : 0,
				     "[%s] %s is required (%s)", owner,
				     p->name, p->help ? p->help : "");
			continue;
		}
		if (param_parse(p, text, dst, why, sizeof(why)) == 0)
			continue;
		if (key)
			config_error(cfg, key->line, "[%s] %s = '%s': %s",
				     owner, p->name, text, why);
		else
			config_error(cfg, 0, "[%s] default of %s '%s': %s "
				     "(a bug in its parameter table)", owner,
				     p->name, text, why);
	}
	return cfg->nerrors - before;
}
