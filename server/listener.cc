// Server::serve: a thread accepting on each --listen address and a thread
// per connection (with a small stack: see kConnectionStack), and with --rdma the RDMA listener on
// the same addresses; SIGTERM or SIGINT ends the process once the listeners are closed and
// the connections ended (acknowledged writes are already durable, so nothing is lost).
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "client/qbd_client.h"
#include "connection.h"
#include "rdma_listener.h"
#include "server.h"

namespace qbd {

namespace {

// A connection thread's stack.  std::thread takes RLIMIT_STACK's (8 MiB
// here), reserved for each of possibly thousands of mostly idle
// connections.  The deepest a connection's stack went in the whole test
// suite (measured with a painted stack) was 77 KiB, an rbd OPEN inside
// librbd, glibc's static TLS block (13 KiB, mostly Ceph's) included:
// a third of this.  Nothing on the path keeps large arrays on the stack
// (run_batch's iovecs are 2 KiB).
constexpr size_t kConnectionStack = 256 << 10;

// How long a stop waits for the connections' threads to end.
constexpr std::chrono::seconds kStopWait{10};

// How long the accept loop waits when it is out of files or memory.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

struct ConnectionJob {
    Server* srv;
    int fd;
    std::string peer;
    // Given back when the job ends, after the connection is closed.
    ConnectionLimits::Place place;
};

void* connection_thread(void* arg) {
    std::unique_ptr<ConnectionJob> job(static_cast<ConnectionJob*>(arg));
    serve_connection(*job->srv, job->fd, job->peer.c_str());
    return nullptr;
}

// Serves @job's connection on a detached thread of its own; 0 or a
// positive errno (the connection is then closed).
int start_connection(std::unique_ptr<ConnectionJob> job) {
    pthread_attr_t attr;
    if (int err = pthread_attr_init(&attr)) return err;
    int err = pthread_attr_setstacksize(&attr, kConnectionStack);
    if (!err) err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    // The thread owns the job once it runs.
    if (!err) err = pthread_create(&t, &attr, connection_thread, job.get());
    pthread_attr_destroy(&attr);
    if (err) {
        close(job->fd);
        return err;
    }
    (void)job.release();
    return 0;
}

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

// The peer's address as the connection limits count it: an IPv4 client
// of a dual-stack listener is the same host as over an IPv4 listener.
std::string peer_address(const sockaddr_storage& ss) {
    char buf[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof(buf));
    } else if (ss.ss_family == AF_INET6) {
        const in6_addr& a = reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&a))
            inet_ntop(AF_INET, &a.s6_addr[12], buf, sizeof(buf));
        else
            inet_ntop(AF_INET6, &a, buf, sizeof(buf));
    }
    return buf;
}

void accept_loop(Server* srv, int lfd) {
    auto said_at = std::chrono::steady_clock::now() - std::chrono::hours(1);
    for (;;) {
        sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &sl, SOCK_CLOEXEC);
        if (fd < 0) {
            const int err = errno;
            // Shut down by serve's return.
            if (err == EINVAL || err == EBADF) return;
            // Out of files or memory: the connection waits in the backlog
            // while the loop waits for some to be freed, instead of spinning.
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                const auto now = std::chrono::steady_clock::now();
                if (now - said_at >= std::chrono::seconds(1)) {
                    srv->log(LOG_ERR, std::string("cannot accept connections: ") + strerror(err) +
                                          " (raise LimitNOFILE or lower max_connections)");
                    said_at = now;
                }
                std::this_thread::sleep_for(kAcceptBackoff);
            }
            // Otherwise EINTR, ECONNABORTED, or a network error of the
            // connection that accept(2) passes on: the next one may be fine.
            continue;
        }
        // Over a limit: closed at once, before it costs a thread.
        std::string say;
        ConnectionLimits::Place place = srv->connection_limits().admit(peer_address(ss), &say);
        if (!place) {
            close(fd);
            if (!say.empty()) srv->log(LOG_WARNING, say);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        char host[NI_MAXHOST] = "?", serv[NI_MAXSERV] = "?";
        getnameinfo(reinterpret_cast<sockaddr*>(&ss), sl, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV);
        std::string peer = std::string(host) + ":" + serv;
        if (int err = start_connection(
                std::make_unique<ConnectionJob>(ConnectionJob{srv, fd, peer, std::move(place)})))
            srv->log(LOG_ERR, peer + ": refused: cannot start its thread: " + strerror(err));
    }
}

}  // namespace

// Every connection takes a file, and the soft limit is often 1024 (what
// select() can take, which the server does not use): raised to the hard
// limit, and said when max_connections cannot be reached under it.
void Server::raise_file_limit() const {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl)) return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    // Listeners, backends, the log: a margin for what is not a connection.
    const rlim_t need = static_cast<rlim_t>(cfg_.max_connections) + 64;
    if (rl.rlim_cur < need)
        log(LOG_WARNING,
            "the limit on open files (" + std::to_string(rl.rlim_cur) + ") is below the " +
                std::to_string(need) + " that max_connections " +
                std::to_string(cfg_.max_connections) +
                " needs: past it connections wait unaccepted (raise LimitNOFILE or lower "
                "max_connections)");
}

int Server::serve() {
    // Signals are taken by sigwait below, not by whichever thread runs.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);

    // Said once, so a log shows why acknowledged data was lost.
    if (cfg_.faults.skip_flush)
        log(LOG_WARNING, "--fault skip-flush: FLUSH is answered without fdatasync");
    if (cfg_.faults.skip_fua)
        log(LOG_WARNING, "--fault skip-fua: FUA writes are written without RWF_DSYNC");
    raise_file_limit();
    std::vector<int> fds;
    for (const std::string& addr : cfg_.listen) {
        std::string error;
        int fd = listen_on(addr, &error);
        if (fd < 0) {
            log(LOG_ERR, error);
            return 1;
        }
        fds.push_back(fd);
        log(LOG_NOTICE, "listening on " + addr);
    }
    // Stopped (its threads joined, its connections torn down) on return.
    std::unique_ptr<RdmaListener> rdma;
    if (cfg_.rdma) {
        std::string error;
        if (RdmaListener::start(*this, cfg_.listen, &rdma, &error)) {
            log(LOG_ERR, error);
            return 1;
        }
    }
    std::vector<std::thread> acceptors;
    for (int fd : fds) acceptors.emplace_back(accept_loop, this, fd);
    // Type=notify (qbd-server.service): units ordered after this one start
    // once every listener takes connections.  Nothing without systemd.
    sd_notify(0, "READY=1");
    int sig = 0;
    sigwait(&set, &sig);
    sd_notify(0, "STOPPING=1");
    log(LOG_NOTICE, std::string("stopping on ") + strsignal(sig));
    // No new connection, then an end to every one; the Server (their
    // limits, backend, fences) goes away only once no thread uses it.
    for (int fd : fds) shutdown(fd, SHUT_RDWR);
    for (std::thread& t : acceptors) t.join();
    for (int fd : fds) close(fd);
    sockets_.shutdown_all();
    const auto until = std::chrono::steady_clock::now() + kStopWait;
    while (limits_.total() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (unsigned left = limits_.total()) {
        // Stuck in the backend: end the process under them rather than
        // free what they use.  Acknowledged writes are already durable.
        log(LOG_WARNING, std::to_string(left) + " connections did not end within " +
                             std::to_string(kStopWait.count()) +
                             " s of the stop: exiting without them");
        std::cerr.flush();
        _exit(0);
    }
    return 0;
}

}  // namespace qbd
