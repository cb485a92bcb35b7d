/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_mkauts K OPC RAND SQN_MS: prints the AUTS a USIM would send for a
 * re-synchronisation (TS 33.102 6.3.3), for the HSS tests.
 */
#include <stdio.h>

#include "hss_milenage.h"

int main(int argc, char **argv)
{
	uint8_t k[HSS_K_LEN], opc[HSS_OP_LEN], rand[HSS_RAND_LEN];
	uint8_t sqn[HSS_SQN_LEN], auts[HSS_AUTS_LEN];
	char hex[2 * HSS_AUTS_LEN + 1];

	if (argc != 5 || hss_hex_parse(argv[1], k, sizeof(k)) ||
	    hss_hex_parse(argv[2], opc, sizeof(opc)) ||
	    hss_hex_parse(argv[3], rand, sizeof(rand)) ||
	    hss_hex_parse(argv[4], sqn, sizeof(sqn))) {
		fprintf(stderr, "usage: test_mkauts K OPC RAND SQN_MS\n");
		return 2;
	}
	if (hss_milenage_auts(k, opc, rand, sqn, auts) ||
	    hss_hex_format(auts, sizeof(auts), hex, sizeof(hex)))
		return 3;
	printf("%s\n", hex);
	return 0;
}
