/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capture what the code under test logs to stderr, to check messages. */
#ifndef TANDEM_TEST_CAPTURE_H
#define TANDEM_TEST_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int capture_saved_fd = -1;
static FILE *capture_file;
static char capture_buf[16384];

static inline void capture_begin(void)
{
	fflush(stderr);
	capture_file = tmpfile();
	capture_saved_fd = dup(2);
	dup2(fileno(capture_file), 2);
}

/* The text logged since capture_begin(); valid until the next capture. */
static inline const char *capture_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(capture_saved_fd, 2);
	close(capture_saved_fd);
	rewind(capture_file);
	n = fread(capture_buf, 1, sizeof(capture_buf) - 1, capture_file);
	capture_buf[n] = '\0';
	fclose(capture_file);
	return capture_buf;
}

#endif
