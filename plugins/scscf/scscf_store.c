/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * scscf_store.c - registrations in SQLite, so that a restarted S-CSCF
 * still knows who is registered where (the HSS keeps only the S-CSCF
 * name). One file, WAL, synchronous=NORMAL: a commit survives a crash of
 * the node; the schema is versioned with PRAGMA user_version.
 *
 *   reg     (impu PK, impi, state, user_data)
 *   contact (impu, uri, expires_at, path, call_id, cseq, received,
 *            instance; PK impu+uri)
 *   sub     (impu, call_id, subscriber, target, route, tag, cseq,
 *            version, expires_at; PK impu+call_id): reg event
 *            subscriptions (version 2)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "scscf_int.h"

static sqlite3 *db;

enum stmt_id {
	ST_SAVE_REG,
	ST_DELETE_REG,
	ST_DELETE_REG_CONTACTS,
	ST_SAVE_CONTACT,
	ST_DELETE_CONTACT,
	ST_SAVE_SUB,
	ST_DELETE_SUB,
	ST_DELETE_REG_SUBS,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_SAVE_REG] = "INSERT OR REPLACE INTO reg (impu, impi, state, "
			"user_data) VALUES (?1, ?2, ?3, ?4)",
	[ST_DELETE_REG] = "DELETE FROM reg WHERE impu = ?1",
	[ST_DELETE_REG_CONTACTS] = "DELETE FROM contact WHERE impu = ?1",
	[ST_SAVE_CONTACT] = "INSERT OR REPLACE INTO contact (impu, uri, "
			    "expires_at, path, call_id, cseq, received, "
			    "instance) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_DELETE_CONTACT] = "DELETE FROM contact WHERE impu = ?1 AND "
			      "uri = ?2",
	[ST_SAVE_SUB] = "INSERT OR REPLACE INTO sub (impu, call_id, "
			"subscriber, target, route, tag, cseq, version, "
			"expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
			"?9)",
	[ST_DELETE_SUB] = "DELETE FROM sub WHERE impu = ?1 AND call_id = ?2",
	[ST_DELETE_REG_SUBS] = "DELETE FROM sub WHERE impu = ?1",
};

static sqlite3_stmt *stmts[ST_COUNT];

/* Migrations: entry i takes the schema from version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE reg (impu TEXT PRIMARY KEY, impi TEXT NOT NULL, "
	"state INTEGER NOT NULL, user_data TEXT);"
	"CREATE TABLE contact (impu TEXT NOT NULL, uri TEXT NOT NULL, "
	"expires_at INTEGER NOT NULL, path TEXT, call_id TEXT, "
	"cseq INTEGER NOT NULL DEFAULT 0, received TEXT, instance TEXT, "
	"PRIMARY KEY (impu, uri));",
	"CREATE TABLE sub (impu TEXT NOT NULL, call_id TEXT NOT NULL, "
	"subscriber TEXT NOT NULL, target TEXT NOT NULL, route TEXT, "
	"tag TEXT NOT NULL, cseq INTEGER NOT NULL, version INTEGER NOT NULL, "
	"expires_at INTEGER NOT NULL, PRIMARY KEY (impu, call_id));",
};

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

static int schema_version(void)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int migrate(void)
{
	int v = schema_version();
	char sql[64];

	if (v < 0)
		return -EIO;
	if ((size_t)v > IMS_ARRAY_SIZE(migrations)) {
		tnd_error("store: schema version %d is newer than this "
			  "S-CSCF (%zu)",
			  v, IMS_ARRAY_SIZE(migrations));
		return -EPROTO;
	}
	for (; (size_t)v < IMS_ARRAY_SIZE(migrations); v++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec("BEGIN") || exec(migrations[v]) || exec(sql) ||
		    exec("COMMIT")) {
			exec("ROLLBACK");
			return -EIO;
		}
		tnd_info("store: schema migrated to version %d", v + 1);
	}
	return 0;
}

int scscf_store_open(const char *path)
{
	if (sqlite3_open_v2(path, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		tnd_error("store: cannot open %s: %s", path,
			  db ? sqlite3_errmsg(db) : "out of memory");
		scscf_store_close();
		return -EIO;
	}
	sqlite3_busy_timeout(db, 2000);
	/* the node owns its file while it runs (as the HSS does) */
	if (exec("PRAGMA journal_mode=WAL") ||
	    exec("PRAGMA synchronous=NORMAL") ||
	    exec("PRAGMA locking_mode=EXCLUSIVE") || migrate()) {
		scscf_store_close();
		return -EIO;
	}
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v2(db, stmt_sql[i], -1, &stmts[i], NULL) !=
		    SQLITE_OK) {
			tnd_error("store: %s", sqlite3_errmsg(db));
			scscf_store_close();
			return -EIO;
		}
	}
	return 0;
}

void scscf_store_close(void)
{
	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
	sqlite3_close(db);
	db = NULL;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		tnd_error("store: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}

int scscf_store_save_reg(const struct scscf_reg *reg)
{
	sqlite3_stmt *st = stmts[ST_SAVE_REG];

	if (!db)
		return -EBADF;
	bind_text(st, 1, reg->impu);
	bind_text(st, 2, reg->impi);
	sqlite3_bind_int(st, 3, reg->state);
	bind_text(st, 4, reg->user_data);
	return run(st);
}

int scscf_store_delete_reg(const char *impu)
{
	int rc;

	if (!db)
		return -EBADF;
	sqlite3_bind_text(stmts[ST_DELETE_REG_SUBS], 1, impu, -1,
			  SQLITE_STATIC);
	rc = run(stmts[ST_DELETE_REG_SUBS]);
	sqlite3_bind_text(stmts[ST_DELETE_REG_CONTACTS], 1, impu, -1,
			  SQLITE_STATIC);
	rc = rc ? rc : run(stmts[ST_DELETE_REG_CONTACTS]);
	sqlite3_bind_text(stmts[ST_DELETE_REG], 1, impu, -1, SQLITE_STATIC);
	return rc ? rc : run(stmts[ST_DELETE_REG]);
}

int scscf_store_save_contact(const char *impu, const struct scscf_contact *c)
{
	sqlite3_stmt *st = stmts[ST_SAVE_CONTACT];

	if (!db)
		return -EBADF;
	bind_text(st, 1, impu);
	bind_text(st, 2, c->uri);
	sqlite3_bind_int64(st, 3, c->expires_at);
	bind_text(st, 4, c->path);
	bind_text(st, 5, c->call_id);
	sqlite3_bind_int64(st, 6, c->cseq);
	bind_text(st, 7, c->received);
	bind_text(st, 8, c->instance);
	return run(st);
}

int scscf_store_delete_contact(const char *impu, const char *uri)
{
	sqlite3_stmt *st = stmts[ST_DELETE_CONTACT];

	if (!db)
		return -EBADF;
	bind_text(st, 1, impu);
	bind_text(st, 2, uri);
	return run(st);
}

int scscf_store_save_sub(const struct scscf_sub_row *row)
{
	sqlite3_stmt *st = stmts[ST_SAVE_SUB];

	if (!db)
		return -EBADF;
	bind_text(st, 1, row->impu);
	bind_text(st, 2, row->call_id);
	bind_text(st, 3, row->subscriber);
	bind_text(st, 4, row->target);
	bind_text(st, 5, row->route);
	bind_text(st, 6, row->tag);
	sqlite3_bind_int64(st, 7, row->cseq);
	sqlite3_bind_int64(st, 8, row->version);
	sqlite3_bind_int64(st, 9, row->expires_at);
	return run(st);
}

int scscf_store_delete_sub(const char *impu, const char *call_id)
{
	sqlite3_stmt *st = stmts[ST_DELETE_SUB];

	if (!db)
		return -EBADF;
	bind_text(st, 1, impu);
	bind_text(st, 2, call_id);
	return run(st);
}

/*
 * The writes of one REGISTER (its registration, its bindings, its reg
 * event subscriptions) in one transaction: one commit instead of one per
 * row, a third of the S-CSCF's SQLite time under load. Nesting is not
 * needed: a batch covers one callback.
 */
void scscf_store_batch_begin(void)
{
	if (db && sqlite3_get_autocommit(db))
		exec("BEGIN");
}

void scscf_store_batch_end(void)
{
	if (db && !sqlite3_get_autocommit(db) && exec("COMMIT"))
		exec("ROLLBACK");
}

static const char *col(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int scscf_store_load(int (*reg_fn)(const char *impu, const char *impi,
				   int state, const char *user_data, void *arg),
		     int (*contact_fn)(const char *impu,
				       const struct scscf_contact *c,
				       void *arg),
		     void *arg)
{
	sqlite3_stmt *st;
	int rc = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT impu, impi, state, user_data FROM "
			       "reg",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	while (!rc && sqlite3_step(st) == SQLITE_ROW)
		rc = reg_fn(col(st, 0), col(st, 1), sqlite3_column_int(st, 2),
			    col(st, 3), arg);
	sqlite3_finalize(st);
	if (rc || sqlite3_prepare_v2(db,
				     "SELECT impu, uri, expires_at, path, "
				     "call_id, cseq, received, instance "
				     "FROM contact",
				     -1, &st, NULL) != SQLITE_OK)
		return rc ? rc : -EIO;
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		struct scscf_contact c = {
			.uri = (char *)col(st, 1),
			.expires_at = sqlite3_column_int64(st, 2),
			.path = (char *)col(st, 3),
			.call_id = (char *)col(st, 4),
			.cseq = (uint32_t)sqlite3_column_int64(st, 5),
			.received = (char *)col(st, 6),
			.instance = (char *)col(st, 7),
		};

		rc = contact_fn(col(st, 0), &c, arg);
	}
	sqlite3_finalize(st);
	return rc;
}

int scscf_store_load_subs(int64_t now,
			  int (*fn)(const struct scscf_sub_row *row, void *arg),
			  void *arg)
{
	sqlite3_stmt *st;
	int rc = 0;

	/* what ended while we were down goes first */
	if (!db || sqlite3_prepare_v2(db,
				      "DELETE FROM sub WHERE expires_at <= ?1 "
				      "OR impu NOT IN (SELECT impu FROM reg)",
				      -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, now);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	if (rc || sqlite3_prepare_v2(db,
				     "SELECT impu, call_id, subscriber, "
				     "target, route, tag, cseq, version, "
				     "expires_at FROM sub",
				     -1, &st, NULL) != SQLITE_OK)
		return rc ? rc : -EIO;
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		struct scscf_sub_row row = {
			.impu = col(st, 0),
			.call_id = col(st, 1),
			.subscriber = col(st, 2),
			.target = col(st, 3),
			.route = col(st, 4),
			.tag = col(st, 5),
			.cseq = (uint32_t)sqlite3_column_int64(st, 6),
			.version = (uint32_t)sqlite3_column_int64(st, 7),
			.expires_at = sqlite3_column_int64(st, 8),
		};

		rc = fn(&row, arg);
	}
	sqlite3_finalize(st);
	return rc;
}
