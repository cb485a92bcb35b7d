/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Service "skel" version 1, provided by the template plugin: an example of
 * how a plugin exposes functions to other plugins.
 *
 *   const struct skel_service *skel = host->service_get("skel", 1);
 *
 * The table is owned by the skel plugin and valid until its fini(). Call it
 * from the loop thread only.
 */
#ifndef TANDEM_SKEL_H
#define TANDEM_SKEL_H

#include <stddef.h>
#include <stdint.h>

struct skel_service {
	size_t size; /* grows at its end; check before using new members */
	/* Writes "<greeting>, <name>" into out; returns its length or -1
	 * when it does not fit. */
	int (*greet)(const char *name, char *out, size_t size);
	uint64_t (*ticks)(void);
};

#endif /* TANDEM_SKEL_H */
