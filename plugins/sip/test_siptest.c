/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * siptest: a test plugin that uses the "sip" service the way the CSCFs and
 * the SBC will. test_sip_service.sh loads it next to the sip plugin.
 *
 * - MESSAGE: answered 202 at once, with an X-Handled header, and X-Path,
 *   X-RR (reversed), X-Me and X-Local showing route_set(), local_route()
 *   and local();
 * - INFO: kept, answered 200 by a timer after the callback returned;
 * - SUBSCRIBE: handed to the proxy core towards `proxy_to`;
 * - option tag "foo" declared, so Require: foo is accepted;
 * - `siptest send METHOD URI [NEXT_HOP]` sends a request in a client
 *   transaction; `siptest last` shows the statuses its responses had;
 * - dialogs: with `answer = ring|reliable` an INVITE is accepted into a
 *   dialog, answered 180 (or a reliable 183) and 200 (with an SDP answer
 *   when it offered) 100 ms later (5 s for user "slow"); a Request-URI
 *   user "busy" gets 486.
 *   `siptest call URI` makes the UAC side; `siptest dlg` shows the
 *   states seen and the session refreshes; `siptest update` and
 *   `siptest bye` act in the dialog.
 * - B2BUA (`answer = b2bua`): an INVITE is kept and continued as a new
 *   INVITE to `proxy_to` (Max-Forwards one less, forward_of); its
 *   responses are relayed; a CANCEL of the first leg (on_cancel) cancels
 *   the second; Max-Forwards 0 is answered 483.
 * - forking (`answer = fork`, in a proxy node): an INVITE to user
 *   "par-P1-P2...", "ser-P1-P2..." or "rec-P1..." is claimed and handed
 *   to proxy_fork() with targets sip:u@127.0.0.1:P1, :P2... in
 *   parallel, serially, or in parallel with 3xx recursion.
 * - `siptest dsend METHOD URI CALL-ID CSEQ LOCAL-TAG REMOTE-TAG|-
 *   [ROUTE-SET]` sends a request with explicit dialog fields;
 *   `siptest last` then also shows the To tag of the final response.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#include "tandem/plugin.h"
#include "tandem/sip.h"

#define TND_LOG_HOST host
#define TND_LOG_CATEGORY "siptest"

TND_PLUGIN_DECLARE(siptest);
#define SELF (&TND_PLUGIN_SYMBOL(siptest))

struct siptest_cfg {
	char *proxy_to;
	char *answer;
	char *b2b_route;
};

static const struct tnd_host_api *host;
static const struct sip_service *sip;
static struct siptest_cfg *cfg;
static struct sip_request *kept;
static struct tnd_timer *reply_timer;
static char statuses[256];
static unsigned sent;
static struct sip_dialog *dlg;
static struct tnd_timer *answer_timer;
static char dlg_states[256], dlg_last[64];
static char offer[2048];
static size_t offer_len;
static char last_to_tag[64];
static struct sip_request *b2b_a; /* the first leg's INVITE */
static struct sip_client *b2b_b;  /* the second leg */

/* The route set helpers' view of a MESSAGE, echoed in X- headers. */
static void route_headers(const struct sip_message *m, char *out, size_t size)
{
	char path[512], rr[512], me[128], local[80];
	int npath = sip->route_set(m, "Path", 0, path, sizeof(path));
	int nrr = sip->route_set(m, "Record-Route", SIP_ROUTES_REVERSE, rr,
				 sizeof(rr));

	if (sip->local_route("tcp", "term", me, sizeof(me)) < 0)
		snprintf(me, sizeof(me), "none");
	if (sip->size < offsetof(struct sip_service, local) +
			sizeof(sip->local) ||
	    sip->local(m, local, sizeof(local)) < 0)
		snprintf(local, sizeof(local), "none");
	snprintf(out, size,
		 "X-Path: %d %s\r\nX-RR: %d %s\r\nX-Me: %s\r\n"
		 "X-Local: %s\r\n",
		 npath, npath > 0 ? path : "-", nrr, nrr > 0 ? rr : "-", me,
		 local);
}

static enum sip_verdict on_message(struct sip_request *req, void *arg)
{
	char hdrs[1400];

	(void)arg;
	snprintf(hdrs, sizeof(hdrs), "X-Handled: siptest\r\n");
	route_headers(sip->request_message(req), hdrs + strlen(hdrs),
		      sizeof(hdrs) - strlen(hdrs));
	sip->reply(req, 202, NULL, hdrs, NULL, NULL, 0);
	return SIP_TAKEN;
}

static void answer_kept(struct tnd_timer *timer, void *arg)
{
	(void)timer, (void)arg;
	if (!kept)
		return;
	sip->reply(kept, 200, "Answered Later", NULL, NULL, NULL, 0);
	sip->release(kept);
	kept = NULL;
}

static enum sip_verdict on_info(struct sip_request *req, void *arg)
{
	struct sip_text v;

	(void)arg;
	if (kept) /* one at a time is enough for the test */
		return SIP_DECLINED;
	if (sip->header(sip->request_message(req), "Call-ID", 0, &v) == 0)
		tnd_info("keeping INFO %.*s", (int)v.len, v.ptr);
	kept = sip->keep(req);
	host->timer_start(reply_timer, 50, 0);
	return kept ? SIP_TAKEN : SIP_DECLINED;
}

static enum sip_verdict on_subscribe(struct sip_request *req, void *arg)
{
	(void)arg;
	if (sip->proxy(req, cfg->proxy_to[0] ? cfg->proxy_to : NULL) < 0)
		sip->reply(req, 500, NULL, NULL, NULL, NULL, 0);
	return SIP_TAKEN;
}

/* ---- Dialogs ---- */

static void on_dlg_state(struct sip_dialog *d, enum sip_dialog_state st,
			 int status, const struct sip_message *msg, void *arg)
{
	static const char *const names[] = { "", "EARLY", "CONFIRMED",
					     "ENDED" };
	size_t n = strlen(dlg_states);

	(void)d, (void)msg, (void)arg;
	snprintf(dlg_states + n, sizeof(dlg_states) - n, "%s%s(%d)",
		 n ? "," : "", names[st], status);
}

static enum sip_verdict on_dlg_request(struct sip_dialog *d,
				       struct sip_request *req, void *arg)
{
	struct sip_text method = sip->method(sip->request_message(req));

	(void)d, (void)arg;
	/* a re-INVITE without an offer: 200; the layer resends it until the
	 * ACK. The layer answers UPDATE refreshes. */
	if (method.len == 6 && memcmp(method.ptr, "INVITE", 6) == 0 &&
	    !sip->body(sip->request_message(req)).len) {
		sip->reply(req, 200, NULL, NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	return SIP_DECLINED;
}

static const struct sip_dialog_ops dlg_ops = {
	.state = on_dlg_state,
	.request = on_dlg_request,
};

static void answer_200(struct tnd_timer *timer, void *arg)
{
	static const char *const codecs[] = { "PCMU/8000", NULL };
	struct sip_sdp_local local = {
		.address = "127.0.0.1", .port = 40000, .codecs = codecs,
		.session_id = 7, .version = 1,
	};
	char answer[2048];
	int n = offer_len ? sip->sdp_answer(offer, offer_len, &local, answer,
					    sizeof(answer)) :
			    0;

	(void)timer, (void)arg;
	if (dlg)
		sip->dialog_reply(dlg, 200, NULL, NULL,
				  n > 0 ? "application/sdp" : NULL,
				  n > 0 ? answer : NULL, n > 0 ? (size_t)n : 0,
				  0);
}

/* ---- Forking ---- */

/* "par-26091-26092@..." -> flags and the targets' URIs; -1 if not ours */
static int fork_targets(struct sip_text ruri, char uris[][48], unsigned max,
			unsigned *n, unsigned *flags)
{
	static const struct { const char *prefix; unsigned flags; } modes[] = {
		{ "sip:par-", 0 },
		{ "sip:ser-", SIP_FORK_SERIAL },
		{ "sip:rec-", SIP_FORK_RECURSE },
	};
	const char *p = NULL, *end = ruri.ptr + ruri.len;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]) && !p; i++)
		if (ruri.len > 8 && memcmp(ruri.ptr, modes[i].prefix, 8) == 0) {
			p = ruri.ptr + 8;
			*flags = modes[i].flags;
		}
	if (!p)
		return -1;
	for (*n = 0; p < end && *p != '@' && *n < max; (*n)++) {
		unsigned long port = strtoul(p, (char **)&p, 10);

		snprintf(uris[*n], 48, "sip:u@127.0.0.1:%lu", port);
		if (p < end && *p == '-')
			p++;
	}
	return *n ? 0 : -1;
}

static enum sip_verdict on_fork_invite(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sip->request_message(req);
	char uris[SIP_FORK_MAX][48];
	const char *targets[SIP_FORK_MAX];
	unsigned n, flags;

	(void)arg;
	if (fork_targets(sip->request_uri(m), uris, SIP_FORK_MAX, &n,
			 &flags) < 0)
		return SIP_DECLINED;
	for (unsigned i = 0; i < n; i++)
		targets[i] = uris[i];
	if (sip->proxy_fork(req, targets, n, flags) < 0)
		sip->reply(req, 500, NULL, NULL, NULL, NULL, 0);
	return SIP_TAKEN;
}

/* ---- B2BUA ---- */

static void b2b_done(void)
{
	if (b2b_a)
		sip->release(b2b_a);
	b2b_a = NULL;
	b2b_b = NULL;
}

static void b2b_response(struct sip_client *c, int status,
			 const struct sip_message *rsp, void *arg)
{
	(void)c, (void)rsp, (void)arg;
	if (!b2b_a)
		return;
	if (status > 100 && status < 200) {
		sip->reply(b2b_a, status, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (status < 200)
		return;
	/* -EALREADY after a CANCEL: the first leg has its 487 */
	if (sip->reply(b2b_a, status, NULL, NULL, NULL, NULL, 0) == -EALREADY)
		tnd_info("b2bua: second leg ended %d after the first", status);
	b2b_done();
}

static void b2b_cancelled(struct sip_request *req,
			  const struct sip_message *cancel, void *arg)
{
	struct sip_text reason = { "-", 1 };

	(void)req, (void)arg;
	sip->header(cancel, "Reason", 0, &reason);
	tnd_info("b2bua: first leg cancelled (reason %.*s): cancelling the "
		 "second", (int)reason.len, reason.ptr);
	if (b2b_b)
		sip->cancel(b2b_b);
}

static enum sip_verdict b2b_invite(struct sip_request *req)
{
	const struct sip_message *m = sip->request_message(req);
	struct sip_text body = sip->body(m);
	struct sip_request_spec spec = {
		.size = sizeof(spec), .method = "INVITE",
		.request_uri = cfg->proxy_to, .from = "<sip:b2b@127.0.0.1>",
		.to = cfg->proxy_to, .forward_of = m,
		.route_set = cfg->b2b_route[0] ? cfg->b2b_route : NULL,
		.body_type = body.len ? "application/sdp" : NULL,
		.body = body.ptr, .body_len = body.len,
	};
	int rc;

	if (b2b_a) {
		sip->reply(req, 486, NULL, NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	if (sip->max_forwards(m) == 0) {
		sip->reply(req, 483, NULL, NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	b2b_a = sip->keep(req);
	if (!b2b_a || sip->on_cancel(b2b_a, b2b_cancelled, NULL) < 0) {
		b2b_done();
		return SIP_DECLINED;
	}
	rc = sip->send_request(&spec, b2b_response, NULL, &b2b_b);
	if (rc < 0) {
		sip->reply(b2b_a, rc == -ELOOP ? 483 : 503, NULL, NULL, NULL,
			   NULL, 0);
		b2b_done();
	}
	return SIP_TAKEN;
}

static enum sip_verdict on_invite(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sip->request_message(req);
	struct sip_text ruri = sip->request_uri(m), body = sip->body(m);
	bool reliable = strcmp(cfg->answer, "reliable") == 0;

	(void)arg;
	if (strcmp(cfg->answer, "none") == 0 ||
	    strcmp(cfg->answer, "fork") == 0)
		return SIP_DECLINED;
	if (strcmp(cfg->answer, "b2bua") == 0)
		return b2b_invite(req);
	if (ruri.len > 9 && strncmp(ruri.ptr, "sip:busy@", 9) == 0) {
		sip->reply(req, 486, NULL, NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	if (dlg)
		sip->dialog_release(dlg);
	dlg_states[0] = '\0';
	offer_len = body.len < sizeof(offer) ? body.len : 0;
	memcpy(offer, body.ptr, offer_len);
	dlg = sip->dialog_accept(req, &dlg_ops, NULL);
	if (!dlg)
		return SIP_TAKEN; /* answered (422) */
	sip->dialog_reply(dlg, reliable ? 183 : 180, NULL, NULL, NULL, NULL, 0,
			  reliable ? SIP_REPLY_RELIABLE : 0);
	/* a Request-URI user "slow" rings long enough to be CANCELled */
	host->timer_start(answer_timer,
			  ruri.len > 9 && !strncmp(ruri.ptr, "sip:slow@", 9) ?
				  5000 :
				  100,
			  0);
	return SIP_TAKEN;
}

static void on_dlg_response(struct sip_client *c, int status,
			    const struct sip_message *rsp, void *arg)
{
	(void)c, (void)rsp, (void)arg;
	snprintf(dlg_last, sizeof(dlg_last), "%d", status);
}

static int cmd_call(struct tnd_reply *r, int argc, char **argv)
{
	static const char sdp[] = "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
				  "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
				  "m=audio 30000 RTP/AVP 0 8\r\n";
	struct sip_request_spec spec = {
		.size = sizeof(spec), .from = "<sip:a@127.0.0.1>",
		.body_type = "application/sdp", .body = sdp,
		.body_len = sizeof(sdp) - 1,
	};
	int rc;

	if (argc != 1)
		return host->reply_error(r, "usage: siptest call URI");
	spec.request_uri = argv[0];
	spec.to = argv[0];
	if (dlg)
		sip->dialog_release(dlg);
	dlg = NULL;
	dlg_states[0] = '\0';
	rc = sip->dialog_invite(&spec, &dlg_ops, NULL, &dlg);
	if (rc < 0)
		return host->reply_error(r, "dialog_invite: %s", strerror(-rc));
	return 0;
}

static int cmd_dlg(struct tnd_reply *r, int argc, char **argv)
{
	struct sip_dialog_info info = { 0 };

	(void)argc, (void)argv;
	if (dlg)
		sip->dialog_info(dlg, &info);
	host->reply_field(r, "states", "%s", dlg_states[0] ? dlg_states : "-");
	host->reply_field_num(r, "session_expires", info.session_expires);
	host->reply_field_num(r, "refresher", info.refresher);
	host->reply_field_num(r, "refreshes", info.refreshes);
	host->reply_field(r, "last", "%s", dlg_last[0] ? dlg_last : "-");
	return 0;
}

static int cmd_update(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	dlg_last[0] = '\0';
	if (!dlg || sip->dialog_request(dlg, "UPDATE", NULL, NULL, NULL, 0,
					on_dlg_response, NULL) < 0)
		return host->reply_error(r, "no dialog");
	return 0;
}

static int cmd_bye(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	if (!dlg || sip->dialog_end(dlg) < 0)
		return host->reply_error(r, "no dialog");
	return 0;
}

/* sip 1.2 dialog_set_next_hop(): where the dialog's requests go */
static int cmd_nexthop(struct tnd_reply *r, int argc, char **argv)
{
	int rc;

	if (argc != 1)
		return host->reply_error(r, "usage: siptest nexthop NEXT_HOP|-");
	if (!dlg)
		return host->reply_error(r, "no dialog");
	rc = sip->dialog_set_next_hop(dlg, strcmp(argv[0], "-") ? argv[0] :
								    NULL);
	if (rc < 0)
		return host->reply_error(r, "dialog_set_next_hop: %s",
					 strerror(-rc));
	return 0;
}

static void on_response(struct sip_client *c, int status,
			const struct sip_message *rsp, void *arg)
{
	size_t n = strlen(statuses);

	const char *tag;
	struct sip_text to;

	(void)c, (void)arg;
	snprintf(statuses + n, sizeof(statuses) - n, "%s%d", n ? "," : "",
		 status);
	if (status < 200 || !rsp || sip->header(rsp, "To", 0, &to) < 0)
		return;
	tag = memmem(to.ptr, to.len, ";tag=", 5);
	if (tag) {
		size_t len = to.len - (size_t)(tag + 5 - to.ptr);

		snprintf(last_to_tag, sizeof(last_to_tag), "%.*s", (int)len,
			 tag + 5);
	}
}

static int cmd_dsend(struct tnd_reply *r, int argc, char **argv)
{
	struct sip_request_spec spec = {
		.size = sizeof(spec), .from = "<sip:siptest@127.0.0.1>",
	};
	char contact[128], headers[160];
	int rc;

	if (argc < 6 || argc > 7)
		return host->reply_error(r, "usage: siptest dsend METHOD URI "
					 "CALL-ID CSEQ LOCAL-TAG REMOTE-TAG|- "
					 "[ROUTE-SET]");
	spec.method = argv[0];
	spec.request_uri = argv[1];
	spec.to = argv[1];
	spec.call_id = argv[2];
	spec.cseq = (uint32_t)strtoul(argv[3], NULL, 10);
	spec.local_tag = argv[4];
	spec.remote_tag = strcmp(argv[5], "-") ? argv[5] : NULL;
	spec.route_set = argc == 7 ? argv[6] : NULL;
	/* a dialog-creating request needs a Contact: ours, from the
	 * node's own route entry without its ;lr */
	if (sip->local_route("udp", "siptest", contact, sizeof(contact)) > 4 &&
	    strcmp(argv[0], "INVITE") == 0) {
		char *lr = strstr(contact, ";lr>");

		if (lr)
			strcpy(lr, ">");
		snprintf(headers, sizeof(headers), "Contact: %s\r\n", contact);
		spec.headers = headers;
	}
	statuses[0] = '\0';
	last_to_tag[0] = '\0';
	rc = sip->send_request(&spec, on_response, NULL, NULL);
	if (rc < 0)
		return host->reply_error(r, "send_request: %s", strerror(-rc));
	return 0;
}

static int cmd_send(struct tnd_reply *r, int argc, char **argv)
{
	char id[32];
	struct sip_request_spec spec = {
		.size = sizeof(spec),
		.from = "<sip:siptest@127.0.0.1>",
	};
	int rc;

	if (argc < 2 || argc > 3)
		return host->reply_error(r, "usage: siptest send METHOD URI "
					 "[NEXT_HOP]");
	snprintf(id, sizeof(id), "siptest-%u", ++sent);
	spec.method = argv[0];
	spec.request_uri = argv[1];
	spec.to = argv[1];
	spec.call_id = id;
	spec.next_hop = argc == 3 ? argv[2] : NULL;
	statuses[0] = '\0';
	rc = sip->send_request(&spec, on_response, NULL, NULL);
	if (rc < 0)
		return host->reply_error(r, "send_request: %s", strerror(-rc));
	host->reply_field(r, "call_id", "%s", id);
	return 0;
}

static int cmd_last(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	host->reply_field(r, "statuses", "%s", statuses[0] ? statuses : "-");
	host->reply_field(r, "to_tag", "%s",
			  last_to_tag[0] ? last_to_tag : "-");
	return 0;
}

static const struct tnd_command commands[] = {
	{ "siptest send", "METHOD URI [NEXT_HOP]", "send a request", cmd_send },
	{ "siptest last", NULL, "statuses of the last request's responses",
	  cmd_last },
	{ "siptest call", "URI", "start a dialog", cmd_call },
	{ "siptest dlg", NULL, "the dialog's states and refreshes", cmd_dlg },
	{ "siptest update", NULL, "UPDATE in the dialog", cmd_update },
	{ "siptest bye", NULL, "end the dialog", cmd_bye },
	{ "siptest nexthop", "NEXT_HOP|-", "send the dialog's requests there",
	  cmd_nexthop },
	{ "siptest dsend", "METHOD URI CALL-ID CSEQ LOCAL-TAG REMOTE-TAG|- "
	  "[ROUTE-SET]", "send a request with explicit dialog fields",
	  cmd_dsend },
	TND_COMMAND_END
};

static const struct tnd_param params[] = {
	TND_PARAM("proxy_to", TND_STR, struct siptest_cfg, proxy_to, "",
		  "where SUBSCRIBE is proxied (a URI)", .flags = 0),
	TND_PARAM("answer", TND_ENUM, struct siptest_cfg, answer, "none",
		  "take INVITEs into dialogs (or fork them, b2bua them)",
		  .choices = "none|ring|reliable|b2bua|fork"),
	TND_PARAM("b2b_route", TND_STR, struct siptest_cfg, b2b_route, "",
		  "route set of the B2BUA's second legs", .flags = 0),
	TND_PARAM_END
};

static int siptest_init(const struct tnd_host_api *api, void *config)
{
	host = api;
	cfg = config;
	sip = host->service_get(SIP_SERVICE_NAME, SIP_SERVICE_VERSION);
	if (!sip) {
		tnd_error("no sip service");
		return -ENOENT;
	}
	if (sip->handler_add("MESSAGE", 0, NULL, on_message, NULL) < 0 ||
	    sip->handler_add("INFO", 0, "foo", on_info, NULL) < 0 ||
	    sip->handler_add("SUBSCRIBE", 0, NULL, on_subscribe, NULL) < 0 ||
	    sip->handler_add("INVITE", 0, "100rel, timer", on_invite, NULL) < 0)
		return -ENOMEM;
	/* a proxy that forks: INVITEs before the proxy core routes them */
	if (strcmp(cfg->answer, "fork") == 0 &&
	    sip->handler_add("INVITE", SIP_HANDLER_CLAIM, NULL, on_fork_invite,
			     NULL) < 0)
		return -ENOMEM;
	return 0;
}

static int siptest_start(void)
{
	reply_timer = host->timer_new(SELF, answer_kept, NULL);
	answer_timer = host->timer_new(SELF, answer_200, NULL);
	return reply_timer && answer_timer ? 0 : -ENOMEM;
}

static void siptest_fini(void)
{
	if (kept)
		sip->release(kept);
	kept = NULL;
	if (b2b_b)
		sip->forget(b2b_b);
	b2b_done();
	sip->handler_remove(on_message, NULL);
	sip->handler_remove(on_info, NULL);
	sip->handler_remove(on_subscribe, NULL);
	sip->handler_remove(on_invite, NULL);
	sip->handler_remove(on_fork_invite, NULL);
	if (dlg)
		sip->dialog_release(dlg);
	dlg = NULL;
	host->timer_free(answer_timer);
	answer_timer = NULL;
	host->timer_free(reply_timer);
	reply_timer = NULL;
}

static const struct tnd_service_ref requires[] = {
	{ SIP_SERVICE_NAME, SIP_SERVICE_VERSION },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(siptest) = {
	TND_PLUGIN_HEADER,
	.name = "siptest",
	.version = "1.0",
	.description = "test user of the sip service",
	.requires = requires,
	.params = params,
	.cfg_size = sizeof(struct siptest_cfg),
	.commands = commands,
	.init = siptest_init,
	.start = siptest_start,
	.fini = siptest_fini,
};
