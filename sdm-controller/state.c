/*
 * The SDM controller's persistent state (state.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <sqlite3.h>

#include "state.h"
#include "rack-error.h"

struct SdmState {
    sqlite3 *db;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS allocation ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " compute INTEGER NOT NULL, compute_port INTEGER NOT NULL,"
    " memory INTEGER NOT NULL, memory_port INTEGER NOT NULL,"
    " size INTEGER NOT NULL CHECK (size > 0),"
    " segment INTEGER NOT NULL DEFAULT -1,"
    " status TEXT NOT NULL CHECK (status IN ('pending', 'committed')),"
    " accel INTEGER NOT NULL DEFAULT -1, accel_port INTEGER NOT NULL"
    " DEFAULT -1, accel_memory_port INTEGER NOT NULL DEFAULT -1,"
    " rmc INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE (compute, compute_port));";

static bool db_error(SdmState *st, const char *what, GError **errp)
{
    g_set_error(errp, RACK_ERROR, RACK_ERROR_HOST, "controller state: %s:"
                " %s", what, sqlite3_errmsg(st->db));
    return false;
}

SdmState *sdm_state_open(const char *path, GError **errp)
{
    SdmState *st = g_new0(SdmState, 1);

    if (sqlite3_open(path, &st->db) != SQLITE_OK ||
        /* Every commit reaches the disk before it is acknowledged. */
        sqlite3_exec(st->db, "PRAGMA journal_mode=WAL;"
                     "PRAGMA synchronous=FULL;", NULL, NULL, NULL) ||
        sqlite3_exec(st->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
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

    if (!exec_one(st, "INSERT INTO allocation (compute, compute_port,"
                  " memory, memory_port, size, segment, accel, accel_port,"
                  " accel_memory_port, rmc, status)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')", args, 10,
                  errp)) {
        return false;
    }
    a->id = sqlite3_last_insert_rowid(st->db);
    a->status = SDM_ALLOC_PENDING;
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
                           " accel, accel_port, accel_memory_port, rmc"
                           " FROM allocation ORDER BY id", -1, &stmt,
                           NULL) != SQLITE_OK) {
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
            .status = g_str_equal(sqlite3_column_text(stmt, 7), "committed")
                      ? SDM_ALLOC_COMMITTED : SDM_ALLOC_PENDING,
            .has_accel = sqlite3_column_int(stmt, 8) >= 0,
            .accel = sqlite3_column_int(stmt, 8),
            .accel_port = sqlite3_column_int(stmt, 9),
            .accel_memory_port = sqlite3_column_int(stmt, 10),
            .rmc = sqlite3_column_int(stmt, 11),
        };

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
