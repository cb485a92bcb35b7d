/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Service "rx" version 1: the Rx hooks of the P-CSCF (TS 29.214). The
 * P-CSCF asks for the resources of a session when it is set up (AAR) and
 * gives them back when it ends (STR); a PCRF client plugin provides the
 * service and speaks Diameter Rx to the PCRF. With no provider loaded the
 * P-CSCF lets every session proceed.
 *
 *   const struct rx_service *rx = host->service_get(RX_SERVICE_NAME,
 *                                                   RX_SERVICE_VERSION);
 *
 * The P-CSCF lists { "rx", 1 } in its `uses` (optional): a provider that
 * is loaded starts first.
 *
 * Threads: the loop thread only; callbacks run on it.
 *
 * Ownership:
 * - The table is the provider's, valid until its fini().
 * - Strings and buffers in struct rx_session_info and struct
 *   rx_signalling_info are the caller's and valid during the call only:
 *   the provider copies what it keeps.
 * - A struct rx_session from session_start() is the provider's; the
 *   P-CSCF hands it back exactly once, to session_end(), after which it is
 *   gone. The result callback runs at most once, before or after
 *   session_start() returns, never after session_end(); the P-CSCF may
 *   call session_end() from inside it.
 *
 * Errors are negative errno values.
 */
#ifndef TANDEM_RX_H
#define TANDEM_RX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RX_SERVICE_NAME "rx"
#define RX_SERVICE_VERSION 1

struct rx_session; /* the provider's Rx session (Session-Id, state) */

/* What the P-CSCF knows of a session (TS 29.214 4.4.1, Annex B). */
struct rx_session_info {
	size_t size;		/* sizeof(struct rx_session_info) */
	const char *call_id;	/* the UE's Call-ID */
	const char *icid;	/* P-Charging-Vector icid-value */
	const char *subscriber; /* the UE's public identity (Subscription-Id) */
	const char *ue_address; /* the UE's IP address (Framed-IP-Address) */
	int originating;	/* 1: the UE is the caller */
	const char *sdp_offer;	/* Media-Component-Description comes from */
	size_t sdp_offer_len;	/* the two SDP bodies (TS 29.214 Annex B) */
	const char *sdp_answer;
	size_t sdp_answer_len;
};

/* The SIP path of a registered UE (the signalling session). */
struct rx_signalling_info {
	size_t size;		   /* sizeof(struct rx_signalling_info) */
	const char *subscriber;	   /* the UE's default public identity */
	const char *ue_address;	   /* the UE's IP address */
	unsigned ue_port;	   /* the port it sends SIP from */
	const char *pcscf_address; /* the P-CSCF's SIP address and port */
	unsigned pcscf_port;
	const char *proto; /* "udp", "tcp" or "tls" (its Flow-Description) */
};

/*
 * The PCRF's verdict: 0 when the resources are authorised, else a
 * negative errno (-EACCES refused, -ETIMEDOUT no answer). A session
 * refused is released by the P-CSCF (BYE with a Reason).
 */
typedef void (*rx_result_cb)(struct rx_session *s, int result, void *arg);

/* The PCRF ends a session (Abort-Session-Request, TS 29.214 4.4.6): the
 * P-CSCF releases the call with that Call-ID. */
typedef void (*rx_abort_cb)(const char *call_id, void *arg);

struct rx_service {
	size_t size; /* grows at its end; check before using new members */

	/*
	 * AAR at session set-up. `*out` gets the session (kept by the
	 * P-CSCF until session_end). Returns 0, or -errno when nothing
	 * was sent (the P-CSCF then lets the call proceed).
	 */
	int (*session_start)(const struct rx_session_info *info,
			     rx_result_cb cb, void *arg,
			     struct rx_session **out);
	/* The session's SDP changed (re-INVITE, UPDATE): AAR again. */
	int (*session_update)(struct rx_session *s,
			      const struct rx_session_info *info);
	/* STR at tear-down; `s` is gone after the call. */
	void (*session_end)(struct rx_session *s, const char *reason);
	/* Hear the PCRF's aborts; one listener, NULL to stop. */
	int (*on_abort)(rx_abort_cb cb, void *arg);

	/* ---- since the signalling session (check `size` first) ---- */

	/*
	 * The registration-time AF signalling session (TS 29.214 4.4.1.1,
	 * TS 24.229 5.2.7.2): an AAR whose Media-Component-Description
	 * carries the SIP flows between the UE and the P-CSCF with
	 * Flow-Usage AF_SIGNALLING, and the Specific-Actions subscribed to
	 * (loss of bearer, IP-CAN change...). `*out` is ended with
	 * session_end() at de-registration or expiry. A PCRF's ASR on it
	 * does not reach the abort callback: the provider sends the STR
	 * itself and the handle stays valid until session_end().
	 * Returns 0, or -errno when nothing was sent.
	 */
	int (*signalling_start)(const struct rx_signalling_info *info,
				struct rx_session **out);
};

#ifdef __cplusplus
}
#endif

#endif /* TANDEM_RX_H */
