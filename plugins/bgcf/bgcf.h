/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Service "bgcf" version 1, provided by the bgcf plugin: the breakout
 * gateway control function's route table. The MGCF of a gateway node asks
 * it where a number goes: a trunk group of this node (its spans), a SIP
 * peer (another gateway, a carrier), or another BGCF.
 *
 *   const struct bgcf_service *bgcf = host->service_get(BGCF_SERVICE, 1);
 *   n = bgcf->route("+442079460000", targets, BGCF_TARGETS_MAX);
 *
 * The answer is ordered: the best route's target first, then the targets
 * of its overflow routes (tried when the first is congested, Q.850 34 or
 * 42). Routes are chosen by longest matching prefix among those whose
 * time of day applies now.
 *
 * Ownership and threads: loop thread only; `out` is the caller's; the
 * table may be reloaded between two calls, never during one.
 *
 * This header lives with the plugin (plugins/bgcf); the MGCF uses it.
 */
#ifndef TANDEM_BGCF_H
#define TANDEM_BGCF_H

#include <stddef.h>

#define BGCF_SERVICE "bgcf"
#define BGCF_SERVICE_VERSION 1
#define BGCF_TARGETS_MAX 8
#define BGCF_NAME_MAX 32
#define BGCF_URI_MAX 256

enum bgcf_target_kind {
	BGCF_TRUNK = 1, /* a trunk group of this node: [trunk NAME] */
	BGCF_SIP_PEER,	/* a SIP peer: send the INVITE there */
	BGCF_BGCF,	/* another BGCF: send the INVITE there */
};

struct bgcf_target {
	enum bgcf_target_kind kind;
	char trunk[BGCF_NAME_MAX]; /* BGCF_TRUNK */
	char uri[BGCF_URI_MAX];	   /* BGCF_SIP_PEER, BGCF_BGCF: a SIP URI */
	char route[BGCF_NAME_MAX]; /* the route that gave it, for logs */
};

struct bgcf_service {
	size_t size; /* sizeof(struct bgcf_service) of the provider */

	/*
	 * Targets for `number` (+E.164, or digits without '+'), best first.
	 * Returns how many were written (0: no route), or -EINVAL.
	 */
	int (*route)(const char *number, struct bgcf_target *out,
		     unsigned max);
};

#endif /* TANDEM_BGCF_H */
