/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rxdrive: an AF for the tests and the benchmark. It uses the "rx"
 * service (rxclient behind it) as the P-CSCF does, from control commands:
 *   rxdrive call CALL_ID UE_ADDR MEDIA...   session_start with an SDP pair
 *   rxdrive update CALL_ID MEDIA...         session_update
 *   rxdrive end CALL_ID                     session_end
 *   rxdrive show                            verdicts and aborts
 *   rxdrive bench COUNT WINDOW UE_FIRST UE_COUNT [keep]
 *   rxdrive show bench
 * MEDIA is TYPE:CODEC[:AS_KBPS][:DIR], e.g. audio:PCMU, video:H264:384,
 * audio:AMR:41:sendonly. The UE calls (originating); the far end answers
 * from 10.99.0.1. An abort from the PCRF ends the session at once, as
 * the P-CSCF does after releasing the call. Built for `make check` only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tandem/plugin.h"
#include "tandem/rx.h"

#define TND_LOG_HOST host
#define TND_LOG_CATEGORY "rxdrive"

TND_PLUGIN_DECLARE(rxdrive);
#define SELF (&TND_PLUGIN_SYMBOL(rxdrive))

#define MAX_CALLS 64
#define REMOTE_ADDR "10.99.0.1"

struct call {
	char call_id[64];
	char ue[48];
	struct rx_session *s;
	int result; /* 1: pending */
	bool used;
};

static const struct tnd_host_api *host;
static const struct rx_service *rx;
static struct call calls[MAX_CALLS];
static unsigned started, authorised, refused, aborts;
static int last_result = 1;
static char last_abort[64] = "-";

static struct {
	unsigned long total, started, done, failed, window;
	unsigned long ue_count;
	uint32_t ue_first; /* host order */
	bool keep;	   /* no STR: sessions stay */
	uint64_t t0_us, t1_us;
	uint32_t *lat_us;
	bool running;
} bench;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- SDP pair ------------------------------------------------------------ */

static void sdp_add_media(char *sdp, size_t size, const char *spec,
			  unsigned port)
{
	char copy[96], *save = NULL, *w;
	const char *type = "audio", *codec = "PCMU", *dir = NULL;
	unsigned as = 0, field = 0;
	size_t n = strlen(sdp);

	snprintf(copy, sizeof(copy), "%s", spec);
	for (w = strtok_r(copy, ":", &save); w;
	     w = strtok_r(NULL, ":", &save)) {
		if (field == 0)
			type = w;
		else if (field == 1)
			codec = w;
		else if (w[0] >= '0' && w[0] <= '9')
			as = (unsigned)strtoul(w, NULL, 10);
		else
			dir = w;
		field++;
	}
	n += (size_t)snprintf(sdp + n, size - n, "m=%s %u RTP/AVP 96\r\n", type,
			      port);
	if (as && n < size)
		n += (size_t)snprintf(sdp + n, size - n, "b=AS:%u\r\n", as);
	if (n < size)
		n += (size_t)snprintf(sdp + n, size - n,
				      "a=rtpmap:96 %s/%u\r\n", codec,
				      strcmp(type, "video") ? 8000 : 90000);
	if (dir && n < size)
		snprintf(sdp + n, size - n, "a=%s\r\n", dir);
}

static void make_sdp(char *sdp, size_t size, const char *addr,
		     unsigned base_port, int nmedia, char **media)
{
	snprintf(sdp, size,
		 "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n",
		 addr, addr);
	for (int i = 0; i < nmedia; i++)
		sdp_add_media(sdp, size, media[i],
			      base_port + 2u * (unsigned)i);
}

static void fill_info(struct rx_session_info *info, const char *call_id,
		      const char *ue, char *offer, char *answer, int nmedia,
		      char **media)
{
	make_sdp(offer, 2048, ue, 40000, nmedia, media);
	make_sdp(answer, 2048, REMOTE_ADDR, 50000, nmedia, media);
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->call_id = call_id;
	info->icid = "icid-test-1";
	info->subscriber = "sip:alice@ims.lab";
	info->ue_address = ue;
	info->originating = 1;
	info->sdp_offer = offer;
	info->sdp_offer_len = strlen(offer);
	info->sdp_answer = answer;
	info->sdp_answer_len = strlen(answer);
}

/* ---- Calls from commands ------------------------------------------------- */

static struct call *call_find(const char *call_id)
{
	for (int i = 0; i < MAX_CALLS; i++)
		if (calls[i].used && strcmp(calls[i].call_id, call_id) == 0)
			return &calls[i];
	return NULL;
}

static void on_result(struct rx_session *s, int result, void *arg)
{
	struct call *c = arg;

	(void)s;
	c->result = result;
	last_result = result;
	result ? refused++ : authorised++;
	tnd_info("call %s: %s (%d)", c->call_id,
		 result ? "refused" : "authorised", result);
}

static void call_end(struct call *c, const char *why)
{
	if (c->s)
		rx->session_end(c->s, why);
	c->used = false;
	c->s = NULL;
}

static int cmd_call(struct tnd_reply *r, int argc, char **argv)
{
	struct rx_session_info info;
	char offer[2048], answer[2048];
	struct call *c = NULL;
	int rc;

	if (argc < 3)
		return host->reply_error(r, "usage: rxdrive call CALL_ID "
					    "UE_ADDR MEDIA...");
	for (int i = 0; i < MAX_CALLS && !c; i++)
		if (!calls[i].used)
			c = &calls[i];
	if (!c || call_find(argv[0]))
		return host->reply_error(r, "no room, or call exists");
	memset(c, 0, sizeof(*c));
	snprintf(c->call_id, sizeof(c->call_id), "%s", argv[0]);
	snprintf(c->ue, sizeof(c->ue), "%s", argv[1]);
	c->result = 1;
	c->used = true;
	fill_info(&info, c->call_id, c->ue, offer, answer, argc - 2, argv + 2);
	started++;
	last_result = 1;
	rc = rx->session_start(&info, on_result, c, &c->s);
	if (rc) {
		c->used = false;
		return host->reply_error(r, "session_start: %d", rc);
	}
	host->reply_text(r, "started %s\n", c->call_id);
	return 0;
}

static int cmd_update(struct tnd_reply *r, int argc, char **argv)
{
	struct rx_session_info info;
	char offer[2048], answer[2048];
	struct call *c = argc >= 2 ? call_find(argv[0]) : NULL;

	if (!c || !c->s)
		return host->reply_error(r, "usage: rxdrive update CALL_ID "
					    "MEDIA... (a live call)");
	fill_info(&info, c->call_id, c->ue, offer, answer, argc - 1, argv + 1);
	if (rx->session_update(c->s, &info))
		return host->reply_error(r, "session_update failed");
	host->reply_text(r, "updated %s\n", c->call_id);
	return 0;
}

static int cmd_end(struct tnd_reply *r, int argc, char **argv)
{
	struct call *c = argc == 1 ? call_find(argv[0]) : NULL;

	if (!c)
		return host->reply_error(r, "usage: rxdrive end CALL_ID");
	call_end(c, "ended");
	host->reply_text(r, "ended %s\n", argv[0]);
	return 0;
}

static int cmd_show(struct tnd_reply *r, int argc, char **argv)
{
	unsigned active = 0;

	(void)argc, (void)argv;
	for (int i = 0; i < MAX_CALLS; i++)
		active += calls[i].used;
	host->reply_field_num(r, "started", started);
	host->reply_field_num(r, "authorised", authorised);
	host->reply_field_num(r, "refused", refused);
	host->reply_field_num(r, "last_result", last_result);
	host->reply_field_num(r, "aborts", aborts);
	host->reply_field(r, "last_abort", "%s", last_abort);
	host->reply_field_num(r, "active", active);
	return 0;
}

/* ---- Benchmark ----------------------------------------------------------- */

struct bench_call {
	uint64_t t0_us;
	char call_id[32];
};

static void bench_next(void);

static void on_bench_result(struct rx_session *s, int result, void *arg)
{
	struct bench_call *bc = arg;
	uint64_t lat = now_us() - bc->t0_us;

	if (bench.done < bench.total)
		bench.lat_us[bench.done] =
			lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
	bench.done++;
	if (result)
		bench.failed++;
	if (!bench.keep || result)
		rx->session_end(s, "bench");
	free(bc);
	if (bench.done == bench.total) {
		bench.t1_us = now_us();
		bench.running = false;
		return;
	}
	bench_next();
}

static void bench_next(void)
{
	static char *media[] = { (char *)"audio:AMR:41" };
	struct rx_session_info info;
	char offer[2048], answer[2048], ue[16];
	struct bench_call *bc;
	struct rx_session *s;
	struct in_addr a;

	if (bench.started == bench.total)
		return;
	bc = calloc(1, sizeof(*bc));
	if (!bc)
		return;
	a.s_addr = htonl(bench.ue_first +
			 (uint32_t)(bench.started % bench.ue_count));
	inet_ntop(AF_INET, &a, ue, sizeof(ue));
	snprintf(bc->call_id, sizeof(bc->call_id), "bench-%lu", bench.started);
	fill_info(&info, bc->call_id, ue, offer, answer, 1, media);
	bench.started++;
	bc->t0_us = now_us();
	if (rx->session_start(&info, on_bench_result, bc, &s)) {
		free(bc);
		bench.done++;
		bench.failed++;
	}
}

static int cmd_bench(struct tnd_reply *r, int argc, char **argv)
{
	struct in_addr a;

	if (argc < 4 || inet_pton(AF_INET, argv[2], &a) != 1 || bench.running)
		return host->reply_error(r, "usage: rxdrive bench COUNT WINDOW "
					    "UE_FIRST UE_COUNT [keep]");
	free(bench.lat_us);
	memset(&bench, 0, sizeof(bench));
	bench.total = strtoul(argv[0], NULL, 10);
	bench.window = strtoul(argv[1], NULL, 10);
	bench.ue_first = ntohl(a.s_addr);
	bench.ue_count = strtoul(argv[3], NULL, 10);
	bench.keep = argc > 4 && strcmp(argv[4], "keep") == 0;
	if (!bench.total || !bench.window || !bench.ue_count)
		return host->reply_error(r, "COUNT, WINDOW, UE_COUNT > 0");
	bench.lat_us = calloc(bench.total, sizeof(uint32_t));
	if (!bench.lat_us)
		return host->reply_error(r, "out of memory");
	bench.running = true;
	bench.t0_us = now_us();
	for (unsigned long i = 0; i < bench.window; i++)
		bench_next();
	host->reply_text(r, "running\n");
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmd_show_bench(struct tnd_reply *r, int argc, char **argv)
{
	double secs;
	unsigned long n = bench.done < bench.total ? bench.done : bench.total;

	(void)argc, (void)argv;
	host->reply_field(r, "state", "%s", bench.running ? "running" : "done");
	host->reply_field_num(r, "done", (long long)bench.done);
	host->reply_field_num(r, "failed", (long long)bench.failed);
	if (bench.running || !n)
		return 0;
	secs = (double)(bench.t1_us - bench.t0_us) / 1e6;
	qsort(bench.lat_us, n, sizeof(uint32_t), cmp_u32);
	host->reply_field(r, "seconds", "%.3f", secs);
	host->reply_field(r, "policy_per_s", "%.0f", (double)n / secs);
	host->reply_field(r, "p50_ms", "%.2f", bench.lat_us[n / 2] / 1000.0);
	host->reply_field(r, "p99_ms", "%.2f",
			  bench.lat_us[(n * 99) / 100] / 1000.0);
	return 0;
}

static void on_abort(const char *call_id, void *arg)
{
	struct call *c = call_find(call_id);

	(void)arg;
	aborts++;
	snprintf(last_abort, sizeof(last_abort), "%s", call_id);
	tnd_notice("the PCRF aborted %s", call_id);
	if (c)
		call_end(c, "aborted");
}

static const struct tnd_command rxdrive_commands[] = {
	{ "rxdrive call", "CALL_ID UE_ADDR MEDIA...", "AAR for a call",
	  cmd_call },
	{ "rxdrive update", "CALL_ID MEDIA...", "AAR again", cmd_update },
	{ "rxdrive end", "CALL_ID", "STR", cmd_end },
	{ "rxdrive show bench", NULL, "benchmark results", cmd_show_bench },
	{ "rxdrive show", NULL, "verdicts and aborts", cmd_show },
	{ "rxdrive bench", "COUNT WINDOW UE_FIRST UE_COUNT [keep]",
	  "policy set-ups as fast as the window allows", cmd_bench },
	TND_COMMAND_END
};

static int rxdrive_init(const struct tnd_host_api *api, void *config)
{
	(void)config;
	host = api;
	rx = host->service_get(RX_SERVICE_NAME, RX_SERVICE_VERSION);
	if (!rx) {
		tnd_error("no rx service: load rxclient");
		return -ENOENT;
	}
	return rx->on_abort(on_abort, NULL);
}

static int rxdrive_start(void)
{
	return 0;
}

static int rxdrive_stop(void)
{
	return 0;
}

static void rxdrive_fini(void)
{
	free(bench.lat_us);
	bench.lat_us = NULL;
}

static const struct tnd_service_ref rxdrive_requires[] = {
	{ RX_SERVICE_NAME, RX_SERVICE_VERSION }, TND_SERVICE_END
};

TND_PLUGIN_DEFINE(rxdrive) = {
	TND_PLUGIN_HEADER,
	.name = "rxdrive",
	.version = "1.0",
	.description = "test AF: drives the rx service from commands",
	.requires = rxdrive_requires,
	.commands = rxdrive_commands,
	.init = rxdrive_init,
	.start = rxdrive_start,
	.stop = rxdrive_stop,
	.fini = rxdrive_fini,
};
