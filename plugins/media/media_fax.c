// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_fax.c - a T.38 leg: the RTP leg of a channel switched to T.38 by
 * a re-INVITE (m=image, "t38") becomes a SpanDSP t38_gateway between the
 * channel's audio (G.711 from the other leg, fax modems in band) and IFP
 * packets carried by UDPTL on the leg's socket, with redundancy.
 *
 * As a leg it pulls and pushes 20 ms of audio like the others: pull gives
 * what the gateway modulates from the T.38 side (after the UDPTL packets
 * that arrived were handed to it), push gives it the fax audio to
 * demodulate into IFP packets, which go out at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "media_int.h"

struct media_fax {
	t38_gateway_state_t *gw;
	struct media_udptl udptl;
	struct media_leg *leg;		/* set when the worker adopts it */
};

/* The gateway has an IFP packet for the T.38 side: one UDPTL packet
 * (redundancy, not `count` copies, protects it). */
static int send_ifp(t38_core_state_t *core, void *user, const uint8_t *ifp,
		    int len, int count)
{
	struct media_fax *fax = user;
	struct media_leg *leg = fax->leg;
	uint8_t pkt[MEDIA_UDPTL_MAX_PACKET];
	int n;

	(void)core, (void)count;
	if (!leg || len < 0)
		return 0;
	n = media_udptl_encode(&fax->udptl, ifp, (size_t)len, pkt, sizeof(pkt));
	if (n < 0)
		return 0;
	if (media_net_send(leg->fd_rtp, &leg->remote, pkt, (size_t)n) == 0) {
		leg->st.packets_tx++;
		leg->st.octets_tx += (uint64_t)n;
	}
	return 0;
}

int media_fax_new(unsigned redundancy, struct media_fax **out)
{
	struct media_fax *fax = calloc(1, sizeof(*fax));
	t38_core_state_t *core;

	if (!fax)
		return -ENOMEM;
	if (media_udptl_init(&fax->udptl, redundancy) < 0) {
		free(fax);
		return -EINVAL;
	}
	fax->gw = t38_gateway_init(NULL, send_ifp, fax);
	if (!fax->gw) {
		free(fax);
		return -ENOMEM;
	}
	/* the audio side always gets its 160 samples, silence when idle */
	t38_gateway_set_transmit_on_idle(fax->gw, 1);
	t38_gateway_set_supported_modems(fax->gw, T30_SUPPORT_V27TER |
					 T30_SUPPORT_V29 | T30_SUPPORT_V17);
	t38_gateway_set_ecm_capability(fax->gw, 1);
	core = t38_gateway_get_t38_core_state(fax->gw);
	t38_set_t38_version(core, 0);
	/* T.38 (2010) 10.2: over UDP the training check is local */
	t38_set_data_rate_management_method(core, 1);
	*out = fax;
	return 0;
}

void media_fax_free(struct media_fax *fax)
{
	if (!fax)
		return;
	t38_gateway_free(fax->gw);
	free(fax);
}

void media_fax_bind(struct media_fax *fax, struct media_leg *leg)
{
	if (fax)
		fax->leg = leg;
}

static void take_ifp(void *user, const uint8_t *ifp, size_t len, uint16_t seq)
{
	struct media_fax *fax = user;

	t38_core_rx_ifp_packet(t38_gateway_get_t38_core_state(fax->gw), ifp,
			       (int)len, seq);
}

static bool from_peer(struct media_leg *leg, const struct sockaddr_storage *from)
{
	bool latch = !media_net_port(&leg->remote) ||
		     (mp.cfg->latch && !leg->latched);

	if (media_net_same(from, &leg->remote))
		return true;
	if (!latch)
		return false;
	leg->remote = *from;
	leg->latched = true;
	return true;
}

void media_fax_pull(struct media_leg *leg, uint8_t *scratch, int16_t *pcm)
{
	struct media_fax *fax = leg->rp.fax;
	struct media_rx rx[MEDIA_RX_BATCH];
	int n, i, got;

	while ((n = media_net_recv(leg->fd_rtp, scratch, rx)) > 0) {
		for (i = 0; i < n; i++) {
			if (!from_peer(leg, &rx[i].from)) {
				leg->st.foreign++;
				continue;
			}
			if (media_udptl_decode(&fax->udptl, rx[i].data,
					       rx[i].len, take_ifp, fax) < 0) {
				leg->st.malformed++;
				continue;
			}
			leg->st.packets_rx++;
			leg->st.octets_rx += rx[i].len;
			leg->last_rx_wall_ns = rx[i].arrival_ns;
		}
		if (n < MEDIA_RX_BATCH)
			break;
	}
	got = t38_gateway_tx(fax->gw, pcm, MEDIA_FRAME);
	if (got < MEDIA_FRAME)
		memset(pcm + got, 0, (size_t)(MEDIA_FRAME - got) * sizeof(*pcm));
}

void media_fax_push(struct media_leg *leg, const int16_t *pcm)
{
	t38_gateway_rx(leg->rp.fax->gw, (int16_t *)pcm, MEDIA_FRAME);
}

void media_fax_stats(struct media_leg *leg, struct media_leg_stats *st)
{
	const struct media_udptl_stats *u = &leg->rp.fax->udptl.stats;

	st->codec = "t38";
	st->pt = -1;
	st->lost = u->lost;
	st->duplicates = u->old;
	st->ifp_recovered = u->recovered;
}
