/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbc: a back-to-back user agent between an access realm (outside) and a
 * core realm (inside). A call from the access side becomes a new dialog
 * towards the core next hop: new Call-ID, From, Via and Contact, so nothing
 * of one side (addresses, tags, branch formats) reaches the other
 * (topology hiding). A per-source token bucket answers floods with 503.
 *
 * This first increment handles INVITE/ACK/BYE from the access side and
 * the failure responses (486...) end to end. A CANCEL from the access side
 * is answered by the sip service; the core leg is cancelled when its next
 * provisional response finds the access request gone. The SDP is passed
 * through as offered (anchoring through the media service is next, see
 * NOTES.md).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tandem/plugin.h"
#include "tandem/sip.h"

#define TND_LOG_HOST host
#define TND_LOG_CATEGORY "sbc"

TND_PLUGIN_DECLARE(sbc);
#define SELF (&TND_PLUGIN_SYMBOL(sbc))

#define SBC_SOURCES 1024 /* bounded state per source (rate limiter) */

struct sbc_cfg {
	char *core_next_hop;
	char *core_domain;
	char *contact;
	unsigned long long rate_per_s;
	unsigned long long burst;
	unsigned long long max_calls;
};

enum call_state {
	CALL_TRYING,	/* INVITE sent to the core, no final answer yet */
	CALL_CONFIRMED, /* 2xx relayed to the access side */
};

/* One call: the access leg (a kept request) and the core leg we made. */
struct sbc_call {
	struct sbc_call *next;
	enum call_state state;
	struct sip_request *a_req;   /* access INVITE, kept until final */
	struct sip_client *b_client; /* core INVITE, until final */
	char *a_call_id;
	char *b_call_id;
	char *b_to; /* the core side's To, with its tag */
	char *b_ruri;
	unsigned id;
};

/* A token bucket per source address (RFC 3261 21.5.4 503 when empty). */
struct sbc_source {
	char addr[64];
	double tokens;
	uint64_t last_ms;
};

static const struct tnd_host_api *host;
static struct sbc_cfg *cfg;
static const struct sip_service *sip;
static struct sbc_call *calls;
static unsigned ncalls, next_call_id;
static struct sbc_source sources[SBC_SOURCES];
static struct tnd_counter *c_calls, *c_limited, *c_failed;

static const struct tnd_param sbc_params[] = {
	TND_PARAM("core_next_hop", TND_STR, struct sbc_cfg, core_next_hop,
		  "udp:127.0.0.1:5070",
		  "where calls from the access realm go (proto:host:port)"),
	TND_PARAM("core_domain", TND_STR, struct sbc_cfg, core_domain,
		  "127.0.0.1:5070",
		  "host part of the Request-URI, From and To on the core side"),
	TND_PARAM("contact", TND_STR, struct sbc_cfg, contact,
		  "sip:sbc@127.0.0.1:5060",
		  "our Contact on both sides (the only address they see)"),
	TND_PARAM("rate_per_s", TND_UINT, struct sbc_cfg, rate_per_s, "200",
		  "INVITEs per second allowed from one source address",
		  .min = 1, .max = 1000000),
	TND_PARAM("burst", TND_UINT, struct sbc_cfg, burst, "400",
		  "token bucket depth per source address", .min = 1,
		  .max = 1000000),
	TND_PARAM("max_calls", TND_UINT, struct sbc_cfg, max_calls, "10000",
		  "concurrent calls admitted", .min = 1, .max = 1000000),
	TND_PARAM_END
};

/* ---- Helpers ------------------------------------------------------------ */

static char *text_dup(struct sip_text t)
{
	char *s = malloc(t.len + 1);

	if (s) {
		memcpy(s, t.ptr, t.len);
		s[t.len] = '\0';
	}
	return s;
}

static int text_has(struct sip_text t, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= t.len; i++)
		if (memcmp(t.ptr + i, needle, n) == 0)
			return 1;
	return 0;
}

static char *header_dup(const struct sip_message *m, const char *name)
{
	struct sip_text v;

	if (sip->header(m, name, 0, &v) < 0)
		return NULL;
	return text_dup(v);
}

/* The user part of a SIP URI ("sip:bob@host" -> "bob"), into `out`. */
static void uri_user(struct sip_text uri, char *out, size_t size)
{
	const char *p = memchr(uri.ptr, ':', uri.len);
	const char *end = uri.ptr + uri.len;
	size_t n = 0;

	p = p ? p + 1 : uri.ptr;
	while (p < end && *p != '@' && *p != ';' && *p != '>' && n + 1 < size)
		out[n++] = *p++;
	if (p >= end || *p != '@')
		n = 0; /* no user part */
	out[n] = '\0';
	if (!n)
		snprintf(out, size, "anonymous");
}

static struct sbc_call *call_by_a(struct sip_text call_id)
{
	for (struct sbc_call *c = calls; c; c = c->next)
		if (strlen(c->a_call_id) == call_id.len &&
		    memcmp(c->a_call_id, call_id.ptr, call_id.len) == 0)
			return c;
	return NULL;
}

static void call_free(struct sbc_call *call)
{
	for (struct sbc_call **pp = &calls; *pp; pp = &(*pp)->next)
		if (*pp == call) {
			*pp = call->next;
			break;
		}
	if (call->b_client)
		sip->forget(call->b_client);
	if (call->a_req)
		sip->release(call->a_req);
	free(call->a_call_id);
	free(call->b_call_id);
	free(call->b_to);
	free(call->b_ruri);
	free(call);
	ncalls--;
}

/* ---- Protection: per-source token bucket ------------------------------- */

static struct sbc_source *source_slot(const char *addr)
{
	unsigned h = 5381;

	for (const char *p = addr; *p; p++)
		h = h * 33 + (unsigned char)*p;
	return &sources[h % SBC_SOURCES];
}

/* True when `addr` may send one more request now. A slot shared by two
 * sources (a hash collision) only makes the limit stricter for both. */
static int source_allowed(const char *addr)
{
	struct sbc_source *s = source_slot(addr);
	uint64_t now = host->now_ms();

	if (strcmp(s->addr, addr) != 0) {
		snprintf(s->addr, sizeof(s->addr), "%s", addr);
		s->tokens = (double)cfg->burst;
		s->last_ms = now;
	}
	s->tokens +=
		(double)(now - s->last_ms) * (double)cfg->rate_per_s / 1000.0;
	if (s->tokens > (double)cfg->burst)
		s->tokens = (double)cfg->burst;
	s->last_ms = now;
	if (s->tokens < 1.0)
		return 0;
	s->tokens -= 1.0;
	return 1;
}

/* "UDP 127.0.0.1:5061" -> "127.0.0.1" */
static void source_addr(const struct sip_message *m, char *out, size_t size)
{
	char buf[96];
	char *sp, *colon;
	size_t n;

	out[0] = '\0';
	if (sip->source(m, buf, sizeof(buf)) < 0)
		return;
	sp = strchr(buf, ' ');
	sp = sp ? sp + 1 : buf;
	colon = strrchr(sp, ':');
	if (colon)
		*colon = '\0';
	n = strlen(sp);
	if (n >= size)
		n = size - 1;
	memcpy(out, sp, n);
	out[n] = '\0';
}

/* ---- The core leg ------------------------------------------------------ */

static void on_core_response(struct sip_client *c, int status,
			     const struct sip_message *rsp, void *arg)
{
	struct sbc_call *call = arg;
	char hdr[320];
	struct sip_text body = { 0 };
	char *ctype = NULL;
	int rc;

	(void)c;
	if (status < 200) {
		if (status == 100)
			return;
		rc = sip->reply(call->a_req, status, NULL, NULL, NULL, NULL, 0);
		if (rc == -EALREADY) /* the access side cancelled */
			sip->cancel(call->b_client);
		return;
	}
	call->b_client = NULL; /* gone after a final response */
	if (status >= 300) {
		host->counter_add(c_failed, 1);
		tnd_info("call %u: core answered %d", call->id, status);
		sip->reply(call->a_req, status, NULL, NULL, NULL, NULL, 0);
		call_free(call);
		return;
	}
	call->b_to = header_dup(rsp, "To");
	body = sip->body(rsp);
	ctype = header_dup(rsp, "Content-Type");
	snprintf(hdr, sizeof(hdr), "Contact: <%s>\r\n", cfg->contact);
	rc = sip->reply(call->a_req, status, NULL, hdr, body.len ? ctype : NULL,
			body.ptr, body.len);
	free(ctype);
	sip->release(call->a_req);
	call->a_req = NULL;
	if (rc < 0 || !call->b_to) {
		tnd_info("call %u: access side gone (%d), ending", call->id,
			 rc);
		call_free(call); /* the core leg hangs up by its own timers */
		return;
	}
	call->state = CALL_CONFIRMED;
	tnd_info("call %u: confirmed", call->id);
}

static int core_invite(struct sbc_call *call, const struct sip_message *m)
{
	char user[128], from[256], to[256], hdr[320], callid[64];
	struct sip_text body = sip->body(m);
	char *ctype = header_dup(m, "Content-Type");
	struct sip_request_spec spec = { .size = sizeof(spec) };
	int rc;

	uri_user(sip->request_uri(m), user, sizeof(user));
	snprintf(callid, sizeof(callid), "sbc%u-%08x%08x", call->id,
		 (unsigned)random(), (unsigned)random());
	call->b_call_id = strdup(callid);
	call->b_ruri = malloc(strlen(user) + strlen(cfg->core_domain) + 6);
	if (call->b_ruri)
		sprintf(call->b_ruri, "sip:%s@%s", user, cfg->core_domain);
	if (!call->b_call_id || !call->b_ruri) {
		free(ctype);
		return -ENOMEM;
	}
	/* the caller's identity crosses, its address does not */
	{
		char *a_from = header_dup(m, "From");
		char fuser[128] = "anonymous";

		if (a_from)
			uri_user((struct sip_text){ a_from, strlen(a_from) },
				 fuser, sizeof(fuser));
		free(a_from);
		snprintf(from, sizeof(from), "<sip:%s@%s>", fuser,
			 cfg->core_domain);
	}
	snprintf(to, sizeof(to), "<%s>", call->b_ruri);
	snprintf(hdr, sizeof(hdr), "Contact: <%s>\r\n", cfg->contact);
	spec.method = "INVITE";
	spec.request_uri = call->b_ruri;
	spec.from = from;
	spec.to = to;
	spec.call_id = call->b_call_id;
	spec.headers = hdr;
	spec.body_type = body.len ? ctype : NULL;
	spec.body = body.ptr;
	spec.body_len = body.len;
	spec.next_hop = cfg->core_next_hop;
	rc = sip->send_request(&spec, on_core_response, call, &call->b_client);
	free(ctype);
	return rc;
}

/* ---- The access leg ---------------------------------------------------- */

static enum sip_verdict on_invite(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sip->request_message(req);
	struct sip_text to_tag_probe;
	struct sbc_call *call;
	char src[64];

	(void)arg;
	source_addr(m, src, sizeof(src));
	if (!source_allowed(src)) {
		host->counter_add(c_limited, 1);
		tnd_debug("%s over its rate, 503", src);
		sip->reply(req, 503, "Rate Limited", "Retry-After: 5\r\n", NULL,
			   NULL, 0);
		return SIP_TAKEN;
	}
	if (sip->header(m, "To", 0, &to_tag_probe) == 0 &&
	    text_has(to_tag_probe, "tag=")) {
		/* re-INVITE: not yet relayed (NOTES.md) */
		sip->reply(req, 488, "Not Acceptable Here", NULL, NULL, NULL,
			   0);
		return SIP_TAKEN;
	}
	if (ncalls >= cfg->max_calls) {
		sip->reply(req, 503, "Too Many Calls", "Retry-After: 5\r\n",
			   NULL, NULL, 0);
		return SIP_TAKEN;
	}
	call = calloc(1, sizeof(*call));
	if (!call)
		goto busy;
	call->id = ++next_call_id;
	call->a_call_id = header_dup(m, "Call-ID");
	call->next = calls;
	calls = call;
	ncalls++;
	if (!call->a_call_id || core_invite(call, m) < 0) {
		call_free(call);
		goto busy;
	}
	call->a_req = sip->keep(req);
	host->counter_add(c_calls, 1);
	tnd_info("call %u: from %s towards %s", call->id, src, call->b_ruri);
	return SIP_TAKEN;
busy:
	sip->reply(req, 500, "Server Internal Error", NULL, NULL, NULL, 0);
	return SIP_TAKEN;
}

static enum sip_verdict on_ack(struct sip_request *req, void *arg)
{
	struct sip_text cid = { 0 };

	(void)arg;
	/* the core leg's 2xx was ACKed by the sip service's UAC core
	 * (RFC 3261 13.2.2.4): the access ACK ends here */
	if (sip->header(sip->request_message(req), "Call-ID", 0, &cid) < 0)
		return SIP_DECLINED;
	return call_by_a(cid) ? SIP_TAKEN : SIP_DECLINED;
}

static void on_bye_response(struct sip_client *c, int status,
			    const struct sip_message *rsp, void *arg)
{
	(void)c, (void)rsp;
	if (status >= 200)
		tnd_debug("core BYE of call %u: %d", (unsigned)(uintptr_t)arg,
			  status);
}

static enum sip_verdict on_bye(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sip->request_message(req);
	struct sip_request_spec spec = { .size = sizeof(spec) };
	struct sip_text cid = { 0 };
	struct sbc_call *call;
	char from[256], hdr[320];

	(void)arg;
	sip->header(m, "Call-ID", 0, &cid);
	call = call_by_a(cid);
	if (!call || call->state != CALL_CONFIRMED) {
		sip->reply(req, 481, NULL, NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	snprintf(from, sizeof(from), "<sip:sbc@%s>", cfg->core_domain);
	snprintf(hdr, sizeof(hdr), "Contact: <%s>\r\n", cfg->contact);
	spec.method = "BYE";
	spec.request_uri = call->b_ruri;
	spec.from = from;
	spec.to = call->b_to;
	spec.call_id = call->b_call_id;
	spec.cseq = 2;
	spec.headers = hdr;
	spec.next_hop = cfg->core_next_hop;
	sip->send_request(&spec, on_bye_response, (void *)(uintptr_t)call->id,
			  NULL);
	sip->reply(req, 200, NULL, NULL, NULL, NULL, 0);
	tnd_info("call %u: ended by the access side", call->id);
	call_free(call);
	return SIP_TAKEN;
}

/* ---- Control commands -------------------------------------------------- */

static int cmd_show_calls(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return host->reply_error(r,
					 "sbc show calls takes no arguments");
	for (struct sbc_call *c = calls; c; c = c->next) {
		host->reply_record(r);
		host->reply_field_num(r, "id", c->id);
		host->reply_field(r, "state", "%s",
				  c->state == CALL_CONFIRMED ? "confirmed"
							     : "trying");
		host->reply_field(r, "core_call_id", "%s", c->b_call_id);
		host->reply_field(r, "core_uri", "%s", c->b_ruri);
	}
	return 0;
}

static const struct tnd_command sbc_commands[] = {
	{ "sbc show calls", NULL, "calls crossing the SBC", cmd_show_calls },
	TND_COMMAND_END
};

/* ---- Lifecycle --------------------------------------------------------- */

static int sbc_init(const struct tnd_host_api *api, void *config)
{
	host = api;
	cfg = config;
	c_calls = host->counter_new(SELF, "calls", "calls admitted");
	c_limited = host->counter_new(SELF, "rate_limited",
				      "requests refused by the source rate");
	c_failed = host->counter_new(SELF, "calls_failed",
				     "calls the core side refused");
	return c_calls && c_limited && c_failed ? 0 : -ENOMEM;
}

static int sbc_start(void)
{
	sip = host->service_get(SIP_SERVICE_NAME, SIP_SERVICE_VERSION);
	if (!sip) {
		tnd_error("no sip service");
		return -ENOENT;
	}
	if (sip->handler_add("INVITE", SIP_HANDLER_CLAIM, NULL, on_invite,
			     NULL) < 0 ||
	    sip->handler_add("ACK", SIP_HANDLER_CLAIM, NULL, on_ack, NULL) <
		    0 ||
	    sip->handler_add("BYE", SIP_HANDLER_CLAIM, NULL, on_bye, NULL) < 0)
		return -ENOMEM;
	tnd_info("access calls go to %s", cfg->core_next_hop);
	return 0;
}

static int sbc_stop(void)
{
	if (sip) {
		sip->handler_remove(on_invite, NULL);
		sip->handler_remove(on_ack, NULL);
		sip->handler_remove(on_bye, NULL);
	}
	while (calls)
		call_free(calls);
	return 0;
}

static void sbc_fini(void)
{
}

static const struct tnd_service_ref sbc_requires[] = { { "sip", 1 },
						       TND_SERVICE_END };

TND_PLUGIN_DEFINE(sbc) = {
	TND_PLUGIN_HEADER,
	.name = "sbc",
	.version = "0.1",
	.description = "session border controller: a B2BUA that hides the "
		       "core's topology and rate-limits sources",
	.requires = sbc_requires,
	.params = sbc_params,
	.cfg_size = sizeof(struct sbc_cfg),
	.commands = sbc_commands,
	.init = sbc_init,
	.start = sbc_start,
	.stop = sbc_stop,
	.fini = sbc_fini,
};
