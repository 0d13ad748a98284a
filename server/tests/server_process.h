// A qbd-server child process on loopback with a data directory of its
// own, its log kept in a file, and what the tests of its defences against
// many or idle connections need to look at it: its memory, its threads,
// sockets from chosen source addresses.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "qbd_client.h"
#include "test_support.h"

namespace qbd::test {

class ServerProcess {
  public:
    ServerProcess() {
        std::string tmpl = "/tmp/qbd-server-test-XXXXXX";
        dir_ = mkdtemp(tmpl.data());
        port_ = free_port();
        pid_t pid = spawn({"init", "--data-dir", dir_});
        int status = 0;
        waitpid(pid, &status, 0);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "qbd-server init failed";
    }
    ~ServerProcess() {
        stop();
        std::string cmd = "rm -rf " + dir_ + " " + log_path();
        if (system(cmd.c_str())) {
        }
    }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    uint16_t port() const { return port_; }
    std::string addr() const { return "127.0.0.1:" + std::to_string(port_); }
    pid_t pid() const { return pid_; }
    std::string log_path() const { return dir_ + ".log"; }
    std::string log() const {
        std::ifstream in(log_path());
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

    // The server's limit on open files, soft and hard, from the next start.
    void limit_files(rlim_t n) { nofile_ = n; }

    // Seconds of CPU the server has used, user and system.
    double cpu_seconds() const {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        // utime and stime are the 12th and 13th fields after the ')' of
        // the command name.
        std::istringstream rest(stat.substr(stat.rfind(')') + 2));
        std::string field;
        double ticks = 0;
        for (int i = 1; i <= 13 && rest >> field; i++)
            if (i >= 12) ticks += std::stod(field);
        return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
    }

    // Serves with @extra options; returns once the server answers HELLO,
    // or at once without @wait.
    void start(const std::vector<std::string>& extra = {}, bool wait = true) {
        std::vector<std::string> args = {"serve", "--data-dir", dir_, "--listen", addr()};
        args.insert(args.end(), extra.begin(), extra.end());
        pid_ = spawn(args);
        if (!wait) return;
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < until) {
            std::unique_ptr<client::Client> c;
            std::string err;
            if (client::Client::connect(addr(), {}, 1000, &c, &err) == 0) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ADD_FAILURE() << "qbd-server did not start: " << log();
    }
    // Stops the server as systemd does (SIGTERM); its exit status, -1
    // when a signal ended it.
    int terminate() {
        int status = 0;
        kill(pid_, SIGTERM);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    void stop() {
        if (pid_ <= 0) return;
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

    // How `qbd-server ARGS...` exits.
    int exit_code(const std::vector<std::string>& args) const {
        int status = 0;
        waitpid(spawn(args), &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    std::unique_ptr<client::Client> connect() const {
        std::unique_ptr<client::Client> c;
        std::string err;
        EXPECT_EQ(client::Client::connect(addr(), {}, 5000, &c, &err), 0) << err;
        return c;
    }

    // A field of /proc/PID/status ("VmRSS", "Threads"), as a number (kB
    // for sizes); -1 when it cannot be read.
    long status_field(const std::string& name) const {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
        std::string line;
        while (std::getline(in, line))
            if (line.rfind(name + ":", 0) == 0)
                return std::strtol(line.c_str() + name.size() + 1, nullptr, 10);
        return -1;
    }

  private:
    pid_t spawn(const std::vector<std::string>& args) const {
        const std::string log = log_path();
        pid_t pid = fork();
        if (pid == 0) {
            std::vector<char*> argv{const_cast<char*>(QBD_SERVER_BINARY)};
            for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            if (nofile_) {
                rlimit rl{nofile_, nofile_};
                setrlimit(RLIMIT_NOFILE, &rl);
            }
            int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
            if (fd >= 0) dup2(fd, STDERR_FILENO);
            execv(QBD_SERVER_BINARY, argv.data());
            _exit(127);
        }
        return pid;
    }

    std::string dir_;
    uint16_t port_;
    pid_t pid_ = -1;
    rlim_t nofile_ = 0;
};

// Polls @cond until it holds or @limit passes; whether it held.
template <typename Cond>
bool eventually(Cond cond, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
        if (cond()) return true;
        if (std::chrono::steady_clock::now() >= until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

// A TCP socket from @source (any 127/8 address reaches loopback) connected
// to 127.0.0.1:@port, with a receive timeout of @timeout_s; -1 on failure.
inline int dial_from(const char* source, uint16_t port, int timeout_s = 5) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in src{};
    src.sin_family = AF_INET;
    inet_pton(AF_INET, source, &src.sin_addr);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) ||
        connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst))) {
        close(fd);
        return -1;
    }
    return fd;
}

// Whether the server closed @fd (EOF or a reset) within @limit; bytes it
// sends first are read and dropped.
inline bool closed_within(int fd, std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, POLLIN, 0};
        int n = poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && errno != EINTR) return false;
        if (n <= 0) continue;
        char b[256];
        ssize_t got = recv(fd, b, sizeof(b), MSG_DONTWAIT);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) return true;
    }
}

}  // namespace qbd::test
