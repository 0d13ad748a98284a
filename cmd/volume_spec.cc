#include "volume_spec.h"

#include "error.h"

namespace qbd {

const char* transport_name(Transport t) { return t == Transport::rdma ? "rdma" : "tcp"; }

std::string transport_name(uint32_t t) {
    if (t == QBD_TRANSPORT_TCP) return "tcp";
    if (t == QBD_TRANSPORT_RDMA) return "rdma";
    return "unknown(" + std::to_string(t) + ")";
}

std::optional<Transport> parse_transport(std::string_view s) {
    if (s == "tcp") return Transport::tcp;
    if (s == "rdma") return Transport::rdma;
    return std::nullopt;
}

std::optional<std::string> check_name(std::string_view what, std::string_view name) {
    if (name.empty()) return std::string(what) + " name is empty";
    if (name.size() >= QBD_NAME_MAX)
        return std::string(what) + " name '" + std::string(name) + "' is longer than " +
               std::to_string(QBD_NAME_MAX - 1) + " characters";
    if (name[0] == '.' || name[0] == '-')
        return std::string(what) + " name '" + std::string(name) +
               "' must not start with '.' or '-'";
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-' || c == ':' || c == '+' || c == '@';
        if (!ok)
            return std::string(what) + " name '" + std::string(name) +
                   "' has a character other than letters, digits and _.-:+@";
    }
    return std::nullopt;
}

VolumeSpec parse_volume_spec(std::string_view s) {
    VolumeSpec spec;
    std::string_view rest = s;
    size_t scheme_end = s.find("://");
    if (scheme_end != std::string_view::npos) {
        std::string_view scheme = s.substr(0, scheme_end);
        spec.transport = parse_transport(scheme);
        if (!spec.transport)
            usage_error("unknown transport '" + std::string(scheme) + "' in '" + std::string(s) +
                        "': use tcp:// or rdma://");
        rest = s.substr(scheme_end + 3);
    }
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || rest.find('/', slash + 1) != std::string_view::npos)
        usage_error("'" + std::string(s) + "' is not [<tcp|rdma>://]<pool>/<volume>");
    spec.pool = rest.substr(0, slash);
    spec.volume = rest.substr(slash + 1);
    if (auto why = check_name("pool", spec.pool)) usage_error(*why);
    if (auto why = check_name("volume", spec.volume)) usage_error(*why);
    return spec;
}

DeviceSpec parse_device_spec(std::string_view s) {
    DeviceSpec d;
    if (s.starts_with("/dev/")) {
        d.path = s;
        return d;
    }
    d.volume = parse_volume_spec(s);
    return d;
}

}  // namespace qbd
