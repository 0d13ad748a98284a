#include "catalog.h"

#include <cerrno>
#include <memory>

namespace qbd {

namespace {

struct Stmt {
    sqlite3_stmt* st = nullptr;
    Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &st, nullptr); }
    ~Stmt() { sqlite3_finalize(st); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    explicit operator bool() const { return st != nullptr; }
};

const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS volumes (
    id INTEGER PRIMARY KEY,
    pool TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    shard_size INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    replicas INTEGER NOT NULL,
    device TEXT NOT NULL DEFAULT '',
    fenced INTEGER NOT NULL DEFAULT 0,
    UNIQUE (pool, name)
);
CREATE TABLE IF NOT EXISTS placement (
    volume_id INTEGER NOT NULL REFERENCES volumes(id) ON DELETE CASCADE,
    shard INTEGER NOT NULL,
    replica INTEGER NOT NULL,
    addr TEXT NOT NULL,
    PRIMARY KEY (volume_id, shard, replica)
);
)";

}  // namespace

int Catalog::open(const std::string& path, std::unique_ptr<Catalog>* out, std::string* error) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        *error = "cannot open catalog " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -EIO;
    }
    std::unique_ptr<Catalog> c(new Catalog(db));
    sqlite3_busy_timeout(db, 5000);
    // Acknowledged catalog changes survive a crash of the machine.
    if (c->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;") ||
        c->exec(kSchema) || c->migrate()) {
        *error = "cannot initialise catalog " + path + ": " + sqlite3_errmsg(db);
        return -EIO;
    }
    *out = std::move(c);
    return 0;
}

Catalog::~Catalog() { sqlite3_close(db_); }

int Catalog::exec(const char* sql) {
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK ? 0 : -EIO;
}

// Catalogs written before a column existed get it with its default.
int Catalog::migrate() {
    Stmt probe(db_, "SELECT fenced FROM volumes LIMIT 0");
    if (probe) return 0;
    return exec("ALTER TABLE volumes ADD COLUMN fenced INTEGER NOT NULL DEFAULT 0");
}

uint64_t Catalog::generation() const { return generation_.load(); }

int Catalog::write_placement(const VolumeRecord& v) {
    Stmt del(db_, "DELETE FROM placement WHERE volume_id = ?");
    sqlite3_bind_int64(del.st, 1, static_cast<int64_t>(v.id));
    if (sqlite3_step(del.st) != SQLITE_DONE) return -EIO;
    Stmt ins(db_, "INSERT INTO placement (volume_id, shard, replica, addr) VALUES (?, ?, ?, ?)");
    for (size_t s = 0; s < v.placement.size(); s++) {
        for (size_t r = 0; r < v.placement[s].size(); r++) {
            sqlite3_reset(ins.st);
            sqlite3_bind_int64(ins.st, 1, static_cast<int64_t>(v.id));
            sqlite3_bind_int64(ins.st, 2, static_cast<int64_t>(s));
            sqlite3_bind_int64(ins.st, 3, static_cast<int64_t>(r));
            sqlite3_bind_text(ins.st, 4, v.placement[s][r].c_str(), -1, SQLITE_TRANSIENT);
            if (sqlite3_step(ins.st) != SQLITE_DONE) return -EIO;
        }
    }
    return 0;
}

int Catalog::insert(const VolumeRecord& v) {
    std::lock_guard lock(mu_);
    if (exec("BEGIN IMMEDIATE")) return -EIO;
    Stmt st(
        db_,
        "INSERT INTO volumes (id, pool, name, size, shard_size, epoch, replicas, device, fenced) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite3_bind_int64(st.st, 1, static_cast<int64_t>(v.id));
    sqlite3_bind_text(st.st, 2, v.pool.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.st, 3, v.name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.st, 4, static_cast<int64_t>(v.size));
    sqlite3_bind_int64(st.st, 5, static_cast<int64_t>(v.shard_size));
    sqlite3_bind_int64(st.st, 6, static_cast<int64_t>(v.epoch));
    sqlite3_bind_int64(st.st, 7, v.replicas);
    sqlite3_bind_text(st.st, 8, v.device.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st.st, 9, v.fenced);
    int rc = sqlite3_step(st.st);
    if (rc != SQLITE_DONE || write_placement(v)) {
        exec("ROLLBACK");
        return rc == SQLITE_CONSTRAINT ? -EEXIST : -EIO;
    }
    if (exec("COMMIT")) return -EIO;
    generation_++;
    return 0;
}

int Catalog::update(const VolumeRecord& v) {
    std::lock_guard lock(mu_);
    if (exec("BEGIN IMMEDIATE")) return -EIO;
    Stmt st(db_, "UPDATE volumes SET size = ?, epoch = ?, fenced = ? WHERE id = ?");
    sqlite3_bind_int64(st.st, 1, static_cast<int64_t>(v.size));
    sqlite3_bind_int64(st.st, 2, static_cast<int64_t>(v.epoch));
    sqlite3_bind_int(st.st, 3, v.fenced);
    sqlite3_bind_int64(st.st, 4, static_cast<int64_t>(v.id));
    if (sqlite3_step(st.st) != SQLITE_DONE || sqlite3_changes(db_) != 1 || write_placement(v)) {
        exec("ROLLBACK");
        return -ENOENT;
    }
    if (exec("COMMIT")) return -EIO;
    generation_++;
    return 0;
}

int Catalog::remove(const std::string& pool, const std::string& name) {
    std::lock_guard lock(mu_);
    Stmt st(db_, "DELETE FROM volumes WHERE pool = ? AND name = ?");
    sqlite3_bind_text(st.st, 1, pool.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.st, 2, name.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st.st) != SQLITE_DONE) return -EIO;
    if (sqlite3_changes(db_) != 1) return -ENOENT;
    generation_++;
    return 0;
}

std::optional<VolumeRecord> Catalog::load(sqlite3_stmt* st) {
    if (sqlite3_step(st) != SQLITE_ROW) return std::nullopt;
    VolumeRecord v;
    v.id = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
    v.pool = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    v.name = reinterpret_cast<const char*>(sqlite3_column_text(st, 2));
    v.size = static_cast<uint64_t>(sqlite3_column_int64(st, 3));
    v.shard_size = static_cast<uint64_t>(sqlite3_column_int64(st, 4));
    v.epoch = static_cast<uint64_t>(sqlite3_column_int64(st, 5));
    v.replicas = static_cast<uint32_t>(sqlite3_column_int64(st, 6));
    v.device = reinterpret_cast<const char*>(sqlite3_column_text(st, 7));
    v.fenced = sqlite3_column_int(st, 8) != 0;
    v.placement.assign(v.nr_shards(), std::vector<std::string>(v.replicas));
    Stmt p(db_, "SELECT shard, replica, addr FROM placement WHERE volume_id = ?");
    sqlite3_bind_int64(p.st, 1, static_cast<int64_t>(v.id));
    while (sqlite3_step(p.st) == SQLITE_ROW) {
        auto s = static_cast<size_t>(sqlite3_column_int64(p.st, 0));
        auto r = static_cast<size_t>(sqlite3_column_int64(p.st, 1));
        if (s < v.placement.size() && r < v.replicas)
            v.placement[s][r] = reinterpret_cast<const char*>(sqlite3_column_text(p.st, 2));
    }
    return v;
}

static const char* kSelect =
    "SELECT id, pool, name, size, shard_size, epoch, replicas, device, fenced FROM volumes ";

std::optional<VolumeRecord> Catalog::find(const std::string& pool, const std::string& name) {
    std::lock_guard lock(mu_);
    Stmt st(db_, (std::string(kSelect) + "WHERE pool = ? AND name = ?").c_str());
    sqlite3_bind_text(st.st, 1, pool.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.st, 2, name.c_str(), -1, SQLITE_TRANSIENT);
    return load(st.st);
}

std::optional<VolumeRecord> Catalog::find(uint64_t id) {
    std::lock_guard lock(mu_);
    Stmt st(db_, (std::string(kSelect) + "WHERE id = ?").c_str());
    sqlite3_bind_int64(st.st, 1, static_cast<int64_t>(id));
    return load(st.st);
}

std::vector<VolumeRecord> Catalog::list(const std::string& pool) {
    std::lock_guard lock(mu_);
    Stmt st(db_, (std::string(kSelect) + "WHERE ? = '' OR pool = ? ORDER BY pool, name").c_str());
    sqlite3_bind_text(st.st, 1, pool.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.st, 2, pool.c_str(), -1, SQLITE_TRANSIENT);
    std::vector<VolumeRecord> out;
    while (auto v = load(st.st)) out.push_back(std::move(*v));
    return out;
}

}  // namespace qbd
