/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_int: what the files of the sip plugin share (never installed).
 *
 * The layers, bottom up:
 *   sip_scan       bytes: framing, header offsets, strict checks
 *   sip_timer      one host timer driving a heap of deadlines
 *   sip_transport  UDP/TCP listeners and connections, send
 *   sip_msg        one received message: bytes + scan + libosip2 parse
 *   sip_txn        RFC 3261 17 transactions on libosip2's state machines
 *   sip_core       what arrives: matching, checks, handlers, default UAS
 *   sip_proxy      RFC 3261 16 stateful/stateless proxy
 *   sip_service    the "sip" service other plugins call (tandem/sip.h)
 *   sip.c          the plugin: parameters, commands, counters, lifecycle
 * Everything runs on the node's loop thread.
 */
#ifndef SIP_INT_H
#define SIP_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <osip2/osip.h>
#include <osipparser2/osip_parser.h>

#include "tandem/plugin.h"
#include "sip_scan.h"

extern const struct tnd_host_api *sip_host;
#define TND_LOG_HOST sip_host
#define TND_LOG_CATEGORY "sip"

TND_PLUGIN_DECLARE(sip);
#define SIP_SELF (&TND_PLUGIN_SYMBOL(sip))

#define SIP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Configuration ([sip] section) -------------------------------------- */

struct sip_cfg {
	char *listen;
	char *advertise;
	unsigned long long t1_ms, t2_ms, t4_ms;
	unsigned long long max_message_size;
	unsigned long long conn_buffer_max;
	unsigned long long idle_timeout_ms;
	unsigned long long message_timeout_ms;
	unsigned long long max_connections;
	unsigned long long max_connections_per_ip;
	unsigned long long max_transactions;
	char *mode;
	char *next_hop;
	char *aliases;
	char *hosts;
	int record_route;
	unsigned long long timer_c_ms;
	int recurse_3xx;
	char *tls_cert, *tls_key, *tls_ca;
	int tls_verify_client, tls_verify_server;
	char *tls_min_version;
	char *dns_servers;
	unsigned long long dns_cache_ms;
	unsigned long long session_expires, min_se;
	unsigned long long udp_batch;
};

extern struct sip_cfg *sip_cfg;

/* ---- libosip2's allocator (sip_alloc.c) ---------------------------------- */

void sip_alloc_install(void);
void sip_alloc_uninstall(void);

/* ---- Counters ------------------------------------------------------------ */

enum sip_method_id {
	SIP_M_INVITE, SIP_M_ACK, SIP_M_BYE, SIP_M_CANCEL, SIP_M_OPTIONS,
	SIP_M_REGISTER, SIP_M_PRACK, SIP_M_UPDATE, SIP_M_INFO, SIP_M_MESSAGE,
	SIP_M_SUBSCRIBE, SIP_M_NOTIFY, SIP_M_REFER, SIP_M_PUBLISH,
	SIP_M_OTHER, SIP_M__COUNT
};

const char *sip_method_name(enum sip_method_id m);
enum sip_method_id sip_method_lookup(const char *name, size_t len);

struct sip_stats {
	struct tnd_counter *rx_req[SIP_M__COUNT];
	struct tnd_counter *tx_req[SIP_M__COUNT];
	struct tnd_counter *rx_rsp[7]; /* [1..6]: 1xx..6xx */
	struct tnd_counter *tx_rsp[7];
	struct tnd_counter *rx_bad_req;	   /* answered 4xx/5xx by the checks */
	struct tnd_counter *rx_bad_rsp;	   /* discarded */
	struct tnd_counter *rx_dropped;	   /* dropped, not even answerable */
	struct tnd_counter *rx_stray_rsp;  /* matched no transaction */
	struct tnd_counter *retransmits;   /* sent again by the timers */
	struct tnd_counter *rx_oversize;
	struct tnd_counter *conn_refused;
	struct tnd_counter *conn_closed_limit;
	struct tnd_counter *tx_errors;
	struct tnd_counter *txn_created;
	struct tnd_counter *txn_timeouts;
	struct tnd_counter *fwd_stateless;
	struct tnd_counter *fwd_stateful;
};

extern struct sip_stats sip_stats;
int sip_stats_init(void);

static inline void sip_count(struct tnd_counter *c)
{
	sip_host->counter_add(c, 1);
}

/* ---- Timers (sip_timer.c) ----------------------------------------------- */

struct sip_tnode;
typedef void (*sip_tnode_cb)(struct sip_tnode *node);

struct sip_tnode {
	uint64_t due_ms; /* on the monotonic clock of sip_now_ms() */
	size_t idx;	 /* position in the heap, or SIZE_MAX */
	sip_tnode_cb cb;
};

uint64_t sip_now_ms(void);
void sip_tnode_init(struct sip_tnode *node, sip_tnode_cb cb);
void sip_timer_at(struct sip_tnode *node, uint64_t due_ms);
void sip_timer_cancel(struct sip_tnode *node);
static inline bool sip_timer_armed(const struct sip_tnode *node)
{
	return node->idx != (size_t)-1;
}
int sip_timers_start(void);
void sip_timers_stop(void);
size_t sip_timers_count(void);

/* ---- Transport (sip_transport.c) ---------------------------------------- */

enum sip_proto { SIP_UDP = 0, SIP_TCP, SIP_TLS, SIP_PROTO__COUNT };

const char *sip_proto_name(enum sip_proto p);
int sip_proto_parse(const char *text, size_t len, enum sip_proto *p);
static inline bool sip_proto_reliable(enum sip_proto p)
{
	return p != SIP_UDP;
}

/* An IPv4 or IPv6 address and port (no sockaddr_storage: transactions
 * keep one each, and many wait in the completed states). */
struct sip_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} u;
	socklen_t len;
};

/* "1.2.3.4" / "::1" and the port of an address. */
void sip_addr_ip(const struct sip_addr *a, char *buf, size_t size);
int sip_addr_port(const struct sip_addr *a);
/* "1.2.3.4:5060" or "[::1]:5060" */
void sip_addr_str(const struct sip_addr *a, char *buf, size_t size);
bool sip_addr_eq(const struct sip_addr *a, const struct sip_addr *b);
/* Numeric host (IPv6 with or without brackets) and port into an address. */
int sip_addr_from(struct sip_addr *a, const char *host, size_t host_len,
		  int port);

struct sip_listener {
	struct sip_listener *next;
	enum sip_proto proto;
	int fd;
	struct tnd_io *io;
	struct sip_addr local;
	char host[64];	    /* advertised host: "127.0.0.1" or "[::1]" */
	int port;	    /* advertised port */
	char via[112];	    /* "Via: SIP/2.0/UDP host:port;branch=" */
	char rr[128];	    /* "Record-Route: <sip:host:port;lr>\r\n" */
	uint64_t rx_msgs, tx_msgs;
};

extern struct sip_listener *sip_listeners;

/* Where a message came from or goes to. */
struct sip_peer {
	enum sip_proto proto;
	struct sip_addr addr;
	struct sip_listener *listener; /* local side; may be NULL to pick */
	unsigned conn_id;	       /* stream connection, 0 if none */
};

int sip_transport_start(void);
void sip_transport_stop(void);
/* Send bytes; streams queue them. 0 or -errno (logged by the caller). */
int sip_send(struct sip_peer *dst, const char *buf, size_t len);
/* sip_tls_peer_is() for stream connection `conn_id` (-ENOENT: not TLS,
 * gone, still in its handshake). */
int sip_conn_tls_peer_is(unsigned conn_id, const char *name);
/* "udp:127.0.0.1:5060" / "tcp:[::1]:5060" into a peer. 0 or -EINVAL. */
int sip_peer_parse(const char *text, struct sip_peer *p);
/* A listener of `proto` and the address family of `addr`, or NULL. */
struct sip_listener *sip_listener_for(enum sip_proto proto,
				      const struct sip_addr *addr);
/* The local side requests to `addr` over `proto` leave by: a listener,
 * or for a stream we do not listen on, a client-only side named after a
 * listener of the same family (its Via port is the default one). */
struct sip_listener *sip_listener_out(enum sip_proto proto,
				      const struct sip_addr *addr);
/* Is host:port (port 0: any) one of our listeners or aliases? */
bool sip_is_local(const char *host, size_t host_len, int port);
size_t sip_conn_count(void);

/* ---- TLS (sip_tls.c) ------------------------------------------------------ */

typedef struct ssl_st SSL;

/* Contexts from the configuration; `listening`: a TLS listener needs the
 * server side (certificate and key). 0 or -EINVAL (logged). */
int sip_tls_init(bool listening);
void sip_tls_fini(void);
SSL *sip_tls_new(int fd, bool server, const struct sip_addr *peer);
void sip_tls_free(SSL *ssl);
/* 1 done, 0 in progress (*want: TND_IO_*), -1 failed (why). */
int sip_tls_handshake(SSL *ssl, int *want, char *why, size_t size);
/* Bytes, 0 closed, -1 failed (why), -2 in progress (*want). */
long sip_tls_read(SSL *ssl, void *buf, size_t len, int *want, char *why,
		  size_t size);
long sip_tls_write(SSL *ssl, const void *buf, size_t len, int *want,
		   char *why, size_t size);
bool sip_tls_pending(SSL *ssl);
void sip_tls_describe(SSL *ssl, char *buf, size_t size);
int sip_tls_peer_is(SSL *ssl, const char *name);

struct tnd_reply;
void sip_show_listeners(struct tnd_reply *r);
void sip_show_connections(struct tnd_reply *r);

/* ---- Messages (sip_msg.c) ----------------------------------------------- */

/*
 * A growable output buffer. Functions append; `failed` sticks after an
 * allocation failure so callers check once at the end.
 */
struct sip_buf {
	char *data;
	size_t len, cap;
	bool failed;
};

void sip_buf_add(struct sip_buf *b, const void *data, size_t n);
void sip_buf_str(struct sip_buf *b, const char *text);
void sip_buf_printf(struct sip_buf *b, const char *fmt, ...)
	TND_PRINTF(2, 3);
void sip_buf_num(struct sip_buf *b, unsigned long v);
void sip_buf_free(struct sip_buf *b);


/*
 * One received message while it is processed. The bytes and the scan
 * belong to the transport's buffer and live only for the processing; the
 * libosip2 message is owned by whoever takes it (a transaction) or freed
 * with the sip_msg.
 */
struct sip_msg {
	const char *raw;
	size_t len;
	struct sip_scan *scan;
	osip_message_t *osip;
	bool osip_borrowed;   /* owned by a transaction now */
	struct sip_peer src;
	struct sip_via via;   /* top Via */
	bool via_ok;
	enum sip_method_id method;
	/* for the RFC 3581 / 18.2.1 edit of the top Via */
	bool add_received;
	char received[48];
};

/* Flags of sip_core_input() and sip_msg_parse(). */
enum sip_in_flags {
	SIP_IN_NO_LENGTH = 1 << 0, /* stream message without Content-Length
				    * and bytes after its headers */
};

/* Scan, check and parse; 0, or -1 after answering or dropping (logged). */
int sip_msg_parse(struct sip_msg *m, unsigned flags);
void sip_msg_release(struct sip_msg *m);
/* The top Via line of a request with received/rport set (RFC 3261
 * 18.2.1, RFC 3581 4), for responses and forwarded requests alike. */
void sip_msg_put_top_via(struct sip_buf *b, const struct sip_msg *m,
			 const struct sip_hdr *h);
/* Where responses to this request go (RFC 3261 18.2.2, RFC 3581). */
void sip_msg_reply_peer(const struct sip_msg *m, struct sip_peer *dst);

/*
 * The header lines a response copies from its request (RFC 3261 8.2.6.2):
 * Via (top one with received/rport), From, Call-ID, CSeq; To separately
 * so a tag can be added. Built once per server transaction.
 */
struct sip_rsp_base {
	char *hdrs;
	size_t hdrs_len;
	char *to;     /* the To line without its CRLF */
	size_t to_len;
	bool to_tag;  /* the To already has a tag */
};

int sip_rsp_base_build(struct sip_rsp_base *rb, const struct sip_msg *req);
void sip_rsp_base_free(struct sip_rsp_base *rb);
/* Build a response; `tag` is used when the To has none (code > 100). */
int sip_rsp_build(struct sip_buf *out, const struct sip_rsp_base *rb,
		  int code, const char *reason, const char *tag,
		  const char *extra_hdrs, const char *body_type,
		  const char *body, size_t body_len);
const char *sip_reason(int code);
/* Answer a request without a transaction (errors before matching). */
void sip_reply_stateless(const struct sip_msg *req, int code,
			 const char *reason, const char *extra_hdrs);
/* A random token for tags and branches (hex, NUL-terminated). */
void sip_random_token(char *buf, size_t size);

/* ---- Transactions (sip_txn.c) ------------------------------------------- */

struct sip_txn;

/* What a transaction user (core, proxy, service) hears. */
struct sip_txn_ops {
	/* client: a response arrived (not a retransmission absorbed by
	 * the transaction). `rsp` belongs to the transaction; `msg` is the
	 * message being processed (its bytes). */
	void (*response)(struct sip_txn *t, osip_message_t *rsp,
			 struct sip_msg *msg, void *arg);
	/* client: no final response (Timer B/F) or transport error */
	void (*timeout)(struct sip_txn *t, void *arg);
	/* server: ACK for a non-2xx final response arrived */
	void (*ack)(struct sip_txn *t, void *arg);
	/* either: the transaction ends; drop references to it */
	void (*terminated)(struct sip_txn *t, void *arg);
};

enum sip_txn_kind { SIP_ICT = ICT, SIP_IST = IST, SIP_NICT = NICT,
		    SIP_NIST = NIST };



struct sip_txn {
	struct sip_txn *hnext;
	uint32_t hash;
	char *key;
	char *call_id;		 /* for the control commands */
	unsigned id;
	enum sip_txn_kind kind;
	osip_transaction_t *otx; /* NULL once terminated (lingering) */
	struct sip_tnode timer;
	struct sip_peer peer;	 /* server: reply to; client: next hop */
	enum sip_method_id method;
	uint64_t created_ms;
	/* bytes sent for the messages the state machine retransmits */
	struct {
		osip_message_t *msg;
		char *data;
		size_t len;
		bool sent;
	} wire[2];
	struct sip_rsp_base rsp;  /* server transactions */
	char to_tag[20];	  /* our To tag for local responses */
	int last_status;	  /* last response sent or received */
	const struct sip_txn_ops *ops;
	void *arg;
	/* filled by libosip2's callbacks during an event */
	osip_message_t *cb_rsp;
	bool cb_timeout, cb_transport_error, cb_ack;
	bool in_event;
	bool dead;
};

int sip_txn_init(void);
void sip_txn_fini(void);
size_t sip_txn_count(void);
size_t sip_txn_waiting(void);

/* Find the server transaction of a request (RFC 3261 17.2.3). */
struct sip_txn *sip_txn_match_request(const struct sip_msg *m);
/* The INVITE server transaction a CANCEL names (RFC 3261 9.2). */
struct sip_txn *sip_txn_match_cancelled(const struct sip_msg *m);
/* Find the client transaction of a response (RFC 3261 17.1.3). */
struct sip_txn *sip_txn_match_response(const struct sip_msg *m);
/* Hand a matched message to its transaction (takes m->osip). */
void sip_txn_input(struct sip_txn *t, struct sip_msg *m);
/*
 * A retransmission of a finished transaction, still waiting out its
 * timer (J, K, D, I or RFC 6026's Accepted): answered again or absorbed.
 * Returns false when no waiting transaction matches.
 */
bool sip_txn_absorb(const struct sip_msg *m);

/* New server transaction for request `m`. The machine takes m->osip;
 * it stays readable through m until the message is processed (borrowed).
 * NULL: answered or dropped. */
struct sip_txn *sip_txn_server_new(struct sip_msg *m,
				   const struct sip_txn_ops *ops, void *arg);
/*
 * Send a response in a server transaction. `rsp` (taken) is the libosip2
 * message the state machine keeps; `wire` its bytes (copied).
 */
int sip_txn_respond_msg(struct sip_txn *t, osip_message_t *rsp,
			const char *wire, size_t wire_len);
/* The libosip2 side of a response we build ourselves (status, top Via,
 * CSeq): what the server machines look at. */
osip_message_t *sip_txn_machine_response(const struct sip_txn *t, int code,
					 const char *reason);
/* Build and send a response from the request's header lines. */
int sip_txn_respond(struct sip_txn *t, int code, const char *reason,
		    const char *extra_hdrs, const char *body_type,
		    const char *body, size_t body_len);
/*
 * New client transaction: `req` (taken) is the request as libosip2 sees
 * it, `wire` the bytes sent (copied), `branch` its top Via branch, `to`
 * the next hop.
 */
struct sip_txn *sip_txn_client_new(osip_message_t *req, const char *wire,
				   size_t wire_len, const char *branch,
				   const struct sip_peer *to,
				   const struct sip_txn_ops *ops, void *arg);
/* Take the request a server transaction's machine keeps (the proxy
 * forwards it; the machine does not need it after its first event). */
osip_message_t *sip_txn_take_request(struct sip_txn *t);
/* Take the response libosip2 keeps in a client transaction. */
osip_message_t *sip_txn_take_response(struct sip_txn *t);
/* Detach the user: no more callbacks. */
void sip_txn_detach(struct sip_txn *t);
bool sip_txn_is_final(const struct sip_txn *t);
const char *sip_txn_state_name(const struct sip_txn *t);
void sip_show_transactions(struct tnd_reply *r, unsigned limit);

/* ---- Core (sip_core.c) --------------------------------------------------- */

/* Entry point of every message the transport frames. */
void sip_core_input(const char *raw, size_t len, const struct sip_peer *src,
		    unsigned flags);
/* A request for this node as a UAS: handlers, then the default answers
 * (RFC 3261 8.2). `t` NULL: a server transaction is made here. */
void sip_core_uas(struct sip_msg *m, struct sip_txn *t);
bool sip_method_known(const char *method, size_t len);

/* ---- Proxy (sip_proxy.c) ------------------------------------------------- */

enum sip_mode { SIP_MODE_ENDPOINT, SIP_MODE_PROXY, SIP_MODE_STATELESS };
extern enum sip_mode sip_mode;

int sip_proxy_init(void);
void sip_proxy_fini(void);
/* A request for the proxy: new (t != NULL, stateful) or stateless. */
void sip_proxy_request(struct sip_msg *m, struct sip_txn *t);
/* Forward in `t` to `target` (the new Request-URI), or route as usual
 * when NULL (a handler's proxy() call). 0 or -errno before anything
 * was sent. */
int sip_proxy_route(struct sip_msg *m, struct sip_txn *t, const char *target);
/* Max-Forwards of a request, -1 when it has none. */
int sip_msg_max_forwards(const struct sip_msg *m);
/* Forward in `t` to several targets (sip->proxy_fork(), SIP_FORK_*
 * flags of tandem/sip.h). 0 (answered or forwarded) or -EINVAL. */
int sip_proxy_fork(struct sip_msg *m, struct sip_txn *t,
		   const char *const *targets, unsigned n, unsigned flags);
/* RFC 3261 9.1: CANCEL the INVITE of client transaction `ict`. */
int sip_send_cancel(struct sip_txn *ict, const struct sip_peer *to);
/* A response that matched no client transaction (RFC 3261 16.7 / 16.11). */
void sip_proxy_stray_response(struct sip_msg *m);
/* CANCEL of a server INVITE transaction the proxy forwarded (RFC 3261
 * 16.10); false when the proxy does not own it. */
bool sip_proxy_cancel(struct sip_txn *ist);
void sip_show_proxy(struct tnd_reply *r);

/* ---- RFC 3263 (sip_dns.c) ------------------------------------------------- */

struct sip_dns_query;
/* The ordered next hops of a name; rc 0 or -EHOSTUNREACH. */
typedef void (*sip_dns_cb)(void *arg, int rc, const struct sip_peer *peers,
			   unsigned n);

int sip_dns_init(void);
void sip_dns_fini(void);
/*
 * Locate host (port 0: none; proto -1: none; sips) per RFC 3263. Returns
 * 0 with *out set (cache), -EINPROGRESS when `cb` will tell (then
 * *handle names the query until cb runs), -EWOULDBLOCK when a look-up is
 * needed and `cb` is NULL, or another -errno.
 */
int sip_dns_resolve(const char *host, int port, int proto, bool sips,
		    struct sip_peer *out, sip_dns_cb cb, void *arg,
		    struct sip_dns_query **handle);
/* The query's cb will not run (the query ends on its own). */
void sip_dns_cancel(struct sip_dns_query *q);
/*
 * RFC 3263 4.3 failover: the ordered next hops of the last look-up that
 * returned 0 at once (the first is what it set), right after that call;
 * 0 when it was no DNS answer (an address, `hosts`).
 */
unsigned sip_dns_alternatives(struct sip_peer *peers, unsigned max);
void sip_dns_forget_last(void);

/*
 * Next hop of a URI: numeric host, static `hosts`, or RFC 3263. Returns 0
 * (`to` set), -EINPROGRESS (`cb` later), -EWOULDBLOCK (no `cb`), -errno:
 * see sip_dns_resolve.
 */
int sip_resolve_uri(const osip_uri_t *uri, struct sip_peer *to,
		    sip_dns_cb cb, void *arg, struct sip_dns_query **handle);

#endif /* SIP_INT_H */
