/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diameter_service.c - the "diameter" service: handlers for requests,
 * requests sent and their answers, peer events, AVP helpers.
 *
 * freeDiameter's threads run only the short functions marked "(fd
 * thread)": they take the message from freeDiameter and hand it to the
 * loop with call_on_loop(). Everything else runs on the loop thread.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diameter_int.h"

#define MAX_HANDLERS 64
#define MAX_PEER_WATCHERS 16
#define AVP_SESSION_ID 263
#define AVP_ORIGIN_HOST 264
#define AVP_RESULT_CODE 268

struct handler {
	uint32_t app_id;
	uint32_t cmd_code;
	dia_request_cb cb;
	void *arg;
	struct tnd_plugin *owner;
	struct disp_hdl *disp;
};

struct peer_watcher {
	dia_peer_cb cb;
	void *arg;
};

static struct handler handlers[MAX_HANDLERS];
static size_t nhandlers;
static struct peer_watcher watchers[MAX_PEER_WATCHERS];
static size_t nwatchers;
static uint32_t used_apps[8];
static size_t nused_apps;
static bool core_running;
static atomic_long outstanding; /* requests sent, answer not yet seen */

/* ---- Applications announced in CER -------------------------------------- */

static int use_app(uint32_t app_id)
{
	if (!dia_dict_app(app_id) && app_id != DIA_APP_CX &&
	    app_id != DIA_APP_SH && app_id != DIA_APP_RX &&
	    app_id != DIA_APP_GX)
		return -ENOENT;
	for (size_t i = 0; i < nused_apps; i++)
		if (used_apps[i] == app_id)
			return 0;
	if (core_running)
		return -EBUSY;
	if (nused_apps == sizeof(used_apps) / sizeof(used_apps[0]))
		return -ENOSPC;
	used_apps[nused_apps++] = app_id;
	return 0;
}

int dia_apps_announce(void)
{
	char buf[256], *save = NULL, *w;
	uint32_t id;

	snprintf(buf, sizeof(buf), "%s", dia_cfg->applications);
	for (w = strtok_r(buf, " ,\t", &save); w;
	     w = strtok_r(NULL, " ,\t", &save))
		if (dia_app_parse(w, &id) == 0)
			use_app(id);
	for (size_t i = 0; i < nused_apps; i++) {
		struct dict_object *app = dia_dict_app(used_apps[i]);

		if (!app ||
		    fd_disp_app_support(app, dia_dict_vendor_3gpp(), 1, 0)) {
			tnd_error("cannot announce application %u",
				  used_apps[i]);
			return -EINVAL;
		}
		tnd_info("announcing application %s (%u)",
			 dia_app_name(used_apps[i]), used_apps[i]);
	}
	core_running = true;
	return 0;
}

/* ---- Requests received -------------------------------------------------- */

struct incoming {
	struct handler *handler;
	struct msg *ans; /* the request hangs on it (fd_msg_answ_getq) */
};

static struct avp *child_of(msg_or_avp *parent, uint32_t code, uint32_t vendor)
{
	struct avp *avp = NULL;
	struct avp_hdr *h;

	if (fd_msg_browse(parent, MSG_BRW_FIRST_CHILD, &avp, NULL))
		return NULL;
	for (; avp; fd_msg_browse(avp, MSG_BRW_NEXT, &avp, NULL)) {
		if (fd_msg_avp_hdr(avp, &h) == 0 && h->avp_code == code &&
		    (h->avp_flags & AVP_FLAG_VENDOR ? h->avp_vendor : 0) ==
			    vendor)
			return avp;
	}
	return NULL;
}

static void free_on_loop(struct incoming *in)
{
	fd_msg_free(in->ans); /* frees the request with it */
	free(in);
}

/* ---- Answers leave once per loop turn ----------------------------------- */

/*
 * freeDiameter's routing thread wakes up for every message posted to its
 * queue. Posted one at a time between two handlers, each answer wakes it,
 * and on a busy machine it preempts the loop for that one message. The
 * answers of a loop turn are posted together right after the turn's I/O
 * instead (the host's turn callback): the routing thread wakes once for
 * the lot. An answer given later in the turn (from a timer, or another
 * plugin's turn callback) arms a timer due at once, so the loop does not
 * sleep on it.
 */
static struct msg **turn_answers;
static size_t nturn_answers, turn_answers_cap;
static struct tnd_turn *flush_turn;
static struct tnd_timer *flush_timer;

static int post_answer(struct msg *ans)
{
	if (fd_msg_send(&ans, NULL, NULL) != 0) {
		if (ans)
			fd_msg_free(ans);
		return -EIO;
	}
	return 0;
}

static void flush_answers(void)
{
	size_t n = nturn_answers;

	nturn_answers = 0;
	for (size_t i = 0; i < n; i++) {
		if (atomic_load(&dia_closed))
			fd_msg_free(turn_answers[i]);
		else
			post_answer(turn_answers[i]);
	}
	if (n && flush_timer)
		dia_host->timer_stop(flush_timer);
}

static void on_flush_turn(struct tnd_turn *turn, void *arg)
{
	(void)turn, (void)arg;
	if (nturn_answers)
		flush_answers();
}

static void on_flush_timer(struct tnd_timer *timer, void *arg)
{
	(void)timer, (void)arg;
	flush_answers();
}

/* Keeps the answer for the end of the turn; 0, or -ENOMEM to send it now. */
static int hold_answer(struct msg *ans)
{
	if (!flush_turn)
		return -ENOMEM;
	if (nturn_answers == turn_answers_cap) {
		size_t cap = turn_answers_cap ? 2 * turn_answers_cap : 64;
		struct msg **a = realloc(turn_answers, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		turn_answers = a;
		turn_answers_cap = cap;
	}
	turn_answers[nturn_answers++] = ans;
	if (nturn_answers == 1)
		dia_host->timer_start(flush_timer, 0, 0);
	return 0;
}

static bool host_has_turns(void)
{
	return dia_host->size >= offsetof(struct tnd_host_api, turn_free) +
					 sizeof(dia_host->turn_free) &&
	       dia_host->turn_new;
}

int dia_service_start(void)
{
	if (!host_has_turns())
		return 0; /* an older host: answers leave one by one */
	flush_timer = dia_host->timer_new(DIA_SELF, on_flush_timer, NULL);
	flush_turn = dia_host->turn_new(DIA_SELF, on_flush_turn, NULL);
	if (!flush_timer || !flush_turn) {
		dia_service_stop();
		return -ENOMEM;
	}
	return 0;
}

/* Posts what the last turn held, and sends answers one by one from now. */
void dia_service_stop(void)
{
	flush_answers();
	if (flush_turn)
		dia_host->turn_free(flush_turn);
	if (flush_timer)
		dia_host->timer_free(flush_timer);
	flush_turn = NULL;
	flush_timer = NULL;
	free(turn_answers);
	turn_answers = NULL;
	turn_answers_cap = 0;
}

static int answer_send(struct dia_msg *msg)
{
	struct msg *ans = (struct msg *)msg;

	if (!ans)
		return -EINVAL;
	if (atomic_load(&dia_closed)) {
		fd_msg_free(ans);
		return -ESHUTDOWN;
	}
	dia_host->counter_add(dia_cnt_tx_ans, 1);
	if (hold_answer(ans) == 0)
		return 0;
	return post_answer(ans);
}

static bool has_result(struct msg *ans)
{
	return child_of(ans, AVP_RESULT_CODE, 0) ||
	       child_of(ans, 297 /* Experimental-Result */, 0);
}

static int set_result(struct dia_msg *msg, uint32_t code);

/* TS 29.229 6.1: the answer repeats the request's application id
 * and session state. */
static void copy_app_avps(struct msg *req, struct msg *ans)
{
	struct dia_avp *a = (struct dia_avp *)ans;
	struct avp *vsai = child_of(req, 260, 0);  /* VSAI */
	struct avp *state = child_of(req, 277, 0); /* Auth-Session-State */
	struct avp *app = child_of(req, 258, 0);   /* Auth-Application-Id */
	struct avp_hdr *h;

	if (vsai) {
		struct dia_avp *g = dia_service.add_group(
			a, "Vendor-Specific-Application-Id");
		uint32_t v;

		if (g && dia_service.find_u32((struct dia_avp *)vsai,
					      "Vendor-Id", &v) == 0)
			dia_service.add_u32(g, "Vendor-Id", v);
		if (g && dia_service.find_u32((struct dia_avp *)vsai,
					      "Auth-Application-Id", &v) == 0)
			dia_service.add_u32(g, "Auth-Application-Id", v);
	}
	if (app && fd_msg_avp_hdr(app, &h) == 0 && h->avp_value)
		dia_service.add_u32(a, "Auth-Application-Id", h->avp_value->u32);
	if (state && fd_msg_avp_hdr(state, &h) == 0 && h->avp_value)
		dia_service.add_u32(a, "Auth-Session-State",
				    (uint32_t)h->avp_value->i32);
}

static void run_handler(void *arg)
{
	struct incoming *in = arg;
	struct msg *req = NULL;
	int rc;

	if (atomic_load(&dia_closed)) {
		free_on_loop(in);
		return;
	}
	dia_host->counter_add(dia_cnt_rx_req, 1);
	fd_msg_answ_getq(in->ans, &req);
	copy_app_avps(req, in->ans);
	rc = in->handler->cb((struct dia_msg *)req, (struct dia_msg *)in->ans,
			     in->handler->arg);
	if (rc != DIA_DEFER) {
		if (!has_result(in->ans))
			set_result((struct dia_msg *)in->ans,
				   rc >= 1000 ? (uint32_t)rc
					      : DIA_UNABLE_TO_COMPLY);
		answer_send((struct dia_msg *)in->ans);
	}
	free(in);
}

/* (fd thread) A request for one of our handlers: to the loop. */
static int on_request(struct msg **msg, struct avp *avp, struct session *sess,
		      void *opaque, enum disp_action *act)
{
	struct incoming *in;
	struct msg *ans = *msg;

	(void)avp, (void)sess;
	*act = DISP_ACT_CONT;
	if (atomic_load(&dia_closed))
		return 0; /* freeDiameter answers it */
	in = malloc(sizeof(*in));
	if (!in)
		return ENOMEM;
	if (fd_msg_new_answer_from_req(fd_g_config->cnf_dict, &ans, 0) ||
	    fd_msg_add_origin(ans, 0)) {
		free(in);
		return ENOMEM;
	}
	*msg = NULL;
	in->handler = opaque;
	in->ans = ans;
	if (dia_host->call_on_loop(run_handler, in) != 0)
		free_on_loop(in);
	return 0;
}

static int handle(struct tnd_plugin *self, uint32_t app_id, uint32_t cmd_code,
		  dia_request_cb cb, void *arg)
{
	struct handler *h;

	if (!cb)
		return -EINVAL;
	if (core_running)
		return -EBUSY;
	for (size_t i = 0; i < nhandlers; i++)
		if (handlers[i].app_id == app_id &&
		    handlers[i].cmd_code == cmd_code)
			return -EEXIST;
	if (nhandlers == MAX_HANDLERS)
		return -ENOSPC;
	if (use_app(app_id))
		return -ENOENT;
	h = &handlers[nhandlers++];
	*h = (struct handler){ app_id, cmd_code, cb, arg, self, NULL };
	return 0;
}

int dia_service_register_all(void)
{
	for (size_t i = 0; i < nhandlers; i++) {
		struct handler *h = &handlers[i];
		struct disp_when when = { 0 };

		when.app = dia_dict_app(h->app_id);
		when.command = dia_dict_cmd(h->cmd_code, true);
		if (!when.app || !when.command ||
		    fd_disp_register(on_request, DISP_HOW_CC, &when, h,
				     &h->disp)) {
			tnd_error("cannot register a handler for command %u "
				  "of application %u",
				  h->cmd_code, h->app_id);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- Requests sent ------------------------------------------------------ */

struct pending {
	dia_answer_cb cb;
	void *arg;
	struct msg *ans;
	int status;
};

static void run_answer(void *arg)
{
	struct pending *p = arg;

	atomic_fetch_sub(&outstanding, 1);
	if (p->status == -ETIMEDOUT)
		dia_host->counter_add(dia_cnt_timeouts, 1);
	else
		dia_host->counter_add(dia_cnt_rx_ans, 1);
	if (atomic_load(&dia_closed))
		p->status = -ESHUTDOWN;
	p->cb(p->status ? NULL : (struct dia_msg *)p->ans, p->status, p->arg);
	if (p->ans)
		fd_msg_free(p->ans);
	free(p);
}

/* (fd thread) */
static void on_answer(void *data, struct msg **ans)
{
	struct pending *p = data;

	p->ans = *ans;
	p->status = 0;
	*ans = NULL;
	if (dia_host->call_on_loop(run_answer, p) != 0) {
		fd_msg_free(p->ans);
		free(p);
	}
}

/* (fd thread) */
static void on_expire(void *data, DiamId_t sentto, size_t len, struct msg **req)
{
	struct pending *p = data;

	(void)sentto, (void)len;
	fd_msg_free(*req);
	*req = NULL;
	p->ans = NULL;
	p->status = -ETIMEDOUT;
	if (dia_host->call_on_loop(run_answer, p) != 0)
		free(p);
}

static int send_request(struct dia_msg *msg, uint32_t timeout_ms,
			dia_answer_cb cb, void *arg)
{
	struct msg *req = (struct msg *)msg;
	struct pending *p;
	struct timespec ts;

	if (!req || !cb) {
		if (req)
			fd_msg_free(req);
		return -EINVAL;
	}
	if (atomic_load(&dia_closed)) {
		fd_msg_free(req);
		return -ESHUTDOWN;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		fd_msg_free(req);
		return -ENOMEM;
	}
	p->cb = cb;
	p->arg = arg;
	if (!timeout_ms)
		timeout_ms = (uint32_t)dia_cfg->request_timeout_ms;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	atomic_fetch_add(&outstanding, 1);
	dia_host->counter_add(dia_cnt_tx_req, 1);
	if (fd_msg_send_timeout(&req, on_answer, p, on_expire, &ts) != 0) {
		atomic_fetch_sub(&outstanding, 1);
		if (req)
			fd_msg_free(req);
		free(p);
		return -EIO;
	}
	return 0;
}

static bool is_3gpp_vendor_app(uint32_t app_id)
{
	return app_id == DIA_APP_CX || app_id == DIA_APP_SH;
}

static int add_request_header(struct msg *m, uint32_t app_id,
			      const char *session_id, const char *dest_realm,
			      const char *dest_host)
{
	struct dia_avp *top = (struct dia_avp *)m;
	int rc;

	if (session_id)
		rc = dia_service.add_str(top, "Session-Id", session_id,
					 (size_t)-1);
	else
		rc = fd_msg_new_session(m, NULL, 0) ? -ENOMEM : 0;
	if (!rc && is_3gpp_vendor_app(app_id)) {
		struct dia_avp *g = dia_service.add_group(
			top, "Vendor-Specific-Application-Id");

		rc = !g ||
		     dia_service.add_u32(g, "Vendor-Id", DIA_VENDOR_3GPP) ||
		     dia_service.add_u32(g, "Auth-Application-Id", app_id) ||
		     dia_service.add_u32(top, "Auth-Session-State", 1);
	} else if (!rc) {
		rc = dia_service.add_u32(top, "Auth-Application-Id", app_id);
	}
	if (!rc)
		rc = fd_msg_add_origin(m, 0) ? -ENOMEM : 0;
	if (!rc && dest_host)
		rc = dia_service.add_str(top, "Destination-Host", dest_host,
					 (size_t)-1);
	if (!rc)
		rc = dia_service.add_str(
			top, "Destination-Realm",
			dest_realm ? dest_realm : dia_cfg->realm, (size_t)-1);
	return rc;
}

static struct dia_msg *request_new(uint32_t app_id, uint32_t cmd_code,
				   const char *session_id,
				   const char *dest_realm,
				   const char *dest_host)
{
	struct dict_object *cmd = dia_dict_cmd(cmd_code, true);
	struct msg *m = NULL;
	struct msg_hdr *hdr;

	if (!cmd || atomic_load(&dia_closed) ||
	    fd_msg_new(cmd, MSGFL_ALLOC_ETEID, &m))
		return NULL;
	fd_msg_hdr(m, &hdr);
	hdr->msg_appl = app_id;
	hdr->msg_flags |= CMD_FLAG_PROXIABLE;
	if (add_request_header(m, app_id, session_id, dest_realm, dest_host)) {
		fd_msg_free(m);
		return NULL;
	}
	return (struct dia_msg *)m;
}

static struct dia_msg *answer_request(struct dia_msg *ans)
{
	struct msg *req = NULL;

	if (!ans || fd_msg_answ_getq((struct msg *)ans, &req))
		return NULL;
	return (struct dia_msg *)req;
}

static struct dia_msg *answer_renew(struct dia_msg *msg)
{
	struct msg *ans = (struct msg *)msg, *req = NULL;

	if (!ans || fd_msg_answ_getq(ans, &req) || !req) {
		if (ans)
			fd_msg_free(ans);
		return NULL;
	}
	fd_msg_answ_detach(ans);
	fd_msg_free(ans);
	ans = req; /* becomes the answer, the request hangs on it */
	if (fd_msg_new_answer_from_req(fd_g_config->cnf_dict, &ans, 0) ||
	    fd_msg_add_origin(ans, 0)) {
		fd_msg_free(ans);
		return NULL;
	}
	copy_app_avps(req, ans);
	return (struct dia_msg *)ans;
}

static void msg_free(struct dia_msg *msg)
{
	if (msg)
		fd_msg_free((struct msg *)msg);
}

static void str_of(struct msg *m, uint32_t code, const uint8_t **data,
		   size_t *len)
{
	struct avp *avp = child_of(m, code, 0);
	struct avp_hdr *h;

	*data = NULL;
	*len = 0;
	if (avp && fd_msg_avp_hdr(avp, &h) == 0 && h->avp_value) {
		*data = h->avp_value->os.data;
		*len = h->avp_value->os.len;
	}
}

static int msg_info(struct dia_msg *msg, struct dia_msg_info *info)
{
	struct msg *m = (struct msg *)msg;
	struct msg_hdr *hdr;

	if (!m || fd_msg_hdr(m, &hdr))
		return -EINVAL;
	info->app_id = hdr->msg_appl;
	info->cmd_code = hdr->msg_code;
	info->is_request = !!(hdr->msg_flags & CMD_FLAG_REQUEST);
	info->is_error = !!(hdr->msg_flags & CMD_FLAG_ERROR);
	info->hop_by_hop = hdr->msg_hbhid;
	info->end_to_end = hdr->msg_eteid;
	str_of(m, AVP_SESSION_ID, &info->session_id, &info->session_id_len);
	str_of(m, AVP_ORIGIN_HOST, &info->origin_host, &info->origin_host_len);
	return 0;
}

/* ---- Peers -------------------------------------------------------------- */

static int on_peer(struct tnd_plugin *self, dia_peer_cb cb, void *arg)
{
	(void)self;
	if (!cb)
		return -EINVAL;
	if (nwatchers == MAX_PEER_WATCHERS)
		return -ENOSPC;
	watchers[nwatchers++] = (struct peer_watcher){ cb, arg };
	return 0;
}

static int peer_is_up(const char *peer_id)
{
	struct peer_hdr *peer = NULL;

	if (!peer_id ||
	    fd_peer_getbyid((DiamId_t)peer_id, strlen(peer_id), 1, &peer) ||
	    !peer)
		return -ENOENT;
	/* OPEN_NEW: capabilities exchanged, no message since (p_psm.c). */
	return fd_peer_get_state(peer) == STATE_OPEN ||
	       fd_peer_get_state(peer) == STATE_OPEN_NEW;
}

void dia_service_peer_event(const char *id, enum dia_peer_event event)
{
	if (event == DIA_PEER_UP) {
		dia_host->counter_add(dia_cnt_peer_up, 1);
		tnd_notice("peer %s is up", id);
	} else {
		struct dia_peer_stat *st = dia_stats_find(id);
		char why[160] = "";

		if (st)
			dia_stats_error_get(st, why, sizeof(why));
		dia_host->counter_add(dia_cnt_peer_lost, 1);
		tnd_notice("peer %s lost: %s", id, why[0] ? why : "closed");
	}
	for (size_t i = 0; i < nwatchers; i++)
		watchers[i].cb(id, event, watchers[i].arg);
}

/* ---- AVPs --------------------------------------------------------------- */

static struct dia_avp *root(struct dia_msg *msg)
{
	return (struct dia_avp *)msg;
}

static struct dia_avp *find(struct dia_avp *parent, const char *name)
{
	const struct dia_avpdef *def = dia_dict_avp(name);

	if (!parent || !def)
		return NULL;
	return (struct dia_avp *)child_of(parent, def->code, def->vendor);
}

static struct dia_avp *find_next(struct dia_avp *from)
{
	struct avp *avp = (struct avp *)from;
	struct avp_hdr *h, *me;

	if (!avp || fd_msg_avp_hdr(avp, &me))
		return NULL;
	while (fd_msg_browse(avp, MSG_BRW_NEXT, &avp, NULL) == 0 && avp) {
		if (fd_msg_avp_hdr(avp, &h) == 0 &&
		    h->avp_code == me->avp_code &&
		    h->avp_vendor == me->avp_vendor)
			return (struct dia_avp *)avp;
	}
	return NULL;
}

/* The base type of a received or built AVP, from its dictionary model. */
static int base_of(struct avp *avp, enum dict_avp_basetype *base)
{
	struct dict_object *model = NULL;
	struct dict_avp_data data;

	if (fd_msg_model(avp, &model) || !model || fd_dict_getval(model, &data))
		return -EINVAL;
	*base = data.avp_basetype;
	return 0;
}

static int get_str(struct dia_avp *a, const uint8_t **data, size_t *len)
{
	struct avp *avp = (struct avp *)a;
	enum dict_avp_basetype base;
	struct avp_hdr *h;

	if (!avp || base_of(avp, &base) || base != AVP_TYPE_OCTETSTRING ||
	    fd_msg_avp_hdr(avp, &h) || !h->avp_value)
		return -EINVAL;
	*data = h->avp_value->os.data;
	*len = h->avp_value->os.len;
	return 0;
}

static int get_u32(struct dia_avp *a, uint32_t *value)
{
	struct avp *avp = (struct avp *)a;
	enum dict_avp_basetype base;
	struct avp_hdr *h;

	if (!avp || base_of(avp, &base) || fd_msg_avp_hdr(avp, &h) ||
	    !h->avp_value)
		return -EINVAL;
	if (base == AVP_TYPE_UNSIGNED32)
		*value = h->avp_value->u32;
	else if (base == AVP_TYPE_INTEGER32)
		*value = (uint32_t)h->avp_value->i32;
	else
		return -EINVAL;
	return 0;
}

static int get_u64(struct dia_avp *a, uint64_t *value)
{
	struct avp *avp = (struct avp *)a;
	enum dict_avp_basetype base;
	struct avp_hdr *h;

	if (!avp || base_of(avp, &base) || fd_msg_avp_hdr(avp, &h) ||
	    !h->avp_value)
		return -EINVAL;
	if (base == AVP_TYPE_UNSIGNED64)
		*value = h->avp_value->u64;
	else if (base == AVP_TYPE_INTEGER64)
		*value = (uint64_t)h->avp_value->i64;
	else
		return -EINVAL;
	return 0;
}

static int find_str(struct dia_avp *parent, const char *name, char *buf,
		    size_t size)
{
	struct dia_avp *avp = find(parent, name);
	const uint8_t *data;
	size_t len;

	if (!avp)
		return -ENOENT;
	if (get_str(avp, &data, &len))
		return -EINVAL;
	if (len >= size)
		return -ENOSPC;
	if (memchr(data, '\0', len))
		return -EINVAL;
	memcpy(buf, data, len);
	buf[len] = '\0';
	return 0;
}

static int find_u32(struct dia_avp *parent, const char *name, uint32_t *value)
{
	struct dia_avp *avp = find(parent, name);

	return avp ? get_u32(avp, value) : -ENOENT;
}

static int add_value(struct dia_avp *parent, const char *name,
		     union avp_value *value, enum dict_avp_basetype want)
{
	const struct dia_avpdef *def = dia_dict_avp(name);
	struct avp *avp = NULL;

	if (!parent || !def)
		return -ENOENT;
	if (def->base != want &&
	    !(want == AVP_TYPE_UNSIGNED32 && def->base == AVP_TYPE_INTEGER32) &&
	    !(want == AVP_TYPE_UNSIGNED64 && def->base == AVP_TYPE_INTEGER64))
		return -EINVAL;
	if (fd_msg_avp_new(def->obj, 0, &avp))
		return -ENOMEM;
	if ((value && fd_msg_avp_setvalue(avp, value)) ||
	    fd_msg_avp_add(parent, MSG_BRW_LAST_CHILD, avp)) {
		fd_msg_free(avp);
		return -ENOMEM;
	}
	return 0;
}

static int add_str(struct dia_avp *parent, const char *name, const void *str,
		   size_t len)
{
	union avp_value v;

	if (!str)
		return -EINVAL;
	v.os.data = (uint8_t *)str;
	v.os.len = len == (size_t)-1 ? strlen(str) : len;
	return add_value(parent, name, &v, AVP_TYPE_OCTETSTRING);
}

static int add_u32(struct dia_avp *parent, const char *name, uint32_t value)
{
	union avp_value v;

	v.u32 = value; /* same bits as i32 */
	return add_value(parent, name, &v, AVP_TYPE_UNSIGNED32);
}

static int add_u64(struct dia_avp *parent, const char *name, uint64_t value)
{
	union avp_value v;

	v.u64 = value;
	return add_value(parent, name, &v, AVP_TYPE_UNSIGNED64);
}

static struct dia_avp *add_group(struct dia_avp *parent, const char *name)
{
	const struct dia_avpdef *def = dia_dict_avp(name);
	struct avp *avp = NULL;

	if (!parent || !def || def->base != AVP_TYPE_GROUPED ||
	    fd_msg_avp_new(def->obj, 0, &avp))
		return NULL;
	if (fd_msg_avp_add(parent, MSG_BRW_LAST_CHILD, avp)) {
		fd_msg_free(avp);
		return NULL;
	}
	return (struct dia_avp *)avp;
}

/* ---- Results ------------------------------------------------------------ */

static int set_result(struct dia_msg *msg, uint32_t code)
{
	struct msg_hdr *hdr;

	if (!msg || fd_msg_hdr((struct msg *)msg, &hdr))
		return -EINVAL;
	if (code >= 3000 && code < 4000) /* RFC 6733 7.1.3 */
		hdr->msg_flags |= CMD_FLAG_ERROR;
	return add_u32(root(msg), "Result-Code", code);
}

static int set_experimental(struct dia_msg *msg, uint32_t vendor, uint32_t code)
{
	struct dia_avp *g = add_group(root(msg), "Experimental-Result");

	if (!g)
		return -ENOMEM;
	if (add_u32(g, "Vendor-Id", vendor) ||
	    add_u32(g, "Experimental-Result-Code", code))
		return -ENOMEM;
	return 0;
}

/* RFC 6733 7.5: for a missing AVP, an example of it with a zero-filled
 * value of the minimum size its type allows. */
static int set_failed_missing(struct dia_msg *msg, const char *name)
{
	const struct dia_avpdef *def = dia_dict_avp(name);
	struct dia_avp *g;
	union avp_value v;
	static const uint8_t zeros[8];

	if (!def)
		return -ENOENT;
	g = add_group(root(msg), "Failed-AVP");
	if (!g)
		return -ENOMEM;
	memset(&v, 0, sizeof(v));
	switch (def->base) {
	case AVP_TYPE_GROUPED: return add_group(g, name) ? 0 : -ENOMEM;
	case AVP_TYPE_OCTETSTRING:
		v.os.data = (uint8_t *)zeros;
		v.os.len = 0;
		break;
	default: break;
	}
	return add_value(g, name, &v, def->base);
}

static int set_failed_avp(struct dia_msg *msg, struct dia_avp *bad)
{
	struct avp *src = (struct avp *)bad, *copy = NULL;
	struct dict_object *model = NULL;
	struct dia_avp *g;
	struct avp_hdr *h;

	if (!src || fd_msg_model(src, &model) || !model ||
	    fd_msg_avp_hdr(src, &h))
		return -EINVAL;
	g = add_group(root(msg), "Failed-AVP");
	if (!g || fd_msg_avp_new(model, 0, &copy))
		return -ENOMEM;
	if ((h->avp_value && fd_msg_avp_setvalue(copy, h->avp_value)) ||
	    fd_msg_avp_add((struct avp *)g, MSG_BRW_LAST_CHILD, copy)) {
		fd_msg_free(copy);
		return -ENOMEM;
	}
	return 0;
}

static int result(struct dia_msg *msg, uint32_t *vendor, uint32_t *code)
{
	struct dia_avp *er;

	if (find_u32(root(msg), "Result-Code", code) == 0) {
		*vendor = 0;
		return 0;
	}
	er = find(root(msg), "Experimental-Result");
	if (!er || find_u32(er, "Experimental-Result-Code", code))
		return -ENOENT;
	if (find_u32(er, "Vendor-Id", vendor))
		*vendor = 0;
	return 0;
}

static const char *identity(void)
{
	return dia_cfg->identity;
}

static const char *realm(void)
{
	return dia_cfg->realm;
}

const struct diameter_service dia_service = {
	.size = sizeof(struct diameter_service),
	.identity = identity,
	.realm = realm,
	.handle = handle,
	.use_app = use_app,
	.on_peer = on_peer,
	.peer_is_up = peer_is_up,
	.request_new = request_new,
	.send = send_request,
	.answer_send = answer_send,
	.answer_request = answer_request,
	.msg_free = msg_free,
	.msg_info = msg_info,
	.root = root,
	.find = find,
	.find_next = find_next,
	.get_str = get_str,
	.get_u32 = get_u32,
	.get_u64 = get_u64,
	.find_str = find_str,
	.find_u32 = find_u32,
	.add_str = add_str,
	.add_u32 = add_u32,
	.add_u64 = add_u64,
	.add_group = add_group,
	.set_result = set_result,
	.set_experimental = set_experimental,
	.set_failed_missing = set_failed_missing,
	.set_failed_avp = set_failed_avp,
	.result = result,
	.answer_renew = answer_renew,
};

void dia_service_fini(void)
{
	nhandlers = 0;
	nwatchers = 0;
	nused_apps = 0;
	core_running = false;
}
