/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcscf_secagree.c - security agreement (RFC 3329, TS 33.203 7, TS 24.229
 * 5.2.2.1): the UE lists the mechanisms it has in Security-Client, the
 * P-CSCF answers with the ones it offers in the 401's Security-Server,
 * and the UE's next requests echo them in Security-Verify.
 *
 * Mechanisms offered here: those of `sec_mechanisms` the UE also lists.
 * "tls" needs a TLS listener in the sip plugin: the UE registers again
 * over TLS, and the Authorization we pass on says so (integrity-protected
 * tls-pending, then tls-yes, pcscf_register.c). "ipsec-3gpp" is never
 * offered: it needs ESP security associations in the kernel (xfrm),
 * which this project's machines refuse, and the SA set-up of TS 33.203
 * 7.4 (SPIs, protected ports, keys from CK/IK) is not written. The kernel
 * is probed at start so the log says which of the two stops it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "pcscf_int.h"

static bool ipsec_available;

/* One netlink request to NETLINK_XFRM; 0 when the kernel accepted it. */
static int xfrm_request(int fd, void *msg, size_t len)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 1 };
	char buf[1024];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, msg, len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) != (ssize_t)len)
		return -errno;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < (ssize_t)sizeof(*nh))
		return -EIO;
	if (nh->nlmsg_type == NLMSG_ERROR)
		return ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
	return 0;
}

/* An rtattr holding an xfrm_algo (name, key) after the SA info. */
static size_t put_algo(char *at, unsigned short type, const char *name,
		       unsigned key_bytes)
{
	struct rtattr *rta = (struct rtattr *)at;
	struct xfrm_algo *alg = RTA_DATA(rta);

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(sizeof(*alg) + key_bytes);
	snprintf(alg->alg_name, sizeof(alg->alg_name), "%s", name);
	alg->alg_key_len = key_bytes * 8;
	memset(alg->alg_key, 0x5a, key_bytes);
	return RTA_ALIGN(rta->rta_len);
}

/*
 * Can this kernel hold an ESP security association (TS 33.203 7.4)? Add
 * one between two loopback addresses (hmac-sha1, null cipher) and take it
 * away again: a kernel without xfrm/ESP refuses the first step.
 */
static bool probe_xfrm(void)
{
	char msg[512] = { 0 };
	struct nlmsghdr *nh = (struct nlmsghdr *)msg;
	struct xfrm_usersa_info *sa = NLMSG_DATA(nh);
	struct {
		struct nlmsghdr nh;
		struct xfrm_usersa_id id;
	} del = { 0 };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);
	size_t len = NLMSG_LENGTH(sizeof(*sa));
	int rc;

	if (fd < 0)
		return false;
	nh->nlmsg_type = XFRM_MSG_NEWSA;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	sa->id.daddr.a4 = htonl(0x7f000001);
	sa->saddr.a4 = htonl(0x7f000001);
	sa->id.spi = htonl(0x7a3d0001);
	sa->id.proto = IPPROTO_ESP;
	sa->family = AF_INET;
	sa->mode = XFRM_MODE_TRANSPORT;
	sa->lft.soft_byte_limit = sa->lft.hard_byte_limit = XFRM_INF;
	sa->lft.soft_packet_limit = sa->lft.hard_packet_limit = XFRM_INF;
	len = NLMSG_ALIGN(len);
	len += put_algo(msg + len, XFRMA_ALG_AUTH, "hmac(sha1)", 20);
	len += put_algo(msg + len, XFRMA_ALG_CRYPT, "ecb(cipher_null)", 0);
	nh->nlmsg_len = (unsigned)len;
	rc = xfrm_request(fd, msg, len);
	if (rc == 0) {
		del.nh.nlmsg_len = sizeof(del);
		del.nh.nlmsg_type = XFRM_MSG_DELSA;
		del.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		del.id.daddr.a4 = sa->id.daddr.a4;
		del.id.spi = sa->id.spi;
		del.id.family = AF_INET;
		del.id.proto = IPPROTO_ESP;
		xfrm_request(fd, &del, sizeof(del));
	}
	close(fd);
	return rc == 0;
}

static bool offered(const char *mech)
{
	char list[256], *save = NULL, *w;

	ims_fmt(list, sizeof(list), "%s", pcscf_cfg->sec_mechanisms);
	for (w = strtok_r(list, " ,\t", &save); w;
	     w = strtok_r(NULL, " ,\t", &save))
		if (strcasecmp(w, mech) == 0)
			return true;
	return false;
}

int pcscf_secagree_init(void)
{
	if (!offered("ipsec-3gpp"))
		return 0;
	/* offered only where SAs could be made and are (not yet: below) */
	ipsec_available = false;
	if (!probe_xfrm())
		tnd_notice("sec-agree: ipsec-3gpp unavailable: this kernel "
			   "keeps no xfrm security associations; not offered");
	else
		tnd_notice("sec-agree: ipsec-3gpp unavailable: the kernel has "
			   "xfrm, but this P-CSCF does not set up IPsec "
			   "security associations; not offered");
	return 0;
}

static bool required(const struct ims_msg *req, const char *hdr)
{
	const char *line;
	char elem[64];

	for (unsigned i = 0; (line = ims_msg_get(req, hdr, i)); i++) {
		const char *p = line;

		while (ims_list_next(&p, elem, sizeof(elem)))
			if (strcasecmp(elem, "sec-agree") == 0)
				return true;
	}
	return false;
}

int pcscf_secagree_register(const struct ims_msg *req, struct ims_buf *hdrs,
			    char *mech, size_t mech_size)
{
	const char *line;
	char elem[IMS_HDR_MAX], name[32];
	bool must = required(req, "Require") || required(req, "Proxy-Require");
	bool any = false;

	mech[0] = '\0';
	for (unsigned i = 0; (line = ims_msg_get(req, "Security-Client", i));
	     i++) {
		const char *p = line;

		while (ims_list_next(&p, elem, sizeof(elem))) {
			size_t n = strcspn(elem, "; \t");

			if (ims_fmt(name, sizeof(name), "%.*s", (int)n, elem))
				continue;
			if (!offered(name) ||
			    (strcasecmp(name, "ipsec-3gpp") == 0 &&
			     !ipsec_available))
				continue;
			/* RFC 3329 2.3.1: ours, with a preference */
			ims_buf_printf(hdrs, "%s%s;q=0.%d", any ? ", " : "",
				       name, any ? 1 : 5);
			if (!any)
				ims_fmt(mech, mech_size, "%s", name);
			any = true;
		}
	}
	if (must && !any) {
		tnd_info("sec-agree required but no mechanism in common: 494");
		return 494;
	}
	return 0;
}

int pcscf_secagree_verify(const struct pcscf_ue *ue, const struct ims_msg *req)
{
	/* RFC 3329 2.3.1 step 5: a UE that agreed a mechanism sends
	 * Security-Verify; one without it has not gone through us */
	if (ue->sec_mech && !ims_msg_get(req, "Security-Verify", 0))
		return 494;
	return 0;
}
