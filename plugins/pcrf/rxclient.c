/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rxclient: provides the "rx" service (tandem/rx.h) and speaks Diameter
 * Rx (TS 29.214) to a PCRF. This is what a P-CSCF node loads next to
 * `pcscf` in a real deployment:
 * - session_start / session_update: an AAR with one
 *   Media-Component-Description per m= line of the SDP offer and answer
 *   (TS 29.214 Annex B), the UE's address, the subscriber, the ICID and
 *   the Specific-Actions subscribed to; the AAA's result is the verdict;
 * - signalling_start: the UE's registration-time AF signalling session,
 *   an AAR whose component 0 holds the SIP flows (Flow-Usage
 *   AF_SIGNALLING, TS 29.214 4.4.1.1);
 * - session_end: an STR;
 * - an ASR from the PCRF calls the abort callback (the P-CSCF releases
 *   the call, then ends the session: STR); so does an RAR reporting the
 *   loss or release of the bearer (release_on_bearer_loss).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tandem/diameter.h"
#include "tandem/plugin.h"
#include "tandem/rx.h"

#include "ims_hash.h"
#include "rxclient.h"

#define TND_LOG_HOST host
#define TND_LOG_CATEGORY "rxclient"

TND_PLUGIN_DECLARE(rxclient);
#define SELF (&TND_PLUGIN_SYMBOL(rxclient))

/* TS 29.214 values used here (see pcrf_int.h for the lists). */
enum { SA_LOSS_OF_BEARER = 2, SA_RELEASE_OF_BEARER = 4, SA_IP_CAN_CHANGE = 6 };
enum { FLOW_RTCP = 1, FLOW_AF_SIGNALLING = 2 };
enum { SUB_E164 = 0, SUB_SIP_URI = 2 };
enum { TERMINATION_LOGOUT = 1 };

struct rxclient_cfg {
	char *pcrf_host;
	char *pcrf_realm;
	char *af_app_id;
	char *specific_actions;
	unsigned long long timeout_ms;
	int release_on_bearer_loss;
};

enum rx_state { RXS_PENDING, RXS_ACTIVE, RXS_FAILED };

struct rx_session {
	char sid[256];
	char call_id[128];
	rx_result_cb cb;
	void *arg;
	enum rx_state state;
	bool ended;	   /* session_end ran: free when the answer comes */
	bool signalling;   /* the UE's registration-time session */
	unsigned inflight; /* requests awaiting an answer */
	uint64_t sent_ms;  /* the last AAR, for the sweep */
};

static const struct tnd_host_api *host;
static const struct diameter_service *dia;
static struct rxclient_cfg *cfg;
static struct ims_hash sessions; /* by Session-Id */
static struct tnd_timer *sweep_timer;
static rx_abort_cb abort_cb;
static void *abort_arg;
static struct {
	unsigned long aar, aaa_ok, aaa_refused, timeouts, str, asr, rar;
} stats;

static const struct tnd_param rxclient_params[] = {
	TND_PARAM("pcrf_host", TND_STR, struct rxclient_cfg, pcrf_host, "",
		  "Destination-Host of AAR/STR (the PCRF's identity; empty: "
		  "route by realm)"),
	TND_PARAM("pcrf_realm", TND_STR, struct rxclient_cfg, pcrf_realm, "",
		  "Destination-Realm (empty: this node's realm)"),
	TND_PARAM("af_application_id", TND_STR, struct rxclient_cfg, af_app_id,
		  "IMS Services", "AF-Application-Identifier of the AARs"),
	TND_PARAM("specific_actions", TND_STR, struct rxclient_cfg,
		  specific_actions, "2 4 6",
		  "Specific-Action values subscribed to in every AAR (2 loss "
		  "of bearer, 4 release of bearer, 6 IP-CAN change, ...)"),
	TND_PARAM("timeout_ms", TND_UINT, struct rxclient_cfg, timeout_ms,
		  "5000",
		  "time to wait for an AAA (above the PCRF's own wait for the "
		  "PCEF, 3 s by default)",
		  .min = 10, .max = 600000),
	TND_PARAM("release_on_bearer_loss", TND_BOOL, struct rxclient_cfg,
		  release_on_bearer_loss, "yes",
		  "an RAR reporting the loss or release of the bearer "
		  "releases the call (as an ASR does)"),
	TND_PARAM_END
};

/* ---- Building the AAR -------------------------------------------------- */

static uint32_t media_type(const char *t)
{
	static const char *const names[] = { "audio",	    "video",   "data",
					     "application", "control", "text",
					     "message" };

	for (uint32_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(t, names[i]) == 0)
			return i;
	return 0xFFFFFFFFu; /* OTHER */
}

/* Flow-Status from the UE's direction (TS 29.214 Annex B.1). */
static uint32_t flow_status(const struct rxc_media *ue)
{
	if (ue->port == 0)
		return 4; /* REMOVED */
	switch (ue->dir) {
	case RXC_SENDONLY: return 0; /* ENABLED-UPLINK */
	case RXC_RECVONLY: return 1; /* ENABLED-DOWNLINK */
	case RXC_INACTIVE: return 3; /* DISABLED */
	default: return 2;	     /* ENABLED */
	}
}

/* Uplink from the UE to the remote port, downlink to the UE's port; the
 * source ports are not known from SDP and are left out (Annex B.2). */
static void add_flows(struct dia_avp *sub, const char *ue_addr,
		      unsigned ue_port, const char *remote_addr,
		      unsigned remote_port)
{
	char f[200];

	snprintf(f, sizeof(f), "permit out 17 from %s to %s %u", remote_addr,
		 ue_addr, ue_port);
	dia->add_str(sub, "Flow-Description", f, (size_t)-1);
	snprintf(f, sizeof(f), "permit in 17 from %s to %s %u", ue_addr,
		 remote_addr, remote_port);
	dia->add_str(sub, "Flow-Description", f, (size_t)-1);
}

static void add_codec_data(struct dia_avp *mcd, const char *dir,
			   const char *role, const struct rxc_media *m)
{
	char text[700];

	snprintf(text, sizeof(text), "%s\n%s\n%s", dir, role, m->lines);
	dia->add_str(mcd, "Codec-Data", text, (size_t)-1);
}

static void add_mcd(struct dia_avp *root, unsigned number,
		    const struct rxc_media *ue, const struct rxc_media *remote,
		    bool ue_offered)
{
	struct dia_avp *mcd =
		dia->add_group(root, "Media-Component-Description");
	struct dia_avp *sub;

	if (!mcd)
		return;
	dia->add_u32(mcd, "Media-Component-Number", number);
	dia->add_u32(mcd, "Media-Type", media_type(ue->type));
	/* b=AS of the SDP a side sends says what it wants to receive */
	if (remote->as_kbps)
		dia->add_u32(mcd, "Max-Requested-Bandwidth-UL",
			     remote->as_kbps * 1000u);
	if (ue->as_kbps)
		dia->add_u32(mcd, "Max-Requested-Bandwidth-DL",
			     ue->as_kbps * 1000u);
	dia->add_u32(mcd, "Flow-Status", flow_status(ue));
	/* Codec-Data: "uplink" is the SDP the UE sent (TS 29.214 5.3.7) */
	add_codec_data(mcd, "uplink", ue_offered ? "offer" : "answer", ue);
	add_codec_data(mcd, "downlink", ue_offered ? "answer" : "offer",
		       remote);
	if (ue->port == 0 || remote->port == 0)
		return;
	sub = dia->add_group(mcd, "Media-Sub-Component");
	if (sub) {
		dia->add_u32(sub, "Flow-Number", 1);
		add_flows(sub, ue->addr, ue->port, remote->addr, remote->port);
	}
	if (ue->rtcp_port == ue->port) /* rtcp-mux: one flow */
		return;
	sub = dia->add_group(mcd, "Media-Sub-Component");
	if (sub) {
		dia->add_u32(sub, "Flow-Number", 2);
		add_flows(sub, ue->addr, ue->rtcp_port, remote->addr,
			  remote->rtcp_port);
		dia->add_u32(sub, "Flow-Usage", FLOW_RTCP);
	}
}

/* 0, or -EINVAL when the SDP pair cannot be read. */
static int add_media(struct dia_avp *root, const struct rx_session_info *in)
{
	struct rxc_sdp offer, answer;
	const struct rxc_sdp *ue, *remote;

	if (!in->sdp_offer_len || !in->sdp_answer_len ||
	    rxc_sdp_parse(in->sdp_offer, in->sdp_offer_len, &offer) ||
	    rxc_sdp_parse(in->sdp_answer, in->sdp_answer_len, &answer))
		return -EINVAL;
	ue = in->originating ? &offer : &answer;
	remote = in->originating ? &answer : &offer;
	for (unsigned i = 0; i < offer.n && i < answer.n; i++)
		add_mcd(root, i + 1, &ue->m[i], &remote->m[i],
			in->originating != 0);
	return 0;
}

static int add_ue_address(struct dia_avp *root, const char *addr)
{
	uint8_t v6[18] = { 0, 128 };
	struct in_addr v4;

	if (!addr || !addr[0])
		return -EINVAL;
	if (inet_pton(AF_INET, addr, &v4) == 1)
		return dia->add_str(root, "Framed-IP-Address", &v4, 4);
	if (inet_pton(AF_INET6, addr, v6 + 2) == 1) {
		v6[1] = 64; /* the UE's /64 prefix (TS 29.214 5.3, 29.061) */
		memset(v6 + 10, 0, 8);
		return dia->add_str(root, "Framed-IPv6-Prefix", v6, 10);
	}
	return -EINVAL;
}

static void add_subscriber(struct dia_avp *root, const char *id)
{
	struct dia_avp *sub;
	bool tel = id && strncmp(id, "tel:", 4) == 0;

	if (!id || !id[0])
		return;
	sub = dia->add_group(root, "Subscription-Id");
	if (!sub)
		return;
	dia->add_u32(sub, "Subscription-Id-Type", tel ? SUB_E164 : SUB_SIP_URI);
	dia->add_str(sub, "Subscription-Id-Data", tel ? id + 4 : id,
		     (size_t)-1);
}

static void add_actions(struct dia_avp *root)
{
	const char *p = cfg->specific_actions;

	while (p && *p) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p)
			break;
		dia->add_u32(root, "Specific-Action", (uint32_t)v);
		p = end + strspn(end, " ,");
	}
}

static struct dia_msg *new_request(uint32_t cmd, const char *sid)
{
	return dia->request_new(DIA_APP_RX, cmd, sid,
				cfg->pcrf_realm[0] ? cfg->pcrf_realm : NULL,
				cfg->pcrf_host[0] ? cfg->pcrf_host : NULL);
}

static struct dia_msg *make_aar(const char *sid,
				const struct rx_session_info *in)
{
	struct dia_msg *req = new_request(DIA_CMD_AAR, sid);
	struct dia_avp *root;

	if (!req)
		return NULL;
	root = dia->root(req);
	dia->add_str(root, "AF-Application-Identifier", cfg->af_app_id,
		     (size_t)-1);
	if (add_media(root, in) == 0 &&
	    add_ue_address(root, in->ue_address) == 0) {
		if (in->icid && in->icid[0])
			dia->add_str(root, "AF-Charging-Identifier", in->icid,
				     (size_t)-1);
		add_actions(root);
		add_subscriber(root, in->subscriber);
		return req;
	}
	tnd_info("no AAR for %s: no usable SDP pair or UE address",
		 in->call_id ? in->call_id : "?");
	dia->msg_free(req);
	return NULL;
}

/* ---- Sessions ---------------------------------------------------------- */

static void session_free(struct rx_session *s)
{
	if (ims_hash_get(&sessions, s->sid) == s)
		ims_hash_del(&sessions, s->sid);
	free(s);
}

/* The Experimental-Result when there is one (a PCRF may send a
 * Result-Code beside it, see docs/pcrf.md), else the Result-Code. */
static void answer_result(struct dia_msg *ans, uint32_t *vendor, uint32_t *code)
{
	struct dia_avp *er = dia->find(dia->root(ans), "Experimental-Result");

	if (er && dia->find_u32(er, "Experimental-Result-Code", code) == 0) {
		*vendor = 0;
		dia->find_u32(er, "Vendor-Id", vendor);
		return;
	}
	dia->result(ans, vendor, code);
}

static void on_aaa(struct dia_msg *ans, int status, void *arg)
{
	struct rx_session *s = arg;
	uint32_t vendor = 0, code = 0;
	int verdict;

	s->inflight--;
	if (!ans) {
		stats.timeouts++;
		verdict = status ? status : -ETIMEDOUT;
	} else {
		answer_result(ans, &vendor, &code);
		verdict = code == DIA_SUCCESS && vendor == 0 ? 0 : -EACCES;
		verdict ? stats.aaa_refused++ : stats.aaa_ok++;
	}
	if (verdict)
		tnd_notice("AAA for %s: %s %u", s->call_id,
			   vendor ? "Experimental-Result" : "Result-Code",
			   code);
	if (s->ended) {
		if (!s->inflight)
			session_free(s);
		return;
	}
	if (s->state == RXS_PENDING) {
		s->state = verdict ? RXS_FAILED : RXS_ACTIVE;
		s->cb(s, verdict, s->arg); /* may call session_end */
	}
}

/* Send an AAR made for s (the first one names the session). */
static int send_request_aar(struct rx_session *s, struct dia_msg *req)
{
	struct dia_msg_info mi;

	if (!req)
		return -EINVAL;
	if (!s->sid[0] && dia->msg_info(req, &mi) == 0 && mi.session_id)
		snprintf(s->sid, sizeof(s->sid), "%.*s", (int)mi.session_id_len,
			 (const char *)mi.session_id);
	stats.aar++;
	s->sent_ms = host->now_ms();
	if (dia->send(req, (uint32_t)cfg->timeout_ms, on_aaa, s))
		return -EIO;
	s->inflight++;
	return 0;
}

static int send_aar(struct rx_session *s, const struct rx_session_info *in)
{
	return send_request_aar(s, make_aar(s->sid[0] ? s->sid : NULL, in));
}

static int session_start(const struct rx_session_info *info, rx_result_cb cb,
			 void *arg, struct rx_session **out)
{
	struct rx_session *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	snprintf(s->call_id, sizeof(s->call_id), "%s",
		 info->call_id ? info->call_id : "");
	s->cb = cb;
	s->arg = arg;
	rc = send_aar(s, info);
	if (rc || ims_hash_put(&sessions, s->sid, s)) {
		/* nothing sent, or sent but not findable: forget it */
		if (!rc)
			s->ended = true; /* the answer frees it */
		else
			free(s);
		return rc ? rc : -ENOMEM;
	}
	tnd_info("AAR %s for %s", s->sid, s->call_id);
	*out = s;
	return 0;
}

static int session_update(struct rx_session *s,
			  const struct rx_session_info *info)
{
	if (s->state == RXS_FAILED || s->signalling)
		return -EINVAL;
	tnd_info("AAR %s for %s: the SDP changed", s->sid, s->call_id);
	return send_aar(s, info);
}

/* ---- The AF signalling session (TS 29.214 4.4.1.1) --------------------- */

/* A signalling session's AAA: nothing waits for its verdict. */
static void on_signalling_result(struct rx_session *s, int result, void *arg)
{
	(void)arg;
	if (result)
		tnd_notice("signalling session %s refused (%d)", s->sid,
			   result);
}

/* The SIP flows between the UE and the P-CSCF, both directions. */
static void add_signalling_mcd(struct dia_avp *root,
			       const struct rx_signalling_info *in)
{
	struct dia_avp *mcd =
		dia->add_group(root, "Media-Component-Description");
	struct dia_avp *sub =
		mcd ? dia->add_group(mcd, "Media-Sub-Component") : NULL;
	bool over_tcp = in->proto && (strcasecmp(in->proto, "tcp") == 0 ||
				      strcasecmp(in->proto, "tls") == 0);
	unsigned proto = over_tcp ? 6 : 17; /* IP protocol numbers */
	char f[200];

	if (!sub)
		return;
	/* TS 29.214 5.3.7/A.3: component 0 is the AF signalling */
	dia->add_u32(mcd, "Media-Component-Number", 0);
	dia->add_u32(sub, "Flow-Number", 1);
	snprintf(f, sizeof(f), "permit out %u from %s %u to %s %u", proto,
		 in->pcscf_address, in->pcscf_port, in->ue_address,
		 in->ue_port);
	dia->add_str(sub, "Flow-Description", f, (size_t)-1);
	snprintf(f, sizeof(f), "permit in %u from %s %u to %s %u", proto,
		 in->ue_address, in->ue_port, in->pcscf_address,
		 in->pcscf_port);
	dia->add_str(sub, "Flow-Description", f, (size_t)-1);
	dia->add_u32(sub, "Flow-Usage", FLOW_AF_SIGNALLING);
}

static struct dia_msg *make_signalling_aar(const struct rx_signalling_info *in)
{
	struct dia_msg *req;
	struct dia_avp *root;

	if (!in->pcscf_address || !in->pcscf_address[0] || !in->ue_port ||
	    !in->pcscf_port)
		return NULL;
	req = new_request(DIA_CMD_AAR, NULL);
	if (!req)
		return NULL;
	root = dia->root(req);
	dia->add_str(root, "AF-Application-Identifier", cfg->af_app_id,
		     (size_t)-1);
	if (add_ue_address(root, in->ue_address)) {
		dia->msg_free(req);
		return NULL;
	}
	add_signalling_mcd(root, in);
	add_actions(root);
	add_subscriber(root, in->subscriber);
	return req;
}

static int signalling_start(const struct rx_signalling_info *info,
			    struct rx_session **out)
{
	struct rx_session *s;
	int rc;

	if (!info || info->size < sizeof(*info))
		return -EINVAL;
	if (!(s = calloc(1, sizeof(*s))))
		return -ENOMEM;
	snprintf(s->call_id, sizeof(s->call_id), "signalling %s",
		 info->subscriber ? info->subscriber : "");
	s->signalling = true;
	s->cb = on_signalling_result;
	rc = send_request_aar(s, make_signalling_aar(info));
	if (rc || ims_hash_put(&sessions, s->sid, s)) {
		if (!rc)
			s->ended = true; /* the answer frees it */
		else
			free(s);
		if (rc == -EINVAL)
			tnd_info("no signalling AAR for %s: no usable "
				 "addresses",
				 info->subscriber ? info->subscriber : "?");
		return rc ? rc : -ENOMEM;
	}
	tnd_info("AAR %s: signalling session of %s (UE %s)", s->sid,
		 info->subscriber ? info->subscriber : "-", info->ue_address);
	*out = s;
	return 0;
}

static void on_sta(struct dia_msg *ans, int status, void *arg)
{
	uint32_t vendor = 0, code = 0;
	char *sid = arg;

	if (ans)
		dia->result(ans, &vendor, &code);
	tnd_info("STA for %s: %u (status %d)", sid, code, status);
	free(sid);
}

static void send_str(const struct rx_session *s)
{
	struct dia_msg *req = new_request(DIA_CMD_STR, s->sid);
	char *tag = strdup(s->sid);

	if (!req || !tag) {
		if (req)
			dia->msg_free(req);
		free(tag);
		return;
	}
	dia->add_u32(dia->root(req), "Termination-Cause", TERMINATION_LOGOUT);
	stats.str++;
	if (dia->send(req, (uint32_t)cfg->timeout_ms, on_sta, tag))
		free(tag);
}

static void session_end(struct rx_session *s, const char *reason)
{
	tnd_info("STR %s for %s (%s)", s->sid, s->call_id,
		 reason ? reason : "");
	/* a refused session does not exist at the PCRF */
	if (s->state != RXS_FAILED)
		send_str(s);
	ims_hash_del(&sessions, s->sid);
	if (s->inflight) {
		s->ended = true;
		return;
	}
	free(s);
}

static int on_abort(rx_abort_cb cb, void *arg)
{
	abort_cb = cb;
	abort_arg = arg;
	return 0;
}

static const struct rx_service rx_table = {
	.size = sizeof(struct rx_service),
	.session_start = session_start,
	.session_update = session_update,
	.session_end = session_end,
	.on_abort = on_abort,
	.signalling_start = signalling_start,
};

/* ---- Requests from the PCRF: ASR, RAR ---------------------------------- */

static struct rx_session *session_of(struct dia_msg *req)
{
	struct dia_msg_info mi;
	char sid[256];

	if (dia->msg_info(req, &mi) || !mi.session_id)
		return NULL;
	snprintf(sid, sizeof(sid), "%.*s", (int)mi.session_id_len,
		 (const char *)mi.session_id);
	return ims_hash_get(&sessions, sid);
}

static void release(struct rx_session *s, const char *why)
{
	char call_id[128];

	snprintf(call_id, sizeof(call_id), "%s", s->call_id);
	tnd_notice("%s for %s (%s): releasing the call", why, s->sid, call_id);
	if (abort_cb)
		abort_cb(call_id, abort_arg); /* may end s */
}

static int on_asr(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	struct rx_session *s = session_of(req);
	uint32_t cause = 0;

	(void)ans, (void)arg;
	stats.asr++;
	if (!s)
		return 5002; /* DIAMETER_UNKNOWN_SESSION_ID */
	dia->find_u32(dia->root(req), "Abort-Cause", &cause);
	tnd_info("ASR for %s, Abort-Cause %u", s->sid, cause);
	if (s->signalling) {
		/* no call to release: the session ends here (STR), the
		 * P-CSCF's handle stays until its session_end() */
		if (s->state != RXS_FAILED)
			send_str(s);
		s->state = RXS_FAILED;
		return DIA_SUCCESS;
	}
	release(s, "ASR");
	return DIA_SUCCESS;
}

static int on_rar(struct dia_msg *req, struct dia_msg *ans, void *arg)
{
	struct rx_session *s = session_of(req);
	bool lost = false;

	(void)ans, (void)arg;
	stats.rar++;
	if (!s)
		return 5002;
	for (struct dia_avp *sa = dia->find(dia->root(req), "Specific-Action");
	     sa; sa = dia->find_next(sa)) {
		uint32_t v;

		if (dia->get_u32(sa, &v))
			continue;
		tnd_info("RAR for %s: Specific-Action %u", s->sid, v);
		lost |= v == SA_LOSS_OF_BEARER || v == SA_RELEASE_OF_BEARER;
	}
	if (lost && cfg->release_on_bearer_loss && !s->signalling)
		release(s, "bearer lost");
	return DIA_SUCCESS;
}

/* ---- Control and plugin ------------------------------------------------ */

static int cmd_show(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	host->reply_field_num(r, "sessions", (long long)sessions.count);
	host->reply_field_num(r, "aar", (long long)stats.aar);
	host->reply_field_num(r, "aaa_ok", (long long)stats.aaa_ok);
	host->reply_field_num(r, "aaa_refused", (long long)stats.aaa_refused);
	host->reply_field_num(r, "timeouts", (long long)stats.timeouts);
	host->reply_field_num(r, "str", (long long)stats.str);
	host->reply_field_num(r, "asr", (long long)stats.asr);
	host->reply_field_num(r, "rar", (long long)stats.rar);
	return 0;
}

static const struct tnd_command rxclient_commands[] = {
	{ "rxclient show", NULL, "Rx sessions and message counts", cmd_show },
	TND_COMMAND_END
};

static int rxclient_init(const struct tnd_host_api *api, void *config)
{
	host = api;
	cfg = config;
	dia = host->service_get("diameter", DIAMETER_SERVICE_VERSION);
	if (!dia) {
		tnd_error("the diameter service is missing: load the diameter "
			  "plugin");
		return -ENOENT;
	}
	if (dia->handle(SELF, DIA_APP_RX, DIA_CMD_ASR, on_asr, NULL) ||
	    dia->handle(SELF, DIA_APP_RX, DIA_CMD_RAR, on_rar, NULL))
		return -EINVAL;
	return host->service_register(SELF, RX_SERVICE_NAME, RX_SERVICE_VERSION,
				      &rx_table);
}

/*
 * freeDiameter drops an answer that breaks its dictionary's rules (an Rx
 * AAA carrying only an Experimental-Result breaks RFC 7155's) without
 * calling back or timing out: a verdict would never come. Once a second,
 * a session still waiting a second past timeout_ms gets -ETIMEDOUT.
 */
static void sweep_one(const char *key, void *value, void *arg)
{
	struct rx_session *s = value, **late = arg;
	uint64_t now = host->now_ms();

	(void)key;
	if (s->state == RXS_PENDING && !s->ended && !late[63] &&
	    now - s->sent_ms > cfg->timeout_ms + 1000) {
		for (int i = 0; i < 64; i++)
			if (!late[i]) {
				late[i] = s;
				break;
			}
	}
}

static void on_sweep(struct tnd_timer *t, void *arg)
{
	struct rx_session *late[64] = { 0 };

	(void)t, (void)arg;
	ims_hash_each(&sessions, sweep_one, late);
	for (int i = 0; i < 64 && late[i]; i++) {
		tnd_notice("no AAA for %s: timed out", late[i]->call_id);
		stats.timeouts++;
		late[i]->state = RXS_FAILED;
		late[i]->cb(late[i], -ETIMEDOUT, late[i]->arg);
	}
}

static int rxclient_start(void)
{
	sweep_timer = host->timer_new(SELF, on_sweep, NULL);
	if (!sweep_timer)
		return -ENOMEM;
	return host->timer_start(sweep_timer, 1000, 1000);
}

static int rxclient_stop(void)
{
	if (sweep_timer)
		host->timer_stop(sweep_timer);
	return 0;
}

static void free_session(const char *key, void *value, void *arg)
{
	(void)key, (void)arg;
	free(value);
}

static void rxclient_fini(void)
{
	if (sweep_timer)
		host->timer_free(sweep_timer);
	sweep_timer = NULL;
	ims_hash_each(&sessions, free_session, NULL);
	ims_hash_clear(&sessions);
}

static const struct tnd_service_ref rxclient_requires[] = {
	{ "diameter", DIAMETER_SERVICE_VERSION }, TND_SERVICE_END
};

static const struct tnd_service_ref rxclient_provides[] = {
	{ RX_SERVICE_NAME, RX_SERVICE_VERSION }, TND_SERVICE_END
};

TND_PLUGIN_DEFINE(rxclient) = {
	TND_PLUGIN_HEADER,
	.name = "rxclient",
	.version = "1.0",
	.description = "the rx service over Diameter Rx: AAR from SDP, STR, "
		       "ASR/RAR from the PCRF",
	.provides = rxclient_provides,
	.requires = rxclient_requires,
	.params = rxclient_params,
	.cfg_size = sizeof(struct rxclient_cfg),
	.commands = rxclient_commands,
	.init = rxclient_init,
	.start = rxclient_start,
	.stop = rxclient_stop,
	.fini = rxclient_fini,
};
