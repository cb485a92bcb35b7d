/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sbc_route: which realm a new request comes from, and what a call from
 * the core is routed by. The core realm is named by the listeners its
 * requests arrive on (`core_listen`, the sip service's local(), since
 * 1.2) and/or by their source addresses (`core_sources`); with neither
 * key, only core_next_hop's own address and port count as the core, so
 * that a call the core sends us is never mistaken for an access call and
 * sent back to it. The calls themselves are in sbc_call.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sbc_int.h"

#define CORE_LISTENERS_MAX 8

static char core_listeners[CORE_LISTENERS_MAX][80]; /* "udp:10.20.0.1:5060" */
static unsigned ncore_listeners;
static struct sbc_nets *core_nets;

/* "UDP 10.20.0.1:5060" or "udp:10.20.0.1:5060" -> "udp:10.20.0.1:5060" */
static void listener_key(const char *text, size_t len, char *out,
			 size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++)
		out[n++] = text[i] == ' ' ? ':' :
					    (char)tolower((unsigned char)text[i]);
	out[n] = '\0';
}

static int parse_core_listen(void)
{
	char list[640], *save = NULL;

	snprintf(list, sizeof(list), "%s", sbc_cfg->core_listen);
	for (char *tok = strtok_r(list, " ,", &save); tok;
	     tok = strtok_r(NULL, " ,", &save)) {
		const char *colon = strrchr(tok, ':');

		if (ncore_listeners == CORE_LISTENERS_MAX || !colon ||
		    (strncasecmp(tok, "udp:", 4) && strncasecmp(tok, "tcp:", 4) &&
		     strncasecmp(tok, "tls:", 4)) ||
		    colon <= tok + 4 || atoi(colon + 1) <= 0)
			return sbc_host->config_error("sbc", "core_listen",
				"core_listen: '%s' is not udp|tcp|tls:HOST:PORT "
				"(at most %d)", tok, CORE_LISTENERS_MAX);
		listener_key(tok, strlen(tok), core_listeners[ncore_listeners],
			     sizeof(core_listeners[0]));
		ncore_listeners++;
	}
	return 0;
}

int sbc_route_init(void)
{
	char bad[64] = "";

	ncore_listeners = 0;
	if (parse_core_listen() < 0)
		return -EINVAL;
	core_nets = sbc_nets_parse(sbc_cfg->core_sources, bad, sizeof(bad));
	if (!core_nets)
		return sbc_host->config_error("sbc", "core_sources",
			"core_sources: '%s' is not an IPv4/IPv6 address or "
			"prefix (at most 16)", bad);
	return 0;
}

void sbc_route_fini(void)
{
	sbc_nets_free(core_nets);
	core_nets = NULL;
}

static bool sip_has_local(void)
{
	return sbc_sip->size >= offsetof(struct sip_service, local) +
				       sizeof(sbc_sip->local);
}

int sbc_route_start(void)
{
	if (ncore_listeners && !sip_has_local()) {
		tnd_error("core_listen needs the sip service 1.2 (local()); "
			  "use core_sources with this sip plugin");
		return -ENOTSUP;
	}
	if (ncore_listeners || sbc_nets_count(core_nets))
		tnd_info("the core realm: listeners '%s', sources '%s'",
			 sbc_cfg->core_listen, sbc_cfg->core_sources);
	else
		tnd_info("the core realm: %s only (core_listen and "
			 "core_sources unset)", sbc_cfg->core_next_hop);
	return 0;
}

/* "udp:HOST:PORT" -> "HOST:PORT" */
void sbc_hop_hostport(const char *hop, char *out, size_t size)
{
	const char *colon = strchr(hop, ':');

	snprintf(out, size, "%s", colon ? colon + 1 : hop);
}

static bool arrived_on_core_listener(const struct sip_message *m)
{
	char local[96], key[96];
	int n;

	if (!ncore_listeners || !sip_has_local())
		return false;
	n = sbc_sip->local(m, local, sizeof(local));
	if (n <= 0)
		return false;
	listener_key(local, (size_t)n, key, sizeof(key));
	for (unsigned i = 0; i < ncore_listeners; i++)
		if (strcmp(key, core_listeners[i]) == 0)
			return true;
	return false;
}

/* Neither key set: the source "HOST:PORT" equals core_next_hop's. */
static bool from_core_next_hop(const struct sip_message *m)
{
	char src[96], hop[96];
	int n = sbc_sip->source(m, src, sizeof(src));
	const char *sp = n > 0 ? strchr(src, ' ') : NULL;

	if (!sp)
		return false;
	sbc_hop_hostport(sbc_cfg->core_next_hop, hop, sizeof(hop));
	return strcasecmp(sp + 1, hop) == 0;
}

bool sbc_from_core(const struct sip_message *m)
{
	char addr[64];

	if (arrived_on_core_listener(m))
		return true;
	if (sbc_nets_count(core_nets)) {
		sbc_source_addr(m, addr, sizeof(addr));
		return sbc_nets_match(core_nets, addr);
	}
	return !ncore_listeners && from_core_next_hop(m);
}

/* RFC 3966 5.1.1: '-', '.', '(' and ')' are visual separators only. */
static void copy_number(const char *p, const char *end, char *out,
			size_t size)
{
	size_t n = 0;

	for (; p < end && n + 1 < size; p++)
		if (!strchr("-.()", *p))
			out[n++] = *p;
	out[n] = '\0';
}

int sbc_route_number(struct sip_text ruri, char *user, size_t usize,
		     char *host, size_t hsize)
{
	const char *p = ruri.ptr, *end = ruri.ptr + ruri.len, *at, *stop;

	user[0] = host[0] = '\0';
	if (ruri.len > 4 && strncasecmp(p, "tel:", 4) == 0) {
		p += 4;
		stop = memchr(p, ';', (size_t)(end - p));
		copy_number(p, stop ? stop : end, user, usize);
		return user[0] ? 0 : -EINVAL;
	}
	if (ruri.len > 4 && strncasecmp(p, "sip:", 4) == 0)
		p += 4;
	else if (ruri.len > 5 && strncasecmp(p, "sips:", 5) == 0)
		p += 5;
	else
		return -EINVAL;
	at = memchr(p, '@', (size_t)(end - p));
	if (at) {
		stop = p + strcspn(p, ";@");
		if (stop > at)
			stop = at;
		if (*p == '+')
			copy_number(p, stop, user, usize);
		else
			snprintf(user, usize, "%.*s", (int)(stop - p), p);
		p = at + 1;
	}
	stop = p;
	while (stop < end && !strchr(";?>", *stop))
		stop++;
	snprintf(host, hsize, "%.*s", (int)(stop - p), p);
	/* the host alone, without the port, is what `domains` lists */
	if (host[0] != '[' && strchr(host, ':'))
		*strchr(host, ':') = '\0';
	return 0;
}
