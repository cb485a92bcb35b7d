/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mgcf_fsm: the call's state machine as a table, Osmocom's way: each state
 * names the events it takes and the states it may go to. mgcf_fsm_go()
 * checks every move against it and logs it at debug level:
 *
 *   mgcf: call 7 (span 1 bchan 3): O_SETUP -> O_ALERTING on PRI_ALERTING
 *
 * The actions live with the side that causes them (mgcf_sip.c,
 * mgcf_pri.c, mgcf_call.c); docs/pstn.md draws the call flows.
 */
#include <errno.h>

#include "mgcf_int.h"

#define S(x) (1u << (x))
#define E(x) (1u << (x))

/* Clearing from either side is always possible. */
#define CLEARING                                                              \
	(E(EV_PRI_DISCONNECT) | E(EV_PRI_RELEASE) | E(EV_LOCAL) |             \
	 E(EV_MEDIA_TIMEOUT))
/* A caller may end an early dialog with BYE (RFC 3261 15). */
#define O_EARLY_EVENTS                                                        \
	(CLEARING | E(EV_SIP_CANCEL) | E(EV_SIP_BYE) | E(EV_PRI_PROCEEDING) | \
	 E(EV_PRI_ALERTING) | E(EV_PRI_PROGRESS) | E(EV_PRI_CONNECT) |        \
	 E(EV_TIMEOUT) | E(EV_SIP_REINVITE))
#define O_EARLY_EXITS                                                         \
	(S(ST_O_PROCEEDING) | S(ST_O_ALERTING) | S(ST_O_PROGRESS) |           \
	 S(ST_O_ANSWERED) | S(ST_RELEASING) | S(ST_RELEASED))
#define I_EARLY_EVENTS                                                        \
	(CLEARING | E(EV_SIP_1XX) | E(EV_SIP_2XX) | E(EV_SIP_FAILURE) |       \
	 E(EV_TIMEOUT))

static const struct {
	const char *name;
	unsigned events; /* what the state takes */
	unsigned exits;	 /* where it may go */
} table[ST_COUNT] = {
	[ST_NULL] = { "NULL", E(EV_SIP_INVITE) | E(EV_PRI_SETUP) | E(EV_LOCAL),
		      S(ST_O_SETUP) | S(ST_I_OVERLAP) | S(ST_I_INVITE) |
			      S(ST_RELEASED) },
	[ST_O_SETUP] = { "O_SETUP", O_EARLY_EVENTS, O_EARLY_EXITS },
	[ST_O_PROCEEDING] = { "O_PROCEEDING", O_EARLY_EVENTS,
			      O_EARLY_EXITS & ~S(ST_O_PROCEEDING) },
	[ST_O_PROGRESS] = { "O_PROGRESS", O_EARLY_EVENTS,
			    S(ST_O_ALERTING) | S(ST_O_ANSWERED) |
				    S(ST_RELEASING) | S(ST_RELEASED) },
	[ST_O_ALERTING] = { "O_ALERTING", O_EARLY_EVENTS,
			    S(ST_O_ANSWERED) | S(ST_RELEASING) |
				    S(ST_RELEASED) },
	[ST_O_ANSWERED] = { "O_ANSWERED",
			    CLEARING | E(EV_SIP_ACK) | E(EV_SIP_BYE) |
				    E(EV_SIP_REINVITE) | E(EV_TIMEOUT),
			    S(ST_ACTIVE) | S(ST_RELEASING) | S(ST_RELEASED) },
	[ST_I_OVERLAP] = { "I_OVERLAP",
			   CLEARING | E(EV_PRI_INFO) | E(EV_DIGITS_DONE) |
				   E(EV_TIMEOUT),
			   S(ST_I_INVITE) | S(ST_RELEASING) | S(ST_RELEASED) },
	[ST_I_INVITE] = { "I_INVITE", I_EARLY_EVENTS,
			  S(ST_I_EARLY) | S(ST_ACTIVE) | S(ST_RELEASING) |
				  S(ST_RELEASED) },
	[ST_I_EARLY] = { "I_EARLY", I_EARLY_EVENTS,
			 S(ST_ACTIVE) | S(ST_RELEASING) | S(ST_RELEASED) },
	[ST_ACTIVE] = { "ACTIVE",
			CLEARING | E(EV_SIP_BYE) | E(EV_SIP_REINVITE) |
				E(EV_SIP_ACK) | E(EV_SIP_2XX) | E(EV_TIMEOUT),
			S(ST_RELEASING) | S(ST_RELEASED) },
	[ST_RELEASING] = { "RELEASING", ~0u, S(ST_RELEASED) },
	[ST_RELEASED] = { "RELEASED", 0, 0 },
};

static const char *const event_names[EV_COUNT] = {
	[EV_SIP_INVITE] = "SIP_INVITE",
	[EV_SIP_1XX] = "SIP_1XX",
	[EV_SIP_2XX] = "SIP_2XX",
	[EV_SIP_FAILURE] = "SIP_FAILURE",
	[EV_SIP_ACK] = "SIP_ACK",
	[EV_SIP_BYE] = "SIP_BYE",
	[EV_SIP_CANCEL] = "SIP_CANCEL",
	[EV_SIP_REINVITE] = "SIP_REINVITE",
	[EV_PRI_SETUP] = "PRI_SETUP",
	[EV_PRI_INFO] = "PRI_INFO",
	[EV_PRI_PROCEEDING] = "PRI_PROCEEDING",
	[EV_PRI_ALERTING] = "PRI_ALERTING",
	[EV_PRI_PROGRESS] = "PRI_PROGRESS",
	[EV_PRI_CONNECT] = "PRI_CONNECT",
	[EV_PRI_DISCONNECT] = "PRI_DISCONNECT",
	[EV_PRI_RELEASE] = "PRI_RELEASE",
	[EV_DIGITS_DONE] = "DIGITS_DONE",
	[EV_TIMEOUT] = "TIMEOUT",
	[EV_MEDIA_TIMEOUT] = "MEDIA_TIMEOUT",
	[EV_LOCAL] = "LOCAL",
};

const char *mgcf_state_name(enum mgcf_state s)
{
	return s < ST_COUNT ? table[s].name : "?";
}

const char *mgcf_event_name(enum mgcf_event e)
{
	return e < EV_COUNT ? event_names[e] : "?";
}

bool mgcf_fsm_takes(const struct mgcf_call *call, enum mgcf_event ev)
{
	return call->state < ST_COUNT && (table[call->state].events & E(ev));
}

int mgcf_fsm_go(struct mgcf_call *call, enum mgcf_state to,
		enum mgcf_event ev)
{
	enum mgcf_state from = call->state;

	if (to == from)
		return 0;
	if (from >= ST_COUNT || to >= ST_COUNT ||
	    !(table[from].exits & S(to)) || !(table[from].events & E(ev))) {
		tnd_notice("call %u: %s -> %s on %s refused by the state "
			   "table", call->id, mgcf_state_name(from),
			   mgcf_state_name(to), mgcf_event_name(ev));
		return -EPERM;
	}
	call->state = to;
	tnd_debug("call %u (span %d bchan %d): %s -> %s on %s", call->id,
		  call->span, call->bchan, mgcf_state_name(from),
		  mgcf_state_name(to), mgcf_event_name(ev));
	return 0;
}
