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
    device TEXT NOT NULL DEFAULT '',
    UNIQUE (pool, name)
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

bool Catalog::has_table(const char* table) {
    Stmt st(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    sqlite3_bind_text(st.st, 1, table, -1, SQLITE_STATIC);
    return sqlite3_step(st.st) == SQLITE_ROW;
}

bool Catalog::has_column(const char* table, const char* column) {
    Stmt st(db_, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
    sqlite3_bind_text(st.st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st.st, 2, column, -1, SQLITE_STATIC);
    return sqlite3_step(st.st) == SQLITE_ROW;
}

// Catalogs of the retired --peer cluster had a replica count and a move
// fence per volume and a placement table (which member held which shard):
// they go, in one transaction, so a data directory from before opens as
// the file backend's.  A volume left fenced by a move that never finished
// is served again.  Volumes that were spread over several members are
// remembered for the warning Server::open logs.
int Catalog::migrate() {
    const bool placement = has_table("placement");
    const bool replicas = has_column("volumes", "replicas");
    const bool fenced = has_column("volumes", "fenced");
    if (!placement && !replicas && !fenced) return 0;
    if (exec("BEGIN IMMEDIATE")) return -EIO;
    std::string spread = "SELECT pool || '/' || name FROM volumes WHERE ";
    spread += replicas ? "replicas > 1" : "0";
    if (placement)
        spread +=
            " OR (SELECT COUNT(DISTINCT addr) FROM placement WHERE volume_id = volumes.id) > 1";
    spread += " ORDER BY pool, name";
    int rc;
    {
        // Finalized before the tables change: SQLite refuses to drop a
        // table a statement is still reading.
        Stmt st(db_, spread.c_str());
        while ((rc = sqlite3_step(st.st)) == SQLITE_ROW)
            cluster_volumes_.push_back(
                reinterpret_cast<const char*>(sqlite3_column_text(st.st, 0)));
    }
    if (rc != SQLITE_DONE || (placement && exec("DROP TABLE placement")) ||
        (replicas && exec("ALTER TABLE volumes DROP COLUMN replicas")) ||
        (fenced && exec("ALTER TABLE volumes DROP COLUMN fenced")) || exec("COMMIT")) {
        exec("ROLLBACK");
        cluster_volumes_.clear();
        return -EIO;
    }
    return 0;
}

uint64_t Catalog::generation() const { return generation_.load(); }

int Catalog::insert(const VolumeRecord& v) {
    std::lock_guard lock(mu_);
    Stmt st(db_,
            "INSERT INTO volumes (id, pool, name, size, shard_size, epoch, device) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)");
    sqlite3_bind_int64(st.st, 1, static_cast<int64_t>(v.id));
    sqlite3_bind_text(st.st, 2, v.pool.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.st, 3, v.name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st.st, 4, static_cast<int64_t>(v.size));
    sqlite3_bind_int64(st.st, 5, static_cast<int64_t>(v.shard_size));
    sqlite3_bind_int64(st.st, 6, static_cast<int64_t>(v.epoch));
    sqlite3_bind_text(st.st, 7, v.device.c_str(), -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st.st);
    if (rc != SQLITE_DONE) return rc == SQLITE_CONSTRAINT ? -EEXIST : -EIO;
    generation_++;
    return 0;
}

int Catalog::update(const VolumeRecord& v) {
    std::lock_guard lock(mu_);
    Stmt st(db_, "UPDATE volumes SET size = ?, epoch = ? WHERE id = ?");
    sqlite3_bind_int64(st.st, 1, static_cast<int64_t>(v.size));
    sqlite3_bind_int64(st.st, 2, static_cast<int64_t>(v.epoch));
    sqlite3_bind_int64(st.st, 3, static_cast<int64_t>(v.id));
    if (sqlite3_step(st.st) != SQLITE_DONE) return -EIO;
    if (sqlite3_changes(db_) != 1) return -ENOENT;
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
    v.device = reinterpret_cast<const char*>(sqlite3_column_text(st, 6));
    return v;
}

static const char* kSelect = "SELECT id, pool, name, size, shard_size, epoch, device FROM volumes ";

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
