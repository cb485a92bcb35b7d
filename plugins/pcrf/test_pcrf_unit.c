/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_pcrf_unit: the pieces that need no node: the SDP facts rxclient
 * makes Media-Component-Descriptions of (TS 29.214 Annex B), the UE
 * address forms of the binding (Framed-IP-Address, Framed-IPv6-Prefix of
 * RFC 3162 2.3), the PCC rule store round trip and codec bit rates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcrf_int.h"
#include "rxclient.h"
#include "tap.h"

/* What the plugin's files expect from pcrf.c. */
const struct tnd_host_api *pcrf_host;
const struct diameter_service *dia;
struct pcrf_cfg *pcrf_cfg;
struct pcrf_counters pcrf_cnt;

static void quiet_log(const char *c, enum tnd_log_level l, const char *f, int n,
		      const char *fmt, ...)
{
	(void)c, (void)l, (void)f, (void)n, (void)fmt;
}

static const struct tnd_host_api host = { .size = sizeof(host),
					  .log = quiet_log };

static const char offer[] =
	"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
	"t=0 0\r\na=sendrecv\r\n"
	"m=audio 40000 RTP/AVP 96 0\r\nb=AS:41\r\na=rtpmap:96 AMR/8000\r\n"
	"a=sendonly\r\n"
	"m=video 40002 RTP/AVP 97\r\nc=IN IP4 10.0.0.9\r\na=rtcp-mux\r\n"
	"m=text 0 RTP/AVP 98\r\n"
	"m=audio 40010 RTP/AVP 0\r\na=rtcp:40020\r\n";

static void sdp_tests(void)
{
	struct rxc_sdp sdp = { 0 };

	ok(rxc_sdp_parse(offer, strlen(offer), &sdp) == 0 && sdp.n == 4,
	   "an SDP with four m= lines parses (%u)", sdp.n);
	ok(strcmp(sdp.m[0].type, "audio") == 0 && sdp.m[0].port == 40000 &&
		   sdp.m[0].as_kbps == 41 && sdp.m[0].dir == RXC_SENDONLY,
	   "audio: port, b=AS, a=sendonly over the session's sendrecv");
	ok(sdp.m[0].rtcp_port == 40001 &&
		   strcmp(sdp.m[0].addr, "10.0.0.1") == 0,
	   "RTCP on port + 1, the session's c= address");
	ok_contains(sdp.m[0].lines, "a=rtpmap:96 AMR/8000",
		    "the media's lines are kept for Codec-Data");
	ok(sdp.m[1].rtcp_port == 40002 &&
		   strcmp(sdp.m[1].addr, "10.0.0.9") == 0 &&
		   sdp.m[1].dir == RXC_SENDRECV,
	   "video: rtcp-mux, its own c= address");
	ok(sdp.m[2].port == 0 && sdp.m[2].rtcp_port == 0,
	   "a rejected stream has port 0");
	ok(sdp.m[3].rtcp_port == 40020, "a=rtcp gives the RTCP port");
	ok(rxc_sdp_parse("v=0\r\ns=-\r\n", 10, &sdp) != 0,
	   "an SDP without media is refused");
	ok(rxc_sdp_parse("m=audio", 7, &sdp) == 0 && sdp.n == 1,
	   "a truncated SDP does not overrun");
}

static void address_tests(void)
{
	const uint8_t v4[4] = { 10, 45, 0, 1 };
	const uint8_t v6[10] = { 0,    64,   0x20, 0x01, 0x0d,
				 0xb8, 0x00, 0x00, 0x00, 0x01 };
	const uint8_t v6_host[18] = { 0, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,
				      1, 0,  0,	   0,	 0,    0,    0, 0, 1 };
	const uint8_t v6_bad[4] = { 0, 129, 0x20, 0x01 };
	char a[64], b[64];

	ok(pcrf_ipv4_text(v4, 4, a, sizeof(a)) == 0 &&
		   strcmp(a, "10.45.0.1") == 0,
	   "Framed-IP-Address to text");
	ok(pcrf_ipv4_text(v4, 3, a, sizeof(a)) != 0,
	   "a Framed-IP-Address of 3 bytes is refused");
	ok(pcrf_ipv6_text(v6, sizeof(v6), a, sizeof(a)) == 0 &&
		   strcmp(a, "2001:db8:0:1::/64") == 0,
	   "Framed-IPv6-Prefix to text (%s)", a);
	ok(pcrf_ipv6_text(v6_host, sizeof(v6_host), b, sizeof(b)) == 0 &&
		   strcmp(a, b) == 0,
	   "bits past the prefix length do not change the key");
	ok(pcrf_ipv6_text(v6_bad, sizeof(v6_bad), a, sizeof(a)) != 0,
	   "a prefix length over 128 is refused");
	ok(pcrf_ipv6_text(v6, 1, a, sizeof(a)) != 0,
	   "a truncated prefix is refused");
}

static void store_tests(void)
{
	char path[] = "/tmp/test_pcrf_unit.XXXXXX", wal[sizeof(path) + 4];
	int fd = mkstemp(path);
	struct pcrf_gx *gx = calloc(1, sizeof(*gx));
	struct pcrf_rx *rx = calloc(1, sizeof(*rx));
	struct pcrf_rule rule = { .name = "r7-1",
				  .mc_number = 1,
				  .qci = 1,
				  .arp = 2,
				  .mbr_ul = 41000,
				  .mbr_dl = 41000,
				  .gbr_ul = 41000,
				  .gbr_dl = 41000,
				  .nflows = 2,
				  .flow_status = 2 };
	struct pcrf_rule *back = NULL;
	struct pcrf_rx *found;

	close(fd);
	snprintf(rule.flows[0], PCRF_FLOW_MAX, "permit out 17 from a to b 1");
	snprintf(rule.flows[1], PCRF_FLOW_MAX, "permit in 17 from b to a 2");
	snprintf(gx->sid, sizeof(gx->sid), "gx;1");
	snprintf(gx->ipv4, sizeof(gx->ipv4), "10.45.0.1");
	snprintf(rx->sid, sizeof(rx->sid), "rx;1");
	snprintf(rx->gx_sid, sizeof(rx->gx_sid), "gx;1");
	rx->seq = 7;
	ok(pcrf_store_open(path) == 0, "the store opens");
	pcrf_rx_set_rules(rx, &rule, 1);
	pcrf_gx_add(gx);
	pcrf_rx_add(rx);
	pcrf_store_gx_put(gx);
	pcrf_store_rx_put(rx);
	pcrf_store_close();
	pcrf_sess_clear();
	ok(pcrf_gx_by_ue("10.45.0.1", NULL) == NULL, "the tables are empty");
	ok(pcrf_store_open(path) == 0 && pcrf_store_load() == 0,
	   "the store opens again and loads");
	ok(pcrf_gx_by_ue("10.45.0.1", NULL) != NULL,
	   "the IP-CAN session is back, bound to its address");
	found = pcrf_rule_owner("r7-1", &back);
	ok(found && back && back->mbr_dl == 41000 && back->nflows == 2 &&
		   strcmp(back->flows[1], "permit in 17 from b to a 2") == 0,
	   "the rule is back whole, found by its name");
	ok(pcrf_next_seq() == 8, "rule names go on after the stored ones");
	pcrf_store_close();
	pcrf_sess_clear();
	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
}

int main(void)
{
	struct pcrf_cfg cfg = { .codec_bitrates = (char *)"PCMU:80 AMR:41" };

	pcrf_host = &host;
	pcrf_cfg = &cfg;
	tap_plan(23);
	sdp_tests();
	address_tests();
	store_tests();
	ok(pcrf_codec_bps("AMR") == 41000 && pcrf_codec_bps("amr") == 41000,
	   "codec bit rates, any case");
	ok(pcrf_codec_bps("AMR-WB") == 0, "AMR is not a prefix of AMR-WB");
	return tap_done();
}
