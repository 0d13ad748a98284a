// qbd -z|--resize <vol> -k <size>: grow the volume on the server, then the
// mapped disk, online.  Shrinking is refused before anything is done.
#include <chrono>
#include <iostream>

#include "cli.h"
#include "config.h"
#include "control.h"
#include "devices.h"
#include "error.h"
#include "lookup.h"
#include "refresh.h"
#include "strutil.h"

namespace qbd {

namespace {

// How long the servers of a grown volume may disagree on its size.
constexpr auto kSettle = std::chrono::seconds(10);

void check(Options& o) {
    o.device = parse_device_spec(o.target);
    if (!parse_size_suffix(o.size) || *parse_size_suffix(o.size) % 512)
        usage_error("-k '" + o.size +
                    "': expected a multiple of 512 bytes with an optional K, M, G or T");
}

int run(const Options& o) {
    Config cfg = load_config(o.config_path, o.config_given);
    auto ctl = open_control();
    DeviceInfo dev = find_device(*ctl, *o.device);
    uint64_t size = *parse_size_suffix(o.size);
    if (size < dev.info.size)
        throw Error(EINVAL, "shrinking is not supported: " + dev.pool() + "/" + dev.volume() +
                                " is " + format_size(dev.info.size) + ", asked for " +
                                format_size(size));
    if (size == dev.info.size) {
        std::cout << "/dev/" << dev.disk() << " is already " << format_size(size) << "\n";
        return 0;
    }
    resize_volume(cfg, load_host_key(cfg), dev.pool(), dev.volume(), size);
    // Every gateway of an image learns the new size from Ceph, not at once.
    refresh_device(*ctl, dev, cfg, kSettle);
    std::cout << "/dev/" << dev.disk() << " is now " << format_size(size) << "\n";
    return 0;
}

RegisterVerb reg{Verb{
    .name = "resize",
    .short_opt = 'z',
    .long_opt = "resize",
    .arg = "<pool/volume>|/dev/qbdX",
    .summary = "grow a volume and its device online",
    .options = {{"size", true}, "config"},
    .order = 70,
    .check = check,
    .run = run,
}};

}  // namespace

}  // namespace qbd
