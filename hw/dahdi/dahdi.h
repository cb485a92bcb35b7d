/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hw/dahdi: the span driver for real E1/T1 cards, through DAHDI's
 * userspace API (dahdi/user.h), private to the plugin's files.
 *
 * Every configured channel is opened once at start through
 * /dev/dahdi/channel (DAHDI_SPECIFY) and stays open: bearers with 160-octet
 * blocks (DAHDI_SET_BLOCKSIZE), the D-channel in HDLC-FCS mode with a
 * frame per read and write. One worker thread poll()s them all with a
 * /dev/dahdi/pseudo channel that ticks every 20 ms of DAHDI's clock
 * (the master span's, or DAHDI's own timer when no span times it), reads
 * the blocks, handles DAHDI events (alarms, HDLC errors), and hands
 * D-channel frames to the loop.
 */
#ifndef DAHDI_DRV_H
#define DAHDI_DRV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../tdm_span.h"

struct dahdi_cfg {
	char *device_dir;
	int configure_spans;
	unsigned long long status_interval_ms;
	unsigned long long bufs;
};

#define DAHDI_PENDING_MAX 64 /* D-channel frames waiting for a buffer */

struct dahdi_frame {
	struct dahdi_frame *next;
	size_t len; /* with the two octets of room for the FCS */
	uint8_t data[];
};

/* One open DAHDI channel. */
struct dahdi_chan {
	int fd;
	unsigned channo;
	struct tdm_span *span;
	unsigned ts;
	bool dchan;
	/* D-channel frames DAHDI had no buffer for yet (loop -> worker) */
	pthread_mutex_t pend_lock;
	struct dahdi_frame *pend_head, **pend_tail;
	size_t pend_count;
	atomic_bool pending;
};

struct dahdi_span {
	struct tdm_span *span;
	unsigned basechan;
	struct dahdi_chan chans[TDM_TIMESLOTS]; /* by timeslot */
	atomic_bool alarm_event;		 /* worker saw ALARM/NOALARM */
	/* loop: the last DAHDI_SPANSTAT */
	int dahdi_alarms;
	uint64_t bpv, crc4, fas, alarm_count;
	int syncsrc;
};

struct dahdi_drv {
	struct tdm_driver drv;
	struct dahdi_cfg *cfg;
	struct dahdi_span *spans; /* parallel to drv.spans */
	int ctl_fd;
	struct dahdi_chan pseudo;
	int wake[2];
	pthread_t thread;
	atomic_bool stop;
	atomic_bool go;
	struct tnd_timer *status_timer;
	atomic_uint_fast64_t blocks, events, read_errors;
};

extern struct dahdi_drv dahdi;

/* dahdi_chan.c */
void dahdi_chan_init(struct dahdi_chan *c);
void dahdi_chan_fini(struct dahdi_chan *c);
int dahdi_open_channels(struct dahdi_drv *d);
void dahdi_close_channels(struct dahdi_drv *d);
int dahdi_worker_start(struct dahdi_drv *d);
void dahdi_worker_stop(struct dahdi_drv *d);
int dahdi_bchan_write(struct tdm_bchan *ch, const uint8_t *block);
int dahdi_dchan_send(struct tdm_span *span, const uint8_t *frame, size_t len);
/* "/dev/dahdi/NAME" under the configured device_dir. */
const char *dahdi_path(const char *name, char *buf, size_t size);

#endif /* DAHDI_DRV_H */
