// The SQLite catalog: records round-trip with their placement, names and
// ids are unique, changes persist across reopening.
#include "catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

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
        v.replicas = 2;
        v.placement = {{"a:1", "b:1"}, {"b:1", "a:1"}, {"a:1", "b:1"}};
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
    EXPECT_EQ(v->nr_shards(), 3u);
    EXPECT_EQ(v->placement[1][0], "b:1");
    EXPECT_EQ(v->placement[2][1], "b:1");
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
    v.placement.push_back({"c:1", "a:1"});
    ASSERT_EQ(cat_->update(v), 0);
    EXPECT_EQ(cat_->find(5)->epoch, 2u);
    EXPECT_EQ(cat_->find(5)->placement[3][0], "c:1");
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

}  // namespace
}  // namespace qbd
