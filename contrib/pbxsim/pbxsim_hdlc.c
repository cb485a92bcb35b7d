/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pbxsim_hdlc: the span driver's own HDLC framing (hw/tdm_hdlc.c), built
 * into pbxsim, so the D-channel bits on our side of the cable are made and
 * read exactly as a hw/sim span makes and reads them.
 */
#include "../../hw/tdm_hdlc.c"
