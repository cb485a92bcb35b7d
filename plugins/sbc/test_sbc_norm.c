/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_sbc_norm (built as test_sbc_norm_unit): the normalisation rules
 * of the SBC (sbc_norm.c): E.164 to and from a dialling plan, malformed
 * numbers, rule sets that must be refused with the key at fault, the
 * trust boundary (RFC 3325) and the header / URI actions. Prints TAP.
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "sbc_int.h"

/* the glue to the host and the sip service is not run here */
const struct tnd_host_api *sbc_host;
struct sbc_cfg *sbc_cfg;
const struct sip_service *sbc_sip;
const struct media_service *sbc_media;
struct sbc_counters sbc_count; /* sbc_peer.c counts toll fraud */

/* sbc_peer.c's `sbc show peers` asks sbc_trunk.c, not linked here */
void sbc_trunk_show_dest(struct tnd_reply *r, const struct sbc_peer *p,
			 unsigned i)
{
	(void)r, (void)p, (void)i;
}

static int n, failed;

static void ok(int cond, const char *what)
{
	n++;
	if (!cond)
		failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, what);
}

/* ---- Sets ---------------------------------------------------------------- */

static struct sbc_norm_set_cfg plan(const char *format)
{
	struct sbc_norm_set_cfg c;

	memset(&c, 0, sizeof(c));
	c.country_code = "44";
	c.national_prefix = "0";
	c.international_prefix = "00";
	c.area_code = "20";
	c.number_format = (char *)format;
	c.rel100 = "yes";
	c.update = 1;
	return c;
}

static int add(const char *name, const struct sbc_norm_set_cfg *c,
	       const char **bad_key, char *err)
{
	return sbc_norm_set_add(name, c, bad_key, err, 256);
}

static void define_sets(void)
{
	struct sbc_norm_set_cfg c;
	const char *bad;
	char err[256];
	int rc = 0;

	c = plan("local");
	rc |= add("uk-local", &c, &bad, err);
	c = plan("national");
	rc |= add("uk-national", &c, &bad, err);
	c = plan("international");
	rc |= add("uk-intl", &c, &bad, err);
	c = plan("e164");
	rc |= add("uk-e164", &c, &bad, err);
	c = plan("national");
	c.area_code = "";
	rc |= add("uk-noarea", &c, &bad, err);
	c = plan("local");
	c.local_length = 8;
	rc |= add("uk-len8", &c, &bad, err);

	/* a PBX: untrusted, with an identity, and actions both ways */
	c = plan("national");
	c.asserted_identity = "sip:+442079460000@pbx.example";
	c.in[0] = "add X-Trunk: london";
	c.in[1] = "copy X-*";
	c.in[2] = "remove X-Secret*";
	c.in[3] = "set ruri.param.user phone";
	c.in[4] = "rewrite ruri.host /^core\\.lab$/ims.example/";
	c.in[5] = "rewrite X-Colour /(bl)ue/\\1ack/i";
	c.in[6] = "remove ruri.param.tgrp";
	c.in[7] = "set from.param.user phone";
	c.in[8] = "copy P-*";
	c.in[9] = "copy P-Early-Media";
	c.in[10] = "copy Diversion";
	c.out[0] = "copy *";
	c.out[1] = "copy P-Early-Media";
	c.out[2] = "add X-Out: yes";
	rc |= add("pbx", &c, &bad, err);

	/* a PBX with a DDI range: its callers' numbers are screened */
	c = plan("local");
	c.asserted_identity = "sip:+442079460000@pbx.example";
	c.allowed_numbers = "^\\+4420794600[0-9]{2}$";
	rc |= add("screened", &c, &bad, err);
	c.asserted_identity = NULL;
	rc |= add("screened-tel", &c, &bad, err);

	/* a trusted interconnect: its identity passes, both ways */
	c = plan("national");
	c.trusted = 1;
	c.rel100 = "no";
	c.out[0] = "copy *";
	rc |= add("trusted", &c, &bad, err);
	c.asserted_identity = "tel:+442079460009";
	rc |= add("trusted-id", &c, &bad, err);

	memset(&c, 0, sizeof(c));
	c.number_format = "national";
	c.in[0] = "copy X-*";
	c.in[1] = "remove X-Long*";
	rc |= add("long", &c, &bad, err);
	c.in[0] = c.in[1] = NULL;
	rc |= add("plain", &c, &bad, err);
	c.rel100 = "always";
	rc |= add("always", &c, &bad, err);
	ok(rc == 0, "rule sets are defined");
	ok(sbc_norm_set_exists("pbx") && !sbc_norm_set_exists("nope"),
	   "sets are found by name");
}

static void bad_set(const char *what, const char *key,
		    struct sbc_norm_set_cfg c, const char *want_key,
		    const char *want_text)
{
	const char *bad = NULL;
	char err[256] = "", label[200];
	int rc = add(key, &c, &bad, err);

	snprintf(label, sizeof(label), "refused: %s (%s: %s)", what,
		 bad ? bad : "-", err);
	ok(rc == -EINVAL && bad && strcmp(bad, want_key) == 0 &&
		   strstr(err, want_text) != NULL,
	   label);
}

static void test_bad_sets(void)
{
	struct sbc_norm_set_cfg c;
	const char *bad;
	char err[256];

	c = plan("national");
	c.in[0] = "rewrite ruri.user /([0-9]/x/";
	bad_set("a regex that does not compile", "b1", c, "in1", "regex");
	c = plan("national");
	c.out[2] = "frobnicate X-A";
	bad_set("an unknown action", "b2", c, "out3", "unknown action");
	c = plan("national");
	c.in[0] = "add X-NoColon value";
	bad_set("add without NAME:", "b3", c, "in1", "NAME: VALUE");
	c = plan("national");
	c.in[0] = "rewrite ruri.user /a/b";
	bad_set("a rewrite without its last delimiter", "b4", c, "in1",
		"REGEX/REPLACEMENT");
	c = plan("national");
	c.in[0] = "set ruri.port 5060";
	bad_set("an unknown URI part", "b5", c, "in1", "URI part");
	c = plan("national");
	c.in[0] = "copy ruri.user";
	bad_set("copy of a URI part", "b6", c, "in1", "header names");
	c = plan("national");
	c.country_code = "4x";
	bad_set("a country code with a letter", "b7", c, "country_code",
		"digits only");
	c = plan("weird");
	bad_set("an unknown number format", "b8", c, "number_format",
		"e164, international");
	c = plan("national");
	c.asserted_identity = "not a uri";
	bad_set("an identity that is no URI", "b9", c, "asserted_identity",
		"not a URI");
	c = plan("national");
	c.in[0] = "add Bad Name: x";
	bad_set("a header name with a space", "b10", c, "in1", "NAME: VALUE");
	c = plan("national");
	c.in[0] = "rewrite X-A /a/b/gx";
	bad_set("flags after a rewrite", "b11", c, "in1", "only 'i'");
	c = plan("national");
	c.national_prefix = "";
	bad_set("a plan without a national prefix", "b12", c, "country_code",
		"national_prefix");
	c = plan("national");
	c.in[0] = "remove ruri.user";
	bad_set("remove of a user part", "b13", c, "in1", "URI.param");
	c = plan("national");
	c.allowed_numbers = "^(\\+44";
	bad_set("allowed_numbers that do not compile", "b16", c,
		"allowed_numbers", "allowed_numbers");
	c = plan("national");
	c.local_length = 16;
	bad_set("a local length over 15 digits", "b15", c, "local_length",
		"at most 15");
	c = plan("national");
	c.rel100 = "sometimes";
	bad_set("100rel that is not yes, no, always", "b14", c, "100rel",
		"yes, no or always");
	c = plan("national");
	ok(add("pbx", &c, &bad, err) == -EEXIST, "a second set 'pbx' is "
						 "refused");
	ok(!sbc_norm_set_exists("b1") && !sbc_norm_set_exists("b13"),
	   "refused sets are not kept");
}

/* ---- E.164 --------------------------------------------------------------- */

static void to164(const char *set, const char *in, int want_rc,
		  const char *want)
{
	char out[64] = "", label[160];
	int rc = sbc_norm_to_e164(set, in, out, sizeof(out));

	snprintf(label, sizeof(label), "%s: '%s' -> '%s' (%d)", set, in, out,
		 rc);
	ok(rc == want_rc && (!want || strcmp(out, want) == 0), label);
}

static void from164(const char *set, const char *in, int want_rc,
		    const char *want)
{
	char out[64] = "", label[160];
	int rc = sbc_norm_from_e164(set, in, out, sizeof(out));

	snprintf(label, sizeof(label), "%s: '%s' <- '%s' (%d)", set, out, in,
		 rc);
	ok(rc == want_rc && (!want || strcmp(out, want) == 0), label);
}

static void test_e164(void)
{
	to164("uk-local", "02079460000", 1, "+442079460000");
	to164("uk-local", "00442079460000", 1, "+442079460000");
	to164("uk-local", "79460000", 1, "+442079460000");
	to164("uk-local", "+442079460000", 1, "+442079460000");
	to164("uk-local", "0033142685300", 1, "+33142685300");
	to164("uk-local", "020-7946-0000", 1, "+442079460000");
	to164("uk-local", "(020)7946.0000", 1, "+442079460000");
	to164("uk-local", "alice", 0, NULL);
	to164("uk-local", "*31#", 0, NULL);
	to164("uk-local", "0207x946", -EINVAL, NULL);
	to164("uk-local", "+", -EINVAL, NULL);
	to164("uk-local", "0", -EINVAL, NULL);
	to164("uk-local", "00", -EINVAL, NULL);
	to164("uk-local", "0000442079460000", -EINVAL, NULL);
	to164("uk-local", "+4420794600001234567", -EINVAL, NULL);
	to164("uk-local", "012345678901234567890123456789", -EINVAL, NULL);
	to164("uk-local", "", 0, NULL);
	to164("uk-noarea", "79460000", 0, NULL); /* no area: left alone */
	to164("uk-len8", "79460000", 1, "+442079460000");
	to164("uk-len8", "201", 0, NULL); /* an extension */
	to164("", "02079460000", 0, NULL);
	to164("", "+442079460000", 1, "+442079460000");

	from164("uk-local", "+442079460000", 1, "79460000");
	from164("uk-local", "+441612345678", 1, "01612345678");
	from164("uk-local", "+33142685300", 1, "0033142685300");
	from164("uk-national", "+442079460000", 1, "02079460000");
	from164("uk-intl", "+442079460000", 1, "00442079460000");
	from164("uk-e164", "+442079460000", 1, "+442079460000");
	from164("uk-len8", "+442079460000", 1, "79460000");
	from164("uk-len8", "+4420201", 1, "020201");
	from164("uk-national", "+44", -EINVAL, NULL);
	from164("uk-national", "02079460000", 0, NULL);
	from164("uk-national", "+44abc", -EINVAL, NULL);
	from164("uk-national", "+4420794600001234567", -EINVAL, NULL);
	from164("uk-national", "anonymous", 0, NULL);
}

/* ---- A crossing ---------------------------------------------------------- */

static void msg_init(struct sbc_norm_msg *m, const char *ruri,
		     const char *from, const char *to)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->ruri, sizeof(m->ruri), "%s", ruri);
	snprintf(m->from, sizeof(m->from), "%s", from);
	snprintf(m->to, sizeof(m->to), "%s", to);
}

static const char *out_get(const struct sbc_norm_msg *m, const char *name)
{
	const char *v = ims_msg_get(&m->out, name, 0);

	return v ? v : "";
}

static void test_from_untrusted(void)
{
	struct sbc_norm_msg m;
	char *hdrs;

	msg_init(&m, "sip:02079460000@core.lab;tgrp=7",
		 "sip:79460001@core.lab", "sip:00331234567@core.lab");
	ims_msg_add(&m.in, "P-Asserted-Identity", "<sip:+449999@evil.example>",
		    false);
	ims_msg_add(&m.in, "X-Colour", "Blue", false);
	ims_msg_add(&m.in, "Diversion",
		    "<sip:02079460003@pbx>;reason=unconditional", false);
	ims_msg_add(&m.in, "X-Secret-Key", "42", false);
	ims_msg_add(&m.in, "Via", "SIP/2.0/UDP 203.0.113.7", false);
	ims_msg_add(&m.in, "P-Charging-Vector", "icid-value=forged", false);
	ims_msg_add(&m.in, "P-Served-User", "<sip:victim@ims>", false);
	ims_msg_add(&m.in, "P-Early-Media", "supported", false);
	ok(sbc_norm_apply("pbx", SBC_NORM_FROM_PEER, &m) == 0 &&
		   sbc_norm_apply("", SBC_NORM_TO_CORE, &m) == 0,
	   "an untrusted peer's INVITE crosses");
	ok(strcmp(m.ruri, "sip:+442079460000@ims.example;user=phone") == 0,
	   m.ruri);
	ok(strcmp(m.from, "sip:+442079460001@core.lab;user=phone") == 0,
	   m.from);
	ok(strcmp(m.to, "sip:+331234567@core.lab") == 0, m.to);
	ok(strcmp(out_get(&m, "P-Asserted-Identity"),
		  "<sip:+442079460000@pbx.example>") == 0 &&
		   ims_msg_count(&m.out, "P-Asserted-Identity") == 1,
	   "the untrusted PAI is replaced by the peer's identity");
	ok(strcmp(out_get(&m, "X-Trunk"), "london") == 0, "add");
	ok(strcmp(out_get(&m, "X-Colour"), "Black") == 0 &&
		   ims_msg_count(&m.out, "X-Colour") == 1,
	   "copy X-*, then rewrite ignoring case");
	ok(ims_msg_count(&m.out, "X-Secret-Key") == 0, "remove X-Secret*");
	ok(strcmp(out_get(&m, "Diversion"),
		  "<sip:+442079460003@pbx>;reason=unconditional") == 0,
	   "a copied Diversion's number in E.164");
	ok(ims_msg_count(&m.out, "Via") == 0, "no header of the layer copied");
	ok(ims_msg_count(&m.out, "P-Charging-Vector") == 0 &&
		   ims_msg_count(&m.out, "P-Served-User") == 0,
	   "copy P-* from an untrusted peer: no IMS header enters the core");
	ok(strcmp(out_get(&m, "P-Early-Media"), "supported") == 0,
	   "but a P- header its rules name does");
	hdrs = sbc_norm_headers(&m);
	ok(hdrs && strstr(hdrs, "X-Trunk: london\r\n") &&
		   strstr(hdrs, "P-Asserted-Identity: <sip:+442079460000@"),
	   "the header lines to send");
	free(hdrs);
	sbc_norm_msg_free(&m);

	/* `in` copies X-*, then `out` copies * from the same message */
	msg_init(&m, "", "", "");
	ims_msg_add(&m.in, "X-A", "1", false);
	ok(sbc_norm_apply("pbx", SBC_NORM_FROM_PEER, &m) == 0 &&
		   sbc_norm_apply("pbx", SBC_NORM_TO_PEER, &m) == 0 &&
		   ims_msg_count(&m.out, "X-A") == 1,
	   "a line copied twice is sent once");
	sbc_norm_msg_free(&m);

	msg_init(&m, "sip:02079460000@h", "sip:02079460001@h", "");
	ims_msg_add(&m.in, "P-Asserted-Identity", "<sip:+449999@evil>", false);
	ok(sbc_norm_apply("uk-national", SBC_NORM_FROM_PEER, &m) == 0 &&
		   ims_msg_count(&m.out, "P-Asserted-Identity") == 0,
	   "an untrusted PAI without an identity is dropped");
	sbc_norm_msg_free(&m);
	ok(sbc_norm_apply("no-such-set", SBC_NORM_FROM_PEER, &m) == -ENOENT,
	   "an unknown set is an error");
}

static void screened(const char *set, const char *from, const char *want)
{
	struct sbc_norm_msg m;
	char label[200];

	msg_init(&m, "sip:02079460000@h", from, "");
	ims_msg_add(&m.in, "P-Asserted-Identity", "<sip:+4499@forged>", false);
	sbc_norm_apply(set, SBC_NORM_FROM_PEER, &m);
	snprintf(label, sizeof(label), "%s: From %s -> PAI %s", set, from,
		 out_get(&m, "P-Asserted-Identity"));
	ok(strcmp(out_get(&m, "P-Asserted-Identity"), want) == 0, label);
	sbc_norm_msg_free(&m);
}

static void test_screening(void)
{
	screened("screened", "sip:79460012@h",
		 "<sip:+442079460012@pbx.example>");
	screened("screened", "sip:02079460099@h",
		 "<sip:+442079460099@pbx.example>");
	screened("screened", "sip:79469999@h",
		 "<sip:+442079460000@pbx.example>"); /* outside the range */
	screened("screened", "sip:anonymous@h",
		 "<sip:+442079460000@pbx.example>");
	screened("screened-tel", "sip:79460012@h", "<tel:+442079460012>");
	screened("screened-tel", "sip:79469999@h", "");
}

static void test_from_trusted(void)
{
	struct sbc_norm_msg m;

	msg_init(&m, "sip:02079460000@h", "sip:x@h", "sip:y@h");
	ims_msg_add(&m.in, "P-Asserted-Identity",
		    "\"Bob\" <sip:02079460001@peer.example;user=phone>", false);
	ims_msg_add(&m.in, "P-Asserted-Identity", "<tel:02079460001>", false);
	ims_msg_add(&m.in, "Privacy", "id", false);
	sbc_norm_apply("trusted", SBC_NORM_FROM_PEER, &m);
	ok(strcmp(ims_msg_get(&m.out, "P-Asserted-Identity", 0),
		  "\"Bob\" <sip:+442079460001@peer.example;user=phone>") == 0,
	   "a trusted peer's PAI is kept, in E.164");
	ok(strcmp(ims_msg_get(&m.out, "P-Asserted-Identity", 1),
		  "<tel:+442079460001>") == 0,
	   "its tel URI too");
	ok(strcmp(out_get(&m, "Privacy"), "id") == 0, "Privacy crosses");
	sbc_norm_msg_free(&m);

	msg_init(&m, "sip:02079460000@h", "sip:x@h", "sip:y@h");
	sbc_norm_apply("trusted-id", SBC_NORM_FROM_PEER, &m);
	ok(strcmp(out_get(&m, "P-Asserted-Identity"), "<tel:+442079460009>") ==
		   0,
	   "a trusted peer without a PAI gets its asserted_identity");
	sbc_norm_msg_free(&m);
}

/* The core's INVITE or responses towards a peer: nothing internal. */
static void core_headers(struct sbc_norm_msg *m)
{
	ims_msg_add(&m->in, "P-Asserted-Identity", "<sip:+442079460002@ims>",
		    false);
	ims_msg_add(&m->in, "P-Charging-Vector", "icid-value=abc", false);
	ims_msg_add(&m->in, "P-Charging-Function-Addresses", "ccf=pcrf",
		    false);
	ims_msg_add(&m->in, "Path", "<sip:term@pcscf.ims;lr>", false);
	ims_msg_add(&m->in, "Service-Route", "<sip:orig@scscf.ims;lr>", false);
	ims_msg_add(&m->in, "P-Visited-Network-ID", "ims", false);
	ims_msg_add(&m->in, "Record-Route", "<sip:scscf.ims;lr>", false);
	ims_msg_add(&m->in, "P-Early-Media", "sendrecv", false);
	ims_msg_add(&m->in, "X-Custom", "1", false);
}

static void test_to_peer(void)
{
	struct sbc_norm_msg m;

	msg_init(&m, "sip:+442079460000@pbx", "sip:+442079460002@pbx",
		 "sip:+442079460000@pbx");
	core_headers(&m);
	sbc_norm_apply("", SBC_NORM_FROM_CORE, &m);
	sbc_norm_apply("pbx", SBC_NORM_TO_PEER, &m);
	ok(strcmp(m.ruri, "sip:02079460000@pbx") == 0, m.ruri);
	ok(strcmp(m.from, "sip:02079460002@pbx") == 0, m.from);
	ok(ims_msg_count(&m.out, "P-Asserted-Identity") == 0 &&
		   ims_msg_count(&m.out, "P-Charging-Vector") == 0 &&
		   ims_msg_count(&m.out, "P-Charging-Function-Addresses") ==
			   0 &&
		   ims_msg_count(&m.out, "Path") == 0 &&
		   ims_msg_count(&m.out, "Service-Route") == 0 &&
		   ims_msg_count(&m.out, "P-Visited-Network-ID") == 0 &&
		   ims_msg_count(&m.out, "Record-Route") == 0,
	   "copy * to an untrusted peer: nothing internal passes");
	ok(strcmp(out_get(&m, "X-Custom"), "1") == 0 &&
		   strcmp(out_get(&m, "X-Out"), "yes") == 0,
	   "copy * and add pass the others");
	ok(strcmp(out_get(&m, "P-Early-Media"), "sendrecv") == 0,
	   "a P- header named by the peer's own rule passes");
	sbc_norm_msg_free(&m);

	msg_init(&m, "sip:+442079460000@pbx", "sip:+442079460002@pbx", "");
	core_headers(&m);
	sbc_norm_apply("", SBC_NORM_FROM_CORE, &m);
	sbc_norm_apply("trusted", SBC_NORM_TO_PEER, &m);
	ok(strcmp(out_get(&m, "P-Asserted-Identity"),
		  "<sip:02079460002@ims>") == 0,
	   "a trusted peer gets the PAI, in its format");
	ok(ims_msg_count(&m.out, "P-Charging-Vector") == 0 &&
		   ims_msg_count(&m.out, "Path") == 0,
	   "but nothing else internal");
	sbc_norm_msg_free(&m);

	/* Privacy: id towards an untrusted peer (RFC 3325 7, RFC 3323) */
	msg_init(&m, "sip:+442079460000@pbx", "sip:+442079460002@pbx", "");
	core_headers(&m);
	ims_msg_add(&m.in, "Privacy", "id", false);
	sbc_norm_apply("", SBC_NORM_FROM_CORE, &m);
	sbc_norm_apply("plain", SBC_NORM_TO_PEER, &m);
	ok(strcmp(m.from, "sip:anonymous@anonymous.invalid") == 0 &&
		   ims_msg_count(&m.out, "P-Asserted-Identity") == 0,
	   "Privacy: id to an untrusted peer: anonymous, no PAI");
	sbc_norm_msg_free(&m);

	msg_init(&m, "sip:+442079460000@pbx", "sip:+442079460002@pbx", "");
	ims_msg_add(&m.in, "Privacy", "none", false);
	sbc_norm_apply("", SBC_NORM_FROM_CORE, &m);
	sbc_norm_apply("plain", SBC_NORM_TO_PEER, &m);
	ok(strcmp(m.from, "sip:+442079460002@pbx") == 0,
	   "Privacy: none leaves the From as it was");
	sbc_norm_msg_free(&m);

	msg_init(&m, "sip:+442079460000@pbx", "sip:+442079460002@pbx", "");
	ims_msg_add(&m.in, "Privacy", "user; header ;critical", false);
	sbc_norm_apply("", SBC_NORM_FROM_CORE, &m);
	sbc_norm_apply("plain", SBC_NORM_TO_PEER, &m);
	ok(strcmp(m.from, "sip:anonymous@anonymous.invalid") == 0,
	   "Privacy: user; header ;critical anonymises the From");
	sbc_norm_msg_free(&m);

	msg_init(&m, "sip:+442079460000@pbx", "sip:+442079460002@pbx", "");
	core_headers(&m);
	ims_msg_add(&m.in, "Privacy", "id", false);
	sbc_norm_apply("", SBC_NORM_FROM_CORE, &m);
	sbc_norm_apply("trusted", SBC_NORM_TO_PEER, &m);
	ok(strcmp(m.from, "sip:02079460002@pbx") == 0 &&
		   ims_msg_count(&m.out, "P-Asserted-Identity") == 1 &&
		   strcmp(out_get(&m, "Privacy"), "id") == 0,
	   "Privacy: id to a trusted peer: PAI and Privacy kept");
	sbc_norm_msg_free(&m);

	msg_init(&m, "", "", ""); /* a response */
	core_headers(&m);
	sbc_norm_apply("", SBC_NORM_FROM_CORE, &m);
	ok(sbc_norm_apply("pbx", SBC_NORM_TO_PEER, &m) == 0 &&
		   ims_msg_count(&m.out, "P-Asserted-Identity") == 0,
	   "a response (no URIs) crosses, its PAI stripped");
	sbc_norm_msg_free(&m);
}

static void user_of(const char *value, int want_rc, const char *want)
{
	struct sip_text t = { value, strlen(value) };
	char out[64] = "", label[200];
	int rc = sbc_norm_user_of(t, out, sizeof(out));

	snprintf(label, sizeof(label), "user of '%s': '%s' (%d)", value, out,
		 rc);
	ok(rc == want_rc && (!want || strcmp(out, want) == 0), label);
}

static void test_user_of(void)
{
	user_of("<sip:79460001@203.0.113.7:5061>;tag=1", 0, "79460001");
	user_of("\"Bob\" <tel:02079460001;phone-context=+44>", 0,
		"02079460001");
	user_of("sip:02079460000@sbc:5060", 0, "02079460000");
	user_of("tel:+442079460000", 0, "+442079460000");
	user_of("<sips:alice@example.com>", 0, "alice");
	user_of("<sip:example.com>", -ENOENT, NULL);
	user_of("<mailto:a@b>", -EINVAL, NULL);
	user_of("<sip:unterminated", -EINVAL, NULL);
	user_of("", -EINVAL, NULL);
}

static void test_malformed(void)
{
	struct sbc_norm_msg m;
	char big[400], name[200];

	/* names longer than any buffer of the engine */
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "X-Long", 6);
	msg_init(&m, "", "", "");
	ims_msg_add(&m.in, name, "1", false);
	ims_msg_add(&m.in, name, "2", false);
	ims_msg_add(&m.in, "X-Short", "3", false);
	ok(sbc_norm_apply("long", SBC_NORM_FROM_PEER, &m) == 0 &&
		   ims_msg_count(&m.out, name) == 0 &&
		   ims_msg_count(&m.out, "X-Short") == 1,
	   "a 199-character header name is copied and removed");
	sbc_norm_msg_free(&m);

	msg_init(&m, "garbage", "sip:", "tel:");
	ims_msg_add(&m.in, "P-Asserted-Identity", "<unterminated", false);
	ok(sbc_norm_apply("trusted", SBC_NORM_FROM_PEER, &m) == 0 &&
		   strcmp(m.ruri, "garbage") == 0,
	   "URIs that are not URIs are left alone");
	ok(strcmp(out_get(&m, "P-Asserted-Identity"), "<unterminated") == 0,
	   "a PAI without its '>' is left alone");
	sbc_norm_msg_free(&m);

	msg_init(&m, "sip:0207x@h", "sip:0@h", "sip:+1@h");
	sbc_norm_apply("uk-local", SBC_NORM_FROM_PEER, &m);
	ok(m.bad_numbers == 3 && strcmp(m.ruri, "sip:0207x@h") == 0,
	   "malformed numbers are counted and left as they were");
	sbc_norm_msg_free(&m);

	/* a rewrite that would overflow the URI leaves it as it was */
	memset(big, 'h', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	msg_init(&m, "sip:02079460000@core.lab", "sip:a@b", "sip:c@d");
	snprintf(m.ruri, sizeof(m.ruri), "sip:02079460000@core.lab;%.*s",
		 (int)(sizeof(m.ruri) - 40), big);
	ok(sbc_norm_apply("pbx", SBC_NORM_FROM_PEER, &m) == 0 &&
		   strncmp(m.ruri, "sip:+442079460000@", 18) == 0,
	   "a URI at its size limit: what fits is done, no overflow");
	sbc_norm_msg_free(&m);
}

static void test_reply_flags(void)
{
	ok(sbc_norm_reply_flags("pbx", 183, SIP_REPLY_RELIABLE) ==
		   SIP_REPLY_RELIABLE &&
		   sbc_norm_reply_flags("pbx", 180, 0) == 0,
	   "100rel = yes: provisionals as the core sent them");
	ok(sbc_norm_reply_flags("trusted", 183, SIP_REPLY_RELIABLE) == 0,
	   "100rel = no: never reliable");
	ok(sbc_norm_reply_flags("always", 180, 0) == SIP_REPLY_RELIABLE &&
		   sbc_norm_reply_flags("always", 100, 0) == 0 &&
		   sbc_norm_reply_flags("always", 200, 0) == 0,
	   "100rel = always: every 101-199 reliable, not 100 or 2xx");
}

/*
 * SBC_NORM_BENCH=N: the cost of one INVITE crossing (12 received header
 * lines, the pbx set: trust, numbers, 10 actions; then the core step),
 * printed as a TAP comment. A measurement, not a check.
 */
static void bench(long rounds)
{
	static const char *const lines[][2] = {
		{ "Via", "SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK1" },
		{ "From", "<sip:79460001@203.0.113.7>;tag=1" },
		{ "To", "<sip:02079460000@198.51.100.1>" },
		{ "Call-ID", "a84b4c76e66710@203.0.113.7" },
		{ "CSeq", "1 INVITE" },
		{ "Contact", "<sip:79460001@203.0.113.7:5060>" },
		{ "Max-Forwards", "70" },
		{ "P-Asserted-Identity", "<sip:+449999@evil.example>" },
		{ "X-Colour", "blue" },
		{ "X-Secret-Key", "42" },
		{ "User-Agent", "PBX 1.0" },
		{ "Allow", "INVITE, ACK, BYE, CANCEL, UPDATE, PRACK" },
	};
	struct timespec t0, t1;
	double ns;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long r = 0; r < rounds; r++) {
		struct sbc_norm_msg m;
		char *hdrs;

		msg_init(&m, "sip:02079460000@core.lab",
			 "sip:79460001@core.lab", "sip:02079460000@core.lab");
		for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
			ims_msg_add(&m.in, lines[i][0], lines[i][1], false);
		sbc_norm_apply("pbx", SBC_NORM_FROM_PEER, &m);
		sbc_norm_apply("", SBC_NORM_TO_CORE, &m);
		hdrs = sbc_norm_headers(&m);
		free(hdrs);
		sbc_norm_msg_free(&m);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	     (double)(t1.tv_nsec - t0.tv_nsec);
	printf("# norm_invite_us=%.2f (%ld rounds)\n",
	       ns / (double)rounds / 1e3, rounds);
}

int main(void)
{
	const char *rounds = getenv("SBC_NORM_BENCH");

	define_sets();
	test_bad_sets();
	test_e164();
	test_from_untrusted();
	test_screening();
	test_from_trusted();
	test_to_peer();
	test_user_of();
	test_malformed();
	test_reply_flags();
	if (rounds && atol(rounds) > 0)
		bench(atol(rounds));
	sbc_norm_unload();
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
