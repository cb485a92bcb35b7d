/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf: private declarations shared by the plugin's files.
 *
 * A call is one object with two halves: a SIP dialog (we are its UAS when
 * the call comes from IMS, its UAC when it comes from the circuit) and a
 * call of the pri service, joined by a context of the mgw service. Its
 * state machine is a table (mgcf_fsm.c); every transition is logged.
 */
#ifndef MGCF_INT_H
#define MGCF_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "../bgcf/bgcf.h"
#include "../mgw/mgw.h"
#include "mgcf_cause.h"
#include "mgcf_number.h"
#include "mgcf_sipmsg.h"
#include "tandem/plugin.h"
#include "tandem/pri.h"
#include "tandem/sip.h"

#define TND_LOG_HOST mgcf.host
#define TND_LOG_CATEGORY "mgcf"

TND_PLUGIN_DECLARE(mgcf);
#define MGCF_SELF (&TND_PLUGIN_SYMBOL(mgcf))

#define MGCF_TRUNKS_MAX 32
#define MGCF_TRUNK_SPANS 32
#define MGCF_URI_MAX 256
#define MGCF_TAG_MAX 64
#define MGCF_CALLID_MAX 128
#define MGCF_ROUTE_MAX 1024
#define MGCF_NUM_MAX 40
#define MGCF_LAT_SAMPLES 65536
/* RFC 3261 13.3.1.1: a ringing UAS repeats its provisional each minute */
#define MGCF_PROV_REFRESH_MS 60000

struct mgcf_cfg {
	char *domain;
	char *contact;
	char *sip_next_hop;
	char *uri_form;
	char *trunk;
	char *prack;
	int early_media;
	char *early_through;
	unsigned long long cancel_poll_ms;
	unsigned long long overlap_timeout_ms;
	unsigned long long max_calls;
	int trust_domain;
	unsigned long long ack_timeout_ms;
	int t38;
	unsigned long long min_se_s;
};

enum mgcf_hunt {
	HUNT_SEQUENTIAL = 0, /* the first span with a free B-channel */
	HUNT_ROUNDROBIN,     /* the span after the last one used */
	HUNT_LEAST,	     /* the span with the most free B-channels */
};

struct mgcf_trunk_cfg {
	char *spans;
	char *hunt;
	char *country_code;
	char *national_prefix;
	char *international_prefix;
	char *area_code;
	char *ddi_prefix;
	unsigned long long ddi_digits;
	char *called_format;
	char *calling_format;
	char *sip_next_hop;
	unsigned long long called_digits;
};

struct mgcf_trunk {
	char name[32];
	char section[48];
	struct mgcf_trunk_cfg cfg;
	struct mgcf_numplan plan;
	int spans[MGCF_TRUNK_SPANS];
	unsigned nspans;
	enum mgcf_hunt hunt;
	unsigned next_span; /* round robin */
	uint64_t calls_in, calls_out, rejected;
};

enum mgcf_dir {
	MGCF_FROM_IMS = 0, /* SIP INVITE -> SETUP: we are the SIP UAS */
	MGCF_FROM_PSTN,	   /* SETUP -> SIP INVITE: we are the SIP UAC */
};

/* mgcf_fsm.c has the table: the events each state takes, its exits. */
enum mgcf_state {
	ST_NULL = 0,
	ST_O_SETUP,	  /* from IMS: SETUP sent, 100 Trying back */
	ST_O_PROCEEDING,  /* CALL PROCEEDING received */
	ST_O_ALERTING,	  /* ALERTING: 180, or 183 with early media */
	ST_O_PROGRESS,	  /* PROGRESS with in-band info: 183 */
	ST_O_ANSWERED,	  /* CONNECT: 200 sent, waiting for the ACK */
	ST_I_OVERLAP,	  /* from PSTN: collecting called digits */
	ST_I_INVITE,	  /* INVITE sent */
	ST_I_EARLY,	  /* 18x received: ALERTING / PROGRESS sent */
	ST_ACTIVE,	  /* answered both sides */
	ST_RELEASING,	  /* one side cleared, the other clearing */
	ST_RELEASED,
	ST_COUNT
};

enum mgcf_event {
	EV_SIP_INVITE = 0,
	EV_SIP_1XX,
	EV_SIP_2XX,
	EV_SIP_FAILURE,
	EV_SIP_ACK,
	EV_SIP_BYE,
	EV_SIP_CANCEL,
	EV_SIP_REINVITE,
	EV_PRI_SETUP,
	EV_PRI_INFO,
	EV_PRI_PROCEEDING,
	EV_PRI_ALERTING,
	EV_PRI_PROGRESS,
	EV_PRI_CONNECT,
	EV_PRI_DISCONNECT,
	EV_PRI_RELEASE,
	EV_DIGITS_DONE,
	EV_TIMEOUT,
	EV_MEDIA_TIMEOUT,
	EV_LOCAL,
	EV_COUNT
};

struct mgcf_call {
	unsigned id;
	enum mgcf_dir dir;
	enum mgcf_state state;
	struct mgcf_trunk *trunk;

	/* the circuit side */
	uint32_t pri_call; /* 0 once it is gone */
	int span, bchan;
	char called[MGCF_NUM_MAX], calling[MGCF_NUM_MAX]; /* E.164 or local */
	int pres; /* calling presentation: 0 allowed, 1 restricted */
	bool pri_releasing; /* we asked the pri service to clear it */
	/* from the circuit, while digits come (overlap receiving) */
	char raw_called[MGCF_NUM_MAX];
	int raw_ton, raw_npi;

	/* the media */
	struct mgw_ctx *mgw;
	char sdp[MGW_SDP_MAX]; /* our answer, sent with 18x / 200 */
	int sdp_len;
	bool sdp_sent;

	/* the SIP dialog */
	char call_id[MGCF_CALLID_MAX];
	char local_uri[MGCF_URI_MAX], remote_uri[MGCF_URI_MAX];
	char local_tag[MGCF_TAG_MAX], remote_tag[MGCF_TAG_MAX];
	char remote_target[MGCF_URI_MAX];
	char route_set[MGCF_ROUTE_MAX]; /* "Route: <..>\r\n" lines */
	uint32_t local_cseq;
	struct sip_request *invite; /* from IMS, until its final response */
	struct sip_client *uac;	    /* to IMS, until its final response */
	struct sip_client *reinvite; /* our re-INVITE (T.38), until final */
	struct sip_client *bye;      /* our BYE, until its final response */
	struct sip_client *refresh;  /* our session refresh, until final */
	bool t38_sent;
	bool final_sent, acked;
	bool confirmed;	   /* answered (200 sent or received) */
	bool bye_pending;  /* BYE once the ACK is in (RFC 3261 15) */
	bool bye_sent;
	bool far_disconnected; /* the circuit sent DISCONNECT (ladder) */
	bool cancel_told; /* the sip service tells us of a CANCEL */
	/* session timer (RFC 4028), calls from IMS: 0 none */
	unsigned se_s;
	bool se_we_refresh; /* IMS asked refresher=uas: we send UPDATEs */
	struct tnd_timer *se_timer;
	bool cancel_sent;
	bool sdp_applied; /* the peer's SDP answer is in the mgw */
	char request_uri[MGCF_URI_MAX]; /* of our INVITE (to IMS) */
	bool peer_100rel;  /* the INVITE allows reliable provisionals */
	uint32_t rseq;
	bool prack_wait;   /* a reliable 18x waits for its PRACK */
	unsigned rel_tries;
	int rel_status;
	/* the last provisional sent: the cancel poll repeats it */
	int last_prov;
	bool last_prov_sdp;
	uint32_t last_prov_rseq;
	int held_final;	   /* a 200 waiting for the PRACK (RFC 3262 3) */
	int cause;	   /* the Q.850 cause of the release */
	bool sip_done;	   /* nothing more owed on the SIP side */
	unsigned refs;	   /* event handlers running on it: not freed */

	struct tnd_timer *timer;     /* cancel poll, overlap, ACK wait */
	struct tnd_timer *rel_timer; /* reliable 18x retransmission */

	/* latency of the gateway (microseconds, CLOCK_MONOTONIC) */
	uint64_t t_start_us, t_setup_us;

	struct mgcf_call *next;
};

struct mgcf_latency {
	const char *name;
	uint32_t samples[MGCF_LAT_SAMPLES];
	unsigned n, head;
	uint64_t count;
};

enum mgcf_lat_kind {
	LAT_INVITE_SETUP = 0, /* INVITE in -> SETUP out */
	LAT_ALERT_180,	      /* ALERTING in -> 180/183 out */
	LAT_CONNECT_200,      /* CONNECT in -> 200 out */
	LAT_SETUP_INVITE,     /* SETUP in -> INVITE out */
	LAT_180_ALERT,	      /* 18x in -> ALERTING out */
	LAT_200_CONNECT,      /* 200 in -> CONNECT out */
	LAT_COUNT
};

struct mgcf_globals {
	const struct tnd_host_api *host;
	struct mgcf_cfg *cfg;
	const struct sip_service *sip;
	const struct tnd_pri_service *pri;
	const struct mgw_service *mgw;
	const struct bgcf_service *bgcf; /* NULL: no bgcf plugin */
	bool sip_on_cancel; /* the sip service tells of CANCELs (1.1) */

	struct mgcf_trunk trunks[MGCF_TRUNKS_MAX];
	unsigned ntrunks;
	struct mgcf_trunk *default_trunk;

	struct mgcf_call *calls;
	unsigned ncalls, last_id, peak_calls;
	bool stopping;

	struct mgcf_latency *lat; /* LAT_COUNT of them */
	struct tnd_counter *c_from_ims, *c_from_pstn, *c_answered,
		*c_failed, *c_no_circuit, *c_cancelled, *c_proxied;
};

extern struct mgcf_globals mgcf;

/* mgcf.c */
struct mgcf_trunk *mgcf_trunk_by_name(const char *name);
struct mgcf_trunk *mgcf_trunk_of_span(int span);

/* mgcf_fsm.c */
const char *mgcf_state_name(enum mgcf_state s);
const char *mgcf_event_name(enum mgcf_event e);
/* Move `call` to `to` on `ev`; a move the table forbids is logged and
 * refused (-EPERM). */
int mgcf_fsm_go(struct mgcf_call *call, enum mgcf_state to,
		enum mgcf_event ev);
bool mgcf_fsm_takes(const struct mgcf_call *call, enum mgcf_event ev);

/* mgcf_call.c */
struct mgcf_call *mgcf_call_new(enum mgcf_dir dir);
struct mgcf_call *mgcf_call_by_pri(uint32_t pri_call);
struct mgcf_call *mgcf_call_by_callid(const char *id, size_t len);
/* Clear the call from wherever: both sides as needed, with `cause`. */
void mgcf_call_release(struct mgcf_call *call, int cause, enum mgcf_event ev);
/* Free the call once both sides are done and no handler holds it. */
void mgcf_call_maybe_free(struct mgcf_call *call);
/* Every event handler holds the call it works on, so that a clearing
 * deep inside cannot free it under the handler's feet; put() may free
 * it, after which the handler must not touch it. */
void mgcf_call_hold(struct mgcf_call *call);
void mgcf_call_put(struct mgcf_call *call);
void mgcf_call_release_all(int cause);
void mgcf_media_event(struct mgw_ctx *ctx, const struct mgw_event *ev,
		      void *arg);
/* (Re)arm the call's timer; its action depends on the call's state. */
void mgcf_call_timer(struct mgcf_call *call, uint64_t ms, uint64_t repeat_ms);
void mgcf_call_timer_stop(struct mgcf_call *call);
/* One message of the call's ladder, at debug level: "call 7 ladder ims>
 * INVITE ..." (arrows: ims> <ims from/to IMS, pri> <pri from/to the
 * circuit). contrib/pbxsim/pbxsim-demo.sh draws them. */
void mgcf_ladder(const struct mgcf_call *call, const char *arrow,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint64_t mgcf_now_us(void);
void mgcf_latency(enum mgcf_lat_kind kind, uint64_t since_us);
int mgcf_latency_init(void);
void mgcf_latency_fini(void);
/* p in 0..100 over the kept samples, microseconds. */
uint32_t mgcf_latency_pct(enum mgcf_lat_kind kind, double p);
const char *mgcf_latency_name(enum mgcf_lat_kind kind);

/* mgcf_sip.c */
int mgcf_sip_start(void);
void mgcf_sip_stop(void);
/* The SIP side learns what the circuit did. */
void mgcf_sip_progress(struct mgcf_call *call, int status, bool with_sdp);
void mgcf_sip_answer(struct mgcf_call *call);
/* End the SIP side with `cause`: a final response, a CANCEL or a BYE. */
void mgcf_sip_clear(struct mgcf_call *call, int cause);
int mgcf_sip_invite(struct mgcf_call *call);
/* A fax tone on an answered call: re-INVITE to T.38. */
void mgcf_sip_t38(struct mgcf_call *call);
void mgcf_sip_poll(struct mgcf_call *call);

/* mgcf_pri.c */
int mgcf_pri_start(void);
void mgcf_pri_stop(void);
/* Place the call on the trunk's spans; 0 or a Q.850 cause. */
int mgcf_pri_place(struct mgcf_call *call, const char *calling_uri_number,
		   bool restricted, bool screened);
void mgcf_pri_clear(struct mgcf_call *call, int cause);
void mgcf_pri_digits_done(struct mgcf_call *call);

/* mgcf_cmd.c */
extern const struct tnd_command mgcf_commands[];

#endif /* MGCF_INT_H */
