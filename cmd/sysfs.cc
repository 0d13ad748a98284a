#include "sysfs.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "strutil.h"

namespace qbd {

namespace fs = std::filesystem;

std::optional<std::string> read_attr(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return std::string(trim(ss.str()));
}

namespace {

// Partition directories of /sys/block/<disk>: subdirectories with a "partition" file.
std::vector<fs::path> partitions(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (fs::exists(e.path() / "partition", ec)) out.push_back(e.path());
    return out;
}

void add_holders(const fs::path& dir, std::vector<std::string>& out) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir / "holders", ec))
        out.push_back(e.path().filename().string());
}

}  // namespace

std::vector<DevNum> disk_devnums(const std::string& disk, const std::string& sys) {
    std::vector<DevNum> out;
    fs::path dir = fs::path(sys) / "block" / disk;
    DevNum d;
    if (auto s = read_attr(dir / "dev"); s && parse_devnum(*s, d)) out.push_back(d);
    for (const auto& p : partitions(dir))
        if (auto s = read_attr(p / "dev"); s && parse_devnum(*s, d)) out.push_back(d);
    return out;
}

std::vector<std::string> disk_holders(const std::string& disk, const std::string& sys) {
    std::vector<std::string> out;
    fs::path dir = fs::path(sys) / "block" / disk;
    add_holders(dir, out);
    for (const auto& p : partitions(dir)) add_holders(p, out);
    return out;
}

std::optional<std::string> module_version(const std::string& sys) {
    return read_attr(sys + "/module/qbd/version");
}

}  // namespace qbd
