// qbd client library: talks to qbd-server's control service and serves as
// a userspace data client for tests and benchmarks.  Errors are negative
// errnos; the last one's text is in Client::error().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "key_file.h"
#include "qbd_proto.h"

namespace qbd::client {

struct Volume {
    std::string pool;
    std::string volume;
    uint64_t id = 0;
    uint64_t size = 0;
    uint64_t shard_size = 0;
    uint64_t epoch = 0;
    // The servers that serve the volume, "host:port", in order of
    // preference.  CTL_INFO names one, the server that answered; the qbd
    // tool gathers them from every server it knows.  Empty from CTL_LIST.
    std::vector<std::string> paths;
};

// The protocol's fixed-size NUL-terminated fields: put truncates to
// size - 1 and zero-fills, get stops at the first NUL or at size.
void put_fixed(char* dst, size_t size, const std::string& s);
std::string get_fixed(const char* s, size_t size);

// "host:port" or "[v6]:port" into its parts; port defaults to 7800.
int split_host_port(const std::string& addr, std::string* host, uint16_t* port);
// "h:p, h:p" into a list.
std::vector<std::string> parse_addr_list(const std::string& list);

// Decoders of control replies: CTL_INFO (a volume and the answering
// server's path to it) and CTL_LIST (volumes without).  -EPROTO when the
// payload is malformed.
int decode_info(const std::vector<char>& payload, Volume* out);
int decode_list(const std::vector<char>& payload, std::vector<Volume>* out);

// A host that holds a volume read-write (CTL_HOLDERS; writer_claims.h).
struct Holder {
    std::string host_id;
    bool shared = false;
    uint32_t connections = 0;  // 0: its claim is in the server's grace period
    bool elsewhere = false;    // held through another server (connections 0)
};
int decode_holders(const std::vector<char>& payload, std::vector<Holder>* out);

// Who opens a data connection, for the server's session fencing (struct
// qbd_open): a slot id kept across reconnects and the reconnect's number.
// The default, client id 0, is a tool that needs no fencing.
struct SessionSlot {
    uint64_t client_id = 0;
    uint64_t incarnation = 0;
};

class Client {
  public:
    // Connects and says HELLO as @me.  When the server has keys, it must
    // prove it knows @me's key and is then shown that @me does; a client
    // with a key refuses a server that cannot prove it.
    static int connect(const std::string& addr, const HostKey& me, int timeout_ms,
                       std::unique_ptr<Client>* out, std::string* error);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Control service.
    int create(const std::string& pool, const std::string& volume, uint64_t size,
               uint64_t shard_size = 0);
    int remove(const std::string& pool, const std::string& volume);
    int resize(const std::string& pool, const std::string& volume, uint64_t new_size);
    int info(const std::string& pool, const std::string& volume, Volume* out);
    int list(const std::string& pool, std::vector<Volume>* out);
    // The hosts that hold the volume read-write on this server.
    int holders(const std::string& pool, const std::string& volume, std::vector<Holder>* out);
    // Ends this host's claim on the volume now instead of after the
    // server's grace period: -ENOENT when it holds none, -EBUSY while a
    // connection of it still has the volume open.
    int release(const std::string& pool, const std::string& volume);
    // Raw control call, for tests of the server's defences.
    int call(uint16_t opcode, uint32_t flags, const void* payload, uint32_t len,
             std::vector<char>* reply);

    // Data: bind to a volume, then IO.  Synchronous calls.  @flags:
    // QBD_REQ_READ_ONLY or 0.
    int open(uint64_t volume_id, uint64_t epoch, qbd_open_reply* out = nullptr, uint32_t flags = 0,
             SessionSlot slot = {});
    int read(uint64_t offset, void* buf, uint32_t len);
    int write(uint64_t offset, const void* buf, uint32_t len, bool fua = false);
    int flush();
    int discard(uint64_t offset, uint32_t len);
    int write_zeroes(uint64_t offset, uint32_t len);
    int heartbeat();

    // Pipelined IO: submit many, then reap replies in any order.  A READ's
    // data lands in the buffer given at submit.
    int submit(uint16_t opcode, uint64_t offset, void* buf, uint32_t len, uint32_t flags,
               uint64_t tag);
    // A READ whose data does not match its crc32c reaps as -EBADMSG.
    int reap(uint64_t* tag, int* status);

    // Whether payloads carry a crc32c (QBD_FEAT_CRC32C, always asked for).
    bool crc32c() const { return features_ & QBD_FEAT_CRC32C; }
    // For tests of the server's check: a WRITE that claims @crc.
    int write_claiming_crc(uint64_t offset, const void* buf, uint32_t len, uint32_t crc);

    int fd() const { return fd_; }
    const std::string& error() const { return error_; }

  private:
    explicit Client(int fd) : fd_(fd) {}
    int fail(int err, const std::string& what);
    int send_req(uint16_t opcode, uint32_t flags, uint32_t len, uint64_t tag, uint64_t offset,
                 const void* payload, uint32_t payload_len, uint32_t crc = 0);
    int recv_reply(qbd_reply_hdr* hdr);
    int handshake(const HostKey& me);

    int fd_ = -1;
    uint64_t volume_id_ = 0;
    uint64_t epoch_ = 0;
    uint64_t features_ = 0;  // agreed in HELLO
    uint64_t next_tag_ = 1;
    struct Pending {
        uint64_t tag;
        void* buf;
        uint32_t len;
        uint16_t opcode;
    };
    std::vector<Pending> pending_;
    std::string error_;
};

}  // namespace qbd::client
