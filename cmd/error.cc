#include "error.h"

#include <cerrno>
#include <cstring>

namespace qbd {

void usage_error(const std::string& msg) { throw Error(EINVAL, msg); }

void sys_error(int err, const std::string& what) {
    throw Error(err, what + ": " + std::strerror(err));
}

}  // namespace qbd
