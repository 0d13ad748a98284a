// One client connection: handshake, control calls, and data IO batched
// through io_uring.
#pragma once

#include <mutex>
#include <unordered_set>

namespace qbd {

class Server;

// The sockets of the connections being served, so that a stop can end
// them: each connection's thread then sees its peer gone, answers what it
// had, and ends.
class ConnectionSockets {
  public:
    // A socket added after shutdown_all is shut down at once.
    void add(int fd);
    // Before the socket is closed, so that its number cannot be another's.
    void remove(int fd);
    void shutdown_all();

  private:
    std::mutex mu_;
    std::unordered_set<int> fds_;  // under mu_
    bool stopped_ = false;         // under mu_
};

// Serves the connection on fd until the peer goes away or breaks the
// protocol; closes fd.
void serve_connection(Server& server, int fd, const char* peer);

}  // namespace qbd
