/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A few TAP helpers for the C tests (automake's tap-driver reads them). */
#ifndef TANDEM_TEST_TAP_H
#define TANDEM_TEST_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline void tap_plan(int n)
{
	printf("1..%d\n", n);
	fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

/* Passes when `text` contains `needle`; shows both when it does not. */
#define ok_contains(text, needle, ...)                                        \
	(ok((text) && strstr((text), (needle)) != NULL, __VA_ARGS__) ||       \
	 (printf("# expected to contain: %s\n# got: %s\n", (needle),          \
		 (text) ? (text) : "(null)"), 0))

static inline int tap_done(void)
{
	return tap_failed ? 1 : 0;
}

#endif
