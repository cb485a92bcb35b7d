/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ims_util: the text helpers the CSCFs share (URIs, header and
 * Digest parameters, lists, base64, MD5, the hash table).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "ims_hash.h"
#include "ims_util.h"

static void test_uris(void)
{
	char out[256];

	ok(ims_uri_of("\"Bob, Jr\" <sip:bob@ims.lab;transport=udp>;tag=12", out,
		      sizeof(out)) == 0 &&
		   strcmp(out, "sip:bob@ims.lab;transport=udp") == 0,
	   "uri of a name-addr: %s", out);
	ok(ims_uri_of("sip:bob@ims.lab;tag=12", out, sizeof(out)) == 0 &&
		   strcmp(out, "sip:bob@ims.lab") == 0,
	   "uri of an addr-spec stops at its header parameters");
	ok(ims_hparam("<sip:a@b;lr>;tag=xyz;expires=60", "expires", out,
		      sizeof(out)) == 0 &&
		   strcmp(out, "60") == 0,
	   "header parameter after the URI");
	ok(ims_hparam("<sip:a@b;tag=no>", "tag", out, sizeof(out)) == -ENOENT,
	   "a URI parameter is no header parameter");
	ok(ims_hparam("<sip:a@b>;+sip.instance=\"<urn:uuid:1>\"",
		      "+sip.instance", out, sizeof(out)) == 0 &&
		   strcmp(out, "<urn:uuid:1>") == 0,
	   "quoted header parameter");
	ok(ims_uparam("sip:scscf.ims.lab:6060;lr;odi=ab12", "odi", out,
		      sizeof(out)) == 0 &&
		   strcmp(out, "ab12") == 0,
	   "URI parameter");
	ok(ims_uparam("sip:x@y;lr", "lr", out, sizeof(out)) == 0 && !out[0],
	   "URI flag parameter");
	ok(ims_strip_tag("<sip:a@b>;tag=1;x=2", out, sizeof(out)) == 0 &&
		   strcmp(out, "<sip:a@b>;x=2") == 0,
	   "tag stripped, other parameters kept: %s", out);
	ok(ims_aor("sip:Alice@IMS.Lab:5060;transport=udp", out, sizeof(out)) ==
			   0 &&
		   strcmp(out, "sip:Alice@ims.lab") == 0,
	   "address of record: %s", out);
	ok(ims_aor("tel:+15551234;phone-context=x", out, sizeof(out)) == 0 &&
		   strcmp(out, "tel:+15551234") == 0,
	   "tel address of record: %s", out);
	ok(ims_aor("sip:+15551234;npdi@ims.lab;user=phone", out, sizeof(out)) ==
			   0 &&
		   strcmp(out, "sip:+15551234;npdi@ims.lab") == 0,
	   "user part with parameters: %s", out);
	ok(ims_aor("mailto:x@y", out, sizeof(out)) == -EINVAL, "not a SIP URI");
	ok(ims_uri_hop("sip:scscf.ims.lab:6060;lr", out, sizeof(out)) == 0 &&
		   strcmp(out, "udp:scscf.ims.lab:6060") == 0,
	   "next hop of a URI: %s", out);
	ok(ims_uri_hop("sip:bob@127.0.0.1;transport=TCP", out, sizeof(out)) ==
			   0 &&
		   strcmp(out, "tcp:127.0.0.1:5060") == 0,
	   "default port and transport: %s", out);
	ok(ims_uri_user("sip:+1555;npdi@ims.lab", out, sizeof(out)) == 0 &&
		   strcmp(out, "+1555") == 0,
	   "user of a URI: %s", out);
	ok(ims_uri_host("sip:bob@IMS.lab:5060", out, sizeof(out)) == 0 &&
		   strcmp(out, "ims.lab") == 0,
	   "host of a URI: %s", out);
}

static void test_lists(void)
{
	const char *v = "<sip:a@b;lr>, \"x,y\" <sip:c@d>;p=1 ,<sip:e@f>";
	const char *p = v;
	char e[128];
	int n = 0;
	bool right = true;

	while (ims_list_next(&p, e, sizeof(e))) {
		n++;
		if (n == 2)
			right &= strcmp(e, "\"x,y\" <sip:c@d>;p=1") == 0;
	}
	ok(n == 3 && right, "a list split outside quotes and brackets");
}

static void test_auth(void)
{
	const char *a = "Digest username=\"alice@ims.lab\", realm=\"ims.lab\", "
			"nonce=\"AbC+/=\", uri=\"sip:ims.lab\", "
			"response=\"\", auts=\"xyz\", nc=00000001, qop=auth, "
			"integrity-protected=\"no\"";
	char v[128];

	ok(ims_auth_param(a, "username", v, sizeof(v)) == 0 &&
		   strcmp(v, "alice@ims.lab") == 0,
	   "Digest username");
	ok(ims_auth_param(a, "nonce", v, sizeof(v)) == 0 &&
		   strcmp(v, "AbC+/=") == 0,
	   "Digest nonce with base64 characters");
	ok(ims_auth_param(a, "response", v, sizeof(v)) == 0 && !v[0],
	   "empty response");
	ok(ims_auth_param(a, "nc", v, sizeof(v)) == 0 &&
		   strcmp(v, "00000001") == 0,
	   "unquoted nc");
	ok(ims_auth_param(a, "qop", v, sizeof(v)) == 0 &&
		   strcmp(v, "auth") == 0,
	   "unquoted qop");
	ok(ims_auth_param(a, "integrity-protected", v, sizeof(v)) == 0 &&
		   strcmp(v, "no") == 0,
	   "integrity-protected");
	ok(ims_auth_param(a, "cnonce", v, sizeof(v)) == -ENOENT,
	   "absent parameter");
	ok(ims_auth_param(a, "uri", v, sizeof(v)) == 0 &&
		   strcmp(v, "sip:ims.lab") == 0,
	   "uri, not a part of 'username'");
}

static void test_codecs(void)
{
	uint8_t in[32], out[32];
	char b64[64], md5[33], tok[17];
	int n;

	for (int i = 0; i < 32; i++)
		in[i] = (uint8_t)(i * 37 + 1);
	ok(ims_b64_encode(in, 32, b64, sizeof(b64)) == 0 && strlen(b64) == 44,
	   "base64 of RAND||AUTN is 44 characters");
	n = ims_b64_decode(b64, out, sizeof(out));
	ok(n == 32 && memcmp(in, out, 32) == 0, "base64 round trip");
	ok(ims_b64_decode("abc", out, sizeof(out)) == -EINVAL,
	   "base64 of a wrong length");
	ims_md5_hex(md5, "abc", (size_t)3, NULL);
	ok(strcmp(md5, "900150983cd24fb0d6963f7d28e17f72") == 0,
	   "MD5 of 'abc' (RFC 1321)");
	ims_md5_hex(md5, "a", (size_t)1, "bc", (size_t)2, NULL);
	ok(strcmp(md5, "900150983cd24fb0d6963f7d28e17f72") == 0,
	   "MD5 over pieces");
	ims_token(tok, sizeof(tok));
	ok(strlen(tok) == 16 &&
		   strspn(tok, "0123456789abcdefghijklmnopqrstuvwxyz") == 16,
	   "token");
}

static void test_hash(void)
{
	struct ims_hash h = { 0 };
	char key[32];
	int values[1000], found = 0;

	for (int i = 0; i < 1000; i++) {
		values[i] = i;
		snprintf(key, sizeof(key), "k%d", i);
		ims_hash_put(&h, key, &values[i]);
	}
	for (int i = 0; i < 1000; i++) {
		int *v;

		snprintf(key, sizeof(key), "k%d", i);
		v = ims_hash_get(&h, key);
		found += v && *v == i;
	}
	ok(found == 1000 && h.count == 1000, "1000 keys put and found");
	ok(ims_hash_del(&h, "k500") == &values[500] &&
		   !ims_hash_get(&h, "k500") && h.count == 999,
	   "a key removed");
	ims_hash_clear(&h);
	ok(h.count == 0 && !ims_hash_get(&h, "k1"), "cleared");
}

int main(void)
{
	tap_plan(34);
	test_uris();
	test_lists();
	test_auth();
	test_codecs();
	test_hash();
	return tap_done();
}
