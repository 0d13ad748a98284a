// A deliberately broken qbd server, for the guest tests of the driver's
// defences.  It completes HELLO and OPEN like a real server, answers IO
// correctly for a while, then misbehaves in the way --mode names, on every
// connection, so the driver meets the fault again after each reconnect.
//
//   qbd-hostile-server --port P --size BYTES --shard-size BYTES --mode MODE
//                      [--good N] [--dir DIR] [--max-io BYTES]
//
// Modes: bad-magic, unknown-tag, long-payload, bad-flags, duplicate,
// close-mid-payload, garbage, silent (reads requests, never answers), stale
// (answers every request with a stale epoch, whatever map the client has),
// unasked (right after the first OPEN, a reply to nothing: it reaches the
// driver while it is still setting the device up), hang-up (answers --good
// requests in all, then closes every connection at its first request: each
// reconnect works, and nothing is ever served again), early-reply (answers
// a WRITE as done right after its header, before reading its payload, and
// then drains the connection: a driver that takes the answer acknowledges
// data that never left), hold-payload (not a
// fault: a WRITE's payload is left in the socket until all of it has
// arrived, then DIR/queued is made and the server waits for DIR/go before
// it reads the payload, stores it in DIR/payload and answers; what the
// client changed in its buffer meanwhile shows whether the driver sent
// the page itself or a copy), serve (not a fault: answers everything,
// reads as zeros), bad-crc (after --good, every READ's data comes with a
// byte changed under the crc32c of the true data, and every WRITE is
// answered QBD_STATUS_BAD_CRC), flaky-crc (every other READ and WRITE as
// bad-crc does, counted over all connections: a driver that resends gets
// it right the next time).  Where the driver asks for checksums (QBD_FEAT_CRC32C)
// every good READ reply carries one.  --max-io is the largest READ or WRITE advertised in
// HELLO (default QBD_MAX_IO_BYTES); a larger one drops the connection.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "crc32c.h"
#include "qbd_proto.h"

namespace {

struct Settings {
    uint16_t port = 0;
    uint64_t size = 0;
    uint64_t shard_size = 0;
    std::string mode;
    int good = 0;                        // IO requests answered correctly before misbehaving
    std::string dir;                     // hold-payload's meeting point with the test
    uint32_t max_io = QBD_MAX_IO_BYTES;  // advertised in HELLO and enforced
};

class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

bool read_all(int fd, void* buf, size_t len) {
    auto* p = static_cast<char*>(buf);
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n <= 0) return false;
        p += n;
        len -= static_cast<size_t>(n);
    }
    return true;
}

bool write_all(int fd, const void* buf, size_t len) {
    const auto* p = static_cast<const char*>(buf);
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) return false;
        p += n;
        len -= static_cast<size_t>(n);
    }
    return true;
}

qbd_reply_hdr make_reply(const qbd_req_hdr& req, int32_t status, uint32_t length) {
    qbd_reply_hdr r{};
    r.magic = htole32(QBD_PROTO_MAGIC);
    r.version = htole16(QBD_PROTO_VERSION);
    r.opcode = req.opcode;
    r.status = htole32(static_cast<uint32_t>(status));
    r.length = htole32(length);
    r.tag = req.tag;
    return r;
}

// @crc: the checksum agreed in HELLO, for READ data.
bool reply(int fd, const qbd_req_hdr& req, int32_t status, const void* payload, uint32_t len,
           bool crc = false) {
    qbd_reply_hdr r = make_reply(req, status, len);
    if (crc && len) {
        r.flags = htole32(QBD_REQ_CRC);
        r.crc32c = htole32(qbd::crc32c(payload, len));
    }
    return write_all(fd, &r, sizeof(r)) && (!len || write_all(fd, payload, len));
}

// bad-crc and flaky-crc: READ data (zeros) with its first byte changed
// after its crc32c was taken; a WRITE refused as if its payload had been.
bool send_bad_crc(int fd, const qbd_req_hdr& req, std::vector<char>& data) {
    if (le16toh(req.opcode) != QBD_OP_READ) return reply(fd, req, QBD_STATUS_BAD_CRC, nullptr, 0);
    uint32_t len = le32toh(req.length);
    memset(data.data(), 0, len);
    qbd_reply_hdr r = make_reply(req, 0, len);
    r.flags = htole32(QBD_REQ_CRC);
    r.crc32c = htole32(qbd::crc32c(data.data(), len));
    data[0] = static_cast<char>(0xff);
    return write_all(fd, &r, sizeof(r)) && write_all(fd, data.data(), len);
}

// Misbehave once; returns false when the connection is to be dropped.
bool misbehave(int fd, const Settings& s, const qbd_req_hdr& req, std::vector<char>& data) {
    uint32_t len = le16toh(req.opcode) == QBD_OP_READ ? le32toh(req.length) : 0;
    qbd_reply_hdr r = make_reply(req, 0, len);
    if (s.mode == "bad-magic") {
        r.magic = htole32(0xdeadbeef);
        write_all(fd, &r, sizeof(r));
    } else if (s.mode == "unknown-tag") {
        r.tag = htole64(le64toh(req.tag) ^ 0x5a5a00000000ULL);
        write_all(fd, &r, sizeof(r));
        if (len) write_all(fd, data.data(), len);
    } else if (s.mode == "long-payload") {
        r.length = htole32(len + 4096);
        write_all(fd, &r, sizeof(r));
        std::vector<char> junk(len + 4096, 'x');
        write_all(fd, junk.data(), junk.size());
    } else if (s.mode == "bad-flags") {
        r.flags = htole32(QBD_REQ_FUA);
        write_all(fd, &r, sizeof(r));
        if (len) write_all(fd, data.data(), len);
    } else if (s.mode == "duplicate") {
        for (int i = 0; i < 2; i++) {
            write_all(fd, &r, sizeof(r));
            if (len) write_all(fd, data.data(), len);
        }
        return true;
    } else if (s.mode == "close-mid-payload") {
        r.length = htole32(len ? len : 4096);
        write_all(fd, &r, sizeof(r));
        write_all(fd, data.data(), 100);
    } else if (s.mode == "garbage") {
        std::mt19937 rng(static_cast<unsigned>(le64toh(req.tag)));
        std::vector<uint8_t> junk(200);
        for (auto& b : junk) b = static_cast<uint8_t>(rng());
        write_all(fd, junk.data(), junk.size());
    } else if (s.mode == "bad-crc") {
        return send_bad_crc(fd, req, data);
    } else if (s.mode == "silent") {
        return true;
    } else if (s.mode == "stale") {
        r = make_reply(req, QBD_STATUS_STALE_EPOCH, 0);
        return write_all(fd, &r, sizeof(r));
    }
    return false;
}

bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

bool exists(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

// hold-payload: see the top of the file.
bool hold_payload(int fd, const Settings& s, const qbd_req_hdr& req, std::vector<char>& data) {
    const uint32_t len = le32toh(req.length);
    const bool queued = wait_until(
        [&] {
            int n = 0;
            return ioctl(fd, FIONREAD, &n) == 0 && static_cast<uint32_t>(n) >= len;
        },
        std::chrono::seconds(30));
    if (!queued) return false;
    close(open((s.dir + "/queued").c_str(), O_CREAT | O_WRONLY, 0644));
    if (!wait_until([&] { return exists(s.dir + "/go"); }, std::chrono::seconds(60))) return false;
    if (!read_all(fd, data.data(), len)) return false;
    std::ofstream out(s.dir + "/payload", std::ios::binary | std::ios::trunc);
    if (!out.write(data.data(), len).flush()) return false;
    return reply(fd, req, 0, nullptr, 0);
}

std::atomic<bool> unasked_sent{false};
std::atomic<int> answered_in_all{0};  // hang-up's --good counts across connections
// flaky-crc alternates across connections: the resend on a new one is good.
std::atomic<unsigned> flaky_in_all{0};

void serve(int fd, Settings s) {
    Fd conn(fd);
    std::vector<char> data(QBD_MAX_IO_BYTES + 8192);
    int answered = 0;
    bool crc = false;  // QBD_FEAT_CRC32C agreed
    qbd_req_hdr req;
    while (read_all(fd, &req, sizeof(req))) {
        uint16_t op = le16toh(req.opcode);
        uint32_t len = le32toh(req.length);
        const bool data_op = op == QBD_OP_READ || op == QBD_OP_WRITE;
        // Over what HELLO advertised: drop the connection, as a server
        // that sized its buffers by it would.
        if (len > QBD_MAX_IO_BYTES || (data_op && len > s.max_io)) return;
        if (op == QBD_OP_WRITE && s.mode == "hold-payload") {
            if (!hold_payload(fd, s, req, data)) return;
            continue;
        }
        if (op == QBD_OP_WRITE && s.mode == "early-reply" && answered++ >= s.good) {
            if (!reply(fd, req, 0, nullptr, 0)) return;
            while (read(fd, data.data(), data.size()) > 0) {
            }
            return;
        }
        if (op == QBD_OP_HELLO || op == QBD_OP_OPEN || op == QBD_OP_WRITE) {
            if (!read_all(fd, data.data(), len)) return;
        }
        if (op == QBD_OP_HELLO) {
            qbd_hello hello;
            memcpy(&hello, data.data(), sizeof(hello));
            qbd_hello_reply hr{};
            hr.features = hello.features;
            crc = le64toh(hello.features) & QBD_FEAT_CRC32C;
            hr.max_io_bytes = htole32(s.max_io);
            if (!reply(fd, req, 0, &hr, sizeof(hr))) return;
            continue;
        }
        if (op == QBD_OP_OPEN) {
            qbd_open_reply orep{};
            orep.size = htole64(s.size);
            orep.shard_size = htole64(s.shard_size);
            orep.epoch = htole64(1);
            if (!reply(fd, req, 0, &orep, sizeof(orep))) return;
            // Only on the first connection: a server that breaks every
            // connection right after OPEN would keep the driver
            // reconnecting, and its IO waiting, for ever.
            if (s.mode == "unasked" && !unasked_sent.exchange(true)) {
                // Late enough to come in its own segment, after the
                // handshake's last read.
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                qbd_req_hdr none{};
                none.opcode = htole16(QBD_OP_READ);
                if (!reply(fd, none, 0, nullptr, 0)) return;
            }
            continue;
        }
        const bool good = op == QBD_OP_HEARTBEAT || s.mode == "hold-payload" || s.mode == "serve" ||
                          s.mode == "early-reply" ||
                          (s.mode == "hang-up" ? answered_in_all++ < s.good : answered++ < s.good);
        const bool data_io = op == QBD_OP_READ || op == QBD_OP_WRITE;
        if (s.mode == "flaky-crc" && data_io && flaky_in_all++ % 2 == 0) {
            if (!send_bad_crc(fd, req, data)) return;
            continue;
        }
        if (good || s.mode == "flaky-crc") {
            memset(data.data(), 0, len);
            if (!reply(fd, req, 0, data.data(), op == QBD_OP_READ ? len : 0, crc)) return;
            continue;
        }
        if (!misbehave(fd, s, req, data)) return;
    }
}

bool parse(int argc, char** argv, Settings& s) {
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--port")
            s.port = static_cast<uint16_t>(std::stoul(v));
        else if (k == "--size")
            s.size = std::stoull(v);
        else if (k == "--shard-size")
            s.shard_size = std::stoull(v);
        else if (k == "--mode")
            s.mode = v;
        else if (k == "--good")
            s.good = std::stoi(v);
        else if (k == "--dir")
            s.dir = v;
        else if (k == "--max-io")
            s.max_io = static_cast<uint32_t>(std::stoul(v));
        else
            return false;
    }
    return s.port && s.size && s.shard_size && !s.mode.empty() &&
           (s.mode != "hold-payload" || !s.dir.empty());
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    try {
        if (!parse(argc, argv, s)) {
            fprintf(stderr,
                    "usage: %s --port P --size B --shard-size B --mode M [--good N] [--dir D]\n",
                    argv[0]);
            return 2;
        }
    } catch (const std::exception&) {
        fprintf(stderr, "qbd-hostile-server: bad number in arguments\n");
        return 2;
    }
    Fd lfd(socket(AF_INET, SOCK_STREAM, 0));
    int one = 1;
    setsockopt(lfd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(s.port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) || listen(lfd.get(), 16)) {
        perror("qbd-hostile-server: bind");
        return 1;
    }
    fprintf(stderr, "qbd-hostile-server: mode %s on port %u\n", s.mode.c_str(), s.port);
    for (;;) {
        int fd = accept(lfd.get(), nullptr, nullptr);
        if (fd < 0) continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        std::thread(serve, fd, s).detach();
    }
}
