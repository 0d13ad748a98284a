// The text both tools print for people (-o table, the default): tables
// of columns and sizes in binary units, alike in qbd and qbd-server.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace qbd {

// Columns padded to the widest cell, two spaces apart, no trailing blanks.
inline std::string format_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width;
    for (const auto& r : rows) {
        if (width.size() < r.size()) width.resize(r.size(), 0);
        for (size_t c = 0; c < r.size(); c++) width[c] = std::max(width[c], r[c].size());
    }
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (size_t c = 0; c < r.size(); c++) {
            line += r[c];
            if (c + 1 < r.size()) line.append(width[c] - r[c].size() + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

// "512 B", "4 KiB", "1.5 GiB": binary units, one decimal when not exact.
inline std::string format_size(uint64_t bytes) {
    static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;
    uint64_t whole = bytes;
    while (whole >= 1024 && u < 6) {
        whole /= 1024;
        u++;
    }
    char buf[32];
    if (u == 0 || bytes % (1ULL << (10 * u)) == 0) {
        std::snprintf(buf, sizeof(buf), "%llu %s", static_cast<unsigned long long>(whole),
                      units[u]);
    } else {
        double v = static_cast<double>(bytes) / static_cast<double>(1ULL << (10 * u));
        std::snprintf(buf, sizeof(buf), "%.1f %s", v, units[u]);
    }
    return buf;
}

// "4194304 (4 MiB)": exact, and for people.
inline std::string format_bytes(uint64_t bytes) {
    return std::to_string(bytes) + " (" + format_size(bytes) + ")";
}

}  // namespace qbd
