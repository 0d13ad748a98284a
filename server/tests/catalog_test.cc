// The SQLite catalog: records round-trip, names and ids are unique,
// changes persist across reopening, and a catalog of the retired --peer
// cluster opens as the file backend's.
#include "catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "old_catalog.h"

namespace qbd {
namespace {

class CatalogTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/qbd-catalog-XXXXXX";
        dir_ = mkdtemp(tmpl);
        ASSERT_EQ(Catalog::open(dir_ + "/catalog.db", &cat_, &err_), 0) << err_;
    }
    void TearDown() override {
        cat_.reset();
        std::string cmd = "rm -rf " + dir_;
        ASSERT_EQ(system(cmd.c_str()), 0);
    }
    static VolumeRecord record(uint64_t id, const std::string& name) {
        VolumeRecord v;
        v.id = id;
        v.pool = "p";
        v.name = name;
        v.size = 3 << 20;
        v.shard_size = 1 << 20;
        v.device = "/dev/" + name;
        return v;
    }
    std::string dir_, err_;
    std::unique_ptr<Catalog> cat_;
};

TEST_F(CatalogTest, RoundTrip) {
    ASSERT_EQ(cat_->insert(record(5, "v")), 0);
    auto v = cat_->find("p", "v");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->id, 5u);
    EXPECT_EQ(v->size, 3u << 20);
    EXPECT_EQ(v->shard_size, 1u << 20);
    EXPECT_EQ(v->epoch, 1u);
    EXPECT_EQ(v->device, "/dev/v");
    EXPECT_TRUE(cat_->find(5));
    EXPECT_FALSE(cat_->find("p", "w"));
}

TEST_F(CatalogTest, DuplicatesRefused) {
    ASSERT_EQ(cat_->insert(record(5, "v")), 0);
    EXPECT_EQ(cat_->insert(record(6, "v")), -EEXIST);
    EXPECT_EQ(cat_->insert(record(5, "w")), -EEXIST);
}

TEST_F(CatalogTest, UpdateRemoveListAndGeneration) {
    uint64_t g = cat_->generation();
    ASSERT_EQ(cat_->insert(record(5, "v")), 0);
    ASSERT_EQ(cat_->insert(record(6, "w")), 0);
    EXPECT_GT(cat_->generation(), g);
    VolumeRecord v = *cat_->find(5);
    v.size = 4 << 20;
    v.epoch = 2;
    ASSERT_EQ(cat_->update(v), 0);
    EXPECT_EQ(cat_->find(5)->epoch, 2u);
    EXPECT_EQ(cat_->find(5)->size, 4u << 20);
    v.id = 7;
    EXPECT_EQ(cat_->update(v), -ENOENT);
    EXPECT_EQ(cat_->list("").size(), 2u);
    EXPECT_EQ(cat_->list("nope").size(), 0u);
    EXPECT_EQ(cat_->remove("p", "v"), 0);
    EXPECT_EQ(cat_->remove("p", "v"), -ENOENT);
    EXPECT_EQ(cat_->list("p").size(), 1u);
}

TEST_F(CatalogTest, PersistsAcrossReopen) {
    ASSERT_EQ(cat_->insert(record(9, "keep")), 0);
    cat_.reset();
    ASSERT_EQ(Catalog::open(dir_ + "/catalog.db", &cat_, &err_), 0);
    EXPECT_TRUE(cat_->find("p", "keep"));
}

// A catalog the --peer cluster wrote opens: its volumes are kept as they
// were (a volume a killed mover left fenced is served again), the
// placement table and the replica and fence columns go, and the volumes
// that lived on several members are named once, for the warning.
class OldCatalogTest : public CatalogTest, public testing::WithParamInterface<bool> {};

INSTANTIATE_TEST_SUITE_P(Schemas, OldCatalogTest, testing::Bool(),
                         [](const auto& info) { return info.param ? "WithFence" : "BeforeMoves"; });

TEST_P(OldCatalogTest, OpensAsTheFileBackendsAndNamesTheVolumesThatWereSpread) {
    const bool fence = GetParam();
    cat_.reset();
    const std::string path = dir_ + "/old.db";
    const std::string fenced = fence ? ", fenced" : "";
    const std::string yes = fence ? ", 1" : "";
    const std::string no = fence ? ", 0" : "";
    std::string rows =
        "INSERT INTO volumes (id, pool, name, size, shard_size, epoch, replicas, device" + fenced +
        ") VALUES (11, 'p', 'alone', 2097152, 1048576, 3, 1, ''" + yes +
        "), (12, 'p', 'mirrored', 1048576, 1048576, 1, 2, ''" + no +
        "), (13, 'p', 'spread', 2097152, 1048576, 1, 1, '/dev/sdx'" + no +
        ");"
        "INSERT INTO placement VALUES (11, 0, 0, 'a:1'), (11, 1, 0, 'a:1'),"
        " (12, 0, 0, 'a:1'), (12, 0, 1, 'b:1'), (13, 0, 0, 'a:1'), (13, 1, 0, 'b:1');";
    ASSERT_EQ(test::write_old_catalog(path, fence, rows), "");

    ASSERT_EQ(Catalog::open(path, &cat_, &err_), 0) << err_;
    EXPECT_EQ(cat_->migrated_cluster_volumes(),
              (std::vector<std::string>{"p/mirrored", "p/spread"}));
    auto v = cat_->find("p", "alone");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->id, 11u);
    EXPECT_EQ(v->size, 2u << 20);
    EXPECT_EQ(v->shard_size, 1u << 20);
    EXPECT_EQ(v->epoch, 3u);
    EXPECT_EQ(cat_->find(13)->device, "/dev/sdx");
    EXPECT_EQ(cat_->list("p").size(), 3u);
    // New records go in beside the old ones.
    ASSERT_EQ(cat_->insert(record(14, "new")), 0);
    ASSERT_EQ(cat_->remove("p", "mirrored"), 0);

    // Migrated once: a second open finds nothing to say.
    cat_.reset();
    ASSERT_EQ(Catalog::open(path, &cat_, &err_), 0) << err_;
    EXPECT_TRUE(cat_->migrated_cluster_volumes().empty());
    EXPECT_EQ(cat_->list("p").size(), 3u);
    cat_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    auto count = [&](const char* sql) {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
        int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
        sqlite3_finalize(st);
        return n;
    };
    EXPECT_EQ(count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'placement'"), 0);
    EXPECT_EQ(count("SELECT COUNT(*) FROM pragma_table_info('volumes') "
                    "WHERE name IN ('replicas', 'fenced')"),
              0);
    sqlite3_close(db);
}

}  // namespace
}  // namespace qbd
