// The volume catalog of the file backend, in SQLite: pools and volumes.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace qbd {

struct VolumeRecord {
    uint64_t id = 0;
    std::string pool;
    std::string name;
    uint64_t size = 0;
    uint64_t shard_size = 0;
    uint64_t epoch = 1;
    // Where this server keeps the data: empty for a sparse file in the data
    // directory, else an existing block device (or file) given at create.
    std::string device;
};

// Every method is atomic (one transaction) and thread-safe.  Errors are
// negative errnos.
class Catalog {
  public:
    static int open(const std::string& path, std::unique_ptr<Catalog>* out, std::string* error);
    ~Catalog();
    Catalog(const Catalog&) = delete;
    Catalog& operator=(const Catalog&) = delete;

    int insert(const VolumeRecord& v);  // -EEXIST when the name or id is taken
    int remove(const std::string& pool, const std::string& name);
    int update(const VolumeRecord& v);  // size and epoch of an existing id
    std::optional<VolumeRecord> find(const std::string& pool, const std::string& name);
    std::optional<VolumeRecord> find(uint64_t id);
    std::vector<VolumeRecord> list(const std::string& pool);

    // Bumped on every change, so connections notice a new epoch cheaply.
    uint64_t generation() const;

    // Volumes that an older catalog (the retired --peer cluster) had spread
    // over several servers or replicated, found when opening it: this
    // server now serves all of each from its own copy, whose shards placed
    // elsewhere were not kept up to date here.  "pool/name" each.
    const std::vector<std::string>& migrated_cluster_volumes() const { return cluster_volumes_; }

  private:
    explicit Catalog(sqlite3* db) : db_(db) {}
    int exec(const char* sql);
    int migrate();
    std::optional<VolumeRecord> load(sqlite3_stmt* st);
    bool has_table(const char* table);
    bool has_column(const char* table, const char* column);

    sqlite3* db_;
    mutable std::mutex mu_;
    // Bumped under mu_ once a change is committed; read without it on every
    // request of every connection.
    std::atomic<uint64_t> generation_{0};
    std::vector<std::string> cluster_volumes_;
};

}  // namespace qbd
