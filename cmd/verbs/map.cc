// qbd -m|--map [<tcp|rdma>://]<pool/volume>: ask every control server of
// qbd.conf about the volume (each one that serves it is a path), hand it
// to qbd.ko, wait for udev's links.
#include <chrono>
#include <cstring>
#include <iostream>

#include "addr.h"
#include "cli.h"
#include "control.h"
#include "devices.h"
#include "error.h"
#include "lookup.h"
#include "map_request.h"
#include "strutil.h"
#include "udev_wait.h"

namespace qbd {

namespace {

void check(Options& o) { o.volume = parse_volume_spec(o.target); }

// Why a server refused the map with EBUSY: another host holds the volume
// read-write (one writer per volume), and what to do about it.
std::string held_elsewhere(const Config& cfg, const MapSettings& settings, const VolumeSpec& spec) {
    const std::string name = spec.name();
    std::string holders = describe_holders(cfg, settings.me, spec.pool, spec.volume);
    if (holders.empty()) holders = "another host";
    return name + " is held read-write by " + holders + "; unmap it there first" +
           (settings.tunables.shared ? " (it is not mapped shared)"
                                     : ", map it with -o shared on every host that shares it,") +
           " or, if that host is gone for good, map it here with -o take_over";
}

int run(const Options& o) {
    Config cfg = load_config(o.config_path, o.config_given);
    MapSettings settings;
    settings.transport = o.volume->transport.value_or(cfg.transport);
    settings.tunables = cfg.tunables;
    for (const auto& list : o.map_options) apply_map_options(settings.tunables, list);
    settings.me = load_host_key(cfg);

    // Fail fast on a missing module, before any network round trip.
    auto ctl = open_control();

    const std::string name = o.volume->name();
    debug("looking up " + name);
    client::Volume vol = lookup_volume(cfg, settings.me, o.volume->pool, o.volume->volume);
    debug("volume id " + std::to_string(vol.id) + ", " + std::to_string(vol.size) + " bytes, " +
          std::to_string(vol.paths.size()) + " paths, epoch " + std::to_string(vol.epoch));

    MapRequest req;
    build_map_request(vol, settings, resolve_addr, req);
    for (size_t i = 0; i < req.paths.size(); i++)
        debug("path " + std::to_string(i) + ": " + req.path_names[i] + " -> " +
              format_addr(req.paths[i]));

    try {
        ctl->map(req.map);
    } catch (const Error& e) {
        if (e.err() == EBUSY) throw Error(EBUSY, held_elsewhere(cfg, settings, *o.volume));
        if (e.err() == EAGAIN && settings.tunables.take_over)
            throw Error(EAGAIN, name +
                                    ": the IO its holder had started did not finish in time; "
                                    "try again");
        if (e.err() != EEXIST) throw;
        std::string msg = e.what();
        try {
            DeviceInfo d = find_device(*ctl, DeviceSpec{o.volume, ""});
            msg = name + " is already mapped as /dev/" + d.disk();
        } catch (const Error&) {
        }
        throw Error(EEXIST, msg);
    }
    explicit_bzero(req.map.key, sizeof(req.map.key));
    const std::string disk = from_fixed(req.map.disk_name, sizeof(req.map.disk_name));
    const std::string dev = "/dev/" + disk;
    debug("mapped " + name + " as " + dev);

    uint32_t timeout = o.timeout.value_or(cfg.udev_timeout);
    if (!o.no_wait && timeout) {
        std::vector<std::string> paths = {dev};
        // Without udevd (containers) no link will come: wait for the node only.
        if (udevd_running()) paths.push_back("/dev/qbd/" + o.volume->pool + "/" + o.volume->volume);
        if (!wait_until([&] { return all_exist(paths); }, std::chrono::seconds(timeout))) {
            std::string missing;
            for (const auto& p : paths)
                if (!all_exist({p})) missing += (missing.empty() ? "" : ", ") + p;
            warn("map", name + " is mapped as " + dev + " but " + missing + " did not appear in " +
                            std::to_string(timeout) + " s: is udevd running with 60-qbd.rules?");
        }
    }
    std::cout << dev << "\n";
    return 0;
}

RegisterVerb reg{Verb{
    .name = "map",
    .short_opt = 'm',
    .long_opt = "map",
    .arg = "[<tcp|rdma>://]<pool/volume>",
    .summary = "map a volume to /dev/qbdX (+ /dev/qbd/<pool>/<volume>)",
    .options = {"config", "options", "no-wait", "timeout"},
    .order = 10,
    .check = check,
    .run = run,
}};

}  // namespace

}  // namespace qbd
