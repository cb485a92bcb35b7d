/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcscf_regevent.c - the reg event subscriber (to come).
 */
#include "pcscf_int.h"

void pcscf_regevent_subscribe(struct pcscf_ue *ue)
{
	(void)ue;
}

void pcscf_regevent_unsubscribe(struct pcscf_ue *ue)
{
	(void)ue;
}

bool pcscf_regevent_notify(struct sip_request *req, const struct sip_message *m)
{
	(void)req, (void)m;
	return false;
}
