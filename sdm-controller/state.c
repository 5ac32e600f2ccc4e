/*
 * The SDM controller's persistent state (state.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <sqlite3.h>

#include "state.h"
#include "rack-error.h"
#include "rack-name.h"

struct SdmState {
    sqlite3 *db;
};

/* The schema's version, in PRAGMA user_version */
#define SCHEMA_VERSION 2

static const char schema[] =
    "CREATE TABLE allocation ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " compute INTEGER NOT NULL, compute_port INTEGER NOT NULL,"
    " memory INTEGER NOT NULL, memory_port INTEGER NOT NULL,"
    " size INTEGER NOT NULL CHECK (size > 0),"
    " segment INTEGER NOT NULL DEFAULT -1,"
    " status TEXT NOT NULL"
    "  CHECK (status IN ('pending', 'committed', 'releasing')),"
    " accel INTEGER NOT NULL DEFAULT -1, accel_port INTEGER NOT NULL"
    " DEFAULT -1, accel_memory_port INTEGER NOT NULL DEFAULT -1,"
    " rmc INTEGER NOT NULL DEFAULT 0,"
    " key TEXT UNIQUE, release_key TEXT,"
    " UNIQUE (compute, compute_port));"
    "CREATE TABLE request (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " key TEXT NOT NULL UNIQUE, reply TEXT NOT NULL);";


/*
 * What the database knows of itself: "first-id", the first allocation id
 * it gave (ids below are an earlier database's).
 */
static const char meta[] =
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY,"
    " value INTEGER NOT NULL);";

/*
 * A version 1 database (no releasing, no keys) becomes a version 2 one;
 * the allocations it has are its own.
 */
static const char upgrade_1[] =
    "ALTER TABLE allocation RENAME TO allocation_1;"
    "%s"
    "INSERT INTO allocation (id, compute, compute_port, memory,"
    " memory_port, size, segment, status, accel, accel_port,"
    " accel_memory_port, rmc) SELECT id, compute, compute_port, memory,"
    " memory_port, size, segment, status, accel, accel_port,"
    " accel_memory_port, rmc FROM allocation_1;"
    "INSERT INTO sqlite_sequence (name, seq) SELECT 'allocation', seq"
    " FROM sqlite_sequence WHERE name = 'allocation_1' AND NOT EXISTS"
    " (SELECT 1 FROM sqlite_sequence WHERE name = 'allocation');"
    "UPDATE sqlite_sequence SET seq = MAX(seq, (SELECT seq FROM"
    " sqlite_sequence WHERE name = 'allocation_1')) WHERE name ="
    " 'allocation' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name ="
    " 'allocation_1');"
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY,"
    " value INTEGER NOT NULL);"
    "INSERT INTO meta (name, value) SELECT 'first-id', MIN(id)"
    " FROM allocation_1 HAVING COUNT(*) > 0;"
    "DROP TABLE allocation_1;";

static bool db_error(SdmState *st, const char *what, GError **errp)
{
    g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST, "controller state: %s:"
                " %s", what, sqlite3_errmsg(st->db));
    return false;
}

/* One integer that @sql selects, or -1. */
static int64_t select_int(SdmState *st, const char *sql)
{
    sqlite3_stmt *stmt;
    int64_t v = -1;

    if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        v = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return v;
}

/*
 * Create the tables, or bring an older controller's up to date, in one
 * transaction: a crash in the middle leaves the old ones.
 */
static bool schema_up_to_date(SdmState *st, const char *path, GError **errp)
{
    int64_t version = select_int(st, "PRAGMA user_version;");
    int64_t old = select_int(st, "SELECT count(*) FROM sqlite_master"
                             " WHERE name = 'allocation'");
    g_autofree char *body = NULL, *sql = NULL;

    if (version < 0 || old < 0) {
        return db_error(st, path, errp);
    }
    if (version == SCHEMA_VERSION) {
        return true;
    }
    if (version > SCHEMA_VERSION || (old && version != 0)) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_INVALID, "controller state:"
                    " %s: schema version %" G_GINT64_FORMAT " is not one this"
                    " controller knows (%d)", path, version, SCHEMA_VERSION);
        return false;
    }
    body = old ? g_strdup_printf(upgrade_1, schema) : g_strdup(schema);
    sql = g_strdup_printf("BEGIN IMMEDIATE;%sPRAGMA user_version = %d;"
                          "COMMIT;", body, SCHEMA_VERSION);
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        db_error(st, path, errp);
        sqlite3_exec(st->db, "ROLLBACK;", NULL, NULL, NULL);
        return false;
    }
    return true;
}

SdmState *sdm_state_open(const char *path, GError **errp)
{
    SdmState *st = g_new0(SdmState, 1);

    if (sqlite3_open(path, &st->db) != SQLITE_OK ||
        /* Every commit reaches the disk before it is acknowledged. */
        sqlite3_exec(st->db, "PRAGMA journal_mode=WAL;"
                     "PRAGMA synchronous=FULL;", NULL, NULL, NULL)) {
        db_error(st, path, errp);
        sdm_state_close(st);
        return NULL;
    }
    if (!schema_up_to_date(st, path, errp)) {
        sdm_state_close(st);
        return NULL;
    }
    if (sqlite3_exec(st->db, meta, NULL, NULL, NULL) != SQLITE_OK) {
        db_error(st, path, errp);
        sdm_state_close(st);
        return NULL;
    }
    return st;
}

void sdm_state_close(SdmState *st)
{
    if (st) {
        sqlite3_close(st->db);
        g_free(st);
    }
}

/* Run @sql with integer parameters. */
static bool exec_sql(SdmState *st, const char *sql, const int64_t *args,
                     int nargs, GError **errp)
{
    sqlite3_stmt *stmt;
    int rc;

    if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        return db_error(st, sql, errp);
    }
    for (int i = 0; i < nargs; i++) {
        sqlite3_bind_int64(stmt, i + 1, args[i]);
    }
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        return db_error(st, "write", errp);
    }
    return true;
}

/* The same; true if it changed exactly one row. */
static bool exec_one(SdmState *st, const char *sql, const int64_t *args,
                     int nargs, GError **errp)
{
    if (!exec_sql(st, sql, args, nargs, errp)) {
        return false;
    }
    if (sqlite3_changes(st->db) != 1) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                    "controller state: no allocation %" G_GINT64_FORMAT,
                    args[nargs - 1]);
        return false;
    }
    return true;
}

bool sdm_state_add(SdmState *st, SdmAlloc *a, GError **errp)
{
    const int64_t args[] = { a->compute, a->compute_port, a->memory,
                             a->memory_port, a->size, a->segment,
                             a->has_accel ? (int64_t)a->accel : -1,
                             a->has_accel ? (int64_t)a->accel_port : -1,
                             a->has_accel ? (int64_t)a->accel_memory_port
                                          : -1, a->rmc };
    sqlite3_stmt *stmt;
    int rc;

    if (sqlite3_prepare_v2(st->db, "INSERT INTO allocation (compute,"
                           " compute_port, memory, memory_port, size,"
                           " segment, accel, accel_port, accel_memory_port,"
                           " rmc, key, status) VALUES (?, ?, ?, ?, ?, ?, ?,"
                           " ?, ?, ?, ?, 'pending')", -1, &stmt,
                           NULL) != SQLITE_OK) {
        return db_error(st, "write", errp);
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(args); i++) {
        sqlite3_bind_int64(stmt, i + 1, args[i]);
    }
    if (a->key[0]) {
        sqlite3_bind_text(stmt, G_N_ELEMENTS(args) + 1, a->key, -1,
                          SQLITE_TRANSIENT);
    }
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        return db_error(st, "write", errp);
    }
    a->id = sqlite3_last_insert_rowid(st->db);
    a->status = SDM_ALLOC_PENDING;
    return exec_sql(st, "INSERT OR IGNORE INTO meta (name, value)"
                    " VALUES ('first-id', ?)", &a->id, 1, errp);
}

int64_t sdm_state_first_id(SdmState *st)
{
    return select_int(st, "SELECT value FROM meta WHERE name = 'first-id'");
}

static const char *const status_names[] = {
    [SDM_ALLOC_PENDING] = "pending",
    [SDM_ALLOC_COMMITTED] = "committed",
    [SDM_ALLOC_RELEASING] = "releasing",
};

bool sdm_state_set_status(SdmState *st, int64_t id, SdmAllocStatus status,
                          const char *key, GError **errp)
{
    g_autofree char *sql = g_strdup_printf("UPDATE allocation SET status ="
                                           " '%s', release_key = ? WHERE id"
                                           " = ?", status_names[status]);
    sqlite3_stmt *stmt;
    int rc;

    if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        return db_error(st, "write", errp);
    }
    if (key && *key) {
        sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
    }
    sqlite3_bind_int64(stmt, 2, id);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        return db_error(st, "write", errp);
    }
    if (sqlite3_changes(st->db) != 1) {
        g_set_error(errp, RACK_ERROR, RACK_ERROR_NOT_FOUND,
                    "controller state: no allocation %" G_GINT64_FORMAT, id);
        return false;
    }
    return true;
}

bool sdm_state_commit(SdmState *st, int64_t id, int64_t segment,
                      GError **errp)
{
    const int64_t args[] = { segment, id };

    return exec_one(st, "UPDATE allocation SET status = 'committed',"
                    " segment = ? WHERE id = ?", args, 2, errp);
}

bool sdm_state_set_segment(SdmState *st, int64_t id, int64_t segment,
                           GError **errp)
{
    const int64_t args[] = { segment, id };

    return exec_one(st, "UPDATE allocation SET segment = ? WHERE id = ?",
                    args, 2, errp);
}

bool sdm_state_set_memory_port(SdmState *st, int64_t id, unsigned port,
                               GError **errp)
{
    const int64_t args[] = { port, id };

    return exec_one(st, "UPDATE allocation SET memory_port = ? WHERE id = ?",
                    args, 2, errp);
}

bool sdm_state_reserve_ids(SdmState *st, int64_t last, GError **errp)
{
    /* AUTOINCREMENT's counter; its row exists once an id was given. */
    return exec_sql(st, "UPDATE sqlite_sequence SET seq = ?1"
                    " WHERE name = 'allocation' AND seq < ?1", &last, 1,
                    errp) &&
           exec_sql(st, "INSERT INTO sqlite_sequence (name, seq)"
                    " SELECT 'allocation', ?1 WHERE NOT EXISTS"
                    " (SELECT 1 FROM sqlite_sequence"
                    "  WHERE name = 'allocation')", &last, 1, errp);
}

bool sdm_state_remove(SdmState *st, int64_t id, GError **errp)
{
    return exec_one(st, "DELETE FROM allocation WHERE id = ?", &id, 1, errp);
}

GArray *sdm_state_list(SdmState *st, GError **errp)
{
    GArray *out = g_array_new(false, false, sizeof(SdmAlloc));
    sqlite3_stmt *stmt;
    int rc;

    if (sqlite3_prepare_v2(st->db, "SELECT id, compute, compute_port,"
                           " memory, memory_port, size, segment, status,"
                           " accel, accel_port, accel_memory_port, rmc, key,"
                           " release_key FROM allocation ORDER BY id", -1,
                           &stmt, NULL) != SQLITE_OK) {
        db_error(st, "read", errp);
        g_array_unref(out);
        return NULL;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        SdmAlloc a = {
            .id = sqlite3_column_int64(stmt, 0),
            .compute = sqlite3_column_int(stmt, 1),
            .compute_port = sqlite3_column_int(stmt, 2),
            .memory = sqlite3_column_int(stmt, 3),
            .memory_port = sqlite3_column_int(stmt, 4),
            .size = sqlite3_column_int64(stmt, 5),
            .segment = sqlite3_column_int64(stmt, 6),
            .status = SDM_ALLOC_PENDING,
            .has_accel = sqlite3_column_int(stmt, 8) >= 0,
            .accel = sqlite3_column_int(stmt, 8),
            .accel_port = sqlite3_column_int(stmt, 9),
            .accel_memory_port = sqlite3_column_int(stmt, 10),
            .rmc = sqlite3_column_int(stmt, 11),
        };
        const char *status = (const char *)sqlite3_column_text(stmt, 7);
        const char *key = (const char *)sqlite3_column_text(stmt, 12);
        const char *release = (const char *)sqlite3_column_text(stmt, 13);

        for (unsigned s = 0; s < G_N_ELEMENTS(status_names); s++) {
            if (status && !strcmp(status, status_names[s])) {
                a.status = s;
            }
        }
        g_strlcpy(a.key, key ? key : "", sizeof(a.key));
        g_strlcpy(a.release_key, release ? release : "",
                  sizeof(a.release_key));
        g_array_append_val(out, a);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        db_error(st, "read", errp);
        g_array_unref(out);
        return NULL;
    }
    return out;
}

bool sdm_key_valid(const char *key)
{
    return rack_name_valid(key, SDM_KEY_MAX);
}

bool sdm_state_reply_get(SdmState *st, const char *key, char **reply,
                         GError **errp)
{
    sqlite3_stmt *stmt;
    int rc;

    *reply = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT reply FROM request WHERE key = ?",
                           -1, &stmt, NULL) != SQLITE_OK) {
        return db_error(st, "read", errp);
    }
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *reply = g_strdup((const char *)sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return db_error(st, "read", errp);
    }
    return true;
}

bool sdm_state_reply_put(SdmState *st, const char *key, const char *reply,
                         GError **errp)
{
    const int64_t kept = SDM_REPLIES_KEPT;
    sqlite3_stmt *stmt;
    int rc;

    if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO request (key,"
                           " reply) VALUES (?, ?)", -1, &stmt,
                           NULL) != SQLITE_OK) {
        return db_error(st, "write", errp);
    }
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 2, reply, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        return db_error(st, "write", errp);
    }
    return exec_sql(st, "DELETE FROM request WHERE seq <="
                    " (SELECT MAX(seq) FROM request) - ?", &kept, 1, errp);
}
