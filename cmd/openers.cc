#include "openers.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace qbd {

namespace fs = std::filesystem;

namespace {

bool is_device_in(const fs::path& fd, const std::vector<DevNum>& devs) {
    struct stat st;
    if (::stat(fd.c_str(), &st) != 0 || !(S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode))) return false;
    DevNum n{major(st.st_rdev), minor(st.st_rdev)};
    return std::find(devs.begin(), devs.end(), n) != devs.end();
}

bool holds_any(const fs::path& pid_dir, const std::vector<DevNum>& devs) {
    std::error_code ec;
    for (fs::directory_iterator it(pid_dir / "fd", ec), end; !ec && it != end; it.increment(ec))
        if (is_device_in(it->path(), devs)) return true;
    return false;
}

std::string read_comm(const fs::path& pid_dir) {
    std::ifstream in(pid_dir / "comm");
    std::string comm;
    std::getline(in, comm);
    return comm;
}

}  // namespace

std::vector<Opener> openers_of(const std::vector<DevNum>& devs, const std::string& proc) {
    std::vector<Opener> found;
    std::error_code ec;
    for (fs::directory_iterator it(proc, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename();
        char* rest = nullptr;
        long pid = std::strtol(name.c_str(), &rest, 10);
        if (name.empty() || *rest || pid <= 0) continue;
        if (holds_any(it->path(), devs))
            found.push_back({static_cast<int>(pid), read_comm(it->path())});
    }
    std::sort(found.begin(), found.end(),
              [](const Opener& a, const Opener& b) { return a.pid < b.pid; });
    return found;
}

std::string describe_openers(const std::vector<Opener>& openers) {
    if (openers.empty()) return "";
    std::string s = "pid " + std::to_string(openers.front().pid);
    if (!openers.front().comm.empty()) s += " (" + openers.front().comm + ")";
    if (openers.size() > 1) s += " and " + std::to_string(openers.size() - 1) + " more";
    return s;
}

}  // namespace qbd
