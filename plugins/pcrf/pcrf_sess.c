/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcrf_sess.c - the session tables: Gx sessions by Session-Id and by UE
 * address (the Rx-Gx binding of TS 29.213 8.2 uses the UE's IPv4 address
 * or IPv6 prefix), Rx sessions by Session-Id and by the sequence number
 * that names their PCC rules ("r<seq>-<media component>").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcrf_int.h"

struct ims_hash pcrf_gx_by_sid, pcrf_rx_by_sid;
static struct ims_hash gx_by_addr, rx_by_seq;
static uint64_t last_seq;

static void addr_key(char *key, size_t size, const char *kind, const char *addr)
{
	snprintf(key, size, "%s:%s", kind, addr);
}

struct pcrf_gx *pcrf_gx_find(const char *sid)
{
	return ims_hash_get(&pcrf_gx_by_sid, sid);
}

struct pcrf_gx *pcrf_gx_by_ue(const char *ipv4, const char *ipv6)
{
	char key[80];
	struct pcrf_gx *gx = NULL;

	if (ipv4 && ipv4[0]) {
		addr_key(key, sizeof(key), "v4", ipv4);
		gx = ims_hash_get(&gx_by_addr, key);
	}
	if (!gx && ipv6 && ipv6[0]) {
		addr_key(key, sizeof(key), "v6", ipv6);
		gx = ims_hash_get(&gx_by_addr, key);
	}
	return gx;
}

int pcrf_gx_add(struct pcrf_gx *gx)
{
	char key[80];

	if (ims_hash_put(&pcrf_gx_by_sid, gx->sid, gx))
		return -ENOMEM;
	/* A newer IP-CAN session for an address replaces the older one in
	 * the binding (the UE got the address again). */
	if (gx->ipv4[0]) {
		addr_key(key, sizeof(key), "v4", gx->ipv4);
		if (ims_hash_put(&gx_by_addr, key, gx))
			return -ENOMEM;
	}
	if (gx->ipv6[0]) {
		addr_key(key, sizeof(key), "v6", gx->ipv6);
		if (ims_hash_put(&gx_by_addr, key, gx))
			return -ENOMEM;
	}
	return 0;
}

static void unbind_addr(const char *kind, const char *addr,
			const struct pcrf_gx *gx)
{
	char key[80];

	if (!addr[0])
		return;
	addr_key(key, sizeof(key), kind, addr);
	if (ims_hash_get(&gx_by_addr, key) == gx)
		ims_hash_del(&gx_by_addr, key);
}

void pcrf_gx_remove(struct pcrf_gx *gx)
{
	unbind_addr("v4", gx->ipv4, gx);
	unbind_addr("v6", gx->ipv6, gx);
	ims_hash_del(&pcrf_gx_by_sid, gx->sid);
	free(gx);
}

struct pcrf_rx *pcrf_rx_find(const char *sid)
{
	return ims_hash_get(&pcrf_rx_by_sid, sid);
}

int pcrf_rx_add(struct pcrf_rx *rx)
{
	char key[32];
	struct pcrf_gx *gx = pcrf_gx_find(rx->gx_sid);

	snprintf(key, sizeof(key), "%" PRIu64, rx->seq);
	if (ims_hash_put(&pcrf_rx_by_sid, rx->sid, rx))
		return -ENOMEM;
	if (ims_hash_put(&rx_by_seq, key, rx)) {
		ims_hash_del(&pcrf_rx_by_sid, rx->sid);
		return -ENOMEM;
	}
	if (rx->seq > last_seq)
		last_seq = rx->seq;
	if (gx)
		gx->nrx++;
	return 0;
}

void pcrf_rx_remove(struct pcrf_rx *rx)
{
	char key[32];
	struct pcrf_gx *gx = pcrf_gx_find(rx->gx_sid);

	snprintf(key, sizeof(key), "%" PRIu64, rx->seq);
	ims_hash_del(&rx_by_seq, key);
	ims_hash_del(&pcrf_rx_by_sid, rx->sid);
	if (gx && gx->nrx)
		gx->nrx--;
	free(rx->rules);
	free(rx);
}

int pcrf_rx_set_rules(struct pcrf_rx *rx, const struct pcrf_rule *rules,
		      unsigned n)
{
	struct pcrf_rule *copy = NULL;

	if (n) {
		copy = malloc(sizeof(*copy) * n);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, rules, sizeof(*copy) * n);
	}
	free(rx->rules);
	rx->rules = copy;
	rx->nrules = n;
	return 0;
}

struct pcrf_rx *pcrf_rule_owner(const char *name, struct pcrf_rule **rule)
{
	char key[32];
	struct pcrf_rx *rx;
	unsigned long long seq;

	if (sscanf(name, "r%llu-", &seq) != 1)
		return NULL;
	snprintf(key, sizeof(key), "%llu", seq);
	rx = ims_hash_get(&rx_by_seq, key);
	if (!rx)
		return NULL;
	for (unsigned i = 0; i < rx->nrules; i++) {
		if (strcmp(rx->rules[i].name, name) == 0) {
			*rule = &rx->rules[i];
			return rx;
		}
	}
	return NULL;
}

uint64_t pcrf_next_seq(void)
{
	return ++last_seq;
}

static void free_value(const char *key, void *value, void *arg)
{
	(void)key, (void)arg;
	free(value);
}

static void free_rx(const char *key, void *value, void *arg)
{
	struct pcrf_rx *rx = value;

	(void)key, (void)arg;
	free(rx->rules);
	free(rx);
}

void pcrf_sess_clear(void)
{
	ims_hash_each(&pcrf_rx_by_sid, free_rx, NULL);
	ims_hash_each(&pcrf_gx_by_sid, free_value, NULL);
	ims_hash_clear(&pcrf_rx_by_sid);
	ims_hash_clear(&pcrf_gx_by_sid);
	ims_hash_clear(&gx_by_addr);
	ims_hash_clear(&rx_by_seq);
}

int pcrf_ipv4_text(const uint8_t *v, size_t len, char *out, size_t size)
{
	if (len != 4 || !inet_ntop(AF_INET, v, out, (socklen_t)size))
		return -EINVAL;
	return 0;
}

/* RFC 3162 2.3: Reserved (1), Prefix-Length (1), Prefix (up to 16). */
int pcrf_ipv6_text(const uint8_t *v, size_t len, char *out, size_t size)
{
	uint8_t addr[16] = { 0 };
	char text[INET6_ADDRSTRLEN];
	unsigned bits;

	if (len < 2 || len > 18)
		return -EINVAL;
	bits = v[1];
	if (bits > 128 || (bits + 7) / 8 > len - 2)
		return -EINVAL;
	memcpy(addr, v + 2, len - 2);
	/* bits past the prefix length do not name the prefix */
	for (unsigned i = bits; i < 128; i++)
		addr[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
	if (!inet_ntop(AF_INET6, addr, text, sizeof(text)))
		return -EINVAL;
	snprintf(out, size, "%s/%u", text, bits);
	return 0;
}

/*
 * Rx and Gx answers repeat the Auth-Application-Id (TS 29.214 5.6,
 * TS 29.212 5.6); the service copies only the Vendor-Specific one. The
 * AAA also repeats Auth-Request-Type when the AAR had it (RFC 7155's AAA
 * rules, which freeDiameter applies to every AAA, require it).
 */
void pcrf_answer_app(struct dia_msg *ans)
{
	struct dia_msg *req = dia->answer_request(ans);
	uint32_t v;

	if (!req)
		return;
	if (!dia->find(dia->root(ans), "Auth-Application-Id") &&
	    dia->find_u32(dia->root(req), "Auth-Application-Id", &v) == 0)
		dia->add_u32(dia->root(ans), "Auth-Application-Id", v);
	if (!dia->find(dia->root(ans), "Auth-Request-Type") &&
	    dia->find_u32(dia->root(req), "Auth-Request-Type", &v) == 0)
		dia->add_u32(dia->root(ans), "Auth-Request-Type", v);
}

void pcrf_msg_sid(struct dia_msg *msg, char *out, size_t size)
{
	struct dia_msg_info info;

	out[0] = '\0';
	if (dia->msg_info(msg, &info) == 0 && info.session_id)
		snprintf(out, size, "%.*s", (int)info.session_id_len,
			 (const char *)info.session_id);
}
