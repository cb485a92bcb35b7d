/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf_number: numbers between a trunk's forms (digits with a Q.931 type
 * of number and numbering plan, ITU-T Q.931 4.5.8/4.5.10) and the +E.164
 * form of IMS (TS 24.229 uses tel: and sip:...;user=phone URIs), by the
 * trunk's rules: country code, national and international prefixes, area
 * code, and a PBX's DDI range. Host independent.
 */
#ifndef MGCF_NUMBER_H
#define MGCF_NUMBER_H

#include <stddef.h>

/* Q.931 type of number and numbering plan codings (tandem/pri.h). */
#define TON_UNKNOWN 0
#define TON_INTERNATIONAL 1
#define TON_NATIONAL 2
#define TON_NETWORK 3
#define TON_SUBSCRIBER 4
#define TON_ABBREVIATED 6
#define NPI_UNKNOWN 0
#define NPI_E164 1
#define NPI_PRIVATE 9

/* How a trunk wants numbers sent to it. */
enum mgcf_numfmt {
	NUMFMT_UNKNOWN = 0,   /* dialled form with prefixes: 00.., 0.. */
	NUMFMT_INTERNATIONAL, /* TON international, no prefix */
	NUMFMT_NATIONAL,      /* TON national: without the country code */
	NUMFMT_SUBSCRIBER,    /* TON subscriber: without the area code */
	NUMFMT_DDI,	      /* the extension inside the DDI range */
};

struct mgcf_numplan {
	char country_code[8];	      /* "44" */
	char national_prefix[8];      /* "0" */
	char international_prefix[8]; /* "00" */
	char area_code[8];	      /* "20"; "" none */
	char ddi_prefix[24];	      /* "+44207946": the PBX's range */
	unsigned ddi_digits;	      /* digits of an extension; 0 none */
	enum mgcf_numfmt called_format, calling_format;
};

/* "international" ... "ddi"; -1 when unknown. */
int mgcf_numfmt_parse(const char *name);
const char *mgcf_numfmt_name(enum mgcf_numfmt fmt);

/*
 * A number from the circuit to +E.164 when the rules allow, else the
 * digits as they came (a local number). Returns 1 for E.164, 0 local,
 * -ENOSPC, -EINVAL (not digits).
 */
int mgcf_number_to_e164(const struct mgcf_numplan *plan, const char *digits,
			int ton, int npi, char *out, size_t size);

/*
 * A number (+E.164 or local digits) to the form `fmt` for the circuit.
 * Returns 0 or -ENOSPC / -EINVAL.
 */
int mgcf_number_to_circuit(const struct mgcf_numplan *plan, const char *number,
			   enum mgcf_numfmt fmt, char *digits, size_t size,
			   int *ton, int *npi);

/*
 * The number in a SIP or tel URI (angle brackets and display name
 * allowed): "tel:+44-20-7946-0000" and "sip:+442079460000@h;user=phone"
 * give "+442079460000", "sip:2001@h" gives "2001". Visual separators
 * (RFC 3966 5.1.1) are dropped. -EINVAL when the user part is not a
 * number.
 */
int mgcf_number_from_uri(const char *uri, size_t len, char *out, size_t size);

#endif /* MGCF_NUMBER_H */
