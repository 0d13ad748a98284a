// qbd-server.service is Type=notify: the server tells systemd READY=1
// once it takes connections, and STOPPING=1 when it is told to stop.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "server_process.h"

namespace qbd {
namespace {

// The datagram socket systemd gives a service in NOTIFY_SOCKET.
class NotifySocket {
  public:
    NotifySocket() {
        path_ = "/tmp/qbd-notify-" + std::to_string(getpid());
        unlink(path_.c_str());
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un sun{};
        sun.sun_family = AF_UNIX;
        path_.copy(sun.sun_path, sizeof(sun.sun_path) - 1);
        EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&sun), sizeof(sun)), 0) << strerror(errno);
        timeval tv{10, 0};
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    }
    ~NotifySocket() {
        unsetenv("NOTIFY_SOCKET");
        close(fd_);
        unlink(path_.c_str());
    }
    // The next message, empty when none came within 10 s.
    std::string next() {
        char buf[512];
        ssize_t n = recv(fd_, buf, sizeof(buf), 0);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    }

  private:
    std::string path_;
    int fd_;
};

TEST(ServerNotify, ReadyOnceListeningAndStoppingOnSigterm) {
    NotifySocket notify;
    test::ServerProcess s;
    s.start({}, false);
    ASSERT_EQ(notify.next(), "READY=1");
    // Ready means listening: the first try connects.
    EXPECT_TRUE(s.connect());
    EXPECT_EQ(s.terminate(), 0);
    EXPECT_EQ(notify.next(), "STOPPING=1");
}

}  // namespace
}  // namespace qbd
