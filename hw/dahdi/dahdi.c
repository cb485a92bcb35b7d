/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dahdi: the "tdm" service on real E1/T1 cards through DAHDI. The [span N]
 * sections say what system.conf would: with configure_spans = yes the
 * driver applies them itself, as dahdi_cfg does (DAHDI_SPANCONFIG,
 * DAHDI_CHANCONFIG, DAHDI_STARTUP); otherwise it checks that dahdi_cfg
 * configured the card the same way. Alarms come from DAHDI events and
 * DAHDI_SPANSTAT, counters from DAHDI_SPANSTAT, the clock from DAHDI.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <dahdi/user.h>

#include "dahdi.h"

#define TND_LOG_HOST dahdi.drv.host
#define TND_LOG_CATEGORY "dahdi"

TND_PLUGIN_DECLARE(dahdi);

struct dahdi_drv dahdi;

static const struct tnd_param dahdi_params[] = {
	TND_PARAM("device_dir", TND_STR, struct dahdi_cfg, device_dir,
		  "/dev/dahdi", "where DAHDI's device nodes are"),
	TND_PARAM("configure_spans", TND_BOOL, struct dahdi_cfg,
		  configure_spans, "yes",
		  "apply the [span N] sections to DAHDI as dahdi_cfg does "
		  "(no: only check what dahdi_cfg set)"),
	TND_PARAM("status_interval_ms", TND_UINT, struct dahdi_cfg,
		  status_interval_ms, "1000",
		  "how often span counters are read (alarms come at once "
		  "from DAHDI events)", .min = 100, .max = 60000),
	TND_PARAM("bufs", TND_UINT, struct dahdi_cfg, bufs, "4",
		  "DAHDI buffers of 20 ms per bearer channel, each way",
		  .min = 2, .max = 32),
	TND_PARAM_END
};

static const struct tnd_param dahdi_span_params[] = {
	TND_PARAM("basechan", TND_UINT, struct tdm_span_cfg, basechan, "0",
		  "DAHDI channel number of timeslot 1 (0: found from DAHDI)",
		  .min = 0, .max = 4096),
	TND_PARAM_END
};

/* ---- DAHDI line configuration -------------------------------------------- */

static int lineconfig_of(const struct tdm_span *s)
{
	int lc = 0;

	if (s->type == TDM_SPAN_E1) {
		lc |= strcmp(s->framing, "ccs") == 0 ? DAHDI_CONFIG_CCS : 0;
		lc |= s->crc4 ? DAHDI_CONFIG_CRC4 : 0;
		lc |= strcmp(s->coding, "hdb3") == 0 ? DAHDI_CONFIG_HDB3
						     : DAHDI_CONFIG_AMI;
	} else {
		lc |= strcmp(s->framing, "esf") == 0 ? DAHDI_CONFIG_ESF
						     : DAHDI_CONFIG_D4;
		lc |= strcmp(s->coding, "b8zs") == 0 ? DAHDI_CONFIG_B8ZS
						     : DAHDI_CONFIG_AMI;
	}
	return lc;
}

static int spanstat(unsigned no, struct dahdi_spaninfo *si)
{
	memset(si, 0, sizeof(*si));
	si->spanno = (int)no;
	return ioctl(dahdi.ctl_fd, DAHDI_SPANSTAT, si) < 0 ? -errno : 0;
}

static const char *type_text(enum tdm_span_type t)
{
	return t == TDM_SPAN_E1 ? "E1" : t == TDM_SPAN_T1 ? "T1" : "J1";
}

/* The span exists, is of our type and has the timeslots we use. */
static int check_card_span(struct tdm_span *s, const struct dahdi_spaninfo *si)
{
	if (si->spantype[0] && strncmp(si->spantype, type_text(s->type),
				       sizeof(si->spantype)) != 0) {
		tnd_error("%s: [%s] type = %s, but DAHDI span %u (%s) is %.6s",
			  dahdi.drv.host->where(s->section, "type"),
			  s->section, s->cfg.type, s->no, si->desc,
			  si->spantype);
		return -EINVAL;
	}
	if (si->totalchans < (int)s->timeslots) {
		tnd_error("[%s]: DAHDI span %u has %d channels, a %s needs %u",
			  s->section, s->no, si->totalchans,
			  type_text(s->type), s->timeslots);
		return -EINVAL;
	}
	return 0;
}

/* DAHDI numbers channels across all spans. sysfs says where a span
 * starts; without it spans are numbered in order, each after the last. */
static unsigned find_basechan(struct tdm_span *s)
{
	char path[128];
	unsigned base = 1;
	FILE *f;

	if (s->cfg.basechan)
		return (unsigned)s->cfg.basechan;
	snprintf(path, sizeof(path),
		 "/sys/bus/dahdi_spans/devices/span-%u/basechan", s->no);
	f = fopen(path, "r");
	if (f) {
		int ok = fscanf(f, "%u", &base) == 1;

		fclose(f);
		if (ok)
			return base;
	}
	for (unsigned no = 1; no < s->no; no++) {
		struct dahdi_spaninfo si;

		if (spanstat(no, &si) == 0)
			base += (unsigned)si.totalchans;
	}
	return base;
}

static int configure_channel(struct tdm_span *s, unsigned base, unsigned ts)
{
	struct dahdi_chanconfig cc;

	memset(&cc, 0, sizeof(cc));
	cc.chan = (int)(base + ts - 1);
	cc.sigtype = ts == s->dchan_ts ? DAHDI_SIG_HDLCFCS : DAHDI_SIG_CLEAR;
	cc.deflaw = s->law == TDM_LAW_ALAW ? DAHDI_LAW_ALAW : DAHDI_LAW_MULAW;
	if (ioctl(dahdi.ctl_fd, DAHDI_CHANCONFIG, &cc) == 0)
		return 0;
	tnd_error("span %u timeslot %u: DAHDI_CHANCONFIG of channel %d: %s",
		  s->no, ts, cc.chan, strerror(errno));
	return -errno;
}

/* What dahdi_cfg does for one "span=" line and its channels. */
static int configure_span(struct tdm_span *s, unsigned base)
{
	struct dahdi_lineconfig lc;
	int no = (int)s->no;

	memset(&lc, 0, sizeof(lc));
	lc.span = no;
	lc.lbo = (int)s->cfg.lbo;
	lc.lineconfig = lineconfig_of(s);
	lc.sync = (int)s->cfg.timing;
	if (ioctl(dahdi.ctl_fd, DAHDI_SPANCONFIG, &lc) < 0) {
		tnd_error("span %u: DAHDI_SPANCONFIG: %s", s->no,
			  strerror(errno));
		return -errno;
	}
	for (unsigned ts = 1; ts <= s->timeslots; ts++)
		if (((s->bmask >> ts) & 1) || ts == s->dchan_ts)
			if (configure_channel(s, base, ts) < 0)
				return -EIO;
	if (ioctl(dahdi.ctl_fd, DAHDI_STARTUP, &no) < 0) {
		tnd_error("span %u: DAHDI_STARTUP: %s", s->no, strerror(errno));
		return -errno;
	}
	return 0;
}

/* configure_spans = no: dahdi_cfg ran; say where it differs from us. */
static int compare_span(struct tdm_span *s, const struct dahdi_spaninfo *si)
{
	int want = lineconfig_of(s);
	int mask = DAHDI_CONFIG_D4 | DAHDI_CONFIG_ESF | DAHDI_CONFIG_AMI |
		   DAHDI_CONFIG_B8ZS | DAHDI_CONFIG_CCS | DAHDI_CONFIG_HDB3 |
		   DAHDI_CONFIG_CRC4;

	if ((si->lineconfig & mask) == want)
		return 0;
	tnd_error("span %u: DAHDI has line configuration 0x%x, [%s] says "
		  "0x%x (framing %s, coding %s, crc4 %s): fix system.conf or "
		  "set configure_spans = yes", s->no, si->lineconfig & mask,
		  s->section, want, s->framing, s->coding,
		  s->crc4 ? "yes" : "no");
	return -EINVAL;
}

static int setup_span(struct dahdi_span *ds)
{
	struct tdm_span *s = ds->span;
	struct dahdi_spaninfo si;
	int rc = spanstat(s->no, &si);

	if (rc < 0) {
		tnd_error("%s: [%s]: DAHDI has no span %u (%s): is the card's "
			  "driver loaded? (dahdi_scan, lsdahdi)",
			  dahdi.drv.host->where(s->section, NULL), s->section,
			  s->no, strerror(-rc));
		return rc;
	}
	rc = check_card_span(s, &si);
	if (rc < 0)
		return rc;
	ds->basechan = find_basechan(s);
	if (dahdi.cfg->configure_spans)
		rc = configure_span(s, ds->basechan);
	else
		rc = compare_span(s, &si);
	if (rc == 0)
		tnd_info("span %u: %s \"%s\", channels %u-%u", s->no,
			 si.devicetype, si.desc, ds->basechan,
			 ds->basechan + s->timeslots - 1);
	return rc;
}

/* ---- Alarms, counters, clock --------------------------------------------- */

static unsigned alarms_of(int a)
{
	unsigned t = 0;

	if (a & DAHDI_ALARM_RED)
		t |= (a & DAHDI_ALARM_LFA) && !(a & DAHDI_ALARM_LOS)
			     ? TDM_ALARM_LOF
			     : TDM_ALARM_LOS;
	if (a & DAHDI_ALARM_RECOVER) /* framed again, not yet trusted */
		t |= TDM_ALARM_LOF;
	if (a & DAHDI_ALARM_BLUE)
		t |= TDM_ALARM_AIS;
	if (a & DAHDI_ALARM_YELLOW)
		t |= TDM_ALARM_RAI;
	if (a & DAHDI_ALARM_LOOPBACK)
		t |= TDM_ALARM_LOOPBACK;
	if (a & DAHDI_ALARM_NOTOPEN)
		t |= TDM_ALARM_NOTOPEN;
	return t;
}

static void dahdi_refresh(struct tdm_span *s)
{
	struct dahdi_span *ds = s->priv;
	struct dahdi_spaninfo si;
	int red_blue = DAHDI_ALARM_RED | DAHDI_ALARM_BLUE;

	if (!dahdi.drv.running || spanstat(s->no, &si) < 0)
		return;
	if ((si.alarms & red_blue) && !(ds->dahdi_alarms & red_blue))
		ds->alarm_count++;
	ds->dahdi_alarms = si.alarms;
	ds->bpv = (uint64_t)(unsigned)si.bpvcount;
	ds->crc4 = (uint64_t)(unsigned)si.crc4count;
	ds->fas = (uint64_t)(unsigned)si.fascount;
	ds->syncsrc = si.syncsrc;
	tdm_span_set_alarms(s, alarms_of(si.alarms));
}

static void dahdi_line_stats(struct tdm_span *s, struct tdm_span_stats *st)
{
	struct dahdi_span *ds = s->priv;

	st->bpv = ds->bpv;
	st->crc_errors = ds->crc4;
	st->fas_errors = ds->fas;
	st->alarm_count = ds->alarm_count;
	/* DAHDI_SPANSTAT has no slip counter */
}

/* DAHDI chooses the master span itself (DAHDI_SPANSTAT syncsrc). */
static unsigned dahdi_clock_span(struct tdm_driver *drv)
{
	for (size_t i = 0; i < drv->nspans; i++)
		if (dahdi.spans[i].syncsrc > 0)
			return (unsigned)dahdi.spans[i].syncsrc;
	return 0;
}

static void dahdi_on_loop(struct tdm_driver *drv)
{
	if (!drv->running)
		return;
	for (size_t i = 0; i < drv->nspans; i++)
		if (atomic_exchange(&dahdi.spans[i].alarm_event, false))
			dahdi_refresh(&drv->spans[i]);
}

static void status_tick(struct tnd_timer *t, void *arg)
{
	(void)t, (void)arg;
	for (size_t i = 0; i < dahdi.drv.nspans; i++)
		dahdi_refresh(&dahdi.drv.spans[i]);
}

static int dahdi_loopback(struct tdm_span *s, bool on)
{
	struct dahdi_maintinfo mi;

	memset(&mi, 0, sizeof(mi));
	mi.spanno = (int)s->no;
	mi.command = on ? DAHDI_MAINT_LOCALLOOP : DAHDI_MAINT_NONE;
	if (ioctl(dahdi.ctl_fd, DAHDI_MAINT, &mi) < 0) {
		tnd_error("span %u: DAHDI_MAINT: %s", s->no, strerror(errno));
		return -errno;
	}
	dahdi_refresh(s);
	return 0;
}

static const struct tdm_driver_ops dahdi_ops = {
	.span_params = dahdi_span_params,
	.bchan_write = dahdi_bchan_write,
	.dchan_send = dahdi_dchan_send,
	.loopback = dahdi_loopback,
	.refresh = dahdi_refresh,
	.line_stats = dahdi_line_stats,
	.on_loop = dahdi_on_loop,
	.clock_span = dahdi_clock_span,
};

/* ---- Control commands ---------------------------------------------------- */

static int cmd_dahdi_show(struct tnd_reply *r, int argc, char **argv)
{
	const struct tnd_host_api *h = dahdi.drv.host;
	struct dahdi_versioninfo vi;

	(void)argv;
	if (argc != 0)
		return h->reply_error(r, "usage: dahdi show");
	memset(&vi, 0, sizeof(vi));
	if (dahdi.ctl_fd >= 0)
		ioctl(dahdi.ctl_fd, DAHDI_GETVERSION, &vi);
	h->reply_field(r, "version", "%.80s", vi.version);
	h->reply_field(r, "echo_canceller", "%.80s",
		       vi.echo_canceller[0] ? vi.echo_canceller : "-");
	h->reply_field(r, "device_dir", "%s", dahdi.cfg->device_dir);
	h->reply_field_num(r, "blocks", (long long)atomic_load(&dahdi.blocks));
	h->reply_field_num(r, "events", (long long)atomic_load(&dahdi.events));
	h->reply_field_num(r, "read_errors",
			   (long long)atomic_load(&dahdi.read_errors));
	for (size_t i = 0; i < dahdi.drv.nspans; i++) {
		h->reply_record(r);
		h->reply_field_num(r, "span", dahdi.drv.spans[i].no);
		h->reply_field_num(r, "basechan", dahdi.spans[i].basechan);
		h->reply_field(r, "dahdi_alarms", "0x%x",
			       (unsigned)dahdi.spans[i].dahdi_alarms);
		h->reply_field_num(r, "syncsrc", dahdi.spans[i].syncsrc);
	}
	return 0;
}

static const struct tnd_command dahdi_commands[] = {
	TDM_COMMANDS,
	{ "dahdi show", NULL, "DAHDI's version, echo canceller and spans",
	  cmd_dahdi_show },
	TND_COMMAND_END
};

/* ---- Lifecycle ----------------------------------------------------------- */

static void dahdi_fini(void);

static int dahdi_init(const struct tnd_host_api *host, void *cfg)
{
	int rc;

	memset(&dahdi, 0, sizeof(dahdi));
	dahdi.cfg = cfg;
	dahdi.ctl_fd = -1;
	dahdi.wake[0] = dahdi.wake[1] = -1;
	dahdi_chan_init(&dahdi.pseudo);
	dahdi.drv.name = "dahdi";
	dahdi.drv.host = host;
	dahdi.drv.self = &TND_PLUGIN_SYMBOL(dahdi);
	dahdi.drv.ops = &dahdi_ops;
	rc = tdm_spans_load(&dahdi.drv);
	if (rc == 0) {
		dahdi.spans = calloc(dahdi.drv.nspans ? dahdi.drv.nspans : 1,
				     sizeof(*dahdi.spans));
		rc = dahdi.spans ? 0 : -ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < dahdi.drv.nspans; i++) {
		dahdi.spans[i].span = &dahdi.drv.spans[i];
		dahdi.drv.spans[i].priv = &dahdi.spans[i];
		for (unsigned ts = 0; ts < TDM_TIMESLOTS; ts++)
			dahdi_chan_init(&dahdi.spans[i].chans[ts]);
	}
	if (rc == 0)
		rc = tdm_register(&dahdi.drv);
	if (rc < 0)
		dahdi_fini();
	return rc;
}

static int open_ctl(void)
{
	char path[256];
	struct dahdi_versioninfo vi;

	dahdi.ctl_fd = open(dahdi_path("ctl", path, sizeof(path)),
			    O_RDWR | O_CLOEXEC);
	if (dahdi.ctl_fd < 0) {
		tnd_error("cannot open %s: %s (is the dahdi kernel module "
			  "loaded? docs/spans.md)", path, strerror(errno));
		return -errno;
	}
	memset(&vi, 0, sizeof(vi));
	if (ioctl(dahdi.ctl_fd, DAHDI_GETVERSION, &vi) == 0)
		tnd_info("DAHDI %.80s, echo canceller %.80s", vi.version,
			 vi.echo_canceller[0] ? vi.echo_canceller : "none");
	return 0;
}

static int dahdi_start(void)
{
	int rc = open_ctl();

	for (size_t i = 0; rc == 0 && i < dahdi.drv.nspans; i++)
		rc = setup_span(&dahdi.spans[i]);
	if (rc == 0)
		rc = dahdi_open_channels(&dahdi);
	if (rc < 0)
		return rc;
	dahdi.drv.running = true;
	status_tick(NULL, NULL);
	dahdi.status_timer = dahdi.drv.host->timer_new(dahdi.drv.self,
						       status_tick, NULL);
	if (!dahdi.status_timer)
		return -ENOMEM;
	dahdi.drv.host->timer_start(dahdi.status_timer,
				    dahdi.cfg->status_interval_ms,
				    dahdi.cfg->status_interval_ms);
	rc = dahdi_worker_start(&dahdi);
	if (rc == 0)
		tnd_info("%zu DAHDI span(s) running", dahdi.drv.nspans);
	return rc;
}

static int dahdi_stop(void)
{
	dahdi_worker_stop(&dahdi);
	dahdi.drv.host->timer_free(dahdi.status_timer);
	dahdi.status_timer = NULL;
	for (size_t i = 0; i < dahdi.drv.nspans; i++)
		tdm_span_set_alarms(&dahdi.drv.spans[i], TDM_ALARM_NOTOPEN);
	tdm_stop(&dahdi.drv);
	dahdi_close_channels(&dahdi);
	return 0;
}

static void dahdi_fini(void)
{
	dahdi_worker_stop(&dahdi);
	dahdi_close_channels(&dahdi);
	if (dahdi.ctl_fd >= 0)
		close(dahdi.ctl_fd);
	dahdi.ctl_fd = -1;
	dahdi_chan_fini(&dahdi.pseudo);
	for (size_t i = 0; dahdi.spans && i < dahdi.drv.nspans; i++)
		for (unsigned ts = 0; ts < TDM_TIMESLOTS; ts++)
			dahdi_chan_fini(&dahdi.spans[i].chans[ts]);
	free(dahdi.spans);
	dahdi.spans = NULL;
	tdm_spans_free(&dahdi.drv);
}

static const char *const dahdi_sections[] = { "span", NULL };

static const struct tnd_service_ref dahdi_provides[] = {
	{ TDM_SERVICE, TDM_SERVICE_VERSION },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(dahdi) = {
	TND_PLUGIN_HEADER,
	.name = "dahdi",
	.version = "1.0",
	.description = "E1/T1 spans of real cards through DAHDI",
	.provides = dahdi_provides,
	.params = dahdi_params,
	.cfg_size = sizeof(struct dahdi_cfg),
	.commands = dahdi_commands,
	.sections = dahdi_sections,
	.init = dahdi_init,
	.start = dahdi_start,
	.stop = dahdi_stop,
	.fini = dahdi_fini,
};
