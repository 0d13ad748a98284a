// Writes one 4 KiB block of 'A' to a block device with O_DIRECT and, while
// the write is in flight and its payload waits in the server's socket
// (qbd-hostile-server --mode hold-payload), fills the same buffer with
// 'B'.  A driver that handed the buffer's page to TCP sends 'B' (the
// server reads the page itself later); one that copied it sends 'A'.
//
//   qbd-dio-mutate DEVICE DIR       DIR: the hostile server's --dir
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

constexpr size_t kBlock = 4096;

bool wait_for_file(const std::string& path, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    struct stat st;
    while (stat(path.c_str(), &st) != 0) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s DEVICE DIR\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[2];
    int fd = open(argv[1], O_WRONLY | O_DIRECT);
    if (fd < 0) {
        perror("qbd-dio-mutate: open");
        return 1;
    }
    void* mem = nullptr;
    if (posix_memalign(&mem, kBlock, kBlock)) return 1;
    auto* buf = static_cast<char*>(mem);
    memset(buf, 'A', kBlock);
    ssize_t written = -1;
    std::thread writer([&] { written = pwrite(fd, buf, kBlock, 0); });
    const bool queued = wait_for_file(dir + "/queued", std::chrono::seconds(30));
    // The write is sent and its pages still referenced wherever the driver
    // did not copy them: change them under it.
    memset(buf, 'B', kBlock);
    close(open((dir + "/go").c_str(), O_CREAT | O_WRONLY, 0644));
    writer.join();
    close(fd);
    free(mem);
    if (!queued) {
        fprintf(stderr, "qbd-dio-mutate: the server never had the payload queued\n");
        return 1;
    }
    if (written != static_cast<ssize_t>(kBlock)) {
        fprintf(stderr, "qbd-dio-mutate: the write failed\n");
        return 1;
    }
    return 0;
}
