// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_milenage.c - TAP test of hss_milenage against the 3GPP test data.
 *
 * Reads vector files (tab-separated, columns as in
 * ../shared/vectors/milenage.tsv) and checks, for every set, OPc and
 * f1, f1*, f2, f3, f4, f5, f5* (TS 35.206 against TS 35.207/35.208),
 * the AUTN and vector helpers (TS 33.102 6.3.2), an AUTS round trip and
 * the refusal of a corrupted AUTS (TS 33.102 6.3.3, 6.3.5).
 *
 * Files: the arguments if any; otherwise $MILENAGE_SHARED_TSV and
 * $MILENAGE_HSS_TSV, each defaulting to its place relative to $srcdir.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hss_milenage.h"

#define MAX_SETS 64
#define MAX_FILES 8
#define LINE_MAX_LEN 1024
#define CHECKS_PER_SET 11
#define UNIT_CHECKS 6

struct vec_set {
	const char *file; /* base name of the file it came from */
	char label[32];
	uint8_t k[HSS_K_LEN];
	uint8_t rand[HSS_RAND_LEN];
	uint8_t sqn[HSS_SQN_LEN];
	uint8_t amf[HSS_AMF_LEN];
	uint8_t op[HSS_OP_LEN];
	uint8_t opc[HSS_OP_LEN];
	uint8_t f1[HSS_MAC_LEN];
	uint8_t f1star[HSS_MAC_LEN];
	uint8_t f2[HSS_RES_LEN];
	uint8_t f3[HSS_CK_LEN];
	uint8_t f4[HSS_IK_LEN];
	uint8_t f5[HSS_AK_LEN];
	uint8_t f5star[HSS_AK_LEN];
};

/* The columns after "set", in the order of the shared file. */
static const struct column {
	const char *name;
	size_t offset;
	size_t len;
} columns[] = {
    {"K", offsetof(struct vec_set, k), HSS_K_LEN},
    {"RAND", offsetof(struct vec_set, rand), HSS_RAND_LEN},
    {"SQN", offsetof(struct vec_set, sqn), HSS_SQN_LEN},
    {"AMF", offsetof(struct vec_set, amf), HSS_AMF_LEN},
    {"OP", offsetof(struct vec_set, op), HSS_OP_LEN},
    {"OPc", offsetof(struct vec_set, opc), HSS_OP_LEN},
    {"f1", offsetof(struct vec_set, f1), HSS_MAC_LEN},
    {"f1star", offsetof(struct vec_set, f1star), HSS_MAC_LEN},
    {"f2", offsetof(struct vec_set, f2), HSS_RES_LEN},
    {"f3", offsetof(struct vec_set, f3), HSS_CK_LEN},
    {"f4", offsetof(struct vec_set, f4), HSS_IK_LEN},
    {"f5", offsetof(struct vec_set, f5), HSS_AK_LEN},
    {"f5star", offsetof(struct vec_set, f5star), HSS_AK_LEN},
};

#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))

/* The outcome of loading one file: a TAP line of its own. */
struct vec_file {
	const char *path;
	int n_sets;
	char error[256];
};

static struct vec_set sets[MAX_SETS];
static int n_sets;
static int test_number;
static int failures;

static void tap(int pass, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void tap(int pass, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", pass ? "ok" : "not ok", ++test_number);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!pass)
		failures++;
}

static void diag_bytes(const char *what, const uint8_t *bytes, size_t len)
{
	char text[2 * 32 + 1];

	if (hss_hex_format(bytes, len, text, sizeof(text)) == 0)
		printf("#   %-8s %s\n", what, text);
}

/* One TAP line comparing a computed value with the expected one. */
static void check_bytes(const struct vec_set *s, const char *what, int rc,
			const uint8_t *got, const uint8_t *want, size_t len)
{
	int pass = rc == 0 && memcmp(got, want, len) == 0;

	tap(pass, "%s set %s: %s", s->file, s->label, what);
	if (pass)
		return;
	if (rc)
		printf("#   returned %d\n", rc);
	diag_bytes("expected", want, len);
	diag_bytes("got", got, len);
}

/* Splits line at tabs in place; returns the number of fields. */
static int split_tabs(char *line, char **fields, int max)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		fields[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return line ? max + 1 : n;
}

static int check_header(char **fields)
{
	size_t i;

	for (i = 0; i < N_COLUMNS; i++)
		if (strcmp(fields[i + 1], columns[i].name) != 0)
			return -1;
	return 0;
}

static int parse_set(char **fields, struct vec_set *s, char *error,
		     size_t error_size)
{
	size_t i;

	if (strlen(fields[0]) >= sizeof(s->label)) {
		snprintf(error, error_size, "set label too long");
		return -1;
	}
	strcpy(s->label, fields[0]);
	for (i = 0; i < N_COLUMNS; i++) {
		uint8_t *dst = (uint8_t *)s + columns[i].offset;

		if (hss_hex_parse(fields[i + 1], dst, columns[i].len) != 0) {
			snprintf(error, error_size,
				 "set %s: column %s is not %zu bytes of hex",
				 s->label, columns[i].name, columns[i].len);
			return -1;
		}
	}
	return 0;
}

/* Parses one non-comment line; returns 0, or -1 with error filled in. */
static int load_line(const char *file, char *line, char *error,
		     size_t error_size)
{
	char *fields[N_COLUMNS + 1];
	int n;

	n = split_tabs(line, fields, (int)N_COLUMNS + 1);
	if (n != (int)N_COLUMNS + 1) {
		snprintf(error, error_size, "%d columns, expected %zu", n,
			 N_COLUMNS + 1);
		return -1;
	}
	if (strcmp(fields[0], "set") == 0) {
		if (check_header(fields) == 0)
			return 0;
		snprintf(error, error_size, "unexpected column names");
		return -1;
	}
	if (n_sets == MAX_SETS) {
		snprintf(error, error_size, "more than %d sets", MAX_SETS);
		return -1;
	}
	if (parse_set(fields, &sets[n_sets], error, error_size))
		return -1;
	sets[n_sets].file = file;
	n_sets++;
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void load_file(struct vec_file *vf)
{
	char line[LINE_MAX_LEN], error[200];
	int first = n_sets, line_no = 0;
	FILE *f;

	vf->error[0] = '\0';
	vf->n_sets = 0;
	f = fopen(vf->path, "r");
	if (!f) {
		snprintf(vf->error, sizeof(vf->error), "cannot open: %s",
			 strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line_no++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(vf->error, sizeof(vf->error),
				 "line %d: longer than %d bytes", line_no,
				 LINE_MAX_LEN - 2);
			break;
		}
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (load_line(base_name(vf->path), line, error,
			      sizeof(error))) {
			snprintf(vf->error, sizeof(vf->error), "line %d: %s",
				 line_no, error);
			break;
		}
	}
	fclose(f);
	vf->n_sets = n_sets - first;
	if (!vf->error[0] && vf->n_sets == 0)
		snprintf(vf->error, sizeof(vf->error), "no test set");
}

static void check_opc(const struct vec_set *s)
{
	uint8_t opc[HSS_OP_LEN] = {0};
	int rc = hss_milenage_opc(s->k, s->op, opc);

	check_bytes(s, "OPc = OP ^ E_K(OP)", rc, opc, s->opc, sizeof(opc));
}

static void check_f1(const struct vec_set *s)
{
	uint8_t mac_a[HSS_MAC_LEN] = {0}, mac_s[HSS_MAC_LEN] = {0};
	int rc = hss_milenage_f1(s->k, s->opc, s->rand, s->sqn, s->amf, mac_a,
				 mac_s);

	check_bytes(s, "f1 MAC-A", rc, mac_a, s->f1, sizeof(mac_a));
	check_bytes(s, "f1* MAC-S", rc, mac_s, s->f1star, sizeof(mac_s));
}

static void check_f2345(const struct vec_set *s)
{
	uint8_t res[HSS_RES_LEN] = {0}, ck[HSS_CK_LEN] = {0};
	uint8_t ik[HSS_IK_LEN] = {0}, ak[HSS_AK_LEN] = {0};
	uint8_t ak_s[HSS_AK_LEN] = {0};
	int rc;

	rc = hss_milenage_f2345(s->k, s->opc, s->rand, res, ck, ik, ak);
	check_bytes(s, "f2 RES", rc, res, s->f2, sizeof(res));
	check_bytes(s, "f3 CK", rc, ck, s->f3, sizeof(ck));
	check_bytes(s, "f4 IK", rc, ik, s->f4, sizeof(ik));
	check_bytes(s, "f5 AK", rc, ak, s->f5, sizeof(ak));
	rc = hss_milenage_f5star(s->k, s->opc, s->rand, ak_s);
	check_bytes(s, "f5* AK*", rc, ak_s, s->f5star, sizeof(ak_s));
}

/* AUTN and the quintet, against values composed here from the file. */
static void check_vector(const struct vec_set *s)
{
	struct hss_aka_vector vec, want;
	uint8_t autn[HSS_AUTN_LEN] = {0};
	int i, rc, rc2;

	memcpy(want.rand, s->rand, HSS_RAND_LEN);
	memcpy(want.xres, s->f2, HSS_RES_LEN);
	memcpy(want.ck, s->f3, HSS_CK_LEN);
	memcpy(want.ik, s->f4, HSS_IK_LEN);
	for (i = 0; i < HSS_SQN_LEN; i++)
		want.autn[i] = s->sqn[i] ^ s->f5[i];
	memcpy(want.autn + 6, s->amf, HSS_AMF_LEN);
	memcpy(want.autn + 8, s->f1, HSS_MAC_LEN);

	memset(&vec, 0, sizeof(vec));
	rc = hss_milenage_vector(s->k, s->opc, s->rand, s->sqn, s->amf, &vec);
	rc2 = hss_milenage_autn(s->k, s->opc, s->rand, s->sqn, s->amf, autn);
	if (!rc && memcmp(autn, want.autn, sizeof(autn)))
		rc = -EPROTO; /* the two AUTN helpers disagree */
	check_bytes(s, "AKA vector (RAND, XRES, CK, IK, AUTN)", rc ? rc : rc2,
		    (const uint8_t *)&vec, (const uint8_t *)&want, sizeof(vec));
}

/* AUTS built by hand, as a USIM would (TS 33.102 6.3.3). */
static int build_auts(const struct vec_set *s, uint8_t *auts)
{
	static const uint8_t amf_zero[HSS_AMF_LEN];
	uint8_t mac_s[HSS_MAC_LEN];
	int i, rc;

	rc = hss_milenage_f1(s->k, s->opc, s->rand, s->sqn, amf_zero, NULL,
			     mac_s);
	for (i = 0; i < HSS_SQN_LEN; i++)
		auts[i] = s->sqn[i] ^ s->f5star[i];
	memcpy(auts + HSS_SQN_LEN, mac_s, HSS_MAC_LEN);
	return rc;
}

static void check_auts_round_trip(const struct vec_set *s)
{
	uint8_t auts[HSS_AUTS_LEN], lib_auts[HSS_AUTS_LEN] = {0};
	uint8_t sqn_ms[HSS_SQN_LEN] = {0};
	int rc;

	rc = build_auts(s, auts);
	if (!rc)
		rc = hss_milenage_auts(s->k, s->opc, s->rand, s->sqn, lib_auts);
	if (!rc && memcmp(auts, lib_auts, sizeof(auts)))
		rc = -EPROTO; /* hss_milenage_auts builds another AUTS */
	if (!rc)
		rc = hss_milenage_auts_check(s->k, s->opc, s->rand, auts,
					     sqn_ms, NULL);
	check_bytes(s, "AUTS round trip recovers SQN_MS", rc, sqn_ms, s->sqn,
		    sizeof(sqn_ms));
}

/* A flipped bit in Conc(SQN_MS) or in MAC-S must fail MAC-S. */
static void check_auts_corrupted(const struct vec_set *s)
{
	uint8_t auts[HSS_AUTS_LEN], sqn_ms[HSS_SQN_LEN];
	int rc_sqn, rc_mac;

	build_auts(s, auts);
	auts[HSS_SQN_LEN - 1] ^= 0x01;
	rc_sqn =
	    hss_milenage_auts_check(s->k, s->opc, s->rand, auts, sqn_ms, NULL);
	auts[HSS_SQN_LEN - 1] ^= 0x01;
	auts[HSS_AUTS_LEN - 1] ^= 0x80;
	rc_mac =
	    hss_milenage_auts_check(s->k, s->opc, s->rand, auts, sqn_ms, NULL);
	tap(rc_sqn == -EBADMSG && rc_mac == -EBADMSG,
	    "%s set %s: corrupted AUTS refused", s->file, s->label);
	if (rc_sqn != -EBADMSG || rc_mac != -EBADMSG)
		printf("#   SQN bit flipped: %d, MAC-S bit flipped: %d\n",
		       rc_sqn, rc_mac);
}

static void check_set(const struct vec_set *s)
{
	check_opc(s);
	check_f1(s);
	check_f2345(s);
	check_vector(s);
	check_auts_round_trip(s);
	check_auts_corrupted(s);
}

static void check_hex_parse_ok(void)
{
	uint8_t out[3];
	int rc = hss_hex_parse("0aFf9B", out, sizeof(out));

	tap(rc == 0 && out[0] == 0x0a && out[1] == 0xff && out[2] == 0x9b,
	    "hex parse: mixed case accepted");
}

static void check_hex_parse_length(void)
{
	uint8_t out[2] = {0x5a, 0x5a};
	int short_rc = hss_hex_parse("abc", out, 2);
	int long_rc = hss_hex_parse("abcdef", out, 2);
	int empty_rc = hss_hex_parse("", out, 2);

	tap(short_rc == -ERANGE && long_rc == -ERANGE && empty_rc == -ERANGE &&
		out[0] == 0x5a && out[1] == 0x5a,
	    "hex parse: wrong length refused, output untouched");
}

static void check_hex_parse_garbage(void)
{
	static const char *const bad[] = {"0x12", "12 4", "zz12", "12g4",
					  "1234\n"};
	uint8_t out[2] = {0x5a, 0x5a};
	size_t i;
	int pass = 1;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (hss_hex_parse(bad[i], out, 2) != -EINVAL)
			pass = 0;
	tap(pass && out[0] == 0x5a && out[1] == 0x5a,
	    "hex parse: non-hex refused, output untouched");
}

static void check_hex_format(void)
{
	static const uint8_t in[] = {0x00, 0xab, 0x9f};
	char text[7], small[6];
	int rc = hss_hex_format(in, sizeof(in), text, sizeof(text));
	int small_rc = hss_hex_format(in, sizeof(in), small, sizeof(small));

	tap(rc == 0 && strcmp(text, "00ab9f") == 0 && small_rc == -ENOSPC,
	    "hex format: lower case, NUL, -ENOSPC when short");
}

static void check_null_arguments(void)
{
	uint8_t b[HSS_K_LEN] = {0}, out[HSS_K_LEN];
	int pass;

	pass = hss_milenage_opc(NULL, b, out) == -EINVAL &&
	       hss_milenage_f1(b, NULL, b, b, b, out, out) == -EINVAL &&
	       hss_milenage_f2345(b, b, NULL, out, out, out, out) == -EINVAL &&
	       hss_milenage_f5star(b, b, b, NULL) == -EINVAL &&
	       hss_milenage_autn(b, b, b, NULL, b, out) == -EINVAL &&
	       hss_milenage_vector(b, b, b, b, b, NULL) == -EINVAL &&
	       hss_milenage_auts(b, b, b, b, NULL) == -EINVAL &&
	       hss_milenage_auts_check(b, b, b, b, NULL, NULL) == -EINVAL &&
	       hss_hex_parse(NULL, out, 1) == -EINVAL &&
	       hss_hex_format(b, 1, NULL, 3) == -EINVAL;
	tap(pass, "NULL arguments give -EINVAL");
}

/* Optional outputs left NULL are neither written nor required. */
static void check_optional_outputs(void)
{
	const struct vec_set *s = &sets[0];
	uint8_t ik[HSS_IK_LEN] = {0};
	int rc = -1;

	if (n_sets > 0)
		rc = hss_milenage_f2345(s->k, s->opc, s->rand, NULL, NULL, ik,
					NULL);
	tap(n_sets > 0 && rc == 0 && memcmp(ik, s->f4, sizeof(ik)) == 0,
	    "f2345 with only IK requested");
}

static void run_unit_checks(void)
{
	check_hex_parse_ok();
	check_hex_parse_length();
	check_hex_parse_garbage();
	check_hex_format();
	check_null_arguments();
	check_optional_outputs();
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *value = getenv(name);

	return value && *value ? value : fallback;
}

int main(int argc, char **argv)
{
	static char shared_path[1024], hss_path[1024];
	struct vec_file files[MAX_FILES];
	const char *srcdir = env_or("srcdir", ".");
	int n_files = 0, i;

	if (argc > 1) {
		for (i = 1; i < argc && n_files < MAX_FILES; i++)
			files[n_files++].path = argv[i];
	} else {
		snprintf(shared_path, sizeof(shared_path),
			 "%s/../../../shared/vectors/milenage.tsv", srcdir);
		snprintf(hss_path, sizeof(hss_path), "%s/milenage-vectors.tsv",
			 srcdir);
		files[n_files++].path =
		    env_or("MILENAGE_SHARED_TSV", shared_path);
		files[n_files++].path = env_or("MILENAGE_HSS_TSV", hss_path);
	}
	for (i = 0; i < n_files; i++)
		load_file(&files[i]);

	printf("1..%d\n", n_files + n_sets * CHECKS_PER_SET + UNIT_CHECKS);
	for (i = 0; i < n_files; i++) {
		tap(!files[i].error[0], "load %s: %d sets", files[i].path,
		    files[i].n_sets);
		if (files[i].error[0])
			printf("#   %s\n", files[i].error);
	}
	for (i = 0; i < n_sets; i++)
		check_set(&sets[i]);
	run_unit_checks();
	return failures ? 1 : 0;
}
