/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hss_prov.c - provisioning through tandemctl: subscribers, public
 * identities, service profiles, administrative de-registration, bulk
 * import and export (CSV or JSON).
 *
 * A subscriber is written as KEY=VALUE words (docs/hss.md):
 *   impu=sip:a@ims.lab,tel:+1555  k=HEX32  op=HEX32 | opc=HEX32  amf=HEX4
 *   sqn=N  password=TEXT  scheme=aka|digest  imsi=DIGITS  profile=NAME
 *   roaming=yes|no  mandatory_caps=1,2  optional_caps=3
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hss_int.h"

#define H hss_host

/* ---- KEY=VALUE into a subscriber ---------------------------------------- */

static bool is_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (; *s; s++)
		if (!strchr("0123456789abcdefABCDEF", *s))
			return false;
	return true;
}

static int set_hex(char *dst, size_t dst_size, const char *value, size_t len,
		   const char *key, char *why, size_t why_size)
{
	if (value[0] && !is_hex(value, len)) {
		snprintf(why, why_size, "%s must be %zu hex digits", key, len);
		return -EINVAL;
	}
	snprintf(dst, dst_size, "%s", value);
	for (char *p = dst; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0")) {
		*out = 0;
		return 0;
	}
	return -EINVAL;
}

static bool identity_ok(const char *id)
{
	return (strncmp(id, "sip:", 4) == 0 || strncmp(id, "sips:", 5) == 0 ||
		strncmp(id, "tel:", 4) == 0) &&
	       strlen(id) < HSS_ID_LEN && !strpbrk(id, " \t\r\n<>\"");
}

static void impu_defaults(struct hss_impu *u, const char *identity)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->identity, sizeof(u->identity), "%s", identity);
	u->irs = 1;
	u->can_register = 1;
	/* TS 23.003 13.5: a wildcard between '!' marks a wildcarded PSI. */
	if (strchr(identity, '!'))
		u->type = HSS_WILDCARDED_PSI;
}

static int set_impus(struct hss_subscriber *s, const char *list, char *why,
		     size_t size)
{
	char buf[4096], *save = NULL, *w;

	snprintf(buf, sizeof(buf), "%s", list);
	s->nimpus = 0;
	for (w = strtok_r(buf, ",;", &save); w;
	     w = strtok_r(NULL, ",;", &save)) {
		if (!identity_ok(w)) {
			snprintf(why, size, "'%s' is not a SIP or tel URI", w);
			return -EINVAL;
		}
		if (s->nimpus == sizeof(s->impus) / sizeof(s->impus[0])) {
			snprintf(why, size, "at most %zu IMPUs",
				 sizeof(s->impus) / sizeof(s->impus[0]));
			return -EINVAL;
		}
		impu_defaults(&s->impus[s->nimpus++], w);
	}
	return 0;
}

static int set_profile_all(struct hss_subscriber *s, const char *name,
			   char *why, size_t size)
{
	char *xml = NULL;

	if (name[0] && hss_profile_get(hss_db, name, &xml)) {
		snprintf(why, size, "no service profile '%s'", name);
		return -ENOENT;
	}
	free(xml);
	for (size_t i = 0; i < s->nimpus; i++)
		snprintf(s->impus[i].profile, sizeof(s->impus[i].profile), "%s",
			 name);
	return 0;
}

static int impu_kv(struct hss_impu *u, int argc, char **argv, char *why,
		   size_t size);

static const char *type_name(int type)
{
	return type == HSS_DISTINCT_PSI	    ? "psi"
	       : type == HSS_WILDCARDED_PSI ? "wildcard"
					    : "user";
}

/*
 * impu_attrs: per public identity, in the order of impu, separated by
 * ';': BARRED/IRS/TYPE/PROFILE, e.g. "no/1/user/mmtel;yes/2/user/". What
 * export writes, so that barring, implicit set, type and profile of each
 * identity survive an export and import.
 */
static int set_impu_attrs(struct hss_subscriber *s, const char *list, char *why,
			  size_t size)
{
	char buf[4096], *save = NULL, *entry;
	size_t i = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (entry = strtok_r(buf, ";", &save); entry;
	     entry = strtok_r(NULL, ";", &save), i++) {
		char words[4][96], *argv[4], *f = entry, *slash;
		static const char *const keys[] = { "barred", "irs", "type",
						    "profile" };
		int argc = 0;

		if (i >= s->nimpus) {
			snprintf(why, size,
				 "impu_attrs has more entries than "
				 "impu has identities");
			return -EINVAL;
		}
		for (int k = 0; k < 4 && f; k++) {
			slash = strchr(f, '/');
			if (slash)
				*slash = '\0';
			if (*f) { /* an empty field keeps the default */
				snprintf(words[argc], sizeof(words[argc]),
					 "%s=%s", keys[k], f);
				argv[argc] = words[argc];
				argc++;
			}
			f = slash ? slash + 1 : NULL;
		}
		if (impu_kv(&s->impus[i], argc, argv, why, size))
			return -EINVAL;
	}
	return 0;
}

static int apply_key(struct hss_subscriber *s, const char *key, const char *v,
		     char *why, size_t size)
{
	struct hss_impi *p = &s->impi;

	if (!strcmp(key, "impu_attrs"))
		return set_impu_attrs(s, v, why, size);

	if (!strcmp(key, "impu") || !strcmp(key, "impus"))
		return set_impus(s, v, why, size);
	if (!strcmp(key, "k"))
		return set_hex(p->k, sizeof(p->k), v, 32, key, why, size);
	if (!strcmp(key, "op"))
		return set_hex(p->op, sizeof(p->op), v, 32, key, why, size);
	if (!strcmp(key, "opc"))
		return set_hex(p->opc, sizeof(p->opc), v, 32, key, why, size);
	if (!strcmp(key, "amf"))
		return set_hex(p->amf, sizeof(p->amf), v, 4, key, why, size);
	if (!strcmp(key, "sqn")) {
		char *end;
		unsigned long long n = strtoull(v, &end, 0);

		if (!v[0] || *end || n >= (1ULL << 48)) {
			snprintf(why, size, "sqn must be a number below 2^48");
			return -EINVAL;
		}
		p->sqn = n;
		return 0;
	}
	if (!strcmp(key, "password")) {
		if (strlen(v) >= sizeof(p->password)) {
			snprintf(why, size, "password too long");
			return -EINVAL;
		}
		snprintf(p->password, sizeof(p->password), "%s", v);
		return 0;
	}
	if (!strcmp(key, "scheme")) {
		if (strcmp(v, "aka") && strcmp(v, "digest")) {
			snprintf(why, size, "scheme is aka or digest");
			return -EINVAL;
		}
		snprintf(p->scheme, sizeof(p->scheme), "%s", v);
		return 0;
	}
	if (!strcmp(key, "imsi")) {
		if (strlen(v) > 15 || strspn(v, "0123456789") != strlen(v)) {
			snprintf(why, size, "imsi is up to 15 digits");
			return -EINVAL;
		}
		snprintf(s->sub.imsi, sizeof(s->sub.imsi), "%s", v);
		return 0;
	}
	if (!strcmp(key, "profile"))
		return set_profile_all(s, v, why, size);
	if (!strcmp(key, "roaming")) {
		if (parse_bool(v, &s->sub.roaming_allowed)) {
			snprintf(why, size, "roaming is yes or no");
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "mandatory_caps") || !strcmp(key, "optional_caps")) {
		char *dst = key[0] == 'm' ? s->sub.mandatory_caps
					  : s->sub.optional_caps;

		if (strspn(v, "0123456789,") != strlen(v) ||
		    strlen(v) >= sizeof(s->sub.mandatory_caps)) {
			snprintf(why, size, "%s is a list of numbers", key);
			return -EINVAL;
		}
		snprintf(dst, sizeof(s->sub.mandatory_caps), "%s", v);
		return 0;
	}
	snprintf(why, size, "unknown key '%s'", key);
	return -EINVAL;
}

static int apply_words(struct hss_subscriber *s, int argc, char **argv,
		       char *why, size_t size)
{
	/* impu first: profile applies to the identities given. */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < argc; i++) {
			char key[64], *eq = strchr(argv[i], '=');
			bool is_impu;

			if (!eq || (size_t)(eq - argv[i]) >= sizeof(key)) {
				snprintf(why, size, "'%s' is not KEY=VALUE",
					 argv[i]);
				return -EINVAL;
			}
			memcpy(key, argv[i], (size_t)(eq - argv[i]));
			key[eq - argv[i]] = '\0';
			is_impu = !strcmp(key, "impu") || !strcmp(key, "impus");
			if (is_impu != (pass == 0))
				continue;
			if (apply_key(s, key, eq + 1, why, size))
				return -EINVAL;
		}
	}
	return 0;
}

static void subscriber_defaults(struct hss_subscriber *s, const char *impi)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->impi.name, sizeof(s->impi.name), "%s", impi);
	snprintf(s->impi.scheme, sizeof(s->impi.scheme), "aka");
	snprintf(s->impi.amf, sizeof(s->impi.amf), "8000");
}

static int check_subscriber(const struct hss_subscriber *s, char *why,
			    size_t size)
{
	const struct hss_impi *p = &s->impi;

	if (!s->nimpus)
		snprintf(why, size, "a subscriber needs impu=...");
	else if (!strcmp(p->scheme, "aka") &&
		 (!p->k[0] || !(p->op[0] || p->opc[0])))
		snprintf(why, size, "scheme aka needs k and op or opc");
	else if (p->op[0] && p->opc[0])
		snprintf(why, size, "give op or opc, not both");
	else if (!strcmp(p->scheme, "digest") && !p->password[0])
		snprintf(why, size, "scheme digest needs a password");
	else if (strlen(p->name) == 0 || strlen(p->name) >= HSS_ID_LEN ||
		 strpbrk(p->name, " \t\r\n<>\""))
		snprintf(why, size, "'%s' is not a private identity", p->name);
	else
		return 0;
	return -EINVAL;
}

/* Adds one subscriber; `why` says what is wrong. */
static int subscriber_add(const char *impi, int argc, char **argv, char *why,
			  size_t size)
{
	struct hss_subscriber s;
	int rc;

	subscriber_defaults(&s, impi);
	if (apply_words(&s, argc, argv, why, size) ||
	    check_subscriber(&s, why, size))
		return -EINVAL;
	rc = hss_subscriber_add(hss_db, &s);
	if (rc == -EEXIST)
		snprintf(why, size, "an identity of %s is already provisioned",
			 impi);
	else if (rc)
		snprintf(why, size, "the store refused it (%d)", rc);
	return rc;
}

/* ---- Replies ------------------------------------------------------------ */

static const char *state_name(int state)
{
	return state == HSS_REGISTERED	   ? "registered"
	       : state == HSS_UNREGISTERED ? "unregistered"
					   : "not-registered";
}

static void reply_subscriber(struct tnd_reply *r,
			     const struct hss_subscriber *s)
{
	const struct hss_impi *p = &s->impi;

	H->reply_record(r);
	H->reply_field(r, "impi", "%s", p->name);
	H->reply_field(r, "imsi", "%s", s->sub.imsi[0] ? s->sub.imsi : "-");
	H->reply_field(r, "scheme", "%s", p->scheme);
	H->reply_field(r, "k", "%s", p->k[0] ? "(set)" : "-");
	H->reply_field(r, "op", "%s", p->op[0] ? "(set)" : "-");
	H->reply_field(r, "opc", "%s", p->opc[0] ? "(set)" : "-");
	H->reply_field(r, "amf", "%s", p->amf);
	H->reply_field(r, "sqn", "%llu", (unsigned long long)p->sqn);
	H->reply_field(r, "password", "%s", p->password[0] ? "(set)" : "-");
	H->reply_field(r, "roaming", "%s",
		       s->sub.roaming_allowed ? "yes" : "no");
	H->reply_field(r, "scscf", "%s",
		       s->sub.scscf_name[0] ? s->sub.scscf_name : "-");
	for (size_t i = 0; i < s->nimpus; i++) {
		const struct hss_impu *u = &s->impus[i];

		H->reply_record(r);
		H->reply_field(r, "impu", "%s", u->identity);
		H->reply_field(r, "state", "%s", state_name(u->reg_state));
		H->reply_field(r, "type", "%s",
			       u->type == HSS_WILDCARDED_PSI ? "wildcard-psi"
			       : u->type == HSS_DISTINCT_PSI ? "psi"
							     : "user");
		H->reply_field(r, "barred", "%s", u->barred ? "yes" : "no");
		H->reply_field_num(r, "irs", u->irs);
		H->reply_field(r, "profile", "%s",
			       u->profile[0] ? u->profile : "-");
	}
}

static int first_name(const struct hss_impi *impi, void *arg)
{
	snprintf(arg, HSS_ID_LEN, "%s", impi->name);
	return 1;
}

/* IMPI, or the IMPI of an IMPU's subscription. */
static int load_by_identity(const char *id, struct hss_subscriber *s)
{
	char name[HSS_ID_LEN];
	struct hss_impu impu;

	if (hss_subscriber_load(hss_db, id, s) == 0)
		return 0;
	if (hss_impu_get(hss_db, id, &impu) ||
	    hss_impis_each(hss_db, impu.subscription_id, first_name, name) != 1)
		return -ENOENT;
	return hss_subscriber_load(hss_db, name, s);
}

/* ---- Commands ----------------------------------------------------------- */

static int cmd_add(struct tnd_reply *r, int argc, char **argv)
{
	char why[256];

	if (argc < 2)
		return H->reply_error(r, "usage: hss subscriber add IMPI "
					 "impu=URI[,URI] k=HEX op=HEX|opc=HEX "
					 "[KEY=VALUE...]");
	if (subscriber_add(argv[0], argc - 1, argv + 1, why, sizeof(why)))
		return H->reply_error(r, "%s: %s", argv[0], why);
	tnd_info("subscriber %s added", argv[0]);
	H->reply_text(r, "subscriber %s added\n", argv[0]);
	return 0;
}

static int cmd_show(struct tnd_reply *r, int argc, char **argv)
{
	struct hss_subscriber s;

	if (argc != 1)
		return H->reply_error(r, "usage: hss subscriber show IMPI");
	if (load_by_identity(argv[0], &s))
		return H->reply_error(r, "no subscriber %s", argv[0]);
	reply_subscriber(r, &s);
	return 0;
}

static int list_one(const struct hss_impi *impi, void *arg)
{
	struct tnd_reply *r = arg;
	struct hss_subscription sub;

	H->reply_record(r);
	H->reply_field(r, "impi", "%s", impi->name);
	H->reply_field(r, "scheme", "%s", impi->scheme);
	H->reply_field(r, "sqn", "%llu", (unsigned long long)impi->sqn);
	if (hss_subscription_get(hss_db, impi->subscription_id, &sub) == 0)
		H->reply_field(r, "scscf", "%s",
			       sub.scscf_name[0] ? sub.scscf_name : "-");
	return 0;
}

static int cmd_list(struct tnd_reply *r, int argc, char **argv)
{
	(void)argv;
	if (argc != 0)
		return H->reply_error(r, "usage: hss subscriber list");
	if (hss_impis_all(hss_db, list_one, r) < 0)
		return H->reply_error(r, "the store failed");
	return 0;
}

static bool registered(const struct hss_subscriber *s)
{
	for (size_t i = 0; i < s->nimpus; i++)
		if (s->impus[i].reg_state != HSS_NOT_REGISTERED)
			return true;
	return false;
}

static int cmd_delete(struct tnd_reply *r, int argc, char **argv)
{
	struct hss_subscriber s;

	if (argc != 1)
		return H->reply_error(r, "usage: hss subscriber delete IMPI");
	if (hss_subscriber_load(hss_db, argv[0], &s))
		return H->reply_error(r, "no subscriber %s", argv[0]);
	/* TS 29.228 6.1.3: the S-CSCF learns it with an RTR,
	 * PERMANENT_TERMINATION (0). */
	if (hss_cfg->rtr_on_delete && registered(&s) &&
	    hss_cx_send_rtr(&s, 0, "subscription removed") == 0)
		H->reply_text(r, "RTR sent to %s\n", s.sub.scscf_host);
	if (hss_subscriber_delete(hss_db, argv[0]))
		return H->reply_error(r, "the store failed");
	tnd_info("subscriber %s deleted", argv[0]);
	H->reply_text(r, "subscriber %s deleted\n", argv[0]);
	return 0;
}

static bool profile_changed(const struct hss_subscriber *a,
			    const struct hss_subscriber *b)
{
	for (size_t i = 0; i < a->nimpus; i++)
		if (strcmp(a->impus[i].profile, b->impus[i].profile))
			return true;
	return false;
}

static int cmd_set(struct tnd_reply *r, int argc, char **argv)
{
	struct hss_subscriber s, before;
	char why[256];

	if (argc < 2)
		return H->reply_error(r, "usage: hss subscriber set IMPI "
					 "KEY=VALUE...");
	if (hss_subscriber_load(hss_db, argv[0], &s))
		return H->reply_error(r, "no subscriber %s", argv[0]);
	before = s;
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "impu=", 5))
			return H->reply_error(r, "use 'hss impu add|delete' "
						 "to change identities");
	if (apply_words(&s, argc - 1, argv + 1, why, sizeof(why)))
		return H->reply_error(r, "%s: %s", argv[0], why);
	/* A new OP replaces the OPc, and the other way round. */
	if (s.impi.op[0] && s.impi.opc[0]) {
		if (strcmp(s.impi.op, before.impi.op))
			s.impi.opc[0] = '\0';
		else
			s.impi.op[0] = '\0';
	}
	if (check_subscriber(&s, why, sizeof(why)))
		return H->reply_error(r, "%s: %s", argv[0], why);
	if (hss_subscriber_update(hss_db, &s))
		return H->reply_error(r, "the store failed");
	if (profile_changed(&s, &before)) {
		if (registered(&s))
			hss_cx_send_ppr(&s);
		for (size_t i = 0; i < s.nimpus;
		     i++) /* InitialFilterCriteria */
			hss_sh_notify(s.impus[i].identity, 13, "", NULL);
	}
	H->reply_text(r, "subscriber %s updated\n", argv[0]);
	return 0;
}

/* ---- Public identities -------------------------------------------------- */

static int impu_kv(struct hss_impu *u, int argc, char **argv, char *why,
		   size_t size)
{
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const char *v = eq ? eq + 1 : "";
		size_t klen = eq ? (size_t)(eq - argv[i]) : 0;
		int ok = -1;

		if (klen == 6 && !strncmp(argv[i], "barred", 6))
			ok = parse_bool(v, &u->barred);
		else if (klen == 3 && !strncmp(argv[i], "irs", 3))
			ok = (u->irs = atoi(v)) > 0 ? 0 : -1;
		else if (klen == 7 && !strncmp(argv[i], "profile", 7)) {
			char *xml = NULL;

			ok = !v[0] || hss_profile_get(hss_db, v, &xml) == 0
				     ? 0
				     : -1;
			free(xml);
			snprintf(u->profile, sizeof(u->profile), "%s", v);
		} else if (klen == 4 && !strncmp(argv[i], "type", 4)) {
			ok = 0;
			if (!strcmp(v, "user"))
				u->type = HSS_PUBLIC_USER_IDENTITY;
			else if (!strcmp(v, "psi"))
				u->type = HSS_DISTINCT_PSI;
			else if (!strcmp(v, "wildcard"))
				u->type = HSS_WILDCARDED_PSI;
			else
				ok = -1;
		}
		if (ok) {
			snprintf(why, size,
				 "bad '%s' (barred=yes|no irs=N "
				 "profile=NAME type=user|psi|"
				 "wildcard)",
				 argv[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int cmd_impu_add(struct tnd_reply *r, int argc, char **argv)
{
	struct hss_impi impi;
	struct hss_impu u;
	char why[256];
	int rc;

	if (argc < 2)
		return H->reply_error(r, "usage: hss impu add IMPI IMPU "
					 "[KEY=VALUE...]");
	if (hss_impi_get(hss_db, argv[0], &impi))
		return H->reply_error(r, "no subscriber %s", argv[0]);
	if (!identity_ok(argv[1]))
		return H->reply_error(r, "'%s' is not a SIP or tel URI",
				      argv[1]);
	impu_defaults(&u, argv[1]);
	if (impu_kv(&u, argc - 2, argv + 2, why, sizeof(why)))
		return H->reply_error(r, "%s", why);
	rc = hss_impu_add(hss_db, impi.subscription_id, &u);
	if (rc)
		return H->reply_error(r,
				      rc == -EEXIST ? "%s already exists"
						    : "cannot add %s",
				      argv[1]);
	H->reply_text(r, "%s added to %s\n", argv[1], argv[0]);
	return 0;
}

static int cmd_impu_set(struct tnd_reply *r, int argc, char **argv)
{
	struct hss_impu u;
	char why[256];

	if (argc < 2)
		return H->reply_error(r,
				      "usage: hss impu set IMPU KEY=VALUE...");
	if (hss_impu_get(hss_db, argv[0], &u) || strcmp(u.identity, argv[0]))
		return H->reply_error(r, "no identity %s", argv[0]);
	if (impu_kv(&u, argc - 1, argv + 1, why, sizeof(why)))
		return H->reply_error(r, "%s", why);
	if (hss_impu_update(hss_db, &u))
		return H->reply_error(r, "the store failed");
	H->reply_text(r, "%s updated\n", argv[0]);
	return 0;
}

static int cmd_impu_delete(struct tnd_reply *r, int argc, char **argv)
{
	if (argc != 1)
		return H->reply_error(r, "usage: hss impu delete IMPU");
	if (hss_impu_delete(hss_db, argv[0]))
		return H->reply_error(r, "no identity %s", argv[0]);
	H->reply_text(r, "%s deleted\n", argv[0]);
	return 0;
}

/* ---- Service profiles --------------------------------------------------- */

static char *read_file(const char *path, size_t max)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;

	if (!f)
		return NULL;
	text = malloc(max + 1);
	n = text ? fread(text, 1, max + 1, f) : 0;
	fclose(f);
	if (!text || n > max) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

/* Leading and trailing blanks and newlines go: the XML is embedded. */
static void trim(char *text)
{
	size_t n = strlen(text), start = strspn(text, " \t\r\n");

	while (n > start && strchr(" \t\r\n", text[n - 1]))
		n--;
	memmove(text, text + start, n - start);
	text[n - start] = '\0';
}

struct profile_push {
	const char *name;
	int pushed;
};

static int push_if_uses(const struct hss_impi *impi, void *arg)
{
	struct profile_push *pp = arg;
	struct hss_subscriber s;

	if (hss_subscriber_load(hss_db, impi->name, &s) || !registered(&s))
		return 0;
	for (size_t i = 0; i < s.nimpus; i++) {
		if (!strcmp(s.impus[i].profile, pp->name)) {
			pp->pushed += hss_cx_send_ppr(&s) == 0;
			break;
		}
	}
	return 0;
}

static int cmd_profile_set(struct tnd_reply *r, int argc, char **argv)
{
	struct profile_push pp = { 0 };
	char why[256];
	char *xml;

	if (argc != 2)
		return H->reply_error(r, "usage: hss profile set NAME FILE "
					 "(InitialFilterCriteria XML)");
	if (strlen(argv[0]) >= 64)
		return H->reply_error(r, "profile name too long");
	xml = read_file(argv[1], 1 << 20);
	if (!xml)
		return H->reply_error(r, "cannot read %s", argv[1]);
	trim(xml);
	if (hss_ifc_validate(xml, why, sizeof(why))) {
		free(xml);
		return H->reply_error(r, "%s: invalid iFC: %s", argv[1], why);
	}
	if (hss_profile_put(hss_db, argv[0], xml)) {
		free(xml);
		return H->reply_error(r, "the store failed");
	}
	free(xml);
	/* TS 29.228 6.2.2: registered users of the profile get a PPR. */
	pp.name = argv[0];
	hss_impis_all(hss_db, push_if_uses, &pp);
	H->reply_text(r, "profile %s stored; %d PPR sent\n", argv[0],
		      pp.pushed);
	return 0;
}

static int cmd_profile_show(struct tnd_reply *r, int argc, char **argv)
{
	char *xml = NULL;

	if (argc != 1)
		return H->reply_error(r, "usage: hss profile show NAME");
	if (hss_profile_get(hss_db, argv[0], &xml))
		return H->reply_error(r, "no profile %s", argv[0]);
	H->reply_text(r, "%s\n", xml);
	free(xml);
	return 0;
}

static int profile_row(const char *name, const char *xml, void *arg)
{
	struct tnd_reply *r = arg;

	H->reply_record(r);
	H->reply_field(r, "profile", "%s", name);
	H->reply_field_num(r, "bytes", (long long)strlen(xml));
	return 0;
}

static int cmd_profile_list(struct tnd_reply *r, int argc, char **argv)
{
	(void)argc, (void)argv;
	hss_profiles_each(hss_db, profile_row, r);
	return 0;
}

static int cmd_profile_delete(struct tnd_reply *r, int argc, char **argv)
{
	if (argc != 1)
		return H->reply_error(r, "usage: hss profile delete NAME");
	if (hss_profile_delete(hss_db, argv[0]))
		return H->reply_error(r, "no profile %s", argv[0]);
	H->reply_text(r, "profile %s deleted\n", argv[0]);
	return 0;
}

/* ---- Operations --------------------------------------------------------- */

static int cmd_deregister(struct tnd_reply *r, int argc, char **argv)
{
	struct hss_subscriber s;
	int rc;

	if (argc < 1 || argc > 2)
		return H->reply_error(r, "usage: hss deregister IMPI [REASON]");
	if (hss_subscriber_load(hss_db, argv[0], &s))
		return H->reply_error(r, "no subscriber %s", argv[0]);
	if (!registered(&s) || !s.sub.scscf_host[0])
		return H->reply_error(r, "%s is not registered", argv[0]);
	/* Reason-Code 2 NEW_SERVER_ASSIGNED would move the user; the operator
	 * asks for a re-registration: REMOVE_S-CSCF (3) ends it here. */
	rc = hss_cx_send_rtr(&s, 3, argc == 2 ? argv[1] : "operator request");
	if (rc)
		return H->reply_error(r, "RTR not sent (%d)", rc);
	for (size_t i = 0; i < s.nimpus; i++)
		hss_irs_set_state(hss_db, s.sub.id, s.impus[i].irs,
				  HSS_NOT_REGISTERED);
	hss_subscription_assign(hss_db, s.sub.id, "", "");
	hss_restoration_clear(hss_db, s.impi.name); /* nothing to restore */
	H->reply_text(r, "RTR sent to %s\n", s.sub.scscf_host);
	return 0;
}

static int cmd_import(struct tnd_reply *r, int argc, char **argv)
{
	char why[512];
	long added = 0;

	if (argc != 1)
		return H->reply_error(r,
				      "usage: hss import FILE (.csv or .json)");
	if (hss_import_file(argv[0], &added, why, sizeof(why)))
		return H->reply_error(r, "%s (%ld added before it)", why,
				      added);
	H->reply_field_num(r, "imported", added);
	return 0;
}

static int cmd_export(struct tnd_reply *r, int argc, char **argv)
{
	long n = 0;
	const char *fmt;

	if (argc < 1 || argc > 2)
		return H->reply_error(r, "usage: hss export FILE [csv|json]");
	fmt = argc == 2 ? argv[1] : strstr(argv[0], ".json") ? "json" : "csv";
	if (strcmp(fmt, "csv") && strcmp(fmt, "json"))
		return H->reply_error(r, "format is csv or json");
	if (hss_export_file(argv[0], fmt, &n))
		return H->reply_error(r, "cannot write %s", argv[0]);
	H->reply_field_num(r, "exported", n);
	return 0;
}

static int cmd_hss_show(struct tnd_reply *r, int argc, char **argv)
{
	long impis, impus, regs;

	(void)argc, (void)argv;
	if (hss_store_counts(hss_db, &impis, &impus, &regs))
		return H->reply_error(r, "the store failed");
	H->reply_field(r, "store", "%s", hss_cfg->db_path);
	H->reply_field_num(r, "schema", hss_store_version(hss_db));
	H->reply_field_num(r, "impis", impis);
	H->reply_field_num(r, "impus", impus);
	H->reply_field_num(r, "registered", regs);
	return 0;
}

const struct tnd_command hss_commands[] = {
	{ "hss show", NULL, "store, schema version, identity counts",
	  cmd_hss_show },
	{ "hss subscriber add",
	  "IMPI impu=URI[,URI] k=HEX op=HEX|opc=HEX "
	  "[KEY=VALUE...]",
	  "provision a subscriber", cmd_add },
	{ "hss subscriber show", "IMPI", "a subscriber and its identities",
	  cmd_show },
	{ "hss subscriber list", NULL, "every private identity", cmd_list },
	{ "hss subscriber delete", "IMPI",
	  "remove a subscriber (RTR to its S-CSCF)", cmd_delete },
	{ "hss subscriber set", "IMPI KEY=VALUE...", "change a subscriber",
	  cmd_set },
	{ "hss impu add",
	  "IMPI IMPU [barred=yes] [irs=N] [profile=NAME] "
	  "[type=user|psi|wildcard]",
	  "add a public identity", cmd_impu_add },
	{ "hss impu set", "IMPU KEY=VALUE...", "change a public identity",
	  cmd_impu_set },
	{ "hss impu delete", "IMPU", "remove a public identity",
	  cmd_impu_delete },
	{ "hss profile set", "NAME FILE",
	  "store a service profile's iFC XML (validated; PPR to users)",
	  cmd_profile_set },
	{ "hss profile show", "NAME", "a service profile's iFC XML",
	  cmd_profile_show },
	{ "hss profile list", NULL, "service profiles", cmd_profile_list },
	{ "hss profile delete", "NAME", "remove a service profile",
	  cmd_profile_delete },
	{ "hss deregister", "IMPI [REASON]",
	  "administrative de-registration (RTR)", cmd_deregister },
	{ "hss import", "FILE", "add subscribers from CSV or JSON",
	  cmd_import },
	{ "hss export", "FILE [csv|json]", "write every subscriber",
	  cmd_export },
	TND_COMMAND_END
};

/* ---- Bulk: CSV and JSON ------------------------------------------------- */

static const char *const columns[] = {
	"impi",	    "impu",   "k",    "op",	 "opc",	    "amf",	 "sqn",
	"password", "scheme", "imsi", "profile", "roaming", "impu_attrs"
};
#define NCOLS (sizeof(columns) / sizeof(columns[0]))

/* One row's values as KEY=VALUE words, then add. */
static int add_row(char **values, char *why, size_t size)
{
	char words[NCOLS][1100];
	char *argv[NCOLS];
	int argc = 0;

	for (size_t c = 1; c < NCOLS; c++) {
		if (!values[c] || !values[c][0])
			continue;
		snprintf(words[argc], sizeof(words[argc]), "%s=%s", columns[c],
			 values[c]);
		argv[argc] = words[argc];
		argc++;
	}
	if (!values[0] || !values[0][0]) {
		snprintf(why, size, "a row without impi");
		return -EINVAL;
	}
	return subscriber_add(values[0], argc, argv, why, size);
}

static int import_csv(FILE *f, long *added, char *why, size_t size)
{
	char line[8192];
	long lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		char *values[NCOLS] = { 0 }, *p = line;
		size_t n = 0;
		char err[256];

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#' || !strncmp(line, "impi,", 5))
			continue;
		while (p && n < NCOLS) {
			values[n++] = p;
			p = strchr(p, ',');
			if (p)
				*p++ = '\0';
		}
		if (add_row(values, err, sizeof(err))) {
			snprintf(why, size, "line %ld: %s", lineno, err);
			return -EINVAL;
		}
		(*added)++;
	}
	return 0;
}

/*
 * JSON: an array of flat objects whose values are strings, numbers,
 * booleans or arrays of strings (impu). A small reader for exactly that.
 */
struct json {
	const char *p;
	char err[128];
};

static void ws(struct json *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static int json_string(struct json *j, char *out, size_t size)
{
	size_t n = 0;

	if (*j->p != '"')
		return -EINVAL;
	for (j->p++; *j->p && *j->p != '"'; j->p++) {
		char c = *j->p;

		if (c == '\\') {
			c = *++j->p;
			c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
			if (!c)
				return -EINVAL;
		}
		if (n + 1 >= size)
			return -ENOSPC;
		out[n++] = c;
	}
	if (*j->p != '"')
		return -EINVAL;
	j->p++;
	out[n] = '\0';
	return 0;
}

/* A value as text: arrays of strings joined with ','. */
static int json_value(struct json *j, char *out, size_t size)
{
	size_t n = 0;

	ws(j);
	if (*j->p == '"')
		return json_string(j, out, size);
	if (*j->p == '[') {
		j->p++;
		out[0] = '\0';
		for (ws(j); *j->p && *j->p != ']'; ws(j)) {
			char item[512];

			if (json_string(j, item, sizeof(item)))
				return -EINVAL;
			n += (size_t)snprintf(out + n, n < size ? size - n : 0,
					      "%s%s", n ? "," : "", item);
			if (n >= size)
				return -ENOSPC;
			ws(j);
			if (*j->p == ',')
				j->p++;
		}
		if (*j->p != ']')
			return -EINVAL;
		j->p++;
		return 0;
	}
	while (*j->p && strchr("0123456789-+.eEtruefalsn", *j->p) &&
	       n + 1 < size)
		out[n++] = *j->p++;
	out[n] = '\0';
	if (!strcmp(out, "true"))
		snprintf(out, size, "yes");
	else if (!strcmp(out, "false"))
		snprintf(out, size, "no");
	return n ? 0 : -EINVAL;
}

static int json_object(struct json *j, char values[NCOLS][1024])
{
	char key[64], value[1024];

	for (size_t c = 0; c < NCOLS; c++)
		values[c][0] = '\0';
	ws(j);
	if (*j->p++ != '{')
		return -EINVAL;
	for (ws(j); *j->p && *j->p != '}'; ws(j)) {
		size_t c;

		if (json_string(j, key, sizeof(key)))
			return -EINVAL;
		ws(j);
		if (*j->p++ != ':' || json_value(j, value, sizeof(value)))
			return -EINVAL;
		for (c = 0; c < NCOLS && strcmp(columns[c], key); c++)
			;
		if (c == NCOLS) {
			snprintf(j->err, sizeof(j->err), "unknown key '%s'",
				 key);
			return -EINVAL;
		}
		snprintf(values[c], sizeof(values[c]), "%s", value);
		ws(j);
		if (*j->p == ',')
			j->p++;
	}
	if (*j->p != '}')
		return -EINVAL;
	j->p++;
	return 0;
}

static int import_json(const char *text, long *added, char *why, size_t size)
{
	struct json j = { text, "" };
	char values[NCOLS][1024];
	char *ptrs[NCOLS];
	long index = 0;

	ws(&j);
	if (*j.p++ != '[') {
		snprintf(why, size, "JSON: expected an array of subscribers");
		return -EINVAL;
	}
	for (ws(&j); *j.p && *j.p != ']'; ws(&j), index++) {
		char err[256];

		if (json_object(&j, values)) {
			snprintf(why, size, "JSON: subscriber %ld: %s", index,
				 j.err[0] ? j.err : "cannot read it");
			return -EINVAL;
		}
		for (size_t c = 0; c < NCOLS; c++)
			ptrs[c] = values[c];
		if (add_row(ptrs, err, sizeof(err))) {
			snprintf(why, size, "subscriber %ld: %s", index, err);
			return -EINVAL;
		}
		(*added)++;
		ws(&j);
		if (*j.p == ',')
			j.p++;
	}
	return 0;
}

int hss_import_file(const char *path, long *added, char *why, size_t size)
{
	char *text;
	FILE *f;
	int rc;

	*added = 0;
	if (strstr(path, ".json")) {
		text = read_file(path, 64 << 20);
		if (!text) {
			snprintf(why, size, "cannot read %s", path);
			return -ENOENT;
		}
		rc = import_json(text, added, why, size);
		free(text);
		return rc;
	}
	f = fopen(path, "r");
	if (!f) {
		snprintf(why, size, "cannot read %s", path);
		return -ENOENT;
	}
	rc = import_csv(f, added, why, size);
	fclose(f);
	return rc;
}

struct export_ctx {
	FILE *f;
	bool json;
	long n;
};

static void json_str(FILE *f, const char *key, const char *v, bool comma)
{
	fprintf(f, "%s\"%s\":\"", comma ? "," : "", key);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', f);
		fputc(*v, f);
	}
	fputc('"', f);
}

static void impu_attrs_of(const struct hss_subscriber *s, char *out,
			  size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < s->nimpus && n < size; i++) {
		const struct hss_impu *u = &s->impus[i];

		n += (size_t)snprintf(out + n, size - n, "%s%s/%d/%s/%s",
				      i ? ";" : "", u->barred ? "yes" : "no",
				      u->irs, type_name(u->type), u->profile);
	}
}

static int export_one(const struct hss_impi *impi, void *arg)
{
	struct export_ctx *x = arg;
	struct hss_subscriber s;
	char impus[4096] = "", attrs[4096];
	size_t n = 0;

	if (hss_subscriber_load(hss_db, impi->name, &s))
		return 0;
	for (size_t i = 0; i < s.nimpus && n < sizeof(impus); i++)
		n += (size_t)snprintf(impus + n, sizeof(impus) - n, "%s%s",
				      i ? ";" : "", s.impus[i].identity);
	impu_attrs_of(&s, attrs, sizeof(attrs));
	if (!x->json) {
		fprintf(x->f, "%s,%s,%s,%s,%s,%s,%llu,%s,%s,%s,%s,%s,%s\n",
			s.impi.name, impus, s.impi.k, s.impi.op, s.impi.opc,
			s.impi.amf, (unsigned long long)s.impi.sqn,
			s.impi.password, s.impi.scheme, s.sub.imsi,
			s.nimpus ? s.impus[0].profile : "",
			s.sub.roaming_allowed ? "yes" : "no", attrs);
	} else {
		fprintf(x->f, "%s\n {", x->n ? "," : "");
		json_str(x->f, "impi", s.impi.name, false);
		fprintf(x->f, ",\"impu\":[");
		for (size_t i = 0; i < s.nimpus; i++)
			fprintf(x->f, "%s\"%s\"", i ? "," : "",
				s.impus[i].identity);
		fprintf(x->f, "]");
		json_str(x->f, "k", s.impi.k, true);
		json_str(x->f, "op", s.impi.op, true);
		json_str(x->f, "opc", s.impi.opc, true);
		json_str(x->f, "amf", s.impi.amf, true);
		fprintf(x->f, ",\"sqn\":%llu", (unsigned long long)s.impi.sqn);
		json_str(x->f, "password", s.impi.password, true);
		json_str(x->f, "scheme", s.impi.scheme, true);
		json_str(x->f, "imsi", s.sub.imsi, true);
		json_str(x->f, "profile", s.nimpus ? s.impus[0].profile : "",
			 true);
		fprintf(x->f, ",\"roaming\":%s",
			s.sub.roaming_allowed ? "true" : "false");
		json_str(x->f, "impu_attrs", attrs, true);
		fputc('}', x->f);
	}
	x->n++;
	return 0;
}

int hss_export_file(const char *path, const char *format, long *written)
{
	struct export_ctx x = { fopen(path, "w"), !strcmp(format, "json"), 0 };
	int rc;

	if (!x.f)
		return -errno;
	if (x.json)
		fputc('[', x.f);
	else
		fprintf(x.f, "impi,impu,k,op,opc,amf,sqn,password,scheme,imsi,"
			     "profile,roaming,impu_attrs\n");
	rc = hss_impis_all(hss_db, export_one, &x);
	if (x.json)
		fprintf(x.f, "\n]\n");
	if (fclose(x.f) != 0 && rc == 0)
		rc = -EIO;
	*written = x.n;
	return rc;
}
