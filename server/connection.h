// One client connection: handshake, control calls, and data IO batched
// through io_uring.
#pragma once

namespace qbd {

class Server;

// Serves the connection on fd until the peer goes away or breaks the
// protocol; closes fd.
void serve_connection(Server& server, int fd, const char* peer);

}  // namespace qbd
