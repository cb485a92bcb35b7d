// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * media_udptl.c - UDPTL packets (ITU-T T.38 9.1, aligned PER) with
 * redundancy.
 */
#include <errno.h>
#include <string.h>

#include "media_udptl.h"

#define FEC_CHOICE	0x80	/* error-recovery: fec-info */

int media_udptl_init(struct media_udptl *u, unsigned redundancy)
{
	if (redundancy > MEDIA_UDPTL_MAX_REDUNDANCY)
		return -EINVAL;
	memset(u, 0, sizeof(*u));
	u->redundancy = redundancy;
	return 0;
}

/* X.691 10.9: an unconstrained length, one octet below 128, two below
 * 16384 (longer needs fragments, which IFPs never do). */
static int put_length(uint8_t *out, size_t room, size_t len)
{
	if (len < 0x80 && room >= 1) {
		out[0] = (uint8_t)len;
		return 1;
	}
	if (len < 0x4000 && room >= 2) {
		out[0] = (uint8_t)(0x80 | len >> 8);
		out[1] = (uint8_t)len;
		return 2;
	}
	return -ENOSPC;
}

static int put_open(uint8_t *out, size_t room, const uint8_t *data,
		    size_t len)
{
	int n = put_length(out, room, len);

	if (n < 0 || (size_t)n + len > room)
		return -ENOSPC;
	memcpy(out + n, data, len);
	return n + (int)len;
}

int media_udptl_encode(struct media_udptl *u, const uint8_t *ifp,
		       size_t len, uint8_t *out, size_t size)
{
	unsigned slots = MEDIA_UDPTL_MAX_REDUNDANCY + 1;
	unsigned nsec = u->redundancy, i;
	size_t off;
	int n;

	if (len > MEDIA_UDPTL_MAX_IFP)
		return -EMSGSIZE;
	if (size < 3)
		return -ENOSPC;
	if (nsec > u->tx_seq)
		nsec = u->tx_seq;	/* nothing before the first */
	out[0] = (uint8_t)(u->tx_seq >> 8);
	out[1] = (uint8_t)u->tx_seq;
	n = put_open(out + 2, size - 2, ifp, len);
	if (n < 0)
		return n;
	off = 2 + (size_t)n;
	if (off + 2 > size)
		return -ENOSPC;
	out[off++] = 0x00;			/* secondary-ifp-packets */
	n = put_length(out + off, size - off, nsec);
	if (n < 0)
		return n;
	off += (size_t)n;
	for (i = 1; i <= nsec; i++) {		/* newest first */
		unsigned s = (u->tx_seq - i) % slots;

		n = put_open(out + off, size - off, u->tx_hist[s].data,
			     u->tx_hist[s].len);
		if (n < 0)
			return n;
		off += (size_t)n;
	}
	u->tx_hist[u->tx_seq % slots].len = (uint16_t)len;
	memcpy(u->tx_hist[u->tx_seq % slots].data, ifp, len);
	u->tx_seq++;
	u->stats.sent++;
	return (int)off;
}

/* ---- decoding ----------------------------------------------------------- */

struct cursor {
	const uint8_t *p;
	size_t left;
};

static int get_length(struct cursor *c, size_t *len)
{
	if (!c->left)
		return -EINVAL;
	if (!(c->p[0] & 0x80)) {
		*len = c->p[0];
		c->p++;
		c->left--;
		return 0;
	}
	if ((c->p[0] & 0xc0) != 0x80 || c->left < 2)
		return -EINVAL;		/* fragmented: not for IFPs */
	*len = (size_t)(c->p[0] & 0x3f) << 8 | c->p[1];
	c->p += 2;
	c->left -= 2;
	return 0;
}

static int get_open(struct cursor *c, const uint8_t **data, size_t *len)
{
	if (get_length(c, len) < 0 || *len > c->left)
		return -EINVAL;
	*data = c->p;
	c->p += *len;
	c->left -= *len;
	return 0;
}

struct parsed {
	uint16_t seq;
	const uint8_t *primary;
	size_t primary_len;
	unsigned nsec;
	const uint8_t *sec[MEDIA_UDPTL_MAX_REDUNDANCY + 4];
	size_t sec_len[MEDIA_UDPTL_MAX_REDUNDANCY + 4];
};

static int parse_secondaries(struct cursor *c, struct parsed *pk)
{
	size_t count, i;
	unsigned max = sizeof(pk->sec) / sizeof(pk->sec[0]);

	if (get_length(c, &count) < 0)
		return -EINVAL;
	for (i = 0; i < count; i++) {
		const uint8_t *d;
		size_t l;

		if (get_open(c, &d, &l) < 0)
			return -EINVAL;
		if (pk->nsec < max) {	/* keep the newest we can use */
			pk->sec[pk->nsec] = d;
			pk->sec_len[pk->nsec++] = l;
		}
	}
	return 0;
}

static int parse(const uint8_t *pkt, size_t len, struct parsed *pk)
{
	struct cursor c = { pkt + 2, len - 2 };

	memset(pk, 0, sizeof(*pk));
	if (len < 4)
		return -EINVAL;
	pk->seq = (uint16_t)(pkt[0] << 8 | pkt[1]);
	if (get_open(&c, &pk->primary, &pk->primary_len) < 0 || !c.left)
		return -EINVAL;
	if (c.p[0] & FEC_CHOICE)
		return 0;		/* FEC: the primary is all we use */
	c.p++;
	c.left--;
	return parse_secondaries(&c, pk);
}

int media_udptl_decode(struct media_udptl *u, const uint8_t *pkt,
		       size_t len, media_udptl_ifp_fn fn, void *user)
{
	struct parsed pk;
	uint16_t gap, k;

	if (parse(pkt, len, &pk) < 0) {
		u->stats.malformed++;
		return -EINVAL;
	}
	u->stats.received++;
	if (!u->rx_started) {
		u->rx_started = true;
		u->rx_next = pk.seq;
	}
	gap = (uint16_t)(pk.seq - u->rx_next);
	if (gap >= 0x8000) {		/* behind us: a duplicate or late */
		u->stats.old++;
		return 0;
	}
	/* seq - k for k = gap .. 1 were lost: secondary k - 1 has each */
	for (k = gap; k > 0; k--) {
		if (k - 1u < pk.nsec) {
			fn(user, pk.sec[k - 1], pk.sec_len[k - 1],
			   (uint16_t)(pk.seq - k));
			u->stats.recovered++;
		} else {
			u->stats.lost++;
		}
	}
	fn(user, pk.primary, pk.primary_len, pk.seq);
	u->rx_next = (uint16_t)(pk.seq + 1);
	return 0;
}
