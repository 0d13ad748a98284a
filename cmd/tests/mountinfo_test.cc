#include "mountinfo.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "error.h"

namespace qbd {

namespace {

const char* kSample =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
    "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
    "40 22 252:0 / /mnt/data rw,relatime shared:30 - xfs /dev/qbd0 rw,attr2\n"
    "41 22 252:1 /sub /mnt/with\\040space rw,relatime - ext4 /dev/qbd0p1 rw\n"
    "42 22 252:16 / /mnt/other rw,relatime master:3 propagate_from:2 - ext4 /dev/qbd1 rw\n"
    "garbage line\n"
    "43 22 x:y / /bad rw - ext4 /dev/bad rw\n";

// @text in a mountinfo file, read back by libmount.
std::vector<MountEntry> parse(const std::string& text) {
    char path[] = "/tmp/qbd-mountinfo-XXXXXX";
    int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    close(fd);
    std::ofstream(path) << text;
    auto all = read_mountinfo(path);
    unlink(path);
    return all;
}

}  // namespace

TEST(Mountinfo, Parses) {
    auto all = parse(kSample);
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[0].dev, (DevNum{8, 1}));
    EXPECT_EQ(all[0].mount_point, "/");
    EXPECT_EQ(all[0].fstype, "ext4");
    EXPECT_EQ(all[0].source, "/dev/sda1");
    EXPECT_EQ(all[3].mount_point, "/mnt/with space");
    EXPECT_EQ(all[4].dev, (DevNum{252, 16}));
    EXPECT_EQ(all[4].source, "/dev/qbd1");  // optional fields skipped
}

TEST(Mountinfo, DiskAndPartitions) {
    auto all = parse(kSample);
    auto m = mounts_of(all, {{252, 0}, {252, 1}, {252, 2}});
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[0].mount_point, "/mnt/data");
    EXPECT_EQ(m[1].mount_point, "/mnt/with space");
    EXPECT_TRUE(mounts_of(all, {{252, 32}}).empty());
    EXPECT_TRUE(mounts_of(all, {}).empty());
}

// This process's own mounts: the root is always there.
TEST(Mountinfo, ReadsProc) {
    auto all = read_mountinfo();
    EXPECT_TRUE(std::any_of(all.begin(), all.end(),
                            [](const MountEntry& e) { return e.mount_point == "/"; }));
    EXPECT_THROW(read_mountinfo("/nonexistent/mountinfo"), Error);
}

TEST(Mountinfo, DevNum) {
    DevNum d;
    EXPECT_TRUE(parse_devnum("252:16\n", d));
    EXPECT_EQ(d, (DevNum{252, 16}));
    EXPECT_FALSE(parse_devnum("252", d));
    EXPECT_FALSE(parse_devnum("a:1", d));
    EXPECT_FALSE(parse_devnum(":1", d));
}

}  // namespace qbd
