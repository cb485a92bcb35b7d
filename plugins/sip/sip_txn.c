/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_txn: RFC 3261 17 transactions on libosip2's ICT, IST, NICT and NIST
 * state machines, driven from the node's loop.
 *
 * libosip2 keeps its transactions in linked lists that every timer tick
 * and every lookup walk; at a few thousand calls per second a node holds
 * tens of thousands of transactions. So the state machines are used one
 * transaction at a time (osip_transaction_execute), while matching is a
 * hash of RFC 3261 17.1.3 / 17.2.3 keys and timers are deadlines in
 * sip_timer's heap computed from the machine's own timer fields. A
 * transaction is taken out of libosip2's list as soon as it is made.
 *
 * libosip2's timer constants are fixed at build time; T1, T2 and T4 come
 * from the configuration by setting the lengths at creation and after
 * the events that change them (Timer E and G back-off, 1xx in NICT).
 *
 * Messages the machines retransmit are sent from the bytes cached with
 * them (wire[]), so a retransmission never re-serialises.
 *
 * The completed states only wait out a timer; a transaction that reaches
 * one leaves its machine and becomes a small wait record (see "Waits").
 * RFC 6026: libosip2's IST ends on a 2xx; it waits 64*T1 in "accepted",
 * absorbing retransmitted INVITEs instead of taking them for new ones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_int.h"

static osip_t *osip;
static struct sip_txn **buckets;
static size_t nbuckets; /* a power of two */
static size_t ntxns;
static unsigned next_id = 1;

static bool run_event(struct sip_txn *t, osip_event_t *evt,
		      struct sip_msg *m);

/* ---- The table ----------------------------------------------------------- */

static uint32_t hash_key(const char *key)
{
	uint32_t h = 2166136261U;

	while (*key)
		h = (h ^ (unsigned char)*key++) * 16777619U;
	return h;
}

static int table_grow(void)
{
	size_t n = nbuckets ? nbuckets * 2 : 4096;
	struct sip_txn **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < nbuckets; i++) {
		while (buckets[i]) {
			struct sip_txn *t = buckets[i];

			buckets[i] = t->hnext;
			t->hnext = b[t->hash & (n - 1)];
			b[t->hash & (n - 1)] = t;
		}
	}
	free(buckets);
	buckets = b;
	nbuckets = n;
	return 0;
}

static void table_add(struct sip_txn *t)
{
	if (ntxns >= nbuckets)
		table_grow(); /* on failure chains just get longer */
	t->hash = hash_key(t->key);
	t->hnext = buckets[t->hash & (nbuckets - 1)];
	buckets[t->hash & (nbuckets - 1)] = t;
	ntxns++;
}

static void table_del(struct sip_txn *t)
{
	struct sip_txn **pp = &buckets[t->hash & (nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == t) {
			*pp = t->hnext;
			ntxns--;
			return;
		}
	}
}

static struct sip_txn *table_find(const char *key)
{
	uint32_t h = hash_key(key);

	if (!nbuckets)
		return NULL;
	for (struct sip_txn *t = buckets[h & (nbuckets - 1)]; t; t = t->hnext)
		if (t->hash == h && !t->dead && strcmp(t->key, key) == 0)
			return t;
	return NULL;
}

size_t sip_txn_count(void)
{
	return ntxns;
}

/* ---- Keys ---------------------------------------------------------------- */

#define KEY_MAX 768

static bool is_3261_branch(const char *b, size_t n)
{
	/* RFC 3261 8.1.1.7: the magic cookie and something after it; the
	 * bare cookie is no unique id (RFC 4475 3.2.1). */
	return n > 7 && memcmp(b, "z9hG4bK", 7) == 0;
}

/* A key under construction: pieces appended, too long is an error. */
struct key {
	char *p;
	size_t len;
	bool full;
};

static void kput(struct key *k, const char *s, size_t n)
{
	if (k->full || k->len + n + 1 >= KEY_MAX) {
		k->full = true;
		return;
	}
	memcpy(k->p + k->len, s, n);
	k->len += n;
	k->p[k->len] = '\0';
}

static void kstr(struct key *k, const char *s)
{
	kput(k, s ? s : "", s ? strlen(s) : 0);
}

static void kport(struct key *k, int port)
{
	char tmp[8];
	int i = sizeof(tmp);

	do
		tmp[--i] = (char)('0' + port % 10);
	while (port /= 10);
	kput(k, ":", 1);
	kput(k, tmp + i, sizeof(tmp) - (size_t)i);
}

/* RFC 3261 17.2.3: branch, sent-by and method; ACK matches INVITE. The
 * Call-ID is added: it never differs in a retransmission, and it keeps
 * apart requests of clients that reuse a branch (RFC 4475 does, many
 * times). The RFC 2543 fallback uses the dialog and CSeq identifiers. */
static int server_key(const struct sip_msg *m, const char *cls, char *buf)
{
	const struct sip_via *v = &m->via;
	const char *raw = m->raw;
	osip_generic_param_t *tag = NULL;
	struct key k = { .p = buf };

	if (!m->via_ok)
		return -EINVAL;
	if (is_3261_branch(raw + v->branch.off, v->branch.len)) {
		kput(&k, "S|", 2);
		kput(&k, raw + v->branch.off, v->branch.len);
	} else {
		osip_from_get_tag(m->osip->from, &tag);
		kput(&k, "S2|", 3);
		kstr(&k, m->osip->cseq->number);
		kput(&k, "|", 1);
		kstr(&k, tag ? tag->gvalue : NULL);
	}
	kput(&k, "|", 1);
	kput(&k, raw + v->host.off, v->host.len);
	kport(&k, v->port);
	kput(&k, "|", 1);
	kstr(&k, cls);
	kput(&k, "|", 1);
	kstr(&k, m->osip->call_id->number);
	return k.full ? -ENAMETOOLONG : 0;
}

static const char *method_class(const struct sip_msg *m)
{
	static char other[32];
	size_t n = m->scan->method.len;

	if (m->method == SIP_M_ACK)
		return "INVITE";
	if (m->method != SIP_M_OTHER)
		return sip_method_name(m->method);
	if (n >= sizeof(other))
		n = sizeof(other) - 1;
	memcpy(other, m->raw + m->scan->method.off, n);
	other[n] = '\0';
	return other;
}

struct sip_txn *sip_txn_match_request(const struct sip_msg *m)
{
	char key[KEY_MAX];

	if (server_key(m, method_class(m), key) < 0)
		return NULL;
	return table_find(key);
}

/* The INVITE server transaction a CANCEL names (RFC 3261 9.2). */
struct sip_txn *sip_txn_match_cancelled(const struct sip_msg *m)
{
	char key[KEY_MAX];

	if (server_key(m, "INVITE", key) < 0)
		return NULL;
	return table_find(key);
}

/* RFC 3261 17.1.3: the branch of the top Via and the CSeq method. */
static int client_key(const struct sip_msg *m, char *buf)
{
	const struct sip_via *v = &m->via;
	struct key k = { .p = buf };

	if (!m->via_ok || !m->osip->cseq->method)
		return -EINVAL;
	kput(&k, "C|", 2);
	kput(&k, m->raw + v->branch.off, v->branch.len);
	kput(&k, "|", 1);
	kstr(&k, m->osip->cseq->method);
	return k.full ? -ENAMETOOLONG : 0;
}

struct sip_txn *sip_txn_match_response(const struct sip_msg *m)
{
	char buf[KEY_MAX];

	return client_key(m, buf) < 0 ? NULL : table_find(buf);
}

/* ---- Timers ---------------------------------------------------------------- */

static void tv_after(struct timeval *tv, long long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	tv->tv_sec = ts.tv_sec + (time_t)(ms / 1000);
	tv->tv_usec = ts.tv_nsec / 1000 + (suseconds_t)(ms % 1000) * 1000;
	if (tv->tv_usec >= 1000000) {
		tv->tv_sec++;
		tv->tv_usec -= 1000000;
	}
}

static void tv_off(struct timeval *tv)
{
	tv->tv_sec = -1;
	tv->tv_usec = 0;
}

/* Timer lengths from the configuration (RFC 3261 17.1.1.2, 17.1.2.2,
 * 17.2.1, 17.2.2; Table 4). Reliable transports need no retransmission
 * and no absorbing waits. */
static void setup_timers(struct sip_txn *t)
{
	osip_transaction_t *o = t->otx;
	bool rel = sip_proto_reliable(t->peer.proto);
	int t1 = (int)sip_cfg->t1_ms, t4 = (int)sip_cfg->t4_ms;

	switch (o->ctx_type) {
	case ICT:
		o->ict_context->timer_a_length = rel ? -1 : t1;
		if (rel)
			tv_off(&o->ict_context->timer_a_start);
		else
			tv_after(&o->ict_context->timer_a_start, t1);
		o->ict_context->timer_b_length = 64 * t1;
		tv_after(&o->ict_context->timer_b_start, 64 * t1);
		o->ict_context->timer_d_length =
			rel ? 0 : (64 * t1 > 32000 ? 64 * t1 : 32000);
		tv_off(&o->ict_context->timer_d_start);
		break;
	case IST:
		o->ist_context->timer_g_length = rel ? -1 : t1;
		tv_off(&o->ist_context->timer_g_start);
		o->ist_context->timer_h_length = 64 * t1;
		tv_off(&o->ist_context->timer_h_start);
		o->ist_context->timer_i_length = rel ? 0 : t4;
		tv_off(&o->ist_context->timer_i_start);
		break;
	case NICT:
		o->nict_context->timer_e_length = rel ? -1 : t1;
		tv_off(&o->nict_context->timer_e_start);
		o->nict_context->timer_f_length = 64 * t1;
		tv_after(&o->nict_context->timer_f_start, 64 * t1);
		o->nict_context->timer_k_length = rel ? 0 : t4;
		tv_off(&o->nict_context->timer_k_start);
		break;
	case NIST:
		o->nist_context->timer_j_length = rel ? 0 : 64 * t1;
		tv_off(&o->nist_context->timer_j_start);
		break;
	}
}

/* libosip2 caps back-off at its built-in T2; use ours (RFC 3261 17.1.2.2
 * Timer E, 17.2.1 Timer G). `before` is the length before the event. */
static void fix_timers(struct sip_txn *t, type_t type, int before)
{
	osip_transaction_t *o = t->otx;
	int t2 = (int)sip_cfg->t2_ms, len;

	if (!o)
		return;
	if (o->ctx_type == NICT && type == TIMEOUT_E && before > 0) {
		len = o->state == NICT_TRYING ? 2 * before : t2;
		if (len > t2)
			len = t2;
		o->nict_context->timer_e_length = len;
		tv_after(&o->nict_context->timer_e_start, len);
	} else if (o->ctx_type == NICT && type == RCV_STATUS_1XX &&
		   o->nict_context->timer_e_length > 0) {
		o->nict_context->timer_e_length = t2;
		tv_after(&o->nict_context->timer_e_start, t2);
	} else if (o->ctx_type == IST && type == TIMEOUT_G && before > 0) {
		len = 2 * before > t2 ? t2 : 2 * before;
		o->ist_context->timer_g_length = len;
		tv_after(&o->ist_context->timer_g_start, len);
	}
}

struct due {
	uint64_t ms;
	type_t type;
	bool set;
};

static void consider(struct due *d, const struct timeval *tv, type_t type)
{
	uint64_t ms;

	if (tv->tv_sec == -1)
		return;
	ms = (uint64_t)tv->tv_sec * 1000 + (uint64_t)(tv->tv_usec + 999) / 1000;
	if (!d->set || ms < d->ms) {
		d->ms = ms;
		d->type = type;
		d->set = true;
	}
}

/* The machine's next timer in its state, as libosip2's need_timer
 * functions see them; on ties the ending timer wins (B over A). */
static struct due next_timer(const osip_transaction_t *o)
{
	struct due d = { 0 };

	switch (o->ctx_type) {
	case ICT:
		if (o->state == ICT_CALLING) {
			consider(&d, &o->ict_context->timer_b_start, TIMEOUT_B);
			consider(&d, &o->ict_context->timer_a_start, TIMEOUT_A);
		} else if (o->state == ICT_COMPLETED) {
			consider(&d, &o->ict_context->timer_d_start, TIMEOUT_D);
		}
		break;
	case IST:
		if (o->state == IST_COMPLETED) {
			consider(&d, &o->ist_context->timer_h_start, TIMEOUT_H);
			consider(&d, &o->ist_context->timer_g_start, TIMEOUT_G);
		} else if (o->state == IST_CONFIRMED) {
			consider(&d, &o->ist_context->timer_i_start, TIMEOUT_I);
		}
		break;
	case NICT:
		if (o->state == NICT_TRYING || o->state == NICT_PROCEEDING) {
			consider(&d, &o->nict_context->timer_f_start, TIMEOUT_F);
			consider(&d, &o->nict_context->timer_e_start, TIMEOUT_E);
		} else if (o->state == NICT_COMPLETED) {
			consider(&d, &o->nict_context->timer_k_start, TIMEOUT_K);
		}
		break;
	case NIST:
		if (o->state == NIST_COMPLETED)
			consider(&d, &o->nist_context->timer_j_start, TIMEOUT_J);
		break;
	}
	return d;
}

static osip_event_t *event_new(type_t type, osip_transaction_t *o,
			       osip_message_t *msg)
{
	osip_event_t *e = osip_malloc(sizeof(*e));

	if (!e)
		return NULL;
	e->type = type;
	e->transactionid = o->transactionid;
	e->sip = msg;
	return e;
}

static int timer_length_before(const osip_transaction_t *o, type_t type)
{
	if (type == TIMEOUT_E)
		return o->nict_context->timer_e_length;
	if (type == TIMEOUT_G)
		return o->ist_context->timer_g_length;
	return 0;
}

static void on_txn_timer(struct sip_tnode *node);

/* ---- Life and death ----------------------------------------------------------- */

static bool terminated(const osip_transaction_t *o)
{
	return o->state == ICT_TERMINATED || o->state == IST_TERMINATED ||
	       o->state == NICT_TERMINATED || o->state == NIST_TERMINATED;
}

static void txn_free(struct sip_txn *t)
{
	sip_timer_cancel(&t->timer);
	if (t->otx)
		osip_transaction_free2(t->otx);
	for (int i = 0; i < 2; i++)
		free(t->wire[i].data);
	sip_rsp_base_free(&t->rsp);
	free(t->key);
	free(t->call_id);
	free(t);
}

static void txn_destroy(struct sip_txn *t)
{
	const struct sip_txn_ops *ops = t->ops;

	t->dead = true;
	t->ops = NULL;
	if (ops && ops->terminated)
		ops->terminated(t, t->arg);
	table_del(t);
	txn_free(t);
}

/* ---- Waits: finished transactions as small records ----------------------- */

/*
 * The completed states of RFC 3261 17 only wait (Timers J, K, D, I; RFC
 * 6026's Accepted is Timer L): for retransmissions to absorb or to answer
 * with the bytes sent before. At a few thousand calls per second 64*T1 of
 * them are a few hundred thousand, so they leave libosip2's 15 KB machine
 * and the transaction behind and live on as this record: its key, where to
 * resend, what to resend.
 */
enum wait_kind {
	WAIT_ACCEPTED = 1, /* IST after a 2xx: absorb INVITEs (RFC 6026) */
	WAIT_NIST,	   /* resend the final response (Timer J) */
	WAIT_NICT,	   /* absorb responses (Timer K) */
	WAIT_ICT,	   /* resend the ACK of a non-2xx (Timer D) */
	WAIT_CONFIRMED,	   /* IST after the ACK: absorb ACKs (Timer I) */
};

struct sip_wait {
	struct sip_wait *hnext;
	uint32_t hash;
	uint8_t kind;
	uint8_t method; /* enum sip_method_id */
	enum sip_txn_kind txn_kind;
	uint32_t resend_len;
	uint64_t created_ms;
	struct sip_tnode timer;
	struct sip_peer peer;
	char data[]; /* the key, NUL, then the bytes to resend */
};

static struct sip_wait **wbuckets;
static size_t nwbuckets, nwaits;

static int wait_table_grow(void)
{
	size_t n = nwbuckets ? nwbuckets * 2 : 4096;
	struct sip_wait **b = calloc(n, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < nwbuckets; i++) {
		while (wbuckets[i]) {
			struct sip_wait *w = wbuckets[i];

			wbuckets[i] = w->hnext;
			w->hnext = b[w->hash & (n - 1)];
			b[w->hash & (n - 1)] = w;
		}
	}
	free(wbuckets);
	wbuckets = b;
	nwbuckets = n;
	return 0;
}

static void wait_del(struct sip_wait *w)
{
	struct sip_wait **pp = &wbuckets[w->hash & (nwbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == w) {
			*pp = w->hnext;
			nwaits--;
			return;
		}
	}
}

static void on_wait_timer(struct sip_tnode *node)
{
	struct sip_wait *w = (struct sip_wait *)((char *)node -
						 offsetof(struct sip_wait, timer));

	wait_del(w);
	free(w);
}

static struct sip_wait *wait_find(const char *key)
{
	uint32_t h = hash_key(key);

	if (!nwbuckets)
		return NULL;
	for (struct sip_wait *w = wbuckets[h & (nwbuckets - 1)]; w;
	     w = w->hnext)
		if (w->hash == h && strcmp(w->data, key) == 0)
			return w;
	return NULL;
}

size_t sip_txn_waiting(void)
{
	return nwaits;
}

static enum wait_kind wait_kind_of(const osip_transaction_t *o)
{
	switch ((int)o->state) {
	case NIST_COMPLETED: return WAIT_NIST;
	case NICT_COMPLETED: return WAIT_NICT;
	case ICT_COMPLETED: return WAIT_ICT;
	case IST_CONFIRMED: return WAIT_CONFIRMED;
	default: return 0;
	}
}

/* The transaction becomes a wait record until `due_ms`, then is gone. */
static void retire(struct sip_txn *t, enum wait_kind kind, uint64_t due_ms)
{
	int slot = kind == WAIT_NIST ? 0 : kind == WAIT_ICT ? 1 : -1;
	size_t key_len = strlen(t->key);
	size_t resend = slot >= 0 && t->wire[slot].data ? t->wire[slot].len : 0;
	struct sip_wait *w;

	if (nwaits >= nwbuckets)
		wait_table_grow();
	w = malloc(sizeof(*w) + key_len + 1 + resend);
	if (w && nwbuckets) {
		w->kind = (uint8_t)kind;
		w->method = (uint8_t)t->method;
		w->txn_kind = t->kind;
		w->resend_len = (uint32_t)resend;
		w->created_ms = t->created_ms;
		w->peer = t->peer;
		memcpy(w->data, t->key, key_len + 1);
		if (resend)
			memcpy(w->data + key_len + 1, t->wire[slot].data,
			       resend);
		w->hash = t->hash;
		w->hnext = wbuckets[w->hash & (nwbuckets - 1)];
		wbuckets[w->hash & (nwbuckets - 1)] = w;
		nwaits++;
		sip_tnode_init(&w->timer, on_wait_timer);
		sip_timer_at(&w->timer, due_ms);
	} else {
		free(w); /* out of memory: no wait, retransmissions are new */
	}
	txn_destroy(t);
}

/* After an event: arm the next timer, retire into a wait, or end the
 * transaction. Returns false when the transaction is gone. */
static bool txn_settle(struct sip_txn *t)
{
	enum wait_kind kind;
	struct due d;

	if (!terminated(t->otx)) {
		d = next_timer(t->otx);
		kind = wait_kind_of(t->otx);
		/* a wait of 0 (reliable transports) runs on the machine */
		if (kind && d.set && d.ms > sip_now_ms() + 1) {
			retire(t, kind, d.ms);
			return false;
		}
		if (d.set)
			sip_timer_at(&t->timer, d.ms);
		else
			sip_timer_cancel(&t->timer);
		return true;
	}
	if (t->kind == SIP_IST && t->last_status >= 200 &&
	    t->last_status < 300) {
		/* RFC 6026 7.1: Accepted, Timer L = 64*T1 */
		retire(t, WAIT_ACCEPTED, sip_now_ms() + 64 * sip_cfg->t1_ms);
		return false;
	}
	txn_destroy(t);
	return false;
}

/* RFC 3261 17.2.2: a NIST in Completed resends its response; 17.1.1.2:
 * an ICT in Completed resends the ACK; the other waits absorb. RFC 6026
 * 7.1: an ACK reaching Accepted is not absorbed: it goes to the core. */
bool sip_txn_absorb(const struct sip_msg *m)
{
	char key[KEY_MAX];
	struct sip_wait *w;
	bool resend;

	if (!nwaits)
		return false;
	if (m->scan->request) {
		if (server_key(m, method_class(m), key) < 0)
			return false;
	} else if (client_key(m, key) < 0) {
		return false;
	}
	w = wait_find(key);
	if (!w)
		return false;
	if (w->kind == WAIT_ACCEPTED && m->method == SIP_M_ACK)
		return false;
	resend = (w->kind == WAIT_NIST && m->scan->request) ||
		 (w->kind == WAIT_ICT && !m->scan->request &&
		  m->scan->status >= 300);
	if (!resend || !w->resend_len) {
		tnd_debug("a retransmission absorbed by a finished transaction");
		return true;
	}
	sip_count(sip_stats.retransmits);
	if (sip_send(&w->peer, w->data + strlen(w->data) + 1,
		     w->resend_len) < 0)
		sip_count(sip_stats.tx_errors);
	return true;
}

/* Run one event through the machine, then tell the user what happened. */
static bool run_event(struct sip_txn *t, osip_event_t *evt, struct sip_msg *m)
{
	type_t type = evt->type;
	int before = timer_length_before(t->otx, type);

	t->cb_rsp = NULL;
	t->cb_timeout = t->cb_transport_error = t->cb_ack = false;
	t->in_event = true;
	osip_transaction_execute(t->otx, evt);
	fix_timers(t, type, before);
	if (t->cb_rsp && t->ops && t->ops->response)
		t->ops->response(t, t->cb_rsp, m, t->arg);
	if ((t->cb_timeout || t->cb_transport_error) && t->ops &&
	    t->ops->timeout) {
		sip_count(sip_stats.txn_timeouts);
		t->ops->timeout(t, t->arg);
	}
	if (t->cb_ack && t->ops && t->ops->ack)
		t->ops->ack(t, t->arg);
	t->cb_rsp = NULL;
	t->in_event = false;
	return txn_settle(t);
}

static void on_txn_timer(struct sip_tnode *node)
{
	struct sip_txn *t = (struct sip_txn *)((char *)node -
					       offsetof(struct sip_txn, timer));
	struct due d;
	osip_event_t *evt;

	/* A timer of length 0 (reliable transports) fires at once; a few
	 * rounds cover a chain like K after COMPLETED. */
	for (int round = 0; round < 4; round++) {
		d = next_timer(t->otx);
		if (!d.set)
			return;
		if (d.ms > sip_now_ms() + 1) {
			sip_timer_at(&t->timer, d.ms);
			return;
		}
		evt = event_new(d.type, t->otx, NULL);
		if (!evt) {
			sip_timer_at(&t->timer, sip_now_ms() + 10);
			return;
		}
		if (!run_event(t, evt, NULL))
			return;
	}
}

static struct sip_txn *txn_alloc(enum sip_txn_kind kind,
				 enum sip_method_id method, const char *key)
{
	struct sip_txn *t;

	if (ntxns >= sip_cfg->max_transactions) {
		tnd_notice("max_transactions (%llu) reached",
			   sip_cfg->max_transactions);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->key = strdup(key);
	if (!t->key) {
		free(t);
		return NULL;
	}
	t->id = next_id++;
	t->kind = kind;
	t->method = method;
	t->created_ms = sip_now_ms();
	sip_tnode_init(&t->timer, on_txn_timer);
	return t;
}

static int attach_machine(struct sip_txn *t, osip_message_t *req)
{
	osip_transaction_t *o;

	if (osip_transaction_init(&o, (osip_fsm_type_t)t->kind, osip,
				  req) != 0)
		return -EINVAL;
	/* out of libosip2's lists: we match and time it ourselves */
	osip_remove_transaction(osip, o);
	osip_transaction_set_reserved1(o, t);
	t->otx = o;
	if (req->call_id && req->call_id->number)
		t->call_id = strdup(req->call_id->number);
	setup_timers(t);
	return 0;
}

static type_t incoming_type(const osip_message_t *msg)
{
	if (MSG_IS_REQUEST(msg))
		return MSG_IS_INVITE(msg) ? RCV_REQINVITE :
		       MSG_IS_ACK(msg)	  ? RCV_REQACK :
					    RCV_REQUEST;
	return MSG_IS_STATUS_1XX(msg) ? RCV_STATUS_1XX :
	       MSG_IS_STATUS_2XX(msg) ? RCV_STATUS_2XX :
					RCV_STATUS_3456XX;
}

static type_t outgoing_type(const osip_message_t *msg)
{
	if (MSG_IS_REQUEST(msg))
		return MSG_IS_INVITE(msg) ? SND_REQINVITE :
		       MSG_IS_ACK(msg)	  ? SND_REQACK :
					    SND_REQUEST;
	return MSG_IS_STATUS_1XX(msg) ? SND_STATUS_1XX :
	       MSG_IS_STATUS_2XX(msg) ? SND_STATUS_2XX :
					SND_STATUS_3456XX;
}

/* ---- Server transactions --------------------------------------------------------- */

struct sip_txn *sip_txn_server_new(struct sip_msg *m,
				   const struct sip_txn_ops *ops, void *arg)
{
	char key[KEY_MAX];
	struct sip_txn *t;
	osip_event_t *evt;

	if (server_key(m, method_class(m), key) < 0) {
		sip_reply_stateless(m, 400, "Via Too Long", NULL);
		return NULL;
	}
	t = txn_alloc(m->method == SIP_M_INVITE ? SIP_IST : SIP_NIST,
		      m->method, key);
	if (!t) {
		sip_reply_stateless(m, 503, NULL, "Retry-After: 5\r\n");
		return NULL;
	}
	sip_msg_reply_peer(m, &t->peer);
	sip_random_token(t->to_tag, 17);
	if (sip_rsp_base_build(&t->rsp, m) < 0 ||
	    attach_machine(t, m->osip) < 0 ||
	    !(evt = event_new(incoming_type(m->osip), t->otx, m->osip))) {
		sip_reply_stateless(m, 500, NULL, NULL);
		txn_free(t);
		return NULL;
	}
	/* the machine keeps it as orig_request; the caller may still read
	 * it until it returns */
	m->osip_borrowed = true;
	t->ops = ops;
	t->arg = arg;
	table_add(t);
	sip_count(sip_stats.txn_created);
	return run_event(t, evt, m) ? t : NULL;
}

/* Can the machine send a response now (IST Proceeding, NIST Trying or
 * Proceeding)? */
static bool can_respond(const struct sip_txn *t)
{
	const osip_transaction_t *o = t->otx;

	if (!o || t->in_event)
		return false;
	if (o->ctx_type == IST)
		return o->state == IST_PROCEEDING;
	if (o->ctx_type == NIST)
		return o->state == NIST_TRYING || o->state == NIST_PROCEEDING;
	return false;
}

int sip_txn_respond_msg(struct sip_txn *t, osip_message_t *rsp,
			const char *wire, size_t wire_len)
{
	osip_event_t *evt;
	char *copy;

	if (!can_respond(t)) {
		osip_message_free(rsp);
		return -EALREADY;
	}
	copy = malloc(wire_len + 1);
	evt = copy ? event_new(outgoing_type(rsp), t->otx, rsp) : NULL;
	if (!evt) {
		free(copy);
		osip_message_free(rsp);
		return -ENOMEM;
	}
	memcpy(copy, wire, wire_len);
	copy[wire_len] = '\0';
	free(t->wire[0].data);
	t->wire[0].msg = rsp;
	t->wire[0].data = copy;
	t->wire[0].len = wire_len;
	t->wire[0].sent = false;
	t->last_status = rsp->status_code;
	run_event(t, evt, NULL);
	return 0;
}

/* The libosip2 side of a locally built response: what the IST/NIST
 * machines look at (status, top Via, CSeq). */
osip_message_t *sip_txn_machine_response(const struct sip_txn *t, int code,
					const char *reason)
{
	osip_message_t *r;
	osip_via_t *via;

	if (osip_message_init(&r) != 0)
		return NULL;
	r->status_code = code;
	r->sip_version = osip_strdup("SIP/2.0");
	r->reason_phrase = osip_strdup(reason);
	if (osip_via_clone(t->otx->topvia, &via) != 0) {
		osip_message_free(r);
		return NULL;
	}
	osip_list_add(&r->vias, via, -1);
	if (osip_cseq_clone(t->otx->cseq, &r->cseq) != 0) {
		osip_message_free(r);
		return NULL;
	}
	return r;
}

int sip_txn_respond(struct sip_txn *t, int code, const char *reason,
		    const char *extra_hdrs, const char *body_type,
		    const char *body, size_t body_len)
{
	struct sip_buf out = { 0 };
	osip_message_t *r;
	int rc;

	if (!can_respond(t))
		return -EALREADY;
	if (!reason)
		reason = sip_reason(code);
	rc = sip_rsp_build(&out, &t->rsp, code, reason, t->to_tag, extra_hdrs,
			   body_type, body, body_len);
	r = rc == 0 ? sip_txn_machine_response(t, code, reason) : NULL;
	rc = r ? sip_txn_respond_msg(t, r, out.data, out.len) : -ENOMEM;
	sip_buf_free(&out);
	return rc;
}

/* ---- Client transactions --------------------------------------------------------- */

struct sip_txn *sip_txn_client_new(osip_message_t *req, const char *wire,
				   size_t wire_len, const char *branch,
				   const struct sip_peer *to,
				   const struct sip_txn_ops *ops, void *arg)
{
	enum sip_method_id method = sip_method_lookup(req->sip_method,
						      strlen(req->sip_method));
	char buf[KEY_MAX];
	struct key k = { .p = buf };
	struct sip_txn *t;
	osip_event_t *evt;

	kput(&k, "C|", 2);
	kstr(&k, branch);
	kput(&k, "|", 1);
	kstr(&k, req->sip_method);
	t = !k.full ? txn_alloc(method == SIP_M_INVITE ? SIP_ICT : SIP_NICT,
				method, buf) : NULL;
	if (!t) {
		osip_message_free(req);
		return NULL;
	}
	t->peer = *to;
	t->wire[0].data = malloc(wire_len + 1);
	if (!t->wire[0].data || attach_machine(t, req) < 0 ||
	    !(evt = event_new(outgoing_type(req), t->otx, req))) {
		txn_free(t);
		osip_message_free(req);
		return NULL;
	}
	memcpy(t->wire[0].data, wire, wire_len);
	t->wire[0].data[wire_len] = '\0';
	t->wire[0].len = wire_len;
	t->wire[0].msg = req;
	table_add(t);
	sip_count(sip_stats.txn_created);
	/* The user hears nothing of a send that fails at once: NULL says it */
	if (!run_event(t, evt, NULL))
		return NULL;
	if (t->otx->state != ICT_CALLING && t->otx->state != NICT_TRYING) {
		txn_destroy(t);
		return NULL;
	}
	t->ops = ops;
	t->arg = arg;
	return t;
}

osip_message_t *sip_txn_take_request(struct sip_txn *t)
{
	osip_message_t *req;

	if (!t->otx || !t->otx->orig_request)
		return NULL;
	req = t->otx->orig_request;
	t->otx->orig_request = NULL;
	return req;
}

osip_message_t *sip_txn_take_response(struct sip_txn *t)
{
	osip_message_t *rsp;

	if (!t->otx || !t->otx->last_response)
		return NULL;
	rsp = t->otx->last_response;
	t->otx->last_response = NULL;
	t->cb_rsp = NULL;
	return rsp;
}

void sip_txn_detach(struct sip_txn *t)
{
	t->ops = NULL;
	t->arg = NULL;
}

bool sip_txn_is_final(const struct sip_txn *t)
{
	return t->last_status >= 200;
}

/* ---- Input ---------------------------------------------------------------- */

void sip_txn_input(struct sip_txn *t, struct sip_msg *m)
{
	osip_event_t *evt;

	if (!t->otx)
		return;
	if (m->osip->status_code)
		t->last_status = m->osip->status_code;
	evt = event_new(incoming_type(m->osip), t->otx, m->osip);
	if (!evt)
		return;
	m->osip = NULL; /* the machine keeps or frees it */
	run_event(t, evt, m);
}

/* ---- libosip2 callbacks ------------------------------------------------------ */

static struct sip_txn *txn_of(osip_transaction_t *o)
{
	return o ? osip_transaction_get_reserved1(o) : NULL;
}

static void on_response(int type, osip_transaction_t *o, osip_message_t *msg)
{
	struct sip_txn *t = txn_of(o);

	(void)type;
	if (t)
		t->cb_rsp = msg;
}

static void on_timeout(int type, osip_transaction_t *o, osip_message_t *msg)
{
	struct sip_txn *t = txn_of(o);

	(void)type, (void)msg;
	if (t)
		t->cb_timeout = true;
}

static void on_ack(int type, osip_transaction_t *o, osip_message_t *msg)
{
	struct sip_txn *t = txn_of(o);

	(void)type, (void)msg;
	if (t)
		t->cb_ack = true;
}

static void on_transport_error(int type, osip_transaction_t *o, int error)
{
	struct sip_txn *t = txn_of(o);

	(void)type;
	if (t) {
		t->cb_transport_error = true;
		tnd_debug("transaction %u: transport error %d", t->id, error);
	}
}

static void count_sent(const osip_message_t *msg)
{
	if (MSG_IS_REQUEST(msg))
		sip_count(sip_stats.tx_req[sip_method_lookup(
			msg->sip_method, strlen(msg->sip_method))]);
	else if (msg->status_code >= 100 && msg->status_code < 700)
		sip_count(sip_stats.tx_rsp[msg->status_code / 100]);
}

/* libosip2 sends through here; host/port are ignored: the transaction
 * knows its peer (and the connection) better. */
static int send_message(osip_transaction_t *o, osip_message_t *msg,
			char *host, int port, int sock)
{
	struct sip_txn *t = txn_of(o);
	int slot = -1, rc;
	char *data;
	size_t len;

	(void)host, (void)port, (void)sock;
	if (!t)
		return -1;
	for (int i = 0; i < 2; i++)
		if (t->wire[i].msg == msg && t->wire[i].data)
			slot = i;
	if (slot < 0) {
		/* built by the machine itself: the ACK of a non-2xx */
		if (osip_message_to_str(msg, &data, &len) != 0)
			return -1;
		slot = 1;
		free(t->wire[1].data);
		t->wire[1].data = malloc(len + 1);
		if (t->wire[1].data)
			memcpy(t->wire[1].data, data, len + 1);
		osip_free(data);
		if (!t->wire[1].data)
			return -1;
		t->wire[1].msg = msg;
		t->wire[1].len = len;
		t->wire[1].sent = false;
	}
	/* retransmissions are counted by the SENT_AGAIN callbacks */
	if (!t->wire[slot].sent)
		count_sent(msg);
	t->wire[slot].sent = true;
	rc = sip_send(&t->peer, t->wire[slot].data, t->wire[slot].len);
	if (rc < 0) {
		char addr[64];

		sip_count(sip_stats.tx_errors);
		sip_addr_str(&t->peer.addr, addr, sizeof(addr));
		tnd_info("transaction %u: cannot send to %s %s: %s", t->id,
			 sip_proto_name(t->peer.proto), addr, strerror(-rc));
		return -1;
	}
	return 0;
}

static void on_sent_again(int type, osip_transaction_t *o,
			  osip_message_t *msg)
{
	(void)type, (void)o, (void)msg;
	sip_count(sip_stats.retransmits);
}

int sip_txn_init(void)
{
	static const int responses[] = {
		OSIP_ICT_STATUS_1XX_RECEIVED, OSIP_ICT_STATUS_2XX_RECEIVED,
		OSIP_ICT_STATUS_3XX_RECEIVED, OSIP_ICT_STATUS_4XX_RECEIVED,
		OSIP_ICT_STATUS_5XX_RECEIVED, OSIP_ICT_STATUS_6XX_RECEIVED,
		OSIP_NICT_STATUS_1XX_RECEIVED, OSIP_NICT_STATUS_2XX_RECEIVED,
		OSIP_NICT_STATUS_3XX_RECEIVED, OSIP_NICT_STATUS_4XX_RECEIVED,
		OSIP_NICT_STATUS_5XX_RECEIVED, OSIP_NICT_STATUS_6XX_RECEIVED,
	};
	static const int again[] = {
		OSIP_ICT_INVITE_SENT_AGAIN, OSIP_ICT_ACK_SENT_AGAIN,
		OSIP_IST_STATUS_2XX_SENT_AGAIN,
		OSIP_IST_STATUS_3456XX_SENT_AGAIN,
		OSIP_NICT_REQUEST_SENT_AGAIN,
		OSIP_NIST_STATUS_2XX_SENT_AGAIN,
		OSIP_NIST_STATUS_3456XX_SENT_AGAIN,
	};
	if (osip_init(&osip) != 0)
		return -ENOMEM;
	osip_set_cb_send_message(osip, send_message);
	for (size_t i = 0; i < SIP_ARRAY_SIZE(responses); i++)
		osip_set_message_callback(osip, responses[i], on_response);
	for (size_t i = 0; i < SIP_ARRAY_SIZE(again); i++)
		osip_set_message_callback(osip, again[i], on_sent_again);
	osip_set_message_callback(osip, OSIP_ICT_STATUS_TIMEOUT, on_timeout);
	osip_set_message_callback(osip, OSIP_NICT_STATUS_TIMEOUT, on_timeout);
	osip_set_message_callback(osip, OSIP_IST_ACK_RECEIVED, on_ack);
	for (int i = 0; i < OSIP_TRANSPORT_ERROR_CALLBACK_COUNT; i++)
		osip_set_transport_error_callback(osip, i, on_transport_error);
	return table_grow();
}

void sip_txn_fini(void)
{
	for (size_t i = 0; i < nbuckets; i++) {
		while (buckets[i]) {
			struct sip_txn *t = buckets[i];

			buckets[i] = t->hnext;
			ntxns--;
			t->dead = true;
			if (t->ops && t->ops->terminated)
				t->ops->terminated(t, t->arg);
			txn_free(t);
		}
	}
	free(buckets);
	buckets = NULL;
	nbuckets = 0;
	for (size_t i = 0; i < nwbuckets; i++) {
		while (wbuckets[i]) {
			struct sip_wait *w = wbuckets[i];

			wbuckets[i] = w->hnext;
			sip_timer_cancel(&w->timer);
			free(w);
		}
	}
	free(wbuckets);
	wbuckets = NULL;
	nwbuckets = nwaits = 0;
	if (osip)
		osip_release(osip);
	osip = NULL;
}

/* ---- Control ------------------------------------------------------------------ */

static const char *const state_names[] = {
	[ICT_PRE_CALLING] = "pre-calling", [ICT_CALLING] = "calling",
	[ICT_PROCEEDING] = "proceeding", [ICT_COMPLETED] = "completed",
	[ICT_TERMINATED] = "terminated",
	[IST_PRE_PROCEEDING] = "pre-proceeding",
	[IST_PROCEEDING] = "proceeding", [IST_COMPLETED] = "completed",
	[IST_CONFIRMED] = "confirmed", [IST_TERMINATED] = "terminated",
	[NICT_PRE_TRYING] = "pre-trying", [NICT_TRYING] = "trying",
	[NICT_PROCEEDING] = "proceeding", [NICT_COMPLETED] = "completed",
	[NICT_TERMINATED] = "terminated", [NIST_PRE_TRYING] = "pre-trying",
	[NIST_TRYING] = "trying", [NIST_PROCEEDING] = "proceeding",
	[NIST_COMPLETED] = "completed", [NIST_TERMINATED] = "terminated",
};

const char *sip_txn_state_name(const struct sip_txn *t)
{
	if (!t->otx || (size_t)t->otx->state >= SIP_ARRAY_SIZE(state_names))
		return "?";
	return state_names[t->otx->state];
}

static const char *kind_name(enum sip_txn_kind k)
{
	return k == SIP_ICT ? "ICT" : k == SIP_IST ? "IST" :
	       k == SIP_NICT ? "NICT" : "NIST";
}

static const char *const wait_state[] = {
	[WAIT_ACCEPTED] = "accepted", [WAIT_NIST] = "completed",
	[WAIT_NICT] = "completed", [WAIT_ICT] = "completed",
	[WAIT_CONFIRMED] = "confirmed",
};

static void show_txn(struct tnd_reply *r, const struct sip_txn *t,
		     uint64_t now)
{
	char peer[64];

	sip_addr_str(&t->peer.addr, peer, sizeof(peer));
	sip_host->reply_record(r);
	sip_host->reply_field_num(r, "id", t->id);
	sip_host->reply_field(r, "type", "%s", kind_name(t->kind));
	sip_host->reply_field(r, "state", "%s", sip_txn_state_name(t));
	sip_host->reply_field(r, "method", "%s", sip_method_name(t->method));
	sip_host->reply_field(r, "call_id", "%s", t->call_id ? t->call_id : "-");
	sip_host->reply_field_num(r, "status", t->last_status);
	sip_host->reply_field(r, "peer", "%s %s", sip_proto_name(t->peer.proto),
			      peer);
	sip_host->reply_field_num(r, "age_ms",
				  (long long)(now - t->created_ms));
}

/* A wait shows what its key holds: method and Call-ID. */
static void show_wait(struct tnd_reply *r, const struct sip_wait *w,
		      uint64_t now)
{
	const char *cid = strrchr(w->data, '|');
	char peer[64];

	sip_addr_str(&w->peer.addr, peer, sizeof(peer));
	sip_host->reply_record(r);
	sip_host->reply_field_num(r, "id", 0);
	sip_host->reply_field(r, "type", "%s", kind_name(w->txn_kind));
	sip_host->reply_field(r, "state", "%s", wait_state[w->kind]);
	sip_host->reply_field(r, "method", "%s",
			      sip_method_name((enum sip_method_id)w->method));
	sip_host->reply_field(r, "call_id", "%s",
			      w->data[0] == 'S' && cid ? cid + 1 : "-");
	sip_host->reply_field_num(r, "status", 0);
	sip_host->reply_field(r, "peer", "%s %s", sip_proto_name(w->peer.proto),
			      peer);
	sip_host->reply_field_num(r, "age_ms",
				  (long long)(now - w->created_ms));
}

void sip_show_transactions(struct tnd_reply *r, unsigned limit)
{
	uint64_t now = sip_now_ms();
	unsigned shown = 0;

	for (size_t i = 0; i < nbuckets && shown < limit; i++)
		for (struct sip_txn *t = buckets[i]; t && shown < limit;
		     t = t->hnext, shown++)
			show_txn(r, t, now);
	for (size_t i = 0; i < nwbuckets && shown < limit; i++)
		for (struct sip_wait *w = wbuckets[i]; w && shown < limit;
		     w = w->hnext, shown++)
			show_wait(r, w, now);
}
