// Used only when the control client library (server/client) is not part
// of the build: map cannot resolve volumes then.
#include <cerrno>

#include "error.h"
#include "lookup.h"

namespace qbd {

VolumeInfo lookup_volume(const Config&, const std::string&, const std::string&,
                         const std::string&) {
    throw Error(ENOSYS, "this qbd was built without the control service client (qbdclient)");
}

}  // namespace qbd
