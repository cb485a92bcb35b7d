// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tandem-aka - the AKA operator tool: computes a Milenage authentication
 * vector (3GPP TS 35.206, TS 33.102 6.3.2) or checks a re-synchronisation
 * token AUTS (TS 33.102 6.3.5) from values given on the command line.
 *
 * Output is NAME=hex lines on stdout.  Exit status: 0 done, 1 AUTS whose
 * MAC-S does not verify, 2 bad usage (one line on stderr), 3 internal
 * failure (libcrypto, or stdout not writable).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hss_milenage.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define PROG "tandem-aka"

enum exit_status {
	EXIT_DONE = 0,
	EXIT_MAC_MISMATCH = 1,
	EXIT_USAGE = 2,
	EXIT_INTERNAL = 3,
};

enum long_only_option {
	OPT_AUTS = 256,
	OPT_VERSION,
};

/* Bits of aka_args.given, one per value option. */
enum given {
	GIVEN_K = 1 << 0,
	GIVEN_OP = 1 << 1,
	GIVEN_OPC = 1 << 2,
	GIVEN_RAND = 1 << 3,
	GIVEN_SQN = 1 << 4,
	GIVEN_AMF = 1 << 5,
	GIVEN_AUTS = 1 << 6,
};

struct aka_args {
	unsigned int given;
	uint8_t k[HSS_K_LEN];
	uint8_t op[HSS_OP_LEN];
	uint8_t opc[HSS_OP_LEN];
	uint8_t rand[HSS_RAND_LEN];
	uint8_t sqn[HSS_SQN_LEN];
	uint8_t amf[HSS_AMF_LEN];
	uint8_t auts[HSS_AUTS_LEN];
};

/* Every option that takes a value takes one hex string of fixed size. */
static const struct hex_option {
	int key;	  /* getopt_long's return value */
	const char *name; /* as the user reads it in errors */
	unsigned int flag;
	size_t offset;
	size_t len;
} hex_options[] = {
    {'k', "-k (K)", GIVEN_K, offsetof(struct aka_args, k), HSS_K_LEN},
    {'o', "-o (OP)", GIVEN_OP, offsetof(struct aka_args, op), HSS_OP_LEN},
    {'c', "-c (OPc)", GIVEN_OPC, offsetof(struct aka_args, opc), HSS_OP_LEN},
    {'r', "-r (RAND)", GIVEN_RAND, offsetof(struct aka_args, rand),
     HSS_RAND_LEN},
    {'s', "-s (SQN)", GIVEN_SQN, offsetof(struct aka_args, sqn), HSS_SQN_LEN},
    {'a', "-a (AMF)", GIVEN_AMF, offsetof(struct aka_args, amf), HSS_AMF_LEN},
    {OPT_AUTS, "--auts (AUTS)", GIVEN_AUTS, offsetof(struct aka_args, auts),
     HSS_AUTS_LEN},
};

#define N_HEX_OPTIONS (sizeof(hex_options) / sizeof(hex_options[0]))

static const struct option long_options[] = {
    {"key", required_argument, NULL, 'k'},
    {"op", required_argument, NULL, 'o'},
    {"opc", required_argument, NULL, 'c'},
    {"rand", required_argument, NULL, 'r'},
    {"sqn", required_argument, NULL, 's'},
    {"amf", required_argument, NULL, 'a'},
    {"auts", required_argument, NULL, OPT_AUTS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static const char usage_text[] =
    "Usage: " PROG " -k K (-o OP | -c OPc) -s SQN [-a AMF] [-r RAND]\n"
    "       " PROG " -k K (-o OP | -c OPc) -r RAND --auts AUTS\n"
    "Computes a Milenage authentication vector (3GPP TS 35.206,\n"
    "TS 33.102 6.3.2), or checks a re-synchronisation token AUTS\n"
    "(TS 33.102 6.3.5).  Every value is hex, of exactly the size shown.\n"
    "\n"
    "  -k, --key K      subscriber key K, 32 hex digits\n"
    "  -o, --op OP      operator variant OP, 32 hex digits\n"
    "  -c, --opc OPc    OPc instead of OP, 32 hex digits\n"
    "  -r, --rand RAND  challenge, 32 hex digits (default: random)\n"
    "  -s, --sqn SQN    sequence number, 12 hex digits\n"
    "  -a, --amf AMF    authentication management field, 4 hex digits\n"
    "                   (default 8000)\n"
    "      --auts AUTS  AUTS from the UE, 28 hex digits: print SQN_MS and\n"
    "                   MAC_S instead of a vector; needs -r\n"
    "  -h, --help       print this text\n"
    "      --version    print the version\n"
    "\n"
    "Vector output: RAND= OPC= MAC_A= MAC_S= XRES= CK= IK= AK= AK_S= AUTN=\n"
    "AUTS output:   SQN_MS= MAC_S=  (MAC_S is the expected MAC-S)\n"
    "Exit status: 0 done, 1 AUTS MAC-S mismatch, 2 bad usage,\n"
    "3 internal error.\n";

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* One line on stderr, then the usage exit status. */
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static const struct hex_option *find_hex_option(int key)
{
	size_t i;

	for (i = 0; i < N_HEX_OPTIONS; i++)
		if (hex_options[i].key == key)
			return &hex_options[i];
	return NULL;
}

static int parse_hex_option(const struct hex_option *opt, const char *arg,
			    struct aka_args *args)
{
	size_t n = strlen(arg);
	size_t good = strspn(arg, "0123456789abcdefABCDEF");
	unsigned char bad = (unsigned char)arg[good];

	if (args->given & opt->flag)
		return usage_error("%s given twice", opt->name);
	if (good < n && isprint(bad))
		return usage_error(
		    "%s: '%c' at position %zu is not a hex digit", opt->name,
		    bad, good + 1);
	if (good < n)
		return usage_error(
		    "%s: byte 0x%02x at position %zu is not a hex digit",
		    opt->name, bad, good + 1);
	if (n != 2 * opt->len)
		return usage_error(
		    "%s: needs %zu hex digits (%zu bytes), got %zu", opt->name,
		    2 * opt->len, opt->len, n);
	if (hss_hex_parse(arg, (uint8_t *)args + opt->offset, opt->len))
		return usage_error("%s: not valid hex", opt->name);
	args->given |= opt->flag;
	return EXIT_DONE;
}

static int unknown_option(char **argv)
{
	if (optopt > 0 && optopt < 256)
		return usage_error("unknown option '-%c' (see --help)", optopt);
	return usage_error("unknown option '%s' (see --help)",
			   argv[optind - 1]);
}

static int missing_value(char **argv)
{
	const struct hex_option *opt = find_hex_option(optopt);

	if (opt)
		return usage_error("%s needs a value", opt->name);
	return usage_error("'%s' needs a value", argv[optind - 1]);
}

#define PARSE_GO_ON (-1)

/* PARSE_GO_ON, or the exit status (--help and --version exit 0). */
static int parse_options(int argc, char **argv, struct aka_args *args)
{
	const struct hex_option *opt;
	int c, rc;

	opterr = 0; /* every error is our one line */
	while ((c = getopt_long(argc, argv, ":k:o:c:r:s:a:h", long_options,
				NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return EXIT_DONE;
		}
		if (c == OPT_VERSION) {
			printf("%s (tandem) %s\n", PROG, PACKAGE_VERSION);
			return EXIT_DONE;
		}
		if (c == ':')
			return missing_value(argv);
		opt = find_hex_option(c);
		if (!opt)
			return unknown_option(argv);
		rc = parse_hex_option(opt, optarg, args);
		if (rc != EXIT_DONE)
			return rc;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	return PARSE_GO_ON;
}

/* The combinations of options that make sense, one message each. */
static int check_combination(struct aka_args *args)
{
	unsigned int given = args->given;

	if (!(given & GIVEN_K))
		return usage_error("-k (K) is required");
	if ((given & GIVEN_OP) && (given & GIVEN_OPC))
		return usage_error(
		    "-o (OP) and -c (OPc) exclude each other: give one");
	if (!(given & (GIVEN_OP | GIVEN_OPC)))
		return usage_error("-o (OP) or -c (OPc) is required");
	if (given & GIVEN_AUTS) {
		if (!(given & GIVEN_RAND))
			return usage_error("--auts needs -r (RAND): the RAND "
					   "of the failed challenge");
		if (given & (GIVEN_SQN | GIVEN_AMF))
			return usage_error(
			    "--auts takes no -s or -a: SQN comes from AUTS, "
			    "AMF is 0000 (TS 33.102 6.3.3)");
		return EXIT_DONE;
	}
	if (!(given & GIVEN_SQN))
		return usage_error("-s (SQN) is required");
	if (!(given & GIVEN_AMF)) {
		args->amf[0] = 0x80; /* the usual AMF of lab SIMs */
		args->amf[1] = 0x00;
	}
	return EXIT_DONE;
}

static int internal_error(const char *what, int rc)
{
	fprintf(stderr, PROG ": %s failed: %s\n", what, strerror(-rc));
	return EXIT_INTERNAL;
}

static void print_hex(const char *name, const uint8_t *bytes, size_t len)
{
	char text[2 * HSS_K_LEN + 1];

	hss_hex_format(bytes, len, text, sizeof(text));
	printf("%s=%s\n", name, text);
}

static int print_vector(const struct aka_args *args)
{
	struct hss_aka_vector vec;
	uint8_t mac_a[HSS_MAC_LEN], mac_s[HSS_MAC_LEN];
	uint8_t ak[HSS_AK_LEN], ak_s[HSS_AK_LEN];
	int rc;

	rc = hss_milenage_f1(args->k, args->opc, args->rand, args->sqn,
			     args->amf, mac_a, mac_s);
	if (!rc)
		rc = hss_milenage_f2345(args->k, args->opc, args->rand, NULL,
					NULL, NULL, ak);
	if (!rc)
		rc = hss_milenage_f5star(args->k, args->opc, args->rand, ak_s);
	if (!rc)
		rc = hss_milenage_vector(args->k, args->opc, args->rand,
					 args->sqn, args->amf, &vec);
	if (rc)
		return internal_error("Milenage", rc);
	print_hex("RAND", vec.rand, HSS_RAND_LEN);
	print_hex("OPC", args->opc, HSS_OP_LEN);
	print_hex("MAC_A", mac_a, HSS_MAC_LEN);
	print_hex("MAC_S", mac_s, HSS_MAC_LEN);
	print_hex("XRES", vec.xres, HSS_RES_LEN);
	print_hex("CK", vec.ck, HSS_CK_LEN);
	print_hex("IK", vec.ik, HSS_IK_LEN);
	print_hex("AK", ak, HSS_AK_LEN);
	print_hex("AK_S", ak_s, HSS_AK_LEN);
	print_hex("AUTN", vec.autn, HSS_AUTN_LEN);
	return EXIT_DONE;
}

static int print_auts_check(const struct aka_args *args)
{
	uint8_t sqn_ms[HSS_SQN_LEN], xmac_s[HSS_MAC_LEN];
	char want[2 * HSS_MAC_LEN + 1], got[2 * HSS_MAC_LEN + 1];
	int rc;

	rc = hss_milenage_auts_check(args->k, args->opc, args->rand, args->auts,
				     sqn_ms, xmac_s);
	if (rc && rc != -EBADMSG)
		return internal_error("Milenage", rc);
	print_hex("SQN_MS", sqn_ms, HSS_SQN_LEN);
	print_hex("MAC_S", xmac_s, HSS_MAC_LEN);
	if (rc == 0)
		return EXIT_DONE;
	hss_hex_format(xmac_s, HSS_MAC_LEN, want, sizeof(want));
	hss_hex_format(args->auts + HSS_SQN_LEN, HSS_MAC_LEN, got, sizeof(got));
	fprintf(stderr, PROG ": AUTS refused: MAC-S is %s, expected %s\n", got,
		want);
	return EXIT_MAC_MISMATCH;
}

static int run(struct aka_args *args)
{
	int rc;

	if (args->given & GIVEN_OP) {
		rc = hss_milenage_opc(args->k, args->op, args->opc);
		if (rc)
			return internal_error("OPc", rc);
	}
	if (args->given & GIVEN_AUTS)
		return print_auts_check(args);
	if (!(args->given & GIVEN_RAND) &&
	    RAND_bytes(args->rand, HSS_RAND_LEN) != 1) {
		fputs(PROG ": RAND_bytes failed: no random RAND\n", stderr);
		return EXIT_INTERNAL;
	}
	return print_vector(args);
}

int main(int argc, char **argv)
{
	struct aka_args args;
	int rc;

	memset(&args, 0, sizeof(args));
	rc = parse_options(argc, argv, &args);
	if (rc == PARSE_GO_ON) {
		rc = check_combination(&args);
		if (rc == EXIT_DONE)
			rc = run(&args);
	}
	OPENSSL_cleanse(&args, sizeof(args));
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": cannot write output: %s\n",
			strerror(errno));
		return EXIT_INTERNAL;
	}
	return rc;
}
