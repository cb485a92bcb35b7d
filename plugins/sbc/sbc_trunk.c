/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbc_trunk: what keeps a trunk to a peer usable, from the peer's
 * [sbc-peer NAME] keys:
 *
 * - OPTIONS keep-alive (RFC 3261 11) of each destination: any response,
 *   even 404/405/501, shows the destination alive; `options_down_after`
 *   OPTIONS in a row that get none (Timer F, or a transport error) mark
 *   it down, so calls skip it (sbc_peer_next_hop()); the first answer
 *   marks it up again. One OPTIONS at a time per destination: every
 *   `options_interval_s` while it answers; at once after a miss (so a
 *   dead destination is down after about options_down_after Timer Fs,
 *   not that many intervals); every interval while down.
 * - Registration with a provider's registrar (RFC 3261 10.2): REGISTER
 *   through the peer's first live destination, one Call-ID and growing
 *   CSeq (10.2.4), a 401/407 answered with digest (sbc_auth_answer(); a
 *   second challenge is a failure unless it says stale=true), 423 with
 *   its Min-Expires (10.2.8), refreshed before the granted lifetime ends,
 *   retried after a failure at register_retry_s doubling up to 300 s, and
 *   removed (expires 0) when the node stops.
 * - Mutual TLS per peer: with `tls_name`, a call must come over TLS with
 *   a verified certificate that names that host (sip service 1.2
 *   tls_peer_is()).
 *
 * One 500 ms tick drives the probes and registrations; all state is in
 * static tables, so a response that comes late finds valid memory.
 */
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sbc_int.h"

#define TICK_MS 500
#define PROBES_MAX 512	/* 64 peers of 8 destinations */
#define REGS_MAX 64	/* one registration per peer */
#define RETRY_CAP_S 300 /* longest wait between failed registrations */
#define REFRESH_MARGIN_S 30
#define REMOVAL_WAIT_MS 3000 /* below the node's default stop_timeout_ms */

/* ---- Keep-alive: one OPTIONS prober per destination --------------------- */

struct probe {
	struct sbc_peer *peer;
	unsigned dest; /* its index among the peer's destinations */
	unsigned interval_s, down_after;
	struct sip_client *pending; /* the OPTIONS in flight */
	unsigned misses;	    /* unanswered in a row */
	uint64_t next_ms;	    /* when the next OPTIONS leaves */
	int last_status;	    /* of the last check; 0: none yet */
	uint64_t last_ms;	    /* when it ended */
	char from[160];
};

/* ---- Registration: one per peer with a register_uri --------------------- */

enum reg_state {
	REG_WAITING,	   /* not tried yet */
	REG_REGISTERING,   /* a REGISTER is out, first or after a failure */
	REG_REGISTERED,	   /* granted; a refresh may be out */
	REG_FAILED,	   /* refused or unanswered; a retry is due */
	REG_UNREGISTERING, /* stopping: REGISTER expires 0 is out */
	REG_UNREGISTERED,
};

static const char *const reg_state_names[] = {
	"waiting", "registering",   "registered",
	"failed",  "unregistering", "unregistered",
};

struct reg {
	struct sbc_peer *peer;
	struct sbc_peer_trunk t;
	char aor[256], contact[256], call_id[96], next_hop[160];
	uint32_t cseq;
	enum reg_state state;
	struct sip_client *pending;
	unsigned expires_asked;	 /* of the request out (0: removal) */
	bool answered_challenge; /* the request out carries credentials */
	bool answered_stale;	 /* and a stale=true was answered already */
	int last_status;	 /* of the last final response; 0 none */
	char last_reason[64];
	uint64_t expires_at_ms; /* registered until (0: not) */
	uint64_t next_ms;	/* refresh or retry due (0: none) */
	unsigned retry_s;	/* the wait after the next failure */
	unsigned failures;	/* in a row */
};

static struct probe probes[PROBES_MAX];
static unsigned nprobes;
static struct reg regs[REGS_MAX];
static unsigned nregs;
static struct tnd_timer *tick;
static bool stopping;
static unsigned unreg_pending;		/* removals still unanswered at stop */
static struct tnd_timer *removal_timer; /* bounds the wait for them */
static bool stop_told;			/* host->stopped() was called */

static struct {
	struct tnd_counter *options_sent, *options_missed, *dest_down,
		*registered, *register_failed, *tls_refused;
} count;

/* ---- Helpers ------------------------------------------------------------- */

/* "udp:203.0.113.7:5060" -> "203.0.113.7:5060" */
static const char *dest_hostport(const char *dest)
{
	const char *colon = strchr(dest, ':');

	return colon ? colon + 1 : dest;
}

/*
 * This node's SIP URI on the listener of `proto` ("udp", "tcp", "tls";
 * the first listener when it has none of those), user `user`:
 * "sip:user@127.0.0.1:5060;transport=tcp". -ENOENT without a listener.
 */
static int local_uri(const char *proto, const char *user, char *out,
		     size_t size)
{
	char route[256];
	size_t len;
	int n;

	n = sbc_sip->local_route(proto, user, route, sizeof(route));
	if (n == -ENOENT)
		n = sbc_sip->local_route(NULL, user, route, sizeof(route));
	if (n < 0)
		return n;
	/* "<sip:...;lr>" -> "sip:..." */
	len = strlen(route);
	if (len > 5 && strcmp(route + len - 4, ";lr>") == 0)
		route[len - 4] = '\0';
	n = snprintf(out, size, "%s", route[0] == '<' ? route + 1 : route);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

static bool sip_has_local_route(void)
{
	return sbc_sip->size >= offsetof(struct sip_service, local_route) +
					sizeof(sbc_sip->local_route);
}

static bool sip_has_tls_peer_is(void)
{
	return sbc_sip->size >= offsetof(struct sip_service, tls_peer_is) +
					sizeof(sbc_sip->tls_peer_is);
}

/* ---- Keep-alive ---------------------------------------------------------- */

static struct probe *probe_of(const struct sbc_peer *p, unsigned i)
{
	for (unsigned k = 0; k < nprobes; k++)
		if (probes[k].peer == p && probes[k].dest == i)
			return &probes[k];
	return NULL;
}

static void probe_mark(struct probe *pr, bool up)
{
	const char *dest = sbc_peer_dest(pr->peer, pr->dest);

	if (sbc_peer_dest_up(pr->peer, pr->dest) == up)
		return;
	sbc_peer_dest_set(pr->peer, pr->dest, up);
	if (up) {
		tnd_notice("peer %s: destination %s is up (OPTIONS answered "
			   "%d)",
			   sbc_peer_name(pr->peer), dest, pr->last_status);
	} else {
		sbc_host->counter_add(count.dest_down, 1);
		tnd_notice("peer %s: destination %s is down (%u OPTIONS "
			   "unanswered in a row)",
			   sbc_peer_name(pr->peer), dest, pr->misses);
	}
}

static void on_options(struct sip_client *c, int status,
		       const struct sip_message *rsp, void *arg)
{
	struct probe *pr = arg;
	uint64_t now = sbc_host->now_ms();

	(void)c;
	if (status < 200)
		return;
	pr->pending = NULL;
	pr->last_status = status;
	pr->last_ms = now;
	if (rsp) { /* any response: something answers there */
		pr->misses = 0;
		probe_mark(pr, true);
		pr->next_ms = now + pr->interval_s * 1000ull;
		return;
	}
	sbc_host->counter_add(count.options_missed, 1);
	pr->misses++;
	tnd_info("peer %s: OPTIONS to %s unanswered (%u in a row)",
		 sbc_peer_name(pr->peer), sbc_peer_dest(pr->peer, pr->dest),
		 pr->misses);
	if (pr->misses >= pr->down_after) {
		probe_mark(pr, false);
		pr->next_ms = now + pr->interval_s * 1000ull;
	} else {
		pr->next_ms = now; /* confirm at once */
	}
}

static void probe_send(struct probe *pr)
{
	const char *dest = sbc_peer_dest(pr->peer, pr->dest);
	char ruri[192];
	struct sip_request_spec spec = { .size = sizeof(spec) };
	int rc;

	/* RFC 3261 11.1: the destination itself as the Request-URI */
	snprintf(ruri, sizeof(ruri), "sip:%s%s", dest_hostport(dest),
		 strncmp(dest, "udp:", 4) == 0	 ? ""
		 : strncmp(dest, "tcp:", 4) == 0 ? ";transport=tcp"
						 : ";transport=tls");
	spec.method = "OPTIONS";
	spec.request_uri = ruri;
	spec.from = pr->from;
	spec.to = ruri;
	spec.headers = "Accept: application/sdp\r\n";
	spec.next_hop = dest;
	rc = sbc_sip->send_request(&spec, on_options, pr, &pr->pending);
	sbc_host->counter_add(count.options_sent, 1);
	if (rc < 0) { /* counts as unanswered */
		pr->pending = NULL;
		tnd_info("peer %s: OPTIONS to %s not sent (%s)",
			 sbc_peer_name(pr->peer), dest, strerror(-rc));
		on_options(NULL, 408, NULL, pr);
	}
}

static int probes_setup(void)
{
	nprobes = 0;
	for (unsigned i = 0; i < sbc_peer_count(); i++) {
		struct sbc_peer *p = sbc_peer_at(i);
		struct sbc_peer_trunk t;

		sbc_peer_trunk(p, &t);
		for (unsigned k = 0;
		     t.options_interval_s && k < sbc_peer_ndest(p); k++) {
			struct probe *pr = &probes[nprobes];
			char uri[128];
			const char *d = sbc_peer_dest(p, k);
			char proto[4] = { d[0], d[1], d[2], '\0' };

			if (nprobes == PROBES_MAX)
				return -E2BIG;
			memset(pr, 0, sizeof(*pr));
			pr->peer = p;
			pr->dest = k;
			pr->interval_s = t.options_interval_s;
			pr->down_after = t.options_down_after;
			if (local_uri(proto, "keepalive", uri, sizeof(uri)) < 0)
				snprintf(uri, sizeof(uri),
					 "sip:keepalive@invalid");
			snprintf(pr->from, sizeof(pr->from), "<%s>", uri);
			nprobes++;
		}
	}
	return 0;
}

void sbc_trunk_show_dest(struct tnd_reply *r, const struct sbc_peer *p,
			 unsigned i)
{
	const struct probe *pr = probe_of(p, i);
	char key[32];

	if (!pr)
		return;
	snprintf(key, sizeof(key), "destination%u_check", i + 1);
	if (!pr->last_status)
		sbc_host->reply_field(r, key, "none yet");
	else
		sbc_host->reply_field(r, key, "%d%s %llus ago, %u missed",
				      pr->last_status,
				      pr->misses ? " (no answer)" : "",
				      (unsigned long long)((sbc_host->now_ms() -
							    pr->last_ms) /
							   1000),
				      pr->misses);
}

/* ---- Registration -------------------------------------------------------- */

static void reg_state(struct reg *r, enum reg_state s)
{
	if (r->state == s)
		return;
	tnd_info("peer %s: registration %s -> %s", sbc_peer_name(r->peer),
		 reg_state_names[r->state], reg_state_names[s]);
	r->state = s;
}

/* When to refresh a registration granted `s` seconds: 10 % (at least
 * REFRESH_MARGIN_S, at most half) before it ends. */
static uint64_t refresh_after_ms(unsigned s)
{
	unsigned margin = s / 10 > REFRESH_MARGIN_S ? s / 10 : REFRESH_MARGIN_S;

	if (margin > s / 2)
		margin = s / 2;
	return (uint64_t)(s - margin) * 1000;
}

/*
 * The lifetime the registrar gave our binding (RFC 3261 10.2.4): the
 * expires parameter of our Contact in the 2xx, else its Expires header,
 * else what we asked for.
 */
static unsigned granted_expires(const struct reg *r,
				const struct sip_message *m)
{
	char line[1024], uri[256];
	struct sip_text v;

	/* our URI without its parameters, as the registrar lists it */
	snprintf(uri, sizeof(uri), "%.*s", (int)strcspn(r->contact, ";>"),
		 r->contact);
	for (unsigned i = 0; sbc_sip->header(m, "Contact", i, &v) == 0; i++) {
		char *at, *end, *exp;

		snprintf(line, sizeof(line), "%.*s", (int)v.len, v.ptr);
		at = strcasestr(line, uri);
		if (!at)
			continue;
		at += strlen(uri);
		end = strchr(at, '>');
		end = strchr(end ? end : at, ','); /* the next contact */
		if (end)
			*end = '\0';
		exp = strcasestr(at, "expires=");
		if (exp)
			return (unsigned)strtoul(exp + 8, NULL, 10);
	}
	if (sbc_sip->header(m, "Expires", 0, &v) == 0)
		return (unsigned)strtoul(v.ptr, NULL, 10);
	return r->expires_asked;
}

static void reg_send(struct reg *r, const char *auth);

static void reg_failed(struct reg *r, int status, const char *why)
{
	uint64_t now = sbc_host->now_ms();
	unsigned cap = r->t.register_retry_s > RETRY_CAP_S
			       ? r->t.register_retry_s
			       : RETRY_CAP_S;

	r->last_status = status;
	snprintf(r->last_reason, sizeof(r->last_reason), "%s", why);
	if (r->state == REG_UNREGISTERING) {
		tnd_notice("peer %s: removing registration of %s failed: %d "
			   "%s",
			   sbc_peer_name(r->peer), r->aor, status, why);
		reg_state(r, REG_UNREGISTERED);
		return;
	}
	sbc_host->counter_add(count.register_failed, 1);
	r->failures++;
	if (r->expires_at_ms <= now)
		r->expires_at_ms = 0;
	tnd_notice("peer %s: registration of %s at %s failed: %d %s; again "
		   "in %u s",
		   sbc_peer_name(r->peer), r->aor, r->t.register_uri, status,
		   why, r->retry_s);
	r->next_ms = now + r->retry_s * 1000ull;
	r->retry_s = r->retry_s * 2 > cap ? cap : r->retry_s * 2;
	reg_state(r, REG_FAILED);
}

static void reg_granted(struct reg *r, const struct sip_message *m)
{
	uint64_t now = sbc_host->now_ms();
	unsigned granted = granted_expires(r, m);

	if (!granted) /* "expires=0" for our binding: not kept */
		granted = r->expires_asked;
	sbc_host->counter_add(count.registered, 1);
	if (r->state != REG_REGISTERED)
		tnd_notice("peer %s: registered %s at %s, contact %s, "
			   "expires %u",
			   sbc_peer_name(r->peer), r->aor, r->t.register_uri,
			   r->contact, granted);
	else
		tnd_info("peer %s: registration of %s refreshed, expires %u",
			 sbc_peer_name(r->peer), r->aor, granted);
	r->expires_at_ms = now + granted * 1000ull;
	r->next_ms = now + refresh_after_ms(granted);
	r->retry_s = r->t.register_retry_s;
	r->failures = 0;
	reg_state(r, REG_REGISTERED);
}

/* 401/407: answer once (again only for a stale nonce, RFC 2617 3.2.1). */
static void reg_challenged(struct reg *r, int status,
			   const struct sip_message *m)
{
	char auth[1024];
	bool stale = sbc_auth_stale(m);
	int n;

	if (r->answered_challenge && (!stale || r->answered_stale)) {
		reg_failed(r, status, "credentials refused");
		return;
	}
	if (!r->t.register_user[0]) {
		reg_failed(r, status, "challenged, no register_user");
		return;
	}
	n = sbc_auth_answer(m, "REGISTER", r->t.register_uri,
			    r->t.register_user, r->t.register_password, auth,
			    sizeof(auth));
	if (n < 0) {
		reg_failed(r, status,
			   n == -ENOTSUP ? "challenge of an algorithm we lack"
					 : "challenge unreadable");
		return;
	}
	r->answered_stale = r->answered_challenge;
	r->answered_challenge = true;
	reg_send(r, auth);
}

/* 423 Interval Too Brief: ask again for the registrar's Min-Expires. */
static bool reg_too_brief(struct reg *r, const struct sip_message *m)
{
	struct sip_text v;
	unsigned long min;

	if (sbc_sip->header(m, "Min-Expires", 0, &v) < 0)
		return false;
	min = strtoul(v.ptr, NULL, 10);
	if (min <= r->expires_asked || min > 604800)
		return false;
	tnd_info("peer %s: registrar wants expires %lu at least",
		 sbc_peer_name(r->peer), min);
	r->expires_asked = (unsigned)min;
	r->answered_challenge = r->answered_stale = false;
	reg_send(r, NULL);
	return true;
}

/* Removals done (or no longer waited for): the plugin has stopped. */
static void all_removed(void *arg)
{
	(void)arg;
	if (stop_told)
		return;
	stop_told = true;
	sbc_host->timer_free(removal_timer);
	removal_timer = NULL;
	sbc_host->stopped(SBC_SELF);
}

static void on_removal_timeout(struct tnd_timer *t, void *arg)
{
	(void)t;
	tnd_notice("%u registration%s not removed within %u ms; stopping "
		   "anyway (%s at the registrar)",
		   unreg_pending, unreg_pending == 1 ? "" : "s",
		   REMOVAL_WAIT_MS,
		   unreg_pending == 1 ? "it expires" : "they expire");
	all_removed(arg);
}

/* One removal fewer to wait for at stop. The host is told from a loop
 * turn of its own: stopped() goes on to stop the sip plugin, which must
 * not happen inside the sip plugin's own callback. */
static void reg_removed(void)
{
	if (stopping && unreg_pending && --unreg_pending == 0 &&
	    sbc_host->call_on_loop(all_removed, NULL) < 0)
		all_removed(NULL);
}

static void on_register(struct sip_client *c, int status,
			const struct sip_message *rsp, void *arg)
{
	struct reg *r = arg;
	bool removing = r->state == REG_UNREGISTERING;

	(void)c;
	if (status < 200)
		return;
	r->pending = NULL;
	if (rsp && (status == 401 || status == 407)) {
		reg_challenged(r, status, rsp);
	} else if (rsp && status == 423 && !removing && reg_too_brief(r, rsp)) {
		; /* asked again */
	} else if (status >= 200 && status < 300) {
		r->last_status = status;
		snprintf(r->last_reason, sizeof(r->last_reason), "OK");
		if (removing) {
			tnd_notice("peer %s: registration of %s removed",
				   sbc_peer_name(r->peer), r->aor);
			r->expires_at_ms = 0;
			reg_state(r, REG_UNREGISTERED);
		} else {
			reg_granted(r, rsp);
		}
	} else {
		reg_failed(r, status,
			   rsp		   ? "refused"
			   : status == 503 ? "no next hop"
					   : "no answer");
	}
	if (removing && !r->pending)
		reg_removed();
}

/* A REGISTER of `r` (its expires_asked), with credentials or not. */
static void reg_send(struct reg *r, const char *auth)
{
	const char *hop = sbc_peer_next_hop(r->peer, 0);
	char headers[1536];
	struct sip_request_spec spec = { .size = sizeof(spec) };
	int rc;

	if (!hop && sbc_peer_ndest(r->peer)) {
		reg_failed(r, 503, "no live destination");
		return;
	}
	snprintf(r->next_hop, sizeof(r->next_hop), "%s", hop ? hop : "");
	snprintf(headers, sizeof(headers), "Contact: <%s>\r\nExpires: %u\r\n%s",
		 r->contact, r->expires_asked, auth ? auth : "");
	spec.method = "REGISTER";
	spec.request_uri = r->t.register_uri;
	spec.from = r->aor;
	spec.to = r->aor;
	spec.call_id = r->call_id;
	spec.cseq = ++r->cseq; /* RFC 3261 10.2: one Call-ID, CSeq grows */
	spec.headers = headers;
	spec.next_hop = hop;
	if (!auth)
		r->answered_challenge = r->answered_stale = false;
	if (r->state != REG_REGISTERED && r->state != REG_UNREGISTERING)
		reg_state(r, REG_REGISTERING);
	rc = sbc_sip->send_request(&spec, on_register, r, &r->pending);
	if (rc < 0) {
		r->pending = NULL;
		reg_failed(r, 503, "not sent");
	}
}

/* "sip:provider.example.com:5060;transport=tcp" -> its host[:port] */
static void uri_host(const char *uri, char *out, size_t size)
{
	const char *h = strchr(uri, ':');
	const char *at;

	h = h ? h + 1 : uri;
	at = strchr(h, '@');
	if (at)
		h = at + 1;
	snprintf(out, size, "%.*s", (int)strcspn(h, ";?>"), h);
}

/* The AOR and the Contact of a registration; -ENOENT when no listener
 * gives the Contact. */
static int reg_identity(struct reg *r, const char *proto)
{
	char host[192], user[64], uri[256];

	uri_host(r->t.register_uri, host, sizeof(host));
	if (r->t.register_aor[0])
		snprintf(r->aor, sizeof(r->aor), "<%s>", r->t.register_aor);
	else
		snprintf(r->aor, sizeof(r->aor), "<sip:%s@%s>",
			 r->t.register_user, host);
	if (r->t.register_contact[0]) {
		snprintf(r->contact, sizeof(r->contact), "%s",
			 r->t.register_contact);
		return 0;
	}
	/* a user name may be "user@domain": its user part only */
	snprintf(user, sizeof(user), "%.*s",
		 (int)strcspn(r->t.register_user, "@"), r->t.register_user);
	if (local_uri(proto, user[0] ? user : "sbc", uri, sizeof(uri)) < 0)
		return -ENOENT;
	snprintf(r->contact, sizeof(r->contact), "%s", uri);
	return 0;
}

static int regs_setup(void)
{
	nregs = 0;
	for (unsigned i = 0; i < sbc_peer_count(); i++) {
		struct sbc_peer *p = sbc_peer_at(i);
		struct reg *r = &regs[nregs];
		const char *d = sbc_peer_dest(p, 0);
		char proto[4] = "udp";

		if (nregs == REGS_MAX)
			return -E2BIG;
		memset(r, 0, sizeof(*r));
		sbc_peer_trunk(p, &r->t);
		if (!r->t.register_uri[0])
			continue;
		r->peer = p;
		if (d)
			memcpy(proto, d, 3);
		if (reg_identity(r, proto) < 0)
			return -ENOENT;
		snprintf(r->call_id, sizeof(r->call_id), "reg%08lx%08lx@sbc",
			 random(), random());
		r->cseq = (uint32_t)(random() % 1000);
		r->expires_asked = r->t.register_expires;
		r->retry_s = r->t.register_retry_s;
		r->next_ms = sbc_host->now_ms();
		nregs++;
	}
	return 0;
}

int sbc_cmd_show_registrations(struct tnd_reply *r, int argc, char **argv)
{
	uint64_t now = sbc_host->now_ms();

	(void)argv;
	if (argc)
		return sbc_host->reply_error(r, "sbc show registrations takes "
						"no arguments");
	for (unsigned i = 0; i < nregs; i++) {
		const struct reg *g = &regs[i];

		sbc_host->reply_record(r);
		sbc_host->reply_field(r, "peer", "%s", sbc_peer_name(g->peer));
		sbc_host->reply_field(r, "aor", "%s", g->aor);
		sbc_host->reply_field(r, "registrar", "%s", g->t.register_uri);
		sbc_host->reply_field(r, "via", "%s",
				      g->next_hop[0] ? g->next_hop : "-");
		sbc_host->reply_field(r, "contact", "%s", g->contact);
		sbc_host->reply_field(r, "state", "%s",
				      reg_state_names[g->state]);
		sbc_host->reply_field_num(
			r, "expires_in",
			g->expires_at_ms > now
				? (long long)((g->expires_at_ms - now) / 1000)
				: 0);
		if (g->last_status)
			sbc_host->reply_field(r, "last_status", "%d %s",
					      g->last_status, g->last_reason);
		else
			sbc_host->reply_field(r, "last_status", "-");
		sbc_host->reply_field_num(r, "failures", g->failures);
		sbc_host->reply_field_num(
			r, "next_in",
			g->next_ms > now && !g->pending
				? (long long)((g->next_ms - now) / 1000)
				: 0);
	}
	return 0;
}

/* ---- TLS identity of a peer ---------------------------------------------- */

bool sbc_trunk_tls_ok(struct sip_request *req, const struct sbc_peer *p,
		      const char *src)
{
	const struct sip_message *m = sbc_sip->request_message(req);
	struct sbc_peer_trunk t;
	int rc = -ENOENT;

	sbc_peer_trunk(p, &t);
	if (!t.tls_name[0])
		return true;
	if (sip_has_tls_peer_is())
		rc = sbc_sip->tls_peer_is(m, t.tls_name);
	if (rc == 1)
		return true;
	sbc_host->counter_add(count.tls_refused, 1);
	sbc_guard_offence(src, "no certificate");
	tnd_info("INVITE from peer %s (%s): %s, 403", sbc_peer_name(p), src,
		 rc == 0 ? "its certificate names another host"
			 : "not over TLS with a verified certificate");
	sbc_sip->reply(req, 403, "Certificate Required", NULL, NULL, NULL, 0);
	return false;
}

/* ---- Life cycle ---------------------------------------------------------- */

static void on_tick(struct tnd_timer *timer, void *arg)
{
	uint64_t now = sbc_host->now_ms();

	(void)timer, (void)arg;
	for (unsigned i = 0; i < nprobes; i++)
		if (!probes[i].pending && now >= probes[i].next_ms)
			probe_send(&probes[i]);
	for (unsigned i = 0; i < nregs; i++) {
		struct reg *r = &regs[i];

		if (r->pending || !r->next_ms || now < r->next_ms)
			continue;
		r->next_ms = 0; /* expires_asked: as configured, or a 423's */
		reg_send(r, NULL);
	}
}

/* The checks the parameter table cannot make, for one peer. */
static int peer_trunk_check(const struct sbc_peer *p, const char *section)
{
	struct sbc_peer_trunk t;

	sbc_peer_trunk(p, &t);
	if (t.options_interval_s && !sbc_peer_ndest(p))
		return sbc_host->config_error(
			section, "options_interval_s",
			"[%s] options_interval_s: the peer has no destination "
			"to keep alive",
			section);
	if (t.register_uri[0] && strncasecmp(t.register_uri, "sip:", 4) &&
	    strncasecmp(t.register_uri, "sips:", 5))
		return sbc_host->config_error(
			section, "register_uri",
			"[%s] register_uri: '%s' is not a sip: or sips: URI",
			section, t.register_uri);
	if (!t.register_uri[0] && (t.register_user[0] || t.register_aor[0]))
		return sbc_host->config_error(
			section, "register_user",
			"[%s] register_user, register_aor: need register_uri",
			section);
	if (t.register_uri[0] && !t.register_user[0] && !t.register_aor[0])
		return sbc_host->config_error(
			section, "register_uri",
			"[%s] register_uri: needs register_user or "
			"register_aor",
			section);
	if (t.register_user[0] && !t.register_password[0])
		return sbc_host->config_error(
			section, "register_user",
			"[%s] register_user: needs register_password", section);
	return 0;
}

struct peer_walk {
	unsigned index, errors;
};

/* For every [sbc-peer] section, in the order the peers were loaded:
 * counts the sections with mistakes (each logged as "file:line: ..."). */
static int check_peer(const char *section, void *arg)
{
	struct peer_walk *w = arg;
	const struct sbc_peer *p = sbc_peer_at(w->index++);

	if (p && peer_trunk_check(p, section) < 0)
		w->errors++;
	return 0;
}

int sbc_trunk_init(void)
{
	struct {
		struct tnd_counter **c;
		const char *name, *help;
	} counters[] = {
		{ &count.options_sent, "options_sent",
		  "keep-alive OPTIONS sent" },
		{ &count.options_missed, "options_missed",
		  "keep-alive OPTIONS unanswered" },
		{ &count.dest_down, "destinations_down",
		  "peer destinations marked down by the keep-alive" },
		{ &count.registered, "registrations",
		  "registrations granted (refreshes included)" },
		{ &count.register_failed, "registration_failures",
		  "registrations refused or unanswered" },
		{ &count.tls_refused, "tls_refused",
		  "calls refused for want of the peer's certificate" },
	};
	struct peer_walk walk = { 0, 0 };

	for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++) {
		*counters[k].c = sbc_host->counter_new(
			SBC_SELF, counters[k].name, counters[k].help);
		if (!*counters[k].c)
			return -ENOMEM;
	}
	sbc_host->for_each_section("sbc-peer", check_peer, &walk);
	return walk.errors ? -EINVAL : 0;
}

/* A peer with tls_name on a node without a TLS listener can never call:
 * say so once at start rather than only in each 403. */
static void tls_listener_check(void)
{
	char route[256];

	if (sbc_sip->local_route("tls", NULL, route, sizeof(route)) >= 0)
		return;
	for (unsigned i = 0; i < sbc_peer_count(); i++) {
		struct sbc_peer_trunk t;

		sbc_peer_trunk(sbc_peer_at(i), &t);
		if (t.tls_name[0])
			tnd_notice("peer %s has tls_name %s but [sip] has no "
				   "tls: listener: its calls will be refused",
				   sbc_peer_name(sbc_peer_at(i)), t.tls_name);
	}
}

int sbc_trunk_start(void)
{
	int rc;

	stopping = false;
	unreg_pending = 0;
	if (!sip_has_local_route()) {
		tnd_error("the sip service is older than 1.1: no keep-alive "
			  "or registration");
		return -ENOTSUP;
	}
	rc = probes_setup();
	if (rc == 0)
		rc = regs_setup();
	if (rc < 0) {
		tnd_error("trunks: %s",
			  rc == -ENOENT
				  ? "no listener for a registration's Contact"
				  : "too many keep-alives or registrations");
		return rc;
	}
	tls_listener_check();
	if (!nprobes && !nregs)
		return 0;
	tick = sbc_host->timer_new(SBC_SELF, on_tick, NULL);
	if (!tick || sbc_host->timer_start(tick, TICK_MS, TICK_MS) < 0)
		return -ENOMEM;
	tnd_info("trunks: %u destinations kept alive, %u registrations",
		 nprobes, nregs);
	return 0;
}

int sbc_trunk_stop(void)
{
	if (tick) {
		sbc_host->timer_free(tick);
		tick = NULL;
	}
	for (unsigned i = 0; i < nprobes; i++)
		if (probes[i].pending) {
			sbc_sip->forget(probes[i].pending);
			probes[i].pending = NULL;
		}
	stopping = true;
	for (unsigned i = 0; i < nregs; i++) {
		struct reg *r = &regs[i];

		if (r->pending) {
			sbc_sip->forget(r->pending);
			r->pending = NULL;
		}
		if (!r->expires_at_ms)
			continue;
		reg_state(r, REG_UNREGISTERING);
		r->expires_asked = 0;
		reg_send(r, NULL);
		if (r->pending)
			unreg_pending++;
	}
	if (!unreg_pending)
		return 0;
	stop_told = false;
	removal_timer = sbc_host->timer_new(SBC_SELF, on_removal_timeout, NULL);
	if (removal_timer)
		sbc_host->timer_start(removal_timer, REMOVAL_WAIT_MS, 0);
	return TND_STOP_PENDING;
}
