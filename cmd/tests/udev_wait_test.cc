#include "udev_wait.h"

#include <gtest/gtest.h>

#include <chrono>

namespace qbd {

TEST(UdevWait, ReturnsWhenDone) {
    int calls = 0;
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(wait_until([&] { return ++calls >= 3; }, std::chrono::seconds(5)));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(UdevWait, Bounded) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(wait_until([] { return false; }, std::chrono::milliseconds(300)));
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, std::chrono::milliseconds(300));
    EXPECT_LT(took, std::chrono::seconds(2));
}

TEST(UdevWait, Exist) {
    EXPECT_TRUE(all_exist({"/", "/proc"}));
    EXPECT_FALSE(all_exist({"/", "/nonexistent/x"}));
    EXPECT_TRUE(none_exist({"/nonexistent/x"}));
    EXPECT_FALSE(none_exist({"/nonexistent/x", "/"}));
}

}  // namespace qbd
