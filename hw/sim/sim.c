/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sim: simulated E1/T1 spans that provide the "tdm" service. Pairs of
 * spans are wired back to back inside the node (peer = N) or to a span of
 * another node through a cable over a unix socket (cable = PATH), carry
 * bearer samples and D-channel HDLC frames both ways, and take injected
 * faults (span fault N ...). The lab and the integration tests use it to
 * stand in for a PBX's E1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define TND_LOG_HOST sim.drv.host
#define TND_LOG_CATEGORY "sim"

TND_PLUGIN_DECLARE(sim);

struct sim sim;

static const struct tnd_param sim_params[] = {
	TND_PARAM("max_lag_ms", TND_UINT, struct sim_cfg, max_lag_ms, "100",
		  "a clock thread woken later than this skips the missed "
		  "ticks instead of running them back to back", .min = 2,
		  .max = 10000),
	TND_PARAM("cable_retry_ms", TND_UINT, struct sim_cfg, cable_retry_ms,
		  "200", "how often a cable that connects retries",
		  .min = 10, .max = 60000),
	TND_PARAM_END
};

/* [span N] keys only the simulator knows. */
static const struct tnd_param sim_span_params[] = {
	TND_PARAM("peer", TND_UINT, struct tdm_span_cfg, peer, "0",
		  "span of this node wired back to back with this one "
		  "(0: none)", .min = 0, .max = TDM_MAX_SPANS),
	TND_PARAM("cable", TND_STR, struct tdm_span_cfg, cable, "",
		  "unix socket carrying this span to another node's span"),
	TND_PARAM("cable_listen", TND_BOOL, struct tdm_span_cfg, cable_listen,
		  "no", "listen on the cable socket (one end listens, the "
		  "other connects)"),
	TND_PARAM("cable_buffer_ms", TND_UINT, struct tdm_span_cfg,
		  cable_buffer_ms, "4", "frames buffered from the cable "
		  "before playing out, ms (jitter tolerance)", .min = 1,
		  .max = SIM_CABLE_RING / 2),
	TND_PARAM_END
};

/* ---- Checks -------------------------------------------------------------- */

static int check_peer(struct tdm_driver *drv, struct tdm_span *s)
{
	const struct tnd_host_api *host = drv->host;
	struct tdm_span *p = tdm_span_find(drv, (unsigned)s->cfg.peer);

	if (s->cfg.peer == s->no) {
		return host->config_error(s->section, "peer", "[%s] peer = %llu: "
					  "a span cannot be wired to itself "
					  "(span loopback N on loops it)",
					  s->section, s->cfg.peer);
	}
	if (!p) {
		return host->config_error(s->section, "peer", "[%s] peer = %llu: "
					  "there is no [span %llu]", s->section,
					  s->cfg.peer, s->cfg.peer);
	}
	if (p->cfg.peer != s->no) {
		return host->config_error(s->section, "peer", "[%s] peer = %llu, "
					  "but [span %u] names peer %llu: a "
					  "cable has two ends; set peer = %u "
					  "there", s->section, s->cfg.peer,
					  p->no, p->cfg.peer, s->no);
	}
	if (p->type != s->type && !(p->type != TDM_SPAN_E1 &&
				    s->type != TDM_SPAN_E1)) {
		return host->config_error(s->section, "peer", "[%s] peer = %llu: "
					  "an E1 cannot be wired to a T1/J1",
					  s->section, s->cfg.peer);
	}
	return 0;
}

static int sim_check_span(struct tdm_driver *drv, struct tdm_span *s)
{
	if (s->cfg.peer && s->cfg.cable[0]) {
		return drv->host->config_error(s->section, "cable", "[%s] cable "
					       "= %s: the span is already wired "
					       "to span %llu (peer); a span has "
					       "one cable", s->section,
					       s->cfg.cable, s->cfg.peer);
	}
	if (s->cfg.peer)
		return check_peer(drv, s);
	return 0;
}

static int sim_check(struct tdm_driver *drv)
{
	int errors = 0;

	for (size_t i = 0; i < drv->nspans; i++)
		errors += sim_check_span(drv, &drv->spans[i]) < 0;
	return errors ? -EINVAL : 0;
}

/* ---- Driver operations --------------------------------------------------- */

static int sim_loopback(struct tdm_span *span, bool on)
{
	struct sim_span *ss = span->priv;

	atomic_store(&ss->line.loopback, on);
	return 0;
}

static void sim_line_stats(struct tdm_span *span, struct tdm_span_stats *st)
{
	struct line_stats *ls = &((struct sim_span *)span->priv)->line.stats;

	st->slips = atomic_load(&ls->slips);
	st->crc_errors = atomic_load(&ls->crc_errors);
	st->fas_errors = atomic_load(&ls->fas_errors);
	st->bpv = atomic_load(&ls->bpv);
	st->alarm_count = atomic_load(&ls->alarm_count);
}

static void sim_on_loop(struct tdm_driver *drv)
{
	if (!drv->running)
		return;
	for (size_t i = 0; i < drv->nspans; i++)
		tdm_span_set_alarms(&drv->spans[i],
				    atomic_load(&sim.spans[i].line.alarms));
}

static const struct tdm_driver_ops sim_ops = {
	.span_params = sim_span_params,
	.check = sim_check,
	.bchan_write = sim_bchan_write,
	.dchan_send = sim_dchan_send,
	.loopback = sim_loopback,
	.line_stats = sim_line_stats,
	.on_loop = sim_on_loop,
};

/* ---- Control commands ---------------------------------------------------- */

static int cmd_fault(struct tnd_reply *r, int argc, char **argv)
{
	struct tdm_span *span;
	struct sim_span *ss;
	unsigned fault, shot;

	if (argc != 2)
		return sim.drv.host->reply_error(r, "usage: span fault N "
			"los|lof|ais|rai|slip|dchan-error|crc|bpv|cut|clear");
	span = tdm_cmd_span(r, argv[0]);
	if (!span)
		return -ENOENT;
	ss = span->priv;
	if (strcmp(argv[1], "clear") != 0 &&
	    line_fault_parse(argv[1], &fault, &shot) < 0)
		return sim.drv.host->reply_error(r, "unknown fault '%s' "
			"(los lof ais rai slip dchan-error crc bpv cut clear)",
			argv[1]);
	line_inject(&ss->line, argv[1]);
	/* A cable has two ends: cutting or mending it acts on both. */
	if (ss->peer && strcmp(argv[1], "cut") == 0)
		line_inject(&ss->peer->line, "cut");
	if (ss->peer && strcmp(argv[1], "clear") == 0)
		atomic_fetch_and(&ss->peer->line.faults, ~LINE_FAULT_CUT);
	tnd_notice("span %u: fault %s injected", span->no, argv[1]);
	sim.drv.host->reply_field_num(r, "span", span->no);
	sim.drv.host->reply_field(r, "fault", "%s", argv[1]);
	return 0;
}

static int cmd_sim_show(struct tnd_reply *r, int argc, char **argv)
{
	const struct tnd_host_api *h = sim.drv.host;

	(void)argv;
	if (argc != 0)
		return h->reply_error(r, "usage: sim show");
	h->reply_field_num(r, "ticks", (long long)atomic_load(&sim.ticks));
	h->reply_field_num(r, "samples",
			   (long long)atomic_load(&sim.drv.samples));
	h->reply_field_num(r, "late_ms", (long long)atomic_load(&sim.late_ms));
	h->reply_field_num(r, "skipped_ms",
			   (long long)atomic_load(&sim.skipped_ms));
	for (size_t i = 0; i < sim.drv.nspans; i++) {
		struct sim_cable *c = sim.spans[i].cable;

		if (!c)
			continue;
		h->reply_record(r);
		h->reply_field_num(r, "span", sim.drv.spans[i].no);
		h->reply_field(r, "cable", "%s", c->path);
		h->reply_field(r, "role", "%s",
			       c->listen ? "listen" : "connect");
		h->reply_field_num(r, "connects",
				   (long long)atomic_load(&c->connects));
		h->reply_field_num(r, "late_ticks",
				   (long long)atomic_load(&c->late_ticks));
		h->reply_field_num(r, "overflows",
				   (long long)atomic_load(&c->overflows));
	}
	return 0;
}

static const struct tnd_command sim_commands[] = {
	TDM_COMMANDS,
	{ "span fault", "N FAULT",
	  "inject a fault on simulated span N: los lof ais rai cut (held "
	  "until clear), slip dchan-error crc bpv (once), clear",
	  cmd_fault },
	{ "sim show", NULL, "the simulator's clock and cables", cmd_sim_show },
	TND_COMMAND_END
};

/* ---- Lifecycle ----------------------------------------------------------- */

static int wire_span(struct sim_span *ss, struct tdm_span *span)
{
	ss->span = span;
	span->priv = ss;
	line_init(&ss->line, span->timeslots);
	hdlc_tx_init(&ss->htx);
	hdlc_rx_init(&ss->hrx);
	pthread_mutex_init(&ss->dchan_lock, NULL);
	ss->dq_tail = &ss->dq_head;
	ss->seen_alarms = ~0u; /* post the first tick's alarms */
	for (unsigned ts = 0; ts < TDM_TIMESLOTS; ts++) {
		pthread_mutex_init(&ss->b[ts].lock, NULL);
		span->bchan[ts].drv = &ss->b[ts];
	}
	if (span->cfg.peer)
		ss->peer = &sim.spans[tdm_span_find(&sim.drv,
						    (unsigned)span->cfg.peer) -
				      sim.drv.spans];
	if (!span->cfg.cable[0])
		return 0;
	ss->cable = calloc(1, sizeof(*ss->cable));
	if (!ss->cable)
		return -ENOMEM;
	ss->cable->ss = ss;
	ss->cable->fd = ss->cable->listen_fd = -1;
	ss->cable->listen = span->cfg.cable_listen;
	ss->cable->target = (unsigned)span->cfg.cable_buffer_ms;
	pthread_mutex_init(&ss->cable->lock, NULL);
	snprintf(ss->cable->path, sizeof(ss->cable->path), "%s",
		 span->cfg.cable);
	return sim_cable_check(&sim, ss);
}

static void sim_fini(void);

static int sim_init(const struct tnd_host_api *host, void *cfg)
{
	int rc;

	memset(&sim, 0, sizeof(sim));
	sim.cfg = cfg;
	sim.drv.name = "sim";
	sim.drv.host = host;
	sim.drv.self = &TND_PLUGIN_SYMBOL(sim);
	sim.drv.ops = &sim_ops;
	rc = tdm_spans_load(&sim.drv);
	if (rc == 0) {
		sim.spans = calloc(sim.drv.nspans ? sim.drv.nspans : 1,
				   sizeof(*sim.spans));
		rc = sim.spans ? 0 : -ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < sim.drv.nspans; i++)
		rc = wire_span(&sim.spans[i], &sim.drv.spans[i]);
	if (rc == 0)
		rc = tdm_register(&sim.drv);
	if (rc < 0)
		sim_fini(); /* the host calls fini only after a good init */
	return rc;
}

static int sim_start(void)
{
	int rc = 0;

	for (size_t i = 0; i < sim.drv.nspans && rc == 0; i++)
		if (sim.spans[i].cable)
			rc = sim_cable_start(&sim, &sim.spans[i]);
	if (rc < 0)
		return rc;
	sim.drv.running = true;
	rc = sim_clock_start(&sim);
	if (rc == 0)
		tnd_info("%zu simulated span(s) running", sim.drv.nspans);
	return rc;
}

static int sim_stop(void)
{
	sim_clock_stop(&sim);
	for (size_t i = 0; i < sim.drv.nspans; i++) {
		if (sim.spans[i].cable)
			sim_cable_stop(&sim, &sim.spans[i]);
		tdm_span_set_alarms(&sim.drv.spans[i], TDM_ALARM_NOTOPEN);
	}
	tdm_stop(&sim.drv);
	return 0;
}

static void free_span(struct sim_span *ss)
{
	while (ss->dq_head) {
		struct sim_frame *f = ss->dq_head;

		ss->dq_head = f->next;
		free(f);
	}
	for (unsigned ts = 0; ts < TDM_TIMESLOTS; ts++)
		pthread_mutex_destroy(&ss->b[ts].lock);
	pthread_mutex_destroy(&ss->dchan_lock);
	if (ss->cable)
		pthread_mutex_destroy(&ss->cable->lock);
	free(ss->cable);
}

static void sim_fini(void)
{
	sim_clock_stop(&sim);
	for (size_t i = 0; sim.spans && i < sim.drv.nspans; i++)
		if (sim.spans[i].span)
			free_span(&sim.spans[i]);
	free(sim.spans);
	sim.spans = NULL;
	tdm_spans_free(&sim.drv);
}

static const char *const sim_sections[] = { "span", NULL };

static const struct tnd_service_ref sim_provides[] = {
	{ TDM_SERVICE, TDM_SERVICE_VERSION },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(sim) = {
	TND_PLUGIN_HEADER,
	.name = "sim",
	.version = "1.0",
	.description = "simulated E1/T1 spans wired back to back or across "
		       "nodes, with fault injection",
	.provides = sim_provides,
	.params = sim_params,
	.cfg_size = sizeof(struct sim_cfg),
	.commands = sim_commands,
	.sections = sim_sections,
	.init = sim_init,
	.start = sim_start,
	.stop = sim_stop,
	.fini = sim_fini,
};
