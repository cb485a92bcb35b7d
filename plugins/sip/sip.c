/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip: the SIP layer of a tandem node. Transports, RFC 3261 transactions
 * on libosip2, a proxy core and the "sip" service the CSCFs, the SBC and
 * the MGCF build on. sip_int.h shows how the files fit together; this
 * one holds the parameter table, the counters, the control commands and
 * the plugin's life cycle.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip_int.h"
#include "sip_service_int.h"
#include "tandem/sip.h"

const struct tnd_host_api *sip_host;
struct sip_cfg *sip_cfg;
struct sip_stats sip_stats;

#define P(name, type, member, def, help, ...)                                 \
	TND_PARAM(name, type, struct sip_cfg, member, def, help, __VA_ARGS__)

static const struct tnd_param sip_params[] = {
	P("listen", TND_STR, listen, "udp:127.0.0.1:5060 tcp:127.0.0.1:5060",
	  "listeners, space-separated PROTO:HOST:PORT (udp, tcp; IPv6 in "
	  "[]; port 0 picks one)", .flags = 0),
	P("advertise", TND_STR, advertise, "",
	  "host put in Via and Record-Route instead of the listener address "
	  "(needed when listening on 0.0.0.0)", .flags = 0),
	P("t1_ms", TND_UINT, t1_ms, "500",
	  "RFC 3261 T1, round-trip estimate; Timers A, B, E, F, G, H, J "
	  "follow from it", .min = 10, .max = 10000),
	P("t2_ms", TND_UINT, t2_ms, "4000",
	  "RFC 3261 T2, the longest retransmission interval", .min = 10,
	  .max = 64000),
	P("t4_ms", TND_UINT, t4_ms, "5000",
	  "RFC 3261 T4, how long the network holds a message (Timers I, K)",
	  .min = 10, .max = 64000),
	P("max_message_size", TND_UINT, max_message_size, "65535",
	  "largest message accepted, bytes; larger ones are dropped and "
	  "logged (streams are closed)", .min = 1024, .max = 1048576),
	P("conn_buffer_max", TND_UINT, conn_buffer_max, "1048576",
	  "output queued for one stream connection before it is closed, "
	  "bytes", .min = 4096, .max = 67108864),
	P("idle_timeout_ms", TND_UINT, idle_timeout_ms, "300000",
	  "a stream connection without traffic this long is closed",
	  .min = 100, .max = 86400000),
	P("message_timeout_ms", TND_UINT, message_timeout_ms, "10000",
	  "a stream peer must finish a message (and a connect must succeed) "
	  "within this time (slow-loris limit)", .min = 50, .max = 600000),
	P("max_connections", TND_UINT, max_connections, "1000",
	  "stream connections of the node, both directions", .min = 1,
	  .max = 1000000),
	P("max_connections_per_ip", TND_UINT, max_connections_per_ip, "100",
	  "inbound stream connections from one address", .min = 1,
	  .max = 1000000),
	P("max_transactions", TND_UINT, max_transactions, "1000000",
	  "transactions held at once; beyond, new requests get 503",
	  .min = 16, .max = 100000000),
	P("mode", TND_ENUM, mode, "endpoint",
	  "what the node does with requests no handler takes: answer them "
	  "(endpoint) or route them as a stateful or stateless proxy",
	  .choices = "endpoint|proxy|stateless"),
	P("next_hop", TND_STR, next_hop, "",
	  "proxy: send requests without a Route here (PROTO:IP:PORT) "
	  "instead of to the Request-URI", .flags = 0),
	P("aliases", TND_STR, aliases, "",
	  "host names (space-separated) that mean this node in URIs",
	  .flags = 0),
	P("hosts", TND_STR, hosts, "",
	  "static name resolution for labs, NAME=IP words", .flags = 0),
	P("record_route", TND_BOOL, record_route, "yes",
	  "proxy: Record-Route dialog-creating requests (both sides when "
	  "transports differ, RFC 5658)", .flags = 0),
	P("timer_c_ms", TND_UINT, timer_c_ms, "185000",
	  "proxy: RFC 3261 Timer C, how long an INVITE branch may stay "
	  "without a final response after its last provisional one (then "
	  "CANCEL, or a 408 of the branch when none came)", .min = 100,
	  .max = 3600000),
	P("recurse_3xx", TND_BOOL, recurse_3xx, "no",
	  "proxy: on a 3xx to a request a handler forwarded to a target "
	  "(proxy, proxy_fork), try its Contacts instead of passing the "
	  "3xx back (RFC 3261 16.7 step 5)", .flags = 0),
	P("tls_cert", TND_STR, tls_cert, "",
	  "PEM certificate chain of TLS listeners (and offered to servers "
	  "that ask)", .flags = 0),
	P("tls_key", TND_STR, tls_key, "", "PEM private key of tls_cert",
	  .flags = 0),
	P("tls_ca", TND_STR, tls_ca, "",
	  "PEM CA file peers' certificates are checked against (empty: the "
	  "system's)", .flags = 0),
	P("tls_verify_client", TND_BOOL, tls_verify_client, "no",
	  "TLS listeners require a client certificate from tls_ca (mutual "
	  "TLS)", .flags = 0),
	P("tls_verify_server", TND_BOOL, tls_verify_server, "yes",
	  "check the certificate of TLS servers we connect to (chain and "
	  "address)", .flags = 0),
	P("tls_min_version", TND_ENUM, tls_min_version, "1.2",
	  "oldest TLS version accepted", .choices = "1.2|1.3"),
	P("dns_servers", TND_STR, dns_servers, "",
	  "DNS servers for RFC 3263 look-ups, IP[:PORT] words (empty: the "
	  "system's)", .flags = 0),
	P("dns_cache_ms", TND_UINT, dns_cache_ms, "60000",
	  "how long a located next hop is reused", .min = 0,
	  .max = 86400000),
	P("session_expires", TND_UINT, session_expires, "0",
	  "RFC 4028 interval the node's dialogs ask for, seconds (0: none)",
	  .min = 0, .max = 86400),
	P("min_se", TND_UINT, min_se, "90",
	  "RFC 4028 shortest session interval accepted, seconds (below: 422)",
	  .min = 1, .max = 86400),
	P("udp_batch", TND_UINT, udp_batch, "64",
	  "datagrams read per wake-up of a UDP listener", .min = 1,
	  .max = 4096),
	TND_PARAM_END
};

/* ---- Counters ------------------------------------------------------------------ */

static struct tnd_counter *counter(const char *name, const char *help)
{
	return sip_host->counter_new(SIP_SELF, name, help);
}

int sip_stats_init(void)
{
	char name[64], help[128];

	for (int m = 0; m < SIP_M__COUNT; m++) {
		const char *mn = sip_method_name((enum sip_method_id)m);
		char lower[16];
		size_t i;

		for (i = 0; mn[i] && i + 1 < sizeof(lower); i++)
			lower[i] = (char)(mn[i] | 0x20);
		lower[i] = '\0';
		snprintf(name, sizeof(name), "rx_%s", lower);
		snprintf(help, sizeof(help), "%s requests received", mn);
		sip_stats.rx_req[m] = counter(name, help);
		snprintf(name, sizeof(name), "tx_%s", lower);
		snprintf(help, sizeof(help), "%s requests sent", mn);
		sip_stats.tx_req[m] = counter(name, help);
	}
	for (int c = 1; c <= 6; c++) {
		snprintf(name, sizeof(name), "rx_%dxx", c);
		snprintf(help, sizeof(help), "%dxx responses received", c);
		sip_stats.rx_rsp[c] = counter(name, help);
		snprintf(name, sizeof(name), "tx_%dxx", c);
		snprintf(help, sizeof(help), "%dxx responses sent", c);
		sip_stats.tx_rsp[c] = counter(name, help);
	}
	sip_stats.rx_bad_req = counter("rx_bad_requests",
		"requests answered with an error by the syntax checks");
	sip_stats.rx_bad_rsp = counter("rx_bad_responses",
		"malformed responses discarded");
	sip_stats.rx_dropped = counter("rx_dropped",
		"messages dropped that could not even be answered");
	sip_stats.rx_stray_rsp = counter("rx_stray_responses",
		"responses that matched no transaction");
	sip_stats.retransmits = counter("retransmissions",
		"messages sent again by transaction timers");
	sip_stats.rx_oversize = counter("rx_oversize",
		"messages over max_message_size");
	sip_stats.conn_refused = counter("conn_refused",
		"connections refused by max_connections limits");
	sip_stats.conn_closed_limit = counter("conn_closed_limit",
		"connections closed by message timeout or buffer limits");
	sip_stats.tx_errors = counter("tx_errors", "sends that failed");
	sip_stats.txn_created = counter("transactions",
		"transactions created");
	sip_stats.txn_timeouts = counter("transaction_timeouts",
		"client transactions without a final response");
	sip_stats.fwd_stateless = counter("forwarded_stateless",
		"messages the proxy forwarded without a transaction");
	sip_stats.fwd_stateful = counter("forwarded_stateful",
		"requests the proxy forwarded in a transaction");
	return sip_stats.fwd_stateful ? 0 : -ENOMEM;
}

/* ---- Control commands --------------------------------------------------------------- */

static int cmd_listeners(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return sip_host->reply_error(r, "usage: sip show listeners");
	sip_show_listeners(r);
	return 0;
}

static int cmd_connections(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc)
		return sip_host->reply_error(r, "usage: sip show connections");
	sip_show_connections(r);
	return 0;
}

static int cmd_transactions(struct tnd_reply *r, int argc, char **argv)
{
	unsigned long limit = 100;
	char *end;

	if (argc > 1)
		return sip_host->reply_error(r, "usage: sip show transactions "
					     "[LIMIT]");
	if (argc == 1) {
		limit = strtoul(argv[0], &end, 10);
		if (*end || !limit)
			return sip_host->reply_error(r, "LIMIT is a positive "
						     "number");
	}
	sip_show_transactions(r, (unsigned)limit);
	return 0;
}

static void stat_field(struct tnd_reply *r, const char *key,
		       struct tnd_counter *c)
{
	sip_host->reply_field_num(r, key, (long long)sip_host->counter_get(c));
}

static int cmd_stats(struct tnd_reply *r, int argc, char **argv)
{
	char key[16];

	(void)argv;
	if (argc)
		return sip_host->reply_error(r, "usage: sip show stats");
	for (int m = 0; m < SIP_M__COUNT; m++) {
		sip_host->reply_record(r);
		sip_host->reply_field(r, "method", "%s",
				      sip_method_name((enum sip_method_id)m));
		stat_field(r, "received", sip_stats.rx_req[m]);
		stat_field(r, "sent", sip_stats.tx_req[m]);
	}
	for (int c = 1; c <= 6; c++) {
		sip_host->reply_record(r);
		snprintf(key, sizeof(key), "%dxx", c);
		sip_host->reply_field(r, "responses", "%s", key);
		stat_field(r, "received", sip_stats.rx_rsp[c]);
		stat_field(r, "sent", sip_stats.tx_rsp[c]);
	}
	sip_host->reply_record(r);
	sip_show_proxy(r);
	sip_host->reply_field_num(r, "transactions", (long long)sip_txn_count());
	sip_host->reply_field_num(r, "waiting", (long long)sip_txn_waiting());
	sip_host->reply_field_num(r, "connections", (long long)sip_conn_count());
	sip_host->reply_field_num(r, "timers", (long long)sip_timers_count());
	return 0;
}

static const struct tnd_command sip_commands[] = {
	{ "sip show listeners", NULL, "transports and addresses listened on",
	  cmd_listeners },
	{ "sip show connections", NULL,
	  "stream connections with their traffic and buffers",
	  cmd_connections },
	{ "sip show transactions", "[LIMIT]",
	  "transactions with type, state and peer (first LIMIT, 100)",
	  cmd_transactions },
	{ "sip show stats", NULL,
	  "requests per method and responses per class, both directions",
	  cmd_stats },
	TND_COMMAND_END
};

/* ---- Life cycle ------------------------------------------------------------------ */

/* libosip2 traces (parse errors of messages we answer anyway) go to our
 * debug log, not to stderr. */
static void osip_trace_to_log(const char *file, int line,
			      osip_trace_level_t level, const char *fmt,
			      va_list ap)
{
	char text[512];
	size_t n;

	(void)level;
	if (!sip_host || !sip_host->log_enabled("sip", TND_LOG_DEBUG))
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	n = strlen(text);
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	sip_host->log("sip", TND_LOG_DEBUG, file, line, "libosip2: %s", text);
}

static int check_params(void)
{
	if (sip_cfg->t2_ms < sip_cfg->t1_ms) {
		tnd_error("%s: t2_ms (%llu) must not be below t1_ms (%llu)",
			  sip_host->where("sip", "t2_ms"), sip_cfg->t2_ms,
			  sip_cfg->t1_ms);
		return -EINVAL;
	}
	return 0;
}

static int sip_init(const struct tnd_host_api *api, void *config)
{
	int rc;

	sip_host = api;
	sip_cfg = config;
	rc = check_params();
	if (rc < 0)
		return rc;
	sip_alloc_install();
	osip_trace_initialize_func(OSIP_WARNING, osip_trace_to_log);
	parser_init();
	rc = sip_stats_init();
	if (rc == 0)
		rc = sip_proxy_init();
	if (rc == 0)
		rc = sip_host->service_register(SIP_SELF, SIP_SERVICE_NAME,
						SIP_SERVICE_VERSION,
						&sip_service_table);
	return rc;
}

static int sip_start(void)
{
	int rc = sip_timers_start();

	if (rc == 0)
		rc = sip_dns_init();
	if (rc == 0)
		rc = sip_txn_init();
	if (rc == 0)
		rc = sip_transport_start();
	if (rc == 0)
		tnd_notice("SIP %s ready, T1 %llu ms", sip_cfg->mode,
			   sip_cfg->t1_ms);
	return rc;
}

static int sip_stop(void)
{
	return 0;
}

static void sip_fini(void)
{
	sip_service_fini();
	sip_txn_fini();
	sip_dns_fini();
	sip_transport_stop();
	sip_timers_stop();
	sip_proxy_fini();
	sip_alloc_uninstall();
}

static const struct tnd_service_ref sip_provides[] = {
	{ SIP_SERVICE_NAME, SIP_SERVICE_VERSION },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(sip) = {
	TND_PLUGIN_HEADER,
	.name = "sip",
	.version = "1.0",
	.description = "SIP transports, RFC 3261 transactions on libosip2, "
		       "proxy core and the sip service",
	.provides = sip_provides,
	.params = sip_params,
	.cfg_size = sizeof(struct sip_cfg),
	.commands = sip_commands,
	.init = sip_init,
	.start = sip_start,
	.stop = sip_stop,
	.fini = sip_fini,
};
