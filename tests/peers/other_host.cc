// Another host, for the one-writer test (tests/vm/scenarios/66-one-writer.sh):
// a data client that opens a volume read-write as HOST-ID, as a second
// host's driver would, then writes the 4 KiB block at OFFSET with a fill
// byte of BYTE every 50 ms until it is killed or a write fails.
//
//   qbd-other-host --server HOST:PORT --host-id ID --key-file FILE
//                  --volume POOL/VOLUME [--take-over] --offset N --byte B
//
// It prints "opened" once the OPEN is answered, then "write failed: ..."
// and exits 1 at its first failed write.  A refused OPEN prints the
// server's errno and exits 3 when it was EBUSY (another host holds the
// volume), 1 otherwise.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "key_file.h"
#include "qbd_client.h"

namespace {

using qbd::client::Client;

int fail(const std::string& what) {
    fprintf(stderr, "qbd-other-host: %s\n", what.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::string server, volume, key_file;
    qbd::HostKey me;
    uint64_t offset = 0;
    int byte = -1;
    uint32_t flags = 0;
    for (int i = 1; i < argc; i++) {
        const std::string k = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (k == "--take-over") {
            flags |= QBD_REQ_TAKE_OVER;
            continue;
        }
        if (!v) return fail("usage: see the comment at the top of other_host.cc");
        i++;
        if (k == "--server")
            server = v;
        else if (k == "--host-id")
            me.host_id = v;
        else if (k == "--key-file")
            key_file = v;
        else if (k == "--volume")
            volume = v;
        else if (k == "--offset")
            offset = strtoull(v, nullptr, 0);
        else if (k == "--byte")
            byte = static_cast<int>(strtol(v, nullptr, 0));
        else
            return fail("unknown option " + k);
    }
    const size_t slash = volume.find('/');
    if (server.empty() || me.host_id.empty() || slash == std::string::npos || byte < 0)
        return fail("--server, --host-id, --volume POOL/VOLUME and --byte are needed");
    std::string error;
    if (!key_file.empty() && qbd::read_key_file(key_file, &me.key, &error)) return fail(error);

    std::unique_ptr<Client> c;
    if (Client::connect(server, me, 5000, &c, &error)) return fail(error);
    qbd::client::Volume v;
    if (c->info(volume.substr(0, slash), volume.substr(slash + 1), &v)) return fail(c->error());
    if (int err = c->open(v.id, v.epoch, nullptr, flags)) {
        fail("OPEN refused: " + std::string(strerror(-err)));
        return err == -EBUSY ? 3 : 1;
    }
    printf("opened\n");
    fflush(stdout);
    const std::vector<char> block(4096, static_cast<char>(byte));
    for (;;) {
        if (c->write(offset, block.data(), 4096)) {
            printf("write failed: %s\n", c->error().c_str());
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}
