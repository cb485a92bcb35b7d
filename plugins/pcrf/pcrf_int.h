/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcrf_int.h - what the files of the pcrf plugin share. Never installed.
 *
 * The PCRF keeps two kinds of session, both in memory (hash tables, the
 * loop thread only) and written behind to SQLite (pcrf_store.c):
 * - a Gx session: one IP-CAN session of a UE, opened by the PCEF with a
 *   CCR-I, found by Session-Id or by the UE's IPv4 address / IPv6 prefix;
 * - an Rx session: one AF session (a call, or the registration-time
 *   signalling session), bound to the Gx session of its UE address, with
 *   the PCC rules made from its Media-Component-Descriptions.
 */
#ifndef TANDEM_PCRF_INT_H
#define TANDEM_PCRF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/diameter.h"
#include "tandem/plugin.h"

#include "ims_hash.h"
#include "ims_util.h"

#define TND_LOG_HOST pcrf_host
#define TND_LOG_CATEGORY "pcrf"

TND_PLUGIN_DECLARE(pcrf);
#define PCRF_SELF (&TND_PLUGIN_SYMBOL(pcrf))

#define PCRF_SID_MAX 256
#define PCRF_HOST_MAX 128
#define PCRF_FLOW_MAX 160
#define PCRF_MAX_RULES 8 /* media components per AF session */
#define PCRF_MAX_FLOWS 4 /* flow descriptions per rule */

/* TS 29.214 5.5: Experimental-Result-Code values (vendor 10415). */
enum rx_experimental {
	RX_INVALID_SERVICE_INFORMATION = 5061,
	RX_FILTER_RESTRICTIONS = 5062,
	RX_REQUESTED_SERVICE_NOT_AUTHORIZED = 5063,
	RX_DUPLICATED_AF_SESSION = 5064,
	RX_IP_CAN_SESSION_NOT_AVAILABLE = 5065,
};

/* RFC 6733 7.1.5 */
#define DIA_UNKNOWN_SESSION_ID 5002

/* TS 29.214 5.3.13 Media-Type */
enum rx_media_type {
	RX_MEDIA_AUDIO = 0,
	RX_MEDIA_VIDEO = 1,
	RX_MEDIA_DATA = 2,
	RX_MEDIA_APPLICATION = 3,
	RX_MEDIA_CONTROL = 4,
	RX_MEDIA_TEXT = 5,
	RX_MEDIA_MESSAGE = 6,
	RX_MEDIA_OTHER = 0xFFFFFFFF,
};

/* TS 29.214 5.3.12 Flow-Usage */
enum rx_flow_usage {
	RX_FLOW_NO_INFORMATION = 0,
	RX_FLOW_RTCP = 1,
	RX_FLOW_AF_SIGNALLING = 2,
};

/* TS 29.214 5.3.11 Flow-Status */
enum rx_flow_status {
	RX_FLOW_ENABLED_UPLINK = 0,
	RX_FLOW_ENABLED_DOWNLINK = 1,
	RX_FLOW_ENABLED = 2,
	RX_FLOW_DISABLED = 3,
	RX_FLOW_REMOVED = 4,
};

/* TS 29.214 5.3.17 Specific-Action */
enum rx_specific_action {
	RX_SA_CHARGING_CORRELATION_EXCHANGE = 1,
	RX_SA_LOSS_OF_BEARER = 2,
	RX_SA_RECOVERY_OF_BEARER = 3,
	RX_SA_RELEASE_OF_BEARER = 4,
	RX_SA_IP_CAN_CHANGE = 6,
	RX_SA_OUT_OF_CREDIT = 7,
	RX_SA_SUCCESSFUL_RESOURCES_ALLOCATION = 8,
	RX_SA_FAILED_RESOURCES_ALLOCATION = 9,
};

/* TS 29.214 5.3.1 Abort-Cause */
enum rx_abort_cause {
	RX_ABORT_BEARER_RELEASED = 0,
	RX_ABORT_INSUFFICIENT_SERVER_RESOURCES = 1,
	RX_ABORT_INSUFFICIENT_BEARER_RESOURCES = 2,
};

/* RFC 4006 8.3 CC-Request-Type */
enum gx_request_type {
	GX_INITIAL = 1,
	GX_UPDATE = 2,
	GX_TERMINATION = 3,
	GX_EVENT = 4,
};

/* TS 29.212 5.3.19 PCC-Rule-Status */
enum gx_rule_status {
	GX_RULE_ACTIVE = 0,
	GX_RULE_INACTIVE = 1,
	GX_RULE_TEMPORARILY_INACTIVE = 2,
};

/* TS 29.212 5.3.65 Flow-Direction */
enum gx_flow_direction {
	GX_DIR_UNSPECIFIED = 0,
	GX_DIR_DOWNLINK = 1,
	GX_DIR_UPLINK = 2,
	GX_DIR_BIDIRECTIONAL = 3,
};

struct pcrf_cfg {
	char *db_path;
	unsigned long long default_qci;
	unsigned long long default_arp;
	unsigned long long apn_ambr_ul, apn_ambr_dl;
	char *codec_bitrates;
	unsigned long long rar_timeout_ms;
	unsigned long long audit_interval_s;
};

/* The QoS of one kind of media, from a [policy NAME] section. */
struct pcrf_policy {
	char *name;
	char *media;	   /* audio|video|signalling|text|application|any */
	char *subscribers; /* glob on the AF's Subscription-Id, "*" all */
	char *codecs;	   /* codec names it is for, "" any */
	unsigned long long qci;
	unsigned long long arp;	       /* Priority-Level 1..15 */
	int preempt_cap, preempt_vuln; /* may pre-empt / be pre-empted */
	int gbr;		       /* guaranteed bit rate (GBR bearer) */
	unsigned long long max_kbps;   /* ceiling of the requested bandwidth */
	unsigned long long default_kbps; /* when neither b=AS nor codec */
};

/* One PCC rule: what a media component of an AF session asks for. */
struct pcrf_rule {
	char name[48];
	uint32_t mc_number;
	uint32_t media_type;
	uint32_t flow_status;
	uint32_t qci, arp;
	int preempt_cap, preempt_vuln;
	uint32_t mbr_ul, mbr_dl, gbr_ul, gbr_dl;
	unsigned nflows;
	char flows[PCRF_MAX_FLOWS][PCRF_FLOW_MAX]; /* Rx Flow-Description */
	bool lost; /* the PCEF reported it inactive */
};

struct pcrf_gx {
	char sid[PCRF_SID_MAX];
	char pcef_host[PCRF_HOST_MAX], pcef_realm[PCRF_HOST_MAX];
	char ipv4[16]; /* dotted quad, "" when none */
	char ipv6[48]; /* prefix text "2001:db8::/64", "" when none */
	char apn[64];
	unsigned nrx; /* Rx sessions bound */
	uint64_t created_s;
};

struct pcrf_rx {
	char sid[PCRF_SID_MAX];
	char gx_sid[PCRF_SID_MAX];
	char af_host[PCRF_HOST_MAX], af_realm[PCRF_HOST_MAX];
	char subscriber[128];
	char icid[64];
	uint32_t actions; /* bit n: Specific-Action n subscribed */
	uint64_t seq;	  /* names its rules */
	unsigned nrules;
	struct pcrf_rule *rules; /* nrules of them, malloc'd (NULL: none) */
	uint64_t created_s;
	bool aborting;	    /* ASR sent */
	uint64_t aborted_s; /* when (time(NULL)), for the audit */
};

extern const struct tnd_host_api *pcrf_host;
extern const struct diameter_service *dia;
extern struct pcrf_cfg *pcrf_cfg;

struct pcrf_counters {
	struct tnd_counter *ccr_i, *ccr_u, *ccr_t, *aar, *str, *rar_gx, *rar_rx,
		*asr, *errors, *rule_failures, *audited;
};
extern struct pcrf_counters pcrf_cnt;

/* pcrf_sess.c: the tables and the binding (TS 29.213 4.3 / 8.2). */
extern struct ims_hash pcrf_gx_by_sid, pcrf_rx_by_sid;
struct pcrf_gx *pcrf_gx_find(const char *sid);
struct pcrf_gx *pcrf_gx_by_ue(const char *ipv4, const char *ipv6);
int pcrf_gx_add(struct pcrf_gx *gx);
void pcrf_gx_remove(struct pcrf_gx *gx);
struct pcrf_rx *pcrf_rx_find(const char *sid);
int pcrf_rx_add(struct pcrf_rx *rx);
void pcrf_rx_remove(struct pcrf_rx *rx);
/* The Rx session owning a rule name, and its rule. */
struct pcrf_rx *pcrf_rule_owner(const char *name, struct pcrf_rule **rule);
uint64_t pcrf_next_seq(void);
/* Replace rx's rules by a copy of rules[0..n): 0 or -ENOMEM. */
int pcrf_rx_set_rules(struct pcrf_rx *rx, const struct pcrf_rule *rules,
		      unsigned n);
/* The Session-Id of a message, NUL-terminated ("" when none). */
void pcrf_msg_sid(struct dia_msg *msg, char *out, size_t size);
/* Auth-Application-Id (and Auth-Request-Type) of the request, into ans. */
void pcrf_answer_app(struct dia_msg *ans);
void pcrf_sess_clear(void);
/* "10.0.0.1" from a Framed-IP-Address (4 bytes), "2001:db8::/64" from a
 * Framed-IPv6-Prefix (RFC 3162 2.3): 0 or -EINVAL. */
int pcrf_ipv4_text(const uint8_t *v, size_t len, char *out, size_t size);
int pcrf_ipv6_text(const uint8_t *v, size_t len, char *out, size_t size);

/* pcrf_policy.c */
int pcrf_policy_load(void);
void pcrf_policy_free(void);
/* The policy for a media type (and AF signalling), subscriber and codec
 * (the first of Codec-Data, "" when unknown). */
const struct pcrf_policy *pcrf_policy_for(uint32_t media_type, bool signalling,
					  const char *subscriber,
					  const char *codec);
/* bits/s of a codec ("AMR", "PCMU") from codec_bitrates; 0: unknown. */
uint32_t pcrf_codec_bps(const char *codec);
unsigned pcrf_policy_count(void);
const struct pcrf_policy *pcrf_policy_at(unsigned i);

/* pcrf_store.c: SQLite, written behind, grouped per loop turn. */
int pcrf_store_open(const char *path);
void pcrf_store_close(void);
int pcrf_store_load(void); /* the tables from the file, at start */
void pcrf_store_gx_put(const struct pcrf_gx *gx);
void pcrf_store_gx_del(const char *sid);
void pcrf_store_rx_put(const struct pcrf_rx *rx);
void pcrf_store_rx_del(const char *sid);
void pcrf_store_flush(void);

/* pcrf_gx.c */
int pcrf_gx_register(void);
/* RAR to the PCEF installing and/or removing rules of an Rx session;
 * done(rx_sid, result) runs with the RAA's result (0 ok, else the
 * Result-Code or -ETIMEDOUT). */
typedef void (*pcrf_rar_done)(const char *rx_sid, int result, void *arg);
int pcrf_gx_push(struct pcrf_gx *gx, const struct pcrf_rx *rx,
		 const struct pcrf_rule *install, unsigned ninstall,
		 const char *const *remove, unsigned nremove,
		 pcrf_rar_done done, void *arg);

/* pcrf_rx.c */
int pcrf_rx_register(void);
/* The IP-CAN session of gx ended: ASR to each AF session bound to it. */
void pcrf_rx_ipcan_gone(struct pcrf_gx *gx);
/* Rules of rx reported inactive by the PCEF: RAR (Specific-Action
 * loss of bearer) or, when none is left, ASR. */
void pcrf_rx_rules_lost(struct pcrf_rx *rx, unsigned nlost);
/* An event of the IP-CAN session the AFs may have subscribed to. */
void pcrf_rx_notify(struct pcrf_gx *gx, uint32_t specific_action);
void pcrf_rx_send_asr(struct pcrf_rx *rx, uint32_t cause);

/* pcrf_cmd.c */
extern const struct tnd_command pcrf_commands[];

#endif /* TANDEM_PCRF_INT_H */
