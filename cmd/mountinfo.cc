#include "mountinfo.h"

#include "strutil.h"

namespace qbd {

namespace {

std::string unescape(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] == '\\' && s.size() - i >= 4 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
            s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            out +=
                static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ') i++;
        size_t start = i;
        while (i < line.size() && line[i] != ' ') i++;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

}  // namespace

bool parse_devnum(std::string_view s, DevNum& out) {
    s = trim(s);
    size_t colon = s.find(':');
    if (colon == std::string_view::npos) return false;
    auto maj = parse_uint(s.substr(0, colon), 0, UINT32_MAX);
    auto min = parse_uint(s.substr(colon + 1), 0, UINT32_MAX);
    if (!maj || !min) return false;
    out = {static_cast<uint32_t>(*maj), static_cast<uint32_t>(*min)};
    return true;
}

std::vector<MountEntry> parse_mountinfo(std::string_view text) {
    std::vector<MountEntry> out;
    for (const auto& line : split(text, '\n')) {
        auto f = fields(line);
        // id parent maj:min root mount_point options [optional...] - fstype source superopts
        if (f.size() < 9) continue;
        size_t sep = 6;
        while (sep < f.size() && f[sep] != "-") sep++;
        if (sep + 2 >= f.size()) continue;
        MountEntry e;
        if (!parse_devnum(f[2], e.dev)) continue;
        e.mount_point = unescape(f[4]);
        e.fstype = unescape(f[sep + 1]);
        e.source = unescape(f[sep + 2]);
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<MountEntry> mounts_of(const std::vector<MountEntry>& all,
                                  const std::vector<DevNum>& devs) {
    std::vector<MountEntry> out;
    for (const auto& e : all)
        for (const auto& d : devs)
            if (e.dev == d) {
                out.push_back(e);
                break;
            }
    return out;
}

}  // namespace qbd
