// qbd -r|--remap <vol>: ask the control servers of qbd.conf again which of
// them serve the volume, as -m does, and hand the paths to the mapped
// device.  The driver asks for this itself (a uevent that udev turns into
// "qbd -r") when a server says its epoch is stale.
#include <iostream>

#include "cli.h"
#include "config.h"
#include "control.h"
#include "devices.h"
#include "refresh.h"

namespace qbd {

namespace {

void check(Options& o) { o.device = parse_device_spec(o.target); }

int run(const Options& o) {
    Config cfg = load_config(o.config_path, o.config_given);
    auto ctl = open_control();
    DeviceInfo dev = find_device(*ctl, *o.device);
    refresh_device(*ctl, dev, cfg);
    DeviceInfo now = ctl->info(dev.info.dev_index);
    std::cout << "/dev/" << dev.disk() << ": epoch " << now.info.epoch << ", " << now.info.nr_paths
              << (now.info.nr_paths == 1 ? " path\n" : " paths\n");
    return 0;
}

RegisterVerb reg{Verb{
    .name = "remap",
    .short_opt = 'r',
    .long_opt = "remap",
    .arg = "[<tcp|rdma>://]<pool/volume>|/dev/qbdX",
    .summary = "refresh a mapped volume's paths and size",
    .options = {"config"},
    .order = 30,
    .check = check,
    .run = run,
}};

}  // namespace

}  // namespace qbd
