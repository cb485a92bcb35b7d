/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pbxsim: a simulated legacy PBX for the lab. It sits on the far side of a
 * simulated E1 (or T1) as the ISDN user side (libpri) and has extensions
 * that answer, play a tone, echo audio, ring, are busy or reject; it dials
 * out on command. Its spans reach the gateway over hw/sim's span cable
 * (D-channel and bearer audio) or over a bare D-channel socket (the pri
 * plugin's unix:/listen: transports, signalling only).
 *
 *   pbxsim -c pbx.conf [--dial CALLED[/CALLING]] [--hold-ms MS]
 *          [--fifo PATH] [-v]
 *   pbxsim --selftest
 *
 * Commands on stdin and events on stdout, one a line (README.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "pbxsim.h"

int pbx_verbose;
int pbx_hold_ms = -1;
static volatile sig_atomic_t stopping;

void pbx_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

uint64_t pbx_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void pri_log(struct pri *p, char *text)
{
	(void)p;
	if (pbx_verbose)
		fprintf(stderr, "pbxsim: libpri: %s", text);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* ---- Standard input: whole lines, without stdio's buffering ----------------- */

static char in_buf[1024];
static size_t in_len;

/* Returns 0, or -1 at the end of input. */
static int read_commands(int fd)
{
	ssize_t n = read(fd, in_buf + in_len, sizeof(in_buf) - 1 - in_len);
	char *nl;

	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN) ? 0 : -1;
	in_len += (size_t)n;
	in_buf[in_len] = '\0';
	while ((nl = strchr(in_buf, '\n'))) {
		*nl = '\0';
		pbx_command(in_buf);
		in_len -= (size_t)(nl + 1 - in_buf);
		memmove(in_buf, nl + 1, in_len + 1);
	}
	if (in_len == sizeof(in_buf) - 1)
		in_len = 0; /* a line too long: dropped */
	return 0;
}

/* ---- The loop ------------------------------------------------------------- */

struct options {
	const char *dial_to;
	char called[80];
	const char *calling;
	int cmd_fd; /* commands: stdin, or the --fifo */
};

/* A fifo of our own for commands, opened read-write so that it never
 * reaches its end when a writer goes (the lab's `echo ... > pbx.in`). */
static int open_fifo(const char *path)
{
	if (mkfifo(path, 0600) < 0 && errno != EEXIST)
		return -1;
	return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
}

static int make_clock(void)
{
	struct itimerspec its = { .it_interval = { 0, 1000000 },
				  .it_value = { 0, 1000000 } };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void clock_ticks(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	/* a late wake-up sends the missed ticks; a long stall is skipped,
	 * as hw/sim's clock does past max_lag_ms */
	if (n > 100)
		n = 1;
	while (n--)
		for (int i = 0; i < pbx.nspans; i++)
			pbx_span_tick(&pbx.spans[i]);
}

/* A span that connected and lost its far end ends the run. */
static bool far_end_gone(void)
{
	for (int i = 0; i < pbx.nspans; i++) {
		const struct pbx_span *s = &pbx.spans[i];

		if (!s->listen && s->fd < 0)
			return true;
	}
	return false;
}

static int run(struct options *o)
{
	struct pollfd p[PBX_MAX_SPANS + 2];
	int clock = make_clock(), stdin_open = 1, dialled = 0;

	if (clock < 0)
		return 1;
	while (!stopping && !far_end_gone()) {
		int n = 0, wait = 100;

		p[n++] = (struct pollfd){ .fd = clock, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = stdin_open ? o->cmd_fd : -1,
					  .events = POLLIN };
		for (int i = 0; i < pbx.nspans; i++) {
			p[n++] = (struct pollfd){
				.fd = pbx_span_pollfd(&pbx.spans[i]),
				.events = POLLIN };
			wait = pbx_span_next_ms(&pbx.spans[i], wait);
		}
		if (poll(p, (nfds_t)n, wait) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			clock_ticks(clock);
		for (int i = 0; i < pbx.nspans; i++)
			if (p[i + 2].revents & (POLLIN | POLLHUP | POLLERR))
				pbx_span_input(&pbx.spans[i]);
		for (int i = 0; i < pbx.nspans; i++)
			pbx_span_schedule(&pbx.spans[i]);
		pbx_calls_timers(pbx_now_ms());
		if (stdin_open && (p[1].revents & (POLLIN | POLLHUP)) &&
		    read_commands(o->cmd_fd) < 0)
			stdin_open = 0;
		if (o->dial_to && !dialled && pbx.spans[0].up) {
			dialled = 1;
			pbx_dial(o->called, o->calling, 0, 0, false, false);
		}
	}
	if (far_end_gone())
		pbx_say("down");
	close(clock);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: pbxsim -c CONF [--dial CALLED[/CALLING]] "
			"[--hold-ms MS] [--fifo PATH] [-v] | --selftest\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct options o = { .calling = "1000", .cmd_fd = 0 };
	const char *path = NULL;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--selftest") == 0)
			return pbx_selftest();
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--dial") == 0 && i + 1 < argc)
			o.dial_to = argv[++i];
		else if (strcmp(argv[i], "--hold-ms") == 0 && i + 1 < argc)
			pbx_hold_ms = atoi(argv[++i]);
		else if (strcmp(argv[i], "-v") == 0)
			pbx_verbose = 1;
		else if (strcmp(argv[i], "--fifo") == 0 && i + 1 < argc) {
			o.cmd_fd = open_fifo(argv[++i]);
			if (o.cmd_fd < 0) {
				fprintf(stderr, "pbxsim: %s: %s\n", argv[i],
					strerror(errno));
				return 1;
			}
		}
		else
			usage();
	}
	if (!path || pbx_conf_load(path))
		return 2;
	if (o.dial_to) {
		char *slash;

		snprintf(o.called, sizeof(o.called), "%s", o.dial_to);
		slash = strchr(o.called, '/');
		if (slash) {
			*slash = '\0';
			o.calling = slash + 1;
		}
	}
	pri_set_message(pri_log);
	pri_set_error(pri_log);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (int i = 0; i < pbx.nspans; i++) {
		if (pbx_span_open(&pbx.spans[i]) == 0)
			continue;
		fprintf(stderr, "pbxsim: span %d: %s: %s\n", pbx.spans[i].no,
			pbx.spans[i].path, strerror(errno));
		return 1;
	}
	rc = run(&o);
	for (int i = 0; i < pbx.nspans; i++)
		pbx_span_close(&pbx.spans[i]);
	return rc;
}
