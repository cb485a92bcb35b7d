// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_emodel.c - ITU-T G.107 E-model, delay and codec/loss terms.
 */
#include <math.h>
#include <strings.h>

#include "media_emodel.h"

/* G.107 7.1 with the default values of table 2. */
#define R_DEFAULT	93.2

struct codec_impairment {
	const char *name;
	double ie, bpl;
};

/*
 * G.113 appendix I: G.711 Ie 0 with Bpl 25.1 when losses are concealed
 * (we conceal with SpanDSP's PLC); G.726 at 32 kbit/s Ie 7; GSM 06.10 full
 * rate Ie 20. G.113 gives no Bpl for G.726 and GSM-FR: we take G.711's
 * concealed value for G.726 (same PLC) and 10 for GSM (its own, weaker
 * substitution). G.722 is rated on the narrowband scale as G.711 here;
 * the wideband E-model (G.107.1) would rate it higher.
 */
static const struct codec_impairment impairments[] = {
	{ "PCMU", 0.0, 25.1 },
	{ "PCMA", 0.0, 25.1 },
	{ "G722", 0.0, 25.1 },
	{ "G726-32", 7.0, 25.1 },
	{ "AAL2-G726-32", 7.0, 25.1 },
	{ "GSM", 20.0, 10.0 },
};

void media_emodel_codec(const char *encoding_name,
			struct media_emodel_codec *out)
{
	unsigned i;

	out->ie = impairments[0].ie;
	out->bpl = impairments[0].bpl;
	for (i = 0; encoding_name && i < sizeof(impairments) /
					     sizeof(impairments[0]); i++) {
		if (strcasecmp(encoding_name, impairments[i].name))
			continue;
		out->ie = impairments[i].ie;
		out->bpl = impairments[i].bpl;
	}
}

double media_emodel_idd(double ta_ms)
{
	double x;

	/* G.107 7.3 (06/2015): Idd = 0 for Ta <= mT (100 ms), else
	 * 25 {(1 + X^6)^(1/6) - 3 (1 + (X/3)^6)^(1/6) + 2},
	 * X = log2(Ta / mT). */
	if (ta_ms <= 100.0)
		return 0.0;
	x = log2(ta_ms / 100.0);
	return 25.0 * (pow(1.0 + pow(x, 6.0), 1.0 / 6.0) -
		       3.0 * pow(1.0 + pow(x / 3.0, 6.0), 1.0 / 6.0) + 2.0);
}

double media_emodel_r(double ta_ms, const struct media_emodel_codec *codec,
		      double loss_pct)
{
	double ie_eff;

	if (loss_pct < 0.0)
		loss_pct = 0.0;
	if (loss_pct > 100.0)
		loss_pct = 100.0;
	/* 7.4: Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl) */
	ie_eff = codec->ie +
		 (95.0 - codec->ie) * loss_pct / (loss_pct + codec->bpl);
	return R_DEFAULT - media_emodel_idd(ta_ms) - ie_eff;
}

double media_emodel_mos(double r)
{
	if (r <= 0.0)
		return 1.0;
	if (r >= 100.0)
		return 4.5;
	return 1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6;
}
