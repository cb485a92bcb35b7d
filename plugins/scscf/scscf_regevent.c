/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scscf_regevent.c - the reg event package notifier (to come).
 */
#include "scscf_int.h"

int scscf_regevent_subscribe(struct sip_request *req,
			     const struct sip_message *m)
{
	(void)m;
	return sip->reply(req, 489, NULL, NULL, NULL, NULL, 0);
}

void scscf_regevent_notify(struct scscf_reg *reg, const char *event)
{
	(void)reg, (void)event;
}

void scscf_regevent_drop(struct scscf_reg *reg)
{
	(void)reg;
}
