/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_dns: locating SIP servers (RFC 3263 4) with c-ares on the node's loop.
 *
 * For a URI host that is a name:
 * - with a port: A (then AAAA) of the host, the transport from the URI
 *   (UDP, or TLS for sips);
 * - with a transport but no port: SRV _sip._udp / _sip._tcp / _sips._tcp;
 * - with neither: NAPTR, keeping SIP+D2U, SIP+D2T and SIPS+D2T (only the
 *   last for sips) by order and preference; without NAPTR records the SRV
 *   names in that order; without SRV records the host itself on the
 *   default port.
 * SRV targets are taken by priority, then weight; each is looked up for
 * its addresses. The answer is the ordered list of next hops; users try
 * the first (failover to the next is for later).
 *
 * Answers are cached for dns_cache_ms (failures 5 s), so most requests
 * resolve at once. c-ares's sockets are fd watches of the loop and its
 * timeouts a node of sip_timer's heap.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sip_int.h"

#define MAX_TARGETS 8
#define NEG_CACHE_MS 5000
#define MAX_SOCKS 16

static ares_channel channel;
static bool ready;
static struct sip_tnode ares_timer;

static struct {
	int fd;
	struct tnd_io *io;
} socks[MAX_SOCKS];

/* ---- Cache --------------------------------------------------------------- */

struct cache_entry {
	struct cache_entry *next;
	char key[300];
	uint64_t expires_ms;
	int rc;
	unsigned n;
	struct sip_peer peers[MAX_TARGETS];
};

static struct cache_entry *cache;
static unsigned ncache;

/* The whole answer of the last look-up that returned at once. */
static struct sip_peer last_peers[MAX_TARGETS];
static unsigned last_n;

static void remember(const struct sip_peer *peers, unsigned n)
{
	last_n = n < MAX_TARGETS ? n : MAX_TARGETS;
	memcpy(last_peers, peers, last_n * sizeof(peers[0]));
}

void sip_dns_forget_last(void)
{
	last_n = 0;
}

unsigned sip_dns_alternatives(struct sip_peer *peers, unsigned max)
{
	unsigned n = last_n < max ? last_n : max;

	memcpy(peers, last_peers, n * sizeof(peers[0]));
	return n;
}

static void cache_key(char *key, size_t size, const char *host, int port,
		      int proto, bool sips)
{
	snprintf(key, size, "%s|%d|%d|%d", host, port, proto, sips);
}

static struct cache_entry *cache_find(const char *key)
{
	uint64_t now = sip_now_ms();
	struct cache_entry **pp = &cache;

	while (*pp) {
		struct cache_entry *e = *pp;

		if (e->expires_ms <= now) { /* drop the stale on the way */
			*pp = e->next;
			free(e);
			ncache--;
			continue;
		}
		if (strcmp(e->key, key) == 0)
			return e;
		pp = &e->next;
	}
	return NULL;
}

static void cache_put(const char *key, int rc, const struct sip_peer *peers,
		      unsigned n)
{
	struct cache_entry *e;

	if (ncache >= 4096 || !(e = calloc(1, sizeof(*e))))
		return;
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->rc = rc;
	e->n = n;
	memcpy(e->peers, peers, n * sizeof(*peers));
	e->expires_ms = sip_now_ms() + (rc == 0 ? sip_cfg->dns_cache_ms :
						  NEG_CACHE_MS);
	e->next = cache;
	cache = e;
	ncache++;
}

/* ---- Queries ------------------------------------------------------------- */

enum stage { STAGE_NAPTR, STAGE_SRV, STAGE_HOST };

struct srv_target {
	char host[256];
	int port;
	unsigned priority, weight;
};

struct sip_dns_query {
	char key[300];
	char host[256];
	int port;		/* from the URI, 0 if none */
	int proto;		/* from the URI, -1 if none */
	bool sips;
	enum stage stage;
	/* SRV names still to try, NAPTR order (proto each) */
	char srv_names[4][300];
	int srv_protos[4];
	unsigned nsrv_names, srv_name_at;
	enum sip_proto srv_proto;
	/* SRV targets to look up, in order */
	struct srv_target targets[MAX_TARGETS];
	unsigned ntargets, target_at;
	int family;
	struct sip_peer peers[MAX_TARGETS];
	unsigned npeers;
	sip_dns_cb cb;
	void *arg;
	bool cancelled;
	bool starting; /* c-ares may answer before the query is started */
	bool done;
	int rc;
};

static void finish(struct sip_dns_query *q, int rc)
{
	cache_put(q->key, rc, q->peers, q->npeers);
	if (q->starting) {
		q->done = true;
		q->rc = rc;
		return;
	}
	if (!q->cancelled)
		q->cb(q->arg, rc, q->peers, q->npeers);
	free(q);
}

static void lookup_host(struct sip_dns_query *q, const char *name);
static void next_srv_name(struct sip_dns_query *q);

static void add_peer(struct sip_dns_query *q, int family, const void *addr,
		     int port, enum sip_proto proto)
{
	struct sip_peer *p;

	if (q->npeers >= MAX_TARGETS)
		return;
	p = &q->peers[q->npeers++];
	memset(p, 0, sizeof(*p));
	p->proto = proto;
	if (family == AF_INET6) {
		p->addr.u.sin6.sin6_family = AF_INET6;
		memcpy(&p->addr.u.sin6.sin6_addr, addr, 16);
		p->addr.u.sin6.sin6_port = htons((uint16_t)port);
		p->addr.len = sizeof(p->addr.u.sin6);
	} else {
		p->addr.u.sin.sin_family = AF_INET;
		memcpy(&p->addr.u.sin.sin_addr, addr, 4);
		p->addr.u.sin.sin_port = htons((uint16_t)port);
		p->addr.len = sizeof(p->addr.u.sin);
	}
}

static int default_port(enum sip_proto proto)
{
	return proto == SIP_TLS ? 5061 : 5060;
}

static enum sip_proto host_proto(const struct sip_dns_query *q)
{
	if (q->proto >= 0)
		return (enum sip_proto)q->proto;
	return q->sips ? SIP_TLS : SIP_UDP;
}

/* The addresses of one SRV target (or of the host itself), then the next. */
static void after_target(struct sip_dns_query *q)
{
	if (q->stage == STAGE_SRV && ++q->target_at < q->ntargets) {
		lookup_host(q, q->targets[q->target_at].host);
		return;
	}
	finish(q, q->npeers ? 0 : -EHOSTUNREACH);
}

static void on_host(void *arg, int status, int timeouts, struct hostent *h)
{
	struct sip_dns_query *q = arg;
	enum sip_proto proto;
	int port;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION) {
		free(q);
		return;
	}
	if (q->stage == STAGE_SRV) {
		proto = q->srv_proto;
		port = q->targets[q->target_at].port;
	} else {
		proto = host_proto(q);
		port = q->port ? q->port : default_port(proto);
	}
	if (status == ARES_SUCCESS && h) {
		for (char **a = h->h_addr_list; *a; a++)
			add_peer(q, h->h_addrtype, *a, port, proto);
	} else if (q->family == AF_INET) {
		/* no IPv4 address: try IPv6 */
		q->family = AF_INET6;
		ares_gethostbyname(channel, q->stage == STAGE_SRV ?
				   q->targets[q->target_at].host : q->host,
				   AF_INET6, on_host, q);
		return;
	}
	after_target(q);
}

static void lookup_host(struct sip_dns_query *q, const char *name)
{
	q->family = AF_INET;
	ares_gethostbyname(channel, name, AF_INET, on_host, q);
}

/* RFC 2782: lower priority first; weights order the equals (here simply
 * the heavier first: the same servers in the same order every time). */
static int srv_cmp(const void *a, const void *b)
{
	const struct srv_target *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->weight > y->weight ? -1 : x->weight < y->weight;
}

static void on_srv(void *arg, int status, int timeouts, unsigned char *abuf,
		   int alen)
{
	struct sip_dns_query *q = arg;
	struct ares_srv_reply *srv = NULL;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION) {
		free(q);
		return;
	}
	q->ntargets = 0;
	if (status == ARES_SUCCESS &&
	    ares_parse_srv_reply(abuf, alen, &srv) == ARES_SUCCESS) {
		for (struct ares_srv_reply *r = srv;
		     r && q->ntargets < MAX_TARGETS; r = r->next) {
			struct srv_target *t = &q->targets[q->ntargets++];

			snprintf(t->host, sizeof(t->host), "%s", r->host);
			t->port = r->port;
			t->priority = r->priority;
			t->weight = r->weight;
		}
		ares_free_data(srv);
	}
	if (!q->ntargets) {
		next_srv_name(q);
		return;
	}
	qsort(q->targets, q->ntargets, sizeof(q->targets[0]), srv_cmp);
	q->target_at = 0;
	q->srv_proto = (enum sip_proto)q->srv_protos[q->srv_name_at - 1];
	lookup_host(q, q->targets[0].host);
}

/* Try the next SRV name; when none is left, the host itself (RFC 3263
 * 4.2: A/AAAA with the default port). */
static void next_srv_name(struct sip_dns_query *q)
{
	if (q->srv_name_at < q->nsrv_names) {
		q->stage = STAGE_SRV;
		ares_query(channel, q->srv_names[q->srv_name_at++], ns_c_in,
			   ns_t_srv, on_srv, q);
		return;
	}
	q->stage = STAGE_HOST;
	lookup_host(q, q->host);
}

static void add_srv_name(struct sip_dns_query *q, const char *name,
			 enum sip_proto proto)
{
	if (q->nsrv_names >= 4)
		return;
	snprintf(q->srv_names[q->nsrv_names], sizeof(q->srv_names[0]), "%s",
		 name);
	q->srv_protos[q->nsrv_names++] = (int)proto;
}

static void srv_name_for(struct sip_dns_query *q, enum sip_proto proto)
{
	char name[300];

	snprintf(name, sizeof(name), "%s.%s",
		 proto == SIP_TLS ? "_sips._tcp" :
		 proto == SIP_TCP ? "_sip._tcp" : "_sip._udp", q->host);
	add_srv_name(q, name, proto);
}

struct naptr_pick {
	unsigned order, preference;
	enum sip_proto proto;
	char replacement[300];
};

static int naptr_cmp(const void *a, const void *b)
{
	const struct naptr_pick *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return (x->preference > y->preference) - (x->preference < y->preference);
}

/* RFC 3263 4.1: the services we speak, by order and preference. */
static unsigned naptr_picks(struct sip_dns_query *q,
			    struct ares_naptr_reply *r, struct naptr_pick *p)
{
	unsigned n = 0;

	for (; r && n < 4; r = r->next) {
		const char *svc = (const char *)r->service;
		enum sip_proto proto;

		if (!r->flags || strcasecmp((const char *)r->flags, "s") != 0)
			continue;
		if (!q->sips && strcasecmp(svc, "SIP+D2U") == 0)
			proto = SIP_UDP;
		else if (!q->sips && strcasecmp(svc, "SIP+D2T") == 0)
			proto = SIP_TCP;
		else if (strcasecmp(svc, "SIPS+D2T") == 0)
			proto = SIP_TLS;
		else
			continue;
		p[n].order = r->order;
		p[n].preference = r->preference;
		p[n].proto = proto;
		snprintf(p[n].replacement, sizeof(p[n].replacement), "%s",
			 r->replacement);
		n++;
	}
	qsort(p, n, sizeof(*p), naptr_cmp);
	return n;
}

static void on_naptr(void *arg, int status, int timeouts,
		     unsigned char *abuf, int alen)
{
	struct sip_dns_query *q = arg;
	struct ares_naptr_reply *naptr = NULL;
	struct naptr_pick picks[4];
	unsigned n = 0;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION) {
		free(q);
		return;
	}
	if (status == ARES_SUCCESS &&
	    ares_parse_naptr_reply(abuf, alen, &naptr) == ARES_SUCCESS) {
		n = naptr_picks(q, naptr, picks);
		ares_free_data(naptr);
	}
	for (unsigned i = 0; i < n; i++)
		add_srv_name(q, picks[i].replacement, picks[i].proto);
	if (!n) {
		/* RFC 3263 4.1: no NAPTR, the SRV names of what we speak */
		if (!q->sips) {
			srv_name_for(q, SIP_UDP);
			srv_name_for(q, SIP_TCP);
		}
		srv_name_for(q, SIP_TLS);
	}
	next_srv_name(q);
}

/* ---- The loop ------------------------------------------------------------- */

static void rearm(void)
{
	struct timeval tv, *t = ares_timeout(channel, NULL, &tv);

	if (!t) {
		sip_timer_cancel(&ares_timer);
		return;
	}
	sip_timer_at(&ares_timer, sip_now_ms() + (uint64_t)t->tv_sec * 1000 +
					  (uint64_t)(t->tv_usec + 999) / 1000);
}

static void on_ares_timer(struct sip_tnode *node)
{
	(void)node;
	ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm();
}

static void on_sock(struct tnd_io *io, int fd, int events, void *arg)
{
	(void)io, (void)arg;
	ares_process_fd(channel, (events & TND_IO_READ) ? fd : ARES_SOCKET_BAD,
			(events & TND_IO_WRITE) ? fd : ARES_SOCKET_BAD);
	rearm();
}

static void sock_state(void *data, ares_socket_t fd, int readable,
		       int writable)
{
	int events = (readable ? TND_IO_READ : 0) |
		     (writable ? TND_IO_WRITE : 0);
	int free_slot = -1;

	(void)data;
	for (int i = 0; i < MAX_SOCKS; i++) {
		if (socks[i].io && socks[i].fd == fd) {
			if (events) {
				sip_host->io_start(socks[i].io, events);
			} else {
				sip_host->io_free(socks[i].io);
				socks[i].io = NULL;
			}
			return;
		}
		if (!socks[i].io && free_slot < 0)
			free_slot = i;
	}
	if (!events || free_slot < 0)
		return;
	socks[free_slot].fd = fd;
	socks[free_slot].io = sip_host->io_new(SIP_SELF, fd, on_sock, NULL);
	if (socks[free_slot].io)
		sip_host->io_start(socks[free_slot].io, events);
}

int sip_dns_init(void)
{
	struct ares_options opt = { .sock_state_cb = sock_state };
	int rc;

	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		return -ENOMEM;
	opt.timeout = 1000;
	opt.tries = 2;
	rc = ares_init_options(&channel, &opt, ARES_OPT_SOCK_STATE_CB |
						       ARES_OPT_TIMEOUTMS |
						       ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		tnd_error("DNS: %s", ares_strerror(rc));
		ares_library_cleanup();
		return -EINVAL;
	}
	if (*sip_cfg->dns_servers) {
		char csv[512];
		size_t n = 0;

		for (const char *p = sip_cfg->dns_servers; *p && n + 1 < sizeof(csv);
		     p++)
			csv[n++] = *p == ' ' ? ',' : *p;
		csv[n] = '\0';
		rc = ares_set_servers_ports_csv(channel, csv);
		if (rc != ARES_SUCCESS) {
			tnd_error("%s: dns_servers: %s",
				  sip_host->where("sip", "dns_servers"),
				  ares_strerror(rc));
			ares_destroy(channel);
			ares_library_cleanup();
			return -EINVAL;
		}
	}
	sip_tnode_init(&ares_timer, on_ares_timer);
	ready = true;
	return 0;
}

void sip_dns_fini(void)
{
	if (!ready)
		return;
	ares_destroy(channel); /* queries end with ARES_EDESTRUCTION */
	ares_library_cleanup();
	sip_timer_cancel(&ares_timer);
	for (int i = 0; i < MAX_SOCKS; i++) {
		if (socks[i].io)
			sip_host->io_free(socks[i].io);
		socks[i].io = NULL;
	}
	while (cache) {
		struct cache_entry *e = cache;

		cache = e->next;
		free(e);
	}
	ncache = 0;
	ready = false;
}

int sip_dns_resolve(const char *host, int port, int proto, bool sips,
		    struct sip_peer *out, sip_dns_cb cb, void *arg,
		    struct sip_dns_query **handle)
{
	struct sip_dns_query *q;
	struct cache_entry *e;
	char key[300];

	cache_key(key, sizeof(key), host, port, proto, sips);
	e = cache_find(key);
	sip_dns_forget_last();
	if (e) {
		if (e->rc == 0) {
			*out = e->peers[0];
			remember(e->peers, e->n);
		}
		return e->rc == 0 ? 0 : e->rc;
	}
	if (!ready || strlen(host) >= sizeof(q->host))
		return -EHOSTUNREACH;
	if (!cb)
		return -EWOULDBLOCK; /* the caller asks again, ready to wait */
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	snprintf(q->key, sizeof(q->key), "%s", key);
	snprintf(q->host, sizeof(q->host), "%s", host);
	q->port = port;
	q->proto = proto;
	q->sips = sips;
	q->cb = cb;
	q->arg = arg;
	q->starting = true;
	if (port) {
		q->stage = STAGE_HOST;
		lookup_host(q, host);
	} else if (proto >= 0) {
		srv_name_for(q, (enum sip_proto)proto);
		next_srv_name(q);
	} else {
		q->stage = STAGE_NAPTR;
		ares_query(channel, host, ns_c_in, ns_t_naptr, on_naptr, q);
	}
	q->starting = false;
	if (q->done) { /* answered from c-ares's own files at once */
		int rc = q->rc;

		if (rc == 0) {
			*out = q->peers[0];
			remember(q->peers, q->npeers);
		}
		free(q);
		return rc;
	}
	if (handle)
		*handle = q;
	rearm();
	return -EINPROGRESS;
}

void sip_dns_cancel(struct sip_dns_query *q)
{
	if (q)
		q->cancelled = true; /* freed when its answer comes */
}
