// Which processes hold a device open: an unmap refused because the disk
// is open says who to close, and waits out udev's short-lived probes.
#pragma once

#include <string>
#include <vector>

#include "mountinfo.h"

namespace qbd {

struct Opener {
    int pid = 0;
    std::string comm;  // /proc/<pid>/comm, "" when the process went meanwhile
};

// Every process with a file descriptor on a block or character device
// whose number is in @devs, in pid order.  Processes that end while the
// scan runs, or whose fds this caller may not read, are skipped.
std::vector<Opener> openers_of(const std::vector<DevNum>& devs, const std::string& proc = "/proc");

// "pid 123 (blkid)", "pid 123 (blkid) and 2 more"; "" for none.
std::string describe_openers(const std::vector<Opener>& openers);

}  // namespace qbd
