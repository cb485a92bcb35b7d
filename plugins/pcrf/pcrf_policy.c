/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcrf_policy.c - policy rules from the config: one [policy NAME] section
 * per kind of media (and subscriber group), giving the QCI, ARP and
 * bandwidth bounds of the PCC rules made for it. With no [policy]
 * section the PCRF uses the standard set of TS 23.203 6.1.7: voice
 * QCI 1, video QCI 2, IMS signalling QCI 5.
 *
 * A media component takes the first policy, in config order, whose media
 * matches its Media-Type (or "signalling" for Flow-Usage AF_SIGNALLING,
 * "any" for all), whose subscriber glob matches the AF session's
 * Subscription-Id, and whose codec list (when it has one) names the
 * component's codec.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pcrf_int.h"

#define MAX_POLICIES 32

static const struct tnd_param policy_params[] = {
	TND_PARAM("media", TND_ENUM, struct pcrf_policy, media, "audio",
		  "media this policy is for (Media-Type; signalling: "
		  "Flow-Usage AF_SIGNALLING)",
		  .choices = "audio|video|text|application|data|control|"
			     "message|signalling|any"),
	TND_PARAM("subscribers", TND_STR, struct pcrf_policy, subscribers, "*",
		  "glob on the subscriber (Subscription-Id), e.g. "
		  "sip:*@gold.ims.lab"),
	TND_PARAM("codecs", TND_STR, struct pcrf_policy, codecs, "",
		  "codecs this policy is for, e.g. AMR-WB EVS (empty: any; "
		  "the first codec of the media's Codec-Data)"),
	TND_PARAM("qci", TND_UINT, struct pcrf_policy, qci, "1",
		  "QoS-Class-Identifier (TS 23.203 6.1.7; 5QI alike)", .min = 1,
		  .max = 255),
	TND_PARAM("arp", TND_UINT, struct pcrf_policy, arp, "2",
		  "Allocation-Retention-Priority Priority-Level (1 highest)",
		  .min = 1, .max = 15),
	TND_PARAM("preempt_capability", TND_BOOL, struct pcrf_policy,
		  preempt_cap, "no", "the bearer may pre-empt others"),
	TND_PARAM("preempt_vulnerability", TND_BOOL, struct pcrf_policy,
		  preempt_vuln, "yes", "the bearer may be pre-empted"),
	TND_PARAM("gbr", TND_BOOL, struct pcrf_policy, gbr, "yes",
		  "guaranteed bit rate (GBR = MBR = the media's bandwidth)"),
	TND_PARAM("max_kbps", TND_UINT, struct pcrf_policy, max_kbps, "2000",
		  "ceiling of the bandwidth granted per direction, kbit/s",
		  .min = 1, .max = 10000000),
	TND_PARAM("default_kbps", TND_UINT, struct pcrf_policy, default_kbps,
		  "64",
		  "bandwidth when neither Max-Requested-Bandwidth nor a "
		  "known codec gives one, kbit/s",
		  .min = 1, .max = 10000000),
	TND_PARAM_END
};

static struct pcrf_policy policies[MAX_POLICIES];
static unsigned npolicies;
static char *policy_names[MAX_POLICIES];
static bool load_failed;
static const char no_codecs[] = "";

static const struct pcrf_policy builtin[] = {
	{ .name = (char *)"voice",
	  .media = (char *)"audio",
	  .subscribers = (char *)"*",
	  .codecs = (char *)no_codecs,
	  .qci = 1,
	  .arp = 2,
	  .preempt_cap = 0,
	  .preempt_vuln = 1,
	  .gbr = 1,
	  .max_kbps = 512,
	  .default_kbps = 64 },
	{ .name = (char *)"video",
	  .media = (char *)"video",
	  .subscribers = (char *)"*",
	  .codecs = (char *)no_codecs,
	  .qci = 2,
	  .arp = 4,
	  .preempt_cap = 0,
	  .preempt_vuln = 1,
	  .gbr = 1,
	  .max_kbps = 4000,
	  .default_kbps = 384 },
	{ .name = (char *)"signalling",
	  .media = (char *)"signalling",
	  .subscribers = (char *)"*",
	  .codecs = (char *)no_codecs,
	  .qci = 5,
	  .arp = 1,
	  .preempt_cap = 1,
	  .preempt_vuln = 0,
	  .gbr = 0,
	  .max_kbps = 256,
	  .default_kbps = 64 },
	{ .name = (char *)"other",
	  .media = (char *)"any",
	  .subscribers = (char *)"*",
	  .codecs = (char *)no_codecs,
	  .qci = 9,
	  .arp = 9,
	  .preempt_cap = 0,
	  .preempt_vuln = 1,
	  .gbr = 0,
	  .max_kbps = 2000,
	  .default_kbps = 64 },
};

static int load_one(const char *section, void *arg)
{
	struct pcrf_policy *p;
	const char *name = strchr(section, ' ');

	(void)arg;
	if (npolicies == MAX_POLICIES) {
		pcrf_host->config_error(section, NULL,
					"more than %d [policy] sections",
					MAX_POLICIES);
		load_failed = true;
		return 1;
	}
	p = &policies[npolicies];
	if (pcrf_host->parse_section(section, policy_params, p)) {
		load_failed = true;
		return 1;
	}
	policy_names[npolicies] = strdup(name ? name + 1 : "policy");
	p->name = policy_names[npolicies];
	if (!p->name) {
		load_failed = true;
		return 1;
	}
	npolicies++;
	return 0;
}

int pcrf_policy_load(void)
{
	npolicies = 0;
	load_failed = false;
	pcrf_host->for_each_section("policy", load_one, NULL);
	if (load_failed)
		return -EINVAL;
	if (npolicies == 0) {
		memcpy(policies, builtin, sizeof(builtin));
		npolicies = sizeof(builtin) / sizeof(builtin[0]);
	}
	return 0;
}

void pcrf_policy_free(void)
{
	for (unsigned i = 0; i < MAX_POLICIES; i++) {
		free(policy_names[i]);
		policy_names[i] = NULL;
	}
	npolicies = 0;
}

static const char *media_word(uint32_t media_type)
{
	static const char *const words[] = { "audio",	    "video",   "data",
					     "application", "control", "text",
					     "message" };

	if (media_type < sizeof(words) / sizeof(words[0]))
		return words[media_type];
	return "other";
}

/* Whether a space or comma separated list names word (any case). */
static bool list_has(const char *list, const char *word)
{
	size_t n = strlen(word);

	while (n && list && *list) {
		list += strspn(list, " ,");
		if (strncasecmp(list, word, n) == 0 &&
		    (list[n] == '\0' || list[n] == ' ' || list[n] == ','))
			return true;
		list += strcspn(list, " ,");
	}
	return false;
}

const struct pcrf_policy *pcrf_policy_for(uint32_t media_type, bool signalling,
					  const char *subscriber,
					  const char *codec)
{
	const char *want = signalling ? "signalling" : media_word(media_type);

	for (unsigned i = 0; i < npolicies; i++) {
		const struct pcrf_policy *p = &policies[i];

		if (strcmp(p->media, want) && strcmp(p->media, "any"))
			continue;
		if (fnmatch(p->subscribers, subscriber ? subscriber : "", 0))
			continue;
		if (p->codecs && p->codecs[0] && !list_has(p->codecs, codec))
			continue;
		return p;
	}
	return NULL;
}

uint32_t pcrf_codec_bps(const char *codec)
{
	const char *p = pcrf_cfg->codec_bitrates;
	size_t n = strlen(codec);

	/* "PCMU:80 AMR:41 ..." (kbit/s with IP/UDP/RTP overhead) */
	while (p && *p) {
		p += strspn(p, " ,");
		if (strncasecmp(p, codec, n) == 0 && p[n] == ':')
			return (uint32_t)strtoul(p + n + 1, NULL, 10) * 1000u;
		p += strcspn(p, " ,");
	}
	return 0;
}

unsigned pcrf_policy_count(void)
{
	return npolicies;
}

const struct pcrf_policy *pcrf_policy_at(unsigned i)
{
	return i < npolicies ? &policies[i] : NULL;
}
