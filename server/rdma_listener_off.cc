// RdmaListener in a qbd-server built without rdma-core (cmake -DQBD_RDMA=OFF):
// serving with --rdma (or "rdma = yes") fails at start and says why, as a
// build with RDMA does when no device can reach the address.
#include <cerrno>

#include "rdma_listener.h"

namespace qbd {

struct RdmaListener::Impl {};

int RdmaListener::start(Server&, const std::vector<std::string>&, std::unique_ptr<RdmaListener>*,
                        std::string* error) {
    *error =
        "--rdma: RDMA support was not built in (this qbd-server was built with QBD_RDMA=OFF): "
        "serve without --rdma, or use a qbd-server built with rdma-core";
    return -EOPNOTSUPP;
}

RdmaListener::~RdmaListener() = default;

}  // namespace qbd
