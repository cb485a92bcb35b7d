/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hss_store.c - the subscriber store on SQLite. The schema lives in the
 * migrations[] list: a new version appends one step, never edits an old
 * one; PRAGMA user_version says which steps a file has had.
 *
 * The file runs in WAL mode with synchronous=NORMAL: a commit survives a
 * crash of the node (what "restarts lose nothing" asks), one fsync per
 * checkpoint rather than per SQN update.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "hss_store.h"

static const char *const migrations[] = {
	/* 1: the first schema */
	"CREATE TABLE subscription ("
	"  id INTEGER PRIMARY KEY,"
	"  imsi TEXT UNIQUE,"
	"  scscf_name TEXT NOT NULL DEFAULT '',"
	"  scscf_host TEXT NOT NULL DEFAULT '',"
	"  roaming_allowed INTEGER NOT NULL DEFAULT 0,"
	"  mandatory_caps TEXT NOT NULL DEFAULT '',"
	"  optional_caps TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE impi ("
	"  id INTEGER PRIMARY KEY,"
	"  subscription_id INTEGER NOT NULL"
	"    REFERENCES subscription(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL UNIQUE,"
	"  scheme TEXT NOT NULL DEFAULT 'aka',"
	"  k TEXT NOT NULL DEFAULT '', op TEXT NOT NULL DEFAULT '',"
	"  opc TEXT NOT NULL DEFAULT '', amf TEXT NOT NULL DEFAULT '8000',"
	"  sqn INTEGER NOT NULL DEFAULT 0,"
	"  password TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE service_profile ("
	"  name TEXT PRIMARY KEY,"
	"  ifc_xml TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE impu ("
	"  id INTEGER PRIMARY KEY,"
	"  subscription_id INTEGER NOT NULL"
	"    REFERENCES subscription(id) ON DELETE CASCADE,"
	"  identity TEXT NOT NULL UNIQUE,"
	"  type INTEGER NOT NULL DEFAULT 0,"
	"  barred INTEGER NOT NULL DEFAULT 0,"
	"  irs INTEGER NOT NULL DEFAULT 1,"
	"  profile TEXT NOT NULL DEFAULT '',"
	"  reg_state INTEGER NOT NULL DEFAULT 0,"
	"  can_register INTEGER NOT NULL DEFAULT 1);"
	"CREATE INDEX impi_subscription ON impi(subscription_id);"
	"CREATE INDEX impu_subscription ON impu(subscription_id);"
	"CREATE INDEX impu_wildcard ON impu(type) WHERE type = 2;",
	/* 2: Sh repository data and subscriptions to notifications */
	"CREATE TABLE repository_data ("
	"  impu TEXT NOT NULL,"
	"  service_indication TEXT NOT NULL,"
	"  sequence INTEGER NOT NULL,"
	"  data BLOB NOT NULL,"
	"  PRIMARY KEY (impu, service_indication));"
	"CREATE TABLE sh_subscription ("
	"  impu TEXT NOT NULL,"
	"  data_reference INTEGER NOT NULL,"
	"  service_indication TEXT NOT NULL DEFAULT '',"
	"  as_host TEXT NOT NULL,"
	"  PRIMARY KEY (impu, data_reference, service_indication, as_host));",
	/* 3: S-CSCF restoration information (TS 29.228 6.1.2, TS 23.380) */
	"CREATE TABLE restoration ("
	"  impi TEXT NOT NULL,"
	"  contact TEXT NOT NULL,"
	"  path TEXT NOT NULL DEFAULT '',"
	"  call_id TEXT NOT NULL DEFAULT '',"
	"  cseq INTEGER,"
	"  timeout INTEGER NOT NULL DEFAULT 0,"
	"  scheme TEXT NOT NULL DEFAULT '',"
	"  PRIMARY KEY (impi, contact));",
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

enum stmt_id {
	S_SUB_GET,
	S_IMPI_GET,
	S_IMPU_GET,
	S_IMPU_WILDCARDS,
	S_SQN_SET,
	S_ASSIGN,
	S_IRS_STATE,
	S_IMPUS_OF,
	S_IMPIS_OF,
	S_IMPIS_ALL,
	S_PROFILE_GET,
	S_PROFILE_PUT,
	S_PROFILE_DEL,
	S_PROFILES,
	S_SUB_ADD,
	S_IMPI_ADD,
	S_IMPU_ADD,
	S_SUB_DEL,
	S_SUB_UPDATE,
	S_IMPI_UPDATE,
	S_IMPU_UPDATE,
	S_IMPU_DEL,
	S_REPO_GET,
	S_REPO_PUT,
	S_REPO_DEL,
	S_SHSUB_ADD,
	S_SHSUB_DEL,
	S_SHSUB_OF,
	S_RESTO_PUT,
	S_RESTO_CLEAR,
	S_RESTO_OF,
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_COUNT
};

#define IMPI_COLS                                                              \
	"id, subscription_id, name, scheme, k, op, opc, amf, "                 \
	"sqn, password"
#define IMPU_COLS                                                              \
	"id, subscription_id, identity, type, barred, irs, "                   \
	"profile, reg_state, can_register"

static const char *const stmt_sql[S_COUNT] = {
	[S_SUB_GET] = "SELECT id, coalesce(imsi, ''), scscf_name, scscf_host,"
		      " roaming_allowed, mandatory_caps, optional_caps"
		      " FROM subscription WHERE id = ?",
	[S_IMPI_GET] = "SELECT " IMPI_COLS " FROM impi WHERE name = ?",
	[S_IMPU_GET] = "SELECT " IMPU_COLS " FROM impu WHERE identity = ?",
	[S_IMPU_WILDCARDS] = "SELECT " IMPU_COLS " FROM impu WHERE type = 2",
	[S_SQN_SET] = "UPDATE impi SET sqn = ? WHERE id = ?",
	[S_ASSIGN] = "UPDATE subscription SET scscf_name = ?, scscf_host = ?"
		     " WHERE id = ?",
	[S_IRS_STATE] = "UPDATE impu SET reg_state = ?"
			" WHERE subscription_id = ? AND irs = ?",
	[S_IMPUS_OF] = "SELECT " IMPU_COLS " FROM impu"
		       " WHERE subscription_id = ? ORDER BY id",
	[S_IMPIS_OF] = "SELECT " IMPI_COLS " FROM impi"
		       " WHERE subscription_id = ? ORDER BY id",
	[S_IMPIS_ALL] = "SELECT " IMPI_COLS " FROM impi ORDER BY name",
	[S_PROFILE_GET] = "SELECT ifc_xml FROM service_profile WHERE name = ?",
	[S_PROFILE_PUT] = "INSERT INTO service_profile(name, ifc_xml)"
			  " VALUES (?, ?) ON CONFLICT(name)"
			  " DO UPDATE SET ifc_xml = excluded.ifc_xml",
	[S_PROFILE_DEL] = "DELETE FROM service_profile WHERE name = ?",
	[S_PROFILES] = "SELECT name, ifc_xml FROM service_profile"
		       " ORDER BY name",
	[S_SUB_ADD] = "INSERT INTO subscription(imsi, roaming_allowed,"
		      " mandatory_caps, optional_caps) VALUES (?, ?, ?, ?)",
	[S_IMPI_ADD] = "INSERT INTO impi(subscription_id, name, scheme, k, op,"
		       " opc, amf, sqn, password)"
		       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[S_IMPU_ADD] = "INSERT INTO impu(subscription_id, identity, type,"
		       " barred, irs, profile, can_register)"
		       " VALUES (?, ?, ?, ?, ?, ?, ?)",
	[S_SUB_DEL] = "DELETE FROM subscription WHERE id = ?",
	[S_SUB_UPDATE] =
		"UPDATE subscription SET imsi = ?, roaming_allowed = ?,"
		" mandatory_caps = ?, optional_caps = ?,"
		" scscf_name = ?, scscf_host = ? WHERE id = ?",
	[S_IMPI_UPDATE] = "UPDATE impi SET scheme = ?, k = ?, op = ?, opc = ?,"
			  " amf = ?, sqn = ?, password = ? WHERE id = ?",
	[S_IMPU_UPDATE] = "UPDATE impu SET type = ?, barred = ?, irs = ?,"
			  " profile = ?, reg_state = ?, can_register = ?"
			  " WHERE id = ?",
	[S_IMPU_DEL] = "DELETE FROM impu WHERE identity = ?",
	[S_REPO_GET] = "SELECT sequence, data FROM repository_data"
		       " WHERE impu = ? AND service_indication = ?",
	[S_REPO_PUT] =
		"INSERT INTO repository_data(impu, service_indication,"
		" sequence, data) VALUES (?, ?, ?, ?)"
		" ON CONFLICT(impu, service_indication) DO UPDATE"
		" SET sequence = excluded.sequence, data = excluded.data",
	[S_REPO_DEL] = "DELETE FROM repository_data"
		       " WHERE impu = ? AND service_indication = ?",
	[S_SHSUB_ADD] = "INSERT OR IGNORE INTO sh_subscription(impu,"
			" data_reference, service_indication, as_host)"
			" VALUES (?, ?, ?, ?)",
	[S_SHSUB_DEL] = "DELETE FROM sh_subscription WHERE impu = ? AND"
			" data_reference = ? AND service_indication = ? AND"
			" as_host = ?",
	[S_SHSUB_OF] = "SELECT data_reference, service_indication, as_host"
		       " FROM sh_subscription WHERE impu = ?",
	[S_RESTO_PUT] =
		"INSERT OR REPLACE INTO restoration(impi, contact, path,"
		" call_id, cseq, timeout, scheme)"
		" VALUES (?, ?, ?, ?, ?, ?, ?)",
	[S_RESTO_CLEAR] = "DELETE FROM restoration WHERE impi = ?",
	[S_RESTO_OF] =
		"SELECT impi, contact, path, call_id, coalesce(cseq, -1),"
		" timeout, scheme FROM restoration WHERE impi = ?"
		" ORDER BY rowid",
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
};

struct hss_store {
	sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT];
	int version;
	bool sh_subscribed; /* some AS ever subscribed: PNR may be due */
	bool in_txn;	    /* hss_store_begin() .. commit/rollback */
	bool batching;	    /* changes join the group transaction */
	bool batch_open;    /* the group transaction is open */
	bool batch_failed;  /* it failed since the last batch_end */
};

static long count_of(struct hss_store *st, const char *sql);
static int batch_close(struct hss_store *st);

/* ---- Opening and migrations --------------------------------------------- */

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

static int user_version(sqlite3 *db)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL))
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int migrate(sqlite3 *db, int *version)
{
	int v = user_version(db);
	char sql[64];

	if (v < 0)
		return -EIO;
	if ((size_t)v > NMIGRATIONS)
		return -EPROTO; /* a newer tandem made this file */
	for (; (size_t)v < NMIGRATIONS; v++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec(db, "BEGIN") || exec(db, migrations[v]) ||
		    exec(db, sql) || exec(db, "COMMIT")) {
			exec(db, "ROLLBACK");
			return -EIO;
		}
	}
	*version = v;
	return 0;
}

int hss_store_open(const char *path, struct hss_store **out)
{
	struct hss_store *st = calloc(1, sizeof(*st));
	int rc = -EIO;

	if (!st)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(st->db, 2000);
	if (exec(st->db, "PRAGMA journal_mode = WAL") ||
	    exec(st->db, "PRAGMA synchronous = NORMAL") ||
	    exec(st->db, "PRAGMA foreign_keys = ON") ||
	    exec(st->db, "PRAGMA locking_mode = EXCLUSIVE"))
		goto fail;
	rc = migrate(st->db, &st->version);
	if (rc)
		goto fail;
	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
				       NULL) != SQLITE_OK) {
			rc = -EIO;
			goto fail;
		}
	}
	st->sh_subscribed =
		count_of(st, "SELECT count(*) FROM sh_subscription") != 0;
	*out = st;
	return 0;
fail:
	hss_store_close(st);
	return rc;
}

void hss_store_close(struct hss_store *st)
{
	if (!st)
		return;
	batch_close(st);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

int hss_store_version(struct hss_store *st)
{
	return st->version;
}

/* ---- Statement helpers -------------------------------------------------- */

static sqlite3_stmt *stmt(struct hss_store *st, enum stmt_id id)
{
	sqlite3_reset(st->stmt[id]);
	sqlite3_clear_bindings(st->stmt[id]);
	return st->stmt[id];
}

static void bind_text(sqlite3_stmt *s, int i, const char *text)
{
	sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
}

static int exec_id(struct hss_store *st, enum stmt_id id)
{
	sqlite3_stmt *s = stmt(st, id);
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Commits the group transaction, if one is open. */
static int batch_close(struct hss_store *st)
{
	if (!st->batch_open)
		return 0;
	st->batch_open = false;
	if (exec_id(st, S_COMMIT) == 0)
		return 0;
	exec_id(st, S_ROLLBACK);
	st->batch_failed = true;
	return -EIO;
}

/*
 * Before a change: inside an explicit transaction, nothing to do; while
 * batching, join the group transaction (open it first); otherwise the
 * change commits by itself, after the group transaction (never in it).
 */
static int change_prepare(struct hss_store *st)
{
	if (st->in_txn)
		return 0;
	if (!st->batching) {
		batch_close(st);
		return 0;
	}
	if (st->batch_open)
		return 0;
	if (exec_id(st, S_BEGIN))
		return -EIO;
	st->batch_open = true;
	return 0;
}

/* A statement that changes rows: 0, -ENOENT when nothing matched,
 * -EEXIST on a UNIQUE conflict. */
static int run(struct hss_store *st, sqlite3_stmt *s, bool must_change)
{
	int rc = change_prepare(st);

	if (rc) {
		sqlite3_reset(s);
		return rc;
	}
	rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (rc != SQLITE_DONE)
		return -EIO;
	if (must_change && sqlite3_changes(st->db) == 0)
		return -ENOENT;
	return 0;
}

/* A text column into a buffer, cut to fit (every row read goes here:
 * no snprintf). */
static void copy_col(sqlite3_stmt *s, int col, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(s, col) : 0;

	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(out, t, n);
	out[n] = '\0';
}

int hss_store_begin(struct hss_store *st)
{
	int rc;

	if (st->in_txn)
		return -EBUSY;
	batch_close(st);
	rc = exec_id(st, S_BEGIN);
	st->in_txn = rc == 0;
	return rc;
}

int hss_store_commit(struct hss_store *st)
{
	int rc = exec_id(st, S_COMMIT);

	if (rc == 0)
		st->in_txn = false;
	return rc;
}

void hss_store_rollback(struct hss_store *st)
{
	exec_id(st, S_ROLLBACK);
	st->in_txn = false;
}

void hss_store_batching(struct hss_store *st, bool on)
{
	st->batching = on;
}

bool hss_store_batch_pending(struct hss_store *st)
{
	return st->batch_open || st->batch_failed;
}

int hss_store_batch_end(struct hss_store *st)
{
	int rc = batch_close(st);

	if (st->batch_failed)
		rc = -EIO;
	st->batch_failed = false;
	return rc;
}

/* ---- Reading ------------------------------------------------------------ */

static void row_impi(sqlite3_stmt *s, struct hss_impi *p)
{
	p->id = sqlite3_column_int64(s, 0);
	p->subscription_id = sqlite3_column_int64(s, 1);
	copy_col(s, 2, p->name, sizeof(p->name));
	copy_col(s, 3, p->scheme, sizeof(p->scheme));
	copy_col(s, 4, p->k, sizeof(p->k));
	copy_col(s, 5, p->op, sizeof(p->op));
	copy_col(s, 6, p->opc, sizeof(p->opc));
	copy_col(s, 7, p->amf, sizeof(p->amf));
	p->sqn = (uint64_t)sqlite3_column_int64(s, 8);
	copy_col(s, 9, p->password, sizeof(p->password));
}

static void row_impu(sqlite3_stmt *s, struct hss_impu *u)
{
	u->id = sqlite3_column_int64(s, 0);
	u->subscription_id = sqlite3_column_int64(s, 1);
	copy_col(s, 2, u->identity, sizeof(u->identity));
	u->type = sqlite3_column_int(s, 3);
	u->barred = sqlite3_column_int(s, 4);
	u->irs = sqlite3_column_int(s, 5);
	copy_col(s, 6, u->profile, sizeof(u->profile));
	u->reg_state = sqlite3_column_int(s, 7);
	u->can_register = sqlite3_column_int(s, 8);
}

int hss_subscription_get(struct hss_store *st, int64_t id,
			 struct hss_subscription *sub)
{
	sqlite3_stmt *s = stmt(st, S_SUB_GET);
	int rc;

	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		sub->id = sqlite3_column_int64(s, 0);
		copy_col(s, 1, sub->imsi, sizeof(sub->imsi));
		copy_col(s, 2, sub->scscf_name, sizeof(sub->scscf_name));
		copy_col(s, 3, sub->scscf_host, sizeof(sub->scscf_host));
		sub->roaming_allowed = sqlite3_column_int(s, 4);
		copy_col(s, 5, sub->mandatory_caps,
			 sizeof(sub->mandatory_caps));
		copy_col(s, 6, sub->optional_caps, sizeof(sub->optional_caps));
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int hss_impi_get(struct hss_store *st, const char *name, struct hss_impi *impi)
{
	sqlite3_stmt *s = stmt(st, S_IMPI_GET);
	int rc;

	bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		row_impi(s, impi);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

/*
 * A wildcarded PSI (TS 23.003 13.5) holds its wildcard between two '!'
 * characters: "sip:chat-!.*!@ims.lab". The wildcard is an extended
 * regular expression; the rest matches literally.
 */
static bool wildcard_matches(const char *pattern, const char *identity)
{
	const char *open = strchr(pattern, '!');
	const char *close = open ? strchr(open + 1, '!') : NULL;
	char re_text[2 * HSS_ID_LEN + 8];
	size_t n = 0;
	regex_t re;
	bool match;

	if (!close)
		return strcmp(pattern, identity) == 0;
	re_text[n++] = '^';
	for (const char *p = pattern; *p && n < sizeof(re_text) - 4; p++) {
		if (p == open || p == close)
			continue;
		if (p > open && p < close) {
			re_text[n++] = *p;
			continue;
		}
		if (strchr(".[]{}()\\*+?^$|", *p))
			re_text[n++] = '\\';
		re_text[n++] = *p;
	}
	re_text[n++] = '$';
	re_text[n] = '\0';
	if (regcomp(&re, re_text, REG_EXTENDED | REG_NOSUB))
		return false;
	match = regexec(&re, identity, 0, NULL, 0) == 0;
	regfree(&re);
	return match;
}

static int impu_wildcard_get(struct hss_store *st, const char *identity,
			     struct hss_impu *impu)
{
	sqlite3_stmt *s = stmt(st, S_IMPU_WILDCARDS);
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *pattern = sqlite3_column_text(s, 2);

		if (pattern &&
		    wildcard_matches((const char *)pattern, identity)) {
			row_impu(s, impu);
			sqlite3_reset(s);
			return 0;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int hss_impu_get(struct hss_store *st, const char *identity,
		 struct hss_impu *impu)
{
	sqlite3_stmt *s = stmt(st, S_IMPU_GET);
	int rc;

	bind_text(s, 1, identity);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		row_impu(s, impu);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return impu_wildcard_get(st, identity, impu);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

int hss_impus_each(struct hss_store *st, int64_t subscription_id,
		   hss_impu_cb cb, void *arg)
{
	sqlite3_stmt *s = stmt(st, S_IMPUS_OF);
	struct hss_impu impu;
	int rc, stop = 0;

	sqlite3_bind_int64(s, 1, subscription_id);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_impu(s, &impu);
		stop = cb(&impu, arg);
	}
	sqlite3_reset(s);
	return stop ? stop : rc == SQLITE_DONE ? 0 : -EIO;
}

static int impis_run(sqlite3_stmt *s, hss_impi_cb cb, void *arg)
{
	struct hss_impi impi;
	int rc, stop = 0;

	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		row_impi(s, &impi);
		stop = cb(&impi, arg);
	}
	sqlite3_reset(s);
	return stop ? stop : rc == SQLITE_DONE ? 0 : -EIO;
}

int hss_impis_each(struct hss_store *st, int64_t subscription_id,
		   hss_impi_cb cb, void *arg)
{
	sqlite3_stmt *s = stmt(st, S_IMPIS_OF);

	sqlite3_bind_int64(s, 1, subscription_id);
	return impis_run(s, cb, arg);
}

int hss_impis_all(struct hss_store *st, hss_impi_cb cb, void *arg)
{
	return impis_run(stmt(st, S_IMPIS_ALL), cb, arg);
}

/* ---- Changes made by Cx ------------------------------------------------- */

int hss_impi_set_sqn(struct hss_store *st, int64_t impi_id, uint64_t sqn)
{
	sqlite3_stmt *s = stmt(st, S_SQN_SET);

	sqlite3_bind_int64(s, 1, (sqlite3_int64)sqn);
	sqlite3_bind_int64(s, 2, impi_id);
	return run(st, s, true);
}

int hss_subscription_assign(struct hss_store *st, int64_t id,
			    const char *scscf_name, const char *scscf_host)
{
	sqlite3_stmt *s = stmt(st, S_ASSIGN);

	bind_text(s, 1, scscf_name);
	bind_text(s, 2, scscf_host);
	sqlite3_bind_int64(s, 3, id);
	return run(st, s, true);
}

int hss_irs_set_state(struct hss_store *st, int64_t subscription_id, int irs,
		      int state)
{
	sqlite3_stmt *s = stmt(st, S_IRS_STATE);

	sqlite3_bind_int(s, 1, state);
	sqlite3_bind_int64(s, 2, subscription_id);
	sqlite3_bind_int(s, 3, irs);
	return run(st, s, false);
}

/* ---- Service profiles --------------------------------------------------- */

int hss_profile_get(struct hss_store *st, const char *name, char **xml)
{
	sqlite3_stmt *s = stmt(st, S_PROFILE_GET);
	int rc;

	bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		*xml = strdup(t ? (const char *)t : "");
		if (!*xml)
			rc = SQLITE_NOMEM;
	}
	sqlite3_reset(s);
	if (rc == SQLITE_NOMEM)
		return -ENOMEM;
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int hss_profile_put(struct hss_store *st, const char *name, const char *xml)
{
	sqlite3_stmt *s = stmt(st, S_PROFILE_PUT);

	bind_text(s, 1, name);
	bind_text(s, 2, xml);
	return run(st, s, false);
}

int hss_profile_delete(struct hss_store *st, const char *name)
{
	sqlite3_stmt *s = stmt(st, S_PROFILE_DEL);

	bind_text(s, 1, name);
	return run(st, s, true);
}

int hss_profiles_each(struct hss_store *st, hss_profile_cb cb, void *arg)
{
	sqlite3_stmt *s = stmt(st, S_PROFILES);
	int rc, stop = 0;

	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(s, 0);
		const unsigned char *xml = sqlite3_column_text(s, 1);

		stop = cb((const char *)name, xml ? (const char *)xml : "",
			  arg);
	}
	sqlite3_reset(s);
	return stop ? stop : rc == SQLITE_DONE ? 0 : -EIO;
}

/* ---- Provisioning ------------------------------------------------------- */

static void bind_impu(sqlite3_stmt *s, int64_t sub_id, const struct hss_impu *u)
{
	sqlite3_bind_int64(s, 1, sub_id);
	bind_text(s, 2, u->identity);
	sqlite3_bind_int(s, 3, u->type);
	sqlite3_bind_int(s, 4, u->barred);
	sqlite3_bind_int(s, 5, u->irs);
	bind_text(s, 6, u->profile);
	sqlite3_bind_int(s, 7, u->can_register);
}

int hss_impu_add(struct hss_store *st, int64_t subscription_id,
		 struct hss_impu *impu)
{
	sqlite3_stmt *s = stmt(st, S_IMPU_ADD);
	int rc;

	bind_impu(s, subscription_id, impu);
	rc = run(st, s, false);
	if (rc == 0) {
		impu->id = sqlite3_last_insert_rowid(st->db);
		impu->subscription_id = subscription_id;
	}
	return rc;
}

static int subscription_add(struct hss_store *st, struct hss_subscription *sub)
{
	sqlite3_stmt *s = stmt(st, S_SUB_ADD);
	int rc;

	if (sub->imsi[0])
		bind_text(s, 1, sub->imsi);
	else
		sqlite3_bind_null(s, 1);
	sqlite3_bind_int(s, 2, sub->roaming_allowed);
	bind_text(s, 3, sub->mandatory_caps);
	bind_text(s, 4, sub->optional_caps);
	rc = run(st, s, false);
	if (rc == 0)
		sub->id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

static int impi_add(struct hss_store *st, int64_t sub_id, struct hss_impi *p)
{
	sqlite3_stmt *s = stmt(st, S_IMPI_ADD);
	int rc;

	sqlite3_bind_int64(s, 1, sub_id);
	bind_text(s, 2, p->name);
	bind_text(s, 3, p->scheme);
	bind_text(s, 4, p->k);
	bind_text(s, 5, p->op);
	bind_text(s, 6, p->opc);
	bind_text(s, 7, p->amf);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)p->sqn);
	bind_text(s, 9, p->password);
	rc = run(st, s, false);
	if (rc == 0) {
		p->id = sqlite3_last_insert_rowid(st->db);
		p->subscription_id = sub_id;
	}
	return rc;
}

int hss_subscriber_add(struct hss_store *st, struct hss_subscriber *sub)
{
	int rc = hss_store_begin(st);

	if (rc)
		return rc;
	rc = subscription_add(st, &sub->sub);
	if (rc == 0)
		rc = impi_add(st, sub->sub.id, &sub->impi);
	for (size_t i = 0; rc == 0 && i < sub->nimpus; i++)
		rc = hss_impu_add(st, sub->sub.id, &sub->impus[i]);
	if (rc == 0)
		rc = hss_store_commit(st);
	if (rc)
		hss_store_rollback(st);
	return rc;
}

int hss_subscriber_delete(struct hss_store *st, const char *name)
{
	struct hss_impi impi;
	sqlite3_stmt *s;
	int rc = hss_impi_get(st, name, &impi);

	if (rc)
		return rc;
	s = stmt(st, S_SUB_DEL);
	sqlite3_bind_int64(s, 1, impi.subscription_id);
	return run(st, s, true);
}

int hss_subscriber_update(struct hss_store *st, const struct hss_subscriber *x)
{
	sqlite3_stmt *s = stmt(st, S_SUB_UPDATE);
	int rc = hss_store_begin(st);

	if (rc)
		return rc;
	if (x->sub.imsi[0])
		bind_text(s, 1, x->sub.imsi);
	else
		sqlite3_bind_null(s, 1);
	sqlite3_bind_int(s, 2, x->sub.roaming_allowed);
	bind_text(s, 3, x->sub.mandatory_caps);
	bind_text(s, 4, x->sub.optional_caps);
	bind_text(s, 5, x->sub.scscf_name);
	bind_text(s, 6, x->sub.scscf_host);
	sqlite3_bind_int64(s, 7, x->sub.id);
	rc = run(st, s, true);
	if (rc == 0) {
		s = stmt(st, S_IMPI_UPDATE);
		bind_text(s, 1, x->impi.scheme);
		bind_text(s, 2, x->impi.k);
		bind_text(s, 3, x->impi.op);
		bind_text(s, 4, x->impi.opc);
		bind_text(s, 5, x->impi.amf);
		sqlite3_bind_int64(s, 6, (sqlite3_int64)x->impi.sqn);
		bind_text(s, 7, x->impi.password);
		sqlite3_bind_int64(s, 8, x->impi.id);
		rc = run(st, s, true);
	}
	for (size_t i = 0; rc == 0 && i < x->nimpus; i++)
		rc = hss_impu_update(st, &x->impus[i]);
	if (rc == 0)
		rc = hss_store_commit(st);
	if (rc)
		hss_store_rollback(st);
	return rc;
}

struct load_ctx {
	struct hss_subscriber *s;
};

static int load_impu(const struct hss_impu *impu, void *arg)
{
	struct hss_subscriber *s = arg;

	if (s->nimpus < sizeof(s->impus) / sizeof(s->impus[0]))
		s->impus[s->nimpus++] = *impu;
	return 0;
}

int hss_subscriber_load(struct hss_store *st, const char *name,
			struct hss_subscriber *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = hss_impi_get(st, name, &s->impi);
	if (rc == 0)
		rc = hss_subscription_get(st, s->impi.subscription_id, &s->sub);
	if (rc == 0)
		rc = hss_impus_each(st, s->sub.id, load_impu, s);
	return rc;
}

int hss_impu_update(struct hss_store *st, const struct hss_impu *u)
{
	sqlite3_stmt *s = stmt(st, S_IMPU_UPDATE);

	sqlite3_bind_int(s, 1, u->type);
	sqlite3_bind_int(s, 2, u->barred);
	sqlite3_bind_int(s, 3, u->irs);
	bind_text(s, 4, u->profile);
	sqlite3_bind_int(s, 5, u->reg_state);
	sqlite3_bind_int(s, 6, u->can_register);
	sqlite3_bind_int64(s, 7, u->id);
	return run(st, s, true);
}

int hss_impu_delete(struct hss_store *st, const char *identity)
{
	sqlite3_stmt *s = stmt(st, S_IMPU_DEL);

	bind_text(s, 1, identity);
	return run(st, s, true);
}

static long count_of(struct hss_store *st, const char *sql)
{
	sqlite3_stmt *s;
	long n = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

int hss_store_counts(struct hss_store *st, long *impis, long *impus,
		     long *registered)
{
	*impis = count_of(st, "SELECT count(*) FROM impi");
	*impus = count_of(st, "SELECT count(*) FROM impu");
	*registered = count_of(st, "SELECT count(*) FROM impu"
				   " WHERE reg_state = 1");
	return *impis < 0 || *impus < 0 || *registered < 0 ? -EIO : 0;
}

/* ---- Sh: repository data and subscriptions ------------------------------ */

int hss_repo_get(struct hss_store *st, const char *impu, const char *si,
		 uint32_t *sequence, char **data, size_t *len)
{
	sqlite3_stmt *s = stmt(st, S_REPO_GET);
	int rc;

	bind_text(s, 1, impu);
	bind_text(s, 2, si);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(s, 1);
		int n = sqlite3_column_bytes(s, 1);

		*sequence = (uint32_t)sqlite3_column_int64(s, 0);
		*len = (size_t)n;
		*data = malloc((size_t)n + 1);
		if (*data) {
			if (n)
				memcpy(*data, blob, (size_t)n);
			(*data)[n] = '\0';
		} else {
			rc = SQLITE_NOMEM;
		}
	}
	sqlite3_reset(s);
	if (rc == SQLITE_NOMEM)
		return -ENOMEM;
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int hss_repo_put(struct hss_store *st, const char *impu, const char *si,
		 uint32_t sequence, const char *data, size_t len)
{
	sqlite3_stmt *s = stmt(st, S_REPO_PUT);

	bind_text(s, 1, impu);
	bind_text(s, 2, si);
	sqlite3_bind_int64(s, 3, sequence);
	sqlite3_bind_blob(s, 4, data, (int)len, SQLITE_STATIC);
	return run(st, s, false);
}

int hss_repo_delete(struct hss_store *st, const char *impu, const char *si)
{
	sqlite3_stmt *s = stmt(st, S_REPO_DEL);

	bind_text(s, 1, impu);
	bind_text(s, 2, si);
	return run(st, s, true);
}

int hss_shsub_set(struct hss_store *st, const char *impu, int data_ref,
		  const char *si, const char *as_host, bool subscribe)
{
	sqlite3_stmt *s = stmt(st, subscribe ? S_SHSUB_ADD : S_SHSUB_DEL);

	bind_text(s, 1, impu);
	sqlite3_bind_int(s, 2, data_ref);
	bind_text(s, 3, si);
	bind_text(s, 4, as_host);
	if (subscribe)
		st->sh_subscribed = true;
	return run(st, s, false);
}

bool hss_shsub_any(struct hss_store *st)
{
	return st->sh_subscribed;
}

int hss_shsub_each(struct hss_store *st, const char *impu, hss_shsub_cb cb,
		   void *arg)
{
	sqlite3_stmt *s = stmt(st, S_SHSUB_OF);
	int rc, stop = 0;

	bind_text(s, 1, impu);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *si = sqlite3_column_text(s, 1);
		const unsigned char *host = sqlite3_column_text(s, 2);

		stop = cb(sqlite3_column_int(s, 0), si ? (const char *)si : "",
			  host ? (const char *)host : "", arg);
	}
	sqlite3_reset(s);
	return stop ? stop : rc == SQLITE_DONE ? 0 : -EIO;
}

/* ---- S-CSCF restoration information ------------------------------------- */

int hss_restoration_put(struct hss_store *st, const struct hss_restoration *r)
{
	sqlite3_stmt *s = stmt(st, S_RESTO_PUT);

	bind_text(s, 1, r->impi);
	bind_text(s, 2, r->contact);
	bind_text(s, 3, r->path);
	bind_text(s, 4, r->call_id);
	if (r->cseq >= 0)
		sqlite3_bind_int64(s, 5, r->cseq);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_int64(s, 6, r->timeout);
	bind_text(s, 7, r->scheme);
	return run(st, s, false);
}

int hss_restoration_clear(struct hss_store *st, const char *impi)
{
	sqlite3_stmt *s = stmt(st, S_RESTO_CLEAR);

	bind_text(s, 1, impi);
	return run(st, s, false);
}

int hss_restoration_each(struct hss_store *st, const char *impi,
			 hss_restoration_cb cb, void *arg)
{
	sqlite3_stmt *s = stmt(st, S_RESTO_OF);
	struct hss_restoration r;
	int rc, stop = 0;

	bind_text(s, 1, impi);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		copy_col(s, 0, r.impi, sizeof(r.impi));
		copy_col(s, 1, r.contact, sizeof(r.contact));
		copy_col(s, 2, r.path, sizeof(r.path));
		copy_col(s, 3, r.call_id, sizeof(r.call_id));
		r.cseq = sqlite3_column_int64(s, 4);
		r.timeout = (uint32_t)sqlite3_column_int64(s, 5);
		copy_col(s, 6, r.scheme, sizeof(r.scheme));
		stop = cb(&r, arg);
	}
	sqlite3_reset(s);
	return stop ? stop : rc == SQLITE_DONE ? 0 : -EIO;
}
