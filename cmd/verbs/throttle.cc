// qbd -s|--setthrottle <vol> -t read_bps=N,write_bps=N,read_iops=N,write_iops=N:
// token-bucket limits in the driver, changed live; keys left out keep
// their current value, 0 means unlimited.
#include <iostream>

#include "cli.h"
#include "control.h"
#include "devices.h"
#include "error.h"
#include "refresh.h"
#include "strutil.h"

namespace qbd {

namespace {

void check(Options& o) { o.device = parse_device_spec(o.target); }

int run(const Options& o) {
    auto ctl = open_control();
    DeviceInfo dev = find_device(*ctl, *o.device);
    qbd_ioc_throttle t{};
    t.argsz = sizeof(t);
    t.dev_index = dev.info.dev_index;
    t.read_bps = dev.info.read_bps;
    t.write_bps = dev.info.write_bps;
    t.read_iops = dev.info.read_iops;
    t.write_iops = dev.info.write_iops;
    for (const std::string& kv : split(o.type, ',')) {
        auto eq = kv.find('=');
        std::string key = std::string(trim(kv.substr(0, eq)));
        std::string value = eq == std::string::npos ? "" : std::string(trim(kv.substr(eq + 1)));
        auto n = value == "0" ? std::optional<uint64_t>(0) : parse_size_suffix(value);
        if (!n) throw Error(EINVAL, "-t " + kv + ": expected key=number (K/M/G suffixes allowed)");
        if (*n > QBD_MAX_THROTTLE_RATE)
            throw Error(EINVAL, "-t " + kv + ": at most " + std::to_string(QBD_MAX_THROTTLE_RATE));
        if (key == "read_bps")
            t.read_bps = *n;
        else if (key == "write_bps")
            t.write_bps = *n;
        else if (key == "read_iops")
            t.read_iops = *n;
        else if (key == "write_iops")
            t.write_iops = *n;
        else
            throw Error(EINVAL, "-t: unknown limit '" + key +
                                    "' (read_bps, write_bps, read_iops, write_iops)");
    }
    ctl->call(QBD_IOC_SET_THROTTLE, &t, "QBD_IOC_SET_THROTTLE");
    std::cout << "/dev/" << dev.disk() << ": read " << t.read_bps << " B/s " << t.read_iops
              << " IO/s, write " << t.write_bps << " B/s " << t.write_iops
              << " IO/s (0 = unlimited)\n";
    return 0;
}

RegisterVerb reg{Verb{
    .name = "setthrottle",
    .short_opt = 's',
    .long_opt = "setthrottle",
    .arg = "<pool/volume>|/dev/qbdX",
    .summary = "limit a device's bandwidth and IO rate (0 = unlimited)",
    .options = {{"type", true, "read_bps=N,write_bps=N,read_iops=N,write_iops=N"}},
    .order = 50,
    .check = check,
    .run = run,
}};

}  // namespace

}  // namespace qbd
