/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcscf_int.h - what the files of the pcscf plugin share. Never installed.
 */
#ifndef TANDEM_PCSCF_INT_H
#define TANDEM_PCSCF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tandem/plugin.h"
#include "tandem/rx.h"
#include "tandem/sip.h"

#include "ims.h"

#define TND_LOG_HOST pcscf_host
#define TND_LOG_CATEGORY "pcscf"

TND_PLUGIN_DECLARE(pcscf);
#define PCSCF_SELF (&TND_PLUGIN_SYMBOL(pcscf))

struct pcscf_cfg {
	char *name;
	char *icscf;
	char *visited_network_id;
	char *emergency_route;
	char *emergency_numbers;
	int emergency_unregistered;
	int subscribe_reg_event;
	unsigned long long reg_event_expires;
	char *sec_mechanisms;
	unsigned long long keepalive_s;
	char *ue_contact;
	unsigned long long dialog_max_s;
};

extern const struct tnd_host_api *pcscf_host;
extern const struct sip_service *sip;
extern struct pcscf_cfg *pcscf_cfg;
extern const struct rx_service *rx;

struct pcscf_counters {
	struct tnd_counter *register_rx, *registered, *deregistered;
	struct tnd_counter *orig, *term, *refused, *emergency;
	struct tnd_counter *reg_event_terminated, *rx_aar, *rx_str;
};
extern struct pcscf_counters pcscf_cnt;

/* ---- Registration cache (pcscf_reg.c) ------------------------------------ */

/* A UE registered through this P-CSCF: one per Contact. */
struct pcscf_ue {
	char *aor;     /* the identity it registered */
	char *contact; /* the Contact URI registered */
	char *flow;    /* "udp:IP:PORT" it registered from */
	char **impus;  /* P-Associated-URI, AoR form; [0] the default */
	size_t nimpus;
	char *service_route; /* Route value for its originating requests */
	int64_t expires_at;
	char *sec_mech; /* security mechanism agreed, or NULL */
	struct tnd_timer *timer;
	/* reg event subscription (RFC 3680) at the S-CSCF */
	struct sip_client *sub_client;
	char *sub_call_id, *sub_tag;
	uint32_t sub_cseq;
	int64_t sub_expires_at; /* when the subscription asked for lapses */
	struct rx_session *rx_signalling; /* its AF signalling session */
};

int pcscf_reg_init(void);
void pcscf_reg_fini(void);
struct pcscf_ue *pcscf_ue_by_flow(const char *flow);
struct pcscf_ue *pcscf_ue_by_contact(const char *contact);
struct pcscf_ue *pcscf_ue_by_impu(const char *impu);
/* Store what a 200 to a REGISTER says (replacing the UE's entry). */
struct pcscf_ue *pcscf_ue_save(const char *aor, const char *contact,
			       const char *flow, int64_t expires,
			       const char *service_route,
			       const char *associated);
/* Drop it (de-registration, expiry, reg event "terminated"). */
void pcscf_ue_drop(struct pcscf_ue *ue, const char *why);
/* Drop every UE registered under aor. */
unsigned pcscf_ue_drop_aor(const char *aor, const char *why);
void pcscf_ue_each(void (*fn)(struct pcscf_ue *ue, void *arg), void *arg);
size_t pcscf_ue_count(void);
/* Is impu one of the UE's identities? */
bool pcscf_ue_has(const struct pcscf_ue *ue, const char *impu);

/* ---- REGISTER (pcscf_register.c) ----------------------------------------- */

int pcscf_register(struct sip_request *req, const struct sip_message *m);
/* RFC 7315 5.6: a P-Charging-Vector with a fresh ICID. */
void pcscf_charging_vector(struct ims_msg *msg);

/* ---- Other requests (pcscf_route.c) -------------------------------------- */

enum sip_verdict pcscf_route_request(struct sip_request *req,
				     const struct sip_message *m);
int pcscf_route_init(void);

/* ---- Security agreement (pcscf_secagree.c) ------------------------------- */

/* RFC 3329 / TS 33.203: the mechanism for a REGISTER from this UE
 * (Security-Server lines to add to the 401), or a status to refuse. */
int pcscf_secagree_register(const struct ims_msg *req, struct ims_buf *hdrs,
			    char *mech, size_t mech_size);
/* Later requests: Security-Verify must echo what we offered. */
int pcscf_secagree_verify(const struct pcscf_ue *ue, const struct ims_msg *req);
int pcscf_secagree_init(void);

/* ---- reg event subscriber (pcscf_regevent.c) ----------------------------- */

/* Subscribe to the UE's reg event, or refresh its subscription. */
void pcscf_regevent_subscribe(struct pcscf_ue *ue);
/* Its subscription is in place (not ended by the S-CSCF). */
bool pcscf_regevent_active(const struct pcscf_ue *ue);
/* No subscription, or half its lifetime gone: time to (re)subscribe. */
bool pcscf_regevent_due(const struct pcscf_ue *ue);
void pcscf_regevent_unsubscribe(struct pcscf_ue *ue);
/* A NOTIFY for our subscription; true when taken. */
bool pcscf_regevent_notify(struct sip_request *req,
			   const struct sip_message *m);
void pcscf_regevent_fini(void);

/* ---- Rx (pcscf_rx.c) ----------------------------------------------------- */

void pcscf_rx_init(void);
void pcscf_rx_fini(void);
void pcscf_rx_dialog_ops(struct ims_dlg_ops *ops);
/* The UE registered: its signalling session (AAR), when the provider
 * has them and the UE has none yet. */
void pcscf_rx_signalling_start(struct pcscf_ue *ue);
/* It is gone (de-registered, expired, dropped): STR. */
void pcscf_rx_signalling_end(struct pcscf_ue *ue, const char *why);
/* A request inside a dialog, before it is relayed: an SDP offer in a
 * re-INVITE or UPDATE changes the call's media (AAR). */
void pcscf_rx_in_dialog(const struct sip_message *m);

#endif /* TANDEM_PCSCF_INT_H */
