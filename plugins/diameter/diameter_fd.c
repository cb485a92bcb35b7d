/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diameter_fd.c - freeDiameter's core inside the node: its configuration
 * written from tandem's [diameter] section, the listening endpoint, peer
 * acceptance, hooks (peer events, counters) and TCP_NODELAY.
 *
 * freeDiameter 1.2.1 facts this file works around (docs/diameter.md):
 * - it wants TLS credentials in its config even when no peer uses TLS;
 * - `ListenOn` is ignored: the endpoint is added with fd_ep_add_merge
 *   after parsing, or it binds 0.0.0.0;
 * - with no hook registered for a message event it formats every message
 *   as a full text dump under a global lock: one hook for every event;
 * - it clears TCP_NODELAY on its sockets (RFC 3539 3.2), which costs up to
 *   40 ms per answer with delayed ACKs: set again once a peer is open;
 * - its threads must not take the node's signals: they are blocked in
 *   the thread that starts the core, and the threads inherit the mask.
 */
#define _GNU_SOURCE /* dladdr */
#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "diameter_int.h"

static struct dia_peer_conf peer_confs[DIA_MAX_PEERS];
static size_t npeer_confs;
static char *accept_ids[DIA_MAX_PEERS];
static size_t naccept_ids;
static char accept_buf[2048];

static struct dia_peer_stat peer_stats[DIA_MAX_PEERS];
static atomic_size_t npeer_stats;
static pthread_mutex_t dia_stat_lock = PTHREAD_MUTEX_INITIALIZER;

static struct fd_hook_hdl *hook_handle;
static bool core_initialized, core_started;

const struct dia_peer_conf *dia_fd_peer_confs(size_t *count)
{
	*count = npeer_confs;
	return peer_confs;
}

/* ---- Per-peer statistics ------------------------------------------------ */

size_t dia_stats_count(void)
{
	return atomic_load(&npeer_stats);
}

struct dia_peer_stat *dia_stats_at(size_t i)
{
	return i < dia_stats_count() ? &peer_stats[i] : NULL;
}

struct dia_peer_stat *dia_stats_find(const char *id)
{
	size_t n = dia_stats_count();

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(peer_stats[i].id, id) == 0)
			return &peer_stats[i];
	return NULL;
}

/* The entry of a peer, made on first sight. Any thread. */
static struct dia_peer_stat *stats_of(struct peer_hdr *peer)
{
	size_t n = dia_stats_count();
	struct dia_peer_stat *st;

	for (size_t i = 0; i < n; i++)
		if (peer_stats[i].fd_peer == peer)
			return &peer_stats[i];
	if (!peer->info.pi_diamid)
		return NULL;
	pthread_mutex_lock(&dia_stat_lock);
	st = dia_stats_find(peer->info.pi_diamid);
	if (!st && dia_stats_count() < DIA_MAX_PEERS) {
		st = &peer_stats[dia_stats_count()];
		snprintf(st->id, sizeof(st->id), "%s", peer->info.pi_diamid);
		atomic_fetch_add(&npeer_stats, 1);
	}
	if (st)
		st->fd_peer = peer;
	pthread_mutex_unlock(&dia_stat_lock);
	return st;
}

void dia_stats_error(const char *id, const char *error)
{
	struct dia_peer_stat *st = dia_stats_find(id);

	if (!st)
		return;
	pthread_mutex_lock(&dia_stat_lock);
	snprintf(st->last_error, sizeof(st->last_error), "%s", error);
	pthread_mutex_unlock(&dia_stat_lock);
}

void dia_stats_error_get(struct dia_peer_stat *st, char *buf, size_t size)
{
	pthread_mutex_lock(&dia_stat_lock);
	snprintf(buf, size, "%s", st->last_error);
	pthread_mutex_unlock(&dia_stat_lock);
}

/* Configured peers are listed by `show peers` before they first connect. */
static void stats_seed(void)
{
	for (size_t i = 0; i < npeer_confs && i < DIA_MAX_PEERS; i++) {
		memcpy(peer_stats[i].id, peer_confs[i].id,
		       sizeof(peer_stats[i].id));
		atomic_fetch_add(&npeer_stats, 1);
	}
}

/* ---- Peer events, from freeDiameter's threads to the loop --------------- */

struct peer_event {
	enum dia_peer_event event;
	char id[DIA_ID_MAX];
};

static void peer_event_on_loop(void *arg)
{
	struct peer_event *ev = arg;

	if (!atomic_load(&dia_closed))
		dia_service_peer_event(ev->id, ev->event);
	free(ev);
}

static void peer_event_post(const char *id, enum dia_peer_event event)
{
	struct peer_event *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return;
	ev->event = event;
	snprintf(ev->id, sizeof(ev->id), "%s", id);
	if (dia_host->call_on_loop(peer_event_on_loop, ev) != 0)
		free(ev);
}

/* ---- TCP_NODELAY -------------------------------------------------------- */

static unsigned sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

/* A Diameter connection: ours to listen on, or to a configured peer. */
static bool is_diameter_socket(int fd)
{
	struct sockaddr_storage local, remote;
	socklen_t len = sizeof(local);
	int proto = 0;
	socklen_t plen = sizeof(proto);

	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) < 0 ||
	    proto != IPPROTO_TCP)
		return false;
	if (getsockname(fd, (struct sockaddr *)&local, &len) < 0)
		return false;
	if (sockaddr_port(&local) == dia_cfg->port ||
	    (dia_cfg->tls && sockaddr_port(&local) == dia_cfg->tls_port))
		return true;
	len = sizeof(remote);
	if (getpeername(fd, (struct sockaddr *)&remote, &len) < 0)
		return false;
	for (size_t i = 0; i < npeer_confs; i++)
		if (sockaddr_port(&remote) == peer_confs[i].port)
			return true;
	return false;
}

/*
 * freeDiameter's sockets are private to it: find them among the process's
 * descriptors. Runs when a peer opens, which is rare.
 */
static void set_nodelay_all(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int on = 1;

	if (!dir)
		return;
	while ((de = readdir(dir)) != NULL) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd == dirfd(dir))
			continue;
		if (is_diameter_socket(fd))
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
				   sizeof(on));
	}
	closedir(dir);
}

/* ---- Hooks ------------------------------------------------------------- */

static void on_connect_failed(struct peer_hdr *peer, const char *why)
{
	struct dia_peer_stat *st = peer ? stats_of(peer) : NULL;

	if (!st)
		return;
	pthread_mutex_lock(&dia_stat_lock);
	snprintf(st->last_error, sizeof(st->last_error), "%s",
		 why ? why : "connection failed");
	pthread_mutex_unlock(&dia_stat_lock);
	if (atomic_exchange(&st->up, 0)) {
		atomic_fetch_add(&st->losses, 1);
		peer_event_post(st->id, DIA_PEER_DOWN);
	}
}

static void on_connect_success(struct peer_hdr *peer)
{
	struct dia_peer_stat *st = stats_of(peer);

	if (dia_cfg->tcp_nodelay)
		set_nodelay_all();
	if (!st || atomic_exchange(&st->up, 1))
		return;
	atomic_fetch_add(&st->ups, 1);
	peer_event_post(st->id, DIA_PEER_UP);
}

static void on_hook(enum fd_hook_type type, struct msg *msg,
		    struct peer_hdr *peer, void *other,
		    struct fd_hook_permsgdata *pmd, void *regdata)
{
	struct dia_peer_stat *st;

	(void)msg, (void)pmd, (void)regdata;
	switch (type) {
	case HOOK_MESSAGE_RECEIVED:
		if (peer && (st = stats_of(peer)))
			atomic_fetch_add_explicit(&st->rx, 1,
						  memory_order_relaxed);
		break;
	case HOOK_MESSAGE_SENT:
		if (peer && (st = stats_of(peer)))
			atomic_fetch_add_explicit(&st->tx, 1,
						  memory_order_relaxed);
		break;
	case HOOK_PEER_CONNECT_SUCCESS: on_connect_success(peer); break;
	case HOOK_PEER_CONNECT_FAILED: on_connect_failed(peer, other); break;
	case HOOK_MESSAGE_DROPPED:
	case HOOK_MESSAGE_PARSING_ERROR:
	case HOOK_MESSAGE_ROUTING_ERROR:
		dia_host->counter_add(dia_cnt_dropped, 1);
		tnd_info("message dropped or refused: %s",
			 type == HOOK_MESSAGE_PARSING_ERROR && !msg
				 ? "unparsable message"
			 : other ? (const char *)other
				 : "?");
		break;
	default: break;
	}
}

/* ---- Peers that connect to us ------------------------------------------ */

static bool accept_listed(const char *id)
{
	for (size_t i = 0; i < naccept_ids; i++)
		if (strcmp(accept_ids[i], "*") == 0 ||
		    strcasecmp(accept_ids[i], id) == 0)
			return true;
	return false;
}

/* Peers in accept_peers may connect. Without tls they may do so in
 * clear (RFC 6733 13: the transport is loopback or protected otherwise);
 * with tls the security flags stay at freeDiameter's default, which
 * wants TLS: a handshake with a certificate of tls_ca naming the peer
 * (freeDiameter checks both) before CER, or TLS negotiated in band. */
static int validate_peer(struct peer_info *info, int *auth,
			 int (**cb2)(struct peer_info *))
{
	*cb2 = NULL;
	*auth = 0;
	if (!info->pi_diamid || !accept_listed(info->pi_diamid))
		return 0;
	*auth = 1;
	if (!dia_cfg->tls)
		info->config.pic_flags.sec = PI_SEC_NONE;
	return 0;
}

static void split_accept(void)
{
	char *save = NULL, *w;

	snprintf(accept_buf, sizeof(accept_buf), "%s", dia_cfg->accept_peers);
	naccept_ids = 0;
	for (w = strtok_r(accept_buf, " ,\t", &save);
	     w && naccept_ids < DIA_MAX_PEERS;
	     w = strtok_r(NULL, " ,\t", &save))
		accept_ids[naccept_ids++] = w;
}

/* ---- freeDiameter's log into the node's log ---------------------------- */

static void fd_logger(int level, const char *fmt, va_list ap)
{
	enum tnd_log_level l = level >= FD_LOG_ERROR	? TND_LOG_ERROR
			       : level >= FD_LOG_NOTICE ? TND_LOG_INFO
							: TND_LOG_DEBUG;

	if (!dia_host->log_enabled("freediameter", l))
		return;
	dia_host->vlog("freediameter", l, __FILE__, __LINE__, fmt, ap);
}

/* ---- The configuration file freeDiameter parses ------------------------ */

static void write_peers(FILE *f)
{
	for (size_t i = 0; i < npeer_confs; i++)
		fprintf(f,
			"ConnectPeer = \"%s\" { ConnectTo = \"%s\"; "
			"Port = %u; %sNo_SCTP; };\n",
			peer_confs[i].id, peer_confs[i].address,
			peer_confs[i].port, dia_cfg->tls ? "" : "No_TLS; ");
}

static void write_dictionaries(FILE *f)
{
	char buf[1024], *save = NULL, *w;

	snprintf(buf, sizeof(buf), "%s", dia_cfg->dictionaries);
	for (w = strtok_r(buf, " ,\t", &save); w;
	     w = strtok_r(NULL, " ,\t", &save))
		fprintf(f, "LoadExtension = \"%s/%s%s\";\n", dia_cfg->dict_dir,
			w, strstr(w, ".fdx") ? "" : ".fdx");
}

static int write_conf(char *path, size_t size)
{
	int fd;
	FILE *f;

	snprintf(path, size, "/tmp/tandem-fd-%d-XXXXXX", (int)getpid());
	fd = mkstemp(path);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		tnd_error("cannot write freeDiameter's config: %s",
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	fprintf(f, "Identity = \"%s\";\nRealm = \"%s\";\n", dia_cfg->identity,
		dia_cfg->realm);
	fprintf(f, "Port = %llu;\nSecPort = %llu;\nNo_SCTP;\nPrefer_TCP;\n",
		dia_cfg->port, dia_cfg->tls ? dia_cfg->tls_port : 0);
	fprintf(f, "%s\n",
		strchr(dia_cfg->listen_address, ':') ? "No_IP;" : "No_IPv6;");
	fprintf(f, "TcTimer = %llu;\nTwTimer = %llu;\nAppServThreads = %llu;\n",
		dia_cfg->tc_timer_s, dia_cfg->tw_timer_s, dia_cfg->app_threads);
	fprintf(f, "TLS_Cred = \"%s\", \"%s\";\nTLS_CA = \"%s\";\n",
		dia_cfg->tls_cert, dia_cfg->tls_key, dia_cfg->tls_ca);
	write_dictionaries(f);
	write_peers(f);
	if (fclose(f) != 0)
		return -EIO;
	return 0;
}

static int add_endpoint(void)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, dia_cfg->listen_address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, dia_cfg->listen_address,
			     &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		len = sizeof(*sin6);
	} else {
		tnd_error("%s: listen_address '%s' is not an IP address",
			  dia_host->where("diameter", "listen_address"),
			  dia_cfg->listen_address);
		return -EINVAL;
	}
	return fd_ep_add_merge(&fd_g_config->cnf_endpoints, (sSA *)&ss, len,
			       EP_FL_CONF | EP_ACCEPTALL)
		       ? -EINVAL
		       : 0;
}

static int register_hooks(void)
{
	uint32_t mask = 0;

	/* Every event but the raw buffer one, so that none falls back to
	 * freeDiameter's default dump. */
	for (int t = HOOK_MESSAGE_RECEIVED; t <= HOOK_LAST; t++)
		mask |= 1u << t;
	return fd_hook_register(mask, on_hook, NULL, NULL, &hook_handle)
		       ? -EINVAL
		       : 0;
}

static int configure_core(void)
{
	char path[128];
	int rc = write_conf(path, sizeof(path));

	if (rc)
		return rc;
	rc = fd_core_parseconf(path);
	unlink(path);
	if (rc) {
		tnd_error("freeDiameter refused its configuration (%d): check "
			  "the TLS files, dict_dir and dictionaries",
			  rc);
		return -EINVAL;
	}
	if (add_endpoint() || dia_dict_setup() || register_hooks() ||
	    fd_peer_validate_register(validate_peer) ||
	    dia_service_register_all() || dia_apps_announce())
		return -EINVAL;
	return 0;
}

/*
 * The node loads plugins with local symbol scope, but freeDiameter's
 * dictionary extensions (.fdx) find fd_g_config and the rest of libfdcore
 * and libfdproto in the global scope: promote both libraries there.
 */
static int make_libraries_global(void)
{
	void *const syms[] = { (void *)fd_core_initialize, (void *)fd_msg_new };

	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		Dl_info info;

		if (!dladdr(syms[i], &info) || !info.dli_fname ||
		    !dlopen(info.dli_fname,
			    RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD)) {
			tnd_error("cannot make freeDiameter's libraries "
				  "global: %s",
				  dlerror());
			return -ENOENT;
		}
	}
	return 0;
}

int dia_fd_start(void)
{
	sigset_t block, saved;
	size_t n;
	int rc;

	if (dia_fd_peer_conf_parse(dia_cfg->peers, peer_confs, DIA_MAX_PEERS,
				   &n))
		return -EINVAL; /* checked in init already */
	npeer_confs = n;
	if (make_libraries_global())
		return -ENOENT;
	stats_seed();
	split_accept();
	fd_g_debug_lvl = dia_cfg->fd_debug ? FD_LOG_DEBUG : FD_LOG_NOTICE;
	fd_log_handler_register(fd_logger);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &saved);
	rc = fd_core_initialize() ? -EINVAL : 0;
	core_initialized = rc == 0;
	if (rc == 0)
		rc = configure_core();
	if (rc == 0)
		rc = fd_core_start() ? -EINVAL : 0;
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (rc) {
		tnd_error("freeDiameter did not start");
		dia_fd_stop();
		return rc;
	}
	core_started = true;
	tnd_notice("%s (realm %s) listening on %s port %llu, %zu peers",
		   dia_cfg->identity, dia_cfg->realm, dia_cfg->listen_address,
		   dia_cfg->port, npeer_confs);
	return 0;
}

void dia_fd_stop(void)
{
	if (atomic_exchange(&dia_closed, true) || !core_initialized)
		return;
	fd_core_shutdown();
	fd_core_wait_shutdown_complete();
	if (core_started)
		tnd_info("freeDiameter stopped");
	core_started = false;
}

/*
 * Stopping without blocking the loop. freeDiameter's shutdown waits for
 * each peer's state machine, and a peer caught in a TLS handshake or a
 * DPR exchange can hold it for many seconds: the wait runs in a thread
 * of its own and the node's stop_timeout_ms bounds it. The plugin stays
 * mapped (RTLD_NODELETE) so that freeDiameter's threads never call into
 * unloaded code if the node exits before they end.
 */
static pthread_t stop_thread;
static atomic_bool stop_thread_running;

static void core_down(void *arg)
{
	(void)arg;
	pthread_join(stop_thread, NULL);
	atomic_store(&stop_thread_running, false);
	tnd_info("freeDiameter stopped");
	core_started = false;
	dia_host->stopped(DIA_SELF);
}

static void *shutdown_core(void *arg)
{
	(void)arg;
	fd_core_shutdown();
	fd_core_wait_shutdown_complete();
	if (dia_host->call_on_loop(core_down, NULL))
		pthread_detach(pthread_self()); /* the node has gone */
	return NULL;
}

static void pin_plugin(void)
{
	Dl_info info;

	if (dladdr((void *)pin_plugin, &info) && info.dli_fname)
		dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

int dia_fd_stop_async(void)
{
	if (atomic_exchange(&dia_closed, true) || !core_initialized)
		return 0;
	pin_plugin();
	atomic_store(&stop_thread_running, true);
	if (pthread_create(&stop_thread, NULL, shutdown_core, NULL)) {
		atomic_store(&stop_thread_running, false);
		atomic_store(&dia_closed, false);
		dia_fd_stop();
		return 0;
	}
	return TND_STOP_PENDING;
}

/* After the node gave up waiting: say so, leave the threads running. */
void dia_fd_abandon(void)
{
	if (atomic_load(&stop_thread_running))
		tnd_notice("freeDiameter had not finished stopping; its "
			    "threads end with the process");
}
