// Errors inside the qbd tool: a positive errno and a message saying what
// failed and what to do.  Thrown, caught once in run(), printed once as
// "qbd: <verb>: <message>", and the errno becomes the exit status.
#pragma once

#include <stdexcept>
#include <string>

namespace qbd {

class Error : public std::runtime_error {
  public:
    Error(int err, const std::string& msg) : std::runtime_error(msg), err_(err) {}
    int err() const { return err_; }

  private:
    int err_;
};

// A usage error (bad option, bad argument): EINVAL plus the message.
[[noreturn]] void usage_error(const std::string& msg);

// "<what>: <strerror(err)>" as an Error.
[[noreturn]] void sys_error(int err, const std::string& what);

}  // namespace qbd
