/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small stand-in for the tandemd host, for the pri tests: timers and fd
 * watches on a poll() loop, logs to stderr and to an FSM trace, counters.
 * Only what the pri call logic uses.
 */
#ifndef TEST_PRI_HOST_H
#define TEST_PRI_HOST_H

#include <stdio.h>

#include "tandem/plugin.h"

extern const struct tnd_host_api th_api;
extern struct tnd_plugin th_self;

/* Lines "call N ...: A -> B on E" and "span N bchan M: a -> b" go here. */
void th_trace_to(FILE *trace);
/* Add a line of our own to the trace (a scenario's title). */
void th_trace_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Errors logged so far (any error is a failure of the test). */
int th_errors(void);
uint64_t th_counter(const char *name);

/*
 * Run the loop until done(arg) returns non-zero or max_ms pass (wall
 * clock). Returns 0 when done, -1 on timeout. Each turn polls at most
 * 20 ms.
 */
int th_run_until(int (*done)(void *arg), void *arg, int max_ms);
/* Run for about ms (to let messages settle). */
void th_run_for(int ms);
/* One turn of the loop: poll (at most 20 ms), fds, timers. */
void th_turn(void);
uint64_t th_now_ms(void);

#endif
