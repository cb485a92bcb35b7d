/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sip_sdp: SDP helpers of the sip service (see tandem/sip.h for the types
 * and what each returns). Pure functions on libosip2's sdp_message.
 */
#ifndef SIP_SDP_H
#define SIP_SDP_H

#include <stdbool.h>
#include <stddef.h>

#include "tandem/sip.h"

int sip_sdp_media(const char *body, size_t len, struct sip_sdp_media *media,
		  unsigned max);
int sip_sdp_answer(const char *offer, size_t len,
		   const struct sip_sdp_local *local, char *out, size_t size);

#endif /* SIP_SDP_H */
