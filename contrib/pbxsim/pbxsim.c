/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pbxsim: a simulated legacy PBX for the lab. It sits on the far side of a
 * (simulated) E1 as the ISDN user side (libpri) and has extensions that
 * answer, play a tone, echo audio, ring forever or are busy; it dials out
 * on command. Its D-channel is a SOCK_SEQPACKET unix socket, one Q.921
 * frame (plus two FCS octets) per packet: the pri plugin's unix:/listen:
 * transports speak it.
 *
 *   pbxsim -c pbx.conf [--dial CALLED[/CALLING]] [--hold-ms MS]
 *          [--calls N] [--selftest]
 *
 * Commands on stdin, one a line: "dial CALLED [CALLING]", "hangup",
 * "show", "quit". Events go to stdout, one a line, for scripts:
 *   up | down | ring CALLED CALLING CHAN | answered CHAN | alerting |
 *   released CAUSE | digits D
 *
 * The bearer side (tone, echo) works on 160-sample A-law blocks; it is
 * wired to a B-channel once a span cable carries bearer blocks (hw/sim).
 */
#include <errno.h>
#include <fcntl.h>
#include <libpri.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_EXT 32
#define BLOCK 160

enum action { ACT_ANSWER, ACT_TONE, ACT_ECHO, ACT_RING, ACT_BUSY };

struct ext {
	char number[33];
	enum action action;
	int tone_hz;
};

static struct {
	char dchan[108];
	int listen;
	int switchtype;
	int side;
	struct ext ext[MAX_EXT];
	int next;
} conf = { .switchtype = PRI_SWITCH_EUROISDN_E1, .side = PRI_CPE };

static struct pri *ctrl;
static int dfd = -1, lfd = -1;
static q931_call *call;
static int call_chan, call_up, call_out;
static struct ext *call_ext;
static int verbose;

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ---- Bearer: G.711 A-law tone and echo ------------------------------------
 */

/* G.711 A-law encoding of a 16-bit linear sample. */
static uint8_t alaw_encode(int16_t pcm)
{
	int sign = pcm >= 0 ? 0x80 : 0;
	int mag = pcm >= 0 ? pcm : -(int)pcm - 1;
	int seg = 0, mant;

	mag >>= 3; /* 13-bit magnitude */
	if (mag > 0xfff)
		mag = 0xfff;
	while (seg < 7 && mag >= (32 << seg))
		seg++;
	mant = seg ? (mag >> seg) & 0xf : (mag >> 1) & 0xf;
	return (uint8_t)((sign | (seg << 4) | mant) ^ 0x55);
}

/* One 20 ms block of a sine at hz, -10 dBm0, phase kept in *sample. */
static void tone_block(int hz, uint64_t *sample, uint8_t *out)
{
	for (int i = 0; i < BLOCK; i++, (*sample)++)
		out[i] = alaw_encode(
			(int16_t)(10362.0 * sin(2 * M_PI * hz *
						(double)*sample / 8000.0)));
}

/* Echo: what came in goes back out, block for block. */
static void echo_block(const uint8_t *in, uint8_t *out)
{
	memcpy(out, in, BLOCK);
}

static int selftest(void)
{
	uint8_t a[BLOCK], b[BLOCK];
	uint64_t s = 0;
	int changes = 0, ok1, ok2, ok3;

	tone_block(1000, &s, a);
	for (int i = 1; i < BLOCK; i++)
		changes += (a[i] ^ 0x55) >> 7 != (a[i - 1] ^ 0x55) >> 7;
	ok1 = changes >= 38 && changes <= 42; /* 1 kHz: 40 sign changes */
	echo_block(a, b);
	ok2 = memcmp(a, b, BLOCK) == 0;
	ok3 = alaw_encode(0) == 0xd5;
	printf("1..3\n%s 1 - a 1 kHz tone changes sign 40 times in 20 ms (%d)\n"
	       "%s 2 - echo returns the block\n"
	       "%s 3 - A-law silence is 0xd5\n",
	       ok1 ? "ok" : "not ok", changes, ok2 ? "ok" : "not ok",
	       ok3 ? "ok" : "not ok");
	return ok1 && ok2 && ok3 ? 0 : 1;
}

/* ---- Configuration ---------------------------------------------------------
 */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int set_pbx(const char *key, const char *val)
{
	static const struct {
		const char *name;
		int type;
	} sw[] = {
		{ "euroisdn_e1", PRI_SWITCH_EUROISDN_E1 },
		{ "euroisdn_t1", PRI_SWITCH_EUROISDN_T1 },
		{ "ni2", PRI_SWITCH_NI2 },
		{ "ni1", PRI_SWITCH_NI1 },
		{ "dms100", PRI_SWITCH_DMS100 },
		{ "4ess", PRI_SWITCH_ATT4ESS },
		{ "5ess", PRI_SWITCH_LUCENT5E },
		{ "qsig", PRI_SWITCH_QSIG },
	};

	if (strcmp(key, "dchan") == 0) {
		conf.listen = strncmp(val, "listen:", 7) == 0;
		if (!conf.listen && strncmp(val, "unix:", 5))
			return -1;
		snprintf(conf.dchan, sizeof(conf.dchan), "%s",
			 val + (conf.listen ? 7 : 5));
		return 0;
	}
	if (strcmp(key, "side") == 0) {
		conf.side = strcmp(val, "network") == 0 ? PRI_NETWORK : PRI_CPE;
		return 0;
	}
	if (strcmp(key, "switchtype") == 0) {
		for (size_t i = 0; i < sizeof(sw) / sizeof(sw[0]); i++)
			if (strcmp(sw[i].name, val) == 0) {
				conf.switchtype = sw[i].type;
				return 0;
			}
	}
	return -1;
}

static int set_ext(struct ext *e, const char *key, const char *val)
{
	static const char *const names[] = { "answer", "tone", "echo", "ring",
					     "busy" };

	if (strcmp(key, "tone_hz") == 0) {
		e->tone_hz = atoi(val);
		return e->tone_hz > 0 && e->tone_hz < 4000 ? 0 : -1;
	}
	if (strcmp(key, "action") == 0)
		for (int i = 0; i < 5; i++)
			if (strcmp(names[i], val) == 0) {
				e->action = (enum action)i;
				return 0;
			}
	return -1;
}

static int load_conf(const char *path)
{
	char line[256], *l, *eq;
	struct ext *e = NULL;
	int n = 0, in_pbx = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "pbxsim: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		n++;
		l = trim(line);
		if (!*l || *l == ';' || *l == '#')
			continue;
		if (strcmp(l, "[pbx]") == 0) {
			in_pbx = 1;
			e = NULL;
			continue;
		}
		if (strncmp(l, "[ext ", 5) == 0 && conf.next < MAX_EXT) {
			in_pbx = 0;
			e = &conf.ext[conf.next++];
			snprintf(e->number, sizeof(e->number), "%.*s",
				 (int)strcspn(l + 5, "]"), l + 5);
			e->tone_hz = 425;
			continue;
		}
		eq = strchr(l, '=');
		if (eq) {
			*eq = '\0';
			if ((in_pbx && !set_pbx(trim(l), trim(eq + 1))) ||
			    (e && !set_ext(e, trim(l), trim(eq + 1))))
				continue;
		}
		fprintf(stderr, "pbxsim: %s:%d: not understood\n", path, n);
		fclose(f);
		return -1;
	}
	fclose(f);
	if (!conf.dchan[0]) {
		fprintf(stderr, "pbxsim: %s: [pbx] dchan is missing\n", path);
		return -1;
	}
	return 0;
}

/* ---- D-channel
 * --------------------------------------------------------------- */

static void pri_log(struct pri *p, char *text)
{
	(void)p;
	if (verbose)
		fprintf(stderr, "pbxsim: libpri: %s", text);
}

static int open_dchan(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

	memcpy(a.sun_path, conf.dchan, strlen(conf.dchan) + 1);
	if (conf.listen) {
		unlink(conf.dchan);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1))
			return -1;
		lfd = fd;
		dfd = accept(lfd, NULL, NULL);
	} else {
		for (int i = 0; i < 100; i++) {
			if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
				break;
			usleep(50000);
		}
		dfd = fd;
	}
	if (dfd < 0)
		return -1;
	fcntl(dfd, F_SETFL, O_NONBLOCK);
	return 0;
}

static struct ext *find_ext(const char *number)
{
	for (int i = 0; i < conf.next; i++)
		if (strcmp(conf.ext[i].number, number) == 0)
			return &conf.ext[i];
	return NULL;
}

static int chan_of(int c)
{
	return c < 0 ? 0 : (c & 0xff) == 0xff ? 0 : c & 0xff;
}

static void on_ring(pri_event_ring *r)
{
	struct ext *e = find_ext(r->callednum);
	int chan = chan_of(r->channel);

	say("ring %s %s %d", r->callednum,
	    r->callingnum[0] ? r->callingnum : "-", chan);
	if (call || !e) {
		/* Q.850: 17 user busy, 1 unallocated number */
		pri_proceeding(ctrl, r->call, chan, 0);
		pri_hangup(ctrl, r->call,
			   call ? PRI_CAUSE_USER_BUSY : PRI_CAUSE_UNALLOCATED);
		return;
	}
	if (e->action == ACT_BUSY) {
		pri_proceeding(ctrl, r->call, chan, 0);
		pri_hangup(ctrl, r->call, PRI_CAUSE_USER_BUSY);
		return;
	}
	call = r->call;
	call_chan = chan;
	call_ext = e;
	call_out = 0;
	pri_proceeding(ctrl, call, chan, 0);
	pri_acknowledge(ctrl, call, chan, 1);
	if (e->action != ACT_RING) {
		pri_answer(ctrl, call, chan, 0);
		call_up = 1;
		say("answered %d %s", chan,
		    e->action == ACT_TONE   ? "tone"
		    : e->action == ACT_ECHO ? "echo"
					    : "answer");
	}
}

static void dial(const char *called, const char *calling)
{
	struct pri_sr *sr;

	if (call) {
		say("error busy");
		return;
	}
	call = pri_new_call(ctrl);
	sr = pri_sr_new();
	pri_sr_set_channel(sr, 0, 0, 0);
	pri_sr_set_bearer(sr, PRI_TRANS_CAP_SPEECH, PRI_LAYER_1_ALAW);
	pri_sr_set_called(sr, (char *)called, 0x21, 1);
	pri_sr_set_caller(sr, (char *)calling, NULL, 0x21, 0);
	if (pri_setup(ctrl, call, sr)) {
		say("error setup");
		call = NULL;
	}
	call_out = 1;
	call_up = 0;
	pri_sr_free(sr);
}

static void hangup(int cause)
{
	if (call)
		pri_hangup(ctrl, call, cause);
}

static void released(q931_call *c, int cause)
{
	pri_hangup(ctrl, c, cause);
	if (c == call) {
		call = NULL;
		call_up = 0;
		say("released %d", cause);
	}
}

static void on_event(pri_event *ev)
{
	switch (ev->e) {
	case PRI_EVENT_DCHAN_UP: say("up"); break;
	case PRI_EVENT_DCHAN_DOWN: say("down"); break;
	case PRI_EVENT_RING: on_ring(&ev->ring); break;
	case PRI_EVENT_RINGING: say("alerting"); break;
	case PRI_EVENT_ANSWER:
		call_up = 1;
		call_chan = chan_of(ev->answer.channel);
		say("answered %d", call_chan);
		break;
	case PRI_EVENT_INFO_RECEIVED:
		say("digits %s", ev->ring.callednum);
		break;
	case PRI_EVENT_HANGUP_REQ:
		released(ev->hangup.call, ev->hangup.cause);
		break;
	case PRI_EVENT_HANGUP:
		released(ev->hangup.call, ev->hangup.cause);
		break;
	case PRI_EVENT_HANGUP_ACK:
		if (ev->hangup.call == call) {
			call = NULL;
			say("released %d", ev->hangup.cause);
		}
		break;
	case PRI_EVENT_RESTART:
		say("restart %d", chan_of(ev->restart.channel));
		break;
	}
}

static void command(char *line)
{
	char *w = strtok(trim(line), " "), *a, *b;

	if (!w)
		return;
	if (strcmp(w, "dial") == 0 && (a = strtok(NULL, " "))) {
		b = strtok(NULL, " ");
		dial(a, b ? b : "1000");
	} else if (strcmp(w, "hangup") == 0) {
		hangup(PRI_CAUSE_NORMAL_CLEARING);
	} else if (strcmp(w, "show") == 0) {
		say("call %s chan %d %s", call ? "yes" : "no", call_chan,
		    call_up ? "up" : "-");
	} else if (strcmp(w, "quit") == 0) {
		exit(0);
	} else {
		say("error unknown command");
	}
}

static int64_t ms_until(struct timeval *tv)
{
	struct timeval now;

	if (!tv)
		return 200;
	gettimeofday(&now, NULL);
	return (int64_t)(tv->tv_sec - now.tv_sec) * 1000 +
	       (tv->tv_usec - now.tv_usec + 999) / 1000;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *dial_to = NULL;
	char dial_buf[80], *calling = "1000", line[256];
	int hold_ms = -1, stdin_open = 1;
	uint64_t up_at = 0;
	int dialled = 0;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--selftest") == 0)
			return selftest();
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--dial") == 0 && i + 1 < argc)
			dial_to = argv[++i];
		else if (strcmp(argv[i], "--hold-ms") == 0 && i + 1 < argc)
			hold_ms = atoi(argv[++i]);
		else if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else {
			fprintf(stderr, "usage: pbxsim -c CONF [--dial "
					"CALLED[/CALLING]] [--hold-ms MS] [-v] "
					"| --selftest\n");
			return 2;
		}
	}
	if (!path || load_conf(path))
		return 2;
	if (dial_to) {
		snprintf(dial_buf, sizeof(dial_buf), "%s", dial_to);
		if (strchr(dial_buf, '/')) {
			calling = strchr(dial_buf, '/') + 1;
			*strchr(dial_buf, '/') = '\0';
		}
	}
	pri_set_message(pri_log);
	pri_set_error(pri_log);
	if (open_dchan()) {
		fprintf(stderr, "pbxsim: D-channel %s: %s\n", conf.dchan,
			strerror(errno));
		return 1;
	}
	ctrl = pri_new(dfd, conf.side, conf.switchtype);
	if (!ctrl)
		return 1;
	pri_hangup_fix_enable(ctrl, 1);
	for (;;) {
		struct pollfd p[2] = { { .fd = dfd, .events = POLLIN },
				       { .fd = 0, .events = POLLIN } };
		int64_t wait = ms_until(pri_schedule_next(ctrl));
		pri_event *ev = NULL;

		if (wait > 200)
			wait = 200;
		if (poll(p, stdin_open ? 2 : 1, wait < 0 ? 0 : (int)wait) < 0)
			continue;
		if (p[0].revents & (POLLHUP | POLLERR)) {
			say("down");
			return 0;
		}
		if (p[0].revents & POLLIN)
			ev = pri_check_event(ctrl);
		else
			ev = pri_schedule_run(ctrl);
		if (ev) {
			on_event(ev);
			if (ev->e == PRI_EVENT_DCHAN_UP && dial_to &&
			    !dialled) {
				dialled = 1;
				dial(dial_buf, calling);
			}
			if (ev->e == PRI_EVENT_ANSWER ||
			    (ev->e == PRI_EVENT_RING && call_up))
				up_at = now_ms();
		}
		if (stdin_open && (p[1].revents & (POLLIN | POLLHUP))) {
			if (fgets(line, sizeof(line), stdin))
				command(line);
			else
				stdin_open = 0;
		}
		if (call_up && hold_ms >= 0 && up_at &&
		    now_ms() - up_at >= (uint64_t)hold_ms) {
			up_at = 0;
			hangup(PRI_CAUSE_NORMAL_CLEARING);
		}
	}
}
