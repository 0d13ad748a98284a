// Request validation: every class of bad header gets a closed connection
// or an error status, never service.
#include "request.h"

#include <endian.h>
#include <gtest/gtest.h>

#include <cerrno>

namespace qbd {
namespace {

qbd_req_hdr hdr(uint16_t op, uint32_t len = 0, uint64_t off = 0) {
    qbd_req_hdr h{};
    h.magic = htole32(QBD_PROTO_MAGIC);
    h.version = htole16(QBD_PROTO_VERSION);
    h.opcode = htole16(op);
    h.length = htole32(len);
    h.offset = htole64(off);
    h.volume_id = htole64(7);
    h.epoch = htole64(3);
    return h;
}

ConnState opened() {
    ConnState c;
    c.hello_done = true;
    c.opened = true;
    c.volume_id = 7;
    c.epoch = 3;
    c.size = 1 << 20;
    return c;
}

TEST(RequestCheck, GoodReadIsServed) {
    Verdict v = check_request(hdr(QBD_OP_READ, 4096, 8192), opened());
    EXPECT_EQ(v.action, Action::serve);
    EXPECT_EQ(v.payload_in, 0u);
}

TEST(RequestCheck, WritePayloadIsRead) {
    Verdict v = check_request(hdr(QBD_OP_WRITE, 4096, 0), opened());
    EXPECT_EQ(v.action, Action::serve);
    EXPECT_EQ(v.payload_in, 4096u);
}

TEST(RequestCheck, BadMagicCloses) {
    qbd_req_hdr h = hdr(QBD_OP_READ, 512);
    h.magic = 0;
    EXPECT_EQ(check_request(h, opened()).action, Action::close);
}

TEST(RequestCheck, WrongVersionCloses) {
    qbd_req_hdr h = hdr(QBD_OP_READ, 512);
    h.version = htole16(9);
    EXPECT_EQ(check_request(h, opened()).action, Action::close);
}

TEST(RequestCheck, OverLongIoCloses) {
    EXPECT_EQ(check_request(hdr(QBD_OP_WRITE, QBD_MAX_IO_BYTES + 512), opened()).action,
              Action::close);
    EXPECT_EQ(check_request(hdr(QBD_OP_READ, QBD_MAX_IO_BYTES + 512), opened()).action,
              Action::close);
}

TEST(RequestCheck, OverLongControlPayloadCloses) {
    EXPECT_EQ(check_request(hdr(QBD_OP_CTL_INFO, QBD_MAX_CTL_BYTES + 1), opened()).action,
              Action::close);
}

TEST(RequestCheck, LargeDiscardIsARangeNotAPayload) {
    ConnState c = opened();
    c.size = 1ULL << 30;
    Verdict v = check_request(hdr(QBD_OP_DISCARD, 64 << 20, 0), c);
    EXPECT_EQ(v.action, Action::serve);
    EXPECT_EQ(v.payload_in, 0u);
}

TEST(RequestCheck, UnalignedIoRefused) {
    Verdict v = check_request(hdr(QBD_OP_WRITE, 1000, 0), opened());
    EXPECT_EQ(v.action, Action::reply);
    EXPECT_EQ(v.status, -EINVAL);
    EXPECT_EQ(v.payload_in, 1000u);  // drained, so the stream stays in step
    EXPECT_EQ(check_request(hdr(QBD_OP_READ, 512, 100), opened()).status, -EINVAL);
    EXPECT_EQ(check_request(hdr(QBD_OP_READ, 0, 0), opened()).status, -EINVAL);
}

TEST(RequestCheck, PastTheEndRefused) {
    EXPECT_EQ(check_request(hdr(QBD_OP_READ, 4096, (1 << 20) - 512), opened()).status, -ERANGE);
    EXPECT_EQ(check_request(hdr(QBD_OP_WRITE, 512, ~0ULL - 511), opened()).status, -ERANGE);
}

TEST(RequestCheck, UnknownOpcodeRefused) {
    Verdict v = check_request(hdr(99), opened());
    EXPECT_EQ(v.action, Action::reply);
    EXPECT_EQ(v.status, -EOPNOTSUPP);
}

// A read-only OPEN serves reads and flushes; anything that would change
// the volume is refused, its payload read past.
TEST(RequestCheck, ReadOnlyConnectionRefusesWrites) {
    ConnState c = opened();
    c.read_only = true;
    EXPECT_EQ(check_request(hdr(QBD_OP_READ, 4096), c).action, Action::serve);
    EXPECT_EQ(check_request(hdr(QBD_OP_FLUSH), c).action, Action::serve);
    for (uint16_t op : {QBD_OP_WRITE, QBD_OP_DISCARD, QBD_OP_WRITE_ZEROES}) {
        Verdict v = check_request(hdr(op, 4096), c);
        EXPECT_EQ(v.action, Action::reply) << op;
        EXPECT_EQ(v.status, -EROFS) << op;
        EXPECT_EQ(v.payload_in, op == QBD_OP_WRITE ? 4096u : 0u) << op;
    }
}

TEST(RequestCheck, UnknownFlagsRefused) {
    qbd_req_hdr h = hdr(QBD_OP_WRITE, 512);
    h.flags = htole32(1u << 20);
    Verdict v = check_request(h, opened());
    EXPECT_EQ(v.status, -EINVAL);
    EXPECT_EQ(v.payload_in, 512u);
}

TEST(RequestCheck, NothingBeforeHello) {
    ConnState c;
    EXPECT_EQ(check_request(hdr(QBD_OP_READ, 512), c).action, Action::close);
    EXPECT_EQ(check_request(hdr(QBD_OP_CTL_LIST, sizeof(qbd_ctl_name)), c).action, Action::close);
    EXPECT_EQ(check_request(hdr(QBD_OP_HELLO, sizeof(qbd_hello)), c).action, Action::serve);
    EXPECT_EQ(check_request(hdr(QBD_OP_HELLO, 3), c).action, Action::close);
}

TEST(RequestCheck, NothingBeforeAuthWhenRequired) {
    ConnState c;
    c.hello_done = true;
    c.auth_required = true;
    EXPECT_EQ(check_request(hdr(QBD_OP_CTL_LIST, sizeof(qbd_ctl_name)), c).action, Action::close);
    EXPECT_EQ(check_request(hdr(QBD_OP_AUTH, sizeof(qbd_auth)), c).action, Action::serve);
}

TEST(RequestCheck, IoBeforeOpenRefused) {
    ConnState c;
    c.hello_done = true;
    EXPECT_EQ(check_request(hdr(QBD_OP_READ, 512), c).status, -ENOTCONN);
}

TEST(RequestCheck, StaleEpochAsksForRemap) {
    qbd_req_hdr h = hdr(QBD_OP_READ, 512);
    h.epoch = htole64(2);
    EXPECT_EQ(check_request(h, opened()).status, QBD_STATUS_STALE_EPOCH);
}

// A write of a stale epoch is answered so, its data read and dropped: the
// connection stays in step.
TEST(RequestCheck, AStaleWritesDataIsReadPast) {
    qbd_req_hdr h = hdr(QBD_OP_WRITE, 512);
    h.epoch = htole64(2);
    Verdict v = check_request(h, opened());
    EXPECT_EQ(v.action, Action::reply);
    EXPECT_EQ(v.status, QBD_STATUS_STALE_EPOCH);
    EXPECT_EQ(v.payload_in, 512u);
}

TEST(RequestCheck, OtherVolumeRefused) {
    qbd_req_hdr h = hdr(QBD_OP_READ, 512);
    h.volume_id = htole64(8);
    EXPECT_EQ(check_request(h, opened()).status, -EINVAL);
}

TEST(RequestCheck, SecondHelloCloses) {
    EXPECT_EQ(check_request(hdr(QBD_OP_HELLO, sizeof(qbd_hello)), opened()).action, Action::close);
}

TEST(Names, Validation) {
    char ok[QBD_NAME_MAX] = "pool-1";
    char slash[QBD_NAME_MAX] = "a/b";
    char empty[QBD_NAME_MAX] = "";
    char full[QBD_NAME_MAX];
    memset(full, 'a', sizeof(full));
    EXPECT_TRUE(valid_name(ok, QBD_NAME_MAX));
    EXPECT_FALSE(valid_name(slash, QBD_NAME_MAX));
    EXPECT_FALSE(valid_name(empty, QBD_NAME_MAX));
    EXPECT_FALSE(valid_name(full, QBD_NAME_MAX));
}

}  // namespace
}  // namespace qbd
