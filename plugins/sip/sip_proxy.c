/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_proxy: the RFC 3261 section 16 proxy, stateful (a response context
 * per request, with its server and client transactions) or stateless
 * (16.11).
 *
 * Requests are forwarded as the bytes received with targeted edits: our
 * Via on top, received/rport on the previous one (RFC 3581), Max-Forwards
 * decremented, our Route entries removed, Record-Route inserted (twice
 * when the two sides use different transports or addresses, RFC 5658).
 * Responses lose their top Via the same way. The libosip2 copy the
 * transaction machines keep gets the same Via and Route edits, so the
 * ACK and CANCEL they build are right; it is never serialised for
 * sending. DESIGN.md measured a libosip2 rebuild at about twice the cost
 * of a parse; the edits cost a copy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sip_int.h"
#include "tandem/sip.h"

enum sip_mode sip_mode;

static struct sip_peer next_hop;
static bool have_next_hop;

struct host_entry {
	char *name;
	struct sip_addr addr;
};

static struct host_entry *hosts;
static size_t nhosts;
static unsigned nctx;

struct proxy_ctx;
struct route_plan;

struct proxy_branch {
	struct proxy_ctx *ctx;
	struct sip_txn *client; /* NULL once it ended */
	struct sip_peer to;
	int status;		/* final status, 0 while pending */
	bool provisional;	/* a 1xx came: a CANCEL may be sent */
	bool cancel_pending;
	/* RFC 3261 16.8 Timer C (INVITE); after the CANCEL it sent, the
	 * branch gets 64*T1 more for its 487 */
	struct sip_tnode timer_c;
	bool c_cancelled;
	/* a forked branch whose next hop is being located (RFC 3263) */
	struct sip_dns_query *query;
	char *target;
};

#define PROXY_FORK_MAX SIP_FORK_MAX /* branches of one request */

/*
 * What a forking context keeps to start branches after the request was
 * processed (serial search, 3xx recursion): the request's bytes and scan,
 * libosip2's copy (cloned for each branch's machine), how its Route
 * header was processed, and the target set (RFC 3261 16.5).
 */
struct proxy_fork {
	char *raw;
	struct sip_scan scan;
	struct sip_msg m;
	osip_message_t *orig;
	struct route_plan *plan;
	uint32_t loop;
	bool serial, recurse;
	char *targets[PROXY_FORK_MAX];
	unsigned ntargets, next; /* next: the first target not tried */
};

/* RFC 3261 16's response context. */
struct proxy_ctx {
	struct sip_txn *server; /* NULL once it ended */
	enum sip_method_id method;
	unsigned refs;
	bool cancelled;
	int best_status;
	osip_message_t *best_rsp;
	char *best_wire;
	size_t best_len;
	bool stopped;		/* 2xx, 6xx or CANCEL: no new branches */
	struct proxy_fork *fork; /* NULL: one branch, no recursion */
	unsigned nbranches;
	struct proxy_branch br[]; /* as many as targets */
};

/* ---- Configuration ---------------------------------------------------------- */

static int parse_hosts(void)
{
	char *spec, *save = NULL, *word;
	int rc = 0;

	if (!sip_cfg->hosts || !*sip_cfg->hosts)
		return 0;
	spec = strdup(sip_cfg->hosts);
	if (!spec)
		return -ENOMEM;
	for (word = strtok_r(spec, " ,\t", &save); word && !rc;
	     word = strtok_r(NULL, " ,\t", &save)) {
		char *eq = strchr(word, '=');
		struct host_entry *h;

		if (!eq) {
			rc = -EINVAL;
			break;
		}
		h = realloc(hosts, (nhosts + 1) * sizeof(*h));
		if (!h) {
			rc = -ENOMEM;
			break;
		}
		hosts = h;
		h = &hosts[nhosts];
		*eq = '\0';
		if (sip_addr_from(&h->addr, eq + 1, strlen(eq + 1), 0) < 0 ||
		    !(h->name = strdup(word))) {
			rc = -EINVAL;
			break;
		}
		nhosts++;
	}
	free(spec);
	if (rc)
		tnd_error("%s: hosts: want NAME=IP words",
			  sip_host->where("sip", "hosts"));
	return rc;
}

static int parse_next_hop(void)
{
	const char *nh = sip_cfg->next_hop;

	if (!nh || !*nh)
		return 0;
	if (sip_peer_parse(nh, &next_hop) < 0) {
		tnd_error("%s: next_hop: want udp|tcp:IP:PORT",
			  sip_host->where("sip", "next_hop"));
		return -EINVAL;
	}
	have_next_hop = true;
	return 0;
}

int sip_proxy_init(void)
{
	const char *mode = sip_cfg->mode;

	sip_mode = strcmp(mode, "proxy") == 0	  ? SIP_MODE_PROXY :
		   strcmp(mode, "stateless") == 0 ? SIP_MODE_STATELESS :
						    SIP_MODE_ENDPOINT;
	if (parse_hosts() < 0 || parse_next_hop() < 0)
		return -EINVAL;
	return 0;
}

void sip_proxy_fini(void)
{
	for (size_t i = 0; i < nhosts; i++)
		free(hosts[i].name);
	free(hosts);
	hosts = NULL;
	nhosts = 0;
	have_next_hop = false;
}

/* ---- Targets ----------------------------------------------------------------- */

int sip_resolve_uri(const osip_uri_t *uri, struct sip_peer *to,
		    sip_dns_cb cb, void *arg, struct sip_dns_query **handle)
{
	osip_uri_param_t *transport = NULL, *maddr = NULL;
	const char *host;
	bool sips;
	int port;

	sip_dns_forget_last();
	if (!uri || !uri->scheme || !uri->host)
		return -EINVAL;
	sips = strcasecmp(uri->scheme, "sips") == 0;
	if (!sips && strcasecmp(uri->scheme, "sip") != 0)
		return -EPROTONOSUPPORT;
	osip_uri_uparam_get_byname((osip_uri_t *)uri, "transport", &transport);
	osip_uri_uparam_get_byname((osip_uri_t *)uri, "maddr", &maddr);
	memset(to, 0, sizeof(*to));
	to->proto = sips ? SIP_TLS : SIP_UDP;
	if (transport && transport->gvalue &&
	    sip_proto_parse(transport->gvalue, strlen(transport->gvalue),
			    &to->proto) < 0)
		return -EPROTONOSUPPORT;
	port = uri->port ? atoi(uri->port) : (to->proto == SIP_TLS ? 5061 :
									  5060);
	if (port <= 0 || port > 65535)
		return -EINVAL;
	host = maddr && maddr->gvalue ? maddr->gvalue : uri->host;
	if (sip_addr_from(&to->addr, host, strlen(host), port) == 0)
		return 0;
	/* static names of labs first */
	for (size_t i = 0; i < nhosts; i++) {
		if (strcasecmp(hosts[i].name, host) == 0) {
			to->addr = hosts[i].addr;
			if (to->addr.u.sa.sa_family == AF_INET6)
				to->addr.u.sin6.sin6_port = htons((uint16_t)port);
			else
				to->addr.u.sin.sin_port = htons((uint16_t)port);
			return 0;
		}
	}
	/* RFC 3263: a cached answer, or a query when the caller can wait */
	return sip_dns_resolve(host, uri->port ? port : 0,
			       transport ? (int)to->proto : -1, sips, to, cb,
			       arg, handle);
}

static bool uri_is_local(const osip_uri_t *uri)
{
	if (!uri || !uri->host)
		return false;
	return sip_is_local(uri->host, strlen(uri->host),
			    uri->port ? atoi(uri->port) : 0);
}

/* ---- Replies ---------------------------------------------------------------- */

static void proxy_reply(struct sip_msg *m, struct sip_txn *t, int code,
			const char *extra)
{
	if (t)
		sip_txn_respond(t, code, NULL, extra, NULL, NULL, 0);
	else if (m->method != SIP_M_ACK)
		sip_reply_stateless(m, code, NULL, extra);
}

/* ---- Validation (RFC 3261 16.3) ------------------------------------------------ */

static uint32_t fnv(uint32_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619U;
	return h;
}

static uint32_t fnv_str(uint32_t h, const char *s)
{
	return s ? fnv(h, s, strlen(s)) : h;
}

/* The loop-detection part of our branches (RFC 3261 16.6 step 8): what
 * identifies the request as it reached us, so a spiral (new Request-URI)
 * is no loop. */
static uint32_t loop_hash(const struct sip_msg *m)
{
	osip_generic_param_t *ftag = NULL, *ttag = NULL;
	const struct sip_hdr *pr = sip_scan_hdr(m->scan, SIP_H_PROXY_REQUIRE, 0);
	uint32_t h = 2166136261U;

	osip_from_get_tag(m->osip->from, &ftag);
	osip_to_get_tag(m->osip->to, &ttag);
	h = fnv(h, m->raw + m->scan->ruri.off, m->scan->ruri.len);
	h = fnv_str(h, ftag ? ftag->gvalue : NULL);
	h = fnv_str(h, ttag ? ttag->gvalue : NULL);
	h = fnv_str(h, m->osip->call_id->number);
	h = fnv_str(h, m->osip->cseq->number);
	if (pr)
		h = fnv(h, m->raw + pr->value.off, pr->value.len);
	return h;
}

/* Is any Via ours, with a branch of this very request? */
static bool is_loop(const struct sip_msg *m, const char *prefix)
{
	const struct sip_scan *s = m->scan;
	size_t plen = strlen(prefix);

	for (unsigned k = 0; k < s->count[SIP_H_VIA]; k++) {
		const struct sip_hdr *h = sip_scan_hdr(s, SIP_H_VIA, k);
		uint32_t off = h->value.off, end = off + h->value.len;
		struct sip_via v;

		while (off < end && sip_via_parse(s, off, end, &v) == 0) {
			if (v.branch.len >= plen &&
			    memcmp(m->raw + v.branch.off, prefix, plen) == 0 &&
			    sip_is_local(m->raw + v.host.off, v.host.len,
					 v.port))
				return true;
			if (!v.more)
				break;
			off = v.end + 1;
		}
	}
	return false;
}

int sip_msg_max_forwards(const struct sip_msg *m)
{
	const struct sip_hdr *h = sip_scan_hdr(m->scan, SIP_H_MAX_FORWARDS, 0);

	/* the scan checked it is 1*DIGIT <= 255 */
	return h ? atoi(m->raw + h->value.off) : -1;
}

/* ---- Route processing (RFC 3261 16.4, 16.5) ------------------------------------ */

struct route_plan {
	unsigned pop;		/* our Route entries at the top */
	bool strict;		/* the Request-URI was ours (16.4) */
	bool local;		/* the request is for this node */
	const osip_uri_t *target;
	struct sip_peer to;
	const char *new_ruri;	/* a handler's target (16.5), or NULL */
	osip_uri_t *new_uri;	/* the same, parsed; owned */
	bool resolve;		/* `to` comes from `target` (RFC 3263) */
};

static int plan_route(const struct sip_msg *m, struct route_plan *p)
{
	const osip_message_t *req = m->osip;
	int nroutes = osip_list_size(&req->routes);
	osip_route_t *r;

	memset(p, 0, sizeof(*p));
	/* 16.4: a strict router before us put our URI in the R-URI and
	 * the real one in the last Route */
	if (nroutes > 0 && uri_is_local(req->req_uri)) {
		p->strict = true;
		nroutes--;
	}
	while ((int)p->pop < nroutes) {
		r = osip_list_get(&req->routes, (int)p->pop);
		if (!r || !uri_is_local(r->url))
			break;
		p->pop++;
	}
	if ((int)p->pop < nroutes) {
		r = osip_list_get(&req->routes, (int)p->pop);
		p->target = r->url;
	} else if (p->strict) {
		r = osip_list_get(&req->routes, nroutes);
		p->target = r->url;
	} else if (have_next_hop) {
		p->to = next_hop;
		return 0;
	} else if (uri_is_local(req->req_uri)) {
		p->local = true;
		return 0;
	} else {
		p->target = req->req_uri;
	}
	p->resolve = true;
	return 0;
}

/* ---- The forwarded bytes --------------------------------------------------------- */

struct fwd_edit {
	const char *ruri;	/* new Request-URI or NULL */
	unsigned drop_first;	/* Route entries to drop from the top */
	bool drop_last;		/* and the last one (strict routing) */
	unsigned nroutes;	/* Route entries in the message */
	const char *via;	/* our Via line */
	const char *rr;		/* our Record-Route line(s) or NULL */
	int max_forwards;
};

/* End of the list element starting at `p` (a comma outside <> and ""). */
static const char *element_end(const char *p, const char *end)
{
	bool quoted = false;
	char prev = 0;
	int angle = 0;

	for (; p < end; prev = *p++) {
		if (*p == '"' && prev != '\\')
			quoted = !quoted;
		else if (!quoted && *p == '<')
			angle++;
		else if (!quoted && *p == '>' && angle)
			angle--;
		else if (!quoted && !angle && *p == ',')
			return p;
	}
	return end;
}

static unsigned count_elements(const char *p, const char *end)
{
	unsigned n = 0;

	while (p < end) {
		n++;
		p = element_end(p, end);
		if (p < end)
			p++;
	}
	return n;
}

/* Copy a Route line without the elements the edit drops. */
static void put_route_line(struct sip_buf *b, const struct sip_msg *m,
			   const struct sip_hdr *h, unsigned *index,
			   const struct fwd_edit *e)
{
	const char *p = m->raw + h->value.off, *end = p + h->value.len;
	bool any = false;

	while (p < end) {
		const char *q = element_end(p, end);
		bool drop = *index < e->drop_first ||
			    (e->drop_last && *index == e->nroutes - 1);

		while (p < q && strchr(" \t\r\n", *p))
			p++;
		if (!drop) {
			sip_buf_str(b, any ? ", " : "Route: ");
			sip_buf_add(b, p, (size_t)(q - p));
			any = true;
		}
		(*index)++;
		p = q < end ? q + 1 : end;
	}
	if (any)
		sip_buf_add(b, "\r\n", 2);
}

static unsigned route_count(const struct sip_msg *m)
{
	unsigned n = 0;

	for (unsigned k = 0; k < m->scan->count[SIP_H_ROUTE]; k++) {
		const struct sip_hdr *h = sip_scan_hdr(m->scan, SIP_H_ROUTE, k);
		const char *p = m->raw + h->value.off;

		n += count_elements(p, p + h->value.len);
	}
	return n;
}

static void put_start_line(struct sip_buf *b, const struct sip_msg *m,
			   const char *ruri)
{
	const struct sip_scan *s = m->scan;

	if (!ruri) {
		sip_buf_add(b, m->raw, s->start_line.len);
	} else {
		sip_buf_add(b, m->raw + s->method.off, s->method.len);
		sip_buf_add(b, " ", 1);
		sip_buf_str(b, ruri);
		sip_buf_add(b, " SIP/2.0", 8);
	}
	sip_buf_add(b, "\r\n", 2);
}

static void put_end(struct sip_buf *b, const struct sip_msg *m)
{
	sip_buf_add(b, "\r\n", 2);
	sip_buf_add(b, m->raw + m->scan->body_off, m->scan->body_len);
}

static int build_request(struct sip_buf *b, const struct sip_msg *m,
			 const struct fwd_edit *e)
{
	const struct sip_scan *s = m->scan;
	bool via_done = false, rr_done = !e->rr, mf_done = false;
	unsigned route_index = 0;

	put_start_line(b, m, e->ruri);
	for (unsigned i = 0; i < s->nhdrs; i++) {
		const struct sip_hdr *h = &s->hdrs[i];

		/* without Record-Route of its own, ours goes after the Vias */
		if (!rr_done && via_done && h->id != SIP_H_VIA &&
		    !s->count[SIP_H_RECORD_ROUTE]) {
			sip_buf_str(b, e->rr);
			rr_done = true;
		}
		switch (h->id) {
		case SIP_H_VIA:
			if (via_done)
				break;
			sip_buf_str(b, e->via);
			sip_msg_put_top_via(b, m, h);
			via_done = true;
			continue;
		case SIP_H_RECORD_ROUTE:
			if (!rr_done) {
				sip_buf_str(b, e->rr);
				rr_done = true;
			}
			break;
		case SIP_H_MAX_FORWARDS:
			sip_buf_add(b, "Max-Forwards: ", 14);
			sip_buf_num(b, (unsigned long)e->max_forwards);
			sip_buf_add(b, "\r\n", 2);
			mf_done = true;
			continue;
		case SIP_H_ROUTE:
			if (e->drop_first || e->drop_last) {
				put_route_line(b, m, h, &route_index, e);
				continue;
			}
			break;
		default:
			break;
		}
		sip_buf_add(b, m->raw + h->line.off, h->line.len);
	}
	if (!rr_done)
		sip_buf_str(b, e->rr);
	if (!mf_done)
		/* RFC 3261 16.6 step 3 */
		sip_buf_printf(b, "Max-Forwards: %d\r\n",
			       e->max_forwards);
	put_end(b, m);
	return b->failed ? -ENOMEM : 0;
}

/* A response without its top Via (RFC 3261 16.7 step 3); a 503 becomes
 * a 500 (16.7 step 6). */
static int build_response(struct sip_buf *b, const struct sip_msg *m)
{
	const struct sip_scan *s = m->scan;
	bool via_done = false;

	if (s->status == 503)
		sip_buf_str(b, "SIP/2.0 500 Server Internal Error\r\n");
	else
		put_start_line(b, m, NULL);
	for (unsigned i = 0; i < s->nhdrs; i++) {
		const struct sip_hdr *h = &s->hdrs[i];

		if (h->id == SIP_H_VIA && !via_done) {
			via_done = true;
			if (m->via.more) {
				const char *p = m->raw + m->via.end + 1;
				const char *end = m->raw + h->value.off +
						  h->value.len;

				while (p < end && strchr(" \t\r\n", *p))
					p++;
				sip_buf_str(b, "Via: ");
				sip_buf_add(b, p, (size_t)(end - p));
				sip_buf_add(b, "\r\n", 2);
			}
			continue;
		}
		sip_buf_add(b, m->raw + h->line.off, h->line.len);
	}
	put_end(b, m);
	return b->failed ? -ENOMEM : 0;
}

/* ---- libosip2's copy ----------------------------------------------------------- */

static int edit_machine_copy(osip_message_t *req, const char *via_value,
			     struct route_plan *p)
{
	osip_via_t *via;
	osip_route_t *r;

	if (osip_via_init(&via) != 0)
		return -ENOMEM;
	if (osip_via_parse(via, via_value) != 0) {
		osip_via_free(via);
		return -EINVAL;
	}
	osip_list_add(&req->vias, via, 0);
	if (p->strict) {
		int last = osip_list_size(&req->routes) - 1;

		r = osip_list_get(&req->routes, last);
		osip_list_remove(&req->routes, last);
		osip_uri_free(req->req_uri);
		req->req_uri = r->url;
		r->url = NULL;
		osip_route_free(r);
	}
	for (unsigned i = 0; i < p->pop; i++) {
		r = osip_list_get(&req->routes, 0);
		osip_list_remove(&req->routes, 0);
		osip_route_free(r);
	}
	if (p->new_uri) {
		osip_uri_free(req->req_uri);
		req->req_uri = p->new_uri;
		p->new_uri = NULL;
	}
	return 0;
}

static void drop_top_via(osip_message_t *rsp)
{
	osip_via_t *via = osip_list_get(&rsp->vias, 0);

	if (via) {
		osip_list_remove(&rsp->vias, 0);
		osip_via_free(via);
	}
	if (rsp->status_code == 503) {
		rsp->status_code = 500;
		osip_free(rsp->reason_phrase);
		rsp->reason_phrase = osip_strdup("Server Internal Error");
	}
}

/* ---- Response context --------------------------------------------------------- */

static void fork_free(struct proxy_fork *f)
{
	if (!f)
		return;
	free(f->raw);
	if (f->orig)
		osip_message_free(f->orig);
	if (f->plan && f->plan->new_uri)
		osip_uri_free(f->plan->new_uri);
	free(f->plan);
	for (unsigned i = 0; i < f->ntargets; i++)
		free(f->targets[i]);
	free(f);
}

static void ctx_unref(struct proxy_ctx *ctx)
{
	if (--ctx->refs)
		return;
	for (unsigned i = 0; i < ctx->nbranches; i++) {
		sip_timer_cancel(&ctx->br[i].timer_c);
		free(ctx->br[i].target);
	}
	fork_free(ctx->fork);
	if (ctx->best_rsp)
		osip_message_free(ctx->best_rsp);
	free(ctx->best_wire);
	free(ctx);
	nctx--;
}

static void on_server_end(struct sip_txn *t, void *arg)
{
	struct proxy_ctx *ctx = arg;

	(void)t;
	ctx->server = NULL;
	ctx_unref(ctx);
}

static const struct sip_txn_ops server_ops = {
	.terminated = on_server_end,
};

static struct proxy_ctx *ctx_new(struct sip_txn *server,
				 enum sip_method_id method, unsigned branches)
{
	struct proxy_ctx *ctx = calloc(1, sizeof(*ctx) +
					      branches * sizeof(ctx->br[0]));

	if (!ctx)
		return NULL;
	ctx->server = server;
	ctx->method = method;
	ctx->refs = 1;
	server->ops = &server_ops;
	server->arg = ctx;
	nctx++;
	return ctx;
}

static bool all_final(const struct proxy_ctx *ctx)
{
	for (unsigned i = 0; i < ctx->nbranches; i++)
		if (!ctx->br[i].status)
			return false;
	return true;
}

/* More targets to try (serial search, 3xx recursion)? */
static bool more_targets(const struct proxy_ctx *ctx)
{
	return ctx->fork && !ctx->stopped && !ctx->cancelled &&
	       ctx->fork->next < ctx->fork->ntargets;
}

/* RFC 3261 16.7 step 4: every branch has its final response and the
 * target set is exhausted. */
static bool ctx_done(const struct proxy_ctx *ctx)
{
	return all_final(ctx) && !more_targets(ctx);
}

static void send_cancel(struct proxy_branch *b);
static void start_targets(struct proxy_ctx *ctx);

static void cancel_others(struct proxy_ctx *ctx, const struct proxy_branch *keep)
{
	for (unsigned i = 0; i < ctx->nbranches; i++) {
		struct proxy_branch *b = &ctx->br[i];

		if (b == keep || b->status || !b->client)
			continue;
		if (b->provisional)
			send_cancel(b);
		else
			b->cancel_pending = true;
	}
}

/* The response goes up in the server transaction; a 2xx that comes when
 * it has ended is forwarded on its own (RFC 3261 16.7 step 5). */
static void pass_up(struct proxy_ctx *ctx, osip_message_t *rsp,
		    const char *wire, size_t len)
{
	struct sip_txn *st = ctx->server;
	int code = rsp->status_code;
	int rc;

	if (!st) {
		osip_message_free(rsp);
		return;
	}
	rc = sip_txn_respond_msg(st, rsp, wire, len); /* takes rsp */
	if (rc == -EALREADY && code >= 200 && code < 300) {
		if (sip_send(&st->peer, wire, len) < 0)
			sip_count(sip_stats.tx_errors);
		else
			sip_count(sip_stats.tx_rsp[2]);
	}
}

static void forward_response(struct proxy_branch *b, struct sip_msg *m)
{
	struct sip_buf wire = { 0 };
	osip_message_t *rsp = sip_txn_take_response(b->client);

	if (!rsp)
		return;
	if (build_response(&wire, m) < 0) {
		osip_message_free(rsp);
		sip_buf_free(&wire);
		return;
	}
	drop_top_via(rsp);
	pass_up(b->ctx, rsp, wire.data, wire.len);
	sip_buf_free(&wire);
}

/* RFC 3261 16.7 step 6: 6xx first, else the lowest class. */
static bool better(int code, int best)
{
	if (!best)
		return true;
	if (best >= 600)
		return false;
	if (code >= 600)
		return true;
	return code / 100 < best / 100;
}

static void keep_best(struct proxy_branch *b, struct sip_msg *m)
{
	struct proxy_ctx *ctx = b->ctx;
	struct sip_buf wire = { 0 };
	osip_message_t *rsp;

	if (ctx->best_rsp && !better(b->status, ctx->best_status))
		return;
	rsp = sip_txn_take_response(b->client);
	if (!rsp || build_response(&wire, m) < 0) {
		if (rsp)
			osip_message_free(rsp);
		sip_buf_free(&wire);
		return;
	}
	drop_top_via(rsp);
	if (ctx->best_rsp)
		osip_message_free(ctx->best_rsp);
	free(ctx->best_wire);
	ctx->best_rsp = rsp;
	ctx->best_wire = wire.data;
	ctx->best_len = wire.len;
	ctx->best_status = b->status;
}

static void send_best(struct proxy_ctx *ctx);

/* A branch ended without a 2xx: the next target (serial), or the best
 * response once nothing is pending. */
static void after_failure(struct proxy_ctx *ctx)
{
	if (more_targets(ctx) && (!ctx->fork->serial || all_final(ctx)))
		start_targets(ctx);
	if (ctx_done(ctx))
		send_best(ctx);
}

/* A branch that got no response (or could not be sent): RFC 3261 16.8,
 * as if it had answered `code` (408 for a timeout). */
static void branch_failed(struct proxy_branch *b, int code)
{
	sip_timer_cancel(&b->timer_c);
	b->status = code;
	if (!b->ctx->best_status)
		b->ctx->best_status = code;
	after_failure(b->ctx);
}

static void send_best(struct proxy_ctx *ctx)
{
	if (!ctx->server)
		return;
	if (ctx->best_rsp) {
		osip_message_t *rsp = ctx->best_rsp;

		ctx->best_rsp = NULL;
		pass_up(ctx, rsp, ctx->best_wire, ctx->best_len);
		return;
	}
	/* RFC 3261 16.7 step 6 / 16.8: no response at all */
	sip_txn_respond(ctx->server, ctx->best_status ? ctx->best_status : 408,
			NULL, NULL, NULL, NULL, 0);
}

/* Add a URI to the target set unless it is there (RFC 3261 16.5). */
static bool target_add(struct proxy_fork *f, const char *uri)
{
	for (unsigned i = 0; i < f->ntargets; i++)
		if (strcmp(f->targets[i], uri) == 0)
			return false;
	if (f->ntargets == PROXY_FORK_MAX)
		return false;
	f->targets[f->ntargets] = strdup(uri);
	return f->targets[f->ntargets] && ++f->ntargets;
}

/* RFC 3261 16.7 step 5: recurse on the Contacts of a 3xx; returns how
 * many new targets it gave (0: the 3xx competes as a response). */
static unsigned recurse_on(struct proxy_ctx *ctx, const osip_message_t *rsp)
{
	unsigned added = 0;
	osip_contact_t *c;
	char *uri;

	if (!ctx->fork || !ctx->fork->recurse || ctx->stopped ||
	    ctx->cancelled)
		return 0;
	for (int i = 0; (c = osip_list_get(&rsp->contacts, i)); i++) {
		if (!c->url || osip_uri_to_str(c->url, &uri) != 0)
			continue;
		if (target_add(ctx->fork, uri)) {
			tnd_info("3xx to a %s: recursing to %s",
				 sip_method_name(ctx->method), uri);
			added++;
		}
		osip_free(uri);
	}
	return added;
}

#define BRANCH_OF_TIMER(node)                                                \
	((struct proxy_branch *)((char *)(node) -                            \
				 offsetof(struct proxy_branch, timer_c)))

/* RFC 3261 16.8: Timer C fired on an INVITE branch. */
static void on_timer_c(struct sip_tnode *node)
{
	struct proxy_branch *b = BRANCH_OF_TIMER(node);

	if (b->status || !b->client)
		return;
	if (b->provisional && !b->c_cancelled) {
		tnd_info("Timer C: no final response to an INVITE branch, "
			 "cancelling it");
		b->c_cancelled = true;
		send_cancel(b);
		/* its 487 should follow; if not, the branch is given up */
		sip_timer_at(&b->timer_c, sip_now_ms() + 64 * sip_cfg->t1_ms);
		return;
	}
	tnd_info("Timer C: an INVITE branch got no answer: taken as 408");
	branch_failed(b, 408);
}

static void on_branch_response(struct sip_txn *ct, osip_message_t *rsp,
			       struct sip_msg *m, void *arg)
{
	struct proxy_branch *b = arg;
	int code = rsp->status_code;

	(void)ct;
	if (code < 200) {
		b->provisional = true;
		/* 16.7 step 2: a provisional response resets Timer C */
		if (sip_timer_armed(&b->timer_c) && !b->c_cancelled)
			sip_timer_at(&b->timer_c,
				     sip_now_ms() + sip_cfg->timer_c_ms);
		if (b->cancel_pending) {
			send_cancel(b);
			b->cancel_pending = false;
		}
		if (code > 100) /* 16.7 step 3: a 100 stops here */
			forward_response(b, m);
		return;
	}
	sip_timer_cancel(&b->timer_c);
	b->status = code;
	if (code < 300) {
		forward_response(b, m);
		b->ctx->stopped = true;
		if (b->ctx->method == SIP_M_INVITE)
			cancel_others(b->ctx, b); /* 16.7 step 10 */
		return;
	}
	if (code >= 600) {
		/* 16.7 step 5: no new branches; the others are cancelled */
		b->ctx->stopped = true;
		cancel_others(b->ctx, b);
	}
	/* 16.7 step 5: a 3xx's Contacts may join the target set instead */
	if (code >= 400 || recurse_on(b->ctx, rsp) == 0)
		keep_best(b, m);
	after_failure(b->ctx);
}

static void on_branch_timeout(struct sip_txn *ct, void *arg)
{
	struct proxy_branch *b = arg;

	(void)ct;
	if (b->status)
		return;
	/* RFC 3261 16.8: a timeout is a 408 of that branch */
	branch_failed(b, 408);
}

static void on_branch_end(struct sip_txn *ct, void *arg)
{
	struct proxy_branch *b = arg;

	(void)ct;
	b->client = NULL;
	sip_timer_cancel(&b->timer_c);
	if (!b->status)
		branch_failed(b, 408);
	ctx_unref(b->ctx);
}

static const struct sip_txn_ops branch_ops = {
	.response = on_branch_response,
	.timeout = on_branch_timeout,
	.terminated = on_branch_end,
};

/* ---- CANCEL (RFC 3261 9.1, 16.10) ---------------------------------------------- */

static osip_message_t *build_cancel(const osip_message_t *inv)
{
	osip_message_t *c;
	osip_via_t *via;
	int rc = osip_message_init(&c);

	if (rc != 0)
		return NULL;
	c->sip_method = osip_strdup("CANCEL");
	c->sip_version = osip_strdup("SIP/2.0");
	rc |= osip_uri_clone(inv->req_uri, &c->req_uri);
	rc |= osip_call_id_clone(inv->call_id, &c->call_id);
	rc |= osip_from_clone(inv->from, &c->from);
	rc |= osip_to_clone(inv->to, &c->to);
	rc |= osip_cseq_clone(inv->cseq, &c->cseq);
	rc |= osip_via_clone(osip_list_get(&inv->vias, 0), &via);
	if (rc != 0) {
		osip_message_free(c);
		return NULL;
	}
	osip_list_add(&c->vias, via, -1);
	osip_free(c->cseq->method);
	c->cseq->method = osip_strdup("CANCEL");
	osip_list_clone(&inv->routes, &c->routes,
			(int (*)(void *, void **))osip_route_clone);
	osip_message_set_max_forwards(c, "70");
	osip_message_set_content_length(c, "0");
	return c;
}

int sip_send_cancel(struct sip_txn *ict, const struct sip_peer *to)
{
	const osip_message_t *inv;
	osip_message_t *c;
	osip_generic_param_t *branch = NULL;
	char *wire;
	size_t len;

	if (!ict || !ict->otx || !ict->otx->orig_request)
		return -EINVAL;
	inv = ict->otx->orig_request;
	c = build_cancel(inv);
	if (!c)
		return -ENOMEM;
	osip_via_t *via = osip_list_get(&c->vias, 0);

	osip_via_param_get_byname(via, "branch", &branch);
	if (!branch || !branch->gvalue ||
	    osip_message_to_str(c, &wire, &len) != 0) {
		osip_message_free(c);
		return -EINVAL;
	}
	/* the CANCEL's transaction needs no user: its 200 ends it */
	sip_txn_client_new(c, wire, len, branch->gvalue, to, NULL, NULL);
	osip_free(wire);
	return 0;
}

static void send_cancel(struct proxy_branch *b)
{
	sip_send_cancel(b->client, &b->to);
}

bool sip_proxy_cancel(struct sip_txn *ist)
{
	struct proxy_ctx *ctx;

	if (ist->ops != &server_ops)
		return false;
	ctx = ist->arg;
	ctx->cancelled = true;
	ctx->stopped = true;
	cancel_others(ctx, NULL);
	return true;
}

/* ---- Forwarding (RFC 3261 16.6) --------------------------------------------------- */

static bool wants_record_route(const struct sip_msg *m)
{
	osip_generic_param_t *tag = NULL;

	if (!sip_cfg->record_route)
		return false;
	if (m->method != SIP_M_INVITE && m->method != SIP_M_SUBSCRIBE &&
	    m->method != SIP_M_REFER && m->method != SIP_M_NOTIFY)
		return false;
	osip_to_get_tag(m->osip->to, &tag);
	return !tag; /* in-dialog requests keep their route set */
}

/* RFC 5658: both sides when requests cross transports or addresses. */
static void build_rr(struct sip_buf *b, const struct sip_listener *in,
		     const struct sip_listener *out)
{
	sip_buf_str(b, out->rr);
	if (in && in != out)
		sip_buf_str(b, in->rr);
}

/* Branch: cookie, our mark, the loop hash, then something unique
 * (stateful) or derived from the incoming branch (stateless, 16.11). */
static void make_branch(const struct sip_msg *m, uint32_t loop, bool stateful,
			char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;

	(void)size; /* callers give 64 bytes: 10 + 8 + 1 + 16 + 1 */
	memcpy(p, "z9hG4bKtnd", 10);
	p += 10;
	for (int shift = 28; shift >= 0; shift -= 4)
		*p++ = hex[(loop >> shift) & 15];
	*p++ = '.';
	if (stateful) {
		sip_random_token(p, 17);
	} else {
		uint32_t h = fnv(2166136261U, m->raw + m->via.branch.off,
				 m->via.branch.len);

		h = fnv(h, m->raw + m->via.host.off, m->via.host.len);
		*p++ = 's';
		for (int shift = 28; shift >= 0; shift -= 4)
			*p++ = hex[(h >> shift) & 15];
		*p = '\0';
	}
}

/*
 * Our Via line (branch in `branch`, 64 bytes) and the bytes of `m` for
 * the next hop p->to through listener `out` (RFC 3261 16.6 steps 2-8).
 */
static int build_forward(const struct sip_msg *m, const struct route_plan *p,
			 const struct sip_listener *out, uint32_t loop,
			 bool stateful, char *branch, struct sip_buf *via,
			 struct sip_buf *wire)
{
	struct sip_buf rr = { 0 };
	struct fwd_edit e = { 0 };
	char *ruri = NULL;
	int mf = sip_msg_max_forwards(m), rc;

	make_branch(m, loop, stateful, branch, 64);
	sip_buf_str(via, out->via);
	sip_buf_str(via, branch);
	sip_buf_add(via, "\r\n", 2);
	if (wants_record_route(m))
		build_rr(&rr, m->src.listener, out);
	if (p->strict) {
		const osip_route_t *last = osip_list_get(
			&m->osip->routes, osip_list_size(&m->osip->routes) - 1);

		osip_uri_to_str(last->url, &ruri);
	}
	e.ruri = p->new_ruri ? p->new_ruri : ruri;
	e.drop_first = p->pop;
	e.drop_last = p->strict;
	e.nroutes = route_count(m);
	e.via = via->data;
	e.rr = rr.len ? rr.data : NULL;
	e.max_forwards = mf < 0 ? 70 : mf - 1;
	rc = via->failed || rr.failed ? -ENOMEM : build_request(wire, m, &e);
	osip_free(ruri);
	sip_buf_free(&rr);
	return rc;
}

static void forward(struct sip_msg *m, struct sip_txn *t,
		    struct route_plan *p, uint32_t loop)
{
	struct sip_listener *out = sip_listener_out(p->to.proto, &p->to.addr);
	struct sip_buf via = { 0 }, wire = { 0 };
	char branch[64];
	struct proxy_ctx *ctx;
	osip_message_t *req;

	if (!out) {
		proxy_reply(m, t, 503, NULL);
		return;
	}
	p->to.listener = out;
	if (build_forward(m, p, out, loop, t != NULL, branch, &via,
			  &wire) < 0) {
		proxy_reply(m, t, 500, NULL);
		goto out;
	}
	if (!t) {
		if (sip_send(&p->to, wire.data, wire.len) < 0) {
			sip_count(sip_stats.tx_errors);
		} else {
			sip_count(sip_stats.fwd_stateless);
			sip_count(sip_stats.tx_req[m->method]);
		}
		goto out;
	}
	req = sip_txn_take_request(t);
	ctx = req ? ctx_new(t, m->method, 1) : NULL;
	if (!ctx || edit_machine_copy(req, via.data + 5, p) < 0) {
		if (req)
			osip_message_free(req);
		sip_txn_respond(t, 500, NULL, NULL, NULL, NULL, 0);
		goto out;
	}
	ctx->br[0] = (struct proxy_branch){ .ctx = ctx, .to = p->to };
	sip_tnode_init(&ctx->br[0].timer_c, on_timer_c);
	ctx->nbranches = 1;
	ctx->refs++;
	ctx->br[0].client = sip_txn_client_new(req, wire.data, wire.len,
					       branch, &p->to, &branch_ops,
					       &ctx->br[0]);
	if (!ctx->br[0].client) {
		ctx->refs--;
		ctx->br[0].status = 503;
		sip_txn_respond(t, 503, NULL, NULL, NULL, NULL, 0);
	} else {
		sip_count(sip_stats.fwd_stateful);
		if (m->method == SIP_M_INVITE)
			sip_timer_at(&ctx->br[0].timer_c,
				     sip_now_ms() + sip_cfg->timer_c_ms);
	}
out:
	sip_buf_free(&via);
	sip_buf_free(&wire);
}

static int unsupported_proxy_require(struct sip_msg *m, struct sip_txn *t)
{
	const struct sip_hdr *h = sip_scan_hdr(m->scan, SIP_H_PROXY_REQUIRE, 0);
	struct sip_buf hdr = { 0 };

	if (!h || m->method == SIP_M_ACK || m->method == SIP_M_CANCEL)
		return 0;
	/* RFC 3261 16.3 step 5: we support no proxy extensions */
	sip_buf_str(&hdr, "Unsupported: ");
	sip_buf_add(&hdr, m->raw + h->value.off, h->value.len);
	sip_buf_str(&hdr, "\r\n");
	proxy_reply(m, t, 420, hdr.failed ? NULL : hdr.data);
	sip_buf_free(&hdr);
	return -1;
}

/* RFC 3261 16.3: what makes a proxy refuse a request; 0 or answered. */
static int validate(struct sip_msg *m, struct sip_txn *t, uint32_t *loop)
{
	char prefix[32];

	/* step 3: Max-Forwards */
	if (sip_msg_max_forwards(m) == 0) {
		if (m->method == SIP_M_OPTIONS)
			sip_core_uas(m, t);
		else
			proxy_reply(m, t, 483, NULL);
		return -1;
	}
	/* step 4: loops; a spiral changes the Request-URI and the hash */
	*loop = loop_hash(m);
	snprintf(prefix, sizeof(prefix), "z9hG4bKtnd%08x.", *loop);
	if (is_loop(m, prefix)) {
		proxy_reply(m, t, 482, NULL);
		return -1;
	}
	return unsupported_proxy_require(m, t);
}

/* ---- Next hops found later (RFC 3263 look-ups) ------------------------------- */

/*
 * A request waiting for its next hop: its bytes (the message being
 * processed is gone by then), its transaction, its route plan. For a
 * stateless proxy it owns the libosip2 message; otherwise the server
 * transaction keeps it.
 */
struct pending {
	struct sip_dns_query *query;
	struct sip_txn *t;
	struct route_plan plan;
	uint32_t loop;
	char *raw;
	char *ruri; /* the handler's target, kept */
	struct sip_scan scan;
	struct sip_msg m;
};

static void pending_free(struct pending *pd)
{
	if (pd->t)
		sip_txn_detach(pd->t);
	if (!pd->t && pd->m.osip && !pd->m.osip_borrowed)
		osip_message_free(pd->m.osip);
	if (pd->plan.new_uri)
		osip_uri_free(pd->plan.new_uri);
	free(pd->raw);
	free(pd->ruri);
	free(pd);
}

static void on_pending_txn_end(struct sip_txn *t, void *arg)
{
	struct pending *pd = arg;

	(void)t;
	pd->t = NULL;
	pd->m.osip = NULL; /* the machine freed it */
	sip_dns_cancel(pd->query);
	pd->query = NULL;
	pending_free(pd);
}

static const struct sip_txn_ops pending_ops = {
	.terminated = on_pending_txn_end,
};

static void on_resolved(void *arg, int rc, const struct sip_peer *peers,
			unsigned n)
{
	struct pending *pd = arg;
	struct sip_txn *t = pd->t;

	(void)n;
	pd->query = NULL;
	if (t)
		sip_txn_detach(t);
	if (t && t->last_status >= 200) {
		/* answered meanwhile (a CANCEL's 487): nothing to forward */
	} else if (rc < 0) {
		tnd_info("no next hop for a %s: %s",
			 sip_method_name(pd->m.method), strerror(-rc));
		proxy_reply(&pd->m, t, 404, NULL);
	} else {
		pd->plan.to = peers[0];
		forward(&pd->m, t, &pd->plan, pd->loop);
	}
	pd->t = NULL;
	if (t)
		pd->m.osip = NULL; /* taken by forward() or kept by t */
	pending_free(pd);
}

/* Keep the request while its next hop is looked up. */
static void defer(struct sip_msg *m, struct sip_txn *t, struct route_plan *p,
		  uint32_t loop)
{
	struct pending *pd = calloc(1, sizeof(*pd));
	int rc;

	if (!pd || !(pd->raw = malloc(m->len + 1))) {
		free(pd);
		proxy_reply(m, t, 500, NULL);
		return;
	}
	memcpy(pd->raw, m->raw, m->len);
	pd->scan = *m->scan;
	pd->scan.buf = pd->raw;
	pd->m = *m;
	pd->m.raw = pd->raw;
	pd->m.scan = &pd->scan;
	if (!t)
		m->osip = NULL; /* ours now */
	pd->t = t;
	pd->plan = *p;
	p->new_uri = NULL;
	if (p->new_ruri) {
		pd->ruri = strdup(p->new_ruri);
		pd->plan.new_ruri = pd->ruri;
	}
	pd->loop = loop;
	rc = sip_resolve_uri(pd->plan.target, &pd->plan.to, on_resolved, pd,
			     &pd->query);
	if (rc != -EINPROGRESS) { /* cannot happen after a miss, but */
		on_resolved(pd, rc, &pd->plan.to, rc == 0);
		return;
	}
	if (t) {
		t->ops = &pending_ops;
		t->arg = pd;
	}
}

/* Forward now when the next hop is known, else once it is. */
static void route_on(struct sip_msg *m, struct sip_txn *t,
		     struct route_plan *p, uint32_t loop)
{
	int rc = 0;

	if (p->resolve)
		rc = sip_resolve_uri(p->target, &p->to, NULL, NULL, NULL);
	if (rc == -EWOULDBLOCK) {
		defer(m, t, p, loop);
		return;
	}
	if (rc < 0) {
		tnd_debug("no next hop for a %s: %s", sip_method_name(m->method),
			  strerror(-rc));
		proxy_reply(m, t, rc == -EPROTONOSUPPORT ? 416 :
				  rc == -EHOSTUNREACH	 ? 404 :
							   400,
			    NULL);
		return;
	}
	forward(m, t, p, loop);
}

int sip_proxy_route(struct sip_msg *m, struct sip_txn *t, const char *target)
{
	struct route_plan plan;
	uint32_t loop;

	if (!target) {
		sip_proxy_request(m, t);
		return 0;
	}
	/* 3xx recursion needs what a fork keeps (16.7 step 5) */
	if (t && sip_cfg->recurse_3xx)
		return sip_proxy_fork(m, t, &target, 1, SIP_FORK_RECURSE);
	if (validate(m, t, &loop) < 0)
		return 0;
	plan_route(m, &plan);
	if (osip_uri_init(&plan.new_uri) != 0)
		return -ENOMEM;
	if (osip_uri_parse(plan.new_uri, target) != 0) {
		osip_uri_free(plan.new_uri);
		return -EINVAL;
	}
	plan.new_ruri = target;
	plan.local = false;
	/* a Route left after ours still leads (loose routing); else the
	 * new Request-URI does */
	if ((int)plan.pop >= osip_list_size(&m->osip->routes) -
				     (plan.strict ? 1 : 0)) {
		plan.target = plan.new_uri;
		plan.resolve = true;
	}
	if (m->method == SIP_M_INVITE && t && !t->last_status)
		sip_txn_respond(t, 100, NULL, NULL, NULL, NULL, 0);
	route_on(m, t, &plan, loop);
	if (plan.new_uri)
		osip_uri_free(plan.new_uri);
	return 0;
}

void sip_proxy_request(struct sip_msg *m, struct sip_txn *t)
{
	struct route_plan plan;
	uint32_t loop;

	if (validate(m, t, &loop) < 0)
		return;
	plan_route(m, &plan);
	if (plan.local) {
		sip_core_uas(m, t);
		return;
	}
	route_on(m, t, &plan, loop);
}

/* ---- Forking (RFC 3261 16.5-16.7: parallel and serial search) -------- */

/* A branch's route plan: the request's, with its target as the
 * Request-URI, which leads unless a Route is left (as sip_proxy_route). */
static int branch_plan(const struct proxy_branch *b, struct route_plan *p)
{
	const struct proxy_fork *f = b->ctx->fork;

	*p = *f->plan;
	p->new_uri = NULL;
	if (osip_uri_init(&p->new_uri) != 0)
		return -ENOMEM;
	if (osip_uri_parse(p->new_uri, b->target) != 0) {
		osip_uri_free(p->new_uri);
		p->new_uri = NULL;
		return -EINVAL;
	}
	p->new_ruri = b->target;
	p->local = false;
	if ((int)p->pop >= osip_list_size(&f->orig->routes) -
				   (p->strict ? 1 : 0)) {
		p->target = p->new_uri;
		p->resolve = true;
	}
	return 0;
}

/* Start a branch's client transaction towards p->to. */
static int branch_send(struct proxy_branch *b, struct route_plan *p)
{
	struct proxy_ctx *ctx = b->ctx;
	struct proxy_fork *f = ctx->fork;
	struct sip_listener *out = sip_listener_out(p->to.proto, &p->to.addr);
	struct sip_buf via = { 0 }, wire = { 0 };
	osip_message_t *req = NULL;
	char branch[64];
	int rc;

	if (!out)
		return -ENETUNREACH;
	p->to.listener = out;
	rc = build_forward(&f->m, p, out, f->loop, true, branch, &via, &wire);
	if (rc == 0 && osip_message_clone(f->orig, &req) != 0)
		rc = -ENOMEM;
	if (rc == 0)
		rc = edit_machine_copy(req, via.data + 5, p);
	if (rc == 0) {
		b->to = p->to;
		ctx->refs++;
		b->client = sip_txn_client_new(req, wire.data, wire.len, branch,
					       &p->to, &branch_ops, b);
		req = NULL; /* the transaction's, or freed by it */
		if (!b->client) {
			ctx->refs--;
			rc = -ECONNREFUSED;
		}
	}
	if (rc == 0) {
		sip_count(sip_stats.fwd_stateful);
		if (ctx->method == SIP_M_INVITE)
			sip_timer_at(&b->timer_c,
				     sip_now_ms() + sip_cfg->timer_c_ms);
	}
	if (req)
		osip_message_free(req);
	sip_buf_free(&via);
	sip_buf_free(&wire);
	return rc;
}

static int failure_status(int rc)
{
	return rc == -EPROTONOSUPPORT ? 416 :
	       rc == -EHOSTUNREACH || rc == -ENOENT ? 404 :
	       rc == -EINVAL ? 400 :
						      503;
}

static void on_branch_located(void *arg, int rc, const struct sip_peer *peers,
			      unsigned n)
{
	struct proxy_branch *b = arg;
	struct proxy_ctx *ctx = b->ctx;
	struct route_plan p = { 0 };

	(void)n;
	b->query = NULL;
	if (rc == 0 && (ctx->stopped || !ctx->server))
		rc = -ECANCELED;
	if (rc == 0)
		rc = branch_plan(b, &p);
	if (rc == 0) {
		p.to = peers[0];
		rc = branch_send(b, &p);
	}
	if (p.new_uri)
		osip_uri_free(p.new_uri);
	if (rc < 0) {
		tnd_info("branch to %s not sent: %s", b->target, strerror(-rc));
		branch_failed(b, rc == -ECANCELED ? 487 : failure_status(rc));
	}
	ctx_unref(ctx); /* the look-up's reference */
}

/* Find the branch's next hop and send it, now or once located. */
static void branch_start(struct proxy_branch *b)
{
	struct route_plan p;
	int rc = branch_plan(b, &p);

	if (rc == 0 && p.resolve)
		rc = sip_resolve_uri(p.target, &p.to, on_branch_located, b,
				     &b->query);
	if (rc == -EINPROGRESS)
		b->ctx->refs++;
	else if (rc == 0)
		rc = branch_send(b, &p);
	if (p.new_uri)
		osip_uri_free(p.new_uri);
	if (rc < 0 && rc != -EINPROGRESS) {
		tnd_info("branch to %s not sent: %s", b->target, strerror(-rc));
		/* not after_failure(): the caller goes on with the set */
		b->status = failure_status(rc);
		if (!b->ctx->best_status)
			b->ctx->best_status = b->status;
	}
}

/* Start the targets not tried yet: all of them (parallel) or the next
 * one that can be sent (serial). */
static void start_targets(struct proxy_ctx *ctx)
{
	struct proxy_fork *f = ctx->fork;

	while (more_targets(ctx) && ctx->nbranches < PROXY_FORK_MAX) {
		struct proxy_branch *b = &ctx->br[ctx->nbranches++];

		*b = (struct proxy_branch){ .ctx = ctx };
		sip_tnode_init(&b->timer_c, on_timer_c);
		b->target = strdup(f->targets[f->next++]);
		if (!b->target) {
			b->status = 500;
			continue;
		}
		tnd_debug("%s branch %u to %s", f->serial ? "serial" :
			  "parallel", ctx->nbranches, b->target);
		branch_start(b);
		if (f->serial && !b->status)
			break; /* one at a time */
	}
}

/* What a fork keeps of the request once its processing ends. */
static struct proxy_fork *fork_new(const struct sip_msg *m, uint32_t loop,
				   const char *const *targets, unsigned n,
				   unsigned flags)
{
	struct proxy_fork *f = calloc(1, sizeof(*f));

	if (!f || !(f->raw = malloc(m->len + 1)) ||
	    !(f->plan = calloc(1, sizeof(*f->plan)))) {
		fork_free(f);
		return NULL;
	}
	memcpy(f->raw, m->raw, m->len);
	f->scan = *m->scan;
	f->scan.buf = f->raw;
	f->m = *m;
	f->m.raw = f->raw;
	f->m.scan = &f->scan;
	f->loop = loop;
	f->serial = flags & SIP_FORK_SERIAL;
	f->recurse = (flags & SIP_FORK_RECURSE) || sip_cfg->recurse_3xx;
	for (unsigned i = 0; i < n; i++)
		if (targets[i] && *targets[i])
			target_add(f, targets[i]);
	return f;
}

int sip_proxy_fork(struct sip_msg *m, struct sip_txn *t,
		   const char *const *targets, unsigned n, unsigned flags)
{
	struct proxy_fork *f;
	struct proxy_ctx *ctx;
	osip_message_t *req;
	uint32_t loop;

	if (!t || !targets || !n || n > PROXY_FORK_MAX ||
	    m->method == SIP_M_ACK || m->method == SIP_M_CANCEL)
		return -EINVAL;
	if (validate(m, t, &loop) < 0)
		return 0;
	f = fork_new(m, loop, targets, n, flags);
	req = f ? sip_txn_take_request(t) : NULL;
	ctx = req ? ctx_new(t, m->method, PROXY_FORK_MAX) : NULL;
	if (!ctx) {
		if (req)
			osip_message_free(req);
		fork_free(f);
		sip_txn_respond(t, 500, NULL, NULL, NULL, NULL, 0);
		return 0;
	}
	/* the branches' machines are clones of libosip2's copy */
	f->orig = req;
	f->m.osip = req;
	f->m.osip_borrowed = true;
	/* the plan points into the copy that lives as long as the fork */
	plan_route(&f->m, f->plan);
	ctx->fork = f;
	if (m->method == SIP_M_INVITE && !t->last_status)
		sip_txn_respond(t, 100, NULL, NULL, NULL, NULL, 0);
	start_targets(ctx);
	if (ctx_done(ctx))
		send_best(ctx);
	return 0;
}

/* ---- Stateless responses (RFC 3261 16.7, 16.11) --------------------------------- */

/* The via-parm after the top one: in the same line or the next Via. */
static int second_via(const struct sip_msg *m, struct sip_via *v)
{
	const struct sip_scan *s = m->scan;
	const struct sip_hdr *h;

	if (m->via.more) {
		h = sip_scan_hdr(s, SIP_H_VIA, 0);
		return sip_via_parse(s, m->via.end + 1,
				     h->value.off + h->value.len, v);
	}
	h = sip_scan_hdr(s, SIP_H_VIA, 1);
	if (!h)
		return -ENOENT;
	return sip_via_parse(s, h->value.off, h->value.off + h->value.len, v);
}

void sip_proxy_stray_response(struct sip_msg *m)
{
	const char *raw = m->raw;
	struct sip_buf wire = { 0 };
	struct sip_peer to = { 0 };
	struct sip_via v;
	int port;

	if (!m->via_ok || !sip_is_local(raw + m->via.host.off, m->via.host.len,
					m->via.port)) {
		tnd_debug("a %d response not via us: discarded", m->scan->status);
		return;
	}
	if (second_via(m, &v) < 0 ||
	    sip_proto_parse(raw + v.transport.off, v.transport.len,
			    &to.proto) < 0) {
		tnd_debug("a %d response with no Via to go on: discarded",
			  m->scan->status);
		return;
	}
	/* RFC 3261 18.2.2 and RFC 3581 4: received and rport first */
	port = v.rport_port ? v.rport_port : v.port ? v.port :
	       to.proto == SIP_TLS ? 5061 : 5060;
	if ((v.received.len ?
		     sip_addr_from(&to.addr, raw + v.received.off,
				   v.received.len, port) :
		     sip_addr_from(&to.addr, raw + v.host.off, v.host.len,
				   port)) < 0) {
		tnd_debug("a %d response to a name we do not resolve: "
			  "discarded", m->scan->status);
		return;
	}
	if (build_response(&wire, m) == 0 &&
	    sip_send(&to, wire.data, wire.len) == 0)
		sip_count(sip_stats.fwd_stateless);
	else
		sip_count(sip_stats.tx_errors);
	sip_buf_free(&wire);
}

void sip_show_proxy(struct tnd_reply *r)
{
	sip_host->reply_field(r, "mode", "%s", sip_cfg->mode);
	sip_host->reply_field_num(r, "contexts", nctx);
}
