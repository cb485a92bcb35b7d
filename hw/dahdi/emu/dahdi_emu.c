/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dahdi_emu: the emulated card and DAHDI's device semantics (see
 * dahdi_emu.h). A test tool: it writes nothing to stdout and logs
 * nothing; what it does shows in what the driver under test sees.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dahdi/user.h>

#include "tandem/tdm.h"
#include "dahdi_emu.h"

pthread_mutex_t emu_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t emu_cond = PTHREAD_COND_INITIALIZER;
static pthread_once_t emu_once = PTHREAD_ONCE_INIT;
static struct emu_span spans[EMU_MAX_SPANS];
static unsigned nspans;
static struct emu_chan pseudos[EMU_MAX_PSEUDO];
static int fifo_fd = -1;
static bool hwec;

#define LINE_IDLE 0xff
#define EMU_MAX_LAG_NS 5000000L

/* ---- The card ------------------------------------------------------------ */

static void add_span(const char *type)
{
	struct emu_span *s = &spans[nspans];
	bool e1 = strcasecmp(type, "e1") == 0;

	s->no = ++nspans;
	snprintf(s->type, sizeof(s->type), "%s",
		 e1 ? "E1" : strcasecmp(type, "j1") == 0 ? "J1" : "T1");
	s->nchans = e1 ? 31 : 24;
	s->basechan = s->no == 1 ? 1
				 : spans[s->no - 2].basechan +
					   spans[s->no - 2].nchans;
	s->alarms = DAHDI_ALARM_NOTOPEN;
	line_init(&s->line, s->nchans);
	for (unsigned ts = 1; ts <= s->nchans; ts++) {
		s->chans[ts].channo = s->basechan + ts - 1;
		s->chans[ts].span = s;
		s->chans[ts].pos = ts;
	}
}

static void parse_spans(const char *text)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", text ? text : "e1,e1");
	for (char *t = strtok_r(buf, ", ", &save); t && nspans < EMU_MAX_SPANS;
	     t = strtok_r(NULL, ", ", &save))
		add_span(t);
}

static void parse_wiring(const char *text)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", text ? text : "1-2");
	for (char *t = strtok_r(buf, ", ", &save); t;
	     t = strtok_r(NULL, ", ", &save)) {
		unsigned a, b;

		if (sscanf(t, "%u-%u", &a, &b) != 2 || a < 1 || b < 1 ||
		    a > nspans || b > nspans || a == b)
			continue;
		spans[a - 1].peer = &spans[b - 1];
		spans[b - 1].peer = &spans[a - 1];
	}
}

static void *tick_main(void *arg);

static void setup_card(void)
{
	const char *fifo = getenv("DAHDI_EMU_FIFO");
	pthread_t thread;

	parse_spans(getenv("DAHDI_EMU_SPANS"));
	parse_wiring(getenv("DAHDI_EMU_WIRING"));
	hwec = getenv("DAHDI_EMU_HWEC") && *getenv("DAHDI_EMU_HWEC");
	if (fifo && *fifo) {
		if (mkfifo(fifo, 0600) < 0 && errno != EEXIST)
			fifo = NULL;
		/* O_RDWR: the fifo never reports end of file between
		 * writers. */
		if (fifo)
			fifo_fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	}
	if (pthread_create(&thread, NULL, tick_main, NULL) == 0)
		pthread_detach(thread);
}

void emu_setup(void)
{
	pthread_once(&emu_once, setup_card);
}

static uint8_t idle_of(const struct emu_chan *c)
{
	return c->deflaw == DAHDI_LAW_ALAW ? 0xd5 : 0xff;
}

static bool is_hdlc(const struct emu_chan *c)
{
	return (c->sigtype & DAHDI_SIG_HDLCRAW) == DAHDI_SIG_HDLCRAW;
}

/* ---- Channel buffers and events ------------------------------------------ */

static void free_buffers(struct emu_chan *c)
{
	free(c->rxbuf);
	free(c->txbuf);
	c->rxbuf = c->txbuf = NULL;
}

static int set_buffers(struct emu_chan *c, int blocksize, int numbufs)
{
	uint8_t *rx = calloc((size_t)numbufs, (size_t)blocksize);
	uint8_t *tx = calloc((size_t)numbufs, (size_t)blocksize);

	if (!rx || !tx) {
		free(rx);
		free(tx);
		return -ENOMEM;
	}
	free_buffers(c);
	c->rxbuf = rx;
	c->txbuf = tx;
	c->blocksize = blocksize;
	c->numbufs = numbufs;
	c->rx_head = c->rx_ready = 0;
	c->tx_head = c->tx_ready = c->tx_pos = 0;
	memset(c->rxlen, 0, sizeof(c->rxlen));
	memset(c->txlen, 0, sizeof(c->txlen));
	return 0;
}

static void qevent(struct emu_chan *c, int ev)
{
	if (c->ev_count == EMU_MAX_EVENTS) {
		c->ev_head = (c->ev_head + 1) % EMU_MAX_EVENTS;
		c->ev_count--;
	}
	c->events[(c->ev_head + c->ev_count) % EMU_MAX_EVENTS] = ev;
	c->ev_count++;
	if (c->file)
		emu_doorbell(c->file);
}

/* What dahdi-base's initialize_channel() resets on open. */
static int open_chan(struct emu_chan *c, struct emu_file *f)
{
	int rc = set_buffers(c, DAHDI_DEFAULT_BLOCKSIZE,
			     DAHDI_DEFAULT_NUM_BUFS);

	if (rc < 0)
		return rc;
	c->file = f;
	f->chan = c;
	c->ev_head = c->ev_count = 0;
	c->chan_alarms = c->span ? c->span->alarms : 0;
	c->ec_taps = 0;
	hdlc_tx_init(&c->htx);
	hdlc_rx_init(&c->hrx);
	return 0;
}

static void release_chan(struct emu_chan *c)
{
	free_buffers(c);
	c->file = NULL;
	c->ev_count = 0;
	if (!c->span) /* a pseudo channel goes back to the pool */
		c->sigtype = 0;
}

/* ---- The 1 ms tick ------------------------------------------------------- */

static void take_tx(struct emu_chan *c, uint8_t *out)
{
	for (int i = 0; i < LINE_TICK_FRAMES; i++) {
		if (!c->tx_ready) {
			out[i] = idle_of(c); /* DAHDI sends silence */
			continue;
		}
		out[i] = c->txbuf[c->tx_head * c->blocksize + c->tx_pos++];
		if (c->tx_pos >= c->txlen[c->tx_head]) {
			c->tx_head = (c->tx_head + 1) % c->numbufs;
			c->tx_ready--;
			c->tx_pos = 0;
		}
	}
}

/* The FCS octets a write carries are room only; the framer makes them. */
static void hdlc_tx(struct emu_chan *c, uint8_t *out)
{
	for (int i = 0; i < LINE_TICK_FRAMES; i++) {
		if (hdlc_tx_ready(&c->htx) && c->tx_ready) {
			int len = c->txlen[c->tx_head] - TDM_FCS_LEN;
			const uint8_t *frame =
				c->txbuf + c->tx_head * c->blocksize;

			if (len > 0)
				hdlc_tx_load(&c->htx, frame, (size_t)len);
			c->tx_head = (c->tx_head + 1) % c->numbufs;
			c->tx_ready--;
		}
		out[i] = hdlc_tx_octet(&c->htx);
	}
}

static void build_tx(struct emu_span *s)
{
	memset(s->tx.ts, LINE_IDLE, sizeof(s->tx.ts));
	for (unsigned ts = 1; ts <= s->nchans; ts++) {
		struct emu_chan *c = &s->chans[ts];

		if (!c->file || !c->sigtype)
			continue;
		if (is_hdlc(c))
			hdlc_tx(c, s->tx.ts[ts]);
		else
			take_tx(c, s->tx.ts[ts]);
	}
	line_transmit(&s->line, &s->tx);
}

static void put_rx(struct emu_chan *c, const uint8_t *in, int n)
{
	for (int i = 0; i < n; i++) {
		int slot = (c->rx_head + c->rx_ready) % c->numbufs;

		if (c->rx_ready == c->numbufs)
			return; /* every buffer full: DAHDI drops */
		c->rxbuf[slot * c->blocksize + c->rxlen[slot]++] = in[i];
		if (c->rxlen[slot] == c->blocksize) {
			c->rx_ready++;
			emu_doorbell(c->file);
			slot = (c->rx_head + c->rx_ready) % c->numbufs;
			if (c->rx_ready < c->numbufs)
				c->rxlen[slot] = 0;
		}
	}
}

static void on_frame(enum hdlc_rx_event ev, const uint8_t *frame, size_t len,
		     void *arg)
{
	struct emu_chan *c = arg;
	int slot = (c->rx_head + c->rx_ready) % c->numbufs;

	if (ev == HDLC_RX_FRAME && c->rx_ready < c->numbufs &&
	    len <= (size_t)c->blocksize) {
		memcpy(c->rxbuf + slot * c->blocksize, frame, len);
		c->rxlen[slot] = (int)len;
		c->rx_ready++;
		emu_doorbell(c->file);
		return;
	}
	if (c->span->alarms) /* dahdi-base: no HDLC events in alarm */
		return;
	qevent(c, ev == HDLC_RX_BAD_FCS ? DAHDI_EVENT_BADFCS
		  : ev == HDLC_RX_ABORT ? DAHDI_EVENT_ABORT
					: DAHDI_EVENT_OVERRUN);
}

static int dahdi_alarms_of(unsigned t)
{
	int a = 0;

	if (t & TDM_ALARM_LOS)
		a |= DAHDI_ALARM_RED | DAHDI_ALARM_LOS;
	if (t & TDM_ALARM_LOF)
		a |= DAHDI_ALARM_RED | DAHDI_ALARM_LFA;
	if (t & TDM_ALARM_AIS)
		a |= DAHDI_ALARM_BLUE;
	if (t & TDM_ALARM_RAI)
		a |= DAHDI_ALARM_YELLOW;
	if (t & TDM_ALARM_LOOPBACK)
		a |= DAHDI_ALARM_LOOPBACK;
	return a;
}

/* dahdi_alarm_notify(): every channel whose alarms change gets an event. */
static void set_alarms(struct emu_span *s, int alarms)
{
	if (alarms == s->alarms)
		return;
	s->alarms = alarms;
	for (unsigned ts = 1; ts <= s->nchans; ts++) {
		struct emu_chan *c = &s->chans[ts];

		if (!c->file || c->chan_alarms == alarms)
			continue;
		c->chan_alarms = alarms;
		qevent(c, alarms ? DAHDI_EVENT_ALARM : DAHDI_EVENT_NOALARM);
	}
}

static void receive(struct emu_span *s)
{
	struct emu_span *p = s->peer;
	bool far_cut = p && (atomic_load(&p->line.faults) & LINE_FAULT_CUT);
	const struct line_frame *remote =
		p && p->running && !far_cut ? &p->tx : NULL;
	unsigned shots = line_receive(&s->line, &s->tx, remote, &s->rx);

	set_alarms(s, dahdi_alarms_of(atomic_load(&s->line.alarms)));
	for (unsigned ts = 1; ts <= s->nchans; ts++) {
		struct emu_chan *c = &s->chans[ts];

		if (!c->file || !c->sigtype)
			continue;
		if (!is_hdlc(c)) {
			put_rx(c, s->rx.ts[ts], LINE_TICK_FRAMES);
			continue;
		}
		if (shots & LINE_SHOT_DCHAN)
			hdlc_rx_corrupt_next(&c->hrx);
		for (int i = 0; i < LINE_TICK_FRAMES; i++)
			hdlc_rx_octet(&c->hrx, s->rx.ts[ts][i], on_frame, c);
	}
}

static void tick_pseudos(void)
{
	uint8_t silence[LINE_TICK_FRAMES], sink[LINE_TICK_FRAMES];

	for (int i = 0; i < EMU_MAX_PSEUDO; i++) {
		struct emu_chan *c = &pseudos[i];

		if (!c->file)
			continue;
		memset(silence, idle_of(c), sizeof(silence));
		take_tx(c, sink);
		put_rx(c, silence, LINE_TICK_FRAMES);
	}
}

static void tick(void)
{
	for (unsigned i = 0; i < nspans; i++)
		if (spans[i].running)
			build_tx(&spans[i]);
	for (unsigned i = 0; i < nspans; i++)
		if (spans[i].running)
			receive(&spans[i]);
	tick_pseudos();
}

/* "SPAN FAULT" lines from the fifo, as `span fault` does for hw/sim. */
static void read_faults(void)
{
	static char line[256];
	static size_t used;
	ssize_t n;

	if (fifo_fd < 0)
		return;
	n = emu_real_read(fifo_fd, line + used, sizeof(line) - 1 - used);
	if (n <= 0)
		return;
	used += (size_t)n;
	line[used] = '\0';
	for (char *nl; (nl = strchr(line, '\n'));) {
		unsigned no;
		char fault[32];

		*nl = '\0';
		if (sscanf(line, "%u %31s", &no, fault) == 2 && no >= 1 &&
		    no <= nspans) {
			struct emu_span *s = &spans[no - 1];

			line_inject(&s->line, fault);
			if (s->peer && strcmp(fault, "cut") == 0)
				line_inject(&s->peer->line, "cut");
			if (s->peer && strcmp(fault, "clear") == 0)
				atomic_fetch_and(&s->peer->line.faults,
						 ~LINE_FAULT_CUT);
		}
		used -= (size_t)(nl + 1 - line);
		memmove(line, nl + 1, used + 1);
	}
	if (used == sizeof(line) - 1)
		used = 0;
}

static void *tick_main(void *arg)
{
	struct timespec next;
	unsigned n = 0;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		struct timespec now;

		next.tv_nsec += 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		/* A stalled process stalls the card with it: a burst of
		 * missed ticks would only overflow every buffer at once. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - next.tv_sec) * 1000000000L +
			    (now.tv_nsec - next.tv_nsec) > EMU_MAX_LAG_NS)
			next = now;
		pthread_mutex_lock(&emu_lock);
		if (++n % 10 == 0)
			read_faults();
		tick();
		pthread_cond_broadcast(&emu_cond);
		pthread_mutex_unlock(&emu_lock);
	}
	return NULL;
}

/* ---- Files --------------------------------------------------------------- */

static struct emu_chan *chan_by_number(int channo)
{
	for (unsigned i = 0; i < nspans; i++) {
		struct emu_span *s = &spans[i];

		if (channo >= (int)s->basechan &&
		    channo < (int)(s->basechan + s->nchans))
			return &s->chans[channo - (int)s->basechan + 1];
	}
	return NULL;
}

static struct emu_chan *new_pseudo(void)
{
	for (int i = 0; i < EMU_MAX_PSEUDO; i++) {
		struct emu_chan *c = &pseudos[i];

		if (!c->file && !c->sigtype) {
			c->channo = EMU_PSEUDO_BASE + (unsigned)i;
			c->sigtype = DAHDI_SIG_CLEAR;
			c->deflaw = DAHDI_LAW_MULAW;
			return c;
		}
	}
	return NULL;
}

struct emu_file *emu_open(const char *path, int flags, int *err)
{
	const char *name = strrchr(path, '/') + 1;
	struct emu_file *f = calloc(1, sizeof(*f));
	struct emu_chan *pseudo = NULL;

	*err = ENOMEM;
	if (!f)
		return NULL;
	f->fd = -1;
	if (strcmp(name, "ctl") == 0) {
		f->kind = EMU_CTL;
	} else if (strcmp(name, "channel") == 0) {
		f->kind = EMU_CHANNEL;
	} else if (strcmp(name, "pseudo") == 0) {
		f->kind = EMU_PSEUDO;
		pseudo = new_pseudo();
		*err = EBUSY;
		if (!pseudo)
			goto fail;
	} else {
		*err = ENOENT; /* timer, transcode, numbered nodes: none */
		goto fail;
	}
	f->flags = flags;
	f->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	*err = errno;
	if (f->fd < 0 || f->fd >= EMU_MAX_FDS)
		goto fail;
	if (pseudo && (*err = -open_chan(pseudo, f)) != 0)
		goto fail;
	return f;
fail:
	if (pseudo)
		pseudo->sigtype = 0;
	if (f->fd >= 0)
		emu_real_close(f->fd);
	free(f);
	return NULL;
}

void emu_close(struct emu_file *f)
{
	if (f->chan)
		release_chan(f->chan);
	pthread_cond_broadcast(&emu_cond);
	free(f);
}

static bool readable(const struct emu_chan *c)
{
	return c && c->rx_ready > 0;
}

short emu_revents(struct emu_file *f, short events)
{
	struct emu_chan *c = f->chan;
	short re = 0, allowed = (short)(events | POLLERR | POLLHUP);

	if (events & POLLIN)
		allowed |= POLLRDNORM;
	if (events & POLLOUT)
		allowed |= POLLWRNORM;
	if (!c)
		return f->kind == EMU_CTL ? (short)(events & POLLOUT) : 0;
	if (readable(c))
		re |= POLLIN | POLLRDNORM;
	if (c->tx_ready < c->numbufs)
		re |= POLLOUT | POLLWRNORM;
	if (c->ev_count)
		re |= POLLPRI;
	return (short)(re & allowed);
}

ssize_t emu_read(struct emu_file *f, void *buf, size_t count)
{
	struct emu_chan *c = f->chan;
	int n;

	if (!c) {
		errno = EINVAL;
		return -1;
	}
	if (count < 1) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		if (f->chan != c) {
			errno = ENODEV;
			return -1;
		}
		if (c->ev_count) {
			errno = ELAST;
			return -1;
		}
		if (c->rx_ready)
			break;
		if (f->flags & O_NONBLOCK) {
			errno = EAGAIN;
			return -1;
		}
		pthread_cond_wait(&emu_cond, &emu_lock);
	}
	n = c->rxlen[c->rx_head] < (int)count ? c->rxlen[c->rx_head]
					       : (int)count;
	memcpy(buf, c->rxbuf + c->rx_head * c->blocksize, (size_t)n);
	c->rxlen[c->rx_head] = 0;
	c->rx_head = (c->rx_head + 1) % c->numbufs;
	if (c->rx_ready-- == c->numbufs) /* the filling slot is free again */
		c->rxlen[(c->rx_head + c->rx_ready) % c->numbufs] = 0;
	emu_doorbell(f);
	return n;
}

ssize_t emu_write(struct emu_file *f, const void *buf, size_t count)
{
	struct emu_chan *c = f->chan;
	int slot, n;

	if (!c || count < 1) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		if (c->ev_count) {
			errno = ELAST;
			return -1;
		}
		if (c->tx_ready < c->numbufs)
			break;
		if (f->flags & O_NONBLOCK) {
			errno = EAGAIN;
			return -1;
		}
		pthread_cond_wait(&emu_cond, &emu_lock);
		if (f->chan != c) {
			errno = ENODEV;
			return -1;
		}
	}
	/* dahdi_chan_write(): at most one block per write. */
	n = count > (size_t)c->blocksize ? c->blocksize : (int)count;
	slot = (c->tx_head + c->tx_ready) % c->numbufs;
	memcpy(c->txbuf + slot * c->blocksize, buf, (size_t)n);
	c->txlen[slot] = n;
	c->tx_ready++;
	return n;
}

/* ---- ioctl --------------------------------------------------------------- */

static struct emu_span *span_by_number(int no)
{
	return no >= 1 && no <= (int)nspans ? &spans[no - 1] : NULL;
}

static int master_span(void)
{
	struct emu_span *best = NULL;

	for (unsigned i = 0; i < nspans; i++) {
		struct emu_span *s = &spans[i];

		if (!s->running || s->sync <= 0 ||
		    (s->alarms & (DAHDI_ALARM_RED | DAHDI_ALARM_BLUE)))
			continue;
		if (!best || s->sync < best->sync)
			best = s;
	}
	return best ? (int)best->no : 0;
}

static int ioc_spanstat(struct emu_file *f, struct dahdi_spaninfo *si)
{
	int no = si->spanno;
	struct emu_span *s;
	int configured = 0;

	if (no == 0 && f->chan && f->chan->span)
		no = (int)f->chan->span->no;
	s = span_by_number(no);
	if (!s)
		return -EINVAL;
	for (unsigned ts = 1; ts <= s->nchans; ts++)
		configured += s->chans[ts].sigtype != 0;
	memset(si, 0, sizeof(*si));
	si->spanno = no;
	snprintf(si->name, sizeof(si->name), "EMU/%u", s->no);
	snprintf(si->desc, sizeof(si->desc), "DAHDI emulator %s port %u",
		 s->type, s->no);
	si->alarms = s->running ? s->alarms : DAHDI_ALARM_NOTOPEN;
	si->bpvcount = (int)atomic_load(&s->line.stats.bpv);
	si->crc4count = (int)atomic_load(&s->line.stats.crc_errors);
	si->fascount = (int)atomic_load(&s->line.stats.fas_errors);
	si->syncsrc = master_span();
	si->numchans = configured;
	si->totalchans = (int)s->nchans;
	si->totalspans = (int)nspans;
	si->lbo = s->lbo;
	si->lineconfig = s->lineconfig;
	snprintf(si->lboname, sizeof(si->lboname), "0 db (CSU)/0-133 feet");
	snprintf(si->location, sizeof(si->location), "emulator");
	snprintf(si->manufacturer, sizeof(si->manufacturer), "tandem");
	snprintf(si->devicetype, sizeof(si->devicetype), "DAHDI emulator%s",
		 hwec ? " (HWEC)" : "");
	si->linecompat = strcmp(s->type, "E1") == 0
				 ? DAHDI_CONFIG_AMI | DAHDI_CONFIG_HDB3 |
					   DAHDI_CONFIG_CCS | DAHDI_CONFIG_CRC4
				 : DAHDI_CONFIG_AMI | DAHDI_CONFIG_B8ZS |
					   DAHDI_CONFIG_D4 | DAHDI_CONFIG_ESF;
	memcpy(si->spantype, s->type, strlen(s->type) + 1);
	return 0;
}

static int ioc_spanconfig(struct dahdi_lineconfig *lc)
{
	struct emu_span *s = span_by_number(lc->span);
	struct dahdi_spaninfo si = { .spanno = lc->span };
	int mask = 0x1ff0;

	if (!s)
		return -EINVAL;
	ioc_spanstat(&(struct emu_file){ .kind = EMU_CTL }, &si);
	if ((lc->lineconfig & mask & ~si.linecompat) || lc->lbo < 0 ||
	    lc->lbo > 7)
		return -EINVAL;
	s->lineconfig = lc->lineconfig;
	s->lbo = lc->lbo;
	s->sync = lc->sync;
	return 0;
}

static int ioc_chanconfig(struct dahdi_chanconfig *cc)
{
	struct emu_chan *c = chan_by_number(cc->chan);

	if (!c)
		return -EINVAL;
	if (cc->sigtype != DAHDI_SIG_CLEAR && cc->sigtype != DAHDI_SIG_HDLCFCS)
		return -EINVAL; /* all this emulator knows */
	if (c->file)
		return -EBUSY;
	c->sigtype = cc->sigtype;
	c->deflaw = cc->deflaw == DAHDI_LAW_DEFAULT
			    ? (strcmp(c->span->type, "E1") == 0
				       ? DAHDI_LAW_ALAW
				       : DAHDI_LAW_MULAW)
			    : cc->deflaw;
	return 0;
}

static int ioc_startup(int no, bool up)
{
	struct emu_span *s = span_by_number(no);

	if (!s)
		return -EINVAL;
	s->running = up;
	if (!up)
		set_alarms(s, DAHDI_ALARM_NOTOPEN);
	return 0;
}

static int ioc_maint(struct dahdi_maintinfo *mi)
{
	struct emu_span *s = span_by_number(mi->spanno);

	if (!s)
		return -EINVAL;
	switch (mi->command) {
	case DAHDI_MAINT_NONE:
	case DAHDI_MAINT_LOCALLOOP:
		atomic_store(&s->line.loopback,
			     mi->command == DAHDI_MAINT_LOCALLOOP);
		return 0;
	default:
		return -ENOSYS; /* loop-up codes and the rest: not here */
	}
}

static void fill_params(struct emu_chan *c, struct dahdi_params *p)
{
	memset(p, 0, sizeof(*p));
	p->channo = (int)c->channo;
	p->spanno = c->span ? (int)c->span->no : 0;
	p->chanpos = (int)c->pos;
	p->sigtype = c->sigtype;
	p->sigcap = DAHDI_SIG_CLEAR | DAHDI_SIG_HDLCFCS;
	p->curlaw = c->deflaw == DAHDI_LAW_ALAW ? DAHDI_LAW_ALAW
						: DAHDI_LAW_MULAW;
	if (c->span)
		snprintf(p->name, sizeof(p->name), "EMU/%u/%u", c->span->no,
			 c->pos);
	else
		snprintf(p->name, sizeof(p->name), "Pseudo/%u", c->channo);
	p->chan_alarms = (uint32_t)(c->span ? c->span->alarms : 0);
}

static int ioc_params(struct emu_file *f, struct dahdi_params *p)
{
	struct emu_chan *c = f->chan;

	if (f->kind == EMU_CTL)
		c = chan_by_number(p->channo);
	if (!c)
		return -EINVAL;
	fill_params(c, p);
	return 0;
}

static int ioc_specify(struct emu_file *f, int channo)
{
	struct emu_chan *c = chan_by_number(channo);

	if (f->chan)
		return -EINVAL;
	if (!c || !c->sigtype)
		return -ENXIO; /* dahdi_specchan_open() */
	if (c->file)
		return -EBUSY;
	return open_chan(c, f);
}

static int ioc_bufinfo(struct emu_chan *c, struct dahdi_bufferinfo *bi)
{
	if (bi->bufsize > DAHDI_MAX_BLOCKSIZE || bi->bufsize < 16 ||
	    bi->numbufs < 1 || bi->numbufs > DAHDI_MAX_NUM_BUFS ||
	    bi->bufsize * bi->numbufs > DAHDI_MAX_BUF_SPACE)
		return -EINVAL;
	return set_buffers(c, bi->bufsize, bi->numbufs);
}

static int ioc_echocancel(struct emu_chan *c, struct dahdi_echocanparams *ecp)
{
	if (is_hdlc(c) || ecp->tap_length > 1024 ||
	    ecp->param_count > DAHDI_MAX_ECHOCANPARAMS)
		return -EINVAL;
	if (ecp->tap_length && !hwec)
		return -ENODEV; /* no canceller module, no hardware one */
	c->ec_taps = ecp->tap_length;
	return 0;
}

static int ioc_getevent(struct emu_chan *c, int *ev)
{
	*ev = 0;
	if (c->ev_count) {
		*ev = c->events[c->ev_head];
		c->ev_head = (c->ev_head + 1) % EMU_MAX_EVENTS;
		c->ev_count--;
		emu_doorbell(c->file);
	}
	return 0;
}

static int ioc_flush(struct emu_chan *c, int what)
{
	if (what & DAHDI_FLUSH_READ) {
		c->rx_head = c->rx_ready = 0;
		memset(c->rxlen, 0, sizeof(c->rxlen));
	}
	if (what & DAHDI_FLUSH_WRITE)
		c->tx_head = c->tx_ready = c->tx_pos = 0;
	if (what & DAHDI_FLUSH_EVENT)
		c->ev_count = 0;
	emu_doorbell(c->file);
	return 0;
}

static int ioc_version(struct dahdi_versioninfo *vi)
{
	memset(vi, 0, sizeof(*vi));
	snprintf(vi->version, sizeof(vi->version), "3.1.0 (tandem emulator)");
	if (hwec)
		snprintf(vi->echo_canceller, sizeof(vi->echo_canceller),
			 "EMU-HWEC");
	return 0;
}

static int ctl_ioctl(unsigned long req, void *arg)
{
	switch (req) {
	case DAHDI_SPANCONFIG:
		return ioc_spanconfig(arg);
	case DAHDI_CHANCONFIG:
		return ioc_chanconfig(arg);
	case DAHDI_STARTUP:
		return ioc_startup(*(int *)arg, true);
	case DAHDI_SHUTDOWN:
		return ioc_startup(*(int *)arg, false);
	case DAHDI_MAINT:
		return ioc_maint(arg);
	default:
		return -ENOTTY;
	}
}

static int chan_ioctl(struct emu_chan *c, unsigned long req, void *arg)
{
	int size;

	switch (req) {
	case DAHDI_GET_BLOCKSIZE:
		*(int *)arg = c->blocksize;
		return 0;
	case DAHDI_SET_BLOCKSIZE:
		size = *(int *)arg;
		if (size > DAHDI_MAX_BLOCKSIZE || size < 16)
			return -EINVAL;
		return set_buffers(c, size, c->numbufs);
	case DAHDI_SET_BUFINFO:
		return ioc_bufinfo(c, arg);
	case DAHDI_GET_BUFINFO: {
		struct dahdi_bufferinfo *bi = arg;

		memset(bi, 0, sizeof(*bi));
		bi->numbufs = c->numbufs;
		bi->bufsize = c->blocksize;
		bi->readbufs = c->rx_ready;
		bi->writebufs = c->tx_ready;
		return 0;
	}
	case DAHDI_GETEVENT:
		return ioc_getevent(c, arg);
	case DAHDI_FLUSH:
		return ioc_flush(c, *(int *)arg);
	case DAHDI_ECHOCANCEL_PARAMS:
		return ioc_echocancel(c, arg);
	case DAHDI_CHANNO:
		*(int *)arg = (int)c->channo;
		return 0;
	case DAHDI_SETLAW:
		size = *(int *)arg;
		if (size != DAHDI_LAW_DEFAULT && size != DAHDI_LAW_ALAW &&
		    size != DAHDI_LAW_MULAW)
			return -EINVAL;
		return 0;
	default:
		return -ENOTTY;
	}
}

int emu_ioctl(struct emu_file *f, unsigned long req, void *arg)
{
	int rc;

	if (!arg && req != DAHDI_SYNC)
		rc = -EFAULT;
	else if (req == DAHDI_GETVERSION)
		rc = ioc_version(arg);
	else if (req == DAHDI_SPANSTAT)
		rc = ioc_spanstat(f, arg);
	else if (req == DAHDI_GET_PARAMS)
		rc = ioc_params(f, arg);
	else if (f->kind == EMU_CTL)
		rc = ctl_ioctl(req, arg);
	else if (req == DAHDI_SPECIFY)
		rc = f->kind == EMU_CHANNEL ? ioc_specify(f, *(int *)arg)
					    : -EINVAL;
	else if (!f->chan)
		rc = -EINVAL; /* DAHDI_SPECIFY must come first */
	else
		rc = chan_ioctl(f->chan, req, arg);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}
