// Server::serve: a thread accepting on each --listen address and a thread
// per connection, and with --rdma the RDMA listener on the same addresses; SIGTERM or SIGINT ends
// the process once the listeners are closed (acknowledged writes are already durable, so nothing is
// lost).
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "client/qbd_client.h"
#include "connection.h"
#include "rdma_listener.h"
#include "server.h"

namespace qbd {

namespace {

int listen_on(const std::string& addr, std::string* error) {
    std::string host;
    uint16_t port;
    if (client::split_host_port(addr, &host, &port)) {
        *error = "bad listen address '" + addr + "'";
        return -1;
    }
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res)) {
        *error = "cannot resolve " + addr + ": " + gai_strerror(rc);
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 128)) {
        *error = "cannot listen on " + addr + ": " + strerror(errno);
        if (fd >= 0) close(fd);
        freeaddrinfo(res);
        return -1;
    }
    freeaddrinfo(res);
    return fd;
}

void accept_loop(Server* srv, int lfd) {
    for (;;) {
        sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &sl, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE) continue;
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";
        getnameinfo(reinterpret_cast<sockaddr*>(&ss), sl, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV);
        std::string peer = std::string(host) + ":" + serv;
        std::thread([srv, fd, peer] { serve_connection(*srv, fd, peer.c_str()); }).detach();
    }
}

}  // namespace

int Server::serve() {
    // Signals are taken by sigwait below, not by whichever thread runs.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);

    // Said once, so a log shows why acknowledged data was lost.
    if (cfg_.faults.skip_flush) log("--fault skip-flush: FLUSH is answered without fdatasync");
    if (cfg_.faults.skip_fua) log("--fault skip-fua: FUA writes are written without RWF_DSYNC");
    std::vector<int> fds;
    for (const std::string& addr : cfg_.listen) {
        std::string error;
        int fd = listen_on(addr, &error);
        if (fd < 0) {
            log(error);
            return 1;
        }
        fds.push_back(fd);
        log("listening on " + addr);
    }
    // Stopped (its threads joined, its connections torn down) on return.
    std::unique_ptr<RdmaListener> rdma;
    if (cfg_.rdma) {
        std::string error;
        if (RdmaListener::start(*this, cfg_.listen, &rdma, &error)) {
            log(error);
            return 1;
        }
    }
    for (int fd : fds) std::thread(accept_loop, this, fd).detach();
    int sig = 0;
    sigwait(&set, &sig);
    log(std::string("stopping on ") + strsignal(sig));
    for (int fd : fds) shutdown(fd, SHUT_RDWR);
    return 0;
}

}  // namespace qbd
