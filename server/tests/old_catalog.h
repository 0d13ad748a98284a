// Catalogs as qbd-server wrote them before the --peer cluster was retired,
// for the tests that pin that such a data directory still opens and serves.
#pragma once

#include <sqlite3.h>

#include <string>

namespace qbd::test {

// The schema of the cluster's last release: a replica count and a move
// fence per volume, and which member held each shard.  Without
// @fence_column, the schema from before shard moves existed.
inline std::string old_schema(bool fence_column) {
    return std::string(R"(
CREATE TABLE volumes (
    id INTEGER PRIMARY KEY,
    pool TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    shard_size INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    replicas INTEGER NOT NULL,
    device TEXT NOT NULL DEFAULT '',)") +
           (fence_column ? "\n    fenced INTEGER NOT NULL DEFAULT 0," : "") + R"(
    UNIQUE (pool, name)
);
CREATE TABLE placement (
    volume_id INTEGER NOT NULL REFERENCES volumes(id) ON DELETE CASCADE,
    shard INTEGER NOT NULL,
    replica INTEGER NOT NULL,
    addr TEXT NOT NULL,
    PRIMARY KEY (volume_id, shard, replica)
);
)";
}

// Writes a catalog at @path: old_schema(@fence_column), then @rows (SQL).
// SQLite's message, or "" when it worked.
inline std::string write_old_catalog(const std::string& path, bool fence_column,
                                     const std::string& rows) {
    sqlite3* db = nullptr;
    std::string sql = "PRAGMA journal_mode=WAL;" + old_schema(fence_column) + rows;
    char* msg = nullptr;
    std::string out;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK)
        out = "cannot open " + path;
    else if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK)
        out = msg ? msg : "sqlite3_exec failed";
    sqlite3_free(msg);
    sqlite3_close(db);
    return out;
}

}  // namespace qbd::test
