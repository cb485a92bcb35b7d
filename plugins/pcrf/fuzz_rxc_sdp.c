/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_rxc_sdp: libFuzzer target for the SDP reader of rxclient (the SDP
 * bodies come from UEs through the P-CSCF): any input is read without a
 * crash, an overrun or a sanitizer report, and what it gives stays within
 * its bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rxclient.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rxc_sdp sdp;

	if (rxc_sdp_parse((const char *)data, size, &sdp) == 0) {
		if (sdp.n == 0 || sdp.n > RXC_MAX_MEDIA)
			abort();
		for (unsigned i = 0; i < sdp.n; i++)
			if (strlen(sdp.m[i].lines) >= sizeof(sdp.m[i].lines) ||
			    strlen(sdp.m[i].addr) >= sizeof(sdp.m[i].addr))
				abort();
	}
	return 0;
}
