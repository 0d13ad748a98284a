// The volume catalog, in SQLite: pools, volumes and where each shard lives.
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
    uint32_t replicas = 1;
    // Where this server keeps the data: empty for a sparse file in the data
    // directory, else an existing block device (or file) given at create.
    std::string device;
    // A shard move is copying data: only the mover's IO is served.
    bool fenced = false;
    // placement[shard][replica] = "host:port", primary first.
    std::vector<std::vector<std::string>> placement;

    uint32_t nr_shards() const {
        return static_cast<uint32_t>((size + shard_size - 1) / shard_size);
    }
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
    int update(const VolumeRecord& v);  // size, epoch, fence, placement of an existing id
    std::optional<VolumeRecord> find(const std::string& pool, const std::string& name);
    std::optional<VolumeRecord> find(uint64_t id);
    std::vector<VolumeRecord> list(const std::string& pool);

    // Bumped on every change, so connections notice a new epoch cheaply.
    uint64_t generation() const;

  private:
    explicit Catalog(sqlite3* db) : db_(db) {}
    int exec(const char* sql);
    int migrate();
    std::optional<VolumeRecord> load(sqlite3_stmt* st);
    int write_placement(const VolumeRecord& v);

    sqlite3* db_;
    mutable std::mutex mu_;
    // Bumped under mu_ once a change is committed; read without it on every
    // request of every connection.
    std::atomic<uint64_t> generation_{0};
};

}  // namespace qbd
