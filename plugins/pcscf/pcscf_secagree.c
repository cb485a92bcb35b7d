/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcscf_secagree.c - security agreement (RFC 3329, TS 33.203 7, TS 24.229
 * 5.2.2.1): the UE lists the mechanisms it has in Security-Client, the
 * P-CSCF answers with the ones it offers in the 401's Security-Server,
 * and the UE's next requests echo them in Security-Verify.
 *
 * Mechanisms offered here: those of `sec_mechanisms` the UE also lists.
 * "ipsec-3gpp" needs ESP security associations in the kernel (xfrm); on a
 * kernel that refuses them (no xfrm, as in this project's test machines)
 * it is reported unavailable once and never offered. "tls" needs a TLS
 * listener in the sip plugin.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <sys/socket.h>

#include "pcscf_int.h"

static bool ipsec_available;

/*
 * Can this kernel hold an ESP security association? Ask for the SA
 * counts over NETLINK_XFRM: without xfrm the socket or the request
 * fails.
 */
static bool probe_xfrm(void)
{
	struct {
		struct nlmsghdr nh;
		uint32_t flags;
	} req = { 0 };
	char buf[512];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	bool ok = false;
	ssize_t n;

	if (fd < 0)
		return false;
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = XFRM_MSG_GETSADINFO;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) == (ssize_t)sizeof(req)) {
		struct timeval tv = { .tv_sec = 1 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		n = recv(fd, buf, sizeof(buf), 0);
		ok = n >= (ssize_t)sizeof(struct nlmsghdr) &&
		     ((struct nlmsghdr *)buf)->nlmsg_type != NLMSG_ERROR;
	}
	close(fd);
	return ok;
}

static bool offered(const char *mech)
{
	const char *p = pcscf_cfg->sec_mechanisms;
	char elem[32];

	while (p && ims_list_next(&p, elem, sizeof(elem))) {
		char *sp = elem + strcspn(elem, " \t");

		*sp = '\0';
		if (strcasecmp(elem, mech) == 0)
			return true;
	}
	return false;
}

int pcscf_secagree_init(void)
{
	if (!offered("ipsec-3gpp"))
		return 0;
	ipsec_available = probe_xfrm();
	if (!ipsec_available)
		tnd_notice("sec-agree: ipsec-3gpp unavailable: this kernel "
			   "keeps no xfrm security associations; not offered");
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
