/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diameter_dict.c - the 3GPP applications and commands the plugins need,
 * defined in freeDiameter's dictionary after Debian's dictionary
 * extensions are loaded. dict_dcca_3gpp has most Cx/Sh/Rx/Gx AVPs but no
 * Cx/Sh application or command, and some Cx/Sh AVPs are missing from it:
 * those are added here from TS 29.229 6.3 and TS 29.329 6.3.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "diameter_int.h"

struct app_def {
	uint32_t id;
	const char *name;	/* dictionary name */
	const char *short_name; /* config and show output */
};

static const struct app_def apps[] = {
	{ DIA_APP_CX, "3GPP Cx", "cx" },
	{ DIA_APP_SH, "3GPP Sh", "sh" },
	{ DIA_APP_RX, "3GPP Rx", "rx" },
	{ DIA_APP_GX, "3GPP Gx", "gx" },
};

/* Cx (TS 29.229 6.1) and Sh (TS 29.329 6.1): requests are proxiable. */
struct cmd_def {
	uint32_t code;
	const char *request;
	const char *answer;
};

static const struct cmd_def cmds[] = {
	{ DIA_CMD_UAR, "User-Authorization-Request",
	  "User-Authorization-Answer" },
	{ DIA_CMD_SAR, "Server-Assignment-Request",
	  "Server-Assignment-Answer" },
	{ DIA_CMD_LIR, "Location-Info-Request", "Location-Info-Answer" },
	{ DIA_CMD_MAR, "Multimedia-Auth-Request", "Multimedia-Auth-Answer" },
	{ DIA_CMD_RTR, "Registration-Termination-Request",
	  "Registration-Termination-Answer" },
	{ DIA_CMD_PPR, "Push-Profile-Request", "Push-Profile-Answer" },
	{ DIA_CMD_UDR, "User-Data-Request", "User-Data-Answer" },
	{ DIA_CMD_PUR, "Profile-Update-Request", "Profile-Update-Answer" },
	{ DIA_CMD_SNR, "Subscribe-Notifications-Request",
	  "Subscribe-Notifications-Answer" },
	{ DIA_CMD_PNR, "Push-Notification-Request",
	  "Push-Notification-Answer" },
};

enum avp_kind { OCTETS, UTF8, U32, I32, U64, GROUP, TIME };

struct avp_def {
	uint32_t code;
	uint32_t vendor;
	const char *name;
	enum avp_kind kind;
};

/*
 * The AVPs the plugins use. Each is looked up by code and vendor; one
 * missing from the loaded dictionaries is defined with this name. Sh's
 * User-Data (702) is "Sh-User-Data" here because Cx's (606) already owns
 * the name; likewise Sh's Sequence-Number.
 */
static const struct avp_def avps[] = {
	/* TS 29.229 6.3 */
	{ 600, DIA_VENDOR_3GPP, "Visited-Network-Identifier", OCTETS },
	{ 601, DIA_VENDOR_3GPP, "Public-Identity", UTF8 },
	{ 602, DIA_VENDOR_3GPP, "Server-Name", UTF8 },
	{ 603, DIA_VENDOR_3GPP, "Server-Capabilities", GROUP },
	{ 604, DIA_VENDOR_3GPP, "Mandatory-Capability", U32 },
	{ 605, DIA_VENDOR_3GPP, "Optional-Capability", U32 },
	{ 606, DIA_VENDOR_3GPP, "User-Data", OCTETS },
	{ 607, DIA_VENDOR_3GPP, "SIP-Number-Auth-Items", U32 },
	{ 608, DIA_VENDOR_3GPP, "SIP-Authentication-Scheme", UTF8 },
	{ 609, DIA_VENDOR_3GPP, "SIP-Authenticate", OCTETS },
	{ 610, DIA_VENDOR_3GPP, "SIP-Authorization", OCTETS },
	{ 611, DIA_VENDOR_3GPP, "SIP-Authentication-Context", OCTETS },
	{ 612, DIA_VENDOR_3GPP, "SIP-Auth-Data-Item", GROUP },
	{ 613, DIA_VENDOR_3GPP, "SIP-Item-Number", U32 },
	{ 614, DIA_VENDOR_3GPP, "Server-Assignment-Type", I32 },
	{ 615, DIA_VENDOR_3GPP, "Deregistration-Reason", GROUP },
	{ 616, DIA_VENDOR_3GPP, "Reason-Code", I32 },
	{ 617, DIA_VENDOR_3GPP, "Reason-Info", UTF8 },
	{ 618, DIA_VENDOR_3GPP, "Charging-Information", GROUP },
	{ 619, DIA_VENDOR_3GPP, "Primary-Event-Charging-Function-Name",
	  OCTETS },
	{ 620, DIA_VENDOR_3GPP, "Secondary-Event-Charging-Function-Name",
	  OCTETS },
	{ 621, DIA_VENDOR_3GPP, "Primary-Charging-Collection-Function-Name",
	  OCTETS },
	{ 622, DIA_VENDOR_3GPP, "Secondary-Charging-Collection-Function-Name",
	  OCTETS },
	{ 623, DIA_VENDOR_3GPP, "User-Authorization-Type", I32 },
	{ 624, DIA_VENDOR_3GPP, "User-Data-Already-Available", I32 },
	{ 625, DIA_VENDOR_3GPP, "Confidentiality-Key", OCTETS },
	{ 626, DIA_VENDOR_3GPP, "Integrity-Key", OCTETS },
	{ 628, DIA_VENDOR_3GPP, "Supported-Features", GROUP },
	{ 629, DIA_VENDOR_3GPP, "Feature-List-ID", U32 },
	{ 630, DIA_VENDOR_3GPP, "Feature-List", U32 },
	{ 632, DIA_VENDOR_3GPP, "Associated-Identities", GROUP },
	{ 633, DIA_VENDOR_3GPP, "Originating-Request", I32 },
	{ 634, DIA_VENDOR_3GPP, "Wildcarded-Public-Identity", UTF8 },
	{ 635, DIA_VENDOR_3GPP, "SIP-Digest-Authenticate", GROUP },
	{ 636, DIA_VENDOR_3GPP, "Wildcarded-IMPU", UTF8 },
	{ 637, DIA_VENDOR_3GPP, "UAR-Flags", U32 },
	{ 638, DIA_VENDOR_3GPP, "Loose-Route-Indication", I32 },
	{ 639, DIA_VENDOR_3GPP, "SCSCF-Restoration-Info", GROUP },
	{ 640, DIA_VENDOR_3GPP, "Path", OCTETS },
	{ 641, DIA_VENDOR_3GPP, "Contact", OCTETS },
	{ 642, DIA_VENDOR_3GPP, "Subscription-Info", GROUP },
	{ 643, DIA_VENDOR_3GPP, "Call-ID-SIP-Header", OCTETS },
	{ 647, DIA_VENDOR_3GPP, "Associated-Registered-Identities", GROUP },
	{ 648, DIA_VENDOR_3GPP, "Multiple-Registration-Indication", I32 },
	{ 649, DIA_VENDOR_3GPP, "Restoration-Info", GROUP },
	{ 654, DIA_VENDOR_3GPP, "Initial-CSeq-Sequence-Number", U32 },
	{ 661, DIA_VENDOR_3GPP, "Registration-Time-Out", TIME },
	/* RFC 4740 9.5 (Digest-*) as TS 29.229 uses them */
	{ 104, 0, "Digest-Realm", UTF8 },
	{ 110, 0, "Digest-QoP", UTF8 },
	{ 111, 0, "Digest-Algorithm", UTF8 },
	{ 121, 0, "Digest-HA1", UTF8 },
	/* TS 29.329 6.3 */
	{ 700, DIA_VENDOR_3GPP, "User-Identity", GROUP },
	{ 701, DIA_VENDOR_3GPP, "MSISDN", OCTETS },
	{ 702, DIA_VENDOR_3GPP, "Sh-User-Data", OCTETS },
	{ 703, DIA_VENDOR_3GPP, "Data-Reference", I32 },
	{ 704, DIA_VENDOR_3GPP, "Service-Indication", OCTETS },
	{ 705, DIA_VENDOR_3GPP, "Subs-Req-Type", I32 },
	{ 706, DIA_VENDOR_3GPP, "Requested-Domain", I32 },
	{ 708, DIA_VENDOR_3GPP, "Identity-Set", I32 },
	{ 709, DIA_VENDOR_3GPP, "Expiry-Time", TIME },
	{ 710, DIA_VENDOR_3GPP, "Send-Data-Indication", I32 },
	{ 711, DIA_VENDOR_3GPP, "DSAI-Tag", OCTETS },
	{ 715, DIA_VENDOR_3GPP, "Repository-Data-ID", GROUP },
	{ 716, DIA_VENDOR_3GPP, "Sh-Sequence-Number", U32 },
};

static struct dict_object *app_objs[sizeof(apps) / sizeof(apps[0])];
static struct dict_object *vendor_3gpp;

static struct dict_object *avp_lookup(const struct avp_def *d);

/* ---- A small cache: AVP name -> dictionary object (loop thread) -------- */

#define NAME_SLOTS 512

struct name_slot {
	char name[64];
	struct dia_avpdef def;
};

static struct name_slot name_cache[NAME_SLOTS];

static unsigned name_hash(const char *s)
{
	unsigned h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct dict_object *avp_by_name(const char *name)
{
	struct dict_object *obj = NULL;

	/* Our names first, by code: the Debian dictionaries name a few of
	 * these AVPs differently. */
	for (size_t k = 0; !obj && k < sizeof(avps) / sizeof(avps[0]); k++)
		if (strcmp(avps[k].name, name) == 0)
			obj = avp_lookup(&avps[k]);
	if (!obj)
		fd_dict_search(fd_g_config->cnf_dict, DICT_AVP,
			       AVP_BY_NAME_ALL_VENDORS, name, &obj, ENOENT);
	return obj;
}

const struct dia_avpdef *dia_dict_avp(const char *name)
{
	static struct dia_avpdef uncached;
	unsigned i = name_hash(name) % NAME_SLOTS;
	struct dict_avp_data data;
	struct dict_object *obj;

	for (unsigned n = 0; n < NAME_SLOTS; n++, i = (i + 1) % NAME_SLOTS) {
		if (!name_cache[i].def.obj)
			break;
		if (strcmp(name_cache[i].name, name) == 0)
			return &name_cache[i].def;
	}
	obj = avp_by_name(name);
	if (!obj || fd_dict_getval(obj, &data) != 0)
		return NULL;
	if (strlen(name) >= sizeof(name_cache[0].name) ||
	    name_cache[i].def.obj) {
		uncached = (struct dia_avpdef){ obj, data.avp_code,
						data.avp_vendor,
						data.avp_basetype };
		return &uncached;
	}
	strcpy(name_cache[i].name, name);
	name_cache[i].def =
		(struct dia_avpdef){ obj, data.avp_code, data.avp_vendor,
				     data.avp_basetype };
	return &name_cache[i].def;
}

/* ---- Applications and commands ----------------------------------------- */

struct dict_object *dia_dict_vendor_3gpp(void)
{
	return vendor_3gpp;
}

struct dict_object *dia_dict_app(uint32_t app_id)
{
	for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++)
		if (apps[i].id == app_id)
			return app_objs[i];
	return NULL;
}

const char *dia_app_name(uint32_t app_id)
{
	for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++)
		if (apps[i].id == app_id)
			return apps[i].short_name;
	return "?";
}

int dia_app_parse(const char *name, uint32_t *app_id)
{
	for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++) {
		if (strcmp(apps[i].short_name, name) == 0) {
			*app_id = apps[i].id;
			return 0;
		}
	}
	return -ENOENT;
}

struct dict_object *dia_dict_cmd(uint32_t cmd_code, bool request)
{
	struct dict_object *obj = NULL;
	command_code_t code = cmd_code;

	fd_dict_search(fd_g_config->cnf_dict, DICT_COMMAND,
		       request ? CMD_BY_CODE_R : CMD_BY_CODE_A, &code, &obj,
		       ENOENT);
	return obj;
}

static int define_vendor(void)
{
	struct dict_vendor_data data = { DIA_VENDOR_3GPP, "3GPP" };
	vendor_id_t id = DIA_VENDOR_3GPP;

	if (fd_dict_search(fd_g_config->cnf_dict, DICT_VENDOR, VENDOR_BY_ID,
			   &id, &vendor_3gpp, ENOENT) == 0 &&
	    vendor_3gpp)
		return 0;
	return fd_dict_new(fd_g_config->cnf_dict, DICT_VENDOR, &data, NULL,
			   &vendor_3gpp)
		       ? -EINVAL
		       : 0;
}

static int define_apps(void)
{
	for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++) {
		struct dict_application_data data = {
			.application_id = apps[i].id,
			.application_name = (char *)apps[i].name,
		};
		application_id_t id = apps[i].id;

		if (fd_dict_search(fd_g_config->cnf_dict, DICT_APPLICATION,
				   APPLICATION_BY_ID, &id, &app_objs[i],
				   ENOENT) == 0 &&
		    app_objs[i])
			continue;
		if (fd_dict_new(fd_g_config->cnf_dict, DICT_APPLICATION, &data,
				vendor_3gpp, &app_objs[i]) != 0) {
			tnd_error("cannot define application %s", apps[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

static int define_cmd(const char *name, uint32_t code, bool request,
		      struct dict_object *app)
{
	struct dict_cmd_data data = {
		.cmd_code = code,
		.cmd_name = (char *)name,
		.cmd_flag_mask = CMD_FLAG_REQUEST | CMD_FLAG_PROXIABLE,
		.cmd_flag_val =
			CMD_FLAG_PROXIABLE | (request ? CMD_FLAG_REQUEST : 0),
	};

	if (dia_dict_cmd(code, request))
		return 0;
	if (fd_dict_new(fd_g_config->cnf_dict, DICT_COMMAND, &data, app,
			NULL) != 0) {
		tnd_error("cannot define command %s", name);
		return -EINVAL;
	}
	return 0;
}

static int define_cmds(void)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct dict_object *app = dia_dict_app(
			cmds[i].code <= DIA_CMD_PPR ? DIA_APP_CX : DIA_APP_SH);

		if (define_cmd(cmds[i].request, cmds[i].code, true, app) ||
		    define_cmd(cmds[i].answer, cmds[i].code, false, app))
			return -EINVAL;
	}
	/* Rx and Gx reuse commands of RFC 6733, 7155 and 4006. */
	static const uint32_t reused[] = { DIA_CMD_AAR, DIA_CMD_RAR,
					   DIA_CMD_CCR, DIA_CMD_ASR,
					   DIA_CMD_STR };
	for (size_t i = 0; i < sizeof(reused) / sizeof(reused[0]); i++) {
		if (!dia_dict_cmd(reused[i], true)) {
			tnd_error("command %u is not in the dictionary: load "
				  "dict_nasreq and dict_dcca",
				  reused[i]);
			return -ENOENT;
		}
	}
	return 0;
}

/* ---- AVPs missing from the loaded dictionaries ------------------------- */

static struct dict_object *type_named(const char *name)
{
	struct dict_object *type = NULL;

	fd_dict_search(fd_g_config->cnf_dict, DICT_TYPE, TYPE_BY_NAME, name,
		       &type, ENOENT);
	return type;
}

static struct dict_object *avp_lookup(const struct avp_def *d)
{
	struct dict_avp_request_ex req = { 0 };
	struct dict_object *obj = NULL;
	avp_code_t code = d->code;

	req.avp_vendor.vendor_id = d->vendor;
	req.avp_data.avp_code = d->code;
	if (d->vendor == 0)
		fd_dict_search(fd_g_config->cnf_dict, DICT_AVP, AVP_BY_CODE,
			       &code, &obj, ENOENT);
	else
		fd_dict_search(fd_g_config->cnf_dict, DICT_AVP, AVP_BY_STRUCT,
			       &req, &obj, ENOENT);
	return obj;
}

static bool avp_known(const struct avp_def *d)
{
	return avp_lookup(d) != NULL;
}

static int define_avp(const struct avp_def *d)
{
	static const enum dict_avp_basetype base[] = {
		[OCTETS] = AVP_TYPE_OCTETSTRING, [UTF8] = AVP_TYPE_OCTETSTRING,
		[U32] = AVP_TYPE_UNSIGNED32,	 [I32] = AVP_TYPE_INTEGER32,
		[U64] = AVP_TYPE_UNSIGNED64,	 [GROUP] = AVP_TYPE_GROUPED,
		[TIME] = AVP_TYPE_OCTETSTRING,
	};
	struct dict_avp_data data = {
		.avp_code = d->code,
		.avp_vendor = d->vendor,
		.avp_name = (char *)d->name,
		.avp_flag_mask = AVP_FLAG_VENDOR,
		.avp_flag_val = d->vendor ? AVP_FLAG_VENDOR : 0,
		.avp_basetype = base[d->kind],
	};
	struct dict_object *type = NULL;

	if (d->kind == UTF8)
		type = type_named("UTF8String");
	else if (d->kind == TIME)
		type = type_named("Time");
	if (fd_dict_new(fd_g_config->cnf_dict, DICT_AVP, &data, type, NULL) !=
	    0) {
		tnd_error("cannot define AVP %s (%u)", d->name, d->code);
		return -EINVAL;
	}
	tnd_debug("defined AVP %s (%u, vendor %u)", d->name, d->code,
		  d->vendor);
	return 0;
}

static int define_avps(void)
{
	unsigned added = 0;

	for (size_t i = 0; i < sizeof(avps) / sizeof(avps[0]); i++) {
		if (avp_known(&avps[i]))
			continue;
		if (define_avp(&avps[i]))
			return -EINVAL;
		added++;
	}
	tnd_info("dictionary: %u Cx/Sh AVPs added to the loaded ones", added);
	return 0;
}

/*
 * freeDiameter's base dictionary gives AAR and CCR the rules of RFC 7155
 * and RFC 4006, and the parser enforces them on every application that
 * reuses those command codes. Rx (TS 29.214) and Gx (TS 29.212) differ:
 * an Rx AAR has no Auth-Request-Type, a Gx CCR no Service-Context-Id, and
 * an answer may carry an Experimental-Result instead of a Result-Code.
 * Enforced, they refuse conformant requests with 5005 and drop such
 * answers without a word. Those rules become optional.
 */
struct relaxed_rule {
	uint32_t cmd;
	bool request;
	const char *avp;
};

static const struct relaxed_rule relaxed_rules[] = {
	{ DIA_CMD_AAR, true, "Auth-Request-Type" },
	{ DIA_CMD_AAR, false, "Auth-Request-Type" },
	{ DIA_CMD_AAR, false, "Result-Code" },
	{ DIA_CMD_CCR, true, "Service-Context-Id" },
	{ DIA_CMD_CCR, false, "Result-Code" },
};

static int relax_rule(const struct relaxed_rule *r)
{
	struct dict_rule_request q = { dia_dict_cmd(r->cmd, r->request), NULL };
	struct dict_object *rule = NULL;
	struct dict_rule_data data;

	if (!q.rule_parent ||
	    fd_dict_search(fd_g_config->cnf_dict, DICT_AVP, AVP_BY_NAME,
			   r->avp, &q.rule_avp, ENOENT) ||
	    fd_dict_search(fd_g_config->cnf_dict, DICT_RULE,
			   RULE_BY_AVP_AND_PARENT, &q, &rule, ENOENT) ||
	    fd_dict_getval(rule, &data))
		return 0; /* no such rule: nothing to relax */
	if (data.rule_position == RULE_OPTIONAL)
		return 0;
	data.rule_position = RULE_OPTIONAL;
	data.rule_order = 0;
	data.rule_min = 0;
	if (fd_dict_delete(rule) ||
	    fd_dict_new(fd_g_config->cnf_dict, DICT_RULE, &data,
			q.rule_parent, NULL)) {
		tnd_error("dictionary: cannot make %s optional in command %u",
			  r->avp, r->cmd);
		return -EINVAL;
	}
	return 0;
}

static int relax_rules(void)
{
	for (size_t i = 0; i < sizeof(relaxed_rules) / sizeof(relaxed_rules[0]);
	     i++)
		if (relax_rule(&relaxed_rules[i]))
			return -EINVAL;
	return 0;
}

int dia_dict_setup(void)
{
	if (define_vendor() || define_apps() || define_cmds() ||
	    define_avps() || relax_rules())
		return -EINVAL;
	return 0;
}
