// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mediatest: a test plugin that uses the "media" service the way the MGW
 * and the SBC will, with control commands for the integration tests:
 *
 *   mediatest open a=KIND b=KIND      KIND: rtp, srtp, dtls, loop, tdm:SPAN/TS
 *   mediatest remote ID a|b KEY=VALUE...
 *       addr= port= codec= pt= dtmf= ptime= dir= mux=yes crypto=SUITE:KEY
 *       fingerprint=AB:CD:... (SHA-256) setup=active|passive|actpass
 *   mediatest answer ID a|b SUITE:KEY our a=crypto answering that offer
 *   mediatest start|stop|free ID
 *   mediatest events ID                what the channel reported
 *
 * Not installed; built for `make check` only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tandem/media.h"
#include "tandem/plugin.h"

#define TND_LOG_HOST host
#define TND_LOG_CATEGORY "mediatest"

TND_PLUGIN_DECLARE(mediatest);
#define SELF (&TND_PLUGIN_SYMBOL(mediatest))

#define MAX_CHANS 16
#define MAX_EVENTS 64

struct seen {
	struct media_chan *ch;
	unsigned id;
	char digits[2][64];	/* digits ended, per leg */
	unsigned latched[2], timeouts[2], stopped;
	char tones[2][16];	/* "cng", "ced", "cng ced" */
	struct media_leg_stats final[2];
};

static const struct tnd_host_api *host;
static const struct media_service *media;
static struct seen chans[MAX_CHANS];

static struct seen *find(const char *text)
{
	unsigned id = (unsigned)strtoul(text, NULL, 10), i;

	for (i = 0; i < MAX_CHANS; i++)
		if (chans[i].ch && chans[i].id == id)
			return &chans[i];
	return NULL;
}

static int leg_of(const char *text)
{
	if (!strcmp(text, "a"))
		return MEDIA_LEG_A;
	if (!strcmp(text, "b"))
		return MEDIA_LEG_B;
	return -1;
}

static void on_event(struct media_chan *ch, const struct media_event *ev,
		     void *arg)
{
	struct seen *s = arg;
	size_t n;

	(void)ch;
	switch (ev->type) {
	case MEDIA_EV_DTMF:
		n = strlen(s->digits[ev->leg]);
		if (ev->end && n + 1 < sizeof(s->digits[0]))
			s->digits[ev->leg][n] = ev->digit;
		break;
	case MEDIA_EV_LATCHED:
		s->latched[ev->leg]++;
		break;
	case MEDIA_EV_TONE:
		n = strlen(s->tones[ev->leg]);
		snprintf(s->tones[ev->leg] + n, sizeof(s->tones[0]) - n, "%s%s",
			 n ? " " : "", ev->tone == MEDIA_TONE_CNG ? "cng" : "ced");
		break;
	case MEDIA_EV_RTP_TIMEOUT:
		s->timeouts[ev->leg]++;
		break;
	case MEDIA_EV_STOPPED:
		s->stopped++;
		s->final[0] = *ev->stats[0];
		s->final[1] = *ev->stats[1];
		break;
	default:
		break;
	}
}

/* "rtp", "srtp", "loop", "tdm:1/5" */
static int parse_kind(const char *text, struct media_leg_config *leg)
{
	memset(leg, 0, sizeof(*leg));
	leg->ec = -1;
	if (!strcmp(text, "rtp") || !strcmp(text, "srtp") ||
	    !strcmp(text, "dtls")) {
		leg->type = MEDIA_LEG_RTP;
		leg->srtp = text[0] == 's';
		leg->dtls = text[0] == 'd';
		return 0;
	}
	if (!strcmp(text, "loop")) {
		leg->type = MEDIA_LEG_LOOP;
		return 0;
	}
	if (sscanf(text, "tdm:%u/%u", &leg->span, &leg->ts) == 2) {
		leg->type = MEDIA_LEG_TDM;
		return 0;
	}
	return -EINVAL;
}

static void reply_local(struct tnd_reply *r, struct media_chan *ch,
			unsigned leg, const char *name)
{
	struct media_rtp_local local = { .size = sizeof(local) };
	char key[32];

	if (media->rtp_local(ch, leg, &local) < 0)
		return;
	snprintf(key, sizeof(key), "%s_port", name);
	host->reply_field_num(r, key, local.port);
	if (local.ncrypto) {
		snprintf(key, sizeof(key), "%s_crypto", name);
		/* "SUITE:KEY" of the first offer, for the peer's command line */
		host->reply_field(r, key, "%s", local.crypto[0]);
	}
	if (local.fingerprint[0]) {
		const char *hex = strchr(local.fingerprint, ' ');

		snprintf(key, sizeof(key), "%s_fingerprint", name);
		host->reply_field(r, key, "%s", hex ? hex + 1 : "");
		snprintf(key, sizeof(key), "%s_setup", name);
		host->reply_field(r, key, "%s", local.setup);
	}
}

static int cmd_open(struct tnd_reply *r, int argc, char **argv)
{
	struct media_chan_config cfg = { .size = sizeof(cfg),
					 .on_event = on_event };
	struct seen *s = NULL;
	unsigned i;
	int rc;

	for (i = 0; i < MAX_CHANS && !s; i++)
		if (!chans[i].ch)
			s = &chans[i];
	if (argc != 2 || strncmp(argv[0], "a=", 2) || strncmp(argv[1], "b=", 2) ||
	    parse_kind(argv[0] + 2, &cfg.leg[0]) < 0 ||
	    parse_kind(argv[1] + 2, &cfg.leg[1]) < 0 || !s)
		return host->reply_error(r, "usage: mediatest open a=KIND b=KIND");
	memset(s, 0, sizeof(*s));
	cfg.arg = s;
	cfg.label = "mediatest";
	rc = media->chan_new(&cfg, &s->ch);
	if (rc < 0)
		return host->reply_error(r, "chan_new: %s", strerror(-rc));
	s->id = media->chan_id(s->ch);
	host->reply_field_num(r, "id", s->id);
	reply_local(r, s->ch, 0, "a");
	reply_local(r, s->ch, 1, "b");
	return 0;
}

/* "AES_CM_128_HMAC_SHA1_80:KEY" -> "a=crypto:1 AES_CM_... inline:KEY" */
static void crypto_line(const char *arg, char *line, size_t size)
{
	const char *colon = strchr(arg, ':');

	snprintf(line, size, "a=crypto:1 %.*s inline:%s",
		 colon ? (int)(colon - arg) : 0, arg, colon ? colon + 1 : "");
}

static char fingerprint[MEDIA_FINGERPRINT_MAX];

static int set_key(struct media_rtp_remote *rr, const char *kv, char *crypto,
		   size_t crypto_size)
{
	const char *v = strchr(kv, '=');
	size_t n = v ? (size_t)(v - kv) : 0;

	if (!v)
		return -EINVAL;
	v++;
	if (!strncmp(kv, "addr", n))
		rr->addr = v;
	else if (!strncmp(kv, "port", n))
		rr->port = (unsigned)atoi(v);
	else if (!strncmp(kv, "codec", n))
		rr->codec = v;
	else if (!strncmp(kv, "pt", n))
		rr->pt = atoi(v);
	else if (!strncmp(kv, "dtmf", n))
		rr->dtmf_pt = atoi(v);
	else if (!strncmp(kv, "ptime", n))
		rr->ptime_ms = (unsigned)atoi(v);
	else if (!strncmp(kv, "mux", n))
		rr->rtcp_mux = !strcmp(v, "yes");
	else if (!strncmp(kv, "dir", n))
		rr->dir = !strcmp(v, "sendonly") ? MEDIA_SENDONLY :
			  !strcmp(v, "recvonly") ? MEDIA_RECVONLY :
			  !strcmp(v, "inactive") ? MEDIA_INACTIVE :
						   MEDIA_SENDRECV;
	else if (!strncmp(kv, "fingerprint", n)) {
		snprintf(fingerprint, sizeof(fingerprint), "sha-256 %s", v);
		rr->fingerprint = fingerprint;
	} else if (!strncmp(kv, "setup", n))
		rr->setup = !strcmp(v, "active") ? MEDIA_SETUP_ACTIVE :
			    !strcmp(v, "passive") ? MEDIA_SETUP_PASSIVE :
						    MEDIA_SETUP_ACTPASS;
	else if (!strncmp(kv, "crypto", n)) {
		crypto_line(v, crypto, crypto_size);
		rr->crypto = crypto;
	} else
		return -EINVAL;
	return 0;
}

static int cmd_remote(struct tnd_reply *r, int argc, char **argv)
{
	struct media_rtp_remote rr = { .size = sizeof(rr), .pt = -1,
				       .dtmf_pt = -1 };
	char crypto[MEDIA_CRYPTO_LINE_MAX];
	struct seen *s = argc >= 2 ? find(argv[0]) : NULL;
	int leg = argc >= 2 ? leg_of(argv[1]) : -1, i, rc;

	if (!s || leg < 0)
		return host->reply_error(r, "usage: mediatest remote ID a|b "
					    "KEY=VALUE...");
	for (i = 2; i < argc; i++)
		if (set_key(&rr, argv[i], crypto, sizeof(crypto)) < 0)
			return host->reply_error(r, "bad %s", argv[i]);
	rc = media->rtp_set_remote(s->ch, (unsigned)leg, &rr);
	if (rc < 0)
		return host->reply_error(r, "rtp_set_remote: %s", strerror(-rc));
	host->reply_field(r, "ok", "yes");
	return 0;
}

static int cmd_answer(struct tnd_reply *r, int argc, char **argv)
{
	char offer[MEDIA_CRYPTO_LINE_MAX], line[MEDIA_CRYPTO_LINE_MAX];
	struct seen *s = argc == 3 ? find(argv[0]) : NULL;
	int leg = argc == 3 ? leg_of(argv[1]) : -1, rc;

	if (!s || leg < 0)
		return host->reply_error(r, "usage: mediatest answer ID a|b "
					    "SUITE:KEY");
	crypto_line(argv[2], offer, sizeof(offer));
	rc = media->crypto_answer(s->ch, (unsigned)leg, offer, line,
				  sizeof(line));
	if (rc < 0)
		return host->reply_error(r, "crypto_answer: %s", strerror(-rc));
	host->reply_field(r, "crypto", "%s", line);
	return 0;
}

static int cmd_simple(struct tnd_reply *r, int argc, char **argv,
		      const char *what)
{
	struct seen *s = argc == 1 ? find(argv[0]) : NULL;
	int rc = 0;

	if (!s)
		return host->reply_error(r, "usage: mediatest %s ID", what);
	if (!strcmp(what, "start"))
		rc = media->chan_start(s->ch);
	else if (!strcmp(what, "stop"))
		rc = media->chan_stop(s->ch);
	else {
		media->chan_free(s->ch);
		s->ch = NULL;
	}
	if (rc < 0)
		return host->reply_error(r, "%s: %s", what, strerror(-rc));
	host->reply_field(r, "ok", "yes");
	return 0;
}

static int cmd_start(struct tnd_reply *r, int argc, char **argv)
{
	return cmd_simple(r, argc, argv, "start");
}

static int cmd_stop(struct tnd_reply *r, int argc, char **argv)
{
	return cmd_simple(r, argc, argv, "stop");
}

static int cmd_free(struct tnd_reply *r, int argc, char **argv)
{
	return cmd_simple(r, argc, argv, "free");
}

static int cmd_events(struct tnd_reply *r, int argc, char **argv)
{
	struct seen *s = argc == 1 ? find(argv[0]) : NULL;

	if (!s)
		return host->reply_error(r, "usage: mediatest events ID");
	host->reply_field(r, "digits_a", "%s", s->digits[0]);
	host->reply_field(r, "digits_b", "%s", s->digits[1]);
	host->reply_field(r, "tones_a", "%s", s->tones[0]);
	host->reply_field(r, "tones_b", "%s", s->tones[1]);
	host->reply_field_num(r, "latched_a", s->latched[0]);
	host->reply_field_num(r, "latched_b", s->latched[1]);
	host->reply_field_num(r, "stopped", s->stopped);
	if (s->stopped) {
		host->reply_field_num(r, "final_packets_rx_a",
				      (long long)s->final[0].packets_rx);
		host->reply_field_num(r, "final_packets_rx_b",
				      (long long)s->final[1].packets_rx);
		host->reply_field(r, "final_mos_a", "%.2f", s->final[0].mos);
	}
	return 0;
}

static const struct tnd_command mediatest_commands[] = {
	{ "mediatest open", "a=KIND b=KIND", "a channel, not started",
	  cmd_open },
	{ "mediatest remote", "ID a|b KEY=VALUE...", "the peer's SDP facts",
	  cmd_remote },
	{ "mediatest answer", "ID a|b SUITE:KEY", "our SDES answer",
	  cmd_answer },
	{ "mediatest start", "ID", "start media", cmd_start },
	{ "mediatest stop", "ID", "stop media", cmd_stop },
	{ "mediatest free", "ID", "release the channel", cmd_free },
	{ "mediatest events", "ID", "what the channel reported", cmd_events },
	TND_COMMAND_END
};

static int mediatest_init(const struct tnd_host_api *api, void *cfg)
{
	(void)cfg;
	host = api;
	media = host->service_get(MEDIA_SERVICE, 1);
	if (!media) {
		tnd_error("no media service");
		return -ENOENT;
	}
	return 0;
}

static int mediatest_stop(void)
{
	unsigned i;

	for (i = 0; i < MAX_CHANS; i++)
		if (chans[i].ch) {
			media->chan_free(chans[i].ch);
			chans[i].ch = NULL;
		}
	return 0;
}

static void mediatest_fini(void)
{
}

static const struct tnd_service_ref mediatest_requires[] = {
	{ MEDIA_SERVICE, MEDIA_SERVICE_VERSION },
	TND_SERVICE_END
};

TND_PLUGIN_DEFINE(mediatest) = {
	TND_PLUGIN_HEADER,
	.name = "mediatest",
	.version = "1.0",
	.description = "test user of the media service",
	.requires = mediatest_requires,
	.commands = mediatest_commands,
	.init = mediatest_init,
	.stop = mediatest_stop,
	.fini = mediatest_fini,
};
