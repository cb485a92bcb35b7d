/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Far-end devices behind NAT (the access side).
 *
 * - Contact fix-up: requests the SBC sends in an access dialog go to the
 *   address and port the device's requests came from (RFC 3581
 *   symmetric routing, RFC 5626 5.3 in spirit), not to a private
 *   Contact (sip 1.2 dialog_set_next_hop()).
 * - REGISTER relay: the SBC is the devices' outbound proxy. A binding
 *   table keeps each device's AoR, Contact and real source; the core's
 *   registrar sees one Contact of the SBC per binding (user part a
 *   token), so terminating requests come to the SBC. The device is given
 *   a short expiry (nat_expires) so its refreshes keep its NAT mapping
 *   open; the core sees the expiry the device asked for and is refreshed
 *   only when its binding gets near its end. Challenges (401/407) pass
 *   back to the device, its credentials pass on unchanged; Path and
 *   Service-Route never reach the device.
 * - Keep-alives: an OPTIONS to each registered device every nat_ping_s;
 *   nat_ping_fails unanswered in a row drop it (unregistered at the core).
 * - Requests from the core to a binding's token: non-INVITE ones are
 *   relayed here (a B2BUA transaction); INVITEs are the calls' business,
 *   which sbc_reg_target() serves.
 */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sbc_int.h"

#define TOKEN_PREFIX "nat-"
#define DEFAULT_EXPIRES 3600 /* RFC 3261 10.2.1.1 */
#define CHALLENGE_HOLD_S 32  /* a challenged binding waits for the retry */

struct binding {
	struct binding *next, *prev;	/* every binding */
	struct binding *next_by_id, *next_by_token, *next_by_contact;
	unsigned id;
	char token[24];		  /* user part of our Contact at the core */
	char aor[256];		  /* the To URI the device registered */
	char from[256];		  /* its From URI, for our REGISTERs */
	char ruri[256];		  /* its REGISTER's Request-URI */
	char contact[256];	  /* its Contact URI (maybe private) */
	char source[96];	  /* "udp:203.0.113.9:40123": where it is */
	char call_id[64];	  /* our registration's Call-ID (RFC 3261
				   * 10.2.4: the same for every refresh) */
	uint32_t cseq;
	unsigned asked_s;	  /* the expiry the device asked for */
	unsigned core_s;	  /* the expiry the core granted */
	uint64_t device_until_ms; /* the device must refresh before */
	uint64_t core_until_ms;	  /* the core's binding ends */
	uint64_t next_ping_ms;
	unsigned ping_fails, pings_sent, pings_answered;
	bool registered;	  /* the core accepted it */
	bool ping_pending;
};

/*
 * A request of ours in flight (REGISTER to the core, keep-alive, relay
 * to a device, unREGISTER) and the request that waits for its answer
 * (NULL when none). Callbacks find it by id, so that sbc_reg_stop() can
 * forget every client and answer every waiting request.
 */
struct pending {
	struct pending *next;
	unsigned id;
	struct sip_client *client;
	struct sip_request *req; /* kept; answered and released with it */
	unsigned binding_id;
};

static struct binding *bindings;
static unsigned nbindings, next_binding_id;
static struct tnd_timer *sweep_timer;
static struct tnd_counter *dropped_counter;
/* Hash indexes (chained): refreshes, keep-alive answers and requests
 * from the core each find their binding without a walk of the table. */
#define INDEX_BUCKETS 4096
static struct binding *index_id[INDEX_BUCKETS], *index_token[INDEX_BUCKETS],
	*index_contact[INDEX_BUCKETS];
static struct pending *pendings[INDEX_BUCKETS];
static unsigned next_pending_id;

/* FNV-1a of `a` (len bytes), a separator and `b` */
static unsigned hash_text(const char *a, size_t len, const char *b)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)a[i]) * 16777619u;
	h = (h ^ '\n') * 16777619u;
	for (; *b; b++)
		h = (h ^ (unsigned char)*b) * 16777619u;
	return h % INDEX_BUCKETS;
}

/* ---- Requests in flight ---------------------------------------------------- */

static struct pending *pending_new(struct sip_request *req,
				   unsigned binding_id)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->id = ++next_pending_id;
	p->req = req;
	p->binding_id = binding_id;
	p->next = pendings[p->id % INDEX_BUCKETS];
	pendings[p->id % INDEX_BUCKETS] = p;
	return p;
}

static struct pending *pending_find(unsigned id, bool unlink)
{
	for (struct pending **pp = &pendings[id % INDEX_BUCKETS]; *pp;
	     pp = &(*pp)->next) {
		struct pending *p = *pp;

		if (p->id != id)
			continue;
		if (unlink)
			*pp = p->next;
		return p;
	}
	return NULL;
}

/* The final answer of pending `arg` came: it leaves the list (the caller
 * frees it); NULL when it is gone (stopped) or this is a provisional. */
static struct pending *pending_done(int status, void *arg)
{
	return status < 200 ? NULL :
			      pending_find((unsigned)(uintptr_t)arg, true);
}

/* send_request() on behalf of `p` (which leaves the list on failure;
 * its request, if any, is still the caller's to answer). */
static int pending_send(const struct sip_request_spec *spec,
			sip_response_cb cb, struct pending *p)
{
	struct sip_client *c = NULL;
	unsigned id = p->id;
	int rc = sbc_sip->send_request(spec, cb, (void *)(uintptr_t)id, &c);

	/* a callback may have run already and freed it: look it up again */
	p = pending_find(id, rc < 0);
	if (p && rc < 0)
		free(p);
	else if (p)
		p->client = c;
	return rc;
}

/* At stop: no more callbacks, and every waiting request answered. */
static void pending_forget(struct pending *p)
{
	if (p->client)
		sbc_sip->forget(p->client);
	if (p->req) {
		sbc_sip->reply(p->req, 503, "Stopping", NULL, NULL, NULL, 0);
		sbc_sip->release(p->req);
	}
	free(p);
}

static void pendings_forget(void)
{
	for (unsigned i = 0; i < INDEX_BUCKETS; i++)
		while (pendings[i]) {
			struct pending *p = pendings[i];

			pendings[i] = p->next;
			pending_forget(p);
		}
}

/* ---- Small helpers ------------------------------------------------------ */

static struct binding *by_id(unsigned id)
{
	for (struct binding *b = index_id[id % INDEX_BUCKETS]; b;
	     b = b->next_by_id)
		if (b->id == id)
			return b;
	return NULL;
}

static struct binding *by_token(const char *token, size_t len)
{
	for (struct binding *b = index_token[hash_text(token, len, "")]; b;
	     b = b->next_by_token)
		if (strlen(b->token) == len && !strncmp(b->token, token, len))
			return b;
	return NULL;
}

static struct binding *by_contact(const char *aor, const char *contact)
{
	for (struct binding *b =
		     index_contact[hash_text(aor, strlen(aor), contact)];
	     b; b = b->next_by_contact)
		if (!strcmp(b->aor, aor) && !strcmp(b->contact, contact))
			return b;
	return NULL;
}

/* The URI of a name-addr or addr-spec header value ("<sip:a@b>;tag=x",
 * "sip:a@b;tag=x"); `*params` points after it (at the header params). */
static void header_uri(struct sip_text v, char *out, size_t size,
		       const char **params)
{
	const char *p = v.ptr, *end = v.ptr + v.len;
	const char *lt = memchr(p, '<', v.len), *stop;

	if (lt) {
		p = lt + 1;
		stop = memchr(p, '>', (size_t)(end - p));
		stop = stop ? stop : end;
	} else {
		while (p < end && isspace((unsigned char)*p))
			p++;
		stop = p;
		while (stop < end && *stop != ';' && *stop != ' ')
			stop++;
	}
	snprintf(out, size, "%.*s", (int)(stop - p), p);
	if (params)
		*params = stop < end && *stop == '>' ? stop + 1 : stop;
}

/* ";expires=N" among a header value's parameters; -1 when absent, -2
 * when it is not a number of seconds (RFC 3261 25.1: 1*DIGIT). */
static long param_expires(const char *params, const char *end)
{
	for (const char *p = params; p && p + 9 <= end; p++) {
		const char *digits = p + 9, *q = digits;

		if (strncasecmp(p, ";expires=", 9) != 0)
			continue;
		while (q < end && isdigit((unsigned char)*q))
			q++;
		if (q == digits || q - digits > 9 ||
		    (q < end && *q != ';' && *q != ' ' && *q != '\t'))
			return -2;
		return strtol(digits, NULL, 10);
	}
	return -1;
}

/* A header of seconds (Expires): -1 absent, -2 not 1*DIGIT. */
static long header_seconds(const struct sip_message *m, const char *name)
{
	struct sip_text v;
	char buf[16];

	if (sbc_sip->header(m, name, 0, &v) < 0)
		return -1;
	if (v.len == 0 || v.len > 9)
		return -2;
	memcpy(buf, v.ptr, v.len);
	buf[v.len] = '\0';
	if (strspn(buf, "0123456789") != v.len)
		return -2;
	return strtol(buf, NULL, 10);
}

/* "UDP 203.0.113.9:40123" -> "udp:203.0.113.9:40123" (a next hop) */
static void source_hop(const struct sip_message *m, char *out, size_t size)
{
	char buf[96];
	char *sp;

	out[0] = '\0';
	if (sbc_sip->source(m, buf, sizeof(buf)) < 0)
		return;
	sp = strchr(buf, ' ');
	if (!sp)
		return;
	*sp = '\0';
	for (char *c = buf; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if ((size_t)snprintf(out, size, "%s:%s", buf, sp + 1) >= size)
		out[0] = '\0'; /* cannot happen: 96 bytes hold any address */
}

/* The user part of a SIP URI ("sip:USER@host"), empty when none. */
static struct sip_text uri_user(const char *uri, size_t len)
{
	struct sip_text t = { 0 };
	const char *colon = memchr(uri, ':', len), *at;

	if (!colon)
		return t;
	at = memchr(colon, '@', len - (size_t)(colon - uri));
	if (at) {
		t.ptr = colon + 1;
		t.len = (size_t)(at - t.ptr);
	}
	return t;
}

/* "sip:alice@example.com;x" -> "example.com" */
static void uri_host(const char *uri, char *out, size_t size)
{
	const char *p = strchr(uri, '@');

	p = p ? p + 1 : strchr(uri, ':') ? strchr(uri, ':') + 1 : uri;
	snprintf(out, size, "%.*s", (int)strcspn(p, ";>?"), p);
}

static bool sip_has_next_hop_fixup(void)
{
	return sbc_sip->size >=
	       offsetof(struct sip_service, dialog_set_next_hop) +
		       sizeof(sbc_sip->dialog_set_next_hop);
}

/* ---- Contact fix-up of access dialogs ----------------------------------- */

/* Where the port of "HOST:PORT" / "[V6]:PORT" starts (at its ':'), or
 * the end when there is none. */
static char *port_of(char *hostport)
{
	char *p = hostport + (hostport[0] == '[' ? strcspn(hostport, "]") : 0);

	p = strchr(p, ':');
	return p ? p : hostport + strlen(hostport);
}

/*
 * Whether the Contact names where the request came from: over UDP the
 * address and port ("udp:A:P" against "sip:u@A:P", no port meaning
 * 5060); over TCP/TLS the address only, the source port being the
 * connection's ephemeral one.
 */
static bool contact_is_source(const char *contact, const char *hop)
{
	char host[128], want[128];
	const char *colon = strchr(hop, ':');
	bool udp = !strncmp(hop, "udp:", 4);

	uri_host(contact, host, sizeof(host));
	snprintf(want, sizeof(want), "%s", colon ? colon + 1 : hop);
	if (!udp) {
		*port_of(host) = '\0';
		*port_of(want) = '\0';
	} else if (!*port_of(host)) {
		strncat(host, ":5060", sizeof(host) - strlen(host) - 1);
	}
	return !strcasecmp(host, want);
}

int sbc_nat_fixup(struct sip_dialog *d, const struct sip_message *m)
{
	char hop[96], contact[256];
	struct sip_text v;
	bool always = !strcmp(sbc_cfg->nat_fixup, "always");

	if (!d || !strcmp(sbc_cfg->nat_fixup, "off") ||
	    !sip_has_next_hop_fixup())
		return 0;
	source_hop(m, hop, sizeof(hop));
	if (!hop[0] || sbc_sip->header(m, "Contact", 0, &v) < 0)
		return 0;
	header_uri(v, contact, sizeof(contact), NULL);
	if (!always && contact_is_source(contact, hop))
		return 0;
	tnd_debug("access dialog: Contact %s, requests go to %s", contact,
		  hop);
	return sbc_sip->dialog_set_next_hop(d, hop);
}

int sbc_nat_fixup_to(struct sip_dialog *d, const char *hop)
{
	if (!d || !sip_has_next_hop_fixup())
		return 0;
	return sbc_sip->dialog_set_next_hop(d, hop);
}

/* ---- The binding table --------------------------------------------------- */

static void index_add(struct binding *b)
{
	unsigned t = hash_text(b->token, strlen(b->token), "");
	unsigned c = hash_text(b->aor, strlen(b->aor), b->contact);

	b->next_by_id = index_id[b->id % INDEX_BUCKETS];
	index_id[b->id % INDEX_BUCKETS] = b;
	b->next_by_token = index_token[t];
	index_token[t] = b;
	b->next_by_contact = index_contact[c];
	index_contact[c] = b;
}

/* Unlink `b` from the chain at `head` whose links sit at `link_off`. */
static void chain_del(struct binding **head, struct binding *b,
		      size_t link_off)
{
	for (struct binding **pp = head; *pp;
	     pp = (struct binding **)((char *)*pp + link_off)) {
		if (*pp == b) {
			*pp = *(struct binding **)((char *)b + link_off);
			return;
		}
	}
}

static void index_del(struct binding *b)
{
	chain_del(&index_id[b->id % INDEX_BUCKETS], b,
		  offsetof(struct binding, next_by_id));
	chain_del(&index_token[hash_text(b->token, strlen(b->token), "")], b,
		  offsetof(struct binding, next_by_token));
	chain_del(&index_contact[hash_text(b->aor, strlen(b->aor),
					   b->contact)],
		  b, offsetof(struct binding, next_by_contact));
}

static struct binding *binding_new(const char *aor, const char *contact)
{
	struct binding *b;

	if (nbindings >= sbc_cfg->max_registrations)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->id = ++next_binding_id;
	snprintf(b->token, sizeof(b->token), TOKEN_PREFIX "%08lx%04x",
		 (unsigned long)random(), b->id & 0xffff);
	snprintf(b->aor, sizeof(b->aor), "%s", aor);
	snprintf(b->contact, sizeof(b->contact), "%s", contact);
	snprintf(b->call_id, sizeof(b->call_id), "sbcreg%u-%08lx%08lx", b->id,
		 (unsigned long)random(), (unsigned long)random());
	b->next = bindings;
	if (bindings)
		bindings->prev = b;
	bindings = b;
	index_add(b);
	nbindings++;
	return b;
}

static void binding_free(struct binding *b)
{
	index_del(b);
	if (b->prev)
		b->prev->next = b->next;
	else
		bindings = b->next;
	if (b->next)
		b->next->prev = b->prev;
	nbindings--;
	free(b);
}

/* Our Contact at the core for binding `b`: the core-side listener. */
static int core_contact(const struct binding *b, char *out, size_t size)
{
	char proto[8], route[300];
	const char *hop = sbc_cfg->core_next_hop;
	size_t plen = strcspn(hop, ":");
	char *lr;
	int n;

	if (sbc_cfg->core_contact[0])
		return snprintf(out, size, "<sip:%s@%s%s>", b->token,
				sbc_cfg->core_contact,
				!strncmp(hop, "tcp:", 4) ? ";transport=tcp" :
				!strncmp(hop, "tls:", 4) ? ";transport=tls" :
							   "");
	snprintf(proto, sizeof(proto), "%.*s", (int)plen, hop);
	n = sbc_sip->local_route(proto, b->token, route, sizeof(route));
	if (n < 0)
		return n;
	lr = strstr(route, ";lr");
	if (lr)
		memmove(lr, lr + 3, strlen(lr + 3) + 1);
	return snprintf(out, size, "%s", route);
}

/* ---- REGISTER towards the core ------------------------------------------- */

static void copy_headers(const struct sip_message *m, const char *name,
			 char *out, size_t size)
{
	struct sip_text v;
	size_t len = strlen(out);

	for (unsigned i = 0; sbc_sip->header(m, name, i, &v) == 0; i++) {
		int n = snprintf(out + len, size - len, "%s: %.*s\r\n", name,
				 (int)v.len, v.ptr);

		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
}

static void on_core_register(struct sip_client *c, int status,
			     const struct sip_message *rsp, void *arg);

/* The binding's REGISTER towards the core (its Call-ID, next CSeq);
 * `to` and `from` are buffers of 300 for the name-addrs. */
static void register_spec(struct binding *b, struct sip_request_spec *spec,
			  char *to, char *from, const char *headers)
{
	snprintf(to, 300, "<%s>", b->aor);
	snprintf(from, 300, "<%s>", b->from);
	spec->method = "REGISTER";
	spec->request_uri = b->ruri;
	spec->from = from;
	spec->to = to;
	spec->call_id = b->call_id;
	spec->cseq = ++b->cseq;
	spec->headers = headers;
	spec->next_hop = sbc_cfg->core_next_hop;
}

/* A REGISTER of `b` to the core: the device's credentials (when `from`
 * is its request), our Contact, `expires`. `pending` hears the answer. */
static int register_core(struct binding *b, const struct sip_message *from,
			 unsigned expires, struct pending *pending)
{
	struct sip_request_spec spec = { .size = sizeof(spec) };
	char headers[4096], contact[300], to[300], fromuri[300];

	if (core_contact(b, contact, sizeof(contact)) < 0) {
		free(pending_find(pending->id, true));
		return -ENOENT;
	}
	snprintf(headers, sizeof(headers), "Contact: %s\r\nExpires: %u\r\n",
		 contact, expires);
	if (from) {
		copy_headers(from, "Authorization", headers, sizeof(headers));
		copy_headers(from, "Proxy-Authorization", headers,
			     sizeof(headers));
	}
	register_spec(b, &spec, to, fromuri, headers);
	spec.forward_of = from;
	return pending_send(&spec, on_core_register, pending);
}

static void on_unregistered(struct sip_client *c, int status,
			    const struct sip_message *rsp, void *arg)
{
	struct pending *p = pending_done(status, arg);

	(void)c, (void)rsp;
	if (p && status >= 300)
		tnd_info("unREGISTER at the core answered %d", status);
	free(p);
}

/* Forget a device; the core forgets our Contact for it too. */
static void binding_drop(struct binding *b, const char *why)
{
	struct sip_request_spec spec = { .size = sizeof(spec) };
	char headers[400], contact[300], to[300], fromuri[300];
	struct pending *p;

	tnd_notice("device %s (%s at %s) dropped: %s", b->aor, b->contact,
		   b->source, why);
	sbc_host->counter_add(dropped_counter, 1);
	if (b->registered && core_contact(b, contact, sizeof(contact)) >= 0) {
		snprintf(headers, sizeof(headers),
			 "Contact: %s;expires=0\r\nExpires: 0\r\n", contact);
		register_spec(b, &spec, to, fromuri, headers);
		p = pending_new(NULL, 0);
		if (p)
			pending_send(&spec, on_unregistered, p);
	}
	binding_free(b);
}

/* The expiry the core granted our Contact: its ;expires, else Expires. */
static long granted_expires(const struct sip_message *rsp,
			    const struct binding *b)
{
	struct sip_text v;
	char uri[300];
	const char *params;

	for (unsigned i = 0; sbc_sip->header(rsp, "Contact", i, &v) == 0;
	     i++) {
		header_uri(v, uri, sizeof(uri), &params);
		if (strstr(uri, b->token) &&
		    param_expires(params, v.ptr + v.len) >= 0)
			return param_expires(params, v.ptr + v.len);
	}
	return header_seconds(rsp, "Expires");
}

static unsigned device_expires(unsigned core_s)
{
	return core_s < sbc_cfg->nat_expires ? core_s :
					       (unsigned)sbc_cfg->nat_expires;
}

/* 200 to the device: its own Contact with the short expiry. */
static void answer_device(struct sip_request *req, struct binding *b)
{
	unsigned e = device_expires(b->core_s);
	char hdr[400];

	b->device_until_ms = sbc_host->now_ms() + (uint64_t)e * 1000;
	snprintf(hdr, sizeof(hdr), "Contact: <%s>;expires=%u\r\n", b->contact,
		 e);
	sbc_sip->reply(req, 200, NULL, hdr, NULL, NULL, 0);
}

static void core_accepted(struct binding *b, const struct sip_message *rsp,
			  struct sip_request *req)
{
	long granted = granted_expires(rsp, b);
	uint64_t now = sbc_host->now_ms();

	if (granted < 0)
		granted = b->asked_s;
	if (granted == 0 || b->asked_s == 0) {
		tnd_info("device %s (%s) unregistered", b->aor, b->contact);
		sbc_sip->reply(req, 200, NULL, NULL, NULL, NULL, 0);
		binding_free(b);
		return;
	}
	if (!b->registered)
		tnd_info("device %s registered: contact %s at %s, core "
			 "contact %s, expires %ld (device %u)", b->aor,
			 b->contact, b->source, b->token, granted,
			 device_expires((unsigned)granted));
	b->registered = true;
	b->core_s = (unsigned)granted;
	b->core_until_ms = now + (uint64_t)granted * 1000;
	if (!b->next_ping_ms)
		b->next_ping_ms = now + sbc_cfg->nat_ping_s * 1000;
	answer_device(req, b);
}

static void on_core_register(struct sip_client *c, int status,
			     const struct sip_message *rsp, void *arg)
{
	struct pending *p = pending_done(status, arg);
	struct binding *b = p ? by_id(p->binding_id) : NULL;
	char hdr[2048] = "";

	(void)c;
	if (!p)
		return;
	if (!b) { /* dropped meanwhile */
		sbc_sip->reply(p->req, 480, "Device Gone", NULL, NULL, NULL, 0);
	} else if (rsp && status < 300) {
		core_accepted(b, rsp, p->req);
	} else {
		if (rsp && (status == 401 || status == 407)) {
			/* RFC 3261 22.2: the device answers the challenge */
			copy_headers(rsp, "WWW-Authenticate", hdr, sizeof(hdr));
			copy_headers(rsp, "Proxy-Authenticate", hdr,
				     sizeof(hdr));
		}
		tnd_info("REGISTER of %s: the core answered %d", b->aor,
			 status);
		sbc_sip->reply(p->req, status, NULL, hdr[0] ? hdr : NULL, NULL,
			       NULL, 0);
		if (!b->registered && !(status == 401 || status == 407))
			binding_free(b);
	}
	sbc_sip->release(p->req);
	free(p);
}

/* ---- REGISTER from a device --------------------------------------------- */

struct reg_request {
	char aor[256], from[256], ruri[256], contact[256], source[96];
	long expires;
	bool star;
};

static int read_register(const struct sip_message *m, struct reg_request *r)
{
	struct sip_text v, ruri = sbc_sip->request_uri(m);
	const char *params = NULL;
	long e;

	memset(r, 0, sizeof(*r));
	if (sbc_sip->header(m, "To", 0, &v) < 0)
		return -EINVAL;
	header_uri(v, r->aor, sizeof(r->aor), NULL);
	if (sbc_sip->header(m, "From", 0, &v) == 0)
		header_uri(v, r->from, sizeof(r->from), NULL);
	snprintf(r->ruri, sizeof(r->ruri), "%.*s", (int)ruri.len, ruri.ptr);
	source_hop(m, r->source, sizeof(r->source));
	e = header_seconds(m, "Expires");
	if (e == -2)
		return -EINVAL;
	r->expires = e >= 0 ? e : DEFAULT_EXPIRES;
	if (sbc_sip->header(m, "Contact", 0, &v) < 0)
		return -ENOENT; /* a query (RFC 3261 10.2.3) */
	if (v.len >= 1 && v.ptr[0] == '*') {
		r->star = true;
		return 0;
	}
	header_uri(v, r->contact, sizeof(r->contact), &params);
	e = param_expires(params, v.ptr + v.len);
	if (e == -2)
		return -EINVAL;
	if (e >= 0)
		r->expires = e;
	return r->aor[0] && r->contact[0] && r->source[0] ? 0 : -EINVAL;
}

/* A query or "*": answered here from the table (the core knows us only). */
static void answer_locally(struct sip_request *req,
			   const struct reg_request *r)
{
	char hdr[2048] = "";
	size_t len = 0;

	for (struct binding *b = bindings, *next; b; b = next) {
		next = b->next;
		if (strcmp(b->aor, r->aor) != 0)
			continue;
		if (r->star) {
			binding_drop(b, "unregistered (Contact: *)");
			continue;
		}
		if (b->registered && len + strlen(b->contact) + 40 < sizeof(hdr))
			len += (size_t)snprintf(hdr + len, sizeof(hdr) - len,
						"Contact: <%s>;expires=%u\r\n",
						b->contact,
						device_expires(b->core_s));
	}
	sbc_sip->reply(req, 200, NULL, hdr[0] ? hdr : NULL, NULL, NULL, 0);
}

/* With [sbc-peer] ACLs the access side is closed to other sources, and
 * so is registration: devices register from addresses a peer covers
 * (an enterprise's NAT range; 0.0.0.0/0 for an open device realm).
 * False when the request was answered (403, an offence as for calls). */
static bool registrar_admits(struct sip_request *req)
{
	char src[64];

	sbc_source_addr(sbc_sip->request_message(req), src, sizeof(src));
	if (!sbc_peers_configured() || sbc_peer_of(src))
		return true;
	sbc_host->counter_add(sbc_count.refused, 1);
	sbc_guard_offence(src, "not a peer");
	tnd_info("REGISTER from %s: no peer has this address, 403", src);
	sbc_sip->reply(req, 403, "Not A Peer", NULL, NULL, NULL, 0);
	return false;
}

/* The core's binding lasts beyond the device's next refresh: no need to
 * bother the core (RFC 5626's flow refreshes are the device's own). */
static bool core_fresh_enough(const struct binding *b, long asked)
{
	uint64_t now = sbc_host->now_ms();
	uint64_t need = 2ull * device_expires(b->core_s) * 1000;

	return b->registered && (unsigned)asked == b->asked_s &&
	       b->core_until_ms > now + need;
}

/* On to the core, the device's request kept until its answer comes. */
static void relay_register(struct sip_request *req,
			   const struct sip_message *m, struct binding *b)
{
	struct pending *p = pending_new(NULL, b->id);
	int rc;

	if (!p) {
		sbc_sip->reply(req, 500, NULL, NULL, NULL, NULL, 0);
		return;
	}
	p->req = sbc_sip->keep(req);
	rc = register_core(b, m, b->asked_s, p); /* p is gone on failure */
	if (rc < 0) {
		sbc_sip->reply(req, rc == -ELOOP ? 483 : 503, NULL, NULL, NULL,
			       NULL, 0);
		sbc_sip->release(req);
		if (!b->registered)
			binding_free(b);
	}
}

/* A valid REGISTER with one Contact: its binding, then the core (or an
 * answer from here when the core's binding lasts). */
static void register_device(struct sip_request *req,
			    const struct sip_message *m,
			    const struct reg_request *r)
{
	struct binding *b = by_contact(r->aor, r->contact);

	if (!b && r->expires == 0) {
		sbc_sip->reply(req, 200, NULL, NULL, NULL, NULL, 0);
		return;
	}
	if (!b)
		b = binding_new(r->aor, r->contact);
	if (!b) {
		tnd_info("REGISTER of %s from %s: table full (%llu), 503",
			 r->aor, r->source, sbc_cfg->max_registrations);
		sbc_sip->reply(req, 503, "Too Many Registrations",
			       "Retry-After: 60\r\n", NULL, NULL, 0);
		return;
	}
	if (strcmp(b->source, r->source) != 0 && b->source[0])
		tnd_info("device %s moved from %s to %s", b->aor, b->source,
			 r->source);
	snprintf(b->source, sizeof(b->source), "%s", r->source);
	snprintf(b->from, sizeof(b->from), "%s",
		 r->from[0] ? r->from : r->aor);
	snprintf(b->ruri, sizeof(b->ruri), "%s", r->ruri);
	if (r->expires && core_fresh_enough(b, r->expires)) {
		answer_device(req, b); /* a NAT refresh only */
		return;
	}
	b->asked_s = (unsigned)r->expires;
	if (!b->registered)
		b->device_until_ms = sbc_host->now_ms() + CHALLENGE_HOLD_S * 1000;
	relay_register(req, m, b);
}

static enum sip_verdict on_register(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sbc_sip->request_message(req);
	struct reg_request r;
	int rc = read_register(m, &r);

	(void)arg;
	if (!registrar_admits(req))
		return SIP_TAKEN;
	if (rc == 0 && r.star && r.expires != 0) /* RFC 3261 10.3 step 6 */
		sbc_sip->reply(req, 400, "Contact * Needs Expires 0", NULL,
			       NULL, NULL, 0);
	else if (rc == -ENOENT || (rc == 0 && r.star))
		answer_locally(req, &r);
	else if (rc < 0 || r.expires < 0)
		sbc_sip->reply(req, 400, "Bad REGISTER", NULL, NULL, NULL, 0);
	else
		register_device(req, m, &r);
	return SIP_TAKEN;
}

/* ---- Keep-alives and expiry ---------------------------------------------- */

static void on_ping(struct sip_client *c, int status,
		    const struct sip_message *rsp, void *arg)
{
	struct pending *p = pending_done(status, arg);
	struct binding *b = p ? by_id(p->binding_id) : NULL;

	(void)c;
	free(p);
	if (!b)
		return;
	b->ping_pending = false;
	if (rsp) { /* any answer: the device and its NAT mapping are there */
		b->ping_fails = 0;
		b->pings_answered++;
		return;
	}
	b->ping_fails++;
	tnd_info("device %s at %s: keep-alive unanswered (%u of %llu)",
		 b->aor, b->source, b->ping_fails, sbc_cfg->nat_ping_fails);
	if (b->ping_fails >= sbc_cfg->nat_ping_fails)
		binding_drop(b, "keep-alives unanswered");
}

/* RFC 5626 4.4 in spirit: an OPTIONS from the access listener to where
 * the device is keeps its NAT mapping open and tells us it is alive. */
static void ping(struct binding *b)
{
	struct sip_request_spec spec = { .size = sizeof(spec) };
	char from[300], to[300], host[200];
	struct pending *p;

	uri_host(b->aor, host, sizeof(host));
	snprintf(from, sizeof(from), "<sip:sbc@%s>", host);
	snprintf(to, sizeof(to), "<%s>", b->aor);
	spec.method = "OPTIONS";
	spec.request_uri = b->contact;
	spec.from = from;
	spec.to = to;
	spec.next_hop = b->source;
	p = pending_new(NULL, b->id);
	b->ping_pending = true; /* before: an answer may come at once */
	b->pings_sent++;
	if (!p || pending_send(&spec, on_ping, p) < 0)
		b->ping_pending = false;
}

static void on_sweep(struct tnd_timer *t, void *arg)
{
	uint64_t now = sbc_host->now_ms();

	(void)t, (void)arg;
	for (struct binding *b = bindings, *next; b; b = next) {
		next = b->next;
		if (now >= b->device_until_ms) {
			binding_drop(b, b->registered ? "no refresh in time" :
						       "no answer to the challenge");
			continue;
		}
		if (b->registered && sbc_cfg->nat_ping_s && !b->ping_pending &&
		    now >= b->next_ping_ms) {
			b->next_ping_ms = now + sbc_cfg->nat_ping_s * 1000;
			ping(b);
		}
	}
}

/* ---- Requests from the core to a device ---------------------------------- */

static void on_relayed(struct sip_client *c, int status,
		       const struct sip_message *rsp, void *arg)
{
	struct pending *p = pending_done(status, arg);

	(void)c, (void)rsp;
	if (!p)
		return;
	sbc_sip->reply(p->req, status, NULL, NULL, NULL, NULL, 0);
	sbc_sip->release(p->req);
	free(p);
}

static struct binding *binding_of_ruri(const struct sip_message *m)
{
	struct sip_text ruri = sbc_sip->request_uri(m);
	struct sip_text user = uri_user(ruri.ptr, ruri.len);
	size_t plen = strlen(TOKEN_PREFIX);

	if (user.len <= plen || strncmp(user.ptr, TOKEN_PREFIX, plen) != 0)
		return NULL;
	return by_token(user.ptr, user.len);
}

int sbc_reg_target(const struct sip_message *invite, char *ruri,
		   size_t ruri_size, char *next_hop, size_t hop_size)
{
	struct binding *b = binding_of_ruri(invite);

	if (!b || !b->registered)
		return -ENOENT;
	snprintf(ruri, ruri_size, "%s", b->contact);
	snprintf(next_hop, hop_size, "%s", b->source);
	return 0;
}

/* The request, as the device sees it: to its AoR and Contact, from the
 * caller's user part in the device's own domain, with the body. Failures
 * are answered here (the request is kept until then). */
static int relay_to_device(struct sip_request *req, struct binding *b,
			   const char *method)
{
	const struct sip_message *m = sbc_sip->request_message(req);
	struct sip_request_spec spec = { .size = sizeof(spec) };
	char from[300], to[300], host[200], ctype[128] = "";
	struct sip_text v, body = sbc_sip->body(m), user = { "sbc", 3 };
	char furi[256];
	struct pending *x;
	int rc;

	if (sbc_sip->header(m, "From", 0, &v) == 0) {
		header_uri(v, furi, sizeof(furi), NULL);
		if (uri_user(furi, strlen(furi)).len)
			user = uri_user(furi, strlen(furi));
	}
	uri_host(b->aor, host, sizeof(host));
	snprintf(from, sizeof(from), "<sip:%.*s@%s>", (int)user.len, user.ptr,
		 host);
	snprintf(to, sizeof(to), "<%s>", b->aor);
	if (body.len && sbc_sip->header(m, "Content-Type", 0, &v) == 0)
		snprintf(ctype, sizeof(ctype), "%.*s", (int)v.len, v.ptr);
	x = pending_new(NULL, b->id);
	if (!x) {
		sbc_sip->reply(req, 500, NULL, NULL, NULL, NULL, 0);
		return -ENOMEM;
	}
	spec.method = method;
	spec.request_uri = b->contact;
	spec.from = from;
	spec.to = to;
	spec.body_type = ctype[0] ? ctype : NULL;
	spec.body = body.ptr;
	spec.body_len = ctype[0] ? body.len : 0;
	spec.next_hop = b->source;
	spec.forward_of = m;
	x->req = sbc_sip->keep(req);
	rc = pending_send(&spec, on_relayed, x); /* x is gone on failure */
	if (rc < 0) { /* answered while still kept, then let go */
		sbc_sip->reply(req, rc == -ELOOP ? 483 : 500, NULL, NULL, NULL,
			       NULL, 0);
		sbc_sip->release(req);
	}
	return rc;
}

/* Requests to a device's token come from the core: the core next hop's
 * address, or any source on the listener of `core_contact` (sip 1.2
 * local()); anything else would make the SBC an open relay to devices. */
static bool from_core(const struct sip_message *m)
{
	const char *hop = strchr(sbc_cfg->core_next_hop, ':');
	char src[64], core[80], local[96];

	sbc_source_addr(m, src, sizeof(src));
	snprintf(core, sizeof(core), "%s", hop ? hop + 1 : "");
	*port_of(core) = '\0';
	if (core[0] == '[') { /* [2001:db8::1] -> 2001:db8::1 */
		memmove(core, core + 1, strlen(core));
		core[strcspn(core, "]")] = '\0';
	}
	if (!strcmp(src, core))
		return true;
	if (!sbc_cfg->core_contact[0] ||
	    sbc_sip->size < offsetof(struct sip_service, local) +
				    sizeof(sbc_sip->local) ||
	    sbc_sip->local(m, local, sizeof(local)) < 0)
		return false;
	/* "UDP 10.20.0.1:5060" names the listener */
	return strchr(local, ' ') &&
	       !strcmp(strchr(local, ' ') + 1, sbc_cfg->core_contact);
}

static bool is_token_request(const struct sip_message *m)
{
	struct sip_text ruri = sbc_sip->request_uri(m);
	struct sip_text user = uri_user(ruri.ptr, ruri.len);
	size_t plen = strlen(TOKEN_PREFIX);

	return user.len > plen && !strncmp(user.ptr, TOKEN_PREFIX, plen);
}

static enum sip_verdict on_token_request(struct sip_request *req, void *arg)
{
	const struct sip_message *m = sbc_sip->request_message(req);
	struct sip_text method = sbc_sip->method(m), to;
	char meth[32];
	struct binding *b;
	int rc;

	(void)arg;
	if (method.len >= sizeof(meth) || !is_token_request(m))
		return SIP_DECLINED;
	snprintf(meth, sizeof(meth), "%.*s", (int)method.len, method.ptr);
	if (!strcmp(meth, "INVITE") || !strcmp(meth, "ACK") ||
	    !strcmp(meth, "CANCEL") || !strcmp(meth, "REGISTER"))
		return SIP_DECLINED;
	if (sbc_sip->header(m, "To", 0, &to) == 0 &&
	    memmem(to.ptr, to.len, "tag=", 4))
		return SIP_DECLINED; /* in a dialog: not a device's token */
	if (!from_core(m)) { /* before the look-up: tokens stay unguessable */
		tnd_info("%s to a device token not from the core, 403", meth);
		sbc_sip->reply(req, 403, "Not From The Core", NULL, NULL, NULL,
			       0);
		return SIP_TAKEN;
	}
	b = binding_of_ruri(m);
	if (!b) {
		sbc_sip->reply(req, 404, "No Such Device", NULL, NULL, NULL, 0);
		return SIP_TAKEN;
	}
	rc = relay_to_device(req, b, meth); /* answers its failures */
	if (rc == 0)
		tnd_info("%s from the core relayed to device %s at %s", meth,
			 b->aor, b->source);
	return SIP_TAKEN;
}

/* ---- Control ------------------------------------------------------------- */

static long long seconds_left(uint64_t until, uint64_t now)
{
	return until > now ? (long long)((until - now) / 1000) : 0;
}

int sbc_cmd_show_devices(struct tnd_reply *r, int argc, char **argv)
{
	uint64_t now = sbc_host->now_ms();

	(void)argv;
	if (argc)
		return sbc_host->reply_error(r,
					     "sbc show devices takes no arguments");
	for (struct binding *b = bindings; b; b = b->next) {
		sbc_host->reply_record(r);
		sbc_host->reply_field(r, "aor", "%s", b->aor);
		sbc_host->reply_field(r, "contact", "%s", b->contact);
		sbc_host->reply_field(r, "source", "%s", b->source);
		sbc_host->reply_field(r, "token", "%s", b->token);
		sbc_host->reply_field(r, "state", "%s",
				      b->registered ? "registered" :
						      "registering");
		sbc_host->reply_field_num(r, "device_expires",
					  seconds_left(b->device_until_ms, now));
		sbc_host->reply_field_num(r, "core_expires",
					  seconds_left(b->core_until_ms, now));
		sbc_host->reply_field_num(r, "pings_sent", b->pings_sent);
		sbc_host->reply_field_num(r, "pings_answered",
					  b->pings_answered);
		sbc_host->reply_field_num(r, "ping_fails", b->ping_fails);
	}
	return 0;
}

/* ---- Life cycle ------------------------------------------------------------ */

int sbc_reg_init(void)
{
	dropped_counter = sbc_host->counter_new(SBC_SELF, "devices_dropped",
						"registered devices dropped "
						"(no refresh, keep-alives "
						"unanswered)");
	return dropped_counter ? 0 : -ENOMEM;
}

int sbc_reg_start(void)
{
	sweep_timer = sbc_host->timer_new(SBC_SELF, on_sweep, NULL);
	if (!sweep_timer || sbc_host->timer_start(sweep_timer, 1000, 1000) < 0)
		return -ENOMEM;
	if (sbc_sip->handler_add("REGISTER", SIP_HANDLER_CLAIM, NULL,
				 on_register, NULL) < 0 ||
	    sbc_sip->handler_add(NULL, SIP_HANDLER_CLAIM, NULL,
				 on_token_request, NULL) < 0)
		return -ENOMEM;
	if (strcmp(sbc_cfg->nat_fixup, "off") && !sip_has_next_hop_fixup())
		tnd_notice("the sip service has no dialog_set_next_hop (1.2): "
			   "no Contact fix-up of access dialogs");
	return 0;
}

void sbc_reg_stop(void)
{
	if (sweep_timer) {
		sbc_host->timer_free(sweep_timer);
		sweep_timer = NULL;
	}
	sbc_sip->handler_remove(on_register, NULL);
	sbc_sip->handler_remove(on_token_request, NULL);
	pendings_forget();
	while (bindings)
		binding_free(bindings);
}
