#include "volume_spec.h"

#include <gtest/gtest.h>

#include "error.h"

namespace qbd {

TEST(VolumeSpec, Plain) {
    auto s = parse_volume_spec("pool/vol");
    EXPECT_FALSE(s.transport);
    EXPECT_EQ(s.pool, "pool");
    EXPECT_EQ(s.volume, "vol");
    EXPECT_EQ(s.name(), "pool/vol");
}

TEST(VolumeSpec, Schemes) {
    EXPECT_EQ(parse_volume_spec("tcp://p/v").transport, Transport::tcp);
    EXPECT_EQ(parse_volume_spec("rdma://p/v").transport, Transport::rdma);
    EXPECT_THROW(parse_volume_spec("foo://p/v"), Error);
    EXPECT_THROW(parse_volume_spec("://p/v"), Error);
    EXPECT_THROW(parse_volume_spec("TCP://p/v"), Error);
}

TEST(VolumeSpec, BadNames) {
    for (const char* bad : {"", "pool", "/vol", "pool/", "a/b/c", "p o/v", "p/v\t", ".hidden/v",
                            "p/..", "p/-v", "p/v;rm", "p/v*", "tcp://", "tcp://p"}) {
        EXPECT_THROW(parse_volume_spec(bad), Error) << bad;
    }
    try {
        parse_volume_spec("foo://p/v");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.err(), EINVAL);
        EXPECT_NE(std::string(e.what()).find("foo"), std::string::npos);
    }
}

TEST(VolumeSpec, NameLength) {
    std::string max(QBD_NAME_MAX - 1, 'a');
    EXPECT_NO_THROW(parse_volume_spec(max + "/" + max));
    EXPECT_THROW(parse_volume_spec(max + "a/v"), Error);
    EXPECT_THROW(parse_volume_spec("p/" + max + "a"), Error);
}

TEST(VolumeSpec, GoodNames) { EXPECT_NO_THROW(parse_volume_spec("rbd_pool-1/vol.2:x+y@z")); }

TEST(DeviceSpec, PathOrVolume) {
    auto d = parse_device_spec("/dev/qbd3");
    EXPECT_FALSE(d.volume);
    EXPECT_EQ(d.path, "/dev/qbd3");
    auto v = parse_device_spec("p/v");
    ASSERT_TRUE(v.volume);
    EXPECT_EQ(v.volume->name(), "p/v");
    EXPECT_THROW(parse_device_spec("qbd3"), Error);
}

}  // namespace qbd
