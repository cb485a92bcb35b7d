/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * media_emodel: an estimated MOS per stream from the ITU-T G.107 E-model,
 * with every parameter at its default (G.107 table 2) except the ones a
 * media gateway measures: one-way delay, codec, packet loss.
 *
 *   R = (Ro - Is) - Id - Ie,eff + A       (G.107 7.1)
 *
 * Ro - Is is 93.2 with the defaults; A = 0 (wired access); Id is Idd, the
 * pure-delay impairment of G.107 7.3 (the echo terms Idte and Idle stay
 * near their default-case values with TELR = 65 dB and are left out);
 * Ie,eff (7.4) uses the codec's Ie and Bpl (ITU-T G.113 appendix I) and
 * BurstR = 1 (random loss). MOS-CQE from R by G.107 annex B.
 */
#ifndef TANDEM_MEDIA_EMODEL_H
#define TANDEM_MEDIA_EMODEL_H

struct media_emodel_codec {
	double ie;	/* equipment impairment factor */
	double bpl;	/* packet-loss robustness factor */
};

/* Ie and Bpl for an SDP encoding name (G.711 values when unknown). */
void media_emodel_codec(const char *encoding_name,
			struct media_emodel_codec *out);

/* Idd (G.107 7.3) for an absolute one-way delay Ta in ms. */
double media_emodel_idd(double ta_ms);

/* R from one-way delay (ms), the codec and packet loss (percent). */
double media_emodel_r(double ta_ms, const struct media_emodel_codec *codec,
		      double loss_pct);

/* G.107 annex B: MOS-CQE, 1.0 .. 4.5. */
double media_emodel_mos(double r);

#endif /* TANDEM_MEDIA_EMODEL_H */
