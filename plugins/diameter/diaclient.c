/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diaclient - a Diameter client in its own process, on freeDiameter, for
 * tests and benchmarks of Diameter nodes (the hss above all).
 *
 * Script mode (default): reads commands from stdin, one a line:
 *   send CMD [AVP=VALUE ...]   send a request, print its answer
 *   wait-requests N            wait (bounded) until N requests came in
 *   sleep MS
 * CMD is a command abbreviation (UAR SAR LIR MAR RTR PPR UDR PUR SNR PNR);
 * an AVP is named as in the dictionary; Group.Child=V puts Child in the
 * last Group at that level (made when there is none), Group+.Child=V in a
 * new one. VALUE is text, hex:HEX for octets, or a number. The special
 * names -dest-host and -dest-realm set the Destination-* AVPs.
 *
 * Each answer prints as "answer CMD" and one "  Path=value" line per AVP,
 * octets as text when printable, else hex:. Requests that arrive (RTR,
 * PPR, PNR) are answered 2001 and printed as "request CMD" the same way.
 *
 * Bench mode: --bench "CMD AVP=V..." --count N --window W --users U sends
 * N requests, W in flight, with %u in values replaced by i % U, and prints
 * key=value lines: sent, answered, errors, elapsed_s, rate_per_s, p50_us,
 * p99_us.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diameter_int.h"

#define MAX_AVPS 32
#define LINE_MAX_LEN 8192

/* ---- The little host diameter_dict.c logs through --------------------- */

static int verbose;

static void cli_vlog(const char *cat, enum tnd_log_level level,
		     const char *file, int line, const char *fmt, va_list ap)
{
	(void)cat, (void)file, (void)line;
	if (level > TND_LOG_NOTICE && !verbose)
		return;
	fprintf(stderr, "diaclient: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void cli_log(const char *cat, enum tnd_log_level level, const char *file,
		    int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vlog(cat, level, file, line, fmt, ap);
	va_end(ap);
}

static const struct tnd_host_api cli_host = {
	.size = sizeof(struct tnd_host_api),
	.log = cli_log,
	.vlog = cli_vlog,
};
const struct tnd_host_api *dia_host = &cli_host;

/* ---- Options ---------------------------------------------------------- */

struct options {
	const char *identity, *realm, *peer, *cert, *key, *ca;
	const char *dict_dir;
	unsigned port;
	unsigned timeout_ms;
	unsigned wait_peer_ms;
	const char *bench;
	unsigned long count;
	unsigned window;
	unsigned users;
	unsigned duration_s;
};

static struct options opt = {
	.dict_dir = "/usr/lib/freeDiameter",
	.port = 3870,
	.timeout_ms = 5000,
	.wait_peer_ms = 10000,
	.count = 10000,
	.window = 64,
	.users = 1000,
};

static struct dia_peer_conf peer;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- Commands by abbreviation ----------------------------------------- */

static const struct {
	const char *abbr;
	uint32_t code;
	uint32_t app;
} cmd_table[] = {
	{ "UAR", DIA_CMD_UAR, DIA_APP_CX }, { "SAR", DIA_CMD_SAR, DIA_APP_CX },
	{ "LIR", DIA_CMD_LIR, DIA_APP_CX }, { "MAR", DIA_CMD_MAR, DIA_APP_CX },
	{ "RTR", DIA_CMD_RTR, DIA_APP_CX }, { "PPR", DIA_CMD_PPR, DIA_APP_CX },
	{ "UDR", DIA_CMD_UDR, DIA_APP_SH }, { "PUR", DIA_CMD_PUR, DIA_APP_SH },
	{ "SNR", DIA_CMD_SNR, DIA_APP_SH }, { "PNR", DIA_CMD_PNR, DIA_APP_SH },
};

static int cmd_lookup(const char *abbr, uint32_t *code, uint32_t *app)
{
	for (size_t i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++) {
		if (strcasecmp(cmd_table[i].abbr, abbr) == 0) {
			*code = cmd_table[i].code;
			*app = cmd_table[i].app;
			return 0;
		}
	}
	return -ENOENT;
}

static const char *cmd_abbr(uint32_t code)
{
	for (size_t i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
		if (cmd_table[i].code == code)
			return cmd_table[i].abbr;
	return "?";
}

/* ---- Building a request from text ------------------------------------- */

static struct avp *last_child(msg_or_avp *parent, const struct dia_avpdef *d)
{
	struct avp *avp = NULL, *found = NULL;
	struct avp_hdr *h;

	fd_msg_browse(parent, MSG_BRW_FIRST_CHILD, &avp, NULL);
	for (; avp; fd_msg_browse(avp, MSG_BRW_NEXT, &avp, NULL))
		if (fd_msg_avp_hdr(avp, &h) == 0 && h->avp_code == d->code)
			found = avp;
	return found;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int set_value(struct avp *avp, const struct dia_avpdef *d,
		     const char *text)
{
	union avp_value v;
	uint8_t buf[4096];
	size_t n = 0;

	memset(&v, 0, sizeof(v));
	switch (d->base) {
	case AVP_TYPE_OCTETSTRING:
		if (strncmp(text, "hex:", 4) == 0) {
			for (text += 4; text[0] && text[1] && n < sizeof(buf);
			     text += 2) {
				int hi = hexval(text[0]), lo = hexval(text[1]);

				if (hi < 0 || lo < 0)
					return -EINVAL;
				buf[n++] = (uint8_t)(hi << 4 | lo);
			}
			v.os.data = buf;
			v.os.len = n;
		} else {
			v.os.data = (uint8_t *)text;
			v.os.len = strlen(text);
		}
		break;
	case AVP_TYPE_INTEGER32: v.i32 = (int32_t)strtol(text, NULL, 0); break;
	case AVP_TYPE_UNSIGNED32:
		v.u32 = (uint32_t)strtoul(text, NULL, 0);
		break;
	case AVP_TYPE_INTEGER64: v.i64 = strtoll(text, NULL, 0); break;
	case AVP_TYPE_UNSIGNED64: v.u64 = strtoull(text, NULL, 0); break;
	default: return -EINVAL;
	}
	return fd_msg_avp_setvalue(avp, &v) ? -EINVAL : 0;
}

/* Path "A.B+.C" = value: walk (or make) groups, then add the leaf. */
static int add_path(struct msg *m, char *path, const char *value)
{
	msg_or_avp *parent = m;
	char *save = NULL, *part, *next;

	for (part = strtok_r(path, ".", &save); part; part = next) {
		size_t len = strlen(part);
		bool fresh = len > 1 && part[len - 1] == '+';
		const struct dia_avpdef *d;
		struct avp *avp;

		next = strtok_r(NULL, ".", &save);
		if (fresh)
			part[len - 1] = '\0';
		d = dia_dict_avp(part);
		if (!d) {
			fprintf(stderr, "diaclient: unknown AVP %s\n", part);
			return -ENOENT;
		}
		avp = next && !fresh ? last_child(parent, d) : NULL;
		if (!avp) {
			if (fd_msg_avp_new(d->obj, 0, &avp) ||
			    fd_msg_avp_add(parent, MSG_BRW_LAST_CHILD, avp))
				return -ENOMEM;
			if (!next && set_value(avp, d, value)) {
				fprintf(stderr,
					"diaclient: bad value for "
					"%s: %s\n",
					part, value);
				return -EINVAL;
			}
		}
		parent = avp;
	}
	return 0;
}

static int add_u32(struct msg *m, msg_or_avp *parent, const char *name,
		   uint32_t value)
{
	const struct dia_avpdef *d = dia_dict_avp(name);
	struct avp *avp;
	union avp_value v = { .u32 = value };

	(void)m;
	if (!d || fd_msg_avp_new(d->obj, 0, &avp) ||
	    fd_msg_avp_setvalue(avp, &v) ||
	    fd_msg_avp_add(parent, MSG_BRW_LAST_CHILD, avp))
		return -EINVAL;
	return 0;
}

static int add_text(msg_or_avp *parent, const char *name, const char *text)
{
	const struct dia_avpdef *d = dia_dict_avp(name);
	struct avp *avp;
	union avp_value v;

	v.os.data = (uint8_t *)text;
	v.os.len = strlen(text);
	if (!d || fd_msg_avp_new(d->obj, 0, &avp) ||
	    fd_msg_avp_setvalue(avp, &v) ||
	    fd_msg_avp_add(parent, MSG_BRW_LAST_CHILD, avp))
		return -EINVAL;
	return 0;
}

/* Session-Id, VSAI, Auth-Session-State, Origin-*, Destination-*. */
static struct msg *request_head(uint32_t code, uint32_t app,
				const char *dest_host, const char *dest_realm)
{
	struct msg *m = NULL;
	struct msg_hdr *hdr;
	struct avp *vsai;
	const struct dia_avpdef *d =
		dia_dict_avp("Vendor-Specific-Application-Id");

	if (fd_msg_new(dia_dict_cmd(code, true), MSGFL_ALLOC_ETEID, &m))
		return NULL;
	fd_msg_hdr(m, &hdr);
	hdr->msg_appl = app;
	if (fd_msg_new_session(m, NULL, 0) || !d ||
	    fd_msg_avp_new(d->obj, 0, &vsai) ||
	    fd_msg_avp_add(m, MSG_BRW_LAST_CHILD, vsai) ||
	    add_u32(m, vsai, "Vendor-Id", DIA_VENDOR_3GPP) ||
	    add_u32(m, vsai, "Auth-Application-Id", app) ||
	    add_u32(m, m, "Auth-Session-State", 1) || fd_msg_add_origin(m, 0) ||
	    (dest_host && add_text(m, "Destination-Host", dest_host)) ||
	    add_text(m, "Destination-Realm", dest_realm)) {
		fd_msg_free(m);
		return NULL;
	}
	return m;
}

/* Words split on blanks; a backslash keeps the next character ("SIP\ Digest").
 */
static char *next_word(char *text, char **save)
{
	char *p = text ? text : *save, *start, *out;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return NULL;
	start = out = p;
	while (*p && *p != ' ' && *p != '\t') {
		if (*p == '\\' && p[1])
			p++;
		*out++ = *p++;
	}
	*save = *p ? p + 1 : p;
	*out = '\0';
	return start;
}

/* "CMD AVP=V ..." with %u replaced by `user` (bench). */
static struct msg *request_from_text(const char *line, unsigned user)
{
	char buf[LINE_MAX_LEN], *save = NULL, *w, *eq;
	char *avps[MAX_AVPS * 2];
	const char *dest_host = peer.id, *dest_realm = NULL;
	size_t navps = 0;
	uint32_t code, app;
	struct msg *m;

	snprintf(buf, sizeof(buf), "%s", line);
	w = next_word(buf, &save);
	if (!w || cmd_lookup(w, &code, &app)) {
		fprintf(stderr, "diaclient: unknown command '%s'\n",
			w ? w : "");
		return NULL;
	}
	while ((w = next_word(NULL, &save)) && navps < MAX_AVPS * 2) {
		eq = strchr(w, '=');
		if (!eq)
			return NULL;
		*eq = '\0';
		if (strcmp(w, "-dest-host") == 0)
			dest_host = *(eq + 1) ? eq + 1 : NULL;
		else if (strcmp(w, "-dest-realm") == 0)
			dest_realm = eq + 1;
		else {
			avps[navps++] = w;
			avps[navps++] = eq + 1;
		}
	}
	m = request_head(code, app, dest_host,
			 dest_realm ? dest_realm : fd_g_config->cnf_diamrlm);
	for (size_t i = 0; m && i < navps; i += 2) {
		char value[1024], *pct = strstr(avps[i + 1], "%u");

		if (pct)
			snprintf(value, sizeof(value), "%.*s%u%s",
				 (int)(pct - avps[i + 1]), avps[i + 1], user,
				 pct + 2);
		else
			snprintf(value, sizeof(value), "%s", avps[i + 1]);
		if (add_path(m, avps[i], value)) {
			fd_msg_free(m);
			m = NULL;
		}
	}
	return m;
}

/* ---- Printing a message ------------------------------------------------ */

static void print_value(FILE *f, struct avp_hdr *h, enum dict_avp_basetype b)
{
	bool text = true;

	if (!h->avp_value) {
		fputs("(unknown)", f);
		return;
	}
	switch (b) {
	case AVP_TYPE_OCTETSTRING:
		for (size_t i = 0; i < h->avp_value->os.len; i++) {
			uint8_t c = h->avp_value->os.data[i];

			if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') ||
			    c > 0x7e)
				text = false;
		}
		if (text) { /* on one line: newlines as \n */
			for (size_t i = 0; i < h->avp_value->os.len; i++) {
				uint8_t c = h->avp_value->os.data[i];

				if (c == '\n' || c == '\r')
					fputs(c == '\n' ? "\\n" : "\\r", f);
				else
					fputc(c, f);
			}
			break;
		}
		fputs("hex:", f);
		for (size_t i = 0; i < h->avp_value->os.len; i++)
			fprintf(f, "%02x", h->avp_value->os.data[i]);
		break;
	case AVP_TYPE_INTEGER32: fprintf(f, "%d", h->avp_value->i32); break;
	case AVP_TYPE_UNSIGNED32: fprintf(f, "%u", h->avp_value->u32); break;
	case AVP_TYPE_INTEGER64:
		fprintf(f, "%lld", (long long)h->avp_value->i64);
		break;
	case AVP_TYPE_UNSIGNED64:
		fprintf(f, "%llu", (unsigned long long)h->avp_value->u64);
		break;
	default: fputs("?", f);
	}
}

static void print_avps(FILE *f, msg_or_avp *parent, const char *prefix)
{
	struct avp *avp = NULL;

	fd_msg_browse(parent, MSG_BRW_FIRST_CHILD, &avp, NULL);
	for (; avp; fd_msg_browse(avp, MSG_BRW_NEXT, &avp, NULL)) {
		struct dict_object *model = NULL;
		struct dict_avp_data data;
		struct avp_hdr *h;
		char path[512];

		fd_msg_avp_hdr(avp, &h);
		if (fd_msg_model(avp, &model) || !model ||
		    fd_dict_getval(model, &data)) {
			fprintf(f, "  %s%u=(not in dictionary)\n", prefix,
				h->avp_code);
			continue;
		}
		snprintf(path, sizeof(path), "%s%s", prefix, data.avp_name);
		if (data.avp_basetype == AVP_TYPE_GROUPED) {
			char sub[520];

			snprintf(sub, sizeof(sub), "%s.", path);
			print_avps(f, avp, sub);
			continue;
		}
		fprintf(f, "  %s=", path);
		print_value(f, h, data.avp_basetype);
		fputc('\n', f);
	}
}

static void print_msg(const char *what, struct msg *m)
{
	struct msg_hdr *hdr;

	fd_msg_hdr(m, &hdr);
	pthread_mutex_lock(&out_lock);
	printf("%s %s%s\n", what, cmd_abbr(hdr->msg_code),
	       hdr->msg_flags & CMD_FLAG_ERROR ? " (E)" : "");
	print_avps(stdout, m, "");
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

/* ---- Requests that come in: answer 2001 -------------------------------- */

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t state_cond = PTHREAD_COND_INITIALIZER;
static unsigned requests_in;

static int on_request(struct msg **msg, struct avp *avp, struct session *sess,
		      void *opaque, enum disp_action *act)
{
	struct msg *ans = *msg;

	(void)avp, (void)sess, (void)opaque;
	print_msg("request", *msg);
	if (fd_msg_new_answer_from_req(fd_g_config->cnf_dict, &ans, 0))
		return ENOMEM;
	fd_msg_rescode_set(ans, "DIAMETER_SUCCESS", NULL, NULL, 1);
	*msg = NULL;
	fd_msg_send(&ans, NULL, NULL);
	*act = DISP_ACT_CONT;
	pthread_mutex_lock(&state_lock);
	requests_in++;
	pthread_cond_broadcast(&state_cond);
	pthread_mutex_unlock(&state_lock);
	return 0;
}

static int register_incoming(void)
{
	static const uint32_t codes[] = { DIA_CMD_RTR, DIA_CMD_PPR,
					  DIA_CMD_PNR };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct disp_when when = { 0 };

		when.command = dia_dict_cmd(codes[i], true);
		if (fd_disp_register(on_request, DISP_HOW_CC, &when, NULL,
				     NULL))
			return -EINVAL;
	}
	return 0;
}

/* ---- Script mode ---------------------------------------------------- */

static struct msg *answer;
static bool answered;

static void on_script_answer(void *data, struct msg **ans)
{
	(void)data;
	pthread_mutex_lock(&state_lock);
	answer = *ans;
	*ans = NULL;
	answered = true;
	pthread_cond_broadcast(&state_cond);
	pthread_mutex_unlock(&state_lock);
}

static void deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int script_send(const char *line)
{
	struct msg *m = request_from_text(line, 0);
	struct timespec ts;
	int rc = 0;

	if (!m)
		return -EINVAL;
	pthread_mutex_lock(&state_lock);
	answered = false;
	answer = NULL;
	pthread_mutex_unlock(&state_lock);
	if (fd_msg_send(&m, on_script_answer, NULL))
		return -EIO;
	deadline(&ts, opt.timeout_ms);
	pthread_mutex_lock(&state_lock);
	while (!answered && rc == 0)
		rc = pthread_cond_timedwait(&state_cond, &state_lock, &ts);
	pthread_mutex_unlock(&state_lock);
	if (!answered) {
		printf("timeout\n");
		fflush(stdout);
		return -ETIMEDOUT;
	}
	print_msg("answer", answer);
	fd_msg_free(answer);
	return 0;
}

static int wait_requests(unsigned n)
{
	struct timespec ts;
	int rc = 0;

	deadline(&ts, opt.timeout_ms);
	pthread_mutex_lock(&state_lock);
	while (requests_in < n && rc == 0)
		rc = pthread_cond_timedwait(&state_cond, &state_lock, &ts);
	rc = requests_in >= n ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&state_lock);
	if (rc)
		printf("timeout waiting for %u requests\n", n);
	return rc;
}

static int run_script(void)
{
	char line[LINE_MAX_LEN];
	int failures = 0;

	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (strncmp(line, "send ", 5) == 0)
			failures += script_send(line + 5) != 0;
		else if (strncmp(line, "wait-requests ", 14) == 0)
			failures +=
				wait_requests((unsigned)atoi(line + 14)) != 0;
		else if (strncmp(line, "sleep ", 6) == 0)
			usleep((useconds_t)atoi(line + 6) * 1000);
		else {
			fprintf(stderr, "diaclient: cannot read '%s'\n", line);
			failures++;
		}
	}
	return failures ? 1 : 0;
}

/* ---- Bench mode ------------------------------------------------------- */

struct bench {
	pthread_mutex_t lock;
	pthread_cond_t done;
	unsigned long next, answered, errors;
	uint32_t *latency_us; /* one per request */
	struct timespec start;
};

static struct bench bench = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
};

struct inflight {
	struct timespec sent;
	unsigned long index;
};

static double since_us(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e6 +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e3;
}

static void bench_send_next(void);
static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_bench_answer(void *data, struct msg **ans)
{
	struct inflight *f = data;
	struct msg *a = *ans;
	struct avp *rc_avp = NULL;
	const struct dia_avpdef *rc_def;
	struct avp_hdr *h;
	bool ok = false;

	pthread_mutex_lock(&build_lock);
	rc_def = dia_dict_avp("Result-Code");
	pthread_mutex_unlock(&build_lock);

	if (rc_def && fd_msg_search_avp(a, rc_def->obj, &rc_avp) == 0 &&
	    rc_avp && fd_msg_avp_hdr(rc_avp, &h) == 0 && h->avp_value)
		ok = h->avp_value->u32 == 2001;
	else /* Experimental-Result 2001/2002 count as answered fine */
		ok = true;
	bench.latency_us[f->index] = (uint32_t)since_us(&f->sent);
	fd_msg_free(a);
	*ans = NULL;
	free(f);
	pthread_mutex_lock(&bench.lock);
	bench.answered++;
	bench.errors += !ok;
	if (bench.answered == opt.count)
		pthread_cond_broadcast(&bench.done);
	pthread_mutex_unlock(&bench.lock);
	bench_send_next();
}

static void bench_send_next(void)
{
	struct inflight *f;
	struct msg *m;
	unsigned long i;

	pthread_mutex_lock(&bench.lock);
	i = bench.next < opt.count ? bench.next++ : opt.count;
	pthread_mutex_unlock(&bench.lock);
	if (i >= opt.count)
		return;
	/* The dictionary cache of diameter_dict.c is for one thread. */
	pthread_mutex_lock(&build_lock);
	m = request_from_text(opt.bench, (unsigned)(i % opt.users));
	pthread_mutex_unlock(&build_lock);
	f = malloc(sizeof(*f));
	if (!m || !f) {
		free(f);
		if (m)
			fd_msg_free(m);
		return;
	}
	f->index = i;
	clock_gettime(CLOCK_MONOTONIC, &f->sent);
	if (fd_msg_send(&m, on_bench_answer, f)) {
		free(f);
		pthread_mutex_lock(&bench.lock);
		bench.errors++;
		pthread_mutex_unlock(&bench.lock);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int run_bench(void)
{
	struct timespec ts;
	double elapsed_s;
	unsigned long answered;
	int rc = 0;

	bench.latency_us = calloc(opt.count, sizeof(uint32_t));
	if (!bench.latency_us || !request_from_text(opt.bench, 0))
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &bench.start);
	for (unsigned w = 0; w < opt.window && w < opt.count; w++)
		bench_send_next();
	deadline(&ts, opt.duration_s ? opt.duration_s * 1000 : 120000);
	pthread_mutex_lock(&bench.lock);
	while (bench.answered < opt.count && rc == 0)
		rc = pthread_cond_timedwait(&bench.done, &bench.lock, &ts);
	answered = bench.answered;
	pthread_mutex_unlock(&bench.lock);
	elapsed_s = since_us(&bench.start) / 1e6;
	qsort(bench.latency_us, answered, sizeof(uint32_t), cmp_u32);
	printf("sent=%lu\nanswered=%lu\nerrors=%lu\nelapsed_s=%.3f\n"
	       "rate_per_s=%.0f\n",
	       bench.next, answered, bench.errors, elapsed_s,
	       answered / elapsed_s);
	if (answered)
		printf("p50_us=%u\np99_us=%u\n", bench.latency_us[answered / 2],
		       bench.latency_us[answered * 99 / 100]);
	fflush(stdout);
	return answered == opt.count ? 0 : 1;
}

/* ---- freeDiameter set-up ----------------------------------------------- */

static int write_conf(char *path, size_t size)
{
	int fd;
	FILE *f;

	snprintf(path, size, "/tmp/diaclient-%d-XXXXXX", (int)getpid());
	fd = mkstemp(path);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		return -errno;
	fprintf(f, "Identity = \"%s\";\n", opt.identity);
	if (opt.realm)
		fprintf(f, "Realm = \"%s\";\n", opt.realm);
	fprintf(f,
		"Port = %u;\nSecPort = 0;\nNo_SCTP;\nNo_IPv6;\n"
		"AppServThreads = 2;\nTcTimer = 1;\n",
		opt.port);
	fprintf(f, "TLS_Cred = \"%s\", \"%s\";\nTLS_CA = \"%s\";\n", opt.cert,
		opt.key, opt.ca);
	fprintf(f,
		"LoadExtension = \"%s/dict_nasreq.fdx\";\n"
		"LoadExtension = \"%s/dict_rfc5777.fdx\";\n"
		"LoadExtension = \"%s/dict_dcca.fdx\";\n"
		"LoadExtension = \"%s/dict_dcca_3gpp.fdx\";\n",
		opt.dict_dir, opt.dict_dir, opt.dict_dir, opt.dict_dir);
	fprintf(f,
		"ConnectPeer = \"%s\" { ConnectTo = \"%s\"; Port = %u; "
		"No_TLS; No_SCTP; };\n",
		peer.id, peer.address, peer.port);
	return fclose(f) ? -EIO : 0;
}

static void quiet_hook(enum fd_hook_type type, struct msg *msg,
		       struct peer_hdr *p, void *other,
		       struct fd_hook_permsgdata *pmd, void *regdata)
{
	(void)type, (void)msg, (void)p, (void)other, (void)pmd, (void)regdata;
}

static void quiet_logger(int level, const char *fmt, va_list ap)
{
	if ((level < FD_LOG_ERROR || strstr(fmt, "shutdown sequence")) &&
	    !verbose)
		return;
	fprintf(stderr, "freediameter: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static int nodelay_once(void);

/* Listen on 127.0.0.1 only (freeDiameter ignores ListenOn). */
static int add_loopback(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return fd_ep_add_merge(&fd_g_config->cnf_endpoints, (sSA *)&sin,
			       sizeof(sin), EP_FL_CONF | EP_ACCEPTALL);
}

static int wait_peer_open(void)
{
	struct peer_hdr *p = NULL;

	for (unsigned waited = 0; waited < opt.wait_peer_ms; waited += 20) {
		if (fd_peer_getbyid(peer.id, strlen(peer.id), 1, &p) == 0 &&
		    p && fd_peer_get_state(p) == STATE_OPEN)
			return nodelay_once();
		usleep(20000);
	}
	fprintf(stderr, "diaclient: peer %s did not open in %u ms\n", peer.id,
		opt.wait_peer_ms);
	return -ETIMEDOUT;
}

static int start_core(void)
{
	char path[128];
	static struct fd_hook_hdl *hook;
	uint32_t mask = 0;
	int rc;

	fd_g_debug_lvl = verbose ? FD_LOG_DEBUG : FD_LOG_ERROR;
	fd_log_handler_register(quiet_logger);
	if (fd_core_initialize() || write_conf(path, sizeof(path)))
		return -EINVAL;
	rc = fd_core_parseconf(path);
	unlink(path);
	if (rc || dia_dict_setup() || add_loopback())
		return -EINVAL;
	for (int t = HOOK_MESSAGE_RECEIVED; t <= HOOK_LAST; t++)
		mask |= 1u << t;
	if (fd_hook_register(mask, quiet_hook, NULL, NULL, &hook) ||
	    register_incoming() ||
	    fd_disp_app_support(dia_dict_app(DIA_APP_CX),
				dia_dict_vendor_3gpp(), 1, 0) ||
	    fd_disp_app_support(dia_dict_app(DIA_APP_SH),
				dia_dict_vendor_3gpp(), 1, 0) ||
	    fd_core_start())
		return -EINVAL;
	return wait_peer_open();
}

/* As the plugin does: freeDiameter clears TCP_NODELAY on its sockets. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
static int nodelay_once(void)
{
	int on = 1;

	for (int fd = 3; fd < 1024; fd++) {
		int proto = 0;
		socklen_t len = sizeof(proto);

		if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) ==
			    0 &&
		    proto == IPPROTO_TCP)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
				   sizeof(on));
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: diaclient -i IDENTITY -P ID@ADDR[:PORT] --cert F "
		   "--key F "
		   "--ca F [-r REALM] [-p PORT]\n"
		   "                 [--dict-dir D] [--timeout-ms N] [-v]\n"
		   "                 [--bench \"CMD AVP=V...\" [--count N] "
		   "[--window W] [--users U]]\n");
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "identity", required_argument, NULL, 'i' },
		{ "realm", required_argument, NULL, 'r' },
		{ "port", required_argument, NULL, 'p' },
		{ "peer", required_argument, NULL, 'P' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "ca", required_argument, NULL, 'A' },
		{ "dict-dir", required_argument, NULL, 'D' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "bench", required_argument, NULL, 'b' },
		{ "count", required_argument, NULL, 'n' },
		{ "window", required_argument, NULL, 'w' },
		{ "users", required_argument, NULL, 'u' },
		{ "max-seconds", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	size_t n;
	int c;

	while ((c = getopt_long(argc, argv, "i:r:p:P:v", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'i': opt.identity = optarg; break;
		case 'r': opt.realm = optarg; break;
		case 'p': opt.port = (unsigned)atoi(optarg); break;
		case 'P': opt.peer = optarg; break;
		case 'C': opt.cert = optarg; break;
		case 'K': opt.key = optarg; break;
		case 'A': opt.ca = optarg; break;
		case 'D': opt.dict_dir = optarg; break;
		case 't': opt.timeout_ms = (unsigned)atoi(optarg); break;
		case 'b': opt.bench = optarg; break;
		case 'n': opt.count = strtoul(optarg, NULL, 10); break;
		case 'w': opt.window = (unsigned)atoi(optarg); break;
		case 'u': opt.users = (unsigned)atoi(optarg); break;
		case 'S': opt.duration_s = (unsigned)atoi(optarg); break;
		case 'v': verbose = 1; break;
		default: return -EINVAL;
		}
	}
	if (!opt.identity || !opt.peer || !opt.cert || !opt.key || !opt.ca ||
	    dia_fd_peer_conf_parse(opt.peer, &peer, 1, &n) || n != 1 ||
	    !opt.count || !opt.window || !opt.users)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	sigset_t block;
	int rc;

	if (parse_args(argc, argv)) {
		usage(stderr);
		return 2;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	if (start_core()) {
		fprintf(stderr, "diaclient: cannot start or reach the peer\n");
		fd_core_shutdown();
		fd_core_wait_shutdown_complete();
		return 3;
	}
	rc = opt.bench ? run_bench() : run_script();
	fd_core_shutdown();
	fd_core_wait_shutdown_complete();
	return rc;
}
