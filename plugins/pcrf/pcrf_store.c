/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pcrf_store.c - the sessions in SQLite, so that a restarted PCRF still
 * knows every IP-CAN session, every AF session and the rules it gave.
 *
 * The tables in memory (pcrf_sess.c) are the working copy; every change
 * is also written here. The writes of one loop turn share a transaction,
 * committed by the turn callback (pcrf_store_flush), so the cost is one
 * WAL append per turn, not one per message (synchronous=NORMAL: a
 * commit survives a crash of the node; a power cut may lose the last
 * ones, see docs/pcrf.md).
 *
 * Rules are kept as text in their Rx session's row, one line a rule.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "pcrf_int.h"

enum stmt {
	GX_PUT,
	GX_DEL,
	RX_PUT,
	RX_DEL,
	RX_DEL_OF_GX,
	NSTMT,
};

static const char *const sql_text[NSTMT] = {
	[GX_PUT] = "INSERT OR REPLACE INTO gx (sid, pcef_host, pcef_realm, "
		   "ipv4, ipv6, apn, created) VALUES (?,?,?,?,?,?,?)",
	[GX_DEL] = "DELETE FROM gx WHERE sid = ?",
	[RX_PUT] = "INSERT OR REPLACE INTO rx (sid, seq, gx_sid, af_host, "
		   "af_realm, subscriber, icid, actions, created, rules) "
		   "VALUES (?,?,?,?,?,?,?,?,?,?)",
	[RX_DEL] = "DELETE FROM rx WHERE sid = ?",
	[RX_DEL_OF_GX] = "DELETE FROM rx WHERE gx_sid = ?",
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS gx (sid TEXT PRIMARY KEY, pcef_host "
	"TEXT, pcef_realm TEXT, ipv4 TEXT, ipv6 TEXT, apn TEXT, created "
	"INTEGER);"
	"CREATE TABLE IF NOT EXISTS rx (sid TEXT PRIMARY KEY, seq INTEGER, "
	"gx_sid TEXT, af_host TEXT, af_realm TEXT, subscriber TEXT, icid "
	"TEXT, actions INTEGER, created INTEGER, rules TEXT);"
	"CREATE INDEX IF NOT EXISTS rx_gx ON rx (gx_sid);"
	"PRAGMA user_version = 1;";

static sqlite3 *db;
static sqlite3_stmt *stmts[NSTMT];
static bool in_batch;

static int exec(const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		tnd_error("store: %s: %s", sql, err ? err : "?");
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

int pcrf_store_open(const char *path)
{
	if (sqlite3_open_v2(path, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		tnd_error("store %s: %s", path, db ? sqlite3_errmsg(db) : "?");
		pcrf_store_close();
		return -EIO;
	}
	if (exec("PRAGMA journal_mode = WAL") ||
	    exec("PRAGMA synchronous = NORMAL") ||
	    exec("PRAGMA locking_mode = EXCLUSIVE") || exec(schema)) {
		pcrf_store_close();
		return -EIO;
	}
	for (int i = 0; i < NSTMT; i++) {
		if (sqlite3_prepare_v2(db, sql_text[i], -1, &stmts[i], NULL)) {
			tnd_error("store: %s", sqlite3_errmsg(db));
			pcrf_store_close();
			return -EIO;
		}
	}
	return 0;
}

void pcrf_store_close(void)
{
	pcrf_store_flush();
	for (int i = 0; i < NSTMT; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
	if (db)
		sqlite3_close(db);
	db = NULL;
}

static void batch_begin(void)
{
	if (!in_batch && db && exec("BEGIN") == 0)
		in_batch = true;
}

void pcrf_store_flush(void)
{
	if (in_batch && exec("COMMIT") != 0)
		exec("ROLLBACK");
	in_batch = false;
}

static void run(sqlite3_stmt *s, const char *what)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		tnd_error("store: %s: %s", what, sqlite3_errmsg(db));
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static void bind_text(sqlite3_stmt *s, int i, const char *text)
{
	sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
}

void pcrf_store_gx_put(const struct pcrf_gx *gx)
{
	sqlite3_stmt *s = stmts[GX_PUT];

	if (!db)
		return;
	batch_begin();
	bind_text(s, 1, gx->sid);
	bind_text(s, 2, gx->pcef_host);
	bind_text(s, 3, gx->pcef_realm);
	bind_text(s, 4, gx->ipv4);
	bind_text(s, 5, gx->ipv6);
	bind_text(s, 6, gx->apn);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)gx->created_s);
	run(s, "gx put");
}

void pcrf_store_gx_del(const char *sid)
{
	if (!db)
		return;
	batch_begin();
	bind_text(stmts[RX_DEL_OF_GX], 1, sid);
	run(stmts[RX_DEL_OF_GX], "rx of gx del");
	bind_text(stmts[GX_DEL], 1, sid);
	run(stmts[GX_DEL], "gx del");
}

/* One line a rule: the numbers, then the flows, tab-separated. */
static void rules_text(const struct pcrf_rx *rx, struct ims_buf *b)
{
	for (unsigned i = 0; i < rx->nrules; i++) {
		const struct pcrf_rule *r = &rx->rules[i];

		ims_buf_printf(b, "%s %u %u %u %u %u %d %d %u %u %u %u %d %u",
			       r->name, r->mc_number, r->media_type,
			       r->flow_status, r->qci, r->arp, r->preempt_cap,
			       r->preempt_vuln, r->mbr_ul, r->mbr_dl, r->gbr_ul,
			       r->gbr_dl, r->lost, r->nflows);
		for (unsigned f = 0; f < r->nflows; f++)
			ims_buf_printf(b, "\t%s", r->flows[f]);
		ims_buf_str(b, "\n");
	}
}

static int rule_parse(const char *line, struct pcrf_rule *r)
{
	const char *tab;
	int lost;

	memset(r, 0, sizeof(*r));
	if (sscanf(line, "%47s %u %u %u %u %u %d %d %u %u %u %u %d %u", r->name,
		   &r->mc_number, &r->media_type, &r->flow_status, &r->qci,
		   &r->arp, &r->preempt_cap, &r->preempt_vuln, &r->mbr_ul,
		   &r->mbr_dl, &r->gbr_ul, &r->gbr_dl, &lost,
		   &r->nflows) != 14 ||
	    r->nflows > PCRF_MAX_FLOWS)
		return -EINVAL;
	r->lost = lost != 0;
	tab = strchr(line, '\t');
	for (unsigned f = 0; f < r->nflows; f++) {
		const char *end;

		if (!tab)
			return -EINVAL;
		end = tab + 1 + strcspn(tab + 1, "\t\n");
		snprintf(r->flows[f], sizeof(r->flows[f]), "%.*s",
			 (int)(end - tab - 1), tab + 1);
		tab = *end == '\t' ? end : NULL;
	}
	return 0;
}

void pcrf_store_rx_put(const struct pcrf_rx *rx)
{
	sqlite3_stmt *s = stmts[RX_PUT];
	struct ims_buf rules = { 0 };

	if (!db)
		return;
	batch_begin();
	rules_text(rx, &rules);
	bind_text(s, 1, rx->sid);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)rx->seq);
	bind_text(s, 3, rx->gx_sid);
	bind_text(s, 4, rx->af_host);
	bind_text(s, 5, rx->af_realm);
	bind_text(s, 6, rx->subscriber);
	bind_text(s, 7, rx->icid);
	sqlite3_bind_int64(s, 8, rx->actions);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)rx->created_s);
	bind_text(s, 10, ims_buf_cstr(&rules));
	run(s, "rx put");
	ims_buf_free(&rules);
}

void pcrf_store_rx_del(const char *sid)
{
	if (!db)
		return;
	batch_begin();
	bind_text(stmts[RX_DEL], 1, sid);
	run(stmts[RX_DEL], "rx del");
}

static void col_copy(sqlite3_stmt *s, int col, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(out, size, "%s", t ? (const char *)t : "");
}

static int load_gx(void)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT sid, pcef_host, pcef_realm, ipv4, "
			       "ipv6, apn, created FROM gx",
			       -1, &s, NULL))
		return -EIO;
	while (!rc && sqlite3_step(s) == SQLITE_ROW) {
		struct pcrf_gx *gx = calloc(1, sizeof(*gx));

		if (!gx) {
			rc = -ENOMEM;
			break;
		}
		col_copy(s, 0, gx->sid, sizeof(gx->sid));
		col_copy(s, 1, gx->pcef_host, sizeof(gx->pcef_host));
		col_copy(s, 2, gx->pcef_realm, sizeof(gx->pcef_realm));
		col_copy(s, 3, gx->ipv4, sizeof(gx->ipv4));
		col_copy(s, 4, gx->ipv6, sizeof(gx->ipv6));
		col_copy(s, 5, gx->apn, sizeof(gx->apn));
		gx->created_s = (uint64_t)sqlite3_column_int64(s, 6);
		rc = pcrf_gx_add(gx);
		if (rc)
			free(gx);
	}
	sqlite3_finalize(s);
	return rc;
}

static void rx_rules(struct pcrf_rx *rx, const char *text)
{
	struct pcrf_rule rules[PCRF_MAX_RULES];
	unsigned n = 0;

	while (text && *text && n < PCRF_MAX_RULES) {
		if (rule_parse(text, &rules[n]) == 0)
			n++;
		else
			tnd_error("store: a rule of %s is unreadable", rx->sid);
		text = strchr(text, '\n');
		if (text)
			text++;
	}
	if (pcrf_rx_set_rules(rx, rules, n))
		tnd_error("store: no memory for the rules of %s", rx->sid);
}

static int load_rx(void)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT sid, seq, gx_sid, af_host, af_realm, "
			       "subscriber, icid, actions, created, rules "
			       "FROM rx",
			       -1, &s, NULL))
		return -EIO;
	while (!rc && sqlite3_step(s) == SQLITE_ROW) {
		struct pcrf_rx *rx = calloc(1, sizeof(*rx));

		if (!rx) {
			rc = -ENOMEM;
			break;
		}
		col_copy(s, 0, rx->sid, sizeof(rx->sid));
		rx->seq = (uint64_t)sqlite3_column_int64(s, 1);
		col_copy(s, 2, rx->gx_sid, sizeof(rx->gx_sid));
		col_copy(s, 3, rx->af_host, sizeof(rx->af_host));
		col_copy(s, 4, rx->af_realm, sizeof(rx->af_realm));
		col_copy(s, 5, rx->subscriber, sizeof(rx->subscriber));
		col_copy(s, 6, rx->icid, sizeof(rx->icid));
		rx->actions = (uint32_t)sqlite3_column_int64(s, 7);
		rx->created_s = (uint64_t)sqlite3_column_int64(s, 8);
		rx_rules(rx, (const char *)sqlite3_column_text(s, 9));
		rc = pcrf_rx_add(rx);
		if (rc) {
			free(rx->rules);
			free(rx);
		}
	}
	sqlite3_finalize(s);
	return rc;
}

int pcrf_store_load(void)
{
	int rc = load_gx();

	return rc ? rc : load_rx();
}
