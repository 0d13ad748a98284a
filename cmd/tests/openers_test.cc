// openers_of names the processes that hold a device open: the message of a
// refused unmap depends on it.  /dev/null (1:3) stands in for a disk.
#include "openers.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace qbd {

namespace {

const DevNum kNull{1, 3};

bool lists(const std::vector<Opener>& v, int pid) {
    for (const auto& o : v)
        if (o.pid == pid) return true;
    return false;
}

}  // namespace

TEST(Openers, FindsThisProcessHoldingTheDevice) {
    int fd = ::open("/dev/null", O_RDONLY);
    ASSERT_GE(fd, 0);
    auto found = openers_of({kNull});
    ::close(fd);
    ASSERT_TRUE(lists(found, ::getpid()));
    for (const auto& o : found) {
        if (o.pid == ::getpid()) {
            EXPECT_EQ(o.comm.substr(0, 9), "qbd_tests");
        }
    }
}

TEST(Openers, IgnoresOtherDevicesAndClosedOnes) {
    // No process holds device 0:0 open; a closed fd is not an opener.
    EXPECT_TRUE(openers_of({DevNum{0, 0}}).empty());
    EXPECT_FALSE(lists(openers_of({DevNum{1, 7}}), ::getpid()));
}

TEST(Openers, MissingProcRootFindsNothing) {
    EXPECT_TRUE(openers_of({kNull}, "/nonexistent-proc").empty());
}

TEST(Openers, Describes) {
    EXPECT_EQ(describe_openers({}), "");
    EXPECT_EQ(describe_openers({{42, "blkid"}}), "pid 42 (blkid)");
    EXPECT_EQ(describe_openers({{42, ""}}), "pid 42");
    EXPECT_EQ(describe_openers({{42, "blkid"}, {50, "dd"}, {60, "fio"}}),
              "pid 42 (blkid) and 2 more");
}

}  // namespace qbd
