/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbc_peer: the access peers (trunks, PBXs) allowed to call, from
 * [sbc-peer NAME] sections: an ACL of addresses and prefixes, and
 * admission limits per peer (concurrent calls, calls per second). With no
 * peer configured the access side is open to any source (the guard still
 * applies); with peers, a source no ACL matches is refused.
 *
 * A peer may also be reached from the core: its destinations (tried in
 * order, those marked down skipped) and the numbers (prefixes) and
 * domains of Request-URIs that are routed to it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sbc_int.h"

#define SBC_PEERS_MAX 64
#define SBC_PEER_NETS 16
#define SBC_PEER_DESTS 8
#define SBC_PEER_PREFIXES 32
#define SBC_PEER_CODECS 8

struct peer_cfg {
	char *address;
	unsigned long long max_calls;
	unsigned long long cps;
	char *auth_user;
	char *auth_password;
	char *out_user;
	char *out_password;
	char *destination;
	char *prefixes;
	char *domains;
	char *rules;
	/* trunk keys, read by sbc_trunk.c through sbc_peer_trunk() */
	unsigned long long options_interval_s;
	unsigned long long options_down_after;
	char *register_uri;
	char *register_user;
	char *register_password;
	char *register_aor;
	char *register_contact;
	unsigned long long register_expires;
	unsigned long long register_retry_s;
	char *tls_name;
	char *codecs;
	char *blocked_destinations;
	unsigned long long intl_calls_per_min;
};

struct net {
	int family;
	unsigned char addr[16];
	unsigned prefix; /* bits */
};

struct sbc_peer {
	char name[48];
	struct peer_cfg cfg;
	struct net nets[SBC_PEER_NETS];
	unsigned nnets;
	char *dest[SBC_PEER_DESTS]; /* "udp:203.0.113.7:5060", in order */
	bool dest_down[SBC_PEER_DESTS];
	unsigned ndest;
	char *prefix[SBC_PEER_PREFIXES]; /* Request-URI user prefixes */
	unsigned nprefix;
	char *domain[SBC_PEER_PREFIXES]; /* Request-URI hosts */
	unsigned ndomain;
	char *codec[SBC_PEER_CODECS]; /* `codecs`, in order of preference */
	unsigned ncodec;
	char *blocked[SBC_PEER_PREFIXES]; /* blocked_destinations */
	unsigned nblocked;
	/* international calls in the minute from intl_since_ms */
	unsigned intl_now;
	uint64_t intl_since_ms;
	uint64_t intl_calls, dest_refused, intl_refused; /* since start */
	unsigned calls;		 /* now */
	uint64_t admitted, refused; /* since start */
	double tokens;		 /* calls-per-second bucket, depth cps */
	uint64_t last_ms;
};

static const struct tnd_param peer_params[] = {
	TND_PARAM("address", TND_STR, struct peer_cfg, address, "",
		  "addresses and prefixes the peer calls from: "
		  "\"203.0.113.7 198.51.100.0/24 2001:db8::/32\""),
	TND_PARAM("max_calls", TND_UINT, struct peer_cfg, max_calls, "0",
		  "concurrent calls of this peer; 0: no limit", .max = 1000000),
	TND_PARAM("cps", TND_UINT, struct peer_cfg, cps, "0",
		  "new calls per second of this peer; 0: no limit",
		  .max = 100000),
	TND_PARAM("auth_user", TND_STR, struct peer_cfg, auth_user, "",
		  "digest user name the peer must authenticate with (407); "
		  "empty: none"),
	TND_PARAM("auth_password", TND_STR, struct peer_cfg, auth_password,
		  "", "the digest password of auth_user"),
	TND_PARAM("out_user", TND_STR, struct peer_cfg, out_user, "",
		  "digest user name we answer the peer's 401 / 407 to our "
		  "INVITE with (calls from the core); empty: none"),
	TND_PARAM("out_password", TND_STR, struct peer_cfg, out_password,
		  "", "the digest password of out_user"),
	TND_PARAM("destination", TND_STR, struct peer_cfg, destination, "",
		  "where calls from the core to this peer go, in order of "
		  "preference: \"udp:203.0.113.7:5060 tcp:203.0.113.8:5060\""),
	TND_PARAM("prefixes", TND_STR, struct peer_cfg, prefixes, "",
		  "Request-URI user parts (numbers) routed to this peer from "
		  "the core, longest match wins: \"+44207946 +4420\""),
	TND_PARAM("domains", TND_STR, struct peer_cfg, domains, "",
		  "Request-URI hosts routed to this peer from the core: "
		  "\"pbx.example.com\""),
	TND_PARAM("codecs", TND_STR, struct peer_cfg, codecs, "",
		  "codecs the peer's leg may carry, in its order of "
		  "preference: \"PCMA G722\"; others are taken out of its "
		  "offers and ours (telephone-event stays); empty: any"),
	TND_PARAM("blocked_destinations", TND_STR, struct peer_cfg,
		  blocked_destinations, "",
		  "numbers this peer may not call, beyond [sbc]'s: "
		  "\"+1900 +44909\" (403)"),
	TND_PARAM("intl_calls_per_min", TND_UINT, struct peer_cfg,
		  intl_calls_per_min, "0",
		  "international calls (see [sbc] home_country_code) this peer "
		  "may make in a minute; beyond: 403 and a fraud alarm; 0: no "
		  "limit", .max = 1000000),
	TND_PARAM("rules", TND_STR, struct peer_cfg, rules, "",
		  "its [sbc-rules NAME] (numbers, trust, header actions); "
		  "empty: [sbc] access_rules"),
	TND_PARAM("options_interval_s", TND_UINT, struct peer_cfg,
		  options_interval_s, "0",
		  "OPTIONS keep-alive to each destination every this many "
		  "seconds; 0: none", .max = 86400),
	TND_PARAM("options_down_after", TND_UINT, struct peer_cfg,
		  options_down_after, "2",
		  "unanswered OPTIONS in a row that mark a destination down",
		  .min = 1, .max = 100),
	TND_PARAM("register_uri", TND_STR, struct peer_cfg, register_uri, "",
		  "registrar to REGISTER with through the peer's first live "
		  "destination: \"sip:provider.example.com\"; empty: none"),
	TND_PARAM("register_user", TND_STR, struct peer_cfg, register_user,
		  "", "digest user name of the registration"),
	TND_PARAM("register_password", TND_STR, struct peer_cfg,
		  register_password, "", "digest password of register_user"),
	TND_PARAM("register_aor", TND_STR, struct peer_cfg, register_aor, "",
		  "address of record registered (To, From); empty: "
		  "sip:register_user@the registrar's host"),
	TND_PARAM("register_contact", TND_STR, struct peer_cfg,
		  register_contact, "",
		  "Contact registered: \"sip:trunk@203.0.113.1:5060\"; "
		  "empty: our listener of the destination's transport"),
	TND_PARAM("register_expires", TND_UINT, struct peer_cfg,
		  register_expires, "3600",
		  "registration lifetime asked for, seconds", .min = 1,
		  .max = 604800),
	TND_PARAM("register_retry_s", TND_UINT, struct peer_cfg,
		  register_retry_s, "30",
		  "wait after a failed registration, seconds; doubled at "
		  "each failure up to 300 (or this value when larger)",
		  .min = 1, .max = 3600),
	TND_PARAM("tls_name", TND_STR, struct peer_cfg, tls_name, "",
		  "calls from this peer must come over TLS with a verified "
		  "certificate naming this host; empty: no check"),
	TND_PARAM_END
};

static struct sbc_peer peers[SBC_PEERS_MAX];
static char *node_blocked[SBC_PEER_PREFIXES]; /* [sbc] blocked_destinations */
static unsigned nnode_blocked;
static unsigned npeers;

static int net_parse(const char *text, struct net *n)
{
	char buf[64], *slash;
	unsigned max;

	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, n->addr) == 1) {
		n->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, n->addr) == 1) {
		n->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	n->prefix = slash ? (unsigned)strtoul(slash, NULL, 10) : max;
	return n->prefix <= max ? 0 : -EINVAL;
}

static bool net_match(const struct net *n, int family,
		      const unsigned char *addr)
{
	unsigned full = n->prefix / 8, rest = n->prefix % 8;

	if (family != n->family || memcmp(n->addr, addr, full) != 0)
		return false;
	if (!rest)
		return true;
	return ((n->addr[full] ^ addr[full]) & (0xff00 >> rest) & 0xff) == 0;
}

static int peer_nets(struct sbc_peer *p, const char *section)
{
	char list[512], *save = NULL;

	snprintf(list, sizeof(list), "%s", p->cfg.address);
	for (char *tok = strtok_r(list, " ,", &save); tok;
	     tok = strtok_r(NULL, " ,", &save)) {
		if (p->nnets == SBC_PEER_NETS ||
		    net_parse(tok, &p->nets[p->nnets]) < 0)
			return sbc_host->config_error(section, "address",
				"[%s] address: '%s' is not an IPv4/IPv6 "
				"address or prefix (at most %d)", section, tok,
				SBC_PEER_NETS);
		p->nnets++;
	}
	if (!p->nnets)
		return sbc_host->config_error(section, "address",
					      "[%s] needs an address", section);
	return 0;
}

/* "udp:HOST:PORT" with a transport we have and a port. */
static bool dest_valid(const char *d)
{
	const char *colon = strrchr(d, ':');
	char *end;
	unsigned long port;

	if (strncmp(d, "udp:", 4) && strncmp(d, "tcp:", 4) &&
	    strncmp(d, "tls:", 4))
		return false;
	if (!colon || colon <= d + 4)
		return false;
	port = strtoul(colon + 1, &end, 10);
	return !*end && port > 0 && port < 65536;
}

/* Split `text` on blanks and commas into at most `max` strdup'ed words. */
static int words(const char *text, char **out, unsigned max, unsigned *n)
{
	char list[1024], *save = NULL;

	snprintf(list, sizeof(list), "%s", text ? text : "");
	for (char *tok = strtok_r(list, " ,", &save); tok;
	     tok = strtok_r(NULL, " ,", &save)) {
		if (*n == max)
			return -E2BIG;
		out[*n] = strdup(tok);
		if (!out[*n])
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

static int peer_routes(struct sbc_peer *p, const char *section)
{
	if (words(p->cfg.destination, p->dest, SBC_PEER_DESTS, &p->ndest) < 0)
		return sbc_host->config_error(section, "destination",
			"[%s] destination: at most %d", section, SBC_PEER_DESTS);
	for (unsigned i = 0; i < p->ndest; i++)
		if (!dest_valid(p->dest[i]))
			return sbc_host->config_error(section, "destination",
				"[%s] destination: '%s' is not udp|tcp|tls:"
				"HOST:PORT", section, p->dest[i]);
	if (words(p->cfg.prefixes, p->prefix, SBC_PEER_PREFIXES,
		  &p->nprefix) < 0 ||
	    words(p->cfg.domains, p->domain, SBC_PEER_PREFIXES,
		  &p->ndomain) < 0)
		return sbc_host->config_error(section, "prefixes",
			"[%s] prefixes, domains: at most %d each", section,
			SBC_PEER_PREFIXES);
	if ((p->nprefix || p->ndomain) && !p->ndest)
		return sbc_host->config_error(section, "destination",
			"[%s] routes prefixes or domains but has no "
			"destination", section);
	return 0;
}

/* `codecs`: names the media service knows (checked when it is loaded,
 * as it is before us: the sbc requires it). */
static int peer_codecs(struct sbc_peer *p, const char *section)
{
	const struct media_service *media =
		sbc_host->service_get(MEDIA_SERVICE, MEDIA_SERVICE_VERSION);

	if (words(p->cfg.codecs, p->codec, SBC_PEER_CODECS, &p->ncodec) < 0)
		return sbc_host->config_error(section, "codecs",
			"[%s] codecs: at most %d", section, SBC_PEER_CODECS);
	for (unsigned i = 0; i < p->ncodec; i++)
		if (!strcasecmp(p->codec[i], "telephone-event") ||
		    !strcasecmp(p->codec[i], "t38") ||
		    (media && !media->codec_find(p->codec[i], 0)))
			return sbc_host->config_error(section, "codecs",
				"[%s] codecs: '%s' is not an audio codec of "
				"the media service", section, p->codec[i]);
	return 0;
}

static void peer_free(struct sbc_peer *p)
{
	for (unsigned i = 0; i < p->ndest; i++)
		free(p->dest[i]);
	for (unsigned i = 0; i < p->nprefix; i++)
		free(p->prefix[i]);
	for (unsigned i = 0; i < p->ndomain; i++)
		free(p->domain[i]);
	for (unsigned i = 0; i < p->ncodec; i++)
		free(p->codec[i]);
	for (unsigned i = 0; i < p->nblocked; i++)
		free(p->blocked[i]);
	p->ndest = p->nprefix = p->ndomain = p->ncodec = p->nblocked = 0;
}

/* blocked_destinations of [sbc] or a peer: number prefixes ('+' and
 * digits, as numbers reach the core), at most SBC_PEER_PREFIXES. */
static int blocked_list(const char *text, char **out, unsigned *n,
			const char *section)
{
	if (words(text, out, SBC_PEER_PREFIXES, n) < 0)
		return sbc_host->config_error(section, "blocked_destinations",
			"[%s] blocked_destinations: at most %d", section,
			SBC_PEER_PREFIXES);
	for (unsigned i = 0; i < *n; i++) {
		const char *d = out[i] + (out[i][0] == '+');

		if (!*d || strspn(d, "0123456789") != strlen(d))
			return sbc_host->config_error(section,
				"blocked_destinations", "[%s] "
				"blocked_destinations: '%s' is not a number "
				"prefix (+882, 00882...)", section, out[i]);
	}
	return 0;
}

static int parse_peer(const char *section, void *arg)
{
	int *errors = arg;
	const char *name = section + strlen("sbc-peer");
	struct sbc_peer *p;

	name += strspn(name, " ");
	if (!*name || npeers == SBC_PEERS_MAX) {
		sbc_host->config_error(section, NULL, "[%s]: a peer is "
				       "[sbc-peer NAME], at most %d", section,
				       SBC_PEERS_MAX);
		(*errors)++;
		return 0;
	}
	p = &peers[npeers];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (sbc_host->parse_section(section, peer_params, &p->cfg) < 0 ||
	    peer_nets(p, section) < 0 || peer_routes(p, section) < 0 ||
	    peer_codecs(p, section) < 0 ||
	    blocked_list(p->cfg.blocked_destinations, p->blocked, &p->nblocked,
			 section) < 0) {
		peer_free(p);
		(*errors)++;
		return 0;
	}
	if (p->cfg.rules[0] && !sbc_norm_set_exists(p->cfg.rules)) {
		sbc_host->config_error(section, "rules", "[%s] rules = '%s': "
				       "no [sbc-rules %s]", section,
				       p->cfg.rules, p->cfg.rules);
		peer_free(p);
		(*errors)++;
		return 0;
	}
	p->tokens = (double)p->cfg.cps;
	npeers++;
	return 0;
}

int sbc_peers_load(void)
{
	int errors = 0;

	sbc_peers_unload();
	if (blocked_list(sbc_cfg->blocked_destinations, node_blocked,
			 &nnode_blocked, "sbc") < 0)
		errors++;
	if (sbc_cfg->home_country_code &&
	    strspn(sbc_cfg->home_country_code, "0123456789") !=
		    strlen(sbc_cfg->home_country_code)) {
		sbc_host->config_error("sbc", "home_country_code",
				       "[sbc] home_country_code: '%s' is not "
				       "digits (44, 1, 353...)",
				       sbc_cfg->home_country_code);
		errors++;
	}
	sbc_host->for_each_section("sbc-peer", parse_peer, &errors);
	return errors ? -EINVAL : 0;
}

void sbc_peers_unload(void)
{
	for (unsigned i = 0; i < npeers; i++)
		peer_free(&peers[i]);
	npeers = 0;
	for (unsigned i = 0; i < nnode_blocked; i++)
		free(node_blocked[i]);
	nnode_blocked = 0;
}

unsigned sbc_peer_count(void)
{
	return npeers;
}

struct sbc_peer *sbc_peer_at(unsigned i)
{
	return i < npeers ? &peers[i] : NULL;
}

struct sbc_peer *sbc_peer_route(const char *user, const char *host)
{
	struct sbc_peer *best = NULL;
	size_t best_len = 0;

	for (unsigned i = 0; i < npeers; i++)
		for (unsigned k = 0; user && k < peers[i].nprefix; k++) {
			size_t n = strlen(peers[i].prefix[k]);

			if (n > best_len &&
			    strncmp(user, peers[i].prefix[k], n) == 0) {
				best = &peers[i];
				best_len = n;
			}
		}
	if (best || !host)
		return best;
	for (unsigned i = 0; i < npeers; i++)
		for (unsigned k = 0; k < peers[i].ndomain; k++)
			if (strcasecmp(host, peers[i].domain[k]) == 0)
				return &peers[i];
	return NULL;
}

unsigned sbc_peer_ndest(const struct sbc_peer *p)
{
	return p ? p->ndest : 0;
}

const char *sbc_peer_dest(const struct sbc_peer *p, unsigned i)
{
	return p && i < p->ndest ? p->dest[i] : NULL;
}

void sbc_peer_dest_set(struct sbc_peer *p, unsigned i, bool up)
{
	if (p && i < p->ndest)
		p->dest_down[i] = !up;
}

bool sbc_peer_dest_up(const struct sbc_peer *p, unsigned i)
{
	return p && i < p->ndest && !p->dest_down[i];
}

const char *sbc_peer_next_hop(const struct sbc_peer *p, unsigned skip)
{
	for (unsigned i = 0; p && i < p->ndest; i++)
		if (!p->dest_down[i] && skip-- == 0)
			return p->dest[i];
	return NULL;
}

struct sbc_peer *sbc_peer_of(const char *addr)
{
	unsigned char bin[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(family, addr, bin) != 1)
		return NULL;
	for (unsigned i = 0; i < npeers; i++)
		for (unsigned k = 0; k < peers[i].nnets; k++)
			if (net_match(&peers[i].nets[k], family, bin))
				return &peers[i];
	return NULL;
}

bool sbc_peers_configured(void)
{
	return npeers > 0;
}

int sbc_peer_admit(struct sbc_peer *p)
{
	uint64_t now = sbc_host->now_ms();

	if (p->cfg.max_calls && p->calls >= p->cfg.max_calls) {
		p->refused++;
		return -EBUSY;
	}
	if (p->cfg.cps) {
		p->tokens += (double)(now - p->last_ms) * (double)p->cfg.cps /
			     1000.0;
		if (p->tokens > (double)p->cfg.cps)
			p->tokens = (double)p->cfg.cps;
		p->last_ms = now;
		if (p->tokens < 1.0) {
			p->refused++;
			return -EAGAIN;
		}
		p->tokens -= 1.0;
	}
	p->calls++;
	p->admitted++;
	return 0;
}

void sbc_peer_release(struct sbc_peer *p)
{
	if (p && p->calls)
		p->calls--;
}

bool sbc_peer_auth(const struct sbc_peer *p, const char **user,
		   const char **password)
{
	if (!p || !p->cfg.auth_user || !p->cfg.auth_user[0])
		return false;
	*user = p->cfg.auth_user;
	*password = p->cfg.auth_password ? p->cfg.auth_password : "";
	return true;
}

const char *sbc_peer_codec(const struct sbc_peer *p, unsigned rank)
{
	return p && rank < p->ncodec ? p->codec[rank] : NULL;
}

int sbc_peer_codec_rank(const struct sbc_peer *p, const char *name)
{
	if (!p || !p->ncodec)
		return 0;
	for (unsigned i = 0; i < p->ncodec; i++)
		if (!strcasecmp(p->codec[i], name))
			return (int)i;
	return -1;
}

static bool starts_any(char *const *prefixes, unsigned n, const char *number)
{
	for (unsigned i = 0; i < n; i++)
		if (!strncmp(number, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static bool international(const char *number)
{
	const char *cc = sbc_cfg->home_country_code;

	return cc && cc[0] && number[0] == '+' &&
	       strncmp(number + 1, cc, strlen(cc));
}

int sbc_peer_dest_check(struct sbc_peer *p, const char *number)
{
	uint64_t now = sbc_host->now_ms();

	if (starts_any(node_blocked, nnode_blocked, number) ||
	    (p && starts_any(p->blocked, p->nblocked, number))) {
		sbc_host->counter_add(sbc_count.dest_blocked, 1);
		if (p)
			p->dest_refused++;
		return -EACCES;
	}
	if (!international(number))
		return 0;
	if (p && now - p->intl_since_ms >= 60000) {
		p->intl_since_ms = now;
		p->intl_now = 0;
	}
	if (p && p->cfg.intl_calls_per_min &&
	    p->intl_now >= p->cfg.intl_calls_per_min) {
		sbc_host->counter_add(sbc_count.fraud_alarms, 1);
		if (p->intl_refused++ % 100 == 0) /* a flood logs 1 in 100 */
			tnd_notice("fraud alarm: peer %s over %llu "
				    "international calls a minute (%s)",
				    p->name, p->cfg.intl_calls_per_min,
				    number);
		return -EDQUOT;
	}
	if (p) {
		p->intl_now++;
		p->intl_calls++;
	}
	sbc_host->counter_add(sbc_count.calls_intl, 1);
	return 0;
}

const char *sbc_peer_rules(const struct sbc_peer *p)
{
	return p && p->cfg.rules ? p->cfg.rules : "";
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

void sbc_peer_trunk(const struct sbc_peer *p, struct sbc_peer_trunk *out)
{
	const struct peer_cfg *c = &p->cfg;

	out->options_interval_s = (unsigned)c->options_interval_s;
	out->options_down_after = (unsigned)c->options_down_after;
	out->register_uri = or_empty(c->register_uri);
	out->register_user = or_empty(c->register_user);
	out->register_password = or_empty(c->register_password);
	out->register_aor = or_empty(c->register_aor);
	out->register_contact = or_empty(c->register_contact);
	out->register_expires = (unsigned)c->register_expires;
	out->register_retry_s = (unsigned)c->register_retry_s;
	out->tls_name = or_empty(c->tls_name);
}

const char *sbc_peer_name(const struct sbc_peer *p)
{
	return p ? p->name : "-";
}

int sbc_cmd_show_peers(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return sbc_host->reply_error(r, "sbc show peers takes no "
						"arguments");
	for (unsigned i = 0; i < npeers; i++) {
		const struct sbc_peer *p = &peers[i];

		sbc_host->reply_record(r);
		sbc_host->reply_field(r, "name", "%s", p->name);
		sbc_host->reply_field(r, "address", "%s", p->cfg.address);
		sbc_host->reply_field_num(r, "calls", p->calls);
		sbc_host->reply_field_num(r, "max_calls", p->cfg.max_calls);
		sbc_host->reply_field_num(r, "cps", p->cfg.cps);
		sbc_host->reply_field(r, "codecs", "%s",
				      p->ncodec ? p->cfg.codecs : "any");
		sbc_host->reply_field_num(r, "intl_calls", p->intl_calls);
		sbc_host->reply_field_num(r, "intl_refused", p->intl_refused);
		sbc_host->reply_field_num(r, "dest_refused", p->dest_refused);
		sbc_host->reply_field_num(r, "admitted", p->admitted);
		sbc_host->reply_field_num(r, "refused", p->refused);
		for (unsigned k = 0; k < p->ndest; k++) {
			char key[24];

			snprintf(key, sizeof(key), "destination%u", k + 1);
			sbc_host->reply_field(r, key, "%s %s", p->dest[k],
					      p->dest_down[k] ? "down" : "up");
			sbc_trunk_show_dest(r, p, k);
		}
	}
	return 0;
}

bool sbc_peer_out_auth(const struct sbc_peer *p, const char **user,
		       const char **password)
{
	if (!p || !p->cfg.out_user || !p->cfg.out_user[0])
		return false;
	*user = p->cfg.out_user;
	*password = p->cfg.out_password ? p->cfg.out_password : "";
	return true;
}

/* ---- Address lists of [sbc] keys (core_sources) ------------------------- */

struct sbc_nets {
	struct net net[SBC_PEER_NETS];
	unsigned n;
};

struct sbc_nets *sbc_nets_parse(const char *text, char *bad, size_t size)
{
	struct sbc_nets *nets = calloc(1, sizeof(*nets));
	char list[512], *save = NULL;

	if (!nets)
		return NULL;
	snprintf(list, sizeof(list), "%s", text ? text : "");
	for (char *tok = strtok_r(list, " ,", &save); tok;
	     tok = strtok_r(NULL, " ,", &save)) {
		if (nets->n == SBC_PEER_NETS ||
		    net_parse(tok, &nets->net[nets->n]) < 0) {
			snprintf(bad, size, "%s", tok);
			free(nets);
			return NULL;
		}
		nets->n++;
	}
	return nets;
}

bool sbc_nets_match(const struct sbc_nets *nets, const char *addr)
{
	unsigned char bin[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;

	if (!nets || inet_pton(family, addr, bin) != 1)
		return false;
	for (unsigned k = 0; k < nets->n; k++)
		if (net_match(&nets->net[k], family, bin))
			return true;
	return false;
}

unsigned sbc_nets_count(const struct sbc_nets *nets)
{
	return nets ? nets->n : 0;
}

void sbc_nets_free(struct sbc_nets *nets)
{
	free(nets);
}
