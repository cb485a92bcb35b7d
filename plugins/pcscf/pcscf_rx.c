/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcscf_rx.c - Rx hooks (to come).
 */
#include "pcscf_int.h"

void pcscf_rx_init(void)
{
}

void pcscf_rx_dialog_ops(struct ims_dlg_ops *ops)
{
	(void)ops;
}
