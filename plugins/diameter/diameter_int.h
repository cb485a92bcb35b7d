/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diameter_int.h - what the files of the diameter plugin share. Never
 * installed: other plugins see only tandem/diameter.h.
 */
#ifndef TANDEM_DIAMETER_INT_H
#define TANDEM_DIAMETER_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include "tandem/diameter.h"
#include "tandem/plugin.h"

#define TND_LOG_HOST dia_host
#define TND_LOG_CATEGORY "diameter"

TND_PLUGIN_DECLARE(diameter);
#define DIA_SELF (&TND_PLUGIN_SYMBOL(diameter))

#define DIA_MAX_PEERS 64
#define DIA_ID_MAX 256

struct dia_cfg {
	char *identity;
	char *realm;
	char *listen_address;
	unsigned long long port;
	char *peers;
	char *accept_peers;
	char *tls_cert;
	char *tls_key;
	char *tls_ca;
	char *dict_dir;
	char *dictionaries;
	char *applications;
	unsigned long long app_threads;
	unsigned long long tc_timer_s;
	unsigned long long tw_timer_s;
	unsigned long long request_timeout_ms;
	int tcp_nodelay;
	int fd_debug;
	int tls;
	unsigned long long tls_port;
};

/* A configured peer: "id@address[:port]". */
struct dia_peer_conf {
	char id[DIA_ID_MAX];
	char address[64];
	unsigned port;
};

/* What the plugin counts about one peer; updated from any thread. */
struct dia_peer_stat {
	char id[DIA_ID_MAX];
	struct peer_hdr *fd_peer; /* freeDiameter's peer, once seen */
	atomic_uint_fast64_t rx, tx, ups, losses;
	atomic_int up;
	char last_error[160]; /* under dia_stat_lock */
};

extern const struct tnd_host_api *dia_host;
extern struct dia_cfg *dia_cfg;
extern atomic_bool dia_closed; /* the core is stopping or stopped */

/* Counters (diameter.*). */
extern struct tnd_counter *dia_cnt_rx_req, *dia_cnt_rx_ans, *dia_cnt_tx_req,
	*dia_cnt_tx_ans, *dia_cnt_timeouts, *dia_cnt_peer_up,
	*dia_cnt_peer_lost, *dia_cnt_dropped, *dia_cnt_unhandled;

/* diameter_dict.c: applications, commands and missing 3GPP AVPs. */
int dia_dict_setup(void);
struct dict_object *dia_dict_app(uint32_t app_id);
struct dict_object *dia_dict_cmd(uint32_t cmd_code, bool request);
/* An AVP of the dictionary, resolved once by name (loop thread). */
struct dia_avpdef {
	struct dict_object *obj;
	uint32_t code;
	uint32_t vendor;
	enum dict_avp_basetype base;
};
const struct dia_avpdef *dia_dict_avp(const char *name);
struct dict_object *dia_dict_vendor_3gpp(void);
const char *dia_app_name(uint32_t app_id);
int dia_app_parse(const char *name, uint32_t *app_id);

/* diameter_fd.c: freeDiameter's core inside the node. */
int dia_fd_start(void);
void dia_fd_stop(void);
int dia_fd_stop_async(void);
void dia_fd_abandon(void);
int dia_fd_peer_conf_parse(const char *list, struct dia_peer_conf *out,
			   size_t max, size_t *count);
const struct dia_peer_conf *dia_fd_peer_confs(size_t *count);
/* Per-peer statistics, in the order first seen. */
size_t dia_stats_count(void);
struct dia_peer_stat *dia_stats_at(size_t i);
struct dia_peer_stat *dia_stats_find(const char *id);
void dia_stats_error(const char *id, const char *error);
void dia_stats_error_get(struct dia_peer_stat *st, char *buf, size_t size);

/* diameter_service.c: the service table and what runs on the loop. */
extern const struct diameter_service dia_service;
int dia_service_register_all(void); /* fd_disp_register for handlers */
void dia_service_peer_event(const char *id, enum dia_peer_event event);
void dia_service_fini(void);
/* Answers are posted to freeDiameter once per loop turn from start to
 * stop (stop posts what is held). */
int dia_service_start(void);
void dia_service_stop(void);
int dia_apps_announce(void);

#endif /* TANDEM_DIAMETER_INT_H */
