/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dahdi_emu: an emulated /dev/dahdi for the tests, loaded with LD_PRELOAD
 * into a process that uses DAHDI. It stands in for the dahdi kernel module
 * and a card: E1/T1 spans wired back to back in software, paced by a 1 ms
 * clock like a card's interrupt, with DAHDI's channel semantics as the
 * driver relies on them (dahdi-base.c and dahdi/user.h): DAHDI_SPECIFY
 * before anything else, block-sized reads and writes, numbufs buffers
 * each way, idle (silence) when the writer falls behind, HDLC-FCS framing
 * with the FCS carried in the last two octets of each read and write,
 * events queued per channel and signalled by POLLPRI and by read/write
 * failing with ELAST, DAHDI_GETEVENT, DAHDI_SPANSTAT, DAHDI_SPANCONFIG,
 * DAHDI_CHANCONFIG, DAHDI_STARTUP, DAHDI_MAINT, pseudo channels.
 *
 * Environment:
 *   DAHDI_EMU_SPANS  span types, e.g. "e1,e1" (the default) or "t1,t1"
 *   DAHDI_EMU_WIRING pairs of spans cabled together, e.g. "1-2" (default)
 *   DAHDI_EMU_FIFO   a fifo taking fault commands: "SPAN FAULT" per line,
 *                    FAULT one of los lof ais rai cut slip dchan-error
 *                    crc bpv clear
 *   DAHDI_EMU_HWEC   non-empty: the card has a hardware echo canceller
 *
 * Every emulated descriptor is a real eventfd (readable while the channel
 * has something to read or an event), so poll() and epoll work on it;
 * poll() is wrapped to report POLLIN/POLLOUT/POLLPRI as DAHDI does.
 */
#ifndef DAHDI_EMU_H
#define DAHDI_EMU_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../tdm_hdlc.h"
#include "../../tdm_line.h"

#define EMU_MAX_SPANS 8
#define EMU_MAX_PSEUDO 16
#define EMU_MAX_EVENTS 32
#define EMU_MAX_FDS 4096
#define EMU_PSEUDO_BASE 1000 /* channel numbers of pseudo channels */

enum emu_kind { EMU_CTL = 1, EMU_CHANNEL, EMU_PSEUDO };

struct emu_file;
struct emu_span;

struct emu_chan {
	unsigned channo;
	struct emu_span *span; /* NULL for a pseudo channel */
	unsigned pos;	       /* timeslot */
	int sigtype;	       /* DAHDI_SIG_*, 0 while unconfigured */
	int deflaw;
	struct emu_file *file; /* the descriptor that has it open */
	int blocksize, numbufs;
	uint8_t *rxbuf, *txbuf; /* numbufs * blocksize each */
	int rxlen[32], txlen[32];
	int rx_head, rx_ready; /* oldest full buffer, full buffers */
	int tx_head, tx_ready, tx_pos;
	int events[EMU_MAX_EVENTS];
	int ev_head, ev_count;
	int chan_alarms;
	struct hdlc_tx htx;
	struct hdlc_rx hrx;
	unsigned ec_taps;
};

struct emu_span {
	unsigned no;
	char type[4]; /* "E1", "T1", "J1" */
	unsigned nchans;
	unsigned basechan;
	struct emu_span *peer;
	struct line_end line;
	struct line_frame tx, rx;
	bool running; /* DAHDI_STARTUP */
	int lineconfig, lbo, sync;
	int alarms; /* DAHDI_ALARM_* */
	struct emu_chan chans[32]; /* by timeslot */
};

struct emu_file {
	int fd;	/* the eventfd handed to the process */
	enum emu_kind kind;
	int flags;
	struct emu_chan *chan;
	bool armed; /* the eventfd is readable */
};

/* dahdi_emu.c: the card and the devices; every call takes emu_lock. */
extern pthread_mutex_t emu_lock;
void emu_setup(void);
struct emu_file *emu_open(const char *path, int flags, int *err);
void emu_close(struct emu_file *f);
ssize_t emu_read(struct emu_file *f, void *buf, size_t count);
ssize_t emu_write(struct emu_file *f, const void *buf, size_t count);
int emu_ioctl(struct emu_file *f, unsigned long req, void *arg);
/* revents of a file for the events asked (POLLIN, POLLOUT, POLLPRI). */
short emu_revents(struct emu_file *f, short events);

/* dahdi_emu_io.c: the wrapped libc calls. */
ssize_t emu_real_read(int fd, void *buf, size_t count);
ssize_t emu_real_write(int fd, const void *buf, size_t count);
int emu_real_close(int fd);
/* Make the eventfd readable exactly while the file has something. */
void emu_doorbell(struct emu_file *f);

#endif /* DAHDI_EMU_H */
