// The file backend: each volume a sparse file in the data directory (or
// an existing block device or file named at create), described in the
// SQLite catalog there.  One server; its IO goes through an io_uring per
// opened volume, so one connection's batch is one system call.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "backend.h"

namespace qbd {

class Catalog;

struct FileOptions {
    std::string data_dir;
    uint64_t default_shard_size = 64ULL << 20;
    unsigned queue_depth = 64;  // requests in flight per opened volume
    // Tests only (see faults.h): FUA writes and FLUSH do not reach the
    // disk; waiting on the ring fails.
    bool skip_fua = false;
    bool skip_flush = false;
    bool ring_wait_fails = false;
};

class FileBackend final : public Backend {
  public:
    // Opens the data directory; with @init creates it first.
    static int make(const FileOptions& opts, bool init, std::unique_ptr<FileBackend>* out,
                    std::string* error);
    ~FileBackend() override;

    const char* name() const override { return "file"; }
    int create(const CreateSpec& spec, VolumeInfo* out, std::string* error) override;
    int remove(const std::string& pool, const std::string& name, std::string* error) override;
    int resize(const std::string& pool, const std::string& name, uint64_t new_size, VolumeInfo* out,
               std::string* error) override;
    int info(const std::string& pool, const std::string& name, VolumeInfo* out,
             std::string* error) override;
    int list(const std::string& pool, std::vector<VolumeInfo>* out, std::string* error) override;
    int open(uint64_t id, bool read_only, std::unique_ptr<VolumeIo>* io, VolumeInfo* info,
             std::string* error) override;

    Catalog& catalog() { return *catalog_; }

  private:
    explicit FileBackend(FileOptions opts);
    std::string data_path(uint64_t id, const std::string& device) const;
    int ensure_file(const std::string& path, bool device, uint64_t size, std::string* error);

    FileOptions opts_;
    std::unique_ptr<Catalog> catalog_;
};

}  // namespace qbd
