// The file backend's IO interface (backend.h) on a real data directory,
// on a file system io_uring serves (/tmp) and one it cannot do
// non-blocking IO on (tmpfs, served inline).
#include "file_backend.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace qbd {
namespace {

class FileBackendTest : public ::testing::TestWithParam<const char*> {
  protected:
    void SetUp() override {
        std::string tmpl = std::string(GetParam()) + "/qbd-file-backend-XXXXXX";
        ASSERT_TRUE(mkdtemp(tmpl.data()));
        dir_ = tmpl;
        FileOptions o;
        o.data_dir = dir_ + "/data";
        o.queue_depth = 4;  // small, so that tests go past it
        std::string error;
        ASSERT_EQ(FileBackend::make(o, true, &b_, &error), 0) << error;
    }
    void TearDown() override {
        b_.reset();
        std::filesystem::remove_all(dir_);
    }
    VolumeInfo create(uint64_t size) {
        VolumeInfo v;
        std::string error;
        EXPECT_EQ(b_->create(CreateSpec{"p", "v", size, 0, ""}, &v, &error), 0) << error;
        return v;
    }
    std::unique_ptr<VolumeIo> open(uint64_t id) {
        std::unique_ptr<VolumeIo> io;
        VolumeInfo info;
        std::string error;
        EXPECT_EQ(b_->open(id, false, &io, &info, &error), 0) << error;
        return io;
    }
    std::string dir_;
    std::unique_ptr<FileBackend> b_;
};

// More requests than the queue depth, a FLUSH among them, complete each
// once with the interface's results, and the data is there.
TEST_P(FileBackendTest, PastTheQueueDepth) {
    VolumeInfo v = create(1 << 20);
    auto io = open(v.id);
    ASSERT_TRUE(io);
    constexpr unsigned kN = 11;
    std::vector<std::vector<char>> data;
    for (unsigned i = 0; i < kN; i++) data.emplace_back(8192, static_cast<char>('a' + i));
    for (unsigned i = 0; i < kN; i++) {
        io->submit(IoRequest{IoKind::write, i == 3, 8192, i * 8192ULL, data[i].data(), i});
        if (i == 6) io->submit(IoRequest{IoKind::flush, false, 0, 0, nullptr, 100});
    }
    std::vector<IoCompletion> done(kN + 1);
    std::vector<int> seen(kN + 1);
    for (unsigned got = 0; got < kN + 1;) {
        int n = io->wait(kN + 1 - got, done.data(), done.size());
        ASSERT_GT(n, 0);
        for (int k = 0; k < n; k++) {
            const bool flush = done[k].cookie == 100;
            EXPECT_EQ(done[k].res, flush ? 0 : 8192);
            seen[flush ? kN : done[k].cookie]++;
        }
        got += n;
    }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), static_cast<long>(kN + 1));
    EXPECT_EQ(io->wait(1, done.data(), 1), 0) << "nothing is left to complete";
    std::vector<char> back(8192);
    for (unsigned i = 0; i < kN; i++) {
        EXPECT_EQ(run_io(*io, IoRequest{IoKind::read, false, 8192, i * 8192ULL, back.data(), 0}),
                  8192);
        EXPECT_EQ(back, data[i]) << "block " << i;
    }
    EXPECT_EQ(run_io(*io, IoRequest{IoKind::write_zeroes, false, 8192, 0, nullptr, 0}), 0);
    EXPECT_EQ(run_io(*io, IoRequest{IoKind::read, false, 8192, 0, back.data(), 0}), 8192);
    EXPECT_EQ(back, std::vector<char>(8192, 0));
}

// An opened volume sees a resize, and a delete as size 0, at once.
TEST_P(FileBackendTest, SizeFollowsTheCatalog) {
    VolumeInfo v = create(1 << 20);
    auto io = open(v.id);
    ASSERT_TRUE(io);
    EXPECT_EQ(io->size(), 1u << 20);
    VolumeInfo grown;
    std::string error;
    ASSERT_EQ(b_->resize("p", "v", 2 << 20, &grown, &error), 0) << error;
    EXPECT_EQ(io->size(), 2u << 20);
    EXPECT_EQ(b_->resize("p", "v", 1 << 20, &grown, &error), -EINVAL);
    ASSERT_EQ(b_->remove("p", "v", &error), 0) << error;
    EXPECT_EQ(io->size(), 0u);
    EXPECT_FALSE(io->dead());
}

INSTANTIATE_TEST_SUITE_P(Backing, FileBackendTest, ::testing::Values("/tmp", "/dev/shm"));

}  // namespace
}  // namespace qbd
