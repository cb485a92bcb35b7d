/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcscf_register.c - a UE's REGISTER on its way to the home network
 * (TS 24.229 5.2.2): to the I-CSCF, with our Path (RFC 3327) so that
 * terminating requests come back through us, P-Visited-Network-ID,
 * P-Charging-Vector (RFC 7315) and the Authorization marked with how the
 * UE reached us (integrity-protected). The 401 loses CK and IK; the 200
 * fills the registration cache with the Service-Route (RFC 3608) and the
 * identities of P-Associated-URI (RFC 7315).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pcscf_int.h"

struct reg_job {
	char contact[IMS_URI_MAX]; /* the UE's Contact URI */
	char aor[IMS_URI_MAX];
	char flow[96];
	char mech[32];		   /* security mechanism agreed, or "" */
	struct ims_buf sec_server; /* Security-Server lines for the 401 */
};

static void job_free(void *p)
{
	struct reg_job *job = p;

	ims_buf_free(&job->sec_server);
	free(job);
}

/* "UDP 127.0.0.1:5099" -> "udp:127.0.0.1:5099" */
static void flow_of(const char *source, char *out, size_t size)
{
	const char *sp = strchr(source, ' ');
	size_t n = sp ? (size_t)(sp - source) : 0;

	out[0] = '\0';
	if (!sp || n > 8 ||
	    ims_fmt(out, size, "%.*s:%s", (int)n, source, sp + 1))
		return;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(out[i] | 0x20);
}

static void path_value(char *out, size_t size)
{
	const char *p = pcscf_cfg->name + 4, *at = strchr(p, '@');

	/* "term" tells us, when a request comes back along the Path,
	 * that it is for a UE (TS 24.229 5.2.6) */
	ims_fmt(out, size, "<sip:term@%s;lr>", at ? at + 1 : p);
}

/* RFC 7315 5.6: a charging vector with a fresh ICID. */
void pcscf_charging_vector(struct ims_msg *msg)
{
	char icid[33], host[IMS_URI_MAX] = "pcscf", value[256];

	ims_token(icid, sizeof(icid));
	ims_uri_host(pcscf_cfg->name, host, sizeof(host));
	ims_fmt(value, sizeof(value),
		"icid-value=%s;icid-generated-at=%s;orig-ioi=%s", icid, host,
		pcscf_cfg->visited_network_id);
	ims_msg_set(msg, "P-Charging-Vector", value);
}

/* Require and Proxy-Require without sec-agree (RFC 3329 2.4: it ends
 * at the first hop). */
static void drop_option(struct ims_msg *msg, const char *hdr, const char *tag)
{
	struct ims_buf keep = { 0 };
	const char *line;
	char elem[64];

	for (unsigned i = 0; (line = ims_msg_get(msg, hdr, i)); i++) {
		const char *p = line;

		while (ims_list_next(&p, elem, sizeof(elem)))
			if (strcasecmp(elem, tag) != 0)
				ims_buf_printf(&keep, "%s%s",
					       keep.len ? ", " : "", elem);
	}
	ims_msg_del(msg, hdr);
	if (keep.len && !keep.failed)
		ims_msg_add(msg, hdr, ims_buf_cstr(&keep), false);
	ims_buf_free(&keep);
}

/*
 * TS 24.229 5.2.2.1, TS 33.203 (TLS): with tls agreed, a REGISTER that
 * comes over a TLS connection a UE registered on is "tls-yes", one over
 * a TLS connection not registered yet "tls-pending"; anything else
 * (UDP, TCP: nothing protects the path) "no".
 */
static const char *integrity_of(const struct reg_job *job)
{
	const struct pcscf_ue *ue;

	if (strcmp(job->mech, "tls") != 0 || strncmp(job->flow, "tls:", 4) != 0)
		return "no";
	ue = pcscf_ue_by_flow(job->flow);
	return ue && strcmp(ue->aor, job->aor) == 0 ? "tls-yes" : "tls-pending";
}

static int mark_authorization(struct ims_msg *msg, const struct reg_job *job)
{
	const char *authz = ims_msg_get(msg, "Authorization", 0);
	char value[IMS_HDR_MAX], marked[IMS_HDR_MAX + 40];

	if (!authz)
		return 0;
	/* TS 24.229 5.2.2.1: ours to say, never the UE's */
	if (ims_auth_param_del(authz, "integrity-protected", value,
			       sizeof(value)) ||
	    ims_fmt(marked, sizeof(marked), "%s, integrity-protected=\"%s\"",
		    value, integrity_of(job)))
		return -ENOSPC;
	return ims_msg_replace(msg, "Authorization", 0, marked);
}

/* ---- The answer ---------------------------------------------------------- */

static void strip_keys(struct ims_msg *rsp)
{
	const char *www;
	char a[IMS_HDR_MAX], b[IMS_HDR_MAX];

	for (unsigned i = 0; (www = ims_msg_get(rsp, "WWW-Authenticate", i));
	     i++) {
		/* TS 33.203 7.1: CK and IK stay in the network */
		if (ims_auth_param_del(www, "ck", a, sizeof(a)) == 0 &&
		    ims_auth_param_del(a, "ik", b, sizeof(b)) == 0)
			ims_msg_replace(rsp, "WWW-Authenticate", i, b);
	}
}

static char *joined(const struct ims_msg *m, const char *name)
{
	struct ims_buf b = { 0 };
	const char *v;
	char *s;

	for (unsigned i = 0; (v = ims_msg_get(m, name, i)); i++)
		ims_buf_printf(&b, "%s%s", i ? ", " : "", v);
	s = b.len && !b.failed ? strdup(ims_buf_cstr(&b)) : NULL;
	ims_buf_free(&b);
	return s;
}

/* The expiry the registrar granted our UE's Contact, -1 when absent. */
static long long granted(const struct ims_msg *rsp, const char *contact)
{
	const char *line, *exp = ims_msg_get(rsp, "Expires", 0);
	char elem[IMS_HDR_MAX], uri[IMS_URI_MAX], v[32];

	for (unsigned i = 0; (line = ims_msg_get(rsp, "Contact", i)); i++) {
		const char *p = line;

		while (ims_list_next(&p, elem, sizeof(elem))) {
			if (ims_uri_of(elem, uri, sizeof(uri)) ||
			    strcmp(uri, contact) != 0)
				continue;
			if (ims_hparam(elem, "expires", v, sizeof(v)) == 0)
				return atoll(v);
			return exp ? atoll(exp) : 3600;
		}
	}
	return -1;
}

static void registered(struct reg_job *job, const struct ims_msg *rsp)
{
	long long expires = granted(rsp, job->contact);
	char *route = joined(rsp, "Service-Route");
	char *assoc = joined(rsp, "P-Associated-URI");
	struct pcscf_ue *ue;
	bool fresh = !pcscf_ue_by_contact(job->contact);

	if (expires <= 0) {
		ue = pcscf_ue_by_contact(job->contact);
		if (ue)
			pcscf_ue_drop(ue, "de-registered");
		pcscf_host->counter_add(pcscf_cnt.deregistered, 1);
	} else if ((ue = pcscf_ue_save(job->aor, job->contact, job->flow,
				       expires, route, assoc))) {
		if (job->mech[0]) {
			free(ue->sec_mech); /* a refresh's earlier one */
			ue->sec_mech = strdup(job->mech);
		}
		pcscf_host->counter_add(pcscf_cnt.registered, 1);
		tnd_info("%s registered from %s (%s), %lld s, default "
			 "identity %s",
			 job->aor, job->flow, job->contact, expires,
			 ue->impus[0]);
		if (!ue->rx_signalling)
			pcscf_rx_signalling_start(ue);
		if (pcscf_cfg->subscribe_reg_event &&
		    (fresh || pcscf_regevent_due(ue)))
			pcscf_regevent_subscribe(ue);
	}
	free(route);
	free(assoc);
}

static enum ims_fwd_verdict on_answer(struct ims_fwd *f, int status,
				      struct ims_msg *rsp, void *arg)
{
	struct reg_job *job = arg;

	(void)f;
	if (!rsp)
		return IMS_FWD_RELAY;
	/* RFC 7315 4.6: charging headers stay in the network */
	ims_msg_del(rsp, "P-Charging-Vector");
	ims_msg_del(rsp, "P-Charging-Function-Addresses");
	if (status == 401) {
		strip_keys(rsp);
		if (job->sec_server.len) {
			const char *p = ims_buf_cstr(&job->sec_server);

			ims_msg_add(rsp, "Security-Server", p, false);
		}
	} else if (status >= 200 && status < 300) {
		registered(job, rsp);
	}
	return IMS_FWD_RELAY;
}

/* ---- The request --------------------------------------------------------- */

static int prepare(struct reg_job *job, struct ims_msg *msg)
{
	const char *c = ims_msg_get(msg, "Contact", 0);
	char to[IMS_URI_MAX], path[IMS_URI_MAX], elem[IMS_HDR_MAX];
	const char *p = c;

	if (ims_msg_to_uri(msg, to, sizeof(to)) ||
	    ims_aor(to, job->aor, sizeof(job->aor)))
		return 400;
	if (c && ims_list_next(&p, elem, sizeof(elem)) && strcmp(elem, "*") &&
	    ims_uri_of(elem, job->contact, sizeof(job->contact)))
		return 400;
	flow_of(msg->source, job->flow, sizeof(job->flow));
	/* TS 24.229 5.2.2.1: on to the home network's entry point */
	ims_msg_del(msg, "Route");
	path_value(path, sizeof(path));
	if (ims_route_first(msg, pcscf_cfg->icscf) ||
	    ims_msg_add(msg, "Path", path, true) ||
	    ims_msg_add(msg, "Require", "path", false) ||
	    ims_msg_set(msg, "P-Visited-Network-ID",
			pcscf_cfg->visited_network_id) ||
	    mark_authorization(msg, job))
		return 500;
	if (!ims_msg_get(msg, "Supported", 0))
		ims_msg_add(msg, "Supported", "path", false);
	ims_msg_del(msg, "Security-Client");
	ims_msg_del(msg, "Security-Verify");
	drop_option(msg, "Require", "sec-agree");
	drop_option(msg, "Proxy-Require", "sec-agree");
	pcscf_charging_vector(msg);
	return 0;
}

int pcscf_register(struct sip_request *req, const struct sip_message *m)
{
	struct reg_job *job = calloc(1, sizeof(*job));
	struct ims_fwd *f;
	struct ims_fwd_target t = { 0 };
	int status, rc;

	pcscf_host->counter_add(pcscf_cnt.register_rx, 1);
	if (!job || !(f = ims_fwd_new(req, m))) {
		free(job);
		return -ENOMEM;
	}
	ims_fwd_set_data(f, job, job_free);
	status = pcscf_secagree_register(ims_fwd_msg(f), &job->sec_server,
					 job->mech, sizeof(job->mech));
	if (status) {
		ims_fwd_reply(f, status,
			      status == 494 ? "Security Agreement Required"
					    : NULL,
			      status == 494 ? "Require: sec-agree\r\n" : NULL);
		return 0;
	}
	status = prepare(job, ims_fwd_msg(f));
	if (status) {
		ims_fwd_reply(f, status, NULL, NULL);
		return 0;
	}
	rc = ims_fwd_send(f, &t, on_answer, job);
	if (rc)
		ims_fwd_fail(f, rc, 500, "I-CSCF unreachable");
	return 0;
}
