/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf_cause: Q.850 cause values <-> SIP status codes, both ways, as
 * tables (RFC 3398 7.2.4.1 and 8.2.6.1, 3GPP TS 29.163 7.2.3.1.x), and the
 * Reason header (RFC 3326) that carries the cause across SIP. Host
 * independent; docs/pstn.md prints the same tables.
 */
#ifndef MGCF_CAUSE_H
#define MGCF_CAUSE_H

#include <stddef.h>

/* Q.850 values the MGCF itself uses. */
#define Q850_UNALLOCATED 1
#define Q850_NO_ROUTE 3
#define Q850_NORMAL_CLEARING 16
#define Q850_USER_BUSY 17
#define Q850_NO_USER_RESPONDING 18
#define Q850_NO_ANSWER 19
#define Q850_CALL_REJECTED 21
#define Q850_ADDRESS_INCOMPLETE 28
#define Q850_NORMAL_UNSPECIFIED 31
#define Q850_NO_CIRCUIT 34
#define Q850_NETWORK_OUT_OF_ORDER 38
#define Q850_TEMPORARY_FAILURE 41
#define Q850_CONGESTION 42
#define Q850_BEARER_NOT_IMPLEMENTED 65
#define Q850_RECOVERY_ON_TIMER 102
#define Q850_INTERWORKING 127

/* The SIP final response for a call released with `cause` before it was
 * answered (a cause of normal clearing still needs one: 480). */
int mgcf_cause_to_status(int cause);
/* The Q.850 cause for a SIP final response (4xx-6xx) to our INVITE. */
int mgcf_status_to_cause(int status);
/* Q.850's name of a cause: "user busy". */
const char *mgcf_cause_text(int cause);
/* The reason phrase of a status: "Busy Here". */
const char *mgcf_status_text(int status);

/*
 * The Q.850 cause of a Reason header value ("Q.850;cause=17;text=..."),
 * or -1 when the value is of another protocol or has no cause. Several
 * reasons may be listed; the Q.850 one counts (RFC 3326 2).
 */
int mgcf_reason_cause(const char *value, size_t len);
/* "Reason: Q.850;cause=17;text=\"user busy\"\r\n"; the length or -ENOSPC. */
int mgcf_reason_header(char *buf, size_t size, int cause);

#endif /* MGCF_CAUSE_H */
