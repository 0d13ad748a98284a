// The RDMA transport of qbd-server (qbd-server serve --rdma): rdma_cm
// listeners on the --listen addresses, serving the same protocol as the
// TCP path through a Session per connection.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace qbd {

class Server;

class RdmaListener {
  public:
    // Listens on every address ("host:port"); on failure returns a
    // negative errno and says why in *error.
    static int start(Server& srv, const std::vector<std::string>& addrs,
                     std::unique_ptr<RdmaListener>* out, std::string* error);
    // Stops the threads and tears every connection down.
    ~RdmaListener();

    struct Impl;

  private:
    explicit RdmaListener(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace qbd
