/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Service "diameter" version 1, provided by the diameter plugin: the node's
 * one Diameter identity (freeDiameter's core runs inside the node), the 3GPP
 * applications Cx, Sh, Rx and Gx, and the means for other plugins to answer
 * requests, send requests and follow peers.
 *
 *   const struct diameter_service *dia = host->service_get("diameter", 1);
 *
 * Threads: every function of the table is called on the node's loop thread,
 * and every callback it makes runs on the loop thread. freeDiameter's own
 * threads never call into a plugin: the diameter plugin hands each received
 * request, answer and peer event to the loop (host->call_on_loop).
 *
 * Ownership:
 * - The table is owned by the diameter plugin, valid until its fini().
 * - A struct dia_msg is a freeDiameter message. The caller owns a message it
 *   made with request_new() until it passes it to send() (which always takes
 *   it, even on error) or msg_free().
 * - A request handed to a dia_request_cb, and the answer prepared with it,
 *   are owned by the service: the answer is sent when the handler returns a
 *   Result-Code; when it returns DIA_DEFER the handler owns the answer and
 *   must give it to answer_send() (or msg_free()) later, from the loop. The
 *   request stays valid until then (answer_request() finds it).
 * - Answers given out during a loop turn are handed to freeDiameter
 *   together right after the turn's I/O (hosts of ABI 1.1 and later), so
 *   its routing thread wakes once for them all.
 * - An answer handed to a dia_answer_cb is valid during the callback only.
 * - A struct dia_avp points into its message: valid while the message is.
 * - Strings returned by get_str() point into the AVP (not NUL-terminated).
 *
 * AVPs are named as in freeDiameter's dictionaries (RFC 6733 and the 3GPP
 * AVPs of dict_dcca_3gpp, e.g. "Public-Identity", "SIP-Auth-Data-Item");
 * the plugin adds the Cx/Sh AVPs that the Debian dictionaries lack (see
 * docs/diameter.md). Names are resolved once and cached.
 *
 * Errors: 0 or a negative errno: -ENOENT (no such AVP in the message, or
 * no such AVP name in the dictionary), -EINVAL (wrong type or argument),
 * -ENOSPC (buffer too small), -ENOMEM, -ESHUTDOWN (the Diameter core is
 * stopping), -EBUSY (too late: the core has started).
 */
#ifndef TANDEM_DIAMETER_H
#define TANDEM_DIAMETER_H

#include <stddef.h>
#include <stdint.h>

#include "tandem/plugin.h"

#define DIAMETER_SERVICE_VERSION 1

#define DIA_VENDOR_3GPP 10415u

/* Application ids: TS 29.229 (Cx), TS 29.329 (Sh), TS 29.214 (Rx),
 * TS 29.212 (Gx). */
#define DIA_APP_CX 16777216u
#define DIA_APP_SH 16777217u
#define DIA_APP_RX 16777236u
#define DIA_APP_GX 16777238u

/* Command codes (the request and its answer share the code). */
enum dia_command {
	DIA_CMD_UAR = 300, /* User-Authorization, Cx */
	DIA_CMD_SAR = 301, /* Server-Assignment, Cx */
	DIA_CMD_LIR = 302, /* Location-Info, Cx */
	DIA_CMD_MAR = 303, /* Multimedia-Auth, Cx */
	DIA_CMD_RTR = 304, /* Registration-Termination, Cx */
	DIA_CMD_PPR = 305, /* Push-Profile, Cx */
	DIA_CMD_UDR = 306, /* User-Data, Sh */
	DIA_CMD_PUR = 307, /* Profile-Update, Sh */
	DIA_CMD_SNR = 308, /* Subscribe-Notifications, Sh */
	DIA_CMD_PNR = 309, /* Push-Notification, Sh */
	DIA_CMD_AAR = 265, /* AA, Rx (RFC 7155) */
	DIA_CMD_RAR = 258, /* Re-Auth, Rx and Gx (RFC 6733) */
	DIA_CMD_CCR = 272, /* Credit-Control, Gx (RFC 4006) */
	DIA_CMD_ASR = 274, /* Abort-Session, Rx (RFC 6733) */
	DIA_CMD_STR = 275, /* Session-Termination, Rx (RFC 6733) */
};

/* Result-Code values of RFC 6733 7.1 used by the plugins. */
enum dia_result {
	DIA_SUCCESS = 2001,
	DIA_UNABLE_TO_DELIVER = 3002,
	DIA_AUTHENTICATION_REJECTED = 4001,
	DIA_AVP_UNSUPPORTED = 5001,
	DIA_INVALID_AVP_VALUE = 5004,
	DIA_MISSING_AVP = 5005,
	DIA_AUTHORIZATION_REJECTED = 5003,
	DIA_UNABLE_TO_COMPLY = 5012,
};

/* Experimental-Result-Code values (vendor 10415) of TS 29.229 6.2 and
 * TS 29.329 6.2. */
enum dia_3gpp_result {
	DIA_FIRST_REGISTRATION = 2001,
	DIA_SUBSEQUENT_REGISTRATION = 2002,
	DIA_UNREGISTERED_SERVICE = 2003,
	DIA_SUCCESS_SERVER_NAME_NOT_STORED = 2004,
	DIA_ERROR_USER_UNKNOWN = 5001,
	DIA_ERROR_IDENTITIES_DONT_MATCH = 5002,
	DIA_ERROR_IDENTITY_NOT_REGISTERED = 5003,
	DIA_ERROR_ROAMING_NOT_ALLOWED = 5004,
	DIA_ERROR_IDENTITY_ALREADY_REGISTERED = 5005,
	DIA_ERROR_AUTH_SCHEME_NOT_SUPPORTED = 5006,
	DIA_ERROR_IN_ASSIGNMENT_TYPE = 5007,
	DIA_ERROR_TOO_MUCH_DATA = 5008,
	DIA_ERROR_NOT_SUPPORTED_USER_DATA = 5009,
	DIA_ERROR_FEATURE_UNSUPPORTED = 5011,
	DIA_ERROR_SERVING_NODE_FEATURE_UNSUPPORTED = 5012,
	DIA_ERROR_USER_DATA_NOT_RECOGNIZED = 5100,
	DIA_ERROR_OPERATION_NOT_ALLOWED = 5101,
	DIA_ERROR_USER_DATA_CANNOT_BE_READ = 5102,
	DIA_ERROR_USER_DATA_CANNOT_BE_MODIFIED = 5103,
	DIA_ERROR_USER_DATA_NOT_AVAILABLE = 5104,
	DIA_ERROR_TRANSPARENT_DATA_OUT_OF_SYNC = 5105,
	DIA_ERROR_SUBS_DATA_ABSENT = 5106,
	DIA_ERROR_NO_SUBSCRIPTION_TO_DATA = 5107,
};

/* A handler's return value that keeps the answer for later. */
#define DIA_DEFER 0

struct dia_msg; /* a freeDiameter message (struct msg) */
struct dia_avp; /* an AVP inside a message, or a message's top level */

/* What a message's header says. Strings point into the message and are
 * not NUL-terminated; NULL when the AVP is absent. */
struct dia_msg_info {
	uint32_t app_id;
	uint32_t cmd_code;
	int is_request;
	int is_error; /* the E bit */
	uint32_t hop_by_hop;
	uint32_t end_to_end;
	const uint8_t *session_id;
	size_t session_id_len;
	const uint8_t *origin_host;
	size_t origin_host_len;
};

/*
 * A request arrived for (app_id, cmd_code). `ans` is the prepared answer:
 * Session-Id, Origin-Host/Realm are set, and Auth-Session-State and
 * Vendor-Specific-Application-Id are copied from the request when present.
 * Return a Result-Code (>= 1000): the service adds it unless the handler
 * already set a result (set_result/set_experimental) and sends the answer.
 * Return DIA_DEFER to keep `ans` and call answer_send() later.
 */
typedef int (*dia_request_cb)(struct dia_msg *req, struct dia_msg *ans,
			      void *arg);

/*
 * The answer to a request sent with send(), or NULL with status -ETIMEDOUT
 * (no answer in time) or -ESHUTDOWN. A routing failure arrives as an
 * answer with Result-Code 3002 (DIAMETER_UNABLE_TO_DELIVER).
 */
typedef void (*dia_answer_cb)(struct dia_msg *ans, int status, void *arg);

enum dia_peer_event {
	DIA_PEER_UP = 1,   /* capabilities exchanged, ready */
	DIA_PEER_DOWN = 2, /* connection lost or refused */
};

typedef void (*dia_peer_cb)(const char *peer_id, enum dia_peer_event event,
			    void *arg);

struct diameter_service {
	size_t size; /* grows at its end; check before using new members */

	/* This node's Diameter identity and realm. */
	const char *(*identity)(void);
	const char *(*realm)(void);

	/*
	 * Answer requests of cmd_code in app_id with cb. One handler per
	 * (app, command). Call from init(): the applications are announced
	 * to peers in the capabilities exchange when the core starts.
	 */
	int (*handle)(struct tnd_plugin *self, uint32_t app_id,
		      uint32_t cmd_code, dia_request_cb cb, void *arg);
	/* Announce an application this node sends requests of (a client). */
	int (*use_app)(uint32_t app_id);
	/* Follow peers: cb runs for every peer that comes up or goes down. */
	int (*on_peer)(struct tnd_plugin *self, dia_peer_cb cb, void *arg);
	/* 1 when the peer is open, 0 when not, -ENOENT when unknown. */
	int (*peer_is_up)(const char *peer_id);

	/*
	 * A new request with Session-Id (session_id, or a new one when
	 * NULL), Origin-Host/Realm, Destination-Realm (this node's realm
	 * when NULL) and Destination-Host (when not NULL). Cx and Sh
	 * requests also get Vendor-Specific-Application-Id and
	 * Auth-Session-State NO_STATE_MAINTAINED (TS 29.229 6.1); Rx and Gx
	 * get Auth-Application-Id. NULL when out of memory or unknown.
	 */
	struct dia_msg *(*request_new)(uint32_t app_id, uint32_t cmd_code,
				       const char *session_id,
				       const char *dest_realm,
				       const char *dest_host);
	/*
	 * Send a request; always takes it. cb runs once on the loop with the
	 * answer, or with NULL after timeout_ms (0: the plugin's default).
	 */
	int (*send)(struct dia_msg *req, uint32_t timeout_ms, dia_answer_cb cb,
		    void *arg);
	/* Send an answer a handler kept with DIA_DEFER; always takes it. */
	int (*answer_send)(struct dia_msg *ans);
	/* The request an answer (kept or being built) answers. */
	struct dia_msg *(*answer_request)(struct dia_msg *ans);
	void (*msg_free)(struct dia_msg *msg);
	int (*msg_info)(struct dia_msg *msg, struct dia_msg_info *info);

	/* ---- AVPs ---- */
	/* The top level of a message, as a parent for the functions below. */
	struct dia_avp *(*root)(struct dia_msg *msg);
	/* First child of parent named `name`, or NULL. */
	struct dia_avp *(*find)(struct dia_avp *parent, const char *name);
	/* Next sibling after avp with the same name, or NULL. */
	struct dia_avp *(*find_next)(struct dia_avp *avp);
	/* Values: OctetString, UTF8String, DiameterIdentity/URI. */
	int (*get_str)(struct dia_avp *avp, const uint8_t **data, size_t *len);
	/* Unsigned32, Integer32 and Enumerated. */
	int (*get_u32)(struct dia_avp *avp, uint32_t *value);
	/* Unsigned64, Integer64. */
	int (*get_u64)(struct dia_avp *avp, uint64_t *value);
	/* Shortcuts: the first child's value; a string is NUL-terminated
	 * and must fit in size (-ENOSPC) and hold no NUL (-EINVAL). */
	int (*find_str)(struct dia_avp *parent, const char *name, char *buf,
			size_t size);
	int (*find_u32)(struct dia_avp *parent, const char *name,
			uint32_t *value);
	/* Appends a child to parent; len (size_t)-1 means strlen(value). */
	int (*add_str)(struct dia_avp *parent, const char *name,
		       const void *value, size_t len);
	int (*add_u32)(struct dia_avp *parent, const char *name,
		       uint32_t value);
	int (*add_u64)(struct dia_avp *parent, const char *name,
		       uint64_t value);
	/* Appends an empty grouped AVP and returns it for its children. */
	struct dia_avp *(*add_group)(struct dia_avp *parent, const char *name);

	/* ---- Results ---- */
	/* Result-Code; sets the E bit for 3xxx protocol errors. */
	int (*set_result)(struct dia_msg *ans, uint32_t result_code);
	/* Experimental-Result { Vendor-Id, Experimental-Result-Code }. */
	int (*set_experimental)(struct dia_msg *ans, uint32_t vendor_id,
				uint32_t code);
	/*
	 * Failed-AVP (RFC 6733 7.5) naming an AVP that is missing: it holds
	 * an AVP of that code with a zero-filled value of minimum size.
	 */
	int (*set_failed_missing)(struct dia_msg *ans, const char *name);
	/* Failed-AVP holding a copy of an AVP that was wrong. */
	int (*set_failed_avp)(struct dia_msg *ans, struct dia_avp *avp);
	/* The result of an answer: Result-Code (vendor 0), or the
	 * Experimental-Result's vendor and code. -ENOENT when neither. */
	int (*result)(struct dia_msg *ans, uint32_t *vendor_id, uint32_t *code);

	/* ---- Added later in version 1: check `size` first ---- */
	/*
	 * Drops what a handler put in an answer it kept (DIA_DEFER) and
	 * returns a fresh answer to the same request, as a handler gets it,
	 * to answer with an error after all (e.g. a commit failed). Takes
	 * `ans`; NULL when out of memory (the request is freed then).
	 */
	struct dia_msg *(*answer_renew)(struct dia_msg *ans);
};

#endif /* TANDEM_DIAMETER_H */
