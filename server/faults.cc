#include "faults.h"

#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

namespace qbd {

namespace {

bool parse_number(const std::string& s, unsigned long long max, unsigned long long* out) {
    if (s.empty() || s[0] < '0' || s[0] > '9') return false;
    char* end = nullptr;
    errno = 0;
    *out = strtoull(s.c_str(), &end, 10);
    return !errno && *end == '\0' && *out <= max;
}

// The faults that are only on or off.
constexpr std::pair<const char*, bool FaultConfig::*> kSwitches[] = {
    {"ring-wait-fails", &FaultConfig::ring_wait_fails},
    {"skip-flush", &FaultConfig::skip_flush},
    {"skip-fua", &FaultConfig::skip_fua},
    {"flaky-crc", &FaultConfig::flaky_crc},
    {"bad-crc", &FaultConfig::bad_crc},
    {"stale-once", &FaultConfig::stale_once},
    {"rdma-wrong-inv-rkey", &FaultConfig::rdma_wrong_inv_rkey},
    {"rdma-long-hello-reply", &FaultConfig::rdma_long_hello_reply},
};

}  // namespace

bool parse_fault(const std::string& spec, FaultConfig* f, std::string* error) {
    const std::string stall = "stall-write=";
    for (const auto& [name, flag] : kSwitches) {
        if (spec == name) {
            f->*flag = true;
            return true;
        }
    }
    if (spec.starts_with(stall)) {
        const std::string arg = spec.substr(stall.size());
        const size_t colon = arg.find(':');
        unsigned long long offset, ms;
        if (colon != std::string::npos &&
            parse_number(arg.substr(0, colon), std::numeric_limits<uint64_t>::max() - 1, &offset) &&
            parse_number(arg.substr(colon + 1), 600000, &ms)) {
            f->stall_write_offset = offset;
            f->stall_write_ms = static_cast<unsigned>(ms);
            return true;
        }
        *error = "--fault stall-write takes OFFSET:MS (MS up to 600000)";
        return false;
    }
    *error = "unknown --fault " + spec + " (stall-write=OFFSET:MS";
    for (const auto& [name, flag] : kSwitches) *error += std::string(", ") + name;
    *error += ")";
    return false;
}

}  // namespace qbd
