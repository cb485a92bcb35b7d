/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diameter: the node's Diameter identity. Runs freeDiameter's core inside
 * the node, defines the 3GPP Cx, Sh, Rx and Gx applications, and offers
 * the "diameter" service (tandem/diameter.h) to the IMS plugins.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "diameter_int.h"

const struct tnd_host_api *dia_host;
struct dia_cfg *dia_cfg;
atomic_bool dia_closed;

struct tnd_counter *dia_cnt_rx_req, *dia_cnt_rx_ans, *dia_cnt_tx_req,
	*dia_cnt_tx_ans, *dia_cnt_timeouts, *dia_cnt_peer_up,
	*dia_cnt_peer_lost, *dia_cnt_dropped, *dia_cnt_unhandled;

static char realm_buf[DIA_ID_MAX];

static const struct tnd_param dia_params[] = {
	TND_PARAM("identity", TND_STR, struct dia_cfg, identity, NULL,
		  "Diameter identity of this node (its FQDN, RFC 6733 4.3)",
		  .flags = TND_PARAM_REQUIRED),
	TND_PARAM("realm", TND_STR, struct dia_cfg, realm, "",
		  "Diameter realm (empty: the identity without its first "
		  "label)"),
	TND_PARAM("listen_address", TND_STR, struct dia_cfg, listen_address,
		  "127.0.0.1", "IP address to listen on (one address)"),
	TND_PARAM("port", TND_UINT, struct dia_cfg, port, "3868",
		  "TCP port to listen on", .min = 1, .max = 65535),
	TND_PARAM("peers", TND_STR, struct dia_cfg, peers, "",
		  "peers to connect to: ID@ADDRESS[:PORT], space separated "
		  "(each side lists the other)"),
	TND_PARAM("accept_peers", TND_STR, struct dia_cfg, accept_peers, "",
		  "identities allowed to connect without being in peers "
		  "(space separated; * for any)"),
	TND_PARAM("tls_cert", TND_STR, struct dia_cfg, tls_cert, NULL,
		  "certificate (PEM); freeDiameter needs one even when no "
		  "peer uses TLS",
		  .flags = TND_PARAM_REQUIRED),
	TND_PARAM("tls_key", TND_STR, struct dia_cfg, tls_key, NULL,
		  "private key of tls_cert (PEM)", .flags = TND_PARAM_REQUIRED),
	TND_PARAM("tls_ca", TND_STR, struct dia_cfg, tls_ca, NULL,
		  "CA certificates (PEM)", .flags = TND_PARAM_REQUIRED),
	TND_PARAM("dict_dir", TND_STR, struct dia_cfg, dict_dir,
		  "/usr/lib/freeDiameter",
		  "folder of freeDiameter's dictionary extensions "
		  "(Debian freediameter-extensions)"),
	TND_PARAM("dictionaries", TND_STR, struct dia_cfg, dictionaries,
		  "dict_nasreq dict_rfc5777 dict_dcca dict_dcca_3gpp",
		  "dictionary extensions to load, in this order"),
	TND_PARAM("applications", TND_STR, struct dia_cfg, applications, "",
		  "applications to announce besides those the plugins use "
		  "(cx sh rx gx)"),
	TND_PARAM("app_threads", TND_UINT, struct dia_cfg, app_threads, "1",
		  "freeDiameter dispatch threads (they only hand messages "
		  "to the loop)",
		  .min = 1, .max = 64),
	TND_PARAM("tc_timer_s", TND_UINT, struct dia_cfg, tc_timer_s, "30",
		  "seconds between connection attempts to a peer (Tc, RFC "
		  "6733 2.1)",
		  .min = 1, .max = 3600),
	TND_PARAM("tw_timer_s", TND_UINT, struct dia_cfg, tw_timer_s, "30",
		  "watchdog interval (Tw, RFC 3539 3.4.1)", .min = 6,
		  .max = 3600),
	TND_PARAM("request_timeout_ms", TND_UINT, struct dia_cfg,
		  request_timeout_ms, "5000",
		  "default time to wait for an answer", .min = 1,
		  .max = 600000),
	TND_PARAM("tcp_nodelay", TND_BOOL, struct dia_cfg, tcp_nodelay, "yes",
		  "set TCP_NODELAY on peer connections (freeDiameter clears "
		  "it; delayed ACKs then cost up to 40 ms)"),
	TND_PARAM("fd_debug", TND_BOOL, struct dia_cfg, fd_debug, "no",
		  "pass freeDiameter's debug messages to the log category "
		  "freediameter"),
	TND_PARAM("tls", TND_BOOL, struct dia_cfg, tls, "no",
		  "TLS with every peer (RFC 6733 13, TLS from the first byte): "
		  "the ports in peers are their tls_port; peers in "
		  "accept_peers must use TLS too"),
	TND_PARAM("tls_port", TND_UINT, struct dia_cfg, tls_port, "5658",
		  "TCP port for TLS connections when tls = yes (the clear "
		  "port still answers peers that negotiate TLS in band)",
		  .min = 1, .max = 65535),
	TND_PARAM_END
};

/* ---- Control commands ------------------------------------------------- */

static bool peer_is_open(struct peer_hdr *peer)
{
	int state = fd_peer_get_state(peer);

	return state == STATE_OPEN || state == STATE_OPEN_NEW;
}

static const char *peer_state(const char *id)
{
	struct peer_hdr *peer = NULL;

	if (atomic_load(&dia_closed))
		return "stopped";
	if (fd_peer_getbyid((DiamId_t)id, strlen(id), 1, &peer) || !peer)
		return "unknown";
	return STATE_STR(fd_peer_get_state(peer));
}

/* "tls" when the connection to the peer runs TLS (freeDiameter names it
 * "TCP,TLS,soc#N"; a client side has no certificate list to look at). */
static const char *peer_security(const char *id)
{
	struct peer_hdr *peer = NULL;
	char proto[64] = "";

	if (atomic_load(&dia_closed) ||
	    fd_peer_getbyid((DiamId_t)id, strlen(id), 1, &peer) || !peer ||
	    !peer_is_open(peer) ||
	    fd_peer_cnx_proto_info(peer, proto, sizeof(proto)))
		return "-";
	return strstr(proto, "TLS") ? "tls" : "none";
}

static const char *peer_address(const char *id, char *buf, size_t size)
{
	size_t n;
	const struct dia_peer_conf *pc = dia_fd_peer_confs(&n);

	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(pc[i].id, id) == 0) {
			snprintf(buf, size, "%s:%u", pc[i].address, pc[i].port);
			return buf;
		}
	}
	return "(accepted)";
}

static int cmd_show_peers(struct tnd_reply *r, int argc, char **argv)
{
	char addr[96], err[160];
	size_t n = dia_stats_count();

	(void)argv;
	if (argc != 0)
		return dia_host->reply_error(r, "usage: diameter show peers");
	for (size_t i = 0; i < n; i++) {
		struct dia_peer_stat *st = dia_stats_at(i);
		const char *state = peer_state(st->id);

		dia_stats_error_get(st, err, sizeof(err));
		dia_host->reply_record(r);
		dia_host->reply_field(r, "peer", "%s", st->id);
		dia_host->reply_field(r, "address", "%s",
				      peer_address(st->id, addr, sizeof(addr)));
		dia_host->reply_field(
			r, "state", "%s",
			strncmp(state, "STATE_", 6) == 0 ? state + 6 : state);
		dia_host->reply_field_num(r, "rx", (long long)st->rx);
		dia_host->reply_field_num(r, "tx", (long long)st->tx);
		dia_host->reply_field_num(r, "connects", (long long)st->ups);
		dia_host->reply_field_num(r, "losses", (long long)st->losses);
		dia_host->reply_field(r, "security", "%s",
				      peer_security(st->id));
		dia_host->reply_field(r, "last_error", "%s",
				      err[0] ? err : "-");
	}
	if (n == 0)
		dia_host->reply_text(r, "no peers\n");
	return 0;
}

static int cmd_show(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return dia_host->reply_error(r, "usage: diameter show");
	dia_host->reply_field(r, "identity", "%s", dia_cfg->identity);
	dia_host->reply_field(r, "realm", "%s", dia_cfg->realm);
	dia_host->reply_field(r, "listen", "%s:%llu", dia_cfg->listen_address,
			      dia_cfg->port);
	dia_host->reply_field_num(
		r, "rx_requests",
		(long long)dia_host->counter_get(dia_cnt_rx_req));
	dia_host->reply_field_num(
		r, "tx_requests",
		(long long)dia_host->counter_get(dia_cnt_tx_req));
	dia_host->reply_field_num(
		r, "rx_answers",
		(long long)dia_host->counter_get(dia_cnt_rx_ans));
	dia_host->reply_field_num(
		r, "timeouts",
		(long long)dia_host->counter_get(dia_cnt_timeouts));
	return 0;
}

static const struct tnd_command dia_commands[] = {
	{ "diameter show peers", NULL,
	  "peers: state, messages, connections, losses, last error",
	  cmd_show_peers },
	{ "diameter show", NULL, "identity, realm, listener and totals",
	  cmd_show },
	TND_COMMAND_END
};

/* ---- Lifecycle -------------------------------------------------------- */

static int make_counters(void)
{
	struct {
		struct tnd_counter **c;
		const char *name, *help;
	} list[] = {
		{ &dia_cnt_rx_req, "rx_requests",
		  "requests handed to handlers" },
		{ &dia_cnt_tx_ans, "tx_answers", "answers sent by handlers" },
		{ &dia_cnt_tx_req, "tx_requests", "requests sent" },
		{ &dia_cnt_rx_ans, "rx_answers", "answers received" },
		{ &dia_cnt_timeouts, "timeouts",
		  "requests not answered in time" },
		{ &dia_cnt_peer_up, "peer_up", "peer connections opened" },
		{ &dia_cnt_peer_lost, "peer_lost", "peer connections lost" },
		{ &dia_cnt_dropped, "dropped",
		  "messages freeDiameter dropped or could not route" },
	};

	for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		*list[i].c = dia_host->counter_new(DIA_SELF, list[i].name,
						   list[i].help);
		if (!*list[i].c)
			return -ENOMEM;
	}
	return 0;
}

static int check_config(void)
{
	struct dia_peer_conf peers[DIA_MAX_PEERS];
	const char *dot = strchr(dia_cfg->identity, '.');
	size_t n;

	if (!dot || !dot[1]) {
		tnd_error("%s: identity '%s' must be a fully qualified name",
			  dia_host->where("diameter", "identity"),
			  dia_cfg->identity);
		return -EINVAL;
	}
	if (!dia_cfg->realm[0]) {
		snprintf(realm_buf, sizeof(realm_buf), "%s", dot + 1);
		dia_cfg->realm = realm_buf;
	}
	if (dia_cfg->tls && dia_cfg->tls_port == dia_cfg->port)
		return dia_host->config_error("diameter", "tls_port",
					      "tls_port must differ from port");
	if (dia_fd_peer_conf_parse(dia_cfg->peers, peers, DIA_MAX_PEERS, &n)) {
		tnd_error("%s: peers: each peer is ID@ADDRESS[:PORT], at most "
			  "%d",
			  dia_host->where("diameter", "peers"), DIA_MAX_PEERS);
		return -EINVAL;
	}
	return 0;
}

static int dia_init(const struct tnd_host_api *api, void *config)
{
	dia_host = api;
	dia_cfg = config;
	atomic_store(&dia_closed, false);
	if (check_config() || make_counters())
		return -EINVAL;
	return dia_host->service_register(
		DIA_SELF, "diameter", DIAMETER_SERVICE_VERSION, &dia_service);
}

static int dia_start(void)
{
	int rc = dia_fd_start();

	if (rc == 0 && (rc = dia_service_start()) != 0)
		dia_fd_stop();
	return rc;
}

static int dia_stop(void)
{
	dia_service_stop();
	return dia_fd_stop_async();
}

static void dia_fini(void)
{
	dia_fd_abandon();
	dia_service_fini();
}

static const struct tnd_service_ref dia_provides[] = {
	{ "diameter", DIAMETER_SERVICE_VERSION }, TND_SERVICE_END
};

TND_PLUGIN_DEFINE(diameter) = {
	TND_PLUGIN_HEADER,
	.name = "diameter",
	.version = "1.0",
	.description = "Diameter node (freeDiameter core): Cx, Sh, Rx, Gx "
		       "applications and the diameter service",
	.provides = dia_provides,
	.params = dia_params,
	.cfg_size = sizeof(struct dia_cfg),
	.commands = dia_commands,
	.init = dia_init,
	.start = dia_start,
	.stop = dia_stop,
	.fini = dia_fini,
};
