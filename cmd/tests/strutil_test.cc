#include "strutil.h"

#include <gtest/gtest.h>

namespace qbd {

TEST(StrUtil, ParseUint) {
    EXPECT_EQ(parse_uint("0"), 0u);
    EXPECT_EQ(parse_uint("18446744073709551615"), UINT64_MAX);
    EXPECT_FALSE(parse_uint("18446744073709551616"));
    EXPECT_FALSE(parse_uint(""));
    EXPECT_FALSE(parse_uint("-1"));
    EXPECT_FALSE(parse_uint("+1"));
    EXPECT_FALSE(parse_uint(" 1"));
    EXPECT_FALSE(parse_uint("0x10"));
    EXPECT_FALSE(parse_uint("5", 6, 10));
    EXPECT_FALSE(parse_uint("11", 6, 10));
    EXPECT_EQ(parse_uint("10", 6, 10), 10u);
}

TEST(StrUtil, FormatSize) {
    EXPECT_EQ(format_size(0), "0 B");
    EXPECT_EQ(format_size(512), "512 B");
    EXPECT_EQ(format_size(1023), "1023 B");
    EXPECT_EQ(format_size(1024), "1 KiB");
    EXPECT_EQ(format_size(1536), "1.5 KiB");
    EXPECT_EQ(format_size(10ULL << 30), "10 GiB");
    EXPECT_EQ(format_size(3ULL << 29), "1.5 GiB");
    EXPECT_EQ(format_size(1ULL << 40), "1 TiB");
    EXPECT_EQ(format_size(UINT64_MAX), "16.0 EiB");
}

TEST(StrUtil, SplitTrim) {
    EXPECT_EQ(split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
    EXPECT_EQ(split("", ','), (std::vector<std::string>{""}));
    EXPECT_EQ(trim("  a b \t\n"), "a b");
    EXPECT_EQ(trim("   "), "");
}

TEST(StrUtil, FromFixed) {
    char buf[4] = {'a', 'b', 0, 'x'};
    EXPECT_EQ(from_fixed(buf, sizeof(buf)), "ab");
    char full[3] = {'a', 'b', 'c'};
    EXPECT_EQ(from_fixed(full, sizeof(full)), "abc");
}

}  // namespace qbd
