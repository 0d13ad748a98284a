#include "devices.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "error.h"
#include "sysfs.h"

namespace qbd {

namespace {

namespace fs = std::filesystem;

// The driver as the tool expects it to behave (see control.h).
class FakeControl : public Control {
  public:
    std::map<uint32_t, DeviceInfo> devs;
    std::vector<uint32_t> listed;  // what LIST says, may name vanished devices

    qbd_ioc_version version() override { return {}; }
    void map(qbd_ioc_map&) override {}
    void unmap(uint32_t, uint32_t) override {}
    std::vector<uint32_t> list() override { return listed; }
    DeviceInfo info(uint32_t idx) override {
        auto it = devs.find(idx);
        if (it == devs.end()) throw Error(ENODEV, "not mapped");
        return it->second;
    }

    void add(uint32_t idx, const char* pool, const char* vol) {
        DeviceInfo d;
        d.info.dev_index = idx;
        std::snprintf(d.info.disk_name, sizeof(d.info.disk_name), "qbd%u", idx);
        std::strncpy(d.info.pool, pool, sizeof(d.info.pool) - 1);
        std::strncpy(d.info.volume, vol, sizeof(d.info.volume) - 1);
        devs[idx] = d;
        listed.push_back(idx);
    }
};

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/qbd-test-XXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
    void write(const fs::path& rel, const std::string& text) {
        fs::create_directories((path / rel).parent_path());
        std::ofstream(path / rel) << text;
    }
};

}  // namespace

TEST(Devices, ListSkipsVanished) {
    FakeControl c;
    c.add(0, "p", "a");
    c.add(2, "p", "b");
    c.listed.push_back(5);  // unmapped between LIST and INFO
    auto all = list_devices(c);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[1].disk(), "qbd2");
}

TEST(Devices, FindByVolume) {
    FakeControl c;
    c.add(0, "p", "a");
    c.add(1, "q", "a");
    EXPECT_EQ(find_device(c, parse_device_spec("q/a")).info.dev_index, 1u);
    EXPECT_EQ(find_device(c, parse_device_spec("tcp://p/a")).info.dev_index, 0u);
    try {
        find_device(c, parse_device_spec("p/zz"));
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.err(), ENODEV);
        EXPECT_NE(std::string(e.what()).find("p/zz is not mapped"), std::string::npos);
    }
}

TEST(Devices, FindByPath) {
    TempDir t;
    // A stand-in for /dev: qbd7 and a link to it as udev would make.
    t.write("qbd7", "");
    t.write("qbd7p1", "");
    fs::create_directories(t.path / "qbd/p");
    fs::create_symlink("../../qbd7", t.path / "qbd/p/v");
    FakeControl c;
    c.add(7, "p", "v");
    EXPECT_EQ(disk_of_path((t.path / "qbd7").string()), "qbd7");
    EXPECT_EQ(disk_of_path((t.path / "qbd/p/v").string()), "qbd7");
    EXPECT_EQ(find_device(c, DeviceSpec{std::nullopt, (t.path / "qbd/p/v").string()}).disk(),
              "qbd7");
    EXPECT_THROW(disk_of_path((t.path / "qbd7p1").string()), Error);
    EXPECT_THROW(disk_of_path((t.path / "missing").string()), Error);
    EXPECT_THROW(disk_of_path("/dev/null"), Error);
}

TEST(Sysfs, DevnumsAndHolders) {
    TempDir t;
    t.write("block/qbd0/dev", "252:0\n");
    t.write("block/qbd0/qbd0p1/dev", "252:1\n");
    t.write("block/qbd0/qbd0p1/partition", "1\n");
    t.write("block/qbd0/qbd/pool", "p\n");  // not a partition: no "partition" file
    fs::create_directories(t.path / "block/qbd0/holders");
    fs::create_directories(t.path / "block/qbd0/qbd0p1/holders/dm-3");
    auto d = disk_devnums("qbd0", t.path.string());
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0], (DevNum{252, 0}));
    EXPECT_EQ(d[1], (DevNum{252, 1}));
    EXPECT_EQ(disk_holders("qbd0", t.path.string()), (std::vector<std::string>{"dm-3"}));
    EXPECT_TRUE(disk_devnums("qbd9", t.path.string()).empty());
    t.write("module/qbd/version", "0.1.0\n");
    EXPECT_EQ(module_version(t.path.string()), "0.1.0");
}

}  // namespace qbd
