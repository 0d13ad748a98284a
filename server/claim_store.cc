#include "claim_store.h"

#include <cerrno>
#include <charconv>

namespace qbd {

std::string claim_record_key(std::string_view host, std::string_view server) {
    return std::string(host) + " " + std::string(server);
}

std::string claim_record_value(const ClaimRecord& r) {
    return std::to_string(r.expires_ms) + (r.shared ? " 1" : " 0");
}

std::optional<ClaimRecord> parse_claim_record(std::string_view key, std::string_view value) {
    const size_t space = key.find(' ');
    if (space == std::string_view::npos || space + 1 == key.size()) return std::nullopt;
    ClaimRecord r;
    r.host = key.substr(0, space);
    r.server = key.substr(space + 1);
    if (r.server.find(' ') != std::string::npos) return std::nullopt;
    const char* end = value.data() + value.size();
    auto [p, ec] = std::from_chars(value.data(), end, r.expires_ms);
    if (ec != std::errc() || end - p != 2 || p[0] != ' ' || (p[1] != '0' && p[1] != '1'))
        return std::nullopt;
    r.shared = p[1] == '1';
    return r;
}

ClaimDecision decide_claim(const std::vector<ClaimRecord>& records, const std::string& host,
                           const std::string& server, bool shared, bool take_over,
                           std::chrono::milliseconds lease, int64_t now_ms) {
    ClaimDecision d;
    for (const ClaimRecord& r : records) {
        const bool live = r.expires_ms > now_ms;
        if (!live || (take_over && r.host != host)) {
            d.remove.push_back(claim_record_key(r.host, r.server));
            continue;
        }
        if (r.host != host && !(shared && r.shared)) d.holders.push_back(r);
    }
    if (!d.holders.empty()) {
        d.busy = true;
        d.remove.clear();
        return d;
    }
    d.mine = ClaimRecord{host, server, shared, now_ms + lease.count()};
    return d;
}

int decide_renew(const std::vector<ClaimRecord>& records, const std::string& host,
                 const std::string& server, std::chrono::milliseconds lease, int64_t now_ms,
                 ClaimChange* out) {
    for (ClaimRecord r : records) {
        if (r.host != host || r.server != server) continue;
        if (lease.count() <= 0) {
            out->remove.push_back(claim_record_key(r.host, r.server));
        } else {
            r.expires_ms = now_ms + lease.count();
            out->set.push_back(std::move(r));
        }
        return 0;
    }
    return -ENOENT;
}

int decide_release(const std::vector<ClaimRecord>& records, const std::string& host,
                   ClaimChange* out) {
    for (const ClaimRecord& r : records)
        if (r.host == host) out->remove.push_back(claim_record_key(r.host, r.server));
    return out->remove.empty() ? -ENOENT : 0;
}

int64_t ClaimStore::now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace qbd
