/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HDLC framing on a timeslot, bit by bit (see tdm_hdlc.h).
 */
#include <errno.h>
#include <string.h>

#include "tdm_hdlc.h"

#define HDLC_FLAG 0x7e

/* CRC-16 of ISO/IEC 13239 (x^16 + x^12 + x^5 + 1), bits taken least
 * significant first, hence the reflected polynomial 0x8408. */
uint16_t hdlc_fcs_update(uint16_t fcs, const uint8_t *p, size_t n)
{
	while (n--) {
		fcs ^= *p++;
		for (int k = 0; k < 8; k++)
			fcs = (fcs & 1) ? (uint16_t)((fcs >> 1) ^ 0x8408)
					: (uint16_t)(fcs >> 1);
	}
	return fcs;
}

/* The FCS is the ones' complement of the CRC, low octet first. */
void hdlc_fcs_append(const uint8_t *frame, size_t len, uint8_t fcs[2])
{
	uint16_t crc = (uint16_t)~hdlc_fcs_update(0xffff, frame, len);

	fcs[0] = (uint8_t)(crc & 0xff);
	fcs[1] = (uint8_t)(crc >> 8);
}

bool hdlc_fcs_good(const uint8_t *p, size_t len_with_fcs)
{
	return len_with_fcs > HDLC_FCS_LEN &&
	       hdlc_fcs_update(0xffff, p, len_with_fcs) == HDLC_GOOD_FCS;
}

/* ---- Transmit ------------------------------------------------------------ */

void hdlc_tx_init(struct hdlc_tx *tx)
{
	memset(tx, 0, sizeof(*tx));
}

bool hdlc_tx_ready(const struct hdlc_tx *tx)
{
	return !tx->busy;
}

static void queue_bit(struct hdlc_tx *tx, unsigned bit)
{
	tx->queue = (tx->queue << 1) | (bit & 1);
	tx->queued++;
}

static void queue_flag(struct hdlc_tx *tx)
{
	for (int k = 7; k >= 0; k--)
		queue_bit(tx, (HDLC_FLAG >> k) & 1);
	tx->ones = 0;
}

int hdlc_tx_load(struct hdlc_tx *tx, const uint8_t *frame, size_t len)
{
	if (tx->busy)
		return -EBUSY;
	if (len == 0 || len > HDLC_MAX_FRAME)
		return -EMSGSIZE;
	memcpy(tx->frame, frame, len);
	hdlc_fcs_append(frame, len, tx->frame + len);
	tx->len = len + HDLC_FCS_LEN;
	tx->bitpos = 0;
	tx->busy = true;
	tx->closing = false;
	queue_flag(tx); /* opening flag */
	return 0;
}

/* One frame bit, with a zero inserted after five ones (Q.921 2.6). */
static void queue_data_bit(struct hdlc_tx *tx)
{
	unsigned bit = (tx->frame[tx->bitpos / 8] >> (tx->bitpos % 8)) & 1;

	tx->bitpos++;
	queue_bit(tx, bit);
	tx->ones = bit ? tx->ones + 1 : 0;
	if (tx->ones == 5) {
		queue_bit(tx, 0);
		tx->ones = 0;
	}
}

uint8_t hdlc_tx_octet(struct hdlc_tx *tx)
{
	while (tx->queued < 8) {
		if (!tx->busy) {
			queue_flag(tx); /* interframe time fill */
		} else if (tx->bitpos < tx->len * 8) {
			queue_data_bit(tx);
		} else {
			queue_flag(tx); /* closing flag */
			tx->busy = false;
		}
	}
	tx->queued -= 8;
	return (uint8_t)(tx->queue >> tx->queued);
}

/* ---- Receive ------------------------------------------------------------- */

void hdlc_rx_init(struct hdlc_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	rx->hunting = true;
}

void hdlc_rx_corrupt_next(struct hdlc_rx *rx)
{
	rx->corrupt = true;
}

static void restart(struct hdlc_rx *rx, bool hunting)
{
	rx->bits = 0;
	rx->hunting = hunting;
}

/* A flag closed whatever came since the last one. The zero and five ones
 * that began the flag were taken as data: drop them. */
static void end_frame(struct hdlc_rx *rx, hdlc_rx_cb cb, void *arg)
{
	size_t bits = rx->bits > 6 ? rx->bits - 6 : 0;
	size_t len = bits / 8;

	if (rx->hunting || bits == 0)
		return;
	if (bits % 8 == 0 && hdlc_fcs_good(rx->buf, len))
		cb(HDLC_RX_FRAME, rx->buf, len, arg);
	else
		cb(HDLC_RX_BAD_FCS, rx->buf, len, arg);
}

static void append_bit(struct hdlc_rx *rx, unsigned bit, hdlc_rx_cb cb,
		       void *arg)
{
	size_t i = rx->bits / 8;
	uint8_t mask = (uint8_t)(1u << (rx->bits % 8));

	if (i >= sizeof(rx->buf)) {
		cb(HDLC_RX_OVERRUN, NULL, 0, arg);
		restart(rx, true);
		return;
	}
	rx->buf[i] = bit ? (uint8_t)(rx->buf[i] | mask)
			 : (uint8_t)(rx->buf[i] & ~mask);
	rx->bits++;
}

static void rx_one(struct hdlc_rx *rx, hdlc_rx_cb cb, void *arg)
{
	if (rx->ones < 8)
		rx->ones++;
	if (rx->ones == 7) {
		/* Abort (Q.921 2.9); a line of ones (idle, AIS) keeps us
		 * hunting without another report. */
		if (!rx->hunting && rx->bits > 6)
			cb(HDLC_RX_ABORT, NULL, 0, arg);
		restart(rx, true);
	} else if (rx->ones < 6 && !rx->hunting) {
		append_bit(rx, 1, cb, arg);
	}
}

static void rx_zero(struct hdlc_rx *rx, hdlc_rx_cb cb, void *arg)
{
	unsigned ones = rx->ones;

	rx->ones = 0;
	if (ones == 6) {
		end_frame(rx, cb, arg);
		restart(rx, false);
	} else if (ones == 5) {
		/* an inserted zero: not data */
	} else if (ones < 5 && !rx->hunting) {
		append_bit(rx, 0, cb, arg);
	}
}

void hdlc_rx_octet(struct hdlc_rx *rx, uint8_t octet, hdlc_rx_cb cb,
		   void *arg)
{
	for (int k = 7; k >= 0; k--) {
		unsigned bit = (octet >> k) & 1;

		if (bit && rx->corrupt && !rx->hunting && rx->bits >= 16) {
			rx->corrupt = false;
			bit = 0;
		}
		if (bit)
			rx_one(rx, cb, arg);
		else
			rx_zero(rx, cb, arg);
	}
}
